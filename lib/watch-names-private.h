/* Which database a collection (or bulk operation) belongs to.  libmongoc
 * 1.23 has no public getter for a collection's database name, so the calls
 * that create collections record it; nothing is read from mongoc's private
 * structures.  Recorded whether or not watching is on, so that patching
 * later still knows the names. */
#ifndef MWATCH_WATCH_NAMES_PRIVATE_H
#define MWATCH_WATCH_NAMES_PRIVATE_H

#include "mongowatch.h"

/* The database name of `collection`: the thread's own copy of it, good
 * until this thread's next call (a caller keeps it by copying it first);
 * NULL when it is not known (a collection made before libmongowatch was
 * loaded). */
const char *
_mwatch_collection_db_cached (const mongoc_collection_t *collection);

/* The database and collection names of a bulk operation made from a
 * collection; false when unknown. */
bool
_mwatch_bulk_names (const mongoc_bulk_operation_t *bulk,
                    char *db,
                    size_t db_size,
                    char *collection,
                    size_t collection_size);

/* Records that `collection`, just made by mongoc_database_create_collection
 * or moved by a rename, belongs to the database `db`. */
void
_mwatch_names_collection_created (mongoc_collection_t *collection, const char *db);

#endif
