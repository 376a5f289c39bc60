/* How the listener builds a record's message (issue 14, sixth round):
 * the library's fields written in place at the end of the message
 * (_mwatch_message_room, _mwatch_message_add_borrowed) against the same
 * fields appended one call at a time, and the WatchID field pointing at
 * the message's own hexadecimal form instead of a copy of it. */
#include "test-util.h"
#include "unit/suites.h"
#include "../../lib/message-private.h"
#include "../../lib/watch-private.h"

#include <string.h>

/* The four renderings of `msg`, one line each, then its field count,
 * Iteration and WatchID. */
static char *
render_all (const mwatch_message_t *msg)
{
   mwatch_buf_t out;
   mwatch_buf_init (&out);
   for (int way = 0; way < 4; way++) {
      switch (way) {
      case 0:
         mwatch_message_render (msg, NULL, &out);
         break;
      case 1:
         mwatch_message_render_full (msg, &out);
         break;
      case 2:
         mwatch_message_render_json (msg, &out);
         break;
      default:
         mwatch_message_render_csv (msg, NULL, &out);
         break;
      }
      mwatch_buf_append_str (&out, "\n");
   }
   char *text = bson_strdup_printf ("%scount=%zu iteration=%" PRId64 " id=%s", out.data,
                                    mwatch_message_count (msg), mwatch_message_iteration (msg),
                                    mwatch_message_watch_id (msg));
   mwatch_buf_destroy (&out);
   return text;
}

typedef struct {
   const char *key;
   mwatch_value_t value;
} spec_t;

/* Writes specs [from, to) in place, in runs of `run` fields. */
static void
add_in_place (mwatch_message_t *msg, const spec_t *specs, size_t from, size_t to, size_t run)
{
   while (from < to) {
      size_t n = to - from < run ? to - from : run;
      _mwatch_field_t *room = _mwatch_message_room (msg, n);
      for (size_t i = 0; i < n; i++) {
         room[i].key = (char *) specs[from + i].key;
         room[i].key_len = strlen (specs[from + i].key);
         room[i].value = specs[from + i].value;
      }
      _mwatch_message_add_borrowed (msg, n);
      from += n;
   }
}

/* Differential: a message whose fields were written in place, in runs of
 * every length, renders and copies (compact and field by field, the
 * original then freed and its block reused) exactly as one whose fields
 * were appended one by one, copied or borrowed: with context fields
 * before them, enough fields to outgrow the block's field array, a field
 * set over one written in place, and fields set after them. */
START_TEST (test_in_place_and_appended_alike)
{
   static const char *const texts[] = {
      "shop", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "a \"quoted\" name", "line\nbreak,comma",
      "", "tab\there", "back\\slash=eq",
   };
   const size_t n_texts = sizeof texts / sizeof *texts;
   static const char *const extra_keys[] = {"Extra1", "Extra2", "Extra3", "Extra4", "Extra5",
                                            "Extra6", "Extra7", "Extra8", "Extra9", "Extra10"};
   bson_oid_t oid;
   _mwatch_watch_oid_new (&oid);
   for (int i = 0; i < 240; i++) {
      bson_t filter = BSON_INITIALIZER;
      for (int k = 0; k < i % 7; k++) {
         char key[16];
         bson_snprintf (key, sizeof key, "k%d", k);
         BSON_APPEND_UTF8 (&filter, key, texts[(size_t) (i + k) % n_texts]);
      }
      spec_t specs[24];
      size_t n = 0;
      const char *db = texts[(size_t) i % n_texts];
      specs[n++] = (spec_t) {"DB", {.type = MWATCH_TYPE_UTF8, .value.v_utf8 = {db, strlen (db)}}};
      specs[n++] = (spec_t) {"Collection", {.type = MWATCH_TYPE_UTF8, .value.v_utf8 = {"c", 1}}};
      specs[n++] = (spec_t) {"Operation", {.type = MWATCH_TYPE_UTF8, .value.v_utf8 = {"find", 4}}};
      specs[n++] = (spec_t) {"Filter",
                             {.type = i % 4 == 3 ? MWATCH_TYPE_ARRAY : MWATCH_TYPE_DOCUMENT,
                              .value.v_doc = {bson_get_data (&filter), filter.len}}};
      specs[n++] = (spec_t) {"State", {.type = MWATCH_TYPE_UTF8, .value.v_utf8 = {"final", 5}}};
      specs[n++] = (spec_t) {"Duration", {.type = MWATCH_TYPE_DOUBLE, .value.v_double = i / 7.0}};
      specs[n++] = (spec_t) {"MatchedCount", {.type = MWATCH_TYPE_INT64, .value.v_int64 = i - 3}};
      specs[n++] = (spec_t) {"EndTime",
                             {.type = MWATCH_TYPE_DATETIME, .value.v_datetime = 1700000000123456 + i}};
      /* Past 16 fields in all every so often: the field array moves to
       * the heap in the middle of a room. */
      for (int e = 0; e < (i % 3 == 0 ? 10 : i % 3); e++) {
         specs[n++] = (spec_t) {extra_keys[e], {.type = MWATCH_TYPE_BOOL, .value.v_bool = e % 2}};
      }
      mwatch_message_t *m[3];
      for (int way = 0; way < 3; way++) {
         m[way] = _mwatch_message_new_as (&oid, i, 1700000000000000 + i);
         if (i % 5 == 0) {
            mwatch_message_set_utf8 (m[way], "App", texts[(size_t) i % n_texts]);
            mwatch_message_set_int64 (m[way], "_private", i);
         }
         if (way == 2) {
            add_in_place (m[way], specs, 0, n, (size_t) (i % 11) + 1);
         } else {
            for (size_t s = 0; s < n; s++) {
               (way ? _mwatch_message_append_borrowed : _mwatch_message_append) (
                  m[way], specs[s].key, strlen (specs[s].key), &specs[s].value);
            }
         }
         if (i % 9 == 0) {
            mwatch_message_set_utf8 (m[way], "DB", texts[(size_t) (i + 1) % n_texts]);
         }
         if (i % 4 == 1) {
            mwatch_message_set_utf8 (m[way], "Error", texts[(size_t) (i + 3) % n_texts]);
            mwatch_message_set_int64 (m[way], "InsertedCount", i);
         }
      }
      char *copied = render_all (m[0]);
      char *borrowed = render_all (m[1]);
      char *in_place = render_all (m[2]);
      ck_assert_str_eq (borrowed, copied);
      ck_assert_str_eq (in_place, copied);
      mwatch_message_t *copy = mwatch_message_copy (m[2]);
      void *extra;
      mwatch_message_t *queued = _mwatch_message_queue_copy (m[2], true, 40, &extra);
      memset (extra, 0xa5, 40);
      mwatch_message_destroy (m[2]);
      bson_destroy (&filter);
      /* The freed block is reused and overwritten. */
      mwatch_message_t *other = _mwatch_message_new_as (NULL, 99, 1);
      mwatch_message_set_utf8 (other, "DB", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
      char *of_copy = render_all (copy);
      char *of_queued = render_all (queued);
      ck_assert_str_eq (of_copy, copied);
      ck_assert_str_eq (of_queued, copied);
      bson_free (copied);
      bson_free (borrowed);
      bson_free (in_place);
      bson_free (of_copy);
      bson_free (of_queued);
      mwatch_message_destroy (other);
      mwatch_message_destroy (copy);
      mwatch_message_destroy (queued);
      mwatch_message_destroy (m[1]);
      mwatch_message_destroy (m[0]);
   }
}
END_TEST

/* The WatchID field reads the message's own hexadecimal form, and so
 * does every copy's once the original is freed and its block reused:
 * a compact copy (all bytes in the block), a copy field by field (a
 * borrowed field), a queue's copy with room for its caller; set over,
 * renamed or removed, it behaves as any field. */
START_TEST (test_watch_id_in_place)
{
   for (int borrowing = 0; borrowing < 2; borrowing++) {
      mwatch_message_t *msg = _mwatch_message_new_as (NULL, 2, 1700000000000000);
      char id[25];
      bson_strncpy (id, mwatch_message_watch_id (msg), sizeof id);
      ck_assert_uint_eq (strlen (id), 24);
      mwatch_value_t v;
      ck_assert (mwatch_message_get (msg, "WatchID", &v));
      ck_assert_int_eq (v.type, MWATCH_TYPE_UTF8);
      ck_assert_uint_eq (v.value.v_utf8.len, 24);
      ck_assert_str_eq (v.value.v_utf8.str, id);
      if (borrowing) {
         mwatch_value_t db = {.type = MWATCH_TYPE_UTF8, .value.v_utf8 = {"shop", 4}};
         _mwatch_message_append_borrowed (msg, "DB", 2, &db);
      }
      char *before = render_all (msg);
      mwatch_message_t *copy = mwatch_message_copy (msg);
      void *extra;
      mwatch_message_t *queued = _mwatch_message_queue_copy (msg, true, 64, &extra);
      memset (extra, 0x5a, 64);
      mwatch_message_destroy (msg);
      mwatch_message_t *other = _mwatch_message_new_as (NULL, 0, 0);
      mwatch_message_t *copies[] = {copy, queued};
      for (size_t c = 0; c < 2; c++) {
         char *after = render_all (copies[c]);
         ck_assert_str_eq (after, before);
         bson_free (after);
         ck_assert (mwatch_message_get (copies[c], "WatchID", &v));
         ck_assert_uint_eq (v.value.v_utf8.len, 24);
         ck_assert_str_eq (v.value.v_utf8.str, id);
      }
      /* Set over, renamed, removed: nothing freed that was not its own. */
      ck_assert (mwatch_message_set_utf8 (copy, "WatchID", "mine"));
      ck_assert (mwatch_message_get (copy, "WatchID", &v));
      ck_assert_str_eq (v.value.v_utf8.str, "mine");
      ck_assert_str_eq (mwatch_message_watch_id (copy), id);
      ck_assert (mwatch_message_rename (queued, "WatchID", "Id"));
      ck_assert (mwatch_message_get (queued, "Id", &v));
      ck_assert_str_eq (v.value.v_utf8.str, id);
      ck_assert (mwatch_message_remove (other, "WatchID"));
      ck_assert (!mwatch_message_has (other, "WatchID"));
      bson_free (before);
      mwatch_message_destroy (other);
      mwatch_message_destroy (copy);
      mwatch_message_destroy (queued);
   }
}
END_TEST

/* The counts of a reply are written in place when new; a count set
 * twice keeps the place of its first setting and takes the last value,
 * as when every count was set by name (the watch's own message, built
 * by mwatch_cursor_lock from the same fields as a record). */
START_TEST (test_count_set_twice)
{
   static const char op[] = "update_one";
   mwatch_watch_t *watch = _mwatch_watch_new_literal (MWATCH_WATCHER_COLLECTION, op, "db", "c");
   const mwatch_count_value_t counts[] = {
      {.key = "MatchedCount", .value = 1},
      {.key = "ModifiedCount", .value = 2},
      {.key = "MatchedCount", .value = 3},
      {.key = "UpsertedCount", .value = 0},
   };
   _mwatch_watch_final_counts (watch, NULL, counts, sizeof counts / sizeof *counts);
   mwatch_message_t *msg = mwatch_cursor_lock (watch);
   mwatch_buf_t keys;
   mwatch_buf_init (&keys);
   mwatch_message_iter_t iter;
   mwatch_message_iter_init (&iter, msg);
   const char *key;
   mwatch_value_t v;
   while (mwatch_message_iter_next (&iter, &key, &v)) {
      mwatch_buf_append_str (&keys, key);
      if (v.type == MWATCH_TYPE_INT64 && strstr (key, "Count")) {
         char n[32];
         bson_snprintf (n, sizeof n, "=%" PRId64, v.value.v_int64);
         mwatch_buf_append_str (&keys, n);
      }
      mwatch_buf_append_str (&keys, " ");
   }
   ck_assert_str_eq (keys.data, "WatchID Iteration StartTime DB Collection Operation "
                                "MatchedCount=3 ModifiedCount=2 UpsertedCount=0 EndTime ");
   mwatch_buf_destroy (&keys);
   mwatch_cursor_unlock (watch);
   _mwatch_watch_unref (watch);
}
END_TEST

Suite *
record_build_suite (void)
{
   Suite *suite = suite_create ("record build");
   TCase *tc = tcase_create ("core");
   tcase_add_test (tc, test_in_place_and_appended_alike);
   tcase_add_test (tc, test_watch_id_in_place);
   tcase_add_test (tc, test_count_set_twice);
   suite_add_tcase (suite, tc);
   return suite;
}
