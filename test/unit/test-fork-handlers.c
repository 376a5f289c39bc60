/* fork() while a queue's listener is inside a handler that logs from its
 * emit, as the built-in handlers' failure reports do ("mongowatch.stats"):
 * the listener holds the handler's lock and then takes the loggers' locks.
 * fork's prepare must not take the loggers' locks first and then wait for
 * that handler's lock, or the fork itself never returns (seen: the fork
 * waiting in the handlers' prepare, the listener in mwatch_logger_get).
 * The scenario runs in a child process of the test, so that a hang is
 * seen (killed after 30 s) instead of stopping the runner. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#define FORKS 200

static atomic_bool stop;

/* The backend: each record it writes makes it log a report of its own. */
static void
reporting_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) impl;
   (void) handler;
   (void) record;
   mwatch_logger_log_text (mwatch_logger_get ("forktest.report"), MWATCH_LEVEL_WARNING,
                           "a report from inside emit");
}

static const mwatch_handler_vtable_t reporting_vtable = {.emit = reporting_emit};

static void *
hammer (void *logger)
{
   while (!atomic_load (&stop)) {
      mwatch_logger_log_text (logger, MWATCH_LEVEL_WARNING, "a record");
   }
   return NULL;
}

/* The scenario, in its own process: 0 when every fork returned and every
 * child ended by itself. */
static int
scenario (int forks)
{
   mwatch_logger_t *logger = mwatch_logger_get ("forktest");
   mwatch_logger_t *report = mwatch_logger_get ("forktest.report");
   mwatch_logger_set_propagate (report, false);
   mwatch_logger_set_level (report, MWATCH_LEVEL_WARNING);
   mwatch_handler_t *backend = mwatch_handler_new (&reporting_vtable, NULL);
   /* A small queue, so that each fork has little memory to copy. */
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   opts.capacity = 256;
   mwatch_handler_t *queued = mwatch_handler_new_queue (backend, &opts);
   mwatch_logger_add_handler (logger, queued);
   mwatch_logger_set_level (logger, MWATCH_LEVEL_WARNING);
   atomic_store (&stop, false);
   pthread_t thread;
   pthread_create (&thread, NULL, hammer, logger);
   int failed = 0;
   for (int i = 0; i < forks && !failed; i++) {
      pid_t pid = fork ();
      if (pid == 0) {
         mwatch_logger_log_text (logger, MWATCH_LEVEL_WARNING, "the child's record");
         _exit (0);
      }
      int status;
      if (pid < 0 || !mwatch_test_child_exited (pid, 10, &status) || !WIFEXITED (status)) {
         failed = i + 1;
      }
   }
   atomic_store (&stop, true);
   pthread_join (thread, NULL);
   mwatch_shutdown ();
   mwatch_handler_destroy (queued);
   mwatch_handler_destroy (backend);
   return failed;
}

START_TEST (test_fork_while_a_handler_reports)
{
   int forks = getenv ("MWATCH_MEMCHECK") ? 10 : FORKS;
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      _exit (scenario (forks) ? 1 : 0);
   }
   int status;
   bool ended = mwatch_test_child_exited (pid, 30, &status);
   ck_assert_msg (ended, "a fork hung while a handler was logging from its emit");
   ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                  "a forked child hung or failed: status %#x", status);
}
END_TEST

Suite *
fork_handlers_suite (void)
{
   Suite *suite = suite_create ("fork handlers");
   TCase *tc = tcase_create ("fork handlers");
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_fork_while_a_handler_reports);
   suite_add_tcase (suite, tc);
   return suite;
}
