/* The metrics handler: final records counted per (DB, Collection,
 * Operation) into the table of metrics.c, written as a Prometheus text
 * file for node_exporter's textfile collector.
 *
 * A record costs the thread that emits it (the application's, or a
 * queue's listener) a pass over its message's fields and a table update
 * under metrics_lock: no formatting, no I/O.  The file is written by a
 * thread of the handler's own every interval_sec when something changed,
 * and once more at close, always whole: the text goes into a temporary
 * file in the same folder, is fsync'ed, and is renamed over the file, so
 * that a reader (node_exporter) sees the old file or the new one, never a
 * part.  A write that fails is tried again at the next interval with the
 * counts then: counters are cumulative, so nothing is lost, only late.
 *
 * After fork() the child starts with an empty table (its parent's counts
 * stay its parent's): with "{pid}" in the path it writes a file of its own,
 * its series labelled pid="N"; without, the file is its parent's and the
 * child counts nothing, which it says once. */
#include "handler-private.h"
#include "handler-report-private.h"
#include "fork-private.h"
#include "metrics-private.h"
#include "report-private.h"
#include "thread-private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PID_MARK "{pid}"
/* The longest close waits for the writer to finish a write in progress
 * (a hung file system) before leaving it behind. */
#define CLOSE_TIMEOUT_SEC 5.0

typedef struct metrics_impl {
   struct metrics_impl *next; /* the live list; metrics_lock */
   char *path;                /* as given: may hold {pid} */
   bool per_process;          /* the path holds {pid} */
   double interval_sec;
   /* Guarded by metrics_lock: */
   mwatch_metrics_t table;
   uint64_t changes;    /* records counted */
   bool running;        /* a writer thread of this process exists */
   bool stop;           /* closing: the writer ends */
   bool not_counting;   /* a forked child whose path is its parent's */
   bool drop_reported;  /* max_series reached, said once */
   bool child_reported; /* not_counting, said once */
   bool start_reported; /* the writer could not be started, said once */
   uint64_t not_counted; /* records of a not_counting child */
   pthread_cond_t wake;
   pthread_t thread;
   /* The writer's own (and close's, once the writer ended): */
   uint64_t written;  /* `changes` at the last good write */
   mwatch_buf_t text; /* reused */
   bool failing;      /* a write failed, reported; cleared when one works */
} metrics_impl_t;

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static metrics_impl_t *live;

/* ---------------------------------------------------------------- records */

static bool
utf8_of (const mwatch_value_t *v, const char **str, size_t *len)
{
   if (v->type != MWATCH_TYPE_UTF8) {
      return false;
   }
   *str = v->value.v_utf8.str;
   *len = v->value.v_utf8.len;
   return true;
}

static bool
number_of (const mwatch_value_t *v, double *out)
{
   if (v->type == MWATCH_TYPE_DOUBLE) {
      *out = v->value.v_double;
   } else if (v->type == MWATCH_TYPE_INT64) {
      *out = (double) v->value.v_int64;
   } else {
      return false;
   }
   return true;
}

/* The names of the count fields, in the order of mwatch_metrics_count_t. */
static const char *const count_fields[MWATCH_METRICS_COUNTS] = {
   "MatchedCount", "InsertedCount", "ModifiedCount", "UpsertedCount", "DeletedCount"};

/* Reads a final record's fields in one pass over its message.  False for a
 * record that is not final (a first, update or timeout record: the final
 * one of the operation comes later). */
static bool
read_sample (const mwatch_message_t *msg, mwatch_metrics_sample_t *s)
{
   mwatch_message_iter_t iter;
   const char *key;
   mwatch_value_t v;
   const char *state = NULL;
   size_t state_len = 0;

   memset (s, 0, sizeof *s);
   s->db = s->collection = s->operation = "";
   mwatch_message_iter_init (&iter, msg);
   while (mwatch_message_iter_next (&iter, &key, &v)) {
      switch (key[0]) {
      case 'S':
         if (strcmp (key, "State") == 0) {
            utf8_of (&v, &state, &state_len);
         }
         break;
      case 'D':
         if (strcmp (key, "DB") == 0) {
            utf8_of (&v, &s->db, &s->db_len);
         } else if (strcmp (key, "Duration") == 0) {
            s->has_duration = number_of (&v, &s->duration_sec);
         } else if (strcmp (key, "DeletedCount") == 0 && v.type == MWATCH_TYPE_INT64) {
            s->has_count[MWATCH_METRICS_DELETED] = true;
            s->count[MWATCH_METRICS_DELETED] = v.value.v_int64;
         }
         break;
      case 'C':
         if (strcmp (key, "Collection") == 0) {
            utf8_of (&v, &s->collection, &s->collection_len);
         }
         break;
      case 'O':
         if (strcmp (key, "Operation") == 0) {
            utf8_of (&v, &s->operation, &s->operation_len);
         }
         break;
      case 'E':
         if (strcmp (key, "Error") == 0) {
            s->error = true;
         }
         break;
      default:
         for (int k = 0; k < MWATCH_METRICS_COUNTS; k++) {
            if (v.type == MWATCH_TYPE_INT64 && strcmp (key, count_fields[k]) == 0) {
               s->has_count[k] = true;
               s->count[k] = v.value.v_int64;
            }
         }
         break;
      }
   }
   if (state) {
      return state_len == 5 && memcmp (state, "final", 5) == 0;
   }
   return mwatch_message_is_ready (msg); /* a record of the user's own */
}

/* ---------------------------------------------------------------- the file */

/* The path with each {pid} replaced by this process's id. */
static char *
expand_path (const metrics_impl_t *impl)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   char pid[24];
   bson_snprintf (pid, sizeof pid, "%d", (int) getpid ());
   for (const char *p = impl->path; *p;) {
      if (strncmp (p, PID_MARK, sizeof PID_MARK - 1) == 0) {
         mwatch_buf_append_str (&out, pid);
         p += sizeof PID_MARK - 1;
      } else {
         mwatch_buf_append (&out, p, 1);
         p++;
      }
   }
   return out.data;
}

/* Writes `text` to `path` whole: a temporary file beside it (not ending in
 * .prom, which node_exporter would read), fsync, rename.  0 or errno, with
 * `step` naming what failed. */
static int
write_whole (const char *path, const mwatch_buf_t *text, const char **step)
{
   char *slash = strrchr (path, '/');
   char *tmp = slash ? bson_strdup_printf ("%.*s/.%s.%d.tmp", (int) (slash - path), path,
                                           slash + 1, (int) getpid ())
                     : bson_strdup_printf (".%s.%d.tmp", path, (int) getpid ());
   int err = 0;
   /* 0644: node_exporter runs as a user of its own. */
   int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
   *step = "create";
   if (fd < 0) {
      err = errno;
      goto done;
   }
   *step = "write";
   for (size_t off = 0; off < text->len;) {
      ssize_t n = write (fd, text->data + off, text->len - off);
      if (n < 0 && errno == EINTR) {
         continue;
      }
      if (n <= 0) {
         err = n < 0 ? errno : EIO;
         break;
      }
      off += (size_t) n;
   }
   if (!err) {
      *step = "fsync";
      err = fsync (fd) == 0 ? 0 : errno;
   }
   if (close (fd) != 0 && !err) {
      *step = "close";
      err = errno;
   }
   if (!err) {
      *step = "rename";
      err = rename (tmp, path) == 0 ? 0 : errno;
   }
   if (err) {
      unlink (tmp);
   }
done:
   bson_free (tmp);
   return err;
}

/* Renders the table (under metrics_lock, held by the caller) into
 * impl->text; returns `changes` at that moment. */
static uint64_t
render_locked (metrics_impl_t *impl)
{
   char pid[32];
   mwatch_buf_clear (&impl->text);
   if (impl->per_process) {
      bson_snprintf (pid, sizeof pid, "pid=\"%d\"", (int) getpid ());
   }
   _mwatch_metrics_render_prometheus (&impl->table, impl->per_process ? pid : NULL, &impl->text);
   return impl->changes;
}

/* Writes impl->text, reporting a failure once and the first write that
 * works after one; `closing`: the loggers are going, report on stderr. */
static bool
write_text (metrics_impl_t *impl, bool closing)
{
   char *path = expand_path (impl);
   const char *step = "";
   int err = write_whole (path, &impl->text, &step);
   char buf[128];
   char *text = NULL;
   if (err && !impl->failing) {
      impl->failing = true;
      text = bson_strdup_printf ("metrics file \"%s\": cannot %s it: %s; the counts are kept and "
                                 "written again every interval until it works",
                                 path, step, bson_strerror_r (err, buf, sizeof buf));
   } else if (!err && impl->failing) {
      impl->failing = false;
      text = bson_strdup_printf ("metrics file \"%s\" is written again", path);
   }
   if (text) {
      _mwatch_stats_report (text, closing);
      bson_free (text);
   }
   bson_free (path);
   return err == 0;
}

static void *
writer_main (void *arg)
{
   metrics_impl_t *impl = arg;
   pthread_mutex_lock (&metrics_lock);
   while (!impl->stop) {
      int64_t due = mwatch_monotonic_us () + (int64_t) (impl->interval_sec * 1e6);
      struct timespec at = _mwatch_timespec_at (due);
      while (!impl->stop && mwatch_monotonic_us () < due) {
         pthread_cond_timedwait (&impl->wake, &metrics_lock, &at);
      }
      if (impl->stop || impl->changes == impl->written) {
         continue;
      }
      uint64_t changes = render_locked (impl);
      pthread_mutex_unlock (&metrics_lock);
      bool ok = write_text (impl, false);
      pthread_mutex_lock (&metrics_lock);
      if (ok) {
         impl->written = changes;
      }
   }
   pthread_mutex_unlock (&metrics_lock);
   return NULL;
}

/* ---------------------------------------------------------------- the handler */

static void
metrics_emit (void *data, mwatch_handler_t *handler, mwatch_record_t *record)
{
   metrics_impl_t *impl = data;
   mwatch_metrics_sample_t sample;
   bool report_drop = false, report_child = false, report_start = false;
   BSON_UNUSED (handler);

   if (!record->watch || !read_sample (record->watch, &sample)) {
      return;
   }
   pthread_mutex_lock (&metrics_lock);
   if (impl->not_counting) {
      impl->not_counted++;
      report_child = !impl->child_reported;
      impl->child_reported = true;
   } else {
      if (_mwatch_metrics_add (&impl->table, &sample)) {
         impl->changes++;
      } else {
         report_drop = !impl->drop_reported;
         impl->drop_reported = true;
      }
      /* Started at the first record, not by the constructor: a
       * configuration only checked (mongowatch check-config) writes
       * nothing, and a forked child starts its own here. */
      if (!impl->running && !impl->stop) {
         impl->running = _mwatch_thread_start (&impl->thread, writer_main, impl);
         report_start = !impl->running && !impl->start_reported;
         impl->start_reported |= report_start;
      }
   }
   size_t max_series = impl->table.max_series;
   pthread_mutex_unlock (&metrics_lock);

   /* Reports outside metrics_lock, a leaf. */
   char *text = NULL;
   if (report_drop) {
      text = bson_strdup_printf ("metrics file \"%s\": %zu (DB, Collection, Operation) series "
                                 "(max_series) reached; records of new ones are not counted, "
                                 "see mongowatch_metrics_records_dropped_total",
                                 impl->path, max_series);
   } else if (report_child) {
      text = bson_strdup_printf ("metrics file \"%s\" is written by the process that configured "
                                 "it; process %d, its child by fork(), does not count its "
                                 "records (put {pid} in the filename for a file per process)",
                                 impl->path, (int) getpid ());
   } else if (report_start) {
      text = bson_strdup_printf ("metrics file \"%s\": cannot start the thread that writes it; "
                                 "it is written at close only", impl->path);
   }
   if (text) {
      _mwatch_stats_report (text, false);
      bson_free (text);
   }
}

static void
metrics_close (void *data, mwatch_handler_t *handler)
{
   metrics_impl_t *impl = data;

   pthread_mutex_lock (&metrics_lock);
   impl->stop = true;
   bool running = impl->running;
   bool counted = impl->changes > 0 && !impl->not_counting;
   pthread_cond_broadcast (&impl->wake);
   pthread_mutex_unlock (&metrics_lock);

   if (running) {
      if (!_mwatch_thread_join_within (impl->thread, CLOSE_TIMEOUT_SEC)) {
         /* Stuck in a write (a hung file system): leave it, and the
          * handler with it, to the process's end. */
         _mwatch_handler_keep (handler);
         pthread_detach (impl->thread);
         _mwatch_report ("metrics file \"%s\": its writer did not finish within %.0f s at "
                         "close; the last counts may not be written", impl->path,
                         CLOSE_TIMEOUT_SEC);
         return;
      }
      pthread_mutex_lock (&metrics_lock);
      impl->running = false;
      pthread_mutex_unlock (&metrics_lock);
   }
   /* The last counts, on the closing thread, the writer being gone. */
   if (counted) {
      pthread_mutex_lock (&metrics_lock);
      bool changed = impl->changes != impl->written;
      uint64_t changes = changed ? render_locked (impl) : 0;
      pthread_mutex_unlock (&metrics_lock);
      if (changed && write_text (impl, true)) {
         impl->written = changes;
      }
   }
   if (impl->table.dropped > 0) {
      _mwatch_report ("metrics file \"%s\": %" PRIu64 " records not counted in all "
                      "(max_series %zu reached)", impl->path, impl->table.dropped,
                      impl->table.max_series);
   }
   if (impl->not_counted > 0) {
      _mwatch_report ("metrics file \"%s\": %" PRIu64 " records of process %d (a child by fork) "
                      "not counted", impl->path, impl->not_counted, (int) getpid ());
   }
}

static void
metrics_destroy (void *data)
{
   metrics_impl_t *impl = data;

   pthread_mutex_lock (&metrics_lock);
   for (metrics_impl_t **p = &live; *p; p = &(*p)->next) {
      if (*p == impl) {
         *p = impl->next;
         break;
      }
   }
   pthread_mutex_unlock (&metrics_lock);
   _mwatch_metrics_destroy (&impl->table);
   mwatch_buf_destroy (&impl->text);
   pthread_cond_destroy (&impl->wake);
   bson_free (impl->path);
   bson_free (impl);
}

static const mwatch_handler_vtable_t metrics_vtable = {
   .emit = metrics_emit,
   .flush = NULL, /* the file is written every interval and at close */
   .close = metrics_close,
   .destroy = metrics_destroy,
   .deferred = false,
};

/* The child has no writer (threads do not cross fork) and its parent's
 * counts: it starts afresh. */
static void
fork_child (void)
{
   for (metrics_impl_t *impl = live; impl; impl = impl->next) {
      _mwatch_metrics_reset (&impl->table);
      _mwatch_cond_init_monotonic (&impl->wake);
      impl->running = false;
      impl->changes = 0;
      impl->written = 0;
      impl->failing = false;
      impl->drop_reported = impl->child_reported = impl->start_reported = false;
      impl->not_counted = 0;
      impl->not_counting = !impl->per_process;
   }
}

MWATCH_FORK_INIT (metrics_fork_init)
{
   _mwatch_fork_register_mutex (MWATCH_FORK_RANK_METRICS, &metrics_lock, fork_child);
}

void
mwatch_metrics_handler_opts_init (mwatch_metrics_handler_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->interval_sec = MWATCH_METRICS_DEFAULT_INTERVAL_SEC;
   opts->max_series = MWATCH_METRICS_DEFAULT_MAX_SERIES;
}

mwatch_handler_t *
mwatch_handler_new_metrics (const char *path,
                            const mwatch_metrics_handler_opts_t *opts,
                            bson_error_t *error)
{
   mwatch_metrics_handler_opts_t defaults;
   char buf[128];

   if (!opts) {
      mwatch_metrics_handler_opts_init (&defaults);
      opts = &defaults;
   }
   if (!path || !*path) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "the metrics handler needs the path of its file");
      return NULL;
   }
   if (!(opts->interval_sec >= 0.001 && opts->interval_sec <= 86400)) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "metrics interval_sec %g is not between 0.001 and 86400", opts->interval_sec);
      return NULL;
   }
   if (opts->max_series < 1 || opts->max_series > MWATCH_METRICS_MAX_SERIES_LIMIT) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "metrics max_series %zu is not between 1 and %d", opts->max_series,
                      MWATCH_METRICS_MAX_SERIES_LIMIT);
      return NULL;
   }
   /* The folder must take the temporary file and the rename: checked now,
    * so that a wrong path fails the configuration, naming it, rather than
    * every write later. */
   const char *slash = strrchr (path, '/');
   char *dir = slash ? bson_strndup (path, slash == path ? 1 : (size_t) (slash - path))
                     : bson_strdup (".");
   struct stat st;
   int err = 0;
   if (stat (dir, &st) != 0) {
      err = errno;
   } else if (!S_ISDIR (st.st_mode)) {
      err = ENOTDIR;
   } else if (access (dir, W_OK | X_OK) != 0) {
      err = errno;
   }
   if (err) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "metrics file \"%s\": cannot write in its folder \"%s\": %s", path, dir,
                      bson_strerror_r (err, buf, sizeof buf));
      bson_free (dir);
      return NULL;
   }
   bson_free (dir);

   metrics_impl_t *impl = bson_malloc0 (sizeof *impl);
   impl->path = bson_strdup (path);
   impl->per_process = strstr (path, PID_MARK) != NULL;
   impl->interval_sec = opts->interval_sec;
   _mwatch_metrics_init (&impl->table, opts->max_series);
   _mwatch_cond_init_monotonic (&impl->wake);
   mwatch_buf_init (&impl->text);
   pthread_mutex_lock (&metrics_lock);
   impl->next = live;
   live = impl;
   pthread_mutex_unlock (&metrics_lock);
   return mwatch_handler_new (&metrics_vtable, impl);
}
