/* The process-wide life of the logging state: shutdown (also at exit) and
 * fork().  Lock order, everywhere: logger configuration, then handler
 * locks, then queue mutexes, then the message block pool, then the
 * pointer maps' shard locks (leaves: a holder takes no other lock); fork's
 * prepare takes them all in that order. */
#include "block-pool.h"
#include "config-hooks.h"
#include "handler.h"
#include "interpose.h"
#include "logging-private.h"
#include "ptrmap.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_once_t lifecycle_once = PTHREAD_ONCE_INIT;

static void
at_exit (void)
{
   mwatch_shutdown ();
}

static void
fork_prepare (void)
{
   _mwatch_loggers_fork_prepare ();
   _mwatch_handlers_fork_prepare ();
   _mwatch_queue_handlers_fork_prepare ();
   _mwatch_block_pool_fork_prepare ();
   _mwatch_ptrmaps_fork_prepare ();
}

static void
fork_parent (void)
{
   _mwatch_ptrmaps_fork_release ();
   _mwatch_block_pool_fork_release ();
   _mwatch_queue_handlers_fork_parent ();
   _mwatch_handlers_fork_parent ();
   _mwatch_loggers_fork_parent ();
}

static void
fork_child (void)
{
   _mwatch_ptrmaps_fork_release ();
   _mwatch_block_pool_fork_release ();
   _mwatch_queue_handlers_fork_child ();
   _mwatch_handlers_fork_child ();
   _mwatch_loggers_fork_child ();
}

static void
lifecycle_init (void)
{
   atexit (at_exit);
   pthread_atfork (fork_prepare, fork_parent, fork_child);
}

void
_mwatch_lifecycle_init (void)
{
   pthread_once (&lifecycle_once, lifecycle_init);
}

void
mwatch_shutdown (void)
{
   _mwatch_report_never_patched ();
   /* The empty configuration: every handler detached, drained, closed. */
   _mwatch_loggers_install (NULL, 0, false, false);
}
