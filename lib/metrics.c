/* Per-(DB, Collection, Operation) counters and duration histograms, and
 * their Prometheus text exposition (metrics-private.h says who reads
 * them).
 *
 * Adding a record costs a hash of its three names and a probe: the series
 * are found by open addressing, made at their first record and never
 * freed before the table, so that the cost of a record does not grow with
 * the number of series.  The number of series is bounded (max_series):
 * the names come from the application, and a program that makes a
 * collection per user would otherwise grow the table, and the file, for
 * ever. */
#include "metrics-private.h"
#include "json-private.h"

#include <string.h>

const double _mwatch_metrics_bounds[MWATCH_METRICS_BOUNDS] = {
   0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/* The same bounds as `le` label values, written as Prometheus' own client
 * libraries write them (Go's shortest form: "1", not "1.0"), so that a
 * query over several exporters' buckets matches them. */
static const char *const bound_labels[MWATCH_METRICS_BOUNDS + 1] = {
   "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
   "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};

const char *const _mwatch_metrics_count_names[MWATCH_METRICS_COUNTS] = {
   "matched", "inserted", "modified", "upserted", "deleted"};

#define FIRST_SLOTS 64

void
_mwatch_metrics_init (mwatch_metrics_t *metrics, size_t max_series)
{
   memset (metrics, 0, sizeof *metrics);
   metrics->max_series = max_series;
}

static void
free_series (mwatch_metrics_t *metrics)
{
   for (size_t i = 0; i < metrics->count; i++) {
      mwatch_metrics_series_t *s = metrics->series[i];
      bson_free (s->db);
      bson_free (s->collection);
      bson_free (s->operation);
      bson_free (s->labels);
      bson_free (s);
   }
   bson_free (metrics->series);
   bson_free (metrics->slots);
}

void
_mwatch_metrics_destroy (mwatch_metrics_t *metrics)
{
   free_series (metrics);
   memset (metrics, 0, sizeof *metrics);
}

void
_mwatch_metrics_reset (mwatch_metrics_t *metrics)
{
   size_t max_series = metrics->max_series;
   free_series (metrics);
   _mwatch_metrics_init (metrics, max_series);
}

/* FNV-1a over the three names, each followed by a 0xff byte (which UTF-8
 * never holds), so that ("ab", "c") and ("a", "bc") differ. */
static uint32_t
hash_names (const mwatch_metrics_sample_t *s)
{
   const char *parts[3] = {s->db, s->collection, s->operation};
   size_t lens[3] = {s->db_len, s->collection_len, s->operation_len};
   uint32_t h = 2166136261u;
   for (int p = 0; p < 3; p++) {
      for (size_t i = 0; i < lens[p]; i++) {
         h = (h ^ (uint8_t) parts[p][i]) * 16777619u;
      }
      h = (h ^ 0xffu) * 16777619u;
   }
   return h;
}

static bool
same_names (const mwatch_metrics_series_t *series, const mwatch_metrics_sample_t *s)
{
   return series->db_len == s->db_len && series->collection_len == s->collection_len &&
          series->operation_len == s->operation_len &&
          memcmp (series->db, s->db, s->db_len) == 0 &&
          memcmp (series->collection, s->collection, s->collection_len) == 0 &&
          memcmp (series->operation, s->operation, s->operation_len) == 0;
}

static uint32_t
hash_series (const mwatch_metrics_series_t *series)
{
   mwatch_metrics_sample_t s = {.db = series->db,
                                .db_len = series->db_len,
                                .collection = series->collection,
                                .collection_len = series->collection_len,
                                .operation = series->operation,
                                .operation_len = series->operation_len};
   return hash_names (&s);
}

/* Doubles the slots (or makes the first ones) and places every series
 * again. */
static void
grow_slots (mwatch_metrics_t *metrics)
{
   size_t len = metrics->slots_len ? metrics->slots_len * 2 : FIRST_SLOTS;
   bson_free (metrics->slots);
   metrics->slots = bson_malloc0 (len * sizeof *metrics->slots);
   metrics->slots_len = len;
   for (size_t i = 0; i < metrics->count; i++) {
      size_t slot = hash_series (metrics->series[i]) & (len - 1);
      while (metrics->slots[slot]) {
         slot = (slot + 1) & (len - 1);
      }
      metrics->slots[slot] = (uint32_t) (i + 1);
   }
}

static void
append_labels (mwatch_buf_t *out, const mwatch_metrics_series_t *s)
{
   MWATCH_BUF_PUT_LIT (out, "db=\"");
   _mwatch_metrics_label_value (out, s->db, s->db_len);
   MWATCH_BUF_PUT_LIT (out, "\",collection=\"");
   _mwatch_metrics_label_value (out, s->collection, s->collection_len);
   MWATCH_BUF_PUT_LIT (out, "\",operation=\"");
   _mwatch_metrics_label_value (out, s->operation, s->operation_len);
   _mwatch_buf_putc (out, '"');
}

/* `len` bytes, which may hold a NUL, and a NUL after them. */
static char *
copy_bytes (const char *data, size_t len)
{
   char *copy = bson_malloc (len + 1);
   if (len) {
      memcpy (copy, data, len);
   }
   copy[len] = '\0';
   return copy;
}

static mwatch_metrics_series_t *
new_series (const mwatch_metrics_sample_t *sample)
{
   mwatch_metrics_series_t *s = bson_malloc0 (sizeof *s);
   s->db = copy_bytes (sample->db, sample->db_len);
   s->collection = copy_bytes (sample->collection, sample->collection_len);
   s->operation = copy_bytes (sample->operation, sample->operation_len);
   s->db_len = sample->db_len;
   s->collection_len = sample->collection_len;
   s->operation_len = sample->operation_len;
   mwatch_buf_t labels = MWATCH_BUF_INITIALIZER;
   append_labels (&labels, s);
   s->labels = labels.data; /* the buffer's storage becomes the series' */
   return s;
}

size_t
_mwatch_metrics_bucket (double seconds)
{
   size_t i = 0;
   /* A NaN fails every comparison and lands in +Inf, where it hurts no
    * finite bucket. */
   while (i < MWATCH_METRICS_BOUNDS && !(seconds <= _mwatch_metrics_bounds[i])) {
      i++;
   }
   return i;
}

bool
_mwatch_metrics_add (mwatch_metrics_t *metrics, const mwatch_metrics_sample_t *sample)
{
   mwatch_metrics_series_t *s = NULL;
   uint32_t h = hash_names (sample);
   size_t slot = 0;
   if (metrics->slots_len) {
      slot = h & (metrics->slots_len - 1);
      for (uint32_t i; (i = metrics->slots[slot]); slot = (slot + 1) & (metrics->slots_len - 1)) {
         if (same_names (metrics->series[i - 1], sample)) {
            s = metrics->series[i - 1];
            break;
         }
      }
   }
   if (!s) {
      if (metrics->count >= metrics->max_series) {
         metrics->dropped++;
         return false;
      }
      if ((metrics->count + 1) * 2 > metrics->slots_len) {
         grow_slots (metrics);
         slot = h & (metrics->slots_len - 1);
         while (metrics->slots[slot]) {
            slot = (slot + 1) & (metrics->slots_len - 1);
         }
      }
      s = new_series (sample);
      metrics->series =
         bson_realloc (metrics->series, (metrics->count + 1) * sizeof *metrics->series);
      metrics->series[metrics->count++] = s;
      metrics->slots[slot] = (uint32_t) metrics->count;
   }
   s->operations++;
   s->errors += sample->error;
   if (sample->has_duration) {
      s->buckets[_mwatch_metrics_bucket (sample->duration_sec)]++;
      s->duration_sum += sample->duration_sec;
   }
   for (int k = 0; k < MWATCH_METRICS_COUNTS; k++) {
      if (sample->has_count[k]) {
         s->has_count[k] = true;
         /* A count is never negative; a record of the user's that says so
          * is not allowed to make a counter go down. */
         s->count[k] += sample->count[k] > 0 ? (uint64_t) sample->count[k] : 0;
      }
   }
   return true;
}

void
_mwatch_metrics_label_value (mwatch_buf_t *out, const char *str, size_t len)
{
   const uint8_t *p = (const uint8_t *) str;
   size_t i = 0;
   while (i < len) {
      uint8_t c = p[i];
      if (c == '\\' || c == '"') {
         _mwatch_buf_putc (out, '\\');
         _mwatch_buf_putc (out, (char) c);
         i++;
      } else if (c == '\n') {
         MWATCH_BUF_PUT_LIT (out, "\\n");
         i++;
      } else if (c == '\0') {
         MWATCH_BUF_PUT_LIT (out, "\xef\xbf\xbd");
         i++;
      } else if (c < 0x80) {
         _mwatch_buf_putc (out, (char) c);
         i++;
      } else {
         size_t skip;
         size_t n = _mwatch_utf8_next (p + i, len - i, &skip);
         if (n) {
            _mwatch_buf_put (out, str + i, n);
            i += n;
         } else {
            MWATCH_BUF_PUT_LIT (out, "\xef\xbf\xbd");
            i += skip;
         }
      }
   }
}

/* "# HELP name text\n# TYPE name type\n". */
static void
family (mwatch_buf_t *out, const char *name, const char *type, const char *help)
{
   MWATCH_BUF_PUT_LIT (out, "# HELP ");
   mwatch_buf_append_str (out, name);
   _mwatch_buf_putc (out, ' ');
   mwatch_buf_append_str (out, help);
   MWATCH_BUF_PUT_LIT (out, "\n# TYPE ");
   mwatch_buf_append_str (out, name);
   _mwatch_buf_putc (out, ' ');
   mwatch_buf_append_str (out, type);
   _mwatch_buf_putc (out, '\n');
}

/* "name{extra,labels" — the caller closes the braces. */
static void
series_start (mwatch_buf_t *out, const char *name, const char *extra, const mwatch_metrics_series_t *s)
{
   mwatch_buf_append_str (out, name);
   _mwatch_buf_putc (out, '{');
   if (extra) {
      mwatch_buf_append_str (out, extra);
      _mwatch_buf_putc (out, ',');
   }
   mwatch_buf_append_str (out, s->labels);
}

static void
value_line (mwatch_buf_t *out, uint64_t value)
{
   MWATCH_BUF_PUT_LIT (out, "} ");
   _mwatch_text_uint (out, value, 1);
   _mwatch_buf_putc (out, '\n');
}

void
_mwatch_metrics_render_prometheus (const mwatch_metrics_t *metrics,
                                   const char *extra_labels,
                                   mwatch_buf_t *out)
{
   static const char ops[] = "mongowatch_operations_total";
   static const char errors[] = "mongowatch_operation_errors_total";
   static const char duration[] = "mongowatch_operation_duration_seconds";
   static const char docs[] = "mongowatch_documents_total";
   static const char dropped[] = "mongowatch_metrics_records_dropped_total";
   const size_t n = metrics->count;

   family (out, ops, "counter", "Final records of watched operations.");
   for (size_t i = 0; i < n; i++) {
      series_start (out, ops, extra_labels, metrics->series[i]);
      value_line (out, metrics->series[i]->operations);
   }
   family (out, errors, "counter", "Final records of watched operations that failed (with an Error field).");
   for (size_t i = 0; i < n; i++) {
      series_start (out, errors, extra_labels, metrics->series[i]);
      value_line (out, metrics->series[i]->errors);
   }
   family (out, duration, "histogram", "Duration of watched operations in seconds.");
   for (size_t i = 0; i < n; i++) {
      const mwatch_metrics_series_t *s = metrics->series[i];
      uint64_t cumulative = 0;
      for (size_t b = 0; b <= MWATCH_METRICS_BOUNDS; b++) {
         cumulative += s->buckets[b];
         series_start (out, "mongowatch_operation_duration_seconds_bucket", extra_labels, s);
         MWATCH_BUF_PUT_LIT (out, ",le=\"");
         mwatch_buf_append_str (out, bound_labels[b]);
         _mwatch_buf_putc (out, '"');
         value_line (out, cumulative);
      }
      series_start (out, "mongowatch_operation_duration_seconds_sum", extra_labels, s);
      MWATCH_BUF_PUT_LIT (out, "} ");
      _mwatch_text_double (out, s->duration_sum);
      _mwatch_buf_putc (out, '\n');
      series_start (out, "mongowatch_operation_duration_seconds_count", extra_labels, s);
      value_line (out, cumulative);
   }
   family (out, docs, "counter",
           "Documents counted by the final records' count fields (kind: matched, inserted, "
           "modified, upserted, deleted).");
   for (size_t i = 0; i < n; i++) {
      const mwatch_metrics_series_t *s = metrics->series[i];
      for (int k = 0; k < MWATCH_METRICS_COUNTS; k++) {
         if (s->has_count[k]) {
            series_start (out, docs, extra_labels, s);
            MWATCH_BUF_PUT_LIT (out, ",kind=\"");
            mwatch_buf_append_str (out, _mwatch_metrics_count_names[k]);
            _mwatch_buf_putc (out, '"');
            value_line (out, s->count[k]);
         }
      }
   }
   family (out, dropped, "counter",
           "Final records not counted because max_series (DB, Collection, Operation) series "
           "existed already.");
   mwatch_buf_append_str (out, dropped);
   if (extra_labels) {
      _mwatch_buf_putc (out, '{');
      mwatch_buf_append_str (out, extra_labels);
      _mwatch_buf_putc (out, '}');
   }
   _mwatch_buf_putc (out, ' ');
   _mwatch_text_uint (out, metrics->dropped, 1);
   _mwatch_buf_putc (out, '\n');
}
