/* The timed rollover of a file handler: Python's TimedRotatingFileHandler's
 * schedule (when, interval, utc, atTime), the names of the old files and
 * which of them go (backupCount).  The file handler (handler-stream.c)
 * asks, at each record, whether the time has come, and calls
 * _mwatch_timed_roll after writing out what it buffered and closing the
 * file. */
#include "handler-timed-private.h"
#include "handler-report-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY (24 * 60 * 60)

void
mwatch_timed_rotation_opts_init (mwatch_timed_rotation_opts_t *opts)
{
   BSON_ASSERT_PARAM (opts);
   memset (opts, 0, sizeof *opts);
   opts->when = "H";
   opts->interval = 1;
   opts->at_time = -1;
}

static const struct {
   const char *when;
   char unit;
   int64_t seconds;
   const char *suffix;
} units[] = {
   {"S", 'S', 1, "%Y-%m-%d_%H-%M-%S"},
   {"M", 'M', 60, "%Y-%m-%d_%H-%M"},
   {"H", 'H', 60 * 60, "%Y-%m-%d_%H"},
   {"D", 'D', DAY, "%Y-%m-%d"},
   {"MIDNIGHT", 'N', DAY, "%Y-%m-%d"},
};

bool
_mwatch_timed_init (mwatch_timed_t *timed,
                    const mwatch_timed_rotation_opts_t *opts,
                    bson_error_t *error)
{
   const char *when = opts->when ? opts->when : "H";

   memset (timed, 0, sizeof *timed);
   for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
      if (strcasecmp (when, units[i].when) == 0) {
         timed->unit = units[i].unit;
         timed->period = units[i].seconds;
         timed->suffix = units[i].suffix;
      }
   }
   if ((when[0] == 'W' || when[0] == 'w') && when[1] >= '0' && when[1] <= '6' && !when[2]) {
      timed->unit = 'W';
      timed->weekday = when[1] - '0';
      timed->period = 7 * DAY;
      timed->suffix = "%Y-%m-%d";
   }
   if (!timed->unit) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "unknown rollover \"when\": \"%s\"; use S, M, H, D, midnight or W0 "
                      "(Monday) ... W6 (Sunday)",
                      when);
      return false;
   }
   if (opts->interval < 1) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "the rollover interval must be 1 or more, not %d", opts->interval);
      return false;
   }
   if (opts->at_time < -1 || opts->at_time >= DAY) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "the rollover time of day must be from 0 to 86399 seconds after "
                      "midnight, not %d", opts->at_time);
      return false;
   }
   if (opts->backup_count < 0) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "the backup count must be 0 or more, not %d", opts->backup_count);
      return false;
   }
   timed->period *= opts->interval;
   /* Python: no atTime is a rotation at the end of the day. */
   timed->at_time = opts->at_time < 0 ? DAY : opts->at_time;
   timed->utc = opts->utc;
   timed->backup_count = opts->backup_count;
   return true;
}

static void
broken_down (const mwatch_timed_t *timed, int64_t t, struct tm *tm)
{
   time_t tt = (time_t) t;
   if (timed->utc) {
      gmtime_r (&tt, tm);
   } else {
      localtime_r (&tt, tm);
   }
}

static int
is_dst (int64_t t)
{
   struct tm tm;
   time_t tt = (time_t) t;
   localtime_r (&tt, &tm);
   return tm.tm_isdst > 0;
}

/* A weekly rollover computed across a change of daylight saving time is
 * moved by the hour that changed, as Python does, so that it stays at the
 * same time of day. */
static int64_t
dst_adjust (const mwatch_timed_t *timed, int64_t now, int64_t at)
{
   if (timed->utc || is_dst (now) == is_dst (at)) {
      return at;
   }
   return at + (is_dst (now) ? 3600 : -3600);
}

int64_t
_mwatch_timed_next (const mwatch_timed_t *timed, int64_t t)
{
   if (timed->unit != 'N' && timed->unit != 'W') {
      return t + timed->period;
   }
   struct tm tm;
   broken_down (timed, t, &tm);
   int day = (tm.tm_wday + 6) % 7; /* Python's: Monday is 0 */
   int64_t left = timed->at_time - ((tm.tm_hour * 60 + tm.tm_min) * 60 + tm.tm_sec);
   if (left < 0) {
      /* Today's rollover time is past: tomorrow's. */
      left += DAY;
      day = (day + 1) % 7;
   }
   int64_t result = t + left;
   if (timed->unit == 'W' && day != timed->weekday) {
      int wait = day < timed->weekday ? timed->weekday - day : 6 - day + timed->weekday + 1;
      result = dst_adjust (timed, t, result + (int64_t) wait * DAY);
   }
   return result;
}

/* Whether `name` is base.SUFFIX, optionally followed by ".ext" (a file
 * compressed by something else): SUFFIX the shape of what `format`
 * makes, digits where it has a conversion. */
static bool
is_backup (const char *name, const char *base, size_t base_len, const char *format)
{
   if (strncmp (name, base, base_len) != 0 || name[base_len] != '.') {
      return false;
   }
   const char *p = name + base_len + 1;
   for (const char *f = format; *f; f++) {
      if (*f == '%') {
         int digits = f[1] == 'Y' ? 4 : 2;
         f++;
         for (int i = 0; i < digits; i++, p++) {
            if (*p < '0' || *p > '9') {
               return false;
            }
         }
      } else if (*p++ != *f) {
         return false;
      }
   }
   return *p == '\0' || (*p == '.' && p[1] != '\0');
}

static int
compare_names (const void *a, const void *b)
{
   return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Removes the oldest path.SUFFIX files beyond backup_count: the suffixes
 * sort as the times they stand for. */
static void
remove_old (const mwatch_timed_t *timed, const char *path, bool *reported)
{
   char buf[128];
   const char *slash = strrchr (path, '/');
   char *dir = slash ? bson_strndup (path, slash == path ? 1 : (size_t) (slash - path))
                     : bson_strdup (".");
   const char *base = slash ? slash + 1 : path;
   size_t base_len = strlen (base);
   DIR *d = opendir (dir);
   char **names = NULL;
   size_t count = 0, cap = 0;

   if (!d) {
      _mwatch_handler_report_once (reported, "cannot list \"%s\" for old log files: %s", dir,
                                   bson_strerror_r (errno, buf, sizeof buf));
      bson_free (dir);
      return;
   }
   for (struct dirent *e; (e = readdir (d));) {
      if (is_backup (e->d_name, base, base_len, timed->suffix)) {
         if (count == cap) {
            cap = cap ? cap * 2 : 16;
            names = bson_realloc (names, cap * sizeof *names);
         }
         names[count++] = bson_strdup (e->d_name);
      }
   }
   closedir (d);
   qsort (names, count, sizeof *names, compare_names);
   for (size_t i = 0; i < count; i++) {
      if (i + (size_t) timed->backup_count < count) {
         char *old = bson_strdup_printf ("%s/%s", dir, names[i]);
         if (unlink (old) != 0 && errno != ENOENT) {
            _mwatch_handler_report_once (reported, "cannot remove old log file \"%s\": %s", old,
                                         bson_strerror_r (errno, buf, sizeof buf));
         }
         bson_free (old);
      }
      bson_free (names[i]);
   }
   bson_free (names);
   bson_free (dir);
}

/* rename(2) that never replaces `to`; false with errno EEXIST when it
 * exists.  Where the file system cannot say so atomically, a look first. */
static bool
rename_new (const char *from, const char *to)
{
   struct stat st;
   if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
      return true;
   }
   if (errno != EINVAL && errno != ENOSYS) {
      return false;
   }
   if (lstat (to, &st) == 0) {
      errno = EEXIST;
      return false;
   }
   return rename (from, to) == 0;
}

int64_t
_mwatch_timed_roll (const mwatch_timed_t *timed,
                    const char *path,
                    int64_t rollover_at,
                    int64_t now,
                    bool *reported)
{
   char buf[128];
   char suffix[64];
   struct stat st;
   struct tm tm;
   int64_t start = rollover_at - timed->period;

   broken_down (timed, start, &tm);
   if (!timed->utc && is_dst (now) != (tm.tm_isdst > 0)) {
      /* The period began on the other side of a change of daylight
       * saving time: named by the same wall-clock time as Python does. */
      broken_down (timed, start + (is_dst (now) ? 3600 : -3600), &tm);
   }
   strftime (suffix, sizeof suffix, timed->suffix, &tm);
   char *dst = bson_strdup_printf ("%s.%s", path, suffix);

   if (stat (path, &st) == 0 && S_ISREG (st.st_mode)) {
      if (rename_new (path, dst)) {
         *reported = false;
      } else if (errno == EEXIST) {
         _mwatch_handler_report_once (reported,
                                      "not rolling log file \"%s\" over: \"%s\" exists already "
                                      "(the clock went back?); writing on in \"%s\"",
                                      path, dst, path);
      } else if (errno != ENOENT) {
         _mwatch_handler_report_once (reported, "cannot rename log file \"%s\" to \"%s\": %s",
                                      path, dst, bson_strerror_r (errno, buf, sizeof buf));
      }
   }
   bson_free (dst);
   if (timed->backup_count > 0) {
      remove_old (timed, path, reported);
   }

   int64_t next = _mwatch_timed_next (timed, now);
   while (next <= now) {
      next += timed->period;
   }
   if (timed->unit == 'N' || timed->unit == 'W') {
      next = dst_adjust (timed, now, next);
   }
   return next;
}
