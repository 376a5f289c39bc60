/* The fast path of BSON to JSON.  The usual filter holds strings, numbers,
 * booleans, dates, ObjectIds and documents, well formed.  For such a
 * document libbson's iterator, with its checks and calls per element, is
 * most of the cost of writing it, so this reads the elements itself,
 * writes strings and integers directly and other scalars through
 * _mwatch_json_bson_value().  It takes only what libbson's iterator
 * reads to the end, element by element, the same way
 * (see bson_iter_next): lengths within the document, strings ending with
 * their NUL, booleans 0 or 1, every embedded document itself well formed,
 * the last element ending at the terminating NUL.  Anything else (another
 * type, a document libbson would stop early in) makes it give up, and
 * _mwatch_json_bson_data_iter() (json-bson.c) writes the whole document
 * instead. */
#include "json-private.h"

#include <string.h>

/* The value of `type` at `p` with `room` bytes before the document's
 * terminator; its size in *size.  False for a type not read here or a
 * value that does not fit. */
static bool
read_scalar (uint8_t type, const uint8_t *p, size_t room, bson_value_t *v, size_t *size)
{
   static const uint8_t sizes[] = {
      [BSON_TYPE_DOUBLE] = 8,
      [BSON_TYPE_UTF8] = 4,
      [BSON_TYPE_OID] = 12,
      [BSON_TYPE_BOOL] = 1,
      [BSON_TYPE_DATE_TIME] = 8,
      [BSON_TYPE_NULL] = 0,
      [BSON_TYPE_INT32] = 4,
      [BSON_TYPE_INT64] = 8,
   };

   if (type >= sizeof sizes || (type != BSON_TYPE_NULL && sizes[type] == 0) ||
       room < sizes[type]) {
      return false;
   }
   v->value_type = (bson_type_t) type;
   *size = sizes[type];
   switch (type) {
   case BSON_TYPE_DOUBLE: {
      uint64_t bits = _mwatch_bson_le64 (p);
      memcpy (&v->value.v_double, &bits, sizeof bits);
      break;
   }
   case BSON_TYPE_UTF8: {
      uint32_t l = _mwatch_bson_le32 (p);
      /* The length counts the NUL, which ends the string. */
      if (l == 0 || l > room - 4 || p[4 + l - 1] != '\0') {
         return false;
      }
      v->value.v_utf8.str = (char *) p + 4;
      v->value.v_utf8.len = l - 1;
      *size = 4 + (size_t) l;
      break;
   }
   case BSON_TYPE_OID:
      memcpy (v->value.v_oid.bytes, p, 12);
      break;
   case BSON_TYPE_BOOL:
      if (p[0] > 1) {
         return false;
      }
      v->value.v_bool = p[0] == 1;
      break;
   case BSON_TYPE_DATE_TIME:
      v->value.v_datetime = (int64_t) _mwatch_bson_le64 (p);
      break;
   case BSON_TYPE_INT32:
      v->value.v_int32 = (int32_t) _mwatch_bson_le32 (p);
      break;
   case BSON_TYPE_INT64:
      v->value.v_int64 = (int64_t) _mwatch_bson_le64 (p);
      break;
   default: /* BSON_TYPE_NULL */
      break;
   }
   return true;
}

/* Writes the document as _mwatch_json_bson_data_iter() would and returns true, or returns
 * false having written some of it. */
static bool
write_doc_fast (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array, int depth)
{
   /* What bson_iter_init_from_data() checks, and depth as json-bson.c. */
   if (depth >= MWATCH_JSON_MAX_DEPTH || len < 5 || len > INT32_MAX || _mwatch_bson_le32 (data) != len ||
       data[len - 1] != '\0') {
      return false;
   }
   size_t end = len - 1; /* the terminator */
   size_t o = 4;

   _mwatch_buf_putc (out, is_array ? '[' : '{');
   while (o < end) {
      uint8_t type = data[o];
      const uint8_t *key = data + o + 1;
      const uint8_t *key_end;
      if (o > 4) {
         _mwatch_buf_putc (out, ',');
      }
      if (is_array) {
         key_end = memchr (key, '\0', end - (o + 1));
      } else {
         /* Found while written. */
         size_t key_len = _mwatch_json_key (out, key, end - (o + 1));
         key_end = key_len < end - (o + 1) ? key + key_len : NULL;
      }
      if (!key_end) {
         return false;
      }
      size_t at = (size_t) (key_end + 1 - data); /* the value */
      size_t room = end - at;
      if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
         uint32_t l = room >= 4 ? _mwatch_bson_le32 (data + at) : 0;
         if (room < 4 || l > room ||
             !write_doc_fast (out, data + at, l, type == BSON_TYPE_ARRAY, depth + 1)) {
            return false;
         }
         o = at + l;
      } else {
         bson_value_t v;
         size_t size;
         if (!read_scalar (type, data + at, room, &v, &size)) {
            return false;
         }
         /* The usual scalars directly, as json-bson.c writes them. */
         if (v.value_type == BSON_TYPE_UTF8) {
            _mwatch_json_string (out, v.value.v_utf8.str, v.value.v_utf8.len);
         } else if (v.value_type == BSON_TYPE_INT32) {
            _mwatch_json_int64 (out, v.value.v_int32);
         } else if (v.value_type == BSON_TYPE_INT64) {
            _mwatch_json_int64 (out, v.value.v_int64);
         } else {
            _mwatch_json_bson_value (out, &v);
         }
         o = at + size;
      }
   }
   _mwatch_buf_putc (out, is_array ? ']' : '}');
   return true;
}

void
_mwatch_json_bson_data (mwatch_buf_t *out, const uint8_t *data, size_t len, bool is_array)
{
   size_t start = out->len;

   if (!write_doc_fast (out, data, len, is_array, 0)) {
      out->len = start;
      _mwatch_json_bson_data_iter (out, data, len, is_array);
   }
}
