/* sign_relay.c — multipart signed fields, credentials and ECDSA headers for `ctgw sign`. */
#include "gateway/cli/sign_relay.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config/secret_ref.h"
#include "verifiers/sendgrid.h"

__attribute__((format(printf, 3, 4))) static void say(char *err, size_t len, const char *fmt, ...)
{
    if (err == NULL || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* The boundary of a multipart BODY into B (NUL-terminated) and where its closing delimiter's
 * line break starts; false when BODY is not one. */
static bool multipart(const unsigned char *body, size_t len, char *b, size_t cap, size_t *closing)
{
    if (len < 4 || body[0] != '-' || body[1] != '-')
        return false;
    const unsigned char *nl = memchr(body, '\n', len);
    if (nl == NULL)
        return false;
    size_t bl = (size_t)(nl - body) - 2;
    if (bl > 0 && body[2 + bl - 1] == '\r')
        bl--;
    if (bl == 0 || bl > GW_FORM_BOUNDARY_MAX || bl + 1 > cap)
        return false;
    memcpy(b, body + 2, bl);
    b[bl] = '\0';
    char end[GW_FORM_BOUNDARY_MAX + 8];
    int el = snprintf(end, sizeof end, "\n--%s--", b);
    /* The last closing delimiter: a file may hold the word in a part, never after it. */
    const unsigned char *last = NULL;
    for (const unsigned char *p = body;
         (p = memmem(p, len - (size_t)(p - body), end, (size_t)el)) != NULL; p++)
        last = p;
    if (last == NULL)
        return false;
    *closing = (size_t)(last - body) - (last > body && last[-1] == '\r' ? 1 : 0);
    return true;
}

int gw_sign_form_parts(const unsigned char *body, size_t len, struct gw_signed *sig,
                       struct gw_sign_extra *x, char *err, size_t err_len)
{
    char boundary[GW_FORM_BOUNDARY_MAX + 1];
    size_t closing = 0;
    if (!multipart(body, len, boundary, sizeof boundary, &closing))
        return 0;
    snprintf(x->content_type, sizeof x->content_type, "multipart/form-data; boundary=%s", boundary);
    x->insert_at = closing;
    x->insert_len = 0;
    const char *p = sig->body_suffix[0] == '&' ? sig->body_suffix + 1 : sig->body_suffix;
    /* The fields were made by a signer: "name=value" pairs of printable characters that need
     * no decoding (the mailgun signer refuses tokens with %, &, + or =). */
    while (*p != '\0') {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (eq == NULL) {
            say(err, err_len, "a signed field without a value");
            return -1;
        }
        size_t room = sizeof x->insert - x->insert_len;
        int w = snprintf(x->insert + x->insert_len, room,
                         "\r\n--%s\r\nContent-Disposition: form-data; name=\"%.*s\"\r\n\r\n%.*s",
                         boundary, (int)(eq - p), p, (int)(n - (size_t)(eq - p) - 1), eq + 1);
        if (w < 0 || (size_t)w >= room) {
            say(err, err_len, "the signed fields do not fit");
            return -1;
        }
        x->insert_len += (size_t)w;
        p += n;
        if (*p == '&')
            p++;
    }
    sig->body_suffix[0] = '\0';
    sig->body_suffix_len = 0;
    return 1;
}

void gw_sign_credential(const struct gw_endpoint_config *ep, const struct gw_verifier *s,
                        struct gw_sign_extra *x)
{
    if (s->needs & GW_SCHEME_NEEDS_USER_PASSWORD) {
        x->user = ep->username;
    } else {
        x->token = true;
        x->token_header = ep->header;
    }
}

int gw_sign_ecdsa(const char *key_file, int64_t timestamp, const unsigned char *body, size_t len,
                  struct gw_signed *sig, char *err, size_t err_len)
{
    memset(sig, 0, sizeof *sig);
    if (key_file == NULL) {
        say(err, err_len,
            "the endpoint verifies SendGrid's signature with its public key; sign with a test "
            "private key: --key FILE (and its public half as the endpoint's public_key)");
        return -1;
    }
    char ref[4200], why[256];
    snprintf(ref, sizeof ref, "file:%s", key_file);
    struct gw_secret pem = {0};
    if (gw_secret_ref_load(ref, GW_REF_FILE | GW_REF_PRIVATE, NULL, &pem, why, sizeof why) != 0) {
        say(err, err_len, "%s", why);
        return -1;
    }
    BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    gw_secret_wipe(&pem);
    ERR_clear_error();
    char b64[GW_SENDGRID_SIGNATURE_B64_MAX + 1];
    int rc = key != NULL ? gw_sendgrid_sign(key, timestamp, body, len, b64, sizeof b64) : -1;
    EVP_PKEY_free(key);
    if (rc != 0) {
        say(err, err_len, "%s is not an EC P-256 private key PEM", key_file);
        return -1;
    }
    snprintf(sig->headers[0].name, sizeof sig->headers[0].name, "%s", GW_SENDGRID_TIMESTAMP_HEADER);
    snprintf(sig->headers[0].value, sizeof sig->headers[0].value, "%lld", (long long)timestamp);
    snprintf(sig->headers[1].name, sizeof sig->headers[1].name, "%s", GW_SENDGRID_SIGNATURE_HEADER);
    snprintf(sig->headers[1].value, sizeof sig->headers[1].value, "%s", b64);
    sig->n_headers = 2;
    return 0;
}
