/* The collection watcher's writes: inserts, updates, deletes and
 * find-and-modify, the deprecated ones too.  Filter is the selector (none
 * for inserts), Update the update or replacement document; the counts come
 * from the reply, or for the deprecated writes, which have none, from the
 * collection's last error document. */
#include "watch-collection-private.h"

/* ---------------------------------------------------------------- inserts */

MWATCH_WRAPPER (bool, mongoc_collection_insert_one,
                (mongoc_collection_t *collection, const bson_t *document, const bson_t *opts,
                 bson_t *reply, bson_error_t *error),
                (collection, document, opts, reply, error),
                _mwatch_call_start_coll (&call, "insert_one", collection, NULL, NULL, &reply,
                                         &error),
                _mwatch_call_end (&call, result, MWATCH_COUNT_INSERTED))

MWATCH_WRAPPER (bool, mongoc_collection_insert_many,
                (mongoc_collection_t *collection, const bson_t **documents, size_t n_documents,
                 const bson_t *opts, bson_t *reply, bson_error_t *error),
                (collection, documents, n_documents, opts, reply, error),
                _mwatch_call_start_coll (&call, "insert_many", collection, NULL, NULL, &reply,
                                         &error),
                _mwatch_call_end (&call, result, MWATCH_COUNT_INSERTED))

MWATCH_WRAPPER (bool, mongoc_collection_insert,
                (mongoc_collection_t *collection, mongoc_insert_flags_t flags,
                 const bson_t *document, const mongoc_write_concern_t *write_concern,
                 bson_error_t *error),
                (collection, flags, document, write_concern, error),
                _mwatch_call_start_coll (&call, "insert", collection, NULL, NULL, NULL, &error),
                _mwatch_call_end_gle (&call, result, collection,
                                      MWATCH_COUNT_INSERTED | MWATCH_COUNT_ASSUME_ONE))

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_WRAPPER (bool, mongoc_collection_insert_bulk,
                (mongoc_collection_t *collection, mongoc_insert_flags_t flags,
                 const bson_t **documents, uint32_t n_documents,
                 const mongoc_write_concern_t *write_concern, bson_error_t *error),
                (collection, flags, documents, n_documents, write_concern, error),
                _mwatch_call_start_coll (&call, "insert_bulk", collection, NULL, NULL, NULL,
                                         &error),
                _mwatch_call_end_gle (&call, result, collection, MWATCH_COUNT_INSERTED))
#endif

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
/* An insert when the document has no _id, else an upsert by _id: either
 * set of counts, whichever the last error document has. */
MWATCH_WRAPPER (bool, mongoc_collection_save,
                (mongoc_collection_t *collection, const bson_t *document,
                 const mongoc_write_concern_t *write_concern, bson_error_t *error),
                (collection, document, write_concern, error),
                _mwatch_call_start_coll (&call, "save", collection, NULL, NULL, NULL, &error),
                _mwatch_call_end_gle (&call, result, collection,
                                      MWATCH_COUNT_INSERTED | MWATCH_COUNTS_UPDATE))
#endif

/* ---------------------------------------------------------------- updates */

MWATCH_WRAPPER (bool, mongoc_collection_update_one,
                (mongoc_collection_t *collection, const bson_t *selector, const bson_t *update,
                 const bson_t *opts, bson_t *reply, bson_error_t *error),
                (collection, selector, update, opts, reply, error),
                _mwatch_call_start_coll (&call, "update_one", collection, selector, update,
                                         &reply, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_UPDATE))

MWATCH_WRAPPER (bool, mongoc_collection_update_many,
                (mongoc_collection_t *collection, const bson_t *selector, const bson_t *update,
                 const bson_t *opts, bson_t *reply, bson_error_t *error),
                (collection, selector, update, opts, reply, error),
                _mwatch_call_start_coll (&call, "update_many", collection, selector, update,
                                         &reply, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_UPDATE))

MWATCH_WRAPPER (bool, mongoc_collection_replace_one,
                (mongoc_collection_t *collection, const bson_t *selector,
                 const bson_t *replacement, const bson_t *opts, bson_t *reply,
                 bson_error_t *error),
                (collection, selector, replacement, opts, reply, error),
                _mwatch_call_start_coll (&call, "replace_one", collection, selector, replacement,
                                         &reply, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_UPDATE))

MWATCH_WRAPPER (bool, mongoc_collection_update,
                (mongoc_collection_t *collection, mongoc_update_flags_t flags,
                 const bson_t *selector, const bson_t *update,
                 const mongoc_write_concern_t *write_concern, bson_error_t *error),
                (collection, flags, selector, update, write_concern, error),
                _mwatch_call_start_coll (&call, "update", collection, selector, update, NULL,
                                         &error),
                _mwatch_call_end_gle (&call, result, collection, MWATCH_COUNTS_UPDATE))

/* ---------------------------------------------------------------- deletes */

MWATCH_WRAPPER (bool, mongoc_collection_delete_one,
                (mongoc_collection_t *collection, const bson_t *selector, const bson_t *opts,
                 bson_t *reply, bson_error_t *error),
                (collection, selector, opts, reply, error),
                _mwatch_call_start_coll (&call, "delete_one", collection, selector, NULL, &reply,
                                         &error),
                _mwatch_call_end (&call, result, MWATCH_COUNT_DELETED))

MWATCH_WRAPPER (bool, mongoc_collection_delete_many,
                (mongoc_collection_t *collection, const bson_t *selector, const bson_t *opts,
                 bson_t *reply, bson_error_t *error),
                (collection, selector, opts, reply, error),
                _mwatch_call_start_coll (&call, "delete_many", collection, selector, NULL,
                                         &reply, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNT_DELETED))

MWATCH_WRAPPER (bool, mongoc_collection_remove,
                (mongoc_collection_t *collection, mongoc_remove_flags_t flags,
                 const bson_t *selector, const mongoc_write_concern_t *write_concern,
                 bson_error_t *error),
                (collection, flags, selector, write_concern, error),
                _mwatch_call_start_coll (&call, "remove", collection, selector, NULL, NULL,
                                         &error),
                _mwatch_call_end_gle (&call, result, collection, MWATCH_COUNT_DELETED))

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_WRAPPER (bool, mongoc_collection_delete,
                (mongoc_collection_t *collection, mongoc_delete_flags_t flags,
                 const bson_t *selector, const mongoc_write_concern_t *write_concern,
                 bson_error_t *error),
                (collection, flags, selector, write_concern, error),
                _mwatch_call_start_coll (&call, "delete", collection, selector, NULL, NULL,
                                         &error),
                _mwatch_call_end_gle (&call, result, collection, MWATCH_COUNT_DELETED))
#endif

/* ---------------------------------------------------------------- find and modify */

/* The update is inside the options: the watch copies it before the call. */
static void
start_find_and_modify (mwatch_call_t *call,
                       mongoc_collection_t *collection,
                       const bson_t *query,
                       const mongoc_find_and_modify_opts_t *opts,
                       bson_t **reply,
                       bson_error_t **error)
{
   bson_t update;
   mongoc_find_and_modify_opts_get_update (opts, &update);
   _mwatch_call_start_coll (call, "find_and_modify", collection, query,
                            bson_empty (&update) ? NULL : &update, reply, error);
   bson_destroy (&update);
}

MWATCH_WRAPPER (bool, mongoc_collection_find_and_modify_with_opts,
                (mongoc_collection_t *collection, const bson_t *query,
                 const mongoc_find_and_modify_opts_t *opts, bson_t *reply, bson_error_t *error),
                (collection, query, opts, reply, error),
                start_find_and_modify (&call, collection, query, opts, &reply, &error),
                _mwatch_call_end_find_and_modify (
                   &call, result,
                   mongoc_find_and_modify_opts_get_flags (opts) & MONGOC_FIND_AND_MODIFY_REMOVE))

MWATCH_WRAPPER (bool, mongoc_collection_find_and_modify,
                (mongoc_collection_t *collection, const bson_t *query, const bson_t *sort,
                 const bson_t *update, const bson_t *fields, bool _remove, bool upsert, bool _new,
                 bson_t *reply, bson_error_t *error),
                (collection, query, sort, update, fields, _remove, upsert, _new, reply, error),
                _mwatch_call_start_coll (&call, "find_and_modify", collection, query, update,
                                         &reply, &error),
                _mwatch_call_end_find_and_modify (&call, result, _remove))
