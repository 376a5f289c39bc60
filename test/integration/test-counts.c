/* Every watched operation's counts, row by row as doc/configuration.md's
 * table "Counts of each operation" lists them, against the real server:
 * each count field the row names holds what the server's reply says, and
 * the fields it does not name are absent (not 0). */
#include "integration/collection-fixture.h"
#include "integration/suites.h"

#include <mongowatch.h>

#define ABSENT (-1)

/* The five count fields of `rec`: each the value given, or absent. */
static void
expect_counts (const mwatch_captured_t *rec,
               int64_t matched,
               int64_t modified,
               int64_t upserted,
               int64_t deleted,
               int64_t inserted)
{
   const char *keys[] = {"MatchedCount", "ModifiedCount", "UpsertedCount", "DeletedCount",
                         "InsertedCount"};
   int64_t want[] = {matched, modified, upserted, deleted, inserted};
   for (size_t i = 0; i < 5; i++) {
      if (want[i] == ABSENT) {
         ck_assert_msg (!mwatch_message_has (rec->msg, keys[i]), "%s: %s should be absent",
                        capture_str (rec, "Operation"), keys[i]);
      } else {
         ck_assert_msg (mwatch_message_has (rec->msg, keys[i]), "%s: no %s",
                        capture_str (rec, "Operation"), keys[i]);
         ck_assert_int_eq (capture_int (rec, keys[i]), want[i]);
      }
   }
}

START_TEST (test_write_counts)
{
   fixture_t f;
   fixture_start (&f, 6, MWATCH_LEVEL_INFO, false); /* n = 0..5, group = n % 3 */
   bson_error_t error;
   bson_t reply;
   bson_t *doc = BCON_NEW ("n", BCON_INT32 (10), "group", BCON_INT32 (1));
   ck_assert (mongoc_collection_insert_one (f.coll, doc, NULL, NULL, &error));
   expect_counts (one_ok (&f, "insert_one", f.db, "items"), ABSENT, ABSENT, ABSENT, ABSENT, 1);
   const bson_t *docs[] = {doc, doc, doc};
   bson_t *no_id = BCON_NEW ("n", BCON_INT32 (11));
   docs[0] = no_id;
   docs[1] = no_id;
   docs[2] = no_id;
   ck_assert (mongoc_collection_insert_many (f.coll, docs, 3, NULL, &reply, &error));
   expect_counts (one_ok (&f, "insert_many", f.db, "items"), ABSENT, ABSENT, ABSENT, ABSENT,
                  reply_int (&reply, "insertedCount"));
   bson_destroy (&reply);

   bson_t *group1 = BCON_NEW ("group", BCON_INT32 (1));
   bson_t *set_y = BCON_NEW ("$set", "{", "y", BCON_INT32 (1), "}");
   ck_assert (mongoc_collection_update_many (f.coll, group1, set_y, NULL, &reply, &error));
   expect_counts (one_ok (&f, "update_many", f.db, "items"), reply_int (&reply, "matchedCount"),
                  reply_int (&reply, "modifiedCount"), 0, ABSENT, ABSENT);
   ck_assert_int_eq (reply_int (&reply, "matchedCount"), 3); /* n = 1, 4, 10 */
   bson_destroy (&reply);
   bson_t *absent = BCON_NEW ("n", BCON_INT32 (500));
   bson_t *upsert = BCON_NEW ("upsert", BCON_BOOL (true));
   ck_assert (mongoc_collection_update_one (f.coll, absent, set_y, upsert, &reply, &error));
   expect_counts (one_ok (&f, "update_one", f.db, "items"), 0, 0, 1, ABSENT, ABSENT);
   ck_assert_int_eq (reply_int (&reply, "upsertedCount"), 1);
   bson_destroy (&reply);
   bson_t *n2 = BCON_NEW ("n", BCON_INT32 (2));
   bson_t *replacement = BCON_NEW ("n", BCON_INT32 (2), "z", BCON_INT32 (1));
   ck_assert (mongoc_collection_replace_one (f.coll, n2, replacement, NULL, NULL, &error));
   expect_counts (one_ok (&f, "replace_one", f.db, "items"), 1, 1, 0, ABSENT, ABSENT);

   ck_assert (mongoc_collection_delete_one (f.coll, n2, NULL, NULL, &error));
   expect_counts (one_ok (&f, "delete_one", f.db, "items"), ABSENT, ABSENT, ABSENT, 1, ABSENT);
   bson_t *n11 = BCON_NEW ("n", BCON_INT32 (11));
   ck_assert (mongoc_collection_delete_many (f.coll, n11, NULL, &reply, &error));
   expect_counts (one_ok (&f, "delete_many", f.db, "items"), ABSENT, ABSENT, ABSENT,
                  reply_int (&reply, "deletedCount"), ABSENT);
   ck_assert_int_eq (reply_int (&reply, "deletedCount"), 3);
   bson_destroy (&reply);

   /* The deprecated writes: from the last error document. */
   ck_assert (mongoc_collection_insert (f.coll, MONGOC_INSERT_NONE, no_id, NULL, &error));
   expect_counts (one_ok (&f, "insert", f.db, "items"), ABSENT, ABSENT, ABSENT, ABSENT, 1);
   ck_assert (mongoc_collection_remove (f.coll, MONGOC_REMOVE_NONE, n11, NULL, &error));
   expect_counts (one_ok (&f, "remove", f.db, "items"), ABSENT, ABSENT, ABSENT, 1, ABSENT);

   /* A bulk write: all five, from its reply. */
   mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts (f.coll, NULL);
   mongoc_bulk_operation_insert (bulk, no_id);
   mongoc_bulk_operation_update_many_with_opts (bulk, group1, set_y, NULL, NULL);
   mongoc_bulk_operation_remove_one_with_opts (bulk, n11, NULL, NULL);
   ck_assert (mongoc_bulk_operation_execute (bulk, &reply, &error));
   expect_counts (one_ok (&f, "bulk_write", f.db, "items"), reply_int (&reply, "nMatched"),
                  reply_int (&reply, "nModified"), reply_int (&reply, "nUpserted"),
                  reply_int (&reply, "nRemoved"), reply_int (&reply, "nInserted"));
   ck_assert_int_eq (reply_int (&reply, "nRemoved"), 1);
   bson_destroy (&reply);
   mongoc_bulk_operation_destroy (bulk);

   bson_destroy (doc);
   bson_destroy (no_id);
   bson_destroy (group1);
   bson_destroy (set_y);
   bson_destroy (absent);
   bson_destroy (upsert);
   bson_destroy (n2);
   bson_destroy (replacement);
   bson_destroy (n11);
   fixture_stop (&f);
}
END_TEST

/* find_and_modify reads as update_one and delete_one read: an upsert
 * matched nothing, an update of an existing document modified it, a
 * removal deleted what it matched. */
START_TEST (test_find_and_modify_counts)
{
   fixture_t f;
   fixture_start (&f, 6, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t *set_y = BCON_NEW ("$set", "{", "y", BCON_INT32 (1), "}");
   bson_t *n2 = BCON_NEW ("n", BCON_INT32 (2));
   ck_assert (mongoc_collection_find_and_modify (f.coll, n2, NULL, set_y, NULL, false, false, true,
                                                 NULL, &error));
   expect_counts (one_ok (&f, "find_and_modify", f.db, "items"), 1, 1, 0, ABSENT, ABSENT);

   bson_t *absent = BCON_NEW ("n", BCON_INT32 (500));
   ck_assert (mongoc_collection_find_and_modify (f.coll, absent, NULL, set_y, NULL, false, true,
                                                 true, NULL, NULL));
   expect_counts (one_ok (&f, "find_and_modify", f.db, "items"), 0, 0, 1, ABSENT, ABSENT);
   ck_assert_int_eq (truth (f.coll, absent), 1);

   bson_t *nothing = BCON_NEW ("n", BCON_INT32 (9999));
   ck_assert (mongoc_collection_find_and_modify (f.coll, nothing, NULL, set_y, NULL, false, false,
                                                 false, NULL, &error));
   expect_counts (one_ok (&f, "find_and_modify", f.db, "items"), 0, 0, 0, ABSENT, ABSENT);

   mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new ();
   mongoc_find_and_modify_opts_set_flags (opts, MONGOC_FIND_AND_MODIFY_REMOVE);
   bson_t *n3 = BCON_NEW ("n", BCON_INT32 (3));
   ck_assert (mongoc_collection_find_and_modify_with_opts (f.coll, n3, opts, NULL, &error));
   expect_counts (one_ok (&f, "find_and_modify", f.db, "items"), 1, ABSENT, ABSENT, 1, ABSENT);
   ck_assert_int_eq (truth (f.coll, n3), 0);
   ck_assert (mongoc_collection_find_and_modify_with_opts (f.coll, n3, opts, NULL, &error));
   expect_counts (one_ok (&f, "find_and_modify", f.db, "items"), 0, ABSENT, ABSENT, 0, ABSENT);

   mongoc_find_and_modify_opts_destroy (opts);
   bson_destroy (set_y);
   bson_destroy (n2);
   bson_destroy (n3);
   bson_destroy (absent);
   bson_destroy (nothing);
   fixture_stop (&f);
}
END_TEST

/* Reads: the number of documents or values the server gave. */
START_TEST (test_read_counts)
{
   fixture_t f;
   fixture_start (&f, 6, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   bson_t *group1 = BCON_NEW ("group", BCON_INT32 (1));
   ck_assert_int_eq (mongoc_collection_count_documents (f.coll, group1, NULL, NULL, NULL, &error),
                     2);
   expect_counts (one_ok (&f, "count_documents", f.db, "items"), 2, ABSENT, ABSENT, ABSENT,
                  ABSENT);
   ck_assert_int_eq (
      mongoc_collection_estimated_document_count (f.coll, NULL, NULL, NULL, &error), 6);
   expect_counts (one_ok (&f, "estimated_document_count", f.db, "items"), 6, ABSENT, ABSENT,
                  ABSENT, ABSENT);

   /* distinct: the number of values; with no reply asked for too. */
   bson_t *distinct = BCON_NEW ("distinct", "items", "key", "n", "query", "{", "group",
                                BCON_INT32 (1), "}");
   ck_assert (mongoc_collection_read_command_with_opts (f.coll, distinct, NULL, NULL, &reply,
                                                        &error));
   bson_iter_t iter;
   bson_iter_t values;
   int64_t n_values = 0;
   ck_assert (bson_iter_init_find (&iter, &reply, "values") && bson_iter_recurse (&iter, &values));
   while (bson_iter_next (&values)) {
      n_values++;
   }
   ck_assert_int_eq (n_values, 2); /* 1, 4 */
   bson_destroy (&reply);
   expect_counts (one_ok (&f, "distinct", f.db, "items"), n_values, ABSENT, ABSENT, ABSENT,
                  ABSENT);
   mongoc_database_t *database = mongoc_client_get_database (f.client, f.db);
   ck_assert (mongoc_database_command_with_opts (database, distinct, NULL, NULL, NULL, &error));
   expect_counts (one_ok (&f, "distinct", f.db, "items"), 2, ABSENT, ABSENT, ABSENT, ABSENT);
   /* count: its n. */
   bson_t *count = BCON_NEW ("count", "items", "query", "{", "group", BCON_INT32 (2), "}");
   ck_assert (mongoc_client_command_simple (f.client, f.db, count, NULL, NULL, &error));
   expect_counts (one_ok (&f, "count", f.db, "items"), 2, ABSENT, ABSENT, ABSENT, ABSENT);
   /* Other commands: none. */
   bson_t *ping = BCON_NEW ("ping", BCON_INT32 (1));
   ck_assert (mongoc_database_command_simple (database, ping, NULL, NULL, &error));
   expect_counts (one_ok (&f, "ping", f.db, NULL), ABSENT, ABSENT, ABSENT, ABSENT, ABSENT);

   /* A cursor: the documents read. */
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (f.coll, group1, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 2);
   mongoc_cursor_destroy (cursor);
   const mwatch_captured_t *final = NULL;
   ck_assert_uint_eq (capture_finals (f.cap, "find", &final), 1);
   expect_counts (final, 2, ABSENT, ABSENT, ABSENT, ABSENT);

   mongoc_database_destroy (database);
   bson_destroy (group1);
   bson_destroy (distinct);
   bson_destroy (count);
   bson_destroy (ping);
   fixture_stop (&f);
}
END_TEST

Suite *
counts_suite (void)
{
   Suite *s = suite_create ("counts");
   TCase *tc = tcase_create ("counts");
   tcase_add_checked_fixture (tc, capture_patched_setup, capture_patched_teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_write_counts);
   tcase_add_test (tc, test_find_and_modify_counts);
   tcase_add_test (tc, test_read_counts);
   suite_add_tcase (s, tc);
   return s;
}
