/* First records held back (lib/watch-pending.c): with a timeout of
 * MWATCH_PENDING_MIN_TIMEOUT_SEC or more and only queues to reach, a
 * watched operation queues its first record only if it runs long.  These
 * tests check that nothing a user sees changes: a short operation queues
 * one record, not two; a stalled one still times out; one still running
 * at shutdown is still timed out as the queue drains; with a handler
 * that is not a queue the first record goes out at once as before; and
 * shutdown leaves no thread of the library's running. */
#include "integration/suites.h"
#include "test-capture.h"

/* lib/watch-pending-private.h's MIN_TIMEOUT_SEC: the
 * shortest timeout with which first records are held back. */
#define MIN_TIMEOUT_SEC 2.0

#include <pthread.h>
#include <string.h>

/* A queue named "held" in front of a handler that keeps each line. */
typedef struct {
   pthread_mutex_t lock;
   char *lines[64];
   size_t count;
} lines_t;

static lines_t lines;

static void
keep_line (const char *line, size_t len, const mwatch_record_t *record, void *user_data)
{
   (void) len;
   (void) record;
   (void) user_data;
   pthread_mutex_lock (&lines.lock);
   if (lines.count < sizeof lines.lines / sizeof lines.lines[0]) {
      lines.lines[lines.count++] = bson_strdup (line);
   }
   pthread_mutex_unlock (&lines.lock);
}

static size_t
lines_count (void)
{
   pthread_mutex_lock (&lines.lock);
   size_t n = lines.count;
   pthread_mutex_unlock (&lines.lock);
   return n;
}

/* The lines that contain `text`. */
static size_t
lines_with (const char *text)
{
   size_t n = 0;
   pthread_mutex_lock (&lines.lock);
   for (size_t i = 0; i < lines.count; i++) {
      n += strstr (lines.lines[i], text) != NULL;
   }
   pthread_mutex_unlock (&lines.lock);
   return n;
}

static void
lines_clear (void)
{
   for (size_t i = 0; i < lines.count; i++) {
      bson_free (lines.lines[i]);
   }
   lines.count = 0;
}

/* Logging at INFO through the queue "held" (plus, with `direct`, a
 * second callback handler at DEBUG attached without a queue), the cursor
 * watcher's timeout `timeout_sec`. */
static void
start_logging (double timeout_sec, bool direct)
{
   pthread_mutex_init (&lines.lock, NULL);
   lines_clear ();
   bson_error_t error;
   mwatch_formatter_t *fmt = mwatch_formatter_new ("{watch.State} {watch.Operation} {watch.Iteration}", NULL, &error);
   ck_assert_msg (fmt, "%s", error.message);
   mwatch_handler_t *backend = mwatch_handler_new_callback (keep_line, NULL, NULL);
   mwatch_handler_set_formatter (backend, fmt);
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, NULL);
   mwatch_handler_set_name (queue, "held");
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   /* Updates at DEBUG reach the direct handler alone. */
   mwatch_logger_set_level (logger, direct ? MWATCH_LEVEL_DEBUG : MWATCH_LEVEL_INFO);
   mwatch_handler_set_level (queue, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);
   if (direct) {
      mwatch_handler_t *now = mwatch_handler_new_callback (keep_line, NULL, NULL);
      mwatch_handler_set_formatter (now, fmt);
      mwatch_handler_set_level (now, MWATCH_LEVEL_DEBUG);
      mwatch_logger_add_handler (logger, now);
      mwatch_handler_destroy (now);
   }
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   mwatch_formatter_destroy (fmt);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = timeout_sec;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
}

static mwatch_queue_stats_t
held_stats (void)
{
   mwatch_queue_stats_t stats;
   ck_assert (mwatch_queue_handler_stats_by_name ("held", &stats));
   return stats;
}

/* Waits for `n` lines, at most `seconds`. */
static size_t
await_lines (size_t n, double seconds)
{
   int64_t until = mwatch_monotonic_us () + (int64_t) (seconds * 1e6);
   while (lines_count () < n && mwatch_monotonic_us () < until) {
      struct timespec ms = {0, 10 * 1000 * 1000};
      nanosleep (&ms, NULL);
   }
   return lines_count ();
}

START_TEST (test_short_operation_queues_one_record)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_held", db, sizeof db, 5);
   start_logging (MIN_TIMEOUT_SEC, false);

   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   /* Started, not yet ended: nothing queued (the old way: its first
    * record, waiting for its timeout). */
   ck_assert_uint_eq (held_stats ().put, 0);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   /* Ended: its final record alone, replacing nothing. */
   mwatch_queue_stats_t stats = held_stats ();
   ck_assert_uint_eq (stats.put, 1);
   ck_assert_uint_eq (stats.replaced, 0);
   mwatch_shutdown ();
   ck_assert_uint_eq (lines_count (), 1);
   ck_assert_uint_eq (lines_with ("final find "), 1);

   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_stalled_operation_still_times_out)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_held", db, sizeof db, 5);
   start_logging (MIN_TIMEOUT_SEC, false);

   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   int64_t last_activity = mwatch_monotonic_us ();
   /* The first record is promoted within AGE + SCAN, then times out. */
   ck_assert_uint_eq (await_lines (1, 4 * MIN_TIMEOUT_SEC), 1);
   ck_assert_int_ge (mwatch_monotonic_us () - last_activity,
                     (int64_t) (MIN_TIMEOUT_SEC * 1e6));
   ck_assert_uint_eq (lines_with ("timeout find "), 1);
   ck_assert_uint_eq (held_stats ().put, 1);

   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (lines_with ("final find "), 1);
   ck_assert_uint_eq (lines_count (), 2);

   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_running_at_shutdown_is_timed_out)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_held", db, sizeof db, 5);
   /* The default timeout: the background thread would not promote it for
    * half a second; shutdown does at once. */
   start_logging (15, false);

   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   ck_assert_uint_eq (held_stats ().put, 0);
   mwatch_shutdown ();
   ck_assert_uint_eq (lines_count (), 1);
   ck_assert_uint_eq (lines_with ("timeout find 1"), 1);

   mongoc_cursor_destroy (cursor);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_shutdown_ends_the_background_thread)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_held", db, sizeof db, 5);
   size_t before = mwatch_test_thread_count ();
   start_logging (MIN_TIMEOUT_SEC, false);

   /* A first record held back starts the background thread. */
   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   ck_assert_uint_gt (mwatch_test_thread_count (), before);
   /* Shutdown joins the queue's listener and the background thread: no
    * thread of the library's outlives it. */
   mwatch_shutdown ();
   ck_assert_uint_eq (mwatch_test_thread_count (), before);
   ck_assert_uint_eq (lines_with ("final find "), 1);

   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

START_TEST (test_direct_handler_gets_first_record_at_once)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_held", db, sizeof db, 5);
   start_logging (15, true);

   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   /* The handler without a queue wrote it on this thread; the queue got
    * its copy, as before. */
   ck_assert_uint_eq (lines_with ("first find 0"), 1);
   ck_assert_uint_eq (held_stats ().put, 1);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   /* The direct handler's final and the queue's. */
   ck_assert_uint_eq (lines_with ("final find "), 2);

   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

static void
teardown (void)
{
   capture_patched_teardown ();
   lines_clear ();
}

Suite *
held_back_suite (void)
{
   Suite *suite = suite_create ("held back");
   TCase *tc = tcase_create ("held back");
   tcase_add_checked_fixture (tc, capture_patched_setup, teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_short_operation_queues_one_record);
   tcase_add_test (tc, test_stalled_operation_still_times_out);
   tcase_add_test (tc, test_running_at_shutdown_is_timed_out);
   tcase_add_test (tc, test_direct_handler_gets_first_record_at_once);
   tcase_add_test (tc, test_shutdown_ends_the_background_thread);
   suite_add_tcase (suite, tc);
   return suite;
}
