/* sns_sign.h — signs an Amazon SNS message as SNS does, with a private key given by the
 * caller: for `ctgw sign`, tests and bench/. The gateway itself only verifies (sns.h). */
#ifndef CTGW_SNS_SIGN_H
#define CTGW_SNS_SIGN_H

#include <stddef.h>

#include <openssl/types.h>

/* Signs BODY, one JSON object holding the fields its Type signs (sns.h), with KEY (RSA of
 * 2048 to 8192 bits): sets SignatureVersion VERSION ("1": SHA1withRSA, "2": SHA256withRSA),
 * SigningCertURL CERT_URL and Signature, replacing any given. Returns 0 with *OUT the signed
 * body (compact JSON, malloc'd, NUL-terminated; the caller frees) and *OUT_LEN its length,
 * or -1 with a reason in ERR. */
int gw_sns_sign(const unsigned char *body, size_t body_len, EVP_PKEY *key, const char *version,
                const char *cert_url, char **out, size_t *out_len, char *err, size_t err_len);

#endif
