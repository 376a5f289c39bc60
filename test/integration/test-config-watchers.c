/* A configuration file's watchers section against the real server: the
 * records of real operations, written by the file handler the same file
 * configures, carry the levels, renames, drops and constant fields it
 * asks for. */
#include "integration/suites.h"
#include "test-util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* pymongowatch's examples name the deprecated count and remove: the test
 * calls them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static char dir[PATH_MAX];
static char log_path[PATH_MAX];

static void
setup (void)
{
   bson_snprintf (dir, sizeof dir, "/tmp/mwatch-config-integ-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (dir));
   bson_snprintf (log_path, sizeof log_path, "%s/watch.jsonl", dir);
}

static void
teardown (void)
{
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();
   for (int kind = 0; kind < 2; kind++) {
      mwatch_watcher_set_opts ((mwatch_watcher_kind_t) kind, NULL);
      mwatch_watcher_set_operation_maps ((mwatch_watcher_kind_t) kind, NULL, 0);
   }
   unlink (log_path);
   rmdir (dir);
}

static void
load_config (void)
{
   char text[2048];
   bson_snprintf (text,
                  sizeof text,
                  "version: 1\n"
                  "formatters:\n"
                  "  json: {format: '{name} {levelname} {watch.json}'}\n"
                  "handlers:\n"
                  "  file: {class: file, filename: '%s', formatter: json}\n"
                  "  queue: {class: queue, handler: file}\n"
                  "loggers:\n"
                  "  mongowatch: {level: INFO, handlers: [queue]}\n"
                  "watchers:\n"
                  "  global:\n"
                  "    operations:\n"
                  "      '*': {add: {Service: shop}}\n"
                  "  cursor:\n"
                  "    log_level: {final: WARNING}\n"
                  "    operations:\n"
                  "      find: {rename: {Filter: Query, MatchedCount: Documents, Collection: Coll},\n"
                  "             drop: [EndTime]}\n"
                  /* Listed after find, applied before it: "*" maps come first. */
                  "      '*': {add: {Service: shop}, rename: {Collection: Table}}\n"
                  "  collection:\n"
                  "    operations:\n"
                  "      delete_many: {add: {Destructive: true}}\n"
                  "      insert_one: {drop: [Duration]}\n",
                  log_path);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
}

/* The record of `operation` in the log: its logger and level words and
 * its fields as BSON (bson_destroy), or NULL. */
static bson_t *
find_record (const char *operation, char *logger, char *level)
{
   FILE *fp = fopen (log_path, "r");
   ck_assert_ptr_nonnull (fp);
   char line[8192];
   char want[128];
   bson_snprintf (want, sizeof want, "\"Operation\":\"%s\"", operation);
   bson_t *found = NULL;
   while (!found && fgets (line, sizeof line, fp)) {
      char *json = strchr (line, '{');
      if (!json || !strstr (json, want)) {
         continue;
      }
      ck_assert_int_eq (sscanf (line, "%63s %15s", logger, level), 2);
      bson_error_t error;
      found = bson_new_from_json ((const uint8_t *) json, (ssize_t) strcspn (json, "\n"), &error);
      ck_assert_msg (found, "%s: %s", error.message, json);
   }
   fclose (fp);
   return found;
}

static const char *
utf8_field (const bson_t *doc, const char *key)
{
   bson_iter_t iter;
   ck_assert_msg (bson_iter_init_find (&iter, doc, key) && BSON_ITER_HOLDS_UTF8 (&iter),
                  "no string %s",
                  key);
   return bson_iter_utf8 (&iter, NULL);
}

static bool
has_field (const bson_t *doc, const char *key)
{
   return bson_has_field (doc, key);
}

START_TEST (test_config_maps_real_operations)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_config", db, sizeof db, 12);
   load_config ();
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);

   bson_t *filter = BCON_NEW ("group", BCON_INT32 (1));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *doc;
   int seen = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      seen++;
   }
   ck_assert_int_eq (seen, 4);
   mongoc_cursor_destroy (cursor);

   bson_t *one = BCON_NEW ("n", BCON_INT32 (100));
   ck_assert_msg (mongoc_collection_insert_one (coll, one, NULL, NULL, &error), "%s", error.message);
   ck_assert_msg (mongoc_collection_delete_many (coll, filter, NULL, NULL, &error), "%s", error.message);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown (); /* every record written */

   char logger[64], level[16];
   bson_t *find = find_record ("find", logger, level);
   ck_assert_ptr_nonnull (find);
   ck_assert_str_eq (logger, "mongowatch.cursor");
   ck_assert_str_eq (level, "WARNING"); /* the cursor's final level */
   ck_assert_str_eq (utf8_field (find, "DB"), db);
   ck_assert_str_eq (utf8_field (find, "Service"), "shop");
   ck_assert (has_field (find, "Query.group"));
   ck_assert (!has_field (find, "Filter"));
   ck_assert (has_field (find, "Documents"));
   ck_assert (!has_field (find, "MatchedCount"));
   ck_assert (!has_field (find, "EndTime"));
   ck_assert (has_field (find, "Duration"));
   ck_assert_str_eq (utf8_field (find, "Table"), "items");
   ck_assert (!has_field (find, "Coll"));
   ck_assert (!has_field (find, "Collection"));
   bson_iter_t iter;
   ck_assert (bson_iter_init_find (&iter, find, "Documents"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 4);

   bson_t *insert = find_record ("insert_one", logger, level);
   ck_assert_ptr_nonnull (insert);
   ck_assert_str_eq (logger, "mongowatch.collection");
   ck_assert_str_eq (level, "INFO");
   ck_assert_str_eq (utf8_field (insert, "Service"), "shop");
   ck_assert (!has_field (insert, "Duration"));
   ck_assert (!has_field (insert, "Destructive"));
   ck_assert (bson_iter_init_find (&iter, insert, "InsertedCount"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 1);

   bson_t *deleted = find_record ("delete_many", logger, level);
   ck_assert_ptr_nonnull (deleted);
   ck_assert (bson_iter_init_find (&iter, deleted, "Destructive"));
   ck_assert (BSON_ITER_HOLDS_BOOL (&iter) && bson_iter_bool (&iter));
   ck_assert (has_field (deleted, "Duration"));
   ck_assert (has_field (deleted, "Filter.group"));
   ck_assert (bson_iter_init_find (&iter, deleted, "DeletedCount"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 4);

   bson_destroy (find);
   bson_destroy (insert);
   bson_destroy (deleted);
   bson_destroy (filter);
   bson_destroy (one);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* pymongowatch's form of the watchers section (etc/pymongowatch.yaml's
 * count and remove examples, a result renamed, an argument left out, a
 * custom constant field, the csv header) against real operations. */
START_TEST (test_config_pymongowatch_watchers)
{
   char db[64];
   char csv_path[PATH_MAX];
   bson_snprintf (csv_path, sizeof csv_path, "%s/watch.csv", dir);
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_config", db, sizeof db, 12);
   char text[4096];
   bson_snprintf (text,
                  sizeof text,
                  "version: 1\n"
                  "formatters:\n"
                  "  json: {format: '{name} {levelname} {watch.json}'}\n"
                  "  csv: {format: '{name},{watch.csv}'}\n"
                  "handlers:\n"
                  "  file: {class: file, filename: '%s', formatter: json}\n"
                  "  csv_file: {class: file, filename: '%s', formatter: csv}\n"
                  "  queue: {class: queue, handler: file}\n"
                  "loggers:\n"
                  "  mongowatch: {level: INFO, handlers: [queue, csv_file]}\n"
                  "watchers:\n"
                  "  global:\n"
                  "    csv:\n"
                  "      - file: cfg://handlers.csv_file.filename\n"
                  "        add_headers_if_empty: 'WatcherName,{watch.csv}'\n"
                  "  collection:\n"
                  "    undefined_arguments: {to: null}\n"
                  "    operations:\n"
                  "      count:\n"
                  "        filter: {to: Filter}\n"
                  "        _result: {to: MatchedCount}\n"
                  "      remove:\n"
                  "        spec_or_id: {to: Filter}\n"
                  "        _result: {to: _deprecated_remove}\n"
                  "      count_documents:\n"
                  "        filter: {to: Query}\n"
                  "        _result: {to: Total, cast: builtins.len}\n"
                  "        app: {value: shop}\n"
                  "      delete_many:\n"
                  "        filter: {to: FilterKeys, cast: builtins.len}\n"
                  "        _result: {to: Removed}\n",
                  log_path,
                  csv_path);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);

   bson_t *group = BCON_NEW ("group", BCON_INT32 (1));
   bson_t *group2 = BCON_NEW ("group", BCON_INT32 (2));
   bson_t *group0 = BCON_NEW ("group", BCON_INT32 (0));
   ck_assert_int_eq (mongoc_collection_count (coll, MONGOC_QUERY_NONE, group, 0, 0, NULL, &error), 4);
   ck_assert_int_eq (mongoc_collection_count_documents (coll, group, NULL, NULL, NULL, &error), 4);
   ck_assert_msg (mongoc_collection_remove (coll, MONGOC_REMOVE_NONE, group, NULL, &error), "%s", error.message);
   ck_assert_msg (mongoc_collection_delete_many (coll, group2, NULL, NULL, &error), "%s", error.message);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();

   char logger[64], level[16];
   bson_iter_t iter;
   bson_t *count = find_record ("count", logger, level);
   ck_assert_ptr_nonnull (count);
   ck_assert (has_field (count, "Filter.group"));
   ck_assert (bson_iter_init_find (&iter, count, "MatchedCount"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 4);

   bson_t *documents = find_record ("count_documents", logger, level);
   ck_assert_ptr_nonnull (documents);
   ck_assert (has_field (documents, "Query.group"));
   ck_assert (!has_field (documents, "Filter"));
   ck_assert (!has_field (documents, "MatchedCount"));
   ck_assert (bson_iter_init_find (&iter, documents, "Total"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 4);
   ck_assert_str_eq (utf8_field (documents, "app"), "shop");

   bson_t *removed = find_record ("remove", logger, level);
   ck_assert_ptr_nonnull (removed);
   ck_assert (has_field (removed, "Filter.group"));
   ck_assert (!has_field (removed, "DeletedCount"));
   /* (This server's reply to the remove carries no count to rename.) */

   bson_t *deleted = find_record ("delete_many", logger, level);
   ck_assert_ptr_nonnull (deleted);
   ck_assert (!has_field (deleted, "Filter"));
   ck_assert (bson_iter_init_find (&iter, deleted, "FilterKeys"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 1);
   ck_assert (!has_field (deleted, "DeletedCount"));
   ck_assert (bson_iter_init_find (&iter, deleted, "Removed"));
   ck_assert_int_eq (bson_iter_as_int64 (&iter), 4);

   /* The CSV file: the header first, then one line per final record. */
   char *csv = mwatch_test_slurp (csv_path, NULL);
   ck_assert_ptr_nonnull (csv);
   mwatch_buf_t header = MWATCH_BUF_INITIALIZER;
   mwatch_buf_append (&header, "WatcherName,", 12);
   mwatch_render_csv_header (NULL, &header);
   mwatch_buf_append (&header, "\n", 1);
   ck_assert_msg (strncmp (csv, header.data, header.len) == 0, "%s", csv);
   ck_assert (strstr (csv + header.len, "mongowatch.collection,"));
   ck_assert_ptr_null (strstr (csv + header.len, "WatcherName"));
   mwatch_buf_destroy (&header);
   bson_free (csv);
   unlink (csv_path);

   bson_destroy (count);
   bson_destroy (documents);
   bson_destroy (removed);
   bson_destroy (deleted);
   bson_destroy (group);
   bson_destroy (group2);
   bson_destroy (group0);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
config_watchers_suite (void)
{
   Suite *s = suite_create ("config-watchers");
   TCase *tc = tcase_create ("config-watchers");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_config_maps_real_operations);
   tcase_add_test (tc, test_config_pymongowatch_watchers);
   suite_add_tcase (s, tc);
   return s;
}
