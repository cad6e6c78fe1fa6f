/* test_endpoint_auth.c — adapters/endpoint_auth.c, the one builder of a verifier's input from
 * an endpoint, which `serve` and `ctgw verify` both use: for each kind of scheme need, what
 * gw_endpoint_auth_fill puts into struct gw_verify_input (and what it leaves alone), when
 * create refuses and why, and requests signed as a provider would that verify (or not)
 * through the filled input, so that a field wired to the wrong place cannot go unnoticed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "adapters/endpoint_auth.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/net/mailgun_cache.h"
#include "gateway/net/sns_certs.h"
#include "tests/support/files.h"
#include "tests/support/pki.h"
#include "tests/support/verify.h"
#include "verifiers/base64.h"
#include "verifiers/basic_auth.h"
#include "verifiers/ghl.h"
#include "verifiers/token.h"

#define GHL_VECTORS CTGW_SOURCE_ROOT "/tests/vectors/ghl/"

/* Two Standard Webhooks secrets (the first is the specification's example); every HMAC
 * scheme here takes their bytes as its key. */
#define SECRET_A "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_B "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"

#define NOW ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

/* ---- helpers ---------------------------------------------------------------------------- */

/* What WARN was called with. */
struct warnings {
    int n;
    char last[512];
};

static void collect_warning(void *ctx, const char *text)
{
    struct warnings *w = ctx;
    w->n++;
    snprintf(w->last, sizeof w->last, "%s", text);
}

static const struct gw_provider *provider(const char *name)
{
    const struct gw_provider *p = gw_provider_find(name);
    if (p == NULL)
        fail_msg("no provider %s", name);
    return p;
}

static struct gw_endpoint_auth *must_create(const struct gw_endpoint_config *ep, unsigned flags,
                                            struct warnings *w)
{
    char why[512] = "";
    struct gw_endpoint_auth *a =
        gw_endpoint_auth_create(ep, flags, collect_warning, w, why, sizeof why);
    if (a == NULL)
        fail_msg("create for endpoint %s failed: %s", ep->id, why);
    return a;
}

/* Stand-ins the fill must overwrite: never called, never dereferenced. */
static char garbage[1];

static X509 *garbage_lookup(void *ctx, const char *url, char *why, size_t why_len)
{
    (void)ctx;
    (void)url;
    (void)why;
    (void)why_len;
    fail_msg("the stand-in certificate lookup was called");
    return NULL;
}

static bool garbage_seen(void *ctx, const char *ts, size_t ts_len, const char *token,
                         size_t token_len, int64_t expires, int64_t now, char *why, size_t why_len)
{
    (void)ctx;
    (void)ts;
    (void)ts_len;
    (void)token;
    (void)token_len;
    (void)expires;
    (void)now;
    (void)why;
    (void)why_len;
    fail_msg("the stand-in replay check was called");
    return true;
}

static const struct gw_header request_header_items[] = {{"Content-Type", "application/json"}};
static const struct gw_headers request_headers = {request_header_items, 1};
static const unsigned char request_body[] = "{\"request\":true}";
#define REQUEST_NOW ((time_t)1234567)

/* An input as a request arrives (body, headers, now) with every endpoint field set to
 * garbage, then filled from A: whatever the fill forgets to set shows up as garbage. */
static struct gw_verify_input filled(const struct gw_endpoint_auth *a)
{
    static const struct gw_secret garbage_secret = {garbage, 1};
    struct gw_verify_input in = {
        .body = request_body,
        .body_len = sizeof request_body - 1,
        .headers = &request_headers,
        .secrets = &garbage_secret,
        .n_secrets = 77,
        .tolerance_s = 77,
        .now = REQUEST_NOW,
        .public_key = (EVP_PKEY *)(void *)garbage,
        .legacy_public_key = (EVP_PKEY *)(void *)garbage,
        .topics = (const char *const *)(void *)garbage,
        .n_topics = 77,
        .cert_host_pattern = garbage,
        .cert_lookup = garbage_lookup,
        .cert_ctx = garbage,
        .replay_seen = garbage_seen,
        .replay_ctx = garbage,
        .token_header = garbage,
    };
    gw_endpoint_auth_fill(a, &in);
    /* The request's own fields are the caller's. */
    assert_ptr_equal(in.body, request_body);
    assert_int_equal(in.body_len, sizeof request_body - 1);
    assert_ptr_equal(in.headers, &request_headers);
    assert_int_equal(in.now, REQUEST_NOW);
    return in;
}

/* The fields of schemes IN's endpoint does not have, all empty. */
static void assert_no_keys(const struct gw_verify_input *in)
{
    assert_null(in->public_key);
    assert_null(in->legacy_public_key);
}
static void assert_no_sns(const struct gw_verify_input *in)
{
    assert_null(in->topics);
    assert_int_equal(in->n_topics, 0);
    assert_null(in->cert_host_pattern);
    assert_null(in->cert_lookup);
    assert_null(in->cert_ctx);
}
static void assert_no_replay(const struct gw_verify_input *in)
{
    assert_null(in->replay_seen);
    assert_null(in->replay_ctx);
}

/* A request as signed by V's own signer with SECRET, ready to verify: the signer's headers
 * and the scheme's Content-Type, and the body with the signer's suffix (mailgun's form
 * fields, which it reads only from a form). */
struct signed_request {
    struct gw_signed sig;
    struct gw_header items[GW_SIGNED_HEADERS_MAX + 1];
    struct gw_headers headers;
    unsigned char body[1024];
    size_t body_len;
};

static void sign_request(const struct gw_verifier *v, const char *secret, const char *body,
                         int64_t timestamp, const char *id, struct signed_request *r)
{
    assert_non_null(v->sign);
    struct gw_secret s = ts_secret(secret);
    struct gw_sign_params p = {.body = (const unsigned char *)body,
                               .body_len = strlen(body),
                               .timestamp = timestamp,
                               .id = id};
    char err[256] = "";
    if (v->sign(&s, &p, &r->sig, err, sizeof err) != 0)
        fail_msg("%s cannot sign: %s", v->name, err);
    for (size_t i = 0; i < r->sig.n_headers; i++)
        r->items[i] = (struct gw_header){r->sig.headers[i].name, r->sig.headers[i].value};
    size_t n = r->sig.n_headers;
    if (v->content_type != NULL)
        r->items[n++] = (struct gw_header){"Content-Type", v->content_type};
    r->headers = (struct gw_headers){r->items, n};
    assert_true(strlen(body) + r->sig.body_suffix_len <= sizeof r->body);
    memcpy(r->body, body, strlen(body));
    memcpy(r->body + strlen(body), r->sig.body_suffix, r->sig.body_suffix_len);
    r->body_len = strlen(body) + r->sig.body_suffix_len;
}

/* What EP's verifier answers for R at NOW through an input filled from A. */
static enum gw_verify_result verify_through(const struct gw_endpoint_config *ep,
                                            const struct gw_endpoint_auth *a,
                                            const struct gw_headers *headers,
                                            const unsigned char *body, size_t body_len, time_t now,
                                            struct gw_verify_detail *d)
{
    struct gw_verify_input in = {
        .body = body, .body_len = body_len, .headers = headers, .now = now};
    gw_endpoint_auth_fill(a, &in);
    return ep->provider->verifier->verify(&in, d);
}

static enum gw_verify_result verify_signed(const struct gw_endpoint_config *ep,
                                           const struct gw_endpoint_auth *a,
                                           const struct signed_request *r, time_t now,
                                           struct gw_verify_detail *d)
{
    return verify_through(ep, a, &r->headers, r->body, r->body_len, now, d);
}

/* The PEM file NAME of tests/vectors/ghl/ as a secret (caller frees data). */
static struct gw_secret ghl_pem(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", GHL_VECTORS, name);
    size_t len = 0;
    char *pem = test_read(path, &len);
    if (pem == NULL)
        fail_msg("cannot read %s", path);
    return (struct gw_secret){pem, len};
}

static EVP_PKEY *private_key(const char *name)
{
    struct gw_secret pem = ghl_pem(name);
    BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    assert_non_null(bio);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem.data);
    if (key == NULL)
        fail_msg("%s is not a PEM private key", name);
    return key;
}

static EVP_PKEY *public_key(const char *name)
{
    struct gw_secret pem = ghl_pem(name);
    BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    assert_non_null(bio);
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem.data);
    if (key == NULL)
        fail_msg("%s is not a PEM public key", name);
    return key;
}

/* ---- the HMAC family: secrets and tolerance --------------------------------------------- */

static void test_secrets_and_tolerance(void **state)
{
    (void)state;
    const char *names[] = {"generic", "contact-form", "slack", "xero", "stripe", "email-mailgun"};
    struct gw_secret secrets[2] = {ts_secret(SECRET_B), ts_secret(SECRET_A)};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct gw_endpoint_config ep = {.id = "hooks-hmac",
                                        .provider = provider(names[i]),
                                        .secrets = secrets,
                                        .n_secrets = 2,
                                        .tolerance_ms = 120000};
        struct warnings w = {0};
        struct gw_endpoint_auth *a = must_create(&ep, GW_ENDPOINT_AUTH_ONE_OFF, &w);
        struct gw_verify_input in = filled(a);
        assert_ptr_equal(in.secrets, secrets); /* the config's, not a copy */
        assert_int_equal(in.n_secrets, 2);
        assert_int_equal(in.tolerance_s, 120); /* seconds, not the config's milliseconds */
        assert_null(in.token_header);
        assert_no_keys(&in);
        assert_no_sns(&in);
        assert_no_replay(&in);
        assert_int_equal(w.n, 0);
        gw_endpoint_auth_destroy(a);

        /* No tolerance configured: 0, which each scheme reads as its own default. */
        ep.tolerance_ms = 0;
        a = must_create(&ep, GW_ENDPOINT_AUTH_ONE_OFF, &w);
        in = filled(a);
        assert_int_equal(in.tolerance_s, 0);
        gw_endpoint_auth_destroy(a);
    }
}

/* A provider that needs nothing beyond its (optional) secrets is made without any. */
static void test_nothing_extra(void **state)
{
    (void)state;
    struct gw_endpoint_config ep = {.id = "hooks-asana", .provider = provider("asana")};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_verify_input in = filled(a);
    assert_null(in.secrets);
    assert_int_equal(in.n_secrets, 0);
    assert_int_equal(in.tolerance_s, 0);
    assert_null(in.token_header);
    assert_no_keys(&in);
    assert_no_sns(&in);
    assert_no_replay(&in);
    assert_int_equal(w.n, 0);
    gw_endpoint_auth_destroy(a);
}

/* What is prepared follows the verifier's needs, never its name: a scheme called "ghl"
 * that needs only secrets gets no key parsed (so a broken one is not even looked at), and
 * one that needs nothing does not read a ca_file that does not exist. */
static void test_needs_not_names(void **state)
{
    (void)state;
    const struct gw_verifier secrets_only = {
        .name = "ghl", .verify = gw_verifier_ghl.verify, .needs = GW_SCHEME_NEEDS_SECRETS};
    const struct gw_provider p = {.name = "named-like-ghl", .verifier = &secrets_only};
    struct gw_secret secrets[1] = {ts_secret(SECRET_A)};
    struct gw_endpoint_config ep = {.id = "hooks-x",
                                    .provider = &p,
                                    .secrets = secrets,
                                    .n_secrets = 1,
                                    .public_key = ts_secret("not a key"),
                                    .legacy_public_key = ts_secret("not a key either")};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_verify_input in = filled(a);
    assert_int_equal(w.n, 0);
    assert_ptr_equal(in.secrets, secrets);
    assert_int_equal(in.n_secrets, 1);
    assert_no_keys(&in);
    gw_endpoint_auth_destroy(a);

    const struct gw_verifier needs_nothing = {.name = "sns", .verify = gw_verifier_ghl.verify};
    const struct gw_provider q = {.name = "named-like-ses", .verifier = &needs_nothing};
    char *topics[] = {"arn:aws:sns:eu-west-1:123456789012:inbound"};
    struct gw_endpoint_config ep2 = {.id = "hooks-y",
                                     .provider = &q,
                                     .topics = topics,
                                     .n_topics = 1,
                                     .ca_file = "/nonexistent/ctgw-test/ca.pem"};
    a = must_create(&ep2, 0, &w);
    in = filled(a);
    assert_int_equal(w.n, 0);
    assert_null(in.secrets);
    assert_int_equal(in.n_secrets, 0);
    assert_no_keys(&in);
    assert_no_sns(&in);
    assert_no_replay(&in);
    gw_endpoint_auth_destroy(a);
}

/* ---- ghl: public keys ------------------------------------------------------------------- */

static void test_ghl_keys(void **state)
{
    (void)state;
    struct gw_secret ed = ghl_pem("highlevel-ed25519.pub.pem");
    struct gw_secret rsa = ghl_pem("legacy-rsa4096.pub.pem");
    EVP_PKEY *want_ed = public_key("highlevel-ed25519.pub.pem");
    EVP_PKEY *want_rsa = public_key("legacy-rsa4096.pub.pem");

    struct gw_endpoint_config ep = {.id = "hooks-ghl",
                                    .provider = provider("ghl"),
                                    .public_key = ed,
                                    .legacy_public_key = rsa,
                                    .tolerance_ms = 5000};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_verify_input in = filled(a);
    assert_int_equal(w.n, 0);
    assert_non_null(in.public_key);
    assert_non_null(in.legacy_public_key);
    assert_int_equal(EVP_PKEY_eq(in.public_key, want_ed), 1);
    assert_int_equal(EVP_PKEY_eq(in.legacy_public_key, want_rsa), 1);
    assert_null(in.secrets);
    assert_int_equal(in.n_secrets, 0);
    assert_int_equal(in.tolerance_s, 5);
    assert_null(in.token_header);
    assert_no_sns(&in);
    assert_no_replay(&in);
    /* Parsed once: every request gets the same keys. */
    struct gw_verify_input again = filled(a);
    assert_ptr_equal(again.public_key, in.public_key);
    assert_ptr_equal(again.legacy_public_key, in.legacy_public_key);
    gw_endpoint_auth_destroy(a);

    /* Only the current key: the legacy one stays NULL. */
    ep.legacy_public_key = (struct gw_secret){0};
    a = must_create(&ep, 0, &w);
    in = filled(a);
    assert_int_equal(w.n, 0);
    assert_int_equal(EVP_PKEY_eq(in.public_key, want_ed), 1);
    assert_null(in.legacy_public_key);
    gw_endpoint_auth_destroy(a);

    EVP_PKEY_free(want_ed);
    EVP_PKEY_free(want_rsa);
    free(ed.data);
    free(rsa.data);
}

/* A ghl key that does not parse, or is of the other kind, is left out with a warning that
 * names the endpoint and the key; the endpoint is still made, and its requests are answered
 * key_unusable, as the gateway answers them. */
static void test_ghl_unusable_keys(void **state)
{
    (void)state;
    struct gw_secret ed = ghl_pem("highlevel-ed25519.pub.pem");
    struct gw_secret rsa = ghl_pem("legacy-rsa4096.pub.pem");
    struct gw_endpoint_config ep = {
        .id = "hooks-ghl",
        .provider = provider("ghl"),
        .public_key = ts_secret("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        .legacy_public_key = rsa};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    assert_int_equal(w.n, 1);
    const char *prefix = "endpoint hooks-ghl public_key: ";
    assert_memory_equal(w.last, prefix, strlen(prefix));
    assert_true(strlen(w.last) > strlen(prefix)); /* and says why */
    assert_null(strstr(w.last, "AAAA"));          /* without the key's bytes */
    struct gw_verify_input in = filled(a);
    assert_null(in.public_key);
    assert_non_null(in.legacy_public_key); /* the good one is kept */

    const struct gw_header items[] = {{"x-ghl-signature", "c2lnbmF0dXJl"}};
    const struct gw_headers headers = {items, 1};
    struct gw_verify_detail d;
    assert_int_equal(verify_through(&ep, a, &headers, (const unsigned char *)"{}", 2, NOW, &d),
                     GW_VERIFY_KEY_UNUSABLE);
    gw_endpoint_auth_destroy(a);

    /* Keys swapped: each is of the wrong kind for its slot, and each is named. */
    ep.public_key = rsa;
    ep.legacy_public_key = ed;
    w = (struct warnings){0};
    a = must_create(&ep, 0, &w);
    assert_int_equal(w.n, 2);
    prefix = "endpoint hooks-ghl legacy_public_key: ";
    assert_memory_equal(w.last, prefix, strlen(prefix));
    in = filled(a);
    assert_no_keys(&in);
    gw_endpoint_auth_destroy(a);

    /* Without WARN the broken key is still left out, silently. */
    char why[256] = "";
    a = gw_endpoint_auth_create(&ep, 0, NULL, NULL, why, sizeof why);
    assert_non_null(a);
    in = filled(a);
    assert_no_keys(&in);
    gw_endpoint_auth_destroy(a);

    free(ed.data);
    free(rsa.data);
}

/* ---- sns: topics, the certificate source, its host pattern ------------------------------- */

static void test_sns(void **state)
{
    (void)state;
    char *topics[] = {"arn:aws:sns:eu-west-1:123456789012:inbound",
                      "arn:aws:sns:eu-west-1:123456789012:bounces"};
    struct gw_endpoint_config ep = {.id = "ses-in",
                                    .provider = provider("email-ses"),
                                    .topics = topics,
                                    .n_topics = 2,
                                    .cert_host_pattern = "certs.ctgw.invalid",
                                    .tolerance_ms = 3600000};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_verify_input in = filled(a);
    assert_int_equal(w.n, 0);
    assert_ptr_equal(in.topics, topics);
    assert_int_equal(in.n_topics, 2);
    assert_ptr_equal(in.cert_host_pattern, ep.cert_host_pattern);
    /* A server never fetches on its event loop: misses are fetched in the background. */
    assert_ptr_equal(in.cert_lookup, gw_sns_certs_lookup_prefetch);
    assert_non_null(in.cert_ctx);
    assert_int_equal(in.tolerance_s, 3600);
    assert_null(in.secrets);
    assert_int_equal(in.n_secrets, 0);
    assert_no_keys(&in);
    assert_no_replay(&in);
    /* The source was made with the endpoint's pattern: a URL outside it is refused before
     * anything is fetched. */
    char why[256] = "";
    X509 *cert = in.cert_lookup(
        in.cert_ctx, "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0.pem", why,
        sizeof why);
    assert_null(cert);
    assert_non_null(strstr(why, "SigningCertURL refused"));
    gw_endpoint_auth_destroy(a);

    /* No pattern configured: NULL, the verifier's default. */
    ep.cert_host_pattern = NULL;
    a = must_create(&ep, 0, &w);
    in = filled(a);
    assert_null(in.cert_host_pattern);
    assert_ptr_equal(in.cert_lookup, gw_sns_certs_lookup_prefetch);
    assert_non_null(in.cert_ctx);
    gw_endpoint_auth_destroy(a);

    /* A one-off check (ctgw verify) may wait for the fetch. */
    a = must_create(&ep, GW_ENDPOINT_AUTH_ONE_OFF, &w);
    in = filled(a);
    assert_ptr_equal(in.cert_lookup, gw_sns_certs_lookup);
    gw_endpoint_auth_destroy(a);
}

/* A ca_file with a certificate is taken; one that cannot be used makes create fail with the
 * endpoint and the reason, since serving sns without its trust anchors cannot work. */
static void test_sns_ca_file(void **state)
{
    (void)state;
    char *dir = test_mkdtemp();
    EVP_PKEY *key = pki_key("EC", 0);
    X509 *ca = pki_cert(key, "ctgw test CA", NULL, NULL, -60, 3600, true, NULL);
    size_t pem_len = 0;
    char *pem = pki_certs_pem(&ca, 1, &pem_len);
    char *good = test_write(dir, "ca.pem", pem, pem_len, 0600);
    char *bad = test_write_text(dir, "bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n", 0600);
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/missing.pem", dir);

    char *topics[] = {"arn:aws:sns:eu-west-1:123456789012:inbound"};
    struct gw_endpoint_config ep = {.id = "ses-in",
                                    .provider = provider("email-ses"),
                                    .topics = topics,
                                    .n_topics = 1,
                                    .ca_file = good};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_verify_input in = filled(a);
    assert_ptr_equal(in.cert_lookup, gw_sns_certs_lookup_prefetch);
    assert_non_null(in.cert_ctx);
    gw_endpoint_auth_destroy(a);

    const char *files[] = {bad, missing};
    const char *reasons[] = {"holds no PEM certificate", "cannot be read"};
    for (size_t i = 0; i < 2; i++) {
        ep.ca_file = (char *)files[i];
        char why[512] = "";
        a = gw_endpoint_auth_create(&ep, 0, collect_warning, &w, why, sizeof why);
        assert_null(a);
        char want[1200];
        snprintf(want, sizeof want, "endpoint ses-in: ca_file %s ", files[i]);
        assert_memory_equal(why, want, strlen(want));
        assert_non_null(strstr(why, reasons[i]));
    }
    assert_int_equal(w.n, 0);

    X509_free(ca);
    EVP_PKEY_free(key);
    free(pem);
    free(good);
    free(bad);
    test_rmtree(dir);
    free(dir);
}

/* ---- basic-auth, token ------------------------------------------------------------------ */

static void basic_header(const char *credential, char *out, size_t len)
{
    int n = snprintf(out, len, "Basic ");
    assert_true(gw_base64_encode((const unsigned char *)credential, strlen(credential), out + n,
                                 len - (size_t)n, 0) > 0);
}

static void test_basic_auth(void **state)
{
    (void)state;
    const char *password = "s3cret-relay-password";
    struct gw_endpoint_config ep = {.id = "mail-in",
                                    .provider = provider("email-sendgrid"),
                                    .username = "relay",
                                    .password = ts_secret(password)};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_verify_input in = filled(a);
    assert_int_equal(w.n, 0);
    assert_int_equal(in.n_secrets, 1);
    assert_non_null(in.secrets);
    assert_int_equal(in.secrets[0].len, strlen("relay:s3cret-relay-password"));
    assert_memory_equal(in.secrets[0].data, "relay:s3cret-relay-password", in.secrets[0].len);
    assert_ptr_not_equal(in.secrets[0].data, ep.password.data); /* its own copy, wiped later */
    assert_null(in.token_header);
    assert_no_keys(&in);
    assert_no_sns(&in);
    assert_no_replay(&in);

    /* The credential works with the verifier; another password does not. */
    char value[256];
    struct gw_header items[] = {{"Authorization", value}};
    struct gw_headers headers = {items, 1};
    struct gw_verify_detail d;
    basic_header("relay:s3cret-relay-password", value, sizeof value);
    assert_int_equal(verify_through(&ep, a, &headers, (const unsigned char *)"x", 1, NOW, &d),
                     GW_VERIFY_OK);
    basic_header("relay:another-password-here", value, sizeof value);
    assert_int_equal(verify_through(&ep, a, &headers, (const unsigned char *)"x", 1, NOW, &d),
                     GW_VERIFY_NO_SECRET_MATCHED);
    gw_endpoint_auth_destroy(a);

    /* A user without a password makes no credential. */
    ep.password = (struct gw_secret){0};
    a = must_create(&ep, 0, &w);
    in = filled(a);
    assert_null(in.secrets);
    assert_int_equal(in.n_secrets, 0);
    gw_endpoint_auth_destroy(a);
}

static void test_token(void **state)
{
    (void)state;
    /* No provider uses the token scheme yet; the builder goes by its needs alone. */
    const struct gw_provider p = {.name = "token-test", .verifier = &gw_verifier_token};
    struct gw_endpoint_config ep = {.id = "calendar",
                                    .provider = &p,
                                    .header = "X-Goog-Channel-Token",
                                    .token = ts_secret("channel-token-123")};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_verify_input in = filled(a);
    assert_int_equal(w.n, 0);
    assert_ptr_equal(in.secrets, &ep.token);
    assert_int_equal(in.n_secrets, 1);
    assert_ptr_equal(in.token_header, ep.header);
    assert_no_keys(&in);
    assert_no_sns(&in);
    assert_no_replay(&in);

    struct gw_header items[] = {{"X-Goog-Channel-Token", "channel-token-123"}};
    struct gw_headers headers = {items, 1};
    struct gw_verify_detail d;
    assert_int_equal(verify_through(&ep, a, &headers, NULL, 0, NOW, &d), GW_VERIFY_OK);
    items[0].value = "channel-token-124";
    assert_int_equal(verify_through(&ep, a, &headers, NULL, 0, NOW, &d),
                     GW_VERIFY_NO_SECRET_MATCHED);
    /* The configured header is the one read: a bearer token is not looked at. */
    items[0] = (struct gw_header){"Authorization", "Bearer channel-token-123"};
    assert_int_equal(verify_through(&ep, a, &headers, NULL, 0, NOW, &d), GW_VERIFY_MISSING_HEADER);
    gw_endpoint_auth_destroy(a);

    /* No header configured: NULL, Authorization with a bearer token. */
    ep.header = NULL;
    a = must_create(&ep, 0, &w);
    in = filled(a);
    assert_null(in.token_header);
    assert_ptr_equal(in.secrets, &ep.token);
    assert_int_equal(verify_through(&ep, a, &headers, NULL, 0, NOW, &d), GW_VERIFY_OK);
    gw_endpoint_auth_destroy(a);

    /* No token configured: nothing to compare with. */
    ep.token = (struct gw_secret){0};
    a = must_create(&ep, 0, &w);
    in = filled(a);
    assert_null(in.secrets);
    assert_int_equal(in.n_secrets, 0);
    gw_endpoint_auth_destroy(a);
}

/* ---- mailgun: the replay cache ---------------------------------------------------------- */

static void test_mailgun_replay_cache(void **state)
{
    (void)state;
    struct gw_secret secrets[1] = {ts_secret(SECRET_A)};
    struct gw_endpoint_config ep = {
        .id = "mail-mg", .provider = provider("email-mailgun"), .secrets = secrets, .n_secrets = 1};
    struct warnings w = {0};
    struct gw_endpoint_auth *serve = must_create(&ep, 0, &w);
    struct gw_endpoint_auth *one_off = must_create(&ep, GW_ENDPOINT_AUTH_ONE_OFF, &w);
    struct gw_endpoint_auth *serve2 = must_create(&ep, 0, &w);
    assert_int_equal(w.n, 0);

    struct gw_verify_input in = filled(serve);
    assert_ptr_equal(in.replay_seen, gw_mailgun_cache_seen);
    assert_non_null(in.replay_ctx);
    assert_ptr_equal(in.secrets, secrets);
    assert_int_equal(in.n_secrets, 1);
    assert_no_keys(&in);
    assert_no_sns(&in);
    void *cache = in.replay_ctx;
    assert_int_equal(gw_mailgun_cache_count(cache), 0);
    /* One cache per endpoint, kept across requests. */
    assert_ptr_equal(filled(serve).replay_ctx, cache);
    assert_ptr_not_equal(filled(serve2).replay_ctx, cache);

    in = filled(one_off);
    assert_no_replay(&in);
    assert_ptr_equal(in.secrets, secrets);

    /* A request Mailgun signed passes once when served, and is a replay the second time; a
     * one-off check has nothing to replay against. */
    struct signed_request r;
    sign_request(ep.provider->verifier, SECRET_A, "subject=hi&from=a%40example.com", (int64_t)NOW,
                 "token-0001", &r);
    struct gw_verify_detail d;
    assert_int_equal(verify_signed(&ep, serve, &r, NOW, &d), GW_VERIFY_OK);
    assert_int_equal(gw_mailgun_cache_count(cache), 1);
    assert_int_equal(verify_signed(&ep, serve, &r, NOW, &d), GW_VERIFY_TIMESTAMP_OUTSIDE);
    assert_string_equal(d.header, "token");
    assert_int_equal(verify_signed(&ep, one_off, &r, NOW, &d), GW_VERIFY_OK);
    assert_int_equal(verify_signed(&ep, one_off, &r, NOW, &d), GW_VERIFY_OK);

    gw_endpoint_auth_destroy(serve);
    gw_endpoint_auth_destroy(one_off);
    gw_endpoint_auth_destroy(serve2);
}

/* ---- create's refusals, destroy(NULL) --------------------------------------------------- */

static void test_no_verifier(void **state)
{
    (void)state;
    const struct gw_provider bare = {.name = "bare"};
    struct gw_endpoint_config ep = {.id = "hooks-bare", .provider = &bare};
    char why[256] = "";
    assert_null(gw_endpoint_auth_create(&ep, 0, NULL, NULL, why, sizeof why));
    assert_string_equal(why, "provider bare of endpoint hooks-bare has no verifier");
    ep.provider = NULL;
    assert_null(gw_endpoint_auth_create(&ep, 0, NULL, NULL, why, sizeof why));
    assert_string_equal(why, "provider ? of endpoint hooks-bare has no verifier");
    /* No room for a reason is not a crash. */
    assert_null(gw_endpoint_auth_create(&ep, 0, NULL, NULL, NULL, 0));
}

static void test_destroy_null(void **state)
{
    (void)state;
    gw_endpoint_auth_destroy(NULL);
}

/* ---- round trips ------------------------------------------------------------------------ */

/* Each signing scheme's own signer, verified through the filled input: with the secret it
 * signed with (also when it is the older of two), and refused with another one. */
static void test_round_trip_signed(void **state)
{
    (void)state;
    const char *names[] = {"generic", "slack", "xero", "stripe", "email-mailgun"};
    const char *body = "{\"event\":\"round-trip\"}";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct gw_provider *p = provider(names[i]);
        struct signed_request r;
        sign_request(p->verifier, SECRET_A, body, (int64_t)NOW, NULL, &r);

        struct gw_secret good[2] = {ts_secret(SECRET_B), ts_secret(SECRET_A)};
        struct gw_endpoint_config ep = {
            .id = "hooks-rt", .provider = p, .secrets = good, .n_secrets = 2};
        struct warnings w = {0};
        struct gw_endpoint_auth *a = must_create(&ep, GW_ENDPOINT_AUTH_ONE_OFF, &w);
        struct gw_verify_detail d;
        enum gw_verify_result res = verify_signed(&ep, a, &r, NOW, &d);
        if (res != GW_VERIFY_OK)
            fail_msg("%s: %s (%s)", names[i], gw_verify_result_name(res), d.note);
        assert_int_equal(d.secret_index, 1);
        gw_endpoint_auth_destroy(a);

        struct gw_secret other[1] = {ts_secret(SECRET_B)};
        ep.secrets = other;
        ep.n_secrets = 1;
        a = must_create(&ep, GW_ENDPOINT_AUTH_ONE_OFF, &w);
        res = verify_signed(&ep, a, &r, NOW, &d);
        if (res != GW_VERIFY_NO_SECRET_MATCHED)
            fail_msg("%s with another secret: %s (%s)", names[i], gw_verify_result_name(res),
                     d.note);
        assert_int_equal(d.secret_index, -1);
        gw_endpoint_auth_destroy(a);
    }
}

/* The endpoint's tolerance reaches the verifier in seconds: a request 120 s old is refused
 * with 60 s, accepted with the default (300 s), refused by the default at 500 s and accepted
 * with 600 s. */
static void test_round_trip_tolerance(void **state)
{
    (void)state;
    const struct gw_provider *p = provider("generic");
    struct gw_secret secrets[1] = {ts_secret(SECRET_A)};
    struct gw_endpoint_config ep = {
        .id = "hooks-tol", .provider = p, .secrets = secrets, .n_secrets = 1};
    const struct {
        uint64_t tolerance_ms;
        int64_t age_s;
        enum gw_verify_result want;
    } cases[] = {
        {60000, 120, GW_VERIFY_TIMESTAMP_OUTSIDE},
        {0, 120, GW_VERIFY_OK},
        {0, 500, GW_VERIFY_TIMESTAMP_OUTSIDE},
        {600000, 500, GW_VERIFY_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct signed_request r;
        sign_request(p->verifier, SECRET_A, "{}", (int64_t)NOW - cases[i].age_s, NULL, &r);
        ep.tolerance_ms = cases[i].tolerance_ms;
        struct warnings w = {0};
        struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
        struct gw_verify_detail d;
        enum gw_verify_result res = verify_signed(&ep, a, &r, NOW, &d);
        if (res != cases[i].want)
            fail_msg("case %zu: %s (%s)", i, gw_verify_result_name(res), d.note);
        gw_endpoint_auth_destroy(a);
    }
}

/* ghl has no signer of ours (HighLevel holds the private keys): the vectors' keys sign,
 * the endpoint's PEMs verify, and another Ed25519 key does not. */
static void test_round_trip_ghl(void **state)
{
    (void)state;
    const char *body = "{\"type\":\"ContactCreate\",\"id\":\"round-trip\"}";
    EVP_PKEY *ed_priv = private_key("rfc8032-test1.key.pem");
    EVP_PKEY *rsa_priv = private_key("legacy-rsa4096.key.pem");
    char ed_sig[256], rsa_sig[1024];
    pki_sign_b64(ed_priv, NULL, body, strlen(body), ed_sig, sizeof ed_sig);
    pki_sign_b64(rsa_priv, EVP_sha256(), body, strlen(body), rsa_sig, sizeof rsa_sig);

    struct gw_secret ed = ghl_pem("rfc8032-test1.pub.pem");
    struct gw_secret rsa = ghl_pem("legacy-rsa4096.pub.pem");
    struct gw_secret other = ghl_pem("highlevel-ed25519.pub.pem");
    struct gw_endpoint_config ep = {
        .id = "hooks-ghl", .provider = provider("ghl"), .public_key = ed, .legacy_public_key = rsa};
    struct warnings w = {0};
    struct gw_endpoint_auth *a = must_create(&ep, 0, &w);
    struct gw_header items[] = {{"x-ghl-signature", ed_sig}};
    struct gw_headers headers = {items, 1};
    struct gw_verify_detail d;
    const unsigned char *b = (const unsigned char *)body;
    assert_int_equal(verify_through(&ep, a, &headers, b, strlen(body), NOW, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    items[0] = (struct gw_header){"x-wh-signature", rsa_sig};
    assert_int_equal(verify_through(&ep, a, &headers, b, strlen(body), NOW, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);
    gw_endpoint_auth_destroy(a);

    ep.public_key = other;
    a = must_create(&ep, 0, &w);
    items[0] = (struct gw_header){"x-ghl-signature", ed_sig};
    assert_int_equal(verify_through(&ep, a, &headers, b, strlen(body), NOW, &d),
                     GW_VERIFY_NO_SECRET_MATCHED);
    gw_endpoint_auth_destroy(a);
    assert_int_equal(w.n, 0);

    EVP_PKEY_free(ed_priv);
    EVP_PKEY_free(rsa_priv);
    free(ed.data);
    free(rsa.data);
    free(other.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_and_tolerance),
        cmocka_unit_test(test_nothing_extra),
        cmocka_unit_test(test_needs_not_names),
        cmocka_unit_test(test_ghl_keys),
        cmocka_unit_test(test_ghl_unusable_keys),
        cmocka_unit_test(test_sns),
        cmocka_unit_test(test_sns_ca_file),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_mailgun_replay_cache),
        cmocka_unit_test(test_no_verifier),
        cmocka_unit_test(test_destroy_null),
        cmocka_unit_test(test_round_trip_signed),
        cmocka_unit_test(test_round_trip_tolerance),
        cmocka_unit_test(test_round_trip_ghl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
