/* test_xero.c — the Xero verifier around the computed vector of Xero's signing scheme (the
 * vectors themselves run from tests/vectors/xero/ in test_vectors.c): every refusal,
 * rotation, and the signer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/verify.h"
#include "verifiers/base64.h"
#include "verifiers/xero.h"

#define KEY   "CT_TEST_XERO_WEBHOOK_KEY"
#define OTHER "CT_TEST_XERO_WEBHOOK_KEZ"
#define SIG   "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM="
#define BODY                                                                                       \
    "{\"events\":[],\"firstEventSequence\":0,\"lastEventSequence\":0,\"entropy\":"                 \
    "\"S0m3r4Nd0mt3xt\"}"
#define SIG_H "x-xero-signature"

static const struct gw_secret the_key[] = {{.data = (char *)KEY, .len = sizeof KEY - 1}};

struct req {
    const char *sig; /* NULL leaves the header out */
    const unsigned char *body;
    size_t body_len;
    const struct gw_secret *secrets;
    size_t n_secrets;
    time_t now;
};

static struct req computed(void)
{
    return (struct req){.sig = SIG,
                        .body = (const unsigned char *)BODY,
                        .body_len = sizeof BODY - 1,
                        .secrets = the_key,
                        .n_secrets = 1,
                        .now = 1767225600};
}

static enum gw_verify_result run_extra(const struct req *r, const struct gw_header *extra,
                                       size_t n_extra, struct gw_verify_detail *d)
{
    struct gw_header items[8];
    size_t n = 0;
    items[n++] = (struct gw_header){"Content-Type", "application/json"};
    if (r->sig != NULL)
        items[n++] = (struct gw_header){"X-Xero-Signature", r->sig};
    for (size_t i = 0; i < n_extra; i++)
        items[n++] = extra[i];
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = r->body,
                                 .body_len = r->body_len,
                                 .headers = &headers,
                                 .secrets = r->secrets,
                                 .n_secrets = r->n_secrets,
                                 .now = r->now};
    memset(d, 0x5a, sizeof *d);
    enum gw_verify_result res = gw_verifier_xero.verify(&in, d);
    ts_check_detail(d, res, KEY);
    assert_int_equal(d->timestamp, 0); /* no timestamp in this scheme */
    return res;
}

static void expect(const struct req *r, enum gw_verify_result want)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run_extra(r, NULL, 0, &d);
    if (got != want)
        fail_msg("sig=\"%s\": got %s (%s), want %s", r->sig ? r->sig : "(none)",
                 gw_verify_result_name(got), d.note, gw_verify_result_name(want));
    assert_string_equal(d.header, SIG_H);
}

static void test_computed_accepted(void **state)
{
    (void)state;
    struct req r = computed();
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.signed_len, sizeof BODY - 1);
    /* No timestamp: any clock will do. */
    r.now = 0;
    expect(&r, GW_VERIFY_OK);
    r.now = (time_t)INT64_MAX;
    expect(&r, GW_VERIFY_OK);
}

static void test_wrong_key(void **state)
{
    (void)state;
    struct gw_secret other = ts_secret(OTHER);
    struct req r = computed();
    r.secrets = &other;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED);
}

static void test_body_byte_flipped(void **state)
{
    (void)state;
    unsigned char body[sizeof BODY - 1];
    struct req r = computed();
    r.body = body;
    for (size_t at = 0; at < sizeof body; at++) {
        memcpy(body, BODY, sizeof body);
        body[at] ^= 0x20;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED);
    }
    r.body = NULL;
    r.body_len = 0;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED);
    r.body_len = 1;
    expect(&r, GW_VERIFY_MALFORMED_HEADER);
}

static void test_signature_byte_flipped(void **state)
{
    (void)state;
    unsigned char raw[32];
    size_t raw_len = 0;
    assert_true(gw_base64_decode(SIG, 44, raw, sizeof raw, &raw_len, 0));
    for (size_t at = 0; at < 32; at++) {
        raw[at] ^= 0x01;
        char sig[48];
        assert_int_equal(gw_base64_encode(raw, 32, sig, sizeof sig, 0), 44);
        raw[at] ^= 0x01;
        struct req r = computed();
        r.sig = sig;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED);
    }
}

static void test_missing_and_duplicate(void **state)
{
    (void)state;
    struct req r = computed();
    r.sig = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER);
    struct gw_verify_detail d;
    assert_int_equal(gw_verifier_xero.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, SIG_H);
    assert_int_equal(d.secret_index, -1);

    r = computed();
    const struct gw_header dups[] = {{"x-xero-signature", SIG}, {"X-XERO-SIGNATURE", "x"}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(run_extra(&r, &dups[i], 1, &d), GW_VERIFY_MISSING_HEADER);
        assert_non_null(strstr(d.note, "2 times"));
    }
}

static void test_malformed_signature(void **state)
{
    (void)state;
    char long_sig[4096];
    memset(long_sig, 'A', sizeof long_sig - 1);
    long_sig[sizeof long_sig - 1] = '\0';
    const char *const bad[] = {
        "",
        "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM",   /* no padding */
        "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAN=",  /* non-canonical last character */
        "h0cZNpzH6wDm2Gu3L7_4uDO75SslFyjFQpWIZzoTRAM=",  /* URL alphabet */
        "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRA==",  /* 31 bytes */
        "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAMA",  /* 33 bytes */
        " h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM=", /* extra spaces */
        "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM= ",
        "h0cZNpzH6wDm2Gu3L7/4uDO75Ssl FyjFQpWIZzoTRAM=",
        "sha256=h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM=",
        "874719369cc7eb00e6d86bb72fbff8b833bbe52b251728c5429588673a134403", /* the MAC in hex */
        long_sig,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r = computed();
        r.sig = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER);
    }
}

static void test_key_rotation(void **state)
{
    (void)state;
    struct gw_secret keys[3] = {ts_secret(OTHER), ts_secret(""), ts_secret(KEY)};
    struct req r = computed();
    r.secrets = keys;
    r.n_secrets = 3;
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 2);
    r.n_secrets = 2;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_NO_SECRET_MATCHED);
    r.secrets = keys + 1;
    r.n_secrets = 1;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_KEY_UNUSABLE);
    r.secrets = NULL;
    r.n_secrets = 0;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_KEY_UNUSABLE);
}

static void test_sign(void **state)
{
    (void)state;
    struct gw_secret k = ts_secret(KEY);
    char sig[GW_XERO_SIGNATURE_SIZE];
    assert_int_equal(
        gw_xero_sign(&k, (const unsigned char *)BODY, sizeof BODY - 1, sig, sizeof sig), 0);
    assert_string_equal(sig, SIG);
    assert_int_equal(gw_xero_sign(&k, NULL, 0, sig, sizeof sig), 0);
    struct req r = computed();
    r.sig = sig;
    r.body = NULL;
    r.body_len = 0;
    expect(&r, GW_VERIFY_OK);
    memset(sig, 'x', sizeof sig);
    assert_int_equal(gw_xero_sign(&k, NULL, 0, sig, sizeof sig - 1), -1);
    assert_string_equal(sig, "");
    struct gw_secret empty = ts_secret("");
    assert_int_equal(gw_xero_sign(&empty, NULL, 0, sig, sizeof sig), -1);
    assert_int_equal(gw_xero_sign(&k, NULL, 2, sig, sizeof sig), -1);
    assert_string_equal(gw_verifier_xero.name, "xero");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_computed_accepted),     cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_body_byte_flipped),     cmocka_unit_test(test_signature_byte_flipped),
        cmocka_unit_test(test_missing_and_duplicate), cmocka_unit_test(test_malformed_signature),
        cmocka_unit_test(test_key_rotation),          cmocka_unit_test(test_sign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
