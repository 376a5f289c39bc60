/* The database name of a collection is cached per thread (lib/watch-names.c,
 * db_cache) against a generation that every collection made or destroyed
 * bumps.  A collection destroyed and another made at the same address, of
 * another database, must give the new database's name: the cache must not
 * answer for the old one.  No server is needed: get_collection makes no
 * connection. */
#include <mongoc/mongoc.h>

#include "../../lib/watch-names-private.h"
#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#include <string.h>

START_TEST (test_reused_address_gets_its_own_db)
{
   mongoc_client_t *client = mongoc_client_new ("mongodb://127.0.0.1:1");
   char db[256];
   int reused = 0;
   for (int i = 0; i < 100; i++) {
      mongoc_collection_t *first = mongoc_client_get_collection (client, "names_first", "c");
      ck_assert (_mwatch_collection_db (first, db, sizeof db));
      ck_assert_str_eq (db, "names_first");
      /* Asked twice: the second answer is the cache's. */
      ck_assert (_mwatch_collection_db (first, db, sizeof db));
      ck_assert_str_eq (db, "names_first");
      const void *address = first;
      mongoc_collection_destroy (first);
      mongoc_collection_t *second = mongoc_client_get_collection (client, "names_second", "c");
      reused += (const void *) second == address;
      ck_assert (_mwatch_collection_db (second, db, sizeof db));
      ck_assert_str_eq (db, "names_second");
      mongoc_collection_destroy (second);
      /* Destroyed and not made again: not known any more. */
      ck_assert (!_mwatch_collection_db (second, db, sizeof db));
      ck_assert_str_eq (db, "");
   }
   /* The allocator hands the freed block back most of the time; were it
    * never, this test would not test the cache. */
   ck_assert_int_gt (reused, 0);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
names_cache_suite (void)
{
   Suite *suite = suite_create ("names cache");
   TCase *tc = tcase_create ("names cache");
   tcase_add_test (tc, test_reused_address_gets_its_own_db);
   suite_add_tcase (suite, tc);
   return suite;
}
