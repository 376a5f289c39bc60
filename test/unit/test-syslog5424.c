/* The remote syslog handler (RFC 5424): the message encoding (escaping,
 * names, header, octet counting, truncation), the configuration class's
 * errors, and the handler over real loopback sockets (a unix datagram
 * socket, a TCP listener that goes away and comes back, none at all: the
 * retry bound; a fork during a retry). */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#include "../../lib/handler-syslog5424-private.h"

#define US_2026 INT64_C (1796558400000000) /* 2026-12-06T12:00:00Z */

static mwatch_5424_header_t
header (size_t max_length)
{
   mwatch_5424_header_t h = {
      .facility = 19, /* local3 */
      .hostname = "db1.example.org",
      .app_name = "shopd",
      .sd_id = "mongowatch@32473",
      .max_length = max_length,
      .bom = false,
   };
   return h;
}

static char *
escaped (const char *value, size_t len)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   _mwatch_5424_escape_value (&out, value, len);
   char *s = bson_strndup (out.data ? out.data : "", out.len);
   mwatch_buf_destroy (&out);
   return s;
}

START_TEST (test_escape_value)
{
   char *s = escaped ("a\"b\\c]d[e=f g", 13);
   ck_assert_str_eq (s, "a\\\"b\\\\c\\]d[e=f g");
   bson_free (s);
   /* Text beyond ASCII stays; an ill-formed byte becomes U+FFFD. */
   s = escaped ("\xc3\xa9\xff]", 4);
   ck_assert_str_eq (s, "\xc3\xa9\xef\xbf\xbd\\]");
   bson_free (s);
   s = escaped ("", 0);
   ck_assert_str_eq (s, "");
   bson_free (s);
}
END_TEST

START_TEST (test_param_name)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   _mwatch_5424_param_name (&out, "a b=c]d\"e\xc3\xa9");
   ck_assert_str_eq (out.data, "a_b_c_d_e__");
   mwatch_buf_clear (&out);
   _mwatch_5424_param_name (&out, "0123456789012345678901234567890123456789");
   ck_assert_str_eq (out.data, "01234567890123456789012345678901");
   mwatch_buf_clear (&out);
   _mwatch_5424_param_name (&out, "");
   ck_assert_str_eq (out.data, "_");
   mwatch_buf_destroy (&out);
}
END_TEST

START_TEST (test_sd_id)
{
   const char *why;
   ck_assert (_mwatch_5424_check_sd_id ("mongowatch@32473", &why));
   ck_assert (_mwatch_5424_check_sd_id ("audit@1.2.3", &why));
   const char *bad[] = {"mongowatch", "@32473", "x@", "x@1..2", "x@1.", "x@abc", "a b@1",
                        "a=b@1", "a]@1", "a\"@1", "x@1234567890123456789012345678901", ""};
   for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      why = NULL;
      ck_assert_msg (!_mwatch_5424_check_sd_id (bad[i], &why), "%s", bad[i]);
      ck_assert_ptr_nonnull (why);
   }
   ck_assert (_mwatch_5424_check_header_field ("shopd", MWATCH_5424_APP_NAME_MAX, &why));
   ck_assert (!_mwatch_5424_check_header_field ("shop d", MWATCH_5424_APP_NAME_MAX, &why));
   ck_assert (!_mwatch_5424_check_header_field (
      "0123456789012345678901234567890123456789012345678", MWATCH_5424_APP_NAME_MAX, &why));
}
END_TEST

START_TEST (test_octet_counting)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   _mwatch_5424_frame (&out, "<14>1 - - - 1 - -", 17);
   ck_assert_str_eq (out.data, "17 <14>1 - - - 1 - -");
   mwatch_buf_clear (&out);
   /* The count is of bytes, not characters. */
   _mwatch_5424_frame (&out, "\xc3\xa9", 2);
   ck_assert_str_eq (out.data, "2 \xc3\xa9");
   mwatch_buf_destroy (&out);
}
END_TEST

static mwatch_message_t *
sample_message (void)
{
   /* A new message has a WatchID, an Iteration and a StartTime. */
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "WatchID", "6b14cec8a306aa0d9c36282d");
   mwatch_message_set_datetime (msg, "StartTime", US_2026);
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   bson_t *filter = BCON_NEW ("name", BCON_UTF8 ("a\"]\\"));
   mwatch_message_set_document (msg, "Filter", filter);
   bson_destroy (filter);
   mwatch_message_set_int64 (msg, "MatchedCount", 3);
   mwatch_message_set_datetime (msg, "EndTime", US_2026 + 250);
   mwatch_message_set_null (msg, "Error");
   mwatch_message_set_bool (msg, "Flag", true);
   mwatch_message_set_utf8 (msg, "_private", "never sent");
   return msg;
}

static mwatch_record_t
sample_record (mwatch_message_t *msg)
{
   mwatch_record_t record = {
      .name = "mongowatch.cursor",
      .level = MWATCH_LEVEL_INFO,
      .timeout_level = MWATCH_LEVEL_INFO,
      .created = US_2026 + 123456,
      .watch = msg,
   };
   return record;
}

START_TEST (test_encode)
{
   mwatch_message_t *msg = sample_message ();
   mwatch_record_t record = sample_record (msg);
   mwatch_5424_header_t h = header (8192);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER, scratch = MWATCH_BUF_INITIALIZER;

   ck_assert (_mwatch_5424_encode (&out, &scratch, &h, &record, "find on shop", 12, 4242));
   ck_assert_str_eq (out.data,
                     "<158>1 2026-12-06T12:00:00.123456Z db1.example.org shopd 4242 find "
                     "[mongowatch@32473 WatchID=\"6b14cec8a306aa0d9c36282d\" Iteration=\"0\" "
                     "StartTime=\"2026-12-06T12:00:00.000000Z\" DB=\"shop\" "
                     "Operation=\"find\" Filter=\"{\\\"name\\\":\\\"a\\\\\\\"\\]\\\\\\\\\\\"}\" "
                     "MatchedCount=\"3\" EndTime=\"2026-12-06T12:00:00.000250Z\" Error=\"\" "
                     "Flag=\"true\"] find on shop");

   /* The BOM before MSG; NILVALUE for no hostname, app name, time or
    * message; an ERROR record's severity. */
   mwatch_buf_clear (&out);
   h.bom = true;
   h.hostname = NULL;
   h.app_name = "";
   record.created = 0;
   record.level = MWATCH_LEVEL_ERROR;
   record.watch = NULL;
   ck_assert (_mwatch_5424_encode (&out, &scratch, &h, &record, "plain", 5, 7));
   ck_assert_str_eq (out.data, "<155>1 - - - 7 - - \xef\xbb\xbfplain");
   /* No MSG: no space and no BOM after the SD. */
   mwatch_buf_clear (&out);
   ck_assert (_mwatch_5424_encode (&out, &scratch, &h, &record, "", 0, 7));
   ck_assert_str_eq (out.data, "<155>1 - - - 7 - -");
   mwatch_buf_destroy (&out);
   mwatch_buf_destroy (&scratch);
   mwatch_message_destroy (msg);
}
END_TEST

/* The marker at the end of `text`, with its count; -1 when there is none. */
static long
marker_count (const char *text, size_t len)
{
   const char *mark = NULL;
   for (const char *p = text; (p = strstr (p, "\xe2\x80\xa6[truncated ")); p++) {
      mark = p;
   }
   if (!mark) {
      return -1;
   }
   char *end;
   long n = strtol (mark + strlen ("\xe2\x80\xa6[truncated "), &end, 10);
   /* In an SD-PARAM its ']' is escaped. */
   ck_assert_msg (strncmp (end, " bytes]", 7) == 0 || strncmp (end, " bytes\\]", 8) == 0, "%.*s",
                  (int) len, text);
   return n;
}

START_TEST (test_truncate_msg)
{
   mwatch_message_t *msg = sample_message ();
   mwatch_record_t record = sample_record (msg);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER, line = MWATCH_BUF_INITIALIZER;
   mwatch_buf_t scratch = MWATCH_BUF_INITIALIZER;
   /* 2000 bytes of two-byte characters: a cut falls inside one unless it
    * is careful. */
   for (int i = 0; i < 1000; i++) {
      mwatch_buf_append_str (&line, "\xc3\xa9");
   }
   for (size_t max = 480; max < 700; max += 7) {
      mwatch_5424_header_t h = header (max);
      h.bom = true;
      mwatch_buf_clear (&out);
      ck_assert (_mwatch_5424_encode (&out, &scratch, &h, &record, line.data, line.len, 1));
      ck_assert_uint_le (out.len, max);
      /* The SD whole, MSG cut at a character boundary and marked. */
      const char *sd_end = strstr (out.data, "Flag=\"true\"] \xef\xbb\xbf");
      ck_assert_msg (sd_end, "%s", out.data);
      const char *body = sd_end + strlen ("Flag=\"true\"] \xef\xbb\xbf");
      const char *mark = strstr (body, "\xe2\x80\xa6[truncated ");
      ck_assert_ptr_nonnull (mark);
      ck_assert_uint_eq ((size_t) (mark - body) % 2, 0);
      for (const char *p = body; p < mark; p += 2) {
         ck_assert (p[0] == '\xc3' && p[1] == '\xa9');
      }
      ck_assert_int_eq (marker_count (body, strlen (body)), (long) (line.len - (size_t) (mark - body)));
   }
   mwatch_buf_destroy (&line);
   mwatch_buf_destroy (&out);
   mwatch_buf_destroy (&scratch);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (test_truncate_sd)
{
   mwatch_message_t *msg = sample_message ();
   /* A long filter value (escaped: every '"' doubles) and a long string. */
   mwatch_buf_t big = MWATCH_BUF_INITIALIZER;
   for (int i = 0; i < 300; i++) {
      mwatch_buf_append_str (&big, "\"]");
   }
   mwatch_message_set_utf8 (msg, "Query", big.data);
   mwatch_message_set_utf8 (msg, "Comment", "\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93");
   mwatch_record_t record = sample_record (msg);
   mwatch_5424_header_t h = header (480);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER, scratch = MWATCH_BUF_INITIALIZER;

   ck_assert (_mwatch_5424_encode (&out, &scratch, &h, &record, "the line", 8, 1));
   ck_assert_uint_le (out.len, 480);
   /* MSG left out, the SD closed, the longest value cut and marked with
    * what it lost of its 600 bytes; the short ones whole. */
   ck_assert_msg (out.data[out.len - 1] == ']', "%s", out.data);
   const char *q = strstr (out.data, "Query=\"");
   ck_assert_ptr_nonnull (q);
   const char *value = q + 7;
   const char *end = strstr (value, "\xe2\x80\xa6[truncated ");
   ck_assert_ptr_nonnull (end);
   /* Whole escapes only, '"' and ']' in turn: the cut fell between
    * characters, never inside an escape. */
   size_t kept = 0;
   for (const char *p = value; p < end; p += 2, kept++) {
      ck_assert (p[0] == '\\' && p[1] == (kept % 2 ? ']' : '"'));
   }
   /* Cut by what was needed, not all: the message nearly full. */
   ck_assert_uint_gt (kept, 20);
   ck_assert_uint_ge (out.len, 480 - 40);
   ck_assert_int_eq (marker_count (q, strlen (q)), (long) (600 - kept));
   ck_assert (strstr (out.data, "Comment=\"\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93\""));
   ck_assert (strstr (out.data, "MatchedCount=\"3\""));
   ck_assert (!strstr (out.data, "the line"));

   /* More fields than fit however they are cut: given up, `out` as it
    * was. */
   mwatch_message_t *many = mwatch_message_new ();
   for (int i = 0; i < 60; i++) {
      char key[16];
      bson_snprintf (key, sizeof key, "Field%02d", i);
      mwatch_message_set_utf8 (many, key, "x");
   }
   record.watch = many;
   mwatch_buf_clear (&out);
   mwatch_buf_append_str (&out, "kept");
   ck_assert (!_mwatch_5424_encode (&out, &scratch, &h, &record, "the line", 8, 1));
   ck_assert_str_eq (out.data, "kept");
   mwatch_message_destroy (many);
   mwatch_buf_destroy (&big);
   mwatch_buf_destroy (&out);
   mwatch_buf_destroy (&scratch);
   mwatch_message_destroy (msg);
}
END_TEST

/* ---------------------------------------------------------------- configuration */

static void
config_fails (const char *handler, const char *want)
{
   char *text = bson_strdup_printf ("version: 1\n"
                                    "handlers:\n"
                                    "  s: {class: syslog5424, %s}\n",
                                    handler);
   bson_error_t error;
   ck_assert (!mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error));
   ck_assert_msg (strstr (error.message, want), "%s\nwanted: %s", error.message, want);
   bson_free (text);
}

START_TEST (test_config_errors)
{
   config_fails ("transport: tcp", "\"address\" is required");
   config_fails ("address: '127.0.0.1:514', sd_id: mongowatch",
                 "handlers.s.sd_id: \"mongowatch\": a private SD-ID is NAME@ENTERPRISE-NUMBER");
   config_fails ("address: '127.0.0.1:514', transport: tpc",
                 "handlers.s.transport: unknown transport \"tpc\"; use udp, tcp");
   config_fails ("address: '127.0.0.1:514', transport: unix_steam",
                 "unknown transport \"unix_steam\" (did you mean \"unix_stream\"?)");
   config_fails ("address: '/dev/log', transport: tcp",
                 "handlers.s.address: udp and tcp take HOST:PORT");
   config_fails ("address: 'localhost:514', transport: unix", "a unix transport takes the absolute");
   config_fails ("address: 'localhost:70000'", "is not HOST:PORT");
   config_fails ("address: '::1:514'", "is not HOST:PORT ([IPV6]:PORT");
   config_fails ("address: 'localhost:514', max_length: 70000",
                 "handlers.s.max_length: 70000 bytes do not fit in a datagram");
   config_fails ("address: 'localhost:514', max_length: 100", "max_length");
   config_fails ("address: 'localhost:514', app_name: 'shop d'", "handlers.s.app_name");
   config_fails ("address: 'localhost:514', facility: local9", "unknown facility \"local9\"");
   config_fails ("address: 'localhost:514', appname: x", "appname");
   config_fails ("address: 'no-such-host.invalid:514'", "cannot resolve");
   /* Python's SysLogHandler stays RFC 3164 and local, and says where to go. */
   char text[] = "version: 1\nhandlers:\n  s: {class: logging.handlers.SysLogHandler, "
                 "address: [localhost, 514]}\n";
   bson_error_t error;
   ck_assert (!mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error));
   ck_assert_msg (strstr (error.message, "use class syslog5424"), "%s", error.message);
}
END_TEST

/* ---------------------------------------------------------------- sockets */

static mwatch_handler_t *
handler_new (mwatch_syslog5424_transport_t transport, const char *address, double retry)
{
   mwatch_syslog5424_opts_t opts;
   bson_error_t error;
   mwatch_syslog5424_opts_init (&opts);
   opts.transport = transport;
   opts.address = address;
   opts.hostname = "h";
   opts.app_name = "a";
   opts.bom = false;
   opts.retry_timeout_sec = retry;
   opts.backoff_max_sec = 0.05;
   mwatch_handler_t *handler = mwatch_handler_new_syslog5424 (&opts, &error);
   ck_assert_msg (handler, "%s", error.message);
   mwatch_formatter_t *formatter = mwatch_formatter_new ("line {watch.N}", NULL, &error);
   mwatch_handler_set_formatter (handler, formatter);
   mwatch_formatter_destroy (formatter);
   return handler;
}

static void
emit (mwatch_handler_t *handler, int n)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_remove (msg, "WatchID");
   mwatch_message_remove (msg, "Iteration");
   mwatch_message_remove (msg, "StartTime");
   mwatch_message_set_int64 (msg, "N", n);
   mwatch_record_t record = {.name = "t", .level = MWATCH_LEVEL_INFO, .created = US_2026,
                             .watch = msg};
   ck_assert (mwatch_handler_handle (handler, &record));
   mwatch_message_destroy (msg);
}

START_TEST (test_unix_datagram)
{
   char dir[] = "/tmp/mwatch-5424-XXXXXX", path[PATH_MAX];
   ck_assert_ptr_nonnull (mkdtemp (dir));
   bson_snprintf (path, sizeof path, "%s/log.sock", dir);
   int server = mwatch_test_dgram_socket (path);
   mwatch_handler_t *handler = handler_new (MWATCH_SYSLOG5424_UNIX, path, 1);
   emit (handler, 1);
   char buf[512];
   ssize_t n = recv (server, buf, sizeof buf - 1, 0);
   ck_assert_int_gt (n, 0);
   buf[n] = '\0';
   char *want = bson_strdup_printf (
      "<14>1 2026-12-06T12:00:00.000000Z h a %d - [mongowatch@32473 N=\"1\"] line 1",
      (int) getpid ());
   ck_assert_str_eq (buf, want);
   bson_free (want);
   mwatch_syslog5424_stats_t st;
   mwatch_syslog5424_handler_stats (handler, &st);
   ck_assert_uint_eq (st.sent, 1);
   ck_assert_uint_eq (st.connects, 1);
   mwatch_handler_destroy (handler);
   close (server);
   mwatch_test_remove_tree (dir);
}
END_TEST

/* A TCP listener on a loopback port (`*port` 0: any, which it sets). */
static int
tcp_listen (int *port)
{
   int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
   int one = 1;
   setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
   struct sockaddr_in addr = {.sin_family = AF_INET,
                              .sin_port = htons ((uint16_t) *port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
   ck_assert_int_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
   ck_assert_int_eq (listen (fd, 4), 0);
   socklen_t len = sizeof addr;
   getsockname (fd, (struct sockaddr *) &addr, &len);
   *port = ntohs (addr.sin_port);
   return fd;
}

/* Reads one octet-counted frame from `fd` into `out`. */
static void
read_frame (int fd, char *out, size_t size)
{
   char c;
   size_t len = 0;
   while (recv (fd, &c, 1, MSG_WAITALL) == 1 && c != ' ') {
      ck_assert (c >= '0' && c <= '9');
      len = len * 10 + (size_t) (c - '0');
   }
   ck_assert_uint_lt (len, size);
   ck_assert_int_eq (recv (fd, out, len, MSG_WAITALL), (ssize_t) len);
   out[len] = '\0';
}

START_TEST (test_tcp_reconnect)
{
   int port = 0;
   int listener = tcp_listen (&port);
   char address[64], frame[512];
   bson_snprintf (address, sizeof address, "127.0.0.1:%d", port);
   mwatch_handler_t *handler = handler_new (MWATCH_SYSLOG5424_TCP, address, 5);

   emit (handler, 1);
   int conn = accept (listener, NULL, NULL);
   read_frame (conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "[mongowatch@32473 N=\"1\"] line 1"), "%s", frame);
   /* A receiver that writes something is not one that went away: what it
    * wrote is read and dropped, the connection kept. */
   ck_assert_int_eq (write (conn, "hello", 5), 5);
   emit (handler, 5);
   read_frame (conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"5\"] line 5"), "%s", frame);
   /* The daemon restarts: its connection and listener close, a new
    * listener comes on the same port.  The next record must reach it,
    * not the dead connection. */
   close (conn);
   close (listener);
   listener = tcp_listen (&port);
   emit (handler, 2);
   conn = accept (listener, NULL, NULL);
   read_frame (conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"2\"] line 2"), "%s", frame);
   mwatch_syslog5424_stats_t st;
   mwatch_syslog5424_handler_stats (handler, &st);
   ck_assert_uint_eq (st.sent, 3);
   ck_assert_uint_eq (st.dropped, 0);
   ck_assert_uint_eq (st.connects, 2);
   mwatch_handler_destroy (handler);
   close (conn);
   close (listener);
}
END_TEST

START_TEST (test_fork_own_connection)
{
   /* A forked child sends on a connection of its own: two processes
    * writing into one stream would interleave their frames. */
   int port = 0;
   int listener = tcp_listen (&port);
   char address[64], frame[512];
   bson_snprintf (address, sizeof address, "127.0.0.1:%d", port);
   mwatch_handler_t *handler = handler_new (MWATCH_SYSLOG5424_TCP, address, 5);
   emit (handler, 1);
   int parent_conn = accept (listener, NULL, NULL);
   read_frame (parent_conn, frame, sizeof frame);

   pid_t child = fork ();
   ck_assert_int_ge (child, 0);
   if (child == 0) {
      emit (handler, 2);
      mwatch_syslog5424_stats_t st;
      mwatch_syslog5424_handler_stats (handler, &st);
      _exit (st.sent == 2 && st.connects == 2 ? 0 : 1);
   }
   int child_conn = accept (listener, NULL, NULL);
   ck_assert_int_ge (child_conn, 0);
   read_frame (child_conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"2\"] line 2"), "%s", frame);
   int status;
   ck_assert (mwatch_test_child_exited (child, 10, &status));
   ck_assert_int_eq (status, 0);
   /* The parent's connection is still its own, and nothing of the
    * child's came on it. */
   emit (handler, 3);
   read_frame (parent_conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"3\"] line 3"), "%s", frame);
   mwatch_handler_destroy (handler);
   close (child_conn);
   close (parent_conn);
   close (listener);
}
END_TEST

START_TEST (test_one_attempt)
{
   /* retry_timeout_sec 0: one attempt, and a connection still has time
    * to be made. */
   int port = 0;
   int listener = tcp_listen (&port);
   char address[64], frame[512];
   bson_snprintf (address, sizeof address, "127.0.0.1:%d", port);
   mwatch_handler_t *handler = handler_new (MWATCH_SYSLOG5424_TCP, address, 0);
   emit (handler, 1);
   int conn = accept (listener, NULL, NULL);
   read_frame (conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"1\"] line 1"), "%s", frame);
   mwatch_handler_destroy (handler);
   close (conn);
   close (listener);
}
END_TEST

START_TEST (test_retry_bound)
{
   /* A port nobody listens on: the record is retried, with backoff, for
    * the retry bound and then dropped and counted. */
   int port = 0;
   int listener = tcp_listen (&port);
   close (listener);
   char address[64];
   bson_snprintf (address, sizeof address, "127.0.0.1:%d", port);
   mwatch_handler_t *handler = handler_new (MWATCH_SYSLOG5424_TCP, address, 0.3);
   int64_t start = mwatch_monotonic_us ();
   emit (handler, 1);
   int64_t took = mwatch_monotonic_us () - start;
   /* It gives up when the next attempt would come after the bound. */
   ck_assert_int_ge (took, 200000);
   ck_assert_int_lt (took, 3000000);
   mwatch_syslog5424_stats_t st;
   mwatch_syslog5424_handler_stats (handler, &st);
   ck_assert_uint_eq (st.sent, 0);
   ck_assert_uint_eq (st.dropped, 1);
   mwatch_handler_destroy (handler);
}
END_TEST

/* ------------------------------------------------------- fork and retry */

/* A TCP socket bound to a loopback port (which it sets) and not listening:
 * a daemon that is down (connections refused) until listen(). */
static int
tcp_bound (int *port)
{
   int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
   struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
   ck_assert_int_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
   socklen_t len = sizeof addr;
   getsockname (fd, (struct sockaddr *) &addr, &len);
   *port = ntohs (addr.sin_port);
   return fd;
}

typedef struct {
   mwatch_handler_t *handler;
   int count; /* records N = 1 .. count */
   atomic_bool done;
} emitter_t;

static void *
emitter_main (void *arg)
{
   emitter_t *e = arg;
   for (int i = 1; i <= e->count; i++) {
      emit (e->handler, i);
   }
   atomic_store (&e->done, true);
   return NULL;
}

/* Forks again and again (each child exits at once) until the emitter is
 * done, 25 s at most: the longest fork() in the parent, in microseconds.
 * Before the fork hook, a fork waited for the emitter's whole retry. */
static int64_t
fork_until_done (emitter_t *e)
{
   int64_t longest = 0, end = mwatch_monotonic_us () + 25000000;
   while (!atomic_load (&e->done) && mwatch_monotonic_us () < end) {
      int64_t start = mwatch_monotonic_us ();
      pid_t pid = fork ();
      if (pid == 0) {
         _exit (0);
      }
      int64_t took = mwatch_monotonic_us () - start;
      longest = took > longest ? took : longest;
      ck_assert_int_gt (pid, 0);
      int status;
      ck_assert (mwatch_test_child_exited (pid, 10, &status));
   }
   return longest;
}

static mwatch_handler_t *
handler_down (int *daemon)
{
   int port;
   char address[64];
   *daemon = tcp_bound (&port);
   bson_snprintf (address, sizeof address, "127.0.0.1:%d", port);
   /* A retry far longer than the test: what a fork cuts short is kept,
    * never dropped for its time. */
   return handler_new (MWATCH_SYSLOG5424_TCP, address, 20);
}

START_TEST (test_fork_during_retry)
{
   int daemon;
   mwatch_handler_t *handler = handler_down (&daemon);
   emitter_t e = {.handler = handler, .count = 1};
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, emitter_main, &e), 0);
   int64_t longest = fork_until_done (&e);
   pthread_join (thread, NULL);
   ck_assert_msg (longest < 500000, "a fork took %.3f s", (double) longest / 1e6);
   /* The record is kept, neither sent nor dropped. */
   mwatch_syslog5424_stats_t st;
   mwatch_syslog5424_handler_stats (handler, &st);
   ck_assert_uint_eq (st.sent, 0);
   ck_assert_uint_eq (st.dropped, 0);

   /* The daemon comes up.  A child does not send its parent's record. */
   ck_assert_int_eq (listen (daemon, 16), 0);
   pid_t child = fork ();
   ck_assert_int_ge (child, 0);
   if (child == 0) {
      mwatch_handler_flush (handler);
      mwatch_syslog5424_handler_stats (handler, &st);
      _exit (st.sent == 0 && st.dropped == 0 && st.connects == 0 ? 0 : 1);
   }
   int status;
   ck_assert (mwatch_test_child_exited (child, 10, &status));
   ck_assert_int_eq (status, 0);
   struct pollfd p = {.fd = daemon, .events = POLLIN};
   ck_assert_int_eq (poll (&p, 1, 0), 0); /* no connection came */

   /* The next record: the kept one goes first. */
   emit (handler, 2);
   int conn = accept (daemon, NULL, NULL);
   char frame[512];
   read_frame (conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"1\"] line 1"), "%s", frame);
   read_frame (conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"2\"] line 2"), "%s", frame);
   mwatch_syslog5424_handler_stats (handler, &st);
   ck_assert_uint_eq (st.sent, 2);
   ck_assert_uint_eq (st.dropped, 0);
   ck_assert_uint_eq (st.connects, 1);
   mwatch_handler_destroy (handler);
   close (conn);
   close (daemon);
}
END_TEST

START_TEST (test_fork_pending_full)
{
   /* 70 records, each cut short by a fork while the daemon is down, with
    * room for 64 (65,536 in earnest): 64 are kept, 6 dropped and
    * counted. */
   int daemon;
   mwatch_handler_t *handler = handler_down (&daemon);
   _mwatch_syslog5424_set_pending_bound (handler, 64, (size_t) 1 << 20);
   emitter_t e = {.handler = handler, .count = 70};
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, emitter_main, &e), 0);
   int64_t longest = fork_until_done (&e);
   ck_assert (atomic_load (&e.done));
   pthread_join (thread, NULL);
   ck_assert_msg (longest < 500000, "a fork took %.3f s", (double) longest / 1e6);
   mwatch_syslog5424_stats_t st;
   mwatch_syslog5424_handler_stats (handler, &st);
   ck_assert_uint_eq (st.sent, 0);
   ck_assert_uint_eq (st.dropped, 6);

   /* The daemon comes up: a flush sends the kept ones, in order, then the
    * next record follows them. */
   ck_assert_int_eq (listen (daemon, 16), 0);
   mwatch_handler_flush (handler);
   int conn = accept (daemon, NULL, NULL);
   char frame[512], want[64];
   for (int i = 1; i <= 64; i++) {
      read_frame (conn, frame, sizeof frame);
      bson_snprintf (want, sizeof want, "N=\"%d\"] line %d", i, i);
      ck_assert_msg (strstr (frame, want), "%s, not %s", frame, want);
   }
   emit (handler, 71);
   read_frame (conn, frame, sizeof frame);
   ck_assert_msg (strstr (frame, "N=\"71\"] line 71"), "%s", frame);
   mwatch_syslog5424_handler_stats (handler, &st);
   ck_assert_uint_eq (st.sent, 65);
   ck_assert_uint_eq (st.dropped, 6);
   mwatch_handler_destroy (handler);
   close (conn);
   close (daemon);
}
END_TEST

/* A queue in front of the handler, closed while its listener is stuck in
 * a retry with records a fork cut short kept: the close gives up on the
 * listener, and its count of what it drops includes the kept records
 * (the handler's close, which would count them, is not run). */
START_TEST (test_queue_gives_up_counts_kept)
{
   int daemon;
   mwatch_handler_t *backend = handler_down (&daemon);
   mwatch_handler_set_name (backend, "relay");
   mwatch_queue_handler_opts_t opts;
   mwatch_queue_handler_opts_init (&opts);
   opts.shutdown_timeout_sec = 0.05;
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, &opts);
   mwatch_handler_set_name (queue, "q");
   for (int i = 1; i <= 3; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      mwatch_message_set_int64 (msg, "N", i);
      mwatch_message_set_ready (msg); /* the queue passes it on at once */
      mwatch_record_t record = {.name = "t", .level = MWATCH_LEVEL_INFO, .created = US_2026,
                                .watch = msg};
      ck_assert (mwatch_handler_handle (queue, &record));
      mwatch_message_destroy (msg);
   }
   /* Each fork cuts the listener's retry short: the record is kept and the
    * listener takes the next.  Queue empty: 1 and 2 kept, 3 in its hands
    * (its emit retries the kept ones first), or kept too by an emit that
    * found the last fork still waiting (the listener then retries them in
    * its final flush). */
   mwatch_queue_stats_t st;
   int64_t end = mwatch_monotonic_us () + 25000000;
   for (;;) {
      mwatch_queue_handler_stats (queue, &st);
      if (st.size == 0 || mwatch_monotonic_us () > end) {
         break;
      }
      pid_t pid = fork ();
      if (pid == 0) {
         _exit (0);
      }
      ck_assert_int_gt (pid, 0);
      int status;
      ck_assert (mwatch_test_child_exited (pid, 10, &status));
   }
   ck_assert_uint_eq (st.size, 0);

   char path[] = "/tmp/mwatch-s5424-XXXXXX";
   int fd = mkstemp (path);
   ck_assert_int_ge (fd, 0);
   fflush (stderr);
   int saved = dup (STDERR_FILENO);
   dup2 (fd, STDERR_FILENO);
   close (fd);
   mwatch_handler_close (queue); /* gives up after 0.05 s */
   fflush (stderr);
   dup2 (saved, STDERR_FILENO);
   close (saved);
   char *report = mwatch_test_slurp (path, NULL);
   unlink (path);
   ck_assert_ptr_nonnull (report);
   ck_assert_msg (strstr (report, "handler \"q\": 3 records dropped in all ("), "%s", report);
   ck_assert_msg (strstr (report, " of them held by the backend \"relay\"), 3 since"), "%s",
                  report);
   bson_free (report);
   mwatch_queue_handler_stats (queue, &st);
   ck_assert_uint_eq (st.dropped, 3);

   /* The daemon comes up: the abandoned listener sends what it had and
    * ends, so that the process ends clean. */
   ck_assert_int_eq (listen (daemon, 16), 0);
   mwatch_syslog5424_stats_t sst;
   end = mwatch_monotonic_us () + 25000000;
   do {
      mwatch_syslog5424_handler_stats (backend, &sst);
   } while (sst.sent < 3 && mwatch_monotonic_us () < end && usleep (1000) == 0);
   ck_assert_uint_eq (sst.sent, 3);
   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   close (daemon);
}
END_TEST

Suite *
syslog5424_suite (void)
{
   Suite *s = suite_create ("syslog5424");
   TCase *tc = tcase_create ("core");
   tcase_set_timeout (tc, 30);
   tcase_add_test (tc, test_escape_value);
   tcase_add_test (tc, test_param_name);
   tcase_add_test (tc, test_sd_id);
   tcase_add_test (tc, test_octet_counting);
   tcase_add_test (tc, test_encode);
   tcase_add_test (tc, test_truncate_msg);
   tcase_add_test (tc, test_truncate_sd);
   tcase_add_test (tc, test_config_errors);
   tcase_add_test (tc, test_unix_datagram);
   tcase_add_test (tc, test_tcp_reconnect);
   tcase_add_test (tc, test_fork_own_connection);
   tcase_add_test (tc, test_one_attempt);
   tcase_add_test (tc, test_retry_bound);
   tcase_add_test (tc, test_fork_during_retry);
   tcase_add_test (tc, test_fork_pending_full);
   tcase_add_test (tc, test_queue_gives_up_counts_kept);
   suite_add_tcase (s, tc);
   return s;
}
