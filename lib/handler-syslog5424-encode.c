/* RFC 5424 messages for the remote syslog handler: the header, the watch
 * fields as STRUCTURED-DATA, the formatted line as MSG, the truncation
 * rules, and RFC 6587's octet-counting frame.  Pure: no I/O, no state. */
#include "handler-syslog5424-private.h"
#include "syslog-socket-private.h"
#include "json-private.h"
#include "message-render-private.h"

#include <string.h>

/* The longest a message's SD-PARAMs are shortened, round after round,
 * before the record is given up: one per field is the rule, a few more
 * when escaping makes a value longer than its cut. */
#define SHORTEN_ROUNDS 64

static const char bom[] = "\xef\xbb\xbf";
#define BOM_LEN 3

/* What each byte may be, looked up rather than compared: a byte an SD-NAME
 * (a PARAM-NAME, an SD-ID) may have, printable US-ASCII but '=', ' ', ']'
 * and '"' (RFC 5424 6.3.2, 6.3.3); and a byte an SD-PARAM value takes as
 * it is, ASCII but '"', '\' and ']'. */
enum { NAME_BYTE = 1, PLAIN_VALUE_BYTE = 2 };
static const uint8_t byte_class[256] = {
   [0 ... 32] = PLAIN_VALUE_BYTE,                   /* controls, ' ' */
   ['!'] = NAME_BYTE | PLAIN_VALUE_BYTE,
   ['"'] = 0,
   ['#' ... '<'] = NAME_BYTE | PLAIN_VALUE_BYTE,
   ['='] = PLAIN_VALUE_BYTE,
   ['>' ... '['] = NAME_BYTE | PLAIN_VALUE_BYTE,
   ['\\'] = NAME_BYTE,
   [']'] = 0,
   ['^' ... '~'] = NAME_BYTE | PLAIN_VALUE_BYTE,
   [127] = PLAIN_VALUE_BYTE,
};
static bool
is_printusascii (unsigned char c)
{
   return c >= 33 && c <= 126;
}

static bool
is_sd_name_char (unsigned char c)
{
   return byte_class[c] & NAME_BYTE;
}

/* Bytes an SD-PARAM value takes as they are. */
static bool
is_plain_value_byte (uint8_t c)
{
   return byte_class[c] & PLAIN_VALUE_BYTE;
}

void
_mwatch_5424_escape_value (mwatch_buf_t *out, const char *value, size_t len)
{
   const uint8_t *s = (const uint8_t *) value;
   size_t i = 0;
   while (i < len) {
      /* Runs of plain bytes are copied whole. */
      size_t run = i;
      while (run < len && is_plain_value_byte (s[run])) {
         run++;
      }
      _mwatch_buf_put (out, value + i, run - i);
      i = run;
      if (i == len) {
         break;
      }
      uint8_t c = s[i];
      if (c < 0x80) {
         char pair[2] = {'\\', (char) c};
         _mwatch_buf_put (out, pair, 2);
         i++;
         continue;
      }
      size_t skip;
      size_t n = _mwatch_utf8_next (s + i, len - i, &skip);
      if (n == 0) {
         MWATCH_BUF_PUT_LIT (out, "\xef\xbf\xbd");
         i += skip;
      } else {
         _mwatch_buf_put (out, value + i, n);
         i += n;
      }
   }
}

void
_mwatch_5424_param_name (mwatch_buf_t *out, const char *name)
{
   /* Field names are nearly always valid names already: one scan, one
    * copy. */
   size_t ok = 0;
   while (ok < MWATCH_5424_SD_NAME_MAX && name[ok] && is_sd_name_char ((unsigned char) name[ok])) {
      ok++;
   }
   if (ok > 0 && (name[ok] == '\0' || ok == MWATCH_5424_SD_NAME_MAX)) {
      _mwatch_buf_put (out, name, ok);
      return;
   }
   size_t n = 0;
   for (; name[n] && n < MWATCH_5424_SD_NAME_MAX; n++) {
      unsigned char c = (unsigned char) name[n];
      _mwatch_buf_putc (out, is_sd_name_char (c) ? (char) c : '_');
   }
   if (n == 0) {
      _mwatch_buf_putc (out, '_');
   }
}

bool
_mwatch_5424_check_sd_id (const char *sd_id, const char **why)
{
   const char *at = sd_id ? strchr (sd_id, '@') : NULL;
   size_t len = sd_id ? strlen (sd_id) : 0;
   if (len == 0 || len > MWATCH_5424_SD_NAME_MAX) {
      *why = "an SD-ID has 1 to 32 characters";
      return false;
   }
   for (size_t i = 0; i < len; i++) {
      if (!is_sd_name_char ((unsigned char) sd_id[i])) {
         *why = "an SD-ID has printable US-ASCII characters only, and no space, '=', ']' or '\"'";
         return false;
      }
   }
   /* A name without '@' is reserved to IANA (timeQuality, origin, meta). */
   if (!at || at == sd_id) {
      *why = "a private SD-ID is NAME@ENTERPRISE-NUMBER (e.g. mongowatch@32473); names without "
             "'@' are IANA's";
      return false;
   }
   const char *pen = at + 1;
   if (!*pen || strspn (pen, "0123456789.") != strlen (pen) || pen[0] == '.' ||
       pen[strlen (pen) - 1] == '.' || strstr (pen, "..")) {
      *why = "after '@' comes a private enterprise number: digits, or digits and dots (e.g. "
             "32473)";
      return false;
   }
   return true;
}

bool
_mwatch_5424_check_header_field (const char *text, size_t max, const char **why)
{
   size_t len = strlen (text);
   if (len == 0 || len > max) {
      *why = max == MWATCH_5424_HOSTNAME_MAX ? "a HOSTNAME has 1 to 255 characters"
                                              : "an APP-NAME has 1 to 48 characters";
      return false;
   }
   for (size_t i = 0; i < len; i++) {
      if (!is_printusascii ((unsigned char) text[i])) {
         *why = "printable US-ASCII characters only, no space";
         return false;
      }
   }
   return true;
}

void
_mwatch_5424_frame (mwatch_buf_t *out, const char *msg, size_t len)
{
   _mwatch_text_uint (out, len, 1);
   _mwatch_buf_putc (out, ' ');
   _mwatch_buf_put (out, msg, len);
}

/* A header field, or NILVALUE when there is none. */
static void
put_field (mwatch_buf_t *out, const char *text)
{
   if (text && *text) {
      mwatch_buf_append_str (out, text);
   } else {
      _mwatch_buf_putc (out, '-');
   }
   _mwatch_buf_putc (out, ' ');
}

/* "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID " */
static void
put_header (mwatch_buf_t *out,
            const mwatch_5424_header_t *header,
            const mwatch_record_t *record,
            int pid)
{
   _mwatch_buf_putc (out, '<');
   _mwatch_text_uint (
      out, (uint64_t) (header->facility * 8 + _mwatch_syslog_severity (record->level)), 1);
   MWATCH_BUF_PUT_LIT (out, ">1 ");
   if (record->created > 0) {
      _mwatch_text_datetime (out, record->created);
      _mwatch_buf_putc (out, ' ');
   } else {
      MWATCH_BUF_PUT_LIT (out, "- ");
   }
   put_field (out, header->hostname);
   put_field (out, header->app_name);
   _mwatch_text_uint (out, (uint64_t) (pid > 0 ? pid : 0), 1);
   _mwatch_buf_putc (out, ' ');
   /* MSGID: the operation ("find", "insert_many"), which a relay can
    * route on; any byte a MSGID may not have becomes '_'. */
   mwatch_value_t op;
   if (record->watch && mwatch_message_get (record->watch, "Operation", &op) &&
       op.type == MWATCH_TYPE_UTF8 && op.value.v_utf8.len > 0) {
      size_t n = op.value.v_utf8.len < MWATCH_5424_MSGID_MAX ? op.value.v_utf8.len
                                                              : MWATCH_5424_MSGID_MAX;
      for (size_t i = 0; i < n; i++) {
         unsigned char c = (unsigned char) op.value.v_utf8.str[i];
         _mwatch_buf_putc (out, is_printusascii (c) ? (char) c : '_');
      }
      _mwatch_buf_putc (out, ' ');
   } else {
      MWATCH_BUF_PUT_LIT (out, "- ");
   }
}

/* One SD-PARAM: its name (the message's key) and where its value's text
 * is in the values buffer; a shortening round appends the shorter text
 * there and moves the offset. */
typedef struct {
   const char *key;
   size_t off;
   size_t len;
   size_t removed; /* bytes of the value cut so far */
   size_t mark;    /* length of the marker it ends with */
} param_t;

/* Records seldom have more fields: no allocation for them. */
#define PARAMS_ON_STACK 48

typedef struct {
   param_t *items;
   size_t n;
   size_t cap;
   mwatch_buf_t *values;
   param_t stack[PARAMS_ON_STACK];
} params_t;

static void
params_collect (params_t *params, const mwatch_message_t *msg, mwatch_buf_t *values)
{
   mwatch_message_iter_t iter;
   const char *key;
   mwatch_value_t value;

   params->items = params->stack;
   params->n = 0;
   params->cap = PARAMS_ON_STACK;
   params->values = values;
   mwatch_buf_clear (values);
   if (!msg) {
      return;
   }
   mwatch_message_iter_init (&iter, msg);
   while (mwatch_message_iter_next (&iter, &key, &value)) {
      /* Fields whose names start with '_' belong to filters and handlers
       * (the renderings leave them out too). */
      if (key[0] == '_') {
         continue;
      }
      if (params->n == params->cap) {
         param_t *more = bson_malloc (2 * params->cap * sizeof *more);
         memcpy (more, params->items, params->n * sizeof *more);
         if (params->items != params->stack) {
            bson_free (params->items);
         }
         params->items = more;
         params->cap *= 2;
      }
      param_t *p = &params->items[params->n++];
      p->key = key;
      p->off = values->len;
      p->removed = 0;
      p->mark = 0;
      /* Strings as they are, documents and arrays as relaxed JSON, times
       * as ISO-8601 UTC, null as the empty string: a CSV cell's text. */
      _mwatch_render_value_csv (values, &value);
      p->len = values->len - p->off;
   }
}

static void
params_destroy (params_t *params)
{
   if (params->items != params->stack) {
      bson_free (params->items);
   }
}

static const char *
param_value (const params_t *params, const param_t *p)
{
   return params->values->data + p->off;
}

/* "[SD-ID NAME="VALUE" ...]", or NILVALUE without parameters. */
static void
put_sd (mwatch_buf_t *out, const char *sd_id, const params_t *params)
{
   if (params->n == 0) {
      _mwatch_buf_putc (out, '-');
      return;
   }
   _mwatch_buf_putc (out, '[');
   mwatch_buf_append_str (out, sd_id);
   for (size_t i = 0; i < params->n; i++) {
      const param_t *p = &params->items[i];
      _mwatch_buf_putc (out, ' ');
      _mwatch_5424_param_name (out, p->key);
      MWATCH_BUF_PUT_LIT (out, "=\"");
      _mwatch_5424_escape_value (out, p->len ? param_value (params, p) : "", p->len);
      _mwatch_buf_putc (out, '"');
   }
   _mwatch_buf_putc (out, ']');
}

/* The longest text of `len` bytes that keeps at most `keep` bytes and
 * ends at a character boundary. */
static size_t
utf8_cut (const char *text, size_t len, size_t keep)
{
   if (keep >= len) {
      return len;
   }
   while (keep > 0 && ((unsigned char) text[keep] & 0xC0) == 0x80) {
      keep--;
   }
   return keep;
}

static size_t
put_mark (mwatch_buf_t *out, size_t removed)
{
   char mark[MWATCH_TRUNCATED_MARK_MAX];
   size_t n = (size_t) bson_snprintf (mark, sizeof mark, MWATCH_TRUNCATED_MARK, removed);
   _mwatch_buf_put (out, mark, n);
   return n;
}

/* The bytes `c` takes once escaped: '"', '\' and ']' two. */
static size_t
escaped_cost (char c)
{
   return c == '"' || c == '\\' || c == ']' ? 2 : 1;
}

/* Cuts the longest SD-PARAM value (its marker first, when it was cut
 * before) so that its escaped text is at least `cut` bytes shorter, at a
 * character boundary, and ends it with a marker counting all it lost.
 * False when no value is long enough to gain anything. */
static bool
shorten_longest (params_t *params, size_t cut)
{
   param_t *longest = NULL;
   for (size_t i = 0; i < params->n; i++) {
      param_t *p = &params->items[i];
      size_t text = p->len - p->mark;
      if (text > 0 && (p->mark > 0 || text > MWATCH_TRUNCATED_MARK_MAX) &&
          (!longest || p->len > longest->len)) {
         longest = p;
      }
   }
   if (!longest) {
      return false;
   }
   size_t text = longest->len - longest->mark;
   /* Room first: appending below must not move the text it copies. */
   _mwatch_buf_grow (params->values, text + MWATCH_TRUNCATED_MARK_MAX);
   const char *data = param_value (params, longest);
   size_t escaped = 0;
   for (size_t i = 0; i < text; i++) {
      escaped += escaped_cost (data[i]);
   }
   /* The longest prefix whose escaped text leaves room for the cut and a
    * marker (whose ']' is escaped too). */
   size_t want = cut + MWATCH_TRUNCATED_MARK_MAX + 1;
   size_t budget = want < escaped ? escaped - want : 0;
   size_t keep = 0;
   for (size_t used = 0; keep < text && used + escaped_cost (data[keep]) <= budget; keep++) {
      used += escaped_cost (data[keep]);
   }
   keep = utf8_cut (data, text, keep);
   longest->removed += text - keep;
   size_t off = params->values->len;
   _mwatch_buf_put (params->values, data, keep);
   longest->mark = put_mark (params->values, longest->removed);
   longest->off = off;
   longest->len = params->values->len - off;
   return true;
}

bool
_mwatch_5424_encode (mwatch_buf_t *out,
                     mwatch_buf_t *scratch,
                     const mwatch_5424_header_t *header,
                     const mwatch_record_t *record,
                     const char *msg,
                     size_t msg_len,
                     int pid)
{
   size_t start = out->len;
   size_t max = header->max_length;
   params_t params;
   bool fits = false;

   put_header (out, header, record, pid);
   size_t head_len = out->len - start;
   params_collect (&params, record->watch, scratch);
   put_sd (out, header->sd_id, &params);
   size_t sd_end = out->len;
   /* " " and the BOM before MSG. */
   size_t extra = msg_len > 0 ? 1 + (header->bom ? BOM_LEN : 0) : 0;

   if (sd_end - start + extra + msg_len <= max) {
      fits = true;
   } else if (sd_end - start + extra + MWATCH_TRUNCATED_MARK_MAX < max) {
      /* MSG is cut first, at a character boundary, to what room is left. */
      size_t room = max - (sd_end - start) - extra - MWATCH_TRUNCATED_MARK_MAX;
      size_t keep = utf8_cut (msg, msg_len, room);
      _mwatch_buf_putc (out, ' ');
      if (header->bom) {
         _mwatch_buf_put (out, bom, BOM_LEN);
      }
      _mwatch_buf_put (out, msg, keep);
      put_mark (out, msg_len - keep);
      params_destroy (&params);
      return true;
   } else {
      /* No room left for MSG: it goes, and the longest values are cut
       * until the rest fits. */
      msg_len = 0;
      fits = sd_end - start <= max;
      for (int round = 0; round < SHORTEN_ROUNDS && !fits; round++) {
         size_t excess = out->len - start - max;
         if (!shorten_longest (&params, excess)) {
            break;
         }
         out->len = start + head_len;
         put_sd (out, header->sd_id, &params);
         fits = out->len - start <= max;
      }
   }
   params_destroy (&params);
   if (!fits) {
      out->len = start;
      if (out->data) {
         out->data[start] = '\0';
      }
      return false;
   }
   if (msg_len > 0) {
      _mwatch_buf_putc (out, ' ');
      if (header->bom) {
         _mwatch_buf_put (out, bom, BOM_LEN);
      }
      _mwatch_buf_put (out, msg, msg_len);
   }
   return true;
}
