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

/* Reads what a record is from its State ("final", ...), else from its
 * Iteration as pymongowatch writes it — a number while the operation
 * runs, a string ("final", "final(N)", anything not a number) once it is
 * final — else from whether it has an EndTime (`has_end`: mongowatch's
 * records written before State existed).  `iteration_text` is the
 * Iteration as written; NULL for none.  *iteration: the number, N of
 * "final(N)", else 0. */
void
mwatch_cli_classify (const char *state,
                     const char *iteration_text,
                     bool has_end,
                     int64_t *iteration,
                     bool *final);

/* Whether `text` is an integer as Python's int() reads one (white space
 * around it, a sign, "_" between digits), as pymongowatch-csv tells a
 * running record's Iteration from a final one's; its value in *value
 * (out of int64's range: the nearest end). */
bool
mwatch_cli_python_int (const char *text, int64_t *value);

/* Whether `text` looks like a WatchID: an ObjectId's 24 hexadecimal
 * digits, as both mongowatch and pymongowatch write it. */
bool
mwatch_cli_looks_like_watch_id (const char *text);

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

/* Reads one RFC 4180 record, its cells split at `delimiter` (',', or
 * '\t' for Python's excel-tab dialect), from text[*pos] into `row`
 * (whose cells it replaces; {0} to start) and advances *pos past its line
 * end, so that *pos always moves when *pos < len.  Quoted cells may hold
 * line ends; as Python's csv reader, a quote is special only at the start
 * of a cell, and what follows a closing quote up to the delimiter is kept. */
void
mwatch_cli_csv_record (
   const char *text, size_t len, size_t *pos, char delimiter, mwatch_cli_csv_row_t *row);

/* Appends `row` to `out` as Python's csv writer with QUOTE_MINIMAL
 * writes it (what pymongowatch-csv writes): a cell is quoted when it holds
 * the delimiter, a quote or a character of `line_end` ("\n", or "\r\n"
 * for the excel dialects), and so is a row's only cell when it is empty;
 * `line_end` ends the row. */
void
mwatch_cli_csv_write (mwatch_buf_t *out,
                      const mwatch_cli_csv_row_t *row,
                      char delimiter,
                      const char *line_end);

void
mwatch_cli_csv_row_destroy (mwatch_cli_csv_row_t *row);

#endif
