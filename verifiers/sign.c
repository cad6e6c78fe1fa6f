/* sign.c — the pieces every signer of verifier.h uses: bounded headers, random ids,
 * timestamps as text, and the reason for a refusal. */
#include "verifiers/sign.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "verifiers/hmac.h"

#define RANDOM_ID_BYTES 12 /* 96 bits: ids made here never collide in practice */

void gw_sign_error(char *err, size_t err_len, const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* Names and values here are short literals and fixed-size signatures. */
int gw_signed_add_header(struct gw_signed *out, const char *name, const char *value)
{
    if (out->n_headers >= GW_SIGNED_HEADERS_MAX || strlen(name) >= GW_SIGNED_NAME_MAX ||
        strlen(value) >= GW_SIGNED_VALUE_MAX)
        return -1;
    snprintf(out->headers[out->n_headers].name, GW_SIGNED_NAME_MAX, "%s", name);
    snprintf(out->headers[out->n_headers].value, GW_SIGNED_VALUE_MAX, "%s", value);
    out->n_headers++;
    return 0;
}

int gw_sign_random_id(const char *prefix, char *out, size_t out_len)
{
    unsigned char raw[RANDOM_ID_BYTES];
    char hex[2 * RANDOM_ID_BYTES + 1];
    if (RAND_bytes(raw, (int)sizeof raw) != 1 ||
        gw_hex_encode(raw, sizeof raw, hex, sizeof hex) == 0)
        return -1;
    int n = snprintf(out, out_len, "%s%s", prefix, hex);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

int gw_sign_timestamp_text(int64_t ts, char *out, size_t out_len)
{
    int n = snprintf(out, out_len, "%" PRId64, ts);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}
