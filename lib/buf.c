/* mwatch_buf_t: the growable text buffer every rendering writes into. */
#include "buf-private.h"

#include <string.h>

void
mwatch_buf_init (mwatch_buf_t *buf)
{
   buf->data = NULL;
   buf->len = 0;
   buf->cap = 0;
}

void
mwatch_buf_destroy (mwatch_buf_t *buf)
{
   bson_free (buf->data);
   mwatch_buf_init (buf);
}

void
mwatch_buf_clear (mwatch_buf_t *buf)
{
   buf->len = 0;
   if (buf->data) {
      buf->data[0] = '\0';
   }
}

/* Grows by doubling so a reused buffer stops allocating once it has seen
 * its longest line. */
void
_mwatch_buf_grow (mwatch_buf_t *buf, size_t extra)
{
   size_t need = buf->len + extra + 1;
   if (need <= buf->cap) {
      return;
   }
   size_t cap = buf->cap ? buf->cap : 256;
   while (cap < need) {
      cap *= 2;
   }
   buf->data = bson_realloc (buf->data, cap);
   buf->cap = cap;
}

void
mwatch_buf_append (mwatch_buf_t *buf, const char *data, size_t len)
{
   _mwatch_buf_put (buf, data, len);
}

void
mwatch_buf_append_str (mwatch_buf_t *buf, const char *str)
{
   mwatch_buf_append (buf, str, strlen (str));
}
