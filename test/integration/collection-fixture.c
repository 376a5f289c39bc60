#include "integration/collection-fixture.h"

void
unwatched (void)
{
   mwatch_unpatch_mongoc ();
}

void
watched (void)
{
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
}

int64_t
truth (mongoc_collection_t *coll, const bson_t *filter)
{
   bson_error_t error;
   bson_t empty = BSON_INITIALIZER;
   unwatched ();
   int64_t n =
      mongoc_collection_count_documents (coll, filter ? filter : &empty, NULL, NULL, NULL, &error);
   watched ();
   ck_assert_msg (n >= 0, "truth: %s", error.message);
   return n;
}

const mwatch_captured_t *
one_final (fixture_t *f, const char *operation, const char *db, const char *collection)
{
   size_t count = capture_count (f->cap);
   ck_assert_msg (count == f->seen + 1, "%s: %d records, not 1", operation,
                  (int) (count - f->seen));
   const mwatch_captured_t *rec = capture_get (f->cap, f->seen);
   f->seen = count;
   ck_assert_str_eq (rec->logger, "mongowatch.collection");
   ck_assert_int_eq (rec->level, MWATCH_LEVEL_INFO);
   ck_assert (mwatch_message_is_ready (rec->msg));
   ck_assert_str_eq (capture_str (rec, "Operation"), operation);
   ck_assert (mwatch_message_has (rec->msg, "EndTime"));
   mwatch_value_t v;
   ck_assert (mwatch_message_get (rec->msg, "Duration", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_DOUBLE);
   ck_assert (v.value.v_double >= 0);
   if (db) {
      ck_assert_str_eq (capture_str (rec, "DB"), db);
   }
   if (collection) {
      ck_assert_str_eq (capture_str (rec, "Collection"), collection);
   }
   return rec;
}

const mwatch_captured_t *
one_ok (fixture_t *f, const char *operation, const char *db, const char *collection)
{
   const mwatch_captured_t *rec = one_final (f, operation, db, collection);
   ck_assert_msg (!mwatch_message_has (rec->msg, "Error"), "%s failed: %s", operation,
                  capture_str (rec, "Error"));
   return rec;
}

void
assert_counts (const mwatch_captured_t *rec, int64_t matched, int64_t modified, int64_t upserted)
{
   ck_assert_int_eq (capture_int (rec, "MatchedCount"), matched);
   ck_assert_int_eq (capture_int (rec, "ModifiedCount"), modified);
   ck_assert_int_eq (capture_int (rec, "UpsertedCount"), upserted);
}

int64_t
reply_int (const bson_t *reply, const char *key)
{
   bson_iter_t iter;
   ck_assert_msg (bson_iter_init_find (&iter, reply, key), "no %s in the reply", key);
   return bson_iter_as_int64 (&iter);
}

void
fixture_start (fixture_t *f, int n, int level, bool with_queue)
{
   f->client = mwatch_test_client ();
   unwatched ();
   f->coll = mwatch_test_seed (f->client, "mwtest_coll", f->db, sizeof f->db, n);
   watched ();
   f->cap = capture_start (level, with_queue);
   f->seen = 0;
}

void
fixture_stop (fixture_t *f)
{
   capture_stop (f->cap);
   unwatched ();
   mwatch_test_drop (f->client, f->db, f->coll);
   mongoc_client_destroy (f->client);
}

void
insert_one_doc (mongoc_collection_t *coll)
{
   bson_t *doc = BCON_NEW ("n", BCON_INT32 (1));
   bson_error_t error;
   ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "%s",
                  error.message);
   bson_destroy (doc);
}
