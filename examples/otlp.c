/* Audit records to OpenTelemetry: each operation as an OTLP log record
 * and a span, sent to a Collector's OTLP/HTTP port, the query redacted.
 *
 *   cc otlp.c $(pkg-config --cflags --libs mongowatch) -o otlp
 *   OTEL_SERVICE_NAME=shop ./otlp mongodb://127.0.0.1:27017 http://127.0.0.1:4318
 *
 * The URI may come from MONGOWATCH_TEST_URI and the endpoint from
 * OTEL_EXPORTER_OTLP_ENDPOINT instead (give "" to keep the default).  The
 * database "mongowatch_otlp_example" is dropped at the end.  One line of
 * the program's own on stdout: what the handler sent and dropped. */
#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
   bson_error_t error;
   const char *uri = argc > 1 && argv[1][0] ? argv[1] : getenv ("MONGOWATCH_TEST_URI");
   if (!uri) {
      fprintf (stderr, "usage: %s MONGODB_URI [OTLP_ENDPOINT]\n", argv[0]);
      return 2;
   }
   mongoc_init ();
   if (!mwatch_patch_mongoc (&error)) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }

   /* The handler: a span beside each log record, the query's values
    * masked before they leave the process. */
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   opts.endpoint = argc > 2 && argv[2][0] ? argv[2] : NULL; /* NULL: OTEL_ variables */
   opts.spans = true;
   const char *const resource[] = {"deployment.environment.name", "example", NULL};
   opts.resource_attributes = resource;
   mwatch_handler_t *otlp = mwatch_handler_new_otlp (&opts, &error);
   if (!otlp) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }
   mwatch_filter_t *redact = mwatch_filter_new_redact (NULL, &error);
   mwatch_handler_add_filter (otlp, redact);
   mwatch_filter_destroy (redact);

   /* Behind a queue, as the one call puts it: the application's threads
    * only enqueue; format NULL keeps the handler's own body ("{message}"). */
   mwatch_logging_opts_t lopts;
   mwatch_logging_opts_init (&lopts);
   lopts.with_queue = true;
   lopts.format = NULL;
   mwatch_handler_t *handlers[] = {otlp, NULL};
   if (!mwatch_add_logging_handlers (&lopts, handlers, &error)) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }

   mongoc_client_t *client = mongoc_client_new (uri);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, "mongowatch_otlp_example", "orders");
   bson_t *docs[3];
   for (int i = 0; i < 3; i++) {
      docs[i] = BCON_NEW ("item", "tea", "qty", BCON_INT32 (i + 1));
   }
   mongoc_collection_insert_many (coll, (const bson_t **) docs, 3, NULL, NULL, &error);
   bson_t *filter = BCON_NEW ("item", "tea");
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *doc;
   int found = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      found++;
   }
   mongoc_cursor_destroy (cursor);
   mongoc_database_t *db = mongoc_client_get_database (client, "mongowatch_otlp_example");
   mongoc_database_drop (db, NULL);
   mongoc_database_destroy (db);

   /* Sends what is left (at most the handler's shutdown_timeout_sec). */
   mwatch_shutdown ();
   mwatch_otlp_stats_t stats;
   mwatch_otlp_handler_stats (otlp, &stats);
   printf ("found %d; otlp: %llu log records and %llu spans sent, %llu dropped\n", found,
           (unsigned long long) stats.sent, (unsigned long long) stats.spans_sent,
           (unsigned long long) stats.dropped);

   mwatch_handler_destroy (otlp);
   bson_destroy (filter);
   for (int i = 0; i < 3; i++) {
      bson_destroy (docs[i]);
   }
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   return 0;
}
