/* An example mongowatch plugin: a filter (and a handler) that a
 * configuration file loads with ext://, without rebuilding mongowatch.
 *
 *   filters:
 *     no_audit_table:
 *       (): ext:///usr/local/lib/libexample-filter.so:example_filter_new
 *       collection: audit
 *
 * drops every record whose Collection is "audit".  Build it as a shared
 * object that leaves mongowatch's symbols to the program that loads it
 * (which has them from libmongowatch.so, from the mask, or, when it links
 * libmongowatch.a, only if linked with -rdynamic):
 *
 *   cc -shared -fPIC $(pkg-config --cflags mongowatch) example-filter.c \
 *      -o libexample-filter.so
 *
 * A factory gets the filter's keys other than "()" as a BSON document and
 * returns a new filter, or NULL with `error` set; the configuration loader
 * puts that error, with the file, line and key path, in its own. */
#include <mongowatch.h>
#include <string.h>

mwatch_filter_t *
example_filter_new (const bson_t *params, bson_error_t *error);
mwatch_handler_t *
example_handler_new (const bson_t *params, bson_error_t *error);

/* The text of the string parameter `key`, or NULL with `error` set. */
static const char *
string_param (const bson_t *params, const char *key, const char *factory, bson_error_t *error)
{
   bson_iter_t iter;
   if (!bson_iter_init_find (&iter, params, key) || !BSON_ITER_HOLDS_UTF8 (&iter)) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "%s needs \"%s\", a string",
                      factory,
                      key);
      return NULL;
   }
   return bson_iter_utf8 (&iter, NULL);
}

static bool
keep_other_collections (mwatch_record_t *record, void *user_data)
{
   const char *dropped = user_data;
   mwatch_value_t value;
   if (!record->watch || !mwatch_message_get (record->watch, "Collection", &value) ||
       value.type != MWATCH_TYPE_UTF8) {
      return true;
   }
   return value.value.v_utf8.len != strlen (dropped) ||
          memcmp (value.value.v_utf8.str, dropped, value.value.v_utf8.len) != 0;
}

/* params: {collection: "name"}: drops the records of that collection. */
mwatch_filter_t *
example_filter_new (const bson_t *params, bson_error_t *error)
{
   const char *collection = string_param (params, "collection", "example_filter_new", error);
   if (!collection) {
      return NULL;
   }
   return mwatch_filter_new_callback (keep_other_collections, bson_strdup (collection), bson_free);
}

/* params: {path: "/some/file"}: a handler plugin can wrap a built-in
 * handler as well as implement mwatch_handler_vtable_t itself. */
mwatch_handler_t *
example_handler_new (const bson_t *params, bson_error_t *error)
{
   const char *path = string_param (params, "path", "example_handler_new", error);
   return path ? mwatch_handler_new_file (path, error) : NULL;
}
