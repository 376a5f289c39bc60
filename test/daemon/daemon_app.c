/* daemon_app: a libmongoc program that knows nothing of mongowatch and
 * behaves as Unix daemons do, for test/daemon-check (issue 18).  Built
 * with libmongoc alone; audited through the mask.
 *
 *   daemon_app daemon loop|close_range DB DIR
 *       fork, setsid, fork; the grandchild closes every descriptor (one
 *       close() each up to the limit, or close_range(2)), opens /dev/null
 *       on 0-2, then its own data file DIR/own.data and a UDP socket,
 *       which take the lowest numbers (those the mask's files had), and
 *       inserts 5 documents one by one and counts them.  It writes
 *       "inserted 5 counted 5" into its data file, and DIR/done last.
 *       The first process returns when the middle one has exited.
 *   prefork N DB
 *       the parent (configured by the mask before main) forks N workers;
 *       worker i inserts {worker: i}; the parent waits for them and counts.
 *       Prints "workers N counted N".
 *   close DB DIR
 *       the ten-line case: closes descriptors 3-31, opens DIR/own.data
 *       (which gets 3) and runs one count_documents; prints "counted 0".
 *   exec DB
 *       inserts one document, then execs itself as "count DB": a watched
 *       program run by a watched program (argv[0] must be a path).
 *   count DB
 *       counts the documents; prints "counted N".
 *   term N DB
 *       inserts N documents one by one, then sends itself SIGTERM (the
 *       default disposition: the process ends by it, with whatever is
 *       still queued unless the mask drains on signals).
 *
 * The URI comes from MONGOWATCH_TEST_URI.  Exit status 0 when every
 * operation worked. */
#include <errno.h>
#include <fcntl.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *uri;

/* Inserts `n` documents {i: k} one by one into DB.items (as `worker` when
 * >= 0); returns how many worked. */
static int
insert (mongoc_collection_t *coll, int n, int worker)
{
   int ok = 0;
   for (int k = 0; k < n; k++) {
      bson_error_t error;
      bson_t *doc = BCON_NEW ("i", BCON_INT32 (k), "worker", BCON_INT32 (worker));
      if (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error)) {
         ok++;
      } else {
         fprintf (stderr, "daemon_app: insert: %s\n", error.message);
      }
      bson_destroy (doc);
   }
   return ok;
}

static int64_t
count (mongoc_collection_t *coll)
{
   bson_error_t error;
   bson_t filter = BSON_INITIALIZER;
   int64_t n = mongoc_collection_count_documents (coll, &filter, NULL, NULL, NULL, &error);
   if (n < 0) {
      fprintf (stderr, "daemon_app: count: %s\n", error.message);
   }
   return n;
}

/* Runs `fn` with a client on DB.items. */
typedef int (*work_fn) (mongoc_collection_t *coll, void *data);

static int
with_collection (const char *db, work_fn fn, void *data)
{
   mongoc_client_t *client = mongoc_client_new (uri);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, "items");
   int status = fn (coll, data);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
   return status;
}

/* Inserts *data documents, then ends by SIGTERM; returns only when the
 * signal did not end the process. */
static int
insert_and_stop (mongoc_collection_t *coll, void *data)
{
   int inserted = insert (coll, *(int *) data, -1);
   kill (getpid (), SIGTERM);
   /* A handler may end the process from another thread: give it time. */
   for (int i = 0; i < 100; i++) {
      usleep (100000);
   }
   return inserted;
}

/* ------------------------------------------------------------------ daemon */

static void
close_everything (bool use_close_range)
{
   if (use_close_range) {
      if (close_range (0, ~0U, 0) != 0) {
         _exit (3);
      }
      return;
   }
   struct rlimit limit;
   int max = 1024;
   if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      max = (int) limit.rlim_cur;
   }
   for (int fd = 0; fd < max; fd++) {
      close (fd);
   }
}

static int
daemon_work (mongoc_collection_t *coll, void *data)
{
   int own = *(int *) data;
   int inserted = insert (coll, 5, -1);
   int64_t counted = count (coll);
   dprintf (own, "inserted %d counted %d\n", inserted, (int) counted);
   return inserted == 5 && counted == 5 ? 0 : 1;
}

static int
run_daemon (bool use_close_range, const char *db, const char *dir)
{
   pid_t pid = fork ();
   if (pid < 0) {
      return 1;
   }
   if (pid > 0) {
      int status;
      return waitpid (pid, &status, 0) == pid && WIFEXITED (status) ? WEXITSTATUS (status) : 1;
   }
   setsid ();
   pid = fork ();
   if (pid != 0) {
      _exit (pid < 0);
   }

   /* The grandchild: the daemon proper. */
   char data_path[4096], done_path[4096];
   snprintf (data_path, sizeof data_path, "%s/own.data", dir);
   snprintf (done_path, sizeof done_path, "%s/done", dir);
   close_everything (use_close_range);
   for (int i = 0; i < 3; i++) {
      if (open ("/dev/null", O_RDWR) != i) {
         _exit (4);
      }
   }
   int own = open (data_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
   int sock = socket (AF_INET, SOCK_DGRAM, 0);
   struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
   if (own < 0 || sock < 0 || bind (sock, (struct sockaddr *) &addr, sizeof addr) != 0) {
      _exit (5);
   }

   mongoc_init ();
   int status = with_collection (db, daemon_work, &own);
   mongoc_cleanup ();
   close (own);
   close (sock);
   int done = open (done_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
   dprintf (done, "%d\n", status);
   close (done);
   /* exit, not _exit: what runs at exit (the mask's drain) runs too. */
   exit (status);
}

/* ------------------------------------------------------------------ prefork */

static int
worker_work (mongoc_collection_t *coll, void *data)
{
   return insert (coll, 1, *(int *) data) == 1 ? 0 : 1;
}

static int
parent_count (mongoc_collection_t *coll, void *data)
{
   *(int64_t *) data = count (coll);
   return 0;
}

static int
run_prefork (int n, const char *db)
{
   mongoc_init ();
   int failed = 0;
   for (int i = 0; i < n; i++) {
      pid_t pid = fork ();
      if (pid == 0) {
         int status = with_collection (db, worker_work, &i);
         mongoc_cleanup ();
         exit (status);
      }
      failed += pid < 0;
   }
   for (int i = 0; i < n; i++) {
      int status;
      if (wait (&status) < 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
         failed++;
      }
   }
   int64_t counted = -1;
   with_collection (db, parent_count, &counted);
   mongoc_cleanup ();
   printf ("workers %d counted %d\n", n - failed, (int) counted);
   return failed || counted != n;
}

/* ------------------------------------------------------------------ close, exec, count */

static int
count_and_print (mongoc_collection_t *coll, void *data)
{
   (void) data;
   int64_t n = count (coll);
   printf ("counted %d\n", (int) n);
   return n < 0;
}

static int
run_close (const char *db, const char *dir)
{
   char data_path[4096];
   snprintf (data_path, sizeof data_path, "%s/own.data", dir);
   for (int fd = 3; fd <= 31; fd++) {
      close (fd);
   }
   int own = open (data_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
   if (own != 3) {
      fprintf (stderr, "daemon_app: own data file got %d, not 3\n", own);
      return 1;
   }
   mongoc_init ();
   int status = with_collection (db, count_and_print, NULL);
   mongoc_cleanup ();
   close (own);
   return status;
}

static int
exec_work (mongoc_collection_t *coll, void *data)
{
   (void) data;
   return insert (coll, 1, -1) == 1 ? 0 : 1;
}

static int
run_exec (const char *self, const char *db)
{
   mongoc_init ();
   if (with_collection (db, exec_work, NULL) != 0) {
      return 1;
   }
   mongoc_cleanup ();
   fflush (stdout);
   execl (self, self, "count", db, (char *) NULL);
   fprintf (stderr, "daemon_app: exec %s: %s\n", self, strerror (errno));
   return 1;
}

int
main (int argc, char **argv)
{
   uri = getenv ("MONGOWATCH_TEST_URI");
   if (!uri || argc < 3) {
      fprintf (stderr, "usage: MONGOWATCH_TEST_URI=URI %s MODE ARGS...\n", argv[0]);
      return 2;
   }
   const char *mode = argv[1];
   if (strcmp (mode, "daemon") == 0 && argc == 5) {
      return run_daemon (strcmp (argv[2], "close_range") == 0, argv[3], argv[4]);
   }
   if (strcmp (mode, "prefork") == 0 && argc == 4) {
      return run_prefork (atoi (argv[2]), argv[3]);
   }
   if (strcmp (mode, "close") == 0 && argc == 4) {
      return run_close (argv[2], argv[3]);
   }
   if (strcmp (mode, "exec") == 0 && argc == 3) {
      return run_exec (argv[0], argv[2]);
   }
   if (strcmp (mode, "term") == 0 && argc == 4) {
      mongoc_init ();
      int n = atoi (argv[2]);
      int inserted = with_collection (argv[3], insert_and_stop, &n);
      fprintf (stderr, "daemon_app: SIGTERM did not end the process (%d inserted)\n", inserted);
      return 1;
   }
   if (strcmp (mode, "count") == 0 && argc == 3) {
      mongoc_init ();
      int status = with_collection (argv[2], count_and_print, NULL);
      mongoc_cleanup ();
      return status;
   }
   fprintf (stderr, "daemon_app: unknown mode or wrong arguments\n");
   return 2;
}
