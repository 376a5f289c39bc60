/* The bounds of a pattern after =~, checked before glibc's regcomp sees it.
 *
 * glibc builds its automaton by copying the repeated part of a pattern:
 * "x+" is "xx*", "x{2,5}" is five copies of x, four of them optional, so
 * stacked or nested repetitions multiply ("Y" followed by 25 "+" is 2^25
 * copies: 21 GB in 60 s), and the closures over optional copies grow with
 * the square of their number (a{1,10000}: 790 MB).  Back-references make
 * regexec backtrack: ^(a|aa)*\1$ took over 20 s on 4 KB.  So a pattern is
 * refused at load when it is longer than MWATCH_EXPR_MAX_PATTERN bytes,
 * when the copies it would expand to exceed MWATCH_EXPR_MAX_REGEX_SIZE,
 * when its repetitions nest deeper than MWATCH_EXPR_MAX_REPEAT_NESTING, or
 * when it has a back-reference.  The count is an estimate from the text
 * alone, on the safe side: every character counts as one position.  A
 * malformed pattern passes here and regcomp says what is wrong with it. */
#include "filter-expression-private.h"

#include <stdio.h>
#include <string.h>

/* A group being read: the sizes of its finished alternatives, of the one
 * being read and of its last item (which a repetition would copy), and how
 * deep repetitions nest in it. */
typedef struct {
   size_t total;
   size_t branch;
   size_t last;
   int last_nest;
   int nest;
} group_t;

/* Sizes saturate just above the limit: past it, only "too large" matters. */
#define TOO_LARGE (MWATCH_EXPR_MAX_REGEX_SIZE + 1)

static size_t
sat_add (size_t a, size_t b)
{
   return a + b > TOO_LARGE ? TOO_LARGE : a + b;
}

static size_t
sat_mul (size_t a, size_t b)
{
   return b && a > TOO_LARGE / b ? TOO_LARGE : sat_add (a * b, 0);
}

static void
item (group_t *g, size_t size, int nest)
{
   g->branch = sat_add (g->branch, size);
   g->last = size;
   g->last_nest = nest;
   g->nest = nest > g->nest ? nest : g->nest;
}

/* The last item repeated: `copies` of it, plus the repetition itself. */
static void
repeat (group_t *g, size_t copies)
{
   size_t size;

   if (g->last == 0) {
      item (g, 1, 0); /* nothing to repeat: regcomp decides */
      return;
   }
   size = sat_add (sat_mul (g->last, copies), 1);
   g->branch = sat_add (g->branch - g->last, size);
   g->last = size;
   g->last_nest++;
   g->nest = g->last_nest > g->nest ? g->last_nest : g->nest;
}

/* Reads up to 5 digits at p[*i] into *n (RE_DUP_MAX is 32767); false when
 * there are none. */
static bool
number (const char *p, size_t *i, size_t *n)
{
   size_t start = *i;

   *n = 0;
   while (p[*i] >= '0' && p[*i] <= '9' && *i - start < 5) {
      *n = *n * 10 + (size_t) (p[*i] - '0');
      (*i)++;
   }
   return *i > start;
}

/* An interval {n}, {n,}, {,m} or {n,m} at p[*i] ('{'): moves *i to its
 * '}' and sets *copies to the copies glibc makes; false when it is not
 * one. */
static bool
interval (const char *p, size_t *i, size_t *copies)
{
   size_t j = *i + 1;
   size_t min = 0;
   size_t max = 0;
   bool has_min = number (p, &j, &min);
   bool has_max = false;

   if (p[j] == ',') {
      j++;
      has_max = number (p, &j, &max);
   } else {
      has_max = has_min;
      max = min;
   }
   if (p[j] != '}' || (!has_min && !has_max)) {
      return false;
   }
   *i = j;
   *copies = has_max ? max : min + 1;
   *copies = *copies ? *copies : 1;
   return true;
}

/* Moves *i from the '[' of a bracket expression to its ']'. */
static void
bracket (const char *p, size_t *i)
{
   size_t j = *i + 1;

   j += p[j] == '^';
   j += p[j] == ']'; /* a leading ']' is a member */
   while (p[j] && p[j] != ']') {
      if (p[j] == '[' && p[j + 1] && strchr (":=.", p[j + 1])) {
         const char *end = strchr (p + j + 2, p[j + 1]);
         while (end && end[1] != ']') {
            end = strchr (end + 1, p[j + 1]);
         }
         if (!end) {
            break;
         }
         j = (size_t) (end - p) + 1;
      }
      j++;
   }
   *i = p[j] ? j : j - 1;
}

static bool
refuse (char *what, size_t what_size, const char *fmt, size_t n)
{
   snprintf (what, what_size, fmt, n);
   return false;
}

bool
_mwatch_expr_regex_bounded (const char *p, char *what, size_t what_size)
{
   group_t stack[MWATCH_EXPR_MAX_DEPTH + 1];
   int top = 0;
   size_t len = strlen (p);
   size_t copies;

   if (len > MWATCH_EXPR_MAX_PATTERN) {
      snprintf (what,
                what_size,
                "regular expression of %zu bytes is too long (at most %d)",
                len,
                MWATCH_EXPR_MAX_PATTERN);
      return false;
   }
   memset (&stack[0], 0, sizeof stack[0]);
   for (size_t i = 0; i < len; i++) {
      group_t *g = &stack[top];
      switch (p[i]) {
      case '\\':
         if (p[i + 1] >= '1' && p[i + 1] <= '9') {
            return refuse (what,
                           what_size,
                           "back-reference \\%zu in a regular expression (back-references "
                           "are not POSIX extended syntax and can take exponential time)",
                           (size_t) (p[i + 1] - '0'));
         }
         i += p[i + 1] != '\0';
         item (g, 1, 0);
         break;
      case '[':
         bracket (p, &i);
         item (g, 1, 0);
         break;
      case '(':
         if (top == MWATCH_EXPR_MAX_DEPTH) {
            return refuse (what,
                           what_size,
                           "regular expression nests groups deeper than %zu",
                           (size_t) MWATCH_EXPR_MAX_DEPTH);
         }
         memset (&stack[++top], 0, sizeof stack[top]);
         break;
      case ')':
         if (top == 0) {
            item (g, 1, 0);
            break;
         }
         top--;
         item (&stack[top], sat_add (sat_add (g->total, g->branch), 1), g->nest);
         break;
      case '|':
         g->total = sat_add (g->total, g->branch);
         g->branch = g->last = 0;
         break;
      case '*':
      case '?':
         repeat (g, 1);
         break;
      case '+':
         repeat (g, 2);
         break;
      case '{':
         if (interval (p, &i, &copies)) {
            repeat (g, copies);
         } else {
            item (g, 1, 0);
         }
         break;
      default:
         item (g, 1, 0);
      }
      if (stack[top].nest > MWATCH_EXPR_MAX_REPEAT_NESTING) {
         return refuse (what,
                        what_size,
                        "regular expression nests repetitions deeper than %zu (as in "
                        "(a+)+ or a++)",
                        (size_t) MWATCH_EXPR_MAX_REPEAT_NESTING);
      }
   }
   /* Groups left open are regcomp's error; their sizes count all the same. */
   for (; top > 0; top--) {
      item (&stack[top - 1], sat_add (stack[top].total, stack[top].branch), 0);
   }
   if (sat_add (stack[0].total, stack[0].branch) > MWATCH_EXPR_MAX_REGEX_SIZE) {
      return refuse (what,
                     what_size,
                     "regular expression too large: its repetitions expand to more than "
                     "%zu positions",
                     (size_t) MWATCH_EXPR_MAX_REGEX_SIZE);
   }
   return true;
}
