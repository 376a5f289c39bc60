/* The C half of test/pymongowatch-check: the same operations as
 * test/pymongowatch/scenario.py, in the same order, with plain libmongoc.
 * It knows nothing of mongowatch (built with libmongoc alone) and is
 * audited through the mask (`mongowatch run`), as a program that moves
 * from pymongo would be.
 *
 *   MONGOWATCH_TEST_URI=URI scenario DB
 *
 * The first part is the deploy scenario of pymongowatch's repository
 * (deploy_test.py: five cursors over collection "pywatch" read in part,
 * sliced, indexed, rewound and closed), the second every other operation
 * both sides watch, ending with one that fails on the server.  Each step
 * is numbered as in scenario.py; the comparison relies on the order. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>

static int status;

static void
failed (const char *what, const bson_error_t *error)
{
   fprintf (stderr, "scenario: %s: %s\n", what, error->message);
   status = 1;
}

/* Reads at most MAX documents (all with a negative MAX) and destroys the
 * cursor, as pymongo's close() or the end of a `with` block do. */
static int
read_cursor (mongoc_cursor_t *cursor, int max, const char *what)
{
   const bson_t *doc;
   bson_error_t error;
   int n = 0;
   while ((max < 0 || n < max) && mongoc_cursor_next (cursor, &doc)) {
      n++;
   }
   if (mongoc_cursor_error (cursor, &error)) {
      failed (what, &error);
   }
   mongoc_cursor_destroy (cursor);
   return n;
}

static int
find (mongoc_collection_t *coll, bson_t *filter, bson_t *opts, int max, const char *what)
{
   int n = read_cursor (mongoc_collection_find_with_opts (coll, filter, opts, NULL), max, what);
   bson_destroy (filter);
   if (opts) {
      bson_destroy (opts);
   }
   return n;
}

/* Steps 1-8: deploy_test.py's test(). */
static void
deploy (mongoc_collection_t *coll)
{
   /* 1. it1 = find(); ten documents read, then abandoned. */
   find (coll, bson_new (), NULL, 10, "it1");
   /* 2. it2 = find({a < 20}).batch_size(8); five read inside `with`. */
   find (coll, BCON_NEW ("a", "{", "$lt", BCON_INT32 (20), "}"),
         BCON_NEW ("batchSize", BCON_INT32 (8)), 5, "it2");
   /* 3. list(find({a < 30})[5:10]): skip 5, limit 5. */
   find (coll, BCON_NEW ("a", "{", "$lt", BCON_INT32 (30), "}"),
         BCON_NEW ("skip", BCON_INT64 (5), "limit", BCON_INT64 (5)), -1, "it3");
   /* 4, 5. it4[20], it4[30]: one document each, skipped to, in one batch
    * (pymongo's limit -1). */
   find (coll, BCON_NEW ("a", "{", "$lt", BCON_INT32 (40), "}"),
         BCON_NEW ("skip", BCON_INT64 (20), "limit", BCON_INT64 (1), "singleBatch", BCON_BOOL (true)),
         -1, "it4[20]");
   find (coll, BCON_NEW ("a", "{", "$lt", BCON_INT32 (40), "}"),
         BCON_NEW ("skip", BCON_INT64 (30), "limit", BCON_INT64 (1), "singleBatch", BCON_BOOL (true)),
         -1, "it4[30]");
   /* 6. list(find({a < 50})). */
   find (coll, BCON_NEW ("a", "{", "$lt", BCON_INT32 (50), "}"), NULL, -1, "list");
   /* 7. it2.rewind(); list(it2): the same query again, read to the end. */
   find (coll, BCON_NEW ("a", "{", "$lt", BCON_INT32 (20), "}"),
         BCON_NEW ("batchSize", BCON_INT32 (8)), -1, "it2 rewound");
   /* 8. it5 = find({a < 60}).batch_size(5); 31 read, then close(). */
   find (coll, BCON_NEW ("a", "{", "$lt", BCON_INT32 (60), "}"),
         BCON_NEW ("batchSize", BCON_INT32 (5)), 31, "it5");
}

static void
find_and_modify (mongoc_collection_t *coll, bson_t *query, bson_t *update, bool remove,
                 const char *what)
{
   mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new ();
   bson_t reply;
   bson_error_t error;
   if (update) {
      mongoc_find_and_modify_opts_set_update (opts, update);
   }
   if (remove) {
      mongoc_find_and_modify_opts_set_flags (opts, MONGOC_FIND_AND_MODIFY_REMOVE);
   }
   if (!mongoc_collection_find_and_modify_with_opts (coll, query, opts, &reply, &error)) {
      failed (what, &error);
   }
   bson_destroy (&reply);
   mongoc_find_and_modify_opts_destroy (opts);
   bson_destroy (query);
   if (update) {
      bson_destroy (update);
   }
}

/* Steps 9-25: every other operation both sides watch. */
static void
operations (mongoc_collection_t *coll)
{
   bson_error_t error;
   bson_t reply;

   /* 9. find({a >= 10}).batch_size(7), read to the end: 50 documents in
    * 8 batches. */
   find (coll, BCON_NEW ("a", "{", "$gte", BCON_INT32 (10), "}"),
         BCON_NEW ("batchSize", BCON_INT32 (7)), -1, "batches");
   /* 10. find_one({a: 3}). */
   find (coll, BCON_NEW ("a", BCON_INT32 (3)), BCON_NEW ("limit", BCON_INT64 (1)), -1, "find_one");

   /* 11. insert_one({a: 100}). */
   bson_t *doc = BCON_NEW ("a", BCON_INT32 (100));
   if (!mongoc_collection_insert_one (coll, doc, NULL, NULL, &error)) {
      failed ("insert_one", &error);
   }
   bson_destroy (doc);
   /* 12. insert_many([{a: 101}, {a: 102}, {a: 103}]). */
   bson_t *docs[3];
   for (int i = 0; i < 3; i++) {
      docs[i] = BCON_NEW ("a", BCON_INT32 (101 + i));
   }
   if (!mongoc_collection_insert_many (coll, (const bson_t **) docs, 3, NULL, NULL, &error)) {
      failed ("insert_many", &error);
   }
   for (int i = 0; i < 3; i++) {
      bson_destroy (docs[i]);
   }

   /* 13-15. update_one, update_many, replace_one. */
   bson_t *q = BCON_NEW ("a", BCON_INT32 (100));
   bson_t *u = BCON_NEW ("$set", "{", "b", BCON_INT32 (1), "}");
   if (!mongoc_collection_update_one (coll, q, u, NULL, &reply, &error)) {
      failed ("update_one", &error);
   }
   bson_destroy (&reply);
   bson_destroy (q);
   bson_destroy (u);
   q = BCON_NEW ("a", "{", "$gt", BCON_INT32 (100), "}");
   u = BCON_NEW ("$set", "{", "b", BCON_INT32 (2), "}");
   if (!mongoc_collection_update_many (coll, q, u, NULL, &reply, &error)) {
      failed ("update_many", &error);
   }
   bson_destroy (&reply);
   bson_destroy (q);
   bson_destroy (u);
   q = BCON_NEW ("a", BCON_INT32 (101));
   u = BCON_NEW ("a", BCON_INT32 (101), "c", BCON_INT32 (1));
   if (!mongoc_collection_replace_one (coll, q, u, NULL, &reply, &error)) {
      failed ("replace_one", &error);
   }
   bson_destroy (&reply);
   bson_destroy (q);
   bson_destroy (u);

   /* 16, 17. delete_one({a: 102}), delete_many({a >= 100}). */
   q = BCON_NEW ("a", BCON_INT32 (102));
   if (!mongoc_collection_delete_one (coll, q, NULL, &reply, &error)) {
      failed ("delete_one", &error);
   }
   bson_destroy (&reply);
   bson_destroy (q);
   q = BCON_NEW ("a", "{", "$gte", BCON_INT32 (100), "}");
   if (!mongoc_collection_delete_many (coll, q, NULL, &reply, &error)) {
      failed ("delete_many", &error);
   }
   bson_destroy (&reply);
   bson_destroy (q);

   /* 18. count_documents({a < 10}). */
   q = BCON_NEW ("a", "{", "$lt", BCON_INT32 (10), "}");
   if (mongoc_collection_count_documents (coll, q, NULL, NULL, NULL, &error) < 0) {
      failed ("count_documents", &error);
   }
   bson_destroy (q);
   /* 19. distinct("a", {a < 5}): pymongo's distinct is this command. */
   bson_t *cmd = BCON_NEW ("distinct", BCON_UTF8 (mongoc_collection_get_name (coll)), "key",
                           BCON_UTF8 ("a"), "query", "{", "a", "{", "$lt", BCON_INT32 (5), "}", "}");
   if (!mongoc_collection_read_command_with_opts (coll, cmd, NULL, NULL, &reply, &error)) {
      failed ("distinct", &error);
   }
   bson_destroy (&reply);
   bson_destroy (cmd);
   /* 20. aggregate([{$match: {a < 3}}]), read to the end. */
   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "a", "{", "$lt",
                                BCON_INT32 (3), "}", "}", "}", "]");
   read_cursor (mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL), -1,
                "aggregate");
   bson_destroy (pipeline);

   /* 21-23. find_one_and_update, _replace, _delete. */
   find_and_modify (coll, BCON_NEW ("a", BCON_INT32 (1)),
                    BCON_NEW ("$set", "{", "u", BCON_INT32 (1), "}"), false,
                    "find_one_and_update");
   find_and_modify (coll, BCON_NEW ("a", BCON_INT32 (2)),
                    BCON_NEW ("a", BCON_INT32 (2), "r", BCON_INT32 (1)), false,
                    "find_one_and_replace");
   find_and_modify (coll, BCON_NEW ("a", BCON_INT32 (3)), NULL, true, "find_one_and_delete");

   /* 24, 25. insert_one({_id: "twice"}) twice: the second fails with the
    * server's duplicate key error, as the application expects. */
   doc = BCON_NEW ("_id", BCON_UTF8 ("twice"));
   if (!mongoc_collection_insert_one (coll, doc, NULL, NULL, &error)) {
      failed ("insert_one twice (first)", &error);
   }
   if (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error)) {
      fprintf (stderr, "scenario: the second insert of _id \"twice\" did not fail\n");
      status = 1;
   }
   bson_destroy (doc);
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
   if (!client) {
      fprintf (stderr, "scenario: bad URI %s\n", uri);
      return 2;
   }
   mongoc_collection_t *coll = mongoc_client_get_collection (client, argv[1], "pywatch");
   bson_error_t error;

   /* 0. The data the deploy scenario reads: {a: 0} .. {a: 59}. */
   bson_t *docs[60];
   for (int i = 0; i < 60; i++) {
      docs[i] = BCON_NEW ("a", BCON_INT32 (i));
   }
   if (!mongoc_collection_insert_many (coll, (const bson_t **) docs, 60, NULL, NULL, &error)) {
      failed ("seed insert_many", &error);
   }
   for (int i = 0; i < 60; i++) {
      bson_destroy (docs[i]);
   }

   deploy (coll);
   operations (coll);

   /* The database is dropped by test/pymongowatch-check, unwatched:
    * pymongowatch does not watch a database's drop. */
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   return status;
}
