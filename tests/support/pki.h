/* pki.h — keys and X.509 certificates made in the test process with the OpenSSL API
 * (a CA, leaves signed by it, expired ones), for the ghl and sns tests. Header-only so the
 * unit and integration tests share it without a library; every failure fails the test. */
#ifndef CTGW_TESTS_SUPPORT_PKI_H
#define CTGW_TESTS_SUPPORT_PKI_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "verifiers/base64.h"

#define PKI_UNUSED __attribute__((unused))

/* A fresh key: "RSA" with BITS, "ED25519", or "EC" (P-256). */
PKI_UNUSED static EVP_PKEY *pki_key(const char *type, unsigned bits)
{
    EVP_PKEY *key = NULL;
    if (strcmp(type, "RSA") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    else if (strcmp(type, "EC") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else
        key = EVP_PKEY_Q_keygen(NULL, NULL, type);
    assert_non_null(key);
    return key;
}

static void pki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(cert, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A certificate for KEY with common name CN, valid from NOW+FROM_S to NOW+TO_S, signed by
 * ISSUER/ISSUER_KEY (NULL: self-signed). CA adds basicConstraints CA:TRUE; SAN (e.g.
 * "IP:127.0.0.1") adds subjectAltName. */
PKI_UNUSED static X509 *pki_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                                 long from_s, long to_s, bool ca, const char *san)
{
    static long serial = 1;
    X509 *cert = X509_new();
    assert_non_null(cert);
    assert_int_equal(X509_set_version(cert, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), from_s));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), to_s));
    X509_NAME *name = X509_get_subject_name(cert);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    X509 *signer = issuer != NULL ? issuer : cert;
    assert_int_equal(X509_set_issuer_name(cert, X509_get_subject_name(signer)), 1);
    assert_int_equal(X509_set_pubkey(cert, key), 1);
    pki_add_ext(cert, signer, NID_subject_key_identifier, "hash");
    pki_add_ext(cert, signer, NID_authority_key_identifier, "keyid:always");
    if (ca) {
        pki_add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
        pki_add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        pki_add_ext(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
    }
    if (san != NULL)
        pki_add_ext(cert, signer, NID_subject_alt_name, san);
    EVP_PKEY *signing_key = issuer_key != NULL ? issuer_key : key;
    /* Ed25519 signs without a digest; the others with SHA-256. */
    const EVP_MD *md = EVP_PKEY_get_base_id(signing_key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
    assert_true(X509_sign(cert, signing_key, md) > 0);
    return cert;
}

/* The PEM of N certificates, in order (caller frees). */
PKI_UNUSED static char *pki_certs_pem(X509 *const *certs, size_t n, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(PEM_write_bio_X509(bio, certs[i]), 1);
    char *data = NULL;
    long got = BIO_get_mem_data(bio, &data);
    assert_true(got > 0);
    char *out = malloc((size_t)got + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)got);
    out[got] = '\0';
    if (len != NULL)
        *len = (size_t)got;
    BIO_free(bio);
    return out;
}

/* The PEM of KEY's public part, "-----BEGIN PUBLIC KEY-----" (caller frees). */
PKI_UNUSED static char *pki_pubkey_pem(EVP_PKEY *key, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
    char *data = NULL;
    long got = BIO_get_mem_data(bio, &data);
    assert_true(got > 0);
    char *out = malloc((size_t)got + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)got);
    out[got] = '\0';
    *len = (size_t)got;
    BIO_free(bio);
    return out;
}

/* The PEM of KEY's private part, PKCS#8 unencrypted (caller frees). */
PKI_UNUSED static char *pki_privkey_pem(EVP_PKEY *key, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long got = BIO_get_mem_data(bio, &data);
    assert_true(got > 0);
    char *out = malloc((size_t)got + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)got);
    out[got] = '\0';
    *len = (size_t)got;
    BIO_free(bio);
    return out;
}

/* Signs LEN bytes of DATA with KEY — MD NULL for Ed25519, else RSA PKCS#1 v1.5 with MD —
 * and writes the padded base64 into OUT (NUL-terminated). */
PKI_UNUSED static void pki_sign_b64(EVP_PKEY *key, const EVP_MD *md, const void *data, size_t len,
                                    char *out, size_t out_cap)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, key), 1);
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, data, len), 1);
    EVP_MD_CTX_free(ctx);
    assert_true(gw_base64_encode(sig, sig_len, out, out_cap, 0) > 0);
}

#endif
