/* The expression lexer: turns the text into tokens one at a time, for the
 * parser's single token of lookahead.  Every mistake it can see on its own
 * (a lone '=', an unterminated string, "1.2.3") it reports with the byte
 * offset where the offending token starts. */
#include "filter-expression-private.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
_mwatch_expr_lexer_init (mwatch_expr_lexer_t *lex, const char *text)
{
   memset (lex, 0, sizeof *lex);
   lex->text = text;
   lex->len = strlen (text);
}

static bool
lex_fail (mwatch_expr_lexer_t *lex, size_t at, const char *hint, const char *what, ...)
   BSON_GNUC_PRINTF (4, 5);

static bool
lex_fail (mwatch_expr_lexer_t *lex, size_t at, const char *hint, const char *what, ...)
{
   va_list args;

   va_start (args, what);
   vsnprintf (lex->what, sizeof lex->what, what, args);
   va_end (args);
   bson_strncpy (lex->hint, hint, sizeof lex->hint);
   lex->err_at = at;
   return false;
}

static bool
is_name_start (char c)
{
   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool
is_digit (char c)
{
   return c >= '0' && c <= '9';
}

/* After a dot, a key may be an array index, so digits may start it. */
static bool
is_name_char (char c)
{
   return is_name_start (c) || is_digit (c);
}

static const struct {
   const char *word;
   mwatch_expr_tok_kind_t kind;
} keywords[] = {
   {"and", TOK_AND},
   {"or", TOK_OR},
   {"not", TOK_NOT},
   {"in", TOK_IN},
   {"true", TOK_TRUE},
   {"false", TOK_FALSE},
   {"null", TOK_NULL},
   {"is", TOK_IS},
   /* Python's spellings, so that pymongowatch's expressions read as they
    * were written. */
   {"True", TOK_TRUE},
   {"False", TOK_FALSE},
   {"None", TOK_NULL},
};

static bool
lex_path (mwatch_expr_lexer_t *lex)
{
   const char *t = lex->text;
   size_t i = lex->pos;
   bool dotted = false;

   for (;;) {
      while (i < lex->len && is_name_char (t[i])) {
         i++;
      }
      if (i >= lex->len || t[i] != '.') {
         break;
      }
      if (i + 1 >= lex->len || !is_name_char (t[i + 1])) {
         return lex_fail (lex,
                          i + 1,
                          "a dot in a path must be followed by a key, as in Filter.user.name",
                          "expected a key after \"%.*s\"",
                          (int) (i + 1 - lex->pos),
                          t + lex->pos);
      }
      dotted = true;
      i++;
   }
   lex->tok.kind = TOK_PATH;
   lex->tok.len = i - lex->pos;
   for (size_t k = 0; !dotted && k < sizeof keywords / sizeof *keywords; k++) {
      if (strlen (keywords[k].word) == lex->tok.len &&
          memcmp (keywords[k].word, t + lex->pos, lex->tok.len) == 0) {
         lex->tok.kind = keywords[k].kind;
      }
   }
   return true;
}

/* Moves *i past the digits at t[*i]; false when there are none. */
static bool
take_digits (const char *t, size_t *i, size_t len)
{
   size_t start = *i;

   while (*i < len && is_digit (t[*i])) {
      (*i)++;
   }
   return *i > start;
}

/* -?digits[.digits][(e|E)[+-]digits], and nothing glued to it. */
static bool
lex_number (mwatch_expr_lexer_t *lex)
{
   const char *t = lex->text;
   size_t start = lex->pos;
   size_t i = start + (t[start] == '-');
   bool integer = true;
   bool ok = take_digits (t, &i, lex->len);

   if (ok && i < lex->len && t[i] == '.') {
      integer = false;
      i++;
      ok = take_digits (t, &i, lex->len);
   }
   if (ok && i < lex->len && (t[i] == 'e' || t[i] == 'E')) {
      integer = false;
      i += (i + 1 < lex->len && (t[i + 1] == '+' || t[i + 1] == '-')) ? 2 : 1;
      ok = take_digits (t, &i, lex->len);
   }
   while (i < lex->len && (is_name_char (t[i]) || t[i] == '.')) {
      ok = false;
      i++;
   }
   lex->tok.len = i - start;
   if (!ok) {
      return lex_fail (lex,
                       start,
                       "write numbers as 42, -7, 0.25 or 1e6",
                       "bad number \"%.*s\"",
                       (int) lex->tok.len,
                       t + start);
   }
   errno = 0;
   if (integer) {
      lex->tok.kind = TOK_INT;
      lex->tok.v_int = strtoll (t + start, NULL, 10);
      ok = errno != ERANGE;
   } else {
      /* The decimal point is '.' whatever the process's locale says. */
      locale_t c_locale = newlocale (LC_NUMERIC_MASK, "C", (locale_t) 0);
      lex->tok.kind = TOK_DOUBLE;
      if (c_locale) {
         lex->tok.v_double = strtod_l (t + start, NULL, c_locale);
         freelocale (c_locale);
      } else {
         lex->tok.v_double = strtod (t + start, NULL);
      }
      ok = !isinf (lex->tok.v_double);
   }
   if (!ok) {
      return lex_fail (lex,
                       start,
                       integer ? "integers are 64-bit; with a decimal point it is a double"
                               : "doubles reach about 1.8e308",
                       "number \"%.*s\" out of range",
                       (int) lex->tok.len,
                       t + start);
   }
   return true;
}

/* A string in double quotes, or in single quotes as Python writes them. */
static bool
lex_string (mwatch_expr_lexer_t *lex)
{
   const char *t = lex->text;
   char quote = t[lex->pos];
   size_t i = lex->pos + 1;

   for (; i < lex->len && t[i] != quote; i++) {
      if (t[i] != '\\') {
         continue;
      }
      if (i + 1 < lex->len && strchr ("\"'\\nt", t[i + 1])) {
         i++;
         continue;
      }
      return lex_fail (lex,
                       i,
                       "the escapes are \\\", \\', \\\\, \\n and \\t",
                       "unknown escape \"\\%.1s\" in a string",
                       t + i + 1);
   }
   if (i >= lex->len) {
      return lex_fail (lex,
                       lex->pos,
                       quote == '"' ? "close the string with a double quote"
                                    : "close the string with a single quote",
                       "unterminated string");
   }
   lex->tok.kind = TOK_STRING;
   lex->tok.len = i + 1 - lex->pos;
   return true;
}

size_t
_mwatch_expr_lexer_unquote (const mwatch_expr_lexer_t *lex, char *out)
{
   const char *s = lex->text + lex->tok.start + 1;
   const char *end = lex->text + lex->tok.start + lex->tok.len - 1;
   size_t n = 0;

   while (s < end) {
      char c = *s++;
      if (c == '\\') {
         c = *s++;
         c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
      }
      out[n++] = c;
   }
   return n;
}

/* Operators of one or two characters, and what to say about lookalikes. */
static bool
lex_operator (mwatch_expr_lexer_t *lex)
{
   static const struct {
      const char *text;
      mwatch_expr_tok_kind_t kind;
   } ops[] = {
      {"==", TOK_EQ},     {"!=", TOK_NE},       {"<=", TOK_LE},       {">=", TOK_GE},
      {"=~", TOK_MATCH},  {"<", TOK_LT},        {">", TOK_GT},        {"(", TOK_LPAREN},
      {")", TOK_RPAREN},  {"[", TOK_LBRACKET},  {"]", TOK_RBRACKET},  {",", TOK_COMMA},
   };
   static const struct {
      const char *text;
      const char *hint;
   } wrong[] = {
      {"&&", "write and"},
      {"||", "write or"},
      {"=", "compare with =="},
      {"!", "negate with not, or compare with !="},
      {"&", "write and"},
      {"|", "write or"},
   };
   const char *t = lex->text + lex->pos;
   size_t left = lex->len - lex->pos;

   for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
      size_t n = strlen (ops[k].text);
      if (n <= left && memcmp (ops[k].text, t, n) == 0) {
         lex->tok.kind = ops[k].kind;
         lex->tok.len = n;
         return true;
      }
   }
   for (size_t k = 0; k < sizeof wrong / sizeof *wrong; k++) {
      size_t n = strlen (wrong[k].text);
      if (n <= left && memcmp (wrong[k].text, t, n) == 0) {
         return lex_fail (lex, lex->pos, wrong[k].hint, "unknown operator \"%s\"", wrong[k].text);
      }
   }
   /* Show the whole UTF-8 character, not its first byte. */
   size_t n = 1;
   while (n < left && n < 4 && ((unsigned char) t[n] & 0xc0) == 0x80) {
      n++;
   }
   return lex_fail (lex,
                    lex->pos,
                    "operators are == != < <= > >= in =~ is and or not",
                    "unexpected character \"%.*s\"",
                    (int) n,
                    t);
}

bool
_mwatch_expr_lexer_next (mwatch_expr_lexer_t *lex)
{
   const char *t = lex->text;

   while (lex->pos < lex->len && strchr (" \t\r\n", t[lex->pos])) {
      lex->pos++;
   }
   memset (&lex->tok, 0, sizeof lex->tok);
   lex->tok.start = lex->pos;
   if (lex->pos >= lex->len) {
      lex->tok.kind = TOK_END;
      return true;
   }

   char c = t[lex->pos];
   char c1 = lex->pos + 1 < lex->len ? t[lex->pos + 1] : '\0';
   bool ok;
   if (is_name_start (c)) {
      ok = lex_path (lex);
   } else if (is_digit (c) || (c == '-' && (is_digit (c1) || c1 == '.'))) {
      ok = lex_number (lex);
   } else if (c == '"' || c == '\'') {
      ok = lex_string (lex);
   } else {
      ok = lex_operator (lex);
   }
   lex->pos += lex->tok.len;
   return ok;
}
