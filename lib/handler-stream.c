/* The stream, file, rotating and timed rotating file handlers.
 *
 * The four are one implementation behind one vtable: a file handler is a
 * stream handler that opened its file itself (and so closes it), and
 * writes it through a buffer of its own rather than a FILE; a rotating
 * file handler is a file handler with a size limit, a timed one a file
 * handler with a schedule (handler-timed.c).  So there is
 * one piece of code that writes a line, and one vtable for
 * _mwatch_stream_handler_set_autoflush() to recognize. */
#include "handler-private.h"
#include "fork-private.h"
#include "handler-report-private.h"
#include "handler-timed-private.h"
#include "owned-fd-private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
   /* A stream handler: the caller's FILE.  A file handler has none: its
    * lines go to `file_buffer`, and from there through file_cookie_write
    * to its descriptor. */
   FILE *fp;
   /* Until close. */
   bool open;
   /* The file's path; NULL for a stream handler, whose FILE stays the
    * caller's: it is flushed on close, never closed. */
   char *path;
   /* A file handler's descriptor, -1 while not open (delayed, after a
    * rollover, or after the application took the number). */
   mwatch_owned_fd_t file;
   /* A stream handler: what its FILE's descriptor was when the handler
    * was made (known: it had one, and fstat worked). */
   bool stream_known;
   dev_t stream_dev;
   ino_t stream_ino;
   /* errno of the last failed open, 0 when the last open worked. */
   int open_errno;
   /* Rollover happens only when both are > 0, as in Python. */
   int64_t max_bytes;
   int backup_count;
   /* A timed rotating file handler: its schedule, and when the next
    * rollover is due (seconds since the epoch). */
   bool timed_on;
   mwatch_timed_t timed;
   int64_t rollover_at;
   /* Bytes in the current file: its size when opened plus what was written
    * since, so that deciding to roll over costs no system call. */
   int64_t size;
   /* Only a regular file is rolled over: renaming /dev/null or a FIFO
    * that a log file points to would do harm and free no space. */
   bool regular;
   /* Atomic because a queue listener may set it from its own thread. */
   atomic_bool autoflush;
   /* Records given to the FILE since it was last flushed: what a failed
    * flush loses.  A file handler's FILE holds only whole records (it is
    * flushed before a line that would not fit), so these are exactly the
    * records not yet in the file. */
   uint64_t unflushed;
   /* A file handler: the file's size as far as we wrote it, and the size
    * at the end of the last record known to be in it whole, where a
    * failed write cuts the file back to (never a partial line followed by
    * another record). */
   int64_t file_end;
   int64_t whole_end;
   /* The value of reopen_generation when the file was opened: a different
    * one means mwatch_reopen() was called since. */
   unsigned generation;
   /* Monotonic time of the last look at whether the path still names the
    * file (file_moved). */
   int64_t path_checked;
   /* A file handler: its handler, and its place in the list of file
    * handlers that mwatch_reopen() walks. */
   mwatch_handler_t *handler;
   void *next_file;
   void *prev_file;
   /* Records dropped, and whether the current write failure was
    * reported. */
   mwatch_io_stats_t io;
   /* Whether a failure to rename files at rollover was reported. */
   bool file_reported;
   /* A file handler's buffer, FILE_BUFFER bytes, of which `pending` hold
    * whole lines not yet written; NULL for a stream handler, whose FILE
    * is the caller's.  Our own rather than a stdio FILE over the
    * descriptor: a line is then one memcpy, and pushing it out one
    * write(2), without stdio's layers (locks, fflush, its cookie
    * calls), which cost about as much as formatting a field does. */
   char *file_buffer;
   size_t pending;
} stream_impl_t;

bool _mwatch_file_delay_by_default = false;

/* Behind a queue, a file handler is flushed only when the listener runs
 * dry: a buffer this large takes a burst of lines in few write calls,
 * where stdio's default (the file's block size, often 4 KiB) would make
 * one every few lines. */
#define FILE_BUFFER (64 * 1024)

/* Every file handler, for mwatch_reopen().  Lock order: files_lock, then
 * a handler's lock (mwatch_reopen flushes each handler while holding it);
 * so it is never taken under a handler's lock: a file handler leaves the
 * list in its destroy, which runs after its close, outside the lock. */
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static stream_impl_t *files;
/* Counts mwatch_reopen() calls; read without a lock on every write. */
static atomic_uint reopen_generation;

/* ------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------ */

/* Opens impl->path for appending into impl->file and records what file
 * it is.  O_APPEND rather than a seek to the end, so that several handlers
 * or processes appending to one file never write over one another's
 * lines; O_CLOEXEC so that a program the application runs does not
 * inherit the log file.  Sets errno and impl->open_errno on failure. */
static bool
file_open_fd (stream_impl_t *impl)
{
   struct stat st;
   int fd = open (impl->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

   if (fd < 0 || !_mwatch_owned_fd_take (&impl->file, fd) || fstat (fd, &st) != 0) {
      impl->open_errno = errno;
      return false;
   }
   impl->size = (int64_t) st.st_size;
   impl->file_end = impl->size;
   impl->whole_end = impl->size;
   impl->regular = S_ISREG (st.st_mode);
   impl->open_errno = 0;
   impl->generation = atomic_load (&reopen_generation);
   impl->path_checked = mwatch_monotonic_us ();
   return true;
}

/* Whether impl->path still names the file impl->file has open.  A rename
 * (logrotate) or an unlink (the file or its folder removed) leaves the
 * descriptor on a file that nobody will read as the log: like Python's
 * WatchedFileHandler, the handler then opens the path again.  A path that
 * cannot be looked at for another reason (EACCES) keeps the open file. */
static bool
file_path_names_fd (const stream_impl_t *impl)
{
   struct stat st;

   if (stat (impl->path, &st) != 0) {
      return errno != ENOENT && errno != ENOTDIR;
   }
   return st.st_dev == impl->file.dev && st.st_ino == impl->file.ino;
}

/* Whether impl->path no longer names the file impl->file has open, whose
 * fstat is `st`.  Without a queue (autoflush: every record is written on
 * the thread that logs it) the path is looked at before every write(2),
 * as Python's WatchedFileHandler does.  Behind a queue, where the listener
 * writes a sparse stream's records one write(2) each, at most every
 * PATH_CHECK_US: a stat walks the path, the dearest of a record's system
 * calls after the write.  A file renamed meanwhile (logrotate) gets the
 * records of that window, which are then in the renamed file, whole, as
 * the records before the rename are; a removed file has no name left
 * (st_nlink 0), and is noticed at once, since its records would be lost. */
#define PATH_CHECK_US 100000

static bool
file_moved (stream_impl_t *impl, const struct stat *st)
{
   if (!atomic_load (&impl->autoflush) && st->st_nlink > 0) {
      int64_t now = mwatch_monotonic_us ();
      if (now - impl->path_checked < PATH_CHECK_US) {
         return false;
      }
      impl->path_checked = now;
   }
   return !file_path_names_fd (impl);
}

/* Makes impl->file the file that impl->path names, before bytes go out:
 * the descriptor must still be ours (a daemon may have closed it and
 * reused the number, issue 18), the path must still name its file (moved
 * or removed; see file_moved), and no mwatch_reopen() may have come since
 * it was opened.  Otherwise what is ours is closed and the path opened
 * again (created if missing).  One fstat per write(2), and a stat with it
 * as file_moved says. */
static bool
file_ready (stream_impl_t *impl)
{
   struct stat st;

   if (_mwatch_owned_fd_check_stat (&impl->file, &st) &&
       (impl->generation != atomic_load (&reopen_generation) || file_moved (impl, &st))) {
      _mwatch_owned_fd_close (&impl->file);
   }
   return impl->file.fd >= 0 || file_open_fd (impl);
}

/* After a write that stopped short (a full disk, a file size limit): the
 * bytes of records already in the file stay, the partial ones go, by
 * cutting the file back to the end of its last whole record, so that the
 * next record never starts in the middle of a line.  Only when nobody
 * else appended since (the file's size is what we wrote it to): cutting
 * then would remove their lines. */
static void
file_cut_partial (stream_impl_t *impl)
{
   struct stat st;
   int err = errno;

   if (impl->file_end > impl->whole_end && fstat (impl->file.fd, &st) == 0 &&
       (int64_t) st.st_size == impl->file_end && ftruncate (impl->file.fd, impl->whole_end) == 0) {
      impl->file_end = impl->whole_end;
   }
   errno = err;
}

/* A file handler's write: to our file, opened again by name first when
 * the descriptor is no longer ours (or was never opened: a delayed
 * handler).  Returns the bytes written; fewer than `size` is a failure,
 * with errno set. */
static ssize_t
file_cookie_write (void *cookie, const char *data, size_t size)
{
   stream_impl_t *impl = cookie;
   size_t done = 0;

   if (!file_ready (impl)) {
      return 0;
   }
   while (done < size) {
      ssize_t n = write (impl->file.fd, data + done, size - done);
      if (n < 0) {
         if (errno == EINTR) {
            continue;
         }
         break;
      }
      done += (size_t) n;
      impl->file_end += n;
   }
   if (done < size) {
      file_cut_partial (impl);
   }
   return (ssize_t) done;
}

/* Writes out what a file handler's buffer holds: 0, or -1 with errno
 * set.  What did not get out is dropped (the caller reports it), as the
 * records it belongs to are counted lost. */
static int
file_push (stream_impl_t *impl)
{
   size_t n = impl->pending;

   impl->pending = 0;
   if (n == 0) {
      return 0;
   }
   return (size_t) file_cookie_write (impl, impl->file_buffer, n) == n ? 0 : -1;
}

/* Counts and reports (once per episode) a failed write or flush, and
 * empties the FILE so that the next record starts clean. */
static void
write_failed (stream_impl_t *impl, int err)
{
   char buf[128];
   uint64_t lost = impl->unflushed ? impl->unflushed : 1;

   impl->unflushed = 0;
   if (impl->path) {
      /* What the buffer still holds would be retried in front of every
       * later record, and fail the same way. */
      impl->pending = 0;
      impl->size = impl->file_end; /* what was dropped never reaches it */
      if (impl->open_errno) {
         _mwatch_io_failed (&impl->io, lost, "cannot open log file \"%s\": %s", impl->path,
                            bson_strerror_r (impl->open_errno, buf, sizeof buf));
      } else {
         _mwatch_io_failed (&impl->io, lost, "cannot write to log file \"%s\": %s",
                            impl->path, bson_strerror_r (err, buf, sizeof buf));
      }
   } else {
      _mwatch_io_failed (&impl->io, lost, "cannot write to log stream: %s",
                         bson_strerror_r (err, buf, sizeof buf));
   }
}

/* Pushes out what the FILE holds.  Records that reach their destination
 * whole end a failure episode (said once); merely buffering a record ends
 * nothing. */
static void
stream_push (stream_impl_t *impl)
{
   if ((impl->path ? file_push (impl) : fflush (impl->fp)) != 0) {
      write_failed (impl, errno);
      return;
   }
   if (impl->unflushed > 0) {
      impl->unflushed = 0;
      _mwatch_io_works_again (&impl->io, impl->path ? impl->path : "log stream");
   }
   impl->whole_end = impl->file_end;
}

/* A delayed handler's check of its path at configuration time: an
 * existing file must be writable, a new one's folder must exist and be
 * writable.  What open(2) would refuse later is refused now, naming the
 * path. */
static bool
file_check_path (const char *path, bson_error_t *error)
{
   char buf[128];
   struct stat st;
   int err = 0;

   if (stat (path, &st) == 0) {
      if (S_ISDIR (st.st_mode)) {
         err = EISDIR;
      } else if (access (path, W_OK) != 0) {
         err = errno;
      }
   } else if (errno != ENOENT) {
      err = errno;
   } else {
      const char *slash = strrchr (path, '/');
      char *dir = slash ? bson_strndup (path, slash == path ? 1 : (size_t) (slash - path))
                        : bson_strdup (".");
      if (access (dir, W_OK | X_OK) != 0) {
         err = errno;
      }
      bson_free (dir);
   }
   if (err) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_IO,
                      "cannot open log file \"%s\": %s",
                      path,
                      bson_strerror_r (err, buf, sizeof buf));
      return false;
   }
   return true;
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

   /* The lines still buffered belong to the old file. */
   stream_push (impl);
   /* Processes sharing the file (a pre-fork server's workers) may all
    * find it full at once, and two shifts of the backups racing rename
    * one backup over another, losing its lines.  An exclusive flock on the
    * file makes them take turns; the one that gets it after another's
    * rotation finds the path no longer names its file, and only reopens.
    * The descriptor stays open, and so the lock held, until the shift is
    * done. */
   if (impl->file.fd >= 0) {
      while (flock (impl->file.fd, LOCK_EX) != 0 && errno == EINTR) {
      }
      if (!file_path_names_fd (impl)) {
         _mwatch_owned_fd_close (&impl->file);
         return true;
      }
   }

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
   _mwatch_owned_fd_close (&impl->file);
   return ok;
}

/* A timed handler's rollover, when its time has come (one time(2), a
 * vDSO call, per record): what is buffered goes into the old file, which
 * is closed and renamed; the caller opens the path again. */
static void
timed_roll_if_due (stream_impl_t *impl)
{
   int64_t now = (int64_t) time (NULL);

   if (now < impl->rollover_at) {
      return;
   }
   stream_push (impl);
   _mwatch_owned_fd_close (&impl->file);
   impl->rollover_at =
      _mwatch_timed_roll (&impl->timed, impl->path, impl->rollover_at, now, &impl->file_reported);
}

/* ------------------------------------------------------------------------
 * The vtable
 * ------------------------------------------------------------------------ */

/* A file handler's line into its buffer, which holds whole records only:
 * a write of a full buffer would end in the middle of a line, and a
 * failure there would leave no way to know which records got out.  A
 * line longer than the whole buffer is written at once, its newline
 * buffered.  False, with errno set, when the line did not get out. */
static bool
file_write (stream_impl_t *impl, const char *line, size_t len)
{
   if (impl->unflushed > 0 && impl->pending + len + 1 > FILE_BUFFER) {
      stream_push (impl);
   }
   impl->unflushed++;
   if (impl->pending + len + 1 > FILE_BUFFER) {
      /* The buffer is empty: nothing is pending without a record. */
      size_t n = (size_t) file_cookie_write (impl, line, len);
      impl->size += (int64_t) n;
      if (n < len) {
         return false;
      }
      line += len;
      len = 0;
   }
   memcpy (impl->file_buffer + impl->pending, line, len);
   impl->file_buffer[impl->pending + len] = '\n';
   impl->pending += len + 1;
   impl->size += (int64_t) len + 1;
   return true;
}

/* The one place where a line reaches a FILE or a file's buffer. */
static void
stream_write (stream_impl_t *impl, const char *line, size_t len)
{
   FILE *fp = impl->fp;
   size_t written;
   bool ok;
   int err;

   if (impl->path) {
      ok = file_write (impl, line, len);
      err = errno;
      if (!ok) {
         write_failed (impl, err);
      } else if (atomic_load (&impl->autoflush)) {
         stream_push (impl);
      }
      return;
   }

   /* The handler's lock keeps this handler's lines whole; locking the FILE
    * keeps them whole against other writers of the same FILE too (two
    * handlers on stderr, or the application's own messages there).  With
    * the lock held, the unlocked calls skip taking it again. */
   flockfile (fp);
   impl->unflushed++;
   written = fwrite_unlocked (line, 1, len, fp);
   if (written == len && putc_unlocked ('\n', fp) != EOF) {
      written++;
   }
   ok = written == len + 1;
   err = errno;
   funlockfile (fp);

   impl->size += (int64_t) written;
   if (!ok) {
      write_failed (impl, err);
   } else if (atomic_load (&impl->autoflush)) {
      stream_push (impl);
   }
}

/* Whether a stream handler may still write to its FILE's descriptor.  A
 * daemon that closed fd 2 may have it back as a socket of its own (its
 * input, its MongoDB connection): writing there would corrupt its data.
 * Another file, a pipe, a terminal or /dev/null put there is the
 * program's choice of where its stderr goes, and is written to. */
static bool
stream_still_safe (const stream_impl_t *impl)
{
   struct stat st;
   int fd = fileno (impl->fp);

   if (!impl->stream_known || fd < 0) {
      return true; /* a memory stream, or nothing to compare with */
   }
   if (fstat (fd, &st) != 0) {
      return false;
   }
   return (st.st_dev == impl->stream_dev && st.st_ino == impl->stream_ino) ||
          !S_ISSOCK (st.st_mode);
}

static void
stream_emit (void *data, mwatch_handler_t *handler, mwatch_record_t *record)
{
   stream_impl_t *impl = data;
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);

   if (!impl->open) {
      return;
   }
   if (impl->path) {
      if (impl->timed_on) {
         timed_roll_if_due (impl);
      }
      /* Opened now when delayed or after a rollover, for the size the
       * rollover needs; whether the descriptor is still ours is checked
       * where bytes go out, in file_cookie_write. */
      if (impl->file.fd >= 0 && should_roll_over (impl, len + 1) && roll_over (impl)) {
         impl->file_reported = false;
      }
      if (impl->file.fd < 0 && !file_open_fd (impl)) {
         impl->unflushed++;
         write_failed (impl, errno);
         return;
      }
   } else if (!stream_still_safe (impl)) {
      _mwatch_io_failed (&impl->io, 1,
                         "the log stream's descriptor %d is now a socket of the program's",
                         fileno (impl->fp));
      return;
   }
   stream_write (impl, line, len);
}

static void
stream_flush (void *data, mwatch_handler_t *handler)
{
   stream_impl_t *impl = data;
   BSON_UNUSED (handler);

   if (!impl->open) {
      return;
   }
   stream_push (impl);
   /* mwatch_reopen() asked for the file to be opened again by name: done
    * now, not at the next record, so that the old file is let go of at
    * once (a rotation's postrotate may compress or remove it). */
   if (impl->path && impl->file.fd >= 0 &&
       impl->generation != atomic_load (&reopen_generation)) {
      file_ready (impl);
   }
}

static void
stream_close (void *data, mwatch_handler_t *handler)
{
   stream_impl_t *impl = data;

   if (!impl->open) {
      return;
   }
   stream_flush (impl, handler);
   if (impl->path) {
      _mwatch_owned_fd_close (&impl->file); /* if it still is ours */
      _mwatch_io_report_dropped (&impl->io, impl->path);
   } else {
      _mwatch_io_report_dropped (&impl->io, "log stream");
   }
   impl->open = false;
}

static void
stream_destroy (void *ptr)
{
   stream_impl_t *impl = ptr;

   if (impl->handler) {
      pthread_mutex_lock (&files_lock);
      stream_impl_t *prev = impl->prev_file, *next = impl->next_file;
      if (prev) {
         prev->next_file = next;
      } else {
         files = next;
      }
      if (next) {
         next->prev_file = prev;
      }
      pthread_mutex_unlock (&files_lock);
   }
   /* Normally closed already; this only guards against a leaked fd. */
   if (impl->path) {
      _mwatch_owned_fd_close (&impl->file);
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
    * still in a buffer when the process crashes is lost: flush every
    * record unless a queue listener takes over the flushing. */
   atomic_init (&impl->autoflush, true);
   impl->file.fd = -1;
   impl->open = true;
   return impl;
}

mwatch_handler_t *
mwatch_handler_new_stream (FILE *stream)
{
   stream_impl_t *impl = stream_impl_new ();

   struct stat st;
   impl->fp = stream ? stream : stderr;
   if (fileno (impl->fp) >= 0 && fstat (fileno (impl->fp), &st) == 0) {
      impl->stream_known = true;
      impl->stream_dev = st.st_dev;
      impl->stream_ino = st.st_ino;
   }
   return mwatch_handler_new (&stream_vtable, impl);
}

/* files_lock is taken before handler locks: its rank comes before
 * theirs. */
MWATCH_FORK_INIT (files_fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_FILES, &files_lock, NULL);
}

static void
files_add (stream_impl_t *impl, mwatch_handler_t *handler)
{
   impl->handler = handler;
   pthread_mutex_lock (&files_lock);
   impl->next_file = files;
   if (files) {
      files->prev_file = impl;
   }
   files = impl;
   pthread_mutex_unlock (&files_lock);
}

void
mwatch_reopen (void)
{
   atomic_fetch_add (&reopen_generation, 1);
   pthread_mutex_lock (&files_lock);
   for (stream_impl_t *impl = files; impl; impl = impl->next_file) {
      mwatch_handler_flush (impl->handler); /* reopens, under its lock */
   }
   pthread_mutex_unlock (&files_lock);
}

/* A file handler, opened now or at its first record. */
static mwatch_handler_t *
file_handler_new (const char *path,
                  int64_t max_bytes,
                  int backup_count,
                  bool delay,
                  const mwatch_timed_t *timed,
                  bson_error_t *error)
{
   char buf[128];

   if (!path || !*path) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "a log file needs a path");
      return NULL;
   }
   if (delay && !file_check_path (path, error)) {
      return NULL;
   }

   stream_impl_t *impl = stream_impl_new ();
   impl->path = bson_strdup (path);
   /* Negative limits, like zero ones, mean "never roll over". */
   impl->max_bytes = max_bytes;
   impl->backup_count = backup_count;
   if (timed) {
      /* As Python: one period after the file was last written, so that an
       * old file left by an earlier run is rolled over at once. */
      struct stat st;
      impl->timed_on = true;
      impl->timed = *timed;
      impl->rollover_at = _mwatch_timed_next (
         timed, stat (path, &st) == 0 ? (int64_t) st.st_mtime : (int64_t) time (NULL));
   }
   if (!delay && !file_open_fd (impl)) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_IO,
                      "cannot open log file \"%s\": %s",
                      path,
                      bson_strerror_r (errno, buf, sizeof buf));
      _mwatch_owned_fd_close (&impl->file);
      stream_destroy (impl);
      return NULL;
   }
   impl->file_buffer = bson_malloc (FILE_BUFFER);
   mwatch_handler_t *handler = mwatch_handler_new (&stream_vtable, impl);
   files_add (impl, handler);
   return handler;
}

mwatch_handler_t *
mwatch_handler_new_file (const char *path, bson_error_t *error)
{
   return file_handler_new (path, 0, 0, false, NULL, error);
}

mwatch_handler_t *
mwatch_handler_new_rotating_file (const char *path,
                                  int64_t max_bytes,
                                  int backup_count,
                                  bson_error_t *error)
{
   return file_handler_new (path, max_bytes, backup_count, false, NULL, error);
}

mwatch_handler_t *
mwatch_handler_new_delayed_file (const char *path,
                                 int64_t max_bytes,
                                 int backup_count,
                                 bson_error_t *error)
{
   return file_handler_new (path, max_bytes, backup_count, true, NULL, error);
}

mwatch_handler_t *
mwatch_handler_new_timed_rotating_file (const char *path,
                                        const mwatch_timed_rotation_opts_t *opts,
                                        bson_error_t *error)
{
   mwatch_timed_rotation_opts_t defaults;
   mwatch_timed_t timed;

   if (!opts) {
      mwatch_timed_rotation_opts_init (&defaults);
      opts = &defaults;
   }
   if (!_mwatch_timed_init (&timed, opts, error)) {
      return NULL;
   }
   return file_handler_new (path, 0, 0, opts->delay, &timed, error);
}

void
_mwatch_stream_handler_set_autoflush (mwatch_handler_t *handler, bool on)
{
   if (handler && _mwatch_handler_vtable (handler) == &stream_vtable) {
      stream_impl_t *impl = mwatch_handler_impl (handler);
      atomic_store (&impl->autoflush, on);
   }
}
