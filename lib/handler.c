/* The handler base: level, filters, formatter, a lock around the
 * implementation, reference counting, and a registry of live handlers for
 * fork() (fork-private.h). */
#include "fast-tls-private.h"
#include "fork-private.h"
#include "formatter-private.h"
#include "filter-private.h"
#include "handler-private.h"
#include "refcount-private.h"

#include <pthread.h>

struct _mwatch_handler_t {
   const mwatch_handler_vtable_t *vtable;
   void *impl;
   /* The library's deferred handlers: emit with the private part. */
   mwatch_handler_emit_priv_t emit_priv;
   atomic_int refs;
   atomic_int level;
   /* Serializes emit, flush and close, and guards `line`. */
   pthread_mutex_t lock;
   /* Guards the filter list and the formatter, which configuration may
    * change while records pass. */
   pthread_rwlock_t config;
   mwatch_filter_t **filters;
   size_t filter_count;
   /* filter_count, readable without the lock: most handlers have no
    * filter, and then a record need not take the lock at all. */
   atomic_size_t has_filters;
   /* How many of them may hold a record for a window (rate filters with
    * extra_timeout_sec): without one, the listener's look for due windows
    * after each record is this one load. */
   atomic_size_t holding_filters;
   mwatch_formatter_t *formatter; /* NULL: the default one */
   mwatch_buf_t line;
   bool closed;
   char *name; /* for reports; NULL until set */
   /* A thread that cannot be stopped still uses it: never freed. */
   atomic_bool kept;
   /* Closed because a new configuration replaced it (not at shutdown). */
   atomic_bool retiring;
   /* The registry of live handlers. */
   mwatch_handler_t *prev;
   mwatch_handler_t *next;
};

/* The handler whose emit this thread is in, if any. */
static _Thread_local const mwatch_handler_t *emitting MWATCH_FAST_TLS;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static mwatch_handler_t *registry;

static pthread_once_t default_formatter_once = PTHREAD_ONCE_INIT;
static mwatch_formatter_t *default_formatter;

static void
default_formatter_init (void)
{
   default_formatter = mwatch_formatter_new (NULL, NULL, NULL);
}

mwatch_handler_t *
mwatch_handler_new (const mwatch_handler_vtable_t *vtable, void *impl)
{
   if (!vtable || !vtable->emit ||
       !_mwatch_reserved_empty (vtable->reserved, sizeof vtable->reserved / sizeof *vtable->reserved)) {
      return NULL;
   }
   mwatch_handler_t *handler = bson_malloc0 (sizeof *handler);
   handler->vtable = vtable;
   handler->impl = impl;
   atomic_init (&handler->refs, 1);
   atomic_init (&handler->level, MWATCH_LEVEL_NOTSET);
   atomic_init (&handler->has_filters, 0);
   atomic_init (&handler->holding_filters, 0);
   atomic_init (&handler->kept, false);
   atomic_init (&handler->retiring, false);
   pthread_mutex_init (&handler->lock, NULL);
   pthread_rwlock_init (&handler->config, NULL);
   mwatch_buf_init (&handler->line);

   pthread_mutex_lock (&registry_lock);
   handler->next = registry;
   if (registry) {
      registry->prev = handler;
   }
   registry = handler;
   pthread_mutex_unlock (&registry_lock);
   return handler;
}

mwatch_handler_t *
_mwatch_handler_new_priv (const mwatch_handler_vtable_t *vtable,
                          void *impl,
                          mwatch_handler_emit_priv_t emit_priv)
{
   mwatch_handler_t *handler = mwatch_handler_new (vtable, impl);
   if (handler) {
      /* Set before the handler is shared: read without a lock. */
      handler->emit_priv = emit_priv;
   }
   return handler;
}

void *
mwatch_handler_impl (const mwatch_handler_t *handler)
{
   return handler->impl;
}

const mwatch_handler_vtable_t *
_mwatch_handler_vtable (const mwatch_handler_t *handler)
{
   return handler->vtable;
}

void
mwatch_handler_set_name (mwatch_handler_t *handler, const char *name)
{
   /* Set once, before the handler is shared (configuration does it as it
    * builds the handler): readers take no lock. */
   bson_free (handler->name);
   handler->name = name ? bson_strdup (name) : NULL;
}

void
_mwatch_handler_keep (mwatch_handler_t *handler)
{
   atomic_store (&handler->kept, true);
}

void
_mwatch_handler_retire (mwatch_handler_t *handler)
{
   atomic_store (&handler->retiring, true);
}

bool
_mwatch_handler_is_retiring (const mwatch_handler_t *handler)
{
   return atomic_load (&((mwatch_handler_t *) handler)->retiring);
}

const char *
mwatch_handler_get_name (const mwatch_handler_t *handler)
{
   return handler->name;
}

/* Starts at 1, so that a zeroed cache is never current. */
atomic_uint _mwatch_levels_generation = 1;

void
_mwatch_route_generation_bump (void)
{
   atomic_fetch_add_explicit (&_mwatch_levels_generation, 1, memory_order_release);
}

void
mwatch_handler_set_level (mwatch_handler_t *handler, int level)
{
   atomic_store_explicit (&handler->level, level, memory_order_relaxed);
   /* Whether a record's walk wants its message here may change. */
   _mwatch_route_generation_bump ();
}

int
mwatch_handler_get_level (const mwatch_handler_t *handler)
{
   return atomic_load_explicit (&((mwatch_handler_t *) handler)->level, memory_order_relaxed);
}

void
mwatch_handler_set_formatter (mwatch_handler_t *handler, mwatch_formatter_t *formatter)
{
   if (formatter) {
      mwatch_formatter_ref (formatter);
   }
   pthread_rwlock_wrlock (&handler->config);
   mwatch_formatter_t *old = handler->formatter;
   handler->formatter = formatter;
   pthread_rwlock_unlock (&handler->config);
   mwatch_formatter_destroy (old);
}

bool
mwatch_handler_has_formatter (const mwatch_handler_t *handler)
{
   mwatch_handler_t *h = (mwatch_handler_t *) handler;
   pthread_rwlock_rdlock (&h->config);
   bool has = h->formatter != NULL;
   pthread_rwlock_unlock (&h->config);
   return has;
}

void
mwatch_handler_add_filter (mwatch_handler_t *handler, mwatch_filter_t *filter)
{
   mwatch_filter_ref (filter);
   pthread_rwlock_wrlock (&handler->config);
   handler->filters = bson_realloc (handler->filters,
                                    (handler->filter_count + 1) * sizeof *handler->filters);
   handler->filters[handler->filter_count++] = filter;
   atomic_store_explicit (&handler->has_filters, handler->filter_count, memory_order_release);
   if (_mwatch_filter_rate_holds (filter)) {
      atomic_fetch_add_explicit (&handler->holding_filters, 1, memory_order_release);
   }
   pthread_rwlock_unlock (&handler->config);
}

const char *
mwatch_handler_format (mwatch_handler_t *handler, const mwatch_record_t *record, size_t *len)
{
   pthread_rwlock_rdlock (&handler->config);
   const mwatch_formatter_t *formatter = handler->formatter;
   if (!formatter) {
      pthread_once (&default_formatter_once, default_formatter_init);
      formatter = default_formatter;
   }
   mwatch_buf_clear (&handler->line);
   mwatch_formatter_format (formatter, record, &handler->line);
   pthread_rwlock_unlock (&handler->config);
   if (len) {
      *len = handler->line.len;
   }
   return handler->line.data ? handler->line.data : "";
}

/* The level a record must reach this handler with.  A deferred handler may
 * still see a record that is not ready leave by timeout, at its timeout
 * level, so it admits the record if either level passes. */
static int
admission_level (const mwatch_handler_t *handler,
                 const mwatch_record_t *record,
                 const mwatch_record_priv_t *priv)
{
   bool running = priv->lazy ? !priv->lazy->snap.ready
                             : record->watch && !mwatch_message_is_ready (record->watch);
   if (handler->vtable->deferred && running && record->timeout_level > record->level) {
      return record->timeout_level;
   }
   return record->level;
}

bool
_mwatch_handler_needs_message (mwatch_handler_t *handler,
                               const mwatch_record_t *record,
                               const mwatch_record_priv_t *priv)
{
   if (handler->vtable->deferred && handler->emit_priv) {
      /* The library's queue keeps a stub and builds the message on its
       * listener, whatever the record's level: answered before the
       * admission's work, as the most common handler. */
      return false;
   }
   if (admission_level (handler, record, priv) < mwatch_handler_get_level (handler)) {
      return false; /* it will not take the record */
   }
   /* A deferred handler of the user's gets the record whole. */
   return handler->vtable->deferred || !priv->below_level;
}

static bool
filter_apply (mwatch_handler_t *handler,
              mwatch_record_t *record,
              bool owned,
              mwatch_message_t **copy);
static int64_t
release_held (mwatch_handler_t *handler,
              bool closing,
              void (*emit) (void *ctx, mwatch_record_t *record),
              void *ctx);

bool
_mwatch_handler_filter (mwatch_handler_t *handler,
                        mwatch_record_t *record,
                        bool owned,
                        mwatch_message_t **copy)
{
   *copy = NULL;
   if (!atomic_load_explicit (&handler->has_filters, memory_order_acquire)) {
      return true;
   }
   return filter_apply (handler, record, owned, copy);
}

/* _mwatch_handler_filter with filters: apart, so that the usual way (no
 * filter) saves no registers. */
static __attribute__ ((noinline)) bool
filter_apply (mwatch_handler_t *handler,
              mwatch_record_t *record,
              bool owned,
              mwatch_message_t **copy)
{
   if (record->watch && !owned) {
      *copy = mwatch_message_copy (record->watch);
      record->watch = *copy;
   }
   pthread_rwlock_rdlock (&handler->config);
   bool keep = _mwatch_filters_apply (handler->filters, handler->filter_count, record);
   pthread_rwlock_unlock (&handler->config);
   return keep;
}

int64_t
_mwatch_handler_filters_release (mwatch_handler_t *handler,
                                 bool closing,
                                 void (*emit) (void *ctx, mwatch_record_t *record),
                                 void *ctx)
{
   if (!atomic_load_explicit (&handler->holding_filters, memory_order_acquire)) {
      return INT64_MAX;
   }
   return release_held (handler, closing, emit, ctx);
}

/* _mwatch_handler_filters_release with filters that hold records: apart,
 * so that the usual way (none, asked after every record and on every idle
 * turn of a listener) saves no registers. */
static __attribute__ ((noinline)) int64_t
release_held (mwatch_handler_t *handler,
              bool closing,
              void (*emit) (void *ctx, mwatch_record_t *record),
              void *ctx)
{
   int64_t due = INT64_MAX;
   /* Gathered under the lock, handed on after it, as records are. */
   pthread_rwlock_rdlock (&handler->config);
   size_t count = handler->filter_count, released = 0;
   mwatch_record_t *records = bson_malloc0 ((count + 1) * sizeof *records);
   for (size_t i = 0; i < count; i++) {
      mwatch_record_t *record = &records[released];
      if (_mwatch_filter_rate_release (handler->filters[i], closing, record, &due)) {
         /* The filters after the one that held it have not seen it. */
         if (_mwatch_filters_apply (handler->filters + i + 1, count - i - 1, record)) {
            released++;
         } else {
            mwatch_message_destroy (record->watch);
            bson_free ((char *) record->text);
         }
      }
   }
   pthread_rwlock_unlock (&handler->config);
   for (size_t i = 0; i < released; i++) {
      emit (ctx, &records[i]);
      mwatch_message_destroy (records[i].watch);
      bson_free ((char *) records[i].text);
   }
   bson_free (records);
   return due;
}

/* A filtered record into a handler that is not deferred, under its lock. */
static bool
emit_unless_closed (mwatch_handler_t *handler, mwatch_record_t *record)
{
   bool emitted = false;
   pthread_mutex_lock (&handler->lock);
   if (!handler->closed) {
      const mwatch_handler_t *outer = emitting;
      emitting = handler;
      handler->vtable->emit (handler->impl, handler, record);
      emitting = outer;
      emitted = true;
   }
   pthread_mutex_unlock (&handler->lock);
   return emitted;
}

static void
emit_released (void *ctx, mwatch_record_t *record)
{
   emit_unless_closed (ctx, record);
}

bool
mwatch_handler_handle (mwatch_handler_t *handler, mwatch_record_t *record)
{
   /* A record from outside the pipeline (a user's, perhaps on the stack):
    * it has no private part, and is plain. */
   return _mwatch_handler_handle (handler, record, &MWATCH_RECORD_PRIV_PLAIN);
}

bool
_mwatch_handler_handle (mwatch_handler_t *handler,
                        mwatch_record_t *record,
                        const mwatch_record_priv_t *priv)
{
   if (admission_level (handler, record, priv) < mwatch_handler_get_level (handler)) {
      return false;
   }
   /* A record whose message is not built yet (priv->lazy) comes only to
    * handlers that take it so (see _mwatch_handler_needs_message). */
   if (handler->vtable->deferred) {
      /* A deferred handler's emit is thread-safe by itself; taking the lock
       * would serialize every application thread on it.  Its close waits
       * for its own emits.  Its filters run as the record leaves it, on
       * its own copy (see _mwatch_handler_filter). */
      if (handler->emit_priv) {
         handler->emit_priv (handler, record, priv);
      } else {
         if (priv->lazy) {
            /* Its level changed between the walk's look and now: as if
             * the change had come after the record. */
            return false;
         }
         handler->vtable->emit (handler->impl, handler, record);
      }
      return true;
   }
   if (priv->below_level) {
      return false; /* only a queue's bookkeeping wanted it */
   }
   if (priv->lazy) {
      return false; /* as above */
   }
   if (emitting == handler) {
      /* A report of its own failure, logged from inside its emit, coming
       * back to it: it would wait on its own lock. */
      return false;
   }
   /* The filters may change the message: this handler's own record. */
   mwatch_record_t own = *record;
   mwatch_message_t *copy;
   bool emitted = false;
   if (_mwatch_handler_filter (handler, &own, priv->owned, &copy)) {
      emitted = emit_unless_closed (handler, &own);
   }
   mwatch_message_destroy (copy);
   return emitted;
}

void
mwatch_handler_flush (mwatch_handler_t *handler)
{
   if (!handler->vtable->flush) {
      return;
   }
   pthread_mutex_lock (&handler->lock);
   if (!handler->closed) {
      /* A flush may fail and report it, as an emit may: the report must
       * not come back to this handler (see mwatch_handler_handle). */
      const mwatch_handler_t *outer = emitting;
      emitting = handler;
      handler->vtable->flush (handler->impl, handler);
      emitting = outer;
   }
   pthread_mutex_unlock (&handler->lock);
}

void
mwatch_handler_close (mwatch_handler_t *handler)
{
   if (handler->vtable->deferred) {
      /* The queue handler drains into its backend while closing, which
       * takes the backend's lock, not this one; holding ours would only
       * block a concurrent flush. */
      pthread_mutex_lock (&handler->lock);
      bool was_closed = handler->closed;
      handler->closed = true;
      pthread_mutex_unlock (&handler->lock);
      if (!was_closed && handler->vtable->close) {
         handler->vtable->close (handler->impl, handler);
      }
      return;
   }
   /* A rate filter's window going on is written before the end (a queue
    * handler's listener does this for its own filters while draining). */
   _mwatch_handler_filters_release (handler, true, emit_released, handler);
   pthread_mutex_lock (&handler->lock);
   if (!handler->closed) {
      handler->closed = true;
      if (handler->vtable->flush) {
         handler->vtable->flush (handler->impl, handler);
      }
      if (handler->vtable->close) {
         handler->vtable->close (handler->impl, handler);
      }
   }
   pthread_mutex_unlock (&handler->lock);
}

mwatch_handler_t *
mwatch_handler_ref (mwatch_handler_t *handler)
{
   if (handler) {
      atomic_fetch_add_explicit (&handler->refs, 1, memory_order_relaxed);
   }
   return handler;
}

void
mwatch_handler_destroy (mwatch_handler_t *handler)
{
   if (!handler || !_mwatch_unref (&handler->refs)) {
      return;
   }
   pthread_mutex_lock (&registry_lock);
   if (handler->prev) {
      handler->prev->next = handler->next;
   } else {
      registry = handler->next;
   }
   if (handler->next) {
      handler->next->prev = handler->prev;
   }
   pthread_mutex_unlock (&registry_lock);

   /* The last reference: nothing can emit any more, so close (a no-op if
    * closed already) and free. */
   mwatch_handler_close (handler);
   if (atomic_load (&handler->kept)) {
      return;
   }
   if (handler->vtable->destroy) {
      handler->vtable->destroy (handler->impl);
   }
   for (size_t i = 0; i < handler->filter_count; i++) {
      mwatch_filter_destroy (handler->filters[i]);
   }
   bson_free (handler->filters);
   mwatch_formatter_destroy (handler->formatter);
   mwatch_buf_destroy (&handler->line);
   bson_free (handler->name);
   pthread_rwlock_destroy (&handler->config);
   pthread_mutex_destroy (&handler->lock);
   bson_free (handler);
}

/* ---------------------------------------------------------------- fork */

/* Every live handler's lock is taken before fork, so that no handler is
 * half-way through a write in the child, and buffered output is pushed
 * out first so the child does not inherit and write it again. */
static void
fork_prepare (void)
{
   pthread_mutex_lock (&registry_lock);
   for (mwatch_handler_t *h = registry; h; h = h->next) {
      pthread_mutex_lock (&h->lock);
      pthread_rwlock_wrlock (&h->config);
      if (!h->closed && h->vtable->flush && !h->vtable->deferred) {
         h->vtable->flush (h->impl, h);
      }
   }
}

static void
fork_parent (void)
{
   for (mwatch_handler_t *h = registry; h; h = h->next) {
      pthread_rwlock_unlock (&h->config);
      pthread_mutex_unlock (&h->lock);
   }
   pthread_mutex_unlock (&registry_lock);
}

/* Fresh rwlocks rather than unlocks: see the loggers' child hook
 * (logger.c). */
static void
fork_child (void)
{
   for (mwatch_handler_t *h = registry; h; h = h->next) {
      pthread_rwlock_init (&h->config, NULL);
      pthread_mutex_unlock (&h->lock);
   }
   pthread_mutex_unlock (&registry_lock);
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_HANDLERS, fork_prepare, fork_parent, fork_child);
}
