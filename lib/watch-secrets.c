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

static bool
ends_token (char c)
{
   return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' ||
          c == '\'' || c == '`' || c == '<' || c == '>';
}

/* At text[at] starts "://": the span of the password of the connection
 * string's user information ("user:PASSWORD@"), if it has one.  The
 * user information ends at the last '@' before the options ('?') or the
 * end of the string: a password may hold a '@' its author forgot to
 * escape, a host never does.  Masking too much is harmless, too little is
 * not. */
static bool
uri_password (const char *text, size_t at, size_t *start, size_t *end)
{
   size_t begin = at + 3;
   size_t i = begin;
   size_t last_at = 0;
   bool found_at = false;
   for (; !ends_token (text[i]) && text[i] != '?'; i++) {
      if (text[i] == '@') {
         last_at = i;
         found_at = true;
      }
   }
   if (!found_at) {
      return false;
   }
   const char *colon = memchr (text + begin, ':', last_at - begin);
   if (!colon) {
      return false; /* a user name alone (X.509, Kerberos) */
   }
   *start = (size_t) (colon - text) + 1;
   *end = last_at;
   return true;
}

/* At text[at] starts "password=" (any case), as the end of a connection
 * string's option tlsCertificateKeyFilePassword does, or
 * "AWS_SESSION_TOKEN:", a property of authMechanismProperties (MONGODB-AWS):
 * the span of its value, up to the next option or property. */
static bool
option_password (const char *text, size_t at, size_t *start, size_t *end)
{
   static const char key[] = "password=";
   static const char token[] = "aws_session_token:";
   size_t i;
   if (strncasecmp (text + at, key, sizeof key - 1) == 0) {
      i = at + sizeof key - 1;
   } else if (strncasecmp (text + at, token, sizeof token - 1) == 0) {
      i = at + sizeof token - 1;
   } else {
      return false;
   }
   *start = i;
   while (!ends_token (text[i]) && text[i] != '&' && text[i] != ';' && text[i] != ',') {
      i++;
   }
   *end = i;
   return true;
}

char *
_mwatch_mask_credentials (const char *text)
{
   if (!text) {
      return NULL;
   }
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   size_t copied = 0;
   for (size_t i = 0; text[i]; i++) {
      size_t start = 0;
      size_t end = 0;
      bool found = (text[i] == ':' && text[i + 1] == '/' && text[i + 2] == '/' &&
                    uri_password (text, i, &start, &end)) ||
                   ((text[i] == 'p' || text[i] == 'P' || text[i] == 'a' || text[i] == 'A') &&
                    option_password (text, i, &start, &end));
      if (!found || start == end) {
         continue;
      }
      mwatch_buf_append (&out, text + copied, start - copied);
      mwatch_buf_append_str (&out, "***");
      copied = end;
      i = end - 1;
   }
   if (!out.data) {
      return NULL;
   }
   mwatch_buf_append_str (&out, text + copied);
   return out.data;
}

void
_mwatch_message_set_masked (mwatch_message_t *msg, const char *key, const char *text)
{
   char *masked = _mwatch_mask_credentials (text);
   mwatch_message_set_utf8 (msg, key, masked ? masked : text);
   bson_free (masked);
}
