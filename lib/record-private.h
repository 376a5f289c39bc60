/* What the logging pipeline knows of a record beyond the public
 * mwatch_record_t.  It travels beside the record through the internal
 * entry points (dispatch, _mwatch_handler_handle, the queue handler's
 * emit), never inside it: a record a user built and passed to a public
 * function (mwatch_handler_handle, mwatch_filter_apply, ...) has no
 * private part to find, and those functions treat it as plain
 * (MWATCH_RECORD_PRIV_PLAIN). */
#ifndef MWATCH_RECORD_PRIVATE_H
#define MWATCH_RECORD_PRIVATE_H

#include "live-private.h"
#include "message-private.h"

/* A record whose message is not built yet (the watchers' records): built
 * on the application's thread only when a logger filter or a handler that
 * is not a queue of the library's wants it, otherwise by the queue's
 * listener when the record leaves the queue. */
typedef struct {
   const bson_oid_t *oid;
   mwatch_live_snapshot_t snap;
   /* Bytes the operation holds, charged to a queue that keeps the record. */
   size_t charged;
   /* A record made earlier and logged now, on another thread (a first
    * record held back, watch-pending-private.h): when and where it was
    * made (realtime; the thread's id), and that it goes to queues alone,
    * for their bookkeeping, as it would have when it was made. */
   int64_t created; /* 0: now, on this thread */
   int64_t thread;
   bool queues_only;
} mwatch_lazy_record_t;

typedef struct {
   /* The live state of the operation, which a queue consults before it
    * emits the record by timeout; NULL for none. */
   mwatch_live_t *live;
   /* The record is below its logger's effective level.  As in Python it
    * reaches no handler, except a deferred one (a queue), which keeps it
    * only to schedule the operation's timeout and never emits it as it
    * is. */
   bool below_level;
   /* The record's message belongs to this record alone (a queue's copy
    * on its listener), so filters may change it in place; otherwise a
    * handler's filters work on a copy of their own. */
   bool owned;
   /* Set when the record's message (record->watch) is not built yet:
    * then `live` builds it (see live-private.h). */
   const mwatch_lazy_record_t *lazy;
} mwatch_record_priv_t;

/* A record from outside the pipeline: no live state, at or above its
 * level, its message not its own. */
#define MWATCH_RECORD_PRIV_PLAIN \
   ((mwatch_record_priv_t) {.live = NULL, .below_level = false, .owned = false, .lazy = NULL})

#endif
