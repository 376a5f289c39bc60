/* Round trips, for emit_on_new_retrieves: a cursor's update record marks
 * a batch that came from the server, not each document read from it.
 *
 * libmongoc's cursor API does not say whether a mongoc_cursor_next read
 * from the batch in memory or fetched the next one (find, getMore).  What
 * does tell is I/O: every reply libmongoc receives is read through
 * mongoc_stream_readv (mongoc_stream_read calls it too), which libmongoc
 * calls through its own symbol table, so our definition sees it.  A read
 * from the batch in memory does no I/O at all (no server selection, no
 * monitoring), so a mongoc_cursor_next during which this thread's count
 * moved made a round trip.  The count is per thread: a background
 * monitor (pooled clients) counts on its own thread and never here.
 *
 * The cost is one thread-local increment per read from a socket, and two
 * thread-local loads per watched mongoc_cursor_next. */
#include "interpose-private.h"
#include "watch-round-trip-private.h"

_Thread_local uint64_t _mwatch_stream_reads MWATCH_FAST_TLS;

MWATCH_REAL_SYM (mongoc_stream_readv);
ssize_t
mongoc_stream_readv (mongoc_stream_t *stream,
                     mongoc_iovec_t *iov,
                     size_t iovcnt,
                     size_t min_bytes,
                     int32_t timeout_msec)
{
   _mwatch_stream_reads++;
   return REAL (mongoc_stream_readv) (stream, iov, iovcnt, min_bytes, timeout_msec);
}
