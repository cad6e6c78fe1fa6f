/* test_parse.c — Xero's date forms, amounts, GUIDs and job refs in free text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <string.h>

#include "adapters/xero/events.h"
#include "adapters/xero/parse.h"

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(gw_xero_date_ms("/Date(1552435200000+0000)/"), 1552435200000LL);
    assert_int_equal(gw_xero_date_ms("/Date(1551981568133)/"), 1551981568133LL);
    assert_int_equal(gw_xero_date_ms("/Date(1552435200000+1300)/"), 1552435200000LL);
    assert_int_equal(gw_xero_date_ms("2019-03-13T00:00:00"), 1552435200000LL);
    assert_int_equal(gw_xero_date_ms("2019-03-13T00:00:00Z"), 1552435200000LL);
    assert_int_equal(gw_xero_date_ms("2026-01-12T03:15:39.902"), 1768187739902LL);
    assert_int_equal(gw_xero_date_ms("2019-03-13"), 1552435200000LL);
    const char *bad[] = {"",
                         "/Date()/",
                         "/Date(12a)/",
                         "/Date(1552435200000+00)/",
                         "/Date(1552435200000",
                         "/Date(-5)/",
                         "2019-02-30T00:00:00",
                         "2019-13-01",
                         "2019-03-13T25:00:00",
                         "2019-03-13 00:00:00",
                         "2019-03-13T00:00:00.12345678",
                         "1969-12-31"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_xero_date_ms(bad[i]) != -1)
            fail_msg("'%s' read as a date", bad[i]);
    char ymd[11];
    assert_true(gw_xero_date_ymd("/Date(1552435200000+0000)/", ymd));
    assert_string_equal(ymd, "2019-03-13");
    assert_true(gw_xero_date_ymd("2019-03-13T00:00:00", ymd));
    assert_string_equal(ymd, "2019-03-13");
    assert_false(gw_xero_date_ymd("soon", ymd));
}

static void test_guids(void **state)
{
    (void)state;
    assert_true(gw_xero_guid_ok("a03ffcd2-5d91-4c7e-b483-318584e9e439"));
    assert_true(gw_xero_guid_ok("A03FFCD2-5D91-4C7E-B483-318584E9E439"));
    assert_false(gw_xero_guid_ok("a03ffcd2-5d91-4c7e-b483-318584e9e43"));
    assert_false(gw_xero_guid_ok("a03ffcd2-5d91-4c7e-b483-318584e9e43g"));
    assert_false(gw_xero_guid_ok("a03ffcd2/5d91-4c7e-b483-318584e9e439"));
    assert_false(gw_xero_guid_ok("../../connections/abcd-4c7e-b483-3185"));
    assert_false(gw_xero_guid_ok(NULL));
}

static void test_amounts(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"a\":1234.5,\"b\":0.1,\"c\":-20,\"d\":\"12\",\"e\":1e15,"
                           "\"f\":99999999999.9999}");
    assert_non_null(o);
    char out[32];
    assert_true(gw_xero_amount(o, "a", out));
    assert_string_equal(out, "1234.5000");
    assert_true(gw_xero_amount(o, "b", out));
    assert_string_equal(out, "0.1000");
    assert_true(gw_xero_amount(o, "c", out));
    assert_string_equal(out, "-20.0000");
    assert_true(gw_xero_amount(o, "f", out));
    assert_string_equal(out, "99999999999.9999");
    assert_false(gw_xero_amount(o, "d", out)); /* a string is not an amount */
    assert_false(gw_xero_amount(o, "e", out)); /* beyond DECIMAL(18,4) */
    assert_false(gw_xero_amount(o, "missing", out));
    cJSON_Delete(o);
}

static void test_refs(void **state)
{
    (void)state;
    char ref[32];
    assert_true(gw_xero_find_ref("CT-000123", ref));
    assert_string_equal(ref, "CT-000123");
    assert_true(gw_xero_find_ref("Boiler repair (ct-000045), site 14", ref));
    assert_string_equal(ref, "CT-000045");
    assert_true(gw_xero_find_ref("Job CT-1234567 and CT-000002", ref));
    assert_string_equal(ref, "CT-1234567");
    const char *none[] = {"",
                          "CT-12345",   /* five digits */
                          "XCT-000123", /* not a word of its own */
                          "CT-000123A", /* runs on into a word */
                          "CT 000123",  /* no dash */
                          "CT-0001234567890123456789"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        if (gw_xero_find_ref(none[i], ref))
            fail_msg("found %s in '%s'", ref, none[i]);
    assert_false(gw_xero_find_ref(NULL, ref));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_guids),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
