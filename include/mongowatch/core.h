/*
 * mongowatch core: the export macro, the version, error codes, clocks and
 * the text buffer every rendering writes into.
 *
 * Included by <mongowatch.h>; do not include it on its own.
 */
#ifndef MONGOWATCH_CORE_H
#define MONGOWATCH_CORE_H

#ifndef MONGOWATCH_H
#error "include <mongowatch.h>, not <mongowatch/core.h>"
#endif

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MWATCH_EXPORT __attribute__ ((visibility ("default")))
#else
#define MWATCH_EXPORT
#endif

#define MWATCH_VERSION_STRING "0.1.0"

/* The domain of every bson_error_t that mongowatch fills in. */
#define MWATCH_ERROR_DOMAIN 0x6d77 /* "mw" */

/* The code of every such bson_error_t: what kind of thing went wrong, so
 * that a program can tell a bad configuration from a full disk without
 * reading the message.  The message says what exactly, and where.
 *
 * mongowatch reports no error of MongoDB's through a bson_error_t: the
 * application gets libmongoc's own, untouched, and a failed operation's
 * error is the Error field of its WatchMessage. */
typedef enum {
   /* A bad argument to a function: a required pointer NULL, a number out
    * of range, a filter expression or a format template that does not
    * parse, a handler of the wrong kind.  Returned by the filter
    * constructors (mwatch_filter_new_*), mwatch_formatter_new,
    * mwatch_formatter_set_columns, mwatch_handler_new_file and its kin (no
    * path), mwatch_handler_new_syslog (a facility out of range),
    * mwatch_syslog_handler_set_max_length and mwatch_add_logging_handlers. */
   MWATCH_ERROR_INVALID_ARGUMENT = 1,
   /* mwatch_patch_mongoc: libmongoc is found before mongowatch. */
   MWATCH_ERROR_NOT_INTERPOSED = 2,
   /* A configuration that is not valid: text that does not parse as YAML
    * or JSON, a file name without .yaml, .yml or .json, a file refused as
    * untrusted, an unknown or missing key, a value of the wrong type or out
    * of range (a filter expression or format that does not compile
    * included).  Returned by mwatch_config_load_* and mwatch_config_check_*,
    * with the file, line, column and key in the message. */
   MWATCH_ERROR_CONFIG = 3,
   /* The system refused a resource: a file, socket or pipe that cannot be
    * opened, read or written, a thread that cannot be started.  Returned
    * by the file and syslog handler constructors, mwatch_drain_on_signals,
    * mwatch_reopen_on_sighup, and by mwatch_config_load_* and
    * mwatch_config_check_* for a configuration file that cannot be read
    * or a handler of it that cannot open its file or socket. */
   MWATCH_ERROR_IO = 4,
   /* An ext:// plugin of a configuration that cannot be used: refused as
    * untrusted, not loadable (dlopen), without the named factory (dlsym),
    * or whose factory made nothing.  Returned by mwatch_config_load_* and
    * mwatch_config_check_*. */
   MWATCH_ERROR_PLUGIN = 5,
} mwatch_error_code_t;

/* Returns the library's version, e.g. "0.1.0". */
MWATCH_EXPORT const char *
mwatch_version (void);

/* ------------------------------------------------------------------------
 * Clocks
 * ------------------------------------------------------------------------ */

/* Wall-clock time in microseconds since the Unix epoch (UTC). */
MWATCH_EXPORT int64_t
mwatch_realtime_us (void);

/* Monotonic time in microseconds, from an arbitrary origin.  Due times of
 * messages and queues are on this clock, so that a change of the wall clock
 * neither fires nor postpones a timeout. */
MWATCH_EXPORT int64_t
mwatch_monotonic_us (void);

/* ------------------------------------------------------------------------
 * mwatch_buf_t: a growable text buffer.
 *
 * Renderings append to a buffer that the caller owns and reuses; once the
 * buffer has grown to the size of the longest line, rendering allocates
 * nothing.  `data` is always NUL-terminated once anything was appended
 * (the terminator is not counted in `len`).
 * ------------------------------------------------------------------------ */

typedef struct {
   char *data;
   size_t len;
   size_t cap;
} mwatch_buf_t;

#define MWATCH_BUF_INITIALIZER {NULL, 0, 0}

/* Makes `buf` empty, with no storage. */
MWATCH_EXPORT void
mwatch_buf_init (mwatch_buf_t *buf);

/* Frees the storage of `buf` and makes it empty. */
MWATCH_EXPORT void
mwatch_buf_destroy (mwatch_buf_t *buf);

/* Sets the length to 0 and keeps the storage for reuse. */
MWATCH_EXPORT void
mwatch_buf_clear (mwatch_buf_t *buf);

/* Appends `len` bytes of `data` (which may contain NUL bytes). */
MWATCH_EXPORT void
mwatch_buf_append (mwatch_buf_t *buf, const char *data, size_t len);

/* Appends a NUL-terminated string. */
MWATCH_EXPORT void
mwatch_buf_append_str (mwatch_buf_t *buf, const char *str);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_CORE_H */
