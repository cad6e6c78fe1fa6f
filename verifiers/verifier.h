/* verifier.h — the interface every authentication scheme implements: a pure function of the
 * raw body, the request headers, the endpoint's secrets and the current time, answering ok
 * or one specific reason. Verifiers never log, never allocate what they return, and never
 * read the body beyond what their scheme signs. Each scheme's descriptor (struct
 * gw_verifier) is defined at the bottom of its own file and listed once in verifiers.c. */
#ifndef CTGW_VERIFIER_H
#define CTGW_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/types.h> /* EVP_PKEY, X509: the ghl and sns keys */

#include "verifiers/secret.h"

/* Request headers as received, in order; names compared case-insensitively. */
struct gw_header {
    const char *name;
    const char *value;
};

struct gw_headers {
    const struct gw_header *items;
    size_t n;
};

/* The value of the first header called NAME, or NULL. */
const char *gw_headers_get(const struct gw_headers *h, const char *name);
/* How many headers are called NAME. */
size_t gw_headers_count(const struct gw_headers *h, const char *name);

enum gw_verify_result {
    GW_VERIFY_OK = 0,
    GW_VERIFY_MISSING_HEADER,    /* a header the scheme needs is absent (or repeated) */
    GW_VERIFY_MALFORMED_HEADER,  /* present but not of the scheme's form */
    GW_VERIFY_TIMESTAMP_OUTSIDE, /* the signed timestamp is outside the replay window */
    GW_VERIFY_NO_SECRET_MATCHED, /* well-formed, but no configured secret verifies it */
    GW_VERIFY_KEY_UNUSABLE,      /* a configured secret or key cannot be used */
};

/* Short stable names for logs, audit_log.reason and metrics: "missing_header", ... */
const char *gw_verify_result_name(enum gw_verify_result r);

struct gw_verify_input {
    const unsigned char *body; /* exactly as received */
    size_t body_len;
    const struct gw_headers *headers;
    const struct gw_secret *secrets; /* newest first; any one verifying is enough */
    size_t n_secrets;
    uint64_t tolerance_s; /* replay window for schemes with a timestamp */
    time_t now;
    /* ghl: the Ed25519 key for x-ghl-signature and the legacy RSA key (2048 bits or more)
     * for x-wh-signature, parsed once from the endpoint's PEM (gw_ghl_load_public_key); NULL
     * when not configured. Only read, so one key may serve several threads at once. */
    EVP_PKEY *public_key;
    EVP_PKEY *legacy_public_key;
    /* sns: the TopicArns the endpoint allows, compared exactly; an empty list allows none. */
    const char *const *topics;
    size_t n_topics;
    /* sns: the host[:port] patterns, comma-separated, a SigningCertURL must match ('*' is one
     * DNS label); NULL: GW_SNS_DEFAULT_CERT_HOST_PATTERN (sns.h). */
    const char *cert_host_pattern;
    /* sns: the certificate at a SigningCertURL that passed sns.c's URL checks, as a new
     * reference the verifier frees, or NULL with a reason in WHY. Blocking when it fetches
     * (sns_certs.h: gw_sns_certs_lookup with a struct gw_sns_certs as cert_ctx), so the
     * caller runs sns on a worker thread or with a lookup that only reads a cache. */
    X509 *(*cert_lookup)(void *cert_ctx, const char *url, char *why, size_t why_len);
    void *cert_ctx;
    /* mailgun: remembers the tokens of requests already accepted, so that a captured request
     * cannot be replayed inside the window. Called only for a request that verified, with
     * the signed timestamp and token exactly as sent and EXPIRES, after which no replay of
     * them can pass the window. Returns false once they are recorded (a new request), or true
     * with one sentence in WHY when the request must be refused: seen before, or not
     * recordable (a full cache fails closed). Must be safe to call from several threads at
     * once when inputs share REPLAY_CTX (gateway/net/mailgun_cache.h: gw_mailgun_cache_seen
     * with a struct gw_mailgun_cache). NULL disables the check. Other schemes ignore it. */
    bool (*replay_seen)(void *replay_ctx, const char *timestamp, size_t timestamp_len,
                        const char *token, size_t token_len, int64_t expires, int64_t now,
                        char *why, size_t why_len);
    void *replay_ctx;
    /* token: the header carrying the token. NULL means "Authorization" holding
     * "Bearer <token>" (scheme name in any case, then one or more spaces); a name means the
     * whole value of that header is the token, e.g. "X-Goog-Channel-Token". Other schemes
     * ignore it. */
    const char *token_header;
};

/* What a verifier found, for operators ("why is this 401?"). Never holds secret bytes. */
struct gw_verify_detail {
    char header[64];   /* the header the reason is about, when there is one */
    int secret_index;  /* index of the secret that verified, -1 when none */
    size_t signed_len; /* length of the string that was signed */
    int64_t timestamp; /* the request's timestamp, 0 when the scheme has none */
    char note[160];    /* one readable sentence, e.g. "timestamp 412 s in the past" */
};

/* What a scheme reads from the endpoint besides the request. The builder of a verifier's
 * input (adapters/endpoint_auth.h) goes by these flags, never by a scheme's name. */
enum {
    GW_SCHEME_NEEDS_SECRETS = 1u << 0,     /* in->secrets: shared secrets or credentials */
    GW_SCHEME_NEEDS_PUBLIC_KEYS = 1u << 1, /* in->public_key / legacy_public_key (ghl) */
    GW_SCHEME_NEEDS_TOPICS = 1u << 2,      /* in->topics and a certificate lookup (sns) */
    /* in->secrets is one "user:password" made of the endpoint's username and password. */
    GW_SCHEME_NEEDS_USER_PASSWORD = 1u << 3,
    /* in->secrets is the endpoint's token, in->token_header its header. */
    GW_SCHEME_NEEDS_TOKEN = 1u << 4,
    /* in->replay_seen: the tokens of requests accepted before (mailgun). */
    GW_SCHEME_NEEDS_REPLAY_CACHE = 1u << 5,
    /* in->public_key: the endpoint's public_key as an EC P-256 key (sendgrid). */
    GW_SCHEME_NEEDS_EC_KEY = 1u << 6,
};

/* Headers a signer writes at most, and the bounds of each. */
#define GW_SIGNED_HEADERS_MAX     4
#define GW_SIGNED_NAME_MAX        48
#define GW_SIGNED_VALUE_MAX       160
#define GW_SIGNED_BODY_SUFFIX_MAX 384

/* What a signer produced: headers to send, and bytes to append to the body (mailgun signs
 * form fields, not headers). All NUL-terminated; never holds a secret. */
struct gw_signed {
    struct {
        char name[GW_SIGNED_NAME_MAX];
        char value[GW_SIGNED_VALUE_MAX];
    } headers[GW_SIGNED_HEADERS_MAX];
    size_t n_headers;
    char body_suffix[GW_SIGNED_BODY_SUFFIX_MAX];
    size_t body_suffix_len;
};

/* What to sign. */
struct gw_sign_params {
    const unsigned char *body;
    size_t body_len;
    int64_t timestamp; /* unix seconds, >= 0 */
    /* The message id for schemes that sign one (standard-webhooks: webhook-id; mailgun: the
     * token). NULL: a random one is made. */
    const char *id;
};

/* One authentication scheme. */
struct gw_verifier {
    /* The scheme's name, e.g. "standard-webhooks", as in `ctgw verify --scheme NAME`. */
    const char *name;
    enum gw_verify_result (*verify)(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail);
    unsigned needs;           /* GW_SCHEME_NEEDS_* */
    const char *content_type; /* what this scheme's providers send, for `ctgw sign` */
    /* Signs P with SECRET into OUT (reset first), as a provider would, for `ctgw sign`, tests
     * and bench/. Returns 0, or -1 with a reason in ERR (never secret bytes) when the secret
     * or the parameters cannot be used. NULL for schemes whose requests are signed with a
     * private key we do not have (ghl, sns) or carry a credential rather than a signature
     * (basic-auth, token). */
    int (*sign)(const struct gw_secret *secret, const struct gw_sign_params *p,
                struct gw_signed *out, char *err, size_t err_len);
};

/* Every scheme, NULL-terminated, in a stable order (verifiers.c). */
extern const struct gw_verifier *const gw_verifiers[];

/* The scheme called NAME, or NULL. */
const struct gw_verifier *gw_verifier_find(const char *name);

/* Writes "a, b, c" (every scheme name) into BUF, for usage and error messages. */
void gw_verifier_names(char *buf, size_t len);

/* How every verify() starts: DETAIL, or SCRATCH when the caller passed NULL, cleared and
 * with no secret matched yet (secret_index -1). Returns the one to fill. */
struct gw_verify_detail *gw_verify_begin(struct gw_verify_detail *detail,
                                         struct gw_verify_detail *scratch);
/* IN's headers, or an empty set when there is no request or it has no headers. */
const struct gw_headers *gw_verify_headers(const struct gw_verify_input *in);

/* Fill a detail's header name and its note (bounded, truncated to fit), for verifiers. */
void gw_verify_set_header(struct gw_verify_detail *detail, const char *name);
void gw_verify_note(struct gw_verify_detail *detail, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The value of NAME when it is present exactly once; otherwise names it in the detail with
 * "is missing" or "appears N times" and returns NULL: the caller answers
 * GW_VERIFY_MISSING_HEADER. Repeated counts as missing: picking one copy would let a proxy's
 * added header decide the outcome. HEADERS may be NULL. */
const char *gw_verify_single_header(const struct gw_headers *headers, const char *name,
                                    struct gw_verify_detail *detail);

#endif
