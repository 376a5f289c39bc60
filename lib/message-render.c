/* The four renderings of a WatchMessage: {watch} and {watch.full} as
 * key=value, {watch.csv} as an RFC 4180 record and {watch.json}.  They
 * append to the caller's buffer and read the message's fields in place
 * (_mwatch_message_fields): no call and no copy of a value per field. */
#include "json-private.h"
#include "message-private.h"
#include "message-render-private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef enum { MODE_TEXT, MODE_CSV, MODE_JSON } render_mode_t;

/* ---------------------------------------------------------------- values */

/* Inlined where the mode is a constant and every field goes through it
 * ({watch}'s default list); write_value() below for the others. */
static inline __attribute__ ((always_inline)) void
write_value_inline (mwatch_buf_t *out, const mwatch_value_t *value, render_mode_t mode)
{
   switch (value->type) {
   case MWATCH_TYPE_BOOL:
      mwatch_buf_append_str (out, value->value.v_bool ? "true" : "false");
      break;
   case MWATCH_TYPE_INT64:
      _mwatch_json_int64 (out, value->value.v_int64);
      break;
   case MWATCH_TYPE_DOUBLE:
      if (mode == MODE_JSON) {
         _mwatch_json_double (out, value->value.v_double);
      } else {
         _mwatch_text_double (out, value->value.v_double);
      }
      break;
   case MWATCH_TYPE_UTF8: {
      const char *str = value->value.v_utf8.str;
      size_t len = value->value.v_utf8.len;
      if (mode == MODE_TEXT) {
         _mwatch_text_string (out, str, len);
      } else if (mode == MODE_CSV) {
         _mwatch_json_raw (out, str, len);
      } else {
         _mwatch_json_string (out, str, len);
      }
      break;
   }
   case MWATCH_TYPE_DATETIME:
      if (mode == MODE_JSON) {
         _mwatch_buf_putc (out, '"');
      }
      _mwatch_text_datetime (out, value->value.v_datetime);
      if (mode == MODE_JSON) {
         _mwatch_buf_putc (out, '"');
      }
      break;
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
      _mwatch_json_bson_data (out,
                              value->value.v_doc.data,
                              value->value.v_doc.len,
                              value->type == MWATCH_TYPE_ARRAY);
      break;
   case MWATCH_TYPE_BSON:
      _mwatch_json_bson_value (out, &value->value.v_bson);
      break;
   case MWATCH_TYPE_NULL:
   default:
      /* An empty cell is CSV's null. */
      if (mode != MODE_CSV) {
         MWATCH_BUF_PUT_LIT (out, "null");
      }
      break;
   }
}

static void
write_value (mwatch_buf_t *out, const mwatch_value_t *value, render_mode_t mode)
{
   write_value_inline (out, value, mode);
}

void
_mwatch_render_value_text (mwatch_buf_t *out, const mwatch_value_t *value)
{
   write_value (out, value, MODE_TEXT);
}

void
_mwatch_render_value_csv (mwatch_buf_t *out, const mwatch_value_t *value)
{
   write_value (out, value, MODE_CSV);
}

void
_mwatch_render_value_json (mwatch_buf_t *out, const mwatch_value_t *value)
{
   write_value (out, value, MODE_JSON);
}

/* ---------------------------------------------------------------- fields */

/* Writes `sep` before every item but the first. */
static void
separate (mwatch_buf_t *out, bool *first, char sep)
{
   if (!*first) {
      _mwatch_buf_putc (out, sep);
   }
   *first = false;
}

/* Fields whose name starts with '_' are private to filters and handlers,
 * never rendered by default. */
static inline bool
is_public (const _mwatch_field_t *field)
{
   return field->key[0] != '_';
}

/* ---------------------------------------------------------------- key=value */

/* Messages with more fields than this, rare, are rendered by a lookup per
 * listed field instead. */
#define INDEX_MAX 64
/* Buckets of field names by their first two bytes, which tell the
 * library's field names all apart. */
#define INDEX_BUCKETS 64
#define BUCKET(name) ((((uint8_t) (name)[0] * 2u) ^ (uint8_t) (name)[1]) % INDEX_BUCKETS)

/* The message's fields, read once, and chained by their first bytes: what
 * lets {watch} find each listed field without a search by name through
 * the message for each. */
typedef struct {
   const char *keys[INDEX_MAX];
   mwatch_value_t values[INDEX_MAX];
   uint8_t next[INDEX_MAX]; /* 1 + the next field in the bucket; 0 ends */
   uint8_t head[INDEX_BUCKETS];
} field_index_t;

static bool
field_index_init (field_index_t *index, const mwatch_message_t *msg)
{
   size_t count;
   const _mwatch_field_t *fields = _mwatch_message_fields (msg, &count);

   if (count > INDEX_MAX) {
      return false;
   }
   memset (index->head, 0, sizeof index->head);
   for (size_t n = 0; n < count;) {
      index->keys[n] = fields[n].key;
      index->values[n] = fields[n].value;
      /* Never empty: there is a second byte, if only the terminator. */
      uint8_t bucket = BUCKET (index->keys[n]);
      index->next[n] = index->head[bucket];
      index->head[bucket] = (uint8_t) ++n;
   }
   return true;
}

/* As mwatch_message_get() finds a field name (with no '.'). */
static const mwatch_value_t *
field_index_find (const field_index_t *index, const char *key)
{
   if (!key[0]) {
      return NULL; /* no field has an empty name */
   }
   for (size_t i = index->head[BUCKET (key)]; i; i = index->next[i - 1]) {
      if (strcmp (index->keys[i - 1], key) == 0) {
         return &index->values[i - 1];
      }
   }
   return NULL;
}

/* The library's default list, the usual {watch}, gets a table made once
 * per pair of separators: the names' lengths and their buckets.
 * Rendering it then reads the message once, keeps the values of the
 * listed names, and writes them in the list's order: no index of the
 * message's fields, no search per listed name, no strlen per key.  The
 * bytes are those of the general path below (test-fast-paths.c compares
 * the two). */
#define DEFAULT_MAX 32 /* bits of the `found` mask below */
/* Each name is kept as "<delimiter>Name<separator>" (" Name=" by
 * default), in a slot of PAIR_SLOT bytes copied whole (PAIR_COPY bytes
 * from the delimiter or from the name, a fixed size that the compiler
 * turns into a few moves, where a memcpy of the exact length is a call);
 * names or separators too long for it make the table unused. */
#define PAIR_SLOT 32
#define PAIR_COPY 24
#define LOOK_AT_TEXT 0xFF

typedef struct {
   size_t n; /* 0: the list is too long for the table, or a name */
   size_t len[DEFAULT_MAX]; /* of " Name=" */
   uint8_t next[DEFAULT_MAX]; /* 1 + the next name in the bucket; 0 ends */
   uint8_t head[INDEX_BUCKETS];
   /* By where in _mwatch_names a key points: at the start of a name
    * there (where the library's own fields point), 1 + the name's place
    * in the list, 0 when the list does not have it; elsewhere
    * LOOK_AT_TEXT. */
   uint8_t by_address[sizeof _mwatch_names];
   char pair[DEFAULT_MAX][PAIR_SLOT]; /* " Name=", zeros after */
} default_table_t;

/* The separators of the key=value renderings (pymongowatch's
 * WatchMessage.default_delimiter and default_key_value_separator), with
 * the default list's table made for them.  A set is immutable once
 * published: a render loads the pointer once and uses that set to its
 * end, so a configuration loaded meanwhile on another thread changes the
 * next line, never half of one, and the render path takes no lock.  Sets
 * are never freed: every one made stays on a list (equal ones shared, so
 * reloading does not grow memory), as a line being rendered may still
 * read one that is no longer current. */
typedef struct separators {
   struct separators *next;
   char *delimiter;
   size_t delimiter_len;
   char *key_value;
   size_t key_value_len;
   default_table_t table;
} separators_t;

static char default_delimiter[] = " ";
static char default_key_value[] = "=";
static separators_t default_separators = {
   .delimiter = default_delimiter,
   .delimiter_len = 1,
   .key_value = default_key_value,
   .key_value_len = 1,
};
static pthread_once_t default_table_once = PTHREAD_ONCE_INIT;
/* Set once the table is made: every line looks at it, not at the once. */
static atomic_bool default_table_ready;
/* NULL: default_separators. */
static _Atomic (separators_t *) current_separators;
/* Every set made but the default, newest first. */
static _Atomic (separators_t *) all_separators;

static void
table_init (separators_t *s)
{
   default_table_t *t = &s->table;
   size_t n = 0;

   while (mwatch_default_fields[n]) {
      n++;
   }
   /* The copy starts past the delimiter and takes PAIR_COPY bytes. */
   if (n > DEFAULT_MAX || s->delimiter_len > PAIR_SLOT - PAIR_COPY) {
      return;
   }
   for (size_t i = n; i-- > 0;) {
      const char *name = mwatch_default_fields[i];
      size_t len = strlen (name);
      size_t total = s->delimiter_len + len + s->key_value_len;
      /* Shorter than the copy, so that the copy ends the text with the
       * slot's zeros. */
      if (len == 0 || total >= PAIR_COPY) {
         return;
      }
      memcpy (t->pair[i], s->delimiter, s->delimiter_len);
      memcpy (t->pair[i] + s->delimiter_len, name, len);
      memcpy (t->pair[i] + s->delimiter_len + len, s->key_value, s->key_value_len);
      t->len[i] = total;
      /* Filled from the end, so a bucket lists its names in list order. */
      t->next[i] = t->head[BUCKET (name)];
      t->head[BUCKET (name)] = (uint8_t) (i + 1);
   }
   memset (t->by_address, LOOK_AT_TEXT, sizeof t->by_address);
   for (size_t name = 0; name < MWATCH_NAME_COUNT; name++) {
      t->by_address[name * MWATCH_NAME_SLOT] = 0;
   }
   for (size_t i = n; i-- > 0;) {
      /* From the end: a name listed twice is known by its first place. */
      const char *known = _mwatch_name_find (mwatch_default_fields[i], strlen (mwatch_default_fields[i]));
      if (known) {
         t->by_address[known - (const char *) _mwatch_names] = (uint8_t) (i + 1);
      }
   }
   t->n = n;
}

static void
default_table_init (void)
{
   table_init (&default_separators);
   atomic_store_explicit (&default_table_ready, true, memory_order_release);
}

/* The set in force, for one line. */
static inline const separators_t *
separators (void)
{
   const separators_t *s = atomic_load_explicit (&current_separators, memory_order_acquire);
   if (!s) {
      if (!atomic_load_explicit (&default_table_ready, memory_order_acquire)) {
         pthread_once (&default_table_once, default_table_init);
      }
      s = &default_separators;
   }
   return s;
}

void
_mwatch_render_set_separators (const char *delimiter, const char *key_value)
{
   delimiter = delimiter ? delimiter : default_delimiter;
   key_value = key_value ? key_value : default_key_value;
   if (strcmp (delimiter, default_delimiter) == 0 && strcmp (key_value, default_key_value) == 0) {
      atomic_store_explicit (&current_separators, NULL, memory_order_release);
      return;
   }
   separators_t *s = atomic_load_explicit (&all_separators, memory_order_acquire);
   while (s && (strcmp (s->delimiter, delimiter) != 0 || strcmp (s->key_value, key_value) != 0)) {
      s = s->next;
   }
   if (!s) {
      s = bson_malloc0 (sizeof *s);
      s->delimiter = bson_strdup (delimiter);
      s->delimiter_len = strlen (delimiter);
      s->key_value = bson_strdup (key_value);
      s->key_value_len = strlen (key_value);
      table_init (s);
      /* Two loads at once may both add an equal set: harmless. */
      s->next = atomic_load_explicit (&all_separators, memory_order_relaxed);
      while (!atomic_compare_exchange_weak_explicit (
         &all_separators, &s->next, s, memory_order_release, memory_order_relaxed)) {
      }
   }
   atomic_store_explicit (&current_separators, s, memory_order_release);
}

/* `bare_key`: the key is known to need no quotes, as the library's own
 * field names do. */
static void
write_pair (mwatch_buf_t *out,
            const separators_t *s,
            bool *first,
            const char *key,
            bool bare_key,
            const mwatch_value_t *value)
{
   /* One byte each unless configured otherwise: a store, not a copy. */
   if (*first) {
      *first = false;
   } else if (s->delimiter_len == 1) {
      _mwatch_buf_putc (out, s->delimiter[0]);
   } else {
      _mwatch_buf_put (out, s->delimiter, s->delimiter_len);
   }
   if (bare_key) {
      _mwatch_buf_put (out, key, strlen (key));
   } else {
      _mwatch_text_string (out, key, strlen (key));
   }
   if (s->key_value_len == 1) {
      _mwatch_buf_putc (out, s->key_value[0]);
   } else {
      _mwatch_buf_put (out, s->key_value, s->key_value_len);
   }
   write_value (out, value, MODE_TEXT);
}

/* Writes `msg`'s fields of mwatch_default_fields and returns true, or
 * returns false having written nothing, for the general path to do it. */
static bool
render_default (const mwatch_message_t *msg, const separators_t *s, mwatch_buf_t *out)
{
   const default_table_t *t = &s->table;
   /* 1 + a place in the list; [0] and bit 0 take the fields it does not
    * name, so that each field is taken without a test. */
   const mwatch_value_t *values[DEFAULT_MAX + 1];
   uint64_t found = 0;
   size_t count;
   const _mwatch_field_t *fields = _mwatch_message_fields (msg, &count);

   /* As the general path: past INDEX_MAX fields, lookups by name. */
   if (t->n == 0 || count > INDEX_MAX) {
      return false;
   }
   for (size_t f = 0; f < count; f++) {
      const char *key = fields[f].key;
      /* The library's own fields, set by the watchers, point at its names
       * (_mwatch_names): their place is known without a look at the
       * text. */
      uintptr_t at = (uintptr_t) key - (uintptr_t) _mwatch_names;
      size_t i = at < sizeof t->by_address ? t->by_address[at] : LOOK_AT_TEXT;
      if (i == LOOK_AT_TEXT) {
         i = key[0] ? t->head[BUCKET (key)] : 0;
         while (i && strcmp (mwatch_default_fields[i - 1], key) != 0) {
            i = t->next[i - 1];
         }
      }
      /* A later field of the same name wins, as in the index. */
      values[i] = &fields[f].value;
      found |= UINT64_C (1) << i;
   }
   found >>= 1;
   size_t skip = s->delimiter_len; /* no delimiter before the first pair */
   while (found) {
      size_t i = (size_t) __builtin_ctzll (found);
      found &= found - 1;
      if (out->len + PAIR_COPY >= out->cap) {
         _mwatch_buf_grow (out, PAIR_COPY);
      }
      /* The slot's zeros after the pair end the text. */
      memcpy (out->data + out->len, t->pair[i] + skip, PAIR_COPY);
      out->len += t->len[i] - skip;
      skip = 0;
      write_value_inline (out, values[i + 1], MODE_TEXT);
   }
   return true;
}

void
mwatch_message_render (const mwatch_message_t *msg,
                       const char *const *fields,
                       mwatch_buf_t *out)
{
   const separators_t *s = separators ();
   fields = fields ? fields : mwatch_message_get_default_fields (msg);
   if (fields == mwatch_default_fields && render_default (msg, s, out)) {
      return;
   }

   field_index_t index;
   bool indexed = field_index_init (&index, msg);
   bool first = true;

   /* The library's list holds no path, so what the index misses is
    * missing, and its names are bare. */
   bool ours = fields == mwatch_default_fields;
   for (; *fields; fields++) {
      const mwatch_value_t *found = indexed ? field_index_find (&index, *fields) : NULL;
      mwatch_value_t value;
      /* A dotted path reaches into a document: only the message finds it. */
      if (!found && (!indexed || (!ours && strchr (*fields, '.'))) &&
          mwatch_message_get (msg, *fields, &value)) {
         found = &value;
      }
      if (found) {
         write_pair (out, s, &first, *fields, ours, found);
      }
   }
}

void
mwatch_message_render_full (const mwatch_message_t *msg, mwatch_buf_t *out)
{
   size_t count;
   const _mwatch_field_t *fields = _mwatch_message_fields (msg, &count);
   bool first = true;
   const separators_t *s = separators ();

   for (size_t i = 0; i < count; i++) {
      if (is_public (&fields[i])) {
         write_pair (out, s, &first, fields[i].key, false, &fields[i].value);
      }
   }
}

/* ---------------------------------------------------------------- CSV */

/* Starts a cell; returns where its content begins. */
static size_t
csv_cell_begin (mwatch_buf_t *out, bool *first)
{
   separate (out, first, ',');
   return out->len;
}

/* Lengthens `out` by `n` bytes, to be overwritten. */
static void
csv_grow (mwatch_buf_t *out, size_t n)
{
   static const char quotes[] = "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"";

   while (n > 0) {
      size_t chunk = n < sizeof quotes - 1 ? n : sizeof quotes - 1;
      mwatch_buf_append (out, quotes, chunk);
      n -= chunk;
   }
}

/* Writes the line breaks of the content since `start` as the two
 * characters \n and \r, and doubles each backslash, so that the cell
 * stays on one physical line and the text can be read back exactly. */
static void
csv_escape_newlines (mwatch_buf_t *out, size_t start)
{
   size_t extra = 0;

   for (size_t i = start; i < out->len; i++) {
      char c = out->data[i];
      extra += c == '\n' || c == '\r' || c == '\\';
   }
   if (extra == 0) {
      return;
   }
   size_t src = out->len;
   csv_grow (out, extra);
   size_t dst = out->len;
   while (src > start) {
      char c = out->data[--src];
      if (c == '\n' || c == '\r' || c == '\\') {
         out->data[--dst] = c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
         out->data[--dst] = '\\';
      } else {
         out->data[--dst] = c;
      }
   }
}

/* Quotes the content written since `start` when RFC 4180 requires it,
 * after escaping its line breaks when `escape`.  Done in place, so the
 * content is written once and never copied out. */
static void
csv_cell_end (mwatch_buf_t *out, size_t start, bool escape)
{
   size_t n_quotes = 0;
   bool needed = false;

   if (escape) {
      csv_escape_newlines (out, start);
   }
   for (size_t i = start; i < out->len; i++) {
      char c = out->data[i];
      n_quotes += c == '"';
      needed = needed || c == '"' || c == ',' || c == '\r' || c == '\n';
   }
   if (!needed) {
      return;
   }
   size_t src = out->len;
   csv_grow (out, n_quotes + 2);
   /* Shift right from the end, doubling each quote; the opening and closing
    * quotes are already in place at both ends. */
   size_t dst = out->len - 1;
   while (src > start) {
      char c = out->data[--src];
      out->data[--dst] = c;
      if (c == '"') {
         out->data[--dst] = c;
      }
   }
   out->data[start] = '"';
}

static bool
is_listed (const char *const *list, const char *key)
{
   for (; *list; list++) {
      if (strcmp (*list, key) == 0) {
         return true;
      }
   }
   return false;
}

/* The cell of the fields no column names: one JSON object, so that a row
 * has as many cells as the header however many fields a record carries;
 * an empty cell when there are none. */
static void
csv_extra_cell (const mwatch_message_t *msg,
                const char *const *columns,
                bool escape,
                bool *first,
                mwatch_buf_t *out)
{
   size_t count;
   const _mwatch_field_t *fields = _mwatch_message_fields (msg, &count);
   bool none = true;
   size_t start = csv_cell_begin (out, first);

   for (size_t i = 0; i < count; i++) {
      if (!is_public (&fields[i])) {
         continue;
      }
      const char *key = fields[i].key;
      /* A field named Extra has no column of its own even when the list
       * places the Extra cell: it goes in the object. */
      if (is_listed (columns, key) && strcmp (key, MWATCH_CSV_EXTRA) != 0) {
         continue;
      }
      _mwatch_buf_putc (out, none ? '{' : ',');
      none = false;
      _mwatch_json_string (out, key, strlen (key));
      _mwatch_buf_putc (out, ':');
      write_value (out, &fields[i].value, MODE_JSON);
   }
   if (!none) {
      _mwatch_buf_putc (out, '}');
   }
   csv_cell_end (out, start, escape);
}

void
mwatch_message_render_csv (const mwatch_message_t *msg,
                           const char *const *columns,
                           mwatch_buf_t *out)
{
   _mwatch_message_render_csv_ex (msg, columns, false, out);
}

void
_mwatch_message_render_csv_ex (const mwatch_message_t *msg,
                               const char *const *columns,
                               bool escape,
                               mwatch_buf_t *out)
{
   mwatch_value_t value;
   bool first = true;
   bool extra_done = false;

   columns = columns ? columns : mwatch_csv_columns;
   for (const char *const *col = columns; *col; col++) {
      if (!extra_done && strcmp (*col, MWATCH_CSV_EXTRA) == 0) {
         csv_extra_cell (msg, columns, escape, &first, out);
         extra_done = true;
         continue;
      }
      size_t start = csv_cell_begin (out, &first);
      if (mwatch_message_get (msg, *col, &value)) {
         write_value (out, &value, MODE_CSV);
      }
      csv_cell_end (out, start, escape);
   }
   if (!extra_done) {
      csv_extra_cell (msg, columns, escape, &first, out);
   }
}

void
_mwatch_render_csv_cell (mwatch_buf_t *out, const char *text, size_t len, bool escape)
{
   size_t start = out->len;

   _mwatch_json_raw (out, text, len);
   csv_cell_end (out, start, escape);
}

void
mwatch_render_csv_header (const char *const *columns, mwatch_buf_t *out)
{
   bool first = true;

   columns = columns ? columns : mwatch_csv_columns;
   for (const char *const *col = columns; *col; col++) {
      separate (out, &first, ',');
      _mwatch_render_csv_cell (out, *col, strlen (*col), false);
   }
   if (!is_listed (columns, MWATCH_CSV_EXTRA)) {
      separate (out, &first, ',');
      MWATCH_BUF_PUT_LIT (out, MWATCH_CSV_EXTRA);
   }
}

/* ---------------------------------------------------------------- JSON */

void
mwatch_message_render_json (const mwatch_message_t *msg, mwatch_buf_t *out)
{
   size_t count;
   const _mwatch_field_t *fields = _mwatch_message_fields (msg, &count);
   bool first = true;

   _mwatch_buf_putc (out, '{');
   for (size_t i = 0; i < count; i++) {
      if (!is_public (&fields[i])) {
         continue;
      }
      separate (out, &first, ',');
      /* The key's length is kept: no strlen. */
      _mwatch_json_string (out, fields[i].key, fields[i].key_len);
      _mwatch_buf_putc (out, ':');
      write_value (out, &fields[i].value, MODE_JSON);
   }
   _mwatch_buf_putc (out, '}');
}
