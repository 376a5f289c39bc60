/* A review of first records held back (lib/watch-pending.c): what a user
 * sees must not change.  Case "fine": the situations the review checked
 * and found right (the registering thread gone, logging set up again
 * after mwatch_shutdown, mwatch_cursor_lock while held back, a timeout
 * between MIN_TIMEOUT_SEC and 3 s, promotions racing finals on several
 * threads, a configuration loaded while held back). */
#include "integration/suites.h"
#include "test-capture.h"

/* lib/watch-pending-private.h's MIN_TIMEOUT_SEC. */
#define MIN_TIMEOUT_SEC 2.0

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Lines kept by a callback handler: bucket 0 behind the queue "rheld",
 * bucket 1 a handler without a queue. */
typedef struct {
   char *lines[64];
   size_t count;
} bucket_t;

static pthread_mutex_t lines_lock = PTHREAD_MUTEX_INITIALIZER;
static bucket_t buckets[2];

static void
keep_line (const char *line, size_t len, const mwatch_record_t *record, void *user_data)
{
   (void) len;
   (void) record;
   bucket_t *b = &buckets[(intptr_t) user_data];
   pthread_mutex_lock (&lines_lock);
   if (b->count < sizeof b->lines / sizeof b->lines[0]) {
      b->lines[b->count++] = bson_strdup (line);
   }
   pthread_mutex_unlock (&lines_lock);
}

static size_t
count_with (int bucket, const char *text)
{
   size_t n = 0;
   pthread_mutex_lock (&lines_lock);
   for (size_t i = 0; i < buckets[bucket].count; i++) {
      n += text == NULL || strstr (buckets[bucket].lines[i], text) != NULL;
   }
   pthread_mutex_unlock (&lines_lock);
   return n;
}

static void
lines_clear (void)
{
   pthread_mutex_lock (&lines_lock);
   for (int b = 0; b < 2; b++) {
      for (size_t i = 0; i < buckets[b].count; i++) {
         bson_free (buckets[b].lines[i]);
      }
      buckets[b].count = 0;
   }
   pthread_mutex_unlock (&lines_lock);
}

static mwatch_handler_t *
callback_handler (const char *format, intptr_t bucket)
{
   bson_error_t error;
   mwatch_formatter_t *fmt = mwatch_formatter_new (format, NULL, &error);
   ck_assert_msg (fmt, "%s", error.message);
   mwatch_handler_t *h = mwatch_handler_new_callback (keep_line, (void *) bucket, NULL);
   mwatch_handler_set_formatter (h, fmt);
   mwatch_formatter_destroy (fmt);
   return h;
}

/* Logging at INFO through the queue "rheld" alone, lines formatted by
 * `format`; the cursor watcher's timeout `timeout_sec`: first records
 * are held back. */
static void
start_queue_logging (const char *format, double timeout_sec)
{
   lines_clear ();
   mwatch_handler_t *backend = callback_handler (format, 0);
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, NULL);
   mwatch_handler_set_name (queue, "rheld");
   mwatch_handler_set_level (queue, MWATCH_LEVEL_INFO);
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_sec = timeout_sec;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &wopts);
}

static uint64_t
queue_puts (void)
{
   mwatch_queue_stats_t stats;
   ck_assert (mwatch_queue_handler_stats_by_name ("rheld", &stats));
   return stats.put;
}

static void
pause_ms (long ms)
{
   struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
   nanosleep (&t, NULL);
}

/* Waits until `bucket` has a line with `text`, at most `seconds`. */
static bool
await_line (int bucket, const char *text, double seconds)
{
   int64_t until = mwatch_monotonic_us () + (int64_t) (seconds * 1e6);
   while (count_with (bucket, text) == 0) {
      if (mwatch_monotonic_us () >= until) {
         return false;
      }
      pause_ms (10);
   }
   return true;
}

/* A find of `coll` that read one document and stays open: its first
 * record held back. */
static mongoc_cursor_t *
open_cursor (mongoc_collection_t *coll)
{
   bson_t filter = BSON_INITIALIZER;
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   return cursor;
}

typedef struct {
   mongoc_client_t *client;
   mongoc_collection_t *coll;
   char db[64];
} fixture_t;

static void
fixture_open (fixture_t *f)
{
   f->client = mwatch_test_client ();
   f->coll = mwatch_test_seed (f->client, "mwtest_heldrev", f->db, sizeof f->db, 5);
}

static void
fixture_close (fixture_t *f)
{
   mwatch_test_drop (f->client, f->db, f->coll);
   mongoc_client_destroy (f->client);
}

/* ---------------------------------------------------------------- fine */

static void *
open_on_thread (void *arg)
{
   return open_cursor (arg);
}

/* The thread that started the operation (and registered it) ends; the
 * operation goes on from another thread: still promoted, timed out. */
START_TEST (test_registering_thread_exits)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", MIN_TIMEOUT_SEC);
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, open_on_thread, f.coll), 0);
   void *cursor;
   ck_assert_int_eq (pthread_join (thread, &cursor), 0);
   ck_assert_uint_eq (queue_puts (), 0);
   ck_assert (await_line (0, "timeout find", 4 * MIN_TIMEOUT_SEC));
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (0, "final find"), 1);
   ck_assert_uint_eq (count_with (0, NULL), 2);
   fixture_close (&f);
}
END_TEST

/* mwatch_shutdown by the application, then logging set up again: the
 * background thread still promotes. */
START_TEST (test_logging_again_after_shutdown)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", MIN_TIMEOUT_SEC);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   ck_assert (await_line (0, "timeout find", 4 * MIN_TIMEOUT_SEC));
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (0, NULL), 2);

   start_queue_logging ("{watch.State} {watch.Operation}", MIN_TIMEOUT_SEC);
   cursor = open_cursor (f.coll);
   ck_assert_uint_eq (queue_puts (), 0);
   ck_assert (await_line (0, "timeout find", 4 * MIN_TIMEOUT_SEC));
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (0, "final find"), 1);
   ck_assert_uint_eq (count_with (0, NULL), 2);
   fixture_close (&f);
}
END_TEST

/* mwatch_cursor_lock while the first record is held back: the field the
 * application adds is in the timeout record and the final one, and the
 * operation is promoted once. */
START_TEST (test_cursor_lock_while_held_back)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation} {watch.Request}", MIN_TIMEOUT_SEC);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   mwatch_cursor_t *watch = mwatch_cursor_get (cursor);
   ck_assert_ptr_nonnull (watch);
   mwatch_message_t *msg = mwatch_cursor_lock (watch);
   mwatch_message_set_utf8 (msg, "Request", "r-7");
   mwatch_cursor_unlock (watch);
   ck_assert_uint_eq (queue_puts (), 0);
   ck_assert (await_line (0, "timeout find r-7", 4 * MIN_TIMEOUT_SEC));
   ck_assert_uint_eq (queue_puts (), 1);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (0, "final find r-7"), 1);
   ck_assert_uint_eq (count_with (0, NULL), 2);
   fixture_close (&f);
}
END_TEST

/* A timeout between MIN_TIMEOUT_SEC and 3 s: the record is promoted in
 * time; the timeout comes no earlier than due, and not a scan late. */
START_TEST (test_timeout_of_two_and_a_half_seconds)
{
   fixture_t f;
   fixture_open (&f);
   const double timeout = 2.5;
   start_queue_logging ("{watch.State} {watch.Operation}", timeout);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   int64_t last_activity = mwatch_monotonic_us ();
   ck_assert (await_line (0, "timeout find", 4 * timeout));
   int64_t took = mwatch_monotonic_us () - last_activity;
   ck_assert_int_ge (took, (int64_t) (timeout * 1e6));
   ck_assert_msg (took < (int64_t) ((timeout + 1.0) * 1e6), "timed out after %" PRId64 " us", took);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (0, NULL), 2);
   fixture_close (&f);
}
END_TEST

typedef struct {
   const char *db;
   const char *coll;
   int index;
} racer_t;

/* Operations that end around the moment the background thread promotes
 * them (AGE, AGE + SCAN): the promotion and the final record meet on the
 * watch's lock from two threads, on several shards at once. */
static void *
race_final (void *arg)
{
   racer_t *r = arg;
   static const long waits_ms[] = {450, 500, 550, 600, 700, 750};
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mongoc_client_get_collection (client, r->db, r->coll);
   for (size_t i = 0; i < sizeof waits_ms / sizeof waits_ms[0]; i++) {
      mongoc_cursor_t *cursor = open_cursor (coll);
      pause_ms (waits_ms[(i + (size_t) r->index) % (sizeof waits_ms / sizeof waits_ms[0])]);
      ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
      mongoc_cursor_destroy (cursor);
   }
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   return NULL;
}

/* Each operation logs its final record once and is never timed out,
 * whether it ended before, during or after its promotion (under
 * `make SANITIZE=thread`, no data race). */
START_TEST (test_promotion_races_final)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", 15);
   enum { RACERS = 4, EACH = 6 };
   pthread_t threads[RACERS];
   racer_t racers[RACERS];
   for (int i = 0; i < RACERS; i++) {
      racers[i] = (racer_t) {.db = f.db, .coll = mongoc_collection_get_name (f.coll), .index = i};
      ck_assert_int_eq (pthread_create (&threads[i], NULL, race_final, &racers[i]), 0);
   }
   for (int i = 0; i < RACERS; i++) {
      pthread_join (threads[i], NULL);
   }
   /* Some were promoted before they ended: their first records were
    * queued besides their finals. */
   ck_assert_uint_gt (queue_puts (), RACERS * EACH);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (0, "final find"), RACERS * EACH);
   ck_assert_uint_eq (count_with (0, NULL), RACERS * EACH);
   fixture_close (&f);
}
END_TEST

/* ---------------------------------------------------------------- reload */

static char reload_dir[64];

/* Loads a configuration: the queue `queue` in front of the file `file`
 * of reload_dir at INFO, and with `direct` a file handler without a
 * queue at DEBUG (the logger at DEBUG then); the cursor watcher's
 * timeout MIN_TIMEOUT_SEC. */
static void
load_reload_config (const char *queue, const char *file, const char *direct)
{
   char text[2048];
   char extra[512] = "";
   if (direct) {
      bson_snprintf (extra, sizeof extra,
                     "  direct: {class: file, filename: '%s/%s', formatter: plain, level: DEBUG}\n",
                     reload_dir, direct);
   }
   bson_snprintf (text, sizeof text,
                  "version: 1\n"
                  "formatters:\n"
                  "  plain: {format: '{watch.State} {watch.Operation}'}\n"
                  "handlers:\n"
                  "  %s_file: {class: file, filename: '%s/%s', formatter: plain}\n"
                  "  %s: {class: queue, handler: %s_file, level: INFO}\n"
                  "%s"
                  "loggers:\n"
                  "  mongowatch: {level: %s, handlers: [%s%s]}\n"
                  "watchers:\n"
                  "  cursor: {timeout_sec: %g}\n",
                  queue, reload_dir, file, queue, queue, extra, direct ? "DEBUG" : "INFO", queue,
                  direct ? ", direct" : "", MIN_TIMEOUT_SEC);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
}

/* The lines of reload_dir's `file` that contain `text`. */
static size_t
file_count (const char *file, const char *text)
{
   char path[128];
   bson_snprintf (path, sizeof path, "%s/%s", reload_dir, file);
   FILE *fp = fopen (path, "r");
   if (!fp) {
      return 0;
   }
   size_t n = 0;
   char line[1024];
   while (fgets (line, sizeof line, fp)) {
      n += strstr (line, text) != NULL;
   }
   fclose (fp);
   return n;
}

static void
reload_cleanup (void)
{
   const char *files[] = {"one.log", "two.log", "three.log"};
   for (size_t i = 0; i < 3; i++) {
      char path[128];
      bson_snprintf (path, sizeof path, "%s/%s", reload_dir, files[i]);
      unlink (path);
   }
   rmdir (reload_dir);
}

/* Waits until the queue `name` took a record, at most `seconds`. */
static bool
await_put (const char *name, double seconds)
{
   int64_t until = mwatch_monotonic_us () + (int64_t) (seconds * 1e6);
   for (;;) {
      mwatch_queue_stats_t stats;
      if (mwatch_queue_handler_stats_by_name (name, &stats) && stats.put > 0) {
         return true;
      }
      if (mwatch_monotonic_us () >= until) {
         return false;
      }
      pause_ms (10);
   }
}

/* A new configuration loaded while an operation is held back: its first
 * record goes to the new configuration's queue, which times the
 * operation out (here as it drains at shutdown); the old one writes
 * nothing. */
START_TEST (test_reload_while_held_back)
{
   fixture_t f;
   fixture_open (&f);
   bson_strncpy (reload_dir, "/tmp/mwatch-heldrev-XXXXXX", sizeof reload_dir);
   ck_assert_ptr_nonnull (mkdtemp (reload_dir));
   load_reload_config ("q1", "one.log", NULL);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   load_reload_config ("q2", "two.log", NULL);
   ck_assert (await_put ("q2", 4 * MIN_TIMEOUT_SEC));
   mwatch_shutdown ();
   ck_assert_uint_eq (file_count ("one.log", "find"), 0);
   ck_assert_uint_eq (file_count ("two.log", "timeout find"), 1);
   ck_assert_uint_eq (file_count ("two.log", "find"), 1);
   mongoc_cursor_destroy (cursor);
   reload_cleanup ();
   fixture_close (&f);
}
END_TEST

static void
teardown (void)
{
   capture_patched_teardown ();
   lines_clear ();
}

Suite *
held_back_review_suite (void)
{
   Suite *suite = suite_create ("held back review");
   TCase *fine = tcase_create ("fine");
   tcase_add_checked_fixture (fine, capture_patched_setup, teardown);
   tcase_set_timeout (fine, 60);
   tcase_add_test (fine, test_registering_thread_exits);
   tcase_add_test (fine, test_logging_again_after_shutdown);
   tcase_add_test (fine, test_cursor_lock_while_held_back);
   tcase_add_test (fine, test_timeout_of_two_and_a_half_seconds);
   tcase_add_test (fine, test_promotion_races_final);
   tcase_add_test (fine, test_reload_while_held_back);
   suite_add_tcase (suite, fine);
   return suite;
}
