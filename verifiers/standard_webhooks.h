/* standard_webhooks.h — the Standard Webhooks (standardwebhooks.com) symmetric scheme:
 * HMAC-SHA256 over "id.timestamp.body", sent as "v1,<base64>" entries. */
#ifndef CTGW_STANDARD_WEBHOOKS_H
#define CTGW_STANDARD_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

/* Name "standard-webhooks". Reads webhook-id, webhook-timestamp and webhook-signature, or the
 * branded svix-id, svix-timestamp and svix-signature when no webhook-* header is present.
 * A header that is absent or repeated gives GW_VERIFY_MISSING_HEADER (verifier.h). Secrets
 * are "whsec_" + base64 of the key, or the base64 alone; padding may be omitted. */
extern const struct gw_verifier gw_verifier_standard_webhooks;

/* Bytes gw_standard_webhooks_sign needs: "v1," + 44 base64 characters + NUL. */
#define GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE 48

/* Writes the signature entry "v1,<base64>" of BODY sent as MSG_ID at TIMESTAMP with SECRET
 * into OUT (NUL-terminated). Returns 0, or -1 — with OUT empty when OUT_LEN > 0 — when the
 * secret is unusable, OUT_LEN is below GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE, or the id or
 * timestamp could not be verified (id not 1..256 printable ASCII without spaces, timestamp
 * negative). For tests and tools; the gateway itself only verifies. */
int gw_standard_webhooks_sign(const struct gw_secret *secret, const char *msg_id, int64_t timestamp,
                              const unsigned char *body, size_t body_len, char *out,
                              size_t out_len);

#endif
