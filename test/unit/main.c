/* The unit test runner: every suite of the pure parts, no server needed. */
#include "test-util.h"
#include "unit/suites.h"

int
main (void)
{
   Suite *suites[] = {
      buf_suite (),       message_suite (),  render_suite (),  queue_suite (),
      formatter_suite (), handlers_suite (), logging_suite (),  filters_suite (),
      config_suite (),    fast_paths_suite (), expression_bounds_suite (),
      NULL,
   };
   return mwatch_test_run_suites (suites);
}
