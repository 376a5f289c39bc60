/* The message block pool: a stack of free blocks under a mutex, bounded so
 * that a burst does not keep its memory for ever. */
#include "block-pool-private.h"
#include "fork-private.h"

#include <bson/bson.h>
#include <pthread.h>

/* Idle blocks kept at most: 2 MiB. */
#define POOL_MAX 1024

typedef struct free_block {
   struct free_block *next;
} free_block_t;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static free_block_t *pool_head;
static size_t pool_count;

/* The lock is a leaf, taken after the queues' before fork() and released
 * before theirs after: in the child, the queues discard the parent's
 * records into the pool. */
MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_BLOCK_POOL, &pool_lock, NULL);
}

void *
_mwatch_block_get (size_t size, bool *pooled)
{
   *pooled = size <= MWATCH_BLOCK_SIZE;
   if (!*pooled) {
      return bson_malloc (size);
   }
   pthread_mutex_lock (&pool_lock);
   free_block_t *block = pool_head;
   if (block) {
      pool_head = block->next;
      pool_count--;
   }
   pthread_mutex_unlock (&pool_lock);
   return block ? (void *) block : bson_malloc (MWATCH_BLOCK_SIZE);
}

void
_mwatch_block_put (void *block, bool pooled)
{
   if (!block) {
      return;
   }
   if (pooled) {
      pthread_mutex_lock (&pool_lock);
      if (pool_count < POOL_MAX) {
         free_block_t *free_block = block;
         free_block->next = pool_head;
         pool_head = free_block;
         pool_count++;
         block = NULL;
      }
      pthread_mutex_unlock (&pool_lock);
   }
   bson_free (block);
}
