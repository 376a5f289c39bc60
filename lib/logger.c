/* Loggers: dotted names in a tree, levels inherited from ancestors,
 * handlers and filters, and the walk a record takes up the tree. */
#include "clock-private.h"
#include "fast-tls-private.h"
#include "filter-private.h"
#include "handler-private.h"
#include "logger-private.h"
#include "shutdown-private.h"
#include "refcount-private.h"
#include "fork-private.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct _mwatch_logger_t {
   char *name;
   mwatch_logger_t *parent; /* NULL for the root */
   atomic_int level;
   atomic_bool propagate;
   /* What a reset gives `propagate`: true but for the stats logger. */
   bool default_propagate;
   /* Set by a configuration with disable_existing_loggers. */
   atomic_bool disabled;
   /* The effective level as last found, with the generation it was found
    * at: (generation << 32) | (uint32_t) level; 0 (generation 0, never
    * current) until asked. */
   _Atomic uint64_t effective;
   /* Guarded by config_lock. */
   mwatch_handler_t **handlers;
   size_t handler_count;
   mwatch_filter_t **filters;
   size_t filter_count;
   mwatch_logger_t *next; /* every logger, for lookup and reset */
};

/* Readers: every record's walk up the tree.  Writers: configuration
 * changes, reset and fork.  Loggers themselves are never freed, so a
 * logger pointer stays valid without the lock.
 *
 * It must prefer readers: a reader gets in whenever no writer holds it,
 * however many writers wait.  A handler's failure report is logged under
 * the handler's lock and read-locks it (mwatch_logger_has_handlers, then
 * the report's walk), while a record's walk may hold it for reading and
 * wait for that handler's lock, and an install wait to write it.  Were
 * the reporter queued behind the waiting writer, the three would wait on
 * each other; so would a walk's own report, read-locking it again behind
 * that writer.  glibc's default kind (PTHREAD_RWLOCK_PREFER_READER_NP,
 * what PTHREAD_RWLOCK_INITIALIZER and a NULL attribute give; its
 * PREFER_WRITER kind too, which glibc treats alike) and musl's lock let
 * such a reader in; only PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
 * would not, so it is never used here, nor in the child's fresh lock
 * (fork_child): test/unit/test-report-locks.c hangs with it.  (POSIX
 * asks writers to be preferred only for SCHED_FIFO and SCHED_RR threads;
 * glibc decides by the kind alone, whatever the threads' policy.) */
static pthread_rwlock_t config_lock = PTHREAD_RWLOCK_INITIALIZER;
/* Guards the list of loggers (creation and lookup).  The list is also
 * read without it (_mwatch_logger_find, _mwatch_loggers_install): a
 * logger is written whole before it is published at the head (release),
 * and never changes or goes after. */
static pthread_mutex_t loggers_lock = PTHREAD_MUTEX_INITIALIZER;
static mwatch_logger_t *loggers;
static mwatch_logger_t root_logger;

/* ---------------------------------------------------------------- threads */

static _Thread_local int64_t cached_thread_id MWATCH_FAST_TLS;
static int64_t cached_process_id;

int64_t
_mwatch_thread_id (void)
{
   if (!cached_thread_id) {
      cached_thread_id = (int64_t) syscall (SYS_gettid);
   }
   return cached_thread_id;
}

int64_t
_mwatch_process_id (void)
{
   int64_t pid = __atomic_load_n (&cached_process_id, __ATOMIC_RELAXED);
   if (!pid) {
      pid = (int64_t) getpid ();
      __atomic_store_n (&cached_process_id, pid, __ATOMIC_RELAXED);
   }
   return pid;
}

void
_mwatch_thread_info_reset (void)
{
   cached_thread_id = 0;
   __atomic_store_n (&cached_process_id, 0, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- registry */

static void
root_init_locked (void)
{
   if (root_logger.name) {
      return;
   }
   root_logger.name = "";
   atomic_init (&root_logger.level, MWATCH_LEVEL_WARNING);
   root_logger.default_propagate = true;
   atomic_init (&root_logger.propagate, true);
   atomic_init (&root_logger.disabled, false);
   root_logger.next = loggers;
   __atomic_store_n (&loggers, &root_logger, __ATOMIC_RELEASE);
   /* Its level was set without mwatch_logger_set_level. */
   _mwatch_route_generation_bump ();
}

static mwatch_logger_t *
find_locked (const char *name, size_t len)
{
   for (mwatch_logger_t *l = loggers; l; l = l->next) {
      if (strncmp (l->name, name, len) == 0 && l->name[len] == '\0') {
         return l;
      }
   }
   return NULL;
}

/* Creates the logger named by the first `len` bytes of `name`, and its
 * ancestors first, so that every logger's parent exists when it does. */
static mwatch_logger_t *
get_locked (const char *name, size_t len)
{
   if (len == 0) {
      return &root_logger;
   }
   mwatch_logger_t *logger = find_locked (name, len);
   if (logger) {
      return logger;
   }
   size_t parent_len = len;
   while (parent_len > 0 && name[parent_len - 1] != '.') {
      parent_len--;
   }
   mwatch_logger_t *parent = get_locked (name, parent_len ? parent_len - 1 : 0);
   logger = bson_malloc0 (sizeof *logger);
   logger->name = bson_strndup (name, len);
   logger->parent = parent;
   atomic_init (&logger->level, MWATCH_LEVEL_NOTSET);
   /* The library's reports of itself (records dropped) must not land in
    * the audit logs of "mongowatch" as lines of another shape: they go
    * where "mongowatch.stats" is configured to send them, else to stderr
    * (see _mwatch_stats_report). */
   logger->default_propagate = strcmp (logger->name, MWATCH_STATS_LOGGER) != 0;
   atomic_init (&logger->propagate, logger->default_propagate);
   atomic_init (&logger->disabled, false);
   logger->next = loggers;
   __atomic_store_n (&loggers, logger, __ATOMIC_RELEASE);
   return logger;
}

mwatch_logger_t *
mwatch_logger_get (const char *name)
{
   pthread_mutex_lock (&loggers_lock);
   root_init_locked ();
   mwatch_logger_t *logger = get_locked (name ? name : "", name ? strlen (name) : 0);
   pthread_mutex_unlock (&loggers_lock);
   return logger;
}

mwatch_logger_t *
_mwatch_logger_find (const char *name)
{
   for (mwatch_logger_t *l = __atomic_load_n (&loggers, __ATOMIC_ACQUIRE); l; l = l->next) {
      if (strcmp (l->name, name) == 0) {
         return l;
      }
   }
   return NULL;
}

const char *
mwatch_logger_name (const mwatch_logger_t *logger)
{
   return logger->name;
}

bool
mwatch_logger_has_handlers (mwatch_logger_t *logger)
{
   bool found = false;
   pthread_rwlock_rdlock (&config_lock);
   for (mwatch_logger_t *l = logger; l && !found; l = l->parent) {
      found = l->handler_count > 0;
      if (!atomic_load_explicit (&l->propagate, memory_order_relaxed)) {
         break;
      }
   }
   pthread_rwlock_unlock (&config_lock);
   return found;
}

/* ---------------------------------------------------------------- levels */

/* Every change of a level goes through here, for the generation. */
void
mwatch_logger_set_level (mwatch_logger_t *logger, int level)
{
   atomic_store_explicit (&logger->level, level, memory_order_relaxed);
   _mwatch_route_generation_bump ();
}

int
mwatch_logger_get_level (const mwatch_logger_t *logger)
{
   return atomic_load_explicit (&((mwatch_logger_t *) logger)->level, memory_order_relaxed);
}

static int
effective_walk (const mwatch_logger_t *logger)
{
   for (; logger; logger = logger->parent) {
      int level = mwatch_logger_get_level (logger);
      if (level != MWATCH_LEVEL_NOTSET) {
         return level;
      }
   }
   return MWATCH_LEVEL_NOTSET;
}

/* mwatch_logger_effective_level's miss: the walk, and the answer kept.
 * Out of line, so that the cached answer saves no registers for it. */
static __attribute__ ((noinline)) int
effective_miss (mwatch_logger_t *l, unsigned generation)
{
   int level = effective_walk (l);
   atomic_store_explicit (&l->effective, ((uint64_t) generation << 32) | (uint32_t) level,
                          memory_order_relaxed);
   return level;
}

/* Asked for each record (and each watched operation's start): kept in the
 * logger against the configuration's generation, which every level change
 * bumps after making it, so that one atomic load of each answers while no
 * level changes.  A generation read before the walk: a change meanwhile
 * leaves the answer stale by its generation, and the next call walks. */
static inline __attribute__ ((always_inline)) int
effective_level (const mwatch_logger_t *logger)
{
   if (!logger) {
      return MWATCH_LEVEL_NOTSET;
   }
   mwatch_logger_t *l = (mwatch_logger_t *) logger;
   unsigned generation = atomic_load_explicit (&_mwatch_levels_generation, memory_order_acquire);
   uint64_t known = atomic_load_explicit (&l->effective, memory_order_relaxed);
   if ((unsigned) (known >> 32) == generation) {
      return (int) (int32_t) (uint32_t) known;
   }
   return effective_miss (l, generation);
}

/* Inside the library, effective_level is inlined where a record is
 * admitted, without the call. */
int
mwatch_logger_effective_level (const mwatch_logger_t *logger)
{
   return effective_level (logger);
}

bool
mwatch_logger_is_enabled_for (const mwatch_logger_t *logger, int level)
{
   return level >= effective_level (logger);
}

void
mwatch_logger_set_propagate (mwatch_logger_t *logger, bool propagate)
{
   atomic_store_explicit (&logger->propagate, propagate, memory_order_relaxed);
   _mwatch_route_generation_bump ();
}

/* ---------------------------------------------------------------- handlers */

void
mwatch_logger_add_handler (mwatch_logger_t *logger, mwatch_handler_t *handler)
{
   mwatch_handler_ref (handler);
   _mwatch_shutdown_at_exit ();
   pthread_rwlock_wrlock (&config_lock);
   logger->handlers = bson_realloc (logger->handlers,
                                    (logger->handler_count + 1) * sizeof *logger->handlers);
   logger->handlers[logger->handler_count++] = handler;
   pthread_rwlock_unlock (&config_lock);
   _mwatch_route_generation_bump ();
}

bool
mwatch_logger_remove_handler (mwatch_logger_t *logger, mwatch_handler_t *handler)
{
   bool found = false;
   pthread_rwlock_wrlock (&config_lock);
   for (size_t i = 0; i < logger->handler_count; i++) {
      if (logger->handlers[i] == handler) {
         memmove (&logger->handlers[i], &logger->handlers[i + 1],
                  (logger->handler_count - i - 1) * sizeof *logger->handlers);
         logger->handler_count--;
         found = true;
         break;
      }
   }
   pthread_rwlock_unlock (&config_lock);
   _mwatch_route_generation_bump ();
   if (found) {
      mwatch_handler_destroy (handler);
   }
   return found;
}

void
mwatch_logger_add_filter (mwatch_logger_t *logger, mwatch_filter_t *filter)
{
   mwatch_filter_ref (filter);
   pthread_rwlock_wrlock (&config_lock);
   logger->filters = bson_realloc (logger->filters,
                                   (logger->filter_count + 1) * sizeof *logger->filters);
   logger->filters[logger->filter_count++] = filter;
   pthread_rwlock_unlock (&config_lock);
   _mwatch_route_generation_bump ();
}

/* ---------------------------------------------------------------- logging */

/* Runs `logger`'s own filters on `record`; the caller holds config_lock.
 * A filter may change the message, and what it changes must reach only
 * the handlers of this one record: unless the message is the record's own
 * (`owned`), the filters work on a copy, which `*copy` receives for the
 * caller to free. */
static bool
filter_locked (mwatch_logger_t *logger,
               mwatch_record_t *record,
               bool owned,
               mwatch_message_t **copy)
{
   *copy = NULL;
   if (!logger->filter_count) {
      return true;
   }
   if (record->watch && !owned) {
      *copy = mwatch_message_copy (record->watch);
      record->watch = *copy;
   }
   return _mwatch_filters_apply (logger->filters, logger->filter_count, record);
}

/* The record's walk: the logger's own filters (as in Python, a logger's
 * filters see only records logged on it, not those of its descendants),
 * then the handlers of the logger and of each ancestor until one does not
 * propagate.  `priv` goes beside the record to each handler. */
/* Whether the walk of a record whose message is not built yet would want
 * the message on this thread: for the logger's own filters, or a handler
 * that is not a queue of the library's.  The caller holds config_lock. */
static bool
walk_needs_message_locked (mwatch_logger_t *logger,
                           const mwatch_record_t *record,
                           const mwatch_record_priv_t *priv)
{
   if (logger->filter_count) {
      return true;
   }
   for (mwatch_logger_t *l = logger; l; l = l->parent) {
      for (size_t i = 0; i < l->handler_count; i++) {
         if (_mwatch_handler_needs_message (l->handlers[i], record, priv)) {
            return true;
         }
      }
      if (!atomic_load_explicit (&l->propagate, memory_order_relaxed)) {
         break;
      }
   }
   return false;
}

/* Builds the message of a record that has none yet (priv->lazy), here on
 * the logging thread, for the rest of the walk: the old path, the message
 * shared by the handlers as any logged message is.  `*eager` receives the
 * private part that goes with it. */
static void
build_now (mwatch_record_t *record,
           const mwatch_record_priv_t **priv,
           mwatch_record_priv_t *eager,
           mwatch_message_t **built)
{
   *built = (*priv)->live->ops->build_locked ((*priv)->live, &(*priv)->lazy->snap);
   record->watch = *built;
   *eager = **priv;
   eager->lazy = NULL;
   *priv = eager;
}

/* The record's walk.  `wants`, for a record whose message is not built
 * yet: whether its route (route_of) says the walk wants the message on
 * this thread, or -1 when not known, and the walk looks.  Inlined, as
 * route_of is, into the watcher's log call, once per operation's final
 * record. */
static inline __attribute__ ((always_inline)) void
dispatch_routed (mwatch_logger_t *logger,
                 mwatch_record_t *record,
                 const mwatch_record_priv_t *priv,
                 int wants)
{
   if (atomic_load_explicit (&logger->disabled, memory_order_relaxed)) {
      return;
   }
   mwatch_message_t *copy;
   mwatch_message_t *built = NULL;
   mwatch_record_priv_t eager;
   pthread_rwlock_rdlock (&config_lock);
   /* A filter added since the route was taken sees a message all the
    * same: the logger's own are looked at again, under the lock. */
   if (priv->lazy && (wants < 0 ? walk_needs_message_locked (logger, record, priv)
                                : wants || logger->filter_count)) {
      /* Built once, up front, for every handler of the walk. */
      build_now (record, &priv, &eager, &built);
   }
   if (filter_locked (logger, record, priv->owned, &copy)) {
      for (mwatch_logger_t *l = logger; l; l = l->parent) {
         for (size_t i = 0; i < l->handler_count; i++) {
            /* A level or propagation changed since the look above (they
             * change without config_lock): built where first wanted. */
            if (priv->lazy && _mwatch_handler_needs_message (l->handlers[i], record, priv)) {
               build_now (record, &priv, &eager, &built);
            }
            _mwatch_handler_handle (l->handlers[i], record, priv);
         }
         if (!atomic_load_explicit (&l->propagate, memory_order_relaxed)) {
            break;
         }
      }
   }
   pthread_rwlock_unlock (&config_lock);
   /* Most often neither was made: no call. */
   if (copy) {
      mwatch_message_destroy (copy);
   }
   if (built) {
      mwatch_message_destroy (built);
   }
}

static void
dispatch (mwatch_logger_t *logger, mwatch_record_t *record, const mwatch_record_priv_t *priv)
{
   dispatch_routed (logger, record, priv, -1);
}

bool
_mwatch_logger_filter_named (const char *name, mwatch_record_t *record)
{
   mwatch_logger_t *logger = mwatch_logger_get (name);
   mwatch_message_t *copy;
   pthread_rwlock_rdlock (&config_lock);
   bool keep = filter_locked (logger, record, true, &copy);
   pthread_rwlock_unlock (&config_lock);
   /* The caller's message is its own, so no copy was made. */
   BSON_ASSERT (!copy);
   return keep;
}

static void
record_init (mwatch_record_t *record, mwatch_logger_t *logger, int level, int timeout_level)
{
   record->name = logger->name;
   record->level = level;
   record->timeout_level = timeout_level;
   record->created = _mwatch_realtime_now ();
   record->thread = _mwatch_thread_id ();
   record->process = _mwatch_process_id ();
   record->text = NULL;
   record->watch = NULL;
}

void
mwatch_logger_log (mwatch_logger_t *logger, int level, int timeout_level, mwatch_message_t *msg)
{
   _mwatch_logger_log_live (logger, level, timeout_level, msg, NULL);
}

/* Whether a watcher's record at `level` passes its logger's level; sets
 * *below_level.  A record of a running operation may still leave a queue
 * by timeout, at its timeout level: it is let in when either level
 * passes, but one whose own level does not reaches queues alone
 * (below_level). */
static bool
admit_watched (mwatch_logger_t *logger, int level, int timeout_level, bool ready, bool *below_level)
{
   int effective = effective_level (logger);
   int admission = level;
   if (!ready && timeout_level > level) {
      admission = timeout_level;
   }
   *below_level = level < effective;
   return admission >= effective;
}

/* Where a watcher's record whose message is not built yet goes, as
 * _mwatch_logger_route says, and whether it is below its logger's level
 * (or bookkeeping for queues alone: `queues_only`), by a walk of the
 * loggers under config_lock. */
static mwatch_route_t
route_walk (mwatch_logger_t *logger,
            int level,
            int timeout_level,
            bool ready,
            bool queues_only,
            bool *below_level)
{
   if (atomic_load_explicit (&logger->disabled, memory_order_relaxed) ||
       !admit_watched (logger, level, timeout_level, ready, below_level)) {
      return MWATCH_ROUTE_NONE;
   }
   *below_level = *below_level || queues_only;
   mwatch_record_t record = {.level = level, .timeout_level = timeout_level};
   const mwatch_lazy_record_t probe = {.snap = {.ready = ready}};
   const mwatch_record_priv_t priv = {.below_level = *below_level, .lazy = &probe};
   pthread_rwlock_rdlock (&config_lock);
   bool needs = walk_needs_message_locked (logger, &record, &priv);
   pthread_rwlock_unlock (&config_lock);
   return needs ? MWATCH_ROUTE_MESSAGE : MWATCH_ROUTE_QUEUES;
}

/* The routes a thread took last, each good while the configuration's
 * generation (_mwatch_levels_generation, which every change of a level,
 * a propagation, a logger's handlers or filters, a handler's level, or a
 * new configuration bumps) stays what it was when it was taken: a
 * record's route costs one atomic load and a few comparisons, not a walk
 * of the loggers under config_lock.  Per thread, so that no lock guards
 * it; a watcher's records go to a few routes (one logger, three levels),
 * which four slots hold, chosen by the level. */
typedef struct {
   const mwatch_logger_t *logger;
   unsigned generation; /* 0: empty (the generation starts at 1) */
   int level;
   int timeout_level;
   bool ready;
   bool queues_only;
   bool below_level;
   mwatch_route_t route;
} route_slot_t;

#define ROUTE_SLOTS 4
static _Thread_local route_slot_t routes[ROUTE_SLOTS] MWATCH_FAST_TLS;

/* route_of's miss: the walk, and the slot set to its answer.  Out of
 * line, so that a hit saves no registers for it. */
static __attribute__ ((noinline)) mwatch_route_t
route_miss (route_slot_t *slot,
            unsigned generation,
            mwatch_logger_t *logger,
            int level,
            int timeout_level,
            bool ready,
            bool queues_only,
            bool *below_level)
{
   /* Taken after the generation was read: a change meanwhile leaves the
    * slot stale by its generation, and the next record walks again. */
   mwatch_route_t route = route_walk (logger, level, timeout_level, ready, queues_only, below_level);
   *slot = (route_slot_t) {
      .logger = logger,
      .generation = generation,
      .level = level,
      .timeout_level = timeout_level,
      .ready = ready,
      .queues_only = queues_only,
      .below_level = *below_level,
      .route = route,
   };
   return route;
}

static inline __attribute__ ((always_inline)) mwatch_route_t
route_of (mwatch_logger_t *logger,
          int level,
          int timeout_level,
          bool ready,
          bool queues_only,
          bool *below_level)
{
   unsigned generation = atomic_load_explicit (&_mwatch_levels_generation, memory_order_acquire);
   /* One slot per level and kind of record: a running operation's and
    * an ended one's records at the same level go to slots of their own. */
   route_slot_t *slot =
      &routes[((unsigned) level * 7u + (ready ? 1u : 0u) + (queues_only ? 2u : 0u)) % ROUTE_SLOTS];
   if (slot->generation == generation && slot->logger == logger && slot->level == level &&
       slot->timeout_level == timeout_level && slot->ready == ready &&
       slot->queues_only == queues_only) {
      *below_level = slot->below_level;
      return slot->route;
   }
   return route_miss (slot, generation, logger, level, timeout_level, ready, queues_only,
                      below_level);
}

/* Logs a watcher's record: its message `msg`, or, with `lazy`, the
 * means to build it. */
static void
log_watched (mwatch_logger_t *logger,
             int level,
             int timeout_level,
             mwatch_message_t *msg,
             const mwatch_lazy_record_t *lazy,
             mwatch_live_t *live)
{
   bool below_level;
   int wants = -1;
   if (lazy) {
      mwatch_route_t route =
         route_of (logger, level, timeout_level, lazy->snap.ready, lazy->queues_only, &below_level);
      if (route == MWATCH_ROUTE_NONE) {
         return;
      }
      wants = route == MWATCH_ROUTE_MESSAGE;
   } else if (!admit_watched (logger, level, timeout_level, mwatch_message_is_ready (msg),
                              &below_level)) {
      return;
   }
   mwatch_record_t record;
   record_init (&record, logger, level, timeout_level);
   record.watch = msg;
   if (lazy && lazy->created) {
      record.created = lazy->created;
      record.thread = lazy->thread;
   }
   mwatch_record_priv_t priv = {.live = live, .below_level = below_level, .lazy = lazy};
   dispatch_routed (logger, &record, &priv, wants);
}

mwatch_route_t
_mwatch_logger_route (mwatch_logger_t *logger,
                      int level,
                      int timeout_level,
                      const mwatch_lazy_record_t *lazy)
{
   bool below_level;
   if (!logger) {
      return MWATCH_ROUTE_NONE;
   }
   return route_of (logger, level, timeout_level, lazy->snap.ready, lazy->queues_only,
                    &below_level);
}

void
_mwatch_logger_log_live (mwatch_logger_t *logger,
                         int level,
                         int timeout_level,
                         mwatch_message_t *msg,
                         mwatch_live_t *live)
{
   if (logger && msg) {
      log_watched (logger, level, timeout_level, msg, NULL, live);
   }
}

void
_mwatch_logger_log_lazy (mwatch_logger_t *logger,
                         int level,
                         int timeout_level,
                         const mwatch_lazy_record_t *lazy,
                         mwatch_live_t *live)
{
   if (logger) {
      log_watched (logger, level, timeout_level, NULL, lazy, live);
   }
}

void
_mwatch_logger_hand_over (const char *name,
                          int level,
                          int timeout_level,
                          mwatch_message_t *msg,
                          mwatch_live_t *live)
{
   mwatch_logger_t *logger = mwatch_logger_get (name);
   if (timeout_level < mwatch_logger_effective_level (logger)) {
      return; /* the new configuration would not time it out */
   }
   mwatch_record_t record;
   record_init (&record, logger, level, timeout_level);
   record.watch = msg;
   /* Bookkeeping for queues alone: nothing is written as it is. */
   mwatch_record_priv_t priv = {.live = live, .below_level = true};
   dispatch (logger, &record, &priv);
}

void
mwatch_logger_log_text (mwatch_logger_t *logger, int level, const char *text)
{
   if (!logger || !text || !mwatch_logger_is_enabled_for (logger, level)) {
      return;
   }
   mwatch_record_t record;
   record_init (&record, logger, level, level);
   record.text = text;
   dispatch (logger, &record, &MWATCH_RECORD_PRIV_PLAIN);
}

/* ---------------------------------------------------------------- reset, fork */

/* Is `logger` `ancestor` or below it? */
static bool
is_at_or_below (const mwatch_logger_t *logger, const mwatch_logger_t *ancestor)
{
   for (; logger; logger = logger->parent) {
      if (logger == ancestor) {
         return true;
      }
   }
   return false;
}

/* Appends `n` pointers to a growing NULL-terminated list. */
static void
list_append (void ***list, size_t *count, size_t *capacity, void *const *items, size_t n)
{
   if (*count + n + 1 > *capacity) {
      while (*count + n + 1 > *capacity) {
         *capacity = *capacity ? *capacity * 2 : 8;
      }
      *list = bson_realloc (*list, *capacity * sizeof **list);
   }
   for (size_t i = 0; i < n; i++) {
      (*list)[(*count)++] = items[i];
   }
   (*list)[*count] = NULL;
}

static void **
dup_refs (void *const *items, size_t n, void *(*ref) (void *))
{
   if (!n) {
      return NULL;
   }
   void **copy = bson_malloc (n * sizeof *copy);
   for (size_t i = 0; i < n; i++) {
      copy[i] = ref (items[i]);
   }
   return copy;
}

static void *
handler_ref (void *h)
{
   return mwatch_handler_ref (h);
}

static void *
filter_ref (void *f)
{
   return mwatch_filter_ref (f);
}

void
_mwatch_loggers_install (const mwatch_logger_setup_t *setups,
                         size_t count,
                         bool disable_existing,
                         bool handing_over)
{
   _mwatch_shutdown_at_exit ();
   /* Every logger named exists before the lock is taken for writing. */
   mwatch_logger_t **targets = bson_malloc0 ((count ? count : 1) * sizeof *targets);
   for (size_t i = 0; i < count; i++) {
      targets[i] = mwatch_logger_get (setups[i].name);
   }
   void **old_handlers = NULL, **old_filters = NULL;
   size_t n_old_handlers = 0, cap_handlers = 0, n_old_filters = 0, cap_filters = 0;

   /* Not under loggers_lock: fork's prepare takes it after every
    * handler's lock, and a record's walk holds config_lock for reading
    * while it waits for a handler's lock, so an install waiting here for
    * config_lock while holding loggers_lock closed a cycle with a fork.
    * The list is read as _mwatch_logger_find reads it (loggers are
    * published whole and never freed); one created meanwhile has no
    * handlers, and nothing of this configuration to take. */
   pthread_rwlock_wrlock (&config_lock);
   for (mwatch_logger_t *l = __atomic_load_n (&loggers, __ATOMIC_ACQUIRE); l; l = l->next) {
      list_append (&old_handlers, &n_old_handlers, &cap_handlers, (void **) l->handlers,
                   l->handler_count);
      list_append (&old_filters, &n_old_filters, &cap_filters, (void **) l->filters,
                   l->filter_count);
      bson_free (l->handlers);
      bson_free (l->filters);
      l->handlers = NULL;
      l->filters = NULL;
      l->handler_count = l->filter_count = 0;
      bool named = false, below_named = false;
      for (size_t i = 0; i < count; i++) {
         named = named || targets[i] == l;
         below_named = below_named || (targets[i] != &root_logger && is_at_or_below (l, targets[i]));
      }
      mwatch_logger_set_level (l, l == &root_logger ? MWATCH_LEVEL_WARNING : MWATCH_LEVEL_NOTSET);
      atomic_store (&l->propagate, l->default_propagate);
      atomic_store (&l->disabled, disable_existing && !named && !below_named && l != &root_logger);
   }
   for (size_t i = 0; i < count; i++) {
      mwatch_logger_t *l = targets[i];
      const mwatch_logger_setup_t *setup = &setups[i];
      mwatch_logger_set_level (l, setup->level);
      atomic_store (&l->propagate, setup->propagate);
      l->handlers = (mwatch_handler_t **) dup_refs ((void *const *) setup->handlers,
                                                    setup->handler_count, handler_ref);
      l->handler_count = setup->handler_count;
      l->filters = (mwatch_filter_t **) dup_refs ((void *const *) setup->filters,
                                                  setup->filter_count, filter_ref);
      l->filter_count = setup->filter_count;
   }
   pthread_rwlock_unlock (&config_lock);
   /* Handlers, filters and `disabled` changed with the levels. */
   _mwatch_route_generation_bump ();
   bson_free (targets);

   /* No record can reach the old handlers any more: drain and close them
    * (all before releasing any, as mwatch_shutdown does), then release. */
   for (size_t i = 0; i < n_old_handlers; i++) {
      if (handing_over) {
         _mwatch_handler_retire (old_handlers[i]);
      }
      mwatch_handler_close (old_handlers[i]);
   }
   for (size_t i = 0; i < n_old_handlers; i++) {
      mwatch_handler_destroy (old_handlers[i]);
   }
   for (size_t i = 0; i < n_old_filters; i++) {
      mwatch_filter_destroy (old_filters[i]);
   }
   bson_free (old_handlers);
   bson_free (old_filters);
}

/* Taken after the handlers' locks (fork-private.h).  Read-locking
 * config_lock keeps configuration changes out, which is all fork needs:
 * readers only read, and the child gets a fresh lock anyway. */
static void
fork_prepare (void)
{
   pthread_mutex_lock (&loggers_lock);
   pthread_rwlock_rdlock (&config_lock);
}

static void
fork_parent (void)
{
   pthread_rwlock_unlock (&config_lock);
   pthread_mutex_unlock (&loggers_lock);
}

/* Other threads' read locks do not exist in the child, and ours is the
 * only hold left: a fresh lock is the same state (and unlocking one a
 * glibc rwlock counts for readers of threads that are gone would not
 * free it). */
static void
fork_child (void)
{
   pthread_rwlock_init (&config_lock, NULL);
   pthread_mutex_unlock (&loggers_lock);
   _mwatch_thread_info_reset ();
}

/* mwatch_shutdown's part here: the empty configuration, so every handler
 * is detached, drained and closed. */
static void
detach_all (void)
{
   _mwatch_loggers_install (NULL, 0, false, false);
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_LOGGERS, fork_prepare, fork_parent, fork_child);
   _mwatch_shutdown_register (MWATCH_SHUTDOWN_LOGGERS, detach_all);
}
