/* Internal interface of the built-in handlers (handler-stream.c,
 * handler-syslog.c, handler-simple.c). */
#ifndef MWATCH_HANDLER_BUILTIN_H
#define MWATCH_HANDLER_BUILTIN_H

#include "mongowatch.h"

#include <sys/types.h>

/* Whether a stream, file or rotating file handler flushes its FILE after
 * every record (the default, so that a handler used directly loses no line
 * when the process later crashes).  A queue listener turns it off for its
 * backend, since it calls mwatch_handler_flush() itself whenever it has
 * nothing more due.  A no-op for any other handler. */
void
_mwatch_stream_handler_set_autoflush (mwatch_handler_t *handler, bool on);

/* Reports a problem of mongowatch's own ("mongowatch: " and the
 * message): on stderr when fd 2 is a terminal, a file or a pipe, else to the
 * local syslog socket (a daemon's fd 2 is /dev/null, or a reused
 * descriptor of the daemon's own).  mongowatch never writes to stdout, which belongs to the
 * application.  In handler-simple.c, as the functions below. */
void
_mwatch_report (const char *format, ...) BSON_GNUC_PRINTF (1, 2);

/* Reports `text` as a WARNING on the logger "mongowatch.stats", where the
 * library's reports of what it lost go; when that logger has no handler
 * (its default: it does not propagate to "mongowatch"), or `closing` (the
 * loggers are being detached), through _mwatch_report() instead. */
void
_mwatch_stats_report (const char *text, bool closing);

/* Sends "mongowatch: MESSAGE" to the syslog socket (user.warning, the program's
 * name and pid), on a socket opened and closed for it.  Not syslog(3),
 * whose connection stays open and is shared with the application: a
 * daemon that closes every descriptor and reuses the number would get
 * the next report in one of its own sockets.  In handler-syslog.c. */
void
_mwatch_syslog_report (const char *message);

/* The socket _mwatch_syslog_report sends to: /dev/log (tests change it). */
extern const char *_mwatch_report_socket;

/* _mwatch_report() unless `*reported` is already set, and sets it.  A
 * handler clears `*reported` when it works again, so that one report
 * stands for one failure however many records it costs. */
void
_mwatch_handler_report_once (bool *reported, const char *format, ...)
   BSON_GNUC_PRINTF (2, 3);

/* What a handler that writes somewhere lost: the records it dropped, and
 * whether the current failure episode was reported.  Kept under the
 * handler's lock, like the rest of its state; zero-initialized. */
typedef struct {
   uint64_t dropped;
   bool reported;
   /* Records dropped since the current episode began (its report). */
   uint64_t episode;
} mwatch_io_stats_t;

/* Counts `records` dropped and, once per episode, reports the failure
 * (the message, then "; dropping records until it works again"). */
void
_mwatch_io_failed (mwatch_io_stats_t *stats, uint64_t records, const char *format, ...)
   BSON_GNUC_PRINTF (3, 4);

/* Ends a failure episode, saying so once when one was reported: "WHAT
 * works again; N records dropped during the failure".  Call it only when a
 * record really reached its destination whole, not when it was merely
 * buffered. */
void
_mwatch_io_works_again (mwatch_io_stats_t *stats, const char *what);

/* At close: "WHAT: N records dropped in all", when any were. */
void
_mwatch_io_report_dropped (const mwatch_io_stats_t *stats, const char *what);

/* A descriptor a handler opened, and the identity (device and inode) of
 * what it was opened on.  A program that closes every descriptor (a
 * daemon, at start) and opens its own files or sockets gets the number
 * for one of them: a handler must then neither write to it nor close it,
 * only forget it and open its own again. */
typedef struct {
   int fd; /* -1 when there is none */
   dev_t dev;
   ino_t ino;
} mwatch_owned_fd_t;

/* Takes `fd` (>= 0), recording its identity; false, with errno set and
 * `fd` closed, if fstat fails. */
bool
_mwatch_owned_fd_take (mwatch_owned_fd_t *owned, int fd);

/* Whether owned->fd is still what it was opened on; if not, forgets it
 * (owned->fd = -1) without closing it.  One fstat: a check only after a
 * fork or a failed write would miss a number reused without either. */
bool
_mwatch_owned_fd_check (mwatch_owned_fd_t *owned);

/* Closes owned->fd if it is still ours, and forgets it either way. */
void
_mwatch_owned_fd_close (mwatch_owned_fd_t *owned);

/* Whether the mask is loading the configuration: a file handler then opens
 * its file at the first record unless `delay: false` says otherwise
 * (handler-stream.c). */
extern bool _mwatch_file_delay_by_default;

#endif
