/* The handler class syslog5424 (mongowatch.handlers.Syslog5424Handler):
 * the remote RFC 5424 syslog handler from its keys, each checked here so
 * that an error names the key it is about. */
#include "config-schema-private.h"
#include "handler-syslog5424-private.h"

#include <string.h>

mwatch_handler_t *
_mwatch_cfg_build_syslog5424 (mwatch_cfg_t *cfg, const mwatch_node_t *map, mwatch_cfg_common_t *c)
{
   mwatch_syslog5424_opts_t opts;
   const char *transport = NULL;
   const mwatch_node_t *facility = NULL;
   int64_t max_length = MWATCH_SYSLOG5424_DEFAULT_MAX_LENGTH;
   const char *why;

   mwatch_syslog5424_opts_init (&opts);
   const mwatch_cfg_field_t own[] = {
      {"address", MWATCH_CFG_STRING, &opts.address, .required = true},
      MWATCH_CFG_FIELD ("transport", MWATCH_CFG_STRING, &transport),
      MWATCH_CFG_FIELD ("facility", MWATCH_CFG_NODE, &facility),
      MWATCH_CFG_FIELD ("hostname", MWATCH_CFG_STRING, &opts.hostname),
      MWATCH_CFG_FIELD ("app_name", MWATCH_CFG_STRING, &opts.app_name),
      MWATCH_CFG_FIELD ("sd_id", MWATCH_CFG_STRING, &opts.sd_id),
      {"max_length", MWATCH_CFG_INT, &max_length, .min = MWATCH_5424_MIN_LENGTH, .max = 16 << 20},
      MWATCH_CFG_FIELD ("bom", MWATCH_CFG_BOOL, &opts.bom),
      {"retry_timeout_sec", MWATCH_CFG_DOUBLE, &opts.retry_timeout_sec, .min = 0, .max = 3600},
      {"backoff_max_sec", MWATCH_CFG_DOUBLE, &opts.backoff_max_sec, .min = 0, .max = 3600},
      MWATCH_CFG_END,
   };
   if (!_mwatch_cfg_read_handler (cfg, map, c, own)) {
      return NULL;
   }
   /* A path is a unix socket, anything else a host: UDP unless told. */
   opts.transport = opts.address[0] == '/' ? MWATCH_SYSLOG5424_UNIX : MWATCH_SYSLOG5424_UDP;
   if (transport && !_mwatch_syslog5424_transport_parse (transport, &opts.transport)) {
      static const char *const known[] = {"udp", "tcp", "unix", "unix_stream", NULL};
      char hint[96];
      _mwatch_cfg_did_you_mean (hint, sizeof hint, transport, known);
      _mwatch_cfg_fail_key (cfg, map, "transport",
                            "unknown transport \"%s\"%s; use udp, tcp (RFC 6587 octet counting), "
                            "unix (a datagram socket) or unix_stream",
                            transport, hint);
      return NULL;
   }
   bool unix_socket =
      opts.transport == MWATCH_SYSLOG5424_UNIX || opts.transport == MWATCH_SYSLOG5424_UNIX_STREAM;
   if (unix_socket != (opts.address[0] == '/')) {
      return _mwatch_cfg_fail_at (cfg, map, "address",
                                  unix_socket ? "a unix transport takes the absolute path of the "
                                                "daemon's socket"
                                              : "udp and tcp take HOST:PORT; a path needs "
                                                "transport unix or unix_stream");
   }
   bool datagram =
      opts.transport == MWATCH_SYSLOG5424_UDP || opts.transport == MWATCH_SYSLOG5424_UNIX;
   if (datagram && max_length > 65507) {
      _mwatch_cfg_fail_key (cfg, map, "max_length",
                            "%lld bytes do not fit in a datagram: at most 65507, or use a stream "
                            "transport (tcp, unix_stream)",
                            (long long) max_length);
      return NULL;
   }
   opts.max_length = (size_t) max_length;
   if (facility && facility->type != MWATCH_NODE_NULL &&
       !_mwatch_cfg_facility (cfg, facility, &opts.facility)) {
      return NULL;
   }
   if (opts.sd_id && !_mwatch_5424_check_sd_id (opts.sd_id, &why)) {
      _mwatch_cfg_fail_key (cfg, map, "sd_id", "\"%s\": %s", opts.sd_id, why);
      return NULL;
   }
   if (opts.hostname && *opts.hostname &&
       !_mwatch_5424_check_header_field (opts.hostname, MWATCH_5424_HOSTNAME_MAX, &why)) {
      _mwatch_cfg_fail_key (cfg, map, "hostname", "\"%s\": %s", opts.hostname, why);
      return NULL;
   }
   if (opts.app_name && *opts.app_name &&
       !_mwatch_5424_check_header_field (opts.app_name, MWATCH_5424_APP_NAME_MAX, &why)) {
      _mwatch_cfg_fail_key (cfg, map, "app_name", "\"%s\": %s", opts.app_name, why);
      return NULL;
   }
   bson_error_t err;
   mwatch_handler_t *handler = mwatch_handler_new_syslog5424 (&opts, &err);
   if (!handler) {
      _mwatch_cfg_fail_at (cfg, map, "address", err.message);
      _mwatch_config_error_cause (cfg->error, &err);
   }
   return handler;
}
