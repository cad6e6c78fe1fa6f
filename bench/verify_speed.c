/* verify_speed.c — verifications per second of every scheme on a 1 KiB body, next to the
 * speed of its cryptographic primitive as `openssl speed` measured it (bench/verify_speed
 * passes those figures in), so the ratio shows what the wrapper costs beyond the crypto. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "verifiers/base64.h"
#include "verifiers/ghl.h"
#include "verifiers/sns.h"
#include "verifiers/verifier.h"

#define BODY_SIZE      1024
#define HEADERS_MAX    8
#define PRIMITIVES_MAX 8
#define SECONDS_MAX    60
#define NOW            ((int64_t)1767605401) /* 2026-01-05T09:30:01Z, the sns Timestamp */

/* One request ready to verify, and the primitive its cost should be compared with. */
struct bench_case {
    const char *name;
    const char *primitive; /* a name passed as NAME=OPS on the command line; NULL: none */
    const struct gw_verifier *verifier;
    struct gw_header items[HEADERS_MAX];
    char names[HEADERS_MAX][64];
    char values[HEADERS_MAX][4096];
    struct gw_headers headers;
    unsigned char body[4 * BODY_SIZE];
    size_t body_len;
    struct gw_secret secret;
    struct gw_verify_input in;
};

struct primitive {
    char name[64];
    double ops;
};

static struct primitive primitives[PRIMITIVES_MAX];
static size_t n_primitives;
static X509 *sns_cert;

static void die(const char *what)
{
    fprintf(stderr, "verify_speed: %s\n", what);
    exit(1);
}

static void add_header(struct bench_case *c, const char *name, const char *value)
{
    size_t i = c->headers.n;
    if (i >= HEADERS_MAX || strlen(name) >= sizeof c->names[i] ||
        strlen(value) >= sizeof c->values[i])
        die("too many or too long headers");
    snprintf(c->names[i], sizeof c->names[i], "%s", name);
    snprintf(c->values[i], sizeof c->values[i], "%s", value);
    c->items[i] = (struct gw_header){c->names[i], c->values[i]};
    c->headers.n++;
}

static void set_body(struct bench_case *c, const char *text)
{
    size_t len = strlen(text);
    if (len > sizeof c->body)
        die("body too long");
    memcpy(c->body, text, len);
    c->body_len = len;
}

/* A JSON object of exactly BODY_SIZE bytes: {"pad":"xxx..."}. */
static void json_body(struct bench_case *c)
{
    char text[BODY_SIZE + 1];
    size_t pad = BODY_SIZE - strlen("{\"pad\":\"\"}");
    memcpy(text, "{\"pad\":\"", 8);
    memset(text + 8, 'x', pad);
    memcpy(text + 8 + pad, "\"}", 3);
    set_body(c, text);
}

/* A form of exactly BODY_SIZE bytes before any signed fields are appended. */
static void form_body(struct bench_case *c)
{
    char text[BODY_SIZE + 1];
    size_t pad = BODY_SIZE - strlen("body-plain=");
    memcpy(text, "body-plain=", 11);
    memset(text + 11, 'x', pad);
    text[BODY_SIZE] = '\0';
    set_body(c, text);
}

static void init_case(struct bench_case *c, const char *scheme, const char *name,
                      const char *primitive)
{
    const struct gw_verifier *s = gw_verifier_find(scheme);
    if (s == NULL)
        die("unknown scheme");
    memset(c, 0, sizeof *c);
    c->name = name;
    c->primitive = primitive;
    c->verifier = s;
    c->headers.items = c->items;
    c->in.headers = &c->headers;
    c->in.secrets = &c->secret;
    c->in.n_secrets = 1;
    c->in.now = (time_t)NOW;
}

/* The HMAC and Standard Webhooks families: signed with the scheme's own signer. */
static void hmac_case(struct bench_case *c, const char *scheme, const char *primitive,
                      const char *secret, bool form)
{
    init_case(c, scheme, scheme, primitive);
    c->secret = (struct gw_secret){(char *)secret, strlen(secret)};
    if (form)
        form_body(c);
    else
        json_body(c);
    const struct gw_verifier *s = c->verifier;
    struct gw_sign_params p = {.body = c->body,
                               .body_len = c->body_len,
                               .timestamp = NOW,
                               .id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"};
    struct gw_signed sig;
    char err[256];
    if (s->sign(&c->secret, &p, &sig, err, sizeof err) != 0)
        die(err);
    add_header(c, "Content-Type", s->content_type);
    for (size_t i = 0; i < sig.n_headers; i++)
        add_header(c, sig.headers[i].name, sig.headers[i].value);
    if (sig.body_suffix_len > 0) {
        if (c->body_len + sig.body_suffix_len > sizeof c->body)
            die("body too long");
        memcpy(c->body + c->body_len, sig.body_suffix, sig.body_suffix_len);
        c->body_len += sig.body_suffix_len;
    }
    c->in.body = c->body;
    c->in.body_len = c->body_len;
}

static void b64(const unsigned char *in, size_t len, char *out, size_t cap)
{
    if (gw_base64_encode(in, len, out, cap, 0) == 0)
        die("base64");
}

/* Signs DATA with KEY (MD NULL for Ed25519) into base64 OUT. */
static void pkey_sign(EVP_PKEY *key, const EVP_MD *md, const unsigned char *data, size_t len,
                      char *out, size_t cap)
{
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, data, len) != 1)
        die("signing failed");
    EVP_MD_CTX_free(ctx);
    b64(sig, sig_len, out, cap);
}

/* The public half of KEY through the same loader the config uses. */
static EVP_PKEY *public_of(EVP_PKEY *key, enum gw_ghl_key_kind kind)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    char err[256];
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1)
        die("PEM_write_bio_PUBKEY");
    long len = BIO_get_mem_data(bio, &pem);
    EVP_PKEY *pub = gw_ghl_load_public_key(pem, (size_t)len, kind, err, sizeof err);
    BIO_free(bio);
    if (pub == NULL)
        die(err);
    return pub;
}

static void ghl_case(struct bench_case *c, bool legacy)
{
    init_case(c, "ghl", legacy ? "ghl (legacy rsa)" : "ghl (ed25519)",
              legacy ? "rsa2048-verify" : "ed25519-verify");
    c->in.n_secrets = 0;
    json_body(c);
    EVP_PKEY *key = legacy ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                           : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL)
        die("keygen");
    char sig[1024];
    pkey_sign(key, legacy ? EVP_sha256() : NULL, c->body, c->body_len, sig, sizeof sig);
    add_header(c, "Content-Type", "application/json");
    add_header(c, legacy ? "x-wh-signature" : "x-ghl-signature", sig);
    if (legacy)
        c->in.legacy_public_key = public_of(key, GW_GHL_KEY_RSA);
    else
        c->in.public_key = public_of(key, GW_GHL_KEY_ED25519);
    EVP_PKEY_free(key);
    c->in.body = c->body;
    c->in.body_len = c->body_len;
}

static X509 *sns_lookup(void *ctx, const char *url, char *why, size_t why_len)
{
    (void)ctx;
    (void)url;
    (void)why;
    (void)why_len;
    X509_up_ref(sns_cert);
    return sns_cert;
}

/* An SNS Notification of about BODY_SIZE bytes, SignatureVersion 2, signed by a certificate
 * made here; the lookup hands it over without any network, as a cache hit would. */
static void sns_case(struct bench_case *c)
{
    static const char *const topics[] = {"arn:aws:sns:eu-west-1:123456789012:ct-inbound"};
    init_case(c, "sns", "sns (v2, sha256-rsa)", "rsa2048-verify");
    c->in.n_secrets = 0;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    sns_cert = X509_new();
    if (key == NULL || sns_cert == NULL)
        die("keygen");
    X509_set_version(sns_cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(sns_cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(sns_cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(sns_cert), 86400L * 3650);
    X509_set_pubkey(sns_cert, key);
    X509_set_issuer_name(sns_cert, X509_get_subject_name(sns_cert));
    if (X509_sign(sns_cert, key, EVP_sha256()) <= 0)
        die("X509_sign");

    char message[BODY_SIZE];
    memset(message, 'x', 560);
    message[560] = '\0';
    static const char fmt[] =
        "{\"Type\":\"Notification\",\"MessageId\":\"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\","
        "\"TopicArn\":\"%s\",\"Subject\":\"bench\",\"Message\":\"%s\","
        "\"Timestamp\":\"2026-01-05T09:30:01.112Z\",\"SignatureVersion\":\"2\","
        "\"Signature\":\"%s\",\"SigningCertURL\":"
        "\"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-bench.pem\"}";
    char text[4 * BODY_SIZE];
    snprintf(text, sizeof text, fmt, topics[0], message, "AAAA");
    char *canon = NULL;
    size_t canon_len = 0;
    if (gw_sns_string_to_sign((const unsigned char *)text, strlen(text), &canon, &canon_len,
                              NULL) != GW_VERIFY_OK)
        die("gw_sns_string_to_sign");
    char sig[1024];
    pkey_sign(key, EVP_sha256(), (const unsigned char *)canon, canon_len, sig, sizeof sig);
    free(canon);
    EVP_PKEY_free(key);
    snprintf(text, sizeof text, fmt, topics[0], message, sig);
    set_body(c, text);
    add_header(c, "Content-Type", "text/plain; charset=UTF-8");
    c->in.topics = topics;
    c->in.n_topics = 1;
    c->in.cert_lookup = sns_lookup;
    c->in.body = c->body;
    c->in.body_len = c->body_len;
}

static void credential_case(struct bench_case *c, const char *scheme, const char *secret,
                            const char *header)
{
    init_case(c, scheme, scheme, NULL);
    c->secret = (struct gw_secret){(char *)secret, strlen(secret)};
    json_body(c);
    add_header(c, "Content-Type", "application/json");
    add_header(c, "Authorization", header);
    c->in.body = c->body;
    c->in.body_len = c->body_len;
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Verifications per second of C over about SECONDS of CPU time. */
static double measure(struct bench_case *c, double seconds)
{
    struct gw_verify_detail d;
    memset(&d, 0, sizeof d);
    enum gw_verify_result r = c->verifier->verify(&c->in, &d);
    if (r != GW_VERIFY_OK) {
        fprintf(stderr, "verify_speed: %s does not verify: %s (%s)\n", c->name,
                gw_verify_result_name(r), d.note);
        exit(1);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
    uint64_t n = 0;
    double t = 0;
    do {
        for (int i = 0; i < 64; i++) {
            if (c->verifier->verify(&c->in, &d) != GW_VERIFY_OK)
                die("a verification failed while measuring");
            n++;
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
        t = elapsed(&start, &now);
    } while (t < seconds);
    return (double)n / t;
}

static const struct primitive *find_primitive(const char *name)
{
    for (size_t i = 0; name != NULL && i < n_primitives; i++)
        if (strcmp(primitives[i].name, name) == 0)
            return &primitives[i];
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: verify_speed [-s SECONDS] [PRIMITIVE=OPS_PER_SECOND ...]\n"
                    "primitives: hmac-sha256-1024 hmac-sha256-64 ed25519-verify "
                    "rsa2048-verify (bench/verify_speed measures them with openssl speed)\n");
    return 2;
}

int main(int argc, char **argv)
{
    double seconds = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            seconds = strtod(argv[++i], NULL);
            if (!(seconds > 0 && seconds <= SECONDS_MAX))
                return usage();
            continue;
        }
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL || n_primitives == PRIMITIVES_MAX ||
            (size_t)(eq - argv[i]) >= sizeof primitives[0].name)
            return usage();
        struct primitive *p = &primitives[n_primitives++];
        snprintf(p->name, sizeof p->name, "%.*s", (int)(eq - argv[i]), argv[i]);
        p->ops = strtod(eq + 1, NULL);
        if (!(p->ops > 0))
            return usage();
    }

    static struct bench_case cases[12];
    size_t n = 0;
    hmac_case(&cases[n++], "standard-webhooks", "hmac-sha256-1024",
              "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false);
    hmac_case(&cases[n++], "slack", "hmac-sha256-1024", "8f742231b10e8888abcd99yyyzzz85a5", true);
    hmac_case(&cases[n++], "xero", "hmac-sha256-1024", "xero-webhook-key-0123456789abcdef", false);
    hmac_case(&cases[n++], "stripe", "hmac-sha256-1024", "whsec_stripe_bench_0123456789abcdef",
              false);
    hmac_case(&cases[n++], "asana", "hmac-sha256-1024", "asana-hook-secret-0123456789abcdef",
              false);
    /* Mailgun signs timestamp + token only (about 60 bytes); the form is parsed whole. */
    hmac_case(&cases[n++], "mailgun", "hmac-sha256-64", "key-mailgun-0123456789abcdef0123", true);
    ghl_case(&cases[n++], false);
    ghl_case(&cases[n++], true);
    sns_case(&cases[n++]);
    credential_case(&cases[n++], "basic-auth", "user:password-0123456789abcdef",
                    "Basic dXNlcjpwYXNzd29yZC0wMTIzNDU2Nzg5YWJjZGVm");
    credential_case(&cases[n++], "token", "tok_0123456789abcdef0123456789abcdef",
                    "Bearer tok_0123456789abcdef0123456789abcdef");

    printf("%-22s %7s %14s  %-18s %14s  %s\n", "scheme", "body", "verify/s", "primitive",
           "primitive/s", "ratio");
    for (size_t i = 0; i < n; i++) {
        double ops = measure(&cases[i], seconds);
        const struct primitive *p = find_primitive(cases[i].primitive);
        printf("%-22s %7zu %14.0f  %-18s ", cases[i].name, cases[i].body_len, ops,
               cases[i].primitive != NULL ? cases[i].primitive : "(none: a compare)");
        if (p != NULL)
            printf("%14.0f  %.2f\n", p->ops, ops / p->ops);
        else
            printf("%14s  %s\n", "-", "-");
        fflush(stdout);
    }
    X509_free(sns_cert);
    return 0;
}
