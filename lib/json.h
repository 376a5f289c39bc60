/* Internal: text writers shared by the renderings and the formatters.
 *
 * Every writer appends to an mwatch_buf_t and allocates nothing but the
 * buffer's own growth, so a reused buffer makes rendering allocation-free.
 * Invalid UTF-8 is never passed through: each maximal ill-formed
 * subsequence (as Unicode recommends) becomes one U+FFFD. */
#ifndef MWATCH_JSON_H
#define MWATCH_JSON_H

#include "mongowatch.h"

#include <string.h>

/* ---------------------------------------------------------------- buffer
 * (in buf.c)
 *
 * The writers append many short pieces per line: these inline forms of
 * mwatch_buf_append() cost a compare and a copy when the buffer has room,
 * which once it has seen its longest line it always has. */

/* Makes room for `extra` more bytes plus the terminator. */
void
_mwatch_buf_grow (mwatch_buf_t *buf, size_t extra);

static inline void
_mwatch_buf_put (mwatch_buf_t *buf, const char *data, size_t len)
{
   if (buf->len + len >= buf->cap) {
      _mwatch_buf_grow (buf, len);
   }
   if (len) {
      memcpy (buf->data + buf->len, data, len);
   }
   buf->len += len;
   buf->data[buf->len] = '\0';
}

static inline void
_mwatch_buf_putc (mwatch_buf_t *buf, char c)
{
   if (buf->len + 1 >= buf->cap) {
      _mwatch_buf_grow (buf, 1);
   }
   buf->data[buf->len++] = c;
   buf->data[buf->len] = '\0';
}

/* A string literal. */
#define MWATCH_BUF_PUT_LIT(buf, lit) _mwatch_buf_put ((buf), (lit), sizeof (lit) - 1)

/* ---------------------------------------------------------------- text */

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

/* True when the text can stand unquoted in key=value output: non-empty,
 * well-formed UTF-8, with no space, '"', '=', '\', NUL or control byte. */
bool
_mwatch_text_is_bare (const char *str, size_t len);

/* The text as it is when _mwatch_text_is_bare(), otherwise as a JSON
 * string: how key=value output writes names and strings.  Quoting keeps
 * "a b" from reading as two fields, and "" keeps an empty value visible. */
void
_mwatch_text_string (mwatch_buf_t *out, const char *str, size_t len);

/* ---------------------------------------------------------------- numbers */

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

/* ---------------------------------------------------------------- times */

/* ISO-8601 UTC with microseconds, unquoted: 2026-11-25T11:40:00.123456Z.
 * Times before 1970 round down, so -1 is 1969-12-31T23:59:59.999999Z. */
void
_mwatch_text_datetime (mwatch_buf_t *out, int64_t us);

/* ---------------------------------------------------------------- BSON */

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

/* ---------------------------------------------------------------- values
 * (in render.c) */

/* A value as in the key=value renderings. */
void
_mwatch_render_value_text (mwatch_buf_t *out, const mwatch_value_t *value);

/* A value as a CSV cell's content, before the cell is quoted. */
void
_mwatch_render_value_csv (mwatch_buf_t *out, const mwatch_value_t *value);

/* `len` bytes of text as one CSV cell: U+FFFD for what is not UTF-8,
 * line breaks escaped when `escape` (see _mwatch_message_render_csv_ex),
 * quoted when RFC 4180 requires it. */
void
_mwatch_render_csv_cell (mwatch_buf_t *out, const char *text, size_t len, bool escape);

/* mwatch_message_render_csv(), with each cell's line breaks written as
 * the two characters \n and \r and each backslash doubled when `escape`
 * (a formatter's csv_escape_newlines): every record on one physical line,
 * for shippers that read a line at a time. */
void
_mwatch_message_render_csv_ex (const mwatch_message_t *msg,
                               const char *const *columns,
                               bool escape,
                               mwatch_buf_t *out);

/* A value as JSON, as in mwatch_message_render_json(). */
void
_mwatch_render_value_json (mwatch_buf_t *out, const mwatch_value_t *value);

#endif /* MWATCH_JSON_H */
