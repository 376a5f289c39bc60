/* Internal: the clocks of clock.c, inline for the per-call paths.  A call
 * to the exported mwatch_monotonic_us from inside the library goes
 * through its PLT entry (the symbol may be interposed) and a wrapper;
 * these reach clock_gettime directly: about a third of a reading's
 * instructions, two readings per watched mongoc_cursor_next. */
#ifndef MWATCH_CLOCK_PRIVATE_H
#define MWATCH_CLOCK_PRIVATE_H

#include <stdint.h>
#include <time.h>

/* A reading in microseconds.  tv_nsec is never negative: divided
 * unsigned, without the signed division's rounding fix (the same value,
 * one instruction fewer). */
static inline int64_t
_mwatch_timespec_us (const struct timespec *ts)
{
   return (int64_t) ts->tv_sec * 1000000 + (int64_t) ((uint64_t) ts->tv_nsec / 1000);
}

static inline int64_t
_mwatch_clock_us (clockid_t id)
{
   struct timespec ts;
   clock_gettime (id, &ts);
   return _mwatch_timespec_us (&ts);
}

/* mwatch_monotonic_us and mwatch_realtime_us, the same readings. */
#define _mwatch_monotonic_now() _mwatch_clock_us (CLOCK_MONOTONIC)
#define _mwatch_realtime_now() _mwatch_clock_us (CLOCK_REALTIME)

#endif
