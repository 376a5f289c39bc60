/* Misspelled fields in templates.  A {watch.F} field that no record has
 * renders empty, and so a typo ({watch.Duraton}) would silently empty a
 * column for good.  Once the whole configuration is read, each
 * formatter's {watch.F} fields are checked against the fields mongowatch
 * sets and those the configuration itself names anywhere: under columns,
 * default_fields, fields and attributes (and the rate filter's F + "Rate"
 * and F + "Sum") and keep, the keys of add, the targets of rename, and the
 * fields a modify filter's statements set (Field = ...).  A formatter with
 * allow_unknown_fields: true is not checked, for fields set at run time
 * (mwatch_context_set, a plugin filter). */
#include "config-schema-private.h"
#include "formatter-private.h"

#include <string.h>

typedef struct {
   char **names; /* owned, NULL-terminated */
   size_t count;
} names_t;

static void
add_name (names_t *n, const char *name, const char *suffix)
{
   n->names = bson_realloc (n->names, (n->count + 2) * sizeof *n->names);
   n->names[n->count++] = bson_strdup_printf ("%s%s", name, suffix);
   n->names[n->count] = NULL;
}

static bool
is_one_of (const char *key, const char *const *list)
{
   for (; *list; list++) {
      if (strcmp (key, *list) == 0) {
         return true;
      }
   }
   return false;
}

static bool
name_char (char c, bool first)
{
   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (!first && c >= '0' && c <= '9');
}

/* The targets of a modify filter's statements: a name at the start of a
 * statement followed by a lone "=". */
static void
collect_targets (names_t *n, const char *text)
{
   for (const char *p = text; *p;) {
      while (*p == ' ' || *p == '\t' || *p == '\r') {
         p++;
      }
      const char *start = p;
      while (name_char (*p, p == start)) {
         p++;
      }
      const char *end = p;
      while (*p == ' ' || *p == '\t') {
         p++;
      }
      if (end > start && p[0] == '=' && p[1] != '=') {
         char *name = bson_strndup (start, (size_t) (end - start));
         add_name (n, name, "");
         bson_free (name);
      }
      p += strcspn (p, "\n;");
      p += *p != '\0';
   }
}

/* The names `node` and everything below it give fields. */
static void
collect (names_t *n, const mwatch_node_t *node)
{
   static const char *const lists[] = {"columns", "default_fields", "fields", "attributes", "keep", NULL};

   for (size_t i = 0; node->type == MWATCH_NODE_SEQ && i < node->count; i++) {
      collect (n, node->items[i]);
   }
   for (size_t i = 0; node->type == MWATCH_NODE_MAP && i < node->count; i++) {
      const char *key = node->pairs[i].key;
      const mwatch_node_t *value = node->pairs[i].value;
      if (strcmp (key, "execute") == 0 && value->type == MWATCH_NODE_SCALAR) {
         collect_targets (n, value->text);
      }
      for (size_t j = 0; value->type == MWATCH_NODE_SEQ && j < value->count; j++) {
         const mwatch_node_t *item = value->items[j];
         if (item->type == MWATCH_NODE_SCALAR && is_one_of (key, lists)) {
            add_name (n, item->text, "");
            if (strcmp (key, "fields") == 0 || strcmp (key, "attributes") == 0) {
               add_name (n, item->text, "Rate");
               add_name (n, item->text, "Sum");
            }
         }
      }
      for (size_t j = 0; value->type == MWATCH_NODE_MAP && j < value->count; j++) {
         const mwatch_node_t *to = value->pairs[j].value;
         if (strcmp (key, "add") == 0) {
            add_name (n, value->pairs[j].key, "");
         } else if (strcmp (key, "rename") == 0 && to->type == MWATCH_NODE_SCALAR) {
            add_name (n, to->text, "");
         }
      }
      collect (n, value);
   }
}

bool
_mwatch_cfg_template_fields (mwatch_cfg_t *cfg)
{
   const mwatch_node_pair_t *section = _mwatch_node_map_find (cfg->root, "formatters");
   const mwatch_node_t *map = section ? _mwatch_cfg_resolve (cfg, section->value) : NULL;
   names_t declared = {0};
   bool ok = true;

   if (!map || map->type != MWATCH_NODE_MAP) {
      return true; /* no formatters, or none read: nothing to check */
   }
   collect (&declared, cfg->root);
   size_t top = _mwatch_cfg_push (cfg, "formatters");
   for (size_t i = 0; ok && i < map->count; i++) {
      const char *name = map->pairs[i].key;
      const mwatch_node_t *entry = _mwatch_cfg_resolve (cfg, map->pairs[i].value);
      const mwatch_staged_t *staged = _mwatch_staged_find (&cfg->st.formatters, name);
      const mwatch_node_pair_t *allow =
         entry && entry->type == MWATCH_NODE_MAP ? _mwatch_node_map_find (entry, "allow_unknown_fields")
                                                 : NULL;
      bool allowed = false;
      size_t saved = _mwatch_cfg_push (cfg, name);
      /* Each was read when the formatter was built: these only fail as
       * they did then, which stopped the load before here. */
      if (!entry || (allow && !_mwatch_cfg_bool (cfg, allow->value, &allowed))) {
         ok = false;
      } else if (staged && !allowed) {
         bson_error_t err;
         if (!_mwatch_formatter_check_fields (staged->object, (const char *const *) declared.names, &err)) {
            ok = _mwatch_cfg_fail_key (cfg, entry, "format", "%s", err.message);
         }
      }
      _mwatch_cfg_pop (cfg, saved);
   }
   _mwatch_cfg_pop (cfg, top);
   bson_strfreev (declared.names);
   return ok;
}
