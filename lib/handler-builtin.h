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

/* Whether the mask is loading the configuration: a file handler then opens
 * its file at the first record unless `delay: false` says otherwise
 * (handler-stream.c). */
extern bool _mwatch_file_delay_by_default;

#endif
