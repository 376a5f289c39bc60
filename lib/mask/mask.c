/* The mask: libmongowatch-preload.so, preloaded into a program that was
 * built without mongowatch (LD_PRELOAD, or `mongowatch run`), patches
 * libmongoc and loads the configuration before main runs.
 *
 * The preload library holds the whole of libmongowatch, not a dependency
 * on it: a library a preloaded object merely depends on enters the symbol
 * search order after the program's own libmongoc, and its mongoc_*
 * wrappers would never be called.
 *
 * A broken configuration must not break the program: it is reported once
 * on stderr and the default handler (stderr) takes over, so the audit
 * trail goes on.  MONGOWATCH_STRICT=1 makes it fatal instead, before main.
 * Nothing is ever written to stdout. */
#include "mongowatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "mongowatch: "

static bool
strict (void)
{
   const char *value = getenv ("MONGOWATCH_STRICT");
   return value && *value && strcmp (value, "0") != 0;
}

static void
default_handler (const char *why)
{
   bson_error_t error;
   if (mwatch_add_logging_handlers (NULL, NULL, &error)) {
      fprintf (stderr, PREFIX "%s; auditing to stderr with the default handler\n", why);
   } else {
      fprintf (stderr, PREFIX "%s, and the default handler failed: %s\n", why, error.message);
   }
}

static bool
reaches_a_handler (void)
{
   return mwatch_logger_has_handlers (mwatch_logger_get ("mongowatch.cursor")) ||
          mwatch_logger_has_handlers (mwatch_logger_get ("mongowatch.collection"));
}

__attribute__ ((constructor)) static void
mwatch_mask_init (void)
{
   bson_error_t error;
   if (!mwatch_patch_mongoc (&error)) {
      fprintf (stderr, PREFIX "%s\n", error.message);
      if (strict ()) {
         exit (1);
      }
      return;
   }
   size_t count = 0;
   char **paths = mwatch_config_search (&count);
   if (count == 0) {
      default_handler ("no configuration file found (see mongowatch.yaml(5), or set "
                       "MONGOWATCH_CONFIG=FILE)");
   } else if (!mwatch_config_load_files ((const char *const *) paths, count, &error)) {
      fprintf (stderr, PREFIX "%s\n", error.message);
      if (strict ()) {
         fprintf (stderr, PREFIX "MONGOWATCH_STRICT is set: not starting the program\n");
         exit (1);
      }
      default_handler ("the configuration was not applied");
   } else if (!reaches_a_handler ()) {
      default_handler ("the configuration gives the watchers' loggers no handler");
   }
   bson_strfreev (paths);
}
