/* The handlers that do no I/O of their own — callback and null — and the
 * failure reports and dropped-record counts shared by those that do. */
#include "handler-builtin.h"
#include "logging-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether fd 2 is somewhere a report can go: a terminal, a file or a
 * pipe.  A daemon's fd 2 is often /dev/null (nobody reads it), or closed
 * and its number reused by the daemon's own socket or data file, where a
 * report would corrupt what is there. */
static bool
stderr_usable (void)
{
   struct stat st;
   if (fstat (STDERR_FILENO, &st) != 0) {
      return false;
   }
   return isatty (STDERR_FILENO) || S_ISREG (st.st_mode) || S_ISFIFO (st.st_mode);
}

void
_mwatch_report (const char *format, ...)
{
   va_list args;
   char *message;

   va_start (args, format);
   message = bson_strdupv_printf (format, args);
   va_end (args);
   if (stderr_usable ()) {
      /* One call, so that the report is one line even among other
       * threads' writes to stderr. */
      fprintf (stderr, "mongowatch: %s\n", message);
   } else {
      _mwatch_syslog_report (message);
   }
   bson_free (message);
}

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

bool
_mwatch_owned_fd_take (mwatch_owned_fd_t *owned, int fd)
{
   struct stat st;

   if (fstat (fd, &st) != 0) {
      int err = errno;
      close (fd);
      errno = err;
      owned->fd = -1;
      return false;
   }
   owned->fd = fd;
   owned->dev = st.st_dev;
   owned->ino = st.st_ino;
   return true;
}

bool
_mwatch_owned_fd_check (mwatch_owned_fd_t *owned)
{
   struct stat st;

   if (owned->fd >= 0 &&
       (fstat (owned->fd, &st) != 0 || st.st_dev != owned->dev || st.st_ino != owned->ino)) {
      owned->fd = -1; /* the application's now: never written to, never closed */
   }
   return owned->fd >= 0;
}

void
_mwatch_owned_fd_close (mwatch_owned_fd_t *owned)
{
   if (_mwatch_owned_fd_check (owned)) {
      close (owned->fd);
      owned->fd = -1;
   }
}

/* ------------------------------------------------------------------------
 * Callback
 * ------------------------------------------------------------------------ */

typedef struct {
   mwatch_line_cb_t callback;
   void *user_data;
   void (*free_user_data) (void *);
} callback_impl_t;

static void
callback_emit (void *data, mwatch_handler_t *handler, mwatch_record_t *record)
{
   callback_impl_t *impl = data;
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);

   impl->callback (line, len, record, impl->user_data);
}

static void
callback_destroy (void *data)
{
   callback_impl_t *impl = data;
   if (impl->free_user_data) {
      impl->free_user_data (impl->user_data);
   }
   bson_free (impl);
}

static const mwatch_handler_vtable_t callback_vtable = {
   .emit = callback_emit,
   .flush = NULL,
   .close = NULL,
   .destroy = callback_destroy,
   .deferred = false,
};

mwatch_handler_t *
mwatch_handler_new_callback (mwatch_line_cb_t callback,
                             void *user_data,
                             void (*free_user_data) (void *))
{
   BSON_ASSERT_PARAM (callback);

   callback_impl_t *impl = bson_malloc (sizeof *impl);
   impl->callback = callback;
   impl->user_data = user_data;
   impl->free_user_data = free_user_data;
   return mwatch_handler_new (&callback_vtable, impl);
}

/* ------------------------------------------------------------------------
 * Null
 * ------------------------------------------------------------------------ */

/* Not even formatting: a null handler exists so that a logger has a
 * handler (and its records do not fall through to a default), at no cost. */
static void
null_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   BSON_UNUSED (impl);
   BSON_UNUSED (handler);
   BSON_UNUSED (record);
}

static const mwatch_handler_vtable_t null_vtable = {
   .emit = null_emit,
   .flush = NULL,
   .close = NULL,
   .destroy = NULL,
   .deferred = false,
};

mwatch_handler_t *
mwatch_handler_new_null (void)
{
   return mwatch_handler_new (&null_vtable, NULL);
}
