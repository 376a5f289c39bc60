/*
 * mongowatch — application-level auditing for the MongoDB C driver.
 *
 * This header is the whole public API.  Conventions follow libmongoc's:
 * functions are prefixed mwatch_, types end in _t, constructors are *_new
 * and destructors *_destroy, and errors are reported through a bson_error_t
 * whose domain is MWATCH_ERROR_DOMAIN.
 *
 * Memory: every function that can run out of memory allocates through
 * libbson (bson_malloc and friends), which aborts the process on failure,
 * as libmongoc itself does.  So no function here reports "out of memory".
 */
#ifndef MONGOWATCH_H
#define MONGOWATCH_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MWATCH_EXPORT __attribute__ ((visibility ("default")))
#else
#define MWATCH_EXPORT
#endif

#define MWATCH_VERSION_STRING "0.1.0"

/* The domain of every bson_error_t that mongowatch fills in. */
#define MWATCH_ERROR_DOMAIN 0x6d77 /* "mw" */

/* The code of every such bson_error_t: what kind of thing went wrong, so
 * that a program can tell a bad configuration from a full disk without
 * reading the message.  The message says what exactly, and where.
 *
 * mongowatch reports no error of MongoDB's through a bson_error_t: the
 * application gets libmongoc's own, untouched, and a failed operation's
 * error is the Error field of its WatchMessage. */
typedef enum {
   /* A bad argument to a function: a required pointer NULL, a number out
    * of range, a filter expression or a format template that does not
    * parse, a handler of the wrong kind.  Returned by the filter
    * constructors (mwatch_filter_new_*), mwatch_formatter_new,
    * mwatch_formatter_set_columns, mwatch_handler_new_file and its kin (no
    * path), mwatch_handler_new_syslog (a facility out of range),
    * mwatch_syslog_handler_set_max_length and mwatch_add_logging_handlers. */
   MWATCH_ERROR_INVALID_ARGUMENT = 1,
   /* mwatch_patch_mongoc: libmongoc is found before mongowatch. */
   MWATCH_ERROR_NOT_INTERPOSED = 2,
   /* A configuration that is not valid: text that does not parse as YAML
    * or JSON, a file name without .yaml, .yml or .json, a file refused as
    * untrusted, an unknown or missing key, a value of the wrong type or out
    * of range (a filter expression or format that does not compile
    * included).  Returned by mwatch_config_load_* and mwatch_config_check_*,
    * with the file, line, column and key in the message. */
   MWATCH_ERROR_CONFIG = 3,
   /* The system refused a resource: a file, socket or pipe that cannot be
    * opened, read or written, a thread that cannot be started.  Returned
    * by the file and syslog handler constructors, mwatch_drain_on_signals,
    * mwatch_reopen_on_sighup, and by mwatch_config_load_* and
    * mwatch_config_check_* for a configuration file that cannot be read
    * or a handler of it that cannot open its file or socket. */
   MWATCH_ERROR_IO = 4,
   /* An ext:// plugin of a configuration that cannot be used: refused as
    * untrusted, not loadable (dlopen), without the named factory (dlsym),
    * or whose factory made nothing.  Returned by mwatch_config_load_* and
    * mwatch_config_check_*. */
   MWATCH_ERROR_PLUGIN = 5,
} mwatch_error_code_t;

/* Returns the library's version, e.g. "0.1.0". */
MWATCH_EXPORT const char *
mwatch_version (void);

/* ------------------------------------------------------------------------
 * Clocks
 * ------------------------------------------------------------------------ */

/* Wall-clock time in microseconds since the Unix epoch (UTC). */
MWATCH_EXPORT int64_t
mwatch_realtime_us (void);

/* Monotonic time in microseconds, from an arbitrary origin.  Due times of
 * messages and queues are on this clock, so that a change of the wall clock
 * neither fires nor postpones a timeout. */
MWATCH_EXPORT int64_t
mwatch_monotonic_us (void);

/* ------------------------------------------------------------------------
 * mwatch_buf_t: a growable text buffer.
 *
 * Renderings append to a buffer that the caller owns and reuses; once the
 * buffer has grown to the size of the longest line, rendering allocates
 * nothing.  `data` is always NUL-terminated once anything was appended
 * (the terminator is not counted in `len`).
 * ------------------------------------------------------------------------ */

typedef struct {
   char *data;
   size_t len;
   size_t cap;
} mwatch_buf_t;

#define MWATCH_BUF_INITIALIZER {NULL, 0, 0}

/* Makes `buf` empty, with no storage. */
MWATCH_EXPORT void
mwatch_buf_init (mwatch_buf_t *buf);

/* Frees the storage of `buf` and makes it empty. */
MWATCH_EXPORT void
mwatch_buf_destroy (mwatch_buf_t *buf);

/* Sets the length to 0 and keeps the storage for reuse. */
MWATCH_EXPORT void
mwatch_buf_clear (mwatch_buf_t *buf);

/* Appends `len` bytes of `data` (which may contain NUL bytes). */
MWATCH_EXPORT void
mwatch_buf_append (mwatch_buf_t *buf, const char *data, size_t len);

/* Appends a NUL-terminated string. */
MWATCH_EXPORT void
mwatch_buf_append_str (mwatch_buf_t *buf, const char *str);

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

MWATCH_EXPORT void
mwatch_message_destroy (mwatch_message_t *msg);

/* Setters.  Each copies its value and returns false, changing nothing, when
 * `key` is NULL, empty or contains '.', or a required pointer is NULL. */
MWATCH_EXPORT bool
mwatch_message_set_null (mwatch_message_t *msg, const char *key);
MWATCH_EXPORT bool
mwatch_message_set_bool (mwatch_message_t *msg, const char *key, bool value);
MWATCH_EXPORT bool
mwatch_message_set_int64 (mwatch_message_t *msg, const char *key, int64_t value);
MWATCH_EXPORT bool
mwatch_message_set_double (mwatch_message_t *msg, const char *key, double value);
/* A NUL-terminated UTF-8 string. */
MWATCH_EXPORT bool
mwatch_message_set_utf8 (mwatch_message_t *msg, const char *key, const char *value);
/* `len` bytes of UTF-8, which may include NUL bytes. */
MWATCH_EXPORT bool
mwatch_message_set_utf8_len (mwatch_message_t *msg,
                             const char *key,
                             const char *value,
                             size_t len);
/* Microseconds since the Unix epoch, UTC. */
MWATCH_EXPORT bool
mwatch_message_set_datetime (mwatch_message_t *msg, const char *key, int64_t us);
MWATCH_EXPORT bool
mwatch_message_set_document (mwatch_message_t *msg, const char *key, const bson_t *doc);
MWATCH_EXPORT bool
mwatch_message_set_array (mwatch_message_t *msg, const char *key, const bson_t *array);
/* Any value, e.g. one read from another message. */
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

MWATCH_EXPORT void
mwatch_message_iter_init (mwatch_message_iter_t *iter, const mwatch_message_t *msg);

/* Advances to the next field; false when there is none. */
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
 * Fields are separated by one space.
 * ------------------------------------------------------------------------ */

/* The fields {watch} shows by default, in order, NULL-terminated:
 * DB Collection Operation Filter Duration MatchedCount InsertedCount
 * UpsertedCount ModifiedCount DeletedCount Error. */
MWATCH_EXPORT extern const char *const mwatch_default_fields[];

/* The leading CSV columns, NULL-terminated: WatchID Iteration StartTime
 * EndTime DB Collection Operation Filter Duration MatchedCount
 * InsertedCount UpsertedCount ModifiedCount DeletedCount Error. */
MWATCH_EXPORT extern const char *const mwatch_csv_columns[];

/* The fields {watch} shows for this message: `fields` is NULL-terminated
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

/* ------------------------------------------------------------------------
 * mwatch_queue_t: a WatchQueue.
 *
 * A priority queue of messages ordered by the time each becomes due:
 *   - a ready message is due when it is put;
 *   - a message that is not ready is due at its own due time (its timeout),
 *     or never;
 *   - default_delay_sec is added to the due time of every message that is
 *     not ready, and, with force_default_delay, to ready ones too, so that
 *     ready messages come out in the order they were put;
 *   - putting a message whose WatchID is already queued keeps only the newer
 *     iteration: the older copy is discarded, never returned.
 * Messages due at the same time come out in the order they were put.
 *
 * Thread-safe: any number of producers and consumers.  Bounded: a full
 * queue applies the overflow policy and counts what it drops.
 * ------------------------------------------------------------------------ */

typedef struct _mwatch_queue_t mwatch_queue_t;

typedef enum {
   /* The message being put is dropped (the default: the producer never
    * waits and what is queued is kept). */
   MWATCH_OVERFLOW_DROP_NEWEST = 0,
   /* The message put longest ago is dropped to make room. */
   MWATCH_OVERFLOW_DROP_OLDEST,
   /* The producer waits until there is room or the queue is closed; with
    * block_timeout_sec, at most that long (see mwatch_queue_opts_t). */
   MWATCH_OVERFLOW_BLOCK,
} mwatch_overflow_t;

#define MWATCH_QUEUE_DEFAULT_CAPACITY 65536

/* Called with each message the queue gives up without returning it (an
 * older iteration replaced, a message dropped on overflow, put after close,
 * or left at destroy), with the `data` it was put with.  The callback owns
 * the message.  With no callback the queue destroys the message. */
typedef void (*mwatch_queue_discard_cb_t) (mwatch_message_t *msg,
                                           void *data,
                                           void *user_data);

typedef struct {
   size_t capacity; /* 0: MWATCH_QUEUE_DEFAULT_CAPACITY */
   mwatch_overflow_t overflow;
   double default_delay_sec;
   bool force_default_delay;
   mwatch_queue_discard_cb_t discard;
   void *discard_user_data;
   /* If not NULL, called once with discard_user_data by
    * mwatch_queue_destroy(), after the last discard. */
   void (*discard_free_user_data) (void *);
   /* MWATCH_OVERFLOW_BLOCK: the longest a producer waits for room, after
    * which its message is dropped (and counted); 0: no limit.  Once a wait
    * ran out, later puts into the full queue drop at once, without
    * waiting, until a consumer takes a message: a stalled consumer costs
    * the producers one wait, not one per message. */
   double block_timeout_sec;
   /* A bound on the memory the queued messages take, beside `capacity`;
    * 0: none.  A message that would pass it meets the overflow policy as
    * in a full queue. */
   size_t max_bytes;
} mwatch_queue_opts_t;

/* Fills `opts` with the defaults: capacity 65536, drop newest, no delay,
 * no bound in bytes. */
MWATCH_EXPORT void
mwatch_queue_opts_init (mwatch_queue_opts_t *opts);

/* `opts` may be NULL for the defaults.  Never fails. */
MWATCH_EXPORT mwatch_queue_t *
mwatch_queue_new (const mwatch_queue_opts_t *opts);

/* Discards every message still queued, then frees the queue.  No thread may
 * be using the queue. */
MWATCH_EXPORT void
mwatch_queue_destroy (mwatch_queue_t *queue);

typedef enum {
   MWATCH_QUEUE_OK = 0,
   MWATCH_QUEUE_STALE,   /* put: a newer iteration is queued; discarded */
   MWATCH_QUEUE_DROPPED, /* put: the queue was full; discarded, counted */
   MWATCH_QUEUE_CLOSED,  /* put: closed, discarded; get: closed and empty */
   MWATCH_QUEUE_TIMEOUT, /* get: nothing became due in time */
} mwatch_queue_status_t;

/* Puts `msg`, which the queue now owns, with an opaque `data` pointer that
 * comes back with it.  Never blocks unless the overflow policy is BLOCK and
 * the queue is full.  Every status but OK means `msg` was discarded. */
MWATCH_EXPORT mwatch_queue_status_t
mwatch_queue_put (mwatch_queue_t *queue, mwatch_message_t *msg, void *data);

/* Waits until a message is due and takes it: the caller owns *msg.  After
 * mwatch_queue_close() it returns what is left at once, due or not, in
 * order, then MWATCH_QUEUE_CLOSED.  `data` may be NULL.
 *
 * While messages come densely (the last two taken less than 1 ms apart),
 * a waiting consumer looks again after a millisecond, and a put it will
 * find that way does not wake it: a message may then be taken up to 1 ms
 * after it is due, and producers make no system call.  Any other put that
 * makes a message due before the consumer would look wakes it. */
MWATCH_EXPORT mwatch_queue_status_t
mwatch_queue_get (mwatch_queue_t *queue, mwatch_message_t **msg, void **data);

/* As mwatch_queue_get(), but gives up with MWATCH_QUEUE_TIMEOUT after
 * `timeout_sec` seconds (0: do not wait). */
MWATCH_EXPORT mwatch_queue_status_t
mwatch_queue_get_timeout (mwatch_queue_t *queue,
                          double timeout_sec,
                          mwatch_message_t **msg,
                          void **data);

/* Closes the queue: later puts are discarded, every waiting thread wakes,
 * and gets drain what is left without waiting for due times. */
MWATCH_EXPORT void
mwatch_queue_close (mwatch_queue_t *queue);

typedef struct {
   size_t size;       /* messages queued now */
   size_t capacity;
   uint64_t put;      /* puts accepted (replacements included) */
   uint64_t replaced; /* older iterations discarded for a newer one */
   uint64_t stale;    /* puts discarded because a newer one was queued */
   uint64_t dropped;  /* messages lost to the overflow policy */
   /* Of `dropped`, the ready ones: for a watcher's queue, final records,
    * i.e. operations missing from the log altogether. */
   uint64_t dropped_ready;
   size_t bytes;     /* memory the queued messages take now */
   size_t max_bytes; /* the bound on it, 0 for none */
} mwatch_queue_stats_t;

MWATCH_EXPORT void
mwatch_queue_stats (mwatch_queue_t *queue, mwatch_queue_stats_t *stats);

#ifdef __cplusplus
}
#endif

#include <mongowatch/logging.h>
#include <mongowatch/watch.h>
#include <mongowatch/filters.h>
#include <mongowatch/config.h>

#endif /* MONGOWATCH_H */
