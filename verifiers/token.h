/* token.h — a shared token in a request header: "Authorization: Bearer <token>" or a header
 * of the endpoint's choosing (e.g. Google Calendar's X-Goog-Channel-Token). */
#ifndef CTGW_TOKEN_H
#define CTGW_TOKEN_H

#include "verifiers/verifier.h"

/* Name "token". The header is in->token_header (verifier.h):
 *   - NULL: Authorization, holding "Bearer" in any case, one or more spaces, and the token:
 *     1..4096 bytes of printable ASCII without spaces (RFC 6750's b64token is narrower);
 *   - a header name (1..63 bytes of RFC 9110 token characters; anything else makes the key
 *     unusable): its whole value is the token, 1..4096 bytes of printable ASCII without a
 *     space at either end.
 * Absent or repeated: GW_VERIFY_MISSING_HEADER; not of that form: GW_VERIFY_MALFORMED_HEADER.
 * Each secret is one accepted token, 1..4096 bytes, compared whole in constant time. There is
 * no signature and no timestamp: detail->signed_len and detail->timestamp stay 0. */
extern const struct gw_verifier gw_verifier_token;

#endif
