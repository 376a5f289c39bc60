/* A review of first records held back (lib/watch-pending.c): what a user
 * sees must not change.  Case "fine": the situations the review checked
 * and found right (the registering thread gone, logging set up again
 * after mwatch_shutdown, mwatch_cursor_lock while held back, a timeout
 * between MIN_TIMEOUT_SEC and 3 s, promotions racing finals on several
 * threads, a configuration loaded while held back).  Case "bugs": differences from the
 * first record queued at once (each test passes with the library before
 * 762434d): the timeout record's {thread} and {created}, a 'first' record
 * written by a handler added later or by a new configuration's, a child of fork() that logs, or waits
 * for, its parent's operations, timeout records lost when mwatch_shutdown
 * meets the background thread in mid-batch, and mwatch_shutdown waiting
 * for ever for a running operation's lock. */
#include "integration/suites.h"
#include "test-capture.h"

/* lib/watch-pending-private.h's MIN_TIMEOUT_SEC. */
#define MIN_TIMEOUT_SEC 2.0

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* A copy of the first line of `bucket` that contains `text`, or NULL. */
static char *
line_with (int bucket, const char *text)
{
   char *found = NULL;
   pthread_mutex_lock (&lines_lock);
   for (size_t i = 0; i < buckets[bucket].count && !found; i++) {
      if (strstr (buckets[bucket].lines[i], text)) {
         found = bson_strdup (buckets[bucket].lines[i]);
      }
   }
   pthread_mutex_unlock (&lines_lock);
   return found;
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

/* ---------------------------------------------------------------- bugs */

/* The timeout record of a stalled operation names the thread that ran it,
 * and the time its first record was made, as when the first record was
 * queued at once: not the background thread's, half a second later. */
START_TEST (test_timeout_record_thread_and_created)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {thread} {created}", MIN_TIMEOUT_SEC);
   double started = (double) mwatch_realtime_us () / 1e6;
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   ck_assert (await_line (0, "timeout ", 4 * MIN_TIMEOUT_SEC));
   char *line = line_with (0, "timeout ");
   long long thread = 0;
   double created = 0;
   ck_assert_int_eq (sscanf (line, "timeout %lld %lf", &thread, &created), 2);
   long long me = (long long) syscall (SYS_gettid);
   ck_assert_msg (thread == me, "timeout record of thread %lld, the operation ran on %lld (%s)",
                  thread, me, line);
   ck_assert_msg (created - started < 0.25,
                  "timeout record created %.3f s after the operation started (%s)",
                  created - started, line);
   bson_free (line);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   fixture_close (&f);
}
END_TEST

/* A handler attached (without a queue) while an operation runs sees its
 * later records, never the 'first' record logged before it was there. */
START_TEST (test_handler_added_later_gets_no_first_record)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", MIN_TIMEOUT_SEC);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   /* A handler at DEBUG, where first records are logged. */
   mwatch_handler_t *direct = callback_handler ("{watch.State} {watch.Operation}", 1);
   mwatch_handler_set_level (direct, MWATCH_LEVEL_DEBUG);
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_DEBUG);
   mwatch_logger_add_handler (logger, direct);
   mwatch_handler_destroy (direct);
   /* The first record reached the queue (at once, or when promoted);
    * a promotion holds the watch's lock through its whole dispatch. */
   int64_t until = mwatch_monotonic_us () + (int64_t) (4 * MIN_TIMEOUT_SEC * 1e6);
   while (queue_puts () == 0 && mwatch_monotonic_us () < until) {
      pause_ms (10);
   }
   ck_assert_uint_eq (queue_puts (), 1);
   mwatch_cursor_t *watch = mwatch_cursor_get (cursor);
   mwatch_cursor_lock (watch);
   mwatch_cursor_unlock (watch);
   ck_assert_msg (count_with (1, "first find") == 0,
                  "the handler added after the operation started wrote its first record");
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (1, "final find"), 1);
   fixture_close (&f);
}
END_TEST

/* Waits for child `pid`, at most 20 s; its exit status, or -1 (and the
 * child is killed) when it hung, or -signal. */
static int
await_child (pid_t pid)
{
   for (int i = 0; i < 2000; i++) {
      int status;
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid) {
         return WIFEXITED (status) ? WEXITSTATUS (status) : -WTERMSIG (status);
      }
      pause_ms (10);
   }
   kill (pid, SIGKILL);
   waitpid (pid, NULL, 0);
   return -1;
}

/* A child of fork() drops its parent's queued records (the parent writes
 * them): it must not write a record of its parent's running operation at
 * its shutdown either. */
START_TEST (test_child_writes_no_record_of_parent_operation)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", 15);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   /* The cursor has just started the background scanner (and its first
    * record the queue's listener): fork once they wait (see
    * mwatch_test_threads_asleep). */
   ck_assert (mwatch_test_threads_asleep (10));
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      mwatch_shutdown ();
      _exit ((int) count_with (0, NULL));
   }
   int status = await_child (pid);
   ck_assert_msg (status == 0, "the child wrote %d record(s) of its parent's operation", status);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   ck_assert_uint_eq (count_with (0, "final find"), 1);
   fixture_close (&f);
}
END_TEST

typedef struct {
   mwatch_cursor_t *watch;
   pthread_mutex_t lock;
   pthread_cond_t cond;
   bool locked;
   bool forked; /* or: let go */
} holder_t;

/* Another thread in the middle of the operation's record (here: holding
 * its lock through mwatch_cursor_lock) while the main thread forks. */
static void *
hold_watch (void *arg)
{
   holder_t *h = arg;
   mwatch_cursor_lock (h->watch);
   pthread_mutex_lock (&h->lock);
   h->locked = true;
   pthread_cond_broadcast (&h->cond);
   while (!h->forked) {
      pthread_cond_wait (&h->cond, &h->lock);
   }
   pthread_mutex_unlock (&h->lock);
   mwatch_cursor_unlock (h->watch);
   return NULL;
}

/* A watch's lock another thread held at fork() stays held in the child:
 * the child must not take it (doc/ARCHITECTURE.md, "Locks and fork"), so
 * its mwatch_shutdown returns. */
START_TEST (test_child_shutdown_with_parent_watch_locked)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", 15);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   holder_t h = {.watch = mwatch_cursor_get (cursor)};
   ck_assert_ptr_nonnull (h.watch);
   pthread_mutex_init (&h.lock, NULL);
   pthread_cond_init (&h.cond, NULL);
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, hold_watch, &h), 0);
   pthread_mutex_lock (&h.lock);
   while (!h.locked) {
      pthread_cond_wait (&h.cond, &h.lock);
   }
   pthread_mutex_unlock (&h.lock);
   /* The cursor has just started the background scanner: fork once it
    * (and the holder, which waits for the fork) waits (see
    * mwatch_test_threads_asleep). */
   ck_assert (mwatch_test_threads_asleep (10));
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      mwatch_shutdown ();
      _exit (0);
   }
   pthread_mutex_lock (&h.lock);
   h.forked = true;
   pthread_cond_broadcast (&h.cond);
   pthread_mutex_unlock (&h.lock);
   pthread_join (thread, NULL);
   int status = await_child (pid);
   ck_assert_msg (status == 0, "the child's mwatch_shutdown %s",
                  status == -1 ? "hung (killed after 20 s)" : "failed");
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 4);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   fixture_close (&f);
}
END_TEST

typedef struct {
   mwatch_cursor_t *watch;
   pthread_mutex_t lock;
   pthread_cond_t cond;
   bool locked;
   bool go;
} slow_t;

/* Holds the operation's lock (as a thread in the middle of its record
 * would) until told to go, then half a second more. */
static void *
hold_then_release (void *arg)
{
   slow_t *s = arg;
   mwatch_cursor_lock (s->watch);
   pthread_mutex_lock (&s->lock);
   s->locked = true;
   pthread_cond_broadcast (&s->cond);
   while (!s->go) {
      pthread_cond_wait (&s->cond, &s->lock);
   }
   pthread_mutex_unlock (&s->lock);
   pause_ms (500);
   mwatch_cursor_unlock (s->watch);
   return NULL;
}

/* mwatch_shutdown while the background thread is promoting: the
 * operations it took out of the registry, not yet promoted, are running
 * at shutdown and must be timed out as the queue drains, as when their
 * first records were queued at once.  The background thread is held in
 * its batch by the first operation's lock (another thread holds it a
 * while); shutdown's own promotion finds the registry empty. */
START_TEST (test_shutdown_while_promoting)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", 15);
   mongoc_cursor_t *first = open_cursor (f.coll);
   mongoc_cursor_t *second = open_cursor (f.coll);
   slow_t s = {.watch = mwatch_cursor_get (first)};
   pthread_mutex_init (&s.lock, NULL);
   pthread_cond_init (&s.cond, NULL);
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, hold_then_release, &s), 0);
   pthread_mutex_lock (&s.lock);
   while (!s.locked) {
      pthread_cond_wait (&s.cond, &s.lock);
   }
   pthread_mutex_unlock (&s.lock);
   /* Both are older than AGE at the next scan (AGE + SCAN = 0.75 s): the
    * background thread takes both out and waits for the first's lock.
    * Should it come later, shutdown promotes them itself and the test
    * passes: it can only miss the bug, never invent it. */
   pause_ms (1000);
   pthread_mutex_lock (&s.lock);
   s.go = true;
   pthread_cond_broadcast (&s.cond);
   pthread_mutex_unlock (&s.lock);
   mwatch_shutdown ();
   size_t timeouts = count_with (0, "timeout find");
   pthread_join (thread, NULL);
   ck_assert_msg (timeouts == 2, "%zu timeout record(s) of the 2 operations running at shutdown",
                  timeouts);
   mongoc_cursor_destroy (first);
   mongoc_cursor_destroy (second);
   fixture_close (&f);
}
END_TEST

typedef struct {
   pthread_mutex_t lock;
   pthread_cond_t cond;
   bool done;
} shutdown_call_t;

static void *
call_shutdown (void *arg)
{
   shutdown_call_t *c = arg;
   mwatch_shutdown ();
   pthread_mutex_lock (&c->lock);
   c->done = true;
   pthread_cond_broadcast (&c->cond);
   pthread_mutex_unlock (&c->lock);
   return NULL;
}

/* mwatch_shutdown (at exit, or by the application) while another thread
 * holds a running operation's lock (here through mwatch_cursor_lock; as
 * well a thread stuck in a record's trip): the queues wait for it at most
 * their shutdown_timeout_sec (5 s), and so must the promotion of the
 * first record held back, else the process hangs at exit.  Shutdown comes
 * before the background thread's first look (AGE), so it is shutdown that
 * meets the lock. */
START_TEST (test_shutdown_with_held_back_watch_locked)
{
   fixture_t f;
   fixture_open (&f);
   start_queue_logging ("{watch.State} {watch.Operation}", 15);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   holder_t h = {.watch = mwatch_cursor_get (cursor)};
   pthread_mutex_init (&h.lock, NULL);
   pthread_cond_init (&h.cond, NULL);
   pthread_t holder;
   ck_assert_int_eq (pthread_create (&holder, NULL, hold_watch, &h), 0);
   pthread_mutex_lock (&h.lock);
   while (!h.locked) {
      pthread_cond_wait (&h.cond, &h.lock);
   }
   pthread_mutex_unlock (&h.lock);
   shutdown_call_t c = {.done = false};
   pthread_mutex_init (&c.lock, NULL);
   pthread_cond_init (&c.cond, NULL);
   pthread_t caller;
   ck_assert_int_eq (pthread_create (&caller, NULL, call_shutdown, &c), 0);
   struct timespec until;
   clock_gettime (CLOCK_REALTIME, &until);
   until.tv_sec += 15;
   pthread_mutex_lock (&c.lock);
   while (!c.done) {
      if (pthread_cond_timedwait (&c.cond, &c.lock, &until) != 0) {
         break;
      }
   }
   bool done = c.done;
   pthread_mutex_unlock (&c.lock);
   ck_assert_msg (done, "mwatch_shutdown still waits for the operation's lock after 15 s");
   pthread_mutex_lock (&h.lock);
   h.forked = true;
   pthread_cond_broadcast (&h.cond);
   pthread_mutex_unlock (&h.lock);
   pthread_join (holder, NULL);
   pthread_join (caller, NULL);
   mongoc_cursor_destroy (cursor);
   fixture_close (&f);
}
END_TEST

/* The same with a handler without a queue in the new configuration: it
 * writes the operation's later records, never the 'first' record logged
 * under the old configuration (whose queue handed it to the new queues
 * alone). */
START_TEST (test_reload_direct_handler_gets_no_first_record)
{
   fixture_t f;
   fixture_open (&f);
   bson_strncpy (reload_dir, "/tmp/mwatch-heldrev-XXXXXX", sizeof reload_dir);
   ck_assert_ptr_nonnull (mkdtemp (reload_dir));
   load_reload_config ("q1", "one.log", NULL);
   mongoc_cursor_t *cursor = open_cursor (f.coll);
   load_reload_config ("q2", "two.log", "three.log");
   ck_assert (await_put ("q2", 4 * MIN_TIMEOUT_SEC));
   /* A promotion holds the watch's lock through its whole dispatch. */
   mwatch_cursor_t *watch = mwatch_cursor_get (cursor);
   mwatch_cursor_lock (watch);
   mwatch_cursor_unlock (watch);
   mwatch_shutdown ();
   size_t firsts = file_count ("three.log", "first find");
   ck_assert_uint_eq (file_count ("two.log", "timeout find"), 1);
   mongoc_cursor_destroy (cursor);
   reload_cleanup ();
   fixture_close (&f);
   ck_assert_msg (firsts == 0, "the new configuration's handler wrote the 'first' record");
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
   TCase *bugs = tcase_create ("bugs");
   tcase_add_checked_fixture (bugs, capture_patched_setup, teardown);
   tcase_set_timeout (bugs, 60);
   tcase_add_test (bugs, test_timeout_record_thread_and_created);
   tcase_add_test (bugs, test_handler_added_later_gets_no_first_record);
   tcase_add_test (bugs, test_child_writes_no_record_of_parent_operation);
   tcase_add_test (bugs, test_child_shutdown_with_parent_watch_locked);
   tcase_add_test (bugs, test_shutdown_while_promoting);
   tcase_add_test (bugs, test_shutdown_with_held_back_watch_locked);
   tcase_add_test (bugs, test_reload_direct_handler_gets_no_first_record);
   suite_add_tcase (suite, bugs);
   return suite;
}
