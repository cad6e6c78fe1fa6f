/* sns_sign.c — builds a signed SNS message: the canonical string of sns.c, signed with RSA
 * PKCS#1 v1.5 and the digest its SignatureVersion names. */
#include "verifiers/sns_sign.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "verifiers/base64.h"
#include "verifiers/sign.h"
#include "verifiers/sns.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192

/* The padded base64 of KEY's signature over DATA into OUT, or false. */
static bool rsa_sign_b64(EVP_PKEY *key, const EVP_MD *md, const char *data, size_t len, char *out,
                         size_t out_cap)
{
    unsigned char sig[RSA_MAX_BITS / 8];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = ctx != NULL && EVP_DigestSignInit(ctx, &pctx, md, NULL, key) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
              EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)data, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok && gw_base64_encode(sig, sig_len, out, out_cap, 0) > 0;
}

/* Replaces every NAME of OBJ with one string VALUE. */
static bool set_string(cJSON *obj, const char *name, const char *value)
{
    while (cJSON_GetObjectItemCaseSensitive(obj, name) != NULL)
        cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    return cJSON_AddStringToObject(obj, name, value) != NULL;
}

int gw_sns_sign(const unsigned char *body, size_t body_len, EVP_PKEY *key, const char *version,
                const char *cert_url, char **out, size_t *out_len, char *err, size_t err_len)
{
    *out = NULL;
    *out_len = 0;
    bool v1 = version != NULL && strcmp(version, "1") == 0;
    if (!v1 && (version == NULL || strcmp(version, "2") != 0)) {
        gw_sign_error(err, err_len, "SignatureVersion must be \"1\" or \"2\"");
        return -1;
    }
    int bits = key != NULL ? EVP_PKEY_get_bits(key) : 0;
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || bits < RSA_MIN_BITS ||
        bits > RSA_MAX_BITS) {
        gw_sign_error(err, err_len, "the key is not an RSA private key of %d..%d bits",
                      RSA_MIN_BITS, RSA_MAX_BITS);
        return -1;
    }
    if (cert_url == NULL || strlen(cert_url) > GW_SNS_CERT_URL_MAX) {
        gw_sign_error(err, err_len, "no SigningCertURL, or longer than %d bytes",
                      GW_SNS_CERT_URL_MAX);
        return -1;
    }
    cJSON *root = body != NULL ? cJSON_ParseWithLength((const char *)body, body_len) : NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        gw_sign_error(err, err_len, "the body is not one JSON object");
        return -1;
    }
    int rc = -1;
    char *unsigned_text = NULL, *signed_text = NULL;
    char *text = NULL;
    size_t text_len = 0;
    char sig_b64[GW_SNS_SIGNATURE_B64_MAX + 1];
    struct gw_verify_detail d;
    if (!set_string(root, "SignatureVersion", version) ||
        !set_string(root, "SigningCertURL", cert_url) ||
        (unsigned_text = cJSON_PrintUnformatted(root)) == NULL) {
        gw_sign_error(err, err_len, "out of memory");
        goto done;
    }
    if (gw_sns_string_to_sign((const unsigned char *)unsigned_text, strlen(unsigned_text), &text,
                              &text_len, &d) != GW_VERIFY_OK) {
        gw_sign_error(err, err_len, "not an SNS message: %s", d.note);
        goto done;
    }
    if (!rsa_sign_b64(key, v1 ? EVP_sha1() : EVP_sha256(), text, text_len, sig_b64,
                      sizeof sig_b64)) {
        gw_sign_error(err, err_len, "OpenSSL could not sign with the key");
        goto done;
    }
    if (!set_string(root, "Signature", sig_b64) ||
        (signed_text = cJSON_PrintUnformatted(root)) == NULL ||
        (*out = strdup(signed_text)) == NULL) {
        gw_sign_error(err, err_len, "out of memory");
        goto done;
    }
    *out_len = strlen(*out);
    rc = 0;
done:
    cJSON_free(signed_text);
    free(text);
    cJSON_free(unsigned_text);
    cJSON_Delete(root);
    return rc;
}
