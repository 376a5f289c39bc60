/* What the configuration loader needs from the rest of the library beyond
 * the public API: installing a whole logging configuration at once, and
 * field lists that live as long as the process.  Implemented in logger.c
 * and message.c.  (The watchers' options and field mappings are public:
 * see mongowatch/watch.h.) */
#ifndef MWATCH_CONFIG_HOOKS_H
#define MWATCH_CONFIG_HOOKS_H

#include "mongowatch.h"

/* ---------------------------------------------------------------- loggers */

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

/* ---------------------------------------------------------------- fields */

/* A copy of a NULL-terminated list of field names that lives as long as
 * the process (messages keep pointers to it); equal lists share one copy,
 * so loading configurations again does not grow memory. */
const char *const *
_mwatch_fields_intern (const char *const *fields);

/* The watchers' field mappings became public API. */
#define _mwatch_watcher_set_operation_maps mwatch_watcher_set_operation_maps

#endif
