/* The collection watcher against the real server: one final record per
 * call, deprecated functions and nested calls included, with the right
 * names, Filter and counts (checked against counts the test makes itself
 * with unwatched calls) and the application's results untouched.  Writes,
 * counts and bulk writes here; the rest in test-collection-admin.c. */
#include "integration/collection-fixture.h"
#include "integration/suites.h"

static void
setup (void)
{
   watched ();
}

static void
teardown (void)
{
   mwatch_unpatch_mongoc ();
   mwatch_watcher_set_opts (MWATCH_WATCHER_COLLECTION, NULL);
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, NULL);
   mwatch_shutdown ();
}

/* ---------------------------------------------------------------- inserts */


START_TEST (test_inserts)
{
   fixture_t f;
   fixture_start (&f, 0, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   bson_t *doc = BCON_NEW ("n", BCON_INT32 (100));

   ck_assert (mongoc_collection_insert_one (f.coll, doc, NULL, &reply, &error));
   const mwatch_captured_t *rec = one_ok (&f, "insert_one", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "InsertedCount"), 1);
   ck_assert_int_eq (reply_int (&reply, "insertedCount"), 1);
   ck_assert (!mwatch_message_has (rec->msg, "Filter"));
   ck_assert (!mwatch_message_has (rec->msg, "MatchedCount"));
   bson_destroy (&reply);

   /* No reply, no error: counts all the same. */
   bson_t *docs[4];
   for (int i = 0; i < 4; i++) {
      docs[i] = BCON_NEW ("n", BCON_INT32 (200 + i));
   }
   ck_assert (mongoc_collection_insert_many (f.coll, (const bson_t **) docs, 4, NULL, NULL, NULL));
   ck_assert_int_eq (capture_int (one_ok (&f, "insert_many", f.db, "items"), "InsertedCount"),
                     4);

   ck_assert (mongoc_collection_insert (f.coll, MONGOC_INSERT_NONE, doc, NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "insert", f.db, "items"), "InsertedCount"), 1);

   ck_assert (mongoc_collection_insert_bulk (f.coll, MONGOC_INSERT_NONE, (const bson_t **) docs,
                                             3, NULL, NULL));
   ck_assert_int_eq (capture_int (one_ok (&f, "insert_bulk", f.db, "items"), "InsertedCount"),
                     3);

   /* save: an insert without _id (through mongoc_collection_insert, not
    * logged again), an upsert by _id with one. */
   ck_assert (mongoc_collection_save (f.coll, doc, NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "save", f.db, "items"), "InsertedCount"), 1);
   bson_t *with_id = BCON_NEW ("_id", BCON_INT32 (777), "n", BCON_INT32 (777));
   ck_assert (mongoc_collection_save (f.coll, with_id, NULL, &error));
   assert_counts (one_ok (&f, "save", f.db, "items"), 0, 0, 1);
   ck_assert (mongoc_collection_save (f.coll, with_id, NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "save", f.db, "items"), "MatchedCount"), 1);

   ck_assert_int_eq (truth (f.coll, NULL), 1 + 4 + 1 + 3 + 1 + 1);
   for (int i = 0; i < 4; i++) {
      bson_destroy (docs[i]);
   }
   bson_destroy (doc);
   bson_destroy (with_id);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- updates */

START_TEST (test_updates)
{
   fixture_t f;
   fixture_start (&f, 9, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   bson_t *group1 = BCON_NEW ("group", BCON_INT32 (1));
   bson_t *set_x = BCON_NEW ("$set", "{", "x", BCON_INT32 (1), "}");

   ck_assert (mongoc_collection_update_one (f.coll, group1, set_x, NULL, &reply, &error));
   const mwatch_captured_t *rec = one_ok (&f, "update_one", f.db, "items");
   assert_counts (rec, 1, 1, 0);
   ck_assert_int_eq (reply_int (&reply, "matchedCount"), 1);
   ck_assert_int_eq (capture_int (rec, "Filter.group"), 1);
   ck_assert_int_eq (capture_int (rec, "Update.$set.x"), 1);
   ck_assert (!mwatch_message_has (rec->msg, "InsertedCount"));
   bson_destroy (&reply);

   bson_t *group0 = BCON_NEW ("group", BCON_INT32 (0));
   int64_t in_group0 = truth (f.coll, group0);
   ck_assert (mongoc_collection_update_many (f.coll, group0, set_x, NULL, NULL, NULL));
   assert_counts (one_ok (&f, "update_many", f.db, "items"), in_group0, in_group0, 0);

   bson_t *n4 = BCON_NEW ("n", BCON_INT32 (4));
   bson_t *replacement = BCON_NEW ("n", BCON_INT32 (4), "r", BCON_INT32 (7));
   ck_assert (mongoc_collection_replace_one (f.coll, n4, replacement, NULL, NULL, &error));
   rec = one_ok (&f, "replace_one", f.db, "items");
   assert_counts (rec, 1, 1, 0);
   ck_assert_int_eq (capture_int (rec, "Update.r"), 7);

   bson_t *absent = BCON_NEW ("n", BCON_INT32 (1000));
   bson_t *upsert = BCON_NEW ("upsert", BCON_BOOL (true));
   ck_assert (mongoc_collection_update_one (f.coll, absent, set_x, upsert, NULL, &error));
   assert_counts (one_ok (&f, "update_one", f.db, "items"), 0, 0, 1);

   bson_t *group2 = BCON_NEW ("group", BCON_INT32 (2));
   int64_t in_group2 = truth (f.coll, group2);
   ck_assert (mongoc_collection_update (f.coll, MONGOC_UPDATE_MULTI_UPDATE, group2, set_x, NULL,
                                        &error));
   rec = one_ok (&f, "update", f.db, "items");
   assert_counts (rec, in_group2, in_group2, 0);
   ck_assert_int_eq (capture_int (rec, "Filter.group"), 2);
   bson_t *absent2 = BCON_NEW ("n", BCON_INT32 (2000));
   ck_assert (mongoc_collection_update (f.coll, MONGOC_UPDATE_UPSERT, absent2, set_x, NULL, NULL));
   assert_counts (one_ok (&f, "update", f.db, "items"), 0, 0, 1);

   /* Everything updated above now has x. */
   bson_t *has_x = BCON_NEW ("x", BCON_INT32 (1));
   ck_assert_int_eq (truth (f.coll, has_x), 1 + in_group0 + 1 + in_group2 + 1);

   bson_destroy (group0);
   bson_destroy (group1);
   bson_destroy (group2);
   bson_destroy (set_x);
   bson_destroy (n4);
   bson_destroy (replacement);
   bson_destroy (absent);
   bson_destroy (absent2);
   bson_destroy (upsert);
   bson_destroy (has_x);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- deletes */

START_TEST (test_deletes)
{
   fixture_t f;
   fixture_start (&f, 12, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   bson_t *group[3];
   for (int i = 0; i < 3; i++) {
      group[i] = BCON_NEW ("group", BCON_INT32 (i));
   }

   ck_assert (mongoc_collection_delete_one (f.coll, group[0], NULL, &reply, &error));
   const mwatch_captured_t *rec = one_ok (&f, "delete_one", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "DeletedCount"), 1);
   ck_assert_int_eq (reply_int (&reply, "deletedCount"), 1);
   ck_assert_int_eq (capture_int (rec, "Filter.group"), 0);
   ck_assert (!mwatch_message_has (rec->msg, "MatchedCount"));
   bson_destroy (&reply);

   int64_t in_group1 = truth (f.coll, group[1]);
   ck_assert (mongoc_collection_delete_many (f.coll, group[1], NULL, NULL, NULL));
   ck_assert_int_eq (capture_int (one_ok (&f, "delete_many", f.db, "items"), "DeletedCount"),
                     in_group1);

   int64_t in_group2 = truth (f.coll, group[2]);
   ck_assert (mongoc_collection_remove (f.coll, MONGOC_REMOVE_NONE, group[2], NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "remove", f.db, "items"), "DeletedCount"),
                     in_group2);

   ck_assert (
      mongoc_collection_delete (f.coll, MONGOC_DELETE_SINGLE_REMOVE, group[0], NULL, NULL));
   ck_assert_int_eq (capture_int (one_ok (&f, "delete", f.db, "items"), "DeletedCount"), 1);

   ck_assert_int_eq (truth (f.coll, NULL), 12 - 1 - in_group1 - in_group2 - 1);
   for (int i = 0; i < 3; i++) {
      bson_destroy (group[i]);
   }
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- find and modify */

START_TEST (test_find_and_modify)
{
   fixture_t f;
   fixture_start (&f, 6, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   bson_t *n2 = BCON_NEW ("n", BCON_INT32 (2));
   bson_t *set_y = BCON_NEW ("$set", "{", "y", BCON_INT32 (1), "}");

   /* The deprecated form runs the _with_opts one: one record. */
   ck_assert (mongoc_collection_find_and_modify (f.coll, n2, NULL, set_y, NULL, false, false, true,
                                                 &reply, &error));
   const mwatch_captured_t *rec = one_ok (&f, "find_and_modify", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 1);
   ck_assert_int_eq (capture_int (rec, "UpsertedCount"), 0);
   ck_assert_int_eq (capture_int (rec, "Filter.n"), 2);
   ck_assert_int_eq (capture_int (rec, "Update.$set.y"), 1);
   bson_iter_t iter;
   ck_assert (bson_iter_init (&iter, &reply) &&
              bson_iter_find_descendant (&iter, "value.y", &iter));
   bson_destroy (&reply);

   bson_t *absent = BCON_NEW ("n", BCON_INT32 (500));
   ck_assert (mongoc_collection_find_and_modify (f.coll, absent, NULL, set_y, NULL, false, true,
                                                 true, NULL, NULL));
   rec = one_ok (&f, "find_and_modify", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "UpsertedCount"), 1);
   ck_assert_int_eq (truth (f.coll, absent), 1);

   mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new ();
   mongoc_find_and_modify_opts_set_flags (opts, MONGOC_FIND_AND_MODIFY_REMOVE);
   bson_t *n3 = BCON_NEW ("n", BCON_INT32 (3));
   ck_assert (mongoc_collection_find_and_modify_with_opts (f.coll, n3, opts, NULL, NULL));
   rec = one_ok (&f, "find_and_modify", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 1);
   ck_assert (!mwatch_message_has (rec->msg, "Update"));
   ck_assert_int_eq (truth (f.coll, n3), 0);

   bson_t *nothing = BCON_NEW ("n", BCON_INT32 (9999));
   mongoc_find_and_modify_opts_set_flags (opts, MONGOC_FIND_AND_MODIFY_NONE);
   mongoc_find_and_modify_opts_set_update (opts, set_y);
   ck_assert (mongoc_collection_find_and_modify_with_opts (f.coll, nothing, opts, &reply, &error));
   rec = one_ok (&f, "find_and_modify", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 0);
   ck_assert_int_eq (capture_int (rec, "UpsertedCount"), 0);
   ck_assert_int_eq (capture_int (rec, "Update.$set.y"), 1);
   bson_destroy (&reply);

   mongoc_find_and_modify_opts_destroy (opts);
   bson_destroy (n2);
   bson_destroy (n3);
   bson_destroy (set_y);
   bson_destroy (absent);
   bson_destroy (nothing);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- records */

/* Without a queue at DEBUG: the first record before the call, without
 * counts, then the final one. */
START_TEST (test_first_then_final)
{
   fixture_t f;
   fixture_start (&f, 0, MWATCH_LEVEL_DEBUG, false);
   ck_assert (mwatch_context_set ("User", "ann"));
   insert_one_doc (f.coll);
   mwatch_context_clear ();
   ck_assert_uint_eq (capture_count (f.cap), 2);
   const mwatch_captured_t *first = capture_get (f.cap, 0);
   const mwatch_captured_t *final = capture_get (f.cap, 1);
   ck_assert_str_eq (first->logger, "mongowatch.collection");
   ck_assert_int_eq (first->level, MWATCH_LEVEL_DEBUG);
   ck_assert (!mwatch_message_is_ready (first->msg));
   ck_assert_int_eq (capture_int (first, "Iteration"), 0);
   ck_assert_str_eq (capture_str (first, "Operation"), "insert_one");
   ck_assert_str_eq (capture_str (first, "User"), "ann");
   ck_assert (!mwatch_message_has (first->msg, "InsertedCount"));
   ck_assert (!mwatch_message_has (first->msg, "EndTime"));
   ck_assert_int_eq (final->level, MWATCH_LEVEL_INFO);
   ck_assert (mwatch_message_is_ready (final->msg));
   ck_assert_int_eq (capture_int (final, "Iteration"), 1);
   ck_assert_str_eq (capture_str (final, "WatchID"), capture_str (first, "WatchID"));
   ck_assert_str_eq (capture_str (final, "User"), "ann");
   ck_assert_int_eq (capture_int (final, "InsertedCount"), 1);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- counts */

/* Through the queue at DEBUG: each count is one record (its final one
 * replaced its first in the queue) on the collection logger, and
 * count_documents' inner aggregate is no cursor record. */
START_TEST (test_counts)
{
   fixture_t f;
   fixture_start (&f, 10, MWATCH_LEVEL_DEBUG, true);
   bson_error_t error;
   bson_t *group1 = BCON_NEW ("group", BCON_INT32 (1));
   bson_t *group2 = BCON_NEW ("group", BCON_INT32 (2));
   int64_t in_group1 = truth (f.coll, group1);
   int64_t in_group2 = truth (f.coll, group2);

   ck_assert_int_eq (mongoc_collection_count_documents (f.coll, group1, NULL, NULL, NULL, &error),
                     in_group1);
   ck_assert_int_eq (mongoc_collection_estimated_document_count (f.coll, NULL, NULL, NULL, NULL),
                     10);
   ck_assert_int_eq (
      mongoc_collection_count (f.coll, MONGOC_QUERY_NONE, group2, 0, 0, NULL, &error), in_group2);
   ck_assert_int_eq (mongoc_collection_count_with_opts (f.coll, MONGOC_QUERY_NONE, NULL, 0, 0, NULL,
                                                        NULL, NULL),
                     10);
   capture_drain (f.cap);

   ck_assert_uint_eq (capture_count (f.cap), 4);
   for (size_t i = 0; i < 4; i++) {
      const mwatch_captured_t *rec = capture_get (f.cap, i);
      ck_assert_str_eq (rec->logger, "mongowatch.collection");
      ck_assert_str_eq (capture_str (rec, "DB"), f.db);
      ck_assert_int_eq (rec->level, MWATCH_LEVEL_INFO);
   }
   const mwatch_captured_t *rec = NULL;
   ck_assert_uint_eq (capture_finals (f.cap, NULL, NULL), 4);
   ck_assert_uint_eq (capture_finals (f.cap, "count_documents", &rec), 1);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), in_group1);
   ck_assert_int_eq (capture_int (rec, "Filter.group"), 1);
   ck_assert_uint_eq (capture_finals (f.cap, "estimated_document_count", &rec), 1);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 10);
   ck_assert (!mwatch_message_has (rec->msg, "Filter"));
   ck_assert_uint_eq (capture_finals (f.cap, "count", &rec), 2);
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), 10);

   bson_destroy (group1);
   bson_destroy (group2);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- bulk */

START_TEST (test_bulk)
{
   fixture_t f;
   fixture_start (&f, 9, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   bson_t *group0 = BCON_NEW ("group", BCON_INT32 (0));
   bson_t *group1 = BCON_NEW ("group", BCON_INT32 (1));
   bson_t *set_z = BCON_NEW ("$set", "{", "z", BCON_INT32 (1), "}");
   bson_t *absent = BCON_NEW ("n", BCON_INT32 (900));
   bson_t *n2 = BCON_NEW ("n", BCON_INT32 (2));
   bson_t *replacement = BCON_NEW ("n", BCON_INT32 (2), "r", BCON_INT32 (1));
   bson_t *upsert = BCON_NEW ("upsert", BCON_BOOL (true));
   bson_t *doc = BCON_NEW ("n", BCON_INT32 (50));
   int64_t in_group0 = truth (f.coll, group0);

   mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts (f.coll, NULL);
   mongoc_bulk_operation_insert (bulk, doc);
   mongoc_bulk_operation_insert (bulk, doc);
   ck_assert (mongoc_bulk_operation_update_many_with_opts (bulk, group0, set_z, NULL, &error));
   ck_assert (mongoc_bulk_operation_remove_one_with_opts (bulk, group1, NULL, &error));
   ck_assert (mongoc_bulk_operation_update_one_with_opts (bulk, absent, set_z, upsert, &error));
   ck_assert (mongoc_bulk_operation_replace_one_with_opts (bulk, n2, replacement, NULL, &error));
   ck_assert_uint_ne (mongoc_bulk_operation_execute (bulk, &reply, &error), 0);
   const mwatch_captured_t *rec = one_ok (&f, "bulk_write", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "InsertedCount"), 2);
   ck_assert_int_eq (capture_int (rec, "DeletedCount"), 1);
   assert_counts (rec, in_group0 + 1, in_group0 + 1, 1);
   ck_assert_int_eq (reply_int (&reply, "nInserted"), 2);
   bson_destroy (&reply);
   mongoc_bulk_operation_destroy (bulk);

   /* The deprecated creator, no reply, no error. */
   bulk = mongoc_collection_create_bulk_operation (f.coll, true, NULL);
   for (int i = 0; i < 3; i++) {
      mongoc_bulk_operation_insert (bulk, doc);
   }
   ck_assert_uint_ne (mongoc_bulk_operation_execute (bulk, NULL, NULL), 0);
   rec = one_ok (&f, "bulk_write", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "InsertedCount"), 3);
   assert_counts (rec, 0, 0, 0);
   mongoc_bulk_operation_destroy (bulk);

   /* Made bare, its names given by the setters. */
   bulk = mongoc_bulk_operation_new (true);
   mongoc_bulk_operation_set_client (bulk, f.client);
   mongoc_bulk_operation_set_collection (bulk, "items");
   mongoc_bulk_operation_set_database (bulk, f.db);
   mongoc_bulk_operation_insert (bulk, doc);
   ck_assert_uint_ne (mongoc_bulk_operation_execute (bulk, NULL, &error), 0);
   rec = one_ok (&f, "bulk_write", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "InsertedCount"), 1);
   mongoc_bulk_operation_destroy (bulk);
   ck_assert_int_eq (truth (f.coll, NULL), 9 + 2 - 1 + 1 + 3 + 1);

   bson_destroy (group0);
   bson_destroy (group1);
   bson_destroy (set_z);
   bson_destroy (absent);
   bson_destroy (n2);
   bson_destroy (replacement);
   bson_destroy (upsert);
   bson_destroy (doc);
   fixture_stop (&f);
}
END_TEST

Suite *
collection_suite (void)
{
   Suite *suite = suite_create ("collection");
   TCase *tc = tcase_create ("collection");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_inserts);
   tcase_add_test (tc, test_updates);
   tcase_add_test (tc, test_deletes);
   tcase_add_test (tc, test_find_and_modify);
   tcase_add_test (tc, test_first_then_final);
   tcase_add_test (tc, test_counts);
   tcase_add_test (tc, test_bulk);
   collection_admin_tests (tc);
   suite_add_tcase (suite, tc);
   return suite;
}
