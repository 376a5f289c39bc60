/* The MongoDB audit handler against the real server: every field stored
 * with its BSON type, the names and counts of each kind of operation, no
 * record of the handler's own writes, a redact filter's effect, a server
 * restart mid-stream, a server down at start, the TTL index, and the
 * example aggregations of doc/configuration.md run as written there. */
#include <mongoc/mongoc.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integration/suites.h"
#include "test-capture.h"

#define AUDIT_COLL "records"

/* A fresh audit database name, and a handler into it at INFO on the
 * logger "mongowatch" (with `opts` tweaks when given). */
static mwatch_handler_t *
audit_start (char *db, size_t size, mwatch_mongodb_handler_opts_t *opts)
{
   mwatch_mongodb_handler_opts_t own;
   if (!opts) {
      mwatch_mongodb_handler_opts_init (&own);
      opts = &own;
   }
   mwatch_test_unique_name ("mwaudit", db, size);
   opts->uri = opts->uri ? opts->uri : mwatch_test_uri ();
   opts->database = db;
   opts->collection = AUDIT_COLL;
   bson_error_t error;
   mwatch_handler_t *h = mwatch_handler_new_mongodb (opts, &error);
   ck_assert_msg (h, "%s", error.message);
   mwatch_handler_set_name (h, "audit");
   return h;
}

static mwatch_mongodb_handler_stats_t
stats_of (mwatch_handler_t *h)
{
   mwatch_mongodb_handler_stats_t st;
   ck_assert (mwatch_mongodb_handler_stats (h, &st));
   return st;
}

/* Awaits `n` records stored (or `seconds`), polling the handler's own
 * counter; returns how many were. */
static uint64_t
await_inserted (mwatch_handler_t *h, uint64_t n, double seconds)
{
   int64_t deadline = mwatch_monotonic_us () + (int64_t) (seconds * 1e6);
   while (stats_of (h).inserted < n && mwatch_monotonic_us () < deadline) {
      usleep (10000);
   }
   return stats_of (h).inserted;
}

static void
await_failed_batch (mwatch_handler_t *h)
{
   int64_t deadline = mwatch_monotonic_us () + 20 * 1000000;
   while (stats_of (h).failed_batches == 0 && mwatch_monotonic_us () < deadline) {
      usleep (10000);
   }
   ck_assert_msg (stats_of (h).failed_batches > 0, "the handler never failed a batch");
}

/* The stored documents in insertion order (an array the caller frees with
 * free_docs), read by an unwatched client of the test's own. */
static bson_t **
read_docs (const char *db, size_t *n)
{
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, AUDIT_COLL);
   bson_t *filter = bson_new ();
   bson_t *opts = BCON_NEW ("sort", "{", "created", BCON_INT32 (1), "}");
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
   const bson_t *doc;
   bson_t **docs = NULL;
   *n = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      docs = bson_realloc (docs, (*n + 1) * sizeof *docs);
      docs[(*n)++] = bson_copy (doc);
   }
   bson_error_t error;
   ck_assert_msg (!mongoc_cursor_error (cursor, &error), "%s", error.message);
   mongoc_cursor_destroy (cursor);
   bson_destroy (opts);
   bson_destroy (filter);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   return docs;
}

static void
free_docs (bson_t **docs, size_t n)
{
   for (size_t i = 0; i < n; i++) {
      bson_destroy (docs[i]);
   }
   bson_free (docs);
}

static void
drop_db (const char *db)
{
   mongoc_client_t *client = mwatch_test_client ();
   mwatch_test_drop (client, db, NULL);
   mongoc_client_destroy (client);
}

static bson_type_t
type_at (const bson_t *doc, const char *path)
{
   bson_iter_t iter, found;
   if (!bson_iter_init (&iter, doc) || !bson_iter_find_descendant (&iter, path, &found)) {
      return BSON_TYPE_EOD;
   }
   return bson_iter_type (&found);
}

static bool
iter_at (const bson_t *doc, const char *path, bson_iter_t *found)
{
   bson_iter_t iter;
   return bson_iter_init (&iter, doc) && bson_iter_find_descendant (&iter, path, found);
}

static int64_t
int_at (const bson_t *doc, const char *path)
{
   bson_iter_t it;
   ck_assert_msg (iter_at (doc, path, &it) && BSON_ITER_HOLDS_INT (&it), "no integer %s", path);
   return bson_iter_as_int64 (&it);
}

static const char *
str_at (const bson_t *doc, const char *path)
{
   bson_iter_t it;
   ck_assert_msg (iter_at (doc, path, &it) && BSON_ITER_HOLDS_UTF8 (&it), "no string %s", path);
   return bson_iter_utf8 (&it, NULL);
}

/* The stored document of the captured record with the same WatchID and
 * Iteration. */
static const bson_t *
stored_of (bson_t **docs, size_t n, const mwatch_captured_t *rec)
{
   const bson_oid_t *oid = mwatch_message_oid (rec->msg);
   int64_t iteration = mwatch_message_iteration (rec->msg);
   for (size_t i = 0; i < n; i++) {
      bson_iter_t it;
      if (iter_at (docs[i], "watch.WatchID", &it) && BSON_ITER_HOLDS_OID (&it) &&
          bson_oid_equal (bson_iter_oid (&it), oid) && int_at (docs[i], "watch.Iteration") == iteration) {
         return docs[i];
      }
   }
   ck_abort_msg ("no stored document for WatchID %s", mwatch_message_watch_id (rec->msg));
   return NULL;
}

/* Every field of the captured message is in the stored document under
 * watch, with its BSON type and value. */
static void
assert_same_fields (const mwatch_captured_t *rec, const bson_t *doc)
{
   mwatch_message_iter_t mi;
   const char *key;
   mwatch_value_t v;
   char path[128];
   size_t fields = 0;
   mwatch_message_iter_init (&mi, rec->msg);
   while (mwatch_message_iter_next (&mi, &key, &v)) {
      bson_iter_t it;
      snprintf (path, sizeof path, "watch.%s", key);
      ck_assert_msg (iter_at (doc, path, &it), "%s not stored", path);
      fields++;
      switch (v.type) {
      case MWATCH_TYPE_INT64:
         ck_assert_msg (BSON_ITER_HOLDS_INT64 (&it), "%s: not an int64", path);
         ck_assert_int_eq (bson_iter_int64 (&it), v.value.v_int64);
         break;
      case MWATCH_TYPE_DOUBLE:
         ck_assert_msg (BSON_ITER_HOLDS_DOUBLE (&it), "%s: not a double", path);
         ck_assert (bson_iter_double (&it) == v.value.v_double);
         break;
      case MWATCH_TYPE_DATETIME:
         ck_assert_msg (BSON_ITER_HOLDS_DATE_TIME (&it), "%s: not a date", path);
         ck_assert_int_eq (bson_iter_date_time (&it), v.value.v_datetime / 1000);
         break;
      case MWATCH_TYPE_UTF8:
         if (strcmp (key, "WatchID") == 0) {
            char hex[25];
            ck_assert_msg (BSON_ITER_HOLDS_OID (&it), "WatchID: not an ObjectId");
            bson_oid_to_string (bson_iter_oid (&it), hex);
            ck_assert_str_eq (hex, v.value.v_utf8.str);
         } else {
            ck_assert_msg (BSON_ITER_HOLDS_UTF8 (&it), "%s: not a string", path);
            ck_assert_str_eq (bson_iter_utf8 (&it, NULL), v.value.v_utf8.str);
         }
         break;
      case MWATCH_TYPE_DOCUMENT:
      case MWATCH_TYPE_ARRAY:
         ck_assert_msg (v.type == MWATCH_TYPE_DOCUMENT ? BSON_ITER_HOLDS_DOCUMENT (&it)
                                                       : BSON_ITER_HOLDS_ARRAY (&it),
                        "%s: not a document or array", path);
         break;
      case MWATCH_TYPE_BOOL:
         ck_assert_msg (BSON_ITER_HOLDS_BOOL (&it), "%s: not a bool", path);
         break;
      default:
         break;
      }
   }
   bson_iter_t it, watch;
   ck_assert (iter_at (doc, "watch", &it) && bson_iter_recurse (&it, &watch));
   size_t stored = 0;
   while (bson_iter_next (&watch)) {
      stored++;
   }
   ck_assert_uint_eq (stored, fields);
   /* The record's own fields. */
   ck_assert_int_eq (type_at (doc, "_id"), BSON_TYPE_OID);
   ck_assert_int_eq (type_at (doc, "created"), BSON_TYPE_DATE_TIME);
   ck_assert_str_eq (str_at (doc, "name"), rec->logger);
   ck_assert_str_eq (str_at (doc, "levelname"), "INFO");
   ck_assert_int_eq (type_at (doc, "levelno"), BSON_TYPE_INT32);
   ck_assert_int_eq (int_at (doc, "levelno"), rec->level);
   ck_assert_int_eq (type_at (doc, "process"), BSON_TYPE_INT64);
   ck_assert_int_eq (int_at (doc, "process"), getpid ());
   ck_assert_int_eq (type_at (doc, "thread"), BSON_TYPE_INT64);
}

/* The final record stored for `operation` on `collection`. */
static const bson_t *
final_of (bson_t **docs, size_t n, const char *operation, const char *collection)
{
   for (size_t i = 0; i < n; i++) {
      bson_iter_t it;
      if (iter_at (docs[i], "watch.Operation", &it) && strcmp (bson_iter_utf8 (&it, NULL), operation) == 0 &&
          iter_at (docs[i], "watch.Collection", &it) && strcmp (bson_iter_utf8 (&it, NULL), collection) == 0 &&
          type_at (docs[i], "watch.EndTime") == BSON_TYPE_DATE_TIME) {
         return docs[i];
      }
   }
   ck_abort_msg ("no final record of %s on %s", operation, collection);
   return NULL;
}

/* ---------------------------------------------------------------- typed fields */

START_TEST (typed_fields_and_no_recursion)
{
   char db[64], audit[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwaudit_app", db, sizeof db, 6);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, false);
   mwatch_handler_t *h = audit_start (audit, sizeof audit, NULL);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch"), h);
   bson_error_t error;

   /* find: 3 documents; insert_many: 2; update_many: 2 matched, 2
    * modified; delete_one: 1; aggregate: 2; a failing insert (a
    * duplicate _id). */
   bson_t *filter = BCON_NEW ("n", "{", "$lt", BCON_INT32 (3), "}");
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 3);
   mongoc_cursor_destroy (cursor);
   bson_t *d1 = BCON_NEW ("_id", BCON_INT32 (100), "n", BCON_INT32 (100));
   bson_t *d2 = BCON_NEW ("_id", BCON_INT32 (101), "n", BCON_INT32 (101));
   const bson_t *two[] = {d1, d2};
   ck_assert_msg (mongoc_collection_insert_many (coll, two, 2, NULL, NULL, &error), "%s", error.message);
   bson_t *sel = BCON_NEW ("group", BCON_INT32 (1));
   bson_t *upd = BCON_NEW ("$set", "{", "touched", BCON_BOOL (true), "}");
   ck_assert (mongoc_collection_update_many (coll, sel, upd, NULL, NULL, &error));
   bson_t *del = BCON_NEW ("n", BCON_INT32 (5));
   ck_assert (mongoc_collection_delete_one (coll, del, NULL, NULL, &error));
   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "group", BCON_INT32 (0), "}", "}", "]");
   cursor = mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 2);
   mongoc_cursor_destroy (cursor);
   ck_assert (!mongoc_collection_insert_one (coll, d1, NULL, NULL, &error));

   /* Every record the loggers saw is stored, and no more: a watched
    * insert_many of the handler's would log records of its own, which
    * the capture would see and the handler would store in turn. */
   size_t seen = capture_count (cap);
   ck_assert_uint_ge (seen, 6);
   ck_assert_uint_eq (await_inserted (h, seen, 20), seen);
   /* Time for a record of the audit writes to show up, were there any. */
   usleep (300000);
   mwatch_unpatch_mongoc ();
   ck_assert_uint_eq (capture_count (cap), seen);
   size_t n;
   bson_t **docs = read_docs (audit, &n);
   ck_assert_uint_eq (n, seen);
   ck_assert_uint_eq (stats_of (h).inserted, seen);
   for (size_t i = 0; i < seen; i++) {
      const mwatch_captured_t *rec = capture_get (cap, i);
      mwatch_value_t v;
      ck_assert_msg (!mwatch_message_get (rec->msg, "DB", &v) || strcmp (v.value.v_utf8.str, audit) != 0,
                     "a record of the handler's own insert");
      assert_same_fields (rec, stored_of (docs, n, rec));
   }

   const bson_t *doc = final_of (docs, n, "find", "items");
   ck_assert_str_eq (str_at (doc, "watch.DB"), db);
   ck_assert_int_eq (type_at (doc, "watch.Filter"), BSON_TYPE_DOCUMENT);
   /* The operator key is stored escaped (FerretDB refuses '$' keys). */
   ck_assert_int_eq (int_at (doc, "watch.Filter.n.\xef\xbc\x84lt"), 3);
   ck_assert_int_eq (type_at (doc, "watch.Duration"), BSON_TYPE_DOUBLE);
   ck_assert_int_eq (int_at (doc, "watch.MatchedCount"), 3);
   doc = final_of (docs, n, "insert_many", "items");
   ck_assert_int_eq (int_at (doc, "watch.InsertedCount"), 2);
   doc = final_of (docs, n, "update_many", "items");
   ck_assert_int_eq (int_at (doc, "watch.MatchedCount"), 2);
   ck_assert_int_eq (int_at (doc, "watch.ModifiedCount"), 2);
   ck_assert_int_eq (type_at (doc, "watch.Update"), BSON_TYPE_DOCUMENT);
   doc = final_of (docs, n, "delete_one", "items");
   ck_assert_int_eq (int_at (doc, "watch.DeletedCount"), 1);
   doc = final_of (docs, n, "aggregate", "items");
   ck_assert_int_eq (int_at (doc, "watch.MatchedCount"), 2);
   doc = final_of (docs, n, "insert_one", "items");
   ck_assert_int_eq (type_at (doc, "watch.Error"), BSON_TYPE_UTF8);
   ck_assert_msg (strstr (str_at (doc, "watch.Error"), "uplicate"), "%s", str_at (doc, "watch.Error"));

   free_docs (docs, n);
   bson_destroy (d1);
   bson_destroy (d2);
   bson_destroy (sel);
   bson_destroy (upd);
   bson_destroy (del);
   bson_destroy (pipeline);
   bson_destroy (filter);
   capture_stop (cap);
   mwatch_handler_destroy (h);
   drop_db (audit);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- config, redact */

START_TEST (config_behind_queue_redacts_filter)
{
   char db[64], audit[64], text[1024];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwaudit_app", db, sizeof db, 4);
   mwatch_test_unique_name ("mwaudit", audit, sizeof audit);
   snprintf (text, sizeof text,
             "version: 1\n"
             "filters:\n"
             "  private: {class: mongowatch.filters.redact, mode: token}\n"
             "handlers:\n"
             "  audit:\n"
             "    class: mongodb\n"
             "    uri: \"%s\"\n"
             "    database: %s\n"
             "    collection: " AUDIT_COLL "\n"
             "    filters: [private]\n"
             "  queued: {class: queue, handlers: [audit]}\n"
             "loggers:\n"
             "  mongowatch: {level: INFO, handlers: [queued]}\n",
             mwatch_test_uri (), audit);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
   bson_t *filter = BCON_NEW ("name", BCON_UTF8 ("item"), "n", "{", "$gte", BCON_INT32 (2), "}");
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 2);
   mongoc_cursor_destroy (cursor);
   /* The drain at shutdown writes every record before it returns. */
   mwatch_shutdown ();
   mwatch_unpatch_mongoc ();
   size_t n;
   bson_t **docs = read_docs (audit, &n);
   const bson_t *doc = final_of (docs, n, "find", "items");
   ck_assert_str_eq (str_at (doc, "watch.Filter.name"), "***");
   ck_assert_str_eq (str_at (doc, "watch.Filter.n.\xef\xbc\x84gte"), "***");
   ck_assert_int_eq (int_at (doc, "watch.MatchedCount"), 2);
   free_docs (docs, n);
   bson_destroy (filter);
   drop_db (audit);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- restart */

/* Logs record `seq` through the handler alone. */
static void
log_seq (mwatch_handler_t *h, int seq)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_int64 (msg, "Seq", seq);
   mwatch_message_set_ready (msg);
   mwatch_record_t record = {.name = "mongowatch.test", .level = MWATCH_LEVEL_INFO,
                             .timeout_level = MWATCH_LEVEL_INFO, .created = mwatch_realtime_us (),
                             .process = getpid (), .watch = msg};
   ck_assert (mwatch_handler_handle (h, &record));
   mwatch_message_destroy (msg);
}

static void
server_ctl (const char *what)
{
   char cmd[1024];
   const char *ctl = getenv ("MONGOWATCH_SERVER_CTL");
   ck_assert_msg (ctl, "MONGOWATCH_SERVER_CTL unset: run under test/server");
   snprintf (cmd, sizeof cmd, "\"%s\" %s", ctl, what);
   ck_assert_msg (system (cmd) == 0, "test/server %s failed", what);
}

/* Whether each Seq from `from` to `to` (excluded) is stored exactly once
 * and nothing else is. */
static void
assert_seqs (const char *audit, int from, int to)
{
   size_t n;
   bson_t **docs = read_docs (audit, &n);
   ck_assert_uint_eq (n, (size_t) (to - from));
   char *seen = bson_malloc0 ((size_t) to);
   for (size_t i = 0; i < n; i++) {
      int64_t seq = int_at (docs[i], "watch.Seq");
      ck_assert (seq >= from && seq < to);
      ck_assert_msg (!seen[seq], "Seq %d stored twice", (int) seq);
      seen[seq] = 1;
   }
   bson_free (seen);
   free_docs (docs, n);
}

START_TEST (restart_mid_stream)
{
   if (!getenv ("MONGOWATCH_SERVER_CTL")) {
      /* A server of the user's (MONGOWATCH_TEST_URI): not ours to stop. */
      fprintf (stderr, "restart_mid_stream: NOT RUN (the server is not test/server's)\n");
      return;
   }
   char audit[64];
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.capacity = 400;
   opts.batch_size = 20;
   opts.backoff_max_sec = 0.5;
   mwatch_handler_t *h = audit_start (audit, sizeof audit, &opts);

   /* 300 records, the server stopped after the 100th and started again
    * after the 200th: all of them stored, once each. */
   for (int i = 0; i < 300; i++) {
      if (i == 100) {
         server_ctl ("stop");
      } else if (i == 200) {
         await_failed_batch (h);
         server_ctl ("start");
      }
      log_seq (h, i);
   }
   ck_assert_uint_eq (await_inserted (h, 300, 30), 300);
   mwatch_mongodb_handler_stats_t st = stats_of (h);
   ck_assert_uint_eq (st.dropped, 0);
   ck_assert_uint_ge (st.failed_batches, 1);
   assert_seqs (audit, 0, 300);

   /* Down again, 500 records into a buffer of 400: 100 dropped and
    * counted, the 400 before them stored once the server is back. */
   server_ctl ("stop");
   for (int i = 300; i < 800; i++) {
      log_seq (h, i);
   }
   st = stats_of (h);
   ck_assert_uint_eq (st.dropped, 100);
   ck_assert_uint_eq (st.buffered, 400);
   server_ctl ("start");
   ck_assert_uint_eq (await_inserted (h, 700, 30), 700);
   assert_seqs (audit, 0, 700);
   mwatch_handler_destroy (h);
   drop_db (audit);
}
END_TEST

/* ---------------------------------------------------------------- down at start */

/* Reports arrive on the handler's thread while a test reads them. */
static pthread_mutex_t reports_lock = PTHREAD_MUTEX_INITIALIZER;

/* How many times `what` is in the reports so far. */
static size_t
occurrences (const mwatch_buf_t *reports, const char *what)
{
   size_t n = 0;
   pthread_mutex_lock (&reports_lock);
   for (const char *p = reports->data ? strstr (reports->data, what) : NULL; p; p = strstr (p + 1, what)) {
      n++;
   }
   pthread_mutex_unlock (&reports_lock);
   return n;
}

static void
collect_text (const char *line, size_t len, const mwatch_record_t *record, void *user_data)
{
   BSON_UNUSED (record);
   pthread_mutex_lock (&reports_lock);
   mwatch_buf_append ((mwatch_buf_t *) user_data, line, len);
   mwatch_buf_append ((mwatch_buf_t *) user_data, "\n", 1);
   pthread_mutex_unlock (&reports_lock);
}

/* A loopback port nobody listens on. */
static int
free_port (void)
{
   int fd = socket (AF_INET, SOCK_STREAM, 0);
   struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
   socklen_t len = sizeof addr;
   ck_assert (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0);
   ck_assert (getsockname (fd, (struct sockaddr *) &addr, &len) == 0);
   close (fd);
   return ntohs (addr.sin_port);
}

START_TEST (server_down_at_start)
{
   char audit[64], uri[128];
   mwatch_buf_t reports = MWATCH_BUF_INITIALIZER;
   mwatch_handler_t *stats = mwatch_handler_new_callback (collect_text, &reports, NULL);
   mwatch_formatter_t *plain = mwatch_formatter_new ("{message}", NULL, NULL);
   mwatch_handler_set_formatter (stats, plain);
   mwatch_formatter_destroy (plain);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), stats);
   snprintf (uri, sizeof uri, "mongodb://127.0.0.1:%d/", free_port ());
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.uri = uri;
   opts.shutdown_timeout_sec = 1;
   mwatch_handler_t *h = audit_start (audit, sizeof audit, &opts);
   for (int i = 0; i < 5; i++) {
      log_seq (h, i);
   }
   await_failed_batch (h);
   /* The report follows the counter. */
   int64_t deadline = mwatch_monotonic_us () + 20 * 1000000;
   while (occurrences (&reports, "cannot insert into") == 0 && mwatch_monotonic_us () < deadline) {
      usleep (10000);
   }
   ck_assert_msg (occurrences (&reports, "mongodb handler \"audit\": cannot insert into") == 1 &&
                     occurrences (&reports, "127.0.0.1") && occurrences (&reports, "retrying"),
                  "report: %s", reports.data ? reports.data : "(none)");
   int64_t start = mwatch_monotonic_us ();
   mwatch_handler_close (h);
   double took = (double) (mwatch_monotonic_us () - start) / 1e6;
   ck_assert_msg (took < 1.0 + 0.5, "closing took %.2f s", took);
   mwatch_mongodb_handler_stats_t st = stats_of (h);
   ck_assert_uint_eq (st.inserted, 0);
   ck_assert_uint_eq (st.dropped, 5);
   ck_assert_uint_eq (st.lost_at_close, 5);
   mwatch_handler_destroy (h);
   mwatch_shutdown ();
   mwatch_handler_destroy (stats);
   mwatch_buf_destroy (&reports);
}
END_TEST

/* A handler that is also a handler of "mongowatch.stats": its thread's
 * reports (made under no lock) come back to it as records, counted as
 * drops while its buffer is full; its emit's own drop report is not
 * given back to it (handler.c), so nothing waits on its own lock. */
START_TEST (drop_report_to_itself)
{
   char audit[64], uri[128];
   snprintf (uri, sizeof uri, "mongodb://127.0.0.1:%d/", free_port ());
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.uri = uri;
   opts.capacity = 2;
   opts.shutdown_timeout_sec = 0.5;
   mwatch_handler_t *h = audit_start (audit, sizeof audit, &opts);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), h);
   for (int i = 0; i < 5; i++) {
      log_seq (h, i);
   }
   /* The thread's "cannot insert" comes back as one more record. */
   int64_t deadline = mwatch_monotonic_us () + 20 * 1000000;
   while (stats_of (h).dropped < 4 && mwatch_monotonic_us () < deadline) {
      usleep (10000);
   }
   ck_assert_uint_ge (stats_of (h).dropped, 4);
   mwatch_shutdown ();
   mwatch_handler_destroy (h);
}
END_TEST

/* The same, closed while its thread's first attempt is under way: the
 * attempt's failure report, made while close holds the handler's lock and
 * waits for the thread, goes to stderr instead of back to the handler
 * (where it would wait for that lock until close gave up on the thread,
 * leaving the retries undone and the handler behind). */
START_TEST (close_during_first_failure)
{
   char audit[64], uri[160];
   /* A server that accepts connections and never answers: the attempt
    * ends at connectTimeoutMS, after close has begun. */
   int silent = socket (AF_INET, SOCK_STREAM, 0);
   struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
   socklen_t len = sizeof addr;
   ck_assert (bind (silent, (struct sockaddr *) &addr, sizeof addr) == 0);
   ck_assert (listen (silent, 16) == 0);
   ck_assert (getsockname (silent, (struct sockaddr *) &addr, &len) == 0);
   snprintf (uri, sizeof uri, "mongodb://127.0.0.1:%d/?connectTimeoutMS=300&serverSelectionTimeoutMS=300",
             ntohs (addr.sin_port));
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.uri = uri;
   opts.shutdown_timeout_sec = 2;
   mwatch_handler_t *h = audit_start (audit, sizeof audit, &opts);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), h);
   for (int i = 0; i < 3; i++) {
      log_seq (h, i);
   }
   int64_t start = mwatch_monotonic_us ();
   mwatch_handler_close (h);
   double took = (double) (mwatch_monotonic_us () - start) / 1e6;
   /* Retried until the deadline (2 s), the thread then joined; not left
    * behind at the join's bound (2.5 s). */
   ck_assert_msg (took < 2.4, "closing took %.2f s", took);
   mwatch_mongodb_handler_stats_t st = stats_of (h);
   ck_assert_uint_ge (st.failed_batches, 2);
   ck_assert_uint_eq (st.lost_at_close, 3);
   mwatch_shutdown ();
   mwatch_handler_destroy (h);
   close (silent);
}
END_TEST

/* Records that come faster than the server stores them fill the buffer
 * with no failure: each such episode is reported, and ended once the
 * buffer is half empty again. */
START_TEST (overload_episodes)
{
   char audit[64];
   mwatch_buf_t reports = MWATCH_BUF_INITIALIZER;
   mwatch_handler_t *stats = mwatch_handler_new_callback (collect_text, &reports, NULL);
   mwatch_formatter_t *plain = mwatch_formatter_new ("{message}", NULL, NULL);
   mwatch_handler_set_formatter (stats, plain);
   mwatch_formatter_destroy (plain);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), stats);
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.capacity = 10;
   opts.batch_size = 5;
   mwatch_handler_t *h = audit_start (audit, sizeof audit, &opts);
   for (int burst = 0; burst < 2; burst++) {
      for (int i = 0; i < 2000; i++) {
         log_seq (h, burst * 2000 + i);
      }
      int64_t deadline = mwatch_monotonic_us () + 30 * 1000000;
      mwatch_mongodb_handler_stats_t st;
      do {
         usleep (10000);
         st = stats_of (h);
      } while (st.inserted + st.dropped < (uint64_t) (burst + 1) * 2000 && mwatch_monotonic_us () < deadline);
      ck_assert_uint_eq (st.inserted + st.dropped, (uint64_t) (burst + 1) * 2000);
      ck_assert_uint_gt (st.dropped, 0);
      ck_assert_uint_eq (st.failed_batches, 0);
      /* Every episode so far, at least one per burst, reported and
       * ended (a loaded machine may make two of a burst); the report
       * follows the counters. */
      size_t full = occurrences (&reports, "its buffer is full");
      while (occurrences (&reports, "works again;") < full && mwatch_monotonic_us () < deadline) {
         usleep (10000);
      }
      ck_assert_msg (full >= (size_t) burst + 1 && occurrences (&reports, "works again;") == full,
                     "burst %d: %zu reports of a full buffer, %zu of its end", burst, full,
                     occurrences (&reports, "works again;"));
   }
   mwatch_handler_destroy (h);
   mwatch_shutdown ();
   mwatch_handler_destroy (stats);
   mwatch_buf_destroy (&reports);
   drop_db (audit);
}
END_TEST

#ifndef MWATCH_TSAN /* see mongodb_handler_suite */
/* After fork() the child's records go through a thread and client of
 * its own; the parent's, buffered before the fork, are the parent's. */
START_TEST (fork_child_inserts_its_own)
{
   char audit[64];
   mwatch_handler_t *h = audit_start (audit, sizeof audit, NULL);
   log_seq (h, 0);
   ck_assert_uint_eq (await_inserted (h, 1, 20), 1);
   log_seq (h, 1);
   pid_t child = fork ();
   ck_assert (child >= 0);
   if (child == 0) {
      for (int i = 100; i < 103; i++) {
         log_seq (h, i);
      }
      uint64_t stored = await_inserted (h, 3, 20);
      mwatch_handler_close (h);
      _exit (stored == 3 ? 0 : 1);
   }
   int status;
   ck_assert (mwatch_test_child_exited (child, 30, &status));
   ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "the child's records were not stored");
   log_seq (h, 2);
   ck_assert_uint_eq (await_inserted (h, 3, 20), 3);
   size_t n;
   bson_t **docs = read_docs (audit, &n);
   ck_assert_uint_eq (n, 6);
   int64_t sum = 0;
   for (size_t i = 0; i < n; i++) {
      sum += int_at (docs[i], "watch.Seq");
   }
   ck_assert_int_eq (sum, 0 + 1 + 2 + 100 + 101 + 102);
   free_docs (docs, n);
   mwatch_handler_destroy (h);
   drop_db (audit);
}
END_TEST
#endif /* MWATCH_TSAN */

/* ---------------------------------------------------------------- TTL */

START_TEST (ttl_index)
{
   char audit[64];
   mwatch_buf_t reports = MWATCH_BUF_INITIALIZER;
   mwatch_handler_t *stats = mwatch_handler_new_callback (collect_text, &reports, NULL);
   mwatch_formatter_t *plain = mwatch_formatter_new ("{message}", NULL, NULL);
   mwatch_handler_set_formatter (stats, plain);
   mwatch_formatter_destroy (plain);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), stats);
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.ttl_sec = 3600;
   mwatch_handler_t *h = audit_start (audit, sizeof audit, &opts);
   log_seq (h, 0);
   ck_assert_uint_eq (await_inserted (h, 1, 20), 1);

   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mongoc_client_get_collection (client, audit, AUDIT_COLL);
   mongoc_cursor_t *cursor = mongoc_collection_find_indexes_with_opts (coll, NULL);
   const bson_t *index;
   bool found = false;
   while (mongoc_cursor_next (cursor, &index)) {
      if (strcmp (str_at (index, "name"), "mongowatch_ttl") == 0) {
         found = true;
         ck_assert_int_eq (int_at (index, "expireAfterSeconds"), 3600);
         ck_assert_int_eq (int_at (index, "key.created"), 1);
      }
   }
   mongoc_cursor_destroy (cursor);
   if (!found) {
      /* FerretDB 1.24 has no TTL indexes: the handler says so, once,
       * and stores the records all the same. */
      ck_assert_msg (occurrences (&reports, "cannot create the TTL index") == 1 &&
                        occurrences (&reports, "expireAfterSeconds"),
                     "no index and no report: %s", reports.data ? reports.data : "(none)");
      fprintf (stderr, "ttl_index: the server refused the TTL index: %s", reports.data);
   }
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   mwatch_handler_destroy (h);
   mwatch_shutdown ();
   mwatch_handler_destroy (stats);
   mwatch_buf_destroy (&reports);
   drop_db (audit);
}
END_TEST

/* ---------------------------------------------------------------- the documented aggregations */

/* The pipeline of doc/configuration.md that follows the line
 * "<!-- aggregation: NAME -->" (its ```json block), as written there. */
static bson_t *
doc_pipeline (const char *name)
{
   char *text = mwatch_test_slurp ("doc/configuration.md", NULL);
   ck_assert_msg (text, "cannot read doc/configuration.md");
   char marker[128];
   snprintf (marker, sizeof marker, "<!-- aggregation: %s -->", name);
   char *at = strstr (text, marker);
   ck_assert_msg (at, "no %s in doc/configuration.md", marker);
   char *start = strstr (at, "```json\n");
   ck_assert (start);
   start += 8;
   char *end = strstr (start, "```");
   ck_assert (end);
   bson_error_t error;
   bson_t *pipeline = bson_new_from_json ((const uint8_t *) start, end - start, &error);
   ck_assert_msg (pipeline, "%s: %s", name, error.message);
   bson_free (text);
   return pipeline;
}

static int
run_pipeline (mongoc_collection_t *coll, const char *name, bson_t **out, int max)
{
   bson_t *pipeline = doc_pipeline (name);
   mongoc_cursor_t *cursor = mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
   const bson_t *doc;
   int n = 0;
   while (mongoc_cursor_next (cursor, &doc) && n < max) {
      out[n++] = bson_copy (doc);
   }
   bson_error_t error;
   ck_assert_msg (!mongoc_cursor_error (cursor, &error), "%s: %s", name, error.message);
   mongoc_cursor_destroy (cursor);
   bson_destroy (pipeline);
   return n;
}

START_TEST (documented_aggregations)
{
   char db[64], audit[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwaudit_app", db, sizeof db, 4);
   mwatch_handler_t *h = audit_start (audit, sizeof audit, NULL);
   mwatch_logger_set_level (mwatch_logger_get ("mongowatch"), MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch"), h);
   bson_error_t error;
   const char *users[] = {"alice", "alice", "alice", "bob", "bob"};
   for (int i = 0; i < 5; i++) {
      mwatch_context_set ("User", users[i]);
      bson_t *filter = BCON_NEW ("n", BCON_INT32 (i));
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
      capture_drain_cursor (cursor, NULL);
      mongoc_cursor_destroy (cursor);
      bson_destroy (filter);
   }
   mwatch_context_clear ();
   bson_t all = BSON_INITIALIZER;
   ck_assert (mongoc_collection_count_documents (coll, &all, NULL, NULL, NULL, &error) == 4);
   ck_assert_uint_ge (await_inserted (h, 6, 20), 6);
   mwatch_unpatch_mongoc ();

   mongoc_collection_t *records = mongoc_client_get_collection (client, audit, AUDIT_COLL);
   bson_t *out[16];
   int n = run_pipeline (records, "slowest", out, 16);
   ck_assert_int_ge (n, 6);
   for (int i = 0; i < n; i++) {
      bson_iter_t it;
      ck_assert (iter_at (out[i], "watch.Duration", &it) && BSON_ITER_HOLDS_DOUBLE (&it));
      if (i > 0) {
         bson_iter_t prev;
         ck_assert (iter_at (out[i - 1], "watch.Duration", &prev));
         ck_assert (bson_iter_double (&prev) >= bson_iter_double (&it));
      }
   }
   for (int i = 0; i < n; i++) {
      bson_destroy (out[i]);
   }
   n = run_pipeline (records, "per-user", out, 16);
   /* alice 3, bob 2, and the count without a user (null). */
   ck_assert_int_eq (n, 3);
   ck_assert_str_eq (str_at (out[0], "_id"), "alice");
   ck_assert_int_eq (int_at (out[0], "operations"), 3);
   ck_assert_str_eq (str_at (out[1], "_id"), "bob");
   ck_assert_int_eq (int_at (out[1], "operations"), 2);
   ck_assert_int_eq (type_at (out[2], "_id"), BSON_TYPE_NULL);
   for (int i = 0; i < n; i++) {
      bson_destroy (out[i]);
   }
   mongoc_collection_destroy (records);
   mwatch_handler_destroy (h);
   mwatch_shutdown ();
   drop_db (audit);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* Whatever a failed restart test left, the next suites get a server. */
static void
server_up (void)
{
   if (getenv ("MONGOWATCH_SERVER_CTL")) {
      char cmd[1024];
      snprintf (cmd, sizeof cmd, "\"%s\" start", getenv ("MONGOWATCH_SERVER_CTL"));
      if (system (cmd) != 0) {
         fprintf (stderr, "test-mongodb-handler: the server did not start again\n");
      }
   }
}

Suite *
mongodb_handler_suite (void)
{
   Suite *s = suite_create ("mongodb_handler");
   TCase *tc = tcase_create ("mongodb_handler");
   tcase_set_timeout (tc, 120);
   tcase_add_checked_fixture (tc, capture_patched_setup, capture_patched_teardown);
   tcase_add_unchecked_fixture (tc, NULL, server_up);
   tcase_add_test (tc, typed_fields_and_no_recursion);
   tcase_add_test (tc, config_behind_queue_redacts_filter);
   tcase_add_test (tc, restart_mid_stream);
   tcase_add_test (tc, server_down_at_start);
   tcase_add_test (tc, drop_report_to_itself);
   tcase_add_test (tc, close_during_first_failure);
   tcase_add_test (tc, overload_episodes);
#ifndef MWATCH_TSAN
   /* TSan cannot follow a child that starts threads after a
    * multi-threaded fork (its "die_after_fork"). */
   tcase_add_test (tc, fork_child_inserts_its_own);
#endif
   tcase_add_test (tc, ttl_index);
   tcase_add_test (tc, documented_aggregations);
   suite_add_tcase (s, tc);
   return s;
}
