/* The fast paths of the text writers and of {watch} against the plain
 * ways: the general double writer, and the text writers and {watch} as
 * they were before, kept here as references.  Each fast path must write
 * exactly what its reference writes, byte for byte. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/clock-private.h"
#include "../../lib/formatter-private.h"
#include "../../lib/json-private.h"
#include "../../lib/message-render-private.h"
#include "mongowatch.h"
#include "unit/suites.h"

/* A small deterministic generator (xorshift64*), the same on every libc. */
static uint64_t rng_state;

static void
rng_seed (uint64_t seed)
{
   rng_state = seed ? seed : 1;
}

static uint64_t
rng_next (void)
{
   rng_state ^= rng_state >> 12;
   rng_state ^= rng_state << 25;
   rng_state ^= rng_state >> 27;
   return rng_state * UINT64_C (2685821657736338717);
}

static void
assert_same (const mwatch_buf_t *got, const mwatch_buf_t *want, const char *what)
{
   ck_assert_msg (got->len == want->len && memcmp (got->data, want->data, got->len) == 0,
                  "%s: got [%.*s], want [%.*s]",
                  what,
                  (int) got->len,
                  got->data,
                  (int) want->len,
                  want->data);
}

/* ------------------------------------------------------------ doubles */

static void
check_double (double value)
{
   if (!isfinite (value)) {
      return; /* not the writers' shortest forms: test-render.c has them */
   }
   mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;
   char what[64];

   _mwatch_text_double_printf (&want, value);
   _mwatch_text_double (&got, value);
   snprintf (what, sizeof what, "text %.17g", value);
   assert_same (&got, &want, what);
   mwatch_buf_clear (&got);
   _mwatch_json_double (&got, value);
   snprintf (what, sizeof what, "json %.17g", value);
   assert_same (&got, &want, what);
   mwatch_buf_destroy (&got);
   mwatch_buf_destroy (&want);
}

/* n / 1e6 and its two neighbours, of both signs. */
static void
check_micros (int64_t n)
{
   double value = (double) n / 1e6;
   check_double (value);
   check_double (-value);
   check_double (nextafter (value, -INFINITY));
   check_double (nextafter (value, INFINITY));
}

START_TEST (test_double_micros_exhaustive)
{
   /* Every duration up to 10 ms, to the microsecond: both notations and
    * the switch between them at 1e-4. */
   for (int64_t n = 0; n <= 10000; n++) {
      check_double ((double) n / 1e6);
      check_double ((double) -n / 1e6);
   }
}
END_TEST

START_TEST (test_double_micros_random)
{
   rng_seed (42);
   for (int i = 0; i < 5000; i++) {
      /* Any magnitude below 1e15 microseconds (the fast path's 1e9 s and
       * beyond), spread over the numbers of digits. */
      uint64_t digits = 1 + rng_next () % 15;
      uint64_t limit = 1;
      for (uint64_t d = 0; d < digits; d++) {
         limit *= 10;
      }
      check_micros ((int64_t) (rng_next () % limit));
   }
}
END_TEST

START_TEST (test_double_micros_edges)
{
   static const int64_t micros[] = {
      1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 999999, 1000000, 1000001,
      1500000, 734, 1619, 2210, 120000000, 999999999999999, 1000000000000000,
      1000000000000001, 123456789012345, 4503599627370496, 9007199254740991,
      9007199254740992, 9007199254740993,
   };
   static const double values[] = {
      0.0, 1e9, 1e9 - 1e-6, 999999999.999999, 999999999.9999999, 1e-6, 1e-7, 5e-7,
      4.9999999999999998e-7, 1e-4, 9.9e-5, 1e-5, 1.2e-5, 0.1, 0.2, 0.3, 0.1 + 0.2,
      1.0 / 3, 1e15, 1e16, 1e17, 123456789.0, 1e300, 5e-324, 2.2250738585072014e-308,
      1.7976931348623157e308, 0.000734, 0.001619, 0.5, 2.5, 1e-300,
   };
   for (size_t i = 0; i < sizeof micros / sizeof micros[0]; i++) {
      check_micros (micros[i]);
   }
   for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
      check_double (values[i]);
      check_double (-values[i]);
      check_double (nextafter (values[i], 0.0));
      check_double (nextafter (values[i], INFINITY));
   }
}
END_TEST

/* What the fast path writes, spelled out, so that a change to both it and
 * the reference above cannot go unseen. */
START_TEST (test_double_micros_forms)
{
   static const struct {
      double value;
      const char *text;
   } cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {0.000001, "1e-06"},
      {-0.000001, "-1e-06"},
      {0.000012, "1.2e-05"},
      {0.00001, "1e-05"},
      {0.000099, "9.9e-05"},
      {0.0001, "0.0001"},
      {0.000734, "0.000734"},
      {0.25, "0.25"},
      {1.0, "1.0"},
      {-2.5, "-2.5"},
      {120.0, "120.0"},
      {3.000001, "3.000001"},
      {999999999.999999, "999999999.999999"},
      {123456789.012345, "123456789.012345"},
   };
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;

   for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      mwatch_buf_clear (&buf);
      _mwatch_text_double (&buf, cases[i].value);
      ck_assert_str_eq (buf.data, cases[i].text);
   }
   mwatch_buf_destroy (&buf);
}
END_TEST

START_TEST (test_double_random_bits)
{
   rng_seed (7);
   for (int i = 0; i < 5000; i++) {
      uint64_t bits = rng_next ();
      double value;
      memcpy (&value, &bits, sizeof value);
      if (isfinite (value)) {
         check_double (value);
      }
   }
}
END_TEST

/* ------------------------------------------------------------ text */

/* The writers as they were before the byte table. */
static size_t
reference_escape (uint8_t c, char esc[8])
{
   char letter;

   switch (c) {
   case '"':
   case '\\':
      letter = (char) c;
      break;
   case '\n':
      letter = 'n';
      break;
   case '\r':
      letter = 'r';
      break;
   case '\t':
      letter = 't';
      break;
   case '\b':
      letter = 'b';
      break;
   case '\f':
      letter = 'f';
      break;
   default:
      return c < 0x20 ? (size_t) snprintf (esc, 8, "\\u%04x", c) : 0;
   }
   esc[0] = '\\';
   esc[1] = letter;
   return 2;
}

static void
reference_text (mwatch_buf_t *out, const char *str, size_t len, bool json)
{
   const uint8_t *s = (const uint8_t *) str;
   size_t i = 0;

   while (i < len) {
      size_t skip = 1;
      char esc[8];
      size_t n;

      if (s[i] >= 0x80) {
         n = _mwatch_utf8_next (s + i, len - i, &skip);
         if (n > 0) {
            mwatch_buf_append (out, str + i, n);
            i += n;
            continue;
         }
         mwatch_buf_append_str (out, json ? "\\ufffd" : "\xEF\xBF\xBD");
      } else if (json && (n = reference_escape (s[i], esc)) > 0) {
         mwatch_buf_append (out, esc, n);
      } else if (!json && s[i] == '\0') {
         mwatch_buf_append_str (out, "\xEF\xBF\xBD");
      } else {
         mwatch_buf_append (out, str + i, 1);
      }
      i += skip;
   }
}

static bool
reference_is_bare (const char *str, size_t len)
{
   const uint8_t *s = (const uint8_t *) str;
   size_t i = 0;

   if (len == 0) {
      return false;
   }
   while (i < len) {
      size_t skip;
      size_t n = _mwatch_utf8_next (s + i, len - i, &skip);
      if (n == 0 || (n == 1 && (s[i] <= ' ' || s[i] == 0x7F || s[i] == '"' ||
                                s[i] == '=' || s[i] == '\\'))) {
         return false;
      }
      i += n;
   }
   return true;
}

static void
check_text (const char *str, size_t len)
{
   mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;

   mwatch_buf_append (&want, "\"", 1);
   reference_text (&want, str, len, true);
   mwatch_buf_append (&want, "\"", 1);
   _mwatch_json_string (&got, str, len);
   assert_same (&got, &want, "json string");
   mwatch_buf_clear (&got);
   mwatch_buf_clear (&want);
   reference_text (&want, str, len, false);
   _mwatch_json_raw (&got, str, len);
   assert_same (&got, &want, "raw text");
   ck_assert_msg (_mwatch_text_is_bare (str, len) == reference_is_bare (str, len),
                  "bare [%.*s]",
                  (int) len,
                  str);
   /* A name or string in key=value output: bare, or else quoted. */
   mwatch_buf_clear (&got);
   mwatch_buf_clear (&want);
   if (reference_is_bare (str, len)) {
      mwatch_buf_append (&want, str, len);
   } else {
      mwatch_buf_append (&want, "\"", 1);
      reference_text (&want, str, len, true);
      mwatch_buf_append (&want, "\"", 1);
   }
   mwatch_buf_append (&got, "x=", 2); /* not at the start of the buffer */
   _mwatch_text_string (&got, str, len);
   ck_assert (got.len >= 2 && memcmp (got.data, "x=", 2) == 0);
   memmove (got.data, got.data + 2, got.len - 2);
   got.len -= 2;
   assert_same (&got, &want, "text string");
   mwatch_buf_destroy (&got);
   mwatch_buf_destroy (&want);
}

START_TEST (test_text_every_byte)
{
   /* Each byte alone, and between plain letters, so that both the scans
    * and the runs copied around a replacement are covered. */
   for (int c = 0; c < 256; c++) {
      char one[1] = {(char) c};
      char three[3] = {'a', (char) c, 'b'};
      check_text (one, 1);
      check_text (three, 3);
   }
   check_text ("", 0);
   /* Each byte at each place of a text long enough to be read eight
    * bytes at a time, and in the tail after the last eight. */
   for (int c = 0; c < 256; c++) {
      for (size_t at = 0; at < 20; at++) {
         char text[20];
         memset (text, 'k', sizeof text);
         text[at] = (char) c;
         check_text (text, sizeof text);
         check_text (text, at + 1);
      }
   }
}
END_TEST

START_TEST (test_text_random)
{
   /* Bytes drawn mostly from those that matter: every class of the table,
    * well-formed and broken UTF-8 sequences. */
   static const char *const pieces[] = {
      "a",    "Z",    "0",   " ",    "\"",   "\\",   "=",    "\n",  "\x01", "\x1f",
      "\x7f", "{",    "$",   ",",    "\0",   "\xC3\xA4",     "\xE6\x9D\xB1",
      "\xF0\x9F\x98\x80",    "\x80", "\xC0", "\xE2\x82",     "\xED\xA0\x80",
      "\xF4\x90\x80\x80",    "\xFF", "mongowatch.cursor",    "orders",
   };
   static const size_t lens[] = {
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 1, 1, 2, 3, 4, 1, 17, 6,
   };
   char text[256];

   rng_seed (99);
   for (int i = 0; i < 20000; i++) {
      size_t len = 0;
      size_t count = rng_next () % 12;
      for (size_t k = 0; k < count; k++) {
         size_t p = rng_next () % (sizeof lens / sizeof lens[0]);
         memcpy (text + len, pieces[p], lens[p]);
         len += lens[p];
      }
      check_text (text, len);
   }
}
END_TEST

/* ------------------------------------------------------------ BSON */

static void
check_bson_bytes (const uint8_t *data, size_t len)
{
   for (int is_array = 0; is_array < 2; is_array++) {
      mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
      mwatch_buf_t want = MWATCH_BUF_INITIALIZER;
      mwatch_buf_append (&got, "F=", 2);
      mwatch_buf_append (&want, "F=", 2);
      _mwatch_json_bson_data_iter (&want, data, len, is_array);
      _mwatch_json_bson_data (&got, data, len, is_array);
      assert_same (&got, &want, is_array ? "array" : "document");
      ck_assert_int_eq (got.data[got.len], '\0');
      mwatch_buf_destroy (&got);
      mwatch_buf_destroy (&want);
   }
}

static void
check_bson (const bson_t *doc)
{
   check_bson_bytes (bson_get_data (doc), doc->len);
}

static const char *const bson_texts[] = {
   "", "a", "ann", "$gt", "a\"b", "back\\slash", "tab\t", "\x01", "Z\xC3\xBCrich",
   "\xE6\x9D\xB1", "x\xC3(", "\xFF", "\xED\xA0\x80", "a b=c",
};

#define N_BSON_TEXTS (sizeof bson_texts / sizeof bson_texts[0])

/* Appends one random element, of every type the fast path reads and of
 * some it leaves to libbson, nesting while `depth` allows. */
static void
append_random (bson_t *doc, const char *key, int depth)
{
   const char *text = bson_texts[rng_next () % N_BSON_TEXTS];
   bson_oid_t oid;
   bson_decimal128_t dec = {.high = rng_next (), .low = rng_next ()};
   uint8_t bytes[5] = {1, 2, 3, 4, 5};
   uint64_t bits = rng_next ();
   double d;

   memcpy (&d, &bits, sizeof d);
   memset (&oid, 0, sizeof oid);
   memcpy (oid.bytes, &bits, sizeof bits);
   switch (rng_next () % (depth > 0 ? 20 : 18)) {
   case 0:
      bson_append_double (doc, key, -1, d);
      break;
   case 1:
      bson_append_double (doc, key, -1, (double) (rng_next () % 10000000) / 1e6);
      break;
   case 2:
   case 3:
      bson_append_utf8 (doc, key, -1, text, -1);
      break;
   case 4:
      bson_append_utf8 (doc, key, -1, "a\0b", 3); /* a NUL inside */
      break;
   case 5:
      bson_append_int32 (doc, key, -1, (int32_t) rng_next ());
      break;
   case 6:
      bson_append_int64 (doc, key, -1, (int64_t) rng_next ());
      break;
   case 7:
      bson_append_bool (doc, key, -1, rng_next () % 2);
      break;
   case 8:
      bson_append_null (doc, key, -1);
      break;
   case 9:
      bson_append_date_time (doc, key, -1, (int64_t) (rng_next () % 600000000000000) - 300000000000000);
      break;
   case 10:
      bson_append_oid (doc, key, -1, &oid);
      break;
   case 11:
      bson_append_binary (doc, key, -1, BSON_SUBTYPE_BINARY, bytes, sizeof bytes);
      break;
   case 12:
      bson_append_regex (doc, key, -1, "^a.*", "i");
      break;
   case 13:
      bson_append_timestamp (doc, key, -1, (uint32_t) bits, (uint32_t) (bits >> 32));
      break;
   case 14:
      bson_append_decimal128 (doc, key, -1, &dec);
      break;
   case 15:
      bson_append_undefined (doc, key, -1);
      break;
   case 16:
      bson_append_maxkey (doc, key, -1);
      break;
   case 17:
      bson_append_code (doc, key, -1, "f()");
      break;
   default: {
      bson_t child;
      bool array = rng_next () % 2;
      size_t n = rng_next () % 4;
      if (array) {
         bson_append_array_begin (doc, key, -1, &child);
      } else {
         bson_append_document_begin (doc, key, -1, &child);
      }
      for (size_t i = 0; i < n; i++) {
         char index[16];
         snprintf (index, sizeof index, "%zu", i);
         append_random (&child, array ? index : bson_texts[rng_next () % N_BSON_TEXTS], depth - 1);
      }
      if (array) {
         bson_append_array_end (doc, &child);
      } else {
         bson_append_document_end (doc, &child);
      }
      break;
   }
   }
}

START_TEST (test_bson_common)
{
   bson_t *filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}", "age", "{", "$gt",
                              BCON_INT32 (30), "}", "tags", "[", BCON_UTF8 ("a"), BCON_BOOL (true),
                              BCON_NULL, BCON_DOUBLE (0.5), BCON_INT64 (-7), "]");
   bson_t empty = BSON_INITIALIZER;
   bson_t *inner = bson_new ();

   check_bson (filter);
   check_bson (&empty);
   /* Deeper than the writers go: both cut it off at the same place. */
   BSON_APPEND_INT32 (inner, "leaf", 1);
   for (int depth = 0; depth < 250; depth++) {
      bson_t *outer = bson_new ();
      BSON_APPEND_DOCUMENT (outer, "d", inner);
      bson_destroy (inner);
      inner = outer;
      if (depth > 190 && depth < 210) {
         check_bson (inner);
      }
   }
   check_bson (inner);
   bson_destroy (inner);
   bson_destroy (filter);

   /* Hand-made breakage, each after a good element "a": 1. */
   static const struct {
      uint8_t bytes[32];
      size_t len;
   } broken[] = {
      /* a boolean neither 0 nor 1 */
      {{16, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x08, 'b', 0, 2, 0}, 16},
      /* a string without its NUL */
      {{22, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x02, 's', 0, 2, 0, 0, 0, 'x', 'y', 0, 0}, 22},
      /* a string of length 0 */
      {{20, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x02, 's', 0, 0, 0, 0, 0, 0, 0}, 20},
      /* an embedded document longer than what is left */
      {{20, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x03, 'd', 0, 9, 0, 0, 0, 0, 0}, 20},
      /* an embedded document not ending with NUL */
      {{20, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x03, 'd', 0, 5, 0, 0, 0, 1, 0}, 20},
      /* an end-of-document type before the end */
      {{18, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x00, 'b', 0, 0x0A, 'c', 0, 0}, 18},
      /* a key running into the terminator */
      {{14, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x0A, 'b', 0}, 14},
      /* an int64 running past the end */
      {{20, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x12, 'b', 0, 1, 2, 3, 4, 5, 0}, 20},
      /* a type that does not exist */
      {{15, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0x55, 'b', 0, 0}, 15},
      /* a length that is not the document's */
      {{16, 0, 0, 0, 0x10, 'a', 0, 1, 0, 0, 0, 0}, 12},
   };
   for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
      uint8_t *data = bson_malloc (broken[i].len);
      memcpy (data, broken[i].bytes, broken[i].len);
      check_bson_bytes (data, broken[i].len);
      bson_free (data);
   }
}
END_TEST

/* Keys of every length around the 32 bytes the fast path copies while it
 * looks for their end, plain and with a byte to escape or a UTF-8
 * sequence (well-formed or not) at the start, middle or end. */
START_TEST (test_bson_keys)
{
   static const char *const odd[] = {"", "\"", "\\", "\x01", "\x7f", "\t", "\xC3\xBC", "\xFF", "=", " "};
   char key[80];

   for (size_t len = 0; len <= 70; len++) {
      for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
         size_t odd_len = strlen (odd[k]);
         size_t places[] = {0, len / 2, len > odd_len ? len - odd_len : 0};
         for (size_t p = 0; p < 3; p++) {
            if (odd_len > len || (odd_len == 0 && p > 0)) {
               continue;
            }
            memset (key, 'k', len);
            memcpy (key + places[p], odd[k], odd_len);
            key[len] = '\0';
            bson_t doc = BSON_INITIALIZER;
            bson_append_int32 (&doc, key, -1, 1);
            bson_append_utf8 (&doc, "after", -1, "x", -1);
            check_bson (&doc);
            bson_t outer = BSON_INITIALIZER;
            bson_append_document (&outer, key, -1, &doc);
            check_bson (&outer);
            bson_destroy (&outer);
            bson_destroy (&doc);
         }
      }
   }
   /* A key that runs into the document's terminator, at each length. */
   for (size_t len = 1; len <= 40; len++) {
      uint8_t data[64];
      size_t total = 4 + 1 + len + 1;
      data[0] = (uint8_t) total;
      data[1] = data[2] = data[3] = 0;
      data[4] = BSON_TYPE_NULL;
      memset (data + 5, 'k', len);
      data[total - 1] = '\0';
      check_bson_bytes (data, total);
   }
}
END_TEST

START_TEST (test_bson_random)
{
   rng_seed (11);
   for (int i = 0; i < 2000; i++) {
      bson_t doc = BSON_INITIALIZER;
      size_t n = rng_next () % 6;
      for (size_t k = 0; k < n; k++) {
         append_random (&doc, bson_texts[rng_next () % N_BSON_TEXTS], 3);
      }
      check_bson (&doc);
      bson_destroy (&doc);
   }
}
END_TEST

/* Broken documents: both writers stop at the same place. */
START_TEST (test_bson_corrupt)
{
   rng_seed (12);
   for (int i = 0; i < 2000; i++) {
      bson_t doc = BSON_INITIALIZER;
      size_t n = 1 + rng_next () % 5;
      for (size_t k = 0; k < n; k++) {
         append_random (&doc, bson_texts[rng_next () % N_BSON_TEXTS], 2);
      }
      /* A copy of its own size, so that valgrind sees any read beyond. */
      size_t len = doc.len;
      uint8_t *data = bson_malloc (len);
      memcpy (data, bson_get_data (&doc), len);
      switch (rng_next () % 4) {
      case 0: /* a few bytes changed, often the lengths and types */
         for (int k = 0; k < 3; k++) {
            data[rng_next () % len] = (uint8_t) rng_next ();
         }
         break;
      case 1: /* one byte set to a small number, a NUL or a type */
         data[rng_next () % len] = (uint8_t) (rng_next () % 20);
         break;
      case 2: /* cut short, its own length fixed up or not */
         len = rng_next () % len;
         if (len >= 4 && rng_next () % 2) {
            uint32_t le = BSON_UINT32_TO_LE ((uint32_t) len);
            memcpy (data, &le, sizeof le);
            data[len - 1] = 0;
         }
         break;
      default: /* a string or document length off by a little */
         for (size_t at = 4; at + 4 < len; at++) {
            if ((data[at] == BSON_TYPE_UTF8 || data[at] == BSON_TYPE_DOCUMENT) &&
                rng_next () % 3 == 0) {
               const uint8_t *key_end = memchr (data + at + 1, 0, len - at - 1);
               if (key_end && (size_t) (key_end - data) + 5 <= len) {
                  uint8_t *l = (uint8_t *) key_end + 1;
                  l[0] = (uint8_t) (l[0] + (rng_next () % 5) - 2);
               }
               break;
            }
         }
         break;
      }
      check_bson_bytes (data, len);
      bson_free (data);
      bson_destroy (&doc);
   }
}
END_TEST

/* ------------------------------------------------------------ {watch} */

/* The separators the reference writes, as _mwatch_render_set_separators
 * was last given them. */
static const char *ref_delimiter = " ";
static const char *ref_key_value = "=";

/* {watch} as it was: one lookup by name per listed field. */
static void
reference_render (const mwatch_message_t *msg, const char *const *fields, mwatch_buf_t *out)
{
   bool first = true;

   for (fields = fields ? fields : mwatch_message_get_default_fields (msg); *fields; fields++) {
      mwatch_value_t value;
      if (!mwatch_message_get (msg, *fields, &value)) {
         continue;
      }
      if (!first) {
         mwatch_buf_append_str (out, ref_delimiter);
      }
      first = false;
      if (_mwatch_text_is_bare (*fields, strlen (*fields))) {
         mwatch_buf_append_str (out, *fields);
      } else {
         _mwatch_json_string (out, *fields, strlen (*fields));
      }
      mwatch_buf_append_str (out, ref_key_value);
      _mwatch_render_value_text (out, &value);
   }
}

static void
check_render (const mwatch_message_t *msg, const char *const *fields)
{
   mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;

   reference_render (msg, fields, &want);
   mwatch_message_render (msg, fields, &got);
   /* Both empty (and perhaps unallocated), or the same line. */
   ck_assert_uint_eq (got.len, want.len);
   if (want.len) {
      assert_same (&got, &want, "{watch}");
   }
   mwatch_buf_destroy (&got);
   mwatch_buf_destroy (&want);
}

/* Names that collide in the index's buckets and share prefixes. */
static const char *const names[] = {
   "DB",           "Duration",      "DeletedCount", "Collection",    "Operation",
   "Filter",       "MatchedCount",  "Error",        "InsertedCount", "UpsertedCount",
   "ModifiedCount", "WatchID",      "Iteration",    "StartTime",     "EndTime",
   "_private",     "D",             "DBx",          "\x80x",         "@",
   "a b",          "Filter.user",   "Filter.user.name", "Filter.tags.1", "Filter.",
   "Filter.none",  "",              "M\xC3\xA4tch",
};

#define N_NAMES (sizeof names / sizeof names[0])

/* A message with a random choice of the names (those that can be field
 * names) holding values of several types. */
static mwatch_message_t *
random_message (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW (
      "user", "{", "name", BCON_UTF8 ("ann"), "}", "tags", "[", BCON_INT32 (1), BCON_INT32 (2), "]");

   if (rng_next () % 2) {
      mwatch_message_remove (msg, "WatchID");
   }
   for (size_t i = 0; i < N_NAMES; i++) {
      if (rng_next () % 3 == 0) {
         continue;
      }
      switch (rng_next () % 4) {
      case 0:
         mwatch_message_set_document (msg, names[i], filter);
         break;
      case 1:
         mwatch_message_set_int64 (msg, names[i], (int64_t) (rng_next () % 1000));
         break;
      case 2:
         mwatch_message_set_double (msg, names[i], (double) (rng_next () % 100000) / 1e6);
         break;
      default:
         mwatch_message_set_utf8 (msg, names[i], names[rng_next () % N_NAMES]);
         break;
      }
   }
   bson_destroy (filter);
   return msg;
}

START_TEST (test_render_index_random)
{
   const char *fields[N_NAMES + 1];

   rng_seed (2026);
   for (int i = 0; i < 3000; i++) {
      mwatch_message_t *msg = random_message ();
      size_t n = rng_next () % (N_NAMES + 1);
      /* Any names, in any order, repeated at times. */
      for (size_t k = 0; k < n; k++) {
         fields[k] = names[rng_next () % N_NAMES];
      }
      fields[n] = NULL;
      check_render (msg, fields);
      check_render (msg, NULL);
      check_render (msg, mwatch_default_fields);
      mwatch_message_set_default_fields (msg, fields);
      check_render (msg, NULL);
      mwatch_message_destroy (msg);
   }
}
END_TEST

/* The default list's own path (message-render.c, render_default): records
 * as the watchers make them, the listed fields set in random orders among
 * others, some missing, some set twice, each of several types. */
static void
render_default_random (int rounds)
{
   static const char *const others[] = {
      "WatchID", "Iteration", "StartTime", "EndTime", "_private", "Dx", "D", "a b", "Errors",
   };
   size_t n_default = 0;
   bson_t *filter = BCON_NEW ("user", "{", "name", BCON_UTF8 ("ann"), "}", "age", "{", "$gt",
                              BCON_INT32 (30), "}");

   while (mwatch_default_fields[n_default]) {
      n_default++;
   }
   rng_seed (14);
   for (int i = 0; i < rounds; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      size_t n = rng_next () % 40;
      for (size_t k = 0; k < n; k++) {
         const char *name = rng_next () % 3
                               ? mwatch_default_fields[rng_next () % n_default]
                               : others[rng_next () % (sizeof others / sizeof others[0])];
         switch (rng_next () % 5) {
         case 0:
            mwatch_message_set_document (msg, name, filter);
            break;
         case 1:
            mwatch_message_set_int64 (msg, name, (int64_t) (rng_next () % 100000) - 50);
            break;
         case 2:
            mwatch_message_set_double (msg, name, (double) (rng_next () % 10000000) / 1e6);
            break;
         case 3:
            mwatch_message_set_utf8 (msg, name, names[rng_next () % N_NAMES]);
            break;
         default:
            mwatch_message_remove (msg, name);
            break;
         }
      }
      check_render (msg, NULL);
      check_render (msg, mwatch_default_fields);
      mwatch_message_destroy (msg);
   }
   bson_destroy (filter);
}
END_TEST
START_TEST (test_render_default_random)
{
   render_default_random (5000);
}
END_TEST

/* Other separators (watchers.global.default_delimiter and
 * key_value_separator): the default list's table is made for them, or,
 * too long for its slots, left to the general path; both write what the
 * reference writes. */
START_TEST (test_render_separators)
{
   static const char *const pairs[][2] = {
      {"|", ":"}, {"", ""}, {", ", " => "}, {"\xe2\x80\xa2", "\xe2\x86\x92"},
      {"12345678", "="}, {"123456789", "="}, {" ", "0123456789abcdefghij"},
   };
   for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
      _mwatch_render_set_separators (pairs[p][0], pairs[p][1]);
      ref_delimiter = pairs[p][0];
      ref_key_value = pairs[p][1];
      render_default_random (300);
      mwatch_message_t *msg = mwatch_message_new ();
      mwatch_message_set_utf8 (msg, "DB", "shop");
      mwatch_message_set_int64 (msg, "a b", 1);
      static const char *const fields[] = {"DB", "a b", NULL};
      check_render (msg, fields);
      mwatch_buf_t full = MWATCH_BUF_INITIALIZER;
      mwatch_message_render_full (msg, &full);
      char *want = bson_strdup_printf ("DB%sshop%s\"a b\"%s1", ref_key_value, ref_delimiter, ref_key_value);
      ck_assert_msg (strstr (full.data, want), "{watch.full} %s lacks %s", full.data, want);
      bson_free (want);
      mwatch_buf_destroy (&full);
      mwatch_message_destroy (msg);
   }
   _mwatch_render_set_separators (NULL, NULL);
   ref_delimiter = " ";
   ref_key_value = "=";
   render_default_random (100);
}
END_TEST

/* A configuration loaded while the listener renders: each line has the old
 * separators or the new ones, whole. */
static atomic_bool flipping;

static void *
flip_separators (void *arg)
{
   (void) arg;
   for (int i = 0; atomic_load (&flipping); i++) {
      _mwatch_render_set_separators (i % 2 ? "|" : NULL, i % 2 ? ":" : NULL);
   }
   return NULL;
}

START_TEST (test_render_separators_switched)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "news");
   mwatch_message_set_double (msg, "Duration", 1.5);
   pthread_t thread;
   atomic_store (&flipping, true);
   ck_assert_int_eq (pthread_create (&thread, NULL, flip_separators, NULL), 0);
   int seen[2] = {0, 0};
   /* Until both were seen (each switch a whole load apart), 10 s at most. */
   int64_t give_up = mwatch_monotonic_us () + 10 * 1000 * 1000;
   for (int i = 0; i < 200 || ((!seen[0] || !seen[1]) && mwatch_monotonic_us () < give_up); i++) {
      mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
      mwatch_message_render (msg, NULL, &out);
      if (strcmp (out.data, "DB=shop Collection=news Duration=1.5") == 0) {
         seen[0]++;
      } else {
         ck_assert_str_eq (out.data, "DB:shop|Collection:news|Duration:1.5");
         seen[1]++;
      }
      mwatch_buf_destroy (&out);
   }
   atomic_store (&flipping, false);
   pthread_join (thread, NULL);
   ck_assert_msg (seen[0] && seen[1], "lines with the default separators: %d, with the others: %d", seen[0], seen[1]);
   _mwatch_render_set_separators (NULL, NULL);
   mwatch_message_destroy (msg);
}
END_TEST


START_TEST (test_render_default_names_bare)
{
   /* {watch} writes the library's own names without checking them. */
   for (const char *const *name = mwatch_default_fields; *name; name++) {
      ck_assert (_mwatch_text_is_bare (*name, strlen (*name)));
      ck_assert (!strchr (*name, '.'));
   }
}
END_TEST

START_TEST (test_render_index_many_fields)
{
   /* More fields than the index holds: rendered by lookups, the same. */
   mwatch_message_t *msg = mwatch_message_new ();
   const char *fields[] = {"F0", "F99", "F150", "DB", "F199", "Missing", NULL};
   char key[16];

   for (int i = 0; i < 200; i++) {
      snprintf (key, sizeof key, "F%d", i);
      mwatch_message_set_int64 (msg, key, i);
      if (i == 100) {
         mwatch_message_set_utf8 (msg, "DB", "shop");
      }
   }
   check_render (msg, fields);
   check_render (msg, NULL);

   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   mwatch_message_render (msg, fields, &buf);
   ck_assert_str_eq (buf.data, "F0=0 F99=99 F150=150 DB=shop F199=199");
   mwatch_buf_destroy (&buf);
   mwatch_message_destroy (msg);
}
END_TEST

/* ------------------------------------------------------------ integers */

/* _mwatch_json_int64 writes its digits in place: against printf, after
 * other text, at every number of digits and both signs. */
static void
check_int64 (int64_t value)
{
   mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
   char want[40];

   snprintf (want, sizeof want, "x=%" PRId64, value);
   mwatch_buf_append (&got, "x=", 2);
   _mwatch_json_int64 (&got, value);
   ck_assert_msg (strcmp (got.data, want) == 0 && got.len == strlen (want),
                  "int64: got [%s], want [%s]",
                  got.data,
                  want);
   mwatch_buf_destroy (&got);
}

START_TEST (test_int64_every_magnitude)
{
   check_int64 (0);
   check_int64 (INT64_MAX);
   check_int64 (INT64_MIN);
   check_int64 (INT64_MIN + 1);
   for (uint64_t p = 1; p <= UINT64_C (1000000000000000000); p *= 10) {
      for (int64_t d = -1; d <= 1; d++) {
         int64_t v = (int64_t) p + d;
         check_int64 (v);
         check_int64 (-v);
      }
      check_int64 ((int64_t) (p * 9 + (p - 1))); /* all nines, one digit more */
   }
   rng_seed (1234);
   for (int i = 0; i < 20000; i++) {
      int64_t v = (int64_t) (rng_next () >> (rng_next () % 64));
      check_int64 (v);
      check_int64 (-v);
   }
   /* Unsigned, with leading zeros to a width, as dates and timestamps
    * want them. */
   for (int i = 0; i < 20000; i++) {
      uint64_t v = rng_next () >> (rng_next () % 64);
      int width = (int) (rng_next () % 24);
      mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
      char want_text[64];
      snprintf (want_text, sizeof want_text, "u=%0*" PRIu64, width, v);
      mwatch_buf_append (&got, "u=", 2);
      _mwatch_text_uint (&got, v, width);
      ck_assert_str_eq (got.data, want_text);
      ck_assert_uint_eq (got.len, strlen (want_text));
      mwatch_buf_destroy (&got);
   }
   /* The buffer's growth at each length: from empty, many in a row. */
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   char want[64];
   for (int i = 0; i < 2000; i++) {
      size_t at = buf.len;
      _mwatch_json_int64 (&buf, INT64_MIN + i);
      snprintf (want, sizeof want, "%" PRId64, INT64_MIN + i);
      ck_assert_str_eq (buf.data + at, want);
   }
   mwatch_buf_destroy (&buf);
}
END_TEST

/* ------------------------------------------------------------ time stamps */

/* {asctime} as it was before the per-thread cache and its fast paths:
 * localtime_r and strftime for every record. */
static void
reference_datefmt (const char *fmt, int64_t created, mwatch_buf_t *out)
{
   int64_t sec = created / 1000000;
   int64_t us = created % 1000000;
   if (us < 0) {
      us += 1000000;
      sec--;
   }
   time_t t = (time_t) sec;
   struct tm tm;
   ck_assert (localtime_r (&t, &tm));
   for (const char *p = fmt; *p;) {
      char text[256];
      if (p[0] == '%' && p[1] == 'f') {
         snprintf (text, sizeof text, "%06d", (int) us);
         p += 2;
      } else if (p[0] == '%' && p[1] == '3' && p[2] == 'f') {
         snprintf (text, sizeof text, "%03d", (int) (us / 1000));
         p += 3;
      } else {
         /* One piece of text up to the next %f or %3f, through strftime
          * with the same sentinel as the writer. */
         char piece[200];
         size_t n = 0;
         while (*p && !(p[0] == '%' && (p[1] == 'f' || (p[1] == '3' && p[2] == 'f')))) {
            size_t step = p[0] == '%' && p[1] ? 2 : 1;
            memcpy (piece + n, p, step);
            n += step;
            p += step;
         }
         memcpy (piece + n, "#", 2);
         size_t len = strftime (text, sizeof text, piece, &tm);
         ck_assert (len > 0);
         text[len - 1] = '\0';
      }
      mwatch_buf_append_str (out, text);
   }
}

/* A clock reading in microseconds (clock-private.h) divides tv_nsec
 * unsigned: the same value as the signed division it replaced, for every
 * tv_nsec a clock gives (0 to 999,999,999). */
static int64_t
reference_timespec_us (const struct timespec *ts)
{
   return (int64_t) ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

START_TEST (test_timespec_us_against_signed)
{
   const long edges[] = {0, 1, 999, 1000, 1001, 999999, 1000000, 999999000, 999999999};
   const time_t secs[] = {0, 1, 1700000000, 4000000000};
   for (size_t s = 0; s < sizeof secs / sizeof secs[0]; s++) {
      for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
         struct timespec ts = {.tv_sec = secs[s], .tv_nsec = edges[e]};
         ck_assert_int_eq (_mwatch_timespec_us (&ts), reference_timespec_us (&ts));
      }
   }
   rng_seed (14);
   for (int i = 0; i < 1000000; i++) {
      struct timespec ts = {.tv_sec = (time_t) (rng_next () % 5000000000u),
                            .tv_nsec = (long) (rng_next () % 1000000000u)};
      ck_assert_int_eq (_mwatch_timespec_us (&ts), reference_timespec_us (&ts));
   }
   /* And the clocks' own readings. */
   for (int i = 0; i < 1000; i++) {
      struct timespec ts;
      clock_gettime (i % 2 ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
      ck_assert_int_eq (_mwatch_timespec_us (&ts), reference_timespec_us (&ts));
   }
}
END_TEST

START_TEST (test_datefmt_against_strftime)
{
   /* Instants around the turns of second, minute, year, a leap day and
    * the epoch (negative times too), in a zone with daylight saving. */
   static const int64_t days[] = {
      0,           /* 1970-01-01 */
      951782400,   /* 2000-02-29 */
      951868800,   /* 2000-03-01 */
      1709164800,  /* 2024-02-29 */
      1735689600,  /* 2025-01-01 */
      1711846800,  /* 2024-03-31 01:00 UTC: CET to CEST */
      1729990800,  /* 2024-10-27 01:00 UTC: CEST to CET */
      4107542400,  /* 2100-02-28 (no leap day in 2100) */
      -86400,      /* 1969-12-31 */
   };
   static const int64_t offsets_us[] = {
      -1000001, -1000000, -999999, -1, 0, 1, 999, 1000, 999999, 1000000, 1000001,
      59999999, 60000000, 86399999999, 86400000000,
   };
   static const char *const formats[] = {
      NULL, "%Y-%m-%d %H:%M:%S,%3f", "%H:%M:%S.%f", "%f", "%3f%3f%f", "[%d/%b/%Y %Z]",
   };
   const char *old_tz = getenv ("TZ");
   char *saved = old_tz ? strdup (old_tz) : NULL;
   setenv ("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
   tzset ();

   mwatch_datefmt_t fmts[sizeof formats / sizeof formats[0]];
   for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
      _mwatch_datefmt_init (&fmts[f], formats[f]);
   }
   mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;
   /* Each instant in every format, and the formats in turn (so that the
    * per-thread cache keeps more than one formatter, and its slots are
    * reused), and each twice in a row (the second from the cache). */
   for (size_t d = 0; d < sizeof days / sizeof days[0]; d++) {
      for (size_t o = 0; o < sizeof offsets_us / sizeof offsets_us[0]; o++) {
         int64_t created = days[d] * 1000000 + offsets_us[o];
         for (int again = 0; again < 2; again++) {
            for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
               mwatch_buf_clear (&got);
               mwatch_buf_clear (&want);
               mwatch_buf_append (&got, "x ", 2);
               mwatch_buf_append (&want, "x ", 2);
               _mwatch_datefmt_write (&fmts[f], created, &got);
               reference_datefmt (formats[f] ? formats[f] : "%Y-%m-%d %H:%M:%S,%3f",
                                  created, &want);
               assert_same (&got, &want, formats[f] ? formats[f] : "default");
            }
         }
      }
   }
   /* Random instants within a few seconds of one another: the cache hit
    * and missed in every order. */
   rng_seed (2026);
   int64_t base = INT64_C (1764950400000000); /* 2025-12-05 */
   for (int i = 0; i < 20000; i++) {
      int64_t created = base + (int64_t) (rng_next () % 5000000);
      size_t f = rng_next () % (sizeof formats / sizeof formats[0]);
      mwatch_buf_clear (&got);
      mwatch_buf_clear (&want);
      _mwatch_datefmt_write (&fmts[f], created, &got);
      reference_datefmt (formats[f] ? formats[f] : "%Y-%m-%d %H:%M:%S,%3f", created, &want);
      assert_same (&got, &want, "random");
   }
   mwatch_buf_destroy (&got);
   mwatch_buf_destroy (&want);
   for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
      _mwatch_datefmt_destroy (&fmts[f]);
   }
   if (saved) {
      setenv ("TZ", saved, 1);
      free (saved);
   } else {
      unsetenv ("TZ");
   }
   tzset ();
}
END_TEST

/* Dates in JSON ({"$date": ...}, DATETIME fields) by calendar arithmetic
 * for years 1 to 9999, against gmtime_r: around the epoch, the ends of
 * the range (and beyond, where gmtime_r still does it), leap days of
 * years divisible by 4, 100 and 400, the turns of years, and at random. */
static void
check_datetime (int64_t us)
{
   mwatch_buf_t got = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t want = MWATCH_BUF_INITIALIZER;
   char what[64];

   mwatch_buf_append (&got, "t=", 2);
   mwatch_buf_append (&want, "t=", 2);
   _mwatch_text_datetime (&got, us);
   _mwatch_text_datetime_gmtime (&want, us);
   snprintf (what, sizeof what, "datetime %" PRId64, us);
   assert_same (&got, &want, what);
   /* Milliseconds: the same text with three digits fewer. */
   int64_t ms = us / 1000 - (us % 1000 < 0);
   if (us % 1000 == 0 && want.len > 5 && want.data[want.len - 1] == 'Z') {
      mwatch_buf_clear (&got);
      _mwatch_text_datetime_ms (&got, ms);
      memmove (want.data + want.len - 4, "Z", 2);
      want.len -= 3;
      memmove (want.data, want.data + 2, want.len - 1);
      want.len -= 2;
      assert_same (&got, &want, what);
   }
   mwatch_buf_destroy (&got);
   mwatch_buf_destroy (&want);
}

START_TEST (test_datetime_against_gmtime)
{
   static const int64_t secs[] = {
      0, -1, 1, 86399, 86400, -86400, -86401,
      -62135596800, -62135596801, -62135596799,   /* 0001-01-01 */
      253402300799, 253402300800, 253402300798,   /* 9999-12-31T23:59:59 */
      951782400, 951868800, 951696000,            /* 2000-02-29, 03-01, 02-28 */
      4107456000, 4107542400,                     /* 2100-02-28, 2100-03-01 */
      -2203977600, -2203891200,                   /* 1900-02-28, 1900-03-01 */
      -11670912000, -11670825600,                 /* 1600-02-29, 1600-03-01 */
      13574563200, 13574649600,                   /* 2400-02-29, 2400-03-01 */
      1704067199, 1704067200, 1735689599, 1735689600,
      INT64_C (-99999999999), INT64_C (999999999999),
   };
   static const int64_t fractions[] = {0, 1, 999, 1000, 999000, 999999};

   for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
      for (size_t f = 0; f < sizeof fractions / sizeof fractions[0]; f++) {
         check_datetime (secs[i] * 1000000 + fractions[f]);
         check_datetime (secs[i] * 1000000 - fractions[f]);
      }
   }
   /* Every day of 1896 to 2104 (leap and common years, 1900 and 2100
    * without a leap day, 2000 with one), at noon and a microsecond
    * before midnight. */
   for (int64_t day = -27028; day <= 49309; day++) {
      check_datetime (day * 86400000000 + 43200000000);
      check_datetime (day * 86400000000 - 1);
   }
   rng_seed (1970);
   for (int i = 0; i < 50000; i++) {
      /* Years 1 to 9999, and some beyond. */
      int64_t span = i % 10 ? INT64_C (315537897600) : INT64_C (3155378976000);
      int64_t s = (int64_t) (rng_next () % (uint64_t) span) - INT64_C (62135596800) -
                  (i % 10 ? 0 : span / 2);
      check_datetime (s * 1000000 + (int64_t) (rng_next () % 1000000));
   }
}
END_TEST

Suite *
fast_paths_suite (void)
{
   Suite *suite = suite_create ("fast paths");
   TCase *doubles = tcase_create ("doubles");
   TCase *text = tcase_create ("text");
   TCase *bson = tcase_create ("bson");
   TCase *render = tcase_create ("render");
   TCase *numbers = tcase_create ("numbers and times");

   tcase_add_test (doubles, test_double_micros_exhaustive);
   tcase_add_test (doubles, test_double_micros_random);
   tcase_add_test (doubles, test_double_micros_edges);
   tcase_add_test (doubles, test_double_micros_forms);
   tcase_add_test (doubles, test_double_random_bits);
   /* Many printf calls each; slow under valgrind. */
   tcase_set_timeout (doubles, 120);
   tcase_add_test (text, test_text_every_byte);
   tcase_add_test (text, test_text_random);
   tcase_add_test (bson, test_bson_common);
   tcase_add_test (bson, test_bson_random);
   tcase_add_test (bson, test_bson_keys);
   tcase_add_test (bson, test_bson_corrupt);
   tcase_add_test (render, test_render_index_random);
   tcase_add_test (render, test_render_default_random);
   tcase_add_test (render, test_render_separators);
   tcase_add_test (render, test_render_separators_switched);
   tcase_add_test (render, test_render_index_many_fields);
   tcase_add_test (render, test_render_default_names_bare);
   tcase_set_timeout (render, 60);
   suite_add_tcase (suite, doubles);
   suite_add_tcase (suite, text);
   suite_add_tcase (suite, bson);
   suite_add_tcase (suite, render);
   tcase_add_test (numbers, test_int64_every_magnitude);
   tcase_add_test (numbers, test_datefmt_against_strftime);
   tcase_add_test (numbers, test_datetime_against_gmtime);
   tcase_add_test (numbers, test_timespec_us_against_signed);
   tcase_set_timeout (numbers, 60);
   suite_add_tcase (suite, numbers);
   return suite;
}
