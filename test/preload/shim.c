/* A test fixture, not the product's mask (that comes with configuration
 * files later): the smallest library that, preloaded into a program that
 * never mentions mongowatch, turns watching on and writes every operation's
 * final record as a "{name} {watch.json}" line to the file named by
 * MWATCH_SHIM_LOG.  test/preload-check runs build/test/plain_app with it.
 * libmongowatch must be preloaded too, before it: as the shim's mere
 * dependency it would come after the program's libmongoc in the symbol
 * search order, and mwatch_patch_mongoc would refuse.
 *
 * Like a mask it never stops the program: when it cannot watch it says why
 * on stderr and the program runs unwatched. */
#include <mongowatch.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__ ((constructor)) static void
shim_init (void)
{
   const char *path = getenv ("MWATCH_SHIM_LOG");
   bson_error_t error;
   if (!path) {
      fprintf (stderr, "mwatch-shim: MWATCH_SHIM_LOG is not set\n");
      return;
   }
   mwatch_handler_t *file = mwatch_handler_new_file (path, &error);
   if (!file) {
      fprintf (stderr, "mwatch-shim: %s\n", error.message);
      return;
   }
   mwatch_handler_t *handlers[] = {file, NULL};
   mwatch_logging_opts_t opts;
   mwatch_logging_opts_init (&opts);
   opts.format = "{name} {watch.json}";
   if (!mwatch_add_logging_handlers (&opts, handlers, &error) || !mwatch_patch_mongoc (&error)) {
      fprintf (stderr, "mwatch-shim: %s\n", error.message);
   }
   mwatch_handler_destroy (file);
}
