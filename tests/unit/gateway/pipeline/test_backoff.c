/* test_backoff.c — the workers' retry delays: exponential, capped, jittered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gateway/pipeline/workers.h"

static void test_backoff_doubles_and_caps(void **state)
{
    (void)state;
    /* With the random part at its top the delay is the full exponential value... */
    assert_int_equal(gw_backoff_ms(2000, 3600000, 1, 0.999999), 1999);
    assert_int_equal(gw_backoff_ms(2000, 3600000, 2, 0.999999), 3999);
    assert_int_equal(gw_backoff_ms(2000, 3600000, 3, 0.999999), 7999);
    /* ...at its bottom, half of it: retries never come back sooner than that. */
    assert_int_equal(gw_backoff_ms(2000, 3600000, 1, 0.0), 1000);
    assert_int_equal(gw_backoff_ms(2000, 3600000, 3, 0.0), 4000);
    /* Capped at max, however many attempts, without overflowing. */
    assert_int_equal(gw_backoff_ms(2000, 3600000, 30, 0.0), 1800000);
    assert_true(gw_backoff_ms(2000, 3600000, 1000, 0.999999) <= 3600000);
    assert_int_equal(gw_backoff_ms(0, 10, 1, 0.0), 0); /* a zero base still makes progress */
    for (unsigned a = 1; a < 70; a++) {
        uint64_t d = gw_backoff_ms(50, 200, a, 0.5);
        assert_true(d >= 25 && d <= 200);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_and_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
