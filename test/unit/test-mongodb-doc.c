/* The MongoDB handler's pure parts: the typed document of a record, and
 * the checks of its options and configuration keys (no server needed:
 * the handler connects at its first record). */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/handler-mongodb-private.h"
#include "unit/suites.h"

static bson_type_t
type_at (const bson_t *doc, const char *path, bson_iter_t *found)
{
   bson_iter_t iter;
   if (!bson_iter_init (&iter, doc) || !bson_iter_find_descendant (&iter, path, found)) {
      return BSON_TYPE_EOD;
   }
   return bson_iter_type (found);
}

START_TEST (record_as_typed_document)
{
   mwatch_message_t *msg = mwatch_message_new ();
   bson_t *filter = BCON_NEW ("age", "{", "$gt", BCON_INT32 (30), "}", "user.name", BCON_UTF8 ("x"),
                              "tags", "[", BCON_UTF8 ("a"), "{", "$in", "[", BCON_INT32 (1), "]", "}", "]");
   mwatch_message_set_utf8 (msg, "DB", "shop");
   mwatch_message_set_document (msg, "Filter", filter);
   mwatch_message_set_datetime (msg, "EndTime", 1700000000123456);
   mwatch_message_set_double (msg, "Duration", 0.25);
   mwatch_message_set_int64 (msg, "MatchedCount", 7);
   mwatch_message_set_bool (msg, "Flag", true);
   mwatch_message_set_null (msg, "Nothing");
   mwatch_message_set_utf8_len (msg, "Error", "bad\xff byte\0nul", 13);
   mwatch_message_set_utf8 (msg, "_private", "left out");
   mwatch_record_t record = {.name = "mongowatch.cursor", .level = MWATCH_LEVEL_INFO,
                             .created = 1700000000999999, .thread = 42, .process = 7,
                             .text = NULL, .watch = msg};
   bson_t doc = BSON_INITIALIZER;
   _mwatch_mongodb_record_doc (&record, &doc);
   bson_iter_t it;

   ck_assert_int_eq (type_at (&doc, "_id", &it), BSON_TYPE_OID);
   ck_assert_int_eq (type_at (&doc, "created", &it), BSON_TYPE_DATE_TIME);
   ck_assert_int_eq (bson_iter_date_time (&it), 1700000000999);
   ck_assert_int_eq (type_at (&doc, "name", &it), BSON_TYPE_UTF8);
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "mongowatch.cursor");
   ck_assert_int_eq (type_at (&doc, "levelname", &it), BSON_TYPE_UTF8);
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "INFO");
   ck_assert_int_eq (type_at (&doc, "levelno", &it), BSON_TYPE_INT32);
   ck_assert_int_eq (bson_iter_int32 (&it), 20);
   ck_assert_int_eq (type_at (&doc, "process", &it), BSON_TYPE_INT64);
   ck_assert_int_eq (bson_iter_int64 (&it), 7);
   ck_assert_int_eq (type_at (&doc, "thread", &it), BSON_TYPE_INT64);
   ck_assert_int_eq (type_at (&doc, "message", &it), BSON_TYPE_EOD);

   ck_assert_int_eq (type_at (&doc, "watch.WatchID", &it), BSON_TYPE_OID);
   char hex[25];
   bson_oid_to_string (bson_iter_oid (&it), hex);
   ck_assert_str_eq (hex, mwatch_message_watch_id (msg));
   ck_assert_int_eq (type_at (&doc, "watch.Iteration", &it), BSON_TYPE_INT64);
   ck_assert_int_eq (type_at (&doc, "watch.StartTime", &it), BSON_TYPE_DATE_TIME);
   ck_assert_int_eq (type_at (&doc, "watch.EndTime", &it), BSON_TYPE_DATE_TIME);
   ck_assert_int_eq (bson_iter_date_time (&it), 1700000000123);
   ck_assert_int_eq (type_at (&doc, "watch.Duration", &it), BSON_TYPE_DOUBLE);
   ck_assert (bson_iter_double (&it) == 0.25);
   ck_assert_int_eq (type_at (&doc, "watch.MatchedCount", &it), BSON_TYPE_INT64);
   ck_assert_int_eq (bson_iter_int64 (&it), 7);
   ck_assert_int_eq (type_at (&doc, "watch.Flag", &it), BSON_TYPE_BOOL);
   ck_assert_int_eq (type_at (&doc, "watch.Nothing", &it), BSON_TYPE_NULL);
   ck_assert_int_eq (type_at (&doc, "watch._private", &it), BSON_TYPE_EOD);
   /* Keys the server cannot store, escaped at every depth. */
   ck_assert_int_eq (type_at (&doc, "watch.Filter", &it), BSON_TYPE_DOCUMENT);
   ck_assert_int_eq (type_at (&doc, "watch.Filter.age.\xef\xbc\x84gt", &it), BSON_TYPE_INT32);
   ck_assert_int_eq (bson_iter_int32 (&it), 30);
   ck_assert_int_eq (type_at (&doc, "watch.Filter.age", &it), BSON_TYPE_DOCUMENT);
   bson_iter_t inner;
   ck_assert (bson_iter_recurse (&it, &inner) && bson_iter_next (&inner));
   ck_assert_str_eq (bson_iter_key (&inner), "\xef\xbc\x84gt");
   ck_assert (bson_iter_init_find (&it, &doc, "watch") && bson_iter_recurse (&it, &inner) &&
              bson_iter_find (&inner, "Filter") && bson_iter_recurse (&inner, &it));
   ck_assert (bson_iter_find (&it, "user\xef\xbc\x8ename"));
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "x");
   ck_assert_int_eq (type_at (&doc, "watch.Filter.tags", &it), BSON_TYPE_ARRAY);
   ck_assert_int_eq (type_at (&doc, "watch.Filter.tags.1.\xef\xbc\x84in", &it), BSON_TYPE_ARRAY);
   /* Not UTF-8: each bad byte (and NUL) becomes U+FFFD. */
   ck_assert_int_eq (type_at (&doc, "watch.Error", &it), BSON_TYPE_UTF8);
   uint32_t len;
   const char *error = bson_iter_utf8 (&it, &len);
   ck_assert_str_eq (error, "bad\xef\xbf\xbd byte\xef\xbf\xbdnul");
   ck_assert (bson_validate (&doc, BSON_VALIDATE_UTF8 | BSON_VALIDATE_DOLLAR_KEYS | BSON_VALIDATE_DOT_KEYS, NULL));

   bson_destroy (&doc);
   bson_destroy (filter);
   mwatch_message_destroy (msg);
}
END_TEST

START_TEST (text_record)
{
   mwatch_record_t record = {.name = "mongowatch.stats", .level = MWATCH_LEVEL_WARNING,
                             .created = 1000, .text = "queue \"q\": 3 records dropped"};
   bson_t doc = BSON_INITIALIZER;
   bson_iter_t it;
   _mwatch_mongodb_record_doc (&record, &doc);
   ck_assert_int_eq (type_at (&doc, "message", &it), BSON_TYPE_UTF8);
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), record.text);
   ck_assert_int_eq (type_at (&doc, "levelname", &it), BSON_TYPE_UTF8);
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "WARNING");
   ck_assert_int_eq (type_at (&doc, "watch", &it), BSON_TYPE_EOD);
   bson_destroy (&doc);
}
END_TEST

/* The constructor's checks, each naming its option. */
START_TEST (constructor_checks)
{
   mwatch_mongodb_handler_opts_t opts;
   bson_error_t error;
   const char *key;
   struct {
      const char *uri, *database, *collection;
      int64_t ttl;
      const char *key, *message;
   } cases[] = {
      {NULL, "a", "b", 0, "uri", "URI is missing"},
      {"http://x", "a", "b", 0, "uri", "bad MongoDB URI"},
      {"mongodb://h", NULL, "b", 0, "database", "database name is missing"},
      {"mongodb://h", "a.b", "b", 0, "database", "not a database name"},
      {"mongodb://h", "a", "", 0, "collection", "collection name is missing"},
      {"mongodb://h", "a", "system.x", 0, "collection", "not a collection name"},
      {"mongodb://h", "a", "b", -1, "ttl_sec", "ttl_sec must be"},
      {"mongodb://u@h/?authMechanism=BOGUS", "a", "b", 0, "uri",
       "authMechanism \"BOGUS\" is none of those libmongoc knows (SCRAM-SHA-1, SCRAM-SHA-256"},
   };
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      mwatch_mongodb_handler_opts_init (&opts);
      opts.uri = cases[i].uri;
      opts.database = cases[i].database;
      opts.collection = cases[i].collection;
      opts.ttl_sec = cases[i].ttl;
      ck_assert (!_mwatch_mongodb_check_opts (&opts, &error, &key));
      ck_assert_str_eq (key, cases[i].key);
      ck_assert_msg (strstr (error.message, cases[i].message), "%s", error.message);
      ck_assert (!mwatch_handler_new_mongodb (&opts, &error));
      ck_assert_uint_eq (error.code, MWATCH_ERROR_INVALID_ARGUMENT);
   }
   /* Known mechanisms, in any case, pass. */
   mwatch_mongodb_handler_opts_init (&opts);
   opts.database = "a";
   opts.collection = "b";
   opts.uri = "mongodb://u:p@h/?authMechanism=scram-sha-256";
   ck_assert_msg (_mwatch_mongodb_check_opts (&opts, &error, &key), "%s", error.message);
   opts.uri = "mongodb://h/?authMechanism=MONGODB-X509";
   ck_assert_msg (_mwatch_mongodb_check_opts (&opts, &error, &key), "%s", error.message);

   mwatch_mongodb_handler_opts_init (&opts);
   opts.uri = "mongodb://127.0.0.1:1/";
   opts.database = "audit";
   opts.collection = "records";
   mwatch_handler_t *h = mwatch_handler_new_mongodb (&opts, &error);
   ck_assert_msg (h, "%s", error.message);
   mwatch_mongodb_handler_stats_t st;
   ck_assert (mwatch_mongodb_handler_stats (h, &st));
   ck_assert_uint_eq (st.inserted + st.dropped + st.buffered, 0);
   mwatch_handler_t *other = mwatch_handler_new_null ();
   ck_assert (!mwatch_mongodb_handler_stats (other, &st));
   mwatch_handler_destroy (other);
   mwatch_handler_destroy (h);
}
END_TEST

/* Configuration errors name the handler and the key. */
START_TEST (config_keys)
{
   static const struct {
      const char *keys;
      const char *want;
   } cases[] = {
      {"database: a, collection: b", "handlers.audit: the key \"uri\" is required"},
      {"uri: \"mongodb://h:notaport\", database: a, collection: b", "handlers.audit.uri: bad MongoDB URI"},
      {"uri: \"mongodb://h\", database: \"a b\", collection: b", "handlers.audit.database:"},
      {"uri: \"mongodb://h\", database: a, collection: \"x$y\"", "handlers.audit.collection:"},
      {"uri: \"mongodb://h\", database: a, collection: b, ttl_sec: -5", "handlers.audit.ttl_sec"},
      {"uri: \"mongodb://h\", database: a, collection: b, batch_size: 0", "handlers.audit.batch_size"},
      {"uri: \"mongodb://h\", database: a, collection: b, formatter: f", "handlers.audit.formatter: a mongodb handler stores typed documents"},
      {"uri: \"mongodb://h\", database: a, collection: b, colection: c", "colection"},
      {"uri: \"mongodb://u@h/?authMechanism=BOGUS\", database: a, collection: b",
       "handlers.audit.uri: bad MongoDB URI: authMechanism \"BOGUS\""},
      /* Renamed as in the otlp and syslog5424 handlers. */
      {"uri: \"mongodb://h\", database: a, collection: b, retry_max_sec: 2",
       "unknown key \"retry_max_sec\" (did you mean \"backoff_max_sec\"?)"},
   };
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      char text[512];
      bson_error_t error;
      snprintf (text, sizeof text,
                "version: 1\nformatters: {f: {format: \"{message}\"}}\n"
                "handlers:\n  audit: {class: mongodb, %s}\n",
                cases[i].keys);
      ck_assert_msg (!mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "loaded: %s", text);
      ck_assert_msg (strstr (error.message, cases[i].want), "error \"%s\" lacks \"%s\"", error.message,
                     cases[i].want);
      ck_assert_msg (strstr (error.message, "<string>:4:"), "no place in \"%s\"", error.message);
   }
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string ("version: 1\nhandlers:\n  audit:\n"
                                             "    class: mongowatch.handlers.MongoDBHandler\n"
                                             "    uri: mongodb://127.0.0.1:1/\n"
                                             "    database: a\n    collection: b\n    ttl_sec: 60\n",
                                             MWATCH_CONFIG_YAML, &error),
                  "%s", error.message);
   mwatch_shutdown ();
}
END_TEST

/* The process's virtual size, in bytes (/proc/self/statm). */
static size_t
virtual_size (void)
{
   FILE *f = fopen ("/proc/self/statm", "r");
   unsigned long pages = 0;
   ck_assert (f && fscanf (f, "%lu", &pages) == 1);
   fclose (f);
   return (size_t) pages * (size_t) sysconf (_SC_PAGESIZE);
}

/* The buffer grows as records wait: a capacity of a billion records costs
 * nothing at load (check-config builds the handler), and records beyond
 * the capacity are dropped and counted, those within it all kept. */
START_TEST (buffer_grows_as_needed)
{
   mwatch_mongodb_handler_opts_t opts;
   bson_error_t error;
   mwatch_mongodb_handler_opts_init (&opts);
   opts.uri = "mongodb://127.0.0.1:1/"; /* nothing listens: records wait */
   opts.database = "audit";
   opts.collection = "records";
   opts.capacity = 1000000000;
   opts.shutdown_timeout_sec = 0.2;
   size_t before = virtual_size ();
   mwatch_handler_t *h = mwatch_handler_new_mongodb (&opts, &error);
   ck_assert_msg (h, "%s", error.message);
   size_t grown = virtual_size () - before;
   ck_assert_msg (grown < ((size_t) 64 << 20), "the process grew by %zu bytes", grown);
   mwatch_handler_destroy (h);

   opts.capacity = 600; /* past the first slots (256) and a doubling */
   h = mwatch_handler_new_mongodb (&opts, &error);
   ck_assert_msg (h, "%s", error.message);
   mwatch_record_t record = {.name = "mongowatch.stats", .level = MWATCH_LEVEL_WARNING, .text = "x"};
   for (int i = 0; i < 700; i++) {
      mwatch_handler_handle (h, &record);
   }
   mwatch_mongodb_handler_stats_t st;
   ck_assert (mwatch_mongodb_handler_stats (h, &st));
   ck_assert_uint_eq (st.buffered, 600);
   ck_assert_uint_eq (st.dropped, 100);
   mwatch_handler_destroy (h);
   mwatch_shutdown ();
}
END_TEST

/* A URI's password is never shown: not by check-config's description. */
START_TEST (uri_password_hidden)
{
   static const char *const cases[][2] = {
      {"mongodb://auditor:s3cr3t@db1:27017,db2/?authSource=admin",
       "mongodb://auditor:***@db1:27017,db2/?authSource=admin"},
      {"mongodb://a%40b:p@ss:w@h/", "mongodb://a%40b:***@h/"},
      {"mongodb://auditor@h/", "mongodb://auditor@h/"},
      {"mongodb://h:27017/?x=a:b@c", "mongodb://h:27017/?x=a:b@c"},
      {"mongodb+srv://u:p@cluster.example.net", "mongodb+srv://u:***@cluster.example.net"},
      /* the key file's password is one too */
      {"mongodb://h/?tls=true&tlsCertificateKeyFilePassword=k3yp4ss&appname=a",
       "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***&appname=a"},
   };
   for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      char *shown = _mwatch_mongodb_uri_shown (cases[i][0]);
      ck_assert_str_eq (shown, cases[i][1]);
      bson_free (shown);
   }
   char path[] = "/tmp/mwatch-mongodb-XXXXXX.yaml";
   int fd = mkstemps (path, 5);
   ck_assert (fd >= 0);
   /* An OTLP endpoint's user information is a password as well (libcurl
    * sends it as basic authentication). */
   const char *text = "version: 1\nhandlers:\n  audit: {class: mongodb, uri: "
                      "\"mongodb://auditor:s3cr3t@db1/\", database: a, collection: b}\n"
                      "  otel: {class: otlp, endpoint: \"http://alice:0tlpw@collector:4318\",\n"
                      "         traces_endpoint: \"http://bob:tr4ce@collector:4318/t\"}\n";
   ck_assert (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
   close (fd);
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   ck_assert_msg (mwatch_config_check_file (path, &description, &error), "%s", error.message);
   ck_assert_msg (strstr (description.data, "uri mongodb://auditor:***@db1/") &&
                     !strstr (description.data, "s3cr3t") &&
                     strstr (description.data, "endpoint http://alice:***@collector:4318") &&
                     !strstr (description.data, "0tlpw") && !strstr (description.data, "tr4ce"),
                  "%s", description.data);
   mwatch_buf_destroy (&description);
   unlink (path);
}
END_TEST

Suite *
mongodb_doc_suite (void)
{
   Suite *s = suite_create ("mongodb_doc");
   TCase *tc = tcase_create ("mongodb_doc");
   tcase_add_test (tc, record_as_typed_document);
   tcase_add_test (tc, text_record);
   tcase_add_test (tc, constructor_checks);
   tcase_add_test (tc, config_keys);
   tcase_add_test (tc, uri_password_hidden);
   tcase_add_test (tc, buffer_grows_as_needed);
   suite_add_tcase (s, tc);
   return s;
}
