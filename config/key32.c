/* key32.c — decoding a configured 32-byte key, with the verifiers' strict hex and base64
 * decoders, and the messages that say how to generate a good one. */
#include "config/key32.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "verifiers/base64.h"
#include "verifiers/hmac.h"

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Only an exact 32-byte result counts: OUT has room for one more byte so that a longer
 * encoding fails on its length rather than being cut short. */
static bool decode_text(const char *s, size_t n, unsigned char out[GW_CFG_KEY32_LEN])
{
    unsigned char buf[GW_CFG_KEY32_LEN + 1];
    size_t used = 0;
    bool ok;

    ok = (n == 2 * GW_CFG_KEY32_LEN &&
          gw_hex_decode(s, n, buf, sizeof buf, &used, GW_HEX_ANY_CASE)) ||
         gw_base64_decode(s, n, buf, sizeof buf, &used, GW_BASE64_NOPAD);
    ok = ok && used == GW_CFG_KEY32_LEN;
    if (ok)
        memcpy(out, buf, GW_CFG_KEY32_LEN);
    explicit_bzero(buf, sizeof buf);
    return ok;
}

int gw_cfg_key32_decode(const char *data, size_t len, unsigned char out[GW_CFG_KEY32_LEN],
                        char *err, size_t err_len)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t n = len;
    bool printable = true;

    memset(out, 0, GW_CFG_KEY32_LEN);
    if (err_len > 0)
        err[0] = '\0';
    if (data == NULL) {
        snprintf(err, err_len, "no key");
        return -1;
    }
    /* Raw bytes are taken as they are: whitespace may be part of a random key. */
    if (len == GW_CFG_KEY32_LEN) {
        for (size_t i = 0; i < len && printable; i++)
            printable = s[i] >= 0x20 && s[i] <= 0x7e;
        if (printable) {
            snprintf(err, err_len,
                     "32 printable characters are a passphrase or a key of 24 or 16 bytes, not "
                     "32 random bytes; generate one with: openssl rand -hex 32");
            return -1;
        }
        memcpy(out, data, GW_CFG_KEY32_LEN);
        return 0;
    }
    while (n > 0 && is_space(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (decode_text((const char *)s, n, out))
        return 0;
    snprintf(err, err_len,
             "expected 32 bytes, 64 hex digits or base64 of 32 bytes, got %zu bytes; generate "
             "one with: openssl rand -hex 32",
             len);
    return -1;
}
