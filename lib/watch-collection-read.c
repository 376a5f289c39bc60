/* The collection watcher's counts: MatchedCount is the number returned
 * (-1 on failure, then no count).  count_documents runs an aggregate and
 * reads its cursor inside libmongoc; the depth guard keeps that from being
 * a cursor operation of its own.  The count being the return value, the
 * application's reply goes on as it is. */
#include "watch-collection-private.h"

MWATCH_WRAPPER (int64_t, mongoc_collection_count_documents,
                (mongoc_collection_t *coll, const bson_t *filter, const bson_t *opts,
                 const mongoc_read_prefs_t *read_prefs, bson_t *reply, bson_error_t *error),
                (coll, filter, opts, read_prefs, reply, error),
                _mwatch_call_start_coll (&call, "count_documents", coll, filter, NULL, NULL,
                                         &error),
                _mwatch_call_end_count (&call, result))

MWATCH_WRAPPER (int64_t, mongoc_collection_estimated_document_count,
                (mongoc_collection_t *coll, const bson_t *opts,
                 const mongoc_read_prefs_t *read_prefs, bson_t *reply, bson_error_t *error),
                (coll, opts, read_prefs, reply, error),
                _mwatch_call_start_coll (&call, "estimated_document_count", coll, NULL, NULL,
                                         NULL, &error),
                _mwatch_call_end_count (&call, result))

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_WRAPPER (int64_t, mongoc_collection_count,
                (mongoc_collection_t *collection, mongoc_query_flags_t flags, const bson_t *query,
                 int64_t skip, int64_t limit, const mongoc_read_prefs_t *read_prefs,
                 bson_error_t *error),
                (collection, flags, query, skip, limit, read_prefs, error),
                _mwatch_call_start_coll (&call, "count", collection, query, NULL, NULL, &error),
                _mwatch_call_end_count (&call, result))

MWATCH_WRAPPER (int64_t, mongoc_collection_count_with_opts,
                (mongoc_collection_t *collection, mongoc_query_flags_t flags, const bson_t *query,
                 int64_t skip, int64_t limit, const bson_t *opts,
                 const mongoc_read_prefs_t *read_prefs, bson_error_t *error),
                (collection, flags, query, skip, limit, opts, read_prefs, error),
                _mwatch_call_start_coll (&call, "count", collection, query, NULL, NULL, &error),
                _mwatch_call_end_count (&call, result))
#endif
