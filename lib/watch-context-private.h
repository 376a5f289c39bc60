/* Internal: the thread's context fields (watch-context.c). */
#ifndef MWATCH_WATCH_CONTEXT_PRIVATE_H
#define MWATCH_WATCH_CONTEXT_PRIVATE_H

#include "mongowatch.h"

/* The context fields in force when an operation started: immutable,
 * reference counted, NULL when the thread had none. */
typedef struct _mwatch_context_t mwatch_context_t;

/* A reference to this thread's context fields as they are now. */
mwatch_context_t *
_mwatch_context_capture (void);

/* NULL-tolerant. */
void
_mwatch_context_release (mwatch_context_t *ctx);

/* Sets the fields of `ctx` in `msg` (a new operation's), in order. */
void
_mwatch_context_apply (const mwatch_context_t *ctx, mwatch_message_t *msg);

#endif /* MWATCH_WATCH_CONTEXT_PRIVATE_H */
