/* mwatch_add_logging_handlers: pymongowatch's one-call set-up. */
#include "mongowatch.h"

#include <string.h>

void
mwatch_logging_opts_init (mwatch_logging_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->logger_name = "mongowatch";
   opts->level = MWATCH_LEVEL_INFO;
   opts->format = MWATCH_DEFAULT_FORMAT;
   opts->with_queue = true;
   opts->overflow = MWATCH_OVERFLOW_BLOCK;
}

bool
mwatch_add_logging_handlers (const mwatch_logging_opts_t *opts,
                             mwatch_handler_t *const *handlers,
                             bson_error_t *error)
{
   mwatch_logging_opts_t defaults;
   if (!opts) {
      mwatch_logging_opts_init (&defaults);
      opts = &defaults;
   }
   /* Compile first, so that a bad format adds nothing. */
   mwatch_formatter_t *formatter = NULL;
   if (opts->format) {
      formatter = mwatch_formatter_new (opts->format, opts->datefmt, error);
      if (!formatter) {
         return false;
      }
   }
   mwatch_handler_t *own[2] = {NULL, NULL};
   if (!handlers) {
      own[0] = mwatch_handler_new_stream (NULL);
      handlers = own;
   }
   mwatch_queue_handler_opts_t qopts;
   mwatch_queue_handler_opts_init (&qopts);
   qopts.default_delay_sec = opts->default_delay_sec;
   qopts.force_default_delay = opts->force_default_delay;
   qopts.capacity = opts->queue_capacity;
   qopts.overflow = opts->overflow;

   mwatch_logger_t *logger = mwatch_logger_get (opts->logger_name);
   for (size_t i = 0; handlers[i]; i++) {
      mwatch_handler_t *handler = handlers[i];
      mwatch_handler_set_level (handler, opts->level);
      if (formatter) {
         mwatch_handler_set_formatter (handler, formatter);
      }
      if (opts->with_queue) {
         mwatch_handler_t *queued = mwatch_handler_new_queue (handler, &qopts);
         mwatch_logger_add_handler (logger, queued);
         mwatch_handler_destroy (queued);
      } else {
         mwatch_logger_add_handler (logger, handler);
      }
   }
   int effective = mwatch_logger_effective_level (logger);
   if (effective > opts->level) {
      mwatch_logger_set_level (logger, opts->level);
   }
   mwatch_handler_destroy (own[0]);
   mwatch_formatter_destroy (formatter);
   return true;
}
