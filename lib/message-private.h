/* WatchMessage internals for the watchers and queues. */
#ifndef MWATCH_MESSAGE_PRIVATE_H
#define MWATCH_MESSAGE_PRIVATE_H

#include "mongowatch.h"

/* Sets the due time (monotonic microseconds) of a message not yet ready. */
void
_mwatch_message_set_due (mwatch_message_t *msg, int64_t due);

/* The WatchMessage view of a BSON element (see mwatch_value_t). */
void
_mwatch_value_from_iter (const bson_iter_t *iter, mwatch_value_t *value);

#endif
