/* The metrics handler and its table (lib/metrics.c, lib/handler-metrics.c):
 * the Prometheus text encoding exactly, the histogram's buckets, the
 * series bound, the handler's records and file, its configuration class,
 * fork, and that a reader never sees a partial file while it is rewritten. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/metrics-private.h"
#include "prom-parse.h"
#include "test-util.h"
#include "unit/suites.h"

static char root[PATH_MAX];

static void
root_setup (void)
{
   bson_snprintf (root, sizeof root, "/tmp/mwatch-metrics-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (root));
}

static void
root_teardown (void)
{
   mwatch_test_remove_tree (root);
}

/* A fresh folder in root, and `path` the file `name` in it. */
static void
test_path (char *path, const char *name)
{
   char dir[PATH_MAX];
   bson_snprintf (dir, sizeof dir, "%s/XXXXXX", root);
   ck_assert_ptr_nonnull (mkdtemp (dir));
   bson_snprintf (path, PATH_MAX, "%s/%s", dir, name);
}

static mwatch_metrics_sample_t
sample (const char *db, const char *coll, const char *op, double duration, bool error)
{
   mwatch_metrics_sample_t s = {.db = db,
                                .db_len = strlen (db),
                                .collection = coll,
                                .collection_len = strlen (coll),
                                .operation = op,
                                .operation_len = strlen (op),
                                .has_duration = duration >= 0,
                                .duration_sec = duration,
                                .error = error};
   return s;
}

static char *
label (const char *text, size_t len)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   _mwatch_metrics_label_value (&out, text, len);
   return out.data ? out.data : bson_strdup ("");
}

/* ------------------------------------------------------------------------
 * The encoding
 * ------------------------------------------------------------------------ */

START_TEST (test_label_values_escaped)
{
   char *s = label ("a\\b\"c\nd\te", 9);
   ck_assert_str_eq (s, "a\\\\b\\\"c\\nd\te"); /* a tab stays: only \, " and LF are escaped */
   bson_free (s);
   s = label ("caf\xc3\xa9 \xe2\x82\xac", 9); /* well-formed UTF-8 passes */
   ck_assert_str_eq (s, "caf\xc3\xa9 \xe2\x82\xac");
   bson_free (s);
   s = label ("x\xff" "y\0z", 5); /* a stray byte and a NUL: U+FFFD each */
   ck_assert_str_eq (s, "x\xef\xbf\xbdy\xef\xbf\xbdz");
   bson_free (s);
   s = label ("\xe2\x82", 2); /* a cut sequence at the end */
   ck_assert_str_eq (s, "\xef\xbf\xbd");
   bson_free (s);
}
END_TEST

START_TEST (test_exposition_exact)
{
   mwatch_metrics_t m;
   _mwatch_metrics_init (&m, 10);
   mwatch_metrics_sample_t a = sample ("shop", "or\"ders", "find", 0.0003, false);
   a.has_count[MWATCH_METRICS_MATCHED] = true;
   a.count[MWATCH_METRICS_MATCHED] = 7;
   ck_assert (_mwatch_metrics_add (&m, &a));
   mwatch_metrics_sample_t b = sample ("shop", "or\"ders", "find", 0.3, true);
   b.has_count[MWATCH_METRICS_MATCHED] = true;
   b.count[MWATCH_METRICS_MATCHED] = 5;
   ck_assert (_mwatch_metrics_add (&m, &b));
   mwatch_metrics_sample_t c = sample ("shop", "users", "insert_one", 12, false);
   c.has_count[MWATCH_METRICS_INSERTED] = true;
   c.count[MWATCH_METRICS_INSERTED] = 1;
   ck_assert (_mwatch_metrics_add (&m, &c));
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   _mwatch_metrics_render_prometheus (&m, "pid=\"7\"", &out);

#define F "{pid=\"7\",db=\"shop\",collection=\"or\\\"ders\",operation=\"find\""
#define I "{pid=\"7\",db=\"shop\",collection=\"users\",operation=\"insert_one\""
#define H "mongowatch_operation_duration_seconds"
   const char *want =
      "# HELP mongowatch_operations_total Final records of watched operations.\n"
      "# TYPE mongowatch_operations_total counter\n"
      "mongowatch_operations_total" F "} 2\n"
      "mongowatch_operations_total" I "} 1\n"
      "# HELP mongowatch_operation_errors_total Final records of watched operations that "
      "failed (with an Error field).\n"
      "# TYPE mongowatch_operation_errors_total counter\n"
      "mongowatch_operation_errors_total" F "} 1\n"
      "mongowatch_operation_errors_total" I "} 0\n"
      "# HELP " H " Duration of watched operations in seconds.\n"
      "# TYPE " H " histogram\n"
      H "_bucket" F ",le=\"0.0005\"} 1\n" H "_bucket" F ",le=\"0.001\"} 1\n"
      H "_bucket" F ",le=\"0.0025\"} 1\n" H "_bucket" F ",le=\"0.005\"} 1\n"
      H "_bucket" F ",le=\"0.01\"} 1\n" H "_bucket" F ",le=\"0.025\"} 1\n"
      H "_bucket" F ",le=\"0.05\"} 1\n" H "_bucket" F ",le=\"0.1\"} 1\n"
      H "_bucket" F ",le=\"0.25\"} 1\n" H "_bucket" F ",le=\"0.5\"} 2\n"
      H "_bucket" F ",le=\"1\"} 2\n" H "_bucket" F ",le=\"2.5\"} 2\n"
      H "_bucket" F ",le=\"5\"} 2\n" H "_bucket" F ",le=\"10\"} 2\n"
      H "_bucket" F ",le=\"+Inf\"} 2\n"
      H "_sum" F "} 0.3003\n"
      H "_count" F "} 2\n"
      H "_bucket" I ",le=\"0.0005\"} 0\n" H "_bucket" I ",le=\"0.001\"} 0\n"
      H "_bucket" I ",le=\"0.0025\"} 0\n" H "_bucket" I ",le=\"0.005\"} 0\n"
      H "_bucket" I ",le=\"0.01\"} 0\n" H "_bucket" I ",le=\"0.025\"} 0\n"
      H "_bucket" I ",le=\"0.05\"} 0\n" H "_bucket" I ",le=\"0.1\"} 0\n"
      H "_bucket" I ",le=\"0.25\"} 0\n" H "_bucket" I ",le=\"0.5\"} 0\n"
      H "_bucket" I ",le=\"1\"} 0\n" H "_bucket" I ",le=\"2.5\"} 0\n"
      H "_bucket" I ",le=\"5\"} 0\n" H "_bucket" I ",le=\"10\"} 0\n"
      H "_bucket" I ",le=\"+Inf\"} 1\n"
      H "_sum" I "} 12.0\n"
      H "_count" I "} 1\n"
      "# HELP mongowatch_documents_total Documents counted by the final records' count "
      "fields (kind: matched, inserted, modified, upserted, deleted).\n"
      "# TYPE mongowatch_documents_total counter\n"
      "mongowatch_documents_total" F ",kind=\"matched\"} 12\n"
      "mongowatch_documents_total" I ",kind=\"inserted\"} 1\n"
      "# HELP mongowatch_metrics_records_dropped_total Final records not counted because "
      "max_series (DB, Collection, Operation) series existed already.\n"
      "# TYPE mongowatch_metrics_records_dropped_total counter\n"
      "mongowatch_metrics_records_dropped_total{pid=\"7\"} 0\n";
#undef F
#undef I
#undef H
   ck_assert_str_eq (out.data, want);
   char why[200];
   ck_assert_msg (prom_parse (out.data, out.len, why, sizeof why), "%s", why);
   mwatch_buf_destroy (&out);
   _mwatch_metrics_destroy (&m);
}
END_TEST

/* `le` is "less than or equal": a duration equal to a bound is in it. */
START_TEST (test_bucket_bounds)
{
   ck_assert_uint_eq (_mwatch_metrics_bucket (0), 0);
   ck_assert_uint_eq (_mwatch_metrics_bucket (0.0005), 0);
   ck_assert_uint_eq (_mwatch_metrics_bucket (0.00051), 1);
   ck_assert_uint_eq (_mwatch_metrics_bucket (1), 10);
   ck_assert_uint_eq (_mwatch_metrics_bucket (10), 13);
   ck_assert_uint_eq (_mwatch_metrics_bucket (10.5), MWATCH_METRICS_BOUNDS);
   ck_assert_uint_eq (_mwatch_metrics_bucket (0.0 / 0.0), MWATCH_METRICS_BOUNDS);
   for (size_t i = 1; i < MWATCH_METRICS_BOUNDS; i++) {
      ck_assert (_mwatch_metrics_bounds[i - 1] < _mwatch_metrics_bounds[i]);
   }
}
END_TEST

START_TEST (test_series_bound_and_lookup)
{
   mwatch_metrics_t m;
   _mwatch_metrics_init (&m, 1500);
   char coll[32];
   /* Twice each of 1,500 series (the table grows its slots several
    * times): each found again, not made twice. */
   for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 1500; i++) {
         bson_snprintf (coll, sizeof coll, "c%d", i);
         mwatch_metrics_sample_t s = sample ("db", coll, "find", 0.001, false);
         ck_assert (_mwatch_metrics_add (&m, &s));
      }
   }
   ck_assert_uint_eq (m.count, 1500);
   for (size_t i = 0; i < m.count; i++) {
      ck_assert_uint_eq (m.series[i]->operations, 2);
   }
   /* ("ab", "c") and ("a", "bc") are two series. */
   mwatch_metrics_t two;
   _mwatch_metrics_init (&two, 10);
   mwatch_metrics_sample_t x = sample ("ab", "c", "find", -1, false);
   mwatch_metrics_sample_t y = sample ("a", "bc", "find", -1, false);
   ck_assert (_mwatch_metrics_add (&two, &x));
   ck_assert (_mwatch_metrics_add (&two, &y));
   ck_assert_uint_eq (two.count, 2);
   _mwatch_metrics_destroy (&two);
   /* One more series is over the bound: dropped and counted; a known one
    * still counts. */
   mwatch_metrics_sample_t extra = sample ("db", "new", "find", 0.001, false);
   ck_assert (!_mwatch_metrics_add (&m, &extra));
   ck_assert (!_mwatch_metrics_add (&m, &extra));
   mwatch_metrics_sample_t known = sample ("db", "c7", "find", 0.001, false);
   ck_assert (_mwatch_metrics_add (&m, &known));
   ck_assert_uint_eq (m.dropped, 2);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   _mwatch_metrics_render_prometheus (&m, NULL, &out);
   ck_assert_double_eq (prom_value (out.data, "mongowatch_metrics_records_dropped_total"), 2);
   ck_assert_double_eq (
      prom_value (out.data,
                  "mongowatch_operations_total{db=\"db\",collection=\"c7\",operation=\"find\"}"),
      3);
   mwatch_buf_destroy (&out);
   _mwatch_metrics_reset (&m);
   ck_assert_uint_eq (m.count, 0);
   ck_assert_uint_eq (m.dropped, 0);
   ck_assert_uint_eq (m.max_series, 1500);
   _mwatch_metrics_destroy (&m);
}
END_TEST

/* ------------------------------------------------------------------------
 * The handler
 * ------------------------------------------------------------------------ */

static mwatch_message_t *
record_message (const char *state, const char *coll, const char *op, double duration, bool error)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "State", state);
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", coll);
   mwatch_message_set_utf8 (msg, "Operation", op);
   if (duration >= 0) {
      mwatch_message_set_double (msg, "Duration", duration);
   }
   if (error) {
      mwatch_message_set_utf8 (msg, "Error", "boom");
   }
   return msg;
}

static void
handle (mwatch_handler_t *handler, mwatch_message_t *msg)
{
   mwatch_record_t record = {.name = "mongowatch.collection",
                             .level = MWATCH_LEVEL_INFO,
                             .timeout_level = MWATCH_LEVEL_INFO,
                             .watch = msg};
   mwatch_handler_handle (handler, &record);
   mwatch_message_destroy (msg);
}

/* The file at `path`, parsed whole (the test fails otherwise). */
static char *
read_parsed (const char *path)
{
   size_t len;
   char *text = mwatch_test_slurp (path, &len);
   ck_assert_msg (text != NULL, "%s: %s", path, strerror (errno));
   char why[200];
   ck_assert_msg (prom_parse (text, len, why, sizeof why), "%s: %s", path, why);
   return text;
}

#define OPS(coll, op) \
   "mongowatch_operations_total{db=\"shop\",collection=\"" coll "\",operation=\"" op "\"}"
#define ERRS(coll, op) \
   "mongowatch_operation_errors_total{db=\"shop\",collection=\"" coll "\",operation=\"" op "\"}"

START_TEST (test_handler_counts_final_records)
{
   char path[PATH_MAX];
   test_path (path, "mongowatch.prom");
   bson_error_t error;
   mwatch_metrics_handler_opts_t opts;
   mwatch_metrics_handler_opts_init (&opts);
   ck_assert (opts.interval_sec == 15.0 && opts.max_series == 1000);
   opts.interval_sec = 3600; /* written at close only, here */
   mwatch_handler_t *h = mwatch_handler_new_metrics (path, &opts, &error);
   ck_assert_msg (h, "%s", error.message);
   handle (h, record_message ("final", "orders", "find", 0.002, false));
   handle (h, record_message ("final", "orders", "find", 0.02, true));
   handle (h, record_message ("first", "orders", "find", -1, false));
   handle (h, record_message ("update", "orders", "find", 0.01, false));
   handle (h, record_message ("timeout", "orders", "find", 9, false));
   mwatch_message_t *counted = record_message ("final", "orders", "update_many", 0.004, false);
   mwatch_message_set_int64 (counted, "MatchedCount", 3);
   mwatch_message_set_int64 (counted, "ModifiedCount", 2);
   handle (h, counted);
   /* A record of the user's own, without State: ready counts. */
   mwatch_message_t *mine = mwatch_message_new ();
   mwatch_message_set_utf8 (mine, "Operation", "mine");
   handle (h, mwatch_message_copy (mine));
   mwatch_message_set_ready (mine);
   handle (h, mine);
   struct stat st;
   ck_assert_int_ne (stat (path, &st), 0); /* nothing written before the interval or close */
   mwatch_handler_close (h);
   char *text = read_parsed (path);
   ck_assert_double_eq (prom_value (text, OPS ("orders", "find")), 2);
   ck_assert_double_eq (prom_value (text, ERRS ("orders", "find")), 1);
   ck_assert_double_eq (prom_value (text, OPS ("orders", "update_many")), 1);
   ck_assert_double_eq (
      prom_value (text, "mongowatch_operation_duration_seconds_bucket{db=\"shop\",collection="
                        "\"orders\",operation=\"find\",le=\"0.0025\"}"),
      1);
   ck_assert_double_eq (
      prom_value (text, "mongowatch_operation_duration_seconds_count{db=\"shop\",collection="
                        "\"orders\",operation=\"find\"}"),
      2);
   ck_assert_double_eq (
      prom_value (text, "mongowatch_documents_total{db=\"shop\",collection=\"orders\","
                        "operation=\"update_many\",kind=\"modified\"}"),
      2);
   ck_assert_double_eq (
      prom_value (text, "mongowatch_operations_total{db=\"\",collection=\"\",operation=\"mine\"}"),
      1);
   ck_assert_int_eq (stat (path, &st), 0);
   ck_assert_int_eq (st.st_mode & 0777, 0644); /* node_exporter reads it as its own user */
   bson_free (text);
   mwatch_handler_destroy (h);
}
END_TEST

/* Waits up to 10 s for the file at `path` to say `value` for `series`. */
static bool
await_value (const char *path, const char *series, double value)
{
   for (int i = 0; i < 2000; i++) {
      size_t len;
      char *text = mwatch_test_slurp (path, &len);
      char why[200];
      bool done = text && prom_parse (text, len, why, sizeof why) &&
                  prom_value (text, series) == value;
      bson_free (text);
      if (done) {
         return true;
      }
      usleep (5000);
   }
   return false;
}

START_TEST (test_handler_writes_every_interval)
{
   char path[PATH_MAX];
   test_path (path, "m.prom");
   bson_error_t error;
   mwatch_metrics_handler_opts_t opts = {.interval_sec = 0.05, .max_series = 100};
   mwatch_handler_t *h = mwatch_handler_new_metrics (path, &opts, &error);
   ck_assert_msg (h, "%s", error.message);
   handle (h, record_message ("final", "c", "find", 0.001, false));
   ck_assert (await_value (path, OPS ("c", "find"), 1));
   handle (h, record_message ("final", "c", "find", 0.001, false));
   ck_assert (await_value (path, OPS ("c", "find"), 2));
   /* No temporary file is left beside it. */
   char dir[PATH_MAX];
   bson_snprintf (dir, sizeof dir, "%s", path);
   *strrchr (dir, '/') = '\0';
   char tmp[PATH_MAX + 32];
   bson_snprintf (tmp, sizeof tmp, "%s/.m.prom.%d.tmp", dir, (int) getpid ());
   mwatch_handler_destroy (h);
   ck_assert_int_ne (access (tmp, F_OK), 0);
}
END_TEST

typedef struct {
   mwatch_handler_t *handler;
   atomic_bool stop;
} emitter_t;

static void *
emitter_main (void *arg)
{
   emitter_t *e = arg;
   char coll[32];
   for (int i = 0; !atomic_load (&e->stop); i++) {
      bson_snprintf (coll, sizeof coll, "collection_%d", i % 300);
      handle (e->handler, record_message ("final", coll, "find", (i % 100) * 0.001, i % 7 == 0));
   }
   return NULL;
}

/* node_exporter reads the file whenever it is scraped: whatever the moment,
 * it must find a whole file.  300 series (about 250 KB) rewritten every
 * millisecond while another thread reads it 2,000 times: every read
 * parses to its last family. */
START_TEST (test_reader_never_sees_a_partial_file)
{
   char path[PATH_MAX];
   test_path (path, "m.prom");
   bson_error_t error;
   mwatch_metrics_handler_opts_t opts = {.interval_sec = 0.001, .max_series = 1000};
   emitter_t e = {.handler = mwatch_handler_new_metrics (path, &opts, &error)};
   ck_assert_msg (e.handler, "%s", error.message);
   atomic_init (&e.stop, false);
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, emitter_main, &e), 0);
   ck_assert (await_value (path, PROM_LAST_FAMILY, 0));
   /* Under valgrind (make memcheck), fewer: each read is slow there. */
   const int want_reads = getenv ("MWATCH_MEMCHECK") ? 100 : 2000;
   int reads = 0, versions = 0;
   double last = -1;
   for (int i = 0; i < want_reads; i++) {
      size_t len;
      char *text = mwatch_test_slurp (path, &len);
      ck_assert_msg (text, "read %d: %s", i, strerror (errno));
      char why[200];
      ck_assert_msg (prom_parse (text, len, why, sizeof why), "read %d: %s", i, why);
      double ops = prom_value (
         text, "mongowatch_operations_total{db=\"shop\",collection=\"collection_0\",operation=\"find\"}");
      versions += ops != last;
      last = ops;
      reads++;
      bson_free (text);
   }
   atomic_store (&e.stop, true);
   pthread_join (thread, NULL);
   mwatch_handler_destroy (e.handler);
   ck_assert_int_eq (reads, want_reads);
   /* It was really rewritten while read. */
   ck_assert_msg (versions > (want_reads > 100 ? 10 : 1), "only %d versions seen", versions);
}
END_TEST

#if !defined(__SANITIZE_THREAD__) /* see metrics_suite */
/* A forked child counts afresh: with {pid} in the path, into a file of its
 * own, labelled with its pid; without, not at all (the parent's file
 * stays the parent's). */
START_TEST (test_fork_child_counts_afresh)
{
   char path[PATH_MAX], shared_path[PATH_MAX];
   test_path (path, "m-{pid}.prom");
   test_path (shared_path, "shared.prom");
   bson_error_t error;
   mwatch_metrics_handler_opts_t opts = {.interval_sec = 3600, .max_series = 100};
   mwatch_handler_t *h = mwatch_handler_new_metrics (path, &opts, &error);
   mwatch_handler_t *shared = mwatch_handler_new_metrics (shared_path, &opts, &error);
   ck_assert (h && shared);
   handle (h, record_message ("final", "c", "find", 0.001, false));
   handle (shared, record_message ("final", "c", "find", 0.001, false));
   /* The two writers have just started: fork once they wait (see
    * mwatch_test_threads_asleep). */
   ck_assert (mwatch_test_threads_asleep (10));
   fflush (stderr);
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      for (int i = 0; i < 3; i++) {
         handle (h, record_message ("final", "c", "find", 0.001, false));
         handle (shared, record_message ("final", "c", "find", 0.001, false));
      }
      mwatch_handler_close (h);
      mwatch_handler_close (shared);
      _exit (0);
   }
   int status;
   ck_assert (mwatch_test_child_exited (pid, 20, &status));
   ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
   char child_path[PATH_MAX], series[256];
   bson_snprintf (child_path, sizeof child_path, "%.*s%d.prom",
                  (int) (strstr (path, "{pid}") - path), path, (int) pid);
   char *text = read_parsed (child_path);
   bson_snprintf (series, sizeof series,
                  "mongowatch_operations_total{pid=\"%d\",db=\"shop\",collection=\"c\","
                  "operation=\"find\"}", (int) pid);
   ck_assert_double_eq (prom_value (text, series), 3);
   bson_free (text);
   struct stat st;
   ck_assert_int_ne (stat (shared_path, &st), 0); /* the child did not write the parent's file */
   mwatch_handler_destroy (h);
   mwatch_handler_destroy (shared);
   text = read_parsed (shared_path);
   ck_assert_double_eq (prom_value (text, OPS ("c", "find")), 1);
   bson_free (text);
}
END_TEST
#endif

START_TEST (test_handler_bad_arguments)
{
   bson_error_t error;
   mwatch_metrics_handler_opts_t opts;
   mwatch_metrics_handler_opts_init (&opts);
   ck_assert (!mwatch_handler_new_metrics (NULL, NULL, &error));
   ck_assert (!mwatch_handler_new_metrics ("/nonexistent-folder/m.prom", NULL, &error));
   ck_assert_msg (strstr (error.message, "/nonexistent-folder"), "%s", error.message);
   ck_assert_int_eq (error.code, MWATCH_ERROR_IO);
   opts.interval_sec = 0;
   ck_assert (!mwatch_handler_new_metrics ("/tmp/m.prom", &opts, &error));
   ck_assert_msg (strstr (error.message, "interval_sec"), "%s", error.message);
   opts.interval_sec = 1;
   opts.max_series = 0;
   ck_assert (!mwatch_handler_new_metrics ("/tmp/m.prom", &opts, &error));
   ck_assert_msg (strstr (error.message, "max_series"), "%s", error.message);
}
END_TEST

/* ------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------ */

static bool
load (const char *yaml, bson_error_t *error)
{
   return mwatch_config_load_string (yaml, MWATCH_CONFIG_YAML, error);
}

START_TEST (test_config_class)
{
   char path[PATH_MAX], yaml[2 * PATH_MAX];
   test_path (path, "cfg.prom");
   bson_error_t error;
   bson_snprintf (yaml, sizeof yaml,
                  "version: 1\n"
                  "handlers:\n"
                  "  metrics:\n"
                  "    class: metrics\n"
                  "    filename: %s\n"
                  "    interval_sec: 0.5\n"
                  "    max_series: 50\n"
                  "  queue:\n"
                  "    class: queue\n"
                  "    handler: metrics\n"
                  "loggers:\n"
                  "  mongowatch:\n"
                  "    level: INFO\n"
                  "    handlers: [queue]\n",
                  path);
   ck_assert_msg (load (yaml, &error), "%s", error.message);
   mwatch_message_t *msg = record_message ("final", "cfg", "find", 0.001, false);
   mwatch_message_set_ready (msg);
   mwatch_logger_log (mwatch_logger_get ("mongowatch.collection"), MWATCH_LEVEL_INFO,
                      MWATCH_LEVEL_INFO, msg);
   mwatch_message_destroy (msg);
   mwatch_shutdown ();
   char *text = read_parsed (path);
   ck_assert_double_eq (prom_value (text, OPS ("cfg", "find")), 1);
   bson_free (text);

   /* Python's name for it too. */
   bson_snprintf (yaml, sizeof yaml,
                  "version: 1\nhandlers:\n  m:\n    class: mongowatch.handlers.MetricsHandler\n"
                  "    filename: %s\n",
                  path);
   ck_assert_msg (load (yaml, &error), "%s", error.message);
   mwatch_shutdown ();
}
END_TEST

/* Each mistake is named: file, place, key. */
START_TEST (test_config_errors)
{
   char yaml[1024];
   bson_error_t error;
   static const struct {
      const char *body;
      const char *want[2];
   } cases[] = {
      {"    filename: /tmp/x.prom\n    intervl_sec: 3\n", {"intervl_sec", "interval_sec"}},
      {"    interval_sec: 3\n", {"filename", "required"}},
      {"    filename: /nonexistent-folder/x.prom\n", {"handlers.m.filename", "/nonexistent-folder"}},
      {"    filename: /tmp/x.prom\n    interval_sec: 0\n", {"interval_sec", "<string>:"}},
      {"    filename: /tmp/x.prom\n    max_series: many\n", {"max_series", "<string>:"}},
      {"    filename: /tmp/x.prom\n    formatter: f\n", {"formatter", "formats none"}},
   };
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      bson_snprintf (yaml, sizeof yaml,
                     "version: 1\nformatters:\n  f:\n    format: x\nhandlers:\n  m:\n"
                     "    class: metrics\n%s",
                     cases[i].body);
      ck_assert_msg (!load (yaml, &error), "case %zu loaded", i);
      for (int w = 0; w < 2; w++) {
         ck_assert_msg (strstr (error.message, cases[i].want[w]), "case %zu: \"%s\" lacks \"%s\"",
                        i, error.message, cases[i].want[w]);
      }
   }
}
END_TEST

Suite *
metrics_suite (void)
{
   Suite *suite = suite_create ("metrics");
   TCase *tc = tcase_create ("metrics");
   tcase_add_unchecked_fixture (tc, root_setup, root_teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_label_values_escaped);
   tcase_add_test (tc, test_exposition_exact);
   tcase_add_test (tc, test_bucket_bounds);
   tcase_add_test (tc, test_series_bound_and_lookup);
   tcase_add_test (tc, test_handler_counts_final_records);
   tcase_add_test (tc, test_handler_writes_every_interval);
   tcase_add_test (tc, test_reader_never_sees_a_partial_file);
#if !defined(__SANITIZE_THREAD__)
   /* The child starts a writer thread, which TSan refuses after a fork
    * of a threaded process ("starting new threads after multi-threaded
    * fork is not supported"). */
   tcase_add_test (tc, test_fork_child_counts_afresh);
#endif
   tcase_add_test (tc, test_handler_bad_arguments);
   tcase_add_test (tc, test_config_class);
   tcase_add_test (tc, test_config_errors);
   suite_add_tcase (suite, tc);
   return suite;
}
