/* Internal: the thread's context fields (watch-context.c). */
#ifndef MWATCH_WATCH_CONTEXT_PRIVATE_H
#define MWATCH_WATCH_CONTEXT_PRIVATE_H

#include "mongowatch.h"

/* Sets this thread's context fields in `msg` (a new operation's). */
void
_mwatch_context_apply (mwatch_message_t *msg);

#endif /* MWATCH_WATCH_CONTEXT_PRIVATE_H */
