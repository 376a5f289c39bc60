/* The mongowatch command: one function per subcommand, each taking the
 * arguments after its name and returning the exit status. */
#ifndef MWATCH_CLI_H
#define MWATCH_CLI_H

#include <mongowatch.h>

int
mwatch_cli_run (int argc, char **argv);

int
mwatch_cli_check_config (int argc, char **argv);

int
mwatch_cli_aggregate (int argc, char **argv);

/* "mongowatch: " and the message on stderr. */
void
mwatch_cli_error (const char *format, ...) BSON_GNUC_PRINTF (1, 2);

#endif
