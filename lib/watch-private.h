/* The watch engine shared by the cursor and collection watchers: the live
 * state of one operation, its WatchMessage, and when it is logged. */
#ifndef MWATCH_WATCH_PRIVATE_H
#define MWATCH_WATCH_PRIVATE_H

#include "mongowatch.h"

#include <stdatomic.h>

/* One watched operation (the public mwatch_cursor_t is the same object).
 * Reference counted: the application's object (a cursor) holds one, and
 * each record of it waiting in a queue holds one. */
typedef struct _mwatch_watch_t mwatch_watch_t;

/* Starts watching an operation: its records will have the thread's
 * context fields, then DB (omitted when NULL), Collection (likewise) and
 * Operation. */
mwatch_watch_t *
_mwatch_watch_new (mwatch_watcher_kind_t kind,
                   const char *operation,
                   const char *db,
                   const char *collection);

/* The same, for an `operation` that lives as long as the library (a
 * string literal): the watch keeps its address instead of a copy. */
mwatch_watch_t *
_mwatch_watch_new_literal (mwatch_watcher_kind_t kind,
                           const char *operation,
                           const char *db,
                           const char *collection);

/* The Operation name `watch` keeps: the literal itself, or its own copy
 * (test/unit/test-thread-caches.c checks which). */
const char *
_mwatch_watch_operation (const mwatch_watch_t *watch);

mwatch_watch_t *
_mwatch_watch_ref (mwatch_watch_t *watch);

/* For ptrmap lookups. */
void *
_mwatch_watch_ref_void (void *watch);

void
_mwatch_watch_unref (mwatch_watch_t *watch);

/* The operation's Filter (an array for an aggregate's pipeline) and
 * Update, copied; before the first record (no lock needed then: nobody
 * else sees the watch yet).  NULL sets nothing. */
void
_mwatch_watch_set_filter (mwatch_watch_t *watch, const bson_t *filter, bool is_array);

void
_mwatch_watch_set_update (mwatch_watch_t *watch, const bson_t *update);

/* Logs the first record. */
void
_mwatch_watch_first (mwatch_watch_t *watch);

/* What the application's thread bumps on every call into libmongoc
 * (every document of a cursor): atomics, so that this costs no lock.  A
 * listener reading them for a timeout snapshot may see one call's time
 * without its document; the next record is exact.  The first member of
 * every watch, so that the per-call path below is inline. */
typedef struct {
   _Atomic int64_t duration_us;   /* time spent inside libmongoc */
   _Atomic int64_t last_activity; /* monotonic */
   _Atomic int64_t matched;
   /* Updates the operation made, logged or not (a batch that brought
    * documents, or every call without emit_on_new_retrieves): its records'
    * Iteration, the same whatever the levels and handlers. */
   _Atomic int64_t updates_made;
   atomic_bool detached; /* its cursor is gone (see _mwatch_watch_detach) */
   bool emit_on_new_retrieves; /* the watcher's option when it started */
} mwatch_watch_counters_t;

static inline mwatch_watch_counters_t *
_mwatch_watch_counters (const mwatch_watch_t *watch)
{
   return (mwatch_watch_counters_t *) watch;
}

/* One more update of the operation, counted, and logged when some logger
 * wants it (_mwatch_watch_progress's slow path). */
void
_mwatch_watch_update (mwatch_watch_t *watch);

/* Accounts one call into libmongoc that took `us` microseconds and ended
 * at monotonic time `end`; with `matched`, one more document received;
 * `fetched`: the call made a round trip to the server (a new batch).
 * Logs an update when the options ask for one: with
 * emit_on_new_retrieves, only for a round trip that brought a document.
 * Lock-free unless it logs; one thread at a time calls it for a watch (as
 * libmongoc wants of the objects it is called for). */
static inline void
_mwatch_watch_progress (
   mwatch_watch_t *watch, int64_t us, int64_t end, bool matched, bool fetched)
{
   mwatch_watch_counters_t *c = _mwatch_watch_counters (watch);
   atomic_fetch_add_explicit (&c->duration_us, us, memory_order_relaxed);
   atomic_store_explicit (&c->last_activity, end, memory_order_relaxed);
   bool update = !c->emit_on_new_retrieves;
   if (matched) {
      int64_t count = atomic_fetch_add_explicit (&c->matched, 1, memory_order_relaxed) + 1;
      /* emit_on_new_retrieves: an update per batch that brought
       * documents, not per document: a new document read by a call that
       * made a round trip, or the very first one (its batch may have come
       * with the call that made the cursor). */
      update = update || fetched || count == 1;
   }
   if (update) {
      _mwatch_watch_update (watch);
   }
}

/* Marks a watch whose application object (a cursor) is gone, for
 * per-thread caches that may still hold it: a new object at the same
 * address is another operation. */
static inline void
_mwatch_watch_detach (mwatch_watch_t *watch)
{
   atomic_store_explicit (&_mwatch_watch_counters (watch)->detached, true, memory_order_release);
}

static inline bool
_mwatch_watch_is_detached (const mwatch_watch_t *watch)
{
   return atomic_load_explicit (&_mwatch_watch_counters (watch)->detached, memory_order_acquire);
}

/* An integer field of the final record (a count from a reply).  `key` is
 * one of the library's field names, a string that lives as long as the
 * process (the watch keeps the pointer). */
typedef struct {
   const char *key;
   int64_t value;
} mwatch_count_value_t;

/* Ends the operation: EndTime, Duration, Error when `error` is set (and
 * its code non-zero), ready, and the final record.  Only the first call
 * counts. */
void
_mwatch_watch_final (mwatch_watch_t *watch, const bson_error_t *error);

/* The same, the `n` counts set first, in their order, as if each had been
 * set on its own before the end: one take of the watch's lock for all. */
void
_mwatch_watch_final_counts (mwatch_watch_t *watch,
                            const bson_error_t *error,
                            const mwatch_count_value_t *counts,
                            size_t n);

#endif
