/* The cost that must not grow with what is not used (issue 14, part B):
 * THREADS application threads on one mongoc_client_pool_t, each doing OPS
 * finds with a filter of KEYS keys (limit 1, read to the end), with
 * LOGGERS other loggers configured ("scaling.other.N", each with a file
 * handler at INFO into /dev/null) that the watch's records never reach.
 *
 *   build/bench/scaling bare|watched THREADS KEYS LOGGERS OPS LOG
 *                                    (server: MONGOWATCH_TEST_URI)
 *
 * bare: libmongoc alone (mongowatch linked, never patched, no handler);
 * watched: mwatch_patch_mongoc() and the "mongowatch" logger at INFO into a
 * queue handler (the defaults) in front of a file handler with the default
 * format at LOG.  The other loggers are configured in both, so that only
 * the watch differs.  It prints one line:
 *   config threads keys loggers operations cpu_us_per_op wall_ops_per_s
 * with the process CPU (every thread, getrusage) over the operations'
 * span, measured after mwatch_shutdown() has drained the queue, so that
 * the listener's share is in it.
 *
 * The operations run in scaling_ops(), which bench/scaling-run gives to
 * callgrind's --toggle-collect: the application threads' instructions only.
 *
 * SCALING_LOCKS=1 counts, per call site, the mutexes and rwlocks taken and
 * how many were contended (a try-lock that failed), and prints them on
 * stderr after the line, sites resolved with addr2line: the locks on the
 * per-operation path and which of them the threads fought over.  The
 * counting is done by bench/lock-count.h.
 *
 * SCALING_DRAIN=1 prints on stderr, watched, how many records were still
 * queued when the operations ended and how much of the CPU the drain at
 * mwatch_shutdown() took: a listener that cannot keep up (many threads on
 * few cores) shows there. */
#include "bench-util.h"
#include "lock-count.h"

#include <dlfcn.h>
#include <errno.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>

/* ---------------------------------------------------------------- work */

static mongoc_client_pool_t *pool;
static long ops_each;
static int keys;
static atomic_long failures;

/* The filter { k0: 0, k1: 1, ... } of `keys` keys. */
static bson_t *
filter_new (void)
{
   bson_t *filter = bson_new ();
   char name[16];
   for (int k = 0; k < keys; k++) {
      snprintf (name, sizeof name, "k%d", k);
      BSON_APPEND_INT32 (filter, name, k);
   }
   return filter;
}

/* The operations of one thread, apart so that callgrind can count them
 * alone (--toggle-collect=scaling_ops). */
void scaling_ops (mongoc_collection_t *coll, const bson_t *filter, const bson_t *opts);

__attribute__ ((noinline)) void
scaling_ops (mongoc_collection_t *coll, const bson_t *filter, const bson_t *opts)
{
   bson_error_t error;
   for (long i = 0; i < ops_each; i++) {
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
      const bson_t *doc;
      while (mongoc_cursor_next (cursor, &doc)) {
      }
      if (mongoc_cursor_error (cursor, &error)) {
         atomic_fetch_add (&failures, 1);
      }
      mongoc_cursor_destroy (cursor);
   }
}

static void *
work (void *arg)
{
   (void) arg;
   app_thread = 1;
   mongoc_client_t *client = mongoc_client_pool_pop (pool);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, "mwatch_scaling", "orders");
   bson_t *filter = filter_new ();
   bson_t *opts = BCON_NEW ("limit", BCON_INT64 (1));
   scaling_ops (coll, filter, opts);
   bson_destroy (opts);
   bson_destroy (filter);
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (pool, client);
   return NULL;
}

static double
cpu_sec (void)
{
   struct rusage ru;
   getrusage (RUSAGE_SELF, &ru);
   return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
die (const char *what, const bson_error_t *error)
{
   fprintf (stderr, "scaling: %s: %s\n", what, error->message);
   exit (2);
}

int
main (int argc, char **argv)
{
   const char *uri_str = getenv ("MONGOWATCH_TEST_URI");
   if (argc != 7 || !uri_str || (strcmp (argv[1], "bare") && strcmp (argv[1], "watched"))) {
      fprintf (stderr, "usage: MONGOWATCH_TEST_URI=... scaling bare|watched THREADS KEYS "
                       "LOGGERS OPS LOG\n");
      return 2;
   }
   bool watched = !strcmp (argv[1], "watched");
   int threads = atoi (argv[2]);
   keys = atoi (argv[3]);
   int loggers = atoi (argv[4]);
   ops_each = atol (argv[5]);
   const char *path = argv[6];
   bson_error_t error;

   /* Loggers configured but not reached, in both configurations. */
   mwatch_handler_t **others = bson_malloc0 (sizeof *others * (size_t) (loggers + 1));
   for (int i = 0; i < loggers; i++) {
      char name[64];
      snprintf (name, sizeof name, "scaling.other.%d", i);
      mwatch_logger_t *other = mwatch_logger_get (name);
      mwatch_logger_set_level (other, MWATCH_LEVEL_INFO);
      others[i] = bench_file_handler ("/dev/null");
      mwatch_logger_add_handler (other, others[i]);
   }
   mwatch_handler_t *file = NULL, *queue = NULL;
   if (watched) {
      if (!mwatch_patch_mongoc (&error)) {
         die ("mwatch_patch_mongoc", &error);
      }
      remove (path);
      file = bench_file_handler (path);
      mwatch_queue_handler_opts_t qopts;
      mwatch_queue_handler_opts_init (&qopts);
      queue = mwatch_handler_new_queue (file, &qopts);
      mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
      mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
      mwatch_logger_add_handler (logger, queue);
   }

   mongoc_uri_t *uri;
   pool = bench_pool_new (uri_str, threads, &uri, &error);
   if (!pool) {
      die ("URI", &error);
   }
   /* Connect every client before the span: its handshake is not an
    * operation. */
   mongoc_client_t **clients = bson_malloc (sizeof *clients * (size_t) threads);
   for (int i = 0; i < threads; i++) {
      clients[i] = mongoc_client_pool_pop (pool);
      bson_t *ping = BCON_NEW ("ping", BCON_INT32 (1));
      if (!mongoc_client_command_simple (clients[i], "admin", ping, NULL, NULL, &error)) {
         die ("ping", &error);
      }
      bson_destroy (ping);
   }
   for (int i = 0; i < threads; i++) {
      mongoc_client_pool_push (pool, clients[i]);
   }
   bson_free (clients);

   atomic_store (&counting, getenv ("SCALING_LOCKS") && *getenv ("SCALING_LOCKS") == '1');
   pthread_t *ids = bson_malloc (sizeof *ids * (size_t) threads);
   double cpu0 = cpu_sec ();
   double start = bench_now_sec ();
   for (int i = 0; i < threads; i++) {
      pthread_create (&ids[i], NULL, work, NULL);
   }
   for (int i = 0; i < threads; i++) {
      pthread_join (ids[i], NULL);
   }
   double secs = bench_now_sec () - start;
   mwatch_queue_stats_t backlog = {0};
   if (queue) {
      mwatch_queue_handler_stats (queue, &backlog);
   }
   double cpu_ops = cpu_sec () - cpu0;
   mwatch_shutdown (); /* drains the queue into the file: the listener's CPU is counted */
   atomic_store (&counting, false);
   double cpu = cpu_sec () - cpu0;
   long total = ops_each * threads;
   /* Watched, the file has a line for each ping too. */
   long lines = watched ? bench_count_lines (path) - threads : total;
   printf ("%s %d %d %d %ld %.3f %.0f\n", argv[1], threads, keys, loggers, total,
           cpu * 1e6 / (double) total, (double) total / secs);
   if (getenv ("SCALING_LOCKS") && *getenv ("SCALING_LOCKS") == '1') {
      print_locks (total);
   }
   if (queue && getenv ("SCALING_DRAIN") && *getenv ("SCALING_DRAIN") == '1') {
      fprintf (stderr,
               "queued when the operations ended: %zu records (%zu KiB); drain at shutdown: "
               "%.1f%% of the CPU\n",
               backlog.size, backlog.bytes / 1024, cpu > 0 ? 100.0 * (cpu - cpu_ops) / cpu : 0.0);
   }
   mongoc_client_pool_destroy (pool);
   mongoc_uri_destroy (uri);
   mongoc_cleanup ();
   if (queue) {
      mwatch_handler_destroy (queue);
      mwatch_handler_destroy (file);
   }
   for (int i = 0; i < loggers; i++) {
      mwatch_handler_destroy (others[i]);
   }
   bson_free (others);
   bson_free (ids);
   if (lines != total || atomic_load (&failures)) {
      fprintf (stderr, "scaling: %ld records for %ld operations, %ld failed\n", lines, total,
               atomic_load (&failures));
      return 1;
   }
   return 0;
}
