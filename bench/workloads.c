/*
 * workloads CONFIG WORKLOAD THREADS SECONDS|OPSops
 *
 * One configuration of the issue-7 benchmark: the same application code,
 * run against the server at MONGOWATCH_BENCH_URI (or MONGOWATCH_TEST_URI)
 * on a mongoc_client_pool_t with THREADS threads, either for SECONDS of
 * wall clock or for a fixed number of operations ("2000ops": for callgrind,
 * where only a fixed amount of work gives comparable instruction counts).
 *
 * The file is compiled twice (see the Makefile):
 *   workloads-bare        libmongoc alone.  CONFIG: bare, apm
 *   workloads-mongowatch  -lmongowatch before libmongoc, as users link it.
 *                         CONFIG: unpatched, watched
 * so that "bare" carries not one byte of mongowatch, and the two mongowatch
 * configurations differ only by the call to mwatch_patch_mongoc.
 *
 * Workloads (one "op" each):
 *   find100         find {} on 100 documents, batchSize 10, iterated fully
 *                   (1 find + 9 getMore round trips)
 *   find_id         find {_id: k} limit 1 on 1000 documents
 *   insert_one      one small document
 *   insert_many100  100 small documents in one call
 *   update_one      {$inc: {n: 1}} on {_id: k} of 1000 documents
 *   delete_one      insert_one, then delete_one of that document, so that
 *                   the collection keeps its size: two calls per op
 *   mixed           a cycle of 10: find_id x5, update_one x2, find100,
 *                   insert_one, delete_one (of what it inserted)
 *
 * Output, one line on stdout:
 *   config workload threads ops seconds ops_per_sec cpu_us_per_op
 * cpu_us_per_op is the process's CPU time (user + system, every thread:
 * the workers, libmongoc's monitor, mongowatch's listener) from the start
 * of the clock until, watched, every record of the run is written, per
 * operation: the client's whole cost, which the server on the same cores
 * does not blur the way it blurs ops/s.
 * Seeding and 10 warm-up operations per thread happen before the clock
 * starts and are not counted.
 */
#include <mongoc/mongoc.h>

#include <pthread.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MWATCH_BENCH_LINKED
#include <mongowatch.h>
#endif

#define BENCH_DB "mwatch_bench"
#define KEYED_DOCS 1000
#define FIND100_DOCS 100
#define MAX_THREADS 64
/* A full cycle of the mixed workload. */
#define WARMUP_OPS 10

typedef enum {
   W_FIND100,
   W_FIND_ID,
   W_INSERT_ONE,
   W_INSERT_MANY100,
   W_UPDATE_ONE,
   W_DELETE_ONE,
   W_MIXED,
} workload_t;

static const char *const workload_names[] = {
   "find100", "find_id", "insert_one", "insert_many100", "update_one", "delete_one", "mixed", NULL};

typedef struct {
   mongoc_client_pool_t *pool;
   workload_t workload;
   int index;
   /* Seconds mode: run for `duration_us`, until the monotonic clock
    * passes `deadline`.  Ops mode (duration 0): run exactly `quota`
    * operations. */
   int64_t duration_us;
   int64_t deadline;
   int64_t quota;
   int64_t ops;
   int64_t docs; /* documents iterated, to check the finds return them all */
   bool failed;
   pthread_barrier_t *start;
   /* A per-thread generator: rand() would serialise the threads on its
    * lock and make bare slower than it needs to be. */
   uint64_t rng;
   int64_t next_id; /* this thread's own _id range for inserts and deletes */
} worker_t;

static void
die (const char *what, const bson_error_t *error)
{
   fprintf (stderr, "workloads: %s: %s\n", what, error ? error->message : "failed");
   exit (1);
}

static uint64_t
next_rand (worker_t *w)
{
   /* xorshift64: a few instructions, no shared state. */
   w->rng ^= w->rng << 13;
   w->rng ^= w->rng >> 7;
   w->rng ^= w->rng << 17;
   return w->rng;
}

/* ------------------------------------------------------------------ APM */

/* The callbacks do nothing: what we measure is what libmongoc itself
 * spends to build and deliver the events. */
static void
apm_started (const mongoc_apm_command_started_t *event)
{
   (void) event;
}

static void
apm_succeeded (const mongoc_apm_command_succeeded_t *event)
{
   (void) event;
}

static void
apm_failed (const mongoc_apm_command_failed_t *event)
{
   (void) event;
}

/* --------------------------------------------------------------- seeding */

static void
seed_collection (mongoc_client_t *client, const char *name, int count)
{
   bson_error_t error;
   mongoc_collection_t *coll = mongoc_client_get_collection (client, BENCH_DB, name);
   bson_t filter = BSON_INITIALIZER;

   /* Reads only need the data to be there; re-seeding for every one of
    * the many short runs would cost the suite more than the runs. */
   int64_t n = mongoc_collection_count_documents (coll, &filter, NULL, NULL, NULL, &error);
   if (n != count) {
      if (!mongoc_collection_drop (coll, &error) && error.code != 26 /* NamespaceNotFound */) {
         /* FerretDB and mongod differ on dropping a missing collection;
          * a real failure shows up in the insert below. */
      }
      bson_t **docs = bson_malloc (sizeof (bson_t *) * (size_t) count);
      for (int i = 0; i < count; i++) {
         docs[i] = BCON_NEW ("_id", BCON_INT64 (i), "n", BCON_INT64 (0), "name", BCON_UTF8 ("seed"));
      }
      if (!mongoc_collection_insert_many (coll, (const bson_t **) docs, (size_t) count, NULL, NULL,
                                          &error)) {
         die ("seeding", &error);
      }
      for (int i = 0; i < count; i++) {
         bson_destroy (docs[i]);
      }
      bson_free (docs);
   }
   bson_destroy (&filter);
   mongoc_collection_destroy (coll);
}

static void
drop_collection (mongoc_client_t *client, const char *name)
{
   bson_error_t error;
   mongoc_collection_t *coll = mongoc_client_get_collection (client, BENCH_DB, name);
   /* Writes start from an empty collection in every run, so that no run
    * is slowed by the documents of those before it. */
   (void) mongoc_collection_drop (coll, &error);
   mongoc_collection_destroy (coll);
}

static void
seed (mongoc_client_pool_t *pool, workload_t workload)
{
   mongoc_client_t *client = mongoc_client_pool_pop (pool);

   if (workload == W_FIND100 || workload == W_MIXED) {
      seed_collection (client, "find100", FIND100_DOCS);
   }
   if (workload == W_FIND_ID || workload == W_UPDATE_ONE || workload == W_MIXED) {
      seed_collection (client, "keyed", KEYED_DOCS);
   }
   if (workload == W_INSERT_ONE || workload == W_INSERT_MANY100 || workload == W_DELETE_ONE ||
       workload == W_MIXED) {
      drop_collection (client, "writes");
   }
   mongoc_client_pool_push (pool, client);
}

/* ------------------------------------------------------------ operations */

typedef struct {
   mongoc_collection_t *find100;
   mongoc_collection_t *keyed;
   mongoc_collection_t *writes;
   bson_t *find100_opts;
   bson_t *find_id_opts;
} handles_t;

static bool
op_find100 (worker_t *w, handles_t *h)
{
   bson_t filter = BSON_INITIALIZER;
   const bson_t *doc;
   int64_t n = 0;
   bson_error_t error;
   mongoc_cursor_t *cursor =
      mongoc_collection_find_with_opts (h->find100, &filter, h->find100_opts, NULL);

   while (mongoc_cursor_next (cursor, &doc)) {
      n++;
   }
   bool ok = !mongoc_cursor_error (cursor, &error) && n == FIND100_DOCS;
   if (!ok) {
      fprintf (stderr, "workloads: find100 got %" PRId64 " documents: %s\n", n, error.message);
   }
   w->docs += n;
   mongoc_cursor_destroy (cursor);
   bson_destroy (&filter);
   return ok;
}

static bool
op_find_id (worker_t *w, handles_t *h)
{
   bson_t filter = BSON_INITIALIZER;
   const bson_t *doc;
   int64_t n = 0;
   bson_error_t error;

   BSON_APPEND_INT64 (&filter, "_id", (int64_t) (next_rand (w) % KEYED_DOCS));
   mongoc_cursor_t *cursor =
      mongoc_collection_find_with_opts (h->keyed, &filter, h->find_id_opts, NULL);
   while (mongoc_cursor_next (cursor, &doc)) {
      n++;
   }
   bool ok = !mongoc_cursor_error (cursor, &error) && n == 1;
   if (!ok) {
      fprintf (stderr, "workloads: find_id got %" PRId64 " documents: %s\n", n, error.message);
   }
   w->docs += n;
   mongoc_cursor_destroy (cursor);
   bson_destroy (&filter);
   return ok;
}

static bool
op_insert_one (worker_t *w, handles_t *h, int64_t id)
{
   bson_error_t error;
   bson_t *doc = BCON_NEW ("_id", BCON_INT64 (id), "n", BCON_INT64 (0), "name", BCON_UTF8 ("w"));
   bool ok = mongoc_collection_insert_one (h->writes, doc, NULL, NULL, &error);
   if (!ok) {
      fprintf (stderr, "workloads: insert_one: %s\n", error.message);
   }
   bson_destroy (doc);
   (void) w;
   return ok;
}

static bool
op_insert_many100 (worker_t *w, handles_t *h)
{
   bson_error_t error;
   bson_t docs[100];
   const bson_t *ptrs[100];

   for (int i = 0; i < 100; i++) {
      bson_init (&docs[i]);
      BSON_APPEND_INT64 (&docs[i], "_id", w->next_id++);
      BSON_APPEND_INT64 (&docs[i], "n", 0);
      BSON_APPEND_UTF8 (&docs[i], "name", "w");
      ptrs[i] = &docs[i];
   }
   bool ok = mongoc_collection_insert_many (h->writes, ptrs, 100, NULL, NULL, &error);
   if (!ok) {
      fprintf (stderr, "workloads: insert_many: %s\n", error.message);
   }
   for (int i = 0; i < 100; i++) {
      bson_destroy (&docs[i]);
   }
   return ok;
}

static bool
op_update_one (worker_t *w, handles_t *h)
{
   bson_error_t error;
   bson_t *filter = BCON_NEW ("_id", BCON_INT64 ((int64_t) (next_rand (w) % KEYED_DOCS)));
   bson_t *update = BCON_NEW ("$inc", "{", "n", BCON_INT32 (1), "}");
   bool ok = mongoc_collection_update_one (h->keyed, filter, update, NULL, NULL, &error);
   if (!ok) {
      fprintf (stderr, "workloads: update_one: %s\n", error.message);
   }
   bson_destroy (update);
   bson_destroy (filter);
   return ok;
}

static bool
op_delete_one (worker_t *w, handles_t *h, int64_t id)
{
   bson_error_t error;
   bson_t *filter = BCON_NEW ("_id", BCON_INT64 (id));
   bool ok = mongoc_collection_delete_one (h->writes, filter, NULL, NULL, &error);
   if (!ok) {
      fprintf (stderr, "workloads: delete_one: %s\n", error.message);
   }
   bson_destroy (filter);
   (void) w;
   return ok;
}

static bool
run_op (worker_t *w, handles_t *h)
{
   switch (w->workload) {
   case W_FIND100:
      return op_find100 (w, h);
   case W_FIND_ID:
      return op_find_id (w, h);
   case W_INSERT_ONE:
      return op_insert_one (w, h, w->next_id++);
   case W_INSERT_MANY100:
      return op_insert_many100 (w, h);
   case W_UPDATE_ONE:
      return op_update_one (w, h);
   case W_DELETE_ONE: {
      int64_t id = w->next_id++;
      return op_insert_one (w, h, id) && op_delete_one (w, h, id);
   }
   case W_MIXED:
   default:
      switch (w->ops % 10) {
      case 0:
         return op_find100 (w, h);
      case 1:
      case 4:
         return op_update_one (w, h);
      case 2:
         return op_insert_one (w, h, w->next_id);
      case 3:
         /* Deletes what case 2 inserted, so the collection stays small. */
         return op_delete_one (w, h, w->next_id++);
      default:
         return op_find_id (w, h);
      }
   }
}

/* The measured loop, on its own and never inlined: run-workloads gives
 * its name to callgrind's --toggle-collect, so that instructions are
 * counted from here down only, not in seeding, connecting or teardown. */
__attribute__ ((noinline)) static void
timed_loop (worker_t *w, handles_t *h)
{
   if (w->deadline) {
      while (bson_get_monotonic_time () < w->deadline) {
         if (!run_op (w, h)) {
            w->failed = true;
            return;
         }
         w->ops++;
      }
   } else {
      while (w->ops < w->quota) {
         if (!run_op (w, h)) {
            w->failed = true;
            return;
         }
         w->ops++;
      }
   }
}

static void *
worker_main (void *arg)
{
   worker_t *w = arg;
   mongoc_client_t *client = mongoc_client_pool_pop (w->pool);
   handles_t h;

   h.find100 = mongoc_client_get_collection (client, BENCH_DB, "find100");
   h.keyed = mongoc_client_get_collection (client, BENCH_DB, "keyed");
   h.writes = mongoc_client_get_collection (client, BENCH_DB, "writes");
   h.find100_opts = BCON_NEW ("batchSize", BCON_INT32 (10));
   h.find_id_opts = BCON_NEW ("limit", BCON_INT64 (1));

   /* One round trip before the clock starts, so that each thread's
    * connection (handshake, authentication) is not part of the run. */
   bson_error_t error;
   bson_t *ping = BCON_NEW ("ping", BCON_INT32 (1));
   if (!mongoc_client_command_simple (client, "admin", ping, NULL, NULL, &error)) {
      die ("ping", &error);
   }
   bson_destroy (ping);

   /* A few operations of the workload itself, also before the clock: the
    * first call of each function pays for lazy binding and, linked with
    * mongowatch, for the dlsym of the real function, one-time costs that
    * would otherwise land in the counts of a short callgrind run. */
   for (int i = 0; i < WARMUP_OPS; i++) {
      if (!run_op (w, &h)) {
         die ("warm-up", NULL);
      }
      w->ops++;
   }
   w->ops = 0;
   w->docs = 0;

   /* The clock starts when the last thread is ready (warm-up under 8
    * threads can take longer than a whole run), so each thread takes its
    * deadline after the barrier rather than from main before it. */
   pthread_barrier_wait (w->start);
   if (w->duration_us) {
      w->deadline = bson_get_monotonic_time () + w->duration_us;
   }
   timed_loop (w, &h);

   bson_destroy (h.find_id_opts);
   bson_destroy (h.find100_opts);
   mongoc_collection_destroy (h.writes);
   mongoc_collection_destroy (h.keyed);
   mongoc_collection_destroy (h.find100);
   mongoc_client_pool_push (w->pool, client);
   return NULL;
}

/* ------------------------------------------------------------------ main */

static void
usage (void)
{
   fprintf (stderr,
            "usage: workloads CONFIG WORKLOAD THREADS SECONDS|Nops\n"
#ifdef MWATCH_BENCH_LINKED
            "  CONFIG: unpatched | watched\n"
#else
            "  CONFIG: bare | apm\n"
#endif
            "  WORKLOAD: find100 find_id insert_one insert_many100 update_one delete_one mixed\n"
            "  SECONDS: run for that long (e.g. 2); Nops: run N operations (e.g. 2000ops)\n"
            "  server: MONGOWATCH_BENCH_URI, else MONGOWATCH_TEST_URI\n");
   exit (2);
}

/* CPU time of the whole process so far, in microseconds. */
static int64_t
process_cpu_us (void)
{
   struct rusage ru;
   getrusage (RUSAGE_SELF, &ru);
   return (int64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
          ru.ru_stime.tv_usec;
}

#ifdef MWATCH_BENCH_LINKED
/* The configuration issue 7 calls (c): patched, a queue handler in front of
 * a file handler with the default format, as mwatch_add_logging_handlers
 * sets up for a user who asks for a queue. */
static void
setup_watched (void)
{
   bson_error_t error;
   const char *path = getenv ("MWATCH_BENCH_LOG");
   if (!path || !*path) {
      path = "/dev/null";
   }
   if (!mwatch_patch_mongoc (&error)) {
      die ("mwatch_patch_mongoc", &error);
   }
   mwatch_handler_t *file = mwatch_handler_new_file (path, &error);
   if (!file) {
      die ("file handler", &error);
   }
   mwatch_logging_opts_t opts;
   mwatch_logging_opts_init (&opts);
   opts.with_queue = true;
   mwatch_handler_t *handlers[] = {file, NULL};
   if (!mwatch_add_logging_handlers (&opts, handlers, &error)) {
      die ("mwatch_add_logging_handlers", &error);
   }
   mwatch_handler_destroy (file);
}
#endif

int
main (int argc, char **argv)
{
   if (argc != 5) {
      usage ();
   }
   const char *config = argv[1];
   bool apm = false;
#ifdef MWATCH_BENCH_LINKED
   bool watched = false;
   if (strcmp (config, "watched") == 0) {
      watched = true;
   } else if (strcmp (config, "unpatched") != 0) {
      usage ();
   }
#else
   if (strcmp (config, "apm") == 0) {
      apm = true;
   } else if (strcmp (config, "bare") != 0) {
      usage ();
   }
#endif
   int workload = -1;
   for (int i = 0; workload_names[i]; i++) {
      if (strcmp (argv[2], workload_names[i]) == 0) {
         workload = i;
      }
   }
   int threads = atoi (argv[3]);
   if (workload < 0 || threads < 1 || threads > MAX_THREADS) {
      usage ();
   }
   char *end;
   double amount = strtod (argv[4], &end);
   bool ops_mode = strcmp (end, "ops") == 0;
   if (amount <= 0 || (*end && !ops_mode)) {
      usage ();
   }

   const char *uri_str = getenv ("MONGOWATCH_BENCH_URI");
   if (!uri_str || !*uri_str) {
      uri_str = getenv ("MONGOWATCH_TEST_URI");
   }
   if (!uri_str || !*uri_str) {
      fprintf (stderr, "workloads: set MONGOWATCH_BENCH_URI or MONGOWATCH_TEST_URI\n");
      return 2;
   }

   mongoc_init ();
#ifdef MWATCH_BENCH_LINKED
   if (watched) {
      setup_watched ();
   }
#endif
   bson_error_t error;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (uri_str, &error);
   if (!uri) {
      die ("URI", &error);
   }
   mongoc_client_pool_t *pool = mongoc_client_pool_new (uri);
   mongoc_client_pool_max_size (pool, (uint32_t) threads + 1);
   mongoc_apm_callbacks_t *callbacks = NULL;
   if (apm) {
      callbacks = mongoc_apm_callbacks_new ();
      mongoc_apm_set_command_started_cb (callbacks, apm_started);
      mongoc_apm_set_command_succeeded_cb (callbacks, apm_succeeded);
      mongoc_apm_set_command_failed_cb (callbacks, apm_failed);
      /* Before the first pop: libmongoc allows this only then. */
      if (!mongoc_client_pool_set_apm_callbacks (pool, callbacks, NULL)) {
         die ("mongoc_client_pool_set_apm_callbacks", NULL);
      }
   }

   seed (pool, (workload_t) workload);

   pthread_barrier_t start;
   pthread_barrier_init (&start, NULL, (unsigned) threads + 1);
   worker_t workers[MAX_THREADS];
   pthread_t tids[MAX_THREADS];
   int64_t total_ops = (int64_t) amount;
   int64_t duration_us = (int64_t) (amount * 1e6);

   for (int i = 0; i < threads; i++) {
      worker_t *w = &workers[i];
      memset (w, 0, sizeof *w);
      w->pool = pool;
      w->workload = (workload_t) workload;
      w->index = i;
      w->start = &start;
      w->rng = 0x9e3779b97f4a7c15ull * (uint64_t) (i + 1);
      /* Disjoint _id ranges: threads never collide on an insert. */
      w->next_id = (int64_t) i << 40;
      w->duration_us = ops_mode ? 0 : duration_us;
      w->quota = ops_mode ? total_ops / threads + (i < total_ops % threads ? 1 : 0) : 0;
      if (pthread_create (&tids[i], NULL, worker_main, w) != 0) {
         die ("pthread_create", NULL);
      }
   }

   /* Every thread has connected and warmed up; the clock starts for all
    * at once. */
   pthread_barrier_wait (&start);
   int64_t t0 = bson_get_monotonic_time ();
   int64_t cpu0 = process_cpu_us ();
   for (int i = 0; i < threads; i++) {
      pthread_join (tids[i], NULL);
   }
   int64_t t1 = bson_get_monotonic_time ();
#ifdef MWATCH_BENCH_LINKED
   /* Writes every record produced before the clock stopped (the run is
    * only valid if the audit log is complete: run-workloads checks it),
    * and counts the listener's work for them in the CPU time. */
   if (watched) {
      mwatch_shutdown ();
   }
#endif
   int64_t cpu1 = process_cpu_us ();

   int64_t ops = 0;
   bool failed = false;
   for (int i = 0; i < threads; i++) {
      ops += workers[i].ops;
      failed = failed || workers[i].failed;
   }
   double seconds = (double) (t1 - t0) / 1e6;
   printf ("%s %s %d %" PRId64 " %.6f %.1f %.2f\n", config, workload_names[workload], threads, ops,
           seconds, seconds > 0 ? (double) ops / seconds : 0.0,
           ops > 0 ? (double) (cpu1 - cpu0) / (double) ops : 0.0);
   fflush (stdout);

   pthread_barrier_destroy (&start);
   mongoc_client_pool_destroy (pool);
   if (callbacks) {
      mongoc_apm_callbacks_destroy (callbacks);
   }
   mongoc_uri_destroy (uri);
   mongoc_cleanup ();
   return failed ? 1 : 0;
}
