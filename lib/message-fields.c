/* The names of a WatchMessage's fields as the library writes them: the
 * default fields of {watch} and the CSV columns.  Below both the message
 * (which falls back to the default fields) and its renderings. */
#include "mongowatch.h"

/* The default fields are the tail of the CSV columns: one list, so that
 * the two cannot drift apart.  State first: what kind of record a line is
 * comes before what it says. */
#define DEFAULT_FIELDS                                                     \
   "State", "DB", "Collection", "Operation", "Filter", "Duration", "MatchedCount", \
      "InsertedCount", "UpsertedCount", "ModifiedCount", "DeletedCount", "Error"

const char *const mwatch_default_fields[] = {DEFAULT_FIELDS, NULL};

const char *const mwatch_csv_columns[] = {
   "WatchID", "Iteration", "StartTime", "EndTime", DEFAULT_FIELDS, NULL};
