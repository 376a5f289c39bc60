/*
 * mongowatch watchers: auditing libmongoc's operations.
 *
 * Included by <mongowatch.h>; do not include it on its own.
 *
 * libmongowatch defines the public mongoc_* functions it watches.  When it
 * comes before libmongoc in the program's symbol search order — linked with
 * `pkg-config --libs mongowatch`, which puts -lmongowatch first, or loaded
 * with LD_PRELOAD — the application's calls reach these definitions, which
 * pass each call on to the real libmongoc.  Until mwatch_patch_mongoc() is
 * called they do nothing else; after it, each operation is logged:
 *
 *   "mongowatch.cursor"      every call that returns a cursor (find,
 *                            aggregate, ...), one record per cursor however
 *                            many round trips it takes
 *   "mongowatch.collection"  every other collection, database and client
 *                            operation: writes, counts, commands, bulk
 *                            writes, administration
 *
 * Each operation's WatchMessage holds WatchID, Iteration, StartTime, then
 * DB, Collection, Operation, Filter, and as it goes on EndTime, Duration
 * (seconds spent inside libmongoc), the counts (MatchedCount,
 * InsertedCount, UpsertedCount, ModifiedCount, DeletedCount) and, when it
 * failed, Error.  It is logged at its start ("first", DEBUG), as it goes on
 * ("update", DEBUG), at its end ("final", INFO), or when nothing happened
 * for timeout_sec ("timeout", INFO).
 *
 * Nothing the application sees changes: return values, errors, replies,
 * documents and cursor state are libmongoc's own.
 */
#ifndef MONGOWATCH_WATCH_H
#define MONGOWATCH_WATCH_H

#ifndef MONGOWATCH_H
#error "include <mongowatch.h>, not <mongowatch/watch.h>"
#endif

#include <mongoc/mongoc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Turns watching on.  Cheap, idempotent and thread-safe.  Returns true
 * when watching is on; false, with `error` saying how to fix the link,
 * when libmongoc's own functions come before mongowatch's in the symbol
 * search order, so that nothing could be watched. */
MWATCH_EXPORT bool
mwatch_patch_mongoc (bson_error_t *error);

/* Turns watching off: later calls pass straight through and nothing more
 * is logged, not even the end of operations already under way (their
 * watch state is released when the application destroys them). */
MWATCH_EXPORT void
mwatch_unpatch_mongoc (void);

/* Whether watching is on: mwatch_patch_mongoc() succeeded and
 * mwatch_unpatch_mongoc() was not called since. */
MWATCH_EXPORT bool
mwatch_is_patched (void);

/* ------------------------------------------------------------------------
 * Watcher options, per kind of watcher.
 * ------------------------------------------------------------------------ */

typedef enum {
   MWATCH_WATCHER_CURSOR = 0,
   MWATCH_WATCHER_COLLECTION = 1,
} mwatch_watcher_kind_t;

typedef struct {
   /* Seconds without activity after which a running operation is logged
    * by timeout (15; 0 = never). */
   double timeout_sec;
   int first_level;   /* DEBUG */
   int update_level;  /* DEBUG */
   int final_level;   /* INFO */
   int timeout_level; /* INFO */
   /* Cursors: log an update only when new documents arrived (true); with
    * false, on every call to mongoc_cursor_next. */
   bool emit_on_new_retrieves;
   /* The fields {watch} shows for this watcher's messages
    * (NULL-terminated; NULL: mwatch_default_fields).  Copied. */
   const char *const *default_fields;
} mwatch_watcher_opts_t;

/* Fills `opts` with the defaults above. */
MWATCH_EXPORT void
mwatch_watcher_opts_init (mwatch_watcher_opts_t *opts);

/* Sets the options of one kind of watcher for operations that start from
 * now on. */
MWATCH_EXPORT void
mwatch_watcher_set_opts (mwatch_watcher_kind_t kind, const mwatch_watcher_opts_t *opts);

/* Copies the options of one kind of watcher into `opts` (the defaults
 * for a kind never set, or not a kind). */
MWATCH_EXPORT void
mwatch_watcher_get_opts (mwatch_watcher_kind_t kind, mwatch_watcher_opts_t *opts);

/* One operation's field mapping, as the Python project's "operations"
 * section: for records of `operation` (e.g. "find"; "*" for every
 * operation) of one watcher kind, drop fields (NULL-terminated), rename
 * fields (pairs from, to, ..., NULL), and add constant fields (the
 * top-level fields of a document).  Any of them may be NULL.  Renames and
 * drops apply to the operation's arguments (Filter, DB, ...) and to the
 * results (MatchedCount, Duration, EndTime, Error, ...).
 *
 * `cast` (pairs field, cast, ..., NULL; may be NULL) transforms the value
 * of an argument field (Filter, Update, DB, Collection, context fields)
 * before it is renamed, as pymongowatch's casts do: "builtins.len" makes a
 * document or array its number of elements and a string its number of
 * characters (other values stay); "pymongo.watcher.transforms.one_if_not_none"
 * makes the value 1 (0 when it is null); "pymongo.watcher.transforms.to_watch_cursor"
 * keeps it.  Other names are ignored. */
typedef struct {
   const char *operation;
   const char *const *rename;
   const char *const *drop;
   const bson_t *add;
   const char *const *cast;
} mwatch_operation_map_t;

/* Replaces the mappings of one kind of watcher (copying them), for
 * operations that start from now on; maps "*" apply before the
 * operation's own.  `count` 0 removes every mapping. */
MWATCH_EXPORT void
mwatch_watcher_set_operation_maps (mwatch_watcher_kind_t kind,
                                   const mwatch_operation_map_t *maps,
                                   size_t count);

/* ------------------------------------------------------------------------
 * Audit context: on whose behalf.  Fields set on a thread are copied into
 * every WatchMessage that thread starts, until cleared.
 * ------------------------------------------------------------------------ */

/* Sets `key` to the string `value` for this thread (NULL removes it).
 * Returns false for a key that is not a valid field name. */
MWATCH_EXPORT bool
mwatch_context_set (const char *key, const char *value);

/* Removes every context field of this thread. */
MWATCH_EXPORT void
mwatch_context_clear (void);

/* ------------------------------------------------------------------------
 * The watch state of one of the application's cursors.
 * ------------------------------------------------------------------------ */

/* The watch of a cursor: the live state of the watched operation that the
 * cursor runs (an opaque object of the library's). */
typedef struct _mwatch_watch_t mwatch_cursor_t;

/* The watch of `cursor`, or NULL when it is not watched (created while
 * unpatched, or not a cursor from libmongoc).  Valid until the cursor is
 * destroyed. */
MWATCH_EXPORT mwatch_cursor_t *
mwatch_cursor_get (const mongoc_cursor_t *cursor);

/* Locks the watch and returns its WatchMessage, to read it or to add
 * fields that later records of this cursor will carry.  Keep the lock
 * short: the cursor's own calls wait for it.  Unlock with
 * mwatch_cursor_unlock().
 *
 * The library otherwise builds a record's message only where it is used
 * (a queue's listener); the first call builds this cursor's message, and
 * from then on its records are built from it on the application's thread,
 * at the cost of building and copying a message per record. */
MWATCH_EXPORT mwatch_message_t *
mwatch_cursor_lock (mwatch_cursor_t *watch);

/* Unlocks a watch that mwatch_cursor_lock() locked. */
MWATCH_EXPORT void
mwatch_cursor_unlock (mwatch_cursor_t *watch);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_WATCH_H */
