/* Operations whose first record is held back (see watch-pending-private.h).
 *
 * The registry is a set of shards, each a lock and a list in the order of
 * registration; a thread always uses the same shard, so application
 * threads rarely meet on a lock, and the background thread, which looks at
 * each shard in turn, stops at the first node too young to promote.  The
 * background thread starts at the first registration, ticks every
 * MWATCH_PENDING_SCAN_US while anything is registered, and sleeps
 * otherwise until a registration wakes it. */
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
   bool left = false;
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
   /* Started once, woken only from idle: nothing to do on the common
    * path but one load. */
   if (!atomic_load_explicit (&scanner_started, memory_order_acquire) ||
       atomic_load_explicit (&scanner_idle, memory_order_acquire)) {
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
   /* Taken under a shard's lock (promote_shard): after them. */
   pthread_mutex_lock (&flight_lock);
}

static void
fork_parent (void)
{
   pthread_mutex_unlock (&flight_lock);
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
   _mwatch_cond_init_monotonic (&scanner_cond);
   _mwatch_cond_init_monotonic (&flight_cond);
   _mwatch_fork_register (MWATCH_FORK_RANK_PENDING, fork_prepare, fork_parent, fork_child);
   _mwatch_shutdown_register (MWATCH_SHUTDOWN_PENDING, shutdown_promote);
}
