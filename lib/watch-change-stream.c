/* Change streams, watched as long-lived cursor operations (logger
 * "mongowatch.cursor", Operation "watch", Filter the pipeline): the first
 * record when the stream is opened, one more document matched per change
 * mongoc_change_stream_next returns, the final record when the stream
 * fails or is destroyed.  Between changes, the timeout records say it is
 * still open. */
#include "clock-private.h"
#include "interpose-private.h"
#include "watch-round-trip-private.h"
#include "ptrmap-private.h"
#include "watch-collection-private.h"
#include "watch-names-private.h"

static mwatch_ptrmap_t streams;
static pthread_once_t streams_once = PTHREAD_ONCE_INIT;

static void
streams_init (void)
{
   _mwatch_ptrmap_init (&streams);
}

/* Starts the watch of a stream just opened by a call that took from
 * `start` (monotonic) until now.  libmongoc runs the stream's first
 * aggregate when it opens it; an error there is the stream's error from
 * then on, reported by mongoc_change_stream_next and at destroy. */
static void
watch_stream (const mongoc_change_stream_t *stream,
              int64_t start,
              const char *db,
              const char *collection,
              const bson_t *pipeline)
{
   if (!stream) {
      return;
   }
   int64_t end = _mwatch_monotonic_now ();
   mwatch_watch_t *watch = _mwatch_watch_new_literal (MWATCH_WATCHER_CURSOR, "watch", db, collection);
   static const char *const keys[] = {"pipeline"};
   bson_t stages;
   _mwatch_doc_part (pipeline, keys, 1, &stages);
   _mwatch_watch_set_filter (watch, &stages, true);
   pthread_once (&streams_once, streams_init);
   _mwatch_watch_unref (_mwatch_ptrmap_put (&streams, stream, watch));
   _mwatch_watch_progress (watch, end - start, end, false, false);
   _mwatch_watch_first (watch);
}

static bool
stream_failed (const mongoc_change_stream_t *stream, bson_error_t *error)
{
   const bson_t *doc;
   return mongoc_change_stream_error_document (stream, error, &doc);
}

#define TIMED_OPEN(stream, call)                 \
   int64_t start = _mwatch_monotonic_now ();      \
   _mwatch_enter ();                            \
   mongoc_change_stream_t *stream = call;       \
   _mwatch_leave ()

MWATCH_REAL_SYM (mongoc_collection_watch);
mongoc_change_stream_t *
mongoc_collection_watch (const mongoc_collection_t *coll,
                         const bson_t *pipeline,
                         const bson_t *opts)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_collection_watch) (coll, pipeline, opts);
   }
   TIMED_OPEN (stream, REAL (mongoc_collection_watch) (coll, pipeline, opts));
   /* Copied into the watch before this thread asks again. */
   watch_stream (stream, start, _mwatch_collection_db_cached (coll),
                 mongoc_collection_get_name ((mongoc_collection_t *) coll), pipeline);
   return stream;
}

MWATCH_REAL_SYM (mongoc_database_watch);
mongoc_change_stream_t *
mongoc_database_watch (const mongoc_database_t *db, const bson_t *pipeline, const bson_t *opts)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_database_watch) (db, pipeline, opts);
   }
   TIMED_OPEN (stream, REAL (mongoc_database_watch) (db, pipeline, opts));
   watch_stream (stream, start, mongoc_database_get_name ((mongoc_database_t *) db), NULL,
                 pipeline);
   return stream;
}

MWATCH_REAL_SYM (mongoc_client_watch);
mongoc_change_stream_t *
mongoc_client_watch (mongoc_client_t *client, const bson_t *pipeline, const bson_t *opts)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_client_watch) (client, pipeline, opts);
   }
   TIMED_OPEN (stream, REAL (mongoc_client_watch) (client, pipeline, opts));
   watch_stream (stream, start, NULL, NULL, pipeline);
   return stream;
}

MWATCH_REAL_SYM (mongoc_change_stream_next);
bool
mongoc_change_stream_next (mongoc_change_stream_t *stream, const bson_t **bson)
{
   if (BSON_LIKELY (!_mwatch_ptrmap_count (&streams)) || !_mwatch_watching ()) {
      return REAL (mongoc_change_stream_next) (stream, bson);
   }
   mwatch_watch_t *watch = _mwatch_ptrmap_get (&streams, stream, _mwatch_watch_ref_void);
   if (!watch) {
      return REAL (mongoc_change_stream_next) (stream, bson);
   }
   uint64_t reads = _mwatch_stream_reads;
   int64_t start = _mwatch_monotonic_now ();
   _mwatch_enter ();
   bool changed = REAL (mongoc_change_stream_next) (stream, bson);
   _mwatch_leave ();
   int64_t end = _mwatch_monotonic_now ();
   _mwatch_watch_progress (watch, end - start, end, changed, _mwatch_stream_reads != reads);
   /* No change yet is the normal state of an open stream; only an error
    * ends it. */
   bson_error_t error;
   if (!changed && stream_failed (stream, &error)) {
      _mwatch_watch_final (watch, &error);
   }
   _mwatch_watch_unref (watch);
   return changed;
}

MWATCH_REAL_SYM (mongoc_change_stream_destroy);
void
mongoc_change_stream_destroy (mongoc_change_stream_t *stream)
{
   if (stream && _mwatch_ptrmap_count (&streams)) {
      mwatch_watch_t *watch = _mwatch_ptrmap_remove (&streams, stream);
      if (watch) {
         bson_error_t error;
         if (_mwatch_watching ()) {
            _mwatch_watch_final (watch, stream_failed (stream, &error) ? &error : NULL);
         }
         _mwatch_watch_unref (watch);
      }
   }
   REAL (mongoc_change_stream_destroy) (stream);
}
