/* xero.c — verifies (and, for tests and tools, signs) Xero webhook signatures:
 * base64(HMAC-SHA256(webhook key, raw body)) in x-xero-signature. */
#include "verifiers/xero.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "verifiers/base64.h"
#include "verifiers/hmac.h"

#define SIG_HEADER "x-xero-signature"
/* The only length a canonical padded base64 of 32 bytes has. */
#define SIG_B64_LEN GW_BASE64_ENCODED_LEN(GW_HMAC_SHA256_SIZE)

static void set_header(struct gw_verify_detail *detail, const char *name)
{
    snprintf(detail->header, sizeof detail->header, "%s", name);
}

__attribute__((format(printf, 2, 3))) static void set_note(struct gw_verify_detail *detail,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail->note, sizeof detail->note, fmt, ap);
    va_end(ap);
}

/* Checks, in order: the header present once and of its form; at least one usable secret;
 * the signature matching one of them. */
static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    if (detail == NULL)
        detail = &scratch;
    memset(detail, 0, sizeof *detail);
    detail->secret_index = -1;
    set_header(detail, SIG_HEADER);

    static const struct gw_headers no_headers = {NULL, 0};
    const struct gw_headers *headers =
        in != NULL && in->headers != NULL ? in->headers : &no_headers;
    size_t count = gw_headers_count(headers, SIG_HEADER);
    const char *value = gw_headers_get(headers, SIG_HEADER);
    if (count == 0 || value == NULL) {
        set_note(detail, "%s is missing", SIG_HEADER);
        return GW_VERIFY_MISSING_HEADER;
    }
    /* Repeated counts as missing (verifier.h): there is no single value to verify. */
    if (count > 1) {
        set_note(detail, "%s appears %zu times, exactly once is needed", SIG_HEADER, count);
        return GW_VERIFY_MISSING_HEADER;
    }
    if (in->body == NULL && in->body_len > 0) {
        set_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->signed_len = in->body_len;

    unsigned char sig[GW_HMAC_SHA256_SIZE];
    size_t value_len = strnlen(value, SIG_B64_LEN + 1);
    size_t sig_len = 0;
    if (value_len != SIG_B64_LEN ||
        !gw_base64_decode(value, value_len, sig, sizeof sig, &sig_len, 0) ||
        sig_len != sizeof sig) {
        set_note(detail, "%s must be the padded base64 of %d bytes (%d characters)", SIG_HEADER,
                 GW_HMAC_SHA256_SIZE, (int)SIG_B64_LEN);
        return GW_VERIFY_MALFORMED_HEADER;
    }

    const struct gw_hmac_piece body = {in->body, in->body_len};
    struct gw_hmac_match m = gw_hmac_find_secret(in->secrets, in->n_secrets, &body, 1, sig, 1);
    OPENSSL_cleanse(sig, sizeof sig);
    if (m.failed) {
        set_note(detail, "HMAC-SHA256 is not available from OpenSSL");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (m.usable == 0) {
        set_note(detail, "none of the %zu secrets is usable (the webhook key, not empty)",
                 in->n_secrets);
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (m.index < 0) {
        set_note(detail, "the signature matches none of %zu usable secrets", m.usable);
        return GW_VERIFY_NO_SECRET_MATCHED;
    }
    detail->secret_index = m.index;
    set_note(detail, "verified with secret %d", m.index);
    return GW_VERIFY_OK;
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
    unsigned char mac[GW_HMAC_SHA256_SIZE];
    bool ok = gw_hmac_sha256(secret->data, secret->len, &piece, 1, mac) &&
              gw_base64_encode(mac, sizeof mac, out, out_len, 0) == SIG_B64_LEN;
    OPENSSL_cleanse(mac, sizeof mac);
    if (!ok) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
