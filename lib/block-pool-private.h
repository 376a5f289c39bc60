/* A pool of equal-sized memory blocks for messages.  A queued message is
 * allocated on an application thread and freed on a listener thread; with
 * glibc's malloc that round trip misses the per-thread caches every time
 * and costs about a thousand instructions each way.  The pool hands the
 * listener's freed blocks straight back to the producers, a batch at a
 * time through a small stack per thread (see block-pool.c). */
#ifndef MWATCH_BLOCK_POOL_PRIVATE_H
#define MWATCH_BLOCK_POOL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

/* The size of a pooled block; larger requests go to malloc. */
#define MWATCH_BLOCK_SIZE 2048

/* A block of at least `size` bytes; *pooled says where it came from, for
 * _mwatch_block_put. */
void *
_mwatch_block_get (size_t size, bool *pooled);

void
_mwatch_block_put (void *block, bool pooled);

/* For test/unit/test-thread-caches.c: how many times the calling thread
 * took or gave a batch under the shared stack's lock; how many blocks
 * threads' exits gave back to it. */
size_t
_mwatch_block_pool_visits (void);

size_t
_mwatch_block_pool_exit_returns (void);

#endif
