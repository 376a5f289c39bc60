/* Internal: formatters, shared by the formatter's own files: formatter.c
 * (compiling templates, the format loop), formatter-spec.c (format specs)
 * and formatter-time.c ({asctime}). */
#ifndef MWATCH_FORMATTER_PRIVATE_H
#define MWATCH_FORMATTER_PRIVATE_H

#include "mongowatch.h"

/* The style mwatch_formatter_new_style gives a template when none is
 * named: "%" when it has a %(name) field and no "{" at all, else "{"
 * (mongowatch's own). */
char
_mwatch_formatter_infer_style (const char *format);

/* Checks that each {watch.F} of the template names a field mongowatch
 * sets or one in `declared` (NULL-terminated, may be NULL): the names a
 * configuration gives fields.  On the first that is neither, returns false
 * with `error` naming it, its column and the closest known name.  Not
 * done by mwatch_formatter_new, whose callers may set any field. */
bool
_mwatch_formatter_check_fields (const mwatch_formatter_t *formatter,
                                const char *const *declared,
                                bson_error_t *error);

/* ---------------------------------------------------------------- specs */

/* Widths and precisions above this are refused at compile time, so that a
 * typo cannot make every log line megabytes long. */
#define MWATCH_SPEC_MAX 100000

/* One parsed format spec: [[fill]align][sign][0][width][.precision][type]. */
typedef struct {
   char fill[5];     /* one UTF-8 character, resolved: given, '0' or ' ' */
   uint8_t fill_len;
   char align;       /* '<', '>', '^'; 0 for the default of the value */
   char sign;        /* '+', ' ' or 0 ('-' is the default) */
   bool zero;        /* the '0' flag */
   int width;        /* -1: none */
   int precision;    /* -1: none */
   char type;        /* one of "dfFeEgG%s"; 0: none */
} mwatch_fmt_spec_t;

/* What a field's value is, known at compile time when the field is a
 * record attribute, so that a spec that cannot apply is refused early. */
typedef enum {
   MWATCH_FMT_TEXT,
   MWATCH_FMT_INT,
   MWATCH_FMT_FLOAT,
   MWATCH_FMT_ANY, /* {watch.F}: known only when a record comes */
} mwatch_fmt_class_t;

/* Parses `len` bytes of `text` into `spec` and checks it against the
 * field's class.  On error returns false with `why` set to a sentence
 * saying what is wrong. */
bool
_mwatch_fmt_spec_parse (const char *text,
                        size_t len,
                        mwatch_fmt_class_t cls,
                        mwatch_fmt_spec_t *spec,
                        char *why,
                        size_t why_size);

/* Appends a number as `spec` says; with no spec (NULL), as the key=value
 * rendering writes it. */
void
_mwatch_fmt_int64 (mwatch_buf_t *out, const mwatch_fmt_spec_t *spec, int64_t value);

void
_mwatch_fmt_double (mwatch_buf_t *out, const mwatch_fmt_spec_t *spec, double value);

/* Applies `spec` (precision as truncation, then width) to the text that
 * was appended to `out` from offset `start` on. */
void
_mwatch_fmt_text (mwatch_buf_t *out, size_t start, const mwatch_fmt_spec_t *spec);

/* Applies `spec`'s sign and width to a number that was appended to `out`
 * from offset `start` on in its default form. */
void
_mwatch_fmt_number (mwatch_buf_t *out, size_t start, const mwatch_fmt_spec_t *spec);

/* The number of characters in `len` bytes of UTF-8: bytes that do not
 * continue a sequence. */
size_t
_mwatch_fmt_count_chars (const char *s, size_t len);

/* Appends `value` as exactly `digits` decimal digits (at most 20), with
 * leading zeros. */
void
_mwatch_fmt_digits (mwatch_buf_t *out, uint64_t value, int digits);

/* Makes `out` `n` bytes longer, contents unspecified, and returns the
 * first new byte: room for a writer that needs a plain char array. */
char *
_mwatch_fmt_extend (mwatch_buf_t *out, size_t n);

/* ---------------------------------------------------------------- asctime */

/* A datefmt compiled into strftime parts and our fraction parts, so that
 * strftime never sees %f or %3f. */
typedef struct {
   char *strftime_fmt; /* NUL-terminated, ends with a sentinel byte; NULL
                          for a fraction */
   int digits;         /* a fraction's: 6 for %f, 3 for %3f */
} mwatch_date_part_t;

typedef struct {
   mwatch_date_part_t *parts;
   size_t n_parts;
   uint64_t uid; /* tells formatters apart in the per-thread cache */
} mwatch_datefmt_t;

/* The default is Python's: "%Y-%m-%d %H:%M:%S,%3f". */
void
_mwatch_datefmt_init (mwatch_datefmt_t *datefmt, const char *text);

void
_mwatch_datefmt_destroy (mwatch_datefmt_t *datefmt);

/* Appends `created` (microseconds since the epoch) in local time. */
void
_mwatch_datefmt_write (const mwatch_datefmt_t *datefmt, int64_t created, mwatch_buf_t *out);

#endif
