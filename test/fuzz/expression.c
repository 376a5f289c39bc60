/* Fuzz target: an expression filter compiled by
 * mwatch_filter_new_expression (and its strict form), and a modify filter
 * of the same text, each, when it compiles, run on a message with a field
 * of every type. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   char *text = fuzz_string (data, size);
   for (int kind = 0; kind < 3; kind++) {
      bson_error_t error;
      mwatch_filter_t *filter = kind == 0   ? mwatch_filter_new_expression (text, &error)
                                : kind == 1 ? mwatch_filter_new_expression_strict (text, true, &error)
                                            : mwatch_filter_new_modify (text, false, &error);
      if (filter) {
         mwatch_message_t *msg = fuzz_message (NULL);
         mwatch_record_t record = fuzz_record (msg);
         (void) mwatch_filter_apply (filter, &record);
         mwatch_message_destroy (msg);
         mwatch_filter_destroy (filter);
      } else {
         FUZZ_ASSERT (error.message[0], "refused without a message");
      }
   }
   free (text);
   return 0;
}
