/* What one record costs the remote syslog handler (RFC 5424) on the
 * thread that emits it (a queue's listener, in a real configuration):
 * formatting the line, encoding the message (header, the fields as
 * STRUCTURED-DATA, escaping), framing and the send, for a typical final
 * record of a find.  Beside it, the file handler writing the same record
 * with the same (default) format to /dev/null: the cost of a line alone.
 *
 *   build/bench/syslog5424 [RECORDS] [KIND]      (defaults: 100000, udp)
 *
 * KIND: udp (to a loopback UDP socket nobody reads: the kernel drops what
 * overflows it, the send still succeeds), tcp (to a loopback listener
 * whose thread reads and discards), unix (a unix datagram socket read and
 * discarded by a thread), or file (/dev/null).  Prints the records per
 * second of wall time, which is not trustworthy on a loaded machine; for
 * instruction counts run it under callgrind at two lengths and take the
 * difference (doc/PERFORMANCE.md, "Remote syslog (RFC 5424)"). */
#include "bench-util.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void *
drain (void *arg)
{
   int fd = *(int *) arg;
   char buf[65536];
   if (listen (fd, 1) == 0) { /* a stream listener: read its one connection */
      int conn = accept (fd, NULL, NULL);
      while (read (conn, buf, sizeof buf) > 0) {
      }
      close (conn);
      return NULL;
   }
   while (recv (fd, buf, sizeof buf, 0) >= 0) {
   }
   return NULL;
}

int
main (int argc, char **argv)
{
   long count = argc > 1 ? atol (argv[1]) : 100000;
   const char *kind = argc > 2 ? argv[2] : "udp";
   bson_error_t error;
   mwatch_handler_t *handler = NULL;
   char address[128] = "";
   char dir[] = "/tmp/mwatch-bench-XXXXXX";
   int fd = -1;
   pthread_t reader;
   bool reading = false;

   mwatch_syslog5424_opts_t opts;
   mwatch_syslog5424_opts_init (&opts);
   if (strcmp (kind, "file") == 0) {
      handler = bench_file_handler ("/dev/null");
   } else if (strcmp (kind, "unix") == 0) {
      if (!mkdtemp (dir)) {
         return 1;
      }
      struct sockaddr_un sun = {.sun_family = AF_UNIX};
      bson_snprintf (sun.sun_path, sizeof sun.sun_path, "%s/log.sock", dir);
      fd = socket (AF_UNIX, SOCK_DGRAM, 0);
      if (bind (fd, (struct sockaddr *) &sun, sizeof sun) != 0) {
         perror ("bind");
         return 1;
      }
      bson_snprintf (address, sizeof address, "%s", sun.sun_path);
      opts.transport = MWATCH_SYSLOG5424_UNIX;
   } else {
      bool tcp = strcmp (kind, "tcp") == 0;
      struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
      fd = socket (AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
      socklen_t len = sizeof sin;
      if (bind (fd, (struct sockaddr *) &sin, sizeof sin) != 0 ||
          getsockname (fd, (struct sockaddr *) &sin, &len) != 0) {
         perror ("bind");
         return 1;
      }
      bson_snprintf (address, sizeof address, "127.0.0.1:%d", ntohs (sin.sin_port));
      opts.transport = tcp ? MWATCH_SYSLOG5424_TCP : MWATCH_SYSLOG5424_UDP;
      if (tcp) {
         listen (fd, 1);
      }
   }
   if (fd >= 0) {
      if (opts.transport != MWATCH_SYSLOG5424_UDP) {
         reading = pthread_create (&reader, NULL, drain, &fd) == 0;
      }
      opts.address = address;
      opts.hostname = "web-14.eu-west";
      opts.app_name = "checkout";
      if (!(handler = mwatch_handler_new_syslog5424 (&opts, &error))) {
         fprintf (stderr, "%s\n", error.message);
         return 1;
      }
      mwatch_handler_set_level (handler, MWATCH_LEVEL_INFO);
   }

   bson_t *filter = BCON_NEW ("user", BCON_UTF8 ("ann"), "total", "{", "$gt", BCON_INT32 (30), "}");
   mwatch_message_t *msg = bench_find_started (filter);
   bench_find_ended (msg, 25);
   mwatch_record_t record = {.name = "mongowatch.cursor", .level = MWATCH_LEVEL_INFO,
                             .timeout_level = MWATCH_LEVEL_INFO, .watch = msg};
   double start = bench_now_sec ();
   for (long i = 0; i < count; i++) {
      record.created = mwatch_realtime_us ();
      mwatch_handler_handle (handler, &record);
   }
   double took = bench_now_sec () - start;
   mwatch_syslog5424_stats_t st;
   mwatch_syslog5424_handler_stats (handler, &st);
   printf ("%s: %ld records in %.3f s: %.0f records/s (sent %llu, dropped %llu)\n", kind, count,
           took, (double) count / took, (unsigned long long) st.sent,
           (unsigned long long) st.dropped);
   mwatch_handler_destroy (handler);
   if (fd >= 0) {
      shutdown (fd, SHUT_RDWR);
      close (fd);
   }
   if (reading) {
      pthread_cancel (reader);
      pthread_join (reader, NULL);
   }
   if (dir[strlen (dir) - 1] != 'X') {
      char path[64];
      bson_snprintf (path, sizeof path, "%s/log.sock", dir);
      unlink (path);
      rmdir (dir);
   }
   mwatch_message_destroy (msg);
   bson_destroy (filter);
   return 0;
}
