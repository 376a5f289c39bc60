/* Internal: the watchers' process-wide configuration (watch-options.c). */
#ifndef MWATCH_WATCH_OPTIONS_PRIVATE_H
#define MWATCH_WATCH_OPTIONS_PRIVATE_H

#include "mongowatch.h"

/* A set of field mappings (mwatch_watcher_set_operation_maps), immutable
 * once made and reference counted: a watch holds the set in force when it
 * started, so a reload never changes a running operation's field names
 * half-way. */
typedef struct _mwatch_op_maps_t mwatch_op_maps_t;

/* The options and mappings of `kind` in force, taken together under one
 * lock, so that a watch starts on one consistent configuration: the
 * options into *opts, the mappings returned (a reference, or NULL for
 * none). */
mwatch_op_maps_t *
_mwatch_watcher_config (mwatch_watcher_kind_t kind, mwatch_watcher_opts_t *opts);

void
_mwatch_op_maps_unref (mwatch_op_maps_t *maps);

/* The name the field `key` goes by in the records of `operation`: renamed,
 * or NULL when dropped.  Mappings for "*" apply first, then those of the
 * operation. */
const char *
_mwatch_op_maps_name (const mwatch_op_maps_t *maps, const char *operation, const char *key);

/* Applies the mappings to the fields an operation started with (its
 * arguments, the context) in `msg`, and adds the constant fields. */
void
_mwatch_op_maps_apply (const mwatch_op_maps_t *maps, const char *operation, mwatch_message_t *msg);

/* The logger a kind of watcher writes to. */
mwatch_logger_t *
_mwatch_watcher_logger (mwatch_watcher_kind_t kind);

#endif /* MWATCH_WATCH_OPTIONS_PRIVATE_H */
