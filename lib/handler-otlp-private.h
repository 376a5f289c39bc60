/* Internal: the OpenTelemetry handler (handler-otlp.c: the buffer, the
 * sending thread, HTTP) and its OTLP/JSON encoding (handler-otlp-json.c:
 * pure functions, unit-tested on their own). */
#ifndef MWATCH_HANDLER_OTLP_PRIVATE_H
#define MWATCH_HANDLER_OTLP_PRIVATE_H

#include "mongowatch.h"

#include <stdint.h>

/* One record, encoded at emit, waiting in the buffer: its log record and
 * (with spans) its span, each a JSON object of OTLP's JSON mapping, and
 * the scope (the logger's name: loggers are never freed).  A part is freed
 * and set to NULL once the endpoint accepted it. */
typedef struct {
   const char *scope;
   char *log;
   size_t log_len;
   char *span;
   size_t span_len;
} mwatch_otlp_entry_t;

/* What becomes of a record: not sent (a first or update record), a log
 * record only, or a log record and a span (a final record, with spans). */
typedef enum {
   MWATCH_OTLP_SKIP,
   MWATCH_OTLP_LOG,
   MWATCH_OTLP_LOG_AND_SPAN,
} mwatch_otlp_kind_t;

/* Which records are sent: final ones, timeouts (a message not ready whose
 * State is "timeout"), and plain text records. */
mwatch_otlp_kind_t
_mwatch_otlp_kind (const mwatch_record_t *record, bool spans);

/* Appends the log record of `record` to `log`, with `body` as its body;
 * with `span` not NULL also its span to `span`, and the ids (16 and 8
 * bytes) to both. */
void
_mwatch_otlp_encode (const mwatch_record_t *record,
                     const char *body,
                     size_t body_len,
                     const uint8_t *trace_id,
                     const uint8_t *span_id,
                     mwatch_buf_t *log,
                     mwatch_buf_t *span);

/* The request body of `count` entries' logs (`spans` false) or spans
 * (true), those whose part is still there: one resource (`resource`, a
 * JSON array of attributes), a scope per run of entries of one logger.
 * Returns how many entries it took (0: nothing to send). */
size_t
_mwatch_otlp_envelope (mwatch_buf_t *out,
                       const char *resource,
                       const mwatch_otlp_entry_t *entries,
                       size_t count,
                       bool spans);

/* The resource attributes as a JSON array: service.name, the pairs (key,
 * value, ..., NULL), process.pid, telemetry.sdk.*. */
void
_mwatch_otlp_resource (mwatch_buf_t *out,
                       const char *service_name,
                       const char *const *pairs,
                       int64_t pid);

/* Parses "k=v,k2=v2" (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS:
 * keys and values trimmed, values percent-decoded) into a new
 * NULL-terminated array of pairs (free with _mwatch_otlp_pairs_free);
 * NULL with `error` naming `what` for an item without '=' or an empty
 * key, or a bad %-escape or a %00 (a NUL would cut the value short). */
char **
_mwatch_otlp_parse_pairs (const char *text, const char *what, bson_error_t *error);

/* mwatch_handler_new_otlp, telling in `key` which setting an error
 * concerns (its configuration key: "class" for libcurl, "endpoint" for
 * OTEL_EXPORTER_OTLP_ENDPOINT or the protocol, "resource_attributes" and
 * "headers" for their variables). */
mwatch_handler_t *
_mwatch_otlp_handler_new (const mwatch_otlp_opts_t *opts, const char **key, bson_error_t *error);

/* Why `name: value` cannot be one HTTP header line (a name not of RFC
 * 9110's token characters; a value with a control character, a CR or LF
 * that would end the header and start another), or NULL when it can.
 * One check for the configuration's keys, the constructor's pairs and the
 * OTEL_EXPORTER_OTLP_*HEADERS variables. */
const char *
_mwatch_otlp_header_fault (const char *name, const char *value);

/* A copy of the NULL-terminated pairs `a` followed by those of `b` whose
 * key `a` lacks (either may be NULL). */
char **
_mwatch_otlp_pairs_merge (const char *const *a, const char *const *b);

void
_mwatch_otlp_pairs_free (char **pairs);

/* The URL of a signal ("logs", "traces") under a base endpoint, as
 * OpenTelemetry's SDKs make it: BASE/v1/SIGNAL, one '/' between. */
char *
_mwatch_otlp_signal_url (const char *base, const char *signal);

/* "WatchID" -> "watch_id", "MatchedCount" -> "matched_count", "user" ->
 * "user": the attribute name of a field, after "mongowatch.". */
void
_mwatch_otlp_snake_case (mwatch_buf_t *out, const char *name);

/* ---------------------------------------------------------------- metrics */

/* The histogram's bucket bounds, in seconds: those OpenTelemetry's
 * database conventions advise for db.client.operation.duration. */
#define MWATCH_OTLP_BUCKETS 14
extern const double _mwatch_otlp_bounds[MWATCH_OTLP_BUCKETS - 1];

/* One series of db.client.operation.duration: the operations of one
 * (DB, Collection, Operation, failed) since the handler started
 * (cumulative, so that an export that failed loses nothing: the next
 * carries the totals). */
typedef struct {
   char *db;
   char *collection;
   char *operation;
   bool failed;
   uint64_t count;
   double sum, min, max;
   uint64_t buckets[MWATCH_OTLP_BUCKETS];
} mwatch_otlp_series_t;

/* Adds one operation of `seconds` to `series`. */
void
_mwatch_otlp_series_add (mwatch_otlp_series_t *series, double seconds);

/* Text borrowed from a message: not NUL-terminated. */
typedef struct {
   const char *str;
   size_t len;
} mwatch_otlp_text_t;

/* Whether `record` is a final record that counts in a series: its DB,
 * Collection and Operation into `key` (empty when absent), its Duration,
 * whether it failed (an Error field). */
bool
_mwatch_otlp_series_key (const mwatch_record_t *record,
                         mwatch_otlp_text_t key[3],
                         double *seconds,
                         bool *failed);

/* The request body of `count` series: one histogram metric,
 * db.client.operation.duration (unit s, cumulative from `start_us` to
 * `now_us`). */
void
_mwatch_otlp_metrics_envelope (mwatch_buf_t *out,
                               const char *resource,
                               const mwatch_otlp_series_t *series,
                               size_t count,
                               int64_t start_us,
                               int64_t now_us);

#endif /* MWATCH_HANDLER_OTLP_PRIVATE_H */
