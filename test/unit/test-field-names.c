/* The library's field names known by their address (issue 14, eighth
 * round; message-private.h, _mwatch_names): the table of names and its
 * look-up by text, {watch}'s default list finding a field by where its key
 * points against the general path that compares the text, and a record's
 * counts written in place (a name's bit, not a search of the fields)
 * against the same counts set by name on the watch's own message. */
#include "test-util.h"
#include "unit/suites.h"
#include "../../lib/message-private.h"
#include "../../lib/message-render-private.h"
#include "../../lib/watch-private.h"

#include <string.h>

static uint64_t rng_state;

static uint64_t
rng_next (void)
{
   return mwatch_test_random (&rng_state);
}

/* Every name is found by its text, from any copy of it, and by its slot;
 * a pointer anywhere else in the table, or a text that only looks like a
 * name (same length and first byte, a prefix, a longer one), is none. */
START_TEST (test_names_table)
{
   for (int name = 0; name < MWATCH_NAME_COUNT; name++) {
      const char *slot = _mwatch_names[name];
      size_t len = strlen (slot);
      char copy[MWATCH_NAME_SLOT + 8];
      ck_assert_uint_gt (len, 0);
      ck_assert_uint_lt (len, MWATCH_NAME_SLOT);
      ck_assert_int_eq (_mwatch_name_of (slot), name);
      ck_assert_ptr_eq (MWATCH_NAME (name), slot);
      memcpy (copy, slot, len + 1);
      ck_assert_int_eq (_mwatch_name_of (copy), -1);
      ck_assert_msg (_mwatch_name_find (copy, len) == slot, "%s not found by its text", slot);
      ck_assert_ptr_eq (_mwatch_name_find (slot, len), slot);
      for (int other = 0; other < MWATCH_NAME_COUNT; other++) {
         ck_assert (other == name || strcmp (_mwatch_names[other], slot) != 0);
      }
      for (size_t at = 1; at < MWATCH_NAME_SLOT; at++) {
         ck_assert_int_eq (_mwatch_name_of (slot + at), -1);
      }
      /* Each byte changed, one at a time; a byte more; a byte less. */
      for (size_t at = 0; at < len; at++) {
         copy[at] ^= 0x20;
         ck_assert_msg (_mwatch_name_find (copy, len) == NULL, "%s found", copy);
         copy[at] ^= 0x20;
      }
      copy[len] = 'x';
      copy[len + 1] = '\0';
      ck_assert_ptr_null (_mwatch_name_find (copy, len + 1));
      copy[len - 1] = '\0';
      ck_assert (len == 1 || _mwatch_name_find (copy, len - 1) == NULL ||
                 strcmp (_mwatch_name_find (copy, len - 1), copy) == 0);
   }
   ck_assert_int_eq (_mwatch_name_of ((const char *) _mwatch_names - MWATCH_NAME_SLOT), -1);
   ck_assert_int_eq (_mwatch_name_of ((const char *) _mwatch_names + sizeof _mwatch_names), -1);
   ck_assert_ptr_null (_mwatch_name_find ("", 0));
   ck_assert_ptr_null (_mwatch_name_find ("Count", 5));
   ck_assert_ptr_null (_mwatch_name_find ("MatchedCountsAndMore", 20));
   /* The lists the users see point into the table. */
   for (const char *const *f = mwatch_default_fields; *f; f++) {
      ck_assert_int_ge (_mwatch_name_of (*f), 0);
   }
   for (const char *const *f = mwatch_csv_columns; *f; f++) {
      ck_assert_int_ge (_mwatch_name_of (*f), 0);
   }
}
END_TEST

/* ------------------------------------------------------------ {watch} */

/* Keys a field may have: the library's names at their slots, copies of
 * them, pointers into the middle of a slot, and other names. */
static const char *
random_key (void)
{
   static const char *const others[] = {"D", "DBx", "Errors", "a b", "_private", "Count", "State2"};
   switch (rng_next () % 4) {
   case 0:
   case 1:
      return _mwatch_names[rng_next () % MWATCH_NAME_COUNT];
   case 2: {
      const char *slot = _mwatch_names[rng_next () % MWATCH_NAME_COUNT];
      return slot + rng_next () % (strlen (slot) + 1);
   }
   default:
      return others[rng_next () % (sizeof others / sizeof others[0])];
   }
}

static void
random_value (mwatch_value_t *v, const bson_t *doc)
{
   switch (rng_next () % 4) {
   case 0:
      v->type = MWATCH_TYPE_INT64;
      v->value.v_int64 = (int64_t) (rng_next () % 100000) - 50;
      break;
   case 1:
      v->type = MWATCH_TYPE_DOUBLE;
      v->value.v_double = (double) (rng_next () % 10000000) / 1e6;
      break;
   case 2:
      v->type = MWATCH_TYPE_UTF8;
      v->value.v_utf8.str = _mwatch_names[rng_next () % MWATCH_NAME_COUNT];
      v->value.v_utf8.len = strlen (v->value.v_utf8.str);
      break;
   default:
      v->type = MWATCH_TYPE_DOCUMENT;
      v->value.v_doc.data = bson_get_data (doc);
      v->value.v_doc.len = doc->len;
      break;
   }
}

/* Messages whose fields point at the table (written in place, as the
 * listener writes them, or appended) mixed with fields set by name: the
 * default list's rendering against the general path, which the same list
 * at another address takes, and which compares every key's text. */
START_TEST (test_render_by_address)
{
   const char *general[32];
   size_t n = 0;
   bson_t *doc = BCON_NEW ("_id", BCON_INT32 (989), "tags", "[", BCON_UTF8 ("a b"), "]");

   for (; mwatch_default_fields[n]; n++) {
      general[n] = mwatch_default_fields[n];
   }
   general[n] = NULL;
   rng_state = 88172645463325252u;
   for (int round = 0; round < 4000; round++) {
      mwatch_message_t *msg = mwatch_message_new ();
      size_t fields = rng_next () % 24;
      for (size_t k = 0; k < fields; k++) {
         const char *key = random_key ();
         mwatch_value_t v;
         random_value (&v, doc);
         switch (rng_next () % 5) {
         case 0: {
            /* In place, as build_locked writes a record's fields. */
            _mwatch_field_t *room = _mwatch_message_room (msg, 1);
            room->key = (char *) key;
            room->key_len = strlen (key);
            room->value = v;
            _mwatch_message_add_borrowed (msg, 1);
            break;
         }
         case 1:
            if (key[0] && !mwatch_message_has (msg, key)) {
               _mwatch_message_append (msg, key, strlen (key), &v);
            }
            break;
         case 2:
            mwatch_message_remove (msg, key);
            break;
         default:
            if (key[0]) {
               mwatch_message_set_value (msg, key, &v);
            }
            break;
         }
      }
      mwatch_buf_t fast = MWATCH_BUF_INITIALIZER;
      mwatch_buf_t slow = MWATCH_BUF_INITIALIZER;
      mwatch_message_render (msg, NULL, &fast);
      mwatch_message_render (msg, general, &slow);
      ck_assert_uint_eq (fast.len, slow.len);
      if (slow.len) {
         ck_assert_str_eq (fast.data, slow.data);
      }
      mwatch_buf_destroy (&fast);
      mwatch_buf_destroy (&slow);
      mwatch_message_destroy (msg);
   }
   bson_destroy (doc);
}
END_TEST

/* ------------------------------------------------------------ counts */

/* Each field's key and value, times apart (two watches never share
 * them), one line. */
static char *
fields_text (const mwatch_message_t *msg)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   size_t count;
   const _mwatch_field_t *f = _mwatch_message_fields (msg, &count);
   for (size_t i = 0; i < count; i++) {
      mwatch_buf_append_str (&out, f[i].key);
      if (strcmp (f[i].key, "WatchID") != 0 && f[i].value.type != MWATCH_TYPE_DATETIME) {
         mwatch_buf_append_str (&out, "=");
         _mwatch_render_value_text (&out, &f[i].value);
      }
      mwatch_buf_append_str (&out, " ");
   }
   char *text = bson_strdup (out.data ? out.data : "");
   mwatch_buf_destroy (&out);
   return text;
}

/* A reply's counts, drawn among the library's names (counts and others,
 * so that one may meet a field the record has already) and others, some
 * set twice: the message built from the watch's late fields (its counts
 * written in place, where fields_has says whether the name is new)
 * against the watch's own message made before the counts came, which
 * sets each by name as it comes. */
START_TEST (test_counts_by_name)
{
   static const char *const names[] = {"MatchedCount", "InsertedCount", "UpsertedCount",
                                       "ModifiedCount", "DeletedCount", "Iteration",
                                       "Operation", "State", "Error", "Other"};
   static const char op[] = "update_one";
   bson_error_t failed;
   bson_set_error (&failed, 1, 2, "it failed");

   rng_state = 2463534242u;
   for (int round = 0; round < 600; round++) {
      mwatch_count_value_t counts[10];
      size_t n = rng_next () % 10;
      for (size_t i = 0; i < n; i++) {
         counts[i].key = names[rng_next () % (sizeof names / sizeof names[0])];
         counts[i].value = (int64_t) (rng_next () % 1000);
      }
      mwatch_watcher_kind_t kind = rng_next () % 2 ? MWATCH_WATCHER_COLLECTION : MWATCH_WATCHER_CURSOR;
      const bson_error_t *error = rng_next () % 4 ? NULL : &failed;
      mwatch_watch_t *early = _mwatch_watch_new_literal (kind, op, "db", "c");
      mwatch_watch_t *late = _mwatch_watch_new_literal (kind, op, "db", "c");
      mwatch_cursor_lock (early);
      mwatch_cursor_unlock (early);
      _mwatch_watch_final_counts (early, error, counts, n);
      _mwatch_watch_final_counts (late, error, counts, n);
      char *want = fields_text (mwatch_cursor_lock (early));
      char *got = fields_text (mwatch_cursor_lock (late));
      ck_assert_str_eq (got, want);
      bson_free (want);
      bson_free (got);
      mwatch_cursor_unlock (early);
      mwatch_cursor_unlock (late);
      _mwatch_watch_unref (early);
      _mwatch_watch_unref (late);
   }
}
END_TEST

Suite *
field_names_suite (void)
{
   Suite *suite = suite_create ("field names");
   TCase *tc = tcase_create ("core");
   tcase_add_test (tc, test_names_table);
   tcase_add_test (tc, test_render_by_address);
   tcase_add_test (tc, test_counts_by_name);
   suite_add_tcase (suite, tc);
   return suite;
}
