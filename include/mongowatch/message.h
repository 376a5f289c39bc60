/*
 * mongowatch messages: mwatch_value_t, mwatch_message_t (the WatchMessage) and
 * its renderings.
 *
 * Included by <mongowatch.h>; do not include it on its own.
 */
#ifndef MONGOWATCH_MESSAGE_H
#define MONGOWATCH_MESSAGE_H

#ifndef MONGOWATCH_H
#error "include <mongowatch.h>, not <mongowatch/message.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * mwatch_value_t: one typed value of a WatchMessage field.
 * ------------------------------------------------------------------------ */

typedef enum {
   MWATCH_TYPE_NULL = 0,
   MWATCH_TYPE_BOOL,
   MWATCH_TYPE_INT64,
   MWATCH_TYPE_DOUBLE,
   MWATCH_TYPE_UTF8,     /* UTF-8 text of a given length; may contain NUL */
   MWATCH_TYPE_DATETIME, /* microseconds since the Unix epoch, UTC */
   MWATCH_TYPE_DOCUMENT, /* a BSON document (raw bytes) */
   MWATCH_TYPE_ARRAY,    /* a BSON array (raw bytes) */
   MWATCH_TYPE_BSON,     /* any other BSON value (ObjectId, Decimal128, ...) */
} mwatch_type_t;

/*
 * A value read from a message points into the message's own storage: it
 * stays valid until that field is set again or removed, or the message is
 * destroyed.  Values given to a setter are copied.
 *
 * A value reached inside a document by a dotted path is converted to the
 * closest type here: BSON int32 and int64 to INT64, BSON date (milliseconds)
 * to DATETIME (microseconds), string, double, bool, null, document and array
 * to their own types, and every other BSON type to BSON.
 */
typedef struct {
   mwatch_type_t type;
   union {
      bool v_bool;
      int64_t v_int64;
      double v_double;
      int64_t v_datetime;
      struct {
         const char *str;
         size_t len;
      } v_utf8;
      struct {
         const uint8_t *data;
         size_t len;
      } v_doc; /* MWATCH_TYPE_DOCUMENT and MWATCH_TYPE_ARRAY */
      bson_value_t v_bson;
   } value;
} mwatch_value_t;

/* Makes `out` a read-only bson_t over a DOCUMENT or ARRAY value without
 * copying it (bson_init_static).  Returns false for any other type. */
MWATCH_EXPORT bool
mwatch_value_as_bson (const mwatch_value_t *value, bson_t *out);

/* ------------------------------------------------------------------------
 * mwatch_message_t: a WatchMessage.
 *
 * An ordered dictionary of typed fields, the log message of one audited
 * operation.  A new message holds, in this order:
 *   WatchID    a fresh ObjectId as 24 hexadecimal digits
 *   Iteration  0
 *   StartTime  now
 * Watchers add DB, Collection, Operation, Filter, EndTime, Duration,
 * MatchedCount, InsertedCount, UpsertedCount, ModifiedCount, DeletedCount
 * and, when the operation failed, Error.
 *
 * Field names are non-empty and contain no '.', since a dot in a path
 * reaches into a document ("Filter.user.name").  Setting an existing field
 * replaces its value and keeps its place.
 *
 * Besides its fields a message has a ready state (set once, when the
 * operation it describes is over), an iteration counter (how many times it
 * was updated) and a due time (when a queue should emit it if it never
 * becomes ready).
 *
 * A message is not thread-safe: one thread changes it at a time.  Give a
 * queue a copy when the original goes on changing.
 * ------------------------------------------------------------------------ */

typedef struct _mwatch_message_t mwatch_message_t;

/* A due time that never comes. */
#define MWATCH_DUE_NEVER INT64_MAX

/* Creates a message with WatchID, Iteration 0 and StartTime now; not ready,
 * due never. */
MWATCH_EXPORT mwatch_message_t *
mwatch_message_new (void);

/* A deep copy: fields, WatchID, iteration, ready state and due time. */
MWATCH_EXPORT mwatch_message_t *
mwatch_message_copy (const mwatch_message_t *msg);

/* Frees the message and every value read from it (NULL: nothing). */
MWATCH_EXPORT void
mwatch_message_destroy (mwatch_message_t *msg);

/* Setters.  Each copies its value and returns false, changing nothing, when
 * `key` is NULL, empty or contains '.', or a required pointer is NULL. */
/* Sets `key` to null. */
MWATCH_EXPORT bool
mwatch_message_set_null (mwatch_message_t *msg, const char *key);
/* Sets `key` to a boolean. */
MWATCH_EXPORT bool
mwatch_message_set_bool (mwatch_message_t *msg, const char *key, bool value);
/* Sets `key` to an integer. */
MWATCH_EXPORT bool
mwatch_message_set_int64 (mwatch_message_t *msg, const char *key, int64_t value);
/* Sets `key` to a double. */
MWATCH_EXPORT bool
mwatch_message_set_double (mwatch_message_t *msg, const char *key, double value);
/* Sets `key` to a NUL-terminated UTF-8 string. */
MWATCH_EXPORT bool
mwatch_message_set_utf8 (mwatch_message_t *msg, const char *key, const char *value);
/* Sets `key` to `len` bytes of UTF-8, which may include NUL bytes. */
MWATCH_EXPORT bool
mwatch_message_set_utf8_len (mwatch_message_t *msg,
                             const char *key,
                             const char *value,
                             size_t len);
/* Sets `key` to a date and time: `us` microseconds since the Unix epoch,
 * UTC. */
MWATCH_EXPORT bool
mwatch_message_set_datetime (mwatch_message_t *msg, const char *key, int64_t us);
/* Sets `key` to a copy of the document `doc`. */
MWATCH_EXPORT bool
mwatch_message_set_document (mwatch_message_t *msg, const char *key, const bson_t *doc);
/* Sets `key` to a copy of `array` (a BSON array). */
MWATCH_EXPORT bool
mwatch_message_set_array (mwatch_message_t *msg, const char *key, const bson_t *array);
/* Sets `key` to any value, e.g. one read from another message. */
MWATCH_EXPORT bool
mwatch_message_set_value (mwatch_message_t *msg,
                          const char *key,
                          const mwatch_value_t *value);

/* Reads the field at `path`.  A path is a field name, optionally followed
 * by dotted keys into a document or array field ("Filter.user.name",
 * "Filter.tags.0").  Returns false when any part of the path is missing or
 * leads into something that is not a document or array; `value` is then
 * left untouched. */
MWATCH_EXPORT bool
mwatch_message_get (const mwatch_message_t *msg,
                    const char *path,
                    mwatch_value_t *value);

/* True when mwatch_message_get() would find `path`. */
MWATCH_EXPORT bool
mwatch_message_has (const mwatch_message_t *msg, const char *path);

/* Removes a top-level field.  Returns false when there was none. */
MWATCH_EXPORT bool
mwatch_message_remove (mwatch_message_t *msg, const char *key);

/* Renames a top-level field, keeping its value and its place.  Returns
 * false when `from` is missing or `to` is not a valid field name; a field
 * already named `to` is removed first. */
MWATCH_EXPORT bool
mwatch_message_rename (mwatch_message_t *msg, const char *from, const char *to);

/* The number of top-level fields. */
MWATCH_EXPORT size_t
mwatch_message_count (const mwatch_message_t *msg);

/* Iteration over the fields in insertion order.  The iterator is valid
 * until the message's set of fields changes. */
typedef struct {
   const mwatch_message_t *priv_msg;
   size_t priv_pos;
} mwatch_message_iter_t;

/* Starts an iteration over the fields of `msg`, before the first. */
MWATCH_EXPORT void
mwatch_message_iter_init (mwatch_message_iter_t *iter, const mwatch_message_t *msg);

/* Advances to the next field, setting `key` and `value`, and returns true;
 * returns false when there is none. */
MWATCH_EXPORT bool
mwatch_message_iter_next (mwatch_message_iter_t *iter,
                          const char **key,
                          mwatch_value_t *value);

/* The message's WatchID: 24 hexadecimal digits, fixed at creation (setting
 * the "WatchID" field does not change it). */
MWATCH_EXPORT const char *
mwatch_message_watch_id (const mwatch_message_t *msg);

/* The WatchID as an ObjectId. */
MWATCH_EXPORT const bson_oid_t *
mwatch_message_oid (const mwatch_message_t *msg);

/* The iteration counter (0 for a new message). */
MWATCH_EXPORT int64_t
mwatch_message_iteration (const mwatch_message_t *msg);

/* Adds one to the iteration counter, stores it in the Iteration field and
 * returns it.  A watcher calls this each time it updates the message, so a
 * queue can tell the newer of two copies. */
MWATCH_EXPORT int64_t
mwatch_message_next_iteration (mwatch_message_t *msg);

/* Whether the message is ready: the operation it describes is over. */
MWATCH_EXPORT bool
mwatch_message_is_ready (const mwatch_message_t *msg);

/* Marks the message ready — the operation is over and the message final —
 * and pulls its due time forward to now.  Ready is set once: returns true
 * the first time, false (changing nothing) after. */
MWATCH_EXPORT bool
mwatch_message_set_ready (mwatch_message_t *msg);

/* The due time on the mwatch_monotonic_us() clock, MWATCH_DUE_NEVER when
 * no timeout was set. */
MWATCH_EXPORT int64_t
mwatch_message_due (const mwatch_message_t *msg);

/* Sets the due time to now + `seconds`; `seconds` <= 0 means never.  A
 * ready message is already due and keeps its due time. */
MWATCH_EXPORT void
mwatch_message_set_timeout (mwatch_message_t *msg, double seconds);

/* ------------------------------------------------------------------------
 * Renderings.  Each appends one line, without a newline, to `out`.
 *
 * Values in the key=value renderings (mwatch_message_render and _full):
 *   null, true, false; integers in decimal; doubles in the shortest form
 *   that reads back to the same number; strings as they are when they hold
 *   no space, quote, '=', backslash, control or non-UTF-8 byte, otherwise
 *   as a JSON string ("a b"); datetimes as ISO-8601 UTC with microseconds
 *   (2026-11-25T11:40:00.123456Z); documents, arrays and other BSON values
 *   as compact relaxed extended JSON ({"age":{"$gt":30}}).
 * Fields are separated by one space, and a key from its value by '=',
 * unless a configuration set watchers.global.default_delimiter and
 * key_value_separator (see mongowatch.yaml(5), "watchers").
 * ------------------------------------------------------------------------ */

/* The fields {watch} shows by default, in order, NULL-terminated:
 * DB Collection Operation Filter Duration MatchedCount InsertedCount
 * UpsertedCount ModifiedCount DeletedCount Error. */
MWATCH_EXPORT extern const char *const mwatch_default_fields[];

/* The leading CSV columns, NULL-terminated: WatchID Iteration StartTime
 * EndTime DB Collection Operation Filter Duration MatchedCount
 * InsertedCount UpsertedCount ModifiedCount DeletedCount Error. */
MWATCH_EXPORT extern const char *const mwatch_csv_columns[];

/* Sets the fields {watch} shows for this message: `fields` is NULL-terminated
 * and not copied, so it must outlive the message (and its copies); NULL
 * goes back to mwatch_default_fields.  Watchers set it from their
 * default_fields option. */
MWATCH_EXPORT void
mwatch_message_set_default_fields (mwatch_message_t *msg, const char *const *fields);

/* The message's {watch} fields: never NULL. */
MWATCH_EXPORT const char *const *
mwatch_message_get_default_fields (const mwatch_message_t *msg);

/* {watch}: `fields` (NULL-terminated; NULL for the message's default
 * fields) as key=value, in the order of `fields`, skipping fields the
 * message lacks. */
MWATCH_EXPORT void
mwatch_message_render (const mwatch_message_t *msg,
                       const char *const *fields,
                       mwatch_buf_t *out);

/* {watch.full}: every field whose name does not start with '_', as
 * key=value, in insertion order. */
MWATCH_EXPORT void
mwatch_message_render_full (const mwatch_message_t *msg, mwatch_buf_t *out);

/* The name of the CSV column that holds the fields no other column names. */
#define MWATCH_CSV_EXTRA "Extra"

/* {watch.csv}: one RFC 4180 record with one cell per column of `columns`
 * (NULL for mwatch_csv_columns), empty when the message lacks the field,
 * then one cell MWATCH_CSV_EXTRA: a JSON object of every field not
 * starting with '_' that no column names, in insertion order (as
 * mwatch_message_render_json() writes them), empty when there is none.
 * Where `columns` lists MWATCH_CSV_EXTRA, that cell takes its place
 * instead of coming last.  So every record has as many cells as
 * mwatch_render_csv_header() (`columns`) has.  Cells holding a comma,
 * quote, CR or LF are quoted, quotes doubled.  Cell values: null empty;
 * strings as they are, with NUL and bytes that are not UTF-8 replaced by
 * U+FFFD; other values as in the key=value renderings. */
MWATCH_EXPORT void
mwatch_message_render_csv (const mwatch_message_t *msg,
                           const char *const *columns,
                           mwatch_buf_t *out);

/* The CSV header record for `columns` (NULL for mwatch_csv_columns),
 * MWATCH_CSV_EXTRA last unless `columns` lists it. */
MWATCH_EXPORT void
mwatch_render_csv_header (const char *const *columns, mwatch_buf_t *out);

/* {watch.json}: one JSON object of every field not starting with '_', in
 * insertion order.  Strings are escaped (NUL as \u0000, bytes that are not
 * UTF-8 as \ufffd); datetimes are ISO-8601 strings with microseconds;
 * documents, arrays and other BSON values are relaxed extended JSON;
 * non-finite doubles are {"$numberDouble":"NaN"} and the like. */
MWATCH_EXPORT void
mwatch_message_render_json (const mwatch_message_t *msg, mwatch_buf_t *out);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_MESSAGE_H */
