/* The thread's context fields (mwatch_context_set): what the application
 * says about the work at hand (a request id, a user), copied into every
 * operation this thread starts. */
#include "watch-context-private.h"

#include <string.h>

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


void
_mwatch_context_apply (mwatch_message_t *msg)
{
   for (size_t i = 0; i < context_count; i++) {
      mwatch_message_set_utf8 (msg, context[i].key, context[i].value);
   }
}
