/* Numbers as text: integers in decimal, doubles in the shortest form that
 * reads back to the same value, whatever the locale. */
#include "json-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
_mwatch_text_uint (mwatch_buf_t *out, uint64_t value, int width)
{
   char digits[24];
   char *p = digits + sizeof digits;
   do {
      *--p = (char) ('0' + value % 10);
      value /= 10;
   } while (value || digits + sizeof digits - p < width);
   _mwatch_buf_put (out, p, (size_t) (digits + sizeof digits - p));
}

void
_mwatch_json_int64 (mwatch_buf_t *out, int64_t value)
{
   if (value < 0) {
      _mwatch_buf_putc (out, '-');
   }
   /* Negate as unsigned: -INT64_MIN does not fit in an int64_t. */
   _mwatch_text_uint (out, value < 0 ? 0 - (uint64_t) value : (uint64_t) value, 1);
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
      MWATCH_BUF_PUT_LIT (out, ".0");
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
   MWATCH_BUF_PUT_LIT (out, "{\"$numberDouble\":\"");
   mwatch_buf_append_str (out, non_finite_name (value));
   MWATCH_BUF_PUT_LIT (out, "\"}");
}
