/* The watch engine: one operation's live state and its records.
 *
 * The application's thread changes the state under the watch's lock and
 * logs a record at the start, at the end, and on updates when the options
 * ask for them.  Between those nothing is queued: a queue holding a record
 * of a running operation asks the live state, when the record's timeout
 * comes, whether the operation really went quiet (then it emits a fresh
 * snapshot) or moved on (then the record goes back, due later).  So a
 * cursor read a document at a time costs a few counter updates per
 * document, not a message per document.
 *
 * No WatchMessage is built on the application's thread unless something
 * there wants one.  The watch keeps what the operation started with (its
 * WatchID, StartTime, context, names, a copy of the filter's bytes) and,
 * in order, the fields set after that (counts, EndTime, Error, and where
 * State, Duration and MatchedCount first appeared); a record is a
 * snapshot of the counters.  A queue keeps a stub of it, and its listener
 * builds the message (build), field for field in the order it would have
 * had.  A logger filter or a handler that is not a queue gets the message
 * built on the application's thread, as before (see dispatch in
 * logger.c); mwatch_cursor_lock builds it for the application to change,
 * and from then on the watch's records are built from that message. */
#include "clock-private.h"
#include "block-pool-private.h"
#include "interpose-private.h"
#include "live-private.h"
#include "logger-private.h"
#include "message-private.h"
#include "refcount-private.h"
#include "shutdown-private.h"
#include "watch-context-private.h"
#include "watch-options-private.h"
#include "watch-pending-private.h"
#include "watch-private.h"
#include "watch-secrets-private.h"
#include "thread-private.h"
#include "handler-private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* A field set after the operation started, in the order of first setting:
 * replayed into each message built, so that its fields come in the order
 * they would have had in one message kept for the whole operation. */
typedef enum {
   LATE_STATE,    /* State, Duration, MatchedCount: values from the record */
   LATE_DURATION,
   LATE_MATCHED,
   LATE_COUNT,    /* a count read from a reply: `key`, `value` */
   LATE_END,      /* EndTime: `value` */
   LATE_ERROR,    /* Error: the watch's `error` */
   LATE_MAPS,     /* the field mappings applied (at the first record) */
} late_kind_t;

typedef struct {
   late_kind_t kind;
   const char *key; /* LATE_COUNT: the library's name for it (static) */
   int64_t value;
} late_field_t;

/* 3 from the records, up to 8 counts, EndTime, Error, the mappings; more
 * (never with the library's own watchers) turns the
 * watch into one with a message of its own (see late_add). */
#define LATE_MAX 14

/* Parts of the watch allocated apart when the pool block has no room:
 * the operation, DB and Collection names, Filter and Update at most. */
#define HEAP_PARTS_MAX 8

struct _mwatch_watch_t {
   /* First: see _mwatch_watch_counters. */
   mwatch_watch_counters_t counters;
   atomic_int refs;
   /* What a queue holding one of its records sees of it (live_ops). */
   mwatch_live_t live;
   pthread_mutex_t lock;
   mwatch_logger_t *logger;
   mwatch_watcher_kind_t kind;
   mwatch_watcher_opts_t opts;
   mwatch_op_maps_t *maps; /* the field mappings in force when it started */
   /* What the operation started with, never changed after its first
    * record: every message of it is built from these. */
   bson_oid_t id;
   int64_t start_time; /* realtime */
   mwatch_context_t *context;
   const char *operation;
   const char *db;         /* NULL: not known */
   const char *collection; /* NULL: none */
   /* Their lengths: every message built writes them (build_locked). */
   size_t operation_len;
   size_t db_len;
   size_t collection_len;
   mwatch_value_t filter;  /* type NULL: none; DOCUMENT or ARRAY */
   mwatch_value_t update;
   /* Storage of the above: the rest of the pool block, then the heap. */
   char *spare;
   char *spare_end;
   void *heap_parts[HEAP_PARTS_MAX];
   size_t heap_count;
   size_t bytes; /* all it holds, charged to a queue keeping its record */
   /* The rest is guarded by `lock`. */
   late_field_t late[LATE_MAX];
   size_t late_count;
   /* The record kinds (LATE_STATE, LATE_DURATION, LATE_MATCHED) in
    * `late`, one bit each (1 << kind): noted once, looked up without a
    * walk of `late`. */
   unsigned late_records;
   /* More late fields than `late` holds were set: only `msg` has them. */
   bool late_overflow;
   char *error; /* LATE_ERROR's text */
   /* The last record's snapshot: what a message built on demand shows. */
   mwatch_live_snapshot_t last;
   /* The message itself, once something asked for it (mwatch_cursor_lock,
    * or too many late fields): kept up to date from then on, and every
    * later record is built from it on the application's thread. */
   mwatch_message_t *msg;
   mwatch_level_cache_t updates; /* are updates enabled? (progress's thread) */
   bool finished;
   /* A record of it went out, or it was registered as held back: other
    * threads may reach it (see _mwatch_watch_first). */
   bool published;
   /* `finished`, readable without the lock: set with it, never cleared,
    * so that a second end (a cursor's destroy after its last document)
    * returns at once. */
   atomic_bool ended;
   /* The first record is held back (watch-pending-private.h): `pending`
    * is registered, or being promoted. */
   bool first_pending;
   mwatch_pending_node_t pending;
   int64_t held_created; /* when and where the record held back was made */
   int64_t held_thread;
};

/* ---------------------------------------------------------------- fields */

/* The name a field goes by in this watch's records (see
 * _mwatch_op_maps_name); without mappings, the common case, no call. */
#define MAPPED_NAME(watch, key) \
   ((watch)->maps ? _mwatch_op_maps_name ((watch)->maps, (watch)->operation, (key)) : (key))

/* Sets the library's field `key` (a literal) under the name the mappings
 * give it; a dropped field is not set.  The literal's own name skips the
 * key checks; a renamed one goes through them.  `value` is a number or a
 * static string (State's): a fresh field borrows it, without a copy. */
static void
set_mapped (const mwatch_watch_t *watch, mwatch_message_t *msg, const char *key, size_t key_len,
            const mwatch_value_t *value, bool fresh)
{
   const char *name = MAPPED_NAME (watch, key);
   if (name == key) {
      (fresh ? _mwatch_message_append_borrowed : _mwatch_message_put) (msg, key, key_len, value);
   } else if (name) {
      mwatch_message_set_value (msg, name, value);
   }
}

/* `fresh`: the caller knows `msg` has no field of that name yet. */
#define SET_MAPPED(watch, msg, key, value, fresh) \
   set_mapped (watch, msg, key, sizeof key - 1, value, fresh)

/* keep_bytes's room on the heap, when the block has none left. */
static __attribute__ ((noinline)) char *
keep_on_heap (mwatch_watch_t *watch, size_t size)
{
   BSON_ASSERT (watch->heap_count < HEAP_PARTS_MAX && "more parts than a watch keeps");
   char *dst = bson_malloc (size ? size : 1);
   watch->heap_parts[watch->heap_count++] = dst;
   watch->bytes += size;
   return dst;
}

/* A copy of `len` bytes (and a NUL when `nul`) kept by the watch: in its
 * block when there is room, else on the heap.  The NUL goes in first, so
 * that the copy is the last call (no registers kept across it). */
static const void *
keep_bytes (mwatch_watch_t *watch, const void *data, size_t len, bool nul)
{
   size_t size = len + (nul ? 1 : 0);
   char *at = (char *) (((uintptr_t) watch->spare + 7) & ~(uintptr_t) 7);
   char *dst;
   if (BSON_LIKELY (at <= watch->spare_end && size <= (size_t) (watch->spare_end - at))) {
      dst = at;
      watch->spare = at + size;
   } else {
      dst = keep_on_heap (watch, size);
   }
   if (nul) {
      dst[len] = '\0';
   }
   return memcpy (dst, data, len);
}

/* A copy of `text` (NULL stays NULL, length 0), its length in `*len`. */
static const char *
keep_string (mwatch_watch_t *watch, const char *text, size_t *len)
{
   *len = text ? strlen (text) : 0;
   return text ? keep_bytes (watch, text, *len, true) : NULL;
}

static void
keep_document (mwatch_watch_t *watch, mwatch_value_t *to, const bson_t *doc, mwatch_type_t type)
{
   to->type = type;
   to->value.v_doc.len = doc->len;
   to->value.v_doc.data = keep_bytes (watch, bson_get_data (doc), doc->len, false);
}

/* ---------------------------------------------------------------- life */

static const mwatch_live_ops_t live_ops;

static mwatch_watch_t *
watch_new (mwatch_watcher_kind_t kind,
           const char *operation,
           bool operation_literal,
           const char *db,
           const char *collection)
{
   /* Watches are made and freed as often as records: from the pool. */
   _Static_assert (offsetof (mwatch_watch_t, counters) == 0, "the counters come first");
   _Static_assert (sizeof (mwatch_watch_t) + 256 <= MWATCH_BLOCK_SIZE, "a watch fits a pool block");
   /* What a watched operation logs is written at exit, whenever logging
    * was set up. */
   _mwatch_shutdown_at_exit ();
   bool pooled;
   mwatch_watch_t *watch = _mwatch_block_get (MWATCH_BLOCK_SIZE, &pooled);
   watch->updates.generation = 0;
   watch->finished = false;
   watch->published = false;
   atomic_init (&watch->ended, false);
   watch->first_pending = false;
   atomic_init (&watch->refs, 1);
   watch->live.ops = &live_ops;
   /* The default mutex, as pthread_mutex_init (NULL attributes) makes it,
    * without the call. */
   watch->lock = (pthread_mutex_t) PTHREAD_MUTEX_INITIALIZER;
   watch->kind = kind;
   watch->logger = _mwatch_watcher_logger (kind);
   watch->maps = _mwatch_watcher_config (kind, &watch->opts);
   _mwatch_watch_oid_new (&watch->id);
   watch->start_time = _mwatch_realtime_now ();
   watch->context = _mwatch_context_capture ();
   watch->spare = (char *) (watch + 1);
   watch->spare_end = (char *) watch + MWATCH_BLOCK_SIZE;
   watch->heap_count = 0;
   watch->bytes = MWATCH_BLOCK_SIZE;
   /* A literal lives as long as the library: kept by its address, one
    * copy fewer per operation. */
   if (operation_literal) {
      watch->operation = operation;
      watch->operation_len = operation ? strlen (operation) : 0;
   } else {
      watch->operation = keep_string (watch, operation, &watch->operation_len);
   }
   watch->db = keep_string (watch, db, &watch->db_len);
   watch->collection = keep_string (watch, collection, &watch->collection_len);
   watch->filter.type = MWATCH_TYPE_NULL;
   watch->update.type = MWATCH_TYPE_NULL;
   atomic_init (&watch->counters.duration_us, 0);
   atomic_init (&watch->counters.last_activity, _mwatch_monotonic_now ());
   atomic_init (&watch->counters.matched, 0);
   atomic_init (&watch->counters.updates_made, 0);
   atomic_init (&watch->counters.detached, false);
   watch->counters.emit_on_new_retrieves = watch->opts.emit_on_new_retrieves;
   watch->late_count = 0;
   watch->late_records = 0;
   watch->late_overflow = false;
   watch->error = NULL;
   watch->last = (mwatch_live_snapshot_t) {.due = MWATCH_DUE_NEVER};
   watch->msg = NULL;
   return watch;
}

mwatch_watch_t *
_mwatch_watch_new (mwatch_watcher_kind_t kind,
                   const char *operation,
                   const char *db,
                   const char *collection)
{
   return watch_new (kind, operation, false, db, collection);
}

mwatch_watch_t *
_mwatch_watch_new_literal (mwatch_watcher_kind_t kind,
                           const char *operation,
                           const char *db,
                           const char *collection)
{
   return watch_new (kind, operation, true, db, collection);
}

const char *
_mwatch_watch_operation (const mwatch_watch_t *watch)
{
   return watch->operation;
}

void
_mwatch_watch_set_filter (mwatch_watch_t *watch, const bson_t *filter, bool is_array)
{
   if (filter) {
      keep_document (watch, &watch->filter, filter,
                     is_array ? MWATCH_TYPE_ARRAY : MWATCH_TYPE_DOCUMENT);
   }
}

void
_mwatch_watch_set_update (mwatch_watch_t *watch, const bson_t *update)
{
   if (update) {
      keep_document (watch, &watch->update, update, MWATCH_TYPE_DOCUMENT);
   }
}

mwatch_watch_t *
_mwatch_watch_ref (mwatch_watch_t *watch)
{
   atomic_fetch_add_explicit (&watch->refs, 1, memory_order_relaxed);
   return watch;
}

void *
_mwatch_watch_ref_void (void *watch)
{
   return _mwatch_watch_ref (watch);
}

void
_mwatch_watch_unref (mwatch_watch_t *watch)
{
   if (!watch || !_mwatch_unref (&watch->refs)) {
      return;
   }
   mwatch_message_destroy (watch->msg);
   _mwatch_op_maps_unref (watch->maps);
   _mwatch_context_release (watch->context);
   for (size_t i = 0; i < watch->heap_count; i++) {
      bson_free (watch->heap_parts[i]);
   }
   bson_free (watch->error);
   pthread_mutex_destroy (&watch->lock);
   _mwatch_block_put (watch, true);
}

/* ---------------------------------------------------------------- records */

/* What a record of the operation is: its State field. */
typedef enum { STATE_FIRST, STATE_UPDATE, STATE_TIMEOUT, STATE_FINAL } record_state_t;

static const struct {
   const char *name;
   size_t len;
} state_names[] = {
   [STATE_FIRST] = {"first", 5},
   [STATE_UPDATE] = {"update", 6},
   [STATE_TIMEOUT] = {"timeout", 7},
   [STATE_FINAL] = {"final", 5},
};

static int64_t
timeout_due (const mwatch_watch_t *watch)
{
   if (!(watch->opts.timeout_sec > 0)) {
      return MWATCH_DUE_NEVER;
   }
   return atomic_load_explicit (&watch->counters.last_activity, memory_order_relaxed) +
          (int64_t) (watch->opts.timeout_sec * 1e6);
}

/* The record `state` of the operation as it is now.  Numbered by what the
 * operation did, not by what was logged: first 0, each update its number,
 * a timeout the updates so far, the final one more. */
static inline __attribute__ ((always_inline)) mwatch_live_snapshot_t
snapshot (const mwatch_watch_t *watch, record_state_t state)
{
   int64_t updates = atomic_load_explicit (&watch->counters.updates_made, memory_order_relaxed);
   return (mwatch_live_snapshot_t) {
      .iteration = state == STATE_FIRST ? 0 : state == STATE_FINAL ? updates + 1 : updates,
      .due = state == STATE_FINAL ? _mwatch_monotonic_now () : timeout_due (watch),
      .ready = state == STATE_FINAL,
      .state = state,
      .duration_us = atomic_load_explicit (&watch->counters.duration_us, memory_order_relaxed),
      .matched = atomic_load_explicit (&watch->counters.matched, memory_order_relaxed),
   };
}

/* The library's field of a record that `late` stands for (State,
 * Duration, MatchedCount, EndTime): its key, key_len and value as of
 * `snap` written in `*f`, and its name returned; -1 for the other kinds.
 * The name is one of _mwatch_names and the value a number or a static
 * string: a fresh field borrows them. */
static inline int
own_field (const late_field_t *late, const mwatch_live_snapshot_t *snap, _mwatch_field_t *f)
{
   switch (late->kind) {
   case LATE_STATE:
      f->key = MWATCH_NAME (MWATCH_NAME_STATE);
      f->key_len = 5;
      f->value.type = MWATCH_TYPE_UTF8;
      f->value.value.v_utf8.str = state_names[snap->state].name;
      f->value.value.v_utf8.len = state_names[snap->state].len;
      return MWATCH_NAME_STATE;
   case LATE_DURATION:
      f->key = MWATCH_NAME (MWATCH_NAME_DURATION);
      f->key_len = 8;
      f->value.type = MWATCH_TYPE_DOUBLE;
      f->value.value.v_double = (double) snap->duration_us / 1e6;
      return MWATCH_NAME_DURATION;
   case LATE_MATCHED:
      f->key = MWATCH_NAME (MWATCH_NAME_MATCHED_COUNT);
      f->key_len = 12;
      f->value.type = MWATCH_TYPE_INT64;
      f->value.value.v_int64 = snap->matched;
      return MWATCH_NAME_MATCHED_COUNT;
   case LATE_END:
      f->key = MWATCH_NAME (MWATCH_NAME_END_TIME);
      f->key_len = 7;
      f->value.type = MWATCH_TYPE_DATETIME;
      f->value.value.v_datetime = late->value;
      return MWATCH_NAME_END_TIME;
   case LATE_COUNT:
   case LATE_ERROR:
   case LATE_MAPS:
   default:
      return -1;
   }
}

/* Sets one late field in `msg`, as it was set on the operation.  `fresh`:
 * as for SET_MAPPED; a count may be set twice, so it never is. */
static void
put_late (const mwatch_watch_t *watch,
          mwatch_message_t *msg,
          const late_field_t *late,
          const mwatch_live_snapshot_t *snap,
          bool fresh)
{
   _mwatch_field_t f;
   switch (late->kind) {
   case LATE_COUNT: {
      const char *name = MAPPED_NAME (watch, late->key);
      if (name) {
         mwatch_message_set_int64 (msg, name, late->value);
      }
      break;
   }
   case LATE_ERROR:
      _mwatch_message_set_masked (msg, MAPPED_NAME (watch, "Error"), watch->error);
      break;
   case LATE_MAPS:
      _mwatch_op_maps_apply (watch->maps, watch->operation, msg);
      break;
   case LATE_STATE:
   case LATE_DURATION:
   case LATE_MATCHED:
   case LATE_END:
   default:
      if (own_field (late, snap, &f) >= 0) {
         set_mapped (watch, msg, f.key, f.key_len, &f.value, fresh);
      }
      break;
   }
}

/* One of the record's own fields, State, Duration or MatchedCount. */
static void
put_own (const mwatch_watch_t *watch,
         mwatch_message_t *msg,
         late_kind_t kind,
         const mwatch_live_snapshot_t *snap)
{
   const late_field_t late = {.kind = kind};
   put_late (watch, msg, &late, snap, false);
}

/* Writes the record's state and counters into `msg`.  A first record is
 * logged before anything was measured: no Duration, no MatchedCount,
 * rather than zeros that would read as "took no time". */
static void
materialize (const mwatch_watch_t *watch, mwatch_message_t *msg, const mwatch_live_snapshot_t *snap)
{
   _mwatch_message_set_iteration (msg, snap->iteration);
   put_own (watch, msg, LATE_STATE, snap);
   if (snap->state == STATE_FIRST) {
      return;
   }
   put_own (watch, msg, LATE_DURATION, snap);
   if (watch->kind == MWATCH_WATCHER_CURSOR) {
      put_own (watch, msg, LATE_MATCHED, snap);
   }
}

/* The fields build_locked sets.  Without context fields or mappings, the
 * common case (`fresh`), the library's own fields are all new: they are
 * written in place at the end of the message (_mwatch_message_room), a
 * run of them added at once, with no search and no call per field; and
 * their text and documents are not copied either: the message points at
 * the watch's copies, which never change, and every message built here
 * is freed before the watch (a record's by the listener or the logging
 * call, holding a reference; the watch's own message by the watch
 * itself); a copy of the message copies them.  Otherwise each field is
 * set as it comes. */
typedef struct {
   mwatch_message_t *msg;
   bool fresh;
   _mwatch_field_t *room; /* fresh: where the next fields go, `n` of them written */
   size_t n;
   size_t cap;
   size_t added; /* fields added before `room` */
   /* fresh: the library's names (bits of _mwatch_name_t) the message's
    * fields point at, and whether a field set otherwise (put_late) may
    * be there too; with none such, whether the message has a field of
    * one of those names is a look at a bit (fields_has). */
   uint32_t names;
   bool others;
} record_fields_t;

/* The most a record appends in place: DB, Collection, Operation, Filter,
 * Update, State, Duration, EndTime and the five counts once each.  A room
 * that large fits in a new message's block, beside the three fields it
 * starts with; more would only cost another room. */
#define RUN_MAX 13

#define NAME_BIT(name) (UINT32_C (1) << (name))

/* Adds the fields written so far: before a field set otherwise (a count,
 * Error), so that the order stays that of the setting. */
static void
fields_flush (record_fields_t *r)
{
   if (r->n) {
      _mwatch_message_add_borrowed (r->msg, r->n);
      r->added += r->n;
      r->n = 0;
   }
   r->room = NULL;
}

/* Where the next fresh field is written. */
static inline _mwatch_field_t *
fields_slot (record_fields_t *r)
{
   if (BSON_UNLIKELY (!r->room || r->n == r->cap)) {
      fields_flush (r);
      r->cap = r->added < RUN_MAX ? RUN_MAX - r->added : 1;
      r->room = _mwatch_message_room (r->msg, r->cap);
   }
   return &r->room[r->n];
}

/* Sets the field `key` to `value`, without a mapping; `key` is one of
 * _mwatch_names, `name`. */
static inline void
fields_put (record_fields_t *r, int name, size_t key_len, const mwatch_value_t *value)
{
   if (!r->fresh) {
      _mwatch_message_put (r->msg, MWATCH_NAME (name), key_len, value);
      return;
   }
   _mwatch_field_t *f = fields_slot (r);
   f->key = MWATCH_NAME (name);
   f->key_len = key_len;
   f->value = *value;
   r->n++;
   r->names |= NAME_BIT (name);
}

/* Whether the message, with the fields written but not yet added, has a
 * field named `key` (as _mwatch_message_put would find it): for one of
 * the library's names, its bit, unless a field set otherwise may bear it;
 * else by the text.  The fields written lie after those added. */
static inline bool
fields_has (const record_fields_t *r, const char *key, size_t key_len)
{
   int name = _mwatch_name_of (key);
   if (name >= 0 && !r->others) {
      return r->names & NAME_BIT (name);
   }
   size_t count;
   const _mwatch_field_t *f = _mwatch_message_fields (r->msg, &count);
   return _mwatch_fields_find (f, count + r->n, key, key_len) != NULL;
}

/* A count read from the reply: written in place when the message has no
 * field of that name yet, the usual case; else false, for put_late to set
 * it over the one there, as a count set twice is.  Its name, one of the
 * library's, is taken from _mwatch_names, where fields_has and the
 * renderings know it by its address. */
static bool
fields_put_count (record_fields_t *r, const late_field_t *late)
{
   if (!r->fresh) {
      return false;
   }
   size_t len = strlen (late->key);
   const char *key = _mwatch_name_find (late->key, len);
   if (!key || fields_has (r, key, len)) {
      return false;
   }
   const mwatch_value_t v = {.type = MWATCH_TYPE_INT64, .value.v_int64 = late->value};
   fields_put (r, _mwatch_name_of (key), len, &v);
   return true;
}

/* Sets the record's own field `late` stands for (see own_field), under
 * its mapped name; false for the other kinds, which it leaves alone. */
static inline bool
fields_put_own (const mwatch_watch_t *watch,
                record_fields_t *r,
                const late_field_t *late,
                const mwatch_live_snapshot_t *snap)
{
   if (!r->fresh) {
      _mwatch_field_t f;
      if (own_field (late, snap, &f) < 0) {
         return false;
      }
      set_mapped (watch, r->msg, f.key, f.key_len, &f.value, false);
      return true;
   }
   if (late->kind > LATE_MATCHED && late->kind != LATE_END) {
      return false; /* before a slot is taken: none is needed */
   }
   r->names |= NAME_BIT (own_field (late, snap, fields_slot (r)));
   r->n++;
   return true;
}

/* Sets a late field the usual way, after the fields written in place. */
static void
fields_put_late (const mwatch_watch_t *watch,
                 record_fields_t *r,
                 const late_field_t *late,
                 const mwatch_live_snapshot_t *snap)
{
   fields_flush (r);
   put_late (watch, r->msg, late, snap, false);
   r->others = true;
}

/* The record's own field `kind` (State, Duration, MatchedCount) that no
 * late field placed: set last, over a field of its name if there is one
 * (a count of that name). */
static void
fields_put_last (const mwatch_watch_t *watch,
                 record_fields_t *r,
                 late_kind_t kind,
                 const mwatch_live_snapshot_t *snap)
{
   const late_field_t late = {.kind = kind};
   _mwatch_field_t f;
   int name = own_field (&late, snap, &f);
   if (r->fresh && !fields_has (r, f.key, f.key_len)) {
      fields_put (r, name, f.key_len, &f.value);
   } else {
      fields_put_late (watch, r, &late, snap);
   }
}

/* The message of the record `snap`, built from what the watch kept; the
 * caller holds the lock.  Without `as_record`, the message as the
 * operation has it (for mwatch_cursor_lock): the fields of the records
 * logged so far, `snap` being the last of them, and no more. */
static mwatch_message_t *
build_locked (const mwatch_watch_t *watch, const mwatch_live_snapshot_t *snap, bool as_record)
{
   mwatch_message_t *msg = _mwatch_message_new_as (&watch->id, snap->iteration, watch->start_time);
   mwatch_message_set_default_fields (msg, watch->opts.default_fields);
   _mwatch_context_apply (watch->context, msg);
   /* Fresh, it has the three fields _mwatch_message_new_as wrote. */
   record_fields_t r = {
      .msg = msg,
      .fresh = !watch->context && !watch->maps,
      .names = NAME_BIT (MWATCH_NAME_WATCH_ID) | NAME_BIT (MWATCH_NAME_ITERATION) |
               NAME_BIT (MWATCH_NAME_START_TIME),
   };
   mwatch_value_t v = {.type = MWATCH_TYPE_UTF8};
   if (watch->db) {
      v.value.v_utf8.str = watch->db;
      v.value.v_utf8.len = watch->db_len;
      fields_put (&r, MWATCH_NAME_DB, 2, &v);
   }
   if (watch->collection) {
      v.value.v_utf8.str = watch->collection;
      v.value.v_utf8.len = watch->collection_len;
      fields_put (&r, MWATCH_NAME_COLLECTION, 10, &v);
   }
   v.value.v_utf8.str = watch->operation;
   v.value.v_utf8.len = watch->operation_len;
   fields_put (&r, MWATCH_NAME_OPERATION, 9, &v);
   if (watch->filter.type != MWATCH_TYPE_NULL) {
      fields_put (&r, MWATCH_NAME_FILTER, 6, &watch->filter);
   }
   if (watch->update.type != MWATCH_TYPE_NULL) {
      fields_put (&r, MWATCH_NAME_UPDATE, 6, &watch->update);
   }
   /* The record's own State, Duration and MatchedCount go where they
    * first appeared, else last (as materialize would set them); the
    * mappings apply where the first record applied them. */
   bool placed[LATE_MATCHED + 1] = {false};
   for (size_t i = 0; i < watch->late_count; i++) {
      const late_field_t *late = &watch->late[i];
      if (!fields_put_own (watch, &r, late, snap) &&
          !(late->kind == LATE_COUNT && fields_put_count (&r, late))) {
         fields_put_late (watch, &r, late, snap);
      }
      if (late->kind <= LATE_MATCHED) {
         placed[late->kind] = true;
      }
   }
   if (as_record ? snap->ready : watch->finished) {
      mwatch_message_set_ready (msg);
   }
   if (!r.fresh) {
      /* A context field or a mapping may have set or moved Iteration:
       * the record's own is set again (in place, or last). */
      _mwatch_message_set_iteration (msg, snap->iteration);
   }
   if (as_record) {
      if (!placed[LATE_STATE]) {
         fields_put_last (watch, &r, LATE_STATE, snap);
      }
      if (snap->state != STATE_FIRST) {
         if (!placed[LATE_DURATION]) {
            fields_put_last (watch, &r, LATE_DURATION, snap);
         }
         if (watch->kind == MWATCH_WATCHER_CURSOR && !placed[LATE_MATCHED]) {
            fields_put_last (watch, &r, LATE_MATCHED, snap);
         }
      }
   }
   fields_flush (&r);
   _mwatch_message_set_due (msg, snap->due);
   return msg;
}

/* The watch's own message, built now if it was not: from then on it is
 * kept up to date and records are built from it.  The caller holds the
 * lock. */
static mwatch_message_t *
own_message_locked (mwatch_watch_t *watch)
{
   if (!watch->msg) {
      watch->msg = build_locked (watch, &watch->last, false);
   }
   return watch->msg;
}

/* late_add's overflow, out of line: never with the library's own
 * watchers; the message itself keeps what no more room in `late` could,
 * from now on. */
static __attribute__ ((noinline)) void
late_overflow (mwatch_watch_t *watch)
{
   own_message_locked (watch);
   watch->late_overflow = true;
}

/* Notes a late field; the caller holds the lock.  A record's fields are
 * noted once, where they first appeared (their bits in `late_records`);
 * a count each time it is set, as a message kept for the whole operation
 * would have had it set. */
static inline __attribute__ ((always_inline)) void
late_add (mwatch_watch_t *watch, late_kind_t kind, const char *key, int64_t value)
{
   if (kind <= LATE_MATCHED) {
      if (watch->late_records & (1u << kind)) {
         return;
      }
      if (watch->late_count < LATE_MAX) {
         watch->late_records |= 1u << kind;
      }
   }
   if (watch->late_count == LATE_MAX) {
      late_overflow (watch);
      return;
   }
   watch->late[watch->late_count++] = (late_field_t) {.kind = kind, .key = key, .value = value};
}

/* Logs the record `snap` at `level`; the caller holds the lock.  `held`:
 * the first record held back, logged late for the queues' bookkeeping. */
static void
dispatch_locked (mwatch_watch_t *watch, int level, const mwatch_live_snapshot_t *snap, bool held)
{
   int timeout_level = watch->opts.timeout_level;
   /* Other threads may reach it from now on (see _mwatch_watch_first). */
   if (!watch->published) {
      watch->published = true;
   }
   /* A handler that calls libmongoc must not be watched from here. */
   _mwatch_enter ();
   if (watch->msg && !held) {
      materialize (watch, watch->msg, snap);
      _mwatch_message_set_due (watch->msg, snap->due);
      _mwatch_logger_log_live (watch->logger, level, timeout_level, watch->msg, &watch->live);
   } else {
      const mwatch_lazy_record_t lazy = {
         .oid = &watch->id,
         .snap = *snap,
         .charged = watch->bytes,
         .created = held ? watch->held_created : 0,
         .thread = held ? watch->held_thread : 0,
         .queues_only = held,
      };
      _mwatch_logger_log_lazy (watch->logger, level, timeout_level, &lazy, &watch->live);
   }
   _mwatch_leave ();
}

static const mwatch_pending_ops_t pending_ops;

/* Holds the first record back when it would reach the library's queues
 * alone, where it only waits to time the operation out: true when it is
 * held back, or goes nowhere.  Not when the timeout is too short for the
 * background thread to promote the record in time. */
static bool
hold_back_first_locked (mwatch_watch_t *watch)
{
   double timeout = watch->opts.timeout_sec;
   if (watch->msg || (timeout > 0 && timeout < MWATCH_PENDING_MIN_TIMEOUT_SEC)) {
      return false;
   }
   const mwatch_lazy_record_t lazy = {.oid = &watch->id, .snap = watch->last};
   switch (_mwatch_logger_route (watch->logger, watch->opts.first_level,
                                 watch->opts.timeout_level, &lazy)) {
   case MWATCH_ROUTE_NONE:
      return true;
   case MWATCH_ROUTE_QUEUES:
      watch->held_created = _mwatch_realtime_now ();
      watch->held_thread = _mwatch_thread_id ();
      watch->first_pending = true;
      /* Written whole before the registry publishes it (see
       * _mwatch_watch_first). */
      watch->published = true;
      _mwatch_pending_add (&watch->pending, &pending_ops);
      return true;
   case MWATCH_ROUTE_MESSAGE:
   default:
      return false;
   }
}

/* The first record no longer needs holding back: a later record of the
 * operation went out, or it ended.  The caller holds the lock (and a
 * reference, so the registry's is never the last). */
static void
cancel_held_back_locked (mwatch_watch_t *watch)
{
   if (!watch->first_pending) {
      return;
   }
   watch->first_pending = false;
   if (_mwatch_pending_remove (&watch->pending)) {
      bool last = _mwatch_unref (&watch->refs);
      BSON_ASSERT (!last);
   }
   /* Otherwise the background thread took it out and, finding the flag
    * down, drops its reference without logging. */
}

/* emit_locked's part before the record goes out: false when it goes
 * nowhere (no handler could want it: all work skipped) or was held back. */
static bool
emit_prepare_locked (mwatch_watch_t *watch, int level, record_state_t state)
{
   int timeout_level = watch->opts.timeout_level;
   int admission = watch->finished || timeout_level < level ? level : timeout_level;
   if (!mwatch_logger_is_enabled_for (watch->logger, admission)) {
      return false;
   }
   watch->last = snapshot (watch, state);
   late_add (watch, LATE_STATE, NULL, 0);
   if (state != STATE_FIRST) {
      late_add (watch, LATE_DURATION, NULL, 0);
      if (watch->kind == MWATCH_WATCHER_CURSOR) {
         late_add (watch, LATE_MATCHED, NULL, 0);
      }
      /* This record times the operation out from now on. */
      cancel_held_back_locked (watch);
   } else if (hold_back_first_locked (watch)) {
      return false;
   }
   return true;
}

/* Logs the current state at `level`; the caller holds the lock. */
static void
emit_locked (mwatch_watch_t *watch, int level, record_state_t state)
{
   if (emit_prepare_locked (watch, level, state)) {
      dispatch_locked (watch, level, &watch->last, false);
   }
}

/* The first record up to its dispatch: true when it goes out.  The
 * caller holds the lock, or is the only thread that can reach the watch. */
static bool
first_prepare_locked (mwatch_watch_t *watch)
{
   /* The mappings apply to the fields the operation started with, and to
    * whatever an earlier update record set (with emit_on_new_retrieves
    * off, a cursor's first call logs an update before this). */
   if (watch->maps) {
      late_add (watch, LATE_MAPS, NULL, 0);
      if (watch->msg) {
         _mwatch_op_maps_apply (watch->maps, watch->operation, watch->msg);
      }
   }
   return emit_prepare_locked (watch, watch->opts.first_level, STATE_FIRST);
}

void
_mwatch_watch_first (mwatch_watch_t *watch)
{
   /* A watch no record and no registration has published yet is the
    * creating thread's alone: the wrapper that made it has not given the
    * application its cursor or stream yet, and the maps that hold it are
    * keyed by that.  Its first record, most often held back or wanted by
    * nobody, then takes the lock only to go out (a queue's listener may
    * build it at once). */
   if (!watch->published) {
      if (first_prepare_locked (watch)) {
         pthread_mutex_lock (&watch->lock);
         dispatch_locked (watch, watch->opts.first_level, &watch->last, false);
         pthread_mutex_unlock (&watch->lock);
      }
      return;
   }
   pthread_mutex_lock (&watch->lock);
   if (first_prepare_locked (watch)) {
      dispatch_locked (watch, watch->opts.first_level, &watch->last, false);
   }
   pthread_mutex_unlock (&watch->lock);
}

/* An update's record, out of _mwatch_watch_progress's fast path (so that
 * the path taking no lock saves no registers). */
static __attribute__ ((noinline)) void
progress_update (mwatch_watch_t *watch)
{
   pthread_mutex_lock (&watch->lock);
   if (!watch->finished) {
      emit_locked (watch, watch->opts.update_level, STATE_UPDATE);
   }
   pthread_mutex_unlock (&watch->lock);
}

void
_mwatch_watch_update (mwatch_watch_t *watch)
{
   /* Counted whether or not it is logged: records are numbered by it. */
   atomic_fetch_add_explicit (&watch->counters.updates_made, 1, memory_order_relaxed);
   /* The common case, updates below every logger's level, takes no lock. */
   if (_mwatch_logger_is_enabled_cached (watch->logger, watch->opts.update_level,
                                         &watch->updates)) {
      progress_update (watch);
   }
}

/* The final record's part of _mwatch_watch_final_counts; the caller holds
 * the lock and saw the watch not finished. */
static void
final_locked (mwatch_watch_t *watch, const bson_error_t *error)
{
   watch->finished = true;
   atomic_store_explicit (&watch->ended, true, memory_order_relaxed);
   cancel_held_back_locked (watch);
   late_field_t end = {.kind = LATE_END, .value = _mwatch_realtime_now ()};
   late_add (watch, LATE_END, NULL, end.value);
   if (watch->msg) {
      put_late (watch, watch->msg, &end, &watch->last, false);
   }
   if (error && error->code && MAPPED_NAME (watch, "Error")) {
      watch->error = bson_strdup (error->message);
      late_field_t failed = {.kind = LATE_ERROR};
      late_add (watch, LATE_ERROR, NULL, 0);
      if (watch->msg) {
         put_late (watch, watch->msg, &failed, &watch->last, false);
      }
   }
   if (watch->msg) {
      mwatch_message_set_ready (watch->msg);
   }
   emit_locked (watch, watch->opts.final_level, STATE_FINAL);
}

void
_mwatch_watch_final_counts (mwatch_watch_t *watch,
                            const bson_error_t *error,
                            const mwatch_count_value_t *counts,
                            size_t n)
{
   /* Ended already: nothing changes any more (see `ended`). */
   if (atomic_load_explicit (&watch->ended, memory_order_relaxed)) {
      return;
   }
   /* The listener builds the final record under this lock: woken only
    * once it is let go of (handler-private.h). */
   _mwatch_queue_handlers_defer_wakes ();
   pthread_mutex_lock (&watch->lock);
   /* Counts set after the end would not be in its record: none are. */
   if (!watch->finished) {
      for (size_t i = 0; i < n; i++) {
         late_field_t late = {.kind = LATE_COUNT, .key = counts[i].key, .value = counts[i].value};
         late_add (watch, LATE_COUNT, late.key, late.value);
         if (watch->msg) {
            put_late (watch, watch->msg, &late, &watch->last, false);
         }
      }
      final_locked (watch, error);
   }
   pthread_mutex_unlock (&watch->lock);
   _mwatch_queue_handlers_send_wakes ();
}

void
_mwatch_watch_final (mwatch_watch_t *watch, const bson_error_t *error)
{
   _mwatch_watch_final_counts (watch, error, NULL, 0);
}

/* ---------------------------------------------------------------- live */

/* The watch an embedded live handle belongs to. */
static mwatch_watch_t *
live_watch (mwatch_live_t *live)
{
   return (mwatch_watch_t *) ((char *) live - offsetof (mwatch_watch_t, live));
}

static void
live_ref (mwatch_live_t *live)
{
   _mwatch_watch_ref (live_watch (live));
}

static void
live_unref (mwatch_live_t *live)
{
   _mwatch_watch_unref (live_watch (live));
}

static mwatch_live_action_t
live_refresh (mwatch_live_t *live, bool draining, mwatch_message_t **out, int64_t *due)
{
   mwatch_watch_t *watch = live_watch (live);
   mwatch_live_action_t action;
   pthread_mutex_lock (&watch->lock);
   *due = timeout_due (watch);
   if (watch->finished) {
      action = MWATCH_LIVE_DROP;
   } else if (!draining && *due > _mwatch_monotonic_now ()) {
      action = MWATCH_LIVE_REQUEUE;
   } else {
      mwatch_live_snapshot_t snap = snapshot (watch, STATE_TIMEOUT);
      if (watch->msg) {
         *out = mwatch_message_copy (watch->msg);
         materialize (watch, *out, &snap);
      } else {
         *out = build_locked (watch, &snap, true);
      }
      action = MWATCH_LIVE_EMIT;
   }
   pthread_mutex_unlock (&watch->lock);
   return action;
}

static mwatch_message_t *
live_build_locked (mwatch_live_t *live, const mwatch_live_snapshot_t *snap)
{
   mwatch_watch_t *watch = live_watch (live);
   if (watch->late_overflow) {
      /* Only the message has every field. */
      mwatch_message_t *msg = mwatch_message_copy (watch->msg);
      materialize (watch, msg, snap);
      _mwatch_message_set_due (msg, snap->due);
      return msg;
   }
   return build_locked (watch, snap, true);
}

static mwatch_message_t *
live_build (mwatch_live_t *live, const mwatch_live_snapshot_t *snap)
{
   mwatch_watch_t *watch = live_watch (live);
   pthread_mutex_lock (&watch->lock);
   mwatch_message_t *msg = live_build_locked (live, snap);
   pthread_mutex_unlock (&watch->lock);
   return msg;
}

static const mwatch_live_ops_t live_ops = {
   .ref = live_ref,
   .unref = live_unref,
   .refresh = live_refresh,
   .build = live_build,
   .build_locked = live_build_locked,
};

/* ---------------------------------------------------------------- pending */

static mwatch_watch_t *
pending_watch (mwatch_pending_node_t *node)
{
   return (mwatch_watch_t *) ((char *) node - offsetof (mwatch_watch_t, pending));
}

static void
pending_ref (mwatch_pending_node_t *node)
{
   _mwatch_watch_ref (pending_watch (node));
}

/* Takes the watch's lock, waiting no later than `deadline` (monotonic;
 * 0: for ever). */
static bool
lock_until (mwatch_watch_t *watch, int64_t deadline)
{
   if (!deadline) {
      pthread_mutex_lock (&watch->lock);
      return true;
   }
   struct timespec until = _mwatch_timespec_at (deadline);
   return pthread_mutex_clocklock (&watch->lock, CLOCK_MONOTONIC, &until) == 0;
}

/* The operation went on long enough: its first record goes to the queues
 * now, as it would have at its start, to time it out.  A record it gets
 * there is bookkeeping only, as at its start: a handler attached since
 * does not write it. */
static bool
pending_promote (mwatch_pending_node_t *node, int64_t deadline)
{
   mwatch_watch_t *watch = pending_watch (node);
   if (!lock_until (watch, deadline)) {
      _mwatch_watch_unref (watch);
      return false;
   }
   if (watch->first_pending && !watch->finished) {
      watch->first_pending = false;
      mwatch_live_snapshot_t first = snapshot (watch, STATE_FIRST);
      dispatch_locked (watch, watch->opts.first_level, &first, true);
   }
   pthread_mutex_unlock (&watch->lock);
   _mwatch_watch_unref (watch);
   return true;
}

/* In a child of fork(): the registry's reference goes, with no lock
 * taken; were it the last, the watch is left as it is (freeing takes the
 * block pool's lock, which the child has not repaired yet). */
static void
pending_forget (mwatch_pending_node_t *node)
{
   mwatch_watch_t *watch = pending_watch (node);
   int refs = atomic_load (&watch->refs);
   while (refs > 1 && !atomic_compare_exchange_weak (&watch->refs, &refs, refs - 1)) {
   }
}

static const mwatch_pending_ops_t pending_ops = {
   .ref = pending_ref,
   .promote = pending_promote,
   .forget = pending_forget,
};

/* ---------------------------------------------------------------- public */

mwatch_message_t *
mwatch_cursor_lock (mwatch_cursor_t *watch)
{
   pthread_mutex_lock (&watch->lock);
   return own_message_locked (watch);
}

void
mwatch_cursor_unlock (mwatch_cursor_t *watch)
{
   pthread_mutex_unlock (&watch->lock);
}
