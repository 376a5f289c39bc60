/* Filters: a vtable with its implementation, reference counted because one
 * filter may sit on several handlers and loggers. */
#include "filter-private.h"
#include "refcount-private.h"
#include "mongowatch.h"

struct _mwatch_filter_t {
   const mwatch_filter_vtable_t *vtable;
   void *impl;
   atomic_int refs;
};

mwatch_filter_t *
mwatch_filter_new (const mwatch_filter_vtable_t *vtable, void *impl)
{
   if (!vtable || !vtable->filter ||
       !_mwatch_reserved_empty (vtable->reserved, sizeof vtable->reserved / sizeof *vtable->reserved)) {
      return NULL;
   }
   mwatch_filter_t *filter = bson_malloc0 (sizeof *filter);
   filter->vtable = vtable;
   filter->impl = impl;
   atomic_init (&filter->refs, 1);
   return filter;
}

typedef struct {
   mwatch_filter_cb_t callback;
   void *user_data;
   void (*free_user_data) (void *);
} callback_filter_t;

static bool
callback_filter (void *impl, mwatch_filter_t *self, mwatch_record_t *record)
{
   BSON_UNUSED (self);
   callback_filter_t *cb = impl;
   return cb->callback (record, cb->user_data);
}

static void
callback_destroy (void *impl)
{
   callback_filter_t *cb = impl;
   if (cb->free_user_data) {
      cb->free_user_data (cb->user_data);
   }
   bson_free (cb);
}

static const mwatch_filter_vtable_t callback_vtable = {
   .filter = callback_filter,
   .destroy = callback_destroy,
};

mwatch_filter_t *
mwatch_filter_new_callback (mwatch_filter_cb_t callback,
                            void *user_data,
                            void (*free_user_data) (void *))
{
   if (!callback) {
      return NULL;
   }
   callback_filter_t *cb = bson_malloc (sizeof *cb);
   cb->callback = callback;
   cb->user_data = user_data;
   cb->free_user_data = free_user_data;
   return mwatch_filter_new (&callback_vtable, cb);
}

bool
mwatch_filter_apply (mwatch_filter_t *filter, mwatch_record_t *record)
{
   return filter->vtable->filter (filter->impl, filter, record);
}

mwatch_filter_t *
mwatch_filter_ref (mwatch_filter_t *filter)
{
   if (filter) {
      atomic_fetch_add_explicit (&filter->refs, 1, memory_order_relaxed);
   }
   return filter;
}

void
mwatch_filter_destroy (mwatch_filter_t *filter)
{
   if (!filter || !_mwatch_unref (&filter->refs)) {
      return;
   }
   if (filter->vtable->destroy) {
      filter->vtable->destroy (filter->impl);
   }
   bson_free (filter);
}

void *
_mwatch_filter_impl_of (mwatch_filter_t *filter, const mwatch_filter_vtable_t *vtable)
{
   return filter && filter->vtable == vtable ? filter->impl : NULL;
}

/* Runs `filters` in order; the first that drops the record ends it. */
bool
_mwatch_filters_apply (mwatch_filter_t *const *filters, size_t count, mwatch_record_t *record)
{
   for (size_t i = 0; i < count; i++) {
      if (!mwatch_filter_apply (filters[i], record)) {
         return false;
      }
   }
   return true;
}
