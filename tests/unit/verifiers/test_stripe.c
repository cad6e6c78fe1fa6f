/* test_stripe.c — the Stripe verifier around the computed vector of Stripe's signing scheme (the
 * vectors themselves run from tests/vectors/stripe/ in test_vectors.c): the header's grammar
 * (extra spaces, duplicate keys), every refusal, the window edges, rotation, and the signer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/verify.h"
#include "verifiers/hmac.h"
#include "verifiers/stripe.h"

#define SECRET "whsec_ct_test_0123456789abcdef"
#define OTHER  "whsec_ct_test_0123456789abcdeg"
#define T      "1767225600"
#define NOW    ((time_t)1767225600)
#define V1     "76a25b40adc30b228aa90863bf41f83538f167566573be7da9b318753fe54566"
#define BAD    "0000000000000000000000000000000000000000000000000000000000000000"
#define HEADER "t=" T ",v1=" V1
#define BODY                                                                                       \
    "{\"id\":\"evt_1CT0000000000000000000\",\"object\":\"event\",\"type\":\"invoice.payment_"      \
    "failed\"}"
#define SIG_H "Stripe-Signature"

static const struct gw_secret the_secret[] = {{.data = (char *)SECRET, .len = sizeof SECRET - 1}};

struct req {
    const char *sig;
    const unsigned char *body;
    size_t body_len;
    const struct gw_secret *secrets;
    size_t n_secrets;
    uint64_t tolerance_s;
    time_t now;
};

static struct req computed(void)
{
    return (struct req){.sig = HEADER,
                        .body = (const unsigned char *)BODY,
                        .body_len = sizeof BODY - 1,
                        .secrets = the_secret,
                        .n_secrets = 1,
                        .now = NOW};
}

static enum gw_verify_result run_extra(const struct req *r, const struct gw_header *extra,
                                       size_t n_extra, struct gw_verify_detail *d)
{
    struct gw_header items[8];
    size_t n = 0;
    items[n++] = (struct gw_header){"Content-Type", "application/json; charset=utf-8"};
    if (r->sig != NULL)
        items[n++] = (struct gw_header){"stripe-signature", r->sig};
    for (size_t i = 0; i < n_extra; i++)
        items[n++] = extra[i];
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = r->body,
                                 .body_len = r->body_len,
                                 .headers = &headers,
                                 .secrets = r->secrets,
                                 .n_secrets = r->n_secrets,
                                 .tolerance_s = r->tolerance_s,
                                 .now = r->now};
    memset(d, 0x5a, sizeof *d);
    enum gw_verify_result res = gw_verifier_stripe.verify(&in, d);
    ts_check_detail(d, res, "ct_test_0123456789abcde");
    assert_string_equal(d->header, SIG_H);
    return res;
}

static void expect(const struct req *r, enum gw_verify_result want)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run_extra(r, NULL, 0, &d);
    if (got != want)
        fail_msg("Stripe-Signature \"%s\": got %s (%s), want %s", r->sig ? r->sig : "(none)",
                 gw_verify_result_name(got), d.note, gw_verify_result_name(want));
}

static void expect_header(const char *header, enum gw_verify_result want)
{
    struct req r = computed();
    r.sig = header;
    expect(&r, want);
}

static void test_computed_accepted(void **state)
{
    (void)state;
    struct req r = computed();
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.timestamp, 1767225600);
    assert_int_equal(d.signed_len, 10 + 1 + sizeof BODY - 1);
    /* The order of the items does not matter. */
    expect_header("v1=" V1 ",t=" T, GW_VERIFY_OK);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    struct gw_secret other = ts_secret(OTHER);
    struct req r = computed();
    r.secrets = &other;
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_NO_SECRET_MATCHED);
    assert_null(strstr(d.note, "prefix"));
    /* Without its prefix the secret is another key, and the note says what is likely wrong. */
    struct gw_secret bare = ts_secret("ct_test_0123456789abcdef");
    r.secrets = &bare;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_NO_SECRET_MATCHED);
    assert_non_null(strstr(d.note, "secret 0 lacks the whsec_ prefix"));
}

static void test_body_and_signature_flipped(void **state)
{
    (void)state;
    unsigned char body[sizeof BODY - 1];
    for (size_t at = 0; at < sizeof body; at += 7) {
        struct req r = computed();
        memcpy(body, BODY, sizeof body);
        body[at] ^= 0x04;
        r.body = body;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED);
    }
    unsigned char raw[32];
    size_t raw_len = 0;
    assert_true(gw_hex_decode(V1, 64, raw, sizeof raw, &raw_len, 0));
    for (size_t at = 0; at < 32; at++) {
        raw[at] ^= 0x01;
        char header[128] = "t=" T ",v1=";
        assert_int_equal(gw_hex_encode(raw, 32, header + strlen(header), 65), 64);
        raw[at] ^= 0x01;
        expect_header(header, GW_VERIFY_NO_SECRET_MATCHED);
    }
    /* The timestamp is signed. */
    expect_header("t=1767225601,v1=" V1, GW_VERIFY_NO_SECRET_MATCHED);
    expect_header("t=01767225600,v1=" V1, GW_VERIFY_NO_SECRET_MATCHED);
}

static void window_case(uint64_t tolerance, time_t now, enum gw_verify_result want,
                        const char *note)
{
    struct req r = computed();
    r.tolerance_s = tolerance;
    r.now = now;
    struct gw_verify_detail d;
    enum gw_verify_result got = run_extra(&r, NULL, 0, &d);
    if (got != want)
        fail_msg("tolerance %llu now %lld: got %s (%s)", (unsigned long long)tolerance,
                 (long long)now, gw_verify_result_name(got), d.note);
    assert_int_equal(d.timestamp, 1767225600);
    if (note != NULL && strstr(d.note, note) == NULL)
        fail_msg("note \"%s\" does not say \"%s\"", d.note, note);
}

static void test_timestamp_window(void **state)
{
    (void)state;
    window_case(0, NOW + 300, GW_VERIFY_OK, NULL);
    window_case(0, NOW - 300, GW_VERIFY_OK, NULL);
    window_case(0, NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the past");
    window_case(0, NOW - 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the future");
    window_case(300, NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "tolerance 300 s");
    window_case(600, NOW + 600, GW_VERIFY_OK, NULL);
    window_case(600, NOW + 601, GW_VERIFY_TIMESTAMP_OUTSIDE, "601 s in the past");
    window_case(300, (time_t)INT64_MAX, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the past");
    window_case(300, (time_t)INT64_MIN, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the future");
}

static void test_missing_and_duplicate_header(void **state)
{
    (void)state;
    struct req r = computed();
    r.sig = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER);
    struct gw_verify_detail d;
    assert_int_equal(gw_verifier_stripe.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, SIG_H);
    r = computed();
    const struct gw_header dups[] = {{"Stripe-Signature", HEADER}, {"STRIPE-SIGNATURE", "t=1"}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(run_extra(&r, &dups[i], 1, &d), GW_VERIFY_MISSING_HEADER);
        assert_non_null(strstr(d.note, "2 times"));
    }
}

/* Extra spaces anywhere are refused: Stripe sends none, and its own parsers would read
 * " v1" as an unknown key — accepting them here would verify what Stripe's libraries do not. */
static void test_extra_spaces(void **state)
{
    (void)state;
    static const char *const bad[] = {
        " t=" T ",v1=" V1,     "t=" T ",v1=" V1 " ",    "t=" T ", v1=" V1,
        "t=" T " ,v1=" V1,     "t =" T ",v1=" V1,       "t= " T ",v1=" V1,
        "t=" T ",v1 =" V1,     "t=" T ",v1= " V1,       "t=" T ",\tv1=" V1,
        "t=" T ",v1=" V1 "\t", "t=" T ",v1=" V1 "\r\n", "t=" T ", v1=" BAD ",v1=" V1,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_header(bad[i], GW_VERIFY_MALFORMED_HEADER);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    /* Two t: refused, even with the same value — there must be one signed timestamp. */
    expect_header("t=" T ",t=" T ",v1=" V1, GW_VERIFY_MALFORMED_HEADER);
    expect_header("t=1767225599,v1=" V1 ",t=" T, GW_VERIFY_MALFORMED_HEADER);
    /* Several v1: the rule while a secret is rolled; any one matching is enough. */
    expect_header("t=" T ",v1=" BAD ",v1=" V1, GW_VERIFY_OK);
    expect_header("t=" T ",v1=" V1 ",v1=" BAD, GW_VERIFY_OK);
    expect_header("t=" T ",v1=" V1 ",v1=" V1, GW_VERIFY_OK);
    expect_header("t=" T ",v1=" BAD ",v1=" BAD, GW_VERIFY_NO_SECRET_MATCHED);
    /* Other keys repeat freely and are ignored, v0 included. */
    expect_header("t=" T ",v0=" BAD ",v0=" BAD ",v1=" V1 ",v2=x,v2=y,foo=bar", GW_VERIFY_OK);
}

static void test_malformed_header(void **state)
{
    (void)state;
    char long_header[4200];
    snprintf(long_header, sizeof long_header, "t=%s,v1=%s,x=", T, V1);
    size_t at = strlen(long_header);
    memset(long_header + at, 'x', 4097 - at);
    long_header[4097] = '\0';
    const char *const bad[] = {
        "",
        "t=" T,           /* no v1 */
        "v1=" V1,         /* no t */
        "t=" T ",v0=" V1, /* v0 only: never accepted */
        "t=" T ",V1=" V1, /* keys are case-sensitive */
        "T=" T ",v1=" V1,
        "t=" T ",v1="
        "76A25B40ADC30B228AA90863BF41F83538F167566573BE7DA9B318753FE54566",
        "t=" T ",v1="
        "76a25b40adc30b228aa90863bf41f83538f167566573be7da9b318753fe5456",
        "t=" T ",v1=" V1 "0",
        "t=" T ",v1=zz",
        "t=,v1=" V1, /* empty value */
        "t=" T ",v1=",
        "t=" T ",=" V1,    /* empty key */
        "t=" T ",v1",      /* no '=' */
        "t=" T ",,v1=" V1, /* empty item */
        ",t=" T ",v1=" V1,
        "t=" T ",v1=" V1 ",", /* trailing comma */
        "t=" T ";v1=" V1,     /* another separator: one item, t not digits */
        "t=-1767225600,v1=" V1,
        "t=1767225600.5,v1=" V1,
        "t=99999999999999999999,v1=" V1,
        "t=" T ",v1=" V1 ",x=\xc3\xa9", /* not ASCII */
        long_header,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_header(bad[i], GW_VERIFY_MALFORMED_HEADER);
    /* 4096 bytes is the longest header read. */
    long_header[4096] = '\0';
    expect_header(long_header, GW_VERIFY_OK);
    /* A malformed header is reported before the window. */
    struct req r = computed();
    r.sig = "t=" T;
    r.now = 0;
    expect(&r, GW_VERIFY_MALFORMED_HEADER);
}

static void test_item_bounds(void **state)
{
    (void)state;
    /* 32 v1 with the good one last: accepted; 33: refused whatever they hold. */
    char header[4096] = "t=" T;
    for (int i = 0; i < 31; i++)
        strcat(header, ",v1=" BAD);
    strcat(header, ",v1=" V1);
    expect_header(header, GW_VERIFY_OK);
    strcat(header, ",v1=" BAD);
    expect_header(header, GW_VERIFY_MALFORMED_HEADER);
    /* 64 items in all: accepted; 65: refused. */
    char items[1024] = "t=" T ",v1=" V1;
    for (int i = 0; i < 62; i++)
        strcat(items, ",x=1");
    expect_header(items, GW_VERIFY_OK);
    strcat(items, ",x=1");
    expect_header(items, GW_VERIFY_MALFORMED_HEADER);
    /* A damaged v1 next to the good one is skipped, not fatal. */
    expect_header("t=" T ",v1=nothex,v1=" V1, GW_VERIFY_OK);
}

static void test_rotation_and_unusable(void **state)
{
    (void)state;
    struct gw_secret both[3] = {ts_secret(OTHER), {NULL, 0}, ts_secret(SECRET)};
    struct req r = computed();
    r.secrets = both;
    r.n_secrets = 3;
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 2);
    /* Two v1 (one per secret, as while rolling) and two secrets: the first match counts. */
    char header[256];
    char sig_other[GW_STRIPE_SIGNATURE_SIZE];
    struct gw_secret other = ts_secret(OTHER);
    assert_int_equal(gw_stripe_sign(&other, 1767225600, (const unsigned char *)BODY,
                                    sizeof BODY - 1, sig_other, sizeof sig_other),
                     0);
    snprintf(header, sizeof header, "%s,v1=%s", sig_other, V1);
    r.sig = header;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    r.secrets = both + 1;
    r.n_secrets = 1;
    expect(&r, GW_VERIFY_KEY_UNUSABLE);
    r.secrets = NULL;
    r.n_secrets = 0;
    expect(&r, GW_VERIFY_KEY_UNUSABLE);
}

static void test_sign(void **state)
{
    (void)state;
    struct gw_secret s = ts_secret(SECRET);
    char sig[GW_STRIPE_SIGNATURE_SIZE];
    assert_int_equal(gw_stripe_sign(&s, 1767225600, (const unsigned char *)BODY, sizeof BODY - 1,
                                    sig, sizeof sig),
                     0);
    assert_string_equal(sig, HEADER);
    /* The longest timestamp fits the documented size. */
    assert_int_equal(gw_stripe_sign(&s, INT64_MAX, NULL, 0, sig, sizeof sig), 0);
    assert_int_equal(strlen(sig), GW_STRIPE_SIGNATURE_SIZE - 1);
    memset(sig, 'x', sizeof sig);
    assert_int_equal(gw_stripe_sign(&s, INT64_MAX, NULL, 0, sig, sizeof sig - 1), -1);
    assert_string_equal(sig, "");
    assert_int_equal(gw_stripe_sign(&s, -1, NULL, 0, sig, sizeof sig), -1);
    assert_int_equal(gw_stripe_sign(NULL, 1, NULL, 0, sig, sizeof sig), -1);
    assert_string_equal(gw_verifier_stripe.name, "stripe");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_computed_accepted),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_body_and_signature_flipped),
        cmocka_unit_test(test_timestamp_window),
        cmocka_unit_test(test_missing_and_duplicate_header),
        cmocka_unit_test(test_extra_spaces),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_malformed_header),
        cmocka_unit_test(test_item_bounds),
        cmocka_unit_test(test_rotation_and_unusable),
        cmocka_unit_test(test_sign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
