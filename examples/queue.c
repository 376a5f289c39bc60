/* The WatchQueue on its own: three operations, one still running, one
 * updated twice, one done.  The queue hands back what is due, the newest
 * iteration of each, in due order; rendering reuses one buffer.
 *
 *   cc queue.c $(pkg-config --cflags --libs mongowatch) -o queue && ./queue
 */
#include <mongowatch.h>
#include <stdio.h>

int
main (void)
{
   mwatch_queue_opts_t opts;
   mwatch_queue_opts_init (&opts);
   mwatch_queue_t *queue = mwatch_queue_new (&opts);

   /* A find still running: due when its 0.2 s timeout passes. */
   mwatch_message_t *slow = mwatch_message_new ();
   mwatch_message_set_utf8 (slow, "Operation", "find");
   mwatch_message_set_utf8 (slow, "Collection", "news");
   mwatch_message_set_timeout (slow, 0.2);
   mwatch_queue_put (queue, mwatch_message_copy (slow), NULL);

   /* An insert, first queued as running, then updated and finished: only
    * the final iteration comes out. */
   mwatch_message_t *insert = mwatch_message_new ();
   mwatch_message_set_utf8 (insert, "Operation", "insert_many");
   mwatch_message_set_timeout (insert, 10);
   mwatch_queue_put (queue, mwatch_message_copy (insert), NULL);
   mwatch_message_next_iteration (insert);
   mwatch_message_set_int64 (insert, "InsertedCount", 100);
   mwatch_message_set_ready (insert);
   mwatch_queue_put (queue, insert, NULL);

   mwatch_buf_t line = MWATCH_BUF_INITIALIZER;
   mwatch_message_t *msg;
   /* The insert is due now; the find after its timeout. */
   for (int i = 0; i < 2; i++) {
      if (mwatch_queue_get_timeout (queue, 1.0, &msg, NULL) != MWATCH_QUEUE_OK) {
         fprintf (stderr, "nothing came out\n");
         return 1;
      }
      mwatch_buf_clear (&line);
      mwatch_buf_append_str (&line, mwatch_message_is_ready (msg) ? "final: " : "timeout: ");
      mwatch_message_render_full (msg, &line);
      puts (line.data);
      mwatch_message_destroy (msg);
   }

   mwatch_buf_destroy (&line);
   mwatch_message_destroy (slow);
   mwatch_queue_destroy (queue);
   return 0;
}
