/* The opt-in reopen on SIGHUP (mwatch_reopen_on_sighup).
 *
 * A rotation tool renames the log file and sends SIGHUP so that the
 * program writes to a new one.  Reopening takes locks and calls open(2)
 * and the report machinery, none of which a signal handler may do: the
 * handler only writes a byte into a pipe, and a thread of ours reads it
 * and calls mwatch_reopen().  Several signals before the thread runs are
 * one reopen or several; either way every file ends up reopened.
 *
 * The application's own SIGHUP handler is chained (called after the
 * byte is written, with the same arguments).  A child after fork() gets
 * a pipe and thread of its own, as with mwatch_drain_on_signals. */
#include "thread-private.h"
#include "fork-private.h"
#include "mongowatch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed;
/* What SIGHUP did before ours: read by the handler, so written only
 * before the handler is installed. */
static struct sigaction previous;
static int wake_pipe[2] = {-1, -1};

static void
on_sighup (int sig, siginfo_t *info, void *context)
{
   int saved_errno = errno;
   unsigned char byte = 1;
   /* Non-blocking: a full pipe means a reopen is pending anyway. */
   ssize_t ignored = write (wake_pipe[1], &byte, 1);
   (void) ignored;
   errno = saved_errno;

   if (previous.sa_flags & SA_SIGINFO) {
      previous.sa_sigaction (sig, info, context);
   } else if (previous.sa_handler != SIG_IGN && previous.sa_handler != SIG_DFL) {
      previous.sa_handler (sig);
   }
}

static void *
reopen_main (void *arg)
{
   (void) arg;
   unsigned char bytes[64];
   for (;;) {
      /* All pending signals at once: one reopen covers them. */
      ssize_t n = read (wake_pipe[0], bytes, sizeof bytes);
      if (n > 0) {
         mwatch_reopen ();
      } else if (n < 0 && errno == EINTR) {
         continue;
      } else {
         return NULL; /* the pipe is gone */
      }
   }
}

/* The thread takes no signal itself: the application's threads do. */
static bool
start_reopen_thread (void)
{
   return _mwatch_thread_start (NULL, reopen_main, NULL);
}

/* A pipe whose writing end never blocks (a signal storm must not stop the
 * handler) and whose reading end does (the thread waits on it). */
static bool
make_pipe (void)
{
   if (pipe2 (wake_pipe, O_CLOEXEC) != 0) {
      return false;
   }
   fcntl (wake_pipe[1], F_SETFL, fcntl (wake_pipe[1], F_GETFL) | O_NONBLOCK);
   return true;
}

/* install_lock is held across fork(), so that the child sees the reopen
 * installed or not, never half-way. */
static void
fork_child (void)
{
   if (installed) {
      /* The parent's thread reads the inherited pipe: a new one. */
      close (wake_pipe[0]);
      close (wake_pipe[1]);
      if (make_pipe ()) {
         start_reopen_thread ();
      }
   }
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_SIGNAL_REOPEN, &install_lock, fork_child);
}

bool
mwatch_reopen_on_sighup (bson_error_t *error)
{
   bool ok = true;
   pthread_mutex_lock (&install_lock);
   if (installed) {
      goto done;
   }
   if (!make_pipe ()) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "cannot reopen on SIGHUP: pipe: %s", strerror (errno));
      ok = false;
      goto done;
   }
   if (!start_reopen_thread ()) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "cannot reopen on SIGHUP: cannot start a thread");
      close (wake_pipe[0]);
      close (wake_pipe[1]);
      ok = false;
      goto done;
   }
   struct sigaction ours;
   memset (&ours, 0, sizeof ours);
   ours.sa_sigaction = on_sighup;
   ours.sa_flags = SA_SIGINFO | SA_RESTART;
   sigemptyset (&ours.sa_mask);
   sigaction (SIGHUP, NULL, &previous);
   sigaction (SIGHUP, &ours, NULL);
   installed = true;
done:
   pthread_mutex_unlock (&install_lock);
   return ok;
}
