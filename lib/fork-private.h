/* fork() for the whole library: one pthread_atfork handler, installed at
 * the first registration, runs every module's hooks in the lock order.
 *
 * A child of a threaded process has only the thread that forked: a lock
 * another thread held at that moment stays held in the child for ever.
 * So before fork() the forking thread takes each module's locks (prepare,
 * in rank order, the order in which the library nests them), and after it
 * releases them in the parent and repairs them in the child (in reverse
 * rank order).  Each module registers its own hooks from a constructor of
 * its own (MWATCH_FORK_INIT), at load time, before any thread can hold its
 * locks: registered at their first use instead, a fork racing that use
 * could look for the hooks just before they exist and miss the lock taken
 * just after (seen: the first child of test-fork.c hung on opts_lock).
 * This file calls nothing else in the library.  doc/ARCHITECTURE.md,
 * "Locks and fork", has the table of every lock and its rule. */
#ifndef MWATCH_FORK_PRIVATE_H
#define MWATCH_FORK_PRIVATE_H

#include <pthread.h>

/* Declares a module's registration function, run at load time. */
#define MWATCH_FORK_INIT(name) __attribute__ ((constructor)) static void name (void)

/* The lock order, written once: a thread holding a lock of one rank takes
 * locks of later ranks only, but for the exceptions doc/ARCHITECTURE.md
 * names (a record's walk holds config_lock for reading while it takes the
 * handlers' locks).  Prepare hooks run from first to last. */
typedef enum {
   /* handler-report.c: no lock.  The forking thread's failure reports
    * (fork's flush of a failing handler, under every handler's lock) are
    * put off from this prepare hook on, and made by its parent hook, the
    * last to run, once every lock below is released. */
   MWATCH_FORK_RANK_REPORTS,
   /* handler-syslog5424.c: no lock held over fork.  Its prepare hook says
    * a fork is waiting and wakes the syslog5424 handlers' retry waits,
    * which hold their handler's lock: a retry in progress gives way (its
    * record kept for later) instead of holding the fork for up to
    * retry_timeout_sec.  Before every rank that takes a lock. */
   MWATCH_FORK_RANK_SYSLOG5424_WAKE,
   /* config.c load_lock: held through a whole configuration load, which
    * takes most of the locks below (watcher options, interned fields,
    * loggers, handlers, queues, files).  Not taken before fork (config.c
    * says why); the child gets a fresh one. */
   MWATCH_FORK_RANK_CONFIG_LOAD,
   /* watch-options.c opts_lock: the watchers' options and field mappings, taken
    * by every watched operation as it starts; under it, only
    * interned_lock. */
   MWATCH_FORK_RANK_WATCHER_OPTIONS,
   /* signal-drain.c install_lock (takes no other lock); the child gets a
    * pipe and a drain thread of its own. */
   MWATCH_FORK_RANK_SIGNAL_DRAIN,
   /* signal-reopen.c install_lock (takes no other lock); the child gets a
    * pipe and a reopen thread of its own. */
   MWATCH_FORK_RANK_SIGNAL_REOPEN,
   /* handler-stream.c files_lock: mwatch_reopen flushes each file handler
    * under it, so it comes before the handlers' locks. */
   MWATCH_FORK_RANK_FILES,
   /* handler.c registry_lock, then each handler's lock and its config
    * lock; buffered output is flushed under them. */
   MWATCH_FORK_RANK_HANDLERS,
   /* handler-syslog5424.c: no lock; its parent and child hooks end what
    * SYSLOG5424_WAKE began, before the handlers' locks are released (the
    * child gets a fresh wake lock and condition variable). */
   MWATCH_FORK_RANK_SYSLOG5424_RESUME,
   /* logger.c loggers_lock, then config_lock.  After the handlers' locks:
    * a handler logs its failure reports from inside its emit, under its
    * lock, through the loggers.  config_lock is only read-locked here: a
    * record's walk holds it for reading while it waits for a handler's
    * lock, so prepare, holding that lock, must be able to join it. */
   MWATCH_FORK_RANK_LOGGERS,
   /* handler-queue.c live_lock, then each queue's mutex (queue.c). */
   MWATCH_FORK_RANK_QUEUE_HANDLERS,
   /* handler-otlp.c live_lock, then each OpenTelemetry handler's lock (a
    * leaf: its sender thread and emit take nothing under it).  The child
    * drops the parent's buffered records and starts a sender of its own. */
   MWATCH_FORK_RANK_OTLP,
   /* handler-mongodb.c live_lock, then each MongoDB handler's mutex (a
    * leaf: emit takes it under its handler's lock).  The child drops the
    * parent's buffered records and starts a thread of its own. */
   MWATCH_FORK_RANK_MONGODB_HANDLERS,
   /* filter-rate.c rates_lock, then each rate filter's lock (a leaf: a
    * logger's filters run under config_lock read, which prepare shares). */
   MWATCH_FORK_RANK_RATE_FILTERS,
   /* message.c interned_lock: a leaf. */
   MWATCH_FORK_RANK_INTERNED_FIELDS,
   /* block-pool.c pool_lock: a leaf (queues free into the pool in the
    * child, after it is released). */
   MWATCH_FORK_RANK_BLOCK_POOL,
   /* ptrmap.c maps_lock, then every map's shard locks: leaves. */
   MWATCH_FORK_RANK_PTRMAPS,
   /* watch-pending.c scanner_lock, its shards' locks, flight_lock: leaves (a
    * watch takes a shard's lock under its own lock; the background thread
    * takes them with no watch's lock held).  The child starts its own
    * background thread. */
   MWATCH_FORK_RANK_PENDING,
   /* handler-metrics.c metrics_lock: every metrics handler's table and
    * writer state (a leaf, taken under a handler's lock by emit).  The
    * child empties its tables (the parent's counts are the parent's) and
    * starts a writer of its own at its first record. */
   MWATCH_FORK_RANK_METRICS,
   /* message.c: no lock; the child draws new WatchID randomness, so as
    * not to repeat its parent's WatchIDs. */
   MWATCH_FORK_RANK_OID,
   MWATCH_FORK_RANKS
} mwatch_fork_rank_t;

/* Registers the hooks of `rank` (each may be NULL), once per rank.  Takes
 * no lock.  The hooks must not register or fork themselves. */
void
_mwatch_fork_register (mwatch_fork_rank_t rank,
                       void (*prepare) (void),
                       void (*parent) (void),
                       void (*child) (void));

/* The common case: one mutex, locked before fork() and unlocked after it
 * in the parent and in the child, where `child` (may be NULL) runs first,
 * with the lock still held. */
void
_mwatch_fork_register_mutex (mwatch_fork_rank_t rank,
                             pthread_mutex_t *mutex,
                             void (*child) (void));

#endif
