/* Every other call that returns a cursor, against the real server: each
 * gives exactly one final record on "mongowatch.cursor" with its
 * Operation, DB and Collection, and a MatchedCount equal to what the
 * application read — the deprecated find and command, a database's
 * aggregate, listIndexes, listCollections, listDatabases, a cursor made
 * from a command reply, and a clone; and the update records of a cursor
 * read document by document. */
#include "integration/suites.h"
#include "test-capture.h"

#include <string.h>

/* The deprecated calls are watched because real programs still make them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* The one final cursor record of `operation`; fails unless there is
 * exactly one, and one final record in all. */
static const mwatch_captured_t *
only_final (mwatch_capture_t *cap, const char *operation)
{
   const mwatch_captured_t *rec = NULL;
   capture_drain (cap);
   ck_assert_uint_eq (capture_finals (cap, operation, &rec), 1);
   ck_assert_uint_eq (capture_finals (cap, NULL, NULL), 1);
   ck_assert_str_eq (rec->logger, "mongowatch.cursor");
   return rec;
}

START_TEST (test_deprecated_find)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_calls", db, sizeof db, 10);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   bson_t *query = BCON_NEW ("group", BCON_INT32 (2));
   mongoc_cursor_t *cursor = mongoc_collection_find (coll, MONGOC_QUERY_NONE, 0, 0, 2, query, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 3); /* n = 2, 5, 8 */
   mongoc_cursor_destroy (cursor);
   const mwatch_captured_t *rec = only_final (cap, "find");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert_str_eq (capture_str (rec, "Collection"), "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 3);
   ck_assert_int_eq (capture_int (rec, "Filter.group"), 2);
   bson_destroy (query);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_database_aggregate)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_calls", db, sizeof db, 1);
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   /* A database-level pipeline; whether the server serves it or not, the
    * record tells the same story as the cursor. */
   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$documents", "[", "{", "x", BCON_INT32 (1),
                                "}", "{", "x", BCON_INT32 (2), "}", "]", "}", "]");
   mongoc_cursor_t *cursor = mongoc_database_aggregate (database, pipeline, NULL, NULL);
   bson_error_t error;
   int read = capture_drain_cursor (cursor, &error);
   mongoc_cursor_destroy (cursor);
   const mwatch_captured_t *rec = only_final (cap, "aggregate");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert (!mwatch_message_has (rec->msg, "Collection"));
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), read);
   ck_assert_int_eq (capture_int (rec, "Filter.0.$documents.1.x"), 2);
   if (error.code) {
      ck_assert_str_eq (capture_str (rec, "Error"), error.message);
   } else {
      ck_assert_int_eq (read, 2);
      ck_assert (!mwatch_message_has (rec->msg, "Error"));
   }
   bson_destroy (pipeline);
   capture_stop (cap);
   mongoc_database_destroy (database);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_list_indexes_collections_databases)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_calls", db, sizeof db, 1);
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   bson_error_t error;

   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   mongoc_cursor_t *cursor = mongoc_collection_find_indexes_with_opts (coll, NULL);
   int indexes = capture_drain_cursor (cursor, &error);
   ck_assert_msg (!error.code, "%s", error.message);
   ck_assert_int_ge (indexes, 1); /* _id */
   mongoc_cursor_destroy (cursor);
   const mwatch_captured_t *rec = only_final (cap, "listIndexes");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert_str_eq (capture_str (rec, "Collection"), "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), indexes);
   capture_stop (cap);

   cap = capture_start (MWATCH_LEVEL_INFO, true);
   bson_t *opts = BCON_NEW ("filter", "{", "name", BCON_UTF8 ("items"), "}");
   cursor = mongoc_database_find_collections_with_opts (database, opts);
   ck_assert_int_eq (capture_drain_cursor (cursor, &error), 1);
   mongoc_cursor_destroy (cursor);
   rec = only_final (cap, "listCollections");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 1);
   ck_assert_str_eq (capture_str (rec, "Filter.name"), "items");
   capture_stop (cap);
   bson_destroy (opts);

   cap = capture_start (MWATCH_LEVEL_INFO, true);
   opts = BCON_NEW ("filter", "{", "name", BCON_UTF8 (db), "}");
   cursor = mongoc_client_find_databases_with_opts (client, opts);
   ck_assert_int_eq (capture_drain_cursor (cursor, &error), 1);
   mongoc_cursor_destroy (cursor);
   rec = only_final (cap, "listDatabases");
   ck_assert_str_eq (capture_str (rec, "DB"), "admin");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 1);
   capture_stop (cap);
   bson_destroy (opts);

   mongoc_database_destroy (database);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_deprecated_command_and_reply_cursor)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_calls", db, sizeof db, 7);
   bson_error_t error;

   /* mongoc_collection_command: the reply of the command is its one
    * document. */
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   bson_t *command = BCON_NEW ("count", BCON_UTF8 ("items"));
   mongoc_cursor_t *cursor =
      mongoc_collection_command (coll, MONGOC_QUERY_NONE, 0, 0, 0, command, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, &error), 1);
   ck_assert_msg (!error.code, "%s", error.message);
   mongoc_cursor_destroy (cursor);
   const mwatch_captured_t *rec = only_final (cap, "count");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert_str_eq (capture_str (rec, "Collection"), "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 1);
   capture_stop (cap);
   bson_destroy (command);

   /* A cursor made from a find command's reply (run unwatched, as a
    * program would run it by hand), read to its end through getMore. */
   mwatch_unpatch_mongoc ();
   bson_t reply;
   char full[128];
   bson_snprintf (full, sizeof full, "%s", db);
   command = BCON_NEW ("find", BCON_UTF8 ("items"), "batchSize", BCON_INT32 (2));
   ck_assert_msg (mongoc_client_read_command_with_opts (client, full, command, NULL, NULL, &reply, &error),
                  "%s",
                  error.message);
   ck_assert (mwatch_patch_mongoc (&error));
   cap = capture_start (MWATCH_LEVEL_INFO, true);
   bson_t *copy = bson_copy (&reply);
   bson_destroy (&reply);
   cursor = mongoc_cursor_new_from_command_reply_with_opts (client, copy, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, &error), 7);
   ck_assert_msg (!error.code, "%s", error.message);
   mongoc_cursor_destroy (cursor);
   rec = only_final (cap, "command_cursor");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert_str_eq (capture_str (rec, "Collection"), "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 7);
   capture_stop (cap);
   bson_destroy (command);

   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_clone_is_its_own_operation)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_calls", db, sizeof db, 6);
   bson_t *filter = BCON_NEW ("group", BCON_INT32 (0));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   mongoc_cursor_t *clone = mongoc_cursor_clone (cursor);
   ck_assert_int_eq (capture_drain_cursor (clone, NULL), 2); /* n = 0, 3 */
   mongoc_cursor_destroy (clone);
   const mwatch_captured_t *rec = only_final (cap, "find");
   ck_assert_str_eq (capture_str (rec, "DB"), db);
   ck_assert_str_eq (capture_str (rec, "Collection"), "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 2);
   ck_assert_int_eq (capture_int (rec, "Filter.group"), 0);
   capture_stop (cap);
   /* The original, read after its clone, counts on its own. */
   cap = capture_start (MWATCH_LEVEL_INFO, true);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 2);
   mongoc_cursor_destroy (cursor);
   rec = only_final (cap, "find");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 2);
   capture_stop (cap);
   bson_destroy (filter);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* The update records of `cap` once drained (not ready; Iteration 0 is the
 * first record, logged as the cursor is made), each at DEBUG: how many, and
 * the MatchedCount of the first `size` of them. */
static size_t
update_records (mwatch_capture_t *cap, int64_t *matched, size_t size)
{
   capture_drain (cap);
   size_t n = 0;
   for (size_t i = 0; i < capture_count (cap); i++) {
      const mwatch_captured_t *rec = capture_get (cap, i);
      if (!mwatch_message_is_ready (rec->msg) && capture_int (rec, "Iteration") > 0) {
         ck_assert_int_eq (rec->level, MWATCH_LEVEL_DEBUG);
         if (n < size) {
            matched[n] = capture_int (rec, "MatchedCount");
         }
         n++;
      }
   }
   return n;
}

/* With emit_on_new_retrieves (the default), an update record for each
 * round trip that brought documents, not for each document: 12 documents
 * in batches of 4 are 3 batches (find, getMore, getMore), so 3 updates,
 * each logged as the batch's first document is read (MatchedCount 1, 5,
 * 9), then one final record.  The round trip that only finds the cursor
 * exhausted brings nothing and logs no update. */
START_TEST (test_update_per_round_trip)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_calls", db, sizeof db, 12);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, false);
   bson_t filter = BSON_INITIALIZER;
   bson_t *find_opts = BCON_NEW ("batchSize", BCON_INT32 (4));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, find_opts, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 12);
   mongoc_cursor_destroy (cursor);
   int64_t matched[4];
   ck_assert_uint_eq (update_records (cap, matched, 4), 3);
   for (int64_t i = 0; i < 3; i++) {
      ck_assert_int_eq (matched[i], 1 + 4 * i);
   }
   const mwatch_captured_t *final = NULL;
   ck_assert_uint_eq (capture_finals (cap, "find", &final), 1);
   ck_assert_int_eq (capture_int (final, "MatchedCount"), 12);
   bson_destroy (find_opts);
   capture_stop (cap);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* A cursor made from a command reply holds its first batch before the
 * first mongoc_cursor_next, which then reads no socket: that batch still
 * counts as one that brought documents (one update), and the documents
 * after it in the same batch log none. */
START_TEST (test_update_for_first_batch_from_reply)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_calls", db, sizeof db, 5);
   bson_t *command = BCON_NEW ("find", BCON_UTF8 ("items"), "filter", "{", "}");
   bson_t reply;
   bson_error_t error;
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   ck_assert_msg (mongoc_database_command_simple (database, command, NULL, &reply, &error), "%s",
                  error.message);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_DEBUG, false);
   mongoc_cursor_t *cursor = mongoc_cursor_new_from_command_reply_with_opts (client, &reply, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   int64_t matched[2];
   ck_assert_uint_eq (update_records (cap, matched, 2), 1);
   ck_assert_int_eq (matched[0], 1);
   capture_stop (cap);
   bson_destroy (command);
   mongoc_database_destroy (database);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
cursor_calls_suite (void)
{
   Suite *s = suite_create ("cursor-calls");
   TCase *tc = tcase_create ("cursor-calls");
   tcase_add_checked_fixture (tc, capture_patched_setup, capture_patched_teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_deprecated_find);
   tcase_add_test (tc, test_database_aggregate);
   tcase_add_test (tc, test_list_indexes_collections_databases);
   tcase_add_test (tc, test_deprecated_command_and_reply_cursor);
   tcase_add_test (tc, test_clone_is_its_own_operation);
   tcase_add_test (tc, test_update_per_round_trip);
   tcase_add_test (tc, test_update_for_first_batch_from_reply);
   suite_add_tcase (s, tc);
   return s;
}
