/* test_slack.c — the Slack verifier around the official vector (the published vectors
 * themselves run from tests/vectors/slack/ in test_vectors.c): every way a request is
 * refused, the window edges, rotation, and the signer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/verify.h"
#include "verifiers/hmac.h"
#include "verifiers/slack.h"

#define SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define OTHER  "8f742231b10e8888abcd99yyyzzz85a6"
#define TS     "1531420618"
#define NOW    ((time_t)1531420618)
#define SIG    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
#define BODY                                                                                       \
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="         \
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"     \
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"             \
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."               \
    "803a0bc887a14d10d2c447fce8b6703c"
#define TS_H  "X-Slack-Request-Timestamp"
#define SIG_H "X-Slack-Signature"

static const struct gw_secret official_secrets[] = {{.data = (char *)SECRET, .len = 32}};

/* One request: the two header values (NULL leaves the header out), and the rest. */
struct req {
    const char *ts;
    const char *sig;
    const unsigned char *body;
    size_t body_len;
    const struct gw_secret *secrets;
    size_t n_secrets;
    uint64_t tolerance_s;
    time_t now;
};

static struct req official(void)
{
    return (struct req){.ts = TS,
                        .sig = SIG,
                        .body = (const unsigned char *)BODY,
                        .body_len = sizeof BODY - 1,
                        .secrets = official_secrets,
                        .n_secrets = 1,
                        .tolerance_s = 0,
                        .now = NOW};
}

static enum gw_verify_result run_extra(const struct req *r, const struct gw_header *extra,
                                       size_t n_extra, struct gw_verify_detail *d)
{
    struct gw_header items[16];
    size_t n = 0;
    items[n++] = (struct gw_header){"Content-Type", "application/x-www-form-urlencoded"};
    if (r->ts != NULL)
        items[n++] = (struct gw_header){TS_H, r->ts};
    if (r->sig != NULL)
        items[n++] = (struct gw_header){SIG_H, r->sig};
    assert_true(n_extra <= sizeof items / sizeof items[0] - n);
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
    memset(d, 0x5a, sizeof *d); /* garbage, to see that every path fills the detail */
    enum gw_verify_result res = gw_verifier_slack.verify(&in, d);
    ts_check_detail(d, res, SECRET);
    return res;
}

static enum gw_verify_result run(const struct req *r, struct gw_verify_detail *d)
{
    return run_extra(r, NULL, 0, d);
}

static void expect(const struct req *r, enum gw_verify_result want, const char *header)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run(r, &d);
    if (got != want)
        fail_msg("ts=\"%s\" sig=\"%s\": got %s (%s: %s), want %s", r->ts ? r->ts : "(none)",
                 r->sig ? r->sig : "(none)", gw_verify_result_name(got), d.header, d.note,
                 gw_verify_result_name(want));
    if (header != NULL)
        assert_string_equal(d.header, header);
}

static void test_official_accepted(void **state)
{
    (void)state;
    struct req r = official();
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.signed_len, 3 + 10 + 1 + sizeof BODY - 1);
    assert_int_equal(d.timestamp, 1531420618);
    assert_string_equal(d.header, SIG_H);
    assert_string_equal(d.note, "verified with secret 0");
    /* No detail wanted: fine too. */
    struct gw_header items[] = {{TS_H, TS}, {SIG_H, SIG}};
    struct gw_headers headers = {items, 2};
    struct gw_verify_input in = {.body = (const unsigned char *)BODY,
                                 .body_len = sizeof BODY - 1,
                                 .headers = &headers,
                                 .secrets = official_secrets,
                                 .n_secrets = 1,
                                 .now = NOW};
    assert_int_equal(gw_verifier_slack.verify(&in, NULL), GW_VERIFY_OK);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    struct gw_secret other = ts_secret(OTHER);
    struct req r = official();
    r.secrets = &other;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
    /* The secret is its ASCII bytes: the same text in upper case is another key. */
    struct gw_secret upper = ts_secret("8F742231B10E8888ABCD99YYYZZZ85A5");
    r.secrets = &upper;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
}

static void test_body_byte_flipped(void **state)
{
    (void)state;
    unsigned char body[sizeof BODY - 1];
    struct req r = official();
    for (size_t at = 0; at < sizeof body; at += 37) {
        memcpy(body, BODY, sizeof body);
        body[at] ^= 0x01;
        r.body = body;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
    }
    memcpy(body, BODY, sizeof body);
    body[sizeof body - 1] ^= 0x01;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
    /* One byte less is another body too; no body at all as well. */
    r.body = (const unsigned char *)BODY;
    r.body_len = sizeof BODY - 2;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
    r.body = NULL;
    r.body_len = 0;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
    /* A length without bytes is the caller's mistake, refused before anything else. */
    r.body_len = 3;
    expect(&r, GW_VERIFY_MALFORMED_HEADER, NULL);
}

static void test_signature_byte_flipped(void **state)
{
    (void)state;
    unsigned char raw[32];
    size_t raw_len = 0;
    assert_true(gw_hex_decode(SIG + 3, 64, raw, sizeof raw, &raw_len, 0));
    for (size_t at = 0; at < 32; at++) {
        unsigned char flipped[32];
        memcpy(flipped, raw, sizeof flipped);
        flipped[at] ^= 0x80;
        char sig[72] = "v0=";
        assert_int_equal(gw_hex_encode(flipped, 32, sig + 3, sizeof sig - 3), 64);
        struct req r = official();
        r.sig = sig;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
    }
}

static void test_timestamp_is_signed(void **state)
{
    (void)state;
    struct req r = official();
    r.ts = "1531420619";
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
    r.ts = "01531420618"; /* the same number, another signed text */
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
}

static void window_case(uint64_t tolerance, time_t now, enum gw_verify_result want,
                        const char *note)
{
    struct req r = official();
    r.tolerance_s = tolerance;
    r.now = now;
    struct gw_verify_detail d;
    enum gw_verify_result got = run(&r, &d);
    if (got != want)
        fail_msg("tolerance %llu now %lld: got %s (%s)", (unsigned long long)tolerance,
                 (long long)now, gw_verify_result_name(got), d.note);
    assert_int_equal(d.timestamp, 1531420618);
    if (note != NULL) {
        assert_string_equal(d.header, TS_H);
        if (strstr(d.note, note) == NULL)
            fail_msg("note \"%s\" does not say \"%s\"", d.note, note);
    }
}

static void test_timestamp_window(void **state)
{
    (void)state;
    /* Default 300 s: the edge is inside, one second more is outside, both directions. */
    window_case(0, NOW + 300, GW_VERIFY_OK, NULL);
    window_case(0, NOW - 300, GW_VERIFY_OK, NULL);
    window_case(0, NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the past");
    window_case(0, NOW - 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the future");
    window_case(300, NOW + 300, GW_VERIFY_OK, NULL);
    window_case(300, NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "301 s in the past");
    window_case(60, NOW - 60, GW_VERIFY_OK, NULL);
    window_case(60, NOW - 61, GW_VERIFY_TIMESTAMP_OUTSIDE, "61 s in the future, tolerance 60 s");
    window_case(300, (time_t)INT64_MAX, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the past");
    window_case(300, (time_t)INT64_MIN, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the future");
    /* A stale request with a wrong signature is reported as stale: the window comes first. */
    struct req r = official();
    r.now = NOW + 301;
    r.sig = "v0=0000000000000000000000000000000000000000000000000000000000000000";
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, TS_H);
}

static void test_missing_headers(void **state)
{
    (void)state;
    struct req r = official();
    r.ts = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, TS_H);
    r = official();
    r.sig = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, SIG_H);
    r.ts = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, TS_H);

    struct gw_verify_detail d;
    struct gw_verify_input in = {0};
    assert_int_equal(gw_verifier_slack.verify(&in, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, TS_H);
    assert_int_equal(d.secret_index, -1);
    assert_int_equal(d.signed_len, 0);
    assert_int_equal(d.timestamp, 0);
    assert_int_equal(gw_verifier_slack.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
}

static void test_duplicate_headers(void **state)
{
    (void)state;
    const char *names[2][2] = {{TS_H, "x-slack-request-timestamp"}, {SIG_H, "X-SLACK-SIGNATURE"}};
    const char *values[2] = {TS, SIG};
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < 2; k++) {
            /* The same value again (a proxy adding a copy) is still refused. */
            struct gw_header dup = {names[i][k], values[i]};
            struct req r = official();
            struct gw_verify_detail d;
            assert_int_equal(run_extra(&r, &dup, 1, &d), GW_VERIFY_MISSING_HEADER);
            assert_string_equal(d.header, names[i][0]);
            assert_non_null(strstr(d.note, "2 times"));
        }
}

static void test_malformed_timestamp(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "12a",
                                      "-1531420618",
                                      "+1531420618",
                                      " 1531420618",
                                      "1531420618 ",
                                      "1531420618.0",
                                      "1.5e9",
                                      "0x5b4781ca",
                                      "92233720368547758070",
                                      "9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r = official();
        r.ts = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, TS_H);
    }
}

static void test_malformed_signature(void **state)
{
    (void)state;
    char long_sig[8200];
    memset(long_sig, 'a', sizeof long_sig - 1);
    memcpy(long_sig, "v0=", 3);
    long_sig[sizeof long_sig - 1] = '\0';
    const char *const bad[] = {
        "",
        "v0=",
        "v0",
        "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",     /* no version */
        "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",  /* only v0 */
        "V0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",  /* case */
        "v0:a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",  /* separator */
        "v0=A2114D57B48EAC39B9AD189DD8316235A7B4A8D21A10BD27519666489C69B503",  /* upper hex */
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50",   /* 63 digits */
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5030", /* 65 */
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5g3",  /* not hex */
        /* extra spaces, anywhere: Slack sends none, so none is taken out */
        " v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503 ",
        "v0= a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "v0 =a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a1 bd27519666489c69b503",
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503\t",
        /* two signatures in one header: Slack sends one */
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503,"
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        long_sig,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r = official();
        r.sig = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, SIG_H);
    }
    /* A malformed signature is reported before the window. */
    struct req r = official();
    r.sig = "v1=abc";
    r.now = 0;
    expect(&r, GW_VERIFY_MALFORMED_HEADER, SIG_H);
}

static void test_key_rotation(void **state)
{
    (void)state;
    struct gw_secret two[2] = {ts_secret(OTHER), ts_secret(SECRET)};
    struct req r = official();
    r.secrets = two;
    r.n_secrets = 2;
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);
    assert_string_equal(d.note, "verified with secret 1");

    struct gw_secret swapped[2] = {ts_secret(SECRET), ts_secret(OTHER)};
    r.secrets = swapped;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);

    /* Unusable secrets before the right one are skipped; the index still counts them. */
    struct gw_secret broken_first[3] = {ts_secret(""), {NULL, 5}, ts_secret(SECRET)};
    r.secrets = broken_first;
    r.n_secrets = 3;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 2);

    struct gw_secret neither[2] = {ts_secret(OTHER), ts_secret("")};
    r.secrets = neither;
    r.n_secrets = 2;
    assert_int_equal(run(&r, &d), GW_VERIFY_NO_SECRET_MATCHED);
    assert_non_null(strstr(d.note, "1 usable"));
}

static void test_unusable_secrets_only(void **state)
{
    (void)state;
    struct gw_secret bad[] = {ts_secret(""), {NULL, 0}, {NULL, 32}};
    struct req r = official();
    r.secrets = bad;
    r.n_secrets = 3;
    expect(&r, GW_VERIFY_KEY_UNUSABLE, NULL);
    r.secrets = NULL;
    r.n_secrets = 0;
    expect(&r, GW_VERIFY_KEY_UNUSABLE, NULL);
    /* The header checks still come first. */
    r.sig = "nope";
    expect(&r, GW_VERIFY_MALFORMED_HEADER, SIG_H);
}

static void test_sign(void **state)
{
    (void)state;
    struct gw_secret s = ts_secret(SECRET);
    char sig[GW_SLACK_SIGNATURE_SIZE];
    /* The signer reproduces the published vector. */
    assert_int_equal(gw_slack_sign(&s, 1531420618, (const unsigned char *)BODY, sizeof BODY - 1,
                                   sig, sizeof sig),
                     0);
    assert_string_equal(sig, SIG);
    /* Round trips on other bodies, the empty one included. */
    static const unsigned char binary[] = {0, 1, 2, ':', 0xff, 0, '\n'};
    const struct {
        const unsigned char *body;
        size_t len;
    } bodies[] = {{NULL, 0}, {(const unsigned char *)"", 0}, {binary, sizeof binary}};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal(
            gw_slack_sign(&s, 1700000000, bodies[i].body, bodies[i].len, sig, sizeof sig), 0);
        struct req r = official();
        r.ts = "1700000000";
        r.now = 1700000000;
        r.sig = sig;
        r.body = bodies[i].body;
        r.body_len = bodies[i].len;
        expect(&r, GW_VERIFY_OK, SIG_H);
        if (bodies[i].len > 0) {
            r.body_len--;
            expect(&r, GW_VERIFY_NO_SECRET_MATCHED, SIG_H);
        }
    }
    /* Refusals leave the output empty. */
    struct gw_secret empty = ts_secret("");
    memset(sig, 'x', sizeof sig);
    assert_int_equal(gw_slack_sign(&s, 1, NULL, 0, sig, GW_SLACK_SIGNATURE_SIZE - 1), -1);
    assert_string_equal(sig, "");
    assert_int_equal(gw_slack_sign(&empty, 1, NULL, 0, sig, sizeof sig), -1);
    assert_int_equal(gw_slack_sign(NULL, 1, NULL, 0, sig, sizeof sig), -1);
    assert_int_equal(gw_slack_sign(&s, -1, NULL, 0, sig, sizeof sig), -1);
    assert_int_equal(gw_slack_sign(&s, 1, NULL, 1, sig, sizeof sig), -1);
    assert_int_equal(gw_slack_sign(&s, 1, NULL, 0, NULL, sizeof sig), -1);
    assert_string_equal(sig, "");
}

static void test_name(void **state)
{
    (void)state;
    assert_string_equal(gw_verifier_slack.name, "slack");
    assert_non_null(gw_verifier_slack.verify);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_official_accepted),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_body_byte_flipped),
        cmocka_unit_test(test_signature_byte_flipped),
        cmocka_unit_test(test_timestamp_is_signed),
        cmocka_unit_test(test_timestamp_window),
        cmocka_unit_test(test_missing_headers),
        cmocka_unit_test(test_duplicate_headers),
        cmocka_unit_test(test_malformed_timestamp),
        cmocka_unit_test(test_malformed_signature),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_unusable_secrets_only),
        cmocka_unit_test(test_sign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
