/* Internal interface of the built-in handlers (handler-stream.c,
 * handler-syslog.c, handler-simple.c). */
#ifndef MWATCH_HANDLER_BUILTIN_H
#define MWATCH_HANDLER_BUILTIN_H

#include "mongowatch.h"

/* Whether a stream, file or rotating file handler flushes its FILE after
 * every record (the default, so that a handler used directly loses no line
 * when the process later crashes).  A queue listener turns it off for its
 * backend, since it calls mwatch_handler_flush() itself whenever it has
 * nothing more due.  A no-op for any other handler. */
void
_mwatch_stream_handler_set_autoflush (mwatch_handler_t *handler, bool on);

/* Reports a handler's I/O failure on stderr ("mongowatch: " and the
 * message) unless `*reported` is already set, and sets it.  mongowatch
 * never writes to stdout, which belongs to the application.  A handler
 * clears `*reported` when it works again, so that one report stands for
 * one failure however many records it costs.  In handler-simple.c. */
void
_mwatch_handler_report_once (bool *reported, const char *format, ...)
   BSON_GNUC_PRINTF (2, 3);

#endif
