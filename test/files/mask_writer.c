/* A libmongoc program that knows nothing of mongowatch, for the mask's
 * part of test/files-check: under the mask its operations are the records,
 * each on a collection of its own ("c000123"), so that the script can
 * find every one of them in the rotated files.
 *
 *   MONGOWATCH_TEST_URI=URI mask_writer DB COUNT [paced]
 *
 * Counts the documents of collections c000000 .. cCOUNT-1 of DB.  Without
 * `paced` it stops half-way: prints "ready" and waits for a line on stdin
 * (the rotation happens then); with it, one operation every millisecond,
 * the rotations happening meanwhile.  Prints "done" at the end. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main (int argc, char **argv)
{
   const char *uri = getenv ("MONGOWATCH_TEST_URI");
   if (argc < 3 || !uri) {
      fprintf (stderr, "usage: MONGOWATCH_TEST_URI=URI %s DB COUNT [paced]\n", argv[0]);
      return 2;
   }
   int count = atoi (argv[2]);
   bool paced = argc > 3 && strcmp (argv[3], "paced") == 0;
   bson_error_t error;
   bson_t filter = BSON_INITIALIZER;

   mongoc_init ();
   mongoc_client_t *client = mongoc_client_new (uri);
   if (!client) {
      fprintf (stderr, "mask_writer: bad URI %s\n", uri);
      return 1;
   }
   for (int i = 0; i < count; i++) {
      if (!paced && i == count / 2) {
         printf ("ready\n");
         fflush (stdout);
         char line[16];
         if (!fgets (line, sizeof line, stdin)) {
            return 1;
         }
      }
      char name[16];
      snprintf (name, sizeof name, "c%06d", i);
      mongoc_collection_t *coll = mongoc_client_get_collection (client, argv[1], name);
      int64_t n = mongoc_collection_count_documents (coll, &filter, NULL, NULL, NULL, &error);
      mongoc_collection_destroy (coll);
      if (n < 0) {
         fprintf (stderr, "mask_writer: count: %s\n", error.message);
         return 1;
      }
      if (paced) {
         struct timespec ts = {0, 1000 * 1000};
         nanosleep (&ts, NULL);
      }
   }
   mongoc_client_destroy (client);
   mongoc_cleanup ();
   printf ("done\n");
   fflush (stdout);
   return 0;
}
