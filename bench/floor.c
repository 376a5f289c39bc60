/* The floor under a record's CPU on a sparse stream (issue 14's CPU
 * target): what any design pays per record when operations come GAP_US
 * apart and each record must reach its file within the 5 ms latency bound,
 * measured without one line of mongowatch.
 *
 *   build/bench/floor GAP_US RECORDS FILE
 *
 * Two threads.  The producer stands in for the application's thread: it
 * sleeps GAP_US, then hands one ready line (300 bytes, the size of a
 * find_id record) to the consumer through a mutex and a condition
 * variable, signalling only a consumer that sleeps, as the queue does.
 * The consumer stands in for the listener: woken, it checks that the
 * descriptor is still the file it opened (fstat, the check of issue 18)
 * and writes the line with write(2).  When GAP_US is above the latency
 * bound, no design can put two records in one write or skip the
 * wake-up, so this is the least a record costs.
 *
 * It prints one line:
 *   gap_us records producer_us consumer_us total_us
 * per record, CPU time (CLOCK_THREAD_CPUTIME_ID): the producer's around
 * its hand-overs (the signal of a sleeping consumer), the consumer's
 * whole (its wake-ups, the fstat and the write).  Run it on an otherwise
 * idle machine: a wake-up onto an idle core costs more than one onto a
 * busy one, and that is the case of a sparse stream. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 300

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int queued;
static bool consumer_sleeps;
static bool done;

static int fd;
static char line[LINE_BYTES];
static long gap_us;
static long records;

static int64_t
thread_cpu_ns (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
   return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_gap (void)
{
   struct timespec ts = {.tv_sec = gap_us / 1000000, .tv_nsec = (gap_us % 1000000) * 1000};
   while (nanosleep (&ts, &ts) != 0 && errno == EINTR) {
   }
}

static void *
consumer (void *unused)
{
   (void) unused;
   int64_t *cpu = malloc (sizeof *cpu);
   int64_t start = thread_cpu_ns ();
   pthread_mutex_lock (&lock);
   for (;;) {
      while (!queued && !done) {
         consumer_sleeps = true;
         pthread_cond_wait (&cond, &lock);
         consumer_sleeps = false;
      }
      if (!queued) {
         break;
      }
      queued--;
      pthread_mutex_unlock (&lock);
      struct stat st;
      if (fstat (fd, &st) != 0 || write (fd, line, sizeof line) != (ssize_t) sizeof line) {
         perror ("floor: write");
         exit (1);
      }
      pthread_mutex_lock (&lock);
   }
   pthread_mutex_unlock (&lock);
   *cpu = thread_cpu_ns () - start;
   return cpu;
}

/* The producer: `records` gaps, a record handed over after each; returns
 * the CPU its hand-overs took (its own clock read around each, so that
 * the sleeps, whose cost varies with the machine's load, stay out). */
static int64_t
produce (void)
{
   int64_t spent = 0;
   for (long i = 0; i < records; i++) {
      sleep_gap ();
      int64_t start = thread_cpu_ns ();
      pthread_mutex_lock (&lock);
      queued++;
      if (consumer_sleeps) {
         pthread_cond_signal (&cond);
      }
      pthread_mutex_unlock (&lock);
      spent += thread_cpu_ns () - start;
   }
   return spent;
}

int
main (int argc, char **argv)
{
   if (argc != 4) {
      fprintf (stderr, "usage: floor GAP_US RECORDS FILE\n");
      return 2;
   }
   gap_us = atol (argv[1]);
   records = atol (argv[2]);
   if (gap_us <= 0 || records <= 0) {
      fprintf (stderr, "floor: GAP_US and RECORDS must be positive\n");
      return 2;
   }
   fd = open (argv[3], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
   if (fd < 0) {
      fprintf (stderr, "floor: cannot open \"%s\": %s\n", argv[3], strerror (errno));
      return 1;
   }
   memset (line, 'x', sizeof line - 1);
   line[sizeof line - 1] = '\n';

   pthread_t thread;
   if (pthread_create (&thread, NULL, consumer, NULL) != 0) {
      fprintf (stderr, "floor: cannot start the consumer\n");
      return 1;
   }
   int64_t handing = produce ();
   pthread_mutex_lock (&lock);
   done = true;
   pthread_cond_signal (&cond);
   pthread_mutex_unlock (&lock);
   int64_t *consumer_cpu;
   pthread_join (thread, (void **) &consumer_cpu);
   close (fd);

   double producer_extra = (double) handing / 1000.0 / (double) records;
   double consumer_us = (double) *consumer_cpu / 1000.0 / (double) records;
   printf ("%ld %ld %.2f %.2f %.2f\n", gap_us, records, producer_extra, consumer_us,
           producer_extra + consumer_us);
   free (consumer_cpu);
   return 0;
}
