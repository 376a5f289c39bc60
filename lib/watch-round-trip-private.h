/* Internal: round trips to the server, as the cursor and change-stream
 * watchers count them (watch-round-trip.c). */
#ifndef MWATCH_WATCH_ROUND_TRIP_PRIVATE_H
#define MWATCH_WATCH_ROUND_TRIP_PRIVATE_H

#include "fast-tls-private.h"

#include <stdint.h>

/* How many times this thread read from a server connection
 * (watch-round-trip.c): a call during which it moved made a round trip. */
extern _Thread_local uint64_t _mwatch_stream_reads MWATCH_FAST_TLS;

#endif /* MWATCH_WATCH_ROUND_TRIP_PRIVATE_H */
