/* The thread's context fields (mwatch_context_set): what the application
 * says about the work at hand (a request id, a user), copied into every
 * operation this thread starts.
 *
 * The fields are an immutable snapshot that each change replaces: an
 * operation keeps a reference to the snapshot in force when it started,
 * and its message, built later and maybe on another thread, takes the
 * fields from there.  So starting an operation costs one atomic
 * increment, whatever the context holds. */
#include "fast-tls-private.h"
#include "refcount-private.h"
#include "watch-context-private.h"

#include <stdatomic.h>
#include <string.h>

typedef struct {
   const char *key;
   const char *value;
} context_field_t;

/* One allocation: this header, the fields, then their strings. */
struct _mwatch_context_t {
   atomic_int refs;
   size_t count;
   context_field_t fields[];
};

static _Thread_local mwatch_context_t *current MWATCH_FAST_TLS;

/* A snapshot of `count` fields, `change` at index `at` when `at` <
 * `count`: the fields are copied from `from` except that one. */
static mwatch_context_t *
snapshot_new (const context_field_t *from, size_t count, size_t at, const context_field_t *change)
{
   if (!count) {
      return NULL;
   }
   size_t bytes = sizeof (mwatch_context_t) + count * sizeof (context_field_t);
   for (size_t i = 0; i < count; i++) {
      const context_field_t *f = i == at ? change : &from[i];
      bytes += strlen (f->key) + strlen (f->value) + 2;
   }
   mwatch_context_t *ctx = bson_malloc (bytes);
   atomic_init (&ctx->refs, 1);
   ctx->count = count;
   char *text = (char *) &ctx->fields[count];
   for (size_t i = 0; i < count; i++) {
      const context_field_t *f = i == at ? change : &from[i];
      size_t key_len = strlen (f->key) + 1;
      size_t value_len = strlen (f->value) + 1;
      ctx->fields[i].key = memcpy (text, f->key, key_len);
      text += key_len;
      ctx->fields[i].value = memcpy (text, f->value, value_len);
      text += value_len;
   }
   return ctx;
}

/* Makes `ctx` the thread's context, dropping the one it replaces. */
static void
replace_current (mwatch_context_t *ctx)
{
   _mwatch_context_release (current);
   current = ctx;
}

bool
mwatch_context_set (const char *key, const char *value)
{
   if (!key || !*key || strchr (key, '.')) {
      return false;
   }
   const context_field_t *fields = current ? current->fields : NULL;
   size_t count = current ? current->count : 0;
   const context_field_t change = {.key = key, .value = value};
   for (size_t i = 0; i < count; i++) {
      if (strcmp (fields[i].key, key) != 0) {
         continue;
      }
      if (value) {
         replace_current (snapshot_new (fields, count, i, &change));
      } else {
         /* Removed: the last field takes its place. */
         replace_current (i + 1 < count ? snapshot_new (fields, count - 1, i, &fields[count - 1])
                                        : snapshot_new (fields, count - 1, count, NULL));
      }
      return true;
   }
   if (value) {
      /* Appended: a snapshot one longer, the new field last. */
      replace_current (snapshot_new (fields, count + 1, count, &change));
   }
   return true;
}

void
mwatch_context_clear (void)
{
   replace_current (NULL);
}

mwatch_context_t *
_mwatch_context_capture (void)
{
   if (current) {
      atomic_fetch_add_explicit (&current->refs, 1, memory_order_relaxed);
   }
   return current;
}

void
_mwatch_context_release (mwatch_context_t *ctx)
{
   if (ctx && _mwatch_unref (&ctx->refs)) {
      bson_free (ctx);
   }
}

void
_mwatch_context_apply (const mwatch_context_t *ctx, mwatch_message_t *msg)
{
   for (size_t i = 0; ctx && i < ctx->count; i++) {
      mwatch_message_set_utf8 (msg, ctx->fields[i].key, ctx->fields[i].value);
   }
}
