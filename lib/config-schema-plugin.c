/* ext:// factories: filters and handlers from the user's shared objects.
 *
 * "ext:///usr/lib/libmyfilters.so:my_filter_new" loads the file with
 * dlopen and calls the symbol as an mwatch_filter_factory_t (or
 * mwatch_handler_factory_t).  A plugin stays loaded for the rest of the
 * process, because the objects it made point into its code (their vtables
 * and functions) and may outlive any one configuration. */
#include "config-schema-private.h"
#include "config-trust-private.h"

#include <dlfcn.h>
#include <string.h>

#define EXT_PREFIX "ext://"

void *
_mwatch_cfg_plugin (mwatch_cfg_t *cfg, const mwatch_node_t *ref, const bson_t *params, bool handler)
{
   const char *what = handler ? "handler" : "filter";
   const char *text;
   if (!_mwatch_cfg_string (cfg, ref, &text)) {
      return NULL;
   }
   const char *spec = text + strlen (EXT_PREFIX);
   const char *colon = strrchr (spec, ':');
   if (strncmp (text, EXT_PREFIX, strlen (EXT_PREFIX)) != 0 || !colon || colon == spec || !colon[1]) {
      _mwatch_cfg_fail (cfg,
                        ref->pos,
                        "\"%s\" is not a plugin reference; write "
                        "ext:///path/to/lib.so:factory_symbol",
                        text);
      return NULL;
   }
   char *path = bson_strndup (spec, (size_t) (colon - spec));
   const char *symbol = colon + 1;
   void *object = NULL;

   char refusal[512];
   if (!_mwatch_path_is_trusted (path, "the plugin", refusal, sizeof refusal)) {
      _mwatch_cfg_fail (cfg, ref->pos, "%s", refusal);
      _mwatch_config_error_code (cfg->error, MWATCH_ERROR_PLUGIN);
      goto done;
   }
   dlerror ();
   void *lib = dlopen (path, RTLD_NOW | RTLD_LOCAL);
   if (!lib) {
      _mwatch_cfg_fail (cfg, ref->pos, "cannot load the plugin: %s", dlerror ());
      _mwatch_config_error_code (cfg->error, MWATCH_ERROR_PLUGIN);
      goto done;
   }
   void *address = dlsym (lib, symbol);
   if (!address) {
      const char *why = dlerror ();
      _mwatch_cfg_fail (cfg,
                        ref->pos,
                        "the plugin %s has no function %s: %s",
                        path,
                        symbol,
                        why ? why : "the symbol is NULL");
      _mwatch_config_error_code (cfg->error, MWATCH_ERROR_PLUGIN);
      dlclose (lib);
      goto done;
   }
   bson_error_t err = {0};
   /* dlsym gives an object pointer; POSIX guarantees it converts to a
    * function pointer, and memcpy says so without a cast warning. */
   if (handler) {
      mwatch_handler_factory_t factory;
      memcpy (&factory, &address, sizeof factory);
      object = factory (params, &err);
   } else {
      mwatch_filter_factory_t factory;
      memcpy (&factory, &address, sizeof factory);
      object = factory (params, &err);
   }
   if (!object) {
      _mwatch_cfg_fail (cfg,
                        ref->pos,
                        "%s:%s made no %s: %s",
                        path,
                        symbol,
                        what,
                        err.domain ? err.message : "it returned NULL without an error");
      /* A factory that refused its parameters said why: a bad value of
       * the file's.  One that did not is a broken plugin. */
      if (err.domain) {
         _mwatch_config_error_cause (cfg->error, &err);
      } else {
         _mwatch_config_error_code (cfg->error, MWATCH_ERROR_PLUGIN);
      }
      dlclose (lib);
   }
done:
   bson_free (path);
   return object;
}
