/* The collection watcher's common sequence: every watched call that is not
 * a cursor (writes, counts, commands, bulk writes, administration) is one
 * operation with a first record before the call and a final one after it,
 * its counts read from the reply.  The wrappers, one per mongoc function,
 * live in watch-collection-*.c, watch-command.c, watch-bulk.c and
 * watch-admin.c, most of them defined with MWATCH_WRAPPER below.
 *
 * Operation is the function's name without its "mongoc_collection_" (and
 * "_with_opts") part: "insert_one", "update", "count_documents",
 * "find_and_modify", "create_index", "rename", ...; for the database:
 * "create_collection", "drop_database"; for mongoc_bulk_operation_execute
 * "bulk_write"; for the command helpers the command's name. */
#ifndef MWATCH_WATCH_COLLECTION_PRIVATE_H
#define MWATCH_WATCH_COLLECTION_PRIVATE_H

#include "interpose-private.h"
#include "watch-private.h"

/* Which counts an operation has, each read from the first of its reply
 * keys whose first occurrence is a number (see _mwatch_counts_read). */
typedef enum {
   MWATCH_COUNT_INSERTED = 1 << 0,
   MWATCH_COUNT_MATCHED = 1 << 1,
   MWATCH_COUNT_MODIFIED = 1 << 2,
   MWATCH_COUNT_UPSERTED = 1 << 3,
   MWATCH_COUNT_DELETED = 1 << 4,
   /* With MWATCH_COUNT_INSERTED: a successful call whose reply does not say
    * how many it inserted inserted its one document. */
   MWATCH_COUNT_ASSUME_ONE = 1 << 5,
} mwatch_count_t;

/* Reads the counts of `counts` from the reply `doc` (NULL: none) into
 * `out` (room for 5), in the order of the enum above, and returns how
 * many: each the value of the first of its two reply keys (the CRUD
 * spec's name, then the bulk API's) whose first occurrence in `doc`'s top
 * level is a number, as looking each key up in turn would find it;
 * InsertedCount 1 with MWATCH_COUNT_ASSUME_ONE when the call succeeded
 * (`ok`) and the reply says nothing.  Each count's `key` is the record's
 * name for it in _mwatch_names (message-private.h). */
size_t
_mwatch_counts_read (const bson_t *doc, unsigned counts, bool ok, mwatch_count_value_t *out);

#define MWATCH_COUNTS_NONE 0u
#define MWATCH_COUNTS_UPDATE (MWATCH_COUNT_MATCHED | MWATCH_COUNT_MODIFIED | MWATCH_COUNT_UPSERTED)
#define MWATCH_COUNTS_ALL (MWATCH_COUNT_INSERTED | MWATCH_COUNTS_UPDATE | MWATCH_COUNT_DELETED)

/* One watched call, on the wrapper's stack (it points into itself: never
 * copy it). */
typedef struct {
   mwatch_watch_t *watch;
   int64_t start;       /* monotonic, when the real call began */
   bson_t *reply;       /* what the real call got: the application's, */
   bson_error_t *error; /* or ours when it passed NULL */
   bson_t own_reply;
   bson_error_t own_error;
   /* The counts read after the call, set with the final record. */
   mwatch_count_value_t counts[5];
   size_t count_n;
} mwatch_call_t;

/* Starts watching a call: a watch with DB and Collection (each omitted
 * when NULL), Filter and Update (likewise), the first record, then the
 * clock and the depth guard, so that whatever libmongoc calls until the
 * end is not watched again.
 *
 * `error` is the address of the wrapper's error argument; a NULL there is
 * pointed at an error of ours, so that the record can say why the call
 * failed.  `reply`, likewise, when the counts are read from the reply
 * (NULL when they are not: the application's reply then goes on as it
 * is).  `operation` is a string literal: the watch keeps its address
 * (_mwatch_call_start_named copies a name that does not live as long). */
void
_mwatch_call_start (mwatch_call_t *call,
                    const char *operation,
                    const char *db,
                    const char *collection,
                    const bson_t *filter,
                    const bson_t *update,
                    bson_t **reply,
                    bson_error_t **error);

/* The same for an `operation` name the watch must copy (a command's). */
void
_mwatch_call_start_named (mwatch_call_t *call,
                          const char *operation,
                          const char *db,
                          const char *collection,
                          const bson_t *filter,
                          const bson_t *update,
                          bson_t **reply,
                          bson_error_t **error);

/* _mwatch_call_start for an operation on `collection`: its database (when
 * known) and name.  `operation` is a string literal. */
void
_mwatch_call_start_coll (mwatch_call_t *call,
                         const char *operation,
                         const mongoc_collection_t *collection,
                         const bson_t *filter,
                         const bson_t *update,
                         bson_t **reply,
                         bson_error_t **error);

/* The same for an `operation` name the watch must copy. */
void
_mwatch_call_start_coll_named (mwatch_call_t *call,
                               const char *operation,
                               const mongoc_collection_t *collection,
                               const bson_t *filter,
                               const bson_t *update,
                               bson_t **reply,
                               bson_error_t **error);

/* Ends the call that returned `ok`: Duration, the `counts` (a set of
 * mwatch_count_t) read from call->reply, Error when it failed, the final
 * record. */
void
_mwatch_call_end (mwatch_call_t *call, bool ok, unsigned counts);

/* The same for a deprecated write whose counts are in the collection's
 * last error document rather than a reply. */
void
_mwatch_call_end_gle (mwatch_call_t *call,
                      bool ok,
                      const mongoc_collection_t *collection,
                      unsigned counts);

/* The same for a count returning `n` (-1 on failure): MatchedCount. */
void
_mwatch_call_end_count (mwatch_call_t *call, int64_t n);

/* The same for find_and_modify (`remove`: the call removes what it
 * finds): MatchedCount, and ModifiedCount and UpsertedCount, or
 * DeletedCount, from the reply's lastErrorObject. */
void
_mwatch_call_end_find_and_modify (mwatch_call_t *call, bool ok, bool remove);

/* The same for a command named `name` run by a command helper: distinct's
 * MatchedCount is the number of values, count's its n; other commands have
 * no counts. */
void
_mwatch_call_end_command (mwatch_call_t *call, bool ok, const char *name);

/* The name of a command: its first key ("command" for an empty one). */
const char *
_mwatch_command_name (const bson_t *command);

/* Points `out` at the first of `keys` in `doc` that holds a document or
 * an array, else at the whole of `doc` (empty for NULL): a command's
 * filter, a pipeline given as {"pipeline": [...]} or as the array. */
void
_mwatch_doc_part (const bson_t *doc, const char *const *keys, size_t n_keys, bson_t *out);

/* Defines the wrapper of the mongoc function `fn`, which returns `type`:
 * `params` is its parameter list, `args` the same names to pass on.  Not
 * watching, a pass-through; watching, `start` (a _mwatch_call_start* of
 * `call`, which may point the reply and error arguments at its own), the
 * real call, then `end` with its `result`.  The compiler checks `params`
 * against libmongoc's declaration (see MWATCH_REAL_SYM).  The watched path
 * is a function of its own, so that the pass-through needs no stack frame
 * and ends in a jump to the real function: a few instructions a call. */
#define MWATCH_WRAPPER(type, fn, params, args, start, end) \
   MWATCH_REAL_SYM (fn);                                  \
   MWATCH_FIRST_CALL (type, fn, params, args)             \
   static __attribute__ ((noinline)) type watched_##fn params \
   {                                                      \
      mwatch_call_t call;                                 \
      start;                                              \
      type result = REAL (fn) args;                       \
      end;                                                \
      return result;                                      \
   }                                                      \
   type fn params                                         \
   {                                                      \
      if (BSON_LIKELY (!_mwatch_watching ())) {           \
         MWATCH_PASS_THROUGH (fn, args);                  \
      }                                                   \
      return watched_##fn args;                           \
   }

#endif
