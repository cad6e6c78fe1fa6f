/* text.c — checks on text that arrives from outside: storable UTF-8, e-mail address shape. */
#include "gateway/base/text.h"

#include <stdint.h>

bool gw_text_utf8_chars(const char *s, size_t len, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        unsigned char b = p[i];
        size_t extra;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            extra = 1;
            cp = b & 0x1Fu;
            min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            extra = 2;
            cp = b & 0x0Fu;
            min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            extra = 3;
            cp = b & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += extra + 1;
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
