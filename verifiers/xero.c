/* xero.c — verifies (and, for tests and tools, signs) Xero webhook signatures:
 * base64(HMAC-SHA256(webhook key, raw body)) in x-xero-signature. */
#include "verifiers/xero.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "verifiers/base64.h"
#include "verifiers/hmac.h"
#include "verifiers/sign.h"

#define SIG_HEADER "x-xero-signature"
/* The only length a canonical padded base64 of 32 bytes has. */

static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    return gw_hmac_verify_body(in, detail, SIG_HEADER, GW_HMAC_BASE64, "the webhook key");
}

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

static int sign_xero(const struct gw_secret *secret, const struct gw_sign_params *p,
                     struct gw_signed *out, char *err, size_t err_len)
{
    char sig[GW_XERO_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (gw_xero_sign(secret, p->body, p->body_len, sig, sizeof sig) != 0) {
        gw_sign_error(err, err_len, "cannot sign: empty secret");
        return -1;
    }
    return gw_signed_add_header(out, "x-xero-signature", sig);
}

const struct gw_verifier gw_verifier_xero = {
    .name = "xero",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS,
    .content_type = "application/json",
    .sign = sign_xero,
};
