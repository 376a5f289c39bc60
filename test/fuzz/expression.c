/* Fuzz target: an expression filter compiled by
 * mwatch_filter_new_expression and, when it compiles, evaluated on a
 * message with a field of every type. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   char *text = fuzz_string (data, size);
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_expression (text, &error);
   if (filter) {
      mwatch_message_t *msg = fuzz_message (NULL);
      mwatch_record_t record = fuzz_record (msg);
      (void) mwatch_filter_apply (filter, &record);
      mwatch_message_destroy (msg);
      mwatch_filter_destroy (filter);
   } else {
      FUZZ_ASSERT (error.message[0], "refused without a message");
   }
   free (text);
   return 0;
}
