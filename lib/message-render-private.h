/* Internal: a WatchMessage's values and records as text, for formatters
 * and handlers (message-render.c). */
#ifndef MWATCH_MESSAGE_RENDER_PRIVATE_H
#define MWATCH_MESSAGE_RENDER_PRIVATE_H

#include "buf-private.h"

/* The separators of the key=value renderings ({watch}, {watch.full}):
 * between two fields (`delimiter`, " " by default) and between a key and
 * its value (`key_value`, "="); NULL for a default.  Process-wide, as
 * pymongowatch's WatchMessage attributes are; the strings are copied.  A
 * line rendered meanwhile on another thread uses the old pair or the new
 * one whole. */
void
_mwatch_render_set_separators (const char *delimiter, const char *key_value);

/* A value as in the key=value renderings. */
void
_mwatch_render_value_text (mwatch_buf_t *out, const mwatch_value_t *value);

/* A value as a CSV cell's content, before the cell is quoted. */
void
_mwatch_render_value_csv (mwatch_buf_t *out, const mwatch_value_t *value);

/* `len` bytes of text as one CSV cell: U+FFFD for what is not UTF-8,
 * line breaks escaped when `escape` (see _mwatch_message_render_csv_ex),
 * quoted when RFC 4180 requires it. */
void
_mwatch_render_csv_cell (mwatch_buf_t *out, const char *text, size_t len, bool escape);

/* mwatch_message_render_csv(), with each cell's line breaks written as
 * the two characters \n and \r and each backslash doubled when `escape`
 * (a formatter's csv_escape_newlines): every record on one physical line,
 * for shippers that read a line at a time. */
void
_mwatch_message_render_csv_ex (const mwatch_message_t *msg,
                               const char *const *columns,
                               bool escape,
                               mwatch_buf_t *out);

/* A value as JSON, as in mwatch_message_render_json(). */
void
_mwatch_render_value_json (mwatch_buf_t *out, const mwatch_value_t *value);

#endif /* MWATCH_MESSAGE_RENDER_PRIVATE_H */
