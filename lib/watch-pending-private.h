/* Internal: operations whose first record is held back (watch-pending.c).
 *
 * A running operation's first record, when it would reach only the
 * library's queues, is there for one thing: to time the operation out
 * should it go quiet.  Most operations end long before that, and their
 * final record replaces the first in the queue.  So instead of queueing
 * the first record at once, the watch registers itself here (a short,
 * rarely contended lock and two pointers), and takes itself out again
 * when it logs its next record.  A background thread looks at the
 * operations registered for longer than MWATCH_PENDING_AGE_US and logs
 * their first record then ("promotes" them), in time for their timeout;
 * so does mwatch_shutdown, before the queues drain, for every operation
 * still registered. */
#ifndef MWATCH_WATCH_PENDING_PRIVATE_H
#define MWATCH_WATCH_PENDING_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

/* How long a first record may be held back, and how often the
 * background thread looks: a watch may use this only when its timeout is
 * at least MWATCH_PENDING_MIN_TIMEOUT_SEC (or never). */
#define MWATCH_PENDING_AGE_US 500000
#define MWATCH_PENDING_SCAN_US 250000
#define MWATCH_PENDING_MIN_TIMEOUT_SEC 2.0
/* How long mwatch_shutdown waits for an operation's lock to promote its
 * first record (as long as a queue waits for its listener at close). */
#define MWATCH_PENDING_SHUTDOWN_WAIT_US 5000000

typedef struct mwatch_pending_node mwatch_pending_node_t;
typedef struct mwatch_pending_hand mwatch_pending_hand_t;

typedef struct {
   /* Takes a reference to the node's owner, for the registry. */
   void (*ref) (mwatch_pending_node_t *node);
   /* Logs the held-back record, if the owner still wants it logged, then
    * drops the registry's reference.  Called with no lock of the
    * registry's held, on the background thread or in mwatch_shutdown.
    * With a `deadline` (monotonic; 0: none) it waits no longer for the
    * owner's lock: false when it gave up (the reference is dropped). */
   bool (*promote) (mwatch_pending_node_t *node, int64_t deadline);
   /* Drops the registry's reference without logging and without taking
    * the owner's lock: in a child of fork(). */
   void (*forget) (mwatch_pending_node_t *node);
} mwatch_pending_ops_t;

/* Embedded in its owner (a watch).  The registry's own fields. */
struct mwatch_pending_node {
   mwatch_pending_node_t *prev;
   mwatch_pending_node_t *next;
   const mwatch_pending_ops_t *ops;
   int64_t since; /* monotonic */
   /* The thread's hand it went to, or NULL: then in a shard. */
   mwatch_pending_hand_t *hand;
   unsigned shard;
   bool linked; /* guarded by its shard's lock */
};

/* Registers `node`, taking a reference through ops->ref. */
void
_mwatch_pending_add (mwatch_pending_node_t *node, const mwatch_pending_ops_t *ops);

/* Takes `node` out if it is still registered: true then, and the caller
 * owns the registry's reference; false when the background thread took it
 * out first (and will call ops->promote). */
bool
_mwatch_pending_remove (mwatch_pending_node_t *node);

#endif /* MWATCH_WATCH_PENDING_PRIVATE_H */
