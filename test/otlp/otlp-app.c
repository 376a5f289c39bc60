/* The OpenTelemetry handler end to end: real libmongoc operations against
 * the test server (test/server), watched, their records sent by the otlp
 * handler to a real OpenTelemetry Collector (test/collector), whose file
 * exporter's output is read back and checked.  Run by test/otlp-check:
 *
 *   otlp-app attributes   every attribute of every operation, log record
 *                         and span, from a configuration file's handler
 *                         (behind a queue, with the redact filter), the
 *                         endpoint and resource from OTEL_ variables
 *   otlp-app restart      the Collector stopped and started again mid-stream:
 *                         nothing lost; then, stopped, more records than the
 *                         buffer holds: exactly the excess dropped and counted
 *   otlp-app down         no Collector at all: counted drops, a report, and
 *                         close within its bound
 *   otlp-app fork         records buffered at fork(): the parent sends its
 *                         own, the child only its own
 *   otlp-app large        records too large to go all in one request
 *
 * Prints "otlp-app SCENARIO: N passed, 0 failed" or exits 1 naming the
 * first check that failed. */
#include <glob.h>
#include <jansson.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mongowatch.h"

static int passed;
static const char *scenario;

#define CHECK(cond, ...)                                                            \
   do {                                                                             \
      if (!(cond)) {                                                                \
         fprintf (stderr, "otlp-app %s: FAILED at line %d: ", scenario, __LINE__);  \
         fprintf (stderr, __VA_ARGS__);                                             \
         fprintf (stderr, "\n");                                                    \
         exit (1);                                                                  \
      }                                                                             \
      passed++;                                                                     \
   } while (0)

static const char *
need_env (const char *name)
{
   const char *v = getenv (name);
   if (!v || !*v) {
      fprintf (stderr, "otlp-app: %s is not set (run me from test/otlp-check)\n", name);
      exit (2);
   }
   return v;
}

/* test/collector stop or start: stop makes the Collector write out all it
 * received, so that the files can be read whole. */
static void
collector (const char *verb)
{
   char command[4096];
   snprintf (command, sizeof command, "'%s' %s", need_env ("MONGOWATCH_COLLECTOR_CTL"), verb);
   CHECK (system (command) == 0, "test/collector %s failed", verb);
}

/* Every log record (`spans` false) or span the Collector wrote, each as
 * {"resource": [attributes], "scope": name, "item": record}. */
static json_t *
collected (bool spans)
{
   char pattern[4096];
   glob_t g;
   json_t *all = json_array ();
   snprintf (pattern, sizeof pattern, "%s/%s.*.jsonl", need_env ("MONGOWATCH_COLLECTOR_DIR"),
             spans ? "traces" : "logs");
   if (glob (pattern, 0, NULL, &g) != 0) {
      return all;
   }
   for (size_t f = 0; f < g.gl_pathc; f++) {
      FILE *in = fopen (g.gl_pathv[f], "r");
      char *line = NULL;
      size_t cap = 0;
      while (in && getline (&line, &cap, in) > 0) {
         json_error_t jerr;
         json_t *req = json_loads (line, 0, &jerr);
         CHECK (req, "a line of %s is not JSON: %s", g.gl_pathv[f], jerr.text);
         size_t i, j, k;
         json_t *rl, *sl, *item;
         json_array_foreach (json_object_get (req, spans ? "resourceSpans" : "resourceLogs"), i, rl)
         {
            json_t *res = json_object_get (json_object_get (rl, "resource"), "attributes");
            json_array_foreach (json_object_get (rl, spans ? "scopeSpans" : "scopeLogs"), j, sl)
            {
               json_t *scope = json_object_get (json_object_get (sl, "scope"), "name");
               json_array_foreach (json_object_get (sl, spans ? "spans" : "logRecords"), k, item)
               {
                  json_array_append_new (all, json_pack ("{s:O,s:O,s:O}", "resource", res, "scope",
                                                         scope, "item", item));
               }
            }
         }
         json_decref (req);
      }
      free (line);
      if (in) {
         fclose (in);
      }
   }
   globfree (&g);
   return all;
}

/* The value object of attribute `key`, or NULL. */
static json_t *
attr (json_t *attributes, const char *key)
{
   size_t i;
   json_t *a;
   json_array_foreach (attributes, i, a)
   {
      if (strcmp (json_string_value (json_object_get (a, "key")), key) == 0) {
         return json_object_get (a, "value");
      }
   }
   return NULL;
}

static const char *
attr_str (json_t *attributes, const char *key)
{
   json_t *v = attr (attributes, key);
   return v ? json_string_value (json_object_get (v, "stringValue")) : NULL;
}

static long long
attr_int (json_t *attributes, const char *key)
{
   json_t *v = attr (attributes, key);
   const char *s = v ? json_string_value (json_object_get (v, "intValue")) : NULL;
   return s ? atoll (s) : -1;
}

static bool
same (const char *a, const char *b)
{
   return a && b && strcmp (a, b) == 0;
}

/* ---------------------------------------------------------------- operations */

typedef struct {
   mongoc_client_t *client;
   mongoc_collection_t *coll;
   char db[64];
   char name[64];
} app_t;

static void
app_open (app_t *app, const char *tag)
{
   bson_error_t error;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (need_env ("MONGOWATCH_TEST_URI"), &error);
   CHECK (uri, "bad URI: %s", error.message);
   app->client = mongoc_client_new_from_uri (uri);
   mongoc_uri_destroy (uri);
   snprintf (app->db, sizeof app->db, "otlp_check");
   snprintf (app->name, sizeof app->name, "%s_%d", tag, (int) getpid ());
   app->coll = mongoc_client_get_collection (app->client, app->db, app->name);
}

static void
app_close (app_t *app)
{
   mongoc_collection_drop (app->coll, NULL);
   mongoc_collection_destroy (app->coll);
   mongoc_client_destroy (app->client);
}

static void
insert_one (app_t *app, int id, bool expect_ok)
{
   bson_error_t error;
   bson_t *doc = BCON_NEW ("_id", BCON_INT32 (id), "name", "alice", "status", "A");
   bool ok = mongoc_collection_insert_one (app->coll, doc, NULL, NULL, &error);
   CHECK (ok == expect_ok, "insert_one %d: %s", id, ok ? "succeeded" : error.message);
   bson_destroy (doc);
}

/* ---------------------------------------------------------------- attributes */

typedef struct {
   const char *operation;
   const char *logger;   /* the scope */
   long long returned;   /* db.response.returned_rows, -1: none */
   bool failed;
   bool has_query;
} expected_t;

static const expected_t expected_ops[] = {
   /* An insert has no query (its documents are not logged). */
   {"insert_one", "mongowatch.collection", -1, false, false},
   {"insert_many", "mongowatch.collection", -1, false, false},
   {"find", "mongowatch.cursor", 3, false, true},
   {"update_many", "mongowatch.collection", -1, false, true},
   {"count_documents", "mongowatch.collection", -1, false, true},
   {"aggregate", "mongowatch.cursor", 3, false, true},
   {"delete_one", "mongowatch.collection", -1, false, true},
   {"insert_one", "mongowatch.collection", -1, true, false},
};
#define N_OPS (sizeof expected_ops / sizeof *expected_ops)

static void
run_operations (app_t *app)
{
   bson_error_t error;
   const bson_t *doc;

   insert_one (app, 1, true);
   bson_t *docs[3];
   for (int i = 0; i < 3; i++) {
      docs[i] = BCON_NEW ("_id", BCON_INT32 (i + 2), "name", "bob", "status", "A");
   }
   CHECK (mongoc_collection_insert_many (app->coll, (const bson_t **) docs, 3, NULL, NULL, &error),
          "insert_many: %s", error.message);
   for (int i = 0; i < 3; i++) {
      bson_destroy (docs[i]);
   }
   /* batchSize 1: getMore round trips, still one "find". */
   bson_t *filter = BCON_NEW ("name", "bob");
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (1));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (app->coll, filter, opts, NULL);
   int n = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      n++;
   }
   CHECK (n == 3, "find returned %d documents", n);
   mongoc_cursor_destroy (cursor);
   bson_destroy (opts);

   bson_t *update = BCON_NEW ("$set", "{", "status", "B", "}");
   CHECK (mongoc_collection_update_many (app->coll, filter, update, NULL, NULL, &error),
          "update_many: %s", error.message);
   bson_destroy (update);
   bson_t *count_filter = BCON_NEW ("status", "B");
   CHECK (mongoc_collection_count_documents (app->coll, count_filter, NULL, NULL, NULL, &error) == 3,
          "count_documents: %s", error.message);
   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "status", "B", "}", "}", "]");
   cursor = mongoc_collection_aggregate (app->coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
   n = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      n++;
   }
   CHECK (n == 3, "aggregate returned %d documents", n);
   mongoc_cursor_destroy (cursor);
   bson_destroy (pipeline);
   bson_t *one = BCON_NEW ("_id", BCON_INT32 (4));
   CHECK (mongoc_collection_delete_one (app->coll, one, NULL, NULL, &error), "delete_one: %s",
          error.message);
   bson_destroy (one);
   bson_destroy (count_filter);
   bson_destroy (filter);
   /* A duplicate key: the failed operation. */
   insert_one (app, 1, false);
}

/* The duration histogram the handler exported at close: one series per
 * operation of the collection (the failed insert_one its own, with
 * error.type), each counting its operations. */
static json_t *
metric_points (const app_t *app);

static void
check_metrics (const app_t *app)
{
   json_t *points = metric_points (app);
   static const char *const series[] = {"insert_one",      "insert_many", "find",       "update_many",
                                        "count_documents", "aggregate",   "delete_one", "insert_one failed"};
   CHECK (json_object_size (points) == sizeof series / sizeof *series, "%zu series",
          json_object_size (points));
   for (size_t i = 0; i < sizeof series / sizeof *series; i++) {
      json_t *p = json_object_get (points, series[i]);
      CHECK (p, "no series %s", series[i]);
      CHECK (same (json_string_value (json_object_get (p, "count")), "1"), "%s: count %s", series[i],
             json_string_value (json_object_get (p, "count")));
      CHECK (same (attr_str (json_object_get (p, "attributes"), "db.namespace"), app->db), "%s: db", series[i]);
      size_t b;
      json_t *bucket;
      long long in_buckets = 0;
      json_array_foreach (json_object_get (p, "bucketCounts"), b, bucket)
      {
         in_buckets += atoll (json_string_value (bucket));
      }
      CHECK (in_buckets == 1, "%s: %lld in the buckets", series[i], in_buckets);
      CHECK (json_real_value (json_object_get (p, "sum")) > 0, "%s: sum", series[i]);
   }
   json_decref (points);
}

/* The last data point of each series of the collection, by
 * "OPERATION" or "OPERATION failed". */
static json_t *
metric_points (const app_t *app)
{
   char pattern[4096];
   glob_t g;
   snprintf (pattern, sizeof pattern, "%s/metrics.*.jsonl", need_env ("MONGOWATCH_COLLECTOR_DIR"));
   CHECK (glob (pattern, 0, NULL, &g) == 0, "no metrics file");
   /* The last export is cumulative: keep the last point of each series. */
   json_t *points = json_object ();
   for (size_t f = 0; f < g.gl_pathc; f++) {
      FILE *in = fopen (g.gl_pathv[f], "r");
      char *line = NULL;
      size_t cap = 0;
      while (in && getline (&line, &cap, in) > 0) {
         json_t *req = json_loads (line, 0, NULL);
         CHECK (req, "a metrics line is not JSON");
         size_t i, j, k, m;
         json_t *rm, *sm, *metric, *p;
         json_array_foreach (json_object_get (req, "resourceMetrics"), i, rm)
         {
            json_array_foreach (json_object_get (rm, "scopeMetrics"), j, sm)
            {
               json_array_foreach (json_object_get (sm, "metrics"), k, metric)
               {
                  CHECK (same (json_string_value (json_object_get (metric, "name")),
                               "db.client.operation.duration"),
                         "metric %s", json_string_value (json_object_get (metric, "name")));
                  json_array_foreach (json_object_get (json_object_get (metric, "histogram"), "dataPoints"), m, p)
                  {
                     json_t *attrs = json_object_get (p, "attributes");
                     if (!same (attr_str (attrs, "db.collection.name"), app->name)) {
                        continue;
                     }
                     char key[200];
                     snprintf (key, sizeof key, "%s%s", attr_str (attrs, "db.operation.name"),
                               attr (attrs, "error.type") ? " failed" : "");
                     json_object_set (points, key, p);
                  }
               }
            }
         }
         json_decref (req);
      }
      free (line);
      if (in) {
         fclose (in);
      }
   }
   globfree (&g);
   return points;
}

static void
scenario_attributes (void)
{
   bson_error_t error;
   setenv ("OTEL_EXPORTER_OTLP_ENDPOINT", need_env ("MONGOWATCH_COLLECTOR_ENDPOINT"), 1);
   setenv ("OTEL_SERVICE_NAME", "otlp-check", 1);
   setenv ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test,team=db%20ops", 1);
   const char *config = "version: 1\n"
                        "filters:\n"
                        "  redact: {'()': mongowatch.filters.redact}\n"
                        "handlers:\n"
                        "  otlp:\n"
                        "    class: otlp\n"
                        "    spans: true\n"
                        "    metrics: true\n"
                        "    filters: [redact]\n"
                        "    resource_attributes: {service.version: 1.2.3}\n"
                        "  otlp_queue:\n"
                        "    class: mongowatch.handlers.QueueHandler\n"
                        "    handler: otlp\n"
                        "loggers:\n"
                        "  mongowatch:\n"
                        "    level: INFO\n"
                        "    handlers: [otlp_queue]\n";
   CHECK (mwatch_config_load_string (config, MWATCH_CONFIG_YAML, &error), "config: %s", error.message);
   CHECK (mwatch_patch_mongoc (&error), "patch: %s", error.message);

   app_t app;
   app_open (&app, "attributes");
   run_operations (&app);
   /* The configuration's handler, found by its name: every operation is
    * sent, buffered, or still in the queue in front of it. */
   mwatch_otlp_stats_t st;
   CHECK (mwatch_otlp_handler_stats_by_name ("otlp", &st), "no otlp handler named otlp");
   CHECK (st.dropped == 0 && st.sent + st.queued <= N_OPS, "by name: sent %llu, queued %llu",
          (unsigned long long) st.sent, (unsigned long long) st.queued);
   CHECK (!mwatch_otlp_handler_stats_by_name ("otlp_queue", &st) && st.sent == 0,
          "a queue handler is no otlp handler");
   /* Every record is sent at close (the queue drains into the handler,
    * which sends before it closes); then the Collector writes it all. */
   mwatch_shutdown ();
   collector ("stop");

   json_t *logs = collected (false);
   json_t *spans = collected (true);
   /* Only this collection's records: the drop at the end comes after. */
   json_t *mine = json_array ();
   size_t i;
   json_t *e;
   json_array_foreach (logs, i, e)
   {
      json_t *attrs = json_object_get (json_object_get (e, "item"), "attributes");
      if (same (attr_str (attrs, "db.collection.name"), app.name)) {
         json_array_append (mine, e);
      }
   }
   CHECK (json_array_size (mine) == N_OPS, "%zu log records for %s, not %zu (of %zu in all)",
          json_array_size (mine), app.name, N_OPS, json_array_size (logs));
   CHECK (json_array_size (spans) == N_OPS, "%zu spans, not %zu", json_array_size (spans), N_OPS);

   for (size_t k = 0; k < N_OPS; k++) {
      const expected_t *x = &expected_ops[k];
      json_t *entry = json_array_get (mine, k);
      json_t *lr = json_object_get (entry, "item");
      json_t *attrs = json_object_get (lr, "attributes");
      json_t *res = json_object_get (entry, "resource");
      const char *op = attr_str (attrs, "db.operation.name");
      CHECK (same (op, x->operation), "record %zu: db.operation.name %s, not %s", k, op ? op : "(none)",
             x->operation);
      CHECK (same (json_string_value (json_object_get (entry, "scope")), x->logger),
             "%s: scope %s", op, json_string_value (json_object_get (entry, "scope")));
      CHECK (same (attr_str (attrs, "db.system.name"), "mongodb"), "%s: db.system.name", op);
      CHECK (same (attr_str (attrs, "db.namespace"), app.db), "%s: db.namespace", op);
      CHECK (same (attr_str (attrs, "db.collection.name"), app.name), "%s: db.collection.name", op);
      const char *query = attr_str (attrs, "db.query.text");
      if (x->has_query) {
         /* Redacted by the handler's filter: the shape stays, no value. */
         CHECK (query, "%s: no db.query.text in %s", op, json_dumps (attrs, JSON_COMPACT));
         CHECK (!strstr (query, "bob") && !strstr (query, "alice") && !strstr (query, "\"B\"") &&
                   !strstr (query, "\"A\""),
                "%s: db.query.text not redacted: %s", op, query);
      } else {
         CHECK (!query, "%s: db.query.text %s", op, query);
      }
      CHECK (attr_int (attrs, "db.response.returned_rows") == x->returned,
             "%s: db.response.returned_rows %lld, not %lld", op,
             attr_int (attrs, "db.response.returned_rows"), x->returned);
      if (x->failed) {
         CHECK (same (attr_str (attrs, "error.type"), "_OTHER"), "%s: error.type", op);
         const char *message = attr_str (attrs, "error.message");
         CHECK (message && strstr (message, "E11000") && !strstr (message, "alice"),
                "%s: error.message %s", op, message ? message : "(none)");
      } else {
         CHECK (!attr (attrs, "error.type"), "%s: error.type on a success", op);
      }
      CHECK (same (attr_str (attrs, "mongowatch.state"), "final"), "%s: mongowatch.state", op);
      const char *watch_id = attr_str (attrs, "mongowatch.watch_id");
      CHECK (watch_id && strlen (watch_id) == 24, "%s: mongowatch.watch_id", op);
      CHECK (attr (attrs, "mongowatch.duration"), "%s: mongowatch.duration", op);
      CHECK (attr_int (attrs, "thread.id") > 0, "%s: thread.id", op);
      CHECK (json_integer_value (json_object_get (lr, "severityNumber")) == 9, "%s: severity", op);
      const char *body = json_string_value (json_object_get (json_object_get (lr, "body"), "stringValue"));
      /* The body: the record's text, its {watch} by default. */
      CHECK (body && strstr (body, x->operation), "%s: body %s", op, body ? body : "(none)");
      CHECK (same (attr_str (res, "service.name"), "otlp-check"), "%s: service.name", op);
      CHECK (same (attr_str (res, "deployment.environment.name"), "test"), "%s: environment", op);
      CHECK (same (attr_str (res, "team"), "db ops"), "%s: team", op);
      CHECK (same (attr_str (res, "service.version"), "1.2.3"), "%s: service.version", op);
      CHECK (attr_int (res, "process.pid") == (long long) getpid (), "%s: process.pid", op);

      /* Its span: the same ids, the conventions' name, its times. */
      const char *trace_id = json_string_value (json_object_get (lr, "traceId"));
      const char *span_id = json_string_value (json_object_get (lr, "spanId"));
      json_t *span = NULL;
      size_t s;
      json_t *se;
      json_array_foreach (spans, s, se)
      {
         json_t *item = json_object_get (se, "item");
         if (same (json_string_value (json_object_get (item, "spanId")), span_id)) {
            span = item;
         }
      }
      CHECK (span, "%s: no span %s", op, span_id ? span_id : "(no id)");
      CHECK (same (json_string_value (json_object_get (span, "traceId")), trace_id), "%s: traceId", op);
      char name[200];
      snprintf (name, sizeof name, "%s %s", x->operation, app.name);
      CHECK (same (json_string_value (json_object_get (span, "name")), name), "%s: span name %s", op,
             json_string_value (json_object_get (span, "name")));
      CHECK (json_integer_value (json_object_get (span, "kind")) == 3, "%s: span kind", op);
      unsigned long long start = strtoull (json_string_value (json_object_get (span, "startTimeUnixNano")), NULL, 10);
      unsigned long long end = strtoull (json_string_value (json_object_get (span, "endTimeUnixNano")), NULL, 10);
      CHECK (start > 1600000000ull * 1000000000ull && start <= end, "%s: span times %llu %llu", op, start, end);
      json_t *status = json_object_get (span, "status");
      long long code = json_integer_value (json_object_get (status, "code"));
      CHECK (x->failed ? code == 2 : code == 0, "%s: span status %lld", op, code);
      json_t *span_attrs = json_object_get (span, "attributes");
      CHECK (same (attr_str (span_attrs, "db.operation.name"), x->operation), "%s: span attributes", op);
      const char *span_query = attr_str (span_attrs, "db.query.text");
      CHECK (query ? same (span_query, query) : !span_query, "%s: span query", op);
   }
   json_decref (mine);
   json_decref (logs);
   json_decref (spans);
   check_metrics (&app);
   app_close (&app);
}

/* ---------------------------------------------------------------- restart, down */

/* The otlp handler straight on "mongowatch", as the API makes it. */
static mwatch_handler_t *
attach (const char *endpoint, size_t max_queue, double shutdown_timeout, bool metrics, double delay)
{
   bson_error_t error;
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   opts.endpoint = endpoint;
   opts.max_queue_size = max_queue;
   opts.backoff_max_sec = 0.5;
   opts.schedule_delay_sec = delay;
   opts.shutdown_timeout_sec = shutdown_timeout;
   opts.service_name = "otlp-check";
   opts.metrics = metrics;
   opts.metrics_interval_sec = 0.2;
   mwatch_handler_t *handler = mwatch_handler_new_otlp (&opts, &error);
   CHECK (handler, "mwatch_handler_new_otlp: %s", error.message);
   mwatch_handler_set_name (handler, "otlp");
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, handler);
   CHECK (mwatch_patch_mongoc (&error), "patch: %s", error.message);
   return handler;
}

/* The _ids (as inserted by insert_one) of this collection's records. */
static size_t
count_mine (const app_t *app)
{
   json_t *logs = collected (false);
   size_t i, n = 0;
   json_t *e;
   json_array_foreach (logs, i, e)
   {
      json_t *attrs = json_object_get (json_object_get (e, "item"), "attributes");
      n += same (attr_str (attrs, "db.collection.name"), app->name) &&
           same (attr_str (attrs, "db.operation.name"), "insert_one");
   }
   json_decref (logs);
   return n;
}

/* Waits until the handler has nothing buffered: its records are with the
 * Collector (accepted) or dropped. */
static void
await_sent (mwatch_handler_t *handler)
{
   mwatch_otlp_stats_t st;
   for (int i = 0; i < 2000; i++) {
      mwatch_handler_flush (handler);
      mwatch_otlp_handler_stats (handler, &st);
      if (st.queued == 0) {
         return;
      }
      usleep (5000);
   }
   CHECK (false, "records still buffered after 10 s");
}

/* Waits until the handler has made `n` metrics exports (every 0.2 s
 * while its counts change). */
static void
await_metrics (mwatch_handler_t *handler, uint64_t n)
{
   mwatch_otlp_stats_t st;
   for (int i = 0; i < 2000; i++) {
      mwatch_otlp_handler_stats (handler, &st);
      if (st.metrics_sent >= n) {
         return;
      }
      usleep (5000);
   }
   CHECK (false, "%llu metrics exports after 10 s, not %llu", (unsigned long long) st.metrics_sent,
          (unsigned long long) n);
}

static void
scenario_restart (void)
{
   mwatch_handler_t *handler = attach (need_env ("MONGOWATCH_COLLECTOR_ENDPOINT"), 100, 10.0, true, 0.05);
   app_t app;
   app_open (&app, "restart");
   int id = 0;
   for (int i = 0; i < 40; i++) {
      insert_one (&app, ++id, true);
   }
   await_sent (handler);
   /* The metrics go out on their own, before any close. */
   await_metrics (handler, 1);
   /* Down mid-stream: 60 records wait in the buffer (room for 100). */
   collector ("stop");
   for (int i = 0; i < 60; i++) {
      insert_one (&app, ++id, true);
   }
   mwatch_otlp_stats_t st;
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.dropped == 0, "%llu dropped with room left", (unsigned long long) st.dropped);
   collector ("start");
   await_sent (handler);
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.sent == 100 && st.dropped == 0 && st.retries > 0,
          "after the restart: sent %llu, dropped %llu, retries %llu", (unsigned long long) st.sent,
          (unsigned long long) st.dropped, (unsigned long long) st.retries);

   /* Down again, 130 more records than... than the 100 it holds: the
    * first 100 wait, 30 are dropped and counted, and nothing else. */
   collector ("stop");
   for (int i = 0; i < 130; i++) {
      insert_one (&app, ++id, true);
   }
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.dropped == 30 && st.queued == 100, "full buffer: dropped %llu, queued %llu",
          (unsigned long long) st.dropped, (unsigned long long) st.queued);
   collector ("start");
   await_sent (handler);
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.sent == 200 && st.dropped == 30, "at the end: sent %llu, dropped %llu",
          (unsigned long long) st.sent, (unsigned long long) st.dropped);
   mwatch_handler_ref (handler);
   mwatch_shutdown ();
   collector ("stop");
   size_t n = count_mine (&app);
   CHECK (n == 200, "the Collector wrote %zu of the 200 records sent", n);
   /* The metrics count every operation, the 30 whose records the full
    * buffer dropped too: cumulative, the last export (at close) has all
    * 230. */
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.metrics_sent >= 2, "%llu metrics exports", (unsigned long long) st.metrics_sent);
   json_t *points = metric_points (&app);
   const char *count = json_string_value (json_object_get (json_object_get (points, "insert_one"), "count"));
   CHECK (same (count, "230"), "insert_one counted %s times", count ? count : "no");
   json_decref (points);
   mwatch_handler_destroy (handler);
   app_close (&app);
}

static void
scenario_down (void)
{
   /* A port the Collector had: nothing listens there now.  The URL
    * carries a password, which no report may show (test/otlp-check
    * looks). */
   collector ("stop");
   char endpoint[512];
   snprintf (endpoint, sizeof endpoint, "http://user:s3cret@%s",
             need_env ("MONGOWATCH_COLLECTOR_ENDPOINT") + strlen ("http://"));
   mwatch_handler_t *handler = attach (endpoint, 2048, 1.0, false, 0.05);
   mwatch_handler_ref (handler);
   app_t app;
   app_open (&app, "down");
   for (int i = 0; i < 10; i++) {
      insert_one (&app, i + 1, true);
   }
   int64_t start = mwatch_monotonic_us ();
   mwatch_shutdown ();
   double took = (double) (mwatch_monotonic_us () - start) / 1e6;
   mwatch_otlp_stats_t st;
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.dropped == 10 && st.sent == 0 && st.retries > 0,
          "collector down: dropped %llu, sent %llu, retries %llu", (unsigned long long) st.dropped,
          (unsigned long long) st.sent, (unsigned long long) st.retries);
   /* The bound is shutdown_timeout_sec (1 s); the margin is for a loaded
    * machine, not for a missing bound (which would be 10 s per request). */
   CHECK (took < 3.0, "closing took %.2f s", took);
   printf ("otlp-app down: close took %.3f s with the collector down (bound 1 s)\n", took);
   mwatch_handler_destroy (handler);
   app_close (&app);
}

/* The insert_one records of the collection, by the process.pid of their
 * resource: {"PID": count}. */
static json_t *
inserts_by_pid (const app_t *app)
{
   json_t *logs = collected (false);
   json_t *by_pid = json_object ();
   size_t i;
   json_t *e;
   json_array_foreach (logs, i, e)
   {
      json_t *attrs = json_object_get (json_object_get (e, "item"), "attributes");
      if (same (attr_str (attrs, "db.collection.name"), app->name) &&
          same (attr_str (attrs, "db.operation.name"), "insert_one")) {
         char pid[32];
         snprintf (pid, sizeof pid, "%lld", attr_int (json_object_get (e, "resource"), "process.pid"));
         json_t *n = json_object_get (by_pid, pid);
         json_object_set_new (by_pid, pid, json_integer (n ? json_integer_value (n) + 1 : 1));
      }
   }
   json_decref (logs);
   return by_pid;
}

/* fork() with records buffered: the parent sends its own, the child
 * (a sender thread of its own) only its own, none twice. */
static void
scenario_fork (void)
{
   /* A schedule delay of a minute: the records wait in the buffer until
    * a close sends them. */
   mwatch_handler_t *handler = attach (need_env ("MONGOWATCH_COLLECTOR_ENDPOINT"), 100, 10.0, false, 60);
   app_t app;
   app_open (&app, "fork");
   for (int i = 0; i < 5; i++) {
      insert_one (&app, i + 1, true);
   }
   mwatch_otlp_stats_t st;
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.queued == 5, "%llu records buffered at fork", (unsigned long long) st.queued);
   pid_t child = fork ();
   CHECK (child >= 0, "fork");
   if (child == 0) {
      /* libmongoc forbids the parent's client in the child: a new one. */
      app_t own;
      app_open (&own, "fork");
      snprintf (own.name, sizeof own.name, "%s", app.name);
      mongoc_collection_destroy (own.coll);
      own.coll = mongoc_client_get_collection (own.client, own.db, own.name);
      for (int i = 0; i < 3; i++) {
         insert_one (&own, 100 + i, true);
      }
      mwatch_otlp_handler_stats (handler, &st);
      int status = st.queued + st.sent == 3 ? 0 : 3;
      mwatch_shutdown ();
      mwatch_otlp_handler_stats (handler, &st);
      status = status ? status : st.sent == 3 && st.dropped == 0 ? 0 : 4;
      mongoc_collection_destroy (own.coll);
      mongoc_client_destroy (own.client);
      _exit (status);
   }
   int status;
   CHECK (waitpid (child, &status, 0) == child && WIFEXITED (status) && WEXITSTATUS (status) == 0,
          "the child's records: status %d", status);
   mwatch_handler_ref (handler);
   mwatch_shutdown ();
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.sent == 5 && st.dropped == 0, "the parent: sent %llu, dropped %llu", (unsigned long long) st.sent,
          (unsigned long long) st.dropped);
   mwatch_handler_destroy (handler);
   collector ("stop");
   json_t *by_pid = inserts_by_pid (&app);
   char pid[32];
   snprintf (pid, sizeof pid, "%d", (int) getpid ());
   json_t *parent = json_object_get (by_pid, pid);
   snprintf (pid, sizeof pid, "%d", (int) child);
   json_t *kid = json_object_get (by_pid, pid);
   CHECK (json_object_size (by_pid) == 2 && parent && json_integer_value (parent) == 5 && kid &&
             json_integer_value (kid) == 3,
          "records by process: %s", json_dumps (by_pid, JSON_COMPACT));
   json_decref (by_pid);
   app_close (&app);
}

/* Records larger than a Collector takes in one request together (its
 * receiver refuses bodies over 20 MiB): 12 finds with a 1 MiB Filter,
 * some 2 MiB of JSON each (26 MiB, under the buffer's 32), all buffered
 * (a schedule delay of a minute) and sent at close, all arrive. */
static void
scenario_large (void)
{
   mwatch_handler_t *handler = attach (need_env ("MONGOWATCH_COLLECTOR_ENDPOINT"), 100, 30.0, false, 60);
   mwatch_handler_ref (handler);
   app_t app;
   app_open (&app, "large");
   size_t len = (size_t) 1 << 20;
   char *big = malloc (len + 1);
   memset (big, 'x', len);
   big[len] = '\0';
   bson_t *filter = BCON_NEW ("name", big);
   for (int i = 0; i < 12; i++) {
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (app.coll, filter, NULL, NULL);
      const bson_t *doc;
      while (mongoc_cursor_next (cursor, &doc)) {
      }
      bson_error_t error;
      CHECK (!mongoc_cursor_error (cursor, &error), "find: %s", error.message);
      mongoc_cursor_destroy (cursor);
   }
   mwatch_shutdown ();
   mwatch_otlp_stats_t st;
   mwatch_otlp_handler_stats (handler, &st);
   CHECK (st.sent == 12 && st.dropped == 0, "large records: sent %llu, dropped %llu",
          (unsigned long long) st.sent, (unsigned long long) st.dropped);
   mwatch_handler_destroy (handler);
   bson_destroy (filter);
   free (big);
   app_close (&app);
}

int
main (int argc, char **argv)
{
   scenario = argc > 1 ? argv[1] : "";
   mongoc_init ();
   if (strcmp (scenario, "attributes") == 0) {
      scenario_attributes ();
   } else if (strcmp (scenario, "restart") == 0) {
      scenario_restart ();
   } else if (strcmp (scenario, "down") == 0) {
      scenario_down ();
   } else if (strcmp (scenario, "fork") == 0) {
      scenario_fork ();
   } else if (strcmp (scenario, "large") == 0) {
      scenario_large ();
   } else {
      fprintf (stderr, "usage: otlp-app attributes|restart|down|fork|large\n");
      return 2;
   }
   mongoc_cleanup ();
   printf ("otlp-app %s: %d passed, 0 failed\n", scenario, passed);
   return 0;
}
