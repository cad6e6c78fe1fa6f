/* schemes.h — the one table of authentication schemes by name: each scheme's verifier, what it
 * needs configured, and, for the HMAC and Standard Webhooks families, a signer that builds the
 * headers (or form fields) a provider would send. For `ctgw verify`, `ctgw sign`, the fuzzers
 * and bench/. */
#ifndef CTGW_SCHEMES_H
#define CTGW_SCHEMES_H

#include <stddef.h>
#include <stdint.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

/* What a scheme reads from the endpoint besides the request. */
enum {
    GW_SCHEME_NEEDS_SECRETS = 1u << 0,     /* in->secrets: shared secrets or credentials */
    GW_SCHEME_NEEDS_PUBLIC_KEYS = 1u << 1, /* in->public_key / legacy_public_key (ghl) */
    GW_SCHEME_NEEDS_TOPICS = 1u << 2,      /* in->topics and a certificate lookup (sns) */
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

struct gw_scheme {
    const char *name; /* as in `ctgw verify --scheme NAME`, equal to verifier->name */
    const struct gw_verifier *verifier;
    unsigned needs;           /* GW_SCHEME_NEEDS_* */
    const char *content_type; /* what this scheme's providers send, for `ctgw sign` */
    /* Signs P with SECRET into OUT (reset first). Returns 0, or -1 with a reason in ERR (never
     * secret bytes) when the secret or the parameters cannot be used. NULL for schemes whose
     * requests are signed with a private key we do not have (ghl, sns) or carry a credential
     * rather than a signature (basic-auth, token). */
    int (*sign)(const struct gw_secret *secret, const struct gw_sign_params *p,
                struct gw_signed *out, char *err, size_t err_len);
};

/* Every scheme, terminated by an entry whose name is NULL. */
extern const struct gw_scheme gw_schemes[];

/* The scheme called NAME, or NULL. */
const struct gw_scheme *gw_scheme_find(const char *name);

/* The scheme whose verifier is V, or NULL. */
const struct gw_scheme *gw_scheme_for_verifier(const struct gw_verifier *v);

/* Writes "a, b, c" (every scheme name) into BUF, for usage and error messages. */
void gw_scheme_names(char *buf, size_t len);

#endif
