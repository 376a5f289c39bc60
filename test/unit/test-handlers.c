/* The built-in handlers: stream, file, rotating file, syslog, callback and
 * null, against real files and sockets in a temporary directory.
 *
 * Every handler gets the formatter "{levelname} {watch.Collection}", so a
 * record at INFO for collection "c1" is the line "INFO c1".  What a handler
 * reports on stderr is caught by pointing fd 2 at a file for a while. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../lib/handler-private.h"
#include "../../lib/handler-timed-private.h"
#include "../../lib/syslog-socket-private.h"
#include "test-util.h"
#include "unit/suites.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* One directory for a test case, made before its tests and removed after
 * them, whether they pass or not; each test works in a directory of its
 * own inside it (test_dir). */
static char root[PATH_MAX];

static void
root_setup (void)
{
   bson_snprintf (root, sizeof root, "/tmp/mwatch-handlers-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (root));
}

static void
root_teardown (void)
{
   mwatch_test_remove_tree (root);
}

static void
test_dir (char *dir, size_t size)
{
   bson_snprintf (dir, size, "%s/XXXXXX", root);
   ck_assert_ptr_nonnull (mkdtemp (dir));
}

/* test_dir, and in `path` the file `name` inside it; both PATH_MAX. */
static void
test_file (char *dir, char *path, const char *name)
{
   test_dir (dir, PATH_MAX);
   bson_snprintf (path, PATH_MAX, "%s/%s", dir, name);
}

static void
assert_file (const char *path, const char *want)
{
   char *got = mwatch_test_slurp (path, NULL);
   ck_assert_msg (got, "cannot read %s", path);
   ck_assert_str_eq (got, want);
   bson_free (got);
}

static bool
exists (const char *path)
{
   struct stat st;
   return stat (path, &st) == 0;
}

static void
use_test_format (mwatch_handler_t *handler)
{
   bson_error_t error;
   mwatch_formatter_t *formatter =
      mwatch_formatter_new ("{levelname} {watch.Collection}", NULL, &error);
   ck_assert_msg (formatter, "%s", error.message);
   mwatch_handler_set_formatter (handler, formatter);
   mwatch_formatter_destroy (formatter);
}

/* Handles one record at `level` whose message's Collection is
 * `collection`; returns what mwatch_handler_handle returned. */
static bool
emit (mwatch_handler_t *handler, int level, const char *collection)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "Collection", collection);
   mwatch_message_set_ready (msg);

   mwatch_record_t record;
   memset (&record, 0, sizeof record);
   record.name = "mongowatch.test";
   record.level = level;
   record.timeout_level = level;
   record.created = mwatch_realtime_us ();
   record.process = getpid ();
   record.watch = msg;

   bool emitted = mwatch_handler_handle (handler, &record);
   mwatch_message_destroy (msg);
   return emitted;
}

/* Emits INFO records "c<first>" .. "c<last>", numbered with 4 digits so
 * that every line is "INFO cNNNN\n", 11 bytes. */
#define NUMBERED_LINE_LEN 11

static void
emit_numbered (mwatch_handler_t *handler, int first, int last)
{
   for (int i = first; i <= last; i++) {
      char collection[16];
      bson_snprintf (collection, sizeof collection, "c%04d", i);
      emit (handler, MWATCH_LEVEL_INFO, collection);
   }
}

/* stderr, caught in a file between capture_begin and capture_end. */
typedef struct {
   char path[PATH_MAX];
   int saved_fd;
} capture_t;

static void
capture_begin (capture_t *capture, const char *dir)
{
   bson_snprintf (capture->path, sizeof capture->path, "%s/stderr.txt", dir);
   int fd = open (capture->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
   ck_assert_int_ge (fd, 0);
   fflush (stderr);
   capture->saved_fd = dup (STDERR_FILENO);
   dup2 (fd, STDERR_FILENO);
   close (fd);
}

/* What was written to stderr meanwhile; bson_free it. */
static char *
capture_end (capture_t *capture)
{
   fflush (stderr);
   dup2 (capture->saved_fd, STDERR_FILENO);
   close (capture->saved_fd);
   char *text = mwatch_test_slurp (capture->path, NULL);
   ck_assert_ptr_nonnull (text);
   return text;
}

/* Asserts that `report` (freed here) is `count` lines, each a mongowatch
 * report that names `path`. */
static void
assert_reports (char *report, const char *path, size_t count)
{
   size_t lines = 0;
   for (char *line = report; *line; line = strchr (line, '\n') + 1) {
      char *end = strchr (line, '\n');
      ck_assert_msg (end, "unterminated: %s", line);
      *end = '\0';
      ck_assert_msg (strncmp (line, "mongowatch: ", 12) == 0, "%s", line);
      ck_assert_msg (strstr (line, path), "%s", line);
      *end = '\n';
      lines++;
   }
   ck_assert_uint_eq (lines, count);
   bson_free (report);
}

/* ------------------------------------------------------------------------
 * Stream handler
 * ------------------------------------------------------------------------ */

/* A memory stream: `size` shows what was flushed to it so far. */
typedef struct {
   char *data;
   size_t size;
   FILE *fp;
} memstream_t;

static mwatch_handler_t *
memstream_handler (memstream_t *m)
{
   m->data = NULL;
   m->size = 0;
   m->fp = open_memstream (&m->data, &m->size);
   ck_assert_ptr_nonnull (m->fp);
   mwatch_handler_t *handler = mwatch_handler_new_stream (m->fp);
   use_test_format (handler);
   return handler;
}

START_TEST (test_stream_writes_lines)
{
   memstream_t m;
   mwatch_handler_t *handler = memstream_handler (&m);

   ck_assert (emit (handler, MWATCH_LEVEL_INFO, "c1"));
   /* Flushed after each record. */
   ck_assert_uint_eq (m.size, strlen ("INFO c1\n"));
   ck_assert (emit (handler, MWATCH_LEVEL_WARNING, "c2"));
   ck_assert_uint_eq (m.size, strlen ("INFO c1\nWARNING c2\n"));

   /* Closing flushes but leaves the stream to its owner. */
   mwatch_handler_close (handler);
   mwatch_handler_destroy (handler);
   ck_assert_int_ge (fputs ("mine\n", m.fp), 0);
   fclose (m.fp);
   ck_assert_str_eq (m.data, "INFO c1\nWARNING c2\nmine\n");
   free (m.data);
}
END_TEST

START_TEST (test_stream_autoflush_off)
{
   memstream_t m;
   mwatch_handler_t *handler = memstream_handler (&m);

   _mwatch_stream_handler_set_autoflush (handler, false);
   emit (handler, MWATCH_LEVEL_INFO, "c1");
   emit (handler, MWATCH_LEVEL_INFO, "c2");
   ck_assert_uint_eq (m.size, 0);
   mwatch_handler_flush (handler);
   ck_assert_uint_eq (m.size, strlen ("INFO c1\nINFO c2\n"));

   _mwatch_stream_handler_set_autoflush (handler, true);
   emit (handler, MWATCH_LEVEL_INFO, "c3");
   ck_assert_uint_eq (m.size, strlen ("INFO c1\nINFO c2\nINFO c3\n"));

   /* Buffered lines are flushed on close. */
   _mwatch_stream_handler_set_autoflush (handler, false);
   emit (handler, MWATCH_LEVEL_INFO, "c4");
   mwatch_handler_destroy (handler);
   ck_assert_uint_eq (m.size, strlen ("INFO c1\nINFO c2\nINFO c3\nINFO c4\n"));

   fclose (m.fp);
   free (m.data);
}
END_TEST

START_TEST (test_autoflush_ignores_other_handlers)
{
   mwatch_handler_t *handler = mwatch_handler_new_null ();
   _mwatch_stream_handler_set_autoflush (handler, false);
   _mwatch_stream_handler_set_autoflush (NULL, false);
   mwatch_handler_destroy (handler);
}
END_TEST

/* What `handler` writes to stderr for one record at ERROR, through to
 * its destruction, which is what flushes and closes it. */
static char *
stderr_of_record (mwatch_handler_t *handler)
{
   char dir[PATH_MAX];
   capture_t capture;
   test_dir (dir, sizeof dir);

   use_test_format (handler);
   capture_begin (&capture, dir);
   ck_assert (emit (handler, MWATCH_LEVEL_ERROR, "users"));
   mwatch_handler_destroy (handler);
   return capture_end (&capture);
}

START_TEST (test_stream_default_stderr)
{
   char *text = stderr_of_record (mwatch_handler_new_stream (NULL));
   ck_assert_str_eq (text, "ERROR users\n");
   bson_free (text);
}
END_TEST

/* ------------------------------------------------------------------------
 * File handler
 * ------------------------------------------------------------------------ */

START_TEST (test_file_appends)
{
   char dir[PATH_MAX], path[PATH_MAX];
   bson_error_t error;
   test_file (dir, path, "app.log");

   FILE *fp = fopen (path, "w");
   fputs ("old line\n", fp);
   fclose (fp);

   mwatch_handler_t *a = mwatch_handler_new_file (path, &error);
   ck_assert_msg (a, "%s", error.message);
   mwatch_handler_t *b = mwatch_handler_new_file (path, &error);
   ck_assert_msg (b, "%s", error.message);
   use_test_format (a);
   use_test_format (b);

   emit (a, MWATCH_LEVEL_INFO, "a1");
   emit (b, MWATCH_LEVEL_INFO, "b1");
   emit (a, MWATCH_LEVEL_INFO, "a2");
   /* Written through, not held in a buffer, before the handlers go. */
   assert_file (path, "old line\nINFO a1\nINFO b1\nINFO a2\n");

   mwatch_handler_destroy (a);
   mwatch_handler_destroy (b);
   assert_file (path, "old line\nINFO a1\nINFO b1\nINFO a2\n");
}
END_TEST

/* Behind a queue, autoflush is off and the listener flushes when it runs
 * dry: a file handler holds a burst of lines in its stdio buffer, well
 * past the 4 KiB stdio would give a file, and writes them whole and in
 * order when flushed. */
START_TEST (test_file_buffers_bursts)
{
   char dir[PATH_MAX], path[PATH_MAX];
   bson_error_t error;
   struct stat st;
   test_file (dir, path, "burst.log");

   mwatch_handler_t *handler = mwatch_handler_new_file (path, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   _mwatch_stream_handler_set_autoflush (handler, false);

   /* 1,000 lines of 11 bytes: 11,000 bytes. */
   emit_numbered (handler, 1, 1000);
   ck_assert_int_eq (stat (path, &st), 0);
   ck_assert_int_eq (st.st_size, 0);
   mwatch_handler_flush (handler);
   ck_assert_int_eq (stat (path, &st), 0);
   ck_assert_int_eq (st.st_size, 1000 * NUMBERED_LINE_LEN);

   /* Past the buffer: written out as it fills, all of it after a flush. */
   emit_numbered (handler, 1001, 9000);
   mwatch_handler_flush (handler);
   mwatch_handler_destroy (handler);

   size_t len;
   char *text = mwatch_test_slurp (path, &len);
   ck_assert_ptr_nonnull (text);
   ck_assert_uint_eq (len, 9000 * NUMBERED_LINE_LEN);
   for (int i = 0; i < 9000; i++) {
      char want[16];
      bson_snprintf (want, sizeof want, "INFO c%04d\n", i + 1);
      ck_assert (memcmp (text + (size_t) i * NUMBERED_LINE_LEN, want, NUMBERED_LINE_LEN) == 0);
   }
   bson_free (text);
}
END_TEST

START_TEST (test_file_mode)
{
   char dir[PATH_MAX], path[PATH_MAX];
   bson_error_t error;
   struct stat st;
   test_file (dir, path, "new.log");

   mode_t old_umask = umask (022);
   mwatch_handler_t *handler = mwatch_handler_new_file (path, &error);
   umask (old_umask);
   ck_assert_msg (handler, "%s", error.message);

   ck_assert_int_eq (stat (path, &st), 0);
   ck_assert_int_eq (st.st_mode & 07777, 0640);
   ck_assert_int_eq (st.st_size, 0);
   mwatch_handler_destroy (handler);
}
END_TEST

START_TEST (test_file_missing_directory)
{
   char dir[PATH_MAX], path[PATH_MAX], want[PATH_MAX + 64];
   bson_error_t error;
   test_file (dir, path, "nope/x.log");

   ck_assert_ptr_null (mwatch_handler_new_file (path, &error));
   ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
   ck_assert_uint_eq (error.code, MWATCH_ERROR_IO);
   bson_snprintf (
      want, sizeof want, "cannot open log file \"%s\": No such file or directory", path);
   ck_assert_str_eq (error.message, want);

   ck_assert_ptr_null (mwatch_handler_new_file ("", &error));
   ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
   ck_assert_ptr_null (mwatch_handler_new_rotating_file (path, 100, 2, &error));
   ck_assert_str_eq (error.message, want);
}
END_TEST

/* ------------------------------------------------------------------------
 * Rotating file handler
 * ------------------------------------------------------------------------ */

/* `path`, or path.i for i > 0. */
static void
backup_path (char *out, size_t size, const char *path, int i)
{
   if (i == 0) {
      bson_snprintf (out, size, "%s", path);
   } else {
      bson_snprintf (out, size, "%s.%d", path, i);
   }
}

/* Checks that exactly path, path.1 .. path.backups exist (path.backups+1
 * does not), none larger than max_bytes, and that read from the oldest
 * backup to path they hold the numbered lines first .. last in order. */
static void
assert_rotated (const char *path, int backups, int64_t max_bytes, int first, int last)
{
   char name[PATH_MAX];
   int next = first;

   backup_path (name, sizeof name, path, backups + 1);
   ck_assert_msg (!exists (name), "%s should not exist", name);

   for (int i = backups; i >= 0; i--) {
      size_t len;
      backup_path (name, sizeof name, path, i);
      char *text = mwatch_test_slurp (name, &len);
      ck_assert_msg (text, "%s is missing", name);
      ck_assert_msg ((int64_t) len <= max_bytes, "%s has %zu bytes", name, len);
      ck_assert_msg (len > 0, "%s is empty", name);
      for (char *line = text; *line; line = strchr (line, '\n') + 1) {
         char want[16];
         bson_snprintf (want, sizeof want, "INFO c%04d\n", next++);
         ck_assert_msg (strncmp (line, want, strlen (want)) == 0, "in %s: %s", name, line);
      }
      bson_free (text);
   }
   ck_assert_int_eq (next, last + 1);
}

static mwatch_handler_t *
rotating_new (const char *path, int64_t max_bytes, int backups)
{
   bson_error_t error;
   mwatch_handler_t *handler = mwatch_handler_new_rotating_file (path, max_bytes, backups, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   return handler;
}

/* Numbered lines first .. last through a new rotating file handler. */
static void
rotate_numbered (const char *path, int64_t max_bytes, int backups, int first, int last)
{
   mwatch_handler_t *handler = rotating_new (path, max_bytes, backups);
   emit_numbered (handler, first, last);
   mwatch_handler_destroy (handler);
}

START_TEST (test_rotating_keeps_backups)
{
   char dir[PATH_MAX], path[PATH_MAX];
   test_file (dir, path, "r.log");

   /* 4 lines of 11 bytes fit in 50.  30 lines: path holds 29-30, path.1
    * 25-28, path.2 21-24, path.3 17-20; 1-16 are gone. */
   rotate_numbered (path, 50, 3, 1, 30);
   assert_rotated (path, 3, 50, 17, 30);

   /* A new handler takes the size of the file it finds: 2 more lines fit
    * in path (4 lines), the third starts a new one. */
   rotate_numbered (path, 50, 3, 31, 33);
   assert_rotated (path, 3, 50, 21, 33);
}
END_TEST

START_TEST (test_rotating_exact_fit)
{
   char dir[PATH_MAX], path[PATH_MAX];
   test_file (dir, path, "r.log");

   /* A file may reach max_bytes exactly: 2 lines of 11 in 22. */
   rotate_numbered (path, 2 * NUMBERED_LINE_LEN, 1, 1, 4);
   assert_rotated (path, 1, 2 * NUMBERED_LINE_LEN, 1, 4);
}
END_TEST

START_TEST (test_rotating_existing_content)
{
   char dir[PATH_MAX], path[PATH_MAX], one[PATH_MAX];
   test_file (dir, path, "r.log");
   bson_snprintf (one, sizeof one, "%s.1", path);

   FILE *fp = fopen (path, "w");
   fputs ("0123456789012345678901234567890123456789\n", fp); /* 41 bytes */
   fclose (fp);

   rotate_numbered (path, 50, 2, 1, 1);

   assert_file (one, "0123456789012345678901234567890123456789\n");
   assert_file (path, "INFO c0001\n");
}
END_TEST

START_TEST (test_rotating_long_lines)
{
   char dir[PATH_MAX], path[PATH_MAX], name[PATH_MAX];
   test_file (dir, path, "r.log");

   /* Every line is longer than max_bytes: each gets a file of its own,
    * and the first goes to the empty file rather than make an empty
    * backup. */
   mwatch_handler_t *handler = rotating_new (path, 5, 2);
   emit_numbered (handler, 1, 1);
   backup_path (name, sizeof name, path, 1);
   ck_assert (!exists (name));
   emit_numbered (handler, 2, 4);
   mwatch_handler_destroy (handler);

   for (int i = 0; i <= 2; i++) {
      char want[16];
      backup_path (name, sizeof name, path, i);
      bson_snprintf (want, sizeof want, "INFO c%04d\n", 4 - i);
      assert_file (name, want);
   }
   backup_path (name, sizeof name, path, 3);
   ck_assert (!exists (name));
}
END_TEST

START_TEST (test_rotating_buffered)
{
   char dir[PATH_MAX], path[PATH_MAX];
   test_file (dir, path, "r.log");

   /* Without autoflush, as behind a queue: each rollover writes out what
    * the buffer holds before it renames, so every line lands in its file.
    * 9,000 lines of 11 bytes, 90 to a file of 1,000 bytes: path holds
    * 8911-9000, path.3 8641-8730. */
   mwatch_handler_t *handler = rotating_new (path, 1000, 3);
   _mwatch_stream_handler_set_autoflush (handler, false);
   emit_numbered (handler, 1, 9000);
   mwatch_handler_destroy (handler);
   assert_rotated (path, 3, 1000, 8641, 9000);
}
END_TEST

START_TEST (test_rotating_never)
{
   struct {
      int64_t max_bytes;
      int backups;
   } cases[] = {{0, 3}, {50, 0}, {-1, 3}, {50, -1}};

   for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      char dir[PATH_MAX], path[PATH_MAX], one[PATH_MAX];
      size_t len;
      test_file (dir, path, "r.log");
      bson_snprintf (one, sizeof one, "%s.1", path);

      rotate_numbered (path, cases[c].max_bytes, cases[c].backups, 1, 30);

      char *text = mwatch_test_slurp (path, &len);
      ck_assert_uint_eq (len, 30 * NUMBERED_LINE_LEN);
      bson_free (text);
      ck_assert (!exists (one));
   }
}
END_TEST

START_TEST (test_rotating_rename_fails)
{
   char dir[PATH_MAX], path[PATH_MAX], blocker[PATH_MAX];
   capture_t capture;
   size_t len;
   test_file (dir, path, "r.log");

   /* path.1 is a directory that is not empty: it can be neither removed
    * nor replaced, so no rollover can succeed. */
   bson_snprintf (blocker, sizeof blocker, "%s.1", path);
   ck_assert_int_eq (mkdir (blocker, 0700), 0);
   bson_snprintf (blocker, sizeof blocker, "%s.1/keep", path);
   fclose (fopen (blocker, "w"));

   capture_begin (&capture, dir);
   rotate_numbered (path, 30, 1, 1, 10);
   char *report = capture_end (&capture);

   /* Every line kept, in path, which grew past max_bytes. */
   char *text = mwatch_test_slurp (path, &len);
   ck_assert_uint_eq (len, 10 * NUMBERED_LINE_LEN);
   bson_free (text);

   /* Reported once, naming the file. */
   assert_reports (report, path, 1);
}
END_TEST

START_TEST (test_rotating_log_removed)
{
   char dir[PATH_MAX], path[PATH_MAX];
   test_file (dir, path, "r.log");

   /* Someone removes the log (and path.1 does not exist yet): the
    * rollover has nothing to rename and simply starts a new file. */
   mwatch_handler_t *handler = rotating_new (path, 2 * NUMBERED_LINE_LEN, 2);
   emit_numbered (handler, 1, 2);
   ck_assert_int_eq (unlink (path), 0);
   emit_numbered (handler, 3, 3);
   mwatch_handler_destroy (handler);

   assert_file (path, "INFO c0003\n");
}
END_TEST

START_TEST (test_rotating_reopen_fails)
{
   char dir[PATH_MAX], sub[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
   capture_t capture;
   test_dir (dir, sizeof dir);
   bson_snprintf (sub, sizeof sub, "%s/sub", dir);
   bson_snprintf (path, sizeof path, "%s/r.log", sub);
   ck_assert_int_eq (mkdir (sub, 0700), 0);

   mwatch_handler_t *handler = rotating_new (path, 2 * NUMBERED_LINE_LEN, 1);
   emit_numbered (handler, 1, 2);

   /* The directory goes away: the rollover cannot reopen path.  Lines are
    * lost, with one report, until the directory is back. */
   capture_begin (&capture, dir);
   bson_snprintf (moved, sizeof moved, "%s/moved1", dir);
   ck_assert_int_eq (rename (sub, moved), 0);
   emit_numbered (handler, 3, 4);
   ck_assert_int_eq (mkdir (sub, 0700), 0);
   emit_numbered (handler, 5, 6);

   /* Working again, so the next failure is reported anew. */
   bson_snprintf (moved, sizeof moved, "%s/moved2", dir);
   ck_assert_int_eq (rename (sub, moved), 0);
   emit_numbered (handler, 7, 7);
   mwatch_handler_destroy (handler);
   char *report = capture_end (&capture);

   /* Two episodes, the end of the first (with its cost: c3, c4), and at
    * close the count of what they cost: c3, c4, c7. */
   ck_assert_msg (strstr (report, "3 records dropped in all\n"), "%s", report);
   ck_assert_msg (strstr (report, "works again; 2 records dropped during the failure\n"), "%s",
                  report);
   assert_reports (report, path, 4);
   bson_snprintf (moved, sizeof moved, "%s/moved1/r.log", dir);
   assert_file (moved, "INFO c0001\nINFO c0002\n");
   bson_snprintf (moved, sizeof moved, "%s/moved2/r.log", dir);
   assert_file (moved, "INFO c0005\nINFO c0006\n");
}
END_TEST

/* ------------------------------------------------------------------------
 * Descriptors the application takes back (issue 18)
 * ------------------------------------------------------------------------ */

/* The number the next open() will get: the lowest free one. */
static int
next_fd (void)
{
   int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
   ck_assert_int_ge (fd, 0);
   close (fd);
   return fd;
}

/* As a daemon does: the log file's descriptor is closed under the
 * handler, and the number goes to the application's own data file.  The
 * handler must neither write there nor close it, and must go on in its
 * own file, opened again by name. */
START_TEST (test_file_fd_reused)
{
   char dir[PATH_MAX], path[PATH_MAX], data[PATH_MAX];
   bson_error_t error;
   test_file (dir, path, "audit.log");
   bson_snprintf (data, sizeof data, "%s/own.data", dir);

   int audit_fd = next_fd ();
   mwatch_handler_t *handler = mwatch_handler_new_file (path, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   emit (handler, MWATCH_LEVEL_INFO, "c1");

   ck_assert_int_eq (close (audit_fd), 0);
   int own = open (data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
   ck_assert_int_eq (own, audit_fd);
   emit (handler, MWATCH_LEVEL_INFO, "c2");
   emit (handler, MWATCH_LEVEL_INFO, "c3");
   mwatch_handler_destroy (handler);

   assert_file (path, "INFO c1\nINFO c2\nINFO c3\n");
   assert_file (data, "");
   /* Still open: the application's descriptor was not closed. */
   ck_assert_int_eq (write (own, "x", 1), 1);
   close (own);
   assert_file (data, "x");
}
END_TEST

/* The number is freed but not reused: the handler opens its file again. */
START_TEST (test_file_fd_closed)
{
   char dir[PATH_MAX], path[PATH_MAX];
   bson_error_t error;
   test_file (dir, path, "audit.log");

   int audit_fd = next_fd ();
   mwatch_handler_t *handler = mwatch_handler_new_file (path, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   ck_assert_int_eq (close (audit_fd), 0);
   emit (handler, MWATCH_LEVEL_INFO, "c1");
   mwatch_handler_destroy (handler);
   assert_file (path, "INFO c1\n");
}
END_TEST

/* A stream handler on a descriptor that the program closed and got back
 * as a socket of its own writes nothing there; a file put there instead
 * is the program's choice of stderr, and is written to. */
START_TEST (test_stream_fd_reused_by_socket)
{
   char dir[PATH_MAX], path[PATH_MAX], other[PATH_MAX];
   int pair[2];
   test_file (dir, path, "stream.log");
   bson_snprintf (other, sizeof other, "%s/other.log", dir);

   int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
   ck_assert_int_ge (fd, 0);
   FILE *fp = fdopen (fd, "w");
   mwatch_handler_t *handler = mwatch_handler_new_stream (fp);
   use_test_format (handler);
   emit (handler, MWATCH_LEVEL_INFO, "c1");

   /* The number becomes a socket of the program's. */
   capture_t capture;
   capture_begin (&capture, dir);
   ck_assert_int_eq (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair), 0);
   ck_assert_int_eq (dup2 (pair[0], fd), fd);
   emit (handler, MWATCH_LEVEL_INFO, "c2");
   char buf[64];
   ck_assert_int_lt (recv (pair[1], buf, sizeof buf, MSG_DONTWAIT), 0);

   /* Then a file: written to. */
   int file = open (other, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
   ck_assert_int_eq (dup2 (file, fd), fd);
   close (file);
   emit (handler, MWATCH_LEVEL_INFO, "c3");
   mwatch_handler_destroy (handler);
   char *report = capture_end (&capture);
   ck_assert_msg (strstr (report, "is now a socket of the program's"), "%s", report);
   ck_assert_msg (strstr (report, "log stream: 1 record dropped in all"), "%s", report);
   bson_free (report);
   fclose (fp);
   close (pair[0]);
   close (pair[1]);
   assert_file (path, "INFO c1\n");
   assert_file (other, "INFO c3\n");
}
END_TEST

/* delay: no file until the first record, but a path that cannot work is
 * refused at once, naming it. */
START_TEST (test_file_delay)
{
   char dir[PATH_MAX], path[PATH_MAX], bad[PATH_MAX], want[PATH_MAX + 64];
   bson_error_t error;
   test_file (dir, path, "late.log");

   int before = next_fd ();
   mwatch_handler_t *handler = mwatch_handler_new_delayed_file (path, 0, 0, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   ck_assert (!exists (path));
   ck_assert_int_eq (next_fd (), before); /* no descriptor taken */
   emit (handler, MWATCH_LEVEL_INFO, "c1");
   ck_assert (exists (path));
   mwatch_handler_destroy (handler);
   assert_file (path, "INFO c1\n");

   bson_snprintf (bad, sizeof bad, "%s/missing/late.log", dir);
   ck_assert_ptr_null (mwatch_handler_new_delayed_file (bad, 0, 0, &error));
   bson_snprintf (
      want, sizeof want, "cannot open log file \"%s\": No such file or directory", bad);
   ck_assert_str_eq (error.message, want);
   ck_assert_ptr_null (mwatch_handler_new_delayed_file (dir, 0, 0, &error));
   ck_assert_msg (strstr (error.message, "Is a directory"), "%s", error.message);

   /* Rotating, delayed: rolls over as the plain one does. */
   bson_snprintf (path, sizeof path, "%s/r.log", dir);
   handler = mwatch_handler_new_delayed_file (path, 2 * NUMBERED_LINE_LEN, 1, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   emit_numbered (handler, 1, 3);
   mwatch_handler_destroy (handler);
   assert_file (path, "INFO c0003\n");
}
END_TEST

/* ------------------------------------------------------------------------
 * Timed rotating file handler
 * ------------------------------------------------------------------------ */

/* Python's defaults but `when`, in UTC. */
static mwatch_timed_rotation_opts_t
utc_opts (const char *when)
{
   mwatch_timed_rotation_opts_t opts;
   mwatch_timed_rotation_opts_init (&opts);
   opts.when = when;
   opts.utc = true;
   return opts;
}

/* The first rollover after t, for `when`, `interval` and `at_time` in UTC:
 * the numbers Python 3.11's TimedRotatingFileHandler.computeRollover gives
 * for the same t (Sunday 2026-12-06 00:33:20 UTC). */
static int64_t
timed_next (const char *when, int interval, int at_time, int64_t t)
{
   bson_error_t error;
   mwatch_timed_t timed;
   mwatch_timed_rotation_opts_t opts = utc_opts (when);
   opts.interval = interval;
   opts.at_time = at_time;
   ck_assert_msg (_mwatch_timed_init (&timed, &opts, &error), "%s", error.message);
   return _mwatch_timed_next (&timed, t) - t;
}

START_TEST (test_timed_schedule)
{
   const int64_t t = 1796517200;
   const int at_0230 = (2 * 60 + 30) * 60, at_0010 = 10 * 60;

   ck_assert_int_eq (timed_next ("S", 5, -1, t), 5);
   ck_assert_int_eq (timed_next ("m", 2, -1, t), 120);
   ck_assert_int_eq (timed_next ("H", 1, -1, t), 3600);
   ck_assert_int_eq (timed_next ("D", 3, -1, t), 259200);
   ck_assert_int_eq (timed_next ("midnight", 1, -1, t), 84400);
   ck_assert_int_eq (timed_next ("MIDNIGHT", 1, at_0230, t), 7000);
   ck_assert_int_eq (timed_next ("midnight", 1, at_0010, t), 85000);
   ck_assert_int_eq (timed_next ("W0", 1, -1, t), 170800);
   ck_assert_int_eq (timed_next ("W6", 1, -1, t), 84400);
   ck_assert_int_eq (timed_next ("w3", 1, at_0230, t), 352600);
   ck_assert_int_eq (timed_next ("W6", 1, at_0010, t), 603400);

   bson_error_t error;
   mwatch_timed_rotation_opts_t opts = utc_opts ("W7");
   ck_assert_ptr_null (mwatch_handler_new_timed_rotating_file ("/tmp/never", &opts, &error));
   ck_assert_msg (strstr (error.message, "\"W7\""), "%s", error.message);
   opts.when = "S";
   opts.interval = 0;
   ck_assert_ptr_null (mwatch_handler_new_timed_rotating_file ("/tmp/never", &opts, &error));
   ck_assert_msg (strstr (error.message, "interval"), "%s", error.message);
}
END_TEST

/* Writes `text` to `path` and dates its last change `age` seconds ago;
 * returns that time. */
static time_t
old_file (const char *path, const char *text, int age)
{
   FILE *fp = fopen (path, "w");
   ck_assert_ptr_nonnull (fp);
   fputs (text, fp);
   fclose (fp);
   struct timeval times[2];
   gettimeofday (&times[0], NULL);
   times[0].tv_sec -= age;
   times[1] = times[0];
   ck_assert_int_eq (utimes (path, times), 0);
   return times[0].tv_sec;
}

/* path.SUFFIX for the time t in UTC, `format` the suffix's strftime. */
static void
suffixed (char *out, const char *path, const char *format, time_t t)
{
   char suffix[64];
   struct tm tm;
   gmtime_r (&t, &tm);
   strftime (suffix, sizeof suffix, format, &tm);
   bson_snprintf (out, PATH_MAX, "%s.%s", path, suffix);
}

static mwatch_handler_t *
timed_new (const char *path, const char *when, int backups)
{
   bson_error_t error;
   mwatch_timed_rotation_opts_t opts = utc_opts (when);
   opts.backup_count = backups;
   mwatch_handler_t *handler = mwatch_handler_new_timed_rotating_file (path, &opts, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   return handler;
}

/* As in Python, the first rollover is a period after the file was last
 * written: a file two hours old with when: H is rolled over at the first
 * record, named by the hour it was written in. */
START_TEST (test_timed_rolls_old_file)
{
   char dir[PATH_MAX], path[PATH_MAX], rolled[PATH_MAX];
   test_file (dir, path, "t.log");
   time_t mtime = old_file (path, "old\n", 2 * 3600);

   mwatch_handler_t *handler = timed_new (path, "H", 0);
   emit_numbered (handler, 1, 2);
   mwatch_handler_destroy (handler);

   suffixed (rolled, path, "%Y-%m-%d_%H", mtime);
   assert_file (rolled, "old\n");
   assert_file (path, "INFO c0001\nINFO c0002\n");
}
END_TEST

/* backupCount: the oldest path.SUFFIX files beyond it go, whatever made
 * them; files that only look alike stay. */
START_TEST (test_timed_backup_count)
{
   char dir[PATH_MAX], path[PATH_MAX], name[PATH_MAX], rolled[PATH_MAX];
   static const char *const old[] = {"2020-01-01_00-00-00", "2020-01-01_00-00-01",
                                     "2021-05-05_10-10-10.gz"};
   static const char *const others[] = {"2019-01-01_00-00", "x2019-01-01_00-00-00",
                                        "2019-01-01_00-00-00x"};
   test_file (dir, path, "t.log");
   for (size_t i = 0; i < 3; i++) {
      bson_snprintf (name, sizeof name, "%s.%s", path, old[i]);
      old_file (name, "x\n", 0);
      bson_snprintf (name, sizeof name, "%s.%s", path, others[i]);
      old_file (name, "y\n", 0);
   }
   time_t mtime = old_file (path, "old\n", 10);

   mwatch_handler_t *handler = timed_new (path, "S", 2);
   emit_numbered (handler, 1, 1);
   mwatch_handler_destroy (handler);

   /* The new backup and the newest old one are the 2 kept. */
   suffixed (rolled, path, "%Y-%m-%d_%H-%M-%S", mtime);
   assert_file (rolled, "old\n");
   for (size_t i = 0; i < 3; i++) {
      bson_snprintf (name, sizeof name, "%s.%s", path, old[i]);
      ck_assert_msg (exists (name) == (i == 2), "%s", name);
      bson_snprintf (name, sizeof name, "%s.%s", path, others[i]);
      ck_assert_msg (exists (name), "%s was removed", name);
   }
   assert_file (path, "INFO c0001\n");
}
END_TEST

/* Python removes a backup of the same name; mongowatch keeps both: the
 * rollover is skipped, said once, and the lines go on in path. */
START_TEST (test_timed_never_replaces)
{
   char dir[PATH_MAX], path[PATH_MAX], rolled[PATH_MAX];
   test_file (dir, path, "t.log");
   time_t mtime = old_file (path, "old\n", 2 * 3600);
   suffixed (rolled, path, "%Y-%m-%d_%H", mtime);
   old_file (rolled, "keep\n", 0);

   capture_t capture;
   capture_begin (&capture, dir);
   mwatch_handler_t *handler = timed_new (path, "H", 0);
   emit_numbered (handler, 1, 1);
   mwatch_handler_destroy (handler);
   assert_reports (capture_end (&capture), rolled, 1);

   assert_file (rolled, "keep\n");
   assert_file (path, "old\nINFO c0001\n");
}
END_TEST

static int
compare_strings (const void *a, const void *b)
{
   return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The backups of path in name order (oldest first), then path itself;
 * bson_strfreev. */
static char **
timed_files (const char *dir, const char *path, size_t *count)
{
   const char *base = strrchr (path, '/') + 1;
   size_t base_len = strlen (base);
   char **names = bson_malloc0 (1000 * sizeof *names);
   size_t n = 0;
   DIR *d = opendir (dir);
   ck_assert_ptr_nonnull (d);
   for (struct dirent *e; (e = readdir (d));) {
      if (strncmp (e->d_name, base, base_len) == 0 && e->d_name[base_len] == '.') {
         ck_assert_uint_lt (n, 998);
         names[n++] = bson_strdup_printf ("%s/%s", dir, e->d_name);
      }
   }
   closedir (d);
   qsort (names, n, sizeof *names, compare_strings);
   names[n++] = bson_strdup (path);
   *count = n;
   return names;
}

/* when: S, records logged without a pause until the handler has rolled
 * over twice (awaited: at most 10 s): every record in exactly one file,
 * in order, each backup named by its second. */
START_TEST (test_timed_rolls_while_logging)
{
   char dir[PATH_MAX], path[PATH_MAX];
   test_file (dir, path, "t.log");
   mwatch_handler_t *handler = timed_new (path, "S", 0);
   size_t count = 0;
   int logged = 0;
   int64_t deadline = mwatch_realtime_us () + 8 * 1000 * 1000;

   do {
      emit_numbered (handler, logged + 1, logged + 10);
      logged += 10;
      usleep (20 * 1000);
      char **files = timed_files (dir, path, &count);
      bson_strfreev (files);
   } while (count < 3 && logged < 9950 && mwatch_realtime_us () < deadline);
   mwatch_handler_destroy (handler);
   ck_assert_msg (count >= 3, "%zu files after %d records", count, logged);

   char **files = timed_files (dir, path, &count);
   int next = 1;
   for (size_t i = 0; i < count; i++) {
      const char *suffix = files[i] + strlen (path);
      if (i + 1 < count) {
         ck_assert_msg (strlen (suffix) == 20 && suffix[0] == '.' && suffix[11] == '_',
                        "%s", files[i]);
      }
      char *text = mwatch_test_slurp (files[i], NULL);
      ck_assert_ptr_nonnull (text);
      ck_assert_msg (*text, "%s is empty", files[i]);
      for (char *line = text; *line; line = strchr (line, '\n') + 1) {
         char want[16];
         bson_snprintf (want, sizeof want, "INFO c%04d\n", next++);
         ck_assert_msg (strncmp (line, want, strlen (want)) == 0, "in %s: %s", files[i], line);
      }
      bson_free (text);
   }
   ck_assert_int_eq (next, logged + 1);
   bson_strfreev (files);
}
END_TEST

/* ------------------------------------------------------------------------
 * Syslog handler
 * ------------------------------------------------------------------------ */

/* A datagram socket bound at dir/log.sock, standing in for /dev/log. */
static int
syslog_server (const char *dir, char *path, size_t size)
{
   bson_snprintf (path, size, "%s/log.sock", dir);
   return mwatch_test_dgram_socket (path);
}

static void
syslog_server_stop (int fd, const char *path)
{
   close (fd);
   unlink (path);
}

/* Receives one datagram (NUL-terminated) into `buf`; returns its length. */
static size_t
recv_datagram (int fd, char *buf, size_t size)
{
   ssize_t n = recv (fd, buf, size - 1, 0);
   ck_assert_msg (n >= 0, "recv: %s", strerror (errno));
   buf[n] = '\0';
   return (size_t) n;
}

static void
assert_datagram (int fd, int pri, const char *ident, const char *line)
{
   char got[512], want[512];
   recv_datagram (fd, got, sizeof got);
   bson_snprintf (want, sizeof want, "<%d>%s[%d]: %s", pri, ident, (int) getpid (), line);
   ck_assert_str_eq (got, want);
}

static mwatch_handler_t *
syslog_new (const char *path, int facility, const char *ident)
{
   bson_error_t error;
   mwatch_handler_t *handler = mwatch_handler_new_syslog (path, facility, ident, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   return handler;
}

START_TEST (test_syslog_datagrams)
{
   static const struct {
      int level;
      int severity;
   } cases[] = {
      {5, 7},
      {MWATCH_LEVEL_DEBUG, 7},
      {15, 7},
      {MWATCH_LEVEL_INFO, 6},
      {MWATCH_LEVEL_WARNING, 4},
      {MWATCH_LEVEL_ERROR, 3},
      {45, 3},
      {MWATCH_LEVEL_CRITICAL, 2},
      {60, 2},
   };
   char dir[PATH_MAX], path[PATH_MAX];
   test_dir (dir, sizeof dir);
   int server = syslog_server (dir, path, sizeof path);

   mwatch_handler_t *handler = syslog_new (path, MWATCH_SYSLOG_LOCAL0, "mwtest");
   for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      char name[32], line[64];
      ck_assert (emit (handler, cases[i].level, "users"));
      bson_snprintf (line,
                     sizeof line,
                     "%s users",
                     mwatch_level_name (cases[i].level, name, sizeof name));
      assert_datagram (server, MWATCH_SYSLOG_LOCAL0 * 8 + cases[i].severity, "mwtest", line);
   }
   mwatch_handler_destroy (handler);

   /* The default ident is the program's name. */
   handler = syslog_new (path, MWATCH_SYSLOG_DAEMON, NULL);
   emit (handler, MWATCH_LEVEL_WARNING, "orders");
   assert_datagram (
      server, MWATCH_SYSLOG_DAEMON * 8 + 4, program_invocation_short_name, "WARNING orders");
   mwatch_handler_destroy (handler);

   syslog_server_stop (server, path);
}
END_TEST

START_TEST (test_syslog_errors)
{
   char dir[PATH_MAX], path[PATH_MAX], want[PATH_MAX + 64];
   bson_error_t error;
   test_file (dir, path, "no.sock");

   ck_assert_ptr_null (mwatch_handler_new_syslog (path, MWATCH_SYSLOG_USER, "x", &error));
   ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
   ck_assert_uint_eq (error.code, MWATCH_ERROR_IO);
   bson_snprintf (want,
                  sizeof want,
                  "cannot connect to syslog socket \"%s\": No such file or directory",
                  path);
   ck_assert_str_eq (error.message, want);

   ck_assert_ptr_null (mwatch_handler_new_syslog (path, 24, "x", &error));
   ck_assert_str_eq (error.message, "syslog facility 24 is not between 0 and 23");
   ck_assert_ptr_null (mwatch_handler_new_syslog (path, -1, "x", &error));
   ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* Emits `count` records that the handler cannot deliver, and checks that
 * it said so once on stderr, naming `path`. */
static void
assert_dropped_once (mwatch_handler_t *handler, const char *dir, int count, const char *path)
{
   capture_t capture;
   capture_begin (&capture, dir);
   for (int i = 0; i < count; i++) {
      emit (handler, MWATCH_LEVEL_INFO, "lost");
   }
   assert_reports (capture_end (&capture), path, 1);
}

START_TEST (test_syslog_reconnects)
{
   char dir[PATH_MAX], path[PATH_MAX];
   test_dir (dir, sizeof dir);
   int server = syslog_server (dir, path, sizeof path);
   mwatch_handler_t *handler = syslog_new (path, MWATCH_SYSLOG_USER, "mw");

   emit (handler, MWATCH_LEVEL_INFO, "before");
   assert_datagram (server, 14, "mw", "INFO before");

   /* The daemon restarts: a new socket at the same path.  The first send
    * is refused, the handler reconnects and the record arrives. */
   syslog_server_stop (server, path);
   server = syslog_server (dir, path, sizeof path);
   emit (handler, MWATCH_LEVEL_INFO, "after_restart");
   assert_datagram (server, 14, "mw", "INFO after_restart");

   /* The daemon is gone for a while: records are dropped, with one
    * report naming the socket. */
   syslog_server_stop (server, path);
   assert_dropped_once (handler, dir, 3, path);

   /* Back again: the next record connects anew. */
   server = syslog_server (dir, path, sizeof path);
   emit (handler, MWATCH_LEVEL_ERROR, "back");
   assert_datagram (server, 11, "mw", "ERROR back");

   /* Gone again: a new failure, a new report. */
   syslog_server_stop (server, path);
   assert_dropped_once (handler, dir, 1, path);

   /* At close, what the two episodes cost. */
   capture_t capture;
   capture_begin (&capture, dir);
   mwatch_handler_destroy (handler);
   char *report = capture_end (&capture);
   ck_assert_msg (strstr (report, "4 records dropped in all\n"), "%s", report);
   assert_reports (report, path, 1);
}
END_TEST

/* The handler's socket is closed under it and the number reused for the
 * application's file: nothing is written there, the record arrives over
 * a new connection. */
START_TEST (test_syslog_fd_reused)
{
   char dir[PATH_MAX], path[PATH_MAX], data[PATH_MAX];
   test_dir (dir, sizeof dir);
   bson_snprintf (data, sizeof data, "%s/own.data", dir);
   int server = syslog_server (dir, path, sizeof path);
   int sock_fd = next_fd ();
   mwatch_handler_t *handler = syslog_new (path, MWATCH_SYSLOG_USER, "mw");

   ck_assert_int_eq (close (sock_fd), 0);
   int own = open (data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
   ck_assert_int_eq (own, sock_fd);
   emit (handler, MWATCH_LEVEL_INFO, "after");
   assert_datagram (server, 14, "mw", "INFO after");
   mwatch_handler_destroy (handler);

   assert_file (data, "");
   ck_assert_int_eq (write (own, "x", 1), 1); /* not closed by the handler */
   close (own);
   syslog_server_stop (server, path);
}
END_TEST

/* A daemon's fd 2 may be a socket of its own by now: a failure report
 * must not go there; it goes to the syslog socket instead. */
START_TEST (test_report_not_into_socket)
{
   char dir[PATH_MAX], path[PATH_MAX], sock[PATH_MAX];
   int pair[2];
   test_file (dir, path, "gone/x.log");
   int server = syslog_server (dir, sock, sizeof sock);
   _mwatch_report_socket = sock;
   ck_assert_int_eq (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair), 0);
   fflush (stderr);
   int saved = dup (STDERR_FILENO);
   dup2 (pair[0], STDERR_FILENO);

   bson_error_t error;
   mwatch_handler_t *handler = mwatch_handler_new_delayed_file (path, 0, 0, &error);
   ck_assert_ptr_null (handler); /* the folder is missing */
   char sub[PATH_MAX];
   bson_snprintf (sub, sizeof sub, "%s/gone", dir);
   ck_assert_int_eq (mkdir (sub, 0700), 0);
   handler = mwatch_handler_new_delayed_file (path, 0, 0, &error);
   ck_assert_msg (handler, "%s", error.message);
   use_test_format (handler);
   ck_assert_int_eq (rmdir (sub), 0);
   emit (handler, MWATCH_LEVEL_INFO, "lost"); /* cannot open: reported */
   mwatch_handler_destroy (handler);
   fflush (stderr);

   dup2 (saved, STDERR_FILENO);
   close (saved);
   _mwatch_report_socket = "/dev/log";
   char buf[512], want[512];
   ck_assert_int_lt (recv (pair[1], buf, sizeof buf, MSG_DONTWAIT), 0);
   ck_assert_int_eq (errno, EAGAIN);
   close (pair[0]);
   close (pair[1]);

   /* The failure, then the count at close. */
   recv_datagram (server, buf, sizeof buf);
   bson_snprintf (want, sizeof want, "<12>%s[%d]: mongowatch: cannot open log file \"%s\"",
                  program_invocation_short_name, (int) getpid (), path);
   ck_assert_msg (strncmp (buf, want, strlen (want)) == 0, "%s", buf);
   recv_datagram (server, buf, sizeof buf);
   ck_assert_msg (strstr (buf, "1 record dropped in all"), "%s", buf);
   syslog_server_stop (server, sock);
}
END_TEST

/* A record longer than a datagram (65,000 bytes) is shortened, not cut:
 * its long value ends with a marker saying how much of it was removed, at
 * a character boundary. */
START_TEST (test_syslog_truncates)
{
   enum { LIMIT = 65000, VALUE = 65536 };
   char dir[PATH_MAX], path[PATH_MAX], head[64], mark[64];
   test_dir (dir, sizeof dir);
   int server = syslog_server (dir, path, sizeof path);
   mwatch_handler_t *handler = syslog_new (path, MWATCH_SYSLOG_USER, "mw");
   char *buf = bson_malloc (2 * VALUE);
   size_t head_len =
      (size_t) bson_snprintf (head, sizeof head, "<14>mw[%d]: INFO ", (int) getpid ());

   /* ASCII. */
   char *collection = bson_malloc (VALUE + 1);
   memset (collection, 'x', VALUE);
   collection[VALUE] = '\0';
   emit (handler, MWATCH_LEVEL_INFO, collection);
   size_t n = recv_datagram (server, buf, 2 * VALUE);
   ck_assert_uint_le (n, LIMIT);
   ck_assert (strncmp (buf, head, head_len) == 0);
   /* The text rendering quotes so long a string. */
   const char *value = buf + head_len + (buf[head_len] == '"');
   size_t kept = strspn (value, "x");
   bson_snprintf (mark, sizeof mark, "\xe2\x80\xa6[truncated %zu bytes]", (size_t) VALUE - kept);
   ck_assert_msg (strncmp (value + kept, mark, strlen (mark)) == 0, "%.80s", value + kept);

   /* Two-byte characters (é), after one 'x' or none, so that either
    * parity of the cut is tried: whole characters are kept. */
   for (size_t start = 0; start < 2; start++) {
      for (size_t i = start; i + 1 < VALUE; i += 2) {
         memcpy (collection + i, "\xC3\xA9", 2);
      }
      emit (handler, MWATCH_LEVEL_INFO, collection);
      n = recv_datagram (server, buf, 2 * VALUE);
      ck_assert_uint_le (n, LIMIT);
      char *at = strstr (buf, "\xe2\x80\xa6[truncated ");
      ck_assert_ptr_nonnull (at);
      ck_assert (memcmp (at - 2, "\xC3\xA9", 2) == 0);
   }

   bson_free (collection);
   bson_free (buf);
   mwatch_handler_destroy (handler);
   syslog_server_stop (server, path);
}
END_TEST

/* ------------------------------------------------------------------------
 * Callback and null handlers
 * ------------------------------------------------------------------------ */

typedef struct {
   int calls;
   char line[64];
   size_t len;
   int level;
   char collection[64];
} seen_t;

static void
remember_line (const char *line, size_t len, const mwatch_record_t *record, void *user_data)
{
   seen_t *seen = user_data;
   mwatch_value_t value;

   seen->calls++;
   bson_snprintf (seen->line, sizeof seen->line, "%s", line);
   seen->len = len;
   seen->level = record->level;
   ck_assert (mwatch_message_get (record->watch, "Collection", &value));
   bson_snprintf (seen->collection, sizeof seen->collection, "%s", value.value.v_utf8.str);
}

START_TEST (test_callback)
{
   seen_t seen = {0};
   mwatch_handler_t *handler = mwatch_handler_new_callback (remember_line, &seen, NULL);
   use_test_format (handler);

   ck_assert (emit (handler, MWATCH_LEVEL_WARNING, "users"));
   ck_assert_int_eq (seen.calls, 1);
   ck_assert_str_eq (seen.line, "WARNING users");
   ck_assert_uint_eq (seen.len, strlen ("WARNING users"));
   ck_assert_int_eq (seen.level, MWATCH_LEVEL_WARNING);
   ck_assert_str_eq (seen.collection, "users");

   /* The base's level check comes first. */
   mwatch_handler_set_level (handler, MWATCH_LEVEL_ERROR);
   ck_assert (!emit (handler, MWATCH_LEVEL_WARNING, "users"));
   ck_assert_int_eq (seen.calls, 1);

   mwatch_handler_flush (handler);
   mwatch_handler_destroy (handler);
}
END_TEST

START_TEST (test_null)
{
   char *text = stderr_of_record (mwatch_handler_new_null ());
   ck_assert_str_eq (text, "");
   bson_free (text);
}
END_TEST

/* ------------------------------------------------------------------------ */

static TCase *
tcase_in_temp_dir (const char *name)
{
   TCase *tc = tcase_create (name);
   tcase_add_unchecked_fixture (tc, root_setup, root_teardown);
   tcase_set_timeout (tc, 10);
   return tc;
}

Suite *
handlers_suite (void)
{
   Suite *s = suite_create ("handlers");
   TCase *tc;

   tc = tcase_in_temp_dir ("stream");
   tcase_add_test (tc, test_stream_writes_lines);
   tcase_add_test (tc, test_stream_autoflush_off);
   tcase_add_test (tc, test_autoflush_ignores_other_handlers);
   tcase_add_test (tc, test_stream_default_stderr);
   suite_add_tcase (s, tc);

   tc = tcase_in_temp_dir ("file");
   tcase_add_test (tc, test_file_appends);
   tcase_add_test (tc, test_file_mode);
   tcase_add_test (tc, test_file_buffers_bursts);
   tcase_add_test (tc, test_file_missing_directory);
   suite_add_tcase (s, tc);

   tc = tcase_in_temp_dir ("rotating");
   tcase_add_test (tc, test_rotating_keeps_backups);
   tcase_add_test (tc, test_rotating_exact_fit);
   tcase_add_test (tc, test_rotating_existing_content);
   tcase_add_test (tc, test_rotating_long_lines);
   tcase_add_test (tc, test_rotating_buffered);
   tcase_add_test (tc, test_rotating_never);
   tcase_add_test (tc, test_rotating_rename_fails);
   tcase_add_test (tc, test_rotating_log_removed);
   tcase_add_test (tc, test_rotating_reopen_fails);
   suite_add_tcase (s, tc);

   tc = tcase_in_temp_dir ("timed");
   tcase_add_test (tc, test_timed_schedule);
   tcase_add_test (tc, test_timed_rolls_old_file);
   tcase_add_test (tc, test_timed_backup_count);
   tcase_add_test (tc, test_timed_never_replaces);
   tcase_add_test (tc, test_timed_rolls_while_logging);
   suite_add_tcase (s, tc);

   tc = tcase_in_temp_dir ("descriptors");
   tcase_add_test (tc, test_file_fd_reused);
   tcase_add_test (tc, test_file_fd_closed);
   tcase_add_test (tc, test_stream_fd_reused_by_socket);
   tcase_add_test (tc, test_file_delay);
   tcase_add_test (tc, test_syslog_fd_reused);
   tcase_add_test (tc, test_report_not_into_socket);
   suite_add_tcase (s, tc);

   tc = tcase_in_temp_dir ("syslog");
   tcase_add_test (tc, test_syslog_datagrams);
   tcase_add_test (tc, test_syslog_errors);
   tcase_add_test (tc, test_syslog_reconnects);
   tcase_add_test (tc, test_syslog_truncates);
   suite_add_tcase (s, tc);

   tc = tcase_in_temp_dir ("simple");
   tcase_add_test (tc, test_callback);
   tcase_add_test (tc, test_null);
   suite_add_tcase (s, tc);

   return s;
}
