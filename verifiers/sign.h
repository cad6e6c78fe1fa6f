/* sign.h — what the signers of the HMAC and Standard Webhooks families share: each scheme's
 * `sign` (verifier.h) fills a struct gw_signed through these. For tests and tools; the
 * gateway itself only verifies. */
#ifndef CTGW_SIGN_H
#define CTGW_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "verifiers/verifier.h"

/* Writes a reason into ERR (bounded; nothing when ERR is NULL or ERR_LEN 0). */
void gw_sign_error(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends header NAME: VALUE to OUT. Returns 0, or -1 when OUT is full or either does not
 * fit its bound (GW_SIGNED_NAME_MAX, GW_SIGNED_VALUE_MAX). */
int gw_signed_add_header(struct gw_signed *out, const char *name, const char *value);

/* PREFIX + hex of 12 random bytes into OUT, for an id the caller did not choose. Returns 0,
 * or -1 when there are no random bytes or it does not fit. */
int gw_sign_random_id(const char *prefix, char *out, size_t out_len);

/* TS in decimal into OUT. Returns 0, or -1 when it does not fit. */
int gw_sign_timestamp_text(int64_t ts, char *out, size_t out_len);

#endif
