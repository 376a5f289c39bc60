/* One record of an audit log as `mongowatch aggregate` reads it.
 *
 * A JSON line is read as the plain JSON it is, with jansson, and only its
 * top-level WatchID, Iteration, State and EndTime are looked at: whatever
 * the other fields hold — values that look like extended JSON
 * ({"$oid": 1}, {"$date": "zzz"}), deep nesting, "\u0000" in strings — the
 * record is read, so that the content of a query cannot hide the query
 * from the aggregated audit.  (libbson's extended-JSON reader, used here
 * before, refused all three.)  CSV records are split as RFC 4180 says. */
#include "aggregate.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
mwatch_cli_python_int (const char *text, int64_t *value)
{
   const char *p = text;
   while (*p && strchr (" \t\n\r\f\v", *p)) {
      p++;
   }
   bool negative = *p == '-';
   if (*p == '-' || *p == '+') {
      p++;
   }
   if (!(*p >= '0' && *p <= '9')) {
      return false;
   }
   uint64_t n = 0;
   bool over = false;
   for (; (*p >= '0' && *p <= '9') || (*p == '_' && p[1] >= '0' && p[1] <= '9'); p++) {
      if (*p == '_') {
         continue;
      }
      over = over || n > (UINT64_MAX - 9) / 10;
      n = over ? n : n * 10 + (uint64_t) (*p - '0');
   }
   while (*p && strchr (" \t\n\r\f\v", *p)) {
      p++;
   }
   if (*p) {
      return false;
   }
   /* Out of int64's range: the nearest end (an order of iterations that
    * large is kept). */
   if (over || n > (uint64_t) INT64_MAX) {
      *value = negative ? INT64_MIN : INT64_MAX;
   } else {
      *value = negative ? -(int64_t) n : (int64_t) n;
   }
   return true;
}

void
mwatch_cli_classify (const char *state,
                     const char *iteration_text,
                     bool has_end,
                     int64_t *iteration,
                     bool *final)
{
   bool is_number = false;
   *iteration = 0;
   if (iteration_text) {
      is_number = mwatch_cli_python_int (iteration_text, iteration);
      if (!is_number && strncmp (iteration_text, "final(", 6) == 0) {
         *iteration = strtoll (iteration_text + 6, NULL, 10);
      }
   }
   if (state && *state) {
      *final = strcmp (state, "final") == 0;
   } else {
      /* pymongowatch finalizes a record by making its Iteration a string
       * ("final", "final(N)"): any Iteration that is not a number is a
       * final one, as pymongowatch-csv reads it. */
      *final = (iteration_text && !is_number) || has_end;
   }
}

bool
mwatch_cli_looks_like_watch_id (const char *text)
{
   size_t n = 0;
   for (; text[n]; n++) {
      if (!strchr ("0123456789abcdefABCDEF", text[n])) {
         return false;
      }
   }
   return n == 24;
}

static mwatch_cli_line_t
bad (char *why, size_t why_size, const char *format, ...) BSON_GNUC_PRINTF (3, 4);

static mwatch_cli_line_t
bad (char *why, size_t why_size, const char *format, ...)
{
   va_list args;
   va_start (args, format);
   vsnprintf (why, why_size, format, args);
   va_end (args);
   return MWATCH_CLI_LINE_BAD;
}

/* The Iteration as classify wants it: its text, or a number's digits (a
 * fraction cut off; out of int64's range, the nearest end). */
static const char *
iteration_text (const json_t *value, char *digits, size_t size)
{
   if (json_is_string (value)) {
      return json_string_value (value);
   }
   int64_t n = 0;
   if (json_is_integer (value)) {
      n = (int64_t) json_integer_value (value);
   } else if (json_is_real (value)) {
      double d = json_real_value (value);
      /* jansson refuses non-finite numbers; the range check keeps the
       * conversion defined. */
      n = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t) d;
   } else {
      return NULL;
   }
   snprintf (digits, size, "%" PRId64, n);
   return digits;
}

mwatch_cli_line_t
mwatch_cli_jsonl_record (const char *line,
                         size_t len,
                         mwatch_cli_record_t *record,
                         char *why,
                         size_t why_size)
{
   const char *json = memchr (line, '{', len);
   if (!json) {
      size_t blank = 0;
      while (blank < len && line[blank] && strchr (" \t\r\n", line[blank])) {
         blank++;
      }
      return blank == len ? MWATCH_CLI_LINE_BLANK
                          : bad (why, why_size, "no JSON object on the line");
   }
   size_t json_len = len - (size_t) (json - line);
   while (json_len && (json[json_len - 1] == '\n' || json[json_len - 1] == '\r')) {
      json_len--;
   }
   json_error_t error;
   /* JSON_ALLOW_NUL: a string may hold "\u0000" (mongowatch writes what
    * the application sent). */
   json_t *doc = json_loadb (json, json_len, JSON_ALLOW_NUL, &error);
   if (!doc) {
      return bad (why,
                  why_size,
                  "not a JSON object at column %zu: %s",
                  (size_t) (json - line) + (size_t) (error.position > 0 ? error.position : 0) + 1,
                  error.text);
   }
   const json_t *watch_id = json_object_get (doc, "WatchID");
   if (!json_is_object (doc) || !json_is_string (watch_id)) {
      json_decref (doc);
      return bad (why, why_size, "not a JSON object with a WatchID string");
   }
   char digits[32];
   const json_t *state = json_object_get (doc, "State");
   const json_t *end = json_object_get (doc, "EndTime");
   record->watch_id = bson_strdup (json_string_value (watch_id));
   mwatch_cli_classify (json_is_string (state) ? json_string_value (state) : NULL,
                        iteration_text (json_object_get (doc, "Iteration"), digits, sizeof digits),
                        end && !json_is_null (end),
                        &record->iteration,
                        &record->final);
   json_decref (doc);
   return MWATCH_CLI_LINE_RECORD;
}

/* ---------------------------------------------------------------- CSV */

void
mwatch_cli_csv_record (
   const char *text, size_t len, size_t *pos, char delimiter, mwatch_cli_csv_row_t *row)
{
   for (size_t i = 0; i < row->count; i++) {
      mwatch_buf_destroy (&row->cells[i]);
   }
   row->count = 0;
   size_t p = *pos;
   for (;;) {
      if (row->count == row->capacity) {
         row->capacity = row->capacity ? row->capacity * 2 : 16;
         row->cells = bson_realloc (row->cells, row->capacity * sizeof *row->cells);
      }
      mwatch_buf_t *cell = &row->cells[row->count++];
      *cell = (mwatch_buf_t) MWATCH_BUF_INITIALIZER;
      mwatch_buf_append_str (cell, "");
      if (p < len && text[p] == '"') {
         for (p++; p < len; p++) {
            if (text[p] == '"') {
               if (p + 1 < len && text[p + 1] == '"') {
                  mwatch_buf_append (cell, "\"", 1);
                  p++;
               } else {
                  p++;
                  break;
               }
            } else {
               mwatch_buf_append (cell, &text[p], 1);
            }
         }
      }
      while (p < len && text[p] != delimiter && text[p] != '\n' && text[p] != '\r') {
         mwatch_buf_append (cell, &text[p++], 1);
      }
      if (p < len && text[p] == delimiter) {
         p++;
         continue;
      }
      if (p < len && text[p] == '\r') {
         p++;
      }
      if (p < len && text[p] == '\n') {
         p++;
      }
      break;
   }
   *pos = p;
}

void
mwatch_cli_csv_write (mwatch_buf_t *out,
                      const mwatch_cli_csv_row_t *row,
                      char delimiter,
                      const char *line_end)
{
   for (size_t i = 0; i < row->count; i++) {
      const mwatch_buf_t *cell = &row->cells[i];
      if (i) {
         mwatch_buf_append (out, &delimiter, 1);
      }
      bool quote = row->count == 1 && cell->len == 0; /* else: a blank line */
      for (size_t c = 0; c < cell->len && !quote; c++) {
         quote = cell->data[c] == delimiter || cell->data[c] == '"' ||
                 (cell->data[c] && strchr (line_end, cell->data[c]));
      }
      if (!quote) {
         mwatch_buf_append (out, cell->data, cell->len);
         continue;
      }
      mwatch_buf_append (out, "\"", 1);
      for (size_t c = 0; c < cell->len; c++) {
         mwatch_buf_append (out, &cell->data[c], 1);
         if (cell->data[c] == '"') {
            mwatch_buf_append (out, "\"", 1);
         }
      }
      mwatch_buf_append (out, "\"", 1);
   }
   mwatch_buf_append_str (out, line_end);
}

void
mwatch_cli_csv_row_destroy (mwatch_cli_csv_row_t *row)
{
   for (size_t i = 0; i < row->count; i++) {
      mwatch_buf_destroy (&row->cells[i]);
   }
   bson_free (row->cells);
   *row = (mwatch_cli_csv_row_t) {0};
}
