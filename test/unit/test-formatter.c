/* Formatters: templates, every field, format specs, {asctime} and its
 * cache, compile errors with their columns, references and threads.
 * Every test runs with TZ=UTC so that local times are known. */
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/formatter-private.h"
#include "mongowatch.h"
#include "unit/suites.h"

/* 2025-11-25T11:40:00.123456Z */
#define CREATED INT64_C (1764070800123456)

/* ---------------------------------------------------------------- helpers */

static void
utc_setup (void)
{
   setenv ("TZ", "UTC", 1);
   tzset ();
}

static mwatch_record_t
make_record (mwatch_message_t *watch)
{
   mwatch_record_t record = {
      .name = "app.db",
      .level = MWATCH_LEVEL_INFO,
      .timeout_level = MWATCH_LEVEL_INFO,
      .created = CREATED,
      .thread = 4242,
      .process = 77,
      .text = NULL,
      .watch = watch,
   };
   return record;
}

/* The fields of a finished find, with a nested Filter. */
static mwatch_message_t *
find_message (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("user",
                              "{",
                              "name",
                              BCON_UTF8 ("ann"),
                              "age",
                              BCON_INT32 (30),
                              "}",
                              "tags",
                              "[",
                              BCON_UTF8 ("a"),
                              BCON_UTF8 ("b"),
                              "]");
   mwatch_message_remove (msg, "WatchID");
   mwatch_message_remove (msg, "Iteration");
   mwatch_message_remove (msg, "StartTime");
   mwatch_message_set_utf8 (msg, "DB", "test");
   mwatch_message_set_utf8 (msg, "Collection", "users");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_double (msg, "Duration", 0.25);
   mwatch_message_set_int64 (msg, "MatchedCount", 3);
   bson_destroy (filter);
   return msg;
}

#define FIND_DEFAULT \
   "DB=test Collection=users Operation=find Filter={\"user\":{\"name\":\"ann\",\"age\":30}," \
   "\"tags\":[\"a\",\"b\"]} Duration=0.25 MatchedCount=3"

/* A template of `style` ('{', '%', '$', or '\0' to infer it). */
static mwatch_formatter_t *
compile_styled (const char *format, const char *datefmt, char style)
{
   bson_error_t error;
   mwatch_formatter_t *formatter = mwatch_formatter_new_style (format, datefmt, style, &error);
   ck_assert_msg (formatter, "format \"%s\" refused: %s", format, error.message);
   return formatter;
}

static mwatch_formatter_t *
compile_ok (const char *format, const char *datefmt)
{
   return compile_styled (format, datefmt, '{');
}

/* Formats `record` with a new formatter of `style` and checks the whole
 * line. */
static void
check_styled_line (const char *format,
                   char style,
                   const mwatch_record_t *record,
                   const char *want)
{
   mwatch_formatter_t *formatter = compile_styled (format, NULL, style);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;

   mwatch_formatter_format (formatter, record, &out);
   ck_assert_ptr_nonnull (out.data);
   ck_assert_uint_eq (strlen (out.data), out.len);
   ck_assert_msg (strcmp (out.data, want) == 0,
                  "format \"%s\": got [%s], want [%s]",
                  format,
                  out.data,
                  want);
   mwatch_buf_destroy (&out);
   mwatch_formatter_destroy (formatter);
}

/* Formats `record` with a new formatter and checks the whole line. */
static void
check_line (const char *format,
            const char *datefmt,
            const mwatch_record_t *record,
            const char *want)
{
   if (!datefmt) {
      check_styled_line (format, '{', record, want);
      return;
   }
   mwatch_formatter_t *formatter = compile_ok (format, datefmt);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   mwatch_formatter_format (formatter, record, &out);
   ck_assert_msg (strcmp (out.data, want) == 0, "got [%s], want [%s]", out.data, want);
   mwatch_buf_destroy (&out);
   mwatch_formatter_destroy (formatter);
}

/* One line to check: `format` must give `want`. */
typedef struct {
   const char *format;
   const char *want;
} line_case_t;

/* check_line for each case, up to one whose format is NULL. */
static void
check_lines (const mwatch_record_t *record, const line_case_t *cases)
{
   for (; cases->format; cases++) {
      check_line (cases->format, NULL, record, cases->want);
   }
}

/* check_lines on a record of find_message(). */
static void
check_find_lines (const line_case_t *cases)
{
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = make_record (msg);
   check_lines (&record, cases);
   mwatch_message_destroy (msg);
}

/* A line to check for a message whose one field X holds a value of a
 * type given by a letter: 'd' a double, 'i' an int64, 's' a string. */
typedef struct {
   char type;
   double d;
   int64_t i;
   const char *s;
   const char *format;
   const char *want;
} value_case_t;

#define DBL(value, format, want) {'d', (value), 0, NULL, (format), (want)}
#define INT(value, format, want) {'i', 0, (value), NULL, (format), (want)}
#define STR(value, format, want) {'s', 0, 0, (value), (format), (want)}

static void
check_values (const value_case_t *cases)
{
   for (; cases->format; cases++) {
      mwatch_message_t *msg = mwatch_message_new ();
      mwatch_record_t record = make_record (msg);
      if (cases->type == 'd') {
         mwatch_message_set_double (msg, "X", cases->d);
      } else if (cases->type == 'i') {
         mwatch_message_set_int64 (msg, "X", cases->i);
      } else {
         mwatch_message_set_utf8 (msg, "X", cases->s);
      }
      check_line (cases->format, NULL, &record, cases->want);
      mwatch_message_destroy (msg);
   }
}

/* The template of `style` must be refused with every `parts` string in
 * the message. */
static void
check_styled_error (const char *format, char style, const char *const *parts)
{
   bson_error_t error;
   memset (&error, 0, sizeof error);
   mwatch_formatter_t *formatter = mwatch_formatter_new_style (format, NULL, style, &error);

   ck_assert_msg (formatter == NULL, "format \"%s\" was accepted", format);
   ck_assert_uint_eq (error.domain, MWATCH_ERROR_DOMAIN);
   ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
   for (; *parts; parts++) {
      ck_assert_msg (strstr (error.message, *parts),
                     "format \"%s\": [%s] lacks [%s]",
                     format,
                     error.message,
                     *parts);
   }
}

#define CHECK_STYLED_ERROR(format, style, ...)                   \
   do {                                                          \
      const char *const parts_[] = {__VA_ARGS__, NULL};          \
      check_styled_error ((format), (style), parts_);            \
   } while (0)

#define CHECK_ERROR(format, ...) CHECK_STYLED_ERROR ((format), '{', __VA_ARGS__)

/* ---------------------------------------------------------------- templates */

START_TEST (test_literals_and_escapes)
{
   mwatch_record_t record = make_record (NULL);
   const line_case_t cases[] = {
      {"plain text", "plain text"},
      {"a{{b}}c", "a{b}c"},
      {"{{}}", "{}"},
      {"}}{{", "}{"},
      {"{{name}} is {name}", "{name} is app.db"},
      {"{name}{levelno}", "app.db20"},
      {"h\xc3\xa9 {name}", "h\xc3\xa9 app.db"},
      /* Ill-formed UTF-8 in the template is replaced once, at compile time. */
      {"a\xff{name}", "a\xef\xbf\xbd" "app.db"},
      {NULL, NULL},
   };

   check_lines (&record, cases);
}
END_TEST

START_TEST (test_empty_format)
{
   mwatch_record_t record = make_record (NULL);
   mwatch_formatter_t *formatter = compile_ok ("", NULL);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;

   /* Nothing to write, yet the caller gets a NUL-terminated line. */
   mwatch_formatter_format (formatter, &record, &out);
   ck_assert_ptr_nonnull (out.data);
   ck_assert_uint_eq (out.len, 0);
   ck_assert_str_eq (out.data, "");
   mwatch_buf_destroy (&out);
   mwatch_formatter_destroy (formatter);
}
END_TEST

START_TEST (test_appends)
{
   mwatch_record_t record = make_record (NULL);
   mwatch_formatter_t *formatter = compile_ok ("{name}", NULL);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;

   mwatch_buf_append_str (&out, "> ");
   mwatch_formatter_format (formatter, &record, &out);
   mwatch_formatter_format (formatter, &record, &out);
   ck_assert_str_eq (out.data, "> app.dbapp.db");
   mwatch_buf_destroy (&out);
   mwatch_formatter_destroy (formatter);
}
END_TEST

START_TEST (test_default_format)
{
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = make_record (msg);
   const char *want = "2025-11-25 11:40:00,123 app.db - " FIND_DEFAULT;

   check_line (NULL, NULL, &record, want);
   check_line (MWATCH_DEFAULT_FORMAT, NULL, &record, want);
   mwatch_message_destroy (msg);
}
END_TEST

/* ---------------------------------------------------------------- fields */

START_TEST (test_record_fields)
{
   mwatch_record_t record = make_record (NULL);
   const line_case_t cases[] = {
      {"{name}", "app.db"},
      {"{levelname}", "INFO"},
      {"{levelno}", "20"},
      {"{thread}", "4242"},
      {"{process}", "77"},
      {"{created}", "1764070800.123456"},
      {"{asctime}", "2025-11-25 11:40:00,123"},
      {NULL, NULL},
   };

   check_lines (&record, cases);
   record.level = 25;
   check_line ("{levelname} {levelno}", NULL, &record, "Level 25 25");
   record.level = MWATCH_LEVEL_CRITICAL;
   check_line ("{levelname}", NULL, &record, "CRITICAL");
   record.thread = -1;
   record.process = INT64_MAX;
   check_line ("{thread} {process}", NULL, &record, "-1 9223372036854775807");
   record.name = "caf\xc3\xa9.\xff";
   check_line ("{name}", NULL, &record, "caf\xc3\xa9.\xef\xbf\xbd");
}
END_TEST

START_TEST (test_created)
{
   mwatch_record_t record = make_record (NULL);
   const struct {
      int64_t created;
      const char *want;
   } exact[] = {
      {INT64_C (1764070800000001), "1764070800.000001"},
      {0, "0.000000"},
      {-1, "-0.000001"},
      {INT64_C (-1500000), "-1.500000"},
   };
   const line_case_t cases[] = {
      {"{created:.3f}", "1764070800.123"},
      {"{created:.0f}", "1764070800"},
      {"{created:d}", "1764070800"},
      {"{created:>20}|", "   1764070800.123456|"},
      {"{created:+}", "+1764070800.123456"},
      {"{created:.3e}", "1.764e+09"},
      {NULL, NULL},
   };

   /* Six decimals from the integer microseconds, never through a double. */
   for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
      record.created = exact[i].created;
      check_line ("{created}", NULL, &record, exact[i].want);
   }
   record.created = CREATED;
   check_lines (&record, cases);
}
END_TEST

START_TEST (test_message)
{
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = make_record (msg);

   /* The text wins; without it the {watch} rendering stands in. */
   record.text = "connection lost";
   check_line ("{message}", NULL, &record, "connection lost");
   record.text = NULL;
   check_line ("{message}", NULL, &record, FIND_DEFAULT);
   record.watch = NULL;
   check_line ("[{message}]", NULL, &record, "[]");
   record.text = "only text";
   check_line ("[{message}] [{message:.4}]", NULL, &record, "[only text] [only]");
   mwatch_message_destroy (msg);
}
END_TEST

static void
check_rendering (const char *format, void (*render) (const mwatch_message_t *, mwatch_buf_t *))
{
   mwatch_message_t *msg = find_message ();
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;

   mwatch_message_set_utf8 (msg, "Comment", "hello, \"world\"");
   mwatch_message_set_utf8 (msg, "_private", "hidden");
   mwatch_message_set_datetime (msg, "EndTime", CREATED);
   render (msg, &want);
   mwatch_record_t record = make_record (msg);
   check_line (format, NULL, &record, want.data);
   mwatch_buf_destroy (&want);
   mwatch_message_destroy (msg);
}

static void
render_default (const mwatch_message_t *msg, mwatch_buf_t *out)
{
   mwatch_message_render (msg, NULL, out);
}

static void
render_csv (const mwatch_message_t *msg, mwatch_buf_t *out)
{
   mwatch_message_render_csv (msg, NULL, out);
}

START_TEST (test_watch_renderings)
{
   const line_case_t cases[] = {
      {"{watch}", FIND_DEFAULT},
      {"{watch.json}",
       "{\"DB\":\"test\",\"Collection\":\"users\",\"Operation\":\"find\","
       "\"Filter\":{\"user\":{\"name\":\"ann\",\"age\":30},\"tags\":[\"a\",\"b\"]},"
       "\"Duration\":0.25,\"MatchedCount\":3}"},
      {NULL, NULL},
   };

   check_rendering ("{watch}", render_default);
   check_rendering ("{watch.full}", mwatch_message_render_full);
   check_rendering ("{watch.csv}", render_csv);
   check_rendering ("{watch.json}", mwatch_message_render_json);
   check_find_lines (cases);
}
END_TEST

START_TEST (test_watch_fields)
{
   const line_case_t cases[] = {
      {"{watch.DB}.{watch.Collection}", "test.users"},
      {"{watch.Duration} {watch.MatchedCount}", "0.25 3"},
      {"{watch.Filter}", "{\"user\":{\"name\":\"ann\",\"age\":30},\"tags\":[\"a\",\"b\"]}"},
      /* Dotted paths reach into documents and arrays. */
      {"{watch.Filter.user.name}", "ann"},
      {"{watch.Filter.user.age:>4}", "  30"},
      {"{watch.Filter.user}", "{\"name\":\"ann\",\"age\":30}"},
      {"{watch.Filter.tags}", "[\"a\",\"b\"]"},
      {"{watch.Filter.tags.1}", "b"},
      /* Missing fields render empty, padded when a width is given. */
      {"[{watch.Error}]", "[]"},
      {"[{watch.Filter.user.email}]", "[]"},
      {"[{watch.Filter.tags.7}]", "[]"},
      {"[{watch.DB.x}]", "[]"},
      {"[{watch.Error:>3}]", "[   ]"},
      {"[{watch.Error:.2f}]", "[]"},
      {NULL, NULL},
   };

   check_find_lines (cases);
}
END_TEST

START_TEST (test_watch_value_types)
{
   /* As the key=value rendering writes each type. */
   const value_case_t cases[] = {
      INT (-7, "{watch.X}", "-7"),
      DBL (1.0, "{watch.X}", "1.0"),
      DBL (1e300, "{watch.X}", "1e+300"),
      STR ("a b", "{watch.X}", "\"a b\""),
      STR ("", "{watch.X}", "\"\""),
      {0},
   };
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_record_t record = make_record (msg);

   check_values (cases);
   mwatch_message_set_bool (msg, "B", true);
   mwatch_message_set_null (msg, "N");
   mwatch_message_set_datetime (msg, "T", CREATED);
   check_line ("{watch.B} {watch.N} {watch.T}",
               NULL,
               &record,
               "true null 2025-11-25T11:40:00.123456Z");
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_null_watch)
{
   mwatch_record_t record = make_record (NULL);

   check_line ("[{watch}|{watch.full}|{watch.csv}|{watch.json}|{watch.DB}|{watch.Filter.a}]",
               NULL,
               &record,
               "[|||||]");
   check_line ("[{watch:>3}|{watch.DB:*^4}]", NULL, &record, "[   |****]");
}
END_TEST

/* ---------------------------------------------------------------- asctime */

START_TEST (test_asctime_shape)
{
   mwatch_record_t record = make_record (NULL);
   mwatch_formatter_t *formatter = compile_ok ("{asctime}", NULL);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   regex_t re;

   record.created = mwatch_realtime_us ();
   mwatch_formatter_format (formatter, &record, &out);
   ck_assert_int_eq (regcomp (&re,
                              "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3}$",
                              REG_EXTENDED | REG_NOSUB),
                     0);
   ck_assert_msg (regexec (&re, out.data, 0, NULL, 0) == 0, "bad asctime [%s]", out.data);
   regfree (&re);
   mwatch_buf_destroy (&out);
   mwatch_formatter_destroy (formatter);
}
END_TEST

START_TEST (test_asctime_datefmt)
{
   mwatch_record_t record = make_record (NULL);
   const struct {
      const char *datefmt;
      const char *want;
   } cases[] = {
      {"%Y/%m/%d %H-%M-%S.%f", "2025/11/25 11-40-00.123456"},
      {"%H:%M:%S.%3f", "11:40:00.123"},
      /* %% is strftime's: "%%f" is a literal "%f", not microseconds. */
      {"%f|%3f|%%f|%%3f|%%%f", "123456|123|%f|%3f|%123456"},
      {"%f%f", "123456123456"},
      {"at %s", "at 1764070800"},
      {"", ""},
      {"100%", "100%"},
   };

   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      check_line ("{asctime}", cases[i].datefmt, &record, cases[i].want);
   }
   check_line ("[{asctime:>12}]", "%H:%M", &record, "[       11:40]");
   record.created = INT64_C (1764070800000999);
   check_line ("{asctime}", "%S.%f %3f", &record, "00.000999 000");
   check_line ("{asctime}", NULL, &record, "2025-11-25 11:40:00,000");
   /* Before 1970 the fraction still counts up from the second before. */
   record.created = -1;
   check_line ("{asctime}", "%Y-%m-%d %H:%M:%S.%f", &record, "1969-12-31 23:59:59.999999");
}
END_TEST

START_TEST (test_asctime_long_datefmt)
{
   mwatch_record_t record = make_record (NULL);
   char datefmt[700];
   char want[700];

   /* Too long for the per-thread cache: written straight. */
   memset (datefmt, 'x', 600);
   strcpy (datefmt + 600, "%Y");
   memset (want, 'x', 600);
   strcpy (want + 600, "2025");
   check_line ("{asctime}", datefmt, &record, want);
   /* More parts than the cache holds. */
   check_line ("{asctime}",
               "%f%3f%f%3f%f%3f%f%3f%f-%Y",
               &record,
               "123456123123456123123456123123456123123456-2025");
}
END_TEST

START_TEST (test_asctime_local_time)
{
   mwatch_record_t record = make_record (NULL);

   /* A POSIX TZ needs no zone files: UTC+5:30. */
   setenv ("TZ", "IST-5:30", 1);
   tzset ();
   /* A second no test formats in UTC, so that no cached text is reused. */
   record.created += INT64_C (7) * 1000000;
   check_line ("{asctime}", NULL, &record, "2025-11-25 17:10:07,123");
   check_line ("{asctime}", "%H:%M %Z", &record, "17:10 IST");
}
END_TEST

START_TEST (test_asctime_cache)
{
   mwatch_record_t record = make_record (NULL);
   mwatch_formatter_t *a = compile_ok ("{asctime}", NULL);
   mwatch_formatter_t *b = compile_ok ("{asctime}", "%M:%S.%f");
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   char want[64];

   /* Two formatters, seconds going back and forth, more pairs than the
    * cache has slots: every line must still be right. */
   for (int i = 0; i < 40; i++) {
      int sec = (i * 7) % 11;
      int ms = (i * 37) % 1000;
      record.created = CREATED - 123456 + INT64_C (1000000) * sec + ms * 1000 + i % 1000;
      mwatch_buf_clear (&out);
      mwatch_formatter_format (a, &record, &out);
      snprintf (want, sizeof want, "2025-11-25 11:40:%02d,%03d", sec, ms);
      ck_assert_str_eq (out.data, want);
      mwatch_buf_clear (&out);
      mwatch_formatter_format (b, &record, &out);
      snprintf (want, sizeof want, "40:%02d.%03d%03d", sec, ms, i % 1000);
      ck_assert_str_eq (out.data, want);
   }
   mwatch_buf_destroy (&out);
   mwatch_formatter_destroy (a);
   mwatch_formatter_destroy (b);

   /* A new formatter may get a freed one's address: never its cache. */
   for (int i = 0; i < 3; i++) {
      check_line ("{asctime}", i % 2 ? "%H" : "%M", &record, i % 2 ? "11" : "40");
   }
}
END_TEST

/* ---------------------------------------------------------------- specs */

START_TEST (test_spec_text)
{
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = make_record (msg);
   const line_case_t cases[] = {
      {"{levelname:<8}|", "INFO    |"},
      {"{levelname:8}|", "INFO    |"},
      {"{levelname:>8}|", "    INFO|"},
      {"{levelname:^8}|", "  INFO  |"},
      {"{levelname:^7}|", " INFO  |"},
      {"{levelname:2}|", "INFO|"},
      {"{levelname:s}|{levelname:.1s}", "INFO|I"},
      {"{name:05}", "app.db"},
      {"{name:08}", "app.db00"},
      {"{watch.Collection:^10}|", "  users   |"},
      {"{watch.Collection:*>8}", "***users"},
      {"{watch.Collection:.2}", "us"},
      {"{watch.Collection:.0}|", "|"},
      {"{watch.Collection:-<9.3}|", "use------|"},
      {"{watch.Filter.user:>30}", "       {\"name\":\"ann\",\"age\":30}"},
      {"{watch.Filter:.9}", "{\"user\":{"},
      /* A numeric type on text applies only fill, align and width. */
      {"{watch.Collection:>7.2f}", "  users"},
      {NULL, NULL},
   };

   check_lines (&record, cases);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_spec_utf8)
{
   /* Widths and precisions count characters, not bytes. */
   const value_case_t cases[] = {
      STR ("h\xc3\xa9llo", "{watch.X:.2}", "h\xc3\xa9"),
      STR ("h\xc3\xa9llo", "{watch.X:>7}", "  h\xc3\xa9llo"),
      STR ("h\xc3\xa9llo", "{watch.X:^9.4}|", "  h\xc3\xa9ll   |"),
      STR ("\xe6\x97\xa5\xe6\x9c\xac", "{watch.X:.1}", "\xe6\x97\xa5"),
      STR ("\xf0\x9f\x98\x80x", "{watch.X:.1}|", "\xf0\x9f\x98\x80|"),
      /* A multi-byte fill. */
      STR ("ab", "{watch.X:\xc3\xa9^6}", "\xc3\xa9\xc3\xa9" "ab\xc3\xa9\xc3\xa9"),
      STR ("ab", "{watch.X:\xe2\x82\xac>4}", "\xe2\x82\xac\xe2\x82\xac" "ab"),
      INT (5, "{watch.X:\xc3\xa9<3}", "5\xc3\xa9\xc3\xa9"),
      {0},
   };

   check_values (cases);
}
END_TEST

START_TEST (test_spec_integers)
{
   mwatch_record_t record = make_record (NULL);
   const line_case_t cases[] = {
      {"{levelno:>5}|", "   20|"},
      {"{levelno:5}|", "   20|"},
      {"{levelno:<5}|", "20   |"},
      {"{levelno:^6}|", "  20  |"},
      {"{levelno:x<5}", "20xxx"},
      {"{levelno:+} {levelno:-} {levelno: }", "+20 20  20"},
      {"{levelno:05d}", "00020"},
      {"{levelno:+05}", "+0020"},
      {"{levelno:.2f} {levelno:e} {levelno:%}", "20.00 2.000000e+01 2000.000000%"},
      {"{thread:>8d}", "    4242"},
      {"{process:*^7}", "**77***"},
      {NULL, NULL},
   };
   const value_case_t values[] = {
      INT (3, "{watch.X:05d}", "00003"),
      INT (-3, "{watch.X:05d}", "-0003"),
      INT (3, "{watch.X:.2f}", "3.00"),
      INT (3, "{watch.X:.2}", "3"),
      INT (3, "{watch.X:s}|{watch.X:3s}|", "3|3  |"),
      INT (INT64_MIN, "{watch.X:d}", "-9223372036854775808"),
      {0},
   };

   check_lines (&record, cases);
   record.level = -5;
   check_line ("{levelno:05} {levelno:+} {levelno:*<5} {levelno:0>5}",
               NULL,
               &record,
               "-0005 -5 -5*** 000-5");
   check_values (values);
}
END_TEST

START_TEST (test_spec_doubles)
{
   const value_case_t cases[] = {
      DBL (0.25, "{watch.X:.3f}", "0.250"),
      DBL (0.25, "{watch.X:f} {watch.X:F}", "0.250000 0.250000"),
      DBL (0.25, "{watch.X:e} {watch.X:.1E}", "2.500000e-01 2.5E-01"),
      DBL (0.25, "{watch.X:g} {watch.X:G}", "0.25 0.25"),
      DBL (1e-7, "{watch.X:G}", "1E-07"),
      DBL (0.25, "{watch.X:%} {watch.X:.1%}", "25.000000% 25.0%"),
      DBL (0.25, "{watch.X:+08.2f}", "+0000.25"),
      DBL (0.25, "{watch.X:*^+9.2f}", "**+0.25**"),
      DBL (0.25, "{watch.X: .1f}", " 0.2"),
      DBL (-0.25, "{watch.X:08.3f}", "-000.250"),
      DBL (0.25, "{watch.X:>8}|", "    0.25|"),
      DBL (0.25, "{watch.X:s}|{watch.X:.3s}", "0.25|0.2"),
      /* No type with a precision: Python's general form. */
      DBL (0.25, "{watch.X:.3}", "0.25"),
      DBL (1.0, "{watch.X:.3}", "1.0"),
      DBL (12.0, "{watch.X:.3}", "12.0"),
      DBL (100.0, "{watch.X:.3}", "1e+02"),
      DBL (99.96, "{watch.X:.3}", "1e+02"),
      DBL (1234.5, "{watch.X:.3}", "1.23e+03"),
      DBL (123456789.0, "{watch.X:.12}", "123456789.0"),
      DBL (5.0, "{watch.X:.0}", "5e+00"),
      DBL (0.0, "{watch.X:.1}", "0e+00"),
      /* "d" on a double rounds half to even, never "-0". */
      DBL (2.5, "{watch.X:d}", "2"),
      DBL (3.5, "{watch.X:d}", "4"),
      DBL (-0.4, "{watch.X:d}", "0"),
      DBL (-2.7, "{watch.X:05d}", "-0003"),
      /* Large values and precisions are printed in full. */
      DBL (1e300,
           "{watch.X:.0f}",
           "100000000000000005250476025520442024870446858110815915491585411551180245"
           "798890819578637137508044786404370444383288387817694252323536043057564479"
           "218478670698284838720092657580373783023379478809005936895323497079994508"
           "111903896764088007465274278014249457925878882005684283811566947219638686"
           "5459400540160"),
      DBL (0.5,
           "{watch.X:.70f}",
           "0.50000000000000000000000000000000000"
           "00000000000000000000000000000000000"),
      {0},
   };

   check_values (cases);
}
END_TEST

START_TEST (test_spec_non_finite)
{
   const value_case_t cases[] = {
      DBL (NAN, "{watch.X}", "NaN"),
      DBL (NAN, "{watch.X:f} {watch.X:F} {watch.X:+f}", "nan NAN +nan"),
      DBL (-NAN, "{watch.X:f}", "nan"),
      DBL (INFINITY, "{watch.X:.2f} {watch.X:E} {watch.X:.3}", "inf INF inf"),
      DBL (-INFINITY, "{watch.X:g}|{watch.X:>6}", "-inf|-Infinity"),
      DBL (INFINITY, "{watch.X:06f}", "000inf"),
      DBL (-0.0, "{watch.X} {watch.X:+}", "-0.0 -0.0"),
      {0},
   };

   check_values (cases);
}
END_TEST

/* ---------------------------------------------------------------- errors */

START_TEST (test_errors_braces)
{
   CHECK_ERROR ("{asctime {name}",
                "format \"{asctime {name}\": unclosed \"{\" at column 1",
                "write \"{{\"");
   CHECK_ERROR ("abc {name", "unclosed \"{\" at column 5");
   CHECK_ERROR ("{name:<8", "unclosed \"{\" at column 1");
   CHECK_ERROR ("{", "unclosed \"{\" at column 1");
   CHECK_ERROR ("ab}c", "format \"ab}c\": single \"}\" at column 3", "write \"}}\"");
   CHECK_ERROR ("{name}}", "single \"}\" at column 7");
   CHECK_ERROR ("}", "single \"}\" at column 1");
   CHECK_ERROR ("x{}", "empty field \"{}\" at column 2", "{name}");
   CHECK_ERROR ("{:>5}", "field with no name at column 1");
   /* Columns count characters. */
   CHECK_ERROR ("\xc3\xa9\xc3\xa9}", "single \"}\" at column 3");
   CHECK_ERROR ("\xe6\x97\xa5 {", "unclosed \"{\" at column 3");
}
END_TEST

START_TEST (test_errors_fields)
{
   CHECK_ERROR ("abc {nmae}",
                "unknown field \"nmae\" at column 5; did you mean \"name\"? known: asctime, created, levelname, "
                "levelno, message, name, process, thread, watch, watch.full, watch.csv, "
                "watch.json, watch.<field>");
   CHECK_ERROR ("{name} {Name}", "unknown field \"Name\" at column 8");
   CHECK_ERROR ("{name!r}", "unknown field \"name!r\" at column 1");
   CHECK_ERROR ("{watchDB}", "unknown field \"watchDB\"");
   CHECK_ERROR ("{watch.}", "empty key in field \"watch.\" at column 1");
   CHECK_ERROR ("a{watch..b}", "empty key in field \"watch..b\" at column 2");
   CHECK_ERROR ("{watch.a.}", "empty key in field \"watch.a.\"");
   CHECK_ERROR ("{watch.Filter..b:>3}", "empty key");
}
END_TEST

START_TEST (test_errors_specs)
{
   CHECK_ERROR ("a {levelno:.x}",
                "bad format spec \".x\" for field \"levelno\" at column 3",
                "a spec is [[fill]align][sign][0][width][.precision][type]");
   CHECK_ERROR ("{name:.}", "bad format spec \".\"", "followed by a precision");
   CHECK_ERROR ("{name:q}",
                "bad format spec \"q\" for field \"name\" at column 1: unknown type \"q\"");
   CHECK_ERROR ("{watch.X:x}", "unknown type \"x\"");
   CHECK_ERROR ("{watch.X:=5}", "alignment \"=\" is not supported");
   CHECK_ERROR ("{watch.X:*=5}", "alignment \"=\" is not supported");
   CHECK_ERROR ("{watch.X:,}", "grouping with \",\" is not supported");
   CHECK_ERROR ("{watch.X:_d}", "grouping with \"_\"");
   CHECK_ERROR ("{watch.X:#x}", "the \"#\" option is not supported");
   CHECK_ERROR ("{watch.X:5d!}", "unexpected \"!\"");
   CHECK_ERROR ("{watch.X:ff}", "unexpected \"f\"");
   CHECK_ERROR ("{watch.X:99999999999}", "at most 100000");
   CHECK_ERROR ("{watch.X:.100001}", "at most 100000");
   /* What cannot apply to a record attribute's fixed type. */
   CHECK_ERROR ("{name:+}", "field \"name\" at column 1: a sign is only for numbers");
   CHECK_ERROR ("{asctime:d}", "type \"d\" is for numbers, and this field is text");
   CHECK_ERROR ("{watch:.2f}", "type \"f\" is for numbers");
   CHECK_ERROR ("x{levelno:s}", "at column 2: type \"s\" is for text");
   CHECK_ERROR ("{created:s}", "type \"s\" is for text");
   CHECK_ERROR ("{thread:.2}", "an integer takes no precision");
   CHECK_ERROR ("{process:.2d}", "an integer takes no precision");
}
END_TEST

START_TEST (test_errors_long_format)
{
   char format[600];
   bson_error_t error;

   /* A long template is shortened in the message so that the column and
    * the advice still fit. */
   memset (format, 'a', 500);
   strcpy (format + 500, "{nmae}");
   ck_assert_ptr_null (mwatch_formatter_new (format, NULL, &error));
   ck_assert_ptr_nonnull (strstr (error.message, "...\": unknown field \"nmae\" at column 501"));
   ck_assert_ptr_nonnull (strstr (error.message, "watch.json"));
   /* The error is optional. */
   ck_assert_ptr_null (mwatch_formatter_new ("{nmae}", NULL, NULL));
}
END_TEST

/* Compiling is linear in the number of fields: 100,000 of them took 23 s
 * when each field's column was counted from the template's start, and
 * take milliseconds now (the case's timeout is 5 s).  The column of an
 * error after them is still right. */
START_TEST (test_compile_many_fields)
{
   const size_t n = 100000;
   const char piece[] = "{watch.Filter:>3}\xc3\xa9"; /* 19 bytes, 18 characters */
   const size_t piece_len = sizeof piece - 1;
   char *format = bson_malloc (n * piece_len + sizeof "{nmae}");
   bson_error_t error;

   for (size_t i = 0; i < n; i++) {
      memcpy (format + i * piece_len, piece, piece_len);
   }
   format[n * piece_len] = '\0';
   mwatch_formatter_t *formatter = mwatch_formatter_new (format, NULL, &error);
   ck_assert_ptr_nonnull (formatter);
   mwatch_formatter_destroy (formatter);

   strcpy (format + n * piece_len, "{nmae}");
   ck_assert_ptr_null (mwatch_formatter_new (format, NULL, &error));
   ck_assert_ptr_nonnull (strstr (error.message, "unknown field \"nmae\" at column 1800001;"));
   bson_free (format);
}
END_TEST

/* ---------------------------------------------------------------- lifecycle */

START_TEST (test_references)
{
   mwatch_record_t record = make_record (NULL);
   mwatch_formatter_t *formatter = compile_ok ("{name}", NULL);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;

   ck_assert_ptr_eq (mwatch_formatter_ref (formatter), formatter);
   mwatch_formatter_destroy (formatter);
   /* Still alive on the second reference (valgrind would see otherwise). */
   mwatch_formatter_format (formatter, &record, &out);
   ck_assert_str_eq (out.data, "app.db");
   mwatch_formatter_destroy (formatter);
   mwatch_formatter_destroy (NULL);
   mwatch_buf_destroy (&out);
}
END_TEST

START_TEST (test_no_realloc_after_warmup)
{
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = make_record (msg);
   mwatch_formatter_t *formatter =
      compile_ok ("{asctime} {created:.3f} {levelname:<8} {watch.Duration:>10.4f} "
                  "{watch.Collection:^12} {watch.Filter:.20} {watch}",
                  "%Y-%m-%dT%H:%M:%S.%f");
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;

   mwatch_formatter_format (formatter, &record, &out);
   char *data = out.data;
   size_t cap = out.cap;
   size_t len = out.len;
   for (int i = 0; i < 200; i++) {
      /* A new second now and then, so the asctime cache misses too. */
      record.created = CREATED + INT64_C (250000) * i;
      mwatch_buf_clear (&out);
      mwatch_formatter_format (formatter, &record, &out);
      ck_assert_uint_eq (out.len, len);
      ck_assert_ptr_eq (out.data, data);
      ck_assert_uint_eq (out.cap, cap);
   }
   mwatch_buf_destroy (&out);
   mwatch_formatter_destroy (formatter);
   mwatch_message_destroy (msg);
}
END_TEST

#define N_THREADS 4
#define N_LINES 500

typedef struct {
   const mwatch_formatter_t *formatter;
   int id;
   int failures;
} worker_t;

static void *
worker (void *arg)
{
   worker_t *w = arg;
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_record_t record = make_record (msg);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   char want[128];

   for (int i = 0; i < N_LINES; i++) {
      int sec = (w->id * 13 + i) % 60;
      record.created = INT64_C (1764070800000000) + INT64_C (1000000) * sec + i;
      record.thread = w->id;
      mwatch_message_set_int64 (msg, "N", i);
      mwatch_buf_clear (&out);
      mwatch_formatter_format (w->formatter, &record, &out);
      snprintf (want, sizeof want, "11:40:%02d.%06d t%d n=%05d", sec, i, w->id, i);
      w->failures += strcmp (out.data, want) != 0;
   }
   mwatch_buf_destroy (&out);
   mwatch_message_destroy (msg);
   return NULL;
}

START_TEST (test_threads)
{
   mwatch_formatter_t *formatter =
      compile_ok ("{asctime} t{thread} n={watch.N:05d}", "%H:%M:%S.%f");
   pthread_t threads[N_THREADS];
   worker_t workers[N_THREADS];

   /* One formatter, several threads at once, each with its own seconds. */
   for (int i = 0; i < N_THREADS; i++) {
      workers[i] = (worker_t){.formatter = formatter, .id = i};
      ck_assert_int_eq (pthread_create (&threads[i], NULL, worker, &workers[i]), 0);
   }
   for (int i = 0; i < N_THREADS; i++) {
      pthread_join (threads[i], NULL);
      ck_assert_int_eq (workers[i].failures, 0);
   }
   mwatch_formatter_destroy (formatter);
}
END_TEST

/* The header of a template: its literal text, each field's name, and
 * {watch.csv}'s columns with the extras column. */
START_TEST (test_csv_header_of_template)
{
   mwatch_formatter_t *formatter =
      compile_ok ("{asctime} [{levelname:<8}] {watch.Filter.user:>9},{name},{watch.csv}", NULL);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;

   mwatch_formatter_header (formatter, &out);
   mwatch_buf_append_str (&want, "asctime [levelname] Filter.user,name,");
   mwatch_render_csv_header (NULL, &want);
   ck_assert_str_eq (out.data, want.data);

   /* Columns of its own: the header and each line follow them. */
   const char *columns[] = {"Collection", "Duration", NULL};
   bson_error_t error;
   ck_assert (mwatch_formatter_set_columns (formatter, columns, &error));
   mwatch_buf_clear (&out);
   mwatch_formatter_header (formatter, &out);
   ck_assert (strstr (out.data, ",name,Collection,Duration,Extra"));
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = make_record (msg);
   mwatch_buf_clear (&out);
   mwatch_formatter_format (formatter, &record, &out);
   mwatch_buf_clear (&want);
   mwatch_message_render_csv (msg, columns, &want);
   ck_assert_msg (strstr (out.data, want.data), "%s", out.data);
   ck_assert (strstr (out.data, ",app.db,users,0.25,\"{"));

   /* Refused: a name twice, an empty name; the columns stay as they were. */
   const char *twice[] = {"DB", "Collection", "DB", NULL};
   const char *empty[] = {"DB", "", NULL};
   ck_assert (!mwatch_formatter_set_columns (formatter, twice, &error));
   ck_assert_str_eq (error.message, "column 3 (\"DB\") is listed twice; each column names a field once");
   ck_assert (!mwatch_formatter_set_columns (formatter, empty, &error));
   ck_assert (strstr (error.message, "column 2 (\"\") is empty"));
   mwatch_buf_clear (&out);
   mwatch_formatter_header (formatter, &out);
   ck_assert (strstr (out.data, ",name,Collection,Duration,Extra"));

   /* NULL goes back to the default columns. */
   ck_assert (mwatch_formatter_set_columns (formatter, NULL, &error));
   mwatch_buf_clear (&out);
   mwatch_formatter_header (formatter, &out);
   ck_assert (strstr (out.data, ",name,WatchID,Iteration,"));

   mwatch_message_destroy (msg);
   mwatch_buf_destroy (&out);
   mwatch_buf_destroy (&want);
   mwatch_formatter_destroy (formatter);
}
END_TEST

/* ---------------------------------------------------------------- Python's other styles */

/* check_styled_line for each case, on a record of find_message(). */
static void
check_styled_find_lines (char style, const line_case_t *cases)
{
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = make_record (msg);
   for (; cases->format; cases++) {
      check_styled_line (cases->format, style, &record, cases->want);
   }
   mwatch_message_destroy (msg);
}

/* Python's %-style, as logging.Formatter(style="%") writes it. */
START_TEST (test_percent_style)
{
   const line_case_t cases[] = {
      {"%(asctime)s %(name)s %(levelname)s %(message)s",
       "2025-11-25 11:40:00,123 app.db INFO " FIND_DEFAULT},
      {"%(levelname)-8s|%(levelname)8s|%(levelname).2s", "INFO    |    INFO|IN"},
      {"%(levelno)d %(levelno)05d %(levelno)-4d| %(levelno)+d %(levelno)i %(levelno)u",
       "20 00020 20  | +20 20 20"},
      {"%(process)s %(thread)6s %(process)-3s|", "77   4242 77 |"},
      {"%(created)f %(created).3f %(created)s", "1764070800.123456 1764070800.123 1764070800.123456"},
      {"100%% %(name)s %%(name)s", "100% app.db %(name)s"},
      {"{literal} %(name)s", "{literal} app.db"},
      {"%(watch)s", FIND_DEFAULT},
      {"%(message)s", FIND_DEFAULT},
      {"%(watch.Collection)s %(watch.Duration).1f %(watch.MatchedCount)03d",
       "users 0.2 003"},
      {"no fields at all", "no fields at all"},
      {NULL, NULL},
   };
   check_styled_find_lines ('%', cases);
}
END_TEST

/* Python's $-style: $name, ${name}, $$. */
START_TEST (test_dollar_style)
{
   const line_case_t cases[] = {
      {"$name ${levelname}: $message", "app.db INFO: " FIND_DEFAULT},
      {"$$5 ${watch.Collection} $watch", "$5 users " FIND_DEFAULT},
      /* As string.Template: a name ends at the first non-word character. */
      {"$name.x ${name}x {name} %(name)s", "app.db.x app.dbx {name} %(name)s"},
      {NULL, NULL},
   };
   check_styled_find_lines ('$', cases);
}
END_TEST

/* No style given: "%" when the template has "%(" and no "{", else "{",
 * so that mongowatch's {-style templates keep their meaning. */
START_TEST (test_inferred_style)
{
   const line_case_t cases[] = {
      {"%(name)s %(levelname)-5s|", "app.db INFO |"},
      {"{name} %(name)s", "app.db %(name)s"},
      {"{name} {watch.Collection}", "app.db users"},
      {"100% $name", "100% $name"},
      {NULL, NULL},
   };
   check_styled_find_lines ('\0', cases);
   ck_assert_int_eq (_mwatch_formatter_infer_style ("%(name)s"), '%');
   ck_assert_int_eq (_mwatch_formatter_infer_style ("{name} %(name)s"), '{');
   ck_assert_int_eq (_mwatch_formatter_infer_style ("5%"), '{');
   /* No template: the default, {-style whatever the style. */
   bson_error_t error;
   mwatch_formatter_t *formatter = mwatch_formatter_new_style (NULL, NULL, '%', &error);
   ck_assert_msg (formatter, "%s", error.message);
   mwatch_formatter_destroy (formatter);
}
END_TEST

START_TEST (test_errors_other_styles)
{
   CHECK_STYLED_ERROR ("%(nmae)s", '%', "unknown field \"nmae\" at column 1; did you mean \"name\"?");
   CHECK_STYLED_ERROR ("abc %d", '%', "single \"%\" at column 5", "\"%%\" a literal percent");
   CHECK_STYLED_ERROR ("100%", '%', "single \"%\" at column 4");
   CHECK_STYLED_ERROR ("x %(name", '%', "unclosed \"%(\" at column 3");
   CHECK_STYLED_ERROR ("%(name)", '%', "bad conversion \"%(name)\" at column 1", "has no type");
   CHECK_STYLED_ERROR ("%(name)x", '%', "conversion type \"x\" is not supported");
   CHECK_STYLED_ERROR ("%(name)r", '%', "conversion type \"r\" is not supported");
   CHECK_STYLED_ERROR ("%(name)#s", '%', "the \"#\" flag");
   CHECK_STYLED_ERROR ("%(name)*s", '%', "\"*\" taken from arguments");
   CHECK_STYLED_ERROR ("ab %(levelname)d",
                       '%',
                       "bad conversion \"%(levelname)d\" for field \"levelname\" at column 4",
                       "this field is text");
   CHECK_STYLED_ERROR ("%(filename)s", '%', "unknown field \"filename\"");
   CHECK_STYLED_ERROR ("cost $5", '$', "single \"$\" at column 6", "\"$$\" a literal dollar");
   CHECK_STYLED_ERROR ("$", '$', "single \"$\" at column 1");
   CHECK_STYLED_ERROR ("a ${name", '$', "unclosed \"${\" at column 3");
   CHECK_STYLED_ERROR ("${}", '$', "single \"$\" at column 1");
   CHECK_STYLED_ERROR ("$nmae", '$', "unknown field \"nmae\" at column 1; did you mean \"name\"?");
   CHECK_STYLED_ERROR ("x", '#', "unknown template style \"#\"");
}
END_TEST

/* One TCase per group of tests; `utc` runs each with TZ=UTC. */
static TCase *
add_tcase (Suite *suite, const char *name, bool utc, const TTest *const *tests)
{
   TCase *tc = tcase_create (name);

   if (utc) {
      tcase_add_checked_fixture (tc, utc_setup, NULL);
   }
   for (; *tests; tests++) {
      tcase_add_test (tc, *tests);
   }
   suite_add_tcase (suite, tc);
   return tc;
}

Suite *
formatter_suite (void)
{
   Suite *suite = suite_create ("formatter");
   const TTest *const templates_tests[] = {
      test_literals_and_escapes,
      test_empty_format,
      test_appends,
      test_default_format,
      NULL,
   };
   const TTest *const fields_tests[] = {
      test_record_fields,
      test_created,
      test_message,
      test_watch_renderings,
      test_csv_header_of_template,
      test_watch_fields,
      test_watch_value_types,
      test_null_watch,
      NULL,
   };
   const TTest *const asctime_tests[] = {
      test_asctime_shape,
      test_asctime_datefmt,
      test_asctime_long_datefmt,
      test_asctime_local_time,
      test_asctime_cache,
      NULL,
   };
   const TTest *const specs_tests[] = {
      test_spec_text,
      test_spec_utf8,
      test_spec_integers,
      test_spec_doubles,
      test_spec_non_finite,
      NULL,
   };
   const TTest *const errors_tests[] = {
      test_errors_braces,
      test_errors_fields,
      test_errors_specs,
      test_errors_long_format,
      NULL,
   };
   const TTest *const styles_tests[] = {
      test_percent_style,
      test_dollar_style,
      test_inferred_style,
      test_errors_other_styles,
      NULL,
   };
   const TTest *const bounds_tests[] = {
      test_compile_many_fields,
      NULL,
   };
   const TTest *const lifecycle_tests[] = {
      test_references,
      test_no_realloc_after_warmup,
      test_threads,
      NULL,
   };

   add_tcase (suite, "templates", true, templates_tests);
   add_tcase (suite, "fields", true, fields_tests);
   add_tcase (suite, "asctime", true, asctime_tests);
   add_tcase (suite, "specs", true, specs_tests);
   add_tcase (suite, "errors", false, errors_tests);
   add_tcase (suite, "styles", true, styles_tests);
   add_tcase (suite, "lifecycle", true, lifecycle_tests);
   /* 23 s before compiling was made linear. */
   tcase_set_timeout (add_tcase (suite, "bounds", false, bounds_tests), 5);
   return suite;
}
