/* The cursor watcher: every call that returns a cursor starts a watch;
 * mongoc_cursor_next accounts documents and time; the cursor's end (all
 * read, failed, or destroyed) logs the final record.  One record per
 * cursor, however many getMore round trips it takes, and with
 * emit_on_new_retrieves an update for each round trip that brought
 * documents. */
#include "clock-private.h"
#include "interpose-private.h"
#include "watch-round-trip-private.h"
#include "ptrmap-private.h"
#include "watch-collection-private.h"
#include "watch-names-private.h"
#include "watch-secrets-private.h"
#include "watch-private.h"
#include "watch-cursor-private.h"

#include <string.h>

static mwatch_ptrmap_t cursors;
static pthread_once_t cursors_once = PTHREAD_ONCE_INIT;

/* The cursor this thread read last and its watch, with a reference of its
 * own.  An application reads a cursor to its end in a loop, so nearly
 * every mongoc_cursor_next finds its watch here, without the map and its
 * lock.  A watch whose cursor is gone is detached: a new cursor that
 * libmongoc allocates at the same address misses the cache. */
static _Thread_local const mongoc_cursor_t *last_cursor MWATCH_FAST_TLS;
static _Thread_local mwatch_watch_t *last_watch MWATCH_FAST_TLS;
/* Only for its destructor, which drops the reference at thread exit.
 * Set once per thread, at the first watch cached (not at each change of
 * the cache: a call to libc twice per cursor), to the cache's address;
 * the destructor drops whatever the cache holds then. */
static pthread_key_t last_watch_key;
/* pthread_key_create can fail (the process used up PTHREAD_KEYS_MAX): the
 * cache then works without a destructor, and the reference it holds when
 * its thread exits is never dropped (one watch per such thread), rather
 * than a key that is not ours be set. */
static bool last_watch_key_made;
static _Thread_local bool last_watch_registered MWATCH_FAST_TLS;

static void
last_watch_release (void *unused)
{
   (void) unused;
   mwatch_watch_t *watch = last_watch;
   last_cursor = NULL;
   last_watch = NULL;
   /* A later destructor that caches a watch registers it again, and
    * pthread_exit runs the destructors once more. */
   last_watch_registered = false;
   _mwatch_watch_unref (watch);
}

static void
cursors_init (void)
{
   _mwatch_ptrmap_init (&cursors);
   last_watch_key_made = pthread_key_create (&last_watch_key, last_watch_release) == 0;
}

static void
last_watch_set (const mongoc_cursor_t *cursor, mwatch_watch_t *watch)
{
   mwatch_watch_t *old = last_watch;
   last_cursor = cursor;
   last_watch = watch;
   if (watch && !last_watch_registered) {
      if (last_watch_key_made) {
         pthread_setspecific (last_watch_key, &last_watch);
      }
      last_watch_registered = true;
   }
   _mwatch_watch_unref (old);
}

/* cursor_watch's miss: the map, and the cache set to what it finds. */
static __attribute__ ((noinline)) mwatch_watch_t *
cursor_watch_lookup (const mongoc_cursor_t *cursor)
{
   mwatch_watch_t *watch = _mwatch_ptrmap_get (&cursors, cursor, _mwatch_watch_ref_void);
   if (watch) {
      last_watch_set (cursor, watch);
   }
   return watch;
}

/* The watch of `cursor`, or NULL; the cache keeps it alive.  The hit,
 * once per document, is inline and reads the cache once. */
static inline mwatch_watch_t *
cursor_watch (const mongoc_cursor_t *cursor)
{
   mwatch_watch_t *watch = last_watch;
   if (BSON_LIKELY (last_cursor == cursor && watch) && !_mwatch_watch_is_detached (watch)) {
      return watch;
   }
   return cursor_watch_lookup (cursor);
}

/* Starts the watch of a cursor just made by a call that took from `start`
 * (monotonic) until now, and logs its first record.  `filter` becomes the
 * Filter field, as an array for an aggregate's pipeline.  With
 * `operation_literal`, `operation` is a string literal, kept by address. */
static void
watch_cursor (const mongoc_cursor_t *cursor,
              int64_t start,
              const char *operation,
              bool operation_literal,
              const char *db,
              const char *collection,
              const bson_t *filter,
              bool filter_is_array)
{
   if (!cursor) {
      return;
   }
   int64_t end = _mwatch_monotonic_now ();
   mwatch_watch_t *watch =
      operation_literal
         ? _mwatch_watch_new_literal (MWATCH_WATCHER_CURSOR, operation, db, collection)
         : _mwatch_watch_new (MWATCH_WATCHER_CURSOR, operation, db, collection);
   _mwatch_watch_set_filter (watch, filter, filter_is_array);
   _mwatch_watch_progress (watch, end - start, end, false, false);
   _mwatch_watch_first (watch);
   /* Only now can the application use the cursor. */
   pthread_once (&cursors_once, cursors_init);
   mwatch_watch_t *replaced = _mwatch_ptrmap_put (&cursors, cursor, watch);
   if (replaced) {
      /* A cursor freed without our destroy: whatever thread still caches
       * the address must not take the new cursor for the old one. */
      _mwatch_watch_detach (replaced);
      _mwatch_watch_unref (replaced);
   }
   /* The thread that made the cursor reads it next, most often: its
    * first mongoc_cursor_next finds it cached, without the map. */
   last_watch_set (cursor, _mwatch_watch_ref (watch));
}

static void
watch_cursor_of_collection (const mongoc_cursor_t *cursor,
                                    int64_t start,
                                    const char *operation,
                                    bool operation_literal,
                                    const mongoc_collection_t *collection,
                                    const bson_t *filter,
                                    bool filter_is_array)
{
   /* Copied into the watch before this thread asks again. */
   watch_cursor (cursor, start, operation, operation_literal,
                 _mwatch_collection_db_cached (collection),
                 mongoc_collection_get_name ((mongoc_collection_t *) collection), filter,
                 filter_is_array);
}

/* An aggregate's pipeline is either an array or {"pipeline": [...]}. */
static void
pipeline_of (const bson_t *pipeline, bson_t *out)
{
   static const char *const keys[] = {"pipeline"};
   _mwatch_doc_part (pipeline, keys, 1, out);
}

#if MWATCH_MONGOC_1X_API /* for mongoc_collection_find, removed in libmongoc 2.0 */
/* A legacy query may wrap its filter as {"$query": {...}, "$orderby": ...}. */
static void
legacy_filter_of (const bson_t *query, bson_t *out)
{
   static const char *const keys[] = {"$query"};
   _mwatch_doc_part (query, keys, 1, out);
}
#endif

/* The "filter" of listCollections / listDatabases options. */
static const bson_t *
opts_filter (const bson_t *opts, bson_t *out)
{
   bson_iter_t iter;
   uint32_t len;
   const uint8_t *data;
   if (opts && bson_iter_init_find (&iter, opts, "filter") && BSON_ITER_HOLDS_DOCUMENT (&iter)) {
      bson_iter_document (&iter, &len, &data);
      bson_init_static (out, data, len);
      return out;
   }
   return NULL;
}

/* ---------------------------------------------------------------- creators */

/* Each creator passes straight through when not watching, else times the
 * call with nested calls unwatched and starts the cursor's watch. */
#define TIMED_CALL(result, call) \
   int64_t start = _mwatch_monotonic_now (); \
   _mwatch_enter (); \
   result = call; \
   _mwatch_leave ()

/* The pass-through of the hottest wrappers (find, next, destroy) has no
 * stack frame and jumps to the real function: the watched path is a
 * function of its own. */
MWATCH_REAL_SYM (mongoc_collection_find_with_opts);
MWATCH_FIRST_CALL (mongoc_cursor_t *,
                   mongoc_collection_find_with_opts,
                   (mongoc_collection_t * collection,
                    const bson_t *filter,
                    const bson_t *opts,
                    const mongoc_read_prefs_t *read_prefs),
                   (collection, filter, opts, read_prefs))
static __attribute__ ((noinline)) mongoc_cursor_t *
watched_find_with_opts (mongoc_collection_t *collection,
                        const bson_t *filter,
                        const bson_t *opts,
                        const mongoc_read_prefs_t *read_prefs)
{
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor,
               REAL (mongoc_collection_find_with_opts) (collection, filter, opts, read_prefs));
   watch_cursor_of_collection (cursor, start, "find", true, collection, filter, false);
   return cursor;
}

mongoc_cursor_t *
mongoc_collection_find_with_opts (mongoc_collection_t *collection,
                                  const bson_t *filter,
                                  const bson_t *opts,
                                  const mongoc_read_prefs_t *read_prefs)
{
   if (BSON_LIKELY (!_mwatch_watching ())) {
      MWATCH_PASS_THROUGH (mongoc_collection_find_with_opts, (collection, filter, opts, read_prefs));
   }
   return watched_find_with_opts (collection, filter, opts, read_prefs);
}

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_REAL_SYM (mongoc_collection_find);
mongoc_cursor_t *
mongoc_collection_find (mongoc_collection_t *collection,
                        mongoc_query_flags_t flags,
                        uint32_t skip,
                        uint32_t limit,
                        uint32_t batch_size,
                        const bson_t *query,
                        const bson_t *fields,
                        const mongoc_read_prefs_t *read_prefs)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_collection_find) (
         collection, flags, skip, limit, batch_size, query, fields, read_prefs);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor,
               REAL (mongoc_collection_find) (
                  collection, flags, skip, limit, batch_size, query, fields, read_prefs));
   bson_t filter;
   legacy_filter_of (query, &filter);
   watch_cursor_of_collection (cursor, start, "find", true, collection, &filter, false);
   return cursor;
}
#endif

MWATCH_REAL_SYM (mongoc_collection_aggregate);
mongoc_cursor_t *
mongoc_collection_aggregate (mongoc_collection_t *collection,
                             mongoc_query_flags_t flags,
                             const bson_t *pipeline,
                             const bson_t *opts,
                             const mongoc_read_prefs_t *read_prefs)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_collection_aggregate) (collection, flags, pipeline, opts, read_prefs);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor,
               REAL (mongoc_collection_aggregate) (collection, flags, pipeline, opts, read_prefs));
   bson_t stages;
   pipeline_of (pipeline, &stages);
   watch_cursor_of_collection (cursor, start, "aggregate", true, collection, &stages, true);
   return cursor;
}

MWATCH_REAL_SYM (mongoc_database_aggregate);
mongoc_cursor_t *
mongoc_database_aggregate (mongoc_database_t *database,
                           const bson_t *pipeline,
                           const bson_t *opts,
                           const mongoc_read_prefs_t *read_prefs)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_database_aggregate) (database, pipeline, opts, read_prefs);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_database_aggregate) (database, pipeline, opts, read_prefs));
   bson_t stages;
   pipeline_of (pipeline, &stages);
   watch_cursor (cursor, start, "aggregate", true, mongoc_database_get_name (database), NULL, &stages,
                 true);
   return cursor;
}

MWATCH_REAL_SYM (mongoc_collection_find_indexes_with_opts);
mongoc_cursor_t *
mongoc_collection_find_indexes_with_opts (mongoc_collection_t *collection, const bson_t *opts)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_collection_find_indexes_with_opts) (collection, opts);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_collection_find_indexes_with_opts) (collection, opts));
   watch_cursor_of_collection (cursor, start, "listIndexes", true, collection, NULL, false);
   return cursor;
}

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_REAL_SYM (mongoc_collection_find_indexes);
mongoc_cursor_t *
mongoc_collection_find_indexes (mongoc_collection_t *collection, bson_error_t *error)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_collection_find_indexes) (collection, error);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_collection_find_indexes) (collection, error));
   watch_cursor_of_collection (cursor, start, "listIndexes", true, collection, NULL, false);
   return cursor;
}
#endif

MWATCH_REAL_SYM (mongoc_database_find_collections_with_opts);
mongoc_cursor_t *
mongoc_database_find_collections_with_opts (mongoc_database_t *database, const bson_t *opts)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_database_find_collections_with_opts) (database, opts);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_database_find_collections_with_opts) (database, opts));
   bson_t filter;
   watch_cursor (cursor, start, "listCollections", true, mongoc_database_get_name (database), NULL,
                 opts_filter (opts, &filter), false);
   return cursor;
}

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_REAL_SYM (mongoc_database_find_collections);
mongoc_cursor_t *
mongoc_database_find_collections (mongoc_database_t *database,
                                  const bson_t *filter,
                                  bson_error_t *error)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_database_find_collections) (database, filter, error);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_database_find_collections) (database, filter, error));
   watch_cursor (cursor, start, "listCollections", true, mongoc_database_get_name (database), NULL,
                 filter, false);
   return cursor;
}
#endif

MWATCH_REAL_SYM (mongoc_client_find_databases_with_opts);
mongoc_cursor_t *
mongoc_client_find_databases_with_opts (mongoc_client_t *client, const bson_t *opts)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_client_find_databases_with_opts) (client, opts);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_client_find_databases_with_opts) (client, opts));
   bson_t filter;
   watch_cursor (cursor, start, "listDatabases", true, "admin", NULL, opts_filter (opts, &filter),
                 false);
   return cursor;
}

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_REAL_SYM (mongoc_client_find_databases);
mongoc_cursor_t *
mongoc_client_find_databases (mongoc_client_t *client, bson_error_t *error)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_client_find_databases) (client, error);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_client_find_databases) (client, error));
   watch_cursor (cursor, start, "listDatabases", true, "admin", NULL, NULL, false);
   return cursor;
}
#endif

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_REAL_SYM (mongoc_collection_command);
mongoc_cursor_t *
mongoc_collection_command (mongoc_collection_t *collection,
                           mongoc_query_flags_t flags,
                           uint32_t skip,
                           uint32_t limit,
                           uint32_t batch_size,
                           const bson_t *command,
                           const bson_t *fields,
                           const mongoc_read_prefs_t *read_prefs)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_collection_command) (
         collection, flags, skip, limit, batch_size, command, fields, read_prefs);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor,
               REAL (mongoc_collection_command) (
                  collection, flags, skip, limit, batch_size, command, fields, read_prefs));
   watch_cursor_of_collection (cursor, start, _mwatch_command_name (command), false, collection,
                                       _mwatch_command_loggable (command), false);
   return cursor;
}
#endif

/* Splits a namespace "db.collection" from a command reply's cursor.ns. */
static bool
reply_namespace (const bson_t *reply, char *db, size_t db_size, const char **collection)
{
   bson_iter_t iter;
   if (!reply || !bson_iter_init (&iter, reply) ||
       !bson_iter_find_descendant (&iter, "cursor.ns", &iter) || !BSON_ITER_HOLDS_UTF8 (&iter)) {
      return false;
   }
   const char *ns = bson_iter_utf8 (&iter, NULL);
   const char *dot = strchr (ns, '.');
   size_t len = dot ? (size_t) (dot - ns) : strlen (ns);
   if (len + 1 > db_size) {
      return false;
   }
   memcpy (db, ns, len);
   db[len] = '\0';
   *collection = dot ? dot + 1 : NULL;
   return true;
}

MWATCH_REAL_SYM (mongoc_cursor_new_from_command_reply_with_opts);
mongoc_cursor_t *
mongoc_cursor_new_from_command_reply_with_opts (mongoc_client_t *client,
                                                bson_t *reply,
                                                const bson_t *opts)
{
   if (!_mwatch_watching ()) {
      return REAL (mongoc_cursor_new_from_command_reply_with_opts) (client, reply, opts);
   }
   /* The call takes the reply and frees it: read the namespace first. */
   char db[256];
   char collection[256] = "";
   const char *coll_in_reply = NULL;
   bool known = reply_namespace (reply, db, sizeof db, &coll_in_reply);
   if (coll_in_reply) {
      bson_strncpy (collection, coll_in_reply, sizeof collection);
   }
   mongoc_cursor_t *cursor;
   TIMED_CALL (cursor, REAL (mongoc_cursor_new_from_command_reply_with_opts) (client, reply, opts));
   watch_cursor (cursor, start, "command_cursor", true, known ? db : NULL,
                 collection[0] ? collection : NULL, NULL, false);
   return cursor;
}

/* A clone is a new operation with its parent's query: the same DB,
 * Collection, Operation and Filter, counted from zero. */
MWATCH_REAL_SYM (mongoc_cursor_clone);
mongoc_cursor_t *
mongoc_cursor_clone (const mongoc_cursor_t *cursor)
{
   mwatch_cursor_t *parent = _mwatch_watching () ? mwatch_cursor_get (cursor) : NULL;
   if (!parent) {
      return REAL (mongoc_cursor_clone) (cursor);
   }
   mongoc_cursor_t *clone;
   TIMED_CALL (clone, REAL (mongoc_cursor_clone) (cursor));
   if (!clone) {
      return clone;
   }
   const char *keys[] = {"DB", "Collection", "Operation"};
   char values[3][256];
   mwatch_value_t filter = {.type = MWATCH_TYPE_NULL};
   bool has_filter;
   mwatch_message_t *msg = mwatch_cursor_lock (parent);
   for (size_t i = 0; i < 3; i++) {
      mwatch_value_t v;
      values[i][0] = '\0';
      if (mwatch_message_get (msg, keys[i], &v) && v.type == MWATCH_TYPE_UTF8) {
         bson_strncpy (values[i], v.value.v_utf8.str, sizeof values[i]);
      }
   }
   mwatch_message_t *copy = mwatch_message_copy (msg);
   mwatch_cursor_unlock (parent);
   has_filter = mwatch_message_get (copy, "Filter", &filter);
   bson_t doc;
   bool is_doc = has_filter && mwatch_value_as_bson (&filter, &doc);
   watch_cursor (clone, start, values[2][0] ? values[2] : "find", false, values[0][0] ? values[0] : NULL,
                 values[1][0] ? values[1] : NULL, is_doc ? &doc : NULL,
                 is_doc && filter.type == MWATCH_TYPE_ARRAY);
   mwatch_message_destroy (copy);
   return clone;
}

/* ---------------------------------------------------------------- iteration */

mwatch_cursor_t *
mwatch_cursor_get (const mongoc_cursor_t *cursor)
{
   if (!cursor || !_mwatch_ptrmap_count (&cursors)) {
      return NULL;
   }
   return _mwatch_ptrmap_get (&cursors, cursor, NULL);
}

MWATCH_REAL_SYM (mongoc_cursor_next);
/* A call of mongoc_cursor_next that gave no document: the cursor's end
 * or its error logs the final record.  Out of line with its error
 * buffer, away from the per-document path. */
static __attribute__ ((noinline, cold)) void
cursor_no_document (mongoc_cursor_t *cursor, mwatch_watch_t *watch)
{
   bson_error_t error;
   if (mongoc_cursor_error (cursor, &error)) {
      _mwatch_watch_final (watch, &error);
   } else if (!mongoc_cursor_more (cursor)) {
      _mwatch_watch_final (watch, NULL);
   }
   /* Otherwise a tailable cursor with nothing new yet: still running. */
}

MWATCH_FIRST_CALL (bool,
                   mongoc_cursor_next,
                   (mongoc_cursor_t * cursor, const bson_t **bson),
                   (cursor, bson))
static __attribute__ ((noinline)) bool
watched_cursor_next (mongoc_cursor_t *cursor, const bson_t **bson)
{
   mwatch_watch_t *watch = cursor_watch (cursor);
   if (!watch) {
      return REAL (mongoc_cursor_next) (cursor, bson);
   }
   uint64_t reads = _mwatch_stream_reads;
   /* Both readings converted after the call: fewer values live across it
    * (fewer registers saved, per document). */
   struct timespec before, after;
   clock_gettime (CLOCK_MONOTONIC, &before);
   _mwatch_enter ();
   bool more = REAL (mongoc_cursor_next) (cursor, bson);
   _mwatch_leave ();
   clock_gettime (CLOCK_MONOTONIC, &after);
   int64_t start = _mwatch_timespec_us (&before);
   int64_t end = _mwatch_timespec_us (&after);
   /* A read from the server during the call: the document (if any) came
    * with a new batch (see watch-round-trip.c). */
   _mwatch_watch_progress (watch, end - start, end, more, _mwatch_stream_reads != reads);
   if (BSON_UNLIKELY (!more)) {
      cursor_no_document (cursor, watch);
   }
   return more;
}

bool
mongoc_cursor_next (mongoc_cursor_t *cursor, const bson_t **bson)
{
   /* Unwatched programs and cursors: one load, one branch. */
   if (BSON_LIKELY (!_mwatch_ptrmap_count (&cursors)) || !_mwatch_watching ()) {
      MWATCH_PASS_THROUGH (mongoc_cursor_next, (cursor, bson));
   }
   return watched_cursor_next (cursor, bson);
}

MWATCH_REAL_SYM (mongoc_cursor_destroy);
static __attribute__ ((noinline)) void
watched_cursor_destroy (mongoc_cursor_t *cursor)
{
   mwatch_watch_t *watch = _mwatch_ptrmap_remove (&cursors, cursor);
   if (watch) {
      _mwatch_watch_detach (watch);
      if (last_cursor == cursor) {
         last_watch_set (NULL, NULL);
      }
      /* A cursor given up before its end logs what it had so far. */
      if (_mwatch_watching ()) {
         _mwatch_watch_final (watch, NULL);
      }
      _mwatch_watch_unref (watch);
   }
   REAL (mongoc_cursor_destroy) (cursor);
}

static __attribute__ ((noinline, cold)) void
first_call_mongoc_cursor_destroy (mongoc_cursor_t *cursor)
{
   REAL (mongoc_cursor_destroy) (cursor);
}

void
mongoc_cursor_destroy (mongoc_cursor_t *cursor)
{
   if (BSON_UNLIKELY (cursor && _mwatch_ptrmap_count (&cursors))) {
      watched_cursor_destroy (cursor);
      return;
   }
   /* MWATCH_PASS_THROUGH, for a function that returns nothing. */
   void *fn = atomic_load_explicit (&real_sym_mongoc_cursor_destroy.fn, memory_order_acquire);
   if (BSON_LIKELY (fn != NULL)) {
      ((__typeof__ (mongoc_cursor_destroy) *) fn) (cursor);
      return;
   }
   first_call_mongoc_cursor_destroy (cursor);
}

/* Our own definition of mongoc_cursor_next, reached without the symbol
 * table (which would give whichever definition the dynamic linker chose),
 * for mwatch_patch_mongoc's link-order check. */
extern __typeof__ (mongoc_cursor_next) _mwatch_own_cursor_next_def
   __attribute__ ((alias ("mongoc_cursor_next"), visibility ("hidden")));

void *
_mwatch_own_cursor_next (void)
{
   return (void *) _mwatch_own_cursor_next_def;
}
