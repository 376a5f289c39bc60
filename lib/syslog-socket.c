/* Datagrams to a local syslog socket: the syslog handler's connection and
 * the reports of last resort; and the severities both syslog handlers use. */
#include "syslog-socket-private.h"
#include "mongoc-compat-private.h"

#include "mongowatch.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
_mwatch_syslog_connect (const char *path)
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

const char *_mwatch_report_socket = "/dev/log";

void
_mwatch_syslog_report (const char *message)
{
   int fd = _mwatch_syslog_connect (_mwatch_report_socket);

   if (fd < 0) {
      return; /* no syslog daemon: nowhere left to say it */
   }
   /* user.warning: facility 1, severity 4. */
   char *datagram = bson_strdup_printf (
      "<12>%s[%d]: mongowatch: %s", program_invocation_short_name, (int) getpid (), message);
   /* Never waits: a stalled daemon must not hold the report's thread. */
   ssize_t sent = send (fd, datagram, strlen (datagram), MSG_NOSIGNAL | MSG_DONTWAIT);
   BSON_UNUSED (sent); /* a report that cannot be sent is not reported */
   close (fd);
   bson_free (datagram);
}

int
_mwatch_syslog_severity (int level)
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
