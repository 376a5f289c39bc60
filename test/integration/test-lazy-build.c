/* A watched operation's record is built where it is needed: on a queue's
 * listener when only queues of the library's take it, on the application's
 * thread when a logger filter or a handler that is not a queue wants it.
 * Against the real server, the same operations logged both ways give the
 * same records (the same keys in the same order, the same values but the
 * times), and those records are the ones the library wrote when it built
 * every record on the application's thread: the shapes below were taken
 * from that library (commit 82f42bc) by running this suite against it with
 * MWATCH_TEST_PRINT_SHAPES=1.
 *
 * Also: the context an operation started with stays its context, a field
 * the application adds through mwatch_cursor_lock stays in later records,
 * a timeout still comes out whole, every final record is written at exit,
 * and a queue's bound in bytes still counts what a record stands for. */
#include "integration/collection-fixture.h"
#include "integration/suites.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- configurations */

typedef enum {
   /* A queue in front of a file: built on the queue's listener. */
   PATH_QUEUE,
   /* The same queue, and a file handler beside it: built on the
    * application's thread for both. */
   PATH_SIDE_HANDLER,
   /* The same queue, and a filter on the watchers' loggers that keeps
    * every record, renaming its Operation to Op: built on the
    * application's thread, for the filter. */
   PATH_LOGGER_FILTER,
} path_t;

static const char *const path_names[] = {"queue alone", "queue and a handler beside",
                                         "queue and a logger filter"};

/* What the operations carry beyond their own fields. */
typedef enum {
   BARE,    /* nothing: the library's fields alone */
   CONTEXT, /* context fields, one named as a library field (DB, State) */
   DRESSED, /* context fields and field mappings */
} dress_t;

static const char *const dress_names[] = {"bare", "context", "dressed"};

static char dir[64];

static void
setup (void)
{
   bson_snprintf (dir, sizeof dir, "/tmp/mwatch-lazy-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (dir));
   capture_patched_setup ();
}

static void
teardown (void)
{
   mwatch_context_clear ();
   capture_patched_teardown ();
   for (int kind = 0; kind < 2; kind++) {
      mwatch_watcher_set_opts ((mwatch_watcher_kind_t) kind, NULL);
      mwatch_watcher_set_operation_maps ((mwatch_watcher_kind_t) kind, NULL, 0);
   }
   mwatch_test_remove_tree (dir);
}

/* Field mappings of every kind the watchers apply: an added constant, a
 * rename of an argument, of a result and of a context field, drops. */
static const char dressed_watchers[] =
   "watchers:\n"
   "  global:\n"
   "    timeout_sec: %s\n"
   "    operations:\n"
   "      '*': {add: {Service: orders}, rename: {Collection: Table}}\n"
   "  cursor:\n"
   "    operations:\n"
   "      aggregate: {rename: {Filter: Pipeline}}\n"
   "      find: {rename: {RequestID: Req, MatchedCount: Read}}\n"
   "  collection:\n"
   "    operations:\n"
   "      update_one: {rename: {UpsertedCount: Upserted, Duration: Took}}\n"
   "      delete_many: {drop: [DeletedCount, Filter]}\n"
   "      insert_one: {rename: {Error: Failure, EndTime: Ended}}\n";

static const char bare_watchers[] = "watchers:\n"
                                    "  global: {timeout_sec: %s}\n";

/* Loads a configuration writing through a queue into `queued` (and, for
 * PATH_SIDE_HANDLER, straight into `side`), at `level`, with the field
 * mappings when DRESSED. */
static void
load (path_t path, const char *level, dress_t dress, const char *timeout, const char *queued,
      const char *side)
{
   char *watchers = bson_strdup_printf (dress == DRESSED ? dressed_watchers : bare_watchers, timeout);
   char *text = bson_strdup_printf (
      "version: 1\n"
      "formatters:\n  j: {format: '{watch.json}'}\n"
      "handlers:\n"
      "  f: {class: file, filename: '%s', formatter: j}\n"
      "  q: {class: queue, handler: f}\n"
      "%s%s%s"
      "%s"
      "loggers:\n"
      "  mongowatch: {level: %s, handlers: [q%s]}\n"
      "%s"
      "%s",
      queued, path == PATH_SIDE_HANDLER ? "  side: {class: file, filename: '" : "",
      path == PATH_SIDE_HANDLER ? side : "", path == PATH_SIDE_HANDLER ? "', formatter: j}\n" : "",
      path == PATH_LOGGER_FILTER ? "filters:\n  all: {(): mongowatch.filters.fields, rename: {Operation: Op}}\n" : "", level,
      path == PATH_SIDE_HANDLER ? ", side" : "",
      path == PATH_LOGGER_FILTER
         ? "  mongowatch.cursor: {filters: [all]}\n  mongowatch.collection: {filters: [all]}\n"
         : "",
      watchers);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s\n%s",
                  error.message, text);
   bson_free (text);
   bson_free (watchers);
}

/* ---------------------------------------------------------------- the operations */

/* Drops `db` and fills its "items" with 6 documents {n, group: n % 3,
 * name}, unwatched: every run starts from the same data. */
static mongoc_collection_t *
reseed (mongoc_client_t *client, const char *db)
{
   unwatched ();
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mongoc_database_drop (database, NULL);
   mongoc_database_destroy (database);
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, "items");
   bson_error_t error;
   for (int i = 0; i < 6; i++) {
      bson_t *doc = BCON_NEW ("n", BCON_INT32 (i), "group", BCON_INT32 (i % 3), "name", "item");
      ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "seed: %s",
                     error.message);
      bson_destroy (doc);
   }
   watched ();
   return coll;
}

static void
set_context (void)
{
   mwatch_context_set ("RequestID", "r1");
   mwatch_context_set ("DB", "context-db"); /* a library field's name */
   mwatch_context_set ("State", "context-state");
   mwatch_context_set ("User", "alice");
}

/* The operations every run makes, in order: each gives one final record,
 * 11 in all. */
static void
run_operations (mongoc_client_t *client, const char *db, dress_t dress)
{
   mongoc_collection_t *coll = reseed (client, db);
   if (dress != BARE) {
      set_context ();
   }
   bson_error_t error;
   bson_t empty = BSON_INITIALIZER;
   bson_t *batch2 = BCON_NEW ("batchSize", BCON_INT32 (2));
   const bson_t *doc;

   /* A find read to its end, in batches (updates on the way). */
   bson_t *item = BCON_NEW ("name", "item");
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, item, batch2, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 6);
   mongoc_cursor_destroy (cursor);

   /* A find read partly, then destroyed; its context changes while it
    * runs, which its records do not show. */
   cursor = mongoc_collection_find_with_opts (coll, &empty, batch2, NULL);
   ck_assert (mongoc_cursor_next (cursor, &doc));
   if (dress != BARE) {
      mwatch_context_set ("RequestID", "r2");
      mwatch_context_set ("User", NULL);
      mwatch_context_set ("Late", "yes");
   }
   ck_assert (mongoc_cursor_next (cursor, &doc));
   mongoc_cursor_destroy (cursor);
   if (dress != BARE) {
      mwatch_context_clear ();
      set_context ();
   }

   /* Writes, with counts. */
   bson_t *doc100 = BCON_NEW ("_id", BCON_INT32 (100), "n", BCON_INT32 (100));
   ck_assert_msg (mongoc_collection_insert_one (coll, doc100, NULL, NULL, &error), "%s",
                  error.message);
   bson_t *absent = BCON_NEW ("n", BCON_INT32 (500));
   bson_t *set_y = BCON_NEW ("$set", "{", "y", BCON_INT32 (1), "}");
   bson_t *upsert = BCON_NEW ("upsert", BCON_BOOL (true));
   ck_assert_msg (mongoc_collection_update_one (coll, absent, set_y, upsert, NULL, &error), "%s",
                  error.message);
   bson_t *group1 = BCON_NEW ("group", BCON_INT32 (1));
   ck_assert_msg (mongoc_collection_delete_many (coll, group1, NULL, NULL, &error), "%s",
                  error.message);
   /* A failing one: an Error. */
   ck_assert (!mongoc_collection_insert_one (coll, doc100, NULL, NULL, &error));

   /* An aggregate's pipeline. */
   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "group", BCON_INT32 (2), "}",
                                "}", "{", "$sort", "{", "n", BCON_INT32 (1), "}", "}", "]");
   cursor = mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, batch2, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 2);
   mongoc_cursor_destroy (cursor);

   /* A cursor that fails: its Error. */
   bson_t *bogus = BCON_NEW ("n", "{", "$bogus", BCON_INT32 (1), "}");
   cursor = mongoc_collection_find_with_opts (coll, bogus, NULL, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, &error), 0);
   ck_assert_uint_ne (error.code, 0);
   mongoc_cursor_destroy (cursor);

   /* A change stream (the test server has none: it fails). */
   bson_t *stream_pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "operationType",
                                       BCON_UTF8 ("insert"), "}", "}", "]");
   mongoc_change_stream_t *stream = mongoc_collection_watch (coll, stream_pipeline, NULL);
   mongoc_change_stream_next (stream, &doc);
   mongoc_change_stream_destroy (stream);

   /* A count. */
   bson_t *group2 = BCON_NEW ("group", BCON_INT32 (2));
   ck_assert_int_eq (mongoc_collection_count_documents (coll, group2, NULL, NULL, NULL, &error), 2);

   /* The application adds a field through mwatch_cursor_lock while it
    * reads: the final record has it. */
   cursor = mongoc_collection_find_with_opts (coll, &empty, batch2, NULL);
   ck_assert (mongoc_cursor_next (cursor, &doc));
   mwatch_cursor_t *watch = mwatch_cursor_get (cursor);
   ck_assert_ptr_nonnull (watch);
   mwatch_message_set_utf8 (mwatch_cursor_lock (watch), "Note", "added");
   mwatch_cursor_unlock (watch);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);

   mwatch_context_clear ();
   bson_destroy (batch2);
   bson_destroy (item);
   bson_destroy (doc100);
   bson_destroy (absent);
   bson_destroy (set_y);
   bson_destroy (upsert);
   bson_destroy (group1);
   bson_destroy (pipeline);
   bson_destroy (bogus);
   bson_destroy (stream_pipeline);
   bson_destroy (group2);
   mongoc_collection_destroy (coll);
}

/* ---------------------------------------------------------------- reading the files */

typedef struct {
   char *lines[64];
   size_t count;
} lines_t;

static void
read_lines (const char *path, lines_t *out)
{
   out->count = 0;
   char *text = mwatch_test_slurp (path, NULL);
   ck_assert_msg (text, "nothing written to %s", path);
   for (char *line = text, *end; *line; line = end + 1) {
      end = strchr (line, '\n');
      ck_assert_msg (end, "%s: a line without its end", path);
      ck_assert_uint_lt (out->count, 64);
      out->lines[out->count++] = bson_strndup (line, (size_t) (end - line));
   }
   bson_free (text);
}

static void
free_lines (lines_t *l)
{
   for (size_t i = 0; i < l->count; i++) {
      bson_free (l->lines[i]);
   }
   l->count = 0;
}

/* Fields whose values are times (under their names and the mappings'
 * renames), or the operation's own identity. */
static bool
varies (const char *key)
{
   static const char *const keys[] = {"WatchID", "StartTime", "EndTime", "Ended",
                                      "Duration", "Took"};
   for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      if (strcmp (key, keys[i]) == 0) {
         return true;
      }
   }
   return false;
}

/* `text` with every `from` replaced by `to` (bson_free). */
static char *
replace_all (const char *text, const char *from, const char *to)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   size_t from_len = strlen (from);
   for (const char *p = text; *p;) {
      if (strncmp (p, from, from_len) == 0) {
         mwatch_buf_append_str (&out, to);
         p += from_len;
      } else {
         mwatch_buf_append (&out, p++, 1);
      }
   }
   mwatch_buf_append_str (&out, "");
   return out.data;
}

/* A record's line as keys and values in order, the times as "*" and the
 * database's name as "<db>" (bson_free). */
static char *
shape (const char *line, const char *db)
{
   json_error_t jerr;
   json_t *obj = json_loads (line, JSON_REJECT_DUPLICATES, &jerr);
   ck_assert_msg (obj && json_is_object (obj), "not a JSON object: %s (%s)", line, jerr.text);
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   const char *key;
   json_t *value;
   bool first = true;
   json_object_foreach (obj, key, value)
   {
      if (!first) {
         mwatch_buf_append_str (&out, " ");
      }
      first = false;
      mwatch_buf_append_str (&out, key);
      mwatch_buf_append_str (&out, "=");
      if (varies (key)) {
         mwatch_buf_append_str (&out, "*");
      } else {
         char *text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
         mwatch_buf_append_str (&out, text);
         free (text);
      }
   }
   json_decref (obj);
   mwatch_buf_append_str (&out, "");
   char *replaced = replace_all (out.data, db, "<db>");
   mwatch_buf_destroy (&out);
   return replaced;
}

/* The shapes of a file's lines, joined by newlines (bson_free). */
static char *
shapes (const lines_t *l, const char *db)
{
   mwatch_buf_t out = MWATCH_BUF_INITIALIZER;
   for (size_t i = 0; i < l->count; i++) {
      char *s = shape (l->lines[i], db);
      mwatch_buf_append_str (&out, s);
      mwatch_buf_append_str (&out, "\n");
      bson_free (s);
   }
   mwatch_buf_append_str (&out, "");
   return out.data;
}

/* The first line where `got` and `want` differ, for a short message. */
static void
assert_same_shapes (const char *got, const char *want, const char *what)
{
   if (strcmp (got, want) == 0) {
      return;
   }
   const char *g = got, *w = want;
   int line = 1;
   while (*g && *g == *w) {
      line += *g == '\n';
      g++;
      w++;
   }
   while (g > got && g[-1] != '\n') {
      g--;
   }
   while (w > want && w[-1] != '\n') {
      w--;
   }
   ck_abort_msg ("%s: line %d differs:\n got: %.600s\nwant: %.600s", what, line, g, w);
}

static bool
print_shapes (void)
{
   const char *p = getenv ("MWATCH_TEST_PRINT_SHAPES");
   return p && *p && strcmp (p, "0") != 0;
}

/* ---------------------------------------------------------------- the golden shapes */

#include "integration/lazy-build-golden.h"

/* ---------------------------------------------------------------- both paths, same records */

/* The WatchID of a line (static buffer). */
static const char *
watch_id_of (const char *line)
{
   static char id[32];
   const char *at = strstr (line, "\"WatchID\":\"");
   ck_assert_ptr_nonnull (at);
   at += strlen ("\"WatchID\":\"");
   size_t n = strcspn (at, "\"");
   ck_assert_uint_lt (n, sizeof id);
   memcpy (id, at, n);
   id[n] = '\0';
   return id;
}

/* The runs of one variant (level, dress) through the three
 * paths: the queue's files agree with one another and with the golden
 * shapes, and the handler beside the queue wrote the very same lines. */
static void
check_variant (const char *level, dress_t dress, const char *golden)
{
   char db[64];
   mwatch_test_unique_name ("mwtest_lazy", db, sizeof db);
   mongoc_client_t *client = mwatch_test_client ();
   char *seen[3];
   for (int path = PATH_QUEUE; path <= PATH_LOGGER_FILTER; path++) {
      char queued[128], side[128];
      bson_snprintf (queued, sizeof queued, "%s/%s-%d-%d.jsonl", dir, level, dress, path);
      bson_snprintf (side, sizeof side, "%s/%s-%d-%d-side.jsonl", dir, level, dress, path);
      load ((path_t) path, level, dress, "100", queued, side);
      run_operations (client, db, dress);
      mwatch_shutdown ();
      lines_t q;
      read_lines (queued, &q);
      seen[path] = shapes (&q, db);
      if (path == PATH_LOGGER_FILTER) {
         /* The logger's filter saw every record: its rename is there. */
         for (size_t i = 0; i < q.count; i++) {
            ck_assert_msg (strstr (q.lines[i], "\"Op\":\"") && !strstr (q.lines[i], "\"Operation\""),
                           "the logger filter did not see this record: %s", q.lines[i]);
         }
         char *renamed = seen[path];
         seen[path] = replace_all (renamed, " Op=", " Operation=");
         bson_free (renamed);
      }
      if (print_shapes ()) {
         fprintf (stderr, "---- %s, %s, %s:\n%s", level, dress_names[dress],
                  path_names[path], seen[path]);
      }
      ck_assert_msg (q.count == 11, "%s: %zu records, not 11:\n%s", path_names[path], q.count,
                     seen[path]);
      if (dress != BARE) {
         /* The context the operations started with, whatever came after. */
         for (size_t i = 0; i < q.count; i++) {
            ck_assert_msg (strstr (q.lines[i], "\"alice\"") && !strstr (q.lines[i], "\"r2\"") &&
                              !strstr (q.lines[i], "Late"),
                           "%s: not the context at the start: %s", path_names[path],
                           q.lines[i]);
         }
      }
      ck_assert_msg (strstr (q.lines[10], "\"Note\":\"added\""),
                     "the field added through mwatch_cursor_lock is missing: %s", q.lines[10]);
      if (path == PATH_SIDE_HANDLER) {
         /* Beside the queue, the same message: the same bytes. */
         lines_t s;
         read_lines (side, &s);
         for (size_t i = 0; i < q.count; i++) {
            const char *id = watch_id_of (q.lines[i]);
            size_t found = 0;
            for (size_t j = 0; j < s.count; j++) {
               if (strstr (s.lines[j], id) && strstr (s.lines[j], "\"State\":\"final\"")) {
                  ck_assert_str_eq (s.lines[j], q.lines[i]);
                  found++;
               }
            }
            ck_assert_msg (found == 1, "%zu final records of %s beside the queue", found, id);
         }
         free_lines (&s);
      }
      free_lines (&q);
   }
   mongoc_client_destroy (client);
   assert_same_shapes (seen[PATH_SIDE_HANDLER], seen[PATH_QUEUE],
                       "a handler beside the queue against the queue alone");
   assert_same_shapes (seen[PATH_LOGGER_FILTER], seen[PATH_QUEUE],
                       "a logger filter against the queue alone");
   if (!print_shapes ()) {
      assert_same_shapes (seen[PATH_QUEUE], golden, "the queue alone against the old library");
   }
   for (int path = PATH_QUEUE; path <= PATH_LOGGER_FILTER; path++) {
      bson_free (seen[path]);
   }
}

START_TEST (test_same_records_info_bare)
{
   check_variant ("INFO", BARE, golden_info_bare);
}
END_TEST

START_TEST (test_same_records_debug_bare)
{
   check_variant ("DEBUG", BARE, golden_debug_bare);
}
END_TEST

START_TEST (test_same_records_info_context)
{
   check_variant ("INFO", CONTEXT, golden_info_context);
}
END_TEST

START_TEST (test_same_records_debug_context)
{
   check_variant ("DEBUG", CONTEXT, golden_debug_context);
}
END_TEST

START_TEST (test_same_records_info_dressed)
{
   check_variant ("INFO", DRESSED, golden_info_dressed);
}
END_TEST

START_TEST (test_same_records_debug_dressed)
{
   check_variant ("DEBUG", DRESSED, golden_debug_dressed);
}
END_TEST

/* ---------------------------------------------------------------- timeouts */

static int
count_lines_with (const char *path, const char *text)
{
   char *all = mwatch_test_slurp (path, NULL);
   int n = 0;
   for (const char *p = all; p && (p = strstr (p, text)); p++) {
      n++;
   }
   bson_free (all);
   return n;
}

/* A cursor gone quiet is written as timed out by the queue, from what the
 * operation started with and did so far: its context at the start, its
 * mappings, its counts; then its final record. */
static void
check_timeout (const char *level, dress_t dress, const char *golden)
{
   char db[64];
   mwatch_test_unique_name ("mwtest_lazy", db, sizeof db);
   mongoc_client_t *client = mwatch_test_client ();
   char queued[128];
   bson_snprintf (queued, sizeof queued, "%s/timeout-%s-%d.jsonl", dir, level, dress);
   load (PATH_QUEUE, level, dress, "0.3", queued, NULL);
   mongoc_collection_t *coll = reseed (client, db);
   if (dress != BARE) {
      set_context ();
   }
   bson_t *batch2 = BCON_NEW ("batchSize", BCON_INT32 (2));
   bson_t *item = BCON_NEW ("name", "item");
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, item, batch2, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   ck_assert (mongoc_cursor_next (cursor, &doc));
   ck_assert (mongoc_cursor_next (cursor, &doc));
   if (dress != BARE) {
      mwatch_context_set ("RequestID", "r2");
      mwatch_context_set ("User", NULL);
   }
   /* Awaited: 10 s at most. */
   for (int i = 0; i < 1000 && !count_lines_with (queued, "\"State\":\"timeout\""); i++) {
      struct timespec ms = {0, 10000000};
      nanosleep (&ms, NULL);
   }
   ck_assert_int_eq (count_lines_with (queued, "\"State\":\"timeout\""), 1);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 3);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   mwatch_context_clear ();
   lines_t q;
   read_lines (queued, &q);
   char *got = shapes (&q, db);
   if (print_shapes ()) {
      fprintf (stderr, "---- timeout %s, %s:\n%s", level, dress_names[dress], got);
   } else {
      assert_same_shapes (got, golden, "a timeout against the old library");
   }
   bson_free (got);
   free_lines (&q);
   bson_destroy (batch2);
   bson_destroy (item);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
}

START_TEST (test_timeout_bare)
{
   check_timeout ("INFO", BARE, golden_timeout_bare);
}
END_TEST

START_TEST (test_timeout_dressed)
{
   check_timeout ("DEBUG", DRESSED, golden_timeout_dressed);
}
END_TEST

/* ---------------------------------------------------------------- cursor_lock before any record */

/* mwatch_cursor_lock on a cursor none of whose records was logged yet
 * (its first and timeout levels below the logger's): the message the
 * application gets has no State yet, and the final record has its fields
 * where a message kept from the start would have had them. */
START_TEST (test_cursor_lock_before_any_record)
{
   char db[64];
   mwatch_test_unique_name ("mwtest_lazy", db, sizeof db);
   mongoc_client_t *client = mwatch_test_client ();
   char queued[128];
   bson_snprintf (queued, sizeof queued, "%s/lock-first.jsonl", dir);
   char *text = bson_strdup_printf (
      "version: 1\n"
      "formatters:\n  j: {format: '{watch.json}'}\n"
      "handlers:\n"
      "  f: {class: file, filename: '%s', formatter: j}\n"
      "  q: {class: queue, handler: f}\n"
      "loggers:\n  mongowatch: {level: INFO, handlers: [q]}\n"
      "watchers:\n  global: {timeout_sec: 100, log_level: {timeout: DEBUG}}\n",
      queued);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s",
                  error.message);
   bson_free (text);
   mongoc_collection_t *coll = reseed (client, db);
   bson_t empty = BSON_INITIALIZER;
   bson_t *batch2 = BCON_NEW ("batchSize", BCON_INT32 (2));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &empty, batch2, NULL);
   const bson_t *doc;
   ck_assert (mongoc_cursor_next (cursor, &doc));
   mwatch_cursor_t *watch = mwatch_cursor_get (cursor);
   mwatch_message_t *msg = mwatch_cursor_lock (watch);
   bool has_state = mwatch_message_has (msg, "State");
   mwatch_message_set_utf8 (msg, "Note", "added");
   mwatch_cursor_unlock (watch);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 5);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   lines_t q;
   read_lines (queued, &q);
   ck_assert_uint_eq (q.count, 1);
   char *got = shape (q.lines[0], db);
   if (print_shapes ()) {
      fprintf (stderr, "---- lock first:\n%s\n", got);
   } else {
      ck_assert_msg (!has_state, "the message locked before any record has a State");
      ck_assert_str_eq (got, golden_lock_before_any_record);
   }
   bson_free (got);
   free_lines (&q);
   bson_destroy (batch2);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- an update before the first record */

/* A cursor that logs an update on every call (emit_on_new_retrieves off)
 * logs one before its first record, as it is made: every record of it,
 * the handler's beside the queue and the queue's final one, is what the
 * old library wrote (the mappings applied from the first record on). */
START_TEST (test_update_before_the_first_record)
{
   char db[64];
   mwatch_test_unique_name ("mwtest_lazy", db, sizeof db);
   mongoc_client_t *client = mwatch_test_client ();
   char queued[128], side[128];
   bson_snprintf (queued, sizeof queued, "%s/early-update.jsonl", dir);
   bson_snprintf (side, sizeof side, "%s/early-update-side.jsonl", dir);
   char *text = bson_strdup_printf (
      "version: 1\n"
      "formatters:\n  j: {format: '{watch.json}'}\n"
      "handlers:\n"
      "  f: {class: file, filename: '%s', formatter: j}\n"
      "  q: {class: queue, handler: f}\n"
      "  side: {class: file, filename: '%s', formatter: j}\n"
      "loggers:\n  mongowatch: {level: DEBUG, handlers: [q, side]}\n"
      "watchers:\n"
      "  global:\n"
      "    timeout_sec: 100\n"
      "    operations:\n"
      "      '*': {add: {Service: orders}, rename: {Collection: Table}}\n"
      "  cursor: {emit_on_new_retrieves: false}\n",
      queued, side);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s",
                  error.message);
   bson_free (text);
   mongoc_collection_t *coll = reseed (client, db);
   bson_t empty = BSON_INITIALIZER;
   bson_t *batch2 = BCON_NEW ("batchSize", BCON_INT32 (2));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &empty, batch2, NULL);
   ck_assert_int_eq (capture_drain_cursor (cursor, NULL), 6);
   mongoc_cursor_destroy (cursor);
   mwatch_shutdown ();
   lines_t q, s;
   read_lines (queued, &q);
   read_lines (side, &s);
   char *got_q = shapes (&q, db);
   char *got_s = shapes (&s, db);
   if (print_shapes ()) {
      fprintf (stderr, "---- early update, queue:\n%s---- early update, side:\n%s", got_q, got_s);
   } else {
      assert_same_shapes (got_q, golden_early_update_queue, "the queue against the old library");
      assert_same_shapes (got_s, golden_early_update_side, "beside it against the old library");
   }
   bson_free (got_q);
   bson_free (got_s);
   free_lines (&q);
   free_lines (&s);
   bson_destroy (batch2);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- exit */

#define EXIT_WRITES 40

/* The child: a configuration of its own, writes, a cursor left open; then
 * exit() (not _exit: what is queued is written at exit). */
static void
exit_child (const char *db, const char *queued)
{
   mongoc_log_set_handler (NULL, NULL);
   load (PATH_QUEUE, "INFO", DRESSED, "100", queued, NULL);
   mongoc_client_t *client = mongoc_client_new (mwatch_test_uri ());
   mongoc_collection_t *coll = mongoc_client_get_collection (client, db, "items");
   set_context ();
   for (int i = 0; i < EXIT_WRITES; i++) {
      bson_t *doc = BCON_NEW ("n", BCON_INT32 (i));
      if (!mongoc_collection_insert_one (coll, doc, NULL, NULL, NULL)) {
         _exit (3);
      }
      bson_destroy (doc);
   }
   bson_t empty = BSON_INITIALIZER;
   bson_t *batch2 = BCON_NEW ("batchSize", BCON_INT32 (2));
   mongoc_cursor_t *cursor = mongoc_collection_find_with_opts (coll, &empty, batch2, NULL);
   bson_destroy (batch2);
   const bson_t *doc;
   if (!mongoc_cursor_next (cursor, &doc)) {
      _exit (4);
   }
   exit (0);
}

/* At exit, every final record still queued is written, and an operation
 * still running is written as it stands. */
START_TEST (test_everything_written_at_exit)
{
   char db[64];
   mwatch_test_unique_name ("mwtest_lazy", db, sizeof db);
   char queued[128];
   bson_snprintf (queued, sizeof queued, "%s/exit.jsonl", dir);
   pid_t pid = fork ();
   ck_assert_int_ge (pid, 0);
   if (pid == 0) {
      exit_child (db, queued);
   }
   int status;
   ck_assert_msg (mwatch_test_child_exited (pid, 30, &status), "the child hung at exit");
   ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "the child ended with %#x",
                  status);
   lines_t q;
   read_lines (queued, &q);
   ck_assert_uint_eq (q.count, EXIT_WRITES + 1);
   for (size_t i = 0; i < EXIT_WRITES; i++) {
      ck_assert_msg (strstr (q.lines[i], "\"Operation\":\"insert_one\"") &&
                        strstr (q.lines[i], "\"State\":\"final\"") &&
                        strstr (q.lines[i], "\"InsertedCount\":1") &&
                        strstr (q.lines[i], "\"RequestID\":\"r1\"") &&
                        strstr (q.lines[i], "\"Service\":\"orders\""),
                     "record %zu: %s", i, q.lines[i]);
   }
   /* The cursor left open: written as it stands when the process ended. */
   char *last = shape (q.lines[EXIT_WRITES], db);
   if (print_shapes ()) {
      fprintf (stderr, "---- exit:\n%s\n", last);
   } else {
      ck_assert_str_eq (last, golden_exit_open_cursor);
   }
   bson_free (last);
   free_lines (&q);
   mongoc_client_t *client = mwatch_test_client ();
   unwatched ();
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mongoc_database_drop (database, NULL);
   mongoc_database_destroy (database);
   watched ();
   mongoc_client_destroy (client);
}
END_TEST

/* ---------------------------------------------------------------- the bound in bytes */

/* A backend that holds its first record until released. */
typedef struct {
   pthread_mutex_t lock;
   pthread_cond_t cond;
   bool holding;
   bool released;
   size_t records;
   size_t with_pad;
} blocker_t;

static void
blocker_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   blocker_t *b = impl;
   (void) handler;
   mwatch_value_t v;
   bool pad = record->watch && mwatch_message_get (record->watch, "Filter.pad", &v) &&
              v.type == MWATCH_TYPE_UTF8 && v.value.v_utf8.len == 16000;
   pthread_mutex_lock (&b->lock);
   b->records++;
   b->with_pad += pad;
   b->holding = true;
   pthread_cond_broadcast (&b->cond);
   while (!b->released) {
      pthread_cond_wait (&b->cond, &b->lock);
   }
   pthread_mutex_unlock (&b->lock);
}

static const mwatch_handler_vtable_t blocker_vtable = {.emit = blocker_emit};

/* A record kept in a queue until its listener builds it still counts what
 * it stands for (the operation's filter, 16 kB here) toward the queue's
 * bound in bytes: at most a few fit in 64 KiB, the rest are dropped and
 * counted; those kept are written whole. */
START_TEST (test_bound_in_bytes_counts_the_operation)
{
   char db[64];
   mwatch_test_unique_name ("mwtest_lazy", db, sizeof db);
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = reseed (client, db);
   blocker_t b = {.holding = false, .released = false};
   pthread_mutex_init (&b.lock, NULL);
   pthread_cond_init (&b.cond, NULL);
   /* Final records alone reach the queue (a running operation's would be
    * replaced by them, which the bound lets pass). */
   mwatch_watcher_opts_t wopts;
   mwatch_watcher_opts_init (&wopts);
   wopts.timeout_level = MWATCH_LEVEL_DEBUG;
   mwatch_watcher_set_opts (MWATCH_WATCHER_COLLECTION, &wopts);
   mwatch_handler_t *backend = mwatch_handler_new (&blocker_vtable, &b);
   mwatch_queue_handler_opts_t qopts;
   mwatch_queue_handler_opts_init (&qopts);
   qopts.max_bytes = 64 * 1024;
   qopts.overflow = MWATCH_OVERFLOW_DROP_NEWEST;
   mwatch_handler_t *queue = mwatch_handler_new_queue (backend, &qopts);
   mwatch_logger_t *logger = mwatch_logger_get ("mongowatch");
   mwatch_logger_set_level (logger, MWATCH_LEVEL_INFO);
   mwatch_logger_add_handler (logger, queue);

   char *pad = bson_malloc (16001);
   memset (pad, 'p', 16000);
   pad[16000] = '\0';
   bson_t *filter = BCON_NEW ("pad", BCON_UTF8 (pad));
   bson_error_t error;
   /* The first is taken and held by the backend. */
   ck_assert (mongoc_collection_delete_many (coll, filter, NULL, NULL, &error));
   pthread_mutex_lock (&b.lock);
   while (!b.holding) {
      pthread_cond_wait (&b.cond, &b.lock);
   }
   pthread_mutex_unlock (&b.lock);
   for (int i = 0; i < 20; i++) {
      ck_assert_msg (mongoc_collection_delete_many (coll, filter, NULL, NULL, &error), "%s",
                     error.message);
   }
   mwatch_queue_stats_t st;
   mwatch_queue_handler_stats (queue, &st);
   ck_assert_uint_le (st.bytes, 64 * 1024);
   ck_assert_uint_ge (st.bytes, st.size * 16000);
   ck_assert_uint_le (st.size, 4);
   ck_assert_uint_ge (st.dropped_ready, 16);

   pthread_mutex_lock (&b.lock);
   b.released = true;
   pthread_cond_broadcast (&b.cond);
   pthread_mutex_unlock (&b.lock);
   mwatch_shutdown ();
   ck_assert_uint_eq (b.records, 1 + st.size);
   ck_assert_uint_eq (b.with_pad, b.records);

   mwatch_handler_destroy (queue);
   mwatch_handler_destroy (backend);
   pthread_cond_destroy (&b.cond);
   pthread_mutex_destroy (&b.lock);
   bson_destroy (filter);
   bson_free (pad);
   mongoc_collection_destroy (coll);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
lazy_build_suite (void)
{
   Suite *suite = suite_create ("lazy build");
   TCase *tc = tcase_create ("lazy build");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_set_timeout (tc, 120);
   tcase_add_test (tc, test_same_records_info_bare);
   tcase_add_test (tc, test_same_records_debug_bare);
   tcase_add_test (tc, test_same_records_info_context);
   tcase_add_test (tc, test_same_records_debug_context);
   tcase_add_test (tc, test_same_records_info_dressed);
   tcase_add_test (tc, test_same_records_debug_dressed);
   tcase_add_test (tc, test_timeout_bare);
   tcase_add_test (tc, test_timeout_dressed);
   tcase_add_test (tc, test_cursor_lock_before_any_record);
   tcase_add_test (tc, test_update_before_the_first_record);
   tcase_add_test (tc, test_everything_written_at_exit);
   tcase_add_test (tc, test_bound_in_bytes_counts_the_operation);
   suite_add_tcase (suite, tc);
   return suite;
}
