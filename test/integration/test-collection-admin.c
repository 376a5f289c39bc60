/* The collection watcher against the real server, continued (see
 * test-collection.c): command helpers, administration, failures reported
 * as the application sees them, unpatched calls, and change streams
 * through the cursor watcher. */
#include "integration/collection-fixture.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- commands */

START_TEST (test_commands)
{
   fixture_t f;
   fixture_start (&f, 6, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   mongoc_database_t *database = mongoc_client_get_database (f.client, f.db);
   bson_t *distinct = BCON_NEW ("distinct", "items", "key", "n", "query", "{", "group",
                                BCON_INT32 (1), "}");
   bson_t *count = BCON_NEW ("count", "items", "query", "{", "group", BCON_INT32 (2), "}");
   bson_t *find = BCON_NEW ("find", "items", "filter", "{", "group", BCON_INT32 (0), "}");
   bson_t *ping = BCON_NEW ("ping", BCON_INT32 (1));
   bson_t *create = BCON_NEW ("create", "made");
   bson_t *drop = BCON_NEW ("drop", "made");
   const mwatch_captured_t *rec;

   /* On the collection: its DB and name. */
   ck_assert (mongoc_collection_read_command_with_opts (f.coll, distinct, NULL, NULL, &reply,
                                                        &error));
   rec = one_ok (&f, "distinct", f.db, "items");
   ck_assert_int_eq (capture_int (rec, "Filter.group"), 1);
   bson_iter_t iter;
   ck_assert (bson_iter_init_find (&iter, &reply, "values") && BSON_ITER_HOLDS_ARRAY (&iter));
   bson_destroy (&reply);
   ck_assert (mongoc_collection_command_simple (f.coll, ping, NULL, NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "ping", f.db, "items"), "Filter.ping"), 1);
   ck_assert (mongoc_collection_command_with_opts (f.coll, count, NULL, NULL, &reply, NULL));
   ck_assert_int_eq (reply_int (&reply, "n"), 2); /* n = 2, 5 */
   ck_assert_int_eq (capture_int (one_ok (&f, "count", f.db, "items"), "Filter.group"), 2);
   bson_destroy (&reply);
   ck_assert (mongoc_collection_write_command_with_opts (f.coll, create, NULL, NULL, &error));
   ck_assert_str_eq (capture_str (one_ok (&f, "create", f.db, "items"), "Filter.create"),
                     "made");
   ck_assert (mongoc_collection_read_write_command_with_opts (f.coll, distinct, NULL, NULL, NULL,
                                                              &error));
   one_ok (&f, "distinct", f.db, "items");

   /* On the database: the collection the command names, if any. */
   ck_assert (mongoc_database_command_simple (database, ping, NULL, NULL, &error));
   rec = one_ok (&f, "ping", f.db, NULL);
   ck_assert (!mwatch_message_has (rec->msg, "Collection"));
   ck_assert (mongoc_database_read_command_with_opts (database, find, NULL, NULL, NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "find", f.db, "items"), "Filter.group"), 0);
   ck_assert (mongoc_database_command_with_opts (database, count, NULL, NULL, NULL, &error));
   one_ok (&f, "count", f.db, "items");
   ck_assert (mongoc_database_write_command_with_opts (database, drop, NULL, NULL, &error));
   one_ok (&f, "drop", f.db, "made");
   ck_assert (mongoc_database_read_write_command_with_opts (database, distinct, NULL, NULL, NULL,
                                                            &error));
   one_ok (&f, "distinct", f.db, "items");

   /* On the client: the database named in the call. */
   ck_assert (mongoc_client_command_simple (f.client, "admin", ping, NULL, &reply, &error));
   rec = one_ok (&f, "ping", "admin", NULL);
   ck_assert_int_eq (capture_int (rec, "Filter.ping"), 1);
   bson_destroy (&reply);
   ck_assert (
      mongoc_client_read_command_with_opts (f.client, f.db, distinct, NULL, NULL, NULL, &error));
   one_ok (&f, "distinct", f.db, "items");
   ck_assert (mongoc_client_command_with_opts (f.client, f.db, count, NULL, NULL, NULL, &error));
   one_ok (&f, "count", f.db, "items");
   ck_assert (mongoc_client_write_command_with_opts (f.client, f.db, create, NULL, NULL, &error));
   one_ok (&f, "create", f.db, "made");
   ck_assert (mongoc_client_read_write_command_with_opts (f.client, f.db, drop, NULL, NULL, NULL,
                                                          &error));
   one_ok (&f, "drop", f.db, "made");

   mongoc_database_destroy (database);
   bson_destroy (distinct);
   bson_destroy (count);
   bson_destroy (find);
   bson_destroy (ping);
   bson_destroy (create);
   bson_destroy (drop);
   fixture_stop (&f);
}
END_TEST

/* A string as a command's first value is a Collection only for commands
 * that name a collection there (issue 18): {serverStatus: "1"}, as a real
 * daemon sends it, and {ping: "x"} have none. */
START_TEST (test_command_string_values)
{
   fixture_t f;
   fixture_start (&f, 2, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   mongoc_database_t *database = mongoc_client_get_database (f.client, f.db);
   bson_t *status = BCON_NEW ("serverStatus", "1");
   bson_t *ping = BCON_NEW ("ping", "x");
   bson_t *indexes = BCON_NEW ("listIndexes", "items");
   bson_t *stats = BCON_NEW ("collStats", "items");
   const mwatch_captured_t *rec;

   ck_assert_msg (mongoc_client_command_simple (f.client, "admin", status, NULL, NULL, &error),
                  "%s", error.message);
   rec = one_ok (&f, "serverStatus", "admin", NULL);
   ck_assert (!mwatch_message_has (rec->msg, "Collection"));
   ck_assert_msg (mongoc_database_command_simple (database, ping, NULL, NULL, &error), "%s",
                  error.message);
   rec = one_ok (&f, "ping", f.db, NULL);
   ck_assert (!mwatch_message_has (rec->msg, "Collection"));
   ck_assert_msg (mongoc_database_command_simple (database, indexes, NULL, NULL, &error), "%s",
                  error.message);
   one_ok (&f, "listIndexes", f.db, "items");
   ck_assert_msg (mongoc_database_command_simple (database, stats, NULL, NULL, &error), "%s",
                  error.message);
   one_ok (&f, "collStats", f.db, "items");

   mongoc_database_destroy (database);
   bson_destroy (status);
   bson_destroy (ping);
   bson_destroy (indexes);
   bson_destroy (stats);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- administration */

static bool
has_index (mongoc_collection_t *coll, const char *name)
{
   unwatched ();
   mongoc_cursor_t *cursor = mongoc_collection_find_indexes_with_opts (coll, NULL);
   const bson_t *doc;
   bool found = false;
   bson_iter_t iter;
   while (mongoc_cursor_next (cursor, &doc)) {
      if (bson_iter_init_find (&iter, doc, "name") &&
          strcmp (bson_iter_utf8 (&iter, NULL), name) == 0) {
         found = true;
      }
   }
   mongoc_cursor_destroy (cursor);
   watched ();
   return found;
}

START_TEST (test_indexes)
{
   fixture_t f;
   fixture_start (&f, 3, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t reply;
   bson_t *by_n = BCON_NEW ("n", BCON_INT32 (1));
   bson_t *by_group = BCON_NEW ("group", BCON_INT32 (-1));
   bson_t *by_name = BCON_NEW ("name", BCON_INT32 (1));

   ck_assert (
      mongoc_collection_create_index_with_opts (f.coll, by_n, NULL, NULL, &reply, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "create_index", f.db, "items"), "Filter.n"), 1);
   bson_destroy (&reply);
   ck_assert (has_index (f.coll, "n_1"));
   /* The deprecated ones run create_index_with_opts: one record each. */
   ck_assert (mongoc_collection_create_index (f.coll, by_group, NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "create_index", f.db, "items"), "Filter.group"),
                     -1);
   ck_assert (has_index (f.coll, "group_-1"));
   ck_assert (mongoc_collection_ensure_index (f.coll, by_name, NULL, NULL));
   one_ok (&f, "create_index", f.db, "items");
   ck_assert (has_index (f.coll, "name_1"));

   ck_assert (mongoc_collection_drop_index (f.coll, "n_1", &error));
   ck_assert_str_eq (capture_str (one_ok (&f, "drop_index", f.db, "items"), "Filter.index"),
                     "n_1");
   ck_assert (!has_index (f.coll, "n_1"));
   ck_assert (mongoc_collection_drop_index_with_opts (f.coll, "group_-1", NULL, NULL));
   one_ok (&f, "drop_index", f.db, "items");
   ck_assert (!has_index (f.coll, "group_-1"));

   bson_destroy (by_n);
   bson_destroy (by_group);
   bson_destroy (by_name);
   fixture_stop (&f);
}
END_TEST

START_TEST (test_collections_and_databases)
{
   fixture_t f;
   fixture_start (&f, 3, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   char other_db[64];
   mwatch_test_unique_name ("mwtest_coll_other", other_db, sizeof other_db);
   mongoc_database_t *database = mongoc_client_get_database (f.client, f.db);

   mongoc_collection_t *made = mongoc_database_create_collection (database, "made", NULL, &error);
   ck_assert_msg (made, "%s", error.message);
   ck_assert (!mwatch_message_has (one_ok (&f, "create_collection", f.db, "made")->msg,
                                   "Filter"));
   /* The collection it returns has its database known. */
   insert_one_doc (made);
   one_ok (&f, "insert_one", f.db, "made");
   /* Creating it again fails, the same for the application and the
    * record. */
   ck_assert_ptr_null (mongoc_database_create_collection (database, "made", NULL, &error));
   ck_assert_str_eq (capture_str (one_final (&f, "create_collection", f.db, "made"), "Error"),
                     error.message);

   ck_assert (mongoc_collection_rename (made, NULL, "renamed", false, &error));
   const mwatch_captured_t *rec = one_ok (&f, "rename", f.db, "made");
   char to[160];
   snprintf (to, sizeof to, "%s.renamed", f.db);
   ck_assert_str_eq (capture_str (rec, "Filter.to"), to);
   insert_one_doc (made);
   one_ok (&f, "insert_one", f.db, "renamed");

   /* Into another database: later records follow it there. */
   if (mongoc_collection_rename_with_opts (made, other_db, "moved", false, NULL, &error)) {
      rec = one_ok (&f, "rename", f.db, "renamed");
      snprintf (to, sizeof to, "%s.moved", other_db);
      ck_assert_str_eq (capture_str (rec, "Filter.to"), to);
      insert_one_doc (made);
      one_ok (&f, "insert_one", other_db, "moved");
   } else {
      /* A server that cannot rename across databases: the failure as it
       * is, and the names stay. */
      ck_assert_str_eq (capture_str (one_final (&f, "rename", f.db, "renamed"), "Error"),
                        error.message);
   }

   ck_assert (mongoc_collection_drop (made, &error));
   one_ok (&f, "drop", NULL, NULL);
   ck_assert (mongoc_collection_drop_with_opts (f.coll, NULL, &error));
   one_ok (&f, "drop", f.db, "items");
   ck_assert_int_eq (truth (f.coll, NULL), 0);

   mongoc_database_t *other = mongoc_client_get_database (f.client, other_db);
   ck_assert (mongoc_database_drop_with_opts (other, NULL, &error));
   rec = one_ok (&f, "drop_database", other_db, NULL);
   ck_assert (!mwatch_message_has (rec->msg, "Collection"));
   ck_assert (mongoc_database_drop (database, NULL));
   one_ok (&f, "drop_database", f.db, NULL);

   mongoc_collection_destroy (made);
   mongoc_database_destroy (other);
   mongoc_database_destroy (database);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- failures */

/* What one call gave the application. */
typedef struct {
   bool ok;
   bson_error_t error;
   char *reply; /* canonical extended JSON, NULL without a reply */
} outcome_t;

typedef bool (*call_fn) (mongoc_collection_t *coll, bson_t *reply, bson_error_t *error);

static void
run (call_fn fn, mongoc_collection_t *coll, bool with_reply, outcome_t *out)
{
   bson_t reply;
   memset (&out->error, 0, sizeof out->error);
   out->ok = fn (coll, with_reply ? &reply : NULL, &out->error);
   out->reply = with_reply ? bson_as_canonical_extended_json (&reply, NULL) : NULL;
   if (with_reply) {
      bson_destroy (&reply);
   }
}

/* Runs a failing call watched, then the same call unwatched on the same
 * collection (a failed write changes nothing): the application gets the
 * same both ways, and the record carries the error.  Returns the
 * record. */
static const mwatch_captured_t *
same_failure (fixture_t *f, call_fn fn, const char *operation)
{
   outcome_t watched_out;
   outcome_t unwatched_out;
   run (fn, f->coll, true, &watched_out);
   const mwatch_captured_t *rec = one_final (f, operation, f->db, "items");
   unwatched ();
   run (fn, f->coll, true, &unwatched_out);
   watched ();
   ck_assert_uint_eq (capture_count (f->cap), f->seen);
   ck_assert (!watched_out.ok);
   ck_assert (!unwatched_out.ok);
   ck_assert_uint_eq (watched_out.error.domain, unwatched_out.error.domain);
   ck_assert_uint_eq (watched_out.error.code, unwatched_out.error.code);
   ck_assert_str_eq (watched_out.error.message, unwatched_out.error.message);
   ck_assert_str_eq (watched_out.reply, unwatched_out.reply);
   ck_assert_str_eq (capture_str (rec, "Error"), watched_out.error.message);
   bson_free (watched_out.reply);
   bson_free (unwatched_out.reply);
   return rec;
}

static bool
insert_k1 (mongoc_collection_t *coll, bson_t *reply, bson_error_t *error)
{
   bson_t *doc = BCON_NEW ("k", BCON_INT32 (1));
   bool ok = mongoc_collection_insert_one (coll, doc, NULL, reply, error);
   bson_destroy (doc);
   return ok;
}

/* k = 2, 1 (a duplicate), 3, ordered: stops after the first. */
static bool
insert_many_k (mongoc_collection_t *coll, bson_t *reply, bson_error_t *error)
{
   bson_t *docs[3];
   int ks[3] = {2, 1, 3};
   for (int i = 0; i < 3; i++) {
      docs[i] = BCON_NEW ("k", BCON_INT32 (ks[i]));
   }
   bool ok = mongoc_collection_insert_many (coll, (const bson_t **) docs, 3, NULL, reply, error);
   for (int i = 0; i < 3; i++) {
      bson_destroy (docs[i]);
   }
   return ok;
}

static bool
update_bad_operator (mongoc_collection_t *coll, bson_t *reply, bson_error_t *error)
{
   bson_t *selector = BCON_NEW ("k", BCON_INT32 (1));
   bson_t *update = BCON_NEW ("$nosuchop", "{", "a", BCON_INT32 (1), "}");
   bool ok = mongoc_collection_update_one (coll, selector, update, NULL, reply, error);
   bson_destroy (selector);
   bson_destroy (update);
   return ok;
}

static bool
legacy_insert_k1 (mongoc_collection_t *coll, bson_t *reply, bson_error_t *error)
{
   bson_t *doc = BCON_NEW ("k", BCON_INT32 (1));
   bool ok = mongoc_collection_insert (coll, MONGOC_INSERT_NONE, doc, NULL, error);
   if (reply) {
      bson_copy_to (mongoc_collection_get_last_error (coll), reply);
   }
   bson_destroy (doc);
   return ok;
}

START_TEST (test_failures)
{
   fixture_t f;
   fixture_start (&f, 0, MWATCH_LEVEL_INFO, false);
   bson_error_t error;
   bson_t *by_k = BCON_NEW ("k", BCON_INT32 (1));
   mongoc_index_opt_t unique;
   mongoc_index_opt_init (&unique);
   unique.unique = true;
   unwatched ();
   ck_assert_msg (mongoc_collection_create_index_with_opts (f.coll, by_k, &unique, NULL, NULL,
                                                            &error),
                  "%s", error.message);
   watched ();
   ck_assert (insert_k1 (f.coll, NULL, &error));
   one_ok (&f, "insert_one", f.db, "items");

   /* A duplicate key. */
   const mwatch_captured_t *rec = same_failure (&f, insert_k1, "insert_one");
   ck_assert_int_eq (capture_int (rec, "InsertedCount"), 0);
   char duplicate[sizeof error.message];
   bson_strncpy (duplicate, capture_str (rec, "Error"), sizeof duplicate);
   rec = same_failure (&f, legacy_insert_k1, "insert");
   ck_assert (!mwatch_message_has (rec->msg, "InsertedCount") ||
              capture_int (rec, "InsertedCount") == 0);
   /* Part-way: the first document went in. */
   outcome_t out;
   run (insert_many_k, f.coll, false, &out);
   ck_assert (!out.ok);
   rec = one_final (&f, "insert_many", f.db, "items");
   ck_assert_str_eq (capture_str (rec, "Error"), out.error.message);
   ck_assert_int_eq (capture_int (rec, "InsertedCount"), 1);
   ck_assert_int_eq (truth (f.coll, NULL), 2);

   /* Without an error of its own the application still gets its false,
    * and the record its Error. */
   ck_assert (!insert_k1 (f.coll, NULL, NULL));
   ck_assert_str_eq (capture_str (one_final (&f, "insert_one", f.db, "items"), "Error"),
                     duplicate);
   ck_assert (!legacy_insert_k1 (f.coll, NULL, NULL));
   ck_assert (mwatch_message_has (one_final (&f, "insert", f.db, "items")->msg, "Error"));

   /* A bad update operator. */
   same_failure (&f, update_bad_operator, "update_one");

   /* A deprecated write refused before it was sent: the previous call's
    * counts are not this one's. */
   bson_t *docs[2] = {BCON_NEW ("k", BCON_INT32 (10)), BCON_NEW ("", BCON_INT32 (1))};
   ck_assert (mongoc_collection_insert_bulk (f.coll, MONGOC_INSERT_NONE, (const bson_t **) docs,
                                             1, NULL, &error));
   ck_assert_int_eq (capture_int (one_ok (&f, "insert_bulk", f.db, "items"), "InsertedCount"),
                     1);
   ck_assert (!mongoc_collection_insert_bulk (f.coll, MONGOC_INSERT_NONE,
                                              (const bson_t **) docs + 1, 1, NULL, &error));
   rec = one_final (&f, "insert_bulk", f.db, "items");
   ck_assert_str_eq (capture_str (rec, "Error"), error.message);
   ck_assert (!mwatch_message_has (rec->msg, "InsertedCount"));

   bson_destroy (docs[0]);
   bson_destroy (docs[1]);
   bson_destroy (by_k);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- unpatched */

START_TEST (test_unpatched_logs_nothing)
{
   fixture_t f;
   fixture_start (&f, 6, MWATCH_LEVEL_DEBUG, false);
   mwatch_unpatch_mongoc ();
   bson_error_t error;
   bson_t reply;
   char other_db[64];
   mwatch_test_unique_name ("mwtest_coll_other", other_db, sizeof other_db);
   bson_t *group1 = BCON_NEW ("group", BCON_INT32 (1));
   bson_t *set_x = BCON_NEW ("$set", "{", "x", BCON_INT32 (1), "}");
   bson_t *ping = BCON_NEW ("ping", BCON_INT32 (1));

   insert_one_doc (f.coll);
   ck_assert (mongoc_collection_update_many (f.coll, group1, set_x, NULL, &reply, &error));
   ck_assert_int_eq (reply_int (&reply, "modifiedCount"), 2);
   bson_destroy (&reply);
   ck_assert_int_eq (mongoc_collection_count_documents (f.coll, group1, NULL, NULL, NULL, &error),
                     2);
   ck_assert (mongoc_collection_delete_one (f.coll, group1, NULL, NULL, &error));
   ck_assert (mongoc_client_command_simple (f.client, "admin", ping, NULL, NULL, &error));
   mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts (f.coll, NULL);
   mongoc_bulk_operation_insert (bulk, ping);
   ck_assert_uint_ne (mongoc_bulk_operation_execute (bulk, NULL, &error), 0);
   mongoc_bulk_operation_destroy (bulk);
   ck_assert_int_eq (mongoc_collection_estimated_document_count (f.coll, NULL, NULL, NULL, NULL),
                     6 + 1 - 1 + 1);
   /* The names still follow a rename made meanwhile. */
   bool moved = mongoc_collection_rename (f.coll, other_db, "moved", false, &error);
   ck_assert_uint_eq (capture_count (f.cap), 0);

   watched ();
   insert_one_doc (f.coll);
   ck_assert_uint_eq (capture_finals (f.cap, "insert_one", NULL), 1);
   const mwatch_captured_t *rec = capture_get (f.cap, capture_count (f.cap) - 1);
   ck_assert_str_eq (capture_str (rec, "DB"), moved ? other_db : f.db);
   ck_assert_str_eq (capture_str (rec, "Collection"), moved ? "moved" : "items");

   unwatched ();
   if (moved) {
      mongoc_database_t *other = mongoc_client_get_database (f.client, other_db);
      mongoc_database_drop (other, NULL);
      mongoc_database_destroy (other);
   }
   bson_destroy (group1);
   bson_destroy (set_x);
   bson_destroy (ping);
   fixture_stop (&f);
}
END_TEST

/* ---------------------------------------------------------------- change streams */

/* What the application learns of a change stream: the first next(), then
 * the stream's error. */
typedef struct {
   bool changed;
   bool failed;
   bson_error_t error;
} stream_outcome_t;

static void
use_stream (mongoc_change_stream_t *stream, stream_outcome_t *out)
{
   const bson_t *doc;
   const bson_t *error_doc;
   memset (&out->error, 0, sizeof out->error);
   out->changed = mongoc_change_stream_next (stream, &doc);
   out->failed = mongoc_change_stream_error_document (stream, &out->error, &error_doc);
}

typedef mongoc_change_stream_t *(*open_fn) (fixture_t *f, const bson_t *pipeline);

static mongoc_change_stream_t *
open_collection (fixture_t *f, const bson_t *pipeline)
{
   return mongoc_collection_watch (f->coll, pipeline, NULL);
}

static mongoc_change_stream_t *
open_database (fixture_t *f, const bson_t *pipeline)
{
   mongoc_database_t *database = mongoc_client_get_database (f->client, f->db);
   mongoc_change_stream_t *stream = mongoc_database_watch (database, pipeline, NULL);
   mongoc_database_destroy (database);
   return stream;
}

static mongoc_change_stream_t *
open_client (fixture_t *f, const bson_t *pipeline)
{
   return mongoc_client_watch (f->client, pipeline, NULL);
}

/* A stream is a cursor operation "watch": a first record when opened, the
 * final one (with the error the application sees, if any) by the time it
 * is destroyed, and the same outcome as unwatched. */
static void
check_stream (fixture_t *f, open_fn open, const char *db, const char *collection)
{
   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "operationType",
                                BCON_UTF8 ("insert"), "}", "}", "]");
   size_t before = capture_count (f->cap);
   mongoc_change_stream_t *stream = open (f, pipeline);
   ck_assert_uint_eq (capture_count (f->cap), before + 1);
   const mwatch_captured_t *rec = capture_get (f->cap, before);
   ck_assert_str_eq (rec->logger, "mongowatch.cursor");
   ck_assert_str_eq (capture_str (rec, "Operation"), "watch");
   ck_assert_str_eq (capture_str (rec, "Filter.0.$match.operationType"), "insert");
   ck_assert (db ? strcmp (capture_str (rec, "DB"), db) == 0
                 : !mwatch_message_has (rec->msg, "DB"));
   ck_assert (collection ? strcmp (capture_str (rec, "Collection"), collection) == 0
                         : !mwatch_message_has (rec->msg, "Collection"));

   stream_outcome_t out;
   use_stream (stream, &out);
   mongoc_change_stream_destroy (stream);
   size_t finals = 0;
   for (size_t i = before; i < capture_count (f->cap); i++) {
      rec = capture_get (f->cap, i);
      ck_assert_str_eq (rec->logger, "mongowatch.cursor");
      if (mwatch_message_is_ready (rec->msg)) {
         finals++;
         ck_assert_int_eq (capture_int (rec, "MatchedCount"), out.changed ? 1 : 0);
         if (out.failed) {
            ck_assert_str_eq (capture_str (rec, "Error"), out.error.message);
         } else {
            ck_assert (!mwatch_message_has (rec->msg, "Error"));
         }
      }
   }
   ck_assert_uint_eq (finals, 1);

   unwatched ();
   stream_outcome_t plain;
   stream = open (f, pipeline);
   use_stream (stream, &plain);
   mongoc_change_stream_destroy (stream);
   watched ();
   ck_assert_int_eq (out.changed, plain.changed);
   ck_assert_int_eq (out.failed, plain.failed);
   ck_assert_uint_eq (out.error.domain, plain.error.domain);
   ck_assert_uint_eq (out.error.code, plain.error.code);
   ck_assert_str_eq (out.error.message, plain.error.message);
   bson_destroy (pipeline);
}

START_TEST (test_change_streams)
{
   fixture_t f;
   fixture_start (&f, 2, MWATCH_LEVEL_DEBUG, false);
   check_stream (&f, open_collection, f.db, "items");
   check_stream (&f, open_database, f.db, NULL);
   check_stream (&f, open_client, NULL, NULL);
   fixture_stop (&f);
}
END_TEST

void
collection_admin_tests (TCase *tc)
{
   tcase_add_test (tc, test_commands);
   tcase_add_test (tc, test_command_string_values);
   tcase_add_test (tc, test_indexes);
   tcase_add_test (tc, test_collections_and_databases);
   tcase_add_test (tc, test_failures);
   tcase_add_test (tc, test_unpatched_logs_nothing);
   tcase_add_test (tc, test_change_streams);
}
