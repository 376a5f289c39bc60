/* What the benchmarks share: a watcher's record of a find, the file
 * handler of configuration (c), clocks, line counts and a client pool.
 * Header-only, because each benchmark is one program built from one .c
 * file. */
#ifndef MWATCH_BENCH_UTIL_H
#define MWATCH_BENCH_UTIL_H

#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The fields the cursor watcher gives a find when it starts. */
static inline mwatch_message_t *
bench_find_started (const bson_t *filter)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "orders");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_document (msg, "Filter", filter);
   return msg;
}

/* Ends it as the watcher does: EndTime, Duration, MatchedCount, ready. */
static inline void
bench_find_ended (mwatch_message_t *msg, int64_t matched)
{
   mwatch_message_set_datetime (msg, "EndTime", mwatch_realtime_us ());
   mwatch_message_set_double (msg, "Duration", 0.000734);
   mwatch_message_set_int64 (msg, "MatchedCount", matched);
   mwatch_message_set_ready (msg);
}

/* A file handler at INFO writing to `path` with the default format; the
 * program ends with the error when there can be none. */
static inline mwatch_handler_t *
bench_file_handler (const char *path)
{
   bson_error_t error;
   mwatch_handler_t *file = mwatch_handler_new_file (path, &error);
   if (!file) {
      fprintf (stderr, "%s\n", error.message);
      exit (1);
   }
   mwatch_handler_set_level (file, MWATCH_LEVEL_INFO);
   return file;
}

/* Monotonic seconds, for wall-clock spans. */
static inline double
bench_now_sec (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_MONOTONIC, &ts);
   return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The lines of the file at `path` (records written), -1 when it cannot be
 * read. */
static inline long
bench_count_lines (const char *path)
{
   FILE *fp = fopen (path, "r");
   if (!fp) {
      return -1;
   }
   long lines = 0;
   int c;
   while ((c = getc_unlocked (fp)) != EOF) {
      lines += c == '\n';
   }
   fclose (fp);
   return lines;
}

/* libmongoc initialised, and a pool of at most `threads` clients on
 * `uri_str` (*uri, to destroy after the pool); NULL, with `error` set,
 * when the URI does not parse. */
static inline mongoc_client_pool_t *
bench_pool_new (const char *uri_str, int threads, mongoc_uri_t **uri, bson_error_t *error)
{
   mongoc_init ();
   *uri = mongoc_uri_new_with_error (uri_str, error);
   if (!*uri) {
      return NULL;
   }
   mongoc_client_pool_t *pool = mongoc_client_pool_new (*uri);
   mongoc_client_pool_max_size (pool, (uint32_t) threads);
   return pool;
}

#endif
