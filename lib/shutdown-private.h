/* Internal: the shutdown registry (shutdown.c).  mwatch_shutdown, at exit
 * or when the application calls it, runs the hooks the modules registered,
 * in rank order; the registry itself calls nothing else in the library, so
 * it sits at the bottom, as the fork registry does. */
#ifndef MWATCH_SHUTDOWN_PRIVATE_H
#define MWATCH_SHUTDOWN_PRIVATE_H

/* The order of the hooks, written once. */
typedef enum {
   /* The watchers' report of a program that set up logging but never
    * patched libmongoc (interpose.c): before the handlers are gone. */
   MWATCH_SHUTDOWN_CHECKS,
   /* The first records held back (watch-pending.c) go to the queues, so
    * that the queues time out the operations still running as they
    * drain. */
   MWATCH_SHUTDOWN_PENDING,
   /* The loggers detach every handler, and each queue drains into its
    * backend (logger.c): what was logged is written before the end. */
   MWATCH_SHUTDOWN_LOGGERS,
   MWATCH_SHUTDOWN_RANKS
} mwatch_shutdown_rank_t;

/* Sets the hook of `rank` (one per rank; a later call replaces it). */
void
_mwatch_shutdown_register (mwatch_shutdown_rank_t rank, void (*hook) (void));

/* Registers mwatch_shutdown with atexit, once.  Called where logging is
 * set up or an operation is watched. */
void
_mwatch_shutdown_at_exit (void);

#endif /* MWATCH_SHUTDOWN_PRIVATE_H */
