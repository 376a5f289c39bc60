/* What `mongowatch aggregate` reads from one record of an audit log: kept
 * apart from the command (cli/aggregate.c) so that the fuzz target
 * test/fuzz/fuzz-aggregate.c reads lines exactly as the command does. */
#ifndef MWATCH_CLI_AGGREGATE_H
#define MWATCH_CLI_AGGREGATE_H

#include <mongowatch.h>

typedef struct {
   char *watch_id;    /* bson_free it */
   int64_t iteration; /* for pymongowatch's "final(N)", N */
   bool final;
} mwatch_cli_record_t;

typedef enum {
   MWATCH_CLI_LINE_RECORD, /* `record` filled in */
   MWATCH_CLI_LINE_BLANK,  /* only white space: not a record, nothing lost */
   MWATCH_CLI_LINE_BAD,    /* could not be read: `why` says why */
} mwatch_cli_line_t;

/* Reads what a record is from its State ("final", ...), else from an
 * Iteration of pymongowatch's form "final(N)", else (records written
 * before State existed) from whether it has an EndTime.  `iteration_text`
 * is the Iteration as written, a number or "final(N)"; NULL for none. */
void
mwatch_cli_classify (const char *state,
                     const char *iteration_text,
                     bool has_end,
                     int64_t *iteration,
                     bool *final);

/* One line of a JSON lines log (`len` bytes, its line end included or
 * not): the JSON object on it — after any prefix the format put before it,
 * e.g. "{asctime} {name} {watch.json}" — read as plain JSON, whatever its
 * fields hold, up to jansson's nesting limit (JSON_PARSER_MAX_DEPTH).  A
 * line that holds something other than white space and is not such an
 * object with a string WatchID is BAD, with the reason in `why`. */
mwatch_cli_line_t
mwatch_cli_jsonl_record (const char *line,
                         size_t len,
                         mwatch_cli_record_t *record,
                         char *why,
                         size_t why_size);

/* A CSV record: its cells, unquoted. */
typedef struct {
   mwatch_buf_t *cells;
   size_t count;
   size_t capacity;
} mwatch_cli_csv_row_t;

/* Reads one RFC 4180 record from text[*pos] into `row` (whose cells it
 * replaces; {0} to start) and advances *pos past its line end, so that
 * *pos always moves when *pos < len.  Quoted cells may hold line ends. */
void
mwatch_cli_csv_record (const char *text, size_t len, size_t *pos, mwatch_cli_csv_row_t *row);

void
mwatch_cli_csv_row_destroy (mwatch_cli_csv_row_t *row);

#endif
