/*
 * mongowatch queues: mwatch_queue_t, the WatchQueue, a priority queue of messages
 * by due time.
 *
 * Included by <mongowatch.h>; do not include it on its own.
 */
#ifndef MONGOWATCH_QUEUE_H
#define MONGOWATCH_QUEUE_H

#ifndef MONGOWATCH_H
#error "include <mongowatch.h>, not <mongowatch/queue.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * mwatch_queue_t: a WatchQueue.
 *
 * A priority queue of messages ordered by the time each becomes due:
 *   - a ready message is due when it is put;
 *   - a message that is not ready is due at its own due time (its timeout),
 *     or never;
 *   - default_delay_sec is added to the due time of every message that is
 *     not ready, and, with force_default_delay, to ready ones too, so that
 *     ready messages come out in the order they were put;
 *   - putting a message whose WatchID is already queued keeps only the newer
 *     iteration: the older copy is discarded, never returned.
 * Messages due at the same time come out in the order they were put.
 *
 * Thread-safe: any number of producers and consumers.  Bounded: a full
 * queue applies the overflow policy and counts what it drops.
 * ------------------------------------------------------------------------ */

typedef struct _mwatch_queue_t mwatch_queue_t;

typedef enum {
   /* The message being put is dropped (the default: the producer never
    * waits and what is queued is kept). */
   MWATCH_OVERFLOW_DROP_NEWEST = 0,
   /* The message put longest ago is dropped to make room. */
   MWATCH_OVERFLOW_DROP_OLDEST,
   /* The producer waits until there is room or the queue is closed; with
    * block_timeout_sec, at most that long (see mwatch_queue_opts_t). */
   MWATCH_OVERFLOW_BLOCK,
} mwatch_overflow_t;

#define MWATCH_QUEUE_DEFAULT_CAPACITY 65536

/* Called with each message the queue gives up without returning it (an
 * older iteration replaced, a message dropped on overflow, put after close,
 * or left at destroy), with the `data` it was put with.  The callback owns
 * the message.  With no callback the queue destroys the message. */
typedef void (*mwatch_queue_discard_cb_t) (mwatch_message_t *msg,
                                           void *data,
                                           void *user_data);

typedef struct {
   size_t capacity; /* 0: MWATCH_QUEUE_DEFAULT_CAPACITY */
   mwatch_overflow_t overflow;
   double default_delay_sec;
   bool force_default_delay;
   mwatch_queue_discard_cb_t discard;
   void *discard_user_data;
   /* If not NULL, called once with discard_user_data by
    * mwatch_queue_destroy(), after the last discard. */
   void (*discard_free_user_data) (void *);
   /* MWATCH_OVERFLOW_BLOCK: the longest a producer waits for room, after
    * which its message is dropped (and counted); 0: no limit.  Once a wait
    * ran out, later puts into the full queue drop at once, without
    * waiting, until a consumer takes a message: a stalled consumer costs
    * the producers one wait, not one per message. */
   double block_timeout_sec;
   /* A bound on the memory the queued messages take, beside `capacity`;
    * 0: none.  A message that would pass it meets the overflow policy as
    * in a full queue. */
   size_t max_bytes;
} mwatch_queue_opts_t;

/* Fills `opts` with the defaults: capacity 65536, drop newest, no delay,
 * no bound in bytes. */
MWATCH_EXPORT void
mwatch_queue_opts_init (mwatch_queue_opts_t *opts);

/* Creates a WatchQueue with `opts` (NULL: the defaults).  Never fails. */
MWATCH_EXPORT mwatch_queue_t *
mwatch_queue_new (const mwatch_queue_opts_t *opts);

/* Discards every message still queued, then frees the queue.  No thread may
 * be using the queue. */
MWATCH_EXPORT void
mwatch_queue_destroy (mwatch_queue_t *queue);

typedef enum {
   MWATCH_QUEUE_OK = 0,
   MWATCH_QUEUE_STALE,   /* put: a newer iteration is queued; discarded */
   MWATCH_QUEUE_DROPPED, /* put: the queue was full; discarded, counted */
   MWATCH_QUEUE_CLOSED,  /* put: closed, discarded; get: closed and empty */
   MWATCH_QUEUE_TIMEOUT, /* get: nothing became due in time */
} mwatch_queue_status_t;

/* Puts `msg`, which the queue now owns, with an opaque `data` pointer that
 * comes back with it.  Never blocks unless the overflow policy is BLOCK and
 * the queue is full.  Every status but OK means `msg` was discarded. */
MWATCH_EXPORT mwatch_queue_status_t
mwatch_queue_put (mwatch_queue_t *queue, mwatch_message_t *msg, void *data);

/* Waits until a message is due and takes it: the caller owns *msg.
 * Returns MWATCH_QUEUE_OK with the message in *msg and its data in *data.
 * After mwatch_queue_close() it returns what is left at once, due or not,
 * in order, then MWATCH_QUEUE_CLOSED.  `data` may be NULL.
 *
 * While messages come densely (the last two taken less than 2 ms apart),
 * a waiting consumer looks again after 2 ms, and a put it will find that
 * way does not wake it: a message may then be taken up to 2 ms after it
 * is due, and producers make no system call.  Any other put that
 * makes a message due before the consumer would look wakes it. */
MWATCH_EXPORT mwatch_queue_status_t
mwatch_queue_get (mwatch_queue_t *queue, mwatch_message_t **msg, void **data);

/* Waits at most `timeout_sec` for a message: as mwatch_queue_get(), but
 * gives up with MWATCH_QUEUE_TIMEOUT after
 * `timeout_sec` seconds (0: do not wait). */
MWATCH_EXPORT mwatch_queue_status_t
mwatch_queue_get_timeout (mwatch_queue_t *queue,
                          double timeout_sec,
                          mwatch_message_t **msg,
                          void **data);

/* Closes the queue: later puts are discarded, every waiting thread wakes,
 * and gets drain what is left without waiting for due times. */
MWATCH_EXPORT void
mwatch_queue_close (mwatch_queue_t *queue);

typedef struct {
   size_t size;       /* messages queued now */
   size_t capacity;
   uint64_t put;      /* puts accepted (replacements included) */
   uint64_t replaced; /* older iterations discarded for a newer one */
   uint64_t stale;    /* puts discarded because a newer one was queued */
   uint64_t dropped;  /* messages lost to the overflow policy */
   /* Of `dropped`, the ready ones: for a watcher's queue, final records,
    * i.e. operations missing from the log altogether. */
   uint64_t dropped_ready;
   size_t bytes;     /* memory the queued messages take now */
   size_t max_bytes; /* the bound on it, 0 for none */
} mwatch_queue_stats_t;

/* Fills `stats` with the queue's counters and sizes, taken at once. */
MWATCH_EXPORT void
mwatch_queue_stats (mwatch_queue_t *queue, mwatch_queue_stats_t *stats);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_QUEUE_H */
