/* test_basic_auth.c — HTTP Basic authentication around the RFC 7617 example (the vectors
 * themselves run from tests/vectors/basic-auth/ in test_vectors.c): every refusal, extra
 * spaces, rotation and the "user:pass" secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/verify.h"
#include "verifiers/base64.h"
#include "verifiers/basic_auth.h"

#define CRED   "Aladdin:open sesame"
#define HEADER "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
#define AUTH_H "Authorization"

static const struct gw_secret the_cred[] = {{.data = (char *)CRED, .len = sizeof CRED - 1}};

static enum gw_verify_result run_with(const struct gw_header *items, size_t n,
                                      const struct gw_secret *secrets, size_t n_secrets,
                                      struct gw_verify_detail *d)
{
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = (const unsigned char *)"{}",
                                 .body_len = 2,
                                 .headers = &headers,
                                 .secrets = secrets,
                                 .n_secrets = n_secrets,
                                 .now = 1767225600};
    memset(d, 0x5a, sizeof *d);
    enum gw_verify_result res = gw_verifier_basic_auth.verify(&in, d);
    ts_check_detail(d, res, "open sesame");
    assert_null(strstr(d->note, "QWxhZGRpbjpvcGVuIHNlc2FtZQ"));
    assert_string_equal(d->header, AUTH_H);
    assert_int_equal(d->signed_len, 0);
    assert_int_equal(d->timestamp, 0);
    return res;
}

/* Runs a request whose Authorization is VALUE (NULL: none) against SECRETS. */
static enum gw_verify_result run(const char *value, const struct gw_secret *secrets,
                                 size_t n_secrets, struct gw_verify_detail *d)
{
    struct gw_header items[2] = {{"Content-Type", "application/json"}, {AUTH_H, value}};
    return run_with(items, value != NULL ? 2 : 1, secrets, n_secrets, d);
}

static void expect(const char *value, enum gw_verify_result want)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run(value, the_cred, 1, &d);
    if (got != want)
        fail_msg("Authorization \"%s\": got %s (%s), want %s", value ? value : "(none)",
                 gw_verify_result_name(got), d.note, gw_verify_result_name(want));
}

/* "Basic " + base64 of TEXT[0..LEN). */
static void basic_of(const char *text, size_t len, char *out, size_t out_len)
{
    memcpy(out, "Basic ", 6);
    assert_true(gw_base64_encode((const unsigned char *)text, len, out + 6, out_len - 6, 0) > 0);
}

static void test_rfc7617_accepted(void **state)
{
    (void)state;
    struct gw_verify_detail d;
    assert_int_equal(run(HEADER, the_cred, 1, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    expect("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", GW_VERIFY_OK);
    expect("BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==", GW_VERIFY_OK);
}

static void test_wrong_credentials(void **state)
{
    (void)state;
    const char *const wrong[] = {"Aladdin:open sesamE",
                                 "aladdin:open sesame",
                                 "Aladdin:open sesam",
                                 "Aladdin:open sesame ",
                                 "Aladdin:",
                                 ":open sesame",
                                 "open sesame:Aladdin",
                                 "Aladdin:open sesame:"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        char value[128];
        basic_of(wrong[i], strlen(wrong[i]), value, sizeof value);
        expect(value, GW_VERIFY_NO_SECRET_MATCHED);
    }
    /* One flipped byte anywhere in the credential. */
    char cred[] = CRED;
    for (size_t at = 0; at < sizeof cred - 1; at++) {
        if (cred[at] == ':')
            continue;
        cred[at] ^= 0x01;
        char value[128];
        basic_of(cred, sizeof cred - 1, value, sizeof value);
        expect(value, GW_VERIFY_NO_SECRET_MATCHED);
        cred[at] ^= 0x01;
    }
}

static void test_missing_and_duplicate(void **state)
{
    (void)state;
    expect(NULL, GW_VERIFY_MISSING_HEADER);
    struct gw_header two[] = {{AUTH_H, HEADER}, {"authorization", HEADER}};
    struct gw_verify_detail d;
    assert_int_equal(run_with(two, 2, the_cred, 1, &d), GW_VERIFY_MISSING_HEADER);
    assert_non_null(strstr(d.note, "2 times"));
    assert_int_equal(gw_verifier_basic_auth.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
}

static void test_malformed(void **state)
{
    (void)state;
    char long_value[1200] = "Basic ";
    memset(long_value + 6, 'A', 1096);
    long_value[1102] = '\0';
    char long_cred[800];
    memset(long_cred, 'u', 769);
    long_cred[3] = ':';
    char long_cred_value[1200];
    basic_of(long_cred, 769, long_cred_value, sizeof long_cred_value);
    char nul_cred[64];
    basic_of("Aladdin:open\0sesame", 19, nul_cred, sizeof nul_cred);
    char ctl_cred[64];
    basic_of("Aladdin:open\tsesame", 19, ctl_cred, sizeof ctl_cred);
    const char *const bad[] = {
        "",
        "Basic",
        "Basic ",
        "Basic   ",
        "BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        " Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",        /* leading space */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== ",        /* trailing space */
        "Basic QWxhZGRpbjpvcGVu IHNlc2FtZQ==",        /* space inside */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",           /* no padding */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZR==",         /* non-canonical */
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==,Basic x", /* two credentials */
        "Basic !!!!",
        "Basic QWxhZGRpbg==", /* "Aladdin": no ':' */
        "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Digest username=\"Aladdin\"",
        "Aladdin:open sesame",
        nul_cred,
        ctl_cred,
        long_value,
        long_cred_value,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(bad[i], GW_VERIFY_MALFORMED_HEADER);
}

static void test_extra_spaces_between(void **state)
{
    (void)state;
    /* RFC 7235: the scheme, then one or more spaces. */
    expect("Basic  QWxhZGRpbjpvcGVuIHNlc2FtZQ==", GW_VERIFY_OK);
    expect("Basic     QWxhZGRpbjpvcGVuIHNlc2FtZQ==", GW_VERIFY_OK);
}

static void test_secrets(void **state)
{
    (void)state;
    struct gw_verify_detail d;
    struct gw_secret rotation[3] = {ts_secret("Aladdin:new sesame"), ts_secret("nocolon"),
                                    ts_secret(CRED)};
    assert_int_equal(run(HEADER, rotation, 3, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 2);
    assert_int_equal(run(HEADER, rotation, 2, &d), GW_VERIFY_NO_SECRET_MATCHED);
    assert_non_null(strstr(d.note, "1 configured"));

    /* Unusable: no ':', empty, absent, longer than 768 bytes. */
    char too_long[800];
    memset(too_long, 'p', 769);
    too_long[0] = ':';
    struct gw_secret bad[4] = {
        ts_secret("Aladdin"), ts_secret(""), {NULL, 3}, {.data = too_long, .len = 769}};
    assert_int_equal(run(HEADER, bad, 4, &d), GW_VERIFY_KEY_UNUSABLE);
    assert_int_equal(run(HEADER, NULL, 0, &d), GW_VERIFY_KEY_UNUSABLE);

    /* An empty password and a ':' inside the password work when configured so. */
    struct gw_secret odd[2] = {ts_secret("Aladdin:"), ts_secret("Aladdin:a:b")};
    char value[64];
    basic_of("Aladdin:", 8, value, sizeof value);
    assert_int_equal(run(value, odd, 2, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    basic_of("Aladdin:a:b", 11, value, sizeof value);
    assert_int_equal(run(value, odd, 2, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);

    /* 768 bytes is the longest credential. */
    memset(too_long, 'p', 768);
    too_long[1] = ':';
    struct gw_secret longest = {.data = too_long, .len = 768};
    char long_value[1200];
    basic_of(too_long, 768, long_value, sizeof long_value);
    assert_int_equal(run(long_value, &longest, 1, &d), GW_VERIFY_OK);
    assert_string_equal(gw_verifier_basic_auth.name, "basic-auth");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7617_accepted),      cmocka_unit_test(test_wrong_credentials),
        cmocka_unit_test(test_missing_and_duplicate), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_extra_spaces_between),  cmocka_unit_test(test_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
