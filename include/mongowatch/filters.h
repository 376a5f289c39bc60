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

/* A filter that keeps the records for which `expression` (the language
 * above) is true.  NULL, with `error` naming the column, for an expression
 * that does not parse. */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_expression (const char *expression, bson_error_t *error);

/* An expression filter with the semantics of pymongowatch's
 * ExpressionFilter (Python's eval): reading a field the record does not have, or ordering two values
 * that have no order between them (null < 1, "a" < 1), stops the
 * evaluation, and the record is then kept if `exception_result` is true
 * and dropped if it is false (pymongowatch's default).  The expression
 * also accepts Python's spellings: True False None, 'single quotes',
 * `is None`, `is not None`, `not in`, field["key"], _watch["Field"]
 * (these are accepted by mwatch_filter_new_expression too). */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_expression_strict (const char *expression,
                                     bool exception_result,
                                     bson_error_t *error);

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

/* Fills `opts` with the defaults: placeholder mode, every document or
 * array field, Error cut after its first ':'. */
MWATCH_EXPORT void
mwatch_redact_opts_init (mwatch_redact_opts_t *opts);

/* A filter that masks the values of fields (see above), as `opts` says
 * (NULL: the defaults).  NULL,
 * with `error` set, for an unknown mode, the HMAC mode without a secret,
 * or a field name that is empty or holds a dot. */
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
 * reported, unless extra_timeout_sec (below) says when.  Only final records (mwatch_message_is_ready) count, so that
 * each operation counts once: first, update and timeout records are
 * dropped and add nothing (pymongowatch's ignore_intermediates).
 * ------------------------------------------------------------------------ */

/* A rate filter (see above) over `fields` (NULL-terminated; NULL:
 * MatchedCount InsertedCount UpsertedCount ModifiedCount DeletedCount). */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_rate (double output_rate_sec,
                        const char *const *fields,
                        bson_error_t *error);

/* As mwatch_filter_new_rate, with a choice of which records count: with
 * `ignore_intermediates` false every record counts and can
 * close a window, the intermediate ones too (an operation then counts once
 * per record of it). */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_rate_ex (double output_rate_sec,
                           const char *const *fields,
                           bool ignore_intermediates,
                           bson_error_t *error);

/* All of the rate filter's options, for pymongowatch's RateFilter. */
typedef struct {
   double output_rate_sec;     /* > 0 */
   const char *const *fields;  /* NULL-terminated; NULL: as above */
   bool ignore_intermediates;  /* true: only final records count */
   /* The kept record's field F itself becomes the window's rate of F,
    * rounded to an integer (halves to even), followed by `suffix` when it
    * is not NULL ("12/s": pymongowatch's suffix; NULL: the integer). */
   bool rate_in_field;
   const char *suffix;
   /* A record that has none of `fields` passes unchanged and counts in no
    * window (pymongowatch); with ignore_nones a null field is as none. */
   bool pass_unrelated;
   bool ignore_nones;
   /* >= 0: a window that no record closes is reported too, by a copy of
    * its last counted record, output_rate_sec + extra_timeout_sec after
    * the window began or when the queue handler the filter is on closes;
    * a record that closes a window then counts in it (pymongowatch's
    * RateFilter; it needs the filter on a queue handler).  < 0: none. */
   double extra_timeout_sec;
} mwatch_rate_opts_t;

/* Fills `opts` with the defaults: ignore_intermediates and ignore_nones
 * true, extra_timeout_sec -1, everything else 0/NULL. */
MWATCH_EXPORT void
mwatch_rate_opts_init (mwatch_rate_opts_t *opts);

/* The rate filter with every option of `opts` (mwatch_rate_opts_t).
 * NULL, with `error` set, for an output_rate_sec that is not a positive
 * number or an extra_timeout_sec of 1e9 or more. */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_rate_opts (const mwatch_rate_opts_t *opts, bson_error_t *error);

/* ------------------------------------------------------------------------
 * fields: keeps, drops or renames top-level fields.  `keep` (if not NULL)
 * removes every field not listed; then `drop` removes those listed; then
 * `rename` (pairs old, new, ..., NULL) renames, keeping each field's place.
 * Keeps every record.
 * ------------------------------------------------------------------------ */

/* A filter that keeps, drops or renames top-level fields (see above).  Any of `keep`, `drop` and `rename` may
 * be NULL.  NULL, with `error` set, for a name that is empty or holds a
 * dot, or a rename list of odd length. */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_fields (const char *const *keep,
                          const char *const *drop,
                          const char *const *rename,
                          bson_error_t *error);

/* ------------------------------------------------------------------------
 * modify: sets, masks and removes fields, and may drop the record; the C
 * form of pymongowatch's ExecuteFilter.  `statements`, one a line or
 * separated by ';' ('#' starts a comment line):
 *
 *   Field = <value>         a path, a literal or a condition of the
 *                           expression language (Slow = Duration > 1,
 *                           DeletedCount = _deprecated_remove["n"])
 *   Field = mask(<value>)   the value masked as the redact filter's
 *                           placeholder mode does (Filter = mask(Filter))
 *   del Field, Other        removes fields (a rename: New = Old; del Old)
 *   _result = <condition>   keeps the record only when it is true
 *
 * Statements run in order, strictly: a field read that is not there, a
 * del of a field that is not there, or an ordering of values without an
 * order stops them, leaves the record as it came, and the filter returns
 * `exception_result` (pymongowatch's default: true).  A field set from
 * other fields is redacted by a redact filter run after this one whenever
 * that filter covers one of its sources.  Records without a message pass.
 * ------------------------------------------------------------------------ */

/* The modify filter: runs `statements` (see above) on each record.
 * NULL, with `error` naming the statement, for statements that do not
 * parse or an empty `statements`. */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_modify (const char *statements, bool exception_result, bson_error_t *error);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_FILTERS_H */
