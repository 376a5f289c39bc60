/* WatchQueue internals other parts of the library need: the fork() hooks,
 * called from the queue handlers' (handler-queue.c, fork-private.h). */
#ifndef MWATCH_QUEUE_PRIVATE_H
#define MWATCH_QUEUE_PRIVATE_H

#include "mongowatch.h"

/* Before fork(): takes the queue's lock, so that the child never inherits
 * the queue half-changed.  Producers and consumers waiting on the queue do
 * not hold the lock, so this never waits for them. */
void
_mwatch_queue_fork_prepare (mwatch_queue_t *queue);

/* In the parent after fork(): releases the lock. */
void
_mwatch_queue_fork_parent (mwatch_queue_t *queue);

/* In the child after fork(), where only the forking thread lives on:
 * rebuilds the lock and condition variables, forgets the parent's waiting
 * threads, and discards every queued message (the parent still owns and
 * will deliver the originals).  The queue stays closed if it was.  Returns
 * whether it is open. */
bool
_mwatch_queue_fork_child (mwatch_queue_t *queue);

/* How long a waiting consumer sleeps while messages come densely (the
 * last two taken less than this apart), and how late a put it will find
 * that way may be taken without waking it.  2 ms: half the wake-ups of
 * 1 ms in a steady stream, and streams of 500-1,000 records a second
 * count as dense (with 1 ms each of their records woke the consumer),
 * while a record still reaches its handler well within the 5 ms that
 * doc/PERFORMANCE.md holds as the bound. */
#define MWATCH_QUEUE_LINGER_US 2000

/* mwatch_queue_put, except that a wake-up the put owes a sleeping consumer
 * is not sent: *owed says whether one is, and the caller sends it with
 * _mwatch_queue_wake, soon (the record waits for it).  For a producer that
 * still holds a lock the consumer will want for this record. */
mwatch_queue_status_t
_mwatch_queue_put_owing (mwatch_queue_t *queue, mwatch_message_t *msg, void *data, bool *owed);

void
_mwatch_queue_wake (mwatch_queue_t *queue);

/* For tests: how many times a put woke a consumer (a sleeping one: a put
 * while every consumer is busy wakes none), and when the leading
 * consumer wakes by itself (0: no consumer leads). */
uint64_t
_mwatch_queue_put_wakeups (mwatch_queue_t *queue);

int64_t
_mwatch_queue_leader_until (mwatch_queue_t *queue);

/* stats.dropped without the lock, for a listener's check per idle turn:
 * as new as the caller's last get at least. */
uint64_t
_mwatch_queue_dropped (mwatch_queue_t *queue);

/* How many of the queued messages are ready (a scan: for reports). */
uint64_t
_mwatch_queue_count_ready (mwatch_queue_t *queue);

/* mwatch_queue_get_timeout (queue, 0, msg, data) for the listener, which
 * asks after every record: an empty queue is answered with the lock's
 * take and release alone, without the checks and bookkeeping of a get
 * (on a sparse stream the queue is empty every time).  msg and data must
 * not be NULL.  A message taken sets `*alone` (see _mwatch_queue_wait). */
mwatch_queue_status_t
_mwatch_queue_poll (mwatch_queue_t *queue, mwatch_message_t **msg, void **data, bool *alone);

/* mwatch_queue_get_timeout (a negative timeout: mwatch_queue_get) for
 * the listener.  A message taken sets `*alone` (unless NULL): it left
 * the queue empty on a sparse stream (it came MWATCH_QUEUE_LINGER_US or
 * more after the one taken before), so that a poll after it would most
 * likely find nothing.  msg and data must not be NULL. */
mwatch_queue_status_t
_mwatch_queue_wait (mwatch_queue_t *queue,
                    double timeout_sec,
                    mwatch_message_t **msg,
                    void **data,
                    bool *alone);

/* The calling thread's puts into a full MWATCH_OVERFLOW_BLOCK queue drop
 * at once (counted) instead of waiting: for queue listeners, which would
 * otherwise wait for room only they can make. */
void
_mwatch_queue_thread_never_waits (void);

#endif
