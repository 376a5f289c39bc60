/* The handlers that do no I/O of their own: callback and null. */
#include "handler-builtin.h"

/* ------------------------------------------------------------------------
 * Callback
 * ------------------------------------------------------------------------ */

typedef struct {
   mwatch_line_cb_t callback;
   void *user_data;
} callback_impl_t;

static void
callback_emit (mwatch_handler_t *handler, mwatch_record_t *record)
{
   callback_impl_t *impl = mwatch_handler_impl (handler);
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);

   impl->callback (line, len, record, impl->user_data);
}

static const mwatch_handler_vtable_t callback_vtable = {
   .emit = callback_emit,
   .flush = NULL,
   .close = NULL,
   .destroy = bson_free,
   .deferred = false,
};

mwatch_handler_t *
mwatch_callback_handler_new (mwatch_line_cb_t callback, void *user_data)
{
   BSON_ASSERT_PARAM (callback);

   callback_impl_t *impl = bson_malloc (sizeof *impl);
   impl->callback = callback;
   impl->user_data = user_data;
   return mwatch_handler_new (&callback_vtable, impl);
}

/* ------------------------------------------------------------------------
 * Null
 * ------------------------------------------------------------------------ */

/* Not even formatting: a null handler exists so that a logger has a
 * handler (and its records do not fall through to a default), at no cost. */
static void
null_emit (mwatch_handler_t *handler, mwatch_record_t *record)
{
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
mwatch_null_handler_new (void)
{
   return mwatch_handler_new (&null_vtable, NULL);
}
