/* Configuration files: every schema element taking effect, YAML and JSON
 * giving the same configuration, every error with its file, line, column
 * and key path, loads that fail leaving the previous configuration in
 * force, reloads losing nothing, and an ext:// plugin.
 *
 * Each test works in a fresh directory; configurations name their files
 * with "@D", which stands for it.  Records are logged through the loggers
 * the watchers use, and read back from the files the handlers wrote after
 * mwatch_shutdown() has drained every queue. */
#include "../../lib/filter-private.h"
#include "../../lib/message-render-private.h"
#include "../../lib/suggest-private.h"
#include "test-util.h"
#include "unit/suites.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static char dir[PATH_MAX];

static void
setup (void)
{
   bson_snprintf (dir, sizeof dir, "/tmp/mwatch-config-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (dir));
}

static void
teardown (void)
{
   mwatch_shutdown ();
   _mwatch_render_set_separators (NULL, NULL);
   for (int kind = 0; kind < 2; kind++) {
      mwatch_watcher_set_opts ((mwatch_watcher_kind_t) kind, NULL);
      mwatch_watcher_set_operation_maps ((mwatch_watcher_kind_t) kind, NULL, 0);
   }
   unsetenv ("MWATCH_TEST_SECRET");
   unsetenv ("MONGOWATCH_SYSCONFDIR");
   unsetenv ("MONGOWATCH_CONFIG");
   mwatch_test_remove_tree (dir);
}

/* `text` with every "@D" replaced by the test's directory (bson_free). */
static char *
expand (const char *text)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   mwatch_buf_append_str (&out, "");
   for (const char *p = text; *p; p++) {
      if (p[0] == '@' && p[1] == 'D') {
         mwatch_buf_append_str (&out, dir);
         p++;
      } else {
         mwatch_buf_append (&out, p, 1);
      }
   }
   return out.data;
}

static void
path_in_dir (char *out, const char *name)
{
   bson_snprintf (out, PATH_MAX, "%s/%s", dir, name);
}

static bool
load (const char *text, mwatch_config_format_t format, bson_error_t *error)
{
   char *expanded = expand (text);
   bool ok = mwatch_config_load_string (expanded, format, error);
   bson_free (expanded);
   return ok;
}

static void
load_yaml (const char *text)
{
   bson_error_t error;
   ck_assert_msg (load (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
}

/* Writes `text` (expanded) to the file `name` in the directory; its path
 * goes to `path`. */
static void
write_file (const char *name, const char *text, char *path)
{
   path_in_dir (path, name);
   char *expanded = expand (text);
   FILE *fp = fopen (path, "w");
   ck_assert_ptr_nonnull (fp);
   fputs (expanded, fp);
   fclose (fp);
   bson_free (expanded);
}

/* The whole file `name` of the directory, "" when missing (bson_free). */
static char *
slurp (const char *name)
{
   char path[PATH_MAX];
   path_in_dir (path, name);
   char *text = mwatch_test_slurp (path, NULL);
   return text ? text : bson_strdup ("");
}

static size_t
count_lines (const char *name)
{
   char *text = slurp (name);
   size_t lines = 0;
   for (const char *p = text; *p; p++) {
      lines += *p == '\n';
   }
   bson_free (text);
   return lines;
}

static void
assert_file (const char *name, const char *want)
{
   char *got = slurp (name);
   ck_assert_str_eq (got, want);
   bson_free (got);
}

static void
assert_file_has (const char *name, const char *want)
{
   char *got = slurp (name);
   ck_assert_msg (strstr (got, want), "%s lacks \"%s\":\n%s", name, want, got);
   bson_free (got);
}

static void
assert_file_lacks (const char *name, const char *unwanted)
{
   char *got = slurp (name);
   ck_assert_msg (!strstr (got, unwanted), "%s has \"%s\":\n%s", name, unwanted, got);
   bson_free (got);
}

/* Logs a finished operation on `logger` at `level`. */
static void
log_op (const char *logger, int level, const char *collection, double duration)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("user", BCON_UTF8 ("alice"), "age", "{", "$gt", BCON_INT32 (30), "}");
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", collection);
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_double (msg, "Duration", duration);
   mwatch_message_set_ready (msg);
   mwatch_logger_log (mwatch_logger_get (logger), level, level, msg);
   mwatch_message_destroy (msg);
   bson_destroy (filter);
}

/* Logs `count` finished operations on collections "c0", "c1", ... */
static void
log_numbered (int count)
{
   for (int i = 0; i < count; i++) {
      char collection[16];
      bson_snprintf (collection, sizeof collection, "c%d", i);
      log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, collection, 1);
   }
}

/* The sample etc/mongowatch.EXT with its log directory moved into the
 * test's (bson_free). */
static char *
sample (const char *ext)
{
   char path[PATH_MAX];
   const char *source = getenv ("MWATCH_TEST_SOURCE_DIR");
   bson_snprintf (path, sizeof path, "%s/etc/mongowatch.%s", source ? source : ".", ext);
   char *text = mwatch_test_slurp (path, NULL);
   ck_assert_msg (text, "cannot open %s: run the tests from the source tree", path);
   /* "/var/log/mongowatch" becomes "@D", expanded when loaded. */
   mwatch_buf_t moved = MWATCH_BUF_INITIALIZER;
   const char *from = "/var/log/mongowatch";
   for (const char *p = text; *p;) {
      if (strncmp (p, from, strlen (from)) == 0) {
         mwatch_buf_append_str (&moved, "@D");
         p += strlen (from);
      } else {
         mwatch_buf_append (&moved, p++, 1);
      }
   }
   bson_free (text);
   return moved.data;
}

/* The directory of the example plugin: MWATCH_TEST_PLUGIN_DIR, else the
 * directory of the test runner (the Makefile builds both into
 * build/test). */
static void
plugin_path (char *out)
{
   const char *env = getenv ("MWATCH_TEST_PLUGIN_DIR");
   char self[PATH_MAX] = ".";
   if (!env) {
      ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
      self[n > 0 ? n : 1] = '\0';
      char *slash = strrchr (self, '/');
      if (slash) {
         *slash = '\0';
      }
      env = self;
   }
   bson_snprintf (out, PATH_MAX, "%s/libexample-filter.so", env);
   struct stat st;
   ck_assert_msg (stat (out, &st) == 0,
                  "%s is missing: build test/plugin/example-filter.c into it, or set "
                  "MWATCH_TEST_PLUGIN_DIR",
                  out);
}

/* The error of loading `text`, which must fail with `code`. */
static void
load_fails_with (const char *text, mwatch_config_format_t format, uint32_t code, bson_error_t *error)
{
   ck_assert_msg (!load (text, format, error), "loaded: %s", text);
   ck_assert_uint_eq (error->domain, MWATCH_ERROR_DOMAIN);
   ck_assert_msg (error->code == code, "code %u, not %u: %s", error->code, code, error->message);
}

/* The error of loading `text`, which must fail as an invalid
 * configuration. */
static void
load_fails (const char *text, mwatch_config_format_t format, bson_error_t *error)
{
   load_fails_with (text, format, MWATCH_ERROR_CONFIG, error);
}

/* Loading `text` fails with `code` and a message that holds `want`. */
static void
assert_error_code (const char *text, mwatch_config_format_t format, uint32_t code, const char *want)
{
   bson_error_t error;
   load_fails_with (text, format, code, &error);
   ck_assert_msg (strstr (error.message, want),
                  "error \"%s\" lacks \"%s\"; config:\n%s",
                  error.message,
                  want,
                  text);
}

static void
assert_error (const char *text, mwatch_config_format_t format, const char *want)
{
   assert_error_code (text, format, MWATCH_ERROR_CONFIG, want);
}

/* ------------------------------------------------------------------------
 * The sample configuration, in both formats
 * ------------------------------------------------------------------------ */

START_TEST (test_sample_yaml_and_json_agree)
{
   char yaml_path[PATH_MAX], json_path[PATH_MAX];
   char *yaml = sample ("yaml");
   char *json = sample ("json");
   write_file ("sample.yaml", yaml, yaml_path);
   write_file ("sample.json", json, json_path);

   mwatch_buf_t from_yaml = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t from_json = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   ck_assert_msg (mwatch_config_check_file (yaml_path, &from_yaml, &error), "%s", error.message);
   ck_assert_msg (mwatch_config_check_file (json_path, &from_json, &error), "%s", error.message);
   ck_assert_ptr_nonnull (from_yaml.data);
   ck_assert_str_eq (from_yaml.data, from_json.data);
   /* Every section of the sample is in the description. */
   ck_assert (strstr (from_yaml.data, "formatter slow: format"));
   ck_assert (strstr (from_yaml.data, "filter redact: mongowatch.filters.redact"));
   ck_assert (strstr (from_yaml.data, "handler csv_file: rotating_file"));
   ck_assert (strstr (from_yaml.data, "handler json_queue: queue"));
   ck_assert (strstr (from_yaml.data, "logger mongowatch: level INFO"));
   ck_assert (strstr (from_yaml.data, "watcher collection: timeout_sec 60"));
   ck_assert (strstr (from_yaml.data, "watcher cursor operation aggregate: rename [Filter -> Pipeline]"));
   /* A check writes no CSV header: the file is at most created. */
   assert_file ("watch.csv", "");

   mwatch_buf_destroy (&from_yaml);
   mwatch_buf_destroy (&from_json);
   bson_free (yaml);
   bson_free (json);
}
END_TEST

/* Loading the sample (in the format _i) writes what it promises: CSV with
 * its header, JSON lines and the slow-query log, all redacted, INFO and
 * up only. */
START_TEST (test_sample_takes_effect)
{
   const char *ext = _i == 0 ? "yaml" : "json";
   char path[PATH_MAX];
   char *text = sample (ext);
   char name[32];
   bson_snprintf (name, sizeof name, "sample.%s", ext);
   write_file (name, text, path);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_file (path, &error), "%s", error.message);

   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 2.5);
   log_op ("mongowatch.collection", MWATCH_LEVEL_INFO, "users", 0.01);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_DEBUG, "debugged", 9.0);
   mwatch_shutdown ();

   mwatch_buf_t header = MWATCH_BUF_INITIALIZER;
   mwatch_render_csv_header (NULL, &header);
   char *csv = slurp ("watch.csv");
   ck_assert_msg (strncmp (csv, header.data, header.len) == 0 && csv[header.len] == '\n',
                  "watch.csv does not start with the header:\n%s",
                  csv);
   bson_free (csv);
   mwatch_buf_destroy (&header);
   ck_assert_uint_eq (count_lines ("watch.csv"), 3);
   ck_assert_uint_eq (count_lines ("watch.jsonl"), 2);
   ck_assert_uint_eq (count_lines ("slow.log"), 1);
   assert_file_has ("watch.jsonl", "\"Collection\":\"news\"");
   assert_file_has ("watch.jsonl", "\"Collection\":\"users\"");
   assert_file_has ("slow.log", "shop.news find took 2.500s");
   const char *files[] = {"watch.csv", "watch.jsonl", "slow.log"};
   for (size_t i = 0; i < 3; i++) {
      assert_file_lacks (files[i], "alice");
      assert_file_lacks (files[i], "debugged");
   }
   assert_file_has ("watch.jsonl", "xxxxx"); /* alice's placeholder */
   bson_free (text);
}
END_TEST

/* ------------------------------------------------------------------------
 * Formatters, handlers, filters, loggers
 * ------------------------------------------------------------------------ */

START_TEST (test_formatter_format_and_datefmt)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  brief:\n"
              "    format: '{asctime}|{levelname}|{name}|{watch.Collection}|{watch.Duration:.2f}'\n"
              "    datefmt: 'Y=%Y'\n"
              "handlers:\n"
              "  out: {class: file, filename: '@D/out.log', formatter: brief}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [out]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1.25);
   mwatch_shutdown ();
   char want[128];
   time_t now = time (NULL);
   struct tm tm;
   localtime_r (&now, &tm);
   bson_snprintf (want, sizeof want, "Y=%d|INFO|mongowatch.cursor|news|1.25\n", tm.tm_year + 1900);
   assert_file ("out.log", want);
}
END_TEST

START_TEST (test_formatter_default_when_unnamed)
{
   load_yaml ("version: 1\n"
              "handlers:\n"
              "  out: {class: file, filename: '@D/out.log'}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [out]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1.25);
   mwatch_shutdown ();
   /* "{asctime} {name} - {watch}" */
   assert_file_has ("out.log", " mongowatch.cursor - DB=shop Collection=news Operation=find");
}
END_TEST

START_TEST (test_handler_level_and_filters)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{levelname} {watch.Collection}'}\n"
              "filters:\n"
              "  news_only: {'()': mongowatch.filters.expression, expression: 'Collection == \"news\"'}\n"
              "  by_name: {'()': logging.Filter, name: mongowatch.cursor}\n"
              "handlers:\n"
              "  warn: {class: file, filename: '@D/warn.log', level: WARNING, formatter: c}\n"
              "  news: {class: file, filename: '@D/news.log', formatter: c, filters: [news_only]}\n"
              "  cursor: {class: file, filename: '@D/cursor.log', formatter: c, filters: [by_name]}\n"
              "loggers:\n"
              "  mongowatch: {level: 10, handlers: [warn, news, cursor]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   log_op ("mongowatch.collection", MWATCH_LEVEL_WARNING, "users", 1);
   log_op ("mongowatch.collection", MWATCH_LEVEL_DEBUG, "news", 1);
   mwatch_shutdown ();
   assert_file ("warn.log", "WARNING users\n");
   assert_file ("news.log", "INFO news\nDEBUG news\n");
   assert_file ("cursor.log", "INFO news\n");
}
END_TEST

static int64_t rate_now;

static int64_t
rate_clock (void)
{
   return rate_now;
}

/* The rate filter's ignore_intermediates key: false counts an operation's
 * intermediate record too (2 records in the window, not 1). */
START_TEST (test_rate_ignore_intermediates_key)
{
   _mwatch_filter_rate_set_clock (rate_clock);
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.RateRecords}'}\n"
              "filters:\n"
              "  r: {'()': mongowatch.filters.rate, output_rate_sec: 10, ignore_intermediates: false}\n"
              "handlers:\n"
              "  h: {class: file, filename: '@D/rate.log', formatter: c, filters: [r]}\n"
              "loggers:\n"
              "  mongowatch: {level: DEBUG, handlers: [h]}\n");
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch.cursor");
   mwatch_message_t *running = mwatch_message_new ();
   rate_now = 0;
   mwatch_logger_log (logger, MWATCH_LEVEL_DEBUG, MWATCH_LEVEL_DEBUG, running);
   mwatch_message_destroy (running);
   rate_now = 1000000;
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "c", 1);
   rate_now = 20000000;
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "c", 1);
   mwatch_shutdown ();
   _mwatch_filter_rate_set_clock (NULL);
   assert_file ("rate.log", "2\n");
}
END_TEST

/* pymongowatch's filter classes, as its sample configuration writes them
 * (with "()" and ext://, or "class"), load and filter as in Python; the
 * sample's ExecuteFilter uses are written as mongowatch.filters.modify. */
START_TEST (test_pymongowatch_filter_classes)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection} {watch.Filter} {watch.Duration}'}\n"
              "filters:\n"
              "  slow:\n"
              "    (): ext://pymongo.watcher.filters.ExpressionFilter\n"
              "    expression: |\n"
              "      Collection == \"pywatch\" and Duration > 0.00001\n"
              "  slow_or_error:\n"
              "    class: pymongo.watcher.filters.ExpressionFilter\n"
              "    expression: Missing > 1\n"
              "    exception_result: true\n"
              "  mask:\n"
              "    (): mongowatch.filters.modify\n"
              "    execute: |\n"
              "      Filter = mask(Filter)\n"
              "handlers:\n"
              "  h: {class: file, filename: '@D/slow.log', formatter: c, filters: [slow, mask]}\n"
              "  e: {class: file, filename: '@D/error.log', formatter: c, filters: [slow_or_error]}\n"
              "loggers:\n"
              "  mongowatch: {level: DEBUG, handlers: [h, e]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "pywatch", 0.5);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "other", 0.5);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "pywatch", 0.000001);
   mwatch_shutdown ();
   assert_file ("slow.log", "pywatch {\"user\":\"xxxxx\",\"age\":{\"$gt\":0}} 0.5\n");
   /* Missing > 1 raises: exception_result true keeps every record */
   ck_assert_uint_eq (count_lines ("error.log"), 3);
}
END_TEST

/* The RateFilter of pymongowatch's sample: attributes, the rate into the
 * field with suffix "/s", enable_multiprocessing accepted; records without
 * the attribute pass. */
START_TEST (test_pymongowatch_rate_filter)
{
   _mwatch_filter_rate_set_clock (rate_clock);
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection} {watch.InsertedCount}'}\n"
              "filters:\n"
              "  file_insert_rate:\n"
              "    (): ext://pymongo.watcher.filters.RateFilter\n"
              "    output_rate_sec: 10\n"
              "    enable_multiprocessing: true\n"
              "    ignore_intermediates: true\n"
              "    attributes:\n"
              "      - InsertedCount\n"
              "handlers:\n"
              "  h: {class: file, filename: '@D/rate.log', formatter: c, filters: [file_insert_rate]}\n"
              "loggers:\n"
              "  mongowatch: {level: DEBUG, handlers: [h]}\n");
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch.collection");
   for (int i = 0; i < 3; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      mwatch_message_set_utf8 (msg, "Collection", "c");
      mwatch_message_set_int64 (msg, "InsertedCount", 50);
      mwatch_message_set_ready (msg);
      rate_now = i * 5000000; /* 0 s, 5 s, 10 s */
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
   }
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "find", 1);
   mwatch_shutdown ();
   _mwatch_filter_rate_set_clock (NULL);
   /* The record at 10 s closes the window and counts in it (extra_timeout_sec
    * 5 by default): 150 in 10 s. */
   assert_file ("rate.log", "c 15/s\nfind \n");
}
END_TEST

/* Logs a finished insert of `inserted` documents on mongowatch.collection. */
static void
log_insert (int64_t inserted)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "Collection", "c");
   mwatch_message_set_int64 (msg, "InsertedCount", inserted);
   mwatch_message_set_ready (msg);
   mwatch_logger_log (mwatch_logger_get ("mongowatch.collection"), MWATCH_LEVEL_INFO,
                      MWATCH_LEVEL_INFO, msg);
   mwatch_message_destroy (msg);
}

/* extra_timeout_sec: on a queue handler, a window that no record closes
 * is written output_rate_sec + extra_timeout_sec after it began, by the
 * listener, with no record coming and before shutdown. */
START_TEST (test_rate_extra_timeout_reports_last_window)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection} {watch.InsertedCount} {watch.RateRecords}'}\n"
              "filters:\n"
              "  r: {'()': ext://pymongo.watcher.filters.RateFilter, attributes: [InsertedCount],\n"
              "      output_rate_sec: 0.2, extra_timeout_sec: 0.1}\n"
              "handlers:\n"
              "  f: {class: file, filename: '@D/rate.log', formatter: c}\n"
              "  q: {class: queue, handler: f, filters: [r]}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [q]}\n");
   log_insert (1);
   log_insert (1);
   /* Awaited, within a bound ten times the 0.3 s it takes (and below
    * Check's 4 s timeout, so that a miss fails with its message). */
   int64_t give_up = mwatch_monotonic_us () + 3 * 1000 * 1000;
   size_t lines = 0;
   while ((lines = count_lines ("rate.log")) == 0 && mwatch_monotonic_us () < give_up) {
      struct timespec nap = {0, 10 * 1000 * 1000};
      nanosleep (&nap, NULL);
   }
   ck_assert_msg (lines == 1, "the window was not written within 3 s");
   /* 2 in the window, counted as output_rate_sec long: 10/s */
   assert_file ("rate.log", "c 10/s 2\n");
   mwatch_shutdown ();
   assert_file ("rate.log", "c 10/s 2\n");
}
END_TEST

/* At shutdown the window going on is written, by a queue handler's
 * listener and by a plain handler's close (pymongowatch's RateFilter has
 * extra_timeout_sec by default); mongowatch's rate filter without
 * extra_timeout_sec keeps its old way: the window no record closes is not
 * reported. */
START_TEST (test_rate_pending_window_written_at_shutdown)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.InsertedCount} {watch.RateRecords}'}\n"
              "filters:\n"
              "  r1: {'()': ext://pymongo.watcher.filters.RateFilter, attributes: [InsertedCount]}\n"
              "  r2: {'()': ext://pymongo.watcher.filters.RateFilter, attributes: [InsertedCount]}\n"
              "  r3: {'()': mongowatch.filters.rate, output_rate_sec: 60, fields: [InsertedCount]}\n"
              "handlers:\n"
              "  f: {class: file, filename: '@D/queued.log', formatter: c}\n"
              "  q: {class: queue, handler: f, filters: [r1]}\n"
              "  p: {class: file, filename: '@D/plain.log', formatter: c, filters: [r2]}\n"
              "  m: {class: file, filename: '@D/own.log', formatter: c, filters: [r3]}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [q, p, m]}\n");
   log_insert (60);
   log_insert (60);
   assert_file ("plain.log", "");
   mwatch_shutdown ();
   /* 120 in a window of output_rate_sec (60 s by default): 2/s */
   assert_file ("queued.log", "2/s 2\n");
   assert_file ("plain.log", "2/s 2\n");
   assert_file ("own.log", "");
}
END_TEST

/* A forked child does not write its parent's window going on: the parent
 * does, once. */
START_TEST (test_rate_pending_window_not_written_by_child)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.InsertedCount} {watch.RateRecords}'}\n"
              "filters:\n"
              "  r: {'()': ext://pymongo.watcher.filters.RateFilter, attributes: [InsertedCount]}\n"
              "handlers:\n"
              "  p: {class: file, filename: '@D/plain.log', formatter: c, filters: [r]}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [p]}\n");
   log_insert (60);
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      mwatch_shutdown ();
      _exit (0);
   }
   int status;
   ck_assert_int_eq (waitpid (pid, &status, 0), pid);
   ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
   mwatch_shutdown ();
   assert_file ("plain.log", "1/s 1\n");
}
END_TEST

/* On a logger nothing writes the window going on: the filter says so
 * when it goes, with the number of records it held. */
START_TEST (test_rate_pending_window_on_logger_reported)
{
   char path[PATH_MAX];
   path_in_dir (path, "stderr.txt");
   fflush (stderr);
   int saved = dup (STDERR_FILENO);
   FILE *capture = fopen (path, "w");
   ck_assert_ptr_nonnull (capture);
   dup2 (fileno (capture), STDERR_FILENO);
   load_yaml ("version: 1\n"
              "filters:\n"
              "  r: {'()': ext://pymongo.watcher.filters.RateFilter, attributes: [InsertedCount]}\n"
              "handlers:\n"
              "  n: {class: null}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [n]}\n"
              "  mongowatch.collection: {filters: [r]}\n");
   log_insert (60);
   log_insert (60);
   mwatch_shutdown ();
   fflush (stderr);
   dup2 (saved, STDERR_FILENO);
   close (saved);
   fclose (capture);
   assert_file_has ("stderr.txt", "rate filter: the window going on (2 records) was not written");
}
END_TEST

/* The fields a modify filter sets and the rates of a RateFilter's
 * attributes are fields the configuration names: a template may show
 * them. */
START_TEST (test_modify_and_attributes_fields_known)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Slow} {watch.Table} {watch.InsertedCountRate}'}\n"
              "filters:\n"
              "  m:\n"
              "    (): mongowatch.filters.modify\n"
              "    execute: |\n"
              "      Slow = Duration > 10; Table = Collection\n"
              "  r: {'()': ext://pymongo.watcher.filters.RateFilter, attributes: [InsertedCount]}\n");
   assert_error ("version: 1\n"
                 "formatters:\n"
                 "  c: {format: '{watch.Slower}'}\n"
                 "filters:\n"
                 "  m: {'()': mongowatch.filters.modify, execute: 'Slow = Duration > 10'}\n",
                 MWATCH_CONFIG_YAML,
                 "unknown field \"watch.Slower\"");
}
END_TEST

/* The sample's fix_deprecated_remove_results, left as an ExecuteFilter:
 * its one line is within the modify filter's statements. */
START_TEST (test_pymongowatch_execute_filter_within_modify)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection} {watch.DeletedCount}'}\n"
              "filters:\n"
              "  fix_deprecated_remove_results:\n"
              "    (): ext://pymongo.watcher.filters.ExecuteFilter\n"
              "    execute: |\n"
              "      DeletedCount = _deprecated_remove[\"n\"]\n"
              "handlers:\n"
              "  h: {class: file, filename: '@D/fix.log', formatter: c,"
              " filters: [fix_deprecated_remove_results]}\n"
              "loggers:\n"
              "  mongowatch: {level: DEBUG, handlers: [h]}\n");
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *reply = BCON_NEW ("n", BCON_INT32 (4), "ok", BCON_DOUBLE (1));
   mwatch_message_set_utf8 (msg, "Collection", "removed");
   mwatch_message_set_document (msg, "_deprecated_remove", reply);
   mwatch_message_set_ready (msg);
   mwatch_logger_log (mwatch_logger_get ("mongowatch.collection"), MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
   mwatch_message_destroy (msg);
   bson_destroy (reply);
   /* without _deprecated_remove: unchanged, kept (exception_result true) */
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "found", 1);
   mwatch_shutdown ();
   assert_file ("fix.log", "removed 4\nfound \n");
}
END_TEST

START_TEST (test_logger_level_propagate_filters)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{name} {watch.Collection}'}\n"
              "filters:\n"
              "  not_audit: {'()': mongowatch.filters.expression, expression: 'Collection != \"audit\"'}\n"
              "handlers:\n"
              "  cursor: {class: file, filename: '@D/cursor.log', formatter: c}\n"
              "  all: {class: file, filename: '@D/all.log', formatter: c}\n"
              "  top: {class: file, filename: '@D/root.log', formatter: c}\n"
              "loggers:\n"
              "  mongowatch.cursor: {level: DEBUG, handlers: [cursor], propagate: false}\n"
              "  mongowatch.collection: {filters: [not_audit]}\n"
              "  mongowatch: {level: INFO, handlers: [all]}\n"
              "root: {level: ERROR, handlers: [top]}\n");
   ck_assert_int_eq (mwatch_logger_get_level (mwatch_logger_get ("mongowatch.cursor")),
                     MWATCH_LEVEL_DEBUG);
   ck_assert_int_eq (mwatch_logger_effective_level (mwatch_logger_get ("mongowatch.collection")),
                     MWATCH_LEVEL_INFO);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_DEBUG, "c1", 1);      /* cursor only */
   log_op ("mongowatch.collection", MWATCH_LEVEL_DEBUG, "c2", 1);  /* below INFO */
   log_op ("mongowatch.collection", MWATCH_LEVEL_INFO, "c3", 1);   /* all, root */
   log_op ("mongowatch.collection", MWATCH_LEVEL_INFO, "audit", 1); /* filtered */
   mwatch_shutdown ();
   assert_file ("cursor.log", "mongowatch.cursor c1\n");
   assert_file ("all.log", "mongowatch.collection c3\n");
   /* Handlers of ancestors see propagated records whatever the ancestors'
    * own levels, as in Python. */
   assert_file ("root.log", "mongowatch.collection c3\n");
}
END_TEST

START_TEST (test_disable_existing_loggers)
{
   static const char *config = "version: 1\n"
                               "disable_existing_loggers: %s\n"
                               "formatters:\n"
                               "  c: {format: '{name}'}\n"
                               "handlers:\n"
                               "  top: {class: file, filename: '@D/root.log', formatter: c}\n"
                               "loggers:\n"
                               "  app: {level: INFO}\n"
                               "root: {level: INFO, handlers: [top]}\n";
   char text[1024];
   mwatch_logger_get ("legacy.module"); /* exists before the configuration */
   mwatch_logger_get ("app.db");
   bson_snprintf (text, sizeof text, config, "false");
   load_yaml (text);
   log_op ("legacy.module", MWATCH_LEVEL_INFO, "x", 1);
   log_op ("app.db", MWATCH_LEVEL_INFO, "x", 1);
   mwatch_shutdown ();
   assert_file ("root.log", "legacy.module\napp.db\n");

   bson_snprintf (text, sizeof text, config, "true");
   load_yaml (text);
   log_op ("legacy.module", MWATCH_LEVEL_INFO, "x", 1); /* disabled */
   log_op ("app.db", MWATCH_LEVEL_INFO, "x", 1);        /* below a named logger: kept */
   mwatch_shutdown ();
   assert_file ("root.log", "legacy.module\napp.db\napp.db\n");
}
END_TEST

START_TEST (test_rotating_file_handler)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection} 0123456789012345678901234567890123456789'}\n"
              "handlers:\n"
              "  r:\n"
              "    class: logging.handlers.RotatingFileHandler\n"
              "    filename: '@D/r.log'\n"
              "    maxBytes: 200\n"
              "    backupCount: 2\n"
              "    formatter: c\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [r]}\n");
   log_numbered (20);
   mwatch_shutdown ();
   struct stat st;
   char path[PATH_MAX];
   path_in_dir (path, "r.log");
   ck_assert_int_eq (stat (path, &st), 0);
   ck_assert_int_le (st.st_size, 200);
   path_in_dir (path, "r.log.2");
   ck_assert_int_eq (stat (path, &st), 0);
   path_in_dir (path, "r.log.3");
   ck_assert_int_ne (stat (path, &st), 0);
   assert_file_has ("r.log", "c19 ");
   assert_file_lacks ("r.log", "c0 ");
}
END_TEST

/* Python's TimedRotatingFileHandler with its own keys: a file last
 * written 10 s ago with when: S is rolled over at the first record into
 * r.log.SUFFIX, SUFFIX that second in UTC. */
START_TEST (test_timed_rotating_file_handler)
{
   char path[PATH_MAX], suffix[32];
   write_file ("r.log", "old\n", path);
   struct timeval times[2];
   gettimeofday (&times[0], NULL);
   times[0].tv_sec -= 10;
   times[1] = times[0];
   ck_assert_int_eq (utimes (path, times), 0);
   struct tm tm;
   gmtime_r (&times[0].tv_sec, &tm);
   strftime (suffix, sizeof suffix, "r.log.%Y-%m-%d_%H-%M-%S", &tm);

   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection}'}\n"
              "handlers:\n"
              "  r:\n"
              "    class: logging.handlers.TimedRotatingFileHandler\n"
              "    filename: '@D/r.log'\n"
              "    when: s\n"
              "    interval: 1\n"
              "    backupCount: 3\n"
              "    utc: true\n"
              "    atTime: '02:30'\n"
              "    delay: true\n"
              "    encoding: utf-8\n"
              "    formatter: c\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [r]}\n");
   log_numbered (1);
   mwatch_shutdown ();
   assert_file (suffix, "old\n");
   assert_file ("r.log", "c0\n");
}
END_TEST

START_TEST (test_timed_rotating_file_errors)
{
   static const char *const head = "version: 1\n"
                                   "handlers:\n"
                                   "  r: {class: timed_rotating_file, filename: '@D/r.log', ";
   static const struct {
      const char *keys;
      const char *want;
   } cases[] = {
      {"when: W7}\n", "handlers.r.when: unknown rollover \"when\": \"W7\""},
      {"when: hourly}\n", "use S, M, H, D, midnight or W0"},
      {"interval: 0}\n", "handlers.r.interval"},
      {"atTime: '24:00'}\n", "handlers.r.atTime: \"24:00\" is not a time of day"},
      {"atTime: noon}\n", "use \"HH:MM\" or \"HH:MM:SS\""},
      {"mode: a}\n", "mode"},
      {"maxBytes: 10}\n", "maxBytes"},
      {"encoding: latin-1}\n", "UTF-8 only"},
   };
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      char text[300];
      bson_snprintf (text, sizeof text, "%s%s", head, cases[i].keys);
      assert_error (text, MWATCH_CONFIG_YAML, cases[i].want);
   }
}
END_TEST

/* Python's WatchedFileHandler is the file handler, which opens its path
 * again when the file was moved (logrotate without copytruncate) or
 * removed. */
START_TEST (test_watched_file_handler)
{
   char path[PATH_MAX], moved[PATH_MAX];
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection}'}\n"
              "handlers:\n"
              "  w: {class: logging.handlers.WatchedFileHandler, filename: '@D/w.log',\n"
              "      mode: a, encoding: utf-8, delay: false, formatter: c}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [w]}\n");
   path_in_dir (path, "w.log");
   path_in_dir (moved, "w.log.1");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "first", 1);
   ck_assert_int_eq (rename (path, moved), 0);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "second", 1);
   ck_assert_int_eq (unlink (path), 0);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "third", 1);
   mwatch_shutdown ();
   assert_file ("w.log.1", "first\n");
   assert_file ("w.log", "third\n");
}
END_TEST

START_TEST (test_csv_header_only_when_empty)
{
   static const char *config = "version: 1\n"
                               "formatters:\n"
                               "  csv: {format: '{watch.csv}'}\n"
                               "handlers:\n"
                               "  f: {class: file, filename: '@D/w.csv', formatter: csv,\n"
                               "      add_headers_if_empty: true}\n"
                               "loggers:\n"
                               "  mongowatch: {level: INFO, handlers: [f]}\n";
   load_yaml (config);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   mwatch_shutdown ();
   load_yaml (config); /* the file is not empty now: no second header */
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   mwatch_shutdown ();
   mwatch_buf_t header = MWATCH_BUF_INITIALIZER;
   mwatch_render_csv_header (NULL, &header);
   char *csv = slurp ("w.csv");
   ck_assert_uint_eq (count_lines ("w.csv"), 3);
   ck_assert (strncmp (csv, header.data, header.len) == 0);
   ck_assert_ptr_null (strstr (csv + header.len, header.data));
   bson_free (csv);
   mwatch_buf_destroy (&header);
}
END_TEST

/* The header is the formatter's: its template's fields and literal text,
 * and the formatter's columns, so that it has every cell a line has. */
START_TEST (test_csv_header_from_formatter)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  csv: {format: '{name},{watch.csv}', columns: [WatchID, DB, Collection, Duration]}\n"
              "handlers:\n"
              "  f: {class: file, filename: '@D/w.csv', formatter: csv,\n"
              "      add_headers_if_empty: true}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [f]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   mwatch_shutdown ();
   char *csv = slurp ("w.csv");
   const char *header = "name,WatchID,DB,Collection,Duration,Extra\n";
   ck_assert_msg (strncmp (csv, header, strlen (header)) == 0, "%s", csv);
   const char *line = csv + strlen (header);
   ck_assert_msg (strncmp (line, "mongowatch.cursor,", 18) == 0, "%s", line);
   ck_assert_msg (strstr (line, ",shop,news,1.0,\"{\"\"Iteration\"\":0,\"\"StartTime\"\":"), "%s", line);
   ck_assert_uint_eq (count_lines ("w.csv"), 2);
   bson_free (csv);
}
END_TEST

/* csv_escape_newlines: a value with line breaks stays on one physical
 * line (\n, \r and \\ written as escapes), and Python's csv module reads
 * it back, the escapes undone, to the very value; without the option the
 * line is plain RFC 4180 and spans two physical lines. */
START_TEST (test_csv_escape_newlines)
{
   const char *value = "two\nlines\r\\x,\"q\"";
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  one: {format: '{watch.csv}', columns: [DB, Collection], csv_escape_newlines: true}\n"
              "  rfc: {format: '{watch.csv}', columns: [DB, Collection]}\n"
              "handlers:\n"
              "  f: {class: file, filename: '@D/one.csv', formatter: one}\n"
              "  g: {class: file, filename: '@D/rfc.csv', formatter: rfc}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [f, g]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, value, 1);
   mwatch_shutdown ();
   char *csv = slurp ("one.csv");
   const char *want = "shop,\"two\\nlines\\r\\\\x,\"\"q\"\"\",\"{";
   ck_assert_msg (strncmp (csv, want, strlen (want)) == 0, "%s", csv);
   bson_free (csv);
   ck_assert_uint_eq (count_lines ("one.csv"), 1);
   ck_assert_uint_eq (count_lines ("rfc.csv"), 2);

   char path[PATH_MAX], command[PATH_MAX + 512];
   path_in_dir (path, "one.csv");
   bson_snprintf (command,
                  sizeof command,
                  "python3 -c 'import csv, re, sys\n"
                  "rows = list(csv.reader(open(sys.argv[1], newline=\"\")))\n"
                  "cell = re.sub(r\"\\\\(.)\", lambda m: {\"n\": \"\\n\", \"r\": \"\\r\"}.get(m[1], "
                  "m[1]), rows[0][1])\n"
                  "sys.exit(0 if len(rows) == 1 and cell == sys.argv[2] else 1)' '%s' "
                  "\"$(printf 'two\\nlines\\r\\\\x,\"q\"')\"",
                  path);
   ck_assert_int_eq (system (command), 0);
}
END_TEST

START_TEST (test_syslog_handler)
{
   char sock_path[PATH_MAX];
   path_in_dir (sock_path, "log");
   struct sockaddr_un addr = {.sun_family = AF_UNIX};
   ck_assert_uint_lt (strlen (sock_path), sizeof addr.sun_path);
   strcpy (addr.sun_path, sock_path);
   int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
   ck_assert_int_ge (fd, 0);
   ck_assert_int_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
   struct timeval tv = {.tv_sec = 10};
   setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: 'op {watch.Collection}'}\n"
              "handlers:\n"
              "  s: {class: syslog, address: '@D/log', facility: local3, ident: shopd,\n"
              "      formatter: c}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [s]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_WARNING, "news", 1);
   char datagram[512];
   ssize_t n = recv (fd, datagram, sizeof datagram - 1, 0);
   ck_assert_int_gt (n, 0);
   datagram[n] = '\0';
   /* local3 (19) * 8 + warning (4) */
   ck_assert_msg (strncmp (datagram, "<156>", 5) == 0, "%s", datagram);
   ck_assert_msg (strstr (datagram, "shopd"), "%s", datagram);
   ck_assert_msg (strstr (datagram, "op news"), "%s", datagram);
   mwatch_shutdown ();
   close (fd);
}
END_TEST

START_TEST (test_stream_and_null_handlers)
{
   char path[PATH_MAX];
   path_in_dir (path, "stderr.txt");
   fflush (stderr);
   int saved = dup (STDERR_FILENO);
   FILE *capture = fopen (path, "w");
   ck_assert_ptr_nonnull (capture);
   dup2 (fileno (capture), STDERR_FILENO);
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: 'seen {watch.Collection}'}\n"
              "handlers:\n"
              "  err: {class: logging.StreamHandler, stream: ext://sys.stderr, formatter: c}\n"
              "  nothing: {class: null}\n"
              "  nothing_either: {class: logging.NullHandler}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [err, nothing, nothing_either]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   mwatch_shutdown ();
   fflush (stderr);
   dup2 (saved, STDERR_FILENO);
   close (saved);
   fclose (capture);
   assert_file ("stderr.txt", "seen news\n");
}
END_TEST

START_TEST (test_queue_handler_options)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{watch.Collection}'}\n"
              "handlers:\n"
              "  f: {class: file, filename: '@D/q.log', formatter: c}\n"
              "  q:\n"
              "    class: mongowatch.handlers.QueueHandler\n"
              "    handler: f\n"
              "    default_delay_sec: 3600\n"
              "    force_default_delay: true\n"
              "    capacity: 2\n"
              "    overflow: drop_oldest\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [q]}\n");
   log_numbered (5);
   /* Delayed an hour: nothing is due yet. */
   assert_file ("q.log", "");
   mwatch_shutdown ();
   /* At shutdown the queue is drained; it held the newest two. */
   assert_file ("q.log", "c3\nc4\n");
}
END_TEST

START_TEST (test_cfg_references)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  plain: {format: '{watch.Collection}'}\n"
              "  copy: {format: 'cfg://formatters.plain.format'}\n"
              "handlers:\n"
              "  f: {class: file, filename: '@D/f.log', formatter: copy}\n"
              "  g: {class: file, filename: '@D/g.log', formatter: plain,\n"
              "      level: 'cfg://loggers[mongowatch.cursor].level'}\n"
              "loggers:\n"
              "  mongowatch.cursor: {level: WARNING}\n"
              "  mongowatch: {level: INFO, handlers: ['cfg://loggers.app.handlers[1]', g]}\n"
              "  app: {handlers: [g, f]}\n");
   log_op ("mongowatch.collection", MWATCH_LEVEL_INFO, "info", 1);
   log_op ("mongowatch.collection", MWATCH_LEVEL_WARNING, "warning", 1);
   mwatch_shutdown ();
   assert_file ("f.log", "info\nwarning\n");
   assert_file ("g.log", "warning\n");

   assert_error ("version: 1\n"
                 "handlers:\n"
                 "  f: {class: file, filename: 'cfg://handlers.g.filename'}\n"
                 "  g: {class: file, filename: 'cfg://handlers.f.filename'}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:3:30: handlers.f.filename: cfg:// references form a cycle");
   assert_error ("version: 1\n"
                 "handlers:\n"
                 "  f: {class: file, filename: 'cfg://handlers.nowhere.filename'}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:3:30: handlers.f.filename: cfg://handlers.nowhere.filename: no key "
                 "\"nowhere\" in handlers");
}
END_TEST

/* ------------------------------------------------------------------------
 * Plugins
 * ------------------------------------------------------------------------ */

START_TEST (test_plugin_filter_and_handler)
{
   char plugin[PATH_MAX];
   plugin_path (plugin);
   char text[4096];
   bson_snprintf (text,
                  sizeof text,
                  "version: 1\n"
                  "formatters:\n"
                  "  c: {format: '{watch.Collection}'}\n"
                  "filters:\n"
                  "  no_audit: {'()': 'ext://%s:example_filter_new', collection: audit}\n"
                  "handlers:\n"
                  "  mine: {class: 'ext://%s:example_handler_new', path: '@D/plugin.log',\n"
                  "         formatter: c, filters: [no_audit]}\n"
                  "loggers:\n"
                  "  mongowatch: {level: INFO, handlers: [mine]}\n",
                  plugin,
                  plugin);
   load_yaml (text);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "audit", 1);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   mwatch_shutdown ();
   assert_file ("plugin.log", "news\n");

   /* A factory's own error comes with the place and key. */
   bson_snprintf (text,
                  sizeof text,
                  "version: 1\n"
                  "filters:\n"
                  "  no_audit: {'()': 'ext://%s:example_filter_new'}\n",
                  plugin);
   assert_error (text, MWATCH_CONFIG_YAML, "<string>:3:");
   assert_error (text, MWATCH_CONFIG_YAML, "filters.no_audit");
   assert_error (text, MWATCH_CONFIG_YAML, "example_filter_new needs \"collection\"");

   bson_snprintf (text,
                  sizeof text,
                  "version: 1\n"
                  "filters:\n"
                  "  p: {'()': 'ext://%s:no_such_factory'}\n",
                  plugin);
   /* A plugin that cannot be used has an error code of its own. */
   assert_error_code (text, MWATCH_CONFIG_YAML, MWATCH_ERROR_PLUGIN, "filters.p.(): the plugin ");
   assert_error_code (text, MWATCH_CONFIG_YAML, MWATCH_ERROR_PLUGIN, "has no function no_such_factory");
   assert_error_code ("version: 1\n"
                      "filters:\n"
                      "  p: {'()': 'ext:///nonexistent/libnothing.so:f'}\n",
                      MWATCH_CONFIG_YAML,
                      MWATCH_ERROR_PLUGIN,
                      "<string>:3:13: filters.p.(): cannot load the plugin: /nonexistent/libnothing.so");
   assert_error ("version: 1\n"
                 "filters:\n"
                 "  p: {'()': 'ext:///no/symbol.so'}\n",
                 MWATCH_CONFIG_YAML,
                 "is not a plugin reference; write ext:///path/to/lib.so:factory_symbol");
}
END_TEST

/* ------------------------------------------------------------------------
 * pymongowatch's names
 * ------------------------------------------------------------------------ */

/* check-config's description of `text` has the lines `want1` and `want2`. */
static void
assert_described (const char *text, const char *want1, const char *want2)
{
   char path[PATH_MAX];
   write_file ("described.yaml", text, path);
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   ck_assert_msg (mwatch_config_check_file (path, &description, &error), "%s", error.message);
   ck_assert_msg (strstr (description.data, want1), "lacks %s:\n%s", want1, description.data);
   ck_assert_msg (strstr (description.data, want2), "lacks %s:\n%s", want2, description.data);
   mwatch_buf_destroy (&description);
}

/* pymongowatch's loggers stand for mongowatch's: a handler configured on
 * pymongo.watcher gets what mongowatch logs, and a level set on
 * pymongo.watcher.cursor is mongowatch.cursor's. */
START_TEST (test_pymongowatch_logger_names)
{
   const char *text = "version: 1\n"
                      "formatters:\n"
                      "  f: {format: '{name} {levelname} {watch.Collection}'}\n"
                      "handlers:\n"
                      "  all: {class: file, filename: '@D/all.log', formatter: f}\n"
                      "  cur: {class: file, filename: '@D/cursor.log', formatter: f}\n"
                      "loggers:\n"
                      "  pymongo.watcher: {level: DEBUG, handlers: [all]}\n"
                      "  pymongo.watcher.cursor: {level: WARNING, handlers: [cur]}\n"
                      "  pymongo.watcher.collection: {level: INFO}\n";
   load_yaml (text);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "dropped", 1);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_WARNING, "slow", 1);
   log_op ("mongowatch.collection", MWATCH_LEVEL_DEBUG, "dropped", 1);
   log_op ("mongowatch.collection", MWATCH_LEVEL_INFO, "orders", 1);
   mwatch_shutdown ();
   assert_file ("all.log", "mongowatch.cursor WARNING slow\nmongowatch.collection INFO orders\n");
   assert_file ("cursor.log", "mongowatch.cursor WARNING slow\n");

   /* check-config says what each name stands for. */
   assert_described (text,
                     "logger mongowatch (pymongowatch's pymongo.watcher): level DEBUG",
                     "logger mongowatch.cursor (pymongowatch's pymongo.watcher.cursor): "
                     "level WARNING");

   /* One logger by both its names is an error, not a silent merge. */
   assert_error ("version: 1\nloggers:\n  mongowatch.cursor: {level: INFO}\n"
                 "  pymongo.watcher.cursor: {level: DEBUG}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:4:3: loggers.pymongo.watcher.cursor: logger mongowatch.cursor is "
                 "configured twice, as \"pymongo.watcher.cursor\" here and as "
                 "\"mongowatch.cursor\" at <string>:3");
   assert_error ("version: 1\nloggers:\n  pymongo.watcher: {level: INFO}\n"
                 "  mongowatch: {level: DEBUG}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:4:3: loggers.mongowatch: logger mongowatch is configured twice");
   /* "pymongo", above pymongowatch's loggers, is above none of mongowatch's. */
   assert_described ("version: 1\nloggers:\n  pymongo: {level: INFO}\n  mongowatch: {level: INFO}\n",
                     "logger pymongo: level INFO",
                     "described.yaml:3:3: loggers.pymongo: no operation reaches logger "
                     "\"pymongo\"");
   /* A name under pymongo.watcher nothing logs on. */
   assert_error ("version: 1\nloggers:\n  pymongo.watcher.cursors: {level: INFO}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:3:3: loggers.pymongo.watcher.cursors: no watcher logs on "
                 "\"pymongo.watcher.cursors\" (did you mean \"pymongo.watcher.cursor\"?)");
}
END_TEST

/* pymongowatch's queue handler, as its sample file writes it, is
 * mongowatch's queue handler in front of the handler "backend" names. */
START_TEST (test_pymongowatch_queue_handlers)
{
   const char *text = "version: 1\n"
                      "formatters:\n"
                      "  f: {format: '{name} {watch.Collection}'}\n"
                      "handlers:\n"
                      "  file_queue_handler:\n"
                      "    (): ext://pymongo.watcher.setup_queue_handler\n"
                      "    backend: cfg://handlers.file\n"
                      "    enable_multiprocessing: true\n"
                      "    register_atexit: true\n"
                      "    level: DEBUG\n"
                      "  file: {class: file, filename: '@D/q.log', formatter: f, level: INFO}\n"
                      "  other_queue:\n"
                      "    class: pymongo.watcher.logger.WatchQueue\n"
                      "    backend: 'cfg://handlers[other]'\n"
                      "    maxsize: 10\n"
                      "    garbage_collection_rate: 100\n"
                      "  other: {class: file, filename: '@D/other.log', formatter: f}\n"
                      "  third: {class: pymongo.watcher.WatchQueue, handler: last,\n"
                      "          forced_delay_sec: 0}\n"
                      "  last: {class: file, filename: '@D/last.log', formatter: f}\n"
                      /* Python 3.12's QueueHandler with a WatchQueue. */
                      "  py312:\n"
                      "    class: logging.handlers.QueueHandler\n"
                      "    handlers: [h312]\n"
                      "    queue: {'()': ext://pymongo.watcher.logger.WatchQueue, maxsize: 5,\n"
                      "            enable_multiprocessing: false}\n"
                      "  h312: {class: file, filename: '@D/py312.log', formatter: f}\n"
                      "loggers:\n"
                      "  pymongo.watcher: {level: DEBUG,\n"
                      "    handlers: [file_queue_handler, other_queue, third, py312]}\n";
   load_yaml (text);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "orders", 1);
   log_op ("mongowatch.collection", MWATCH_LEVEL_DEBUG, "debug_only", 1);
   mwatch_shutdown ();
   assert_file ("q.log", "mongowatch.cursor orders\n");
   assert_file ("other.log", "mongowatch.cursor orders\nmongowatch.collection debug_only\n");
   assert_file ("last.log", "mongowatch.cursor orders\nmongowatch.collection debug_only\n");
   assert_file ("py312.log", "mongowatch.cursor orders\nmongowatch.collection debug_only\n");

   assert_described (text,
                     "handler file_queue_handler: queue handler file (enable_multiprocessing: "
                     "no effect) (register_atexit: no effect) {",
                     "handler other_queue: queue handler other (garbage_collection_rate: "
                     "no effect) { \"maxsize\" : 10 }");

   assert_error ("version: 1\nhandlers:\n  q: {'()': ext://pymongo.watcher.setup_queue_handlr}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:3:13: handlers.q.(): unknown handler factory "
                 "\"ext://pymongo.watcher.setup_queue_handlr\" (did you mean "
                 "\"ext://pymongo.watcher.setup_queue_handler\"?)");
   assert_error ("version: 1\nhandlers:\n  q: {'()': pymongo.watcher.setup_queue_handler,"
                 " class: queue}\n",
                 MWATCH_CONFIG_YAML,
                 "handlers.q.(): give \"class\" or \"()\", not both");
   assert_error ("version: 1\nhandlers:\n  h: {class: null}\n"
                 "  q: {class: queue, handler: h, backend: 'cfg://handlers.h'}\n",
                 MWATCH_CONFIG_YAML,
                 "handlers.q.handler: give one of \"handler\" (mongowatch's name), \"backend\"");
   assert_error ("version: 1\nhandlers:\n  h: {class: null}\n"
                 "  q: {class: queue, backend: 'cfg://handlers.h.class'}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:4:30: handlers.q.backend: \"backend\" names the handler the queue "
                 "writes to: cfg://handlers.NAME, or just NAME");
   assert_error ("version: 1\nhandlers:\n  file: {class: null}\n"
                 "  q: {class: queue, backend: 'cfg://handlers.fiel'}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:4:30: handlers.q.backend: cfg://handlers.fiel: no key \"fiel\" in "
                 "handlers (did you mean \"file\"?)");
   assert_error ("version: 1\nhandlers:\n  h: {class: null}\n"
                 "  q: {class: logging.handlers.QueueHandler, handlers: [h], queue: ext://queue.Queue}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:4:67: handlers.q.queue: the queue of a queue handler is mongowatch's "
                 "WatchQueue, which holds a record until its operation ends; \"ext://queue.Queue\" "
                 "would not");
   assert_error ("version: 1\nhandlers:\n  h: {class: null}\n  i: {class: null}\n"
                 "  q: {class: logging.handlers.QueueHandler, handlers: [h, i]}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:5:55: handlers.q.handlers: a queue handler hands its records to one "
                 "handler, and this list names 2");
   assert_error ("version: 1\nhandlers:\n  h: {class: null}\n"
                 "  q: {class: logging.handlers.QueueHandler, handlers: [h],\n"
                 "      queue: {maxsize: 3}}\n",
                 MWATCH_CONFIG_YAML,
                 "handlers.q.queue: the key \"()\" is required here");
   assert_error ("version: 1\nhandlers:\n  h: {class: null}\n"
                 "  q: {class: queue, handler: h, maxsize: 5, capacity: 9}\n",
                 MWATCH_CONFIG_YAML,
                 "handlers.q.maxsize: give \"capacity\" or pymongowatch's \"maxsize\", not both");
}
END_TEST

/* Python's %- and $-style formats, as a Python file writes them: "%"
 * with or without "style" (Python's default), "$" with it; {-style ones
 * keep working without it. */
START_TEST (test_python_format_styles)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  pct: {format: '%(name)s %(levelname)-8s %(watch.Collection)s 100%%'}\n"
              "  pct_styled: {format: '%(levelno)03d|%(message)s', style: '%'}\n"
              "  dol: {format: '$name ${watch.Collection} $$', style: $}\n"
              "  brace: {format: '{name} {watch.Collection}'}\n"
              "handlers:\n"
              "  a: {class: file, filename: '@D/pct.log', formatter: pct}\n"
              "  b: {class: file, filename: '@D/pct_styled.log', formatter: pct_styled}\n"
              "  c: {class: file, filename: '@D/dol.log', formatter: dol}\n"
              "  d: {class: file, filename: '@D/brace.log', formatter: brace}\n"
              "loggers:\n"
              "  pymongo.watcher: {level: INFO, handlers: [a, b, c, d]}\n");
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "orders", 1);
   mwatch_shutdown ();
   assert_file ("pct.log", "mongowatch.cursor INFO     orders 100%\n");
   assert_file_has ("pct_styled.log", "020|DB=shop Collection=orders Operation=find");
   assert_file ("dol.log", "mongowatch.cursor orders $\n");
   assert_file ("brace.log", "mongowatch.cursor orders\n");

   assert_described ("version: 1\nformatters:\n  p: {format: '%(message)s'}\n"
                     "  d: {format: '$message', style: $}\n",
                     "formatter p: format \"%(message)s\" style \"%\" datefmt default",
                     "formatter d: format \"$message\" style \"$\" datefmt default");
   /* A bad field names the file, line, key and column. */
   assert_error ("version: 1\nformatters:\n  f:\n    format: '%(asctime)s %(levelnmae)s'\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:4:13: formatters.f.format: format \"%(asctime)s %(levelnmae)s\": "
                 "unknown field \"levelnmae\" at column 13; did you mean \"levelname\"?");
   assert_error ("version: 1\nformatters:\n  f: {format: 'cost $5', style: $}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:3:15: formatters.f.format: format \"cost $5\": single \"$\" at column 6");
   assert_error ("version: 1\nformatters:\n  f: {format: '{name}', style: '#'}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:3:32: formatters.f.style: unknown style \"#\"; use \"{\", \"%\" or \"$\"");
}
END_TEST

/* ------------------------------------------------------------------------
 * Did-you-mean: the one helper every unknown-name error asks
 * ------------------------------------------------------------------------ */

static const char *
suggest_of (const char *name, const char *const *known)
{
   mwatch_suggest_t s;
   _mwatch_suggest_init (&s, name, strlen (name));
   _mwatch_suggest_consider_all (&s, known);
   return _mwatch_suggest_best (&s);
}

START_TEST (test_suggest)
{
   static const char *const keys[] = {"class", "level", "filename", "handlers", "backupCount", NULL};
   ck_assert_uint_eq (_mwatch_edit_distance ("filname", 7, "filename"), 1);
   ck_assert_uint_eq (_mwatch_edit_distance ("kitten", 6, "sitting"), 3);
   ck_assert_uint_eq (_mwatch_edit_distance ("LEVEL", 5, "level"), 0); /* case is free */
   ck_assert_uint_eq (_mwatch_edit_distance ("", 0, "abc"), 3);
   /* Only the first `len` bytes of the name count. */
   ck_assert_uint_eq (_mwatch_edit_distance ("levelXYZ", 5, "level"), 0);
   ck_assert_str_eq (suggest_of ("filname", keys), "filename");
   ck_assert_str_eq (suggest_of ("handler", keys), "handlers");
   ck_assert_str_eq (suggest_of ("backupcount", keys), "backupCount");
   ck_assert_str_eq (suggest_of ("Class", keys), "class");
   /* Too far to be a misspelling: 1 + len / 4 edits at most. */
   ck_assert_ptr_null (suggest_of ("colour", keys));
   ck_assert_ptr_null (suggest_of ("lvl", keys));
   ck_assert_ptr_null (suggest_of ("x", NULL));
   /* From several lists, the closest wins; between equals, the first. */
   mwatch_suggest_t s;
   _mwatch_suggest_init (&s, "nmae", 4);
   _mwatch_suggest_consider (&s, "levelname");
   _mwatch_suggest_consider (&s, NULL);
   _mwatch_suggest_consider (&s, "name");
   _mwatch_suggest_consider (&s, "mane");
   ck_assert_str_eq (_mwatch_suggest_best (&s), "name");
   /* Names of 64 bytes or more are never close. */
   char long_name[80];
   memset (long_name, 'a', sizeof long_name - 1);
   long_name[sizeof long_name - 1] = '\0';
   ck_assert_uint_eq (_mwatch_edit_distance (long_name, strlen (long_name), long_name), 255);
}
END_TEST

/* ------------------------------------------------------------------------
 * Errors: file, line, column, key path, and a hint
 * ------------------------------------------------------------------------ */

typedef struct {
   mwatch_config_format_t format;
   const char *text;
   const char *want; /* a prefix of the message */
} error_case_t;

static const error_case_t error_cases[] = {
   /* A misspelled field is an error at load, naming the closest field. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nformatters:\n  f:\n    format: '{asctime} {watch.Duraton:.3f}'\n",
    "<string>:4:13: formatters.f.format: format \"{asctime} {watch.Duraton:.3f}\": unknown field "
    "\"watch.Duraton\" at column 11; did you mean \"watch.Duration\"? neither mongowatch nor this "
    "configuration sets it"},
   {MWATCH_CONFIG_JSON,
    "{\"version\": 1,\n \"formatters\": {\"f\": {\"format\": \"{watch.collection.x}\"}}}",
    "<string>:2:33: formatters.f.format: format \"{watch.collection.x}\": unknown field "
    "\"watch.collection\" at column 1; did you mean \"watch.Collection\"?"},
   /* Declared elsewhere in the file, but not this one: the closest of
    * those is suggested too. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nformatters:\n  f: {format: '{watch.Tenent}'}\n"
    "watchers: {global: {operations: {'*': {add: {Tenant: shop}}}}}\n",
    "<string>:3:15: formatters.f.format: format \"{watch.Tenent}\": unknown field \"watch.Tenent\" "
    "at column 1; did you mean \"watch.Tenant\"?"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nformatters:\n  f: {format: '{watch.User}', allow_unknown_fields: maybe}\n",
    "<string>:3:53: formatters.f.allow_unknown_fields: expected true or false"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nformatters:\n  c: {format: '{watch.csv}', columns: [DB, Collection, DB]}\n",
    "<string>:3:39: formatters.c.columns: column 3 (\"DB\") is listed twice"},
   {MWATCH_CONFIG_YAML, "", "<string>:1:1: the configuration is empty"},
   {MWATCH_CONFIG_YAML, "handlers: {}\n", "<string>:1:1: the key \"version\" is required"},
   {MWATCH_CONFIG_YAML, "version: 2\n", "<string>:1:10: version: version 2 is not supported"},
   {MWATCH_CONFIG_JSON, "{\"version\": \"1\"}", "<string>:1:13: version: expected an integer"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nincremental: true\n",
    "<string>:2:14: incremental: incremental configuration is not supported"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandler: {}\n",
    "<string>:2:1: handler: unknown key \"handler\" (did you mean \"handlers\"?); allowed here: version,"},
   {MWATCH_CONFIG_JSON,
    "{\"version\": 1,\n \"handler\": {}}",
    "<string>:2:2: handler: unknown key \"handler\" (did you mean \"handlers\"?); allowed here: version,"},
   /* Did-you-mean by edit distance, wherever a name is unknown. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: file, filname: /tmp/x}\n",
    "<string>:3:20: handlers.f.filname: unknown key \"filname\" (did you mean \"filename\"?); "
    "allowed here: class,"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  h: {class: null}\nloggers:\n  a: {handler: [h]}\n",
    "<string>:5:7: loggers.a.handler: unknown key \"handler\" (did you mean \"handlers\"?)"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: logging.StreamHandlr}\n",
    "<string>:3:14: handlers.f.class: unknown handler class \"logging.StreamHandlr\" (did you "
    "mean \"logging.StreamHandler\"?); use stream,"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: rotatingfile}\n",
    "<string>:3:14: handlers.f.class: unknown handler class \"rotatingfile\" (did you mean "
    "\"rotating_file\"?)"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  console: {class: null}\nloggers:\n  a: {handlers: [consle]}\n",
    "<string>:5:18: loggers.a.handlers[0]: no handler named \"consle\" (did you mean "
    "\"console\"?); the handlers defined are \"console\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nformatters:\n  plain: {format: '{watch}'}\n"
    "handlers:\n  h: {class: null, formatter: plian}\n",
    "<string>:5:31: handlers.h.formatter: no formatter named \"plian\" (did you mean \"plain\"?)"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  slow: {name: a}\nhandlers:\n  h: {class: null, filters: [slwo]}\n",
    "<string>:5:30: handlers.h.filters[0]: no filter named \"slwo\" (did you mean \"slow\"?)"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nloggers:\n  a: {level: WARNIGN}\n",
    "<string>:3:14: loggers.a.level: unknown level \"WARNIGN\" (did you mean \"WARNING\"?)"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  f: {'()': mongowatch.filters.expresion}\n",
    "<string>:3:13: filters.f.(): unknown filter factory \"mongowatch.filters.expresion\" (did "
    "you mean \"mongowatch.filters.expression\"?)"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  h: {class: null}\n  q: {class: queue, handler: h, overflow: drop-newest}\n",
    "<string>:4:43: handlers.q.overflow: unknown overflow policy \"drop-newest\" (did you mean "
    "\"drop_newest\"?)"},
   /* Nothing close: no suggestion. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: file, filename: /tmp/x, colour: red}\n",
    "<string>:3:38: handlers.f.colour: unknown key \"colour\"; allowed here: class,"},
   /* A wrong type, in both formats, at the value. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  file:\n    class: rotating_file\n    filename: /tmp/x\n    maxBytes: ten\n",
    "<string>:6:15: handlers.file.maxBytes: expected an integer, got \"ten\""},
   {MWATCH_CONFIG_JSON,
    "{\"version\": 1,\n \"handlers\": {\"file\": {\"class\": \"rotating_file\",\n"
    "   \"filename\": \"/tmp/x\", \"maxBytes\": \"ten\"}}}",
    "<string>:3:38: handlers.file.maxBytes: expected an integer, got the string \"ten\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: rotating_file, filename: /tmp/x, backupCount: -1}\n",
    "<string>:3:60: handlers.f.backupCount: -1 is out of range"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: file, filename: /tmp/x, maxBytes: 5}\n",
    "<string>:3:38: handlers.f.maxBytes: unknown key \"maxBytes\"; allowed here: class, level"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {filename: /tmp/x}\n",
    "<string>:3:6: handlers.f: the key \"class\" is required"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: Telegraph}\n",
    "<string>:3:14: handlers.f.class: unknown handler class \"Telegraph\"; use stream, file"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: file}\n",
    "<string>:3:6: handlers.f: the key \"filename\" is required"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  s: {class: stream, stream: ext://sys.stdout}\n",
    "<string>:3:30: handlers.s.stream: stdout belongs to the audited application"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: file, filename: /tmp/x, mode: w}\n",
    "<string>:3:44: handlers.f.mode: only mode \"a\" (append) is supported"},
   /* Missing names. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nloggers:\n  a: {handlers: [nope]}\n",
    "<string>:3:18: loggers.a.handlers[0]: no handler named \"nope\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  h: {class: null, formatter: fmt}\n",
    "<string>:3:31: handlers.h.formatter: no formatter named \"fmt\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  h: {class: null, filters: [f]}\n",
    "<string>:3:30: handlers.h.filters[0]: no filter named \"f\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  f: {'()': mongowatch.filters.teleport}\n",
    "<string>:3:13: filters.f.(): unknown filter factory \"mongowatch.filters.teleport\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  r: {'()': mongowatch.filters.rate, output_rate_sec: 1, "
    "ignore_intermediates: maybe}\n",
    "<string>:3:80: filters.r.ignore_intermediates: expected true or false, got \"maybe\""},
   /* pymongowatch's filter classes. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  m:\n    (): ext://pymongo.watcher.filters.ExecuteFilter\n"
    "    execute: |\n      import numbers as _numbers\n",
    "<string>:5:14: filters.m.execute: ExecuteFilter runs Python, which mongowatch cannot; "
    "write this filter as \"()\": mongowatch.filters.modify (doc/configuration.md, section 6"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  r: {'()': ext://pymongo.watcher.filters.RateFilter, "
    "attributes: [InsertedCount], extra_timeout_sec: -1}\n",
    "<string>:3:103: filters.r.extra_timeout_sec: -1 is out of range; give a number from 0 to 1e+09"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  r: {'()': mongowatch.filters.rate, output_rate_sec: 1, "
    "extra_timeout_sec: soon}\n",
    "<string>:3:77: filters.r.extra_timeout_sec: expected a number, got \"soon\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  r: {'()': ext://pymongo.watcher.filters.RateFilter}\n",
    "<string>:3:6: filters.r: the key \"attributes\" is required"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  r: {'()': ext://pymongo.watcher.filters.RateFilter, attributes: [A], "
    "drop_record: true}\n",
    "<string>:3:72: filters.r.drop_record: unknown key \"drop_record\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  r: {'()': mongowatch.filters.rate, output_rate_sec: 1, ignore_nones: true}\n",
    "<string>:3:58: filters.r.ignore_nones: ignore_nones belongs to pymongowatch's RateFilter"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  e: {class: ext://pymongo.watcher.filters.ExpressionFilter, "
    "expression: 'A > 1', exception_result: sometimes}\n",
    "<string>:3:101: filters.e.exception_result: expected true or false, got \"sometimes\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  e: {class: ext://pymongo.watcher.filters.ExpressionFilter, "
    "expresion: 'A > 1'}\n",
    "<string>:3:62: filters.e.expresion: unknown key \"expresion\" (did you mean \"expression\"?); allowed here: (), class, "
    "expression, exception_result"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  e: {'()': mongowatch.filters.expression, class: mongowatch.filters.expression, "
    "expression: 'A > 1'}\n",
    "<string>:3:44: filters.e.class: give \"()\" or \"class\", not both"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  a: {'()': ext://pymongo.watcher.filters.AddPymongoResults}\n",
    "<string>:3:13: filters.a.(): pymongowatch's filter \"pymongo.watcher.filters.AddPymongoResults\" "
    "has no mongowatch counterpart"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  m: {'()': mongowatch.filters.modify, execute: 'A = ', "
    "exception_result: false}\n",
    "<string>:3:49: filters.m.execute: modify filter: statement 1 \"A = \": expression \"\": empty"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  m: {'()': ext://pymongo.watcher.filters.ExecuteFilter, execute: 'del Filter'}\n",
    "<string>:3:67: filters.m.execute: ExecuteFilter runs Python, which mongowatch cannot; write this "
    "filter as \"()\": mongowatch.filters.modify (doc/configuration.md, section 6, "
    "mongowatch.filters.modify), whose statements this text is not within: modify filter: statement 1 "
    "\"del Filter\": Python's del removes a variable, not the field"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  m: {'()': ext://pymongo.watcher.filters.ExecuteFilter, execute: 'Who = Filter.user'}\n",
    "<string>:3:67: filters.m.execute: ExecuteFilter runs Python, which mongowatch cannot; write this "
    "filter as \"()\": mongowatch.filters.modify (doc/configuration.md, section 6, "
    "mongowatch.filters.modify), whose statements this text is not within: modify filter: statement 1 "
    "\"Who = Filter.user\": a dotted path is an attribute in Python; write Field[\"key\"]"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  m: {'()': ext://pymongo.watcher.filters.ExecuteFilter, execute: '_tmp = 1'}\n",
    "<string>:3:67: filters.m.execute: ExecuteFilter runs Python"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  m: {'()': ext://pymongo.watcher.filters.ExecuteFilter, execute: 'Filter = mask(Filter)'}\n",
    "<string>:3:67: filters.m.execute: ExecuteFilter runs Python, which mongowatch cannot; write this "
    "filter as \"()\": mongowatch.filters.modify (doc/configuration.md, section 6, "
    "mongowatch.filters.modify), whose statements this text is not within: modify filter: statement 1 "
    "\"Filter = mask(Filter)\": mask() is not Python"},
   /* Queues. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  q: {class: queue}\n",
    "<string>:3:6: handlers.q: the key \"handler\" is required"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  q: {class: queue, handler: q}\n",
    "<string>:3:30: handlers.q.handler: a queue handler cannot be its own backend"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nhandlers:\n  f: {class: null}\n  q: {class: queue, handler: f, overflow: explode}\n",
    "<string>:4:43: handlers.q.overflow: unknown overflow policy \"explode\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nloggers:\n  mongowatch: {handlers: [f]}\n"
    "handlers:\n  f: {class: null}\n  q: {class: queue, handler: f}\n",
    "<string>:3:27: loggers.mongowatch.handlers[0]: handler \"f\" is the backend of queue \"q\""},
   /* Levels and templates. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nloggers:\n  a: {level: LOUD}\n",
    "<string>:3:14: loggers.a.level: unknown level \"LOUD\"; use CRITICAL, ERROR"},
   {MWATCH_CONFIG_JSON,
    "{\"version\": 1, \"root\": {\"level\": \"LOUD\"}}",
    "<string>:1:34: root.level: unknown level \"LOUD\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nformatters:\n  f: {format: 'abc {watch'}\n",
    "<string>:3:15: formatters.f.format: format \"abc {watch\": unclosed \"{\" at column 5"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nfilters:\n  e: {'()': mongowatch.filters.expression, expression: 'Duration >'}\n",
    "<string>:3:56: filters.e.expression: expression \"Duration >\": expected a value at column 11"},
   /* Watchers. */
   {MWATCH_CONFIG_YAML,
    "version: 1\nwatchers:\n  cursor: {timeout_sec: -1}\n",
    "<string>:3:25: watchers.cursor.timeout_sec: -1 is out of range"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nwatchers:\n  global: {log_level: {first: NOPE}}\n",
    "<string>:3:31: watchers.global.log_level.first: unknown level \"NOPE\""},
   {MWATCH_CONFIG_YAML,
    "version: 1\nwatchers:\n  galactic: {}\n",
    "<string>:3:3: watchers.galactic: unknown key \"galactic\"; allowed here: global, cursor, "
    "collection"},
   {MWATCH_CONFIG_YAML,
    "version: 1\nwatchers:\n  cursor: {default_fields: [DB, 'a.b']}\n",
    "<string>:3:33: watchers.cursor.default_fields[1]: \"a.b\" is not a field name"},
   /* Syntax. */
   {MWATCH_CONFIG_YAML, "version: 1\nx: [1, 2\n", "<string>:3:1: YAML syntax error"},
   {MWATCH_CONFIG_JSON, "{\"version\": 1,, }", "<string>:1:15: JSON syntax error"},
};

START_TEST (test_error_messages)
{
   const error_case_t *c = &error_cases[_i];
   bson_error_t error;
   load_fails (c->text, c->format, &error);
   ck_assert_msg (strncmp (error.message, c->want, strlen (c->want)) == 0,
                  "case %d: got\n  %s\nwant a message starting with\n  %s",
                  _i,
                  error.message,
                  c->want);
}
END_TEST

/* delay: true opens the file at the first record; a path that cannot
 * work is still refused at load, at the filename. */
START_TEST (test_file_handler_delay)
{
   char path[PATH_MAX];
   struct stat st;
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: '{levelname} {watch.Collection}'}\n"
              "handlers:\n"
              "  late: {class: file, filename: '@D/late.log', formatter: c, delay: true}\n"
              "  now: {class: rotating_file, filename: '@D/now.log', formatter: c, delay: false}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [late, now]}\n");
   path_in_dir (path, "late.log");
   ck_assert_int_ne (stat (path, &st), 0);
   path_in_dir (path, "now.log");
   ck_assert_int_eq (stat (path, &st), 0);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1.0);
   mwatch_shutdown ();
   assert_file ("late.log", "INFO news\n");
   assert_file ("now.log", "INFO news\n");

   /* A file that cannot be opened is an I/O error, not a bad value. */
   assert_error_code ("version: 1\nhandlers:\n  f: {class: file, filename: /nonexistent/dir/x.log}\n",
                      MWATCH_CONFIG_YAML,
                      MWATCH_ERROR_IO,
                      "<string>:3:30: handlers.f.filename: cannot open log file \"/nonexistent/dir/x.log\"");
   assert_error_code ("version: 1\n"
                      "handlers:\n"
                      "  late: {class: file, filename: '@D/no/such/dir/x.log', delay: true}\n",
                      MWATCH_CONFIG_YAML,
                      MWATCH_ERROR_IO,
                      "handlers.late.filename: cannot open log file");
   assert_error ("version: 1\n"
                 "handlers:\n"
                 "  late: {class: file, filename: '@D/x.log', delay: maybe}\n",
                 MWATCH_CONFIG_YAML,
                 "handlers.late.delay: ");
}
END_TEST

START_TEST (test_file_errors_name_the_file)
{
   char path[PATH_MAX];
   bson_error_t error;
   write_file ("bad.yaml",
               "version: 1\n"
               "handlers:\n"
               "  file:\n"
               "    class: rotating_file\n"
               "    filename: /tmp/x.log\n"
               "    maxBytes: ten\n",
               path);
   ck_assert (!mwatch_config_load_file (path, &error));
   ck_assert_uint_eq (error.code, MWATCH_ERROR_CONFIG);
   char want[PATH_MAX + 100];
   bson_snprintf (want, sizeof want, "%s:6:15: handlers.file.maxBytes: expected an integer", path);
   ck_assert_msg (strncmp (error.message, want, strlen (want)) == 0, "%s", error.message);

   write_file ("bad.json", "{\"version\": 1,\n \"loggers\": {\"a\": {\"level\": 3.5}}}", path);
   ck_assert (!mwatch_config_load_file (path, &error));
   bson_snprintf (want, sizeof want, "%s:2:29: loggers.a.level: unknown level \"3.5\"", path);
   ck_assert_msg (strncmp (error.message, want, strlen (want)) == 0, "%s", error.message);

   path_in_dir (path, "missing.yaml");
   ck_assert (!mwatch_config_load_file (path, &error));
   ck_assert_uint_eq (error.code, MWATCH_ERROR_IO); /* not a bad configuration: none */
   bson_snprintf (want, sizeof want, "%s", path);
   ck_assert_msg (strstr (error.message, want) && strstr (error.message, "cannot open the configuration: No such file"),
                  "%s",
                  error.message);

   write_file ("config.txt", "version: 1\n", path);
   ck_assert (!mwatch_config_load_file (path, &error));
   ck_assert_msg (strstr (error.message, path) &&
                     strstr (error.message, "cannot tell the format from the file name"),
                  "%s",
                  error.message);

   ck_assert (!mwatch_config_load_file (NULL, &error));
   ck_assert (!mwatch_config_load_string (NULL, MWATCH_CONFIG_YAML, &error));
   ck_assert (!mwatch_config_load_string ("version: 1", (mwatch_config_format_t) 7, &error));
   ck_assert (strstr (error.message, "unknown format 7"));
}
END_TEST

/* ------------------------------------------------------------------------
 * All or nothing, and reloads
 * ------------------------------------------------------------------------ */

static const char *config_a = "version: 1\n"
                              "formatters:\n"
                              "  c: {format: '{watch.Collection}'}\n"
                              "handlers:\n"
                              "  f: {class: file, filename: '@D/a.log', formatter: c}\n"
                              "  q: {class: queue, handler: f, default_delay_sec: 3600,\n"
                              "      force_default_delay: true}\n"
                              "loggers:\n"
                              "  mongowatch: {level: INFO, handlers: [q]}\n"
                              "watchers:\n"
                              "  global: {timeout_sec: 30}\n";

START_TEST (test_failed_load_changes_nothing)
{
   load_yaml (config_a);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "before", 1);
   /* Everything but the last line is valid: a handler and a logger that
    * would take records away from a.log, and watcher options. */
   bson_error_t error;
   load_fails ("version: 1\n"
               "handlers:\n"
               "  b: {class: file, filename: '@D/b.log'}\n"
               "loggers:\n"
               "  mongowatch: {level: DEBUG, handlers: [b], propagate: false}\n"
               "watchers:\n"
               "  global: {timeout_sec: 99, log_level: {final: loud}}\n",
               MWATCH_CONFIG_YAML,
               &error);
   ck_assert (strstr (error.message, "watchers.global.log_level.final"));
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "after", 1);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_DEBUG, "debug", 1);

   mwatch_watcher_opts_t opts;
   mwatch_watcher_get_opts (MWATCH_WATCHER_CURSOR, &opts);
   ck_assert (opts.timeout_sec == 30);
   ck_assert_int_eq (mwatch_logger_get_level (mwatch_logger_get ("mongowatch")), MWATCH_LEVEL_INFO);
   mwatch_shutdown ();
   assert_file ("a.log", "before\nafter\n");
   assert_file ("b.log", ""); /* perhaps created, never written */
}
END_TEST

START_TEST (test_reload_loses_nothing)
{
   load_yaml (config_a);
   for (int i = 0; i < 10; i++) {
      log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "first", 1);
   }
   assert_file ("a.log", ""); /* all delayed an hour in the queue */
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  c: {format: 'b {watch.Collection}'}\n"
              "handlers:\n"
              "  f: {class: file, filename: '@D/b.log', formatter: c}\n"
              "  q: {class: queue, handler: f}\n"
              "loggers:\n"
              "  mongowatch: {level: INFO, handlers: [q]}\n");
   /* The replaced queue was drained before the load returned. */
   ck_assert_uint_eq (count_lines ("a.log"), 10);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "second", 1);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_lines ("a.log"), 10);
   assert_file ("b.log", "b second\n");
   /* The watchers section went back to the defaults: B has none. */
   mwatch_watcher_opts_t opts;
   mwatch_watcher_get_opts (MWATCH_WATCHER_COLLECTION, &opts);
   ck_assert (opts.timeout_sec == 15);
}
END_TEST

START_TEST (test_check_installs_nothing)
{
   char path[PATH_MAX];
   load_yaml (config_a);
   write_file ("b.yaml",
               "version: 1\n"
               "handlers:\n"
               "  f: {class: file, filename: '@D/b.log'}\n"
               "loggers:\n"
               "  mongowatch: {level: INFO, handlers: [f]}\n"
               "watchers:\n"
               "  global: {timeout_sec: 5}\n",
               path);
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   ck_assert_msg (mwatch_config_check_file (path, &description, &error), "%s", error.message);
   ck_assert (strstr (description.data, "handler f: file"));
   ck_assert (strstr (description.data, "logger mongowatch: level INFO propagate true handlers [f]"));
   mwatch_buf_destroy (&description);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   mwatch_watcher_opts_t opts;
   mwatch_watcher_get_opts (MWATCH_WATCHER_CURSOR, &opts);
   ck_assert (opts.timeout_sec == 30);
   mwatch_shutdown ();
   assert_file ("a.log", "news\n");
   assert_file ("b.log", "");
}
END_TEST

/* mwatch_config_check_files_mode: a dry run creates no log file, and
 * names the handler, key and file whose folder is missing or not
 * writable; MWATCH_CONFIG_CHECK_OPEN opens (creates) them, even with
 * "delay: true". */
START_TEST (test_check_mode_dry_run_and_open)
{
   char path[PATH_MAX];
   char log[PATH_MAX];
   write_file ("m.yaml",
               "version: 1\n"
               "handlers:\n"
               "  plain: {class: file, filename: '@D/plain.log'}\n"
               "  rolled: {class: rotating_file, filename: '@D/rolled.log', maxBytes: 10, "
               "backupCount: 1, add_headers_if_empty: true}\n"
               "  timed: {class: timed_rotating_file, filename: '@D/timed.log', delay: true}\n"
               "loggers:\n"
               "  mongowatch: {level: INFO, handlers: [plain, rolled, timed]}\n",
               path);
   const char *const paths[] = {path};
   bson_error_t error;
   ck_assert_msg (mwatch_config_check_files_mode (paths, 1, MWATCH_CONFIG_CHECK_DRY_RUN, NULL, &error),
                  "%s",
                  error.message);
   const char *names[] = {"plain.log", "rolled.log", "timed.log"};
   for (size_t i = 0; i < 3; i++) {
      path_in_dir (log, names[i]);
      ck_assert_msg (access (log, F_OK) != 0, "a dry run created %s", log);
   }
   ck_assert_msg (mwatch_config_check_files_mode (paths, 1, MWATCH_CONFIG_CHECK_OPEN, NULL, &error),
                  "%s",
                  error.message);
   for (size_t i = 0; i < 3; i++) {
      path_in_dir (log, names[i]);
      ck_assert_msg (access (log, F_OK) == 0, "--open did not create %s", log);
   }
   /* The check wrote no header into the file it opened. */
   assert_file ("rolled.log", "");

   /* A missing folder: the handler, its key and the file are named. */
   write_file ("nodir.yaml",
               "version: 1\n"
               "handlers:\n"
               "  audit: {class: file, filename: '@D/nowhere/audit.log'}\n",
               path);
   for (int mode = 0; mode < 2; mode++) {
      ck_assert (!mwatch_config_check_files_mode (paths, 1, (mwatch_config_check_mode_t) mode, NULL, &error));
      char *want = expand ("nodir.yaml:3:34: handlers.audit.filename: cannot open log file "
                           "\"@D/nowhere/audit.log\": No such file or directory");
      ck_assert_msg (strstr (error.message, want), "mode %d: %s", mode, error.message);
      bson_free (want);
   }
   path_in_dir (log, "nowhere");
   ck_assert (access (log, F_OK) != 0);

   ck_assert (!mwatch_config_check_files_mode (paths, 1, (mwatch_config_check_mode_t) 7, NULL, &error));
   ck_assert_msg (strstr (error.message, "unknown check mode 7"), "%s", error.message);
}
END_TEST

/* Filters on "mongowatch" (or the root) never see an operation, which is
 * logged on a logger below it: the check warns, at the filters; filters
 * on a watcher's own logger or on a handler draw no warning. */
START_TEST (test_check_warns_of_filters_above_watchers)
{
   char path[PATH_MAX];
   write_file ("w.yaml",
               "version: 1\n"
               "filters:\n"
               "  slow: {'()': mongowatch.filters.expression, expression: Duration > 1}\n"
               "handlers:\n"
               "  f: {class: file, filename: '@D/w.log', filters: [slow]}\n"
               "loggers:\n"
               "  mongowatch: {level: INFO, handlers: [f], filters: [slow]}\n"
               "  mongowatch.cursor: {filters: [slow]}\n"
               "root: {filters: [slow]}\n",
               path);
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   ck_assert_msg (mwatch_config_check_file (path, &description, &error), "%s", error.message);
   char *want = bson_strdup_printf (
      "warning: %s:7:53: loggers.mongowatch.filters: the filters of logger \"mongowatch\" never "
      "see the operations, which are logged on mongowatch.cursor and mongowatch.collection",
      path);
   ck_assert_msg (strstr (description.data, want), "%s", description.data);
   ck_assert_msg (strstr (description.data, "root.filters: the filters of logger \"(root)\""),
                  "%s",
                  description.data);
   size_t warnings = 0;
   for (const char *p = description.data; (p = strstr (p, "warning: ")); p++) {
      warnings++;
   }
   ck_assert_uint_eq (warnings, 2);
   bson_free (want);
   mwatch_buf_destroy (&description);
}
END_TEST

/* A program that sets up logging, calls libmongoc and never patches logs
 * nothing: mwatch_shutdown says so on stderr, once.  Each case runs in a
 * child of its own, since what it checks is process-wide and once only;
 * returns how many times the child said it. */
static int
never_patched_reports (bool handlers, bool call_mongoc, bool patch)
{
   char path[PATH_MAX];
   path_in_dir (path, "child.err");
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      FILE *err = freopen (path, "w", stderr);
      if (!err) {
         _exit (3);
      }
      if (handlers) {
         load_yaml ("version: 1\n"
                    "handlers: {n: {class: null}}\n"
                    "loggers: {mongowatch: {level: INFO, handlers: [n]}}\n");
      }
      bson_error_t error;
      if (patch && !mwatch_patch_mongoc (&error)) {
         _exit (4);
      }
      mwatch_unpatch_mongoc ();
      if (call_mongoc) {
         mongoc_collection_destroy (NULL); /* a wrapped function, harmless */
      }
      mwatch_shutdown ();
      mwatch_shutdown ();
      fflush (stderr);
      _exit (0);
   }
   int status;
   ck_assert_int_eq (waitpid (pid, &status, 0), pid);
   ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status %d", status);
   char *text = slurp ("child.err");
   int count = 0;
   for (const char *p = text; (p = strstr (p, "mwatch_patch_mongoc() was never called")); p++) {
      count++;
   }
   bson_free (text);
   return count;
}

START_TEST (test_never_patched_is_reported)
{
   ck_assert_int_eq (never_patched_reports (true, true, false), 1);
   /* Patched once, even if unpatched again since: a choice, not a slip. */
   ck_assert_int_eq (never_patched_reports (true, true, true), 0);
   /* No handlers, or no libmongoc call: nothing was lost. */
   ck_assert_int_eq (never_patched_reports (false, true, false), 0);
   ck_assert_int_eq (never_patched_reports (true, false, false), 0);
}
END_TEST

/* What a configuration may name in a template: the library's fields, and
 * every field the configuration itself gives a name; anything else only
 * with allow_unknown_fields. */
START_TEST (test_template_fields_declared)
{
   load_yaml ("version: 1\n"
              "formatters:\n"
              "  f: {format: '{watch.Duration} {watch.Update} {watch.Filter.user} {watch.Service} "
              "{watch.Pipeline} {watch.Tag} {watch.Shop} {watch.MatchedCountRate} "
              "{watch.RateWindow} {watch.Kept}'}\n"
              "  g: {format: '{watch.csv}', columns: [WatchID, Shop]}\n"
              "  h: {format: '{watch.User} {watch.Tenant}', allow_unknown_fields: true}\n"
              "filters:\n"
              "  r: {'()': mongowatch.filters.rate, output_rate_sec: 60, fields: [MatchedCount]}\n"
              "  k: {'()': mongowatch.filters.fields, keep: [Kept], rename: {Comment: Tag}}\n"
              "watchers:\n"
              "  global: {operations: {'*': {add: {Service: orders}}}}\n"
              "  cursor: {operations: {aggregate: {rename: {Filter: Pipeline}}}}\n");
   mwatch_shutdown ();
   /* The same template without the declarations is refused. */
   bson_error_t error;
   load_fails ("version: 1\nformatters:\n  f: {format: '{watch.Duration} {watch.Service}'}\n",
               MWATCH_CONFIG_YAML,
               &error);
   ck_assert_msg (strstr (error.message, "unknown field \"watch.Service\" at column 18; neither"),
                  "%s",
                  error.message);
}
END_TEST

/* ------------------------------------------------------------------------
 * The watchers section
 * ------------------------------------------------------------------------ */

START_TEST (test_watchers_options)
{
   load_yaml ("version: 1\n"
              "watchers:\n"
              "  global:\n"
              "    timeout_sec: 30\n"
              "    log_level: {first: INFO, update: 15}\n"
              "    default_fields: [DB, Duration]\n"
              "  cursor:\n"
              "    timeout_sec: 0\n"
              "    emit_on_new_retrieves: false\n"
              "    log_level: {final: WARNING, timeout: ERROR}\n"
              "  collection:\n"
              "    default_fields: [Operation]\n");
   mwatch_watcher_opts_t cursor, collection;
   mwatch_watcher_get_opts (MWATCH_WATCHER_CURSOR, &cursor);
   mwatch_watcher_get_opts (MWATCH_WATCHER_COLLECTION, &collection);
   ck_assert (cursor.timeout_sec == 0);
   ck_assert_int_eq (cursor.first_level, MWATCH_LEVEL_INFO);
   ck_assert_int_eq (cursor.update_level, 15);
   ck_assert_int_eq (cursor.final_level, MWATCH_LEVEL_WARNING);
   ck_assert_int_eq (cursor.timeout_level, MWATCH_LEVEL_ERROR);
   ck_assert (!cursor.emit_on_new_retrieves);
   ck_assert_ptr_nonnull (cursor.default_fields);
   ck_assert_str_eq (cursor.default_fields[0], "DB");
   ck_assert_str_eq (cursor.default_fields[1], "Duration");
   ck_assert_ptr_null (cursor.default_fields[2]);

   ck_assert (collection.timeout_sec == 30);
   ck_assert_int_eq (collection.first_level, MWATCH_LEVEL_INFO);
   ck_assert_int_eq (collection.final_level, MWATCH_LEVEL_INFO);
   ck_assert_str_eq (collection.default_fields[0], "Operation");
   ck_assert_ptr_null (collection.default_fields[1]);
}
END_TEST


/* pymongowatch's "csv" list: the header template, with {watch.csv} made the
 * columns mongowatch's {watch.csv} writes, goes into an empty or new file
 * (named through cfg://), and never into one that has lines. */
START_TEST (test_watchers_pymongowatch_csv)
{
   static const char config[] = "version: 1\n"
                                "handlers:\n"
                                "  f: {class: file, filename: '@D/w.csv'}\n"
                                "watchers:\n"
                                "  global:\n"
                                "    csv:\n"
                                "      - file: cfg://handlers.f.filename\n"
                                "        add_headers_if_empty: \"WatcherName,{watch.csv}\\n\"\n"
                                "      - {file: '@D/other.csv', add_headers_if_empty: '# {watch.csv}'}\n"
                                "      - {file: '@D/kept.csv', add_headers_if_empty: 'X,{watch.csv}'}\n";
   char kept[PATH_MAX];
   write_file ("kept.csv", "a line\n", kept);
   load_yaml (config);
   mwatch_shutdown ();
   mwatch_buf_t columns = MWATCH_BUF_INITIALIZER;
   mwatch_render_csv_header (NULL, &columns);
   char want[1024];
   bson_snprintf (want, sizeof want, "WatcherName,%.*s\n", (int) columns.len, columns.data);
   assert_file ("w.csv", want);
   bson_snprintf (want, sizeof want, "# %.*s\n", (int) columns.len, columns.data);
   assert_file ("other.csv", want);
   assert_file ("kept.csv", "a line\n");
   mwatch_buf_destroy (&columns);
   /* Loaded again, the files have lines: nothing is added. */
   load_yaml (config);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_lines ("w.csv"), 1);

   char path[PATH_MAX];
   path_in_dir (path, "no-such-dir/x.csv");
   char text[PATH_MAX + 200];
   bson_snprintf (text,
                  sizeof text,
                  "version: 1\nwatchers:\n  global:\n    csv: [{file: '%s', add_headers_if_empty: 'a'}]\n",
                  path);
   assert_error_code (text, MWATCH_CONFIG_YAML, MWATCH_ERROR_IO, "watchers.global.csv[0].file: cannot write the CSV header");
   assert_error ("version: 1\nwatchers: {global: {csv: [{file: x.csv}]}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.global.csv[0]");
}
END_TEST

/* The check's description of a configuration's watchers (bson_free). */
static char *
describe (const char *text)
{
   char path[PATH_MAX];
   write_file ("described.yaml", text, path);
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   ck_assert_msg (mwatch_config_check_file (path, &description, &error), "%s", error.message);
   char *copy = bson_strndup (description.data, description.len);
   mwatch_buf_destroy (&description);
   return copy;
}

static void
assert_has (const char *text, const char *want)
{
   ck_assert_msg (strstr (text, want), "lacks \"%s\":\n%s", want, text);
}

/* pymongowatch's operations entries (argument: {to, cast, value}) become
 * mongowatch's renames, drops and constant fields. */
START_TEST (test_watchers_pymongowatch_operations)
{
   char *got = describe ("version: 1\n"
                         "watchers:\n"
                         "  collection:\n"
                         "    operations:\n"
                         "      count: {filter: {to: Filter}, _result: {to: MatchedCount}}\n"
                         "      remove: {spec_or_id: {to: Filter}, _result: {to: _deprecated_remove}}\n"
                         "      update_many: {filter: {to: Query}, update: {to: null}, upsert: {to: null}}\n"
                         "      delete_one: {filter: {}, _result: {cast: builtins.len}}\n"
                         "      insert_one: {_result: {to: InsertedCount, value: 1}, app: {value: shop}}\n"
                         "      update_one: {filter: {cast: builtins.len}, _result: {to: Done, value: done},\n"
                         "                   n: {value: [1, 2, 3], cast: builtins.len},\n"
                         "                   s: {value: 'héé', cast: builtins.len},\n"
                         "                   z: {value: null, cast: pymongo.watcher.transforms.one_if_not_none},\n"
                         "                   k: {value: 5, cast: builtins.len}}\n"
                         "      find_one_and_update:\n"
                         "        _result: {to: ModifiedCount, cast: pymongo.watcher.transforms.one_if_not_none}\n"
                         "      distinct: {_result: {to: MatchedCount, cast: 'ext://builtins.len'}}\n"
                         "      insert_many: {documents: {to: null}, add: {Tag: t}}\n");
   assert_has (got, "watcher collection operation count:\n");
   assert_has (got, "operation remove: rename [DeletedCount -> _deprecated_remove]\n");
   assert_has (got, "operation update_many: rename [Filter -> Query] drop [Update]\n");
   /* Without `to`, the argument's and the result's own names. */
   assert_has (got, "operation delete_one: rename [Filter -> filter, DeletedCount -> _result]\n");
   /* A value under the operation's own count yields to the count. */
   assert_has (got, "operation insert_one: add { \"app\" : \"shop\" }\n");
   /* Casts: on an argument at each record, on a constant at load. */
   assert_has (got,
               "operation update_one: rename [Filter -> filter] drop [MatchedCount, InsertedCount, "
               "UpsertedCount, ModifiedCount, DeletedCount] cast [Filter -> builtins.len] add { \"Done\" : "
               "\"done\", \"n\" : 3, \"s\" : 3, \"z\" : 0, \"k\" : 5 }\n");
   assert_has (got, "operation find_and_modify:\n");
   assert_has (got, "operation distinct:\n");
   assert_has (got, "operation insert_many: add { \"Tag\" : \"t\" }\n");
   bson_free (got);

   /* result: {to: X} is the key the entries name the result by; null
    * leaves every count out. */
   got = describe ("version: 1\n"
                   "watchers:\n"
                   "  collection:\n"
                   "    result: {to: out}\n"
                   "    undefined_arguments: {to: null}\n"
                   "    operations: {count: {out: {to: Total}}}\n"
                   "  cursor:\n"
                   "    result: {to: null, cast: null}\n");
   assert_has (got, "watcher collection operation count: rename [MatchedCount -> Total]\n");
   assert_has (got,
               "watcher cursor operation *: drop [MatchedCount, InsertedCount, UpsertedCount, ModifiedCount, "
               "DeletedCount]\n");
   bson_free (got);
}
END_TEST

START_TEST (test_watchers_pymongowatch_errors)
{
   assert_error ("version: 1\nwatchers: {collection: {operations: {find_one: {_result: {to: MatchedCount}}}}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.operations.find_one: libmongoc has no find_one call");
   assert_error ("version: 1\nwatchers: {collection: {operations: {count: {_result: {cast: builtins.str}}}}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.operations.count._result.cast: cannot run the Python callable "
                 "\"builtins.str\": the casts mongowatch knows are builtins.len, "
                 "pymongo.watcher.transforms.one_if_not_none");
   assert_error ("version: 1\nwatchers: {collection: {operations: {insert_many: {documents: {to: N}}}}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.operations.insert_many.documents: mongowatch does not record the argument "
                 "\"documents\" of insert_many");
   assert_error ("version: 1\nwatchers: {collection: {operations: {update_one: {_result: {to: R}}}}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.operations.update_one._result: the result of update_one is not one field");
   assert_error ("version: 1\nwatchers: {collection: {operations: {count: {filter: {too: F}}}}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.operations.count.filter.too: unknown key");
   assert_error ("version: 1\nwatchers: {collection: {undefined_arguments: {}}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.undefined_arguments: mongowatch records no argument");
   assert_error ("version: 1\nwatchers: {global: {forced_delay_sec: 5}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.global.forced_delay_sec: \"forced_delay_sec\" is an argument of pymongowatch's "
                 "WatchQueue");
   /* The separators are pymongowatch's one message class's: global only. */
   assert_error ("version: 1\nwatchers: {cursor: {default_delimiter: ';'}}\n",
                 MWATCH_CONFIG_YAML,
                 "<string>:2:40: watchers.cursor.default_delimiter: \"default_delimiter\" applies to every "
                 "watcher at once, as in pymongowatch (an attribute of its WatchMessage): give it under "
                 "watchers.global, not watchers.cursor");
   assert_error ("version: 1\nwatchers: {collection: {key_value_separator: ':'}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.key_value_separator: \"key_value_separator\" applies to every watcher");
   assert_error ("version: 1\nwatchers: {collection: {default_key_value_separator: ':'}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.default_key_value_separator: \"default_key_value_separator\" applies");
   assert_error ("version: 1\nwatchers: {global: {key_value_separator: ':', default_key_value_separator: '='}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.global.default_key_value_separator: \"key_value_separator\" and "
                 "\"default_key_value_separator\" are one option: give one of them");
   assert_error ("version: 1\nwatchers: {global: {default_delimiter: [';']}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.global.default_delimiter: expected a string, got a list");
   assert_error ("version: 1\nwatchers: {global: {default_delimitr: ';'}}\n",
                 MWATCH_CONFIG_YAML,
                 "(did you mean \"default_delimiter\"?)");
   assert_error ("version: 1\nwatchers: {collection: {emit_on_new_retrieves: true}}\n",
                 MWATCH_CONFIG_YAML,
                 "watchers.collection.emit_on_new_retrieves: unknown key");
}
END_TEST

/* watchers.global's default_delimiter and key_value_separator (or
 * default_key_value_separator, pymongowatch's attribute name): the
 * separators of {watch} and {watch.full}; a configuration without them
 * goes back to " " and "=". */
START_TEST (test_watchers_separators)
{
   static const char *const handlers = "handlers:\n"
                                       "  out: {class: file, filename: '@D/out.log', formatter: w}\n"
                                       "loggers:\n"
                                       "  mongowatch: {level: INFO, handlers: [out]}\n";
   char *config = bson_strdup_printf ("version: 1\n"
                                      "formatters:\n"
                                      "  w: {format: '{watch}#{watch.full}'}\n"
                                      "%s"
                                      "watchers:\n"
                                      "  global: {default_delimiter: '|', key_value_separator: ':'}\n",
                                      handlers);
   load_yaml (config);
   bson_free (config);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1.25);
   mwatch_shutdown ();
   assert_file_has ("out.log",
                    "DB:shop|Collection:news|Operation:find|Filter:{\"user\":\"alice\",\"age\":{\"$gt\":30}}"
                    "|Duration:1.25#");
   assert_file_has ("out.log", "|DB:shop|Collection:news|Operation:find|");
   assert_file_lacks ("out.log", "=");

   /* Empty, and several bytes of UTF-8, under pymongowatch's own name. */
   config = bson_strdup_printf ("version: 1\n"
                                "formatters:\n"
                                "  w: {format: '{watch}'}\n"
                                "%s"
                                "watchers:\n"
                                "  global: {default_delimiter: '', default_key_value_separator: \" \u2192 \"}\n",
                                handlers);
   load_yaml (config);
   bson_free (config);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "c2", 2);
   mwatch_shutdown ();
   assert_file_has ("out.log",
                    "DB \xe2\x86\x92 shopCollection \xe2\x86\x92 c2Operation \xe2\x86\x92 find"
                    "Filter \xe2\x86\x92 {");

   /* Too long for the default list's table: the general path, alike. */
   config = bson_strdup_printf ("version: 1\n"
                                "formatters:\n"
                                "  w: {format: '{watch}'}\n"
                                "%s"
                                "watchers:\n"
                                "  global: {default_delimiter: ' ;;;;;;;;; ', key_value_separator: ' :: '}\n",
                                handlers);
   load_yaml (config);
   bson_free (config);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "c3", 3);
   mwatch_shutdown ();
   assert_file_has ("out.log", "\nDB :: shop ;;;;;;;;; Collection :: c3 ;;;;;;;;; Operation :: find ;;;;;;;;; ");

   /* Loaded again without them: the defaults. */
   config = bson_strdup_printf ("version: 1\nformatters:\n  w: {format: '{watch}'}\n%s", handlers);
   load_yaml (config);
   bson_free (config);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "c4", 4);
   mwatch_shutdown ();
   assert_file_has ("out.log", "\nDB=shop Collection=c4 Operation=find Filter=");

   /* check-config shows them when set, as JSON strings. */
   char *got = describe ("version: 1\nwatchers: {global: {default_delimiter: '', key_value_separator: ' = '}}\n");
   assert_has (got, "watchers global: default_delimiter \"\" key_value_separator \" = \"\n");
   bson_free (got);
   got = describe ("version: 1\nwatchers: {global: {default_key_value_separator: ':'}}\n");
   assert_has (got, "watchers global: key_value_separator \":\"\n");
   bson_free (got);
   got = describe ("version: 1\nwatchers: {global: {timeout_sec: 3}}\n");
   ck_assert_msg (!strstr (got, "watchers global:"), "%s", got);
   bson_free (got);
}
END_TEST

/* ------------------------------------------------------------------------
 * Several files merged; where the mask looks
 * ------------------------------------------------------------------------ */

START_TEST (test_files_merge_in_order)
{
   char base[PATH_MAX], level[PATH_MAX], json[PATH_MAX], empty[PATH_MAX];
   write_file ("base.yaml",
               "version: 1\n"
               "formatters:\n"
               "  c: {format: 'base {watch.Collection}'}\n"
               "handlers:\n"
               "  f: {class: file, filename: '@D/m.log', formatter: c, level: ERROR}\n"
               "loggers:\n"
               "  mongowatch: {level: INFO, handlers: [f]}\n"
               "watchers:\n"
               "  cursor: {timeout_sec: 7, default_fields: [DB, Collection]}\n",
               base);
   /* Changes one key of a handler, keeps the rest; replaces a list. */
   write_file ("level.yaml",
               "handlers:\n"
               "  f: {level: INFO}\n"
               "watchers:\n"
               "  cursor: {default_fields: [Duration]}\n",
               level);
   write_file ("format.json", "{\"formatters\": {\"c\": {\"format\": \"json {watch.Collection}\"}}}", json);
   write_file ("empty.yaml", "# nothing here\n", empty);
   const char *paths[] = {base, level, empty, json};
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_files (paths, 4, &error), "%s", error.message);
   log_op ("mongowatch.cursor", MWATCH_LEVEL_INFO, "news", 1);
   mwatch_watcher_opts_t opts;
   mwatch_watcher_get_opts (MWATCH_WATCHER_CURSOR, &opts);
   ck_assert (opts.timeout_sec == 7);
   ck_assert_str_eq (opts.default_fields[0], "Duration");
   ck_assert_ptr_null (opts.default_fields[1]);
   mwatch_shutdown ();
   assert_file ("m.log", "json news\n");
}
END_TEST

START_TEST (test_merged_errors_name_their_file)
{
   char base[PATH_MAX], bad[PATH_MAX];
   write_file ("base.yaml",
               "version: 1\n"
               "handlers:\n"
               "  f: {class: file, filename: '@D/m.log'}\n",
               base);
   write_file ("bad.yaml", "handlers:\n  f:\n    level: LOUD\n", bad);
   const char *paths[] = {base, bad};
   bson_error_t error;
   ck_assert (!mwatch_config_load_files (paths, 2, &error));
   char want[PATH_MAX + 64];
   bson_snprintf (want, sizeof want, "%s:3:12: handlers.f.level: unknown level \"LOUD\"", bad);
   ck_assert_msg (strncmp (error.message, want, strlen (want)) == 0, "%s", error.message);

   /* A key only the first file has is reported in the first file. */
   write_file ("bad.yaml", "loggers:\n  mongowatch: {handlers: [f]}\n", bad);
   write_file ("base.yaml",
               "version: 1\n"
               "handlers:\n"
               "  f: {class: file, filename: '@D/m.log', maxBytes: 1}\n",
               base);
   ck_assert (!mwatch_config_load_files (paths, 2, &error));
   /* Column 42 with "@D" expanded to the directory. */
   bson_snprintf (want,
                  sizeof want,
                  "%s:3:%d: handlers.f.maxBytes: unknown key",
                  base,
                  (int) (42 + strlen (dir) - 2));
   ck_assert_msg (strncmp (error.message, want, strlen (want)) == 0, "%s", error.message);

   write_file ("bad.yaml", "- a list\n", bad);
   ck_assert (!mwatch_config_load_files (paths, 2, &error));
   ck_assert_msg (strstr (error.message, bad) && strstr (error.message, "expected a mapping"),
                  "%s",
                  error.message);
   ck_assert (!mwatch_config_load_files (paths, 0, &error));
}
END_TEST

static void
make_dir (const char *name)
{
   char path[PATH_MAX];
   path_in_dir (path, name);
   ck_assert_int_eq (mkdir (path, 0700), 0);
}

static void
touch (const char *name)
{
   char path[PATH_MAX];
   write_file (name, "", path);
}

START_TEST (test_search_order)
{
   make_dir ("a");
   make_dir ("a/mongowatch");
   make_dir ("a/mongowatch/conf.d");
   make_dir ("b");
   make_dir ("home");
   touch ("a/mongowatch.yaml");
   touch ("a/mongowatch/mongowatch.yaml");
   touch ("a/mongowatch/conf.d/20-b.yaml");
   touch ("a/mongowatch/conf.d/10-a.json");
   touch ("a/mongowatch/conf.d/notes.txt");
   touch ("a/mongowatch/conf.d/.hidden.yaml");
   touch ("b/mongowatch.yaml");
   touch ("home/.mongowatch.yaml");
   char a[PATH_MAX], b[PATH_MAX], home[PATH_MAX];
   path_in_dir (a, "a");
   path_in_dir (b, "b");
   path_in_dir (home, "home");
   char *dirs = bson_strdup_printf ("%s:%s", a, b);
   char *saved_home = getenv ("HOME") ? bson_strdup (getenv ("HOME")) : NULL;
   setenv ("MONGOWATCH_SYSCONFDIR", dirs, 1);
   setenv ("HOME", home, 1);
   unsetenv ("MONGOWATCH_CONFIG");
   size_t count = 0;
   char **found = mwatch_config_search (&count);
   const char *want[] = {"a/mongowatch.yaml",
                         "a/mongowatch/mongowatch.yaml",
                         "a/mongowatch/conf.d/10-a.json",
                         "a/mongowatch/conf.d/20-b.yaml",
                         "b/mongowatch.yaml",
                         "home/.mongowatch.yaml"};
   ck_assert_uint_eq (count, 6);
   for (size_t i = 0; i < 6; i++) {
      char path[PATH_MAX];
      path_in_dir (path, want[i]);
      ck_assert_str_eq (found[i], path);
   }
   ck_assert_ptr_null (found[6]);
   bson_strfreev (found);

   setenv ("MONGOWATCH_CONFIG", "/somewhere/else.yaml", 1);
   found = mwatch_config_search (&count);
   ck_assert_uint_eq (count, 1);
   ck_assert_str_eq (found[0], "/somewhere/else.yaml");
   bson_strfreev (found);

   unsetenv ("MONGOWATCH_CONFIG");
   setenv ("MONGOWATCH_SYSCONFDIR", "/nonexistent", 1);
   setenv ("HOME", "/nonexistent", 1);
   found = mwatch_config_search (&count);
   ck_assert_uint_eq (count, 0);
   ck_assert_ptr_nonnull (found);
   ck_assert_ptr_null (found[0]);
   bson_strfreev (found);
   bson_free (dirs);
   if (saved_home) {
      setenv ("HOME", saved_home, 1);
      bson_free (saved_home);
   } else {
      unsetenv ("HOME");
   }
}
END_TEST

/* ------------------------------------------------------------------------ */

Suite *
config_suite (void)
{
   Suite *s = suite_create ("config");
   TCase *tc = tcase_create ("config");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_add_test (tc, test_sample_yaml_and_json_agree);
   tcase_add_loop_test (tc, test_sample_takes_effect, 0, 2);
   tcase_add_test (tc, test_formatter_format_and_datefmt);
   tcase_add_test (tc, test_formatter_default_when_unnamed);
   tcase_add_test (tc, test_handler_level_and_filters);
   tcase_add_test (tc, test_rate_ignore_intermediates_key);
   tcase_add_test (tc, test_pymongowatch_filter_classes);
   tcase_add_test (tc, test_pymongowatch_rate_filter);
   tcase_add_test (tc, test_rate_extra_timeout_reports_last_window);
   tcase_add_test (tc, test_rate_pending_window_written_at_shutdown);
   tcase_add_test (tc, test_rate_pending_window_not_written_by_child);
   tcase_add_test (tc, test_rate_pending_window_on_logger_reported);
   tcase_add_test (tc, test_modify_and_attributes_fields_known);
   tcase_add_test (tc, test_pymongowatch_execute_filter_within_modify);
   tcase_add_test (tc, test_logger_level_propagate_filters);
   tcase_add_test (tc, test_disable_existing_loggers);
   tcase_add_test (tc, test_rotating_file_handler);
   tcase_add_test (tc, test_timed_rotating_file_handler);
   tcase_add_test (tc, test_timed_rotating_file_errors);
   tcase_add_test (tc, test_watched_file_handler);
   tcase_add_test (tc, test_csv_header_only_when_empty);
   tcase_add_test (tc, test_csv_header_from_formatter);
   tcase_add_test (tc, test_csv_escape_newlines);
   tcase_add_test (tc, test_syslog_handler);
   tcase_add_test (tc, test_stream_and_null_handlers);
   tcase_add_test (tc, test_queue_handler_options);
   tcase_add_test (tc, test_cfg_references);
   tcase_add_test (tc, test_plugin_filter_and_handler);
   tcase_add_loop_test (
      tc, test_error_messages, 0, (int) (sizeof error_cases / sizeof *error_cases));
   tcase_add_test (tc, test_file_errors_name_the_file);
   tcase_add_test (tc, test_file_handler_delay);
   tcase_add_test (tc, test_failed_load_changes_nothing);
   tcase_add_test (tc, test_reload_loses_nothing);
   tcase_add_test (tc, test_check_installs_nothing);
   tcase_add_test (tc, test_check_mode_dry_run_and_open);
   tcase_add_test (tc, test_check_warns_of_filters_above_watchers);
   tcase_add_test (tc, test_never_patched_is_reported);
   tcase_add_test (tc, test_template_fields_declared);
   tcase_add_test (tc, test_watchers_options);
   tcase_add_test (tc, test_watchers_pymongowatch_csv);
   tcase_add_test (tc, test_watchers_pymongowatch_operations);
   tcase_add_test (tc, test_watchers_pymongowatch_errors);
   tcase_add_test (tc, test_watchers_separators);
   tcase_add_test (tc, test_files_merge_in_order);
   tcase_add_test (tc, test_merged_errors_name_their_file);
   tcase_add_test (tc, test_search_order);
   tcase_add_test (tc, test_suggest);
   tcase_add_test (tc, test_pymongowatch_logger_names);
   tcase_add_test (tc, test_pymongowatch_queue_handlers);
   tcase_add_test (tc, test_python_format_styles);
   suite_add_tcase (s, tc);
   return s;
}
