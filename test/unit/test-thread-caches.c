/* Answers cached per thread against a generation that every change of
 * what they depend on bumps: each change is seen by the next call on the
 * same thread.
 *
 * The database name of a collection (lib/watch-names.c, db_cache): every
 * collection made or destroyed bumps its generation.  A collection destroyed and another made at the same address, of
 * another database, must give the new database's name: the cache must not
 * answer for the old one.  No server is needed: get_collection makes no
 * connection. */
#include <mongoc/mongoc.h>
#include <pthread.h>

#include "../../lib/block-pool-private.h"
#include "../../lib/watch-names-private.h"
#include "../../lib/watch-options-private.h"
#include "../../lib/watch-private.h"
#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"


START_TEST (test_reused_address_gets_its_own_db)
{
   mongoc_client_t *client = mongoc_client_new ("mongodb://127.0.0.1:1");
   mongoc_collection_t *coll = mongoc_client_get_collection (client, "names_first", "c");
   /* Asked twice: the second answer is the cache's. */
   for (int i = 0; i < 2; i++) {
      ck_assert_str_eq (_mwatch_collection_db_cached (coll), "names_first");
   }
   /* The same address recorded for another database (as a rename, or a
    * collection made where a destroyed one was, records it). */
   _mwatch_names_collection_created (coll, "names_second");
   ck_assert_str_eq (_mwatch_collection_db_cached (coll), "names_second");
   /* Destroyed: not known any more (the address is only a key here). */
   const mongoc_collection_t *gone = coll;
   mongoc_collection_destroy (coll);
   ck_assert_ptr_null (_mwatch_collection_db_cached (gone));
   /* And through the allocator: a collection destroyed and another made,
    * most often at the same address (not under valgrind, whose allocator
    * does not hand a freed block straight back). */
   for (int i = 0; i < 20; i++) {
      mongoc_collection_t *first = mongoc_client_get_collection (client, "names_first", "c");
      ck_assert_str_eq (_mwatch_collection_db_cached (first), "names_first");
      mongoc_collection_destroy (first);
      mongoc_collection_t *second = mongoc_client_get_collection (client, "names_second", "c");
      ck_assert_str_eq (_mwatch_collection_db_cached (second), "names_second");
      mongoc_collection_destroy (second);
   }
   mongoc_client_destroy (client);
}
END_TEST

/* A watcher's options (lib/watch-options.c, opts_cache): mwatch_watcher_set_opts
 * and mwatch_watcher_set_operation_maps bump their generation. */
START_TEST (test_watcher_options_follow_each_change)
{
   mwatch_watcher_opts_t saved, opts, changed;
   mwatch_watcher_get_opts (MWATCH_WATCHER_CURSOR, &saved);
   for (int i = 0; i < 2; i++) {
      ck_assert_ptr_null (_mwatch_watcher_config (MWATCH_WATCHER_CURSOR, &opts));
      ck_assert (opts.timeout_sec == saved.timeout_sec);
   }
   changed = saved;
   changed.timeout_sec = 7.5;
   changed.final_level = MWATCH_LEVEL_WARNING;
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &changed);
   ck_assert_ptr_null (_mwatch_watcher_config (MWATCH_WATCHER_CURSOR, &opts));
   ck_assert (opts.timeout_sec == 7.5);
   ck_assert_int_eq (opts.final_level, MWATCH_LEVEL_WARNING);
   /* The other kind's options are its own. */
   mwatch_watcher_opts_t other;
   mwatch_watcher_get_opts (MWATCH_WATCHER_COLLECTION, &other);
   ck_assert_ptr_null (_mwatch_watcher_config (MWATCH_WATCHER_COLLECTION, &opts));
   ck_assert (opts.timeout_sec == other.timeout_sec);
   static const char *const drop[] = {"Filter", NULL};
   const mwatch_operation_map_t map = {.operation = "find", .drop = drop};
   mwatch_watcher_set_operation_maps (MWATCH_WATCHER_CURSOR, &map, 1);
   mwatch_op_maps_t *maps = _mwatch_watcher_config (MWATCH_WATCHER_CURSOR, &opts);
   ck_assert_ptr_nonnull (maps);
   ck_assert (opts.timeout_sec == 7.5);
   _mwatch_op_maps_unref (maps);
   mwatch_watcher_set_operation_maps (MWATCH_WATCHER_CURSOR, NULL, 0);
   ck_assert_ptr_null (_mwatch_watcher_config (MWATCH_WATCHER_CURSOR, &opts));
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &saved);
   ck_assert_ptr_null (_mwatch_watcher_config (MWATCH_WATCHER_CURSOR, &opts));
   ck_assert (opts.timeout_sec == saved.timeout_sec);
   ck_assert_int_eq (opts.final_level, saved.final_level);
}
END_TEST

/* A literal operation name is kept by its address (no copy per
 * operation); any other name is copied, and outlives the caller's buffer
 * (a command's name lives in the command document). */
START_TEST (test_literal_operation_kept_by_address)
{
   static const char literal[] = "insert_one";
   mwatch_watch_t *watch =
      _mwatch_watch_new_literal (MWATCH_WATCHER_COLLECTION, literal, "names_db", "c");
   ck_assert_ptr_eq (_mwatch_watch_operation (watch), literal);
   _mwatch_watch_unref (watch);

   char transient[32] = "countDocuments";
   watch = _mwatch_watch_new (MWATCH_WATCHER_COLLECTION, transient, "names_db", "c");
   ck_assert_ptr_ne (_mwatch_watch_operation (watch), transient);
   memset (transient, 'x', sizeof transient - 1);
   mwatch_message_t *msg = mwatch_cursor_lock (watch);
   mwatch_value_t v;
   ck_assert (mwatch_message_get (msg, "Operation", &v));
   ck_assert_int_eq (v.type, MWATCH_TYPE_UTF8);
   ck_assert_str_eq (v.value.v_utf8.str, "countDocuments");
   mwatch_cursor_unlock (watch);
   _mwatch_watch_unref (watch);
}
END_TEST

/* The block pool's stack per thread: a thread that takes and gives blocks
 * visits the shared stack (under its lock) once per batch, not per block;
 * blocks given on one thread reach another through the shared stack; a
 * thread's exit gives its stack back (make memcheck: nothing lost). */
#define POOL_ROUNDS 1000

static void *
pool_round_trips (void *blocks)
{
   void **kept = blocks;
   size_t before = _mwatch_block_pool_visits ();
   for (int i = 0; i < POOL_ROUNDS; i++) {
      bool pooled_a, pooled_b;
      void *a = _mwatch_block_get (MWATCH_BLOCK_SIZE, &pooled_a);
      void *b = _mwatch_block_get (100, &pooled_b);
      ck_assert (pooled_a && pooled_b);
      _mwatch_block_put (b, pooled_b);
      _mwatch_block_put (a, pooled_a);
   }
   /* At most the first take and the thread's first batch. */
   ck_assert_uint_le (_mwatch_block_pool_visits () - before, 4);
   /* Blocks for another thread to give back. */
   for (int i = 0; i < 40; i++) {
      bool pooled;
      kept[i] = _mwatch_block_get (MWATCH_BLOCK_SIZE, &pooled);
   }
   return NULL;
}

static void *
pool_give_back (void *blocks)
{
   void **kept = blocks;
   /* More than a thread keeps: a batch goes to the shared stack. */
   size_t before = _mwatch_block_pool_visits ();
   for (int i = 0; i < 40; i++) {
      _mwatch_block_put (kept[i], true);
   }
   ck_assert_uint_ge (_mwatch_block_pool_visits () - before, 1);
   ck_assert_uint_le (_mwatch_block_pool_visits () - before, 2);
   /* The rest goes back at the thread's exit. */
   return NULL;
}

START_TEST (test_block_pool_per_thread)
{
   void *kept[40];
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, pool_round_trips, kept), 0);
   ck_assert_int_eq (pthread_join (thread, NULL), 0);
   size_t returned = _mwatch_block_pool_exit_returns ();
   ck_assert_int_eq (pthread_create (&thread, NULL, pool_give_back, kept), 0);
   ck_assert_int_eq (pthread_join (thread, NULL), 0);
   /* Its stack kept 40 - 16 of them, given back at its exit. */
   ck_assert_uint_ge (_mwatch_block_pool_exit_returns () - returned, 40 - 16);
}
END_TEST

Suite *
thread_caches_suite (void)
{
   Suite *suite = suite_create ("thread caches");
   TCase *tc = tcase_create ("thread caches");
   tcase_add_test (tc, test_reused_address_gets_its_own_db);
   tcase_add_test (tc, test_watcher_options_follow_each_change);
   tcase_add_test (tc, test_literal_operation_kept_by_address);
   tcase_add_test (tc, test_block_pool_per_thread);
   suite_add_tcase (suite, tc);
   return suite;
}
