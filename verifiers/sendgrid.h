/* sendgrid.h — SendGrid's signed webhooks (Event Webhook, and the signed security policy an
 * Inbound Parse setting may carry): ECDSA P-256 with SHA-256 over timestamp + raw body, the
 * DER signature in base64, verified with the public key SendGrid returns for the policy. */
#ifndef CTGW_SENDGRID_H
#define CTGW_SENDGRID_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "verifiers/verifier.h"

#define GW_SENDGRID_SIGNATURE_HEADER "X-Twilio-Email-Event-Webhook-Signature"
#define GW_SENDGRID_TIMESTAMP_HEADER "X-Twilio-Email-Event-Webhook-Timestamp"

/* Longest signature header read: base64 of a DER ECDSA P-256 signature is at most 96. */
#define GW_SENDGRID_SIGNATURE_B64_MAX 128

/* Name "sendgrid". Reads in->public_key (an EC P-256 key, gw_sendgrid_load_public_key), the
 * body and two headers, each exactly once (absent or repeated: GW_VERIFY_MISSING_HEADER):
 *   - X-Twilio-Email-Event-Webhook-Timestamp: 1..19 decimal digits, within tolerance_s
 *     (default 300 s) of now, else GW_VERIFY_MALFORMED_HEADER / GW_VERIFY_TIMESTAMP_OUTSIDE;
 *   - X-Twilio-Email-Event-Webhook-Signature: padded base64 of a DER ECDSA signature of at
 *     most 72 bytes (else GW_VERIFY_MALFORMED_HEADER), verified over the timestamp text as
 *     sent followed by the raw body (a mismatch: GW_VERIFY_NO_SECRET_MATCHED).
 * No key, or a key that is not EC P-256: GW_VERIFY_KEY_UNUSABLE. detail->secret_index is 0
 * when it verified. That SendGrid signs Parse posts exactly as it signs Event Webhook posts is
 * an assumption (providers.md §4.3), checked here against the SDK's official vector. */
extern const struct gw_verifier gw_verifier_sendgrid;

/* The public key as SendGrid shows it (base64 of the DER SubjectPublicKeyInfo, white space
 * allowed around it) or as a PEM "-----BEGIN PUBLIC KEY-----", LEN bytes at TEXT; it must be
 * EC on P-256. Returns the key (EVP_PKEY_free it), or NULL with a reason in ERR. */
EVP_PKEY *gw_sendgrid_load_public_key(const char *text, size_t len, char *err, size_t err_len);

/* Signs TIMESTAMP + BODY with the EC P-256 private key KEY as SendGrid would, the base64 DER
 * signature into OUT (NUL-terminated). Returns 0, or -1 when KEY is not such a key or OUT is
 * too small. For tests and `ctgw sign` with a test key. */
int gw_sendgrid_sign(EVP_PKEY *key, int64_t timestamp, const unsigned char *body, size_t body_len,
                     char *out, size_t out_len);

#endif
