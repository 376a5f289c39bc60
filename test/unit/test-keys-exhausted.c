/* A process that has used up its thread-specific keys (PTHREAD_KEYS_MAX):
 * pthread_key_create fails for the library too.  Its per-thread stacks
 * (the block pool's, here) then work without a destructor, and never set
 * a key that is not theirs: a key variable left at 0 would name another
 * component's key, whose destructor would run on the library's data at
 * the thread's exit.
 *
 * In a child process (this program run again), so that the keys used up
 * and the block pool's and the cursor cache's first uses are the child's
 * own. */
#include <limits.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/block-pool-private.h"
#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#define CHILD_ENV "MWATCH_TEST_KEYS_EXHAUSTED"
#define BLOCKS 40

/* Exit statuses of the child. */
enum { CHILD_OK = 0, CHILD_NO_BLOCK = 1, CHILD_KEY_SET = 2, CHILD_KEYS_LEFT = 3, CHILD_RETURNED = 4 };

/* On a new thread: blocks taken and given back, more than the thread's
 * own stack holds; then no key may have got a value.  Keys with one
 * already when the thread starts (a sanitizer's runtime sets its own) are
 * left out. */
static void *
thread_uses_pool (void *unused)
{
   (void) unused;
   static bool had_value[PTHREAD_KEYS_MAX];
   for (pthread_key_t k = 0; k < PTHREAD_KEYS_MAX; k++) {
      had_value[k] = pthread_getspecific (k) != NULL;
   }
   void *blocks[BLOCKS];
   bool pooled[BLOCKS];
   for (int i = 0; i < BLOCKS; i++) {
      blocks[i] = _mwatch_block_get (100, &pooled[i]);
      if (!blocks[i]) {
         return (void *) (intptr_t) CHILD_NO_BLOCK;
      }
   }
   for (int i = 0; i < BLOCKS; i++) {
      _mwatch_block_put (blocks[i], pooled[i]);
   }
   for (pthread_key_t k = 0; k < PTHREAD_KEYS_MAX; k++) {
      if (!had_value[k] && pthread_getspecific (k) != NULL) {
         return (void *) (intptr_t) CHILD_KEY_SET;
      }
   }
   return (void *) (intptr_t) CHILD_OK;
}

/* A watched cursor read on a thread of its own (against no server: the
 * read fails after the server selection's timeout, which ends the
 * operation with its final record); it caches the cursor's watch. */
static mongoc_cursor_t *cursor;

static void *
thread_reads_cursor (void *unused)
{
   (void) unused;
   const bson_t *doc;
   while (mongoc_cursor_next (cursor, &doc)) {
   }
   return NULL;
}

/* The library watching, into /dev/null, and a client: before the keys
 * are used up, as an application's set-up would be (libmongoc's own
 * start may need keys). */
static mongoc_collection_t *
watched_collection (mongoc_client_t **client)
{
   bson_error_t error;
   mwatch_handler_t *file = mwatch_handler_new_file ("/dev/null", &error);
   mwatch_handler_t *handlers[] = {file, NULL};
   if (!file || !mwatch_patch_mongoc (&error) ||
       !mwatch_add_logging_handlers (NULL, handlers, &error)) {
      return NULL;
   }
   mwatch_handler_destroy (file);
   mongoc_init ();
   *client = mongoc_client_new ("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=50");
   return mongoc_client_get_collection (*client, "keys_exhausted", "c");
}

bool
keys_exhausted_child_main (int *status)
{
   const char *role = getenv (CHILD_ENV);
   if (!role) {
      return false;
   }
   mongoc_client_t *client = NULL;
   mongoc_collection_t *collection = NULL;
   if (strcmp (role, "cursor") == 0 && !(collection = watched_collection (&client))) {
      *status = 91;
      return true;
   }
   pthread_key_t key;
   while (pthread_key_create (&key, NULL) == 0) {
   }
   if (pthread_key_create (&key, NULL) == 0) {
      *status = CHILD_KEYS_LEFT;
      return true;
   }
   pthread_t thread;
   void *result = NULL;
   if (collection) {
      /* Made after the keys are gone: the cursor cache's key with them.
       * The reading thread's exit then runs no destructor on a key that
       * is not the cache's (before the check, that crashed). */
      bson_t filter = BSON_INITIALIZER;
      cursor = mongoc_collection_find_with_opts (collection, &filter, NULL, NULL);
      if (pthread_create (&thread, NULL, thread_reads_cursor, NULL) != 0 ||
          pthread_join (thread, NULL) != 0) {
         *status = 90;
         return true;
      }
      mongoc_cursor_destroy (cursor);
      mongoc_collection_destroy (collection);
      mongoc_client_destroy (client);
      *status = CHILD_OK;
      return true;
   }
   if (pthread_create (&thread, NULL, thread_uses_pool, NULL) != 0 ||
       pthread_join (thread, &result) != 0) {
      *status = 90;
      return true;
   }
   *status = (int) (intptr_t) result;
   /* With no stack of its own, the thread's exit had nothing to give. */
   if (*status == CHILD_OK && _mwatch_block_pool_exit_returns () != 0) {
      *status = CHILD_RETURNED;
   }
   return true;
}

/* Runs this program again as the child of `role`; returns its status. */
static int
run_child (const char *role)
{
   return mwatch_test_rerun (unit_tests_program, CHILD_ENV, role);
}

static void
assert_child_ok (int status)
{
   ck_assert_msg (WIFEXITED (status), "the child died of signal %d",
                  WIFSIGNALED (status) ? WTERMSIG (status) : 0);
   ck_assert_int_eq (WEXITSTATUS (status), CHILD_OK);
}

START_TEST (test_block_pool_without_a_key)
{
   assert_child_ok (run_child ("pool"));
}
END_TEST

START_TEST (test_cursor_cache_without_a_key)
{
   assert_child_ok (run_child ("cursor"));
}
END_TEST

Suite *
keys_exhausted_suite (void)
{
   Suite *s = suite_create ("keys exhausted");
   TCase *tc = tcase_create ("keys exhausted");
   tcase_add_test (tc, test_block_pool_without_a_key);
   tcase_add_test (tc, test_cursor_cache_without_a_key);
   suite_add_tcase (s, tc);
   return s;
}
