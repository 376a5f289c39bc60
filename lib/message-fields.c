/* The names of a WatchMessage's fields as the library writes them: the
 * default fields of {watch} and the CSV columns.  Below both the message
 * (which falls back to the default fields) and its renderings. */
#include "message-private.h"

#include <string.h>

/* One array, a name at the start of each slot (message-private.h): a key
 * pointing there is known by its address. */
const char _mwatch_names[MWATCH_NAME_COUNT][MWATCH_NAME_SLOT] = {
#define NAME_TEXT(id, first, text) [MWATCH_NAME_##id] = text,
   MWATCH_NAMES (NAME_TEXT)
#undef NAME_TEXT
};

/* The default fields are the tail of the CSV columns: one list, so that
 * the two cannot drift apart.  State first: what kind of record a line is
 * comes before what it says. */
#define DEFAULT_FIELDS                                                                        \
   _mwatch_names[MWATCH_NAME_STATE], _mwatch_names[MWATCH_NAME_DB],                          \
      _mwatch_names[MWATCH_NAME_COLLECTION], _mwatch_names[MWATCH_NAME_OPERATION],           \
      _mwatch_names[MWATCH_NAME_FILTER], _mwatch_names[MWATCH_NAME_DURATION],                \
      _mwatch_names[MWATCH_NAME_MATCHED_COUNT], _mwatch_names[MWATCH_NAME_INSERTED_COUNT],   \
      _mwatch_names[MWATCH_NAME_UPSERTED_COUNT], _mwatch_names[MWATCH_NAME_MODIFIED_COUNT],  \
      _mwatch_names[MWATCH_NAME_DELETED_COUNT], _mwatch_names[MWATCH_NAME_ERROR]

const char *const mwatch_default_fields[] = {DEFAULT_FIELDS, NULL};

const char *const mwatch_csv_columns[] = {_mwatch_names[MWATCH_NAME_WATCH_ID],
                                          _mwatch_names[MWATCH_NAME_ITERATION],
                                          _mwatch_names[MWATCH_NAME_START_TIME],
                                          _mwatch_names[MWATCH_NAME_END_TIME],
                                          DEFAULT_FIELDS,
                                          NULL};

/* The names by a hash of their length and first byte, which tells the
 * library's names all apart: two that did not would be a second
 * initializer of one entry, an error (-Woverride-init, -Werror). */
#define FIND_BUCKETS 64
#define FIND_HASH(len, first) (((len) + 4u * (uint8_t) (first)) % FIND_BUCKETS)

static const uint8_t find_table[FIND_BUCKETS] = { /* 1 + the name; 0: none */
#define NAME_HASH(id, first, text) [FIND_HASH (sizeof text - 1, first)] = 1 + MWATCH_NAME_##id,
   MWATCH_NAMES (NAME_HASH)
#undef NAME_HASH
};

/* Whether the `len` bytes at `a` and at `b` are equal: two words each for
 * the library's longer names, which counts are (`b` is a slot of
 * _mwatch_names, with room for both words; `a` has `len` bytes). */
static inline bool
same_bytes (const char *a, const char *b, size_t len)
{
   uint64_t x, y, u, v;
   if (len < 8) {
      return memcmp (a, b, len) == 0;
   }
   memcpy (&x, a, 8);
   memcpy (&y, b, 8);
   memcpy (&u, a + len - 8, 8);
   memcpy (&v, b + len - 8, 8);
   return x == y && u == v;
}

const char *
_mwatch_name_find (const char *key, size_t len)
{
   if (_mwatch_name_of (key) >= 0) {
      return key;
   }
   if (len == 0 || len >= MWATCH_NAME_SLOT) {
      return NULL;
   }
   unsigned at = find_table[FIND_HASH (len, key[0])];
   if (!at) {
      return NULL;
   }
   const char *name = _mwatch_names[at - 1];
   return name[len] == '\0' && same_bytes (key, name, len) ? name : NULL;
}
