/* NOT A MONGODB.  A fake wire server for high-rate load tests only: it
 * speaks just enough of the MongoDB wire protocol (OP_MSG, and OP_QUERY for
 * the legacy handshake libmongoc sends on connect) to answer the handful of
 * commands bench/load sends — hello/isMaster, ping, buildInfo, endSessions,
 * insert (n: 1), find (a fixed one-document first batch, cursor id 0) — and
 * "ok: 1" to anything else.  It stores nothing.  A real server (FerretDB,
 * test/server) is far slower per operation; this one lets the load
 * generator push mongowatch at tens of thousands of operations a second.
 *
 *   build/test/fake-server [PORT]   (0 or none: a free port)
 * Prints "PORT\n" on stdout once listening; one thread per connection;
 * ends on SIGTERM/SIGINT. */
#include <bson/bson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OP_REPLY 1
#define OP_QUERY 2004
#define OP_MSG 2013
#define MAX_MESSAGE (48 * 1000 * 1000)

static int32_t next_request_id = 1;

static bool
read_all (int fd, void *buf, size_t len)
{
   char *p = buf;
   while (len > 0) {
      ssize_t n = read (fd, p, len);
      if (n <= 0) {
         return false;
      }
      p += n;
      len -= (size_t) n;
   }
   return true;
}

static bool
write_all (int fd, const void *buf, size_t len)
{
   const char *p = buf;
   while (len > 0) {
      ssize_t n = write (fd, p, len);
      if (n <= 0) {
         return false;
      }
      p += n;
      len -= (size_t) n;
   }
   return true;
}

static int32_t
get_i32 (const uint8_t *p)
{
   int32_t v;
   memcpy (&v, p, 4);
   return BSON_UINT32_FROM_LE (v);
}

static void
put_i32 (uint8_t *p, int32_t v)
{
   v = (int32_t) BSON_UINT32_TO_LE (v);
   memcpy (p, &v, 4);
}

/* The reply to the command `cmd` (its first key names it). */
static void
answer (const bson_t *cmd, bson_t *reply)
{
   bson_iter_t it;
   const char *name = bson_iter_init (&it, cmd) && bson_iter_next (&it) ? bson_iter_key (&it) : "";
   if (!strcasecmp (name, "hello") || !strcasecmp (name, "isMaster")) {
      BSON_APPEND_BOOL (reply, "helloOk", true);
      BSON_APPEND_BOOL (reply, "ismaster", true);
      BSON_APPEND_BOOL (reply, "isWritablePrimary", true);
      BSON_APPEND_INT32 (reply, "maxBsonObjectSize", 16 * 1024 * 1024);
      BSON_APPEND_INT32 (reply, "maxMessageSizeBytes", MAX_MESSAGE);
      BSON_APPEND_INT32 (reply, "maxWriteBatchSize", 100000);
      BSON_APPEND_DATE_TIME (reply, "localTime", (int64_t) time (NULL) * 1000);
      BSON_APPEND_INT32 (reply, "minWireVersion", 0);
      BSON_APPEND_INT32 (reply, "maxWireVersion", 17);
      BSON_APPEND_BOOL (reply, "readOnly", false);
   } else if (!strcmp (name, "buildInfo") || !strcmp (name, "buildinfo")) {
      BSON_APPEND_UTF8 (reply, "version", "6.0.0-fake");
   } else if (!strcmp (name, "insert")) {
      BSON_APPEND_INT32 (reply, "n", 1);
   } else if (!strcmp (name, "find") || !strcmp (name, "aggregate")) {
      const char *coll = BSON_ITER_HOLDS_UTF8 (&it) ? bson_iter_utf8 (&it, NULL) : "c";
      bson_iter_t db;
      char ns[256];
      bson_snprintf (ns, sizeof ns, "%s.%s",
                     bson_iter_init_find (&db, cmd, "$db") && BSON_ITER_HOLDS_UTF8 (&db)
                        ? bson_iter_utf8 (&db, NULL)
                        : "test",
                     coll);
      bson_t cursor, batch, doc;
      BSON_APPEND_DOCUMENT_BEGIN (reply, "cursor", &cursor);
      BSON_APPEND_ARRAY_BEGIN (&cursor, "firstBatch", &batch);
      BSON_APPEND_DOCUMENT_BEGIN (&batch, "0", &doc);
      BSON_APPEND_INT32 (&doc, "_id", 1);
      BSON_APPEND_UTF8 (&doc, "name", "ann");
      bson_append_document_end (&batch, &doc);
      bson_append_array_end (&cursor, &batch);
      BSON_APPEND_INT64 (&cursor, "id", 0);
      BSON_APPEND_UTF8 (&cursor, "ns", ns);
      bson_append_document_end (reply, &cursor);
   } else if (!strcmp (name, "count")) {
      BSON_APPEND_INT32 (reply, "n", 1);
   }
   BSON_APPEND_DOUBLE (reply, "ok", 1.0);
}

static void *
serve (void *arg)
{
   int fd = (int) (intptr_t) arg;
   uint8_t header[16];
   uint8_t *body = NULL;
   size_t cap = 0;
   while (read_all (fd, header, 16)) {
      int32_t len = get_i32 (header);
      int32_t request_id = get_i32 (header + 4);
      int32_t opcode = get_i32 (header + 12);
      if (len < 16 || len > MAX_MESSAGE) {
         break;
      }
      size_t blen = (size_t) len - 16;
      if (blen > cap) {
         cap = blen;
         body = realloc (body, cap);
      }
      if (!read_all (fd, body, blen)) {
         break;
      }
      bson_t cmd;
      const uint8_t *doc;
      if (opcode == OP_MSG && blen >= 5 + 5 && body[4] == 0) {
         doc = body + 5; /* flagBits, then section kind 0 */
      } else if (opcode == OP_QUERY) {
         /* flags, cstring collection name, numberToSkip, numberToReturn */
         const uint8_t *name_end = memchr (body + 4, 0, blen - 4);
         if (!name_end) {
            break;
         }
         doc = name_end + 1 + 8;
      } else {
         break;
      }
      size_t avail = blen - (size_t) (doc - body);
      if (avail < 5 || (size_t) get_i32 (doc) > avail ||
          !bson_init_static (&cmd, doc, (size_t) get_i32 (doc))) {
         break;
      }
      bson_t reply = BSON_INITIALIZER;
      answer (&cmd, &reply);
      uint8_t out[16 + 20];
      size_t prefix = opcode == OP_MSG ? 16 + 5 : 16 + 20;
      int32_t total = (int32_t) (prefix + reply.len);
      put_i32 (out, total);
      put_i32 (out + 4, __atomic_fetch_add (&next_request_id, 1, __ATOMIC_RELAXED));
      put_i32 (out + 8, request_id);
      if (opcode == OP_MSG) {
         put_i32 (out + 12, OP_MSG);
         put_i32 (out + 16, 0); /* flagBits */
         out[20] = 0;           /* section kind 0 */
      } else {
         put_i32 (out + 12, OP_REPLY);
         memset (out + 16, 0, 20); /* responseFlags, cursorID, startingFrom */
         put_i32 (out + 32, 1);    /* numberReturned */
      }
      bool ok = write_all (fd, out, prefix) && write_all (fd, bson_get_data (&reply), reply.len);
      bson_destroy (&reply);
      if (!ok) {
         break;
      }
   }
   free (body);
   close (fd);
   return NULL;
}

int
main (int argc, char **argv)
{
   int port = argc > 1 ? atoi (argv[1]) : 0;
   int lfd = socket (AF_INET, SOCK_STREAM, 0);
   int one = 1;
   setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
   struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
   addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
   socklen_t alen = sizeof addr;
   if (bind (lfd, (struct sockaddr *) &addr, sizeof addr) != 0 || listen (lfd, 512) != 0 ||
       getsockname (lfd, (struct sockaddr *) &addr, &alen) != 0) {
      perror ("fake-server");
      return 2;
   }
   printf ("%d\n", ntohs (addr.sin_port));
   fflush (stdout);
   for (;;) {
      int fd = accept (lfd, NULL, NULL);
      if (fd < 0) {
         continue;
      }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      pthread_t id;
      pthread_attr_t attr;
      pthread_attr_init (&attr);
      pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
      pthread_attr_setstacksize (&attr, 256 * 1024);
      if (pthread_create (&id, &attr, serve, (void *) (intptr_t) fd) != 0) {
         close (fd);
      }
      pthread_attr_destroy (&attr);
   }
}
