/* libcurl is mapped only once an otlp handler is made: a program linked
 * with libmongowatch as a user's program is (the shared library), with a
 * configuration of other handlers loaded, has no libcurl among its loaded
 * objects; the first otlp handler loads it (which shows that the check
 * sees it when it is there).  Run by test/lazy-curl-check.
 *
 * Prints "lazy-curl-app: N passed, 0 failed" or exits 1 naming the check
 * that failed. */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongowatch.h"

static int passed;

#define CHECK(cond, ...)                                  \
   do {                                                   \
      if (!(cond)) {                                      \
         fprintf (stderr, "lazy-curl-app: FAILED: ");     \
         fprintf (stderr, __VA_ARGS__);                   \
         fprintf (stderr, "\n");                          \
         exit (1);                                        \
      }                                                   \
      passed++;                                           \
   } while (0)

static int
find_curl (struct dl_phdr_info *info, size_t size, void *found)
{
   (void) size;
   if (info->dlpi_name && strstr (info->dlpi_name, "libcurl")) {
      snprintf (found, 512, "%s", info->dlpi_name);
      return 1;
   }
   return 0;
}

/* The path of a loaded libcurl, or "" when there is none. */
static const char *
loaded_curl (void)
{
   static char found[512];
   found[0] = '\0';
   dl_iterate_phdr (find_curl, found);
   return found;
}

int
main (void)
{
   bson_error_t error;
   CHECK (!*loaded_curl (), "libcurl mapped at start: %s", loaded_curl ());
   CHECK (mwatch_config_load_string ("version: 1\n"
                                     "handlers:\n"
                                     "  out: {class: stream}\n"
                                     "  q: {class: queue, handler: out}\n"
                                     "loggers:\n"
                                     "  mongowatch: {handlers: [q], level: INFO}\n",
                                     MWATCH_CONFIG_YAML, &error),
          "configuration: %s", error.message);
   CHECK (!*loaded_curl (), "libcurl mapped without an otlp handler: %s", loaded_curl ());

   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   opts.endpoint = "http://127.0.0.1:9";
   opts.shutdown_timeout_sec = 0.2;
   mwatch_handler_t *otlp = mwatch_handler_new_otlp (&opts, &error);
   CHECK (otlp, "otlp handler: %s", error.message);
   CHECK (*loaded_curl (), "no libcurl mapped after an otlp handler was made");
   mwatch_handler_destroy (otlp);
   mwatch_shutdown ();
   printf ("lazy-curl-app: %d passed, 0 failed\n", passed);
   return 0;
}
