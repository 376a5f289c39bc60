/* The OpenTelemetry handler's cost per record, for callgrind: N final
 * records of a find (a Filter of two fields) handed to an otlp handler,
 * which encodes each (emit) and sends them in batches of 512 to the
 * endpoint (a real Collector: test/collector), then closes.
 *
 *   test/collector run sh -c 'valgrind --tool=callgrind \
 *       build/bench/otlp-cost N "$MONGOWATCH_COLLECTOR_ENDPOINT" [spans|metrics|null]'
 *
 * Run it with the otlp handler and with "null" (the null handler, the same
 * records built): the difference over N is the instructions one record
 * costs the process, all threads (emit, the sender's request bodies,
 * libcurl's HTTP) together.  Prints what was sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongowatch.h"

int
main (int argc, char **argv)
{
   if (argc < 3) {
      fprintf (stderr, "usage: otlp-cost N ENDPOINT [spans]\n");
      return 2;
   }
   long n = atol (argv[1]);
   bson_error_t error;
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   opts.endpoint = argv[2];
   opts.spans = argc > 3 && strcmp (argv[3], "spans") == 0;
   /* Metrics at the default interval: counted per record, sent at close. */
   opts.metrics = argc > 3 && strcmp (argv[3], "metrics") == 0;
   opts.max_queue_size = (size_t) (n > 0 ? n : 1);
   opts.shutdown_timeout_sec = 60;
   opts.export_timeout_sec = 60;
   bool null = argc > 3 && strcmp (argv[3], "null") == 0;
   mwatch_handler_t *handler = null ? mwatch_handler_new_null () : mwatch_handler_new_otlp (&opts, &error);
   if (!handler) {
      fprintf (stderr, "%s\n", error.message);
      return 1;
   }
   bson_t *filter = BCON_NEW ("status", "A", "qty", "{", "$gt", BCON_INT32 (5), "}");
   for (long i = 0; i < n; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      mwatch_message_set_utf8 (msg, "State", "final");
      mwatch_message_set_utf8 (msg, "DB", "shop");
      mwatch_message_set_utf8 (msg, "Collection", "orders");
      mwatch_message_set_utf8 (msg, "Operation", "find");
      mwatch_message_set_document (msg, "Filter", filter);
      mwatch_message_set_datetime (msg, "EndTime", mwatch_realtime_us ());
      mwatch_message_set_double (msg, "Duration", 0.0012);
      mwatch_message_set_int64 (msg, "MatchedCount", 12);
      mwatch_message_set_ready (msg);
      mwatch_record_t record = {
         .name = "mongowatch.cursor",
         .level = MWATCH_LEVEL_INFO,
         .timeout_level = MWATCH_LEVEL_INFO,
         .created = mwatch_realtime_us (),
         .thread = 1,
         .process = 1,
         .watch = msg,
      };
      mwatch_handler_handle (handler, &record);
      mwatch_message_destroy (msg);
   }
   mwatch_handler_close (handler);
   mwatch_otlp_stats_t st;
   mwatch_otlp_handler_stats (handler, &st);
   printf ("otlp-cost: %ld records: %llu sent, %llu spans, %llu dropped\n", n,
           (unsigned long long) st.sent, (unsigned long long) st.spans_sent,
           (unsigned long long) st.dropped);
   mwatch_handler_destroy (handler);
   bson_destroy (filter);
   return st.dropped == 0 ? 0 : 1;
}
