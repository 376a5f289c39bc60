/* Fuzz target: a formatter template (the input up to its first newline)
 * with a date format (the rest), compiled by mwatch_formatter_new and,
 * when it compiles, used on a record with a field of every type. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   char *text = fuzz_string (data, size);
   char *newline = strchr (text, '\n');
   const char *datefmt = NULL;
   if (newline) {
      *newline = '\0';
      datefmt = newline + 1;
   }
   bson_error_t error;
   mwatch_formatter_t *formatter = mwatch_formatter_new (text, datefmt, &error);
   if (formatter) {
      mwatch_message_t *msg = fuzz_message (NULL);
      mwatch_record_t record = fuzz_record (msg);
      mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
      mwatch_formatter_format (formatter, &record, &out);
      mwatch_buf_destroy (&out);
      mwatch_message_destroy (msg);
      mwatch_formatter_destroy (formatter);
   } else {
      FUZZ_ASSERT (error.message[0], "refused without a message");
   }
   free (text);
   return 0;
}
