/* The stream, file and rotating file handlers.
 *
 * The three are one implementation behind one vtable: a file handler is a
 * stream handler that opened its FILE itself (and so closes it), and a
 * rotating file handler is a file handler with a size limit.  So there is
 * one piece of code that writes a line, and one vtable for
 * _mwatch_stream_handler_set_autoflush() to recognize. */
#include "handler-builtin.h"
#include "handler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
   /* NULL after close, and while a file handler cannot reopen its file
    * after a rollover (each record tries again). */
   FILE *fp;
   /* The file's path; NULL for a stream handler, whose FILE stays the
    * caller's: it is flushed on close, never closed. */
   char *path;
   /* Rollover happens only when both are > 0, as in Python. */
   int64_t max_bytes;
   int backup_count;
   /* Bytes in the current file: its size when opened plus what was written
    * since, so that deciding to roll over costs no system call. */
   int64_t size;
   /* Only a regular file is rolled over: renaming /dev/null or a FIFO
    * that a log file points to would do harm and free no space. */
   bool regular;
   /* Atomic because a queue listener may set it from its own thread. */
   atomic_bool autoflush;
   /* Failures already reported on stderr: writing, and opening or
    * renaming files. */
   bool write_reported;
   bool file_reported;
   /* A file handler's stdio buffer, FILE_BUFFER bytes, kept across
    * rollovers; NULL for a stream handler, whose FILE is the caller's. */
   char *file_buffer;
} stream_impl_t;

/* Behind a queue, a file handler is flushed only when the listener runs
 * dry: a buffer this large takes a burst of lines in few write calls,
 * where stdio's default (the file's block size, often 4 KiB) would make
 * one every few lines. */
#define FILE_BUFFER (64 * 1024)

/* ------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------ */

/* Opens impl->path for appending.  O_APPEND rather than a seek to the end,
 * so that several handlers or processes appending to one file never write
 * over one another's lines; O_CLOEXEC so that a program the application
 * runs does not inherit the log file. */
static bool
file_open (stream_impl_t *impl, bson_error_t *error)
{
   FILE *fp = NULL;
   struct stat st;
   int fd = open (impl->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

   if (fd >= 0 && fstat (fd, &st) == 0) {
      fp = fdopen (fd, "a");
   }
   if (!fp) {
      int err = errno;
      char buf[128];

      if (fd >= 0) {
         close (fd);
      }
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "cannot open log file \"%s\": %s",
                      impl->path,
                      bson_strerror_r (err, buf, sizeof buf));
      return false;
   }

   if (!impl->file_buffer) {
      impl->file_buffer = bson_malloc (FILE_BUFFER);
   }
   /* Before any output, as setvbuf requires; the buffer outlives the
    * FILE, which is closed before the handler is destroyed. */
   setvbuf (fp, impl->file_buffer, _IOFBF, FILE_BUFFER);
   impl->fp = fp;
   impl->size = (int64_t) st.st_size;
   impl->regular = S_ISREG (st.st_mode);
   return true;
}

static void
report_write_error (stream_impl_t *impl, int err)
{
   char buf[128];

   if (impl->path) {
      _mwatch_handler_report_once (&impl->write_reported,
                                   "cannot write to log file \"%s\": %s",
                                   impl->path,
                                   bson_strerror_r (err, buf, sizeof buf));
   } else {
      _mwatch_handler_report_once (&impl->write_reported,
                                   "cannot write to log stream: %s",
                                   bson_strerror_r (err, buf, sizeof buf));
   }
}

/* Writing `line_len` more bytes would take the file past max_bytes.  An
 * empty file takes any line, however long: rolling it over would only
 * make an empty backup. */
static bool
should_roll_over (const stream_impl_t *impl, size_t line_len)
{
   return impl->max_bytes > 0 && impl->backup_count > 0 && impl->regular &&
          impl->size > 0 && impl->size + (int64_t) line_len > impl->max_bytes;
}

/* "path.i", and "path" itself for i = 0. */
static char *
backup_name (const char *path, int i)
{
   return i > 0 ? bson_strdup_printf ("%s.%d", path, i) : bson_strdup (path);
}

/* Closes the file and shifts the backups: path.N goes, path.N-1 becomes
 * path.N, ..., path becomes path.1.  The caller reopens path.  A step that
 * fails is reported and skipped rather than stopping the others: at worst
 * path keeps its name and is reopened and appended to, past max_bytes,
 * which keeps the lines.  A missing file (a backup not made yet, or a log
 * someone removed) is no failure.  Returns false if anything failed. */
static bool
roll_over (stream_impl_t *impl)
{
   bool ok = true;
   char buf[128];

   if (fclose (impl->fp) != 0) {
      report_write_error (impl, errno);
   }
   impl->fp = NULL;

   char *dst = backup_name (impl->path, impl->backup_count);
   if (unlink (dst) != 0 && errno != ENOENT) {
      ok = false;
      _mwatch_handler_report_once (&impl->file_reported,
                                   "cannot remove old log file \"%s\": %s",
                                   dst,
                                   bson_strerror_r (errno, buf, sizeof buf));
   }
   for (int i = impl->backup_count - 1; i >= 0; i--) {
      char *src = backup_name (impl->path, i);
      if (rename (src, dst) != 0 && errno != ENOENT) {
         ok = false;
         _mwatch_handler_report_once (&impl->file_reported,
                                      "cannot rename log file \"%s\" to \"%s\": %s",
                                      src,
                                      dst,
                                      bson_strerror_r (errno, buf, sizeof buf));
      }
      bson_free (dst);
      dst = src;
   }
   bson_free (dst);
   return ok;
}

/* ------------------------------------------------------------------------
 * The vtable
 * ------------------------------------------------------------------------ */

/* The one place where a line reaches a FILE. */
static void
stream_write (stream_impl_t *impl, const char *line, size_t len)
{
   FILE *fp = impl->fp;
   size_t written;
   bool ok;
   int err;

   /* The handler's lock keeps this handler's lines whole; locking the FILE
    * keeps them whole against other writers of the same FILE too (two
    * handlers on stderr, or the application's own messages there).  With
    * the lock held, the unlocked calls skip taking it again. */
   flockfile (fp);
   written = fwrite_unlocked (line, 1, len, fp);
   if (written == len && putc_unlocked ('\n', fp) != EOF) {
      written++;
   }
   ok = written == len + 1;
   if (ok && atomic_load (&impl->autoflush)) {
      ok = fflush (fp) == 0;
   }
   err = errno;
   funlockfile (fp);

   impl->size += (int64_t) written;
   if (ok) {
      impl->write_reported = false;
   } else {
      report_write_error (impl, err);
   }
}

static void
stream_emit (mwatch_handler_t *handler, mwatch_record_t *record)
{
   stream_impl_t *impl = mwatch_handler_impl (handler);
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);
   bool rolled_ok = true;

   if (impl->path) {
      bson_error_t error;

      if (impl->fp && should_roll_over (impl, len + 1)) {
         rolled_ok = roll_over (impl);
      }
      if (!impl->fp) {
         if (!file_open (impl, &error)) {
            /* The line is lost; the next record tries again. */
            _mwatch_handler_report_once (&impl->file_reported, "%s", error.message);
            return;
         }
         /* Back to normal only when the rollover went well too: a rename
          * that keeps failing must not be reported on every record. */
         if (rolled_ok) {
            impl->file_reported = false;
         }
      }
   }
   stream_write (impl, line, len);
}

static void
stream_flush (mwatch_handler_t *handler)
{
   stream_impl_t *impl = mwatch_handler_impl (handler);

   if (impl->fp && fflush (impl->fp) != 0) {
      report_write_error (impl, errno);
   }
}

static void
stream_close (mwatch_handler_t *handler)
{
   stream_impl_t *impl = mwatch_handler_impl (handler);

   if (!impl->fp) {
      return;
   }
   if ((impl->path ? fclose (impl->fp) : fflush (impl->fp)) != 0) {
      report_write_error (impl, errno);
   }
   impl->fp = NULL;
}

static void
stream_destroy (void *ptr)
{
   stream_impl_t *impl = ptr;

   /* Normally closed already; this only guards against a leaked fd. */
   if (impl->fp && impl->path) {
      fclose (impl->fp);
   }
   bson_free (impl->file_buffer);
   bson_free (impl->path);
   bson_free (impl);
}

static const mwatch_handler_vtable_t stream_vtable = {
   .emit = stream_emit,
   .flush = stream_flush,
   .close = stream_close,
   .destroy = stream_destroy,
   .deferred = false,
};

/* ------------------------------------------------------------------------
 * Public and internal API
 * ------------------------------------------------------------------------ */

static stream_impl_t *
stream_impl_new (void)
{
   stream_impl_t *impl = bson_malloc0 (sizeof *impl);

   /* Used directly, a handler writes on the thread that logs, and a line
    * still in a stdio buffer when the process crashes is lost: flush every
    * record unless a queue listener takes over the flushing. */
   atomic_init (&impl->autoflush, true);
   return impl;
}

mwatch_handler_t *
mwatch_stream_handler_new (FILE *stream)
{
   stream_impl_t *impl = stream_impl_new ();

   impl->fp = stream ? stream : stderr;
   return mwatch_handler_new (&stream_vtable, impl);
}

mwatch_handler_t *
mwatch_file_handler_new (const char *path, bson_error_t *error)
{
   return mwatch_rotating_file_handler_new (path, 0, 0, error);
}

mwatch_handler_t *
mwatch_rotating_file_handler_new (const char *path,
                                  int64_t max_bytes,
                                  int backup_count,
                                  bson_error_t *error)
{
   if (!path || !*path) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "a log file needs a path");
      return NULL;
   }

   stream_impl_t *impl = stream_impl_new ();
   impl->path = bson_strdup (path);
   /* Negative limits, like zero ones, mean "never roll over". */
   impl->max_bytes = max_bytes;
   impl->backup_count = backup_count;
   if (!file_open (impl, error)) {
      stream_destroy (impl);
      return NULL;
   }
   return mwatch_handler_new (&stream_vtable, impl);
}

void
_mwatch_stream_handler_set_autoflush (mwatch_handler_t *handler, bool on)
{
   if (handler && _mwatch_handler_vtable (handler) == &stream_vtable) {
      stream_impl_t *impl = mwatch_handler_impl (handler);
      atomic_store (&impl->autoflush, on);
   }
}
