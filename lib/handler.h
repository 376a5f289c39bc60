/* The handler base's internal side: what the queue handler, the logging
 * registry and the built-in handlers need beyond the public API. */
#ifndef MWATCH_HANDLER_H
#define MWATCH_HANDLER_H

#include "mongowatch.h"

mwatch_handler_t *
_mwatch_handler_ref (mwatch_handler_t *handler);

const mwatch_handler_vtable_t *
_mwatch_handler_vtable (const mwatch_handler_t *handler);

/* fork() support: every live handler's lock is taken before fork, so that
 * no handler is half-way through a write in the child, and buffered output
 * is pushed out first so the child does not inherit and write it again. */
void
_mwatch_handlers_fork_prepare (void);
void
_mwatch_handlers_fork_parent (void);
void
_mwatch_handlers_fork_child (void);

#endif
