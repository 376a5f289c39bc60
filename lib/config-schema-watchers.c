/* The "watchers" section: global, cursor and collection options.  Each
 * kind starts from the defaults, takes "global", then its own section,
 * key by key; in "operations" an entry of the kind's own section replaces
 * the global entry of the same operation whole. */
#include "config-schema-private.h"

#include <string.h>

static const char *const kind_names[2] = {"cursor", "collection"};

static bool
log_levels (mwatch_cfg_t *cfg, const mwatch_node_t *node, mwatch_watcher_opts_t *opts)
{
   const mwatch_node_t *map = NULL;
   const mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("first", MWATCH_CFG_LEVEL, &opts->first_level),
      MWATCH_CFG_FIELD ("update", MWATCH_CFG_LEVEL, &opts->update_level),
      MWATCH_CFG_FIELD ("final", MWATCH_CFG_LEVEL, &opts->final_level),
      MWATCH_CFG_FIELD ("timeout", MWATCH_CFG_LEVEL, &opts->timeout_level),
      MWATCH_CFG_END,
   };
   size_t saved = _mwatch_cfg_push (cfg, "log_level");
   bool ok = _mwatch_cfg_map (cfg, node, true, &map) && (!map || _mwatch_cfg_read_fields (cfg, map, fields));
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

static void
op_clear (mwatch_staged_op_t *op)
{
   bson_free (op->rename);
   bson_free (op->drop);
   bson_destroy (op->add);
   memset (op, 0, sizeof *op);
}

/* "add": constant fields, whose names must be field names. */
static bool
read_add (mwatch_cfg_t *cfg, const mwatch_node_t *node, bson_t **out)
{
   const mwatch_node_t *map = NULL;
   size_t saved = _mwatch_cfg_push (cfg, "add");
   bool ok = _mwatch_cfg_map (cfg, node, true, &map);
   for (size_t i = 0; ok && map && i < map->count; i++) {
      const char *key = map->pairs[i].key;
      if (!*key || strchr (key, '.')) {
         size_t inner = _mwatch_cfg_push (cfg, key);
         ok = _mwatch_cfg_fail (cfg,
                                map->pairs[i].pos,
                                "\"%s\" is not a field name: a name is not empty and has no \".\"",
                                key);
         _mwatch_cfg_pop (cfg, inner);
      }
   }
   bson_t doc;
   if (ok && map && (ok = _mwatch_cfg_to_bson (cfg, map, NULL, &doc))) {
      *out = bson_copy (&doc);
      bson_destroy (&doc);
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

static bool
operation (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *node, mwatch_staged_watcher_t *w)
{
   const mwatch_node_t *map = NULL;
   const mwatch_node_t *rename = NULL;
   const mwatch_node_t *add = NULL;
   mwatch_staged_op_t op = {.operation = name};
   const mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("rename", MWATCH_CFG_NODE, &rename),
      MWATCH_CFG_FIELD ("drop", MWATCH_CFG_NAMES, &op.drop),
      MWATCH_CFG_FIELD ("add", MWATCH_CFG_NODE, &add),
      MWATCH_CFG_END,
   };
   bool ok = _mwatch_cfg_map (cfg, node, true, &map) && (!map || _mwatch_cfg_read_fields (cfg, map, fields));
   if (ok && rename && rename->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "rename");
      ok = _mwatch_cfg_name_pairs (cfg, rename, &op.rename);
      _mwatch_cfg_pop (cfg, saved);
   }
   if (ok && add && add->type != MWATCH_NODE_NULL) {
      ok = read_add (cfg, add, &op.add);
   }
   if (!ok) {
      op_clear (&op);
      return false;
   }
   for (size_t i = 0; i < w->op_count; i++) {
      if (strcmp (w->ops[i].operation, name) == 0) {
         op_clear (&w->ops[i]);
         w->ops[i] = op;
         return true;
      }
   }
   w->ops = bson_realloc (w->ops, (w->op_count + 1) * sizeof *w->ops);
   w->ops[w->op_count++] = op;
   return true;
}

static bool
operations (mwatch_cfg_t *cfg, const mwatch_node_t *node, mwatch_staged_watcher_t *w)
{
   const mwatch_node_t *map = NULL;
   size_t top = _mwatch_cfg_push (cfg, "operations");
   bool ok = _mwatch_cfg_map (cfg, node, true, &map);
   for (size_t i = 0; ok && map && i < map->count; i++) {
      size_t saved = _mwatch_cfg_push (cfg, map->pairs[i].key);
      ok = operation (cfg, map->pairs[i].key, map->pairs[i].value, w);
      _mwatch_cfg_pop (cfg, saved);
   }
   _mwatch_cfg_pop (cfg, top);
   return ok;
}

/* Reads one section (global or a kind's) into the options of `kind`. */
static bool
section (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *node, int kind)
{
   mwatch_staged_watcher_t *w = &cfg->st.watchers[kind];
   const mwatch_node_t *map = NULL;
   const mwatch_node_t *levels = NULL;
   const mwatch_node_t *ops = NULL;
   const char **fields_list = NULL;
   mwatch_cfg_field_t fields[] = {
      {"timeout_sec", MWATCH_CFG_DOUBLE, &w->opts.timeout_sec, .min = 0, .max = 1e9},
      MWATCH_CFG_FIELD ("log_level", MWATCH_CFG_NODE, &levels),
      MWATCH_CFG_FIELD ("default_fields", MWATCH_CFG_NAMES, &fields_list),
      MWATCH_CFG_FIELD ("operations", MWATCH_CFG_NODE, &ops),
      MWATCH_CFG_FIELD ("emit_on_new_retrieves", MWATCH_CFG_BOOL, &w->opts.emit_on_new_retrieves),
      MWATCH_CFG_END,
   };
   if (strcmp (name, "collection") == 0) {
      fields[4].key = NULL; /* cursors only */
   }
   size_t top = _mwatch_cfg_push (cfg, name);
   bool ok = _mwatch_cfg_map (cfg, node, true, &map) && (!map || _mwatch_cfg_read_fields (cfg, map, fields));
   if (ok && levels && levels->type != MWATCH_NODE_NULL) {
      ok = log_levels (cfg, levels, &w->opts);
   }
   if (ok && ops && ops->type != MWATCH_NODE_NULL) {
      ok = operations (cfg, ops, w);
   }
   _mwatch_cfg_pop (cfg, top);
   if (fields_list) {
      bson_free (w->fields);
      w->fields = fields_list;
   }
   return ok;
}

static void
describe_list (mwatch_cfg_t *cfg, const char *label, const char *const *list, size_t step)
{
   _mwatch_cfg_describe (cfg, " %s [", label);
   for (size_t i = 0; list[i]; i += step) {
      _mwatch_cfg_describe (cfg, "%s%s%s%s", i ? ", " : "", list[i], step == 2 ? " -> " : "", step == 2 ? list[i + 1] : "");
   }
   _mwatch_cfg_describe (cfg, "]");
}

static void
describe_watcher (mwatch_cfg_t *cfg, int kind)
{
   const mwatch_staged_watcher_t *w = &cfg->st.watchers[kind];
   char l1[24], l2[24], l3[24], l4[24];
   _mwatch_cfg_describe (cfg,
                         "watcher %s: timeout_sec %g log_level first %s update %s final %s timeout %s",
                         kind_names[kind],
                         w->opts.timeout_sec,
                         mwatch_level_name (w->opts.first_level, l1, sizeof l1),
                         mwatch_level_name (w->opts.update_level, l2, sizeof l2),
                         mwatch_level_name (w->opts.final_level, l3, sizeof l3),
                         mwatch_level_name (w->opts.timeout_level, l4, sizeof l4));
   if (kind == MWATCH_WATCHER_CURSOR) {
      _mwatch_cfg_describe (
         cfg, " emit_on_new_retrieves %s", w->opts.emit_on_new_retrieves ? "true" : "false");
   }
   describe_list (cfg, "default_fields", w->fields ? w->fields : (const char **) mwatch_default_fields, 1);
   _mwatch_cfg_describe (cfg, "\n");
   for (size_t i = 0; i < w->op_count; i++) {
      const mwatch_staged_op_t *op = &w->ops[i];
      _mwatch_cfg_describe (cfg, "watcher %s operation %s:", kind_names[kind], op->operation);
      if (op->rename) {
         describe_list (cfg, "rename", op->rename, 2);
      }
      if (op->drop) {
         describe_list (cfg, "drop", op->drop, 1);
      }
      if (op->add) {
         char *json = bson_as_relaxed_extended_json (op->add, NULL);
         _mwatch_cfg_describe (cfg, " add %s", json);
         bson_free (json);
      }
      _mwatch_cfg_describe (cfg, "\n");
   }
}

bool
_mwatch_cfg_watchers (mwatch_cfg_t *cfg, const mwatch_node_t *node)
{
   const mwatch_node_t *map = NULL;
   const mwatch_node_t *sections[3] = {NULL, NULL, NULL}; /* global, cursor, collection */
   const mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("global", MWATCH_CFG_NODE, &sections[0]),
      MWATCH_CFG_FIELD ("cursor", MWATCH_CFG_NODE, &sections[1]),
      MWATCH_CFG_FIELD ("collection", MWATCH_CFG_NODE, &sections[2]),
      MWATCH_CFG_END,
   };
   size_t top = _mwatch_cfg_push (cfg, "watchers");
   bool ok = !node || (_mwatch_cfg_map (cfg, node, true, &map) && (!map || _mwatch_cfg_read_fields (cfg, map, fields)));
   for (int kind = 0; ok && kind < 2; kind++) {
      ok = (!sections[0] || section (cfg, "global", sections[0], kind)) &&
           (!sections[kind + 1] || section (cfg, kind_names[kind], sections[kind + 1], kind));
   }
   _mwatch_cfg_pop (cfg, top);
   for (int kind = 0; ok && kind < 2; kind++) {
      describe_watcher (cfg, kind);
   }
   return ok;
}
