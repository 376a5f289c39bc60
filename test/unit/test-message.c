/* WatchMessage: typed fields in order, dotted access, identity, iteration,
 * ready state and due time. */
#include "test-util.h"
#include "unit/suites.h"
#include "../../lib/message-private.h"

#include <ctype.h>
#include <stdlib.h>

/* The keys of `msg` in order, joined by spaces, into `out`. */
static void
keys_of (const mwatch_message_t *msg, char *out, size_t size)
{
   mwatch_message_iter_t iter;
   const char *key;
   out[0] = '\0';
   mwatch_message_iter_init (&iter, msg);
   while (mwatch_message_iter_next (&iter, &key, NULL)) {
      if (out[0]) {
         strncat (out, " ", size - strlen (out) - 1);
      }
      strncat (out, key, size - strlen (out) - 1);
   }
}

START_TEST (test_new_has_identity_fields_in_order)
{
   int64_t before = mwatch_realtime_us ();
   mwatch_message_t *msg = mwatch_message_new ();
   int64_t after = mwatch_realtime_us ();
   char keys[256];
   keys_of (msg, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID Iteration StartTime");

   mwatch_value_t v;
   ck_assert (mwatch_message_get (msg, "WatchID", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_UTF8);
   ck_assert_uint_eq (v.value.v_utf8.len, 24);
   ck_assert_str_eq (v.value.v_utf8.str, mwatch_message_watch_id (msg));
   for (size_t i = 0; i < 24; i++) {
      ck_assert (isxdigit ((unsigned char) v.value.v_utf8.str[i]));
   }
   char oid_str[25];
   bson_oid_to_string (mwatch_message_oid (msg), oid_str);
   ck_assert_str_eq (oid_str, mwatch_message_watch_id (msg));

   ck_assert (mwatch_message_get (msg, "Iteration", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_INT64);
   ck_assert_int_eq (v.value.v_int64, 0);
   ck_assert_int_eq (mwatch_message_iteration (msg), 0);

   ck_assert (mwatch_message_get (msg, "StartTime", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DATETIME);
   ck_assert_int_ge (v.value.v_datetime, before);
   ck_assert_int_le (v.value.v_datetime, after);

   ck_assert (!mwatch_message_is_ready (msg));
   ck_assert_int_eq (mwatch_message_due (msg), MWATCH_DUE_NEVER);

   mwatch_message_t *other = mwatch_message_new ();
   ck_assert_str_ne (mwatch_message_watch_id (msg), mwatch_message_watch_id (other));
   mwatch_message_destroy (other);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_set_get_every_type)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *doc = BCON_NEW ("a", BCON_INT32 (1));
   bson_t *arr = BCON_NEW ("0", BCON_UTF8 ("x"), "1", BCON_UTF8 ("y"));
   bson_value_t oid_value = {.value_type = BSON_TYPE_OID};
   bson_oid_init (&oid_value.value.v_oid, NULL);
   mwatch_value_t oid_field = {.type = MWATCH_TYPE_BSON};
   oid_field.value.v_bson = oid_value;

   ck_assert (mwatch_message_set_null (msg, "N"));
   ck_assert (mwatch_message_set_bool (msg, "B", true));
   ck_assert (mwatch_message_set_int64 (msg, "I", -42));
   ck_assert (mwatch_message_set_double (msg, "D", 2.5));
   ck_assert (mwatch_message_set_utf8 (msg, "S", "héllo"));
   ck_assert (mwatch_message_set_utf8_len (msg, "Z", "a\0b", 3));
   ck_assert (mwatch_message_set_datetime (msg, "T", 1234567890123456));
   ck_assert (mwatch_message_set_document (msg, "Doc", doc));
   ck_assert (mwatch_message_set_array (msg, "Arr", arr));
   ck_assert (mwatch_message_set_value (msg, "O", &oid_field));
   ck_assert_uint_eq (mwatch_message_count (msg), 13);

   mwatch_value_t v;
   ck_assert (mwatch_message_get (msg, "N", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_NULL);
   ck_assert (mwatch_message_get (msg, "B", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_BOOL);
   ck_assert (v.value.v_bool);
   ck_assert (mwatch_message_get (msg, "I", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_INT64);
   ck_assert_int_eq (v.value.v_int64, -42);
   ck_assert (mwatch_message_get (msg, "D", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DOUBLE);
   ck_assert_double_eq (v.value.v_double, 2.5);
   ck_assert (mwatch_message_get (msg, "S", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_UTF8);
   ck_assert_str_eq (v.value.v_utf8.str, "héllo");
   ck_assert_uint_eq (v.value.v_utf8.len, strlen ("héllo"));
   ck_assert (mwatch_message_get (msg, "Z", &v));
   ck_assert_uint_eq (v.value.v_utf8.len, 3);
   ck_assert_mem_eq (v.value.v_utf8.str, "a\0b", 3);
   ck_assert (mwatch_message_get (msg, "T", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DATETIME);
   ck_assert_int_eq (v.value.v_datetime, 1234567890123456);
   ck_assert (mwatch_message_get (msg, "Doc", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DOCUMENT);
   bson_t view;
   ck_assert (mwatch_value_as_bson (&v, &view));
   ck_assert (bson_equal (&view, doc));
   ck_assert_ptr_ne (v.value.v_doc.data, bson_get_data (doc)); /* a copy */
   ck_assert (mwatch_message_get (msg, "Arr", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_ARRAY);
   ck_assert (mwatch_value_as_bson (&v, &view));
   ck_assert (bson_equal (&view, arr));
   ck_assert (mwatch_message_get (msg, "O", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_BSON);
   ck_assert_int_eq (v.value.v_bson.value_type, BSON_TYPE_OID);
   ck_assert (bson_oid_equal (&v.value.v_bson.value.v_oid, &oid_value.value.v_oid));
   ck_assert (!mwatch_value_as_bson (&v, &view));

   bson_destroy (doc);
   bson_destroy (arr);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_overwrite_keeps_place_and_remove_keeps_order)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "orders");
   mwatch_message_set_int64 (msg, "MatchedCount", 1);
   mwatch_message_set_utf8 (msg, "DB", "store"); /* changes type too below */
   mwatch_message_set_double (msg, "Collection", 1.5);
   char keys[256];
   keys_of (msg, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID Iteration StartTime DB Collection MatchedCount");
   mwatch_value_t v;
   ck_assert (mwatch_message_get (msg, "DB", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "store");
   ck_assert (mwatch_message_get (msg, "Collection", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DOUBLE);

   ck_assert (mwatch_message_remove (msg, "Iteration"));
   ck_assert (!mwatch_message_remove (msg, "Iteration"));
   ck_assert (!mwatch_message_remove (msg, "Nope"));
   ck_assert (!mwatch_message_has (msg, "Iteration"));
   keys_of (msg, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID StartTime DB Collection MatchedCount");
   ck_assert_uint_eq (mwatch_message_count (msg), 5);
   ck_assert (mwatch_message_remove (msg, "MatchedCount"));
   mwatch_message_set_int64 (msg, "MatchedCount", 2);
   keys_of (msg, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID StartTime DB Collection MatchedCount");
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_set_value_from_own_field)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *doc = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}");
   mwatch_message_set_document (msg, "Filter", doc);
   mwatch_value_t v;
   /* A value that points into the field being replaced, and one into a
    * document of the message. */
   ck_assert (mwatch_message_get (msg, "Filter", &v));
   ck_assert (mwatch_message_set_value (msg, "Filter", &v));
   ck_assert (mwatch_message_get (msg, "Filter.user", &v));
   ck_assert (mwatch_message_set_value (msg, "Filter", &v));
   ck_assert (mwatch_message_get (msg, "Filter.name", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "ann");
   ck_assert (mwatch_message_set_value (msg, "Name", &v));
   ck_assert (mwatch_message_get (msg, "Name", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "ann");
   bson_destroy (doc);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_invalid_arguments_are_rejected)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t empty = BSON_INITIALIZER;
   ck_assert (!mwatch_message_set_int64 (msg, NULL, 1));
   ck_assert (!mwatch_message_set_int64 (msg, "", 1));
   ck_assert (!mwatch_message_set_int64 (msg, "a.b", 1));
   ck_assert (!mwatch_message_set_utf8 (msg, "S", NULL));
   ck_assert (!mwatch_message_set_utf8_len (msg, "S", NULL, 0));
   ck_assert (!mwatch_message_set_document (msg, "D", NULL));
   ck_assert (!mwatch_message_set_array (msg, "A", NULL));
   ck_assert (!mwatch_message_set_value (msg, "V", NULL));
   ck_assert (!mwatch_message_set_null (NULL, "N"));
   ck_assert (mwatch_message_set_document (msg, "Empty", &empty));
   ck_assert_uint_eq (mwatch_message_count (msg), 4);
   ck_assert (!mwatch_message_get (msg, NULL, NULL));
   ck_assert (!mwatch_message_get (msg, "", NULL));
   ck_assert (!mwatch_message_remove (msg, NULL));
   mwatch_message_destroy (msg);
   mwatch_message_destroy (NULL);
}
END_TEST

START_TEST (test_dotted_access)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "age", "{", "$gt",
                              BCON_INT32 (30), "}", "}",
                              "tags", "[", BCON_UTF8 ("a"), "{", "k", BCON_INT64 (7), "}", "]",
                              "when", BCON_DATE_TIME (1500),
                              "id", BCON_OID (mwatch_message_oid (msg)),
                              "User", BCON_BOOL (true));
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_int64 (msg, "Count", 3);
   mwatch_value_t v;

   ck_assert (mwatch_message_get (msg, "Filter.user.name", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_UTF8);
   ck_assert_str_eq (v.value.v_utf8.str, "ann");
   ck_assert_uint_eq (v.value.v_utf8.len, 3);
   ck_assert (mwatch_message_get (msg, "Filter.user.age.$gt", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_INT64); /* int32 widened */
   ck_assert_int_eq (v.value.v_int64, 30);
   ck_assert (mwatch_message_get (msg, "Filter.user", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DOCUMENT);
   ck_assert (mwatch_message_get (msg, "Filter.tags", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_ARRAY);
   ck_assert (mwatch_message_get (msg, "Filter.tags.0", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "a");
   ck_assert (mwatch_message_get (msg, "Filter.tags.1.k", &v));
   ck_assert_int_eq (v.value.v_int64, 7);
   ck_assert (mwatch_message_get (msg, "Filter.when", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DATETIME);
   ck_assert_int_eq (v.value.v_datetime, 1500000); /* ms to µs */
   ck_assert (mwatch_message_get (msg, "Filter.id", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_BSON);
   ck_assert_int_eq (v.value.v_bson.value_type, BSON_TYPE_OID);
   /* Keys match exactly: "User" and "user" are different fields. */
   ck_assert (mwatch_message_get (msg, "Filter.User", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_BOOL);

   /* Missing paths: clear false, value untouched. */
   const char *missing[] = {"Filter.nope", "Filter.user.nope", "Filter.user.name.more",
                            "Filter.tags.2", "Filter.tags.x", "Nope", "Nope.x",
                            "Count.x", "Filter.", "Filter.user.", ".Filter",
                            "Filter..user", "Filter.USER.name"};
   for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
      v.type = MWATCH_TYPE_DOUBLE;
      v.value.v_double = 99.0;
      ck_assert_msg (!mwatch_message_get (msg, missing[i], &v), "found %s", missing[i]);
      ck_assert_msg (!mwatch_message_has (msg, missing[i]), "has %s", missing[i]);
      ck_assert_int_eq (v.type, MWATCH_TYPE_DOUBLE);
      ck_assert_double_eq (v.value.v_double, 99.0);
   }
   bson_destroy (filter);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_copy_is_deep_and_complete)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("x", BCON_UTF8 ("y"));
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_next_iteration (msg);
   mwatch_message_set_timeout (msg, 10);
   int64_t due = mwatch_message_due (msg);

   mwatch_message_t *copy = mwatch_message_copy (msg);
   mwatch_message_set_utf8 (msg, "DB", "changed");
   mwatch_message_set_ready (msg);
   mwatch_message_destroy (msg);

   mwatch_value_t v;
   ck_assert (mwatch_message_get (copy, "DB", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "shop");
   ck_assert (mwatch_message_get (copy, "Filter.x", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "y");
   ck_assert_int_eq (mwatch_message_iteration (copy), 1);
   ck_assert (!mwatch_message_is_ready (copy));
   ck_assert_int_eq (mwatch_message_due (copy), due);
   char keys[256];
   keys_of (copy, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID Iteration StartTime Filter DB");
   /* The copy has its own storage and grows independently. */
   mwatch_message_set_int64 (copy, "More", 1);
   ck_assert_uint_eq (mwatch_message_count (copy), 6);

   mwatch_message_t *copy2 = mwatch_message_copy (copy);
   ck_assert_str_eq (mwatch_message_watch_id (copy2), mwatch_message_watch_id (copy));
   ck_assert (bson_oid_equal (mwatch_message_oid (copy2), mwatch_message_oid (copy)));
   mwatch_message_destroy (copy);
   mwatch_message_destroy (copy2);
   bson_destroy (filter);
}
END_TEST

/* A copy keeps its fields in one block; changing, removing and adding
 * fields on it must work as on any message (valgrind checks the frees). */
START_TEST (test_copy_can_be_changed)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("x", BCON_UTF8 ("y"));
   bson_value_t dec = {.value_type = BSON_TYPE_DECIMAL128};
   bson_decimal128_from_string ("1.5", &dec.value.v_decimal128);
   mwatch_value_t other = {.type = MWATCH_TYPE_BSON};
   other.value.v_bson = dec;
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_utf8_len (msg, "S", "a\0b", 3);
   mwatch_message_set_value (msg, "Dec", &other);
   mwatch_message_t *copy = mwatch_message_copy (msg);
   mwatch_message_destroy (msg);

   mwatch_value_t v;
   ck_assert (mwatch_message_get (copy, "S", &v));
   ck_assert_uint_eq (v.value.v_utf8.len, 3);
   ck_assert_mem_eq (v.value.v_utf8.str, "a\0b", 3);
   ck_assert (mwatch_message_get (copy, "Filter", &v));
   ck_assert_uint_eq ((uintptr_t) v.value.v_doc.data % 8, 0); /* aligned */
   /* Replace a value from the block with one from itself. */
   ck_assert (mwatch_message_get (copy, "Filter.x", &v));
   ck_assert (mwatch_message_set_value (copy, "Filter", &v));
   ck_assert (mwatch_message_get (copy, "Filter", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "y");
   ck_assert (mwatch_message_remove (copy, "S"));
   ck_assert (mwatch_message_remove (copy, "Dec"));
   for (int i = 0; i < 40; i++) {
      char key[16];
      snprintf (key, sizeof key, "K%d", i);
      ck_assert (mwatch_message_set_int64 (copy, key, i));
   }
   ck_assert_uint_eq (mwatch_message_count (copy), 44);
   ck_assert (mwatch_message_get (copy, "WatchID", &v));
   ck_assert_uint_eq (v.value.v_utf8.len, 24);
   mwatch_message_t *copy2 = mwatch_message_copy (copy);
   mwatch_message_destroy (copy);
   ck_assert (mwatch_message_get (copy2, "K39", &v));
   ck_assert_int_eq (v.value.v_int64, 39);
   mwatch_message_destroy (copy2);
   bson_destroy (filter);
}
END_TEST

/* A message keeps its fields in one block until they outgrow it, then
 * spills to the heap: values, keys and the field array.  Copies of either
 * kind are whole and independent (valgrind checks every free). */
START_TEST (test_outgrown_message_copies)
{
   mwatch_message_t *msg = mwatch_message_new ();
   char text[101];
   memset (text, 'x', 100);
   text[100] = '\0';
   for (int i = 0; i < 30; i++) {
      char key[24];
      snprintf (key, sizeof key, "Field%d", i);
      text[0] = (char) ('a' + i % 26);
      ck_assert (mwatch_message_set_utf8 (msg, key, text));
   }
   bson_t big = BSON_INITIALIZER;
   for (int i = 0; i < 100; i++) {
      char key[24];
      snprintf (key, sizeof key, "k%d", i);
      BSON_APPEND_UTF8 (&big, key, text);
   }
   ck_assert (mwatch_message_set_document (msg, "Filter", &big));
   mwatch_message_t *copy = mwatch_message_copy (msg);
   /* The original changes; the copy must not. */
   ck_assert (mwatch_message_set_utf8 (msg, "Field3", "short"));
   ck_assert (mwatch_message_remove (msg, "Field4"));
   mwatch_message_destroy (msg);

   mwatch_value_t v;
   ck_assert_uint_eq (mwatch_message_count (copy), 3 + 30 + 1);
   ck_assert (mwatch_message_get (copy, "Field3", &v));
   ck_assert_uint_eq (v.value.v_utf8.len, 100);
   ck_assert_int_eq (v.value.v_utf8.str[0], 'd');
   ck_assert (mwatch_message_get (copy, "Field29", &v));
   ck_assert_int_eq (v.value.v_utf8.str[0], 'a' + 29 % 26);
   ck_assert (mwatch_message_get (copy, "Filter.k99", &v));
   ck_assert_uint_eq (v.value.v_utf8.len, 100);
   mwatch_message_t *copy2 = mwatch_message_copy (copy);
   mwatch_message_destroy (copy);
   ck_assert (mwatch_message_get (copy2, "Field4", &v));
   mwatch_message_destroy (copy2);
   bson_destroy (&big);
}
END_TEST

/* A small message is copied as its block's bytes with the pointers moved:
 * every string and document of the copy must point into the copy, so that
 * changing or freeing the original leaves it intact. */
START_TEST (test_small_copy_is_independent)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}");
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "orders");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_double (msg, "Duration", 0.25);
   mwatch_message_t *copy = mwatch_message_copy (msg);
   ck_assert (mwatch_message_set_utf8 (msg, "DB", "another, longer database name"));
   ck_assert (mwatch_message_rename (msg, "Collection", "Coll"));
   mwatch_message_destroy (msg);

   mwatch_value_t v;
   ck_assert (mwatch_message_get (copy, "DB", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "shop");
   ck_assert (mwatch_message_get (copy, "Collection", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "orders");
   ck_assert (mwatch_message_get (copy, "Filter.user.name", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "ann");
   ck_assert (mwatch_message_get (copy, "WatchID", &v));
   ck_assert_str_eq (v.value.v_utf8.str, mwatch_message_watch_id (copy));
   /* The copy grows on its own. */
   ck_assert (mwatch_message_set_utf8 (copy, "DB", "a new name for the copy's database"));
   ck_assert (mwatch_message_get (copy, "DB", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "a new name for the copy's database");
   char keys[256];
   keys_of (copy, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID Iteration StartTime DB Collection Filter Duration");
   mwatch_message_destroy (copy);
   bson_destroy (filter);
}
END_TEST

/* WatchIDs are unique however fast they are made. */
/* A borrowed value (the listener's messages point at their watch's text
 * and filter) is the caller's: a copy of the message, compact or field by
 * field, copies its bytes, setting over it frees nothing, and the message
 * renders it as a copied one. */
START_TEST (test_borrowed_values_are_copied_with_the_message)
{
   bson_t *filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}");
   char *db = bson_strdup ("shop");
   uint8_t *doc = bson_malloc (filter->len);
   memcpy (doc, bson_get_data (filter), filter->len);

   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_value_t v = {.type = MWATCH_TYPE_UTF8};
   v.value.v_utf8.str = db;
   v.value.v_utf8.len = 4;
   _mwatch_message_append_borrowed (msg, "DB", 2, &v);
   v.type = MWATCH_TYPE_DOCUMENT;
   v.value.v_doc.data = doc;
   v.value.v_doc.len = filter->len;
   _mwatch_message_append_borrowed (msg, "Filter", 6, &v);
   /* Not copied: the message shows the caller's bytes. */
   ck_assert (mwatch_message_get (msg, "DB", &v));
   ck_assert_ptr_eq (v.value.v_utf8.str, db);

   mwatch_buf_t copied_line, line;
   mwatch_buf_init (&copied_line);
   mwatch_buf_init (&line);
   mwatch_message_t *same = mwatch_message_new ();
   mwatch_message_set_utf8 (same, "DB", "shop");
   mwatch_message_set_document (same, "Filter", filter);
   mwatch_message_render_json (same, &copied_line);
   mwatch_message_render_json (msg, &line);
   /* WatchIDs and StartTimes differ: compare from DB on. */
   ck_assert_str_eq (strstr (line.data, "\"DB\""), strstr (copied_line.data, "\"DB\""));
   mwatch_message_destroy (same);

   mwatch_message_t *copy = mwatch_message_copy (msg);
   void *extra;
   mwatch_message_t *queued = _mwatch_message_queue_copy (msg, true, 16, &extra);
   /* The caller's bytes change (a freed watch's would): the copies keep
    * theirs. */
   memcpy (db, "XXXX", 4);
   memset (doc + 4, 0, filter->len - 4);
   for (int i = 0; i < 2; i++) {
      mwatch_message_t *c = i ? queued : copy;
      ck_assert (mwatch_message_get (c, "DB", &v));
      ck_assert_str_eq (v.value.v_utf8.str, "shop");
      ck_assert (mwatch_message_get (c, "Filter.user.name", &v));
      ck_assert_str_eq (v.value.v_utf8.str, "ann");
      /* And a copy of the copy, now compact. */
      mwatch_message_t *again = mwatch_message_copy (c);
      ck_assert (mwatch_message_get (again, "Filter.user.name", &v));
      ck_assert_str_eq (v.value.v_utf8.str, "ann");
      mwatch_message_destroy (again);
   }
   /* Set over a borrowed value: the caller's bytes stay the caller's. */
   ck_assert (mwatch_message_set_utf8 (msg, "DB", "other"));
   mwatch_message_destroy (msg);
   mwatch_message_destroy (copy);
   mwatch_message_destroy (queued);
   mwatch_buf_destroy (&line);
   mwatch_buf_destroy (&copied_line);
   bson_free (db);
   bson_free (doc);
   bson_destroy (filter);
}
END_TEST

/* Renders `msg` in every way into one string, for comparing. */
static char *
render_all (const mwatch_message_t *msg)
{
   mwatch_buf_t out;
   mwatch_buf_init (&out);
   mwatch_message_render (msg, NULL, &out);
   mwatch_buf_append_str (&out, "\n");
   mwatch_message_render_full (msg, &out);
   mwatch_buf_append_str (&out, "\n");
   mwatch_message_render_json (msg, &out);
   mwatch_buf_append_str (&out, "\n");
   mwatch_message_render_csv (msg, NULL, &out);
   char *text = bson_strdup (out.data);
   mwatch_buf_destroy (&out);
   return text;
}

/* Differential: a message whose fields borrow their text and documents
 * (the listener's) renders, in all four renderings, and copies exactly as
 * one that copied them, over many records: non-ASCII and characters that
 * need escaping, filters from empty to several kilobytes, context fields
 * beside them, an Error, fields set over borrowed ones. */
START_TEST (test_borrowed_and_copied_render_alike)
{
   static const char *const texts[] = {
      "shop", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "a \"quoted\" name", "line\nbreak,comma",
      "back\\slash=eq", "", "tab\there", "\xf0\x9f\x98\x80 emoji",
   };
   size_t n_texts = sizeof texts / sizeof texts[0];
   bson_oid_t oid;
   _mwatch_watch_oid_new (&oid);
   for (int i = 0; i < 300; i++) {
      bson_t filter = BSON_INITIALIZER;
      for (int k = 0; k < (i % 40) * (i % 7); k++) {
         char key[16];
         bson_snprintf (key, sizeof key, "k%d", k);
         if (k % 3 == 0) {
            BSON_APPEND_UTF8 (&filter, key, texts[(size_t) (i + k) % n_texts]);
         } else if (k % 3 == 1) {
            BSON_APPEND_INT64 (&filter, key, (int64_t) i * k - 7);
         } else {
            bson_t sub;
            BSON_APPEND_DOCUMENT_BEGIN (&filter, key, &sub);
            BSON_APPEND_DOUBLE (&sub, "$gt", i / 3.0);
            BSON_APPEND_UTF8 (&sub, "n", texts[(size_t) k % n_texts]);
            bson_append_document_end (&filter, &sub);
         }
      }
      mwatch_message_t *m[2];
      for (int b = 0; b < 2; b++) {
         void (*put) (mwatch_message_t *, const char *, size_t, const mwatch_value_t *) =
            b ? _mwatch_message_append_borrowed : _mwatch_message_append;
         m[b] = _mwatch_message_new_as (&oid, i, 1700000000000000 + i);
         if (i % 5 == 0) {
            mwatch_message_set_utf8 (m[b], "App", texts[(size_t) i % n_texts]);
            mwatch_message_set_int64 (m[b], "_private", i);
         }
         mwatch_value_t v = {.type = MWATCH_TYPE_UTF8};
         v.value.v_utf8.str = texts[(size_t) i % n_texts];
         v.value.v_utf8.len = strlen (v.value.v_utf8.str);
         put (m[b], "DB", 2, &v);
         v.value.v_utf8.str = texts[(size_t) (i / 2) % n_texts];
         v.value.v_utf8.len = strlen (v.value.v_utf8.str);
         put (m[b], "Collection", 10, &v);
         v.value.v_utf8.str = "find";
         v.value.v_utf8.len = 4;
         put (m[b], "Operation", 9, &v);
         v.type = i % 4 == 3 ? MWATCH_TYPE_ARRAY : MWATCH_TYPE_DOCUMENT;
         v.value.v_doc.data = bson_get_data (&filter);
         v.value.v_doc.len = filter.len;
         put (m[b], "Filter", 6, &v);
         v.type = MWATCH_TYPE_DOUBLE;
         v.value.v_double = i / 1000.0;
         put (m[b], "Duration", 8, &v);
         v.type = MWATCH_TYPE_UTF8;
         v.value.v_utf8.str = "final";
         v.value.v_utf8.len = 5;
         put (m[b], "State", 5, &v);
         if (i % 6 == 0) {
            mwatch_message_set_utf8 (m[b], "Error", texts[(size_t) (i + 3) % n_texts]);
         }
         if (i % 9 == 0) {
            /* Set over a borrowed field, in place. */
            mwatch_message_set_utf8 (m[b], "DB", texts[(size_t) (i + 1) % n_texts]);
         }
      }
      char *copied = render_all (m[0]);
      char *borrowed = render_all (m[1]);
      ck_assert_str_eq (borrowed, copied);
      mwatch_message_t *copy = mwatch_message_copy (m[1]);
      mwatch_message_destroy (m[1]);
      char *of_copy = render_all (copy);
      ck_assert_str_eq (of_copy, copied);
      bson_free (copied);
      bson_free (borrowed);
      bson_free (of_copy);
      mwatch_message_destroy (copy);
      mwatch_message_destroy (m[0]);
      bson_destroy (&filter);
   }
}
END_TEST

START_TEST (test_watch_ids_unique)
{
   enum { N = 20000 };
   char (*ids)[25] = bson_malloc (N * sizeof *ids);
   for (int i = 0; i < N; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      memcpy (ids[i], mwatch_message_watch_id (msg), 25);
      mwatch_message_destroy (msg);
   }
   qsort (ids, N, sizeof *ids, (int (*) (const void *, const void *)) strcmp);
   for (int i = 1; i < N; i++) {
      ck_assert_str_ne (ids[i - 1], ids[i]);
   }
   bson_free (ids);
}
END_TEST

START_TEST (test_rename_keeps_place)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_int64 (msg, "N", 1);
   mwatch_message_set_int64 (msg, "Old", 2);
   ck_assert (mwatch_message_rename (msg, "DB", "Database"));
   ck_assert (mwatch_message_rename (msg, "Old", "N")); /* replaces N */
   ck_assert (!mwatch_message_rename (msg, "Nope", "X"));
   ck_assert (!mwatch_message_rename (msg, "Database", "a.b"));
   ck_assert (mwatch_message_rename (msg, "Database", "Database"));
   char keys[256];
   keys_of (msg, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID Iteration StartTime Database N");
   mwatch_value_t v;
   ck_assert (mwatch_message_get (msg, "N", &v));
   ck_assert_int_eq (v.value.v_int64, 2);
   /* On a copy, whose keys live in one block. */
   mwatch_message_t *copy = mwatch_message_copy (msg);
   ck_assert (mwatch_message_rename (copy, "Database", "D"));
   ck_assert (mwatch_message_get (copy, "D", &v));
   ck_assert_str_eq (v.value.v_utf8.str, "shop");
   mwatch_message_destroy (copy);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_iteration_counter)
{
   mwatch_message_t *msg = mwatch_message_new ();
   ck_assert_int_eq (mwatch_message_next_iteration (msg), 1);
   ck_assert_int_eq (mwatch_message_next_iteration (msg), 2);
   ck_assert_int_eq (mwatch_message_iteration (msg), 2);
   mwatch_value_t v;
   ck_assert (mwatch_message_get (msg, "Iteration", &v));
   ck_assert_int_eq (v.value.v_int64, 2);
   char keys[256];
   keys_of (msg, keys, sizeof keys);
   ck_assert_str_eq (keys, "WatchID Iteration StartTime");
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_ready_is_set_once_and_pulls_due)
{
   mwatch_message_t *msg = mwatch_message_new ();
   int64_t before = mwatch_monotonic_us ();
   mwatch_message_set_timeout (msg, 5.0);
   int64_t due = mwatch_message_due (msg);
   ck_assert_int_ge (due, before + 5000000);
   ck_assert_int_le (due, mwatch_monotonic_us () + 5000000);

   ck_assert (mwatch_message_set_ready (msg));
   ck_assert (mwatch_message_is_ready (msg));
   int64_t ready_due = mwatch_message_due (msg);
   ck_assert_int_ge (ready_due, before);
   ck_assert_int_le (ready_due, mwatch_monotonic_us ());
   /* Once only; a timeout no longer moves a ready message. */
   ck_assert (!mwatch_message_set_ready (msg));
   mwatch_message_set_timeout (msg, 100);
   ck_assert_int_eq (mwatch_message_due (msg), ready_due);
   ck_assert (mwatch_message_is_ready (msg));
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_timeout_values)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_timeout (msg, 1.0);
   ck_assert_int_lt (mwatch_message_due (msg), MWATCH_DUE_NEVER);
   mwatch_message_set_timeout (msg, 0);
   ck_assert_int_eq (mwatch_message_due (msg), MWATCH_DUE_NEVER);
   mwatch_message_set_timeout (msg, -3);
   ck_assert_int_eq (mwatch_message_due (msg), MWATCH_DUE_NEVER);
   mwatch_message_set_timeout (msg, 1e300);
   ck_assert_int_eq (mwatch_message_due (msg), MWATCH_DUE_NEVER);
   /* A message never due becomes due now when ready. */
   int64_t before = mwatch_monotonic_us ();
   mwatch_message_set_ready (msg);
   ck_assert_int_ge (mwatch_message_due (msg), before);
   ck_assert_int_le (mwatch_message_due (msg), mwatch_monotonic_us ());
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_iterate_empty_after_removals)
{
   mwatch_message_t *msg = mwatch_message_new ();
   ck_assert (mwatch_message_remove (msg, "StartTime"));
   ck_assert (mwatch_message_remove (msg, "WatchID"));
   ck_assert (mwatch_message_remove (msg, "Iteration"));
   mwatch_message_iter_t iter;
   mwatch_message_iter_init (&iter, msg);
   ck_assert (!mwatch_message_iter_next (&iter, NULL, NULL));
   ck_assert_uint_eq (mwatch_message_count (msg), 0);
   /* Identity survives the removal of its field. */
   ck_assert_uint_eq (strlen (mwatch_message_watch_id (msg)), 24);
   mwatch_message_destroy (msg);
}
END_TEST

Suite *
message_suite (void)
{
   Suite *suite = suite_create ("message");
   TCase *tc = tcase_create ("message");
   tcase_add_test (tc, test_new_has_identity_fields_in_order);
   tcase_add_test (tc, test_set_get_every_type);
   tcase_add_test (tc, test_overwrite_keeps_place_and_remove_keeps_order);
   tcase_add_test (tc, test_set_value_from_own_field);
   tcase_add_test (tc, test_invalid_arguments_are_rejected);
   tcase_add_test (tc, test_dotted_access);
   tcase_add_test (tc, test_copy_is_deep_and_complete);
   tcase_add_test (tc, test_copy_can_be_changed);
   tcase_add_test (tc, test_outgrown_message_copies);
   tcase_add_test (tc, test_small_copy_is_independent);
   tcase_add_test (tc, test_borrowed_values_are_copied_with_the_message);
   tcase_add_test (tc, test_borrowed_and_copied_render_alike);
   tcase_add_test (tc, test_watch_ids_unique);
   tcase_add_test (tc, test_rename_keeps_place);
   tcase_add_test (tc, test_iteration_counter);
   tcase_add_test (tc, test_ready_is_set_once_and_pulls_due);
   tcase_add_test (tc, test_timeout_values);
   tcase_add_test (tc, test_iterate_empty_after_removals);
   suite_add_tcase (suite, tc);
   return suite;
}
