/* xero.h — Xero webhooks: x-xero-signature is base64(HMAC-SHA256(webhook key, raw body)). */
#ifndef CTGW_XERO_H
#define CTGW_XERO_H

#include <stddef.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

/* Name "xero". Reads x-xero-signature: the canonical padded base64 of 32 bytes (44
 * characters, no spaces). A header that is absent or repeated gives
 * GW_VERIFY_MISSING_HEADER. The scheme has no timestamp (tolerance_s and now are not used;
 * detail->timestamp stays 0); the gateway's deduplication stands in for a replay window.
 * Each secret is the webhook key, used as its ASCII bytes (not base64-decoded). This is also
 * what Xero's "Intent to Receive" check sends: a wrong signature must get a 401. */
extern const struct gw_verifier gw_verifier_xero;

/* Bytes gw_xero_sign needs: 44 base64 characters + NUL. */
#define GW_XERO_SIGNATURE_SIZE 45

/* Writes the x-xero-signature value of BODY with SECRET into OUT (NUL-terminated). Returns
 * 0, or -1 — with OUT empty when OUT_LEN > 0 — when the secret is empty or OUT_LEN is below
 * GW_XERO_SIGNATURE_SIZE. For tests and tools. */
int gw_xero_sign(const struct gw_secret *secret, const unsigned char *body, size_t body_len,
                 char *out, size_t out_len);

#endif
