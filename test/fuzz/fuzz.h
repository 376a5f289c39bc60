/* What the fuzz targets of test/fuzz/ share: libFuzzer's entry point, the
 * input as a C string, a message with a field of every kind to run
 * compiled filters and templates on, and a check that stops the run when
 * a property does not hold. */
#ifndef MWATCH_FUZZ_H
#define MWATCH_FUZZ_H

#include <mongowatch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A property of mongowatch's that the input broke: libFuzzer saves the
 * input when the process aborts. */
#define FUZZ_ASSERT(cond, ...)                                 \
   do {                                                        \
      if (!(cond)) {                                           \
         fprintf (stderr, "fuzz: %s: ", #cond);                \
         fprintf (stderr, __VA_ARGS__);                        \
         fputc ('\n', stderr);                                 \
         abort ();                                             \
      }                                                        \
   } while (0)

/* The input up to its first NUL, NUL-terminated; free() it. */
static inline char *
fuzz_string (const uint8_t *data, size_t size)
{
   char *text = malloc (size + 1);
   memcpy (text, data, size);
   text[size] = '\0';
   return text;
}

/* A record whose message has a field of every type the renderers and the
 * expression filter know, `filter` (may be NULL) as its Filter. */
static inline mwatch_message_t *
fuzz_message (const bson_t *filter)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *sample = BCON_NEW ("user", "{", "name", BCON_UTF8 ("admin7"), "age", BCON_INT32 (42),
                              "tags", "[", BCON_UTF8 ("a"), BCON_UTF8 ("b"), "]", "}");
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "news");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_document (msg, "Filter", filter ? filter : sample);
   mwatch_message_set_double (msg, "Duration", 12.5);
   mwatch_message_set_int64 (msg, "MatchedCount", 3);
   mwatch_message_set_bool (msg, "Ready", true);
   mwatch_message_set_null (msg, "Error");
   mwatch_message_set_datetime (msg, "EndTime", INT64_C (1700000000000000));
   mwatch_message_set_utf8_len (msg, "Nul", "ab\0cd", 5);
   bson_destroy (sample);
   return msg;
}

static inline mwatch_record_t
fuzz_record (mwatch_message_t *msg)
{
   mwatch_record_t record = {
      .name = "mongowatch.cursor",
      .level = MWATCH_LEVEL_INFO,
      .timeout_level = MWATCH_LEVEL_INFO,
      .created = INT64_C (1700000000000000),
      .thread = 1,
      .process = 1,
      .watch = msg,
   };
   return record;
}

#endif
