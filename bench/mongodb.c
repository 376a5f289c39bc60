/* The MongoDB audit handler's cost: N final records of a find (a Filter
 * with an operator, the counts, the times) handed to the handler, and the
 * time until the server has stored them all.
 *
 *   test/server run build/bench/mongodb [N]
 *
 * Prints the wall time, the process's CPU time (the caller's emit and the
 * handler's thread, which builds and sends the batches) per record, and
 * records per second.  Under callgrind (bench/README in
 * doc/PERFORMANCE.md, "MongoDB audit handler") the inclusive instructions
 * of mongodb_emit and sender_main, divided by N, are the two sides'
 * instructions per record. */
#include <mongoc/mongoc.h>
#include <mongowatch.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static double
cpu_seconds (void)
{
   struct rusage ru;
   getrusage (RUSAGE_SELF, &ru);
   return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
          (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

int
main (int argc, char **argv)
{
   long n = argc > 1 ? atol (argv[1]) : 100000;
   const char *uri = getenv ("MONGOWATCH_TEST_URI");
   if (!uri || n < 1) {
      fprintf (stderr, "usage: test/server run %s [N]\n", argv[0]);
      return 2;
   }
   mongoc_init ();
   char db[64];
   snprintf (db, sizeof db, "mwbench_%d", (int) getpid ());
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.uri = uri;
   opts.database = db;
   opts.collection = "records";
   opts.capacity = (size_t) n;
   bson_error_t error;
   mwatch_handler_t *h = mwatch_handler_new_mongodb (&opts, &error);
   if (!h) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }

   /* A final record of a find, as the cursor watcher makes it. */
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("age", "{", "$gt", BCON_INT32 (30), "}", "city", BCON_UTF8 ("Reykjavik"));
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "customers");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_datetime (msg, "EndTime", mwatch_realtime_us ());
   mwatch_message_set_double (msg, "Duration", 0.000812);
   mwatch_message_set_int64 (msg, "MatchedCount", 13);
   mwatch_message_set_utf8 (msg, "User", "alice");
   mwatch_message_set_ready (msg);
   mwatch_record_t record = {.name = "mongowatch.cursor", .level = MWATCH_LEVEL_INFO,
                             .timeout_level = MWATCH_LEVEL_INFO, .process = getpid (), .watch = msg};

   double cpu0 = cpu_seconds ();
   int64_t t0 = mwatch_monotonic_us ();
   for (long i = 0; i < n; i++) {
      record.created = mwatch_realtime_us ();
      mwatch_handler_handle (h, &record);
   }
   mwatch_mongodb_handler_stats_t st;
   do {
      usleep (1000);
      mwatch_mongodb_handler_stats (h, &st);
   } while (st.inserted + st.dropped + st.refused < (uint64_t) n);
   double wall = (double) (mwatch_monotonic_us () - t0) / 1e6;
   double cpu = cpu_seconds () - cpu0;
   printf ("mongodb handler: %ld records stored in %.3f s (%.0f records/s wall); CPU %.2f us per "
           "record (%.0f records/s on one core); dropped %llu, refused %llu\n",
           n, wall, (double) n / wall, cpu / (double) n * 1e6, (double) n / cpu,
           (unsigned long long) st.dropped, (unsigned long long) st.refused);

   mwatch_handler_destroy (h);
   mongoc_client_t *client = mongoc_client_new (uri);
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mongoc_database_drop (database, NULL);
   mongoc_database_destroy (database);
   mongoc_client_destroy (client);
   mwatch_message_destroy (msg);
   bson_destroy (filter);
   mwatch_shutdown ();
   mongoc_cleanup ();
   return st.inserted == (uint64_t) n ? 0 : 1;
}
