#ifndef MWATCH_INTEGRATION_SUITES_H
#define MWATCH_INTEGRATION_SUITES_H

#include <check.h>

Suite *smoke_suite (void); /* test-smoke.c */

#endif
