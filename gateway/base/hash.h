/* hash.h — the process's hashes: FNV-1a over a C string, for the small in-memory tables
 * (tenant cache, Slack reply counts, Xero call budgets), and SHA-256 (OpenSSL) for anything
 * stored or compared: inbox body digests, migration checksums, key ids, long dedupe keys.
 * FNV is not for anything an attacker must not collide: the tables it serves stay correct
 * under collisions, only less effective. */
#ifndef CTGW_HASH_H
#define CTGW_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SHA256_SIZE     32 /* bytes of a digest */
#define GW_SHA256_HEX_SIZE 65 /* its lowercase hex, with the NUL */

/* Never 0, so a table can use 0 for "empty". */
static inline uint64_t gw_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* OUT = SHA-256 of the LEN bytes at DATA (which may be NULL when LEN is 0). False, with OUT
 * zeroed, when OpenSSL fails. */
bool gw_sha256(const void *data, size_t len, unsigned char out[GW_SHA256_SIZE]);

/* The same digest as 64 lowercase hex digits; false, with OUT empty, when OpenSSL fails. */
bool gw_sha256_hex(const void *data, size_t len, char out[GW_SHA256_HEX_SIZE]);

#endif
