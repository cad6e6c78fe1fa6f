/* slack.h — Slack request signing: HMAC-SHA256 of "v0:{timestamp}:{body}" with the app's
 * signing secret, sent as X-Slack-Signature: v0=<hex>. */
#ifndef CTGW_SLACK_H
#define CTGW_SLACK_H

#include <stddef.h>
#include <stdint.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

/* Name "slack". Reads X-Slack-Request-Timestamp (1..19 decimal digits) and X-Slack-Signature
 * ("v0=" and exactly 64 lowercase hex digits; Slack has no other version, and no spaces
 * anywhere are accepted). A header that is absent or repeated gives GW_VERIFY_MISSING_HEADER.
 * The timestamp must be within tolerance_s (default 300 s) of now in either direction, as
 * python-slack-sdk checks. Each secret is the signing secret, used as its ASCII bytes. */
extern const struct gw_verifier gw_verifier_slack;

/* Bytes gw_slack_sign needs: "v0=" + 64 hex digits + NUL. */
#define GW_SLACK_SIGNATURE_SIZE 68

/* Writes the X-Slack-Signature value of BODY sent at TIMESTAMP with SECRET into OUT
 * (NUL-terminated). Returns 0, or -1 — with OUT empty when OUT_LEN > 0 — when the secret is
 * empty, OUT_LEN is below GW_SLACK_SIGNATURE_SIZE or the timestamp is negative. For tests and
 * tools; the gateway itself only verifies. */
int gw_slack_sign(const struct gw_secret *secret, int64_t timestamp, const unsigned char *body,
                  size_t body_len, char *out, size_t out_len);

#endif
