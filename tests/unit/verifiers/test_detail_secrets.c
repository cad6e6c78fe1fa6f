/* test_detail_secrets.c — no verifier writes secret bytes into struct gw_verify_detail, on
 * any path: each is run through every reason it has with one recognisable secret, including
 * requests that carry the secret itself in the very header or field being judged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/net/mailgun_cache.h"
#include "tests/support/verify.h"
#include "verifiers/asana.h"
#include "verifiers/base64.h"
#include "verifiers/basic_auth.h"
#include "verifiers/mailgun.h"
#include "verifiers/slack.h"
#include "verifiers/standard_webhooks.h"
#include "verifiers/stripe.h"
#include "verifiers/token.h"
#include "verifiers/xero.h"

/* Recognisable, and long enough that no 8-byte piece of it turns up in a note by chance. */
#define S      "Zq7-Kestrel-Quokka-Marmot-42xY"
#define WINDOW 8
#define NOW    ((time_t)1767225600)
#define NOW_S  "1767225600"
#define BODY   "{\"events\":[]}"

/* Forms of the secret that must not appear: the text, and what some schemes derive from it. */
static const char *forms[4];
static size_t n_forms;

static void add_form(const char *form)
{
    assert_true(n_forms < sizeof forms / sizeof forms[0]);
    forms[n_forms++] = form;
}

/* The reasons one verifier was seen to give, so the battery provably reaches each path. */
static unsigned seen;

static void check(const struct gw_verifier *v, const struct gw_header *items, size_t n,
                  const char *body, size_t body_len, const struct gw_secret *secrets,
                  size_t n_secrets, time_t now, void *cache)
{
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = (const unsigned char *)body,
                                 .body_len = body_len,
                                 .headers = &headers,
                                 .secrets = secrets,
                                 .n_secrets = n_secrets,
                                 .now = now,
                                 .replay_seen = cache != NULL ? gw_mailgun_cache_seen : NULL,
                                 .replay_ctx = cache};
    struct gw_verify_detail d;
    memset(&d, 0, sizeof d);
    enum gw_verify_result r = v->verify(&in, &d);
    seen |= 1u << r;
    /* The whole structure, not only the strings: nothing secret anywhere in it. */
    for (size_t f = 0; f < n_forms; f++) {
        size_t len = strlen(forms[f]);
        for (size_t at = 0; at + WINDOW <= len; at++)
            if (memmem(&d, sizeof d, forms[f] + at, WINDOW) != NULL)
                fail_msg("%s (%s): detail holds \"%.*s\" of a secret: header \"%s\" note \"%s\"",
                         v->name, gw_verify_result_name(r), WINDOW, forms[f] + at, d.header,
                         d.note);
    }
}

static void check_body(const struct gw_verifier *v, const struct gw_header *items, size_t n,
                       const char *body, const struct gw_secret *secrets, size_t n_secrets)
{
    check(v, items, n, body, strlen(body), secrets, n_secrets, NOW, NULL);
}

static void expect_all_reasons(const char *name, bool with_window)
{
    unsigned want = 1u << GW_VERIFY_OK | 1u << GW_VERIFY_MISSING_HEADER |
                    1u << GW_VERIFY_MALFORMED_HEADER | 1u << GW_VERIFY_NO_SECRET_MATCHED |
                    1u << GW_VERIFY_KEY_UNUSABLE;
    if (with_window)
        want |= 1u << GW_VERIFY_TIMESTAMP_OUTSIDE;
    if ((seen & want) != want)
        fail_msg("%s: reasons seen 0x%x, want 0x%x", name, seen, want);
}

static void reset(void)
{
    n_forms = 0;
    seen = 0;
    add_form(S);
}

static void test_slack(void **state)
{
    (void)state;
    reset();
    struct gw_secret s = ts_secret(S);
    struct gw_secret empty = ts_secret("");
    char sig[GW_SLACK_SIGNATURE_SIZE];
    assert_int_equal(
        gw_slack_sign(&s, NOW, (const unsigned char *)BODY, sizeof BODY - 1, sig, sizeof sig), 0);
    const char *const ts_values[] = {NOW_S, "1767225000", S};
    const char *const sig_values[] = {
        sig, "v0=" S, S, "v0=0000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t t = 0; t < 3; t++)
        for (size_t g = 0; g < 4; g++) {
            struct gw_header h[] = {{"X-Slack-Request-Timestamp", ts_values[t]},
                                    {"X-Slack-Signature", sig_values[g]}};
            check_body(&gw_verifier_slack, h, 2, BODY, &s, 1);
            check_body(&gw_verifier_slack, h, 2, BODY, &empty, 1);
            check_body(&gw_verifier_slack, h, 1, BODY, &s, 1);
            check_body(&gw_verifier_slack, h + 1, 1, S, &s, 1);
        }
    expect_all_reasons("slack", true);
}

static void test_xero_asana(void **state)
{
    (void)state;
    struct gw_secret s = ts_secret(S);
    struct gw_secret empty = ts_secret("");
    char b64_secret[64];
    assert_true(gw_base64_encode((const unsigned char *)S, sizeof S - 1, b64_secret,
                                 sizeof b64_secret, 0) > 0);

    reset();
    add_form(b64_secret);
    char xsig[GW_XERO_SIGNATURE_SIZE];
    assert_int_equal(
        gw_xero_sign(&s, (const unsigned char *)BODY, sizeof BODY - 1, xsig, sizeof xsig), 0);
    const char *const xvalues[] = {xsig, S, b64_secret,
                                   "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM="};
    for (size_t i = 0; i < 4; i++) {
        struct gw_header h[] = {{"x-xero-signature", xvalues[i]}, {"X-Other", S}};
        check_body(&gw_verifier_xero, h, 2, BODY, &s, 1);
        check_body(&gw_verifier_xero, h, 2, BODY, &empty, 1);
        check_body(&gw_verifier_xero, h + 1, 1, BODY, &s, 1);
    }
    expect_all_reasons("xero", false);

    reset();
    char asig[GW_ASANA_SIGNATURE_SIZE];
    assert_int_equal(
        gw_asana_sign(&s, (const unsigned char *)BODY, sizeof BODY - 1, asig, sizeof asig), 0);
    const char *const avalues[] = {
        asig, S, "10468027b67df18c739cc4794c6fc2d2806dcaaf2259fc3e1ed9d26433659853"};
    for (size_t i = 0; i < 3; i++) {
        struct gw_header h[] = {{"X-Hook-Signature", avalues[i]}, {"X-Hook-Secret", S}};
        check_body(&gw_verifier_asana, h, 2, BODY, &s, 1);
        check_body(&gw_verifier_asana, h, 2, BODY, &empty, 1);
        check_body(&gw_verifier_asana, h + 1, 1, BODY, &s, 1); /* the handshake */
    }
    expect_all_reasons("asana", false);
}

static void test_stripe(void **state)
{
    (void)state;
    reset();
    struct gw_secret s = ts_secret("whsec_" S);
    struct gw_secret bare = ts_secret(S); /* the "lacks the whsec_ prefix" note */
    struct gw_secret empty = ts_secret("");
    char sig[GW_STRIPE_SIGNATURE_SIZE];
    assert_int_equal(
        gw_stripe_sign(&s, NOW, (const unsigned char *)BODY, sizeof BODY - 1, sig, sizeof sig), 0);
    char stale[GW_STRIPE_SIGNATURE_SIZE];
    assert_int_equal(gw_stripe_sign(&s, NOW - 1000, (const unsigned char *)BODY, sizeof BODY - 1,
                                    stale, sizeof stale),
                     0);
    const char *const values[] = {
        sig, stale, "t=" NOW_S ",v1=" S, "t=" S ",v1=" S, "t=" NOW_S ",v1=" S ",x=" S, S};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct gw_header h[] = {{"Stripe-Signature", values[i]}};
        check_body(&gw_verifier_stripe, h, 1, BODY, &s, 1);
        check_body(&gw_verifier_stripe, h, 1, BODY, &bare, 1);
        check_body(&gw_verifier_stripe, h, 1, BODY, &empty, 1);
        check_body(&gw_verifier_stripe, h, 0, BODY, &s, 1);
    }
    expect_all_reasons("stripe", true);
}

static void test_mailgun(void **state)
{
    (void)state;
    reset();
    struct gw_secret s = ts_secret(S);
    struct gw_secret empty = ts_secret("");
    char sig[GW_MAILGUN_SIGNATURE_SIZE];
    assert_int_equal(gw_mailgun_sign(&s, NOW, "token-1", sig, sizeof sig), 0);
    struct gw_mailgun_cache *cache = gw_mailgun_cache_create(4);
    assert_non_null(cache);
    char bodies[8][256];
    snprintf(bodies[0], sizeof bodies[0], "timestamp=%s&token=token-1&signature=%s", NOW_S, sig);
    snprintf(bodies[1], sizeof bodies[1], "timestamp=%s&token=%s&signature=%s", NOW_S, S, sig);
    snprintf(bodies[2], sizeof bodies[2], "timestamp=%s&token=token-1&signature=%s", NOW_S, S);
    snprintf(bodies[3], sizeof bodies[3], "timestamp=%s&token=token-1&signature=%s", S, sig);
    snprintf(bodies[4], sizeof bodies[4], "timestamp=1767220000&token=token-1&signature=%s", sig);
    snprintf(bodies[5], sizeof bodies[5], "timestamp=%s&token=token-1&%s=%s", NOW_S, S, S);
    snprintf(bodies[6], sizeof bodies[6], "%s=%%zz", S);
    snprintf(bodies[7], sizeof bodies[7], "timestamp=%s&token=%s+x&signature=%s", NOW_S, S, sig);
    const char *const types[] = {"application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=" S, S};
    for (size_t t = 0; t < 3; t++)
        for (size_t b = 0; b < 8; b++) {
            struct gw_header h[] = {{"Content-Type", types[t]}};
            size_t len = strlen(bodies[b]);
            check(&gw_verifier_mailgun, h, 1, bodies[b], len, &s, 1, NOW, cache);
            check(&gw_verifier_mailgun, h, 1, bodies[b], len, &s, 1, NOW, cache); /* replay */
            check(&gw_verifier_mailgun, h, 1, bodies[b], len, &empty, 1, NOW, NULL);
            check(&gw_verifier_mailgun, h, 0, bodies[b], len, &s, 1, NOW, NULL);
        }
    gw_mailgun_cache_destroy(cache);
    expect_all_reasons("mailgun", true);
}

static void test_basic_auth_and_token(void **state)
{
    (void)state;
    reset();
    char b64_cred[128];
    assert_true(gw_base64_encode((const unsigned char *)"user:" S, sizeof "user:" S - 1, b64_cred,
                                 sizeof b64_cred, 0) > 0);
    add_form(b64_cred);
    struct gw_secret cred = ts_secret("user:" S);
    struct gw_secret no_colon = ts_secret(S);
    char right[160], wrong[160], spaced[160];
    snprintf(right, sizeof right, "Basic %s", b64_cred);
    snprintf(spaced, sizeof spaced, "Basic %s ", b64_cred);
    char b64_wrong[128];
    assert_true(gw_base64_encode((const unsigned char *)"user:" S "x", sizeof "user:" S, b64_wrong,
                                 sizeof b64_wrong, 0) > 0);
    snprintf(wrong, sizeof wrong, "Basic %s", b64_wrong);
    const char *const values[] = {right, wrong, spaced, "Basic " S, S, "Bearer " S};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct gw_header h[] = {{"Authorization", values[i]}};
        check_body(&gw_verifier_basic_auth, h, 1, BODY, &cred, 1);
        check_body(&gw_verifier_basic_auth, h, 1, BODY, &no_colon, 1);
        check_body(&gw_verifier_basic_auth, h, 0, BODY, &cred, 1);
    }
    expect_all_reasons("basic-auth", false);

    reset();
    struct gw_secret tok = ts_secret(S);
    struct gw_secret empty = ts_secret("");
    const char *const tvalues[] = {"Bearer " S, "Bearer " S "x", "Bearer " S " ",
                                   S,           "Basic " S,      "Bearer x" S};
    for (size_t i = 0; i < sizeof tvalues / sizeof tvalues[0]; i++) {
        struct gw_header h[] = {{"Authorization", tvalues[i]}, {"X-Channel-Token", tvalues[i]}};
        check_body(&gw_verifier_token, h, 2, BODY, &tok, 1);
        check_body(&gw_verifier_token, h, 2, BODY, &empty, 1);
        check_body(&gw_verifier_token, h + 1, 1, BODY, &tok, 1);
        struct gw_headers headers = {h + 1, 1};
        struct gw_verify_input in = {.headers = &headers,
                                     .secrets = &tok,
                                     .n_secrets = 1,
                                     .token_header = "X-Channel-Token"};
        struct gw_verify_detail d;
        enum gw_verify_result r = gw_verifier_token.verify(&in, &d);
        seen |= 1u << r;
        assert_null(memmem(&d, sizeof d, "Quokka-M", WINDOW));
    }
    expect_all_reasons("token", false);
}

static void test_standard_webhooks(void **state)
{
    (void)state;
    /* Its key is the base64-decoded secret: neither the text nor the key bytes may leak. */
    reset();
    char b64_key[64];
    assert_true(
        gw_base64_encode((const unsigned char *)S, sizeof S - 1, b64_key, sizeof b64_key, 0) > 0);
    add_form(b64_key);
    char whsec[80];
    snprintf(whsec, sizeof whsec, "whsec_%s", b64_key);
    struct gw_secret s = ts_secret(whsec);
    struct gw_secret bad = ts_secret("whsec_" S "!");
    char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    assert_int_equal(gw_standard_webhooks_sign(&s, "msg_1", NOW, (const unsigned char *)BODY,
                                               sizeof BODY - 1, sig, sizeof sig),
                     0);
    char v1_secret[80];
    snprintf(v1_secret, sizeof v1_secret, "v1,%s", b64_key);
    const char *const sigs[] = {sig, v1_secret, S,
                                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="};
    const char *const ts[] = {NOW_S, "1767220000", S};
    for (size_t g = 0; g < 4; g++)
        for (size_t t = 0; t < 3; t++) {
            struct gw_header h[] = {{"webhook-id", "msg_1"},
                                    {"webhook-timestamp", ts[t]},
                                    {"webhook-signature", sigs[g]}};
            check_body(&gw_verifier_standard_webhooks, h, 3, BODY, &s, 1);
            check_body(&gw_verifier_standard_webhooks, h, 3, BODY, &bad, 1);
            check_body(&gw_verifier_standard_webhooks, h, 2, BODY, &s, 1);
        }
    expect_all_reasons("standard-webhooks", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slack),
        cmocka_unit_test(test_xero_asana),
        cmocka_unit_test(test_stripe),
        cmocka_unit_test(test_mailgun),
        cmocka_unit_test(test_basic_auth_and_token),
        cmocka_unit_test(test_standard_webhooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
