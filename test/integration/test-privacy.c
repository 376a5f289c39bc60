/* Nothing private in clear, against the real server: under the sample
 * configuration (etc/mongowatch.yaml, its log folder moved to a temporary
 * one) every read and write made with a secret value leaves that value in
 * no file; and under a configuration with no redact filter at all, the
 * credentials of authentication and user-management commands are still
 * never written. */
#include "integration/suites.h"
#include "test-util.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The deprecated calls are watched because real programs still make them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* Values that appear nowhere but in the application's calls. */
#define SECRET "Zq7-hunter2-secret"
#define SSN "078-05-1120"
#define PIN 90417263
#define PIN_TEXT "90417263"
#define PASSWORD "pw-Kx9-correct-horse"

static char dir[PATH_MAX];

static void
setup (void)
{
   bson_snprintf (dir, sizeof dir, "/tmp/mwatch-privacy-XXXXXX");
   ck_assert_ptr_nonnull (mkdtemp (dir));
}

static void
teardown (void)
{
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();
   for (int kind = 0; kind < 2; kind++) {
      mwatch_watcher_set_opts ((mwatch_watcher_kind_t) kind, NULL);
      mwatch_watcher_set_operation_maps ((mwatch_watcher_kind_t) kind, NULL, 0);
   }
   mwatch_test_remove_tree (dir);
}

/* Loads etc/mongowatch.yaml with "/var/log/mongowatch" moved to `dir`. */
static void
load_sample (void)
{
   char path[PATH_MAX];
   const char *source = getenv ("MWATCH_TEST_SOURCE_DIR");
   bson_snprintf (path, sizeof path, "%s/etc/mongowatch.yaml", source ? source : ".");
   char *text = mwatch_test_slurp (path, NULL);
   ck_assert_msg (text, "cannot open %s: run the tests from the source tree", path);
   static const char from[] = "/var/log/mongowatch";
   mwatch_buf_t moved = MWATCH_BUF_INITIALIZER;
   for (const char *p = text; *p;) {
      if (strncmp (p, from, sizeof from - 1) == 0) {
         mwatch_buf_append_str (&moved, dir);
         p += sizeof from - 1;
      } else {
         mwatch_buf_append (&moved, p++, 1);
      }
   }
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (moved.data, MWATCH_CONFIG_YAML, &error), "%s",
                  error.message);
   mwatch_buf_destroy (&moved);
   bson_free (text);
}

/* Every file the handlers wrote, one after the other (bson_free). */
static char *
all_output (void)
{
   mwatch_buf_t all = MWATCH_BUF_INITIALIZER;
   DIR *d = opendir (dir);
   ck_assert_ptr_nonnull (d);
   struct dirent *entry;
   while ((entry = readdir (d))) {
      if (entry->d_name[0] == '.') {
         continue;
      }
      char path[PATH_MAX];
      bson_snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
      char *text = mwatch_test_slurp (path, NULL);
      if (text) {
         mwatch_buf_append_str (&all, text);
         bson_free (text);
      }
   }
   closedir (d);
   mwatch_buf_append_str (&all, "");
   return all.data;
}

/* Check's messages are short: the first words around what is wrong. */
static void
assert_absent (const char *output, const char *secret)
{
   const char *at = strstr (output, secret);
   const char *from = at && at - output > 200 ? at - 200 : output;
   ck_assert_msg (!at, "\"%s\" written in clear: %.300s", secret, from);
}

static void
assert_present (const char *output, const char *text)
{
   ck_assert_msg (strstr (output, text), "no %s in the output", text);
}

/* Runs `command` in `db`, whatever the server says of it. */
static void
run_command (mongoc_client_t *client, const char *db, bson_t *command)
{
   bson_t reply;
   bson_error_t error;
   mongoc_client_command_simple (client, db, command, NULL, &reply, &error);
   bson_destroy (&reply);
   bson_destroy (command);
}

/* Authentication and user-management commands with a password, run as an
 * application would (and as libmongoc's own add_user runs createUser). */
static void
credential_commands (mongoc_client_t *client, const char *db)
{
   run_command (client, db,
                BCON_NEW ("createUser", BCON_UTF8 ("mw_privacy"), "pwd", BCON_UTF8 (PASSWORD),
                          "roles", "[", "]"));
   run_command (client, db,
                BCON_NEW ("updateUser", BCON_UTF8 ("mw_privacy"), "pwd", BCON_UTF8 (PASSWORD)));
   run_command (client, db,
                BCON_NEW ("saslStart", BCON_INT32 (1), "mechanism", BCON_UTF8 ("PLAIN"),
                          "payload", BCON_UTF8 (PASSWORD)));
   run_command (client, db,
                BCON_NEW ("authenticate", BCON_INT32 (1), "user", BCON_UTF8 ("mw_privacy"),
                          "key", BCON_UTF8 (PASSWORD)));
   bson_error_t error;
   mongoc_database_t *database = mongoc_client_get_database (client, db);
   mongoc_database_add_user (database, "mw_privacy2", PASSWORD, NULL, NULL, &error);
   mongoc_database_destroy (database);
   run_command (client, db, BCON_NEW ("dropUser", BCON_UTF8 ("mw_privacy")));
   run_command (client, db, BCON_NEW ("dropUser", BCON_UTF8 ("mw_privacy2")));
}

static void
drain (mongoc_cursor_t *cursor)
{
   const bson_t *doc;
   while (mongoc_cursor_next (cursor, &doc)) {
   }
   mongoc_cursor_destroy (cursor);
}

/* Every read and write of the collection watcher and the cursor watcher,
 * each with the secrets in what it sends. */
static void
every_operation (mongoc_client_t *client, const char *db, mongoc_collection_t *coll)
{
   bson_error_t error;
   bson_t *doc = BCON_NEW ("name", BCON_UTF8 ("p1"), "ssn", BCON_UTF8 (SSN), "pin", BCON_INT32 (PIN),
                           "note", BCON_UTF8 (SECRET));
   ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &error), "%s", error.message);
   /* A duplicate key: the server's message may quote the key's value. */
   mongoc_collection_insert_one (coll, doc, NULL, NULL, &error);
   bson_destroy (doc);
   const bson_t *docs[2];
   docs[0] = BCON_NEW ("name", BCON_UTF8 ("p2"), "ssn", BCON_UTF8 (SSN));
   docs[1] = BCON_NEW ("name", BCON_UTF8 ("p3"), "note", BCON_UTF8 (SECRET));
   mongoc_collection_insert_many (coll, docs, 2, NULL, NULL, &error);
   bson_destroy ((bson_t *) docs[0]);
   bson_destroy ((bson_t *) docs[1]);

   bson_t *by_ssn = BCON_NEW ("ssn", BCON_UTF8 (SSN));
   bson_t *set = BCON_NEW ("$set", "{", "note", BCON_UTF8 (SECRET), "pin", BCON_INT32 (PIN), "}");
   bson_t *replacement = BCON_NEW ("name", BCON_UTF8 ("p1"), "ssn", BCON_UTF8 (SSN), "password",
                                   BCON_UTF8 (SECRET));
   mongoc_collection_update_one (coll, by_ssn, set, NULL, NULL, &error);
   mongoc_collection_update_many (coll, by_ssn, set, NULL, NULL, &error);
   mongoc_collection_replace_one (coll, by_ssn, replacement, NULL, NULL, &error);
   mongoc_collection_update (coll, MONGOC_UPDATE_NONE, by_ssn, set, NULL, &error);

   drain (mongoc_collection_find_with_opts (coll, by_ssn, NULL, NULL));
   bson_t *pipeline = BCON_NEW ("pipeline", "[", "{", "$match", "{", "note", BCON_UTF8 (SECRET), "}",
                                "}", "]");
   drain (mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL));
   bson_destroy (pipeline);
   ck_assert_int_ge (mongoc_collection_count_documents (coll, by_ssn, NULL, NULL, NULL, &error), 0);

   bson_t *distinct = BCON_NEW ("distinct", BCON_UTF8 (mongoc_collection_get_name (coll)), "key",
                                BCON_UTF8 ("note"), "query", "{", "ssn", BCON_UTF8 (SSN), "}");
   bson_t reply;
   mongoc_collection_read_command_with_opts (coll, distinct, NULL, NULL, &reply, &error);
   bson_destroy (&reply);
   bson_destroy (distinct);

   mongoc_find_and_modify_opts_t *fam = mongoc_find_and_modify_opts_new ();
   mongoc_find_and_modify_opts_set_update (fam, set);
   bson_t *sort = BCON_NEW ("note", BCON_UTF8 (SECRET));
   mongoc_find_and_modify_opts_set_sort (fam, sort);
   mongoc_collection_find_and_modify_with_opts (coll, by_ssn, fam, &reply, &error);
   bson_destroy (&reply);
   mongoc_find_and_modify_opts_destroy (fam);
   mongoc_collection_find_and_modify (coll, by_ssn, NULL, set, NULL, false, false, true, &reply,
                                      &error);
   bson_destroy (&reply);
   bson_destroy (sort);

   mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts (coll, NULL);
   bson_t *bulk_doc = BCON_NEW ("ssn", BCON_UTF8 (SSN), "note", BCON_UTF8 (SECRET));
   mongoc_bulk_operation_insert (bulk, bulk_doc);
   mongoc_bulk_operation_update_one (bulk, by_ssn, set, false);
   mongoc_bulk_operation_execute (bulk, &reply, &error);
   bson_destroy (&reply);
   bson_destroy (bulk_doc);
   mongoc_bulk_operation_destroy (bulk);

   mongoc_collection_delete_one (coll, by_ssn, NULL, NULL, &error);
   mongoc_collection_delete_many (coll, by_ssn, NULL, NULL, &error);
   bson_destroy (by_ssn);
   bson_destroy (set);
   bson_destroy (replacement);

   credential_commands (client, db);
}

/* Under the sample configuration, with DEBUG added so that first and
 * update records are written too: no secret in any file. */
START_TEST (test_sample_configuration_writes_no_secret)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_privacy", db, sizeof db, 3);
   load_sample ();
   mwatch_logger_set_level (mwatch_logger_get ("mongowatch"), MWATCH_LEVEL_DEBUG);
   bson_error_t error;
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
   every_operation (client, db, coll);
   mwatch_unpatch_mongoc ();
   mwatch_shutdown ();

   char *output = all_output ();
   /* Not vacuous: the operations are there, with their shape. */
   static const char *const operations[] = {
      "insert_one", "insert_many", "update_one", "update_many", "replace_one", "find",
      "aggregate", "count_documents", "distinct", "find_and_modify", "bulk_write",
      "delete_one", "delete_many", "createUser", "updateUser", "saslStart", "authenticate",
   };
   for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++) {
      char want[64];
      bson_snprintf (want, sizeof want, "\"Operation\":\"%s\"", operations[i]);
      assert_present (output, want);
   }
   assert_present (output, "\"$set\":{\"note\":\"xxxxxxxxxxxxxxxxxx\"");
   assert_absent (output, SECRET);
   assert_absent (output, SSN);
   assert_absent (output, PIN_TEXT);
   assert_absent (output, PASSWORD);
   bson_free (output);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

/* With no redact filter anywhere, the credentials are still not written;
 * the commands are, with a marker for their body. */
START_TEST (test_credentials_never_written)
{
   char db[64];
   mongoc_client_t *client = mwatch_test_client ();
   mongoc_collection_t *coll = mwatch_test_seed (client, "mwtest_creds", db, sizeof db, 1);
   char text[1024];
   bson_snprintf (text,
                  sizeof text,
                  "version: 1\n"
                  "formatters: {json: {format: '{watch.json}'}}\n"
                  "handlers: {file: {class: file, filename: '%s/clear.jsonl', formatter: json}}\n"
                  "loggers: {mongowatch: {level: DEBUG, handlers: [file]}}\n",
                  dir);
   bson_error_t error;
   ck_assert_msg (mwatch_config_load_string (text, MWATCH_CONFIG_YAML, &error), "%s", error.message);
   ck_assert_msg (mwatch_patch_mongoc (&error), "%s", error.message);
   credential_commands (client, db);
   /* The deprecated command cursor logs its command too. */
   bson_t *command = BCON_NEW ("createUser", BCON_UTF8 ("mw_privacy3"), "pwd", BCON_UTF8 (PASSWORD),
                               "roles", "[", "]");
   drain (mongoc_collection_command (coll, MONGOC_QUERY_NONE, 0, 0, 0, command, NULL, NULL));
   bson_destroy (command);
   /* Control: an ordinary command is logged in clear. */
   run_command (client, db, BCON_NEW ("ping", BCON_INT32 (1), "comment", BCON_UTF8 (SECRET)));
   mwatch_unpatch_mongoc ();
   run_command (client, db, BCON_NEW ("dropUser", BCON_UTF8 ("mw_privacy3")));
   mwatch_shutdown ();

   char *output = all_output ();
   assert_present (output, "\"Operation\":\"createUser\"");
   assert_present (output, "\"Operation\":\"saslStart\"");
   assert_present (output, "\"redacted\":\"credentials\"");
   assert_present (output, SECRET);
   assert_absent (output, PASSWORD);
   bson_free (output);
   mwatch_test_drop (client, db, coll);
   mongoc_client_destroy (client);
}
END_TEST

Suite *
privacy_suite (void)
{
   Suite *s = suite_create ("privacy");
   TCase *tc = tcase_create ("privacy");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_set_timeout (tc, 60);
   tcase_add_test (tc, test_sample_configuration_writes_no_secret);
   tcase_add_test (tc, test_credentials_never_written);
   suite_add_tcase (s, tc);
   return s;
}
