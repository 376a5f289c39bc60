/* A plugin that uses libmongoc, for test/mask-check: loaded with dlopen by
 * build/test/dlopen_app (which itself knows nothing of MongoDB), it
 * inserts 5 documents into the database it is given and reads them back.
 * Its calls must be watched like the program's own. */
#include <mongoc/mongoc.h>
#include <stdio.h>

int
mongo_plugin_run (const char *uri, const char *db);

int
mongo_plugin_run (const char *uri, const char *db)
{
   mongoc_init ();
   mongoc_client_t *client = mongoc_client_new (uri);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, "plugged");
   bson_error_t error;
   int read = -1;
   bson_t *docs[5];
   for (int i = 0; i < 5; i++) {
      docs[i] = BCON_NEW ("i", BCON_INT32 (i));
   }
   if (mongoc_collection_insert_many (coll, (const bson_t **) docs, 5, NULL, NULL, &error)) {
      bson_t filter = BSON_INITIALIZER;
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
      const bson_t *doc;
      for (read = 0; mongoc_cursor_next (cursor, &doc); read++) {
      }
      mongoc_cursor_destroy (cursor);
   } else {
      fprintf (stderr, "mongo_plugin: %s\n", error.message);
   }
   for (int i = 0; i < 5; i++) {
      bson_destroy (docs[i]);
   }
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mongoc_database_drop (database, NULL);
   mongoc_database_destroy (database);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   return read;
}
