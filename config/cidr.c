/* cidr.c — networks of the config and membership. */
#include "config/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The address of S in OUT (16 bytes) and its family; IPv4-mapped IPv6 becomes IPv4. */
static bool address_of(const char *s, unsigned char out[16], int *family)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return false;
    /* "[::1]" as some proxies write it. */
    if (s[0] == '[' && s[n - 1] == ']') {
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, s, n + 1);
    }
    memset(out, 0, 16);
    if (inet_pton(AF_INET, buf, out) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out, mapped, 12) == 0) {
        memmove(out, out + 12, 4);
        memset(out + 4, 0, 12);
        *family = AF_INET;
        return true;
    }
    *family = AF_INET6;
    return true;
}

static bool same_prefix(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool gw_cidr_parse(const char *s, struct gw_cidr *out)
{
    if (s == NULL || out == NULL)
        return false;
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(addr))
        return false;
    memcpy(addr, s, n);
    addr[n] = '\0';
    if (!address_of(addr, out->addr, &out->family))
        return false;
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (slash != NULL) {
        char *end = NULL;
        if (slash[1] < '0' || slash[1] > '9')
            return false;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || p > max)
            return false;
        out->prefix = (unsigned)p;
    }
    /* Host bits set past the prefix ("10.1.2.3/8"): refused rather than guessed. */
    for (unsigned bit = out->prefix; bit < max; bit++)
        if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
            return false;
    return true;
}

bool gw_cidr_contains(const struct gw_cidr *c, const char *address)
{
    unsigned char a[16];
    int family = 0;
    if (c == NULL || address == NULL || !address_of(address, a, &family) || family != c->family)
        return false;
    return same_prefix(a, c->addr, c->prefix);
}
