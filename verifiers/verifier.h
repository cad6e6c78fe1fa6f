/* verifier.h — the interface every authentication scheme implements: a pure function of the
 * raw body, the request headers, the endpoint's secrets and the current time, answering ok
 * or one specific reason. Verifiers never log, never allocate what they return, and never
 * read the body beyond what their scheme signs. */
#ifndef CTGW_VERIFIER_H
#define CTGW_VERIFIER_H

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
    /* mailgun: a struct gw_mailgun_cache * from gw_mailgun_cache_create (verifiers/mailgun.h)
     * remembering the tokens of requests already accepted, so a captured request cannot be
     * replayed inside the window; NULL disables that check. Other schemes ignore it. */
    void *replay_cache;
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

struct gw_verifier {
    const char *name; /* scheme name, e.g. "standard-webhooks" */
    enum gw_verify_result (*verify)(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail);
};

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
