/* The "loggers" section and the top-level "root", as in dictConfig: each
 * logger's level, handlers, filters and propagation.  What a logger does
 * not say takes the default (level NOTSET, WARNING for the root;
 * propagating), since a configuration replaces the previous one whole. */
#include "config-schema-private.h"

#include <string.h>

/* Appends the names of `count` staged items to the description. */
static void
describe_names (mwatch_cfg_t *cfg, const char *label, const char *const *names, size_t count)
{
   _mwatch_cfg_describe (cfg, " %s [", label);
   for (size_t i = 0; i < count; i++) {
      _mwatch_cfg_describe (cfg, "%s%s", i ? ", " : "", names[i]);
   }
   _mwatch_cfg_describe (cfg, "]");
}

/* The handlers a logger names.  A queue's backend is not allowed: its
 * records would pass the queue by. */
static bool
logger_handlers (mwatch_cfg_t *cfg,
                 const mwatch_node_t *node,
                 mwatch_staged_logger_t *logger,
                 const char ***names)
{
   const mwatch_node_t *seq = NULL;
   if (!_mwatch_cfg_seq (cfg, node, &seq)) {
      return false;
   }
   logger->handlers = bson_malloc0 ((seq->count + 1) * sizeof *logger->handlers);
   *names = bson_malloc0 ((seq->count + 1) * sizeof **names);
   for (size_t i = 0; i < seq->count; i++) {
      size_t saved = _mwatch_cfg_push_index (cfg, i);
      mwatch_staged_t *found = _mwatch_cfg_lookup (cfg, &cfg->st.handlers, seq->items[i]);
      if (found && found->owner) {
         _mwatch_cfg_fail (cfg,
                           seq->items[i]->pos,
                           "handler \"%s\" is the backend of queue \"%s\"; name \"%s\" here, so "
                           "that records go through the queue",
                           found->name,
                           found->owner,
                           found->owner);
         found = NULL;
      }
      _mwatch_cfg_pop (cfg, saved);
      if (!found) {
         return false;
      }
      bool again = false;
      for (size_t j = 0; j < logger->handler_count; j++) {
         again = again || logger->handlers[j] == found->object;
      }
      if (!again) { /* as Python's addHandler, once */
         (*names)[logger->handler_count] = found->name;
         logger->handlers[logger->handler_count++] = found->object;
      }
   }
   return true;
}

/* The loggers the watchers log on (watch-options.c). */
static const char *const watcher_loggers[] = {"mongowatch.cursor", "mongowatch.collection"};

/* `name` is above `child` in the dotted hierarchy (the root is above all). */
static bool
is_ancestor (const char *name, const char *child)
{
   size_t len = strlen (name);
   return len == 0 || (strncmp (child, name, len) == 0 && child[len] == '.');
}

/* A logger's filters see only the records logged on that logger: records
 * propagated from below pass to its handlers unfiltered, as in Python.
 * So filters on "mongowatch" (or the root) never see an operation, all of
 * which are logged on the loggers below it; check-config says so, at the
 * filters, rather than leaving the user to find out from the log. */
static void
warn_filters_above_watchers (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *filters)
{
   if (!is_ancestor (name, watcher_loggers[0]) && !is_ancestor (name, watcher_loggers[1])) {
      return;
   }
   bson_error_t where;
   size_t saved = _mwatch_cfg_push (cfg, "filters");
   _mwatch_config_error (&where,
                         filters->pos.file ? filters->pos.file : cfg->file,
                         filters->pos,
                         cfg->path,
                         "the filters of logger \"%s\" never see the operations, which are "
                         "logged on %s and %s and propagate to it past its filters (as in "
                         "Python); put the filters on the handlers, or on those two loggers",
                         *name ? name : "(root)",
                         watcher_loggers[0],
                         watcher_loggers[1]);
   _mwatch_cfg_pop (cfg, saved);
   _mwatch_cfg_describe (cfg, "warning: %s\n", where.message);
}

/* pymongowatch's loggers, by the names its watchers log on, and the
 * mongowatch loggers that take their place: a pymongowatch file names
 * them, and would otherwise configure loggers nothing logs on. */
static const struct {
   const char *python;
   const char *name;
} logger_aliases[] = {
   {"pymongo.watcher", "mongowatch"},
   {"pymongo.watcher.cursor", "mongowatch.cursor"},
   {"pymongo.watcher.collection", "mongowatch.collection"},
};

#define N_ALIASES (sizeof logger_aliases / sizeof *logger_aliases)
#define PYMONGOWATCH_PREFIX "pymongo.watcher."

/* The mongowatch name of the logger written `written`, or NULL with the
 * error set for a name under pymongo.watcher that pymongowatch never logs
 * on (a handler there would see nothing, in either). */
static const char *
logger_name (mwatch_cfg_t *cfg, const mwatch_node_pair_t *pair)
{
   const char *known[2 * N_ALIASES + 1] = {NULL};
   for (size_t i = 0; i < N_ALIASES; i++) {
      if (strcmp (pair->key, logger_aliases[i].python) == 0) {
         return logger_aliases[i].name;
      }
      known[2 * i] = logger_aliases[i].python;
      known[2 * i + 1] = logger_aliases[i].name;
   }
   if (strncmp (pair->key, PYMONGOWATCH_PREFIX, strlen (PYMONGOWATCH_PREFIX)) != 0) {
      return pair->key;
   }
   char hint[96];
   _mwatch_cfg_did_you_mean (hint, sizeof hint, pair->key, known);
   _mwatch_cfg_fail (cfg,
                     pair->pos,
                     "no watcher logs on \"%s\"%s; pymongowatch's loggers are pymongo.watcher, "
                     "pymongo.watcher.cursor and pymongo.watcher.collection, which stand for "
                     "mongowatch, mongowatch.cursor and mongowatch.collection",
                     pair->key,
                     hint);
   return NULL;
}

/* "pymongo" is above pymongowatch's loggers in Python, above none of
 * mongowatch's here: check-config says so rather than let it log
 * nothing unnoticed. */
static void
warn_pymongo (mwatch_cfg_t *cfg, const mwatch_node_pair_t *pair)
{
   bson_error_t where;
   _mwatch_config_error (&where,
                         pair->pos.file ? pair->pos.file : cfg->file,
                         pair->pos,
                         cfg->path,
                         "no operation reaches logger \"pymongo\": pymongowatch's records "
                         "propagate to it, mongowatch's to \"mongowatch\" (which "
                         "\"pymongo.watcher\" stands for); configure that one");
   _mwatch_cfg_describe (cfg, "warning: %s\n", where.message);
}

/* The entry before `index` of the section that configures the same
 * logger (by its name or its pymongowatch name), or NULL. */
static const mwatch_node_pair_t *
configured_before (mwatch_cfg_t *cfg, const mwatch_node_t *map, size_t index, const char *name)
{
   for (size_t i = 0; i < index; i++) {
      const char *other = logger_name (cfg, &map->pairs[i]);
      if (other && strcmp (other, name) == 0) {
         return &map->pairs[i];
      }
   }
   return NULL;
}

static bool
logger (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *node, bool is_root, const char *written)
{
   const mwatch_node_t *map = NULL;
   const mwatch_node_t *handlers = NULL;
   const mwatch_node_t *filters = NULL;
   const char **handler_names = NULL;
   const char **filter_names = NULL;
   mwatch_staged_logger_t setup = {
      .name = name,
      .level = is_root ? MWATCH_LEVEL_WARNING : MWATCH_LEVEL_NOTSET,
      .propagate = true,
   };
   mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("level", MWATCH_CFG_LEVEL, &setup.level),
      MWATCH_CFG_FIELD ("handlers", MWATCH_CFG_NODE, &handlers),
      MWATCH_CFG_FIELD ("filters", MWATCH_CFG_NODE, &filters),
      MWATCH_CFG_FIELD ("propagate", MWATCH_CFG_BOOL, &setup.propagate),
      MWATCH_CFG_END,
   };
   if (is_root) {
      fields[3].key = NULL; /* the root has no parent to propagate to */
   }
   bool ok = _mwatch_cfg_map (cfg, node, true, &map) && (!map || _mwatch_cfg_read_fields (cfg, map, fields));
   if (ok && handlers && handlers->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "handlers");
      ok = logger_handlers (cfg, handlers, &setup, &handler_names);
      _mwatch_cfg_pop (cfg, saved);
   }
   void **filter_objects = NULL;
   if (ok && filters && filters->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "filters");
      ok = _mwatch_cfg_lookup_all (
         cfg, &cfg->st.filters, filters, &filter_objects, &filter_names, &setup.filter_count);
      _mwatch_cfg_pop (cfg, saved);
   }
   setup.filters = bson_malloc0 ((setup.filter_count + 1) * sizeof *setup.filters);
   for (size_t i = 0; i < setup.filter_count; i++) {
      setup.filters[i] = filter_objects[i];
   }
   bson_free (filter_objects);
   if (!ok) {
      bson_free (setup.handlers);
      bson_free (setup.filters);
      bson_free (handler_names);
      bson_free (filter_names);
      return false;
   }
   cfg->st.loggers =
      bson_realloc (cfg->st.loggers, (cfg->st.logger_count + 1) * sizeof *cfg->st.loggers);
   cfg->st.loggers[cfg->st.logger_count++] = setup;

   char level[24];
   bool alias = strcmp (written, name) != 0;
   _mwatch_cfg_describe (cfg,
                         "logger %s%s%s%s: level %s",
                         *name ? name : "(root)",
                         alias ? " (pymongowatch's " : "",
                         alias ? written : "",
                         alias ? ")" : "",
                         mwatch_level_name (setup.level, level, sizeof level));
   if (!is_root) {
      _mwatch_cfg_describe (cfg, " propagate %s", setup.propagate ? "true" : "false");
   }
   describe_names (cfg, "handlers", handler_names, setup.handler_count);
   describe_names (cfg, "filters", filter_names, setup.filter_count);
   _mwatch_cfg_describe (cfg, "\n");
   if (setup.filter_count > 0) {
      warn_filters_above_watchers (cfg, name, filters);
   }
   bson_free (handler_names);
   bson_free (filter_names);
   return true;
}

bool
_mwatch_cfg_loggers (mwatch_cfg_t *cfg, const mwatch_node_t *loggers, const mwatch_node_t *root)
{
   const mwatch_node_t *map = NULL;
   size_t top = _mwatch_cfg_push (cfg, "loggers");
   bool ok = !loggers || _mwatch_cfg_map (cfg, loggers, true, &map);
   for (size_t i = 0; ok && map && i < map->count; i++) {
      const mwatch_node_pair_t *pair = &map->pairs[i];
      size_t saved = _mwatch_cfg_push (cfg, pair->key);
      const char *name = logger_name (cfg, pair);
      const mwatch_node_pair_t *twice = name ? configured_before (cfg, map, i, name) : NULL;
      if (!name) {
         ok = false;
      } else if (twice) {
         /* Python would configure two loggers; here both are one. */
         ok = _mwatch_cfg_fail (cfg,
                                pair->pos,
                                "logger %s is configured twice, as \"%s\" here and as \"%s\" "
                                "at %s:%d (pymongowatch's name stands for mongowatch's); keep one",
                                name,
                                pair->key,
                                twice->key,
                                twice->pos.file ? twice->pos.file : cfg->file,
                                twice->pos.line);
      } else if (!*pair->key && root) {
         ok = _mwatch_cfg_fail (cfg,
                                pair->pos,
                                "the root logger is configured twice, here and in \"root\"; "
                                "keep one");
      } else {
         ok = logger (cfg, name, pair->value, !*pair->key, pair->key);
         if (ok && strcmp (name, "pymongo") == 0) {
            warn_pymongo (cfg, pair);
         }
      }
      _mwatch_cfg_pop (cfg, saved);
   }
   _mwatch_cfg_pop (cfg, top);
   if (ok && root) {
      top = _mwatch_cfg_push (cfg, "root");
      ok = logger (cfg, "", root, true, "");
      _mwatch_cfg_pop (cfg, top);
   }
   return ok;
}
