/* pymongowatch's filters against the real server: the filters of its
 * sample configuration (etc/pymongowatch.yaml), with only the Python
 * ExecuteFilter written as mongowatch.filters.modify, change the records
 * written for real operations as they do in Python; and a modify filter
 * that copies a value out of a query, listed before the redact filter,
 * writes no secret in clear. */
#include "integration/suites.h"
#include "test-util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET "Zq7-pywatch-secret"

static char dir[PATH_MAX];

static void
setup (void)
{
   bson_snprintf (dir, sizeof dir, "/tmp/mwatch-pyfilters-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (dir));
}

static void
teardown (void)
{
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();
   mwatch_test_remove_tree (dir);
}

/* Loads `text` with every "@D" replaced by the test's directory. */
static void
load (const char *text)
{
   mwatch_buf_t expanded = MWATCH_BUF_INITIALIZER;
   for (const char *p = text; *p;) {
      if (strncmp (p, "@D", 2) == 0) {
         mwatch_buf_append_str (&expanded, dir);
         p += 2;
      } else {
         mwatch_buf_append (&expanded, p++, 1);
      }
   }
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (expanded.data, MWATCH_CONFIG_YAML, &error), "%s",
                  error.message);
   mwatch_buf_destroy (&expanded);
}

static char *
output (const char *name)
{
   char path[PATH_MAX];
   bson_snprintf (path, sizeof path, "%s/%s", dir, name);
   char *text = mwatch_test_slurp (path, NULL);
   return text ? text : bson_strdup ("");
}

static void
insert_one (mongoc_collection_t *coll, const char *name)
{
   bson_error_t error;
   bson_t *doc = BCON_NEW ("name", BCON_UTF8 (name));
   ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "%s", error.message);
   bson_destroy (doc);
}

static void
find_all (mongoc_collection_t *coll, const char *name)
{
   bson_t *filter = BCON_NEW ("name", BCON_UTF8 (name));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *doc;
   while (mongoc_cursor_next (cursor, &doc)) {
   }
   mongoc_cursor_destroy (cursor);
   bson_destroy (filter);
}

/* Counts the lines of `text` holding `needle`. */
static int
lines_with (const char *text, const char *needle)
{
   int n = 0;
   for (const char *line = text; *line;) {
      const char *end = strchr (line, '\n');
      size_t len = end ? (size_t) (end - line) : strlen (line);
      char *copy = bson_strndup (line, len);
      n += strstr (copy, needle) != NULL;
      bson_free (copy);
      line += len + (end != NULL);
   }
   return n;
}

/* Waits until the monotonic clock has moved `us` on. */
static void
wait_us (int64_t us)
{
   int64_t until = mwatch_monotonic_us () + us;
   while (mwatch_monotonic_us () < until) {
      struct timespec nap = {0, 10 * 1000 * 1000};
      nanosleep (&nap, NULL);
   }
}

/* The sample's slow, mask and insert-rate filters, by their pymongowatch
 * class names. */
START_TEST (test_sample_filters_on_real_operations)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *items = mwatch_test_seed (client, "mwtest_pyfilters", db, sizeof db, 2);
   mongoc_collection_t *pywatch = mongoc_client_get_collection (client, db, "pywatch");
   load ("version: 1\n"
         "formatters:\n"
         "  json: {format: '{watch.json}'}\n"
         "filters:\n"
         "  slow:\n"
         "    (): ext://pymongo.watcher.filters.ExpressionFilter\n"
         "    expression: |\n"
         "      Collection == \"pywatch\" and Duration > 0.00001\n"
         "  mask:\n"
         "    (): mongowatch.filters.modify\n"
         "    execute: |\n"
         "      Filter = mask(Filter)\n"
         "  file_insert_rate:\n"
         "    (): ext://pymongo.watcher.filters.RateFilter\n"
         "    output_rate_sec: 0.3\n"
         "    enable_multiprocessing: true\n"
         "    ignore_intermediates: true\n"
         "    attributes:\n"
         "      - InsertedCount\n"
         "handlers:\n"
         "  slow: {class: file, filename: '@D/slow.jsonl', formatter: json, filters: [slow, mask]}\n"
         "  rate: {class: file, filename: '@D/rate.jsonl', formatter: json,"
         " filters: [file_insert_rate]}\n"
         "loggers:\n"
         "  mongowatch: {level: INFO, handlers: [slow, rate]}\n");
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
   insert_one (pywatch, SECRET);
   insert_one (pywatch, SECRET);
   find_all (pywatch, SECRET);
   find_all (items, SECRET);
   /* The window is 0.3 s: the next insert closes it. */
   wait_us (400000);
   insert_one (pywatch, SECRET);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();

   char *slow = output ("slow.jsonl");
   /* pywatch only: two inserts (the third too), one find; masked */
   ck_assert_int_eq (lines_with (slow, "\"Collection\":\"pywatch\""), 4);
   ck_assert_int_eq (lines_with (slow, "\"Collection\":\"items\""), 0);
   ck_assert_int_eq (lines_with (slow, "\"Filter\":{\"name\":\"xxxxxxxxxxxxxxxxxx\"}"), 1);
   ck_assert_msg (!strstr (slow, SECRET), "%s", slow);
   bson_free (slow);

   char *rate = output ("rate.jsonl");
   /* the finds have no InsertedCount: they pass; of the inserts, only the
    * one closing the window, with the rate in InsertedCount; it counts in
    * the window it closes (extra_timeout_sec, 0 here, is on by default) */
   ck_assert_int_eq (lines_with (rate, "\"Operation\":\"find\""), 2);
   ck_assert_int_eq (lines_with (rate, "\"Operation\":\"insert_one\""), 1);
   ck_assert_int_eq (lines_with (rate, "/s\""), 1);
   ck_assert_int_eq (lines_with (rate, "\"InsertedCountSum\":3"), 1);
   bson_free (rate);
   mongoc_collection_destroy (pywatch);
   mwatch_test_drop (client, db, items);
   mongoc_client_destroy (client);
}
END_TEST

/* A value the modify filter copied out of the query is redacted by the
 * redact filter after it, as the query itself is; without redact it is
 * written (so the copy happened). */
START_TEST (test_modify_copy_stays_redacted)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *items = mwatch_test_seed (client, "mwtest_pymodify", db, sizeof db, 2);
   load ("version: 1\n"
         "formatters:\n"
         "  json: {format: '{watch.json}'}\n"
         "filters:\n"
         "  copy:\n"
         "    (): mongowatch.filters.modify\n"
         "    execute: |\n"
         "      Who = Filter.name\n"
         "      Again = Who\n"
         "  redact: {'()': mongowatch.filters.redact}\n"
         "handlers:\n"
         "  safe: {class: file, filename: '@D/safe.jsonl', formatter: json, filters: [copy, redact]}\n"
         "  clear: {class: file, filename: '@D/clear.jsonl', formatter: json, filters: [copy]}\n"
         "loggers:\n"
         "  mongowatch: {level: INFO, handlers: [safe, clear]}\n");
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
   find_all (items, SECRET);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();

   char *safe = output ("safe.jsonl");
   char *clear = output ("clear.jsonl");
   ck_assert_int_eq (lines_with (clear, "\"Who\":\"" SECRET "\",\"Again\":\"" SECRET "\""), 1);
   ck_assert_int_eq (lines_with (safe, "\"Who\":\"xxxxxxxxxxxxxxxxxx\",\"Again\":\"xxxxxxxxxxxxxxxxxx\""), 1);
   ck_assert_msg (!strstr (safe, SECRET), "%s", safe);
   bson_free (safe);
   bson_free (clear);
   mwatch_test_drop (client, db, items);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
pymongowatch_filters_suite (void)
{
   Suite *s = suite_create ("pymongowatch filters");
   TCase *tc = tcase_create ("pymongowatch filters");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_sample_filters_on_real_operations);
   tcase_add_test (tc, test_modify_copy_stays_redacted);
   suite_add_tcase (s, tc);
   return s;
}
