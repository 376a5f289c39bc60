/* mongowatch aggregate: logs written with update records hold several
 * records of one operation; keep one per WatchID — a final record over any
 * other, else the highest Iteration, the later one on a tie — in the order
 * the operations first appear.  Records are written out exactly as they
 * were read.  A line that cannot be read is never passed over in silence:
 * it is named (FILE:LINE, the first MAX_REPORTED of them, then a count)
 * and the exit status is 1, so that an audit that lost a record says so. */
#include "cli.h"
#include "aggregate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPORTED 10

typedef struct {
   char *watch_id;
   int64_t iteration;
   bool final;
   char *text; /* the record as read, with its line end */
} kept_t;

typedef struct {
   kept_t *items; /* in order of first appearance */
   size_t count;
   size_t capacity;
   size_t *slots; /* open addressing: index + 1, 0 for empty */
   size_t slot_count;
   size_t skipped;
   char *header; /* CSV: the first file's header record */
} table_t;

static uint64_t
hash (const char *s)
{
   uint64_t h = 1469598103934665603u; /* FNV-1a */
   for (; *s; s++) {
      h = (h ^ (unsigned char) *s) * 1099511628211u;
   }
   return h;
}

static void
rehash (table_t *t)
{
   bson_free (t->slots);
   t->slot_count = t->slot_count ? t->slot_count * 2 : 1024;
   t->slots = bson_malloc0 (t->slot_count * sizeof *t->slots);
   for (size_t i = 0; i < t->count; i++) {
      size_t s = hash (t->items[i].watch_id) & (t->slot_count - 1);
      while (t->slots[s]) {
         s = (s + 1) & (t->slot_count - 1);
      }
      t->slots[s] = i + 1;
   }
}

/* Offers one record; the table keeps the better of it and the one it has. */
static void
offer (table_t *t, const char *watch_id, int64_t iteration, bool final, const char *text, size_t len)
{
   if ((t->count + 1) * 2 > t->slot_count) {
      rehash (t);
   }
   size_t s = hash (watch_id) & (t->slot_count - 1);
   while (t->slots[s] && strcmp (t->items[t->slots[s] - 1].watch_id, watch_id) != 0) {
      s = (s + 1) & (t->slot_count - 1);
   }
   if (t->slots[s]) {
      kept_t *k = &t->items[t->slots[s] - 1];
      if (k->final > final || (k->final == final && k->iteration > iteration)) {
         return; /* what is kept is newer */
      }
      bson_free (k->text);
      k->text = bson_strndup (text, len);
      k->iteration = iteration;
      k->final = final;
      return;
   }
   if (t->count == t->capacity) {
      t->capacity = t->capacity ? t->capacity * 2 : 256;
      t->items = bson_realloc (t->items, t->capacity * sizeof *t->items);
   }
   kept_t *k = &t->items[t->count];
   k->watch_id = bson_strdup (watch_id);
   k->iteration = iteration;
   k->final = final;
   k->text = bson_strndup (text, len);
   t->slots[s] = ++t->count;
}

static void
skip (table_t *t, const char *file, size_t line, const char *why)
{
   if (++t->skipped <= MAX_REPORTED) {
      mwatch_cli_error ("aggregate: %s:%zu: cannot read the record: %s", file, line, why);
   }
}

/* ---------------------------------------------------------------- JSON lines */

static void
jsonl_line (table_t *t, const char *file, size_t number, const char *line, size_t len)
{
   mwatch_cli_record_t record;
   char why[256];
   switch (mwatch_cli_jsonl_record (line, len, &record, why, sizeof why)) {
   case MWATCH_CLI_LINE_RECORD:
      offer (t, record.watch_id, record.iteration, record.final, line, len);
      bson_free (record.watch_id);
      break;
   case MWATCH_CLI_LINE_BAD:
      skip (t, file, number, why);
      break;
   case MWATCH_CLI_LINE_BLANK:
      break;
   }
}

static void
jsonl_file (table_t *t, const char *file, const char *text, size_t len)
{
   size_t number = 0;
   for (size_t start = 0; start < len;) {
      const char *nl = memchr (text + start, '\n', len - start);
      size_t end = nl ? (size_t) (nl - text) + 1 : len;
      jsonl_line (t, file, ++number, text + start, end - start);
      start = end;
   }
}

/* ---------------------------------------------------------------- CSV */

static const char *
cell (const mwatch_cli_csv_row_t *row, long index)
{
   return index >= 0 && (size_t) index < row->count ? row->cells[index].data : "";
}

static long
column (const mwatch_cli_csv_row_t *header, const char *name, long fallback)
{
   if (!header) {
      return fallback;
   }
   for (size_t i = 0; i < header->count; i++) {
      if (strcmp (header->cells[i].data, name) == 0) {
         return (long) i;
      }
   }
   return -1;
}

static void
csv_file (table_t *t, const char *file, const char *text, size_t len)
{
   mwatch_cli_csv_row_t row = {0};
   mwatch_cli_csv_row_t header = {0};
   /* Without a header: mwatch_csv_columns as they were before State. */
   long id_col = 0, iteration_col = 1, end_col = 3, state_col = -1;
   size_t number = 0;
   size_t line = 1, next_line = 1; /* where the record starts: quoted cells may span lines */
   for (size_t pos = 0; pos < len;) {
      size_t start = pos;
      mwatch_cli_csv_record (text, len, &pos, &row);
      number++;
      line = next_line;
      for (size_t i = start; i < pos; i++) {
         next_line += text[i] == '\n';
      }
      if (row.count == 1 && row.cells[0].len == 0) {
         continue; /* an empty line */
      }
      if (number == 1 && strcmp (cell (&row, 0), "WatchID") == 0) {
         header = row;
         row = (mwatch_cli_csv_row_t) {0};
         id_col = column (&header, "WatchID", 0);
         iteration_col = column (&header, "Iteration", 1);
         end_col = column (&header, "EndTime", 3);
         state_col = column (&header, "State", -1);
         if (!t->header) {
            t->header = bson_strndup (text + start, pos - start);
         }
         continue;
      }
      const char *watch_id = cell (&row, id_col);
      if (!*watch_id) {
         skip (t, file, line, "no WatchID");
         continue;
      }
      int64_t iteration;
      bool final;
      mwatch_cli_classify (cell (&row, state_col),
                           cell (&row, iteration_col),
                           *cell (&row, end_col) != '\0',
                           &iteration,
                           &final);
      offer (t, watch_id, iteration, final, text + start, pos - start);
   }
   mwatch_cli_csv_row_destroy (&row);
   mwatch_cli_csv_row_destroy (&header);
}

/* ---------------------------------------------------------------- command */

static char *
read_all (FILE *fp, size_t *len)
{
   mwatch_buf_t text = MWATCH_BUF_INITIALIZER;
   char chunk[65536];
   size_t n;
   mwatch_buf_append_str (&text, "");
   while ((n = fread (chunk, 1, sizeof chunk, fp)) > 0) {
      mwatch_buf_append (&text, chunk, n);
   }
   *len = text.len;
   return text.data;
}

static bool
ends_with (const char *s, const char *suffix)
{
   size_t a = strlen (s), b = strlen (suffix);
   return a >= b && strcmp (s + a - b, suffix) == 0;
}

int
mwatch_cli_aggregate (int argc, char **argv)
{
   const char *format = NULL;
   int i = 0;
   for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
      if (strcmp (argv[i], "--") == 0) {
         i++;
         break;
      }
      if (strcmp (argv[i], "--format") == 0 && i + 1 < argc) {
         format = argv[++i];
      } else if (strncmp (argv[i], "--format=", 9) == 0) {
         format = argv[i] + 9;
      } else {
         mwatch_cli_error ("aggregate: unknown option \"%s\"; usage: mongowatch aggregate "
                           "[--format csv|jsonl] [FILE...]",
                           argv[i]);
         return 2;
      }
   }
   static char *stdin_only[] = {"-", NULL};
   char **files = i < argc ? argv + i : stdin_only;
   int file_count = i < argc ? argc - i : 1;
   if (!format) {
      format = ends_with (files[0], ".csv") ? "csv" : "jsonl";
   }
   bool csv = strcmp (format, "csv") == 0;
   if (!csv && strcmp (format, "jsonl") != 0) {
      mwatch_cli_error ("aggregate: unknown format \"%s\"; use csv or jsonl", format);
      return 2;
   }

   table_t t = {0};
   int status = 0;
   for (int f = 0; f < file_count; f++) {
      bool is_stdin = strcmp (files[f], "-") == 0;
      FILE *fp = is_stdin ? stdin : fopen (files[f], "rb");
      if (!fp) {
         mwatch_cli_error ("aggregate: cannot open %s: %s", files[f], strerror (errno));
         status = 1;
         continue;
      }
      size_t len;
      char *text = read_all (fp, &len);
      if (!is_stdin) {
         fclose (fp);
      }
      const char *name = is_stdin ? "<stdin>" : files[f];
      if (csv) {
         csv_file (&t, name, text, len);
      } else {
         jsonl_file (&t, name, text, len);
      }
      bson_free (text);
   }
   if (t.header) {
      fputs (t.header, stdout);
   }
   for (size_t k = 0; k < t.count; k++) {
      fputs (t.items[k].text, stdout);
      size_t n = strlen (t.items[k].text);
      if (n == 0 || t.items[k].text[n - 1] != '\n') {
         fputc ('\n', stdout);
      }
      bson_free (t.items[k].text);
      bson_free (t.items[k].watch_id);
   }
   if (t.skipped) {
      mwatch_cli_error ("aggregate: %zu line%s could not be read and %s not in the output",
                        t.skipped,
                        t.skipped == 1 ? "" : "s",
                        t.skipped == 1 ? "is" : "are");
      status = 1;
   }
   bson_free (t.items);
   bson_free (t.slots);
   bson_free (t.header);
   if (fflush (stdout) != 0) {
      mwatch_cli_error ("aggregate: cannot write: %s", strerror (errno));
      status = 1;
   }
   return status;
}
