/* mongowatch check-config: builds the configuration as a load would,
 * installs nothing, and describes it. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The description on stdout, but for its warnings: those go to stderr,
 * where a script running the check sees them apart from the account. */
static void
print_description (const char *text)
{
   while (*text) {
      size_t len = strcspn (text, "\n");
      bool warning = strncmp (text, "warning: ", 9) == 0;
      fprintf (warning ? stderr : stdout, "%s%.*s\n", warning ? "mongowatch: " : "", (int) len, text);
      text += len + (text[len] == '\n');
   }
}

int
mwatch_cli_check_config (int argc, char **argv)
{
   char **found = NULL;
   const char *const *paths = (const char *const *) argv;
   size_t count = (size_t) argc;
   if (argc > 0 && argv[0][0] == '-' && strcmp (argv[0], "-") != 0) {
      mwatch_cli_error ("check-config: unknown option \"%s\"; usage: mongowatch check-config "
                        "[FILE...]",
                        argv[0]);
      return 2;
   }
   if (argc == 0) {
      found = mwatch_config_search (&count);
      paths = (const char *const *) found;
      if (count == 0) {
         mwatch_cli_error ("check-config: the mask would find no configuration file (see "
                           "mongowatch.yaml(5)); name one: mongowatch check-config FILE");
         bson_strfreev (found);
         return 1;
      }
   }
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   bool ok = mwatch_config_check_files (paths, count, &description, &error);
   if (ok) {
      for (size_t i = 0; i < count; i++) {
         printf ("file %s\n", paths[i]);
      }
      print_description (description.data ? description.data : "");
      printf ("ok\n");
   } else {
      mwatch_cli_error ("%s", error.message);
   }
   mwatch_buf_destroy (&description);
   bson_strfreev (found);
   return ok ? 0 : 1;
}
