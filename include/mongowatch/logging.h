/*
 * mongowatch logging: loggers, records, handlers, filters, formatters.
 *
 * Included by <mongowatch.h>; do not include it on its own.
 *
 * Shaped like Python's logging module, so that its users know it at once:
 * dotted logger names with propagation to ancestors, numeric levels,
 * handlers with a level, filters and a formatter, `{`-style templates.  Its
 * messages are WatchMessages rather than strings.
 *
 * Threads: every function here may be called from any thread.  Loggers live
 * until the process ends.  Handlers, filters and formatters are reference
 * counted: a constructor returns the caller's reference, attaching an
 * object takes one of its own, *_ref() takes one more and *_destroy()
 * drops one; the object is freed when the last reference goes.
 */
#ifndef MONGOWATCH_LOGGING_H
#define MONGOWATCH_LOGGING_H

#ifndef MONGOWATCH_H
#error "include <mongowatch.h>, not <mongowatch/logging.h>"
#endif

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Levels, as in Python's logging.  Any integer is a level; these have names.
 * ------------------------------------------------------------------------ */

#define MWATCH_LEVEL_NOTSET 0
#define MWATCH_LEVEL_DEBUG 10
#define MWATCH_LEVEL_INFO 20
#define MWATCH_LEVEL_WARNING 30
#define MWATCH_LEVEL_ERROR 40
#define MWATCH_LEVEL_CRITICAL 50

/* The name of `level`: "DEBUG", "INFO", ..., "NOTSET"; "Level N" for
 * other numbers, written into `buf` (at least 24 bytes) and returned. */
MWATCH_EXPORT const char *
mwatch_level_name (int level, char *buf, size_t size);

/* Parses a level name (case-insensitive; WARN and FATAL accepted as Python
 * does) or a decimal number.  Returns false for anything else. */
MWATCH_EXPORT bool
mwatch_level_parse (const char *text, int *level);

/* ------------------------------------------------------------------------
 * Records: one log event, as handlers, filters and formatters see it.
 *
 * A record is plain data, all of it below: the library keeps what else it
 * knows of an event (the running operation behind it, which a queue asks
 * for a fresh snapshot at the timeout) beside the record, never in it.  A
 * record the library passes to a filter or a handler is lent for the call.
 *
 * You may build records yourself, on the stack or anywhere, and pass them
 * to mwatch_filter_apply, mwatch_handler_handle, mwatch_handler_format and
 * mwatch_formatter_format.  Set every field (zero what you have no value
 * for; `text` and `watch` may be NULL).  Such a record is handled as one
 * logged with mwatch_logger_log: a queue handler writes it when it is due
 * (a `watch` not ready leaves by timeout at `timeout_level`, its State set
 * to "timeout"), and a handler's filters work on their own copy of
 * `watch`, while mwatch_filter_apply changes `watch` in place.
 *
 * A deferred handler of your own (mwatch_handler_vtable_t) may also be
 * given a record of a running operation whose `level` is below its
 * logger's effective level, only for the sake of its timeout: it is not
 * meant to be written unless it leaves by timeout.
 * ------------------------------------------------------------------------ */

typedef struct {
   const char *name;   /* the logger's dotted name */
   int level;          /* the level it is emitted at */
   /* The level to emit at if the record leaves a queue by timeout, i.e.
    * while its message is not ready.  Equal to `level` for plain records. */
   int timeout_level;
   int64_t created;    /* wall clock, microseconds since the epoch */
   int64_t thread;     /* the emitting thread's id (gettid) */
   int64_t process;    /* the emitting process's id */
   const char *text;   /* a plain text message, or NULL */
   mwatch_message_t *watch; /* the WatchMessage, or NULL */
} mwatch_record_t;

/* ------------------------------------------------------------------------
 * Filters.  A filter decides whether a record goes on (true) or is
 * dropped (false), and may change the record's WatchMessage on the way.
 *
 * What a filter changes stays where it is attached: it never reaches the
 * operation's live state, other handlers, or the operation's later records
 * (each of those is filtered again, from the original).
 * - On a logger: it runs on the thread that logs, on a copy of the message
 *   that the handlers of that one record then see.  As in Python it sees
 *   only records logged on that logger, not those propagated from its
 *   descendants.  A record that leaves a queue by timeout (a fresh
 *   snapshot of the operation) goes through its logger's filters again.
 * - On a plain handler: on a copy of the message for that handler alone.
 * - On a queue handler, or on a handler behind a queue: on the queue's
 *   listener thread, when the record leaves the queue, on the queue's own
 *   copy of the message — so it sees the record as it is written (a final
 *   record's counts and Duration, a timeout's snapshot).
 * ------------------------------------------------------------------------ */

typedef struct _mwatch_filter_t mwatch_filter_t;

/* The vtables of filters and handlers follow one convention: every
 * function takes the implementation (`impl`, as given to the constructor)
 * first, then the object it belongs to, then its arguments; `destroy` takes
 * `impl` alone.  Records are not const: a filter may change its record's
 * message.  The trailing `reserved` slots are for functions later versions
 * may add without changing the size of the struct: they must be NULL, which
 * a static vtable written with designated initialisers gets by itself. */
typedef struct {
   /* Keeps (true) or drops (false) `record`. */
   bool (*filter) (void *impl, mwatch_filter_t *filter, mwatch_record_t *record);
   /* Frees the implementation when the last reference goes.  May be NULL. */
   void (*destroy) (void *impl);
   void *reserved[4]; /* must be NULL */
} mwatch_filter_vtable_t;

/* A filter of your own: `vtable` must outlive the filter (make it static);
 * `impl` is passed to its functions.  NULL when `vtable` or its `filter`
 * is NULL, or a reserved slot is not. */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new (const mwatch_filter_vtable_t *vtable, void *impl);

typedef bool (*mwatch_filter_cb_t) (mwatch_record_t *record, void *user_data);

/* The everyday filter: a function and its data.  `free_user_data`, if not
 * NULL, is called once with `user_data` when the filter is freed (its last
 * reference dropped).  NULL when `callback` is NULL: `free_user_data` is
 * then not called, and `user_data` stays the caller's. */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_new_callback (mwatch_filter_cb_t callback,
                            void *user_data,
                            void (*free_user_data) (void *));

/* Runs the filter on `record`.  Returns true to keep the record, false to
 * drop it. */
MWATCH_EXPORT bool
mwatch_filter_apply (mwatch_filter_t *filter, mwatch_record_t *record);

/* Takes one more reference to `filter` and returns it (NULL: NULL). */
MWATCH_EXPORT mwatch_filter_t *
mwatch_filter_ref (mwatch_filter_t *filter);

/* Drops one reference (NULL: nothing); the filter is freed, and its
 * vtable's destroy called, with the last. */
MWATCH_EXPORT void
mwatch_filter_destroy (mwatch_filter_t *filter);

/* ------------------------------------------------------------------------
 * Formatters: `{`-style templates, compiled once.
 *
 *   {asctime}     creation time, local time, "2026-11-25 11:40:00,123"
 *                 or as the formatter's datefmt says (strftime, plus %f
 *                 for microseconds and %3f for milliseconds)
 *   {created}     creation time, seconds since the epoch (a double)
 *   {name}        the logger's name
 *   {levelname}   "INFO", ...
 *   {levelno}     20, ...
 *   {thread}      the emitting thread's id
 *   {process}     the emitting process's id
 *   {message}     the record's text, or else its {watch}
 *   {watch}       the message's default fields as key=value
 *   {watch.full}  every field as key=value
 *   {watch.csv}   one CSV record
 *   {watch.json}  one JSON object
 *   {watch.F}     the field F; dotted paths reach into documents
 *                 ({watch.Filter.user.name})
 *
 * After the name an optional format spec, Python's mini-language:
 * [[fill]align][sign][0][width][.precision][type], align one of < > ^,
 * type one of d f F e E g G % s ({watch.Duration:.6f}, {levelname:<8}).
 * `{{` and `}}` stand for literal braces.  A field the record lacks renders
 * empty.  An unknown name, an unclosed brace or a bad spec is an error at
 * compile time, naming the column.
 * ------------------------------------------------------------------------ */

typedef struct _mwatch_formatter_t mwatch_formatter_t;

#define MWATCH_DEFAULT_FORMAT "{asctime} {name} - {watch}"

/* Compiles `format` (NULL: MWATCH_DEFAULT_FORMAT) with `datefmt` (NULL:
 * the default shown above).  On error returns NULL and fills `error`. */
MWATCH_EXPORT mwatch_formatter_t *
mwatch_formatter_new (const char *format, const char *datefmt, bson_error_t *error);

/* mwatch_formatter_new for a template in one of Python's three styles:
 * `style` '{' (the above), '%' (%(name)s with printf conversions: flags
 * - 0 + space, width, .precision, type s d i u f F e E g G; "%%" is "%"),
 * '$' ($name or ${name}; "$$" is "$"), or '\0' to infer it: '%' when
 * the template has a "%(" and no "{", else '{'.  The names are those of
 * the {-style list above in every style ("%(levelname)-8s" is
 * "{levelname:<8}"; "%(message)s" and "$message" are {message}); a
 * dotted name ("%(watch.Collection)s", "${watch.Collection}") reaches a
 * field, which Python's logging cannot.  With `format` NULL the default
 * (a {-style template) is used whatever `style` says. */
MWATCH_EXPORT mwatch_formatter_t *
mwatch_formatter_new_style (const char *format,
                            const char *datefmt,
                            char style,
                            bson_error_t *error);

/* Appends the record's line (without a newline) to `out`.  Formatting the
 * same formatter from several threads at once is safe. */
MWATCH_EXPORT void
mwatch_formatter_format (const mwatch_formatter_t *formatter,
                         const mwatch_record_t *record,
                         mwatch_buf_t *out);

/* Takes one more reference to `formatter` and returns it (NULL: NULL). */
MWATCH_EXPORT mwatch_formatter_t *
mwatch_formatter_ref (mwatch_formatter_t *formatter);

/* Drops one reference (NULL: nothing); the formatter is freed with the
 * last. */
MWATCH_EXPORT void
mwatch_formatter_destroy (mwatch_formatter_t *formatter);

/* Sets the columns {watch.csv} writes, in order (NULL-terminated, copied; NULL:
 * mwatch_csv_columns).  Fields no column names go into the trailing
 * MWATCH_CSV_EXTRA column, as a JSON object (see mwatch_message_render_csv).
 * Set before the formatter is given to a handler.  False, with `error`
 * naming the column, for an empty name or a name listed twice. */
MWATCH_EXPORT bool
mwatch_formatter_set_columns (mwatch_formatter_t *formatter,
                              const char *const *columns,
                              bson_error_t *error);

/* Sets how {watch.csv} writes line breaks inside cells.  Whether
 * {watch.csv} (and the header's cells) write each line feed and
 * carriage return inside a cell as the two characters \n and \r, and each
 * backslash as two, so that every record is one physical line for
 * shippers that read a line at a time; reversible (undo the escapes after
 * the CSV is read).  False by default: plain RFC 4180, where a quoted
 * cell may span lines.  Set before the formatter is given to a handler. */
MWATCH_EXPORT void
mwatch_formatter_set_csv_escape_newlines (mwatch_formatter_t *formatter, bool escape);

/* Appends the CSV header line of the formatter's template (without a
 * newline) to `out`: the template with {watch.csv} replaced by the header
 * of its columns (mwatch_render_csv_header), every other field by its
 * name ({name} by "name", {watch.Duration:.3f} by "Duration"), literal
 * text kept.  So "{name},{watch.csv}" gives "name,WatchID,...,Extra", one
 * cell per cell of each line. */
MWATCH_EXPORT void
mwatch_formatter_header (const mwatch_formatter_t *formatter, mwatch_buf_t *out);

/* ------------------------------------------------------------------------
 * Handlers.  A handler has a level (records below it are ignored), an
 * ordered list of filters (all must keep a record) and a formatter, and an
 * implementation behind a vtable.  Write your own with mwatch_handler_new.
 * ------------------------------------------------------------------------ */

typedef struct _mwatch_handler_t mwatch_handler_t;

/* The same convention as mwatch_filter_vtable_t: `impl` first, then the
 * handler, then the arguments; reserved slots at the end, NULL. */
typedef struct {
   /* Writes one record that passed the level and the filters.  Called with
    * the handler's lock held (unless `deferred`), so emit, flush and close
    * never run at once.  Get the formatted line with
    * mwatch_handler_format (handler, ...). */
   void (*emit) (void *impl, mwatch_handler_t *handler, mwatch_record_t *record);
   /* Pushes out anything buffered.  May be NULL. */
   void (*flush) (void *impl, mwatch_handler_t *handler);
   /* Releases the handler's resources (files, sockets, threads); emit is
    * not called after.  May be NULL. */
   void (*close) (void *impl, mwatch_handler_t *handler);
   /* Frees the implementation when the last reference goes.  May be
    * NULL. */
   void (*destroy) (void *impl);
   /* True for a handler that passes records on later (the queue
    * handler): its emit is thread-safe by itself, so no lock is taken, and
    * its level check also admits a record that is not ready when the
    * record's timeout_level passes, since it may leave by timeout. */
   bool deferred;
   /* How many records the handler holds unsent (buffered, or kept for a
    * later retry).  A queue handler whose close gives up on a listener
    * stuck in this handler counts them as dropped.  Called from another
    * thread while emit may be running: take no lock emit holds (read a
    * counter kept atomically).  May be NULL (none held). */
   uint64_t (*held) (void *impl, mwatch_handler_t *handler);
   void *reserved[3]; /* must be NULL */
} mwatch_handler_vtable_t;

/* A handler of your own: level NOTSET, no filters, the default formatter.
 * `vtable` must outlive the handler; `impl` is passed to its functions.
 * NULL when `vtable` or its `emit` is NULL, or a reserved slot is not. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new (const mwatch_handler_vtable_t *vtable, void *impl);

/* The implementation `impl` that `handler` was made with
 * (mwatch_handler_new). */
MWATCH_EXPORT void *
mwatch_handler_impl (const mwatch_handler_t *handler);

/* Sets a name for reports about the handler (records it dropped, failures):
 * a configuration file names each handler it builds after its key.  Set
 * it before the handler is attached anywhere; `name` is copied. */
MWATCH_EXPORT void
mwatch_handler_set_name (mwatch_handler_t *handler, const char *name);

/* The handler's name, or NULL. */
MWATCH_EXPORT const char *
mwatch_handler_get_name (const mwatch_handler_t *handler);

/* Sets the handler's level: records below it are ignored (NOTSET, the
 * default, lets every record through). */
MWATCH_EXPORT void
mwatch_handler_set_level (mwatch_handler_t *handler, int level);

/* The handler's level. */
MWATCH_EXPORT int
mwatch_handler_get_level (const mwatch_handler_t *handler);

/* Sets the handler's formatter, taking a reference to it (NULL: back to
 * the default). */
MWATCH_EXPORT void
mwatch_handler_set_formatter (mwatch_handler_t *handler, mwatch_formatter_t *formatter);

/* True when a formatter was set explicitly. */
MWATCH_EXPORT bool
mwatch_handler_has_formatter (const mwatch_handler_t *handler);

/* Appends `filter` to the handler's filters, taking a reference to it. */
MWATCH_EXPORT void
mwatch_handler_add_filter (mwatch_handler_t *handler, mwatch_filter_t *filter);

/* Formats `record` with the handler's formatter into the handler's own
 * buffer and returns the line (NUL-terminated, no newline); valid until the
 * next call.  For use inside emit. */
MWATCH_EXPORT const char *
mwatch_handler_format (mwatch_handler_t *handler,
                       const mwatch_record_t *record,
                       size_t *len);

/* The whole path of a record through a handler: the level check, the
 * filters, then emit under the lock.  Returns true if it was emitted. */
MWATCH_EXPORT bool
mwatch_handler_handle (mwatch_handler_t *handler, mwatch_record_t *record);

/* Pushes out what the handler has buffered (its vtable's flush), under
 * its lock. */
MWATCH_EXPORT void
mwatch_handler_flush (mwatch_handler_t *handler);

/* Closes the handler once; later records are ignored. */
MWATCH_EXPORT void
mwatch_handler_close (mwatch_handler_t *handler);

/* Takes one more reference to `handler` and returns it (NULL: NULL). */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_ref (mwatch_handler_t *handler);

/* Drops one reference (NULL: nothing).  With the last the handler is
 * closed (mwatch_handler_close), its vtable's destroy called and its
 * filters and formatter released. */
MWATCH_EXPORT void
mwatch_handler_destroy (mwatch_handler_t *handler);

/* Built-in handlers.  Those that open something report failure through
 * `error` (naming the path) and return NULL. */

/* Writes each line and a newline to `stream` (NULL: stderr), which stays
 * the caller's to close. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_stream (FILE *stream);

/* Appends to the file at `path`, created with mode 0640 if missing. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_file (const char *path, bson_error_t *error);

/* A file handler that rolls the file over by size.  As the file handler,
 * but when a line would make the file larger than
 * `max_bytes`, renames path.N-1 to path.N ... path to path.1, keeping
 * `backup_count` old files, and starts a new one.  As in Python, with
 * max_bytes or backup_count 0 the file is never rolled over. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_rotating_file (const char *path,
                                  int64_t max_bytes,
                                  int backup_count,
                                  bson_error_t *error);

/* A file handler that opens its file at the first record.  As the
 * rotating file handler (max_bytes or backup_count 0: a plain file
 * handler), but the file is opened at the first record rather than now,
 * like Python's FileHandler(delay=True): a daemon that is configured
 * before it forks and closes every descriptor loses nothing.  The path is
 * still checked now: an existing file must be writable, a new one's
 * folder must exist and be writable.
 *
 * Every file handler, delayed or not, checks before each write that its
 * descriptor is still the file it opened (device and inode); when the
 * application closed it, and perhaps reused the number for one of its
 * own, the handler leaves that descriptor alone and opens the file again
 * by name. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_delayed_file (const char *path,
                                 int64_t max_bytes,
                                 int backup_count,
                                 bson_error_t *error);

/* How a timed rotating file handler rolls over (Python's
 * TimedRotatingFileHandler).  `when` (case-insensitive): "S" (seconds),
 * "M" (minutes), "H" (hours), "D" (days), "midnight", or "W0" ... "W6"
 * (Monday ... Sunday, at midnight); the period is `interval` of those
 * units (>= 1).  The old file is renamed to path.SUFFIX, SUFFIX being the
 * start of the period it covers: %Y-%m-%d_%H-%M-%S for S, %Y-%m-%d_%H-%M
 * for M, %Y-%m-%d_%H for H, %Y-%m-%d for the others, in local time or, with
 * `utc`, UTC.  With `backup_count` > 0 the oldest such files beyond that
 * many are removed; 0 keeps them all.  `at_time`: for midnight and W0-W6,
 * the time of day of the rollover in seconds after midnight (-1: midnight).
 * `delay`: open the file at the first record (see
 * mwatch_handler_new_delayed_file). */
typedef struct {
   const char *when;
   int interval;
   int backup_count;
   bool utc;
   int at_time;
   bool delay;
} mwatch_timed_rotation_opts_t;

/* Fills `opts` with Python's defaults: when "H", interval 1, backup_count 0, local time, at
 * midnight, not delayed. */
MWATCH_EXPORT void
mwatch_timed_rotation_opts_init (mwatch_timed_rotation_opts_t *opts);

/* A file handler rolled over by time, as `opts` says (NULL: the
 * defaults).  The first rollover is one period after the file's last
 * modification (or now, for a new file), as in Python: a file left from an
 * earlier run that is already due is rolled over at the first record.  The
 * rollover happens at the first record at or after the time it is due;
 * lines buffered before it go into the old file.  An existing path.SUFFIX
 * is never replaced (Python removes it): that rollover is skipped, and the
 * lines stay in the current file.  Only a regular file is renamed.  Returns
 * NULL with `error` set for a bad option (naming it) or a file that cannot
 * be opened. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_timed_rotating_file (const char *path,
                                        const mwatch_timed_rotation_opts_t *opts,
                                        bson_error_t *error);

/* Syslog facilities (the numbers of RFC 5424). */
#define MWATCH_SYSLOG_USER 1
#define MWATCH_SYSLOG_DAEMON 3
#define MWATCH_SYSLOG_LOCAL0 16
#define MWATCH_SYSLOG_LOCAL7 23

/* A handler that sends each line to the local syslog socket
 * `socket_path` (NULL: /dev/log), as a datagram "<PRI>ident[pid]: line".  Levels map to severities:
 * CRITICAL and above 2, ERROR 3, WARNING 4, INFO 6, DEBUG and below 7.
 * `ident` NULL: the program's name. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_syslog (const char *socket_path,
                           int facility,
                           const char *ident,
                           bson_error_t *error);

/* Sets the longest datagram a syslog handler sends.
 *
 * Sending never waits: a record the socket cannot take at once (its
 * reader is not reading) is dropped, counted and reported on
 * "mongowatch.stats" once per episode, and once when sending works again.
 * A record whose datagram would be longer than `max_length` bytes (65,000
 * by default; the header counts), or that the socket refuses as too long,
 * has its longest values shortened, each ending with
 * "…[truncated N bytes]" (a document or an array becomes its JSON text,
 * shortened), and is formatted again: a {watch.json} line stays valid
 * JSON.   False, with
 * `error` set, for a handler that is not a syslog handler, or a length
 * under 1,024 or over 16 MiB. */
#define MWATCH_SYSLOG_DEFAULT_MAX_LENGTH 65000
MWATCH_EXPORT bool
mwatch_syslog_handler_set_max_length (mwatch_handler_t *handler,
                                      size_t max_length,
                                      bson_error_t *error);

/* The remote syslog handler (RFC 5424): each record as one message
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID NAME="VALUE" ...] MSG
 *
 * PRI from `facility` and the record's level (severities as the local
 * syslog handler's), TIMESTAMP the record's creation in UTC with
 * microseconds, PROCID the sending process, MSGID the record's Operation
 * ("find", "insert_many"; "-" without one), one SD-PARAM per field of the
 * record's WatchMessage (fields starting with '_' apart) under the SD-ID
 * `sd_id`, its value as in {watch.csv} (documents and arrays as relaxed
 * JSON, times as ISO-8601, null as "") with '"', '\' and ']' escaped, and
 * MSG the formatted line, after the UTF-8 BOM unless `bom` is false.
 * A message longer than `max_length` has MSG cut first, then, if that is
 * not enough, MSG left out and the longest SD-PARAM values cut, each cut
 * ending with "…[truncated N bytes]".
 *
 * Transports: UDP (RFC 5426, one message per datagram), TCP (RFC 6587
 * octet counting: "LEN MSG"), a unix datagram socket (rsyslog's imuxsock,
 * /dev/log) or a unix stream socket (octet counting).
 *
 * Put it behind a queue handler (mwatch_handler_new_queue): emit sends the
 * record at once and, when it cannot (the daemon is down or restarting,
 * a stream connection was closed), reconnects and retries with a backoff
 * doubling up to `backoff_max_sec`, for at most `retry_timeout_sec`
 * before it drops the record, counts it and reports it on
 * "mongowatch.stats" once per failure episode (and once when sending
 * works again); the queue buffers what comes meanwhile, within its own
 * bound, and bounds the exit with its shutdown_timeout_sec. */
typedef enum {
   MWATCH_SYSLOG5424_UDP = 0,
   MWATCH_SYSLOG5424_TCP,
   MWATCH_SYSLOG5424_UNIX,        /* a datagram socket */
   MWATCH_SYSLOG5424_UNIX_STREAM, /* octet counting, as TCP */
} mwatch_syslog5424_transport_t;

typedef struct {
   mwatch_syslog5424_transport_t transport; /* UDP by default */
   /* UDP and TCP: "HOST:PORT", "[IPV6]:PORT", or a host alone (port
    * 514), resolved again at each connection; unix: the socket's path.
    * Required. */
   const char *address;
   int facility; /* MWATCH_SYSLOG_USER by default; 0 to 23 */
   /* HOSTNAME: NULL for gethostname(), "" for NILVALUE; 1 to 255
    * printable US-ASCII characters. */
   const char *hostname;
   /* APP-NAME: NULL for the program's name, "" for NILVALUE; 1 to 48
    * printable US-ASCII characters. */
   const char *app_name;
   /* The SD-ID of the watch fields, NAME@PRIVATE-ENTERPRISE-NUMBER: NULL
    * for "mongowatch@32473" (32473 is the example number RFC 5612
    * reserves for documentation; an organisation with a number of its
    * own should use it). */
   const char *sd_id;
   /* The longest message (its frame apart): 8,192 bytes by default,
    * rsyslog's default limit; 480 (what every receiver takes) to 65,507
    * for datagrams, to 16 MiB for streams. */
   size_t max_length;
   bool bom; /* true by default, as RFC 5424 6.4 asks for UTF-8 text */
   /* 10 s by default; 0 to 3600; 0: one attempt (a connection is given
    * a second at least), no retry. */
   double retry_timeout_sec;
   double backoff_max_sec;   /* 2 s by default; 0 to 3600 (at least 50 ms) */
} mwatch_syslog5424_opts_t;

#define MWATCH_SYSLOG5424_DEFAULT_MAX_LENGTH 8192

/* Fills `opts` with the defaults above (no address). */
MWATCH_EXPORT void
mwatch_syslog5424_opts_init (mwatch_syslog5424_opts_t *opts);

/* The remote syslog handler, as `opts` says (NULL: the defaults, which
 * have no address: an error).  It connects at the first record, not now,
 * so that the daemon may start later.  NULL with `error` set
 * (MWATCH_ERROR_INVALID_ARGUMENT) for an option out of range, naming it,
 * or (MWATCH_ERROR_IO) a host name that does not resolve. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_syslog5424 (const mwatch_syslog5424_opts_t *opts, bson_error_t *error);

/* What a remote syslog handler did so far: messages sent, records
 * dropped (not sent within the retry bound, or too long even shortened),
 * connections made (the first included). */
typedef struct {
   uint64_t sent;
   uint64_t dropped;
   uint64_t connects;
} mwatch_syslog5424_stats_t;

/* Fills `stats` for `handler`; all zero when it is not a remote syslog
 * handler.  Safe from any thread. */
MWATCH_EXPORT void
mwatch_syslog5424_handler_stats (mwatch_handler_t *handler, mwatch_syslog5424_stats_t *stats);
/* The metrics handler: counts each final record (State "final") per
 * (DB, Collection, Operation) — operations, errors (records with an Error
 * field), documents by count field, and a histogram of Duration in fixed
 * buckets of 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
 * 0.5, 1, 2.5, 5 and 10 seconds — and writes them to the file at `path`
 * in Prometheus' text exposition format, for node_exporter's textfile
 * collector (name it NAME.prom in the collector's folder).  Other records
 * (first, update, timeout) are not counted; the formatter is not used.
 *
 * Emitting formats nothing and does no I/O: a thread of the handler's
 * own, started at the first record, writes the file every
 * `interval_sec` when the counts changed, and closing the handler writes
 * it once more.  Each write is whole: a temporary file in the same folder
 * (".NAME.PID.tmp"), fsync, rename over `path`; a reader sees the old
 * file or the new one.  A write that fails is reported once on
 * "mongowatch.stats" and tried again every interval; the counts are
 * cumulative, so the next good write has them all.  At most `max_series`
 * series are kept: records of a new one beyond that are counted in
 * mongowatch_metrics_records_dropped_total and reported once.
 *
 * After fork() a child counts afresh.  Every "{pid}" in `path` is the
 * writing process's id: then each process writes a file of its own, its
 * series labelled pid="N".  Without "{pid}" the file is the configuring
 * process's, and a child counts nothing (said once).
 *
 * NULL, with `error` set, for a missing path, an option out of range, or
 * a folder that is not there or not writable (naming it).  doc/
 * configuration.md, "metrics", lists the series. */
typedef struct {
   double interval_sec; /* MWATCH_METRICS_DEFAULT_INTERVAL_SEC; 0.001 to 86400 */
   size_t max_series;   /* MWATCH_METRICS_DEFAULT_MAX_SERIES; 1 to 1,000,000 */
} mwatch_metrics_handler_opts_t;

#define MWATCH_METRICS_DEFAULT_INTERVAL_SEC 15.0
#define MWATCH_METRICS_DEFAULT_MAX_SERIES 1000
#define MWATCH_METRICS_MAX_SERIES_LIMIT 1000000

/* Fills `opts` with the defaults above. */
MWATCH_EXPORT void
mwatch_metrics_handler_opts_init (mwatch_metrics_handler_opts_t *opts);

/* `opts` may be NULL for the defaults. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_metrics (const char *path,
                            const mwatch_metrics_handler_opts_t *opts,
                            bson_error_t *error);

/* ------------------------------------------------------------------------
 * The OpenTelemetry handler: records as OTLP log records (and, optionally,
 * spans) over OTLP/HTTP with JSON bodies, to an OpenTelemetry Collector or
 * any OTLP/HTTP endpoint.
 *
 * Each final record (and each record that left a queue by timeout, and
 * each plain text record) becomes one log record: its body the handler's
 * formatted line ("{message}" unless a formatter is set), its severity the
 * record's level, its instrumentation scope the logger's name, and its
 * attributes those of OpenTelemetry's database conventions:
 * db.system.name "mongodb", db.namespace (DB), db.collection.name
 * (Collection), db.operation.name (Operation: find, insert_many, ...),
 * db.query.text (the Filter as JSON, as the handler's filters left it:
 * redacted when they redact), db.response.returned_rows (the documents a
 * cursor returned), error.type "_OTHER" and error.message (Error) for a
 * failed operation; every other field as mongowatch.<field in snake
 * case> (mongowatch.watch_id, mongowatch.duration, mongowatch.inserted_count,
 * context fields), and thread.id.  First and update records are not sent.
 * With `spans`, each final record is also a span (kind CLIENT, named
 * "OPERATION COLLECTION", from StartTime to EndTime, status ERROR when it
 * failed), and its log record carries the span's trace and span ids.
 *
 * Sending is done by a thread of the handler's own (started by the first
 * record, so that building the handler starts none), in batches: emit only
 * encodes the record and puts it into a bounded buffer.  A record the full
 * buffer cannot take is dropped and counted; a batch the endpoint refuses
 * for good (an HTTP status other than 429, 502, 503, 504) is dropped and
 * counted; a collector that is down, restarting or answering 429/50x is
 * tried again with exponential backoff (0.1 s doubling up to
 * backoff_max_sec, with jitter) while the buffer holds the records.
 * Failures and drops are reported on "mongowatch.stats" once per episode
 * and when sending works again, and the drops in all at close.  Closing
 * sends what is buffered for at most shutdown_timeout_sec, then counts
 * what is left as dropped.  A child after fork() drops its copies of the
 * parent's buffered records (the parent sends them) and sends its own
 * from a thread of its own, started by its first record.
 *
 * Every string is copied; NULL means "from the environment, as
 * OpenTelemetry's SDKs read it, else the default".
 * ------------------------------------------------------------------------ */
typedef struct {
   /* The base URL: the logs go to ENDPOINT/v1/logs, the spans to
    * ENDPOINT/v1/traces.  NULL: OTEL_EXPORTER_OTLP_ENDPOINT, else
    * http://localhost:4318. */
   const char *endpoint;
   /* The logs' URL as it is.  NULL: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    * else from `endpoint`. */
   const char *logs_endpoint;
   /* The spans' URL as it is.  NULL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    * else from `endpoint`. */
   const char *traces_endpoint;
   /* Also a span per final record: false by default. */
   bool spans;
   /* service.name.  NULL: OTEL_SERVICE_NAME, else service.name from
    * OTEL_RESOURCE_ATTRIBUTES, else "unknown_service:PROGRAM". */
   const char *service_name;
   /* More resource attributes, as pairs key, value, ..., NULL (NULL:
    * none); they are added to those of OTEL_RESOURCE_ATTRIBUTES
    * ("k=v,k2=v2", values percent-encoded) and win over them. */
   const char *const *resource_attributes;
   /* HTTP headers, as pairs name, value, ..., NULL (an API key, say).
    * NULL: OTEL_EXPORTER_OTLP_LOGS_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS
    * (same syntax as the attributes). */
   const char *const *headers;
   /* Records the buffer holds: 2048 (OpenTelemetry's default); and the
    * bound on their encoded bytes: 32 MiB. */
   size_t max_queue_size;
   size_t max_queue_bytes;
   /* Records in one request: 512. */
   size_t max_batch_size;
   /* How long a record may wait for a batch to fill: 1 s.  A flush (which
    * a queue's listener makes whenever it runs dry) sends at once. */
   double schedule_delay_sec;
   /* The longest one request may take: 10 s. */
   double export_timeout_sec;
   /* The longest wait between two tries: 5 s. */
   double backoff_max_sec;
   /* The longest close waits for the buffer to be sent: 5 s. */
   double shutdown_timeout_sec;
   /* Also OTLP metrics: the histogram db.client.operation.duration (unit
    * s, cumulative, OpenTelemetry's advised bucket bounds from 1 ms to
    * 5 s) of the final records, one series per DB, Collection, Operation
    * (and error.type "_OTHER" for the failed ones, so that its count is
    * the errors), sent every `metrics_interval_sec` (60 s) when it
    * changed, and at close.  At most 1,000 series; operations beyond
    * them are left out and counted (`metrics_overflow`).  False by
    * default. */
   bool metrics;
   double metrics_interval_sec;
   /* The metrics' URL as it is.  NULL: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    * else ENDPOINT/v1/metrics. */
   const char *metrics_endpoint;
} mwatch_otlp_opts_t;

/* Fills `opts` with the defaults above (every string NULL). */
MWATCH_EXPORT void
mwatch_otlp_opts_init (mwatch_otlp_opts_t *opts);

/* A new OpenTelemetry handler (`opts` NULL: the defaults), its sending
 * thread started.  Nothing is sent yet: a collector that is down at
 * start is tried again as above, not an error.  NULL with `error` set
 * (naming the setting or the variable) for a URL that is not http:// or
 * https://, an OTEL_EXPORTER_OTLP_PROTOCOL of grpc (this handler speaks
 * OTLP/HTTP only), a malformed header or attribute list, a size of 0,
 * a libcurl that cannot be loaded (the first handler made loads
 * libcurl.so.4, Debian package libcurl4; it is not linked), or a thread
 * that cannot be started. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_otlp (const mwatch_otlp_opts_t *opts, bson_error_t *error);

/* What an OpenTelemetry handler did so far: log records the endpoint
 * accepted (`sent`), spans it accepted, records dropped (buffer full,
 * refused, left at close), requests tried again, records buffered now;
 * metrics exports accepted, and operations left out of the metrics
 * (beyond 1,000 series). */
typedef struct {
   uint64_t sent;
   uint64_t spans_sent;
   uint64_t dropped;
   uint64_t retries;
   uint64_t queued;
   uint64_t metrics_sent;
   uint64_t metrics_overflow;
} mwatch_otlp_stats_t;

/* The counters of `handler`; zeros for a handler of another kind. */
MWATCH_EXPORT void
mwatch_otlp_handler_stats (mwatch_handler_t *handler, mwatch_otlp_stats_t *stats);

/* The counters of the live OpenTelemetry handler named `name` (a
 * configuration names its handlers after their keys): false, with
 * `stats` zeroed, when there is none. */
MWATCH_EXPORT bool
mwatch_otlp_handler_stats_by_name (const char *name, mwatch_otlp_stats_t *stats);

typedef void (*mwatch_line_cb_t) (const char *line,
                                  size_t len,
                                  const mwatch_record_t *record,
                                  void *user_data);

/* Calls `callback` with each formatted line.  `free_user_data`, if not
 * NULL, is called once with `user_data` when the handler is freed (its
 * last reference dropped).  `callback` must not be NULL: the constructor
 * cannot fail. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_callback (mwatch_line_cb_t callback,
                             void *user_data,
                             void (*free_user_data) (void *));

/* Discards every record. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_null (void);

/* The queue handler: emit copies the record and its message into a
 * WatchQueue and returns at once, never formatting, never doing I/O.  A
 * listener thread takes each record when it is due — ready, timed out or
 * delayed — and hands it to `backend` (taking a reference to it): a record
 * whose message is not ready leaves with its timeout_level.  Closing the
 * queue handler drains the queue into the backend, for at most
 * shutdown_timeout_sec, then flushes and closes the backend.
 *
 * Nothing is lost silently: every record the queue drops (full, or left
 * when the drain at close ran out of time) is counted, final records
 * apart, and reported — as a WARNING on the logger "mongowatch.stats"
 * while the handler runs (at most every stats_interval_sec), and once more
 * on stderr when it closes.  A record the stats logger cannot place (it
 * has no handler, the default) goes to stderr, as Python's last resort. */
typedef struct {
   double default_delay_sec;
   bool force_default_delay;
   size_t capacity; /* 0: MWATCH_QUEUE_DEFAULT_CAPACITY */
   /* MWATCH_OVERFLOW_BLOCK by default: an audit trail wants back-pressure
    * rather than loss, within block_timeout_sec. */
   mwatch_overflow_t overflow;
   /* The longest an application thread waits for room (BLOCK): 1 s by
    * default; 0: no limit.  See mwatch_queue_opts_t. */
   double block_timeout_sec;
   /* The bound on the queued records' memory: 32 MiB by default; 0: none. */
   size_t max_bytes;
   /* The longest closing (mwatch_shutdown(), exit) waits for the queue to
    * drain into a slow or stalled backend: 5 s by default, which 0 also
    * means.  What is left after that is counted and reported, and the
    * listener and backend are left to the process's end. */
   double shutdown_timeout_sec;
   /* How often, at most, the drops are reported on "mongowatch.stats":
    * 10 s by default, which 0 also means. */
   double stats_interval_sec;
} mwatch_queue_handler_opts_t;

#define MWATCH_QUEUE_HANDLER_DEFAULT_MAX_BYTES ((size_t) 32 << 20)

/* Fills `opts` with the defaults given above. */
MWATCH_EXPORT void
mwatch_queue_handler_opts_init (mwatch_queue_handler_opts_t *opts);

/* The queue handler (see mwatch_queue_handler_opts_t above), in front of
 * `backend`.  `opts` may be NULL for the defaults. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_queue (mwatch_handler_t *backend,
                          const mwatch_queue_handler_opts_t *opts);

/* The queue handler's counters (`dropped` includes records left unwritten
 * when a drain at close ran out of time). */
MWATCH_EXPORT void
mwatch_queue_handler_stats (mwatch_handler_t *handler, mwatch_queue_stats_t *stats);

/* The counters of the live queue handler named `name` (see
 * mwatch_handler_set_name; a configuration names its handlers): false,
 * with `stats` zeroed, when there is none. */
MWATCH_EXPORT bool
mwatch_queue_handler_stats_by_name (const char *name, mwatch_queue_stats_t *stats);

/* The MongoDB audit handler: each record as a typed document in the
 * collection `database`.`collection` of the server at `uri`, inserted by
 * a thread of the handler's own, in batches (one insert_many of what has
 * arrived, up to batch_size records), on a client of its own whose calls
 * are never watched: the audit writes make no records.
 *
 * A stored document: _id (an ObjectId made by the handler), created (the
 * record's time, a date), name (the logger), levelname, levelno (int32),
 * process and thread (int64), message (a text record's text) and watch:
 * the WatchMessage's fields in order with their own types: WatchID an
 * ObjectId, StartTime and EndTime dates (milliseconds; the message keeps
 * microseconds), Filter and Update sub-documents, the counts and
 * Iteration int64, Duration a double of seconds (as in every other
 * output), Error a string, context fields strings.  Fields whose name
 * starts with '_' are left out.  Keys inside documents that start with
 * '$' or hold a '.' ({"age": {"$gt": 30}}, {"user.name": "x"}), which
 * MongoDB before 5.0 and FerretDB refuse to store, have that '$' and each
 * '.' replaced by U+FF04 (＄) and U+FF0E (．).  The handler's formatter
 * is not used.  Its filters run as any handler's: a redact filter
 * redacts the stored Filter.
 *
 * With `ttl_sec` > 0 the handler creates the index "mongowatch_ttl" on
 * created with expireAfterSeconds `ttl_sec` before its first insert (a
 * server that refuses it, as FerretDB does, is reported once and the
 * records are kept).
 *
 * Nothing is lost silently: while the server is down or does not answer
 * the records wait in a buffer (grown as they wait) of at most `capacity`
 * records and `max_bytes` bytes of documents and the batch is retried with a backoff
 * (100 ms, doubling up to backoff_max_sec); beyond the buffer's bound new
 * records are dropped, counted and reported on "mongowatch.stats" once
 * per failure, and once when inserting works again.  Every document has
 * its _id before its first attempt: a batch sent again after a lost
 * reply does not store a record twice.  A record the server refuses (a
 * write error) is counted and reported.  Closing (mwatch_shutdown(),
 * exit) waits at most shutdown_timeout_sec for the buffer to empty; what
 * is left is counted and reported on stderr.  Each attempt is bounded by
 * the URI's connectTimeoutMS (2 s unless the URI sets it),
 * serverSelectionTimeoutMS (2 s) and socketTimeoutMS (10 s).
 *
 * After fork() the child's handler starts a thread and client of its own
 * at its first record; the parent's buffered records are the parent's,
 * and the child's counters (mwatch_mongodb_handler_stats) start at 0. */
typedef struct {
   const char *uri;        /* required: mongodb://... */
   const char *database;   /* required */
   const char *collection; /* required */
   int64_t ttl_sec;        /* 0: no TTL index */
   size_t capacity;        /* MWATCH_MONGODB_DEFAULT_CAPACITY */
   size_t max_bytes;       /* MWATCH_MONGODB_DEFAULT_MAX_BYTES */
   size_t batch_size;      /* MWATCH_MONGODB_DEFAULT_BATCH_SIZE */
   double backoff_max_sec; /* 5 s; at least 0.1 */
   double shutdown_timeout_sec; /* 5 s */
} mwatch_mongodb_handler_opts_t;

#define MWATCH_MONGODB_DEFAULT_CAPACITY ((size_t) 100000)
#define MWATCH_MONGODB_DEFAULT_MAX_BYTES ((size_t) 64 << 20)
#define MWATCH_MONGODB_DEFAULT_BATCH_SIZE ((size_t) 1000)

/* Fills `opts` with the defaults above (uri, database and collection
 * NULL). */
MWATCH_EXPORT void
mwatch_mongodb_handler_opts_init (mwatch_mongodb_handler_opts_t *opts);

/* The handler (see above).  Connects at the first record, not now: a
 * server that is down is reported when the first batch fails.  NULL, with
 * `error` saying which, for a missing or bad URI, database or collection
 * name, or an option out of its bounds. */
MWATCH_EXPORT mwatch_handler_t *
mwatch_handler_new_mongodb (const mwatch_mongodb_handler_opts_t *opts, bson_error_t *error);

/* What a MongoDB handler did so far. */
typedef struct {
   uint64_t inserted;       /* records stored */
   uint64_t dropped;        /* records dropped: buffer full, or left at close */
   uint64_t lost_at_close;  /* of `dropped`: left when closing ran out of time */
   uint64_t refused;        /* records the server refused (a write error) */
   uint64_t failed_batches; /* attempts that failed and were retried */
   uint64_t buffered;       /* records waiting now */
} mwatch_mongodb_handler_stats_t;

/* Fills `stats`; false (zeroed) when `handler` is not a MongoDB handler. */
MWATCH_EXPORT bool
mwatch_mongodb_handler_stats (mwatch_handler_t *handler, mwatch_mongodb_handler_stats_t *stats);

/* ------------------------------------------------------------------------
 * Loggers.  Named with dots ("mongowatch.cursor"); each name's parent is
 * the name without its last part, and the root logger ("") is everyone's
 * ancestor.  A record is handled by its logger's handlers and then, unless
 * the logger's propagate flag is off, by its parent's, and so on up.
 * ------------------------------------------------------------------------ */

typedef struct _mwatch_logger_t mwatch_logger_t;

/* The logger with this name, created on first use (NULL or "": the root,
 * whose level is WARNING, as in Python).  Never freed. */
MWATCH_EXPORT mwatch_logger_t *
mwatch_logger_get (const char *name);

/* The logger's dotted name ("" for the root logger). */
MWATCH_EXPORT const char *
mwatch_logger_name (const mwatch_logger_t *logger);

/* Sets the logger's level; NOTSET makes the logger inherit its ancestors'
 * level. */
MWATCH_EXPORT void
mwatch_logger_set_level (mwatch_logger_t *logger, int level);

/* The level set on the logger itself (NOTSET if none). */
MWATCH_EXPORT int
mwatch_logger_get_level (const mwatch_logger_t *logger);

/* The first level set on the logger or an ancestor (NOTSET if none). */
MWATCH_EXPORT int
mwatch_logger_effective_level (const mwatch_logger_t *logger);

/* Whether a record at `level` would be handled: true when `level` is at
 * least the logger's effective level. */
MWATCH_EXPORT bool
mwatch_logger_is_enabled_for (const mwatch_logger_t *logger, int level);

/* Whether records go on to the handlers of the logger's ancestors (true,
 * the default). */
MWATCH_EXPORT void
mwatch_logger_set_propagate (mwatch_logger_t *logger, bool propagate);

/* Attaches `handler` to the logger, taking a reference to it. */
MWATCH_EXPORT void
mwatch_logger_add_handler (mwatch_logger_t *logger, mwatch_handler_t *handler);

/* Detaches `handler` from the logger.  Returns false if the handler was
 * not attached. */
MWATCH_EXPORT bool
mwatch_logger_remove_handler (mwatch_logger_t *logger, mwatch_handler_t *handler);

/* Whether a record logged on `logger` would reach any handler: the
 * logger's own or an ancestor's, up to the first that does not propagate
 * (Python's Logger.hasHandlers). */
MWATCH_EXPORT bool
mwatch_logger_has_handlers (mwatch_logger_t *logger);

/* Attaches `filter` to the logger, taking a reference to it.  A logger's
 * filters run on the thread
 * that logs, as in Python: for a watched operation, the application's
 * thread, which then builds the record's message there (a record that
 * reaches only queues otherwise has its message built by their
 * listeners).  A filter on a queue handler, or on the handler behind it,
 * runs on the listener and costs the application nothing. */
MWATCH_EXPORT void
mwatch_logger_add_filter (mwatch_logger_t *logger, mwatch_filter_t *filter);

/* Logs `msg` at `level`.  The message stays the caller's: handlers that
 * run later (behind a queue) work on a copy.  Records whose message is not
 * ready yet pass the level checks if either `level` or `timeout_level`
 * does, since they may still leave a queue by timeout. */
MWATCH_EXPORT void
mwatch_logger_log (mwatch_logger_t *logger,
                   int level,
                   int timeout_level,
                   mwatch_message_t *msg);

/* Logs a plain text line (mongowatch's own warnings, for instance). */
MWATCH_EXPORT void
mwatch_logger_log_text (mwatch_logger_t *logger, int level, const char *text);

/* ------------------------------------------------------------------------
 * Set-up in one call: add handlers to a logger (pymongowatch's
 * add_logging_handlers).
 * ------------------------------------------------------------------------ */

typedef struct {
   const char *logger_name;  /* "mongowatch" */
   int level;                /* each handler's level: INFO */
   const char *format;       /* MWATCH_DEFAULT_FORMAT; NULL keeps a
                                handler's own formatter if it has one */
   const char *datefmt;      /* NULL: the default */
   bool with_queue;          /* true: each handler behind its own queue
                                handler and listener */
   double default_delay_sec; /* for those queues: 0 */
   bool force_default_delay; /* false */
   size_t queue_capacity;    /* 0: MWATCH_QUEUE_DEFAULT_CAPACITY */
   mwatch_overflow_t overflow; /* MWATCH_OVERFLOW_BLOCK, with the queue
                                  handler's other defaults */
} mwatch_logging_opts_t;

/* Fills `opts` with the defaults above. */
MWATCH_EXPORT void
mwatch_logging_opts_init (mwatch_logging_opts_t *opts);

/* Adds `handlers` (a NULL-terminated array; NULL: one stream handler on
 * stderr) to the logger opts->logger_name, each with opts' level and
 * format, each behind its own queue when opts->with_queue.  Lowers the
 * logger's level to opts->level if it was higher, so the records reach the
 * handlers.  Takes references to the handlers.  `opts` NULL: the defaults.
 * On a bad format returns false with `error` set, adding nothing.
 *
 *   mwatch_add_logging_handlers (NULL, NULL, NULL);   // stderr, defaults
 */
MWATCH_EXPORT bool
mwatch_add_logging_handlers (const mwatch_logging_opts_t *opts,
                             mwatch_handler_t *const *handlers,
                             bson_error_t *error);

/* Drains every queue, writes what was produced, flushes and closes every
 * handler, detaches handlers and filters from all loggers and resets their
 * levels: the logging state of a process that never configured any.  Also
 * runs at exit (atexit), so that every record produced before exit() is
 * written.  Safe to call more than once. */
MWATCH_EXPORT void
mwatch_shutdown (void);

/* Opt-in: SIGTERM and SIGINT no longer lose the queued records.  Where a
 * signal's disposition is the default (end the process), it is caught: a
 * thread of the library drains every queue (mwatch_shutdown, each queue
 * for at most its shutdown_timeout_sec), then restores the default and
 * raises the signal again, so the process still ends by it.  Where the
 * application handles the signal itself (a handler installed before this
 * call), its handler is called as before — mwatch's atexit drain then
 * runs if it calls exit() — and an ignored signal stays ignored.  A child
 * after fork() keeps the behaviour.  _exit() and SIGKILL cannot be
 * caught: records still queued then are lost.  The mask calls this when
 * MONGOWATCH_DRAIN_ON_SIGNALS=1.  Returns false with `error` set when the
 * pipe or thread it needs cannot be made.  Calling it again does
 * nothing. */
MWATCH_EXPORT bool
mwatch_drain_on_signals (bson_error_t *error);

/* Opens every file handler's file again by name (file, rotating file and
 * delayed file handlers): what is buffered is written first, the old
 * descriptor closed, the path opened (created if missing).  For an
 * external rotation (logrotate without copytruncate): rename the file,
 * then call this, and every record after the call is in the new file.
 * Thread-safe; each handler is reopened under its own lock.  A file
 * handler also notices by itself, before each write(2), when its path no
 * longer names the file it has open (renamed, removed, its folder
 * removed) and opens the path again; when that fails (the folder is
 * gone) the records are dropped and counted, reported once on
 * "mongowatch.stats" and once when writing works again. */
MWATCH_EXPORT void
mwatch_reopen (void);

/* Opt-in: SIGHUP calls mwatch_reopen() (the usual `postrotate` of a
 * logrotate configuration: `kill -HUP PID`).  The signal handler only
 * writes a byte into a pipe; a thread of mongowatch's does the reopen,
 * so nothing unsafe runs in the handler.  The application's own SIGHUP
 * handler, if it had one, is still called (after); a SIGHUP whose
 * disposition was the default (ending the process) or ignored no longer
 * ends it: it reopens.  A child after fork() gets a thread of its own.
 * Returns false, with `error` set, if the pipe or thread cannot be made.
 * Calling it again does nothing. */
MWATCH_EXPORT bool
mwatch_reopen_on_sighup (bson_error_t *error);

#ifdef __cplusplus
}
#endif

#endif /* MONGOWATCH_LOGGING_H */
