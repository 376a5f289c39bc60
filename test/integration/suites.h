#ifndef MWATCH_INTEGRATION_SUITES_H
#define MWATCH_INTEGRATION_SUITES_H

#include <check.h>

Suite *smoke_suite (void);      /* test-smoke.c */
Suite *cursor_suite (void);     /* test-cursor.c */
Suite *cursor_calls_suite (void); /* test-cursor-calls.c */
Suite *collection_suite (void); /* test-collection.c */
Suite *behaviour_suite (void);  /* test-behaviour.c */
Suite *config_watchers_suite (void); /* test-config-watchers.c */
Suite *config_pymongowatch_suite (void); /* test-config-pymongowatch.c */
Suite *records_suite (void);    /* test-records.c */
Suite *privacy_suite (void);    /* test-privacy.c */
Suite *counts_suite (void);     /* test-counts.c */
Suite *fork_suite (void);       /* test-fork.c */
Suite *held_back_suite (void);  /* test-held-back.c */
Suite *held_back_review_suite (void); /* test-held-back-review.c */
Suite *lazy_build_suite (void); /* test-lazy-build.c */
Suite *pymongowatch_filters_suite (void); /* test-pymongowatch-filters.c */
Suite *metrics_integration_suite (void); /* test-metrics.c */

#endif
