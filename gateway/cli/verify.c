/* verify.c — `ctgw verify` explains in one screen whether a captured request verifies and,
 * if not, why; `ctgw sign` builds a request signed for an endpoint. Neither prints a secret. */
#include "gateway/cli/verify.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "adapters/endpoint_auth.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "config/secret_ref.h"
#include "gateway/cli/captured_request.h"
#include "gateway/cli/sign_relay.h"
#include "gateway/base/log.h"
#include "verifiers/base64.h"
#include "verifiers/ghl.h"
#include "verifiers/hmac.h"
#include "verifiers/sendgrid.h"
#include "verifiers/sns.h"
#include "verifiers/sns_sign.h"
#include "gateway/net/sns_certs.h"

#define SECRET_FILES_MAX 16 /* as many as an endpoint's `secrets` list holds */
#define TOPICS_MAX       16
#define VALUE_SHOWN_MAX  96    /* header value bytes shown before "..." */
#define PEM_FILE_MAX     65536 /* a public key or certificate PEM */

/* Every option of both commands; each command's table lists the ones it takes. */
enum {
    OPT_ENDPOINT = 256,
    OPT_REQUEST,
    OPT_NOW,
    OPT_SCHEME,
    OPT_SECRET_FILE,
    OPT_KEY_FILE,
    OPT_LEGACY_KEY_FILE,
    OPT_TOPIC,
    OPT_CERT_FILE,
    OPT_CERT_HOST_PATTERN,
    OPT_TOKEN_HEADER,
    OPT_TOLERANCE,
    OPT_BODY,
    OPT_RAW,
    OPT_ID,
    OPT_KEY,
    OPT_CERT_URL,
    OPT_SIGNATURE_VERSION,
};

struct opts {
    const char *config, *endpoint, *request, *scheme, *body, *id;
    const char *key; /* sign: a private key file (ghl; sns with cert_url) */
    const char *cert_url, *signature_version; /* ctgw sign: sns */
    const char *secret_files[SECRET_FILES_MAX];
    size_t n_secret_files;
    const char *key_file, *legacy_key_file, *cert_file, *cert_host_pattern, *token_header;
    const char *topics[TOPICS_MAX];
    size_t n_topics;
    bool have_now, have_tolerance, raw;
    int64_t now;
    uint64_t tolerance_s;
};

/* 1..19 digits, nothing else. */
static bool parse_u63(const char *s, int64_t *out)
{
    return s != NULL && gw_parse_unix_time(s, strlen(s), out);
}

static int parse_opts(int argc, char **argv, const struct option *table, struct opts *o, FILE *err)
{
    memset(o, 0, sizeof *o);
    optind = 0; /* GNU: start afresh, so that the commands can run more than once (tests) */
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:h", table, NULL)) != -1) {
        int64_t v = 0;
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case OPT_ENDPOINT:
            o->endpoint = optarg;
            break;
        case OPT_REQUEST:
            o->request = optarg;
            break;
        case OPT_BODY:
            o->body = optarg;
            break;
        case OPT_ID:
            o->id = optarg;
            break;
        case OPT_KEY:
            o->key = optarg;
            break;
        case OPT_CERT_URL:
            o->cert_url = optarg;
            break;
        case OPT_SIGNATURE_VERSION:
            o->signature_version = optarg;
            break;
        case OPT_RAW:
            o->raw = true;
            break;
        case OPT_SCHEME:
            o->scheme = optarg;
            break;
        case OPT_NOW:
            if (!parse_u63(optarg, &v)) {
                fprintf(err, "ctgw %s: --now takes unix seconds (digits), not '%s'\n", argv[0],
                        optarg);
                return -1;
            }
            o->now = v;
            o->have_now = true;
            break;
        case OPT_TOLERANCE:
            if (!parse_u63(optarg, &v) || v == 0) {
                fprintf(err, "ctgw %s: --tolerance takes seconds, 1 or more\n", argv[0]);
                return -1;
            }
            o->tolerance_s = (uint64_t)v;
            o->have_tolerance = true;
            break;
        case OPT_SECRET_FILE:
            if (o->n_secret_files == SECRET_FILES_MAX) {
                fprintf(err, "ctgw %s: at most %d --secret-file\n", argv[0], SECRET_FILES_MAX);
                return -1;
            }
            o->secret_files[o->n_secret_files++] = optarg;
            break;
        case OPT_TOPIC:
            if (o->n_topics == TOPICS_MAX) {
                fprintf(err, "ctgw %s: at most %d --topic\n", argv[0], TOPICS_MAX);
                return -1;
            }
            o->topics[o->n_topics++] = optarg;
            break;
        case OPT_KEY_FILE:
            o->key_file = optarg;
            break;
        case OPT_LEGACY_KEY_FILE:
            o->legacy_key_file = optarg;
            break;
        case OPT_CERT_FILE:
            o->cert_file = optarg;
            break;
        case OPT_CERT_HOST_PATTERN:
            o->cert_host_pattern = optarg;
            break;
        case OPT_TOKEN_HEADER:
            o->token_header = optarg;
            break;
        case 'h':
            return 1;
        default:
            fprintf(err, "ctgw %s: unknown option or missing value: %s\n", argv[0],
                    optind > 0 && optind <= argc ? argv[optind - 1] : "?");
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(err, "ctgw %s: unexpected argument '%s'\n", argv[0], argv[optind]);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ what is printed */

/* VALUE as one printable line: bytes outside printable ASCII as \xNN, cut after
 * VALUE_SHOWN_MAX bytes with the full length said. */
static void print_value(FILE *out, const char *value)
{
    size_t len = strlen(value);
    for (size_t i = 0; i < len && i < VALUE_SHOWN_MAX; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            fputc(c, out);
        else if (c == '\\')
            fputs("\\\\", out);
        else
            fprintf(out, "\\x%02x", c);
    }
    if (len > VALUE_SHOWN_MAX)
        fprintf(out, "... (%zu bytes)", len);
}

/* "2026-01-05T09:30:01Z", or "(out of range)". */
static const char *iso_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "(out of range)");
    return buf;
}

/* "7d 0h 3m 12s" for an age in seconds. */
static const char *human_age(uint64_t s, char *buf, size_t len)
{
    if (s < 60)
        snprintf(buf, len, "%" PRIu64 "s", s);
    else if (s < 3600)
        snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m", s / 86400, s % 86400 / 3600,
                 s % 3600 / 60);
    return buf;
}

/* True when some secret's bytes occur in VALUE: such a value is never printed, whatever its
 * header is called (a token scheme may use a header with an innocent name). */
static bool holds_secret(const char *value, const struct gw_secret *secrets, size_t n)
{
    size_t vlen = strlen(value);
    for (size_t i = 0; i < n; i++)
        if (secrets[i].data != NULL && secrets[i].len > 0 && secrets[i].len <= vlen &&
            memmem(value, vlen, secrets[i].data, secrets[i].len) != NULL)
            return true;
    return false;
}

static void print_request(FILE *out, const struct gw_captured_request *r, const char *path,
                          const struct gw_verify_input *in)
{
    fprintf(out, "request    %s %s %s\n", r->method, r->target, r->version);
    fprintf(out, "           from %s: %zu header%s, lines end in %s, body %zu bytes", path,
            r->headers.n, r->headers.n == 1 ? "" : "s", r->crlf ? "CRLF" : "LF", r->body_len);
    if (r->content_length)
        fprintf(out, " (Content-Length)");
    if (r->trailing > 0)
        fprintf(out, ", final line ending after it ignored");
    fputc('\n', out);
    for (size_t i = 0; i < r->headers.n; i++) {
        const struct gw_header *h = &r->items[i];
        fprintf(out, "%s %s: ", i == 0 ? "headers   " : "          ", h->name);
        bool hide = gw_log_header_is_sensitive(h->name) ||
                    (in->token_header != NULL && strcasecmp(h->name, in->token_header) == 0) ||
                    holds_secret(h->value, in->secrets, in->n_secrets);
        if (hide) {
            char red[64];
            fputs(gw_log_redact(h->value, strlen(h->value), red, sizeof red), out);
        } else {
            print_value(out, h->value);
        }
        fputc('\n', out);
    }
}

static void print_detail(FILE *out, enum gw_verify_result r, const struct gw_verify_detail *d,
                         int64_t now, size_t n_secrets, unsigned needs)
{
    char t1[40], t2[40];
    fprintf(out, "result     %s %s\n", r == GW_VERIFY_OK ? "VERIFIED" : "REFUSED",
            gw_verify_result_name(r));
    if (d->header[0] != '\0') {
        fputs("header     ", out);
        print_value(out, d->header);
        fputc('\n', out);
    }
    if (d->note[0] != '\0') {
        fputs("note       ", out);
        print_value(out, d->note);
        fputc('\n', out);
    }
    if (d->signed_len > 0)
        fprintf(out, "signed     %zu bytes in the signed string\n", d->signed_len);
    if (d->timestamp != 0) {
        int64_t diff = now - d->timestamp; /* both fit in 63 bits: no overflow */
        uint64_t age = diff < 0 ? (uint64_t)(-(diff + 1)) + 1 : (uint64_t)diff;
        fprintf(out, "timestamp  %" PRId64 " (%s), %" PRIu64 " s %s now (%s)\n", d->timestamp,
                iso_time(d->timestamp, t1, sizeof t1), age, diff < 0 ? "after" : "before",
                human_age(age, t2, sizeof t2));
    }
    /* secret_index means what the scheme matched: a secret, a ghl key, an sns topic. */
    if (needs & GW_SCHEME_NEEDS_PUBLIC_KEYS) {
        if (d->secret_index >= 0)
            fprintf(out, "key        %s verified\n",
                    d->secret_index == 0 ? "ed25519 (x-ghl-signature)"
                                         : "legacy rsa (x-wh-signature)");
    } else if (needs & GW_SCHEME_NEEDS_TOPICS) {
        if (d->secret_index >= 0)
            fprintf(out, "topic      #%d of the allowed topics matched\n", d->secret_index);
    } else if (d->secret_index >= 0) {
        fprintf(out, "secret     #%d of %zu verified (0 is the newest)\n", d->secret_index,
                n_secrets);
    } else if (r == GW_VERIFY_NO_SECRET_MATCHED || r == GW_VERIFY_KEY_UNUSABLE) {
        fprintf(out, "secret     none of %zu verified\n", n_secrets);
    } else {
        fprintf(out, "secret     not tried: the request was refused before the signature\n");
    }
}

/* ------------------------------------------------------------------ keys and secrets */

/* What a verification holds and frees: with --scheme, secrets, keys and the certificate
 * source read from the options; with -c, what the endpoint's verifier was prepared with. */
struct material {
    struct gw_secret secrets[SECRET_FILES_MAX];
    size_t n_secrets;
    EVP_PKEY *public_key, *legacy_public_key;
    X509 *cert;                 /* sns --cert-file */
    struct gw_sns_certs *certs; /* sns without --cert-file: fetched */
    struct gw_endpoint_auth *auth;
};

static void material_finish(struct material *m)
{
    for (size_t i = 0; i < m->n_secrets; i++)
        gw_secret_wipe(&m->secrets[i]);
    EVP_PKEY_free(m->public_key);
    EVP_PKEY_free(m->legacy_public_key);
    X509_free(m->cert);
    gw_sns_certs_free(m->certs);
    gw_endpoint_auth_destroy(m->auth);
    memset(m, 0, sizeof *m);
}

/* The file PATH through config/secret_ref's loader: "file:" + PATH, one trailing newline
 * dropped, and with PRIVATE refused when group or others may read it, as the config does. */
static int load_file(const char *path, bool private, struct gw_secret *out, FILE *err)
{
    char ref[PATH_MAX + 8];
    char why[512];
    int n = snprintf(ref, sizeof ref, "file:%s", path);
    if (n < 0 || (size_t)n >= sizeof ref) {
        fprintf(err, "ctgw verify: path too long: %s\n", path);
        return -1;
    }
    unsigned allow = GW_REF_FILE | (private ? GW_REF_PRIVATE : 0u);
    if (gw_secret_ref_load(ref, allow, NULL, out, why, sizeof why) != 0) {
        fprintf(err, "ctgw verify: %s\n", why);
        return -1;
    }
    return 0;
}

static EVP_PKEY *load_key(const char *path, enum gw_ghl_key_kind kind, FILE *err)
{
    struct gw_secret pem = {0};
    char why[256];
    if (load_file(path, false, &pem, err) != 0)
        return NULL;
    EVP_PKEY *key = gw_ghl_load_public_key(pem.data, pem.len, kind, why, sizeof why);
    if (key == NULL)
        fprintf(err, "ctgw verify: %s: %s\n", path, why);
    gw_secret_wipe(&pem);
    return key;
}

/* SendGrid's public key (base64 of its DER, or a PEM), for --scheme sendgrid. */
static EVP_PKEY *load_ec_key(const char *path, FILE *err)
{
    struct gw_secret text = {0};
    char why[256];
    if (load_file(path, false, &text, err) != 0)
        return NULL;
    EVP_PKEY *key = gw_sendgrid_load_public_key(text.data, text.len, why, sizeof why);
    if (key == NULL)
        fprintf(err, "ctgw verify: %s: %s\n", path, why);
    gw_secret_wipe(&text);
    return key;
}

/* The first object READ finds in the PEM file PATH (PRIVATE: only its owner may read the
 * file), or NULL with WHAT said missing. */
static void *load_pem(const char *path, bool private, void *(*read)(BIO *), const char *cmd,
                      const char *what, FILE *err)
{
    struct gw_secret pem = {0};
    if (load_file(path, private, &pem, err) != 0)
        return NULL;
    void *obj = NULL;
    BIO *bio = pem.len <= PEM_FILE_MAX ? BIO_new_mem_buf(pem.data, (int)pem.len) : NULL;
    if (bio != NULL)
        obj = read(bio);
    BIO_free(bio);
    gw_secret_wipe(&pem);
    if (obj == NULL)
        fprintf(err, "ctgw %s: %s: no %s in it\n", cmd, path, what);
    return obj;
}

static void *read_cert(BIO *bio)
{
    return PEM_read_bio_X509(bio, NULL, NULL, NULL);
}

static void *read_private_key(BIO *bio)
{
    return PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
}

static X509 *load_cert(const char *path, FILE *err)
{
    return load_pem(path, false, read_cert, "verify", "PEM certificate", err);
}

/* The sns lookup for --cert-file: that certificate whatever the URL (which the verifier has
 * already checked against the host pattern), as a new reference. */
static X509 *fixed_cert(void *ctx, const char *url, char *why, size_t why_len)
{
    (void)url;
    (void)why;
    (void)why_len;
    X509 *cert = ctx;
    X509_up_ref(cert);
    return cert;
}

static struct gw_config *load_config(const char *path, const char *cmd, FILE *err)
{
    struct gw_config_errors errs = {0};
    struct gw_config *cfg = gw_config_load(path, &gw_providers_for_config, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(err, "%s\n", errs.lines[i]);
    if (cfg == NULL)
        fprintf(err, "ctgw %s: %s is not a valid config (%zu error%s)\n", cmd, path, errs.n,
                errs.n == 1 ? "" : "s");
    gw_config_errors_finish(&errs);
    return cfg;
}

static const struct gw_endpoint_config *find_endpoint(const struct gw_config *cfg, const char *id,
                                                      const char *cmd, FILE *err)
{
    const struct gw_endpoint_config *ep = gw_config_endpoint(cfg, id);
    if (ep == NULL) {
        fprintf(err, "ctgw %s: no endpoint '%s' in %s; its endpoints:", cmd, id, cfg->path);
        for (size_t i = 0; i < cfg->n_endpoints; i++)
            fprintf(err, " %s", cfg->endpoints[i].id);
        fputc('\n', err);
    }
    return ep;
}

/* ------------------------------------------------------------------ ctgw verify */

static const struct option verify_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"request", required_argument, NULL, OPT_REQUEST},
    {"now", required_argument, NULL, OPT_NOW},
    {"scheme", required_argument, NULL, OPT_SCHEME},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"legacy-key-file", required_argument, NULL, OPT_LEGACY_KEY_FILE},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"cert-file", required_argument, NULL, OPT_CERT_FILE},
    {"cert-host-pattern", required_argument, NULL, OPT_CERT_HOST_PATTERN},
    {"token-header", required_argument, NULL, OPT_TOKEN_HEADER},
    {"tolerance", required_argument, NULL, OPT_TOLERANCE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void verify_usage(FILE *f)
{
    char names[256];
    gw_verifier_names(names, sizeof names);
    fprintf(f,
            "usage: ctgw verify -c FILE --endpoint ID --request FILE [--now UNIX_TIME]\n"
            "       ctgw verify --scheme NAME --secret-file F [--secret-file F2 ...]\n"
            "                   [--key-file PEM] [--legacy-key-file PEM] [--topic ARN ...]\n"
            "                   [--cert-file PEM] [--cert-host-pattern P] [--token-header H]\n"
            "                   [--tolerance SECONDS] --request FILE [--now UNIX_TIME]\n"
            "schemes: %s\n"
            "exit 0: verifies; 1: does not; 2: bad arguments or files\n",
            names);
}

/* Checks the options of the mode chosen; returns false with a message when they conflict. */
static bool verify_opts_ok(const struct opts *o, FILE *err)
{
    bool by_config = o->config != NULL || o->endpoint != NULL;
    bool scheme_only = o->n_secret_files > 0 || o->key_file != NULL || o->legacy_key_file != NULL ||
                       o->n_topics > 0 || o->cert_file != NULL || o->cert_host_pattern != NULL ||
                       o->token_header != NULL;
    if (o->request == NULL) {
        fprintf(err, "ctgw verify: --request FILE is required\n");
        return false;
    }
    if (by_config && o->scheme != NULL) {
        fprintf(err, "ctgw verify: give either -c FILE --endpoint ID or --scheme NAME\n");
        return false;
    }
    if (by_config && (o->config == NULL || o->endpoint == NULL)) {
        fprintf(err, "ctgw verify: -c FILE and --endpoint ID go together\n");
        return false;
    }
    if (by_config && scheme_only) {
        fprintf(err, "ctgw verify: with -c the endpoint's own secrets and keys are used; "
                     "--secret-file and the key options are for --scheme\n");
        return false;
    }
    if (!by_config && o->scheme == NULL) {
        fprintf(err, "ctgw verify: give -c FILE --endpoint ID, or --scheme NAME\n");
        return false;
    }
    return true;
}

/* Fills M and the input from the --scheme options. */
static int material_from_options(const struct opts *o, const struct gw_verifier *s,
                                 struct material *m, struct gw_verify_input *in, FILE *err)
{
    for (size_t i = 0; i < o->n_secret_files; i++) {
        if (load_file(o->secret_files[i], true, &m->secrets[m->n_secrets], err) != 0)
            return -1;
        m->n_secrets++;
    }
    if ((s->needs & GW_SCHEME_NEEDS_SECRETS) && m->n_secrets == 0) {
        fprintf(err, "ctgw verify: scheme %s needs --secret-file\n", s->name);
        return -1;
    }
    if (o->key_file != NULL &&
        (m->public_key = (s->needs & GW_SCHEME_NEEDS_EC_KEY)
                             ? load_ec_key(o->key_file, err)
                             : load_key(o->key_file, GW_GHL_KEY_ED25519, err)) == NULL)
        return -1;
    if (o->legacy_key_file != NULL &&
        (m->legacy_public_key = load_key(o->legacy_key_file, GW_GHL_KEY_RSA, err)) == NULL)
        return -1;
    if (o->cert_file != NULL && (m->cert = load_cert(o->cert_file, err)) == NULL)
        return -1;
    if ((s->needs & GW_SCHEME_NEEDS_TOPICS) && m->cert == NULL) {
        /* No certificate given: fetch it from SigningCertURL as the gateway does. */
        char why[256];
        struct gw_sns_certs_config cc = {.host_pattern = o->cert_host_pattern};
        m->certs = gw_sns_certs_new(&cc, why, sizeof why);
        if (m->certs == NULL) {
            fprintf(err, "ctgw verify: %s\n", why);
            return -1;
        }
    }
    in->secrets = m->secrets;
    in->n_secrets = m->n_secrets;
    in->public_key = m->public_key;
    in->legacy_public_key = m->legacy_public_key;
    in->topics = o->topics;
    in->n_topics = o->n_topics;
    in->cert_host_pattern = o->cert_host_pattern;
    in->token_header = o->token_header;
    if (m->cert != NULL) {
        in->cert_lookup = fixed_cert;
        in->cert_ctx = m->cert;
    } else if (m->certs != NULL) {
        in->cert_lookup = gw_sns_certs_lookup;
        in->cert_ctx = m->certs;
    }
    return 0;
}

static void warn_to(void *ctx, const char *text)
{
    fprintf(ctx, "ctgw verify: %s\n", text);
}

/* Fills M and the input from the endpoint's keys through the builder `serve` uses
 * (adapters/endpoint_auth.h). A one-off check has nothing to replay against: no mailgun
 * replay cache. */
static int material_from_endpoint(const struct gw_endpoint_config *ep, struct material *m,
                                  struct gw_verify_input *in, FILE *err)
{
    char why[512];
    m->auth = gw_endpoint_auth_create(ep, GW_ENDPOINT_AUTH_ONE_OFF, warn_to, err, why, sizeof why);
    if (m->auth == NULL) {
        fprintf(err, "ctgw verify: %s\n", why);
        return -1;
    }
    gw_endpoint_auth_fill(m->auth, in);
    return 0;
}

/* The request's path should be the endpoint's; a mismatch is worth a line, not a refusal. */
static void check_target(FILE *out, const char *target, const char *endpoint_id)
{
    char want[128];
    snprintf(want, sizeof want, "/hooks/%s", endpoint_id);
    size_t wl = strlen(want);
    if (strncmp(target, want, wl) != 0 || (target[wl] != '\0' && target[wl] != '?'))
        fprintf(out, "warning    the request went to %s, not %s\n", target, want);
}

/* What one `ctgw verify` run works on. */
struct verify_run {
    struct gw_config *cfg;
    const struct gw_endpoint_config *ep; /* with -c: the endpoint */
    const struct gw_verifier *scheme;
    bool not_served; /* the endpoint's provider verifies but is not served yet */
    struct gw_captured_request *req;
    unsigned char *file;
    size_t file_len;
    struct material m;
};

/* The scheme to check with: the endpoint's (-c FILE --endpoint ID) or --scheme NAME. */
static int find_scheme(const struct opts *o, struct verify_run *v, FILE *err)
{
    if (o->config == NULL) {
        if ((v->scheme = gw_verifier_find(o->scheme)) != NULL)
            return 0;
        char names[256];
        gw_verifier_names(names, sizeof names);
        fprintf(err, "ctgw verify: unknown scheme '%s'; schemes: %s\n", o->scheme, names);
        return -1;
    }
    if ((v->cfg = load_config(o->config, "verify", err)) == NULL ||
        (v->ep = find_endpoint(v->cfg, o->endpoint, "verify", err)) == NULL)
        return -1;
    v->scheme = gw_endpoint_verifier(v->ep);
    if (v->scheme == NULL) {
        fprintf(err, "ctgw verify: provider %s of endpoint %s has no verifier\n",
                v->ep->provider != NULL ? v->ep->provider->name : "?", v->ep->id);
        return -1;
    }
    /* Until its adapter arrives, a provider's requests can be checked here, not served. */
    v->not_served = v->ep->provider->envelope == NULL;
    return 0;
}

/* Reads and parses the captured request file. */
static int read_captured(const struct opts *o, struct verify_run *v, FILE *err)
{
    char why[512];
    if (gw_captured_read_file(o->request, GW_CAPTURED_FILE_MAX, &v->file, &v->file_len, why,
                              sizeof why) != 0) {
        fprintf(err, "ctgw verify: %s\n", why);
        return -1;
    }
    v->req = malloc(sizeof *v->req);
    if (v->req == NULL) {
        fprintf(err, "ctgw verify: out of memory\n");
        return -1;
    }
    struct gw_captured_error perr;
    if (gw_captured_request_parse(v->file, v->file_len, v->req, &perr) != 0) {
        if (perr.line > 0)
            fprintf(err, "ctgw verify: %s:%u: %s\n", o->request, perr.line, perr.what);
        else
            fprintf(err, "ctgw verify: %s: %s (at byte %zu)\n", o->request, perr.what, perr.offset);
        return -1;
    }
    return 0;
}

/* The screen: the request, what was checked with, and the result with its reason. */
static void print_report(FILE *out, const struct opts *o, const struct verify_run *v,
                         const struct gw_verify_input *in, int64_t now, enum gw_verify_result r,
                         const struct gw_verify_detail *d)
{
    char t1[40];
    print_request(out, v->req, o->request, in);
    if (v->ep != NULL) {
        fprintf(out, "endpoint   %s (provider %s) from %s\n", v->ep->id, v->ep->provider->name,
                v->cfg->path);
        check_target(out, v->req->target, v->ep->id);
    }
    fprintf(out, "scheme     %s%s\n", v->scheme->name,
            v->not_served ? " (its provider is not served yet)" : "");
    if (v->scheme->needs & GW_SCHEME_NEEDS_SECRETS)
        fprintf(out, "secrets    %zu configured, newest first\n", in->n_secrets);
    if (v->scheme->needs & GW_SCHEME_NEEDS_PUBLIC_KEYS)
        fprintf(out, "keys       ed25519 %s, legacy rsa %s\n",
                in->public_key != NULL ? "given" : "none",
                in->legacy_public_key != NULL ? "given" : "none");
    if (v->scheme->needs & GW_SCHEME_NEEDS_TOPICS)
        fprintf(out, "topics     %zu allowed; certificate %s\n", in->n_topics,
                v->m.cert != NULL ? "from --cert-file" : "fetched from SigningCertURL");
    fprintf(out, "now        %" PRId64 " (%s)%s\n", now, iso_time(now, t1, sizeof t1),
            o->have_now ? " from --now" : "");
    print_detail(out, r, d, now, in->n_secrets, v->scheme->needs);
}

/* "Signature right, timestamp stale": checks again as of the request's own time, and hints
 * at an editor's newline when no secret matched. */
static void print_explanations(FILE *out, const struct verify_run *v,
                               const struct gw_verify_input *in, enum gw_verify_result r,
                               const struct gw_verify_detail *d)
{
    if (r == GW_VERIFY_TIMESTAMP_OUTSIDE && d->timestamp > 0) {
        struct gw_verify_input then = *in;
        struct gw_verify_detail d2;
        memset(&d2, 0, sizeof d2);
        then.now = (time_t)d->timestamp;
        enum gw_verify_result r2 = v->scheme->verify(&then, &d2);
        if (r2 == GW_VERIFY_OK)
            fprintf(out,
                    "as of then with --now %" PRId64 " it verifies with secret #%d:\n"
                    "           the signature is right, the request is stale (replayed or "
                    "held back)\n",
                    d->timestamp, d2.secret_index);
        else
            fprintf(out, "as of then with --now %" PRId64 " it still fails: %s\n", d->timestamp,
                    gw_verify_result_name(r2));
    }
    const struct gw_captured_request *req = v->req;
    if (r == GW_VERIFY_NO_SECRET_MATCHED && !req->content_length && req->body_len > 0 &&
        req->body[req->body_len - 1] == '\n')
        fprintf(out, "hint       the body ends with a newline and the file has no Content-Length:"
                     " if an editor added it, it is signed too\n");
}

static int verify_run(const struct opts *o, FILE *out, FILE *err)
{
    struct verify_run v = {0};
    int rc = GW_CLI_USAGE;
    if (find_scheme(o, &v, err) != 0 || read_captured(o, &v, err) != 0)
        goto done;
    int64_t now = o->have_now ? o->now : (int64_t)time(NULL);
    struct gw_verify_input in = {
        .body = v.req->body,
        .body_len = v.req->body_len,
        .headers = &v.req->headers,
        .now = (time_t)now,
    };
    if (v.ep != NULL ? material_from_endpoint(v.ep, &v.m, &in, err) != 0
                     : material_from_options(o, v.scheme, &v.m, &in, err) != 0)
        goto done;
    if (o->have_tolerance)
        in.tolerance_s = o->tolerance_s;
    struct gw_verify_detail d;
    memset(&d, 0, sizeof d);
    enum gw_verify_result r = v.scheme->verify(&in, &d);
    print_report(out, o, &v, &in, now, r, &d);
    print_explanations(out, &v, &in, r, &d);
    rc = r == GW_VERIFY_OK ? GW_CLI_OK : GW_CLI_REFUSED;
done:
    material_finish(&v.m);
    free(v.req);
    free(v.file);
    gw_config_destroy(v.cfg);
    return rc;
}

int gw_cli_verify(int argc, char **argv, FILE *out, FILE *err)
{
    struct opts o;
    int p = parse_opts(argc, argv, verify_options, &o, err);
    if (p == 1) {
        verify_usage(out);
        return GW_CLI_OK;
    }
    if (p != 0 || !verify_opts_ok(&o, err)) {
        verify_usage(err);
        return GW_CLI_USAGE;
    }
    return verify_run(&o, out, err);
}

/* ------------------------------------------------------------------ ctgw sign */

static const struct option sign_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"body", required_argument, NULL, OPT_BODY},
    {"raw", no_argument, NULL, OPT_RAW},
    {"now", required_argument, NULL, OPT_NOW},
    {"id", required_argument, NULL, OPT_ID},
    {"key", required_argument, NULL, OPT_KEY},
    {"cert-url", required_argument, NULL, OPT_CERT_URL},
    {"signature-version", required_argument, NULL, OPT_SIGNATURE_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void sign_usage(FILE *f)
{
    fprintf(f, "usage: ctgw sign -c FILE --endpoint ID --body FILE [--raw] [--now UNIX_TIME] "
               "[--id ID] [--key FILE]\n"
               "       ctgw sign -c FILE --endpoint ID --body FILE --key PEM --cert-url URL\n"
               "                 [--signature-version 1|2] [--raw]      (sns: email-ses)\n"
               "prints a curl command (--raw: the HTTP request) signed with the endpoint's "
               "newest secret,\n"
               "or for ghl (Ed25519) and a SendGrid signed policy (EC P-256) with the private "
               "key in FILE (PEM, readable by its owner only);\n"
               "or for sns (email-ses) with the RSA private key PEM, the body's "
               "SigningCertURL set to --cert-url URL;\n"
               "a basic-auth or token endpoint's credential is never printed (curl asks for "
               "the password, reads $" GW_SIGN_TOKEN_ENV ")\n");
}

/* ghl: x-ghl-signature, base64 of the Ed25519 signature of the body, as HighLevel signs
 * with its own key; a developer signs with a test key whose public half the endpoint has. */
static int sign_ghl(const char *key_file, const unsigned char *body, size_t body_len,
                    struct gw_signed *out, FILE *err)
{
    struct gw_secret pem = {0};
    if (load_file(key_file, true, &pem, err) != 0)
        return -1;
    BIO *bio = pem.len <= PEM_FILE_MAX ? BIO_new_mem_buf(pem.data, (int)pem.len) : NULL;
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    gw_secret_wipe(&pem);
    ERR_clear_error();
    int rc = -1;
    unsigned char sig[64];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = key != NULL ? EVP_MD_CTX_new() : NULL;
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        fprintf(err,
                "ctgw sign: %s: not a PEM Ed25519 private key (-----BEGIN PRIVATE "
                "KEY-----)\n",
                key_file);
    } else if (md == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
               EVP_DigestSign(md, sig, &sig_len, body, body_len) != 1) {
        ERR_clear_error();
        fprintf(err, "ctgw sign: signing with %s failed\n", key_file);
    } else {
        memset(out, 0, sizeof *out);
        snprintf(out->headers[0].name, sizeof out->headers[0].name, "x-ghl-signature");
        if (gw_base64_encode(sig, sig_len, out->headers[0].value, sizeof out->headers[0].value, 0) >
            0) {
            out->n_headers = 1;
            rc = 0;
        }
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return rc;
}

/* Signs BODY for EP with the private key in KEY_FILE, for schemes whose requests are signed
 * with a provider's private key rather than a shared secret. */
static int sign_with_key(const struct gw_endpoint_config *ep, const struct gw_verifier *s,
                         const char *key_file, int64_t timestamp, const unsigned char *body,
                         size_t body_len, struct gw_signed *out, FILE *err)
{
    char why[512];
    if (s != NULL && (s->needs & GW_SCHEME_NEEDS_EC_KEY)) {
        if (gw_sign_ecdsa(key_file, timestamp, body, body_len, out, why, sizeof why) == 0)
            return 0;
        fprintf(err, "ctgw sign: endpoint %s: %s\n", ep->id, why);
        return -1;
    }
    if (key_file != NULL && s != NULL && strcmp(s->name, "ghl") == 0)
        return sign_ghl(key_file, body, body_len, out, err);
    fprintf(err, "ctgw sign: endpoint %s uses %s, which is not signed with a private key\n", ep->id,
            s != NULL ? s->name : "no scheme");
    return -1;
}

/* S as one shell word in single quotes. */
static void shell_quote(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}

/* host[:port] of the public listener as a client reaches it: a wildcard address means this
 * machine, an IPv6 address needs brackets. */
static void listen_host(const struct gw_listen_config *l, char *buf, size_t len)
{
    const char *a = l->address != NULL ? l->address : "0.0.0.0";
    if (strcmp(a, "0.0.0.0") == 0 || a[0] == '\0')
        a = "127.0.0.1";
    else if (strcmp(a, "::") == 0)
        a = "::1";
    if (strchr(a, ':') != NULL)
        snprintf(buf, len, "[%s]:%u", a, (unsigned)l->port);
    else
        snprintf(buf, len, "%s:%u", a, (unsigned)l->port);
}

/* An RSA private key from the PEM file PATH, which only its owner may read. */
static EVP_PKEY *load_private_key(const char *path, FILE *err)
{
    return load_pem(path, true, read_private_key, "sign", "unencrypted PEM private key", err);
}

/* `ctgw sign` for an sns endpoint (email-ses): SNS signs the JSON body itself, so the body is
 * rewritten with SignatureVersion, SigningCertURL and Signature made with --key, and sent
 * inline; the x-amz-sns-* headers SNS adds are derived from it. */
static int sign_sns(const struct opts *o, const struct gw_config *cfg,
                    const struct gw_endpoint_config *ep, FILE *out, FILE *err)
{
    if (o->key == NULL || o->cert_url == NULL) {
        fprintf(err,
                "ctgw sign: endpoint %s is sns: --key PEM (the private key) and --cert-url "
                "URL (its certificate's SigningCertURL) are required\n",
                ep->id);
        return GW_CLI_USAGE;
    }
    char why[512];
    if (!gw_sns_cert_url_ok(o->cert_url, ep->cert_host_pattern, why, sizeof why))
        fprintf(err, "ctgw sign: warning: endpoint %s will refuse --cert-url: %s\n", ep->id, why);
    unsigned char *body = NULL;
    size_t body_len = 0;
    char *signed_body = NULL;
    size_t signed_len = 0;
    int rc = GW_CLI_USAGE;
    EVP_PKEY *key = load_private_key(o->key, err);
    if (key == NULL)
        goto done;
    if (gw_captured_read_file(o->body, GW_SNS_BODY_MAX, &body, &body_len, why, sizeof why) != 0) {
        fprintf(err, "ctgw sign: %s\n", why);
        goto done;
    }
    if (gw_sns_sign(body, body_len, key, o->signature_version != NULL ? o->signature_version : "2",
                    o->cert_url, &signed_body, &signed_len, why, sizeof why) != 0) {
        fprintf(err, "ctgw sign: %s: %s\n", o->body, why);
        goto done;
    }
    cJSON *msg = cJSON_Parse(signed_body);
    const char *names[] = {"x-amz-sns-message-type", "x-amz-sns-message-id", "x-amz-sns-topic-arn"};
    const char *fields[] = {"Type", "MessageId", "TopicArn"};
    char host[300];
    listen_host(&cfg->listen, host, sizeof host);
    const char *ctype = ep->provider->media_types != NULL && ep->provider->media_types[0] != NULL
                            ? ep->provider->media_types[0]
                            : "text/plain";
    char line[1200];
    if (o->raw)
        fprintf(out, "POST /hooks/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s; charset=UTF-8\r\n",
                ep->id, host, ctype);
    else
        fprintf(out,
                "curl -sS -X POST '%s://%s/hooks/%s' \\\n  -H 'Content-Type: %s; charset=UTF-8'",
                cfg->listen.tls.enabled ? "https" : "http", host, ep->id, ctype);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, fields[i]);
        if (!cJSON_IsString(v) || strlen(v->valuestring) > 1000 ||
            strpbrk(v->valuestring, "\r\n") != NULL)
            continue;
        snprintf(line, sizeof line, "%s: %s", names[i], v->valuestring);
        if (o->raw) {
            fprintf(out, "%s\r\n", line);
        } else {
            fputs(" \\\n  -H ", out);
            shell_quote(out, line);
        }
    }
    cJSON_Delete(msg);
    if (o->raw) {
        fprintf(out, "Content-Length: %zu\r\n\r\n", signed_len);
        fwrite(signed_body, 1, signed_len, out);
    } else {
        fputs(" \\\n  --data-binary ", out);
        shell_quote(out, signed_body);
        fputc('\n', out);
    }
    rc = GW_CLI_OK;
done:
    EVP_PKEY_free(key);
    free(body);
    free(signed_body);
    return rc;
}

/* Whether provider P takes MEDIA_TYPE. */
static bool takes(const struct gw_provider *p, const char *media_type)
{
    for (size_t i = 0; p->media_types != NULL && p->media_types[i] != NULL; i++)
        if (strcmp(p->media_types[i], media_type) == 0)
            return true;
    return false;
}

/* Signs BODY for EP with scheme S into SIG and X: the HMAC schemes with the newest secret
 * (and a multipart body's fields as parts), the credential schemes by reference, ghl and
 * SendGrid's policy with the private key --key. 0, or -1 with the reason printed. */
static int sign_request(const struct opts *o, const struct gw_endpoint_config *ep,
                        const struct gw_verifier *s, const unsigned char *body, size_t body_len,
                        struct gw_signed *sig, struct gw_sign_extra *x, FILE *err)
{
    char why[512];
    int64_t ts = o->have_now ? o->now : (int64_t)time(NULL);
    memset(sig, 0, sizeof *sig);
    if (s->needs & (GW_SCHEME_NEEDS_USER_PASSWORD | GW_SCHEME_NEEDS_TOKEN)) {
        if (o->raw) {
            fprintf(err,
                    "ctgw sign: endpoint %s takes a credential (%s), which ctgw never "
                    "prints: use the curl form, which takes it from $CTGW_PASSWORD or "
                    "$CTGW_TOKEN when it runs\n",
                    ep->id, s->name);
            return -1;
        }
        gw_sign_credential(ep, s, x);
    } else if (o->key != NULL || (s->needs & GW_SCHEME_NEEDS_EC_KEY)) {
        if (sign_with_key(ep, s, o->key, ts, body, body_len, sig, err) != 0)
            return -1;
    } else if (s->sign == NULL) {
        fprintf(err,
                "ctgw sign: endpoint %s uses %s, which ctgw cannot sign for with a secret (ghl "
                "is signed with a private key: give --key FILE)\n",
                ep->id, s->name);
        return -1;
    } else if (ep->n_secrets == 0) {
        fprintf(err, "ctgw sign: endpoint %s has no secrets to sign with\n", ep->id);
        return -1;
    } else {
        struct gw_sign_params p = {
            .body = body, .body_len = body_len, .timestamp = ts, .id = o->id};
        if (s->sign(&ep->secrets[0], &p, sig, why, sizeof why) != 0) {
            fprintf(err, "ctgw sign: %s with the newest secret of %s: %s\n", s->name, ep->id, why);
            return -1;
        }
    }
    if (takes(ep->provider, "multipart/form-data") &&
        gw_sign_form_parts(body, body_len, sig, x, why, sizeof why) < 0) {
        fprintf(err, "ctgw sign: %s\n", why);
        return -1;
    }
    return 0;
}

/* The request as HTTP: headers, then the body with what was put into it. */
static void print_raw(FILE *out, const struct gw_endpoint_config *ep, const char *host,
                      const char *ctype, const struct gw_signed *sig, const struct gw_sign_extra *x,
                      const unsigned char *body, size_t body_len)
{
    size_t at = x->insert_len > 0 ? x->insert_at : body_len;
    fprintf(out, "POST /hooks/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n", ep->id, host,
            ctype);
    for (size_t i = 0; i < sig->n_headers; i++)
        fprintf(out, "%s: %s\r\n", sig->headers[i].name, sig->headers[i].value);
    fprintf(out, "Content-Length: %zu\r\n\r\n", body_len + x->insert_len + sig->body_suffix_len);
    fwrite(body, 1, at, out);
    fwrite(x->insert, 1, x->insert_len, out);
    fwrite(body + at, 1, body_len - at, out);
    fwrite(sig->body_suffix, 1, sig->body_suffix_len, out);
}

/* BYTES as a printf(1) format in single quotes: CR, LF and backslash escaped, '%' doubled. */
static void printf_format(FILE *out, const char *bytes, size_t len)
{
    fputc('\'', out);
    for (size_t i = 0; i < len; i++) {
        char c = bytes[i];
        if (c == '\r')
            fputs("\\r", out);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\\')
            fputs("\\\\", out);
        else if (c == '%')
            fputs("%%", out);
        else if (c == '\'')
            fputs("'\\''", out);
        else
            fputc(c, out);
    }
    fputc('\'', out);
}

/* The request as a curl command. The body goes from its file byte for byte; curl joins a
 * second --data-binary with '&', which is how mailgun's signed fields are added to a
 * urlencoded form; parts put into a multipart body are spliced in by the shell. */
static void print_curl(FILE *out, const struct opts *o, const char *ep_id, const char *url,
                       const char *ctype, const struct gw_signed *sig,
                       const struct gw_sign_extra *x)
{
    char at[PATH_MAX + 2];
    snprintf(at, sizeof at, "@%s", o->body);
    if (x->token)
        fprintf(out, "# %s: the token of this endpoint, e.g. read -rs %s && export %s\n",
                GW_SIGN_TOKEN_ENV, GW_SIGN_TOKEN_ENV, GW_SIGN_TOKEN_ENV);
    if (x->insert_len > 0) {
        fprintf(out, "{ head -c %zu ", x->insert_at);
        shell_quote(out, o->body);
        fputs("; printf ", out);
        printf_format(out, x->insert, x->insert_len);
        fprintf(out, "; tail -c +%zu ", x->insert_at + 1);
        shell_quote(out, o->body);
        fputs("; } |\n", out);
        snprintf(at, sizeof at, "@-");
    }
    fputs("curl -sS -X POST ", out);
    shell_quote(out, url);
    char line[GW_SIGNED_NAME_MAX + GW_SIGNED_VALUE_MAX + GW_FORM_CONTENT_TYPE_MAX + 64];
    snprintf(line, sizeof line, "Content-Type: %s", ctype);
    fputs(" \\\n  -H ", out);
    shell_quote(out, line);
    for (size_t i = 0; i < sig->n_headers; i++) {
        snprintf(line, sizeof line, "%s: %s", sig->headers[i].name, sig->headers[i].value);
        fputs(" \\\n  -H ", out);
        shell_quote(out, line);
    }
    if (x->user != NULL) {
        /* The password from the environment when curl runs: never on the command line. */
        fputs(" \\\n  -u ", out);
        shell_quote(out, x->user);
        fprintf(out, "\":${CTGW_PASSWORD:?set CTGW_PASSWORD to the password of endpoint %s}\"",
                ep_id);
    }
    if (x->token)
        fprintf(out, " \\\n  -H \"%s: %s$%s\"", x->token_header ? x->token_header : "Authorization",
                x->token_header ? "" : "Bearer ", GW_SIGN_TOKEN_ENV);
    fputs(" \\\n  --data-binary ", out);
    shell_quote(out, at);
    if (sig->body_suffix_len > 0) {
        const char *fields = sig->body_suffix[0] == '&' ? sig->body_suffix + 1 : sig->body_suffix;
        fputs(" \\\n  --data-binary ", out);
        shell_quote(out, fields);
    }
    fputc('\n', out);
}

static int sign_run(const struct opts *o, FILE *out, FILE *err)
{
    struct gw_config *cfg = NULL;
    unsigned char *body = NULL;
    size_t body_len = 0;
    int rc = GW_CLI_USAGE;
    char why[512];

    if ((cfg = load_config(o->config, "sign", err)) == NULL)
        goto done;
    const struct gw_endpoint_config *ep = find_endpoint(cfg, o->endpoint, "sign", err);
    if (ep == NULL)
        goto done;
    const struct gw_verifier *s = gw_endpoint_verifier(ep);
    if (s != NULL && (s->needs & GW_SCHEME_NEEDS_TOPICS)) {
        rc = sign_sns(o, cfg, ep, out, err);
        goto done;
    }
    if (s == NULL) {
        fprintf(err, "ctgw sign: endpoint %s has no scheme\n", ep->id);
        goto done;
    }
    if (gw_captured_read_file(o->body,
                              ep->max_body > 0 ? (size_t)ep->max_body : GW_CAPTURED_FILE_MAX, &body,
                              &body_len, why, sizeof why) != 0) {
        fprintf(err, "ctgw sign: %s (the endpoint's max_body is %" PRIu64 " bytes)\n", why,
                ep->max_body);
        goto done;
    }
    struct gw_signed sig;
    struct gw_sign_extra x = {.content_type = ""};
    if (sign_request(o, ep, s, body, body_len, &sig, &x, err) != 0)
        goto done;
    const char *ctype = s->content_type;
    if (ep->provider->media_types != NULL && ep->provider->media_types[0] != NULL)
        ctype = ep->provider->media_types[0];
    if (x.content_type[0] != '\0')
        ctype = x.content_type;
    char host[300];
    listen_host(&cfg->listen, host, sizeof host);
    if (o->raw) {
        print_raw(out, ep, host, ctype, &sig, &x, body, body_len);
    } else {
        char url[512];
        snprintf(url, sizeof url, "%s://%s/hooks/%s", cfg->listen.tls.enabled ? "https" : "http",
                 host, ep->id);
        print_curl(out, o, ep->id, url, ctype, &sig, &x);
    }
    rc = GW_CLI_OK;
done:
    free(body);
    gw_config_destroy(cfg);
    return rc;
}

int gw_cli_sign(int argc, char **argv, FILE *out, FILE *err)
{
    struct opts o;
    int p = parse_opts(argc, argv, sign_options, &o, err);
    if (p == 1) {
        sign_usage(out);
        return GW_CLI_OK;
    }
    if (p != 0 || o.config == NULL || o.endpoint == NULL || o.body == NULL) {
        if (p == 0)
            fprintf(err, "ctgw sign: -c FILE, --endpoint ID and --body FILE are required\n");
        sign_usage(err);
        return GW_CLI_USAGE;
    }
    return sign_run(&o, out, err);
}
