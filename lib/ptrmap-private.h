/* A thread-safe map from pointers (the application's cursors, collections,
 * bulk operations) to our state for them.  Sharded, so that threads using
 * different objects rarely meet on a lock. */
#ifndef MWATCH_PTRMAP_PRIVATE_H
#define MWATCH_PTRMAP_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define MWATCH_PTRMAP_SHARDS 64

typedef struct {
   const void *key;
   void *value;
} mwatch_ptrmap_slot_t;

typedef struct {
   pthread_mutex_t lock;
   mwatch_ptrmap_slot_t *slots; /* open addressing; key NULL = empty */
   size_t mask;
   size_t count;
} mwatch_ptrmap_shard_t;

typedef struct {
   mwatch_ptrmap_shard_t shards[MWATCH_PTRMAP_SHARDS];
   atomic_size_t count; /* lets callers skip the lookup when empty */
} mwatch_ptrmap_t;

/* A map needs no set-up beyond zeroed static storage plus this, which
 * also puts its shard locks in fork's hands (fork-private.h): a child
 * could otherwise inherit a shard locked by a thread that is gone, and
 * wait for ever on its next lookup. */
void
_mwatch_ptrmap_init (mwatch_ptrmap_t *map);

/* Sets key's value, returning the value it replaces (or NULL). */
void *
_mwatch_ptrmap_put (mwatch_ptrmap_t *map, const void *key, void *value);

/* The value of `key`, or NULL.  With `ref`, called on the value under the
 * shard's lock, so that a value found is kept alive against a concurrent
 * removal. */
void *
_mwatch_ptrmap_get (mwatch_ptrmap_t *map, const void *key, void *(*ref) (void *));

/* Removes `key` and returns its value (or NULL). */
void *
_mwatch_ptrmap_remove (mwatch_ptrmap_t *map, const void *key);

static inline size_t
_mwatch_ptrmap_count (mwatch_ptrmap_t *map)
{
   return atomic_load_explicit (&map->count, memory_order_relaxed);
}

#endif
