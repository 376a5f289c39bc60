/* mongowatch run: the program replaces this process (exec), with the mask
 * preloaded, so its exit status and signals are its own: there is nothing
 * in between to pass them through. */
#include "cli.h"
#include "paths.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MASK_NAME "libmongowatch-preload.so"

/* The mask: MONGOWATCH_PRELOAD, else the one in the folder of the
 * libmongowatch this command runs with, else the one in LIBDIR.  Every
 * layout keeps the two side by side (make install: LIBDIR; the Debian
 * package: libmongowatch0 holds both; the build tree: build/lib, which the
 * uninstalled command finds through its rpath), so an uninstalled command
 * uses its own tree's mask and an installed one the mask of its version.
 * The caller frees the result. */
static char *
preload_path (void)
{
   const char *path = getenv ("MONGOWATCH_PRELOAD");
   if (path && *path) {
      return bson_strdup (path);
   }
   void *self = dlopen ("libmongowatch.so." MWATCH_SOVERSION, RTLD_LAZY | RTLD_NOLOAD);
   struct link_map *map = NULL;
   char *found = NULL;
   if (self && dlinfo (self, RTLD_DI_LINKMAP, &map) == 0 && map->l_name && map->l_name[0]) {
      char dir[PATH_MAX];
      if (realpath (map->l_name, dir)) {
         char *slash = strrchr (dir, '/');
         *slash = '\0';
         found = bson_strdup_printf ("%s/" MASK_NAME, dir);
      }
   }
   if (self) {
      dlclose (self);
   }
   return found ? found : bson_strdup (MWATCH_LIBDIR "/" MASK_NAME);
}

int
mwatch_cli_run (int argc, char **argv)
{
   const char *config = NULL;
   int i = 0;
   while (i < argc && argv[i][0] == '-') {
      if (strcmp (argv[i], "--") == 0) {
         i++;
         break;
      }
      if ((strcmp (argv[i], "-c") == 0 || strcmp (argv[i], "--config") == 0) && i + 1 < argc) {
         config = argv[i + 1];
         i += 2;
         continue;
      }
      mwatch_cli_error ("run: unknown option \"%s\"; usage: mongowatch run [-c FILE] [--] "
                        "PROGRAM [ARGS...]",
                        argv[i]);
      return 2;
   }
   if (i >= argc) {
      mwatch_cli_error ("run: no program given; usage: mongowatch run [-c FILE] [--] PROGRAM "
                        "[ARGS...]");
      return 2;
   }

   char *mask = preload_path ();
   if (access (mask, R_OK) != 0) {
      mwatch_cli_error ("run: cannot use the mask %s: %s; install mongowatch, or set "
                        "MONGOWATCH_PRELOAD to " MASK_NAME,
                        mask,
                        strerror (errno));
      bson_free (mask);
      return 2;
   }
   if (config) {
      /* Absolute, so that it still names the file after the program
       * changes directory. */
      char resolved[PATH_MAX];
      if (!realpath (config, resolved)) {
         mwatch_cli_error ("run: cannot use the configuration %s: %s", config, strerror (errno));
         bson_free (mask);
         return 2;
      }
      setenv ("MONGOWATCH_CONFIG", resolved, 1);
   }
   const char *existing = getenv ("LD_PRELOAD");
   char *preload = existing && *existing ? bson_strdup_printf ("%s:%s", existing, mask)
                                         : bson_strdup (mask);
   setenv ("LD_PRELOAD", preload, 1);
   bson_free (preload);
   bson_free (mask);

#ifndef MONGOC_NO_AUTOMATIC_GLOBALS
   /* This command links libmongowatch, so libmongoc too, whose constructor
    * (automatic init, as Debian builds it) initialized it before main: its
    * counters are the shared-memory file /dev/shm/mongoc-PID of this PID,
    * which the program keeps across exec.  exec runs no destructor, so the
    * file would stay for good, and the program's own libmongoc would find
    * it taken and say "Falling back to malloc for counters".  Cleaning up
    * removes it.  Nothing here uses libmongoc after this. */
   mongoc_cleanup ();
#endif
   execvp (argv[i], argv + i);
   int failed = errno;
   mwatch_cli_error ("run: cannot run %s: %s", argv[i], strerror (failed));
   return failed == ENOENT ? 127 : 126; /* as shells do */
}
