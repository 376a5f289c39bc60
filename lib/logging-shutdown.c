/* The end of logging: mwatch_shutdown, also at exit (what is queued is
 * written before the process ends). */
#include "config-hooks.h"
#include "logging-private.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static void (*_Atomic shutdown_check) (void);

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
_mwatch_logging_init (void)
{
   pthread_once (&exit_once, register_at_exit);
}

void
_mwatch_logging_set_shutdown_check (void (*check) (void))
{
   atomic_store (&shutdown_check, check);
}

void
mwatch_shutdown (void)
{
   void (*check) (void) = atomic_load (&shutdown_check);
   if (check) {
      check ();
   }
   /* The empty configuration: every handler detached, drained, closed. */
   _mwatch_loggers_install (NULL, 0, false, false);
}
