/* Numbers as text: integers in decimal, doubles in the shortest form that
 * reads back to the same value, whatever the locale. */
#include "json-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char _mwatch_digit_pairs[200] =
   "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
   "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/* Writes the decimal digits of `u` at `p`, which has room for 20, and
 * returns how many: counted first, so that they go straight to their
 * places (no copy from a scratch array). */
static inline size_t
put_uint (char *p, uint64_t u)
{
   if (u < 10) {
      *p = (char) ('0' + u); /* counts, flags, small ids: the usual */
      return 1;
   }
   size_t digits = 2;
   for (uint64_t w = u / 100; w; w /= 10) {
      digits++;
   }
   _mwatch_put_digits (p, u, digits);
   return digits;
}

void
_mwatch_text_uint (mwatch_buf_t *out, uint64_t value, int width)
{
   size_t digits = 1;
   for (uint64_t w = value / 10; w; w /= 10) {
      digits++;
   }
   if (width > 0 && digits < (size_t) width) {
      digits = (size_t) width; /* leading zeros */
   }
   if (out->len + digits >= out->cap) {
      _mwatch_buf_grow (out, digits);
   }
   _mwatch_put_digits (out->data + out->len, value, digits);
   out->len += digits;
   out->data[out->len] = '\0';
}

static __attribute__ ((noinline)) void
int64_grow (mwatch_buf_t *out, int64_t value)
{
   _mwatch_buf_grow (out, 21);
   _mwatch_json_int64 (out, value);
}

void
_mwatch_json_int64 (mwatch_buf_t *out, int64_t value)
{
   /* The room made apart (a tail call), so that the usual way saves no
    * registers. */
   if (out->len + 21 >= out->cap) {
      int64_grow (out, value);
      return;
   }
   char *p = out->data + out->len;
   if (value < 0) {
      *p++ = '-';
   }
   /* Negate as unsigned: -INT64_MIN does not fit in an int64_t. */
   p += put_uint (p, value < 0 ? 0 - (uint64_t) value : (uint64_t) value);
   out->len = (size_t) (p - out->data);
   *p = '\0';
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
   /* Written in place: at most a sign, 9 + 1 + 6 digits and a point. */
   if (out->len + 24 >= out->cap) {
      _mwatch_buf_grow (out, 24);
   }
   char *start = out->data + out->len;
   char *p = start;

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
      p += put_uint (p, whole);
      *p++ = '.';
      /* The six decimals at their places, then the trailing zeros cut
       * (one zero stays, as %g's ".0" that the general path adds). */
      _mwatch_put_digits (p, frac, 6);
      size_t kept = 6;
      while (kept > 1 && p[kept - 1] == '0') {
         kept--;
      }
      p += kept;
   }
   out->len += (size_t) (p - start);
   out->data[out->len] = '\0';
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
