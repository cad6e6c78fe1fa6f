/* sendgrid.c — verifies (and, with a test key, signs) SendGrid's ECDSA P-256 / SHA-256
 * signatures over timestamp + body. */
#include "verifiers/sendgrid.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "verifiers/base64.h"
#include "verifiers/hmac.h"

#define DER_SIG_MAX  72         /* a DER ECDSA P-256 signature: SEQUENCE of two INTEGERs */
#define KEY_TEXT_MAX (8 * 1024) /* a P-256 public key is 91 bytes of DER */

/* NULL when KEY is an EC key on P-256, else why not. */
static const char *key_problem(const EVP_PKEY *key)
{
    if (key == NULL)
        return "no public_key is configured";
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return "public_key is not an EC key";
    char group[64] = "";
    size_t glen = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        ERR_clear_error();
        return "public_key is not on the curve P-256";
    }
    return NULL;
}

EVP_PKEY *gw_sendgrid_load_public_key(const char *text, size_t len, char *err, size_t err_len)
{
    char scratch[1];
    if (err == NULL || err_len == 0) {
        err = scratch;
        err_len = sizeof scratch;
    }
    err[0] = '\0';
    if (text == NULL || len == 0 || len > KEY_TEXT_MAX) {
        snprintf(err, err_len, "the public key is empty or longer than %d bytes", KEY_TEXT_MAX);
        return NULL;
    }
    EVP_PKEY *key = NULL;
    if (memmem(text, len, "-----BEGIN", 10) != NULL) {
        BIO *bio = BIO_new_mem_buf(text, (int)len);
        key = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
    } else {
        /* SendGrid's form: one base64 line of the DER SubjectPublicKeyInfo. */
        while (len > 0 && isspace((unsigned char)text[len - 1]))
            len--;
        while (len > 0 && isspace((unsigned char)*text)) {
            text++;
            len--;
        }
        unsigned char der[KEY_TEXT_MAX];
        size_t n = 0;
        if (gw_base64_decode(text, len, der, sizeof der, &n, 0)) {
            const unsigned char *p = der;
            key = d2i_PUBKEY(NULL, &p, (long)n);
            if (key != NULL && p != der + n) {
                EVP_PKEY_free(key);
                key = NULL;
            }
        }
    }
    ERR_clear_error();
    if (key == NULL) {
        snprintf(err, err_len, "not a public key (base64 of its DER, or a PEM)");
        return NULL;
    }
    const char *problem = key_problem(key);
    if (problem != NULL) {
        snprintf(err, err_len, "%s", problem);
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/* 1 verified, 0 did not, -1 OpenSSL could not be set up. */
static int verify_with(EVP_PKEY *key, const char *ts, size_t ts_len, const unsigned char *body,
                       size_t body_len, const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    if (ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerifyUpdate(ctx, ts, ts_len) == 1 &&
        EVP_DigestVerifyUpdate(ctx, body_len > 0 ? body : (const unsigned char *)"", body_len) == 1)
        rc = EVP_DigestVerifyFinal(ctx, sig, sig_len) == 1 ? 1 : 0;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error(); /* a failed verification leaves errors behind; they mean nothing here */
    return rc;
}

static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    const struct gw_headers *headers = gw_verify_headers(in);
    const char *ts_text = gw_verify_single_header(headers, GW_SENDGRID_TIMESTAMP_HEADER, detail);
    if (ts_text == NULL)
        return GW_VERIFY_MISSING_HEADER;
    const char *sig_text = gw_verify_single_header(headers, GW_SENDGRID_SIGNATURE_HEADER, detail);
    if (sig_text == NULL)
        return GW_VERIFY_MISSING_HEADER;
    size_t ts_len = strnlen(ts_text, GW_UNIX_TIME_DIGITS_MAX + 1);
    int64_t ts = 0;
    gw_verify_set_header(detail, GW_SENDGRID_TIMESTAMP_HEADER);
    if (!gw_parse_unix_time(ts_text, ts_len, &ts)) {
        gw_verify_note(detail, "%s must be 1..%d decimal digits (unix seconds)",
                       GW_SENDGRID_TIMESTAMP_HEADER, GW_UNIX_TIME_DIGITS_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->timestamp = ts;
    if (!gw_within_window(ts, in->now, in->tolerance_s, detail->note, sizeof detail->note))
        return GW_VERIFY_TIMESTAMP_OUTSIDE;
    gw_verify_set_header(detail, GW_SENDGRID_SIGNATURE_HEADER);
    if (in->body == NULL && in->body_len > 0) {
        gw_verify_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    const char *problem = key_problem(in->public_key);
    if (problem != NULL) {
        gw_verify_note(detail, "%s", problem);
        return GW_VERIFY_KEY_UNUSABLE;
    }
    unsigned char sig[DER_SIG_MAX];
    size_t sig_len = 0;
    size_t b64_len = strnlen(sig_text, GW_SENDGRID_SIGNATURE_B64_MAX + 1);
    if (b64_len == 0 || b64_len > GW_SENDGRID_SIGNATURE_B64_MAX ||
        !gw_base64_decode(sig_text, b64_len, sig, sizeof sig, &sig_len, 0) || sig_len < 8) {
        gw_verify_note(detail, "%s must be padded base64 of a DER ECDSA signature",
                       GW_SENDGRID_SIGNATURE_HEADER);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->signed_len = ts_len + in->body_len;
    int v = verify_with(in->public_key, ts_text, ts_len, in->body, in->body_len, sig, sig_len);
    if (v < 0) {
        gw_verify_note(detail, "OpenSSL could not set up the EC key for verification");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (v == 0) {
        gw_verify_note(detail,
                       "the signature does not verify with public_key over timestamp + "
                       "the %zu-byte body",
                       in->body_len);
        return GW_VERIFY_NO_SECRET_MATCHED;
    }
    detail->secret_index = 0;
    gw_verify_note(detail, "verified with the EC P-256 public_key");
    return GW_VERIFY_OK;
}

int gw_sendgrid_sign(EVP_PKEY *key, int64_t timestamp, const unsigned char *body, size_t body_len,
                     char *out, size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    if (out == NULL || timestamp < 0 || key_problem(key) != NULL)
        return -1;
    char ts[GW_UNIX_TIME_DIGITS_MAX + 1];
    int ts_len = snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    unsigned char sig[DER_SIG_MAX + 8];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok =
        ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSignUpdate(ctx, ts, (size_t)ts_len) == 1 &&
        EVP_DigestSignUpdate(ctx, body_len > 0 ? body : (const unsigned char *)"", body_len) == 1 &&
        EVP_DigestSignFinal(ctx, sig, &sig_len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok || GW_BASE64_ENCODED_LEN(sig_len) + 1 > out_len)
        return -1;
    return gw_base64_encode(sig, sig_len, out, out_len, 0) > 0 ? 0 : -1;
}

const struct gw_verifier gw_verifier_sendgrid = {
    .name = "sendgrid",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_EC_KEY,
    .content_type = "multipart/form-data",
    .sign = NULL, /* signed with SendGrid's private key: gw_sendgrid_sign takes a test key */
};
