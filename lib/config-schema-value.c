/* Typed reading of configuration values, with the error messages that say
 * what was expected, what was found and, where it helps, how to fix it.
 *
 * Types follow the text as written: only a plain YAML scalar (or a JSON
 * number, true, false or null) is a number or a boolean.  Booleans are
 * true/false and, because Python users' files are read by PyYAML, also
 * yes/no/on/off, in lower, capitalized or upper case. */
#include "config-schema-private.h"
#include "mongoc-compat-private.h"
#include "suggest-private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- scalars */

static bool
text_is_int (const char *text, int64_t *value)
{
   const char *p = text + (*text == '-' || *text == '+');
   if (!*p || strspn (p, "0123456789") != strlen (p)) {
      return false;
   }
   errno = 0;
   long long v = strtoll (text, NULL, 10);
   if (errno == ERANGE) {
      return false;
   }
   *value = (int64_t) v;
   return true;
}

/* Decimal notation only: no hexadecimal, inf or nan, which strtod would
 * take. */
static bool
text_is_double (const char *text, double *value)
{
   const char *p = text + (*text == '-' || *text == '+');
   size_t digits = strspn (p, "0123456789");
   p += digits;
   if (*p == '.') {
      size_t fraction = strspn (p + 1, "0123456789");
      digits += fraction;
      p += 1 + fraction;
   }
   if (digits == 0) {
      return false;
   }
   if (*p == 'e' || *p == 'E') {
      p += 1 + (p[1] == '-' || p[1] == '+');
      size_t exponent = strspn (p, "0123456789");
      if (exponent == 0) {
         return false;
      }
      p += exponent;
   }
   if (*p) {
      return false;
   }
   *value = strtod (text, NULL);
   return isfinite (*value);
}

/* One spelling in lower case, capitalized or upper case ("true", "True",
 * "TRUE"), as YAML has it: "tRUE" is a string. */
static bool
text_is_bool (const char *text, bool *value)
{
   static const char *const yes[] = {"true", "yes", "on", NULL};
   static const char *const no[] = {"false", "no", "off", NULL};
   bool tail_lower = true;
   bool all_upper = true;
   for (const char *p = text; *p; p++) {
      bool upper = *p >= 'A' && *p <= 'Z';
      all_upper = all_upper && upper;
      tail_lower = tail_lower && (p == text || !upper);
   }
   if (!tail_lower && !all_upper) {
      return false;
   }
   for (size_t i = 0; yes[i]; i++) {
      if (strcasecmp (text, yes[i]) == 0 || strcasecmp (text, no[i]) == 0) {
         *value = strcasecmp (text, yes[i]) == 0;
         return true;
      }
   }
   return false;
}

/* ---------------------------------------------------------------- errors */

static void
describe_found (const mwatch_node_t *node, char *out, size_t size)
{
   switch (node->type) {
   case MWATCH_NODE_MAP:
      bson_snprintf (out, size, "a mapping");
      break;
   case MWATCH_NODE_SEQ:
      bson_snprintf (out, size, "a list");
      break;
   case MWATCH_NODE_NULL:
      bson_snprintf (out, size, "null");
      break;
   case MWATCH_NODE_SCALAR:
   default:
      bson_snprintf (out,
                     size,
                     "%s\"%.60s%s\"",
                     node->plain ? "" : "the string ",
                     node->text,
                     strlen (node->text) > 60 ? "..." : "");
      break;
   }
}

/* "expected X, got Y", noting the reference the value came through and,
 * for a quoted number or boolean, that the quotes are the trouble. */
static bool
expected (mwatch_cfg_t *cfg,
          const mwatch_node_t *written,
          const mwatch_node_t *node,
          const char *what,
          bool quoted_would_do)
{
   char found[96];
   describe_found (node, found, sizeof found);
   return _mwatch_cfg_fail (cfg,
                            written->pos,
                            "expected %s, got %s%s%s%s%s",
                            what,
                            found,
                            written != node ? " (from " : "",
                            written != node ? written->text : "",
                            written != node ? ")" : "",
                            quoted_would_do ? "; remove the quotes" : "");
}

static bool
is_scalar (const mwatch_node_t *node)
{
   return node->type == MWATCH_NODE_SCALAR;
}

/* ---------------------------------------------------------------- readers */

bool
_mwatch_cfg_string (mwatch_cfg_t *cfg, const mwatch_node_t *written, const char **out)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   if (!node) {
      return false;
   }
   if (!is_scalar (node)) {
      return expected (cfg, written, node, "a string", false);
   }
   *out = node->text;
   return true;
}

bool
_mwatch_cfg_int (
   mwatch_cfg_t *cfg, const mwatch_node_t *written, int64_t min, int64_t max, int64_t *out)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   int64_t value;
   if (!node) {
      return false;
   }
   if (!is_scalar (node) || !text_is_int (node->text, &value)) {
      return expected (cfg, written, node, "an integer", false);
   }
   if (!node->plain) {
      return expected (cfg, written, node, "an integer", true);
   }
   if (value < min || value > max) {
      return _mwatch_cfg_fail (cfg,
                               written->pos,
                               "%" PRId64 " is out of range; give an integer from %" PRId64
                               " to %" PRId64,
                               value,
                               min,
                               max);
   }
   *out = value;
   return true;
}

bool
_mwatch_cfg_double (
   mwatch_cfg_t *cfg, const mwatch_node_t *written, double min, double max, double *out)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   double value;
   if (!node) {
      return false;
   }
   if (!is_scalar (node) || !text_is_double (node->text, &value)) {
      return expected (cfg, written, node, "a number", false);
   }
   if (!node->plain) {
      return expected (cfg, written, node, "a number", true);
   }
   if (value < min || value > max) {
      return _mwatch_cfg_fail (
         cfg, written->pos, "%g is out of range; give a number from %g to %g", value, min, max);
   }
   *out = value;
   return true;
}

bool
_mwatch_cfg_bool (mwatch_cfg_t *cfg, const mwatch_node_t *written, bool *out)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   bool value;
   if (!node) {
      return false;
   }
   if (!is_scalar (node) || !text_is_bool (node->text, &value)) {
      return expected (cfg, written, node, "true or false", false);
   }
   if (!node->plain) {
      return expected (cfg, written, node, "true or false", true);
   }
   *out = value;
   return true;
}

bool
_mwatch_cfg_level (mwatch_cfg_t *cfg, const mwatch_node_t *written, int *out)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   if (!node) {
      return false;
   }
   if (!is_scalar (node)) {
      return expected (cfg, written, node, "a level", false);
   }
   if (!mwatch_level_parse (node->text, out)) {
      static const char *const names[] = {
         "CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET", NULL};
      char hint[96];
      _mwatch_cfg_did_you_mean (hint, sizeof hint, node->text, names);
      return _mwatch_cfg_fail (cfg,
                               written->pos,
                               "unknown level \"%.60s\"%s; use CRITICAL, ERROR, WARNING, INFO, "
                               "DEBUG, NOTSET or a number",
                               node->text,
                               hint);
   }
   return true;
}

bool
_mwatch_cfg_map (mwatch_cfg_t *cfg,
                 const mwatch_node_t *written,
                 bool null_ok,
                 const mwatch_node_t **out)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   if (!node) {
      return false;
   }
   if (node->type == MWATCH_NODE_NULL && null_ok) {
      *out = NULL;
      return true;
   }
   if (node->type != MWATCH_NODE_MAP) {
      return expected (cfg, written, node, "a mapping (key: value lines)", false);
   }
   *out = node;
   return true;
}

bool
_mwatch_cfg_seq (mwatch_cfg_t *cfg, const mwatch_node_t *written, const mwatch_node_t **out)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   if (!node) {
      return false;
   }
   if (node->type != MWATCH_NODE_SEQ) {
      return expected (cfg, written, node, "a list", false);
   }
   *out = node;
   return true;
}

bool
_mwatch_cfg_name (mwatch_cfg_t *cfg, const mwatch_node_t *written, const char **out)
{
   if (!_mwatch_cfg_string (cfg, written, out)) {
      return false;
   }
   if (!**out || strchr (*out, '.')) {
      return _mwatch_cfg_fail (cfg,
                               written->pos,
                               "\"%.60s\" is not a field name: a name is not empty and has no "
                               "\".\"",
                               *out);
   }
   return true;
}

bool
_mwatch_cfg_names (mwatch_cfg_t *cfg, const mwatch_node_t *written, const char ***out)
{
   const mwatch_node_t *seq = NULL;
   if (!_mwatch_cfg_seq (cfg, written, &seq)) {
      return false;
   }
   const char **names = bson_malloc0 ((seq->count + 1) * sizeof *names);
   for (size_t i = 0; i < seq->count; i++) {
      size_t saved = _mwatch_cfg_push_index (cfg, i);
      bool ok = _mwatch_cfg_name (cfg, seq->items[i], &names[i]);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         bson_free (names);
         return false;
      }
   }
   bson_free (*out);
   *out = names;
   return true;
}

bool
_mwatch_cfg_name_pairs (mwatch_cfg_t *cfg, const mwatch_node_t *written, const char ***out)
{
   const mwatch_node_t *map = NULL;
   if (!_mwatch_cfg_map (cfg, written, false, &map)) {
      return false;
   }
   const char **pairs = bson_malloc0 ((2 * map->count + 1) * sizeof *pairs);
   for (size_t i = 0; i < map->count; i++) {
      const mwatch_node_pair_t *pair = &map->pairs[i];
      size_t saved = _mwatch_cfg_push (cfg, pair->key);
      bool ok = _mwatch_cfg_name (cfg, pair->value, &pairs[2 * i + 1]);
      if (ok && (!*pair->key || strchr (pair->key, '.'))) {
         ok = _mwatch_cfg_fail (
            cfg, pair->pos, "\"%s\" is not a field name: a name is not empty and has no \".\"", pair->key);
      }
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         bson_free (pairs);
         return false;
      }
      pairs[2 * i] = pair->key;
   }
   bson_free (*out);
   *out = pairs;
   return true;
}

/* ---------------------------------------------------------------- tables */

const char *
_mwatch_cfg_python_path (const char *name)
{
   return strncmp (name, "ext://", 6) == 0 ? name + 6 : name;
}

void
_mwatch_cfg_did_you_mean (char *hint, size_t size, const char *name, const char *const *known)
{
   mwatch_suggest_t suggest;
   _mwatch_suggest_init (&suggest, name, strlen (name));
   _mwatch_suggest_consider_all (&suggest, known);
   const char *best = _mwatch_suggest_best (&suggest);
   if (best) {
      bson_snprintf (hint, size, " (did you mean \"%s\"?)", best);
   } else if (size > 0) {
      hint[0] = '\0';
   }
}

/* Keys renamed before their first release, too far from their new name
 * for the edit distance: old, new.  The new name is suggested where it is
 * allowed. */
static const char *const renamed_keys[][2] = {
   {"max_backoff_sec", "backoff_max_sec"}, /* otlp */
   {"retry_max_sec", "backoff_max_sec"},   /* mongodb */
};

static const char *
renamed_key (const char *key, const char *const *allowed, size_t count)
{
   for (size_t i = 0; i < sizeof renamed_keys / sizeof *renamed_keys; i++) {
      for (size_t j = 0; j < count && strcmp (key, renamed_keys[i][0]) == 0; j++) {
         if (strcmp (allowed[j], renamed_keys[i][1]) == 0) {
            return allowed[j];
         }
      }
   }
   return NULL;
}

bool
_mwatch_cfg_unknown_key (mwatch_cfg_t *cfg,
                         const mwatch_node_pair_t *pair,
                         const char *const *allowed,
                         size_t count)
{
   char list[300] = "";
   char hint[96] = "";
   size_t len = 0;
   mwatch_suggest_t suggest;
   _mwatch_suggest_init (&suggest, pair->key, strlen (pair->key));
   for (size_t i = 0; i < count && len + 1 < sizeof list; i++) {
      int n = bson_snprintf (list + len, sizeof list - len, "%s%s", i ? ", " : "", allowed[i]);
      len += (size_t) BSON_MAX (n, 0);
   }
   for (size_t i = 0; i < count; i++) {
      _mwatch_suggest_consider (&suggest, allowed[i]);
   }
   const char *best = _mwatch_suggest_best (&suggest);
   best = best ? best : renamed_key (pair->key, allowed, count);
   if (best) {
      bson_snprintf (hint, sizeof hint, " (did you mean \"%s\"?)", best);
   }
   size_t saved = _mwatch_cfg_push (cfg, pair->key);
   _mwatch_cfg_fail (
      cfg, pair->pos, "unknown key \"%s\"%s; allowed here: %s", pair->key, hint, list);
   _mwatch_cfg_pop (cfg, saved);
   return false;
}

static bool
read_field (mwatch_cfg_t *cfg, const mwatch_cfg_field_t *field, const mwatch_node_t *value)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, value);
   if (!node) {
      return false;
   }
   if (node->type == MWATCH_NODE_NULL && field->type != MWATCH_CFG_NODE) {
      return true; /* null stands for "not given", as None does in Python */
   }
   switch (field->type) {
   case MWATCH_CFG_NODE:
      *(const mwatch_node_t **) field->out = node;
      return true;
   case MWATCH_CFG_STRING:
      return _mwatch_cfg_string (cfg, value, field->out);
   case MWATCH_CFG_INT:
      return _mwatch_cfg_int (cfg, value, (int64_t) field->min, (int64_t) field->max, field->out);
   case MWATCH_CFG_DOUBLE:
      return _mwatch_cfg_double (cfg, value, field->min, field->max, field->out);
   case MWATCH_CFG_BOOL:
      return _mwatch_cfg_bool (cfg, value, field->out);
   case MWATCH_CFG_LEVEL:
      return _mwatch_cfg_level (cfg, value, field->out);
   case MWATCH_CFG_NAMES:
   default:
      return _mwatch_cfg_names (cfg, value, field->out);
   }
}

bool
_mwatch_cfg_read_fields (mwatch_cfg_t *cfg,
                         const mwatch_node_t *map,
                         const mwatch_cfg_field_t *fields)
{
   const char *allowed[32];
   size_t count = 0;
   while (fields[count].key) {
      BSON_ASSERT (count < sizeof allowed / sizeof *allowed);
      allowed[count] = fields[count].key;
      count++;
   }
   for (size_t i = 0; i < map->count; i++) {
      const mwatch_node_pair_t *pair = &map->pairs[i];
      size_t row = 0;
      while (row < count && strcmp (fields[row].key, pair->key) != 0) {
         row++;
      }
      if (row == count) {
         return _mwatch_cfg_unknown_key (cfg, pair, allowed, count);
      }
      size_t saved = _mwatch_cfg_push (cfg, pair->key);
      bool ok = read_field (cfg, &fields[row], pair->value);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         return false;
      }
   }
   for (size_t row = 0; row < count; row++) {
      const mwatch_node_pair_t *pair = _mwatch_node_map_find (map, fields[row].key);
      if (fields[row].required && (!pair || pair->value->type == MWATCH_NODE_NULL)) {
         return _mwatch_cfg_fail (cfg, map->pos, "the key \"%s\" is required here", fields[row].key);
      }
   }
   return true;
}

/* ---------------------------------------------------------------- BSON */

static bool
append_value (mwatch_cfg_t *cfg, bson_t *doc, const char *key, const mwatch_node_t *written);

static bool
append_map (mwatch_cfg_t *cfg, bson_t *doc, const mwatch_node_t *map, const char *const *skip)
{
   for (size_t i = 0; i < map->count; i++) {
      const mwatch_node_pair_t *pair = &map->pairs[i];
      bool skipped = false;
      for (size_t j = 0; skip && skip[j]; j++) {
         skipped = skipped || strcmp (skip[j], pair->key) == 0;
      }
      if (skipped) {
         continue;
      }
      size_t saved = _mwatch_cfg_push (cfg, pair->key);
      bool ok = append_value (cfg, doc, pair->key, pair->value);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         return false;
      }
   }
   return true;
}

static void
append_scalar (bson_t *doc, const char *key, const mwatch_node_t *node)
{
   int64_t i;
   double d;
   bool b;
   if (node->plain && text_is_int (node->text, &i)) {
      if (i >= INT32_MIN && i <= INT32_MAX) {
         bson_append_int32 (doc, key, -1, (int32_t) i);
      } else {
         bson_append_int64 (doc, key, -1, i);
      }
   } else if (node->plain && text_is_double (node->text, &d)) {
      bson_append_double (doc, key, -1, d);
   } else if (node->plain && text_is_bool (node->text, &b)) {
      bson_append_bool (doc, key, -1, b);
   } else {
      bson_append_utf8 (doc, key, -1, node->text, -1);
   }
}

static bool
append_value (mwatch_cfg_t *cfg, bson_t *doc, const char *key, const mwatch_node_t *written)
{
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   bson_t child;
   bool ok = true;
   if (!node) {
      return false;
   }
   switch (node->type) {
   case MWATCH_NODE_NULL:
      bson_append_null (doc, key, -1);
      break;
   case MWATCH_NODE_MAP:
      bson_append_document_begin (doc, key, -1, &child);
      ok = append_map (cfg, &child, node, NULL);
      bson_append_document_end (doc, &child);
      break;
   case MWATCH_NODE_SEQ:
      _mwatch_bson_append_array_begin (doc, key, -1, &child);
      for (size_t i = 0; ok && i < node->count; i++) {
         char index[16];
         const char *index_key;
         bson_uint32_to_string ((uint32_t) i, &index_key, index, sizeof index);
         size_t saved = _mwatch_cfg_push_index (cfg, i);
         ok = append_value (cfg, &child, index_key, node->items[i]);
         _mwatch_cfg_pop (cfg, saved);
      }
      bson_append_array_end (doc, &child);
      break;
   case MWATCH_NODE_SCALAR:
   default:
      append_scalar (doc, key, node);
      break;
   }
   return ok;
}

bool
_mwatch_cfg_to_bson (mwatch_cfg_t *cfg,
                     const mwatch_node_t *map,
                     const char *const *skip,
                     bson_t *out)
{
   bson_init (out);
   if (!append_map (cfg, out, map, skip)) {
      bson_destroy (out);
      bson_init (out);
      return false;
   }
   return true;
}
