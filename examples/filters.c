/* The two filters of pymongowatch's README, in C: slow queries on the
 * "news" collection, and a privacy filter that removes the values a query
 * asked for.
 *
 *   DIR/slow-news.log       a C callback keeps the records of "news" that
 *                           took longer than SLOW seconds
 *   DIR/slow-news-expr.log  the same with the expression filter
 *                           Collection == "news" and Duration > SLOW
 *   DIR/private.log         every record, every field ({watch.full}), with
 *                           the values of Filter replaced by null
 *   stderr                  both on one handler, as the README's last lines
 *                           do: slow news queries, without their values
 *
 *   cc filters.c $(pkg-config --cflags --libs mongowatch) -o filters
 *   ./filters mongodb://127.0.0.1:27017 /tmp/logs [DATABASE [SLOW]]
 *
 * The URI may come from MONGOWATCH_TEST_URI instead (give "" as the first
 * argument to keep the others).  DATABASE (default "mongowatch_example")
 * is dropped at the end.  SLOW defaults to 0.1 seconds; 0 keeps every
 * operation on "news", a large number none.  One line of the program's own
 * on stdout; the audit goes to stderr and the files. */
#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The README's SlowQueriesOnNewsCollectionFilter.  `user_data` is the
 * threshold.  It runs on a queue's listener thread, on the queue's own
 * copy of the message, so it may read the message without locking. */
static bool
slow_news (mwatch_record_t *record, void *user_data)
{
   const double *slow = user_data;
   mwatch_value_t collection, duration;
   if (!record->watch || !mwatch_message_get (record->watch, "Collection", &collection) ||
       collection.type != MWATCH_TYPE_UTF8 ||
       !mwatch_message_get (record->watch, "Duration", &duration) ||
       duration.type != MWATCH_TYPE_DOUBLE) {
      /* Not an operation on a collection (drop_database), or not over
       * (a record that leaves its queue by timeout has no Duration yet). */
      return false;
   }
   /* v_utf8 is counted, not NUL-terminated: compare with its length. */
   return collection.value.v_utf8.len == strlen ("news") &&
          memcmp (collection.value.v_utf8.str, "news", collection.value.v_utf8.len) == 0 &&
          duration.value.v_double > *slow;
}

/* A new slow_news filter.  The threshold is copied to the heap and freed
 * with the filter: handlers last until mwatch_shutdown() at exit, after
 * main's variables are gone. */
static mwatch_filter_t *
slow_news_filter_new (double slow)
{
   double *data = bson_malloc (sizeof *data);
   *data = slow;
   return mwatch_filter_new_callback (slow_news, data, bson_free);
}

/* The README's UserPrivacyFilter, whose remove_private_data turns every
 * value into None: the redact filter in its null mode.  Keys and
 * operators stay, so the shape of each query can still be audited. */
static mwatch_filter_t *
privacy_filter_new (bson_error_t *error)
{
   mwatch_redact_opts_t opts;
   mwatch_redact_opts_init (&opts);
   opts.mode = MWATCH_REDACT_NULL;
   return mwatch_filter_new_redact (&opts, error);
}

/* Adds `handler`, with `format` and its filters (NULL-terminated), to the
 * "mongowatch" logger behind a queue, and drops our references to them. */
static bool
add_handler (mwatch_handler_t *handler,
             const char *format,
             mwatch_filter_t **filters,
             bson_error_t *error)
{
   for (size_t i = 0; filters[i]; i++) {
      mwatch_handler_add_filter (handler, filters[i]);
      mwatch_filter_destroy (filters[i]);
   }
   mwatch_logging_opts_t opts;
   mwatch_logging_opts_init (&opts);
   opts.format = format;
   mwatch_handler_t *handlers[] = {handler, NULL};
   bool ok = mwatch_add_logging_handlers (&opts, handlers, error);
   mwatch_handler_destroy (handler);
   return ok;
}

/* A file handler for DIR/NAME, or NULL with `error` set. */
static mwatch_handler_t *
file_handler (const char *dir, const char *name, bson_error_t *error)
{
   char *path = bson_strdup_printf ("%s/%s", dir, name);
   mwatch_handler_t *handler = mwatch_handler_new_file (path, error);
   bson_free (path);
   return handler;
}

static bool
set_up_logging (const char *dir, double slow, bson_error_t *error)
{
   mwatch_handler_t *h;

   h = file_handler (dir, "slow-news.log", error);
   if (!h || !add_handler (h, MWATCH_DEFAULT_FORMAT, (mwatch_filter_t *[]){slow_news_filter_new (slow), NULL}, error)) {
      return false;
   }

   /* The same test without writing C: compiled here, once, so that a
    * mistake in it is an error now and never one at log time.  %.17g
    * writes the threshold back exactly. */
   char expression[128];
   snprintf (expression, sizeof expression, "Collection == \"news\" and Duration > %.17g", slow);
   mwatch_filter_t *expr = mwatch_filter_new_expression (expression, error);
   if (!expr) {
      return false;
   }
   if (!(h = file_handler (dir, "slow-news-expr.log", error))) {
      mwatch_filter_destroy (expr);
      return false;
   }
   if (!add_handler (h, MWATCH_DEFAULT_FORMAT, (mwatch_filter_t *[]){expr, NULL}, error)) {
      return false;
   }

   mwatch_filter_t *privacy = privacy_filter_new (error);
   if (!privacy) {
      return false;
   }
   if (!(h = file_handler (dir, "private.log", error))) {
      mwatch_filter_destroy (privacy);
      return false;
   }
   if (!add_handler (h, "{asctime} {name} - {watch.full}", (mwatch_filter_t *[]){privacy, NULL}, error)) {
      return false;
   }

   /* Filters run in the order they were added: first choose, then mask
    * what is left.  Each handler has its own copy of the message, so the
    * masking here changes nothing in the files above. */
   privacy = privacy_filter_new (error);
   if (!privacy) {
      return false;
   }
   return add_handler (mwatch_handler_new_stream (stderr),
                       MWATCH_DEFAULT_FORMAT,
                       (mwatch_filter_t *[]){slow_news_filter_new (slow), privacy, NULL},
                       error);
}

/* Reads every document of a find on `collection`; returns how many, or -1. */
static int
find_all (mongoc_collection_t *collection, const bson_t *filter)
{
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (collection, filter, NULL, NULL);
   const bson_t *doc;
   bson_error_t error;
   int n = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      n++;
   }
   if (mongoc_cursor_error (cursor, &error)) {
      fprintf (stderr, "find: %s\n", error.message);
      n = -1;
   }
   mongoc_cursor_destroy (cursor);
   return n;
}

int
main (int argc, char **argv)
{
   const char *uri = argc > 1 && argv[1][0] ? argv[1] : getenv ("MONGOWATCH_TEST_URI");
   const char *dir = argc > 2 ? argv[2] : NULL;
   const char *db_name = argc > 3 ? argv[3] : "mongowatch_example";
   double slow = 0.1;
   if (argc > 4) {
      char *end;
      slow = strtod (argv[4], &end);
      if (end == argv[4] || *end || slow < 0) {
         fprintf (stderr, "SLOW must be a number of seconds, not \"%s\"\n", argv[4]);
         return 2;
      }
   }
   if (!uri || !dir) {
      fprintf (stderr, "usage: %s MONGODB-URI LOG-DIRECTORY [DATABASE [SLOW]]\n", argv[0]);
      return 2;
   }
   bson_error_t error;
   if (!mwatch_patch_mongoc (&error) || !set_up_logging (dir, slow, &error)) {
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
   mongoc_collection_t *news = mongoc_database_get_collection (db, "news");
   mongoc_collection_t *weather = mongoc_database_get_collection (db, "weather");
   int status = 0;

   const char *authors[] = {"Ada Lovelace", "Grace Hopper", "Alan Turing"};
   bson_t *docs[12];
   for (int i = 0; i < 12; i++) {
      docs[i] = BCON_NEW ("author", BCON_UTF8 (authors[i % 3]), "views", BCON_INT32 (i * 10));
   }
   if (!mongoc_collection_insert_many (news, (const bson_t **) docs, 12, NULL, NULL, &error) ||
       !mongoc_collection_insert_many (weather, (const bson_t **) docs, 3, NULL, NULL, &error)) {
      fprintf (stderr, "insert_many: %s\n", error.message);
      status = 1;
   }
   for (int i = 0; i < 12; i++) {
      bson_destroy (docs[i]);
   }

   /* Queries whose values are private: who asked about whom. */
   bson_t *by_author = BCON_NEW ("author", BCON_UTF8 ("Grace Hopper"), "views", "{",
                                 "$gte", BCON_INT32 (42), "}");
   bson_t *by_city = BCON_NEW ("city", BCON_UTF8 ("Reykjavik"));
   int found = find_all (news, by_author);
   int cities = find_all (weather, by_city);
   if (found < 0 || cities < 0) {
      status = 1;
   }

   if (!mongoc_database_drop (db, &error)) {
      fprintf (stderr, "drop: %s\n", error.message);
      status = 1;
   }
   printf ("filters: found %d news, %d weather; slow means over %g s; logs in %s\n",
           found,
           cities,
           slow,
           dir);

   bson_destroy (by_author);
   bson_destroy (by_city);
   mongoc_collection_destroy (weather);
   mongoc_collection_destroy (news);
   mongoc_database_destroy (db);
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   /* Returning from main drains every queue into its file. */
   return status;
}
