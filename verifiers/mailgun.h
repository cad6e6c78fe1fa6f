/* mailgun.h — Mailgun routes that forward() mail over HTTP: HMAC-SHA256 of timestamp + token
 * in the form fields, a window on the timestamp, and a check against the tokens already used
 * (in->replay_seen, verifier.h). */
#ifndef CTGW_MAILGUN_H
#define CTGW_MAILGUN_H

#include <stddef.h>
#include <stdint.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

/* Name "mailgun". The signature lives in the body, not in headers:
 *   - Content-Type (absent or repeated: GW_VERIFY_MISSING_HEADER) must be
 *     application/x-www-form-urlencoded or multipart/form-data with a boundary, and the body
 *     well-formed as form.h reads it, else GW_VERIFY_MALFORMED_HEADER naming Content-Type;
 *   - the form fields timestamp (1..19 digits), token (1..128 bytes of printable ASCII
 *     without spaces; Mailgun sends 50) and signature (64 lowercase hex digits), each exactly
 *     once: a field absent or repeated is GW_VERIFY_MISSING_HEADER, of another form
 *     GW_VERIFY_MALFORMED_HEADER, and detail->header then names the form field;
 *   - parent-signature (subaccount traffic, signed with the parent account's key) is
 *     optional, at most once and of the same form; it is accepted in place of signature, so
 *     an endpoint configured with the parent's key verifies too.
 * signature = hex(HMAC-SHA256(key, timestamp + token)), the timestamp text as sent. The
 * timestamp must be within tolerance_s (default 300 s) of now in either direction. Each
 * secret is the HTTP webhook signing key, used as its ASCII bytes. With no separator in the
 * signed string a digit can move between timestamp and token under the same signature; that
 * multiplies or divides the timestamp by ten, so the window refuses it (keep tolerance_s far
 * below the timestamp's magnitude), and the replay cache treats every such re-split as the
 * same request.
 *
 * Replays: when in->replay_seen is set, it is asked last, once the request has verified, with
 * the timestamp and token as sent; when it says seen, the request is refused with
 * GW_VERIFY_TIMESTAMP_OUTSIDE, detail->header "token", its sentence as detail->note and
 * secret_index -1. That reason is the one whose meaning is "outside the replay window": the
 * enum has no other for a replay, and no other is true (the request is well-formed and
 * correctly signed). A cache that cannot record a token refuses too rather than forget one,
 * so it fails closed; Mailgun retries refused requests for hours. Only signed tokens are
 * offered, so nobody without the key can fill it. Its key must cover timestamp + token, not
 * the token alone, so that every re-split of the signed string counts as the same request.
 * The signature does not cover the message itself: TLS and the cache are what protect it. */
extern const struct gw_verifier gw_verifier_mailgun;

#define GW_MAILGUN_TOKEN_MAX 128 /* bytes of a token */

/* Bytes gw_mailgun_sign needs: 64 hex digits + NUL. */
#define GW_MAILGUN_SIGNATURE_SIZE 65

/* Writes the signature field of a request with TIMESTAMP and TOKEN (as gw_verifier_mailgun
 * wants it) signed with SECRET into OUT, NUL-terminated. Returns 0, or -1 — with OUT empty
 * when OUT_LEN > 0 — when the secret is empty, the timestamp negative, the token not of its
 * form, or OUT_LEN below GW_MAILGUN_SIGNATURE_SIZE. For tests and tools. */
int gw_mailgun_sign(const struct gw_secret *secret, int64_t timestamp, const char *token, char *out,
                    size_t out_len);

#endif
