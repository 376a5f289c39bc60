/* The text writers behind every rendering: JSON strings, numbers, times and
 * compact relaxed extended JSON for BSON.  None of them allocates, unlike
 * bson_as_relaxed_extended_json(), which builds a new string per call. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUT_LIT MWATCH_BUF_PUT_LIT

/* Nesting deeper than libbson's own JSON limit is cut off, so that a
 * hostile document cannot exhaust the stack of a logging thread. */
#define MAX_DEPTH 200

/* bson_date_t milliseconds of 9999-12-31T23:59:59.999Z: later (and negative)
 * dates have no four-digit year, so extended JSON writes them as numbers. */
#define MAX_ISO_DATE_MS INT64_C (253402300799999)

static const char hex_digits[] = "0123456789abcdef";

/* `value` in decimal, zero-padded to at least `width` digits. */
static void
put_uint (mwatch_buf_t *out, uint64_t value, int width)
{
   char digits[24];
   char *p = digits + sizeof digits;
   do {
      *--p = (char) ('0' + value % 10);
      value /= 10;
   } while (value || digits + sizeof digits - p < width);
   _mwatch_buf_put (out, p, (size_t) (digits + sizeof digits - p));
}

/* ---------------------------------------------------------------- text */

size_t
_mwatch_utf8_next (const uint8_t *s, size_t len, size_t *skip)
{
   uint8_t c = s[0];
   uint8_t lo = 0x80, hi = 0xBF; /* the range of the second byte */
   size_t n;

   if (c < 0x80) {
      return 1;
   } else if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
   } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      /* No overlong forms, no UTF-16 surrogates. */
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
   } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      /* No overlong forms, nothing above U+10FFFF. */
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
   } else {
      *skip = 1;
      return 0;
   }
   for (size_t i = 1; i < n; i++) {
      if (i >= len || s[i] < lo || s[i] > hi) {
         *skip = i;
         return 0;
      }
      lo = 0x80;
      hi = 0xBF;
   }
   return n;
}

/* The JSON escape for an ASCII byte into `esc`; 0 when it needs none. */
static size_t
json_escape (uint8_t c, char esc[6])
{
   static const char short_forms[] = "\"\"\\\\\nn\rr\tt\bb\ff";

   for (size_t i = 0; i < sizeof short_forms - 1; i += 2) {
      if ((char) c == short_forms[i]) {
         esc[0] = '\\';
         esc[1] = short_forms[i + 1];
         return 2;
      }
   }
   if (c >= 0x20) {
      return 0;
   }
   memcpy (esc, "\\u00", 4);
   esc[4] = hex_digits[c >> 4];
   esc[5] = hex_digits[c & 0xF];
   return 6;
}

/* What each byte is, for the scans below: one table load a byte instead of
 * a chain of compares. */
enum {
   BYTE_HIGH = 1,     /* >= 0x80: starts or continues a UTF-8 sequence */
   BYTE_ESCAPE = 2,   /* JSON escapes it: control bytes, NUL, '"', '\' */
   BYTE_NUL = 4,      /* the raw form replaces it */
   BYTE_NOT_BARE = 8, /* ASCII that needs quotes in key=value output */
};

#define BYTE_CLASS(c)                                                                    \
   (uint8_t) (((c) >= 0x80 ? BYTE_HIGH : 0) |                                            \
              ((c) < 0x20 || (c) == '"' || (c) == '\\' ? BYTE_ESCAPE : 0) |             \
              ((c) == 0 ? BYTE_NUL : 0) |                                                \
              ((c) <= ' ' || (c) == 0x7F || (c) == '"' || (c) == '=' || (c) == '\\'     \
                  ? BYTE_NOT_BARE                                                        \
                  : 0))
#define BYTE_ROW(r)                                                                      \
   BYTE_CLASS (r + 0x0), BYTE_CLASS (r + 0x1), BYTE_CLASS (r + 0x2), BYTE_CLASS (r + 0x3), \
      BYTE_CLASS (r + 0x4), BYTE_CLASS (r + 0x5), BYTE_CLASS (r + 0x6),                  \
      BYTE_CLASS (r + 0x7), BYTE_CLASS (r + 0x8), BYTE_CLASS (r + 0x9),                  \
      BYTE_CLASS (r + 0xA), BYTE_CLASS (r + 0xB), BYTE_CLASS (r + 0xC),                  \
      BYTE_CLASS (r + 0xD), BYTE_CLASS (r + 0xE), BYTE_CLASS (r + 0xF)

static const uint8_t byte_class[256] = {
   BYTE_ROW (0x00), BYTE_ROW (0x10), BYTE_ROW (0x20), BYTE_ROW (0x30),
   BYTE_ROW (0x40), BYTE_ROW (0x50), BYTE_ROW (0x60), BYTE_ROW (0x70),
   BYTE_ROW (0x80), BYTE_ROW (0x90), BYTE_ROW (0xA0), BYTE_ROW (0xB0),
   BYTE_ROW (0xC0), BYTE_ROW (0xD0), BYTE_ROW (0xE0), BYTE_ROW (0xF0),
};

/* Copies the bytes of `s` up to the first one whose class is in `stop`,
 * checking and copying each in one pass; returns how many it copied.
 * (Eight bytes at a time, SWAR, was tried: no faster on names and values
 * this short.) */
static inline size_t
copy_plain (mwatch_buf_t *out, const uint8_t *s, size_t len, uint8_t stop)
{
   if (out->len + len >= out->cap) {
      _mwatch_buf_grow (out, len);
   }
   char *dst = out->data + out->len;
   size_t i = 0;

   while (i < len && !(byte_class[s[i]] & stop)) {
      dst[i] = (char) s[i];
      i++;
   }
   out->len += i;
   out->data[out->len] = '\0';
   return i;
}

/* Copies runs of bytes that need no change in one append each, from
 * `i` on: the first `i` bytes are plain and already copied. */
static void
write_text_rest (mwatch_buf_t *out, const char *str, size_t len, size_t i, bool json)
{
   const uint8_t *s = (const uint8_t *) str;
   const uint8_t stop = BYTE_HIGH | (json ? BYTE_ESCAPE : BYTE_NUL);
   size_t run = i;

   while (i < len) {
      if (!(byte_class[s[i]] & stop)) {
         i++;
         continue;
      }

      const char *rep;
      size_t rep_len;
      size_t skip = 1;
      char esc[6];

      if (s[i] >= 0x80) {
         size_t n = _mwatch_utf8_next (s + i, len - i, &skip);
         if (n > 0) {
            i += n;
            continue;
         }
         rep = json ? "\\ufffd" : "\xEF\xBF\xBD";
         rep_len = json ? 6 : 3;
      } else if (json) {
         rep_len = json_escape (s[i], esc);
         rep = esc;
      } else {
         rep = "\xEF\xBF\xBD";
         rep_len = 3;
      }
      _mwatch_buf_put (out, str + run, i - run);
      _mwatch_buf_put (out, rep, rep_len);
      i += skip;
      run = i;
   }
   _mwatch_buf_put (out, str + run, len - run);
}

/* Most text is plain: copied while it is checked, and done. */
static inline void
write_text (mwatch_buf_t *out, const char *str, size_t len, bool json)
{
   uint8_t stop = BYTE_HIGH | (json ? BYTE_ESCAPE : BYTE_NUL);
   size_t plain = copy_plain (out, (const uint8_t *) str, len, stop);

   if (plain < len) {
      write_text_rest (out, str, len, plain, json);
   }
}

void
_mwatch_json_string (mwatch_buf_t *out, const char *str, size_t len)
{
   _mwatch_buf_putc (out, '"');
   write_text (out, str, len, true);
   _mwatch_buf_putc (out, '"');
}

void
_mwatch_json_raw (mwatch_buf_t *out, const char *str, size_t len)
{
   write_text (out, str, len, false);
}

void
_mwatch_text_string (mwatch_buf_t *out, const char *str, size_t len)
{
   size_t start = out->len;

   /* Plain ASCII, the usual case, is checked and copied in one pass. */
   if (len > 0 && copy_plain (out, (const uint8_t *) str, len, BYTE_HIGH | BYTE_NOT_BARE) == len) {
      return;
   }
   out->len = start;
   if (_mwatch_text_is_bare (str, len)) {
      _mwatch_buf_put (out, str, len);
   } else {
      _mwatch_json_string (out, str, len);
   }
}

bool
_mwatch_text_is_bare (const char *str, size_t len)
{
   const uint8_t *s = (const uint8_t *) str;
   size_t i = 0;

   if (len == 0) {
      return false;
   }
   while (i < len) {
      uint8_t cls = byte_class[s[i]];
      if (!cls) {
         i++;
         continue;
      }
      size_t skip;
      size_t n = cls & BYTE_HIGH ? _mwatch_utf8_next (s + i, len - i, &skip) : 0;
      if (n == 0) {
         return false;
      }
      i += n;
   }
   return true;
}

/* ---------------------------------------------------------------- numbers */

void
_mwatch_json_int64 (mwatch_buf_t *out, int64_t value)
{
   if (value < 0) {
      _mwatch_buf_putc (out, '-');
   }
   /* Negate as unsigned: -INT64_MIN does not fit in an int64_t. */
   put_uint (out, value < 0 ? 0 - (uint64_t) value : (uint64_t) value, 1);
}

static const char *
non_finite_name (double value)
{
   return isnan (value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}

/* The slow, general way: the shortest of %.15g, %.16g and %.17g that
 * reads back, found by trying each. */
void
_mwatch_text_double_printf (mwatch_buf_t *out, double value)
{
   char buf[40];
   char norm[40];
   size_t n = 0;
   bool integral = true;

   for (int prec = 15;; prec++) {
      snprintf (buf, sizeof buf, "%.*g", prec, value);
      if (prec == 17 || strtod (buf, NULL) == value) {
         break;
      }
   }
   /* printf and strtod agree on the locale's decimal point, which may be
    * ',' or even several bytes: whatever it is, write '.'. */
   for (const char *p = buf; *p; p++) {
      if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == 'e') {
         integral = integral && *p != 'e';
         norm[n++] = *p;
      } else if (n == 0 || norm[n - 1] != '.') {
         integral = false;
         norm[n++] = '.';
      }
   }
   _mwatch_buf_put (out, norm, n);
   if (integral) {
      PUT_LIT (out, ".0");
   }
}

/* The fast, exact way for the doubles a log mostly holds, durations of
 * whole microseconds: `value` == n / 1e6 for an integer n with |value| <
 * 1e9.  Returns false, writing nothing, for any other value.
 *
 * Why it writes what _mwatch_text_double_printf() writes: n has at most 15
 * digits, and `value`, the double nearest to n * 10^-6 (division is
 * correctly rounded), is within half a unit of the 53rd bit of it, far
 * less than half a unit of the 15th digit.  So %.15g shows exactly the
 * digits of n * 10^-6, which strtod reads back to `value`, and %.15g is
 * the form chosen.  Its notation: scientific below 1e-4 (n < 100), plain
 * up to 1e15, which `value` never reaches; trailing zeros dropped. */
static bool
write_double_micros (mwatch_buf_t *out, double value)
{
   if (!(value > -1e9 && value < 1e9)) {
      return false;
   }
   /* Within about 0.25 of n below 1e9, so rounding finds n; the check
    * below makes sure `value` is exactly what n / 1e6 gives. */
   double scaled = value * 1e6;
   int64_t n = (int64_t) (scaled < 0 ? scaled - 0.5 : scaled + 0.5);
   if ((double) n / 1e6 != value) {
      return false;
   }
   if (n == 0) {
      /* 0.0 or -0.0 */
      _mwatch_buf_put (out, signbit (value) ? "-0.0" : "0.0", signbit (value) ? 4 : 3);
      return true;
   }
   uint64_t u = n < 0 ? 0 - (uint64_t) n : (uint64_t) n;
   char text[32];
   char *p = text;

   if (n < 0) {
      *p++ = '-';
   }
   if (u < 100) {
      /* 1e-06 to 9.9e-05 */
      uint64_t lead = u < 10 ? u : u / 10;
      uint64_t next = u < 10 ? 0 : u % 10;
      *p++ = (char) ('0' + lead);
      if (next) {
         *p++ = '.';
         *p++ = (char) ('0' + next);
      }
      memcpy (p, u < 10 ? "e-06" : "e-05", 4);
      p += 4;
   } else {
      uint64_t whole = u / 1000000;
      uint32_t frac = (uint32_t) (u % 1000000);
      char digits[20];
      char *d = digits + sizeof digits;
      do {
         *--d = (char) ('0' + whole % 10);
         whole /= 10;
      } while (whole);
      memcpy (p, d, (size_t) (digits + sizeof digits - d));
      p += digits + sizeof digits - d;
      *p++ = '.';
      if (frac == 0) {
         *p++ = '0';
      } else {
         for (uint32_t unit = 100000; frac; unit /= 10) {
            *p++ = (char) ('0' + frac / unit);
            frac %= unit;
         }
      }
   }
   _mwatch_buf_put (out, text, (size_t) (p - text));
   return true;
}

static void
write_finite_double (mwatch_buf_t *out, double value)
{
   if (!write_double_micros (out, value)) {
      _mwatch_text_double_printf (out, value);
   }
}

void
_mwatch_text_double (mwatch_buf_t *out, double value)
{
   if (isfinite (value)) {
      write_finite_double (out, value);
   } else {
      mwatch_buf_append_str (out, non_finite_name (value));
   }
}

void
_mwatch_json_double (mwatch_buf_t *out, double value)
{
   if (isfinite (value)) {
      write_finite_double (out, value);
      return;
   }
   PUT_LIT (out, "{\"$numberDouble\":\"");
   mwatch_buf_append_str (out, non_finite_name (value));
   PUT_LIT (out, "\"}");
}

/* ---------------------------------------------------------------- times */

/* `secs` since the epoch as ISO-8601 UTC with a fraction of `digits`
 * digits; `frac` is already in [0, 10^digits). */
static void
write_iso (mwatch_buf_t *out, int64_t secs, uint64_t frac, int digits)
{
   time_t t = (time_t) secs;
   struct tm tm;

   if ((int64_t) t != secs || !gmtime_r (&t, &tm)) {
      /* Only where time_t is 32 bits: better a number than a wrong date. */
      _mwatch_json_int64 (out, secs);
      return;
   }
   int64_t year = (int64_t) tm.tm_year + 1900;
   if (year < 0) {
      _mwatch_buf_putc (out, '-');
   }
   put_uint (out, (uint64_t) (year < 0 ? -year : year), 4);
   const int parts[] = {tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
   const char seps[] = "-T::";
   for (size_t i = 0; i < 5; i++) {
      _mwatch_buf_putc (out, i == 0 ? '-' : seps[i - 1]);
      put_uint (out, (uint64_t) parts[i], 2);
   }
   _mwatch_buf_putc (out, '.');
   put_uint (out, frac, digits);
   _mwatch_buf_putc (out, 'Z');
}

/* Splits `value` in units of 1/`per_sec` s into whole seconds rounded down
 * and a non-negative remainder, so times before 1970 read naturally. */
static void
write_iso_units (mwatch_buf_t *out, int64_t value, int64_t per_sec, int digits)
{
   int64_t secs = value / per_sec;
   int64_t frac = value % per_sec;
   if (frac < 0) {
      frac += per_sec;
      secs--;
   }
   write_iso (out, secs, (uint64_t) frac, digits);
}

void
_mwatch_text_datetime (mwatch_buf_t *out, int64_t us)
{
   write_iso_units (out, us, 1000000, 6);
}

/* ---------------------------------------------------------------- BSON */

static void
write_value (mwatch_buf_t *out, const bson_value_t *v, int depth);

static void
write_doc (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array, int depth)
{
   bson_iter_t iter;

   if (depth >= MAX_DEPTH) {
      PUT_LIT (out, "\"...\"");
      return;
   }
   _mwatch_buf_putc (out, is_array ? '[' : '{');
   if (bson_iter_init_from_data (&iter, data, len)) {
      bool first = true;
      while (bson_iter_next (&iter)) {
         if (!first) {
            _mwatch_buf_putc (out, ',');
         }
         first = false;
         if (!is_array) {
            _mwatch_json_string (out, bson_iter_key (&iter), bson_iter_key_len (&iter));
            _mwatch_buf_putc (out, ':');
         }
         write_value (out, bson_iter_value (&iter), depth + 1);
      }
   }
   _mwatch_buf_putc (out, is_array ? ']' : '}');
}

static void
write_base64 (mwatch_buf_t *out, const uint8_t *data, size_t len)
{
   static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

   for (size_t i = 0; i < len; i += 3) {
      size_t rest = len - i;
      uint32_t bits = (uint32_t) data[i] << 16;
      bits |= rest > 1 ? (uint32_t) data[i + 1] << 8 : 0;
      bits |= rest > 2 ? data[i + 2] : 0;
      char quad[4] = {
         alphabet[bits >> 18],
         alphabet[(bits >> 12) & 63],
         rest > 1 ? alphabet[(bits >> 6) & 63] : '=',
         rest > 2 ? alphabet[bits & 63] : '=',
      };
      _mwatch_buf_put (out, quad, 4);
   }
}

static void
write_oid (mwatch_buf_t *out, const bson_oid_t *oid)
{
   char hex[25];
   bson_oid_to_string (oid, hex);
   PUT_LIT (out, "{\"$oid\":\"");
   _mwatch_buf_put (out, hex, 24);
   PUT_LIT (out, "\"}");
}

/* The shape of most extended JSON wrappers: {"$code":"..."} and the like. */
static void
write_wrapped (mwatch_buf_t *out,
               const char *prefix,
               const char *str,
               size_t len,
               const char *suffix)
{
   mwatch_buf_append_str (out, prefix);
   _mwatch_json_string (out, str, len);
   mwatch_buf_append_str (out, suffix);
}

static void
write_date (mwatch_buf_t *out, int64_t ms)
{
   if (ms >= 0 && ms <= MAX_ISO_DATE_MS) {
      PUT_LIT (out, "{\"$date\":\"");
      write_iso_units (out, ms, 1000, 3);
      PUT_LIT (out, "\"}");
   } else {
      PUT_LIT (out, "{\"$date\":{\"$numberLong\":\"");
      _mwatch_json_int64 (out, ms);
      PUT_LIT (out, "\"}}");
   }
}

static void
write_value (mwatch_buf_t *out, const bson_value_t *v, int depth)
{
   switch (v->value_type) {
   case BSON_TYPE_DOUBLE:
      _mwatch_json_double (out, v->value.v_double);
      break;
   case BSON_TYPE_UTF8:
      _mwatch_json_string (out, v->value.v_utf8.str, v->value.v_utf8.len);
      break;
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY:
      write_doc (out,
                 v->value.v_doc.data,
                 v->value.v_doc.data_len,
                 v->value_type == BSON_TYPE_ARRAY,
                 depth);
      break;
   case BSON_TYPE_BINARY: {
      uint8_t subtype = (uint8_t) v->value.v_binary.subtype;
      char sub[2] = {hex_digits[subtype >> 4], hex_digits[subtype & 0xF]};
      PUT_LIT (out, "{\"$binary\":{\"base64\":\"");
      write_base64 (out, v->value.v_binary.data, v->value.v_binary.data_len);
      PUT_LIT (out, "\",\"subType\":\"");
      _mwatch_buf_put (out, sub, 2);
      PUT_LIT (out, "\"}}");
      break;
   }
   case BSON_TYPE_UNDEFINED:
      PUT_LIT (out, "{\"$undefined\":true}");
      break;
   case BSON_TYPE_OID:
      write_oid (out, &v->value.v_oid);
      break;
   case BSON_TYPE_BOOL:
      mwatch_buf_append_str (out, v->value.v_bool ? "true" : "false");
      break;
   case BSON_TYPE_DATE_TIME:
      write_date (out, v->value.v_datetime);
      break;
   case BSON_TYPE_REGEX:
      write_wrapped (out,
                     "{\"$regularExpression\":{\"pattern\":",
                     v->value.v_regex.regex,
                     strlen (v->value.v_regex.regex),
                     ",\"options\":");
      write_wrapped (
         out, "", v->value.v_regex.options, strlen (v->value.v_regex.options), "}}");
      break;
   case BSON_TYPE_DBPOINTER:
      write_wrapped (out,
                     "{\"$dbPointer\":{\"$ref\":",
                     v->value.v_dbpointer.collection,
                     v->value.v_dbpointer.collection_len,
                     ",\"$id\":");
      write_oid (out, &v->value.v_dbpointer.oid);
      PUT_LIT (out, "}}");
      break;
   case BSON_TYPE_CODE:
      write_wrapped (out, "{\"$code\":", v->value.v_code.code, v->value.v_code.code_len, "}");
      break;
   case BSON_TYPE_SYMBOL:
      write_wrapped (
         out, "{\"$symbol\":", v->value.v_symbol.symbol, v->value.v_symbol.len, "}");
      break;
   case BSON_TYPE_CODEWSCOPE:
      write_wrapped (out,
                     "{\"$code\":",
                     v->value.v_codewscope.code,
                     v->value.v_codewscope.code_len,
                     ",\"$scope\":");
      write_doc (out,
                 v->value.v_codewscope.scope_data,
                 v->value.v_codewscope.scope_len,
                 false,
                 depth);
      _mwatch_buf_putc (out, '}');
      break;
   case BSON_TYPE_INT32:
      _mwatch_json_int64 (out, v->value.v_int32);
      break;
   case BSON_TYPE_TIMESTAMP:
      PUT_LIT (out, "{\"$timestamp\":{\"t\":");
      put_uint (out, v->value.v_timestamp.timestamp, 1);
      PUT_LIT (out, ",\"i\":");
      put_uint (out, v->value.v_timestamp.increment, 1);
      PUT_LIT (out, "}}");
      break;
   case BSON_TYPE_INT64:
      _mwatch_json_int64 (out, v->value.v_int64);
      break;
   case BSON_TYPE_DECIMAL128: {
      char dec[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string (&v->value.v_decimal128, dec);
      PUT_LIT (out, "{\"$numberDecimal\":\"");
      mwatch_buf_append_str (out, dec);
      PUT_LIT (out, "\"}");
      break;
   }
   case BSON_TYPE_MAXKEY:
      PUT_LIT (out, "{\"$maxKey\":1}");
      break;
   case BSON_TYPE_MINKEY:
      PUT_LIT (out, "{\"$minKey\":1}");
      break;
   case BSON_TYPE_NULL:
   case BSON_TYPE_EOD:
   default:
      PUT_LIT (out, "null");
      break;
   }
}

/* ------------------------------------------------------------- BSON, fast
 *
 * The usual filter holds strings, numbers, booleans, dates, ObjectIds and
 * documents, well formed.  For such a document libbson's iterator, with
 * its checks and calls per element, is most of the cost of writing it, so
 * this reads the elements itself and hands each to write_value(), as
 * write_doc() does.  It takes only what libbson's iterator reads to the
 * end, element by element, the same way (see bson_iter_next): lengths
 * within the document, strings ending with their NUL, booleans 0 or 1,
 * every embedded document itself well formed, the last element ending at
 * the terminating NUL.  Anything else (another type, a document libbson
 * would stop early in) makes it give up, and write_doc() writes the whole
 * document instead, as it always did. */

static uint32_t
read_le32 (const uint8_t *p)
{
   return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
          (uint32_t) p[3] << 24;
}

static uint64_t
read_le64 (const uint8_t *p)
{
   return (uint64_t) read_le32 (p) | (uint64_t) read_le32 (p + 4) << 32;
}

/* The value of `type` at `p` with `room` bytes before the document's
 * terminator; its size in *size.  False for a type not read here or a
 * value that does not fit. */
static bool
read_scalar (uint8_t type, const uint8_t *p, size_t room, bson_value_t *v, size_t *size)
{
   static const uint8_t sizes[] = {
      [BSON_TYPE_DOUBLE] = 8,
      [BSON_TYPE_UTF8] = 4,
      [BSON_TYPE_OID] = 12,
      [BSON_TYPE_BOOL] = 1,
      [BSON_TYPE_DATE_TIME] = 8,
      [BSON_TYPE_NULL] = 0,
      [BSON_TYPE_INT32] = 4,
      [BSON_TYPE_INT64] = 8,
   };

   if (type >= sizeof sizes || (type != BSON_TYPE_NULL && sizes[type] == 0) ||
       room < sizes[type]) {
      return false;
   }
   v->value_type = (bson_type_t) type;
   *size = sizes[type];
   switch (type) {
   case BSON_TYPE_DOUBLE: {
      uint64_t bits = read_le64 (p);
      memcpy (&v->value.v_double, &bits, sizeof bits);
      break;
   }
   case BSON_TYPE_UTF8: {
      uint32_t l = read_le32 (p);
      /* The length counts the NUL, which ends the string. */
      if (l == 0 || l > room - 4 || p[4 + l - 1] != '\0') {
         return false;
      }
      v->value.v_utf8.str = (char *) p + 4;
      v->value.v_utf8.len = l - 1;
      *size = 4 + (size_t) l;
      break;
   }
   case BSON_TYPE_OID:
      memcpy (v->value.v_oid.bytes, p, 12);
      break;
   case BSON_TYPE_BOOL:
      if (p[0] > 1) {
         return false;
      }
      v->value.v_bool = p[0] == 1;
      break;
   case BSON_TYPE_DATE_TIME:
      v->value.v_datetime = (int64_t) read_le64 (p);
      break;
   case BSON_TYPE_INT32:
      v->value.v_int32 = (int32_t) read_le32 (p);
      break;
   case BSON_TYPE_INT64:
      v->value.v_int64 = (int64_t) read_le64 (p);
      break;
   default: /* BSON_TYPE_NULL */
      break;
   }
   return true;
}

/* Writes the document as write_doc() would and returns true, or returns
 * false having written some of it. */
static bool
write_doc_fast (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array, int depth)
{
   /* What bson_iter_init_from_data() checks, and depth as write_doc(). */
   if (depth >= MAX_DEPTH || len < 5 || len > INT32_MAX || read_le32 (data) != len ||
       data[len - 1] != '\0') {
      return false;
   }
   size_t end = len - 1; /* the terminator */
   size_t o = 4;

   _mwatch_buf_putc (out, is_array ? '[' : '{');
   while (o < end) {
      uint8_t type = data[o];
      const uint8_t *key = data + o + 1;
      const uint8_t *key_end = memchr (key, '\0', end - (o + 1));
      if (!key_end) {
         return false;
      }
      size_t at = (size_t) (key_end + 1 - data); /* the value */
      size_t room = end - at;
      if (o > 4) {
         _mwatch_buf_putc (out, ',');
      }
      if (!is_array) {
         _mwatch_json_string (out, (const char *) key, (size_t) (key_end - key));
         _mwatch_buf_putc (out, ':');
      }
      if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
         uint32_t l = room >= 4 ? read_le32 (data + at) : 0;
         if (room < 4 || l > room ||
             !write_doc_fast (out, data + at, l, type == BSON_TYPE_ARRAY, depth + 1)) {
            return false;
         }
         o = at + l;
      } else {
         bson_value_t v;
         size_t size;
         if (!read_scalar (type, data + at, room, &v, &size)) {
            return false;
         }
         write_value (out, &v, depth + 1);
         o = at + size;
      }
   }
   _mwatch_buf_putc (out, is_array ? ']' : '}');
   return true;
}

void
_mwatch_json_bson_data_iter (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array)
{
   write_doc (out, data, len, is_array, 0);
}

void
_mwatch_json_bson_data (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array)
{
   size_t start = out->len;

   if (!write_doc_fast (out, data, len, is_array, 0)) {
      out->len = start;
      write_doc (out, data, len, is_array, 0);
   }
}

void
_mwatch_json_bson_value (mwatch_buf_t *out, const bson_value_t *value)
{
   write_value (out, value, 0);
}

void
_mwatch_json_bson_iter (mwatch_buf_t *out, const bson_iter_t *iter)
{
   /* bson_iter_value() stores into the iterator; work on a copy. */
   bson_iter_t copy = *iter;
   write_value (out, bson_iter_value (&copy), 0);
}
