/* mwatch_message_t: the WatchMessage, an ordered dictionary of typed fields
 * with a WatchID, an iteration counter, a one-time ready state and a due
 * time.  Messages hold a dozen or so fields, so a flat array searched in
 * order beats a hash table and keeps insertion order for free. */
#include "clock-private.h"
#include "block-pool-private.h"
#include "fork-private.h"
#include "message-private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

/* Storage (_mwatch_field_t, message-private.h): UTF8 text (with a NUL
 * after it), DOCUMENT and ARRAY bytes, and BSON values (bson_value_copy).
 * Keys and values live in the message's own block when they fit, else they
 * are allocated one by one (`key_owned`, `value_owned`). */
typedef _mwatch_field_t field_t;

/* A message is one allocation: this header, then room for fields, then
 * room for keys and values (the "spare" bytes).  Setting a field takes its
 * storage from the spare bytes, so building a typical record, copying it
 * for a queue and freeing it each cost one malloc and one free, not two
 * per field.  When a message outgrows its block, the field array moves to
 * the heap and values are allocated one by one: correct, just slower. */
struct _mwatch_message_t {
   field_t *fields;
   size_t count;
   size_t capacity;
   bool fields_on_heap;
   bool pooled; /* the block came from the block pool */
   /* A key or value was allocated apart (key_owned, value_owned): only
    * then does freeing the message look at its fields. */
   bool owns_parts;
   char *spare;     /* free bytes inside the block */
   char *spare_end;
   bson_oid_t oid;
   char watch_id[25];
   int64_t iteration;
   int64_t due;
   bool ready;
   const char *const *default_fields; /* not owned; NULL: the library's */
   /* Memory the message stands for beyond its own: a stub's operation,
    * whose record it becomes (see _mwatch_message_stub). */
   size_t charged;
};

/* A new message's block: room for a find's final record with a small
 * filter and a few context fields. */
#define NEW_FIELDS 16
#define NEW_SPARE 448

/* A block for `fields` fields and `spare` bytes, with nothing set yet. */
static mwatch_message_t *
message_alloc (size_t fields, size_t spare)
{
   size_t head = (sizeof (mwatch_message_t) + 15) & ~(size_t) 15;
   bool pooled;
   mwatch_message_t *msg = _mwatch_block_get (head + fields * sizeof (field_t) + spare, &pooled);
   msg->pooled = pooled;
   msg->fields = (field_t *) ((char *) msg + head);
   msg->count = 0;
   msg->capacity = fields;
   msg->fields_on_heap = false;
   msg->owns_parts = false;
   msg->charged = 0;
   msg->spare = (char *) (msg->fields + fields);
   msg->spare_end = msg->spare + spare;
   return msg;
}

/* `len` bytes of the block's spare room aligned to `align`, or NULL. */
static char *
spare_take (mwatch_message_t *msg, size_t len, size_t align)
{
   uintptr_t at = ((uintptr_t) msg->spare + align - 1) & ~(uintptr_t) (align - 1);
   if (at > (uintptr_t) msg->spare_end || len > (size_t) ((uintptr_t) msg->spare_end - at)) {
      return NULL;
   }
   msg->spare = (char *) at + len;
   return (char *) at;
}

/* A copy of `len` bytes (plus a NUL when `nul`) in the block when there is
 * room, else on the heap (*owned set). */
static void *
store_bytes (mwatch_message_t *msg, const void *data, size_t len, size_t align, bool nul, bool *owned)
{
   size_t size = len + (nul ? 1 : 0);
   char *dst = spare_take (msg, size, align);
   *owned = dst == NULL;
   if (!dst) {
      dst = bson_malloc (size ? size : 1);
      msg->owns_parts = true;
   }
   if (len) {
      memcpy (dst, data, len);
   }
   if (nul) {
      dst[len] = '\0';
   }
   return dst;
}

/* ---------------------------------------------------------------- values */

static void
value_free (mwatch_value_t *value)
{
   switch (value->type) {
   case MWATCH_TYPE_UTF8:
      bson_free ((char *) value->value.v_utf8.str);
      break;
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
      bson_free ((uint8_t *) value->value.v_doc.data);
      break;
   case MWATCH_TYPE_BSON:
      bson_value_destroy (&value->value.v_bson);
      break;
   case MWATCH_TYPE_NULL:
   case MWATCH_TYPE_BOOL:
   case MWATCH_TYPE_INT64:
   case MWATCH_TYPE_DOUBLE:
   case MWATCH_TYPE_DATETIME:
   default:
      break;
   }
   value->type = MWATCH_TYPE_NULL;
}

static void
field_free_value (field_t *field)
{
   if (field->value_owned) {
      value_free (&field->value);
   }
   field->value.type = MWATCH_TYPE_NULL;
   field->value_owned = false;
   field->value_borrowed = false;
}

static void
field_free (field_t *field)
{
   field_free_value (field);
   if (field->key_owned) {
      bson_free (field->key);
   }
}

/* Makes `dst` a copy of `src`, which may point anywhere, with its data
 * stored in `msg`; *owned tells whether the data was allocated apart. */
static void
value_copy (mwatch_message_t *msg, mwatch_value_t *dst, const mwatch_value_t *src, bool *owned)
{
   *dst = *src;
   *owned = false;
   switch (src->type) {
   case MWATCH_TYPE_UTF8:
      dst->value.v_utf8.str =
         store_bytes (msg, src->value.v_utf8.str, src->value.v_utf8.len, 1, true, owned);
      break;
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
      dst->value.v_doc.data =
         store_bytes (msg, src->value.v_doc.data, src->value.v_doc.len, 8, false, owned);
      break;
   case MWATCH_TYPE_BSON:
      bson_value_copy (&src->value.v_bson, &dst->value.v_bson);
      *owned = true;
      msg->owns_parts = true;
      break;
   case MWATCH_TYPE_NULL:
   case MWATCH_TYPE_BOOL:
   case MWATCH_TYPE_INT64:
   case MWATCH_TYPE_DOUBLE:
   case MWATCH_TYPE_DATETIME:
   default:
      break;
   }
}

bool
mwatch_value_as_bson (const mwatch_value_t *value, bson_t *out)
{
   if (!value || !out ||
       (value->type != MWATCH_TYPE_DOCUMENT && value->type != MWATCH_TYPE_ARRAY)) {
      return false;
   }
   return bson_init_static (out, value->value.v_doc.data, value->value.v_doc.len);
}

/* Converts the element under `iter` to the closest mwatch type; the result
 * points into the document `iter` walks. */
void
_mwatch_value_from_iter (const bson_iter_t *iter, mwatch_value_t *value)
{
   switch (bson_iter_type (iter)) {
   case BSON_TYPE_NULL:
      value->type = MWATCH_TYPE_NULL;
      break;
   case BSON_TYPE_BOOL:
      value->type = MWATCH_TYPE_BOOL;
      value->value.v_bool = bson_iter_bool (iter);
      break;
   case BSON_TYPE_INT32:
      value->type = MWATCH_TYPE_INT64;
      value->value.v_int64 = bson_iter_int32 (iter);
      break;
   case BSON_TYPE_INT64:
      value->type = MWATCH_TYPE_INT64;
      value->value.v_int64 = bson_iter_int64 (iter);
      break;
   case BSON_TYPE_DOUBLE:
      value->type = MWATCH_TYPE_DOUBLE;
      value->value.v_double = bson_iter_double (iter);
      break;
   case BSON_TYPE_DATE_TIME:
      value->type = MWATCH_TYPE_DATETIME;
      value->value.v_datetime = bson_iter_date_time (iter) * 1000;
      break;
   case BSON_TYPE_UTF8: {
      uint32_t len;
      value->type = MWATCH_TYPE_UTF8;
      value->value.v_utf8.str = bson_iter_utf8 (iter, &len);
      value->value.v_utf8.len = len;
      break;
   }
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY: {
      uint32_t len;
      const uint8_t *data;
      if (bson_iter_type (iter) == BSON_TYPE_DOCUMENT) {
         value->type = MWATCH_TYPE_DOCUMENT;
         bson_iter_document (iter, &len, &data);
      } else {
         value->type = MWATCH_TYPE_ARRAY;
         bson_iter_array (iter, &len, &data);
      }
      value->value.v_doc.data = data;
      value->value.v_doc.len = len;
      break;
   }
   case BSON_TYPE_EOD:
   case BSON_TYPE_BINARY:
   case BSON_TYPE_UNDEFINED:
   case BSON_TYPE_OID:
   case BSON_TYPE_REGEX:
   case BSON_TYPE_DBPOINTER:
   case BSON_TYPE_CODE:
   case BSON_TYPE_SYMBOL:
   case BSON_TYPE_CODEWSCOPE:
   case BSON_TYPE_TIMESTAMP:
   case BSON_TYPE_DECIMAL128:
   case BSON_TYPE_MAXKEY:
   case BSON_TYPE_MINKEY:
   default:
      value->type = MWATCH_TYPE_BSON;
      value->value.v_bson = *bson_iter_value ((bson_iter_t *) iter);
      break;
   }
}

/* ---------------------------------------------------------------- fields */

static bool
key_is_valid (const char *key)
{
   return key && *key && !strchr (key, '.');
}

static field_t *
find_field (const mwatch_message_t *msg, const char *key, size_t key_len)
{
   return (field_t *) _mwatch_fields_find (msg->fields, msg->count, key, key_len);
}

/* Makes room for `n` more fields. */
static void
fields_reserve_n (mwatch_message_t *msg, size_t n)
{
   if (msg->capacity - msg->count >= n) {
      return;
   }
   size_t capacity = msg->capacity ? msg->capacity * 2 : 16;
   while (capacity - msg->count < n) {
      capacity *= 2;
   }
   if (msg->fields_on_heap) {
      msg->fields = bson_realloc (msg->fields, capacity * sizeof *msg->fields);
   } else {
      field_t *fields = bson_malloc (capacity * sizeof *fields);
      if (msg->count) {
         memcpy (fields, msg->fields, msg->count * sizeof *fields);
      }
      msg->fields = fields;
      msg->fields_on_heap = true;
   }
   msg->capacity = capacity;
}

static void
fields_reserve (mwatch_message_t *msg)
{
   fields_reserve_n (msg, 1);
}

/* The field named `key`, created empty (NULL) at the end when missing. */
static field_t *
field_slot (mwatch_message_t *msg, const char *key, size_t key_len)
{
   field_t *field = find_field (msg, key, key_len);
   if (field) {
      return field;
   }
   fields_reserve (msg);
   field = &msg->fields[msg->count++];
   field->key_len = key_len;
   field->key = store_bytes (msg, key, key_len, 1, true, &field->key_owned);
   field->key_static = false;
   field->value.type = MWATCH_TYPE_NULL;
   field->value_owned = false;
   field->value_borrowed = false;
   return field;
}

void
_mwatch_message_put (mwatch_message_t *msg,
                     const char *key,
                     size_t key_len,
                     const mwatch_value_t *value)
{
   /* Copy before freeing the old value: `value` may point into it. */
   mwatch_value_t copy;
   bool owned;
   value_copy (msg, &copy, value, &owned);
   field_t *field = field_slot (msg, key, key_len);
   field_free_value (field);
   field->value = copy;
   field->value_owned = owned;
}

void
_mwatch_message_append (mwatch_message_t *msg,
                        const char *key,
                        size_t key_len,
                        const mwatch_value_t *value)
{
   fields_reserve (msg);
   field_t *field = &msg->fields[msg->count++];
   field->key_len = key_len;
   field->key = (char *) key;
   field->key_owned = false;
   field->key_static = true;
   field->value_borrowed = false;
   value_copy (msg, &field->value, value, &field->value_owned);
}

void
_mwatch_message_append_borrowed (mwatch_message_t *msg,
                                 const char *key,
                                 size_t key_len,
                                 const mwatch_value_t *value)
{
   field_t *field = _mwatch_message_room (msg, 1);
   field->key = (char *) key;
   field->key_len = key_len;
   field->value = *value;
   _mwatch_message_add_borrowed (msg, 1);
}

_mwatch_field_t *
_mwatch_message_room (mwatch_message_t *msg, size_t n)
{
   fields_reserve_n (msg, n);
   return &msg->fields[msg->count];
}

void
_mwatch_message_add_borrowed (mwatch_message_t *msg, size_t n)
{
   BSON_ASSERT (n <= msg->capacity - msg->count);
   for (field_t *f = &msg->fields[msg->count], *end = f + n; f < end; f++) {
      BSON_ASSERT (f->value.type != MWATCH_TYPE_BSON); /* its copy is libbson's */
      f->key_owned = false;
      f->key_static = true;
      f->value_owned = false;
      f->value_borrowed = true;
   }
   msg->count += n;
}

bool
mwatch_message_set_value (mwatch_message_t *msg, const char *key, const mwatch_value_t *value)
{
   if (!msg || !key_is_valid (key) || !value) {
      return false;
   }
   _mwatch_message_put (msg, key, strlen (key), value);
   return true;
}

bool
mwatch_message_set_null (mwatch_message_t *msg, const char *key)
{
   mwatch_value_t v = {.type = MWATCH_TYPE_NULL};
   return mwatch_message_set_value (msg, key, &v);
}

bool
mwatch_message_set_bool (mwatch_message_t *msg, const char *key, bool value)
{
   mwatch_value_t v = {.type = MWATCH_TYPE_BOOL, .value.v_bool = value};
   return mwatch_message_set_value (msg, key, &v);
}

bool
mwatch_message_set_int64 (mwatch_message_t *msg, const char *key, int64_t value)
{
   mwatch_value_t v = {.type = MWATCH_TYPE_INT64, .value.v_int64 = value};
   return mwatch_message_set_value (msg, key, &v);
}

bool
mwatch_message_set_double (mwatch_message_t *msg, const char *key, double value)
{
   mwatch_value_t v = {.type = MWATCH_TYPE_DOUBLE, .value.v_double = value};
   return mwatch_message_set_value (msg, key, &v);
}

bool
mwatch_message_set_utf8_len (mwatch_message_t *msg,
                             const char *key,
                             const char *value,
                             size_t len)
{
   if (!value) {
      return false;
   }
   mwatch_value_t v = {.type = MWATCH_TYPE_UTF8};
   v.value.v_utf8.str = value;
   v.value.v_utf8.len = len;
   return mwatch_message_set_value (msg, key, &v);
}

bool
mwatch_message_set_utf8 (mwatch_message_t *msg, const char *key, const char *value)
{
   return value && mwatch_message_set_utf8_len (msg, key, value, strlen (value));
}

bool
mwatch_message_set_datetime (mwatch_message_t *msg, const char *key, int64_t us)
{
   mwatch_value_t v = {.type = MWATCH_TYPE_DATETIME, .value.v_datetime = us};
   return mwatch_message_set_value (msg, key, &v);
}

static bool
set_bson (mwatch_message_t *msg, const char *key, const bson_t *doc, mwatch_type_t type)
{
   if (!doc) {
      return false;
   }
   mwatch_value_t v = {.type = type};
   v.value.v_doc.data = bson_get_data (doc);
   v.value.v_doc.len = doc->len;
   return mwatch_message_set_value (msg, key, &v);
}

bool
mwatch_message_set_document (mwatch_message_t *msg, const char *key, const bson_t *doc)
{
   return set_bson (msg, key, doc, MWATCH_TYPE_DOCUMENT);
}

bool
mwatch_message_set_array (mwatch_message_t *msg, const char *key, const bson_t *array)
{
   return set_bson (msg, key, array, MWATCH_TYPE_ARRAY);
}

/* Walks `path` (dotted keys, matched exactly) inside a document or array
 * value.  BSON keys cannot be reached when they contain a dot themselves. */
static bool
get_descendant (const mwatch_value_t *container, const char *path, mwatch_value_t *out)
{
   mwatch_value_t current = *container;
   for (;;) {
      bson_t doc;
      bson_iter_t iter;
      if (!mwatch_value_as_bson (&current, &doc) || !bson_iter_init (&iter, &doc)) {
         return false;
      }
      const char *dot = strchr (path, '.');
      size_t seg_len = dot ? (size_t) (dot - path) : strlen (path);
      bool found = false;
      while (bson_iter_next (&iter)) {
         if (bson_iter_key_len (&iter) == seg_len &&
             memcmp (bson_iter_key (&iter), path, seg_len) == 0) {
            found = true;
            break;
         }
      }
      if (!found) {
         return false;
      }
      _mwatch_value_from_iter (&iter, &current);
      if (!dot) {
         break;
      }
      path = dot + 1;
      if (!*path) {
         return false; /* "Filter.user." names nothing */
      }
   }
   *out = current;
   return true;
}

bool
mwatch_message_get (const mwatch_message_t *msg, const char *path, mwatch_value_t *value)
{
   if (!msg || !path || !*path) {
      return false;
   }
   const char *dot = strchr (path, '.');
   size_t key_len = dot ? (size_t) (dot - path) : strlen (path);
   const field_t *field = find_field (msg, path, key_len);
   if (!field) {
      return false;
   }
   if (!dot) {
      if (value) {
         *value = field->value;
      }
      return true;
   }
   mwatch_value_t found;
   if (!dot[1] || !get_descendant (&field->value, dot + 1, &found)) {
      return false;
   }
   if (value) {
      *value = found;
   }
   return true;
}

bool
mwatch_message_has (const mwatch_message_t *msg, const char *path)
{
   return mwatch_message_get (msg, path, NULL);
}

bool
mwatch_message_remove (mwatch_message_t *msg, const char *key)
{
   if (!msg || !key) {
      return false;
   }
   field_t *field = find_field (msg, key, strlen (key));
   if (!field) {
      return false;
   }
   field_free (field);
   size_t index = (size_t) (field - msg->fields);
   memmove (field, field + 1, (msg->count - index - 1) * sizeof *field);
   msg->count--;
   return true;
}

bool
mwatch_message_rename (mwatch_message_t *msg, const char *from, const char *to)
{
   if (!msg || !from || !key_is_valid (to) || !find_field (msg, from, strlen (from))) {
      return false;
   }
   if (strcmp (from, to) == 0) {
      return true;
   }
   mwatch_message_remove (msg, to);
   field_t *field = find_field (msg, from, strlen (from));
   if (field->key_owned) {
      bson_free (field->key);
   }
   field->key_len = strlen (to);
   field->key_static = false;
   field->key = store_bytes (msg, to, field->key_len, 1, true, &field->key_owned);
   return true;
}

void
mwatch_message_set_default_fields (mwatch_message_t *msg, const char *const *fields)
{
   msg->default_fields = fields;
}

const char *const *
mwatch_message_get_default_fields (const mwatch_message_t *msg)
{
   return msg->default_fields ? msg->default_fields : mwatch_default_fields;
}

/* Interned field lists: messages point at them without owning them, so
 * they live as long as the process; equal lists share one copy so that
 * reloading a configuration does not grow memory. */
typedef struct interned {
   struct interned *next;
   const char **fields;
} interned_t;

static pthread_mutex_t interned_lock = PTHREAD_MUTEX_INITIALIZER;
static interned_t *interned;

/* A leaf: a child interning (loading a configuration) must not find it
 * held by a thread it does not have. */
MWATCH_FORK_INIT (interned_fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_INTERNED_FIELDS, &interned_lock, NULL);
}

static bool
fields_equal (const char *const *a, const char *const *b)
{
   for (; *a && *b; a++, b++) {
      if (strcmp (*a, *b) != 0) {
         return false;
      }
   }
   return !*a && !*b;
}

const char *const *
_mwatch_fields_intern (const char *const *fields)
{
   if (!fields) {
      return NULL;
   }
   pthread_mutex_lock (&interned_lock);
   interned_t *entry;
   for (entry = interned; entry; entry = entry->next) {
      if (fields_equal ((const char *const *) entry->fields, fields)) {
         break;
      }
   }
   if (!entry) {
      size_t n = 0;
      while (fields[n]) {
         n++;
      }
      entry = bson_malloc (sizeof *entry);
      entry->fields = bson_malloc ((n + 1) * sizeof *entry->fields);
      for (size_t i = 0; i < n; i++) {
         entry->fields[i] = bson_strdup (fields[i]);
      }
      entry->fields[n] = NULL;
      entry->next = interned;
      interned = entry;
   }
   pthread_mutex_unlock (&interned_lock);
   return (const char *const *) entry->fields;
}

size_t
mwatch_message_count (const mwatch_message_t *msg)
{
   return msg ? msg->count : 0;
}

const _mwatch_field_t *
_mwatch_message_fields (const mwatch_message_t *msg, size_t *count)
{
   *count = msg ? msg->count : 0;
   return msg ? msg->fields : NULL;
}

void
mwatch_message_iter_init (mwatch_message_iter_t *iter, const mwatch_message_t *msg)
{
   iter->priv_msg = msg;
   iter->priv_pos = 0;
}

bool
mwatch_message_iter_next (mwatch_message_iter_t *iter, const char **key, mwatch_value_t *value)
{
   const mwatch_message_t *msg = iter->priv_msg;
   if (!msg || iter->priv_pos >= msg->count) {
      return false;
   }
   const field_t *field = &msg->fields[iter->priv_pos++];
   if (key) {
      *key = field->key;
   }
   if (value) {
      *value = field->value;
   }
   return true;
}

/* ---------------------------------------------------------------- lifecycle */

/* ObjectIds as the spec lays them out: seconds, 5 random bytes per
 * process, a counter.  Our own generator, because libbson's asks the
 * kernel for the process id on every call (to notice fork()); we notice
 * fork() with a child hook instead (fork-private.h). */
static pthread_once_t oid_once = PTHREAD_ONCE_INIT;
static uint8_t oid_random[5];
static atomic_uint oid_counter;

static void
oid_seed (void)
{
   uint8_t seed[8];
   if (getrandom (seed, sizeof seed, 0) != (ssize_t) sizeof seed) {
      /* No entropy source: libbson's own generator is the fallback. */
      bson_oid_t oid;
      bson_oid_init (&oid, NULL);
      memcpy (seed, oid.bytes + 4, sizeof seed);
   }
   memcpy (oid_random, seed, sizeof oid_random);
   atomic_store (&oid_counter, (unsigned) seed[5] << 16 | (unsigned) seed[6] << 8 | seed[7]);
}

static void
oid_init (void)
{
   oid_seed ();
   /* A child must not repeat its parent's WatchIDs. */
   _mwatch_fork_register (MWATCH_FORK_RANK_OID, NULL, NULL, oid_seed);
}

static void
oid_generate (bson_oid_t *oid)
{
   pthread_once (&oid_once, oid_init);
   uint32_t seconds = (uint32_t) (_mwatch_realtime_now () / 1000000);
   uint32_t count = atomic_fetch_add_explicit (&oid_counter, 1, memory_order_relaxed);
   oid->bytes[0] = (uint8_t) (seconds >> 24);
   oid->bytes[1] = (uint8_t) (seconds >> 16);
   oid->bytes[2] = (uint8_t) (seconds >> 8);
   oid->bytes[3] = (uint8_t) seconds;
   memcpy (oid->bytes + 4, oid_random, sizeof oid_random);
   oid->bytes[9] = (uint8_t) (count >> 16);
   oid->bytes[10] = (uint8_t) (count >> 8);
   oid->bytes[11] = (uint8_t) count;
}

/* Every byte's two hexadecimal digits: one 2-byte copy a byte, where
 * two lookups and shifts each cost about twice as much (the listener
 * writes a WatchID into every message it builds). */
#define HEX_ROW(h) \
   h "0", h "1", h "2", h "3", h "4", h "5", h "6", h "7", \
   h "8", h "9", h "a", h "b", h "c", h "d", h "e", h "f"
static const char hex_pairs[256][2] = {
   HEX_ROW ("0"), HEX_ROW ("1"), HEX_ROW ("2"), HEX_ROW ("3"),
   HEX_ROW ("4"), HEX_ROW ("5"), HEX_ROW ("6"), HEX_ROW ("7"),
   HEX_ROW ("8"), HEX_ROW ("9"), HEX_ROW ("a"), HEX_ROW ("b"),
   HEX_ROW ("c"), HEX_ROW ("d"), HEX_ROW ("e"), HEX_ROW ("f"),
};
#undef HEX_ROW

static void
oid_to_hex (const bson_oid_t *oid, char out[25])
{
   /* Unrolled: twelve loads and stores, no loop counter. */
#pragma GCC unroll 12
   for (size_t i = 0; i < 12; i++) {
      memcpy (out + 2 * i, hex_pairs[oid->bytes[i]], 2);
   }
   out[24] = '\0';
}

void
_mwatch_watch_oid_new (bson_oid_t *oid)
{
   oid_generate (oid);
}

/* The WatchID `oid` (a fresh one when NULL), iteration 0, the library's
 * default fields.  Without `with_hex` the hexadecimal form is left empty:
 * a stub's, never shown. */
static void
identity_init (mwatch_message_t *msg, const bson_oid_t *oid, bool with_hex)
{
   if (oid) {
      msg->oid = *oid;
   } else {
      oid_generate (&msg->oid);
   }
   if (with_hex) {
      oid_to_hex (&msg->oid, msg->watch_id);
   } else {
      msg->watch_id[0] = '\0';
   }
   msg->iteration = 0;
   msg->default_fields = NULL;
}

mwatch_message_t *
_mwatch_message_new_as (const bson_oid_t *oid, int64_t iteration, int64_t start)
{
   mwatch_message_t *msg = message_alloc (NEW_FIELDS, NEW_SPARE);
   identity_init (msg, oid, true);
   msg->due = MWATCH_DUE_NEVER;
   msg->ready = false;
   msg->iteration = iteration;
   /* The three fields every message starts with, written in place: the
    * block has room for them.  WatchID's text is the message's own
    * hexadecimal form, in its block like a copy would be (a compact copy
    * shifts it, a copy field by field copies it), not a second copy. */
   field_t *f = msg->fields;
   f[0] = (field_t) {.key = MWATCH_NAME (MWATCH_NAME_WATCH_ID), .key_len = 7, .key_static = true,
                     .value = {.type = MWATCH_TYPE_UTF8}};
   f[0].value.value.v_utf8.str = msg->watch_id;
   f[0].value.value.v_utf8.len = 24;
   f[1] = (field_t) {.key = MWATCH_NAME (MWATCH_NAME_ITERATION), .key_len = 9, .key_static = true,
                     .value = {.type = MWATCH_TYPE_INT64, .value.v_int64 = iteration}};
   f[2] = (field_t) {.key = MWATCH_NAME (MWATCH_NAME_START_TIME), .key_len = 9, .key_static = true,
                     .value = {.type = MWATCH_TYPE_DATETIME, .value.v_datetime = start}};
   msg->count = 3;
   return msg;
}

mwatch_message_t *
mwatch_message_new (void)
{
   return _mwatch_message_new_as (NULL, 0, _mwatch_realtime_now ());
}

mwatch_message_t *
_mwatch_message_stub (const bson_oid_t *oid,
                      int64_t iteration,
                      int64_t due,
                      bool ready,
                      size_t charged,
                      size_t extra,
                      void **extra_out)
{
   mwatch_message_t *stub = message_alloc (1, extra + 8);
   *extra_out = extra ? spare_take (stub, extra, 8) : NULL;
   /* A stub's hexadecimal WatchID is never shown; a fresh identity's is
    * made, for a message that stands for itself. */
   identity_init (stub, oid, oid == NULL);
   stub->iteration = iteration;
   stub->due = due;
   stub->ready = ready;
   stub->charged = charged;
   return stub;
}

/* Bytes a field takes in a block: its key and its value's data, each
 * NUL-terminated or 8-byte aligned as its kind needs. */
static size_t
field_bytes (const field_t *field)
{
   size_t size = field->key_len + 1;
   switch (field->value.type) {
   case MWATCH_TYPE_UTF8:
      size += field->value.value.v_utf8.len + 1;
      break;
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
      size += field->value.value.v_doc.len + 8;
      break;
   default:
      break;
   }
   return size;
}

/* Whether `msg` lies whole in one pooled block, with nothing allocated
 * apart nor borrowed: then a copy is the block's used bytes and a pointer
 * shift. */
static bool
is_compact (const mwatch_message_t *msg)
{
   if (!msg->pooled || msg->fields_on_heap) {
      return false;
   }
   for (size_t i = 0; i < msg->count; i++) {
      if (msg->fields[i].key_owned || msg->fields[i].value_owned ||
          msg->fields[i].value_borrowed) {
         return false;
      }
   }
   return true;
}

static mwatch_message_t *
compact_copy (const mwatch_message_t *msg, size_t extra, void **extra_out)
{
   size_t used = (size_t) (msg->spare - (const char *) msg);
   if (used + extra + 8 > MWATCH_BLOCK_SIZE) {
      return NULL;
   }
   bool pooled;
   mwatch_message_t *copy = _mwatch_block_get (MWATCH_BLOCK_SIZE, &pooled);
   memcpy (copy, msg, used);
   ptrdiff_t delta = (const char *) copy - (const char *) msg;
   copy->pooled = pooled;
   copy->fields = (field_t *) ((char *) msg->fields + delta);
   copy->spare = (char *) copy + used;
   copy->spare_end = (char *) copy + MWATCH_BLOCK_SIZE;
   for (size_t i = 0; i < copy->count; i++) {
      field_t *f = &copy->fields[i];
      if (!f->key_static) {
         f->key += delta;
      }
      if (f->value.type == MWATCH_TYPE_UTF8) {
         f->value.value.v_utf8.str += delta;
      } else if (f->value.type == MWATCH_TYPE_DOCUMENT || f->value.type == MWATCH_TYPE_ARRAY) {
         f->value.value.v_doc.data += delta;
      }
   }
   *extra_out = extra ? spare_take (copy, extra, 8) : NULL;
   return copy;
}

size_t
_mwatch_message_bytes (const mwatch_message_t *msg)
{
   size_t bytes = (size_t) (msg->spare_end - (const char *) msg) + msg->charged;
   if (msg->fields_on_heap) {
      bytes += msg->capacity * sizeof (field_t);
   }
   for (size_t i = 0; i < msg->count; i++) {
      const field_t *f = &msg->fields[i];
      if (f->key_owned || f->value_owned) {
         bytes += field_bytes (f);
      }
   }
   return bytes;
}

/* A copy is what every record queued for a listener costs: a compact
 * message is copied whole with its pointers shifted, any other field by
 * field into a block sized to its fields.  `extra` bytes for the caller
 * come first in the spare room, so that they are aligned. */
mwatch_message_t *
_mwatch_message_queue_copy (const mwatch_message_t *msg,
                            bool with_fields,
                            size_t extra,
                            void **extra_out)
{
   mwatch_message_t *copy;
   if (!msg) {
      copy = _mwatch_message_stub (NULL, 0, _mwatch_monotonic_now (), true, 0, extra, extra_out);
   } else if (with_fields && is_compact (msg) && (copy = compact_copy (msg, extra, extra_out))) {
      return copy;
   } else {
      size_t bytes = 0;
      size_t count = with_fields ? msg->count : 0;
      for (size_t i = 0; i < count; i++) {
         bytes += field_bytes (&msg->fields[i]);
      }
      copy = message_alloc (count ? count : 1, extra + 8 + bytes);
      *extra_out = extra ? spare_take (copy, extra, 8) : NULL;
      memcpy (&copy->oid, &msg->oid, sizeof copy->oid);
      memcpy (copy->watch_id, msg->watch_id, sizeof copy->watch_id);
      copy->iteration = msg->iteration;
      copy->due = msg->due;
      copy->ready = msg->ready;
      copy->default_fields = msg->default_fields;
      copy->charged = msg->charged;
      for (size_t i = 0; i < count; i++) {
         const field_t *from = &msg->fields[i];
         field_t *to = &copy->fields[i];
         to->key_len = from->key_len;
         to->key_static = from->key_static;
         if (from->key_static) {
            to->key = from->key;
            to->key_owned = false;
         } else {
            to->key = store_bytes (copy, from->key, from->key_len, 1, true, &to->key_owned);
         }
         to->value_borrowed = false;
         value_copy (copy, &to->value, &from->value, &to->value_owned);
      }
      copy->count = count;
   }
   return copy;
}

mwatch_message_t *
mwatch_message_copy (const mwatch_message_t *msg)
{
   void *none;
   return _mwatch_message_queue_copy (msg, true, 0, &none);
}

void
mwatch_message_destroy (mwatch_message_t *msg)
{
   if (!msg) {
      return;
   }
   for (size_t i = 0; msg->owns_parts && i < msg->count; i++) {
      field_free (&msg->fields[i]);
   }
   if (msg->fields_on_heap) {
      bson_free (msg->fields);
   }
   _mwatch_block_put (msg, msg->pooled);
}

const char *
mwatch_message_watch_id (const mwatch_message_t *msg)
{
   return msg->watch_id;
}

const bson_oid_t *
mwatch_message_oid (const mwatch_message_t *msg)
{
   return &msg->oid;
}

int64_t
mwatch_message_iteration (const mwatch_message_t *msg)
{
   return msg->iteration;
}

int64_t
mwatch_message_next_iteration (mwatch_message_t *msg)
{
   _mwatch_message_set_iteration (msg, msg->iteration + 1);
   return msg->iteration;
}

void
_mwatch_message_set_iteration (mwatch_message_t *msg, int64_t iteration)
{
   msg->iteration = iteration;
   mwatch_value_t v = {.type = MWATCH_TYPE_INT64, .value.v_int64 = iteration};
   _mwatch_message_put (msg, "Iteration", 9, &v);
}

bool
mwatch_message_is_ready (const mwatch_message_t *msg)
{
   return msg->ready;
}

bool
mwatch_message_set_ready (mwatch_message_t *msg)
{
   if (msg->ready) {
      return false;
   }
   msg->ready = true;
   int64_t now = _mwatch_monotonic_now ();
   if (msg->due > now) {
      msg->due = now;
   }
   return true;
}

int64_t
mwatch_message_due (const mwatch_message_t *msg)
{
   return msg->due;
}

void
mwatch_message_set_timeout (mwatch_message_t *msg, double seconds)
{
   if (msg->ready) {
      return;
   }
   if (!(seconds > 0)) {
      msg->due = MWATCH_DUE_NEVER;
      return;
   }
   /* Clamp, so that an absurd timeout means "never" rather than overflow. */
   double due = (double) _mwatch_monotonic_now () + seconds * 1e6;
   msg->due = due >= (double) MWATCH_DUE_NEVER ? MWATCH_DUE_NEVER : (int64_t) due;
}

void
_mwatch_message_set_due (mwatch_message_t *msg, int64_t due)
{
   if (!msg->ready) {
      msg->due = due;
   }
}
