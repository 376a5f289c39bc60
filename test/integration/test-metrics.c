/* The metrics handler behind a queue, as a configuration sets it up, with
 * real libmongoc against the real server: after a known mix of operations
 * (some failing), the Prometheus file says, per operation, how many ran,
 * how many failed, their documents, and a histogram whose count and sum
 * are those of the final records a plain handler beside it received. */
#include "integration/suites.h"
#include "prom-parse.h"
#include "test-util.h"

#include <limits.h>
#include <math.h>

#define N_DOCS 20

/* What a callback handler beside the metrics saw, per operation. */
typedef struct {
   char operation[32];
   int finals, errors;
   double duration_sum;
} seen_t;

typedef struct {
   seen_t ops[16];
   int n;
} seen_list_t;

static void
see (const char *line, size_t len, const mwatch_record_t *record, void *user_data)
{
   seen_list_t *list = user_data;
   mwatch_value_t v;
   BSON_UNUSED (line);
   BSON_UNUSED (len);
   if (!record->watch || !mwatch_message_get (record->watch, "State", &v) ||
       strcmp (v.value.v_utf8.str, "final") != 0) {
      return;
   }
   ck_assert (mwatch_message_get (record->watch, "Operation", &v));
   seen_t *s = NULL;
   for (int i = 0; i < list->n && !s; i++) {
      s = strcmp (list->ops[i].operation, v.value.v_utf8.str) == 0 ? &list->ops[i] : NULL;
   }
   if (!s) {
      ck_assert_int_lt (list->n, 16);
      s = &list->ops[list->n++];
      bson_snprintf (s->operation, sizeof s->operation, "%s", v.value.v_utf8.str);
   }
   s->finals++;
   s->errors += mwatch_message_has (record->watch, "Error");
   ck_assert (mwatch_message_get (record->watch, "Duration", &v));
   s->duration_sum += v.value.v_double;
}

static double
value_of (const char *text, const char *family, const char *db, const char *op, const char *more)
{
   char series[512];
   bson_snprintf (series, sizeof series, "%s{db=\"%s\",collection=\"items\",operation=\"%s\"%s}",
                  family, db, op, more ? more : "");
   return prom_value (text, series);
}

START_TEST (test_metrics_of_real_operations)
{
   char db[64], dir[] = "/tmp/mwatch-metrics-it-XXXXXX", path[PATH_MAX], yaml[2048];
   ck_assert_ptr_nonnull (mkdtemp (dir));
   bson_snprintf (path, sizeof path, "%s/mongowatch.prom", dir);
   mwatch_test_unique_name ("mwtest_metrics", db, sizeof db);
   bson_error_t error;
   /* The shape users write: the metrics handler behind a queue. */
   bson_snprintf (yaml, sizeof yaml,
                  "version: 1\n"
                  "handlers:\n"
                  "  prometheus:\n"
                  "    class: metrics\n"
                  "    filename: %s\n"
                  "    interval_sec: 1\n"
                  "  metrics_queue:\n"
                  "    class: queue\n"
                  "    handler: prometheus\n"
                  "loggers:\n"
                  "  mongowatch:\n"
                  "    level: INFO\n"
                  "    handlers: [metrics_queue]\n",
                  path);
   ck_assert_msg (mwatch_config_load_string (yaml, MWATCH_CONFIG_YAML, &error), "%s", error.message);
   seen_list_t seen = {.n = 0};
   mwatch_handler_t *beside = mwatch_handler_new_callback (see, &seen, NULL);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch"), beside);
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);

   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, "items");
   bson_t *docs[N_DOCS];
   for (int i = 0; i < N_DOCS; i++) {
      docs[i] = BCON_NEW ("_id", BCON_INT32 (i), "n", BCON_INT32 (i));
   }
   ck_assert_msg (mongoc_collection_insert_many (coll, (const bson_t **) docs, N_DOCS, NULL, NULL,
                                                 &error),
                  "%s", error.message);
   for (int i = 0; i < N_DOCS; i++) {
      bson_destroy (docs[i]);
   }
   /* 5 finds of every document, in batches of 4. */
   bson_t empty = BSON_INITIALIZER;
   bson_t *batches = BCON_NEW ("batchSize", BCON_INT32 (4));
   for (int i = 0; i < 5; i++) {
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &empty, batches, NULL);
      const bson_t *doc;
      int n = 0;
      while (mongoc_cursor_next (cursor, &doc)) {
         n++;
      }
      ck_assert_int_eq (n, N_DOCS);
      mongoc_cursor_destroy (cursor);
   }
   /* 3 updates of every document. */
   bson_t *inc = BCON_NEW ("$inc", "{", "n", BCON_INT32 (1), "}");
   for (int i = 0; i < 3; i++) {
      ck_assert_msg (mongoc_collection_update_many (coll, &empty, inc, NULL, NULL, &error), "%s",
                     error.message);
   }
   /* One insert_one that works and two that fail (a duplicate _id). */
   bson_t *fresh = BCON_NEW ("_id", BCON_INT32 (100));
   ck_assert_msg (mongoc_collection_insert_one (coll, fresh, NULL, NULL, &error), "%s",
                  error.message);
   for (int i = 0; i < 2; i++) {
      ck_assert (!mongoc_collection_insert_one (coll, fresh, NULL, NULL, &error));
   }
   ck_assert_int_eq (mongoc_collection_count_documents (coll, &empty, NULL, NULL, NULL, &error),
                     N_DOCS + 1);
   ck_assert_msg (mongoc_collection_delete_many (coll, &empty, NULL, NULL, &error), "%s",
                  error.message);
   mongoc_collection_destroy (coll);
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mongoc_database_drop (database, NULL);
   mongoc_database_destroy (database);
   mongoc_client_destroy (client);
   bson_destroy (batches);
   bson_destroy (inc);
   bson_destroy (fresh);
   mwatch_unpatch_mongoc ();
   /* Drains the queue into the metrics handler, which writes at close. */
   mwatch_shutdown ();
   mwatch_handler_destroy (beside);

   size_t len;
   char *text = mwatch_test_slurp (path, &len);
   ck_assert_ptr_nonnull (text);
   char why[200];
   ck_assert_msg (prom_parse (text, len, why, sizeof why), "%s", why);

   static const struct {
      const char *op;
      int ops, errors;
      const char *kind;
      int documents;
   } want[] = {
      {"insert_many", 1, 0, "inserted", N_DOCS},
      {"find", 5, 0, "matched", 5 * N_DOCS},
      {"update_many", 3, 0, "modified", 3 * N_DOCS},
      {"insert_one", 3, 2, "inserted", 1},
      {"count_documents", 1, 0, "matched", N_DOCS + 1},
      {"delete_many", 1, 0, "deleted", N_DOCS + 1},
   };
   for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
      const char *op = want[i].op;
      ck_assert_msg (value_of (text, "mongowatch_operations_total", db, op, NULL) == want[i].ops,
                     "%s: %g operations, not %d", op,
                     value_of (text, "mongowatch_operations_total", db, op, NULL), want[i].ops);
      ck_assert_double_eq (value_of (text, "mongowatch_operation_errors_total", db, op, NULL),
                           want[i].errors);
      char kind[64];
      bson_snprintf (kind, sizeof kind, ",kind=\"%s\"", want[i].kind);
      ck_assert_msg (value_of (text, "mongowatch_documents_total", db, op, kind) ==
                        want[i].documents,
                     "%s: %g %s documents, not %d", op,
                     value_of (text, "mongowatch_documents_total", db, op, kind), want[i].kind,
                     want[i].documents);
      /* The histogram: cumulative buckets up to +Inf = _count = the
       * operations, and a _sum that is the durations' the plain handler
       * received. */
      double previous = 0;
      static const char *const les[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                        "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                        "1",      "2.5",   "5",      "10",    "+Inf"};
      for (size_t b = 0; b < sizeof les / sizeof *les; b++) {
         char le[32];
         bson_snprintf (le, sizeof le, ",le=\"%s\"", les[b]);
         double v = value_of (text, "mongowatch_operation_duration_seconds_bucket", db, op, le);
         ck_assert_msg (v >= previous, "%s: bucket le=%s is %g, below %g", op, les[b], v, previous);
         previous = v;
      }
      ck_assert_double_eq (previous, want[i].ops);
      ck_assert_double_eq (value_of (text, "mongowatch_operation_duration_seconds_count", db, op, NULL),
                           want[i].ops);
      const seen_t *s = NULL;
      for (int k = 0; k < seen.n && !s; k++) {
         s = strcmp (seen.ops[k].operation, op) == 0 ? &seen.ops[k] : NULL;
      }
      ck_assert_msg (s, "the plain handler saw no %s", op);
      ck_assert_int_eq (s->finals, want[i].ops);
      ck_assert_int_eq (s->errors, want[i].errors);
      double sum = value_of (text, "mongowatch_operation_duration_seconds_sum", db, op, NULL);
      ck_assert_msg (sum > 0 && fabs (sum - s->duration_sum) <= 1e-9 * s->duration_sum,
                     "%s: _sum %.17g, the records' %.17g", op, sum, s->duration_sum);
   }
   ck_assert_double_eq (prom_value (text, PROM_LAST_FAMILY), 0);
   bson_free (text);
   mwatch_test_remove_tree (dir);
}
END_TEST

Suite *
metrics_integration_suite (void)
{
   Suite *suite = suite_create ("metrics");
   TCase *tc = tcase_create ("metrics");
   tcase_set_timeout (tc, 120);
   tcase_add_test (tc, test_metrics_of_real_operations);
   suite_add_tcase (suite, tc);
   return suite;
}
