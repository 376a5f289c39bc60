/* Format specs, a subset of Python's mini-language:
 * [[fill]align][sign][0][width][.precision][type].
 *
 * Every writer here formats straight into the caller's buffer and pads in
 * place, so a field costs no allocation beyond the buffer's own growth.
 * Widths and precisions count characters (UTF-8 sequences), not bytes.
 *
 * Where Python would raise at format time we cannot, since a {watch.F}
 * field's type is known only when a record comes and a log line must
 * never fail:
 *   - "d" on a double rounds it to an integer (half to even);
 *   - a precision with "d" (or no type) on an integer is ignored;
 *   - a numeric type on text (or a bool, a date, a document) is ignored,
 *     and so is the precision then: only fill, align and width apply;
 *   - "s" on a number formats its default text as text.
 * For record attributes, whose types are fixed, such specs are refused at
 * compile time instead. */
#include "formatter-private.h"
#include "json-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- parsing */

static bool
is_align (char c)
{
   return c == '<' || c == '>' || c == '^';
}

static bool
is_number_type (char c)
{
   return c != '\0' && strchr ("dfFeEgG%", c) != NULL;
}

/* Reads decimal digits at text[*i]: -1 when there are none; any value
 * above MWATCH_SPEC_MAX stays above it without overflowing. */
static int
read_number (const char *text, size_t len, size_t *i)
{
   int value = -1;

   while (*i < len && text[*i] >= '0' && text[*i] <= '9') {
      int digit = text[(*i)++] - '0';
      value = value < 0 ? digit : value > MWATCH_SPEC_MAX ? value : value * 10 + digit;
   }
   return value;
}

/* Says why the character at text[i] cannot stand there. */
static void
explain_leftover (
   const char *text, size_t len, size_t i, bool typed, char *why, size_t why_size)
{
   char c = text[i];
   size_t skip = 1;
   size_t n = _mwatch_utf8_next ((const uint8_t *) text + i, len - i, &skip);

   if (c == '=' || (i == 0 && n > 0 && n < len && text[n] == '=')) {
      snprintf (why, why_size, "alignment \"=\" is not supported; use <, > or ^");
   } else if (c == ',' || c == '_') {
      snprintf (why, why_size, "grouping with \"%c\" is not supported", c);
   } else if (c == '#' || c == 'z') {
      snprintf (why, why_size, "the \"%c\" option is not supported", c);
   } else if (!typed && i + 1 == len && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      snprintf (why, why_size, "unknown type \"%c\"", c);
   } else {
      snprintf (why, why_size, "unexpected \"%.*s\"", (int) (n ? n : skip), text + i);
   }
}

/* Refuses what cannot apply to a record attribute of a fixed type. */
static bool
check_class (const mwatch_fmt_spec_t *spec, mwatch_fmt_class_t cls, char *why, size_t why_size)
{
   if (cls == MWATCH_FMT_TEXT && spec->sign) {
      snprintf (why, why_size, "a sign is only for numbers, and this field is text");
   } else if (cls == MWATCH_FMT_TEXT && is_number_type (spec->type)) {
      snprintf (why, why_size, "type \"%c\" is for numbers, and this field is text", spec->type);
   } else if ((cls == MWATCH_FMT_INT || cls == MWATCH_FMT_FLOAT) && spec->type == 's') {
      snprintf (why, why_size, "type \"s\" is for text, and this field is a number");
   } else if (cls == MWATCH_FMT_INT && spec->precision >= 0 &&
              (spec->type == '\0' || spec->type == 'd')) {
      snprintf (why,
                why_size,
                "an integer takes no precision; add a type such as \"f\" for decimals");
   } else {
      return true;
   }
   return false;
}

bool
_mwatch_fmt_spec_parse (const char *text,
                        size_t len,
                        mwatch_fmt_class_t cls,
                        mwatch_fmt_spec_t *spec,
                        char *why,
                        size_t why_size)
{
   size_t i = 0;
   size_t skip;
   size_t fill_len = len > 0 ? _mwatch_utf8_next ((const uint8_t *) text, len, &skip) : 0;
   bool has_fill = fill_len > 0 && fill_len < len && is_align (text[fill_len]);

   memset (spec, 0, sizeof *spec);
   spec->width = -1;
   spec->precision = -1;
   if (has_fill) {
      memcpy (spec->fill, text, fill_len);
      spec->fill_len = (uint8_t) fill_len;
      spec->align = text[fill_len];
      i = fill_len + 1;
   } else if (len > 0 && is_align (text[0])) {
      spec->align = text[0];
      i = 1;
   }
   if (i < len && (text[i] == '+' || text[i] == '-' || text[i] == ' ')) {
      /* '-' is the default: only negative numbers get a sign. */
      spec->sign = text[i] == '-' ? '\0' : text[i];
      i++;
   }
   if (i < len && text[i] == '0') {
      spec->zero = true;
      i++;
   }
   spec->width = read_number (text, len, &i);
   if (i < len && text[i] == '.') {
      i++;
      spec->precision = read_number (text, len, &i);
      if (spec->precision < 0) {
         snprintf (why, why_size, "\".\" must be followed by a precision (digits)");
         return false;
      }
   }
   if (i < len && strchr ("dfFeEgG%s", text[i]) != NULL) {
      spec->type = text[i++];
   }
   if (i < len) {
      explain_leftover (text, len, i, spec->type != '\0', why, why_size);
      return false;
   }
   if (spec->width > MWATCH_SPEC_MAX || spec->precision > MWATCH_SPEC_MAX) {
      snprintf (why, why_size, "width and precision are at most %d", MWATCH_SPEC_MAX);
      return false;
   }
   if (!has_fill) {
      /* As in Python, the '0' flag is a fill of '0' unless a fill is given. */
      spec->fill[0] = spec->zero ? '0' : ' ';
      spec->fill_len = 1;
   }
   return check_class (spec, cls, why, why_size);
}

/* ---------------------------------------------------------------- padding */

char *
_mwatch_fmt_extend (mwatch_buf_t *out, size_t n)
{
   static const char filler[64];
   size_t at = out->len;

   while (n > 0) {
      size_t chunk = n < sizeof filler ? n : sizeof filler;
      mwatch_buf_append (out, filler, chunk);
      n -= chunk;
   }
   return out->data + at;
}

size_t
_mwatch_fmt_count_chars (const char *s, size_t len)
{
   size_t n = 0;

   for (size_t i = 0; i < len; i++) {
      n += ((uint8_t) s[i] & 0xC0) != 0x80;
   }
   return n;
}

/* Numbers go right and text left unless the spec says; the '0' flag alone
 * puts the padding between a number's sign and its digits. */
static char
resolve_align (const mwatch_fmt_spec_t *spec, bool number)
{
   if (spec->align) {
      return spec->align;
   }
   if (!number) {
      return '<';
   }
   return spec->zero ? '=' : '>';
}

/* Pads what was written from `start` on to the spec's width.  The fill
 * is appended first, so the buffer grows once, then the text is moved
 * right by the left padding. */
static void
pad (mwatch_buf_t *out, size_t start, const mwatch_fmt_spec_t *spec, char align)
{
   size_t chars = 0;

   if (out->len > start) {
      chars = _mwatch_fmt_count_chars (out->data + start, out->len - start);
   }
   if (spec->width < 0 || chars >= (size_t) spec->width) {
      return;
   }
   size_t n = (size_t) spec->width - chars;
   size_t left = align == '<' ? 0 : align == '^' ? n / 2 : n;
   size_t f = spec->fill_len;
   size_t end = out->len;
   size_t sign_len = 0;

   if (align == '=' && end > start &&
       (out->data[start] == '+' || out->data[start] == '-' || out->data[start] == ' ')) {
      sign_len = 1;
   }
   _mwatch_fmt_extend (out, n * f);
   char *body = out->data + start + sign_len;
   memmove (body + left * f, body, end - start - sign_len);
   for (size_t k = 0; k < n; k++) {
      /* The first `left` fills go before the text, the rest after it. */
      char *dst = k < left ? body + k * f : out->data + end + k * f;
      memcpy (dst, spec->fill, f);
   }
}

void
_mwatch_fmt_text (mwatch_buf_t *out, size_t start, const mwatch_fmt_spec_t *spec)
{
   if (spec->precision >= 0 && (spec->type == '\0' || spec->type == 's')) {
      size_t chars = 0;
      for (size_t i = start; i < out->len; i++) {
         if (((uint8_t) out->data[i] & 0xC0) != 0x80 && chars++ == (size_t) spec->precision) {
            out->len = i;
            out->data[i] = '\0';
            break;
         }
      }
   }
   pad (out, start, spec, resolve_align (spec, false));
}

void
_mwatch_fmt_number (mwatch_buf_t *out, size_t start, const mwatch_fmt_spec_t *spec)
{
   if (spec->sign && out->len > start && out->data[start] != '-') {
      _mwatch_fmt_extend (out, 1);
      memmove (out->data + start + 1, out->data + start, out->len - start - 1);
      out->data[start] = spec->sign;
   }
   pad (out, start, spec, resolve_align (spec, true));
}

/* ---------------------------------------------------------------- numbers */

void
_mwatch_fmt_digits (mwatch_buf_t *out, uint64_t value, int digits)
{
   char text[20];

   for (int k = digits - 1; k >= 0; k--) {
      text[k] = (char) ('0' + value % 10);
      value /= 10;
   }
   _mwatch_buf_put (out, text, (size_t) digits);
}

/* printf writes the locale's decimal point, which may be ',' or several
 * bytes; Python's format always writes '.'. */
static void
normalize_point (mwatch_buf_t *out, size_t at)
{
   size_t w = at;

   for (size_t r = at; r < out->len; r++) {
      char c = out->data[r];
      if (c != '\0' && strchr ("0123456789+- eEnaifNAIF%", c) != NULL) {
         out->data[w++] = c;
      } else if (w == at || out->data[w - 1] != '.') {
         out->data[w++] = '.';
      }
   }
   out->len = w;
   out->data[w] = '\0';
}

/* One double through printf's conversion `conv`, with the spec's sign. */
static void
put_printf (mwatch_buf_t *out, char sign, int precision, char conv, double value)
{
   char format[8];
   char text[64];
   size_t at = out->len;

   snprintf (format, sizeof format, sign ? "%%%c.*%c" : "%%.*%c", sign ? sign : conv, conv);
   int n = snprintf (text, sizeof text, format, precision, value);
   if (n < 0) {
      return;
   }
   if ((size_t) n < sizeof text) {
      mwatch_buf_append (out, text, (size_t) n);
   } else {
      /* A large precision or a huge "f" value: print in place. */
      char *dst = _mwatch_fmt_extend (out, (size_t) n);
      snprintf (dst, (size_t) n + 1, format, precision, value);
   }
   normalize_point (out, at);
}

/* Python's float presentation with no type but a precision: "g" that
 * keeps a decimal point ("1.0") and turns scientific one digit earlier
 * than C's ("1e+02" for 100.0 at precision 3). */
static void
put_general (mwatch_buf_t *out, char sign, int precision, double value)
{
   size_t start = out->len;
   int p = precision > 0 ? precision : 1;
   size_t digits = 0;

   put_printf (out, sign, p, 'g', value);
   const char *text = out->data + start;
   size_t len = out->len - start;
   if (memchr (text, '.', len) || memchr (text, 'e', len) || memchr (text, 'n', len)) {
      return; /* fixed with decimals, already scientific, or nan/inf */
   }
   for (size_t i = 0; i < len; i++) {
      digits += text[i] >= '0' && text[i] <= '9';
   }
   if (digits < (size_t) p) {
      mwatch_buf_append (out, ".0", 2);
      return;
   }
   /* An integer of p digits: exponent p - 1, scientific for Python. */
   out->len = start;
   put_printf (out, sign, p - 1, 'e', value);
   char *mantissa = out->data + start;
   size_t exp_at = (size_t) ((char *) memchr (mantissa, 'e', out->len - start) - mantissa);
   size_t keep = exp_at;
   if (memchr (mantissa, '.', exp_at)) {
      while (mantissa[keep - 1] == '0') {
         keep--;
      }
      keep -= mantissa[keep - 1] == '.';
   }
   memmove (mantissa + keep, mantissa + exp_at, out->len - start - exp_at + 1);
   out->len -= exp_at - keep;
}

void
_mwatch_fmt_int64 (mwatch_buf_t *out, const mwatch_fmt_spec_t *spec, int64_t value)
{
   size_t start = out->len;

   if (spec && is_number_type (spec->type) && spec->type != 'd') {
      _mwatch_fmt_double (out, spec, (double) value);
      return;
   }
   _mwatch_json_int64 (out, value);
   if (spec && spec->type == 's') {
      _mwatch_fmt_text (out, start, spec);
   } else if (spec) {
      _mwatch_fmt_number (out, start, spec);
   }
}

void
_mwatch_fmt_double (mwatch_buf_t *out, const mwatch_fmt_spec_t *spec, double value)
{
   size_t start = out->len;
   char type = spec ? spec->type : '\0';
   int precision = spec ? spec->precision : -1;
   char sign = spec ? spec->sign : '\0';

   if (type == 's' || (type == '\0' && precision < 0)) {
      /* The key=value rendering's shortest form, as Python's repr. */
      _mwatch_text_double (out, value);
      if (type == 's') {
         _mwatch_fmt_text (out, start, spec);
      } else if (spec) {
         _mwatch_fmt_number (out, start, spec);
      }
      return;
   }
   /* printf writes "-nan" for a NaN with its sign bit set; Python never
    * shows a NaN's sign. */
   value = isnan (value) ? fabs (value) : value;
   precision = precision < 0 ? 6 : precision;
   switch (type) {
   case '\0':
      put_general (out, sign, precision, value);
      break;
   case 'd':
      /* Rounded half to even; a rounded -0.4 is 0, not "-0". */
      value = nearbyint (value);
      put_printf (out, sign, 0, 'f', value == 0.0 ? 0.0 : value);
      break;
   case '%':
      put_printf (out, sign, precision, 'f', value * 100.0);
      mwatch_buf_append (out, "%", 1);
      break;
   default:
      put_printf (out, sign, precision, type, value);
      break;
   }
   pad (out, start, spec, resolve_align (spec, true));
}
