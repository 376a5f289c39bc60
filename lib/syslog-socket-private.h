/* Internal: datagrams to a local syslog socket, and what the syslog
 * handlers share (syslog-socket.c). */
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

/* The severity of RFC 5424 for a mongowatch level: CRITICAL and above 2,
 * ERROR 3, WARNING 4, INFO 6, DEBUG and below 7. */
int
_mwatch_syslog_severity (int level);

/* What a value shortened to fit a syslog message ends with:
 * "…[truncated N bytes]", N the bytes of the value removed; and the
 * marker's longest text (N of 20 digits). */
#define MWATCH_TRUNCATED_MARK "\xe2\x80\xa6[truncated %zu bytes]"
#define MWATCH_TRUNCATED_MARK_MAX (sizeof MWATCH_TRUNCATED_MARK + 20)

/* The socket _mwatch_syslog_report sends to: /dev/log (tests change it). */
extern const char *_mwatch_report_socket;

#endif /* MWATCH_SYSLOG_SOCKET_PRIVATE_H */
