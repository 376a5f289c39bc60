/* The watch engine: one operation's live state and its records.
 *
 * The application's thread changes the state under the watch's lock and
 * logs a snapshot at the start, at the end, and on updates when the
 * options ask for them.  Between those nothing is queued: a queue holding
 * a record of a running operation asks the live state, when the record's
 * timeout comes, whether the operation really went quiet (then it emits a
 * fresh snapshot) or moved on (then the record goes back, due later).  So a
 * cursor read a document at a time costs a few counter updates per
 * document, not a message per document. */
#include "block-pool-private.h"
#include "interpose-private.h"
#include "live-private.h"
#include "logger-private.h"
#include "message-private.h"
#include "refcount-private.h"
#include "shutdown-private.h"
#include "watch-context-private.h"
#include "watch-options-private.h"
#include "watch-private.h"
#include "watch-secrets-private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct _mwatch_watch_t {
   atomic_int refs;
   /* What a queue holding one of its records sees of it (live_ops). */
   mwatch_live_t live;
   pthread_mutex_t lock;
   mwatch_message_t *msg;
   mwatch_logger_t *logger;
   mwatch_watcher_kind_t kind;
   mwatch_watcher_opts_t opts;
   mwatch_op_maps_t *maps; /* the field mappings in force when it started */
   char *operation;       /* operation_buf, or allocated when longer */
   char operation_buf[32];
   /* The counters the application's thread bumps on every call into
    * libmongoc (every document of a cursor): atomics, so that this costs
    * no lock.  A listener reading them for a timeout snapshot may see one
    * call's time without its document; the next record is exact. */
   _Atomic int64_t duration_us;   /* time spent inside libmongoc */
   _Atomic int64_t last_activity; /* monotonic */
   _Atomic int64_t matched;
   /* Updates the operation made, logged or not (a batch that brought
    * documents, or every call without emit_on_new_retrieves): its records'
    * Iteration, the same whatever the levels and handlers. */
   _Atomic int64_t updates_made;
   /* The rest is guarded by `lock`. */
   mwatch_level_cache_t updates; /* are updates enabled? (progress's thread) */
   bool finished;
   atomic_bool detached; /* its cursor is gone (see _mwatch_watch_detach) */
};

/* ---------------------------------------------------------------- fields */

/* The name a field goes by in this watch's records (see
 * _mwatch_op_maps_name); without mappings, the common case, no call. */
#define MAPPED_NAME(watch, key) \
   ((watch)->maps ? _mwatch_op_maps_name ((watch)->maps, (watch)->operation, (key)) : (key))

/* Sets the library's field `key` (a literal) under the name the mappings
 * give it; a dropped field is not set.  The literal's own name skips the
 * key checks; a renamed one goes through them. */
static void
set_mapped (const mwatch_watch_t *watch, mwatch_message_t *msg, const char *key, size_t key_len,
            const mwatch_value_t *value)
{
   const char *name = MAPPED_NAME (watch, key);
   if (name == key) {
      _mwatch_message_put (msg, key, key_len, value);
   } else if (name) {
      mwatch_message_set_value (msg, name, value);
   }
}

#define SET_MAPPED(watch, msg, key, value) set_mapped (watch, msg, key, sizeof key - 1, value)

/* ---------------------------------------------------------------- life */

static const mwatch_live_ops_t live_ops;

mwatch_watch_t *
_mwatch_watch_new (mwatch_watcher_kind_t kind,
                   const char *operation,
                   const char *db,
                   const char *collection)
{
   /* Watches are made and freed as often as records: from the pool. */
   _Static_assert (sizeof (mwatch_watch_t) <= MWATCH_BLOCK_SIZE, "a watch fits a pool block");
   /* What a watched operation logs is written at exit, whenever logging
    * was set up. */
   _mwatch_shutdown_at_exit ();
   bool pooled;
   mwatch_watch_t *watch = _mwatch_block_get (sizeof *watch, &pooled);
   watch->updates.generation = 0;
   watch->finished = false;
   atomic_init (&watch->refs, 1);
   watch->live.ops = &live_ops;
   pthread_mutex_init (&watch->lock, NULL);
   watch->kind = kind;
   watch->logger = _mwatch_watcher_logger (kind);
   watch->maps = _mwatch_watcher_config (kind, &watch->opts);
   size_t op_len = strlen (operation);
   watch->operation = op_len < sizeof watch->operation_buf ? watch->operation_buf
                                                           : bson_malloc (op_len + 1);
   memcpy (watch->operation, operation, op_len + 1);
   atomic_init (&watch->duration_us, 0);
   atomic_init (&watch->last_activity, mwatch_monotonic_us ());
   atomic_init (&watch->matched, 0);
   atomic_init (&watch->updates_made, 0);
   atomic_init (&watch->detached, false);
   watch->msg = mwatch_message_new ();
   mwatch_message_set_default_fields (watch->msg, watch->opts.default_fields);
   _mwatch_context_apply (watch->msg);
   mwatch_value_t v = {.type = MWATCH_TYPE_UTF8};
   if (db) {
      v.value.v_utf8.str = db;
      v.value.v_utf8.len = strlen (db);
      _mwatch_message_put (watch->msg, "DB", 2, &v);
   }
   if (collection) {
      v.value.v_utf8.str = collection;
      v.value.v_utf8.len = strlen (collection);
      _mwatch_message_put (watch->msg, "Collection", 10, &v);
   }
   v.value.v_utf8.str = watch->operation;
   v.value.v_utf8.len = op_len;
   _mwatch_message_put (watch->msg, "Operation", 9, &v);
   return watch;
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
   if (watch->operation != watch->operation_buf) {
      bson_free (watch->operation);
   }
   pthread_mutex_destroy (&watch->lock);
   _mwatch_block_put (watch, true);
}

mwatch_message_t *
_mwatch_watch_message (mwatch_watch_t *watch)
{
   return watch->msg;
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

/* Writes the record's state and the live counters into `msg`.  A first
 * record is logged before anything was measured: no Duration, no
 * MatchedCount, rather than zeros that would read as "took no time". */
static void
materialize (const mwatch_watch_t *watch, mwatch_message_t *msg, record_state_t state)
{
   /* Numbered by what the operation did, not by what was logged: first 0,
    * each update its number, a timeout the updates so far, the final one
    * more. */
   int64_t updates = atomic_load_explicit (&watch->updates_made, memory_order_relaxed);
   _mwatch_message_set_iteration (msg, state == STATE_FIRST   ? 0
                                       : state == STATE_FINAL ? updates + 1
                                                              : updates);
   mwatch_value_t s = {.type = MWATCH_TYPE_UTF8};
   s.value.v_utf8.str = state_names[state].name;
   s.value.v_utf8.len = state_names[state].len;
   SET_MAPPED (watch, msg, "State", &s);
   if (state == STATE_FIRST) {
      return;
   }
   int64_t us = atomic_load_explicit (&watch->duration_us, memory_order_relaxed);
   mwatch_value_t v = {.type = MWATCH_TYPE_DOUBLE, .value.v_double = (double) us / 1e6};
   SET_MAPPED (watch, msg, "Duration", &v);
   if (watch->kind == MWATCH_WATCHER_CURSOR) {
      v.type = MWATCH_TYPE_INT64;
      v.value.v_int64 = atomic_load_explicit (&watch->matched, memory_order_relaxed);
      SET_MAPPED (watch, msg, "MatchedCount", &v);
   }
}

static int64_t
timeout_due (const mwatch_watch_t *watch)
{
   if (!(watch->opts.timeout_sec > 0)) {
      return MWATCH_DUE_NEVER;
   }
   return atomic_load_explicit (&watch->last_activity, memory_order_relaxed) +
          (int64_t) (watch->opts.timeout_sec * 1e6);
}

/* Logs the current state at `level`; the caller holds the lock.  Skips all
 * work when no handler could want the record. */
static void
emit_locked (mwatch_watch_t *watch, int level, record_state_t state)
{
   int timeout_level = watch->opts.timeout_level;
   int admission = watch->finished || timeout_level < level ? level : timeout_level;
   if (!mwatch_logger_is_enabled_for (watch->logger, admission)) {
      return;
   }
   materialize (watch, watch->msg, state);
   _mwatch_message_set_due (watch->msg, timeout_due (watch));
   /* A handler that calls libmongoc must not be watched from here. */
   _mwatch_enter ();
   _mwatch_logger_log_live (watch->logger, level, timeout_level, watch->msg, &watch->live);
   _mwatch_leave ();
}

void
_mwatch_watch_first (mwatch_watch_t *watch)
{
   pthread_mutex_lock (&watch->lock);
   _mwatch_op_maps_apply (watch->maps, watch->operation, watch->msg);
   emit_locked (watch, watch->opts.first_level, STATE_FIRST);
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
_mwatch_watch_progress (
   mwatch_watch_t *watch, int64_t us, int64_t end, bool matched, bool fetched)
{
   atomic_fetch_add_explicit (&watch->duration_us, us, memory_order_relaxed);
   atomic_store_explicit (&watch->last_activity, end, memory_order_relaxed);
   bool update = !watch->opts.emit_on_new_retrieves;
   if (matched) {
      int64_t count = atomic_fetch_add_explicit (&watch->matched, 1, memory_order_relaxed) + 1;
      /* emit_on_new_retrieves: an update per batch that brought
       * documents, not per document: a new document read by a call that
       * made a round trip, or the very first one (its batch may have come
       * with the call that made the cursor). */
      update = update || fetched || count == 1;
   }
   if (!update) {
      return;
   }
   /* Counted whether or not it is logged: records are numbered by it. */
   atomic_fetch_add_explicit (&watch->updates_made, 1, memory_order_relaxed);
   /* The common case, updates below every logger's level, takes no lock. */
   if (_mwatch_logger_is_enabled_cached (watch->logger, watch->opts.update_level,
                                         &watch->updates)) {
      progress_update (watch);
   }
}

void
_mwatch_watch_detach (mwatch_watch_t *watch)
{
   atomic_store_explicit (&watch->detached, true, memory_order_release);
}

bool
_mwatch_watch_is_detached (const mwatch_watch_t *watch)
{
   return atomic_load_explicit (&((mwatch_watch_t *) watch)->detached, memory_order_acquire);
}

void
_mwatch_watch_set_count (mwatch_watch_t *watch, const char *key, int64_t value)
{
   pthread_mutex_lock (&watch->lock);
   const char *name = MAPPED_NAME (watch, key);
   if (name) {
      mwatch_message_set_int64 (watch->msg, name, value);
   }
   pthread_mutex_unlock (&watch->lock);
}

void
_mwatch_watch_final (mwatch_watch_t *watch, const bson_error_t *error)
{
   pthread_mutex_lock (&watch->lock);
   if (!watch->finished) {
      watch->finished = true;
      const char *error_name = MAPPED_NAME (watch, "Error");
      mwatch_value_t v = {.type = MWATCH_TYPE_DATETIME, .value.v_datetime = mwatch_realtime_us ()};
      SET_MAPPED (watch, watch->msg, "EndTime", &v);
      if (error && error->code && error_name) {
         _mwatch_message_set_masked (watch->msg, error_name, error->message);
      }
      mwatch_message_set_ready (watch->msg);
      emit_locked (watch, watch->opts.final_level, STATE_FINAL);
   }
   pthread_mutex_unlock (&watch->lock);
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
   } else if (!draining && *due > mwatch_monotonic_us ()) {
      action = MWATCH_LIVE_REQUEUE;
   } else {
      *out = mwatch_message_copy (watch->msg);
      materialize (watch, *out, STATE_TIMEOUT);
      action = MWATCH_LIVE_EMIT;
   }
   pthread_mutex_unlock (&watch->lock);
   return action;
}

static const mwatch_live_ops_t live_ops = {
   .ref = live_ref,
   .unref = live_unref,
   .refresh = live_refresh,
};

/* ---------------------------------------------------------------- public */

mwatch_message_t *
mwatch_cursor_lock (mwatch_cursor_t *watch)
{
   pthread_mutex_lock (&watch->lock);
   return watch->msg;
}

void
mwatch_cursor_unlock (mwatch_cursor_t *watch)
{
   pthread_mutex_unlock (&watch->lock);
}
