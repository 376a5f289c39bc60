/* The listener's poll after each record (_mwatch_queue_poll, issue 14,
 * ninth round) against the general get it stands for,
 * mwatch_queue_get_timeout (queue, 0, ...): two queues given the same puts,
 * one asked by the poll and the other by the get, answer alike (status,
 * message, data) whether empty, holding messages due now, later or never,
 * delayed, or closed and drained. */
#include "../../lib/queue-private.h"
#include "mongowatch.h"
#include "unit/suites.h"

#include <stdint.h>

#define ID(n) ((void *) (uintptr_t) (n))
#define FAR 1000.0 /* seconds: a due time no test lives to see */

static uint64_t rng_state;

static uint64_t
rng_next (void)
{
   rng_state ^= rng_state << 13;
   rng_state ^= rng_state >> 7;
   rng_state ^= rng_state << 17;
   return rng_state;
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
   mwatch_queue_status_t got = _mwatch_queue_poll (a, &msg_a, &data_a);
   mwatch_queue_status_t want = mwatch_queue_get_timeout (b, 0, &msg_b, &data_b);
   ck_assert_int_eq (got, want);
   ck_assert_ptr_eq (data_a, data_b);
   ck_assert_int_eq (msg_a == NULL, msg_b == NULL);
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

Suite *
queue_poll_suite (void)
{
   Suite *s = suite_create ("queue poll");
   TCase *tc = tcase_create ("queue poll");
   tcase_add_test (tc, test_poll_as_get);
   tcase_add_test (tc, test_poll_delayed);
   tcase_add_test (tc, test_poll_closed_empty);
   suite_add_tcase (s, tc);
   return s;
}
