/* The modify filter: pymongowatch's ExecuteFilter without Python.  Its
 * program is a list of statements, one a line (or separated by ';'):
 *
 *   Field = <value>          set a top-level field: a path, a literal or
 *                            a condition of the expression language
 *   Field = mask(<value>)    the same, masked as the redact filter's
 *                            placeholder mode masks (strings as x, ...)
 *   del Field[, Field ...]   remove fields
 *   _result = <value>        keep the record when the value is true
 *   # comment
 *
 * Statements run in order, each seeing what the ones before it set, as
 * Python's exec would.  They are strict as Python is: reading a field that
 * is not there (or ordering values that have no order) stops the program,
 * the record is left as it came, and the filter returns exception_result
 * (true by default, as pymongowatch's).  To leave the record untouched on
 * a failure, the program runs on a copy first and only a program that
 * ends is written into the record.
 *
 * A field set from other fields is listed, with its sources, in the
 * private field MWATCH_DERIVED_FIELD, so that a redact filter later in the
 * list redacts it when it covers a source (filter-redact.c). */
#include "filter-expression-private.h"
#include "filter-private.h"

#include <string.h>

typedef enum { STMT_SET, STMT_MASK, STMT_DEL, STMT_RESULT } stmt_kind_t;

typedef struct {
   stmt_kind_t kind;
   char **names;              /* SET/MASK: the target; DEL: the fields */
   char **sources;            /* the top-level fields the value reads */
   mwatch_expr_program_t prog; /* SET, MASK, RESULT */
} stmt_t;

typedef struct {
   stmt_t *stmts;
   size_t count;
   bool exception_result;
} modify_t;

/* ---------------------------------------------------------------- values */

/* Python's truth of a value, for _result. */
static bool
truthy (const mwatch_value_t *v)
{
   switch (v->type) {
   case MWATCH_TYPE_BOOL:
      return v->value.v_bool;
   case MWATCH_TYPE_INT64:
      return v->value.v_int64 != 0;
   case MWATCH_TYPE_DOUBLE:
      return v->value.v_double != 0;
   case MWATCH_TYPE_UTF8:
      return v->value.v_utf8.len > 0;
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
      return v->value.v_doc.len > 5; /* an empty BSON document is 5 bytes */
   case MWATCH_TYPE_NULL:
      return false;
   case MWATCH_TYPE_DATETIME:
   case MWATCH_TYPE_BSON:
   default:
      return true;
   }
}

/* `target`'s entry in MWATCH_DERIVED_FIELD, made before the target is
 * set (the target may be one of its own sources): each source with
 * whether the default redaction covers it, and the sources of a source
 * that was itself derived. */
static void
derived_entry (const mwatch_message_t *msg, char *const *sources, bson_t *entry)
{
   mwatch_value_t old;
   bson_t have;
   bson_iter_t it;
   bson_iter_t inner;
   bool had = mwatch_message_get (msg, MWATCH_DERIVED_FIELD, &old) &&
              mwatch_value_as_bson (&old, &have);

   bson_init (entry);
   for (size_t i = 0; sources[i]; i++) {
      mwatch_value_t v;
      bool covered = strcmp (sources[i], "Error") == 0 ||
                     (mwatch_message_get (msg, sources[i], &v) &&
                      (v.type == MWATCH_TYPE_DOCUMENT || v.type == MWATCH_TYPE_ARRAY));
      bson_append_bool (entry, sources[i], -1, covered);
      if (had && bson_iter_init_find (&it, &have, sources[i]) &&
          BSON_ITER_HOLDS_DOCUMENT (&it) && bson_iter_recurse (&it, &inner)) {
         while (bson_iter_next (&inner)) {
            bson_append_bool (entry, bson_iter_key (&inner), -1, bson_iter_as_bool (&inner));
         }
      }
   }
}

/* Puts `entry` under `target` in MWATCH_DERIVED_FIELD; other targets'
 * entries stay. */
static void
mark_derived (mwatch_message_t *msg, const char *target, const bson_t *entry)
{
   mwatch_value_t old;
   bson_t have;
   bson_iter_t it;
   bson_t derived = BSON_INITIALIZER;

   if (mwatch_message_get (msg, MWATCH_DERIVED_FIELD, &old) &&
       mwatch_value_as_bson (&old, &have) && bson_iter_init (&it, &have)) {
      while (bson_iter_next (&it)) {
         if (strcmp (bson_iter_key (&it), target) != 0) {
            bson_append_iter (&derived, NULL, 0, &it);
         }
      }
   }
   bson_append_document (&derived, target, -1, entry);
   mwatch_message_set_document (msg, MWATCH_DERIVED_FIELD, &derived);
   bson_destroy (&derived);
}

/* Runs the statements on `msg`; false when one failed. */
static bool
run (const modify_t *m, mwatch_message_t *msg, bool *result)
{
   for (size_t i = 0; i < m->count; i++) {
      const stmt_t *s = &m->stmts[i];
      mwatch_value_t v;
      if (s->kind == STMT_DEL) {
         for (char **name = s->names; *name; name++) {
            /* Python's del of a name that is not there raises. */
            if (!mwatch_message_remove (msg, *name)) {
               return false;
            }
         }
         continue;
      }
      if (!_mwatch_expr_program_value (&s->prog, msg, &v)) {
         return false;
      }
      if (s->kind == STMT_RESULT) {
         *result = truthy (&v);
         continue;
      }
      /* The value may point into msg: set it from a copy. */
      bson_t tmp = BSON_INITIALIZER;
      bson_iter_t it;
      mwatch_value_t own = v;
      if (v.type == MWATCH_TYPE_UTF8 || v.type == MWATCH_TYPE_DOCUMENT ||
          v.type == MWATCH_TYPE_ARRAY) {
         if (v.type == MWATCH_TYPE_UTF8) {
            bson_append_utf8 (&tmp, "v", 1, v.value.v_utf8.str, (int) v.value.v_utf8.len);
         } else {
            bson_t sub;
            mwatch_value_as_bson (&v, &sub);
            if (v.type == MWATCH_TYPE_DOCUMENT) {
               bson_append_document (&tmp, "v", 1, &sub);
            } else {
               bson_append_array (&tmp, "v", 1, &sub);
            }
         }
         bson_iter_init_find (&it, &tmp, "v");
         if (v.type == MWATCH_TYPE_UTF8) {
            uint32_t len;
            own.value.v_utf8.str = bson_iter_utf8 (&it, &len);
         } else {
            uint32_t len;
            const uint8_t *data;
            if (v.type == MWATCH_TYPE_DOCUMENT) {
               bson_iter_document (&it, &len, &data);
            } else {
               bson_iter_array (&it, &len, &data);
            }
            own.value.v_doc.data = data;
         }
      }
      const char *target = s->names[0];
      bool derived = s->kind == STMT_SET && s->sources && s->sources[0];
      bson_t entry;
      if (derived) {
         derived_entry (msg, s->sources, &entry);
      }
      mwatch_message_set_value (msg, target, &own);
      bson_destroy (&tmp);
      if (s->kind == STMT_MASK) {
         _mwatch_redact_mask_field (msg, target);
      } else if (derived) {
         mark_derived (msg, target, &entry);
         bson_destroy (&entry);
      }
   }
   return true;
}

static bool
modify_filter (void *impl, mwatch_filter_t *self, mwatch_record_t *record)
{
   BSON_UNUSED (self);
   const modify_t *m = impl;
   bool result = true;

   /* A plain text line has no fields to change. */
   if (!record->watch) {
      return true;
   }
   mwatch_message_t *trial = mwatch_message_copy (record->watch);
   bool ok = run (m, trial, &result);
   mwatch_message_destroy (trial);
   if (!ok) {
      return m->exception_result;
   }
   result = true;
   run (m, record->watch, &result);
   return result;
}

static void
modify_destroy (void *impl)
{
   modify_t *m = impl;

   for (size_t i = 0; i < m->count; i++) {
      _mwatch_names_free (m->stmts[i].names);
      _mwatch_names_free (m->stmts[i].sources);
      if (m->stmts[i].kind != STMT_DEL) {
         _mwatch_expr_program_destroy (&m->stmts[i].prog);
      }
   }
   bson_free (m->stmts);
   bson_free (m);
}

static const mwatch_filter_vtable_t modify_vtable = {
   .filter = modify_filter,
   .destroy = modify_destroy,
};

/* ---------------------------------------------------------------- parsing */

static bool
is_name_char (char c, bool first)
{
   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (!first && c >= '0' && c <= '9');
}

/* The identifier at *p (spaces skipped before and after), copied; NULL
 * when there is none. */
static char *
take_name (const char **p, const char *end)
{
   const char *s = *p;
   while (s < end && (*s == ' ' || *s == '\t')) {
      s++;
   }
   const char *start = s;
   while (s < end && is_name_char (*s, s == start)) {
      s++;
   }
   if (s == start) {
      return NULL;
   }
   char *name = bson_strndup (start, (size_t) (s - start));
   while (s < end && (*s == ' ' || *s == '\t')) {
      s++;
   }
   *p = s;
   return name;
}

static void
add_name (char ***names, size_t *n, char *name)
{
   for (size_t i = 0; i < *n; i++) {
      if (strcmp ((*names)[i], name) == 0) {
         bson_free (name);
         return;
      }
   }
   *names = bson_realloc (*names, (*n + 2) * sizeof **names);
   (*names)[(*n)++] = name;
   (*names)[*n] = NULL;
}

/* The top-level fields a compiled value reads. */
static char **
sources_of (const mwatch_expr_program_t *prog)
{
   char **names = NULL;
   size_t n = 0;
   for (size_t i = 0; i < prog->count; i++) {
      if (prog->nodes[i].kind == NODE_PATH) {
         const char *path = prog->strings + prog->nodes[i].str;
         const char *dot = strchr (path, '.');
         add_name (&names, &n, bson_strndup (path, dot ? (size_t) (dot - path) : strlen (path)));
      }
   }
   return names;
}

static bool
stmt_fail (bson_error_t *error, size_t line, const char *what, const char *text, size_t len)
{
   bson_set_error (error,
                   MWATCH_ERROR_DOMAIN,
                   MWATCH_ERROR_INVALID_ARGUMENT,
                   "modify filter: statement %zu \"%.*s\": %s",
                   line,
                   (int) (len > 80 ? 80 : len),
                   text,
                   what);
   return false;
}

/* One statement, text[0..len) without the separator.  `python`: only
 * what Python's exec would run the same (pymongowatch's ExecuteFilter):
 * no mask(), no del (Python's drops a local, not the field), no dotted
 * path (an attribute of a dict raises in Python). */
static bool
parse_stmt (stmt_t *s, const char *text, size_t len, size_t number, bool python, bson_error_t *error)
{
   const char *p = text;
   const char *end = text + len;
   char *name = take_name (&p, end);
   bson_error_t inner;

   memset (s, 0, sizeof *s);
   if (name && strcmp (name, "del") == 0 && p < end && p > text && (p[-1] == ' ' || p[-1] == '\t')) {
      size_t n = 0;
      bson_free (name);
      s->kind = STMT_DEL;
      if (python) {
         return stmt_fail (error, number, "Python's del removes a variable, not the field", text, len);
      }
      for (;;) {
         char *field = take_name (&p, end);
         if (field) {
            add_name (&s->names, &n, field);
         }
         if (field && p == end) {
            return true;
         }
         if (!field || *p++ != ',') {
            _mwatch_names_free (s->names);
            s->names = NULL;
            return stmt_fail (error,
                              number,
                              field ? "separate the fields with commas"
                                    : "del names fields: del Field, Other",
                              text,
                              len);
         }
      }
   }
   if (!name || p >= end || *p != '=' || (p + 1 < end && p[1] == '=')) {
      bson_free (name);
      return stmt_fail (error,
                        number,
                        "a statement is Field = value, Field = mask(value), del Field or "
                        "_result = condition",
                        text,
                        len);
   }
   p++;
   if (strcmp (name, "_result") == 0) {
      s->kind = STMT_RESULT;
      bson_free (name);
   } else if (python && name[0] == '_') {
      /* pymongowatch writes back only the names without '_'. */
      bson_free (name);
      return stmt_fail (error, number, "a name starting with _ is not written back in Python", text, len);
   } else if (name[0] == '_' && strcmp (name, "_watch") == 0) {
      bson_free (name);
      return stmt_fail (error, number, "assign to a field, not to _watch", text, len);
   } else {
      s->kind = STMT_SET;
      s->names = bson_malloc0 (2 * sizeof *s->names);
      s->names[0] = name;
   }
   /* The value: mask(...) around it, or itself. */
   while (p < end && (*p == ' ' || *p == '\t')) {
      p++;
   }
   const char *v_end = end;
   while (v_end > p && (v_end[-1] == ' ' || v_end[-1] == '\t' || v_end[-1] == '\r')) {
      v_end--;
   }
   if (s->kind == STMT_SET && v_end - p > 5 && strncmp (p, "mask(", 5) == 0 && v_end[-1] == ')') {
      s->kind = STMT_MASK;
      p += 5;
      v_end--;
   }
   char *value = bson_strndup (p, (size_t) (v_end - p));
   bool ok = _mwatch_expr_program_compile_value (&s->prog, value, &inner);
   bson_free (value);
   if (!ok) {
      _mwatch_names_free (s->names);
      s->names = NULL;
      s->kind = STMT_DEL; /* nothing compiled to free */
      return stmt_fail (error, number, inner.message, text, len);
   }
   s->sources = sources_of (&s->prog);
   if (python && (s->kind == STMT_MASK || s->prog.dotted)) {
      bool mask = s->kind == STMT_MASK;
      _mwatch_expr_program_destroy (&s->prog);
      _mwatch_names_free (s->names);
      _mwatch_names_free (s->sources);
      memset (s, 0, sizeof *s);
      s->kind = STMT_DEL; /* nothing left to free */
      return stmt_fail (error,
                        number,
                        mask ? "mask() is not Python"
                                             : "a dotted path is an attribute in Python; "
                                               "write Field[\"key\"]",
                        text,
                        len);
   }
   return true;
}

static mwatch_filter_t *
new_modify (const char *statements, bool exception_result, bool python, bson_error_t *error)
{
   if (!statements) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "the modify filter needs statements, as in DeletedCount = Reply.n");
      return NULL;
   }
   modify_t *m = bson_malloc0 (sizeof *m);
   m->exception_result = exception_result;
   size_t number = 0;
   const char *p = statements;
   while (*p) {
      /* A statement ends at a newline or a ';' outside quotes; a comment
       * at the newline. */
      const char *q = p;
      char quote = 0;
      while (*q == ' ' || *q == '\t' || *q == '\r') {
         q++;
      }
      bool comment = *q == '#';
      for (; *q && (quote || (*q != '\n' && (comment || *q != ';'))); q++) {
         if (comment) {
            continue;
         }
         if (quote && *q == '\\' && q[1]) {
            q++;
         } else if (*q == '"' || *q == '\'') {
            quote = quote == *q ? 0 : quote ? quote : *q;
         }
      }
      number++;
      const char *s = p;
      while (s < q && (*s == ' ' || *s == '\t' || *s == '\r')) {
         s++;
      }
      if (s < q && *s != '#') {
         m->stmts = bson_realloc (m->stmts, (m->count + 1) * sizeof *m->stmts);
         if (!parse_stmt (&m->stmts[m->count], s, (size_t) (q - s), number, python, error)) {
            modify_destroy (m);
            return NULL;
         }
         m->count++;
      }
      p = *q ? q + 1 : q;
   }
   if (m->count == 0) {
      modify_destroy (m);
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "the modify filter has no statement; write one, as in DeletedCount = "
                      "Reply.n");
      return NULL;
   }
   return mwatch_filter_new (&modify_vtable, m);
}

mwatch_filter_t *
mwatch_filter_new_modify (const char *statements, bool exception_result, bson_error_t *error)
{
   return new_modify (statements, exception_result, false, error);
}

mwatch_filter_t *
_mwatch_filter_new_modify_python (const char *statements, bool exception_result, bson_error_t *error)
{
   return new_modify (statements, exception_result, true, error);
}
