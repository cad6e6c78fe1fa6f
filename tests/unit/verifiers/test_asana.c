/* test_asana.c — the Asana verifier around the heartbeat vector of Asana's handshake (the
 * vectors themselves run from tests/vectors/asana/ in test_vectors.c), the handshake helper,
 * every refusal, rotation, and the signer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/verify.h"
#include "verifiers/asana.h"
#include "verifiers/hmac.h"

#define SECRET "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"
#define OTHER  "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e82"
#define SIG    "10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d26433659853"
#define BODY   "{\"events\":[]}"
#define SIG_H  "X-Hook-Signature"

static const struct gw_secret the_secret[] = {{.data = (char *)SECRET, .len = 64}};

struct req {
    const char *sig;
    const unsigned char *body;
    size_t body_len;
    const struct gw_secret *secrets;
    size_t n_secrets;
};

static struct req heartbeat(void)
{
    return (struct req){.sig = SIG,
                        .body = (const unsigned char *)BODY,
                        .body_len = sizeof BODY - 1,
                        .secrets = the_secret,
                        .n_secrets = 1};
}

static enum gw_verify_result run_extra(const struct req *r, const struct gw_header *extra,
                                       size_t n_extra, struct gw_verify_detail *d)
{
    struct gw_header items[8];
    size_t n = 0;
    if (r->sig != NULL)
        items[n++] = (struct gw_header){"x-hook-signature", r->sig};
    for (size_t i = 0; i < n_extra; i++)
        items[n++] = extra[i];
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = r->body,
                                 .body_len = r->body_len,
                                 .headers = &headers,
                                 .secrets = r->secrets,
                                 .n_secrets = r->n_secrets,
                                 .now = 1767225600};
    memset(d, 0x5a, sizeof *d);
    enum gw_verify_result res = gw_verifier_asana.verify(&in, d);
    ts_check_detail(d, res, SECRET);
    assert_int_equal(d->timestamp, 0);
    assert_string_equal(d->header, SIG_H);
    return res;
}

static void expect(const struct req *r, enum gw_verify_result want)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run_extra(r, NULL, 0, &d);
    if (got != want)
        fail_msg("sig=\"%s\": got %s (%s), want %s", r->sig ? r->sig : "(none)",
                 gw_verify_result_name(got), d.note, gw_verify_result_name(want));
}

static void test_heartbeat_accepted(void **state)
{
    (void)state;
    struct req r = heartbeat();
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.signed_len, 13);
}

static void test_refusals(void **state)
{
    (void)state;
    struct gw_secret other = ts_secret(OTHER);
    struct req r = heartbeat();
    r.secrets = &other;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED);

    unsigned char body[sizeof BODY - 1];
    for (size_t at = 0; at < sizeof body; at++) {
        r = heartbeat();
        memcpy(body, BODY, sizeof body);
        body[at] ^= 0x01;
        r.body = body;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED);
    }
    unsigned char raw[32];
    size_t raw_len = 0;
    assert_true(gw_hex_decode(SIG, 64, raw, sizeof raw, &raw_len, 0));
    for (size_t at = 0; at < 32; at++) {
        raw[at] ^= 0x10;
        char sig[65];
        assert_int_equal(gw_hex_encode(raw, 32, sig, sizeof sig), 64);
        raw[at] ^= 0x10;
        r = heartbeat();
        r.sig = sig;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED);
    }
}

static void test_missing_duplicate_malformed(void **state)
{
    (void)state;
    struct req r = heartbeat();
    r.sig = NULL;
    expect(&r, GW_VERIFY_MISSING_HEADER);
    r = heartbeat();
    struct gw_header dup = {"X-Hook-Signature", SIG};
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, &dup, 1, &d), GW_VERIFY_MISSING_HEADER);
    assert_non_null(strstr(d.note, "2 times"));

    static const char *const bad[] = {
        "",
        "10468027B67DF18C739CC4794C6FC2D2806DCAAF2259FC3E1ED9D26433659853",
        "10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d2643365985",
        "10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d264336598530",
        " 10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d26433659853",
        "10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d26433659853 ",
        "sha256=10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d26433659853",
        "EEaAJ7Z98YxznMR5TG/C0oBtyq8iWfw+HtnSZDNlmFM=", /* the right MAC in base64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = heartbeat();
        r.sig = bad[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER);
    }
    r = heartbeat();
    r.body = NULL;
    expect(&r, GW_VERIFY_MALFORMED_HEADER);
}

static void test_handshake(void **state)
{
    (void)state;
    struct gw_header secret_only[] = {{"Content-Type", "application/json"},
                                      {"x-hook-secret", SECRET}};
    struct gw_headers h = {secret_only, 2};
    assert_true(gw_asana_is_handshake(&h));

    /* The verifier refuses it as such, naming it, without verifying anything. */
    struct req r = heartbeat();
    r.sig = NULL;
    r.body = NULL;
    r.body_len = 0;
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, secret_only, 2, &d), GW_VERIFY_MISSING_HEADER);
    assert_non_null(strstr(d.note, "handshake"));

    /* Not a handshake: a signature too (a delivery), the secret twice, empty, or absent. */
    struct gw_header with_sig[] = {{"X-Hook-Secret", SECRET}, {"X-Hook-Signature", SIG}};
    h = (struct gw_headers){with_sig, 2};
    assert_false(gw_asana_is_handshake(&h));
    struct gw_header twice[] = {{"X-Hook-Secret", SECRET}, {"X-HOOK-SECRET", SECRET}};
    h = (struct gw_headers){twice, 2};
    assert_false(gw_asana_is_handshake(&h));
    struct gw_header empty[] = {{"X-Hook-Secret", ""}};
    h = (struct gw_headers){empty, 1};
    assert_false(gw_asana_is_handshake(&h));
    h = (struct gw_headers){secret_only, 1};
    assert_false(gw_asana_is_handshake(&h));
    assert_false(gw_asana_is_handshake(NULL));
}

static void test_rotation_and_unusable(void **state)
{
    (void)state;
    struct gw_secret both[2] = {ts_secret(OTHER), ts_secret(SECRET)};
    struct req r = heartbeat();
    r.secrets = both;
    r.n_secrets = 2;
    struct gw_verify_detail d;
    assert_int_equal(run_extra(&r, NULL, 0, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);
    struct gw_secret none[1] = {ts_secret("")};
    r.secrets = none;
    r.n_secrets = 1;
    expect(&r, GW_VERIFY_KEY_UNUSABLE);
}

static void test_sign(void **state)
{
    (void)state;
    struct gw_secret s = ts_secret(SECRET);
    char sig[GW_ASANA_SIGNATURE_SIZE];
    assert_int_equal(
        gw_asana_sign(&s, (const unsigned char *)BODY, sizeof BODY - 1, sig, sizeof sig), 0);
    assert_string_equal(sig, SIG);
    assert_int_equal(gw_asana_sign(&s, NULL, 0, sig, sizeof sig - 1), -1);
    assert_string_equal(sig, "");
    assert_string_equal(gw_verifier_asana.name, "asana");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heartbeat_accepted),          cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_missing_duplicate_malformed), cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_rotation_and_unusable),       cmocka_unit_test(test_sign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
