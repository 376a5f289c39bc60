/* Memory over a long run: the resident set of a process that logs
 * OPERATIONS operations through a bounded queue.  With the queue bounded,
 * it must stay flat however long the run.
 *
 *   build/bench/rss [OPERATIONS] [CAPACITY] [OUTPUT] [OVERFLOW]
 *                    (defaults: 10000000, 10000, /dev/null, drop_newest)
 *
 * OVERFLOW "block" makes the producer wait for room instead: every
 * operation is then formatted and written, and the run shows the memory of
 * a pipeline running full for its whole length.
 *
 * The pipeline: a file handler writing to OUTPUT with the default format,
 * at INFO, behind a queue handler holding at most CAPACITY records with
 * the default overflow policy (drop newest) and no delay, on the logger
 * "mongowatch" at INFO.
 *
 * Each operation is logged as the cursor watcher logs a find, with two log
 * calls on "mongowatch.cursor":
 *   - the first record: not ready, due by timeout in 15 s, at DEBUG with
 *     timeout level INFO, which the queue admits since it could still
 *     leave by timeout;
 *   - the final record: the same message with EndTime, Duration and
 *     MatchedCount set, ready, its iteration advanced, at INFO; in the
 *     queue it replaces the first record (same WatchID, newer iteration).
 * The logger copies the message into the queue each time, as it does for
 * the watcher.  One thing the public API cannot do as the watcher does is
 * attach the operation's live state to the record (the queue consults it
 * before emitting a first record by timeout); no first record here lives
 * long enough to time out, so it plays no part.
 *
 * One thread logs as fast as it can, which outruns the listener: the queue
 * fills up to CAPACITY and drops, the case where a bound matters.
 *
 * VmRSS (from /proc/self/status) is sampled before the first operation and
 * after every million operations (every tenth of OPERATIONS in shorter
 * runs); the "vs warm" column is against the first million.  The queue
 * and the allocator reach their working size whenever the queue is first
 * at its fullest, so growth is the highest sample of the second half of
 * the run minus the highest of the first: what a leak would add.  "Flat"
 * under 1 MiB; exit status 1 when it grew by more than 4 MiB, else 0. */
#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLAT_KIB 1024
#define LIMIT_KIB 4096

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"), -1 if missing. */
static long
proc_status_kib (const char *field)
{
   FILE *fp = fopen ("/proc/self/status", "r");
   if (!fp) {
      return -1;
   }
   char line[256];
   size_t len = strlen (field);
   long kib = -1;
   while (fgets (line, sizeof line, fp)) {
      if (strncmp (line, field, len) == 0 && line[len] == ':') {
         kib = atol (line + len + 1);
         break;
      }
   }
   fclose (fp);
   return kib;
}

/* One operation, logged as the watcher logs a find: its first record,
 * then its final one. */
static void
log_operation (mwatch_logger_t *logger, const bson_t *filter)
{
   mwatch_message_t *msg = bench_find_started (filter);
   mwatch_message_set_timeout (msg, 15);
   mwatch_logger_log (logger, MWATCH_LEVEL_DEBUG, MWATCH_LEVEL_INFO, msg);

   bench_find_ended (msg, 25);
   mwatch_message_next_iteration (msg);
   mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
   mwatch_message_destroy (msg);
}

/* Brings the queue to its fullest once before the run: CAPACITY records of
 * operations that stay running for 0.2 s, then time out and are written.
 * The memory of a full queue is then part of the baseline, and what the
 * run adds to it is what a leak would add. */
static void
fill_queue_once (mwatch_logger_t *logger,
                 mwatch_handler_t *queue,
                 const bson_t *filter,
                 long capacity)
{
   for (long i = 0; i < capacity; i++) {
      mwatch_message_t *msg = bench_find_started (filter);
      mwatch_message_set_timeout (msg, 0.2);
      mwatch_logger_log (logger, MWATCH_LEVEL_DEBUG, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
   }
   mwatch_queue_stats_t stats;
   mwatch_queue_handler_stats (queue, &stats);
   printf ("queue filled to %zu of %ld; waiting for those records to time out\n", stats.size,
           capacity);
   struct timespec pause = {0, 10 * 1000 * 1000};
   do {
      nanosleep (&pause, NULL);
      mwatch_queue_handler_stats (queue, &stats);
   } while (stats.size > 0);
}

int
main (int argc, char **argv)
{
   long operations = argc > 1 ? atol (argv[1]) : 10000000;
   long capacity = argc > 2 ? atol (argv[2]) : 10000;
   const char *path = argc > 3 ? argv[3] : "/dev/null";
   const char *overflow = argc > 4 ? argv[4] : "drop_newest";
   bool block = strcmp (overflow, "block") == 0;
   if (operations < 1 || capacity < 1 || (!block && strcmp (overflow, "drop_newest") != 0)) {
      fprintf (stderr, "usage: %s [OPERATIONS] [CAPACITY] [OUTPUT] [drop_newest|block]\n",
               argv[0]);
      return 1;
   }
   long every = operations / 10 < 1000000 ? operations / 10 : 1000000;
   if (every < 1) {
      every = 1;
   }

   mwatch_handler_t *file = bench_file_handler (path);
   mwatch_queue_handler_opts_t qopts;
   mwatch_queue_handler_opts_init (&qopts);
   qopts.capacity = (size_t) capacity;
   if (block) {
      qopts.overflow = MWATCH_OVERFLOW_BLOCK;
   }
   mwatch_handler_t *queue = mwatch_handler_new_queue (file, &qopts);
   mwatch_logger_t *top = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (top, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (top, queue);
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch.cursor");
   bson_t *filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}", "age", "{", "$gt",
                              BCON_INT32 (30), "}");

   printf ("operations %ld, queue capacity %ld, overflow %s, output %s\n", operations, capacity,
           overflow, path);
   fill_queue_once (logger, queue, filter, capacity);
   printf ("%12s %10s %10s %9s %8s %12s\n", "operations", "RSS KiB", "vs warm", "seconds",
           "queued", "drops");
   mwatch_queue_stats_t stats;
   mwatch_queue_handler_stats (queue, &stats);
   printf ("%12d %10ld %10s %9.1f %8zu %12llu\n", 0, proc_status_kib ("VmRSS"), "", 0.0,
           stats.size, (unsigned long long) stats.dropped);

   /* A leak grows with the operations; the working set of a bounded queue
    * (its records, the message pool, malloc's arenas) reaches its size once
    * the queue has been at its fullest, whenever that happens.  So the
    * second half of the run must not go above the highest of the first
    * half (after the first sample): growth there is the leak. */
   long warm = -1;
   long first_half = -1;
   long second_half = -1;
   int64_t start = mwatch_monotonic_us ();
   for (long i = 1; i <= operations; i++) {
      log_operation (logger, filter);
      if (i % every == 0 || i == operations) {
         long rss = proc_status_kib ("VmRSS");
         char delta[32] = "";
         if (warm < 0) {
            warm = rss;
         } else {
            snprintf (delta, sizeof delta, "%+ld", rss - warm);
         }
         long *half = i <= operations / 2 ? &first_half : &second_half;
         if (rss > *half) {
            *half = rss;
         }
         mwatch_queue_handler_stats (queue, &stats);
         printf ("%12ld %10ld %10s %9.1f %8zu %12llu\n", i, rss, delta,
                 (double) (mwatch_monotonic_us () - start) / 1e6, stats.size,
                 (unsigned long long) stats.dropped);
         fflush (stdout);
      }
   }
   int64_t produced = mwatch_monotonic_us ();
   mwatch_queue_handler_stats (queue, &stats);
   mwatch_shutdown (); /* writes what is still queued */
   int64_t written = mwatch_monotonic_us ();

   /* Each put either stays until written or is replaced by a newer
    * iteration, and nothing but the filling records leaves by timeout: the
    * operations written are the puts minus the replacements and those. */
   uint64_t lines = stats.put - stats.replaced - (uint64_t) capacity;
   printf ("queue: put %llu, replaced %llu, stale %llu, dropped %llu (capacity %zu)\n",
           (unsigned long long) stats.put,
           (unsigned long long) stats.replaced,
           (unsigned long long) stats.stale,
           (unsigned long long) stats.dropped,
           stats.capacity);
   printf ("operations written %llu, lost to overflow %llu (a lost operation usually "
           "counts two drops: its first and its final record)\n",
           (unsigned long long) lines,
           (unsigned long long) ((uint64_t) operations - lines));
   printf ("run time: %.1f s logging (%.0f operations/s), %.1f s with the drain\n",
           (double) (produced - start) / 1e6,
           (double) operations * 1e6 / (double) (produced - start),
           (double) (written - start) / 1e6);
   printf ("peak RSS (VmHWM) %ld KiB; RSS after shutdown %ld KiB\n", proc_status_kib ("VmHWM"),
           proc_status_kib ("VmRSS"));

   int status = 0;
   if (first_half < 0 || second_half < 0) {
      printf ("too few samples to tell whether RSS stayed flat\n");
   } else {
      long growth = second_half - first_half;
      printf ("highest RSS: %ld KiB in the first half, %ld KiB in the second\n", first_half,
              second_half);
      if (growth < FLAT_KIB) {
         printf ("RSS flat: %+ld KiB from the first half to the second (limit %d KiB)\n",
                 growth, LIMIT_KIB);
      } else if (growth <= LIMIT_KIB) {
         printf ("RSS grew %+ld KiB from the first half to the second: not flat (over %d KiB), "
                 "within the %d KiB limit\n",
                 growth, FLAT_KIB, LIMIT_KIB);
      } else {
         printf ("RSS GREW %+ld KiB from the first half to the second: over the %d KiB limit\n",
                 growth, LIMIT_KIB);
         status = 1;
      }
   }

   bson_destroy (filter);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (file);
   return status;
}
