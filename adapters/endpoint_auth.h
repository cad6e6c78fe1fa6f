/* endpoint_auth.h — the one builder of a verifier's input from an endpoint, for `serve` and
 * for `ctgw verify -c FILE --endpoint ID`. What costs something (parsing ghl keys, the sns
 * certificate source, the mailgun replay cache, the basic-auth credential) is prepared once
 * per endpoint; each request then only fills its struct gw_verify_input from it. What is
 * prepared follows the verifier's `needs` (verifiers/verifier.h), never its name. */
#ifndef CTGW_ENDPOINT_AUTH_H
#define CTGW_ENDPOINT_AUTH_H

#include <stddef.h>

#include "verifiers/verifier.h"

struct gw_endpoint_config;

enum {
    /* One check, not a server (`ctgw verify`): there is nothing to replay against, so no
     * mailgun replay cache is made. */
    GW_ENDPOINT_AUTH_ONE_OFF = 1u << 0,
};

/* An endpoint's verifier with what it needs, ready for any number of requests, from any
 * number of threads at once (keys are only read; the certificate source and the replay
 * cache are thread-safe). */
struct gw_endpoint_auth;

/* Prepares the verifier of EP's provider for EP. Reads EP (which must outlive the result)
 * as each scheme takes its keys: `secrets` and `tolerance` for the HMAC
 * family, `public_key` and `legacy_public_key` for ghl, `topics`, `cert_host_pattern` and
 * `ca_file` for sns, `username` and `password` for basic-auth, `header` and `token` for
 * token. A key the endpoint lacks is left out, and a ghl key that does not parse is left out
 * after WARN is called with "endpoint ID public_key: why" (WARN may be NULL): the verifier
 * then answers key_unusable, the answer the gateway gives. FLAGS: GW_ENDPOINT_AUTH_*.
 * Returns NULL with a reason in WHY when EP's provider has no verifier, the sns certificate
 * source cannot be made ("endpoint ID: why") or memory runs out ("out of memory"). */
struct gw_endpoint_auth *gw_endpoint_auth_create(const struct gw_endpoint_config *ep,
                                                 unsigned flags,
                                                 void (*warn)(void *ctx, const char *text),
                                                 void *warn_ctx, char *why, size_t why_len);

/* Frees A and wipes what it holds (NULL is fine). No verification may be using it. */
void gw_endpoint_auth_destroy(struct gw_endpoint_auth *a);

/* Sets every field of IN the endpoint decides (secrets, tolerance, keys, topics and
 * certificate lookup, token header, replay check) and leaves the request's own (body,
 * headers, now) as they are. Cheap: a few pointer copies per request. IN then points into A
 * and is valid while A is. The sns lookup never blocks a server's event loop: a certificate
 * not cached yet is fetched in the background (gw_sns_certs_lookup_prefetch) and the request
 * is answered key_unusable, which the gateway answers 503 so that SNS retries; with
 * GW_ENDPOINT_AUTH_ONE_OFF it is gw_sns_certs_lookup, which fetches (blocking). */
void gw_endpoint_auth_fill(const struct gw_endpoint_auth *a, struct gw_verify_input *in);

#endif
