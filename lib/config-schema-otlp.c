/* The "otlp" handler class (mongowatch.handlers.OTLPHandler): the
 * OpenTelemetry handler from its keys, each checked here so that an error
 * names the file, the place and the key. */
#include "config-schema-private.h"
#include "handler-otlp-private.h"
#include "watch-secrets-private.h"

#include <string.h>

/* A mapping of names to scalar values (resource attributes, headers) as
 * pairs name, value, ..., NULL: a new array of the tree's strings, for
 * bson_free; NULL for an absent or null key. */
static bool
read_pairs (mwatch_cfg_t *cfg, const char *key, const mwatch_node_t *node, const char ***out)
{
   const mwatch_node_t *m = NULL;
   *out = NULL;
   if (!node || node->type == MWATCH_NODE_NULL) {
      return true;
   }
   size_t saved = _mwatch_cfg_push (cfg, key);
   bool ok = _mwatch_cfg_map (cfg, node, true, &m);
   if (ok && m) {
      const char **pairs = bson_malloc0 ((2 * m->count + 1) * sizeof *pairs);
      for (size_t i = 0; ok && i < m->count; i++) {
         size_t inner = _mwatch_cfg_push (cfg, m->pairs[i].key);
         const char *value = NULL;
         if (!*m->pairs[i].key) {
            ok = _mwatch_cfg_fail (cfg, m->pairs[i].pos, "an empty name is not allowed here");
         } else {
            ok = _mwatch_cfg_string (cfg, m->pairs[i].value, &value);
         }
         const char *fault = ok && strcmp (key, "headers") == 0
                                ? _mwatch_otlp_header_fault (m->pairs[i].key, value)
                                : NULL;
         if (fault) {
            ok = _mwatch_cfg_fail (cfg, m->pairs[i].pos, "%s", fault);
         }
         pairs[2 * i] = m->pairs[i].key;
         pairs[2 * i + 1] = value;
         _mwatch_cfg_pop (cfg, inner);
      }
      if (ok) {
         *out = pairs;
      } else {
         bson_free (pairs);
      }
   }
   _mwatch_cfg_pop (cfg, saved);
   return ok;
}

mwatch_handler_t *
_mwatch_cfg_build_otlp (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   const mwatch_node_t *attributes = NULL, *headers = NULL;
   int64_t queue = (int64_t) opts.max_queue_size;
   int64_t queue_bytes = (int64_t) opts.max_queue_bytes;
   int64_t batch = (int64_t) opts.max_batch_size;
   const mwatch_cfg_field_t own[] = {
      MWATCH_CFG_FIELD ("endpoint", MWATCH_CFG_STRING, &opts.endpoint),
      MWATCH_CFG_FIELD ("logs_endpoint", MWATCH_CFG_STRING, &opts.logs_endpoint),
      MWATCH_CFG_FIELD ("traces_endpoint", MWATCH_CFG_STRING, &opts.traces_endpoint),
      MWATCH_CFG_FIELD ("spans", MWATCH_CFG_BOOL, &opts.spans),
      MWATCH_CFG_FIELD ("service_name", MWATCH_CFG_STRING, &opts.service_name),
      MWATCH_CFG_FIELD ("resource_attributes", MWATCH_CFG_NODE, &attributes),
      MWATCH_CFG_FIELD ("headers", MWATCH_CFG_NODE, &headers),
      {"max_queue_size", MWATCH_CFG_INT, &queue, .min = 1, .max = 10000000},
      {"max_queue_bytes", MWATCH_CFG_INT, &queue_bytes, .min = 1024, .max = 1e12},
      {"max_batch_size", MWATCH_CFG_INT, &batch, .min = 1, .max = 100000},
      {"schedule_delay_sec", MWATCH_CFG_DOUBLE, &opts.schedule_delay_sec, .min = 0, .max = 3600},
      {"export_timeout_sec", MWATCH_CFG_DOUBLE, &opts.export_timeout_sec, .min = 0.001, .max = 3600},
      {"backoff_max_sec", MWATCH_CFG_DOUBLE, &opts.backoff_max_sec, .min = 0.001, .max = 3600},
      {"shutdown_timeout_sec", MWATCH_CFG_DOUBLE, &opts.shutdown_timeout_sec, .min = 0.001, .max = 3600},
      MWATCH_CFG_FIELD ("metrics", MWATCH_CFG_BOOL, &opts.metrics),
      {"metrics_interval_sec", MWATCH_CFG_DOUBLE, &opts.metrics_interval_sec, .min = 0.001, .max = 86400},
      MWATCH_CFG_FIELD ("metrics_endpoint", MWATCH_CFG_STRING, &opts.metrics_endpoint),
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_handler (cfg, map, c, own)) {
      return NULL;
   }
   const char **attribute_pairs = NULL, **header_pairs = NULL;
   if (!read_pairs (cfg, "resource_attributes", attributes, &attribute_pairs) ||
       !read_pairs (cfg, "headers", headers, &header_pairs)) {
      bson_free (attribute_pairs);
      return NULL;
   }
   opts.max_queue_size = (size_t) queue;
   opts.max_queue_bytes = (size_t) queue_bytes;
   opts.max_batch_size = (size_t) batch;
   opts.resource_attributes = attribute_pairs;
   opts.headers = header_pairs;

   bson_error_t err;
   const char *key;
   mwatch_handler_t *handler = _mwatch_otlp_handler_new (&opts, &key, &err);
   if (!handler) {
      /* An endpoint's error quotes it: not its password. */
      char *masked = _mwatch_mask_credentials (err.message);
      _mwatch_cfg_fail_at (cfg, map, key, masked ? masked : err.message);
      bson_free (masked);
      _mwatch_config_error_cause (cfg->error, &err);
   }
   bson_free (attribute_pairs);
   bson_free (header_pairs);
   return handler;
}
