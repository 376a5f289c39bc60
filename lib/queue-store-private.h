/* The storage behind a WatchQueue, without any locking: entry slots, an
 * indexed min-heap on (due, seq), a FIFO for entries put in order of due
 * time, a hash map WatchID -> slot, and an arrival-order list.  The queue
 * (queue.c) serializes every call.
 *
 * The FIFO is the fast path: a ready record's due time is the time of its
 * put (plus a fixed delay), so ready records come in order of (due, seq)
 * and need no heap.  Pushing one and taking the head are O(1), where the
 * heap's sift-down on every take cost ~600 instructions in a long queue.
 * The entry due first is then the earlier of the FIFO's head and the
 * heap's top.
 *
 * Entries are named by slot index, not by pointer, because the slot array
 * moves when it grows.  Storage grows geometrically up to a limit and is
 * then reused through a free list, so a warm store never allocates. */
#ifndef MWATCH_QUEUE_STORE_PRIVATE_H
#define MWATCH_QUEUE_STORE_PRIVATE_H

#include "mongowatch.h"

#include <string.h>

/* "No slot": an empty hash bucket, the end of a list, not in the heap. */
#define MWATCH_QSTORE_NONE SIZE_MAX
/* An entry's heap_pos while it is in the FIFO instead of the heap. */
#define MWATCH_QSTORE_IN_FIFO (SIZE_MAX - 1)

typedef struct {
   mwatch_message_t *msg;
   void *data;
   int64_t due;
   uint64_t seq;  /* breaks ties in due time by put order */
   uint64_t hash; /* of the WatchID, kept so rehashing and deletion need not
                     touch the message */
   size_t bytes; /* the message's size, set by the queue for its count */
   size_t heap_pos; /* or MWATCH_QSTORE_IN_FIFO */
   size_t fifo_prev; /* FIFO order, while in the FIFO */
   size_t fifo_next;
   size_t older; /* arrival order; `newer` also links the free list */
   size_t newer;
} mwatch_qentry_t;

typedef struct {
   mwatch_qentry_t *slots;
   size_t slot_cap;
   size_t limit; /* slot_cap never grows past this */
   size_t free_head;
   size_t *heap;
   size_t heap_count;
   size_t count; /* entries in all: heap and FIFO */
   size_t fifo_head;
   size_t fifo_tail;
   size_t *table; /* slot indices, MWATCH_QSTORE_NONE when empty */
   size_t table_mask;
   size_t oldest;
   size_t newest;
   uint64_t next_seq;
} mwatch_qstore_t;

void
_mwatch_qstore_init (mwatch_qstore_t *store, size_t limit);

/* Frees the storage only: the caller takes the messages out first. */
void
_mwatch_qstore_destroy (mwatch_qstore_t *store);

/* The hash of a WatchID by which the store files it: taken once per put,
 * outside the queue's lock, and passed to find and insert.  An ObjectId's
 * low bytes (the counter) change fastest and its high bytes (the
 * timestamp) slowest, and the table indexes by the low bits of the hash,
 * so every byte must reach every bit: a multiply-xorshift finalizer does
 * that in a few instructions. */
static inline uint64_t
_mwatch_qstore_hash (const bson_oid_t *oid)
{
   uint64_t head;
   uint32_t tail;
   memcpy (&head, oid->bytes, sizeof head);
   memcpy (&tail, oid->bytes + sizeof head, sizeof tail);

   uint64_t h = head ^ ((uint64_t) tail * 0x9e3779b97f4a7c15u);
   h ^= h >> 33;
   h *= 0xff51afd7ed558ccdu;
   h ^= h >> 33;
   h *= 0xc4ceb9fe1a85ec53u;
   h ^= h >> 33;
   return h;
}

/* The slot queued under `oid`, whose hash is `hash`, or MWATCH_QSTORE_NONE. */
size_t
_mwatch_qstore_find (const mwatch_qstore_t *store, const bson_oid_t *oid, uint64_t hash);

/* Adds an entry, newest in arrival order; the WatchID must not be queued
 * and count must be below the limit.  `hash`: _mwatch_qstore_hash of the
 * message's WatchID.  `in_order`: the caller expects `due` to be no
 * earlier than that of any entry it put in order before, so the entry goes
 * to the FIFO (the store checks, and falls back to the heap).  Returns its
 * slot. */
size_t
_mwatch_qstore_insert (mwatch_qstore_t *store,
                       mwatch_message_t *msg,
                       void *data,
                       uint64_t hash,
                       int64_t due,
                       bool in_order);

/* Swaps in a newer copy under the same WatchID, keeping the entry's place in
 * arrival order; it counts as a new put for ties.  *old_msg and *old_data
 * receive what was there. */
void
_mwatch_qstore_replace (mwatch_qstore_t *store,
                        size_t slot,
                        mwatch_message_t *msg,
                        void *data,
                        int64_t due,
                        bool in_order,
                        mwatch_message_t **old_msg,
                        void **old_data);

/* Takes an entry out and frees its slot. */
void
_mwatch_qstore_remove (mwatch_qstore_t *store,
                       size_t slot,
                       mwatch_message_t **msg,
                       void **data);

/* Whether entry `a` is due before entry `b`: by due time, then put order. */
static inline bool
_mwatch_qstore_before (const mwatch_qstore_t *store, size_t a, size_t b)
{
   const mwatch_qentry_t *x = &store->slots[a];
   const mwatch_qentry_t *y = &store->slots[b];
   return x->due < y->due || (x->due == y->due && x->seq < y->seq);
}

/* The entry due first, or MWATCH_QSTORE_NONE when empty. */
static inline size_t
_mwatch_qstore_top (const mwatch_qstore_t *store)
{
   if (!store->heap_count) {
      return store->fifo_head;
   }
   size_t heap_top = store->heap[0];
   if (store->fifo_head != MWATCH_QSTORE_NONE &&
       _mwatch_qstore_before (store, store->fifo_head, heap_top)) {
      return store->fifo_head;
   }
   return heap_top;
}

#endif
