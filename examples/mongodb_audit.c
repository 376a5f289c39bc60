/* An audit collection: every operation's record as a typed document in
 * MongoDB, then the slowest operations and the operations per user, read
 * back with an aggregation.
 *
 *   cc mongodb_audit.c $(pkg-config --cflags --libs mongowatch) -o mongodb_audit
 *   ./mongodb_audit mongodb://127.0.0.1:27017 [DATABASE]
 *
 * The URI may come from MONGOWATCH_TEST_URI instead (give "" as the first
 * argument).  The application's data goes into DATABASE (default
 * "mongowatch_example"), the records into DATABASE_audit.records; both
 * are dropped at the end.  It prints the number of stored records and
 * each user's count on stdout, e.g. "stored 7 records; alice 3, bob 2". */
#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>
#include <stdlib.h>

static mwatch_handler_t *
audit_handler (const char *uri, const char *database, bson_error_t *error)
{
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.uri = uri;
   opts.database = database;
   opts.collection = "records";
   opts.ttl_sec = 30 * 24 * 3600; /* kept a month, where the server has TTL indexes */
   mwatch_handler_t *handler = mwatch_handler_new_mongodb (&opts, error);
   if (handler) {
      mwatch_handler_set_name (handler, "audit"); /* for its reports */
   }
   return handler;
}

/* The application's work: a few finds on behalf of two users. */
static void
work (mongoc_collection_t *coll)
{
   static const char *const users[] = {"alice", "bob", "alice", "bob", "alice"};
   bson_t *doc = BCON_NEW ("kind", BCON_UTF8 ("tool"), "price", BCON_INT32 (12));
   mongoc_collection_insert_one (coll, doc, NULL, NULL, NULL);
   for (size_t i = 0; i < sizeof users / sizeof *users; i++) {
      mwatch_context_set ("User", users[i]);
      bson_t *filter = BCON_NEW ("price", "{", "$gt", BCON_INT32 ((int32_t) i), "}");
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
      const bson_t *found;
      while (mongoc_cursor_next (cursor, &found)) {
      }
      mongoc_cursor_destroy (cursor);
      bson_destroy (filter);
   }
   mwatch_context_clear ();
   bson_destroy (doc);
}

/* Prints each user's operations (the per-user pipeline of
 * doc/configuration.md, "mongodb"). */
static int64_t
per_user (mongoc_collection_t *records)
{
   bson_t *pipeline = BCON_NEW ("pipeline", "[",
                                "{", "$match", "{", "watch.EndTime", "{", "$exists", BCON_BOOL (true), "}", "}", "}",
                                "{", "$group", "{", "_id", BCON_UTF8 ("$watch.User"),
                                     "operations", "{", "$sum", BCON_INT32 (1), "}", "}", "}",
                                "{", "$sort", "{", "operations", BCON_INT32 (-1), "}", "}",
                                "]");
   mongoc_cursor_t *cursor = mongoc_collection_aggregate (records, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
   const bson_t *row;
   int64_t total = 0;
   bson_iter_t id, ops;
   while (mongoc_cursor_next (cursor, &row)) {
      if (bson_iter_init_find (&id, row, "_id") && BSON_ITER_HOLDS_UTF8 (&id) &&
          bson_iter_init_find (&ops, row, "operations")) {
         printf ("%s%s %lld", total ? ", " : "", bson_iter_utf8 (&id, NULL),
                 (long long) bson_iter_as_int64 (&ops));
         total += bson_iter_as_int64 (&ops);
      }
   }
   mongoc_cursor_destroy (cursor);
   bson_destroy (pipeline);
   return total;
}

int
main (int argc, char **argv)
{
   const char *uri = argc > 1 && argv[1][0] ? argv[1] : getenv ("MONGOWATCH_TEST_URI");
   const char *database = argc > 2 ? argv[2] : "mongowatch_example";
   bson_error_t error;
   if (!uri) {
      fprintf (stderr, "usage: %s MONGODB_URI [DATABASE]\n", argv[0]);
      return 2;
   }
   mongoc_init ();
   char *audit_db = bson_strdup_printf ("%s_audit", database);
   mwatch_handler_t *audit = audit_handler (uri, audit_db, &error);
   if (!audit) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }
   /* At INFO: the final record of each operation. */
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, audit);
   if (!mwatch_patch_mongoc (&error)) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }

   mongoc_client_t *client = mongoc_client_new (uri);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, database, "items");
   work (coll);

   /* mwatch_shutdown inserts what is still buffered (for at most the
    * handler's shutdown_timeout_sec) and closes the handler. */
   mwatch_mongodb_handler_stats_t stats;
   mwatch_shutdown ();
   mwatch_mongodb_handler_stats (audit, &stats);
   mwatch_unpatch_mongoc ();

   mongoc_collection_t *records = mongoc_client_get_collection (client, audit_db, "records");
   printf ("stored %llu records; ", (unsigned long long) stats.inserted);
   per_user (records);
   printf ("\n");

   mongoc_database_t *db = mongoc_client_get_database (client, database);
   mongoc_database_drop (db, NULL);
   mongoc_database_destroy (db);
   db = mongoc_client_get_database (client, audit_db);
   mongoc_database_drop (db, NULL);
   mongoc_database_destroy (db);
   mongoc_collection_destroy (records);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mwatch_handler_destroy (audit);
   bson_free (audit_db);
   mongoc_cleanup ();
   return stats.dropped == 0 ? 0 : 1;
}
