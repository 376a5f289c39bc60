/*
 * mongowatch built-in filters: expression, redaction, rate, fields.
 *
 * Included by <mongowatch.h>; do not include it on its own.
 *
 * Each is an ordinary mwatch_filter_t: attach it to a handler (it then
 * runs on the handler's listener thread, on the queue's own copy of the
 * message) or to a logger.  Each constructor checks its arguments and
 * reports a problem through `error` with a message that says what is wrong
 * and what would be right; nothing is checked later, at log time.
 */
#ifndef MONGOWATCH_FILTERS_H
#define MONGOWATCH_FILTERS_H

#ifndef MONGOWATCH_H
#error "include <mongowatch.h>, not <mongowatch/filters.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * expression: keeps the records for which an expression over the
 * message's fields is true.
 *
 *   Collection == "news" and Duration > 10
 *   Operation in ["insert_one", "insert_many"] or not (MatchedCount >= 1)
 *   Filter.user.name =~ "^adm" and Error != null
 *
 * Operands: dotted field paths (Filter.user.name; a path that is not there
 * is null), strings in double quotes (\" \\ \n \t escapes), numbers
 * (integers and decimals, compared as numbers whatever their type), true,
 * false, null, and lists [a, b, ...] (only after `in`).
 * Operators, loosest first: or, and, not, then == != < <= > >= in =~
 * (=~: the string on the left matches the POSIX extended regular
 * expression on the right, which must be a literal), and parentheses.
 * Comparisons of different types are false (!= true); ordering compares
 * numbers with numbers and strings with strings (bytewise).
 * Compiled once; evaluation allocates nothing.  A syntax error names its
 * 1-based column.
 * ------------------------------------------------------------------------ */

MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_expression (const char *expression, bson_error_t *error);

/* ------------------------------------------------------------------------
 * redact: the privacy mask.  Walks the named fields and replaces every
 * value while keeping keys and operators ($in, $gt, ...), so the shape of
 * a query survives and its values do not.  With no `fields`, it covers
 * every field that holds a document or an array, whatever its name
 * (Filter, Update, a renamed Pipeline, fields added later: every value
 * the watchers take from the application is logged as one), and cuts
 * Error at its first ':' (a server's message quotes the values it
 * refused after it); metadata (names, times, counts) stays readable.
 * ------------------------------------------------------------------------ */

typedef enum {
   /* Strings become as many 'x' as they had characters, numbers 0, bools
    * false, dates the epoch, other values null. */
   MWATCH_REDACT_PLACEHOLDER = 0,
   /* Every value becomes the string `token` ("***" by default). */
   MWATCH_REDACT_TOKEN,
   /* Every value becomes null. */
   MWATCH_REDACT_NULL,
   /* Every value becomes "h:" and the first 16 hex digits of
    * HMAC-SHA256(secret, type byte + the value's bytes): the same value
    * gives the same pseudonym, so distinct values can still be counted,
    * but the value cannot be read back without the secret. */
   MWATCH_REDACT_HMAC,
} mwatch_redact_mode_t;

typedef struct {
   mwatch_redact_mode_t mode;
   const char *token;          /* MWATCH_REDACT_TOKEN; NULL: "***" */
   const char *secret;         /* MWATCH_REDACT_HMAC: the key (required) */
   size_t secret_len;          /* 0: strlen (secret) */
   const char *const *fields;  /* NULL-terminated; NULL: every document or
                                * array field, and Error after its ':' */
} mwatch_redact_opts_t;

MWATCH_EXPORT void
mwatch_redact_opts_init (mwatch_redact_opts_t *opts);

MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_redact (const mwatch_redact_opts_t *opts, bson_error_t *error);

/* ------------------------------------------------------------------------
 * rate: instead of every record, one record per output_rate_sec with the
 * rates of numeric fields.  Each record's numeric `fields` are added up;
 * the first record that comes when output_rate_sec has passed since the
 * window began is kept, carrying for each field F the field "FRate" (the
 * sum over the window divided by the window's seconds) and "FSum", plus
 * RateWindow (seconds) and RateRecords (records in the window); every
 * other record is dropped.  A window with no record after it is not
 * reported.  Only final records (mwatch_message_is_ready) count, so that
 * each operation counts once: first, update and timeout records are
 * dropped and add nothing (pymongowatch's ignore_intermediates).
 * ------------------------------------------------------------------------ */

/* `fields` NULL-terminated; NULL: MatchedCount InsertedCount UpsertedCount
 * ModifiedCount DeletedCount. */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_rate (double output_rate_sec,
                        const char *const *fields,
                        bson_error_t *error);

/* The same; with `ignore_intermediates` false every record counts and can
 * close a window, the intermediate ones too (an operation then counts once
 * per record of it). */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_rate_ex (double output_rate_sec,
                           const char *const *fields,
                           bool ignore_intermediates,
                           bson_error_t *error);

/* ------------------------------------------------------------------------
 * fields: keeps, drops or renames top-level fields.  `keep` (if not NULL)
 * removes every field not listed; then `drop` removes those listed; then
 * `rename` (pairs old, new, ..., NULL) renames, keeping each field's place.
 * Keeps every record.
 * ------------------------------------------------------------------------ */

MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_fields (const char *const *keep,
                          const char *const *drop,
                          const char *const *rename,
                          bson_error_t *error);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_FILTERS_H */
