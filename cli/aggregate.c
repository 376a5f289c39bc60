/* mongowatch aggregate (also spelled aggr): logs written with update
 * records hold several records of one operation; keep one per WatchID — a
 * final record over any other, else the highest Iteration, the later one
 * on a tie — written where the kept record stands in the log, so that the
 * output is the log with the superseded records left out.  That is what
 * pymongowatch-csv aggr does with a pymongowatch CSV log, and its options
 * are taken here with its spellings (-i/--in-place, -o/--output,
 * -d/--dialect, -w/--watch-id-column, -t/--iteration-column), so that
 * scripts written for it keep working.
 *
 * Nothing is passed over in silence: a record that cannot be read is
 * named (FILE:LINE, the first MAX_REPORTED of them, then a count), and a
 * file without a record, a WatchID column that holds no WatchIDs, or a
 * file in another format than the one asked for fail the command with a
 * message that names the file and line; the exit status is then 1. */
#include "cli.h"
#include "aggregate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_REPORTED 10

static const char usage[] =
   "usage: mongowatch aggregate|aggr [--format csv|jsonl] [-i | -o FILE] [-d DIALECT]\n"
   "                 [-w N] [-t N] [FILE...]";

typedef struct {
   char *watch_id;
   int64_t iteration;
   bool final;
   size_t seq;  /* where the kept record stands among all records read */
   char *text;  /* the record as it is written out, with its line end */
} kept_t;

typedef struct {
   kept_t *items;
   size_t count;
   size_t capacity;
   size_t *slots; /* open addressing: index + 1, 0 for empty */
   size_t slot_count;
   size_t seq;
   size_t skipped; /* records that could not be read */
   size_t failed;  /* files that could not be read as asked */
   char *header;   /* CSV: the first file's header record */
} table_t;

typedef enum { FORMAT_AUTO, FORMAT_CSV, FORMAT_JSONL } format_t;

typedef struct {
   format_t format;
   const char *output; /* NULL: standard output */
   bool in_place;
   bool csv_options; /* -d, -w, -t or -i: pymongowatch-csv's options, CSV */
   char delimiter;
   const char *line_end;
   long id_column;        /* 1 for the first; 0: the header's WatchID */
   long iteration_column; /* 1 for the first; 0: the header's Iteration */
} options_t;

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
   size_t seq = t->seq++;
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
      k->seq = seq;
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
   k->seq = seq;
   k->text = bson_strndup (text, len);
   t->slots[s] = ++t->count;
}

static void
table_destroy (table_t *t)
{
   for (size_t k = 0; k < t->count; k++) {
      bson_free (t->items[k].text);
      bson_free (t->items[k].watch_id);
   }
   bson_free (t->items);
   bson_free (t->slots);
   bson_free (t->header);
   *t = (table_t) {0};
}

static void
skip (table_t *t, const char *file, size_t line, const char *why)
{
   if (++t->skipped <= MAX_REPORTED) {
      mwatch_cli_error ("aggregate: %s:%zu: cannot read the record: %s", file, line, why);
   }
}

/* The first line that holds more than white space, and its number; NULL
 * when there is none. */
static const char *
first_line (const char *text, size_t len, size_t *number, size_t *line_len)
{
   *number = 0;
   for (size_t start = 0; start < len;) {
      const char *nl = memchr (text + start, '\n', len - start);
      size_t end = nl ? (size_t) (nl - text) + 1 : len;
      ++*number;
      for (size_t i = start; i < end; i++) {
         if (!strchr (" \t\r\n", text[i])) {
            *line_len = end - start;
            return text + start;
         }
      }
      start = end;
   }
   return NULL;
}

static bool
is_jsonl_record (const char *line, size_t len)
{
   mwatch_cli_record_t record;
   char why[256];
   if (mwatch_cli_jsonl_record (line, len, &record, why, sizeof why) != MWATCH_CLI_LINE_RECORD) {
      return false;
   }
   bson_free (record.watch_id);
   return true;
}

/* Whether a CSV record names its columns (a "WatchID" cell) or holds a
 * WatchID in a cell of its own, as a record of a CSV log does (and a JSON
 * line never: its WatchID is in quotes, inside an object). */
static bool
is_csv_start (const char *line, size_t len, char delimiter)
{
   mwatch_cli_csv_row_t row = {0};
   size_t pos = 0;
   mwatch_cli_csv_record (line, len, &pos, delimiter, &row);
   bool yes = false;
   for (size_t i = 0; row.count > 1 && i < row.count && !yes; i++) {
      yes = strcmp (row.cells[i].data, "WatchID") == 0 ||
            mwatch_cli_looks_like_watch_id (row.cells[i].data);
   }
   mwatch_cli_csv_row_destroy (&row);
   return yes;
}

/* ---------------------------------------------------------------- JSON lines */

static void
jsonl_file (table_t *t, const char *file, const char *text, size_t len)
{
   size_t number = 0, records = 0, skipped = t->skipped;
   for (size_t start = 0; start < len;) {
      const char *nl = memchr (text + start, '\n', len - start);
      size_t end = nl ? (size_t) (nl - text) + 1 : len;
      const char *line = text + start;
      mwatch_cli_record_t record;
      char why[256];
      number++;
      switch (mwatch_cli_jsonl_record (line, end - start, &record, why, sizeof why)) {
      case MWATCH_CLI_LINE_RECORD:
         records++;
         offer (t, record.watch_id, record.iteration, record.final, line, end - start);
         bson_free (record.watch_id);
         break;
      case MWATCH_CLI_LINE_BAD:
         if (records == 0 && t->skipped == skipped && is_csv_start (line, end - start, ',')) {
            mwatch_cli_error ("aggregate: %s:%zu: not JSON lines but CSV (a WatchID column): "
                              "read it with --format csv",
                              file,
                              number);
            t->failed++;
            return;
         }
         skip (t, file, number, why);
         break;
      case MWATCH_CLI_LINE_BLANK:
         break;
      }
      start = end;
   }
   if (records == 0 && number > 0 && t->skipped == skipped) {
      mwatch_cli_error ("aggregate: %s: no record in it", file);
      t->failed++;
   } else if (number == 0) {
      mwatch_cli_error ("aggregate: %s: no record in it (the file is empty)", file);
      t->failed++;
   }
}

/* ---------------------------------------------------------------- CSV */

static const char *
cell (const mwatch_cli_csv_row_t *row, long index)
{
   return row && index >= 0 && (size_t) index < row->count ? row->cells[index].data : NULL;
}

static long
column (const mwatch_cli_csv_row_t *header, const char *name)
{
   for (size_t i = 0; header && i < header->count; i++) {
      if (strcmp (header->cells[i].data, name) == 0) {
         return (long) i;
      }
   }
   return -1;
}

/* The columns of a CSV file, from its first record and the options. */
typedef struct {
   long id, iteration, state, end;
   bool header; /* the first record names the columns */
} columns_t;

static bool
columns_of (const options_t *o,
            const mwatch_cli_csv_row_t *first,
            const char *file,
            size_t line,
            columns_t *c)
{
   *c = (columns_t) {.id = -1, .iteration = -1, .state = -1, .end = -1};
   if (o->id_column > 0) {
      c->id = o->id_column - 1;
      const char *name = cell (first, c->id);
      c->header = name && strcmp (name, "WatchID") == 0;
   } else if ((c->id = column (first, "WatchID")) >= 0) {
      c->header = true;
   } else if (first->count > 1 && mwatch_cli_looks_like_watch_id (first->cells[0].data)) {
      /* mongowatch's CSV without a header: its columns as they were before
       * State (WatchID, Iteration, StartTime, EndTime, ...). */
      c->id = 0;
      c->iteration = 1;
      c->end = 3;
   } else {
      long guess = -1;
      for (size_t i = 0; i < first->count && guess < 0; i++) {
         guess = mwatch_cli_looks_like_watch_id (first->cells[i].data) ? (long) i : -1;
      }
      char hint[64] = "";
      if (guess >= 0) {
         snprintf (hint, sizeof hint, " (column %ld holds one: -w %ld)", guess + 1, guess + 1);
      }
      mwatch_cli_error ("aggregate: %s:%zu: no cell of the first line is \"WatchID\" and its "
                        "first cell is no WatchID: give the WatchID column's number "
                        "with -w N%s",
                        file,
                        line,
                        hint);
      return false;
   }
   if (c->header) {
      c->iteration = column (first, "Iteration");
      c->state = column (first, "State");
   }
   if (o->iteration_column > 0) {
      c->iteration = o->iteration_column - 1;
   }
   return true;
}

/* How a column is named in a message: its number, and its header cell. */
static void
column_name (char *out, size_t size, long index, const mwatch_cli_csv_row_t *header)
{
   const char *name = cell (header, index);
   if (name) {
      snprintf (out, size, "column %ld (\"%s\")", index + 1, name);
   } else {
      snprintf (out, size, "column %ld", index + 1);
   }
}

static void
csv_file (table_t *t, const options_t *o, const char *file, const char *text, size_t len)
{
   mwatch_cli_csv_row_t row = {0};
   mwatch_cli_csv_row_t header = {0};
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   columns_t c = {0};
   size_t records = 0, number = 0, skipped = t->skipped;
   size_t line = 1, next_line = 1; /* where the record starts: quoted cells may span lines */
   char why[512], where[256];
   for (size_t pos = 0; pos < len;) {
      size_t start = pos;
      mwatch_cli_csv_record (text, len, &pos, o->delimiter, &row);
      line = next_line;
      for (size_t i = start; i < pos; i++) {
         next_line += text[i] == '\n';
      }
      if (row.count == 1 && row.cells[0].len == 0) {
         continue; /* an empty line */
      }
      if (number++ == 0) {
         if (records == 0 && is_jsonl_record (text + start, pos - start)) {
            mwatch_cli_error ("aggregate: %s:%zu: not CSV but JSON lines: read it with "
                              "--format jsonl",
                              file,
                              line);
            t->failed++;
            goto done;
         }
         if (!columns_of (o, &row, file, line, &c)) {
            t->failed++;
            goto done;
         }
         if (c.header) {
            if (!t->header) {
               mwatch_buf_t h = MWATCH_BUF_INITIALIZER;
               mwatch_buf_append_str (&h, "");
               mwatch_cli_csv_write (&h, &row, o->delimiter, o->line_end);
               t->header = h.data;
            }
            header = row;
            row = (mwatch_cli_csv_row_t) {0};
            continue;
         }
      }
      const char *watch_id = cell (&row, c.id);
      if (!watch_id || !*watch_id) {
         column_name (where, sizeof where, c.id, c.header ? &header : NULL);
         snprintf (why, sizeof why, "no WatchID (%s is empty or missing)", where);
         skip (t, file, line, why);
         continue;
      }
      if (!mwatch_cli_looks_like_watch_id (watch_id)) {
         column_name (where, sizeof where, c.id, c.header ? &header : NULL);
         if (records == 0) {
            /* The first record already says the column is another one:
             * one message, not one per line. */
            mwatch_cli_error ("aggregate: %s:%zu: %s holds \"%.40s\", which is no WatchID (24 "
                              "hexadecimal digits): give the WatchID column's number with "
                              "-w N (1 for the first column)",
                              file,
                              line,
                              where,
                              watch_id);
            t->failed++;
            goto done;
         }
         snprintf (why, sizeof why, "%s holds \"%.40s\", which is no WatchID", where, watch_id);
         skip (t, file, line, why);
         continue;
      }
      const char *iteration_text = cell (&row, c.iteration);
      if (c.iteration >= 0 && !iteration_text) {
         column_name (where, sizeof where, c.iteration, c.header ? &header : NULL);
         snprintf (why, sizeof why, "no Iteration (the record has no %s)", where);
         skip (t, file, line, why);
         continue;
      }
      const char *end = cell (&row, c.end);
      int64_t iteration;
      bool final;
      mwatch_cli_classify (cell (&row, c.state), iteration_text, end && *end, &iteration, &final);
      records++;
      out.len = 0;
      mwatch_buf_append_str (&out, "");
      mwatch_cli_csv_write (&out, &row, o->delimiter, o->line_end);
      offer (t, watch_id, iteration, final, out.data, out.len);
   }
   if (records == 0 && t->skipped == skipped) {
      mwatch_cli_error ("aggregate: %s: no record in it%s",
                        file,
                        number == 0 ? " (the file is empty)" : " (only a header)");
      t->failed++;
   }
done:
   mwatch_buf_destroy (&out);
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

/* The format of one file: the one asked for, else by its name, else by its
 * first line (CSV when it names a WatchID column or has a WatchID in a
 * cell of its own). */
static format_t
format_of (const options_t *o, const char *name, const char *text, size_t len)
{
   if (o->format != FORMAT_AUTO) {
      return o->format;
   }
   if (o->csv_options || ends_with (name, ".csv")) {
      return FORMAT_CSV;
   }
   if (ends_with (name, ".jsonl") || ends_with (name, ".json")) {
      return FORMAT_JSONL;
   }
   size_t number, line_len;
   const char *line = first_line (text, len, &number, &line_len);
   return line && is_csv_start (line, line_len, o->delimiter) ? FORMAT_CSV : FORMAT_JSONL;
}

static int
by_seq (const void *a, const void *b)
{
   size_t x = ((const kept_t *) a)->seq, y = ((const kept_t *) b)->seq;
   return x < y ? -1 : x > y;
}

/* Writes the kept records, in the order they stand in the logs. */
static bool
write_table (table_t *t, FILE *fp)
{
   qsort (t->items, t->count, sizeof *t->items, by_seq);
   if (t->header) {
      fputs (t->header, fp);
   }
   for (size_t k = 0; k < t->count; k++) {
      fputs (t->items[k].text, fp);
      size_t n = strlen (t->items[k].text);
      if (n == 0 || t->items[k].text[n - 1] != '\n') {
         fputc ('\n', fp);
      }
   }
   return fflush (fp) == 0 && !ferror (fp);
}

static void
read_file (table_t *t, const options_t *o, const char *path)
{
   bool is_stdin = strcmp (path, "-") == 0;
   FILE *fp = is_stdin ? stdin : fopen (path, "rb");
   if (!fp) {
      mwatch_cli_error ("aggregate: cannot open %s: %s", path, strerror (errno));
      t->failed++;
      return;
   }
   size_t len;
   char *text = read_all (fp, &len);
   if (!is_stdin) {
      fclose (fp);
   }
   const char *name = is_stdin ? "<stdin>" : path;
   if (format_of (o, name, text, len) == FORMAT_CSV) {
      csv_file (t, o, name, text, len);
   } else {
      jsonl_file (t, name, text, len);
   }
   bson_free (text);
}

/* -i: the file aggregated into a temporary file beside it, which then
 * replaces it (with the file's permissions); a file with a record that
 * could not be read is left as it was. */
static bool
aggregate_in_place (const options_t *o, const char *path)
{
   table_t t = {0};
   read_file (&t, o, path);
   bool ok = !t.skipped && !t.failed;
   if (!ok) {
      mwatch_cli_error ("aggregate: %s is left as it was (-i/--in-place)", path);
   }
   char *tmp = bson_strdup_printf ("%s.XXXXXX", path);
   int fd = ok ? mkstemp (tmp) : -1;
   if (ok && fd < 0) {
      mwatch_cli_error ("aggregate: cannot make %s: %s", tmp, strerror (errno));
      ok = false;
   }
   if (fd >= 0) {
      struct stat st;
      FILE *fp = fdopen (fd, "wb");
      ok = fp && stat (path, &st) == 0 && fchmod (fd, st.st_mode & 07777) == 0 &&
           write_table (&t, fp);
      ok = (fp ? fclose (fp) == 0 : close (fd) == 0) && ok;
      ok = ok && rename (tmp, path) == 0;
      if (!ok) {
         mwatch_cli_error ("aggregate: cannot write %s: %s", path, strerror (errno));
         unlink (tmp);
      }
   }
   bson_free (tmp);
   table_destroy (&t);
   return ok;
}

/* An option's value: "-w 3", "-w3", "--watch-id-column 3",
 * "--watch-id-column=3".  NULL when argv[*i] is not this option. */
static const char *
value_of (int argc, char **argv, int *i, const char *short_name, const char *long_name, bool *missing)
{
   const char *arg = argv[*i];
   size_t s = strlen (short_name), l = strlen (long_name);
   const char *rest = NULL;
   if (strncmp (arg, long_name, l) == 0 && (arg[l] == '\0' || arg[l] == '=')) {
      rest = arg + l;
   } else if (short_name[0] && strncmp (arg, short_name, s) == 0) {
      rest = arg + s;
   } else {
      return NULL;
   }
   if (*rest == '=' && rest != arg + s) {
      return rest + 1;
   }
   if (*rest) {
      return rest;
   }
   if (*i + 1 >= argc) {
      *missing = true;
      return NULL;
   }
   return argv[++*i];
}

static bool
column_number (const char *option, const char *text, long *out)
{
   int64_t n;
   if (!mwatch_cli_python_int (text, &n) || n > 1000000 || n < -1000000) {
      mwatch_cli_error ("aggregate: %s: \"%s\" is not a column number (1 for the first column)",
                        option,
                        text);
      return false;
   }
   *out = (long) n;
   return true;
}

int
mwatch_cli_aggregate (int argc, char **argv)
{
   options_t o = {.delimiter = ',', .line_end = "\n"};
   char **files = bson_malloc0 ((size_t) (argc + 2) * sizeof *files);
   int file_count = 0;
   int status = 0;
   bool options_done = false;
   for (int i = 0; i < argc && status == 0; i++) {
      const char *arg = argv[i];
      const char *value;
      bool missing = false;
      if (options_done || arg[0] != '-' || arg[1] == '\0') {
         files[file_count++] = argv[i];
      } else if (strcmp (arg, "--") == 0) {
         options_done = true;
      } else if (strcmp (arg, "-h") == 0 || strcmp (arg, "--help") == 0) {
         printf ("%s\n", usage);
         bson_free (files);
         return 0;
      } else if (strcmp (arg, "-i") == 0 || strcmp (arg, "--in-place") == 0) {
         o.in_place = o.csv_options = true;
      } else if ((value = value_of (argc, argv, &i, "", "--format", &missing))) {
         if (strcmp (value, "csv") == 0) {
            o.format = FORMAT_CSV;
         } else if (strcmp (value, "jsonl") == 0) {
            o.format = FORMAT_JSONL;
         } else {
            mwatch_cli_error ("aggregate: unknown format \"%s\"; use csv or jsonl", value);
            status = 2;
         }
      } else if ((value = value_of (argc, argv, &i, "-o", "--output", &missing))) {
         o.output = strcmp (value, "-") == 0 ? NULL : value;
      } else if ((value = value_of (argc, argv, &i, "-d", "--dialect", &missing))) {
         o.csv_options = true;
         if (strcmp (value, "unix") == 0) {
            o.delimiter = ',', o.line_end = "\n";
         } else if (strcmp (value, "excel") == 0) {
            o.delimiter = ',', o.line_end = "\r\n";
         } else if (strcmp (value, "excel-tab") == 0) {
            o.delimiter = '\t', o.line_end = "\r\n";
         } else {
            mwatch_cli_error ("aggregate: -d/--dialect: unknown dialect \"%s\"; use excel, "
                              "excel-tab or unix",
                              value);
            status = 2;
         }
      } else if ((value = value_of (argc, argv, &i, "-w", "--watch-id-column", &missing))) {
         o.csv_options = true;
         status = column_number ("-w/--watch-id-column", value, &o.id_column) ? 0 : 2;
      } else if ((value = value_of (argc, argv, &i, "-t", "--iteration-column", &missing))) {
         o.csv_options = true;
         status = column_number ("-t/--iteration-column", value, &o.iteration_column) ? 0 : 2;
      } else if (missing) {
         mwatch_cli_error ("aggregate: %s needs a value; %s", arg, usage);
         status = 2;
      } else {
         mwatch_cli_error ("aggregate: unknown option \"%s\"; %s", arg, usage);
         status = 2;
      }
   }
   if (status == 0 && o.format == FORMAT_JSONL && o.csv_options) {
      mwatch_cli_error ("aggregate: -i, -d, -w and -t are options of CSV logs (pymongowatch-csv's); "
                        "not with --format jsonl");
      status = 2;
   }
   if (status == 0 && o.in_place && o.output) {
      mwatch_cli_error ("aggregate: -i/--in-place writes each file over itself: not with -o");
      status = 2;
   }
   if (file_count == 0) {
      files[file_count++] = "-";
   }
   if (status != 0) {
      bson_free (files);
      return status;
   }

   if (o.in_place) {
      for (int f = 0; f < file_count; f++) {
         if (strcmp (files[f], "-") == 0) {
            mwatch_cli_error ("aggregate: -i/--in-place cannot write standard input");
            status = 1;
         } else if (!aggregate_in_place (&o, files[f])) {
            status = 1;
         }
      }
      bson_free (files);
      return status;
   }

   table_t t = {0};
   for (int f = 0; f < file_count; f++) {
      read_file (&t, &o, files[f]);
   }
   FILE *out = o.output ? fopen (o.output, "wb") : stdout;
   if (!out) {
      mwatch_cli_error ("aggregate: cannot open %s: %s", o.output, strerror (errno));
      status = 1;
   } else {
      if (!write_table (&t, out)) {
         mwatch_cli_error ("aggregate: cannot write %s: %s",
                           o.output ? o.output : "the output",
                           strerror (errno));
         status = 1;
      }
      if (o.output && fclose (out) != 0) {
         status = 1;
      }
   }
   if (t.skipped) {
      mwatch_cli_error ("aggregate: %zu line%s could not be read and %s not in the output",
                        t.skipped,
                        t.skipped == 1 ? "" : "s",
                        t.skipped == 1 ? "is" : "are");
      status = 1;
   }
   if (t.failed) {
      status = 1;
   }
   table_destroy (&t);
   bson_free (files);
   return status;
}
