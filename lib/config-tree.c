/* The configuration tree: nodes, copies, and the shared error format. */
#include "config-tree-private.h"

#include <stdarg.h>
#include <string.h>

mwatch_node_t *
_mwatch_node_new (mwatch_node_type_t type, mwatch_pos_t pos)
{
   mwatch_node_t *node = bson_malloc0 (sizeof *node);
   node->type = type;
   node->pos = pos;
   return node;
}

mwatch_node_t *
_mwatch_node_new_scalar (const char *text, size_t len, bool plain, mwatch_pos_t pos)
{
   mwatch_node_t *node = _mwatch_node_new (MWATCH_NODE_SCALAR, pos);
   node->text = bson_strndup (text, len);
   node->plain = plain;
   return node;
}

void
_mwatch_node_destroy (mwatch_node_t *node)
{
   if (!node) {
      return;
   }
   for (size_t i = 0; i < node->count; i++) {
      if (node->type == MWATCH_NODE_MAP) {
         bson_free (node->pairs[i].key);
         _mwatch_node_destroy (node->pairs[i].value);
      } else {
         _mwatch_node_destroy (node->items[i]);
      }
   }
   bson_free (node->pairs);
   bson_free (node->items);
   bson_free (node->text);
   bson_free (node);
}

/* Room for one more pair or item. */
static void
grow (mwatch_node_t *node)
{
   if (node->count < node->capacity) {
      return;
   }
   node->capacity = node->capacity ? node->capacity * 2 : 4;
   if (node->type == MWATCH_NODE_MAP) {
      node->pairs = bson_realloc (node->pairs, node->capacity * sizeof *node->pairs);
   } else {
      node->items = bson_realloc (node->items, node->capacity * sizeof *node->items);
   }
}

mwatch_node_t *
_mwatch_node_copy (const mwatch_node_t *node, long *budget)
{
   if (--*budget < 0) {
      return NULL;
   }
   mwatch_node_t *copy = _mwatch_node_new (node->type, node->pos);
   copy->text = node->text ? bson_strdup (node->text) : NULL;
   copy->plain = node->plain;
   for (size_t i = 0; i < node->count; i++) {
      const mwatch_node_t *child =
         node->type == MWATCH_NODE_MAP ? node->pairs[i].value : node->items[i];
      mwatch_node_t *child_copy = _mwatch_node_copy (child, budget);
      if (!child_copy) {
         _mwatch_node_destroy (copy);
         return NULL;
      }
      if (node->type == MWATCH_NODE_MAP) {
         _mwatch_node_map_add (copy, node->pairs[i].key, node->pairs[i].pos, child_copy);
      } else {
         _mwatch_node_seq_add (copy, child_copy);
      }
   }
   return copy;
}

const mwatch_node_pair_t *
_mwatch_node_map_find (const mwatch_node_t *map, const char *key)
{
   if (!map || map->type != MWATCH_NODE_MAP) {
      return NULL;
   }
   for (size_t i = 0; i < map->count; i++) {
      if (strcmp (map->pairs[i].key, key) == 0) {
         return &map->pairs[i];
      }
   }
   return NULL;
}

bool
_mwatch_node_map_add (mwatch_node_t *map, const char *key, mwatch_pos_t pos, mwatch_node_t *value)
{
   if (_mwatch_node_map_find (map, key)) {
      return false;
   }
   grow (map);
   map->pairs[map->count].key = bson_strdup (key);
   map->pairs[map->count].pos = pos;
   map->pairs[map->count].value = value;
   map->count++;
   return true;
}

void
_mwatch_node_seq_add (mwatch_node_t *seq, mwatch_node_t *item)
{
   grow (seq);
   seq->items[seq->count++] = item;
}

void
_mwatch_node_set_file (mwatch_node_t *tree, const char *file)
{
   if (!tree) {
      return;
   }
   tree->pos.file = file;
   for (size_t i = 0; i < tree->count; i++) {
      if (tree->type == MWATCH_NODE_MAP) {
         tree->pairs[i].pos.file = file;
         _mwatch_node_set_file (tree->pairs[i].value, file);
      } else {
         _mwatch_node_set_file (tree->items[i], file);
      }
   }
}

mwatch_node_t *
_mwatch_node_merge (mwatch_node_t *base, mwatch_node_t *over)
{
   if (!base || base->type != MWATCH_NODE_MAP || !over || over->type != MWATCH_NODE_MAP) {
      _mwatch_node_destroy (base);
      return over;
   }
   for (size_t i = 0; i < over->count; i++) {
      mwatch_node_pair_t *pair = &over->pairs[i];
      mwatch_node_pair_t *mine = (mwatch_node_pair_t *) _mwatch_node_map_find (base, pair->key);
      if (mine) {
         mine->value = _mwatch_node_merge (mine->value, pair->value);
         mine->pos = pair->pos;
      } else {
         _mwatch_node_map_add (base, pair->key, pair->pos, pair->value);
      }
      pair->value = NULL; /* now base's */
   }
   _mwatch_node_destroy (over);
   return base;
}

void
_mwatch_config_error (bson_error_t *error,
                      const char *file,
                      mwatch_pos_t pos,
                      const char *path,
                      const char *format,
                      ...)
{
   char where[64] = "";
   char text[sizeof error->message];
   va_list args;

   if (!error) {
      return;
   }
   va_start (args, format);
   bson_vsnprintf (text, sizeof text, format, args);
   va_end (args);
   if (pos.line > 0) {
      bson_snprintf (where, sizeof where, ":%d:%d", pos.line, pos.column);
   }
   bson_set_error (error,
                   MWATCH_ERROR_DOMAIN,
                   MWATCH_ERROR_CONFIG,
                   "%s%s: %s%s%s",
                   file,
                   where,
                   path && *path ? path : "",
                   path && *path ? ": " : "",
                   text);
}

void
_mwatch_config_error_code (bson_error_t *error, uint32_t code)
{
   if (error && error->domain == MWATCH_ERROR_DOMAIN) {
      error->code = code;
   }
}

void
_mwatch_config_error_cause (bson_error_t *error, const bson_error_t *cause)
{
   /* A bad argument, coming from the file, is a bad value in it. */
   if (cause->domain == MWATCH_ERROR_DOMAIN && cause->code != MWATCH_ERROR_INVALID_ARGUMENT) {
      _mwatch_config_error_code (error, cause->code);
   }
}
