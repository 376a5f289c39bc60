/* Internal entry points shared by the loggers, the queue handler and the
 * process-wide life cycle (shutdown, exit). */
#ifndef MWATCH_LOGGING_PRIVATE_H
#define MWATCH_LOGGING_PRIVATE_H

#include "live-private.h"
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

extern atomic_uint _mwatch_levels_generation;

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

/* Registers mwatch_shutdown at exit, once (logging-shutdown.c).  Called
 * where logging is set up or an operation is watched. */
void
_mwatch_logging_init (void);

/* Sets the check mwatch_shutdown runs first: the watchers' report of a
 * program that set up logging but never patched libmongoc.  A hook, so
 * that the logging code calls nothing above it. */
void
_mwatch_logging_set_shutdown_check (void (*check) (void));

#endif
