/* The configuration schema's shared parts: the reading context (file, key
 * path, cfg:// resolution, typed accessors with their error messages) and
 * the staging area every section builds its objects into before anything
 * is installed. */
#ifndef MWATCH_CONFIG_SCHEMA_PRIVATE_H
#define MWATCH_CONFIG_SCHEMA_PRIVATE_H

#include "logger-private.h"
#include "message-private.h"
#include "config-tree-private.h"

/* ---------------------------------------------------------------- staging */

/* A named object built from the file: a formatter, a filter or a handler.
 * Names point into the tree, which outlives the staging area. */
typedef struct {
   const char *name;
   void *object;
   /* Handlers: a queue's backend, and for a backend the queue that owns
    * it (loggers must use the queue). */
   const char *backend;
   const char *owner;
} mwatch_staged_t;

typedef struct {
   const char *what; /* "formatter", "filter", "handler" */
   void (*destroy) (void *object);
   mwatch_staged_t *items;
   size_t count;
} mwatch_staged_list_t;

typedef struct {
   const char *name;
   int level;
   bool propagate;
   mwatch_handler_t **handlers;
   size_t handler_count;
   mwatch_filter_t **filters;
   size_t filter_count;
} mwatch_staged_logger_t;

/* One entry of a watcher's "operations"; the lists are owned, their
 * strings are the tree's. */
typedef struct {
   const char *operation;
   const char **rename;
   const char **drop;
   bson_t *add;
   const char **cast; /* pairs field, cast name (pymongowatch's casts) */
} mwatch_staged_op_t;

typedef struct {
   mwatch_watcher_opts_t opts;
   const char **fields; /* owned list, NULL for the defaults */
   mwatch_staged_op_t *ops;
   size_t op_count;
   /* pymongowatch's "result: {to: ...}": the key its operations entries
    * give the result under (NULL: "_result"). */
   const char *result_key;
} mwatch_staged_watcher_t;

typedef struct {
   bool check_only; /* build to validate: no side effects beyond that */
   /* A check's log files (mwatch_config_check_files_mode): -1 as a load
    * would open them, else an mwatch_config_check_mode_t. */
   int check_files;
   bool disable_existing;
   mwatch_staged_list_t formatters;
   mwatch_staged_list_t filters;
   mwatch_staged_list_t handlers;
   mwatch_staged_logger_t *loggers;
   size_t logger_count;
   mwatch_staged_watcher_t watchers[2];
   /* watchers.global's default_delimiter and key_value_separator (the
    * tree's strings); NULL: the defaults. */
   const char *delimiter;
   const char *key_value_separator;
   mwatch_buf_t description;
} mwatch_staging_t;

/* ---------------------------------------------------------------- context */

typedef struct {
   const char *file;
   const mwatch_node_t *root;
   bson_error_t *error;
   char path[512]; /* the key path being read, "handlers.file.maxBytes" */
   size_t path_len;
   mwatch_staging_t st;
} mwatch_cfg_t;

/* Extends the key path by a key or an index ([N]); returns the length to
 * give _mwatch_cfg_pop to go back. */
size_t
_mwatch_cfg_push (mwatch_cfg_t *cfg, const char *key);
size_t
_mwatch_cfg_push_index (mwatch_cfg_t *cfg, size_t index);
void
_mwatch_cfg_pop (mwatch_cfg_t *cfg, size_t saved);

/* Fills the error at `pos` and the current path; returns false. */
bool
_mwatch_cfg_fail (mwatch_cfg_t *cfg, mwatch_pos_t pos, const char *format, ...)
   BSON_GNUC_PRINTF (3, 4);

/* Fails at the value of `key` in `map` (the map itself when the key is
 * absent), under the key's path; returns false. */
bool
_mwatch_cfg_fail_key (
   mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *key, const char *format, ...)
   BSON_GNUC_PRINTF (4, 5);

/* Follows `node` through cfg:// references to the node it stands for
 * (itself when it is no reference); NULL with the error set when a
 * reference leads nowhere or into a cycle. */
const mwatch_node_t *
_mwatch_cfg_resolve (mwatch_cfg_t *cfg, const mwatch_node_t *node);

/* Typed readers.  Each resolves references and reports a wrong type at
 * `node`, under the current path. */
bool
_mwatch_cfg_string (mwatch_cfg_t *cfg, const mwatch_node_t *node, const char **out);
bool
_mwatch_cfg_int (
   mwatch_cfg_t *cfg, const mwatch_node_t *node, int64_t min, int64_t max, int64_t *out);
bool
_mwatch_cfg_double (
   mwatch_cfg_t *cfg, const mwatch_node_t *node, double min, double max, double *out);
bool
_mwatch_cfg_bool (mwatch_cfg_t *cfg, const mwatch_node_t *node, bool *out);
bool
_mwatch_cfg_level (mwatch_cfg_t *cfg, const mwatch_node_t *node, int *out);
/* A mapping; with `null_ok` null (an empty section) reads as NULL. */
bool
_mwatch_cfg_map (mwatch_cfg_t *cfg,
                 const mwatch_node_t *node,
                 bool null_ok,
                 const mwatch_node_t **out);
bool
_mwatch_cfg_seq (mwatch_cfg_t *cfg, const mwatch_node_t *node, const mwatch_node_t **out);
/* A list of message field names (non-empty, no '.'): a new NULL-terminated
 * array of the tree's strings, for bson_free. */
bool
_mwatch_cfg_names (mwatch_cfg_t *cfg, const mwatch_node_t *node, const char ***out);
/* A map of field name to field name, as pairs from, to, ..., NULL. */
bool
_mwatch_cfg_name_pairs (mwatch_cfg_t *cfg, const mwatch_node_t *node, const char ***out);
/* A valid message field name. */
bool
_mwatch_cfg_name (mwatch_cfg_t *cfg, const mwatch_node_t *node, const char **out);

/* A mapping as a BSON document (initialized here): plain scalars that read
 * as integers (int32 when they fit, else int64), doubles, booleans or
 * null are typed so, everything else is a string; keys in `skip`
 * (NULL-terminated, may be NULL) are left out. */
bool
_mwatch_cfg_to_bson (mwatch_cfg_t *cfg,
                     const mwatch_node_t *map,
                     const char *const *skip,
                     bson_t *out);

/* Reading a mapping by a table: one row per allowed key; keys not in the
 * table are errors that list the allowed ones.  Each present key is read
 * into `out` by its type (absent ones leave `out` as it was). */
typedef enum {
   MWATCH_CFG_NODE,   /* const mwatch_node_t **, resolved */
   MWATCH_CFG_STRING, /* const char ** */
   MWATCH_CFG_INT,    /* int64_t *, within [min, max] */
   MWATCH_CFG_DOUBLE, /* double *, within [min, max] */
   MWATCH_CFG_BOOL,   /* bool * */
   MWATCH_CFG_LEVEL,  /* int * */
   MWATCH_CFG_NAMES,  /* const char ***, as _mwatch_cfg_names */
} mwatch_cfg_type_t;

typedef struct {
   const char *key; /* NULL ends the table */
   mwatch_cfg_type_t type;
   void *out;
   bool required;
   double min;
   double max;
} mwatch_cfg_field_t;

/* Rows without bounds or `required`, and the end of a table. */
#define MWATCH_CFG_FIELD(key_, type_, out_) {.key = (key_), .type = (type_), .out = (out_)}
#define MWATCH_CFG_END {.key = NULL}

bool
_mwatch_cfg_read_fields (mwatch_cfg_t *cfg,
                         const mwatch_node_t *map,
                         const mwatch_cfg_field_t *fields);

/* A Python object's path as dictConfig takes it, written with or without
 * "ext://" (pymongowatch's classes, factories and casts): the path
 * without the prefix. */
const char *
_mwatch_cfg_python_path (const char *name);

/* Did-you-mean for an unknown `name`: ` (did you mean "X"?)` with the
 * closest of the NULL-terminated `known` (suggest-private.h), or "" when
 * none is close.  Every error about an unknown name adds it. */
void
_mwatch_cfg_did_you_mean (char *hint, size_t size, const char *name, const char *const *known);

/* The error for an unknown key of `map` (at `pair`), listing `allowed`
 * and the one closest to the key. */
bool
_mwatch_cfg_unknown_key (mwatch_cfg_t *cfg,
                         const mwatch_node_pair_t *pair,
                         const char *const *allowed,
                         size_t count);

/* ---------------------------------------------------------------- objects */

void
_mwatch_staged_add (mwatch_staged_list_t *list, const char *name, void *object);

mwatch_staged_t *
_mwatch_staged_find (const mwatch_staged_list_t *list, const char *name);

/* The object named by the string `node`, or an error listing the names
 * there are. */
mwatch_staged_t *
_mwatch_cfg_lookup (mwatch_cfg_t *cfg, const mwatch_staged_list_t *list, const mwatch_node_t *node);

/* Looks up every name of the list `node` in `list`; `*objects` is a new
 * array (bson_free) of `*count` borrowed objects, and `*names` (unless
 * `names` is NULL) one of their names. */
bool
_mwatch_cfg_lookup_all (mwatch_cfg_t *cfg,
                        const mwatch_staged_list_t *list,
                        const mwatch_node_t *node,
                        void ***objects,
                        const char ***names,
                        size_t *count);

void
_mwatch_staging_init (mwatch_staging_t *st);
void
_mwatch_staging_destroy (mwatch_staging_t *st);

/* Appends a line to the description (check_file). */
void
_mwatch_cfg_describe (mwatch_cfg_t *cfg, const char *format, ...) BSON_GNUC_PRINTF (2, 3);

/* Appends " " and the keys of `map` not in `skip` as relaxed extended
 * JSON (secrets left out). */
void
_mwatch_cfg_describe_params (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *const *skip);

/* ---------------------------------------------------------------- sections */

/* config-schema-outputs.c: writes `text` into the file `path` when it is
 * empty or new (a CSV header line); on failure, an error at `key` of `map`. */
bool
_mwatch_cfg_write_if_empty (
   mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *key, const char *path, const mwatch_buf_t *text);

/* config-schema-filters.c */
bool
_mwatch_cfg_formatters (mwatch_cfg_t *cfg, const mwatch_node_t *section);
/* After the whole configuration is read: every formatter's {watch.F}
 * fields name a field mongowatch sets or the configuration names
 * (config-schema-fields.c). */
bool
_mwatch_cfg_template_fields (mwatch_cfg_t *cfg);
bool
_mwatch_cfg_filters (mwatch_cfg_t *cfg, const mwatch_node_t *section);

/* config-schema-handlers.c */
bool
_mwatch_cfg_handlers (mwatch_cfg_t *cfg, const mwatch_node_t *section);

/* The keys every handler has, as read; each class adds its own. */
typedef struct {
   const mwatch_node_t *klass;
   int level;
   const mwatch_node_t *formatter;
   const mwatch_node_t *filters;
} mwatch_cfg_common_t;

/* Reads a handler's mapping: the common keys and the class's `own` keys
 * (a table ended by a NULL key; NULL for none). */
bool
_mwatch_cfg_read_handler (mwatch_cfg_t *cfg,
                          const mwatch_node_t *map,
                          mwatch_cfg_common_t *c,
                          const mwatch_cfg_field_t *own);

/* Reports `message` at the value of `key` in `map` (the map itself when
 * the key is absent), under the key's path; returns NULL. */
mwatch_handler_t *
_mwatch_cfg_fail_at (mwatch_cfg_t *cfg,
                     const mwatch_node_t *map,
                     const char *key,
                     const char *message);

/* The builders of the classes that write somewhere (config-schema-
 * outputs.c); the queue and plugins are in config-schema-handlers.c. */
typedef mwatch_handler_t *(*mwatch_cfg_handler_builder_t) (mwatch_cfg_t *cfg,
                                                            const mwatch_node_t *map,
                                                            mwatch_cfg_common_t *c);
mwatch_handler_t *
_mwatch_cfg_build_stream (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c);
mwatch_handler_t *
_mwatch_cfg_build_file (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c);
mwatch_handler_t *
_mwatch_cfg_build_rotating_file (mwatch_cfg_t *cfg,
                                 const mwatch_node_t *map,
                                 mwatch_cfg_common_t *c);
mwatch_handler_t *
_mwatch_cfg_build_timed_rotating_file (mwatch_cfg_t *cfg,
                                       const mwatch_node_t *map,
                                       mwatch_cfg_common_t *c);
mwatch_handler_t *
_mwatch_cfg_build_syslog (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c);
/* A syslog facility: a name (user, local0, ...) or a number 0 to 23. */
bool
_mwatch_cfg_facility (mwatch_cfg_t *cfg, const mwatch_node_t *node, int *facility);
/* config-schema-syslog5424.c: the remote syslog handler (RFC 5424). */
mwatch_handler_t *
_mwatch_cfg_build_syslog5424 (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c);
mwatch_handler_t *
_mwatch_cfg_build_null (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c);
/* The metrics handler (Prometheus text file), config-schema-outputs.c. */
mwatch_handler_t *
_mwatch_cfg_build_metrics (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c);
/* config-schema-otlp.c: the OpenTelemetry handler. */
mwatch_handler_t *
_mwatch_cfg_build_otlp (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c);

/* config-schema-loggers.c: the "loggers" section and the top-level root. */
bool
_mwatch_cfg_loggers (mwatch_cfg_t *cfg, const mwatch_node_t *loggers, const mwatch_node_t *root);

/* config-schema-watchers.c */
bool
_mwatch_cfg_watchers (mwatch_cfg_t *cfg, const mwatch_node_t *section);

/* config-schema-plugin.c: calls the factory named by the "ext://FILE:SYMBOL"
 * string `ref` (a handler factory when `handler`, else a filter factory)
 * with `params`; NULL with the error set when it cannot be loaded or
 * fails. */
void *
_mwatch_cfg_plugin (mwatch_cfg_t *cfg, const mwatch_node_t *ref, const bson_t *params, bool handler);

#endif
