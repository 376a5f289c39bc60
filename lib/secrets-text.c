/* Passwords quoted in texts (connection strings, error messages, URLs)
 * masked: one masking for the records, check-config and the handlers'
 * reports (see secrets-text-private.h). */
#include "secrets-text-private.h"

#include "buf-private.h"

#include <string.h>
#include <strings.h>

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
