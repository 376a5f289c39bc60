/* Capturing what the watchers log: a handler that keeps a copy of every
 * record's message, level and logger, for tests to check field by field. */
#ifndef MWATCH_TEST_CAPTURE_H
#define MWATCH_TEST_CAPTURE_H

#include "test-util.h"

typedef struct {
   char *logger;
   int level;
   mwatch_message_t *msg; /* a copy */
} mwatch_captured_t;

typedef struct _mwatch_capture_t mwatch_capture_t;

/* Attaches a capturing handler at `level` to the logger "mongowatch",
 * behind a queue handler when `with_queue`, and sets that logger's level
 * to `level`. */
mwatch_capture_t *
capture_start (int level, bool with_queue);

/* Waits until at least `n` records arrived or `seconds` passed; returns
 * the count then. */
size_t
capture_await (mwatch_capture_t *cap, size_t n, double seconds);

/* Drains the queues (mwatch_shutdown) so that every record is in. */
void
capture_drain (mwatch_capture_t *cap);

size_t
capture_count (mwatch_capture_t *cap);

/* The i-th record (valid until capture_stop). */
const mwatch_captured_t *
capture_get (mwatch_capture_t *cap, size_t i);

/* The records whose message is ready (the final ones) and whose Operation
 * is `operation` (NULL: any): how many, and the last of them. */
size_t
capture_finals (mwatch_capture_t *cap, const char *operation, const mwatch_captured_t **last);

/* Field accessors that fail the test when the field is missing. */
int64_t
capture_int (const mwatch_captured_t *rec, const char *path);
const char *
capture_str (const mwatch_captured_t *rec, const char *path);

/* Fixtures for suites of watched operations: patch before each test;
 * after it unpatch, reset the cursor watcher's options and shut logging
 * down. */
void
capture_patched_setup (void);
void
capture_patched_teardown (void);

/* Reads a cursor to its end; returns the documents' count.  `error` (may
 * be NULL) gets the cursor's error, zeroed when there is none. */
int
capture_drain_cursor (mongoc_cursor_t *cursor, bson_error_t *error);

/* Removes the handler (mwatch_shutdown) and frees everything. */
void
capture_stop (mwatch_capture_t *cap);

#endif
