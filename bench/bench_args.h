/* bench_args.h — what the bench's pre-signing tools share: a bounded number argument, and
 * the endpoint's secret read exactly as the config loader reads `file:PATH`. */
#ifndef CTGW_BENCH_ARGS_H
#define CTGW_BENCH_ARGS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/secret_ref.h"

/* A decimal number within [min, max]; 0, or -1 when it is not one. */
static inline int bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Loads the secret in PATH into OUT (free it with gw_secret_wipe); says why on stderr. */
static inline int bench_load_secret(const char *tool, const char *path, struct gw_secret *out)
{
    char ref[4096 + 8], err[256];
    if (snprintf(ref, sizeof(ref), "file:%s", path) >= (int)sizeof(ref)) {
        fprintf(stderr, "%s: %s: path too long\n", tool, path);
        return -1;
    }
    if (gw_secret_ref_load(ref, GW_REF_FILE, NULL, out, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", tool, err);
        return -1;
    }
    return 0;
}

#endif
