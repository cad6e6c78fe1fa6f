/* test_sendgrid.c — the SendGrid ECDSA verifier against the SDK's official vector
 * (tests/vectors/sendgrid/), and with a P-256 key made here: round trip through
 * gw_sendgrid_sign, a changed byte, a stale timestamp, the headers missing, repeated or
 * malformed, keys that are not P-256, and the two forms of public key SendGrid's is given in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/support/files.h"
#include "tests/support/pki.h"
#include "verifiers/sendgrid.h"

#define VECTOR CTGW_SOURCE_ROOT "/tests/vectors/sendgrid/eventwebhook-sdk.txt"
#define TS_H   GW_SENDGRID_TIMESTAMP_HEADER
#define SIG_H  GW_SENDGRID_SIGNATURE_HEADER

/* The value after "KEY " on its line of the vector file (caller frees). */
static char *vector(const char *key)
{
    char *text = test_read(VECTOR, NULL);
    assert_non_null(text);
    char needle[64];
    snprintf(needle, sizeof needle, "\n%s ", key);
    char *at = strstr(text, needle);
    assert_non_null(at);
    at += strlen(needle);
    char *v = strndup(at, strcspn(at, "\n"));
    free(text);
    assert_non_null(v);
    return v;
}

static enum gw_verify_result check(EVP_PKEY *key, const char *ts, const char *sig, const char *body,
                                   time_t now, struct gw_verify_detail *d)
{
    struct gw_header items[4];
    size_t n = 0;
    if (ts != NULL)
        items[n++] = (struct gw_header){TS_H, ts};
    if (sig != NULL)
        items[n++] = (struct gw_header){SIG_H, sig};
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = (const unsigned char *)body,
                                 .body_len = strlen(body),
                                 .headers = &headers,
                                 .now = now,
                                 .public_key = key};
    return gw_verifier_sendgrid.verify(&in, d);
}

static void test_official_vector(void **state)
{
    (void)state;
    char *pub = vector("public_key"), *ts = vector("timestamp"), *payload = vector("payload");
    char *sig = vector("signature");
    char err[200];
    EVP_PKEY *key = gw_sendgrid_load_public_key(pub, strlen(pub), err, sizeof err);
    if (key == NULL)
        fail_msg("the SDK's key does not load: %s", err);
    time_t now = (time_t)atoll(ts) + 10;
    struct gw_verify_detail d;
    assert_int_equal(check(key, ts, sig, payload, now, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.timestamp, atoll(ts));
    /* One byte of the payload changed, the timestamp moved by one. */
    payload[2] = 'C';
    assert_int_equal(check(key, ts, sig, payload, now, &d), GW_VERIFY_NO_SECRET_MATCHED);
    payload[2] = 'c';
    char later[32];
    snprintf(later, sizeof later, "%lld", atoll(ts) + 1);
    assert_int_equal(check(key, later, sig, payload, now, &d), GW_VERIFY_NO_SECRET_MATCHED);
    /* Right, but outside the window. */
    assert_int_equal(check(key, ts, sig, payload, now + 3600, &d), GW_VERIFY_TIMESTAMP_OUTSIDE);
    assert_string_equal(d.header, TS_H);
    EVP_PKEY_free(key);
    free(pub);
    free(ts);
    free(payload);
    free(sig);
}

static void test_round_trip_and_refusals(void **state)
{
    (void)state;
    EVP_PKEY *priv = pki_key("EC", 0);
    const char *body = "--xYzZY\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nx\r\n"
                       "--xYzZY--\r\n";
    char sig[GW_SENDGRID_SIGNATURE_B64_MAX + 1];
    assert_int_equal(gw_sendgrid_sign(priv, 1767225600, (const unsigned char *)body, strlen(body),
                                      sig, sizeof sig),
                     0);
    struct gw_verify_detail d;
    /* The private key carries its public half. */
    assert_int_equal(check(priv, "1767225600", sig, body, 1767225600, &d), GW_VERIFY_OK);
    /* Missing, repeated, malformed headers. */
    assert_int_equal(check(priv, NULL, sig, body, 1767225600, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, TS_H);
    assert_int_equal(check(priv, "1767225600", NULL, body, 1767225600, &d),
                     GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, SIG_H);
    assert_int_equal(check(priv, "17672256OO", sig, body, 1767225600, &d),
                     GW_VERIFY_MALFORMED_HEADER);
    assert_int_equal(check(priv, "1767225600", "not base64!", body, 1767225600, &d),
                     GW_VERIFY_MALFORMED_HEADER);
    struct gw_header twice[] = {{TS_H, "1767225600"}, {TS_H, "1767225600"}, {SIG_H, sig}};
    struct gw_headers h2 = {twice, 3};
    struct gw_verify_input in = {.body = (const unsigned char *)body,
                                 .body_len = strlen(body),
                                 .headers = &h2,
                                 .now = 1767225600,
                                 .public_key = priv};
    assert_int_equal(gw_verifier_sendgrid.verify(&in, &d), GW_VERIFY_MISSING_HEADER);
    /* No key, another curve's kind of key. */
    assert_int_equal(check(NULL, "1767225600", sig, body, 1767225600, &d), GW_VERIFY_KEY_UNUSABLE);
    EVP_PKEY *ed = pki_key("ED25519", 0);
    assert_int_equal(check(ed, "1767225600", sig, body, 1767225600, &d), GW_VERIFY_KEY_UNUSABLE);
    /* Another P-256 key: does not verify. */
    EVP_PKEY *other = pki_key("EC", 0);
    assert_int_equal(check(other, "1767225600", sig, body, 1767225600, &d),
                     GW_VERIFY_NO_SECRET_MATCHED);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(other);
    EVP_PKEY_free(priv);
}

static void test_key_forms(void **state)
{
    (void)state;
    char err[200];
    char *pub = vector("public_key");
    /* SendGrid's one-line base64, with the line break a file ends with. */
    char line[512];
    snprintf(line, sizeof line, "  %s\n", pub);
    EVP_PKEY *a = gw_sendgrid_load_public_key(line, strlen(line), err, sizeof err);
    assert_non_null(a);
    /* The same as a PEM. */
    char pem[512];
    snprintf(pem, sizeof pem, "-----BEGIN PUBLIC KEY-----\n%.64s\n%s\n-----END PUBLIC KEY-----\n",
             pub, pub + 64);
    EVP_PKEY *b = gw_sendgrid_load_public_key(pem, strlen(pem), err, sizeof err);
    if (b == NULL)
        fail_msg("PEM: %s", err);
    assert_int_equal(EVP_PKEY_eq(a, b), 1);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    /* Not a key; an Ed25519 key. */
    assert_null(gw_sendgrid_load_public_key("bm90IGEga2V5", 12, err, sizeof err));
    assert_non_null(strstr(err, "not a public key"));
    static const char ed[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                             "-----END PUBLIC KEY-----\n";
    assert_null(gw_sendgrid_load_public_key(ed, sizeof ed - 1, err, sizeof err));
    assert_non_null(strstr(err, "not an EC key"));
    assert_null(gw_sendgrid_load_public_key("", 0, err, sizeof err));
    free(pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_vector),
        cmocka_unit_test(test_round_trip_and_refusals),
        cmocka_unit_test(test_key_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
