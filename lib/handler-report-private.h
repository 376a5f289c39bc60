/* Internal: what a handler that writes somewhere reports of its failures
 * and counts of what they cost (handler-report.c). */
#ifndef MWATCH_HANDLER_REPORT_PRIVATE_H
#define MWATCH_HANDLER_REPORT_PRIVATE_H

#include "mongowatch.h"

/* Reports `text` as a WARNING on the logger "mongowatch.stats", where the
 * library's reports of what it lost go; when that logger has no handler
 * (its default: it does not propagate to "mongowatch"; or it does not exist
 * yet), or `closing` (the loggers are being detached), through
 * _mwatch_report() instead.  Takes no lock of the loggers' but config_lock
 * for reading, so a handler may call it under its own lock.  Made by the
 * forking thread during fork's prepare (a failing flush), it is put off
 * until the parent's side of the fork, and dropped in the child. */
void
_mwatch_stats_report (const char *text, bool closing);

/* _mwatch_report() unless `*reported` is already set, and sets it.  A
 * handler clears `*reported` when it works again, so that one report
 * stands for one failure however many records it costs. */
void
_mwatch_handler_report_once (bool *reported, const char *format, ...)
   BSON_GNUC_PRINTF (2, 3);

/* What a handler that writes somewhere lost: the records it dropped, and
 * whether the current failure episode was reported.  Kept under the
 * handler's lock, like the rest of its state; zero-initialized. */
typedef struct {
   uint64_t dropped;
   bool reported;
   /* Records dropped since the current episode began (its report). */
   uint64_t episode;
} mwatch_io_stats_t;

/* Counts `records` dropped and, once per episode, reports the failure
 * (the message, then "; dropping records until it works again"). */
void
_mwatch_io_failed (mwatch_io_stats_t *stats, uint64_t records, const char *format, ...)
   BSON_GNUC_PRINTF (3, 4);

/* Ends a failure episode, saying so once when one was reported: "WHAT
 * works again; N records dropped during the failure".  Call it only when a
 * record really reached its destination whole, not when it was merely
 * buffered. */
void
_mwatch_io_works_again (mwatch_io_stats_t *stats, const char *what);

/* At close: "WHAT: N records dropped in all", when any were. */
void
_mwatch_io_report_dropped (const mwatch_io_stats_t *stats, const char *what);

#endif /* MWATCH_HANDLER_REPORT_PRIVATE_H */
