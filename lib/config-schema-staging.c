/* The staging area: every object a configuration builds, held here until
 * the whole file has been read, then installed or destroyed together.
 * And the description check_file gives of it. */
#include "config-schema-private.h"
#include "suggest-private.h"

#include <stdarg.h>
#include <string.h>

static void
destroy_formatter (void *object)
{
   mwatch_formatter_destroy (object);
}

static void
destroy_filter (void *object)
{
   mwatch_filter_destroy (object);
}

static void
destroy_handler (void *object)
{
   mwatch_handler_destroy (object);
}

void
_mwatch_staging_init (mwatch_staging_t *st)
{
   memset (st, 0, sizeof *st);
   st->disable_existing = true;
   st->formatters.what = "formatter";
   st->formatters.destroy = destroy_formatter;
   st->filters.what = "filter";
   st->filters.destroy = destroy_filter;
   st->handlers.what = "handler";
   st->handlers.destroy = destroy_handler;
   for (int kind = 0; kind < 2; kind++) {
      mwatch_watcher_opts_init (&st->watchers[kind].opts);
   }
   mwatch_buf_init (&st->description);
}

static void
list_destroy (mwatch_staged_list_t *list)
{
   /* In reverse order of building, users before what they use; the
    * references make any order safe (a queue keeps its backend alive until
    * it has drained into it). */
   for (size_t i = list->count; i > 0; i--) {
      list->destroy (list->items[i - 1].object);
   }
   bson_free (list->items);
   list->items = NULL;
   list->count = 0;
}

void
_mwatch_staging_destroy (mwatch_staging_t *st)
{
   list_destroy (&st->handlers);
   list_destroy (&st->filters);
   list_destroy (&st->formatters);
   for (size_t i = 0; i < st->logger_count; i++) {
      bson_free (st->loggers[i].handlers);
      bson_free (st->loggers[i].filters);
   }
   bson_free (st->loggers);
   for (int kind = 0; kind < 2; kind++) {
      mwatch_staged_watcher_t *w = &st->watchers[kind];
      bson_free (w->fields);
      for (size_t i = 0; i < w->op_count; i++) {
         bson_free (w->ops[i].rename);
         bson_free (w->ops[i].drop);
         bson_free (w->ops[i].cast);
         bson_destroy (w->ops[i].add);
      }
      bson_free (w->ops);
   }
   mwatch_buf_destroy (&st->description);
   memset (st, 0, sizeof *st);
}

void
_mwatch_staged_add (mwatch_staged_list_t *list, const char *name, void *object)
{
   list->items = bson_realloc (list->items, (list->count + 1) * sizeof *list->items);
   memset (&list->items[list->count], 0, sizeof *list->items);
   list->items[list->count].name = name;
   list->items[list->count].object = object;
   list->count++;
}

mwatch_staged_t *
_mwatch_staged_find (const mwatch_staged_list_t *list, const char *name)
{
   for (size_t i = 0; i < list->count; i++) {
      if (strcmp (list->items[i].name, name) == 0) {
         return &list->items[i];
      }
   }
   return NULL;
}

mwatch_staged_t *
_mwatch_cfg_lookup (mwatch_cfg_t *cfg, const mwatch_staged_list_t *list, const mwatch_node_t *node)
{
   const char *name;
   if (!_mwatch_cfg_string (cfg, node, &name)) {
      return NULL;
   }
   mwatch_staged_t *found = _mwatch_staged_find (list, name);
   if (found) {
      return found;
   }
   char names[300] = "";
   size_t len = 0;
   mwatch_suggest_t suggest;
   _mwatch_suggest_init (&suggest, name, strlen (name));
   for (size_t i = 0; i < list->count && len + 1 < sizeof names; i++) {
      int n = bson_snprintf (
         names + len, sizeof names - len, "%s\"%s\"", i ? ", " : "", list->items[i].name);
      len += (size_t) BSON_MAX (n, 0);
   }
   for (size_t i = 0; i < list->count; i++) {
      _mwatch_suggest_consider (&suggest, list->items[i].name);
   }
   char hint[96] = "";
   if (_mwatch_suggest_best (&suggest)) {
      bson_snprintf (hint, sizeof hint, " (did you mean \"%s\"?)", _mwatch_suggest_best (&suggest));
   }
   if (list->count == 0) {
      _mwatch_cfg_fail (cfg,
                        node->pos,
                        "no %s named \"%s\": no %ss are defined; define it under \"%ss\"",
                        list->what,
                        name,
                        list->what,
                        list->what);
   } else {
      _mwatch_cfg_fail (cfg,
                        node->pos,
                        "no %s named \"%s\"%s; the %ss defined are %s",
                        list->what,
                        name,
                        hint,
                        list->what,
                        names);
   }
   return NULL;
}

bool
_mwatch_cfg_lookup_all (mwatch_cfg_t *cfg,
                        const mwatch_staged_list_t *list,
                        const mwatch_node_t *node,
                        void ***objects,
                        const char ***names,
                        size_t *count)
{
   const mwatch_node_t *seq = NULL;
   *objects = NULL;
   *count = 0;
   if (!_mwatch_cfg_seq (cfg, node, &seq)) {
      return false;
   }
   void **found_objects = bson_malloc0 ((seq->count + 1) * sizeof *found_objects);
   const char **found_names = bson_malloc0 ((seq->count + 1) * sizeof *found_names);
   for (size_t i = 0; i < seq->count; i++) {
      size_t saved = _mwatch_cfg_push_index (cfg, i);
      mwatch_staged_t *found = _mwatch_cfg_lookup (cfg, list, seq->items[i]);
      _mwatch_cfg_pop (cfg, saved);
      if (!found) {
         bson_free (found_objects);
         bson_free (found_names);
         return false;
      }
      found_objects[i] = found->object;
      found_names[i] = found->name;
   }
   *objects = found_objects;
   *count = seq->count;
   if (names) {
      *names = found_names;
   } else {
      bson_free (found_names);
   }
   return true;
}

/* ---------------------------------------------------------------- description */

void
_mwatch_cfg_describe (mwatch_cfg_t *cfg, const char *format, ...)
{
   va_list args;
   va_start (args, format);
   char *text = bson_strdupv_printf (format, args);
   va_end (args);
   mwatch_buf_append_str (&cfg->st.description, text);
   bson_free (text);
}

void
_mwatch_cfg_describe_params (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *const *skip)
{
   const char *keys[16];
   size_t n = 0;
   for (; skip && skip[n] && n < 14; n++) {
      keys[n] = skip[n];
   }
   keys[n++] = "secret"; /* a description may end up in a ticket */
   keys[n] = NULL;
   bson_t params;
   if (!_mwatch_cfg_to_bson (cfg, map, keys, &params) || bson_empty (&params)) {
      bson_destroy (&params);
      return;
   }
   char *json = bson_as_relaxed_extended_json (&params, NULL);
   _mwatch_cfg_describe (cfg, " %s", json);
   bson_free (json);
   bson_destroy (&params);
}
