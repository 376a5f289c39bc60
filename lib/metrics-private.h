/* Internal: per-(DB, Collection, Operation) counters and duration
 * histograms (metrics.c), and their Prometheus text exposition.
 *
 * The table is plain data with no lock of its own: its owner (the metrics
 * handler, handler-metrics.c) serializes every call.  It is the one place
 * the numbers live, so that an exporter other than the Prometheus file
 * (OTLP metrics, say) reads the same series: walk `series[0 .. count)` in
 * order under the owner's lock (or on a copy made under it); every field of
 * mwatch_metrics_series_t is cumulative since the table was made or
 * reset, as both Prometheus and OTLP's cumulative temporality want. */
#ifndef MWATCH_METRICS_PRIVATE_H
#define MWATCH_METRICS_PRIVATE_H

#include "buf-private.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The finite upper bounds of the duration histogram, in seconds (the last
 * bucket, +Inf, is implicit): from half a millisecond, a quick operation
 * on a local server, to ten seconds, a slow one, in 1, 2.5, 5 steps. */
#define MWATCH_METRICS_BOUNDS 14
extern const double _mwatch_metrics_bounds[MWATCH_METRICS_BOUNDS];

/* The count fields of a record that become document counters, in the
 * order of _mwatch_metrics_count_names ("matched", "inserted", ...). */
typedef enum {
   MWATCH_METRICS_MATCHED,
   MWATCH_METRICS_INSERTED,
   MWATCH_METRICS_MODIFIED,
   MWATCH_METRICS_UPSERTED,
   MWATCH_METRICS_DELETED,
   MWATCH_METRICS_COUNTS
} mwatch_metrics_count_t;

/* "matched", "inserted", "modified", "upserted", "deleted". */
extern const char *const _mwatch_metrics_count_names[MWATCH_METRICS_COUNTS];

/* One final record, as the table counts it.  Strings need not end with a
 * NUL and may hold any bytes. */
typedef struct {
   const char *db, *collection, *operation;
   size_t db_len, collection_len, operation_len;
   bool has_duration;
   double duration_sec;
   bool error;
   /* Which count fields the record has, and their values. */
   bool has_count[MWATCH_METRICS_COUNTS];
   int64_t count[MWATCH_METRICS_COUNTS];
} mwatch_metrics_sample_t;

/* One (DB, Collection, Operation). */
typedef struct {
   char *db, *collection, *operation; /* NUL-terminated copies */
   size_t db_len, collection_len, operation_len;
   /* The three as Prometheus labels, escaped: db="...",collection="...",
    * operation="..." (made once, written at every exposition). */
   char *labels;
   uint64_t operations;
   uint64_t errors;
   /* Observations per bucket, not cumulative: buckets[i] counts the
    * durations in (bounds[i-1], bounds[i]], the last those above the last
    * bound.  Their total is the histogram's count. */
   uint64_t buckets[MWATCH_METRICS_BOUNDS + 1];
   double duration_sum;
   /* Documents per count field, summed over the records that had it;
    * has_count: at least one record had it (only those are exposed). */
   uint64_t count[MWATCH_METRICS_COUNTS];
   bool has_count[MWATCH_METRICS_COUNTS];
} mwatch_metrics_series_t;

typedef struct {
   mwatch_metrics_series_t **series; /* in the order they appeared */
   size_t count;
   size_t max_series; /* the bound: a record of a new series beyond it is dropped */
   uint64_t dropped;  /* records dropped so */
   /* Open addressing over `series`: index + 1, 0 for an empty slot. */
   uint32_t *slots;
   size_t slots_len; /* a power of two, at least twice `count` */
} mwatch_metrics_t;

void
_mwatch_metrics_init (mwatch_metrics_t *metrics, size_t max_series);

void
_mwatch_metrics_destroy (mwatch_metrics_t *metrics);

/* Empties the table (every series and the dropped count), keeping its
 * bound. */
void
_mwatch_metrics_reset (mwatch_metrics_t *metrics);

/* Counts `sample` in its series, made at its first record.  False, counting
 * it in `dropped`, when that series would be one more than max_series. */
bool
_mwatch_metrics_add (mwatch_metrics_t *metrics, const mwatch_metrics_sample_t *sample);

/* The index in a series' `buckets` of a duration. */
size_t
_mwatch_metrics_bucket (double seconds);

/* A Prometheus label value, without its quotes: '\' as \\, '"' as \", a
 * line feed as \n, NUL and ill-formed UTF-8 as U+FFFD (the format wants
 * UTF-8). */
void
_mwatch_metrics_label_value (mwatch_buf_t *out, const char *str, size_t len);

/* The whole table in the Prometheus text exposition format (version
 * 0.0.4), each family with its HELP and TYPE lines:
 * mongowatch_operations_total, mongowatch_operation_errors_total,
 * mongowatch_operation_duration_seconds (a histogram: cumulative `le`
 * buckets, _sum, _count), mongowatch_documents_total (label `kind`) and
 * mongowatch_metrics_records_dropped_total.  `extra_labels` (NULL: none)
 * is written first in every series' labels, e.g. pid="42". */
void
_mwatch_metrics_render_prometheus (const mwatch_metrics_t *metrics,
                                   const char *extra_labels,
                                   mwatch_buf_t *out);

#endif /* MWATCH_METRICS_PRIVATE_H */
