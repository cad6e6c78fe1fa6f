/* basic_auth.c — verifies Authorization: Basic base64(user:pass) against the endpoint's
 * credentials, comparing the whole credential in constant time. */
#include "verifiers/basic_auth.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "verifiers/base64.h"
#include "verifiers/ct_compare.h"

#define AUTH_HEADER    "Authorization"
#define SCHEME         "Basic"
#define CREDENTIAL_MAX 768 /* bytes of "user:pass" */
/* Longest Authorization value looked at: the scheme, a few spaces, the base64. */
#define HEADER_MAX 1100

static bool usable(const struct gw_secret *secret)
{
    return secret != NULL && secret->data != NULL && secret->len > 0 &&
           secret->len <= CREDENTIAL_MAX && memchr(secret->data, ':', secret->len) != NULL;
}

/* Decodes the credential of VALUE into CRED. Returns false, with the note set, when VALUE is
 * not of the form basic_auth.h describes. */
static bool parse(const char *value, unsigned char cred[CREDENTIAL_MAX], size_t *cred_len,
                  struct gw_verify_detail *detail)
{
    size_t len = strnlen(value, HEADER_MAX + 1);
    if (len > HEADER_MAX) {
        gw_verify_note(detail, "%s is longer than %d bytes", AUTH_HEADER, HEADER_MAX);
        return false;
    }
    size_t scheme_len = sizeof SCHEME - 1;
    if (len <= scheme_len || strncasecmp(value, SCHEME, scheme_len) != 0 ||
        value[scheme_len] != ' ') {
        gw_verify_note(detail, "%s must be \"Basic\", a space and base64 of user:pass",
                       AUTH_HEADER);
        return false;
    }
    size_t i = scheme_len;
    while (i < len && value[i] == ' ')
        i++;
    if (i == len || !gw_base64_decode(value + i, len - i, cred, CREDENTIAL_MAX, cred_len, 0)) {
        gw_verify_note(detail, "the credentials must be padded base64 of at most %d bytes",
                       CREDENTIAL_MAX);
        return false;
    }
    bool colon = false;
    for (size_t k = 0; k < *cred_len; k++) {
        if (cred[k] < 0x20 || cred[k] == 0x7f) {
            gw_verify_note(detail, "the decoded credentials hold a control character");
            return false;
        }
        colon |= cred[k] == ':';
    }
    if (!colon) {
        gw_verify_note(detail, "the decoded credentials have no ':' between user and password");
        return false;
    }
    return true;
}

/* Checks, in order: the header present once and of its form; at least one usable secret;
 * the credential equal to one of them. */
static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    gw_verify_set_header(detail, AUTH_HEADER);

    const char *value =
        gw_verify_single_header(in != NULL ? in->headers : NULL, AUTH_HEADER, detail);
    if (value == NULL)
        return GW_VERIFY_MISSING_HEADER;

    unsigned char cred[CREDENTIAL_MAX];
    size_t cred_len = 0;
    if (!parse(value, cred, &cred_len, detail)) {
        OPENSSL_cleanse(cred, sizeof cred);
        return GW_VERIFY_MALFORMED_HEADER;
    }

    size_t n_usable = 0;
    int matched = -1;
    for (size_t s = 0; s < in->n_secrets && s <= INT_MAX && matched < 0; s++) {
        if (!usable(&in->secrets[s]))
            continue;
        n_usable++;
        if (gw_ct_equal(cred, cred_len, in->secrets[s].data, in->secrets[s].len))
            matched = (int)s;
    }
    OPENSSL_cleanse(cred, sizeof cred);
    if (n_usable == 0) {
        gw_verify_note(detail, "none of the %zu secrets is usable (user:pass, at most %d bytes)",
                       in->n_secrets, CREDENTIAL_MAX);
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (matched < 0) {
        gw_verify_note(detail, "the credentials match none of %zu configured", n_usable);
        return GW_VERIFY_NO_SECRET_MATCHED;
    }
    detail->secret_index = matched;
    gw_verify_note(detail, "verified with secret %d", matched);
    return GW_VERIFY_OK;
}

const struct gw_verifier gw_verifier_basic_auth = {
    .name = "basic-auth",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS | GW_SCHEME_NEEDS_USER_PASSWORD,
    .content_type = "multipart/form-data",
    .sign = NULL,
};
