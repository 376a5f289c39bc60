/* The key path of error messages, and cfg:// references.
 *
 * A reference "cfg://handlers.file.filename" stands for another node of
 * the same file, found from the top by dotted keys; "[N]" indexes a list
 * and "[key]" names a key that holds dots, as in Python's dictConfig
 * ("cfg://loggers[mongowatch.cursor].level").  A reference may lead to
 * another; a chain that comes back to itself is an error. */
#include "config-schema-private.h"
#include "suggest-private.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CFG_PREFIX "cfg://"
#define MAX_HOPS 32

size_t
_mwatch_cfg_push (mwatch_cfg_t *cfg, const char *key)
{
   size_t saved = cfg->path_len;
   int n = bson_snprintf (cfg->path + saved,
                          sizeof cfg->path - saved,
                          "%s%s",
                          saved ? "." : "",
                          *key ? key : "\"\""); /* the root logger's "" */
   cfg->path_len = BSON_MIN (saved + (size_t) BSON_MAX (n, 0), sizeof cfg->path - 1);
   return saved;
}

size_t
_mwatch_cfg_push_index (mwatch_cfg_t *cfg, size_t index)
{
   size_t saved = cfg->path_len;
   int n = bson_snprintf (cfg->path + saved, sizeof cfg->path - saved, "[%zu]", index);
   cfg->path_len = BSON_MIN (saved + (size_t) BSON_MAX (n, 0), sizeof cfg->path - 1);
   return saved;
}

void
_mwatch_cfg_pop (mwatch_cfg_t *cfg, size_t saved)
{
   cfg->path_len = saved;
   cfg->path[saved] = '\0';
}

bool
_mwatch_cfg_fail (mwatch_cfg_t *cfg, mwatch_pos_t pos, const char *format, ...)
{
   char text[sizeof cfg->error->message];
   va_list args;

   va_start (args, format);
   bson_vsnprintf (text, sizeof text, format, args);
   va_end (args);
   /* In a configuration merged from several files, each node names its own. */
   _mwatch_config_error (cfg->error, pos.file ? pos.file : cfg->file, pos, cfg->path, "%s", text);
   return false;
}

bool
_mwatch_cfg_fail_key (
   mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *key, const char *format, ...)
{
   char text[sizeof cfg->error->message];
   va_list args;

   va_start (args, format);
   bson_vsnprintf (text, sizeof text, format, args);
   va_end (args);
   const mwatch_node_pair_t *pair = _mwatch_node_map_find (map, key);
   size_t saved = _mwatch_cfg_push (cfg, key);
   _mwatch_cfg_fail (cfg, pair ? pair->value->pos : map->pos, "%s", text);
   _mwatch_cfg_pop (cfg, saved);
   return false;
}

/* ---------------------------------------------------------------- cfg:// */

typedef struct {
   const mwatch_node_t *written; /* where the first reference was written */
   const mwatch_node_t *hops[MAX_HOPS];
   size_t count;
} chain_t;

static bool
is_reference (const mwatch_node_t *node)
{
   return node && node->type == MWATCH_NODE_SCALAR &&
          strncmp (node->text, CFG_PREFIX, strlen (CFG_PREFIX)) == 0;
}

static const mwatch_node_t *
follow (mwatch_cfg_t *cfg, const mwatch_node_t *node, chain_t *chain);

static const mwatch_node_t *
fail_ref (mwatch_cfg_t *cfg, const chain_t *chain, const char *ref, const char *what)
{
   _mwatch_cfg_fail (cfg, chain->written->pos, "%s: %s", ref, what);
   return NULL;
}

static void
list_keys (const mwatch_node_t *map, char *out, size_t size)
{
   size_t len = 0;
   out[0] = '\0';
   for (size_t i = 0; i < map->count && len + 1 < size; i++) {
      int n = bson_snprintf (out + len, size - len, "%s%s", i ? ", " : "", map->pairs[i].key);
      len += (size_t) BSON_MAX (n, 0);
   }
}

/* One step down from `node` by `segment`; `done` is the part of the
 * reference walked so far, for messages. */
static const mwatch_node_t *
step (mwatch_cfg_t *cfg,
      const chain_t *chain,
      const char *ref,
      const mwatch_node_t *node,
      const char *segment,
      const char *done)
{
   char what[400];
   const char *where = *done ? done : "the top level";
   if (node->type == MWATCH_NODE_SEQ) {
      char *end;
      unsigned long index = strtoul (segment, &end, 10);
      if (!isdigit ((unsigned char) segment[0]) || *end) {
         bson_snprintf (what, sizeof what, "%s is a list: index it with [N], not \"%s\"", where, segment);
         return fail_ref (cfg, chain, ref, what);
      }
      if (index >= node->count) {
         bson_snprintf (
            what, sizeof what, "%s has %zu items, no item [%lu]", where, node->count, index);
         return fail_ref (cfg, chain, ref, what);
      }
      return node->items[index];
   }
   if (node->type != MWATCH_NODE_MAP) {
      bson_snprintf (what, sizeof what, "%s is not a mapping or a list; \"%s\" cannot be found in it", where, segment);
      return fail_ref (cfg, chain, ref, what);
   }
   const mwatch_node_pair_t *pair = _mwatch_node_map_find (node, segment);
   if (!pair) {
      char keys[256];
      char hint[96] = "";
      list_keys (node, keys, sizeof keys);
      mwatch_suggest_t suggest;
      _mwatch_suggest_init (&suggest, segment, strlen (segment));
      for (size_t i = 0; i < node->count; i++) {
         _mwatch_suggest_consider (&suggest, node->pairs[i].key);
      }
      if (_mwatch_suggest_best (&suggest)) {
         bson_snprintf (hint, sizeof hint, " (did you mean \"%s\"?)", _mwatch_suggest_best (&suggest));
      }
      bson_snprintf (
         what, sizeof what, "no key \"%s\" in %s%s (keys there: %s)", segment, where, hint, keys);
      return fail_ref (cfg, chain, ref, what);
   }
   return pair->value;
}

/* Walks the path of the reference `ref` (after "cfg://") from the top. */
static const mwatch_node_t *
walk (mwatch_cfg_t *cfg, chain_t *chain, const char *ref)
{
   const char *path = ref + strlen (CFG_PREFIX);
   const char *p = path;
   const mwatch_node_t *node = cfg->root;
   char segment[256];
   char done[256];

   if (!*p) {
      return fail_ref (cfg, chain, ref, "the reference names no key; write e.g. cfg://handlers.file.filename");
   }
   while (*p) {
      size_t len;
      bson_snprintf (done, sizeof done, "%.*s", (int) (p - path), path);
      if (*p == '[') {
         const char *close = strchr (p, ']');
         if (!close) {
            return fail_ref (cfg, chain, ref, "a \"[\" without its \"]\"");
         }
         len = (size_t) (close - p - 1);
         bson_snprintf (segment, sizeof segment, "%.*s", (int) len, p + 1);
         p = close + 1;
      } else {
         if (p != path && *p++ != '.') {
            return fail_ref (cfg, chain, ref, "expected \".\" or \"[\" after \"]\"");
         }
         len = strcspn (p, ".[");
         bson_snprintf (segment, sizeof segment, "%.*s", (int) len, p);
         p += len;
      }
      if (len == 0) {
         return fail_ref (cfg, chain, ref, "an empty key in the path");
      }
      node = follow (cfg, node, chain);
      if (!node) {
         return NULL;
      }
      node = step (cfg, chain, ref, node, segment, done);
      if (!node) {
         return NULL;
      }
   }
   return node;
}

static const mwatch_node_t *
cycle_error (mwatch_cfg_t *cfg, const chain_t *chain, const mwatch_node_t *again)
{
   char text[400] = "";
   size_t len = 0;
   for (size_t i = 0; i < chain->count && len + 1 < sizeof text; i++) {
      int n = bson_snprintf (text + len, sizeof text - len, "%s -> ", chain->hops[i]->text);
      len += (size_t) BSON_MAX (n, 0);
   }
   if (chain->count == MAX_HOPS) {
      _mwatch_cfg_fail (cfg, chain->written->pos, "cfg:// references go %d deep; is it a cycle? %s...", MAX_HOPS, text);
      return NULL;
   }
   _mwatch_cfg_fail (cfg,
                     chain->written->pos,
                     "cfg:// references form a cycle: %s%s; one of them must name a value",
                     text,
                     again->text);
   return NULL;
}

/* The references being followed form a stack: a reference met on the way
 * down a path is followed to its end and then leaves the stack, so only a
 * reference that is still being followed when it is met again is a
 * cycle. */
static const mwatch_node_t *
follow (mwatch_cfg_t *cfg, const mwatch_node_t *node, chain_t *chain)
{
   size_t base = chain->count;
   while (node && is_reference (node)) {
      for (size_t i = 0; i < chain->count; i++) {
         if (chain->hops[i] == node) {
            node = cycle_error (cfg, chain, node);
            break;
         }
      }
      if (node && chain->count == MAX_HOPS) {
         node = cycle_error (cfg, chain, node);
      }
      if (node) {
         chain->hops[chain->count++] = node;
         node = walk (cfg, chain, node->text);
      }
   }
   chain->count = base;
   return node;
}

const mwatch_node_t *
_mwatch_cfg_resolve (mwatch_cfg_t *cfg, const mwatch_node_t *node)
{
   chain_t chain = {.written = node, .count = 0};
   return follow (cfg, node, &chain);
}
