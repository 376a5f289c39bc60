/* Formatters: a `{`-style template compiled once into a list of pieces,
 * literal text or a field with its spec, so that formatting a record is
 * one pass over the pieces with no parsing and no allocation beyond the
 * output buffer's growth.  Immutable once compiled, so any number of
 * threads may format with one formatter at once. */
#include "formatter-private.h"
#include "json-private.h"
#include "message-render-private.h"
#include "refcount-private.h"
#include "suggest-private.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef enum {
   PIECE_LITERAL,
   PIECE_ASCTIME,
   PIECE_CREATED,
   PIECE_LEVELNAME,
   PIECE_LEVELNO,
   PIECE_MESSAGE,
   PIECE_NAME,
   PIECE_PROCESS,
   PIECE_THREAD,
   PIECE_WATCH,
   PIECE_WATCH_FULL,
   PIECE_WATCH_CSV,
   PIECE_WATCH_JSON,
   PIECE_WATCH_PATH, /* {watch.F...} */
} piece_kind_t;

/* In the order the "known:" list of an error shows them. */
static const struct {
   const char *name;
   piece_kind_t kind;
   mwatch_fmt_class_t cls;
} known_fields[] = {
   {"asctime", PIECE_ASCTIME, MWATCH_FMT_TEXT},
   {"created", PIECE_CREATED, MWATCH_FMT_FLOAT},
   {"levelname", PIECE_LEVELNAME, MWATCH_FMT_TEXT},
   {"levelno", PIECE_LEVELNO, MWATCH_FMT_INT},
   {"message", PIECE_MESSAGE, MWATCH_FMT_TEXT},
   {"name", PIECE_NAME, MWATCH_FMT_TEXT},
   {"process", PIECE_PROCESS, MWATCH_FMT_INT},
   {"thread", PIECE_THREAD, MWATCH_FMT_INT},
   {"watch", PIECE_WATCH, MWATCH_FMT_TEXT},
   {"watch.full", PIECE_WATCH_FULL, MWATCH_FMT_TEXT},
   {"watch.csv", PIECE_WATCH_CSV, MWATCH_FMT_TEXT},
   {"watch.json", PIECE_WATCH_JSON, MWATCH_FMT_TEXT},
};

#define WATCH_PREFIX "watch."
#define SPEC_GRAMMAR \
   "a spec is [[fill]align][sign][0][width][.precision][type], align one of " \
   "< > ^, type one of d f F e E g G % s"

typedef struct {
   piece_kind_t kind;
   char *text; /* PIECE_LITERAL: the text; PIECE_WATCH_PATH: the path */
   size_t len;
   size_t col; /* PIECE_WATCH_PATH: the column of its "{", for errors */
   bool has_spec;
   mwatch_fmt_spec_t spec;
} piece_t;

struct _mwatch_formatter_t {
   atomic_int refs;
   piece_t *pieces;
   size_t n_pieces;
   size_t cap_pieces;
   mwatch_datefmt_t datefmt;
   char **columns; /* {watch.csv}'s; NULL: mwatch_csv_columns */
   bool csv_escape_newlines;
   char *format;   /* the template, for errors found after compiling */
};

/* ---------------------------------------------------------------- errors */

/* 1-based, in characters, as an editor counts columns. */
static size_t
column (const char *format, size_t offset)
{
   return 1 + _mwatch_fmt_count_chars (format, offset);
}

/* How many bytes of `text` to quote in a message: at most `max`, cut
 * between characters, so that a long template leaves room for the rest. */
static int
quote_len (const char *text, size_t len, size_t max)
{
   if (len <= max) {
      return (int) len;
   }
   while (max > 0 && ((uint8_t) text[max] & 0xC0) == 0x80) {
      max--;
   }
   return (int) max;
}

static void
set_error (bson_error_t *error, const char *format, const char *what, ...)
   BSON_GNUC_PRINTF (3, 4);

static void
set_error (bson_error_t *error, const char *format, const char *what, ...)
{
   char text[sizeof error->message];
   va_list args;
   size_t len = strlen (format);
   int shown = quote_len (format, len, 60);

   va_start (args, what);
   vsnprintf (text, sizeof text, what, args);
   va_end (args);
   bson_set_error (error,
                   MWATCH_ERROR_DOMAIN,
                   MWATCH_ERROR_INVALID_ARGUMENT,
                   "format \"%.*s%s\": %s",
                   shown,
                   format,
                   (size_t) shown < len ? "..." : "",
                   text);
}

static void
unknown_field_error (
   bson_error_t *error, const char *format, const char *name, size_t len, size_t col)
{
   char known[256] = "";
   char hint[80] = "";
   mwatch_suggest_t suggest;

   _mwatch_suggest_init (&suggest, name, len);
   for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++) {
      strcat (known, known_fields[i].name);
      strcat (known, ", ");
      _mwatch_suggest_consider (&suggest, known_fields[i].name);
   }
   if (_mwatch_suggest_best (&suggest)) {
      bson_snprintf (hint, sizeof hint, "did you mean \"%s\"? ", _mwatch_suggest_best (&suggest));
   }
   set_error (error,
              format,
              "unknown field \"%.*s\" at column %zu; %sknown: %swatch.<field>[.<key>...]",
              quote_len (name, len, 40),
              name,
              col,
              hint,
              known);
}

/* ---------------------------------------------------------------- compiling */

static void
add_piece (mwatch_formatter_t *formatter, const piece_t *piece)
{
   if (formatter->n_pieces == formatter->cap_pieces) {
      formatter->cap_pieces = formatter->cap_pieces ? 2 * formatter->cap_pieces : 8;
      formatter->pieces =
         bson_realloc (formatter->pieces, formatter->cap_pieces * sizeof *formatter->pieces);
   }
   formatter->pieces[formatter->n_pieces++] = *piece;
}

/* A literal shorter than this (" ", " - ", the usual) is copied into a
 * line in one fixed-size move from its storage, which has zeros after the
 * text up to that size: no memcpy call, and the zeros end the line. */
#define LITERAL_MOVE 16

/* Turns the literal text gathered so far into a piece, taking its storage
 * (with zeros after it up to LITERAL_MOVE bytes). */
static void
flush_literal (mwatch_formatter_t *formatter, mwatch_buf_t *literal)
{
   if (literal->len > 0) {
      size_t len = literal->len;
      if (len < LITERAL_MOVE) {
         char *text = bson_malloc0 (LITERAL_MOVE);
         memcpy (text, literal->data, len);
         mwatch_buf_destroy (literal);
         literal->data = text;
      }
      piece_t piece = {.kind = PIECE_LITERAL, .text = literal->data, .len = len};
      add_piece (formatter, &piece);
      mwatch_buf_init (literal);
   }
}

/* The end of compiling: the text left becomes a piece, unless compiling
 * `stopped` at an error. */
static bool
end_compile (mwatch_formatter_t *formatter, mwatch_buf_t *literal, bool stopped)
{
   if (stopped) {
      mwatch_buf_destroy (literal);
      return false;
   }
   flush_literal (formatter, literal);
   return true;
}

/* "Filter.user.name": no empty key anywhere. */
static bool
path_is_valid (const char *path, size_t len)
{
   if (len == 0 || path[0] == '.' || path[len - 1] == '.') {
      return false;
   }
   for (size_t i = 1; i < len; i++) {
      if (path[i] == '.' && path[i - 1] == '.') {
         return false;
      }
   }
   return true;
}

/* Finds what `name` names; false (with the error set) when nothing. */
static bool
resolve_name (piece_t *piece,
              mwatch_fmt_class_t *cls,
              const char *format,
              const char *name,
              size_t len,
              size_t col,
              bson_error_t *error)
{
   const size_t prefix = sizeof WATCH_PREFIX - 1;

   for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++) {
      if (strlen (known_fields[i].name) == len && memcmp (known_fields[i].name, name, len) == 0) {
         piece->kind = known_fields[i].kind;
         *cls = known_fields[i].cls;
         return true;
      }
   }
   if (len < prefix || memcmp (name, WATCH_PREFIX, prefix) != 0) {
      unknown_field_error (error, format, name, len, col);
      return false;
   }
   if (!path_is_valid (name + prefix, len - prefix)) {
      set_error (error,
                 format,
                 "empty key in field \"%.*s\" at column %zu; write {watch.Field} or "
                 "{watch.Field.key}",
                 quote_len (name, len, 40),
                 name,
                 col);
      return false;
   }
   piece->kind = PIECE_WATCH_PATH;
   piece->text = bson_strndup (name + prefix, len - prefix);
   piece->len = len - prefix;
   piece->col = col;
   *cls = MWATCH_FMT_ANY;
   return true;
}

/* A column found by counting on from the last one found, so that a
 * template's fields cost one pass over it in all: counting from its start
 * for each field made compiling quadratic in their number (100,000
 * fields took 23 s). */
typedef struct {
   size_t offset;
   size_t col; /* column (format, offset) */
} column_cursor_t;

static size_t
column_at (column_cursor_t *cursor, const char *format, size_t offset)
{
   cursor->col += _mwatch_fmt_count_chars (format + cursor->offset, offset - cursor->offset);
   cursor->offset = offset;
   return cursor->col;
}

/* Adds the field `name` (`name_len` bytes) with the {-style spec `spec`
 * (`spec_len` bytes, 0 for none), `col` the column where it was written.
 * False with `error` set for an unknown name, or with `why` set (and
 * `error` left to the caller, who knows how the spec was written) for a
 * bad spec. */
static bool
add_field (mwatch_formatter_t *formatter,
           const char *format,
           const char *name,
           size_t name_len,
           const char *spec,
           size_t spec_len,
           size_t col,
           char *why,
           size_t why_size,
           bson_error_t *error)
{
   piece_t piece = {.kind = PIECE_LITERAL};
   mwatch_fmt_class_t cls;

   if (!resolve_name (&piece, &cls, format, name, name_len, col, error)) {
      return false;
   }
   if (spec_len > 0) {
      if (!_mwatch_fmt_spec_parse (spec, spec_len, cls, &piece.spec, why, why_size)) {
         bson_free (piece.text);
         return false;
      }
      piece.has_spec = true;
   }
   add_piece (formatter, &piece);
   return true;
}

/* The field between the braces at `open` and `close`, `col` the column of
 * `open`. */
static bool
compile_field (mwatch_formatter_t *formatter,
               const char *format,
               size_t open,
               size_t close,
               size_t col,
               bson_error_t *error)
{
   const char *field = format + open + 1;
   size_t field_len = close - open - 1;
   const char *colon = memchr (field, ':', field_len);
   size_t name_len = colon ? (size_t) (colon - field) : field_len;
   char why[200];

   if (name_len == 0) {
      set_error (error,
                 format,
                 "%s at column %zu; name a field, as in {name}, or write \"{{\" and \"}}\" "
                 "for literal braces",
                 field_len == 0 ? "empty field \"{}\"" : "field with no name",
                 col);
      return false;
   }
   const char *spec = colon ? colon + 1 : "";
   size_t spec_len = colon ? field_len - name_len - 1 : 0;
   why[0] = '\0';
   if (!add_field (formatter, format, field, name_len, spec, spec_len, col, why, sizeof why, error)) {
      if (why[0]) {
         set_error (error,
                    format,
                    "bad format spec \"%.*s\" for field \"%.*s\" at column %zu: %s; %s",
                    quote_len (spec, spec_len, 40),
                    spec,
                    quote_len (field, name_len, 40),
                    field,
                    col,
                    why,
                    SPEC_GRAMMAR);
      }
      return false;
   }
   return true;
}

static bool
compile_brace (mwatch_formatter_t *formatter, const char *format, bson_error_t *error)
{
   mwatch_buf_t literal = MWATCH_BUF_INITIALIZER;
   column_cursor_t cursor = {.offset = 0, .col = 1};
   size_t i = 0;

   while (format[i]) {
      char c = format[i];
      if ((c == '{' || c == '}') && format[i + 1] == c) {
         mwatch_buf_append (&literal, &c, 1);
         i += 2;
      } else if (c == '}') {
         set_error (error,
                    format,
                    "single \"}\" at column %zu; write \"}}\" for a literal brace",
                    column (format, i));
         break;
      } else if (c != '{') {
         size_t run = strcspn (format + i, "{}");
         /* Ill-formed UTF-8 in the template becomes U+FFFD once, here,
          * so that every line is valid UTF-8. */
         _mwatch_json_raw (&literal, format + i, run);
         i += run;
      } else {
         size_t close = i + 1 + strcspn (format + i + 1, "{}");
         if (format[close] != '}') {
            set_error (error,
                       format,
                       "unclosed \"{\" at column %zu; close the field with \"}\" or write "
                       "\"{{\" for a literal brace",
                       column (format, i));
            break;
         }
         flush_literal (formatter, &literal);
         if (!compile_field (
                formatter, format, i, close, column_at (&cursor, format, i), error)) {
            break;
         }
         i = close + 1;
      }
   }
   return end_compile (formatter, &literal, format[i] != '\0');
}

/* ---------------------------------------------------------------- %- and $-style */

/* Python's other two template styles, compiled into the same pieces as a
 * {-style one, so that formatting does not depend on the style.  As in
 * Python's logging, a field of a %-style template is %(name) followed by
 * a printf conversion, and one of a $-style template is $name or
 * ${name}; "%%" and "$$" stand for "%" and "$". */

/* Reads a %-style conversion after "%(name)" at format[*j] ([flags]
 * [width][.precision]type) into the {-style spec `spec`; false with
 * `why` set when mongowatch cannot do what it asks. */
static bool
percent_conversion (const char *format, size_t *j, char *spec, size_t spec_size, char *why, size_t why_size)
{
   bool left = false, zero = false;
   char sign = '\0';
   for (; format[*j] && strchr ("#0+ -", format[*j]); (*j)++) {
      char flag = format[*j];
      if (flag == '#') {
         bson_snprintf (why, why_size, "the \"#\" flag (alternate form) is not supported");
         return false;
      }
      left = left || flag == '-';
      zero = zero || flag == '0';
      sign = flag == '+' ? '+' : flag == ' ' && sign != '+' ? ' ' : sign;
   }
   size_t width_at = *j;
   while (isdigit ((unsigned char) format[*j])) {
      (*j)++;
   }
   size_t width_len = *j - width_at;
   size_t precision_at = *j;
   if (format[*j] == '.') {
      (*j)++;
      while (isdigit ((unsigned char) format[*j])) {
         (*j)++;
      }
   }
   size_t precision_len = *j - precision_at;
   char type = format[*j];
   if (type == '*') {
      bson_snprintf (why, why_size, "a width or precision \"*\" taken from arguments has no meaning in a log format");
      return false;
   }
   if (type == '\0') {
      bson_snprintf (why, why_size, "the conversion has no type; end it with s, d, f, e or g");
      return false;
   }
   if (!strchr ("sdiufFeEgG", type)) {
      bson_snprintf (why,
                     why_size,
                     "conversion type \"%c\" is not supported; use s (text), d (integer) or f, e, "
                     "g (decimals)",
                     type);
      return false;
   }
   (*j)++;
   /* Python's "%s" writes a number's text as text: no zero padding, and
    * "s" itself is left out, so that the field keeps its own text. */
   bool text = type == 's';
   char spec_type = text ? '\0' : strchr ("diu", type) ? 'd' : type;
   /* %-style right-aligns whatever the type; {-style would left-align text. */
   const char *align = left ? "<" : width_len > 0 && (text || !zero) ? ">" : "";
   bson_snprintf (spec,
                  spec_size,
                  "%s%s%s%.*s%.*s%s",
                  align,
                  sign ? (sign == '+' ? "+" : " ") : "",
                  zero && !left && !text ? "0" : "",
                  (int) width_len,
                  format + width_at,
                  (int) precision_len,
                  format + precision_at,
                  spec_type ? (char[]) {spec_type, '\0'} : "");
   return true;
}

/* Compiles the field at format[at] (a "%" or "$" that is not doubled),
 * `col` its column; sets *next past it.  False with `error` set. */
typedef bool (*marked_field_fn) (mwatch_formatter_t *formatter,
                                 const char *format,
                                 size_t at,
                                 size_t col,
                                 size_t *next,
                                 bson_error_t *error);

/* The loop both styles share: literal text, the mark doubled for itself,
 * and a field wherever the mark stands alone. */
static bool
compile_marked (mwatch_formatter_t *formatter,
                const char *format,
                char mark,
                marked_field_fn field,
                bson_error_t *error)
{
   mwatch_buf_t literal = MWATCH_BUF_INITIALIZER;
   column_cursor_t cursor = {.offset = 0, .col = 1};
   const char marks[2] = {mark, '\0'};
   size_t i = 0;

   while (format[i]) {
      if (format[i] != mark) {
         size_t run = strcspn (format + i, marks);
         _mwatch_json_raw (&literal, format + i, run);
         i += run;
      } else if (format[i + 1] == mark) {
         mwatch_buf_append (&literal, marks, 1);
         i += 2;
      } else {
         /* Flushed first: a field's piece goes after the text before it. */
         flush_literal (formatter, &literal);
         if (!field (formatter, format, i, column_at (&cursor, format, i), &i, error)) {
            break;
         }
      }
   }
   return end_compile (formatter, &literal, format[i] != '\0');
}

/* %(name) and its conversion. */
static bool
percent_field (mwatch_formatter_t *formatter,
               const char *format,
               size_t i,
               size_t col,
               size_t *next,
               bson_error_t *error)
{
   char why[200];
   char spec[64];
   const char *close = format[i + 1] == '(' ? strchr (format + i + 2, ')') : NULL;
   if (!close) {
      set_error (error,
                 format,
                 "%s at column %zu; a field is %%(name)s, and \"%%%%\" a literal percent sign",
                 format[i + 1] == '(' ? "unclosed \"%(\"" : "single \"%\"",
                 col);
      return false;
   }
   const char *name = format + i + 2;
   size_t name_len = (size_t) (close - name);
   size_t j = (size_t) (close - format) + 1;
   why[0] = '\0';
   if (!percent_conversion (format, &j, spec, sizeof spec, why, sizeof why)) {
      set_error (error,
                 format,
                 "bad conversion \"%.*s\" at column %zu: %s",
                 quote_len (format + i, j + 1 - i, 40),
                 format + i,
                 col,
                 why);
      return false;
   }
   if (!add_field (formatter, format, name, name_len, spec, strlen (spec), col, why, sizeof why, error)) {
      if (why[0]) {
         set_error (error,
                    format,
                    "bad conversion \"%.*s\" for field \"%.*s\" at column %zu: %s",
                    quote_len (format + i, j - i, 40),
                    format + i,
                    quote_len (name, name_len, 40),
                    name,
                    col,
                    why);
      }
      return false;
   }
   *next = j;
   return true;
}

/* Python's string.Template names: a letter or "_", then letters, digits
 * and "_". */
static size_t
identifier_len (const char *text)
{
   size_t len = 0;
   if (isalpha ((unsigned char) text[0]) || text[0] == '_') {
      while (isalnum ((unsigned char) text[len]) || text[len] == '_') {
         len++;
      }
   }
   return len;
}

/* $name or ${name}. */
static bool
dollar_field (mwatch_formatter_t *formatter,
              const char *format,
              size_t i,
              size_t col,
              size_t *next,
              bson_error_t *error)
{
   char why[8];
   const char *name = format + i + 1;
   size_t name_len = identifier_len (name);
   size_t after = i + 1 + name_len;
   if (*name == '{') {
      /* ${name}; a dotted ${watch.F} too, which Python's $-style cannot
       * write. */
      name++;
      name_len = strcspn (name, "}");
      after = name[name_len] == '}' ? (size_t) (name - format) + name_len + 1 : 0;
   }
   if (name_len == 0 || after == 0) {
      set_error (error,
                 format,
                 "%s at column %zu; a field is $name or ${name}, and \"$$\" a literal dollar sign",
                 after == 0 ? "unclosed \"${\"" : "single \"$\"",
                 col);
      return false;
   }
   if (!add_field (formatter, format, name, name_len, "", 0, col, why, sizeof why, error)) {
      return false;
   }
   *next = after; /* only now: the loop stops where a field failed */
   return true;
}

char
_mwatch_formatter_infer_style (const char *format)
{
   return format && strstr (format, "%(") && !strchr (format, '{') ? '%' : '{';
}

/* ---------------------------------------------------------------- lifecycle */

static void
formatter_free (mwatch_formatter_t *formatter)
{
   for (size_t i = 0; i < formatter->n_pieces; i++) {
      bson_free (formatter->pieces[i].text);
   }
   bson_free (formatter->pieces);
   bson_strfreev (formatter->columns);
   bson_free (formatter->format);
   _mwatch_datefmt_destroy (&formatter->datefmt);
   bson_free (formatter);
}

mwatch_formatter_t *
mwatch_formatter_new_style (const char *format, const char *datefmt, char style, bson_error_t *error)
{
   if (!format) {
      format = MWATCH_DEFAULT_FORMAT; /* which is {-style, whatever `style` says */
      style = '{';
   }
   style = style ? style : _mwatch_formatter_infer_style (format);
   if (style != '{' && style != '%' && style != '$') {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "unknown template style \"%c\"; use \"{\", \"%%\" or \"$\"",
                      style);
      return NULL;
   }
   mwatch_formatter_t *formatter = bson_malloc0 (sizeof *formatter);

   atomic_init (&formatter->refs, 1);
   formatter->format = bson_strdup (format);
   bool ok = style == '%'   ? compile_marked (formatter, formatter->format, '%', percent_field, error)
             : style == '$' ? compile_marked (formatter, formatter->format, '$', dollar_field, error)
                            : compile_brace (formatter, formatter->format, error);
   if (!ok) {
      formatter_free (formatter);
      return NULL;
   }
   _mwatch_datefmt_init (&formatter->datefmt, datefmt);
   return formatter;
}

mwatch_formatter_t *
mwatch_formatter_new (const char *format, const char *datefmt, bson_error_t *error)
{
   return mwatch_formatter_new_style (format, datefmt, '{', error);
}

mwatch_formatter_t *
mwatch_formatter_ref (mwatch_formatter_t *formatter)
{
   if (formatter) {
      atomic_fetch_add_explicit (&formatter->refs, 1, memory_order_relaxed);
   }
   return formatter;
}

void
mwatch_formatter_destroy (mwatch_formatter_t *formatter)
{
   if (formatter && _mwatch_unref (&formatter->refs)) {
      formatter_free (formatter);
   }
}

/* ---------------------------------------------------------------- formatting */

/* Seconds with exactly six decimals, from the integer microseconds, so
 * that no rounding through a double shows. */
static void
write_created (mwatch_buf_t *out, const mwatch_fmt_spec_t *spec, int64_t created)
{
   size_t start = out->len;
   uint64_t magnitude = created < 0 ? 0 - (uint64_t) created : (uint64_t) created;

   if (spec && (spec->type != '\0' || spec->precision >= 0)) {
      _mwatch_fmt_double (out, spec, (double) created / 1e6);
      return;
   }
   if (created < 0) {
      _mwatch_buf_putc (out, '-');
   }
   _mwatch_json_int64 (out, (int64_t) (magnitude / 1000000));
   _mwatch_buf_putc (out, '.');
   _mwatch_fmt_digits (out, magnitude % 1000000, 6);
   if (spec) {
      _mwatch_fmt_number (out, start, spec);
   }
}

/* {watch.F}: numbers take the whole spec; anything else is written as
 * the key=value rendering writes it, then truncated and padded as text.
 * A missing field is empty text. */
static void
write_path (mwatch_buf_t *out,
            const mwatch_fmt_spec_t *spec,
            const mwatch_message_t *watch,
            const char *path)
{
   size_t start = out->len;
   mwatch_value_t value;

   if (watch && mwatch_message_get (watch, path, &value)) {
      if (value.type == MWATCH_TYPE_INT64) {
         _mwatch_fmt_int64 (out, spec, value.value.v_int64);
         return;
      }
      if (value.type == MWATCH_TYPE_DOUBLE) {
         _mwatch_fmt_double (out, spec, value.value.v_double);
         return;
      }
      _mwatch_render_value_text (out, &value);
   }
   if (spec) {
      _mwatch_fmt_text (out, start, spec);
   }
}

/* {levelno}, {thread} or {process}. */
static int64_t
record_integer (piece_kind_t kind, const mwatch_record_t *record)
{
   if (kind == PIECE_LEVELNO) {
      return record->level;
   }
   return kind == PIECE_THREAD ? record->thread : record->process;
}

/* {watch} and its variants, for a record that has a message. */
static void
write_watch (const mwatch_formatter_t *formatter,
             piece_kind_t kind,
             const mwatch_message_t *watch,
             mwatch_buf_t *out)
{
   if (kind == PIECE_WATCH_FULL) {
      mwatch_message_render_full (watch, out);
   } else if (kind == PIECE_WATCH_CSV) {
      _mwatch_message_render_csv_ex (
         watch, (const char *const *) formatter->columns, formatter->csv_escape_newlines, out);
   } else if (kind == PIECE_WATCH_JSON) {
      mwatch_message_render_json (watch, out);
   } else {
      mwatch_message_render (watch, NULL, out);
   }
}

/* Fields whose text does not depend on the spec, which then only
 * truncates and pads it. */
static void
write_text_field (const mwatch_formatter_t *formatter,
                  const piece_t *piece,
                  const mwatch_record_t *record,
                  mwatch_buf_t *out)
{
   char level_buf[32];

   switch (piece->kind) {
   case PIECE_ASCTIME:
      _mwatch_datefmt_write (&formatter->datefmt, record->created, out);
      break;
   case PIECE_LEVELNAME:
      mwatch_buf_append_str (out, mwatch_level_name (record->level, level_buf, sizeof level_buf));
      break;
   case PIECE_NAME:
      if (record->name) {
         _mwatch_json_raw (out, record->name, strlen (record->name));
      }
      break;
   case PIECE_MESSAGE:
      if (record->text) {
         _mwatch_json_raw (out, record->text, strlen (record->text));
         break;
      }
      /* Without a text, {message} is {watch}. */
      /* fall through */
   case PIECE_WATCH:
   case PIECE_WATCH_FULL:
   case PIECE_WATCH_CSV:
   case PIECE_WATCH_JSON:
      if (record->watch) {
         write_watch (formatter, piece->kind, record->watch, out);
      }
      break;
   default:
      break;
   }
}

void
mwatch_formatter_format (const mwatch_formatter_t *formatter,
                         const mwatch_record_t *record,
                         mwatch_buf_t *out)
{
   for (size_t i = 0; i < formatter->n_pieces; i++) {
      const piece_t *piece = &formatter->pieces[i];
      const mwatch_fmt_spec_t *spec = piece->has_spec ? &piece->spec : NULL;
      size_t start = out->len;

      switch (piece->kind) {
      case PIECE_LITERAL:
         if (piece->len < LITERAL_MOVE) {
            if (out->len + LITERAL_MOVE >= out->cap) {
               _mwatch_buf_grow (out, LITERAL_MOVE);
            }
            memcpy (out->data + out->len, piece->text, LITERAL_MOVE);
            out->len += piece->len;
         } else {
            _mwatch_buf_put (out, piece->text, piece->len);
         }
         break;
      case PIECE_CREATED:
         write_created (out, spec, record->created);
         break;
      case PIECE_LEVELNO:
      case PIECE_THREAD:
      case PIECE_PROCESS:
         _mwatch_fmt_int64 (out, spec, record_integer (piece->kind, record));
         break;
      case PIECE_WATCH_PATH:
         write_path (out, spec, record->watch, piece->text);
         break;
      default:
         write_text_field (formatter, piece, record, out);
         if (spec) {
            _mwatch_fmt_text (out, start, spec);
         }
         break;
      }
   }
   /* Even an empty line leaves `out` NUL-terminated. */
   _mwatch_buf_put (out, "", 0);
}

/* ---------------------------------------------------------------- CSV */

bool
mwatch_formatter_set_columns (mwatch_formatter_t *formatter,
                              const char *const *columns,
                              bson_error_t *error)
{
   size_t n = 0;

   for (; columns && columns[n]; n++) {
      const char *problem = NULL;
      if (!columns[n][0]) {
         problem = "is empty";
      }
      for (size_t j = 0; !problem && j < n; j++) {
         problem = strcmp (columns[j], columns[n]) == 0 ? "is listed twice" : NULL;
      }
      if (problem) {
         bson_set_error (error,
                         MWATCH_ERROR_DOMAIN,
                         MWATCH_ERROR_INVALID_ARGUMENT,
                         "column %zu (\"%.60s\") %s; each column names a field once",
                         n + 1,
                         columns[n],
                         problem);
         return false;
      }
   }
   bson_strfreev (formatter->columns);
   formatter->columns = NULL;
   if (columns) {
      formatter->columns = bson_malloc0 ((n + 1) * sizeof *formatter->columns);
      for (size_t i = 0; i < n; i++) {
         formatter->columns[i] = bson_strdup (columns[i]);
      }
   }
   return true;
}

void
mwatch_formatter_set_csv_escape_newlines (mwatch_formatter_t *formatter, bool escape)
{
   formatter->csv_escape_newlines = escape;
}

/* The name a piece's header cell shows: what the template names. */
static const char *
piece_name (const piece_t *piece)
{
   if (piece->kind == PIECE_WATCH_PATH) {
      return piece->text;
   }
   for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++) {
      if (known_fields[i].kind == piece->kind) {
         return known_fields[i].name;
      }
   }
   return "";
}

void
mwatch_formatter_header (const mwatch_formatter_t *formatter, mwatch_buf_t *out)
{
   for (size_t i = 0; i < formatter->n_pieces; i++) {
      const piece_t *piece = &formatter->pieces[i];
      if (piece->kind == PIECE_LITERAL) {
         _mwatch_buf_put (out, piece->text, piece->len);
      } else if (piece->kind == PIECE_WATCH_CSV) {
         mwatch_render_csv_header ((const char *const *) formatter->columns, out);
      } else {
         const char *name = piece_name (piece);
         _mwatch_render_csv_cell (out, name, strlen (name), formatter->csv_escape_newlines);
      }
   }
   _mwatch_buf_put (out, "", 0);
}

/* ---------------------------------------------------------------- field names */

/* The fields the library sets beyond its CSV columns and default fields
 * (which are read from mwatch_csv_columns and mwatch_default_fields, so
 * that a field added there is known here too): the update document, the
 * record's state, and what the rate filter adds. */
static const char *const more_library_fields[] = {
   "Update", "State", "RateWindow", "RateRecords", NULL};

static bool
listed_n (const char *const *list, const char *name, size_t len)
{
   for (; list && *list; list++) {
      if (strlen (*list) == len && memcmp (*list, name, len) == 0) {
         return true;
      }
   }
   return false;
}

bool
_mwatch_formatter_check_fields (const mwatch_formatter_t *formatter,
                                const char *const *declared,
                                bson_error_t *error)
{
   const char *const *library[] = {mwatch_csv_columns, mwatch_default_fields, more_library_fields};

   for (size_t i = 0; i < formatter->n_pieces; i++) {
      const piece_t *piece = &formatter->pieces[i];
      if (piece->kind != PIECE_WATCH_PATH) {
         continue;
      }
      /* The field is the path's first key; what follows is inside it. */
      size_t len = strcspn (piece->text, ".");
      bool known = listed_n (declared, piece->text, len);
      for (size_t k = 0; !known && k < sizeof library / sizeof *library; k++) {
         known = listed_n (library[k], piece->text, len);
      }
      if (known) {
         continue;
      }
      mwatch_suggest_t suggest;
      _mwatch_suggest_init (&suggest, piece->text, len);
      for (size_t k = 0; k < sizeof library / sizeof *library; k++) {
         _mwatch_suggest_consider_all (&suggest, library[k]);
      }
      _mwatch_suggest_consider_all (&suggest, declared);
      const char *best = _mwatch_suggest_best (&suggest);
      char hint[100] = "";
      if (best) {
         bson_snprintf (hint, sizeof hint, "did you mean \"watch.%s\"? ", best);
      }
      set_error (error,
                 formatter->format,
                 "unknown field \"watch.%.*s\" at column %zu; %sneither mongowatch nor this "
                 "configuration sets it; a field set at run time (context, a plugin) needs "
                 "allow_unknown_fields: true",
                 quote_len (piece->text, len, 40),
                 piece->text,
                 piece->col,
                 hint);
      return false;
   }
   return true;
}
