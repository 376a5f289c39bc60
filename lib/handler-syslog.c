/* The syslog handler: one datagram "<PRI>ident[pid]: line" per record to
 * the local syslog socket, as syslog(3) sends them, but without its
 * timestamp (the daemon adds its own) and without its global state, so
 * that several handlers may each have their socket, facility and ident.
 *
 * Sending blocks while the daemon's queue is full, as syslog(3) does:
 * dropping audit records whenever the daemon is slow would be worse.  Put
 * the handler behind a queue handler to keep that wait off the
 * application's threads. */
#include "handler-builtin.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SYSLOG_DEFAULT_SOCKET "/dev/log"
#define SYSLOG_MAX_FACILITY 23

/* The longest datagram sent, header included; a longer line is cut (at a
 * UTF-8 character boundary).  Linux refuses a datagram larger than the
 * socket's send buffer (about 208 KiB by default) with EMSGSIZE, and
 * daemons cut long messages anyway (rsyslog at 8 KiB by default), so a
 * fixed limit well under the kernel's keeps every record's start rather
 * than losing whole records. */
#define SYSLOG_MAX_DATAGRAM 65536

typedef struct {
   char *socket_path;
   char *ident;
   int facility;
   mwatch_owned_fd_t socket; /* -1 while not connected */
   mwatch_buf_t datagram; /* reused, so that a warm handler allocates nothing */
   mwatch_io_stats_t io;
} syslog_impl_t;

/* A new socket connected to `path`, or -1 with errno set.  Connected, so
 * that each send need not name the address, and so that a daemon that went
 * away shows as ECONNREFUSED. */
static int
syslog_connect (const char *path)
{
   struct sockaddr_un addr;
   size_t len = strlen (path);

   if (len >= sizeof addr.sun_path) {
      errno = ENAMETOOLONG;
      return -1;
   }
   memset (&addr, 0, sizeof addr);
   addr.sun_family = AF_UNIX;
   memcpy (addr.sun_path, path, len + 1);

   int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
   if (fd < 0) {
      return -1;
   }
   if (connect (fd, (const struct sockaddr *) &addr, sizeof addr) != 0) {
      int err = errno;
      close (fd);
      errno = err;
      return -1;
   }
   return fd;
}

/* Closes our socket, unless its number is the application's by now. */
static void
syslog_disconnect (syslog_impl_t *impl)
{
   _mwatch_owned_fd_close (&impl->socket);
}

/* Sends the datagram; returns 0 or the errno of the last failure.  A
 * syslog daemon that restarted leaves our socket connected to its old,
 * dead socket (ECONNREFUSED, ENOTCONN): one reconnection finds the new
 * one.  A handler that is not connected (the daemon was down at the last
 * record) tries to connect first. */
static int
syslog_send (syslog_impl_t *impl, const char *data, size_t len)
{
   int err = 0;

   for (int attempt = 0; attempt < 2; attempt++) {
      /* A socket whose number the application closed and reused is
       * forgotten, not written to, and a new one connected. */
      if (!_mwatch_owned_fd_check (&impl->socket)) {
         int fd = syslog_connect (impl->socket_path);
         if (fd < 0 || !_mwatch_owned_fd_take (&impl->socket, fd)) {
            err = errno;
            continue;
         }
      }

      ssize_t sent;
      do {
         sent = send (impl->socket.fd, data, len, MSG_NOSIGNAL);
      } while (sent < 0 && errno == EINTR);
      if (sent >= 0) {
         return 0;
      }
      err = errno;
      if (err != ECONNREFUSED && err != ENOTCONN && err != ECONNRESET) {
         return err;
      }
      syslog_disconnect (impl);
   }
   return err;
}

/* The severities of RFC 5424 for mongowatch's levels. */
static int
syslog_severity (int level)
{
   if (level >= MWATCH_LEVEL_CRITICAL) {
      return 2;
   }
   if (level >= MWATCH_LEVEL_ERROR) {
      return 3;
   }
   if (level >= MWATCH_LEVEL_WARNING) {
      return 4;
   }
   if (level >= MWATCH_LEVEL_INFO) {
      return 6;
   }
   return 7;
}

/* `len`, lowered if need be so that data[0..len) does not end inside a
 * UTF-8 sequence (continuation bytes are 10xxxxxx). */
static size_t
utf8_cut (const char *data, size_t len, size_t max)
{
   if (len <= max) {
      return len;
   }
   len = max;
   while (len > 0 && ((unsigned char) data[len] & 0xC0) == 0x80) {
      len--;
   }
   return len;
}

static void
syslog_emit (mwatch_handler_t *handler, mwatch_record_t *record)
{
   syslog_impl_t *impl = mwatch_handler_impl (handler);
   mwatch_buf_t *dg = &impl->datagram;
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);
   char head[64];

   mwatch_buf_clear (dg);
   bson_snprintf (head, sizeof head, "<%d>", impl->facility * 8 + syslog_severity (record->level));
   mwatch_buf_append_str (dg, head);
   mwatch_buf_append_str (dg, impl->ident);
   /* getpid () at send time, as syslog(3): right in a forked child too. */
   bson_snprintf (head, sizeof head, "[%d]: ", (int) getpid ());
   mwatch_buf_append_str (dg, head);
   mwatch_buf_append (dg, line, len);

   int err = syslog_send (impl, dg->data, utf8_cut (dg->data, dg->len, SYSLOG_MAX_DATAGRAM));
   if (err == 0) {
      _mwatch_io_ok (&impl->io);
   } else {
      char buf[128];
      _mwatch_io_failed (&impl->io, 1, "cannot send to syslog socket \"%s\": %s",
                         impl->socket_path, bson_strerror_r (err, buf, sizeof buf));
   }
}

static void
syslog_close (mwatch_handler_t *handler)
{
   syslog_impl_t *impl = mwatch_handler_impl (handler);

   syslog_disconnect (impl);
   _mwatch_io_report_dropped (&impl->io, impl->socket_path);
}

static void
syslog_destroy (void *ptr)
{
   syslog_impl_t *impl = ptr;

   syslog_disconnect (impl);
   mwatch_buf_destroy (&impl->datagram);
   bson_free (impl->socket_path);
   bson_free (impl->ident);
   bson_free (impl);
}

const char *_mwatch_report_socket = SYSLOG_DEFAULT_SOCKET;

void
_mwatch_syslog_report (const char *message)
{
   int fd = syslog_connect (_mwatch_report_socket);

   if (fd < 0) {
      return; /* no syslog daemon: nowhere left to say it */
   }
   /* user.warning: facility 1, severity 4. */
   char *datagram = bson_strdup_printf (
      "<12>%s[%d]: mongowatch: %s", program_invocation_short_name, (int) getpid (), message);
   ssize_t sent = send (fd, datagram, strlen (datagram), MSG_NOSIGNAL);
   BSON_UNUSED (sent); /* a report that cannot be sent is not reported */
   close (fd);
   bson_free (datagram);
}

static const mwatch_handler_vtable_t syslog_vtable = {
   .emit = syslog_emit,
   .flush = NULL, /* each record is sent at once: nothing is buffered */
   .close = syslog_close,
   .destroy = syslog_destroy,
   .deferred = false,
};

mwatch_handler_t *
mwatch_syslog_handler_new (const char *socket_path,
                           int facility,
                           const char *ident,
                           bson_error_t *error)
{
   char buf[128];

   if (facility < 0 || facility > SYSLOG_MAX_FACILITY) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "syslog facility %d is not between 0 and %d",
                      facility,
                      SYSLOG_MAX_FACILITY);
      return NULL;
   }
   if (!socket_path) {
      socket_path = SYSLOG_DEFAULT_SOCKET;
   }

   /* Connecting now makes a configuration that names a socket that is
    * not there (no syslog daemon, a container without /dev/log) fail at
    * once, naming it, rather than drop every record later. */
   int fd = syslog_connect (socket_path);
   if (fd < 0) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "cannot connect to syslog socket \"%s\": %s",
                      socket_path,
                      bson_strerror_r (errno, buf, sizeof buf));
      return NULL;
   }

   syslog_impl_t *impl = bson_malloc0 (sizeof *impl);
   if (!_mwatch_owned_fd_take (&impl->socket, fd)) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "cannot connect to syslog socket \"%s\": %s",
                      socket_path,
                      bson_strerror_r (errno, buf, sizeof buf));
      bson_free (impl);
      return NULL;
   }
   impl->socket_path = bson_strdup (socket_path);
   impl->ident = bson_strdup (ident ? ident : program_invocation_short_name);
   impl->facility = facility;
   mwatch_buf_init (&impl->datagram);
   return mwatch_handler_new (&syslog_vtable, impl);
}
