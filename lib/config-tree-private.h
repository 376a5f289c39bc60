/* The in-memory tree both configuration formats are read into, so that one
 * schema serves YAML and JSON alike, and the error messages every part of
 * the loader shares.  Every node and every map key knows its line and
 * column in the text, for error messages. */
#ifndef MWATCH_CONFIG_TREE_PRIVATE_H
#define MWATCH_CONFIG_TREE_PRIVATE_H

#include "mongowatch.h"

typedef enum {
   MWATCH_NODE_NULL = 0,
   MWATCH_NODE_SCALAR,
   MWATCH_NODE_MAP,
   MWATCH_NODE_SEQ,
} mwatch_node_type_t;

/* 1-based; 0 when unknown (a JSON tree built without positions).  `file`
 * is set in trees merged from several files (_mwatch_node_set_file);
 * NULL means the file being loaded. */
typedef struct {
   int line;
   int column;
   const char *file;
} mwatch_pos_t;

typedef struct _mwatch_node_t mwatch_node_t;

typedef struct {
   char *key;
   mwatch_pos_t pos;
   mwatch_node_t *value;
} mwatch_node_pair_t;

struct _mwatch_node_t {
   mwatch_node_type_t type;
   mwatch_pos_t pos;
   /* Scalars, and nulls (the text they were written as, e.g. "~"). */
   char *text;
   /* True for a YAML plain scalar and for JSON numbers, true, false and
    * null: only these may read as numbers or booleans, so that YAML's 15
    * and "15" differ as they do in Python. */
   bool plain;
   mwatch_node_pair_t *pairs; /* maps, in the order written */
   mwatch_node_t **items;     /* sequences */
   size_t count;
   size_t capacity;
};

/* The tree's nodes are limited in number, so that YAML aliases cannot
 * blow a small file up into an enormous tree. */
#define MWATCH_CONFIG_MAX_NODES 100000

mwatch_node_t *
_mwatch_node_new (mwatch_node_type_t type, mwatch_pos_t pos);

/* A scalar of `len` bytes of `text`. */
mwatch_node_t *
_mwatch_node_new_scalar (const char *text, size_t len, bool plain, mwatch_pos_t pos);

void
_mwatch_node_destroy (mwatch_node_t *node);

/* A deep copy; `*budget` is decreased by the nodes made, and the copy
 * fails (NULL) when it would go below 0. */
mwatch_node_t *
_mwatch_node_copy (const mwatch_node_t *node, long *budget);

/* Appends key: value to a map, which takes `value`; returns false, taking
 * nothing, when the key is there already. */
bool
_mwatch_node_map_add (mwatch_node_t *map, const char *key, mwatch_pos_t pos, mwatch_node_t *value);

/* The pair of `key`, or NULL. */
const mwatch_node_pair_t *
_mwatch_node_map_find (const mwatch_node_t *map, const char *key);

/* Appends an item to a sequence, which takes it. */
void
_mwatch_node_seq_add (mwatch_node_t *seq, mwatch_node_t *item);

/* Marks every node and key of `tree` as coming from `file` (which must
 * outlive the tree), for error messages after a merge. */
void
_mwatch_node_set_file (mwatch_node_t *tree, const char *file);

/* Merges `over` into `base`, taking `over`: a key of both whose values are
 * both mappings is merged in turn; any other value of `over` replaces
 * base's (lists too: they are not concatenated); keys only in `over` are
 * appended.  When either is not a mapping, `over` replaces `base`.
 * Returns the merged tree (base or over). */
mwatch_node_t *
_mwatch_node_merge (mwatch_node_t *base, mwatch_node_t *over);

/* Fills `error` with "FILE:LINE:COL: PATH: message" (the position left out
 * when unknown, the path when empty). */
void
_mwatch_config_error (bson_error_t *error,
                      const char *file,
                      mwatch_pos_t pos,
                      const char *path,
                      const char *format,
                      ...) BSON_GNUC_PRINTF (5, 6);

/* The code of an error is MWATCH_ERROR_CONFIG; this gives the one just
 * filled (by _mwatch_config_error) another: MWATCH_ERROR_IO for a file
 * that cannot be read, MWATCH_ERROR_PLUGIN for a plugin. */
void
_mwatch_config_error_code (bson_error_t *error, uint32_t code);

/* Gives the error just filled the code of `cause`, a constructor's error
 * that it reports (a file handler's MWATCH_ERROR_IO), except that a bad
 * argument, which came from the file, stays MWATCH_ERROR_CONFIG. */
void
_mwatch_config_error_cause (bson_error_t *error, const bson_error_t *cause);

/* Parsers (config-tree-yaml.c, config-tree-json.c): the tree of the text, or NULL
 * with `error` set (naming `file`). */
mwatch_node_t *
_mwatch_yaml_parse (const char *text, size_t len, const char *file, bson_error_t *error);

mwatch_node_t *
_mwatch_json_parse (const char *text, size_t len, const char *file, bson_error_t *error);

#endif
