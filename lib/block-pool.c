/* The message block pool: a stack of free blocks under a mutex, bounded so
 * that a burst does not keep its memory for ever, and in front of it a
 * small stack per thread, so that a block is taken or given back without
 * the mutex: the shared stack is visited once per BATCH blocks, to take a
 * batch when the thread's stack is empty, or to give one back when it is
 * full.  A block made on an application thread is freed on a listener, so
 * the blocks flow from the listener's stack through the shared one to the
 * application's, a batch at a time. */
#include "block-pool-private.h"
#include "fast-tls-private.h"
#include "fork-private.h"

#include <bson/bson.h>
#include <pthread.h>
#include <stdatomic.h>

/* Idle blocks kept at most in the shared stack: 2 MiB. */
#define POOL_MAX 1024
/* In each thread's: 64 KiB. */
#define LOCAL_MAX 32
/* Blocks moved at once between a thread's stack and the shared one. */
#define BATCH 16

typedef struct free_block {
   struct free_block *next;
} free_block_t;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static free_block_t *pool_head;
static size_t pool_count;
/* For the test: the times this thread visited the shared stack, and the
 * blocks threads' exits gave back. */
static _Thread_local size_t pool_visits;
static atomic_size_t exit_returns;

/* The thread's own stack; `local_closed` once the thread's exit gave it
 * back (a destructor that runs after that one frees straight to the
 * shared stack). */
static _Thread_local free_block_t *local_head MWATCH_FAST_TLS;
static _Thread_local unsigned local_count MWATCH_FAST_TLS;
static _Thread_local bool local_registered MWATCH_FAST_TLS;
static _Thread_local bool local_closed MWATCH_FAST_TLS;
static pthread_key_t local_key;
static pthread_once_t local_once = PTHREAD_ONCE_INIT;
/* Without a key (pthread_key_create failed: the process used up
 * PTHREAD_KEYS_MAX) no exit would give a thread's stack back: every
 * thread then works on the shared stack alone, as a closed one does. */
static bool local_key_made;

/* The lock is a leaf, taken after the queues' before fork() and released
 * before theirs after: in the child, the queues discard the parent's
 * records into the pool. */
MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_BLOCK_POOL, &pool_lock, NULL);
}

/* Gives the `n` blocks from `head` to the shared stack (those beyond its
 * bound to free), under its lock. */
static void
shared_give (free_block_t *head, size_t n)
{
   free_block_t *excess = NULL;
   pthread_mutex_lock (&pool_lock);
   pool_visits++;
   while (head && n--) {
      free_block_t *next = head->next;
      if (pool_count < POOL_MAX) {
         head->next = pool_head;
         pool_head = head;
         pool_count++;
      } else {
         head->next = excess;
         excess = head;
      }
      head = next;
   }
   pthread_mutex_unlock (&pool_lock);
   while (excess) {
      free_block_t *next = excess->next;
      bson_free (excess);
      excess = next;
   }
}

/* The thread ends: its stack goes to the shared one. */
static void
local_release (void *unused)
{
   (void) unused;
   local_closed = true;
   local_registered = false;
   atomic_fetch_add_explicit (&exit_returns, local_count, memory_order_relaxed);
   shared_give (local_head, local_count);
   local_head = NULL;
   local_count = 0;
}

static void
local_init (void)
{
   local_key_made = pthread_key_create (&local_key, local_release) == 0;
}

/* The first use of the thread's stack: its exit must give it back. */
static __attribute__ ((noinline)) void
local_register (void)
{
   pthread_once (&local_once, local_init);
   if (!local_key_made) {
      local_closed = true;
      return;
   }
   pthread_setspecific (local_key, &local_head);
   local_registered = true;
}

/* The thread's stack is empty: a batch from the shared stack, the first
 * of it returned, or NULL when the shared stack is empty too. */
static __attribute__ ((noinline)) free_block_t *
shared_take (void)
{
   if (!local_registered && !local_closed) {
      local_register ();
   }
   pthread_mutex_lock (&pool_lock);
   pool_visits++;
   free_block_t *block = pool_head;
   if (block && local_closed) {
      pool_head = block->next;
      pool_count--;
   } else if (block) {
      /* The rest of the batch stays on the thread for its next gets. */
      size_t n = 1;
      free_block_t *last = block;
      while (n < BATCH && last->next) {
         last = last->next;
         n++;
      }
      pool_head = last->next;
      pool_count -= n;
      last->next = NULL;
      local_head = block->next;
      local_count = (unsigned) n - 1;
   }
   pthread_mutex_unlock (&pool_lock);
   return block;
}

void *
_mwatch_block_get (size_t size, bool *pooled)
{
   *pooled = size <= MWATCH_BLOCK_SIZE;
   if (!*pooled) {
      return bson_malloc (size);
   }
   free_block_t *block = local_head;
   if (BSON_LIKELY (block)) {
      local_head = block->next;
      local_count--;
      return block;
   }
   block = shared_take ();
   return block ? (void *) block : bson_malloc (MWATCH_BLOCK_SIZE);
}

/* The thread's stack is full (or closed): the block and a batch of the
 * stack to the shared one. */
static __attribute__ ((noinline)) void
local_spill (free_block_t *block)
{
   if (!local_registered && !local_closed) {
      local_register ();
   }
   if (!local_closed && local_count < LOCAL_MAX) {
      block->next = local_head;
      local_head = block;
      local_count++;
      return;
   }
   size_t n = 1;
   if (!local_closed) {
      /* The block heads BATCH - 1 of the stack's. */
      block->next = local_head;
      free_block_t *last = block;
      while (n < BATCH) {
         last = last->next;
         n++;
      }
      local_head = last->next;
      local_count -= (unsigned) n - 1;
   }
   shared_give (block, n);
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
   free_block_t *free_block = block;
   if (BSON_LIKELY (local_registered && local_count < LOCAL_MAX)) {
      free_block->next = local_head;
      local_head = free_block;
      local_count++;
      return;
   }
   local_spill (free_block);
}

size_t
_mwatch_block_pool_visits (void)
{
   return pool_visits;
}

size_t
_mwatch_block_pool_exit_returns (void)
{
   return atomic_load_explicit (&exit_returns, memory_order_relaxed);
}
