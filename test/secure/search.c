/* Prints where mongowatch's configuration search looks in this process,
 * one path a line: test/secure-check runs it setuid root as another user. */
#include <mongowatch.h>
#include <stdio.h>

int
main (void)
{
   size_t count = 0;
   char **paths = mwatch_config_search (&count);
   for (size_t i = 0; i < count; i++) {
      printf ("%s\n", paths[i]);
   }
   bson_strfreev (paths);
   return 0;
}
