/* The handlers that do no I/O of their own: callback and null. */
#include "handler-private.h"

/* ------------------------------------------------------------------------
 * Callback
 * ------------------------------------------------------------------------ */

typedef struct {
   mwatch_line_cb_t callback;
   void *user_data;
   void (*free_user_data) (void *);
} callback_impl_t;

static void
callback_emit (void *data, mwatch_handler_t *handler, mwatch_record_t *record)
{
   callback_impl_t *impl = data;
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);

   impl->callback (line, len, record, impl->user_data);
}

static void
callback_destroy (void *data)
{
   callback_impl_t *impl = data;
   if (impl->free_user_data) {
      impl->free_user_data (impl->user_data);
   }
   bson_free (impl);
}

static const mwatch_handler_vtable_t callback_vtable = {
   .emit = callback_emit,
   .flush = NULL,
   .close = NULL,
   .destroy = callback_destroy,
   .deferred = false,
};

mwatch_handler_t *
mwatch_handler_new_callback (mwatch_line_cb_t callback,
                             void *user_data,
                             void (*free_user_data) (void *))
{
   BSON_ASSERT_PARAM (callback);

   callback_impl_t *impl = bson_malloc (sizeof *impl);
   impl->callback = callback;
   impl->user_data = user_data;
   impl->free_user_data = free_user_data;
   return mwatch_handler_new (&callback_vtable, impl);
}

/* ------------------------------------------------------------------------
 * Null
 * ------------------------------------------------------------------------ */

/* Not even formatting: a null handler exists so that a logger has a
 * handler (and its records do not fall through to a default), at no cost. */
static void
null_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   BSON_UNUSED (impl);
   BSON_UNUSED (handler);
   BSON_UNUSED (record);
}

static const mwatch_handler_vtable_t null_vtable = {
   .emit = null_emit,
   .flush = NULL,
   .close = NULL,
   .destroy = NULL,
   .deferred = false,
};

mwatch_handler_t *
mwatch_handler_new_null (void)
{
   return mwatch_handler_new (&null_vtable, NULL);
}
