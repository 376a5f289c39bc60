/* The typed BSON document the MongoDB audit handler stores for a record:
 * what the text renderings write as JSON, kept as BSON types so that the
 * server can sort by date, sum counts and match inside a Filter. */
#include "handler-mongodb-private.h"
#include "json-private.h"

#include <string.h>

/* What stands for '$' at the start of a key, and for '.', in a stored
 * document: FULLWIDTH DOLLAR SIGN and FULLWIDTH FULL STOP, the escape
 * MongoDB's manual suggested for such keys before 5.0. */
#define ESC_DOLLAR "\xef\xbc\x84"
#define ESC_DOT "\xef\xbc\x8e"

/* Whether `len` bytes of `str` are UTF-8 the server accepts: ASCII
 * without NUL is, at a byte per step (bson_utf8_validate costs several
 * times that, and nearly every text is ASCII). */
static bool
text_ok (const char *str, size_t len)
{
   for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char) str[i];
      if (c == 0 || c >= 0x80) {
         return bson_utf8_validate (str, len, false);
      }
   }
   return true;
}

/* Whether `key` is stored as it is: see ESC_DOLLAR. */
static bool
key_ok (const char *key)
{
   if (key[0] == '$') {
      return false;
   }
   for (const char *p = key; *p; p++) {
      if (*p == '.') {
         return false;
      }
      if ((unsigned char) *p >= 0x80) {
         return !strchr (p, '.') && bson_utf8_validate (key, strlen (key), false);
      }
   }
   return true;
}

/* Whether the document of `iter` holds nothing to clean, at any depth:
 * then it is copied whole. */
static bool
doc_ok (bson_iter_t *iter)
{
   bson_iter_t child;
   while (bson_iter_next (iter)) {
      if (!key_ok (bson_iter_key (iter))) {
         return false;
      }
      if (BSON_ITER_HOLDS_UTF8 (iter)) {
         uint32_t len;
         const char *str = bson_iter_utf8 (iter, &len);
         if (!text_ok (str, len)) {
            return false;
         }
      } else if ((BSON_ITER_HOLDS_DOCUMENT (iter) || BSON_ITER_HOLDS_ARRAY (iter)) &&
                 (!bson_iter_recurse (iter, &child) || !doc_ok (&child))) {
         return false;
      }
   }
   return true;
}

/* `str` as UTF-8 the server accepts, in `out`: NUL and ill-formed bytes
 * become U+FFFD.  Returns the text to store: `str` itself when it was
 * fine, which it nearly always is, else out->data. */
static const char *
clean_text (const char *str, size_t len, size_t *out_len, mwatch_buf_t *out)
{
   if (text_ok (str, len)) {
      *out_len = len;
      return str;
   }
   mwatch_buf_clear (out);
   _mwatch_json_raw (out, str, len);
   *out_len = out->len;
   return out->len ? out->data : "";
}

/* A key the server stores: see ESC_DOLLAR.  Into `out`, NUL-terminated. */
static const char *
clean_key (const char *key, mwatch_buf_t *out)
{
   if (key_ok (key)) {
      return key;
   }
   mwatch_buf_t raw = MWATCH_BUF_INITIALIZER;
   _mwatch_json_raw (&raw, key, strlen (key));
   mwatch_buf_clear (out);
   for (size_t i = 0; i < raw.len; i++) {
      if (i == 0 && raw.data[i] == '$') {
         mwatch_buf_append_str (out, ESC_DOLLAR);
      } else if (raw.data[i] == '.') {
         mwatch_buf_append_str (out, ESC_DOT);
      } else {
         mwatch_buf_append (out, &raw.data[i], 1);
      }
   }
   mwatch_buf_destroy (&raw);
   return out->len ? out->data : "";
}

static void
append_clean_doc (bson_t *dst, const char *key, const bson_t *src, bool array);

/* Copies every element of `iter`'s document, keys and text cleaned. */
static void
copy_clean (bson_t *dst, bson_iter_t *iter)
{
   mwatch_buf_t key_buf = MWATCH_BUF_INITIALIZER, text = MWATCH_BUF_INITIALIZER;
   while (bson_iter_next (iter)) {
      const char *key = clean_key (bson_iter_key (iter), &key_buf);
      switch (bson_iter_type (iter)) {
      case BSON_TYPE_UTF8: {
         uint32_t len;
         const char *str = bson_iter_utf8 (iter, &len);
         size_t clean_len;
         const char *clean = clean_text (str, len, &clean_len, &text);
         bson_append_utf8 (dst, key, -1, clean, (int) clean_len);
         break;
      }
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY: {
         uint32_t len;
         const uint8_t *data;
         bson_t sub;
         if (BSON_ITER_HOLDS_DOCUMENT (iter)) {
            bson_iter_document (iter, &len, &data);
         } else {
            bson_iter_array (iter, &len, &data);
         }
         if (bson_init_static (&sub, data, len)) {
            append_clean_doc (dst, key, &sub, BSON_ITER_HOLDS_ARRAY (iter));
         }
         break;
      }
      default:
         bson_append_iter (dst, key, -1, iter);
      }
   }
   mwatch_buf_destroy (&key_buf);
   mwatch_buf_destroy (&text);
}

static void
append_clean_doc (bson_t *dst, const char *key, const bson_t *src, bool array)
{
   bson_t child;
   bson_iter_t iter;
   if (bson_iter_init (&iter, src) && doc_ok (&iter)) {
      if (array) {
         bson_append_array (dst, key, -1, src);
      } else {
         bson_append_document (dst, key, -1, src);
      }
      return;
   }
   if (array) {
      bson_append_array_begin (dst, key, -1, &child);
   } else {
      bson_append_document_begin (dst, key, -1, &child);
   }
   if (bson_iter_init (&iter, src)) {
      copy_clean (&child, &iter);
   }
   if (array) {
      bson_append_array_end (dst, &child);
   } else {
      bson_append_document_end (dst, &child);
   }
}

/* Microseconds to BSON's milliseconds, rounding down (also before 1970). */
static int64_t
to_ms (int64_t us)
{
   return us >= 0 ? us / 1000 : -((-us + 999) / 1000);
}

static void
append_value (bson_t *dst, const char *key, const mwatch_value_t *value, mwatch_buf_t *text)
{
   size_t len;
   const char *str;
   bson_t doc;
   bson_oid_t oid;

   switch (value->type) {
   case MWATCH_TYPE_NULL:
      bson_append_null (dst, key, -1);
      break;
   case MWATCH_TYPE_BOOL:
      bson_append_bool (dst, key, -1, value->value.v_bool);
      break;
   case MWATCH_TYPE_INT64:
      bson_append_int64 (dst, key, -1, value->value.v_int64);
      break;
   case MWATCH_TYPE_DOUBLE:
      bson_append_double (dst, key, -1, value->value.v_double);
      break;
   case MWATCH_TYPE_UTF8:
      /* The WatchID is an ObjectId in the message's text form. */
      if (strcmp (key, "WatchID") == 0 && value->value.v_utf8.len == 24 &&
          bson_oid_is_valid (value->value.v_utf8.str, 24)) {
         bson_oid_init_from_string (&oid, value->value.v_utf8.str);
         bson_append_oid (dst, key, -1, &oid);
         break;
      }
      str = clean_text (value->value.v_utf8.str, value->value.v_utf8.len, &len, text);
      bson_append_utf8 (dst, key, -1, str, (int) len);
      break;
   case MWATCH_TYPE_DATETIME:
      bson_append_date_time (dst, key, -1, to_ms (value->value.v_datetime));
      break;
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
      if (mwatch_value_as_bson (value, &doc)) {
         append_clean_doc (dst, key, &doc, value->type == MWATCH_TYPE_ARRAY);
      }
      break;
   case MWATCH_TYPE_BSON:
   default:
      bson_append_value (dst, key, -1, &value->value.v_bson);
      break;
   }
}

void
_mwatch_mongodb_record_doc (const mwatch_record_t *record, bson_t *doc)
{
   bson_oid_t id;
   char level[32];
   mwatch_buf_t text = MWATCH_BUF_INITIALIZER, key_buf = MWATCH_BUF_INITIALIZER;
   size_t len;

   bson_oid_init (&id, NULL);
   bson_append_oid (doc, "_id", 3, &id);
   bson_append_date_time (doc, MWATCH_MONGODB_TIME_FIELD, -1, to_ms (record->created));
   const char *name = record->name ? record->name : "";
   const char *clean = clean_text (name, strlen (name), &len, &text);
   bson_append_utf8 (doc, "name", 4, clean, (int) len);
   bson_append_utf8 (doc, "levelname", 9, mwatch_level_name (record->level, level, sizeof level), -1);
   bson_append_int32 (doc, "levelno", 7, record->level);
   bson_append_int64 (doc, "process", 7, record->process);
   bson_append_int64 (doc, "thread", 6, record->thread);
   if (record->text) {
      clean = clean_text (record->text, strlen (record->text), &len, &text);
      bson_append_utf8 (doc, "message", 7, clean, (int) len);
   }
   if (record->watch) {
      bson_t watch;
      mwatch_message_iter_t iter;
      const char *key;
      mwatch_value_t value;
      bson_append_document_begin (doc, "watch", 5, &watch);
      mwatch_message_iter_init (&iter, record->watch);
      while (mwatch_message_iter_next (&iter, &key, &value)) {
         if (key[0] != '_') {
            append_value (&watch, clean_key (key, &key_buf), &value, &text);
         }
      }
      bson_append_document_end (doc, &watch);
   }
   mwatch_buf_destroy (&text);
   mwatch_buf_destroy (&key_buf);
}
