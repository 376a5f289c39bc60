/* Credentials never logged (lib/watch-secrets.c): which commands carry
 * them, the marker their body becomes, and passwords masked in texts. */
#include <string.h>

#include "../../lib/watch-secrets-private.h"
#include "mongowatch.h"
#include "unit/suites.h"

START_TEST (test_credential_commands)
{
   static const char *const secret[] = {
      "{\"saslStart\": 1, \"mechanism\": \"SCRAM-SHA-256\", \"payload\": \"biwsbj1h\"}",
      "{\"saslContinue\": 1, \"conversationId\": 1, \"payload\": \"Yz1i\"}",
      "{\"authenticate\": 1, \"user\": \"u\", \"key\": \"k\", \"nonce\": \"n\"}",
      "{\"createUser\": \"u\", \"pwd\": \"hunter2\", \"roles\": []}",
      "{\"updateUser\": \"u\", \"pwd\": \"hunter2\"}",
      "{\"createuser\": \"u\"}",
      "{\"getnonce\": 1}",
      "{\"copydbsaslstart\": 1, \"payload\": \"x\"}",
      "{\"copydbgetnonce\": 1}",
      "{\"copydb\": 1, \"key\": \"k\"}",
      /* any command with a password key */
      "{\"someFutureCommand\": \"u\", \"password\": \"hunter2\"}",
      "{\"hello\": 1, \"speculativeAuthenticate\": {\"saslStart\": 1, \"payload\": \"x\"}}",
   };
   static const char *const plain[] = {
      "{\"ping\": 1}",
      "{\"find\": \"users\", \"filter\": {\"createUser\": \"x\"}}",
      "{\"dropUser\": \"u\"}",
      "{\"usersInfo\": \"u\"}",
      "{}",
   };
   for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
      bson_error_t error;
      bson_t *cmd = bson_new_from_json ((const uint8_t *) secret[i], -1, &error);
      ck_assert_msg (cmd, "%s", error.message);
      ck_assert_msg (_mwatch_command_has_credentials (cmd), "%s", secret[i]);
      const bson_t *shown = _mwatch_command_loggable (cmd);
      ck_assert_ptr_ne (shown, cmd);
      char *json = bson_as_relaxed_extended_json (shown, NULL);
      ck_assert_str_eq (json, "{ \"redacted\" : \"credentials\" }");
      bson_free (json);
      bson_destroy (cmd);
   }
   for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
      bson_error_t error;
      bson_t *cmd = bson_new_from_json ((const uint8_t *) plain[i], -1, &error);
      ck_assert_msg (cmd, "%s", error.message);
      ck_assert_msg (!_mwatch_command_has_credentials (cmd), "%s", plain[i]);
      ck_assert_ptr_eq (_mwatch_command_loggable (cmd), cmd);
      bson_destroy (cmd);
   }
   ck_assert_ptr_null (_mwatch_command_loggable (NULL));
}
END_TEST

START_TEST (test_mask_credentials)
{
   static const struct {
      const char *in;
      const char *out; /* NULL: nothing to mask */
   } cases[] = {
      {"connect to mongodb://alice:hunter2@db1:27017/app failed",
       "connect to mongodb://alice:***@db1:27017/app failed"},
      {"mongodb+srv://u:p%40ss@cluster.example.net/?retryWrites=true",
       "mongodb+srv://u:***@cluster.example.net/?retryWrites=true"},
      /* an unescaped '@' in the password: up to the last '@' */
      {"'mongodb://u:pa@ss@h1,h2/db'", "'mongodb://u:***@h1,h2/db'"},
      {"mongodb://h:27017/?tlsCertificateKeyFilePassword=hunter2&tls=true",
       "mongodb://h:27017/?tlsCertificateKeyFilePassword=***&tls=true"},
      {"x PASSWORD=hunter2", "x PASSWORD=***"},
      {"mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:t0k3n&tls=true",
       "mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:***&tls=true"},
      {"authMechanismProperties=SERVICE_NAME:x,aws_session_token:t0k3n,Y:z",
       "authMechanismProperties=SERVICE_NAME:x,aws_session_token:***,Y:z"},
      {"two: mongodb://a:b1@h and mongodb://c:d2@k", "two: mongodb://a:***@h and mongodb://c:***@k"},
      /* nothing to mask */
      {"mongodb://alice@h/?authMechanism=MONGODB-X509", NULL},
      {"mongodb://h1:27017,h2:27017/db?appname=a@b", NULL},
      {"No suitable servers found: [connection refused calling hello on '127.0.0.1:1']", NULL},
      {"mongodb://:@h", NULL},
      {"", NULL},
   };
   for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      char *masked = _mwatch_mask_credentials (cases[i].in);
      if (cases[i].out) {
         ck_assert_msg (masked, "nothing masked in %s", cases[i].in);
         ck_assert_str_eq (masked, cases[i].out);
      } else {
         ck_assert_msg (!masked, "%s masked as %s", cases[i].in, masked);
      }
      bson_free (masked);
   }
   ck_assert_ptr_null (_mwatch_mask_credentials (NULL));

   mwatch_message_t *msg = mwatch_message_new ();
   _mwatch_message_set_masked (msg, "Error", "auth failed for mongodb://bob:s3cr3t@h");
   _mwatch_message_set_masked (msg, "Other", "plain");
   mwatch_value_t value;
   ck_assert (mwatch_message_get (msg, "Error", &value));
   ck_assert_str_eq (value.value.v_utf8.str, "auth failed for mongodb://bob:***@h");
   ck_assert (mwatch_message_get (msg, "Other", &value));
   ck_assert_str_eq (value.value.v_utf8.str, "plain");
   mwatch_message_destroy (msg);
}
END_TEST

Suite *
secrets_suite (void)
{
   Suite *suite = suite_create ("secrets");
   TCase *tc = tcase_create ("secrets");
   tcase_add_test (tc, test_credential_commands);
   tcase_add_test (tc, test_mask_credentials);
   suite_add_tcase (suite, tc);
   return suite;
}
