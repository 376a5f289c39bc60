/* The WatchQueue's storage: see queue-store-private.h.  Nothing here locks. */
#include "queue-store-private.h"

#include <string.h>

#define QSTORE_MIN_SLOTS 16

static size_t
home_bucket (const mwatch_qstore_t *store, uint64_t hash)
{
   return (size_t) hash & store->table_mask;
}

/* ------------------------------------------------------------------------
 * Hash map WatchID -> slot: open addressing with linear probing.  Deletion
 * shifts later members of the probe run back instead of leaving
 * tombstones, so a long-lived queue with constant churn never degrades.
 * The table is kept at most half full.
 * ------------------------------------------------------------------------ */

static void
table_link (mwatch_qstore_t *store, size_t slot)
{
   size_t i = home_bucket (store, store->slots[slot].hash);
   while (store->table[i] != MWATCH_QSTORE_NONE) {
      i = (i + 1) & store->table_mask;
   }
   store->table[i] = slot;
}

static size_t
table_position (const mwatch_qstore_t *store, size_t slot)
{
   size_t i = home_bucket (store, store->slots[slot].hash);
   while (store->table[i] != slot) {
      i = (i + 1) & store->table_mask;
   }
   return i;
}

static void
table_unlink (mwatch_qstore_t *store, size_t slot)
{
   size_t mask = store->table_mask;
   size_t hole = table_position (store, slot);

   for (size_t j = (hole + 1) & mask; store->table[j] != MWATCH_QSTORE_NONE;
        j = (j + 1) & mask) {
      size_t home = home_bucket (store, store->slots[store->table[j]].hash);
      /* A member whose probe run crosses the hole moves back into it, or
       * lookups for it would stop at the gap; one whose home lies after the
       * hole stays, since lookups never look before their home. */
      if (((j - home) & mask) >= ((j - hole) & mask)) {
         store->table[hole] = store->table[j];
         hole = j;
      }
   }
   store->table[hole] = MWATCH_QSTORE_NONE;
}

size_t
_mwatch_qstore_find (const mwatch_qstore_t *store, const bson_oid_t *oid, uint64_t hash)
{
   if (!store->count) {
      return MWATCH_QSTORE_NONE;
   }
   size_t mask = store->table_mask;
   for (size_t i = home_bucket (store, hash);; i = (i + 1) & mask) {
      size_t slot = store->table[i];
      if (slot == MWATCH_QSTORE_NONE) {
         return MWATCH_QSTORE_NONE;
      }
      const mwatch_qentry_t *e = &store->slots[slot];
      /* memcmp of a fixed 12 bytes is inlined; bson_oid_equal is a call
       * into libbson. */
      if (e->hash == hash &&
          memcmp (mwatch_message_oid (e->msg)->bytes, oid->bytes, sizeof oid->bytes) == 0) {
         return slot;
      }
   }
}

/* ------------------------------------------------------------------------
 * Indexed min-heap on (due, seq).  Each entry records its heap position so
 * that a replaced entry is re-sifted where it stands, leaving no stale
 * copies behind.
 * ------------------------------------------------------------------------ */

#define heap_before _mwatch_qstore_before

static void
heap_place (mwatch_qstore_t *store, size_t pos, size_t slot)
{
   store->heap[pos] = slot;
   store->slots[slot].heap_pos = pos;
}

static void
heap_sift_up (mwatch_qstore_t *store, size_t pos)
{
   size_t slot = store->heap[pos];
   while (pos > 0) {
      size_t parent = (pos - 1) / 2;
      if (!heap_before (store, slot, store->heap[parent])) {
         break;
      }
      heap_place (store, pos, store->heap[parent]);
      pos = parent;
   }
   heap_place (store, pos, slot);
}

static void
heap_sift_down (mwatch_qstore_t *store, size_t pos)
{
   size_t slot = store->heap[pos];
   for (;;) {
      size_t child = 2 * pos + 1;
      if (child >= store->heap_count) {
         break;
      }
      if (child + 1 < store->heap_count &&
          heap_before (store, store->heap[child + 1], store->heap[child])) {
         child++;
      }
      if (!heap_before (store, store->heap[child], slot)) {
         break;
      }
      heap_place (store, pos, store->heap[child]);
      pos = child;
   }
   heap_place (store, pos, slot);
}

/* Restores order around `pos` after its key changed either way. */
static void
heap_fix (mwatch_qstore_t *store, size_t pos)
{
   size_t slot = store->heap[pos];
   heap_sift_up (store, pos);
   if (store->slots[slot].heap_pos == pos) {
      heap_sift_down (store, pos);
   }
}

static void
heap_delete (mwatch_qstore_t *store, size_t slot)
{
   size_t pos = store->slots[slot].heap_pos;
   size_t last = store->heap[--store->heap_count];
   store->slots[slot].heap_pos = MWATCH_QSTORE_NONE;
   if (last != slot) {
      heap_place (store, pos, last);
      heap_fix (store, pos);
   }
}

/* ------------------------------------------------------------------------
 * The FIFO of entries put in order of due time (see queue-store-private.h).
 * Doubly linked, since a replaced or dropped entry leaves from the middle.
 * ------------------------------------------------------------------------ */

static void
fifo_push (mwatch_qstore_t *store, size_t slot)
{
   mwatch_qentry_t *e = &store->slots[slot];
   e->heap_pos = MWATCH_QSTORE_IN_FIFO;
   e->fifo_prev = store->fifo_tail;
   e->fifo_next = MWATCH_QSTORE_NONE;
   if (store->fifo_tail != MWATCH_QSTORE_NONE) {
      store->slots[store->fifo_tail].fifo_next = slot;
   } else {
      store->fifo_head = slot;
   }
   store->fifo_tail = slot;
}

static void
fifo_unlink (mwatch_qstore_t *store, size_t slot)
{
   mwatch_qentry_t *e = &store->slots[slot];
   if (e->fifo_prev != MWATCH_QSTORE_NONE) {
      store->slots[e->fifo_prev].fifo_next = e->fifo_next;
   } else {
      store->fifo_head = e->fifo_next;
   }
   if (e->fifo_next != MWATCH_QSTORE_NONE) {
      store->slots[e->fifo_next].fifo_prev = e->fifo_prev;
   } else {
      store->fifo_tail = e->fifo_prev;
   }
   e->heap_pos = MWATCH_QSTORE_NONE;
}

/* Files a filled entry by its due time: at the FIFO's tail when the caller
 * puts it in order and it is truly due no earlier than the tail (the FIFO
 * then stays sorted by (due, seq), seq growing with every put), else in
 * the heap. */
static inline __attribute__ ((always_inline)) void
order_add (mwatch_qstore_t *store, size_t slot, bool in_order)
{
   if (in_order && (store->fifo_tail == MWATCH_QSTORE_NONE ||
                    store->slots[store->fifo_tail].due <= store->slots[slot].due)) {
      fifo_push (store, slot);
      return;
   }
   heap_place (store, store->heap_count++, slot);
   heap_sift_up (store, store->slots[slot].heap_pos);
}

static void
order_remove (mwatch_qstore_t *store, size_t slot)
{
   if (store->slots[slot].heap_pos == MWATCH_QSTORE_IN_FIFO) {
      fifo_unlink (store, slot);
   } else {
      heap_delete (store, slot);
   }
}

/* ------------------------------------------------------------------------
 * Arrival order: a doubly linked list through the slots, so DROP_OLDEST
 * finds and unlinks its victim in O(1).
 * ------------------------------------------------------------------------ */

static void
arrival_append (mwatch_qstore_t *store, size_t slot)
{
   mwatch_qentry_t *e = &store->slots[slot];
   e->older = store->newest;
   e->newer = MWATCH_QSTORE_NONE;
   if (store->newest != MWATCH_QSTORE_NONE) {
      store->slots[store->newest].newer = slot;
   } else {
      store->oldest = slot;
   }
   store->newest = slot;
}

static void
arrival_unlink (mwatch_qstore_t *store, size_t slot)
{
   mwatch_qentry_t *e = &store->slots[slot];
   if (e->older != MWATCH_QSTORE_NONE) {
      store->slots[e->older].newer = e->newer;
   } else {
      store->oldest = e->newer;
   }
   if (e->newer != MWATCH_QSTORE_NONE) {
      store->slots[e->newer].older = e->older;
   } else {
      store->newest = e->older;
   }
}

/* ------------------------------------------------------------------------
 * Slots and growth.
 * ------------------------------------------------------------------------ */

static size_t
table_size_for (size_t slots)
{
   size_t size = QSTORE_MIN_SLOTS;
   while (size < 2 * slots) {
      size *= 2;
   }
   return size;
}

static void
table_rebuild (mwatch_qstore_t *store)
{
   size_t size = table_size_for (store->slot_cap);
   bson_free (store->table);
   store->table = bson_malloc (size * sizeof *store->table);
   memset (store->table, 0xff, size * sizeof *store->table); /* all NONE */
   store->table_mask = size - 1;
   for (size_t slot = store->oldest; slot != MWATCH_QSTORE_NONE;
        slot = store->slots[slot].newer) {
      table_link (store, slot);
   }
}

/* Pushes slots [from, to) on the free list, lowest first out. */
static void
free_list_add (mwatch_qstore_t *store, size_t from, size_t to)
{
   for (size_t i = to; i-- > from;) {
      store->slots[i].newer = store->free_head;
      store->free_head = i;
   }
}

static void
store_grow (mwatch_qstore_t *store)
{
   size_t old_cap = store->slot_cap;
   size_t cap = old_cap ? old_cap * 2 : QSTORE_MIN_SLOTS;
   if (cap > store->limit || cap < old_cap) {
      cap = store->limit;
   }
   BSON_ASSERT (cap > old_cap);

   store->slots = bson_realloc (store->slots, cap * sizeof *store->slots);
   store->heap = bson_realloc (store->heap, cap * sizeof *store->heap);
   store->slot_cap = cap;
   free_list_add (store, old_cap, cap);
   table_rebuild (store);
}

void
_mwatch_qstore_init (mwatch_qstore_t *store, size_t limit)
{
   memset (store, 0, sizeof *store);
   store->limit = limit;
   store->free_head = MWATCH_QSTORE_NONE;
   store->fifo_head = MWATCH_QSTORE_NONE;
   store->fifo_tail = MWATCH_QSTORE_NONE;
   store->oldest = MWATCH_QSTORE_NONE;
   store->newest = MWATCH_QSTORE_NONE;
}

void
_mwatch_qstore_destroy (mwatch_qstore_t *store)
{
   bson_free (store->slots);
   bson_free (store->heap);
   bson_free (store->table);
   _mwatch_qstore_init (store, store->limit);
}

static void
entry_fill (mwatch_qstore_t *store,
            mwatch_qentry_t *e,
            mwatch_message_t *msg,
            void *data,
            int64_t due)
{
   e->msg = msg;
   e->data = data;
   e->due = due;
   e->seq = store->next_seq++;
}

size_t
_mwatch_qstore_insert (mwatch_qstore_t *store,
                       mwatch_message_t *msg,
                       void *data,
                       uint64_t hash,
                       int64_t due,
                       bool in_order)
{
   if (store->free_head == MWATCH_QSTORE_NONE) {
      store_grow (store);
   }
   size_t slot = store->free_head;
   mwatch_qentry_t *e = &store->slots[slot];
   store->free_head = e->newer;

   entry_fill (store, e, msg, data, due);
   e->hash = hash;
   table_link (store, slot);
   arrival_append (store, slot);
   order_add (store, slot, in_order);
   store->count++;
   return slot;
}

void
_mwatch_qstore_replace (mwatch_qstore_t *store,
                        size_t slot,
                        mwatch_message_t *msg,
                        void *data,
                        int64_t due,
                        bool in_order,
                        mwatch_message_t **old_msg,
                        void **old_data)
{
   mwatch_qentry_t *e = &store->slots[slot];
   *old_msg = e->msg;
   *old_data = e->data;
   /* Same WatchID, so the hash bucket and arrival place stay valid.  Its
    * new seq is the newest, so it files anew, as a new put would. */
   order_remove (store, slot);
   entry_fill (store, e, msg, data, due);
   order_add (store, slot, in_order);
}

void
_mwatch_qstore_remove (mwatch_qstore_t *store,
                       size_t slot,
                       mwatch_message_t **msg,
                       void **data)
{
   mwatch_qentry_t *e = &store->slots[slot];
   *msg = e->msg;
   *data = e->data;

   table_unlink (store, slot);
   arrival_unlink (store, slot);
   order_remove (store, slot);
   store->count--;

   e->msg = NULL;
   e->data = NULL;
   e->newer = store->free_head;
   store->free_head = slot;
}
