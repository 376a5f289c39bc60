/* The two clocks: wall time for timestamps in logs, monotonic time for due
 * times.  clock_gettime on Linux is served by the vDSO, without a syscall. */
#include "mongowatch.h"

#include <time.h>

static int64_t
clock_us (clockid_t id)
{
   struct timespec ts;
   clock_gettime (id, &ts);
   return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
mwatch_realtime_us (void)
{
   return clock_us (CLOCK_REALTIME);
}

int64_t
mwatch_monotonic_us (void)
{
   return clock_us (CLOCK_MONOTONIC);
}

const char *
mwatch_version (void)
{
   return MWATCH_VERSION_STRING;
}
