/* basic_auth.h — HTTP Basic authentication (RFC 7617) for relays that put a user and password
 * in the webhook URL: Postmark inbound, SendGrid Inbound Parse. */
#ifndef CTGW_BASIC_AUTH_H
#define CTGW_BASIC_AUTH_H

#include "verifiers/verifier.h"

/* Name "basic-auth". Each secret is one accepted credential written "user:pass" — the
 * endpoint's `username` and `password` joined by the first ':' (a user name cannot hold one,
 * RFC 7617), at most 768 bytes; a secret without ':' is unusable. Reads Authorization (absent
 * or repeated: GW_VERIFY_MISSING_HEADER), which must be the scheme "Basic" in any case, one
 * or more spaces, and the canonical padded base64 of "user:pass" without control characters;
 * trailing spaces or anything else is malformed. The whole decoded credential is compared in
 * constant time with each secret, so neither the user nor the password is told apart. There
 * is no signature and no timestamp: detail->signed_len and detail->timestamp stay 0. */
extern const struct gw_verifier gw_verifier_basic_auth;

#endif
