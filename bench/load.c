/* Load held: THREADS threads on one mongoc_client_pool_t, each doing OPS
 * operations — alternately an insert_one and a find read to its end — with
 * mongowatch patched in and every record going through one queue handler
 * (the defaults: overflow block, 1 s wait, 32 MiB) into a JSON-lines file.
 * After mwatch_shutdown() it prints one markdown row: threads, operations,
 * ops/s (the operations' wall time), records written (the file's lines),
 * dropped and dropped final records (by the queue handler's name).  Exits 1
 * unless records == operations and nothing was dropped.
 *
 *   build/bench/load THREADS OPS FILE [drop_newest CAPACITY]
 *                                    (server: MONGOWATCH_TEST_URI)
 * The optional drop_newest CAPACITY replaces the defaults by the old lossy
 * policy and a small queue: the way to see the check fail. */
#include "bench-util.h"

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

static mongoc_client_pool_t *pool;
static long ops_each;
static long failures;

static void
die (const char *what, const bson_error_t *error)
{
   fprintf (stderr, "load: %s: %s\n", what, error->message);
   exit (2);
}

static void *
work (void *arg)
{
   long n = (long) (intptr_t) arg;
   mongoc_client_t *client = mongoc_client_pool_pop (pool);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, "mwatch_load", "orders");
   bson_error_t error;
   for (long i = 0; i < ops_each; i++) {
      if (i % 2 == 0) {
         bson_t *doc = BCON_NEW ("thread", BCON_INT64 (n), "i", BCON_INT64 (i));
         if (!mongoc_collection_insert_one (coll, doc, NULL, NULL, &error)) {
            __atomic_fetch_add (&failures, 1, __ATOMIC_RELAXED);
         }
         bson_destroy (doc);
      } else {
         bson_t *filter = BCON_NEW ("thread", BCON_INT64 (n));
         bson_t *opts = BCON_NEW ("limit", BCON_INT64 (1));
         mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
         const bson_t *doc;
         while (mongoc_cursor_next (cursor, &doc)) {
         }
         if (mongoc_cursor_error (cursor, &error)) {
            __atomic_fetch_add (&failures, 1, __ATOMIC_RELAXED);
         }
         mongoc_cursor_destroy (cursor);
         bson_destroy (opts);
         bson_destroy (filter);
      }
   }
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (pool, client);
   return NULL;
}

int
main (int argc, char **argv)
{
   const char *uri_str = getenv ("MONGOWATCH_TEST_URI");
   if ((argc != 4 && !(argc == 6 && !strcmp (argv[4], "drop_newest"))) || !uri_str) {
      fprintf (stderr, "usage: MONGOWATCH_TEST_URI=... load THREADS OPS FILE [drop_newest CAPACITY]\n");
      return 2;
   }
   int threads = atoi (argv[1]);
   ops_each = atol (argv[2]);
   const char *path = argv[3];
   bson_error_t error;
   if (!mwatch_patch_mongoc (&error)) {
      die ("mwatch_patch_mongoc", &error);
   }
   remove (path);
   mwatch_handler_t *file = bench_file_handler (path);
   mwatch_formatter_t *json = mwatch_formatter_new ("{watch.json}", NULL, &error);
   if (!json) {
      die ("formatter", &error);
   }
   mwatch_handler_set_formatter (file, json);
   mwatch_formatter_destroy (json);
   mwatch_queue_handler_opts_t qopts;
   mwatch_queue_handler_opts_init (&qopts); /* the defaults */
   if (argc == 6) {
      qopts.overflow = MWATCH_OVERFLOW_DROP_NEWEST;
      qopts.capacity = (size_t) atol (argv[5]);
   }
   mwatch_handler_t *queue = mwatch_handler_new_queue (file, &qopts);
   mwatch_handler_set_name (queue, "load");
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);

   mongoc_uri_t *uri;
   pool = bench_pool_new (uri_str, threads, &uri, &error);
   if (!pool) {
      die ("URI", &error);
   }
   pthread_t *ids = bson_malloc (sizeof *ids * (size_t) threads);
   double start = bench_now_sec ();
   for (int i = 0; i < threads; i++) {
      pthread_create (&ids[i], NULL, work, (void *) (intptr_t) i);
   }
   for (int i = 0; i < threads; i++) {
      pthread_join (ids[i], NULL);
   }
   double secs = bench_now_sec () - start;
   mwatch_queue_stats_t st;
   bool named = mwatch_queue_handler_stats_by_name ("load", &st);
   mwatch_shutdown (); /* drains into the file */
   mwatch_queue_handler_stats (queue, &st); /* with what the drain left, if anything */
   long total = ops_each * threads;
   long lines = bench_count_lines (path);
   printf ("| %d | %ld | %.0f | %ld | %" PRIu64 " (final: %" PRIu64 ") | %ld failed |\n", threads,
           total, (double) total / secs, lines, st.dropped, st.dropped_ready, failures);
   mongoc_client_pool_destroy (pool);
   mongoc_uri_destroy (uri);
   mongoc_cleanup ();
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (file);
   bson_free (ids);
   return named && lines == total && st.dropped == 0 && failures == 0 ? 0 : 1;
}
