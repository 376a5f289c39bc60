/* Internal: the handlers (handler.c, the base, and handler-*.c, the
 * built-in ones) as the loggers, the queue handler, the configuration
 * loader and the mask use them beyond the public API. */
#ifndef MWATCH_HANDLER_PRIVATE_H
#define MWATCH_HANDLER_PRIVATE_H

#include "mongoc-compat-private.h"
#include "mongowatch.h"
#include "record-private.h"

#include <sys/types.h>
#include <stdatomic.h>

/* The generation of what a record's route depends on: the loggers'
 * levels, propagation, handlers and filters, the handlers' levels, the
 * configuration installed.  Every such change bumps it (after making the
 * change), so that answers cached against it (mwatch_level_cache_t, the
 * per-thread routes of logger.c) are taken again.  Here, below the
 * loggers, because a handler's level is one of them. */
extern atomic_uint _mwatch_levels_generation;

void
_mwatch_route_generation_bump (void);

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

/* Whether `handler` would want the message of `record` now, on the
 * calling thread: false when it would not take the record, or takes it
 * as a queue of the library's does, as a stub whose message its listener
 * builds (priv->lazy). */
bool
_mwatch_handler_needs_message (mwatch_handler_t *handler,
                               const mwatch_record_t *record,
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

/* Hands each record a rate filter of `handler` holds for a window that is
 * due (all of them when `closing`) through the filters after it and then
 * to `emit`, outside the handler's lock; returns the earliest due time
 * (monotonic microseconds) of the records still held, INT64_MAX if none.
 * The queue handler's listener calls it (see filter-rate.c). */
int64_t
_mwatch_handler_filters_release (mwatch_handler_t *handler,
                                 bool closing,
                                 void (*emit) (void *ctx, mwatch_record_t *record),
                                 void *ctx);

/* ---------------------------------------------------------------- built-in handlers */


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

/* Between these two calls on a thread (nested: the outermost pair counts),
 * the queue handlers' puts leave the wake-up of their listener until the
 * end.  A watch ends its operation inside its lock, which the listener
 * takes to build the record: woken at the put, the listener found that
 * lock still held in about 40 % of the records of a find against
 * FerretDB, and slept on it, at the cost of two more context switches and
 * three more system calls per record.  The puts use
 * _mwatch_queue_put_owing (queue-private.h). */
void
_mwatch_queue_handlers_defer_wakes (void);

void
_mwatch_queue_handlers_send_wakes (void);

/* For tests: a queue handler's queue (NULL for another handler). */
mwatch_queue_t *
_mwatch_queue_handler_queue (mwatch_handler_t *handler);

#endif /* MWATCH_HANDLER_PRIVATE_H */
