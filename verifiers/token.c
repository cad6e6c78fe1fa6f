/* token.c — verifies a bearer token or a token in a configured header, comparing the whole
 * token in constant time with each configured one. */
#include "verifiers/token.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "verifiers/ct_compare.h"

#define DEFAULT_HEADER  "Authorization"
#define SCHEME          "Bearer"
#define TOKEN_MAX       4096 /* bytes of a token */
#define HEADER_NAME_MAX 63   /* so the name fits in detail->header */
/* Longest header value looked at: the scheme, a few spaces, the token. */
#define VALUE_MAX (TOKEN_MAX + 64)

/* RFC 9110 tchar: what a header name may be made of. */
static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool valid_header_name(const char *name)
{
    size_t len = strnlen(name, HEADER_NAME_MAX + 1);
    if (len == 0 || len > HEADER_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!tchar((unsigned char)name[i]))
            return false;
    return true;
}

static bool usable(const struct gw_secret *secret)
{
    return secret != NULL && secret->data != NULL && secret->len > 0 && secret->len <= TOKEN_MAX;
}

/* Finds the token in VALUE. Returns false, with the note set, when VALUE is not of the form
 * token.h describes. */
static bool parse(const char *value, bool bearer, const char **token, size_t *token_len,
                  struct gw_verify_detail *detail)
{
    size_t len = strnlen(value, VALUE_MAX + 1);
    if (len > VALUE_MAX) {
        gw_verify_note(detail, "the value is longer than %d bytes", VALUE_MAX);
        return false;
    }
    size_t i = 0;
    if (bearer) {
        size_t scheme_len = sizeof SCHEME - 1;
        if (len <= scheme_len || strncasecmp(value, SCHEME, scheme_len) != 0 ||
            value[scheme_len] != ' ') {
            gw_verify_note(detail, "%s must be \"Bearer\", a space and the token", DEFAULT_HEADER);
            return false;
        }
        i = scheme_len;
        while (i < len && value[i] == ' ')
            i++;
    }
    *token = value + i;
    *token_len = len - i;
    if (*token_len == 0 || *token_len > TOKEN_MAX) {
        gw_verify_note(detail, "the token must be 1..%d bytes", TOKEN_MAX);
        return false;
    }
    for (size_t k = 0; k < *token_len; k++) {
        unsigned char c = (unsigned char)(*token)[k];
        bool edge = k == 0 || k == *token_len - 1;
        if (c < 0x20 || c > 0x7e || (c == ' ' && (bearer || edge))) {
            gw_verify_note(detail, "the token must be printable ASCII%s",
                           bearer ? " without spaces" : " without a space at either end");
            return false;
        }
    }
    return true;
}

/* Checks, in order: the configured header name; the header present once and of its form; at
 * least one usable secret; the token equal to one of them. */
static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);

    bool bearer = in == NULL || in->token_header == NULL;
    const char *name = bearer ? DEFAULT_HEADER : in->token_header;
    if (!valid_header_name(name)) {
        gw_verify_note(detail, "the configured token header is not a header name of 1..%d bytes",
                       HEADER_NAME_MAX);
        return GW_VERIFY_KEY_UNUSABLE;
    }
    gw_verify_set_header(detail, name);

    const char *value = gw_verify_single_header(in != NULL ? in->headers : NULL, name, detail);
    if (value == NULL)
        return GW_VERIFY_MISSING_HEADER;

    const char *token = NULL;
    size_t token_len = 0;
    if (!parse(value, bearer, &token, &token_len, detail))
        return GW_VERIFY_MALFORMED_HEADER;

    size_t n_usable = 0;
    int matched = -1;
    for (size_t s = 0; s < in->n_secrets && s <= INT_MAX && matched < 0; s++) {
        if (!usable(&in->secrets[s]))
            continue;
        n_usable++;
        if (gw_ct_equal(token, token_len, in->secrets[s].data, in->secrets[s].len))
            matched = (int)s;
    }
    if (n_usable == 0) {
        gw_verify_note(detail, "none of the %zu secrets is usable (a token of 1..%d bytes)",
                       in->n_secrets, TOKEN_MAX);
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (matched < 0) {
        gw_verify_note(detail, "the token matches none of %zu configured", n_usable);
        return GW_VERIFY_NO_SECRET_MATCHED;
    }
    detail->secret_index = matched;
    gw_verify_note(detail, "verified with secret %d", matched);
    return GW_VERIFY_OK;
}

const struct gw_verifier gw_verifier_token = {
    .name = "token",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS | GW_SCHEME_NEEDS_TOKEN,
    .content_type = "application/json",
    .sign = NULL,
};
