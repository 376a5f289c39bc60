/* The opt-in drain on SIGTERM and SIGINT (mwatch_drain_on_signals).
 *
 * A signal whose disposition is the default ends the process at once, and
 * the records still queued with it.  Here such a signal is caught instead:
 * the handler, which may only do what is async-signal-safe, writes its
 * number into a pipe; a thread of ours reads it, drains every queue
 * (mwatch_shutdown, bounded by each queue's shutdown_timeout_sec), then
 * puts the default disposition back and raises the signal again, so that
 * the process ends as it would have — by that signal, with its status.
 *
 * A signal the application handles itself goes on to its handler
 * (chained, with the same arguments); one it ignores stays ignored.  The
 * application's handler usually ends in exit(), whose atexit drain writes
 * the records.  A child after fork() gets a drain thread of its own. */
#include "thread-private.h"
#include "fork-private.h"
#include "shutdown-private.h"
#include "mongowatch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const int drained_signals[] = {SIGTERM, SIGINT};
#define N_SIGNALS (sizeof drained_signals / sizeof drained_signals[0])

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed;
/* What each signal did before ours: read by the handler, so written only
 * before the handler is installed. */
static struct sigaction previous[N_SIGNALS];
static int wake_pipe[2] = {-1, -1};

static int
signal_index (int sig)
{
   for (size_t i = 0; i < N_SIGNALS; i++) {
      if (drained_signals[i] == sig) {
         return (int) i;
      }
   }
   return -1;
}

static void
on_signal (int sig, siginfo_t *info, void *context)
{
   int i = signal_index (sig);
   if (i < 0) {
      return;
   }
   const struct sigaction *prev = &previous[i];
   if (prev->sa_flags & SA_SIGINFO) {
      prev->sa_sigaction (sig, info, context);
      return;
   }
   if (prev->sa_handler == SIG_IGN) {
      return;
   }
   if (prev->sa_handler != SIG_DFL) {
      prev->sa_handler (sig);
      return;
   }
   /* The default would end the process now: let the drain thread end it
    * once the records are out. */
   int saved_errno = errno;
   unsigned char byte = (unsigned char) sig;
   ssize_t ignored = write (wake_pipe[1], &byte, 1);
   (void) ignored;
   errno = saved_errno;
}

static void *
drain_main (void *arg)
{
   (void) arg;
   unsigned char byte;
   for (;;) {
      ssize_t n = read (wake_pipe[0], &byte, 1);
      if (n == 1) {
         break;
      }
      if (n < 0 && errno == EINTR) {
         continue;
      }
      return NULL; /* the pipe is gone: nothing to wait for */
   }
   int sig = byte;
   mwatch_shutdown ();
   /* As the process would have ended without us: by the signal. */
   signal (sig, SIG_DFL);
   sigset_t set;
   sigemptyset (&set);
   sigaddset (&set, sig);
   pthread_sigmask (SIG_UNBLOCK, &set, NULL);
   kill (getpid (), sig);
   return NULL;
}

/* The drain thread takes no signal itself (the application's threads do),
 * except the one it raises at the end. */
static bool
start_drain_thread (void)
{
   return _mwatch_thread_start (NULL, drain_main, NULL);
}

/* Threads do not survive fork(): the child needs a drain thread of its
 * own, or a TERM would leave it waiting forever.  install_lock is held
 * across fork(), so that the child sees the drain installed or not, never
 * half-way. */
static void
fork_child (void)
{
   if (installed) {
      /* A pipe of its own too: the parent's thread reads the inherited
       * one. */
      close (wake_pipe[0]);
      close (wake_pipe[1]);
      if (pipe2 (wake_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
         /* The reading end blocks: the thread waits on it. */
         fcntl (wake_pipe[0], F_SETFL, fcntl (wake_pipe[0], F_GETFL) & ~O_NONBLOCK);
         start_drain_thread ();
      }
   }
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_SIGNAL_DRAIN, &install_lock, fork_child);
}

bool
mwatch_drain_on_signals (bson_error_t *error)
{
   bool ok = true;
   pthread_mutex_lock (&install_lock);
   if (installed) {
      goto done;
   }
   if (pipe2 (wake_pipe, O_CLOEXEC) != 0) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "cannot drain on signals: pipe: %s", strerror (errno));
      ok = false;
      goto done;
   }
   /* A signal storm must never block a handler on a full pipe. */
   fcntl (wake_pipe[1], F_SETFL, fcntl (wake_pipe[1], F_GETFL) | O_NONBLOCK);
   if (!start_drain_thread ()) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "cannot drain on signals: cannot start a thread");
      close (wake_pipe[0]);
      close (wake_pipe[1]);
      ok = false;
      goto done;
   }
   _mwatch_shutdown_at_exit (); /* the atexit drain, for chained handlers */
   for (size_t i = 0; i < N_SIGNALS; i++) {
      struct sigaction ours;
      memset (&ours, 0, sizeof ours);
      ours.sa_sigaction = on_signal;
      ours.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset (&ours.sa_mask);
      sigaction (drained_signals[i], NULL, &previous[i]);
      sigaction (drained_signals[i], &ours, NULL);
   }
   installed = true;
done:
   pthread_mutex_unlock (&install_lock);
   return ok;
}
