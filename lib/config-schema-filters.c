/* The "formatters" and "filters" sections. */
#include "config-schema-private.h"
#include "formatter-private.h"
#include "filter-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A constructor's own error, under the path of what it was built from. */
static bool
constructor_failed (mwatch_cfg_t *cfg, const mwatch_node_t *at, const char *key, const bson_error_t *err)
{
   size_t saved = key ? _mwatch_cfg_push (cfg, key) : cfg->path_len;
   _mwatch_cfg_fail (cfg, at->pos, "%s", err->message);
   _mwatch_config_error_cause (cfg->error, err);
   _mwatch_cfg_pop (cfg, saved);
   return false;
}

/* ---------------------------------------------------------------- formatters */

/* The formatter's keys, read. */
typedef struct {
   const mwatch_node_t *map;
   const mwatch_node_t *format;
   const mwatch_node_t *klass;
   const char *template;
   const char *datefmt;
   const char *style;
   const char **columns; /* owned */
   bool allow_unknown_fields; /* checked later: config-schema-fields.c */
   bool csv_escape_newlines;
} formatter_keys_t;

static bool
formatter_build (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *node, formatter_keys_t *k)
{
   const mwatch_node_t *map = k->map;
   if (k->klass) {
      return _mwatch_cfg_fail_key (cfg,
                                   map,
                                   "class",
                                   "formatter classes are not supported; a mongowatch formatter "
                                   "is a template: remove \"class\" and give \"format\"");
   }
   /* Python's three styles; without "style", inferred from the template
    * (mwatch_formatter_new_style), since mongowatch's own files write
    * {-style templates with no "style" while Python's default is "%". */
   if (k->style && (strlen (k->style) != 1 || !strchr ("{%$", k->style[0]))) {
      return _mwatch_cfg_fail_key (
         cfg, map, "style", "unknown style \"%s\"; use \"{\", \"%%\" or \"$\", as in Python", k->style);
   }
   if (k->format && k->format->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "format");
      bool ok = _mwatch_cfg_string (cfg, k->format, &k->template);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         return false;
      }
   }
   char style = k->style ? k->style[0] : '\0';
   bson_error_t err;
   mwatch_formatter_t *built = mwatch_formatter_new_style (k->template, k->datefmt, style, &err);
   if (!built) {
      return constructor_failed (cfg, k->format ? k->format : node, k->format ? "format" : NULL, &err);
   }
   _mwatch_staged_add (&cfg->st.formatters, name, built);
   if (k->columns && !mwatch_formatter_set_columns (built, k->columns, &err)) {
      return _mwatch_cfg_fail_key (cfg, map, "columns", "%s", err.message);
   }
   mwatch_formatter_set_csv_escape_newlines (built, k->csv_escape_newlines);
   style = k->template ? (style ? style : _mwatch_formatter_infer_style (k->template)) : '{';
   _mwatch_cfg_describe (cfg,
                         "formatter %s: format \"%s\"%s%s%s datefmt %s%s%s",
                         name,
                         k->template ? k->template : MWATCH_DEFAULT_FORMAT,
                         style != '{' ? " style \"" : "",
                         style != '{' ? (char[]) {style, '\0'} : "",
                         style != '{' ? "\"" : "",
                         k->datefmt ? "\"" : "",
                         k->datefmt ? k->datefmt : "default",
                         k->datefmt ? "\"" : "");
   for (size_t i = 0; k->columns && k->columns[i]; i++) {
      _mwatch_cfg_describe (cfg, "%s%s", i ? ", " : " columns [", k->columns[i]);
   }
   _mwatch_cfg_describe (cfg,
                         "%s%s%s\n",
                         k->columns && k->columns[0] ? "]" : "",
                         k->allow_unknown_fields ? " allow_unknown_fields true" : "",
                         k->csv_escape_newlines ? " csv_escape_newlines true" : "");
   return true;
}

static bool
formatter (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *node)
{
   formatter_keys_t k = {.style = NULL};
   const mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("format", MWATCH_CFG_NODE, &k.format),
      MWATCH_CFG_FIELD ("datefmt", MWATCH_CFG_STRING, &k.datefmt),
      MWATCH_CFG_FIELD ("style", MWATCH_CFG_STRING, &k.style),
      MWATCH_CFG_FIELD ("class", MWATCH_CFG_NODE, &k.klass),
      MWATCH_CFG_FIELD ("columns", MWATCH_CFG_NAMES, &k.columns),
      MWATCH_CFG_FIELD ("allow_unknown_fields", MWATCH_CFG_BOOL, &k.allow_unknown_fields),
      MWATCH_CFG_FIELD ("csv_escape_newlines", MWATCH_CFG_BOOL, &k.csv_escape_newlines),
      MWATCH_CFG_END,
   };
   bool ok = _mwatch_cfg_map (cfg, node, true, &k.map) &&
             (!k.map || _mwatch_cfg_read_fields (cfg, k.map, fields)) &&
             formatter_build (cfg, name, node, &k);
   bson_free (k.columns);
   return ok;
}

/* Runs `build` on each entry of a section, with the path set. */
static bool
each_entry (mwatch_cfg_t *cfg,
            const char *section_name,
            const mwatch_node_t *section,
            bool (*build) (mwatch_cfg_t *, const char *, const mwatch_node_t *))
{
   const mwatch_node_t *map = NULL;
   size_t top = _mwatch_cfg_push (cfg, section_name);
   bool ok = _mwatch_cfg_map (cfg, section, true, &map);
   for (size_t i = 0; ok && map && i < map->count; i++) {
      size_t saved = _mwatch_cfg_push (cfg, map->pairs[i].key);
      ok = build (cfg, map->pairs[i].key, map->pairs[i].value);
      _mwatch_cfg_pop (cfg, saved);
   }
   _mwatch_cfg_pop (cfg, top);
   return ok;
}

bool
_mwatch_cfg_formatters (mwatch_cfg_t *cfg, const mwatch_node_t *section)
{
   return !section || each_entry (cfg, "formatters", section, formatter);
}

/* ---------------------------------------------------------------- filters */

#define FACTORY_KEY "()"
/* The factory may be named by "class" too, as a handler's is. */
#define CLASS_KEY "class"
#define FACTORY_FIELDS(out_)                                  \
   MWATCH_CFG_FIELD (FACTORY_KEY, MWATCH_CFG_NODE, (out_)), \
      MWATCH_CFG_FIELD (CLASS_KEY, MWATCH_CFG_NODE, (out_))

/* Where a constructor's error belongs: the value it was built from, or
 * the filter as a whole. */
typedef struct {
   const mwatch_node_t *node;
   const char *key; /* NULL: the filter itself */
} place_t;

/* Python's logging.Filter(name): records of the logger `name` and of the
 * loggers below it. */
static bool
name_filter (mwatch_record_t *record, void *user_data)
{
   const char *name = user_data;
   size_t len = strlen (name);
   return len == 0 || (strncmp (record->name, name, len) == 0 &&
                       (record->name[len] == '\0' || record->name[len] == '.'));
}

static mwatch_filter_t *
build_name_filter (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   const char *name = NULL;
   const mwatch_node_t *factory = NULL;
   const mwatch_cfg_field_t fields[] = {
      FACTORY_FIELDS (&factory),
      {"name", MWATCH_CFG_STRING, &name, .required = true},
      MWATCH_CFG_END,
   };
   BSON_UNUSED (at);
   BSON_UNUSED (err);
   if (!_mwatch_cfg_read_fields (cfg, map, fields)) {
      return NULL;
   }
   return mwatch_filter_new_callback (name_filter, bson_strdup (name), bson_free);
}

/* `strict`: pymongowatch's ExpressionFilter, whose exception_result
 * defaults to false; mongowatch's own is strict only when exception_result
 * is given, so that its records stay as they were without it. */
static mwatch_filter_t *
expression_filter (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err, bool strict)
{
   const mwatch_node_t *factory = NULL;
   const char *expression = NULL;
   const mwatch_node_t *exception_node = NULL;
   bool exception_result = false;
   const mwatch_cfg_field_t fields[] = {
      FACTORY_FIELDS (&factory),
      {"expression", MWATCH_CFG_STRING, &expression, .required = true},
      MWATCH_CFG_FIELD ("exception_result", MWATCH_CFG_NODE, &exception_node),
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_fields (cfg, map, fields)) {
      return NULL;
   }
   if (exception_node && exception_node->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "exception_result");
      bool ok = _mwatch_cfg_bool (cfg, exception_node, &exception_result);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         return NULL;
      }
      strict = true;
   }
   at->node = _mwatch_node_map_find (map, "expression")->value;
   at->key = "expression";
   return strict ? mwatch_filter_new_expression_strict (expression, exception_result, err)
                 : mwatch_filter_new_expression (expression, err);
}

static mwatch_filter_t *
build_expression (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   return expression_filter (cfg, map, at, err, false);
}

static mwatch_filter_t *
build_py_expression (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   return expression_filter (cfg, map, at, err, true);
}

/* mongowatch.filters.modify, and pymongowatch's ExecuteFilter when its
 * Python is within the modify filter's statements. */
static mwatch_filter_t *
modify_filter (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err, bool python)
{
   const mwatch_node_t *factory = NULL;
   const char *execute = NULL;
   bool exception_result = true;
   const mwatch_cfg_field_t fields[] = {
      FACTORY_FIELDS (&factory),
      {"execute", MWATCH_CFG_STRING, &execute, .required = true},
      MWATCH_CFG_FIELD ("exception_result", MWATCH_CFG_BOOL, &exception_result),
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_fields (cfg, map, fields)) {
      return NULL;
   }
   at->node = _mwatch_node_map_find (map, "execute")->value;
   at->key = "execute";
   mwatch_filter_t *filter = python ? _mwatch_filter_new_modify_python (execute, exception_result, err)
                                    : mwatch_filter_new_modify (execute, exception_result, err);
   if (!filter && python) {
      char why[sizeof err->message];
      bson_strncpy (why, err->message, sizeof why);
      bson_set_error (err,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "ExecuteFilter runs Python, which mongowatch cannot; write this filter as "
                      "\"()\": mongowatch.filters.modify (doc/configuration.md, section 6, "
                      "mongowatch.filters.modify), whose statements this text is not within: %s",
                      why);
   }
   return filter;
}

static mwatch_filter_t *
build_modify (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   return modify_filter (cfg, map, at, err, false);
}

static mwatch_filter_t *
build_py_execute (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   return modify_filter (cfg, map, at, err, true);
}

static bool
redact_mode (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *mode, mwatch_redact_mode_t *out)
{
   static const char *const names[] = {"placeholder", "token", "null", "hmac", NULL};
   for (int i = 0; names[i]; i++) {
      if (strcmp (mode, names[i]) == 0) {
         *out = (mwatch_redact_mode_t) i;
         return true;
      }
   }
   return _mwatch_cfg_fail_key (
      cfg, map, "mode", "unknown mode \"%s\"; use placeholder, token, null or hmac", mode);
}

/* Options that mean something in one mode only are errors in the others,
 * so that a file does not look safer than it is (and the rate filter's
 * options that mongowatch cannot honour: `wanted` false). */
static bool
redact_check (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *key, bool wanted, const char *why)
{
   const mwatch_node_pair_t *pair = _mwatch_node_map_find (map, key);
   if (!pair || wanted) {
      return true;
   }
   size_t saved = _mwatch_cfg_push (cfg, key);
   _mwatch_cfg_fail (cfg, pair->pos, "%s", why);
   _mwatch_cfg_pop (cfg, saved);
   return false;
}

static mwatch_filter_t *
build_redact (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   const mwatch_node_t *factory = NULL;
   const char *mode = "placeholder";
   const char *secret_env = NULL;
   const char **names = NULL;
   mwatch_redact_opts_t opts;
   mwatch_redact_opts_init (&opts);
   const mwatch_cfg_field_t fields[] = {
      FACTORY_FIELDS (&factory),
      MWATCH_CFG_FIELD ("mode", MWATCH_CFG_STRING, &mode),
      MWATCH_CFG_FIELD ("token", MWATCH_CFG_STRING, &opts.token),
      MWATCH_CFG_FIELD ("secret", MWATCH_CFG_STRING, &opts.secret),
      MWATCH_CFG_FIELD ("secret_env", MWATCH_CFG_STRING, &secret_env),
      MWATCH_CFG_FIELD ("fields", MWATCH_CFG_NAMES, &names),
      MWATCH_CFG_END,
   };
   mwatch_filter_t *filter = NULL;
   BSON_UNUSED (at);
   if (!_mwatch_cfg_read_fields (cfg, map, fields) || !redact_mode (cfg, map, mode, &opts.mode) ||
       !redact_check (cfg, map, "token", opts.mode == MWATCH_REDACT_TOKEN, "\"token\" applies to mode: token only") ||
       !redact_check (cfg, map, "secret", opts.mode == MWATCH_REDACT_HMAC, "\"secret\" applies to mode: hmac only") ||
       !redact_check (cfg, map, "secret_env", opts.mode == MWATCH_REDACT_HMAC, "\"secret_env\" applies to mode: hmac only") ||
       !redact_check (cfg, map, "secret", !secret_env, "give \"secret\" or \"secret_env\", not both")) {
      goto done;
   }
   if (secret_env) {
      const mwatch_node_t *env = _mwatch_node_map_find (map, "secret_env")->value;
      opts.secret = getenv (secret_env);
      if (!opts.secret || !*opts.secret) {
         size_t saved = _mwatch_cfg_push (cfg, "secret_env");
         _mwatch_cfg_fail (cfg,
                           env->pos,
                           "the environment variable %s is not set (or empty); set it to the "
                           "HMAC key before the program starts",
                           secret_env);
         _mwatch_cfg_pop (cfg, saved);
         goto done;
      }
   }
   opts.fields = names;
   filter = mwatch_filter_new_redact (&opts, err);
done:
   bson_free (names);
   return filter;
}

/* mongowatch.filters.rate, and (`python`) pymongowatch's RateFilter:
 * `attributes` for fields, output_rate_sec 60 by default, the rate into
 * the field itself with suffix "/s", records without the fields passed. */
static mwatch_filter_t *
rate_filter (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err, bool python)
{
   const mwatch_node_t *factory = NULL;
   const mwatch_node_t *suffix = NULL;
   const mwatch_node_t *extra_timeout = NULL;
   const char **names = NULL;
   bool multiprocessing = false;
   bool clone_watch = true;
   mwatch_rate_opts_t opts;
   mwatch_rate_opts_init (&opts);
   opts.output_rate_sec = python ? 60 : 0;
   const mwatch_cfg_field_t fields[] = {
      FACTORY_FIELDS (&factory),
      {"output_rate_sec", MWATCH_CFG_DOUBLE, &opts.output_rate_sec, .required = !python, .min = 0, .max = 1e9},
      MWATCH_CFG_FIELD (python ? "attributes" : "fields", MWATCH_CFG_NAMES, &names),
      MWATCH_CFG_FIELD ("ignore_intermediates", MWATCH_CFG_BOOL, &opts.ignore_intermediates),
      MWATCH_CFG_FIELD ("suffix", MWATCH_CFG_NODE, &suffix),
      MWATCH_CFG_FIELD ("ignore_nones", MWATCH_CFG_BOOL, &opts.ignore_nones),
      MWATCH_CFG_FIELD ("enable_multiprocessing", MWATCH_CFG_BOOL, &multiprocessing),
      MWATCH_CFG_FIELD ("clone_watch", MWATCH_CFG_BOOL, &clone_watch),
      MWATCH_CFG_FIELD ("extra_timeout_sec", MWATCH_CFG_NODE, &extra_timeout),
      MWATCH_CFG_END,
   };
   mwatch_filter_t *filter = NULL;
   if (!_mwatch_cfg_read_fields (cfg, map, fields) ||
       (!python && !redact_check (cfg,
                                  map,
                                  "ignore_nones",
                                  false,
                                 "ignore_nones belongs to pymongowatch's RateFilter, which passes "
                                 "records without the fields; mongowatch.filters.rate counts "
                                 "every record"))) {
      goto done;
   }
   if (python && !names) {
      _mwatch_cfg_fail (cfg, map->pos, "the key \"attributes\" is required: the fields to rate");
      goto done;
   }
   opts.fields = names;
   opts.pass_unrelated = python;
   if (python || suffix) {
      opts.rate_in_field = true;
      opts.suffix = python && !suffix ? "/s" : NULL;
      if (suffix && suffix->type != MWATCH_NODE_NULL) {
         size_t saved = _mwatch_cfg_push (cfg, "suffix");
         bool ok = _mwatch_cfg_string (cfg, suffix, &opts.suffix);
         _mwatch_cfg_pop (cfg, saved);
         if (!ok) {
            goto done;
         }
      }
   }
   /* A timed report of the last window: pymongowatch's RateFilter has one
    * by default (half of output_rate_sec, truncated as Python's int());
    * mongowatch's only when asked. */
   if (extra_timeout && extra_timeout->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "extra_timeout_sec");
      bool ok = _mwatch_cfg_double (cfg, extra_timeout, 0, 1e9, &opts.extra_timeout_sec);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         goto done;
      }
   } else if (python) {
      opts.extra_timeout_sec = trunc (opts.output_rate_sec / 2);
   }
   const mwatch_node_pair_t *rate = _mwatch_node_map_find (map, "output_rate_sec");
   at->node = rate ? rate->value : map;
   at->key = rate ? "output_rate_sec" : NULL;
   filter = mwatch_filter_new_rate_opts (&opts, err);
done:
   bson_free (names);
   return filter;
}

static mwatch_filter_t *
build_rate (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   return rate_filter (cfg, map, at, err, false);
}

static mwatch_filter_t *
build_py_rate (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   return rate_filter (cfg, map, at, err, true);
}

static mwatch_filter_t *
build_fields (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   const mwatch_node_t *factory = NULL;
   const mwatch_node_t *rename_node = NULL;
   const char **keep = NULL;
   const char **drop = NULL;
   const char **rename = NULL;
   const mwatch_cfg_field_t fields[] = {
      FACTORY_FIELDS (&factory),
      MWATCH_CFG_FIELD ("keep", MWATCH_CFG_NAMES, &keep),
      MWATCH_CFG_FIELD ("drop", MWATCH_CFG_NAMES, &drop),
      MWATCH_CFG_FIELD ("rename", MWATCH_CFG_NODE, &rename_node),
      MWATCH_CFG_END,
   };
   mwatch_filter_t *filter = NULL;
   BSON_UNUSED (at);
   bool ok = _mwatch_cfg_read_fields (cfg, map, fields);
   if (ok && rename_node && rename_node->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "rename");
      ok = _mwatch_cfg_name_pairs (cfg, rename_node, &rename);
      _mwatch_cfg_pop (cfg, saved);
   }
   if (ok) {
         filter = mwatch_filter_new_fields (keep, drop, rename, err);
   }
   bson_free (keep);
   bson_free (drop);
   bson_free (rename);
   return filter;
}

static mwatch_filter_t *
build_plugin (mwatch_cfg_t *cfg, const mwatch_node_t *map, place_t *at, bson_error_t *err)
{
   static const char *const skip[] = {FACTORY_KEY, CLASS_KEY, NULL};
   const mwatch_node_pair_t *factory = _mwatch_node_map_find (map, FACTORY_KEY);
   bson_t params;
   if (!factory) {
      factory = _mwatch_node_map_find (map, CLASS_KEY);
   }
   BSON_UNUSED (at);
   BSON_UNUSED (err);
   if (!_mwatch_cfg_to_bson (cfg, map, skip, &params)) {
      return NULL;
   }
   size_t saved = _mwatch_cfg_push (cfg, factory->key);
   mwatch_filter_t *filter = _mwatch_cfg_plugin (cfg, factory->value, &params, false);
   _mwatch_cfg_pop (cfg, saved);
   bson_destroy (&params);
   return filter;
}

typedef mwatch_filter_t *(*filter_builder_t) (mwatch_cfg_t *cfg,
                                              const mwatch_node_t *map,
                                              place_t *at,
                                              bson_error_t *err);

static const struct {
   const char *factory;
   filter_builder_t build;
} factories[] = {
   {"mongowatch.filters.expression", build_expression},
   {"mongowatch.filters.redact", build_redact},
   {"mongowatch.filters.rate", build_rate},
   {"mongowatch.filters.fields", build_fields},
   {"mongowatch.filters.modify", build_modify},
   {"logging.Filter", build_name_filter},
   /* pymongowatch's classes, with or without ext:// */
   {"pymongo.watcher.filters.ExpressionFilter", build_py_expression},
   {"pymongo.watcher.filters.RateFilter", build_py_rate},
   {"pymongo.watcher.filters.ExecuteFilter", build_py_execute},
};

#define PYMONGOWATCH_FILTERS "pymongo.watcher.filters."

static filter_builder_t
find_factory (mwatch_cfg_t *cfg, const mwatch_node_t *written, const char **name)
{
   if (!_mwatch_cfg_string (cfg, written, name)) {
      return NULL;
   }
   const char *bare = _mwatch_cfg_python_path (*name);
   for (size_t i = 0; i < sizeof factories / sizeof *factories; i++) {
      if (strcmp (bare, factories[i].factory) == 0 &&
          (bare == *name || strncmp (bare, PYMONGOWATCH_FILTERS, strlen (PYMONGOWATCH_FILTERS)) == 0)) {
         return factories[i].build;
      }
   }
   if (strncmp (bare, PYMONGOWATCH_FILTERS, strlen (PYMONGOWATCH_FILTERS)) == 0) {
      _mwatch_cfg_fail (cfg,
                        written->pos,
                        "pymongowatch's filter \"%s\" has no mongowatch counterpart: "
                        "ExpressionFilter, RateFilter and ExecuteFilter map to mongowatch's "
                        "expression, rate and modify filters; RestoreOriginalWatcher is not needed "
                        "(a filter changes only its own handler's records), nor AddPymongoResults "
                        "(the watchers set the counts)",
                        bare);
      return NULL;
   }
   if (bare != *name) {
      return build_plugin;
   }
   const char *known[sizeof factories / sizeof *factories + 1] = {NULL};
   for (size_t i = 0; i < sizeof factories / sizeof *factories; i++) {
      known[i] = factories[i].factory;
   }
   char hint[96];
   _mwatch_cfg_did_you_mean (hint, sizeof hint, *name, known);
   _mwatch_cfg_fail (cfg,
                     written->pos,
                     "unknown filter factory \"%s\"%s; use mongowatch.filters.expression, "
                     "mongowatch.filters.redact, mongowatch.filters.rate, "
                     "mongowatch.filters.fields, mongowatch.filters.modify, logging.Filter "
                     "or ext:///path/to/lib.so:symbol",
                     *name,
                     hint);
   return NULL;
}

static bool
filter (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *node)
{
   const mwatch_node_t *map = NULL;
   if (!_mwatch_cfg_map (cfg, node, false, &map)) {
      return false;
   }
   const mwatch_node_pair_t *factory = _mwatch_node_map_find (map, FACTORY_KEY);
   const mwatch_node_pair_t *klass = _mwatch_node_map_find (map, CLASS_KEY);
   const char *factory_name = "logging.Filter";
   filter_builder_t build = build_name_filter;
   if (factory && klass) {
      size_t saved = _mwatch_cfg_push (cfg, CLASS_KEY);
      _mwatch_cfg_fail (cfg, klass->pos, "give \"()\" or \"class\", not both");
      _mwatch_cfg_pop (cfg, saved);
      return false;
   }
   factory = factory ? factory : klass;
   if (factory) {
      size_t saved = _mwatch_cfg_push (cfg, factory->key);
      build = find_factory (cfg, factory->value, &factory_name);
      _mwatch_cfg_pop (cfg, saved);
      if (!build) {
         return false;
      }
   } else if (!_mwatch_node_map_find (map, "name")) {
      return _mwatch_cfg_fail (cfg,
                               map->pos,
                               "a filter needs \"()\" naming its factory (e.g. "
                               "mongowatch.filters.expression) or, as Python's "
                               "logging.Filter, just \"name\"");
   }
   place_t at = {map, NULL};
   bson_error_t err = {0};
   mwatch_filter_t *built = build (cfg, map, &at, &err);
   if (!built) {
      /* The builders report their own reading errors; what is left is the
       * constructor's. */
      return err.domain ? constructor_failed (cfg, at.node, at.key, &err) : false;
   }
   _mwatch_staged_add (&cfg->st.filters, name, built);
   static const char *const skip[] = {FACTORY_KEY, CLASS_KEY, NULL};
   _mwatch_cfg_describe (cfg, "filter %s: %s", name, factory_name);
   _mwatch_cfg_describe_params (cfg, map, skip);
   _mwatch_cfg_describe (cfg, "\n");
   return true;
}

bool
_mwatch_cfg_filters (mwatch_cfg_t *cfg, const mwatch_node_t *section)
{
   return !section || each_entry (cfg, "filters", section, filter);
}
