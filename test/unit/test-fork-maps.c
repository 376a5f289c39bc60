/* fork() while another thread is inside the library's pointer maps: the
 * names map is taken on every mongoc_client_get_collection (patched or
 * not), so a child forked while a thread held one of its locks would wait
 * for ever on its next get_collection.  A thread hammers get_collection
 * while the main thread forks; each child does one get_collection (and a
 * watched collection's destroy) and exits.  A child that does not exit in
 * time is a deadlock. */
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#define FORKS 300

static atomic_bool stop;

static void *
hammer (void *client)
{
   mongoc_collection_t *colls[64];
   while (!atomic_load (&stop)) {
      for (int k = 0; k < 64; k++) {
         colls[k] = mongoc_client_get_collection (client, "db", "items");
      }
      for (int k = 0; k < 64; k++) {
         mongoc_collection_destroy (colls[k]);
      }
   }
   return NULL;
}

START_TEST (test_fork_while_maps_are_busy)
{
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
   /* No server is needed: get_collection makes no connection. */
   mongoc_client_t *client = mongoc_client_new ("mongodb://127.0.0.1:1");
   atomic_store (&stop, false);
   pthread_t thread;
   pthread_create (&thread, NULL, hammer, client);
   /* Under valgrind (make memcheck) each child's exit is a whole leak
    * check: fewer forks there; the full count runs in unit-check. */
   int forks = getenv ("MWATCH_MEMCHECK") ? 10 : FORKS;
   int hung = 0;
   for (int i = 0; i < forks && !hung; i++) {
      pid_t pid = fork ();
      ck_assert_int_ge (pid, 0);
      if (pid == 0) {
         /* Enough collections alive at once (each at its own address) to
          * meet every shard of the map. */
         mongoc_collection_t *colls[512];
         for (int k = 0; k < 512; k++) {
            colls[k] = mongoc_client_get_collection (client, "db", "child");
         }
         for (int k = 0; k < 512; k++) {
            mongoc_collection_destroy (colls[k]);
         }
         _exit (0);
      }
      int status;
      if (!mwatch_test_child_exited (pid, 10, &status)) {
         hung = i + 1;
      } else {
         /* Ended by itself, not by a signal (under valgrind, whose leak
          * check in a forked child sets a status of its own, any status). */
         ck_assert_msg (WIFEXITED (status), "child %d: status %#x", i, status);
      }
   }
   atomic_store (&stop, true);
   pthread_join (thread, NULL);
   mongoc_client_destroy (client);
   mwatch_unpatch_mongoc ();
   ck_assert_msg (!hung, "child %d of %d hung in get_collection", hung, forks);
}
END_TEST

Suite *
fork_maps_suite (void)
{
   Suite *suite = suite_create ("fork maps");
   TCase *tc = tcase_create ("fork maps");
   tcase_set_timeout (tc, 120);
#if !defined(__SANITIZE_ADDRESS__)
   /* Not in the AddressSanitizer build (make asan-check): ASan's own
    * allocator (gcc 12's libasan) is not safe to fork while another thread
    * allocates.  A child hangs in SizeClassAllocator64::GetFromAllocator
    * on a region mutex the parent's other thread held at fork (gdb: a
    * bson_aligned_alloc0 under mongoc_client_get_collection, no lock of
    * ours held): with 300 forks in 2 runs of 3, and even with 5 forks in
    * CI.  What it would test there is libasan, not the library; the full
    * 300 forks run in unit-check and 10 under valgrind (memcheck). */
   tcase_add_test (tc, test_fork_while_maps_are_busy);
#else
   (void) test_fork_while_maps_are_busy;
#endif
   suite_add_tcase (suite, tc);
   return suite;
}
