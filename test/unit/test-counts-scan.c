/* A write's counts read over the reply's bytes (issue 14, ninth round):
 * _mwatch_counts_read walks the element types a reply holds itself and
 * hands anything else, or anything malformed, to libbson's iterator.
 * Each reply here is read twice: as it is, and with a boolean element put
 * before its first, which the byte walk does not take, so that the
 * iterator reads the rest: both must give the same counts.  Replies of
 * every element type, and the same bytes with a byte changed or cut
 * short, as a reply libmongoc did not build could be.  Each count's name
 * is the library's own, in _mwatch_names.  (test-counts-read.c
 * holds the rule itself against a plain reading.) */
#include "test-util.h"
#include "unit/suites.h"
#include "../../lib/message-private.h"
#include "../../lib/watch-collection-private.h"

#include <string.h>

static const char *const keys[] = {
   "insertedCount", "nInserted",   "matchedCount", "nMatched", "modifiedCount", "nModified",
   "upsertedCount", "nUpserted",   "deletedCount", "nRemoved", "ok",            "n",
   "upsertedId",    "writeErrors", "insertedCoun", "",
   /* The length of a name, a byte changed: at its end, at its start, in
    * its middle. */
   "insertedCounT", "xRemoved",    "modifiedCouns", "nMatcHed", "deletedCouNt", "xnsertedCount",
};

#define N_KEYS (sizeof keys / sizeof keys[0])

/* Appends a value of a type drawn among all of BSON's under `key`. */
static void
append_any (bson_t *doc, const char *key, unsigned *seed)
{
   int v = rand_r (seed) % 200 - 100;
   bson_oid_t oid;
   bson_decimal128_t dec = {.high = 0x3040000000000000ull, .low = (uint64_t) (v & 0xff)};
   bson_t child;
   switch (rand_r (seed) % 22) {
   case 0:
   case 1:
      BSON_APPEND_INT32 (doc, key, v);
      break;
   case 2:
      BSON_APPEND_INT64 (doc, key, (int64_t) v * 12345678901ll);
      break;
   case 3:
      BSON_APPEND_DOUBLE (doc, key, v / 3.0);
      break;
   case 4:
      BSON_APPEND_DOUBLE (doc, key, v * 1e17);
      break;
   case 5:
      BSON_APPEND_UTF8 (doc, key, v & 1 ? "" : "seven");
      break;
   case 6:
      BSON_APPEND_DOCUMENT_BEGIN (doc, key, &child);
      BSON_APPEND_INT32 (&child, "matchedCount", v);
      bson_append_document_end (doc, &child);
      break;
   case 7:
      BSON_APPEND_ARRAY_BEGIN (doc, key, &child);
      BSON_APPEND_INT32 (&child, "0", v);
      bson_append_array_end (doc, &child);
      break;
   case 8:
      bson_oid_init_from_string (&oid, "0123456789abcdef01234567");
      BSON_APPEND_OID (doc, key, &oid);
      break;
   case 9:
      BSON_APPEND_NULL (doc, key);
      break;
   case 10:
      BSON_APPEND_BOOL (doc, key, v & 1);
      break;
   case 11:
      BSON_APPEND_DATE_TIME (doc, key, v);
      break;
   case 12:
      BSON_APPEND_TIMESTAMP (doc, key, 1, (uint32_t) v);
      break;
   case 13:
      BSON_APPEND_DECIMAL128 (doc, key, &dec);
      break;
   case 14:
      BSON_APPEND_REGEX (doc, key, "^a", "i");
      break;
   case 15:
      BSON_APPEND_MINKEY (doc, key);
      break;
   case 16:
      BSON_APPEND_MAXKEY (doc, key);
      break;
   case 17:
      BSON_APPEND_BINARY (doc, key, BSON_SUBTYPE_BINARY, (const uint8_t *) "abc", 3);
      break;
   case 18:
      BSON_APPEND_CODE (doc, key, "f()");
      break;
   case 19:
      BSON_APPEND_SYMBOL (doc, key, "s");
      break;
   case 20:
      BSON_APPEND_UNDEFINED (doc, key);
      break;
   default:
      BSON_APPEND_INT64 (doc, key, INT64_MIN + (v < 0 ? -v : v)); /* near the bound, never past it */
      break;
   }
}

/* The document of `len` bytes `data` (its header is rewritten) read as it
 * is and behind a boolean, under every set of counts: the same counts. */
static void
expect_same_bytes (uint8_t *data, uint32_t len)
{
   uint32_t le = BSON_UINT32_TO_LE (len);
   memcpy (data, &le, sizeof le);
   bson_t doc;
   ck_assert (bson_init_static (&doc, data, len));
   /* "\b" "x\0" true, then the elements. */
   uint8_t *behind = bson_malloc (len + 4);
   le = BSON_UINT32_TO_LE (len + 4);
   memcpy (behind, &le, sizeof le);
   memcpy (behind + 4, "\x08x\0\x01", 4);
   memcpy (behind + 8, data + 4, len - 4);
   bson_t iter_doc;
   ck_assert (bson_init_static (&iter_doc, behind, len + 4));
   for (unsigned counts = 1; counts < 64; counts++) {
      mwatch_count_value_t want[5];
      mwatch_count_value_t got[5];
      size_t n_want = _mwatch_counts_read (&iter_doc, counts, true, want);
      size_t n_got = _mwatch_counts_read (&doc, counts, true, got);
      ck_assert_msg (n_got == n_want, "counts %#x: %zu counts, not %zu", counts, n_got, n_want);
      for (size_t i = 0; i < n_want; i++) {
         ck_assert_str_eq (got[i].key, want[i].key);
         /* The library's name, known by its address when the record is
          * built (message-private.h). */
         ck_assert_int_ge (_mwatch_name_of (got[i].key), 0);
         ck_assert_msg (got[i].value == want[i].value, "counts %#x, %s: %" PRId64 ", not %" PRId64,
                        counts, want[i].key, got[i].value, want[i].value);
      }
   }
   bson_free (behind);
}

/* Replies of up to 12 elements of any type. */
START_TEST (test_counts_scan_types)
{
   unsigned seed = 9;
   for (int round = 0; round < 4000; round++) {
      bson_t doc = BSON_INITIALIZER;
      int n = (int) (rand_r (&seed) % 13);
      for (int k = 0; k < n; k++) {
         append_any (&doc, keys[(unsigned) rand_r (&seed) % N_KEYS], &seed);
      }
      uint8_t *copy = bson_destroy_with_steal (&doc, true, NULL);
      uint32_t len;
      memcpy (&len, copy, sizeof len);
      expect_same_bytes (copy, BSON_UINT32_FROM_LE (len));
      bson_free (copy);
   }
}
END_TEST

/* The same replies malformed: one byte changed (a type, a length, a key's
 * end), or the document cut short after any of its bytes. */
START_TEST (test_counts_scan_malformed)
{
   unsigned seed = 10;
   for (int round = 0; round < 4000; round++) {
      bson_t doc = BSON_INITIALIZER;
      int n = 1 + (int) (rand_r (&seed) % 8);
      for (int k = 0; k < n; k++) {
         append_any (&doc, keys[(unsigned) rand_r (&seed) % N_KEYS], &seed);
      }
      uint32_t len = doc.len;
      uint8_t *data = bson_destroy_with_steal (&doc, true, NULL);
      if (round % 2) {
         /* A byte between the header and the last, set to a small value
          * (a type, a length's low byte) or any. */
         uint32_t at = 4 + (uint32_t) rand_r (&seed) % (len - 5);
         data[at] = (uint8_t) (rand_r (&seed) % 3 ? rand_r (&seed) % 24 : rand_r (&seed));
      } else {
         /* Cut after any byte, the last one set to 0. */
         len = 5 + (uint32_t) rand_r (&seed) % (len - 5);
         data[len - 1] = 0;
      }
      expect_same_bytes (data, len);
      bson_free (data);
   }
}
END_TEST

/* Malformed elements after which the bytes still read as elements, so
 * that a walk that took them would find the count behind them: the
 * iterator stops there (but at the third).  The header is written by expect_same_bytes. */
START_TEST (test_counts_scan_crafted)
{
#define INSERTED "\x10insertedCount\0\x05\0\0\0"
   static const struct {
      const char *bytes;
      uint32_t len;
      size_t inserted_n; /* InsertedCount (5) read, or none */
   } docs[] = {
      /* A string whose last byte is not its NUL. */
      {"....\x02s\0\x03\0\0\0abc" INSERTED "\0", 4 + 11 + 19 + 1, 0},
      /* A string of length 0, its bytes an element. */
      {"....\x02s\0\0\0\0\0" INSERTED "\0" INSERTED "\0", 4 + 7 + 19 + 1 + 19 + 1, 0},
      /* A document whose last byte is not 0: the iterator takes it (it
       * does not look inside), the walk leaves it to the iterator. */
      {"....\x03" "d\0\x06\0\0\0\x0a\x01" INSERTED "\0", 4 + 9 + 19 + 1, 1},
      /* Well formed: an ObjectId whose last byte is a type. */
      {"....\x07o\0abcdefghijk\x10" INSERTED "\x10nMatched\0\x07\0\0\0\0",
       4 + 15 + 19 + 14 + 1, 1},
      /* Well formed: every type the walk takes, then the counts. */
      {"....\x01" "f\0\0\0\0\0\0\0\xf0?\x12l\0\x09\0\0\0\0\0\0\0\x0an\0"
       "\x04" "a\0\x05\0\0\0\0" INSERTED "\0",
       4 + 11 + 11 + 3 + 8 + 19 + 1, 1},
   };
   for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
      uint8_t *data = bson_malloc (docs[i].len);
      memcpy (data, docs[i].bytes, docs[i].len);
      ck_assert_uint_eq (data[docs[i].len - 1], 0);
      expect_same_bytes (data, docs[i].len);
      bson_t doc;
      ck_assert (bson_init_static (&doc, data, docs[i].len));
      mwatch_count_value_t out[5];
      size_t n = _mwatch_counts_read (&doc, MWATCH_COUNT_INSERTED | MWATCH_COUNT_MATCHED, false, out);
      ck_assert_uint_eq (n, docs[i].inserted_n + (i == 3));
      ck_assert (!docs[i].inserted_n || out[0].value == 5);
      bson_free (data);
   }
#undef INSERTED
   /* A name's length, a byte changed at its end, its start, its middle:
    * no count. */
   bson_t *near = BCON_NEW ("insertedCounT", BCON_INT32 (3), "xRemoved", BCON_INT32 (4),
                            "nMatcHed", BCON_INT32 (5), "modifiedCouns", BCON_INT32 (6),
                            "xpsertedCount", BCON_INT32 (7), "deleteDCount", BCON_INT32 (8));
   mwatch_count_value_t out[5];
   ck_assert_uint_eq (_mwatch_counts_read (near, MWATCH_COUNTS_ALL, false, out), 0);
   bson_destroy (near);
}
END_TEST

Suite *
counts_scan_suite (void)
{
   Suite *s = suite_create ("counts scan");
   TCase *tc = tcase_create ("counts scan");
   tcase_add_test (tc, test_counts_scan_types);
   tcase_add_test (tc, test_counts_scan_malformed);
   tcase_add_test (tc, test_counts_scan_crafted);
   suite_add_tcase (s, tc);
   return s;
}
