/* The live state of a running operation, as the logging pipeline sees it:
 * an opaque handle and the three things a queue may do with it.  The
 * watchers provide it (lib/watch.c); the queue handler only calls through
 * its ops, so the pipeline knows nothing of MongoDB nor of the watchers,
 * and depends on nothing above the message. */
#ifndef MWATCH_LIVE_PRIVATE_H
#define MWATCH_LIVE_PRIVATE_H

#include "mongowatch.h"

/* What a queue listener does with a record of a running operation that
 * came out by its due time. */
typedef enum {
   MWATCH_LIVE_EMIT,    /* *out is a fresh snapshot: emit it by timeout */
   MWATCH_LIVE_REQUEUE, /* there was activity since: put it back, due *due */
   MWATCH_LIVE_DROP,    /* the operation ended; its final went its own way */
} mwatch_live_action_t;

typedef struct mwatch_live mwatch_live_t;

/* One record of a running or finished operation, taken on the
 * application's thread, from which its message can be built later (see
 * build): what the pipeline orders it by, and the provider's own counts
 * as they were when the record was made. */
typedef struct {
   int64_t iteration;
   int64_t due; /* monotonic microseconds */
   bool ready;  /* the final record */
   /* The provider's: */
   int state;
   int64_t duration_us;
   int64_t matched;
} mwatch_live_snapshot_t;

typedef struct {
   /* Takes a reference: a queued record holds one until it is freed. */
   void (*ref) (mwatch_live_t *live);
   void (*unref) (mwatch_live_t *live);
   /* Looks at the operation now.  `draining`: the queue is closing, so
    * the record leaves now whatever its due time.  With EMIT, `*out`
    * receives a snapshot for the caller to destroy, whose State is
    * "timeout"; with REQUEUE, `*due` the new due time (monotonic
    * microseconds). */
   mwatch_live_action_t (*refresh) (mwatch_live_t *live,
                                    bool draining,
                                    mwatch_message_t **out,
                                    int64_t *due);
   /* The message of the record `snap` was taken for, built now (for the
    * caller to destroy): what it would have been had it been built when
    * the record was made.  Takes the provider's lock. */
   mwatch_message_t *(*build) (mwatch_live_t *live, const mwatch_live_snapshot_t *snap);
   /* The same, for a record being logged from inside the provider, whose
    * lock the caller holds. */
   mwatch_message_t *(*build_locked) (mwatch_live_t *live, const mwatch_live_snapshot_t *snap);
} mwatch_live_ops_t;

/* The handle: the provider embeds it in its own object and finds the
 * object again from it (offsetof), so it costs one pointer. */
struct mwatch_live {
   const mwatch_live_ops_t *ops;
};

/* NULL-tolerant shorthands for the pipeline. */
static inline mwatch_live_t *
_mwatch_live_ref (mwatch_live_t *live)
{
   if (live) {
      live->ops->ref (live);
   }
   return live;
}

static inline void
_mwatch_live_unref (mwatch_live_t *live)
{
   if (live) {
      live->ops->unref (live);
   }
}

static inline mwatch_live_action_t
_mwatch_live_refresh (mwatch_live_t *live, bool draining, mwatch_message_t **out, int64_t *due)
{
   return live->ops->refresh (live, draining, out, due);
}

#endif
