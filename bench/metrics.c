/* What the metrics handler costs per record: the handler's emit (what a
 * queue's listener spends on it, or the application's thread without a
 * queue) over a find's final record, cycling over SERIES (DB,
 * Collection, Operation) series; and what one write of the file costs
 * with that many series.
 *
 *   build/bench/metrics [RECORDS] [SERIES] [DIR]   (defaults: 100000, 10, /tmp)
 *
 * For instructions per record (callgrind), as the difference of two run
 * lengths, so that set-up and the write at close cancel:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.%p build/bench/metrics 100000 10
 *   valgrind --tool=callgrind --callgrind-out-file=cg.%p build/bench/metrics 200000 10
 *
 * and for the write, RECORDS equal to SERIES (one record each) with 10
 * and with 1,010 series: the difference over 1,000 is one series' share
 * of a write. */
#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
   long records = argc > 1 ? atol (argv[1]) : 100000;
   long series = argc > 2 ? atol (argv[2]) : 10;
   const char *dir = argc > 3 ? argv[3] : "/tmp";
   char *path = bson_strdup_printf ("%s/mongowatch-bench-%d.prom", dir, (int) getpid ());
   bson_error_t error;
   mwatch_metrics_handler_opts_t opts;
   mwatch_metrics_handler_opts_init (&opts);
   opts.interval_sec = 86400; /* written once, at close */
   opts.max_series = (size_t) series;
   mwatch_handler_t *handler = mwatch_handler_new_metrics (path, &opts, &error);
   if (!handler) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }
   bson_t *filter = BCON_NEW ("_id", BCON_INT32 (42));
   mwatch_message_t **messages = bson_malloc ((size_t) series * sizeof *messages);
   for (long s = 0; s < series; s++) {
      char coll[32];
      bson_snprintf (coll, sizeof coll, "collection_%ld", s);
      messages[s] = bench_find_started (filter);
      mwatch_message_set_utf8 (messages[s], "State", "final"); /* as the watcher sets it */
      mwatch_message_set_utf8 (messages[s], "Collection", coll);
      bench_find_ended (messages[s], 1);
   }
   for (long i = 0; i < records; i++) {
      mwatch_record_t record = {.name = "mongowatch.cursor",
                                .level = MWATCH_LEVEL_INFO,
                                .timeout_level = MWATCH_LEVEL_INFO,
                                .watch = messages[i % series]};
      mwatch_handler_handle (handler, &record);
   }
   mwatch_handler_destroy (handler); /* closes: the one write */
   for (long s = 0; s < series; s++) {
      mwatch_message_destroy (messages[s]);
   }
   bson_free (messages);
   bson_destroy (filter);
   struct stat st;
   printf ("records %ld series %ld file %lld bytes\n", records, series,
           stat (path, &st) == 0 ? (long long) st.st_size : -1LL);
   unlink (path);
   bson_free (path);
   return 0;
}
