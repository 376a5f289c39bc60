/* Passwords kept out of texts: a util of its own, below the handlers
 * that report URLs and the watchers that record error messages. */
#ifndef MWATCH_SECRETS_TEXT_PRIVATE_H
#define MWATCH_SECRETS_TEXT_PRIVATE_H

/* A copy of `text` in which every connection string's password
 * ("scheme://user:PASSWORD@host") and every "...password=VALUE" option is
 * replaced by "***"; NULL when there is nothing to mask (use `text`).
 * The caller frees the copy with bson_free. */
char *
_mwatch_mask_credentials (const char *text);

#endif
