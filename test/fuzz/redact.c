/* Fuzz target: the redaction walker.  The input, when it is a BSON
 * document, is a record's Filter; each mode of mwatch_filter_new_redact
 * walks it.  The record as {watch.json} writes it, redacted and not, must
 * be JSON that
 * `mongowatch aggregate` reads as a record (cli/aggregate-record.c): what
 * mongowatch writes, whatever the query held, can be audited. */
#include "fuzz.h"

#include "aggregate.h"

/* The message as {watch.json} writes it is read back as its record. */
static void
render_and_read (const mwatch_message_t *msg)
{
   mwatch_buf_t json = MWATCH_BUF_INITIALIZER;
   mwatch_message_render_json (msg, &json);
   mwatch_cli_record_t read;
   char why[256] = "";
   mwatch_cli_line_t kind = mwatch_cli_jsonl_record (json.data, json.len, &read, why, sizeof why);
   FUZZ_ASSERT (kind == MWATCH_CLI_LINE_RECORD, "aggregate cannot read %s: %s", json.data, why);
   FUZZ_ASSERT (strcmp (read.watch_id, mwatch_message_watch_id (msg)) == 0, "another WatchID");
   bson_free (read.watch_id);
   mwatch_buf_destroy (&json);
}

static void
redact_and_read (const bson_t *doc, mwatch_redact_mode_t mode)
{
   static const char *const fields[] = {"Filter", "DB", NULL};
   mwatch_redact_opts_t opts;
   mwatch_redact_opts_init (&opts);
   opts.mode = mode;
   opts.secret = "fuzz";
   opts.fields = fields;
   bson_error_t error;
   mwatch_filter_t *filter = mwatch_filter_new_redact (&opts, &error);
   FUZZ_ASSERT (filter, "%s", error.message);
   mwatch_message_t *msg = fuzz_message (doc);
   mwatch_record_t record = fuzz_record (msg);
   FUZZ_ASSERT (mwatch_filter_apply (filter, &record), "redact dropped a record");
   render_and_read (msg);
   mwatch_message_destroy (msg);
   mwatch_filter_destroy (filter);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   bson_t doc;
   /* Only documents libbson itself accepts: a malformed one never gets
    * from libmongoc to mongowatch. */
   if (!bson_init_static (&doc, data, size) || !bson_validate (&doc, BSON_VALIDATE_NONE, NULL)) {
      return 0;
   }
   mwatch_message_t *msg = fuzz_message (&doc);
   render_and_read (msg);
   mwatch_message_destroy (msg);
   redact_and_read (&doc, MWATCH_REDACT_PLACEHOLDER);
   redact_and_read (&doc, MWATCH_REDACT_TOKEN);
   redact_and_read (&doc, MWATCH_REDACT_NULL);
   redact_and_read (&doc, MWATCH_REDACT_HMAC);
   return 0;
}
