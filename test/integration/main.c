/* The integration test runner: suites that talk to a real server, whose URI
 * test/server passes in MONGOWATCH_TEST_URI. */
#include <mongoc/mongoc.h>

#include "integration/suites.h"
#include "test-util.h"

int
main (void)
{
   mongoc_init ();
   Suite *suites[] = {
      smoke_suite (), cursor_suite (), cursor_calls_suite (), collection_suite (),
      behaviour_suite (), config_watchers_suite (), config_pymongowatch_suite (), records_suite (), privacy_suite (),
      counts_suite (), fork_suite (), held_back_suite (), held_back_review_suite (), lazy_build_suite (),
      pymongowatch_filters_suite (), metrics_integration_suite (), NULL,
   };
   int status = mwatch_test_run_suites (suites);
   mongoc_cleanup ();
   return status;
}
