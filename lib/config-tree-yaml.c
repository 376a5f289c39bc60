/* YAML text to a configuration tree, with libyaml's event parser (the
 * document API would lose the difference between 15 and "15" as soon as
 * we resolved tags ourselves, and has no merge keys).
 *
 * Anchors and aliases are supported by copying the anchored node where it
 * is referred to, and so are merge keys ("<<: *defaults"), which is how a
 * YAML author shares settings between handlers.  A budget of nodes stops
 * alias bombs. */
#include "config-tree-private.h"

#include <string.h>
#include <yaml.h>

/* A map or sequence being filled. */
typedef struct {
   mwatch_node_t *node;
   char *anchor;      /* registered when the collection ends */
   char *key;         /* maps: a key waiting for its value */
   mwatch_pos_t key_pos;
   bool key_is_merge; /* a plain "<<" */
   mwatch_node_t **merges;
   size_t merge_count;
} frame_t;

typedef struct {
   char *name;
   const mwatch_node_t *node;
} anchor_t;

typedef struct {
   const char *file;
   bson_error_t *error;
   frame_t *stack;
   size_t depth;
   anchor_t *anchors;
   size_t anchor_count;
   /* Nodes no longer in the tree that an anchor may still name: keys and
    * merge sources.  Freed with the builder. */
   mwatch_node_t **kept;
   size_t kept_count;
   long budget;
   int documents;
   mwatch_node_t *root;
} builder_t;

static mwatch_pos_t
pos_of (yaml_mark_t mark)
{
   mwatch_pos_t pos = {(int) mark.line + 1, (int) mark.column + 1, NULL};
   return pos;
}

static bool
fail (builder_t *b, mwatch_pos_t pos, const char *message)
{
   _mwatch_config_error (b->error, b->file, pos, NULL, "%s", message);
   return false;
}

static void
keep (builder_t *b, mwatch_node_t *node)
{
   b->kept = bson_realloc (b->kept, (b->kept_count + 1) * sizeof *b->kept);
   b->kept[b->kept_count++] = node;
}

static bool
spend (builder_t *b, mwatch_pos_t pos)
{
   if (--b->budget < 0) {
      _mwatch_config_error (b->error,
                            b->file,
                            pos,
                            NULL,
                            "the configuration is too large (more than %d values, "
                            "aliases expanded); is an alias repeated too often?",
                            MWATCH_CONFIG_MAX_NODES);
      return false;
   }
   return true;
}

static void
register_anchor (builder_t *b, const char *name, const mwatch_node_t *node)
{
   b->anchors = bson_realloc (b->anchors, (b->anchor_count + 1) * sizeof *b->anchors);
   b->anchors[b->anchor_count].name = bson_strdup (name);
   b->anchors[b->anchor_count].node = node;
   b->anchor_count++;
}

/* A later anchor of the same name hides an earlier one, as YAML says. */
static const mwatch_node_t *
find_anchor (const builder_t *b, const char *name)
{
   for (size_t i = b->anchor_count; i > 0; i--) {
      if (strcmp (b->anchors[i - 1].name, name) == 0) {
         return b->anchors[i - 1].node;
      }
   }
   return NULL;
}

/* Places a finished node: as the document, a sequence item, a map key or a
 * map value.  Takes `node` in every case. */
static bool
place (builder_t *b, mwatch_node_t *node)
{
   if (b->depth == 0) {
      b->root = node;
      return true;
   }
   frame_t *f = &b->stack[b->depth - 1];
   if (f->node->type == MWATCH_NODE_SEQ) {
      _mwatch_node_seq_add (f->node, node);
      return true;
   }
   if (!f->key) {
      keep (b, node);
      if (node->type == MWATCH_NODE_MAP || node->type == MWATCH_NODE_SEQ) {
         return fail (b, node->pos, "a key must be a string, not a mapping or a list");
      }
      f->key = bson_strdup (node->text);
      f->key_pos = node->pos;
      f->key_is_merge = node->plain && strcmp (node->text, "<<") == 0;
      return true;
   }
   char *key = f->key;
   f->key = NULL;
   bool ok = true;
   if (f->key_is_merge) {
      f->merges = bson_realloc (f->merges, (f->merge_count + 1) * sizeof *f->merges);
      f->merges[f->merge_count++] = node;
   } else if (!_mwatch_node_map_add (f->node, key, f->key_pos, node)) {
      const mwatch_node_pair_t *first = _mwatch_node_map_find (f->node, key);
      _mwatch_config_error (b->error,
                            b->file,
                            f->key_pos,
                            NULL,
                            "duplicate key \"%s\" (first at line %d, column %d); "
                            "write each key once",
                            key,
                            first->pos.line,
                            first->pos.column);
      _mwatch_node_destroy (node);
      ok = false;
   }
   bson_free (key);
   return ok;
}

/* Adds the pairs of one merge source that the map lacks: keys written in
 * the map win, and among sources the first listed wins. */
static bool
merge_one (builder_t *b, mwatch_node_t *map, const mwatch_node_t *source)
{
   if (source->type != MWATCH_NODE_MAP) {
      return fail (b, source->pos, "\"<<\" merges mappings only; give a mapping or a list of them");
   }
   for (size_t i = 0; i < source->count; i++) {
      if (_mwatch_node_map_find (map, source->pairs[i].key)) {
         continue;
      }
      mwatch_node_t *copy = _mwatch_node_copy (source->pairs[i].value, &b->budget);
      if (!copy) {
         return spend (b, source->pos);
      }
      _mwatch_node_map_add (map, source->pairs[i].key, source->pairs[i].pos, copy);
   }
   return true;
}

static bool
apply_merges (builder_t *b, frame_t *f)
{
   for (size_t i = 0; i < f->merge_count; i++) {
      const mwatch_node_t *source = f->merges[i];
      if (source->type == MWATCH_NODE_SEQ) {
         for (size_t j = 0; j < source->count; j++) {
            if (!merge_one (b, f->node, source->items[j])) {
               return false;
            }
         }
      } else if (!merge_one (b, f->node, source)) {
         return false;
      }
   }
   return true;
}

static void
frame_clear (builder_t *b, frame_t *f)
{
   for (size_t i = 0; i < f->merge_count; i++) {
      keep (b, f->merges[i]);
   }
   bson_free (f->merges);
   bson_free (f->anchor);
   bson_free (f->key);
   memset (f, 0, sizeof *f);
}

/* The standard tags only: they say what plain/quoted already says. */
static bool
scalar_tag (const char *tag, bool *plain)
{
   static const char *const typed[] = {"tag:yaml.org,2002:int",
                                       "tag:yaml.org,2002:float",
                                       "tag:yaml.org,2002:bool",
                                       "tag:yaml.org,2002:null",
                                       NULL};
   if (!tag) {
      return true;
   }
   if (strcmp (tag, "tag:yaml.org,2002:str") == 0 || strcmp (tag, "!") == 0) {
      *plain = false;
      return true;
   }
   for (size_t i = 0; typed[i]; i++) {
      if (strcmp (tag, typed[i]) == 0) {
         *plain = true;
         return true;
      }
   }
   return false;
}

static bool
collection_tag_ok (const char *tag, const char *expected)
{
   return !tag || strcmp (tag, expected) == 0;
}

static bool
bad_tag (builder_t *b, mwatch_pos_t pos, const char *tag)
{
   _mwatch_config_error (b->error,
                         b->file,
                         pos,
                         NULL,
                         "the YAML tag \"%s\" is not supported; remove it "
                         "(quote a value to make it a string)",
                         tag);
   return false;
}

static bool
on_scalar (builder_t *b, const yaml_event_t *e)
{
   mwatch_pos_t pos = pos_of (e->start_mark);
   const char *text = (const char *) e->data.scalar.value;
   size_t len = e->data.scalar.length;
   bool plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
   if (!scalar_tag ((const char *) e->data.scalar.tag, &plain)) {
      return bad_tag (b, pos, (const char *) e->data.scalar.tag);
   }
   if (memchr (text, '\0', len)) {
      return fail (b, pos, "a NUL character is not allowed in a value");
   }
   if (!spend (b, pos)) {
      return false;
   }
   mwatch_node_t *node = _mwatch_node_new_scalar (text, len, plain, pos);
   if (plain && (len == 0 || strcmp (text, "~") == 0 || strcmp (text, "null") == 0 ||
                 strcmp (text, "Null") == 0 || strcmp (text, "NULL") == 0)) {
      node->type = MWATCH_NODE_NULL;
   }
   if (e->data.scalar.anchor) {
      register_anchor (b, (const char *) e->data.scalar.anchor, node);
   }
   return place (b, node);
}

static bool
on_alias (builder_t *b, const yaml_event_t *e)
{
   mwatch_pos_t pos = pos_of (e->start_mark);
   const char *name = (const char *) e->data.alias.anchor;
   const mwatch_node_t *target = find_anchor (b, name);
   if (!target) {
      _mwatch_config_error (b->error,
                            b->file,
                            pos,
                            NULL,
                            "the alias *%s names no anchor defined before it "
                            "(an alias cannot refer to a node that contains it)",
                            name);
      return false;
   }
   mwatch_node_t *copy = _mwatch_node_copy (target, &b->budget);
   if (!copy) {
      return spend (b, pos);
   }
   copy->pos = pos;
   return place (b, copy);
}

static bool
on_start (builder_t *b, const yaml_event_t *e, mwatch_node_type_t type)
{
   mwatch_pos_t pos = pos_of (e->start_mark);
   const char *tag;
   const yaml_char_t *anchor;
   if (type == MWATCH_NODE_MAP) {
      tag = (const char *) e->data.mapping_start.tag;
      anchor = e->data.mapping_start.anchor;
      if (!collection_tag_ok (tag, "tag:yaml.org,2002:map")) {
         return bad_tag (b, pos, tag);
      }
   } else {
      tag = (const char *) e->data.sequence_start.tag;
      anchor = e->data.sequence_start.anchor;
      if (!collection_tag_ok (tag, "tag:yaml.org,2002:seq")) {
         return bad_tag (b, pos, tag);
      }
   }
   if (!spend (b, pos)) {
      return false;
   }
   b->stack = bson_realloc (b->stack, (b->depth + 1) * sizeof *b->stack);
   frame_t *f = &b->stack[b->depth++];
   memset (f, 0, sizeof *f);
   f->node = _mwatch_node_new (type, pos);
   f->anchor = anchor ? bson_strdup ((const char *) anchor) : NULL;
   return true;
}

static bool
on_end (builder_t *b)
{
   frame_t *f = &b->stack[b->depth - 1];
   mwatch_node_t *node = f->node;
   bool ok = apply_merges (b, f);
   if (f->anchor) {
      register_anchor (b, f->anchor, node);
   }
   frame_clear (b, f);
   b->depth--;
   if (!ok) {
      _mwatch_node_destroy (node);
      return false;
   }
   return place (b, node);
}

static bool
on_event (builder_t *b, const yaml_event_t *e)
{
   switch (e->type) {
   case YAML_DOCUMENT_START_EVENT:
      if (b->documents++ > 0) {
         return fail (b,
                      pos_of (e->start_mark),
                      "only one YAML document is allowed; remove the second \"---\"");
      }
      return true;
   case YAML_SCALAR_EVENT:
      return on_scalar (b, e);
   case YAML_ALIAS_EVENT:
      return on_alias (b, e);
   case YAML_MAPPING_START_EVENT:
      return on_start (b, e, MWATCH_NODE_MAP);
   case YAML_SEQUENCE_START_EVENT:
      return on_start (b, e, MWATCH_NODE_SEQ);
   case YAML_MAPPING_END_EVENT:
   case YAML_SEQUENCE_END_EVENT:
      return on_end (b);
   case YAML_NO_EVENT:
   case YAML_STREAM_START_EVENT:
   case YAML_STREAM_END_EVENT:
   case YAML_DOCUMENT_END_EVENT:
   default:
      return true;
   }
}

static void
syntax_error (builder_t *b, const yaml_parser_t *parser)
{
   char context[128] = "";
   if (parser->context) {
      bson_snprintf (context,
                     sizeof context,
                     " (%s at line %d, column %d)",
                     parser->context,
                     (int) parser->context_mark.line + 1,
                     (int) parser->context_mark.column + 1);
   }
   _mwatch_config_error (b->error,
                         b->file,
                         pos_of (parser->problem_mark),
                         NULL,
                         "YAML syntax error: %s%s",
                         parser->problem ? parser->problem : "cannot read the text",
                         context);
}

static void
builder_destroy (builder_t *b)
{
   while (b->depth > 0) {
      frame_t *f = &b->stack[--b->depth];
      _mwatch_node_destroy (f->node);
      frame_clear (b, f);
   }
   bson_free (b->stack);
   for (size_t i = 0; i < b->anchor_count; i++) {
      bson_free (b->anchors[i].name);
   }
   bson_free (b->anchors);
   for (size_t i = 0; i < b->kept_count; i++) {
      _mwatch_node_destroy (b->kept[i]);
   }
   bson_free (b->kept);
}

mwatch_node_t *
_mwatch_yaml_parse (const char *text, size_t len, const char *file, bson_error_t *error)
{
   builder_t b = {.file = file, .error = error, .budget = MWATCH_CONFIG_MAX_NODES};
   yaml_parser_t parser;
   yaml_event_t event;
   bool ok = true;
   bool done = false;

   yaml_parser_initialize (&parser);
   yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
   while (ok && !done) {
      if (!yaml_parser_parse (&parser, &event)) {
         syntax_error (&b, &parser);
         ok = false;
         break;
      }
      ok = on_event (&b, &event);
      done = event.type == YAML_STREAM_END_EVENT;
      yaml_event_delete (&event);
   }
   yaml_parser_delete (&parser);
   builder_destroy (&b);
   if (!ok) {
      _mwatch_node_destroy (b.root);
      return NULL;
   }
   if (!b.root) {
      /* An empty file: a null document, which the schema explains. */
      mwatch_pos_t start = {1, 1, NULL};
      b.root = _mwatch_node_new (MWATCH_NODE_NULL, start);
      b.root->text = bson_strdup ("");
   }
   return b.root;
}
