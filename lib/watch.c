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
#include "logger-private.h"
#include "shutdown-private.h"
#include "refcount-private.h"
#include "block-pool-private.h"
#include "fork-private.h"
#include "interpose-private.h"
#include "live-private.h"
#include "message-private.h"
#include "watch-secrets-private.h"
#include "watch-private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct _mwatch_cursor_t {
   atomic_int refs;
   /* What a queue holding one of its records sees of it (live_ops). */
   mwatch_live_t live;
   pthread_mutex_t lock;
   mwatch_message_t *msg;
   mwatch_logger_t *logger;
   mwatch_watcher_kind_t kind;
   mwatch_watcher_opts_t opts;
   struct op_maps *maps; /* the field mappings in force when it started */
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

/* ---------------------------------------------------------------- options */

static pthread_mutex_t opts_lock = PTHREAD_MUTEX_INITIALIZER;
static mwatch_watcher_opts_t watcher_opts[2];
static bool watcher_opts_set[2];

/* Every watched operation takes opts_lock as it starts, a child's first
 * one too: it must not inherit the lock held. */
MWATCH_FORK_INIT (opts_fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_WATCHER_OPTIONS, &opts_lock, NULL);
}

void
mwatch_watcher_opts_init (mwatch_watcher_opts_t *opts)
{
   opts->timeout_sec = 15.0;
   opts->first_level = MWATCH_LEVEL_DEBUG;
   opts->update_level = MWATCH_LEVEL_DEBUG;
   opts->final_level = MWATCH_LEVEL_INFO;
   opts->timeout_level = MWATCH_LEVEL_INFO;
   opts->emit_on_new_retrieves = true;
   opts->default_fields = NULL;
}

static bool
kind_is_valid (mwatch_watcher_kind_t kind)
{
   return kind == MWATCH_WATCHER_CURSOR || kind == MWATCH_WATCHER_COLLECTION;
}

void
mwatch_watcher_set_opts (mwatch_watcher_kind_t kind, const mwatch_watcher_opts_t *opts)
{
   if (!kind_is_valid (kind)) {
      return;
   }
   pthread_mutex_lock (&opts_lock);
   if (opts) {
      watcher_opts[kind] = *opts;
      /* Messages point at the list: it must outlive them. */
      watcher_opts[kind].default_fields = _mwatch_fields_intern (opts->default_fields);
   } else {
      mwatch_watcher_opts_init (&watcher_opts[kind]);
   }
   watcher_opts_set[kind] = true;
   pthread_mutex_unlock (&opts_lock);
}

/* The options in force; the caller holds opts_lock. */
static void
opts_locked (mwatch_watcher_kind_t kind, mwatch_watcher_opts_t *opts)
{
   if (watcher_opts_set[kind]) {
      *opts = watcher_opts[kind];
   } else {
      mwatch_watcher_opts_init (opts);
   }
}

void
mwatch_watcher_get_opts (mwatch_watcher_kind_t kind, mwatch_watcher_opts_t *opts)
{
   if (!kind_is_valid (kind)) {
      mwatch_watcher_opts_init (opts);
      return;
   }
   pthread_mutex_lock (&opts_lock);
   opts_locked (kind, opts);
   pthread_mutex_unlock (&opts_lock);
}

static mwatch_logger_t *watcher_loggers[2];
static pthread_once_t watcher_loggers_once = PTHREAD_ONCE_INIT;

static void
watcher_loggers_init (void)
{
   watcher_loggers[MWATCH_WATCHER_CURSOR] = mwatch_logger_get ("mongowatch.cursor");
   watcher_loggers[MWATCH_WATCHER_COLLECTION] = mwatch_logger_get ("mongowatch.collection");
}

/* ---------------------------------------------------------------- mappings */

typedef struct {
   char *operation;
   char **rename; /* pairs, NULL-terminated */
   char **drop;
   bson_t *add;
} op_map_t;

/* A set of mappings, immutable once made; watches hold a reference to
 * the set in force when they started, so a reload never changes a
 * running operation's field names half-way. */
typedef struct op_maps {
   atomic_int refs;
   size_t count;
   op_map_t *maps;
} op_maps_t;

static op_maps_t *watcher_maps[2];

static char **
strv_copy (const char *const *strv)
{
   if (!strv) {
      return NULL;
   }
   size_t n = 0;
   while (strv[n]) {
      n++;
   }
   char **copy = bson_malloc ((n + 1) * sizeof *copy);
   for (size_t i = 0; i < n; i++) {
      copy[i] = bson_strdup (strv[i]);
   }
   copy[n] = NULL;
   return copy;
}

static void
op_maps_unref (op_maps_t *set)
{
   if (!set || !_mwatch_unref (&set->refs)) {
      return;
   }
   for (size_t i = 0; i < set->count; i++) {
      op_map_t *m = &set->maps[i];
      bson_free (m->operation);
      bson_strfreev (m->rename);
      bson_strfreev (m->drop);
      if (m->add) {
         bson_destroy (m->add);
      }
   }
   bson_free (set->maps);
   bson_free (set);
}

void
mwatch_watcher_set_operation_maps (mwatch_watcher_kind_t kind,
                                    const mwatch_operation_map_t *maps,
                                    size_t count)
{
   if (!kind_is_valid (kind)) {
      return;
   }
   op_maps_t *set = NULL;
   if (count) {
      set = bson_malloc0 (sizeof *set);
      atomic_init (&set->refs, 1);
      set->count = count;
      set->maps = bson_malloc0 (count * sizeof *set->maps);
      /* The maps for "*" first, then the operations' own, each group in
       * the order given: what mapped_name and map_arguments promise,
       * whatever order the caller listed them in. */
      size_t next = 0;
      for (int pass = 0; pass < 2; pass++) {
         for (size_t i = 0; i < count; i++) {
            const char *operation = maps[i].operation ? maps[i].operation : "*";
            if ((strcmp (operation, "*") == 0) != (pass == 0)) {
               continue;
            }
            op_map_t *m = &set->maps[next++];
            m->operation = bson_strdup (operation);
            m->rename = strv_copy (maps[i].rename);
            m->drop = strv_copy (maps[i].drop);
            m->add = maps[i].add ? bson_copy (maps[i].add) : NULL;
         }
      }
   }
   pthread_mutex_lock (&opts_lock);
   op_maps_t *old = watcher_maps[kind];
   watcher_maps[kind] = set;
   pthread_mutex_unlock (&opts_lock);
   op_maps_unref (old);
}

/* The options and mappings in force, taken together under one lock: a
 * watch starts on one consistent configuration. */
static op_maps_t *
current_config (mwatch_watcher_kind_t kind, mwatch_watcher_opts_t *opts)
{
   pthread_mutex_lock (&opts_lock);
   opts_locked (kind, opts);
   op_maps_t *set = watcher_maps[kind];
   if (set) {
      atomic_fetch_add_explicit (&set->refs, 1, memory_order_relaxed);
   }
   pthread_mutex_unlock (&opts_lock);
   return set;
}

static bool
map_applies (const op_map_t *m, const char *operation)
{
   return strcmp (m->operation, "*") == 0 || strcmp (m->operation, operation) == 0;
}

/* The name a field goes by in this watch's records: renamed, or NULL when
 * dropped.  Mappings for "*" apply first, then those of the operation. */
static const char *
mapped_name (const mwatch_watch_t *watch, const char *key)
{
   if (!watch->maps) {
      return key;
   }
   for (size_t i = 0; i < watch->maps->count; i++) {
      const op_map_t *m = &watch->maps->maps[i];
      if (!map_applies (m, watch->operation)) {
         continue;
      }
      for (char **d = m->drop; d && *d; d++) {
         if (strcmp (*d, key) == 0) {
            return NULL;
         }
      }
      for (char **r = m->rename; r && r[0] && r[1]; r += 2) {
         if (strcmp (r[0], key) == 0) {
            key = r[1];
         }
      }
   }
   return key;
}

/* Sets the library's field `key` (a literal) under the name the mappings
 * give it; a dropped field is not set.  The literal's own name skips the
 * key checks; a renamed one goes through them. */
static void
set_mapped (const mwatch_watch_t *watch, mwatch_message_t *msg, const char *key, size_t key_len,
            const mwatch_value_t *value)
{
   const char *name = mapped_name (watch, key);
   if (name == key) {
      _mwatch_message_put (msg, key, key_len, value);
   } else if (name) {
      mwatch_message_set_value (msg, name, value);
   }
}

#define SET_MAPPED(watch, msg, key, value) set_mapped (watch, msg, key, sizeof key - 1, value)

/* Applies the mappings to the fields the operation started with (its
 * arguments, the context) and adds the constant fields. */
static void
map_arguments (mwatch_watch_t *watch)
{
   if (!watch->maps) {
      return;
   }
   /* Collect first: renaming while iterating would disturb the order. */
   size_t n = mwatch_message_count (watch->msg);
   char **keys = bson_malloc0 ((n + 1) * sizeof *keys);
   mwatch_message_iter_t iter;
   const char *key;
   size_t i = 0;
   mwatch_message_iter_init (&iter, watch->msg);
   while (mwatch_message_iter_next (&iter, &key, NULL)) {
      keys[i++] = bson_strdup (key);
   }
   for (i = 0; i < n; i++) {
      const char *to = mapped_name (watch, keys[i]);
      if (!to) {
         mwatch_message_remove (watch->msg, keys[i]);
      } else if (strcmp (to, keys[i]) != 0) {
         mwatch_message_rename (watch->msg, keys[i], to);
      }
   }
   bson_strfreev (keys);
   for (size_t m = 0; m < watch->maps->count; m++) {
      const op_map_t *map = &watch->maps->maps[m];
      bson_iter_t it;
      if (!map_applies (map, watch->operation) || !map->add || !bson_iter_init (&it, map->add)) {
         continue;
      }
      while (bson_iter_next (&it)) {
         mwatch_value_t v;
         _mwatch_value_from_iter (&it, &v);
         mwatch_message_set_value (watch->msg, bson_iter_key (&it), &v);
      }
   }
}

mwatch_logger_t *
_mwatch_watcher_logger (mwatch_watcher_kind_t kind)
{
   pthread_once (&watcher_loggers_once, watcher_loggers_init);
   return watcher_loggers[kind];
}

/* ---------------------------------------------------------------- context */

typedef struct {
   char *key;
   char *value;
} context_field_t;

static _Thread_local context_field_t *context;
static _Thread_local size_t context_count;

bool
mwatch_context_set (const char *key, const char *value)
{
   if (!key || !*key || strchr (key, '.')) {
      return false;
   }
   for (size_t i = 0; i < context_count; i++) {
      if (strcmp (context[i].key, key) == 0) {
         bson_free (context[i].value);
         if (value) {
            context[i].value = bson_strdup (value);
         } else {
            bson_free (context[i].key);
            context[i] = context[--context_count];
         }
         return true;
      }
   }
   if (value) {
      context = bson_realloc (context, (context_count + 1) * sizeof *context);
      context[context_count].key = bson_strdup (key);
      context[context_count].value = bson_strdup (value);
      context_count++;
   }
   return true;
}

void
mwatch_context_clear (void)
{
   for (size_t i = 0; i < context_count; i++) {
      bson_free (context[i].key);
      bson_free (context[i].value);
   }
   bson_free (context);
   context = NULL;
   context_count = 0;
}

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
   watch->maps = current_config (kind, &watch->opts);
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
   for (size_t i = 0; i < context_count; i++) {
      mwatch_message_set_utf8 (watch->msg, context[i].key, context[i].value);
   }
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
   op_maps_unref (watch->maps);
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
   map_arguments (watch);
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
   const char *name = mapped_name (watch, key);
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
      const char *error_name = mapped_name (watch, "Error");
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
