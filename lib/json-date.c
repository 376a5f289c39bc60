/* Times as ISO-8601 UTC text, rounded down before 1970 as after. */
#include "json-private.h"

#include <time.h>

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
   _mwatch_text_uint (out, (uint64_t) (year < 0 ? -year : year), 4);
   const int parts[] = {tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
   const char seps[] = "-T::";
   for (size_t i = 0; i < 5; i++) {
      _mwatch_buf_putc (out, i == 0 ? '-' : seps[i - 1]);
      _mwatch_text_uint (out, (uint64_t) parts[i], 2);
   }
   _mwatch_buf_putc (out, '.');
   _mwatch_text_uint (out, frac, digits);
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

void
_mwatch_text_datetime_ms (mwatch_buf_t *out, int64_t ms)
{
   write_iso_units (out, ms, 1000, 3);
}
