/* The redaction filter: rebuilds each named field with every value
 * replaced and every key kept, so that a query's shape ({"age": {"$gt":
 * ...}}) survives and what it asked for does not.
 *
 * With no list of fields it covers every field that holds a document or
 * an array, whatever its name: the watchers log every value they take from
 * the application's documents (a filter, an update, a replacement, a
 * pipeline, a command) as a document or an array, and the record's
 * metadata (WatchID, Iteration, State, times, names, counts, Error) is
 * never one, so a field added later or renamed by a mapping (Filter ->
 * Pipeline) is covered without being listed.  Error keeps what went
 * wrong, not the values the server's message quotes after it.
 *
 * Values are replaced as bson_value_t, whether they sit in a document or
 * stand alone as a field, so that a value gets the same replacement (and
 * the same pseudonym) wherever it is found. */
#include "filter-private.h"
#include "sha256-private.h"

#include <string.h>

/* Deeper than this a document is replaced whole by null: a hostile
 * document must not exhaust the stack, and MongoDB itself refuses to
 * nest more than 100 levels. */
#define MAX_DEPTH 100

typedef struct {
   mwatch_redact_mode_t mode;
   char *token;
   mwatch_hmac_sha256_t keyed; /* HMAC: the state after the key */
   char **fields; /* NULL: every document or array field (see above) */
} redact_filter_t;

void
mwatch_redact_opts_init (mwatch_redact_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->mode = MWATCH_REDACT_PLACEHOLDER;
}

/* ---------------------------------------------------------------- values */

/* "h:" and 16 hex digits of HMAC-SHA256(secret, type byte + bytes). */
static char *
pseudonym (const redact_filter_t *f, const bson_value_t *value)
{
   mwatch_hmac_sha256_t hmac = f->keyed;
   /* int32 counts as int64, so that 5 and 5L give one pseudonym. */
   uint8_t type = value->value_type == BSON_TYPE_INT32 ? BSON_TYPE_INT64 : value->value_type;
   uint8_t mac[MWATCH_SHA256_LEN];
   uint64_t le;

   _mwatch_hmac_sha256_update (&hmac, &type, 1);
   switch (value->value_type) {
   case BSON_TYPE_UTF8:
      _mwatch_hmac_sha256_update (&hmac, value->value.v_utf8.str, value->value.v_utf8.len);
      break;
   case BSON_TYPE_INT32:
   case BSON_TYPE_INT64:
   case BSON_TYPE_DOUBLE:
      if (value->value_type == BSON_TYPE_DOUBLE) {
         memcpy (&le, &value->value.v_double, sizeof le);
      } else {
         le = (uint64_t) (value->value_type == BSON_TYPE_INT32 ? value->value.v_int32
                                                                 : value->value.v_int64);
      }
      le = BSON_UINT64_TO_LE (le);
      _mwatch_hmac_sha256_update (&hmac, &le, sizeof le);
      break;
   case BSON_TYPE_BOOL:
      _mwatch_hmac_sha256_update (&hmac, value->value.v_bool ? "true" : "false",
                                  value->value.v_bool ? 4 : 5);
      break;
   default: {
      /* The value's bytes as BSON stores them: append it under the empty
       * key and skip the length, type and key ahead of it. */
      bson_t tmp = BSON_INITIALIZER;
      bson_append_value (&tmp, "", 0, value);
      const uint8_t *data = bson_get_data (&tmp);
      if (tmp.len >= 7) {
         _mwatch_hmac_sha256_update (&hmac, data + 6, tmp.len - 7);
      }
      bson_destroy (&tmp);
      break;
   }
   }
   _mwatch_hmac_sha256_final (&hmac, mac);
   char *out = bson_malloc (2 + 16 + 1);
   out[0] = 'h';
   out[1] = ':';
   for (int i = 0; i < 8; i++) {
      out[2 + 2 * i] = "0123456789abcdef"[mac[i] >> 4];
      out[3 + 2 * i] = "0123456789abcdef"[mac[i] & 0xf];
   }
   out[18] = '\0';
   return out;
}

/* As many 'x' as `text` has UTF-8 characters (continuation bytes do not
 * start one). */
static char *
placeholder_text (const char *text, size_t len, size_t *out_len)
{
   char *out = bson_malloc (len + 1);
   size_t n = 0;

   for (size_t i = 0; i < len; i++) {
      if (((unsigned char) text[i] & 0xc0) != 0x80) {
         out[n++] = 'x';
      }
   }
   out[n] = '\0';
   *out_len = n;
   return out;
}

static void
set_text (bson_value_t *out, char *text, size_t len)
{
   out->value_type = BSON_TYPE_UTF8;
   out->value.v_utf8.str = text;
   out->value.v_utf8.len = (uint32_t) len;
}

/* The replacement of one value into *out.  Returns memory that *out points
 * into, for the caller to free once it has copied *out (or NULL). */
static char *
redact_value (const redact_filter_t *f, const bson_value_t *in, bson_value_t *out)
{
   char *text = NULL;
   size_t len;

   memset (out, 0, sizeof *out);
   out->value_type = BSON_TYPE_NULL;
   switch (f->mode) {
   case MWATCH_REDACT_TOKEN:
      set_text (out, f->token, strlen (f->token));
      break;
   case MWATCH_REDACT_HMAC:
      text = pseudonym (f, in);
      set_text (out, text, strlen (text));
      break;
   case MWATCH_REDACT_PLACEHOLDER:
      /* Numbers keep their type: 0 as int32, int64, double or decimal. */
      switch (in->value_type) {
      case BSON_TYPE_UTF8:
         text = placeholder_text (in->value.v_utf8.str, in->value.v_utf8.len, &len);
         set_text (out, text, len);
         break;
      case BSON_TYPE_INT32:
      case BSON_TYPE_INT64:
      case BSON_TYPE_DOUBLE:
      case BSON_TYPE_BOOL:
      case BSON_TYPE_DATE_TIME:
         /* Zeroed above: 0, 0.0, false, the epoch. */
         out->value_type = in->value_type;
         break;
      case BSON_TYPE_DECIMAL128:
         out->value_type = BSON_TYPE_DECIMAL128;
         bson_decimal128_from_string ("0", &out->value.v_decimal128);
         break;
      default:
         break;
      }
      break;
   case MWATCH_REDACT_NULL:
   default:
      break;
   }
   return text;
}

/* ---------------------------------------------------------------- documents */

/* Appends to `dst` every key of `src` with its value replaced, recursing
 * into documents and arrays. */
static void
redact_document (const redact_filter_t *f, const bson_t *src, bson_t *dst, int depth)
{
   bson_iter_t iter;

   if (!bson_iter_init (&iter, src)) {
      return;
   }
   while (bson_iter_next (&iter)) {
      const char *key = bson_iter_key (&iter);
      int key_len = (int) bson_iter_key_len (&iter);
      bson_type_t type = bson_iter_type (&iter);

      if ((type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) && depth < MAX_DEPTH) {
         const uint8_t *data;
         uint32_t len;
         bson_t inner;
         bson_t child;
         if (type == BSON_TYPE_DOCUMENT) {
            bson_iter_document (&iter, &len, &data);
            bson_append_document_begin (dst, key, key_len, &child);
         } else {
            bson_iter_array (&iter, &len, &data);
            _mwatch_bson_append_array_begin (dst, key, key_len, &child);
         }
         if (bson_init_static (&inner, data, len)) {
            redact_document (f, &inner, &child, depth + 1);
         }
         if (type == BSON_TYPE_DOCUMENT) {
            bson_append_document_end (dst, &child);
         } else {
            bson_append_array_end (dst, &child);
         }
      } else if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
         bson_append_null (dst, key, key_len);
      } else {
         bson_value_t out;
         char *owned = redact_value (f, bson_iter_value (&iter), &out);
         bson_append_value (dst, key, key_len, &out);
         bson_free (owned);
      }
   }
}

/* A field that is a value of its own, not a document: replaced as the
 * same value inside a document would be. */
static void
redact_field_value (const redact_filter_t *f,
                    mwatch_message_t *msg,
                    const char *name,
                    const mwatch_value_t *value)
{
   bson_value_t in = {.value_type = BSON_TYPE_NULL};
   bson_value_t out;
   mwatch_value_t result = {.type = MWATCH_TYPE_NULL};

   switch (value->type) {
   case MWATCH_TYPE_BOOL:
      in.value_type = BSON_TYPE_BOOL;
      in.value.v_bool = value->value.v_bool;
      break;
   case MWATCH_TYPE_INT64:
      in.value_type = BSON_TYPE_INT64;
      in.value.v_int64 = value->value.v_int64;
      break;
   case MWATCH_TYPE_DOUBLE:
      in.value_type = BSON_TYPE_DOUBLE;
      in.value.v_double = value->value.v_double;
      break;
   case MWATCH_TYPE_UTF8:
      set_text (&in, (char *) value->value.v_utf8.str, value->value.v_utf8.len);
      break;
   case MWATCH_TYPE_DATETIME:
      /* As BSON has it (milliseconds), so that it hashes as it would in
       * a document. */
      in.value_type = BSON_TYPE_DATE_TIME;
      in.value.v_datetime = value->value.v_datetime / 1000;
      break;
   case MWATCH_TYPE_BSON:
      in = value->value.v_bson;
      break;
   case MWATCH_TYPE_NULL:
   case MWATCH_TYPE_DOCUMENT:
   case MWATCH_TYPE_ARRAY:
   default:
      break;
   }
   char *owned = redact_value (f, &in, &out);
   switch (out.value_type) {
   case BSON_TYPE_UTF8:
      result.type = MWATCH_TYPE_UTF8;
      result.value.v_utf8.str = out.value.v_utf8.str;
      result.value.v_utf8.len = out.value.v_utf8.len;
      break;
   case BSON_TYPE_INT64:
   case BSON_TYPE_DOUBLE:
   case BSON_TYPE_BOOL:
      /* Zero, 0.0 or false, as `value` had it. */
      result.type = value->type;
      break;
   case BSON_TYPE_DATE_TIME:
      result.type = MWATCH_TYPE_DATETIME;
      break;
   case BSON_TYPE_NULL:
      break;
   default:
      result.type = MWATCH_TYPE_BSON;
      result.value.v_bson = out;
      break;
   }
   mwatch_message_set_value (msg, name, &result);
   bson_free (owned);
}

static void
redact_field (const redact_filter_t *f, mwatch_message_t *msg, const char *name)
{
   mwatch_value_t value;
   bson_t src;
   if (!mwatch_message_get (msg, name, &value)) {
      return;
   }
   if (!mwatch_value_as_bson (&value, &src)) {
      redact_field_value (f, msg, name, &value);
      return;
   }
   bson_t dst = BSON_INITIALIZER;
   redact_document (f, &src, &dst, 0);
   if (value.type == MWATCH_TYPE_ARRAY) {
      mwatch_message_set_array (msg, name, &dst);
   } else {
      mwatch_message_set_document (msg, name, &dst);
   }
   bson_destroy (&dst);
}

/* A server's error message quotes what it refused: "E11000 duplicate key
 * error collection: db.users index: ssn_1 dup key: { ssn: \"...\" }",
 * "Illegal key in $sort specification: note: ...".  Such messages say what
 * went wrong first and quote values after a colon: the text is cut at its
 * first ':', so the record still says why the operation failed, and not
 * with what. */
static void
redact_error_text (mwatch_message_t *msg)
{
   mwatch_value_t value;
   if (!mwatch_message_get (msg, "Error", &value) || value.type != MWATCH_TYPE_UTF8) {
      return;
   }
   const char *colon = memchr (value.value.v_utf8.str, ':', value.value.v_utf8.len);
   if (colon) {
      char *cut = bson_strdup_printf ("%.*s: [redacted]",
                                      (int) (colon - value.value.v_utf8.str),
                                      value.value.v_utf8.str);
      mwatch_message_set_utf8 (msg, "Error", cut);
      bson_free (cut);
   }
}

/* Every field that holds a document or an array, and the Error text. */
static void
redact_all (const redact_filter_t *f, mwatch_message_t *msg)
{
   /* Names first: setting a field while iterating would invalidate the
    * key and value the iterator gave. */
   size_t n = 0;
   char **names = bson_malloc0 ((mwatch_message_count (msg) + 1) * sizeof *names);
   mwatch_message_iter_t iter;
   const char *key;
   mwatch_value_t value;
   mwatch_message_iter_init (&iter, msg);
   while (mwatch_message_iter_next (&iter, &key, &value)) {
      if (value.type == MWATCH_TYPE_DOCUMENT || value.type == MWATCH_TYPE_ARRAY) {
         names[n++] = bson_strdup (key);
      }
   }
   for (size_t i = 0; i < n; i++) {
      redact_field (f, msg, names[i]);
   }
   _mwatch_names_free (names);
   redact_error_text (msg);
}

/* Fields a modify filter set from other fields (MWATCH_DERIVED_FIELD,
 * filter-modify.c) hold what their sources held: each is redacted when
 * one of its sources is covered here (listed in `fields`, or, without
 * `fields`, a document, an array or Error when it was read), unless this
 * filter redacted it already.  So a value copied out of a query (X =
 * Filter.ssn) is no clearer than the query, wherever the copy stands in
 * the list of filters. */
static void
redact_derived (const redact_filter_t *f, mwatch_message_t *msg)
{
   mwatch_value_t derived;
   bson_t doc;
   bson_iter_t target;
   bson_iter_t source;

   if (!mwatch_message_get (msg, MWATCH_DERIVED_FIELD, &derived) ||
       !mwatch_value_as_bson (&derived, &doc) || !bson_iter_init (&target, &doc)) {
      return;
   }
   char **covered = NULL;
   size_t n = 0;
   while (bson_iter_next (&target)) {
      const char *name = bson_iter_key (&target);
      mwatch_value_t now;
      bool done = f->fields ? _mwatch_names_contain (f->fields, name)
                            : (mwatch_message_get (msg, name, &now) &&
                               (now.type == MWATCH_TYPE_DOCUMENT || now.type == MWATCH_TYPE_ARRAY));
      bool hit = false;
      if (!done && BSON_ITER_HOLDS_DOCUMENT (&target) && bson_iter_recurse (&target, &source)) {
         while (!hit && bson_iter_next (&source)) {
            hit = f->fields ? _mwatch_names_contain (f->fields, bson_iter_key (&source))
                            : bson_iter_as_bool (&source);
         }
      }
      if (hit) {
         covered = bson_realloc (covered, (n + 2) * sizeof *covered);
         covered[n++] = bson_strdup (name);
         covered[n] = NULL;
      }
   }
   /* Set after the walk: setting a field moves the message's storage. */
   for (size_t i = 0; i < n; i++) {
      redact_field (f, msg, covered[i]);
   }
   _mwatch_names_free (covered);
}

static bool
redact_filter (void *impl, mwatch_filter_t *self, mwatch_record_t *record)
{
   BSON_UNUSED (self);
   const redact_filter_t *f = impl;
   mwatch_message_t *msg = record->watch;

   if (msg) {
      redact_derived (f, msg);
   }
   if (msg && !f->fields) {
      redact_all (f, msg);
   }
   for (size_t i = 0; msg && f->fields && f->fields[i]; i++) {
      redact_field (f, msg, f->fields[i]);
   }
   return true;
}

void
_mwatch_redact_mask_field (mwatch_message_t *msg, const char *name)
{
   static const redact_filter_t masker = {.mode = MWATCH_REDACT_PLACEHOLDER};
   redact_field (&masker, msg, name);
}

static void
redact_destroy (void *impl)
{
   redact_filter_t *f = impl;

   _mwatch_names_free (f->fields);
   bson_free (f->token);
   explicit_bzero (&f->keyed, sizeof f->keyed);
   bson_free (f);
}

static const mwatch_filter_vtable_t redact_vtable = {
   .filter = redact_filter,
   .destroy = redact_destroy,
};

mwatch_filter_t *
mwatch_filter_new_redact (const mwatch_redact_opts_t *opts, bson_error_t *error)
{
   mwatch_redact_opts_t defaults;
   redact_filter_t *f;

   if (!opts) {
      mwatch_redact_opts_init (&defaults);
      opts = &defaults;
   }
   if (opts->mode < MWATCH_REDACT_PLACEHOLDER || opts->mode > MWATCH_REDACT_HMAC) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "redact filter: unknown mode %d; use placeholder, token, null or hmac",
                      (int) opts->mode);
      return NULL;
   }
   size_t secret_len = opts->secret && !opts->secret_len ? strlen (opts->secret) : opts->secret_len;
   if (opts->mode == MWATCH_REDACT_HMAC && (!opts->secret || !secret_len)) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "redact filter: hmac mode needs a secret, the key of the pseudonyms; "
                      "keep it out of the logs and the same across runs");
      return NULL;
   }
   if (!_mwatch_names_check (opts->fields, "redact filter: fields", error)) {
      return NULL;
   }
   f = bson_malloc0 (sizeof *f);
   f->mode = opts->mode;
   f->token = bson_strdup (opts->token ? opts->token : "***");
   f->fields = _mwatch_names_copy (opts->fields, NULL);
   if (f->mode == MWATCH_REDACT_HMAC) {
      _mwatch_hmac_sha256_init (&f->keyed, opts->secret, secret_len);
   }
   return mwatch_filter_new (&redact_vtable, f);
}
