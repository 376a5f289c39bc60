/* Fuzz target: the lines of a JSON lines audit log as `mongowatch
 * aggregate` reads them (cli/aggregate-record.c).  Each line is a record,
 * blank, or bad with a reason; never a crash. */
#include "fuzz.h"

#include "aggregate.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   const char *text = (const char *) data;
   for (size_t start = 0; start < size;) {
      const char *nl = memchr (text + start, '\n', size - start);
      size_t end = nl ? (size_t) (nl - text) + 1 : size;
      mwatch_cli_record_t record;
      char why[256] = "";
      switch (mwatch_cli_jsonl_record (text + start, end - start, &record, why, sizeof why)) {
      case MWATCH_CLI_LINE_RECORD:
         FUZZ_ASSERT (record.watch_id, "a record without its WatchID");
         bson_free (record.watch_id);
         break;
      case MWATCH_CLI_LINE_BAD:
         FUZZ_ASSERT (why[0], "a bad line without a reason");
         break;
      case MWATCH_CLI_LINE_BLANK:
         break;
      }
      start = end;
   }
   return 0;
}
