/* Internal: the RFC 5424 syslog handler (handler-syslog5424.c, the
 * transports) and its message encoding (handler-syslog5424-encode.c,
 * pure, unit-tested on its own). */
#ifndef MWATCH_HANDLER_SYSLOG5424_PRIVATE_H
#define MWATCH_HANDLER_SYSLOG5424_PRIVATE_H

#include "mongowatch.h"

/* What a handler writes into every message's header, fixed at its
 * construction and checked there (_mwatch_5424_check_*). */
typedef struct {
   int facility;
   const char *hostname; /* NULL or "": NILVALUE */
   const char *app_name; /* NULL or "": NILVALUE */
   const char *sd_id;    /* the SD-ID of the watch fields */
   size_t max_length;    /* the longest message, framing apart */
   bool bom;             /* MSG starts with the UTF-8 BOM (RFC 5424 6.4) */
} mwatch_5424_header_t;

/* The limits of RFC 5424's header fields (section 6). */
#define MWATCH_5424_HOSTNAME_MAX 255
#define MWATCH_5424_APP_NAME_MAX 48
#define MWATCH_5424_MSGID_MAX 32
#define MWATCH_5424_SD_NAME_MAX 32
/* Every receiver must take a message this long (RFC 5424 6.1). */
#define MWATCH_5424_MIN_LENGTH 480

/* Appends to `out` the RFC 5424 message for `record`:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID NAME="VALUE"...] BOM MSG
 * PRI from the header's facility and the record's level, TIMESTAMP the
 * record's creation (UTC, microseconds), PROCID `pid`, MSGID the
 * record's Operation field (NILVALUE without one), one SD-PARAM per
 * top-level field of its message not starting with '_' (NILVALUE
 * without a message), MSG the formatted line `msg`.  Longer than
 * max_length, MSG is cut first, then the longest SD-PARAM values, each
 * ending with the truncation marker (see the function).  False, with
 * `out` as it was, when even that cannot make it fit.  `scratch` holds
 * the values' text meanwhile: a buffer the caller reuses, so that a warm
 * handler allocates nothing. */
bool
_mwatch_5424_encode (mwatch_buf_t *out,
                     mwatch_buf_t *scratch,
                     const mwatch_5424_header_t *header,
                     const mwatch_record_t *record,
                     const char *msg,
                     size_t msg_len,
                     int pid);

/* Appends `len` bytes of `value` as an SD-PARAM's value: '"', '\' and ']'
 * escaped with '\' (RFC 5424 6.3.3), ill-formed UTF-8 as U+FFFD. */
void
_mwatch_5424_escape_value (mwatch_buf_t *out, const char *value, size_t len);

/* Appends a field's name as a PARAM-NAME: 1 to 32 printable US-ASCII
 * characters but '=', ' ', ']' and '"'; any other byte becomes '_', a
 * longer name is cut at 32, an empty one is "_". */
void
_mwatch_5424_param_name (mwatch_buf_t *out, const char *name);

/* Whether `sd_id` can be a private SD-ID: NAME@ENTERPRISE-NUMBER, NAME
 * of SD-NAME characters without '@', the number digits and dots
 * (RFC 5424 7.2.2), 32 characters at most.  Else false with `why`. */
bool
_mwatch_5424_check_sd_id (const char *sd_id, const char **why);

/* Whether `text` is 1 to `max` printable US-ASCII characters (HOSTNAME,
 * APP-NAME).  Else false with `why`. */
bool
_mwatch_5424_check_header_field (const char *text, size_t max, const char **why);

/* Appends `len` bytes of `msg` to `out` in the octet-counting frame of
 * RFC 6587 3.4.1: "LEN MSG", LEN the decimal byte count of MSG. */
void
_mwatch_5424_frame (mwatch_buf_t *out, const char *msg, size_t len);

/* The transport named `name` (udp, tcp, unix, unix_stream): false when
 * none is (handler-syslog5424.c). */
bool
_mwatch_syslog5424_transport_parse (const char *name, mwatch_syslog5424_transport_t *out);

/* Sets how many frames, and how many bytes of them, `handler` (a
 * syslog5424 handler) keeps while forks cut its retries short: 65,536 and
 * 32 MiB unless a test makes them smaller. */
void
_mwatch_syslog5424_set_pending_bound (mwatch_handler_t *handler, size_t records, size_t bytes);

#endif /* MWATCH_HANDLER_SYSLOG5424_PRIVATE_H */
