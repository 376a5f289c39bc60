/* Prometheus metrics of the audited operations: the metrics handler,
 * behind a queue, counts each operation's final record per (DB,
 * Collection, Operation) and writes DIR/mongowatch.prom for
 * node_exporter's textfile collector (point its
 * --collector.textfile.directory at DIR).
 *
 *   cc metrics.c $(pkg-config --cflags --libs mongowatch) -o metrics
 *   ./metrics mongodb://127.0.0.1:27017 /tmp/metrics [DATABASE]
 *
 * The URI may come from MONGOWATCH_TEST_URI instead (give "" as the first
 * argument).  DATABASE (default "mongowatch_example") is dropped at the
 * end.  Prints the file's count of finds: "finds 3". */
#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
   if (argc < 3) {
      fprintf (stderr, "usage: %s URI DIR [DATABASE]\n", argv[0]);
      return 2;
   }
   const char *uri = argv[1][0] ? argv[1] : getenv ("MONGOWATCH_TEST_URI");
   const char *db = argc > 3 ? argv[3] : "mongowatch_example";
   char *path = bson_strdup_printf ("%s/mongowatch.prom", argv[2]);
   bson_error_t error;

   /* The file is written every 15 s (the default) while the program runs,
    * and once more by mwatch_shutdown () below. */
   mwatch_metrics_handler_opts_t opts;
   mwatch_metrics_handler_opts_init (&opts);
   mwatch_handler_t *metrics = mwatch_handler_new_metrics (path, &opts, &error);
   if (!metrics) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }
   /* One queue in front: the application's threads only enqueue. */
   mwatch_handler_t *queue = mwatch_handler_new_queue (metrics, NULL);
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);
   mwatch_handler_destroy (queue);   /* the logger holds its own reference */
   mwatch_handler_destroy (metrics); /* and the queue its own */
   if (!mwatch_patch_mongoc (&error)) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }

   mongoc_init ();
   mongoc_client_t *client = mongoc_client_new (uri);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, "items");
   bson_t *doc = BCON_NEW ("kind", BCON_UTF8 ("tool"));
   bool ok = mongoc_collection_insert_one (coll, doc, NULL, NULL, &error);
   for (int i = 0; ok && i < 3; i++) {
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, doc, NULL, NULL);
      const bson_t *found;
      while (mongoc_cursor_next (cursor, &found)) {
      }
      ok = !mongoc_cursor_error (cursor, &error);
      mongoc_cursor_destroy (cursor);
   }
   if (!ok) {
      fprintf (stderr, "%s\n", error.message);
   }
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mongoc_database_drop (database, NULL);
   mongoc_database_destroy (database);
   bson_destroy (doc);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mongoc_cleanup ();

   /* Drains the queue; the metrics handler writes its file at close. */
   mwatch_shutdown ();

   char series[256];
   bson_snprintf (series, sizeof series,
                  "mongowatch_operations_total{db=\"%s\",collection=\"items\",operation=\"find\"} ",
                  db);
   FILE *file = fopen (path, "r");
   char line[1024];
   long finds = -1;
   while (file && fgets (line, sizeof line, file)) {
      if (strncmp (line, series, strlen (series)) == 0) {
         finds = atol (line + strlen (series));
      }
   }
   if (file) {
      fclose (file);
   }
   printf ("finds %ld\n", finds);
   bson_free (path);
   return ok && finds == 3 ? 0 : 1;
}
