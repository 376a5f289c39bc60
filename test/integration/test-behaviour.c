/* What watching must not change and must not miss, against the real
 * server: the application's results are the same with and without it,
 * failures reach both the application and the log unchanged, and many
 * threads on a client pool get every operation logged exactly once. */
#include "integration/suites.h"
#include "test-capture.h"

#include <pthread.h>

static void
patch (void)
{
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
}

static void
teardown (void)
{
   mwatch_unpatch_mongoc ();
   mwatch_context_clear ();
   mwatch_shutdown ();
}

/* ------------------------------------------------------------------------
 * Transcripts: everything the application got back from a run, one
 * document per step, so that two runs compare with bson_equal.
 * ------------------------------------------------------------------------ */

static void
append_error (bson_t *step, const bson_error_t *error)
{
   bson_t sub;
   BSON_APPEND_DOCUMENT_BEGIN (step, "error", &sub);
   BSON_APPEND_INT32 (&sub, "domain", (int32_t) error->domain);
   BSON_APPEND_INT32 (&sub, "code", (int32_t) error->code);
   BSON_APPEND_UTF8 (&sub, "message", error->message);
   bson_append_document_end (step, &sub);
}

/* A server reply without the fields a server changes from one call to the
 * next whatever the client does: $clusterTime and operationTime, a real
 * mongod's logical clock (FerretDB sends neither).  Everything else in a
 * reply (counts, writeErrors, cursor batches, errmsg, code) is compared. */
static void
append_reply (bson_t *step, const char *key, const bson_t *reply)
{
   bson_t stable = BSON_INITIALIZER;
   bson_copy_to_excluding_noinit (reply, &stable, "$clusterTime", "operationTime", NULL);
   BSON_APPEND_DOCUMENT (step, key, &stable);
   bson_destroy (&stable);
}

/* A write's (or count's) return value, error and reply; frees the reply.
 * Every step zeroes its `error` before the call and records it even on
 * success, so that a wrapper writing into it would show. */
static void
write_step (bson_t *transcript,
            const char *name,
            int64_t ret,
            const bson_error_t *error,
            bson_t *reply)
{
   bson_t step;
   BSON_APPEND_DOCUMENT_BEGIN (transcript, name, &step);
   BSON_APPEND_INT64 (&step, "ret", ret);
   append_error (&step, error);
   append_reply (&step, "reply", reply);
   bson_append_document_end (transcript, &step);
   bson_destroy (reply);
}

/* Reads `cursor` to its end and records every document and the cursor's
 * state after: more, error, error document, limit, batch size; destroys
 * it. */
static void
cursor_step (bson_t *transcript, const char *name, mongoc_cursor_t *cursor)
{
   bson_t step;
   bson_t docs;
   const bson_t *doc;
   uint32_t count = 0;
   char key_buf[16];
   const char *key;
   BSON_APPEND_DOCUMENT_BEGIN (transcript, name, &step);
   BSON_APPEND_ARRAY_BEGIN (&step, "docs", &docs);
   while (mongoc_cursor_next (cursor, &doc)) {
      bson_uint32_to_string (count++, &key, key_buf, sizeof key_buf);
      BSON_APPEND_DOCUMENT (&docs, key, doc);
   }
   bson_append_array_end (&step, &docs);
   BSON_APPEND_INT32 (&step, "count", (int32_t) count);
   BSON_APPEND_BOOL (&step, "more", mongoc_cursor_more (cursor));
   bson_error_t error = {0};
   const bson_t *error_doc = NULL;
   BSON_APPEND_BOOL (&step, "failed", mongoc_cursor_error_document (cursor, &error, &error_doc));
   append_error (&step, &error);
   if (error_doc) {
      append_reply (&step, "error_doc", error_doc);
   }
   BSON_APPEND_INT64 (&step, "limit", mongoc_cursor_get_limit (cursor));
   BSON_APPEND_INT32 (&step, "batch_size", (int32_t) mongoc_cursor_get_batch_size (cursor));
   bson_append_document_end (transcript, &step);
   mongoc_cursor_destroy (cursor);
}

static bool
transcript_find (const bson_t *transcript, const char *path, bson_iter_t *found)
{
   bson_iter_t iter;
   return bson_iter_init (&iter, transcript) && bson_iter_find_descendant (&iter, path, found);
}

static int64_t
transcript_int (const bson_t *transcript, const char *path)
{
   bson_iter_t iter;
   ck_assert_msg (transcript_find (transcript, path, &iter), "no %s in the transcript", path);
   return bson_iter_as_int64 (&iter);
}

static const char *
transcript_str (const bson_t *transcript, const char *path)
{
   bson_iter_t iter;
   ck_assert_msg (transcript_find (transcript, path, &iter) && BSON_ITER_HOLDS_UTF8 (&iter),
                  "no string %s in the transcript", path);
   return bson_iter_utf8 (&iter, NULL);
}

/* Step by step, so that a difference names its step and shows both. */
static void
assert_same_transcript (const bson_t *plain, const bson_t *watched)
{
   bson_iter_t a;
   bson_iter_t b;
   ck_assert (bson_iter_init (&a, plain) && bson_iter_init (&b, watched));
   while (bson_iter_next (&a)) {
      ck_assert_msg (bson_iter_next (&b), "the watched run lacks step %s", bson_iter_key (&a));
      ck_assert_str_eq (bson_iter_key (&a), bson_iter_key (&b));
      uint32_t len_a, len_b;
      const uint8_t *data_a, *data_b;
      bson_iter_document (&a, &len_a, &data_a);
      bson_iter_document (&b, &len_b, &data_b);
      bson_t step_a, step_b;
      bson_init_static (&step_a, data_a, len_a);
      bson_init_static (&step_b, data_b, len_b);
      if (!bson_equal (&step_a, &step_b)) {
         char *json_a = bson_as_relaxed_extended_json (&step_a, NULL);
         char *json_b = bson_as_relaxed_extended_json (&step_b, NULL);
         ck_abort_msg ("step %s differs:\n  unwatched %s\n  watched   %s", bson_iter_key (&a),
                       json_a, json_b);
      }
   }
   ck_assert_msg (!bson_iter_next (&b), "the watched run has an extra step %s",
                  bson_iter_key (&b));
}

/* ------------------------------------------------------------------------
 * Looking up final records.
 * ------------------------------------------------------------------------ */

typedef struct {
   const char *logger;    /* NULL: any */
   const char *operation; /* NULL: any */
   const char *thread;    /* the Thread context field; NULL: any */
   const char *sum;       /* an integer field to add up over the matches */
} query_t;

typedef struct {
   size_t count;
   int64_t sum;
   const mwatch_captured_t *last;
} answer_t;

static bool
field_is (const mwatch_captured_t *rec, const char *key, const char *value)
{
   mwatch_value_t v;
   return !value || (mwatch_message_get (rec->msg, key, &v) && v.type == MWATCH_TYPE_UTF8 &&
                     strcmp (v.value.v_utf8.str, value) == 0);
}

static answer_t
finals (mwatch_capture_t *cap, query_t q)
{
   answer_t answer = {0, 0, NULL};
   size_t n = capture_count (cap);
   for (size_t i = 0; i < n; i++) {
      const mwatch_captured_t *rec = capture_get (cap, i);
      if (!mwatch_message_is_ready (rec->msg) || (q.logger && strcmp (rec->logger, q.logger)) ||
          !field_is (rec, "Operation", q.operation) || !field_is (rec, "Thread", q.thread)) {
         continue;
      }
      answer.count++;
      answer.last = rec;
      if (q.sum) {
         answer.sum += capture_int (rec, q.sum);
      }
   }
   return answer;
}

/* ------------------------------------------------------------------------
 * Results identical with and without the watcher.
 * ------------------------------------------------------------------------ */

#define SEED_DOCS 25

/* Documents {_id: i, n: i, group: i % 3, name: "item"} for i in
 * [first, first + n): explicit ids, so that two runs store the same. */
static void
insert_docs (mongoc_collection_t *coll, bson_t *transcript, const char *name, int first, int n)
{
   bson_t **docs = bson_malloc ((size_t) n * sizeof *docs);
   for (int i = 0; i < n; i++) {
      docs[i] = BCON_NEW ("_id", BCON_INT32 (first + i), "n", BCON_INT32 (first + i), "group",
                          BCON_INT32 ((first + i) % 3), "name", BCON_UTF8 ("item"));
   }
   bson_error_t error = {0};
   bson_t reply;
   bool ok = mongoc_collection_insert_many (
      coll, (const bson_t **) docs, (size_t) n, NULL, &reply, &error);
   write_step (transcript, name, ok, &error, &reply);
   for (int i = 0; i < n; i++) {
      bson_destroy (docs[i]);
   }
   bson_free (docs);
}

static void
find_step (mongoc_collection_t *coll,
           bson_t *transcript,
           const char *name,
           bson_t *filter,
           bson_t *opts)
{
   cursor_step (transcript, name, mongoc_collection_find_with_opts (coll, filter, opts, NULL));
   bson_destroy (filter);
   bson_destroy (opts);
}

static void
count_step (mongoc_collection_t *coll, bson_t *transcript, const char *name, bson_t *filter)
{
   bson_error_t error = {0};
   bson_t reply;
   int64_t n = mongoc_collection_count_documents (coll, filter, NULL, NULL, &reply, &error);
   write_step (transcript, name, n, &error, &reply);
   bson_destroy (filter);
}

static void
insert_one_step (mongoc_collection_t *coll, bson_t *transcript, const char *name, bson_t *doc)
{
   bson_error_t error = {0};
   bson_t reply;
   bool ok = mongoc_collection_insert_one (coll, doc, NULL, &reply, &error);
   write_step (transcript, name, ok, &error, &reply);
   bson_destroy (doc);
}

/* mongoc_collection_update_one and _update_many */
typedef bool (*update_fn_t) (mongoc_collection_t *,
                             const bson_t *,
                             const bson_t *,
                             const bson_t *,
                             bson_t *,
                             bson_error_t *);

static void
update_step (mongoc_collection_t *coll,
             bson_t *transcript,
             const char *name,
             update_fn_t update_fn,
             bson_t *selector,
             bson_t *update)
{
   bson_error_t error = {0};
   bson_t reply;
   bool ok = update_fn (coll, selector, update, NULL, &reply, &error);
   write_step (transcript, name, ok, &error, &reply);
   bson_destroy (selector);
   bson_destroy (update);
}

/* mongoc_collection_delete_one and _delete_many */
typedef bool (*delete_fn_t) (
   mongoc_collection_t *, const bson_t *, const bson_t *, bson_t *, bson_error_t *);

static void
delete_step (mongoc_collection_t *coll,
             bson_t *transcript,
             const char *name,
             delete_fn_t delete_fn,
             bson_t *selector)
{
   bson_error_t error = {0};
   bson_t reply;
   bool ok = delete_fn (coll, selector, NULL, &reply, &error);
   write_step (transcript, name, ok, &error, &reply);
   bson_destroy (selector);
}

/* The cursors of the workload, for counting their records. */
#define WORKLOAD_CURSORS 6
/* Its other operations (inserts, updates, deletes, counts). */
#define WORKLOAD_WRITES 10

/* The scripted workload on db_name.twin, recorded into `transcript` (which
 * it initializes).  Returns the collection. */
static mongoc_collection_t *
run_workload (mongoc_client_t *client, const char *db_name, bson_t *transcript)
{
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db_name, "twin");
   bson_init (transcript);

   insert_docs (coll, transcript, "seed", 0, SEED_DOCS);
   find_step (coll, transcript, "find_group", BCON_NEW ("group", BCON_INT32 (1)),
              BCON_NEW ("sort", "{", "n", BCON_INT32 (-1), "}", "batchSize", BCON_INT32 (2)));
   find_step (coll, transcript, "find_range",
              BCON_NEW ("n", "{", "$gte", BCON_INT32 (5), "}"),
              BCON_NEW ("sort", "{", "n", BCON_INT32 (1), "}", "limit", BCON_INT64 (7),
                        "batchSize", BCON_INT32 (2), "projection", "{", "_id", BCON_INT32 (0),
                        "n", BCON_INT32 (1), "}"));
   find_step (coll, transcript, "find_all", bson_new (),
              BCON_NEW ("sort", "{", "_id", BCON_INT32 (1), "}", "batchSize", BCON_INT32 (2)));

   bson_t *pipeline = BCON_NEW ("pipeline", "[",
                                "{", "$match", "{", "n", "{", "$lt", BCON_INT32 (20), "}", "}", "}",
                                "{", "$group", "{", "_id", BCON_UTF8 ("$group"), "total", "{",
                                "$sum", BCON_UTF8 ("$n"), "}", "}", "}",
                                "{", "$sort", "{", "_id", BCON_INT32 (1), "}", "}", "]");
   bson_t *agg_opts = BCON_NEW ("batchSize", BCON_INT32 (2));
   cursor_step (transcript, "aggregate",
                mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, agg_opts, NULL));
   bson_destroy (pipeline);
   bson_destroy (agg_opts);

   count_step (coll, transcript, "count_group", BCON_NEW ("group", BCON_INT32 (2)));
   insert_one_step (coll, transcript, "insert_one",
                    BCON_NEW ("_id", BCON_INT32 (100), "n", BCON_INT32 (100), "group",
                              BCON_INT32 (1)));
   insert_docs (coll, transcript, "insert_many", 101, 5);
   update_step (coll, transcript, "update_many", mongoc_collection_update_many,
                BCON_NEW ("group", BCON_INT32 (1)),
                BCON_NEW ("$inc", "{", "n", BCON_INT32 (1000), "}"));
   update_step (coll, transcript, "update_one", mongoc_collection_update_one,
                BCON_NEW ("_id", BCON_INT32 (0)),
                BCON_NEW ("$set", "{", "name", BCON_UTF8 ("zero"), "}"));
   delete_step (coll, transcript, "delete_one", mongoc_collection_delete_one,
                BCON_NEW ("_id", BCON_INT32 (1)));
   delete_step (coll, transcript, "delete_many", mongoc_collection_delete_many,
                BCON_NEW ("group", BCON_INT32 (2)));

   /* The two failures: a query the server rejects, and an _id (3, group
    * 0, still there) inserted twice. */
   find_step (coll, transcript, "bad_operator",
              BCON_NEW ("n", "{", "$nosuchop", BCON_INT32 (1), "}"), bson_new ());
   insert_one_step (coll, transcript, "duplicate_key",
                    BCON_NEW ("_id", BCON_INT32 (3), "n", BCON_INT32 (-3)));

   find_step (coll, transcript, "final_state", bson_new (),
              BCON_NEW ("sort", "{", "_id", BCON_INT32 (1), "}"));
   count_step (coll, transcript, "final_count", bson_new ());
   return coll;
}

/* The workload did what it was written to do, so that two identical
 * transcripts mean something (two runs that both failed to connect would
 * be identical too). */
static void
assert_workload_truth (const bson_t *t)
{
   ck_assert_int_eq (transcript_int (t, "seed.reply.insertedCount"), SEED_DOCS);
   ck_assert_int_eq (transcript_int (t, "find_group.count"), 8);
   ck_assert_int_eq (transcript_int (t, "find_group.docs.0.n"), 22);
   ck_assert_int_eq (transcript_int (t, "find_range.count"), 7);
   ck_assert_int_eq (transcript_int (t, "find_all.count"), SEED_DOCS);
   ck_assert_int_eq (transcript_int (t, "aggregate.count"), 3);
   /* group 0 of 0..19: 0 + 3 + ... + 18 */
   ck_assert_int_eq (transcript_int (t, "aggregate.docs.0.total"), 63);
   ck_assert_int_eq (transcript_int (t, "count_group.ret"), 8);
   ck_assert_int_eq (transcript_int (t, "insert_many.reply.insertedCount"), 5);
   /* group 1: 8 seeded, 100 and 103 */
   ck_assert_int_eq (transcript_int (t, "update_many.reply.modifiedCount"), 10);
   ck_assert_int_eq (transcript_int (t, "update_one.reply.modifiedCount"), 1);
   ck_assert_int_eq (transcript_int (t, "delete_one.reply.deletedCount"), 1);
   /* group 2: 8 seeded, 101 and 104 */
   ck_assert_int_eq (transcript_int (t, "delete_many.reply.deletedCount"), 10);
   ck_assert (transcript_int (t, "bad_operator.failed"));
   ck_assert_int_ne (transcript_int (t, "bad_operator.error.code"), 0);
   ck_assert_int_eq (transcript_int (t, "duplicate_key.ret"), 0);
   ck_assert_int_eq (transcript_int (t, "duplicate_key.error.code"), 11000);
   /* 31 inserted, 11 deleted */
   ck_assert_int_eq (transcript_int (t, "final_state.count"), 20);
   ck_assert_int_eq (transcript_int (t, "final_count.ret"), 20);
}

START_TEST (test_results_identical_with_and_without_watching)
{
   char db_name[64];
   bson_t plain;
   bson_t watched;
   mwatch_test_unique_name ("mwtest_behaviour", db_name, sizeof db_name);
   /* Both runs use the same namespace, one after the other, because
    * server error messages name it (E11000 ... collection: db.twin). */
   mongoc_client_t *client = mwatch_test_client ();
   mwatch_unpatch_mongoc ();
   mwatch_test_drop (client, db_name, run_workload (client, db_name, &plain));
   mongoc_client_destroy (client);

   client = mwatch_test_client ();
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   patch ();
   mongoc_collection_t *coll = run_workload (client, db_name, &watched);
   mwatch_unpatch_mongoc ();
   capture_drain (cap);
   mwatch_test_drop (client, db_name, coll);
   mongoc_client_destroy (client);

   assert_workload_truth (&plain);
   assert_same_transcript (&plain, &watched);

   /* And it was watched: one final per operation, failures carrying the
    * application's error. */
   ck_assert_uint_eq (finals (cap, (query_t){.logger = "mongowatch.cursor"}).count,
                      WORKLOAD_CURSORS);
   ck_assert_uint_eq (finals (cap, (query_t){.logger = "mongowatch.collection"}).count,
                      WORKLOAD_WRITES);
   ck_assert_uint_eq (capture_count (cap), WORKLOAD_CURSORS + WORKLOAD_WRITES);
   size_t n = capture_count (cap);
   size_t errors[2] = {0, 0}; /* of writes, of cursors */
   for (size_t i = 0; i < n; i++) {
      const mwatch_captured_t *rec = capture_get (cap, i);
      if (!mwatch_message_has (rec->msg, "Error")) {
         continue;
      }
      bool is_cursor = strcmp (rec->logger, "mongowatch.cursor") == 0;
      errors[is_cursor]++;
      ck_assert_str_eq (capture_str (rec, "Error"),
                        transcript_str (&plain, is_cursor ? "bad_operator.error.message"
                                                          : "duplicate_key.error.message"));
   }
   ck_assert_uint_eq (errors[0], 1);
   ck_assert_uint_eq (errors[1], 1);

   bson_destroy (&plain);
   bson_destroy (&watched);
   capture_stop (cap);
}
END_TEST

/* ------------------------------------------------------------------------
 * An unreachable server.
 * ------------------------------------------------------------------------ */

typedef void (*operation_fn_t) (mongoc_collection_t *coll, bson_t *transcript);

static void
unreachable_find (mongoc_collection_t *coll, bson_t *transcript)
{
   find_step (coll, transcript, "op", bson_new (), bson_new ());
}

static void
unreachable_insert (mongoc_collection_t *coll, bson_t *transcript)
{
   insert_one_step (coll, transcript, "op", BCON_NEW ("_id", BCON_INT32 (1)));
}

/* Runs `op` with a new client each time: a client remembers a server that
 * refused it and would fail differently the second time. */
static void
run_unreachable (operation_fn_t op, bson_t *transcript)
{
   /* Nobody listens on port 1: the connection is refused at once, and
    * server selection gives up after one try. */
   mongoc_client_t *client =
      mongoc_client_new ("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200");
   mongoc_collection_t *coll = mongoc_client_get_collection (client, "mwtest_unreachable", "items");
   bson_init (transcript);
   op (coll, transcript);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
}

static void
check_unreachable (operation_fn_t op, const char *logger)
{
   bson_t plain;
   bson_t watched;
   mwatch_unpatch_mongoc ();
   run_unreachable (op, &plain);
   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   patch ();
   run_unreachable (op, &watched);
   mwatch_unpatch_mongoc ();
   capture_drain (cap);

   assert_same_transcript (&plain, &watched);
   ck_assert_int_eq (transcript_int (&plain, "op.error.domain"), MONGOC_ERROR_SERVER_SELECTION);
   answer_t answer = finals (cap, (query_t){.logger = logger});
   ck_assert_uint_eq (answer.count, 1);
   ck_assert_uint_eq (capture_count (cap), 1);
   ck_assert_str_eq (capture_str (answer.last, "Error"),
                     transcript_str (&plain, "op.error.message"));

   bson_destroy (&plain);
   bson_destroy (&watched);
   capture_stop (cap);
}

START_TEST (test_unreachable_find)
{
   check_unreachable (unreachable_find, "mongowatch.cursor");
}
END_TEST

START_TEST (test_unreachable_insert)
{
   check_unreachable (unreachable_insert, "mongowatch.collection");
}
END_TEST

/* ------------------------------------------------------------------------
 * Threads on a client pool.
 * ------------------------------------------------------------------------ */

#define THREADS 8
#define ROUNDS 30
#define OPS_PER_ROUND 5

typedef struct {
   mongoc_client_pool_t *pool;
   const char *db_name;
   char name[8]; /* "t0" ... "t7": its Thread context field */
   /* The truth, from what the application got back. */
   int64_t read;
   int64_t inserted;
   int64_t modified;
   int64_t deleted;
   int64_t counted;
   char failure[BSON_ERROR_BUFFER_SIZE + 32]; /* the first failure; "" when none */
} worker_t;

/* Check's assertions end the test from the main thread only: a worker
 * notes its first failure and stops. */
static void
worker_fail (worker_t *w, const char *what, const bson_error_t *error)
{
   if (!w->failure[0]) {
      snprintf (w->failure, sizeof w->failure, "%s: %s", what, error->message);
   }
}

static int64_t
reply_count (const bson_t *reply, const char *key)
{
   bson_iter_t iter;
   return bson_iter_init_find (&iter, reply, key) ? bson_iter_as_int64 (&iter) : 0;
}

/* One round: insert document i, read all of this thread's documents in
 * batches of 2, update document i, count, and delete one.  Odd rounds
 * delete the document of the round before, even rounds one that does not
 * exist, so DeletedCount is 1 and 0 alike and the set grows. */
static void
worker_round (worker_t *w, mongoc_collection_t *coll, int i)
{
   char id[32];
   char victim[32];
   bson_error_t error;
   bson_t reply;
   snprintf (id, sizeof id, "%s-%d", w->name, i);
   if (i % 2) {
      snprintf (victim, sizeof victim, "%s-%d", w->name, i - 1);
   } else {
      snprintf (victim, sizeof victim, "%s-none", w->name);
   }
   bson_t *doc =
      BCON_NEW ("_id", BCON_UTF8 (id), "thread", BCON_UTF8 (w->name), "i", BCON_INT32 (i));
   bson_t *mine = BCON_NEW ("thread", BCON_UTF8 (w->name));
   bson_t *by_id = BCON_NEW ("_id", BCON_UTF8 (id));
   bson_t *update = BCON_NEW ("$set", "{", "updated", BCON_BOOL (true), "}");
   bson_t *by_victim = BCON_NEW ("_id", BCON_UTF8 (victim));
   bson_t *opts = BCON_NEW ("batchSize", BCON_INT32 (2));

   if (!mongoc_collection_insert_one (coll, doc, NULL, &reply, &error)) {
      worker_fail (w, "insert_one", &error);
   }
   w->inserted += reply_count (&reply, "insertedCount");
   bson_destroy (&reply);

   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, mine, opts, NULL);
   const bson_t *found;
   while (mongoc_cursor_next (cursor, &found)) {
      w->read++;
   }
   if (mongoc_cursor_error (cursor, &error)) {
      worker_fail (w, "find", &error);
   }
   mongoc_cursor_destroy (cursor);

   if (!mongoc_collection_update_one (coll, by_id, update, NULL, &reply, &error)) {
      worker_fail (w, "update_one", &error);
   }
   w->modified += reply_count (&reply, "modifiedCount");
   bson_destroy (&reply);

   int64_t n = mongoc_collection_count_documents (coll, mine, NULL, NULL, NULL, &error);
   if (n < 0) {
      worker_fail (w, "count_documents", &error);
   }
   w->counted += n;

   if (!mongoc_collection_delete_one (coll, by_victim, NULL, &reply, &error)) {
      worker_fail (w, "delete_one", &error);
   }
   w->deleted += reply_count (&reply, "deletedCount");
   bson_destroy (&reply);

   bson_destroy (doc);
   bson_destroy (mine);
   bson_destroy (by_id);
   bson_destroy (update);
   bson_destroy (by_victim);
   bson_destroy (opts);
}

static void *
worker_main (void *data)
{
   worker_t *w = data;
   mongoc_client_t *client = mongoc_client_pool_pop (w->pool);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, w->db_name, "items");
   mwatch_context_set ("Thread", w->name);
   for (int i = 0; i < ROUNDS && !w->failure[0]; i++) {
      worker_round (w, coll, i);
   }
   mwatch_context_clear ();
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (w->pool, client);
   return NULL;
}

START_TEST (test_threads_on_a_pool_log_each_operation_once)
{
   char db_name[64];
   mwatch_test_unique_name ("mwtest_threads", db_name, sizeof db_name);
   mongoc_uri_t *uri = mongoc_uri_new (mwatch_test_uri ());
   mongoc_client_pool_t *pool = mongoc_client_pool_new (uri);
   mongoc_client_pool_set_error_api (pool, MONGOC_ERROR_API_VERSION_2);
   worker_t workers[THREADS];
   pthread_t threads[THREADS];

   mwatch_capture_t *cap = capture_start (MWATCH_LEVEL_INFO, true);
   patch ();
   for (int t = 0; t < THREADS; t++) {
      workers[t] = (worker_t){.pool = pool, .db_name = db_name};
      snprintf (workers[t].name, sizeof workers[t].name, "t%d", t % 1000);
      ck_assert_int_eq (pthread_create (&threads[t], NULL, worker_main, &workers[t]), 0);
   }
   for (int t = 0; t < THREADS; t++) {
      ck_assert_int_eq (pthread_join (threads[t], NULL), 0);
   }
   mwatch_unpatch_mongoc ();
   capture_drain (cap);

   for (int t = 0; t < THREADS; t++) {
      const worker_t *w = &workers[t];
      ck_assert_msg (!w->failure[0], "%s: %s", w->name, w->failure);
      ck_assert_int_eq (w->inserted, ROUNDS);
      ck_assert_int_eq (w->modified, ROUNDS);
      ck_assert_int_eq (w->deleted, ROUNDS / 2);
      ck_assert_int_gt (w->read, ROUNDS);
      ck_assert_int_gt (w->counted, ROUNDS);
      const struct {
         const char *logger;
         const char *operation;
         const char *field;
         int64_t truth;
      } expected[OPS_PER_ROUND] = {
         {"mongowatch.collection", "insert_one", "InsertedCount", w->inserted},
         {"mongowatch.cursor", "find", "MatchedCount", w->read},
         {"mongowatch.collection", "update_one", "ModifiedCount", w->modified},
         {"mongowatch.collection", "count_documents", "MatchedCount", w->counted},
         {"mongowatch.collection", "delete_one", "DeletedCount", w->deleted},
      };
      for (size_t k = 0; k < OPS_PER_ROUND; k++) {
         answer_t answer = finals (cap, (query_t){.logger = expected[k].logger,
                                                 .operation = expected[k].operation,
                                                 .thread = w->name,
                                                 .sum = expected[k].field});
         ck_assert_msg (answer.count == ROUNDS, "%s: %zu %s records, not %d", w->name,
                        answer.count, expected[k].operation, ROUNDS);
         ck_assert_msg (answer.sum == expected[k].truth, "%s: %s %s sums to %" PRId64
                        ", not %" PRId64, w->name, expected[k].operation,
                        expected[k].field, answer.sum, expected[k].truth);
      }
   }
   /* Nothing else: no second record of an operation, none of libmongoc's
    * own calls (count_documents' aggregate), no timeouts. */
   ck_assert_uint_eq (capture_count (cap), THREADS * ROUNDS * OPS_PER_ROUND);

   capture_stop (cap);
   mongoc_client_t *client = mongoc_client_pool_pop (pool);
   mwatch_test_drop (client, db_name, mongoc_client_get_collection (client, db_name, "items"));
   mongoc_client_pool_push (pool, client);
   mongoc_client_pool_destroy (pool);
   mongoc_uri_destroy (uri);
}
END_TEST

Suite *
behaviour_suite (void)
{
   Suite *suite = suite_create ("behaviour");
   TCase *tc = tcase_create ("results");
   tcase_add_checked_fixture (tc, NULL, teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_results_identical_with_and_without_watching);
   tcase_add_test (tc, test_unreachable_find);
   tcase_add_test (tc, test_unreachable_insert);
   suite_add_tcase (suite, tc);
   /* Its own case, so that `make tsan-check` can run it alone. */
   tc = tcase_create ("threads");
   tcase_add_checked_fixture (tc, NULL, teardown);
   tcase_set_timeout (tc, 120);
   tcase_add_test (tc, test_threads_on_a_pool_log_each_operation_once);
   suite_add_tcase (suite, tc);
   return suite;
}
