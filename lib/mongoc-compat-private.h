/* The libmongoc and libbson versions mongowatch builds with: 1.17 and
 * later 1.x, and 2.x (doc/libmongoc-versions.md).  What differs between
 * them is decided here, by the libraries' own version macros, so that the
 * rest of the code names one thing. */
#ifndef MWATCH_MONGOC_COMPAT_PRIVATE_H
#define MWATCH_MONGOC_COMPAT_PRIVATE_H

#include <bson/bson.h>
#include <mongoc/mongoc.h>

/* BSON_UNUSED came with libbson 1.22 or 1.23 (2022; 1.17 has none): the
 * same cast to void where it is missing. */
#ifndef BSON_UNUSED
#define BSON_UNUSED(expr) ((void) (expr))
#endif

/* libmongoc 2.0 removed what 1.x had deprecated: the legacy find, count,
 * insert_bulk, save, delete, the index helpers (mongoc_index_opt_t),
 * mongoc_collection_find_indexes, mongoc_database_find_collections,
 * mongoc_client_find_databases, mongoc_collection_command,
 * mongoc_collection_create_bulk_operation and the last error document
 * (mongoc_collection_get_last_error).  The wrappers of those functions,
 * and what reads their results, compile only against 1.x: a program built
 * against 2.x cannot call them. */
#define MWATCH_MONGOC_1X_API (!MONGOC_CHECK_VERSION (2, 0, 0))

/* libbson 2 deprecates bson_append_array_begin in favour of the same
 * function named bson_append_array_unsafe_begin (the caller writes the
 * keys "0", "1", ... itself, as ours do); 1.x has only the first name. */
#if BSON_CHECK_VERSION(2, 0, 0)
#define _mwatch_bson_append_array_begin bson_append_array_unsafe_begin
#else
#define _mwatch_bson_append_array_begin bson_append_array_begin
#endif

#endif /* MWATCH_MONGOC_COMPAT_PRIVATE_H */
