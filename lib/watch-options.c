/* The watchers' process-wide configuration: their options and the field
 * mappings of their operations, per kind of watcher, and the logger each
 * kind writes to.  A watch takes both at its start, under one lock, and
 * keeps them to its end (watch.c). */
#include "fast-tls-private.h"
#include "fork-private.h"
#include "message-private.h"
#include "refcount-private.h"
#include "watch-options-private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* ---------------------------------------------------------------- options */

static pthread_mutex_t opts_lock = PTHREAD_MUTEX_INITIALIZER;
static mwatch_watcher_opts_t watcher_opts[2];
static bool watcher_opts_set[2];
/* Bumped after every change of the options or the mappings, so that each
 * thread's copy (opts_cache) is taken again. */
static atomic_uint opts_generation = 1;

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
   atomic_fetch_add_explicit (&opts_generation, 1, memory_order_release);
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

mwatch_logger_t *
_mwatch_watcher_logger (mwatch_watcher_kind_t kind)
{
   pthread_once (&watcher_loggers_once, watcher_loggers_init);
   return watcher_loggers[kind];
}

/* ---------------------------------------------------------------- mappings */

typedef struct {
   char *operation;
   char **rename; /* pairs, NULL-terminated */
   char **drop;
   bson_t *add;
   char **cast; /* pairs field, cast name */
} op_map_t;

/* A set of mappings (see watch-options-private.h). */
struct _mwatch_op_maps_t {
   atomic_int refs;
   size_t count;
   op_map_t *maps;
};

static mwatch_op_maps_t *watcher_maps[2];

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

void
_mwatch_op_maps_unref (mwatch_op_maps_t *set)
{
   if (!set || !_mwatch_unref (&set->refs)) {
      return;
   }
   for (size_t i = 0; i < set->count; i++) {
      op_map_t *m = &set->maps[i];
      bson_free (m->operation);
      bson_strfreev (m->rename);
      bson_strfreev (m->drop);
      bson_strfreev (m->cast);
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
   mwatch_op_maps_t *set = NULL;
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
            m->cast = strv_copy (maps[i].cast);
            m->add = maps[i].add ? bson_copy (maps[i].add) : NULL;
         }
      }
   }
   pthread_mutex_lock (&opts_lock);
   mwatch_op_maps_t *old = watcher_maps[kind];
   watcher_maps[kind] = set;
   pthread_mutex_unlock (&opts_lock);
   atomic_fetch_add_explicit (&opts_generation, 1, memory_order_release);
   _mwatch_op_maps_unref (old);
}

/* The thread's copy of each watcher's options, taken while it had no
 * mappings (a set of mappings is counted per watch, so those take the
 * lock): every watched operation starts by reading them, and opts_lock
 * cost more than the copy. */
typedef struct {
   unsigned generation; /* 0: none (the generation starts at 1) */
   mwatch_watcher_opts_t opts;
} opts_cache_t;
/* Reached through a pointer in the initial-exec model, as watch-names.c's
 * db_cache: __tls_get_addr once per thread, not once per operation. */
static _Thread_local opts_cache_t opts_cache_storage[2];
static _Thread_local opts_cache_t *opts_cache_at MWATCH_FAST_TLS;

mwatch_op_maps_t *
_mwatch_watcher_config (mwatch_watcher_kind_t kind, mwatch_watcher_opts_t *opts)
{
   unsigned generation = atomic_load_explicit (&opts_generation, memory_order_acquire);
   opts_cache_t *opts_cache = opts_cache_at;
   if (BSON_UNLIKELY (!opts_cache)) {
      opts_cache = opts_cache_at = opts_cache_storage;
   }
   if (opts_cache[kind].generation == generation) {
      *opts = opts_cache[kind].opts;
      return NULL;
   }
   pthread_mutex_lock (&opts_lock);
   opts_locked (kind, opts);
   mwatch_op_maps_t *set = watcher_maps[kind];
   if (set) {
      atomic_fetch_add_explicit (&set->refs, 1, memory_order_relaxed);
   }
   pthread_mutex_unlock (&opts_lock);
   if (!set) {
      /* With the generation read before the lock: a change meanwhile
       * leaves the copy stale by its generation. */
      opts_cache[kind].opts = *opts;
      opts_cache[kind].generation = generation;
   }
   return set;
}

static bool
map_applies (const op_map_t *m, const char *operation)
{
   return strcmp (m->operation, "*") == 0 || strcmp (m->operation, operation) == 0;
}

const char *
_mwatch_op_maps_name (const mwatch_op_maps_t *maps, const char *operation, const char *key)
{
   if (!maps) {
      return key;
   }
   for (size_t i = 0; i < maps->count; i++) {
      const op_map_t *m = &maps->maps[i];
      if (!map_applies (m, operation)) {
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

/* The cast of `key` in `operation`'s records (the last map's), or NULL. */
static const char *
cast_of (const mwatch_op_maps_t *maps, const char *operation, const char *key)
{
   const char *cast = NULL;
   for (size_t i = 0; i < maps->count; i++) {
      const op_map_t *m = &maps->maps[i];
      for (char **c = m->cast; map_applies (m, operation) && c && c[0] && c[1]; c += 2) {
         if (strcmp (c[0], key) == 0) {
            cast = c[1];
         }
      }
   }
   return cast;
}

/* pymongowatch's casts, in C (see mwatch_operation_map_t). */
static void
apply_cast (mwatch_message_t *msg, const char *key, const char *cast)
{
   mwatch_value_t v;
   if (!mwatch_message_get (msg, key, &v)) {
      return;
   }
   if (strcmp (cast, "pymongo.watcher.transforms.one_if_not_none") == 0) {
      mwatch_message_set_int64 (msg, key, v.type == MWATCH_TYPE_NULL ? 0 : 1);
   } else if (strcmp (cast, "builtins.len") == 0) {
      int64_t n = 0;
      bson_t doc;
      if ((v.type == MWATCH_TYPE_DOCUMENT || v.type == MWATCH_TYPE_ARRAY) &&
          bson_init_static (&doc, v.value.v_doc.data, v.value.v_doc.len)) {
         n = bson_count_keys (&doc);
      } else if (v.type == MWATCH_TYPE_UTF8) {
         for (size_t i = 0; i < v.value.v_utf8.len; i++) {
            n += ((unsigned char) v.value.v_utf8.str[i] & 0xC0) != 0x80; /* a character's first byte */
         }
      } else {
         return; /* Python's len() fails; pymongowatch then keeps the value */
      }
      mwatch_message_set_int64 (msg, key, n);
   }
}

void
_mwatch_op_maps_apply (const mwatch_op_maps_t *maps, const char *operation, mwatch_message_t *msg)
{
   if (!maps) {
      return;
   }
   /* Collect first: renaming while iterating would disturb the order. */
   size_t n = mwatch_message_count (msg);
   char **keys = bson_malloc0 ((n + 1) * sizeof *keys);
   mwatch_message_iter_t iter;
   const char *key;
   size_t i = 0;
   mwatch_message_iter_init (&iter, msg);
   while (mwatch_message_iter_next (&iter, &key, NULL)) {
      keys[i++] = bson_strdup (key);
   }
   for (i = 0; i < n; i++) {
      const char *cast = cast_of (maps, operation, keys[i]);
      if (cast) {
         apply_cast (msg, keys[i], cast);
      }
      const char *to = _mwatch_op_maps_name (maps, operation, keys[i]);
      if (!to) {
         mwatch_message_remove (msg, keys[i]);
      } else if (strcmp (to, keys[i]) != 0) {
         mwatch_message_rename (msg, keys[i], to);
      }
   }
   bson_strfreev (keys);
   for (size_t m = 0; m < maps->count; m++) {
      const op_map_t *map = &maps->maps[m];
      bson_iter_t it;
      if (!map_applies (map, operation) || !map->add || !bson_iter_init (&it, map->add)) {
         continue;
      }
      while (bson_iter_next (&it)) {
         mwatch_value_t v;
         _mwatch_value_from_iter (&it, &v);
         mwatch_message_set_value (msg, bson_iter_key (&it), &v);
      }
   }
}
