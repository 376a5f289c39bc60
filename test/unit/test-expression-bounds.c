/* The expression filter's compiled regexes: a failed compile frees every
 * regex it made (make memcheck reports the leak otherwise). */
#include <stdio.h>
#include <string.h>

#include "../../lib/filter-expression.h"
#include "mongowatch.h"
#include "unit/suites.h"

/* Asserts `expression` is refused with `expected` in the message. */
static void
refused (const char *expression, const char *expected)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_expression (expression, &error);
   ck_assert_msg (!filter, "%s compiled", expression);
   ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
   ck_assert_msg (strstr (error.message, expected),
                  "%s: \"%s\" lacks \"%s\"",
                  expression,
                  error.message,
                  expected);
}

/* A lexical error after a regex: the regex compiled before it is freed
 * (valgrind in make memcheck reports the leak otherwise). */
START_TEST (test_lex_error_after_regex_frees_it)
{
   refused ("Collection =~ \"^news\" && DB == \"x\"", "unknown operator \"&&\"");
   refused ("Collection =~ \"a\" and DB =~ \"b\" 'c'", "unexpected character");
}
END_TEST

Suite *
expression_bounds_suite (void)
{
   Suite *s = suite_create ("expression-bounds");
   TCase *tc = tcase_create ("bounds");
   tcase_add_test (tc, test_lex_error_after_regex_frees_it);
   suite_add_tcase (s, tc);
   return s;
}
