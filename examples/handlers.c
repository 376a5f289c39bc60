/* The four handlers of pymongowatch's README, in C.
 *
 *   (a) every record, on the console (stderr) and in DIR/all.log
 *   (b) cursor records in a simple format: DIR/cursor-simple.log
 *   (c) cursor records in a format of our own: DIR/cursor-custom.log
 *   (d) cursor records with every field ({watch.full}): DIR/cursor-full.log
 *
 * (a) to (c) go through mwatch_add_logging_handlers, which puts each
 * handler behind its own queue handler; (d) builds that chain by hand to
 * show what the one call does.
 *
 *   cc handlers.c $(pkg-config --cflags --libs mongowatch) -o handlers
 *   ./handlers mongodb://127.0.0.1:27017 /tmp/logs [DATABASE]
 *
 * The URI may come from MONGOWATCH_TEST_URI instead (give "" as the first
 * argument to keep the others).  DATABASE (default "mongowatch_example")
 * is dropped at the end.  One line of the program's own on stdout; the
 * audit goes to stderr and the files. */
#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>

#define N_ITEMS 25

/* A file handler for DIR/NAME, or NULL with `error` set. */
static mwatch_handler_t *
file_handler (const char *dir, const char *name, bson_error_t *error)
{
   char *path = bson_strdup_printf ("%s/%s", dir, name);
   mwatch_handler_t *handler = mwatch_handler_new_file (path, error);
   bson_free (path);
   return handler;
}

/* Adds `handler` to `logger_name` with `format`, behind a queue (the
 * default of mwatch_logging_opts_init), and drops our reference: the
 * logger holds its own. */
static bool
add_handler (const char *logger_name,
             const char *format,
             mwatch_handler_t *handler,
             bson_error_t *error)
{
   mwatch_logging_opts_t opts;
   mwatch_logging_opts_init (&opts);
   opts.logger_name = logger_name;
   opts.format = format;
   mwatch_handler_t *handlers[] = {handler, NULL};
   bool ok = mwatch_add_logging_handlers (&opts, handlers, error);
   mwatch_handler_destroy (handler);
   return ok;
}

static bool
set_up_logging (const char *dir, bson_error_t *error)
{
   mwatch_handler_t *h;

   /* (a) Every record, from "mongowatch" and the loggers below it, on the
    * console and in a file.  One call adds both, each with its own queue,
    * so that a slow disk never holds up the console or the application. */
   mwatch_handler_t *all[] = {mwatch_handler_new_stream (stderr), NULL, NULL};
   if (!(all[1] = file_handler (dir, "all.log", error))) {
      mwatch_handler_destroy (all[0]);
      return false;
   }
   bool ok = mwatch_add_logging_handlers (NULL, all, error);
   mwatch_handler_destroy (all[0]);
   mwatch_handler_destroy (all[1]);
   if (!ok) {
      return false;
   }

   /* (b) Cursor records only, in the README's simple format. */
   if (!(h = file_handler (dir, "cursor-simple.log", error)) ||
       !add_handler ("mongowatch.cursor", "{name} - {watch}", h, error)) {
      return false;
   }

   /* (c) The README's customised format, with mongowatch's field names:
    * dotted paths pick single fields of the WatchMessage. */
   if (!(h = file_handler (dir, "cursor-custom.log", error)) ||
       !add_handler ("mongowatch.cursor",
                     "{asctime} {name}.{watch.Collection} - {watch.Filter} fetched "
                     "{watch.MatchedCount} in {watch.Duration} seconds",
                     h,
                     error)) {
      return false;
   }

   /* (d) Every field, WatchID and timestamps included, so that the lines
    * of one operation can be told apart from another's.  Built by hand:
    * the formatter and the level go on the file handler, which does the
    * writing; the queue handler in front only takes copies of the records
    * and hands them to its listener thread. */
   mwatch_formatter_t *full = mwatch_formatter_new ("{asctime} {name} - {watch.full}", NULL, error);
   if (!full) {
      return false;
   }
   if (!(h = file_handler (dir, "cursor-full.log", error))) {
      mwatch_formatter_destroy (full);
      return false;
   }
   mwatch_handler_set_formatter (h, full);
   mwatch_handler_set_level (h, MWATCH_LEVEL_INFO);
   mwatch_handler_t *queued = mwatch_handler_new_queue (h, NULL);
   mwatch_logger_t *cursor = mwatch_logger_get ("mongowatch.cursor");
   mwatch_logger_add_handler (cursor, queued);
   /* A logger passes on only records at its effective level.  (a) made
    * that INFO for "mongowatch" and so for this child, but a handler added
    * by hand should not rely on what other code set up. */
   mwatch_logger_set_level (cursor, MWATCH_LEVEL_INFO);
   mwatch_handler_destroy (queued);
   mwatch_handler_destroy (h);
   mwatch_formatter_destroy (full);
   return true;
}

int
main (int argc, char **argv)
{
   const char *uri = argc > 1 && argv[1][0] ? argv[1] : getenv ("MONGOWATCH_TEST_URI");
   const char *dir = argc > 2 ? argv[2] : NULL;
   const char *db_name = argc > 3 ? argv[3] : "mongowatch_example";
   if (!uri || !dir) {
      fprintf (stderr, "usage: %s MONGODB-URI LOG-DIRECTORY [DATABASE]\n", argv[0]);
      return 2;
   }
   bson_error_t error;
   if (!mwatch_patch_mongoc (&error) || !set_up_logging (dir, &error)) {
      fprintf (stderr, "mongowatch: %s\n", error.message);
      return 1;
   }

   mongoc_init ();
   mongoc_client_t *client = mongoc_client_new (uri);
   if (!client) {
      fprintf (stderr, "bad URI: %s\n", uri);
      return 2;
   }
   mongoc_database_t *db = mongoc_client_get_database (client, db_name);
   mongoc_collection_t *items = mongoc_database_get_collection (db, "items");
   int status = 0;

   bson_t *docs[N_ITEMS];
   for (int i = 0; i < N_ITEMS; i++) {
      docs[i] = BCON_NEW ("n", BCON_INT32 (i), "kind", BCON_UTF8 (i % 2 ? "part" : "tool"));
   }
   if (!mongoc_collection_insert_many (items, (const bson_t **) docs, N_ITEMS, NULL, NULL, &error)) {
      fprintf (stderr, "insert_many: %s\n", error.message);
      status = 1;
   }
   for (int i = 0; i < N_ITEMS; i++) {
      bson_destroy (docs[i]);
   }

   /* One find read in batches of 3: several round trips, one record. */
   bson_t *filter = BCON_NEW ("kind", BCON_UTF8 ("tool"));
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (3));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (items, filter, opts, NULL);
   const bson_t *doc;
   int tools = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      tools++;
   }
   if (mongoc_cursor_error (cursor, &error)) {
      fprintf (stderr, "find: %s\n", error.message);
      status = 1;
   }
   mongoc_cursor_destroy (cursor);

   bson_t empty = BSON_INITIALIZER;
   int64_t count = mongoc_collection_count_documents (items, &empty, NULL, NULL, NULL, &error);
   if (count < 0) {
      fprintf (stderr, "count_documents: %s\n", error.message);
      status = 1;
   }

   if (!mongoc_database_drop (db, &error)) {
      fprintf (stderr, "drop: %s\n", error.message);
      status = 1;
   }
   printf ("handlers: inserted %d, found %d tools, counted %" PRId64 "; logs in %s\n",
           N_ITEMS,
           tools,
           count,
           dir);

   bson_destroy (filter);
   bson_destroy (opts);
   mongoc_collection_destroy (items);
   mongoc_database_destroy (db);
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   /* Returning from main drains every queue into its file. */
   return status;
}
