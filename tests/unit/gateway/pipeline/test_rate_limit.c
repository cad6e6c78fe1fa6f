/* test_rate_limit.c — the token buckets of limits: and the source behind trusted proxies:
 * a burst then the rate, Retry-After, a flood of other addresses that cannot reset a busy
 * source's bucket, and which X-Forwarded-For address is the source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "gateway/pipeline/rate_limit.h"

#define SECOND 1000000000ull

static struct gw_config *config(uint32_t per_source, uint32_t burst)
{
    static char *proxies[] = {"10.0.0.0/8", "127.0.0.1"};
    struct gw_config *cfg = calloc(1, sizeof(*cfg));
    assert_non_null(cfg);
    cfg->limits.per_source = per_source;
    cfg->limits.per_source_burst = burst;
    cfg->listen.trusted_proxies = proxies;
    cfg->listen.n_trusted_proxies = 2;
    return cfg;
}

static void test_burst_then_rate(void **state)
{
    (void)state;
    struct gw_config *cfg = config(1, 2);
    struct gw_rate_limits *rl = gw_rate_limits_create(cfg);
    assert_non_null(rl);
    uint64_t t = 100 * SECOND;
    assert_int_equal(gw_rate_limits_take(rl, "198.51.100.1", 0, t), 0);
    assert_int_equal(gw_rate_limits_take(rl, "198.51.100.1", 0, t), 0);
    assert_int_equal(gw_rate_limits_take(rl, "198.51.100.1", 0, t), 1); /* Retry-After 1 s */
    assert_int_equal(gw_rate_limits_take(rl, "198.51.100.2", 0, t), 0); /* its own bucket */
    assert_int_equal(gw_rate_limits_take(rl, "198.51.100.1", 0, t + SECOND), 0);
    assert_int_equal(gw_rate_limits_take(rl, "198.51.100.1", 0, t + SECOND), 1);
    gw_rate_limits_destroy(rl);
    free(cfg);
}

/* 50,000 other addresses, six times the table, each sending at once while one source is
 * over its rate: that source's bucket is never handed to a newcomer (it would start full). */
static void test_flood_of_addresses_cannot_reset_a_busy_source(void **state)
{
    (void)state;
    struct gw_config *cfg = config(1, 1);
    struct gw_rate_limits *rl = gw_rate_limits_create(cfg);
    assert_non_null(rl);
    uint64_t t = 100 * SECOND;
    assert_int_equal(gw_rate_limits_take(rl, "203.0.113.66", 0, t), 0);
    for (unsigned i = 0; i < 50000; i++) {
        char a[32];
        snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        (void)gw_rate_limits_take(rl, a, 0, t);
        assert_int_not_equal(gw_rate_limits_take(rl, "203.0.113.66", 0, t), 0);
    }
    gw_rate_limits_destroy(rl);
    free(cfg);
}

static void test_source_behind_trusted_proxies(void **state)
{
    (void)state;
    struct gw_config *cfg = config(0, 0);
    struct gw_rate_limits *rl = gw_rate_limits_create(cfg);
    assert_non_null(rl);
    char out[64];
    /* From a proxy: the last address that is not a proxy itself. */
    gw_rate_limits_source(rl, "10.1.2.3", "192.0.2.9, 203.0.113.7, 10.0.0.5", out, sizeof(out));
    assert_string_equal(out, "203.0.113.7");
    /* From anyone else the header is the client's to write: ignored. */
    gw_rate_limits_source(rl, "198.51.100.4", "203.0.113.7", out, sizeof(out));
    assert_string_equal(out, "198.51.100.4");
    /* Nothing that parses: the peer. */
    gw_rate_limits_source(rl, "127.0.0.1", "not-an-address", out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
    gw_rate_limits_source(rl, "127.0.0.1", NULL, out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
    gw_rate_limits_destroy(rl);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_flood_of_addresses_cannot_reset_a_busy_source),
        cmocka_unit_test(test_source_behind_trusted_proxies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
