/* Configuration files and plugins someone else could have written are
 * refused, saying why and what to do (see lib/config-trust.c); ownership
 * by another user is checked as root by test/secure-check. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mongowatch.h"
#include "test-util.h"
#include "unit/suites.h"

static char folder[64];
static char file[128];

static void
setup (void)
{
   bson_strncpy (folder, "/tmp/mwatch-trust-XXXXXX", sizeof folder);
   ck_assert_ptr_nonnull (mkdtemp (folder));
   bson_snprintf (file, sizeof file, "%s/mongowatch.yaml", folder);
   FILE *fp = fopen (file, "w");
   ck_assert_ptr_nonnull (fp);
   fputs ("version: 1\n", fp);
   fclose (fp);
   chmod (file, 0644);
}

static void
teardown (void)
{
   mwatch_test_remove_tree (folder);
}

/* The error of checking `file`, or "" when it passes. */
static const char *
check (void)
{
   static bson_error_t error;
   memset (&error, 0, sizeof error);
   return mwatch_config_check_file (file, NULL, &error) ? "" : error.message;
}

START_TEST (test_owner_only_passes)
{
   ck_assert_str_eq (check (), "");
}
END_TEST

START_TEST (test_world_writable_file_refused)
{
   chmod (file, 0666);
   const char *why = check ();
   ck_assert_msg (strstr (why, "refused: the configuration") && strstr (why, "writable by anyone") &&
                     strstr (why, "chmod go-w"),
                  "%s", why);
   ck_assert_msg (strncmp (why, file, strlen (file)) == 0, "names the file: %s", why);
}
END_TEST

START_TEST (test_group_writable_file_refused)
{
   chmod (file, 0664);
   const char *why = check ();
   ck_assert_msg (strstr (why, "writable by its group"), "%s", why);
}
END_TEST

START_TEST (test_open_folder_refused_sticky_folder_passes)
{
   chmod (folder, 0777);
   const char *why = check ();
   ck_assert_msg (strstr (why, "the folder of the configuration"), "%s", why);
   /* As /tmp: anyone may add files, only their owners replace them. */
   chmod (folder, 01777);
   ck_assert_str_eq (check (), "");
   chmod (folder, 0700);
}
END_TEST

START_TEST (test_writable_plugin_refused)
{
   char plugin[160];
   bson_snprintf (plugin, sizeof plugin, "%s/plugin.so", folder);
   FILE *fp = fopen (plugin, "w");
   ck_assert_ptr_nonnull (fp);
   fclose (fp);
   chmod (plugin, 0666);
   fp = fopen (file, "w");
   fprintf (fp, "version: 1\nfilters:\n  f:\n    (): ext://%s:factory\n", plugin);
   fclose (fp);
   const char *why = check ();
   ck_assert_msg (strstr (why, "refused: the plugin") && strstr (why, "writable by anyone"), "%s",
                  why);
   ck_assert_msg (strstr (why, "filters.f"), "names the key: %s", why);
}
END_TEST

Suite *
config_trust_suite (void)
{
   Suite *suite = suite_create ("config trust");
   TCase *tc = tcase_create ("config trust");
   tcase_add_checked_fixture (tc, setup, teardown);
   tcase_add_test (tc, test_owner_only_passes);
   tcase_add_test (tc, test_world_writable_file_refused);
   tcase_add_test (tc, test_group_writable_file_refused);
   tcase_add_test (tc, test_open_folder_refused_sticky_folder_passes);
   tcase_add_test (tc, test_writable_plugin_refused);
   suite_add_tcase (suite, tc);
   return suite;
}
