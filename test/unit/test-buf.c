/* mwatch_buf_t: appends, NUL termination, reuse without reallocation. */
#include "test-util.h"
#include "unit/suites.h"

START_TEST (test_append_and_terminate)
{
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   mwatch_buf_append_str (&buf, "abc");
   mwatch_buf_append (&buf, "d\0e", 3);
   ck_assert_uint_eq (buf.len, 6);
   ck_assert_mem_eq (buf.data, "abcd\0e", 6);
   ck_assert_int_eq (buf.data[buf.len], '\0');
   mwatch_buf_append (&buf, "", 0);
   ck_assert_uint_eq (buf.len, 6);
   mwatch_buf_destroy (&buf);
   ck_assert_ptr_null (buf.data);
   ck_assert_uint_eq (buf.len, 0);
}
END_TEST

START_TEST (test_growth_and_reuse)
{
   mwatch_buf_t buf;
   mwatch_buf_init (&buf);
   char chunk[1000];
   memset (chunk, 'x', sizeof chunk);
   for (int i = 0; i < 100; i++) {
      mwatch_buf_append (&buf, chunk, sizeof chunk);
   }
   ck_assert_uint_eq (buf.len, 100000);
   ck_assert_uint_gt (buf.cap, buf.len);
   char *data = buf.data;
   size_t cap = buf.cap;
   mwatch_buf_clear (&buf);
   ck_assert_uint_eq (buf.len, 0);
   ck_assert_str_eq (buf.data, "");
   for (int i = 0; i < 100; i++) {
      mwatch_buf_append (&buf, chunk, sizeof chunk);
   }
   /* The second fill reuses the storage of the first. */
   ck_assert_ptr_eq (buf.data, data);
   ck_assert_uint_eq (buf.cap, cap);
   mwatch_buf_destroy (&buf);
}
END_TEST

START_TEST (test_clear_empty)
{
   mwatch_buf_t buf = MWATCH_BUF_INITIALIZER;
   mwatch_buf_clear (&buf);
   ck_assert_uint_eq (buf.len, 0);
   mwatch_buf_destroy (&buf);
}
END_TEST

Suite *
buf_suite (void)
{
   Suite *suite = suite_create ("buf");
   TCase *tc = tcase_create ("buf");
   tcase_add_test (tc, test_append_and_terminate);
   tcase_add_test (tc, test_growth_and_reuse);
   tcase_add_test (tc, test_clear_empty);
   suite_add_tcase (suite, tc);
   return suite;
}
