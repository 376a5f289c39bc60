/* The handler base's internal side: what the queue handler, the logging
 * registry and the built-in handlers need beyond the public API. */
#ifndef MWATCH_HANDLER_H
#define MWATCH_HANDLER_H

#include "mongowatch.h"

mwatch_handler_t *
_mwatch_handler_ref (mwatch_handler_t *handler);

const mwatch_handler_vtable_t *
_mwatch_handler_vtable (const mwatch_handler_t *handler);

/* Makes mwatch_handler_destroy close `handler` but never free it (nor its
 * implementation): for a queue handler whose listener is stuck in a
 * stalled backend at close and may still touch it. */
void
_mwatch_handler_keep (mwatch_handler_t *handler);

/* Marks a handler about to be closed because a new configuration replaced
 * it, not because the process shuts down: a queue then leaves running
 * operations to the new configuration instead of timing them out. */
void
_mwatch_handler_retire (mwatch_handler_t *handler);

bool
_mwatch_handler_is_retiring (const mwatch_handler_t *handler);

/* Runs `handler`'s filters on `record`: false when one drops it.  Unless
 * the record's message is its own (priv_owned), the filters work on a
 * copy: `record->watch` is pointed at it and `*copy` receives it for the
 * caller to free (NULL when none was made). */
bool
_mwatch_handler_filter (mwatch_handler_t *handler,
                        mwatch_record_t *record,
                        mwatch_message_t **copy);

#endif
