/* Proves the test server is real and good enough for what mongowatch
 * watches: plain libmongoc, no mongowatch involved.  Inserts, reads back in
 * several getMore batches (counted with the driver's own command
 * monitoring), and deletes. */
#include "integration/suites.h"
#include "test-util.h"

static int getmore_count;

static void
count_getmore (const mongoc_apm_command_started_t *event)
{
   if (strcmp (mongoc_apm_command_started_get_command_name (event), "getMore") == 0) {
      getmore_count++;
   }
}

static void
count_line (const char *line, size_t len, const mwatch_record_t *record, void *user_data)
{
   BSON_UNUSED (line);
   BSON_UNUSED (len);
   BSON_UNUSED (record);
   (*(int *) user_data)++;
}

/* This runner links -lmongowatch (before libmongoc) and has no mask: until
 * something calls mwatch_patch_mongoc(), nothing is watched and nothing is
 * logged, even with a handler attached. */
START_TEST (test_linking_alone_patches_nothing)
{
   ck_assert (!mwatch_is_patched ());
   int records = 0;
   mwatch_handler_t *counter = mwatch_handler_new_callback (count_line, &records, NULL);
   mwatch_logger_t *root = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (root, MWATCH_LEVEL_DEBUG);
   mwatch_logger_add_handler (root, counter);
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mongoc_client_get_collection (client, "mwtest_unpatched", "items");
   bson_t filter = BSON_INITIALIZER;
   bson_error_t error;
   ck_assert_int_ge (mongoc_collection_count_documents (coll, &filter, NULL, NULL, NULL, &error), 0);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mwatch_shutdown ();
   ck_assert_int_eq (records, 0);
   mwatch_handler_destroy (counter);
}
END_TEST

START_TEST (test_insert_find_batches_delete)
{
   char db_name[64];
   mwatch_test_unique_name ("mwtest_smoke", db_name, sizeof db_name);
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_apm_callbacks_t *callbacks = mongoc_apm_callbacks_new ();
   mongoc_apm_set_command_started_cb (callbacks, count_getmore);
   ck_assert (mongoc_client_set_apm_callbacks (client, callbacks, NULL));
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db_name, "things");
   bson_error_t error;

   /* 25 documents with n = 0..24 */
   bson_t *docs[25];
   for (int i = 0; i < 25; i++) {
      docs[i] = BCON_NEW ("n", BCON_INT32 (i), "name", BCON_UTF8 ("thing"));
   }
   bson_t reply;
   bool ok = mongoc_collection_insert_many (
      coll, (const bson_t **) docs, 25, NULL, &reply, &error);
   ck_assert_msg (ok, "insert_many: %s", error.message);
   bson_iter_t iter;
   ck_assert (bson_iter_init_find (&iter, &reply, "insertedCount"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 25);
   bson_destroy (&reply);
   for (int i = 0; i < 25; i++) {
      bson_destroy (docs[i]);
   }

   /* Read back with batchSize 2: the first batch and 12 getMores. */
   bson_t *filter = BCON_NEW ("n", "{", "$gte", BCON_INT32 (0), "}");
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (2), "sort", "{", "n", BCON_INT32 (1), "}");
   getmore_count = 0;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
   const bson_t *doc;
   int seen = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      ck_assert (bson_iter_init_find (&iter, doc, "n"));
      ck_assert_int_eq (bson_iter_int32 (&iter), seen);
      seen++;
   }
   ck_assert_msg (!mongoc_cursor_error (cursor, &error), "find: %s", error.message);
   ck_assert_int_eq (seen, 25);
   ck_assert_int_ge (getmore_count, 12);
   mongoc_cursor_destroy (cursor);
   bson_destroy (opts);

   /* Delete what we inserted. */
   ok = mongoc_collection_delete_many (coll, filter, NULL, &reply, &error);
   ck_assert_msg (ok, "delete_many: %s", error.message);
   ck_assert (bson_iter_init_find (&iter, &reply, "deletedCount"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 25);
   bson_destroy (&reply);
   int64_t left = mongoc_collection_count_documents (coll, filter, NULL, NULL, NULL, &error);
   ck_assert_int_eq (left, 0);
   bson_destroy (filter);

   mongoc_database_t *db = mongoc_client_get_database (client, db_name);
   ck_assert_msg (mongoc_database_drop (db, &error), "drop: %s", error.message);
   mongoc_database_destroy (db);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mongoc_apm_callbacks_destroy (callbacks);
}
END_TEST

Suite *
smoke_suite (void)
{
   Suite *suite = suite_create ("smoke");
   TCase *tc = tcase_create ("server");
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_linking_alone_patches_nothing);
   tcase_add_test (tc, test_insert_find_batches_delete);
   suite_add_tcase (suite, tc);
   return suite;
}
