/* The bounds of =~ in the expression filter: patterns that would make
 * glibc's regcomp or regexec run away (stacked and nested repetitions,
 * huge intervals, back-references) are refused at load with a clear error,
 * in a configuration file too; a string too long to match in bounded time
 * does not match and is counted; and a failed compile frees every regex it
 * made.  Each case runs under its test case's timeout: before the bounds,
 * the first took 21 GB and a minute, the second 15.7 s per record. */
#include <stdio.h>
#include <string.h>

#include "../../lib/filter-expression-private.h"
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

static void
accepted (const char *expression)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_expression (expression, &error);
   ck_assert_msg (filter, "%s: %s", expression, error.message);
   mwatch_filter_destroy (filter);
}

/* "Collection =~ \"<prefix><n times rep>\"" in a buffer of the caller's. */
static const char *
pattern_of (char *out, size_t size, const char *prefix, const char *rep, int n)
{
   size_t used = (size_t) snprintf (out, size, "Collection =~ \"%s", prefix);
   for (int i = 0; i < n; i++) {
      used += (size_t) snprintf (out + used, size - used, "%s", rep);
   }
   snprintf (out + used, size - used, "\"");
   return out;
}

START_TEST (test_stacked_repetitions_refused)
{
   char text[4096];

   /* The reported bomb: 25 "+" after one character. */
   refused (pattern_of (text, sizeof text, "Y", "+", 25), "nests repetitions deeper than 4");
   refused ("Collection =~ \"((((((a*)*)*)*)*)*)\"", "nests repetitions deeper than 4");
   refused ("Collection =~ \"(a{1,100}){1,100}\"", "too large");
   refused ("Collection =~ \"a{1,10000}\"", "too large");
   refused ("Collection =~ \"(.*){3000}\"", "too large");
   refused ("Collection =~ \"((a|b|c|d|e|f|g|h){30}){30}\"", "too large");
   refused (pattern_of (text, sizeof text, "", "a", 1025), "1025 bytes is too long");
   refused (pattern_of (text, sizeof text, "", "(", 65), "nests groups deeper than 64");
   /* The error points at the pattern. */
   refused ("Collection =~ \"a{1,10000}\"", "at column 15");
}
END_TEST

START_TEST (test_back_references_refused)
{
   /* ^(a|aa)*\1$ took over 20 s on 4 KB of "a". */
   refused ("Collection =~ \"^(a|aa)*\\\\1$\"", "back-reference \\1");
   /* An escaped backslash before a digit is no back-reference. */
   accepted ("Collection =~ \"a\\\\\\\\1\"");
}
END_TEST

START_TEST (test_ordinary_patterns_accepted)
{
   accepted ("Collection =~ \"^(news|logs)_[0-9]{4}-[0-9]{2}$\"");
   /* Four deep is the most. */
   accepted ("Collection =~ \"Y++++\"");
   accepted ("Collection =~ \"(((a+)*)?)+\"");
   refused ("Collection =~ \"Y+++++\"", "nests repetitions deeper than 4");
   accepted ("Collection =~ \"a{1,500}\"");
   accepted ("Collection =~ \"[[:alpha:]]+[]a-z]*[^]]?\\\\{x\"");
   /* Not an interval: passed on, and regcomp says what is wrong. */
   refused ("Collection =~ \"a{x\"", "invalid regular expression: Unmatched");
}
END_TEST

/* The reported bomb, refused in a configuration with its file, line and
 * key, like any other configuration error. */
START_TEST (test_bomb_in_configuration)
{
   bson_error_t error;
   const char *text = "version: 1\nfilters:\n  bomb:\n    '()': mongowatch.filters.expression\n"
                      "    expression: 'Collection =~ \"Y+++++++++++++++++++++++++\"'\n";

   ck_assert (!mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error));
   ck_assert_msg (strstr (error.message, "<string>:5:17: filters.bomb.expression: ") &&
                     strstr (error.message, "nests repetitions deeper than 4"),
                  "%s",
                  error.message);
}
END_TEST

static mwatch_message_t *
message_with (const char *collection)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "Collection", collection);
   return msg;
}

/* (a|aa)*c on 100 KB took 15.7 s; a string over the bound does not match,
 * is counted, and one at the bound is matched as before. */
START_TEST (test_long_subject_does_not_match)
{
   mwatch_expr_program_t prog;
   bson_error_t error;
   char *subject = bson_malloc (100 * 1024 + 1);

   ck_assert_msg (_mwatch_expr_program_compile (&prog, "Collection =~ \"(a|aa)*c\"", &error),
                  "%s",
                  error.message);
   memset (subject, 'a', 100 * 1024);
   subject[100 * 1024] = '\0';
   mwatch_message_t *msg = message_with (subject);
   int64_t start = mwatch_monotonic_us ();
   ck_assert (!_mwatch_expr_program_eval (&prog, msg));
   ck_assert_uint_eq (atomic_load (&prog.too_long), 1);
   mwatch_message_destroy (msg);

   /* At the bound: matched, promptly (35 ms measured). */
   subject[MWATCH_EXPR_MAX_SUBJECT - 1] = 'c';
   subject[MWATCH_EXPR_MAX_SUBJECT] = '\0';
   msg = message_with (subject);
   ck_assert (_mwatch_expr_program_eval (&prog, msg));
   subject[MWATCH_EXPR_MAX_SUBJECT - 1] = 'a';
   mwatch_message_destroy (msg);
   msg = message_with (subject);
   ck_assert (!_mwatch_expr_program_eval (&prog, msg));
   ck_assert_uint_eq (atomic_load (&prog.too_long), 1);
   /* Generous for valgrind; without the bound this took 15 s natively. */
   ck_assert_int_lt (mwatch_monotonic_us () - start, 5 * 1000 * 1000);

   mwatch_message_destroy (msg);
   _mwatch_expr_program_destroy (&prog);
   bson_free (subject);
}
END_TEST

/* A lexical error after a regex: the regex compiled before it is freed
 * (valgrind in make memcheck reports the leak otherwise). */
START_TEST (test_lex_error_after_regex_frees_it)
{
   refused ("Collection =~ \"^news\" && DB == \"x\"", "unknown operator \"&&\"");
   refused ("Collection =~ \"a\" and DB =~ \"b\" #", "unexpected character");
}
END_TEST

Suite *
expression_bounds_suite (void)
{
   Suite *s = suite_create ("expression-bounds");
   TCase *tc = tcase_create ("bounds");
   /* Each case is over in milliseconds with the bounds (seconds under
    * valgrind); without them the first ran for a minute and the long
    * subject for 15 s: the timeout is the test. */
   tcase_set_timeout (tc, 10);
   tcase_add_test (tc, test_stacked_repetitions_refused);
   tcase_add_test (tc, test_back_references_refused);
   tcase_add_test (tc, test_ordinary_patterns_accepted);
   tcase_add_test (tc, test_bomb_in_configuration);
   tcase_add_test (tc, test_long_subject_does_not_match);
   tcase_add_test (tc, test_lex_error_after_regex_frees_it);
   suite_add_tcase (s, tc);
   return s;
}
