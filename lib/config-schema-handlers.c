/* The "handlers" section: the class of each handler (Python's name or
 * ours), queue handlers, ext:// plugins, and what every handler shares:
 * level, formatter, filters.
 *
 * Handlers are built in two passes: first every handler that writes
 * somewhere, then the queue handlers, each in front of a backend from the
 * first pass.  A handler that several loggers name is one object. */
#include "config-schema-private.h"
#include "handler-mongodb-private.h"

#include <string.h>

static const struct {
   const char *python;
   const char *name;
   mwatch_cfg_handler_builder_t build; /* NULL: the queue */
} classes[] = {
   {"logging.StreamHandler", "stream", _mwatch_cfg_build_stream},
   {"logging.FileHandler", "file", _mwatch_cfg_build_file},
   {"logging.handlers.RotatingFileHandler", "rotating_file", _mwatch_cfg_build_rotating_file},
   {"logging.handlers.TimedRotatingFileHandler", "timed_rotating_file",
    _mwatch_cfg_build_timed_rotating_file},
   /* Every file handler reopens its path when logrotate moved or removed
    * the file (and checks before each write): Python's WatchedFileHandler
    * is the file handler. */
   {"logging.handlers.WatchedFileHandler", "watched_file", _mwatch_cfg_build_file},
   {"logging.handlers.SysLogHandler", "syslog", _mwatch_cfg_build_syslog},
   /* Python's SysLogHandler speaks RFC 3164 to a local socket: the remote
    * RFC 5424 handler has a name of mongowatch's own. */
   {"mongowatch.handlers.Syslog5424Handler", "syslog5424", _mwatch_cfg_build_syslog5424},
   {"logging.NullHandler", "null", _mwatch_cfg_build_null},
   /* Counters and duration histograms in a Prometheus text file. */
   {"mongowatch.handlers.MetricsHandler", "metrics", _mwatch_cfg_build_metrics},
   {"mongowatch.handlers.OTLPHandler", "otlp", _mwatch_cfg_build_otlp},
   {"mongowatch.handlers.MongoDBHandler", "mongodb", _mwatch_cfg_build_mongodb},
   {"mongowatch.handlers.QueueHandler", "queue", NULL},
   /* pymongowatch's WatchQueue, named where a handler class goes: the
    * queue handler in front of a WatchQueue is what it means. */
   {"pymongo.watcher.logger.WatchQueue", "queue", NULL},
   {"pymongo.watcher.WatchQueue", "queue", NULL},
   /* Python's QueueHandler, with its "handlers" and a WatchQueue as its
    * "queue" (Python 3.12's dictConfig), is the same pair. */
   {"logging.handlers.QueueHandler", "queue", NULL},
};

/* pymongowatch's handler factory ("()" in place of "class"): a
 * QueueHandler with a WatchQueue in front of `backend`, which is
 * mongowatch's queue handler. */
#define QUEUE_FACTORY "pymongo.watcher.setup_queue_handler"
#define FACTORY_KEY "()"

#define N_CLASSES (sizeof classes / sizeof *classes)
#define PLUGIN_CLASS N_CLASSES

static const char *const common_keys[] = {"class", "level", "formatter", "filters", NULL};

#define CLASSES_HELP                                                                   \
   "use stream, file, rotating_file, timed_rotating_file, watched_file, syslog, syslog5424, " \
   "null, metrics, otlp, mongodb, " \
   "queue (or Python's class names) or "                                                 \
   "ext:///path/to/lib.so:symbol"

/* The index in `classes` of a class name, PLUGIN_CLASS for ext://, or
 * N_CLASSES + 1 for an unknown one. */
static size_t
find_class (const char *name)
{
   if (strncmp (name, "ext://", 6) == 0) {
      return PLUGIN_CLASS;
   }
   for (size_t i = 0; i < N_CLASSES; i++) {
      if (strcmp (name, classes[i].python) == 0 || strcmp (name, classes[i].name) == 0) {
         return i;
      }
   }
   return N_CLASSES + 1;
}

/* The index of the queue's row. */
static size_t
queue_class (void)
{
   return find_class ("queue");
}

/* A handler made by a factory, "()": only pymongowatch's queue handler
 * has a C equivalent. */
static bool
factory_of (mwatch_cfg_t *cfg, const mwatch_node_pair_t *pair, size_t *index)
{
   const char *name;
   size_t saved = _mwatch_cfg_push (cfg, FACTORY_KEY);
   bool ok = _mwatch_cfg_string (cfg, pair->value, &name);
   const char *bare = ok ? _mwatch_cfg_python_path (name) : NULL;
   if (ok && strcmp (bare, QUEUE_FACTORY) == 0) {
      *index = queue_class ();
   } else if (ok) {
      static const char *const known[] = {QUEUE_FACTORY, "ext://" QUEUE_FACTORY, NULL};
      char hint[96];
      _mwatch_cfg_did_you_mean (hint, sizeof hint, name, known);
      ok = _mwatch_cfg_fail (cfg,
                             pair->value->pos,
                             "unknown handler factory \"%s\"%s; the one factory mongowatch "
                             "knows is ext://" QUEUE_FACTORY " (pymongowatch's queue handler); "
                             "otherwise give \"class\": " CLASSES_HELP,
                             name,
                             hint);
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

static bool
class_of (mwatch_cfg_t *cfg, const mwatch_node_t *map, size_t *index)
{
   const mwatch_node_pair_t *pair = _mwatch_node_map_find (map, "class");
   const mwatch_node_pair_t *factory = _mwatch_node_map_find (map, FACTORY_KEY);
   const char *name;
   if (factory && pair) {
      return _mwatch_cfg_fail_key (
         cfg, map, FACTORY_KEY, "give \"class\" or \"()\", not both; Python uses \"()\" alone");
   }
   if (factory) {
      return factory_of (cfg, factory, index);
   }
   if (!pair) {
      return _mwatch_cfg_fail (cfg, map->pos, "the key \"class\" is required; " CLASSES_HELP);
   }
   size_t saved = _mwatch_cfg_push (cfg, "class");
   /* YAML reads a bare `class: null` as a null, not as the class's name. */
   const mwatch_node_t *value = _mwatch_cfg_resolve (cfg, pair->value);
   bool ok = value != NULL;
   if (ok && value->type == MWATCH_NODE_NULL && value->plain && value->text &&
       strcmp (value->text, "null") == 0) {
      name = "null";
   } else {
      ok = ok && _mwatch_cfg_string (cfg, pair->value, &name);
   }
   if (ok && (*index = find_class (name)) > PLUGIN_CLASS) {
      const char *known[2 * N_CLASSES + 1] = {NULL};
      for (size_t i = 0; i < N_CLASSES; i++) {
         known[2 * i] = classes[i].name;
         known[2 * i + 1] = classes[i].python;
      }
      char hint[96];
      _mwatch_cfg_did_you_mean (hint, sizeof hint, name, known);
      ok = _mwatch_cfg_fail (
         cfg, pair->value->pos, "unknown handler class \"%s\"%s; " CLASSES_HELP, name, hint);
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

static bool
is_queue (size_t index)
{
   return index < N_CLASSES && !classes[index].build;
}

/* A class or "()" value that makes a queue handler. */
static bool
names_queue (const char *text)
{
   const char *bare = _mwatch_cfg_python_path (text);
   return strcmp (bare, QUEUE_FACTORY) == 0 || is_queue (find_class (text));
}

/* ---------------------------------------------------------------- plugin */

static mwatch_handler_t *
build_plugin (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   const mwatch_node_pair_t *pair;
   bson_t params;
   /* Only the common keys are ours: the others are the plugin's, checked
    * by its factory. */
   if ((pair = _mwatch_node_map_find (map, "level"))) {
      size_t saved = _mwatch_cfg_push (cfg, "level");
      bool ok = _mwatch_cfg_level (cfg, pair->value, &c->level);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         return NULL;
      }
   }
   pair = _mwatch_node_map_find (map, "formatter");
   c->formatter = pair ? pair->value : NULL;
   pair = _mwatch_node_map_find (map, "filters");
   c->filters = pair ? pair->value : NULL;
   if (!_mwatch_cfg_to_bson (cfg, map, common_keys, &params)) {
      return NULL;
   }
   size_t saved = _mwatch_cfg_push (cfg, "class");
   mwatch_handler_t *handler =
      _mwatch_cfg_plugin (cfg, _mwatch_node_map_find (map, "class")->value, &params, true);
   _mwatch_cfg_pop (cfg, saved);
   bson_destroy (&params);
   return handler;
}

/* ---------------------------------------------------------------- queue */

static bool
read_overflow (mwatch_cfg_t *cfg, const mwatch_node_t *map, const char *text, mwatch_overflow_t *out)
{
   static const char *const names[] = {"drop_newest", "drop_oldest", "block", NULL};
   static const mwatch_overflow_t values[] = {
      MWATCH_OVERFLOW_DROP_NEWEST, MWATCH_OVERFLOW_DROP_OLDEST, MWATCH_OVERFLOW_BLOCK};
   for (size_t i = 0; names[i]; i++) {
      if (strcmp (text, names[i]) == 0) {
         *out = values[i];
         return true;
      }
   }
   char message[300];
   char hint[96];
   _mwatch_cfg_did_you_mean (hint, sizeof hint, text, names);
   bson_snprintf (message,
                  sizeof message,
                  "unknown overflow policy \"%.60s\"%s; use drop_newest, drop_oldest or block",
                  text,
                  hint);
   _mwatch_cfg_fail_at (cfg, map, "overflow", message);
   return false;
}

/* The backend of a queue: a handler of the first pass that no other queue
 * has taken. */
/* The name of the handler `node` names: the name itself (mongowatch's
 * "handler"), or pymongowatch's "backend", a reference to the handler's
 * entry, cfg://handlers.NAME or cfg://handlers[NAME]; the name is copied
 * into `out`. */
static bool
backend_name (mwatch_cfg_t *cfg, const mwatch_node_t *node, bool reference, char *out, size_t size)
{
   static const char dotted[] = "cfg://handlers.";
   static const char bracketed[] = "cfg://handlers[";
   const char *text = node->type == MWATCH_NODE_SCALAR ? node->text : NULL;
   if (!reference) {
      const char *name;
      if (!_mwatch_cfg_string (cfg, node, &name)) {
         return false;
      }
      bson_snprintf (out, size, "%s", name);
      return true;
   }
   size_t len = 0;
   if (text && strncmp (text, dotted, sizeof dotted - 1) == 0) {
      text += sizeof dotted - 1;
      len = strcspn (text, ".[");
   } else if (text && strncmp (text, bracketed, sizeof bracketed - 1) == 0) {
      text += sizeof bracketed - 1;
      len = strcspn (text, "]");
      len = text[len] == ']' && text[len + 1] == '\0' ? len : 0;
   } else if (text && strncmp (text, "cfg://", 6) != 0) {
      len = strlen (text); /* a plain name, as "handler" takes */
   }
   if (len == 0 || (text[len] != '\0' && text[len] != ']') || len >= size) {
      return _mwatch_cfg_fail (cfg,
                               node->pos,
                               "\"backend\" names the handler the queue writes to: "
                               "cfg://handlers.NAME, or just NAME");
   }
   bson_snprintf (out, size, "%.*s", (int) len, text);
   return true;
}

static mwatch_staged_t *
queue_backend (mwatch_cfg_t *cfg,
               const char *name,
               const mwatch_node_t *node,
               bool reference,
               const mwatch_node_t *section)
{
   char backend[256];
   char message[300];
   size_t saved = _mwatch_cfg_push (cfg, reference ? "backend" : "handler");
   mwatch_staged_t *found = NULL;
   if (!backend_name (cfg, node, reference, backend, sizeof backend)) {
      goto done;
   }
   /* The name as a node of its own, at the place it was written, for the
    * lookup and its errors. */
   mwatch_node_t name_node = {.type = MWATCH_NODE_SCALAR, .pos = node->pos, .text = backend};
   const mwatch_node_pair_t *entry = _mwatch_node_map_find (section, backend);
   const mwatch_node_t *entry_map = entry ? _mwatch_cfg_resolve (cfg, entry->value) : NULL;
   const mwatch_node_pair_t *klass = entry_map ? _mwatch_node_map_find (entry_map, "class") : NULL;
   if (!klass && entry_map) {
      klass = _mwatch_node_map_find (entry_map, FACTORY_KEY);
   }
   const mwatch_node_t *klass_value = klass ? _mwatch_cfg_resolve (cfg, klass->value) : NULL;
   if (strcmp (backend, name) == 0) {
      _mwatch_cfg_fail (cfg, node->pos, "a queue handler cannot be its own backend; name the handler that writes its records");
   } else if (klass_value && klass_value->type == MWATCH_NODE_SCALAR &&
              names_queue (klass_value->text)) {
      _mwatch_cfg_fail (cfg,
                        node->pos,
                        "handler \"%s\" is a queue handler too; a queue's backend must be a "
                        "handler that writes (stream, file, ...)",
                        backend);
   } else if ((found = _mwatch_cfg_lookup (cfg, &cfg->st.handlers, &name_node)) && found->owner) {
      bson_snprintf (message,
                     sizeof message,
                     "handler \"%s\" is already the backend of queue \"%s\"; give each queue its "
                     "own backend",
                     backend,
                     found->owner);
      _mwatch_cfg_fail (cfg, node->pos, "%s", message);
      found = NULL;
   }
done:
   _mwatch_cfg_pop (cfg, saved);
   return found;
}

/* WatchQueue's keyword arguments: setup_queue_handler passes its own on
 * to it, so they are a queue handler's keys too.  Those with no meaning
 * here (doc/configuration.md says why) are read for their type and then
 * left alone. */
typedef struct {
   int64_t maxsize;
   double forced_delay_sec;
   bool no_op_bool;
   int64_t no_op_int;
} watch_queue_args_t;

#define WATCH_QUEUE_FIELDS(a)                                                                \
   {"maxsize", MWATCH_CFG_INT, &(a).maxsize, .min = 0, .max = 1 << 30},                      \
      {"forced_delay_sec", MWATCH_CFG_DOUBLE, &(a).forced_delay_sec, .min = 0, .max = 1e9},  \
      MWATCH_CFG_FIELD ("enable_multiprocessing", MWATCH_CFG_BOOL, &(a).no_op_bool),         \
      {"garbage_collection_rate", MWATCH_CFG_INT, &(a).no_op_int, .min = 1, .max = 1e15}

#define WATCH_QUEUE_CLASSES                                                          \
   "pymongo.watcher.logger.WatchQueue or pymongo.watcher.WatchQueue (ext:// or not)"

/* The value of Python's QueueHandler "queue": a WatchQueue, by its class
 * or as a mapping that makes one ("()") with keyword arguments.  Another
 * queue (queue.Queue) would hand each record on before its operation
 * ends, which mongowatch's queue never does, so it is refused. */
static bool
read_watch_queue (mwatch_cfg_t *cfg, const mwatch_node_t *node, watch_queue_args_t *args)
{
   const mwatch_node_t *factory = node;
   const mwatch_node_t *map = NULL;
   const char *text = NULL;
   size_t saved = _mwatch_cfg_push (cfg, "queue");
   bool ok = true;
   if (node->type == MWATCH_NODE_MAP) {
      const mwatch_cfg_field_t fields[] = {
         MWATCH_CFG_FIELD (FACTORY_KEY, MWATCH_CFG_NODE, &factory),
         WATCH_QUEUE_FIELDS (*args),
         MWATCH_CFG_END,
      };
      map = node;
      factory = NULL;
      ok = _mwatch_cfg_read_fields (cfg, map, fields);
      if (ok && !factory) {
         ok = _mwatch_cfg_fail (cfg, map->pos, "the key \"()\" is required here: " WATCH_QUEUE_CLASSES);
      }
   }
   if (ok && factory->type != MWATCH_NODE_NULL) {
      size_t inner = map ? _mwatch_cfg_push (cfg, FACTORY_KEY) : cfg->path_len;
      ok = _mwatch_cfg_string (cfg, factory, &text);
      const char *bare = ok ? _mwatch_cfg_python_path (text) : NULL;
      if (ok && strcmp (bare, "pymongo.watcher.logger.WatchQueue") != 0 &&
          strcmp (bare, "pymongo.watcher.WatchQueue") != 0) {
         ok = _mwatch_cfg_fail (cfg,
                                factory->pos,
                                "the queue of a queue handler is mongowatch's WatchQueue, which "
                                "holds a record until its operation ends; \"%s\" would not: "
                                "remove \"queue\" or name " WATCH_QUEUE_CLASSES,
                                text);
      }
      _mwatch_cfg_pop (cfg, inner);
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

/* Python's QueueHandler "handlers": the one handler its listener hands
 * records to. */
static const mwatch_node_t *
one_of_handlers (mwatch_cfg_t *cfg, const mwatch_node_t *node)
{
   const mwatch_node_t *seq = NULL;
   size_t saved = _mwatch_cfg_push (cfg, "handlers");
   if (_mwatch_cfg_seq (cfg, node, &seq) && seq->count != 1) {
      _mwatch_cfg_fail (cfg,
                        node->pos,
                        "a queue handler hands its records to one handler, and this list names "
                        "%zu; give each handler a queue of its own",
                        seq->count);
      seq = NULL;
   }
   _mwatch_cfg_pop (cfg, saved);
   return seq ? seq->items[0] : NULL;
}

static mwatch_handler_t *
build_queue (mwatch_cfg_t *cfg,
             const char *name,
             const mwatch_node_t *map,
             mwatch_cfg_common_t *c,
             const mwatch_node_t *section)
{
   const mwatch_node_t *backend_node = NULL;
   const mwatch_node_t *py_backend = NULL;
   const mwatch_node_t *py_handlers = NULL;
   const mwatch_node_t *py_queue = NULL;
   const char *overflow = "block";
   int64_t capacity = 0;
   watch_queue_args_t args = {.maxsize = -1, .forced_delay_sec = -1};
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   int64_t max_bytes = (int64_t) opts.max_bytes;
   const mwatch_node_t *factory = NULL;
   const mwatch_cfg_field_t own[] = {
      MWATCH_CFG_FIELD ("handler", MWATCH_CFG_NODE, &backend_node),
      /* pymongowatch's setup_queue_handler and WatchQueue. */
      MWATCH_CFG_FIELD (FACTORY_KEY, MWATCH_CFG_NODE, &factory),
      MWATCH_CFG_FIELD ("backend", MWATCH_CFG_NODE, &py_backend),
      WATCH_QUEUE_FIELDS (args),
      MWATCH_CFG_FIELD ("register_atexit", MWATCH_CFG_BOOL, &args.no_op_bool),
      /* Python's QueueHandler. */
      MWATCH_CFG_FIELD ("handlers", MWATCH_CFG_NODE, &py_handlers),
      MWATCH_CFG_FIELD ("queue", MWATCH_CFG_NODE, &py_queue),
      {"default_delay_sec", MWATCH_CFG_DOUBLE, &opts.default_delay_sec, .min = 0, .max = 1e9},
      MWATCH_CFG_FIELD ("force_default_delay", MWATCH_CFG_BOOL, &opts.force_default_delay),
      {"capacity", MWATCH_CFG_INT, &capacity, .min = 0, .max = 1 << 30},
      MWATCH_CFG_FIELD ("overflow", MWATCH_CFG_STRING, &overflow),
      {"block_timeout_sec", MWATCH_CFG_DOUBLE, &opts.block_timeout_sec, .min = 0, .max = 1e9},
      {"max_bytes", MWATCH_CFG_INT, &max_bytes, .min = 0, .max = (double) ((int64_t) 1 << 40)},
      {"shutdown_timeout_sec", MWATCH_CFG_DOUBLE, &opts.shutdown_timeout_sec, .min = 0.001,
       .max = 1e9},
      {"stats_interval_sec", MWATCH_CFG_DOUBLE, &opts.stats_interval_sec, .min = 0.001,
       .max = 1e9},
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_handler (cfg, map, c, own) || !read_overflow (cfg, map, overflow, &opts.overflow)) {
      return NULL;
   }
   if (c->formatter && c->formatter->type != MWATCH_NODE_NULL) {
      return _mwatch_cfg_fail_at (cfg,
                                  map,
                                  "formatter",
                                  "a queue handler does not format; set the formatter on its "
                                  "backend handler");
   }
   /* The raw "backend" node: resolving its reference would give the
    * handler's entry, not its name. */
   const mwatch_node_pair_t *raw_backend = _mwatch_node_map_find (map, "backend");
   if ((backend_node != NULL) + (py_backend != NULL) + (py_handlers != NULL) > 1) {
      return _mwatch_cfg_fail_at (cfg,
                                  map,
                                  backend_node ? "handler" : "backend",
                                  "give one of \"handler\" (mongowatch's name), \"backend\" "
                                  "(pymongowatch's) or \"handlers\" (Python's QueueHandler's)");
   }
   if (!backend_node && !py_backend && !py_handlers) {
      _mwatch_cfg_fail (cfg,
                        map->pos,
                        "the key \"handler\" is required here: the name of the handler the "
                        "queue writes to (or pymongowatch's \"backend\")");
      return NULL;
   }
   if (py_handlers && !(backend_node = one_of_handlers (cfg, py_handlers))) {
      return NULL;
   }
   if (py_queue && !read_watch_queue (cfg, py_queue, &args)) {
      return NULL;
   }
   if (args.maxsize >= 0 && capacity > 0) {
      return _mwatch_cfg_fail_at (
         cfg, map, "maxsize", "give \"capacity\" or pymongowatch's \"maxsize\", not both");
   }
   if (args.maxsize > 0) {
      capacity = args.maxsize; /* 0, unbounded in Python, keeps the default bound */
   }
   if (args.forced_delay_sec >= 0) {
      opts.default_delay_sec = args.forced_delay_sec;
      opts.force_default_delay = true;
   }
   mwatch_staged_t *backend = queue_backend (
      cfg, name, py_backend ? raw_backend->value : backend_node, py_backend != NULL, section);
   if (!backend) {
      return NULL;
   }
   opts.capacity = (size_t) capacity;
   opts.max_bytes = (size_t) max_bytes;
   backend->owner = name;
   return mwatch_handler_new_queue (backend->object, &opts);
}

/* ---------------------------------------------------------------- common */

/* Level, formatter and filters, then the handler joins the staging area
 * (which then owns it, even if this fails). */
static bool
finish (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *map, mwatch_handler_t *handler, const mwatch_cfg_common_t *c, size_t index)
{
   _mwatch_staged_add (&cfg->st.handlers, name, handler);
   mwatch_handler_set_name (handler, name);
   mwatch_handler_set_level (handler, c->level);
   if (c->formatter && c->formatter->type != MWATCH_NODE_NULL) {
      size_t saved = _mwatch_cfg_push (cfg, "formatter");
      mwatch_staged_t *formatter = _mwatch_cfg_lookup (cfg, &cfg->st.formatters, c->formatter);
      _mwatch_cfg_pop (cfg, saved);
      if (!formatter) {
         return false;
      }
      mwatch_handler_set_formatter (handler, formatter->object);
   }
   if (c->filters && c->filters->type != MWATCH_NODE_NULL) {
      void **filters;
      size_t count;
      size_t saved = _mwatch_cfg_push (cfg, "filters");
      bool ok = _mwatch_cfg_lookup_all (cfg, &cfg->st.filters, c->filters, &filters, NULL, &count);
      _mwatch_cfg_pop (cfg, saved);
      if (!ok) {
         return false;
      }
      for (size_t i = 0; i < count; i++) {
         mwatch_handler_add_filter (handler, filters[i]);
      }
      bson_free (filters);
   }
   /* An otlp handler's headers carry API keys, a mongodb handler's uri a
    * password: a description may end up in a ticket. */
   static const char *const skip[] = {"class",          "headers",         "uri",
                                      "endpoint",       "logs_endpoint",   "traces_endpoint",
                                      "metrics_endpoint", NULL};
   /* A queue shows its backend by name, and what of pymongowatch's it
    * took: "backend" resolved would show the backend's whole entry. */
   static const char *const queue_skip[] = {"class",
                                            FACTORY_KEY,
                                            "handler",
                                            "backend",
                                            "handlers",
                                            "enable_multiprocessing",
                                            "register_atexit",
                                            "garbage_collection_rate",
                                            NULL};
   _mwatch_cfg_describe (cfg, "handler %s: %s", name, index < N_CLASSES ? classes[index].name : "plugin");
   if (index == PLUGIN_CLASS) {
      const char *klass;
      _mwatch_cfg_string (cfg, _mwatch_node_map_find (map, "class")->value, &klass);
      _mwatch_cfg_describe (cfg, " %s", klass);
   }
   if (is_queue (index)) {
      for (size_t i = 0; i < cfg->st.handlers.count; i++) {
         const mwatch_staged_t *item = &cfg->st.handlers.items[i];
         if (item->owner && strcmp (item->owner, name) == 0) {
            _mwatch_cfg_describe (cfg, " handler %s", item->name);
         }
      }
      /* The last three of queue_skip. */
      for (const char *const *key = queue_skip + 5; *key; key++) {
         if (_mwatch_node_map_find (map, *key)) {
            _mwatch_cfg_describe (cfg, " (%s: no effect)", *key);
         }
      }
   }
   /* A URI (the mongodb handler's, an otlp handler's endpoints) is shown
    * without its password: an http:// URL's user information is one too. */
   for (const char *const *key = skip + 2; !is_queue (index) && *key; key++) {
      const mwatch_node_pair_t *uri = _mwatch_node_map_find (map, *key);
      if (uri && uri->value->type == MWATCH_NODE_SCALAR) {
         char *shown = _mwatch_mongodb_uri_shown (uri->value->text);
         _mwatch_cfg_describe (cfg, " %s %s", *key, shown);
         bson_free (shown);
      }
   }
   _mwatch_cfg_describe_params (cfg, map, is_queue (index) ? queue_skip : skip);
   _mwatch_cfg_describe (cfg, "\n");
   return true;
}

static bool
handler (mwatch_cfg_t *cfg, const char *name, const mwatch_node_t *node, const mwatch_node_t *section, bool queues)
{
   const mwatch_node_t *map = NULL;
   size_t index = PLUGIN_CLASS;
   if (!_mwatch_cfg_map (cfg, node, false, &map) || !class_of (cfg, map, &index)) {
      return false;
   }
   if (is_queue (index) != queues) {
      return true; /* the other pass's */
   }
   mwatch_cfg_common_t c = {.level = MWATCH_LEVEL_NOTSET};
   mwatch_handler_t *built;
   if (index == PLUGIN_CLASS) {
      built = build_plugin (cfg, map, &c);
   } else if (is_queue (index)) {
      built = build_queue (cfg, name, map, &c, section);
   } else {
      built = classes[index].build (cfg, map, &c);
   }
   return built && finish (cfg, name, map, built, &c, index);
}

bool
_mwatch_cfg_handlers (mwatch_cfg_t *cfg, const mwatch_node_t *section)
{
   const mwatch_node_t *map = NULL;
   size_t top = _mwatch_cfg_push (cfg, "handlers");
   bool ok = !section || _mwatch_cfg_map (cfg, section, true, &map);
   for (int pass = 0; ok && section && map && pass < 2; pass++) {
      for (size_t i = 0; ok && i < map->count; i++) {
         size_t saved = _mwatch_cfg_push (cfg, map->pairs[i].key);
         ok = handler (cfg, map->pairs[i].key, map->pairs[i].value, map, pass == 1);
         _mwatch_cfg_pop (cfg, saved);
      }
   }
   _mwatch_cfg_pop (cfg, top);
   return ok;
}
