/* BSON as compact relaxed extended JSON v2, element by element through
 * libbson's iterator: every type, any document, depth bounded. */
#include "json-private.h"

#include <string.h>

/* bson_date_t milliseconds of 9999-12-31T23:59:59.999Z: later (and negative)
 * dates have no four-digit year, so extended JSON writes them as numbers. */
#define MAX_ISO_DATE_MS INT64_C (253402300799999)

static const char hex_digits[] = "0123456789abcdef";

static void
write_value (mwatch_buf_t *out, const bson_value_t *v, int depth);

static void
write_doc (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array, int depth)
{
   bson_iter_t iter;

   if (depth >= MWATCH_JSON_MAX_DEPTH) {
      MWATCH_BUF_PUT_LIT (out, "\"...\"");
      return;
   }
   _mwatch_buf_putc (out, is_array ? '[' : '{');
   if (bson_iter_init_from_data (&iter, data, len)) {
      bool first = true;
      while (bson_iter_next (&iter)) {
         if (!first) {
            _mwatch_buf_putc (out, ',');
         }
         first = false;
         if (!is_array) {
            _mwatch_json_string (out, bson_iter_key (&iter), bson_iter_key_len (&iter));
            _mwatch_buf_putc (out, ':');
         }
         write_value (out, bson_iter_value (&iter), depth + 1);
      }
   }
   _mwatch_buf_putc (out, is_array ? ']' : '}');
}

static void
write_base64 (mwatch_buf_t *out, const uint8_t *data, size_t len)
{
   static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

   for (size_t i = 0; i < len; i += 3) {
      size_t rest = len - i;
      uint32_t bits = (uint32_t) data[i] << 16;
      bits |= rest > 1 ? (uint32_t) data[i + 1] << 8 : 0;
      bits |= rest > 2 ? data[i + 2] : 0;
      char quad[4] = {
         alphabet[bits >> 18],
         alphabet[(bits >> 12) & 63],
         rest > 1 ? alphabet[(bits >> 6) & 63] : '=',
         rest > 2 ? alphabet[bits & 63] : '=',
      };
      _mwatch_buf_put (out, quad, 4);
   }
}

static void
write_oid (mwatch_buf_t *out, const bson_oid_t *oid)
{
   char hex[25];
   bson_oid_to_string (oid, hex);
   MWATCH_BUF_PUT_LIT (out, "{\"$oid\":\"");
   _mwatch_buf_put (out, hex, 24);
   MWATCH_BUF_PUT_LIT (out, "\"}");
}

/* The shape of most extended JSON wrappers: {"$code":"..."} and the like. */
static void
write_wrapped (mwatch_buf_t *out,
               const char *prefix,
               const char *str,
               size_t len,
               const char *suffix)
{
   mwatch_buf_append_str (out, prefix);
   _mwatch_json_string (out, str, len);
   mwatch_buf_append_str (out, suffix);
}

static void
write_date (mwatch_buf_t *out, int64_t ms)
{
   if (ms >= 0 && ms <= MAX_ISO_DATE_MS) {
      MWATCH_BUF_PUT_LIT (out, "{\"$date\":\"");
      _mwatch_text_datetime_ms (out, ms);
      MWATCH_BUF_PUT_LIT (out, "\"}");
   } else {
      MWATCH_BUF_PUT_LIT (out, "{\"$date\":{\"$numberLong\":\"");
      _mwatch_json_int64 (out, ms);
      MWATCH_BUF_PUT_LIT (out, "\"}}");
   }
}

static void
write_value (mwatch_buf_t *out, const bson_value_t *v, int depth)
{
   switch (v->value_type) {
   case BSON_TYPE_DOUBLE:
      _mwatch_json_double (out, v->value.v_double);
      break;
   case BSON_TYPE_UTF8:
      _mwatch_json_string (out, v->value.v_utf8.str, v->value.v_utf8.len);
      break;
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY:
      write_doc (out,
                 v->value.v_doc.data,
                 v->value.v_doc.data_len,
                 v->value_type == BSON_TYPE_ARRAY,
                 depth);
      break;
   case BSON_TYPE_BINARY: {
      uint8_t subtype = (uint8_t) v->value.v_binary.subtype;
      char sub[2] = {hex_digits[subtype >> 4], hex_digits[subtype & 0xF]};
      MWATCH_BUF_PUT_LIT (out, "{\"$binary\":{\"base64\":\"");
      write_base64 (out, v->value.v_binary.data, v->value.v_binary.data_len);
      MWATCH_BUF_PUT_LIT (out, "\",\"subType\":\"");
      _mwatch_buf_put (out, sub, 2);
      MWATCH_BUF_PUT_LIT (out, "\"}}");
      break;
   }
   case BSON_TYPE_UNDEFINED:
      MWATCH_BUF_PUT_LIT (out, "{\"$undefined\":true}");
      break;
   case BSON_TYPE_OID:
      write_oid (out, &v->value.v_oid);
      break;
   case BSON_TYPE_BOOL:
      mwatch_buf_append_str (out, v->value.v_bool ? "true" : "false");
      break;
   case BSON_TYPE_DATE_TIME:
      write_date (out, v->value.v_datetime);
      break;
   case BSON_TYPE_REGEX:
      write_wrapped (out,
                     "{\"$regularExpression\":{\"pattern\":",
                     v->value.v_regex.regex,
                     strlen (v->value.v_regex.regex),
                     ",\"options\":");
      write_wrapped (
         out, "", v->value.v_regex.options, strlen (v->value.v_regex.options), "}}");
      break;
   case BSON_TYPE_DBPOINTER:
      write_wrapped (out,
                     "{\"$dbPointer\":{\"$ref\":",
                     v->value.v_dbpointer.collection,
                     v->value.v_dbpointer.collection_len,
                     ",\"$id\":");
      write_oid (out, &v->value.v_dbpointer.oid);
      MWATCH_BUF_PUT_LIT (out, "}}");
      break;
   case BSON_TYPE_CODE:
      write_wrapped (out, "{\"$code\":", v->value.v_code.code, v->value.v_code.code_len, "}");
      break;
   case BSON_TYPE_SYMBOL:
      write_wrapped (
         out, "{\"$symbol\":", v->value.v_symbol.symbol, v->value.v_symbol.len, "}");
      break;
   case BSON_TYPE_CODEWSCOPE:
      write_wrapped (out,
                     "{\"$code\":",
                     v->value.v_codewscope.code,
                     v->value.v_codewscope.code_len,
                     ",\"$scope\":");
      write_doc (out,
                 v->value.v_codewscope.scope_data,
                 v->value.v_codewscope.scope_len,
                 false,
                 depth);
      _mwatch_buf_putc (out, '}');
      break;
   case BSON_TYPE_INT32:
      _mwatch_json_int64 (out, v->value.v_int32);
      break;
   case BSON_TYPE_TIMESTAMP:
      MWATCH_BUF_PUT_LIT (out, "{\"$timestamp\":{\"t\":");
      _mwatch_text_uint (out, v->value.v_timestamp.timestamp, 1);
      MWATCH_BUF_PUT_LIT (out, ",\"i\":");
      _mwatch_text_uint (out, v->value.v_timestamp.increment, 1);
      MWATCH_BUF_PUT_LIT (out, "}}");
      break;
   case BSON_TYPE_INT64:
      _mwatch_json_int64 (out, v->value.v_int64);
      break;
   case BSON_TYPE_DECIMAL128: {
      char dec[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string (&v->value.v_decimal128, dec);
      MWATCH_BUF_PUT_LIT (out, "{\"$numberDecimal\":\"");
      mwatch_buf_append_str (out, dec);
      MWATCH_BUF_PUT_LIT (out, "\"}");
      break;
   }
   case BSON_TYPE_MAXKEY:
      MWATCH_BUF_PUT_LIT (out, "{\"$maxKey\":1}");
      break;
   case BSON_TYPE_MINKEY:
      MWATCH_BUF_PUT_LIT (out, "{\"$minKey\":1}");
      break;
   case BSON_TYPE_NULL:
   case BSON_TYPE_EOD:
   default:
      MWATCH_BUF_PUT_LIT (out, "null");
      break;
   }
}

void
_mwatch_json_bson_data_iter (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array)
{
   write_doc (out, data, len, is_array, 0);
}

void
_mwatch_json_bson_value (mwatch_buf_t *out, const bson_value_t *value)
{
   write_value (out, value, 0);
}

void
_mwatch_json_bson_iter (mwatch_buf_t *out, const bson_iter_t *iter)
{
   /* bson_iter_value() stores into the iterator; work on a copy. */
   bson_iter_t copy = *iter;
   write_value (out, bson_iter_value (&copy), 0);
}
