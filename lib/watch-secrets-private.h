/* Credentials never reach a record, whatever the configuration (with no
 * redact filter at all): the bodies of authentication and user-management
 * commands are replaced by a marker, as MongoDB's own logs do, and the
 * password of a connection string quoted in a text is masked.  The redact
 * filter is about the application's data and can be turned off; this
 * cannot. */
#ifndef MWATCH_WATCH_SECRETS_PRIVATE_H
#define MWATCH_WATCH_SECRETS_PRIVATE_H

#include "mongowatch.h"
#include "secrets-text-private.h"

/* Whether `command` carries credentials: its name is one of the
 * authentication or user-management commands (saslStart, saslContinue,
 * authenticate, getnonce, copydbsaslstart, createUser, updateUser, ...),
 * compared without case, or it has a top-level "pwd", "password" or
 * "speculativeAuthenticate" key. */
bool
_mwatch_command_has_credentials (const bson_t *command);

/* What a record may show of `command`: `command` itself, or for one that
 * carries credentials the marker {"redacted": "credentials"} (static,
 * never freed).  NULL stays NULL. */
const bson_t *
_mwatch_command_loggable (const bson_t *command);

/* Sets the text field `key` of `msg` to `text` with its credentials
 * masked. */
void
_mwatch_message_set_masked (mwatch_message_t *msg, const char *key, const char *text);

#endif
