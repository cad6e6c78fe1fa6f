/* units.c — strict parsers and printers for the sizes and durations written in the config. */
#include "config/units.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit {
    const char *suffix;
    uint64_t factor;
};

/* A suffix must be the whole rest of the string, so "1KiBx" and "1 KiB" match nothing. */
static const struct unit size_units[] = {
    {"", 1}, {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
};

/* Largest first: a compound duration must use them in this order, each at most once. */
static const struct unit duration_units[] = {
    {"d", 86400000ull}, {"h", 3600000ull}, {"m", 60000ull}, {"s", 1000ull}, {"ms", 1ull},
};

#define N_DURATION_UNITS (sizeof duration_units / sizeof duration_units[0])

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads the digits at *p into *value, advancing *p; fails on no digits or overflow. */
static int read_number(const char **p, uint64_t *value)
{
    const char *s = *p;
    uint64_t v = 0;

    if (!is_digit(*s))
        return -1;
    for (; is_digit(*s); s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *p = s;
    *value = v;
    return 0;
}

static int mul_checked(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b != 0 && a > UINT64_MAX / b)
        return -1;
    *out = a * b;
    return 0;
}

int gw_parse_size(const char *s, uint64_t *out)
{
    uint64_t n;
    uint64_t bytes;

    if (s == NULL || read_number(&s, &n) < 0)
        return -1;
    for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
        if (strcmp(s, size_units[i].suffix) != 0)
            continue;
        if (mul_checked(n, size_units[i].factor, &bytes) < 0)
            return -1;
        *out = bytes;
        return 0;
    }
    return -1;
}

/* The index in duration_units of the unit at the start of p, or -1. "ms" must be tried
 * before "m" because it starts with it. */
static int duration_unit_at(const char *p, size_t *unit_len)
{
    int found = -1;
    size_t best = 0;

    for (size_t i = 0; i < N_DURATION_UNITS; i++) {
        size_t n = strlen(duration_units[i].suffix);
        if (n > best && strncmp(p, duration_units[i].suffix, n) == 0) {
            found = (int)i;
            best = n;
        }
    }
    *unit_len = best;
    return found;
}

int gw_parse_duration_ms(const char *s, uint64_t *out)
{
    uint64_t total = 0;
    int last_unit = -1;

    if (s == NULL || *s == '\0')
        return -1;
    while (*s != '\0') {
        uint64_t n;
        uint64_t part;
        size_t unit_len;
        int unit;

        if (read_number(&s, &n) < 0)
            return -1;
        unit = duration_unit_at(s, &unit_len);
        if (unit < 0 || unit <= last_unit)
            return -1;
        s += unit_len;
        if (mul_checked(n, duration_units[unit].factor, &part) < 0 || part > UINT64_MAX - total)
            return -1;
        total += part;
        last_unit = unit;
    }
    *out = total;
    return 0;
}

void gw_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const struct unit units[] = {
        {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (bytes != 0 && bytes % units[i].factor == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / units[i].factor),
                     units[i].suffix);
            return;
        }
    }
    snprintf(buf, len, "%lluB", (unsigned long long)bytes);
}

void gw_format_duration_ms(uint64_t ms, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    if (ms == 0) {
        snprintf(buf, len, "0ms");
        return;
    }
    for (size_t i = 0; i < N_DURATION_UNITS && ms != 0 && used < len; i++) {
        uint64_t n = ms / duration_units[i].factor;
        int w;

        if (n == 0)
            continue;
        ms -= n * duration_units[i].factor;
        w = snprintf(buf + used, len - used, "%llu%s", (unsigned long long)n,
                     duration_units[i].suffix);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}
