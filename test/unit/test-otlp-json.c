/* The OpenTelemetry handler's pure parts: a record as an OTLP/JSON log
 * record and span (every attribute of the database conventions), the
 * request bodies, the environment's "k=v" lists and signal URLs, which
 * records are sent, and the configuration keys' errors.  The handler
 * against a real Collector is test/otlp-check's. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

#include "../../lib/curl-loader-private.h"
#include "../../lib/handler-otlp-private.h"

static const uint8_t trace_id[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                     0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
static const uint8_t span_id[8] = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

/* A final find on "shop.orders" that returned 3 documents. */
static mwatch_message_t *
find_message (void)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("status", "A", "qty", "{", "$gt", BCON_INT32 (5), "}");
   mwatch_message_set_datetime (msg, "StartTime", 1700000000000000);
   mwatch_message_set_utf8 (msg, "State", "final");
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_utf8 (msg, "Collection", "orders");
   mwatch_message_set_utf8 (msg, "Operation", "find");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_datetime (msg, "EndTime", 1700000000250000);
   mwatch_message_set_double (msg, "Duration", 0.25);
   mwatch_message_set_int64 (msg, "MatchedCount", 3);
   mwatch_message_set_ready (msg);
   bson_destroy (filter);
   return msg;
}

static mwatch_record_t
record_of (const char *logger, mwatch_message_t *msg)
{
   return (mwatch_record_t) {
      .name = logger,
      .level = MWATCH_LEVEL_INFO,
      .timeout_level = MWATCH_LEVEL_INFO,
      .created = 1700000000300000,
      .thread = 4242,
      .process = 1,
      .watch = msg,
   };
}

static json_t *
parse (const mwatch_buf_t *buf)
{
   json_error_t jerr;
   json_t *root = json_loadb (buf->data, buf->len, 0, &jerr);
   ck_assert_msg (root, "not JSON (%s): %s", jerr.text, buf->data);
   return root;
}

/* The value object of attribute `key` in the array `attributes`, or NULL. */
static json_t *
attribute (json_t *attributes, const char *key)
{
   size_t i;
   json_t *item;
   json_t *found = NULL;
   json_array_foreach (attributes, i, item)
   {
      if (strcmp (json_string_value (json_object_get (item, "key")), key) == 0) {
         ck_assert_msg (!found, "attribute %s twice", key);
         found = json_object_get (item, "value");
      }
   }
   return found;
}

static void
assert_string_attr (json_t *attributes, const char *key, const char *expected)
{
   json_t *v = attribute (attributes, key);
   ck_assert_msg (v, "no attribute %s", key);
   ck_assert_str_eq (json_string_value (json_object_get (v, "stringValue")), expected);
}

static void
assert_int_attr (json_t *attributes, const char *key, const char *expected)
{
   json_t *v = attribute (attributes, key);
   ck_assert_msg (v, "no attribute %s", key);
   /* OTLP/JSON: 64-bit integers are strings. */
   ck_assert_str_eq (json_string_value (json_object_get (v, "intValue")), expected);
}

START_TEST (log_record_of_a_find)
{
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = record_of ("mongowatch.cursor", msg);
   mwatch_buf_t log = MWATCH_BUF_INITIALIZER;
   _mwatch_otlp_encode (&record, "the body", 8, trace_id, span_id, &log, NULL);
   json_t *root = parse (&log);

   ck_assert_str_eq (json_string_value (json_object_get (root, "timeUnixNano")),
                     "1700000000300000000");
   ck_assert_int_eq (json_integer_value (json_object_get (root, "severityNumber")), 9);
   ck_assert_str_eq (json_string_value (json_object_get (root, "severityText")), "INFO");
   ck_assert_str_eq (json_string_value (json_object_get (json_object_get (root, "body"), "stringValue")),
                     "the body");
   /* No span asked: no ids. */
   ck_assert_ptr_null (json_object_get (root, "traceId"));

   json_t *attrs = json_object_get (root, "attributes");
   assert_string_attr (attrs, "db.system.name", "mongodb");
   assert_string_attr (attrs, "db.namespace", "shop");
   assert_string_attr (attrs, "db.collection.name", "orders");
   assert_string_attr (attrs, "db.operation.name", "find");
   assert_string_attr (attrs, "db.query.text", "{\"status\":\"A\",\"qty\":{\"$gt\":5}}");
   assert_int_attr (attrs, "db.response.returned_rows", "3");
   assert_int_attr (attrs, "mongowatch.matched_count", "3");
   assert_string_attr (attrs, "mongowatch.state", "final");
   assert_string_attr (attrs, "mongowatch.watch_id", mwatch_message_watch_id (msg));
   assert_int_attr (attrs, "mongowatch.iteration", "0");
   assert_string_attr (attrs, "mongowatch.start_time", "2023-11-14T22:13:20.000000Z");
   assert_string_attr (attrs, "mongowatch.end_time", "2023-11-14T22:13:20.250000Z");
   ck_assert (json_real_value (json_object_get (attribute (attrs, "mongowatch.duration"), "doubleValue")) ==
              0.25);
   assert_int_attr (attrs, "thread.id", "4242");
   /* No error, and the semantic fields are not repeated under mongowatch. */
   ck_assert_ptr_null (attribute (attrs, "error.type"));
   ck_assert_ptr_null (attribute (attrs, "mongowatch.db"));
   ck_assert_ptr_null (attribute (attrs, "mongowatch.filter"));
   /* Every field and the four extra attributes, nothing else. */
   ck_assert_uint_eq (json_array_size (attrs), mwatch_message_count (msg) + 3);

   json_decref (root);
   mwatch_buf_destroy (&log);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (span_and_error)
{
   mwatch_message_t *msg = find_message ();
   mwatch_message_set_utf8 (msg, "Error", "connection \"reset\"");
   mwatch_record_t record = record_of ("mongowatch.cursor", msg);
   mwatch_buf_t log = MWATCH_BUF_INITIALIZER, span = MWATCH_BUF_INITIALIZER;
   _mwatch_otlp_encode (&record, "b", 1, trace_id, span_id, &log, &span);
   json_t *lr = parse (&log);
   json_t *sp = parse (&span);

   ck_assert_str_eq (json_string_value (json_object_get (lr, "traceId")),
                     "0123456789abcdef0011223344556677");
   ck_assert_str_eq (json_string_value (json_object_get (lr, "spanId")), "fedcba9876543210");
   ck_assert_str_eq (json_string_value (json_object_get (sp, "traceId")),
                     "0123456789abcdef0011223344556677");
   ck_assert_str_eq (json_string_value (json_object_get (sp, "spanId")), "fedcba9876543210");
   ck_assert_str_eq (json_string_value (json_object_get (sp, "name")), "find orders");
   ck_assert_int_eq (json_integer_value (json_object_get (sp, "kind")), 3);
   ck_assert_str_eq (json_string_value (json_object_get (sp, "startTimeUnixNano")),
                     "1700000000000000000");
   ck_assert_str_eq (json_string_value (json_object_get (sp, "endTimeUnixNano")),
                     "1700000000250000000");
   json_t *status = json_object_get (sp, "status");
   ck_assert_int_eq (json_integer_value (json_object_get (status, "code")), 2);
   ck_assert_str_eq (json_string_value (json_object_get (status, "message")), "connection \"reset\"");

   json_t *attrs[2] = {json_object_get (lr, "attributes"), json_object_get (sp, "attributes")};
   for (int i = 0; i < 2; i++) {
      assert_string_attr (attrs[i], "error.type", "_OTHER");
      assert_string_attr (attrs[i], "error.message", "connection \"reset\"");
      assert_string_attr (attrs[i], "db.operation.name", "find");
      ck_assert_ptr_null (attribute (attrs[i], "mongowatch.error"));
   }
   json_decref (lr);
   json_decref (sp);
   mwatch_buf_destroy (&log);
   mwatch_buf_destroy (&span);
   mwatch_message_destroy (msg);
}
END_TEST

/* A collection operation's MatchedCount is what its query matched, not
 * rows returned; a context field keeps its name; a string Filter (already
 * text) stays as it is. */
START_TEST (collection_record)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_message_set_utf8 (msg, "Operation", "update_many");
   mwatch_message_set_utf8 (msg, "Filter", "{redacted}");
   mwatch_message_set_int64 (msg, "MatchedCount", 7);
   mwatch_message_set_int64 (msg, "ModifiedCount", 6);
   mwatch_message_set_utf8 (msg, "user", "alice");
   mwatch_message_set_bool (msg, "primaryPreferred", true);
   mwatch_message_set_null (msg, "Nothing");
   mwatch_message_set_ready (msg);
   mwatch_record_t record = record_of ("mongowatch.collection", msg);
   mwatch_buf_t log = MWATCH_BUF_INITIALIZER;
   _mwatch_otlp_encode (&record, "", 0, trace_id, span_id, &log, NULL);
   json_t *root = parse (&log);
   json_t *attrs = json_object_get (root, "attributes");
   ck_assert_ptr_null (attribute (attrs, "db.response.returned_rows"));
   assert_int_attr (attrs, "mongowatch.matched_count", "7");
   assert_int_attr (attrs, "mongowatch.modified_count", "6");
   assert_string_attr (attrs, "mongowatch.user", "alice");
   assert_string_attr (attrs, "db.query.text", "{redacted}");
   ck_assert (json_is_true (json_object_get (attribute (attrs, "mongowatch.primary_preferred"),
                                              "boolValue")));
   ck_assert_ptr_null (attribute (attrs, "mongowatch.nothing"));
   json_decref (root);
   mwatch_buf_destroy (&log);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (which_records)
{
   mwatch_message_t *msg = mwatch_message_new ();
   mwatch_record_t record = record_of ("mongowatch.cursor", msg);
   /* A first record (not ready, no timeout) is not sent. */
   ck_assert_int_eq (_mwatch_otlp_kind (&record, true), MWATCH_OTLP_SKIP);
   mwatch_message_set_utf8 (msg, "State", "update");
   ck_assert_int_eq (_mwatch_otlp_kind (&record, true), MWATCH_OTLP_SKIP);
   /* A timeout is a log record, never a span (the operation goes on). */
   mwatch_message_set_utf8 (msg, "State", "timeout");
   ck_assert_int_eq (_mwatch_otlp_kind (&record, true), MWATCH_OTLP_LOG);
   mwatch_message_set_ready (msg);
   ck_assert_int_eq (_mwatch_otlp_kind (&record, true), MWATCH_OTLP_LOG_AND_SPAN);
   ck_assert_int_eq (_mwatch_otlp_kind (&record, false), MWATCH_OTLP_LOG);
   mwatch_record_t text = {.name = "mongowatch.stats", .level = 30, .text = "dropped"};
   ck_assert_int_eq (_mwatch_otlp_kind (&text, true), MWATCH_OTLP_LOG);
   mwatch_buf_t log = MWATCH_BUF_INITIALIZER;
   _mwatch_otlp_encode (&text, "dropped", 7, trace_id, span_id, &log, NULL);
   json_t *root = parse (&log);
   ck_assert_int_eq (json_integer_value (json_object_get (root, "severityNumber")), 13);
   /* A text record has no database attributes. */
   ck_assert_ptr_null (attribute (json_object_get (root, "attributes"), "db.system.name"));
   json_decref (root);
   mwatch_buf_destroy (&log);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (envelope_scopes)
{
   mwatch_otlp_entry_t entries[4] = {
      {.scope = "mongowatch.cursor", .log = "{\"a\":1}", .log_len = 7},
      {.scope = "mongowatch.cursor", .log = "{\"a\":2}", .log_len = 7, .span = "{\"s\":2}", .span_len = 7},
      {.scope = "mongowatch.collection", .log = NULL, .span = "{\"s\":3}", .span_len = 7},
      {.scope = "mongowatch.collection", .log = "{\"a\":4}", .log_len = 7},
   };
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER, res = MWATCH_BUF_INITIALIZER;
   const char *pairs[] = {"deployment.environment.name", "test", "service.name", "ignored", NULL};
   _mwatch_otlp_resource (&res, "svc", pairs, 77);

   ck_assert_uint_eq (_mwatch_otlp_envelope (&out, res.data, entries, 4, false), 3);
   json_t *root = parse (&out);
   json_t *rl = json_array_get (json_object_get (root, "resourceLogs"), 0);
   json_t *rattrs = json_object_get (json_object_get (rl, "resource"), "attributes");
   assert_string_attr (rattrs, "service.name", "svc");
   assert_string_attr (rattrs, "deployment.environment.name", "test");
   assert_int_attr (rattrs, "process.pid", "77");
   assert_string_attr (rattrs, "telemetry.sdk.name", "mongowatch");
   json_t *scopes = json_object_get (rl, "scopeLogs");
   ck_assert_uint_eq (json_array_size (scopes), 2);
   ck_assert_str_eq (json_string_value (json_object_get (json_object_get (json_array_get (scopes, 0), "scope"), "name")),
                     "mongowatch.cursor");
   ck_assert_uint_eq (json_array_size (json_object_get (json_array_get (scopes, 0), "logRecords")), 2);
   ck_assert_uint_eq (json_array_size (json_object_get (json_array_get (scopes, 1), "logRecords")), 1);
   json_decref (root);

   ck_assert_uint_eq (_mwatch_otlp_envelope (&out, res.data, entries, 4, true), 2);
   root = parse (&out);
   scopes = json_object_get (json_array_get (json_object_get (root, "resourceSpans"), 0), "scopeSpans");
   ck_assert_uint_eq (json_array_size (scopes), 2);
   json_decref (root);

   mwatch_otlp_entry_t none[1] = {{.scope = "x"}};
   ck_assert_uint_eq (_mwatch_otlp_envelope (&out, res.data, none, 1, false), 0);
   mwatch_buf_destroy (&out);
   mwatch_buf_destroy (&res);
}
END_TEST

START_TEST (environment_lists)
{
   bson_error_t error;
   char **pairs = _mwatch_otlp_parse_pairs (" a = 1 ,b=x%20y%2Cz,, ", "OTEL_RESOURCE_ATTRIBUTES", &error);
   ck_assert_msg (pairs, "%s", error.message);
   ck_assert_str_eq (pairs[0], "a");
   ck_assert_str_eq (pairs[1], "1");
   ck_assert_str_eq (pairs[2], "b");
   ck_assert_str_eq (pairs[3], "x y,z");
   ck_assert_ptr_null (pairs[4]);

   const char *mine[] = {"a", "mine", NULL};
   char **merged = _mwatch_otlp_pairs_merge (mine, (const char *const *) pairs);
   ck_assert_str_eq (merged[0], "a");
   ck_assert_str_eq (merged[1], "mine");
   ck_assert_str_eq (merged[2], "b");
   ck_assert_ptr_null (merged[4]);
   _mwatch_otlp_pairs_free (merged);
   _mwatch_otlp_pairs_free (pairs);

   ck_assert_ptr_null (_mwatch_otlp_parse_pairs ("a=1,novalue", "OTEL_X", &error));
   ck_assert_msg (strstr (error.message, "OTEL_X: item 2 (\"novalue\")"), "%s", error.message);
   ck_assert_ptr_null (_mwatch_otlp_parse_pairs ("=1", "OTEL_X", &error));
   ck_assert_ptr_null (_mwatch_otlp_parse_pairs ("a=%zz", "OTEL_X", &error));
   ck_assert_ptr_null (_mwatch_otlp_parse_pairs ("a=%2", "OTEL_X", &error));

   char *url = _mwatch_otlp_signal_url ("http://h:4318", "logs");
   ck_assert_str_eq (url, "http://h:4318/v1/logs");
   bson_free (url);
   url = _mwatch_otlp_signal_url ("https://h/base/", "traces");
   ck_assert_str_eq (url, "https://h/base/v1/traces");
   bson_free (url);

   mwatch_buf_t name = MWATCH_BUF_INITIALIZER;
   const char *cases[][2] = {{"WatchID", "watch_id"},        {"MatchedCount", "matched_count"},
                             {"DB", "db"},                   {"user", "user"},
                             {"HTTPCode", "http_code"},      {"Field2Name", "field2_name"}};
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      mwatch_buf_clear (&name);
      _mwatch_otlp_snake_case (&name, cases[i][0]);
      ck_assert_str_eq (name.data, cases[i][1]);
   }
   mwatch_buf_destroy (&name);
}
END_TEST

/* The handler's settings, from the constructor and from a configuration:
 * each error names what is wrong. */
START_TEST (settings_errors)
{
   bson_error_t error;
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   opts.endpoint = "ftp://h";
   ck_assert_ptr_null (mwatch_handler_new_otlp (&opts, &error));
   ck_assert_msg (strstr (error.message, "endpoint \"ftp://h\" is not an http"), "%s", error.message);
   mwatch_otlp_opts_init (&opts);
   opts.max_batch_size = 0;
   ck_assert_ptr_null (mwatch_handler_new_otlp (&opts, &error));
   ck_assert_msg (strstr (error.message, "max_batch_size"), "%s", error.message);

   setenv ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
   ck_assert_ptr_null (mwatch_handler_new_otlp (NULL, &error));
   ck_assert_msg (strstr (error.message, "OTEL_EXPORTER_OTLP_PROTOCOL is \"grpc\""), "%s", error.message);
   unsetenv ("OTEL_EXPORTER_OTLP_PROTOCOL");
   setenv ("OTEL_RESOURCE_ATTRIBUTES", "a=1,b", 1);
   ck_assert_ptr_null (mwatch_handler_new_otlp (NULL, &error));
   ck_assert_msg (strstr (error.message, "OTEL_RESOURCE_ATTRIBUTES: item 2"), "%s", error.message);
   unsetenv ("OTEL_RESOURCE_ATTRIBUTES");
   /* A header's value is a secret: its error names the item and its key. */
   setenv ("OTEL_EXPORTER_OTLP_HEADERS", "a=1,x-api-key=s3cret%zz", 1);
   ck_assert_ptr_null (mwatch_handler_new_otlp (NULL, &error));
   ck_assert_msg (strstr (error.message, "OTEL_EXPORTER_OTLP_HEADERS: item 2 (\"x-api-key=...\")") &&
                     !strstr (error.message, "s3cret"),
                  "%s", error.message);
   unsetenv ("OTEL_EXPORTER_OTLP_HEADERS");
   setenv ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "localhost:4318", 1);
   ck_assert_ptr_null (mwatch_handler_new_otlp (NULL, &error));
   ck_assert_msg (strstr (error.message, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT \"localhost:4318\""), "%s",
                  error.message);
   unsetenv ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");

   static const struct {
      const char *yaml;
      const char *expected;
   } bad[] = {
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    endpont: http://h\n",
       "handlers.o.endpont"},
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    endpoint: h:4318\n",
       "handlers.o.endpoint"},
      /* The error quotes the URL, but not its password. */
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    endpoint: ftp://u:s3cret@h\n",
       "handlers.o.endpoint: endpoint \"ftp://u:***@h\" is not an http"},
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    max_queue_size: 0\n",
       "handlers.o.max_queue_size"},
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    resource_attributes: [a]\n",
       "handlers.o.resource_attributes"},
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    headers:\n      x: {a: 1}\n",
       "handlers.o.headers.x"},
      /* A header that curl would send as two, or as a broken one. */
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    headers:\n      x-key: \"k\\r\\nHost: evil\"\n",
       "handlers.o.headers.x-key: a header value has no control characters"},
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    headers:\n      \"api key\": k\n",
       "handlers.o.headers.api key: a header name is"},
      {"version: 1\nhandlers:\n  o:\n    class: mongowatch.handlers.OTLPHandler\n    spans: maybe\n",
       "handlers.o.spans"},
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    metrics: true\n    metrics_interval_sec: 0\n",
       "handlers.o.metrics_interval_sec"},
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    metrics_endpoint: 4318\n",
       "handlers.o.metrics_endpoint"},
      /* Named as in the mongodb and syslog5424 handlers. */
      {"version: 1\nhandlers:\n  o:\n    class: otlp\n    max_backoff_sec: 2\n",
       "unknown key \"max_backoff_sec\" (did you mean \"backoff_max_sec\"?)"},
   };
   for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      ck_assert (!mwatch_config_load_string (bad[i].yaml, MWATCH_CONFIG_YAML, &error));
      ck_assert_msg (strstr (error.message, bad[i].expected), "case %zu: %s", i, error.message);
   }
   /* A good one loads (nothing is sent: no record). */
   ck_assert_msg (mwatch_config_load_string (
                     "version: 1\nhandlers:\n  o:\n    class: otlp\n    endpoint: http://127.0.0.1:9\n"
                     "    spans: true\n    service_name: svc\n    resource_attributes: {team: db}\n"
                     "    headers: {x-key: s3cret}\n    shutdown_timeout_sec: 0.2\n    backoff_max_sec: 1\n"
                     "loggers:\n  mongowatch:\n    handlers: [o]\n    level: INFO\n",
                     MWATCH_CONFIG_YAML, &error),
                  "%s", error.message);
   mwatch_shutdown ();

   /* A check describes the handler without its headers (API keys). */
   char path[] = "/tmp/mwatch-otlp-XXXXXX.yaml";
   int fd = mkstemps (path, 5);
   ck_assert_int_ge (fd, 0);
   const char *text = "version: 1\nhandlers:\n  o:\n    class: otlp\n    spans: true\n"
                      "    headers: {x-api-key: s3cret}\n";
   ck_assert_int_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
   close (fd);
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   ck_assert_msg (mwatch_config_check_file (path, &description, &error), "%s", error.message);
   ck_assert_msg (strstr (description.data, "\"spans\" : true"), "%s", description.data);
   ck_assert_msg (!strstr (description.data, "s3cret"), "%s", description.data);
   mwatch_buf_destroy (&description);
   unlink (path);
}
END_TEST

/* libcurl is loaded by the first otlp handler made: where it cannot be,
 * making one fails with an error that names libcurl.so.4 and the package
 * to install (in a configuration, at the handler's class), and the other
 * handlers are made as before. */
START_TEST (libcurl_missing)
{
   bson_error_t error;
   _mwatch_curl_set_soname_for_test ("/nonexistent/" MWATCH_CURL_SONAME);
   ck_assert_ptr_null (mwatch_handler_new_otlp (NULL, &error));
   ck_assert_msg (strstr (error.message, "cannot load /nonexistent/libcurl.so.4"), "%s", error.message);
   ck_assert_msg (strstr (error.message, "install the Debian package libcurl4"), "%s", error.message);

   ck_assert (!mwatch_config_load_string ("version: 1\nhandlers:\n  o:\n    class: otlp\n",
                                          MWATCH_CONFIG_YAML, &error));
   ck_assert_msg (strstr (error.message, "handlers.o.class"), "%s", error.message);
   ck_assert_msg (strstr (error.message, "libcurl.so.4"), "%s", error.message);
   ck_assert_msg (strstr (error.message, "libcurl4"), "%s", error.message);

   /* A library without curl's functions. */
   _mwatch_curl_set_soname_for_test ("libc.so.6");
   ck_assert_ptr_null (mwatch_handler_new_otlp (NULL, &error));
   ck_assert_msg (strstr (error.message, "libc.so.6 has no curl_easy_init"), "%s", error.message);

   ck_assert_msg (mwatch_config_load_string ("version: 1\nhandlers:\n  out:\n    class: stream\n"
                                             "loggers:\n  mongowatch:\n    handlers: [out]\n",
                                             MWATCH_CONFIG_YAML, &error),
                  "%s", error.message);
   mwatch_shutdown ();
   _mwatch_curl_set_soname_for_test (NULL);
}
END_TEST

/* The sender thread starts at the first record, never when the handler
 * is built (check-config builds every handler) nor in fork's child hook
 * (every system()'s child would get one before its exec): a child starts
 * its own at its own first record. */
START_TEST (sender_starts_at_first_record)
{
   bson_error_t error;
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   opts.endpoint = "http://127.0.0.1:9"; /* nothing listens: nothing is sent */
   opts.export_timeout_sec = 0.1;
   opts.shutdown_timeout_sec = 0.1;
   size_t before = mwatch_test_thread_count ();
   mwatch_handler_t *handler = mwatch_handler_new_otlp (&opts, &error);
   ck_assert_msg (handler, "%s", error.message);
   ck_assert_uint_eq (mwatch_test_thread_count (), before);

   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = record_of ("mongowatch.cursor", msg);
   ck_assert (mwatch_handler_handle (handler, &record));
   ck_assert_uint_eq (mwatch_test_thread_count (), before + 1);

   /* The sender has just started: fork once it waits (see
    * mwatch_test_threads_asleep). */
   ck_assert (mwatch_test_threads_asleep (10));
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      /* Exit codes: 2, a thread at fork; 3, none after the first record. */
      int code = mwatch_test_thread_count () != 1 ? 2 : 0;
      mwatch_handler_handle (handler, &record);
      code = code ? code : mwatch_test_thread_count () == 2 ? 0 : 3;
      /* Exits through an exec, as system()'s child does: the parent
       * sender's curl handle, left alone in the child, is no leak of its
       * own for valgrind (which checks a child at its exit). */
      char command[32];
      snprintf (command, sizeof command, "exit %d", code);
      execl ("/bin/sh", "sh", "-c", command, (char *) NULL);
      _exit (4);
   }
   int status = 0;
   ck_assert_int_eq (waitpid (pid, &status, 0), pid);
   ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status %d", status);

   mwatch_handler_destroy (handler);
   ck_assert_uint_eq (mwatch_test_thread_count (), before);
   mwatch_message_destroy (msg);
}
END_TEST

/* The reports' texts ("mongowatch.stats"). */
static char reported[8][700];
static int n_reported;

static void
keep_report (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   (void) impl;
   (void) handler;
   if (record->text && n_reported < 8) {
      bson_strncpy (reported[n_reported], record->text, sizeof reported[0]);
      __atomic_add_fetch (&n_reported, 1, __ATOMIC_RELEASE);
   }
}

static const mwatch_handler_vtable_t keep_report_vtable = {.emit = keep_report};

/* A report names the endpoint with its password masked as check-config
 * and the records mask it (one masking for all). */
START_TEST (reported_url_masked)
{
   bson_error_t error;
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   opts.endpoint = "http://user:s3cret@127.0.0.1:9";
   opts.schedule_delay_sec = 0; /* sent, and failed, at once */
   opts.export_timeout_sec = 0.1;
   opts.shutdown_timeout_sec = 0.1;
   n_reported = 0;
   mwatch_handler_t *reporter = mwatch_handler_new (&keep_report_vtable, NULL);
   mwatch_logger_add_handler (mwatch_logger_get ("mongowatch.stats"), reporter);
   mwatch_handler_t *handler = mwatch_handler_new_otlp (&opts, &error);
   ck_assert_msg (handler, "%s", error.message);
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = record_of ("mongowatch.cursor", msg);
   ck_assert (mwatch_handler_handle (handler, &record));
   /* The sender's report of the failure (awaited, 10 s at most). */
   for (int i = 0; i < 1000 && __atomic_load_n (&n_reported, __ATOMIC_ACQUIRE) == 0; i++) {
      usleep (10 * 1000);
   }
   mwatch_handler_destroy (handler);
   bool named = false;
   for (int i = 0; i < n_reported; i++) {
      ck_assert_msg (!strstr (reported[i], "s3cret"), "%s", reported[i]);
      named |= strstr (reported[i], "http://user:***@127.0.0.1:9/v1/logs") != NULL;
   }
   ck_assert_msg (named, "%d reports, the first: %s", n_reported, n_reported ? reported[0] : "");
   mwatch_shutdown ();
   mwatch_handler_destroy (reporter);
   mwatch_message_destroy (msg);
}
END_TEST

/* A header with a CR, LF or NUL (or one %-escaped in the variables) could
 * end its line and add another: refused, from the constructor as from the
 * variables, with an error that names the header and never its value. */
START_TEST (header_injection)
{
   bson_error_t error;
   mwatch_otlp_opts_t opts;
   mwatch_otlp_opts_init (&opts);
   const char *injected[] = {"x-api-key", "TOPSECRET\r\nX-Evil: 1", NULL};
   opts.headers = injected;
   ck_assert_ptr_null (mwatch_handler_new_otlp (&opts, &error));
   ck_assert_msg (strstr (error.message, "headers: header \"x-api-key\": a header value has no "
                                         "control characters"),
                  "%s", error.message);
   ck_assert_msg (!strstr (error.message, "TOPSECRET"), "%s", error.message);
   const char *bad_name[] = {"x-api\nkey", "v", NULL};
   opts.headers = bad_name;
   ck_assert_ptr_null (mwatch_handler_new_otlp (&opts, &error));
   ck_assert_msg (strstr (error.message, "header \"x-api\"...: a header name is"), "%s", error.message);

   opts.headers = NULL;
   const char *variables[][2] = {{"api-key=TOPSECRET%0D%0AX-Evil:1", "a header value has no control"},
                                 {"api-key=TOPSECRET%0Ax", "a header value has no control"},
                                 {"api-key=TOPSECRET%00x", "item 1 (\"api-key=...\") has a %00"}};
   for (size_t i = 0; i < 3; i++) {
      setenv ("OTEL_EXPORTER_OTLP_HEADERS", variables[i][0], 1);
      mwatch_handler_t *handler = mwatch_handler_new_otlp (&opts, &error);
      unsetenv ("OTEL_EXPORTER_OTLP_HEADERS");
      ck_assert_msg (!handler, "%s accepted", variables[i][0]);
      ck_assert_msg (strstr (error.message, "OTEL_EXPORTER_OTLP_HEADERS"), "%s", error.message);
      ck_assert_msg (strstr (error.message, "api-key"), "%s", error.message);
      ck_assert_msg (strstr (error.message, variables[i][1]), "%s", error.message);
      ck_assert_msg (!strstr (error.message, "TOPSECRET"), "%s", error.message);
   }
}
END_TEST

/* A constructor's error is reported at the key it concerns, also when an
 * OTEL_ variable stands for that key. */
START_TEST (error_at_its_key)
{
   static const struct {
      const char *var, *value, *where;
   } cases[] = {
      {"OTEL_RESOURCE_ATTRIBUTES", "novalue", "handlers.o.resource_attributes: OTEL_RESOURCE_ATTRIBUTES"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "k=a%0Db", "handlers.o.headers: "},
      {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "ftp://h", "handlers.o.logs_endpoint: "},
      {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "ftp://h", "handlers.o.metrics_endpoint: "},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://h", "handlers.o.endpoint: "},
   };
   bson_error_t error;
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      setenv (cases[i].var, cases[i].value, 1);
      bool loaded = mwatch_config_load_string ("version: 1\nhandlers:\n  o:\n    class: otlp\n",
                                               MWATCH_CONFIG_YAML, &error);
      unsetenv (cases[i].var);
      ck_assert_msg (!loaded, "%s accepted", cases[i].var);
      ck_assert_msg (strstr (error.message, cases[i].where), "%s", error.message);
   }
}
END_TEST

/* The duration histogram: upper-inclusive buckets, count, sum, min, max,
 * one series per key, error.type on a failed one's. */
START_TEST (metrics_histogram)
{
   mwatch_otlp_series_t series[2] = {
      {.db = "shop", .collection = "orders", .operation = "find"},
      {.db = "shop", .collection = "orders", .operation = "insert_one", .failed = true},
   };
   _mwatch_otlp_series_add (&series[0], 0.001);  /* bucket 0: (-inf, 0.001] */
   _mwatch_otlp_series_add (&series[0], 0.0011); /* bucket 1: (0.001, 0.005] */
   _mwatch_otlp_series_add (&series[0], 9.0);    /* the last: (5, +inf) */
   _mwatch_otlp_series_add (&series[1], 0.2);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   _mwatch_otlp_metrics_envelope (&out, "[]", series, 2, 1700000000000000, 1700000060000000);
   json_t *root = parse (&out);
   json_t *metric = json_array_get (
      json_object_get (json_array_get (json_object_get (json_array_get (json_object_get (root, "resourceMetrics"), 0),
                                                        "scopeMetrics"),
                                       0),
                       "metrics"),
      0);
   ck_assert_str_eq (json_string_value (json_object_get (metric, "name")), "db.client.operation.duration");
   ck_assert_str_eq (json_string_value (json_object_get (metric, "unit")), "s");
   json_t *histogram = json_object_get (metric, "histogram");
   ck_assert_int_eq (json_integer_value (json_object_get (histogram, "aggregationTemporality")), 2);
   json_t *points = json_object_get (histogram, "dataPoints");
   ck_assert_uint_eq (json_array_size (points), 2);
   json_t *p0 = json_array_get (points, 0);
   ck_assert_str_eq (json_string_value (json_object_get (p0, "count")), "3");
   ck_assert (json_real_value (json_object_get (p0, "sum")) == 0.001 + 0.0011 + 9.0);
   ck_assert (json_real_value (json_object_get (p0, "min")) == 0.001);
   ck_assert (json_real_value (json_object_get (p0, "max")) == 9.0);
   ck_assert_str_eq (json_string_value (json_object_get (p0, "startTimeUnixNano")), "1700000000000000000");
   ck_assert_str_eq (json_string_value (json_object_get (p0, "timeUnixNano")), "1700000060000000000");
   json_t *buckets = json_object_get (p0, "bucketCounts");
   json_t *bounds = json_object_get (p0, "explicitBounds");
   ck_assert_uint_eq (json_array_size (buckets), json_array_size (bounds) + 1);
   ck_assert_str_eq (json_string_value (json_array_get (buckets, 0)), "1");
   ck_assert_str_eq (json_string_value (json_array_get (buckets, 1)), "1");
   ck_assert_str_eq (json_string_value (json_array_get (buckets, json_array_size (bounds))), "1");
   ck_assert (json_real_value (json_array_get (bounds, 0)) == 0.001);
   json_t *a0 = json_object_get (p0, "attributes");
   assert_string_attr (a0, "db.system.name", "mongodb");
   assert_string_attr (a0, "db.namespace", "shop");
   assert_string_attr (a0, "db.collection.name", "orders");
   assert_string_attr (a0, "db.operation.name", "find");
   ck_assert_ptr_null (attribute (a0, "error.type"));
   json_t *a1 = json_object_get (json_array_get (points, 1), "attributes");
   assert_string_attr (a1, "db.operation.name", "insert_one");
   assert_string_attr (a1, "error.type", "_OTHER");
   json_decref (root);
   mwatch_buf_destroy (&out);

   /* Which records count: final ones with a Duration. */
   mwatch_message_t *msg = find_message ();
   mwatch_record_t record = record_of ("mongowatch.cursor", msg);
   mwatch_otlp_text_t key[3];
   double seconds;
   bool failed;
   ck_assert (_mwatch_otlp_series_key (&record, key, &seconds, &failed));
   ck_assert (key[2].len == 4 && memcmp (key[2].str, "find", 4) == 0);
   ck_assert (seconds == 0.25 && !failed);
   mwatch_message_destroy (msg);
   msg = mwatch_message_new ();
   record.watch = msg;
   mwatch_message_set_double (msg, "Duration", 1);
   ck_assert (!_mwatch_otlp_series_key (&record, key, &seconds, &failed)); /* not final */
   mwatch_message_destroy (msg);
}
END_TEST

Suite *
otlp_json_suite (void)
{
   Suite *s = suite_create ("otlp_json");
   TCase *tc = tcase_create ("encoding");
   tcase_add_test (tc, log_record_of_a_find);
   tcase_add_test (tc, span_and_error);
   tcase_add_test (tc, collection_record);
   tcase_add_test (tc, which_records);
   tcase_add_test (tc, envelope_scopes);
   tcase_add_test (tc, environment_lists);
   tcase_add_test (tc, settings_errors);
   tcase_add_test (tc, libcurl_missing);
   tcase_add_test (tc, metrics_histogram);
   tcase_add_test (tc, sender_starts_at_first_record);
   tcase_add_test (tc, reported_url_masked);
   tcase_add_test (tc, header_injection);
   tcase_add_test (tc, error_at_its_key);
   suite_add_tcase (s, tc);
   return s;
}
