/* WatchMessage internals for the watchers and queues. */
#ifndef MWATCH_MESSAGE_PRIVATE_H
#define MWATCH_MESSAGE_PRIVATE_H

#include "mongowatch.h"

#include <string.h>

/* A field of a message: its name and value, and who owns their bytes. */
typedef struct {
   char *key;
   size_t key_len;
   mwatch_value_t value;
   bool key_owned;
   bool value_owned;
   /* The key is one of the library's names, a string that lives as long
    * as the process: not copied, and not moved with the block. */
   bool key_static;
   /* The value's data is the caller's, not the message's nor allocated
    * for it (_mwatch_message_append_borrowed): never freed, and copied
    * when the message is. */
   bool value_borrowed;
} _mwatch_field_t;

/* The library's own field names, each at the start of a slot of
 * MWATCH_NAME_SLOT bytes of one array (_mwatch_names), so that a key that
 * points at one of them tells which name it is by its address alone: the
 * renderings and the record's build find a field of the library without
 * comparing its text.  A key with the same text elsewhere (a copy, a
 * user's) is the same field, found by its text as before.  Each name is
 * listed with its first byte, for _mwatch_name_find's table. */
#define MWATCH_NAMES(X)                                                     \
   X (STATE, 'S', "State")                                                  \
   X (DB, 'D', "DB")                                                        \
   X (COLLECTION, 'C', "Collection")                                        \
   X (OPERATION, 'O', "Operation")                                          \
   X (FILTER, 'F', "Filter")                                                \
   X (DURATION, 'D', "Duration")                                            \
   X (MATCHED_COUNT, 'M', "MatchedCount")                                   \
   X (INSERTED_COUNT, 'I', "InsertedCount")                                 \
   X (UPSERTED_COUNT, 'U', "UpsertedCount")                                 \
   X (MODIFIED_COUNT, 'M', "ModifiedCount")                                 \
   X (DELETED_COUNT, 'D', "DeletedCount")                                   \
   X (ERROR, 'E', "Error")                                                  \
   X (WATCH_ID, 'W', "WatchID")                                             \
   X (ITERATION, 'I', "Iteration")                                          \
   X (START_TIME, 'S', "StartTime")                                         \
   X (END_TIME, 'E', "EndTime")                                             \
   X (UPDATE, 'U', "Update")

typedef enum {
#define MWATCH_NAME_ENUM(id, first, text) MWATCH_NAME_##id,
   MWATCH_NAMES (MWATCH_NAME_ENUM)
#undef MWATCH_NAME_ENUM
      MWATCH_NAME_COUNT
} _mwatch_name_t;

#define MWATCH_NAME_SLOT 16

/* Every name NUL-terminated at the start of its slot, distinct texts. */
extern const char _mwatch_names[MWATCH_NAME_COUNT][MWATCH_NAME_SLOT];

/* The library's name `id`, as a key the message keeps (key_static). */
#define MWATCH_NAME(id) ((char *) _mwatch_names[id])

/* The name `key` is when it points at the start of a slot of
 * _mwatch_names; else -1 (whatever its text). */
static inline int
_mwatch_name_of (const char *key)
{
   uintptr_t at = (uintptr_t) key - (uintptr_t) _mwatch_names;
   return at < sizeof _mwatch_names && at % MWATCH_NAME_SLOT == 0 ? (int) (at / MWATCH_NAME_SLOT)
                                                                  : -1;
}

/* The slot of the library's name whose text is the `len` bytes at `key`,
 * or NULL when none is. */
const char *
_mwatch_name_find (const char *key, size_t len);

/* The fields of `msg` in their order, `*count` of them, valid while `msg`
 * is not changed: what the renderings read, a field at a time without a
 * call and a copy of its value per field (mwatch_message_iter_next). */
const _mwatch_field_t *
_mwatch_message_fields (const mwatch_message_t *msg, size_t *count);

/* The first of the `count` fields at `fields` named `key` (`key_len`
 * bytes), or NULL: the search of every lookup by name. */
static inline const _mwatch_field_t *
_mwatch_fields_find (const _mwatch_field_t *fields, size_t count, const char *key, size_t key_len)
{
   for (size_t i = 0; i < count; i++) {
      if (fields[i].key_len == key_len && memcmp (fields[i].key, key, key_len) == 0) {
         return &fields[i];
      }
   }
   return NULL;
}

/* Sets the due time (monotonic microseconds) of a message not yet ready. */
void
_mwatch_message_set_due (mwatch_message_t *msg, int64_t due);

/* The WatchMessage view of a BSON element (see mwatch_value_t). */
void
_mwatch_value_from_iter (const bson_iter_t *iter, mwatch_value_t *value);

/* mwatch_message_set_value for the library's own fields: `key` is valid
 * and `key_len` long, so neither is checked. */
void
_mwatch_message_put (mwatch_message_t *msg,
                     const char *key,
                     size_t key_len,
                     const mwatch_value_t *value);

/* _mwatch_message_put for a key the caller knows `msg` does not have
 * yet (a message being built from scratch): no search.  `key` is one of
 * the library's names, a string that lives as long as the process: the
 * message keeps the pointer, not a copy. */
void
_mwatch_message_append (mwatch_message_t *msg,
                        const char *key,
                        size_t key_len,
                        const mwatch_value_t *value);

/* _mwatch_message_append without a copy of the value's data (a UTF8
 * string, a document's or an array's bytes): the message points at the
 * caller's, which must stay unchanged as long as the message lives.  A
 * copy of the message (mwatch_message_copy, a queue's) copies them.  For
 * a message that lives no longer than what it is built from: the
 * listener's, built from a watch it holds a reference to, and freed before
 * it lets go of it. */
void
_mwatch_message_append_borrowed (mwatch_message_t *msg,
                                 const char *key,
                                 size_t key_len,
                                 const mwatch_value_t *value);

/* _mwatch_message_append_borrowed for fields written in place, with no
 * call per field: room for `n` more fields at the end of `msg` (valid
 * until `msg` is next changed), where the caller writes each one's key,
 * key_len and value, and then adds the first of them it wrote with
 * _mwatch_message_add_borrowed.  For the library's own fields of a
 * record, where a call each cost about as much as the field itself. */
_mwatch_field_t *
_mwatch_message_room (mwatch_message_t *msg, size_t n);

/* Adds the `n` fields written at the start of the room
 * _mwatch_message_room gave, as _mwatch_message_append_borrowed would
 * have appended them (library names, values borrowed). */
void
_mwatch_message_add_borrowed (mwatch_message_t *msg, size_t n);

/* Sets the iteration (and the Iteration field) to `iteration`. */
void
_mwatch_message_set_iteration (mwatch_message_t *msg, int64_t iteration);

/* The memory `msg` takes (its block and what it allocated apart), for a
 * queue's bound in bytes. */
size_t
_mwatch_message_bytes (const mwatch_message_t *msg);

/* A fresh WatchID, unique in the process and across its forks. */
void
_mwatch_watch_oid_new (bson_oid_t *oid);

/* mwatch_message_new with a WatchID, Iteration and StartTime (realtime
 * microseconds) of the caller's: an operation's message built after its
 * start, from what was kept of it. */
mwatch_message_t *
_mwatch_message_new_as (const bson_oid_t *oid, int64_t iteration, int64_t start);

/* A message with no fields that stands in a queue for a record whose
 * message is built when it leaves (see mwatch_live_ops_t.build): its
 * WatchID, Iteration, due time and ready state order and replace it as
 * the record's would (its mwatch_message_watch_id is empty: nobody shows
 * a stub).  `charged` bytes count toward the queue's bound in
 * bytes beside its own: what the operation it stands for holds.  With
 * `oid` NULL, a fresh WatchID, shown: a message without fields that stands
 * for itself (a text record's).  One allocation with `extra` bytes for
 * the caller, as _mwatch_message_queue_copy. */
mwatch_message_t *
_mwatch_message_stub (const bson_oid_t *oid,
                      int64_t iteration,
                      int64_t due,
                      bool ready,
                      size_t charged,
                      size_t extra,
                      void **extra_out);

/* A copy of `msg` for a queue, in one allocation with `extra` bytes for
 * the caller (*extra_out, 8-byte aligned, freed with the message).
 * Without `with_fields` only the WatchID, Iteration, ready state and due
 * time are copied: enough for a record whose content will be taken from
 * its live operation when it leaves the queue.  With `msg` NULL: a new,
 * ready message with no fields. */
mwatch_message_t *
_mwatch_message_queue_copy (const mwatch_message_t *msg,
                            bool with_fields,
                            size_t extra,
                            void **extra_out);

/* A copy of a NULL-terminated list of field names that lives as long as
 * the process (messages keep pointers to it); equal lists share one copy,
 * so loading configurations again does not grow memory. */
const char *const *
_mwatch_fields_intern (const char *const *fields);

#endif
