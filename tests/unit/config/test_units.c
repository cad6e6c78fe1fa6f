/* test_units.c — the size and duration parsers accept exactly the documented forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/units.h"

struct good {
    const char *text;
    uint64_t value;
};

static void test_size_good(void **state)
{
    static const struct good cases[] = {
        {"0", 0},
        {"1", 1},
        {"1048576", 1048576},
        {"512B", 512},
        {"1KiB", 1024},
        {"512KiB", 512 * 1024},
        {"1MiB", 1024 * 1024},
        {"64MiB", 64ull * 1024 * 1024},
        {"1GiB", 1024ull * 1024 * 1024},
        {"16GiB", 16ull * 1024 * 1024 * 1024},
        {"007KiB", 7 * 1024},
        {"18446744073709551615", UINT64_MAX},
        {"17179869183GiB", 17179869183ull << 30},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        if (gw_parse_size(cases[i].text, &v) != 0)
            fail_msg("'%s' was refused", cases[i].text);
        if (v != cases[i].value)
            fail_msg("'%s' gave %llu", cases[i].text, (unsigned long long)v);
    }
}

static void test_size_bad(void **state)
{
    static const char *const cases[] = {
        "",
        " ",
        "MiB",
        "KiB",
        "B",
        "-1",
        "+1",
        "1.5MiB",
        "1,5MiB",
        "1 MiB",
        " 1MiB",
        "1MiB ",
        "1MB",
        "1mib",
        "1M",
        "1K",
        "1KB",
        "1TiB",
        "10x",
        "1MiBx",
        "1KiB1",
        "0x10",
        "1e3",
        "99999999999999999999",
        "18446744073709551616",
        "17179869184GiB",
        "18014398509481984KiB",
        "1\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        if (gw_parse_size(cases[i], &v) == 0)
            fail_msg("'%s' was accepted as %llu", cases[i], (unsigned long long)v);
        assert_int_equal(v, 12345);
    }
    assert_int_equal(gw_parse_size(NULL, &(uint64_t){0}), -1);
}

static void test_duration_good(void **state)
{
    static const struct good cases[] = {
        {"0ms", 0},
        {"0s", 0},
        {"250ms", 250},
        {"1s", 1000},
        {"2s", 2000},
        {"30s", 30000},
        {"5m", 300000},
        {"1h", 3600000},
        {"1d", 86400000},
        {"1h30m", 5400000},
        {"1d2h3m4s5ms", 86400000 + 2 * 3600000 + 3 * 60000 + 4000 + 5},
        {"90s", 90000},
        {"1m500ms", 60500},
        {"18446744073709551615ms", UINT64_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        if (gw_parse_duration_ms(cases[i].text, &v) != 0)
            fail_msg("'%s' was refused", cases[i].text);
        if (v != cases[i].value)
            fail_msg("'%s' gave %llu", cases[i].text, (unsigned long long)v);
    }
}

static void test_duration_bad(void **state)
{
    static const char *const cases[] = {
        "",
        "5",
        "0",
        "s",
        "ms",
        "-1s",
        "+1s",
        "1.5s",
        "1 s",
        " 1s",
        "1s ",
        "1sec",
        "1S",
        "1H",
        "1w",
        "1y",
        "1us",
        "10x",
        "1h30",
        "30m1h",
        "1s1s",
        "1m1m",
        "1ms1s",
        "1h 30m",
        "99999999999999999999s",
        "18446744073709551616ms",
        "18446744073709552s",
        "213503982334601d",
        "18446744073709551615ms1ms",
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        if (gw_parse_duration_ms(cases[i], &v) == 0)
            fail_msg("'%s' was accepted as %llu", cases[i], (unsigned long long)v);
        assert_int_equal(v, 12345);
    }
    assert_int_equal(gw_parse_duration_ms(NULL, &(uint64_t){0}), -1);
}

static void test_format(void **state)
{
    char buf[64];
    (void)state;

    gw_format_size(1024, buf, sizeof buf);
    assert_string_equal(buf, "1KiB");
    gw_format_size(64ull << 20, buf, sizeof buf);
    assert_string_equal(buf, "64MiB");
    gw_format_size(1ull << 30, buf, sizeof buf);
    assert_string_equal(buf, "1GiB");
    gw_format_size(1500, buf, sizeof buf);
    assert_string_equal(buf, "1500B");
    gw_format_size(0, buf, sizeof buf);
    assert_string_equal(buf, "0B");

    gw_format_duration_ms(0, buf, sizeof buf);
    assert_string_equal(buf, "0ms");
    gw_format_duration_ms(250, buf, sizeof buf);
    assert_string_equal(buf, "250ms");
    gw_format_duration_ms(2000, buf, sizeof buf);
    assert_string_equal(buf, "2s");
    gw_format_duration_ms(5400000, buf, sizeof buf);
    assert_string_equal(buf, "1h30m");
    gw_format_duration_ms(86400000 + 1, buf, sizeof buf);
    assert_string_equal(buf, "1d1ms");

    /* What is printed parses back to the same value. */
    for (uint64_t ms = 1; ms < UINT64_MAX / 3; ms = ms * 3 + 7) {
        uint64_t back = 0;
        gw_format_duration_ms(ms, buf, sizeof buf);
        assert_int_equal(gw_parse_duration_ms(buf, &back), 0);
        assert_int_equal(back, ms);
        gw_format_size(ms, buf, sizeof buf);
        assert_int_equal(gw_parse_size(buf, &back), 0);
        assert_int_equal(back, ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_good),     cmocka_unit_test(test_size_bad),
        cmocka_unit_test(test_duration_good), cmocka_unit_test(test_duration_bad),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
