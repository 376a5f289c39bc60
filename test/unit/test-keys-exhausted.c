/* A process that has used up its thread-specific keys (PTHREAD_KEYS_MAX):
 * pthread_key_create fails for the library too.  Its per-thread stacks
 * (the block pool's, here) then work without a destructor, and never set
 * a key that is not theirs: a key variable left at 0 would name another
 * component's key, whose destructor would run on the library's data at
 * the thread's exit.
 *
 * In a child process (this program run again), so that the keys used up
 * and the block pool's first use are the child's own. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/block-pool-private.h"
#include "test-util.h"
#include "unit/suites.h"

#define CHILD_ENV "MWATCH_TEST_KEYS_EXHAUSTED"
#define BLOCKS 40

/* Exit statuses of the child. */
enum { CHILD_OK = 0, CHILD_NO_BLOCK = 1, CHILD_KEY_SET = 2, CHILD_KEYS_LEFT = 3, CHILD_RETURNED = 4 };

/* On a new thread, whose every key starts NULL: blocks taken and given
 * back, more than the thread's own stack holds; then no key may hold a
 * value. */
static void *
thread_uses_pool (void *unused)
{
   (void) unused;
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
      if (pthread_getspecific (k) != NULL) {
         return (void *) (intptr_t) CHILD_KEY_SET;
      }
   }
   return (void *) (intptr_t) CHILD_OK;
}

bool
keys_exhausted_child_main (int *status)
{
   if (!getenv (CHILD_ENV)) {
      return false;
   }
   pthread_key_t key;
   while (pthread_key_create (&key, NULL) == 0) {
   }
   if (pthread_key_create (&key, NULL) == 0) {
      *status = CHILD_KEYS_LEFT;
      return true;
   }
   pthread_t thread;
   void *result;
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

START_TEST (test_block_pool_without_a_key)
{
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      setenv (CHILD_ENV, "1", 1);
      char *argv[] = {(char *) unit_tests_program, NULL};
      execv (unit_tests_program, argv);
      _exit (93);
   }
   int status;
   ck_assert_int_eq (waitpid (pid, &status, 0), pid);
   ck_assert_msg (WIFEXITED (status), "the child died of signal %d",
                  WIFSIGNALED (status) ? WTERMSIG (status) : 0);
   ck_assert_int_eq (WEXITSTATUS (status), CHILD_OK);
}
END_TEST

Suite *
keys_exhausted_suite (void)
{
   Suite *s = suite_create ("keys exhausted");
   TCase *tc = tcase_create ("keys exhausted");
   tcase_add_test (tc, test_block_pool_without_a_key);
   suite_add_tcase (s, tc);
   return s;
}
