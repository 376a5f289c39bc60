/* The message block pool: a stack of free blocks under a mutex, bounded so
 * that a burst does not keep its memory for ever, with a small cache per
 * thread in front of it.
 *
 * Blocks flow one way: the application's threads take them (a watch, its
 * message, the copies for queues) and a queue's listener gives most of them
 * back.  With the shared stack alone that was a lock and an unlock per block
 * on each side (about 5 per find on the application's thread, ~75
 * instructions each).  So each thread keeps up to CACHE_MAX blocks of its
 * own, taken without any lock, and moves them between its cache and the
 * shared stack CACHE_BATCH at a time: one lock per CACHE_BATCH blocks.
 *
 * A thread's cache is on the heap and listed (under pool_lock), so that its
 * blocks go back to the shared stack when the thread ends (a thread-specific
 * key's destructor), and in a fork() child, where only the forking thread
 * lives on, the other threads' caches are taken back. */
#include "block-pool-private.h"
#include "fast-tls-private.h"
#include "fork-private.h"

#include <bson/bson.h>
#include <pthread.h>
#include <stdatomic.h>

/* Idle blocks kept at most in the shared stack: 2 MiB. */
#define POOL_MAX 1024
/* Idle blocks a thread keeps at most (32 KiB), and how many move between
 * its cache and the shared stack at once. */
#define CACHE_MAX 16
#define CACHE_BATCH 8

typedef struct free_block {
   struct free_block *next;
} free_block_t;

typedef struct thread_cache {
   free_block_t *head;
   size_t count;
   /* Every thread's cache, under pool_lock. */
   struct thread_cache *prev;
   struct thread_cache *next;
} thread_cache_t;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static free_block_t *pool_head;
static size_t pool_count;
/* pool_count as last set under the lock, read without it: a get that would
 * find the shared stack empty allocates without taking the lock (a cold
 * pool would otherwise cost a lock per block). */
static atomic_size_t pool_hint;
static thread_cache_t *caches;
static uint64_t pool_locks; /* for _mwatch_block_pool_stats */

static _Thread_local thread_cache_t *my_cache MWATCH_FAST_TLS;
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

/* Moves up to `n` blocks from the front of `*from` (counted by *from_count)
 * to the front of `*to`.  Returns how many moved. */
static size_t
move_blocks (free_block_t **from, size_t *from_count, free_block_t **to, size_t n)
{
   size_t moved = 0;
   while (moved < n && *from) {
      free_block_t *block = *from;
      *from = block->next;
      block->next = *to;
      *to = block;
      moved++;
   }
   *from_count -= moved;
   return moved;
}

/* Under pool_lock, after pool_count changed. */
static void
publish_count (void)
{
   atomic_store_explicit (&pool_hint, pool_count, memory_order_relaxed);
}

/* Under pool_lock: all of `cache`'s blocks to the shared stack, up to its
 * bound; the rest are returned as a list to free after the unlock. */
static free_block_t *
cache_drain_locked (thread_cache_t *cache)
{
   size_t room = POOL_MAX - pool_count;
   pool_count += move_blocks (&cache->head, &cache->count, &pool_head, room);
   publish_count ();
   free_block_t *excess = cache->head;
   cache->head = NULL;
   cache->count = 0;
   return excess;
}

static void
free_list (free_block_t *block)
{
   while (block) {
      free_block_t *next = block->next;
      bson_free (block);
      block = next;
   }
}

static void
cache_unlink_locked (thread_cache_t *cache)
{
   if (cache->prev) {
      cache->prev->next = cache->next;
   } else {
      caches = cache->next;
   }
   if (cache->next) {
      cache->next->prev = cache->prev;
   }
}

/* The key's destructor, as a thread ends: its blocks go back. */
static void
cache_release (void *value)
{
   thread_cache_t *cache = value;
   pthread_mutex_lock (&pool_lock);
   free_block_t *excess = cache_drain_locked (cache);
   cache_unlink_locked (cache);
   pthread_mutex_unlock (&pool_lock);
   if (my_cache == cache) {
      my_cache = NULL;
   }
   free_list (excess);
   bson_free (cache);
}

static void
cache_key_init (void)
{
   pthread_key_create (&cache_key, cache_release);
}

/* The calling thread's cache, made and listed on its first slow path; NULL
 * if the thread could not be given one (it then uses the shared stack). */
static thread_cache_t *
cache_get (void)
{
   if (my_cache) {
      return my_cache;
   }
   pthread_once (&cache_key_once, cache_key_init);
   thread_cache_t *cache = bson_malloc0 (sizeof *cache);
   if (pthread_setspecific (cache_key, cache) != 0) {
      bson_free (cache);
      return NULL;
   }
   pthread_mutex_lock (&pool_lock);
   cache->next = caches;
   if (caches) {
      caches->prev = cache;
   }
   caches = cache;
   pthread_mutex_unlock (&pool_lock);
   my_cache = cache;
   return cache;
}

/* In the fork() child, with pool_lock held: the caches of the threads that
 * did not survive the fork go back to the shared stack. */
static void
fork_child (void)
{
   thread_cache_t *cache = caches;
   while (cache) {
      thread_cache_t *next = cache->next;
      if (cache != my_cache) {
         free_list (cache_drain_locked (cache));
         cache_unlink_locked (cache);
         bson_free (cache);
      }
      cache = next;
   }
}

/* The lock is a leaf, taken after the queues' before fork() and released
 * before theirs after: in the child, the queues discard the parent's
 * records into the pool. */
MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_BLOCK_POOL, &pool_lock, fork_child);
}

void *
_mwatch_block_get (size_t size, bool *pooled)
{
   *pooled = size <= MWATCH_BLOCK_SIZE;
   if (!*pooled) {
      return bson_malloc (size);
   }
   thread_cache_t *cache = my_cache;
   if (!cache || !cache->head) {
      if (!atomic_load_explicit (&pool_hint, memory_order_relaxed)) {
         return bson_malloc (MWATCH_BLOCK_SIZE);
      }
      cache = cache_get ();
      if (!cache) {
         return bson_malloc (MWATCH_BLOCK_SIZE);
      }
      pthread_mutex_lock (&pool_lock);
      pool_locks++;
      cache->count += move_blocks (&pool_head, &pool_count, &cache->head, CACHE_BATCH);
      publish_count ();
      pthread_mutex_unlock (&pool_lock);
      if (!cache->head) {
         return bson_malloc (MWATCH_BLOCK_SIZE);
      }
   }
   free_block_t *block = cache->head;
   cache->head = block->next;
   cache->count--;
   return block;
}

void
_mwatch_block_put (void *block, bool pooled)
{
   if (!block) {
      return;
   }
   if (!pooled) {
      bson_free (block);
      return;
   }
   thread_cache_t *cache = my_cache;
   if (!cache) {
      cache = cache_get ();
      if (!cache) {
         bson_free (block);
         return;
      }
   }
   free_block_t *free_block = block;
   free_block->next = cache->head;
   cache->head = free_block;
   if (++cache->count <= CACHE_MAX) {
      return;
   }
   /* Full: a batch goes to the shared stack, or is freed past its bound. */
   free_block_t *excess = NULL;
   pthread_mutex_lock (&pool_lock);
   pool_locks++;
   size_t room = POOL_MAX - pool_count;
   size_t batch = CACHE_BATCH < room ? CACHE_BATCH : room;
   pool_count += move_blocks (&cache->head, &cache->count, &pool_head, batch);
   publish_count ();
   pthread_mutex_unlock (&pool_lock);
   move_blocks (&cache->head, &cache->count, &excess, CACHE_BATCH - batch);
   free_list (excess);
}

void
_mwatch_block_pool_stats (_mwatch_block_pool_stats_t *stats)
{
   pthread_mutex_lock (&pool_lock);
   stats->shared = pool_count;
   stats->locks = pool_locks;
   stats->caches = 0;
   stats->cached = 0;
   for (const thread_cache_t *cache = caches; cache; cache = cache->next) {
      stats->caches++;
      stats->cached += cache->count;
   }
   pthread_mutex_unlock (&pool_lock);
}
