/* endpoint_auth.c — prepares an endpoint's verifier input once (keys parsed, sources and
 * caches made) and fills each request's from it; shared by `serve` and `ctgw verify`. */
#include "adapters/endpoint_auth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/net/mailgun_cache.h"
#include "gateway/net/sns_certs.h"
#include "verifiers/ghl.h"
#include "verifiers/sendgrid.h"

struct gw_endpoint_auth {
    const struct gw_endpoint_config *ep;
    const struct gw_secret *secrets; /* the endpoint's, or `credential`, or its token */
    size_t n_secrets;
    struct gw_secret credential; /* basic-auth: "username:password", owned */
    const char *token_header;
    EVP_PKEY *public_key, *legacy_public_key;
    struct gw_sns_certs *certs;
    struct gw_mailgun_cache *replay;
    bool one_off; /* GW_ENDPOINT_AUTH_ONE_OFF */
};

__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t len, const char *fmt, ...)
{
    if (buf == NULL || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The key PEM of KEY_NAME parsed, or NULL (absent, or unusable after a warning). */
static EVP_PKEY *load_key(const struct gw_endpoint_config *ep, const struct gw_secret *pem,
                          const char *key_name, enum gw_ghl_key_kind kind,
                          void (*warn)(void *, const char *), void *warn_ctx)
{
    char why[256], text[512];
    if (pem->data == NULL)
        return NULL;
    EVP_PKEY *key = gw_ghl_load_public_key(pem->data, pem->len, kind, why, sizeof why);
    if (key == NULL && warn != NULL) {
        say(text, sizeof text, "endpoint %s %s: %s", ep->id, key_name, why);
        warn(warn_ctx, text);
    }
    return key;
}

/* The verifier takes basic-auth's credential as one "user:pass" secret. */
static int make_credential(struct gw_endpoint_auth *a)
{
    const struct gw_endpoint_config *ep = a->ep;
    size_t ul = strlen(ep->username), len = ul + 1 + ep->password.len;
    char *data = malloc(len + 1);
    if (data == NULL)
        return -1;
    memcpy(data, ep->username, ul);
    data[ul] = ':';
    memcpy(data + ul + 1, ep->password.data, ep->password.len);
    data[len] = '\0';
    a->credential.data = data;
    a->credential.len = len;
    a->secrets = &a->credential;
    a->n_secrets = 1;
    return 0;
}

struct gw_endpoint_auth *gw_endpoint_auth_create(const struct gw_endpoint_config *ep,
                                                 unsigned flags,
                                                 void (*warn)(void *ctx, const char *text),
                                                 void *warn_ctx, char *why, size_t why_len)
{
    const struct gw_verifier *v = gw_endpoint_verifier(ep);
    if (v == NULL) {
        say(why, why_len, "provider %s of endpoint %s has no verifier",
            ep->provider != NULL ? ep->provider->name : "?", ep->id);
        return NULL;
    }
    struct gw_endpoint_auth *a = calloc(1, sizeof *a);
    if (a == NULL) {
        say(why, why_len, "out of memory");
        return NULL;
    }
    a->ep = ep;
    a->one_off = (flags & GW_ENDPOINT_AUTH_ONE_OFF) != 0;
    a->secrets = ep->secrets;
    a->n_secrets = ep->n_secrets;
    if (v->needs & GW_SCHEME_NEEDS_PUBLIC_KEYS) {
        a->public_key =
            load_key(ep, &ep->public_key, "public_key", GW_GHL_KEY_ED25519, warn, warn_ctx);
        a->legacy_public_key = load_key(ep, &ep->legacy_public_key, "legacy_public_key",
                                        GW_GHL_KEY_RSA, warn, warn_ctx);
    }
    if ((v->needs & GW_SCHEME_NEEDS_EC_KEY) && ep->public_key.data != NULL) {
        char kwhy[256], text[512];
        a->public_key =
            gw_sendgrid_load_public_key(ep->public_key.data, ep->public_key.len, kwhy, sizeof kwhy);
        if (a->public_key == NULL && warn != NULL) {
            say(text, sizeof text, "endpoint %s public_key: %s", ep->id, kwhy);
            warn(warn_ctx, text);
        }
    }
    if (v->needs & GW_SCHEME_NEEDS_TOPICS) {
        char cwhy[256];
        struct gw_sns_certs_config cc = {.host_pattern = ep->cert_host_pattern,
                                         .ca_file = ep->ca_file};
        if ((a->certs = gw_sns_certs_new(&cc, cwhy, sizeof cwhy)) == NULL) {
            say(why, why_len, "endpoint %s: %s", ep->id, cwhy);
            goto fail;
        }
    }
    if ((v->needs & GW_SCHEME_NEEDS_USER_PASSWORD) && ep->username != NULL &&
        ep->password.data != NULL && make_credential(a) != 0) {
        say(why, why_len, "out of memory");
        goto fail;
    }
    if ((v->needs & GW_SCHEME_NEEDS_TOKEN) && ep->token.data != NULL) {
        a->secrets = &ep->token;
        a->n_secrets = 1;
        a->token_header = ep->header;
    }
    if ((v->needs & GW_SCHEME_NEEDS_REPLAY_CACHE) && !(flags & GW_ENDPOINT_AUTH_ONE_OFF) &&
        (a->replay = gw_mailgun_cache_create(0)) == NULL) {
        say(why, why_len, "out of memory");
        goto fail;
    }
    return a;
fail:
    gw_endpoint_auth_destroy(a);
    return NULL;
}

void gw_endpoint_auth_destroy(struct gw_endpoint_auth *a)
{
    if (a == NULL)
        return;
    if (a->credential.data != NULL) {
        OPENSSL_cleanse(a->credential.data, a->credential.len);
        free(a->credential.data);
    }
    EVP_PKEY_free(a->public_key);
    EVP_PKEY_free(a->legacy_public_key);
    gw_sns_certs_free(a->certs);
    gw_mailgun_cache_destroy(a->replay);
    free(a);
}

void gw_endpoint_auth_fill(const struct gw_endpoint_auth *a, struct gw_verify_input *in)
{
    const struct gw_endpoint_config *ep = a->ep;
    in->secrets = a->secrets;
    in->n_secrets = a->n_secrets;
    in->tolerance_s = ep->tolerance_ms / 1000; /* 0: the scheme's default */
    in->public_key = a->public_key;
    in->legacy_public_key = a->legacy_public_key;
    in->topics = NULL;
    in->n_topics = 0;
    in->cert_host_pattern = NULL;
    in->cert_lookup = NULL;
    in->cert_ctx = NULL;
    if (a->certs != NULL) {
        in->topics = (const char *const *)ep->topics;
        in->n_topics = ep->n_topics;
        in->cert_host_pattern = ep->cert_host_pattern;
        /* A server verifies on its event loop: it never waits for a fetch there, and the
         * sender's retry finds the certificate cached. A one-off check may wait. */
        in->cert_lookup = a->one_off ? gw_sns_certs_lookup : gw_sns_certs_lookup_prefetch;
        in->cert_ctx = a->certs;
    }
    in->replay_seen = a->replay != NULL ? gw_mailgun_cache_seen : NULL;
    in->replay_ctx = a->replay;
    in->token_header = a->token_header;
}
