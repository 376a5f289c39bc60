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
 * Nothing is ever written to stdout.
 *
 * LD_PRELOAD reaches every process a program starts (`mongowatch run --
 * ./start.sh` masks the shell too), and the mask brings libmongoc with it.
 * A process in which nothing but the mask needs libmongoc is still
 * patched and configured (it may dlopen a plugin that uses MongoDB), but
 * says nothing: no warning, and MONGOWATCH_STRICT does not stop it. */
#include "mongowatch.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "mongowatch: "

static const void *mask_base; /* the mask's own load address */

/* Whether the loaded object `info` (other than the mask) lists libmongoc
 * among the libraries it needs. */
static int
needs_mongoc (struct dl_phdr_info *info, size_t size, void *found)
{
   BSON_UNUSED (size);
   if ((const void *) info->dlpi_addr == mask_base) {
      return 0;
   }
   const ElfW (Dyn) *dyn = NULL;
   for (int i = 0; i < info->dlpi_phnum; i++) {
      if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
         dyn = (const ElfW (Dyn) *) (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
      }
   }
   const char *strtab = NULL;
   for (const ElfW (Dyn) *d = dyn; d && d->d_tag != DT_NULL; d++) {
      if (d->d_tag == DT_STRTAB) {
         /* glibc relocates the dynamic section in place on most targets;
          * where it does not, the value is still relative. */
         ElfW (Addr) addr = d->d_un.d_ptr;
         strtab = (const char *) (addr < info->dlpi_addr ? info->dlpi_addr + addr : addr);
      }
   }
   for (const ElfW (Dyn) *d = dyn; strtab && d->d_tag != DT_NULL; d++) {
      if (d->d_tag == DT_NEEDED && strncmp (strtab + d->d_un.d_val, "libmongoc-", 10) == 0) {
         *(bool *) found = true;
         return 1;
      }
   }
   return 0;
}

static bool
process_uses_mongoc (void)
{
   Dl_info self;
   bool found = false;
   if (dladdr ((const void *) process_uses_mongoc, &self) == 0) {
      return true; /* cannot tell: say what there is to say */
   }
   mask_base = self.dli_fbase;
   dl_iterate_phdr (needs_mongoc, &found);
   return found;
}

static bool quiet;

static bool
strict (void)
{
   const char *value = getenv ("MONGOWATCH_STRICT");
   return !quiet && value && *value && strcmp (value, "0") != 0;
}

/* The default handler (stderr) with the redact filter's defaults: with
 * no configuration, nothing the application stores or asks for is written
 * in clear.  A configuration file is how a user logs values in clear. */
static void
default_handler (const char *why)
{
   bson_error_t error;
   mwatch_handler_t *handlers[2] = {mwatch_stream_handler_new (NULL), NULL};
   mwatch_filter_t *redact = mwatch_filter_new_redact (NULL, &error);
   bool ok = redact != NULL;
   if (ok) {
      mwatch_handler_add_filter (handlers[0], redact);
      mwatch_filter_destroy (redact);
      ok = mwatch_add_logging_handlers (NULL, handlers, &error);
   }
   mwatch_handler_destroy (handlers[0]);
   if (quiet) {
      return;
   }
   if (ok) {
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
   quiet = !process_uses_mongoc ();
   if (!mwatch_patch_mongoc (&error)) {
      if (!quiet) {
         fprintf (stderr, PREFIX "%s\n", error.message);
      }
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
      if (!quiet) {
         fprintf (stderr, PREFIX "%s\n", error.message);
      }
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
