/* Loading a configuration: read the file, parse it into the tree, build
 * every object into the staging area, and only when all of it was built
 * install it in one step.  Anything less leaves the previous configuration
 * in force. */
#include "config-schema-private.h"
#include "config-trust-private.h"
#include "fork-private.h"
#include "message-render-private.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STRING_FILE "<string>"

/* One load at a time, so that two threads loading at once install one
 * configuration after the other, never a mix. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* fork() does not wait for a load: a load may dlopen a plugin and run its
 * factory, either of which may register fork handlers or fork, and would
 * then wait for the fork that waits for it.  A child forked during a load
 * has the configuration as the load left it at that moment (each part
 * installs under its own locks, taken by fork) and a fresh load_lock, so
 * that a load of its own works. */
static void
load_fork_child (void)
{
   pthread_mutex_init (&load_lock, NULL);
}

MWATCH_FORK_INIT (load_fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_CONFIG_LOAD, NULL, NULL, load_fork_child);
}

static bool
format_of (const char *path, mwatch_config_format_t *format, bson_error_t *error)
{
   const char *slash = strrchr (path, '/');
   const char *dot = strrchr (slash ? slash : path, '.');
   mwatch_pos_t nowhere = {0, 0, NULL};
   if (dot && (strcasecmp (dot, ".yaml") == 0 || strcasecmp (dot, ".yml") == 0)) {
      *format = MWATCH_CONFIG_YAML;
      return true;
   }
   if (dot && strcasecmp (dot, ".json") == 0) {
      *format = MWATCH_CONFIG_JSON;
      return true;
   }
   _mwatch_config_error (error,
                         path,
                         nowhere,
                         NULL,
                         "cannot tell the format from the file name; name the file .yaml, "
                         ".yml or .json");
   return false;
}

static char *
read_file (const char *path, size_t *len, bson_error_t *error)
{
   mwatch_pos_t nowhere = {0, 0, NULL};
   FILE *fp = fopen (path, "rb");
   mwatch_buf_t text = MWATCH_BUF_INITIALIZER;
   char chunk[8192];
   size_t n;
   if (!fp) {
      _mwatch_config_error (
         error, path, nowhere, NULL, "cannot open the configuration: %s", strerror (errno));
      _mwatch_config_error_code (error, MWATCH_ERROR_IO);
      return NULL;
   }
   char why[512];
   if (!_mwatch_fd_is_trusted (fileno (fp), path, "the configuration", why, sizeof why)) {
      fclose (fp);
      _mwatch_config_error (error, path, nowhere, NULL, "%s", why);
      return NULL;
   }
   mwatch_buf_append_str (&text, "");
   while ((n = fread (chunk, 1, sizeof chunk, fp)) > 0) {
      mwatch_buf_append (&text, chunk, n);
   }
   int failed = ferror (fp) ? errno : 0;
   fclose (fp);
   if (failed) {
      mwatch_buf_destroy (&text);
      _mwatch_config_error (
         error, path, nowhere, NULL, "cannot read the configuration: %s", strerror (failed));
      _mwatch_config_error_code (error, MWATCH_ERROR_IO);
      return NULL;
   }
   *len = text.len;
   return text.data;
}

/* ---------------------------------------------------------------- top level */

static bool
check_version (mwatch_cfg_t *cfg, const mwatch_node_t *map, const mwatch_node_t *version)
{
   int64_t number = 0;
   if (!version || version->type == MWATCH_NODE_NULL) {
      return _mwatch_cfg_fail (cfg,
                               map->pos,
                               "the key \"version\" is required; add \"version: 1\" at the top, "
                               "as dictConfig wants");
   }
   size_t saved = _mwatch_cfg_push (cfg, "version");
   bool ok = _mwatch_cfg_int (cfg, version, INT64_MIN, INT64_MAX, &number);
   if (ok && number != 1) {
      ok = _mwatch_cfg_fail (cfg,
                             version->pos,
                             "version %" PRId64 " is not supported; the only version is 1",
                             number);
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

static bool
top_level (mwatch_cfg_t *cfg)
{
   const mwatch_node_t *map = NULL;
   const mwatch_node_t *version = NULL;
   const mwatch_node_t *formatters = NULL;
   const mwatch_node_t *filters = NULL;
   const mwatch_node_t *handlers = NULL;
   const mwatch_node_t *loggers = NULL;
   const mwatch_node_t *root = NULL;
   const mwatch_node_t *watchers = NULL;
   bool incremental = false;
   const mwatch_cfg_field_t fields[] = {
      MWATCH_CFG_FIELD ("version", MWATCH_CFG_NODE, &version),
      MWATCH_CFG_FIELD ("incremental", MWATCH_CFG_BOOL, &incremental),
      MWATCH_CFG_FIELD ("disable_existing_loggers", MWATCH_CFG_BOOL, &cfg->st.disable_existing),
      MWATCH_CFG_FIELD ("formatters", MWATCH_CFG_NODE, &formatters),
      MWATCH_CFG_FIELD ("filters", MWATCH_CFG_NODE, &filters),
      MWATCH_CFG_FIELD ("handlers", MWATCH_CFG_NODE, &handlers),
      MWATCH_CFG_FIELD ("loggers", MWATCH_CFG_NODE, &loggers),
      MWATCH_CFG_FIELD ("root", MWATCH_CFG_NODE, &root),
      MWATCH_CFG_FIELD ("watchers", MWATCH_CFG_NODE, &watchers),
      MWATCH_CFG_END,
   };
   if (cfg->root->type == MWATCH_NODE_NULL) {
      return _mwatch_cfg_fail (
         cfg, cfg->root->pos, "the configuration is empty; it needs at least \"version: 1\"");
   }
   if (!_mwatch_cfg_map (cfg, cfg->root, false, &map) || !_mwatch_cfg_read_fields (cfg, map, fields) ||
       !check_version (cfg, map, version)) {
      return false;
   }
   if (incremental) {
      return _mwatch_cfg_fail_key (cfg,
                                   map,
                                   "incremental",
                                   "incremental configuration is not supported; give the whole "
                                   "configuration and remove \"incremental\"");
   }
   if (!_mwatch_cfg_formatters (cfg, formatters) || !_mwatch_cfg_filters (cfg, filters) ||
       !_mwatch_cfg_handlers (cfg, handlers) || !_mwatch_cfg_loggers (cfg, loggers, root)) {
      return false;
   }
   _mwatch_cfg_describe (
      cfg, "disable_existing_loggers %s\n", cfg->st.disable_existing ? "true" : "false");
   return _mwatch_cfg_watchers (cfg, watchers) && _mwatch_cfg_template_fields (cfg);
}

/* ---------------------------------------------------------------- install */

static void
install (const mwatch_staging_t *st)
{
   mwatch_logger_setup_t *setups = bson_malloc0 ((st->logger_count + 1) * sizeof *setups);
   for (size_t i = 0; i < st->logger_count; i++) {
      const mwatch_staged_logger_t *l = &st->loggers[i];
      setups[i].name = l->name;
      setups[i].level = l->level;
      setups[i].propagate = l->propagate;
      setups[i].handlers = l->handlers;
      setups[i].handler_count = l->handler_count;
      setups[i].filters = l->filters;
      setups[i].filter_count = l->filter_count;
   }
   _mwatch_loggers_install (setups, st->logger_count, st->disable_existing, true);
   bson_free (setups);

   /* Absent from the file, they go back to the defaults. */
   _mwatch_render_set_separators (st->delimiter, st->key_value_separator);
   for (int kind = 0; kind < 2; kind++) {
      const mwatch_staged_watcher_t *w = &st->watchers[kind];
      mwatch_watcher_opts_t opts = w->opts;
      opts.default_fields = w->fields ? _mwatch_fields_intern (w->fields) : NULL;
      mwatch_watcher_set_opts ((mwatch_watcher_kind_t) kind, &opts);
      mwatch_operation_map_t *maps = bson_malloc0 ((w->op_count + 1) * sizeof *maps);
      for (size_t i = 0; i < w->op_count; i++) {
         maps[i].operation = w->ops[i].operation;
         maps[i].rename = w->ops[i].rename;
         maps[i].drop = w->ops[i].drop;
         maps[i].add = w->ops[i].add;
         maps[i].cast = w->ops[i].cast;
      }
      mwatch_watcher_set_operation_maps ((mwatch_watcher_kind_t) kind, maps, w->op_count);
      bson_free (maps);
   }
}

/* ---------------------------------------------------------------- loading */

/* Builds the configuration `tree` (taken) and, unless `description` asks
 * for a check only, installs it.  `check_files`: a check's log files, as
 * mwatch_staging_t says. */
static bool
load_tree (mwatch_node_t *tree, const char *file, mwatch_buf_t *description, int check_files, bson_error_t *error)
{
   mwatch_cfg_t *cfg = bson_malloc0 (sizeof *cfg);
   cfg->file = file;
   cfg->root = tree;
   cfg->error = error;
   _mwatch_staging_init (&cfg->st);
   cfg->st.check_only = description != NULL;
   cfg->st.check_files = check_files;

   if (!cfg->st.check_only) {
      pthread_mutex_lock (&load_lock);
   }
   bool ok = top_level (cfg);
   if (ok && !cfg->st.check_only) {
      install (&cfg->st);
   }
   if (!cfg->st.check_only) {
      pthread_mutex_unlock (&load_lock);
   }
   if (ok && description) {
      mwatch_buf_append (description, cfg->st.description.data ? cfg->st.description.data : "", cfg->st.description.len);
   }
   /* Installed or not, the staging area drops its references: the loggers
    * hold their own. */
   _mwatch_staging_destroy (&cfg->st);
   bson_free (cfg);
   _mwatch_node_destroy (tree);
   return ok;
}

static mwatch_node_t *
parse (const char *text, size_t len, mwatch_config_format_t format, const char *file, bson_error_t *error)
{
   return format == MWATCH_CONFIG_JSON ? _mwatch_json_parse (text, len, file, error)
                                       : _mwatch_yaml_parse (text, len, file, error);
}

bool
mwatch_config_load_string (const char *text, mwatch_config_format_t format, bson_error_t *error)
{
   mwatch_pos_t nowhere = {0, 0, NULL};
   if (!text) {
      _mwatch_config_error (error, STRING_FILE, nowhere, NULL, "no text given (NULL)");
      return false;
   }
   if (format != MWATCH_CONFIG_YAML && format != MWATCH_CONFIG_JSON) {
      _mwatch_config_error (error,
                            STRING_FILE,
                            nowhere,
                            NULL,
                            "unknown format %d; use MWATCH_CONFIG_YAML or MWATCH_CONFIG_JSON",
                            (int) format);
      return false;
   }
   mwatch_node_t *tree = parse (text, strlen (text), format, STRING_FILE, error);
   return tree && load_tree (tree, STRING_FILE, NULL, -1, error);
}

/* The tree of the file at `path`, or NULL with `error` set. */
static mwatch_node_t *
parse_file (const char *path, bson_error_t *error)
{
   mwatch_config_format_t format;
   size_t len;
   if (!path) {
      mwatch_pos_t nowhere = {0, 0, NULL};
      _mwatch_config_error (error, "(null)", nowhere, NULL, "no configuration file given");
      return NULL;
   }
   if (!format_of (path, &format, error)) {
      return NULL;
   }
   char *text = read_file (path, &len, error);
   if (!text) {
      return NULL;
   }
   mwatch_node_t *tree = parse (text, len, format, path, error);
   bson_free (text);
   return tree;
}

/* Parses the files in order and merges each into the ones before it. */
static mwatch_node_t *
parse_files (const char *const *paths, size_t count, bson_error_t *error)
{
   mwatch_node_t *merged = NULL;
   if (count == 0) {
      mwatch_pos_t nowhere = {0, 0, NULL};
      _mwatch_config_error (error, "(none)", nowhere, NULL, "no configuration file given");
      return NULL;
   }
   for (size_t i = 0; i < count; i++) {
      mwatch_node_t *tree = parse_file (paths[i], error);
      if (!tree) {
         _mwatch_node_destroy (merged);
         return NULL;
      }
      _mwatch_node_set_file (tree, paths[i]);
      if (merged && tree->type != MWATCH_NODE_MAP && tree->type != MWATCH_NODE_NULL) {
         _mwatch_config_error (error,
                               paths[i],
                               tree->pos,
                               NULL,
                               "expected a mapping (key: value lines) to merge into %s",
                               paths[i - 1]);
         _mwatch_node_destroy (tree);
         _mwatch_node_destroy (merged);
         return NULL;
      }
      if (tree->type == MWATCH_NODE_NULL && merged) {
         _mwatch_node_destroy (tree); /* an empty file changes nothing */
         continue;
      }
      merged = _mwatch_node_merge (merged, tree);
   }
   return merged;
}

bool
mwatch_config_load_files (const char *const *paths, size_t count, bson_error_t *error)
{
   mwatch_node_t *tree = parse_files (paths, count, error);
   return tree && load_tree (tree, paths[count - 1], NULL, -1, error);
}

bool
mwatch_config_load_file (const char *path, bson_error_t *error)
{
   return mwatch_config_load_files (&path, 1, error);
}

/* A check of the merged files; `check_files` as load_tree's. */
static bool
check_files (const char *const *paths, size_t count, int files, mwatch_buf_t *description, bson_error_t *error)
{
   mwatch_buf_t ignored = MWATCH_BUF_INITIALIZER;
   mwatch_node_t *tree = parse_files (paths, count, error);
   bool ok = tree && load_tree (tree, paths[count - 1], description ? description : &ignored, files, error);
   mwatch_buf_destroy (&ignored);
   return ok;
}

bool
mwatch_config_check_files (const char *const *paths,
                           size_t count,
                           mwatch_buf_t *description,
                           bson_error_t *error)
{
   return check_files (paths, count, -1, description, error);
}

bool
mwatch_config_check_files_mode (const char *const *paths,
                                size_t count,
                                mwatch_config_check_mode_t mode,
                                mwatch_buf_t *description,
                                bson_error_t *error)
{
   if (mode != MWATCH_CONFIG_CHECK_DRY_RUN && mode != MWATCH_CONFIG_CHECK_OPEN) {
      mwatch_pos_t nowhere = {0, 0, NULL};
      _mwatch_config_error (error,
                            count > 0 && paths[0] ? paths[0] : "(none)",
                            nowhere,
                            NULL,
                            "unknown check mode %d; use MWATCH_CONFIG_CHECK_DRY_RUN or "
                            "MWATCH_CONFIG_CHECK_OPEN",
                            (int) mode);
      return false;
   }
   return check_files (paths, count, (int) mode, description, error);
}

bool
mwatch_config_check_file (const char *path, mwatch_buf_t *description, bson_error_t *error)
{
   return mwatch_config_check_files (&path, 1, description, error);
}
