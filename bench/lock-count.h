/* Counting the locks a program takes, per call site, for bench/scaling.c:
 * this header defines the program's own pthread_mutex_lock,
 * pthread_rwlock_rdlock and pthread_rwlock_wrlock, which the library
 * (linked statically) and libmongoc then call instead of libc's.  Each
 * tries the lock first: a failed try counts as contended.  Counting runs
 * while `counting` is set; `app_thread` marks an application thread.  In a
 * header of its own so that the benchmark that measures the library is
 * not, to a reader of the call graph, something the library calls.
 * Include it in one program only. */
#ifndef MWATCH_BENCH_LOCK_COUNT_H
#define MWATCH_BENCH_LOCK_COUNT_H

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libc's own, found once before any thread starts (until then, and in
 * dlsym's own locking, a failed try-lock is retried). */
int pthread_mutex_lock (pthread_mutex_t *m);
int pthread_rwlock_rdlock (pthread_rwlock_t *l);
int pthread_rwlock_wrlock (pthread_rwlock_t *l);
static int (*real_mutex_lock) (pthread_mutex_t *);
static int (*real_rdlock) (pthread_rwlock_t *);
static int (*real_wrlock) (pthread_rwlock_t *);

__attribute__ ((constructor)) static void
find_real (void)
{
   real_mutex_lock = (int (*) (pthread_mutex_t *)) dlsym (RTLD_NEXT, "pthread_mutex_lock");
   real_rdlock = (int (*) (pthread_rwlock_t *)) dlsym (RTLD_NEXT, "pthread_rwlock_rdlock");
   real_wrlock = (int (*) (pthread_rwlock_t *)) dlsym (RTLD_NEXT, "pthread_rwlock_wrlock");
}

#define SITES 512
typedef struct {
   _Atomic (uintptr_t) site;
   _Atomic (uint64_t) taken[2]; /* [1]: on an application thread */
   _Atomic (uint64_t) contended[2];
   const char *kind;
} site_t;
static site_t sites[SITES];
static atomic_bool counting;
static _Thread_local int app_thread;

static void
count (uintptr_t site, const char *kind, bool contended)
{
   for (size_t i = (site >> 4) % SITES, n = 0; n < SITES; i = (i + 1) % SITES, n++) {
      uintptr_t cur = atomic_load_explicit (&sites[i].site, memory_order_acquire);
      if (cur == 0) {
         uintptr_t zero = 0;
         if (atomic_compare_exchange_strong (&sites[i].site, &zero, site)) {
            sites[i].kind = kind;
            cur = site;
         } else {
            cur = zero;
         }
      }
      if (cur == site) {
         atomic_fetch_add_explicit (&sites[i].taken[app_thread], 1, memory_order_relaxed);
         if (contended) {
            atomic_fetch_add_explicit (&sites[i].contended[app_thread], 1, memory_order_relaxed);
         }
         return;
      }
   }
}

#define COUNTED(lock_fn, try_fn, kind, arg)                                       \
   do {                                                                        \
      if (!lock_fn) {                                                          \
         int rc_;                                                              \
         while ((rc_ = try_fn (arg)) == EBUSY) {                               \
         }                                                                     \
         return rc_;                                                           \
      }                                                                        \
      if (!atomic_load_explicit (&counting, memory_order_relaxed)) {           \
         return lock_fn (arg);                                                 \
      }                                                                        \
      uintptr_t site = (uintptr_t) __builtin_return_address (0);              \
      if (try_fn (arg) == 0) {                                                 \
         count (site, kind, false);                                            \
         return 0;                                                             \
      }                                                                        \
      count (site, kind, true);                                                \
      return lock_fn (arg);                                                    \
   } while (0)

int
pthread_mutex_lock (pthread_mutex_t *m)
{
   COUNTED (real_mutex_lock, pthread_mutex_trylock, "mutex", m);
}

int
pthread_rwlock_rdlock (pthread_rwlock_t *l)
{
   COUNTED (real_rdlock, pthread_rwlock_tryrdlock, "rdlock", l);
}

int
pthread_rwlock_wrlock (pthread_rwlock_t *l)
{
   COUNTED (real_wrlock, pthread_rwlock_trywrlock, "wrlock", l);
}

static int
by_taken (const void *a, const void *b)
{
   const site_t *p = a, *q = b;
   uint64_t x = atomic_load (&p->taken[0]) + atomic_load (&p->taken[1]);
   uint64_t y = atomic_load (&q->taken[0]) + atomic_load (&q->taken[1]);
   return x < y ? 1 : x > y ? -1 : 0;
}

/* The sites taken at least once per `ops` / 10 operations, per operation,
 * on the application threads and on the others (libmongoc's monitors, the
 * queue's listener), with the function (addr2line, inlining shown) that
 * took each. */
static void
print_locks (long ops)
{
   qsort (sites, SITES, sizeof *sites, by_taken);
   fprintf (stderr, "| lock site | kind | app threads: taken per op | contended %% | other "
                    "threads: taken per op | contended %% |\n");
   fprintf (stderr, "| --- | --- | --- | --- | --- | --- |\n");
   for (size_t i = 0; i < SITES; i++) {
      uint64_t taken = atomic_load (&sites[i].taken[1]);
      uint64_t cont = atomic_load (&sites[i].contended[1]);
      uint64_t taken_o = atomic_load (&sites[i].taken[0]);
      uint64_t cont_o = atomic_load (&sites[i].contended[0]);
      if ((taken + taken_o) * 10 < (uint64_t) ops) {
         continue;
      }
      uintptr_t site = atomic_load (&sites[i].site);
      char where[512] = "?";
      Dl_info info;
      if (dladdr ((void *) site, &info) && info.dli_fname) {
         char cmd[1024];
         /* The call's own line: one byte before the return address. */
         snprintf (cmd, sizeof cmd, "addr2line -f -i -s -p -e '%s' %#lx 2>/dev/null",
                   info.dli_fname, (unsigned long) (site - 1 - (uintptr_t) info.dli_fbase));
         FILE *p = popen (cmd, "r");
         size_t len = 0;
         if (p) {
            int c;
            while ((c = fgetc (p)) != EOF && len + 1 < sizeof where) {
               where[len++] = c == '\n' ? ' ' : (char) c;
            }
            where[len] = '\0';
            pclose (p);
         }
         if (len == 0 || strstr (where, "??")) {
            snprintf (where, sizeof where, "%s+%#lx %s", strrchr (info.dli_fname, '/') + 1,
                      (unsigned long) (site - (uintptr_t) info.dli_fbase),
                      info.dli_sname ? info.dli_sname : "");
         }
      }
      fprintf (stderr, "| %s | %s | %.3f | %.2f | %.3f | %.2f |\n", where, sites[i].kind,
               (double) taken / (double) ops, taken ? 100.0 * (double) cont / (double) taken : 0.0,
               (double) taken_o / (double) ops,
               taken_o ? 100.0 * (double) cont_o / (double) taken_o : 0.0);
   }
}

#endif /* MWATCH_BENCH_LOCK_COUNT_H */
