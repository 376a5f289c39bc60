/* ping URI [SECONDS]: waits until the server at URI answers {ping: 1}, for at
 * most SECONDS (default 60).  Exit status 0 when it answered.  test/server
 * uses it to await a freshly started server instead of sleeping. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
   if (argc < 2) {
      fprintf (stderr, "usage: %s URI [SECONDS]\n", argv[0]);
      return 2;
   }
   double seconds = argc > 2 ? atof (argv[2]) : 60.0;
   mongoc_init ();
   bson_error_t error;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (argv[1], &error);
   if (!uri) {
      fprintf (stderr, "ping: bad URI %s: %s\n", argv[1], error.message);
      return 2;
   }
   /* Each attempt waits up to 500 ms for the server to be selectable. */
   mongoc_uri_set_option_as_int32 (uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 500);
   mongoc_uri_set_option_as_int32 (uri, MONGOC_URI_CONNECTTIMEOUTMS, 500);
   int64_t deadline = bson_get_monotonic_time () + (int64_t) (seconds * 1e6);
   bool ok = false;
   bson_t *cmd = BCON_NEW ("ping", BCON_INT32 (1));
   do {
      mongoc_client_t *client = mongoc_client_new_from_uri (uri);
      ok = client && mongoc_client_command_simple (client, "admin", cmd, NULL, NULL, &error);
      mongoc_client_destroy (client);
   } while (!ok && bson_get_monotonic_time () < deadline);
   if (!ok) {
      fprintf (stderr, "ping: %s did not answer within %.0f s: %s\n", argv[1], seconds,
               error.message);
   }
   bson_destroy (cmd);
   mongoc_uri_destroy (uri);
   mongoc_cleanup ();
   return ok ? 0 : 1;
}
