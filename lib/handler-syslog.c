/* The syslog handler: one datagram "<PRI>ident[pid]: line" per record to
 * the local syslog socket, as syslog(3) sends them, but without its
 * timestamp (the daemon adds its own) and without its global state, so
 * that several handlers may each have their socket, facility and ident.
 *
 * Sending never waits.  syslog(3) blocks while the daemon's queue is full,
 * and a daemon that stops reading (stopped, hung) would then hold the
 * application's thread, or a queue's listener and so the program's exit,
 * for as long as it likes.  A record the socket cannot take at once is
 * dropped, counted and reported (once per episode, and once when sending
 * works again), as a file handler does with a full disk.
 *
 * A record too long for one datagram is shortened, not cut: its longest
 * field values are shortened with a marker and the line formatted again,
 * so that a {watch.json} line stays valid JSON. */
#include "handler-private.h"
#include "handler-report-private.h"
#include "owned-fd-private.h"
#include "syslog-socket-private.h"
#include "json-private.h"
#include "message-render-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SYSLOG_DEFAULT_SOCKET "/dev/log"
#define SYSLOG_MAX_FACILITY 23

/* The longest datagram sent, header included; a longer record has its
 * longest field values shortened.  Linux refuses a datagram larger than the
 * socket's send buffer (about 208 KiB by default) with EMSGSIZE, other
 * systems and relays at 64 KiB, and daemons cut long messages anyway
 * (rsyslog at 8 KiB by default): a limit under all of these keeps whole
 * records.  A socket that refuses even that (a smaller send buffer) gets
 * the record shortened further, to half as long each time. */
#define SYSLOG_MIN_DATAGRAM 1024
#define SYSLOG_MAX_LENGTH_LIMIT ((size_t) 16 << 20)

#define TRUNCATED_MARK MWATCH_TRUNCATED_MARK
#define TRUNCATED_MARK_MAX MWATCH_TRUNCATED_MARK_MAX
/* Rounds of shortening one record before giving it up: one per field is
 * the rule, a few more when escaping (a quote, a control character) makes
 * a value's line text longer than the value. */
#define SHORTEN_ROUNDS 64

typedef struct {
   char *socket_path;
   char *ident;
   int facility;
   mwatch_owned_fd_t socket; /* -1 while not connected */
   mwatch_buf_t datagram; /* reused, so that a warm handler allocates nothing */
   size_t max_length;     /* the longest datagram sent */
   mwatch_io_stats_t io;
} syslog_impl_t;

/* A new socket connected to `path`, or -1 with errno set.  Connected, so
 * that each send need not name the address, and so that a daemon that went
 * away shows as ECONNREFUSED. */
/* Closes our socket, unless its number is the application's by now. */
static void
syslog_disconnect (syslog_impl_t *impl)
{
   _mwatch_owned_fd_close (&impl->socket);
}

/* Sends the datagram without waiting (EAGAIN when the daemon's queue is
 * full); returns 0 or the errno of the last failure.  A
 * syslog daemon that restarted leaves our socket connected to its old,
 * dead socket (ECONNREFUSED, ENOTCONN): one reconnection finds the new
 * one.  A handler that is not connected (the daemon was down at the last
 * record) tries to connect first. */
static int
syslog_send (syslog_impl_t *impl, const char *data, size_t len)
{
   int err = 0;

   for (int attempt = 0; attempt < 2; attempt++) {
      /* A socket whose number the application closed and reused is
       * forgotten, not written to, and a new one connected. */
      if (!_mwatch_owned_fd_check (&impl->socket)) {
         int fd = _mwatch_syslog_connect (impl->socket_path);
         if (fd < 0 || !_mwatch_owned_fd_take (&impl->socket, fd)) {
            err = errno;
            continue;
         }
      }

      ssize_t sent;
      do {
         sent = send (impl->socket.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      } while (sent < 0 && errno == EINTR);
      if (sent >= 0) {
         return 0;
      }
      err = errno;
      if (err != ECONNREFUSED && err != ENOTCONN && err != ECONNRESET) {
         return err;
      }
      syslog_disconnect (impl);
   }
   return err;
}

/* Puts "<PRI>ident[pid]: " and the record's line into impl->datagram. */
static void
syslog_build (mwatch_handler_t *handler, const mwatch_record_t *record)
{
   syslog_impl_t *impl = mwatch_handler_impl (handler);
   mwatch_buf_t *dg = &impl->datagram;
   size_t len;
   const char *line = mwatch_handler_format (handler, record, &len);
   char head[64];

   mwatch_buf_clear (dg);
   bson_snprintf (head, sizeof head, "<%d>", impl->facility * 8 + _mwatch_syslog_severity (record->level));
   mwatch_buf_append_str (dg, head);
   mwatch_buf_append_str (dg, impl->ident);
   /* getpid () at send time, as syslog(3): right in a forked child too. */
   bson_snprintf (head, sizeof head, "[%d]: ", (int) getpid ());
   mwatch_buf_append_str (dg, head);
   mwatch_buf_append (dg, line, len);
}

/* A value shortened in an earlier round: shortening it again removes its
 * marker first and counts what the marker counted. */
typedef struct {
   char *key;      /* the field; NULL for the record's text */
   size_t removed; /* bytes of the original value removed so far */
   size_t mark;    /* the length of the marker it ends with */
} shortened_t;

typedef struct {
   shortened_t items[SHORTEN_ROUNDS];
   size_t n;
} shortened_list_t;

static shortened_t *
shortened_find (shortened_list_t *list, const char *key)
{
   for (size_t i = 0; i < list->n; i++) {
      const char *k = list->items[i].key;
      if ((!k && !key) || (k && key && strcmp (k, key) == 0)) {
         return &list->items[i];
      }
   }
   BSON_ASSERT (list->n < SHORTEN_ROUNDS); /* one entry a round at most */
   shortened_t *item = &list->items[list->n++];
   item->key = key ? bson_strdup (key) : NULL;
   item->removed = 0;
   item->mark = 0;
   return item;
}

/* `text` without the marker of `item`, shortened by at least `cut` bytes
 * (at a UTF-8 character boundary) with a new marker counting everything
 * removed, into `out`.  False when nothing is left to remove. */
static bool
shorten_text (mwatch_buf_t *out, shortened_t *item, const char *text, size_t len, size_t cut)
{
   char mark[TRUNCATED_MARK_MAX];

   len -= item->mark;
   if (len == 0 || (item->mark == 0 && len <= TRUNCATED_MARK_MAX)) {
      return false;
   }
   cut += TRUNCATED_MARK_MAX;
   size_t keep = cut < len ? len - cut : 0;
   while (keep > 0 && ((unsigned char) text[keep] & 0xC0) == 0x80) {
      keep--;
   }
   item->removed += len - keep;
   item->mark = (size_t) bson_snprintf (mark, sizeof mark, TRUNCATED_MARK, item->removed);
   mwatch_buf_clear (out);
   mwatch_buf_append (out, text, keep);
   mwatch_buf_append_str (out, mark);
   return true;
}

/* Shortens the longest value of `record` (its text, or a top-level field
 * of its message: a string, or a document or array, which becomes its JSON
 * text as a string) by at least `cut` bytes.  False when no value is long
 * enough to gain anything. */
static bool
shorten_longest (mwatch_record_t *record, char **text, shortened_list_t *list, size_t cut)
{
   mwatch_message_iter_t iter;
   const char *key, *longest = NULL;
   mwatch_value_t value, chosen = {.type = MWATCH_TYPE_NULL};
   size_t longest_len = *text ? strlen (*text) : 0;
   mwatch_buf_t json = MWATCH_BUF_INITIALIZER, shortened = MWATCH_BUF_INITIALIZER;
   bool done = false;

   if (record->watch) {
      mwatch_message_iter_init (&iter, record->watch);
      while (mwatch_message_iter_next (&iter, &key, &value)) {
         size_t len = value.type == MWATCH_TYPE_UTF8 ? value.value.v_utf8.len
                      : value.type == MWATCH_TYPE_DOCUMENT || value.type == MWATCH_TYPE_ARRAY
                         ? value.value.v_doc.len
                         : 0;
         if (len > longest_len) {
            longest = key;
            longest_len = len;
            chosen = value;
         }
      }
   }
   /* `longest` points into the message: the item keeps its own copy. */
   shortened_t *item = shortened_find (list, longest);
   if (!longest) {
      if (*text && shorten_text (&shortened, item, *text, longest_len, cut)) {
         bson_free (*text);
         *text = bson_strndup (shortened.data, shortened.len);
         record->text = *text;
         done = true;
      }
   } else {
      if (chosen.type == MWATCH_TYPE_UTF8) {
         done = shorten_text (
            &shortened, item, chosen.value.v_utf8.str, chosen.value.v_utf8.len, cut);
      } else {
         _mwatch_render_value_json (&json, &chosen);
         done = shorten_text (&shortened, item, json.data, json.len, cut);
      }
      if (done) {
         mwatch_message_set_utf8_len (record->watch, item->key, shortened.data, shortened.len);
      }
   }
   mwatch_buf_destroy (&json);
   mwatch_buf_destroy (&shortened);
   return done;
}

/* Formats `record` again with its longest values shortened, as often as it
 * takes for the datagram to fit in `limit` bytes.  False when it cannot. */
static bool
syslog_build_shortened (mwatch_handler_t *handler, const mwatch_record_t *record, size_t limit)
{
   syslog_impl_t *impl = mwatch_handler_impl (handler);
   mwatch_record_t copy = *record;
   char *text = record->text ? bson_strdup (record->text) : NULL;
   shortened_list_t list = {.n = 0};
   bool fits = false;

   copy.text = text;
   copy.watch = record->watch ? mwatch_message_copy (record->watch) : NULL;
   for (int round = 0; round < SHORTEN_ROUNDS; round++) {
      if (!shorten_longest (&copy, &text, &list, impl->datagram.len - limit)) {
         break;
      }
      syslog_build (handler, &copy);
      if (impl->datagram.len <= limit) {
         fits = true;
         break;
      }
   }
   for (size_t i = 0; i < list.n; i++) {
      bson_free (list.items[i].key);
   }
   mwatch_message_destroy (copy.watch);
   bson_free (text);
   return fits;
}

/* Ends a failure episode, saying so once: an operator who saw "dropping
 * records" learns when it stopped and what it cost. */
static void
syslog_sent (syslog_impl_t *impl)
{
   if (impl->io.reported) {
      char what[300];
      bson_snprintf (what, sizeof what, "syslog socket \"%s\"", impl->socket_path);
      _mwatch_io_works_again (&impl->io, what);
   }
}

static void
syslog_emit (void *data, mwatch_handler_t *handler, mwatch_record_t *record)
{
   syslog_impl_t *impl = data;
   mwatch_buf_t *dg = &impl->datagram;
   size_t limit = impl->max_length;
   int err;

   syslog_build (handler, record);
   for (;;) {
      if (dg->len > limit && !syslog_build_shortened (handler, record, limit)) {
         err = EMSGSIZE;
         break;
      }
      err = syslog_send (impl, dg->data, dg->len);
      /* The socket's send buffer is smaller than the limit: try again,
       * shorter, rather than lose the record. */
      if (err != EMSGSIZE || limit <= SYSLOG_MIN_DATAGRAM) {
         break;
      }
      limit = dg->len / 2 > SYSLOG_MIN_DATAGRAM ? dg->len / 2 : SYSLOG_MIN_DATAGRAM;
   }
   if (err == 0) {
      syslog_sent (impl);
   } else if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      _mwatch_io_failed (&impl->io, 1, "syslog socket \"%s\" is full (its reader is not "
                         "reading)", impl->socket_path);
   } else if (err == EMSGSIZE) {
      _mwatch_io_failed (&impl->io, 1, "a record of %zu bytes does not fit in a datagram to "
                         "syslog socket \"%s\", even with its values shortened",
                         dg->len, impl->socket_path);
   } else {
      char buf[128];
      _mwatch_io_failed (&impl->io, 1, "cannot send to syslog socket \"%s\": %s",
                         impl->socket_path, bson_strerror_r (err, buf, sizeof buf));
   }
}

static void
syslog_close (void *data, mwatch_handler_t *handler)
{
   syslog_impl_t *impl = data;
   BSON_UNUSED (handler);

   syslog_disconnect (impl);
   _mwatch_io_report_dropped (&impl->io, impl->socket_path);
}

static void
syslog_destroy (void *ptr)
{
   syslog_impl_t *impl = ptr;

   syslog_disconnect (impl);
   mwatch_buf_destroy (&impl->datagram);
   bson_free (impl->socket_path);
   bson_free (impl->ident);
   bson_free (impl);
}

static const mwatch_handler_vtable_t syslog_vtable = {
   .emit = syslog_emit,
   .flush = NULL, /* each record is sent at once: nothing is buffered */
   .close = syslog_close,
   .destroy = syslog_destroy,
   .deferred = false,
};

mwatch_handler_t *
mwatch_handler_new_syslog (const char *socket_path,
                           int facility,
                           const char *ident,
                           bson_error_t *error)
{
   char buf[128];

   if (facility < 0 || facility > SYSLOG_MAX_FACILITY) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "syslog facility %d is not between 0 and %d",
                      facility,
                      SYSLOG_MAX_FACILITY);
      return NULL;
   }
   if (!socket_path) {
      socket_path = SYSLOG_DEFAULT_SOCKET;
   }

   /* Connecting now makes a configuration that names a socket that is
    * not there (no syslog daemon, a container without /dev/log) fail at
    * once, naming it, rather than drop every record later. */
   int fd = _mwatch_syslog_connect (socket_path);
   if (fd < 0) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_IO,
                      "cannot connect to syslog socket \"%s\": %s",
                      socket_path,
                      bson_strerror_r (errno, buf, sizeof buf));
      return NULL;
   }

   syslog_impl_t *impl = bson_malloc0 (sizeof *impl);
   if (!_mwatch_owned_fd_take (&impl->socket, fd)) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_IO,
                      "cannot connect to syslog socket \"%s\": %s",
                      socket_path,
                      bson_strerror_r (errno, buf, sizeof buf));
      bson_free (impl);
      return NULL;
   }
   impl->socket_path = bson_strdup (socket_path);
   impl->ident = bson_strdup (ident ? ident : program_invocation_short_name);
   impl->facility = facility;
   impl->max_length = MWATCH_SYSLOG_DEFAULT_MAX_LENGTH;
   mwatch_buf_init (&impl->datagram);
   return mwatch_handler_new (&syslog_vtable, impl);
}

bool
mwatch_syslog_handler_set_max_length (mwatch_handler_t *handler,
                                      size_t max_length,
                                      bson_error_t *error)
{
   if (!handler || _mwatch_handler_vtable (handler) != &syslog_vtable) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "max_length is for a syslog handler");
      return false;
   }
   if (max_length < SYSLOG_MIN_DATAGRAM || max_length > SYSLOG_MAX_LENGTH_LIMIT) {
      bson_set_error (error,
                      MWATCH_ERROR_DOMAIN,
                      MWATCH_ERROR_INVALID_ARGUMENT,
                      "syslog max_length %zu is not between %d and %zu bytes",
                      max_length,
                      SYSLOG_MIN_DATAGRAM,
                      SYSLOG_MAX_LENGTH_LIMIT);
      return false;
   }
   syslog_impl_t *impl = mwatch_handler_impl (handler);
   impl->max_length = max_length;
   return true;
}
