/* text.c — checks on text that arrives from outside: storable UTF-8, e-mail address shape. */
#include "gateway/base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t gw_text_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char b = s[0];
    size_t len;
    uint32_t v, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        len = 2, v = b & 0x1Fu, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3, v = b & 0x0Fu, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4, v = b & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

bool gw_text_utf8_chars(const char *s, size_t len, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        uint32_t cp;
        size_t k = gw_text_utf8_next(p + i, len - i, &cp);
        if (k == 0)
            return false;
        i += k;
    }
    *chars = n;
    return true;
}

bool gw_text_email_valid(const char *s, size_t len)
{
    size_t at = SIZE_MAX, chars = 0;
    if (len == 0 || len > 254)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7F)
            return false;
        if (ch == '@') {
            if (at != SIZE_MAX)
                return false;
            at = i;
        }
    }
    if (at == SIZE_MAX || at == 0 || at == len - 1)
        return false;
    return gw_text_utf8_chars(s, len, &chars);
}

char *gw_text_utf8_escaped(const char *s, size_t len)
{
    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(len * 4 + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = gw_text_utf8_next(u + i, len - i, &cp);
        if (n == 0) {
            o += (size_t)snprintf(out + o, 5, "\\x%02X", u[i]);
            i++;
            continue;
        }
        memcpy(out + o, u + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    return out;
}

void gw_text_append_clean(char *out, size_t cap, size_t *len, size_t *chars, size_t max_chars,
                          const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n && *chars < max_chars;) {
        uint32_t cp = 0;
        size_t k = gw_text_utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (k == 0) {
            i++;
            continue;
        }
        if (*len + k + 1 > cap)
            return;
        if (cp < 0x20 || cp == 0x7F) {
            out[(*len)++] = ' ';
        } else {
            memcpy(out + *len, s + i, k);
            *len += k;
        }
        out[*len] = '\0';
        i += k;
        (*chars)++;
    }
}
