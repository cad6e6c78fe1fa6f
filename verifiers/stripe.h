/* stripe.h — Stripe webhook signatures: Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>]... with
 * HMAC-SHA256 of "{t}.{body}" keyed by the whole whsec_ secret. */
#ifndef CTGW_STRIPE_H
#define CTGW_STRIPE_H

#include <stddef.h>
#include <stdint.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

/* Name "stripe". Reads Stripe-Signature (absent or repeated: GW_VERIFY_MISSING_HEADER), a
 * comma-separated list of key=value items, and is stricter than Stripe's own libraries about
 * its form, because a header Stripe would never send is better refused than guessed at:
 *   - any space, tab or other byte outside printable ASCII anywhere: malformed (Stripe sends
 *     none; " v1=..." would be an unknown key to Stripe's parsers, silently dropped);
 *   - an empty item (",," or a comma at either end), an item without '=', an empty key or
 *     value: malformed; more than 64 items or 4096 bytes: malformed;
 *   - t: exactly once, 1..19 decimal digits. A second t is malformed: there is no single
 *     signed timestamp to check the window against (Stripe's libraries keep the last one);
 *   - v1: one or more, at most 32, each 64 lowercase hex digits; a damaged v1 is skipped (it
 *     cannot hide a good one), and at least one good v1 is required; any v1 matching any
 *     secret is enough; other v1 items, like any other key, may repeat;
 *   - every other key (v0, the test-mode signature, and schemes yet to come) is ignored:
 *     accepting v0 would permit a downgrade.
 * The timestamp must be within tolerance_s (default 300 s) of now in either direction.
 * Each secret is the endpoint's signing secret used as-is, "whsec_" prefix included, never
 * base64-decoded; when nothing matches and a secret lacks the prefix, the note says so. */
extern const struct gw_verifier gw_verifier_stripe;

/* Bytes gw_stripe_sign needs: "t=" + 19 digits + ",v1=" + 64 hex digits + NUL. */
#define GW_STRIPE_SIGNATURE_SIZE 90

/* Writes the Stripe-Signature value "t=<timestamp>,v1=<hex>" of BODY sent at TIMESTAMP with
 * SECRET into OUT (NUL-terminated). Returns 0, or -1 — with OUT empty when OUT_LEN > 0 — when
 * the secret is empty, OUT_LEN is below GW_STRIPE_SIGNATURE_SIZE or the timestamp is
 * negative. For tests and tools. */
int gw_stripe_sign(const struct gw_secret *secret, int64_t timestamp, const unsigned char *body,
                   size_t body_len, char *out, size_t out_len);

#endif
