/* fork() while another thread is deep in the library: a thread hammers a
 * watched client (get_collection, a find whose cursor is destroyed unread,
 * now and then a change of the watchers' options), so that at any moment
 * it may hold a lock of the watchers, the loggers, the handlers, the
 * queues, the block pool or the pointer maps, while the main thread forks.
 * Each child does one watched operation of its own (an insert on a new
 * client) and exits: a lock it inherited held by a thread it does not have
 * would stop it for ever.  The parent waits for each child a bounded time,
 * then counts the documents the children inserted.
 *
 * The hammering thread makes no round trip: libmongoc's own process-wide
 * lock of its shared pointers, taken in server selection, is not handled
 * across fork() by libmongoc, and a child of a thread inside it hangs in
 * libmongoc (seen: child 597 of 1000, mongoc_atomic_shared_ptr_store). */
#include "integration/suites.h"
#include "test-util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 1000

typedef struct {
   mongoc_client_t *client;
   const char *db_name;
   atomic_bool stop;
   atomic_long rounds;
} hammer_t;

static void *
hammer_main (void *arg)
{
   hammer_t *h = arg;
   bson_t filter = BSON_INITIALIZER;
   BSON_APPEND_INT32 (&filter, "n", 1);
   static const char *const fields[] = {"WatchID", "Operation", "Filter", NULL};
   mwatch_watcher_opts_t opts;
   mwatch_watcher_opts_init (&opts);
   opts.default_fields = fields;
   for (long round = 0; !atomic_load (&h->stop); round++) {
      /* Now and then the watchers' options change, as a configuration
       * reload changes them. */
      if (round % 8 == 0) {
         mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, &opts);
      }
      mongoc_collection_t *coll = mongoc_client_get_collection (h->client, h->db_name, "items");
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
      mongoc_cursor_destroy (cursor);
      mongoc_collection_destroy (coll);
      atomic_fetch_add (&h->rounds, 1);
   }
   bson_destroy (&filter);
   return NULL;
}

/* The child: one watched insert on a client of its own. */
static void
child_main (const char *db_name, int i)
{
   /* Quiet: FerretDB knows no endSessions, which libmongoc warns of at
    * every client's end. */
   mongoc_log_set_handler (NULL, NULL);
   mongoc_client_t *client = mongoc_client_new (mwatch_test_uri ());
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db_name, "forked");
   bson_t doc = BSON_INITIALIZER;
   BSON_APPEND_INT32 (&doc, "child", i);
   bool ok = mongoc_collection_insert_one (coll, &doc, NULL, NULL, NULL);
   bson_destroy (&doc);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   _exit (ok ? 0 : 1);
}

START_TEST (test_fork_while_a_thread_is_watched)
{
   char db_name[64];
   mwatch_test_unique_name ("mwtest_fork", db_name, sizeof db_name);
   /* Every record through the whole pipeline: a queue, its listener, a
    * formatter, a stream. */
   FILE *sink = fopen ("/dev/null", "w");
   ck_assert_ptr_nonnull (sink);
   mwatch_handler_t *stream = mwatch_handler_new_stream (sink);
   mwatch_handler_t *handlers[] = {stream, NULL};
   mwatch_logging_opts_t opts;
   mwatch_logging_opts_init (&opts);
   opts.level = MWATCH_LEVEL_DEBUG;
   bson_error_t error;
   ck_assert_msg (mwatch_add_logging_handlers (&opts, handlers, &error), "%s", error.message);
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);

   hammer_t h = {.client = mwatch_test_client (), .db_name = db_name};
   atomic_init (&h.stop, false);
   atomic_init (&h.rounds, 0);
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, hammer_main, &h), 0);
   int forks = FORKS;
#if defined(__SANITIZE_ADDRESS__)
   /* ASan's allocator is not safe to fork while another thread allocates
    * (see test/unit/test-fork-maps.c): a few forks there. */
   forks = 5;
#endif
   int hung = 0, failed = 0, failed_status = 0;
   for (int i = 0; i < forks && !hung && !failed; i++) {
      pid_t pid = fork ();
      ck_assert_int_ge (pid, 0);
      if (pid == 0) {
         child_main (db_name, i);
      }
      int status;
      if (!mwatch_test_child_exited (pid, 10, &status)) {
         hung = i + 1;
      } else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
         failed = i + 1;
         failed_status = status;
      }
   }
   atomic_store (&h.stop, true);
   pthread_join (thread, NULL);
   mwatch_unpatch_mongoc ();
   mwatch_watcher_set_opts (MWATCH_WATCHER_CURSOR, NULL);
   ck_assert_msg (!hung, "child %d of %d hung (killed after 10 s)", hung, forks);
   ck_assert_msg (!failed, "child %d of %d ended with status %#x", failed, forks, failed_status);
   ck_assert_int_gt (atomic_load (&h.rounds), 0);

   /* Every child's insert reached the server. */
   mongoc_collection_t *coll = mongoc_client_get_collection (h.client, db_name, "forked");
   bson_t all = BSON_INITIALIZER;
   int64_t n = mongoc_collection_count_documents (coll, &all, NULL, NULL, NULL, &error);
   ck_assert_msg (n == forks, "%" PRId64 " documents, not %d: %s", n, forks, error.message);
   mongoc_database_t *db = mongoc_client_get_database (h.client, db_name);
   mongoc_database_drop (db, NULL);
   mongoc_database_destroy (db);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (h.client);
   mwatch_shutdown ();
   mwatch_handler_destroy (stream);
   fclose (sink);
}
END_TEST

Suite *
fork_suite (void)
{
   Suite *suite = suite_create ("fork");
   TCase *tc = tcase_create ("fork");
   tcase_set_timeout (tc, 300);
   tcase_add_test (tc, test_fork_while_a_thread_is_watched);
   suite_add_tcase (suite, tc);
   return suite;
}
