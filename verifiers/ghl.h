/* ghl.h — GoHighLevel marketplace webhooks: Ed25519 x-ghl-signature, legacy RSA-SHA256
 * x-wh-signature, both over the raw body with HighLevel's published public keys. */
#ifndef CTGW_GHL_H
#define CTGW_GHL_H

#include <stddef.h>

#include <openssl/types.h>

#include "verifiers/verifier.h"

/* Name "ghl". Reads in->public_key, in->legacy_public_key, the body and two headers, in the
 * order HighLevel's own SDK uses:
 *   - x-ghl-signature present: verified with the Ed25519 key, and that answer is final (no
 *     fall back to the legacy header, so a stripped or broken current signature cannot be
 *     "rescued" by a replayed legacy one);
 *   - else x-wh-signature: verified with the RSA key (PKCS#1 v1.5, SHA-256);
 *   - neither: GW_VERIFY_MISSING_HEADER (detail header "x-ghl-signature").
 * A header sent twice is GW_VERIFY_MISSING_HEADER, as verifier.h says; the value "N/A"
 * (HighLevel's "not signed"), anything that is not padded base64 of the key's signature
 * size, or longer than GW_GHL_SIGNATURE_B64_MAX, is GW_VERIFY_MALFORMED_HEADER. The key the
 * header needs being absent, of the wrong type, or RSA below 2048 bits is
 * GW_VERIFY_KEY_UNUSABLE. detail->secret_index is 0 when the Ed25519 key verified and 1 when
 * the legacy key did. No timestamp is checked: the body's own `timestamp` is not a header,
 * and HighLevel's retries (on 429, up to ~70 minutes later) keep it, so replay protection is
 * the dedupe on webhookId. */
extern const struct gw_verifier gw_verifier_ghl;

/* Longest header value read: base64 of a 16384-bit RSA signature. */
#define GW_GHL_SIGNATURE_B64_MAX 2732

enum gw_ghl_key_kind {
    GW_GHL_KEY_ED25519, /* public_key */
    GW_GHL_KEY_RSA,     /* legacy_public_key */
};

/* Parses the PEM public key of LEN bytes at PEM ("-----BEGIN PUBLIC KEY-----", SPKI) and
 * checks it is of KIND (RSA: 2048 bits or more). Returns the key (EVP_PKEY_free it), or
 * NULL with a reason in ERR (never key bytes). For the config loader and `ctgw verify`. */
EVP_PKEY *gw_ghl_load_public_key(const char *pem, size_t len, enum gw_ghl_key_kind kind, char *err,
                                 size_t err_len);

#endif
