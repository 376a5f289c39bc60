/* Where a record whose message is not built yet (lib/record-private.h,
 * priv->lazy) gets its message: on a queue's listener when only queues of
 * the library's take it, on the logging thread (build_locked) when a
 * logger filter or a handler that is not such a queue wants it, never
 * both, and never a handler that is not a queue given no message.  The
 * provider is the test's own (lib/live-private.h), so no watcher runs. */
#include "../../lib/logger-private.h"
#include "../../lib/message-private.h"
#include "test-util.h"
#include "unit/suites.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct {
   mwatch_live_t live;
   atomic_int refs;
   atomic_int built;        /* by build, the queue's listener */
   atomic_int built_locked; /* by build_locked, the logging thread */
   atomic_int off_thread;   /* builds on a thread other than `logging` */
   pthread_t logging;
} fake_t;

static void
fake_ref (mwatch_live_t *live)
{
   atomic_fetch_add (&((fake_t *) live)->refs, 1);
}

static void
fake_unref (mwatch_live_t *live)
{
   atomic_fetch_sub (&((fake_t *) live)->refs, 1);
}

static mwatch_live_action_t
fake_refresh (mwatch_live_t *live, bool draining, mwatch_message_t **out, int64_t *due)
{
   (void) live;
   (void) draining;
   (void) out;
   (void) due;
   return MWATCH_LIVE_DROP;
}

static mwatch_message_t *
fake_message (fake_t *fake, const mwatch_live_snapshot_t *snap)
{
   if (!pthread_equal (pthread_self (), fake->logging)) {
      atomic_fetch_add (&fake->off_thread, 1);
   }
   mwatch_message_t *msg = _mwatch_message_new_as (NULL, 0, 0); /* a WatchID of its own */
   _mwatch_message_set_iteration (msg, snap->iteration);
   mwatch_message_set_utf8 (msg, "Built", "yes");
   if (snap->ready) {
      mwatch_message_set_ready (msg);
   }
   return msg;
}

static mwatch_message_t *
fake_build (mwatch_live_t *live, const mwatch_live_snapshot_t *snap)
{
   atomic_fetch_add (&((fake_t *) live)->built, 1);
   return fake_message ((fake_t *) live, snap);
}

static mwatch_message_t *
fake_build_locked (mwatch_live_t *live, const mwatch_live_snapshot_t *snap)
{
   atomic_fetch_add (&((fake_t *) live)->built_locked, 1);
   return fake_message ((fake_t *) live, snap);
}

static const mwatch_live_ops_t fake_ops = {
   .ref = fake_ref,
   .unref = fake_unref,
   .refresh = fake_refresh,
   .build = fake_build,
   .build_locked = fake_build_locked,
};

static void
fake_init (fake_t *fake)
{
   fake->live.ops = &fake_ops;
   atomic_init (&fake->refs, 0);
   atomic_init (&fake->built, 0);
   atomic_init (&fake->built_locked, 0);
   atomic_init (&fake->off_thread, 0);
   fake->logging = pthread_self ();
}

/* Logs the final record (iteration `n`) of a fake operation, under a
 * WatchID of its own, so that a queue keeps each. */
static void
log_final (mwatch_logger_t *logger, fake_t *fake, int64_t n)
{
   bson_oid_t id;
   _mwatch_watch_oid_new (&id);
   const mwatch_lazy_record_t lazy = {
      .oid = &id,
      .snap = {.iteration = n, .due = mwatch_monotonic_us (), .ready = true},
      .charged = 0,
   };
   _mwatch_logger_log_lazy (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, &lazy, &fake->live);
}

/* A handler counting the records it gets, and those with a built message. */
typedef struct {
   atomic_int records;
   atomic_int built;
} counter_t;

static void
counter_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   counter_t *c = impl;
   (void) handler;
   atomic_fetch_add (&c->records, 1);
   if (record->watch && mwatch_message_has (record->watch, "Built")) {
      atomic_fetch_add (&c->built, 1);
   }
}

static const mwatch_handler_vtable_t counter_vtable = {.emit = counter_emit};

/* Only a queue: the listener builds each record, once. */
START_TEST (test_queue_alone_builds_on_its_listener)
{
   fake_t fake;
   fake_init (&fake);
   counter_t c = {0};
   mwatch_logger_t *logger = mwatch_logger_get ("lazy.alone");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_handler_t *backend = mwatch_handler_new (&counter_vtable, &c);
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, NULL);
   mwatch_logger_add_handler (logger, queue);
   for (int i = 0; i < 10; i++) {
      log_final (logger, &fake, 1);
   }
   mwatch_shutdown ();
   ck_assert_int_eq (atomic_load (&c.records), 10);
   ck_assert_int_eq (atomic_load (&c.built), 10);
   ck_assert_int_eq (atomic_load (&fake.built), 10);
   ck_assert_int_eq (atomic_load (&fake.built_locked), 0);
   ck_assert_int_eq (atomic_load (&fake.off_thread), 10);
   ck_assert_int_eq (atomic_load (&fake.refs), 0);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
}
END_TEST

/* A queue and a plain handler: built once, on the logging thread, and
 * both get it. */
START_TEST (test_plain_handler_builds_on_the_logging_thread)
{
   fake_t fake;
   fake_init (&fake);
   counter_t queued = {0}, plain = {0};
   mwatch_logger_t *logger = mwatch_logger_get ("lazy.beside");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_handler_t *backend = mwatch_handler_new (&counter_vtable, &queued);
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, NULL);
   mwatch_handler_t *side = mwatch_handler_new (&counter_vtable, &plain);
   mwatch_logger_add_handler (logger, queue);
   mwatch_logger_add_handler (logger, side);
   for (int i = 0; i < 10; i++) {
      log_final (logger, &fake, 1);
   }
   mwatch_shutdown ();
   ck_assert_int_eq (atomic_load (&queued.built), 10);
   ck_assert_int_eq (atomic_load (&plain.built), 10);
   ck_assert_int_eq (atomic_load (&fake.built), 0);
   ck_assert_int_eq (atomic_load (&fake.built_locked), 10);
   ck_assert_int_eq (atomic_load (&fake.off_thread), 0);
   ck_assert_int_eq (atomic_load (&fake.refs), 0);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   mwatch_handler_destroy (side);
}
END_TEST

/* ---------------------------------------------------------------- a level changed meanwhile */

typedef struct {
   mwatch_handler_t *side;
   mwatch_logger_t *child;
   atomic_bool stop;
} toggler_t;

static void *
toggler_main (void *arg)
{
   toggler_t *t = arg;
   for (unsigned i = 0; !atomic_load (&t->stop); i++) {
      mwatch_handler_set_level (t->side, i & 1 ? MWATCH_LEVEL_DEBUG : MWATCH_LEVEL_CRITICAL);
      mwatch_logger_set_propagate (t->child, i & 2);
   }
   return NULL;
}

/* A plain handler's level (or a logger's propagation to it) changes on
 * another thread while records are logged, as mwatch_handler_set_level and
 * mwatch_logger_set_propagate allow at any time: every record that handler
 * gets has its message, and nothing aborts. */
START_TEST (test_level_changed_during_the_walk)
{
   fake_t fake;
   fake_init (&fake);
   counter_t queued = {0}, plain = {0};
   mwatch_logger_t *parent = mwatch_logger_get ("lazy.race");
   mwatch_logger_t *child = mwatch_logger_get ("lazy.race.child");
   mwatch_logger_set_level (child, MWATCH_LEVEL_INFO);
   mwatch_handler_t *backend = mwatch_handler_new (&counter_vtable, &queued);
   mwatch_queue_handler_opts_t qopts;
   mwatch_queue_handler_opts_init (&qopts);
   qopts.overflow = MWATCH_OVERFLOW_DROP_NEWEST;
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, &qopts);
   mwatch_handler_t *side = mwatch_handler_new (&counter_vtable, &plain);
   mwatch_handler_t *side2 = mwatch_handler_new (&counter_vtable, &plain);
   /* The queue first: the walk spends the longest there, between the
    * decision and the plain handlers. */
   mwatch_logger_add_handler (child, queue);
   mwatch_logger_add_handler (child, side);
   mwatch_logger_add_handler (parent, side2);
   toggler_t t = {.side = side, .child = child};
   atomic_init (&t.stop, false);
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, toggler_main, &t), 0);
   struct timespec start, now;
   clock_gettime (CLOCK_MONOTONIC, &start);
   int n = 0;
   do {
      for (int i = 0; i < 1000; i++, n++) {
         log_final (child, &fake, 1);
      }
      clock_gettime (CLOCK_MONOTONIC, &now);
   } while (now.tv_sec - start.tv_sec < 3);
   atomic_store (&t.stop, true);
   pthread_join (thread, NULL);
   mwatch_shutdown ();
   ck_assert_int_eq (atomic_load (&plain.built), atomic_load (&plain.records));
   ck_assert_int_gt (atomic_load (&plain.records), 0);
   ck_assert_int_eq (atomic_load (&fake.refs), 0);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   mwatch_handler_destroy (side);
   mwatch_handler_destroy (side2);
}
END_TEST

/* ---------------------------------------------------------------- routes cached */

/* A record's route is cached per thread against the configuration's
 * generation (lib/logger.c, route_of): each change it depends on is seen
 * by the very next record on the same thread. */
START_TEST (test_route_follows_each_change)
{
   counter_t queued = {0}, plain = {0};
   mwatch_logger_t *parent = mwatch_logger_get ("lazy.route");
   mwatch_logger_t *child = mwatch_logger_get ("lazy.route.child");
   mwatch_logger_set_level (child, MWATCH_LEVEL_INFO);
   mwatch_handler_t *backend = mwatch_handler_new (&counter_vtable, &queued);
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, NULL);
   mwatch_handler_t *side = mwatch_handler_new (&counter_vtable, &plain);
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_expression ("True", &error);
   ck_assert_ptr_nonnull (filter);
   bson_oid_t id;
   _mwatch_watch_oid_new (&id);
   /* A running operation's first record, as a watch asks before it holds
    * the record back, and its final one. */
   const mwatch_lazy_record_t first = {.oid = &id, .snap = {.ready = false}};
   const mwatch_lazy_record_t final = {.oid = &id, .snap = {.iteration = 1, .ready = true}};
#define ROUTE(lazy) _mwatch_logger_route (child, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, &(lazy))
   mwatch_logger_add_handler (child, queue);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_QUEUES);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_QUEUES);
   ck_assert_int_eq (ROUTE (final), MWATCH_ROUTE_QUEUES);
   mwatch_logger_add_handler (parent, side);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_MESSAGE);
   ck_assert_int_eq (ROUTE (final), MWATCH_ROUTE_MESSAGE);
   mwatch_logger_set_propagate (child, false);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_QUEUES);
   mwatch_logger_set_propagate (child, true);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_MESSAGE);
   mwatch_handler_set_level (side, MWATCH_LEVEL_CRITICAL);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_QUEUES);
   mwatch_handler_set_level (side, MWATCH_LEVEL_DEBUG);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_MESSAGE);
   ck_assert (mwatch_logger_remove_handler (parent, side));
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_QUEUES);
   mwatch_logger_add_filter (child, filter);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_MESSAGE);
   mwatch_logger_set_level (child, MWATCH_LEVEL_WARNING);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_NONE);
   /* A new configuration: the queue alone again, no filter. */
   mwatch_handler_t *handlers[] = {queue};
   const mwatch_logger_setup_t setup = {
      .name = "lazy.route.child",
      .level = MWATCH_LEVEL_INFO,
      .propagate = true,
      .handlers = handlers,
      .handler_count = 1,
   };
   _mwatch_loggers_install (&setup, 1, false, false);
   ck_assert_int_eq (ROUTE (first), MWATCH_ROUTE_QUEUES);
   ck_assert_int_eq (ROUTE (final), MWATCH_ROUTE_QUEUES);
#undef ROUTE
   mwatch_shutdown ();
   mwatch_filter_destroy (filter);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   mwatch_handler_destroy (side);
}
END_TEST

/* The effective level is kept in each logger against the same generation
 * (lib/logger.c, mwatch_logger_effective_level): a change of its own level
 * or of an ancestor's is seen at once. */
START_TEST (test_effective_level_follows_each_change)
{
   mwatch_logger_t *parent = mwatch_logger_get ("lazy.effective");
   mwatch_logger_t *child = mwatch_logger_get ("lazy.effective.child");
   mwatch_logger_t *root = mwatch_logger_get (NULL);
   int root_level = mwatch_logger_get_level (root);
   ck_assert_int_eq (mwatch_logger_effective_level (child), root_level);
   ck_assert_int_eq (mwatch_logger_effective_level (child), root_level);
   mwatch_logger_set_level (parent, MWATCH_LEVEL_INFO);
   ck_assert_int_eq (mwatch_logger_effective_level (child), MWATCH_LEVEL_INFO);
   ck_assert (!mwatch_logger_is_enabled_for (child, MWATCH_LEVEL_DEBUG));
   mwatch_logger_set_level (child, MWATCH_LEVEL_DEBUG);
   ck_assert_int_eq (mwatch_logger_effective_level (child), MWATCH_LEVEL_DEBUG);
   ck_assert (mwatch_logger_is_enabled_for (child, MWATCH_LEVEL_DEBUG));
   mwatch_logger_set_level (child, MWATCH_LEVEL_NOTSET);
   ck_assert_int_eq (mwatch_logger_effective_level (child), MWATCH_LEVEL_INFO);
   mwatch_logger_set_level (parent, MWATCH_LEVEL_NOTSET);
   mwatch_logger_set_level (root, MWATCH_LEVEL_ERROR);
   ck_assert_int_eq (mwatch_logger_effective_level (child), MWATCH_LEVEL_ERROR);
   mwatch_logger_set_level (root, root_level);
   ck_assert_int_eq (mwatch_logger_effective_level (child), root_level);
}
END_TEST

Suite *
lazy_dispatch_suite (void)
{
   Suite *suite = suite_create ("lazy dispatch");
   TCase *tc = tcase_create ("lazy dispatch");
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_queue_alone_builds_on_its_listener);
   tcase_add_test (tc, test_plain_handler_builds_on_the_logging_thread);
   tcase_add_test (tc, test_level_changed_during_the_walk);
   tcase_add_test (tc, test_route_follows_each_change);
   tcase_add_test (tc, test_effective_level_follows_each_change);
   suite_add_tcase (suite, tc);
   return suite;
}
