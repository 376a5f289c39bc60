/* The collection watcher's command helpers, on a collection, a database or
 * the client.  Operation is the command's name ("distinct", "ping"),
 * Filter its own filter when it has one ("query" of count and distinct,
 * "filter" of others), else the whole command.  The reply is the
 * application's own, passed on untouched; distinct and count have their
 * counts read from it (see _mwatch_call_end_command). */
#include "watch-collection-private.h"
#include "watch-secrets-private.h"

#include <string.h>

/* A command's own filter when it has one ("query" of count and distinct,
 * "filter" of find and others), else the whole command. */
static void
command_filter (const bson_t *command, bson_t *out)
{
   static const char *const keys[] = {"query", "filter"};
   _mwatch_doc_part (_mwatch_command_loggable (command), keys, sizeof keys / sizeof keys[0], out);
}

/* The commands whose first value names a collection of the database
 * they run in, as {"distinct": "items", ...}.  Others may have a string
 * there that names nothing ({"serverStatus": "1"}, {"ping": "x"}), or
 * something else (a user, a database): those get no Collection. */
static const char *const collection_commands[] = {
   "aggregate",     "analyzeShardKey", "bulkWrite",   "cloneCollectionAsCapped",
   "collMod",       "collStats",       "compact",     "convertToCapped",
   "count",         "create",          "createIndexes", "delete",
   "distinct",      "drop",            "dropIndexes", "deleteIndexes",
   "find",          "findAndModify",   "getMore",     "insert",
   "listIndexes",   "mapReduce",       "reIndex",     "update",
   "validate",
};

/* The collection a database command names as its first value, as in
 * {"distinct": "items", ...}; NULL for {"ping": 1}, {"serverStatus": "1"}
 * or any command not in collection_commands.  Command names are matched
 * as the server does, case-sensitively, except findandmodify, which it
 * also takes in lower case. */
static const char *
command_collection (const bson_t *command)
{
   bson_iter_t iter;
   if (!command || !bson_iter_init (&iter, command) || !bson_iter_next (&iter) ||
       !BSON_ITER_HOLDS_UTF8 (&iter)) {
      return NULL;
   }
   const char *name = bson_iter_key (&iter);
   if (strcmp (name, "findandmodify") == 0) {
      return bson_iter_utf8 (&iter, NULL);
   }
   for (size_t i = 0; i < sizeof collection_commands / sizeof *collection_commands; i++) {
      if (strcmp (name, collection_commands[i]) == 0) {
         return bson_iter_utf8 (&iter, NULL);
      }
   }
   return NULL;
}

/* Starts a command's watch: on `collection` (its DB and name) when given,
 * else in the database `db`, naming the collection the command names. */
static void
start_command (mwatch_call_t *call,
               const mongoc_collection_t *collection,
               const char *db,
               const bson_t *command,
               bson_t **reply,
               bson_error_t **error)
{
   bson_t filter;
   command_filter (command, &filter);
   if (collection) {
      _mwatch_call_start_coll_named (call, _mwatch_command_name (command), collection, &filter,
                                     NULL, reply, error);
   } else {
      _mwatch_call_start_named (call, _mwatch_command_name (command), db,
                                command_collection (command), &filter, NULL, reply, error);
   }
}

/* The fifteen helpers differ only in their parameters and in where the
 * command runs: on a collection, or in a database. */
#define WATCHED_COMMAND(fn, params, args, on_collection, in_db)                   \
   MWATCH_WRAPPER (bool, fn, params, args,                                        \
                   start_command (&call, on_collection, in_db, command, &reply, &error), \
                   _mwatch_call_end_command (&call, result, _mwatch_command_name (command)))

/* ---------------------------------------------------------------- collection */

#define COLLECTION_WITH_OPTS                                \
   (mongoc_collection_t *collection, const bson_t *command, \
    const mongoc_read_prefs_t *read_prefs, const bson_t *opts, bson_t *reply, bson_error_t *error)
#define COLLECTION_WITH_OPTS_ARGS (collection, command, read_prefs, opts, reply, error)

WATCHED_COMMAND (mongoc_collection_command_simple,
                 (mongoc_collection_t *collection, const bson_t *command,
                  const mongoc_read_prefs_t *read_prefs, bson_t *reply, bson_error_t *error),
                 (collection, command, read_prefs, reply, error), collection, NULL)
WATCHED_COMMAND (mongoc_collection_command_with_opts, COLLECTION_WITH_OPTS,
                 COLLECTION_WITH_OPTS_ARGS, collection, NULL)
WATCHED_COMMAND (mongoc_collection_read_command_with_opts, COLLECTION_WITH_OPTS,
                 COLLECTION_WITH_OPTS_ARGS, collection, NULL)
WATCHED_COMMAND (mongoc_collection_read_write_command_with_opts, COLLECTION_WITH_OPTS,
                 COLLECTION_WITH_OPTS_ARGS, collection, NULL)
WATCHED_COMMAND (mongoc_collection_write_command_with_opts,
                 (mongoc_collection_t *collection, const bson_t *command, const bson_t *opts,
                  bson_t *reply, bson_error_t *error),
                 (collection, command, opts, reply, error), collection, NULL)

/* ---------------------------------------------------------------- database */

#define DATABASE_WITH_OPTS                              \
   (mongoc_database_t *database, const bson_t *command, \
    const mongoc_read_prefs_t *read_prefs, const bson_t *opts, bson_t *reply, bson_error_t *error)
#define DATABASE_WITH_OPTS_ARGS (database, command, read_prefs, opts, reply, error)
#define DATABASE_NAME mongoc_database_get_name (database)

WATCHED_COMMAND (mongoc_database_command_simple,
                 (mongoc_database_t *database, const bson_t *command,
                  const mongoc_read_prefs_t *read_prefs, bson_t *reply, bson_error_t *error),
                 (database, command, read_prefs, reply, error), NULL, DATABASE_NAME)
WATCHED_COMMAND (mongoc_database_command_with_opts, DATABASE_WITH_OPTS, DATABASE_WITH_OPTS_ARGS,
                 NULL, DATABASE_NAME)
WATCHED_COMMAND (mongoc_database_read_command_with_opts, DATABASE_WITH_OPTS,
                 DATABASE_WITH_OPTS_ARGS, NULL, DATABASE_NAME)
WATCHED_COMMAND (mongoc_database_read_write_command_with_opts, DATABASE_WITH_OPTS,
                 DATABASE_WITH_OPTS_ARGS, NULL, DATABASE_NAME)
WATCHED_COMMAND (mongoc_database_write_command_with_opts,
                 (mongoc_database_t *database, const bson_t *command, const bson_t *opts,
                  bson_t *reply, bson_error_t *error),
                 (database, command, opts, reply, error), NULL, DATABASE_NAME)

/* ---------------------------------------------------------------- client */

#define CLIENT_WITH_OPTS                                                 \
   (mongoc_client_t *client, const char *db_name, const bson_t *command, \
    const mongoc_read_prefs_t *read_prefs, const bson_t *opts, bson_t *reply, bson_error_t *error)
#define CLIENT_WITH_OPTS_ARGS (client, db_name, command, read_prefs, opts, reply, error)

WATCHED_COMMAND (mongoc_client_command_simple,
                 (mongoc_client_t *client, const char *db_name, const bson_t *command,
                  const mongoc_read_prefs_t *read_prefs, bson_t *reply, bson_error_t *error),
                 (client, db_name, command, read_prefs, reply, error), NULL, db_name)
WATCHED_COMMAND (mongoc_client_command_with_opts, CLIENT_WITH_OPTS, CLIENT_WITH_OPTS_ARGS, NULL,
                 db_name)
WATCHED_COMMAND (mongoc_client_read_command_with_opts, CLIENT_WITH_OPTS, CLIENT_WITH_OPTS_ARGS,
                 NULL, db_name)
WATCHED_COMMAND (mongoc_client_read_write_command_with_opts, CLIENT_WITH_OPTS,
                 CLIENT_WITH_OPTS_ARGS, NULL, db_name)
WATCHED_COMMAND (mongoc_client_write_command_with_opts,
                 (mongoc_client_t *client, const char *db_name, const bson_t *command,
                  const bson_t *opts, bson_t *reply, bson_error_t *error),
                 (client, db_name, command, opts, reply, error), NULL, db_name)
