/* The collection watcher's bulk writes: one operation per
 * mongoc_bulk_operation_execute, however many commands libmongoc sends for
 * it, with the counts of its reply.  DB and Collection are those of the
 * collection the bulk operation was made from, or those given to
 * mongoc_bulk_operation_set_database/_collection (watch-names.c). */
#include "watch-collection-private.h"
#include "watch-names-private.h"

static void
start_bulk (mwatch_call_t *call,
            const mongoc_bulk_operation_t *bulk,
            bson_t **reply,
            bson_error_t **error)
{
   char db[256];
   char collection[256];
   bool known = _mwatch_bulk_names (bulk, db, sizeof db, collection, sizeof collection);
   _mwatch_call_start (call, "bulk_write", known && db[0] ? db : NULL,
                       known && collection[0] ? collection : NULL, NULL, NULL, reply, error);
}

/* It returns 0 on failure, else the id of the server that served it. */
MWATCH_WRAPPER (uint32_t, mongoc_bulk_operation_execute,
                (mongoc_bulk_operation_t *bulk, bson_t *reply, bson_error_t *error),
                (bulk, reply, error), start_bulk (&call, bulk, &reply, &error),
                _mwatch_call_end (&call, result != 0, MWATCH_COUNTS_ALL))
