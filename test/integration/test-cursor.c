/* The cursor watcher against the real server: one final record per cursor
 * however many batches, partial counts, timeouts, and the application's
 * results untouched. */
#include "integration/suites.h"
#include "test-capture.h"

#include <pthread.h>

START_TEST (test_find_in_batches_is_one_record)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 25);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   bson_t *filter = BCON_NEW ("n", "{", "$gte", BCON_INT32 (0), "}");
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (2));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 25);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);

   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (cap, NULL, &rec), 1);
   ck_assert_uint_eq (capture_count (cap), 1);
   ck_assert_str_eq (rec->logger, "mongowatch.cursor");
   ck_assert_int_eq (rec->level, MWATCH_LEVEL_INFO);
   ck_assert_str_eq (capture_str (rec, "Operation"), "find");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert_str_eq (capture_str (rec, "Collection"), "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 25);
   ck_assert_int_eq (capture_int (rec, "Filter.n.$gte"), 0);
   mwatch_value_t v;
   ck_assert (mwatch_message_get (rec->msg, "Duration", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DOUBLE);
   ck_assert (v.value.v_double > 0);
   ck_assert (mwatch_message_has (rec->msg, "EndTime"));
   ck_assert (!mwatch_message_has (rec->msg, "Error"));

   bson_destroy (filter);
   bson_destroy (opts);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_destroyed_early_gives_partial_count)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 25);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   bson_t filter = BSON_INITIALIZER;
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (4));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, opts, NULL);
   const bson_t *doc;
   for (int i = 0; i < 7; i++) {
      ck_assert (mongoc_cursor_next (cursor, &doc));
   }
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &rec), 1);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 7);

   bson_destroy (opts);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_cursor_left_alone_times_out)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 10);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = 0.3;
   wopts.timeout_level = MWATCH_LEVEL_WARNING;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   const bson_t *doc;
   for (int i = 0; i < 3; i++) {
      ck_assert (mongoc_cursor_next (cursor, &doc));
   }
   int64_t last_activity = mwatch_monotonic_us ();
   /* Nothing more happens: a timeout record, at the timeout level, with the
    * count so far. */
   ck_assert_uint_eq (capture_await (cap, 1, 10.0), 1);
   ck_assert_int_ge (mwatch_monotonic_us () - last_activity, 300000);
   const mwatch_captured_t *rec = capture_get (cap, 0);
   ck_assert_int_eq (rec->level, MWATCH_LEVEL_WARNING);
   ck_assert (!mwatch_message_is_ready (rec->msg));
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 3);

   /* The cursor goes on; its end still gets a final record. */
   ck_assert (mongoc_cursor_next (cursor, &doc));
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   const mwatch_captured_t *final = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &final), 1);
   ck_assert_int_eq (final->level, MWATCH_LEVEL_INFO);
   ck_assert_int_eq (capture_int (final, "MatchedCount"), 4);
   ck_assert_uint_eq (capture_count (cap), 2);

   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* Activity keeps a cursor from timing out: a read every 0.1 s for 0.6 s
 * with a 0.3 s timeout gives no timeout record. */
START_TEST (test_activity_postpones_timeout)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 10);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = 0.3;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   bson_t filter = BSON_INITIALIZER;
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (1));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, opts, NULL);
   const bson_t *doc;
   for (int i = 0; i < 6; i++) {
      ck_assert (mongoc_cursor_next (cursor, &doc));
      /* The application's own pace between reads. */
      ck_assert_uint_eq (capture_await (cap, 1, 0.1), 0);
   }
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   ck_assert_uint_eq (capture_count (cap), 1);
   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &rec), 1);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 6);
   /* Duration counts time inside libmongoc, not the application's pauses. */
   mwatch_value_t v;
   ck_assert (mwatch_message_get (rec->msg, "Duration", &v));
   ck_assert (v.value.v_double < 0.5);

   bson_destroy (opts);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_first_and_update_records_at_debug)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 3);
   /* Without a queue every record is written as it is logged. */
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, false);
   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 3);
   mongoc_cursor_destroy (cursor);
   /* first, one update (the one round trip that brought documents, as
    * its first document is read), final */
   ck_assert_uint_eq (capture_count (cap), 3);
   for (size_t i = 0; i < 3; i++) {
      const mwatch_captured_t *rec = capture_get (cap, i);
      ck_assert_int_eq (capture_int (rec, "Iteration"), (int64_t) i);
      ck_assert_str_eq (capture_str (rec, "State"), i == 0 ? "first" : (i == 1 ? "update" : "final"));
      /* Nothing is known at the first record: no count rather than 0. */
      if (i == 0) {
         ck_assert (!mwatch_message_has (rec->msg, "MatchedCount"));
         ck_assert (!mwatch_message_has (rec->msg, "Duration"));
      } else {
         ck_assert_int_eq (capture_int (rec, "MatchedCount"), i == 1 ? 1 : 3);
      }
      ck_assert_int_eq (rec->level, i == 2 ? MWATCH_LEVEL_INFO : MWATCH_LEVEL_DEBUG);
      ck_assert (mwatch_message_is_ready (rec->msg) == (i == 2));
   }
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_aggregate_and_failure)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 9);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "group", BCON_INT32 (1),
                                "}", "}", "]");
   mongoc_cursor_t *cursor =
      mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 3);
   mongoc_cursor_destroy (cursor);

   /* A bad operator: the application sees libmongoc's error, the record
    * carries it. */
   bson_t *bad = BCON_NEW ("n", "{", "$nosuchop", BCON_INT32 (1), "}");
   cursor = mongoc_collection_find_with_opts (coll, bad, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 0);
   bson_error_t error;
   ck_assert (mongoc_cursor_error (cursor, &error));
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);

   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (cap, "aggregate", &rec), 1);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 3);
   ck_assert_int_eq (capture_int (rec, "Filter.0.$match.group"), 1);
   ck_assert_uint_eq (capture_finals (cap, "find", &rec), 1);
   ck_assert_str_eq (capture_str (rec, "Error"), error.message);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 0);

   bson_destroy (pipeline);
   bson_destroy (bad);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_count_documents_is_not_a_cursor)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 5);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, true);
   bson_t filter = BSON_INITIALIZER;
   bson_error_t error;
   /* count_documents runs an aggregate inside libmongoc: not a cursor of
    * the application's, so no cursor record. */
   ck_assert_int_eq (mongoc_collection_count_documents (coll, &filter, NULL, NULL, NULL, &error),
                     5);
   capture_drain (cap);
   for (size_t i = 0; i < capture_count (cap); i++) {
      ck_assert_str_ne (capture_get (cap, i)->logger, "mongowatch.cursor");
   }
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_unpatched_logs_nothing)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 5);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, true);
   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   mwatch_unpatch_mongoc ();
   ck_assert (!mwatch_is_patched ());
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   ck_assert_ptr_null (mwatch_cursor_get (cursor));
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   /* Only the first record, logged while patched. */
   ck_assert_uint_eq (capture_count (cap), 1);
   ck_assert_uint_eq (capture_finals (cap, NULL, NULL), 0);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_cursor_get_adds_fields)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 2);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   ck_assert (mwatch_context_set ("User", "ann"));
   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   mwatch_context_clear ();
   mwatch_cursor_t *watch = mwatch_cursor_get (cursor);
   ck_assert_ptr_nonnull (watch);
   mwatch_message_t *msg = mwatch_cursor_lock (watch);
   mwatch_message_set_utf8 (msg, "Request", "r-42");
   mwatch_cursor_unlock (watch);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 2);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &rec), 1);
   ck_assert_str_eq (capture_str (rec, "Request"), "r-42");
   ck_assert_str_eq (capture_str (rec, "User"), "ann");
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* The watchers' default_fields choose what {watch} shows; operation maps
 * rename, drop and add fields, as the Python project's "operations". */
START_TEST (test_default_fields_and_operation_maps)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 4);
   const char *fields[] = {"Operation", "Query", "MatchedCount", NULL};
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.default_fields = fields;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
   const char *rename[] = {"Filter", "Query", NULL};
   const char *drop[] = {"Duration", NULL};
   bson_t *add = BCON_NEW ("App", BCON_UTF8 ("shop"), "Version", BCON_INT32 (3));
   mwatch_operation_map_t maps[] = {
      {.operation = "find", .rename = rename, .drop = drop},
      {.operation = "*", .add = add},
      {.operation = "aggregate", .drop = (const char *[]){"MatchedCount", NULL}},
   };
   mwatch_watcher_set_operation_maps (MWATCH_WATCHER_CURSOR, maps, 3);
   bson_destroy (add);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   bson_t *filter = BCON_NEW ("group", BCON_INT32 (0));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *doc;
   while (mongoc_cursor_next (cursor, &doc)) {
   }
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);

   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &rec), 1);
   ck_assert (!mwatch_message_has (rec->msg, "Filter"));
   ck_assert (!mwatch_message_has (rec->msg, "Duration"));
   ck_assert_int_eq (capture_int (rec, "Query.group"), 0);
   ck_assert_str_eq (capture_str (rec, "App"), "shop");
   ck_assert_int_eq (capture_int (rec, "Version"), 3);
   mwatch_buf_t line = MWATCH_BUF_INITIALIZER;
   mwatch_message_render (rec->msg, NULL, &line);
   ck_assert_str_eq (line.data, "Operation=find Query={\"group\":0} MatchedCount=2");
   mwatch_buf_destroy (&line);

   mwatch_watcher_set_operation_maps (MWATCH_WATCHER_CURSOR, NULL, 0);
   bson_destroy (filter);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* With update records on (DEBUG) and a queue, no update comes out (a
 * record that is not ready leaves a queue by timeout alone), and the queue
 * skips them; yet a cursor that goes quiet twice times out twice, each
 * time with its count then.  Each stall follows a batch (batchSize 3): an
 * update is logged per round trip that brought documents, and each
 * record in the queue times out once. */
START_TEST (test_each_stall_times_out_through_a_queue)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 10);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = 0.3;
   wopts.timeout_level = MWATCH_LEVEL_WARNING;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, true);

   bson_t all = BSON_INITIALIZER;
   bson_t *batches_of_3 = BCON_NEW ("batchSize", BCON_INT32 (3));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, batches_of_3, NULL);
   bson_destroy (batches_of_3);
   const bson_t *doc;
   for (int stall = 1; stall <= 2; stall++) {
      for (int i = 0; i < 3; i++) {
         ck_assert (mongoc_cursor_next (cursor, &doc));
      }
      ck_assert_uint_eq (capture_await (cap, (size_t) stall, 10.0), (size_t) stall);
      const mwatch_captured_t *rec = capture_get (cap, (size_t) stall - 1);
      ck_assert_int_eq (rec->level, MWATCH_LEVEL_WARNING);
      ck_assert (!mwatch_message_is_ready (rec->msg));
      ck_assert_int_eq (capture_int (rec, "MatchedCount"), 3 * stall);
   }
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   const mwatch_captured_t *final = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &final), 1);
   ck_assert_int_eq (capture_int (final, "MatchedCount"), 10);
   ck_assert_uint_eq (capture_count (cap), 3);

   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, NULL);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

static bool
keep_with_documents (mwatch_record_t *record, void *user_data)
{
   (void) user_data;
   mwatch_value_t v;
   return record->watch && mwatch_message_get (record->watch, "MatchedCount", &v) &&
          v.type == MWATCH_TYPE_INT64 && v.value.v_int64 > 0;
}

/* A first record that a logger's filter drops never reaches the queue: the
 * operation's later records must still make it time out. */
START_TEST (test_times_out_when_first_record_filtered_out)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 10);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = 0.3;
   wopts.timeout_level = MWATCH_LEVEL_WARNING;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, true);
   mwatch_filter_t *filter = mwatch_filter_new_callback (keep_with_documents, NULL, NULL);
   mwatch_logger_add_filter (mwatch_logger_get ("mongowatch.cursor"), filter);
   mwatch_filter_destroy (filter);

   bson_t all = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, NULL, NULL);
   const bson_t *doc;
   for (int i = 0; i < 2; i++) {
      ck_assert (mongoc_cursor_next (cursor, &doc));
   }
   ck_assert_uint_eq (capture_await (cap, 1, 10.0), 1);
   const mwatch_captured_t *rec = capture_get (cap, 0);
   ck_assert_int_eq (rec->level, MWATCH_LEVEL_WARNING);
   ck_assert (!mwatch_message_is_ready (rec->msg));
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 2);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 8);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);
   ck_assert_uint_eq (capture_count (cap), 2);

   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, NULL);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

static void *
destroy_cursor_main (void *cursor)
{
   mongoc_cursor_destroy (cursor);
   return NULL;
}

/* Each thread remembers the cursor it read last.  A cursor libmongoc makes
 * where one was destroyed before (it reuses the memory), on this thread or
 * after a destroy on another, is a new operation with a record of its
 * own: counts never leak from one cursor into the next. */
START_TEST (test_cursors_at_reused_addresses)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 10);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   for (int i = 0; i < 20; i++) {
      bson_t *filter = BCON_NEW ("n", "{", "$lt", BCON_INT32 (i % 10 + 1), "}");
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
      ck_assert_int_eq (capture_drain_cursor (cursor, NULL), i % 10 + 1);
      mongoc_cursor_destroy (cursor);
      bson_destroy (filter);
   }
   /* Read on this thread, destroyed on another; then a new one here. */
   bson_t all = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, NULL, NULL);
   const bson_t *doc;
   for (int i = 0; i < 3; i++) {
      ck_assert (mongoc_cursor_next (cursor, &doc));
   }
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, destroy_cursor_main, cursor), 0);
   pthread_join (thread, NULL);
   bson_t *five = BCON_NEW ("n", "{", "$lt", BCON_INT32 (5), "}");
   cursor = mongoc_collection_find_with_opts (coll, five, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   capture_drain (cap);

   ck_assert_uint_eq (capture_count (cap), 22);
   for (size_t i = 0; i < 20; i++) {
      const mwatch_captured_t *rec = capture_get (cap, i);
      ck_assert (mwatch_message_is_ready (rec->msg));
      ck_assert_int_eq (capture_int (rec, "Filter.n.$lt"), (int64_t) (i % 10 + 1));
      ck_assert_int_eq (capture_int (rec, "MatchedCount"), (int64_t) (i % 10 + 1));
   }
   ck_assert_int_eq (capture_int (capture_get (cap, 20), "MatchedCount"), 3);
   ck_assert_int_eq (capture_int (capture_get (cap, 21), "MatchedCount"), 5);
   ck_assert_int_eq (capture_int (capture_get (cap, 21), "Filter.n.$lt"), 5);

   bson_destroy (five);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

static void *
read_one_main (void *cursor)
{
   const bson_t *doc;
   return mongoc_cursor_next (cursor, &doc) ? cursor : NULL;
}

/* A thread that read a cursor last and exits holds the cursor's watch in
 * its cache: its exit lets the watch go (a key destructor, registered at
 * the thread's first cached watch), and the cursor, destroyed later on
 * another thread, still logs one final record with what was read. */
START_TEST (test_reading_thread_exits_before_destroy)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_cursor", db, sizeof db, 10);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);

   for (int i = 0; i < 3; i++) {
      bson_t all = BSON_INITIALIZER;
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &all, NULL, NULL);
      pthread_t thread;
      void *read;
      ck_assert_int_eq (pthread_create (&thread, NULL, read_one_main, cursor), 0);
      ck_assert_int_eq (pthread_join (thread, &read), 0);
      ck_assert_ptr_eq (read, cursor);
      mongoc_cursor_destroy (cursor);
   }
   capture_drain (cap);

   ck_assert_uint_eq (capture_count (cap), 3);
   for (size_t i = 0; i < 3; i++) {
      const mwatch_captured_t *rec = capture_get (cap, i);
      ck_assert (mwatch_message_is_ready (rec->msg));
      ck_assert_int_eq (capture_int (rec, "MatchedCount"), 1);
   }

   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
cursor_suite (void)
{
   Suite *suite = suite_create ("cursor");
   TCase *tc = tcase_create ("cursor");
   tcase_add_checked_fixture (tc, capture_patched_setup, capture_patched_teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_find_in_batches_is_one_record);
   tcase_add_test (tc, test_destroyed_early_gives_partial_count);
   tcase_add_test (tc, test_cursor_left_alone_times_out);
   tcase_add_test (tc, test_activity_postpones_timeout);
   tcase_add_test (tc, test_first_and_update_records_at_debug);
   tcase_add_test (tc, test_aggregate_and_failure);
   tcase_add_test (tc, test_count_documents_is_not_a_cursor);
   tcase_add_test (tc, test_unpatched_logs_nothing);
   tcase_add_test (tc, test_cursor_get_adds_fields);
   tcase_add_test (tc, test_default_fields_and_operation_maps);
   tcase_add_test (tc, test_cursors_at_reused_addresses);
   tcase_add_test (tc, test_reading_thread_exits_before_destroy);
   tcase_add_test (tc, test_each_stall_times_out_through_a_queue);
   tcase_add_test (tc, test_times_out_when_first_record_filtered_out);
   suite_add_tcase (suite, tc);
   return suite;
}
