/* The rate filter: one record per window instead of every record.
 *
 * A window begins with the first record and takes in every record until
 * output_rate_sec have passed; the first record to come after that is
 * kept and carries the window's sums and rates, and begins the next window
 * with its own values.  So every record counts in exactly one window and
 * the kept record reports on the records before it, not on itself.
 *
 * With ignore_intermediates (the default, as pymongowatch's), only final
 * records count: an operation's first, update and timeout records would
 * count it several times over (a cursor's MatchedCount so far in each),
 * so they are dropped without adding anything.  A record is final when
 * its message is ready (mwatch_message_is_ready).
 *
 * With extra_timeout_sec (pymongowatch's; its RateFilter's default is
 * half of output_rate_sec) a window that no record closes is reported
 * too: the filter holds a copy of the window's last counted record, and
 * when output_rate_sec + extra_timeout_sec have passed since the window
 * began, or when the queue handler it sits on closes, that copy leaves
 * with the window's figures (as if the window lasted output_rate_sec) and
 * the next record begins a new window.  A record closing the window in
 * time makes the copy needless; it then counts in the window it closes
 * (pymongowatch's way), so that every window ends with a record of its
 * own.  A queue handler's listener hands the copies out when due and when
 * the queue closes; a plain handler only when it closes
 * (_mwatch_filter_rate_release): pymongowatch's RateFilter too times out
 * only on its QueueHandler.  A copy that nothing handed out (the filter on
 * a logger) is reported as lost when the filter goes.
 *
 * The state is shared by every thread that runs the filter (a logger's
 * filter runs on each logging thread), hence the mutex. */
#include "filter-private.h"
#include "fork-private.h"
#include "report-private.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef struct {
   int64_t v_int64;
   double v_double;
   bool is_double; /* a double was added, or the integers overflowed */
} sum_t;

typedef struct rate_filter {
   pthread_mutex_t lock;
   double period_us;
   size_t count;
   char **fields;
   char **rate_names; /* fields[i] + "Rate" */
   char **sum_names;  /* fields[i] + "Sum" */
   sum_t *sums;  /* the window going on */
   sum_t *spare; /* the next window's, while the record closing one is read */
   bool started;
   int64_t start;
   int64_t records;
   bool ignore_intermediates;
   /* pymongowatch's RateFilter: the rate also replaces the field itself
    * (rounded, with `suffix`), and records without the fields pass. */
   bool rate_in_field;
   char *suffix;
   bool pass_unrelated;
   bool ignore_nones;
   /* extra_timeout_sec, < 0 for none; and the record held for a timed
    * report of the window going on (held.watch NULL: none). */
   int64_t extra_us;
   mwatch_record_t held;
   int64_t held_due;
   /* Every rate filter, for fork(). */
   struct rate_filter *prev;
   struct rate_filter *next;
} rate_filter_t;

/* fork() takes every rate filter's lock: a logger's filters run under
 * config_lock read, which fork's prepare only shares, so a thread may be
 * inside one when the process is copied. */
static pthread_mutex_t rates_lock = PTHREAD_MUTEX_INITIALIZER;
static rate_filter_t *rates;

static void
rates_fork_prepare (void)
{
   pthread_mutex_lock (&rates_lock);
   for (rate_filter_t *f = rates; f; f = f->next) {
      pthread_mutex_lock (&f->lock);
   }
}

static void
rates_fork_release (void)
{
   for (rate_filter_t *f = rates; f; f = f->next) {
      pthread_mutex_unlock (&f->lock);
   }
   pthread_mutex_unlock (&rates_lock);
}

static void
held_free (rate_filter_t *f)
{
   mwatch_message_destroy (f->held.watch);
   bson_free ((char *) f->held.text);
   memset (&f->held, 0, sizeof f->held);
}

/* The child's copy of a held record is the parent's to report. */
static void
rates_fork_child (void)
{
   for (rate_filter_t *f = rates; f; f = f->next) {
      held_free (f);
   }
   rates_fork_release ();
}

MWATCH_FORK_INIT (rates_fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_RATE_FILTERS, rates_fork_prepare, rates_fork_release,
                          rates_fork_child);
}

static const char *const default_fields[] = {
   "MatchedCount", "InsertedCount", "UpsertedCount", "ModifiedCount", "DeletedCount", NULL,
};

static int64_t (*_Atomic rate_clock) (void) = mwatch_monotonic_us;

void
_mwatch_filter_rate_set_clock (int64_t (*clock) (void))
{
   atomic_store (&rate_clock, clock ? clock : mwatch_monotonic_us);
}

static void
sum_add (sum_t *sum, const mwatch_value_t *value)
{
   if (value->type == MWATCH_TYPE_DOUBLE) {
      if (!sum->is_double) {
         sum->is_double = true;
         sum->v_double = (double) sum->v_int64;
      }
      sum->v_double += value->value.v_double;
   } else if (value->type == MWATCH_TYPE_INT64) {
      int64_t total;
      if (sum->is_double) {
         sum->v_double += (double) value->value.v_int64;
      } else if (__builtin_add_overflow (sum->v_int64, value->value.v_int64, &total)) {
         /* Beyond int64 a double is the best there is. */
         sum->is_double = true;
         sum->v_double = (double) sum->v_int64 + (double) value->value.v_int64;
      } else {
         sum->v_int64 = total;
      }
   }
   /* Anything else (missing, text, null) adds nothing. */
}

/* Adds the record's fields into `sums`. */
static void
add_record (const rate_filter_t *f, sum_t *sums, const mwatch_message_t *msg)
{
   for (size_t i = 0; i < f->count; i++) {
      mwatch_value_t value;
      if (mwatch_message_get (msg, f->fields[i], &value)) {
         sum_add (&sums[i], &value);
      }
   }
}

/* Writes the window's figures into the record that closes it. */
static void
window_report (const rate_filter_t *f, double seconds, mwatch_message_t *msg)
{
   for (size_t i = 0; i < f->count; i++) {
      const sum_t *sum = &f->sums[i];
      double total = sum->is_double ? sum->v_double : (double) sum->v_int64;
      mwatch_message_set_double (msg, f->rate_names[i], total / seconds);
      if (sum->is_double) {
         mwatch_message_set_double (msg, f->sum_names[i], sum->v_double);
      } else {
         mwatch_message_set_int64 (msg, f->sum_names[i], sum->v_int64);
      }
   }
   for (size_t i = 0; f->rate_in_field && i < f->count; i++) {
      const sum_t *sum = &f->sums[i];
      double total = sum->is_double ? sum->v_double : (double) sum->v_int64;
      /* Python's round(): halves to even, as nearbyint's default mode. */
      double rounded = nearbyint (total / seconds);
      int64_t rate = rounded >= -9.2e18 && rounded <= 9.2e18 ? (int64_t) rounded : 0;
      if (f->suffix) {
         char *text = bson_strdup_printf ("%" PRId64 "%s", rate, f->suffix);
         mwatch_message_set_utf8 (msg, f->fields[i], text);
         bson_free (text);
      } else {
         mwatch_message_set_int64 (msg, f->fields[i], rate);
      }
   }
   mwatch_message_set_double (msg, "RateWindow", seconds);
   mwatch_message_set_int64 (msg, "RateRecords", f->records);
}

/* The record has one of the fields (not null, with ignore_nones). */
static bool
related (const rate_filter_t *f, const mwatch_message_t *msg)
{
   for (size_t i = 0; i < f->count; i++) {
      mwatch_value_t value;
      if (mwatch_message_get (msg, f->fields[i], &value) &&
          (!f->ignore_nones || value.type != MWATCH_TYPE_NULL)) {
         return true;
      }
   }
   return false;
}

static bool
rate_filter (void *impl, mwatch_filter_t *self, mwatch_record_t *record)
{
   BSON_UNUSED (self);
   rate_filter_t *f = impl;
   mwatch_message_t *msg = record->watch;
   bool keep = false;

   /* A plain text line has nothing to add up: it goes through. */
   if (!msg) {
      return true;
   }
   if (f->pass_unrelated && !related (f, msg)) {
      return true;
   }
   if (f->ignore_intermediates && !mwatch_message_is_ready (msg)) {
      return false;
   }
   pthread_mutex_lock (&f->lock);
   /* Read under the lock, so that the threads see time go forward. */
   int64_t now = atomic_load (&rate_clock) ();
   if (f->started && (double) (now - f->start) >= f->period_us && f->extra_us >= 0) {
      /* Timed windows end with the record that closes one, as
       * pymongowatch's: every window, the last too, is reported by a
       * record of its own (held or closing). */
      add_record (f, f->sums, msg);
      f->records++;
      window_report (f, (double) (now - f->start) / 1e6, msg);
      memset (f->sums, 0, f->count * sizeof *f->sums);
      f->started = false;
      f->records = 0;
      keep = true;
   } else if (f->started && (double) (now - f->start) >= f->period_us) {
      /* The record's own values go into the next window; read them before
       * the report writes into the record, in case a field's figures bear
       * the name of another field. */
      memset (f->spare, 0, f->count * sizeof *f->spare);
      add_record (f, f->spare, msg);
      /* The window lasted at least period_us > 0, so seconds > 0. */
      window_report (f, (double) (now - f->start) / 1e6, msg);
      sum_t *done = f->sums;
      f->sums = f->spare;
      f->spare = done;
      f->start = now;
      f->records = 1;
      keep = true;
   } else {
      if (!f->started) {
         f->started = true;
         f->start = now;
      }
      add_record (f, f->sums, msg);
      f->records++;
      if (f->extra_us >= 0) {
         /* The window's last record so far, for a report at its due
          * time (see _mwatch_filter_rate_release). */
         held_free (f);
         f->held = *record;
         f->held.text = record->text ? bson_strdup (record->text) : NULL;
         f->held.watch = mwatch_message_copy (msg);
         f->held_due = f->start + (int64_t) f->period_us + f->extra_us;
      }
   }
   if (keep) {
      held_free (f); /* the window is reported: its held record is not needed */
   }
   pthread_mutex_unlock (&f->lock);
   return keep;
}

/* The filter behind `filter` when it is a rate filter, else NULL. */
static rate_filter_t *rate_impl (mwatch_filter_t *filter);

bool
_mwatch_filter_rate_holds (mwatch_filter_t *filter)
{
   rate_filter_t *f = rate_impl (filter);
   return f && f->extra_us >= 0;
}

bool
_mwatch_filter_rate_release (mwatch_filter_t *filter, bool closing, mwatch_record_t *out, int64_t *due)
{
   rate_filter_t *f = rate_impl (filter);
   bool released = false;
   if (!f || f->extra_us < 0) {
      return false;
   }
   pthread_mutex_lock (&f->lock);
   if (f->held.watch && (closing || atomic_load (&rate_clock) () >= f->held_due)) {
      window_report (f, f->period_us / 1e6, f->held.watch);
      *out = f->held;
      memset (&f->held, 0, sizeof f->held);
      memset (f->sums, 0, f->count * sizeof *f->sums);
      f->started = false;
      f->records = 0;
      released = true;
   } else if (f->held.watch && f->held_due < *due) {
      *due = f->held_due;
   }
   pthread_mutex_unlock (&f->lock);
   return released;
}

static void
rate_destroy (void *impl)
{
   rate_filter_t *f = impl;

   pthread_mutex_lock (&rates_lock);
   if (f->prev) {
      f->prev->next = f->next;
   } else {
      rates = f->next;
   }
   if (f->next) {
      f->next->prev = f->prev;
   }
   pthread_mutex_unlock (&rates_lock);
   if (f->held.watch) {
      /* Not lost silently: nothing handed it out before the filter went. */
      _mwatch_report ("rate filter: the window going on (%" PRId64
                      " records) was not written: extra_timeout_sec reports a window only "
                      "from a handler's filters, not a logger's",
                      f->records);
      held_free (f);
   }
   pthread_mutex_destroy (&f->lock);
   _mwatch_names_free (f->fields);
   _mwatch_names_free (f->rate_names);
   _mwatch_names_free (f->sum_names);
   bson_free (f->suffix);
   bson_free (f->sums);
   bson_free (f->spare);
   bson_free (f);
}

static const mwatch_filter_vtable_t rate_vtable = {
   .filter = rate_filter,
   .destroy = rate_destroy,
};

static rate_filter_t *
rate_impl (mwatch_filter_t *filter)
{
   return _mwatch_filter_impl_of (filter, &rate_vtable);
}

mwatch_filter_t *
mwatch_filter_new_rate (double output_rate_sec, const char *const *fields, bson_error_t *error)
{
   return mwatch_filter_new_rate_ex (output_rate_sec, fields, true, error);
}

mwatch_filter_t *
mwatch_filter_new_rate_ex (double output_rate_sec,
                           const char *const *fields,
                           bool ignore_intermediates,
                           bson_error_t *error)
{
   mwatch_rate_opts_t opts;
   mwatch_rate_opts_init (&opts);
   opts.output_rate_sec = output_rate_sec;
   opts.fields = fields;
   opts.ignore_intermediates = ignore_intermediates;
   return mwatch_filter_new_rate_opts (&opts, error);
}

void
mwatch_rate_opts_init (mwatch_rate_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->ignore_intermediates = true;
   opts->ignore_nones = true;
   opts->extra_timeout_sec = -1;
}

mwatch_filter_t *
mwatch_filter_new_rate_opts (const mwatch_rate_opts_t *opts, bson_error_t *error)
{
   rate_filter_t *f;
   double output_rate_sec = opts->output_rate_sec;
   const char *const *fields = opts->fields;

   if (!(output_rate_sec > 0) || !isfinite (output_rate_sec)) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "rate filter: output_rate_sec is %g; it must be a positive number of "
                      "seconds, such as 60",
                      output_rate_sec);
      return NULL;
   }
   if (!(opts->extra_timeout_sec < 1e9)) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "rate filter: extra_timeout_sec is %g; it must be a number of seconds "
                      "below 1e9 (negative: none)",
                      opts->extra_timeout_sec);
      return NULL;
   }
   if (!_mwatch_names_check (fields, "rate filter: fields", error)) {
      return NULL;
   }
   f = bson_malloc0 (sizeof *f);
   pthread_mutex_init (&f->lock, NULL);
   f->period_us = output_rate_sec * 1e6;
   f->ignore_intermediates = opts->ignore_intermediates;
   f->rate_in_field = opts->rate_in_field;
   f->suffix = opts->rate_in_field && opts->suffix ? bson_strdup (opts->suffix) : NULL;
   f->pass_unrelated = opts->pass_unrelated;
   f->ignore_nones = opts->ignore_nones;
   f->extra_us = opts->extra_timeout_sec >= 0 ? (int64_t) (opts->extra_timeout_sec * 1e6) : -1;
   f->fields = _mwatch_names_copy (fields ? fields : default_fields, &f->count);
   f->rate_names = bson_malloc0 ((f->count + 1) * sizeof *f->rate_names);
   f->sum_names = bson_malloc0 ((f->count + 1) * sizeof *f->sum_names);
   for (size_t i = 0; i < f->count; i++) {
      f->rate_names[i] = bson_strdup_printf ("%sRate", f->fields[i]);
      f->sum_names[i] = bson_strdup_printf ("%sSum", f->fields[i]);
   }
   /* One more than needed, so that an empty list still gets a block. */
   f->sums = bson_malloc0 ((f->count + 1) * sizeof *f->sums);
   f->spare = bson_malloc0 ((f->count + 1) * sizeof *f->spare);
   pthread_mutex_lock (&rates_lock);
   f->next = rates;
   if (rates) {
      rates->prev = f;
   }
   rates = f;
   pthread_mutex_unlock (&rates_lock);
   return mwatch_filter_new (&rate_vtable, f);
}
