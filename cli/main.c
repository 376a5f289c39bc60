/* mongowatch(1): run a program under the mask, check a configuration,
 * aggregate logs by WatchID. */
#include "cli.h"
#include "paths.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
   "usage: mongowatch run [-c FILE] [--] PROGRAM [ARGS...]\n"
   "       mongowatch check-config [--dry-run | --open] [FILE...]\n"
   "       mongowatch aggregate|aggr [--format csv|jsonl] [-i | -o FILE] [-d DIALECT]\n"
   "                 [-w N] [-t N] [FILE...]\n"
   "       mongowatch --version | --help\n"
   "\n"
   "  run           run PROGRAM with its MongoDB operations audited (LD_PRELOAD of\n"
   "                the mask); -c FILE: the configuration to use\n"
   "  check-config  validate configuration files (merged in the order given;\n"
   "                none: the files the mask would load) and describe them;\n"
   "                log files are not created: each folder must exist and be\n"
   "                writable (--dry-run, the default); --open opens them\n"
   "  aggregate     keep the newest record of each operation (WatchID) of logs\n"
   "                written with update records; FILE - or none: stdin; the\n"
   "                options of pymongowatch-csv aggr (see mongowatch(1))\n"
   "\n"
   "See mongowatch(1) and mongowatch.yaml(5).\n";

int
main (int argc, char **argv)
{
   const char *command = argc > 1 ? argv[1] : NULL;
   if (!command) {
      fputs (usage, stderr);
      return 2;
   }
   if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0 ||
       strcmp (command, "help") == 0) {
      fputs (usage, stdout);
      return 0;
   }
   if (strcmp (command, "--version") == 0) {
      printf ("mongowatch %s\n", MWATCH_VERSION);
      return 0;
   }
   if (strcmp (command, "run") == 0) {
      return mwatch_cli_run (argc - 2, argv + 2);
   }
   if (strcmp (command, "check-config") == 0) {
      return mwatch_cli_check_config (argc - 2, argv + 2);
   }
   if (strcmp (command, "aggregate") == 0 || strcmp (command, "aggr") == 0) {
      return mwatch_cli_aggregate (argc - 2, argv + 2);
   }
   mwatch_cli_error ("unknown command \"%s\"; try mongowatch --help", command);
   return 2;
}
