/* hash.h — FNV-1a over a C string, for the small in-memory tables (tenant cache, Slack reply
 * counts, Xero call budgets). Not for anything an attacker must not collide: the tables
 * it serves stay correct under collisions, only less effective. */
#ifndef CTGW_HASH_H
#define CTGW_HASH_H

#include <stdint.h>

/* Never 0, so a table can use 0 for "empty". */
static inline uint64_t gw_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

#endif
