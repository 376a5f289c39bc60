/* The handler base's internal side: what the queue handler, the logging
 * registry and the built-in handlers need beyond the public API. */
#ifndef MWATCH_HANDLER_H
#define MWATCH_HANDLER_H

#include "mongowatch.h"
#include "record-private.h"

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

/* The emit of a deferred handler of the library's own (the queue
 * handler), which also receives the record's private part. */
typedef void (*mwatch_handler_emit_priv_t) (mwatch_handler_t *handler,
                                            mwatch_record_t *record,
                                            const mwatch_record_priv_t *priv);

/* mwatch_handler_new for such a handler: `emit_priv` is called instead of
 * the vtable's emit for records that come through the pipeline. */
mwatch_handler_t *
_mwatch_handler_new_priv (const mwatch_handler_vtable_t *vtable,
                          void *impl,
                          mwatch_handler_emit_priv_t emit_priv);

/* mwatch_handler_handle for the pipeline: `priv` is the record's private
 * part (mwatch_handler_handle passes MWATCH_RECORD_PRIV_PLAIN). */
bool
_mwatch_handler_handle (mwatch_handler_t *handler,
                        mwatch_record_t *record,
                        const mwatch_record_priv_t *priv);

/* Runs `handler`'s filters on `record`: false when one drops it.  Unless
 * the record's message is its own (`owned`), the filters work on a copy:
 * `record->watch` is pointed at it and `*copy` receives it for the caller
 * to free (NULL when none was made). */
bool
_mwatch_handler_filter (mwatch_handler_t *handler,
                        mwatch_record_t *record,
                        bool owned,
                        mwatch_message_t **copy);

#endif
