/* File handlers against real faults: a file that cannot grow (a process
 * file size limit, RLIMIT_FSIZE, which fails write(2) with EFBIG as a
 * full disk fails it with ENOSPC: a short write, then an error), a log
 * file renamed or removed under the handler, its folder removed, and the
 * explicit reopen (mwatch_reopen, SIGHUP). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/handler-private.h"
#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

/* Every WARNING the "mongowatch.stats" logger receives. */
typedef struct {
   pthread_mutex_t lock;
   char text[16][512];
   int count;
} reports_t;

static void
report_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   reports_t *r = impl;
   (void) handler;
   pthread_mutex_lock (&r->lock);
   if (record->text && record->level == MWATCH_LEVEL_WARNING && r->count < 16) {
      bson_strncpy (r->text[r->count++], record->text, sizeof r->text[0]);
   }
   pthread_mutex_unlock (&r->lock);
}

static const mwatch_handler_vtable_t report_vtable = {.emit = report_emit};

static reports_t reports;
static mwatch_handler_t *reporter;
static char dir[64];
static char path[128];

static void
setup (void)
{
   memset (&reports, 0, sizeof reports);
   pthread_mutex_init (&reports.lock, NULL);
   reporter = mwatch_handler_new (&report_vtable, &reports);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), reporter);
   bson_strncpy (dir, "/tmp/mwatch-ff-XXXXXX", sizeof dir);
   ck_assert (mkdtemp (dir));
   bson_snprintf (path, sizeof path, "%s/audit.log", dir);
}

static void
teardown (void)
{
   mwatch_shutdown ();
   mwatch_handler_destroy (reporter);
   char *cmd = bson_strdup_printf ("rm -rf '%s'", dir);
   ck_assert_int_eq (system (cmd), 0);
   bson_free (cmd);
}

/* A file handler writing "{message}" lines, on logger `name`. */
static mwatch_handler_t *
file_handler (const char *name)
{
   bson_error_t error;
   mwatch_handler_t *h = mwatch_handler_new_file (path, &error);
   ck_assert_msg (h, "%s", error.message);
   mwatch_formatter_t *f = mwatch_formatter_new ("{message}", NULL, &error);
   ck_assert_msg (f, "%s", error.message);
   mwatch_handler_set_formatter (h, f);
   mwatch_formatter_destroy (f);
   mwatch_logger_t *logger = mwatch_logger_get (name);
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, h);
   return h;
}

#define RECORD_LEN 40 /* "record 000123 " and padding */

static void
log_record (const char *name, int i)
{
   char text[RECORD_LEN + 1];
   bson_snprintf (text, sizeof text, "record %06d %.*s", i, RECORD_LEN - 14,
                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
   mwatch_logger_log_text (mwatch_logger_get (name), MWATCH_LEVEL_INFO, text);
}

/* Reads `file`'s lines; each must be a whole record (its exact length and
 * form, else the test fails naming the line), and `seen[i]` counts record
 * i.  Returns the number of lines. */
static int
read_records (const char *file, int *seen, int n)
{
   FILE *fp = fopen (file, "r");
   if (!fp) {
      return 0;
   }
   char line[256];
   int lines = 0;
   while (fgets (line, sizeof line, fp)) {
      int i = -1, end = 0;
      lines++;
      ck_assert_msg (strlen (line) == RECORD_LEN + 1 && sscanf (line, "record %d %n", &i, &end) == 1 &&
                        end == 14 && i >= 0 && i < n,
                     "%s line %d is not a whole record: \"%s\"", file, lines, line);
      seen[i]++;
   }
   fclose (fp);
   return lines;
}

static int
count_reports (const char *needle)
{
   int n = 0;
   pthread_mutex_lock (&reports.lock);
   for (int i = 0; i < reports.count; i++) {
      n += strstr (reports.text[i], needle) != NULL;
   }
   pthread_mutex_unlock (&reports.lock);
   return n;
}

/* The number in "works again; N records dropped", or -1. */
static long
recovery_count (void)
{
   long n = -1;
   pthread_mutex_lock (&reports.lock);
   for (int i = 0; i < reports.count; i++) {
      const char *p = strstr (reports.text[i], "works again; ");
      if (p) {
         n = strtol (p + strlen ("works again; "), NULL, 10);
      }
   }
   pthread_mutex_unlock (&reports.lock);
   return n;
}

/* The file cannot grow past LIMIT bytes (as on a full disk), then can
 * again.  `buffered`: as behind a queue, records are buffered and flushed
 * every 10 records, where a successful buffered write once ended the
 * episode and each flush reported it again. */
static void
full_then_free (bool buffered)
{
   enum { LIMIT = 4000, FAILING = 300, AFTER = 50 };
   mwatch_handler_t *h = file_handler ("ff.full");
   _mwatch_stream_handler_set_autoflush (h, !buffered);

   struct rlimit old, small;
   ck_assert_int_eq (getrlimit (RLIMIT_FSIZE, &old), 0);
   small = old;
   small.rlim_cur = LIMIT;
   struct sigaction ign = {.sa_handler = SIG_IGN}, old_xfsz;
   sigaction (SIGXFSZ, &ign, &old_xfsz);
   ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &small), 0);
   for (int i = 0; i < FAILING; i++) {
      log_record ("ff.full", i);
      if (buffered && i % 10 == 9) {
         mwatch_handler_flush (h);
      }
   }
   mwatch_handler_flush (h);
   /* Space again. */
   ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &old), 0);
   sigaction (SIGXFSZ, &old_xfsz, NULL);
   for (int i = FAILING; i < FAILING + AFTER; i++) {
      log_record ("ff.full", i);
      if (buffered && i % 10 == 9) {
         mwatch_handler_flush (h);
      }
   }
   mwatch_handler_flush (h);

   int seen[FAILING + AFTER] = {0};
   int lines = read_records (path, seen, FAILING + AFTER);
   for (int i = 0; i < FAILING + AFTER; i++) {
      ck_assert_int_le (seen[i], 1);
   }
   for (int i = FAILING; i < FAILING + AFTER; i++) {
      ck_assert_msg (seen[i] == 1, "record %d, logged after the recovery, is missing", i);
   }
   /* Before the recovery the file took what fit, in whole records: all
    * that fit when written one by one, all but the last batch's when
    * written 10 at a time (a batch is cut back whole). */
   int before = 0;
   for (int i = 0; i < FAILING; i++) {
      before += seen[i];
   }
   ck_assert_int_le (before, LIMIT / (RECORD_LEN + 1));
   ck_assert_int_ge (before, LIMIT / (RECORD_LEN + 1) - (buffered ? 10 : 0));
   ck_assert_int_eq (count_reports ("dropping records until it works again"), 1);
   ck_assert_int_eq (count_reports ("works again; "), 1);
   ck_assert_msg (count_reports ("File too large"), "%s", reports.text[0]);
   ck_assert_int_eq (recovery_count (), FAILING + AFTER - lines);
   mwatch_handler_destroy (h);
}

START_TEST (test_full_file_direct)
{
   full_then_free (false);
}
END_TEST

START_TEST (test_full_file_buffered)
{
   full_then_free (true);
}
END_TEST

/* A logrotate-style rename: the records after it go to a new file at the
 * path, those before stay in the renamed one; none in both, none lost. */
START_TEST (test_renamed_file_is_reopened)
{
   mwatch_handler_t *h = file_handler ("ff.rename");
   char *moved = bson_strdup_printf ("%s.1", path);
   for (int i = 0; i < 10; i++) {
      log_record ("ff.rename", i);
   }
   ck_assert_int_eq (rename (path, moved), 0);
   for (int i = 10; i < 20; i++) {
      log_record ("ff.rename", i);
   }
   int seen[20] = {0};
   ck_assert_int_eq (read_records (moved, seen, 20), 10);
   ck_assert_int_eq (read_records (path, seen, 20), 10);
   for (int i = 0; i < 20; i++) {
      ck_assert_int_eq (seen[i], 1);
   }
   ck_assert_int_eq (reports.count, 0);
   mwatch_handler_destroy (h);
   bson_free (moved);
}
END_TEST

/* The file removed: created again at the next record. */
START_TEST (test_removed_file_is_created_again)
{
   mwatch_handler_t *h = file_handler ("ff.unlink");
   log_record ("ff.unlink", 0);
   ck_assert_int_eq (unlink (path), 0);
   for (int i = 1; i < 10; i++) {
      log_record ("ff.unlink", i);
   }
   int seen[10] = {0};
   ck_assert_int_eq (read_records (path, seen, 10), 9);
   ck_assert_int_eq (seen[0], 0);
   ck_assert_int_eq (reports.count, 0);
   mwatch_handler_destroy (h);
}
END_TEST

/* Behind a queue (no autoflush: the listener flushes) the path is looked
 * at no more often than every 100 ms (handler-stream.c, PATH_CHECK_US):
 * a record written just after a rename goes to the renamed file, whole,
 * and one written later than the bound to a new file at the path.  With
 * a stat before every write(2) the first would be in the new file.  The
 * first part only counts when the rename came within 90 ms of the open
 * (the last look): on a machine too slow for that it is done again. */
START_TEST (test_rename_behind_queue_noticed_within_bound)
{
   int conclusive = 0;
   for (int attempt = 0; attempt < 10 && !conclusive; attempt++) {
      char *moved = bson_strdup_printf ("%s.%d", path, attempt + 1);
      int64_t opened = mwatch_monotonic_us ();
      mwatch_handler_t *h = file_handler ("ff.bound");
      _mwatch_stream_handler_set_autoflush (h, false);
      log_record ("ff.bound", 0);
      mwatch_handler_flush (h);
      ck_assert_int_eq (rename (path, moved), 0);
      log_record ("ff.bound", 1);
      mwatch_handler_flush (h);
      bool in_time = mwatch_monotonic_us () - opened < 90000;
      int64_t renamed = mwatch_monotonic_us ();
      while (mwatch_monotonic_us () - renamed < 110000) {
         usleep (10000);
      }
      log_record ("ff.bound", 2);
      mwatch_handler_flush (h);
      int seen[3] = {0};
      int old_lines = read_records (moved, seen, 3);
      ck_assert_int_eq (old_lines + read_records (path, seen, 3), 3);
      ck_assert_int_eq (seen[0] + seen[1] + seen[2], 3);
      int fresh[3] = {0};
      ck_assert_int_ge (read_records (path, fresh, 3), 1);
      ck_assert_int_eq (fresh[2], 1); /* later than the bound: the new file */
      if (in_time) {
         conclusive++;
         ck_assert_int_eq (old_lines, 2); /* within it: the renamed file */
      }
      mwatch_logger_remove_handler (mwatch_logger_get ("ff.bound"), h);
      mwatch_handler_destroy (h);
      ck_assert_int_eq (unlink (path), 0);
      bson_free (moved);
   }
   ck_assert_msg (conclusive, "no attempt renamed the file within 90 ms of opening it");
   ck_assert_int_eq (reports.count, 0);
}
END_TEST

/* Behind a queue too, a removed file is noticed at the next write, not
 * after the bound: its link count is 0 (the fstat made anyway), and what
 * went to it would be lost. */
START_TEST (test_removed_behind_queue_noticed_at_once)
{
   mwatch_handler_t *h = file_handler ("ff.gone");
   _mwatch_stream_handler_set_autoflush (h, false);
   log_record ("ff.gone", 0);
   mwatch_handler_flush (h);
   ck_assert_int_eq (unlink (path), 0);
   for (int i = 1; i < 5; i++) {
      log_record ("ff.gone", i);
      mwatch_handler_flush (h);
   }
   int seen[5] = {0};
   ck_assert_int_eq (read_records (path, seen, 5), 4);
   ck_assert_int_eq (seen[0], 0);
   ck_assert_int_eq (reports.count, 0);
   mwatch_logger_remove_handler (mwatch_logger_get ("ff.gone"), h);
   mwatch_handler_destroy (h);
}
END_TEST

/* The folder removed: a failure episode, reported once with the records
 * counted; when the folder is back, the file is made again and that is
 * reported too, with the count. */
START_TEST (test_removed_folder_is_a_failure_episode)
{
   mwatch_handler_t *h = file_handler ("ff.rmdir");
   log_record ("ff.rmdir", 0);
   ck_assert_int_eq (unlink (path), 0);
   ck_assert_int_eq (rmdir (dir), 0);
   for (int i = 1; i < 31; i++) {
      log_record ("ff.rmdir", i);
   }
   ck_assert_int_eq (count_reports ("dropping records until it works again"), 1);
   ck_assert_msg (count_reports ("No such file or directory"), "%s", reports.text[0]);
   ck_assert_int_eq (mkdir (dir, 0700), 0);
   for (int i = 31; i < 41; i++) {
      log_record ("ff.rmdir", i);
   }
   int seen[41] = {0};
   ck_assert_int_eq (read_records (path, seen, 41), 10);
   ck_assert_int_eq (seen[31], 1);
   ck_assert_int_eq (count_reports ("works again; "), 1);
   ck_assert_int_eq (recovery_count (), 30);
   ck_assert_int_eq (reports.count, 2);
   mwatch_handler_destroy (h);
}
END_TEST

/* Whether this process has a descriptor open on `file`. */
static bool
has_open (const char *file)
{
   char link[64], target[256];
   for (int fd = 0; fd < 1024; fd++) {
      bson_snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
      ssize_t n = readlink (link, target, sizeof target - 1);
      if (n > 0) {
         target[n] = '\0';
         if (strcmp (target, file) == 0) {
            return true;
         }
      }
   }
   return false;
}

/* mwatch_reopen: the old file is let go of at once (not at the next
 * record), what was buffered is written, the path is created again. */
START_TEST (test_reopen_lets_go_of_the_old_file)
{
   mwatch_handler_t *h = file_handler ("ff.reopen");
   _mwatch_stream_handler_set_autoflush (h, false);
   char *moved = bson_strdup_printf ("%s.1", path);
   for (int i = 0; i < 5; i++) {
      log_record ("ff.reopen", i);
   }
   mwatch_handler_flush (h);
   for (int i = 5; i < 10; i++) {
      log_record ("ff.reopen", i); /* buffered */
   }
   ck_assert_int_eq (rename (path, moved), 0);
   ck_assert (has_open (moved));
   mwatch_reopen ();
   ck_assert (!has_open (moved));
   ck_assert (has_open (path));
   int seen[10] = {0};
   int lines = read_records (moved, seen, 10) + read_records (path, seen, 10);
   ck_assert_int_eq (lines, 10);
   for (int i = 0; i < 10; i++) {
      ck_assert_int_eq (seen[i], 1);
   }
   mwatch_handler_destroy (h);
   bson_free (moved);
}
END_TEST

static atomic_int app_hups;

static void
app_on_hup (int sig)
{
   (void) sig;
   atomic_fetch_add (&app_hups, 1);
}

#define CHILD_ENV "MWATCH_FILE_FAULTS_CHILD"

/* In a child process of its own (this program run again), since the
 * reopen thread lives until the process ends: the application's own
 * SIGHUP handler, then mwatch_reopen_on_sighup, a record, the file
 * renamed, SIGHUP.  Exit status 0 when the reopen came (the path made
 * again, the renamed file let go of) and the application's handler ran;
 * else the number of the check that failed. */
static int
sighup_child (const char *child_dir)
{
   struct sigaction app = {.sa_handler = app_on_hup};
   sigemptyset (&app.sa_mask);
   sigaction (SIGHUP, &app, NULL);
   bson_error_t error;
   if (!mwatch_reopen_on_sighup (&error)) {
      return 10;
   }
   bson_snprintf (path, sizeof path, "%s/audit.log", child_dir);
   mwatch_handler_t *h = mwatch_handler_new_file (path, &error);
   mwatch_formatter_t *f = mwatch_formatter_new ("{message}", NULL, &error);
   if (!h || !f) {
      return 11;
   }
   mwatch_handler_set_formatter (h, f);
   mwatch_formatter_destroy (f);
   mwatch_logger_t *logger = mwatch_logger_get ("ff.hup");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, h);
   mwatch_logger_log_text (logger, MWATCH_LEVEL_INFO, "before");
   char *moved = bson_strdup_printf ("%s.1", path);
   if (rename (path, moved) != 0 || raise (SIGHUP) != 0) {
      return 12;
   }
   if (atomic_load (&app_hups) != 1) {
      return 13;
   }
   /* Awaited: the reopen creates the path, with no record since. */
   struct stat st;
   for (int tries = 0; stat (path, &st) != 0; tries++) {
      if (tries == 1000) {
         return 14; /* not within 10 s */
      }
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep (&ts, NULL);
   }
   if (has_open (moved)) {
      return 15;
   }
   mwatch_logger_log_text (logger, MWATCH_LEVEL_INFO, "after");
   mwatch_shutdown ();
   mwatch_handler_destroy (h);
   bson_free (moved);
   return 0;
}

bool
file_faults_child_main (int *status)
{
   const char *child_dir = getenv (CHILD_ENV);
   if (!child_dir) {
      return false;
   }
   *status = sighup_child (child_dir);
   return true;
}

/* SIGHUP reopens (on mongowatch's thread) and the application's own
 * handler still runs; the records before it in the renamed file, those
 * after in the new one. */
START_TEST (test_sighup_reopens_and_chains)
{
   int status = mwatch_test_rerun (unit_tests_program, CHILD_ENV, dir);
   ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "status %#x", status);
   char *moved = bson_strdup_printf ("%s.1", path);
   char *text = mwatch_test_slurp (moved, NULL);
   ck_assert_ptr_nonnull (text);
   ck_assert_msg (strstr (text, "before") && !strstr (text, "after"), "%s", text);
   bson_free (text);
   text = mwatch_test_slurp (path, NULL);
   ck_assert_ptr_nonnull (text);
   ck_assert_msg (strstr (text, "after") && !strstr (text, "before"), "%s", text);
   bson_free (text);
   bson_free (moved);
}
END_TEST

/* Logs a line of `len` bytes of `c` on "ff.long" and appends it, with its
 * newline, to `want`. */
static void
log_long (size_t len, char c, mwatch_buf_t *want)
{
   char *text = bson_malloc (len + 1);
   memset (text, c, len);
   text[len] = '\0';
   mwatch_logger_log_text (mwatch_logger_get ("ff.long"), MWATCH_LEVEL_INFO, text);
   mwatch_buf_append (want, text, len);
   mwatch_buf_append (want, "\n", 1);
   bson_free (text);
}

static void
check_file_is (const mwatch_buf_t *want)
{
   size_t len = 0;
   char *got = mwatch_test_slurp (path, &len);
   ck_assert_msg (got, "cannot read %s", path);
   ck_assert_msg (len == want->len && memcmp (got, want->data, len) == 0,
                  "the file has %zu bytes, %zu expected, or other bytes",
                  len,
                  want->len);
   bson_free (got);
}

/* A file handler buffers whole lines up to 64 KiB and writes longer ones
 * at once: lines of every length around the buffer's size, after and
 * before others, buffered (behind a queue) and flushed per record, come
 * out whole and in order. */
START_TEST (test_lines_around_the_buffer_size)
{
   static const size_t lens[] = {
      10, 65535, 3, 65536, 65534, 1, 200000, 0, 20, 65000, 600, 65516, 65515, 65517, 7,
   };
   for (int buffered = 0; buffered < 2; buffered++) {
      mwatch_buf_t want = MWATCH_BUF_INITIALIZER;
      mwatch_handler_t *h = file_handler ("ff.long");
      _mwatch_stream_handler_set_autoflush (h, !buffered);
      for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
         log_long (lens[i], (char) ('a' + i), &want);
         if (buffered && i % 4 == 3) {
            mwatch_handler_flush (h);
         }
      }
      mwatch_handler_flush (h);
      check_file_is (&want);
      mwatch_logger_remove_handler (mwatch_logger_get ("ff.long"), h);
      mwatch_handler_destroy (h);
      mwatch_buf_destroy (&want);
      ck_assert_int_eq (unlink (path), 0);
   }
   ck_assert_int_eq (count_reports ("dropping"), 0);
}
END_TEST

/* A line longer than the buffer that the file cannot take whole is cut
 * back out of it (never half a line followed by the next record), counted
 * lost, and the next record goes in once there is room. */
START_TEST (test_long_line_on_a_full_file)
{
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t lost = MWATCH_BUF_INITIALIZER;
   mwatch_handler_t *h = file_handler ("ff.long");
   _mwatch_stream_handler_set_autoflush (h, false);
   log_long (100, 'a', &want);
   mwatch_handler_flush (h);

   struct rlimit old, small;
   ck_assert_int_eq (getrlimit (RLIMIT_FSIZE, &old), 0);
   small = old;
   small.rlim_cur = 100000;
   struct sigaction ign = {.sa_handler = SIG_IGN}, old_xfsz;
   sigaction (SIGXFSZ, &ign, &old_xfsz);
   ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &small), 0);
   log_long (150000, 'b', &lost);
   mwatch_handler_flush (h);
   ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &old), 0);
   sigaction (SIGXFSZ, &old_xfsz, NULL);
   check_file_is (&want);

   log_long (200, 'c', &want);
   mwatch_handler_flush (h);
   check_file_is (&want);
   ck_assert_int_eq (count_reports ("dropping records until it works again"), 1);
   ck_assert_int_eq (recovery_count (), 1);
   mwatch_handler_destroy (h);
   mwatch_buf_destroy (&want);
   mwatch_buf_destroy (&lost);
}
END_TEST

Suite *
file_faults_suite (void)
{
   Suite *suite = suite_create ("file_faults");
   TCase *tc = tcase_create ("file_faults");
   tcase_set_timeout (tc, 60);
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_add_test (tc, test_full_file_direct);
   tcase_add_test (tc, test_full_file_buffered);
   tcase_add_test (tc, test_lines_around_the_buffer_size);
   tcase_add_test (tc, test_long_line_on_a_full_file);
   tcase_add_test (tc, test_renamed_file_is_reopened);
   tcase_add_test (tc, test_removed_file_is_created_again);
   tcase_add_test (tc, test_rename_behind_queue_noticed_within_bound);
   tcase_add_test (tc, test_removed_behind_queue_noticed_at_once);
   tcase_add_test (tc, test_removed_folder_is_a_failure_episode);
   tcase_add_test (tc, test_reopen_lets_go_of_the_old_file);
   tcase_add_test (tc, test_sighup_reopens_and_chains);
   suite_add_tcase (suite, tc);
   return suite;
}
