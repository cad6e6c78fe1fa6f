/* tls.c — the server TLS context: certificate chain and key from memory, TLS 1.2+ only,
 * forward-secret AEAD ciphers only. */
#include "gateway/http/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>

/* TLS 1.2 suites: ECDHE key exchange and AEAD only. TLS 1.3 suites are OpenSSL's defaults,
 * all of which qualify. */
#define TLS12_CIPHERS                                                                              \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static void openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        snprintf(buf, len, "unknown error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
}

SSL_CTX *gw_tls_server_ctx(const struct gw_tls_config *tls, char *err, size_t errlen)
{
    char reason[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    BIO *certs = NULL, *keybio = NULL;
    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    if (ctx == NULL) {
        openssl_reason(reason, sizeof(reason));
        snprintf(err, errlen, "cannot create TLS context: %s", reason);
        return NULL;
    }
    int min = tls->min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        openssl_reason(reason, sizeof(reason));
        snprintf(err, errlen, "cannot set TLS protocol limits: %s", reason);
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);

    certs = BIO_new_mem_buf(tls->cert.data, (int)tls->cert.len);
    leaf = certs ? PEM_read_bio_X509(certs, NULL, NULL, NULL) : NULL;
    if (leaf == NULL || SSL_CTX_use_certificate(ctx, leaf) != 1) {
        openssl_reason(reason, sizeof(reason));
        snprintf(err, errlen, "listen.tls.cert: no usable PEM certificate: %s", reason);
        goto fail;
    }
    for (;;) {
        X509 *extra = PEM_read_bio_X509(certs, NULL, NULL, NULL);
        if (extra == NULL)
            break;
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
            X509_free(extra);
            openssl_reason(reason, sizeof(reason));
            snprintf(err, errlen, "listen.tls.cert: bad chain certificate: %s", reason);
            goto fail;
        }
    }
    ERR_clear_error(); /* the loop ends on an expected "no start line" */

    keybio = BIO_new_mem_buf(tls->key.data, (int)tls->key.len);
    key = keybio ? PEM_read_bio_PrivateKey(keybio, NULL, NULL, NULL) : NULL;
    if (key == NULL) {
        ERR_clear_error();
        snprintf(err, errlen, "listen.tls.key: no usable PEM private key");
        goto fail;
    }
    /* Checked before loading: SSL_CTX_use_PrivateKey refuses a mismatch with a vaguer
     * error. */
    if (X509_check_private_key(leaf, key) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "listen.tls.key does not match listen.tls.cert");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "listen.tls.key: the key cannot be used");
        goto fail;
    }
    X509_free(leaf);
    EVP_PKEY_free(key);
    BIO_free(certs);
    BIO_free(keybio);
    return ctx;
fail:
    X509_free(leaf);
    EVP_PKEY_free(key);
    BIO_free(certs);
    BIO_free(keybio);
    SSL_CTX_free(ctx);
    return NULL;
}
