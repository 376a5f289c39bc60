/* Operations whose first record is held back (see watch-pending-private.h).
 *
 * Each thread has a hand that holds one node without a lock: most threads
 * run one operation at a time, which registers itself there at its first
 * record and takes itself out at its end, an atomic store and a
 * compare-and-swap.  A node that finds its thread's hand full goes to the
 * shards: each a lock and a list in the order of registration; a thread
 * always uses the same shard, so application threads rarely meet on a
 * lock, and the background thread, which looks at each shard in turn,
 * stops at the first node too young to promote.  It looks at every hand
 * too, and takes an old enough node out of it with the same
 * compare-and-swap as its owner's; whichever of the two succeeds owns the
 * registry's reference.  The background thread starts at the first
 * registration, ticks every MWATCH_PENDING_SCAN_US while anything is
 * registered, and sleeps otherwise until a registration wakes it. */
#include "clock-private.h"
#include "fast-tls-private.h"
#include "fork-private.h"
#include "report-private.h"
#include "thread-private.h"
#include "shutdown-private.h"
#include "watch-pending-private.h"

#include "mongowatch.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#define SHARDS 16
/* Nodes promoted per pass over a shard's lock. */
#define BATCH 32

typedef struct {
   pthread_mutex_t lock;
   mwatch_pending_node_t *head;
   mwatch_pending_node_t *tail;
} shard_t;

static shard_t shards[SHARDS];
static atomic_uint next_shard;
static _Thread_local unsigned my_shard MWATCH_FAST_TLS = SHARDS; /* SHARDS: not chosen yet */

/* A thread's hand.  Only the thread that holds it puts a node in it (when
 * it is empty); anyone takes one out, by compare-and-swap.  Hands are
 * never freed: a thread's exit puts its own on the free list, for the
 * next thread, with the node it may still hold (an operation that
 * outlives its thread), which comes out as any other. */
struct mwatch_pending_hand {
   _Atomic (mwatch_pending_node_t *) node;
   _Atomic int64_t since; /* the node's registration (monotonic) */
   mwatch_pending_hand_t *next_all;  /* every hand; fixed once published */
   mwatch_pending_hand_t *next_free; /* guarded by hands_lock */
};

/* Every hand, newest first, read without a lock (published with release
 * under hands_lock); the free ones, under it. */
static pthread_mutex_t hands_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic (mwatch_pending_hand_t *) all_hands;
static mwatch_pending_hand_t *free_hands;
static _Thread_local mwatch_pending_hand_t *my_hand MWATCH_FAST_TLS;
/* The thread's exit gave its hand back: an operation registered by a
 * later key destructor goes to the shards, rather than take a hand that
 * no destructor would give back once glibc stops calling them. */
static _Thread_local bool hand_closed MWATCH_FAST_TLS;
static pthread_key_t hand_key;
/* pthread_key_create can fail (the process used up PTHREAD_KEYS_MAX):
 * then no thread takes a hand, since no destructor would give it back,
 * and every registration goes to the shards. */
static bool hand_key_made;

/* The background thread. */
static pthread_mutex_t scanner_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t scanner_cond; /* on the monotonic clock */
static bool scanner_running; /* guarded by scanner_lock */
static pthread_t scanner_thread; /* when scanner_running */
/* Each start of the thread is a generation; a thread whose generation is
 * no longer the current one ends (shutdown stops it, a registration after
 * shutdown starts another).  Guarded by scanner_lock. */
static uintptr_t scanner_generation;
/* It found nothing registered and waits for a registration to wake it. */
static atomic_bool scanner_idle;
/* Set once it was started (again in a child of fork). */
static atomic_bool scanner_started;

static void
shards_init (void)
{
   for (size_t i = 0; i < SHARDS; i++) {
      pthread_mutex_init (&shards[i].lock, NULL);
      shards[i].head = shards[i].tail = NULL;
   }
}

static void
unlink_locked (shard_t *shard, mwatch_pending_node_t *node)
{
   if (node->prev) {
      node->prev->next = node->next;
   } else {
      shard->head = node->next;
   }
   if (node->next) {
      node->next->prev = node->prev;
   } else {
      shard->tail = node->prev;
   }
   node->prev = node->next = NULL;
   node->linked = false;
}

/* Nodes taken out of the registry and not yet promoted: shutdown waits
 * for them, so that what the background thread holds in its hands at
 * that moment still reaches the queues before they drain. */
static pthread_mutex_t flight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flight_cond; /* on the monotonic clock */
static size_t in_flight; /* guarded by flight_lock */

static void
flight_add (size_t n)
{
   pthread_mutex_lock (&flight_lock);
   in_flight += n;
   pthread_mutex_unlock (&flight_lock);
}

static void
flight_done (void)
{
   pthread_mutex_lock (&flight_lock);
   if (--in_flight == 0) {
      pthread_cond_broadcast (&flight_cond);
   }
   pthread_mutex_unlock (&flight_lock);
}

/* The thread's exit: its hand goes to the next thread. */
static void
hand_release (void *hand)
{
   my_hand = NULL;
   hand_closed = true;
   pthread_mutex_lock (&hands_lock);
   ((mwatch_pending_hand_t *) hand)->next_free = free_hands;
   free_hands = hand;
   pthread_mutex_unlock (&hands_lock);
}

/* The thread's first registration: a hand, free or new. */
static __attribute__ ((noinline)) mwatch_pending_hand_t *
hand_take (void)
{
   pthread_mutex_lock (&hands_lock);
   mwatch_pending_hand_t *hand = free_hands;
   if (hand) {
      free_hands = hand->next_free;
   } else {
      hand = bson_malloc0 (sizeof *hand);
      atomic_init (&hand->node, NULL);
      atomic_init (&hand->since, 0);
      hand->next_all = atomic_load_explicit (&all_hands, memory_order_relaxed);
      /* Sequentially consistent, as the hand's node: the background
       * thread's look before it sleeps (scan_loop) then sees the new hand
       * or the registration sees it idle. */
      atomic_store (&all_hands, hand);
   }
   pthread_mutex_unlock (&hands_lock);
   pthread_setspecific (hand_key, hand);
   my_hand = hand;
   return hand;
}

/* Promotes the node of every hand registered before `before`, as
 * promote_shard does; true when a hand still holds one.  A node read here
 * may be taken out and freed, and its block hold a new watch in the same
 * hand, before the compare-and-swap: then `since` may be the old one's,
 * and the new watch's first record is promoted early, though it may end
 * before it would have been promoted at all.  That costs a put, not a
 * record: a promoted first record waits in the queue for its timeout,
 * and the operation's final record replaces it there if it ends first,
 * as for any promoted record. */
static bool
promote_hands (int64_t before, int64_t deadline, size_t *lost)
{
   bool left = false;
   for (mwatch_pending_hand_t *hand = atomic_load_explicit (&all_hands, memory_order_acquire);
        hand; hand = hand->next_all) {
      mwatch_pending_node_t *node = atomic_load (&hand->node);
      if (!node) {
         continue;
      }
      if (atomic_load_explicit (&hand->since, memory_order_relaxed) >= before) {
         left = true;
         continue;
      }
      /* Counted before it leaves the hand: a shutdown that finds the hand
       * empty then knows to wait for it. */
      flight_add (1);
      if (atomic_compare_exchange_strong (&hand->node, &node, NULL)) {
         if (!node->ops->promote (node, deadline)) {
            (*lost)++;
         }
      }
      flight_done ();
   }
   return left;
}

/* Promotes the nodes of `shard` registered before `before` (all of them
 * with INT64_MAX), giving up on a node whose owner stays locked past
 * `deadline` (monotonic; 0: waits); true when the shard still holds
 * nodes.  *lost counts the nodes given up. */
static bool
promote_shard (shard_t *shard, int64_t before, int64_t deadline, size_t *lost)
{
   for (;;) {
      mwatch_pending_node_t *batch[BATCH];
      size_t n = 0;
      pthread_mutex_lock (&shard->lock);
      while (n < BATCH && shard->head && shard->head->since < before) {
         mwatch_pending_node_t *node = shard->head;
         unlink_locked (shard, node);
         batch[n++] = node;
      }
      if (n) {
         /* Counted before the shard's lock goes: a shutdown that finds the
          * registry empty then knows to wait for these. */
         flight_add (n);
      }
      bool more = shard->head != NULL;
      pthread_mutex_unlock (&shard->lock);
      /* The registry's references are ours now: promote drops them. */
      for (size_t i = 0; i < n; i++) {
         if (!batch[i]->ops->promote (batch[i], deadline)) {
            (*lost)++;
         }
         flight_done ();
      }
      if (n < BATCH) {
         return more;
      }
   }
}

static bool
promote_all_before (int64_t before, int64_t deadline, size_t *lost)
{
   bool left = promote_hands (before, deadline, lost);
   for (size_t i = 0; i < SHARDS; i++) {
      left = promote_shard (&shards[i], before, deadline, lost) || left;
   }
   return left;
}

static void *
scan_loop (void *arg)
{
   uintptr_t generation = (uintptr_t) arg;
   pthread_mutex_lock (&scanner_lock);
   while (generation == scanner_generation) {
      pthread_mutex_unlock (&scanner_lock);
      size_t lost = 0; /* never: the background thread waits */
      bool left = promote_all_before (_mwatch_monotonic_now () - MWATCH_PENDING_AGE_US, 0, &lost);
      pthread_mutex_lock (&scanner_lock);
      if (left) {
         struct timespec until = _mwatch_timespec_at (_mwatch_monotonic_now () + MWATCH_PENDING_SCAN_US);
         pthread_cond_timedwait (&scanner_cond, &scanner_lock, &until);
      } else {
         /* Registrations made since the pass see `idle` and wake us; one
          * made during it was found by it or is seen by the next. */
         atomic_store (&scanner_idle, true);
         bool registered = false;
         /* A registration in a hand stores its node before it looks at
          * `idle` (both sequentially consistent): it sees idle, or this
          * sees the node. */
         for (mwatch_pending_hand_t *hand = atomic_load (&all_hands); hand && !registered;
              hand = hand->next_all) {
            registered = atomic_load (&hand->node) != NULL;
         }
         for (size_t i = 0; i < SHARDS && !registered; i++) {
            pthread_mutex_lock (&shards[i].lock);
            registered = shards[i].head != NULL;
            pthread_mutex_unlock (&shards[i].lock);
         }
         if (!registered) {
            pthread_cond_wait (&scanner_cond, &scanner_lock);
         }
         atomic_store (&scanner_idle, false);
      }
   }
   pthread_mutex_unlock (&scanner_lock);
   return NULL;
}

/* Starts the background thread if it is not running; the caller holds
 * scanner_lock.  It must not take the application's signals. */
static void
scanner_start_locked (void)
{
   if (scanner_running) {
      return;
   }
   scanner_running = _mwatch_thread_start (&scanner_thread, scan_loop, (void *) ++scanner_generation);
   if (!scanner_running) {
      /* Tried again at the next registration; meanwhile operations held
       * back are promoted at shutdown only. */
      _mwatch_report ("cannot start the thread that times out long operations; retrying");
   }
}

void
_mwatch_pending_add (mwatch_pending_node_t *node, const mwatch_pending_ops_t *ops)
{
   if (my_shard == SHARDS) {
      my_shard = atomic_fetch_add_explicit (&next_shard, 1, memory_order_relaxed) % SHARDS;
   }
   ops->ref (node);
   node->ops = ops;
   node->since = _mwatch_monotonic_now ();
   mwatch_pending_hand_t *hand = my_hand;
   if (BSON_UNLIKELY (!hand) && !hand_closed && hand_key_made) {
      hand = hand_take ();
   }
   /* Only this thread fills its hand: empty now, empty until it does. */
   if (hand && !atomic_load_explicit (&hand->node, memory_order_relaxed)) {
      node->hand = hand;
      atomic_store_explicit (&hand->since, node->since, memory_order_relaxed);
      atomic_store (&hand->node, node);
   } else {
      node->hand = NULL;
      node->shard = my_shard;
      node->next = NULL;
      shard_t *shard = &shards[my_shard];
      pthread_mutex_lock (&shard->lock);
      node->prev = shard->tail;
      if (shard->tail) {
         shard->tail->next = node;
      } else {
         shard->head = node;
      }
      shard->tail = node;
      node->linked = true;
      pthread_mutex_unlock (&shard->lock);
   }
   /* Started once, woken only from idle: nothing to do on the common
    * path but one load.  `idle` is read after the hand's node is stored,
    * both sequentially consistent (see scan_loop). */
   if (!atomic_load_explicit (&scanner_started, memory_order_acquire) ||
       atomic_load (&scanner_idle)) {
      pthread_mutex_lock (&scanner_lock);
      scanner_start_locked ();
      atomic_store_explicit (&scanner_started, scanner_running, memory_order_release);
      pthread_cond_signal (&scanner_cond);
      pthread_mutex_unlock (&scanner_lock);
   }
}

bool
_mwatch_pending_remove (mwatch_pending_node_t *node)
{
   if (node->hand) {
      /* The node was put there once and never again: still there, or
       * the background thread (or a fork's child) took it out. */
      mwatch_pending_node_t *expected = node;
      return atomic_compare_exchange_strong (&node->hand->node, &expected, NULL);
   }
   shard_t *shard = &shards[node->shard];
   pthread_mutex_lock (&shard->lock);
   bool was_linked = node->linked;
   if (was_linked) {
      unlink_locked (shard, node);
   }
   pthread_mutex_unlock (&shard->lock);
   return was_linked;
}

/* ---------------------------------------------------------------- shutdown, fork */

/* Ends the background thread and reaps it, waiting until `deadline` at
 * most (at least a tenth of a second): it may be promoting a record whose
 * lock another thread holds.  Past that it is left to end by itself. */
static void
scanner_stop (int64_t deadline)
{
   pthread_mutex_lock (&scanner_lock);
   bool running = scanner_running;
   pthread_t thread = scanner_thread;
   if (running) {
      scanner_generation++;
      scanner_running = false;
      atomic_store (&scanner_started, false);
      pthread_cond_broadcast (&scanner_cond);
   }
   pthread_mutex_unlock (&scanner_lock);
   if (!running) {
      return;
   }
   int64_t left_us = deadline - _mwatch_monotonic_now ();
   if (!_mwatch_thread_join_within (thread, left_us > 100000 ? (double) left_us / 1e6 : 0.1)) {
      pthread_detach (thread);
   }
}

/* Before the queues drain: every held-back first record goes to them, so
 * that a running operation is timed out at the end as it would have been
 * had its first record been queued at once; and the background thread's
 * batch in hand too.  Bounded in time: an operation whose lock another
 * thread keeps (a record's trip stuck in a handler, mwatch_cursor_lock
 * held) is given up after MWATCH_PENDING_SHUTDOWN_WAIT_US, and said so. */
static void
shutdown_promote (void)
{
   int64_t deadline = _mwatch_monotonic_now () + MWATCH_PENDING_SHUTDOWN_WAIT_US;
   size_t lost = 0;
   promote_all_before (INT64_MAX, deadline, &lost);
   pthread_mutex_lock (&flight_lock);
   struct timespec until = _mwatch_timespec_at (deadline);
   while (in_flight && _mwatch_monotonic_now () < deadline) {
      pthread_cond_timedwait (&flight_cond, &flight_lock, &until);
   }
   size_t unfinished = in_flight;
   pthread_mutex_unlock (&flight_lock);
   if (lost || unfinished) {
      _mwatch_report ("%zu running operation(s) not timed out at shutdown: another thread held "
                      "their lock for %d s",
                      lost + unfinished, MWATCH_PENDING_SHUTDOWN_WAIT_US / 1000000);
   }
   scanner_stop (deadline);
}

static void
fork_prepare (void)
{
   pthread_mutex_lock (&scanner_lock);
   for (size_t i = 0; i < SHARDS; i++) {
      pthread_mutex_lock (&shards[i].lock);
   }
   pthread_mutex_lock (&hands_lock);
   /* Taken under a shard's lock (promote_shard): after them. */
   pthread_mutex_lock (&flight_lock);
}

static void
fork_parent (void)
{
   pthread_mutex_unlock (&flight_lock);
   pthread_mutex_unlock (&hands_lock);
   for (size_t i = SHARDS; i-- > 0;) {
      pthread_mutex_unlock (&shards[i].lock);
   }
   pthread_mutex_unlock (&scanner_lock);
}

/* The background thread did not survive, and the operations registered
 * are the parent's: its own queues time them out, the child's dropped
 * their records (handler-queue.c), so the child forgets them too, without
 * taking their locks (another thread may have held one at fork()). */
static void
fork_child (void)
{
   in_flight = 0; /* the background thread's batch is the parent's */
   _mwatch_cond_init_monotonic (&flight_cond);
   pthread_mutex_unlock (&flight_lock);
   /* The other threads' hands are free in the child. */
   free_hands = NULL;
   for (mwatch_pending_hand_t *hand = atomic_load (&all_hands); hand; hand = hand->next_all) {
      mwatch_pending_node_t *node = atomic_exchange (&hand->node, NULL);
      if (node) {
         node->ops->forget (node);
      }
      if (hand != my_hand) {
         hand->next_free = free_hands;
         free_hands = hand;
      }
   }
   pthread_mutex_unlock (&hands_lock);
   for (size_t i = SHARDS; i-- > 0;) {
      mwatch_pending_node_t *node = shards[i].head;
      shards[i].head = shards[i].tail = NULL;
      while (node) {
         mwatch_pending_node_t *next = node->next;
         node->prev = node->next = NULL;
         node->linked = false;
         node->ops->forget (node);
         node = next;
      }
      pthread_mutex_unlock (&shards[i].lock);
   }
   scanner_running = false;
   atomic_store (&scanner_idle, false);
   atomic_store (&scanner_started, false);
   _mwatch_cond_init_monotonic (&scanner_cond);
   pthread_mutex_unlock (&scanner_lock);
}

MWATCH_FORK_INIT (pending_init)
{
   shards_init ();
   hand_key_made = pthread_key_create (&hand_key, hand_release) == 0;
   _mwatch_cond_init_monotonic (&scanner_cond);
   _mwatch_cond_init_monotonic (&flight_cond);
   _mwatch_fork_register (MWATCH_FORK_RANK_PENDING, fork_prepare, fork_parent, fork_child);
   _mwatch_shutdown_register (MWATCH_SHUTDOWN_PENDING, shutdown_promote);
}
