/* Writes DIR/mongowatch.prom through the metrics handler from records
 * made by hand, with the label values that need escaping (a quote, a
 * backslash, a line feed, bytes that are not UTF-8), for
 * test/node-exporter-check to have the real node_exporter read.
 *
 *   metrics_writer DIR */
#include <mongowatch.h>
#include <stdio.h>

static void
record (mwatch_handler_t *handler, const char *db, const char *coll, const char *op,
        double duration, bool error, const char *count_field, int64_t count)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "State", "final");
   mwatch_message_set_utf8 (msg, "DB", db);
   mwatch_message_set_utf8 (msg, "Collection", coll);
   mwatch_message_set_utf8 (msg, "Operation", op);
   mwatch_message_set_double (msg, "Duration", duration);
   if (error) {
      mwatch_message_set_utf8 (msg, "Error", "E11000 duplicate key");
   }
   if (count_field) {
      mwatch_message_set_int64 (msg, count_field, count);
   }
   mwatch_record_t rec = {.name = "mongowatch.collection",
                          .level = MWATCH_LEVEL_INFO,
                          .timeout_level = MWATCH_LEVEL_INFO,
                          .watch = msg};
   mwatch_handler_handle (handler, &rec);
   mwatch_message_destroy (msg);
}

int
main (int argc, char **argv)
{
   if (argc != 2) {
      fprintf (stderr, "usage: metrics_writer DIR\n");
      return 2;
   }
   char *path = bson_strdup_printf ("%s/mongowatch.prom", argv[1]);
   bson_error_t error;
   mwatch_handler_t *h = mwatch_handler_new_metrics (path, NULL, &error);
   if (!h) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }
   const char *weird = "we\"ird\\name\nx";
   record (h, "shop", weird, "find", 0.0004, false, "MatchedCount", 5);
   record (h, "shop", weird, "find", 0.2, true, "MatchedCount", 0);
   record (h, "caf\xc3\xa9", "bad\xff" "byte", "insert_one", 3.0, false, "InsertedCount", 1);
   mwatch_handler_close (h); /* writes the file */
   mwatch_handler_destroy (h);
   bson_free (path);
   return 0;
}
