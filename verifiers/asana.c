/* asana.c — verifies (and, for tests and tools, signs) Asana webhook deliveries:
 * hex(HMAC-SHA256(hook secret, raw body)) in X-Hook-Signature; recognises the handshake. */
#include "verifiers/asana.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "verifiers/hmac.h"
#include "verifiers/sign.h"

#define SIG_HEADER    "X-Hook-Signature"
#define SECRET_HEADER "X-Hook-Secret"

bool gw_asana_is_handshake(const struct gw_headers *h)
{
    if (h == NULL || gw_headers_count(h, SIG_HEADER) != 0 ||
        gw_headers_count(h, SECRET_HEADER) != 1)
        return false;
    const char *secret = gw_headers_get(h, SECRET_HEADER);
    return secret != NULL && secret[0] != '\0';
}

static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    if (detail == NULL)
        detail = &scratch;
    enum gw_verify_result r =
        gw_hmac_verify_body(in, detail, SIG_HEADER, GW_HMAC_HEX, "the X-Hook-Secret");
    /* Never verified here: the secret a handshake carries is not one the endpoint knows yet;
     * say so rather than only "missing". */
    if (r == GW_VERIFY_MISSING_HEADER && in != NULL &&
        gw_headers_count(in->headers, SIG_HEADER) == 0 && gw_asana_is_handshake(in->headers))
        gw_verify_note(detail, "%s is missing: this is the X-Hook-Secret handshake", SIG_HEADER);
    return r;
}

int gw_asana_sign(const struct gw_secret *secret, const unsigned char *body, size_t body_len,
                  char *out, size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    if (out == NULL || out_len < GW_ASANA_SIGNATURE_SIZE || !gw_hmac_secret_usable(secret) ||
        (body == NULL && body_len > 0))
        return -1;
    const struct gw_hmac_piece piece = {body, body_len};
    return gw_hmac_sign(secret->data, secret->len, &piece, 1, GW_HMAC_HEX, NULL, out, out_len);
}

static int sign_asana(const struct gw_secret *secret, const struct gw_sign_params *p,
                      struct gw_signed *out, char *err, size_t err_len)
{
    char sig[GW_ASANA_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (gw_asana_sign(secret, p->body, p->body_len, sig, sizeof sig) != 0) {
        gw_sign_error(err, err_len, "cannot sign: empty secret");
        return -1;
    }
    return gw_signed_add_header(out, "X-Hook-Signature", sig);
}

const struct gw_verifier gw_verifier_asana = {
    .name = "asana",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS,
    .content_type = "application/json",
    .sign = sign_asana,
};
