/* The expression filter: evaluates a compiled program against each
 * record's message.
 *
 * Evaluation allocates nothing: values are mwatch_value_t views into the
 * message (mwatch_message_get copies nothing) or into the program's own
 * literals, and comparisons read them in place.  It only reads the program
 * (but for an atomic counter), so one filter serves any number of threads
 * at once.  regexec is the C
 * library's: glibc's allocates nothing per call for the patterns tried
 * (valgrind's heap count does not grow with the number of matches), but
 * POSIX promises nothing about it. */
#include "filter-expression-private.h"

#include <string.h>

/* One evaluation.  With `strict` (pymongowatch's ExpressionFilter), a
 * field that is not there or an ordering between values that have no
 * order sets `failed`, as Python's eval raises NameError or TypeError,
 * and the evaluation stops: its result is then the filter's
 * exception_result.  Without it, a missing field is null and such an
 * ordering is false. */
typedef struct {
   const mwatch_expr_program_t *prog;
   const mwatch_message_t *msg;
   bool strict;
   bool failed;
} eval_t;

static bool
eval_bool (eval_t *ev, int32_t n);

static void
eval_value (eval_t *ev, int32_t n, mwatch_value_t *out)
{
   const mwatch_expr_program_t *prog = ev->prog;
   const mwatch_expr_node_t *node = &prog->nodes[n];

   if (node->kind == NODE_VALUE) {
      *out = node->value;
   } else if (node->kind == NODE_PATH) {
      /* A path that is not there is null. */
      if (!mwatch_message_get (ev->msg, prog->strings + node->str, out)) {
         out->type = MWATCH_TYPE_NULL;
         ev->failed |= ev->strict;
      }
   } else {
      out->type = MWATCH_TYPE_BOOL;
      out->value.v_bool = eval_bool (ev, n);
   }
}

static bool
is_number (const mwatch_value_t *v)
{
   return v->type == MWATCH_TYPE_INT64 || v->type == MWATCH_TYPE_DOUBLE;
}

static double
as_double (const mwatch_value_t *v)
{
   return v->type == MWATCH_TYPE_INT64 ? (double) v->value.v_int64 : v->value.v_double;
}

static int
sign_of (int64_t a, int64_t b)
{
   return (a > b) - (a < b);
}

/* Orders `a` and `b` into *order (-1, 0, 1); false when they cannot be
 * ordered: different types, types without an order, or a NaN. */
static bool
order (const mwatch_value_t *a, const mwatch_value_t *b, int *result)
{
   if (a->type == MWATCH_TYPE_INT64 && b->type == MWATCH_TYPE_INT64) {
      /* Both integers: exact, where doubles would round above 2^53. */
      *result = sign_of (a->value.v_int64, b->value.v_int64);
      return true;
   }
   if (is_number (a) && is_number (b)) {
      double x = as_double (a);
      double y = as_double (b);
      *result = (x > y) - (x < y);
      return x == y || x < y || x > y;
   }
   if (a->type == MWATCH_TYPE_UTF8 && b->type == MWATCH_TYPE_UTF8) {
      size_t la = a->value.v_utf8.len;
      size_t lb = b->value.v_utf8.len;
      int c = memcmp (a->value.v_utf8.str, b->value.v_utf8.str, la < lb ? la : lb);
      *result = c ? (c > 0) - (c < 0) : sign_of ((int64_t) la, (int64_t) lb);
      return true;
   }
   if (a->type == MWATCH_TYPE_DATETIME && b->type == MWATCH_TYPE_DATETIME) {
      *result = sign_of (a->value.v_datetime, b->value.v_datetime);
      return true;
   }
   return false;
}

/* Equality: values of different types are never equal (numbers excepted:
 * 5 == 5.0).  The language has no literal for an ObjectId or the like, so
 * those compare equal only to the same value reached by another path. */
static bool
equal (const mwatch_value_t *a, const mwatch_value_t *b)
{
   int result;

   if (order (a, b, &result)) {
      return result == 0;
   }
   if (a->type != b->type) {
      return false;
   }
   switch (a->type) {
   case MWATCH_TYPE_NULL:
      return true;
   case MWATCH_TYPE_BOOL:
      return a->value.v_bool == b->value.v_bool;
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
      return a->value.v_doc.len == b->value.v_doc.len &&
             memcmp (a->value.v_doc.data, b->value.v_doc.data, a->value.v_doc.len) == 0;
   case MWATCH_TYPE_BSON:
      return a->value.v_bson.value_type == BSON_TYPE_OID &&
             b->value.v_bson.value_type == BSON_TYPE_OID &&
             bson_oid_equal (&a->value.v_bson.value.v_oid, &b->value.v_bson.value.v_oid);
   case MWATCH_TYPE_INT64:
   case MWATCH_TYPE_DOUBLE:
   case MWATCH_TYPE_UTF8:
   case MWATCH_TYPE_DATETIME:
   default:
      return false; /* NaN */
   }
}

/* An ordering that fails: in strict mode an error unless both are
 * numbers (a NaN orders nothing, in Python too). */
static bool
unordered (eval_t *ev, const mwatch_value_t *a, const mwatch_value_t *b)
{
   ev->failed |= ev->strict && !(is_number (a) && is_number (b));
   return false;
}

/* The comparison operators; != is exactly "not ==". */
static bool
compare (eval_t *ev, mwatch_expr_tok_kind_t op, const mwatch_value_t *a, const mwatch_value_t *b)
{
   int result;

   if (op != TOK_EQ && op != TOK_NE && !order (a, b, &result)) {
      return unordered (ev, a, b);
   }
   switch (op) {
   case TOK_EQ:
      return equal (a, b);
   case TOK_NE:
      return !equal (a, b);
   case TOK_LT:
      return order (a, b, &result) && result < 0;
   case TOK_LE:
      return order (a, b, &result) && result <= 0;
   case TOK_GT:
      return order (a, b, &result) && result > 0;
   case TOK_GE:
      return order (a, b, &result) && result >= 0;
   default:
      return false;
   }
}

static bool
eval_bool (eval_t *ev, int32_t n)
{
   const mwatch_expr_program_t *prog = ev->prog;
   const mwatch_expr_node_t *node = &prog->nodes[n];
   mwatch_value_t a;
   mwatch_value_t b;

   switch (node->kind) {
   case NODE_OR:
   case NODE_AND:
      /* Short-circuit: or stops at the first true, and at the first false. */
      for (int32_t c = node->a; c >= 0 && !ev->failed; c = prog->nodes[c].next) {
         if (eval_bool (ev, c) == (node->kind == NODE_OR)) {
            return node->kind == NODE_OR;
         }
      }
      return node->kind == NODE_AND;
   case NODE_NOT:
      return !eval_bool (ev, node->a);
   case NODE_CMP:
      eval_value (ev, node->a, &a);
      eval_value (ev, node->b, &b);
      return compare (ev, node->op, &a, &b);
   case NODE_IN:
      eval_value (ev, node->a, &a);
      for (int32_t c = node->b; c >= 0; c = prog->nodes[c].next) {
         eval_value (ev, c, &b);
         if (equal (&a, &b)) {
            return true;
         }
      }
      return false;
   case NODE_MATCH:
      eval_value (ev, node->a, &a);
      /* regexec reads up to a NUL, and every string here has one at its
       * end: message text is stored with one, BSON strings carry one and
       * the program's literals do too.  So a string with a NUL inside is
       * matched only up to its first NUL. */
      if (a.type != MWATCH_TYPE_UTF8) {
         return false;
      }
      /* glibc's regexec takes time growing with the square of the string
       * for some patterns ((a|aa)*c: 15.7 s on 100 KB, 35 ms on 4 KB):
       * a longer string does not match, so that no record can stall the
       * thread evaluating it; it is counted.  (The program is not const
       * where it was allocated: only this counter changes.) */
      if (a.value.v_utf8.len > MWATCH_EXPR_MAX_SUBJECT) {
         atomic_fetch_add_explicit (
            (atomic_size_t *) &prog->too_long, 1, memory_order_relaxed);
         return false;
      }
      return regexec (prog->regexes[node->regex], a.value.v_utf8.str, 0, NULL, 0) == 0;
   case NODE_PATH:
   case NODE_VALUE:
   default:
      /* A path or literal alone: true when it is the boolean true. */
      eval_value (ev, n, &a);
      return a.type == MWATCH_TYPE_BOOL && a.value.v_bool;
   }
}

bool
_mwatch_expr_program_eval (const mwatch_expr_program_t *prog, const mwatch_message_t *msg)
{
   eval_t ev = {.prog = prog, .msg = msg};
   return eval_bool (&ev, prog->root);
}

bool
_mwatch_expr_program_eval_strict (const mwatch_expr_program_t *prog,
                                  const mwatch_message_t *msg,
                                  bool *failed)
{
   eval_t ev = {.prog = prog, .msg = msg, .strict = true};
   bool result = eval_bool (&ev, prog->root);
   *failed = ev.failed;
   return result;
}

bool
_mwatch_expr_program_value (const mwatch_expr_program_t *prog,
                            const mwatch_message_t *msg,
                            mwatch_value_t *out)
{
   eval_t ev = {.prog = prog, .msg = msg, .strict = true};
   eval_value (&ev, prog->root, out);
   return !ev.failed;
}

typedef struct {
   mwatch_expr_program_t prog; /* first: the program is the filter's impl */
   bool strict;
   bool exception_result;
} expression_t;

static bool
expression_filter (void *impl, mwatch_filter_t *self, mwatch_record_t *record)
{
   BSON_UNUSED (self);
   expression_t *e = impl;
   if (!e->strict) {
      /* A record without a message (a plain text line) has every field null. */
      return _mwatch_expr_program_eval (&e->prog, record->watch);
   }
   bool failed;
   bool result = _mwatch_expr_program_eval_strict (&e->prog, record->watch, &failed);
   return failed ? e->exception_result : result;
}

static void
expression_destroy (void *impl)
{
   expression_t *e = impl;
   _mwatch_expr_program_destroy (&e->prog);
   bson_free (e);
}

static const mwatch_filter_vtable_t expression_vtable = {
   .filter = expression_filter,
   .destroy = expression_destroy,
};

static mwatch_filter_t *
new_expression (const char *expression, bool strict, bool exception_result, bson_error_t *error)
{
   expression_t *e;

   if (!expression) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "the expression filter needs an expression, as in Collection == \"news\"");
      return NULL;
   }
   e = bson_malloc0 (sizeof *e);
   if (!_mwatch_expr_program_compile (&e->prog, expression, error)) {
      bson_free (e);
      return NULL;
   }
   e->strict = strict;
   e->exception_result = exception_result;
   return mwatch_filter_new (&expression_vtable, e);
}

mwatch_filter_t *
mwatch_filter_new_expression (const char *expression, bson_error_t *error)
{
   return new_expression (expression, false, false, error);
}

mwatch_filter_t *
mwatch_filter_new_expression_strict (const char *expression,
                                     bool exception_result,
                                     bson_error_t *error)
{
   return new_expression (expression, true, exception_result, error);
}
