/* The built-in filters: expression (semantics, syntax errors with their
 * columns, no allocation while evaluating), redaction (every mode, nested
 * documents and arrays, nothing of the original left), SHA-256 and
 * HMAC-SHA256 against published vectors, rate (windows driven by an
 * injected clock, threads) and fields (keep, drop, rename, errors). */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/filter-private.h"
#include "../../lib/sha256-private.h"
#include "mongowatch.h"
#include "unit/suites.h"

/* ---------------------------------------------------------------- helpers */

static mwatch_record_t
record_of (mwatch_message_t *msg)
{
   mwatch_record_t record = {
      .name = "app",
      .level = MWATCH_LEVEL_INFO,
      .timeout_level = MWATCH_LEVEL_INFO,
      .watch = msg,
   };
   return record;
}

static bool
apply (mwatch_filter_t *filter, mwatch_message_t *msg)
{
   mwatch_record_t record = record_of (msg);
   return mwatch_filter_apply (filter, &record);
}

/* A message with only the given fields: no WatchID, Iteration, StartTime,
 * so that renderings hold nothing random. */
static mwatch_message_t *
bare_message (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_remove (msg, "WatchID");
   mwatch_message_remove (msg, "Iteration");
   mwatch_message_remove (msg, "StartTime");
   return msg;
}

/* The message the expression tests look at. */
static mwatch_message_t *
expr_message (void)
{
   mwatch_message_t *msg = bare_message ();
   bson_t *filter = BCON_NEW ("user",
                              "{",
                              "name",
                              BCON_UTF8 ("admin7"),
                              "age",
                              BCON_INT32 (42),
                              "tags",
                              "[",
                              BCON_UTF8 ("a"),
                              BCON_UTF8 ("b"),
                              "]",
                              "}",
                              "$or",
                              "[",
                              "{",
                              "n",
                              BCON_INT64 (1),
                              "}",
                              "]");
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "news");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_double (msg, "Duration", 12.5);
   mwatch_message_set_int64 (msg, "MatchedCount", 3);
   mwatch_message_set_bool (msg, "Ready", true);
   mwatch_message_set_int64 (msg, "Big", INT64_C (9007199254740993));
   mwatch_message_set_int64 (msg, "Neg", -5);
   mwatch_message_set_double (msg, "Nan", NAN);
   mwatch_message_set_datetime (msg, "When", INT64_C (1700000000000000));
   mwatch_message_set_utf8_len (msg, "Nul", "ab\0cd", 5);
   mwatch_message_set_utf8 (msg, "Quote", "say \"hi\"\n\t\\");
   bson_destroy (filter);
   return msg;
}

static mwatch_filter_t *
compile_ok (const char *expression)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_expression (expression, &error);
   ck_assert_msg (filter, "%s: %s", expression, error.message);
   return filter;
}

static bool
eval_on (const char *expression, mwatch_message_t *msg)
{
   mwatch_filter_t *filter = compile_ok (expression);
   bool result = apply (filter, msg);
   mwatch_filter_destroy (filter);
   return result;
}

/* Asserts each expression of `cases` evaluates to its expected value. */
typedef struct {
   const char *expression;
   bool expected;
} expr_case_t;

static void
check_cases (const expr_case_t *cases, size_t count)
{
   mwatch_message_t *msg = expr_message ();
   for (size_t i = 0; i < count; i++) {
      ck_assert_msg (eval_on (cases[i].expression, msg) == cases[i].expected,
                     "%s should be %s",
                     cases[i].expression,
                     cases[i].expected ? "true" : "false");
   }
   mwatch_message_destroy (msg);
}

#define CHECK_CASES(cases) check_cases (cases, sizeof cases / sizeof *cases)

/* Asserts `expression` is refused with `expected` in the message. */
static void
syntax_error (const char *expression, const char *expected)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_expression (expression, &error);
   ck_assert_msg (!filter, "%s compiled", expression);
   ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
   ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
   ck_assert_msg (strstr (error.message, expected),
                  "%s: \"%s\" lacks \"%s\"",
                  expression,
                  error.message,
                  expected);
}

/* ---------------------------------------------------------------- expression */

START_TEST (test_expr_comparisons)
{
   static const expr_case_t cases[] = {
      {"MatchedCount == 3", true},          {"MatchedCount != 3", false},
      {"MatchedCount < 4", true},           {"MatchedCount < 3", false},
      {"MatchedCount <= 3", true},          {"MatchedCount <= 2", false},
      {"MatchedCount > 3", false},          {"MatchedCount > 2", true},
      {"MatchedCount >= 3", true},          {"MatchedCount >= 4", false},
      {"Duration > 12", true},              {"Duration == 12.5", true},
      {"Duration < 1.3e1", true},           {"Neg == -5", true},
      {"Neg < -4.5", true},                 {"-5 == Neg", true},
      {"Collection == \"news\"", true},     {"Collection != \"sport\"", true},
      {"Collection == \"new\"", false},     {"\"news\" == Collection", true},
      {"Quote == \"say \\\"hi\\\"\\n\\t\\\\\"", true},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_numbers)
{
   static const expr_case_t cases[] = {
      /* int against double: as numbers, whatever the type */
      {"MatchedCount == 3.0", true},
      {"MatchedCount < 3.5", true},
      {"Duration < 13", true},
      {"Duration != 12", true},
      /* both integers: exact, where doubles could not tell them apart */
      {"Big == 9007199254740993", true},
      {"Big == 9007199254740992", false},
      {"Big > 9007199254740992", true},
      {"Big < 9007199254740994", true},
      /* NaN equals nothing and is not ordered */
      {"Nan == Nan", false},
      {"Nan != Nan", true},
      {"Nan < 1", false},
      {"Nan >= 1", false},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_strings_order_bytewise)
{
   static const expr_case_t cases[] = {
      {"Collection < \"newt\"", true},
      {"Collection > \"new\"", true}, /* a prefix comes first */
      {"Collection >= \"news\"", true},
      {"Collection <= \"news\"", true},
      {"Collection < \"news\"", false},
      {"\"Z\" < \"a\"", true}, /* bytes, not a collation */
      {"\"\xc3\xa9\" > \"z\"", true},
      {"\"\" < \"a\"", true},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_type_mismatches)
{
   static const expr_case_t cases[] = {
      {"MatchedCount == \"3\"", false}, {"MatchedCount != \"3\"", true},
      {"Collection > 1", false},        {"Collection <= 1", false},
      {"Ready == 1", false},            {"Ready == true", true},
      {"Ready != false", true},         {"Ready > false", false},
      {"null == null", true},           {"When == When", true},
      {"When <= When", true},           {"When > 0", false},
      {"Filter.user == Filter.user", true},
      {"Filter.user != Filter.$or", true},
      {"Filter.user < Filter.user", false},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_missing_is_null)
{
   static const expr_case_t cases[] = {
      {"Missing == null", true},
      {"Missing != null", false},
      {"Missing < 1", false},
      {"Missing == 0", false},
      {"Missing == false", false},
      {"Missing == \"\"", false},
      {"Filter.user.nope == null", true},
      {"Filter.user.name.deeper == null", true},
      {"Collection.x == null", true},
      {"Filter.user.tags.7 == null", true},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_dotted_paths)
{
   static const expr_case_t cases[] = {
      {"Filter.user.name == \"admin7\"", true},
      {"Filter.user.age >= 42", true},
      {"Filter.user.age == 42.0", true},
      {"Filter.user.tags.1 == \"b\"", true},
      {"Filter.user.tags.0 in [\"a\"]", true},
      {"Filter.$or.0.n == 1", true},
      {"Filter.user.tags.0 == \"b\"", false},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_logic_and_precedence)
{
   static const expr_case_t cases[] = {
      {"true or false and false", true},  /* and binds tighter than or */
      {"(true or false) and false", false},
      {"not false and false", false},     /* not binds tighter than and */
      {"not (false and false)", true},
      {"not MatchedCount == 4", true},    /* comparisons tighter than not */
      {"not Collection in [\"a\"]", true},
      {"not Collection =~ \"x|y\"", true},
      {"not not true", true},
      {"not not not true", false},
      {"((((true))))", true},
      {"false or false or false or true", true},
      {"true and true and true and false", false},
      {"Collection == \"x\" or Collection == \"news\" and MatchedCount == 3", true},
      {"(Collection == \"x\" or Collection == \"news\") and MatchedCount == 4", false},
      {"Ready", true},
      {"Ready and MatchedCount == 3", true},
      {"Collection", false}, /* alone, only the boolean true is true */
      {"Missing", false},
      {"false", false},
      {"(MatchedCount == 3) == true", true},
      {"(MatchedCount == 3) == (Duration > 1)", true},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_in_lists)
{
   static const expr_case_t cases[] = {
      {"MatchedCount in [\"3\", true, null, 3.0]", true},
      {"MatchedCount in [\"3\", true, null]", false},
      {"Missing in [1, null]", true},
      {"Missing in [1, false, \"\"]", false},
      {"Ready in [1, \"true\", true]", true},
      {"Ready in [1, \"true\"]", false},
      {"Collection in []", false},
      {"Collection in [\"sport\", \"news\"]", true},
      {"\"shop\" in [Collection, DB]", true},
      {"Duration in [12, 12.5]", true},
   };
   CHECK_CASES (cases);
}
END_TEST

START_TEST (test_expr_regex)
{
   static const expr_case_t cases[] = {
      {"Collection =~ \"^ne\"", true},
      {"Collection =~ \"^ws\"", false},
      {"Collection =~ \"e\"", true}, /* a search, not a full match */
      {"Filter.user.name =~ \"^adm[a-z]+[0-9]$\"", true},
      {"Filter.user.tags.1 =~ \"^(a|b)$\"", true},
      {"MatchedCount =~ \"3\"", false}, /* only strings match */
      {"Missing =~ \".*\"", false},
      /* a string with a NUL inside matches only up to the NUL */
      {"Nul =~ \"^ab$\"", true},
      {"Nul =~ \"cd\"", false},
   };
   CHECK_CASES (cases);
}
END_TEST

/* Numbers read the same whatever the locale's decimal separator. */
START_TEST (test_expr_numbers_ignore_locale)
{
   static const char *const locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR"};
   mwatch_message_t *msg = expr_message ();

   for (size_t i = 0; i < sizeof locales / sizeof *locales; i++) {
      if (setlocale (LC_NUMERIC, locales[i])) {
         ck_assert (eval_on ("Duration == 12.5 and Duration < 1.25e1", msg) == false);
         ck_assert (eval_on ("Duration == 12.5 and Duration > 1.2e1", msg));
      }
   }
   setlocale (LC_NUMERIC, "C");
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_expr_text_record)
{
   mwatch_filter_t *is_null = compile_ok ("Collection == null");
   mwatch_filter_t *is_news = compile_ok ("Collection == \"news\"");
   mwatch_record_t record = record_of (NULL);

   record.text = "a plain line";
   ck_assert (mwatch_filter_apply (is_null, &record));
   ck_assert (!mwatch_filter_apply (is_news, &record));
   mwatch_filter_destroy (is_null);
   mwatch_filter_destroy (is_news);
}
END_TEST

START_TEST (test_expr_syntax_errors)
{
   static const struct {
      const char *expression;
      const char *expected;
   } cases[] = {
      {"", "empty expression at column 1"},
      {"  \t ", "empty expression at column 1"},
      {"Collection == ", "expected a value at column 15"},
      {"Collection == \"news\" Duration", "unexpected token at column 22"},
      {"true)", "unexpected token at column 5"},
      {"true AND false", "keywords are lowercase"},
      {"Collection = \"news\"", "unknown operator \"=\" at column 12; compare with =="},
      {"a && b", "unknown operator \"&&\" at column 3; write and"},
      {"a || b", "unknown operator \"||\" at column 3; write or"},
      {"a ! b", "unknown operator \"!\" at column 3"},
      {"a # b", "unexpected character \"#\" at column 3"},
      {"Collection == 'news", "unterminated string at column 15; close the string with a single quote"},
      {"\"\xc3\xa9\" = 1", "at column 5"},
      {"Collection == [\"a\"]", "a list is only allowed after in at column 15"},
      {"[1] == Collection", "a list is only allowed after in at column 1"},
      {"Collection in \"news\"", "expected a list after in at column 15"},
      {"Collection in [\"a\" \"b\"]", "expected \",\" or \"]\" at column 20"},
      {"Collection in [\"a\", ]", "expected a value at column 21"},
      {"Collection in [\"a\"", "expected \",\" or \"]\" at column 19 (found the end)"},
      {"Collection in [[1]]", "expected a value in the list at column 16"},
      {"Collection =~ Operation", "expected a regular expression at column 15"},
      {"Collection =~ 5", "expected a regular expression at column 15"},
      {"Collection == \"news", "unterminated string at column 15"},
      {"Collection == \"a\\qb\"", "unknown escape \"\\q\" in a string at column 17"},
      {"Duration > 1.2.3", "bad number \"1.2.3\" at column 12"},
      {"Duration > 10abc", "bad number \"10abc\" at column 12"},
      {"Duration > 1e", "bad number \"1e\" at column 12"},
      {"Duration > 1.", "bad number \"1.\" at column 12"},
      {"Duration > -", "unexpected character \"-\" at column 12"},
      {"Duration > 99999999999999999999", "out of range at column 12"},
      {"Duration > 1e999", "number \"1e999\" out of range at column 12"},
      {"(true and false", "expected \")\" at column 16 (found the end); close the \"(\" of column 1"},
      {"1 < MatchedCount < 5", "comparisons do not chain at column 18"},
      {"Filter. == 1", "expected a key after \"Filter.\" at column 8"},
      {"Filter..a == 1", "at column 8"},
      {"5", "a value alone is not a condition at column 1"},
      {"true and \"x\"", "a value alone is not a condition at column 10"},
      {"null", "null alone is not a condition at column 1"},
      {"not", "expected a value at column 4 (found the end)"},
      {"Collection ==", "expected a value at column 14"},
      {"and", "expected a value at column 1"},
   };
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      syntax_error (cases[i].expression, cases[i].expected);
   }
   syntax_error ("Collection == ", "expression \"Collection == \": expected a value at column 15");
}
END_TEST

START_TEST (test_expr_regex_errors)
{
   regex_t re;
   char why[128];
   char expected[256];
   int rc = regcomp (&re, "(ab", REG_EXTENDED | REG_NOSUB);

   ck_assert_int_ne (rc, 0);
   regerror (rc, &re, why, sizeof why);
   snprintf (expected, sizeof expected, "invalid regular expression: %s", why);
   syntax_error ("Collection =~ \"(ab\"", expected);
   syntax_error ("Collection =~ \"(ab\"", "at column 15");
}
END_TEST

START_TEST (test_expr_null_expression)
{
   bson_error_t error;

   ck_assert_ptr_null (mwatch_filter_new_expression (NULL, &error));
   ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
}
END_TEST

/* "(" n times, `middle`, ")" n times; or with `prefix` n times. */
static char *
repeat_around (const char *prefix, size_t n, const char *middle, const char *suffix)
{
   size_t lp = strlen (prefix);
   size_t ls = strlen (suffix);
   char *text = bson_malloc (n * (lp + ls) + strlen (middle) + 1);
   char *p = text;

   for (size_t i = 0; i < n; i++, p += lp) {
      memcpy (p, prefix, lp);
   }
   p = stpcpy (p, middle);
   for (size_t i = 0; i < n; i++, p += ls) {
      memcpy (p, suffix, ls);
   }
   *p = '\0';
   return text;
}

START_TEST (test_expr_depth_limit)
{
   mwatch_message_t *msg = expr_message ();
   char *text = repeat_around ("(", 64, "true", ")");

   ck_assert (eval_on (text, msg));
   bson_free (text);
   text = repeat_around ("(", 65, "true", ")");
   syntax_error (text, "nest deeper than 64 at column 65");
   bson_free (text);
   text = repeat_around ("not ", 64, "true", "");
   ck_assert (eval_on (text, msg));
   bson_free (text);
   text = repeat_around ("not ", 65, "true", "");
   syntax_error (text, "nest deeper than 64 at column 257");
   bson_free (text);
   /* hostile input: refused at once, without a deep recursion */
   text = repeat_around ("(", 200000, "", "");
   syntax_error (text, "at column 65");
   bson_free (text);
   text = repeat_around ("not (", 100000, "", "");
   syntax_error (text, "nest deeper than 64");
   bson_free (text);
   /* long chains are flat: no depth at all */
   text = repeat_around ("false or ", 50000, "true", "");
   ck_assert (eval_on (text, msg));
   bson_free (text);
   mwatch_message_destroy (msg);
}
END_TEST

static size_t allocations;

static void *
counting_malloc (size_t n)
{
   allocations++;
   return malloc (n);
}

static void *
counting_calloc (size_t n, size_t size)
{
   allocations++;
   return calloc (n, size);
}

static void *
counting_realloc (void *p, size_t n)
{
   allocations++;
   return realloc (p, n);
}

START_TEST (test_expr_evaluation_allocates_nothing)
{
   bson_mem_vtable_t counting = {
      counting_malloc, counting_calloc, counting_realloc, free, NULL, {0}};
   mwatch_message_t *msg = expr_message ();
   mwatch_filter_t *filter = compile_ok (
      "(Filter.user.name == \"admin7\" and Filter.user.tags.1 in [1, \"b\", null])"
      " and not (Duration < 1 or Missing.x != null) and Collection =~ \"^ne\""
      " and Big > 9007199254740992 and MatchedCount >= 2.5 and Ready");
   size_t kept = 0;

   ck_assert (apply (filter, msg));
   bson_mem_set_vtable (&counting);
   allocations = 0;
   for (int i = 0; i < 1000; i++) {
      kept += apply (filter, msg);
   }
   size_t counted = allocations;
   bson_mem_restore_vtable ();

   ck_assert_uint_eq (counted, 0);
   ck_assert_uint_eq (kept, 1000);
   mwatch_filter_destroy (filter);
   mwatch_message_destroy (msg);
}
END_TEST

/* ---------------------------------------------------------------- sha256 */

static void
hex (const uint8_t *data, size_t len, char *out)
{
   for (size_t i = 0; i < len; i++) {
      sprintf (out + 2 * i, "%02x", data[i]);
   }
}

static void
check_sha256 (const void *data, size_t len, const char *expected)
{
   mwatch_sha256_t ctx;
   uint8_t digest[MWATCH_SHA256_LEN];
   char text[2 * MWATCH_SHA256_LEN + 1];

   _mwatch_sha256_init (&ctx);
   _mwatch_sha256_update (&ctx, data, len);
   _mwatch_sha256_final (&ctx, digest);
   hex (digest, sizeof digest, text);
   ck_assert_str_eq (text, expected);
}

START_TEST (test_sha256_vectors)
{
   mwatch_sha256_t ctx;
   uint8_t digest[MWATCH_SHA256_LEN];
   char text[2 * MWATCH_SHA256_LEN + 1];
   char chunk[1000];

   check_sha256 ("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
   check_sha256 ("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
   check_sha256 ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 56,
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
   /* one million 'a', in pieces that straddle the blocks */
   memset (chunk, 'a', sizeof chunk);
   _mwatch_sha256_init (&ctx);
   for (int i = 0; i < 1000; i++) {
      _mwatch_sha256_update (&ctx, chunk, 999);
   }
   _mwatch_sha256_update (&ctx, chunk, 1000);
   _mwatch_sha256_final (&ctx, digest);
   hex (digest, sizeof digest, text);
   ck_assert_str_eq (text, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST (test_sha256_split_anywhere)
{
   uint8_t data[130];
   uint8_t whole[MWATCH_SHA256_LEN];
   uint8_t parts[MWATCH_SHA256_LEN];
   mwatch_sha256_t ctx;

   for (size_t i = 0; i < sizeof data; i++) {
      data[i] = (uint8_t) (i * 7 + 1);
   }
   for (size_t len = 0; len <= sizeof data; len++) {
      _mwatch_sha256_init (&ctx);
      _mwatch_sha256_update (&ctx, data, len);
      _mwatch_sha256_final (&ctx, whole);
      for (size_t cut = 0; cut <= len; cut++) {
         _mwatch_sha256_init (&ctx);
         _mwatch_sha256_update (&ctx, data, cut);
         _mwatch_sha256_update (&ctx, data + cut, len - cut);
         _mwatch_sha256_final (&ctx, parts);
         ck_assert_mem_eq (whole, parts, sizeof whole);
      }
   }
}
END_TEST

static void
check_hmac (const uint8_t *key, size_t key_len, const void *data, size_t len, const char *expected)
{
   mwatch_hmac_sha256_t ctx;
   uint8_t mac[MWATCH_SHA256_LEN];
   char text[2 * MWATCH_SHA256_LEN + 1];

   _mwatch_hmac_sha256_init (&ctx, key, key_len);
   _mwatch_hmac_sha256_update (&ctx, data, len);
   _mwatch_hmac_sha256_final (&ctx, mac);
   hex (mac, sizeof mac, text);
   ck_assert_str_eq (text, expected);
}

/* RFC 4231, test cases 1-4, 6 and 7 (5 truncates the output). */
START_TEST (test_hmac_rfc4231)
{
   uint8_t key[131];
   uint8_t data[50];

   memset (key, 0x0b, 20);
   check_hmac (key, 20, "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
   check_hmac ((const uint8_t *) "Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
   memset (key, 0xaa, 20);
   memset (data, 0xdd, 50);
   check_hmac (key, 20, data, 50,
               "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
   for (int i = 0; i < 25; i++) {
      key[i] = (uint8_t) (i + 1);
   }
   memset (data, 0xcd, 50);
   check_hmac (key, 25, data, 50,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
   memset (key, 0xaa, 131);
   check_hmac (key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
   static const char text7[] =
      "This is a test using a larger than block-size key and a larger than block-size data. "
      "The key needs to be hashed before being used by the HMAC algorithm.";
   check_hmac (key, 131, text7, sizeof text7 - 1,
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

/* ---------------------------------------------------------------- redact */

static const char *const redacted_fields[] = {
   "Filter", "Comment", "Secret", "Pipeline", "When", "Ratio", "Dec", "Oid", "Absent", NULL,
};

/* Every original value, as it would appear in a rendering. */
static const char *const originals[] = {
   "alice",  "llo",       "987654", "123456789", "31.25",      "7777777",
   "bobby",  "2009-02-13", "carol",  "dave",      "5f1e2d3c4b5a697887766554",
   "43.21",  "Zurich",    "80015",  "erin",      "secret",     "424242",
   "frank",  "2011-03",   "0.875",  "true",      "1234567890", "98.76",
   "0123456789abcdef01234567",
};

/* The keys (and operators) every mode keeps. */
static const char *const kept_keys[] = {
   "\"name\"", "\"uni\"",  "\"age\"", "\"$gt\"", "\"$lt\"", "\"score\"", "\"$in\"",
   "\"active\"", "\"born\"", "\"tags\"", "\"deep\"", "\"id\"", "\"dec\"", "\"nil\"",
   "\"$or\"",  "\"city\"", "\"zip\"", "\"$match\"", "\"k\"", "\"Kept\":\"untouched\"",
};

static mwatch_message_t *
redact_message (void)
{
   mwatch_message_t *msg = bare_message ();
   bson_oid_t oid;
   bson_decimal128_t dec;
   bson_oid_init_from_string (&oid, "5f1e2d3c4b5a697887766554");
   bson_decimal128_from_string ("43.21", &dec);
   bson_t *filter = BCON_NEW ("name", BCON_UTF8 ("alice"),
                              "uni", BCON_UTF8 ("h\xc3\xa9llo"),
                              "age", "{", "$gt", BCON_INT32 (987654),
                                          "$lt", BCON_INT64 (123456789), "}",
                              "score", "{", "$in", "[", BCON_DOUBLE (31.25), BCON_INT32 (7777777),
                                                        BCON_UTF8 ("bobby"), "]", "}",
                              "active", BCON_BOOL (true),
                              "born", BCON_DATE_TIME (1234567890123),
                              "tags", "[", BCON_UTF8 ("carol"), "{", "deep", BCON_UTF8 ("dave"), "}",
                                           "[", "]", "]",
                              "id", BCON_OID (&oid),
                              "dec", BCON_DECIMAL128 (&dec),
                              "nil", BCON_NULL,
                              "$or", "[", "{", "city", BCON_UTF8 ("Zurich"), "}",
                                          "{", "zip", BCON_INT32 (80015), "}", "]");
   bson_t *pipeline = BCON_NEW ("0", "{", "$match", "{", "k", BCON_UTF8 ("frank"), "}", "}");
   mwatch_value_t v = {.type = MWATCH_TYPE_BSON};

   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_utf8 (msg, "Comment", "erin secret");
   mwatch_message_set_int64 (msg, "Secret", 424242);
   mwatch_message_set_array (msg, "Pipeline", pipeline);
   mwatch_message_set_datetime (msg, "When", INT64_C (1300000000000000));
   mwatch_message_set_double (msg, "Ratio", 0.875);
   bson_decimal128_from_string ("98.76", &dec);
   v.value.v_bson.value_type = BSON_TYPE_DECIMAL128;
   v.value.v_bson.value.v_decimal128 = dec;
   mwatch_message_set_value (msg, "Dec", &v);
   bson_oid_init_from_string (&v.value.v_bson.value.v_oid, "0123456789abcdef01234567");
   v.value.v_bson.value_type = BSON_TYPE_OID;
   mwatch_message_set_value (msg, "Oid", &v);
   mwatch_message_set_utf8 (msg, "Kept", "untouched");
   bson_destroy (filter);
   bson_destroy (pipeline);
   return msg;
}

static mwatch_filter_t *
redact_filter (mwatch_redact_mode_t mode, const char *token, const char *secret)
{
   mwatch_redact_opts_t opts;
   bson_error_t error;

   mwatch_redact_opts_init (&opts);
   opts.mode = mode;
   opts.token = token;
   opts.secret = secret;
   opts.fields = redacted_fields;
   mwatch_filter_t *filter = mwatch_filter_new_redact (&opts, &error);
   ck_assert_msg (filter, "%s", error.message);
   return filter;
}

static mwatch_message_t *
redacted (mwatch_redact_mode_t mode, const char *token, const char *secret)
{
   mwatch_filter_t *filter = redact_filter (mode, token, secret);
   mwatch_message_t *msg = redact_message ();
   ck_assert (apply (filter, msg));
   mwatch_filter_destroy (filter);
   return msg;
}

static mwatch_type_t
type_at (const mwatch_message_t *msg, const char *path)
{
   mwatch_value_t value;
   ck_assert_msg (mwatch_message_get (msg, path, &value), "%s is gone", path);
   return value.type;
}

static void
assert_text_at (const mwatch_message_t *msg, const char *path, const char *expected)
{
   mwatch_value_t value;
   ck_assert_msg (mwatch_message_get (msg, path, &value), "%s is gone", path);
   ck_assert_int_eq (value.type, MWATCH_TYPE_UTF8);
   ck_assert_str_eq (value.value.v_utf8.str, expected);
}

/* The BSON type of the value at `path` inside the Filter document. */
static bson_type_t
bson_type_at (const mwatch_message_t *msg, const char *path, bson_iter_t *found)
{
   mwatch_value_t value;
   bson_t doc;
   bson_iter_t iter;

   ck_assert (mwatch_message_get (msg, "Filter", &value));
   ck_assert (mwatch_value_as_bson (&value, &doc));
   ck_assert (bson_iter_init (&iter, &doc));
   ck_assert_msg (bson_iter_find_descendant (&iter, path, found), "Filter.%s is gone", path);
   return bson_iter_type (found);
}

START_TEST (test_redact_no_original_survives)
{
   static const mwatch_redact_mode_t modes[] = {
      MWATCH_REDACT_PLACEHOLDER, MWATCH_REDACT_TOKEN, MWATCH_REDACT_NULL, MWATCH_REDACT_HMAC};
   mwatch_buf_t json = MWATCH_BUF_INITIALIZER;

   for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
      mwatch_message_t *msg = redacted (modes[m], NULL, "pepper");
      mwatch_buf_clear (&json);
      mwatch_message_render_json (msg, &json);
      for (size_t i = 0; i < sizeof originals / sizeof *originals; i++) {
         ck_assert_msg (!strstr (json.data, originals[i]),
                        "mode %d left \"%s\" in %s", (int) modes[m], originals[i], json.data);
      }
      for (size_t i = 0; i < sizeof kept_keys / sizeof *kept_keys; i++) {
         ck_assert_msg (strstr (json.data, kept_keys[i]),
                        "mode %d lost %s in %s", (int) modes[m], kept_keys[i], json.data);
      }
      /* the shape: documents stay documents, arrays arrays, lengths kept */
      ck_assert_int_eq (type_at (msg, "Filter"), MWATCH_TYPE_DOCUMENT);
      ck_assert_int_eq (type_at (msg, "Pipeline"), MWATCH_TYPE_ARRAY);
      ck_assert_int_eq (type_at (msg, "Filter.age"), MWATCH_TYPE_DOCUMENT);
      ck_assert_int_eq (type_at (msg, "Filter.score.$in"), MWATCH_TYPE_ARRAY);
      ck_assert_int_eq (type_at (msg, "Filter.tags.2"), MWATCH_TYPE_ARRAY);
      ck_assert (mwatch_message_has (msg, "Filter.score.$in.2"));
      ck_assert (!mwatch_message_has (msg, "Filter.score.$in.3"));
      ck_assert (mwatch_message_has (msg, "Filter.tags.1.deep"));
      ck_assert (mwatch_message_has (msg, "Filter.$or.1.zip"));
      ck_assert (mwatch_message_has (msg, "Pipeline.0.$match.k"));
      ck_assert (!mwatch_message_has (msg, "Absent"));
      ck_assert_uint_eq (mwatch_message_count (msg), 9);
      mwatch_message_destroy (msg);
   }
   mwatch_buf_destroy (&json);
}
END_TEST

START_TEST (test_redact_placeholder_keeps_types)
{
   mwatch_message_t *msg = redacted (MWATCH_REDACT_PLACEHOLDER, NULL, NULL);
   mwatch_value_t value;
   bson_iter_t it;
   char dec[BSON_DECIMAL128_STRING];

   ck_assert_int_eq (bson_type_at (msg, "name", &it), BSON_TYPE_UTF8);
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "xxxxx");
   ck_assert_int_eq (bson_type_at (msg, "uni", &it), BSON_TYPE_UTF8);
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "xxxxx"); /* characters, not bytes */
   ck_assert_int_eq (bson_type_at (msg, "age.$gt", &it), BSON_TYPE_INT32);
   ck_assert_int_eq (bson_iter_int32 (&it), 0);
   ck_assert_int_eq (bson_type_at (msg, "age.$lt", &it), BSON_TYPE_INT64);
   ck_assert_int_eq (bson_iter_int64 (&it), 0);
   ck_assert_int_eq (bson_type_at (msg, "score.$in.0", &it), BSON_TYPE_DOUBLE);
   ck_assert (bson_iter_double (&it) == 0.0);
   ck_assert_int_eq (bson_type_at (msg, "score.$in.1", &it), BSON_TYPE_INT32);
   ck_assert_int_eq (bson_type_at (msg, "score.$in.2", &it), BSON_TYPE_UTF8);
   ck_assert_int_eq (bson_type_at (msg, "active", &it), BSON_TYPE_BOOL);
   ck_assert (!bson_iter_bool (&it));
   ck_assert_int_eq (bson_type_at (msg, "born", &it), BSON_TYPE_DATE_TIME);
   ck_assert_int_eq (bson_iter_date_time (&it), 0);
   ck_assert_int_eq (bson_type_at (msg, "tags.1.deep", &it), BSON_TYPE_UTF8);
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "xxxx");
   ck_assert_int_eq (bson_type_at (msg, "id", &it), BSON_TYPE_NULL);
   ck_assert_int_eq (bson_type_at (msg, "nil", &it), BSON_TYPE_NULL);
   ck_assert_int_eq (bson_type_at (msg, "dec", &it), BSON_TYPE_DECIMAL128);
   bson_decimal128_t d;
   bson_iter_decimal128 (&it, &d);
   bson_decimal128_to_string (&d, dec);
   ck_assert_str_eq (dec, "0");
   /* fields that are values of their own */
   assert_text_at (msg, "Comment", "xxxxxxxxxxx");
   ck_assert (mwatch_message_get (msg, "Secret", &value));
   ck_assert (value.type == MWATCH_TYPE_INT64 && value.value.v_int64 == 0);
   ck_assert (mwatch_message_get (msg, "When", &value));
   ck_assert (value.type == MWATCH_TYPE_DATETIME && value.value.v_datetime == 0);
   ck_assert (mwatch_message_get (msg, "Ratio", &value));
   ck_assert (value.type == MWATCH_TYPE_DOUBLE && value.value.v_double == 0.0);
   ck_assert (mwatch_message_get (msg, "Dec", &value));
   ck_assert_int_eq (value.type, MWATCH_TYPE_BSON);
   ck_assert_int_eq (value.value.v_bson.value_type, BSON_TYPE_DECIMAL128);
   bson_decimal128_to_string (&value.value.v_bson.value.v_decimal128, dec);
   ck_assert_str_eq (dec, "0");
   ck_assert_int_eq (type_at (msg, "Oid"), MWATCH_TYPE_NULL);
   assert_text_at (msg, "Kept", "untouched");
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_redact_token_and_null)
{
   mwatch_message_t *msg = redacted (MWATCH_REDACT_TOKEN, "[gone]", NULL);
   static const char *const paths[] = {
      "Filter.name", "Filter.age.$gt", "Filter.score.$in.0", "Filter.tags.1.deep",
      "Filter.nil",  "Filter.$or.1.zip", "Pipeline.0.$match.k", "Comment",
      "Secret",      "When",           "Dec",                 "Oid",
   };

   for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
      assert_text_at (msg, paths[i], "[gone]");
   }
   mwatch_message_destroy (msg);
   msg = redacted (MWATCH_REDACT_TOKEN, NULL, NULL);
   for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
      assert_text_at (msg, paths[i], "***");
   }
   mwatch_message_destroy (msg);
   msg = redacted (MWATCH_REDACT_NULL, NULL, NULL);
   for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
      ck_assert_int_eq (type_at (msg, paths[i]), MWATCH_TYPE_NULL);
   }
   assert_text_at (msg, "Kept", "untouched");
   mwatch_message_destroy (msg);
}
END_TEST

static void
text_at (const mwatch_message_t *msg, const char *path, char *out)
{
   mwatch_value_t value;
   ck_assert_msg (mwatch_message_get (msg, path, &value), "%s is gone", path);
   ck_assert_int_eq (value.type, MWATCH_TYPE_UTF8);
   ck_assert_uint_eq (value.value.v_utf8.len, 18);
   memcpy (out, value.value.v_utf8.str, 19);
}

static mwatch_message_t *
pseudonymised (const char *secret, size_t secret_len)
{
   static const char *const fields[] = {"Filter", "Comment", "Five", NULL};
   mwatch_redact_opts_t opts;
   bson_error_t error;
   mwatch_message_t *msg = bare_message ();
   bson_t *filter = BCON_NEW ("a", BCON_UTF8 ("alice"),
                              "b", "[", BCON_UTF8 ("alice"), "]",
                              "c", "{", "$eq", BCON_UTF8 ("alice"), "}",
                              "i32", BCON_INT32 (5), "i64", BCON_INT64 (5),
                              "d", BCON_DOUBLE (5.0), "s", BCON_UTF8 ("5"),
                              "other", BCON_UTF8 ("alicf"), "t", BCON_BOOL (true),
                              "f", BCON_DOUBLE (2.5));

   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_utf8 (msg, "Comment", "alice");
   mwatch_message_set_int64 (msg, "Five", 5);
   bson_destroy (filter);
   mwatch_redact_opts_init (&opts);
   opts.mode = MWATCH_REDACT_HMAC;
   opts.secret = secret;
   opts.secret_len = secret_len;
   opts.fields = fields;
   mwatch_filter_t *f = mwatch_filter_new_redact (&opts, &error);
   ck_assert_msg (f, "%s", error.message);
   ck_assert (apply (f, msg));
   mwatch_filter_destroy (f);
   return msg;
}

START_TEST (test_redact_hmac_pseudonyms)
{
   mwatch_message_t *msg = pseudonymised ("pepper", 0);
   char a[19], b[19], c[19], comment[19], i32[19], i64[19], five[19], d[19], s[19], other[19];
   char t[19], f[19];

   text_at (msg, "Filter.a", a);
   text_at (msg, "Filter.b.0", b);
   text_at (msg, "Filter.c.$eq", c);
   text_at (msg, "Comment", comment);
   text_at (msg, "Filter.i32", i32);
   text_at (msg, "Filter.i64", i64);
   text_at (msg, "Five", five);
   text_at (msg, "Filter.d", d);
   text_at (msg, "Filter.s", s);
   text_at (msg, "Filter.other", other);
   text_at (msg, "Filter.t", t);
   text_at (msg, "Filter.f", f);
   /* HMAC-SHA256("pepper", type byte + value bytes), computed elsewhere */
   ck_assert_str_eq (a, "h:1610dea9b84ec297");
   ck_assert_str_eq (i32, "h:31579bb7b1dd0939");
   ck_assert_str_eq (t, "h:08bb3bf3e23e305b");
   ck_assert_str_eq (f, "h:04cddf33ffae18da");
   /* equal values, equal pseudonyms, wherever they are */
   ck_assert_str_eq (a, b);
   ck_assert_str_eq (a, c);
   ck_assert_str_eq (a, comment);
   ck_assert_str_eq (i32, i64);
   ck_assert_str_eq (i32, five);
   /* different values (or types), different pseudonyms */
   ck_assert_str_ne (a, other);
   ck_assert_str_ne (i32, d);
   ck_assert_str_ne (i32, s);
   mwatch_message_destroy (msg);

   /* another secret, other pseudonyms; secret_len counts the key's bytes */
   msg = pseudonymised ("salt", 0);
   text_at (msg, "Filter.a", b);
   ck_assert_str_ne (a, b);
   mwatch_message_destroy (msg);
   msg = pseudonymised ("pepper and more", 6);
   text_at (msg, "Filter.a", b);
   ck_assert_str_eq (a, b);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_redact_errors_and_defaults)
{
   static const char *const dotted[] = {"Filter.user", NULL};
   static const char *const empty[] = {"", NULL};
   mwatch_redact_opts_t opts;
   bson_error_t error;

   mwatch_redact_opts_init (&opts);
   opts.mode = MWATCH_REDACT_HMAC;
   ck_assert_ptr_null (mwatch_filter_new_redact (&opts, &error));
   ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
   ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
   ck_assert (strstr (error.message, "needs a secret"));
   opts.secret = "";
   ck_assert_ptr_null (mwatch_filter_new_redact (&opts, &error));
   ck_assert (strstr (error.message, "needs a secret"));
   mwatch_redact_opts_init (&opts);
   opts.fields = dotted;
   ck_assert_ptr_null (mwatch_filter_new_redact (&opts, &error));
   ck_assert (strstr (error.message, "\"Filter.user\" is not a field name"));
   opts.fields = empty;
   ck_assert_ptr_null (mwatch_filter_new_redact (&opts, &error));
   ck_assert (strstr (error.message, "\"\" is not a field name"));
   mwatch_redact_opts_init (&opts);
   opts.mode = (mwatch_redact_mode_t) 99;
   ck_assert_ptr_null (mwatch_filter_new_redact (&opts, &error));
   ck_assert (strstr (error.message, "unknown mode 99"));

   /* the defaults: placeholders in every document field, scalars such as
    * Comment kept; text records go through */
   mwatch_filter_t *filter = mwatch_filter_new_redact (NULL, &error);
   mwatch_message_t *msg = redact_message ();
   mwatch_record_t text = record_of (NULL);
   ck_assert (apply (filter, msg));
   assert_text_at (msg, "Filter.name", "xxxxx");
   assert_text_at (msg, "Pipeline.0.$match.k", "xxxxx");
   assert_text_at (msg, "Comment", "erin secret");
   ck_assert (mwatch_filter_apply (filter, &text));
   mwatch_message_remove (msg, "Filter");
   ck_assert (apply (filter, msg));
   ck_assert (!mwatch_message_has (msg, "Filter"));
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);
}
END_TEST

/* With no `fields`, every field that holds a document or an array is
 * redacted whatever its name (Update, a renamed Pipeline, one the library
 * might add later), Error loses what follows its first ':', and the
 * metadata stays readable. */
START_TEST (test_redact_default_covers_every_document)
{
   static const char *const secrets[] = {"078-05-1120", "hunter2", "90417263", "s3cr3t", "alice",
                                         "Zurich"};
   mwatch_message_t *msg = bare_message ();
   bson_t *filter = BCON_NEW ("ssn", BCON_UTF8 ("078-05-1120"));
   bson_t *update = BCON_NEW ("$set", "{", "password", BCON_UTF8 ("hunter2"), "pin",
                              BCON_INT64 (90417263), "}");
   bson_t *pipeline = BCON_NEW ("0", "{", "$match", "{", "token", BCON_UTF8 ("s3cr3t"), "}", "}");
   bson_t *documents = BCON_NEW ("0", "{", "name", BCON_UTF8 ("alice"), "}");
   bson_t *extra = BCON_NEW ("city", BCON_UTF8 ("Zurich"));
   mwatch_message_set_utf8 (msg, "State", "final");
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "users");
   mwatch_message_set_utf8 (msg, "Operation", "update_one");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_document (msg, "Update", update);
   mwatch_message_set_array (msg, "Pipeline", pipeline);
   mwatch_message_set_array (msg, "Documents", documents);
   mwatch_message_set_document (msg, "SomethingNew", extra);
   mwatch_message_set_utf8 (msg, "Service", "orders");
   mwatch_message_set_double (msg, "Duration", 0.25);
   mwatch_message_set_int64 (msg, "MatchedCount", 7);
   mwatch_message_set_utf8 (msg, "Error",
                            "E11000 duplicate key error collection: shop.users index: ssn_1 dup "
                            "key: { ssn: \"078-05-1120\" }");
   bson_error_t error;
   mwatch_filter_t *filter_all = mwatch_filter_new_redact (NULL, &error);
   ck_assert_msg (filter_all, "%s", error.message);
   ck_assert (apply (filter_all, msg));
   /* Twice gives the same: a record redacted once more is unchanged. */
   mwatch_buf_t once = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t json = MWATCH_BUF_INITIALIZER;
   mwatch_message_render_json (msg, &once);
   ck_assert (apply (filter_all, msg));
   mwatch_message_render_json (msg, &json);
   ck_assert_str_eq (once.data, json.data);
   for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
      ck_assert_msg (!strstr (json.data, secrets[i]), "%s in %s", secrets[i], json.data);
   }
   assert_text_at (msg, "Filter.ssn", "xxxxxxxxxxx");
   assert_text_at (msg, "Update.$set.password", "xxxxxxx");
   assert_text_at (msg, "Pipeline.0.$match.token", "xxxxxx");
   assert_text_at (msg, "Documents.0.name", "xxxxx");
   assert_text_at (msg, "SomethingNew.city", "xxxxxx");
   assert_text_at (msg, "State", "final");
   assert_text_at (msg, "DB", "shop");
   assert_text_at (msg, "Collection", "users");
   assert_text_at (msg, "Operation", "update_one");
   assert_text_at (msg, "Service", "orders");
   assert_text_at (msg, "Error", "E11000 duplicate key error collection: [redacted]");
   ck_assert (strstr (json.data, "\"Duration\":0.25"));
   ck_assert (strstr (json.data, "\"MatchedCount\":7"));
   mwatch_buf_destroy (&once);
   mwatch_buf_destroy (&json);
   mwatch_filter_destroy (filter_all);
   mwatch_message_destroy (msg);
   bson_destroy (filter);
   bson_destroy (update);
   bson_destroy (pipeline);
   bson_destroy (documents);
   bson_destroy (extra);
}
END_TEST

START_TEST (test_redact_deep_document)
{
   bson_t *inner = BCON_NEW ("a", BCON_UTF8 ("mallory"));
   mwatch_message_t *msg = bare_message ();
   mwatch_filter_t *filter = redact_filter (MWATCH_REDACT_PLACEHOLDER, NULL, NULL);
   mwatch_buf_t json = MWATCH_BUF_INITIALIZER;
   char path[512] = "Filter";

   for (int i = 1; i < 150; i++) {
      bson_t *outer = bson_new ();
      BSON_APPEND_DOCUMENT (outer, "a", inner);
      bson_destroy (inner);
      inner = outer;
   }
   mwatch_message_set_document (msg, "Filter", inner);
   ck_assert (apply (filter, msg));
   mwatch_message_render_json (msg, &json);
   ck_assert (!strstr (json.data, "mallory"));
   /* 100 levels are kept; the one below is replaced whole */
   for (int i = 0; i < 100; i++) {
      strcat (path, ".a");
   }
   ck_assert_int_eq (type_at (msg, path), MWATCH_TYPE_DOCUMENT);
   strcat (path, ".a");
   ck_assert_int_eq (type_at (msg, path), MWATCH_TYPE_NULL);
   bson_destroy (inner);
   mwatch_buf_destroy (&json);
   mwatch_filter_destroy (filter);
   mwatch_message_destroy (msg);
}
END_TEST

/* ---------------------------------------------------------------- rate */

static int64_t fake_now;

static int64_t
fake_clock (void)
{
   return fake_now;
}

/* A final record's message: the rate filter counts those by default. */
static mwatch_message_t *
final_message (void)
{
   mwatch_message_t *msg = bare_message ();
   mwatch_message_set_ready (msg);
   return msg;
}

static void
rate_setup (void)
{
   fake_now = INT64_C (5000000000);
   _mwatch_filter_rate_set_clock (fake_clock);
}

static void
rate_teardown (void)
{
   _mwatch_filter_rate_set_clock (NULL);
}

/* Offers a record at `seconds` after the start with the given counts. */
static bool
offer (mwatch_filter_t *filter, double seconds, int64_t inserted, const double *duration,
       mwatch_message_t **kept)
{
   mwatch_message_t *msg = final_message ();
   fake_now = INT64_C (5000000000) + (int64_t) llround (seconds * 1e6);
   mwatch_message_set_int64 (msg, "InsertedCount", inserted);
   if (duration) {
      mwatch_message_set_double (msg, "Duration", *duration);
   }
   bool keep = apply (filter, msg);
   if (keep && kept) {
      *kept = msg;
   } else {
      mwatch_message_destroy (msg);
   }
   return keep;
}

static double
double_at (const mwatch_message_t *msg, const char *path)
{
   mwatch_value_t value;
   ck_assert_msg (mwatch_message_get (msg, path, &value), "no %s", path);
   ck_assert_int_eq (value.type, MWATCH_TYPE_DOUBLE);
   return value.value.v_double;
}

static int64_t
int_at (const mwatch_message_t *msg, const char *path)
{
   mwatch_value_t value;
   ck_assert_msg (mwatch_message_get (msg, path, &value), "no %s", path);
   ck_assert_int_eq (value.type, MWATCH_TYPE_INT64);
   return value.value.v_int64;
}

START_TEST (test_rate_windows)
{
   static const char *const fields[] = {"InsertedCount", "Duration", NULL};
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_rate (10, fields, &error);
   mwatch_message_t *kept = NULL;
   double half = 0.5;
   mwatch_record_t text = record_of (NULL);

   ck_assert_msg (filter, "%s", error.message);
   ck_assert (!offer (filter, 0, 5, NULL, NULL));
   ck_assert (!offer (filter, 3, 7, &half, NULL));
   ck_assert (mwatch_filter_apply (filter, &text)); /* text goes through, uncounted */
   ck_assert (!offer (filter, 9.999999, 1, NULL, NULL));
   ck_assert (offer (filter, 10, 100, NULL, &kept));
   /* the window [0, 10): 3 records, 13 inserted, 0.5 s of Duration */
   ck_assert_int_eq (int_at (kept, "InsertedCount"), 100);
   ck_assert_int_eq (int_at (kept, "InsertedCountSum"), 13);
   ck_assert (fabs (double_at (kept, "InsertedCountRate") - 1.3) < 1e-12);
   ck_assert (double_at (kept, "DurationSum") == 0.5);
   ck_assert (fabs (double_at (kept, "DurationRate") - 0.05) < 1e-12);
   ck_assert (double_at (kept, "RateWindow") == 10.0);
   ck_assert_int_eq (int_at (kept, "RateRecords"), 3);
   mwatch_message_destroy (kept);
   /* the window [10, 25): the kept record began it */
   ck_assert (!offer (filter, 12, 2, NULL, NULL));
   ck_assert (offer (filter, 25, 0, NULL, &kept));
   ck_assert_int_eq (int_at (kept, "InsertedCountSum"), 102);
   ck_assert (fabs (double_at (kept, "InsertedCountRate") - 6.8) < 1e-12);
   ck_assert_int_eq (int_at (kept, "DurationSum"), 0); /* no double this time */
   ck_assert (double_at (kept, "DurationRate") == 0.0);
   ck_assert (double_at (kept, "RateWindow") == 15.0);
   ck_assert_int_eq (int_at (kept, "RateRecords"), 2);
   mwatch_message_destroy (kept);
   mwatch_filter_destroy (filter);
}
END_TEST

START_TEST (test_rate_values)
{
   static const char *const fields[] = {"N", NULL};
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_rate (1, fields, &error);
   mwatch_message_t *msg;

   /* text, null and missing add nothing; int64 overflow turns to double */
   for (int i = 0; i < 5; i++) {
      msg = final_message ();
      if (i == 1) {
         mwatch_message_set_utf8 (msg, "N", "12");
      } else if (i == 2) {
         mwatch_message_set_null (msg, "N");
      } else if (i != 3) {
         mwatch_message_set_int64 (msg, "N", INT64_MAX);
      }
      fake_now = i;
      ck_assert (!apply (filter, msg));
      mwatch_message_destroy (msg);
   }
   msg = final_message ();
   fake_now = 2000000;
   ck_assert (apply (filter, msg));
   ck_assert (double_at (msg, "NSum") == 2.0 * (double) INT64_MAX);
   ck_assert (double_at (msg, "NRate") == (double) INT64_MAX);
   ck_assert_int_eq (int_at (msg, "RateRecords"), 5);
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);

   /* the default fields */
   filter = mwatch_filter_new_rate (0.5, NULL, &error);
   msg = final_message ();
   mwatch_message_set_int64 (msg, "DeletedCount", 4);
   fake_now = 0;
   ck_assert (!apply (filter, msg));
   fake_now = 500000;
   ck_assert (apply (filter, msg));
   static const char *const defaults[] = {
      "MatchedCount", "InsertedCount", "UpsertedCount", "ModifiedCount", "DeletedCount"};
   for (size_t i = 0; i < 5; i++) {
      char name[64];
      snprintf (name, sizeof name, "%sSum", defaults[i]);
      ck_assert_int_eq (int_at (msg, name), i == 4 ? 4 : 0);
      snprintf (name, sizeof name, "%sRate", defaults[i]);
      ck_assert (double_at (msg, name) == (i == 4 ? 8.0 : 0.0));
   }
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);
}
END_TEST

/* One cursor of 10 documents at DEBUG, as its records come: the first
 * (MatchedCount 0), an update per document (1..10 so far), a timeout at 5,
 * then the final (10), all at `t` seconds, none of them closing a
 * window. */
static void
offer_cursor_records (mwatch_filter_t *filter, double t)
{
   fake_now = INT64_C (5000000000) + (int64_t) llround (t * 1e6);
   for (int i = 0; i <= 12; i++) {
      mwatch_message_t *msg = bare_message ();
      int64_t matched = i <= 10 ? i : (i == 11 ? 5 : 10);
      mwatch_message_set_int64 (msg, "MatchedCount", matched);
      if (i == 12) {
         mwatch_message_set_ready (msg);
      }
      ck_assert (!apply (filter, msg));
      mwatch_message_destroy (msg);
   }
}

/* By default only final records count (pymongowatch's
 * ignore_intermediates): the cursor above counts its 10 documents once,
 * and an intermediate record neither counts nor closes a window. */
START_TEST (test_rate_counts_final_records_only)
{
   static const char *const fields[] = {"MatchedCount", NULL};
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_rate (10, fields, &error);
   ck_assert_msg (filter, "%s", error.message);
   offer_cursor_records (filter, 0);
   offer_cursor_records (filter, 1);
   /* Past the window: an intermediate record is still dropped, unseen. */
   mwatch_message_t *msg = bare_message ();
   mwatch_message_set_int64 (msg, "MatchedCount", 1);
   fake_now = INT64_C (5000000000) + 20000000;
   ck_assert (!apply (filter, msg));
   mwatch_message_set_ready (msg);
   ck_assert (apply (filter, msg));
   ck_assert_int_eq (int_at (msg, "MatchedCountSum"), 20);
   ck_assert_int_eq (int_at (msg, "RateRecords"), 2);
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);
}
END_TEST

/* ignore_intermediates false: every record counts, as before: the first,
 * the updates (0 + 1 + ... + 10 = 55), the timeout (5) and the final (10). */
START_TEST (test_rate_counts_every_record_on_request)
{
   static const char *const fields[] = {"MatchedCount", NULL};
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_rate_ex (10, fields, false, &error);
   ck_assert_msg (filter, "%s", error.message);
   offer_cursor_records (filter, 0);
   mwatch_message_t *msg = bare_message ();
   fake_now = INT64_C (5000000000) + 20000000;
   ck_assert (apply (filter, msg));
   ck_assert_int_eq (int_at (msg, "MatchedCountSum"), 70);
   ck_assert_int_eq (int_at (msg, "RateRecords"), 13);
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);
}
END_TEST


START_TEST (test_rate_errors)
{
   static const char *const dotted[] = {"Stats.n", NULL};
   static const double bad[] = {0, -1, NAN, INFINITY};
   bson_error_t error;

   for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      ck_assert_ptr_null (mwatch_filter_new_rate (bad[i], NULL, &error));
      ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
      ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
      ck_assert (strstr (error.message, "output_rate_sec"));
   }
   ck_assert_ptr_null (mwatch_filter_new_rate (1, dotted, &error));
   ck_assert (strstr (error.message, "\"Stats.n\" is not a field name"));
}
END_TEST

#define RATE_THREADS 4
#define RATE_PER_THREAD 2000

static void *
rate_worker (void *data)
{
   mwatch_filter_t *filter = data;
   for (int i = 0; i < RATE_PER_THREAD; i++) {
      mwatch_message_t *msg = final_message ();
      mwatch_message_set_int64 (msg, "InsertedCount", 3);
      ck_assert (!apply (filter, msg));
      mwatch_message_destroy (msg);
   }
   return NULL;
}

START_TEST (test_rate_threads)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_rate (60, NULL, &error);
   pthread_t threads[RATE_THREADS];
   mwatch_message_t *msg = final_message ();

   fake_now = 0;
   for (int i = 0; i < RATE_THREADS; i++) {
      pthread_create (&threads[i], NULL, rate_worker, filter);
   }
   for (int i = 0; i < RATE_THREADS; i++) {
      pthread_join (threads[i], NULL);
   }
   fake_now = 60000000;
   ck_assert (apply (filter, msg));
   ck_assert_int_eq (int_at (msg, "RateRecords"), RATE_THREADS * RATE_PER_THREAD);
   ck_assert_int_eq (int_at (msg, "InsertedCountSum"), 3 * RATE_THREADS * RATE_PER_THREAD);
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);
}
END_TEST

/* ---------------------------------------------------------------- fields */

static mwatch_message_t *
fields_message (void)
{
   mwatch_message_t *msg = bare_message ();
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "news");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_null (msg, "Filter");
   mwatch_message_set_double (msg, "Duration", 0.5);
   return msg;
}

/* The message's field names joined with spaces. */
static void
assert_names (const mwatch_message_t *msg, const char *expected)
{
   char names[256] = "";
   mwatch_message_iter_t iter;
   const char *key;

   mwatch_message_iter_init (&iter, msg);
   while (mwatch_message_iter_next (&iter, &key, NULL)) {
      if (*names) {
         strcat (names, " ");
      }
      strcat (names, key);
   }
   ck_assert_str_eq (names, expected);
}

static void
check_fields (const char *const *keep,
              const char *const *drop,
              const char *const *rename,
              const char *expected)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_fields (keep, drop, rename, &error);
   mwatch_message_t *msg = fields_message ();

   ck_assert_msg (filter, "%s", error.message);
   ck_assert (apply (filter, msg));
   assert_names (msg, expected);
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);
}

START_TEST (test_fields_keep_drop_rename)
{
   static const char *const keep[] = {"Duration", "DB", "Collection", "Nope", NULL};
   static const char *const drop[] = {"Filter", "Nope", NULL};
   static const char *const rename[] = {"Collection", "Coll", "Duration", "Took", "Nope", "X",
                                        NULL};
   static const char *const drop_op[] = {"Collection", NULL};
   static const char *const rename_db[] = {"DB", "Database", NULL};
   static const char *const none[] = {NULL};

   check_fields (NULL, NULL, NULL, "DB Collection Operation Filter Duration");
   check_fields (keep, NULL, NULL, "DB Collection Duration");
   check_fields (none, NULL, NULL, "");
   check_fields (NULL, drop, NULL, "DB Collection Operation Duration");
   check_fields (NULL, NULL, rename, "DB Coll Operation Filter Took");
   /* keep, then drop, then rename */
   check_fields (keep, drop_op, rename_db, "Database Duration");

   mwatch_filter_t *filter = mwatch_filter_new_fields (keep, drop, rename, NULL);
   mwatch_record_t text = record_of (NULL);
   ck_assert (mwatch_filter_apply (filter, &text));
   mwatch_filter_destroy (filter);
}
END_TEST

START_TEST (test_fields_errors)
{
   static const char *const odd[] = {"Collection", "Coll", "DB", NULL};
   static const char *const dotted_target[] = {"Collection", "a.b", NULL};
   static const char *const empty_target[] = {"Collection", "", NULL};
   static const char *const dotted_keep[] = {"Filter.user", NULL};
   bson_error_t error;

   ck_assert_ptr_null (mwatch_filter_new_fields (NULL, NULL, odd, &error));
   ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
   ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
   ck_assert (strstr (error.message, "rename lists 3 names, and needs pairs"));
   ck_assert_ptr_null (mwatch_filter_new_fields (NULL, NULL, dotted_target, &error));
   ck_assert (strstr (error.message, "rename: \"a.b\" is not a field name"));
   ck_assert_ptr_null (mwatch_filter_new_fields (NULL, NULL, empty_target, &error));
   ck_assert (strstr (error.message, "rename: \"\" is not a field name"));
   ck_assert_ptr_null (mwatch_filter_new_fields (dotted_keep, NULL, NULL, &error));
   ck_assert (strstr (error.message, "keep: \"Filter.user\""));
   ck_assert_ptr_null (mwatch_filter_new_fields (NULL, dotted_keep, NULL, &error));
   ck_assert (strstr (error.message, "drop: \"Filter.user\""));
}
END_TEST

/* ---------------------------------------------------------------- pymongowatch forms */

/* Python's spellings that pymongowatch's expressions use. */
START_TEST (test_expr_python_spellings)
{
   static const expr_case_t cases[] = {
      {"Collection == 'news'", true},
      {"Collection == 'it\\'s'", false},
      {"Ready == True", true},
      {"Ready is True", true},
      {"Ready is not False", true},
      {"Missing is None", true},
      {"Collection is not None", true},
      {"Collection is None", false},
      {"Collection not in ['a', 'b']", true},
      {"Collection not in [\"news\"]", false},
      {"not Collection not in [\"news\"]", true},
      {"Filter[\"user\"][\"name\"] == \"admin7\"", true},
      {"Filter['user']['tags'][1] == 'b'", true},
      {"Filter.user['age'] == 42", true},
      {"_watch[\"Collection\"] == \"news\"", true},
      {"_watch['Filter']['user'][\"name\"] == 'admin7'", true},
      /* the sample's slow filter, a block scalar's newline included */
      {"Collection == \"pywatch\" and Duration > 0.00001\n", false},
      {"Collection == \"news\" and Duration > 0.00001\n", true},
   };
   CHECK_CASES (cases);
   syntax_error ("Collection is \"news\"", "is compares with None, True or False");
   syntax_error ("Filter[\"\"] == 1", "bad key at column 8");
   syntax_error ("Filter[\"a.b\"] == 1", "bad key");
   syntax_error ("Filter[\"a\" == 1", "expected \"]\" at column 12");
   syntax_error ("Filter[-1] == 1", "expected a key at column 8");
   syntax_error ("Collection not [\"a\"]", "expected in at column 16");
}
END_TEST

static bool
strict_on (const char *expression, bool exception_result, mwatch_message_t *msg)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_expression_strict (expression, exception_result, &error);
   ck_assert_msg (filter, "%s: %s", expression, error.message);
   bool result = apply (filter, msg);
   mwatch_filter_destroy (filter);
   return result;
}

/* exception_result: what the filter says when Python's eval would raise
 * (a missing name, an ordering without an order), for the whole
 * expression; short-circuit spares what is not evaluated. */
START_TEST (test_expr_exception_result)
{
   static const struct {
      const char *expression;
      bool fails;    /* evaluation raises in Python */
      bool result;   /* the result when it does not */
   } cases[] = {
      {"Missing > 1", true, false},
      {"not (Missing > 1)", true, false},
      {"Missing == 1 or true", true, false},
      {"Collection == \"x\" and Missing > 1", false, false},
      {"Collection == \"news\" or Missing > 1", false, true},
      {"Collection > 1", true, false},
      {"not (Collection < 1)", true, false},
      {"Collection in [Missing]", true, false},
      {"Nan > 1", false, false},
      {"Duration > 1", false, true},
      {"Collection == 1", false, false},
      {"Filter.user.nobody == 1", true, false},
   };
   mwatch_message_t *msg = expr_message ();
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      for (int exc = 0; exc < 2; exc++) {
         bool want = cases[i].fails ? (bool) exc : cases[i].result;
         ck_assert_msg (strict_on (cases[i].expression, exc, msg) == want,
                        "%s with exception_result %d should be %d",
                        cases[i].expression,
                        exc,
                        want);
      }
   }
   /* mongowatch's own filter stays as it was: missing is null */
   ck_assert (eval_on ("not (Missing > 1)", msg));
   mwatch_message_destroy (msg);
   /* a text record (no message): every name is missing */
   ck_assert (!strict_on ("Duration > 1", false, NULL));
   ck_assert (strict_on ("Duration > 1", true, NULL));
}
END_TEST

/* ---------------------------------------------------------------- modify */

static mwatch_filter_t *
modify_ok (const char *statements, bool exception_result)
{
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_modify (statements, exception_result, &error);
   ck_assert_msg (filter, "%s: %s", statements, error.message);
   return filter;
}

static char *
full_of (const mwatch_message_t *msg)
{
   mwatch_buf_t out;
   mwatch_buf_init (&out);
   mwatch_message_render_full (msg, &out);
   return out.data;
}

static void
assert_full (const mwatch_message_t *msg, const char *want)
{
   char *got = full_of (msg);
   ck_assert_str_eq (got, want);
   bson_free (got);
}

/* A remove's reply, as pymongowatch's sample maps it. */
static mwatch_message_t *
remove_message (void)
{
   mwatch_message_t *msg = bare_message ();
   bson_t *reply = BCON_NEW ("n", BCON_INT32 (3), "ok", BCON_DOUBLE (1));
   bson_t *filter = BCON_NEW ("user", BCON_UTF8 ("alice"), "age", BCON_INT32 (42));
   mwatch_message_set_utf8 (msg, "Collection", "people");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_document (msg, "_deprecated_remove", reply);
   mwatch_message_set_double (msg, "Duration", 0.5);
   bson_destroy (reply);
   bson_destroy (filter);
   return msg;
}

/* The README's and the sample's ExecuteFilter uses, translated. */
START_TEST (test_modify_statements)
{
   /* fix_deprecated_remove_results, verbatim */
   mwatch_filter_t *filter = modify_ok ("DeletedCount = _deprecated_remove[\"n\"]\n", true);
   mwatch_message_t *msg = remove_message ();
   ck_assert (apply (filter, msg));
   ck_assert_int_eq (int_at (msg, "DeletedCount"), 3);
   mwatch_filter_destroy (filter);
   mwatch_message_destroy (msg);

   /* mask (the sample's _mask), set, rename, drop, a condition */
   filter = modify_ok ("# the sample's mask\n"
                       "Filter = mask(Filter)\n"
                       "Table = Collection; del Collection\n"
                       "Slow = Duration > 0.1\n"
                       "Note = 'checked'\n"
                       "del _deprecated_remove\n",
                       true);
   msg = remove_message ();
   ck_assert (apply (filter, msg));
   assert_full (msg,
                "Filter={\"user\":\"xxxxx\",\"age\":0} Duration=0.5 Table=people Slow=true "
                "Note=checked");
   mwatch_filter_destroy (filter);
   mwatch_message_destroy (msg);

   /* _result keeps or drops the record */
   filter = modify_ok ("_result = Collection != \"people\"", true);
   msg = remove_message ();
   ck_assert (!apply (filter, msg));
   mwatch_message_set_utf8 (msg, "Collection", "other");
   ck_assert (apply (filter, msg));
   mwatch_filter_destroy (filter);
   mwatch_message_destroy (msg);

   /* statements see what the ones before them set */
   filter = modify_ok ("A = 2; B = A; _result = B == 2", false);
   msg = bare_message ();
   ck_assert (apply (filter, msg));
   ck_assert_int_eq (int_at (msg, "B"), 2);
   mwatch_filter_destroy (filter);
   mwatch_message_destroy (msg);
}
END_TEST

/* A failing statement leaves the record as it came (Python writes back
 * nothing when exec raises) and gives exception_result. */
START_TEST (test_modify_exception_result)
{
   static const char *const failing[] = {
      "A = 1\nDeletedCount = _deprecated_remove[\"n\"]",
      "A = 1\ndel Nothing",
      "A = 1\nB = Collection > 1",
   };
   for (size_t i = 0; i < sizeof failing / sizeof *failing; i++) {
      for (int exc = 0; exc < 2; exc++) {
         mwatch_filter_t *filter = modify_ok (failing[i], exc);
         mwatch_message_t *msg = bare_message ();
         mwatch_message_set_utf8 (msg, "Collection", "c");
         ck_assert_int_eq (apply (filter, msg), exc);
         assert_full (msg, "Collection=c");
         mwatch_filter_destroy (filter);
         mwatch_message_destroy (msg);
      }
   }
   /* a text record passes */
   mwatch_filter_t *filter = modify_ok ("A = Missing", false);
   mwatch_record_t record = record_of (NULL);
   ck_assert (mwatch_filter_apply (filter, &record));
   mwatch_filter_destroy (filter);
}
END_TEST

START_TEST (test_modify_errors)
{
   static const struct {
      const char *text;
      const char *want;
   } cases[] = {
      {"", "has no statement"},
      {"# only a comment\n\n", "has no statement"},
      {"import numbers as _numbers", "statement 1 \"import numbers as _numbers\": a statement is"},
      {"A = 1\nB == 2", "statement 2 \"B == 2\": a statement is Field = value"},
      {"A = ", "statement 1"},
      {"A = (1", "expected \")\""},
      {"del", "a statement is"},
      {"del A,", "del names fields"},
      {"del A B", "separate the fields with commas"},
      {"_watch = 1", "assign to a field, not to _watch"},
      {"Filter = _mask(Filter)", "statement 1"},
   };
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      bson_error_t error;
      mwatch_filter_t *filter = mwatch_filter_new_modify (cases[i].text, true, &error);
      ck_assert_msg (!filter, "%s compiled", cases[i].text);
      ck_assert_msg (strstr (error.message, cases[i].want), "%s: \"%s\" lacks \"%s\"", cases[i].text,
                     error.message, cases[i].want);
   }
}
END_TEST

static const char *
utf8_at (const mwatch_message_t *msg, const char *path)
{
   mwatch_value_t value;
   ck_assert_msg (mwatch_message_get (msg, path, &value), "no %s", path);
   ck_assert_int_eq (value.type, MWATCH_TYPE_UTF8);
   return value.value.v_utf8.str;
}

/* A field the modify filter copied out of a document is redacted by a
 * later redact filter as its source is, by default and by name; masked
 * values and values from metadata are left alone. */
START_TEST (test_modify_then_redact)
{
   mwatch_filter_t *modify = modify_ok ("Who = Filter.user; Again = Who; Age = Filter['age'];"
                                        "Masked = mask(Filter.user); Table = Collection;"
                                        "Raw = _deprecated_remove.n",
                                        true);
   mwatch_filter_t *redact = mwatch_filter_new_redact (NULL, NULL);
   mwatch_message_t *msg = remove_message ();
   ck_assert (apply (modify, msg));
   ck_assert_str_eq (utf8_at (msg, "Who"), "alice");
   ck_assert (apply (redact, msg));
   ck_assert_str_eq (utf8_at (msg, "Who"), "xxxxx");
   ck_assert_str_eq (utf8_at (msg, "Again"), "xxxxx");
   ck_assert_int_eq (int_at (msg, "Age"), 0);
   ck_assert_str_eq (utf8_at (msg, "Masked"), "xxxxx");
   ck_assert_str_eq (utf8_at (msg, "Table"), "people");
   ck_assert_int_eq (int_at (msg, "Raw"), 0);
   /* the bookkeeping field is private: not rendered */
   char *full = full_of (msg);
   ck_assert_msg (!strstr (full, "_mwatch"), "%s", full);
   bson_free (full);
   mwatch_message_destroy (msg);

   /* a document field replaced by a value out of itself stays covered */
   mwatch_filter_t *narrow = modify_ok ("Filter = Filter.user", true);
   msg = remove_message ();
   ck_assert (apply (narrow, msg));
   ck_assert (apply (redact, msg));
   ck_assert_str_eq (utf8_at (msg, "Filter"), "xxxxx");
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (narrow);
   mwatch_filter_destroy (redact);

   /* by name: only what comes from a named field */
   static const char *const named[] = {"Filter", NULL};
   mwatch_redact_opts_t opts;
   mwatch_redact_opts_init (&opts);
   opts.fields = named;
   opts.mode = MWATCH_REDACT_TOKEN;
   redact = mwatch_filter_new_redact (&opts, NULL);
   msg = remove_message ();
   ck_assert (apply (modify, msg));
   ck_assert (apply (redact, msg));
   ck_assert_str_eq (utf8_at (msg, "Who"), "***");
   ck_assert_str_eq (utf8_at (msg, "Again"), "***");
   ck_assert_int_eq (int_at (msg, "Raw"), 3);
   ck_assert_str_eq (utf8_at (msg, "Table"), "people");
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (redact);
   mwatch_filter_destroy (modify);
}
END_TEST

/* pymongowatch's RateFilter: the rate into the field with its suffix,
 * records without the fields passed unchanged. */
START_TEST (test_rate_pymongowatch_options)
{
   static const char *const fields[] = {"InsertedCount", NULL};
   mwatch_rate_opts_t opts;
   mwatch_rate_opts_init (&opts);
   opts.output_rate_sec = 10;
   opts.fields = fields;
   opts.rate_in_field = true;
   opts.suffix = "/s";
   opts.pass_unrelated = true;
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_rate_opts (&opts, &error);
   ck_assert_msg (filter, "%s", error.message);
   mwatch_message_t *kept = NULL;

   ck_assert (!offer (filter, 0, 100, NULL, NULL));
   ck_assert (!offer (filter, 4, 105, NULL, NULL));
   /* unrelated: no InsertedCount, or a null one */
   mwatch_message_t *other = final_message ();
   mwatch_message_set_utf8 (other, "Operation", "find");
   ck_assert (apply (filter, other));
   assert_full (other, "Operation=find");
   mwatch_message_set_null (other, "InsertedCount");
   ck_assert (apply (filter, other));
   mwatch_message_destroy (other);
   ck_assert (offer (filter, 10, 7, NULL, &kept));
   /* 205 in 10 s: 20.5 rounds to even */
   ck_assert_str_eq (utf8_at (kept, "InsertedCount"), "20/s");
   ck_assert (double_at (kept, "InsertedCountRate") == 20.5);
   ck_assert_int_eq (int_at (kept, "RateRecords"), 2);
   mwatch_message_destroy (kept);
   mwatch_filter_destroy (filter);

   /* suffix null: the integer */
   opts.suffix = NULL;
   opts.pass_unrelated = false;
   filter = mwatch_filter_new_rate_opts (&opts, &error);
   ck_assert (!offer (filter, 0, 30, NULL, NULL));
   other = final_message ();
   fake_now = INT64_C (5000000000) + 1000000;
   ck_assert (!apply (filter, other));
   mwatch_message_destroy (other);
   ck_assert (offer (filter, 10, 1, NULL, &kept));
   ck_assert_int_eq (int_at (kept, "InsertedCount"), 3);
   mwatch_message_destroy (kept);
   mwatch_filter_destroy (filter);
}
END_TEST

/* extra_timeout_sec: the window's last record is held and handed out at
 * output_rate_sec + extra_timeout_sec, or at once when closing; a record
 * closing a window in time counts in it; defaults and errors. */
START_TEST (test_rate_extra_timeout)
{
   static const char *const fields[] = {"InsertedCount", NULL};
   mwatch_rate_opts_t opts;
   mwatch_rate_opts_init (&opts);
   ck_assert (opts.extra_timeout_sec < 0); /* none by default */
   opts.output_rate_sec = 10;
   opts.fields = fields;
   opts.extra_timeout_sec = 5;
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_rate_opts (&opts, &error);
   ck_assert_msg (filter, "%s", error.message);
   mwatch_record_t out;
   int64_t due = INT64_MAX;

   ck_assert (!_mwatch_filter_rate_release (filter, false, &out, &due));
   ck_assert (due == INT64_MAX); /* nothing held */
   ck_assert (!offer (filter, 0, 10, NULL, NULL));
   ck_assert (!offer (filter, 4, 20, NULL, NULL));
   fake_now = INT64_C (5000000000) + 14999999;
   ck_assert (!_mwatch_filter_rate_release (filter, false, &out, &due));
   ck_assert (due == INT64_C (5000000000) + 15000000);
   fake_now++;
   ck_assert (_mwatch_filter_rate_release (filter, false, &out, &due));
   /* the last record, with the window's figures over output_rate_sec */
   ck_assert_int_eq (int_at (out.watch, "InsertedCountSum"), 30);
   ck_assert (double_at (out.watch, "InsertedCountRate") == 3.0);
   ck_assert (double_at (out.watch, "RateWindow") == 10.0);
   ck_assert_int_eq (int_at (out.watch, "RateRecords"), 2);
   ck_assert_int_eq (int_at (out.watch, "InsertedCount"), 20);
   mwatch_message_destroy (out.watch);
   due = INT64_MAX;
   ck_assert (!_mwatch_filter_rate_release (filter, true, &out, &due));

   /* A new window; the record closing it counts in it and nothing stays
    * held. */
   mwatch_message_t *kept = NULL;
   ck_assert (!offer (filter, 20, 1, NULL, NULL));
   ck_assert (offer (filter, 30, 3, NULL, &kept));
   ck_assert_int_eq (int_at (kept, "InsertedCountSum"), 4);
   ck_assert_int_eq (int_at (kept, "RateRecords"), 2);
   mwatch_message_destroy (kept);
   ck_assert (!_mwatch_filter_rate_release (filter, true, &out, &due));

   /* Closing hands out a window before it is due. */
   ck_assert (!offer (filter, 31, 7, NULL, NULL));
   ck_assert (_mwatch_filter_rate_release (filter, true, &out, &due));
   ck_assert_int_eq (int_at (out.watch, "RateRecords"), 1);
   mwatch_message_destroy (out.watch);
   mwatch_filter_destroy (filter);

   /* Another filter, or a rate filter without extra_timeout_sec, holds
    * nothing. */
   mwatch_filter_t *other = mwatch_filter_new_fields (NULL, NULL, NULL, &error);
   ck_assert_msg (other, "%s", error.message);
   ck_assert (!_mwatch_filter_rate_release (other, true, &out, &due));
   mwatch_filter_destroy (other);
   other = mwatch_filter_new_rate (10, fields, &error);
   ck_assert (!offer (other, 0, 1, NULL, NULL));
   ck_assert (!_mwatch_filter_rate_release (other, true, &out, &due));
   mwatch_filter_destroy (other);

   const double bad[] = {1e9, INFINITY, NAN};
   for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      opts.extra_timeout_sec = bad[i];
      ck_assert_ptr_null (mwatch_filter_new_rate_opts (&opts, &error));
      ck_assert (strstr (error.message, "extra_timeout_sec"));
   }
}
END_TEST

Suite *
filters_suite (void)
{
   Suite *suite = suite_create ("filters");
   TCase *expr = tcase_create ("expression");
   TCase *hash = tcase_create ("sha256");
   TCase *redact = tcase_create ("redact");
   TCase *rate = tcase_create ("rate");
   TCase *fields = tcase_create ("fields");

   tcase_add_test (expr, test_expr_comparisons);
   tcase_add_test (expr, test_expr_numbers);
   tcase_add_test (expr, test_expr_strings_order_bytewise);
   tcase_add_test (expr, test_expr_type_mismatches);
   tcase_add_test (expr, test_expr_missing_is_null);
   tcase_add_test (expr, test_expr_dotted_paths);
   tcase_add_test (expr, test_expr_logic_and_precedence);
   tcase_add_test (expr, test_expr_in_lists);
   tcase_add_test (expr, test_expr_regex);
   tcase_add_test (expr, test_expr_numbers_ignore_locale);
   tcase_add_test (expr, test_expr_text_record);
   tcase_add_test (expr, test_expr_syntax_errors);
   tcase_add_test (expr, test_expr_regex_errors);
   tcase_add_test (expr, test_expr_null_expression);
   tcase_add_test (expr, test_expr_depth_limit);
   tcase_add_test (expr, test_expr_evaluation_allocates_nothing);
   tcase_add_test (expr, test_expr_python_spellings);
   tcase_add_test (expr, test_expr_exception_result);
   tcase_add_test (expr, test_modify_statements);
   tcase_add_test (expr, test_modify_exception_result);
   tcase_add_test (expr, test_modify_errors);
   tcase_add_test (expr, test_modify_then_redact);
   suite_add_tcase (suite, expr);

   tcase_add_test (hash, test_sha256_vectors);
   tcase_add_test (hash, test_sha256_split_anywhere);
   tcase_add_test (hash, test_hmac_rfc4231);
   suite_add_tcase (suite, hash);

   tcase_add_test (redact, test_redact_no_original_survives);
   tcase_add_test (redact, test_redact_placeholder_keeps_types);
   tcase_add_test (redact, test_redact_token_and_null);
   tcase_add_test (redact, test_redact_hmac_pseudonyms);
   tcase_add_test (redact, test_redact_errors_and_defaults);
   tcase_add_test (redact, test_redact_default_covers_every_document);
   tcase_add_test (redact, test_redact_deep_document);
   suite_add_tcase (suite, redact);

   tcase_add_checked_fixture (rate, rate_setup, rate_teardown);
   tcase_add_test (rate, test_rate_windows);
   tcase_add_test (rate, test_rate_values);
   tcase_add_test (rate, test_rate_counts_final_records_only);
   tcase_add_test (rate, test_rate_counts_every_record_on_request);
   tcase_add_test (rate, test_rate_errors);
   tcase_add_test (rate, test_rate_threads);
   tcase_add_test (rate, test_rate_pymongowatch_options);
   tcase_add_test (rate, test_rate_extra_timeout);
   suite_add_tcase (suite, rate);

   tcase_add_test (fields, test_fields_keep_drop_rename);
   tcase_add_test (fields, test_fields_errors);
   suite_add_tcase (suite, fields);
   return suite;
}
