#include "test-capture.h"

#include <string.h>

#include <pthread.h>
#include <time.h>

struct _mwatch_capture_t {
   pthread_mutex_t lock;
   pthread_cond_t cond;
   mwatch_captured_t *records;
   size_t count;
   size_t capacity;
};

static void
capture_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   mwatch_capture_t *cap = impl;
   (void) handler;
   if (!record->watch) {
      return;
   }
   pthread_mutex_lock (&cap->lock);
   if (cap->count == cap->capacity) {
      cap->capacity = cap->capacity ? cap->capacity * 2 : 64;
      cap->records = bson_realloc (cap->records, cap->capacity * sizeof *cap->records);
   }
   mwatch_captured_t *rec = &cap->records[cap->count++];
   rec->logger = bson_strdup (record->name);
   rec->level = record->level;
   rec->msg = mwatch_message_copy (record->watch);
   pthread_cond_broadcast (&cap->cond);
   pthread_mutex_unlock (&cap->lock);
}

static const mwatch_handler_vtable_t capture_vtable = {.emit = capture_emit};

mwatch_capture_t *
capture_start (int level, bool with_queue)
{
   mwatch_capture_t *cap = bson_malloc0 (sizeof *cap);
   pthread_mutex_init (&cap->lock, NULL);
   pthread_cond_init (&cap->cond, NULL);
   mwatch_handler_t *handler = mwatch_handler_new (&capture_vtable, cap);
   mwatch_handler_t *handlers[] = {handler, NULL};
   mwatch_logging_opts_t opts;
   mwatch_logging_opts_init (&opts);
   opts.level = level;
   opts.with_queue = with_queue;
   opts.queue_capacity = 1000000;
   bson_error_t error;
   ck_assert_msg (mwatch_add_logging_handlers (&opts, handlers, &error), "%s", error.message);
   mwatch_logger_set_level (mwatch_logger_get ("mongowatch"), level);
   mwatch_handler_destroy (handler);
   return cap;
}

size_t
capture_await (mwatch_capture_t *cap, size_t n, double seconds)
{
   struct timespec deadline;
   clock_gettime (CLOCK_REALTIME, &deadline);
   int64_t ns = (int64_t) deadline.tv_nsec + (int64_t) (seconds * 1e9);
   deadline.tv_sec += (time_t) (ns / 1000000000);
   deadline.tv_nsec = (long) (ns % 1000000000);
   pthread_mutex_lock (&cap->lock);
   while (cap->count < n) {
      if (pthread_cond_timedwait (&cap->cond, &cap->lock, &deadline) != 0) {
         break;
      }
   }
   size_t count = cap->count;
   pthread_mutex_unlock (&cap->lock);
   return count;
}

void
capture_drain (mwatch_capture_t *cap)
{
   (void) cap;
   mwatch_shutdown ();
}

size_t
capture_count (mwatch_capture_t *cap)
{
   pthread_mutex_lock (&cap->lock);
   size_t count = cap->count;
   pthread_mutex_unlock (&cap->lock);
   return count;
}

const mwatch_captured_t *
capture_get (mwatch_capture_t *cap, size_t i)
{
   pthread_mutex_lock (&cap->lock);
   ck_assert_uint_lt (i, cap->count);
   const mwatch_captured_t *rec = &cap->records[i];
   pthread_mutex_unlock (&cap->lock);
   return rec;
}

size_t
capture_finals (mwatch_capture_t *cap, const char *operation, const mwatch_captured_t **last)
{
   size_t found = 0;
   pthread_mutex_lock (&cap->lock);
   for (size_t i = 0; i < cap->count; i++) {
      const mwatch_captured_t *rec = &cap->records[i];
      mwatch_value_t v;
      if (!mwatch_message_is_ready (rec->msg)) {
         continue;
      }
      if (operation && !(mwatch_message_get (rec->msg, "Operation", &v) &&
                         v.type == MWATCH_TYPE_UTF8 && strcmp (v.value.v_utf8.str, operation) == 0)) {
         continue;
      }
      found++;
      if (last) {
         *last = rec;
      }
   }
   pthread_mutex_unlock (&cap->lock);
   return found;
}

int64_t
capture_int (const mwatch_captured_t *rec, const char *path)
{
   mwatch_value_t v;
   ck_assert_msg (mwatch_message_get (rec->msg, path, &v), "no field %s", path);
   ck_assert_msg (v.type == MWATCH_TYPE_INT64, "field %s is not an integer", path);
   return v.value.v_int64;
}

const char *
capture_str (const mwatch_captured_t *rec, const char *path)
{
   mwatch_value_t v;
   ck_assert_msg (mwatch_message_get (rec->msg, path, &v), "no field %s", path);
   ck_assert_msg (v.type == MWATCH_TYPE_UTF8, "field %s is not a string", path);
   return v.value.v_utf8.str;
}

void
capture_stop (mwatch_capture_t *cap)
{
   mwatch_shutdown ();
   for (size_t i = 0; i < cap->count; i++) {
      bson_free (cap->records[i].logger);
      mwatch_message_destroy (cap->records[i].msg);
   }
   bson_free (cap->records);
   pthread_cond_destroy (&cap->cond);
   pthread_mutex_destroy (&cap->lock);
   bson_free (cap);
}

void
capture_patched_setup (void)
{
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
}

void
capture_patched_teardown (void)
{
   mwatch_unpatch_mongoc ();
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, NULL);
   mwatch_shutdown ();
}

int
capture_drain_cursor (mongoc_cursor_t *cursor, bson_error_t *error)
{
   const bson_t *doc;
   int count = 0;
   while (mongoc_cursor_next (cursor, &doc)) {
      count++;
   }
   if (error && !mongoc_cursor_error (cursor, error)) {
      memset (error, 0, sizeof *error);
   }
   return count;
}
