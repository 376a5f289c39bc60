/* Nothing lost silently: a blocked put's bounded wait, the bound in bytes,
 * final records counted apart, the queue handler's defaults (back-pressure,
 * not loss), its drop reports, and a close that never hangs on a stalled
 * backend. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "../../lib/queue-private.h"
#include "mongowatch.h"
#include "unit/suites.h"

static double
now_sec (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_MONOTONIC, &ts);
   return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static mwatch_message_t *
ready_msg (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_ready (msg);
   return msg;
}

static mwatch_message_t *
pending_msg (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_timeout (msg, 0.0);
   return msg;
}

/* ---------------------------------------------------------------- the queue */

/* A full BLOCK queue with nobody taking: the first put waits its
 * block_timeout_sec and drops; the next drops at once, without a second
 * wait; a take ends that, and a put then finds room. */
START_TEST (test_block_waits_once_then_drops)
{
   mwatch_queue_opts_t opts;
   mwatch_queue_opts_init (&opts);
   opts.capacity = 1;
   opts.overflow = MWATCH_OVERFLOW_BLOCK;
   opts.block_timeout_sec = 0.2;
   mwatch_queue_t *queue = mwatch_queue_new (&opts);
   ck_assert_int_eq (mwatch_queue_put (queue, ready_msg (), NULL), MWATCH_QUEUE_OK);

   double start = now_sec ();
   ck_assert_int_eq (mwatch_queue_put (queue, ready_msg (), NULL), MWATCH_QUEUE_DROPPED);
   ck_assert (now_sec () - start >= 0.2 - 0.001);
   /* Stalled: no second wait (a generous bound: the wait would be 0.2 s
    * and more, taking is instant). */
   start = now_sec ();
   ck_assert_int_eq (mwatch_queue_put (queue, pending_msg (), NULL), MWATCH_QUEUE_DROPPED);
   ck_assert (now_sec () - start < 0.1);

   mwatch_queue_stats_t st;
   mwatch_queue_stats (queue, &st);
   ck_assert_uint_eq (st.dropped, 2);
   ck_assert_uint_eq (st.dropped_ready, 1); /* the ready one; not the pending */

   mwatch_message_t *msg;
   ck_assert_int_eq (mwatch_queue_get_timeout (queue, 0, &msg, NULL), MWATCH_QUEUE_OK);
   mwatch_message_destroy (msg);
   ck_assert_int_eq (mwatch_queue_put (queue, ready_msg (), NULL), MWATCH_QUEUE_OK);
   mwatch_queue_destroy (queue);
}
END_TEST

/* The bound in bytes: the queue takes messages until their memory would
 * pass it, then applies the overflow policy; what it holds is counted in
 * stats.bytes, back to 0 once emptied. */
START_TEST (test_bound_in_bytes)
{
   mwatch_queue_opts_t opts;
   mwatch_queue_opts_init (&opts);
   opts.max_bytes = 64 * 1024;
   mwatch_queue_t *queue = mwatch_queue_new (&opts);
   char big[4000];
   memset (big, 'x', sizeof big - 1);
   big[sizeof big - 1] = '\0';
   size_t accepted = 0;
   for (int i = 0; i < 100; i++) {
      mwatch_message_t *msg = ready_msg ();
      mwatch_message_set_utf8 (msg, "Big", big);
      if (mwatch_queue_put (queue, msg, NULL) == MWATCH_QUEUE_OK) {
         accepted++;
      }
   }
   mwatch_queue_stats_t st;
   mwatch_queue_stats (queue, &st);
   ck_assert_uint_eq (st.max_bytes, 64 * 1024);
   ck_assert_uint_le (st.bytes, 64 * 1024);
   ck_assert_uint_ge (st.bytes, accepted * sizeof big);
   ck_assert_uint_gt (accepted, 5);
   ck_assert_uint_lt (accepted, 17); /* 64 KiB / 4 KB */
   ck_assert_uint_eq (st.dropped, 100 - accepted);
   ck_assert_uint_eq (st.dropped_ready, 100 - accepted);

   mwatch_message_t *msg;
   while (mwatch_queue_get_timeout (queue, 0, &msg, NULL) == MWATCH_QUEUE_OK) {
      mwatch_message_destroy (msg);
   }
   mwatch_queue_stats (queue, &st);
   ck_assert_uint_eq (st.bytes, 0);
   mwatch_queue_destroy (queue);
}
END_TEST

/* ---------------------------------------------------------------- the queue handler */

typedef struct {
   atomic_size_t emitted;
   atomic_bool stall;  /* emit blocks while set */
   atomic_bool inside; /* an emit is blocked */
   pthread_mutex_t lock;
   pthread_cond_t cond;
   int spin; /* busy work per record, to be slower than the producers */
} sink_t;

static void
sink_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) handler;
   (void) record;
   sink_t *sink = impl;
   pthread_mutex_lock (&sink->lock);
   while (atomic_load (&sink->stall)) {
      atomic_store (&sink->inside, true);
      pthread_cond_broadcast (&sink->cond);
      pthread_cond_wait (&sink->cond, &sink->lock);
   }
   pthread_mutex_unlock (&sink->lock);
   volatile int work = 0;
   for (int i = 0; i < sink->spin; i++) {
      work += i;
   }
   (void) work; /* the loop is the point: a slow sink */
   atomic_fetch_add (&sink->emitted, 1);
}

static const mwatch_handler_vtable_t sink_vtable = {.emit = sink_emit};

static sink_t *
sink_new (void)
{
   sink_t *sink = calloc (1, sizeof *sink);
   pthread_mutex_init (&sink->lock, NULL);
   pthread_cond_init (&sink->cond, NULL);
   return sink;
}

static void
sink_release (sink_t *sink)
{
   pthread_mutex_lock (&sink->lock);
   atomic_store (&sink->stall, false);
   pthread_cond_broadcast (&sink->cond);
   pthread_mutex_unlock (&sink->lock);
}

START_TEST (test_defaults_are_back_pressure)
{
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   ck_assert_int_eq (opts.overflow, MWATCH_OVERFLOW_BLOCK);
   ck_assert (opts.block_timeout_sec > 0);
   ck_assert_uint_eq (opts.max_bytes, MWATCH_QUEUE_HANDLER_DEFAULT_MAX_BYTES);
   ck_assert_uint_lt (opts.max_bytes, 100u << 20);
   ck_assert (opts.shutdown_timeout_sec > 0);
   mwatch_logging_opts_t lopts;
   mwatch_logging_opts_init (&lopts);
   ck_assert_int_eq (lopts.overflow, MWATCH_OVERFLOW_BLOCK);
}
END_TEST

typedef struct {
   mwatch_logger_t *logger;
   int records;
} producer_t;

static void *
produce (void *arg)
{
   producer_t *p = arg;
   for (int i = 0; i < p->records; i++) {
      mwatch_message_t *msg = ready_msg (); /* an operation of its own */
      mwatch_logger_log (p->logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
   }
   return NULL;
}

/* Eight threads log faster than the backend writes, into a small queue
 * with the default policy: every record is written, none dropped. */
START_TEST (test_default_queue_loses_nothing_under_load)
{
   sink_t *sink = sink_new ();
   sink->spin = 2000;
   mwatch_handler_t *backend = mwatch_handler_new (&sink_vtable, sink);
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   opts.capacity = 64;
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, &opts);
   mwatch_logger_t *logger = mwatch_logger_get ("bp.load");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);

   enum { THREADS = 8, EACH = 2000 };
   pthread_t threads[THREADS];
   producer_t p = {logger, EACH};
   for (int i = 0; i < THREADS; i++) {
      pthread_create (&threads[i], NULL, produce, &p);
   }
   for (int i = 0; i < THREADS; i++) {
      pthread_join (threads[i], NULL);
   }
   mwatch_handler_close (queue);
   mwatch_queue_stats_t st;
   mwatch_queue_handler_stats (queue, &st);
   ck_assert_uint_eq (st.dropped, 0);
   ck_assert_uint_eq (atomic_load (&sink->emitted), THREADS * EACH);

   mwatch_shutdown ();
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   free (sink);
}
END_TEST

/* What the stats logger receives. */
typedef struct {
   pthread_mutex_t lock;
   pthread_cond_t cond;
   char text[1024];
   int count;
} reports_t;

static void
report_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   reports_t *r = impl;
   (void) handler;
   pthread_mutex_lock (&r->lock);
   if (record->text && record->level == MWATCH_LEVEL_WARNING) {
      bson_strncpy (r->text, record->text, sizeof r->text);
      r->count++;
      pthread_cond_broadcast (&r->cond);
   }
   pthread_mutex_unlock (&r->lock);
}

static const mwatch_handler_vtable_t report_vtable = {.emit = report_emit};

/* Drops are counted by name and reported on "mongowatch.stats", final
 * records apart. */
START_TEST (test_drops_are_reported_by_name)
{
   reports_t reports = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
   mwatch_handler_t *reporter = mwatch_handler_new (&report_vtable, &reports);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), reporter);

   sink_t *sink = sink_new ();
   atomic_store (&sink->stall, true);
   mwatch_handler_t *backend = mwatch_handler_new (&sink_vtable, sink);
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   opts.capacity = 4;
   opts.overflow = MWATCH_OVERFLOW_DROP_NEWEST;
   opts.stats_interval_sec = 0.01;
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, &opts);
   mwatch_handler_set_name (queue, "audit_queue");
   mwatch_logger_t *logger = mwatch_logger_get ("bp.drops");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);

   /* The first record blocks the backend; then 4 fill the queue, 5 drop. */
   mwatch_message_t *msg = ready_msg ();
   mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
   pthread_mutex_lock (&sink->lock);
   while (!atomic_load (&sink->inside)) {
      pthread_cond_wait (&sink->cond, &sink->lock);
   }
   pthread_mutex_unlock (&sink->lock);
   for (int i = 0; i < 9; i++) {
      mwatch_message_t *each = ready_msg ();
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, each);
      mwatch_message_destroy (each);
   }
   mwatch_message_destroy (msg);
   mwatch_queue_stats_t st;
   ck_assert (mwatch_queue_handler_stats_by_name ("audit_queue", &st));
   ck_assert_uint_eq (st.dropped, 5);
   ck_assert_uint_eq (st.dropped_ready, 5);
   ck_assert (!mwatch_queue_handler_stats_by_name ("no_such_handler", &st));

   /* The listener reports once it runs again. */
   sink_release (sink);
   struct timespec deadline;
   clock_gettime (CLOCK_REALTIME, &deadline);
   deadline.tv_sec += 30;
   pthread_mutex_lock (&reports.lock);
   while (!reports.count &&
          pthread_cond_timedwait (&reports.cond, &reports.lock, &deadline) == 0) {
   }
   pthread_mutex_unlock (&reports.lock);
   ck_assert_int_eq (reports.count, 1);
   ck_assert_msg (strstr (reports.text, "\"audit_queue\": 5 records dropped"), "%s",
                  reports.text);
   ck_assert_msg (strstr (reports.text, "5 of them final"), "%s", reports.text);

   mwatch_shutdown ();
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   mwatch_handler_destroy (reporter);
   free (sink);
}
END_TEST

/* A sink that fails (/dev/full: every write ENOSPC) says so once on
 * "mongowatch.stats", counts what it drops, and a report that comes back
 * to the failing handler itself (it is on that logger too) is not taken,
 * rather than waiting on its own lock. */
START_TEST (test_io_failure_reported_on_stats_logger)
{
   reports_t reports = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
   mwatch_handler_t *reporter = mwatch_handler_new (&report_vtable, &reports);
   bson_error_t error;
   mwatch_handler_t *full = mwatch_handler_new_file ("/dev/full", &error);
   ck_assert_msg (full, "%s", error.message);
   mwatch_logger_t *stats = mwatch_logger_get ("mongowatch.stats");
   mwatch_logger_add_handler (stats, reporter);
   mwatch_logger_add_handler (stats, full);
   mwatch_logger_t *logger = mwatch_logger_get ("bp.full");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, full);
   for (int i = 0; i < 3; i++) {
      mwatch_message_t *msg = ready_msg ();
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
   }
   ck_assert_int_eq (reports.count, 1);
   ck_assert_msg (strstr (reports.text, "/dev/full") && strstr (reports.text, "dropping records"),
                  "%s", reports.text);
   mwatch_shutdown ();
   mwatch_handler_destroy (full);
   mwatch_handler_destroy (reporter);
}
END_TEST

/* A backend that never returns (a stalled sink): closing the queue
 * handler gives up after shutdown_timeout_sec, counting what it leaves. */
START_TEST (test_close_is_bounded_by_a_stalled_backend)
{
   sink_t *sink = sink_new ();
   atomic_store (&sink->stall, true);
   mwatch_handler_t *backend = mwatch_handler_new (&sink_vtable, sink);
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   opts.shutdown_timeout_sec = 0.2;
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, &opts);
   mwatch_logger_t *logger = mwatch_logger_get ("bp.stall");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);
   for (int i = 0; i < 10; i++) {
      mwatch_message_t *msg = ready_msg ();
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
   }
   pthread_mutex_lock (&sink->lock);
   while (!atomic_load (&sink->inside)) {
      pthread_cond_wait (&sink->cond, &sink->lock);
   }
   pthread_mutex_unlock (&sink->lock);

   double start = now_sec ();
   mwatch_shutdown (); /* detaches and closes every handler */
   ck_assert (now_sec () - start < 5.0);
   mwatch_queue_stats_t st;
   mwatch_queue_handler_stats (queue, &st);
   ck_assert_uint_eq (st.dropped, 10); /* 9 queued, 1 in the backend */
   ck_assert_uint_eq (st.dropped_ready, 9);

   /* Let the abandoned listener finish, so that the process ends clean;
    * the sink stays, as the kept handlers do, for its last emit. */
   sink_release (sink);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
}
END_TEST

Suite *
backpressure_suite (void)
{
   Suite *suite = suite_create ("backpressure");
   TCase *tc = tcase_create ("backpressure");
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_block_waits_once_then_drops);
   tcase_add_test (tc, test_bound_in_bytes);
   tcase_add_test (tc, test_defaults_are_back_pressure);
   tcase_add_test (tc, test_default_queue_loses_nothing_under_load);
   tcase_add_test (tc, test_drops_are_reported_by_name);
   tcase_add_test (tc, test_io_failure_reported_on_stats_logger);
   tcase_add_test (tc, test_close_is_bounded_by_a_stalled_backend);
   suite_add_tcase (suite, tc);
   return suite;
}
