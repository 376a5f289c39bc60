/* JSON text to a configuration tree.
 *
 * jansson is the judge of JSON syntax (strict RFC 8259, duplicate keys
 * rejected), and its error names the line and column.  jansson keeps no
 * positions, so the tree itself comes from libyaml reading the same text:
 * JSON is YAML's flow syntax, and libyaml gives every node its place.
 * Where the two readers could differ, jansson's view wins: string values
 * and keys are taken from jansson, and if libyaml cannot follow the text
 * at all, or the shapes differ, the tree is built from jansson alone,
 * without positions. */
#include "config-tree-private.h"

#include <jansson.h>
#include <string.h>

/* libyaml rejects the UTF-16 surrogate escapes JSON uses for characters
 * beyond the BMP ("\ud83d\ude00").  In a copy for libyaml each becomes
 * "\u003f", as long, so positions hold; the text itself comes from
 * jansson.  Backslashes occur only inside strings in valid JSON. */
static char *
yaml_friendly_copy (const char *text, size_t len)
{
   char *copy = bson_malloc (len + 1);
   memcpy (copy, text, len);
   copy[len] = '\0';
   for (size_t i = 0; i + 1 < len; i++) {
      if (copy[i] != '\\') {
         continue;
      }
      if (copy[i + 1] == 'u' && i + 5 < len && (copy[i + 2] == 'd' || copy[i + 2] == 'D') &&
          strchr ("89abcdefABCDEF", copy[i + 3])) {
         memcpy (copy + i, "\\u003f", 6);
         i += 5;
      } else {
         i++; /* the escaped character, which may be a backslash */
      }
   }
   return copy;
}

static mwatch_node_t *
from_jansson (const json_t *value)
{
   mwatch_pos_t nowhere = {0, 0, NULL};
   char number[64];
   switch (json_typeof (value)) {
   case JSON_OBJECT: {
      mwatch_node_t *map = _mwatch_node_new (MWATCH_NODE_MAP, nowhere);
      const char *key;
      json_t *member;
      json_object_foreach ((json_t *) value, key, member)
      {
         _mwatch_node_map_add (map, key, nowhere, from_jansson (member));
      }
      return map;
   }
   case JSON_ARRAY: {
      mwatch_node_t *seq = _mwatch_node_new (MWATCH_NODE_SEQ, nowhere);
      size_t i;
      json_t *item;
      json_array_foreach (value, i, item)
      {
         _mwatch_node_seq_add (seq, from_jansson (item));
      }
      return seq;
   }
   case JSON_STRING:
      return _mwatch_node_new_scalar (
         json_string_value (value), json_string_length (value), false, nowhere);
   case JSON_INTEGER:
   case JSON_REAL:
      /* Integers are read as reals (JSON_DECODE_INT_AS_REAL): %.17g gives
       * them back whole. */
      bson_snprintf (number, sizeof number, "%.17g", json_number_value (value));
      return _mwatch_node_new_scalar (number, strlen (number), true, nowhere);
   case JSON_TRUE:
      return _mwatch_node_new_scalar ("true", 4, true, nowhere);
   case JSON_FALSE:
      return _mwatch_node_new_scalar ("false", 5, true, nowhere);
   case JSON_NULL:
   default: {
      mwatch_node_t *null = _mwatch_node_new_scalar ("null", 4, true, nowhere);
      null->type = MWATCH_NODE_NULL;
      return null;
   }
   }
}

static bool
same_kind (const mwatch_node_t *node, const json_t *value)
{
   switch (node->type) {
   case MWATCH_NODE_MAP:
      return json_is_object (value) && json_object_size (value) == node->count;
   case MWATCH_NODE_SEQ:
      return json_is_array (value) && json_array_size (value) == node->count;
   case MWATCH_NODE_NULL:
      return json_is_null (value);
   case MWATCH_NODE_SCALAR:
   default:
      return node->plain ? json_is_number (value) || json_is_boolean (value)
                         : json_is_string (value);
   }
}

static void
replace_text (char **text, const char *value)
{
   bson_free (*text);
   *text = bson_strdup (value);
}

/* Takes strings and keys from jansson into libyaml's tree; false when the
 * two disagree on its shape.  Objects are walked in their order, which
 * jansson keeps as written. */
static bool
overlay (mwatch_node_t *node, const json_t *value)
{
   if (!same_kind (node, value)) {
      return false;
   }
   if (node->type == MWATCH_NODE_SCALAR && !node->plain) {
      if (strlen (json_string_value (value)) != json_string_length (value)) {
         return false; /* a NUL inside: let the jansson tree report it */
      }
      replace_text (&node->text, json_string_value (value));
   } else if (node->type == MWATCH_NODE_SEQ) {
      for (size_t i = 0; i < node->count; i++) {
         if (!overlay (node->items[i], json_array_get (value, i))) {
            return false;
         }
      }
   } else if (node->type == MWATCH_NODE_MAP) {
      void *iter = json_object_iter ((json_t *) value);
      for (size_t i = 0; i < node->count; i++, iter = json_object_iter_next ((json_t *) value, iter)) {
         if (!iter || !overlay (node->pairs[i].value, json_object_iter_value (iter))) {
            return false;
         }
         replace_text (&node->pairs[i].key, json_object_iter_key (iter));
      }
   }
   return true;
}

mwatch_node_t *
_mwatch_json_parse (const char *text, size_t len, const char *file, bson_error_t *error)
{
   json_error_t jerror;
   json_t *value = json_loadb (text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerror);
   if (!value) {
      mwatch_pos_t pos = {jerror.line > 0 ? jerror.line : 1, jerror.column > 0 ? jerror.column : 1, NULL};
      _mwatch_config_error (error, file, pos, NULL, "JSON syntax error: %s", jerror.text);
      return NULL;
   }
   char *copy = yaml_friendly_copy (text, len);
   bson_error_t ignored;
   mwatch_node_t *tree = _mwatch_yaml_parse (copy, len, file, &ignored);
   bson_free (copy);
   if (!tree || !overlay (tree, value)) {
      _mwatch_node_destroy (tree);
      tree = from_jansson (value);
   }
   json_decref (value);
   return tree;
}
