/* test_ct_compare.c — constant-time comparison: equal only for the same bytes and length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "verifiers/ct_compare.h"

static void test_equal_and_unequal(void **state)
{
    (void)state;
    assert_true(gw_ct_equal("token-123", 9, "token-123", 9));
    assert_false(gw_ct_equal("token-124", 9, "token-123", 9));
    assert_false(gw_ct_equal("Token-123", 9, "token-123", 9));
    assert_false(gw_ct_equal("token-12", 8, "token-123", 9));    /* a prefix */
    assert_false(gw_ct_equal("token-1234", 10, "token-123", 9)); /* an extension */
    assert_false(gw_ct_equal("", 0, "token-123", 9));
    assert_true(gw_ct_equal("", 0, "", 0));
    /* Bytes after a NUL count. */
    assert_false(gw_ct_equal("ab\0c", 4, "ab\0d", 4));
    assert_true(gw_ct_equal("ab\0c", 4, "ab\0c", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_equal_and_unequal)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
