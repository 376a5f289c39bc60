#ifndef MWATCH_UNIT_SUITES_H
#define MWATCH_UNIT_SUITES_H

#include <check.h>

Suite *buf_suite (void);       /* test-buf.c */
Suite *message_suite (void);   /* test-message.c */
Suite *render_suite (void);    /* test-render.c */
Suite *queue_suite (void);     /* test-queue.c */
Suite *formatter_suite (void); /* test-formatter.c */
Suite *handlers_suite (void);  /* test-handlers.c */
Suite *logging_suite (void);   /* test-logging.c */
Suite *filters_suite (void);   /* test-filters.c */
Suite *config_suite (void);    /* test-config.c */
Suite *fast_paths_suite (void); /* test-fast-paths.c */
Suite *backpressure_suite (void); /* test-backpressure.c */
Suite *signal_drain_suite (void); /* test-signal-drain.c */
Suite *config_trust_suite (void); /* test-config-trust.c */
Suite *fork_maps_suite (void); /* test-fork-maps.c */
Suite *fork_handlers_suite (void); /* test-fork-handlers.c */
/* When this run is the child of test-signal-drain.c: true, having done
 * its part (if the signal let it return at all), with `*status` set. */
bool signal_drain_child_main (int *status);
/* argv[0], for tests that run this program again. */
extern const char *unit_tests_program;
Suite *secrets_suite (void);   /* test-secrets.c */
Suite *expression_bounds_suite (void); /* test-expression-bounds.c */
Suite *file_faults_suite (void); /* test-file-faults.c */
/* When this run is the child of test-file-faults.c's SIGHUP test: true,
 * with `*status` set. */
bool file_faults_child_main (int *status);
Suite *syslog_faults_suite (void); /* test-syslog-faults.c */
Suite *report_locks_suite (void); /* test-report-locks.c */
Suite *lazy_dispatch_suite (void); /* test-lazy-dispatch.c */
Suite *syslog5424_suite (void); /* test-syslog5424.c */
Suite *metrics_suite (void); /* test-metrics.c */
Suite *otlp_json_suite (void); /* test-otlp-json.c */
Suite *mongodb_doc_suite (void); /* test-mongodb-doc.c */
Suite *thread_caches_suite (void); /* test-thread-caches.c */
Suite *record_build_suite (void); /* test-record-build.c */
Suite *pending_hands_suite (void); /* test-pending-hands.c */
Suite *counts_read_suite (void); /* test-counts-read.c */
Suite *counts_scan_suite (void); /* test-counts-scan.c */
Suite *keys_exhausted_suite (void); /* test-keys-exhausted.c */
/* When this run is the child of test-keys-exhausted.c: true, with
 * `*status` set. */
bool keys_exhausted_child_main (int *status);
Suite *field_names_suite (void); /* test-field-names.c */
Suite *queue_poll_suite (void); /* test-queue-poll.c */

#endif
