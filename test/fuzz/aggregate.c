/* Fuzz target: an audit log as `mongowatch aggregate` reads it
 * (cli/aggregate-record.c), as JSON lines and as CSV.  Each line is a
 * record, blank, or bad with a reason; each CSV record moves on; never a
 * crash. */
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
   mwatch_cli_csv_row_t row = {0};
   for (size_t pos = 0; pos < size;) {
      size_t before = pos;
      mwatch_cli_csv_record (text, size, &pos, ',', &row);
      FUZZ_ASSERT (pos > before && pos <= size, "CSV record from %zu to %zu", before, pos);
      FUZZ_ASSERT (row.count > 0, "a CSV record without cells");
      int64_t iteration;
      bool final;
      mwatch_cli_classify (row.count > 2 ? row.cells[2].data : NULL,
                           row.cells[row.count > 1].data,
                           row.count > 3 && row.cells[3].len,
                           &iteration,
                           &final);
   }
   mwatch_cli_csv_row_destroy (&row);
   return 0;
}
