/* mwatch_drain_on_signals: a SIGTERM with the default disposition still
 * ends the process by SIGTERM, but after the queued records are written;
 * an application's own handler is still called.  Each case runs in a child
 * process, which the signal ends: this program run again (a fresh process,
 * as an application is, and outside valgrind, whose exit status it would
 * otherwise take over), told its part by CHILD_ENV. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#define RECORDS 300
#define CHILD_ENV "MWATCH_TEST_SIGNAL_DRAIN_CHILD" /* "own|default:PATH" */

/* A backend slower than the logging thread: one line per record into a
 * file, with busy work before each, so that records are still queued when
 * the signal comes. */
static void
slow_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) handler;
   (void) record;
   int fd = (int) (intptr_t) impl;
   volatile long work = 0;
   for (long i = 0; i < 200000; i++) {
      work += i;
   }
   ssize_t n = write (fd, "r\n", 2);
   (void) n;
}

static const mwatch_handler_vtable_t slow_vtable = {.emit = slow_emit};

static void
app_handler (int sig)
{
   (void) sig;
   exit (3);
}

/* In the child: a queue ahead of the slow backend, RECORDS records, then
 * SIGTERM to itself. */
static void
child (const char *path, bool own_handler)
{
   if (own_handler) {
      signal (SIGTERM, app_handler);
   }
   bson_error_t error;
   if (!mwatch_drain_on_signals (&error)) {
      _exit (90);
   }
   int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
   mwatch_handler_t *backend = mwatch_handler_new (&slow_vtable, (void *) (intptr_t) fd);
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, NULL);
   mwatch_logger_t *logger = mwatch_logger_get ("drain");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);
   for (int i = 0; i < RECORDS; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      mwatch_message_set_ready (msg);
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
   }
   kill (getpid (), SIGTERM);
   /* The drain thread ends the process; a bounded wait in case it never
    * does, which the parent reports. */
   for (int i = 0; i < 100; i++) {
      usleep (100000);
   }
   _exit (91);
}

bool
signal_drain_child_main (int *status)
{
   const char *role = getenv (CHILD_ENV);
   if (!role) {
      return false;
   }
   bool own = strncmp (role, "own:", 4) == 0;
   child (strchr (role, ':') + 1, own);
   *status = 92; /* not reached */
   return true;
}

static int
run_child (const char *path, bool own_handler)
{
   char role[256];
   bson_snprintf (role, sizeof role, "%s:%s", own_handler ? "own" : "default", path);
   return mwatch_test_rerun (unit_tests_program, CHILD_ENV, role);
}

static size_t
lines_in (const char *path)
{
   FILE *fp = fopen (path, "r");
   ck_assert_ptr_nonnull (fp);
   size_t lines = 0;
   int c;
   while ((c = fgetc (fp)) != EOF) {
      lines += c == '\n';
   }
   fclose (fp);
   return lines;
}

START_TEST (test_sigterm_drains_then_ends_by_the_signal)
{
   char path[] = "/tmp/mwatch-drain-XXXXXX";
   int fd = mkstemp (path);
   ck_assert_int_ge (fd, 0);
   close (fd);
   int status = run_child (path, false);
   ck_assert_msg (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM, "status %#x", status);
   ck_assert_uint_eq (lines_in (path), RECORDS);
   unlink (path);
}
END_TEST

START_TEST (test_application_handler_still_called)
{
   char path[] = "/tmp/mwatch-drain-XXXXXX";
   int fd = mkstemp (path);
   ck_assert_int_ge (fd, 0);
   close (fd);
   int status = run_child (path, true);
   /* Its handler exited with 3; exit's drain wrote every record. */
   ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 3, "status %#x", status);
   ck_assert_uint_eq (lines_in (path), RECORDS);
   unlink (path);
}
END_TEST

Suite *
signal_drain_suite (void)
{
   Suite *suite = suite_create ("signal drain");
   TCase *tc = tcase_create ("signal drain");
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_sigterm_drains_then_ends_by_the_signal);
   tcase_add_test (tc, test_application_handler_still_called);
   suite_add_tcase (suite, tc);
   return suite;
}
