/* What a record is, against the real server: a filter changes only its own
 * handler's records, a record below its logger's level reaches no handler
 * (but still times an operation out through a queue), and every record
 * says which of first, update, timeout or final it is. */
#include "integration/suites.h"
#include "test-capture.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- a handler that keeps copies */

typedef struct {
   pthread_mutex_t lock;
   pthread_cond_t cond;
   mwatch_message_t *msgs[64];
   size_t count;
} keeper_t;

static void
keeper_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   keeper_t *k = impl;
   (void) handler;
   if (!record->watch) {
      return;
   }
   pthread_mutex_lock (&k->lock);
   ck_assert_uint_lt (k->count, 64);
   k->msgs[k->count++] = mwatch_message_copy (record->watch);
   pthread_cond_broadcast (&k->cond);
   pthread_mutex_unlock (&k->lock);
}

static const mwatch_handler_vtable_t keeper_vtable = {.emit = keeper_emit};

static keeper_t *
keeper_new (void)
{
   keeper_t *k = bson_malloc0 (sizeof *k);
   pthread_mutex_init (&k->lock, NULL);
   pthread_cond_init (&k->cond, NULL);
   return k;
}

/* Waits (bounded) until `n` records arrived; returns the count then. */
static size_t
keeper_await (keeper_t *k, size_t n)
{
   struct timespec deadline;
   clock_gettime (CLOCK_REALTIME, &deadline);
   deadline.tv_sec += 10;
   pthread_mutex_lock (&k->lock);
   while (k->count < n && pthread_cond_timedwait (&k->cond, &k->lock, &deadline) == 0) {
   }
   size_t count = k->count;
   pthread_mutex_unlock (&k->lock);
   return count;
}

static void
keeper_destroy (keeper_t *k)
{
   for (size_t i = 0; i < k->count; i++) {
      mwatch_message_destroy (k->msgs[i]);
   }
   pthread_cond_destroy (&k->cond);
   pthread_mutex_destroy (&k->lock);
   bson_free (k);
}

static const char *
state_of (const mwatch_message_t *msg)
{
   mwatch_value_t v;
   ck_assert_msg (mwatch_message_get (msg, "State", &v) && v.type == MWATCH_TYPE_UTF8,
                  "a record without a State");
   return v.value.v_utf8.str;
}

/* The record's Filter as canonical JSON. */
static char *
filter_json (const mwatch_message_t *msg)
{
   mwatch_value_t v;
   ck_assert_msg (mwatch_message_get (msg, "Filter", &v) && v.type == MWATCH_TYPE_DOCUMENT,
                  "a record without a Filter");
   bson_t doc;
   ck_assert (bson_init_static (&doc, v.value.v_doc.data, v.value.v_doc.len));
   return bson_as_canonical_extended_json (&doc, NULL);
}

/* ---------------------------------------------------------------- filters stay with their handler */

static mwatch_filter_t *
hmac_filter (void)
{
   mwatch_redact_opts_t ropts;
   mwatch_redact_opts_init (&ropts);
   ropts.mode = MWATCH_REDACT_HMAC;
   ropts.secret = "k3y";
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_redact (&ropts, &error);
   ck_assert_msg (filter, "%s", error.message);
   return filter;
}

/* What the redact filter makes of `filter` applied once. */
static char *
pseudonymized (const bson_t *filter)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_filter_t *redact = hmac_filter ();
   mwatch_record_t record = {.name = "x", .level = MWATCH_LEVEL_INFO, .watch = msg};
   ck_assert (mwatch_filter_apply (redact, &record));
   mwatch_filter_destroy (redact);
   char *json = filter_json (msg);
   mwatch_message_destroy (msg);
   return json;
}

/* Every record `k` holds has `want` as its Filter. */
static void
assert_filters (keeper_t *k, const char *want, const char *who)
{
   for (size_t i = 0; i < k->count; i++) {
      char *got = filter_json (k->msgs[i]);
      ck_assert_msg (strcmp (got, want) == 0, "%s, record %zu (%s): Filter %s, want %s", who, i,
                     state_of (k->msgs[i]), got, want);
      bson_free (got);
   }
}

/* Two handlers side by side on one logger, the second with a filter that
 * rewrites the Filter (redact, hmac): `queued` puts the filtered one
 * behind a queue, with its filter on the queue handler itself, as
 * pymongowatch's sample configuration does. */
static void
run_side_by_side (bool queued)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_records", db, sizeof db, 6);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = 0.3;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);

   keeper_t *plain = keeper_new ();
   keeper_t *masked = keeper_new ();
   mwatch_handler_t *plain_h = mwatch_handler_new (&keeper_vtable, plain);
   mwatch_handler_t *masked_h = mwatch_handler_new (&keeper_vtable, masked);
   mwatch_filter_t *redact = hmac_filter ();
   if (queued) {
      mwatch_handler_t *queue_h = mwatch_handler_new_queue (masked_h, NULL);
      mwatch_handler_destroy (masked_h);
      masked_h = queue_h;
   }
   mwatch_handler_add_filter (masked_h, redact);
   mwatch_filter_destroy (redact);
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_DEBUG);
   mwatch_logger_add_handler (logger, plain_h);
   mwatch_logger_add_handler (logger, masked_h);

   bson_t *filter = BCON_NEW ("n", "{", "$gte", BCON_INT32 (1), "}", "name", "item");
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (2));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   if (queued) {
      /* The cursor goes quiet: the queue writes a timeout record. */
      ck_assert_uint_eq (keeper_await (masked, 1), 1);
   }
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();

   char *clear = bson_as_canonical_extended_json (filter, NULL);
   char *hashed = pseudonymized (filter);
   ck_assert_str_ne (clear, hashed);
   /* first, updates, final: the plain handler sees each with the
    * application's filter, whatever the other's filter did. */
   size_t n = plain->count;
   ck_assert_uint_ge (n, 3);
   assert_filters (plain, clear, "plain handler");
   ck_assert_str_eq (state_of (plain->msgs[0]), "first");
   for (size_t i = 1; i + 1 < n; i++) {
      ck_assert_str_eq (state_of (plain->msgs[i]), "update");
   }
   ck_assert_str_eq (state_of (plain->msgs[n - 1]), "final");
   /* The filtered handler: each record pseudonymized once, from the
    * original, so equal values keep equal pseudonyms. */
   if (queued) {
      ck_assert_uint_eq (masked->count, 2);
      ck_assert_str_eq (state_of (masked->msgs[0]), "timeout");
      ck_assert_str_eq (state_of (masked->msgs[1]), "final");
   } else {
      ck_assert_uint_eq (masked->count, n);
   }
   assert_filters (masked, hashed, "filtered handler");

   bson_free (clear);
   bson_free (hashed);
   mwatch_handler_destroy (plain_h);
   mwatch_handler_destroy (masked_h);
   keeper_destroy (plain);
   keeper_destroy (masked);
   bson_destroy (filter);
   bson_destroy (opts);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}

START_TEST (test_filter_changes_only_its_handlers_records)
{
   run_side_by_side (false);
}
END_TEST

START_TEST (test_queue_filter_changes_only_its_records)
{
   run_side_by_side (true);
}
END_TEST

static bool
mark_record (mwatch_record_t *record, void *user_data)
{
   (void) user_data;
   mwatch_message_set_utf8 (record->watch, "Seen", "yes");
   return true;
}

/* A logger's filter changes what that record's handlers see, and a
 * timeout snapshot made later by a queue goes through it too; the live
 * operation never carries the change. */
START_TEST (test_logger_filter_reaches_timeout_records)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_records", db, sizeof db, 4);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = 0.3;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   mwatch_filter_t *mark = mwatch_filter_new_callback (mark_record, NULL, NULL);
   mwatch_logger_add_filter (mwatch_logger_get ("mongowatch.cursor"), mark);
   mwatch_filter_destroy (mark);

   bson_t all = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, NULL, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   ck_assert_uint_eq (capture_await (cap, 1, 10.0), 1);
   mwatch_message_t *live = mwatch_cursor_lock (mwatch_cursor_get (cursor));
   ck_assert (!mwatch_message_has (live, "Seen"));
   mwatch_cursor_unlock (mwatch_cursor_get (cursor));
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 3);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);

   ck_assert_uint_eq (capture_count (cap), 2);
   ck_assert_str_eq (capture_str (capture_get (cap, 0), "State"), "timeout");
   ck_assert_str_eq (capture_str (capture_get (cap, 0), "Seen"), "yes");
   ck_assert_str_eq (capture_str (capture_get (cap, 1), "State"), "final");
   ck_assert_str_eq (capture_str (capture_get (cap, 1), "Seen"), "yes");
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- levels */

/* Logger at INFO, a plain handler with no level of its own (as Python's
 * handlers start): the first records (DEBUG) reach no handler, so each
 * operation writes exactly one record, its final. */
START_TEST (test_below_logger_level_reaches_no_handler)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_records", db, sizeof db, 5);
   keeper_t *k = keeper_new ();
   mwatch_handler_t *h = mwatch_handler_new (&keeper_vtable, k);
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, h);

   bson_t all = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   bson_t *doc = BCON_NEW ("n", BCON_INT32 (99));
   bson_error_t error;
   ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "%s",
                  error.message);
   bson_destroy (doc);
   ck_assert (mongoc_collection_count_documents (coll, &all, NULL, NULL, NULL, &error) == 6);
   mwatch_shutdown ();

   ck_assert_uint_eq (k->count, 3);
   for (size_t i = 0; i < 3; i++) {
      ck_assert_str_eq (state_of (k->msgs[i]), "final");
      ck_assert (mwatch_message_is_ready (k->msgs[i]));
   }
   mwatch_handler_destroy (h);
   keeper_destroy (k);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* Logger at INFO with a queue: the first record is below the level and is
 * never written, yet the queue still times a stalled cursor out (at the
 * timeout level, INFO). */
START_TEST (test_below_level_still_times_out_through_a_queue)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_records", db, sizeof db, 5);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = 0.3;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   bson_t all = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, NULL, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   ck_assert_uint_eq (capture_await (cap, 1, 10.0), 1);
   const mwatch_captured_t *rec = capture_get (cap, 0);
   ck_assert_int_eq (rec->level, MWATCH_LEVEL_INFO);
   ck_assert_str_eq (capture_str (rec, "State"), "timeout");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 1);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);

   ck_assert_uint_eq (capture_count (cap), 2);
   ck_assert_str_eq (capture_str (capture_get (cap, 1), "State"), "final");
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- states */

/* A collection operation at DEBUG without a queue: a first record that
 * claims no duration and no counts, then the final with both. */
START_TEST (test_states_of_a_write)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_records", db, sizeof db, 1);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, false);

   bson_t *doc = BCON_NEW ("n", BCON_INT32 (7));
   bson_error_t error;
   ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "%s",
                  error.message);
   bson_destroy (doc);

   ck_assert_uint_eq (capture_count (cap), 2);
   const mwatch_captured_t *first = capture_get (cap, 0);
   ck_assert_str_eq (capture_str (first, "State"), "first");
   ck_assert (!mwatch_message_has (first->msg, "Duration"));
   ck_assert (!mwatch_message_has (first->msg, "InsertedCount"));
   ck_assert (!mwatch_message_has (first->msg, "EndTime"));
   const mwatch_captured_t *final = capture_get (cap, 1);
   ck_assert_str_eq (capture_str (final, "State"), "final");
   ck_assert (mwatch_message_has (final->msg, "Duration"));
   ck_assert (mwatch_message_has (final->msg, "EndTime"));
   ck_assert_int_eq (capture_int (final, "InsertedCount"), 1);
   ck_assert_int_gt (capture_int (final, "Iteration"), capture_int (first, "Iteration"));
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* The final Iteration of a find of 12 documents in batches of 4, logged
 * at `level` (with or without a queue). */
static int64_t
final_iteration (mongoc_collection_t *coll, int level, bool queued)
{
   mwatch_capture_t *cap = capture_start (level, queued);
   bson_t all = BSON_INITIALIZER;
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (4));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, opts, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 12);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &rec), 1);
   int64_t iteration = capture_int (rec, "Iteration");
   bson_destroy (opts);
   capture_stop (cap);
   return iteration;
}

/* Iteration counts what the operation did (first 0, one per batch, the
 * final one more), not what was logged: the same at DEBUG, where every
 * update is logged, as at INFO, where none is, queued or not. */
START_TEST (test_iteration_does_not_depend_on_levels)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_records", db, sizeof db, 12);
   ck_assert_int_eq (final_iteration (coll, MWATCH_LEVEL_DEBUG, false), 4);
   ck_assert_int_eq (final_iteration (coll, MWATCH_LEVEL_INFO, false), 4);
   ck_assert_int_eq (final_iteration (coll, MWATCH_LEVEL_INFO, true), 4);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- reload */

static void
load_config_to (const char *log)
{
   char *text = bson_strdup_printf (
      "version: 1\n"
      "formatters:\n  j: {format: '{watch.json}'}\n"
      "handlers:\n  f: {class: file, filename: '%s', formatter: j}\n"
      "  q: {class: queue, handler: f}\n"
      "loggers:\n  mongowatch: {level: INFO, handlers: [q]}\n"
      "watchers:\n  global: {timeout_sec: 0.3}\n",
      log);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s",
                  error.message);
   bson_free (text);
}

/* Lines of `path` holding every one of the strings (NULL-terminated). */
static int
lines_with (const char *path, const char *a, const char *b)
{
   char *text = mwatch_test_slurp (path, NULL);
   int n = 0;
   for (char *line = text, *end; line && *line; line = end + 1) {
      end = strchr (line, '\n');
      if (!end) {
         break;
      }
      *end = '\0';
      n += strstr (line, a) && (!b || strstr (line, b));
   }
   bson_free (text);
   return n;
}

/* A new configuration while an operation runs: the old queue does not
 * write the operation out as timed out (it did not time out); it hands it
 * to the new configuration, whose queue times it out when it does stall,
 * and writes its final. */
START_TEST (test_reload_hands_running_operations_over)
{
   char dir[] = "/tmp/mwatch-reload-XXXXXX";
   ck_assert_ptr_nonnull (mkdtemp (dir));
   char before[96], after[96];
   bson_snprintf (before, sizeof before, "%s/before.jsonl", dir);
   bson_snprintf (after, sizeof after, "%s/after.jsonl", dir);
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_records", db, sizeof db, 4);

   load_config_to (before);
   bson_t all = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, NULL, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   char id[32];
   bson_snprintf (id, sizeof id, "\"%s\"", mwatch_message_watch_id (
                                              mwatch_cursor_lock (mwatch_cursor_get (cursor))));
   mwatch_cursor_unlock (mwatch_cursor_get (cursor));
   load_config_to (after);
   ck_assert_int_eq (lines_with (before, id, NULL), 0);

   /* It stalls now: the new queue times it out (awaited, 10 s at most). */
   for (int i = 0; i < 1000 && !lines_with (after, id, "\"State\":\"timeout\""); i++) {
      struct timespec ms = {0, 10000000};
      nanosleep (&ms, NULL);
   }
   ck_assert_int_eq (lines_with (after, id, "\"State\":\"timeout\""), 1);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 3);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_int_eq (lines_with (after, id, "\"State\":\"final\""), 1);
   ck_assert_int_eq (lines_with (before, id, NULL), 0);

   mwatch_watcher_set_opts (MWATCH_WATCHER_COLLECTION, NULL);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
   mwatch_test_remove_tree (dir);
}
END_TEST

Suite *
records_suite (void)
{
   Suite *suite = suite_create ("records");
   TCase *tc = tcase_create ("records");
   tcase_add_checked_fixture (tc, capture_patched_setup, capture_patched_teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_filter_changes_only_its_handlers_records);
   tcase_add_test (tc, test_queue_filter_changes_only_its_records);
   tcase_add_test (tc, test_logger_filter_reaches_timeout_records);
   tcase_add_test (tc, test_below_logger_level_reaches_no_handler);
   tcase_add_test (tc, test_below_level_still_times_out_through_a_queue);
   tcase_add_test (tc, test_states_of_a_write);
   tcase_add_test (tc, test_iteration_does_not_depend_on_levels);
   tcase_add_test (tc, test_reload_hands_running_operations_over);
   suite_add_tcase (suite, tc);
   return suite;
}
