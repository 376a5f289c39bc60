/* How a write's counts are read from its reply (issue 14, eighth round):
 * _mwatch_counts_read's one pass over the reply, a bit per reply key
 * still looked for, against the rule it keeps, written here the plain
 * way: each count's keys looked up in turn (bson_iter_init_find, the
 * first occurrence), the first that holds a number giving the value. */
#include "test-util.h"
#include "unit/suites.h"
#include "../../lib/watch-collection-private.h"

#include <string.h>

/* The counts in the order of their bits, with their reply keys in order
 * of preference and a record's name for them. */
static const struct {
   const char *field;
   const char *keys[2];
} names[] = {
   {"InsertedCount", {"insertedCount", "nInserted"}},
   {"MatchedCount", {"matchedCount", "nMatched"}},
   {"ModifiedCount", {"modifiedCount", "nModified"}},
   {"UpsertedCount", {"upsertedCount", "nUpserted"}},
   {"DeletedCount", {"deletedCount", "nRemoved"}},
};

#define N_NAMES (sizeof names / sizeof names[0])

static size_t
reference (const bson_t *doc, unsigned counts, bool ok, mwatch_count_value_t *out)
{
   size_t n = 0;
   for (size_t i = 0; i < N_NAMES; i++) {
      if (!(counts & (1u << i))) {
         continue;
      }
      bool done = false;
      for (size_t k = 0; k < 2 && !done; k++) {
         bson_iter_t iter;
         if (doc && bson_iter_init_find (&iter, doc, names[i].keys[k]) &&
             BSON_ITER_HOLDS_NUMBER (&iter)) {
            out[n++] = (mwatch_count_value_t) {names[i].field, bson_iter_as_int64 (&iter)};
            done = true;
         }
      }
      if (!done && i == 0 && (counts & MWATCH_COUNT_ASSUME_ONE) && ok) {
         out[n++] = (mwatch_count_value_t) {names[i].field, 1};
      }
   }
   return n;
}

/* Both readings of `doc` under every set of counts, with and without
 * ASSUME_ONE, ok or not: the same counts, values and order. */
static void
expect_same (const bson_t *doc)
{
   for (unsigned counts = 0; counts < 64; counts++) {
      for (int ok = 0; ok < 2; ok++) {
         mwatch_count_value_t want[5];
         mwatch_count_value_t got[5];
         size_t n_want = reference (doc, counts, ok, want);
         size_t n_got = _mwatch_counts_read (doc, counts, ok, got);
         ck_assert_msg (n_got == n_want, "counts %#x ok %d: %zu counts, not %zu", counts, ok,
                        n_got, n_want);
         for (size_t i = 0; i < n_want; i++) {
            ck_assert_str_eq (got[i].key, want[i].key);
            ck_assert_msg (got[i].value == want[i].value, "counts %#x, %s: %" PRId64 ", not %" PRId64,
                           counts, want[i].key, got[i].value, want[i].value);
         }
      }
   }
}

/* The replies libmongoc builds, and the shapes that decide between a
 * count's two keys: a key twice (the first decides, number or not), the
 * preferred key not a number, only the second key, a key that is a
 * prefix or an extension of a name, nested documents (not looked in). */
START_TEST (test_counts_read_shapes)
{
   const char *shapes[] = {
      "{}",
      "{\"insertedCount\": 1}",
      "{\"modifiedCount\": 1, \"matchedCount\": 1, \"upsertedCount\": 0}",
      "{\"modifiedCount\": 0, \"matchedCount\": 0, \"upsertedCount\": 1, \"upsertedId\": 7}",
      "{\"deletedCount\": {\"$numberLong\": \"5000000000\"}}",
      "{\"nInserted\": 3, \"nMatched\": 4, \"nModified\": 2, \"nRemoved\": 1, \"nUpserted\": 0,"
      " \"writeErrors\": []}",
      "{\"matchedCount\": 2, \"matchedCount\": 9}",
      "{\"matchedCount\": \"two\", \"matchedCount\": 9, \"nMatched\": 4}",
      "{\"matchedCount\": null, \"nMatched\": 4}",
      "{\"nMatched\": 4, \"matchedCount\": 3}",
      "{\"nMatched\": \"x\", \"matchedCount\": \"y\"}",
      "{\"matchedCoun\": 1, \"matchedCountX\": 2, \"MatchedCount\": 3, \"nMatched\": 8}",
      "{\"insertedCount\": 2.9, \"deletedCount\": true, \"nRemoved\": 6}",
      "{\"n\": {\"insertedCount\": 5}, \"ok\": 1}",
      "{\"insertedCount\": {\"$numberLong\": \"-1\"}, \"insertedCount\": 4}",
   };
   for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      bson_error_t error;
      bson_t *doc = bson_new_from_json ((const uint8_t *) shapes[s], -1, &error);
      ck_assert_msg (doc, "%s: %s", shapes[s], error.message);
      expect_same (doc);
      bson_destroy (doc);
   }
   expect_same (NULL);
}
END_TEST

/* Random replies: up to 14 keys drawn from the ten names, near misses
 * and others, in any order and repeated, each a number of one of three
 * types or something else. */
START_TEST (test_counts_read_random)
{
   const char *others[] = {"n", "ok", "upsertedId", "nInsertedX", "insertedCoun", "NMATCHED"};
   unsigned seed = 14;
   for (int round = 0; round < 3000; round++) {
      bson_t doc = BSON_INITIALIZER;
      int keys = (int) (rand_r (&seed) % 15);
      for (int k = 0; k < keys; k++) {
         unsigned pick = (unsigned) rand_r (&seed) % (2 * N_NAMES + 6);
         const char *key = pick < 2 * N_NAMES ? names[pick / 2].keys[pick % 2]
                                              : others[pick - 2 * N_NAMES];
         int value = rand_r (&seed) % 100;
         switch (rand_r (&seed) % 5) {
         case 0:
            BSON_APPEND_INT32 (&doc, key, value);
            break;
         case 1:
            BSON_APPEND_INT64 (&doc, key, (int64_t) value << 33);
            break;
         case 2:
            BSON_APPEND_DOUBLE (&doc, key, value + 0.5);
            break;
         case 3:
            BSON_APPEND_UTF8 (&doc, key, "7");
            break;
         default:
            BSON_APPEND_NULL (&doc, key);
            break;
         }
      }
      expect_same (&doc);
      bson_destroy (&doc);
   }
}
END_TEST

Suite *
counts_read_suite (void)
{
   Suite *s = suite_create ("counts read");
   TCase *tc = tcase_create ("counts read");
   tcase_add_test (tc, test_counts_read_shapes);
   tcase_add_test (tc, test_counts_read_random);
   suite_add_tcase (s, tc);
   return s;
}
