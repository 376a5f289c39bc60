/* How every subcommand says what went wrong. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

void
mwatch_cli_error (const char *format, ...)
{
   va_list args;
   fputs ("mongowatch: ", stderr);
   va_start (args, format);
   vfprintf (stderr, format, args);
   va_end (args);
   fputc ('\n', stderr);
}
