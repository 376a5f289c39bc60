/* The "watchers" section: global, cursor and collection options.  Each
 * kind starts from the defaults, takes "global", then its own section,
 * key by key; in "operations" an entry of the kind's own section replaces
 * the global entry of the same operation whole. */
#include "config-schema-private.h"
#include "json-private.h"

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
   bson_free (op->cast);
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

/* ------------------------------------------------- pymongowatch's form
 *
 * pymongowatch describes an operation by the arguments of its Python call:
 * `find_one_and_update: {filter: {to: Filter}, _result: {to: ...}}`, each
 * argument with `to` (the field's name; null or "" leaves it out), `cast`
 * (a Python callable) and `value` (a constant instead of the argument).
 * mongowatch records no Python arguments: an entry in that form is turned,
 * at load, into the rename, drop and add of mongowatch's own form, over
 * the fields mongowatch does record (the filter as Filter, the update as
 * Update, the result as the operation's count fields). */

/* The arguments whose value mongowatch records, and under which field. */
static const struct {
   const char *argument;
   const char *field;
} recorded_arguments[] = {
   {"filter", "Filter"},     {"spec", "Filter"},   {"spec_or_id", "Filter"}, {"query", "Filter"},
   {"selector", "Filter"},   {"pipeline", "Filter"}, {"update", "Update"}, {"replacement", "Update"},
   {"document", "Update"},
};

/* The count fields that hold an operation's result, as the table of
 * doc/configuration.md ("Counts of each operation") has them. */
static const char *const all_counts[] = {
   "MatchedCount", "InsertedCount", "UpsertedCount", "ModifiedCount", "DeletedCount", NULL};

static const struct {
   const char *operation;
   const char *count;
} result_counts[] = {
   {"count", "MatchedCount"},         {"count_documents", "MatchedCount"},
   {"estimated_document_count", "MatchedCount"}, {"distinct", "MatchedCount"},
   {"insert_one", "InsertedCount"},   {"insert_many", "InsertedCount"},
   {"insert", "InsertedCount"},       {"insert_bulk", "InsertedCount"},
   {"delete_one", "DeletedCount"},    {"delete_many", "DeletedCount"},
   {"remove", "DeletedCount"},        {"delete", "DeletedCount"},
};

/* The casts of pymongowatch's that mongowatch knows by name. */
static const char *const known_casts[] = {
   "builtins.len", "pymongo.watcher.transforms.one_if_not_none", "pymongo.watcher.transforms.to_watch_cursor", NULL};

/* pymongo's operations that libmongoc names otherwise; NULL: it has none. */
static const struct {
   const char *pymongo;
   const char *mongoc;
   const char *why;
} operation_names[] = {
   {"find_one_and_delete", "find_and_modify", NULL},
   {"find_one_and_replace", "find_and_modify", NULL},
   {"find_one_and_update", "find_and_modify", NULL},
   {"find_one", NULL, "libmongoc has no find_one call: a find_one is a find with a limit of 1, logged by the "
                      "cursor watcher as find"},
};

static const char **
strv_push (const char **list, const char *item)
{
   size_t n = 0;
   while (list && list[n]) {
      n++;
   }
   list = bson_realloc (list, (n + 2) * sizeof *list);
   list[n] = item;
   list[n + 1] = NULL;
   return list;
}

static const char **
pair_push (const char **list, const char *from, const char *to)
{
   return strv_push (strv_push (list, from), to);
}

/* A cast of pymongowatch's, checked by name (null: none). */
static bool
read_cast (mwatch_cfg_t *cfg, const mwatch_node_t *map, const mwatch_node_t *node, const char **out)
{
   const char *unused;
   out = out ? out : &unused;
   *out = NULL;
   if (!node || node->type == MWATCH_NODE_NULL || (node->type == MWATCH_NODE_SCALAR && !*node->text)) {
      return true;
   }
   const char *name = NULL;
   if (!_mwatch_cfg_string (cfg, node, &name)) {
      return false;
   }
   const char *bare = _mwatch_cfg_python_path (name);
   for (size_t i = 0; known_casts[i]; i++) {
      if (strcmp (bare, known_casts[i]) == 0) {
         *out = known_casts[i];
         return true;
      }
   }
   _mwatch_cfg_fail_key (cfg,
                         map,
                         "cast",
                         "cannot run the Python callable \"%s\": the casts mongowatch knows are builtins.len, "
                         "pymongo.watcher.transforms.one_if_not_none and "
                         "pymongo.watcher.transforms.to_watch_cursor",
                         name);
   return false;
}

/* A field name of `to`: *set is false when `to` is not given, *out NULL
 * when it is null or "" (the field is left out). */
/* The value of `key` in `map` as written, or NULL. */
static const mwatch_node_t *
value_of (const mwatch_node_t *map, const char *key)
{
   const mwatch_node_pair_t *pair = _mwatch_node_map_find (map, key);
   return pair ? pair->value : NULL;
}

static bool
read_to (mwatch_cfg_t *cfg, const mwatch_node_t *map, bool *set, const char **out)
{
   const mwatch_node_t *written = value_of (map, "to");
   *set = written != NULL;
   *out = NULL;
   if (!written) {
      return true;
   }
   const mwatch_node_t *node = _mwatch_cfg_resolve (cfg, written);
   if (!node) {
      return false;
   }
   if (node->type == MWATCH_NODE_NULL || (node->type == MWATCH_NODE_SCALAR && !*node->text)) {
      return true;
   }
   size_t saved = _mwatch_cfg_push (cfg, "to");
   bool ok = _mwatch_cfg_name (cfg, node, out);
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

/* The int64 a cast makes of the constant at `iter`; false: it keeps it. */
static bool
cast_constant (const char *cast, const bson_iter_t *iter, int64_t *out)
{
   if (strcmp (cast, "pymongo.watcher.transforms.one_if_not_none") == 0) {
      *out = BSON_ITER_HOLDS_NULL (iter) ? 0 : 1;
      return true;
   }
   if (strcmp (cast, "builtins.len") != 0) {
      return false;
   }
   bson_t inner;
   uint32_t len = 0;
   const uint8_t *data = NULL;
   if (BSON_ITER_HOLDS_DOCUMENT (iter) || BSON_ITER_HOLDS_ARRAY (iter)) {
      if (BSON_ITER_HOLDS_DOCUMENT (iter)) {
         bson_iter_document (iter, &len, &data);
      } else {
         bson_iter_array (iter, &len, &data);
      }
      *out = bson_init_static (&inner, data, len) ? (int64_t) bson_count_keys (&inner) : 0;
      return true;
   }
   if (BSON_ITER_HOLDS_UTF8 (iter)) {
      const char *text = bson_iter_utf8 (iter, &len);
      *out = 0;
      for (uint32_t i = 0; i < len; i++) {
         *out += ((unsigned char) text[i] & 0xC0) != 0x80;
      }
      return true;
   }
   return false; /* len() of a number fails in Python: pymongowatch keeps it */
}

/* The field `name` holding the constant `value` (through `cast`, at load:
 * the value is the same for every record), added to op->add. */
static bool
add_constant (mwatch_cfg_t *cfg, mwatch_staged_op_t *op, const char *name, mwatch_node_t *value, const char *cast)
{
   mwatch_node_pair_t pair = {.key = (char *) name, .pos = value->pos, .value = value};
   mwatch_node_t map = {.type = MWATCH_NODE_MAP, .pos = value->pos, .pairs = &pair, .count = 1};
   bson_t doc;
   if (!_mwatch_cfg_to_bson (cfg, &map, NULL, &doc)) {
      return false;
   }
   if (!op->add) {
      op->add = bson_new ();
   }
   bson_iter_t iter;
   int64_t n;
   if (cast && bson_iter_init (&iter, &doc) && bson_iter_next (&iter) && cast_constant (cast, &iter, &n)) {
      BSON_APPEND_INT64 (op->add, name, n);
   } else {
      bson_concat (op->add, &doc);
   }
   bson_destroy (&doc);
   return true;
}

static const char *
count_of (const char *operation)
{
   for (size_t i = 0; i < sizeof result_counts / sizeof *result_counts; i++) {
      if (strcmp (result_counts[i].operation, operation) == 0) {
         return result_counts[i].count;
      }
   }
   return NULL;
}

/* `_result` (or the key `result: {to: ...}` chose): the operation's count
 * fields.  A cast is checked, not applied: the count mongowatch reads from
 * the reply is already what pymongowatch's casts make of a result object
 * (len of distinct's values, one_if_not_none of a find_one_and_*). */
static bool
pymongowatch_result (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *key, mwatch_staged_op_t *op)
{
   bool to_set;
   const char *to;
   if (!read_to (cfg, map, &to_set, &to)) {
      return false;
   }
   const char *name = to_set ? to : key;
   const mwatch_node_t *value = value_of (map, "value");
   const char *count = count_of (op->operation);
   if (!name) {
      for (size_t i = 0; all_counts[i]; i++) {
         op->drop = strv_push (op->drop, all_counts[i]);
      }
      return true;
   }
   bool own_count = count && strcmp (name, count) == 0;
   for (size_t i = 0; !count && all_counts[i]; i++) {
      own_count = own_count || strcmp (name, all_counts[i]) == 0;
   }
   /* A value under one of the operation's own counts (pymongowatch's
    * insert_one: InsertedCount, value 1) yields to the count read from the
    * reply, which says the same on success and the truth on failure. */
   if (value && !own_count) {
      for (size_t i = 0; all_counts[i]; i++) {
         op->drop = strv_push (op->drop, all_counts[i]);
      }
      return add_constant (cfg, op, name, (mwatch_node_t *) value, NULL);
   }
   if (count) {
      if (strcmp (name, count) != 0) {
         op->rename = pair_push (op->rename, count, name);
      }
      return true;
   }
   if (own_count) {
      return true; /* one of its counts: mongowatch fills it from the reply */
   }
   _mwatch_cfg_fail (cfg,
                     map->pos,
                     "the result of %s is not one field in mongowatch but its counts (MatchedCount, "
                         "InsertedCount, UpsertedCount, ModifiedCount, DeletedCount, whichever it fills): "
                         "rename them with `rename:`, or give `to: null` to leave them out",
                         op->operation);
   return false;
}

/* One argument's entry: `argument: {to, cast, value}`. */
static bool
pymongowatch_argument (mwatch_cfg_t *cfg, const char *argument, const mwatch_node_t *node, mwatch_staged_op_t *op,
                       const char *result_key)
{
   const mwatch_node_t *map = NULL;
   const mwatch_node_t *ignored = NULL;
   const mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("to", MWATCH_CFG_NODE, &ignored),
      MWATCH_CFG_FIELD ("cast", MWATCH_CFG_NODE, &ignored),
      MWATCH_CFG_FIELD ("value", MWATCH_CFG_NODE, &ignored),
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_map (cfg, node, true, &map)) {
      return false;
   }
   if (!map) {
      map = &(const mwatch_node_t) {.type = MWATCH_NODE_MAP, .pos = node->pos};
   }
   const char *cast = NULL;
   if (!_mwatch_cfg_read_fields (cfg, map, fields) || !read_cast (cfg, map, value_of (map, "cast"), &cast)) {
      return false;
   }
   if (strcmp (argument, result_key) == 0) {
      return pymongowatch_result (cfg, map, argument, op);
   }
   const mwatch_node_t *value = value_of (map, "value");
   bool to_set;
   const char *to;
   if (!read_to (cfg, map, &to_set, &to)) {
      return false;
   }
   const char *name = to_set ? to : argument;
   const char *field = NULL;
   for (size_t i = 0; i < sizeof recorded_arguments / sizeof *recorded_arguments; i++) {
      if (strcmp (recorded_arguments[i].argument, argument) == 0) {
         field = recorded_arguments[i].field;
      }
   }
   if (value) {
      if (field) {
         op->drop = strv_push (op->drop, field);
      }
      return !name || add_constant (cfg, op, name, (mwatch_node_t *) value, cast);
   }
   if (!field) {
      if (!name) {
         return true; /* left out: mongowatch does not record it anyway */
      }
      _mwatch_cfg_fail (cfg,
                        node->pos,
                        "mongowatch does not record the argument \"%s\" of %s (it records filter, spec, "
                        "spec_or_id, query, selector and pipeline as Filter, update, replacement and "
                        "document as Update, and %s as the counts); give it a `value`, or `to: null`",
                        argument,
                        op->operation,
                        result_key);
      return false;
   }
   /* Cast even when left out, as pymongowatch does (for nothing here). */
   if (cast) {
      op->cast = pair_push (op->cast, field, cast);
   }
   if (!name) {
      op->drop = strv_push (op->drop, field);
   } else if (strcmp (name, field) != 0) {
      op->rename = pair_push (op->rename, field, name);
   }
   return true;
}

static bool
operation (mwatch_cfg_t *cfg, const char *written_name, const mwatch_node_t *node, mwatch_staged_watcher_t *w)
{
   const mwatch_node_t *map = NULL;
   mwatch_staged_op_t op = {.operation = written_name};
   bool ok = _mwatch_cfg_map (cfg, node, true, &map);
   /* pymongowatch's name of a call libmongoc names otherwise. */
   bool python_form = false;
   for (size_t i = 0; ok && map && i < map->count; i++) {
      const char *key = map->pairs[i].key;
      python_form = python_form || (strcmp (key, "rename") && strcmp (key, "drop") && strcmp (key, "add"));
   }
   for (size_t i = 0; ok && python_form && i < sizeof operation_names / sizeof *operation_names; i++) {
      if (strcmp (operation_names[i].pymongo, written_name) == 0) {
         if (!operation_names[i].mongoc) {
            ok = _mwatch_cfg_fail (cfg, node->pos, "%s", operation_names[i].why);
         }
         op.operation = operation_names[i].mongoc;
      }
   }
   const char *result_key = w->result_key ? w->result_key : "_result";
   for (size_t i = 0; ok && map && i < map->count; i++) {
      const mwatch_node_pair_t *pair = &map->pairs[i];
      size_t saved = _mwatch_cfg_push (cfg, pair->key);
      const mwatch_node_t *value = _mwatch_cfg_resolve (cfg, pair->value);
      ok = value != NULL;
      if (!ok || value->type == MWATCH_NODE_NULL) {
         /* nothing, as before */
      } else if (strcmp (pair->key, "rename") == 0) {
         const char **pairs = NULL;
         ok = _mwatch_cfg_name_pairs (cfg, value, &pairs);
         for (size_t j = 0; ok && pairs[j]; j += 2) {
            op.rename = pair_push (op.rename, pairs[j], pairs[j + 1]);
         }
         bson_free (pairs);
      } else if (strcmp (pair->key, "drop") == 0) {
         const char **names = NULL;
         ok = _mwatch_cfg_names (cfg, value, &names);
         for (size_t j = 0; ok && names[j]; j++) {
            op.drop = strv_push (op.drop, names[j]);
         }
         bson_free (names);
      } else if (strcmp (pair->key, "add") == 0) {
         bson_t *add = NULL;
         _mwatch_cfg_pop (cfg, saved);
         ok = read_add (cfg, value, &add);
         saved = _mwatch_cfg_push (cfg, pair->key);
         if (ok && add) {
            if (!op.add) {
               op.add = bson_new ();
            }
            bson_concat (op.add, add);
            bson_destroy (add);
         }
      } else {
         ok = pymongowatch_argument (cfg, pair->key, value, &op, result_key);
      }
      _mwatch_cfg_pop (cfg, saved);
   }
   if (!ok) {
      op_clear (&op);
      return false;
   }
   for (size_t i = 0; i < w->op_count; i++) {
      if (strcmp (w->ops[i].operation, op.operation) == 0) {
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

/* A section {to, cast} of pymongowatch's (result, undefined_arguments):
 * `*map` receives the section (NULL when it is null), `*to_set` whether
 * `to` is given and `*to` its name (NULL for null or "").  The cast is
 * checked only (see pymongowatch_result). */
static bool
to_cast_section (mwatch_cfg_t *cfg, const mwatch_node_t *node, const mwatch_node_t **map, bool *to_set, const char **to)
{
   const mwatch_node_t *ignored = NULL;
   const mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("to", MWATCH_CFG_NODE, &ignored),
      MWATCH_CFG_FIELD ("cast", MWATCH_CFG_NODE, &ignored),
      MWATCH_CFG_END,
   };
   *map = NULL;
   *to_set = false;
   *to = NULL;
   return _mwatch_cfg_map (cfg, node, true, map) &&
          (!*map || (_mwatch_cfg_read_fields (cfg, *map, fields) && read_cast (cfg, *map, value_of (*map, "cast"), NULL) &&
                     read_to (cfg, *map, to_set, to)));
}

/* pymongowatch's "result: {to, cast}": the key its operations entries
 * give the result under; null or "" leaves every count out of the records
 * (a drop on the "*" entry of the kind).  The cast is checked only (see
 * pymongowatch_result). */
static bool
result_section (mwatch_cfg_t *cfg, const mwatch_node_t *node, mwatch_staged_watcher_t *w)
{
   const mwatch_node_t *map;
   bool to_set;
   const char *to;
   size_t saved = _mwatch_cfg_push (cfg, "result");
   bool ok = to_cast_section (cfg, node, &map, &to_set, &to);
   if (ok && to_set && to) {
      w->result_key = to;
   } else if (ok && to_set) {
      mwatch_staged_op_t *all = NULL;
      for (size_t i = 0; i < w->op_count; i++) {
         all = strcmp (w->ops[i].operation, "*") == 0 ? &w->ops[i] : all;
      }
      if (!all) {
         w->ops = bson_realloc (w->ops, (w->op_count + 1) * sizeof *w->ops);
         all = &w->ops[w->op_count++];
         *all = (mwatch_staged_op_t) {.operation = "*"};
      }
      for (size_t i = 0; all_counts[i]; i++) {
         all->drop = strv_push (all->drop, all_counts[i]);
      }
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

/* pymongowatch's "undefined_arguments": the arguments its operations
 * entries do not name go into the record unless `to` is null or "" (its
 * default).  mongowatch records no argument beyond the filter and the
 * update, so only that default is accepted. */
static bool
undefined_arguments (mwatch_cfg_t *cfg, const mwatch_node_t *node)
{
   const mwatch_node_t *map;
   bool to_set;
   const char *to;
   size_t saved = _mwatch_cfg_push (cfg, "undefined_arguments");
   bool ok = to_cast_section (cfg, node, &map, &to_set, &to);
   if (ok && map && (!to_set || to)) {
      ok = _mwatch_cfg_fail (cfg,
                             map->pos,
                             "mongowatch records no argument of a call besides its filter (Filter) and "
                             "update (Update), so it has no undefined arguments to add: give `to: null`, or "
                             "remove the key");
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

/* pymongowatch's "csv": [{file, add_headers_if_empty}]: the header line
 * (the template with "{watch.csv}" replaced by the columns {watch.csv}
 * writes) goes into each file that is empty or new, at load. */
static bool
csv_headers (mwatch_cfg_t *cfg, const mwatch_node_t *node)
{
   const mwatch_node_t *seq = NULL;
   size_t top = _mwatch_cfg_push (cfg, "csv");
   bool ok = _mwatch_cfg_seq (cfg, node, &seq);
   for (size_t i = 0; ok && i < seq->count; i++) {
      size_t saved = _mwatch_cfg_push_index (cfg, i);
      const mwatch_node_t *map = NULL;
      const char *file = NULL;
      const char *header = NULL;
      const mwatch_cfg_field_t fields[] = {
         {"file", MWATCH_CFG_STRING, &file, .required = true},
         {"add_headers_if_empty", MWATCH_CFG_STRING, &header, .required = true},
         MWATCH_CFG_END,
      };
      ok = _mwatch_cfg_map (cfg, seq->items[i], false, &map) && _mwatch_cfg_read_fields (cfg, map, fields);
      if (ok && *file && *header && !cfg->st.check_only) {
         static const char placeholder[] = "{watch.csv}";
         mwatch_buf_t text = MWATCH_BUF_INITIALIZER;
         for (const char *at = header; *at;) {
            const char *next = strstr (at, placeholder);
            if (!next) {
               mwatch_buf_append (&text, at, strlen (at));
               break;
            }
            mwatch_buf_append (&text, at, (size_t) (next - at));
            mwatch_render_csv_header (NULL, &text);
            at = next + sizeof placeholder - 1;
         }
         while (text.len && text.data[text.len - 1] == '\n') {
            text.len--;
         }
         mwatch_buf_append (&text, "\n", 1);
         ok = _mwatch_cfg_write_if_empty (cfg, map, "file", file, &text);
         mwatch_buf_destroy (&text);
      }
      _mwatch_cfg_pop (cfg, saved);
   }
   _mwatch_cfg_pop (cfg, top);
   return ok;
}

/* Keys of pymongowatch's classes that its YAML never reached, with where
 * mongowatch has the same thing. */
static bool
not_watchers_keys (mwatch_cfg_t *cfg, const mwatch_node_t *map)
{
   static const struct {
      const char *key;
      const char *why;
   } keys[] = {
      {"forced_delay_sec",
       "is an argument of pymongowatch's WatchQueue, not of its watchers: in mongowatch give the queue handler "
       "(class: queue) default_delay_sec: N and force_default_delay: true"},
   };
   for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
      if (_mwatch_node_map_find (map, keys[i].key)) {
         _mwatch_cfg_fail_key (cfg, map, keys[i].key, "\"%s\" %s", keys[i].key, keys[i].why);
         return false;
      }
   }
   return true;
}

/* pymongowatch's WatchMessage.default_delimiter and
 * default_key_value_separator (also read as key_value_separator): the
 * separators of {watch} and {watch.full}.  They are attributes of the one
 * message class, for every watcher: only "global" takes them.  `nodes`:
 * the three keys' values, as read_fields found them. */
static const char *const separator_keys[3] = {
   "default_delimiter", "key_value_separator", "default_key_value_separator"};

static bool
separators (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *map, const mwatch_node_t *const nodes[3])
{
   const char *values[3] = {NULL, NULL, NULL};
   bool ok = true;
   for (size_t i = 0; ok && i < 3; i++) {
      if (nodes[i] && strcmp (name, "global") != 0) {
         ok = _mwatch_cfg_fail_key (cfg,
                                    map,
                                    separator_keys[i],
                                    "\"%s\" applies to every watcher at once, as in pymongowatch (an "
                                    "attribute of its WatchMessage): give it under watchers.global, not "
                                    "watchers.%s",
                                    separator_keys[i],
                                    name);
      } else if (nodes[i] && nodes[i]->type != MWATCH_NODE_NULL) {
         size_t saved = _mwatch_cfg_push (cfg, separator_keys[i]);
         ok = _mwatch_cfg_string (cfg, nodes[i], &values[i]);
         _mwatch_cfg_pop (cfg, saved);
      }
   }
   if (ok && nodes[1] && nodes[2]) {
      ok = _mwatch_cfg_fail_key (cfg,
                                 map,
                                 separator_keys[2],
                                 "\"key_value_separator\" and \"default_key_value_separator\" are one option: "
                                 "give one of them");
   }
   if (ok && values[0]) {
      cfg->st.delimiter = values[0];
   }
   if (ok && (values[1] || values[2])) {
      cfg->st.key_value_separator = values[1] ? values[1] : values[2];
   }
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
   const mwatch_node_t *csv = NULL;
   const mwatch_node_t *result = NULL;
   const mwatch_node_t *undefined = NULL;
   const mwatch_node_t *seps[3] = {NULL, NULL, NULL};
   const char **fields_list = NULL;
   mwatch_cfg_field_t fields[] = {
      {"timeout_sec", MWATCH_CFG_DOUBLE, &w->opts.timeout_sec, .min = 0, .max = 1e9},
      MWATCH_CFG_FIELD ("log_level", MWATCH_CFG_NODE, &levels),
      MWATCH_CFG_FIELD ("default_fields", MWATCH_CFG_NAMES, &fields_list),
      MWATCH_CFG_FIELD ("operations", MWATCH_CFG_NODE, &ops),
      MWATCH_CFG_FIELD ("csv", MWATCH_CFG_NODE, &csv),
      MWATCH_CFG_FIELD ("result", MWATCH_CFG_NODE, &result),
      MWATCH_CFG_FIELD ("undefined_arguments", MWATCH_CFG_NODE, &undefined),
      MWATCH_CFG_FIELD (separator_keys[0], MWATCH_CFG_NODE, &seps[0]),
      MWATCH_CFG_FIELD (separator_keys[1], MWATCH_CFG_NODE, &seps[1]),
      MWATCH_CFG_FIELD (separator_keys[2], MWATCH_CFG_NODE, &seps[2]),
      MWATCH_CFG_FIELD ("emit_on_new_retrieves", MWATCH_CFG_BOOL, &w->opts.emit_on_new_retrieves),
      MWATCH_CFG_END,
   };
   if (strcmp (name, "collection") == 0) {
      fields[10].key = NULL; /* cursors only */
   }
   size_t top = _mwatch_cfg_push (cfg, name);
   bool ok = _mwatch_cfg_map (cfg, node, true, &map) && (!map || not_watchers_keys (cfg, map)) &&
             (!map || (_mwatch_cfg_read_fields (cfg, map, fields) && separators (cfg, name, map, seps)));
   if (ok && levels && levels->type != MWATCH_NODE_NULL) {
      ok = log_levels (cfg, levels, &w->opts);
   }
   /* As pymongowatch: the result's key first, then the operations that
    * may name it. */
   if (ok && result && result->type != MWATCH_NODE_NULL) {
      ok = result_section (cfg, result, w);
   }
   if (ok && undefined && undefined->type != MWATCH_NODE_NULL) {
      ok = undefined_arguments (cfg, undefined);
   }
   if (ok && ops && ops->type != MWATCH_NODE_NULL) {
      ok = operations (cfg, ops, w);
   }
   /* Each section is read once for each kind: its files are written once. */
   if (ok && csv && csv->type != MWATCH_NODE_NULL && kind == 0) {
      ok = csv_headers (cfg, csv);
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
      if (op->cast) {
         describe_list (cfg, "cast", op->cast, 2);
      }
      if (op->add) {
         char *json = bson_as_relaxed_extended_json (op->add, NULL);
         _mwatch_cfg_describe (cfg, " add %s", json);
         bson_free (json);
      }
      _mwatch_cfg_describe (cfg, "\n");
   }
}

/* The separators, when the file sets them, as JSON strings: a space or
 * an empty one stays visible. */
static void
describe_separators (mwatch_cfg_t *cfg)
{
   const char *values[2] = {cfg->st.delimiter, cfg->st.key_value_separator};
   const char *labels[2] = {"default_delimiter", "key_value_separator"};
   if (!values[0] && !values[1]) {
      return;
   }
   _mwatch_cfg_describe (cfg, "watchers global:");
   for (int i = 0; i < 2; i++) {
      if (values[i]) {
         mwatch_buf_t quoted = MWATCH_BUF_INITIALIZER;
         _mwatch_json_string (&quoted, values[i], strlen (values[i]));
         _mwatch_cfg_describe (cfg, " %s %s", labels[i], quoted.data);
         mwatch_buf_destroy (&quoted);
      }
   }
   _mwatch_cfg_describe (cfg, "\n");
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
   if (ok) {
      describe_separators (cfg);
   }
   return ok;
}
