/* Interposed creators and destroyers of collections and bulk operations,
 * recording database names (see watch-names-private.h). */
#include "fast-tls-private.h"
#include "interpose-private.h"
#include "ptrmap-private.h"
#include "watch-names-private.h"

#include <stdatomic.h>
#include <string.h>

/* Collections map to a copy of their database name; bulk operations to
 * "db\0collection". */
static mwatch_ptrmap_t collections;
static mwatch_ptrmap_t bulks;
static pthread_once_t maps_once = PTHREAD_ONCE_INIT;

static void
maps_init (void)
{
   _mwatch_ptrmap_init (&collections);
   _mwatch_ptrmap_init (&bulks);
}

/* Bumped after every change of the collections map, so that each
 * thread's last answer (db_cache) is taken again: a collection destroyed
 * and another made at the same address, of another database, is not
 * taken for the first. */
static atomic_uint collections_generation = 1;

static void
changed (const mwatch_ptrmap_t *map)
{
   if (map == &collections) {
      atomic_fetch_add_explicit (&collections_generation, 1, memory_order_release);
   }
}

static void
remember (mwatch_ptrmap_t *map, const void *key, const char *a, const char *b)
{
   if (!key || !a) {
      return;
   }
   pthread_once (&maps_once, maps_init);
   size_t a_len = strlen (a);
   size_t b_len = b ? strlen (b) : 0;
   char *names = bson_malloc (a_len + b_len + 2);
   memcpy (names, a, a_len + 1);
   memcpy (names + a_len + 1, b ? b : "", b_len + 1);
   bson_free (_mwatch_ptrmap_put (map, key, names));
   changed (map);
}

static void
forget (mwatch_ptrmap_t *map, const void *key)
{
   if (key && _mwatch_ptrmap_count (map)) {
      bson_free (_mwatch_ptrmap_remove (map, key));
      changed (map);
   }
}

static bool
copy_out (const char *from, char *out, size_t size)
{
   if (!from) {
      if (size) {
         out[0] = '\0';
      }
      return false;
   }
   bson_strncpy (out, from, size);
   return true;
}

/* Copies the names while the shard lock keeps them alive. */
typedef struct {
   char *db;
   size_t db_size;
   char *collection;
   size_t collection_size;
   bool found;
} lookup_t;

static _Thread_local lookup_t *current_lookup MWATCH_FAST_TLS;

static void *
copy_names (void *names)
{
   lookup_t *l = current_lookup;
   const char *db = names;
   l->found = copy_out (db, l->db, l->db_size);
   if (l->collection) {
      copy_out (db + strlen (db) + 1, l->collection, l->collection_size);
   }
   return names;
}

static bool
lookup (mwatch_ptrmap_t *map, const void *key, lookup_t *l)
{
   l->found = false;
   copy_out (NULL, l->db, l->db_size);
   if (l->collection) {
      copy_out (NULL, l->collection, l->collection_size);
   }
   if (!key || !_mwatch_ptrmap_count (map)) {
      return false;
   }
   current_lookup = l;
   _mwatch_ptrmap_get (map, key, copy_names);
   current_lookup = NULL;
   return l->found;
}

/* The thread's last answer of _mwatch_collection_db_cached: an application
 * works on one collection handle for many operations, and the map's
 * lookup (a lock, a hash, a copy) cost more than the rest of starting a
 * watch's names. */
#define DB_CACHE_SIZE 256
typedef struct {
   const mongoc_collection_t *collection;
   unsigned generation; /* 0: empty (the generation starts at 1) */
   bool found;
   char db[DB_CACHE_SIZE];
} db_cache_t;
/* Too large for the initial-exec model's small reserve (a dlopen'ed
 * library shares it), so the cache is reached through a pointer that is
 * in that model: __tls_get_addr once per thread, not once per call. */
static _Thread_local db_cache_t db_cache_storage;
static _Thread_local db_cache_t *db_cache_at MWATCH_FAST_TLS;

static db_cache_t *
db_cache_get (void)
{
   db_cache_t *cache = db_cache_at;
   if (BSON_UNLIKELY (!cache)) {
      cache = db_cache_at = &db_cache_storage;
   }
   return cache;
}

const char *
_mwatch_collection_db_cached (const mongoc_collection_t *collection)
{
   unsigned generation = atomic_load_explicit (&collections_generation, memory_order_acquire);
   db_cache_t *const cache = db_cache_get ();
   if (!(cache->generation == generation && cache->collection == collection && collection)) {
      lookup_t l = {cache->db, DB_CACHE_SIZE, NULL, 0, false};
      cache->found = lookup (&collections, collection, &l);
      /* With the generation read before the lookup: a change meanwhile
       * leaves it stale, and the next call looks again. */
      cache->collection = collection;
      cache->generation = generation;
   }
   return cache->found ? cache->db : NULL;
}

bool
_mwatch_bulk_names (const mongoc_bulk_operation_t *bulk,
                    char *db,
                    size_t db_size,
                    char *collection,
                    size_t collection_size)
{
   lookup_t l = {db, db_size, collection, collection_size, false};
   return lookup (&bulks, bulk, &l);
}

/* ---------------------------------------------------------------- wrappers */

MWATCH_REAL_SYM (mongoc_client_get_collection);
mongoc_collection_t *
mongoc_client_get_collection (mongoc_client_t *client, const char *db, const char *collection)
{
   mongoc_collection_t *result = REAL (mongoc_client_get_collection) (client, db, collection);
   remember (&collections, result, db, NULL);
   return result;
}

MWATCH_REAL_SYM (mongoc_database_get_collection);
mongoc_collection_t *
mongoc_database_get_collection (mongoc_database_t *database, const char *name)
{
   mongoc_collection_t *result = REAL (mongoc_database_get_collection) (database, name);
   remember (&collections, result, mongoc_database_get_name (database), NULL);
   return result;
}

MWATCH_REAL_SYM (mongoc_collection_copy);
mongoc_collection_t *
mongoc_collection_copy (mongoc_collection_t *collection)
{
   mongoc_collection_t *result = REAL (mongoc_collection_copy) (collection);
   const char *db = _mwatch_collection_db_cached (collection);
   if (db) {
      remember (&collections, result, db, NULL);
   }
   return result;
}

MWATCH_REAL_SYM (mongoc_collection_destroy);
void
mongoc_collection_destroy (mongoc_collection_t *collection)
{
   forget (&collections, collection);
   REAL (mongoc_collection_destroy) (collection);
}

/* Called by the watched mongoc_database_create_collection, which is also
 * an operation of its own (watch-collection code). */
void
_mwatch_names_collection_created (mongoc_collection_t *collection, const char *db)
{
   remember (&collections, collection, db, NULL);
}

static void
remember_bulk (mongoc_bulk_operation_t *bulk, mongoc_collection_t *collection)
{
   const char *db = bulk ? _mwatch_collection_db_cached (collection) : NULL;
   if (db) {
      remember (&bulks, bulk, db, mongoc_collection_get_name (collection));
   }
}

MWATCH_REAL_SYM (mongoc_collection_create_bulk_operation_with_opts);
mongoc_bulk_operation_t *
mongoc_collection_create_bulk_operation_with_opts (mongoc_collection_t *collection,
                                                   const bson_t *opts)
{
   mongoc_bulk_operation_t *bulk =
      REAL (mongoc_collection_create_bulk_operation_with_opts) (collection, opts);
   remember_bulk (bulk, collection);
   return bulk;
}

#if MWATCH_MONGOC_1X_API /* removed in libmongoc 2.0 */
MWATCH_REAL_SYM (mongoc_collection_create_bulk_operation);
mongoc_bulk_operation_t *
mongoc_collection_create_bulk_operation (mongoc_collection_t *collection,
                                         bool ordered,
                                         const mongoc_write_concern_t *write_concern)
{
   mongoc_bulk_operation_t *bulk =
      REAL (mongoc_collection_create_bulk_operation) (collection, ordered, write_concern);
   remember_bulk (bulk, collection);
   return bulk;
}
#endif

/* A bulk operation made with mongoc_bulk_operation_new gets its names
 * from these setters (and one made from a collection may be moved). */
static void
rename_bulk (const mongoc_bulk_operation_t *bulk, const char *db, const char *collection)
{
   char old_db[256];
   char old_collection[256];
   _mwatch_bulk_names (bulk, old_db, sizeof old_db, old_collection, sizeof old_collection);
   remember (&bulks, bulk, db ? db : old_db, collection ? collection : old_collection);
}

MWATCH_REAL_SYM (mongoc_bulk_operation_set_database);
void
mongoc_bulk_operation_set_database (mongoc_bulk_operation_t *bulk, const char *database)
{
   REAL (mongoc_bulk_operation_set_database) (bulk, database);
   rename_bulk (bulk, database ? database : "", NULL);
}

MWATCH_REAL_SYM (mongoc_bulk_operation_set_collection);
void
mongoc_bulk_operation_set_collection (mongoc_bulk_operation_t *bulk, const char *collection)
{
   REAL (mongoc_bulk_operation_set_collection) (bulk, collection);
   rename_bulk (bulk, NULL, collection ? collection : "");
}

MWATCH_REAL_SYM (mongoc_bulk_operation_destroy);
void
mongoc_bulk_operation_destroy (mongoc_bulk_operation_t *bulk)
{
   forget (&bulks, bulk);
   REAL (mongoc_bulk_operation_destroy) (bulk);
}
