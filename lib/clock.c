/* The two clocks: wall time for timestamps in logs, monotonic time for due
 * times.  clock_gettime on Linux is served by the vDSO, without a syscall. */
#include "clock-private.h"
#include "mongowatch.h"

int64_t
mwatch_realtime_us (void)
{
   return _mwatch_realtime_now ();
}

int64_t
mwatch_monotonic_us (void)
{
   return _mwatch_monotonic_now ();
}

const char *
mwatch_version (void)
{
   return MWATCH_VERSION_STRING;
}
