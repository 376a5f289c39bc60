/* A writing handler's failure reports: once per failure episode, with the
 * records it cost, on the "mongowatch.stats" logger. */
#include "fork-private.h"
#include "logger-private.h"
#include "handler-report-private.h"
#include "report-private.h"

#include <inttypes.h>
#include <stdarg.h>

/* A report is made under the reporting handler's lock (from its emit or
 * flush), so the locks it takes come after the handlers' in the lock order
 * (doc/ARCHITECTURE.md, "Locks and fork"): config_lock for reading, the
 * stats logger's handlers and what they lead to; never loggers_lock (an
 * install used to hold it while it waited to write config_lock, which a
 * record's walk holds for reading while it waits for the reporting
 * handler's lock).  So the stats logger is looked up without loggers_lock
 * and kept (loggers are never freed).  It is not created here, nor at load
 * time: a logger that exists before a configuration is one that
 * disable_existing_loggers disables, and so would be its parent
 * "mongowatch".  Until something creates it, it has no handler, and a
 * report goes to _mwatch_report(), as it would on a logger just made. */
static mwatch_logger_t *stats_logger;

static mwatch_logger_t *
stats_logger_find (void)
{
   mwatch_logger_t *stats = __atomic_load_n (&stats_logger, __ATOMIC_ACQUIRE);
   if (!stats) {
      stats = _mwatch_logger_find (MWATCH_STATS_LOGGER);
      if (stats) {
         __atomic_store_n (&stats_logger, stats, __ATOMIC_RELEASE);
      }
   }
   return stats;
}

/* Reports of the forking thread while it prepares a fork: fork's prepare
 * flushes every buffered handler holding every handler's lock, and a
 * report of a failing flush, made then, would wait on the lock of a stats
 * handler not behind a queue, which its own thread holds.  So they are
 * kept here and made by the parent hook, which runs after every other
 * rank's (the handlers' locks released); the child drops them: they are
 * its parent's to make. */
static _Thread_local bool forking;
static _Thread_local char **put_off;
static _Thread_local size_t put_off_count;

static void
stats_report_now (const char *text)
{
   mwatch_logger_t *stats = stats_logger_find ();
   if (stats && mwatch_logger_has_handlers (stats)) {
      mwatch_logger_log_text (stats, MWATCH_LEVEL_WARNING, text);
   } else {
      _mwatch_report ("%s", text);
   }
}

void
_mwatch_stats_report (const char *text, bool closing)
{
   if (closing) {
      _mwatch_report ("%s", text);
   } else if (forking) {
      put_off = bson_realloc (put_off, (put_off_count + 1) * sizeof *put_off);
      put_off[put_off_count++] = bson_strdup (text);
   } else {
      stats_report_now (text);
   }
}

static void
fork_prepare (void)
{
   forking = true;
}

/* Makes (`report`) or drops the reports put off during prepare. */
static void
put_off_end (bool report)
{
   forking = false;
   for (size_t i = 0; i < put_off_count; i++) {
      if (report) {
         stats_report_now (put_off[i]);
      }
      bson_free (put_off[i]);
   }
   bson_free (put_off);
   put_off = NULL;
   put_off_count = 0;
}

static void
fork_parent (void)
{
   put_off_end (true);
}

static void
fork_child (void)
{
   put_off_end (false);
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_REPORTS, fork_prepare, fork_parent, fork_child);
}

void
_mwatch_handler_report_once (bool *reported, const char *format, ...)
{
   va_list args;
   char *message;

   if (*reported) {
      return;
   }
   *reported = true;

   va_start (args, format);
   message = bson_strdupv_printf (format, args);
   va_end (args);
   _mwatch_report ("%s", message);
   bson_free (message);
}

void
_mwatch_io_failed (mwatch_io_stats_t *stats, uint64_t records, const char *format, ...)
{
   va_list args;
   char *message;

   stats->dropped += records;
   if (stats->reported) {
      stats->episode += records;
      return;
   }
   stats->reported = true;
   stats->episode = records;
   va_start (args, format);
   message = bson_strdupv_printf (format, args);
   va_end (args);
   char *text = bson_strdup_printf ("%s; dropping records until it works again", message);
   _mwatch_stats_report (text, false);
   bson_free (text);
   bson_free (message);
}

void
_mwatch_io_works_again (mwatch_io_stats_t *stats, const char *what)
{
   if (!stats->reported) {
      return;
   }
   char *text = bson_strdup_printf ("%s works again; %" PRIu64 " record%s dropped during the failure",
                                    what,
                                    stats->episode,
                                    stats->episode == 1 ? "" : "s");
   stats->reported = false;
   stats->episode = 0;
   _mwatch_stats_report (text, false);
   bson_free (text);
}

void
_mwatch_io_report_dropped (const mwatch_io_stats_t *stats, const char *what)
{
   if (stats->dropped > 0) {
      _mwatch_report ("%s: %" PRIu64 " record%s dropped in all",
                      what,
                      stats->dropped,
                      stats->dropped == 1 ? "" : "s");
   }
}
