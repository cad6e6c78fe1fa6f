/* test_mailgun.c — the Mailgun verifier around the computed vector of Mailgun's signing scheme (the
 * vectors themselves run from tests/vectors/mailgun/ in test_vectors.c): both form encodings,
 * every refusal, the window edges, rotation, and the replay cache (replays, eviction, a full
 * cache, and threads racing with the same tokens). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/net/mailgun_cache.h"
#include "tests/support/verify.h"
#include "verifiers/hmac.h"
#include "verifiers/mailgun.h"

#define KEY        "ct-test-mailgun-signing-key"
#define OTHER      "ct-test-mailgun-signing-kez"
#define TS         "1767225600"
#define NOW        ((time_t)1767225600)
#define TOKEN      "0123456789abcdef0123456789abcdef0123456789abcdef01"
#define SIG        "80a69716e9ec92e9630963577273768f610b43c60b0d855a434f5f0e118c63d5"
#define URLENCODED "application/x-www-form-urlencoded"

static const struct gw_secret the_key[] = {{.data = (char *)KEY, .len = sizeof KEY - 1}};

/* One request: a Content-Type (NULL leaves it out), a body, and the rest. */
struct req {
    const char *content_type;
    const char *body;
    size_t body_len; /* 0: strlen(body) */
    const struct gw_secret *secrets;
    size_t n_secrets;
    uint64_t tolerance_s;
    time_t now;
    struct gw_mailgun_cache *cache;
};

static char body_buf[16384];

/* An urlencoded body of the three fields (NULL leaves one out) plus REST. */
static const char *url_body(const char *ts, const char *token, const char *sig, const char *rest)
{
    body_buf[0] = '\0';
    const char *names[3] = {"timestamp", "token", "signature"};
    const char *values[3] = {ts, token, sig};
    for (size_t i = 0; i < 3; i++) {
        if (values[i] == NULL)
            continue;
        size_t n = strlen(body_buf);
        snprintf(body_buf + n, sizeof body_buf - n, "%s%s=%s", n ? "&" : "", names[i], values[i]);
    }
    if (rest != NULL) {
        size_t n = strlen(body_buf);
        snprintf(body_buf + n, sizeof body_buf - n, "%s%s", n ? "&" : "", rest);
    }
    return body_buf;
}

static struct req computed(void)
{
    return (struct req){.content_type = URLENCODED,
                        .body = url_body(TS, TOKEN, SIG, "recipient=support%40example.com"),
                        .secrets = the_key,
                        .n_secrets = 1,
                        .now = NOW};
}

static enum gw_verify_result run_extra(const struct req *r, const struct gw_header *extra,
                                       size_t n_extra, struct gw_verify_detail *d)
{
    struct gw_header items[8];
    size_t n = 0;
    items[n++] = (struct gw_header){"User-Agent", "mailgun/treq-16.12.0"};
    if (r->content_type != NULL)
        items[n++] = (struct gw_header){"content-type", r->content_type};
    for (size_t i = 0; i < n_extra; i++)
        items[n++] = extra[i];
    struct gw_headers headers = {items, n};
    /* An exact heap copy, so that ASan sees a read past the end of the body. */
    size_t len = r->body_len ? r->body_len : strlen(r->body);
    unsigned char *body = malloc(len ? len : 1);
    assert_non_null(body);
    memcpy(body, r->body, len);
    struct gw_verify_input in = {.body = body,
                                 .body_len = len,
                                 .headers = &headers,
                                 .secrets = r->secrets,
                                 .n_secrets = r->n_secrets,
                                 .tolerance_s = r->tolerance_s,
                                 .now = r->now,
                                 .replay_seen = r->cache != NULL ? gw_mailgun_cache_seen : NULL,
                                 .replay_ctx = r->cache};
    memset(d, 0x5a, sizeof *d);
    enum gw_verify_result res = gw_verifier_mailgun.verify(&in, d);
    free(body);
    ts_check_detail(d, res, KEY);
    return res;
}

static void expect(const struct req *r, enum gw_verify_result want, const char *header)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run_extra(r, NULL, 0, &d);
    if (got != want)
        fail_msg("body \"%.200s\": got %s (%s: %s), want %s", r->body, gw_verify_result_name(got),
                 d.header, d.note, gw_verify_result_name(want));
    if (header != NULL)
        assert_string_equal(d.header, header);
}

static void test_computed_accepted(void **state)
{
    (void)state;
    struct req r = computed();
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.timestamp, 1767225600);
    assert_int_equal(d.signed_len, 10 + 50);
    assert_string_equal(d.header, "signature");
    /* Fields percent-encoded, in another order, among many: the decoded values are signed. */
    r.body = "body-plain=Hi+there%0D%0A&signature=%38%30a69716e9ec92e9630963577273768f610b43c60b0d"
             "855a434f5f0e118c63d5&token=" TOKEN "&subject=x&timestamp=%31%37%36%37225600";
    expect(&r, GW_VERIFY_OK, "signature");
    /* The signature does not cover the message: another body-plain still verifies (TLS and
     * the replay cache protect it). */
    r.body = url_body(TS, TOKEN, SIG, "body-plain=something+else");
    expect(&r, GW_VERIFY_OK, "signature");
}

static void test_multipart(void **state)
{
    (void)state;
    struct req r = computed();
    r.content_type = "multipart/form-data; boundary=------------------------6a2f9c";
    static const char mp[] = "--------------------------6a2f9c\r\n"
                             "Content-Disposition: form-data; name=\"token\"\r\n\r\n" TOKEN "\r\n"
                             "--------------------------6a2f9c\r\n"
                             "Content-Disposition: form-data; name=\"timestamp\"\r\n\r\n" TS "\r\n"
                             "--------------------------6a2f9c\r\n"
                             "Content-Disposition: form-data; name=\"signature\"\r\n\r\n" SIG "\r\n"
                             "--------------------------6a2f9c--\r\n";
    r.body = mp;
    expect(&r, GW_VERIFY_OK, "signature");
    /* Multipart values are raw: a trailing space is part of the value, and refused. */
    static const char spaced[] =
        "--b\r\nContent-Disposition: form-data; name=token\r\n\r\n" TOKEN
        "\r\n--b\r\nContent-Disposition: form-data; name=timestamp\r\n\r\n" TS
        " \r\n--b\r\nContent-Disposition: form-data; name=signature\r\n\r\n" SIG "\r\n--b--";
    r.content_type = "multipart/form-data; boundary=b";
    r.body = spaced;
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "timestamp");
    /* A broken multipart body is refused as a whole, naming Content-Type. */
    r.body = "--b\r\nContent-Disposition: form-data; name=token\r\n\r\n" TOKEN;
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "Content-Type");
}

static void test_wrong_key_and_flips(void **state)
{
    (void)state;
    struct gw_secret other = ts_secret(OTHER);
    struct req r = computed();
    r.secrets = &other;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "signature");

    /* Every byte of the token and of the timestamp is signed. */
    char token[] = TOKEN;
    for (size_t at = 0; at < sizeof token - 1; at++) {
        token[at] = token[at] == 'a' ? 'b' : 'a';
        r = computed();
        r.body = url_body(TS, token, SIG, NULL);
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "signature");
        memcpy(token, TOKEN, sizeof token);
    }
    r = computed();
    r.body = url_body("1767225601", TOKEN, SIG, NULL);
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "signature");
    r.body = url_body("01767225600", TOKEN, SIG, NULL);
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "signature");
    /* Timestamp and token are concatenated without a separator: a digit moved across signs
     * the same (a property of Mailgun's scheme). The window is what refuses it, the timestamp
     * being ten times smaller or larger... */
    r.body = url_body("176722560", "0" TOKEN, SIG, NULL);
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_TIMESTAMP_OUTSIDE);
    r.tolerance_s = UINT64_MAX;
    expect(&r, GW_VERIFY_OK, "signature");
    /* ...and, were the window absurdly wide, the replay cache knows it as the same request. */
    struct gw_mailgun_cache *cache = gw_mailgun_cache_create(4);
    assert_non_null(cache);
    r.cache = cache;
    expect(&r, GW_VERIFY_OK, "signature");
    r.body = url_body(TS, TOKEN, SIG, NULL);
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "token");
    gw_mailgun_cache_destroy(cache);

    unsigned char raw[32];
    size_t raw_len = 0;
    assert_true(gw_hex_decode(SIG, 64, raw, sizeof raw, &raw_len, 0));
    for (size_t at = 0; at < 32; at++) {
        raw[at] ^= 0x02;
        char sig[65];
        assert_int_equal(gw_hex_encode(raw, 32, sig, sizeof sig), 64);
        raw[at] ^= 0x02;
        r = computed();
        r.body = url_body(TS, TOKEN, sig, NULL);
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "signature");
    }
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
    if (note != NULL) {
        assert_string_equal(d.header, "timestamp");
        if (strstr(d.note, note) == NULL)
            fail_msg("note \"%s\" does not say \"%s\"", d.note, note);
    }
}

static void test_timestamp_window(void **state)
{
    (void)state;
    window_case(0, NOW + 300, GW_VERIFY_OK, NULL);
    window_case(0, NOW - 300, GW_VERIFY_OK, NULL);
    window_case(0, NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the past");
    window_case(0, NOW - 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp 301 s in the future");
    window_case(900, NOW + 900, GW_VERIFY_OK, NULL);
    window_case(900, NOW + 901, GW_VERIFY_TIMESTAMP_OUTSIDE, "901 s in the past");
    window_case(900, NOW - 901, GW_VERIFY_TIMESTAMP_OUTSIDE, "901 s in the future");
}

static void test_content_type(void **state)
{
    (void)state;
    struct req r = computed();
    r.content_type = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER, "Content-Type");
    r = computed();
    struct gw_header dup = {"Content-Type", URLENCODED};
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, &dup, 1, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, "Content-Type");
    static const char *const bad[] = {"application/json", "text/plain", "multipart/form-data",
                                      "multipart/mixed; boundary=x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = computed();
        r.content_type = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "Content-Type");
    }
    /* Parameters are fine. */
    r = computed();
    r.content_type = "application/x-www-form-urlencoded; charset=utf-8";
    expect(&r, GW_VERIFY_OK, "signature");
    assert_int_equal(gw_verifier_mailgun.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, "Content-Type");
}

static void test_malformed_body(void **state)
{
    (void)state;
    struct req r = computed();
    static const char *const bad[] = {
        "timestamp=" TS "&token=" TOKEN "&signature=" SIG "&x=%",
        "timestamp=" TS "&token=" TOKEN "&signature=" SIG "&x=%zz",
        "timestamp=" TS "&token=" TOKEN "&signature=" SIG "&x=a b",
        "timestamp=" TS "&token=" TOKEN "&signature=" SIG "&=x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r.body = bad[i];
        struct gw_verify_detail d;
        assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_MALFORMED_HEADER);
        assert_string_equal(d.header, "Content-Type");
        assert_non_null(strstr(d.note, "at byte"));
    }
}

static void test_fields_missing_or_repeated(void **state)
{
    (void)state;
    struct req r = computed();
    r.body = url_body(NULL, TOKEN, SIG, NULL);
    expect(&r, GW_VERIFY_MISSING_HEADER, "timestamp");
    r.body = url_body(TS, NULL, SIG, NULL);
    expect(&r, GW_VERIFY_MISSING_HEADER, "token");
    r.body = url_body(TS, TOKEN, NULL, NULL);
    expect(&r, GW_VERIFY_MISSING_HEADER, "signature");
    r.body = "";
    expect(&r, GW_VERIFY_MISSING_HEADER, "timestamp");
    /* Repeated, even with the same value: no single value to verify. */
    r.body = url_body(TS, TOKEN, SIG, "timestamp=" TS);
    expect(&r, GW_VERIFY_MISSING_HEADER, "timestamp");
    r.body = url_body(TS, TOKEN, SIG, "token=" TOKEN);
    expect(&r, GW_VERIFY_MISSING_HEADER, "token");
    r.body = url_body(TS, TOKEN, SIG, "signature=" SIG);
    expect(&r, GW_VERIFY_MISSING_HEADER, "signature");
    r.body = url_body(TS, TOKEN, SIG, "parent-signature=" SIG "&parent-signature=" SIG);
    expect(&r, GW_VERIFY_MISSING_HEADER, "parent-signature");
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_MISSING_HEADER);
    assert_non_null(strstr(d.note, "form field parent-signature appears 2 times"));
}

static void test_fields_malformed(void **state)
{
    (void)state;
    static const char *const bad_ts[] = {"",
                                         "12a",
                                         "-1767225600",
                                         "+1767225600",
                                         "%201767225600",
                                         "1767225600.0",
                                         "99999999999999999999",
                                         "999999999999999999999999999999"};
    for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++) {
        struct req r = computed();
        r.body = url_body(bad_ts[i], TOKEN, SIG, NULL);
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "timestamp");
    }
    char long_token[GW_MAILGUN_TOKEN_MAX + 2];
    memset(long_token, 't', sizeof long_token - 1);
    long_token[sizeof long_token - 1] = '\0';
    const char *const bad_token[] = {"",          "+" TOKEN, TOKEN "+", "abc%00def",
                                     "abc%7Fdef", "%C3%A9",  long_token};
    for (size_t i = 0; i < sizeof bad_token / sizeof bad_token[0]; i++) {
        struct req r = computed();
        r.body = url_body(TS, bad_token[i], SIG, NULL);
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "token");
    }
    /* 128 bytes is the longest token; signed, it verifies. */
    long_token[GW_MAILGUN_TOKEN_MAX] = '\0';
    struct gw_secret k = ts_secret(KEY);
    char sig[GW_MAILGUN_SIGNATURE_SIZE];
    assert_int_equal(gw_mailgun_sign(&k, 1767225600, long_token, sig, sizeof sig), 0);
    struct req r = computed();
    r.body = url_body(TS, long_token, sig, NULL);
    expect(&r, GW_VERIFY_OK, "signature");

    const char *const bad_sig[] = {
        "",
        "80A69716E9EC92E9630963577273768F610B43C60B0D855A434F5F0E118C63D5",
        "80a69716e9ec92e9630963577273768f610b43c60b0d855a434f5f0e118c63d",
        "80a69716e9ec92e9630963577273768f610b43c60b0d855a434f5f0e118c63d50",
        "+80a69716e9ec92e9630963577273768f610b43c60b0d855a434f5f0e118c63d5",
        "80a69716e9ec92e9630963577273768f610b43c60b0d855a434f5f0e118c63d5+",
        "sha256%3D80a69716e9ec92e9630963577273768f610b43c60b0d855a434f5f0e118c63d5",
    };
    for (size_t i = 0; i < sizeof bad_sig / sizeof bad_sig[0]; i++) {
        r = computed();
        r.body = url_body(TS, TOKEN, bad_sig[i], NULL);
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "signature");
        r.body = url_body(TS, TOKEN, SIG, NULL);
        char rest[512];
        snprintf(rest, sizeof rest, "%s&parent-signature=%s", r.body, bad_sig[i]);
        r.body = rest;
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "parent-signature");
    }
}

static void test_parent_signature(void **state)
{
    (void)state;
    struct req r = computed();
    r.body = url_body(TS, TOKEN, "1111111111111111111111111111111111111111111111111111111111111111",
                      "parent-signature=" SIG);
    expect(&r, GW_VERIFY_OK, "signature");
    r.body = url_body(
        TS, TOKEN, SIG,
        "parent-signature=1111111111111111111111111111111111111111111111111111111111111111");
    expect(&r, GW_VERIFY_OK, "signature");
    r.body = url_body(
        TS, TOKEN, "1111111111111111111111111111111111111111111111111111111111111111",
        "parent-signature=2222222222222222222222222222222222222222222222222222222222222222");
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_NO_SECRET_MATCHED);
    assert_non_null(strstr(d.note, "neither signature nor parent-signature"));
    /* parent-signature does not stand in for a missing signature. */
    r.body = url_body(TS, TOKEN, NULL, "parent-signature=" SIG);
    expect(&r, GW_VERIFY_MISSING_HEADER, "signature");
}

static void test_rotation_and_unusable(void **state)
{
    (void)state;
    struct gw_secret keys[3] = {ts_secret(OTHER), ts_secret(""), ts_secret(KEY)};
    struct req r = computed();
    r.secrets = keys;
    r.n_secrets = 3;
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 2);
    r.secrets = keys + 1;
    r.n_secrets = 1;
    expect(&r, GW_VERIFY_KEY_UNUSABLE, NULL);
    r.secrets = NULL;
    r.n_secrets = 0;
    expect(&r, GW_VERIFY_KEY_UNUSABLE, NULL);
}

static void test_replay_refused(void **state)
{
    (void)state;
    struct gw_mailgun_cache *cache = gw_mailgun_cache_create(0);
    assert_non_null(cache);
    struct req r = computed();
    r.cache = cache;
    expect(&r, GW_VERIFY_OK, "signature");
    assert_int_equal(gw_mailgun_cache_count(cache), 1);

    /* The same request again, a second later: refused as a replay. */
    r.now = NOW + 1;
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_TIMESTAMP_OUTSIDE);
    assert_string_equal(d.header, "token");
    assert_non_null(strstr(d.note, "token already used"));
    assert_int_equal(d.secret_index, -1);
    assert_int_equal(d.timestamp, 1767225600);
    /* Even re-encoded as multipart: it is the token that counts. */
    r.content_type = "multipart/form-data; boundary=b";
    r.body = "--b\r\nContent-Disposition: form-data; name=timestamp\r\n\r\n" TS
             "\r\n--b\r\nContent-Disposition: form-data; name=token\r\n\r\n" TOKEN
             "\r\n--b\r\nContent-Disposition: form-data; name=signature\r\n\r\n" SIG "\r\n--b--";
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "token");

    /* Requests that do not verify never enter the cache: a forged request carrying a fresh
     * token cannot burn it. */
    struct gw_secret k = ts_secret(KEY);
    char sig[GW_MAILGUN_SIGNATURE_SIZE];
    assert_int_equal(gw_mailgun_sign(&k, 1767225600, "fresh-token", sig, sizeof sig), 0);
    r = computed();
    r.cache = cache;
    r.body = url_body(TS, "fresh-token", SIG, NULL);
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "signature");
    r.body = url_body(TS, "fresh-token", sig, NULL);
    r.now = NOW + 301; /* stale: refused before the cache is looked at */
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp");
    assert_int_equal(gw_mailgun_cache_count(cache), 1);
    r.now = NOW;
    expect(&r, GW_VERIFY_OK, "signature");
    assert_int_equal(gw_mailgun_cache_count(cache), 2);
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "token");

    /* Without a cache there is no replay check. */
    r.cache = NULL;
    expect(&r, GW_VERIFY_OK, "signature");
    expect(&r, GW_VERIFY_OK, "signature");
    gw_mailgun_cache_destroy(cache);
}

static void test_cache_eviction_and_full(void **state)
{
    (void)state;
    struct gw_mailgun_cache *cache = gw_mailgun_cache_create(2);
    assert_non_null(cache);
    struct gw_secret k = ts_secret(KEY);
    const char *tokens[4] = {"token-a", "token-b", "token-c", "token-d"};
    char sigs[4][GW_MAILGUN_SIGNATURE_SIZE];
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(gw_mailgun_sign(&k, 1767225600, tokens[i], sigs[i], sizeof sigs[i]), 0);
    struct req r = computed();
    r.cache = cache;
    r.tolerance_s = 300;
    for (size_t i = 0; i < 2; i++) {
        r.body = url_body(TS, tokens[i], sigs[i], NULL);
        expect(&r, GW_VERIFY_OK, "signature");
    }
    /* Full of tokens still inside their window: refused rather than forget one. */
    r.body = url_body(TS, tokens[2], sigs[2], NULL);
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_TIMESTAMP_OUTSIDE);
    assert_string_equal(d.header, "token");
    assert_non_null(strstr(d.note, "replay cache full"));
    assert_int_equal(gw_mailgun_cache_count(cache), 2);
    /* At the window's edge (ts + 300) the old tokens still count... */
    r.now = NOW + 300;
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "token");
    r.body = url_body(TS, tokens[0], sigs[0], NULL);
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "token");

    /* ...one second later they are gone, and so is any way to replay them. */
    char late_sig[GW_MAILGUN_SIGNATURE_SIZE];
    assert_int_equal(gw_mailgun_sign(&k, 1767225901, tokens[3], late_sig, sizeof late_sig), 0);
    r.now = NOW + 301;
    r.body = url_body("1767225901", tokens[3], late_sig, NULL);
    expect(&r, GW_VERIFY_OK, "signature");
    r.body = url_body(TS, tokens[0], sigs[0], NULL);
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "timestamp");
    /* Expired entries are given back lazily, but all of them before the cache says full:
     * two fresh tokens fit, a third does not. */
    assert_true(gw_mailgun_cache_count(cache) <= 2);
    assert_int_equal(gw_mailgun_sign(&k, 1767225901, tokens[2], late_sig, sizeof late_sig), 0);
    r.body = url_body("1767225901", tokens[2], late_sig, NULL);
    expect(&r, GW_VERIFY_OK, "signature");
    assert_int_equal(gw_mailgun_cache_count(cache), 2);
    assert_int_equal(gw_mailgun_sign(&k, 1767225901, tokens[1], late_sig, sizeof late_sig), 0);
    r.body = url_body("1767225901", tokens[1], late_sig, NULL);
    expect(&r, GW_VERIFY_TIMESTAMP_OUTSIDE, "token");
    gw_mailgun_cache_destroy(cache);

    assert_null(gw_mailgun_cache_create(GW_MAILGUN_CACHE_MAX + 1));
    cache = gw_mailgun_cache_create(GW_MAILGUN_CACHE_MAX);
    assert_non_null(cache);
    gw_mailgun_cache_destroy(cache);
    gw_mailgun_cache_destroy(NULL);
    assert_int_equal(gw_mailgun_cache_count(NULL), 0);
}

/* Threads verifying the same requests at once: each token passes exactly once. */
#define RACE_TOKENS  64
#define RACE_THREADS 8

struct race {
    struct gw_mailgun_cache *cache;
    char bodies[RACE_TOKENS][256];
    atomic_int ok;
    atomic_int replayed;
    atomic_int other;
};

static void *race_thread(void *arg)
{
    struct race *race = arg;
    struct gw_header items[] = {{"Content-Type", URLENCODED}};
    struct gw_headers headers = {items, 1};
    for (size_t i = 0; i < RACE_TOKENS; i++) {
        struct gw_verify_input in = {.body = (const unsigned char *)race->bodies[i],
                                     .body_len = strlen(race->bodies[i]),
                                     .headers = &headers,
                                     .secrets = the_key,
                                     .n_secrets = 1,
                                     .now = NOW,
                                     .replay_seen = gw_mailgun_cache_seen,
                                     .replay_ctx = race->cache};
        struct gw_verify_detail d;
        enum gw_verify_result res = gw_verifier_mailgun.verify(&in, &d);
        if (res == GW_VERIFY_OK)
            atomic_fetch_add(&race->ok, 1);
        else if (res == GW_VERIFY_TIMESTAMP_OUTSIDE && strstr(d.note, "already used") != NULL)
            atomic_fetch_add(&race->replayed, 1);
        else
            atomic_fetch_add(&race->other, 1);
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    (void)state;
    struct race *race = calloc(1, sizeof *race);
    assert_non_null(race);
    race->cache = gw_mailgun_cache_create(RACE_TOKENS);
    assert_non_null(race->cache);
    struct gw_secret k = ts_secret(KEY);
    for (size_t i = 0; i < RACE_TOKENS; i++) {
        char token[32];
        snprintf(token, sizeof token, "race-%02zu", i);
        char sig[GW_MAILGUN_SIGNATURE_SIZE];
        assert_int_equal(gw_mailgun_sign(&k, 1767225600, token, sig, sizeof sig), 0);
        snprintf(race->bodies[i], sizeof race->bodies[i], "timestamp=%s&token=%s&signature=%s", TS,
                 token, sig);
    }
    pthread_t threads[RACE_THREADS];
    for (size_t t = 0; t < RACE_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, race_thread, race), 0);
    for (size_t t = 0; t < RACE_THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    assert_int_equal(atomic_load(&race->ok), RACE_TOKENS);
    assert_int_equal(atomic_load(&race->replayed), RACE_TOKENS * (RACE_THREADS - 1));
    assert_int_equal(atomic_load(&race->other), 0);
    assert_int_equal(gw_mailgun_cache_count(race->cache), RACE_TOKENS);
    gw_mailgun_cache_destroy(race->cache);
    free(race);
}

static void test_sign(void **state)
{
    (void)state;
    struct gw_secret k = ts_secret(KEY);
    char sig[GW_MAILGUN_SIGNATURE_SIZE];
    assert_int_equal(gw_mailgun_sign(&k, 1767225600, TOKEN, sig, sizeof sig), 0);
    assert_string_equal(sig, SIG);
    memset(sig, 'x', sizeof sig);
    assert_int_equal(gw_mailgun_sign(&k, 1767225600, TOKEN, sig, sizeof sig - 1), -1);
    assert_string_equal(sig, "");
    assert_int_equal(gw_mailgun_sign(&k, 1767225600, "", sig, sizeof sig), -1);
    assert_int_equal(gw_mailgun_sign(&k, 1767225600, "a b", sig, sizeof sig), -1);
    assert_int_equal(gw_mailgun_sign(&k, 1767225600, NULL, sig, sizeof sig), -1);
    assert_int_equal(gw_mailgun_sign(&k, -1, TOKEN, sig, sizeof sig), -1);
    assert_int_equal(gw_mailgun_sign(NULL, 1, TOKEN, sig, sizeof sig), -1);
    assert_string_equal(gw_verifier_mailgun.name, "mailgun");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_computed_accepted),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_wrong_key_and_flips),
        cmocka_unit_test(test_timestamp_window),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_malformed_body),
        cmocka_unit_test(test_fields_missing_or_repeated),
        cmocka_unit_test(test_fields_malformed),
        cmocka_unit_test(test_parent_signature),
        cmocka_unit_test(test_rotation_and_unusable),
        cmocka_unit_test(test_replay_refused),
        cmocka_unit_test(test_cache_eviction_and_full),
        cmocka_unit_test(test_cache_threads),
        cmocka_unit_test(test_sign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
