/* The listener's poll after each record (_mwatch_queue_poll, issue 14,
 * ninth round) against the general get it stands for,
 * mwatch_queue_get_timeout (queue, 0, ...): two queues given the same puts,
 * one asked by the poll and the other by the get, answer alike (status,
 * message, data) whether empty, holding messages due now, later or never,
 * delayed, or closed and drained.  A record taken "alone" (it left the
 * queue empty on a sparse stream: the listener then flushes without a
 * poll) is so only then, and a listener's sparse records are each
 * flushed before the listener sleeps. */
#include "../../lib/queue-private.h"
#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define ID(n) ((void *) (uintptr_t) (n))
#define FAR 1000.0 /* seconds: a due time no test lives to see */

static uint64_t rng_state;

static uint64_t
rng_next (void)
{
   return mwatch_test_random (&rng_state);
}

/* A ready message, or one due never or in FAR seconds: due times the two
 * queues cannot see differently however long apart they are asked. */
static mwatch_message_t *
some_msg (unsigned kind)
{
   mwatch_message_t *msg = mwatch_message_new ();
   if (kind == 0) {
      mwatch_message_set_ready (msg);
   } else {
      mwatch_message_set_timeout (msg, kind == 1 ? 0.0 : FAR);
   }
   return msg;
}

/* One poll of `a` against one get of `b`; returns the status. */
static mwatch_queue_status_t
ask_both (mwatch_queue_t *a, mwatch_queue_t *b)
{
   mwatch_message_t *msg_a = (mwatch_message_t *) ID (1), *msg_b = (mwatch_message_t *) ID (1);
   void *data_a = ID (1), *data_b = ID (1);
   bool alone = false;
   mwatch_queue_status_t got = _mwatch_queue_poll (a, &msg_a, &data_a, &alone);
   mwatch_queue_status_t want = mwatch_queue_get_timeout (b, 0, &msg_b, &data_b);
   ck_assert_int_eq (got, want);
   ck_assert_ptr_eq (data_a, data_b);
   ck_assert_int_eq (msg_a == NULL, msg_b == NULL);
   if (alone) {
      /* Never with a message left behind. */
      mwatch_queue_stats_t st;
      mwatch_queue_stats (a, &st);
      ck_assert_uint_eq (st.size, 0);
   }
   if (msg_a) {
      ck_assert_int_eq (mwatch_message_is_ready (msg_a), mwatch_message_is_ready (msg_b));
      ck_assert_int_eq (mwatch_message_due (msg_a) == MWATCH_DUE_NEVER,
                        mwatch_message_due (msg_b) == MWATCH_DUE_NEVER);
   }
   mwatch_message_destroy (msg_a);
   mwatch_message_destroy (msg_b);
   return got;
}

static void
run_against_get (double delay_sec, bool force, uint64_t seed)
{
   mwatch_queue_opts_t opts;
   mwatch_queue_opts_init (&opts);
   opts.overflow = MWATCH_OVERFLOW_DROP_NEWEST;
   opts.capacity = 64;
   opts.default_delay_sec = delay_sec;
   opts.force_default_delay = force;
   mwatch_queue_t *a = mwatch_queue_new (&opts);
   mwatch_queue_t *b = mwatch_queue_new (&opts);
   rng_state = seed;
   uintptr_t next_id = 10;
   size_t asked[8] = {0}; /* by status */
   for (int step = 0; step < 4000; step++) {
      unsigned r = (unsigned) (rng_next () % 8);
      if (r < 3) {
         /* Puts in a burst, sometimes more than the capacity (drops). */
         unsigned n = 1 + (unsigned) (rng_next () % 5);
         for (unsigned i = 0; i < n; i++) {
            unsigned kind = (unsigned) (rng_next () % 3);
            mwatch_queue_status_t pa = mwatch_queue_put (a, some_msg (kind), ID (next_id));
            mwatch_queue_status_t pb = mwatch_queue_put (b, some_msg (kind), ID (next_id));
            ck_assert_int_eq (pa, pb);
            next_id++;
         }
      } else {
         asked[ask_both (a, b)]++;
      }
   }
   /* Closed: everything is handed out, due or not, then CLOSED. */
   mwatch_queue_close (a);
   mwatch_queue_close (b);
   while (ask_both (a, b) == MWATCH_QUEUE_OK) {
      asked[MWATCH_QUEUE_OK]++;
   }
   ck_assert_int_eq (ask_both (a, b), MWATCH_QUEUE_CLOSED);
   /* Both answers came up while open. */
   ck_assert_uint_gt (asked[MWATCH_QUEUE_TIMEOUT], 50);
   if (!force) {
      ck_assert_uint_gt (asked[MWATCH_QUEUE_OK], 50);
   }
   mwatch_queue_destroy (a);
   mwatch_queue_destroy (b);
}

START_TEST (test_poll_as_get)
{
   run_against_get (0, false, 0x9e3779b97f4a7c15u);
}
END_TEST

/* Every ready message delayed past the test's end: a queue that is not
 * empty yet has nothing due, which the poll must not take for due. */
START_TEST (test_poll_delayed)
{
   run_against_get (FAR, true, 0x2545f4914f6cdd1du);
}
END_TEST

/* Empty, then closed: CLOSED, not TIMEOUT. */
START_TEST (test_poll_closed_empty)
{
   mwatch_queue_t *a = mwatch_queue_new (NULL);
   mwatch_queue_t *b = mwatch_queue_new (NULL);
   ck_assert_int_eq (ask_both (a, b), MWATCH_QUEUE_TIMEOUT);
   mwatch_queue_close (a);
   mwatch_queue_close (b);
   ck_assert_int_eq (ask_both (a, b), MWATCH_QUEUE_CLOSED);
   mwatch_queue_destroy (a);
   mwatch_queue_destroy (b);
}
END_TEST

static void
sleep_us (long us)
{
   struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};
   while (nanosleep (&ts, &ts) != 0) {
   }
}

/* A message taken is alone when it leaves the queue empty and the take
 * before it is at least MWATCH_QUEUE_LINGER_US old; by every way in. */
START_TEST (test_alone)
{
   mwatch_queue_t *q = mwatch_queue_new (NULL);
   mwatch_message_t *msg;
   void *data;
   bool alone = false;
   /* The first take has none before it. */
   mwatch_queue_put (q, some_msg (0), ID (1));
   ck_assert_int_eq (_mwatch_queue_poll (q, &msg, &data, &alone), MWATCH_QUEUE_OK);
   ck_assert (alone);
   mwatch_message_destroy (msg);
   /* Another behind it: not alone, whatever the time. */
   sleep_us (2 * MWATCH_QUEUE_LINGER_US);
   mwatch_queue_put (q, some_msg (0), ID (2));
   mwatch_queue_put (q, some_msg (0), ID (3));
   ck_assert_int_eq (_mwatch_queue_poll (q, &msg, &data, &alone), MWATCH_QUEUE_OK);
   ck_assert (!alone);
   mwatch_message_destroy (msg);
   /* A message not due does not count as one left behind: still queued. */
   mwatch_queue_put (q, some_msg (1), ID (4));
   ck_assert_int_eq (_mwatch_queue_wait (q, 0, &msg, &data, &alone), MWATCH_QUEUE_OK);
   ck_assert_ptr_eq (data, ID (3));
   ck_assert (!alone);
   mwatch_message_destroy (msg);
   mwatch_queue_close (q);
   mwatch_queue_destroy (q);
   /* Waits, timed and not, take a message put long after the last take:
    * alone; a get that finds nothing leaves `alone` as it was. */
   q = mwatch_queue_new (NULL);
   const double timeouts[] = {0, FAR, -1};
   for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
      sleep_us (2 * MWATCH_QUEUE_LINGER_US);
      mwatch_queue_put (q, some_msg (0), ID (10 + i));
      alone = false;
      ck_assert_int_eq (_mwatch_queue_wait (q, timeouts[i], &msg, &data, &alone), MWATCH_QUEUE_OK);
      ck_assert_ptr_eq (data, ID (10 + i));
      ck_assert (alone);
      mwatch_message_destroy (msg);
   }
   ck_assert_int_eq (_mwatch_queue_wait (q, 0, &msg, &data, &alone), MWATCH_QUEUE_TIMEOUT);
   ck_assert (alone);
   ck_assert_int_eq (_mwatch_queue_poll (q, &msg, &data, &alone), MWATCH_QUEUE_TIMEOUT);
   ck_assert (alone);
   mwatch_queue_close (q);
   mwatch_queue_destroy (q);
}
END_TEST

/* A backend that counts what it was given and what it flushed. */
typedef struct {
   pthread_mutex_t lock;
   pthread_cond_t cond;
   int emitted;
   int flushed; /* the records emitted before the last flush */
} counting_t;

static void
counting_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   counting_t *c = impl;
   (void) handler;
   (void) record;
   pthread_mutex_lock (&c->lock);
   c->emitted++;
   pthread_mutex_unlock (&c->lock);
}

static void
counting_flush (void *impl, mwatch_handler_t *handler)
{
   counting_t *c = impl;
   (void) handler;
   pthread_mutex_lock (&c->lock);
   c->flushed = c->emitted;
   pthread_cond_broadcast (&c->cond);
   pthread_mutex_unlock (&c->lock);
}

static const mwatch_handler_vtable_t counting_vtable = {.emit = counting_emit,
                                                         .flush = counting_flush};

/* Records logged further apart than the listener's linger each come
 * alone: each is flushed without another record coming after it. */
START_TEST (test_sparse_records_flushed)
{
   counting_t c = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
   mwatch_handler_t *backend = mwatch_handler_new (&counting_vtable, &c);
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, &opts);
   mwatch_logger_t *logger = mwatch_logger_get ("queue_poll.sparse");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);
   for (int i = 1; i <= 20; i++) {
      sleep_us (2 * MWATCH_QUEUE_LINGER_US);
      mwatch_message_t *msg = some_msg (0);
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
      struct timespec deadline;
      clock_gettime (CLOCK_REALTIME, &deadline);
      deadline.tv_sec += 30;
      pthread_mutex_lock (&c.lock);
      while (c.flushed < i && pthread_cond_timedwait (&c.cond, &c.lock, &deadline) == 0) {
      }
      ck_assert_int_eq (c.flushed, i);
      pthread_mutex_unlock (&c.lock);
   }
   mwatch_logger_remove_handler (logger, queue);
   mwatch_handler_close (queue);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
}
END_TEST

Suite *
queue_poll_suite (void)
{
   Suite *s = suite_create ("queue poll");
   TCase *tc = tcase_create ("queue poll");
   tcase_add_test (tc, test_poll_as_get);
   tcase_add_test (tc, test_poll_delayed);
   tcase_add_test (tc, test_poll_closed_empty);
   tcase_add_test (tc, test_alone);
   tcase_add_test (tc, test_sparse_records_flushed);
   suite_add_tcase (s, tc);
   return s;
}
