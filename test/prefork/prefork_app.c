/* A pre-fork server as the many-processes test (test/prefork-check) runs
 * it: a plain libmongoc program, watched only through the mask
 * (`mongowatch run -c CONFIG -- prefork_app ...`), configured once before
 * main in the parent, as a real pre-fork daemon's parent is.
 *
 *   prefork_app WORKERS OPS DB [ROTATE_PATH]
 *       the parent forks WORKERS workers at once; each opens its own
 *       client and runs OPS finds ({_id: worker}, limit 1) on DB.items,
 *       reading the cursor to its end: OPS final records per worker.
 *       With ROTATE_PATH, worker 0 renames that file to ROTATE_PATH.1
 *       after half its finds, as logrotate would (without copytruncate
 *       and without a signal): the others must notice by themselves.  The
 *       parent waits for every worker and prints "workers N ops M".
 *
 * The URI comes from MONGOWATCH_TEST_URI.  Exit status 0 when every
 * operation worked. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int
worker (int id, int ops, const char *db, const char *rotate)
{
   mongoc_client_t *client = mongoc_client_new (getenv ("MONGOWATCH_TEST_URI"));
   if (!client) {
      return 1;
   }
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, "items");
   bson_t *filter = BCON_NEW ("_id", BCON_INT32 (id));
   bson_t *opts = BCON_NEW ("limit", BCON_INT64 (1));
   int failed = 0;
   for (int i = 0; i < ops; i++) {
      if (rotate && i == ops / 2) {
         char *to = bson_strdup_printf ("%s.1", rotate);
         if (rename (rotate, to) != 0) {
            perror ("rename");
            failed++;
         }
         bson_free (to);
      }
      mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, opts, NULL);
      const bson_t *doc;
      while (mongoc_cursor_next (cursor, &doc)) {
      }
      bson_error_t error;
      if (mongoc_cursor_error (cursor, &error)) {
         fprintf (stderr, "worker %d: find %d: %s\n", id, i, error.message);
         failed++;
      }
      mongoc_cursor_destroy (cursor);
   }
   bson_destroy (filter);
   bson_destroy (opts);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   return failed > 0;
}

int
main (int argc, char **argv)
{
   if (argc < 4) {
      fprintf (stderr, "usage: prefork_app WORKERS OPS DB [ROTATE_PATH]\n");
      return 2;
   }
   int workers = atoi (argv[1]);
   int ops = atoi (argv[2]);
   const char *db = argv[3];
   const char *rotate = argc > 4 ? argv[4] : NULL;
   mongoc_init ();
   int failed = 0;
   for (int i = 0; i < workers; i++) {
      pid_t pid = fork ();
      if (pid == 0) {
         int status = worker (i, ops, db, i == 0 ? rotate : NULL);
         mongoc_cleanup ();
         exit (status); /* exit, not _exit: the mask's atexit drain writes the queue */
      }
      failed += pid < 0;
   }
   for (int i = 0; i < workers; i++) {
      int status;
      if (wait (&status) < 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
         failed++;
      }
   }
   mongoc_cleanup ();
   printf ("workers %d ops %d\n", workers, ops);
   return failed > 0;
}
