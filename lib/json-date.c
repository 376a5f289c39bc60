/* Times as ISO-8601 UTC text, rounded down before 1970 as after. */
#include "json-private.h"

#include <time.h>

/* The years the calendar arithmetic below writes itself: 0001 to 9999,
 * where it and gmtime_r agree (proleptic Gregorian, 4 digits).  Outside,
 * gmtime_r does it, as it always did. */
#define FIRST_SEC INT64_C (-62135596800) /* 0001-01-01T00:00:00Z */
#define LAST_SEC INT64_C (253402300799)  /* 9999-12-31T23:59:59Z */

/* `secs` since the epoch as ISO-8601 UTC with a fraction of `digits`
 * digits; `frac` is already in [0, 10^digits).  Through gmtime_r. */
static void
write_iso_gmtime (mwatch_buf_t *out, int64_t secs, uint64_t frac, int digits)
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

/* The same for years 0001 to 9999, by arithmetic: gmtime_r takes a lock
 * (the time zone's, though UTC needs none) and costs several times the
 * rest of a date.  Days to a civil date: count in eras of 400 years
 * (146,097 days), whose years start on March 1st so that the leap day
 * ends a year; then the day of the era gives the year of the era, the
 * day of that year gives the month (153 days per 5 months from March)
 * and the day. */
static void
write_iso (mwatch_buf_t *out, int64_t secs, uint64_t frac, int digits)
{
   if (secs < FIRST_SEC || secs > LAST_SEC) {
      write_iso_gmtime (out, secs, frac, digits);
      return;
   }
   /* Whole days, rounded down, and the second of the day. */
   int64_t days = secs / 86400;
   int64_t sod = secs % 86400;
   if (sod < 0) {
      sod += 86400;
      days--;
   }
   int64_t z = days + 719468; /* days since 0000-03-01 */
   int64_t era = (z >= 0 ? z : z - 146096) / 146097;
   int64_t doe = z - era * 146097;                                    /* [0, 146096] */
   int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
   int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            /* [0, 365] */
   int64_t mp = (5 * doy + 2) / 153;                                  /* March = 0 */
   int64_t day = doy - (153 * mp + 2) / 5 + 1;
   int64_t month = mp < 10 ? mp + 3 : mp - 9;
   int64_t year = yoe + era * 400 + (month <= 2);

   /* "YYYY-MM-DDTHH:MM:SS." then the fraction and "Z". */
   if (out->len + 32 >= out->cap) {
      _mwatch_buf_grow (out, 32);
   }
   char *p = out->data + out->len;
   _mwatch_put_digits (p, (uint64_t) year, 4);
   p[4] = '-';
   _mwatch_put_digits (p + 5, (uint64_t) month, 2);
   p[7] = '-';
   _mwatch_put_digits (p + 8, (uint64_t) day, 2);
   p[10] = 'T';
   _mwatch_put_digits (p + 11, (uint64_t) (sod / 3600), 2);
   p[13] = ':';
   _mwatch_put_digits (p + 14, (uint64_t) (sod / 60 % 60), 2);
   p[16] = ':';
   _mwatch_put_digits (p + 17, (uint64_t) (sod % 60), 2);
   p[19] = '.';
   _mwatch_put_digits (p + 20, frac, (size_t) digits);
   p[20 + digits] = 'Z';
   out->len += 21 + (size_t) digits;
   out->data[out->len] = '\0';
}

/* For the tests: the way through gmtime_r, for any time. */
void
_mwatch_text_datetime_gmtime (mwatch_buf_t *out, int64_t us)
{
   int64_t secs = us / 1000000;
   int64_t frac = us % 1000000;
   if (frac < 0) {
      frac += 1000000;
      secs--;
   }
   write_iso_gmtime (out, secs, (uint64_t) frac, 6);
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
