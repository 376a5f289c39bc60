/* A libmongoc program watched by mongowatch, for test/syslog5424-check:
 * real operations against the test server, their records through the
 * configuration CONFIG (a syslog5424 handler, and a JSON-lines file of the
 * same records for the check to compare with).
 *
 *   MONGOWATCH_TEST_URI=URI syslog5424_app CONFIG ROUNDS[,ROUNDS...]
 *
 * Each round is six operations on a collection of its own process: an
 * insert_one, the same insert again (a duplicate key: a record with an
 * Error), a find iterated to its end, an update_one, a count_documents and
 * a delete_one, their filters and values full of what RFC 5424 escapes
 * ('"', '\' and ']') and of text beyond ASCII.  With several counts the
 * rounds come in phases: after each phase but the last it prints
 * "phase N OPS PID" (OPS: operations so far) and waits for a line on stdin,
 * for the check to stop or start the daemon meanwhile.  At the end it
 * prints "pid PID ops OPS" and shuts mongowatch down (the queues drain).
 *
 * With MWATCH_APP_FORKS=N, at the end of each phase but the first and the
 * last (the daemon is down then) it forks N times, each child exiting at
 * once, as a pre-fork server starting workers would, and says on stderr
 * "syslog5424_app: N forks, the longest US us". */
#include <mongowatch.h>
#include <mongoc/mongoc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRICKY "quote\" backslash\\ bracket] [open \xc3\xa9t\xc3\xa9 \xe2\x9c\x93 a=b"

static int ops;

static void
check (bool ok, const char *what, const bson_error_t *error)
{
   ops++;
   if (!ok && error) {
      fprintf (stderr, "syslog5424_app: %s: %s\n", what, error->message);
      exit (1);
   }
}

static void
round_ops (mongoc_collection_t *coll, int i)
{
   bson_error_t error;
   bson_t *doc = BCON_NEW ("_id", BCON_INT32 (i), "s", BCON_UTF8 (TRICKY), "n", BCON_INT32 (i));
   check (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "insert", &error);
   /* A duplicate key: the operation fails, its record has an Error. */
   bool dup = mongoc_collection_insert_one (coll, doc, NULL, NULL, &error);
   check (!dup, "duplicate insert succeeded", NULL);
   if (dup) {
      fprintf (stderr, "syslog5424_app: a duplicate _id was inserted\n");
      exit (1);
   }
   bson_t *filter = BCON_NEW ("_id", BCON_INT32 (i), "s", BCON_UTF8 (TRICKY));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *found;
   while (mongoc_cursor_next (cursor, &found)) {
   }
   check (!mongoc_cursor_error (cursor, &error), "find", &error);
   mongoc_cursor_destroy (cursor);
   bson_t *by_id = BCON_NEW ("_id", BCON_INT32 (i));
   bson_t *update = BCON_NEW ("$set", "{", "u", BCON_UTF8 ("]\"\\" TRICKY), "}");
   check (mongoc_collection_update_one (coll, by_id, update, NULL, NULL, &error), "update",
          &error);
   bson_t *count = BCON_NEW ("n", "{", "$lte", BCON_INT32 (i), "}");
   check (mongoc_collection_count_documents (coll, count, NULL, NULL, NULL, &error) >= 0,
          "count", &error);
   check (mongoc_collection_delete_one (coll, by_id, NULL, NULL, &error), "delete", &error);
   bson_destroy (doc);
   bson_destroy (filter);
   bson_destroy (by_id);
   bson_destroy (update);
   bson_destroy (count);
}

/* Forks `n` times: the longest fork() in the parent, in microseconds. */
static int64_t
fork_times (int n)
{
   int64_t longest = 0;
   for (int i = 0; i < n; i++) {
      int64_t start = mwatch_monotonic_us ();
      pid_t pid = fork ();
      if (pid == 0) {
         _exit (0);
      }
      int64_t took = mwatch_monotonic_us () - start;
      longest = took > longest ? took : longest;
      if (pid < 0 || waitpid (pid, NULL, 0) != pid) {
         perror ("syslog5424_app: fork");
         exit (1);
      }
   }
   return longest;
}

int
main (int argc, char **argv)
{
   const char *uri = getenv ("MONGOWATCH_TEST_URI");
   if (argc < 3 || !uri) {
      fprintf (stderr, "usage: MONGOWATCH_TEST_URI=URI %s CONFIG ROUNDS[,ROUNDS...]\n", argv[0]);
      return 2;
   }
   bson_error_t error;
   mongoc_init ();
   if (!mwatch_patch_mongoc (&error) || !mwatch_config_load_file (argv[1], &error)) {
      fprintf (stderr, "syslog5424_app: %s\n", error.message);
      return 1;
   }
   mongoc_client_t *client = mongoc_client_new (uri);
   if (!client) {
      fprintf (stderr, "syslog5424_app: bad URI %s\n", uri);
      return 1;
   }
   char name[32];
   snprintf (name, sizeof name, "c%d", (int) getpid ());
   mongoc_collection_t *coll = mongoc_client_get_collection (client, "mwsyslog", name);
   int i = 0, phase = 0;
   for (char *p = argv[2]; *p;) {
      char *end;
      long rounds = strtol (p, &end, 10);
      for (long r = 0; r < rounds; r++) {
         round_ops (coll, i++);
      }
      p = *end == ',' ? end + 1 : end;
      const char *forks = getenv ("MWATCH_APP_FORKS");
      if (forks && phase > 0 && *p) {
         int n = atoi (forks);
         fprintf (stderr, "syslog5424_app: %d forks, the longest %lld us\n", n,
                  (long long) fork_times (n));
      }
      if (*p) {
         printf ("phase %d %d %d\n", ++phase, ops, (int) getpid ());
         fflush (stdout);
         char line[16];
         if (!fgets (line, sizeof line, stdin)) {
            return 1;
         }
      }
   }
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   printf ("pid %d ops %d\n", (int) getpid (), ops);
   fflush (stdout);
   mwatch_shutdown ();
   mongoc_cleanup ();
   return 0;
}
