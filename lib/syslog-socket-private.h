/* Internal: datagrams to a local syslog socket (syslog-socket.c). */
#ifndef MWATCH_SYSLOG_SOCKET_PRIVATE_H
#define MWATCH_SYSLOG_SOCKET_PRIVATE_H

/* A datagram socket (close-on-exec) connected to the unix socket at
 * `path`, or -1 with errno set. */
int
_mwatch_syslog_connect (const char *path);

/* Sends "mongowatch: MESSAGE" to the syslog socket (user.warning, the program's
 * name and pid), on a socket opened and closed for it.  Not syslog(3),
 * whose connection stays open and is shared with the application: a
 * daemon that closes every descriptor and reuses the number would get
 * the next report in one of its own sockets. */
void
_mwatch_syslog_report (const char *message);

/* The socket _mwatch_syslog_report sends to: /dev/log (tests change it). */
extern const char *_mwatch_report_socket;

#endif /* MWATCH_SYSLOG_SOCKET_PRIVATE_H */
