/* test_standard_webhooks.c — the Standard Webhooks verifier against the official vector
 * (tests/vectors/standard-webhooks/official.txt) and every way a request can be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/vectors.h"
#include "tests/support/verify.h"
#include "verifiers/base64.h"
#include "verifiers/standard_webhooks.h"

#define OFF_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define OFF_KEY64  "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define OFF_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define OFF_TS     "1614265330"
#define OFF_NOW    ((time_t)1614265330)
#define OFF_BODY   "{\"test\": 2432232314}"
#define OFF_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define WRONG_SIG  "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
/* base64 of 24 other bytes: a well-formed secret that is not the official one. */
#define OTHER_SECRET "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"

/* One request: the three header values (NULL leaves the header out), and the rest. */
struct req {
    const char *id;
    const char *ts;
    const char *sig;
    const unsigned char *body;
    size_t body_len;
    const struct gw_secret *secrets;
    size_t n_secrets;
    uint64_t tolerance_s;
    time_t now;
    const char *prefix; /* "webhook" (default) or "svix" */
};

static const struct gw_secret official_secrets[] = {
    {.data = (char *)OFF_SECRET, .len = sizeof OFF_SECRET - 1}};

/* The official request, which the verifier accepts; tests change one thing at a time. */
static struct req official(void)
{
    return (struct req){.id = OFF_ID,
                        .ts = OFF_TS,
                        .sig = OFF_SIG,
                        .body = (const unsigned char *)OFF_BODY,
                        .body_len = sizeof OFF_BODY - 1,
                        .secrets = official_secrets,
                        .n_secrets = 1,
                        .tolerance_s = 300,
                        .now = OFF_NOW,
                        .prefix = "webhook"};
}

/* Headers added after the three of R, e.g. duplicates. */
struct extra {
    const struct gw_header *items;
    size_t n;
};

static enum gw_verify_result run_extra(const struct req *r, struct extra extra,
                                       struct gw_verify_detail *d)
{
    char names[3][32];
    struct gw_header items[16];
    size_t n = 0;
    const char *values[3] = {r->id, r->ts, r->sig};
    const char *suffix[3] = {"id", "timestamp", "signature"};
    items[n++] = (struct gw_header){"content-type", "application/json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(names[i], sizeof names[i], "%s-%s", r->prefix, suffix[i]);
        if (values[i] != NULL)
            items[n++] = (struct gw_header){names[i], values[i]};
    }
    assert_true(extra.n <= sizeof items / sizeof items[0] - n);
    for (size_t i = 0; i < extra.n; i++)
        items[n++] = extra.items[i];
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = r->body,
                                 .body_len = r->body_len,
                                 .headers = &headers,
                                 .secrets = r->secrets,
                                 .n_secrets = r->n_secrets,
                                 .tolerance_s = r->tolerance_s,
                                 .now = r->now};
    memset(d, 0x5a, sizeof *d); /* garbage, to see that every path fills the detail */
    enum gw_verify_result res = gw_verifier_standard_webhooks.verify(&in, d);
    ts_check_detail(d, res, OFF_KEY64);
    assert_null(strstr(d->header, OFF_KEY64));
    return res;
}

static enum gw_verify_result run(const struct req *r, struct gw_verify_detail *d)
{
    return run_extra(r, (struct extra){NULL, 0}, d);
}

/* Runs R and checks the reason and the header the detail names. */
static void expect(const struct req *r, enum gw_verify_result want, const char *header)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run(r, &d);
    if (got != want)
        fail_msg("id=\"%s\" ts=\"%s\" sig=\"%s\": got %s (%s: %s), want %s",
                 r->id ? r->id : "(none)", r->ts ? r->ts : "(none)", r->sig ? r->sig : "(none)",
                 gw_verify_result_name(got), d.header, d.note, gw_verify_result_name(want));
    if (header != NULL)
        assert_string_equal(d.header, header);
}

/* --- the official vector file ------------------------------------------------------------ */

struct vector {
    const char *id, *result, *reason, *secret, *msg_id, *timestamp, *payload, *signature;
};

/* The file's cases so far, and the one at hand. */
struct tally {
    struct vector v;
    size_t n_cases, n_valid;
    bool seen_official;
};

/* Checks the case at hand (a ts_vectors_each callback). */
static void check_vector(void *ud)
{
    struct tally *t = ud;
    const struct vector *v = &t->v;
    if (v->id == NULL || v->result == NULL || v->reason == NULL || v->secret == NULL ||
        v->msg_id == NULL || v->timestamp == NULL || v->payload == NULL || v->signature == NULL)
        fail_msg("case %s: a key is missing", v->id ? v->id : "(no id)");
    bool valid = strcmp(v->result, "valid") == 0;
    if (!valid && strcmp(v->result, "invalid") != 0)
        fail_msg("case %s: result must be valid or invalid", v->id);
    /* The two markers must agree, so a typo in one cannot turn a case around. */
    assert_int_equal(valid, strcmp(v->reason, "ok") == 0);

    char *end = NULL;
    long long ts = strtoll(v->timestamp, &end, 10);
    assert_true(end != v->timestamp && *end == '\0');

    struct gw_secret secret = ts_secret(v->secret);
    struct req r = {.id = v->msg_id,
                    .ts = v->timestamp,
                    .sig = v->signature,
                    .body = (const unsigned char *)v->payload,
                    .body_len = strlen(v->payload),
                    .secrets = &secret,
                    .n_secrets = 1,
                    .tolerance_s = 300,
                    .now = (time_t)ts,
                    .prefix = "webhook"};
    struct gw_verify_detail d;
    enum gw_verify_result got = run(&r, &d);
    if (strcmp(gw_verify_result_name(got), v->reason) != 0)
        fail_msg("case %s: got %s (%s), want %s", v->id, gw_verify_result_name(got), d.note,
                 v->reason);
    assert_int_equal(d.secret_index, valid ? 0 : -1);
    assert_int_equal(d.timestamp, ts);
    assert_int_equal(d.signed_len,
                     strlen(v->msg_id) + 1 + strlen(v->timestamp) + 1 + strlen(v->payload));
    assert_string_equal(d.header, "webhook-signature");

    /* A valid single-entry case must be reproduced byte for byte by the signer. */
    if (valid && strchr(v->signature, ' ') == NULL) {
        char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
        assert_int_equal(gw_standard_webhooks_sign(&secret, v->msg_id, ts,
                                                   (const unsigned char *)v->payload,
                                                   strlen(v->payload), sig, sizeof sig),
                         0);
        assert_string_equal(sig, v->signature);
    }
    t->seen_official |= strcmp(v->id, "official") == 0;
    t->n_cases++;
    if (valid)
        t->n_valid++;
}

static void test_official_vectors(void **state)
{
    (void)state;
    struct tally t = {0};
    const struct ts_vector_key keys[] = {
        {"id", &t.v.id},           {"result", &t.v.result},       {"reason", &t.v.reason},
        {"secret", &t.v.secret},   {"msg_id", &t.v.msg_id},       {"timestamp", &t.v.timestamp},
        {"payload", &t.v.payload}, {"signature", &t.v.signature}, {"comment", NULL}};
    ts_vectors_each(CTGW_SOURCE_ROOT "/tests/vectors/standard-webhooks/official.txt", keys,
                    sizeof keys / sizeof keys[0], check_vector, &t);
    assert_true(t.seen_official);
    assert_int_equal(t.n_cases, 4);
    assert_int_equal(t.n_valid, 2);
}

/* --- refusals, one change from the official request each ------------------------------- */

static void test_official_request_accepted(void **state)
{
    (void)state;
    struct req r = official();
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.signed_len, 28 + 1 + 10 + 1 + 20);
    assert_int_equal(d.timestamp, 1614265330);
    assert_string_equal(d.header, "webhook-signature");
}

static void test_wrong_secret(void **state)
{
    (void)state;
    struct gw_secret other = ts_secret(OTHER_SECRET);
    struct req r = official();
    r.secrets = &other;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
}

static void test_body_byte_flipped(void **state)
{
    (void)state;
    unsigned char body[sizeof OFF_BODY - 1];
    struct req r = official();
    for (size_t at = 0; at < sizeof body; at += sizeof body - 1) { /* first and last byte */
        memcpy(body, OFF_BODY, sizeof body);
        body[at] ^= 0x01;
        r.body = body;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
    }
    /* One byte more or less is another body too. */
    r.body = (const unsigned char *)OFF_BODY;
    r.body_len = sizeof OFF_BODY - 2;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
}

static void test_signature_byte_flipped(void **state)
{
    (void)state;
    unsigned char raw[32];
    size_t raw_len = 0;
    assert_true(gw_base64_decode(OFF_SIG + 3, strlen(OFF_SIG + 3), raw, sizeof raw, &raw_len, 0));
    assert_int_equal(raw_len, 32);
    for (size_t at = 0; at < 32; at += 31) {
        unsigned char flipped[32];
        memcpy(flipped, raw, sizeof flipped);
        flipped[at] ^= 0x80;
        char sig[64] = "v1,";
        assert_int_equal(gw_base64_encode(flipped, 32, sig + 3, sizeof sig - 3, 0), 44);
        struct req r = official();
        r.sig = sig;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
    }
}

static void test_other_id_or_timestamp(void **state)
{
    (void)state;
    /* Both are signed: changing either breaks the signature. */
    struct req r = official();
    r.id = "msg_p5jXN8AQM9LWM0D4loKWxJel";
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
    r = official();
    r.ts = "1614265331";
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
    /* Leading zeros parse, but the signed text is then another one. */
    r = official();
    r.ts = "0001614265330";
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
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
    assert_int_equal(d.timestamp, 1614265330);
    if (note != NULL) {
        assert_string_equal(d.header, "webhook-timestamp");
        if (strstr(d.note, note) == NULL)
            fail_msg("note \"%s\" does not say \"%s\"", d.note, note);
    }
}

static void test_timestamp_window(void **state)
{
    (void)state;
    /* Exactly at the edge is inside, one second more is outside, both directions. */
    window_case(300, OFF_NOW + 300, GW_VERIFY_OK, NULL);
    window_case(300, OFF_NOW - 300, GW_VERIFY_OK, NULL);
    window_case(300, OFF_NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the past");
    window_case(300, OFF_NOW - 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the future");
    /* 0 means the default of 300 s. */
    window_case(0, OFF_NOW + 300, GW_VERIFY_OK, NULL);
    window_case(0, OFF_NOW - 300, GW_VERIFY_OK, NULL);
    window_case(0, OFF_NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "301 s in the past");
    window_case(0, OFF_NOW - 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "301 s in the future");
    /* Another tolerance is honoured as given. */
    window_case(10, OFF_NOW + 10, GW_VERIFY_OK, NULL);
    window_case(10, OFF_NOW + 11, GW_VERIFY_TIMESTAMP_OUTSIDE, "11 s in the past");
    window_case(10, OFF_NOW - 11, GW_VERIFY_TIMESTAMP_OUTSIDE, "11 s in the future");
    /* Far away in either direction, without overflow. */
    window_case(300, (time_t)INT64_MAX, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the past");
    window_case(300, (time_t)INT64_MIN, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the future");
    window_case(300, 0, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 1614265330 s in the future");
}

static void test_timestamp_window_large_values(void **state)
{
    (void)state;
    /* The largest timestamp accepted by the syntax, against a clock far behind it. */
    struct req r = official();
    r.ts = "9223372036854775807";
    r.now = (time_t)INT64_MIN;
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_TIMESTAMP_OUTSIDE);
    assert_string_equal(d.note, "timestamp 18446744073709551615 s in the future, tolerance 300 s");
    assert_int_equal(d.timestamp, INT64_MAX);
}

static void test_missing_each_header(void **state)
{
    (void)state;
    struct req r = official();
    r.id = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, "webhook-id");
    r = official();
    r.ts = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, "webhook-timestamp");
    r = official();
    r.sig = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, "webhook-signature");
    r = official();
    r.id = r.ts = r.sig = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, "webhook-id");

    /* No headers at all, and no input at all. */
    struct gw_verify_detail d;
    struct gw_verify_input in = {0};
    assert_int_equal(gw_verifier_standard_webhooks.verify(&in, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, "webhook-id");
    assert_int_equal(d.secret_index, -1);
    assert_int_equal(d.signed_len, 0);
    assert_int_equal(d.timestamp, 0);
    assert_int_equal(gw_verifier_standard_webhooks.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
}

/* Duplicates are reported as MISSING_HEADER, as verifier.h documents for repeated headers. */
static void test_duplicate_headers(void **state)
{
    (void)state;
    const char *names[3] = {"webhook-id", "webhook-timestamp", "webhook-signature"};
    const char *values[3] = {OFF_ID, OFF_TS, OFF_SIG};
    for (size_t i = 0; i < 3; i++) {
        /* The same value again, under the same name and with other case. */
        char upper[32];
        snprintf(upper, sizeof upper, "%s", names[i]);
        upper[0] = 'W';
        const char *dup_names[2] = {names[i], upper};
        for (size_t k = 0; k < 2; k++) {
            struct gw_header dup = {dup_names[k], values[i]};
            struct req r = official();
            struct gw_verify_detail d;
            assert_int_equal(run_extra(&r, (struct extra){&dup, 1}, &d), GW_VERIFY_MISSING_HEADER);
            assert_string_equal(d.header, names[i]);
            assert_non_null(strstr(d.note, "2 times"));
        }
    }
}

static void test_malformed_timestamp(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "12a",
        "-5",
        "",
        " 1614265330",
        "1614265330 ",
        "+1614265330",
        "1614265330.0",
        "0x10",
        "1e9",
        "16142653300000000000", /* 20 digits */
        "9223372036854775808",  /* 19 digits, above INT64_MAX */
        "9999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r = official();
        r.ts = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "webhook-timestamp");
    }
}

static void test_malformed_id(void **state)
{
    (void)state;
    char long_id[258];
    memset(long_id, 'a', 257);
    long_id[257] = '\0';
    const char *const bad[] = {"",        "msg 1",   " msg",        "msg\t1",
                               "msg\x01", "msg\x7f", "m\xc3\xa9sg", long_id};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r = official();
        r.id = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "webhook-id");
    }
    /* 256 bytes is the longest id, and it verifies once signed. */
    long_id[256] = '\0';
    struct gw_secret s = ts_secret(OFF_SECRET);
    char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    assert_int_equal(gw_standard_webhooks_sign(&s, long_id, 1614265330,
                                               (const unsigned char *)OFF_BODY, sizeof OFF_BODY - 1,
                                               sig, sizeof sig),
                     0);
    struct req r = official();
    r.id = long_id;
    r.sig = sig;
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.signed_len, 256 + 1 + 10 + 1 + 20);
}

static void test_malformed_signature_header(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                                        /* empty */
        "   ",                                                     /* only spaces */
        "v1",                                                      /* no comma */
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",            /* no version */
        "v2,abc",                                                  /* only an unknown version */
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,abc", /* only unknown ones */
        "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",         /* versions are case-sensitive */
        ",g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",           /* empty version */
        "v1,",                                                     /* empty signature */
        "v1,!!!!",                                                 /* not base64 */
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",          /* padding missing */
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",         /* non-canonical last char */
        "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=",         /* URL alphabet */
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1w==",         /* 31 bytes */
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OEA",         /* 33 bytes */
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=,",
        "v1;g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1,g0hM9SsE+OTPJTGt\t/tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* a tab is not a separator */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r = official();
        r.sig = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "webhook-signature");
    }
}

static void test_signature_header_bounds(void **state)
{
    (void)state;
    /* 8 KiB exactly, the good entry at its end: accepted. One byte more: refused. */
    char big[8192 + 2];
    memset(big, ' ', sizeof big);
    size_t sig_len = strlen(OFF_SIG);
    memcpy(big + 8192 - sig_len, OFF_SIG, sig_len);
    big[8192] = '\0';
    struct req r = official();
    r.sig = big;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
    memmove(big + 1, big, 8192);
    big[8193] = '\0';
    assert_int_equal(strlen(big), 8193);
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "webhook-signature");

    /* 32 entries with the good one last: accepted. 33: refused, even though one is good. */
    char many[33 * 8 + 64] = "";
    for (int i = 0; i < 31; i++)
        strcat(many, "v2,abc ");
    strcat(many, OFF_SIG);
    r.sig = many;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
    memmove(many + 7, many, strlen(many) + 1);
    memcpy(many, "v2,abc ", 7);
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "webhook-signature");
}

static void test_any_signature_is_enough(void **state)
{
    (void)state;
    struct req r = official();
    r.sig = WRONG_SIG " " OFF_SIG; /* only the second matches */
    expect(&r, GW_VERIFY_OK, "webhook-signature");
    r.sig = OFF_SIG " " WRONG_SIG;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
    /* Entries of other versions and damaged v1 entries are skipped, not fatal. */
    r.sig = "v2,abc v1a,xyz v1,!!!! v1 nocomma " OFF_SIG;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
    r.sig = "v2,abc " WRONG_SIG;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
}

static void test_extra_spaces(void **state)
{
    (void)state;
    struct req r = official();
    r.sig = "   " WRONG_SIG "     " OFF_SIG "   ";
    expect(&r, GW_VERIFY_OK, "webhook-signature");
    r.sig = " " OFF_SIG;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
}

static void test_key_rotation(void **state)
{
    (void)state;
    struct gw_secret two[2] = {ts_secret(OTHER_SECRET), ts_secret(OFF_SECRET)};
    struct req r = official();
    r.secrets = two;
    r.n_secrets = 2;
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);

    struct gw_secret swapped[2] = {ts_secret(OFF_SECRET), ts_secret(OTHER_SECRET)};
    r.secrets = swapped;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);

    /* An unusable secret before the right one is skipped; the index still counts it. */
    struct gw_secret broken_first[2] = {ts_secret("whsec_!!!"), ts_secret(OFF_SECRET)};
    r.secrets = broken_first;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);

    /* Neither secret matches: no index. */
    struct gw_secret neither[2] = {ts_secret(OTHER_SECRET), ts_secret("whsec_!!!")};
    r.secrets = neither;
    assert_int_equal(run(&r, &d), GW_VERIFY_NO_SECRET_MATCHED);
    assert_int_equal(d.secret_index, -1);
}

static void test_unusable_secrets_only(void **state)
{
    (void)state;
    /* 257 bytes of key (344 characters of base64) is one byte too many. */
    unsigned char key257[257];
    memset(key257, 7, sizeof key257);
    char too_long[6 + GW_BASE64_ENCODED_LEN(257) + 1] = "whsec_";
    assert_true(gw_base64_encode(key257, sizeof key257, too_long + 6, sizeof too_long - 6, 0) > 0);
    struct gw_secret bad[] = {
        ts_secret("whsec_"),                                /* decodes to nothing */
        ts_secret(""),                                      /* empty */
        ts_secret("whsec_!!!!"),                            /* not base64 */
        ts_secret("whsec_A"),                               /* impossible length */
        ts_secret("whsec_ MfKQ9r8G"),                       /* whitespace */
        ts_secret("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), /* another prefix: not base64 */
        {.data = NULL, .len = 0},                           /* absent */
        {.data = (char *)"whsec_MfKQ\0r8G", .len = 14},     /* NUL inside */
        ts_secret(too_long),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r = official();
        r.secrets = &bad[i];
        struct gw_verify_detail d;
        enum gw_verify_result got = run(&r, &d);
        if (got != GW_VERIFY_KEY_UNUSABLE)
            fail_msg("secret %zu: got %s", i, gw_verify_result_name(got));
    }
    struct req r = official();
    r.secrets = bad;
    r.n_secrets = sizeof bad / sizeof bad[0];
    expect(&r, GW_VERIFY_KEY_UNUSABLE, NULL);
    r.secrets = NULL;
    r.n_secrets = 0;
    expect(&r, GW_VERIFY_KEY_UNUSABLE, NULL);

    /* 256 bytes is the longest key, and it works. */
    char longest[6 + GW_BASE64_ENCODED_LEN(256) + 1] = "whsec_";
    assert_true(gw_base64_encode(key257, 256, longest + 6, sizeof longest - 6, 0) > 0);
    struct gw_secret ok = ts_secret(longest);
    char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    assert_int_equal(gw_standard_webhooks_sign(&ok, OFF_ID, 1614265330,
                                               (const unsigned char *)OFF_BODY, sizeof OFF_BODY - 1,
                                               sig, sizeof sig),
                     0);
    r = official();
    r.secrets = &ok;
    r.sig = sig;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
}

static void test_secret_forms(void **state)
{
    (void)state;
    /* Without the whsec_ prefix: the base64 alone is the same key. */
    struct gw_secret raw = ts_secret(OFF_KEY64);
    struct req r = official();
    r.secrets = &raw;
    expect(&r, GW_VERIFY_OK, "webhook-signature");

    /* A 25-byte key needs padding; with and without it is the same key. */
    unsigned char key[25];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 37 + 1);
    char padded[64] = "whsec_";
    assert_int_equal(gw_base64_encode(key, sizeof key, padded + 6, sizeof padded - 6, 0), 36);
    assert_non_null(strstr(padded, "=="));
    char unpadded[64];
    snprintf(unpadded, sizeof unpadded, "%.*s", (int)(strlen(padded) - 2), padded);
    struct gw_secret s_padded = ts_secret(padded);
    struct gw_secret s_unpadded = ts_secret(unpadded);
    char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    assert_int_equal(gw_standard_webhooks_sign(&s_padded, OFF_ID, 1614265330,
                                               (const unsigned char *)OFF_BODY, sizeof OFF_BODY - 1,
                                               sig, sizeof sig),
                     0);
    char sig2[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    assert_int_equal(gw_standard_webhooks_sign(&s_unpadded, OFF_ID, 1614265330,
                                               (const unsigned char *)OFF_BODY, sizeof OFF_BODY - 1,
                                               sig2, sizeof sig2),
                     0);
    assert_string_equal(sig, sig2);
    r = official();
    r.sig = sig;
    r.secrets = &s_unpadded;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
    r.secrets = &s_padded;
    expect(&r, GW_VERIFY_OK, "webhook-signature");
}

static void test_svix_headers(void **state)
{
    (void)state;
    struct req r = official();
    r.prefix = "svix";
    expect(&r, GW_VERIFY_OK, "svix-signature");
    r.sig = WRONG_SIG;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "svix-signature");
    r = official();
    r.prefix = "svix";
    r.ts = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, "svix-timestamp");
    r = official();
    r.prefix = "svix";
    r.ts = "12a";
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "svix-timestamp");

    /* Any webhook-* header present means the webhook-* set is the one read. */
    r = official();
    r.prefix = "svix";
    struct gw_header stray = {"webhook-id", OFF_ID};
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, (struct extra){&stray, 1}, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, "webhook-timestamp");
    /* And svix-* headers next to a complete webhook-* set are ignored. */
    r = official();
    struct gw_header svix_wrong = {"svix-signature", WRONG_SIG};
    assert_int_equal(run_extra(&r, (struct extra){&svix_wrong, 1}, &d), GW_VERIFY_OK);
}

static void test_sign_round_trip(void **state)
{
    (void)state;
    struct gw_secret s = ts_secret(OFF_SECRET);
    static const unsigned char binary[] = {0, 1, 2, '.', 0xff, 0, '\n', 0x80};
    const struct {
        const unsigned char *body;
        size_t len;
    } bodies[] = {{(const unsigned char *)"", 0},
                  {NULL, 0},
                  {binary, sizeof binary},
                  {(const unsigned char *)OFF_BODY, sizeof OFF_BODY - 1}};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
        assert_int_equal(gw_standard_webhooks_sign(&s, "evt_1", 1700000000, bodies[i].body,
                                                   bodies[i].len, sig, sizeof sig),
                         0);
        assert_int_equal(strlen(sig), 47);
        assert_memory_equal(sig, "v1,", 3);
        struct req r = official();
        r.id = "evt_1";
        r.ts = "1700000000";
        r.now = 1700000000;
        r.sig = sig;
        r.body = bodies[i].body;
        r.body_len = bodies[i].len;
        struct gw_verify_detail d;
        assert_int_equal(run(&r, &d), GW_VERIFY_OK);
        assert_int_equal(d.signed_len, 5 + 1 + 10 + 1 + bodies[i].len);
        /* The body is signed up to its last byte, NULs included. */
        if (bodies[i].len > 0) {
            r.body_len--;
            assert_int_equal(run(&r, &d), GW_VERIFY_NO_SECRET_MATCHED);
        }
    }
}

static void test_every_body_byte_counts(void **state)
{
    (void)state;
    /* Bodies of 1..3 bytes, each checked against the same body with its last byte changed:
     * short bodies take no special path. */
    struct gw_secret s = ts_secret(OFF_SECRET);
    unsigned char body[3] = {'x', 'y', 'z'};
    for (size_t len = 1; len <= sizeof body; len++) {
        char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
        assert_int_equal(
            gw_standard_webhooks_sign(&s, OFF_ID, 1614265330, body, len, sig, sizeof sig), 0);
        struct req r = official();
        r.sig = sig;
        r.body = body;
        r.body_len = len;
        expect(&r, GW_VERIFY_OK, "webhook-signature");
        body[len - 1] ^= 0x20;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "webhook-signature");
        body[len - 1] ^= 0x20;
    }
}

static void test_sign_refusals(void **state)
{
    (void)state;
    struct gw_secret s = ts_secret(OFF_SECRET);
    struct gw_secret bad = ts_secret("whsec_!!!");
    const unsigned char *body = (const unsigned char *)OFF_BODY;
    size_t body_len = sizeof OFF_BODY - 1;
    char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    memset(sig, 'x', sizeof sig);
    assert_int_equal(gw_standard_webhooks_sign(&s, OFF_ID, 1614265330, body, body_len, sig,
                                               GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE - 1),
                     -1);
    assert_string_equal(sig, "");
    assert_int_equal(
        gw_standard_webhooks_sign(&bad, OFF_ID, 1614265330, body, body_len, sig, sizeof sig), -1);
    assert_string_equal(sig, "");
    assert_int_equal(
        gw_standard_webhooks_sign(NULL, OFF_ID, 1614265330, body, body_len, sig, sizeof sig), -1);
    assert_int_equal(gw_standard_webhooks_sign(&s, OFF_ID, -1, body, body_len, sig, sizeof sig),
                     -1);
    assert_int_equal(
        gw_standard_webhooks_sign(&s, "a b", 1614265330, body, body_len, sig, sizeof sig), -1);
    assert_int_equal(
        gw_standard_webhooks_sign(&s, NULL, 1614265330, body, body_len, sig, sizeof sig), -1);
    assert_int_equal(gw_standard_webhooks_sign(&s, OFF_ID, 1614265330, NULL, 1, sig, sizeof sig),
                     -1);
    assert_int_equal(gw_standard_webhooks_sign(&s, OFF_ID, 1614265330, body, body_len, NULL, 48),
                     -1);
    /* The exact size is enough. */
    assert_int_equal(gw_standard_webhooks_sign(&s, OFF_ID, 1614265330, body, body_len, sig,
                                               GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE),
                     0);
    assert_string_equal(sig, OFF_SIG);
}

static void test_verifier_name(void **state)
{
    (void)state;
    assert_string_equal(gw_verifier_standard_webhooks.name, "standard-webhooks");
    assert_non_null(gw_verifier_standard_webhooks.verify);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verifier_name),
        cmocka_unit_test(test_official_vectors),
        cmocka_unit_test(test_official_request_accepted),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_body_byte_flipped),
        cmocka_unit_test(test_signature_byte_flipped),
        cmocka_unit_test(test_other_id_or_timestamp),
        cmocka_unit_test(test_timestamp_window),
        cmocka_unit_test(test_timestamp_window_large_values),
        cmocka_unit_test(test_missing_each_header),
        cmocka_unit_test(test_duplicate_headers),
        cmocka_unit_test(test_malformed_timestamp),
        cmocka_unit_test(test_malformed_id),
        cmocka_unit_test(test_malformed_signature_header),
        cmocka_unit_test(test_signature_header_bounds),
        cmocka_unit_test(test_any_signature_is_enough),
        cmocka_unit_test(test_extra_spaces),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_unusable_secrets_only),
        cmocka_unit_test(test_secret_forms),
        cmocka_unit_test(test_svix_headers),
        cmocka_unit_test(test_sign_round_trip),
        cmocka_unit_test(test_every_body_byte_counts),
        cmocka_unit_test(test_sign_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
