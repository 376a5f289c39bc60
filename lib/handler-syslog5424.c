/* The remote syslog handler: each record as an RFC 5424 message (encoded
 * by handler-syslog5424-encode.c) over UDP (RFC 5426: one message per
 * datagram), TCP (RFC 6587: octet counting), or a unix socket, datagram
 * or stream (octet counting too).
 *
 * It is meant to run behind a queue handler, whose listener does its I/O:
 * the queue is its bounded buffer, with the queue's counted and reported
 * drops, and the queue's shutdown_timeout_sec bounds the program's exit.
 * So emit may wait, but never without a bound: a record that cannot be
 * sent (the daemon is down, restarting, not reading) is retried, with a
 * reconnection after each failure and a backoff between attempts that
 * doubles up to backoff_max_sec, for at most retry_timeout_sec; then it
 * is dropped, counted and reported once per failure episode (and once
 * when sending works again), as a file handler does with a full disk.
 * While the listener waits, the queue keeps what comes: a restart of the
 * daemon shorter than the retry bound loses nothing the queue could hold.
 *
 * A stream connection shows a daemon that went away only at a later
 * write: before each message, a connection the peer closed (hung up, or
 * at its end of file) is replaced first, so that a restarted daemon's new
 * listener gets the message rather than the old connection's void.  What
 * the kernel took before the peer closed without reading it is lost the
 * way RFC 6587 says plain TCP loses it; UDP loses what the network
 * drops.  A forked child opens a connection of its own: two processes
 * writing one stream would interleave their frames.
 *
 * That wait holds the handler's lock, which fork() takes (fork-private.h):
 * a fork would wait for the retry, up to retry_timeout_sec.  So a fork
 * first says it waits and wakes the retry (SYSLOG5424_WAKE); the retry
 * then gives way at once, keeping its frame, encoded, in a bounded list
 * of pending frames, and emit returns (and so do the emits that follow
 * while the fork waits: see PENDING_MAX).  The next emit, flush or close
 * sends the pending frames first, in order, each still within its own
 * retry bound; a frame that finds the list full is dropped, counted and
 * reported.  A child drops its copies of the parent's pending frames:
 * the parent sends them. */
#include "fork-private.h"
#include "handler-private.h"
#include "handler-report-private.h"
#include "handler-syslog5424-private.h"
#include "owned-fd-private.h"
#include "thread-private.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SD_ID "mongowatch@32473"
#define DEFAULT_PORT "514"
#define MAX_FACILITY 23
/* UDP's largest payload over IPv4. */
#define UDP_MAX_LENGTH 65507
#define STREAM_MAX_LENGTH ((size_t) 16 << 20)
/* The first wait after a failed attempt; it doubles up to the maximum. */
#define BACKOFF_MIN_US 50000
/* The least time one connection attempt is given. */
#define CONNECT_MIN_US 1000000
/* The frames kept for later while a fork waits: at most this many, and
 * none more once they hold PENDING_MAX_BYTES.  Not a few: while a fork
 * waits, a queue's listener that gets the handler's lock back before the
 * forking thread does hands over record after record, each kept at once,
 * until the queue runs dry; so the bound is a queue's default one
 * (MWATCH_QUEUE_DEFAULT_CAPACITY, MWATCH_QUEUE_HANDLER_DEFAULT_MAX_BYTES). */
#define PENDING_MAX ((size_t) 65536)
#define PENDING_MAX_BYTES ((size_t) 32 << 20)
/* The longest a wait on a socket goes without looking whether a fork
 * waits (the backoff's sleep is woken at once instead). */
#define FORK_CHECK_US 20000
/* What the sending functions return, beside 0 and an errno, when a fork
 * waits for the handler's lock. */
#define FORK_WAITS (-1)

typedef struct {
   mwatch_syslog5424_transport_t transport;
   char *address; /* as given, for reports */
   char *host;    /* UDP and TCP */
   char *port;
   char *hostname;
   char *app_name;
   char *sd_id;
   mwatch_5424_header_t header;
   int64_t retry_timeout_us;
   int64_t backoff_max_us;

   mwatch_owned_fd_t socket; /* -1 while not connected */
   pid_t socket_pid;         /* the process that connected it */
   int64_t next_attempt;     /* monotonic: no connection attempt before */
   int64_t backoff_us;       /* the wait after the next failure */
   mwatch_buf_t message;     /* reused: a warm handler allocates nothing */
   mwatch_buf_t frame;
   mwatch_buf_t scratch;
   mwatch_io_stats_t io;
   char last_error[256];
   /* Bytes of the next frame (the oldest pending one, else the current)
    * already written on the connection: a frame a fork cut in the middle
    * goes on where it stopped, on the same connection. */
   size_t partial;

   /* The frames kept while a fork waited, oldest first: their lengths and
    * deadlines from pending_head on in `pending` (pending_alloc long),
    * their bytes one after the other in pending_data from pending_start. */
   struct pending_frame {
      size_t len;
      int64_t deadline; /* monotonic: dropped if not sent by then */
   } *pending;
   size_t pending_alloc, pending_head, pending_count, pending_start;
   mwatch_buf_t pending_data;
   pid_t pending_pid; /* the process that kept them */
   size_t pending_max, pending_max_bytes;
   /* pending_count, for s5424_held: read without the handler's lock,
    * which a listener stuck in a retry holds. */
   uint64_t held;

   /* Read by mwatch_syslog5424_handler_stats from any thread. */
   uint64_t sent;
   uint64_t dropped;
   uint64_t connects;
} s5424_t;

static const char *const transport_names[] = {"udp", "tcp", "unix", "unix_stream"};

static bool
is_stream (const s5424_t *impl)
{
   return impl->transport == MWATCH_SYSLOG5424_TCP ||
          impl->transport == MWATCH_SYSLOG5424_UNIX_STREAM;
}

static bool
is_unix (mwatch_syslog5424_transport_t transport)
{
   return transport == MWATCH_SYSLOG5424_UNIX || transport == MWATCH_SYSLOG5424_UNIX_STREAM;
}

static void
counter_add (uint64_t *counter, uint64_t n)
{
   __atomic_add_fetch (counter, n, __ATOMIC_RELAXED);
}

static void
disconnect (s5424_t *impl)
{
   _mwatch_owned_fd_close (&impl->socket);
   impl->partial = 0;
}

/* ---------------------------------------------------------------- fork */

/* Set from a fork's first prepare hook until its parent or child hook, the
 * handlers' locks still held: a retry must give way.  The backoff's sleep
 * waits on wake_cond, which the prepare hook signals. */
static atomic_bool fork_waits;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond;

static bool
fork_waiting (void)
{
   return atomic_load_explicit (&fork_waits, memory_order_acquire);
}

/* Sleeps until `until` (monotonic): false, sooner, when a fork waits. */
static bool
sleep_until (int64_t until)
{
   pthread_mutex_lock (&wake_lock);
   while (!fork_waiting () && mwatch_monotonic_us () < until) {
      struct timespec ts = _mwatch_timespec_at (until);
      pthread_cond_timedwait (&wake_cond, &wake_lock, &ts);
   }
   pthread_mutex_unlock (&wake_lock);
   return !fork_waiting ();
}

/* Before any lock is taken for fork: wake the retries (which hold their
 * handler's lock) so that they give way.  wake_lock is not held over the
 * fork: the woken retry needs it to return. */
static void
wake_prepare (void)
{
   pthread_mutex_lock (&wake_lock);
   atomic_store_explicit (&fork_waits, true, memory_order_release);
   pthread_cond_broadcast (&wake_cond);
   pthread_mutex_unlock (&wake_lock);
}

/* Before the handlers' locks are released: a retry that takes its lock
 * next waits again as it should. */
static void
resume_parent (void)
{
   atomic_store_explicit (&fork_waits, false, memory_order_release);
}

/* A retrying thread of the parent may have held wake_lock at the fork:
 * the child's are fresh. */
static void
resume_child (void)
{
   pthread_mutex_init (&wake_lock, NULL);
   _mwatch_cond_init_monotonic (&wake_cond);
   resume_parent ();
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_cond_init_monotonic (&wake_cond);
   _mwatch_fork_register (MWATCH_FORK_RANK_SYSLOG5424_WAKE, wake_prepare, NULL, NULL);
   _mwatch_fork_register (MWATCH_FORK_RANK_SYSLOG5424_RESUME, NULL, resume_parent, resume_child);
}

/* ------------------------------------------------------------- sending */

/* Waits for `events` on `fd` until `deadline` (monotonic): 1 when they
 * came, 0 when they did not, FORK_WAITS when a fork waits. */
static int
wait_for (int fd, short events, int64_t deadline)
{
   for (;;) {
      if (fork_waiting ()) {
         return FORK_WAITS;
      }
      int64_t left = deadline - mwatch_monotonic_us ();
      if (left <= 0) {
         return 0;
      }
      struct pollfd p = {.fd = fd, .events = events};
      int n = poll (&p, 1, (int) (((left < FORK_CHECK_US ? left : FORK_CHECK_US) + 999) / 1000));
      if (n > 0) {
         return 1;
      }
      if (n < 0 && errno != EINTR) {
         return 0;
      }
   }
}

/* A connected, non-blocking socket to `addr`, or -1 with errno set
 * (ECANCELED when a fork waits). */
static int
connect_addr (int family, int type, const struct sockaddr *addr, socklen_t len, int64_t deadline)
{
   int fd = socket (family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
   if (fd < 0) {
      return -1;
   }
   if (connect (fd, addr, len) == 0) {
      return fd;
   }
   int err = errno;
   if (err == EINPROGRESS) {
      socklen_t elen = sizeof err;
      int waited = wait_for (fd, POLLOUT, deadline);
      if (waited == FORK_WAITS) {
         err = ECANCELED;
      } else if (waited == 0) {
         err = ETIMEDOUT;
      } else if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
         err = errno;
      }
      if (err == 0) {
         return fd;
      }
   }
   close (fd);
   errno = err;
   return -1;
}

/* Connects to the daemon; errno on failure (a name that does not resolve
 * as EHOSTUNREACH, with its reason in last_error; ECANCELED when a fork
 * waits). */
static bool
do_connect (s5424_t *impl, int64_t deadline)
{
   int type = is_stream (impl) ? SOCK_STREAM : SOCK_DGRAM;
   int fd = -1;

   impl->last_error[0] = '\0';
   if (is_unix (impl->transport)) {
      struct sockaddr_un addr;
      memset (&addr, 0, sizeof addr);
      addr.sun_family = AF_UNIX;
      memcpy (addr.sun_path, impl->address, strlen (impl->address) + 1);
      fd = connect_addr (AF_UNIX, type, (const struct sockaddr *) &addr, sizeof addr, deadline);
   } else {
      /* Resolved at each connection: a relay's address may change. */
      struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICSERV}, *res = NULL;
      int gai = getaddrinfo (impl->host, impl->port, &hints, &res);
      if (gai != 0) {
         bson_snprintf (impl->last_error, sizeof impl->last_error, "%s", gai_strerror (gai));
         errno = EHOSTUNREACH;
         return false;
      }
      int err = 0;
      for (struct addrinfo *ai = res; ai && fd < 0 && err != ECANCELED; ai = ai->ai_next) {
         fd = connect_addr (ai->ai_family, type, ai->ai_addr, ai->ai_addrlen, deadline);
         err = fd < 0 ? errno : 0;
      }
      freeaddrinfo (res);
      errno = err;
   }
   if (fd < 0 || !_mwatch_owned_fd_take (&impl->socket, fd)) {
      return false;
   }
   impl->socket_pid = getpid ();
   counter_add (&impl->connects, 1);
   return true;
}

/* Whether the peer closed a stream connection, or it broke.  A syslog
 * receiver sends nothing; what one sends anyway is read and dropped. */
static bool
stream_lost (int fd)
{
   struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
   if (poll (&p, 1, 0) <= 0) {
      return false;
   }
   if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) {
      return true;
   }
   char buf[512];
   ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
   return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Whether our socket can be written to now: still ours, of this process,
 * and for a stream not closed by its peer. */
static bool
socket_usable (s5424_t *impl)
{
   if (!_mwatch_owned_fd_check (&impl->socket)) {
      return false;
   }
   if (impl->socket_pid != getpid () || (is_stream (impl) && stream_lost (impl->socket.fd))) {
      disconnect (impl);
      return false;
   }
   return true;
}

/* Whether our socket can be written to now; if not, a frame begun on it
 * starts again whole on the next one. */
static bool
connected (s5424_t *impl)
{
   if (socket_usable (impl)) {
      return true;
   }
   impl->partial = 0;
   return false;
}

/* Sends `len` bytes, all of them (a stream) or as one datagram, waiting
 * for room until `deadline`; 0, an errno, or FORK_WAITS (with what was
 * written in impl->partial, the connection kept). */
static int
send_all (s5424_t *impl, const char *data, size_t len, int64_t deadline)
{
   while (impl->partial < len) {
      ssize_t n = send (impl->socket.fd, data + impl->partial, len - impl->partial,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
         impl->partial += (size_t) n;
         continue;
      }
      int err = errno;
      if (err == EINTR) {
         continue;
      }
      if (err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
         return err;
      }
      int waited = wait_for (impl->socket.fd, POLLOUT, deadline);
      if (waited != 1) {
         /* A stream cut inside a frame would tear the next one: the
          * connection goes with it (the caller's disconnect), unless a
          * fork cut it, after which it goes on. */
         return waited == FORK_WAITS ? FORK_WAITS : ETIMEDOUT;
      }
   }
   impl->partial = 0;
   return 0;
}

/* Sends a frame, reconnecting and backing off as needed, until
 * `deadline`; 0, the errno of the last failure, or FORK_WAITS (no wait
 * begins while a fork waits; one in progress ends). */
static int
deliver (s5424_t *impl, const char *data, size_t len, int64_t deadline)
{
   int err = ETIMEDOUT;
   for (;;) {
      int64_t now = mwatch_monotonic_us ();
      if (!connected (impl)) {
         if (impl->next_attempt > now) {
            if (impl->next_attempt >= deadline) {
               return err;
            }
            if (!sleep_until (impl->next_attempt)) {
               return FORK_WAITS;
            }
         }
         if (fork_waiting ()) {
            return FORK_WAITS;
         }
         /* A connection gets a second at least, also when the record's
          * time is up (retry_timeout_sec 0: one attempt). */
         now = mwatch_monotonic_us ();
         if (!do_connect (impl, deadline > now + CONNECT_MIN_US ? deadline : now + CONNECT_MIN_US)) {
            if (errno == ECANCELED) {
               return FORK_WAITS; /* not the daemon's failure: no backoff */
            }
            err = errno;
            goto failed;
         }
      }
      err = send_all (impl, data, len, deadline);
      if (err == 0) {
         impl->backoff_us = BACKOFF_MIN_US;
         impl->next_attempt = 0;
         return 0;
      }
      if (err == EMSGSIZE || err == FORK_WAITS) {
         return err; /* no retry makes it fit; or, the connection kept, later */
      }
      disconnect (impl);
   failed:
      now = mwatch_monotonic_us ();
      impl->next_attempt = now + impl->backoff_us;
      impl->backoff_us = impl->backoff_us * 2 < impl->backoff_max_us ? impl->backoff_us * 2
                                                                     : impl->backoff_max_us;
      if (now >= deadline) {
         return err;
      }
   }
}

static void
what_text (const s5424_t *impl, char *what, size_t size)
{
   bson_snprintf (what, size, "syslog %s %s", transport_names[impl->transport], impl->address);
}

/* Counts a frame that deliver sent (err 0) or gave up on. */
static void
delivered (s5424_t *impl, int err)
{
   char what[300];
   if (err == 0) {
      counter_add (&impl->sent, 1);
      if (impl->io.reported) {
         what_text (impl, what, sizeof what);
         _mwatch_io_works_again (&impl->io, what);
      }
      return;
   }
   char buf[128];
   counter_add (&impl->dropped, 1);
   _mwatch_io_failed (&impl->io, 1, "cannot send to syslog %s %s: %s (retried for %.3g s)",
                      transport_names[impl->transport], impl->address,
                      impl->last_error[0] ? impl->last_error
                                          : bson_strerror_r (err, buf, sizeof buf),
                      (double) impl->retry_timeout_us / 1e6);
}

static void
pending_clear (s5424_t *impl)
{
   impl->pending_count = 0;
   __atomic_store_n (&impl->held, 0, __ATOMIC_RELAXED);
   impl->pending_head = 0;
   impl->pending_start = 0;
   /* A fork in a long outage may have made them large: not kept for ever. */
   if (impl->pending_data.cap > ((size_t) 1 << 20)) {
      mwatch_buf_destroy (&impl->pending_data);
   }
   mwatch_buf_clear (&impl->pending_data);
}

/* Keeps the frame a fork interrupted, after the pending ones; dropped,
 * counted and reported when the list is full. */
static void
keep (s5424_t *impl, const mwatch_buf_t *frame, int64_t deadline)
{
   size_t bytes = impl->pending_data.len - impl->pending_start;
   if (impl->pending_count >= impl->pending_max || bytes >= impl->pending_max_bytes) {
      counter_add (&impl->dropped, 1);
      _mwatch_io_failed (&impl->io, 1,
                         "syslog %s %s: %zu records already wait to be sent after a fork "
                         "interrupted their retry",
                         transport_names[impl->transport], impl->address,
                         impl->pending_count);
      return;
   }
   if (impl->pending_count == 0) {
      pending_clear (impl);
      impl->pending_pid = getpid ();
   } else if (impl->pending_start > 0) {
      /* The sent frames' room, reused: the memory stays within the bound. */
      memmove (impl->pending_data.data, impl->pending_data.data + impl->pending_start, bytes);
      impl->pending_data.len = bytes;
      impl->pending_start = 0;
      memmove (impl->pending, impl->pending + impl->pending_head,
               impl->pending_count * sizeof *impl->pending);
      impl->pending_head = 0;
   }
   if (impl->pending_count == impl->pending_alloc) {
      impl->pending_alloc = impl->pending_alloc ? impl->pending_alloc * 2 : 64;
      impl->pending = bson_realloc (impl->pending, impl->pending_alloc * sizeof *impl->pending);
   }
   mwatch_buf_append (&impl->pending_data, frame->data, frame->len);
   impl->pending[impl->pending_count].len = frame->len;
   impl->pending[impl->pending_count].deadline = deadline;
   impl->pending_count++;
   __atomic_store_n (&impl->held, impl->pending_count, __ATOMIC_RELAXED);
}

/* Sends the pending frames, oldest first, each until its own deadline
 * (`closing`: one attempt, no longer); false when a fork waits again,
 * the rest kept. */
static bool
send_pending (s5424_t *impl, bool closing)
{
   if (impl->pending_count && impl->pending_pid != getpid ()) {
      /* A forked child's copies of its parent's frames: the parent sends
       * them. */
      pending_clear (impl);
      impl->partial = 0;
   }
   while (impl->pending_count) {
      size_t len = impl->pending[impl->pending_head].len;
      int64_t deadline = impl->pending[impl->pending_head].deadline;
      if (closing) {
         int64_t now = mwatch_monotonic_us ();
         deadline = deadline < now ? deadline : now;
      }
      int err = deliver (impl, impl->pending_data.data + impl->pending_start, len, deadline);
      if (err == FORK_WAITS) {
         return false;
      }
      impl->pending_start += len;
      impl->pending_head++;
      if (--impl->pending_count == 0) {
         pending_clear (impl);
      }
      __atomic_store_n (&impl->held, impl->pending_count, __ATOMIC_RELAXED);
      delivered (impl, err);
   }
   return true;
}

static void
s5424_emit (void *data, mwatch_handler_t *handler, mwatch_record_t *record)
{
   s5424_t *impl = data;
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);

   mwatch_buf_clear (&impl->message);
   mwatch_buf_clear (&impl->frame);
   if (!_mwatch_5424_encode (
          &impl->message, &impl->scratch, &impl->header, record, line, len, (int) getpid ())) {
      counter_add (&impl->dropped, 1);
      _mwatch_io_failed (&impl->io, 1,
                         "syslog %s: a record does not fit in %zu bytes, even with its values "
                         "shortened (raise max_length)",
                         impl->address, impl->header.max_length);
      return;
   }
   if (is_stream (impl)) {
      _mwatch_5424_frame (&impl->frame, impl->message.data, impl->message.len);
   } else {
      mwatch_buf_append (&impl->frame, impl->message.data, impl->message.len);
   }
   int64_t deadline = mwatch_monotonic_us () + impl->retry_timeout_us;
   /* After the pending frames, in order: none may pass them. */
   int err = send_pending (impl, false)
                ? deliver (impl, impl->frame.data, impl->frame.len, deadline)
                : FORK_WAITS;
   if (err == FORK_WAITS) {
      keep (impl, &impl->frame, deadline);
      return;
   }
   delivered (impl, err);
}

/* What a fork interrupted: sent now, within each record's retry bound (a
 * queue's listener flushes whenever it runs dry, so the retry goes on
 * after the fork). */
static void
s5424_flush (void *data, mwatch_handler_t *handler)
{
   BSON_UNUSED (handler);
   send_pending (data, false);
}

static void
s5424_close (void *data, mwatch_handler_t *handler)
{
   s5424_t *impl = data;
   BSON_UNUSED (handler);

   /* One more attempt for what is still pending (the flush before the
    * close had its retry time; a fork may have cut it short), then what
    * is left is dropped and counted. */
   impl->next_attempt = 0;
   if (!send_pending (impl, true)) {
      counter_add (&impl->dropped, impl->pending_count);
      _mwatch_io_failed (&impl->io, impl->pending_count,
                         "syslog %s %s: closed with %zu records not sent",
                         transport_names[impl->transport], impl->address, impl->pending_count);
      pending_clear (impl);
   }
   disconnect (impl);
   char what[300];
   what_text (impl, what, sizeof what);
   _mwatch_io_report_dropped (&impl->io, what);
}

static void
s5424_destroy (void *ptr)
{
   s5424_t *impl = ptr;

   disconnect (impl);
   mwatch_buf_destroy (&impl->message);
   mwatch_buf_destroy (&impl->frame);
   mwatch_buf_destroy (&impl->scratch);
   mwatch_buf_destroy (&impl->pending_data);
   bson_free (impl->pending);
   bson_free (impl->address);
   bson_free (impl->host);
   bson_free (impl->port);
   bson_free (impl->hostname);
   bson_free (impl->app_name);
   bson_free (impl->sd_id);
   bson_free (impl);
}

/* The frames a fork cut short, kept unsent: what a queue that gives up on
 * its listener at close counts as dropped with the rest. */
static uint64_t
s5424_held (void *data, mwatch_handler_t *handler)
{
   s5424_t *impl = data;
   BSON_UNUSED (handler);
   return __atomic_load_n (&impl->held, __ATOMIC_RELAXED);
}

static const mwatch_handler_vtable_t s5424_vtable = {
   .emit = s5424_emit,
   .flush = s5424_flush, /* each record is sent at once, but what a fork cut short */
   .close = s5424_close,
   .destroy = s5424_destroy,
   .deferred = false,
   .held = s5424_held,
};

void
mwatch_syslog5424_opts_init (mwatch_syslog5424_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->transport = MWATCH_SYSLOG5424_UDP;
   opts->facility = MWATCH_SYSLOG_USER;
   opts->max_length = MWATCH_SYSLOG5424_DEFAULT_MAX_LENGTH;
   opts->bom = true;
   opts->retry_timeout_sec = 10.0;
   opts->backoff_max_sec = 2.0;
}

static mwatch_handler_t *
invalid (bson_error_t *error, const char *format, ...) BSON_GNUC_PRINTF (2, 3);

static mwatch_handler_t *
invalid (bson_error_t *error, const char *format, ...)
{
   va_list args;
   va_start (args, format);
   char *text = bson_strdupv_printf (format, args);
   va_end (args);
   bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT, "%s", text);
   bson_free (text);
   return NULL;
}

/* "host:port", "[v6]:port", "host" or "[v6]" (port 514) into its parts;
 * false when it is none of these. */
static bool
split_address (const char *address, char **host, char **port)
{
   const char *colon;
   if (address[0] == '[') {
      const char *end = strchr (address, ']');
      if (!end || end == address + 1 || (end[1] && end[1] != ':')) {
         return false;
      }
      *host = bson_strndup (address + 1, (size_t) (end - address - 1));
      colon = end[1] ? end + 1 : NULL;
   } else {
      colon = strrchr (address, ':');
      if (colon && strchr (address, ':') != colon) {
         return false; /* an IPv6 address needs its brackets */
      }
      *host = colon ? bson_strndup (address, (size_t) (colon - address))
                    : bson_strdup (address);
   }
   const char *p = colon ? colon + 1 : DEFAULT_PORT;
   long n = 0;
   for (const char *c = p; *c; c++) {
      n = *c >= '0' && *c <= '9' && n < 100000 ? n * 10 + (*c - '0') : 100000;
   }
   if (!**host || !*p || n < 1 || n > 65535) {
      bson_free (*host);
      *host = NULL;
      return false;
   }
   *port = bson_strdup (p);
   return true;
}

/* The host's name for HOSTNAME: gethostname, its first word if need be. */
static char *
own_hostname (void)
{
   char name[MWATCH_5424_HOSTNAME_MAX + 1] = "";
   if (gethostname (name, sizeof name) != 0) {
      return NULL;
   }
   name[sizeof name - 1] = '\0';
   const char *why;
   return _mwatch_5424_check_header_field (name, MWATCH_5424_HOSTNAME_MAX, &why)
             ? bson_strdup (name)
             : NULL;
}

mwatch_handler_t *
mwatch_handler_new_syslog5424 (const mwatch_syslog5424_opts_t *opts, bson_error_t *error)
{
   mwatch_syslog5424_opts_t defaults;
   const char *why;
   char *host = NULL, *port = NULL;

   if (!opts) {
      mwatch_syslog5424_opts_init (&defaults);
      opts = &defaults;
   }
   if ((int) opts->transport < 0 || opts->transport > MWATCH_SYSLOG5424_UNIX_STREAM) {
      return invalid (error, "syslog5424 transport %d is not udp, tcp, unix or unix_stream",
                      (int) opts->transport);
   }
   const char *kind = transport_names[opts->transport];
   if (!opts->address || !*opts->address) {
      return invalid (error, "syslog5424 needs an address: %s",
                      is_unix (opts->transport) ? "the path of the daemon's socket"
                                                : "HOST:PORT of the daemon");
   }
   if (is_unix (opts->transport)) {
      if (strlen (opts->address) >= sizeof ((struct sockaddr_un *) NULL)->sun_path) {
         return invalid (error, "syslog5424 socket path \"%s\" is longer than %zu bytes",
                         opts->address,
                         sizeof ((struct sockaddr_un *) NULL)->sun_path - 1);
      }
   } else if (!split_address (opts->address, &host, &port)) {
      return invalid (error, "syslog5424 %s address \"%s\" is not HOST:PORT ([IPV6]:PORT for an "
                      "IPv6 address; port 1 to 65535, 514 when left out)",
                      kind, opts->address);
   }
   /* A datagram (UDP, or a unix one) cannot be longer than UDP's payload;
    * a stream frame has no such limit. */
   size_t max_max = opts->transport == MWATCH_SYSLOG5424_TCP ||
                          opts->transport == MWATCH_SYSLOG5424_UNIX_STREAM
                       ? STREAM_MAX_LENGTH
                       : UDP_MAX_LENGTH;
   const char *sd_id = opts->sd_id ? opts->sd_id : DEFAULT_SD_ID;
   char *bad = NULL;
   if (opts->facility < 0 || opts->facility > MAX_FACILITY) {
      bad = bson_strdup_printf ("syslog5424 facility %d is not between 0 and %d",
                                opts->facility, MAX_FACILITY);
   } else if (opts->max_length < MWATCH_5424_MIN_LENGTH || opts->max_length > max_max) {
      bad = bson_strdup_printf ("syslog5424 max_length %zu is not between %d and %zu bytes "
                                "for %s",
                                opts->max_length, MWATCH_5424_MIN_LENGTH, max_max, kind);
   } else if (!_mwatch_5424_check_sd_id (sd_id, &why)) {
      bad = bson_strdup_printf ("syslog5424 sd_id \"%s\": %s", sd_id, why);
   } else if (opts->hostname && *opts->hostname &&
              !_mwatch_5424_check_header_field (opts->hostname, MWATCH_5424_HOSTNAME_MAX, &why)) {
      bad = bson_strdup_printf ("syslog5424 hostname \"%s\": %s", opts->hostname, why);
   } else if (opts->app_name && *opts->app_name &&
              !_mwatch_5424_check_header_field (opts->app_name, MWATCH_5424_APP_NAME_MAX, &why)) {
      bad = bson_strdup_printf ("syslog5424 app_name \"%s\": %s", opts->app_name, why);
   } else if (!(opts->retry_timeout_sec >= 0 && opts->retry_timeout_sec <= 3600) ||
              !(opts->backoff_max_sec >= 0 && opts->backoff_max_sec <= 3600)) {
      bad = bson_strdup_printf ("syslog5424 retry_timeout_sec and backoff_max_sec are between 0 "
                                "and 3600 seconds");
   }
   if (bad) {
      invalid (error, "%s", bad);
      bson_free (bad);
      bson_free (host);
      bson_free (port);
      return NULL;
   }

   s5424_t *impl = bson_malloc0 (sizeof *impl);
   impl->transport = opts->transport;
   impl->address = bson_strdup (opts->address);
   impl->host = host;
   impl->port = port;
   impl->socket.fd = -1;
   impl->hostname = opts->hostname ? bson_strdup (opts->hostname) : own_hostname ();
   /* The program's name, cut to APP-NAME's 48 characters (a space or a
    * byte beyond ASCII in it would make it no APP-NAME: NILVALUE). */
   if (opts->app_name) {
      impl->app_name = bson_strdup (opts->app_name);
   } else {
      impl->app_name = bson_strndup (program_invocation_short_name, MWATCH_5424_APP_NAME_MAX);
      if (!_mwatch_5424_check_header_field (impl->app_name, MWATCH_5424_APP_NAME_MAX, &why)) {
         impl->app_name[0] = '\0';
      }
   }
   impl->sd_id = bson_strdup (sd_id);
   impl->header.facility = opts->facility;
   impl->header.hostname = impl->hostname;
   impl->header.app_name = impl->app_name;
   impl->header.sd_id = impl->sd_id;
   impl->header.max_length = opts->max_length;
   impl->header.bom = opts->bom;
   impl->retry_timeout_us = (int64_t) (opts->retry_timeout_sec * 1e6);
   impl->backoff_max_us = (int64_t) (opts->backoff_max_sec * 1e6);
   if (impl->backoff_max_us < BACKOFF_MIN_US) {
      impl->backoff_max_us = BACKOFF_MIN_US;
   }
   impl->backoff_us = BACKOFF_MIN_US;
   mwatch_buf_init (&impl->message);
   mwatch_buf_init (&impl->frame);
   mwatch_buf_init (&impl->scratch);
   mwatch_buf_init (&impl->pending_data);
   impl->pending_max = PENDING_MAX;
   impl->pending_max_bytes = PENDING_MAX_BYTES;

   /* Not connected now: the daemon may start after the program, and a
    * record finds it then.  A name that does not resolve is a mistake
    * to say at once. */
   if (host) {
      struct addrinfo hints = {.ai_socktype = is_stream (impl) ? SOCK_STREAM : SOCK_DGRAM,
                               .ai_flags = AI_NUMERICSERV},
                      *res = NULL;
      int gai = getaddrinfo (host, port, &hints, &res);
      if (gai != 0) {
         bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                         "syslog5424 %s address \"%s\": cannot resolve \"%s\": %s", kind,
                         opts->address, host, gai_strerror (gai));
         s5424_destroy (impl);
         return NULL;
      }
      freeaddrinfo (res);
   }
   return mwatch_handler_new (&s5424_vtable, impl);
}

void
mwatch_syslog5424_handler_stats (mwatch_handler_t *handler, mwatch_syslog5424_stats_t *stats)
{
   memset (stats, 0, sizeof *stats);
   if (!handler || _mwatch_handler_vtable (handler) != &s5424_vtable) {
      return;
   }
   s5424_t *impl = mwatch_handler_impl (handler);
   stats->sent = __atomic_load_n (&impl->sent, __ATOMIC_RELAXED);
   stats->dropped = __atomic_load_n (&impl->dropped, __ATOMIC_RELAXED);
   stats->connects = __atomic_load_n (&impl->connects, __ATOMIC_RELAXED);
}

void
_mwatch_syslog5424_set_pending_bound (mwatch_handler_t *handler, size_t records, size_t bytes)
{
   BSON_ASSERT (_mwatch_handler_vtable (handler) == &s5424_vtable);
   s5424_t *impl = mwatch_handler_impl (handler);
   impl->pending_max = records;
   impl->pending_max_bytes = bytes;
}

bool
_mwatch_syslog5424_transport_parse (const char *name, mwatch_syslog5424_transport_t *out)
{
   for (size_t i = 0; i < sizeof transport_names / sizeof *transport_names; i++) {
      if (strcmp (name, transport_names[i]) == 0) {
         *out = (mwatch_syslog5424_transport_t) i;
         return true;
      }
   }
   return false;
}
