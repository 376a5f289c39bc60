/*
 * mongowatch configuration files: the whole logging and watching setup in
 * one YAML or JSON file, in the schema of Python's logging.config.dictConfig
 * plus a "watchers" section.  mongowatch.yaml(5) describes every key;
 * PREFIX/share/doc/mongowatch/mongowatch.yaml is a commented sample.
 *
 * Included by <mongowatch.h>; do not include it on its own.
 *
 * Loading is all or nothing: every formatter, filter, handler (queue
 * listeners included), logger setting and watcher option is built first,
 * and only when all of them could be built is the result installed, in one
 * step, replacing the previous configuration (whose handlers are drained,
 * flushed and closed: no record already logged is lost).  On any error the
 * objects built so far are destroyed and the previous configuration stays
 * in force.
 *
 * Errors are reported through `error` (MWATCH_ERROR_DOMAIN; code
 * MWATCH_ERROR_CONFIG for a configuration that is not valid,
 * MWATCH_ERROR_IO for a file that cannot be read or a handler's file or
 * socket that cannot be opened, MWATCH_ERROR_PLUGIN for an ext:// plugin
 * that cannot be loaded or has no such factory) as
 *
 *   FILE:LINE:COLUMN: KEY.PATH: what is wrong; what to do
 *
 * e.g. "/etc/mongowatch.yaml:12:16: handlers.file.maxBytes: expected an
 * integer, got "ten"".  FILE is "<string>" for mwatch_config_load_string.
 * Lines and columns count from 1.
 *
 * Plugins: "ext:///path/to/lib.so:symbol" as a filter's "()" or a
 * handler's class names a factory in a shared object, which is loaded with
 * dlopen and stays loaded for the life of the process.  The factory gets
 * the other keys of the filter (all but "()") or handler (all but class,
 * level, formatter and filters, which mongowatch applies) as a BSON document (plain YAML
 * scalars that read as integers, doubles, booleans or null typed as such;
 * quoted ones, and all JSON strings, as strings) and returns a new object,
 * or NULL with `error` set:
 *
 *   mwatch_filter_t *my_filter_new (const bson_t *params, bson_error_t *error);
 *   mwatch_handler_t *my_handler_new (const bson_t *params, bson_error_t *error);
 */
#ifndef MONGOWATCH_CONFIG_H
#define MONGOWATCH_CONFIG_H

#ifndef MONGOWATCH_H
#error "include <mongowatch.h>, not <mongowatch/config.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
   MWATCH_CONFIG_YAML = 0,
   MWATCH_CONFIG_JSON = 1,
} mwatch_config_format_t;

/* The signatures of plugin factories (see above). */
typedef mwatch_filter_t *(*mwatch_filter_factory_t) (const bson_t *params, bson_error_t *error);
typedef mwatch_handler_t *(*mwatch_handler_factory_t) (const bson_t *params,
                                                        bson_error_t *error);

/* Loads the configuration file at `path` and installs it.  The format
 * comes from the extension: .yaml or .yml for YAML, .json for JSON (any
 * other is an error).  Returns false with `error` set, changing nothing,
 * when the file cannot be read or the configuration is not valid. */
MWATCH_EXPORT bool
mwatch_config_load_file (const char *path, bson_error_t *error);

/* Loads several files as one configuration: each is merged into the
 * ones before it, so later files override earlier ones.  Mappings merge
 * key by key, at every depth (a later file can change one handler's level
 * and keep the rest); any other value, lists included, replaces the
 * earlier one.  An empty file changes nothing.  Each error names the file
 * its key came from.  All or nothing, as mwatch_config_load_file: returns
 * false with `error` set, changing nothing, on any error. */
MWATCH_EXPORT bool
mwatch_config_load_files (const char *const *paths, size_t count, bson_error_t *error);

/* Loads a configuration from text in memory and installs it, as
 * mwatch_config_load_file does; errors name the file "<string>".  Returns
 * false with `error` set, changing nothing, for text that is not a valid
 * configuration. */
MWATCH_EXPORT bool
mwatch_config_load_string (const char *text,
                           mwatch_config_format_t format,
                           bson_error_t *error);

/* Validates the file at `path` as mwatch_config_load_file would — building
 * every object and destroying it again, so that a file handler's directory
 * or a plugin is really tried (a file handler's log file may be created,
 * empty) — and installs nothing.  On success appends to `description`
 * (which may be NULL) a human-readable account of the formatters, filters,
 * handlers, loggers and watcher options the file would set up, one per
 * line; the same configuration gives the same text, whatever its format.
 * Returns false, with `error` set, for a configuration that
 * mwatch_config_load_file would refuse.  For a check-config command. */
MWATCH_EXPORT bool
mwatch_config_check_file (const char *path, mwatch_buf_t *description, bson_error_t *error);

/* Validates several files as mwatch_config_load_files would load them,
 * and installs nothing: mwatch_config_check_file for
 * mwatch_config_load_files.  Returns false, with `error` set, where that
 * would. */
MWATCH_EXPORT bool
mwatch_config_check_files (const char *const *paths,
                           size_t count,
                           mwatch_buf_t *description,
                           bson_error_t *error);

/* What mwatch_config_check_files_mode does with the log files of the file
 * handlers (file, rotating_file, timed_rotating_file, watched_file). */
typedef enum {
   /* Creates and opens no log file: a file that exists must be a writable
    * file, and the folder of one that does not must exist and be writable
    * (searchable too), which is what opening it will need. */
   MWATCH_CONFIG_CHECK_DRY_RUN = 0,
   /* Opens every log file, creating a new one (empty), whatever the
    * handler's "delay" says: the real open(2), as the user checking it. */
   MWATCH_CONFIG_CHECK_OPEN = 1,
} mwatch_config_check_mode_t;

/* mwatch_config_check_files, with the handlers' log files treated as
 * `mode` says (mwatch_config_check_files itself opens them as a load
 * would: at once unless a handler has "delay: true").  An error about a
 * log file names the configuration file, the handler's key ("handlers.
 * NAME.filename"), the log file and why, e.g.
 * "/etc/mongowatch.yaml:93:15: handlers.csv_file.filename: cannot open log
 * file "/var/log/mongowatch/watch.csv": No such file or directory".  For
 * `mongowatch check-config` (--dry-run, the default, and --open). */
MWATCH_EXPORT bool
mwatch_config_check_files_mode (const char *const *paths,
                                size_t count,
                                mwatch_config_check_mode_t mode,
                                mwatch_buf_t *description,
                                bson_error_t *error);

/* The configuration files the mask (libmongowatch-preload.so) loads, in
 * the order it merges them, lowest priority first; only files that exist:
 *
 *   SYSCONFDIR/mongowatch.yaml              (SYSCONFDIR: PREFIX/etc, as built)
 *   SYSCONFDIR/mongowatch/mongowatch.yaml
 *   SYSCONFDIR/mongowatch/conf.d/ *.yaml    (and .yml, .json; by name)
 *   the same three under /etc
 *   ~/.mongowatch.yaml
 *
 * MONGOWATCH_SYSCONFDIR, a colon-separated list of directories, replaces
 * SYSCONFDIR and /etc (for containers and tests).  When the environment
 * variable MONGOWATCH_CONFIG is set and not empty, that one path instead
 * of all of them (whether or not it exists: loading it then says so).  Returns a
 * NULL-terminated array (bson_strfreev), never NULL; `count` (may be
 * NULL) gets its length. */
MWATCH_EXPORT char **
mwatch_config_search (size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_CONFIG_H */
