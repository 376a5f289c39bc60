/* Internal: the growable text buffer (buf.c) as the writers use it. */
#ifndef MWATCH_BUF_PRIVATE_H
#define MWATCH_BUF_PRIVATE_H

#include "mongowatch.h"

#include <string.h>

/* The writers append many short pieces per line: these inline forms of
 * mwatch_buf_append() cost a compare and a copy when the buffer has room,
 * which once it has seen its longest line it always has. */

/* Makes room for `extra` more bytes plus the terminator. */
void
_mwatch_buf_grow (mwatch_buf_t *buf, size_t extra);

static inline void
_mwatch_buf_put (mwatch_buf_t *buf, const char *data, size_t len)
{
   if (buf->len + len >= buf->cap) {
      _mwatch_buf_grow (buf, len);
   }
   if (len) {
      memcpy (buf->data + buf->len, data, len);
   }
   buf->len += len;
   buf->data[buf->len] = '\0';
}

static inline void
_mwatch_buf_putc (mwatch_buf_t *buf, char c)
{
   if (buf->len + 1 >= buf->cap) {
      _mwatch_buf_grow (buf, 1);
   }
   buf->data[buf->len++] = c;
   buf->data[buf->len] = '\0';
}

/* A string literal. */
#define MWATCH_BUF_PUT_LIT(buf, lit) _mwatch_buf_put ((buf), (lit), sizeof (lit) - 1)

#endif /* MWATCH_BUF_PRIVATE_H */
