/* cidr.h — IPv4 and IPv6 networks as written in the config ("10.0.0.0/8", "::1"), and
 * whether an address is in one: listen.trusted_proxies. */
#ifndef CTGW_CIDR_H
#define CTGW_CIDR_H

#include <stdbool.h>

struct gw_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix; /* bits: 0..32 or 0..128 */
};

/* Parses "ADDRESS" or "ADDRESS/PREFIX"; false when it is neither (or bits are set past the
 * prefix, which is most likely a typo). */
bool gw_cidr_parse(const char *s, struct gw_cidr *out);

/* Whether ADDRESS (textual, as a peer or X-Forwarded-For names it) is in C. An IPv4-mapped
 * IPv6 address matches IPv4 networks. */
bool gw_cidr_contains(const struct gw_cidr *c, const char *address);

#endif
