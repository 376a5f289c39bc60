/* The text writers (lib/json-private.h) and the four renderings.  JSON output is
 * checked by parsing it with jansson, CSV output by the small RFC 4180
 * reader below, BSON output against libbson's own relaxed extended JSON. */
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/json-private.h"
#include "../../lib/message-render-private.h"
#include "mongowatch.h"
#include "unit/suites.h"

/* 2026-11-25T11:40:00.123456Z */
#define SOME_TIME_US INT64_C (1795606800123456)
#define SOME_TIME_ISO "2026-11-25T11:40:00.123456Z"
#define OID_HEX "5f1a2b3c4d5e6f7a8b9c0d1e"
#define ZURICH "Z\xC3\xBCrich"
#define TOKYO "\xE6\x9D\xB1\xE4\xBA\xAC"
#define FFFD "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

#define ASSERT_BUF(buf, lit) assert_bytes ((buf)->data, (buf)->len, (lit), sizeof (lit) - 1)

static void
assert_bytes (const char *got, size_t got_len, const char *want, size_t want_len)
{
   ck_assert_msg (got_len == want_len && (want_len == 0 || memcmp (got, want, want_len) == 0),
                  "got [%.*s] (%zu bytes), want [%.*s] (%zu bytes)",
                  (int) got_len,
                  got ? got : "",
                  got_len,
                  (int) want_len,
                  want,
                  want_len);
}

/* A message with no fields at all. */
static mwatch_message_t *
empty_message (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_remove (msg, "WatchID");
   mwatch_message_remove (msg, "Iteration");
   mwatch_message_remove (msg, "StartTime");
   ck_assert_uint_eq (mwatch_message_count (msg), 0);
   return msg;
}

/* The fields a finished find leaves, plus an extra and a private one. */
static mwatch_message_t *
find_message (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("age", "{", "$gt", BCON_INT32 (30), "}");
   mwatch_message_set_datetime (msg, "StartTime", SOME_TIME_US);
   mwatch_message_set_utf8 (msg, "DB", "test");
   mwatch_message_set_utf8 (msg, "Collection", "users");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_double (msg, "Duration", 0.25);
   mwatch_message_set_int64 (msg, "MatchedCount", 3);
   mwatch_message_set_utf8 (msg, "Comment", "hello, world");
   mwatch_message_set_utf8 (msg, "_private", "hidden");
   bson_destroy (filter);
   return msg;
}

static void
set_oid (mwatch_message_t *msg, const char *key)
{
   mwatch_value_t v = {.type = MWATCH_TYPE_BSON};
   v.value.v_bson.value_type = BSON_TYPE_OID;
   bson_oid_init_from_string (&v.value.v_bson.value.v_oid, OID_HEX);
   ck_assert (mwatch_message_set_value (msg, key, &v));
}

/* ------------------------------------------------------------ RFC 4180 */

#define MAX_CELLS 64

typedef struct {
   char text[8192];
   size_t start[MAX_CELLS];
   size_t len[MAX_CELLS];
   size_t n;
} csv_record_t;

/* Reads one record strictly: a bare cell may not hold a quote, CR or LF,
 * and a quoted cell must be closed and followed by a comma or the end. */
static void
csv_parse (const mwatch_buf_t *buf, csv_record_t *rec)
{
   const char *s = buf->data ? buf->data : "";
   size_t i = 0, t = 0;

   for (rec->n = 0;; rec->n++) {
      ck_assert_uint_lt (rec->n, MAX_CELLS);
      rec->start[rec->n] = t;
      if (i < buf->len && s[i] == '"') {
         for (i++;; i++) {
            ck_assert_msg (i < buf->len, "unterminated quoted cell");
            if (s[i] == '"' && (i + 1 == buf->len || s[i + 1] != '"')) {
               i++;
               break;
            }
            i += s[i] == '"';
            ck_assert_uint_lt (t, sizeof rec->text);
            rec->text[t++] = s[i];
         }
      } else {
         for (; i < buf->len && s[i] != ','; i++) {
            ck_assert_msg (!strchr ("\"\r\n", s[i]), "unquoted special at %zu", i);
            ck_assert_uint_lt (t, sizeof rec->text);
            rec->text[t++] = s[i];
         }
      }
      rec->len[rec->n] = t - rec->start[rec->n];
      if (i == buf->len) {
         rec->n++;
         return;
      }
      ck_assert_msg (s[i] == ',', "junk after a quoted cell at %zu", i);
      i++;
   }
}

static void
assert_cell (const csv_record_t *rec, size_t i, const char *want)
{
   ck_assert_uint_lt (i, rec->n);
   assert_bytes (rec->text + rec->start[i], rec->len[i], want, strlen (want));
}

/* ------------------------------------------------------------ JSON oracle */

static json_t *
parse_json (const mwatch_buf_t *buf)
{
   json_error_t error;
   json_t *json = json_loadb (buf->data, buf->len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &error);
   ck_assert_msg (json, "invalid JSON (%s): %.*s", error.text, (int) buf->len, buf->data);
   return json;
}

/* libbson leaves out ".000" in a date; the milliseconds are always there in
 * ours. */
static bool
same_date (const char *a, const char *b)
{
   char na[64], nb[64];
   const char *in[2] = {a, b};
   char *outs[2] = {na, nb};
   for (int i = 0; i < 2; i++) {
      bson_strncpy (outs[i], in[i], 64);
      char *ms = strstr (outs[i], ".000Z");
      if (ms) {
         strcpy (ms, "Z");
      }
   }
   return strcmp (na, nb) == 0;
}

/* Equal values, keys in the same order, doubles compared as numbers. */
static bool
json_same (json_t *a, json_t *b, const char *key)
{
   if (json_typeof (a) != json_typeof (b)) {
      return false;
   }
   if (json_is_object (a)) {
      void *ia = json_object_iter (a), *ib = json_object_iter (b);
      for (; ia && ib; ia = json_object_iter_next (a, ia), ib = json_object_iter_next (b, ib)) {
         const char *ka = json_object_iter_key (ia);
         if (strcmp (ka, json_object_iter_key (ib)) != 0 ||
             !json_same (json_object_iter_value (ia), json_object_iter_value (ib), ka)) {
            return false;
         }
      }
      return !ia && !ib;
   }
   if (json_is_array (a)) {
      if (json_array_size (a) != json_array_size (b)) {
         return false;
      }
      for (size_t i = 0; i < json_array_size (a); i++) {
         if (!json_same (json_array_get (a, i), json_array_get (b, i), NULL)) {
            return false;
         }
      }
      return true;
   }
   if (json_is_real (a)) {
      return json_real_value (a) == json_real_value (b);
   }
   if (json_is_string (a) && key && strcmp (key, "$date") == 0) {
      return same_date (json_string_value (a), json_string_value (b));
   }
   return json_equal (a, b);
}

static void
assert_matches_libbson (const mwatch_buf_t *mine, const bson_t *doc)
{
   mwatch_buf_t theirs = MWATCH_BUF_INITIALIZER;
   char *text = bson_as_relaxed_extended_json (doc, NULL);
   ck_assert (text);
   mwatch_buf_append_str (&theirs, text);
   json_t *a = parse_json (mine), *b = parse_json (&theirs);
   ck_assert_msg (json_same (a, b, NULL), "mine: %s\nlibbson: %s", mine->data, text);
   json_decref (a);
   json_decref (b);
   bson_free (text);
   mwatch_buf_destroy (&theirs);
}

/* ------------------------------------------------------------ text */

START_TEST (test_utf8_next)
{
   static const struct {
      const char *s;
      size_t len, n, skip;
   } cases[] = {
      {"A", 1, 1, 0},
      {"\xC3\xA4", 2, 2, 0},
      {"\xE6\x9D\xB1", 3, 3, 0},
      {"\xF0\x9F\x98\x80", 4, 4, 0},
      {"\x80", 1, 0, 1},
      {"\xC0\x80", 2, 0, 1},          /* overlong */
      {"\xE2\x82", 2, 0, 2},          /* truncated: one replacement */
      {"\xE2\x28\xA1", 3, 0, 1},
      {"\xED\xA0\x80", 3, 0, 1},      /* surrogate */
      {"\xF0\x9F\x98", 3, 0, 3},
      {"\xF4\x90\x80\x80", 4, 0, 1},  /* above U+10FFFF */
      {"\xFF", 1, 0, 1},
   };
   for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      size_t skip = 0;
      size_t n = _mwatch_utf8_next ((const uint8_t *) cases[i].s, cases[i].len, &skip);
      ck_assert_uint_eq (n, cases[i].n);
      ck_assert_uint_eq (skip, cases[i].skip);
   }
}
END_TEST

START_TEST (test_json_string)
{
   static const struct {
      const char *in;
      size_t len;
      const char *json; /* the escaped form */
      const char *raw;  /* the CSV form */
      bool bare;
   } cases[] = {
      {"plain", 5, "\"plain\"", "plain", true},
      {"", 0, "\"\"", "", false},
      {"a\"b\\c", 5, "\"a\\\"b\\\\c\"", "a\"b\\c", false},
      {"\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"", "\n\r\t\b\f", false},
      {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"", "\x01\x1f\x7f", false},
      {"a\0b", 3, "\"a\\u0000b\"", "a" FFFD "b", false},
      {ZURICH, 7, "\"" ZURICH "\"", ZURICH, true},
      {TOKYO, 6, "\"" TOKYO "\"", TOKYO, true},
      {"\xFF", 1, "\"\\ufffd\"", FFFD, false},
      {"a\xE2\x82z", 4, "\"a\\ufffdz\"", "a" FFFD "z", false},
      {"\xED\xA0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"", FFFD FFFD FFFD, false},
      {"a b", 3, "\"a b\"", "a b", false},
      {"a=b", 3, "\"a=b\"", "a=b", false},
      {"a,b:{}", 6, "\"a,b:{}\"", "a,b:{}", true},
   };
   for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
      _mwatch_json_string (&buf, cases[i].in, cases[i].len);
      assert_bytes (buf.data, buf.len, cases[i].json, strlen (cases[i].json));
      /* The JSON form reads back as the raw form, except that a NUL
       * survives in JSON. */
      json_t *json = parse_json (&buf);
      bool nul = memchr (cases[i].in, 0, cases[i].len) != NULL;
      assert_bytes (json_string_value (json),
                    json_string_length (json),
                    nul ? cases[i].in : cases[i].raw,
                    nul ? cases[i].len : strlen (cases[i].raw));
      json_decref (json);
      mwatch_buf_clear (&buf);
      _mwatch_json_raw (&buf, cases[i].in, cases[i].len);
      assert_bytes (buf.data, buf.len, cases[i].raw, strlen (cases[i].raw));
      ck_assert_msg (_mwatch_text_is_bare (cases[i].in, cases[i].len) == cases[i].bare,
                     "case %zu",
                     i);
      mwatch_buf_destroy (&buf);
   }
}
END_TEST

/* ------------------------------------------------------------ numbers, times */

typedef struct {
   int64_t in;
   const char *out;
} int_case_t;

static void
check_int_writer (void (*writer) (mwatch_buf_t *, int64_t), const int_case_t *cases, size_t n)
{
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   for (size_t i = 0; i < n; i++) {
      mwatch_buf_clear (&buf);
      writer (&buf, cases[i].in);
      ck_assert_str_eq (buf.data, cases[i].out);
   }
   mwatch_buf_destroy (&buf);
}

START_TEST (test_int64)
{
   static const int_case_t cases[] = {
      {0, "0"},
      {42, "42"},
      {-1, "-1"},
      {INT64_MAX, "9223372036854775807"},
      {INT64_MIN, "-9223372036854775808"},
   };
   check_int_writer (_mwatch_json_int64, cases, sizeof cases / sizeof cases[0]);
}
END_TEST

START_TEST (test_double)
{
   static const struct {
      double v;
      const char *text, *json;
   } cases[] = {
      {0.1, "0.1", "0.1"},
      {1.0, "1.0", "1.0"},
      {0.0, "0.0", "0.0"},
      {-0.0, "-0.0", "-0.0"},
      {-2.5, "-2.5", "-2.5"},
      {123456789.0, "123456789.0", "123456789.0"},
      {1e300, "1e+300", "1e+300"},
      {1e-7, "1e-07", "1e-07"},
      {0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"},
      {1.0 / 3, "0.3333333333333333", "0.3333333333333333"},
      {NAN, "NaN", "{\"$numberDouble\":\"NaN\"}"},
      {INFINITY, "Infinity", "{\"$numberDouble\":\"Infinity\"}"},
      {-INFINITY, "-Infinity", "{\"$numberDouble\":\"-Infinity\"}"},
   };
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      mwatch_buf_clear (&buf);
      _mwatch_text_double (&buf, cases[i].v);
      ck_assert_str_eq (buf.data, cases[i].text);
      mwatch_buf_clear (&buf);
      _mwatch_json_double (&buf, cases[i].v);
      ck_assert_str_eq (buf.data, cases[i].json);
      if (isfinite (cases[i].v)) {
         json_t *json = parse_json (&buf);
         ck_assert (json_is_real (json));
         ck_assert (json_real_value (json) == cases[i].v);
         ck_assert (!signbit (json_real_value (json)) == !signbit (cases[i].v));
         json_decref (json);
      }
   }
   /* Arbitrary bit patterns read back exactly and always as doubles. */
   srand (7);
   for (int i = 0; i < 20000; i++) {
      uint64_t bits = 0;
      for (int j = 0; j < 4; j++) {
         bits = bits << 16 | (uint64_t) (rand () & 0xFFFF);
      }
      double v;
      memcpy (&v, &bits, sizeof v);
      if (!isfinite (v)) {
         continue;
      }
      mwatch_buf_clear (&buf);
      _mwatch_json_double (&buf, v);
      ck_assert_msg (strtod (buf.data, NULL) == v, "%s", buf.data);
      ck_assert_msg (strpbrk (buf.data, ".e"), "%s", buf.data);
      ck_assert_uint_le (buf.len, 24);
   }
   mwatch_buf_destroy (&buf);
}
END_TEST

/* Only where such a locale is installed; otherwise there is nothing to see. */
START_TEST (test_double_locale)
{
   static const char *const locales[] = {
      "de_DE.UTF-8", "fr_FR.UTF-8", "ps_AF.UTF-8", "ru_RU.UTF-8"};
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;

   for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
      if (!setlocale (LC_NUMERIC, locales[i])) {
         continue;
      }
      mwatch_buf_clear (&buf);
      _mwatch_json_double (&buf, -1.0 / 3);
      mwatch_buf_append_str (&buf, " ");
      _mwatch_json_double (&buf, 2.0);
      ck_assert_str_eq (buf.data, "-0.3333333333333333 2.0");
   }
   setlocale (LC_NUMERIC, "C");
   mwatch_buf_destroy (&buf);
}
END_TEST

START_TEST (test_datetime)
{
   static const int_case_t cases[] = {
      {0, "1970-01-01T00:00:00.000000Z"},
      {1, "1970-01-01T00:00:00.000001Z"},
      {-1, "1969-12-31T23:59:59.999999Z"},
      {-1500000, "1969-12-31T23:59:58.500000Z"},
      {-1000000, "1969-12-31T23:59:59.000000Z"},
      {SOME_TIME_US, SOME_TIME_ISO},
      {INT64_C (951782400000000), "2000-02-29T00:00:00.000000Z"},
      {INT64_C (-62135596800000000), "0001-01-01T00:00:00.000000Z"},
      {INT64_C (-62198755200000000), "-0001-01-01T00:00:00.000000Z"},
      {INT64_C (253402300799999999), "9999-12-31T23:59:59.999999Z"},
      {INT64_C (253402300800000000), "10000-01-01T00:00:00.000000Z"},
   };
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;

   check_int_writer (_mwatch_text_datetime, cases, sizeof cases / sizeof cases[0]);
   /* The extremes do not crash and keep the fraction. */
   mwatch_buf_clear (&buf);
   _mwatch_text_datetime (&buf, INT64_MIN);
   ck_assert_str_eq (buf.data + buf.len - 8, ".224192Z");
   mwatch_buf_clear (&buf);
   _mwatch_text_datetime (&buf, INT64_MAX);
   ck_assert_str_eq (buf.data + buf.len - 8, ".775807Z");
   mwatch_buf_destroy (&buf);
}
END_TEST

/* ------------------------------------------------------------ BSON */

/* One of every BSON type, nested. */
static bson_t *
all_types_doc (void)
{
   bson_t *doc = bson_new ();
   bson_oid_t oid;
   bson_decimal128_t dec;
   bson_t *scope = BCON_NEW ("x", BCON_INT32 (1), "s", "y");

   bson_oid_init_from_string (&oid, OID_HEX);
   bson_decimal128_from_string ("-1.25E+3", &dec);
   BCON_APPEND (doc,
                "double", BCON_DOUBLE (0.1),
                "whole", BCON_DOUBLE (2.0),
                "big", BCON_DOUBLE (1e300),
                "nan", BCON_DOUBLE (NAN),
                "ninf", BCON_DOUBLE (-INFINITY),
                "str", BCON_UTF8 (ZURICH " \"q\" \\ \n " TOKYO),
                "doc", "{", "a", BCON_INT32 (1), "b", "[", BCON_INT32 (1), BCON_INT32 (2), "]", "}",
                "empty", "{", "}",
                "arr", "[", BCON_UTF8 ("x"), BCON_NULL, "{", "k", BCON_BOOL (false), "}", "]",
                "bin", BCON_BIN (BSON_SUBTYPE_BINARY, (const uint8_t *) "hello", 5),
                "bin1", BCON_BIN (BSON_SUBTYPE_USER, (const uint8_t *) "h", 1),
                "bin2", BCON_BIN (BSON_SUBTYPE_UUID, (const uint8_t *) "he", 2),
                "bin0", BCON_BIN (BSON_SUBTYPE_BINARY, (const uint8_t *) "", 0),
                "undef", BCON_UNDEFINED,
                "oid", BCON_OID (&oid),
                "t", BCON_BOOL (true),
                "date", BCON_DATE_TIME (1234),
                "date0", BCON_DATE_TIME (0),
                "dateneg", BCON_DATE_TIME (-1),
                "datefar", BCON_DATE_TIME (INT64_C (253402300800000)),
                "null", BCON_NULL,
                "regex", BCON_REGEX ("^a\"b", "imx"),
                "dbptr", BCON_DBPOINTER ("db.coll", &oid),
                "code", BCON_CODE ("function () { return \"x\"; }"),
                "sym", BCON_SYMBOL ("sym"),
                "cws", BCON_CODEWSCOPE ("f()", scope),
                "i32", BCON_INT32 (-7),
                "ts", BCON_TIMESTAMP (4294967295u, 1),
                "i64", BCON_INT64 (INT64_MIN),
                "dec", BCON_DECIMAL128 (&dec),
                "max", BCON_MAXKEY,
                "min", BCON_MINKEY,
                "k\"e\\y", BCON_INT32 (0));
   bson_destroy (scope);
   return doc;
}

START_TEST (test_bson_exact)
{
   bson_t *doc = all_types_doc ();
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   _mwatch_json_bson_data (&buf, bson_get_data (doc), doc->len, false);
   ASSERT_BUF (&buf,
               "{\"double\":0.1,\"whole\":2.0,\"big\":1e+300,"
               "\"nan\":{\"$numberDouble\":\"NaN\"},"
               "\"ninf\":{\"$numberDouble\":\"-Infinity\"},"
               "\"str\":\"" ZURICH " \\\"q\\\" \\\\ \\n " TOKYO "\","
               "\"doc\":{\"a\":1,\"b\":[1,2]},\"empty\":{},"
               "\"arr\":[\"x\",null,{\"k\":false}],"
               "\"bin\":{\"$binary\":{\"base64\":\"aGVsbG8=\",\"subType\":\"00\"}},"
               "\"bin1\":{\"$binary\":{\"base64\":\"aA==\",\"subType\":\"80\"}},"
               "\"bin2\":{\"$binary\":{\"base64\":\"aGU=\",\"subType\":\"04\"}},"
               "\"bin0\":{\"$binary\":{\"base64\":\"\",\"subType\":\"00\"}},"
               "\"undef\":{\"$undefined\":true},"
               "\"oid\":{\"$oid\":\"" OID_HEX "\"},\"t\":true,"
               "\"date\":{\"$date\":\"1970-01-01T00:00:01.234Z\"},"
               "\"date0\":{\"$date\":\"1970-01-01T00:00:00.000Z\"},"
               "\"dateneg\":{\"$date\":{\"$numberLong\":\"-1\"}},"
               "\"datefar\":{\"$date\":{\"$numberLong\":\"253402300800000\"}},"
               "\"null\":null,"
               "\"regex\":{\"$regularExpression\":{\"pattern\":\"^a\\\"b\",\"options\":\"imx\"}},"
               "\"dbptr\":{\"$dbPointer\":{\"$ref\":\"db.coll\",\"$id\":{\"$oid\":\"" OID_HEX "\"}}},"
               "\"code\":{\"$code\":\"function () { return \\\"x\\\"; }\"},"
               "\"sym\":{\"$symbol\":\"sym\"},"
               "\"cws\":{\"$code\":\"f()\",\"$scope\":{\"x\":1,\"s\":\"y\"}},"
               "\"i32\":-7,\"ts\":{\"$timestamp\":{\"t\":4294967295,\"i\":1}},"
               "\"i64\":-9223372036854775808,"
               "\"dec\":{\"$numberDecimal\":\"-1.25E+3\"},"
               "\"max\":{\"$maxKey\":1},\"min\":{\"$minKey\":1},\"k\\\"e\\\\y\":0}");
   mwatch_buf_destroy (&buf);
   bson_destroy (doc);
}
END_TEST

START_TEST (test_bson_oracle)
{
   bson_t *all = all_types_doc ();
   bson_t *doc = bson_new ();
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   bson_iter_t iter;

   /* libbson writes years past 9999 as ISO strings, against the extended
    * JSON spec, which wants {"$numberLong"} outside 1970..9999. */
   bson_copy_to_excluding_noinit (all, doc, "datefar", NULL);
   bson_destroy (all);

   _mwatch_json_bson_data (&buf, bson_get_data (doc), doc->len, false);
   assert_matches_libbson (&buf, doc);

   /* Each element alone, through the iterator and the value writers. */
   ck_assert (bson_iter_init (&iter, doc));
   while (bson_iter_next (&iter)) {
      bson_t one = BSON_INITIALIZER;
      bson_append_iter (&one, NULL, 0, &iter);
      for (int via_value = 0; via_value < 2; via_value++) {
         mwatch_buf_clear (&buf);
         mwatch_buf_append_str (&buf, "{");
         _mwatch_json_string (&buf, bson_iter_key (&iter), bson_iter_key_len (&iter));
         mwatch_buf_append_str (&buf, ":");
         if (via_value) {
            _mwatch_json_bson_value (&buf, bson_iter_value (&iter));
         } else {
            _mwatch_json_bson_iter (&buf, &iter);
         }
         mwatch_buf_append_str (&buf, "}");
         assert_matches_libbson (&buf, &one);
      }
      bson_destroy (&one);
   }

   /* An array at the top. */
   bson_t *arr = BCON_NEW ("0", BCON_INT32 (5), "1", BCON_UTF8 ("x"));
   mwatch_buf_clear (&buf);
   _mwatch_json_bson_data (&buf, bson_get_data (arr), arr->len, true);
   ASSERT_BUF (&buf, "[5,\"x\"]");
   bson_destroy (arr);
   mwatch_buf_destroy (&buf);
   bson_destroy (doc);
}
END_TEST

START_TEST (test_bson_odd_strings)
{
   bson_t doc = BSON_INITIALIZER;
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;

   bson_append_utf8 (&doc, "nul", -1, "a\0b", 3);
   bson_append_utf8 (&doc, "bad", -1, "x\xC3(", 3);
   bson_append_int32 (&doc, "\xFF", -1, 1);
   _mwatch_json_bson_data (&buf, bson_get_data (&doc), doc.len, false);
   ASSERT_BUF (&buf, "{\"nul\":\"a\\u0000b\",\"bad\":\"x\\ufffd(\",\"\\ufffd\":1}");
   json_t *json = parse_json (&buf);
   json_t *nul = json_object_get (json, "nul");
   assert_bytes (json_string_value (nul), json_string_length (nul), "a\0b", 3);
   json_decref (json);
   mwatch_buf_destroy (&buf);
   bson_destroy (&doc);
}
END_TEST

START_TEST (test_bson_limits)
{
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   bson_t *inner = bson_new ();

   /* Deeper than the limit: cut off, still valid JSON. */
   BSON_APPEND_INT32 (inner, "leaf", 1);
   for (int depth = 0; depth < 250; depth++) {
      bson_t *outer = bson_new ();
      BSON_APPEND_DOCUMENT (outer, "d", inner);
      bson_destroy (inner);
      inner = outer;
   }
   _mwatch_json_bson_data (&buf, bson_get_data (inner), inner->len, false);
   ck_assert (strstr (buf.data, "{\"d\":\"...\"}"));
   ck_assert (!strstr (buf.data, "leaf"));
   json_decref (parse_json (&buf));
   bson_destroy (inner);

   /* Not BSON: an empty document rather than a crash. */
   static const uint8_t junk[] = {0x20, 0, 0, 0, 0x10, 'a', 0};
   mwatch_buf_clear (&buf);
   _mwatch_json_bson_data (&buf, junk, sizeof junk, false);
   ASSERT_BUF (&buf, "{}");

   /* A bad element ends the document where it starts. */
   static const uint8_t cut[] = {17, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x10, 'b', 0, 9, 0, 0};
   mwatch_buf_clear (&buf);
   _mwatch_json_bson_data (&buf, cut, sizeof cut, false);
   ASSERT_BUF (&buf, "{\"a\":1}");
   mwatch_buf_destroy (&buf);
}
END_TEST

/* ------------------------------------------------------------ key=value */

/* The renderings' tests share a message and a buffer, freed after each. */
static struct {
   mwatch_message_t *msg;
   mwatch_buf_t buf;
} fx;

static void
fixture_setup (void)
{
   fx.msg = NULL;
   mwatch_buf_init (&fx.buf);
}

static void
fixture_teardown (void)
{
   mwatch_message_destroy (fx.msg);
   mwatch_buf_destroy (&fx.buf);
}

START_TEST (test_render_default)
{
   /* The default fields are the CSV columns after the four times and ids. */
   for (size_t i = 0; i < 12; i++) {
      ck_assert_str_eq (mwatch_default_fields[i], mwatch_csv_columns[i + 4]);
   }
   /* What kind of record a line is comes first. */
   ck_assert_str_eq (mwatch_default_fields[0], "State");
   ck_assert_str_eq (mwatch_default_fields[1], "DB");
   ck_assert_ptr_null (mwatch_default_fields[12]);
   ck_assert_ptr_null (mwatch_csv_columns[16]);

   fx.msg = find_message ();

   mwatch_message_render (fx.msg, NULL, &fx.buf);
   ASSERT_BUF (&fx.buf,
               "DB=test Collection=users Operation=find Filter={\"age\":{\"$gt\":30}} "
               "Duration=0.25 MatchedCount=3");

   mwatch_message_set_utf8 (fx.msg, "Error", "boom: \"x\"");
   mwatch_message_set_int64 (fx.msg, "DeletedCount", 0);
   mwatch_message_remove (fx.msg, "DB");
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render (fx.msg, mwatch_default_fields, &fx.buf);
   ASSERT_BUF (&fx.buf,
               "Collection=users Operation=find Filter={\"age\":{\"$gt\":30}} "
               "Duration=0.25 MatchedCount=3 DeletedCount=0 Error=\"boom: \\\"x\\\"\"");
}
END_TEST

START_TEST (test_render_fields)
{
   fx.msg = find_message ();
   const char *fields[] = {
      "Collection", "Missing", "Filter.age", "Filter.age.$gt", "_private", NULL};
   const char *none[] = {NULL};

   mwatch_message_render (fx.msg, fields, &fx.buf);
   ASSERT_BUF (&fx.buf,
               "Collection=users Filter.age={\"$gt\":30} Filter.age.$gt=30 _private=hidden");
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render (fx.msg, none, &fx.buf);
   ck_assert_uint_eq (fx.buf.len, 0);

   mwatch_message_t *empty = empty_message ();
   mwatch_message_render (empty, NULL, &fx.buf);
   mwatch_message_render_full (empty, &fx.buf);
   ck_assert_uint_eq (fx.buf.len, 0);
   mwatch_message_destroy (empty);
}
END_TEST

START_TEST (test_render_full)
{
   fx.msg = find_message ();
   char want[512];

   mwatch_message_render_full (fx.msg, &fx.buf);
   bson_snprintf (want,
                  sizeof want,
                  "WatchID=%s Iteration=0 StartTime=" SOME_TIME_ISO
                  " DB=test Collection=users Operation=find Filter={\"age\":{\"$gt\":30}}"
                  " Duration=0.25 MatchedCount=3 Comment=\"hello, world\"",
                  mwatch_message_watch_id (fx.msg));
   ck_assert_str_eq (fx.buf.data, want);
}
END_TEST

/* Every kind of value in key=value form. */
static mwatch_message_t *
all_values_message (void)
{
   mwatch_message_t *msg = empty_message ();
   bson_t *doc = BCON_NEW ("a", "[", BCON_INT32 (1), BCON_UTF8 ("x y"), "]");
   bson_t *arr = BCON_NEW ("0", BCON_DOUBLE (1.5), "1", BCON_NULL);

   mwatch_message_set_null (msg, "N");
   mwatch_message_set_bool (msg, "T", true);
   mwatch_message_set_bool (msg, "F", false);
   mwatch_message_set_int64 (msg, "I", -42);
   mwatch_message_set_double (msg, "D", 1.0);
   mwatch_message_set_double (msg, "Nan", NAN);
   mwatch_message_set_datetime (msg, "When", -1);
   mwatch_message_set_document (msg, "Doc", doc);
   mwatch_message_set_array (msg, "Arr", arr);
   set_oid (msg, "Oid");
   mwatch_message_set_utf8 (msg, "Bare", ZURICH "," TOKYO);
   mwatch_message_set_utf8 (msg, "Empty", "");
   mwatch_message_set_utf8 (msg, "Space", "a b");
   mwatch_message_set_utf8 (msg, "Quote", "a\"b");
   mwatch_message_set_utf8 (msg, "Eq", "a=b");
   mwatch_message_set_utf8 (msg, "Back", "a\\b");
   mwatch_message_set_utf8 (msg, "Lines", "a\r\nb");
   mwatch_message_set_utf8 (msg, "Bad", "\xFF\xFE");
   mwatch_message_set_utf8_len (msg, "Nul", "a\0b", 3);
   mwatch_message_set_int64 (msg, "my key", 1);
   mwatch_message_set_int64 (msg, "_private", 2);
   bson_destroy (doc);
   bson_destroy (arr);
   return msg;
}

START_TEST (test_render_values)
{
   fx.msg = all_values_message ();

   mwatch_message_render_full (fx.msg, &fx.buf);
   ASSERT_BUF (&fx.buf,
               "N=null T=true F=false I=-42 D=1.0 Nan=NaN When=1969-12-31T23:59:59.999999Z "
               "Doc={\"a\":[1,\"x y\"]} Arr=[1.5,null] Oid={\"$oid\":\"" OID_HEX "\"} "
               "Bare=" ZURICH "," TOKYO " Empty=\"\" Space=\"a b\" "
               "Quote=\"a\\\"b\" Eq=\"a=b\" Back=\"a\\\\b\" Lines=\"a\\r\\nb\" "
               "Bad=\"\\ufffd\\ufffd\" Nul=\"a\\u0000b\" \"my key\"=1");

   /* The single-value writers that formatters use, one per context. */
   static const char *const keys[] = {"N", "When", "Nan", "Space", NULL};
   void (*const writers[]) (mwatch_buf_t *, const mwatch_value_t *) = {
      _mwatch_render_value_text, _mwatch_render_value_csv, _mwatch_render_value_json};
   mwatch_buf_clear (&fx.buf);
   for (size_t w = 0; w < 3; w++) {
      for (size_t k = 0; keys[k]; k++) {
         mwatch_value_t value;
         ck_assert (mwatch_message_get (fx.msg, keys[k], &value));
         writers[w](&fx.buf, &value);
         mwatch_buf_append_str (&fx.buf, "|");
      }
   }
   ASSERT_BUF (&fx.buf,
               "null|1969-12-31T23:59:59.999999Z|NaN|\"a b\"|"
               "|1969-12-31T23:59:59.999999Z|NaN|a b|"
               "null|\"1969-12-31T23:59:59.999999Z\"|{\"$numberDouble\":\"NaN\"}|\"a b\"|");
}
END_TEST

/* ------------------------------------------------------------ CSV */

/* How many columns mwatch_csv_columns has: the default CSV record has
 * one cell more, Extra. */
static size_t
csv_column_count (void)
{
   size_t n = 0;
   while (mwatch_csv_columns[n]) {
      n++;
   }
   return n;
}

/* `buf` is `n` commas and nothing else: n + 1 empty cells. */
static void
assert_commas_only (const mwatch_buf_t *buf, size_t n)
{
   ck_assert_uint_eq (buf->len, n);
   ck_assert_uint_eq (strspn (buf->data, ","), n);
}

START_TEST (test_csv_header)
{
   const char *odd[] = {"a,b", "c\"d", "e", NULL};
   const char *none[] = {NULL};

   mwatch_render_csv_header (NULL, &fx.buf);
   ASSERT_BUF (&fx.buf,
               "WatchID,Iteration,StartTime,EndTime,State,DB,Collection,Operation,Filter,"
               "Duration,MatchedCount,InsertedCount,UpsertedCount,ModifiedCount,"
               "DeletedCount,Error,Extra");
   mwatch_buf_clear (&fx.buf);
   mwatch_render_csv_header (odd, &fx.buf);
   ASSERT_BUF (&fx.buf, "\"a,b\",\"c\"\"d\",e,Extra");
   mwatch_buf_clear (&fx.buf);
   mwatch_render_csv_header (none, &fx.buf);
   ASSERT_BUF (&fx.buf, "Extra");
   /* Listed, the extras column stands where the list puts it. */
   const char *placed[] = {"a", "Extra", "b", NULL};
   mwatch_buf_clear (&fx.buf);
   mwatch_render_csv_header (placed, &fx.buf);
   ASSERT_BUF (&fx.buf, "a,Extra,b");
}
END_TEST

START_TEST (test_csv_record)
{
   fx.msg = find_message ();
   csv_record_t rec;

   mwatch_message_set_null (fx.msg, "Error");
   mwatch_message_set_utf8 (fx.msg, "Note", "say \"hi\"");
   mwatch_message_set_utf8 (fx.msg, "Multi", "line1\r\nline2");
   mwatch_message_set_utf8_len (fx.msg, "Nul", "a\0b", 3);
   mwatch_message_set_utf8 (fx.msg, "Bad", "\xC3");
   mwatch_message_set_null (fx.msg, "Nothing");
   mwatch_message_set_utf8 (fx.msg, ZURICH, TOKYO);
   mwatch_message_set_double (fx.msg, "Inf", -INFINITY);
   mwatch_message_render_csv (fx.msg, NULL, &fx.buf);
   csv_parse (&fx.buf, &rec);

   /* Every field no column names is in the one trailing cell, so the
    * record has the header's 16 cells however many fields it carries. */
   ck_assert_uint_eq (rec.n, csv_column_count () + 1);
   assert_cell (&rec, 0, mwatch_message_watch_id (fx.msg));
   assert_cell (&rec, 1, "0");
   assert_cell (&rec, 2, SOME_TIME_ISO);
   assert_cell (&rec, 3, "");
   assert_cell (&rec, 4, ""); /* no State: not a watcher's record */
   assert_cell (&rec, 5, "test");
   assert_cell (&rec, 6, "users");
   assert_cell (&rec, 7, "find");
   assert_cell (&rec, 8, "{\"age\":{\"$gt\":30}}");
   assert_cell (&rec, 9, "0.25");
   assert_cell (&rec, 10, "3");
   for (size_t i = 11; i < 16; i++) {
      assert_cell (&rec, i, "");
   }
   mwatch_buf_t extra = MWATCH_BUF_INITIALIZER;
   mwatch_buf_append (&extra, rec.text + rec.start[rec.n - 1], rec.len[rec.n - 1]);
   json_t *got = parse_json (&extra);
   json_error_t error;
   json_t *want = json_loads ("{\"Comment\":\"hello, world\",\"Note\":\"say \\\"hi\\\"\","
                              "\"Multi\":\"line1\\r\\nline2\",\"Nul\":\"a\\u0000b\","
                              "\"Bad\":\"\\ufffd\",\"Nothing\":null,\"" ZURICH "\":\"" TOKYO "\","
                              "\"Inf\":{\"$numberDouble\":\"-Infinity\"}}",
                              JSON_ALLOW_NUL,
                              &error);
   ck_assert_msg (want, "%s", error.text);
   ck_assert_msg (json_equal (got, want), "%s", extra.data);
   /* In insertion order, as the JSON rendering writes them. */
   ck_assert (strncmp (extra.data, "{\"Comment\":", 11) == 0);
   json_decref (want);
   json_decref (got);
   mwatch_buf_destroy (&extra);
   /* Quoted only where RFC 4180 requires it. */
   ck_assert (strstr (fx.buf.data, ",test,users,find,\"{\"\"age\"\":{\"\"$gt\"\":30}}\",0.25,3,"));
   ck_assert (strstr (fx.buf.data, ",\"{\"\"Comment\"\":\"\"hello, world\"\","));
}
END_TEST

START_TEST (test_csv_columns)
{
   fx.msg = find_message ();
   const char *columns[] = {"Collection", "Extra", "StartTime", NULL};
   csv_record_t rec;

   mwatch_message_render_csv (fx.msg, columns, &fx.buf);
   csv_parse (&fx.buf, &rec);
   /* The extras go where the list puts "Extra". */
   ck_assert_uint_eq (rec.n, 3);
   assert_cell (&rec, 0, "users");
   assert_cell (&rec, 2, SOME_TIME_ISO);
   mwatch_buf_t extra = MWATCH_BUF_INITIALIZER;
   mwatch_buf_append (&extra, rec.text + rec.start[1], rec.len[1]);
   json_t *got = parse_json (&extra);
   ck_assert_str_eq (json_string_value (json_object_get (got, "WatchID")),
                     mwatch_message_watch_id (fx.msg));
   ck_assert_int_eq (json_integer_value (json_object_get (got, "MatchedCount")), 3);
   ck_assert_str_eq (json_string_value (json_object_get (got, "Comment")), "hello, world");
   ck_assert (!json_object_get (got, "Collection"));
   ck_assert (!json_object_get (got, "StartTime"));
   ck_assert (!json_object_get (got, "_private"));
   ck_assert_uint_eq (json_object_size (got), 8);
   json_decref (got);

   /* A field named Extra is in the object, not lost behind the cell. */
   mwatch_message_set_int64 (fx.msg, "Extra", 7);
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render_csv (fx.msg, columns, &fx.buf);
   csv_parse (&fx.buf, &rec);
   ck_assert_uint_eq (rec.n, 3);
   mwatch_buf_clear (&extra);
   mwatch_buf_append (&extra, rec.text + rec.start[1], rec.len[1]);
   got = parse_json (&extra);
   ck_assert_int_eq (json_integer_value (json_object_get (got, "Extra")), 7);
   json_decref (got);
   mwatch_buf_destroy (&extra);
   mwatch_message_remove (fx.msg, "Extra");

   /* Without "Extra" in the list, it is the last cell. */
   const char *two[] = {"DB", "Comment", NULL};
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render_csv (fx.msg, two, &fx.buf);
   csv_parse (&fx.buf, &rec);
   ck_assert_uint_eq (rec.n, 3);
   assert_cell (&rec, 0, "test");
   assert_cell (&rec, 1, "hello, world");

   /* An empty message still lines up under the header: no extras, an
    * empty cell. */
   mwatch_message_t *empty = empty_message ();
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render_csv (empty, NULL, &fx.buf);
   assert_commas_only (&fx.buf, csv_column_count ());
   csv_parse (&fx.buf, &rec);
   ck_assert_uint_eq (rec.n, csv_column_count () + 1);
   mwatch_message_set_int64 (empty, "_only", 1);
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render_csv (empty, NULL, &fx.buf);
   assert_commas_only (&fx.buf, csv_column_count ());
   mwatch_message_destroy (empty);
}
END_TEST

/* ------------------------------------------------------------ JSON */

START_TEST (test_json_render)
{
   fx.msg = all_values_message ();

   mwatch_message_set_double (fx.msg, "Small", 0.1);
   mwatch_message_set_double (fx.msg, "Huge", 1e300);
   mwatch_message_set_double (fx.msg, "NegZero", -0.0);
   mwatch_message_set_datetime (fx.msg, "Start", SOME_TIME_US);
   mwatch_message_render_json (fx.msg, &fx.buf);

   json_t *json = parse_json (&fx.buf);
   json_error_t error;
   json_t *want = json_loads (
      "{\"N\":null,\"T\":true,\"F\":false,\"I\":-42,\"D\":1.0,"
      "\"Nan\":{\"$numberDouble\":\"NaN\"},\"When\":\"1969-12-31T23:59:59.999999Z\","
      "\"Doc\":{\"a\":[1,\"x y\"]},\"Arr\":[1.5,null],\"Oid\":{\"$oid\":\"" OID_HEX "\"},"
      "\"Bare\":\"" ZURICH "," TOKYO "\",\"Empty\":\"\",\"Space\":\"a b\","
      "\"Quote\":\"a\\\"b\",\"Eq\":\"a=b\",\"Back\":\"a\\\\b\",\"Lines\":\"a\\r\\nb\","
      "\"Bad\":\"\\ufffd\\ufffd\",\"Nul\":\"a\\u0000b\",\"my key\":1,"
      "\"Small\":0.1,\"Huge\":1e300,\"NegZero\":-0.0,\"Start\":\"" SOME_TIME_ISO "\"}",
      JSON_ALLOW_NUL,
      &error);
   ck_assert_msg (want, "%s", error.text);
   ck_assert_msg (json_same (json, want, NULL), "%s", fx.buf.data);
   /* Exact text where jansson would hide a difference. */
   json_t *nul = json_object_get (json, "Nul");
   assert_bytes (json_string_value (nul), json_string_length (nul), "a\0b", 3);
   ck_assert (signbit (json_real_value (json_object_get (json, "NegZero"))));
   ck_assert (json_is_real (json_object_get (json, "D")));
   ck_assert (!json_object_get (json, "_private"));
   json_decref (want);
   json_decref (json);

   mwatch_message_t *empty = empty_message ();
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render_json (empty, &fx.buf);
   ASSERT_BUF (&fx.buf, "{}");
   mwatch_message_set_int64 (empty, "_only", 1);
   mwatch_buf_clear (&fx.buf);
   mwatch_message_render_json (empty, &fx.buf);
   ASSERT_BUF (&fx.buf, "{}");
   mwatch_message_destroy (empty);
}
END_TEST

/* ------------------------------------------------------------ buffers */

/* Each rendering in turn, the way a handler would call them. */
static void
render_all (const mwatch_message_t *msg, mwatch_buf_t *buf)
{
   const char *paths[] = {"Filter.age.$gt", "Doc.a.1", "Oid", NULL};
   mwatch_message_render (msg, NULL, buf);
   mwatch_message_render (msg, paths, buf);
   mwatch_message_render_full (msg, buf);
   mwatch_render_csv_header (NULL, buf);
   mwatch_message_render_csv (msg, NULL, buf);
   mwatch_message_render_json (msg, buf);
}

START_TEST (test_append)
{
   fx.msg = find_message ();
   mwatch_buf_t alone = MWATCH_BUF_INITIALIZER;
   void (*const plain[]) (const mwatch_message_t *, mwatch_buf_t *) = {
      mwatch_message_render_full, mwatch_message_render_json};

   for (size_t i = 0; i < 2; i++) {
      mwatch_buf_clear (&fx.buf);
      mwatch_buf_clear (&alone);
      mwatch_buf_append_str (&fx.buf, "prefix ");
      plain[i](fx.msg, &fx.buf);
      plain[i](fx.msg, &alone);
      ck_assert_uint_eq (fx.buf.len, 7 + alone.len);
      ck_assert (memcmp (fx.buf.data, "prefix ", 7) == 0);
      ck_assert_str_eq (fx.buf.data + 7, alone.data);
   }
   mwatch_buf_clear (&fx.buf);
   mwatch_buf_append_str (&fx.buf, "x,");
   mwatch_message_render_csv (fx.msg, NULL, &fx.buf);
   ck_assert (strncmp (fx.buf.data, "x,", 2) == 0);
   ck_assert (strncmp (fx.buf.data + 2, mwatch_message_watch_id (fx.msg), 24) == 0);
   mwatch_buf_clear (&fx.buf);
   mwatch_buf_append_str (&fx.buf, "x,");
   mwatch_render_csv_header (NULL, &fx.buf);
   ck_assert (strncmp (fx.buf.data, "x,WatchID,", 10) == 0);
   mwatch_buf_destroy (&alone);
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

START_TEST (test_no_allocation)
{
   bson_mem_vtable_t counting = {
      counting_malloc, counting_calloc, counting_realloc, free, NULL, {0}};
   bson_t *filter =
      BCON_NEW ("age", "{", "$gt", BCON_DOUBLE (0.5), "}", "name", BCON_UTF8 ("a,\"b\""));

   fx.msg = all_values_message ();
   mwatch_message_set_document (fx.msg, "Filter", filter);
   render_all (fx.msg, &fx.buf);
   char *data = fx.buf.data;
   size_t cap = fx.buf.cap;
   mwatch_buf_clear (&fx.buf);

   bson_mem_set_vtable (&counting);
   allocations = 0;
   render_all (fx.msg, &fx.buf);
   size_t counted = allocations;
   bson_mem_restore_vtable ();

   ck_assert_uint_eq (counted, 0);
   ck_assert_ptr_eq (fx.buf.data, data);
   ck_assert_uint_eq (fx.buf.cap, cap);
   bson_destroy (filter);
}
END_TEST

Suite *
render_suite (void)
{
   Suite *suite = suite_create ("render");
   TCase *writers = tcase_create ("writers");
   TCase *renderings = tcase_create ("renderings");

   tcase_add_test (writers, test_utf8_next);
   tcase_add_test (writers, test_json_string);
   tcase_add_test (writers, test_int64);
   tcase_add_test (writers, test_double);
   tcase_add_test (writers, test_double_locale);
   tcase_add_test (writers, test_datetime);
   tcase_add_test (writers, test_bson_exact);
   tcase_add_test (writers, test_bson_oracle);
   tcase_add_test (writers, test_bson_odd_strings);
   tcase_add_test (writers, test_bson_limits);
   tcase_add_test (renderings, test_render_default);
   tcase_add_test (renderings, test_render_fields);
   tcase_add_test (renderings, test_render_full);
   tcase_add_test (renderings, test_render_values);
   tcase_add_test (renderings, test_csv_header);
   tcase_add_test (renderings, test_csv_record);
   tcase_add_test (renderings, test_csv_columns);
   tcase_add_test (renderings, test_json_render);
   tcase_add_test (renderings, test_append);
   tcase_add_test (renderings, test_no_allocation);
   tcase_add_checked_fixture (renderings, fixture_setup, fixture_teardown);
   suite_add_tcase (suite, writers);
   suite_add_tcase (suite, renderings);
   return suite;
}
