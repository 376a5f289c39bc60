/* The library's own threads: started with the application's signals
 * blocked, and waiting on the monotonic clock. */
#include "thread-private.h"

#include <signal.h>

bool
_mwatch_thread_start (pthread_t *thread, void *(*main) (void *), void *arg)
{
   sigset_t all, old;
   sigfillset (&all);
   pthread_sigmask (SIG_SETMASK, &all, &old);
   pthread_t own;
   bool started = pthread_create (thread ? thread : &own, NULL, main, arg) == 0;
   pthread_sigmask (SIG_SETMASK, &old, NULL);
   if (started && !thread) {
      pthread_detach (own);
   }
   return started;
}

void
_mwatch_cond_init_monotonic (pthread_cond_t *cond)
{
   pthread_condattr_t attr;
   pthread_condattr_init (&attr);
   pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
   pthread_cond_init (cond, &attr);
   pthread_condattr_destroy (&attr);
}

struct timespec
_mwatch_timespec_at (int64_t monotonic_us)
{
   struct timespec ts;
   ts.tv_sec = (time_t) (monotonic_us / 1000000);
   ts.tv_nsec = (long) (monotonic_us % 1000000) * 1000;
   return ts;
}

bool
_mwatch_thread_join_within (pthread_t thread, double seconds)
{
   struct timespec deadline;
   clock_gettime (CLOCK_REALTIME, &deadline);
   double whole = (double) (int64_t) seconds;
   deadline.tv_sec += (time_t) whole;
   deadline.tv_nsec += (long) ((seconds - whole) * 1e9);
   if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
   }
   return pthread_timedjoin_np (thread, NULL, &deadline) == 0;
}
