/* Internal: the library's own threads and their waits (thread.c). */
#ifndef MWATCH_THREAD_PRIVATE_H
#define MWATCH_THREAD_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Starts a thread of the library's (a queue's listener, a drain or reopen
 * thread, the held-back records' thread) with every signal blocked: the
 * application's signals go to the application's threads.  With `thread`
 * NULL the thread is detached.  False when it could not be started. */
bool
_mwatch_thread_start (pthread_t *thread, void *(*main) (void *), void *arg);

/* Initializes `cond` to wait on the monotonic clock, which a step of the
 * wall clock neither fires nor postpones. */
void
_mwatch_cond_init_monotonic (pthread_cond_t *cond);

/* The absolute time `monotonic_us` (mwatch_monotonic_us's clock) as a
 * timespec, for a timed wait on the monotonic clock. */
struct timespec
_mwatch_timespec_at (int64_t monotonic_us);

/* Waits at most `seconds` for `thread` to end, then reaps it: true.  When
 * it has not ended by then, false, and the thread is left running (still
 * joinable: the caller detaches it or waits again).  pthread_timedjoin_np
 * measures on the wall clock; the bound is short enough that a step of it
 * matters less than never returning. */
bool
_mwatch_thread_join_within (pthread_t thread, double seconds);

#endif /* MWATCH_THREAD_PRIVATE_H */
