/* Helpers shared by the Check suites. */
#ifndef MWATCH_TEST_UTIL_H
#define MWATCH_TEST_UTIL_H

#include <check.h>
#include <mongoc/mongoc.h>
#include <sys/types.h>

#include "mongowatch.h"

/* Runs the suites (NULL-terminated) with CK_NORMAL output and returns the
 * process exit status: 0 when every test passed. */
int
mwatch_test_run_suites (Suite **suites);

/* The test server's URI, from MONGOWATCH_TEST_URI (test/server exports it).
 * Fails the current test when it is not set. */
const char *
mwatch_test_uri (void);

/* A new client on mwatch_test_uri(), with an application name. */
mongoc_client_t *
mwatch_test_client (void);

/* The whole file at `path` as a string, its length in `*len` unless
 * `len` is NULL; NULL when it cannot be read (bson_free). */
char *
mwatch_test_slurp (const char *path, size_t *len);

/* A datagram socket bound at `path`, standing in for /dev/log; its
 * receives time out after 2 s, so that a failing test does not hang. */
int
mwatch_test_dgram_socket (const char *path);

/* Waits up to `seconds` for the child `pid` to end (its status in
 * `*status`); false, having killed it, when it has not: a child that hangs
 * is a deadlock to report, not a test to wait on for ever. */
bool
mwatch_test_child_exited (pid_t pid, double seconds, int *status);

/* The threads of this process, from /proc/self/task. */
size_t
mwatch_test_thread_count (void);

/* Waits up to `seconds` until every thread of this process but the
 * caller sleeps in a futex wait (a mutex or condition variable), the same
 * on two reads 1 ms apart; false when one still runs then.  Call before a
 * fork() that follows the start of a library thread: GCC 12's ASan does
 * not lock its allocator at fork, so a thread still starting up (and
 * allocating) when the process forks leaves the child's allocator locked
 * for ever. */
bool
mwatch_test_threads_asleep (double seconds);

/* The next number of a xorshift64 sequence whose state is `*state` (never
 * 0): random inputs a test can repeat from its own seed. */
uint64_t
mwatch_test_random (uint64_t *state);

/* Runs `program` (this test program: argv[0]) again in a child process
 * with `env` set to `role` (its main() then plays that role alone, see
 * test/unit/main.c) and SIGTERM at its default, and waits for it; returns
 * its wait status. */
int
mwatch_test_rerun (const char *program, const char *env, const char *role);

/* Removes the directory `path` and everything in it. */
void
mwatch_test_remove_tree (const char *path);

/* A database name unique to this process and call, so that test runs and
 * tests never see each other's data: "mwtest_<pid>_<n>". */
void
mwatch_test_unique_name (const char *prefix, char *out, size_t size);

#endif

/* A fresh database named after `prefix` (written to db_name) holding the
 * collection "items" with `n` documents {n: i, group: i % 3, name: "item"}.
 * Returns that collection; call before watching starts. */
mongoc_collection_t *
mwatch_test_seed (mongoc_client_t *client, const char *prefix, char *db_name, size_t size, int n);

/* Drops the database of mwatch_test_seed and destroys `collection`. */
void
mwatch_test_drop (mongoc_client_t *client, const char *db_name, mongoc_collection_t *collection);
