/* Internal: mongowatch's reports of its own problems, where no logger is
 * involved (report.c). */
#ifndef MWATCH_REPORT_PRIVATE_H
#define MWATCH_REPORT_PRIVATE_H

#include "mongowatch.h"

/* Reports a problem of mongowatch's own ("mongowatch: " and the
 * message): on stderr when fd 2 is a terminal, a file or a pipe, else to the
 * local syslog socket (a daemon's fd 2 is /dev/null, or a reused
 * descriptor of the daemon's own).  mongowatch never writes to stdout, which belongs to the
 * application. */
void
_mwatch_report (const char *format, ...) BSON_GNUC_PRINTF (1, 2);

#endif /* MWATCH_REPORT_PRIVATE_H */
