/* What the collection watcher's tests (test-collection.c and
 * test-collection-admin.c) share: a seeded collection with a capture, the
 * record the last call logged, and ground truth made unwatched. */
#ifndef MWATCH_COLLECTION_FIXTURE_H
#define MWATCH_COLLECTION_FIXTURE_H

#include "test-capture.h"

/* The deprecated functions are watched too: the tests call them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* A fresh database holding "items" (see mwatch_test_seed), and a capture
 * at `level`.  Without a queue (the usual case), each call's final record
 * is there as soon as the call returns. */
typedef struct {
   char db[64];
   mongoc_client_t *client;
   mongoc_collection_t *coll;
   mwatch_capture_t *cap;
   size_t seen; /* records already checked */
} fixture_t;

void
fixture_start (fixture_t *f, int n, int level, bool with_queue);
void
fixture_stop (fixture_t *f);

/* Ground truth is made with watching off, as the application would see
 * it without mongowatch; watched() turns it back on. */
void
unwatched (void);
void
watched (void);

/* Documents of `coll` matching `filter` (NULL: all), counted unwatched. */
int64_t
truth (mongoc_collection_t *coll, const bson_t *filter);

/* The one record logged since the last check: a final record on the
 * collection logger at INFO, with `operation`, EndTime, Duration, and DB
 * and Collection when given. */
const mwatch_captured_t *
one_final (fixture_t *f, const char *operation, const char *db, const char *collection);

/* The same, of a call that succeeded: no Error. */
const mwatch_captured_t *
one_ok (fixture_t *f, const char *operation, const char *db, const char *collection);

void
assert_counts (const mwatch_captured_t *rec, int64_t matched, int64_t modified, int64_t upserted);

int64_t
reply_int (const bson_t *reply, const char *key);

/* Inserts {n: 1}, which must succeed. */
void
insert_one_doc (mongoc_collection_t *coll);

/* test-collection-admin.c: commands, administration, failures, unpatched,
 * change streams. */
void
collection_admin_tests (TCase *tc);

#endif
