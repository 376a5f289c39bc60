/* The end of logging: mwatch_shutdown, also at exit, runs the hooks the
 * modules registered (see shutdown-private.h), so that what is queued is
 * written before the process ends. */
#include "shutdown-private.h"

#include "mongowatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static void (*_Atomic hooks[MWATCH_SHUTDOWN_RANKS]) (void);

static void
at_exit (void)
{
   mwatch_shutdown ();
}

static void
register_at_exit (void)
{
   atexit (at_exit);
}

void
_mwatch_shutdown_at_exit (void)
{
   pthread_once (&exit_once, register_at_exit);
}

void
_mwatch_shutdown_register (mwatch_shutdown_rank_t rank, void (*hook) (void))
{
   atomic_store (&hooks[rank], hook);
}

void
mwatch_shutdown (void)
{
   for (int rank = 0; rank < MWATCH_SHUTDOWN_RANKS; rank++) {
      void (*hook) (void) = atomic_load (&hooks[rank]);
      if (hook) {
         hook ();
      }
   }
}
