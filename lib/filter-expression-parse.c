/* The expression parser: recursive descent over the lexer's tokens into a
 * flat array of nodes, one function per precedence level:
 *
 *   or_expr  := and_expr ("or" and_expr)*
 *   and_expr := not_expr ("and" not_expr)*
 *   not_expr := "not" not_expr | compare
 *   compare  := operand [(== != < <= > >=) operand
 *                       | ["not"] "in" "[" [value ("," value)*] "]"
 *                       | "is" ["not"] (null | true | false)
 *                       | "=~" string]
 *   operand  := value | "(" or_expr ")"
 *   value    := path subscript* | string | number | true | false | null
 *   subscript:= "[" (string | integer) "]"
 *
 * Python's spellings (True, False, None, 'single quotes', is, not in,
 * field["key"], _watch["Field"]) are there so that pymongowatch's
 * expressions load as they were written.
 *
 * Chains of and/or become one node with a list of children rather than a
 * tree as deep as the chain is long, and parentheses and `not`s nest at
 * most MWATCH_EXPR_MAX_DEPTH deep: so no input, however hostile, can make
 * the parser or the evaluator recurse without bound. */
#include "filter-expression-private.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct {
   mwatch_expr_lexer_t lex;
   mwatch_expr_program_t *prog;
   size_t nodes_cap;
   size_t strings_cap;
   int depth;
   bool value; /* a lone literal is the whole program's value */
   bool failed;
   bson_error_t *error;
} parser_t;

/* ---------------------------------------------------------------- errors */

/* The 1-based column of byte `at`, counting UTF-8 characters. */
static size_t
column_of (const char *text, size_t at)
{
   size_t column = 1;

   for (size_t i = 0; i < at; i++) {
      column += ((unsigned char) text[i] & 0xc0) != 0x80;
   }
   return column;
}

/* Sets `error` once (the first mistake is the one to show):
 *   expression "<text>": <what> at column <n>[ (found <token>)]; <hint>   */
static int32_t
report (parser_t *p, size_t at, const char *what, const char *found, const char *hint)
{
   const char *text = p->lex.text;
   size_t shown = p->lex.len;

   if (p->failed) {
      return -1;
   }
   p->failed = true;
   /* Long expressions are cut, on a character boundary, to leave room. */
   if (shown > 80) {
      shown = 80;
      while (shown > 0 && ((unsigned char) text[shown] & 0xc0) == 0x80) {
         shown--;
      }
   }
   bson_set_error (p->error,
                   MWATCH_ERROR_DOMAIN,
                   MWATCH_ERROR_INVALID_ARGUMENT,
                   "expression \"%.*s%s\": %s at column %zu%s; %s",
                   (int) shown,
                   text,
                   shown < p->lex.len ? "..." : "",
                   what,
                   column_of (text, at),
                   found,
                   hint);
   return -1;
}

static int32_t
fail (parser_t *p, size_t at, const char *hint, const char *what, ...) BSON_GNUC_PRINTF (4, 5);

static int32_t
fail (parser_t *p, size_t at, const char *hint, const char *what, ...)
{
   char text[256];
   va_list args;

   va_start (args, what);
   vsnprintf (text, sizeof text, what, args);
   va_end (args);
   return report (p, at, text, "", hint);
}

/* As fail(), at the current token, saying what it is. */
static int32_t
fail_here (parser_t *p, const char *hint, const char *what)
{
   const mwatch_expr_tok_t *tok = &p->lex.tok;
   int len = (int) (tok->len > 24 ? 24 : tok->len);
   const char *quote = tok->kind == TOK_STRING ? "" : "\"";
   char found[64] = " (found the end)";

   if (tok->kind != TOK_END) {
      snprintf (found,
                sizeof found,
                " (found %s%.*s%s%s)",
                quote,
                len,
                p->lex.text + tok->start,
                (size_t) len < tok->len ? "..." : "",
                quote);
   }
   return report (p, tok->start, what, found, hint);
}

static bool
advance (parser_t *p)
{
   if (p->failed) {
      return false;
   }
   if (!_mwatch_expr_lexer_next (&p->lex)) {
      report (p, p->lex.err_at, p->lex.what, "", p->lex.hint);
      return false;
   }
   return true;
}

/* ---------------------------------------------------------------- nodes */

static int32_t
new_node (parser_t *p, mwatch_expr_node_kind_t kind, int32_t a)
{
   mwatch_expr_program_t *prog = p->prog;

   if (prog->count == p->nodes_cap) {
      p->nodes_cap = p->nodes_cap ? p->nodes_cap * 2 : 16;
      prog->nodes = bson_realloc (prog->nodes, p->nodes_cap * sizeof *prog->nodes);
   }
   mwatch_expr_node_t *node = &prog->nodes[prog->count];
   memset (node, 0, sizeof *node);
   node->kind = kind;
   node->a = a;
   node->b = node->next = node->regex = -1;
   return (int32_t) prog->count++;
}

/* Room for `len` more bytes and a NUL in the string pool; returns where. */
static size_t
reserve_string (parser_t *p, size_t len)
{
   mwatch_expr_program_t *prog = p->prog;

   while (prog->strings_len + len + 1 > p->strings_cap) {
      p->strings_cap = p->strings_cap ? p->strings_cap * 2 : 64;
      prog->strings = bson_realloc (prog->strings, p->strings_cap);
   }
   return prog->strings_len;
}

/* A node for the literal or path at the current token. */
static int32_t
leaf_node (parser_t *p)
{
   const mwatch_expr_tok_t *tok = &p->lex.tok;
   mwatch_expr_program_t *prog = p->prog;
   int32_t n = new_node (p, tok->kind == TOK_PATH ? NODE_PATH : NODE_VALUE, -1);
   mwatch_expr_node_t *node = &prog->nodes[n];
   size_t at;

   switch (tok->kind) {
   case TOK_PATH:
      prog->dotted |= memchr (p->lex.text + tok->start, '.', tok->len) != NULL;
      at = reserve_string (p, tok->len);
      memcpy (prog->strings + at, p->lex.text + tok->start, tok->len);
      prog->strings_len += tok->len;
      break;
   case TOK_STRING:
      at = reserve_string (p, tok->len);
      node->value.type = MWATCH_TYPE_UTF8;
      node->value.value.v_utf8.len = _mwatch_expr_lexer_unquote (&p->lex, prog->strings + at);
      prog->strings_len += node->value.value.v_utf8.len;
      break;
   case TOK_INT:
      node->value.type = MWATCH_TYPE_INT64;
      node->value.value.v_int64 = tok->v_int;
      return n;
   case TOK_DOUBLE:
      node->value.type = MWATCH_TYPE_DOUBLE;
      node->value.value.v_double = tok->v_double;
      return n;
   case TOK_TRUE:
   case TOK_FALSE:
      node->value.type = MWATCH_TYPE_BOOL;
      node->value.value.v_bool = tok->kind == TOK_TRUE;
      return n;
   default:
      node->value.type = MWATCH_TYPE_NULL;
      return n;
   }
   /* Strings and paths: the pool may still move, so keep an offset now
    * and make pointers when parsing is over. */
   node->str = at;
   prog->strings[prog->strings_len++] = '\0';
   return n;
}

/* ---------------------------------------------------------------- grammar */

static int32_t
parse_or (parser_t *p);

/* The operators between two operands: == != < <= > >= in not-in =~ is */
static bool
is_operator (mwatch_expr_tok_kind_t kind)
{
   return (kind >= TOK_EQ && kind <= TOK_GE) || kind == TOK_IN || kind == TOK_MATCH ||
          kind == TOK_IS;
}

/* Python's subscripts after the path just stored (the last string of the
 * pool): Filter["user"]["name"] is Filter.user.name, tags[0] is tags.0,
 * and _watch["Field"] (pymongowatch's name for the whole message) is
 * Field. */
static bool
parse_subscripts (parser_t *p, int32_t n)
{
   mwatch_expr_program_t *prog = p->prog;
   size_t at = prog->nodes[n].str;

   while (p->lex.tok.kind == TOK_LBRACKET) {
      if (!advance (p)) {
         return false;
      }
      const mwatch_expr_tok_t *tok = &p->lex.tok;
      if (tok->kind != TOK_STRING && !(tok->kind == TOK_INT && tok->v_int >= 0)) {
         fail_here (p,
                    "write a key in quotes or an index, as in Filter[\"user\"] or tags[0]",
                    "expected a key");
         return false;
      }
      /* The path ends the pool: drop its NUL and add ".key". */
      bool whole = strcmp (prog->strings + at, "_watch") == 0;
      prog->strings_len = whole ? at : prog->strings_len - 1;
      size_t key_at = reserve_string (p, tok->len + 1) + !whole;
      size_t key_len;
      if (tok->kind == TOK_STRING) {
         key_len = _mwatch_expr_lexer_unquote (&p->lex, prog->strings + key_at);
      } else {
         key_len = (size_t) snprintf (prog->strings + key_at, tok->len + 1, "%" PRId64, tok->v_int);
      }
      if (key_len == 0 || memchr (prog->strings + key_at, '.', key_len) ||
          memchr (prog->strings + key_at, '\0', key_len)) {
         fail_here (p, "a key is not empty and holds no dot or NUL", "bad key");
         return false;
      }
      if (!whole) {
         prog->strings[prog->strings_len] = '.';
      }
      prog->strings_len = key_at + key_len;
      prog->strings[prog->strings_len++] = '\0';
      if (!advance (p)) {
         return false;
      }
      if (p->lex.tok.kind != TOK_RBRACKET) {
         fail_here (p, "close the subscript with \"]\"", "expected \"]\"");
         return false;
      }
      if (!advance (p)) {
         return false;
      }
   }
   return true;
}

static const char value_hint[] =
   "a value is a field path, a \"string\", a number, true, false or null";

static int32_t
parse_operand (parser_t *p)
{
   mwatch_expr_tok_kind_t kind = p->lex.tok.kind;

   if (kind == TOK_LPAREN) {
      size_t open_at = p->lex.tok.start;
      if (++p->depth > MWATCH_EXPR_MAX_DEPTH) {
         return fail (p,
                      open_at,
                      "simplify the expression",
                      "parentheses and nots nest deeper than %d",
                      MWATCH_EXPR_MAX_DEPTH);
      }
      int32_t inner = advance (p) ? parse_or (p) : -1;
      if (inner >= 0 && p->lex.tok.kind != TOK_RPAREN) {
         char hint[64];
         snprintf (
            hint, sizeof hint, "close the \"(\" of column %zu", column_of (p->lex.text, open_at));
         return fail_here (p, hint, "expected \")\"");
      }
      p->depth--;
      return advance (p) ? inner : -1;
   }
   if (kind == TOK_LBRACKET) {
      return fail_here (p,
                        "write the list after in, as in Operation in [\"find\", \"count\"]",
                        "a list is only allowed after in");
   }
   if (kind == TOK_PATH || (kind >= TOK_STRING && kind <= TOK_NULL)) {
      int32_t n = leaf_node (p);
      if (!advance (p)) {
         return -1;
      }
      return kind != TOK_PATH || parse_subscripts (p, n) ? n : -1;
   }
   return fail_here (p, value_hint, "expected a value");
}

/* "[" a, b, ... "]" after `in`: *first is the first item (-1 for an
 * empty list, which is allowed: nothing is in it) and the others follow it
 * by `next`. */
static bool
parse_list (parser_t *p, int32_t *first)
{
   int32_t last = -1;

   *first = -1;
   if (p->lex.tok.kind != TOK_LBRACKET) {
      fail_here (p,
                 "write the values in brackets, as in Operation in [\"find\", \"count\"]",
                 "expected a list after in");
      return false;
   }
   if (!advance (p)) {
      return false;
   }
   while (p->lex.tok.kind != TOK_RBRACKET) {
      if (last >= 0 && p->lex.tok.kind != TOK_COMMA) {
         fail_here (p,
                    "separate the values with commas and close the list with \"]\"",
                    "expected \",\" or \"]\"");
         return false;
      }
      if (last >= 0 && !advance (p)) {
         return false;
      }
      if (p->lex.tok.kind == TOK_LBRACKET || p->lex.tok.kind == TOK_LPAREN) {
         fail_here (p, value_hint, "expected a value in the list");
         return false;
      }
      int32_t item = parse_operand (p);
      if (item < 0) {
         return false;
      }
      if (last >= 0) {
         p->prog->nodes[last].next = item;
      } else {
         *first = item;
      }
      last = item;
   }
   return advance (p);
}

/* The right side of =~: a string literal, compiled now. */
static int32_t
parse_regex (parser_t *p)
{
   mwatch_expr_program_t *prog = p->prog;

   if (p->lex.tok.kind != TOK_STRING) {
      return fail_here (p,
                        "the pattern must be a literal in double quotes, as in "
                        "Collection =~ \"^log\"",
                        "expected a regular expression");
   }
   /* Decoded past the end of the pool, which the pattern does not join:
    * only the compiled form is kept. */
   size_t at = reserve_string (p, p->lex.tok.len);
   size_t len = _mwatch_expr_lexer_unquote (&p->lex, prog->strings + at);
   prog->strings[at + len] = '\0';
   char what[300];
   if (!_mwatch_expr_regex_bounded (prog->strings + at, what, sizeof what)) {
      return fail_here (p,
                        "write a shorter pattern, without back-references or nested "
                        "repetitions",
                        what);
   }
   regex_t *re = bson_malloc (sizeof *re);
   int rc = regcomp (re, prog->strings + at, REG_EXTENDED | REG_NOSUB);
   if (rc != 0) {
      char why[128];
      regerror (rc, re, why, sizeof why);
      bson_free (re);
      snprintf (what, sizeof what, "invalid regular expression: %s", why);
      return fail_here (p, "write a POSIX extended regular expression", what);
   }
   prog->regexes =
      bson_realloc (prog->regexes, (prog->regex_count + 1) * sizeof *prog->regexes);
   /* Counted before the next token is read: when that token fails to
    * lex, the program is destroyed and must free this regex too. */
   prog->regexes[prog->regex_count++] = re;
   return advance (p) ? (int32_t) prog->regex_count - 1 : -1;
}

/* Standing alone, a path or a parenthesised expression is a condition
 * (true when it is the boolean true); a literal other than true or false
 * cannot be one, so it is surely a mistake. */
static int32_t
lone_operand (parser_t *p, int32_t operand, mwatch_expr_tok_kind_t kind, size_t start)
{
   if (p->value) {
      return operand;
   }
   if (kind >= TOK_STRING && kind <= TOK_DOUBLE) {
      return fail (p,
                   start,
                   "compare it with a field, as in Duration > 10",
                   "a value alone is not a condition");
   }
   if (kind == TOK_NULL) {
      return fail (p,
                   start,
                   "compare it with a field, as in Error != null",
                   "null alone is not a condition");
   }
   return operand;
}

static int32_t
parse_compare (parser_t *p)
{
   size_t start = p->lex.tok.start;
   mwatch_expr_tok_kind_t first_kind = p->lex.tok.kind;
   int32_t left = parse_operand (p);
   mwatch_expr_tok_kind_t op = p->lex.tok.kind;
   int32_t right;
   bool ok;

   bool negated = false;
   if (left >= 0 && op == TOK_NOT) {
      /* Python's "x not in [...]". */
      if (!advance (p)) {
         return -1;
      }
      if (p->lex.tok.kind != TOK_IN) {
         return fail_here (p, "write not before the condition, or \"not in\"", "expected in");
      }
      negated = true;
      op = TOK_IN;
   }
   if (left < 0 || !is_operator (op)) {
      return left < 0 ? -1 : lone_operand (p, left, first_kind, start);
   }
   if (!advance (p)) {
      return -1;
   }
   if (op == TOK_IS) {
      /* Python's identity, for the constants only: there it is ==. */
      op = TOK_EQ;
      if (p->lex.tok.kind == TOK_NOT) {
         op = TOK_NE;
         if (!advance (p)) {
            return -1;
         }
      }
      mwatch_expr_tok_kind_t k = p->lex.tok.kind;
      if (k != TOK_NULL && k != TOK_TRUE && k != TOK_FALSE) {
         return fail_here (
            p, "is compares with None, True or False; compare other values with ==", "expected None");
      }
   }
   int32_t n = new_node (p, op == TOK_IN ? NODE_IN : op == TOK_MATCH ? NODE_MATCH : NODE_CMP, left);
   p->prog->nodes[n].op = op;
   if (op == TOK_IN) {
      ok = parse_list (p, &right);
   } else {
      right = op == TOK_MATCH ? parse_regex (p) : parse_operand (p);
      ok = right >= 0;
   }
   if (!ok) {
      return -1;
   }
   if (op == TOK_MATCH) {
      p->prog->nodes[n].regex = right;
   } else {
      p->prog->nodes[n].b = right;
   }
   if (is_operator (p->lex.tok.kind)) {
      return fail_here (p, "join two comparisons with and", "comparisons do not chain");
   }
   return negated ? new_node (p, NODE_NOT, n) : n;
}

static int32_t
parse_not (parser_t *p)
{
   if (p->lex.tok.kind != TOK_NOT) {
      return parse_compare (p);
   }
   if (++p->depth > MWATCH_EXPR_MAX_DEPTH) {
      return fail (p,
                   p->lex.tok.start,
                   "simplify the expression",
                   "parentheses and nots nest deeper than %d",
                   MWATCH_EXPR_MAX_DEPTH);
   }
   int32_t inner = advance (p) ? parse_not (p) : -1;
   p->depth--;
   return inner < 0 ? -1 : new_node (p, NODE_NOT, inner);
}

/* One operand of an or (an and_expr) or of an and (a not_expr). */
static int32_t
parse_chain (parser_t *p, mwatch_expr_tok_kind_t joiner);

static int32_t
chain_operand (parser_t *p, mwatch_expr_tok_kind_t joiner)
{
   return joiner == TOK_OR ? parse_chain (p, TOK_AND) : parse_not (p);
}

/* One level of and or or: the operands chained by `next` under one node. */
static int32_t
parse_chain (parser_t *p, mwatch_expr_tok_kind_t joiner)
{
   int32_t first = chain_operand (p, joiner);
   int32_t last = first;

   if (first < 0 || p->lex.tok.kind != joiner) {
      return first;
   }
   int32_t n = new_node (p, joiner == TOK_OR ? NODE_OR : NODE_AND, first);
   while (p->lex.tok.kind == joiner) {
      int32_t next = advance (p) ? chain_operand (p, joiner) : -1;
      if (next < 0) {
         return -1;
      }
      p->prog->nodes[last].next = next;
      last = next;
   }
   return n;
}

static int32_t
parse_or (parser_t *p)
{
   return parse_chain (p, TOK_OR);
}

/* Says why a token after a whole expression cannot be there. */
static void
fail_trailing (parser_t *p)
{
   const mwatch_expr_tok_t *tok = &p->lex.tok;
   const char *hint = "join conditions with and, or";
   static const char *const upper[] = {"AND", "OR", "NOT", "IN", "TRUE", "FALSE", "NULL"};

   if (tok->kind == TOK_RPAREN) {
      hint = "this \")\" closes no \"(\"";
   }
   for (size_t i = 0; tok->kind == TOK_PATH && i < sizeof upper / sizeof *upper; i++) {
      if (tok->len == strlen (upper[i]) &&
          strncasecmp (p->lex.text + tok->start, upper[i], tok->len) == 0) {
         hint = "keywords are lowercase: and, or, not, in, true, false, null";
      }
   }
   fail_here (p, hint, "unexpected token");
}

static bool
compile (mwatch_expr_program_t *prog, const char *expression, bool value, bson_error_t *error)
{
   parser_t p = {.prog = prog, .error = error, .value = value};

   memset (prog, 0, sizeof *prog);
   _mwatch_expr_lexer_init (&p.lex, expression);
   if (advance (&p) && p.lex.tok.kind == TOK_END) {
      fail (&p, 0, "write a condition, as in Collection == \"news\"", "empty expression");
   }
   if (!p.failed) {
      prog->root = parse_or (&p);
   }
   if (!p.failed && p.lex.tok.kind != TOK_END) {
      fail_trailing (&p);
   }
   if (p.failed) {
      _mwatch_expr_program_destroy (prog);
      return false;
   }
   for (size_t i = 0; i < prog->count; i++) {
      mwatch_expr_node_t *node = &prog->nodes[i];
      if (node->kind == NODE_VALUE && node->value.type == MWATCH_TYPE_UTF8) {
         node->value.value.v_utf8.str = prog->strings + node->str;
      }
   }
   return true;
}

bool
_mwatch_expr_program_compile (mwatch_expr_program_t *prog,
                              const char *expression,
                              bson_error_t *error)
{
   return compile (prog, expression, false, error);
}

bool
_mwatch_expr_program_compile_value (mwatch_expr_program_t *prog,
                                    const char *text,
                                    bson_error_t *error)
{
   return compile (prog, text, true, error);
}

void
_mwatch_expr_program_destroy (mwatch_expr_program_t *prog)
{
   for (size_t i = 0; i < prog->regex_count; i++) {
      regfree (prog->regexes[i]);
      bson_free (prog->regexes[i]);
   }
   bson_free (prog->regexes);
   bson_free (prog->nodes);
   bson_free (prog->strings);
   memset (prog, 0, sizeof *prog);
}
