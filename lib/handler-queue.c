/* The queue handler and its listener thread.  On the application's thread
 * emit only puts the record into a WatchQueue: a stub when its message is
 * not built yet (a watcher's record) or its operation is still running, a
 * copy otherwise.  The listener takes records out when they are due,
 * builds a stub's message, and hands them to the backend handler, where
 * the filters, the formatting and the I/O happen. */
#include "thread-private.h"
#include "fast-tls-private.h"
#include "handler-private.h"
#include "logger-private.h"
#include "shutdown-private.h"
#include "fork-private.h"
#include "handler-report-private.h"
#include "message-private.h"
#include "queue-private.h"
#include "record-private.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* What the queue carries beside each message: the record minus its
 * message.  The logger name needs no copy: loggers are never freed. */
typedef struct {
   const char *name;
   int level;
   int timeout_level;
   int64_t created;
   int64_t thread;
   int64_t process;
   char *text;
   bool has_watch;
   /* Below its logger's level: kept only to time the operation out. */
   bool below_level;
   /* The message is a stub: the live operation builds the record's
    * message from `snap` when it leaves the queue ready. */
   bool lazy;
   mwatch_live_t *live; /* the running operation, or NULL */
   mwatch_live_snapshot_t snap;
} queued_record_t;

typedef struct queue_handler {
   mwatch_queue_t *queue;
   mwatch_handler_t *self; /* the handler this is the implementation of */
   mwatch_handler_t *backend;
   pthread_t listener;
   bool listening;
   double shutdown_timeout_sec;
   int64_t stats_interval_us;
   /* The listener's own: when it next looks at the drop counts, and what
    * it reported last. */
   int64_t next_report;
   uint64_t reported_dropped;
   /* Closing ran out of time: the listener, stuck in its backend, is left
    * to the process's end with the queue and the backend (never freed),
    * and discards whatever it still finds. */
   atomic_bool abandoned;
   /* The listener has a record in its hands (in deliver): one more that
    * such a close loses, unless the listener is stuck in a flush. */
   atomic_bool in_hand;
   /* Records left unwritten by such a close, final ones apart. */
   uint64_t lost_at_close;
   uint64_t lost_final_at_close;
   /* Of lost_at_close, the records the backend held unsent (its vtable's
    * held op). */
   uint64_t held_at_close;
   /* Live queue handlers, for fork(). */
   struct queue_handler *prev;
   struct queue_handler *next;
} queue_handler_t;

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static queue_handler_t *live;

/* Wake-ups left until the end (queue-private.h,
 * _mwatch_queue_handlers_defer_wakes): how deep the thread is in such
 * pairs, and the handlers owed one, each held by a reference until then
 * (a configuration may close and free it meanwhile). */
#define OWED_MAX 4
/* Read and written twice per watched operation, on the application's
 * thread: in the initial-exec model, without a __tls_get_addr call. */
static _Thread_local unsigned defer_depth MWATCH_FAST_TLS;
static _Thread_local unsigned owed_count MWATCH_FAST_TLS;
static _Thread_local mwatch_handler_t *owed_wakes[OWED_MAX] MWATCH_FAST_TLS;

/* Notes that qh's listener is owed a wake-up; with no room left (more
 * queue handlers than a record ever reaches) it is sent at once. */
static void
owe_wake (queue_handler_t *qh)
{
   for (unsigned i = 0; i < owed_count; i++) {
      if (owed_wakes[i] == qh->self) {
         return;
      }
   }
   if (owed_count == OWED_MAX) {
      _mwatch_queue_wake (qh->queue);
      return;
   }
   owed_wakes[owed_count++] = mwatch_handler_ref (qh->self);
}

/* `queued` lives in the message's block (see queue_handler_emit). */
static void
queued_record_free (mwatch_message_t *msg, void *data, void *user_data)
{
   (void) user_data;
   queued_record_t *queued = data;
   if (queued) {
      _mwatch_live_unref (queued->live);
      bson_free (queued->text);
   }
   mwatch_message_destroy (msg);
}

static void
deliver (queue_handler_t *qh, mwatch_message_t *msg, queued_record_t *queued)
{
   mwatch_record_t record = {
      .name = queued->name,
      .level = queued->level,
      .timeout_level = queued->timeout_level,
      .created = queued->created,
      .thread = queued->thread,
      .process = queued->process,
      .text = queued->text,
      .watch = queued->has_watch ? msg : NULL,
   };
   /* The queue's copy: filters change it in place. */
   const mwatch_record_priv_t owned = {.owned = true};
   mwatch_message_t *snapshot = NULL;
   bool keep = true;
   /* Out of the queue before it was ready: the operation timed out, unless
    * its live state says otherwise. */
   if (!mwatch_message_is_ready (msg)) {
      if (queued->live) {
         /* Only a closing queue hands out a record before its due time. */
         bool draining = mwatch_monotonic_us () < mwatch_message_due (msg);
         if (draining && _mwatch_handler_is_retiring (qh->self)) {
            /* A new configuration took over: the operation is not timed
             * out now but handed to it, whose queues time it out later
             * (its final record goes there anyway). */
            _mwatch_logger_hand_over (queued->name, queued->level, queued->timeout_level, msg,
                                      queued->live);
            queued_record_free (msg, queued, NULL);
            return;
         }
         int64_t due;
         switch (_mwatch_live_refresh (queued->live, draining, &snapshot, &due)) {
         case MWATCH_LIVE_REQUEUE:
            _mwatch_message_set_due (msg, due);
            mwatch_queue_put (qh->queue, msg, queued);
            return;
         case MWATCH_LIVE_DROP:
            queued_record_free (msg, queued, NULL);
            return;
         case MWATCH_LIVE_EMIT:
         default:
            /* A fresh record, which its logger's filters have not seen. */
            record.watch = snapshot;
            keep = _mwatch_logger_filter_named (record.name, &record);
            break;
         }
      } else if (record.watch) {
         mwatch_message_set_utf8 (record.watch, "State", "timeout");
      }
      record.level = record.timeout_level;
   } else if (queued->below_level) {
      keep = false; /* never meant to be written as it is */
   } else if (queued->lazy) {
      /* Built here, off the application's thread. */
      snapshot = queued->live->ops->build (queued->live, &queued->snap);
      record.watch = snapshot;
   }
   mwatch_message_t *none;
   if (keep && _mwatch_handler_filter (qh->self, &record, true, &none)) {
      _mwatch_handler_handle (qh->backend, &record, &owned);
   }
   mwatch_message_destroy (snapshot);
   queued_record_free (msg, queued, NULL);
}

/* The handler's name for reports. */
static const char *
display_name (const queue_handler_t *qh)
{
   const char *name = mwatch_handler_get_name (qh->self);
   return name ? name : "(unnamed queue handler)";
}

/* Reports the records dropped since the last report, if any: on the
 * stats logger while running, on stderr when closing (the loggers are
 * detached by then). */
static void
report_drops (queue_handler_t *qh, bool closing)
{
   mwatch_queue_stats_t st;
   mwatch_queue_handler_stats (qh->self, &st);
   if (st.dropped == qh->reported_dropped) {
      return;
   }
   char held[300] = "";
   if (qh->held_at_close) {
      const char *backend = mwatch_handler_get_name (qh->backend);
      bson_snprintf (held, sizeof held, " (%" PRIu64 " of them held by the backend%s%s%s)",
                     qh->held_at_close, backend ? " \"" : "", backend ? backend : "",
                     backend ? "\"" : "");
   }
   char text[800];
   bson_snprintf (text, sizeof text,
                  "handler \"%s\": %" PRIu64 " records dropped in all%s, %" PRIu64
                  " since the last report; %" PRIu64 " of them final (operations missing "
                  "from the log)%s",
                  display_name (qh), st.dropped, held, st.dropped - qh->reported_dropped,
                  st.dropped_ready,
                  qh->lost_at_close ? "; closing ran out of time with records left: raise "
                                      "shutdown_timeout_sec or mend the handler's sink"
                                    : "; the queue was full: raise capacity or max_bytes, or "
                                      "give the handler a faster sink");
   qh->reported_dropped = st.dropped;
   _mwatch_stats_report (text, closing);
}

/* Reports the drops when the interval allows.  Returns how long, in
 * seconds, an idle listener may then sleep: until the next report is
 * allowed when drops are still unreported, else without limit (-1). */
static double
maybe_report (queue_handler_t *qh)
{
   int64_t now = mwatch_monotonic_us ();
   if (now >= qh->next_report) {
      qh->next_report = now + qh->stats_interval_us;
      report_drops (qh, false);
   }
   /* What mwatch_queue_handler_stats counts, without the queue's lock:
    * this runs on every idle turn. */
   if (_mwatch_queue_dropped (qh->queue) + qh->lost_at_close == qh->reported_dropped) {
      return -1;
   }
   return (double) (qh->next_report - now) / 1e6;
}

/* A record a rate filter held for its window, on to the backend. */
static void
deliver_released (void *ctx, mwatch_record_t *record)
{
   queue_handler_t *qh = ctx;
   const mwatch_record_priv_t owned = {.owned = true};
   _mwatch_handler_handle (qh->backend, record, &owned);
}

/* Hands out the windows of the handler's rate filters that are due (all
 * when `closing`); the earliest due time of those still held. */
static int64_t
release_windows (queue_handler_t *qh, bool closing)
{
   return _mwatch_handler_filters_release (qh->self, closing, deliver_released, qh);
}

static void *
listen_loop (void *arg)
{
   queue_handler_t *qh = arg;
   _mwatch_queue_thread_never_waits ();
   unsigned since_check = 0;
   int64_t window_due = INT64_MAX;
   /* The last record taken left the queue empty on a sparse stream. */
   bool alone = false;
   for (;;) {
      mwatch_message_t *msg;
      void *data;
      /* INT64_MIN (after a record) asks without a look at the clock. */
      if (window_due == INT64_MIN || window_due <= mwatch_monotonic_us ()) {
         window_due = release_windows (qh, false);
      }
      /* After a record that came alone, no poll: on a sparse stream it
       * would find nothing (one lock taken and let go of per record).  A
       * record put meanwhile is taken by the get below at once, after
       * the flush, which then writes one record less; every record is
       * still followed by a flush before the listener sleeps. */
      mwatch_queue_status_t status =
         alone ? MWATCH_QUEUE_TIMEOUT : _mwatch_queue_poll (qh->queue, &msg, &data, &alone);
      while (status == MWATCH_QUEUE_TIMEOUT) {
         /* Nothing more due now (or, after a record that came alone,
          * most likely nothing): push out what was written, then wait —
          * no longer than until drops not yet reported may be, or a rate
          * filter's window is. */
         window_due = release_windows (qh, false);
         mwatch_handler_flush (qh->backend);
         double idle = maybe_report (qh);
         if (window_due != INT64_MAX) {
            double until = (double) (window_due - mwatch_monotonic_us ()) / 1e6;
            until = until > 0 ? until : 0;
            idle = idle < 0 || until < idle ? until : idle;
         }
         alone = false;
         status = _mwatch_queue_wait (qh->queue, idle, &msg, &data, &alone);
      }
      if (status != MWATCH_QUEUE_OK) {
         break; /* closed and drained */
      }
      if (atomic_load (&qh->abandoned)) {
         /* Counted by the close that gave up on us. */
         queued_record_free (msg, data, NULL);
         continue;
      }
      atomic_store (&qh->in_hand, true);
      deliver (qh, msg, data);
      atomic_store (&qh->in_hand, false);
      /* The record may have begun a held window: learn its due time. */
      window_due = INT64_MIN;
      if (++since_check == 1024) { /* a queue that never runs dry */
         since_check = 0;
         maybe_report (qh);
      }
   }
   if (!atomic_load (&qh->abandoned)) {
      /* Closed and drained: the windows going on are written now. */
      release_windows (qh, true);
      mwatch_handler_flush (qh->backend);
   }
   return NULL;
}

/* The listener must not take signals meant for the application. */
static void
start_listener (queue_handler_t *qh)
{
   qh->listening = _mwatch_thread_start (&qh->listener, listen_loop, qh);
}

static void
queue_handler_emit_priv (mwatch_handler_t *handler,
                         mwatch_record_t *record,
                         const mwatch_record_priv_t *priv)
{
   queue_handler_t *qh = mwatch_handler_impl (handler);
   /* The queued copy and what the queue carries beside it are one
    * allocation.  A record of a running operation that its watcher keeps
    * live leaves the queue only by timeout, and then with a fresh snapshot
    * of the operation (see deliver): its copy needs no fields, only the
    * WatchID, Iteration and due time by which the queue orders and
    * replaces it.  Everything else is a snapshot whole, since the watcher
    * goes on changing its own message. */
   void *extra;
   mwatch_message_t *msg;
   const mwatch_lazy_record_t *lazy = priv->lazy;
   if (lazy) {
      /* Not built yet: the listener builds it, or the live state gives a
       * snapshot at its timeout. */
      msg = _mwatch_message_stub (lazy->oid, lazy->snap.iteration, lazy->snap.due,
                                  lazy->snap.ready, lazy->charged, sizeof (queued_record_t),
                                  &extra);
   } else {
      bool stub = record->watch && priv->live && !mwatch_message_is_ready (record->watch);
      msg = _mwatch_message_queue_copy (record->watch, !stub, sizeof (queued_record_t), &extra);
   }
   queued_record_t *queued = extra;
   queued->lazy = lazy && lazy->snap.ready;
   if (lazy) {
      queued->snap = lazy->snap;
   }
   queued->name = record->name;
   queued->level = record->level;
   queued->timeout_level = record->timeout_level;
   queued->created = record->created;
   queued->thread = record->thread;
   queued->process = record->process;
   queued->text = record->text ? bson_strdup (record->text) : NULL;
   queued->has_watch = record->watch != NULL || lazy;
   queued->below_level = priv->below_level;
   queued->live = _mwatch_live_ref (priv->live);
   /* Whatever the outcome, the queue owns msg and queued from here. */
   if (!defer_depth) {
      mwatch_queue_put (qh->queue, msg, queued);
      return;
   }
   bool owed;
   _mwatch_queue_put_owing (qh->queue, msg, queued, &owed);
   if (owed) {
      owe_wake (qh);
   }
}

/* ---------------------------------------------------------------- wakes */

void
_mwatch_queue_handlers_defer_wakes (void)
{
   defer_depth++;
}

void
_mwatch_queue_handlers_send_wakes (void)
{
   if (--defer_depth) {
      return;
   }
   for (unsigned i = 0; i < owed_count; i++) {
      queue_handler_t *qh = mwatch_handler_impl (owed_wakes[i]);
      _mwatch_queue_wake (qh->queue);
      mwatch_handler_destroy (owed_wakes[i]);
   }
   owed_count = 0;
}

/* A vtable must have an emit; the handler base calls
 * queue_handler_emit_priv instead, passing a record from outside the
 * pipeline as plain, as this does. */
static void
queue_handler_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   BSON_UNUSED (impl);
   queue_handler_emit_priv (handler, record, &MWATCH_RECORD_PRIV_PLAIN);
}

static void
queue_handler_close (void *impl, mwatch_handler_t *handler)
{
   queue_handler_t *qh = impl;
   mwatch_queue_close (qh->queue);
   if (qh->listening && !pthread_equal (qh->listener, pthread_self ())) {
      /* Waits for the listener to drain the closed queue. */
      if (!_mwatch_thread_join_within (qh->listener, qh->shutdown_timeout_sec)) {
         /* The backend does not take records (a stalled sink): what is
          * still queued, the record in its hands, and those the backend
          * holds unsent (its close, which would count them, is not run)
          * will not be written.  Count them, leave the listener behind,
          * and do not touch the backend's lock, which the listener may
          * hold: its held op reads a counter. */
         mwatch_queue_stats_t st;
         mwatch_queue_stats (qh->queue, &st);
         const mwatch_handler_vtable_t *bvt = _mwatch_handler_vtable (qh->backend);
         qh->held_at_close =
            bvt->held ? bvt->held (mwatch_handler_impl (qh->backend), qh->backend) : 0;
         qh->lost_at_close = st.size + atomic_load (&qh->in_hand) + qh->held_at_close;
         qh->lost_final_at_close = _mwatch_queue_count_ready (qh->queue);
         _mwatch_handler_keep (handler);
         atomic_store (&qh->abandoned, true);
         pthread_detach (qh->listener);
         qh->listening = false;
         report_drops (qh, true);
         return;
      }
      qh->listening = false;
   }
   report_drops (qh, true);
   mwatch_handler_close (qh->backend);
}

static void
queue_handler_destroy (void *impl)
{
   queue_handler_t *qh = impl;
   pthread_mutex_lock (&live_lock);
   if (qh->prev) {
      qh->prev->next = qh->next;
   } else {
      live = qh->next;
   }
   if (qh->next) {
      qh->next->prev = qh->prev;
   }
   pthread_mutex_unlock (&live_lock);
   mwatch_queue_destroy (qh->queue);
   mwatch_handler_destroy (qh->backend);
   bson_free (qh);
}

static const mwatch_handler_vtable_t queue_handler_vtable = {
   .emit = queue_handler_emit,
   .close = queue_handler_close,
   .destroy = queue_handler_destroy,
   .deferred = true,
};

void
mwatch_queue_handler_opts_init (mwatch_queue_handler_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->overflow = MWATCH_OVERFLOW_BLOCK;
   opts->block_timeout_sec = 1.0;
   opts->max_bytes = MWATCH_QUEUE_HANDLER_DEFAULT_MAX_BYTES;
   opts->shutdown_timeout_sec = 5.0;
   opts->stats_interval_sec = 10.0;
}

mwatch_handler_t *
mwatch_handler_new_queue (mwatch_handler_t *backend, const mwatch_queue_handler_opts_t *opts)
{
   if (!backend) {
      return NULL;
   }
   mwatch_queue_handler_opts_t defaults;
   if (!opts) {
      mwatch_queue_handler_opts_init (&defaults);
      opts = &defaults;
   }
   mwatch_queue_opts_t qopts;
   mwatch_queue_opts_init (&qopts);
   qopts.capacity = opts->capacity;
   qopts.overflow = opts->overflow;
   qopts.default_delay_sec = opts->default_delay_sec;
   qopts.force_default_delay = opts->force_default_delay;
   qopts.block_timeout_sec = opts->block_timeout_sec;
   qopts.max_bytes = opts->max_bytes;
   qopts.discard = queued_record_free;

   queue_handler_t *qh = bson_malloc0 (sizeof *qh);
   qh->queue = mwatch_queue_new (&qopts);
   qh->backend = mwatch_handler_ref (backend);
   qh->shutdown_timeout_sec = opts->shutdown_timeout_sec > 0 ? opts->shutdown_timeout_sec : 5.0;
   qh->stats_interval_us =
      (int64_t) ((opts->stats_interval_sec > 0 ? opts->stats_interval_sec : 10.0) * 1e6);
   atomic_init (&qh->abandoned, false);
   /* The listener flushes whenever it runs dry; a flush per line would
    * only slow it down. */
   _mwatch_stream_handler_set_autoflush (backend, false);
   _mwatch_shutdown_at_exit ();

   /* The listener runs the handler's filters: it exists first. */
   qh->self = _mwatch_handler_new_priv (&queue_handler_vtable, qh, queue_handler_emit_priv);
   pthread_mutex_lock (&live_lock);
   qh->next = live;
   if (live) {
      live->prev = qh;
   }
   live = qh;
   start_listener (qh);
   pthread_mutex_unlock (&live_lock);
   return qh->self;
}

void
mwatch_queue_handler_stats (mwatch_handler_t *handler, mwatch_queue_stats_t *stats)
{
   if (_mwatch_handler_vtable (handler) != &queue_handler_vtable) {
      memset (stats, 0, sizeof *stats);
      return;
   }
   queue_handler_t *qh = mwatch_handler_impl (handler);
   mwatch_queue_stats (qh->queue, stats);
   stats->dropped += qh->lost_at_close;
   stats->dropped_ready += qh->lost_final_at_close;
}

mwatch_queue_t *
_mwatch_queue_handler_queue (mwatch_handler_t *handler)
{
   if (_mwatch_handler_vtable (handler) != &queue_handler_vtable) {
      return NULL;
   }
   return ((queue_handler_t *) mwatch_handler_impl (handler))->queue;
}

bool
mwatch_queue_handler_stats_by_name (const char *name, mwatch_queue_stats_t *stats)
{
   bool found = false;
   memset (stats, 0, sizeof *stats);
   pthread_mutex_lock (&live_lock);
   for (queue_handler_t *qh = live; qh && !found; qh = qh->next) {
      const char *own = mwatch_handler_get_name (qh->self);
      if (name && own && strcmp (own, name) == 0) {
         mwatch_queue_handler_stats (qh->self, stats);
         found = true;
      }
   }
   pthread_mutex_unlock (&live_lock);
   return found;
}

/* ---------------------------------------------------------------- fork */

static void
fork_prepare (void)
{
   pthread_mutex_lock (&live_lock);
   for (queue_handler_t *qh = live; qh; qh = qh->next) {
      _mwatch_queue_fork_prepare (qh->queue);
   }
}

static void
fork_parent (void)
{
   for (queue_handler_t *qh = live; qh; qh = qh->next) {
      _mwatch_queue_fork_parent (qh->queue);
   }
   pthread_mutex_unlock (&live_lock);
}

/* The child inherits copies of the parent's queued records, which the
 * parent's own listener will write: the child drops its copies, and starts
 * a listener of its own, since threads do not survive fork(). */
static void
fork_child (void)
{
   for (queue_handler_t *qh = live; qh; qh = qh->next) {
      bool was_open = _mwatch_queue_fork_child (qh->queue);
      if (qh->listening && was_open) {
         start_listener (qh);
      } else {
         qh->listening = false;
      }
   }
   pthread_mutex_unlock (&live_lock);
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_QUEUE_HANDLERS, fork_prepare, fork_parent, fork_child);
}
