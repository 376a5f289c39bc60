/* The OpenTelemetry handler's encoding: a record as an OTLP log record and
 * span in OTLP's JSON mapping (64-bit integers as strings, ids as hex,
 * enums as numbers), the request bodies around them, and the settings
 * OpenTelemetry's SDKs read from the environment ("k=v,k2=v2" lists,
 * signal URLs).  Pure: no I/O, no locks, no state. */
#include "handler-otlp-private.h"
#include "json-private.h"
#include "message-render-private.h"

#include <ctype.h>
#include <string.h>

/* ---------------------------------------------------------------- attributes */

static void
key_open (mwatch_buf_t *out, bool *first, const char *key, size_t key_len)
{
   if (!*first) {
      mwatch_buf_append (out, ",", 1);
   }
   *first = false;
   mwatch_buf_append_str (out, "{\"key\":");
   _mwatch_json_string (out, key, key_len);
   mwatch_buf_append_str (out, ",\"value\":{");
}

static void
attr_string (mwatch_buf_t *out, bool *first, const char *key, const char *value, size_t len)
{
   key_open (out, first, key, strlen (key));
   mwatch_buf_append_str (out, "\"stringValue\":");
   _mwatch_json_string (out, value, len);
   mwatch_buf_append_str (out, "}}");
}

static void
attr_int (mwatch_buf_t *out, bool *first, const char *key, int64_t value)
{
   key_open (out, first, key, strlen (key));
   /* OTLP/JSON writes 64-bit integers as strings. */
   mwatch_buf_append_str (out, "\"intValue\":\"");
   _mwatch_json_int64 (out, value);
   mwatch_buf_append_str (out, "\"}}");
}

/* A message value as an attribute value: numbers and booleans typed,
 * times as ISO-8601 text, documents, arrays and other BSON values as
 * their JSON text.  False for null (no attribute). */
static bool
put_value (mwatch_buf_t *out, const mwatch_value_t *value)
{
   switch (value->type) {
   case MWATCH_TYPE_NULL:
      return false;
   case MWATCH_TYPE_BOOL:
      mwatch_buf_append_str (out, value->value.v_bool ? "\"boolValue\":true" : "\"boolValue\":false");
      return true;
   case MWATCH_TYPE_INT64:
      mwatch_buf_append_str (out, "\"intValue\":\"");
      _mwatch_json_int64 (out, value->value.v_int64);
      mwatch_buf_append (out, "\"", 1);
      return true;
   case MWATCH_TYPE_DOUBLE:
      /* Not finite: protobuf's JSON names it as a string ("NaN"), which
       * _mwatch_json_double would not. */
      if (value->value.v_double != value->value.v_double) {
         mwatch_buf_append_str (out, "\"doubleValue\":\"NaN\"");
      } else if (value->value.v_double > 1.7976931348623157e308) {
         mwatch_buf_append_str (out, "\"doubleValue\":\"Infinity\"");
      } else if (value->value.v_double < -1.7976931348623157e308) {
         mwatch_buf_append_str (out, "\"doubleValue\":\"-Infinity\"");
      } else {
         mwatch_buf_append_str (out, "\"doubleValue\":");
         _mwatch_json_double (out, value->value.v_double);
      }
      return true;
   case MWATCH_TYPE_UTF8:
      mwatch_buf_append_str (out, "\"stringValue\":");
      _mwatch_json_string (out, value->value.v_utf8.str, value->value.v_utf8.len);
      return true;
   case MWATCH_TYPE_DATETIME: {
      mwatch_buf_t text = MWATCH_BUF_INITIALIZER;
      _mwatch_text_datetime (&text, value->value.v_datetime);
      mwatch_buf_append_str (out, "\"stringValue\":");
      _mwatch_json_string (out, text.data, text.len);
      mwatch_buf_destroy (&text);
      return true;
   }
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
   case MWATCH_TYPE_BSON:
   default: {
      mwatch_buf_t json = MWATCH_BUF_INITIALIZER;
      _mwatch_render_value_json (&json, value);
      mwatch_buf_append_str (out, "\"stringValue\":");
      _mwatch_json_string (out, json.data, json.len);
      mwatch_buf_destroy (&json);
      return true;
   }
   }
}

static void
attr_value (mwatch_buf_t *out, bool *first, const char *key, size_t key_len, const mwatch_value_t *value)
{
   size_t mark = out->len;
   bool was_first = *first;
   key_open (out, first, key, key_len);
   if (put_value (out, value)) {
      mwatch_buf_append_str (out, "}}");
   } else {
      /* A null: no attribute after all. */
      out->len = mark;
      out->data[mark] = '\0';
      *first = was_first;
   }
}

void
_mwatch_otlp_snake_case (mwatch_buf_t *out, const char *name)
{
   for (size_t i = 0; name[i]; i++) {
      unsigned char c = (unsigned char) name[i];
      if (isupper (c) && i > 0) {
         unsigned char prev = (unsigned char) name[i - 1];
         unsigned char next = (unsigned char) name[i + 1];
         /* A word starts at an upper-case letter after a lower-case one
          * or a digit ("StartTime"), or at the last capital of a run
          * followed by a lower-case one ("HTTPCode"). */
         if (islower (prev) || isdigit (prev) || (isupper (prev) && islower (next))) {
            mwatch_buf_append (out, "_", 1);
         }
      }
      char lower = (char) tolower (c);
      mwatch_buf_append (out, &lower, 1);
   }
}

/* The message fields that have a name in OpenTelemetry's database
 * conventions.  The rest go under "mongowatch.". */
static const struct {
   const char *field;
   const char *attribute;
} semconv[] = {
   {"DB", "db.namespace"},
   {"Collection", "db.collection.name"},
   {"Operation", "db.operation.name"},
   {"Filter", "db.query.text"},
};

/* The attributes of a record's message, into `out` (a JSON array's
 * inside), as the header (handler-otlp-private.h's users: logging.h) says. */
static void
put_attributes (mwatch_buf_t *out, const mwatch_record_t *record)
{
   bool first = true;
   mwatch_buf_t name = MWATCH_BUF_INITIALIZER;
   mwatch_message_iter_t iter;
   const char *key;
   mwatch_value_t value;

   if (record->watch) {
      attr_string (out, &first, "db.system.name", "mongodb", 7);
      /* A cursor's MatchedCount is the documents it returned; a
       * collection operation's is what its query matched. */
      const char *dot = record->name ? strrchr (record->name, '.') : NULL;
      bool cursor = dot && strcmp (dot, ".cursor") == 0;
      mwatch_message_iter_init (&iter, record->watch);
      while (mwatch_message_iter_next (&iter, &key, &value)) {
         const char *attribute = NULL;
         for (size_t i = 0; i < sizeof semconv / sizeof *semconv; i++) {
            if (strcmp (key, semconv[i].field) == 0) {
               attribute = semconv[i].attribute;
            }
         }
         if (attribute && strcmp (attribute, "db.query.text") == 0 && value.type != MWATCH_TYPE_UTF8 &&
             value.type != MWATCH_TYPE_NULL) {
            /* The statement is text: the Filter's JSON. */
            mwatch_buf_t json = MWATCH_BUF_INITIALIZER;
            _mwatch_render_value_json (&json, &value);
            attr_string (out, &first, attribute, json.data, json.len);
            mwatch_buf_destroy (&json);
            continue;
         }
         if (attribute) {
            attr_value (out, &first, attribute, strlen (attribute), &value);
            continue;
         }
         if (strcmp (key, "Error") == 0 && value.type != MWATCH_TYPE_NULL) {
            /* The message is all the watcher keeps of an error: no class
             * or code to name its type by, so the conventions' own
             * "_OTHER", and the text beside it. */
            attr_string (out, &first, "error.type", "_OTHER", 6);
            attr_value (out, &first, "error.message", strlen ("error.message"), &value);
            continue;
         }
         if (cursor && strcmp (key, "MatchedCount") == 0) {
            attr_value (out, &first, "db.response.returned_rows",
                        strlen ("db.response.returned_rows"), &value);
         }
         mwatch_buf_clear (&name);
         mwatch_buf_append_str (&name, "mongowatch.");
         _mwatch_otlp_snake_case (&name, key);
         attr_value (out, &first, name.data, name.len, &value);
      }
   }
   attr_int (out, &first, "thread.id", record->thread);
   mwatch_buf_destroy (&name);
}

/* ---------------------------------------------------------------- records */

mwatch_otlp_kind_t
_mwatch_otlp_kind (const mwatch_record_t *record, bool spans)
{
   if (!record->watch) {
      return record->text ? MWATCH_OTLP_LOG : MWATCH_OTLP_SKIP;
   }
   if (mwatch_message_is_ready (record->watch)) {
      return spans ? MWATCH_OTLP_LOG_AND_SPAN : MWATCH_OTLP_LOG;
   }
   mwatch_value_t state;
   if (mwatch_message_get (record->watch, "State", &state) && state.type == MWATCH_TYPE_UTF8 &&
       state.value.v_utf8.len == 7 && memcmp (state.value.v_utf8.str, "timeout", 7) == 0) {
      return MWATCH_OTLP_LOG;
   }
   return MWATCH_OTLP_SKIP;
}

/* OpenTelemetry's severity numbers for Python's levels: DEBUG 5, INFO 9,
 * WARN 13, ERROR 17, FATAL 21 (the first of each range). */
static int
severity_number (int level)
{
   if (level >= MWATCH_LEVEL_CRITICAL) {
      return 21;
   }
   if (level >= MWATCH_LEVEL_ERROR) {
      return 17;
   }
   if (level >= MWATCH_LEVEL_WARNING) {
      return 13;
   }
   if (level >= MWATCH_LEVEL_INFO) {
      return 9;
   }
   return level > 0 ? 5 : 0;
}

static void
put_hex (mwatch_buf_t *out, const uint8_t *bytes, size_t n)
{
   static const char digits[] = "0123456789abcdef";
   mwatch_buf_append (out, "\"", 1);
   for (size_t i = 0; i < n; i++) {
      char pair[2] = {digits[bytes[i] >> 4], digits[bytes[i] & 15]};
      mwatch_buf_append (out, pair, 2);
   }
   mwatch_buf_append (out, "\"", 1);
}

/* A time in microseconds as OTLP's nanoseconds, a JSON string. */
static void
put_nanos (mwatch_buf_t *out, const char *key, int64_t us)
{
   mwatch_buf_append_str (out, key);
   mwatch_buf_append_str (out, ":\"");
   _mwatch_json_int64 (out, us > 0 ? us * 1000 : 0);
   mwatch_buf_append (out, "\"", 1);
}

static bool
get_time (const mwatch_message_t *msg, const char *field, int64_t *us)
{
   mwatch_value_t v;
   if (mwatch_message_get (msg, field, &v) && v.type == MWATCH_TYPE_DATETIME) {
      *us = v.value.v_datetime;
      return true;
   }
   return false;
}

static void
put_span (mwatch_buf_t *span,
          const mwatch_record_t *record,
          const uint8_t *trace_id,
          const uint8_t *span_id,
          const char *attributes,
          size_t attributes_len)
{
   const mwatch_message_t *msg = record->watch;
   mwatch_value_t op, coll, error;
   int64_t start = record->created, end = record->created;
   get_time (msg, "StartTime", &start);
   if (!get_time (msg, "EndTime", &end)) {
      mwatch_value_t d;
      end = start;
      if (mwatch_message_get (msg, "Duration", &d) && d.type == MWATCH_TYPE_DOUBLE) {
         end = start + (int64_t) (d.value.v_double * 1e6);
      }
   }
   mwatch_buf_append_str (span, "{\"traceId\":");
   put_hex (span, trace_id, 16);
   mwatch_buf_append_str (span, ",\"spanId\":");
   put_hex (span, span_id, 8);
   /* The conventions' span name: "{db.operation.name} {target}". */
   mwatch_buf_append_str (span, ",\"name\":");
   mwatch_buf_t name = MWATCH_BUF_INITIALIZER;
   bool has_op = mwatch_message_get (msg, "Operation", &op) && op.type == MWATCH_TYPE_UTF8;
   bool has_coll = mwatch_message_get (msg, "Collection", &coll) && coll.type == MWATCH_TYPE_UTF8;
   if (has_op) {
      mwatch_buf_append (&name, op.value.v_utf8.str, op.value.v_utf8.len);
   }
   if (has_coll) {
      if (has_op) {
         mwatch_buf_append (&name, " ", 1);
      }
      mwatch_buf_append (&name, coll.value.v_utf8.str, coll.value.v_utf8.len);
   }
   if (!has_op && !has_coll) {
      mwatch_buf_append_str (&name, "mongodb");
   }
   _mwatch_json_string (span, name.data, name.len);
   mwatch_buf_destroy (&name);
   /* SPAN_KIND_CLIENT */
   mwatch_buf_append_str (span, ",\"kind\":3,");
   put_nanos (span, "\"startTimeUnixNano\"", start);
   mwatch_buf_append (span, ",", 1);
   put_nanos (span, "\"endTimeUnixNano\"", end);
   mwatch_buf_append_str (span, ",\"attributes\":[");
   mwatch_buf_append (span, attributes, attributes_len);
   mwatch_buf_append (span, "]", 1);
   if (mwatch_message_get (msg, "Error", &error) && error.type != MWATCH_TYPE_NULL) {
      /* STATUS_CODE_ERROR; a success leaves the status unset, as the
       * conventions ask of instrumentations. */
      mwatch_buf_append_str (span, ",\"status\":{\"code\":2");
      if (error.type == MWATCH_TYPE_UTF8) {
         mwatch_buf_append_str (span, ",\"message\":");
         _mwatch_json_string (span, error.value.v_utf8.str, error.value.v_utf8.len);
      }
      mwatch_buf_append (span, "}", 1);
   }
   mwatch_buf_append (span, "}", 1);
}

void
_mwatch_otlp_encode (const mwatch_record_t *record,
                     const char *body,
                     size_t body_len,
                     const uint8_t *trace_id,
                     const uint8_t *span_id,
                     mwatch_buf_t *log,
                     mwatch_buf_t *span)
{
   char level[24];
   mwatch_buf_t attributes = MWATCH_BUF_INITIALIZER;
   put_attributes (&attributes, record);

   mwatch_buf_append (log, "{", 1);
   put_nanos (log, "\"timeUnixNano\"", record->created);
   mwatch_buf_append (log, ",", 1);
   put_nanos (log, "\"observedTimeUnixNano\"", record->created);
   mwatch_buf_append_str (log, ",\"severityNumber\":");
   _mwatch_json_int64 (log, severity_number (record->level));
   mwatch_buf_append_str (log, ",\"severityText\":");
   const char *name = mwatch_level_name (record->level, level, sizeof level);
   _mwatch_json_string (log, name, strlen (name));
   mwatch_buf_append_str (log, ",\"body\":{\"stringValue\":");
   _mwatch_json_string (log, body, body_len);
   mwatch_buf_append_str (log, "},\"attributes\":[");
   mwatch_buf_append (log, attributes.data, attributes.len);
   mwatch_buf_append (log, "]", 1);
   if (span && record->watch) {
      mwatch_buf_append_str (log, ",\"traceId\":");
      put_hex (log, trace_id, 16);
      mwatch_buf_append_str (log, ",\"spanId\":");
      put_hex (log, span_id, 8);
      put_span (span, record, trace_id, span_id, attributes.data, attributes.len);
   }
   mwatch_buf_append (log, "}", 1);
   mwatch_buf_destroy (&attributes);
}

/* ---------------------------------------------------------------- requests */

size_t
_mwatch_otlp_envelope (mwatch_buf_t *out,
                       const char *resource,
                       const mwatch_otlp_entry_t *entries,
                       size_t count,
                       bool spans)
{
   const char *scope = NULL;
   size_t taken = 0;

   mwatch_buf_clear (out);
   mwatch_buf_append_str (out, spans ? "{\"resourceSpans\":[{\"resource\":{\"attributes\":"
                                     : "{\"resourceLogs\":[{\"resource\":{\"attributes\":");
   mwatch_buf_append_str (out, resource);
   mwatch_buf_append_str (out, spans ? "},\"scopeSpans\":[" : "},\"scopeLogs\":[");
   for (size_t i = 0; i < count; i++) {
      const char *part = spans ? entries[i].span : entries[i].log;
      size_t len = spans ? entries[i].span_len : entries[i].log_len;
      if (!part) {
         continue;
      }
      const char *own = entries[i].scope ? entries[i].scope : "";
      if (!scope || strcmp (scope, own) != 0) {
         /* A new run of one logger's records: close the last scope. */
         if (scope) {
            mwatch_buf_append_str (out, "]},");
         }
         scope = own;
         mwatch_buf_append_str (out, "{\"scope\":{\"name\":");
         _mwatch_json_string (out, scope, strlen (scope));
         mwatch_buf_append_str (out, ",\"version\":\"" MWATCH_VERSION_STRING "\"},");
         mwatch_buf_append_str (out, spans ? "\"spans\":[" : "\"logRecords\":[");
      } else {
         mwatch_buf_append (out, ",", 1);
      }
      mwatch_buf_append (out, part, len);
      taken++;
   }
   if (scope) {
      mwatch_buf_append_str (out, "]}");
   }
   mwatch_buf_append_str (out, "]}]}");
   return taken;
}

void
_mwatch_otlp_resource (mwatch_buf_t *out, const char *service_name, const char *const *pairs, int64_t pid)
{
   bool first = true;
   mwatch_buf_append (out, "[", 1);
   attr_string (out, &first, "service.name", service_name, strlen (service_name));
   for (size_t i = 0; pairs && pairs[i]; i += 2) {
      if (strcmp (pairs[i], "service.name") != 0) {
         attr_string (out, &first, pairs[i], pairs[i + 1], strlen (pairs[i + 1]));
      }
   }
   attr_int (out, &first, "process.pid", pid);
   attr_string (out, &first, "telemetry.sdk.name", "mongowatch", 10);
   attr_string (out, &first, "telemetry.sdk.language", "c", 1);
   attr_string (out, &first, "telemetry.sdk.version", MWATCH_VERSION_STRING,
                strlen (MWATCH_VERSION_STRING));
   mwatch_buf_append (out, "]", 1);
}

/* ---------------------------------------------------------------- settings */

static int
hex_digit (char c)
{
   if (c >= '0' && c <= '9') {
      return c - '0';
   }
   c = (char) tolower ((unsigned char) c);
   return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

const char *
_mwatch_otlp_header_fault (const char *name, const char *value)
{
   for (const char *c = name; *c; c++) {
      if (!(isalnum ((unsigned char) *c) || strchr ("!#$%&'*+-.^_`|~", *c))) {
         return "a header name is letters, digits and !#$%&'*+-.^_`|~ only";
      }
   }
   for (const char *c = value ? value : ""; *c; c++) {
      if ((unsigned char) *c < 0x20 ? *c != '\t' : *c == 0x7f) {
         return "a header value has no control characters (CR, LF, ...)";
      }
   }
   return NULL;
}

/* `text[0..len)` trimmed, and percent-decoded when `decode`: a new string,
 * or NULL for a bad escape or a %00 (`*nul` set). */
static char *
trimmed (const char *text, size_t len, bool decode, bool *nul)
{
   while (len > 0 && isspace ((unsigned char) *text)) {
      text++;
      len--;
   }
   while (len > 0 && isspace ((unsigned char) text[len - 1])) {
      len--;
   }
   char *out = bson_malloc (len + 1);
   size_t n = 0;
   for (size_t i = 0; i < len; i++) {
      if (decode && text[i] == '%') {
         int hi = i + 1 < len ? hex_digit (text[i + 1]) : -1;
         int lo = i + 2 < len ? hex_digit (text[i + 2]) : -1;
         if (hi < 0 || lo < 0 || (hi | lo) == 0) {
            *nul = hi == 0 && lo == 0;
            bson_free (out);
            return NULL;
         }
         out[n++] = (char) (hi * 16 + lo);
         i += 2;
      } else {
         out[n++] = text[i];
      }
   }
   out[n] = '\0';
   return out;
}

char **
_mwatch_otlp_parse_pairs (const char *text, const char *what, bson_error_t *error)
{
   size_t cap = 8, n = 0;
   char **pairs = bson_malloc0 (cap * sizeof *pairs);
   const char *p = text;
   size_t index = 0;

   while (p && *p) {
      const char *end = strchr (p, ',');
      size_t len = end ? (size_t) (end - p) : strlen (p);
      const char *eq = memchr (p, '=', len);
      index++;
      /* An empty item (a trailing comma, "a=1,,b=2") is nothing. */
      bool blank = true;
      for (size_t i = 0; i < len; i++) {
         blank = blank && isspace ((unsigned char) p[i]);
      }
      if (!blank) {
         bool nul = false;
         char *key = eq ? trimmed (p, (size_t) (eq - p), false, &nul) : NULL;
         char *value = eq ? trimmed (eq + 1, len - (size_t) (eq - p) - 1, true, &nul) : NULL;
         if (!key || !*key || !value) {
            bson_set_error (error,
                            MWATCH_ERROR_DOMAIN,
                            MWATCH_ERROR_INVALID_ARGUMENT,
                            "%s: item %zu (\"%.*s%s\") %s",
                            what,
                            index,
                            /* Up to the '=': a header's value is an API key. */
                            (int) (eq ? (size_t) (eq - p) : len > 60 ? 60 : len),
                            p,
                            eq ? "=..." : "",
                            nul ? "has a %00 (a NUL byte) in its value"
                                : "is not key=value with a non-empty key and a value whose "
                                  "%-escapes are two hexadecimal digits");
            bson_free (key);
            bson_free (value);
            _mwatch_otlp_pairs_free (pairs);
            return NULL;
         }
         if (n + 3 > cap) {
            cap *= 2;
            pairs = bson_realloc (pairs, cap * sizeof *pairs);
         }
         pairs[n++] = key;
         pairs[n++] = value;
         pairs[n] = NULL;
      }
      p = end ? end + 1 : NULL;
   }
   return pairs;
}

static bool
has_key (const char *const *pairs, const char *key)
{
   for (size_t i = 0; pairs && pairs[i]; i += 2) {
      if (strcmp (pairs[i], key) == 0) {
         return true;
      }
   }
   return false;
}

char **
_mwatch_otlp_pairs_merge (const char *const *a, const char *const *b)
{
   size_t n = 0;
   for (size_t i = 0; a && a[i]; i++) {
      n++;
   }
   for (size_t i = 0; b && b[i]; i++) {
      n++;
   }
   char **out = bson_malloc0 ((n + 1) * sizeof *out);
   size_t k = 0;
   for (size_t i = 0; a && a[i]; i += 2) {
      out[k++] = bson_strdup (a[i]);
      out[k++] = bson_strdup (a[i + 1] ? a[i + 1] : "");
   }
   for (size_t i = 0; b && b[i]; i += 2) {
      if (!has_key (a, b[i])) {
         out[k++] = bson_strdup (b[i]);
         out[k++] = bson_strdup (b[i + 1] ? b[i + 1] : "");
      }
   }
   out[k] = NULL;
   return out;
}

void
_mwatch_otlp_pairs_free (char **pairs)
{
   for (size_t i = 0; pairs && pairs[i]; i++) {
      bson_free (pairs[i]);
   }
   bson_free (pairs);
}

char *
_mwatch_otlp_signal_url (const char *base, const char *signal)
{
   size_t len = strlen (base);
   while (len > 0 && base[len - 1] == '/') {
      len--;
   }
   return bson_strdup_printf ("%.*s/v1/%s", (int) len, base, signal);
}

/* ---------------------------------------------------------------- metrics */

const double _mwatch_otlp_bounds[MWATCH_OTLP_BUCKETS - 1] = {
   0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5,
};

void
_mwatch_otlp_series_add (mwatch_otlp_series_t *series, double seconds)
{
   size_t b = 0;
   /* OpenTelemetry's buckets are upper-inclusive: (bound[i-1], bound[i]]. */
   while (b < MWATCH_OTLP_BUCKETS - 1 && seconds > _mwatch_otlp_bounds[b]) {
      b++;
   }
   series->buckets[b]++;
   if (series->count == 0 || seconds < series->min) {
      series->min = seconds;
   }
   if (series->count == 0 || seconds > series->max) {
      series->max = seconds;
   }
   series->count++;
   series->sum += seconds;
}

bool
_mwatch_otlp_series_key (const mwatch_record_t *record, mwatch_otlp_text_t key[3], double *seconds, bool *failed)
{
   static const char *const fields[3] = {"DB", "Collection", "Operation"};
   mwatch_value_t v;
   if (!record->watch || !mwatch_message_is_ready (record->watch) ||
       !mwatch_message_get (record->watch, "Duration", &v) || v.type != MWATCH_TYPE_DOUBLE) {
      return false;
   }
   *seconds = v.value.v_double;
   for (int i = 0; i < 3; i++) {
      key[i].str = "";
      key[i].len = 0;
      if (mwatch_message_get (record->watch, fields[i], &v) && v.type == MWATCH_TYPE_UTF8) {
         key[i].str = v.value.v_utf8.str;
         key[i].len = v.value.v_utf8.len;
      }
   }
   *failed = mwatch_message_get (record->watch, "Error", &v) && v.type != MWATCH_TYPE_NULL;
   return true;
}

static void
put_nanos_value (mwatch_buf_t *out, int64_t us)
{
   mwatch_buf_append (out, "\"", 1);
   _mwatch_json_int64 (out, us * 1000);
   mwatch_buf_append (out, "\"", 1);
}

void
_mwatch_otlp_metrics_envelope (mwatch_buf_t *out,
                               const char *resource,
                               const mwatch_otlp_series_t *series,
                               size_t count,
                               int64_t start_us,
                               int64_t now_us)
{
   mwatch_buf_clear (out);
   mwatch_buf_append_str (out, "{\"resourceMetrics\":[{\"resource\":{\"attributes\":");
   mwatch_buf_append_str (out, resource);
   mwatch_buf_append_str (out, "},\"scopeMetrics\":[{\"scope\":{\"name\":\"mongowatch\",\"version\":\"" MWATCH_VERSION_STRING
                               "\"},\"metrics\":[{\"name\":\"db.client.operation.duration\","
                               "\"description\":\"Duration of database client operations.\","
                               "\"unit\":\"s\",\"histogram\":{\"aggregationTemporality\":2,"
                               "\"dataPoints\":[");
   for (size_t i = 0; i < count; i++) {
      const mwatch_otlp_series_t *s = &series[i];
      bool first = true;
      mwatch_buf_append_str (out, i ? ",{\"attributes\":[" : "{\"attributes\":[");
      attr_string (out, &first, "db.system.name", "mongodb", 7);
      if (*s->db) {
         attr_string (out, &first, "db.namespace", s->db, strlen (s->db));
      }
      if (*s->collection) {
         attr_string (out, &first, "db.collection.name", s->collection, strlen (s->collection));
      }
      if (*s->operation) {
         attr_string (out, &first, "db.operation.name", s->operation, strlen (s->operation));
      }
      if (s->failed) {
         attr_string (out, &first, "error.type", "_OTHER", 6);
      }
      mwatch_buf_append_str (out, "],\"startTimeUnixNano\":");
      put_nanos_value (out, start_us);
      mwatch_buf_append_str (out, ",\"timeUnixNano\":");
      put_nanos_value (out, now_us);
      mwatch_buf_append_str (out, ",\"count\":\"");
      _mwatch_json_int64 (out, (int64_t) s->count);
      mwatch_buf_append_str (out, "\",\"sum\":");
      _mwatch_json_double (out, s->sum);
      mwatch_buf_append_str (out, ",\"min\":");
      _mwatch_json_double (out, s->min);
      mwatch_buf_append_str (out, ",\"max\":");
      _mwatch_json_double (out, s->max);
      mwatch_buf_append_str (out, ",\"bucketCounts\":[");
      for (size_t b = 0; b < MWATCH_OTLP_BUCKETS; b++) {
         mwatch_buf_append_str (out, b ? ",\"" : "\"");
         _mwatch_json_int64 (out, (int64_t) s->buckets[b]);
         mwatch_buf_append (out, "\"", 1);
      }
      mwatch_buf_append_str (out, "],\"explicitBounds\":[");
      for (size_t b = 0; b < MWATCH_OTLP_BUCKETS - 1; b++) {
         if (b) {
            mwatch_buf_append (out, ",", 1);
         }
         _mwatch_json_double (out, _mwatch_otlp_bounds[b]);
      }
      mwatch_buf_append_str (out, "]}");
   }
   mwatch_buf_append_str (out, "]}}]}]}]}");
}
