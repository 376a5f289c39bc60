/* A program that logs numbered records into a file handler, for
 * test/files-check (a real logrotate run against it).
 *
 *   files_app PATH COUNT [hup] [queue] [paced] [stops=N] [config=FILE]
 *
 * Logs records 0 .. COUNT-1 in N parts (2 by default): after each part
 * but the last it prints "ready" on stdout and waits for a line on stdin
 * (the rotation, or the disk filled or freed, happens then); at the end
 * it prints "done" and ends.  `paced`: no pause; every record is logged 1 ms apart, the
 * rotation happening while it logs.  `hup`: mwatch_reopen_on_sighup().
 * `queue`: the file handler behind a queue handler, as a configuration
 * file makes it.  `config=FILE`: the logger "files" and its handlers are
 * the configuration file's (PATH is then only what the script reads). */
#include <mongowatch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool
has_arg (int argc, char **argv, const char *word)
{
   for (int i = 3; i < argc; i++) {
      if (strcmp (argv[i], word) == 0) {
         return true;
      }
   }
   return false;
}

int
main (int argc, char **argv)
{
   bson_error_t error;

   if (argc < 3) {
      fprintf (stderr, "usage: files_app PATH COUNT [hup] [queue] [paced] [stops=N]\n");
      return 2;
   }
   int count = atoi (argv[2]);
   bool paced = has_arg (argc, argv, "paced");
   int stops = 2;
   const char *config = NULL;
   for (int i = 3; i < argc; i++) {
      if (strncmp (argv[i], "stops=", 6) == 0) {
         stops = atoi (argv[i] + 6);
      } else if (strncmp (argv[i], "config=", 7) == 0) {
         config = argv[i] + 7;
      }
   }
   mwatch_handler_t *file = NULL;
   mwatch_formatter_t *fmt = NULL;
   if (config ? !mwatch_config_load_file (config, &error)
              : !(file = mwatch_handler_new_file (argv[1], &error)) ||
                   !(fmt = mwatch_formatter_new ("{message}", NULL, &error))) {
      fprintf (stderr, "files_app: %s\n", error.message);
      return 1;
   }
   mwatch_handler_t *handler = file;
   if (file) {
      mwatch_handler_set_formatter (file, fmt);
   }
   if (file && has_arg (argc, argv, "queue")) {
      mwatch_queue_handler_opts_t opts;
      mwatch_queue_handler_opts_init (&opts);
      handler = mwatch_handler_new_queue (file, &opts);
   }
   if (has_arg (argc, argv, "hup") && !mwatch_reopen_on_sighup (&error)) {
      fprintf (stderr, "files_app: %s\n", error.message);
      return 1;
   }
   mwatch_logger_t *logger = mwatch_logger_get ("files");
   if (file) {
      mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
      mwatch_logger_add_handler (logger, handler);
   }

   for (int i = 0; i < count; i++) {
      if (!paced && i > 0 && stops > 0 && i % (count / stops) == 0) {
         /* Everything logged so far is written before the rotation (a
          * configuration's file handler without a queue writes every
          * record at once). */
         if (handler) {
            mwatch_handler_flush (handler);
         }
         printf ("ready\n");
         fflush (stdout);
         char line[16];
         if (!fgets (line, sizeof line, stdin)) {
            return 1;
         }
      }
      char text[64];
      snprintf (text, sizeof text, "record %06d", i);
      mwatch_logger_log_text (logger, MWATCH_LEVEL_INFO, text);
      if (paced) {
         struct timespec ts = {0, 1000 * 1000};
         nanosleep (&ts, NULL);
      }
   }
   mwatch_shutdown ();
   if (handler != file) {
      mwatch_handler_destroy (handler);
   }
   mwatch_handler_destroy (file);
   mwatch_formatter_destroy (fmt);
   printf ("done\n");
   return 0;
}
