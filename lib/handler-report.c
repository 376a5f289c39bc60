/* A writing handler's failure reports: once per failure episode, with the
 * records it cost, on the "mongowatch.stats" logger. */
#include "logger-private.h"
#include "handler-report-private.h"
#include "report-private.h"

#include <inttypes.h>
#include <stdarg.h>

void
_mwatch_stats_report (const char *text, bool closing)
{
   mwatch_logger_t *stats = mwatch_logger_get (MWATCH_STATS_LOGGER);
   if (!closing && mwatch_logger_has_handlers (stats)) {
      mwatch_logger_log_text (stats, MWATCH_LEVEL_WARNING, text);
   } else {
      _mwatch_report ("%s", text);
   }
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
