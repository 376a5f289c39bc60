/* "Option 1" of pymongowatch's README, in C: patch libmongoc at start-up,
 * add the default handler (stderr, "{asctime} {name} - {watch}"), and run
 * a few ordinary mongoc calls, which are now audited.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs mongowatch) -o quickstart
 *   ./quickstart mongodb://127.0.0.1:27017
 *
 * The audit log goes to stderr; the program's own output to stdout. */
#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>

int
main (int argc, char **argv)
{
   const char *uri = argc > 1 ? argv[1] : getenv ("MONGOWATCH_TEST_URI");
   if (!uri) {
      fprintf (stderr, "usage: %s MONGODB-URI\n", argv[0]);
      return 2;
   }
   bson_error_t error;
   /* The two lines of set-up. */
   if (!mwatch_patch_mongoc (&error) || !mwatch_add_logging_handlers (NULL, NULL, &error)) {
      fprintf (stderr, "mongowatch: %s\n", error.message);
      return 1;
   }

   mongoc_init ();
   mongoc_client_t *client = mongoc_client_new (uri);
   if (!client) {
      fprintf (stderr, "bad URI: %s\n", uri);
      return 2;
   }
   mongoc_collection_t *news = mongoc_client_get_collection (client, "quickstart", "news");

   bson_t *docs[30];
   for (int i = 0; i < 30; i++) {
      docs[i] = BCON_NEW ("n", BCON_INT32 (i), "topic", BCON_UTF8 (i % 3 ? "sport" : "science"));
   }
   if (!mongoc_collection_insert_many (news, (const bson_t **) docs, 30, NULL, NULL, &error)) {
      fprintf (stderr, "insert_many: %s\n", error.message);
   }
   for (int i = 0; i < 30; i++) {
      bson_destroy (docs[i]);
   }

   /* One find, read in batches of 4: one audit record. */
   bson_t *filter = BCON_NEW ("topic", BCON_UTF8 ("sport"));
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (4));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (news, filter, opts, NULL);
   const bson_t *doc;
   int read = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      read++;
   }
   mongoc_cursor_destroy (cursor);
   printf ("read %d sport documents\n", read);

   int64_t science = mongoc_collection_count_documents (
      news, &(bson_t) BSON_INITIALIZER, NULL, NULL, NULL, &error);
   printf ("%" PRId64 " documents in all\n", science);

   mongoc_collection_drop (news, NULL);
   bson_destroy (filter);
   bson_destroy (opts);
   mongoc_collection_destroy (news);
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   /* Returning from main writes every audit record still queued. */
   return 0;
}
