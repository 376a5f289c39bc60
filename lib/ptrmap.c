/* Pointer map: 64 shards, each a linear-probing table with backward-shift
 * deletion (no tombstones), grown at half full. */
#include "ptrmap-private.h"
#include "fork-private.h"

#include <bson/bson.h>
#include <stdint.h>

/* Every map, for fork(): their shard locks are taken before the process
 * is copied (fork-private.h), so that no child inherits one held by a
 * thread it does not have.  The library has a handful of maps. */
#define MAX_MAPS 8
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static mwatch_ptrmap_t *maps[MAX_MAPS];
static size_t map_count;

/* Shard locks are leaves (a holder takes no other lock), so they are
 * taken last, after every other lock of the library. */
static void
fork_prepare (void)
{
   pthread_mutex_lock (&maps_lock);
   for (size_t m = 0; m < map_count; m++) {
      for (size_t i = 0; i < MWATCH_PTRMAP_SHARDS; i++) {
         pthread_mutex_lock (&maps[m]->shards[i].lock);
      }
   }
}

/* In the parent and in the child alike: the forking thread holds them
 * all, and unlocks them. */
static void
fork_release (void)
{
   for (size_t m = 0; m < map_count; m++) {
      for (size_t i = 0; i < MWATCH_PTRMAP_SHARDS; i++) {
         pthread_mutex_unlock (&maps[m]->shards[i].lock);
      }
   }
   pthread_mutex_unlock (&maps_lock);
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_PTRMAPS, fork_prepare, fork_release, fork_release);
}

static size_t
hash_ptr (const void *key)
{
   /* Allocations are 16-byte aligned: drop the low bits, then mix. */
   uint64_t h = (uint64_t) (uintptr_t) key >> 4;
   h ^= h >> 33;
   h *= 0xff51afd7ed558ccdULL;
   h ^= h >> 33;
   return (size_t) h;
}

static mwatch_ptrmap_shard_t *
shard_of (mwatch_ptrmap_t *map, const void *key, size_t *hash)
{
   *hash = hash_ptr (key);
   return &map->shards[*hash % MWATCH_PTRMAP_SHARDS];
}

void
_mwatch_ptrmap_init (mwatch_ptrmap_t *map)
{
   for (size_t i = 0; i < MWATCH_PTRMAP_SHARDS; i++) {
      pthread_mutex_init (&map->shards[i].lock, NULL);
   }
   atomic_init (&map->count, 0);
   pthread_mutex_lock (&maps_lock);
   BSON_ASSERT (map_count < MAX_MAPS);
   maps[map_count++] = map;
   pthread_mutex_unlock (&maps_lock);
}

/* The slot holding `key`, or the empty slot where it would go. */
static size_t
probe (const mwatch_ptrmap_shard_t *shard, const void *key, size_t hash)
{
   size_t i = (hash / MWATCH_PTRMAP_SHARDS) & shard->mask;
   while (shard->slots[i].key && shard->slots[i].key != key) {
      i = (i + 1) & shard->mask;
   }
   return i;
}

static void
grow (mwatch_ptrmap_shard_t *shard)
{
   mwatch_ptrmap_slot_t *old = shard->slots;
   size_t old_size = old ? shard->mask + 1 : 0;
   size_t size = old_size ? old_size * 2 : 16;
   shard->slots = bson_malloc0 (size * sizeof *shard->slots);
   shard->mask = size - 1;
   for (size_t i = 0; i < old_size; i++) {
      if (old[i].key) {
         size_t j = probe (shard, old[i].key, hash_ptr (old[i].key));
         shard->slots[j] = old[i];
      }
   }
   bson_free (old);
}

void *
_mwatch_ptrmap_put (mwatch_ptrmap_t *map, const void *key, void *value)
{
   size_t hash;
   mwatch_ptrmap_shard_t *shard = shard_of (map, key, &hash);
   pthread_mutex_lock (&shard->lock);
   if (!shard->slots || (shard->count + 1) * 2 > shard->mask + 1) {
      grow (shard);
   }
   size_t i = probe (shard, key, hash);
   void *old = shard->slots[i].value;
   if (!shard->slots[i].key) {
      shard->slots[i].key = key;
      shard->count++;
      atomic_fetch_add_explicit (&map->count, 1, memory_order_relaxed);
      old = NULL;
   }
   shard->slots[i].value = value;
   pthread_mutex_unlock (&shard->lock);
   return old;
}

void *
_mwatch_ptrmap_get (mwatch_ptrmap_t *map, const void *key, void *(*ref) (void *))
{
   size_t hash;
   mwatch_ptrmap_shard_t *shard = shard_of (map, key, &hash);
   void *value = NULL;
   pthread_mutex_lock (&shard->lock);
   if (shard->slots) {
      size_t i = probe (shard, key, hash);
      if (shard->slots[i].key) {
         value = ref ? ref (shard->slots[i].value) : shard->slots[i].value;
      }
   }
   pthread_mutex_unlock (&shard->lock);
   return value;
}

void *
_mwatch_ptrmap_remove (mwatch_ptrmap_t *map, const void *key)
{
   size_t hash;
   mwatch_ptrmap_shard_t *shard = shard_of (map, key, &hash);
   void *value = NULL;
   pthread_mutex_lock (&shard->lock);
   if (shard->slots) {
      size_t i = probe (shard, key, hash);
      if (shard->slots[i].key) {
         value = shard->slots[i].value;
         shard->slots[i].key = NULL;
         shard->count--;
         atomic_fetch_sub_explicit (&map->count, 1, memory_order_relaxed);
         /* Backward shift: move later members of the cluster into the hole
          * when their home slot is not between the hole and them. */
         size_t hole = i;
         for (size_t j = (i + 1) & shard->mask; shard->slots[j].key; j = (j + 1) & shard->mask) {
            size_t home = (hash_ptr (shard->slots[j].key) / MWATCH_PTRMAP_SHARDS) & shard->mask;
            if (((j - home) & shard->mask) >= ((j - hole) & shard->mask)) {
               shard->slots[hole] = shard->slots[j];
               shard->slots[j].key = NULL;
               hole = j;
            }
         }
      }
   }
   pthread_mutex_unlock (&shard->lock);
   return value;
}
