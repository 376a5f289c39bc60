/* The collection watcher's common sequence (see watch-collection-private.h): start
 * a watch, time the real call with nested calls unwatched, read the counts,
 * log the final record.  What the application passed is never touched:
 * when it gave no reply or no error, the real call gets ours. */
#include "clock-private.h"
#include "interpose-private.h"
#include "json-private.h"
#include "message-private.h"
#include "watch-collection-private.h"
#include "watch-names-private.h"

#include <string.h>

/* Where each count is in a reply: the CRUD spec's names (insert_one,
 * update_many, ...), the bulk API's (bulk writes and the deprecated writes'
 * last error document).  findAndModify and the commands have their own
 * readers below. */
typedef struct {
   const char *name;
   uint32_t len;
} count_key_t;

/* Each 8 to 16 bytes long: compared in two words (same_name). */
#define COUNT_KEY(literal)                                                                \
   {&(literal)[0 * sizeof (char[sizeof literal >= 9 && sizeof literal <= 17 ? 1 : -1])], \
    sizeof literal - 1}

/* count_keys[i] is the count of bit i (read_counts). */
_Static_assert (MWATCH_COUNT_INSERTED == 1 << 0 && MWATCH_COUNT_MATCHED == 1 << 1 &&
                   MWATCH_COUNT_MODIFIED == 1 << 2 && MWATCH_COUNT_UPSERTED == 1 << 3 &&
                   MWATCH_COUNT_DELETED == 1 << 4,
                "a count's bit is its place in count_keys");

static const struct {
   mwatch_count_t count;
   const char *field;
   count_key_t keys[2]; /* in order of preference */
} count_keys[] = {
   {MWATCH_COUNT_INSERTED, MWATCH_NAME (MWATCH_NAME_INSERTED_COUNT),
    {COUNT_KEY ("insertedCount"), COUNT_KEY ("nInserted")}},
   {MWATCH_COUNT_MATCHED, MWATCH_NAME (MWATCH_NAME_MATCHED_COUNT),
    {COUNT_KEY ("matchedCount"), COUNT_KEY ("nMatched")}},
   {MWATCH_COUNT_MODIFIED, MWATCH_NAME (MWATCH_NAME_MODIFIED_COUNT),
    {COUNT_KEY ("modifiedCount"), COUNT_KEY ("nModified")}},
   {MWATCH_COUNT_UPSERTED, MWATCH_NAME (MWATCH_NAME_UPSERTED_COUNT),
    {COUNT_KEY ("upsertedCount"), COUNT_KEY ("nUpserted")}},
   {MWATCH_COUNT_DELETED, MWATCH_NAME (MWATCH_NAME_DELETED_COUNT),
    {COUNT_KEY ("deletedCount"), COUNT_KEY ("nRemoved")}},
};

/* Notes a count for the final record (see finish).  `field` is one of
 * the library's names in _mwatch_names (message-private.h), where the
 * record's build knows it by its address. */
static void
note_count (mwatch_call_t *call, const char *field, int64_t value)
{
   BSON_ASSERT (call->count_n < sizeof call->counts / sizeof call->counts[0]);
   call->counts[call->count_n++] = (mwatch_count_value_t) {.key = field, .value = value};
}

static bool
has_path (const bson_t *doc, const char *path)
{
   bson_iter_t iter;
   bson_iter_t found;
   return doc && bson_iter_init (&iter, doc) && bson_iter_find_descendant (&iter, path, &found);
}

/* An integer at the dotted `path`, whatever its numeric type. */
static bool
doc_int (const bson_t *doc, const char *path, int64_t *out)
{
   bson_iter_t iter;
   bson_iter_t found;
   if (!doc || !bson_iter_init (&iter, doc) || !bson_iter_find_descendant (&iter, path, &found) ||
       !BSON_ITER_HOLDS_NUMBER (&found)) {
      return false;
   }
   *out = bson_iter_as_int64 (&found);
   return true;
}

const char *
_mwatch_command_name (const bson_t *command)
{
   bson_iter_t iter;
   if (command && bson_iter_init (&iter, command) && bson_iter_next (&iter)) {
      return bson_iter_key (&iter);
   }
   return "command";
}

void
_mwatch_doc_part (const bson_t *doc, const char *const *keys, size_t n_keys, bson_t *out)
{
   bson_iter_t iter;
   uint32_t len;
   const uint8_t *data;
   for (size_t i = 0; doc && i < n_keys; i++) {
      if (!bson_iter_init_find (&iter, doc, keys[i])) {
         continue;
      }
      if (BSON_ITER_HOLDS_DOCUMENT (&iter)) {
         bson_iter_document (&iter, &len, &data);
      } else if (BSON_ITER_HOLDS_ARRAY (&iter)) {
         bson_iter_array (&iter, &len, &data);
      } else {
         continue;
      }
      bson_init_static (out, data, len);
      return;
   }
   if (doc) {
      bson_init_static (out, bson_get_data (doc), doc->len);
   } else {
      bson_init (out);
   }
}

/* _mwatch_call_start and _mwatch_call_start_named, with the new watch. */
static void
call_start (mwatch_call_t *call,
            mwatch_watch_t *watch,
            const bson_t *filter,
            const bson_t *update,
            bson_t **reply,
            bson_error_t **error)
{
   call->watch = watch;
   _mwatch_watch_set_filter (call->watch, filter, false);
   _mwatch_watch_set_update (call->watch, update);
   /* Initialised, so that it can be read and destroyed whatever path the
    * real call takes; libmongoc initialising it again leaks nothing. */
   bson_init (&call->own_reply);
   if (reply && !*reply) {
      *reply = &call->own_reply;
   }
   call->reply = reply ? *reply : NULL;
   if (!*error) {
      /* "No error": all that is read of it (its domain, its code, its
       * message as a string), as a call that fails sets them all; not
       * the whole 512 bytes. */
      call->own_error.domain = 0;
      call->own_error.code = 0;
      call->own_error.message[0] = '\0';
      *error = &call->own_error;
   }
   call->error = *error;
   call->count_n = 0;
   _mwatch_watch_first (call->watch);
   call->start = _mwatch_monotonic_now ();
   _mwatch_enter ();
}

void
_mwatch_call_start (mwatch_call_t *call,
                    const char *operation,
                    const char *db,
                    const char *collection,
                    const bson_t *filter,
                    const bson_t *update,
                    bson_t **reply,
                    bson_error_t **error)
{
   call_start (call, _mwatch_watch_new_literal (MWATCH_WATCHER_COLLECTION, operation, db, collection),
               filter, update, reply, error);
}

void
_mwatch_call_start_named (mwatch_call_t *call,
                          const char *operation,
                          const char *db,
                          const char *collection,
                          const bson_t *filter,
                          const bson_t *update,
                          bson_t **reply,
                          bson_error_t **error)
{
   call_start (call, _mwatch_watch_new (MWATCH_WATCHER_COLLECTION, operation, db, collection),
               filter, update, reply, error);
}

/* _mwatch_call_start_coll and _mwatch_call_start_coll_named. */
static void
call_start_coll (mwatch_call_t *call,
                 const char *operation,
                 bool operation_literal,
                 const mongoc_collection_t *collection,
                 const bson_t *filter,
                 const bson_t *update,
                 bson_t **reply,
                 bson_error_t **error)
{
   /* Copied into the watch before this thread asks again. */
   const char *db = _mwatch_collection_db_cached (collection);
   const char *name = mongoc_collection_get_name ((mongoc_collection_t *) collection);
   if (operation_literal) {
      _mwatch_call_start (call, operation, db, name, filter, update, reply, error);
   } else {
      _mwatch_call_start_named (call, operation, db, name, filter, update, reply, error);
   }
}

void
_mwatch_call_start_coll (mwatch_call_t *call,
                         const char *operation,
                         const mongoc_collection_t *collection,
                         const bson_t *filter,
                         const bson_t *update,
                         bson_t **reply,
                         bson_error_t **error)
{
   call_start_coll (call, operation, true, collection, filter, update, reply, error);
}

void
_mwatch_call_start_coll_named (mwatch_call_t *call,
                               const char *operation,
                               const mongoc_collection_t *collection,
                               const bson_t *filter,
                               const bson_t *update,
                               bson_t **reply,
                               bson_error_t **error)
{
   call_start_coll (call, operation, false, collection, filter, update, reply, error);
}

/* Leaves the depth guard and accounts the call's time; before anything
 * else, so that reading the counts is neither timed nor unguarded. */
static void
stop (mwatch_call_t *call)
{
   _mwatch_leave ();
   int64_t end = _mwatch_monotonic_now ();
   _mwatch_watch_progress (call->watch, end - call->start, end, false, false);
}

#define N_COUNT_KEYS (sizeof count_keys / sizeof count_keys[0])

/* What _mwatch_counts_read's walk has left to do and has found.  Name k
 * of count i is bit 2i + k of `looked_for` and `found` (count i is bit i
 * of `counts`). */
typedef struct {
   unsigned looked_for;
   unsigned found;
   int64_t values[N_COUNT_KEYS * 2];
} counts_scan_t;

/* Whether the `len` bytes at `a` and `b` are the same, `len` being a
 * reply name's (8 to 16 bytes): the first eight and the last eight
 * compared, without a call. */
static inline bool
same_name (const char *a, const char *b, size_t len)
{
   uint64_t a0, b0, a1, b1;
   memcpy (&a0, a, 8);
   memcpy (&b0, b, 8);
   memcpy (&a1, a + len - 8, 8);
   memcpy (&b1, b + len - 8, 8);
   return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* The reply's key `key` (`key_len` bytes), holding a number (`value`)
 * when `number`: compared with the names still looked for alone; each
 * name's first occurrence decides. */
static inline void
counts_scan_key (counts_scan_t *s, const char *key, size_t key_len, bool number, int64_t value)
{
   for (unsigned left = s->looked_for; left; left &= left - 1) {
      unsigned j = (unsigned) __builtin_ctz (left);
      const count_key_t *name = &count_keys[j / 2].keys[j % 2];
      if (name->len != key_len || !same_name (name->name, key, key_len)) {
         continue;
      }
      /* The names differ: no other one is this key.  A number under the
       * preferred name settles its count: the other name is not looked
       * for either. */
      s->looked_for &= ~(1u << j);
      if (number) {
         s->found |= 1u << j;
         s->values[j] = value;
         if (j % 2 == 0) {
            s->looked_for &= ~(2u << j);
         }
      }
      return;
   }
}

/* The walk with libbson's iterator: any document. */
static void
counts_scan_iter (const bson_t *doc, counts_scan_t *s)
{
   bson_iter_t iter;
   if (!bson_iter_init (&iter, doc)) {
      return;
   }
   while (s->looked_for && bson_iter_next (&iter)) {
      bool number = BSON_ITER_HOLDS_NUMBER (&iter);
      counts_scan_key (s, bson_iter_key (&iter), bson_iter_key_len (&iter), number,
                       number ? bson_iter_as_int64 (&iter) : 0);
   }
}

/* The same walk over the document's bytes, for the element types a
 * write's reply holds (numbers, strings, documents, arrays, ObjectIds,
 * null), each checked as bson_iter_next checks it, or more strictly:
 * libbson's iterator costs about 150 instructions an element, this a
 * few dozen.  False, with `s` changed, at a type it does not know or at
 * anything malformed: the caller then walks with the iterator from the
 * start, which decides as it always did. */
static bool
counts_scan_raw (const bson_t *doc, counts_scan_t *s)
{
   const uint8_t *data = bson_get_data (doc);
   const size_t len = doc->len;
   if (len < 5 || data[len - 1] != 0) {
      return false;
   }
   size_t o = 4;
   while (s->looked_for) {
      const uint8_t type = data[o];
      if (type == 0) {
         return o == len - 1; /* the end, or something the iterator decides */
      }
      /* The document's last byte is 0: the key ends within it. */
      const char *key = (const char *) data + o + 1;
      const size_t key_len = strlen (key);
      o += key_len + 2; /* the value's offset */
      size_t next;
      bool number = false;
      int64_t value = 0;
      switch (type) {
      case BSON_TYPE_INT32:
         next = o + 4;
         if (next >= len) {
            return false;
         }
         number = true;
         value = (int32_t) _mwatch_bson_le32 (data + o);
         break;
      case BSON_TYPE_INT64:
         next = o + 8;
         if (next >= len) {
            return false;
         }
         number = true;
         value = (int64_t) _mwatch_bson_le64 (data + o);
         break;
      case BSON_TYPE_DOUBLE: {
         next = o + 8;
         if (next >= len) {
            return false;
         }
         uint64_t bits = _mwatch_bson_le64 (data + o);
         double d;
         memcpy (&d, &bits, sizeof d);
         number = true;
         value = (int64_t) d; /* as bson_iter_as_int64 converts it */
         break;
      }
      case BSON_TYPE_UTF8: {
         if (o + 4 >= len) {
            return false;
         }
         size_t l = _mwatch_bson_le32 (data + o);
         next = o + 4 + l;
         if (l < 1 || next >= len || data[next - 1] != 0) {
            return false;
         }
         break;
      }
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY: {
         if (o + 4 >= len) {
            return false;
         }
         size_t l = _mwatch_bson_le32 (data + o);
         next = o + l;
         if (l < 5 || next >= len || data[next - 1] != 0) {
            return false;
         }
         break;
      }
      case BSON_TYPE_OID:
         next = o + 12;
         if (next >= len) {
            return false;
         }
         break;
      case BSON_TYPE_NULL:
         next = o;
         if (next >= len) {
            return false;
         }
         break;
      default:
         return false;
      }
      counts_scan_key (s, key, key_len, number, value);
      o = next;
   }
   return true;
}

/* One pass over the reply's top level (see watch-collection-private.h):
 * the names looked for are dropped as they are decided, and the walk
 * ends once each count is settled. */
size_t
_mwatch_counts_read (const bson_t *doc, unsigned counts, bool ok, mwatch_count_value_t *out)
{
   _Static_assert (N_COUNT_KEYS * 2 <= 32, "a bit per name");
   const unsigned wanted = counts & ((1u << N_COUNT_KEYS) - 1);
   unsigned looked_for = 0;
   for (unsigned left = wanted; left; left &= left - 1) {
      looked_for |= 3u << (2 * __builtin_ctz (left));
   }
   /* `values` is read only where `found` says it was written. */
   counts_scan_t s;
   s.looked_for = looked_for;
   s.found = 0;
   if (doc && !counts_scan_raw (doc, &s)) {
      s.looked_for = looked_for;
      s.found = 0;
      counts_scan_iter (doc, &s);
   }
   const unsigned found = s.found;
   const int64_t *values = s.values;
   size_t n = 0;
   for (unsigned left = wanted; left; left &= left - 1) {
      unsigned i = (unsigned) __builtin_ctz (left);
      if (found & (3u << (2 * i))) {
         out[n++] = (mwatch_count_value_t) {
            .key = count_keys[i].field,
            .value = values[(found & (1u << (2 * i))) ? 2 * i : 2 * i + 1],
         };
      } else if (count_keys[i].count == MWATCH_COUNT_INSERTED &&
                 (counts & MWATCH_COUNT_ASSUME_ONE) && ok) {
         out[n++] = (mwatch_count_value_t) {.key = count_keys[i].field, .value = 1};
      }
   }
   return n;
}

/* The counts asked for, read from `doc`, noted for the final record. */
static void
read_counts (mwatch_call_t *call, bool ok, const bson_t *doc, unsigned counts)
{
   _Static_assert (sizeof call->counts / sizeof call->counts[0] >= N_COUNT_KEYS,
                   "room for every count");
   BSON_ASSERT (call->count_n == 0);
   call->count_n = _mwatch_counts_read (doc, counts, ok, call->counts);
}

static void
finish (mwatch_call_t *call, bool ok)
{
   _mwatch_watch_final_counts (call->watch, ok ? NULL : call->error, call->counts,
                               call->count_n);
   _mwatch_watch_unref (call->watch);
   bson_destroy (&call->own_reply);
}

void
_mwatch_call_end (mwatch_call_t *call, bool ok, unsigned counts)
{
   stop (call);
   if (counts) {
      /* Also on failure: a write that failed part-way says how far it
       * got. */
      read_counts (call, ok, call->reply, counts);
   }
   finish (call, ok);
}

/* A deprecated write that libmongoc rejected before sending anything (an
 * invalid document) leaves the previous call's last error document in
 * place: its counts are not this call's. */
static bool
rejected_before_sending (const bson_error_t *error)
{
   return error->domain == MONGOC_ERROR_BSON ||
          (error->domain == MONGOC_ERROR_COMMAND &&
           error->code == MONGOC_ERROR_COMMAND_INVALID_ARG);
}

void
_mwatch_call_end_gle (mwatch_call_t *call,
                      bool ok,
                      const mongoc_collection_t *collection,
                      unsigned counts)
{
   stop (call);
   if (ok || !rejected_before_sending (call->error)) {
#if MWATCH_MONGOC_1X_API
      read_counts (call, ok, mongoc_collection_get_last_error (collection), counts);
#else
      /* libmongoc 2 has no last error document: mongoc_collection_insert,
       * _update and _remove give no counts (an insert that worked still
       * counts one, MWATCH_COUNT_ASSUME_ONE). */
      BSON_UNUSED (collection);
      read_counts (call, ok, NULL, counts);
#endif
   }
   finish (call, ok);
}

void
_mwatch_call_end_count (mwatch_call_t *call, int64_t n)
{
   stop (call);
   if (n >= 0) {
      note_count (call, MWATCH_NAME (MWATCH_NAME_MATCHED_COUNT), n);
   }
   finish (call, n >= 0);
}

/* findAndModify's reply says, in lastErrorObject, how many documents it
 * found or inserted (n, 0 or 1), whether it updated an existing one
 * (updatedExisting) and the id of one it upserted (upserted).  Read as
 * update_one's and delete_one's counts read: an upsert that inserted
 * matched nothing; a removal deleted what it matched.  The server does not
 * say whether an update changed the document it found: ModifiedCount is
 * updatedExisting's n. */
static void
read_find_and_modify (mwatch_call_t *call, const bson_t *reply, bool remove)
{
   int64_t n;
   if (!doc_int (reply, "lastErrorObject.n", &n)) {
      return;
   }
   if (remove) {
      note_count (call, MWATCH_NAME (MWATCH_NAME_MATCHED_COUNT), n);
      note_count (call, MWATCH_NAME (MWATCH_NAME_DELETED_COUNT), n);
      return;
   }
   bson_iter_t iter;
   bool existing = bson_iter_init (&iter, reply) &&
                   bson_iter_find_descendant (&iter, "lastErrorObject.updatedExisting", &iter) &&
                   bson_iter_as_bool (&iter);
   bool upserted = has_path (reply, "lastErrorObject.upserted");
   note_count (call, MWATCH_NAME (MWATCH_NAME_MATCHED_COUNT), upserted ? 0 : n);
   note_count (call, MWATCH_NAME (MWATCH_NAME_MODIFIED_COUNT), existing ? n : 0);
   note_count (call, MWATCH_NAME (MWATCH_NAME_UPSERTED_COUNT), upserted ? 1 : 0);
}

void
_mwatch_call_end_find_and_modify (mwatch_call_t *call, bool ok, bool remove)
{
   stop (call);
   read_find_and_modify (call, call->reply, remove);
   finish (call, ok);
}

/* The number of values in the array at `key` of `reply`. */
static bool
array_length (const bson_t *reply, const char *key, int64_t *n)
{
   bson_iter_t iter;
   bson_iter_t values;
   if (!reply || !bson_iter_init_find (&iter, reply, key) || !BSON_ITER_HOLDS_ARRAY (&iter) ||
       !bson_iter_recurse (&iter, &values)) {
      return false;
   }
   for (*n = 0; bson_iter_next (&values); ++*n) {
   }
   return true;
}

void
_mwatch_call_end_command (mwatch_call_t *call, bool ok, const char *name)
{
   stop (call);
   int64_t n;
   if (ok && ((!strcmp (name, "distinct") && array_length (call->reply, "values", &n)) ||
              (!strcmp (name, "count") && doc_int (call->reply, "n", &n)))) {
      note_count (call, MWATCH_NAME (MWATCH_NAME_MATCHED_COUNT), n);
   }
   finish (call, ok);
}
