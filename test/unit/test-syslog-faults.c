/* The syslog handler against a real local datagram socket at fault: a
 * reader that stops reading (a stopped daemon) and records longer than a
 * datagram (issue 12, parts 2 and 8). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

/* A syslog handler with `format` sending to a datagram socket bound in a
 * new folder; the logger `name` (level INFO), with the handler on it when
 * `attach`. */
typedef struct {
   char dir[PATH_MAX];
   char path[PATH_MAX];
   int server;
   mwatch_handler_t *handler;
   mwatch_logger_t *logger;
} fixture_t;

static void
fixture_begin (fixture_t *f, const char *format, const char *name, bool attach)
{
   bson_error_t error;

   bson_snprintf (f->dir, sizeof f->dir, "/tmp/mwatch-syslog-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (f->dir));
   bson_snprintf (f->path, sizeof f->path, "%s/log.sock", f->dir);
   f->server = mwatch_test_dgram_socket (f->path);
   f->handler = mwatch_handler_new_syslog (f->path, MWATCH_SYSLOG_USER, "mw", &error);
   ck_assert_msg (f->handler, "%s", error.message);
   mwatch_formatter_t *formatter = mwatch_formatter_new (format, NULL, &error);
   ck_assert_msg (formatter, "%s", error.message);
   mwatch_handler_set_formatter (f->handler, formatter);
   mwatch_formatter_destroy (formatter);
   f->logger = mwatch_logger_get (name);
   mwatch_logger_set_level (f->logger, MWATCH_LEVEL_INFO);
   if (attach) {
      mwatch_logger_add_handler (f->logger, f->handler);
   }
}

static void
fixture_end (fixture_t *f)
{
   mwatch_logger_remove_handler (f->logger, f->handler);
   mwatch_handler_destroy (f->handler);
   close (f->server);
   mwatch_test_remove_tree (f->dir);
}

/* Logs one final record whose message is `msg` on `logger`. */
static void
log_msg (mwatch_logger_t *logger, mwatch_message_t *msg)
{
   mwatch_message_set_ready (msg);
   mwatch_logger_log (logger, MWATCH_LEVEL_INFO, MWATCH_LEVEL_INFO, msg);
   mwatch_message_destroy (msg);
}

/* The reports on "mongowatch.stats", one line each. */
typedef struct {
   int count;
   char text[4][512];
} reports_t;

static void
take_report (const char *line, size_t len, const mwatch_record_t *record, void *user_data)
{
   reports_t *reports = user_data;
   BSON_UNUSED (record);
   if (reports->count < 4) {
      bson_snprintf (reports->text[reports->count], sizeof reports->text[0], "%.*s", (int) len, line);
   }
   reports->count++;
}

/* The reader stops reading: the application's log calls neither wait nor
 * fail; what the socket could not take is dropped, reported once and
 * counted exactly, and records flow again once the reader reads.  Before,
 * the first log call after the socket's queue filled never returned (the
 * case's timeout ends it). */
START_TEST (test_unread_socket_never_blocks)
{
   enum { RECORDS = 500 };
   char buf[512];
   fixture_t f;
   fixture_begin (&f, "{watch.Collection}", "syslog.faults", true);
   mwatch_logger_t *logger = f.logger;
   int server = f.server;
   reports_t reports = {0};
   mwatch_handler_t *reporter = mwatch_handler_new_callback (take_report, &reports, NULL);
   bson_error_t error;
   mwatch_formatter_t *formatter = mwatch_formatter_new ("{message}", NULL, &error);
   mwatch_handler_set_formatter (reporter, formatter);
   mwatch_formatter_destroy (formatter);
   mwatch_logger_t *stats = mwatch_logger_get ("mongowatch.stats");
   mwatch_logger_add_handler (stats, reporter);

   /* Far more than an unread socket holds (max_dgram_qlen is 10 by
    * default on Linux; its receive buffer is the other bound). */
   for (int i = 0; i < RECORDS; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      bson_snprintf (buf, sizeof buf, "c%04d", i);
      mwatch_message_set_utf8 (msg, "Collection", buf);
      log_msg (logger, msg);
   }
   ck_assert_int_eq (reports.count, 1);
   ck_assert_msg (strstr (reports.text[0], f.path) && strstr (reports.text[0], "is full") &&
                     strstr (reports.text[0], "dropping records until it works again"),
                  "%s", reports.text[0]);

   /* The reader reads what is there: the first records, in order. */
   int received = 0;
   ssize_t n;
   while ((n = recv (server, buf, sizeof buf - 1, MSG_DONTWAIT)) >= 0) {
      buf[n] = '\0';
      char want[16];
      bson_snprintf (want, sizeof want, "c%04d", received);
      ck_assert_msg (strstr (buf, want), "%s", buf);
      received++;
   }
   ck_assert_int_eq (errno, EAGAIN);
   ck_assert_int_gt (received, 0);
   ck_assert_int_lt (received, RECORDS);

   /* It works again: said once, with the exact count of what was lost. */
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "Collection", "again");
   log_msg (logger, msg);
   n = recv (server, buf, sizeof buf - 1, 0);
   ck_assert_int_gt (n, 0);
   buf[n] = '\0';
   ck_assert_msg (strstr (buf, "again"), "%s", buf);
   ck_assert_int_eq (reports.count, 2);
   char want[128];
   bson_snprintf (want, sizeof want, "works again; %d records dropped during the failure",
                  RECORDS - received);
   ck_assert_msg (strstr (reports.text[1], want), "%s", reports.text[1]);

   mwatch_logger_remove_handler (stats, reporter);
   mwatch_handler_destroy (reporter);
   fixture_end (&f);
}
END_TEST

/* Behind a queue, a stalled reader does not hold the listener: every
 * record is sent or dropped by the syslog handler at once, and none is
 * left in the queue for the drain at close to give up on (before: the
 * listener waited in send() and the close gave up after 5 s, counting the
 * records left as dropped by the queue). */
START_TEST (test_unread_socket_behind_queue)
{
   fixture_t f;
   fixture_begin (&f, "{watch.Collection}", "syslog.queued", false);
   mwatch_logger_t *logger = f.logger;
   mwatch_handler_t *queue = mwatch_handler_new_queue (f.handler, NULL);
   mwatch_logger_add_handler (logger, queue);
   for (int i = 0; i < 300; i++) {
      mwatch_message_t *msg = mwatch_message_new ();
      mwatch_message_set_utf8 (msg, "Collection", "queued");
      log_msg (logger, msg);
   }
   /* Returns once the listener took every record (before: never). */
   mwatch_handler_flush (queue);
   mwatch_logger_remove_handler (logger, queue);
   mwatch_handler_close (queue);
   mwatch_queue_stats_t stats;
   mwatch_queue_handler_stats (queue, &stats);
   ck_assert_uint_eq (stats.dropped, 0);
   mwatch_handler_destroy (queue);
   fixture_end (&f);
}
END_TEST

/* A record with a 200 KB Filter, rendered as {watch.json}: one datagram
 * (at most 65,000 bytes) holding one valid JSON object, whose Filter is
 * the start of the filter's JSON text with the marker.  Before, the line
 * was cut at 65,536 bytes, in the middle of the JSON. */
START_TEST (test_long_record_stays_valid_json)
{
   enum { BIG = 200 * 1024 };
   fixture_t f;
   fixture_begin (&f, "{watch.json}", "syslog.long", true);

   /* Quotes and a control character, so that escaping makes the JSON
    * text longer than the value, and a cut could fall inside an escape. */
   char *text = bson_malloc (BIG + 1);
   for (size_t i = 0; i < BIG; i++) {
      text[i] = "ab\"\x01\\"[i % 5];
   }
   text[BIG] = '\0';
   bson_t *filter = BCON_NEW ("name", BCON_UTF8 (text));
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "Collection", "items");
   mwatch_message_set_document (msg, "Filter", filter);
   log_msg (f.logger, msg);

   char *buf = bson_malloc (4 * BIG);
   ssize_t n = recv (f.server, buf, 4 * BIG - 1, 0);
   ck_assert_int_gt (n, 0);
   ck_assert_int_le (n, 65000);
   buf[n] = '\0';
   char *json = strstr (buf, ": ");
   ck_assert_ptr_nonnull (json);
   json_error_t jerr;
   json_t *root = json_loads (json + 2, 0, &jerr);
   ck_assert_msg (root, "not JSON: %s at %d", jerr.text, jerr.position);
   ck_assert_str_eq (json_string_value (json_object_get (root, "Collection")), "items");
   const char *got = json_string_value (json_object_get (root, "Filter"));
   ck_assert_ptr_nonnull (got);
   ck_assert_msg (strncmp (got, "{\"name\":\"ab\\\"", 13) == 0, "%.40s", got);
   ck_assert_msg (strstr (got, "\xe2\x80\xa6[truncated "), "%.80s", got + strlen (got) - 40);
   json_decref (root);

   bson_destroy (filter);
   bson_free (text);
   bson_free (buf);
   fixture_end (&f);
}
END_TEST

/* Receives one datagram and checks it holds one whole record, no longer
 * than `limit`, its Collection shortened with the marker. */
static void
assert_shortened (int server, size_t limit, size_t value_len)
{
   size_t size = 2 * value_len + 1024;
   char *buf = bson_malloc (size);
   ssize_t n = recv (server, buf, size - 1, 0);
   ck_assert_int_gt (n, 0);
   ck_assert_uint_le ((size_t) n, limit);
   buf[n] = '\0';
   char *json = strstr (buf, ": ");
   ck_assert_ptr_nonnull (json);
   json_error_t jerr;
   json_t *root = json_loads (json + 2, 0, &jerr);
   ck_assert_msg (root, "not JSON: %s", jerr.text);
   const char *got = json_string_value (json_object_get (root, "Collection"));
   ck_assert_ptr_nonnull (got);
   char mark[64];
   size_t kept = strspn (got, "c");
   bson_snprintf (mark, sizeof mark, "\xe2\x80\xa6[truncated %zu bytes]", value_len - kept);
   ck_assert_str_eq (got + kept, mark);
   json_decref (root);
   bson_free (buf);
}

static void
log_long_collection (mwatch_logger_t *logger, size_t len)
{
   char *text = bson_malloc (len + 1);
   memset (text, 'c', len);
   text[len] = '\0';
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "Collection", text);
   log_msg (logger, msg);
   bson_free (text);
}

/* max_length: a configured limit is kept; one above what the socket takes
 * (its send buffer, about 208 KiB) meets EMSGSIZE, and the record is
 * shortened further until it is sent; a limit out of bounds is refused,
 * naming the key. */
START_TEST (test_max_length)
{
   fixture_t f;
   fixture_begin (&f, "{watch.json}", "syslog.length", true);
   mwatch_handler_t *handler = f.handler;
   bson_error_t error;

   ck_assert (mwatch_syslog_handler_set_max_length (handler, 2048, &error));
   log_long_collection (f.logger, 10000);
   assert_shortened (f.server, 2048, 10000);

   ck_assert (mwatch_syslog_handler_set_max_length (handler, 16 << 20, &error));
   log_long_collection (f.logger, 1000000);
   assert_shortened (f.server, 1000000, 1000000);

   ck_assert (!mwatch_syslog_handler_set_max_length (handler, 100, &error));
   ck_assert_str_eq (error.message, "syslog max_length 100 is not between 1024 and 16777216 bytes");
   mwatch_handler_t *other = mwatch_handler_new_null ();
   ck_assert (!mwatch_syslog_handler_set_max_length (other, 2048, &error));
   mwatch_handler_destroy (other);

   char *yaml = bson_strdup_printf ("version: 1\nhandlers:\n  s: {class: syslog, address: '%s', "
                                    "max_length: 100}\n",
                                    f.path);
   ck_assert (!mwatch_config_load_string (yaml, MWATCH_CONFIG_YAML, &error));
   ck_assert_msg (strstr (error.message, "max_length"), "%s", error.message);
   bson_free (yaml);
   fixture_end (&f);
}
END_TEST

Suite *
syslog_faults_suite (void)
{
   Suite *suite = suite_create ("syslog_faults");
   TCase *tc = tcase_create ("syslog_faults");
   tcase_set_timeout (tc, 20);
   tcase_add_test (tc, test_unread_socket_never_blocks);
   tcase_add_test (tc, test_unread_socket_behind_queue);
   tcase_add_test (tc, test_long_record_stays_valid_json);
   tcase_add_test (tc, test_max_length);
   suite_add_tcase (suite, tc);
   return suite;
}
