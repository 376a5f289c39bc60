/* A handler's failure report ("mongowatch.stats") is made from inside its
 * emit or flush, under the handler's lock.  Two ways it deadlocked:
 *  - it looked the stats logger up under loggers_lock, which a
 *    configuration install holds while it waits to write config_lock, which
 *    a record's walk holds for reading while it waits for the reporting
 *    handler's lock: three threads, each waiting on the next;
 *  - fork's prepare flushes every buffered handler while holding every
 *    handler's lock: a report of that flush reaching a stats handler not
 *    behind a queue waited on a lock of its own thread.
 * Each scenario runs in a child process of the test, so that a hang is
 * seen (the child killed after a bound) instead of stopping the runner. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/handler-private.h"
#include "../../lib/handler-report-private.h"
#include "../../lib/logger-private.h"
#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

/* Installs, and reports made meanwhile, before the scenario may end. */
#define INSTALLS 400
#define REPORTS 4000

/* ---------------------------------------------------------------- a handler that fails */

/* Its sink fails every other time: each emit or flush reports, either the
 * failure or that it works again.  Its state is under its handler's lock. */
typedef struct {
   mwatch_io_stats_t io;
   bool failing;
} flaky_t;

static void
flaky_report (flaky_t *flaky)
{
   flaky->failing = !flaky->failing;
   if (flaky->failing) {
      _mwatch_io_failed (&flaky->io, 1, "the test sink fails");
   } else {
      _mwatch_io_works_again (&flaky->io, "the test sink");
   }
}

static void
flaky_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) handler;
   (void) record;
   flaky_report (impl);
}

static void
flaky_flush (void *impl, mwatch_handler_t *handler)
{
   (void) handler;
   flaky_report (impl);
}

static const mwatch_handler_vtable_t flaky_vtable = {.emit = flaky_emit, .flush = flaky_flush};

/* An installed configuration's handler: hands each record to the flaky
 * handler, which no configuration owns (an install closes the handlers it
 * replaces), so that a record's walk waits for the flaky handler's lock. */
static void
forward_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) handler;
   mwatch_handler_handle (impl, record);
}

static const mwatch_handler_vtable_t forward_vtable = {.emit = forward_emit};

/* What "mongowatch.stats" receives: counted, in a handler not behind a
 * queue (so its lock is taken by the reporting thread). */
static atomic_int reports;

static void
count_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) impl;
   (void) handler;
   (void) record;
   atomic_fetch_add (&reports, 1);
}

static const mwatch_handler_vtable_t count_vtable = {.emit = count_emit};

/* Runs `scenario` in a child process; true when it ended by itself within
 * `seconds` with status 0. */
static bool
in_child (int (*scenario) (void), double seconds, int *status)
{
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      _exit (scenario ());
   }
   return mwatch_test_child_exited (pid, seconds, status) && WIFEXITED (*status) &&
          WEXITSTATUS (*status) == 0;
}

/* ---------------------------------------------------------------- install, walk, report */

static atomic_bool stop;
static mwatch_handler_t *flaky_handler;

/* Reports in a loop: flushes the flaky handler, which reports from inside
 * its flush, under its lock, holding nothing else. */
static void *
reporter (void *arg)
{
   (void) arg;
   while (!atomic_load (&stop)) {
      mwatch_handler_flush (flaky_handler);
   }
   return NULL;
}

/* Logs records in a loop: each walk holds config_lock for reading while
 * it waits for the flaky handler's lock, and its emit reports too. */
static void *
walker (void *logger)
{
   while (!atomic_load (&stop)) {
      mwatch_logger_log_text (logger, MWATCH_LEVEL_WARNING, "a record");
   }
   return NULL;
}

static void
install (void)
{
   mwatch_handler_t *forward = mwatch_handler_new (&forward_vtable, flaky_handler);
   mwatch_handler_t *count = mwatch_handler_new (&count_vtable, NULL);
   mwatch_logger_setup_t setups[] = {
      {.name = "rl.walk", .level = MWATCH_LEVEL_WARNING, .propagate = false,
       .handlers = &forward, .handler_count = 1},
      {.name = MWATCH_STATS_LOGGER, .level = MWATCH_LEVEL_NOTSET, .propagate = false,
       .handlers = &count, .handler_count = 1},
   };
   _mwatch_loggers_install (setups, 2, false, true);
   mwatch_handler_destroy (forward);
   mwatch_handler_destroy (count);
}

static int
install_scenario (void)
{
   bool memcheck = getenv ("MWATCH_MEMCHECK") != NULL;
   int installs = memcheck ? 20 : INSTALLS;
   int wanted = memcheck ? 40 : REPORTS;
   flaky_t flaky = {0};
   flaky_handler = mwatch_handler_new (&flaky_vtable, &flaky);
   install ();
   atomic_store (&stop, false);
   pthread_t threads[2];
   pthread_create (&threads[0], NULL, reporter, NULL);
   pthread_create (&threads[1], NULL, walker, mwatch_logger_get ("rl.walk"));
   /* Until the other two threads have reported a while, each install
    * racing their reports and walks. */
   for (int i = 0; i < installs || atomic_load (&reports) < wanted; i++) {
      install ();
   }
   atomic_store (&stop, true);
   pthread_join (threads[0], NULL);
   pthread_join (threads[1], NULL);
   /* Its close flushes, and reports, while the stats handler is there. */
   mwatch_handler_destroy (flaky_handler);
   mwatch_shutdown ();
   return 0;
}

START_TEST (test_report_during_installs_and_walks)
{
   int status;
   ck_assert_msg (in_child (install_scenario, 30, &status),
                  "a failure report, a configuration install and a record's walk "
                  "deadlocked (or the scenario failed): status %#x",
                  status);
}
END_TEST

/* ---------------------------------------------------------------- fork */

/* A file handler buffering a line for /dev/full (every write fails with
 * ENOSPC), which fork's prepare flushes, and a stats handler not behind a
 * queue, made after it (so prepare holds its lock by then).  The report
 * of that flush is the parent's, made once the locks are released: the
 * child makes none. */
static int
fork_scenario (void)
{
   bson_error_t error;
   mwatch_handler_t *full = mwatch_handler_new_file ("/dev/full", &error);
   if (!full) {
      return 3;
   }
   _mwatch_stream_handler_set_autoflush (full, false);
   mwatch_logger_t *logger = mwatch_logger_get ("rl.buffered");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_WARNING);
   mwatch_logger_add_handler (logger, full);
   mwatch_handler_t *count = mwatch_handler_new (&count_vtable, NULL);
   mwatch_logger_add_handler (mwatch_logger_get (MWATCH_STATS_LOGGER), count);
   mwatch_logger_log_text (logger, MWATCH_LEVEL_WARNING, "a line left in the buffer");
   int before = atomic_load (&reports);

   pid_t pid = fork ();
   if (pid == 0) {
      /* The child goes on logging, and reported nothing of the parent's. */
      mwatch_logger_log_text (logger, MWATCH_LEVEL_WARNING, "the child's line");
      _exit (atomic_load (&reports) == before ? 0 : 4);
   }
   int status;
   int result = 0;
   if (pid < 0) {
      result = 5;
   } else if (!mwatch_test_child_exited (pid, 10, &status) || !WIFEXITED (status)) {
      result = 6;
   } else if (WEXITSTATUS (status) != 0) {
      result = WEXITSTATUS (status);
   } else if (atomic_load (&reports) != before + 1) {
      result = 7; /* the flush's failure, reported once, in the parent */
   }
   mwatch_shutdown ();
   mwatch_handler_destroy (count);
   mwatch_handler_destroy (full);
   return result;
}

START_TEST (test_fork_flush_report_to_unqueued_stats_handler)
{
   int status;
   ck_assert_msg (in_child (fork_scenario, 20, &status),
                  "fork hung (or its child or report went wrong) with a failing buffered "
                  "handler and a stats handler not behind a queue: status %#x",
                  status);
}
END_TEST

/* ---------------------------------------------------------------- fork, install, walk */

/* Fork's prepare takes every handler's lock (HANDLERS), then loggers_lock
 * (LOGGERS).  A record's walk holds config_lock for reading while it waits
 * for a handler's lock; an install used to hold loggers_lock while it
 * waited to write config_lock.  So: the forking thread waited for
 * loggers_lock (the install's), the install for config_lock (the walk's),
 * the walk for the handler's lock (the fork's).  The handler below keeps
 * fork's prepare inside its flush for half a second, the window in which
 * the walk and the install arrive. */
static atomic_bool fiw_forking, fiw_in_flush;

static void
fiw_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) impl;
   (void) handler;
   (void) record;
}

static void
fiw_slow_flush (void *impl, mwatch_handler_t *handler)
{
   (void) impl;
   (void) handler;
   if (atomic_load (&fiw_forking)) {
      atomic_store (&fiw_in_flush, true);
      usleep (500000);
   }
}

static const mwatch_handler_vtable_t fiw_vtable = {.emit = fiw_emit, .flush = fiw_slow_flush};

static void *
fiw_forker (void *arg)
{
   (void) arg;
   atomic_store (&fiw_forking, true);
   pid_t pid = fork ();
   if (pid == 0) {
      _exit (0);
   }
   int status;
   waitpid (pid, &status, 0);
   return NULL;
}

static void *
fiw_walker (void *logger)
{
   mwatch_logger_log_text (logger, MWATCH_LEVEL_WARNING, "a record");
   return NULL;
}

static void *
fiw_installer (void *arg)
{
   (void) arg;
   _mwatch_loggers_install (NULL, 0, false, false);
   return NULL;
}

static int
fork_install_walk_scenario (void)
{
   mwatch_handler_t *slow = mwatch_handler_new (&fiw_vtable, NULL);
   mwatch_logger_setup_t setup = {.name = "fiw.walk",
                                  .level = MWATCH_LEVEL_WARNING,
                                  .propagate = false,
                                  .handlers = &slow,
                                  .handler_count = 1};
   _mwatch_loggers_install (&setup, 1, false, false);
   mwatch_handler_destroy (slow);
   pthread_t forker, walker, installer;
   pthread_create (&forker, NULL, fiw_forker, NULL);
   while (!atomic_load (&fiw_in_flush)) {
      usleep (1000);
   }
   /* The fork holds the handler's lock now, for 500 ms.  That the walk
    * and then the install are waiting on their locks cannot be seen from
    * here; each gets 100 ms to get there.  Arriving later, they would only
    * make the test pass without the cycle, never fail it. */
   pthread_create (&walker, NULL, fiw_walker, mwatch_logger_get ("fiw.walk"));
   usleep (100000);
   pthread_create (&installer, NULL, fiw_installer, NULL);
   pthread_join (forker, NULL);
   pthread_join (walker, NULL);
   pthread_join (installer, NULL);
   return 0;
}

START_TEST (test_fork_during_install_and_walk)
{
   int status;
   ck_assert_msg (in_child (fork_install_walk_scenario, 10, &status),
                  "fork, a configuration install and a record's walk deadlocked: status %#x",
                  status);
}
END_TEST

Suite *
report_locks_suite (void)
{
   Suite *suite = suite_create ("report locks");
   TCase *tc = tcase_create ("report locks");
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_report_during_installs_and_walks);
   tcase_add_test (tc, test_fork_flush_report_to_unqueued_stats_handler);
   tcase_add_test (tc, test_fork_during_install_and_walk);
   suite_add_tcase (suite, tc);
   return suite;
}
