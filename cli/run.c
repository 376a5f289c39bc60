/* mongowatch run: the program replaces this process (exec), with the mask
 * preloaded, so its exit status and signals are its own: there is nothing
 * in between to pass them through. */
#include "cli.h"
#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The mask: MONGOWATCH_PRELOAD (a build tree, tests), else the installed
 * one. */
static const char *
preload_path (void)
{
   const char *path = getenv ("MONGOWATCH_PRELOAD");
   return path && *path ? path : MWATCH_LIBDIR "/libmongowatch-preload.so";
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

   const char *mask = preload_path ();
   if (access (mask, R_OK) != 0) {
      mwatch_cli_error ("run: cannot use the mask %s: %s; install mongowatch, or set "
                        "MONGOWATCH_PRELOAD to libmongowatch-preload.so",
                        mask,
                        strerror (errno));
      return 2;
   }
   if (config) {
      /* Absolute, so that it still names the file after the program
       * changes directory. */
      char resolved[PATH_MAX];
      if (!realpath (config, resolved)) {
         mwatch_cli_error ("run: cannot use the configuration %s: %s", config, strerror (errno));
         return 2;
      }
      setenv ("MONGOWATCH_CONFIG", resolved, 1);
   }
   const char *existing = getenv ("LD_PRELOAD");
   char *preload = existing && *existing ? bson_strdup_printf ("%s:%s", existing, mask)
                                         : bson_strdup (mask);
   setenv ("LD_PRELOAD", preload, 1);
   bson_free (preload);

   execvp (argv[i], argv + i);
   int failed = errno;
   mwatch_cli_error ("run: cannot run %s: %s", argv[i], strerror (failed));
   return failed == ENOENT ? 127 : 126; /* as shells do */
}
