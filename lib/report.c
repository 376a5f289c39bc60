/* mongowatch's reports of its own problems: one line on stderr when
 * someone can read it there, else to the local syslog socket. */
#include "report-private.h"
#include "syslog-socket-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether fd 2 is somewhere a report can go: a terminal, a file or a
 * pipe.  A daemon's fd 2 is often /dev/null (nobody reads it), or closed
 * and its number reused by the daemon's own socket or data file, where a
 * report would corrupt what is there. */
static bool
stderr_usable (void)
{
   struct stat st;
   if (fstat (STDERR_FILENO, &st) != 0) {
      return false;
   }
   return isatty (STDERR_FILENO) || S_ISREG (st.st_mode) || S_ISFIFO (st.st_mode);
}

void
_mwatch_report (const char *format, ...)
{
   va_list args;
   char *message;

   va_start (args, format);
   message = bson_strdupv_printf (format, args);
   va_end (args);
   if (stderr_usable ()) {
      /* One call, so that the report is one line even among other
       * threads' writes to stderr. */
      fprintf (stderr, "mongowatch: %s\n", message);
   } else {
      _mwatch_syslog_report (message);
   }
   bson_free (message);
}
