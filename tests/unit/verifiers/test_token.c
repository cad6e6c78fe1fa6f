/* test_token.c — bearer tokens and tokens in a configured header, around the RFC 6750
 * example (the vectors themselves run from tests/vectors/token/ in test_vectors.c): every
 * refusal, extra spaces, the header name, rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/verify.h"
#include "verifiers/token.h"

#define TOKEN  "mF_9.B5f-4.1JqM"
#define AUTH_H "Authorization"
#define GOOG_H "X-Goog-Channel-Token"

static const struct gw_secret the_token[] = {{.data = (char *)TOKEN, .len = sizeof TOKEN - 1}};

static enum gw_verify_result run_with(const struct gw_header *items, size_t n,
                                      const char *token_header, const struct gw_secret *secrets,
                                      size_t n_secrets, struct gw_verify_detail *d)
{
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.headers = &headers,
                                 .secrets = secrets,
                                 .n_secrets = n_secrets,
                                 .now = 1767225600,
                                 .token_header = token_header};
    memset(d, 0x5a, sizeof *d);
    enum gw_verify_result res = gw_verifier_token.verify(&in, d);
    ts_check_detail(d, res, TOKEN);
    assert_null(strstr(d->note, "B5f-4"));
    assert_int_equal(d->signed_len, 0);
    assert_int_equal(d->timestamp, 0);
    return res;
}

/* A request whose header NAME (default Authorization) is VALUE (NULL: none). */
static void expect_in(const char *token_header, const char *value, enum gw_verify_result want)
{
    const char *name = token_header != NULL ? token_header : AUTH_H;
    struct gw_header items[2] = {{"Content-Type", "application/json"}, {name, value}};
    struct gw_verify_detail d;
    enum gw_verify_result got =
        run_with(items, value != NULL ? 2 : 1, token_header, the_token, 1, &d);
    if (got != want)
        fail_msg("%s \"%s\": got %s (%s), want %s", name, value ? value : "(none)",
                 gw_verify_result_name(got), d.note, gw_verify_result_name(want));
    if (got != GW_VERIFY_KEY_UNUSABLE)
        assert_string_equal(d.header, name);
}

static void expect(const char *value, enum gw_verify_result want)
{
    expect_in(NULL, value, want);
}

static void test_bearer_accepted(void **state)
{
    (void)state;
    expect("Bearer " TOKEN, GW_VERIFY_OK);
    expect("bearer " TOKEN, GW_VERIFY_OK);
    expect("BEARER " TOKEN, GW_VERIFY_OK);
    /* One or more spaces after the scheme (RFC 6750: "Bearer" 1*SP b64token). */
    expect("Bearer   " TOKEN, GW_VERIFY_OK);
}

static void test_bearer_refused(void **state)
{
    (void)state;
    static const char *const wrong[] = {"Bearer mF_9.B5f-4.1JqN", "Bearer mF_9.B5f-4.1Jq",
                                        "Bearer mF_9.B5f-4.1JqMM", "Bearer MF_9.B5F-4.1JQM",
                                        "Bearer x"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        expect(wrong[i], GW_VERIFY_NO_SECRET_MATCHED);
    char flipped[] = "Bearer " TOKEN;
    for (size_t at = 7; at < sizeof flipped - 1; at++) {
        flipped[at] ^= 0x01;
        expect(flipped, GW_VERIFY_NO_SECRET_MATCHED);
        flipped[at] ^= 0x01;
    }
    char long_value[4200] = "Bearer ";
    memset(long_value + 7, 't', 4097);
    long_value[7 + 4097] = '\0';
    const char *const bad[] = {
        "",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Bearer" TOKEN,
        "Bearer\t" TOKEN,
        " Bearer " TOKEN,    /* leading space */
        "Bearer " TOKEN " ", /* trailing space */
        "Bearer " TOKEN "\t",
        "Bearer mF_9 B5f-4.1JqM", /* space inside */
        "Bearer mF_9.B5f\x01-4.1JqM",
        "Bearer mF_9.B5f-4.1JqM\xc3\xa9",
        "Basic " TOKEN,
        TOKEN,
        long_value,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(bad[i], GW_VERIFY_MALFORMED_HEADER);
    /* 4096 bytes is the longest token. */
    long_value[7 + 4096] = '\0';
    struct gw_secret longest = {.data = long_value + 7, .len = 4096};
    struct gw_header items[1] = {{AUTH_H, long_value}};
    struct gw_verify_detail d;
    assert_int_equal(run_with(items, 1, NULL, &longest, 1, &d), GW_VERIFY_OK);
}

static void test_missing_and_duplicate(void **state)
{
    (void)state;
    expect(NULL, GW_VERIFY_MISSING_HEADER);
    expect_in(GOOG_H, NULL, GW_VERIFY_MISSING_HEADER);
    struct gw_header two[] = {{AUTH_H, "Bearer " TOKEN}, {"AUTHORIZATION", "Bearer " TOKEN}};
    struct gw_verify_detail d;
    assert_int_equal(run_with(two, 2, NULL, the_token, 1, &d), GW_VERIFY_MISSING_HEADER);
    assert_non_null(strstr(d.note, "2 times"));
    struct gw_header goog2[] = {{GOOG_H, TOKEN}, {"x-goog-channel-token", TOKEN}};
    assert_int_equal(run_with(goog2, 2, GOOG_H, the_token, 1, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, GOOG_H);
    assert_int_equal(gw_verifier_token.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, AUTH_H);
}

static void test_configured_header(void **state)
{
    (void)state;
    expect_in(GOOG_H, TOKEN, GW_VERIFY_OK);
    expect_in("x-goog-channel-token", TOKEN, GW_VERIFY_OK);
    /* The whole value is the token: no scheme is taken off. */
    expect_in(GOOG_H, "Bearer " TOKEN, GW_VERIFY_NO_SECRET_MATCHED);
    expect_in(GOOG_H, "mF_9.B5f-4.1JqN", GW_VERIFY_NO_SECRET_MATCHED);
    /* Spaces inside are part of the token; at either end they are refused. */
    expect_in(GOOG_H, "mF_9 B5f-4.1JqM", GW_VERIFY_NO_SECRET_MATCHED);
    expect_in(GOOG_H, " " TOKEN, GW_VERIFY_MALFORMED_HEADER);
    expect_in(GOOG_H, TOKEN " ", GW_VERIFY_MALFORMED_HEADER);
    expect_in(GOOG_H, "", GW_VERIFY_MALFORMED_HEADER);
    expect_in(GOOG_H, "mF_9\tB5f", GW_VERIFY_MALFORMED_HEADER);
    /* Authorization is not looked at when another header is configured. */
    struct gw_header both[] = {{AUTH_H, "Bearer " TOKEN}};
    struct gw_verify_detail d;
    assert_int_equal(run_with(both, 1, GOOG_H, the_token, 1, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, GOOG_H);

    /* A configured name that is no header name makes the key unusable. */
    char long_name[65];
    memset(long_name, 'h', 64);
    long_name[64] = '\0';
    const char *const bad_names[] = {"", "X Token", "X-Token:", "X-T\xc3\xa9", long_name};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        struct gw_header items[] = {{bad_names[i], TOKEN}};
        assert_int_equal(run_with(items, 1, bad_names[i], the_token, 1, &d),
                         GW_VERIFY_KEY_UNUSABLE);
        assert_string_equal(d.header, "");
    }
    long_name[63] = '\0';
    expect_in(long_name, TOKEN, GW_VERIFY_OK);
}

static void test_secrets(void **state)
{
    (void)state;
    struct gw_header items[] = {{AUTH_H, "Bearer " TOKEN}};
    struct gw_verify_detail d;
    struct gw_secret rotation[3] = {ts_secret("mF_9.B5f-4.1JqN"), ts_secret(""), ts_secret(TOKEN)};
    assert_int_equal(run_with(items, 1, NULL, rotation, 3, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 2);
    assert_int_equal(run_with(items, 1, NULL, rotation, 2, &d), GW_VERIFY_NO_SECRET_MATCHED);
    char big[4100];
    memset(big, 'b', sizeof big);
    struct gw_secret unusable[3] = {ts_secret(""), {NULL, 4}, {.data = big, .len = 4097}};
    assert_int_equal(run_with(items, 1, NULL, unusable, 3, &d), GW_VERIFY_KEY_UNUSABLE);
    assert_int_equal(run_with(items, 1, NULL, NULL, 0, &d), GW_VERIFY_KEY_UNUSABLE);
    assert_string_equal(gw_verifier_token.name, "token");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_accepted),
        cmocka_unit_test(test_bearer_refused),
        cmocka_unit_test(test_missing_and_duplicate),
        cmocka_unit_test(test_configured_header),
        cmocka_unit_test(test_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
