#include "test-util.h"

#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
mwatch_test_run_suites (Suite **suites)
{
   SRunner *runner = srunner_create (suites[0]);
   for (size_t i = 1; suites[i]; i++) {
      srunner_add_suite (runner, suites[i]);
   }
   srunner_run_all (runner, CK_NORMAL);
   int failed = srunner_ntests_failed (runner);
   srunner_free (runner);
   return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const char *
mwatch_test_uri (void)
{
   const char *uri = getenv ("MONGOWATCH_TEST_URI");
   ck_assert_msg (uri && *uri,
                  "MONGOWATCH_TEST_URI is not set: run the integration tests "
                  "through test/server (make check)");
   return uri;
}

mongoc_client_t *
mwatch_test_client (void)
{
   bson_error_t error;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (mwatch_test_uri (), &error);
   ck_assert_msg (uri, "bad MONGOWATCH_TEST_URI: %s", error.message);
   mongoc_client_t *client = mongoc_client_new_from_uri_with_error (uri, &error);
   ck_assert_msg (client, "cannot create client: %s", error.message);
   mongoc_client_set_appname (client, "mongowatch-tests");
   mongoc_uri_destroy (uri);
   return client;
}

void
mwatch_test_unique_name (const char *prefix, char *out, size_t size)
{
   static int counter;
   snprintf (out, size, "%s_%d_%d", prefix, (int) getpid (), ++counter);
}

mongoc_collection_t *
mwatch_test_seed (mongoc_client_t *client, const char *prefix, char *db_name, size_t size, int n)
{
   mwatch_test_unique_name (prefix, db_name, size);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db_name, "items");
   bson_t **docs = bson_malloc ((size_t) (n ? n : 1) * sizeof *docs);
   for (int i = 0; i < n; i++) {
      docs[i] = BCON_NEW ("n", BCON_INT32 (i), "group", BCON_INT32 (i % 3), "name",
                          BCON_UTF8 ("item"));
   }
   bson_error_t error;
   if (n) {
      ck_assert_msg (mongoc_collection_insert_many (coll, (const bson_t **) docs, (size_t) n,
                                                    NULL, NULL, &error),
                     "seed: %s", error.message);
   }
   for (int i = 0; i < n; i++) {
      bson_destroy (docs[i]);
   }
   bson_free (docs);
   return coll;
}

void
mwatch_test_drop (mongoc_client_t *client, const char *db_name, mongoc_collection_t *collection)
{
   mongoc_database_t *db = mongoc_client_get_database (client, db_name);
   bson_error_t error;
   mongoc_database_drop (db, &error);
   mongoc_database_destroy (db);
   mongoc_collection_destroy (collection);
}

char *
mwatch_test_slurp (const char *path, size_t *len)
{
   FILE *fp = fopen (path, "rb");
   if (!fp) {
      return NULL;
   }
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   char chunk[4096];
   size_t n;
   mwatch_buf_append_str (&buf, ""); /* never NULL, even when empty */
   while ((n = fread (chunk, 1, sizeof chunk, fp)) > 0) {
      mwatch_buf_append (&buf, chunk, n);
   }
   fclose (fp);
   if (len) {
      *len = buf.len;
   }
   return buf.data;
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
   BSON_UNUSED (st);
   BSON_UNUSED (flag);
   BSON_UNUSED (ftw);
   return remove (path);
}

size_t
mwatch_test_thread_count (void)
{
   DIR *dir = opendir ("/proc/self/task");
   ck_assert (dir);
   size_t n = 0;
   for (struct dirent *e; (e = readdir (dir));) {
      n += e->d_name[0] != '.';
   }
   closedir (dir);
   return n;
}

/* True when every thread but the caller is in the futex system call,
 * from /proc/self/task/TID/syscall (its first field, the call's number). */
static bool
others_in_futex (void)
{
   DIR *dir = opendir ("/proc/self/task");
   if (!dir) {
      return false;
   }
   bool asleep = true;
   long self = (long) syscall (SYS_gettid);
   for (struct dirent *e; asleep && (e = readdir (dir));) {
      if (e->d_name[0] == '.' || strtol (e->d_name, NULL, 10) == self) {
         continue;
      }
      char path[300], line[64] = "";
      snprintf (path, sizeof path, "/proc/self/task/%s/syscall", e->d_name);
      FILE *f = fopen (path, "r");
      if (f) {
         if (!fgets (line, sizeof line, f)) {
            line[0] = '\0';
         }
         fclose (f);
         asleep = strtol (line, NULL, 10) == SYS_futex;
      } /* else the thread has just ended */
   }
   closedir (dir);
   return asleep;
}

bool
mwatch_test_threads_asleep (double seconds)
{
   for (int i = 0; i < seconds * 1000; i++) {
      if (others_in_futex ()) {
         struct timespec ms = {0, 1000000};
         nanosleep (&ms, NULL);
         if (others_in_futex ()) {
            return true;
         }
      }
      struct timespec ms = {0, 1000000};
      nanosleep (&ms, NULL);
   }
   return false;
}

void
mwatch_test_remove_tree (const char *path)
{
   nftw (path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
mwatch_test_dgram_socket (const char *path)
{
   struct sockaddr_un addr;
   struct timeval timeout = {2, 0};

   memset (&addr, 0, sizeof addr);
   addr.sun_family = AF_UNIX;
   ck_assert_uint_lt (strlen (path), sizeof addr.sun_path);
   strcpy (addr.sun_path, path);
   int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
   ck_assert_int_ge (fd, 0);
   ck_assert_int_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
   setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
   return fd;
}

bool
mwatch_test_child_exited (pid_t pid, double seconds, int *status)
{
   for (int i = 0; i < seconds * 1000; i++) {
      if (waitpid (pid, status, WNOHANG) == pid) {
         return true;
      }
      struct timespec ms = {0, 1000000};
      nanosleep (&ms, NULL);
   }
   kill (pid, SIGKILL);
   waitpid (pid, status, 0);
   return false;
}

uint64_t
mwatch_test_random (uint64_t *state)
{
   *state ^= *state << 13;
   *state ^= *state >> 7;
   *state ^= *state << 17;
   return *state;
}

int
mwatch_test_rerun (const char *program, const char *env, const char *role)
{
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      /* Check's runner handles SIGTERM; a program starts with the default. */
      signal (SIGTERM, SIG_DFL);
      setenv (env, role, 1);
      char *argv[] = {(char *) program, NULL};
      execv (program, argv);
      _exit (93);
   }
   int status;
   ck_assert_int_eq (waitpid (pid, &status, 0), pid);
   return status;
}
