/* The logging pipeline's speed: what a record costs the application's
 * thread, and how many records per second the listener turns into lines
 * in a file with the default format.
 *
 *   build/bench/pipeline [MESSAGES] [OUTPUT] [CORES] [ONLY] [SHAPE]
 *                         (defaults: 1000000, /dev/null, 1, 0, find)
 *
 * With ONLY 1 it runs the put-to-line part alone and prints nothing: for
 * instruction counts (callgrind) per record on each thread, as the
 * difference of two run lengths.
 *
 * With CORES 1 the process is pinned to one CPU, so producer and listener
 * share one core: the throughput is that of one core.  With CORES 0 it
 * runs where the scheduler puts it.  SHAPE "find": the message is a
 * typical final record of a find (10 fields, a small Filter document);
 * "wide": a record of 20 fields with a mid-size Filter (10 keys, nested,
 * 257 bytes of BSON), as an application that adds its own context
 * fields logs. */
#include "bench-util.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The query of every record, built once: making BSON is the
 * application's work, not the watcher's or the pipeline's. */
static bson_t *filter;
static bool wide;

static mwatch_message_t *
typical_message (void)
{
   mwatch_message_t *msg = bench_find_started (filter);
   if (wide) {
      /* Context fields, as an application adds them: not in the default
       * format's list, but read past by {watch}. */
      static const char *const context[][2] = {
         {"App", "checkout"},       {"Host", "web-14.eu-west"}, {"User", "u-20931"},
         {"Request", "9f3c1e77a2"}, {"Route", "/api/orders"},  {"Region", "eu-west-1"},
         {"Build", "2026.12.1"},    {"Comment", "orders by user"}, {"Tenant", "acme"},
      };
      for (size_t i = 0; i < sizeof context / sizeof context[0]; i++) {
         mwatch_message_set_utf8 (msg, context[i][0], context[i][1]);
      }
      mwatch_message_set_int64 (msg, "Attempt", 1);
   }
   bench_find_ended (msg, 25);
   return msg;
}

int
main (int argc, char **argv)
{
   long count = argc > 1 ? atol (argv[1]) : 1000000;
   const char *path = argc > 2 ? argv[2] : "/dev/null";
   bool pinned = argc > 3 ? atoi (argv[3]) == 1 : true;
   bool only_pipeline = argc > 4 && atoi (argv[4]) == 1;
   wide = argc > 5 && strcmp (argv[5], "wide") == 0;
   if (argc > 5 && !wide && strcmp (argv[5], "find") != 0) {
      fprintf (stderr, "SHAPE is find or wide, not \"%s\"\n", argv[5]);
      return 2;
   }

   cpu_set_t one;
   CPU_ZERO (&one);
   CPU_SET (0, &one);
   if (pinned && sched_setaffinity (0, sizeof one, &one) != 0) {
      perror ("sched_setaffinity");
   }

   if (wide) {
      bson_oid_t oid;
      bson_oid_init_from_string (&oid, "65a1f0c2e4b0a1b2c3d4e5f6");
      filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "country", BCON_UTF8 ("NL"), "}",
                         "age", "{", "$gt", BCON_INT32 (30), "$lt", BCON_INT32 (65), "}",
                         "status", "{", "$in", "[", BCON_UTF8 ("paid"), BCON_UTF8 ("shipped"), "]", "}",
                         "total", "{", "$gte", BCON_DOUBLE (99.5), "}",
                         "created", "{", "$gte", BCON_DATE_TIME (1764950400000), "}",
                         "store", BCON_OID (&oid), "gift", BCON_BOOL (false),
                         "items.sku", BCON_UTF8 ("SKU-118-BLUE"), "coupon", BCON_NULL,
                         "channel", BCON_UTF8 ("web"));
   } else {
      filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}", "age", "{", "$gt",
                         BCON_INT32 (30), "}");
   }
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch.cursor");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_message_t *msg = typical_message ();

   /* The pipeline mwatch_add_logging_handlers builds, made by hand to read
    * the queue's counters: file handler, default format, behind a queue. */
   bson_error_t error;
   mwatch_handler_t *file = bench_file_handler (path);
  mwatch_queue_handler_opts_t qopts;
   mwatch_queue_handler_opts_init (&qopts);
   qopts.capacity = (size_t) count + 1; /* measure, never drop */
   mwatch_handler_t *queue = mwatch_handler_new_queue (file, &qopts);
   mwatch_logger_add_handler (logger, queue);

   /* Warm-up: buffers, queue slots, caches. */
   for (int i = 0; i < 10000 && i < count; i++) {
      mwatch_message_t *op = typical_message ();
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, op);
      mwatch_message_destroy (op);
   }
   mwatch_queue_stats_t stats;
   do {
      mwatch_queue_handler_stats (queue, &stats);
   } while (stats.size > 0); /* until the listener caught up */

   int64_t start = mwatch_monotonic_us ();
   for (long i = 0; i < count; i++) {
      /* A fresh message, so a fresh WatchID, per record, as distinct
       * operations have (copies of one message would replace each other
       * in the queue). */
      mwatch_message_t *op = typical_message ();
      mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, op);
      mwatch_message_destroy (op);
   }
   int64_t produced = mwatch_monotonic_us ();
   mwatch_queue_handler_stats (queue, &stats);
   uint64_t dropped = stats.dropped;
   mwatch_shutdown (); /* drains: every line is written when it returns */
   int64_t written = mwatch_monotonic_us ();
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (file);
   if (only_pipeline) {
      mwatch_message_destroy (msg);
      bson_destroy (filter);
      return dropped ? 1 : 0;
   }

   /* The app thread's cost when the listener keeps up (the usual case): log
    * in bursts of 100, let the queue drain between bursts, time only the
    * log calls. */
   if (!mwatch_add_logging_handlers (NULL, (mwatch_handler_t *[]){mwatch_handler_new_null (), NULL}, &error)) {
      return 1;
   }
   int64_t in_log = 0;
   long bursts = count / 100;
   mwatch_message_t *burst[100];
   for (long b = 0; b < bursts; b++) {
      for (int i = 0; i < 100; i++) {
         burst[i] = typical_message ();
      }
      int64_t t0 = mwatch_monotonic_us ();
      for (int i = 0; i < 100; i++) {
         mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, burst[i]);
      }
      in_log += mwatch_monotonic_us () - t0;
      for (int i = 0; i < 100; i++) {
         mwatch_message_destroy (burst[i]);
      }
   }
   mwatch_shutdown ();

   /* Building the message is the watcher's cost, not the pipeline's: time
    * it alone and take it out of the per-record figure. */
   int64_t build_start = mwatch_monotonic_us ();
   for (long i = 0; i < count; i++) {
      mwatch_message_destroy (typical_message ());
   }
   int64_t build_us = mwatch_monotonic_us () - build_start;

   double total_s = (double) (written - start) / 1e6;
   printf ("messages:               %ld (dropped: %llu)\n", count, (unsigned long long) dropped);
   printf ("%s, put to line: %.0f messages/s (building each message counted too)\n",
           pinned ? "one core" : "all cores", (double) count / total_s);
   /* On one core everything is serial, so the building time, measured
    * alone below, can be taken out: what is left is the pipeline, from the
    * log call to the written line. */
   if (pinned) {
      printf ("one core, put to line: %.0f messages/s (building taken out)\n",
              (double) count / (total_s - (double) build_us / 1e6));
   }
   printf ("app thread, queue filling: %.0f ns per log call\n",
           ((double) (produced - start - build_us) * 1e3) / (double) count);
   printf ("app thread, listener keeping up: %.0f ns per log call\n",
           ((double) in_log * 1e3) / (double) (bursts * 100));
   printf ("building one message:   %.0f ns (the watcher's part, not counted above)\n",
           ((double) build_us * 1e3) / (double) count);
   mwatch_message_destroy (msg);
   bson_destroy (filter);
   return 0;
}
