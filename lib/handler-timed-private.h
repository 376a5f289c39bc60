/* Internal: the timed rollover of a file handler (handler-timed.c), what
 * Python's TimedRotatingFileHandler does: when the next rollover is due,
 * what the old file is renamed to, which old files go. */
#ifndef MWATCH_HANDLER_TIMED_PRIVATE_H
#define MWATCH_HANDLER_TIMED_PRIVATE_H

#include "mongowatch.h"

#include <stdint.h>

/* A timed rotation, parsed from mwatch_timed_rotation_opts_t. */
typedef struct {
   /* Seconds between rollovers: `interval` times the unit of `when`. */
   int64_t period;
   /* 'S', 'M', 'H', 'D', 'N' (midnight) or 'W'. */
   char unit;
   /* For 'W': the day, 0 (Monday) to 6. */
   int weekday;
   /* For 'N' and 'W': seconds after midnight of the rollover. */
   int at_time;
   bool utc;
   int backup_count;
   /* The strftime format of the rotated files' suffix. */
   const char *suffix;
} mwatch_timed_t;

/* Reads `opts` into `timed`; false with `error` naming the bad option. */
bool
_mwatch_timed_init (mwatch_timed_t *timed,
                    const mwatch_timed_rotation_opts_t *opts,
                    bson_error_t *error);

/* The first rollover after `t` (seconds since the epoch), as Python
 * computes it: t + period, or for midnight and weekly the next at_time
 * (on the weekday). */
int64_t
_mwatch_timed_next (const mwatch_timed_t *timed, int64_t t);

/* The rollover due at `rollover_at` (<= now): renames `path` (if it is a
 * regular file) to path.SUFFIX, the suffix being the start of the period
 * that ends now, then removes the oldest such files beyond backup_count.
 * An existing path.SUFFIX is never replaced: the rename is skipped (the
 * lines stay in `path`).  Failures are reported through `reported` (once
 * per episode).  Returns when the next rollover is due. */
int64_t
_mwatch_timed_roll (const mwatch_timed_t *timed,
                    const char *path,
                    int64_t rollover_at,
                    int64_t now,
                    bool *reported);

#endif
