/* Audit records to a remote syslog daemon (rsyslog, syslog-ng, a relay)
 * as RFC 5424 messages, the watch fields as STRUCTURED-DATA:
 *
 *   <158>1 2026-12-06T12:00:00.123456Z web1 shopd 4242 find
 *     [mongowatch@32473 WatchID="..." DB="shop" Collection="items"
 *      Operation="find" Filter="{\"kind\":\"tool\"}" MatchedCount="13" ...]
 *     find on shop.items fetched 13 in 0.0021 s
 *
 *   cc syslog5424.c $(pkg-config --cflags --libs mongowatch) -o syslog5424
 *   ./syslog5424 mongodb://127.0.0.1:27017 tcp 127.0.0.1:514 [DATABASE]
 *
 * The transport is udp, tcp (RFC 6587 octet counting), unix (a datagram
 * socket such as /dev/log) or unix_stream; the address HOST:PORT or the
 * socket's path.  The URI may come from MONGOWATCH_TEST_URI instead (give
 * "" as the first argument).  DATABASE (default "mongowatch_example") is
 * dropped at the end.  The program prints one line: what the handler sent
 * and dropped.
 *
 * The handler goes behind a queue (mwatch_add_logging_handlers does
 * that): the application's threads never wait for the network, and the
 * queue holds what comes while the daemon restarts. */
#include <mongoc/mongoc.h>
#include <mongowatch.h>
#include <stdio.h>
#include <string.h>

static mwatch_handler_t *
syslog_handler (const char *transport, const char *address, bson_error_t *error)
{
   mwatch_syslog5424_opts_t opts;
   mwatch_syslog5424_opts_init (&opts);
   if (strcmp (transport, "tcp") == 0) {
      opts.transport = MWATCH_SYSLOG5424_TCP;
   } else if (strcmp (transport, "unix") == 0) {
      opts.transport = MWATCH_SYSLOG5424_UNIX;
   } else if (strcmp (transport, "unix_stream") == 0) {
      opts.transport = MWATCH_SYSLOG5424_UNIX_STREAM;
   } else {
      opts.transport = MWATCH_SYSLOG5424_UDP;
   }
   opts.address = address;
   opts.facility = MWATCH_SYSLOG_LOCAL0 + 3;
   opts.app_name = "syslog5424-example";
   /* A daemon that is down is retried for 5 s per record, then the
    * record is counted as dropped. */
   opts.retry_timeout_sec = 5;
   return mwatch_handler_new_syslog5424 (&opts, error);
}

int
main (int argc, char **argv)
{
   const char *uri = argc > 1 && argv[1][0] ? argv[1] : getenv ("MONGOWATCH_TEST_URI");
   const char *transport = argc > 2 ? argv[2] : NULL;
   const char *address = argc > 3 ? argv[3] : NULL;
   const char *db_name = argc > 4 ? argv[4] : "mongowatch_example";
   if (!uri || !transport || !address) {
      fprintf (stderr, "usage: %s MONGODB-URI udp|tcp|unix|unix_stream ADDRESS [DATABASE]\n",
               argv[0]);
      return 2;
   }
   bson_error_t error;
   mwatch_handler_t *handler = syslog_handler (transport, address, &error);
   if (!handler || !mwatch_patch_mongoc (&error)) {
      fprintf (stderr, "mongowatch: %s\n", error.message);
      return 1;
   }
   /* MSG: a line of our own; the fields travel as STRUCTURED-DATA anyway. */
   mwatch_logging_opts_t opts;
   mwatch_logging_opts_init (&opts);
   opts.format = "{watch.Operation} on {watch.DB}.{watch.Collection} fetched "
                 "{watch.MatchedCount} in {watch.Duration} s";
   mwatch_handler_t *handlers[] = {handler, NULL};
   if (!mwatch_add_logging_handlers (&opts, handlers, &error)) {
      fprintf (stderr, "mongowatch: %s\n", error.message);
      return 1;
   }

   mongoc_init ();
   mongoc_client_t *client = mongoc_client_new (uri);
   if (!client) {
      fprintf (stderr, "bad URI: %s\n", uri);
      return 2;
   }
   mongoc_collection_t *items = mongoc_client_get_collection (client, db_name, "items");
   bson_t *docs[3];
   for (int i = 0; i < 3; i++) {
      docs[i] = BCON_NEW ("n", BCON_INT32 (i), "kind", BCON_UTF8 (i ? "tool" : "toy"));
   }
   bool ok = mongoc_collection_insert_many (items, (const bson_t **) docs, 3, NULL, NULL, &error);
   bson_t *filter = BCON_NEW ("kind", BCON_UTF8 ("tool"));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (items, filter, NULL, NULL);
   const bson_t *doc;
   while (mongoc_cursor_next (cursor, &doc)) {
   }
   ok = ok && !mongoc_cursor_error (cursor, &error);
   mongoc_cursor_destroy (cursor);
   mongoc_database_t *db = mongoc_client_get_database (client, db_name);
   ok = ok && mongoc_database_drop (db, &error);
   if (!ok) {
      fprintf (stderr, "mongodb: %s\n", error.message);
   }
   mongoc_database_destroy (db);
   mongoc_collection_destroy (items);
   bson_destroy (filter);
   for (int i = 0; i < 3; i++) {
      bson_destroy (docs[i]);
   }
   mongoc_client_destroy (client);
   mongoc_cleanup ();

   /* Every queued record is sent (or counted) before this returns. */
   mwatch_shutdown ();
   mwatch_syslog5424_stats_t st;
   mwatch_syslog5424_handler_stats (handler, &st);
   printf ("syslog %s %s: %llu records sent, %llu dropped\n", transport, address,
           (unsigned long long) st.sent, (unsigned long long) st.dropped);
   mwatch_handler_destroy (handler);
   return ok && st.dropped == 0 ? 0 : 1;
}
