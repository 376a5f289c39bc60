/* mwatch_queue_t: the WatchQueue.  The data structure is in queue-store.c;
 * this file adds the due-time rules, the locking and waiting, and the
 * overflow policies.
 *
 * Consumers follow a leader/follower scheme: at most one consumer (the
 * leader) sleeps until the top entry is due, the others sleep until woken.
 * A put that makes a new top deposes the leader and wakes one consumer, and
 * a consumer leaving while there is no leader wakes one to take over, so
 * puts of ordinary messages never wake every consumer at once.
 *
 * Waking a consumer is a system call on the producer's thread and a
 * context switch, which would cost an application more than the rest of a
 * put.  So the leader never sleeps long without a deadline: at most
 * IDLE_US, and LINGER_US while messages come densely (the last two were
 * taken less than LINGER_US apart; a sparser stream would pay a timer
 * wake-up or two per message instead of one put's wake-up, and timer
 * wake-ups cost as much).  A put whose message the leader will find in time
 * anyway (due after the leader wakes, or ready and the leader wakes
 * within LINGER_US) wakes nobody, and neither does one made while no
 * consumer sleeps (a busy listener looks again before it sleeps).  Under a steady stream the producers
 * then never wake the consumer, which takes what came every LINGER_US; a
 * running operation's record, due only at its timeout, never wakes it. */
#include "thread-private.h"
#include "message-private.h"
#include "queue-private.h"
#include "queue-store-private.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct _mwatch_queue_t {
   pthread_mutex_t mutex;
   /* Consumers wait on this futex word for a new top, a baton, or close
    * (due_sleep, due_wake): bumped by whoever wakes them.  Not a condition
    * variable: glibc's takes the mutex back from a wait marked contended,
    * so that every wake-up cost the consumer a second FUTEX_WAKE system
    * call, with nobody to wake, at its next unlock. */
   _Atomic uint32_t due_seq;
   size_t due_sleepers;      /* consumers in due_sleep, under the mutex */
   pthread_cond_t room_cond; /* BLOCK producers: room, or close */
   mwatch_qstore_t store;

   /* Fixed at creation, so read without the lock. */
   size_t capacity;
   size_t max_bytes; /* 0: no bound in bytes */
   mwatch_overflow_t overflow;
   int64_t block_timeout_us; /* MWATCH_DUE_NEVER: wait for room forever */
   int64_t delay_us;
   bool force_delay;
   mwatch_queue_discard_cb_t discard;
   void *discard_user_data;
   void (*discard_free_user_data) (void *);

   bool closed;
   const void *leader;   /* the leading consumer's token, or NULL */
   int64_t leader_until; /* when the leader wakes by itself */
   int64_t last_take;    /* monotonic time of the last message taken */
   int64_t take_gap;     /* between the last two takes */
   size_t blocked_producers;
   uint64_t put_wakeups; /* wake-ups puts sent a sleeping consumer, for tests */
   /* A put deposed the leader: it wakes a sleeping consumer once it has
    * let go of the mutex, so that the consumer it wakes does not wake only
    * to wait for the mutex and be woken again by the unlock. */
   bool wake_after_put;
   /* A blocked put ran out of time and no message was taken since: puts
    * into the full queue drop at once rather than each waiting again. */
   bool stalled;
   /* stats.bytes: what the queued messages take; stats.dropped is not
    * kept here but in `dropped` */
   mwatch_queue_stats_t stats;
   /* The drops: counted under the mutex, read without it too (a
    * listener's check on every idle turn). */
   _Atomic uint64_t dropped;
};

/* Set on a listener's thread: its puts never wait for room, since the
 * room could only come from itself. */
static _Thread_local bool never_wait;

void
_mwatch_queue_thread_never_waits (void)
{
   never_wait = true;
}

/* See the top of the file. */
#define IDLE_US 1000000
#define LINGER_US MWATCH_QUEUE_LINGER_US

/* A message the queue gives up, held until the lock is released so that a
 * slow discard callback never stalls other producers and consumers. */
typedef struct {
   mwatch_message_t *msg;
   void *data;
} queue_reject_t;

/* ------------------------------------------------------------------------
 * Time arithmetic on the monotonic clock, saturating at MWATCH_DUE_NEVER.
 * ------------------------------------------------------------------------ */

/* Seconds to microseconds; NaN and negatives are 0, huge values never. */
static int64_t
seconds_to_us (double seconds)
{
   if (!(seconds > 0)) {
      return 0;
   }
   if (seconds >= (double) MWATCH_DUE_NEVER / 1e6) {
      return MWATCH_DUE_NEVER;
   }
   return (int64_t) (seconds * 1e6);
}

static int64_t
time_add (int64_t t, int64_t us)
{
   if (t == MWATCH_DUE_NEVER || us == MWATCH_DUE_NEVER ||
       (t > 0 && us >= MWATCH_DUE_NEVER - t)) {
      return MWATCH_DUE_NEVER;
   }
   return t + us;
}

/* The caller holds the lock: "now" for a ready message is then taken in the
 * same order as the sequence numbers, so that with force_default_delay the
 * due times of ready messages never contradict their put order.  So ready
 * messages are put in order of due time, and the store keeps them in its
 * FIFO rather than its heap. */
static inline int64_t
queue_due (const mwatch_queue_t *queue, const mwatch_message_t *msg, bool ready)
{
   if (ready) {
      int64_t now = mwatch_monotonic_us ();
      return queue->force_delay ? time_add (now, queue->delay_us) : now;
   }
   return time_add (mwatch_message_due (msg), queue->delay_us);
}

/* Waits on `cond` until woken or, unless never, until `until`. */
static void
queue_wait (mwatch_queue_t *queue, pthread_cond_t *cond, int64_t until)
{
   if (until == MWATCH_DUE_NEVER) {
      pthread_cond_wait (cond, &queue->mutex);
      return;
   }
   struct timespec ts = _mwatch_timespec_at (until);
   pthread_cond_timedwait (cond, &queue->mutex, &ts);
}

/* A consumer's wait for the top to come due, a baton or close: until woken
 * or, unless never, until `until`.  The caller holds the mutex, which is
 * let go of meanwhile.  The word is read under the mutex: whoever changes
 * what the consumer waits for does so under the mutex and bumps the word
 * after, so the change is either seen before sleeping or ends the sleep. */
static void
due_sleep (mwatch_queue_t *queue, int64_t until)
{
   uint32_t seq = atomic_load_explicit (&queue->due_seq, memory_order_relaxed);
   struct timespec ts;
   const struct timespec *at = NULL;
   if (until != MWATCH_DUE_NEVER) {
      ts = _mwatch_timespec_at (until); /* absolute, CLOCK_MONOTONIC */
      at = &ts;
   }
   queue->due_sleepers++;
   pthread_mutex_unlock (&queue->mutex);
   /* Returns when woken, at `until`, on a signal, or at once when the word
    * moved on: each is a look again for the caller. */
   syscall (SYS_futex, &queue->due_seq, FUTEX_WAIT_BITSET_PRIVATE, seq, at, NULL,
            FUTEX_BITSET_MATCH_ANY);
   pthread_mutex_lock (&queue->mutex);
   queue->due_sleepers--;
}

/* Wakes up to `count` consumers in due_sleep (INT_MAX: all), with or
 * without the mutex.  The caller saw a sleeper under the mutex: with none
 * there is no system call to make. */
static void
due_wake (mwatch_queue_t *queue, int count)
{
   atomic_fetch_add_explicit (&queue->due_seq, 1, memory_order_release);
   syscall (SYS_futex, &queue->due_seq, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

/* ------------------------------------------------------------------------
 * Construction.
 * ------------------------------------------------------------------------ */

void
mwatch_queue_opts_init (mwatch_queue_opts_t *opts)
{
   BSON_ASSERT_PARAM (opts);
   memset (opts, 0, sizeof *opts);
   opts->capacity = MWATCH_QUEUE_DEFAULT_CAPACITY;
   opts->overflow = MWATCH_OVERFLOW_DROP_NEWEST;
}

static void
queue_init_sync (mwatch_queue_t *queue)
{
   /* Due times are monotonic. */
   atomic_init (&queue->due_seq, 0);
   queue->due_sleepers = 0;
   _mwatch_cond_init_monotonic (&queue->room_cond);
   pthread_mutex_init (&queue->mutex, NULL);
}

mwatch_queue_t *
mwatch_queue_new (const mwatch_queue_opts_t *opts)
{
   mwatch_queue_opts_t defaults;
   if (!opts) {
      mwatch_queue_opts_init (&defaults);
      opts = &defaults;
   }

   mwatch_queue_t *queue = bson_malloc0 (sizeof *queue);
   queue->capacity =
      opts->capacity ? opts->capacity : MWATCH_QUEUE_DEFAULT_CAPACITY;
   /* An unknown policy falls back to the default, which never blocks. */
   queue->overflow = (opts->overflow == MWATCH_OVERFLOW_DROP_OLDEST ||
                      opts->overflow == MWATCH_OVERFLOW_BLOCK)
                        ? opts->overflow
                        : MWATCH_OVERFLOW_DROP_NEWEST;
   queue->max_bytes = opts->max_bytes;
   queue->block_timeout_us = opts->block_timeout_sec > 0 ? seconds_to_us (opts->block_timeout_sec)
                                                         : MWATCH_DUE_NEVER;
   queue->delay_us = seconds_to_us (opts->default_delay_sec);
   queue->force_delay = opts->force_default_delay;
   queue->discard = opts->discard;
   queue->discard_user_data = opts->discard_user_data;
   queue->discard_free_user_data = opts->discard_free_user_data;
   queue->stats.capacity = queue->capacity;
   queue->stats.max_bytes = queue->max_bytes;

   queue_init_sync (queue);
   _mwatch_qstore_init (&queue->store, queue->capacity);
   return queue;
}

static void
queue_discard (const mwatch_queue_t *queue, const queue_reject_t *rejected)
{
   if (!rejected->msg) {
      return;
   }
   if (queue->discard) {
      queue->discard (rejected->msg, rejected->data, queue->discard_user_data);
   } else {
      mwatch_message_destroy (rejected->msg);
   }
}

/* Every removal from the store goes through here, for the byte count. */
static void
queue_remove (mwatch_queue_t *queue, size_t slot, mwatch_message_t **msg, void **data)
{
   queue->stats.bytes -= queue->store.slots[slot].bytes;
   _mwatch_qstore_remove (&queue->store, slot, msg, data);
}

/* Only for a queue no other thread can reach: the callback runs without
 * the lock. */
static void
queue_discard_all (mwatch_queue_t *queue)
{
   while (queue->store.count) {
      queue_reject_t left;
      queue_remove (queue, queue->store.oldest, &left.msg, &left.data);
      queue_discard (queue, &left);
   }
}

void
mwatch_queue_destroy (mwatch_queue_t *queue)
{
   if (!queue) {
      return;
   }
   queue_discard_all (queue);
   /* After the last discard, which may still use it. */
   if (queue->discard_free_user_data) {
      queue->discard_free_user_data (queue->discard_user_data);
   }
   _mwatch_qstore_destroy (&queue->store);
   pthread_cond_destroy (&queue->room_cond);
   pthread_mutex_destroy (&queue->mutex);
   bson_free (queue);
}

/* ------------------------------------------------------------------------
 * Put.
 * ------------------------------------------------------------------------ */

/* An entry that became the top may be due before the leader wakes: depose
 * the leader and wake one consumer to time the new top.  `ready`: the
 * entry is a ready message, due at the time of its put, which is no later
 * than now unless the delay is forced (no clock read needed then). */
static inline __attribute__ ((always_inline)) void
queue_top_changed (mwatch_queue_t *queue, size_t slot, bool ready)
{
   if (_mwatch_qstore_top (&queue->store) != slot) {
      return;
   }
   int64_t due = queue->store.slots[slot].due;
   if (queue->leader && (due >= queue->leader_until ||
                         (queue->leader_until - due <= LINGER_US &&
                          ((ready && !queue->force_delay) ||
                           due <= mwatch_monotonic_us ())))) {
      return; /* the leader wakes in time for it */
   }
   queue->leader = NULL;
   queue->wake_after_put = true;
}

static mwatch_queue_status_t
queue_reject (queue_reject_t *rejected,
              mwatch_message_t *msg,
              void *data,
              mwatch_queue_status_t status)
{
   rejected->msg = msg;
   rejected->data = data;
   return status;
}

/* What a put knows of its message before it takes the lock: its size
 * (counted once per put; the store keeps it for the removal) and the hash
 * of its WatchID (for the lookup and the insert). */
typedef struct {
   size_t bytes;
   uint64_t hash;
} queue_put_facts_t;

/* Inlined into queue_admit, the put's hot path: a call and its saved
 * registers cost about as much as the insert's own bookkeeping. */
static inline __attribute__ ((always_inline)) mwatch_queue_status_t
queue_insert (mwatch_queue_t *queue,
              mwatch_message_t *msg,
              void *data,
              const queue_put_facts_t *facts)
{
   bool ready = mwatch_message_is_ready (msg);
   size_t slot = _mwatch_qstore_insert (
      &queue->store, msg, data, facts->hash, queue_due (queue, msg, ready), ready);
   queue->store.slots[slot].bytes = facts->bytes;
   queue->stats.bytes += facts->bytes;
   queue->stats.put++;
   queue_top_changed (queue, slot, ready);
   return MWATCH_QUEUE_OK;
}

static mwatch_queue_status_t
queue_replace (mwatch_queue_t *queue,
               size_t slot,
               mwatch_message_t *msg,
               void *data,
               size_t bytes,
               queue_reject_t *rejected)
{
   const mwatch_message_t *queued = queue->store.slots[slot].msg;
   /* The queue owns what it holds: the same pointer again is a caller bug
    * that would otherwise end in a use after free. */
   BSON_ASSERT (msg != queued);
   if (mwatch_message_iteration (msg) < mwatch_message_iteration (queued)) {
      queue->stats.stale++;
      return queue_reject (rejected, msg, data, MWATCH_QUEUE_STALE);
   }
   bool ready = mwatch_message_is_ready (msg);
   queue->stats.bytes -= queue->store.slots[slot].bytes;
   _mwatch_qstore_replace (&queue->store,
                           slot,
                           msg,
                           data,
                           queue_due (queue, msg, ready),
                           ready,
                           &rejected->msg,
                           &rejected->data);
   queue->store.slots[slot].bytes = bytes;
   queue->stats.bytes += bytes;
   queue->stats.put++;
   queue->stats.replaced++;
   queue_top_changed (queue, slot, ready);
   return MWATCH_QUEUE_OK;
}

/* Whether a message of `bytes` finds no room: the queue holds `capacity`
 * messages, or taking it would pass the bound in bytes (a message larger
 * than the bound still goes into an empty queue, rather than never). */
static bool
queue_full (const mwatch_queue_t *queue, size_t bytes)
{
   return queue->store.count >= queue->capacity ||
          (queue->max_bytes && queue->store.count &&
           queue->stats.bytes + bytes > queue->max_bytes);
}

static void
count_drop (mwatch_queue_t *queue, const mwatch_message_t *msg)
{
   atomic_fetch_add_explicit (&queue->dropped, 1, memory_order_relaxed);
   if (mwatch_message_is_ready (msg)) {
      queue->stats.dropped_ready++;
   }
}

/* Everything a put decides, under the lock; a replacement needs no room,
 * so the WatchID is looked up before the queue is found full. */
static mwatch_queue_status_t
queue_admit (mwatch_queue_t *queue,
             mwatch_message_t *msg,
             void *data,
             const queue_put_facts_t *facts,
             queue_reject_t *rejected)
{
   size_t bytes = facts->bytes;
   const bson_oid_t *oid = mwatch_message_oid (msg);
   int64_t give_up = MWATCH_DUE_NEVER; /* a blocked put's deadline */
   for (;;) {
      if (queue->closed) {
         return queue_reject (rejected, msg, data, MWATCH_QUEUE_CLOSED);
      }
      size_t slot = _mwatch_qstore_find (&queue->store, oid, facts->hash);
      if (slot != MWATCH_QSTORE_NONE) {
         return queue_replace (queue, slot, msg, data, bytes, rejected);
      }
      if (!queue_full (queue, bytes)) {
         return queue_insert (queue, msg, data, facts);
      }
      switch (queue->overflow) {
      case MWATCH_OVERFLOW_DROP_OLDEST:
         /* One out for one in: under the bound in bytes the queue may
          * then pass it by this one message. */
         queue_remove (queue, queue->store.oldest, &rejected->msg, &rejected->data);
         count_drop (queue, rejected->msg);
         return queue_insert (queue, msg, data, facts);
      case MWATCH_OVERFLOW_BLOCK:
         if (give_up == MWATCH_DUE_NEVER) {
            give_up = time_add (mwatch_monotonic_us (), queue->block_timeout_us);
         }
         if (never_wait || queue->stalled || mwatch_monotonic_us () >= give_up) {
            queue->stalled = true;
            count_drop (queue, msg);
            return queue_reject (rejected, msg, data, MWATCH_QUEUE_DROPPED);
         }
         queue->blocked_producers++;
         queue_wait (queue, &queue->room_cond, give_up);
         queue->blocked_producers--;
         break;
      case MWATCH_OVERFLOW_DROP_NEWEST:
         count_drop (queue, msg);
         return queue_reject (rejected, msg, data, MWATCH_QUEUE_DROPPED);
      }
   }
}

/* The put; a wake-up it owes a sleeping consumer is sent now, or left to
 * the caller in *owed (see queue-private.h). */
static mwatch_queue_status_t
queue_put (mwatch_queue_t *queue, mwatch_message_t *msg, void *data, bool *owed)
{
   BSON_ASSERT_PARAM (queue);
   BSON_ASSERT_PARAM (msg);
   queue_reject_t rejected = {NULL, NULL};
   /* Outside the lock: the caller owns msg until the put. */
   const queue_put_facts_t facts = {
      .bytes = _mwatch_message_bytes (msg),
      .hash = _mwatch_qstore_hash (mwatch_message_oid (msg)),
   };

   pthread_mutex_lock (&queue->mutex);
   mwatch_queue_status_t status = queue_admit (queue, msg, data, &facts, &rejected);
   /* A woken producer may not have used the room it was woken for (its put
    * became a replacement, or another producer came first): pass it on. */
   if (queue->blocked_producers && !queue_full (queue, facts.bytes)) {
      pthread_cond_signal (&queue->room_cond);
   }
   /* Only a consumer that sleeps needs waking: one that is busy (the
    * listener writing) looks at the queue again before it sleeps, so a
    * busy listener costs its producers no system call at all. */
   bool wake = queue->wake_after_put && queue->due_sleepers;
   queue->wake_after_put = false;
   if (wake) {
      queue->put_wakeups++;
   }
   pthread_mutex_unlock (&queue->mutex);
   if (wake) {
      /* The leader is deposed under the mutex: a consumer that comes to
       * wait meanwhile leads and sees the new top; one already waiting
       * gets this wake-up. */
      if (owed) {
         *owed = true;
      } else {
         due_wake (queue, 1);
      }
   }

   queue_discard (queue, &rejected);
   return status;
}

mwatch_queue_status_t
mwatch_queue_put (mwatch_queue_t *queue, mwatch_message_t *msg, void *data)
{
   return queue_put (queue, msg, data, NULL);
}

mwatch_queue_status_t
_mwatch_queue_put_owing (mwatch_queue_t *queue, mwatch_message_t *msg, void *data, bool *owed)
{
   *owed = false;
   return queue_put (queue, msg, data, owed);
}

void
_mwatch_queue_wake (mwatch_queue_t *queue)
{
   due_wake (queue, 1);
}

/* ------------------------------------------------------------------------
 * Get.
 * ------------------------------------------------------------------------ */

/* Sleeps until woken or the deadline; as the leader — when no consumer
 * leads and the top comes due before the deadline — until the top is due. */
static void
queue_wait_due (mwatch_queue_t *queue,
                size_t top,
                int64_t now,
                int64_t deadline,
                const void *token)
{
   int64_t until = deadline;
   if (!queue->leader) {
      bool dense = queue->take_gap < LINGER_US && now - queue->last_take < LINGER_US;
      int64_t bound = now + (dense ? LINGER_US : IDLE_US);
      if (top != MWATCH_QSTORE_NONE && queue->store.slots[top].due < bound) {
         bound = queue->store.slots[top].due;
      }
      if (bound <= deadline) {
         queue->leader = token;
         queue->leader_until = bound;
         until = bound;
      }
   }
   due_sleep (queue, until);
   if (queue->leader == token) {
      queue->leader = NULL;
   }
}

/* The deadline of a get that must not wait: before every clock reading. */
#define DEADLINE_NOW INT64_MIN

/* `*alone` (unless NULL), for a message taken: it left the queue empty
 * and came LINGER_US or more after the one taken before (a sparse
 * stream), so that the listener has nothing to look for before it
 * flushes (see listen_loop). */
static mwatch_queue_status_t
queue_take (mwatch_queue_t *queue,
            int64_t deadline,
            mwatch_message_t **msg,
            void **data,
            bool *alone)
{
   char token; /* its address tells this call from other consumers */
   for (;;) {
      size_t top = _mwatch_qstore_top (&queue->store);
      /* A poll of an empty queue needs no clock: the listener makes one
       * after every record, and on a sparse stream it finds nothing. */
      if (top == MWATCH_QSTORE_NONE && !queue->closed && deadline == DEADLINE_NOW) {
         return MWATCH_QUEUE_TIMEOUT;
      }
      int64_t now = mwatch_monotonic_us ();
      if (top != MWATCH_QSTORE_NONE &&
          (queue->closed || queue->store.slots[top].due <= now)) {
         queue_remove (queue, top, msg, data);
         queue->stalled = false; /* there is a consumer: room will come */
         queue->take_gap = now - queue->last_take;
         queue->last_take = now;
         if (alone) {
            *alone = queue->store.count == 0 && queue->take_gap >= LINGER_US;
         }
         return MWATCH_QUEUE_OK;
      }
      if (queue->closed) {
         return MWATCH_QUEUE_CLOSED;
      }
      if (deadline <= now) {
         return MWATCH_QUEUE_TIMEOUT;
      }
      queue_wait_due (queue, top, now, deadline, &token);
   }
}

/* A get's part under the mutex, which it lets go of. */
static inline __attribute__ ((always_inline)) mwatch_queue_status_t
queue_get_locked (mwatch_queue_t *queue,
                  int64_t deadline,
                  mwatch_message_t **msg,
                  void **data,
                  bool *alone)
{
   mwatch_queue_status_t status = queue_take (queue, deadline, msg, data, alone);
   /* Whoever leaves with entries queued and no leader hands the timing of
    * the top to a sleeping consumer. */
   if (!queue->leader && queue->store.count && queue->due_sleepers) {
      due_wake (queue, 1);
   }
   /* Blocked producers are woken together once the queue is half empty,
    * not one per message taken: with many producers, a wake-up per take
    * cost the consumer more than the writing (64 threads: 69,000 records
    * a second, against 156,000 with 16; see bench/overflow.c). */
   if (status == MWATCH_QUEUE_OK && queue->blocked_producers &&
       queue->store.count <= queue->capacity / 2 &&
       (!queue->max_bytes || queue->stats.bytes <= queue->max_bytes / 2)) {
      pthread_cond_broadcast (&queue->room_cond);
   }
   pthread_mutex_unlock (&queue->mutex);
   return status;
}

static mwatch_queue_status_t
queue_get_until (mwatch_queue_t *queue,
                 int64_t deadline,
                 mwatch_message_t **msg,
                 void **data,
                 bool *alone)
{
   BSON_ASSERT_PARAM (queue);
   BSON_ASSERT_PARAM (msg);
   void *unused;
   if (!data) {
      data = &unused;
   }
   *msg = NULL;
   *data = NULL;

   pthread_mutex_lock (&queue->mutex);
   return queue_get_locked (queue, deadline, msg, data, alone);
}

mwatch_queue_status_t
mwatch_queue_get (mwatch_queue_t *queue, mwatch_message_t **msg, void **data)
{
   return queue_get_until (queue, MWATCH_DUE_NEVER, msg, data, NULL);
}

mwatch_queue_status_t
mwatch_queue_get_timeout (mwatch_queue_t *queue,
                          double timeout_sec,
                          mwatch_message_t **msg,
                          void **data)
{
   /* No wait at all: no clock read for the deadline. */
   int64_t deadline = timeout_sec > 0 ? time_add (mwatch_monotonic_us (), seconds_to_us (timeout_sec))
                                      : DEADLINE_NOW;
   return queue_get_until (queue, deadline, msg, data, NULL);
}

mwatch_queue_status_t
_mwatch_queue_wait (mwatch_queue_t *queue,
                    double timeout_sec,
                    mwatch_message_t **msg,
                    void **data,
                    bool *alone)
{
   int64_t deadline = timeout_sec < 0   ? MWATCH_DUE_NEVER
                      : timeout_sec > 0 ? time_add (mwatch_monotonic_us (), seconds_to_us (timeout_sec))
                                        : DEADLINE_NOW;
   /* The listener's own arguments: none to check. */
   *msg = NULL;
   *data = NULL;
   pthread_mutex_lock (&queue->mutex);
   return queue_get_locked (queue, deadline, msg, data, alone);
}

mwatch_queue_status_t
_mwatch_queue_poll (mwatch_queue_t *queue, mwatch_message_t **msg, void **data, bool *alone)
{
   *msg = NULL;
   *data = NULL;
   pthread_mutex_lock (&queue->mutex);
   /* Empty and open: what queue_take answers at once, and with nothing
    * queued queue_get_locked has nobody to wake. */
   if (_mwatch_qstore_top (&queue->store) == MWATCH_QSTORE_NONE && !queue->closed) {
      pthread_mutex_unlock (&queue->mutex);
      return MWATCH_QUEUE_TIMEOUT;
   }
   return queue_get_locked (queue, DEADLINE_NOW, msg, data, alone);
}

/* ------------------------------------------------------------------------
 * Close and stats.
 * ------------------------------------------------------------------------ */

void
mwatch_queue_close (mwatch_queue_t *queue)
{
   BSON_ASSERT_PARAM (queue);
   pthread_mutex_lock (&queue->mutex);
   queue->closed = true;
   due_wake (queue, INT_MAX);
   pthread_cond_broadcast (&queue->room_cond);
   pthread_mutex_unlock (&queue->mutex);
}

void
mwatch_queue_stats (mwatch_queue_t *queue, mwatch_queue_stats_t *stats)
{
   BSON_ASSERT_PARAM (queue);
   BSON_ASSERT_PARAM (stats);
   pthread_mutex_lock (&queue->mutex);
   *stats = queue->stats;
   stats->size = queue->store.count;
   stats->dropped = atomic_load_explicit (&queue->dropped, memory_order_relaxed);
   pthread_mutex_unlock (&queue->mutex);
}

uint64_t
_mwatch_queue_dropped (mwatch_queue_t *queue)
{
   return atomic_load_explicit (&queue->dropped, memory_order_relaxed);
}

uint64_t
_mwatch_queue_put_wakeups (mwatch_queue_t *queue)
{
   pthread_mutex_lock (&queue->mutex);
   uint64_t wakeups = queue->put_wakeups;
   pthread_mutex_unlock (&queue->mutex);
   return wakeups;
}

int64_t
_mwatch_queue_leader_until (mwatch_queue_t *queue)
{
   pthread_mutex_lock (&queue->mutex);
   int64_t until = queue->leader ? queue->leader_until : 0;
   pthread_mutex_unlock (&queue->mutex);
   return until;
}

uint64_t
_mwatch_queue_count_ready (mwatch_queue_t *queue)
{
   uint64_t ready = 0;
   pthread_mutex_lock (&queue->mutex);
   for (size_t slot = queue->store.oldest; slot != MWATCH_QSTORE_NONE;
        slot = queue->store.slots[slot].newer) {
      if (mwatch_message_is_ready (queue->store.slots[slot].msg)) {
         ready++;
      }
   }
   pthread_mutex_unlock (&queue->mutex);
   return ready;
}

/* ------------------------------------------------------------------------
 * fork() hooks (queue-private.h).
 * ------------------------------------------------------------------------ */

void
_mwatch_queue_fork_prepare (mwatch_queue_t *queue)
{
   pthread_mutex_lock (&queue->mutex);
}

void
_mwatch_queue_fork_parent (mwatch_queue_t *queue)
{
   pthread_mutex_unlock (&queue->mutex);
}

bool
_mwatch_queue_fork_child (mwatch_queue_t *queue)
{
   /* The condition variables may record waiters that do not exist in the
    * child, and destroying them could wait for those waiters forever: they
    * are initialized afresh instead, with the lock taken in prepare. */
   queue_init_sync (queue);
   queue->leader = NULL;
   queue->blocked_producers = 0;
   queue->stalled = false;
   queue_discard_all (queue);
   return !queue->closed;
}
