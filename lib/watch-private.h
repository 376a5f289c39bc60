/* The watch engine shared by the cursor and collection watchers: the live
 * state of one operation, its WatchMessage, and when it is logged. */
#ifndef MWATCH_WATCH_PRIVATE_H
#define MWATCH_WATCH_PRIVATE_H

#include "mongowatch.h"

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

/* Accounts one call into libmongoc that took `us` microseconds and ended
 * at monotonic time `end`; with `matched`, one more document received;
 * `fetched`: the call made a round trip to the server (a new batch).
 * Logs an update when the options ask for one: with
 * emit_on_new_retrieves, only for a round trip that brought a document.
 * Lock-free unless it logs; one thread at a time calls it for a watch (as
 * libmongoc wants of the objects it is called for). */
void
_mwatch_watch_progress (
   mwatch_watch_t *watch, int64_t us, int64_t end, bool matched, bool fetched);

/* Marks a watch whose application object (a cursor) is gone, for
 * per-thread caches that may still hold it: a new object at the same
 * address is another operation. */
void
_mwatch_watch_detach (mwatch_watch_t *watch);

bool
_mwatch_watch_is_detached (const mwatch_watch_t *watch);

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
