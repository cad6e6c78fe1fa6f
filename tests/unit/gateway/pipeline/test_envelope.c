/* test_envelope.c — what the gateway makes of an adapter's envelope return: store, answer,
 * retry, or a broken contract that is answered 500 (never a 200 with nothing stored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gateway/pipeline/inbound.h"

static void test_events_are_stored(void **state)
{
    (void)state;
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_STORE, 1, 64, 0), GW_ENVELOPE_TO_STORE);
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_STORE, 64, 64, 0), GW_ENVELOPE_TO_STORE);
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_STORE, 1000, 1000, 0), GW_ENVELOPE_TO_STORE);
}

static void test_answers_are_sent(void **state)
{
    (void)state;
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_ANSWER, 0, 64, 200), GW_ENVELOPE_TO_ANSWER);
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_ANSWER, 0, 64, 400), GW_ENVELOPE_TO_ANSWER);
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_ANSWER, 0, 64, 503), GW_ENVELOPE_TO_ANSWER);
    /* Events filled before the adapter decided to answer are not stored. */
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_ANSWER, 3, 64, 400), GW_ENVELOPE_TO_ANSWER);
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_UNAVAILABLE, 0, 64, 0), GW_ENVELOPE_TO_RETRY);
}

static void test_broken_contracts(void **state)
{
    (void)state;
    /* Nothing to store and nothing to say: answering 200 would lose the request. */
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_STORE, 0, 64, 0), GW_ENVELOPE_BROKEN);
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_ANSWER, 0, 64, 0), GW_ENVELOPE_BROKEN);
    /* More events than the gateway gave room for: memory past the array was written. */
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_STORE, 65, 64, 0), GW_ENVELOPE_BROKEN);
    /* Events and an answer at once: which one did it mean? */
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_STORE, 1, 64, 200), GW_ENVELOPE_BROKEN);
    /* Not an HTTP status. */
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_ANSWER, 0, 64, 42), GW_ENVELOPE_BROKEN);
    assert_int_equal(gw_envelope_judge(GW_ENVELOPE_ANSWER, 0, 64, 600), GW_ENVELOPE_BROKEN);
    /* A code outside the enum. */
    assert_int_equal(gw_envelope_judge((enum gw_envelope_rc)7, 1, 64, 0), GW_ENVELOPE_BROKEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_are_stored),
        cmocka_unit_test(test_answers_are_sent),
        cmocka_unit_test(test_broken_contracts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
