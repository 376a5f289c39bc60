/* WatchMessage internals for the watchers and queues. */
#ifndef MWATCH_MESSAGE_PRIVATE_H
#define MWATCH_MESSAGE_PRIVATE_H

#include "mongowatch.h"

/* Sets the due time (monotonic microseconds) of a message not yet ready. */
void
_mwatch_message_set_due (mwatch_message_t *msg, int64_t due);

#endif
