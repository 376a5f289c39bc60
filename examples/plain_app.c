/* plain_app: a libmongoc program that knows nothing of mongowatch — built
 * with libmongoc alone — audited through the mask:
 *
 *   cc plain_app.c $(pkg-config --cflags --libs libmongoc-1.0) -o plain_app
 *   MONGOWATCH_TEST_URI=mongodb://127.0.0.1:27017 mongowatch run ./plain_app some_db
 *
 * (`make demo` does that against a local test server; test/mask-check and
 * test/preload-check check it.)  It inserts PLAIN_APP_DOCS documents into the
 * database named by argv[1], reads them back in batches of 3, counts them,
 * drops the database and returns from main, so that whatever runs at exit
 * (mongowatch's drain, under LD_PRELOAD) runs as in any real program.  It
 * prints one line, "read N counted M", for the script to check. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>

#define PLAIN_APP_DOCS 12

static int
fail (const char *what, const bson_error_t *error)
{
   fprintf (stderr, "plain_app: %s: %s\n", what, error->message);
   return 1;
}

int
main (int argc, char **argv)
{
   const char *uri = getenv ("MONGOWATCH_TEST_URI");
   if (argc != 2 || !uri) {
      fprintf (stderr, "usage: MONGOWATCH_TEST_URI=URI %s DB\n", argv[0]);
      return 2;
   }
   mongoc_init ();
   mongoc_client_t *client = mongoc_client_new (uri);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, argv[1], "things");
   bson_error_t error;
   int status = 0;

   bson_t *docs[PLAIN_APP_DOCS];
   for (int i = 0; i < PLAIN_APP_DOCS; i++) {
      docs[i] = BCON_NEW ("n", BCON_INT32 (i));
   }
   if (!mongoc_collection_insert_many (coll, (const bson_t **) docs, PLAIN_APP_DOCS, NULL, NULL,
                                       &error)) {
      status = fail ("insert_many", &error);
   }
   for (int i = 0; i < PLAIN_APP_DOCS; i++) {
      bson_destroy (docs[i]);
   }

   bson_t filter = BSON_INITIALIZER;
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (3));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, opts, NULL);
   const bson_t *doc;
   int read = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      read++;
   }
   if (mongoc_cursor_error (cursor, &error)) {
      status = fail ("find", &error);
   }
   mongoc_cursor_destroy (cursor);
   bson_destroy (opts);

   int64_t counted = mongoc_collection_count_documents (coll, &filter, NULL, NULL, NULL, &error);
   if (counted < 0) {
      status = fail ("count_documents", &error);
   }
   printf ("read %d counted %" PRId64 "\n", read, counted);

   mongoc_database_t *db = mongoc_client_get_database (client, argv[1]);
   mongoc_database_drop (db, NULL);
   mongoc_database_destroy (db);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   return status;
}
