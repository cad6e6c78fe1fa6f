/* xero.c — verifies (and, for tests and tools, signs) Xero webhook signatures:
 * base64(HMAC-SHA256(webhook key, raw body)) in x-xero-signature. */
#include "verifiers/xero.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "verifiers/base64.h"
#include "verifiers/hmac.h"

#define SIG_HEADER "x-xero-signature"
/* The only length a canonical padded base64 of 32 bytes has. */

static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    return gw_hmac_verify_body(in, detail, SIG_HEADER, GW_HMAC_BASE64, "the webhook key");
}

const struct gw_verifier gw_verifier_xero = {
    .name = "xero",
    .verify = verify,
};

int gw_xero_sign(const struct gw_secret *secret, const unsigned char *body, size_t body_len,
                 char *out, size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    if (out == NULL || out_len < GW_XERO_SIGNATURE_SIZE || !gw_hmac_secret_usable(secret) ||
        (body == NULL && body_len > 0))
        return -1;
    const struct gw_hmac_piece piece = {body, body_len};
    return gw_hmac_sign(secret->data, secret->len, &piece, 1, GW_HMAC_BASE64, NULL, out, out_len);
}
