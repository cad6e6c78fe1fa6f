/* asana.h — Asana webhooks: X-Hook-Signature is hex(HMAC-SHA256(hook secret, raw body)),
 * and the X-Hook-Secret handshake that hands the secret over when a webhook is created. */
#ifndef CTGW_ASANA_H
#define CTGW_ASANA_H

#include <stdbool.h>
#include <stddef.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

/* Name "asana". Reads X-Hook-Signature: exactly 64 lowercase hex digits. A header that is
 * absent or repeated gives GW_VERIFY_MISSING_HEADER — a handshake too, since it carries no
 * signature: the adapter asks gw_asana_is_handshake first and answers it itself. No
 * timestamp (tolerance_s and now are not used). Each secret is the X-Hook-Secret received at
 * the handshake, used as its ASCII bytes. */
extern const struct gw_verifier gw_verifier_asana;

/* True when the request is Asana's handshake: exactly one X-Hook-Secret, not empty, and no
 * X-Hook-Signature. A repeated X-Hook-Secret is not a handshake (which one would be echoed?),
 * nor is a request that also carries a signature (that is a delivery, verified as one). */
bool gw_asana_is_handshake(const struct gw_headers *h);

/* Bytes gw_asana_sign needs: 64 hex digits + NUL. */
#define GW_ASANA_SIGNATURE_SIZE 65

/* Writes the X-Hook-Signature value of BODY with SECRET into OUT (NUL-terminated). Returns 0,
 * or -1 — with OUT empty when OUT_LEN > 0 — when the secret is empty or OUT_LEN is below
 * GW_ASANA_SIGNATURE_SIZE. For tests and tools. */
int gw_asana_sign(const struct gw_secret *secret, const unsigned char *body, size_t body_len,
                  char *out, size_t out_len);

#endif
