/* Internal: what the built-in filters share (lists of field names), and
 * the rate filter's clock, which the tests replace to drive its windows
 * without sleeping. */
#ifndef MWATCH_FILTER_PRIVATE_H
#define MWATCH_FILTER_PRIVATE_H

#include "mongoc-compat-private.h"
#include "mongowatch.h"

/* A copy of a NULL-terminated list of strings (NULL for NULL), and its
 * length in *count when `count` is not NULL. */
char **
_mwatch_names_copy (const char *const *names, size_t *count);

void
_mwatch_names_free (char **names);

bool
_mwatch_names_contain (char *const *names, const char *name);

/* Checks that every entry of `names` (NULL-terminated; NULL is fine) is a
 * top-level field name: not empty, no dot.  The error starts with `what`
 * ("fields filter: keep"). */
bool
_mwatch_names_check (const char *const *names, const char *what, bson_error_t *error);

/* The rate filter's clock, mwatch_monotonic_us unless a test set another
 * (NULL puts it back). */
void
_mwatch_filter_rate_set_clock (int64_t (*clock) (void));

/* The implementation of `filter` if its vtable is `vtable`, else NULL
 * (filter.c): how a built-in recognises its own filters. */
void *
_mwatch_filter_impl_of (mwatch_filter_t *filter, const mwatch_filter_vtable_t *vtable);

/* A rate filter with extra_timeout_sec hands out the record it holds for
 * the window going on when the window is due, or at once when `closing`:
 * true, with the record in *out (the caller frees out->watch and
 * out->text), and the window starts anew.  Otherwise false, and *due is
 * lowered to the held record's due time (monotonic microseconds) if it has
 * one.  False for any other filter.  Called by a queue handler's listener
 * (handler.c, _mwatch_handler_filters_release). */
bool
_mwatch_filter_rate_release (mwatch_filter_t *filter, bool closing, mwatch_record_t *out, int64_t *due);

/* Whether `filter` may hold a record for a window (a rate filter with
 * extra_timeout_sec): the handlers that have none never ask the above. */
bool
_mwatch_filter_rate_holds (mwatch_filter_t *filter);

/* Runs `filters` in order on `record` (filter.c): false as soon as one
 * drops it. */
bool
_mwatch_filters_apply (mwatch_filter_t *const *filters, size_t count, mwatch_record_t *record);

/* The private field in which the modify filter lists the fields it set
 * from other fields: { target: { source: covered, ... }, ... }, `covered`
 * true when the source was a document, an array or Error (what the
 * default redaction covers).  The redact filter redacts a target whose
 * source it covers (filter-redact.c). */
#define MWATCH_DERIVED_FIELD "_mwatch_derived"

/* mwatch_filter_new_modify for pymongowatch's ExecuteFilter: only the
 * statements Python's exec runs the same way (no mask(), no del, no dotted
 * path); anything else is refused. */
mwatch_filter_t *
_mwatch_filter_new_modify_python (const char *statements, bool exception_result, bson_error_t *error);

/* Replaces the field `name` by its placeholder redaction (strings as many
 * x, numbers 0, ...), as the redact filter's default mode does: the
 * modify filter's mask(). */
void
_mwatch_redact_mask_field (mwatch_message_t *msg, const char *name);

#endif
