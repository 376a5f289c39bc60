/* The fork registry (fork-private.h): one pthread_atfork handler for the
 * whole library, running the modules' hooks in rank order. */
#include "fork-private.h"

#include <bson/bson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct {
   pthread_mutex_t *mutex; /* locked before prepare, unlocked after parent or child */
   void (*prepare) (void);
   void (*parent) (void);
   void (*child) (void);
   /* Set (release) once the hooks above are written. */
   atomic_bool registered;
} fork_hooks_t;

static fork_hooks_t hooks[MWATCH_FORK_RANKS];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

/* Serializes concurrent forks, so that `taken` is one fork's: a rank
 * registered during a fork (the lazily registered OID hook) gets its
 * parent or child hook only if its prepare hook ran. */
static pthread_mutex_t forking_lock = PTHREAD_MUTEX_INITIALIZER;
static bool taken[MWATCH_FORK_RANKS];

static void
fork_prepare (void)
{
   pthread_mutex_lock (&forking_lock);
   for (int r = 0; r < MWATCH_FORK_RANKS; r++) {
      taken[r] = atomic_load_explicit (&hooks[r].registered, memory_order_acquire);
      if (!taken[r]) {
         continue;
      }
      if (hooks[r].mutex) {
         pthread_mutex_lock (hooks[r].mutex);
      }
      if (hooks[r].prepare) {
         hooks[r].prepare ();
      }
   }
}

/* After fork(), in the parent and in the child: the forking thread is the
 * child's only thread, and owns the locks there as it did in the parent. */
static void
fork_after (bool in_child)
{
   for (int r = MWATCH_FORK_RANKS - 1; r >= 0; r--) {
      if (!taken[r]) {
         continue;
      }
      void (*hook) (void) = in_child ? hooks[r].child : hooks[r].parent;
      if (hook) {
         hook ();
      }
      if (hooks[r].mutex) {
         pthread_mutex_unlock (hooks[r].mutex);
      }
   }
   pthread_mutex_unlock (&forking_lock);
}

static void
fork_parent (void)
{
   fork_after (false);
}

static void
fork_child (void)
{
   fork_after (true);
}

static void
install (void)
{
   pthread_atfork (fork_prepare, fork_parent, fork_child);
}

static void
register_hooks (mwatch_fork_rank_t rank,
                pthread_mutex_t *mutex,
                void (*prepare) (void),
                void (*parent) (void),
                void (*child) (void))
{
   BSON_ASSERT (rank >= 0 && rank < MWATCH_FORK_RANKS);
   pthread_once (&install_once, install);
   fork_hooks_t *h = &hooks[rank];
   BSON_ASSERT (!atomic_load (&h->registered));
   h->mutex = mutex;
   h->prepare = prepare;
   h->parent = parent;
   h->child = child;
   atomic_store_explicit (&h->registered, true, memory_order_release);
}

void
_mwatch_fork_register (mwatch_fork_rank_t rank,
                       void (*prepare) (void),
                       void (*parent) (void),
                       void (*child) (void))
{
   register_hooks (rank, NULL, prepare, parent, child);
}

void
_mwatch_fork_register_mutex (mwatch_fork_rank_t rank,
                             pthread_mutex_t *mutex,
                             void (*child) (void))
{
   register_hooks (rank, mutex, NULL, NULL, child);
}
