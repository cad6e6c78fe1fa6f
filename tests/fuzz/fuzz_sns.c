/* fuzz_sns.c — the SNS message parser and canonicaliser (gw_sns_string_to_sign), and the
 * verifier around them up to the RSA check, with a certificate made once in the process.
 * Input: the JSON body. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tests/fuzz/fuzz.h"
#include "verifiers/sns.h"

#define NOW   ((time_t)1767605401) /* 2026-01-05T09:30:01Z */
#define TOPIC "arn:aws:sns:eu-west-1:123456789012:ct-inbound"

static X509 *cert;

/* A self-signed RSA-2048 certificate: the verifier gets as far as the signature check. */
static X509 *make_cert(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    X509 *c = X509_new();
    if (key == NULL || c == NULL)
        abort();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400L * 365 * 50);
    X509_set_pubkey(c, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                               (const unsigned char *)"sns.amazonaws.com", -1, -1, 0);
    X509_set_issuer_name(c, X509_get_subject_name(c));
    if (X509_sign(c, key, EVP_sha256()) <= 0)
        abort();
    EVP_PKEY_free(key);
    return c;
}

static X509 *lookup(void *ctx, const char *url, char *why, size_t why_len)
{
    (void)ctx;
    (void)url;
    (void)why;
    (void)why_len;
    X509_up_ref(cert);
    return cert;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (cert == NULL)
        cert = make_cert();

    char *canon = NULL;
    size_t canon_len = 0;
    struct gw_verify_detail d;
    memset(&d, 0x5a, sizeof d);
    enum gw_verify_result r = gw_sns_string_to_sign(data, size, &canon, &canon_len, &d);
    FUZZ_CHECK((r == GW_VERIFY_OK) == (canon != NULL));
    if (canon != NULL) {
        FUZZ_CHECK(strlen(canon) == canon_len); /* no NUL may reach the signed string */
        free(canon);
    }

    static const char *const topics[] = {TOPIC};
    struct gw_headers headers = {NULL, 0};
    struct gw_verify_input vin = {.body = data,
                                  .body_len = size,
                                  .headers = &headers,
                                  .tolerance_s = UINT64_C(100) * 365 * 86400, /* reach the rest */
                                  .now = NOW,
                                  .topics = topics,
                                  .n_topics = 1,
                                  .cert_lookup = lookup};
    memset(&d, 0x5a, sizeof d);
    r = gw_verifier_sns.verify(&vin, &d);
    FUZZ_CHECK(r >= GW_VERIFY_OK && r <= GW_VERIFY_KEY_UNUSABLE);
    FUZZ_CHECK(r != GW_VERIFY_OK); /* nobody here holds the certificate's key */
    FUZZ_CHECK(memchr(d.note, '\0', sizeof d.note) != NULL);

    /* The URL checker alone, on the input as a URL and as a pattern. */
    char text[2048];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    gw_sns_cert_url_ok(text, NULL, NULL, 0);
    char why[128];
    gw_sns_cert_url_ok("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem", text,
                       why, sizeof why);
    return 0;
}
