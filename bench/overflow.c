/* What a queue's overflow policy costs and loses when the application
 * produces records faster than the listener writes them: THREADS threads
 * each log RECORDS final records of a find, as fast as they can, through
 * one queue handler (default capacity and bounds) into a real file with
 * the JSON-lines format.  Each policy runs in turn in this one process;
 * the output gives, per policy, the records written and dropped, the
 * producers' wall time and records/s, and the process's peak RSS so far.
 *
 *   build/bench/overflow [THREADS] [RECORDS] [FILE] [POLICY]
 *                (defaults: 16, 50000, /tmp/mongowatch-overflow.jsonl, both;
 *                 POLICY drop_newest or block runs that one alone, for a
 *                 peak RSS of its own) */
#include "bench-util.h"

#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static bson_t *filter;
static mwatch_logger_t *logger;
static long records_each;

static void *
produce (void *arg)
{
   (void) arg;
   for (long i = 0; i < records_each; i++) {
      mwatch_message_t *msg = bench_find_started (filter);
      bench_find_ended (msg, 25);
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
      mwatch_message_destroy (msg);
   }
   return NULL;
}

static void
run (const char *label, mwatch_overflow_t overflow, int threads, const char *path)
{
   remove (path);
   mwatch_handler_t *file = bench_file_handler (path);
   bson_error_t error;
   mwatch_formatter_t *json = mwatch_formatter_new ("{watch.json}", NULL, &error);
   mwatch_handler_set_formatter (file, json);
   mwatch_formatter_destroy (json);
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   opts.overflow = overflow;
   mwatch_handler_t *queue = mwatch_handler_new_queue (file, &opts);
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO); /* the last shutdown reset it */
   mwatch_logger_add_handler (logger, queue);

   pthread_t *ids = bson_malloc (sizeof *ids * (size_t) threads);
   double start = bench_now_sec ();
   for (int i = 0; i < threads; i++) {
      pthread_create (&ids[i], NULL, produce, NULL);
   }
   for (int i = 0; i < threads; i++) {
      pthread_join (ids[i], NULL);
   }
   double produced = bench_now_sec () - start;
   mwatch_shutdown (); /* drains into the file */
   double written_at = bench_now_sec () - start;
   mwatch_queue_stats_t st;
   mwatch_queue_handler_stats (queue, &st);
   struct rusage usage;
   getrusage (RUSAGE_SELF, &usage);
   long total = records_each * threads;
   long lines = bench_count_lines (path);
   printf ("| %s | %d | %ld | %ld | %" PRIu64 " (%.1f %%) | %.2f | %.0f | %.2f | %ld |\n", label,
           threads, total, lines, st.dropped, 100.0 * (double) st.dropped / (double) total,
           produced, (double) total / produced, written_at, usage.ru_maxrss / 1024);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (file);
   bson_free (ids);
}

int
main (int argc, char **argv)
{
   int threads = argc > 1 ? atoi (argv[1]) : 16;
   records_each = argc > 2 ? atol (argv[2]) : 50000;
   const char *path = argc > 3 ? argv[3] : "/tmp/mongowatch-overflow.jsonl";
   filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}", "age", "{", "$gt",
                      BCON_INT32 (30), "}");
   logger = mwatch_logger_get ("mongowatch.cursor");
   printf ("| policy | threads | records | lines written | dropped | producers' s | records/s "
           "| all written at s | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|\n");
   const char *only = argc > 4 ? argv[4] : "both";
   if (strcmp (only, "block") != 0) {
      run ("drop_newest", MWATCH_OVERFLOW_DROP_NEWEST, threads, path);
   }
   if (strcmp (only, "drop_newest") != 0) {
      run ("block (default)", MWATCH_OVERFLOW_BLOCK, threads, path);
   }
   remove (path);
   bson_destroy (filter);
   return 0;
}
