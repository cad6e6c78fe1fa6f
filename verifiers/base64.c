/* base64.c — a small strict base64 (RFC 4648) decoder and encoder for signature schemes. */
#include "verifiers/base64.h"

#include <stdint.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of C, or -1 when C is not in the alphabet FLAGS select. Written as ranges
 * rather than a table so that '+' is refused under GW_BASE64_URL and '-' without it. */
static int sextet(unsigned char c, unsigned flags)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (flags & GW_BASE64_URL) {
        if (c == '-')
            return 62;
        if (c == '_')
            return 63;
    } else {
        if (c == '+')
            return 62;
        if (c == '/')
            return 63;
    }
    return -1;
}

bool gw_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap,
                      size_t *out_len, unsigned flags)
{
    if (out_len == NULL)
        return false;
    *out_len = 0;
    if (in_len == 0)
        return true;
    if (in == NULL)
        return false;

    /* At most two '=' and only at the very end; a third one stays in the data part and is
     * refused there as a character outside the alphabet. */
    size_t data_len = in_len;
    size_t pad = 0;
    while (data_len > 0 && pad < 2 && in[data_len - 1] == '=') {
        data_len--;
        pad++;
    }
    if ((pad > 0 || !(flags & GW_BASE64_NOPAD)) && in_len % 4 != 0)
        return false;
    size_t rem = data_len % 4;
    if (rem == 1) /* 6 bits cannot make a byte */
        return false;

    size_t need = data_len / 4 * 3 + (rem ? rem - 1 : 0);
    if (need > out_cap || (need > 0 && out == NULL))
        return false;

    /* Validate everything before writing so OUT is untouched when the input is refused. */
    for (size_t i = 0; i < data_len; i++)
        if (sextet((unsigned char)in[i], flags) < 0)
            return false;
    if (!(flags & GW_BASE64_LAX_BITS) && rem > 0) {
        /* The last character carries 4 (rem 2) or 2 (rem 3) bits that no byte uses; a
         * canonical encoder writes them as zero. */
        unsigned last = (unsigned)sextet((unsigned char)in[data_len - 1], flags);
        unsigned unused_mask = rem == 2 ? 0x0fu : 0x03u;
        if (last & unused_mask)
            return false;
    }

    size_t o = 0;
    size_t i = 0;
    for (; i + 4 <= data_len; i += 4) {
        uint32_t v = (uint32_t)sextet((unsigned char)in[i], flags) << 18 |
                     (uint32_t)sextet((unsigned char)in[i + 1], flags) << 12 |
                     (uint32_t)sextet((unsigned char)in[i + 2], flags) << 6 |
                     (uint32_t)sextet((unsigned char)in[i + 3], flags);
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    if (rem >= 2) {
        uint32_t v = (uint32_t)sextet((unsigned char)in[i], flags) << 18 |
                     (uint32_t)sextet((unsigned char)in[i + 1], flags) << 12;
        if (rem == 3)
            v |= (uint32_t)sextet((unsigned char)in[i + 2], flags) << 6;
        out[o++] = (unsigned char)(v >> 16);
        if (rem == 3)
            out[o++] = (unsigned char)(v >> 8);
    }
    *out_len = o;
    return true;
}

size_t gw_base64_encode(const unsigned char *in, size_t in_len, char *out, size_t out_cap,
                        unsigned flags)
{
    if (out != NULL && out_cap > 0)
        out[0] = '\0';
    if (out == NULL || (in == NULL && in_len > 0))
        return 0;
    /* Keep the length arithmetic below from wrapping. */
    if (in_len / 3 >= SIZE_MAX / 4 - 1)
        return 0;

    const char *alphabet = (flags & GW_BASE64_URL) ? url_alphabet : std_alphabet;
    size_t rem = in_len % 3;
    size_t n = in_len / 3 * 4;
    if (rem > 0)
        n += (flags & GW_BASE64_NOPAD) ? rem + 1 : 4;
    if (n >= out_cap) /* room for the NUL too */
        return 0;

    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= in_len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (rem > 0) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (rem == 2)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (rem == 2)
            out[o++] = alphabet[(v >> 6) & 63];
        if (!(flags & GW_BASE64_NOPAD)) {
            out[o++] = '=';
            if (rem == 1)
                out[o++] = '=';
        }
    }
    out[o] = '\0';
    return o;
}
