/* dlopen_app PLUGIN DB: a program with no MongoDB of its own that loads a
 * plugin using libmongoc at run time (test/mask-check).  Prints "plugin
 * read N". */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
   const char *uri = getenv ("MONGOWATCH_TEST_URI");
   if (argc != 3 || !uri) {
      fprintf (stderr, "usage: MONGOWATCH_TEST_URI=URI %s PLUGIN DB\n", argv[0]);
      return 2;
   }
   void *plugin = dlopen (argv[1], RTLD_NOW | RTLD_LOCAL);
   if (!plugin) {
      fprintf (stderr, "dlopen_app: %s\n", dlerror ());
      return 1;
   }
   int (*run) (const char *, const char *);
   *(void **) &run = dlsym (plugin, "mongo_plugin_run");
   if (!run) {
      fprintf (stderr, "dlopen_app: %s\n", dlerror ());
      return 1;
   }
   printf ("plugin read %d\n", run (uri, argv[2]));
   dlclose (plugin);
   return 0;
}
