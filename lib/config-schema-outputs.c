/* The handler classes that write somewhere: stream, file (also as
 * Python's WatchedFileHandler), rotating file, timed rotating file,
 * syslog, null, metrics and mongodb, each from its dictConfig keys. */
#include "config-schema-private.h"
#include "handler-mongodb-private.h"
#include "handler-private.h"
#include "handler-timed-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

bool
_mwatch_cfg_read_handler (mwatch_cfg_t *cfg,
                          const mwatch_node_t *map,
                          mwatch_cfg_common_t *c,
                          const mwatch_cfg_field_t *own)
{
   mwatch_cfg_field_t table[24] = {
      MWATCH_CFG_FIELD ("class", MWATCH_CFG_NODE, &c->klass),
      MWATCH_CFG_FIELD ("level", MWATCH_CFG_LEVEL, &c->level),
      MWATCH_CFG_FIELD ("formatter", MWATCH_CFG_NODE, &c->formatter),
      MWATCH_CFG_FIELD ("filters", MWATCH_CFG_NODE, &c->filters),
   };
   size_t n = 4;
   for (size_t i = 0; own && own[i].key; i++) {
      BSON_ASSERT (n + 1 < sizeof table / sizeof *table);
      table[n++] = own[i];
   }
   return _mwatch_cfg_read_fields (cfg, map, table);
}

mwatch_handler_t *
_mwatch_cfg_fail_at (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *key, const char *message)
{
   _mwatch_cfg_fail_key (cfg, map, key, "%s", message);
   return NULL;
}

/* ---------------------------------------------------------------- stream */

mwatch_handler_t *
_mwatch_cfg_build_stream (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   const char *stream = "ext://sys.stderr";
   const mwatch_cfg_field_t own[] = {MWATCH_CFG_FIELD ("stream", MWATCH_CFG_STRING, &stream), MWATCH_CFG_END};
   if (!_mwatch_cfg_read_handler (cfg, map, c, own)) {
      return NULL;
   }
   if (strcmp (stream, "ext://sys.stdout") == 0) {
      return _mwatch_cfg_fail_at (cfg,
                      map,
                      "stream",
                      "stdout belongs to the audited application, whose output must not "
                      "change; use ext://sys.stderr or a file handler");
   }
   if (strcmp (stream, "ext://sys.stderr") != 0) {
      return _mwatch_cfg_fail_at (cfg, map, "stream", "the only stream is ext://sys.stderr; use a file handler for files");
   }
   return mwatch_handler_new_stream (stderr);
}

/* ---------------------------------------------------------------- files */

/* mongowatch appends, in UTF-8, and says so when a Python file asks for
 * anything else rather than ignoring it. */
static bool
check_file_options (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *mode, const char *encoding)
{
   if (strcmp (mode, "a") != 0) {
      _mwatch_cfg_fail_at (cfg,
               map,
               "mode",
               "only mode \"a\" (append) is supported: an audit log is never truncated");
      return false;
   }
   if (encoding && strcasecmp (encoding, "utf-8") != 0 && strcasecmp (encoding, "utf8") != 0) {
      _mwatch_cfg_fail_at (cfg, map, "encoding", "mongowatch writes UTF-8 only; remove \"encoding\" or set it to utf-8");
      return false;
   }
   return true;
}

/* add_headers_if_empty: the CSV header line goes into the file before the
 * handler opens it, when the file is empty (or new).  The line is the
 * handler's formatter's (mwatch_formatter_header), so that it has the
 * cells every record line has.  A file a rotating handler starts after a
 * rollover has no header. */
static bool
write_header (mwatch_cfg_t *cfg, const mwatch_node_t *map, const mwatch_cfg_common_t *c, const char *path)
{
   mwatch_formatter_t *formatter = NULL;
   if (c->formatter && c->formatter->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "formatter");
      mwatch_staged_t *found = _mwatch_cfg_lookup (cfg, &cfg->st.formatters, c->formatter);
      _mwatch_cfg_pop (cfg, saved);
      if (!found) {
         return false;
      }
      formatter = found->object;
   }
   if (cfg->st.check_only) {
      return true; /* a check writes nothing */
   }
   mwatch_buf_t header = MWATCH_BUF_INITIALIZER;
   if (formatter) {
      mwatch_formatter_header (formatter, &header);
   } else {
      mwatch_render_csv_header (NULL, &header);
   }
   mwatch_buf_append (&header, "\n", 1);
   bool ok = _mwatch_cfg_write_if_empty (cfg, map, "filename", path, &header);
   mwatch_buf_destroy (&header);
   return ok;
}

bool
_mwatch_cfg_write_if_empty (
   mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *key, const char *path, const mwatch_buf_t *text)
{
   int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
   struct stat st;
   bool ok = fd >= 0 && fstat (fd, &st) == 0;
   if (ok && st.st_size == 0) {
      ok = write (fd, text->data, text->len) == (ssize_t) text->len;
   }
   int saved_errno = errno;
   if (fd >= 0) {
      close (fd);
   }
   if (!ok) {
      char message[400];
      bson_snprintf (message,
                     sizeof message,
                     "cannot write the CSV header to %s: %s",
                     path,
                     strerror (saved_errno));
      _mwatch_cfg_fail_at (cfg, map, key, message);
      _mwatch_config_error_code (cfg->error, MWATCH_ERROR_IO);
   }
   return ok;
}

/* atTime: Python takes a datetime.time, which a YAML or JSON file cannot
 * give; mongowatch takes "HH:MM" or "HH:MM:SS".  Seconds after midnight,
 * or -1 with the error set. */
static int
read_at_time (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *text)
{
   unsigned h = 0, m = 0, sec = 0;
   int end = 0;
   if ((sscanf (text, "%2u:%2u%n", &h, &m, &end) == 2 && text[end] == '\0') ||
       (sscanf (text, "%2u:%2u:%2u%n", &h, &m, &sec, &end) == 3 && text[end] == '\0')) {
      if (h < 24 && m < 60 && sec < 60) {
         return (int) ((h * 60 + m) * 60 + sec);
      }
   }
   _mwatch_cfg_fail_key (cfg, map, "atTime",
                         "\"%s\" is not a time of day; use \"HH:MM\" or \"HH:MM:SS\" (e.g. "
                         "\"02:30\")",
                         text);
   return -1;
}

typedef enum { PLAIN_FILE, ROTATING_FILE, TIMED_FILE } file_kind_t;

/* The timed rotating file handler's own keys, with Python's names. */
static mwatch_handler_t *
timed_file_handler (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *filename, bool delay, int64_t backup_count, const char *when, int64_t interval, bool utc, const char *at_time, bson_error_t *err)
{
   mwatch_timed_rotation_opts_t opts;
   mwatch_timed_rotation_opts_init (&opts);
   opts.when = when;
   opts.interval = (int) interval;
   opts.backup_count = (int) backup_count;
   opts.utc = utc;
   opts.delay = delay;
   if (at_time && (opts.at_time = read_at_time (cfg, map, at_time)) < 0) {
      return NULL;
   }
   mwatch_timed_t check;
   if (!_mwatch_timed_init (&check, &opts, err)) {
      return _mwatch_cfg_fail_at (cfg, map, "when", err->message);
   }
   mwatch_handler_t *handler = mwatch_handler_new_timed_rotating_file (filename, &opts, err);
   if (!handler) {
      _mwatch_cfg_fail_at (cfg, map, "filename", err->message);
      _mwatch_config_error_cause (cfg->error, err);
   }
   return handler;
}

static mwatch_handler_t *
file_handler (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c, file_kind_t kind)
{
   const char *filename = NULL;
   const char *mode = "a";
   const char *encoding = NULL;
   bool headers = false;
   int64_t max_bytes = 0;
   int64_t backup_count = 0;
   /* The mask opens files at the first record by default: it configures
    * before main, long before a daemon has closed its descriptors. */
   bool delay = _mwatch_file_delay_by_default;
   const char *when = "H";
   int64_t interval = 1;
   bool utc = false;
   const char *at_time = NULL;
   /* Python's keys of each class: a key the class does not take is an
    * unknown key there too. */
   const mwatch_cfg_field_t all[] = {
      {"filename", MWATCH_CFG_STRING, &filename, .required = true},
      MWATCH_CFG_FIELD ("delay", MWATCH_CFG_BOOL, &delay),
      MWATCH_CFG_FIELD ("encoding", MWATCH_CFG_STRING, &encoding),
      MWATCH_CFG_FIELD ("add_headers_if_empty", MWATCH_CFG_BOOL, &headers),
   };
   const mwatch_cfg_field_t plain[] = {
      MWATCH_CFG_FIELD ("mode", MWATCH_CFG_STRING, &mode),
      {"maxBytes", MWATCH_CFG_INT, &max_bytes, .min = 0, .max = 1e15},
      {"backupCount", MWATCH_CFG_INT, &backup_count, .min = 0, .max = 100000},
   };
   const mwatch_cfg_field_t timed[] = {
      {"backupCount", MWATCH_CFG_INT, &backup_count, .min = 0, .max = 100000},
      MWATCH_CFG_FIELD ("when", MWATCH_CFG_STRING, &when),
      {"interval", MWATCH_CFG_INT, &interval, .min = 1, .max = 1e9},
      MWATCH_CFG_FIELD ("utc", MWATCH_CFG_BOOL, &utc),
      MWATCH_CFG_FIELD ("atTime", MWATCH_CFG_STRING, &at_time),
   };
   mwatch_cfg_field_t own[12] = {MWATCH_CFG_END};
   size_t n = 0;
   for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
      own[n++] = all[i];
   }
   /* mode for the file handler, and maxBytes and backupCount too for the
    * rotating one; the timed one's own keys. */
   size_t extra = kind == PLAIN_FILE ? 1 : kind == ROTATING_FILE ? 3 : sizeof timed / sizeof *timed;
   for (size_t i = 0; i < extra; i++) {
      own[n++] = kind == TIMED_FILE ? timed[i] : plain[i];
   }
   if (!_mwatch_cfg_read_handler (cfg, map, c, own) || !check_file_options (cfg, map, mode, encoding) ||
       (headers && !write_header (cfg, map, c, filename))) {
      return NULL;
   }
   /* A check that says what to do with log files: a delayed handler
    * checks its path without creating anything, the others open it. */
   if (cfg->st.check_only && cfg->st.check_files >= 0) {
      delay = cfg->st.check_files == MWATCH_CONFIG_CHECK_DRY_RUN;
   }
   bson_error_t err;
   if (kind == TIMED_FILE) {
      return timed_file_handler (cfg, map, filename, delay, backup_count, when, interval, utc, at_time, &err);
   }
   mwatch_handler_t *handler =
      delay ? mwatch_handler_new_delayed_file (filename, max_bytes, (int) backup_count, &err)
            : mwatch_handler_new_rotating_file (filename, max_bytes, (int) backup_count, &err);
   if (!handler) {
      _mwatch_cfg_fail_at (cfg, map, "filename", err.message);
      _mwatch_config_error_cause (cfg->error, &err);
   }
   return handler;
}

mwatch_handler_t *
_mwatch_cfg_build_file (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   return file_handler (cfg, map, c, PLAIN_FILE);
}

mwatch_handler_t *
_mwatch_cfg_build_rotating_file (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   return file_handler (cfg, map, c, ROTATING_FILE);
}

mwatch_handler_t *
_mwatch_cfg_build_timed_rotating_file (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   return file_handler (cfg, map, c, TIMED_FILE);
}

/* ---------------------------------------------------------------- syslog */

static const struct {
   const char *name;
   int number;
} facilities[] = {
   {"kern", 0},    {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
   {"syslog", 5},  {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
   {"authpriv", 10}, {"ftp", 11},  {"local0", 16}, {"local1", 17}, {"local2", 18},
   {"local3", 19}, {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23},
};

bool
_mwatch_cfg_facility (mwatch_cfg_t *cfg, const mwatch_node_t *node, int *facility)
{
   int64_t number;
   size_t saved = _mwatch_cfg_push (cfg, "facility");
   bool ok = false;
   if (node->type == MWATCH_NODE_SCALAR && node->plain && strspn (node->text, "0123456789") == strlen (node->text)) {
      ok = _mwatch_cfg_int (cfg, node, 0, 23, &number);
      *facility = (int) number;
   } else {
      const char *name = "";
      ok = _mwatch_cfg_string (cfg, node, &name);
      for (size_t i = 0; ok && i < sizeof facilities / sizeof *facilities; i++) {
         if (strcasecmp (name, facilities[i].name) == 0) {
            *facility = facilities[i].number;
            _mwatch_cfg_pop (cfg, saved);
            return true;
         }
      }
      ok = ok && _mwatch_cfg_fail (cfg,
                                   node->pos,
                                   "unknown facility \"%s\"; use user, daemon, local0 ... local7, "
                                   "another syslog facility name or a number from 0 to 23",
                                   name);
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

mwatch_handler_t *
_mwatch_cfg_build_syslog (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   const mwatch_node_t *address = NULL;
   const mwatch_node_t *facility_node = NULL;
   const char *ident = NULL;
   const char *socket_path = NULL;
   int facility = MWATCH_SYSLOG_USER;
   int64_t max_length = MWATCH_SYSLOG_DEFAULT_MAX_LENGTH;
   const mwatch_cfg_field_t own[] = {
      MWATCH_CFG_FIELD ("address", MWATCH_CFG_NODE, &address),
      MWATCH_CFG_FIELD ("facility", MWATCH_CFG_NODE, &facility_node),
      MWATCH_CFG_FIELD ("ident", MWATCH_CFG_STRING, &ident),
      {"max_length", MWATCH_CFG_INT, &max_length, .min = 1024, .max = 16 << 20},
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_handler (cfg, map, c, own)) {
      return NULL;
   }
   if (address && address->type != MWATCH_NODE_NULL) {
      if (address->type != MWATCH_NODE_SCALAR) {
         return _mwatch_cfg_fail_at (cfg,
                         map,
                         "address",
                         "only a local syslog socket is supported: give its path (e.g. "
                         "/dev/log), not a host and port; for a remote daemon use class "
                         "syslog5424 (RFC 5424)");
      }
      socket_path = address->text;
   }
   if (facility_node && facility_node->type != MWATCH_NODE_NULL &&
       !_mwatch_cfg_facility (cfg, facility_node, &facility)) {
      return NULL;
   }
   bson_error_t err;
   mwatch_handler_t *handler = mwatch_handler_new_syslog (socket_path, facility, ident, &err);
   if (!handler) {
      _mwatch_cfg_fail_at (cfg, map, "address", err.message);
      _mwatch_config_error_cause (cfg->error, &err);
      return NULL;
   }
   /* Within the bounds the setter checks: read with them above. */
   BSON_ASSERT (mwatch_syslog_handler_set_max_length (handler, (size_t) max_length, &err));
   return handler;
}

mwatch_handler_t *
_mwatch_cfg_build_null (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   return _mwatch_cfg_read_handler (cfg, map, c, NULL) ? mwatch_handler_new_null () : NULL;
}

/* ---------------------------------------------------------------- metrics */

mwatch_handler_t *
_mwatch_cfg_build_metrics (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   const char *filename = NULL;
   mwatch_metrics_handler_opts_t opts;
   mwatch_metrics_handler_opts_init (&opts);
   int64_t max_series = (int64_t) opts.max_series;
   const mwatch_cfg_field_t own[] = {
      {"filename", MWATCH_CFG_STRING, &filename, .required = true},
      {"interval_sec", MWATCH_CFG_DOUBLE, &opts.interval_sec, .min = 0.001, .max = 86400},
      {"max_series", MWATCH_CFG_INT, &max_series, .min = 1, .max = MWATCH_METRICS_MAX_SERIES_LIMIT},
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_handler (cfg, map, c, own)) {
      return NULL;
   }
   if (c->formatter && c->formatter->type != MWATCH_NODE_NULL) {
      return _mwatch_cfg_fail_at (cfg,
                                  map,
                                  "formatter",
                                  "a metrics handler counts records and formats none; remove "
                                  "\"formatter\"");
   }
   opts.max_series = (size_t) max_series;
   bson_error_t err;
   mwatch_handler_t *handler = mwatch_handler_new_metrics (filename, &opts, &err);
   if (!handler) {
      _mwatch_cfg_fail_at (cfg, map, "filename", err.message);
      _mwatch_config_error_cause (cfg->error, &err);
   }
   return handler;
}

/* ---------------------------------------------------------------- mongodb */

/* The MongoDB audit handler (handler-mongodb.c): where, and its bounds. */
mwatch_handler_t *
_mwatch_cfg_build_mongodb (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   mwatch_mongodb_handler_opts_t opts;
   mwatch_mongodb_handler_opts_init (&opts);
   int64_t capacity = (int64_t) opts.capacity, max_bytes = (int64_t) opts.max_bytes,
           batch_size = (int64_t) opts.batch_size;
   const mwatch_cfg_field_t own[] = {
      {"uri", MWATCH_CFG_STRING, &opts.uri, .required = true},
      {"database", MWATCH_CFG_STRING, &opts.database, .required = true},
      {"collection", MWATCH_CFG_STRING, &opts.collection, .required = true},
      {"ttl_sec", MWATCH_CFG_INT, &opts.ttl_sec, .min = 0, .max = 1e12},
      {"capacity", MWATCH_CFG_INT, &capacity, .min = 1, .max = 1e9},
      {"max_bytes", MWATCH_CFG_INT, &max_bytes, .min = 1, .max = 1e15},
      {"batch_size", MWATCH_CFG_INT, &batch_size, .min = 1, .max = 100000},
      {"backoff_max_sec", MWATCH_CFG_DOUBLE, &opts.backoff_max_sec, .min = 0.1, .max = 86400},
      {"shutdown_timeout_sec", MWATCH_CFG_DOUBLE, &opts.shutdown_timeout_sec, .min = 0.001, .max = 86400},
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_handler (cfg, map, c, own)) {
      return NULL;
   }
   if (c->formatter && c->formatter->type != MWATCH_NODE_NULL) {
      return _mwatch_cfg_fail_at (cfg,
                                  map,
                                  "formatter",
                                  "a mongodb handler stores typed documents, not formatted lines; "
                                  "remove its formatter");
   }
   opts.capacity = (size_t) capacity;
   opts.max_bytes = (size_t) max_bytes;
   opts.batch_size = (size_t) batch_size;
   bson_error_t err;
   const char *key = "uri";
   mwatch_handler_t *handler = _mwatch_mongodb_check_opts (&opts, &err, &key)
                                  ? mwatch_handler_new_mongodb (&opts, &err)
                                  : NULL;
   if (!handler) {
      _mwatch_cfg_fail_at (cfg, map, key, err.message);
      _mwatch_config_error_cause (cfg->error, &err);
   }
   return handler;
}
