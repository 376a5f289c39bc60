/* mongowatch check-config: builds the configuration as a load would,
 * installs nothing, and describes it.  Log files are only checked (their
 * folder exists and is writable) unless --open: then they are opened,
 * created when new. */
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

static const char check_usage[] =
   "usage: mongowatch check-config [--dry-run | --open] [--] [FILE...]";

int
mwatch_cli_check_config (int argc, char **argv)
{
   char **found = NULL;
   /* A check creates no log file unless asked to: it may run as another
    * user than the program, or before the program's folders are made. */
   mwatch_config_check_mode_t mode = MWATCH_CONFIG_CHECK_DRY_RUN;
   int i = 0;
   for (; i < argc && argv[i][0] == '-' && strcmp (argv[i], "-") != 0; i++) {
      if (strcmp (argv[i], "--") == 0) {
         i++;
         break;
      }
      if (strcmp (argv[i], "--dry-run") == 0) {
         mode = MWATCH_CONFIG_CHECK_DRY_RUN;
      } else if (strcmp (argv[i], "--open") == 0) {
         mode = MWATCH_CONFIG_CHECK_OPEN;
      } else {
         mwatch_cli_error ("check-config: unknown option \"%s\"; %s", argv[i], check_usage);
         return 2;
      }
   }
   const char *const *paths = (const char *const *) argv + i;
   size_t count = (size_t) (argc - i);
   if (count == 0) {
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
   bool ok = mwatch_config_check_files_mode (paths, count, mode, &description, &error);
   if (ok) {
      for (size_t k = 0; k < count; k++) {
         printf ("file %s\n", paths[k]);
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
