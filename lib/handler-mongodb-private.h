/* Internal: the MongoDB audit handler (handler-mongodb.c) and the typed
 * document it stores for each record (handler-mongodb-doc.c). */
#ifndef MWATCH_HANDLER_MONGODB_PRIVATE_H
#define MWATCH_HANDLER_MONGODB_PRIVATE_H

#include "mongowatch.h"

/* The keys of a stored document beside "watch" (doc/configuration.md,
 * "The MongoDB audit handler", lists them): Python's LogRecord names. */
#define MWATCH_MONGODB_TIME_FIELD "created"

/* Appends to `doc` (empty) the document of `record`: a fresh ObjectId as
 * _id (so that a batch sent again after a lost reply is refused as a
 * duplicate rather than stored twice), created (a date), name, levelname,
 * levelno (int32), process and thread (int64), message (the text, when
 * the record has one) and watch: the message's fields in order, typed
 * (dates as dates, documents as sub-documents, WatchID as an ObjectId,
 * integers as int64, Duration as the double of seconds), without the
 * private fields whose name starts with '_'.  Keys inside documents that
 * start with '$' or hold a '.' (a Filter's operators and dotted paths),
 * which MongoDB before 5.0 and FerretDB refuse to store, have them
 * replaced by U+FF04 and U+FF0E; text that is not UTF-8 has each bad
 * sequence replaced by U+FFFD. */
void
_mwatch_mongodb_record_doc (const mwatch_record_t *record, bson_t *doc);

/* Checks the options as mwatch_handler_new_mongodb does; on failure
 * `error` says why and `*key` names the option (uri, database,
 * collection, ttl_sec, ...), for the configuration's error. */
bool
_mwatch_mongodb_check_opts (const mwatch_mongodb_handler_opts_t *opts, bson_error_t *error, const char **key);

/* `uri` with its password, if it has one, as "***" (allocated): what a
 * description or a report may show. */
char *
_mwatch_mongodb_uri_shown (const char *uri);

#endif /* MWATCH_HANDLER_MONGODB_PRIVATE_H */
