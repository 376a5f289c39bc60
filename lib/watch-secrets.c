/* Credentials kept out of every record (see watch-secrets-private.h): the command
 * bodies that carry them, and passwords quoted in texts such as an error
 * message. */
#include "watch-secrets-private.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

/* The commands whose body is a credential or sets one.  MongoDB accepts
 * several in lower case too: compared without case. */
static const char *const credential_commands[] = {
   "authenticate",    "saslStart",     "saslContinue", "getnonce",   "copydbsaslstart",
   "copydbgetnonce",  "copydb",        "createUser",   "updateUser", NULL,
};

/* Top-level keys that hold a credential in any command (hello's
 * speculative authentication holds a SASL payload). */
static const char *const credential_keys[] = {
   "pwd", "password", "speculativeAuthenticate", NULL,
};

static bool
in_list (const char *const *list, const char *name)
{
   for (size_t i = 0; list[i]; i++) {
      if (strcasecmp (list[i], name) == 0) {
         return true;
      }
   }
   return false;
}

bool
_mwatch_command_has_credentials (const bson_t *command)
{
   bson_iter_t iter;
   if (!command || !bson_iter_init (&iter, command)) {
      return false;
   }
   bool first = true;
   while (bson_iter_next (&iter)) {
      const char *key = bson_iter_key (&iter);
      if ((first && in_list (credential_commands, key)) || in_list (credential_keys, key)) {
         return true;
      }
      first = false;
   }
   return false;
}

static bson_t marker;
static pthread_once_t marker_once = PTHREAD_ONCE_INIT;

static void
marker_init (void)
{
   bson_init (&marker);
   BSON_APPEND_UTF8 (&marker, "redacted", "credentials");
}

const bson_t *
_mwatch_command_loggable (const bson_t *command)
{
   if (!_mwatch_command_has_credentials (command)) {
      return command;
   }
   pthread_once (&marker_once, marker_init);
   return &marker;
}

/* ---------------------------------------------------------------- texts */

/* _mwatch_mask_credentials is in secrets-text.c (util): handlers below
 * the watchers mask what they report with it too. */

void
_mwatch_message_set_masked (mwatch_message_t *msg, const char *key, const char *text)
{
   char *masked = _mwatch_mask_credentials (text);
   mwatch_message_set_utf8 (msg, key, masked ? masked : text);
   bson_free (masked);
}
