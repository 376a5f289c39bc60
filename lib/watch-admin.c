/* The collection watcher's administrative operations: indexes, drops,
 * renames, creating collections.  They have no selector; Filter says what
 * the operation was about: the index keys, {"index": name} for dropping
 * one, {"to": "db.name", "dropTarget": bool} for a rename, the options of a
 * collection created.  No counts, and the application's reply goes on as
 * it is: without one, create_index_with_opts does not look for a write
 * concern error, and that must not change. */
#include "watch-collection-private.h"
#include "watch-names-private.h"

/* ---------------------------------------------------------------- indexes */

#define WATCHED_CREATE_INDEX(fn, params, args)                                                \
   MWATCH_WRAPPER (bool, fn, params, args,                                                   \
                   _mwatch_call_start_coll (&call, "create_index", collection, keys, NULL,   \
                                            NULL, &error),                                   \
                   _mwatch_call_end (&call, result, MWATCH_COUNTS_NONE))

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
WATCHED_CREATE_INDEX (mongoc_collection_create_index_with_opts,
                      (mongoc_collection_t *collection, const bson_t *keys,
                       const mongoc_index_opt_t *opt, const bson_t *opts, bson_t *reply,
                       bson_error_t *error),
                      (collection, keys, opt, opts, reply, error))
WATCHED_CREATE_INDEX (mongoc_collection_create_index,
                      (mongoc_collection_t *collection, const bson_t *keys,
                       const mongoc_index_opt_t *opt, bson_error_t *error),
                      (collection, keys, opt, error))
WATCHED_CREATE_INDEX (mongoc_collection_ensure_index,
                      (mongoc_collection_t *collection, const bson_t *keys,
                       const mongoc_index_opt_t *opt, bson_error_t *error),
                      (collection, keys, opt, error))
#endif

static void
start_drop_index (mwatch_call_t *call,
                  mongoc_collection_t *collection,
                  const char *index_name,
                  bson_error_t **error)
{
   bson_t filter = BSON_INITIALIZER;
   if (index_name) {
      BSON_APPEND_UTF8 (&filter, "index", index_name);
   }
   _mwatch_call_start_coll (call, "drop_index", collection, &filter, NULL, NULL, error);
   bson_destroy (&filter);
}

MWATCH_WRAPPER (bool, mongoc_collection_drop_index_with_opts,
                (mongoc_collection_t *collection, const char *index_name, const bson_t *opts,
                 bson_error_t *error),
                (collection, index_name, opts, error),
                start_drop_index (&call, collection, index_name, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_NONE))

MWATCH_WRAPPER (bool, mongoc_collection_drop_index,
                (mongoc_collection_t *collection, const char *index_name, bson_error_t *error),
                (collection, index_name, error),
                start_drop_index (&call, collection, index_name, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_NONE))

/* ---------------------------------------------------------------- collections */

MWATCH_WRAPPER (bool, mongoc_collection_drop_with_opts,
                (mongoc_collection_t *collection, const bson_t *opts, bson_error_t *error),
                (collection, opts, error),
                _mwatch_call_start_coll (&call, "drop", collection, NULL, NULL, NULL, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_NONE))

MWATCH_WRAPPER (bool, mongoc_collection_drop,
                (mongoc_collection_t *collection, bson_error_t *error), (collection, error),
                _mwatch_call_start_coll (&call, "drop", collection, NULL, NULL, NULL, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_NONE))

/* A rename is logged under the old names.  A rename into another database
 * moves the collection there: the names kept for it follow, watched or
 * not, so that later operations say where it is. */
static void
start_rename (mwatch_call_t *call,
              mongoc_collection_t *collection,
              const char *new_db,
              const char *new_name,
              bool drop_target,
              bson_error_t **error)
{
   /* Read before this thread asks again (_mwatch_call_start_coll). */
   const char *to_db = new_db ? new_db : _mwatch_collection_db_cached (collection);
   char *to = to_db ? bson_strdup_printf ("%s.%s", to_db, new_name ? new_name : "")
                    : bson_strdup (new_name ? new_name : "");
   bson_t filter = BSON_INITIALIZER;
   BSON_APPEND_UTF8 (&filter, "to", to);
   BSON_APPEND_BOOL (&filter, "dropTarget", drop_target);
   _mwatch_call_start_coll (call, "rename", collection, &filter, NULL, NULL, error);
   bson_destroy (&filter);
   bson_free (to);
}

static bool
follow_rename (mongoc_collection_t *collection, const char *new_db, bool ok)
{
   if (ok && new_db) {
      _mwatch_names_collection_created (collection, new_db);
   }
   return ok;
}

MWATCH_REAL_SYM (mongoc_collection_rename_with_opts);
bool
mongoc_collection_rename_with_opts (mongoc_collection_t *collection,
                                    const char *new_db,
                                    const char *new_name,
                                    bool drop_target_before_rename,
                                    const bson_t *opts,
                                    bson_error_t *error)
{
   mwatch_call_t call;
   bool watching = _mwatch_watching ();
   if (watching) {
      start_rename (&call, collection, new_db, new_name, drop_target_before_rename, &error);
   }
   bool ok = REAL (mongoc_collection_rename_with_opts) (
      collection, new_db, new_name, drop_target_before_rename, opts, error);
   if (watching) {
      _mwatch_call_end (&call, ok, MWATCH_COUNTS_NONE);
   }
   return follow_rename (collection, new_db, ok);
}

MWATCH_REAL_SYM (mongoc_collection_rename);
bool
mongoc_collection_rename (mongoc_collection_t *collection,
                          const char *new_db,
                          const char *new_name,
                          bool drop_target_before_rename,
                          bson_error_t *error)
{
   mwatch_call_t call;
   bool watching = _mwatch_watching ();
   if (watching) {
      start_rename (&call, collection, new_db, new_name, drop_target_before_rename, &error);
   }
   bool ok = REAL (mongoc_collection_rename) (collection, new_db, new_name,
                                              drop_target_before_rename, error);
   if (watching) {
      _mwatch_call_end (&call, ok, MWATCH_COUNTS_NONE);
   }
   return follow_rename (collection, new_db, ok);
}

/* ---------------------------------------------------------------- databases */

/* The collection it makes has its database recorded, watched or not. */
MWATCH_REAL_SYM (mongoc_database_create_collection);
mongoc_collection_t *
mongoc_database_create_collection (mongoc_database_t *database,
                                   const char *name,
                                   const bson_t *options,
                                   bson_error_t *error)
{
   mwatch_call_t call;
   bool watching = _mwatch_watching ();
   if (watching) {
      _mwatch_call_start (&call, "create_collection", mongoc_database_get_name (database), name,
                          options && !bson_empty (options) ? options : NULL, NULL, NULL, &error);
   }
   mongoc_collection_t *collection =
      REAL (mongoc_database_create_collection) (database, name, options, error);
   if (watching) {
      _mwatch_call_end (&call, collection != NULL, MWATCH_COUNTS_NONE);
   }
   if (collection) {
      _mwatch_names_collection_created (collection, mongoc_database_get_name (database));
   }
   return collection;
}

MWATCH_WRAPPER (bool, mongoc_database_drop_with_opts,
                (mongoc_database_t *database, const bson_t *opts, bson_error_t *error),
                (database, opts, error),
                _mwatch_call_start (&call, "drop_database", mongoc_database_get_name (database),
                                    NULL, NULL, NULL, NULL, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_NONE))

MWATCH_WRAPPER (bool, mongoc_database_drop, (mongoc_database_t *database, bson_error_t *error),
                (database, error),
                _mwatch_call_start (&call, "drop_database", mongoc_database_get_name (database),
                                    NULL, NULL, NULL, NULL, &error),
                _mwatch_call_end (&call, result, MWATCH_COUNTS_NONE))
