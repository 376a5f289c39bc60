/*
 * mongowatch — application-level auditing for the MongoDB C driver.
 *
 * The one header to include.  It holds nothing itself: the public API is
 * in the parts under mongowatch/, each of which says what it holds.
 * Conventions follow libmongoc's: functions are prefixed mwatch_, types end
 * in _t, constructors are *_new and destructors *_destroy, and errors are
 * reported through a bson_error_t whose domain is MWATCH_ERROR_DOMAIN.
 *
 * Memory: every function that can run out of memory allocates through
 * libbson (bson_malloc and friends), which aborts the process on failure,
 * as libmongoc itself does.  So no function here reports "out of memory".
 */
#ifndef MONGOWATCH_H
#define MONGOWATCH_H

#include <mongowatch/core.h>
#include <mongowatch/message.h>
#include <mongowatch/queue.h>
#include <mongowatch/logging.h>
#include <mongowatch/watch.h>
#include <mongowatch/filters.h>
#include <mongowatch/config.h>

#endif /* MONGOWATCH_H */
