/* A configuration file as a pymongowatch user writes it, against the real
 * server: handlers on pymongowatch's logger names, its queue handler
 * factory with a cfg:// backend, and Python's %- and $-style formats.
 * The records of real operations must reach the files those handlers
 * write, in the lines those formats describe. */
#include "integration/suites.h"
#include "test-util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[PATH_MAX];
static char all_path[PATH_MAX];
static char cursor_path[PATH_MAX];

static void
setup (void)
{
   bson_snprintf (dir, sizeof dir, "/tmp/mwatch-pymongowatch-integ-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (dir));
   bson_snprintf (all_path, sizeof all_path, "%s/all.log", dir);
   bson_snprintf (cursor_path, sizeof cursor_path, "%s/cursor.log", dir);
}

static void
teardown (void)
{
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();
   unlink (all_path);
   unlink (cursor_path);
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
                  /* Python's default style: no "style" key. */
                  "  pct:\n"
                  "    format: '%%(name)s %%(levelname)-8s|%%(watch.Operation)s "
                  "%%(watch.Collection)s'\n"
                  "  dol:\n"
                  "    format: '$name ${levelname} ${watch.Operation} $$'\n"
                  "    style: $\n"
                  "handlers:\n"
                  "  all_queue:\n"
                  "    (): ext://pymongo.watcher.setup_queue_handler\n"
                  "    backend: cfg://handlers.all\n"
                  "    enable_multiprocessing: true\n"
                  "    level: DEBUG\n"
                  "  all: {class: logging.FileHandler, filename: '%s', formatter: pct, level: INFO}\n"
                  "  cursor_queue:\n"
                  "    class: pymongo.watcher.logger.WatchQueue\n"
                  "    backend: cfg://handlers.cursor\n"
                  "  cursor: {class: logging.FileHandler, filename: '%s', formatter: dol}\n"
                  "loggers:\n"
                  "  pymongo.watcher: {level: DEBUG, handlers: [all_queue]}\n"
                  "  pymongo.watcher.cursor: {handlers: [cursor_queue]}\n",
                  all_path,
                  cursor_path);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
}

START_TEST (test_pymongowatch_config_on_real_operations)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_pymongowatch", db, sizeof db, 6);
   load_config ();
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);

   bson_t *filter = BCON_NEW ("group", BCON_INT32 (1));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *doc;
   while (mongoc_cursor_next (cursor, &doc)) {
   }
   ck_assert_msg (!mongoc_cursor_error (cursor, &error), "%s", error.message);
   mongoc_cursor_destroy (cursor);
   bson_t *one = BCON_NEW ("n", BCON_INT32 (100));
   ck_assert_msg (mongoc_collection_insert_one (coll, one, NULL, NULL, &error), "%s", error.message);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown (); /* every queue drained into its file */

   /* One final record per operation, at INFO, in the %-style line. */
   size_t len = 0;
   char *all = mwatch_test_slurp (all_path, &len);
   ck_assert_msg (all, "no %s", all_path);
   ck_assert_msg (strstr (all, "mongowatch.cursor INFO    |find items\n"), "%s", all);
   ck_assert_msg (strstr (all, "mongowatch.collection INFO    |insert_one items\n"), "%s", all);
   ck_assert_msg (!strstr (all, "%("), "%s", all);
   /* The cursor's handler, on pymongo.watcher.cursor, sees only finds. */
   char *cursor_log = mwatch_test_slurp (cursor_path, &len);
   ck_assert_msg (cursor_log, "no %s", cursor_path);
   ck_assert_str_eq (cursor_log, "mongowatch.cursor INFO find $\n");

   bson_free (all);
   bson_free (cursor_log);
   bson_destroy (filter);
   bson_destroy (one);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* Loads a file handler writing `format` to `path` at INFO, with the
 * watchers' global section `global` (NULL: none). */
static void
load_watch_file (const char *path, const char *format, const char *global)
{
   char text[1024];
   bson_snprintf (text,
                  sizeof text,
                  "version: 1\n"
                  "formatters: {w: {format: '%s'}}\n"
                  "handlers: {f: {class: logging.FileHandler, filename: '%s', formatter: w, level: INFO}}\n"
                  "loggers: {pymongo.watcher: {level: INFO, handlers: [f]}}\n"
                  "%s%s%s",
                  format,
                  path,
                  global ? "watchers:\n  global: " : "",
                  global ? global : "",
                  global ? "\n" : "");
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
}

static void
find_group (mongoc_collection_t *coll)
{
   bson_error_t error;
   bson_t *filter = BCON_NEW ("group", BCON_INT32 (1));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *doc;
   while (mongoc_cursor_next (cursor, &doc)) {
   }
   ck_assert_msg (!mongoc_cursor_error (cursor, &error), "%s", error.message);
   mongoc_cursor_destroy (cursor);
   bson_destroy (filter);
}

/* pymongowatch's WatchMessage.default_delimiter and
 * default_key_value_separator, set under watchers.global: {watch} and
 * {watch.full} of real operations use them; the next configuration,
 * without them, is back to " " and "=". */
START_TEST (test_pymongowatch_separators_on_real_operations)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_pymongowatch", db, sizeof db, 6);
   bson_error_t error;
   load_watch_file (all_path, "{watch}#{watch.full}", "{default_delimiter: \"|\", key_value_separator: \":\"}");
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
   find_group (coll);
   bson_t *one = BCON_NEW ("n", BCON_INT32 (100));
   ck_assert_msg (mongoc_collection_insert_one (coll, one, NULL, NULL, &error), "%s", error.message);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();

   size_t len = 0;
   char *all = mwatch_test_slurp (all_path, &len);
   ck_assert_msg (all, "no %s", all_path);
   char want[256];
   bson_snprintf (want, sizeof want, "|DB:%s|Collection:items|Operation:find|Filter:{\"group\":1}|Duration:", db);
   ck_assert_msg (strstr (all, want), "lacks %s:\n%s", want, all);
   bson_snprintf (want, sizeof want, "|DB:%s|Collection:items|Operation:insert_one|", db);
   ck_assert_msg (strstr (all, want), "lacks %s:\n%s", want, all);
   /* {watch.full}: every field, the WatchID first. */
   ck_assert_msg (strstr (all, "#WatchID:"), "%s", all);
   ck_assert_msg (!strstr (all, "="), "%s", all);
   bson_free (all);

   load_watch_file (cursor_path, "{watch}", NULL);
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
   find_group (coll);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();
   char *again = mwatch_test_slurp (cursor_path, &len);
   ck_assert_msg (again, "no %s", cursor_path);
   bson_snprintf (want, sizeof want, " DB=%s Collection=items Operation=find Filter={\"group\":1} Duration=", db);
   ck_assert_msg (strstr (again, want), "lacks %s:\n%s", want, again);
   bson_free (again);

   bson_destroy (one);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
config_pymongowatch_suite (void)
{
   Suite *s = suite_create ("config-pymongowatch");
   TCase *tc = tcase_create ("config-pymongowatch");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_pymongowatch_config_on_real_operations);
   tcase_add_test (tc, test_pymongowatch_separators_on_real_operations);
   suite_add_tcase (s, tc);
   return s;
}
