/* The fields filter (keep, drop, rename top-level fields), and the lists
 * of field names that every built-in filter takes. */
#include "filter-private.h"

#include <string.h>

char **
_mwatch_names_copy (const char *const *names, size_t *count)
{
   size_t n = 0;
   char **copy;

   while (names && names[n]) {
      n++;
   }
   if (count) {
      *count = n;
   }
   if (!names) {
      return NULL;
   }
   copy = bson_malloc ((n + 1) * sizeof *copy);
   for (size_t i = 0; i < n; i++) {
      copy[i] = bson_strdup (names[i]);
   }
   copy[n] = NULL;
   return copy;
}

void
_mwatch_names_free (char **names)
{
   for (size_t i = 0; names && names[i]; i++) {
      bson_free (names[i]);
   }
   bson_free (names);
}

bool
_mwatch_names_contain (char *const *names, const char *name)
{
   for (size_t i = 0; names && names[i]; i++) {
      if (strcmp (names[i], name) == 0) {
         return true;
      }
   }
   return false;
}

bool
_mwatch_names_check (const char *const *names, const char *what, bson_error_t *error)
{
   for (size_t i = 0; names && names[i]; i++) {
      if (!*names[i] || strchr (names[i], '.')) {
         bson_set_error (error,
                         MWATCH_ERROR_DOMAIN,
                         MWATCH_ERROR_INVALID_ARGUMENT,
                         "%s: \"%s\" is not a field name; name a top-level field, "
                         "not empty and without dots",
                         what,
                         names[i]);
         return false;
      }
   }
   return true;
}

typedef struct {
   char **keep;
   char **drop;
   char **rename; /* old, new, old, new, ... */
} fields_filter_t;

static bool
fields_filter (void *impl, mwatch_filter_t *self, mwatch_record_t *record)
{
   BSON_UNUSED (self);
   const fields_filter_t *f = impl;
   mwatch_message_t *msg = record->watch;

   if (!msg) {
      return true;
   }
   /* Removing a field ends an iteration, so start again after each; a
    * message has a dozen or so fields. */
   for (bool removed = f->keep != NULL; removed;) {
      mwatch_message_iter_t iter;
      const char *key;
      removed = false;
      mwatch_message_iter_init (&iter, msg);
      while (!removed && mwatch_message_iter_next (&iter, &key, NULL)) {
         if (!_mwatch_names_contain (f->keep, key)) {
            removed = mwatch_message_remove (msg, key);
         }
      }
   }
   for (size_t i = 0; f->drop && f->drop[i]; i++) {
      mwatch_message_remove (msg, f->drop[i]);
   }
   for (size_t i = 0; f->rename && f->rename[i]; i += 2) {
      mwatch_message_rename (msg, f->rename[i], f->rename[i + 1]);
   }
   return true;
}

static void
fields_destroy (void *impl)
{
   fields_filter_t *f = impl;

   _mwatch_names_free (f->keep);
   _mwatch_names_free (f->drop);
   _mwatch_names_free (f->rename);
   bson_free (f);
}

static const mwatch_filter_vtable_t fields_vtable = {
   .filter = fields_filter,
   .destroy = fields_destroy,
};

mwatch_filter_t *
mwatch_filter_new_fields (const char *const *keep,
                          const char *const *drop,
                          const char *const *rename,
                          bson_error_t *error)
{
   size_t rename_count;
   fields_filter_t *f;

   if (!_mwatch_names_check (keep, "fields filter: keep", error) ||
       !_mwatch_names_check (drop, "fields filter: drop", error) ||
       !_mwatch_names_check (rename, "fields filter: rename", error)) {
      return NULL;
   }
   f = bson_malloc0 (sizeof *f);
   f->rename = _mwatch_names_copy (rename, &rename_count);
   if (rename_count % 2 != 0) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "fields filter: rename lists %zu names, and needs pairs: old, new, "
                      "old, new, ...",
                      rename_count);
      fields_destroy (f);
      return NULL;
   }
   f->keep = _mwatch_names_copy (keep, NULL);
   f->drop = _mwatch_names_copy (drop, NULL);
   return mwatch_filter_new (&fields_vtable, f);
}
