/* Internal: text writers shared by the renderings and the formatters
 * (json-*.c).
 *
 * Every writer appends to an mwatch_buf_t and allocates nothing but the
 * buffer's own growth, so a reused buffer makes rendering allocation-free.
 * Invalid UTF-8 is never passed through: each maximal ill-formed
 * subsequence (as Unicode recommends) becomes one U+FFFD.  None of them
 * allocates, unlike bson_as_relaxed_extended_json(), which builds a new
 * string per call. */
#ifndef MWATCH_JSON_PRIVATE_H
#define MWATCH_JSON_PRIVATE_H

#include "buf-private.h"

/* ---------------------------------------------------------------- text
 * (json-text.c) */

/* The length of the well-formed UTF-8 sequence at `s`, or 0 when the bytes
 * there are ill-formed; then *skip is how many bytes one U+FFFD replaces.
 * `len` must be at least 1. */
size_t
_mwatch_utf8_next (const uint8_t *s, size_t len, size_t *skip);

/* A quoted JSON string: '"' and '\' escaped, control characters and NUL as
 * \n, \u0001 and the like, ill-formed UTF-8 as \ufffd. */
void
_mwatch_json_string (mwatch_buf_t *out, const char *str, size_t len);

/* The text as it is, except that NUL and ill-formed UTF-8 become U+FFFD
 * (the bytes EF BF BD); for CSV, where quoting is done on the whole cell. */
void
_mwatch_json_raw (mwatch_buf_t *out, const char *str, size_t len);

/* A BSON document's key, which ends with a NUL within `max` bytes of
 * `key`, as a JSON string followed by ':'.  Returns the key's length, or
 * `max`, having written nothing, when no NUL ends it there. */
size_t
_mwatch_json_key (mwatch_buf_t *out, const uint8_t *key, size_t max);

/* True when the text can stand unquoted in key=value output: non-empty,
 * well-formed UTF-8, with no space, '"', '=', '\', NUL or control byte. */
bool
_mwatch_text_is_bare (const char *str, size_t len);

/* The text as it is when _mwatch_text_is_bare(), otherwise as a JSON
 * string: how key=value output writes names and strings.  Quoting keeps
 * "a b" from reading as two fields, and "" keeps an empty value visible. */
void
_mwatch_text_string (mwatch_buf_t *out, const char *str, size_t len);

/* ---------------------------------------------------------------- numbers
 * (json-number.c) */

/* "00" to "99", one after the other: two digits per division. */
extern const char _mwatch_digit_pairs[200];

/* Writes `value` as exactly `digits` decimal digits at `p` (leading
 * zeros; `value` < 10^digits), two at a time: a division by 100 per pair
 * instead of one by 10 per digit. */
static inline void
_mwatch_put_digits (char *p, uint64_t value, size_t digits)
{
   while (digits >= 2) {
      digits -= 2;
      memcpy (p + digits, &_mwatch_digit_pairs[2 * (value % 100)], 2);
      value /= 100;
   }
   if (digits) {
      p[0] = (char) ('0' + value);
   }
}

/* `value` in decimal, zero-padded to at least `width` digits. */
void
_mwatch_text_uint (mwatch_buf_t *out, uint64_t value, int width);

void
_mwatch_json_int64 (mwatch_buf_t *out, int64_t value);

/* The shortest of %.15g, %.16g and %.17g that reads back to `value`, always
 * recognisable as a double ("1.0", "1e+300", "-0.0") and independent of the
 * locale's decimal point.  Non-finite values are written as "NaN",
 * "Infinity" and "-Infinity". */
void
_mwatch_text_double (mwatch_buf_t *out, double value);

/* How _mwatch_text_double() writes a finite value that its fast path does
 * not take: general, by printf and strtod, and slow.  The fast path must
 * write exactly what this writes; the unit tests compare the two. */
void
_mwatch_text_double_printf (mwatch_buf_t *out, double value);

/* As _mwatch_text_double(), but non-finite values as relaxed extended JSON:
 * {"$numberDouble":"NaN"}. */
void
_mwatch_json_double (mwatch_buf_t *out, double value);

/* ---------------------------------------------------------------- times
 * (json-date.c) */

/* ISO-8601 UTC with microseconds, unquoted: 2026-11-25T11:40:00.123456Z.
 * Times before 1970 round down, so -1 is 1969-12-31T23:59:59.999999Z. */
void
_mwatch_text_datetime (mwatch_buf_t *out, int64_t us);

/* The same with milliseconds: 2026-11-25T11:40:00.123Z. */
void
_mwatch_text_datetime_ms (mwatch_buf_t *out, int64_t ms);

/* _mwatch_text_datetime() the general way, through gmtime_r, whatever
 * the year: the reference its fast path is tested against. */
void
_mwatch_text_datetime_gmtime (mwatch_buf_t *out, int64_t us);

/* ---------------------------------------------------------------- BSON
 * (json-bson.c, and its fast path json-bson-scan.c) */

/* Nesting deeper than libbson's own JSON limit is cut off, so that a
 * hostile document cannot exhaust the stack of a logging thread. */
#define MWATCH_JSON_MAX_DEPTH 200

/* Compact relaxed extended JSON v2 (no whitespace).  A document or array
 * that is not valid BSON is written as far as it can be read; nesting
 * deeper than 200 levels is written as the string "...". */
void
_mwatch_json_bson_data (mwatch_buf_t *out,
                        const uint8_t *data,
                        size_t len,
                        bool is_array);

/* How _mwatch_json_bson_data() writes a document its fast path does not
 * take: element by element through libbson's iterator.  The fast path
 * must write exactly what this writes; the unit tests compare the two. */
void
_mwatch_json_bson_data_iter (mwatch_buf_t *out,
                             const uint8_t *data,
                             size_t len,
                             bool is_array);

void
_mwatch_json_bson_value (mwatch_buf_t *out, const bson_value_t *value);

/* The element under `iter`. */
void
_mwatch_json_bson_iter (mwatch_buf_t *out, const bson_iter_t *iter);

/* A BSON document's little-endian integers at `p`, whatever the host's
 * byte order and alignment: for the walks over a document's bytes
 * (json-bson-scan.c; watch-collection.c's reading of a reply's counts). */
static inline uint32_t
_mwatch_bson_le32 (const uint8_t *p)
{
   return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
          (uint32_t) p[3] << 24;
}

static inline uint64_t
_mwatch_bson_le64 (const uint8_t *p)
{
   return (uint64_t) _mwatch_bson_le32 (p) | (uint64_t) _mwatch_bson_le32 (p + 4) << 32;
}

#endif /* MWATCH_JSON_PRIVATE_H */
