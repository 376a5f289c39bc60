/* Internal: reference counts shared by filters, formatters and handlers,
 * and the check of their vtables' reserved slots (inline only). */
#ifndef MWATCH_REFCOUNT_PRIVATE_H
#define MWATCH_REFCOUNT_PRIVATE_H

#include <stdatomic.h>

#include "mongowatch.h"

/* Drops one reference; true when it was the last, and the caller frees.
 * Acquire-release so the freeing thread sees every write made before the
 * other references were dropped (a fence would say the same, but
 * ThreadSanitizer does not follow fences). */
static inline bool
_mwatch_unref (atomic_int *refs)
{
   return atomic_fetch_sub_explicit (refs, 1, memory_order_acq_rel) == 1;
}

/* True when every reserved slot of a vtable is NULL.  A vtable that fills
 * one was written for a later version, whose function this one would
 * never call: its constructor refuses it rather than ignore it. */
static inline bool
_mwatch_reserved_empty (void *const *reserved, size_t count)
{
   for (size_t i = 0; i < count; i++) {
      if (reserved[i]) {
         return false;
      }
   }
   return true;
}

#endif
