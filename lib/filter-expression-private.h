/* Internal: the expression filter, in three files: the lexer
 * (filter-expression-lex.c), the parser (filter-expression-parse.c) and the
 * evaluator with the filter itself (filter-expression.c). */
#ifndef MWATCH_FILTER_EXPRESSION_PRIVATE_H
#define MWATCH_FILTER_EXPRESSION_PRIVATE_H

#include "mongoc-compat-private.h"
#include "mongowatch.h"

#include <regex.h>
#include <stdatomic.h>

/* Parentheses and `not`s nest at most this deep, so that neither the
 * parser nor the evaluator can be driven into a stack overflow. */
#define MWATCH_EXPR_MAX_DEPTH 64

/* The bounds of a regular expression after =~ (filter-expression-regex.c
 * says why): its length in bytes, the positions its repetitions expand
 * to, how deep repetitions nest; and the longest string it is matched
 * against: a longer one does not match, and is counted. */
#define MWATCH_EXPR_MAX_PATTERN 1024
#define MWATCH_EXPR_MAX_REGEX_SIZE 1000
#define MWATCH_EXPR_MAX_REPEAT_NESTING 4
#define MWATCH_EXPR_MAX_SUBJECT 4096

/* ---------------------------------------------------------------- tokens */

/* The parser tests ranges of kinds: keep the literals (STRING .. NULL)
 * and the comparisons (EQ .. GE) together and in this order. */
typedef enum {
   TOK_END,
   TOK_PATH,
   TOK_STRING,
   TOK_INT,
   TOK_DOUBLE,
   TOK_TRUE,
   TOK_FALSE,
   TOK_NULL,
   TOK_AND,
   TOK_OR,
   TOK_NOT,
   TOK_IN,
   TOK_EQ,
   TOK_NE,
   TOK_LT,
   TOK_LE,
   TOK_GT,
   TOK_GE,
   TOK_MATCH,
   TOK_IS, /* Python's: `is None`, `is not True` */
   TOK_LPAREN,
   TOK_RPAREN,
   TOK_LBRACKET,
   TOK_RBRACKET,
   TOK_COMMA,
} mwatch_expr_tok_kind_t;

typedef struct {
   mwatch_expr_tok_kind_t kind;
   size_t start; /* byte offset in the expression */
   size_t len;   /* bytes of source text */
   int64_t v_int;
   double v_double;
} mwatch_expr_tok_t;

typedef struct {
   const char *text;
   size_t len;
   size_t pos;
   mwatch_expr_tok_t tok; /* the current token */
   /* A lexical error: what is wrong, where (a byte offset) and what
    * would be right. */
   char what[128];
   char hint[160];
   size_t err_at;
} mwatch_expr_lexer_t;

void
_mwatch_expr_lexer_init (mwatch_expr_lexer_t *lex, const char *text);

/* Reads the next token into lex->tok; false on a lexical error. */
bool
_mwatch_expr_lexer_next (mwatch_expr_lexer_t *lex);

/* Decodes the string token lex->tok (quotes and escapes already checked)
 * into `out`, which has room for tok.len bytes; returns the length. */
size_t
_mwatch_expr_lexer_unquote (const mwatch_expr_lexer_t *lex, char *out);

/* ---------------------------------------------------------------- nodes */

typedef enum {
   NODE_OR,    /* children: a, then each child's `next` */
   NODE_AND,
   NODE_NOT,   /* a */
   NODE_CMP,   /* a op b; op is a TOK_EQ .. TOK_GE */
   NODE_IN,    /* a in the list b, whose items are chained by `next` */
   NODE_MATCH, /* a =~ regexes[regex] */
   NODE_PATH,  /* str: a NUL-terminated dotted path */
   NODE_VALUE, /* a literal */
} mwatch_expr_node_kind_t;

/* Nodes refer to one another by index into the program's array, -1 for
 * none: the array can grow (and move) while it is built, and the program
 * stays a few blocks however long the expression. */
typedef struct {
   mwatch_expr_node_kind_t kind;
   mwatch_expr_tok_kind_t op;
   int32_t a;
   int32_t b;
   int32_t next;
   int32_t regex;
   size_t str; /* NODE_PATH and string literals: offset into `strings` */
   /* NODE_VALUE; a string points into `strings` once parsing is over. */
   mwatch_value_t value;
} mwatch_expr_node_t;

typedef struct {
   mwatch_expr_node_t *nodes;
   size_t count;
   int32_t root;
   char *strings; /* every path and string literal, each NUL-terminated */
   size_t strings_len;
   regex_t **regexes; /* one block each: a regex_t may not be moved */
   bool dotted; /* a path was written with a dot (Python has no such path) */
   size_t regex_count;
   /* Strings longer than MWATCH_EXPR_MAX_SUBJECT that =~ did not match
    * for that reason (evaluation runs on any number of threads at once). */
   atomic_size_t too_long;
} mwatch_expr_program_t;

/* True when `pattern` is within the bounds above; else false with what
 * is wrong in `what`. */
bool
_mwatch_expr_regex_bounded (const char *pattern, char *what, size_t what_size);

/* Compiles `expression`; on error returns false with `error` set and
 * nothing left to free. */
bool
_mwatch_expr_program_compile (mwatch_expr_program_t *prog,
                              const char *expression,
                              bson_error_t *error);

void
_mwatch_expr_program_destroy (mwatch_expr_program_t *prog);

/* Evaluates the program against `msg` (NULL: every field is null). */
bool
_mwatch_expr_program_eval (const mwatch_expr_program_t *prog, const mwatch_message_t *msg);

/* The same, strictly: *failed when a field read is not there or two
 * values have no order (Python's eval would raise); the result then
 * means nothing. */
bool
_mwatch_expr_program_eval_strict (const mwatch_expr_program_t *prog,
                                  const mwatch_message_t *msg,
                                  bool *failed);

/* The program's value: a path's value (a view into `msg`), a literal, or
 * a condition's boolean; strictly, false as above. */
bool
_mwatch_expr_program_value (const mwatch_expr_program_t *prog,
                            const mwatch_message_t *msg,
                            mwatch_value_t *out);

/* Compiles `text` as a value rather than a condition: a lone literal
 * ("x", 0, null) is allowed (the modify filter's right-hand sides). */
bool
_mwatch_expr_program_compile_value (mwatch_expr_program_t *prog,
                                    const char *text,
                                    bson_error_t *error);

#endif
