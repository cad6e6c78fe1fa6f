/* rate_limit.h — token buckets per source address and per endpoint (limits:), and the source
 * of a request that came through a trusted proxy (listen.trusted_proxies). Owned by the event
 * loop: used from its thread only, so nothing here locks. */
#ifndef CTGW_RATE_LIMIT_H
#define CTGW_RATE_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct gw_rate_limits;

/* NULL when out of memory. The config must outlive it. */
struct gw_rate_limits *gw_rate_limits_create(const struct gw_config *cfg);
void gw_rate_limits_destroy(struct gw_rate_limits *rl);

/* The address a request came from: PEER, or, when PEER is a trusted proxy and XFF (its
 * X-Forwarded-For, may be NULL) names addresses, the last of them that is not a trusted
 * proxy itself (the one the first trusted proxy saw). Never an address that does not parse.
 * Writes at most CAP bytes to OUT. */
void gw_rate_limits_source(const struct gw_rate_limits *rl, const char *peer, const char *xff,
                           char *out, size_t cap);

/* Takes one request's tokens from SOURCE's bucket and, when EP_INDEX < the number of
 * endpoints, that endpoint's, at NOW_NS (monotonic). 0 when the request may go on; otherwise
 * the seconds until it could (Retry-After), and no token was taken. */
unsigned gw_rate_limits_take(struct gw_rate_limits *rl, const char *source, size_t ep_index,
                             uint64_t now_ns);

#endif
