/* A pool of equal-sized memory blocks for messages.  A queued message is
 * allocated on an application thread and freed on a listener thread; with
 * glibc's malloc that round trip misses the per-thread caches every time
 * and costs about a thousand instructions each way.  The pool hands the
 * listener's freed blocks straight back to the producers, through a small
 * cache per thread, so that most gets and puts take no lock (see
 * block-pool.c). */
#ifndef MWATCH_BLOCK_POOL_PRIVATE_H
#define MWATCH_BLOCK_POOL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The size of a pooled block; larger requests go to malloc. */
#define MWATCH_BLOCK_SIZE 2048

/* A block of at least `size` bytes; *pooled says where it came from, for
 * _mwatch_block_put. */
void *
_mwatch_block_get (size_t size, bool *pooled);

void
_mwatch_block_put (void *block, bool pooled);

/* For tests: the idle blocks in the shared stack and in the threads' caches
 * (read without the threads' own synchronization: call it when no other
 * thread uses the pool), the caches listed, and how many times the shared
 * stack's lock was taken by a get or a put so far. */
typedef struct {
   size_t shared;
   size_t caches;
   size_t cached;
   uint64_t locks;
} _mwatch_block_pool_stats_t;

void
_mwatch_block_pool_stats (_mwatch_block_pool_stats_t *stats);

#endif
