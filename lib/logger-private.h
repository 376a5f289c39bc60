/* Internal: the loggers (logger.c) as the handlers, the watchers and the
 * configuration loader use them beyond the public API. */
#ifndef MWATCH_LOGGER_PRIVATE_H
#define MWATCH_LOGGER_PRIVATE_H

#include "handler-private.h"
#include "live-private.h"
#include "record-private.h"
#include "mongowatch.h"

#include <stdatomic.h>

/* The calling thread's id and the process id, cached per thread; the
 * fork child handler resets the cache. */
int64_t
_mwatch_thread_id (void);
int64_t
_mwatch_process_id (void);
void
_mwatch_thread_info_reset (void);

/* mwatch_logger_log for a watcher: the record carries the operation's
 * live state, for queues to consult at its timeout. */
void
_mwatch_logger_log_live (mwatch_logger_t *logger,
                         int level,
                         int timeout_level,
                         mwatch_message_t *msg,
                         mwatch_live_t *live);

/* The same for a record whose message is not built yet (`lazy`): `live`
 * builds it, on this thread only if a logger filter or a handler other
 * than a queue of the library's wants it (its build_locked: the caller
 * holds the provider's lock), else on a queue's listener. */
void
_mwatch_logger_log_lazy (mwatch_logger_t *logger,
                         int level,
                         int timeout_level,
                         const mwatch_lazy_record_t *lazy,
                         mwatch_live_t *live);

/* Where a record whose message is not built yet would go if it were
 * logged now. */
typedef enum {
   MWATCH_ROUTE_NONE,     /* nowhere: below every level, or a disabled logger */
   MWATCH_ROUTE_QUEUES,   /* to the library's queues alone (if to any) */
   MWATCH_ROUTE_MESSAGE,  /* somewhere that wants its message on this thread */
} mwatch_route_t;

mwatch_route_t
_mwatch_logger_route (mwatch_logger_t *logger,
                      int level,
                      int timeout_level,
                      const mwatch_lazy_record_t *lazy);

/* A queue replaced by a new configuration hands a running operation's
 * record (`msg`, its stub) to the loggers as they are now: their queues
 * keep it to time the operation out, no handler writes it as it is. */
void
_mwatch_logger_hand_over (const char *name,
                          int level,
                          int timeout_level,
                          mwatch_message_t *msg,
                          mwatch_live_t *live);

/* Runs the filters of the logger named `name` on a record whose message
 * is its own (see mwatch_record_priv_t): for a queue emitting a fresh
 * snapshot of an operation by timeout, which its logger's filters have not
 * seen. */
bool
_mwatch_logger_filter_named (const char *name, mwatch_record_t *record);

/* A cached answer of mwatch_logger_is_enabled_for for one logger and
 * level, good while no logger's level changes: for the per-document path
 * of a cursor, where walking the logger tree each time would cost more
 * than the rest of the accounting.  Zeroed means "not asked yet". */
typedef struct {
   unsigned generation;
   bool enabled;
} mwatch_level_cache_t;

static inline bool
_mwatch_logger_is_enabled_cached (const mwatch_logger_t *logger,
                                  int level,
                                  mwatch_level_cache_t *cache)
{
   unsigned generation = atomic_load_explicit (&_mwatch_levels_generation, memory_order_acquire);
   if (BSON_UNLIKELY (cache->generation != generation)) {
      cache->enabled = mwatch_logger_is_enabled_for (logger, level);
      cache->generation = generation;
   }
   return cache->enabled;
}

/* The logger of the library's reports about itself. */
#define MWATCH_STATS_LOGGER "mongowatch.stats"

/* The logger named `name` if it exists, else NULL (it is not created),
 * without taking loggers_lock: for a handler's failure report, made under
 * the handler's lock, which must neither create a logger nor wait for
 * loggers_lock. */
mwatch_logger_t *
_mwatch_logger_find (const char *name);

/* The settings of one logger in a configuration. */
typedef struct {
   const char *name; /* "" for the root */
   int level;        /* MWATCH_LEVEL_NOTSET: inherit */
   bool propagate;
   mwatch_handler_t *const *handlers; /* the logger takes references */
   size_t handler_count;
   mwatch_filter_t *const *filters; /* the logger takes references */
   size_t filter_count;
} mwatch_logger_setup_t;

/* Installs a configuration in one step, as seen by records in flight:
 * each logger in `setups` gets exactly those settings; every other logger
 * loses its handlers and filters and goes back to its defaults (level
 * NOTSET, WARNING for the root; propagating); with `disable_existing`,
 * loggers that existed before and are neither in `setups` nor below one
 * of them are also disabled (their records are dropped), as Python's
 * dictConfig does.  Then the handlers the loggers held before are closed
 * (their queues drained into their backends: nothing already logged is
 * lost) and released.  With `handing_over` (a new configuration, not a
 * shutdown), operations still running when the old queues drain are left
 * to the new configuration, which logs their next records: the old queues
 * do not write them out as timed out. */
void
_mwatch_loggers_install (const mwatch_logger_setup_t *setups,
                         size_t count,
                         bool disable_existing,
                         bool handing_over);

#endif /* MWATCH_LOGGER_PRIVATE_H */
