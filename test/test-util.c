#include "test-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
mwatch_test_run_suites (Suite **suites)
{
   SRunner *runner = srunner_create (suites[0]);
   for (size_t i = 1; suites[i]; i++) {
      srunner_add_suite (runner, suites[i]);
   }
   srunner_run_all (runner, CK_NORMAL);
   int failed = srunner_ntests_failed (runner);
   srunner_free (runner);
   return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const char *
mwatch_test_uri (void)
{
   const char *uri = getenv ("MONGOWATCH_TEST_URI");
   ck_assert_msg (uri && *uri,
                  "MONGOWATCH_TEST_URI is not set: run the integration tests "
                  "through test/server (make check)");
   return uri;
}

mongoc_client_t *
mwatch_test_client (void)
{
   bson_error_t error;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (mwatch_test_uri (), &error);
   ck_assert_msg (uri, "bad MONGOWATCH_TEST_URI: %s", error.message);
   mongoc_client_t *client = mongoc_client_new_from_uri_with_error (uri, &error);
   ck_assert_msg (client, "cannot create client: %s", error.message);
   mongoc_client_set_appname (client, "mongowatch-tests");
   mongoc_uri_destroy (uri);
   return client;
}

void
mwatch_test_unique_name (const char *prefix, char *out, size_t size)
{
   static int counter;
   snprintf (out, size, "%s_%d_%d", prefix, (int) getpid (), ++counter);
}
