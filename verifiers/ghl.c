/* ghl.c — verifies GoHighLevel webhooks: Ed25519 x-ghl-signature first, legacy RSA-SHA256
 * x-wh-signature only when the current header is absent, as GoHighLevel migrates. */
#include "verifiers/ghl.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "verifiers/base64.h"

#define CURRENT_HEADER "x-ghl-signature"
#define LEGACY_HEADER  "x-wh-signature"
#define ED25519_SIG    64   /* bytes of an Ed25519 signature */
#define RSA_MIN_BITS   2048 /* weaker keys are refused, whatever the config says */
#define RSA_MAX_BITS   16384
#define RSA_SIG_MAX    (RSA_MAX_BITS / 8)
#define PEM_MAX        (64 * 1024) /* a public key PEM is a few KiB at most */
#define NOT_SIGNED     "N/A"       /* HighLevel's value for "this delivery is not signed" */

/* Which of the two header/key pairs is in use. */
struct scheme {
    const char *header;
    int index; /* detail->secret_index on success */
    enum gw_ghl_key_kind kind;
};

static const struct scheme current = {CURRENT_HEADER, 0, GW_GHL_KEY_ED25519};
static const struct scheme legacy = {LEGACY_HEADER, 1, GW_GHL_KEY_RSA};

/* NULL when KEY is usable as KIND, else why not. */
static const char *key_problem(const EVP_PKEY *key, enum gw_ghl_key_kind kind)
{
    if (key == NULL)
        return kind == GW_GHL_KEY_ED25519 ? "no Ed25519 public_key is configured"
                                          : "no RSA legacy_public_key is configured";
    if (kind == GW_GHL_KEY_ED25519)
        return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL
                                                             : "public_key is not an Ed25519 key";
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        return "legacy_public_key is not an RSA key";
    int bits = EVP_PKEY_get_bits(key);
    if (bits < RSA_MIN_BITS)
        return "legacy_public_key is an RSA key below 2048 bits";
    if (bits > RSA_MAX_BITS)
        return "legacy_public_key is an RSA key above 16384 bits";
    return NULL;
}

EVP_PKEY *gw_ghl_load_public_key(const char *pem, size_t len, enum gw_ghl_key_kind kind, char *err,
                                 size_t err_len)
{
    char scratch[1];
    if (err == NULL || err_len == 0) {
        err = scratch;
        err_len = sizeof scratch;
    }
    err[0] = '\0';
    if (pem == NULL || len == 0 || len > PEM_MAX) {
        snprintf(err, err_len, "the public key PEM is empty or longer than %d bytes", PEM_MAX);
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL) {
        ERR_clear_error(); /* this thread's queue must not leak into later, unrelated calls */
        snprintf(err, err_len, "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
        return NULL;
    }
    const char *problem = key_problem(key, kind);
    if (problem != NULL) {
        snprintf(err, err_len, "%s", problem);
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/* Decodes VALUE (canonical padded base64, at most GW_GHL_SIGNATURE_B64_MAX characters) into
 * SIG, which must then be exactly WANT bytes. */
static bool decode_signature(const char *value, unsigned char *sig, size_t want)
{
    size_t len = strnlen(value, GW_GHL_SIGNATURE_B64_MAX + 1);
    if (len == 0 || len > GW_GHL_SIGNATURE_B64_MAX)
        return false;
    size_t got = 0;
    return gw_base64_decode(value, len, sig, want, &got, 0) && got == want;
}

/* 1 verified, 0 did not, -1 the key could not be set up. Any answer but 1 from the
 * verification itself is "did not": OpenSSL reports some forged values (an RSA signature
 * above the modulus) as errors rather than 0, and those are the sender's doing. */
static int verify_with(EVP_PKEY *key, enum gw_ghl_key_kind kind, const unsigned char *sig,
                       size_t sig_len, const unsigned char *body, size_t body_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return -1;
    int rc = -1;
    EVP_PKEY_CTX *pctx = NULL;
    /* Ed25519 is "pure": no digest is named, the whole message goes to one call. */
    const EVP_MD *md = kind == GW_GHL_KEY_ED25519 ? NULL : EVP_sha256();
    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) != 1)
        goto out;
    if (kind == GW_GHL_KEY_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
        goto out;
    rc = EVP_DigestVerify(ctx, sig, sig_len, body, body_len) == 1 ? 1 : 0;
out:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error(); /* a failed verification leaves errors behind; they mean nothing here */
    return rc;
}

static enum gw_verify_result verify_scheme(const struct gw_verify_input *in, const struct scheme *s,
                                           const char *value, struct gw_verify_detail *detail)
{
    gw_verify_set_header(detail, s->header);
    detail->signed_len = in->body_len;
    if (in->body == NULL && in->body_len > 0) {
        gw_verify_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    if (strcmp(value, NOT_SIGNED) == 0) {
        gw_verify_note(detail, "%s is \"N/A\": HighLevel did not sign this delivery", s->header);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    EVP_PKEY *key = s->kind == GW_GHL_KEY_ED25519 ? in->public_key : in->legacy_public_key;
    const char *problem = key_problem(key, s->kind);
    if (problem != NULL) {
        gw_verify_note(detail, "%s", problem);
        return GW_VERIFY_KEY_UNUSABLE;
    }
    /* The signature size follows from the key, so a value of any other length is refused
     * before any cryptography; key_problem bounded the RSA size to RSA_SIG_MAX bytes. */
    size_t want = s->kind == GW_GHL_KEY_ED25519 ? ED25519_SIG : (size_t)EVP_PKEY_get_size(key);
    unsigned char sig[RSA_SIG_MAX];
    if (want == 0 || want > sizeof sig || !decode_signature(value, sig, want)) {
        gw_verify_note(detail, "%s must be padded base64 of a %zu-byte signature", s->header, want);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    const unsigned char *body = in->body_len > 0 ? in->body : (const unsigned char *)"";
    int v = verify_with(key, s->kind, sig, want, body, in->body_len);
    if (v < 0) {
        gw_verify_note(detail, "OpenSSL could not set up the %s key for verification",
                       s->kind == GW_GHL_KEY_ED25519 ? "Ed25519" : "RSA-SHA256");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (v == 0) {
        gw_verify_note(detail, "%s does not verify with the %s key over the %zu-byte body",
                       s->header, s->kind == GW_GHL_KEY_ED25519 ? "Ed25519" : "legacy RSA",
                       in->body_len);
        return GW_VERIFY_NO_SECRET_MATCHED;
    }
    detail->secret_index = s->index;
    gw_verify_note(detail, "verified with the %s key",
                   s->kind == GW_GHL_KEY_ED25519 ? "Ed25519" : "legacy RSA");
    return GW_VERIFY_OK;
}

static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);

    const struct gw_headers *headers = gw_verify_headers(in);
    /* Presence of the current header decides, as in HighLevel's SDK: when it is there the
     * legacy one is never consulted, whatever the outcome. */
    const struct scheme *order[2] = {&current, &legacy};
    for (size_t i = 0; i < 2; i++) {
        const struct scheme *s = order[i];
        size_t count = gw_headers_count(headers, s->header);
        if (count == 0)
            continue;
        if (count > 1) {
            gw_verify_set_header(detail, s->header);
            gw_verify_note(detail, "%s appears %zu times, exactly once is needed", s->header,
                           count);
            return GW_VERIFY_MISSING_HEADER;
        }
        const char *value = gw_headers_get(headers, s->header);
        if (value == NULL || in == NULL)
            break;
        return verify_scheme(in, s, value, detail);
    }
    gw_verify_set_header(detail, CURRENT_HEADER);
    gw_verify_note(detail, "neither %s nor %s is present", CURRENT_HEADER, LEGACY_HEADER);
    return GW_VERIFY_MISSING_HEADER;
}

const struct gw_verifier gw_verifier_ghl = {
    .name = "ghl",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_PUBLIC_KEYS,
    .content_type = "application/json",
    .sign = NULL,
};
