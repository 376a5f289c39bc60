/* The unit test runner: every suite of the pure parts, no server needed. */
#include "test-util.h"
#include "unit/suites.h"

const char *unit_tests_program;

int
main (int argc, char **argv)
{
   (void) argc;
   unit_tests_program = argv[0];
   /* A child process some tests start by running this program again. */
   int status;
   if (signal_drain_child_main (&status)) {
      return status;
   }
   if (file_faults_child_main (&status)) {
      return status;
   }
   if (keys_exhausted_child_main (&status)) {
      return status;
   }
   Suite *suites[] = {
      buf_suite (),       message_suite (),  render_suite (),  queue_suite (),
      formatter_suite (), handlers_suite (), logging_suite (),  filters_suite (),
      config_suite (),    fast_paths_suite (), backpressure_suite (), signal_drain_suite (),
      config_trust_suite (), secrets_suite (), expression_bounds_suite (), fork_maps_suite (),
      fork_handlers_suite (), file_faults_suite (), syslog_faults_suite (),
      report_locks_suite (), lazy_dispatch_suite (), syslog5424_suite (), metrics_suite (), otlp_json_suite (), mongodb_doc_suite (), thread_caches_suite (), pending_hands_suite (),
      record_build_suite (), counts_read_suite (), keys_exhausted_suite (), field_names_suite (),
      counts_scan_suite (), queue_poll_suite (),
      NULL,
   };
   return mwatch_test_run_suites (suites);
}
