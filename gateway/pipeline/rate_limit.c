/* rate_limit.c — token buckets for the loop. */
#include "gateway/pipeline/rate_limit.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cidr.h"
#include "gateway/base/hash.h"

/* Sources tracked at once. A direct-mapped table: a source whose slot holds another one
 * takes it over when that one's bucket has refilled (it has been quiet), and shares it
 * otherwise, so that a flood of many addresses can neither grow the table nor escape the
 * limit; it can only make colliding sources share one bucket. */
#define SOURCE_SLOTS 8192

struct bucket {
    double tokens;
    uint64_t last_ns;
};

struct source_slot {
    char address[64];
    struct bucket b;
};

struct gw_rate_limits {
    const struct gw_config *cfg;
    struct gw_cidr *proxies;
    size_t n_proxies;
    struct source_slot *sources; /* SOURCE_SLOTS, or NULL without a per-source limit */
    struct bucket *endpoints;    /* one per endpoint, or NULL without a per-endpoint limit */
};

struct gw_rate_limits *gw_rate_limits_create(const struct gw_config *cfg)
{
    struct gw_rate_limits *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->cfg = cfg;
    size_t n = cfg->listen.n_trusted_proxies;
    rl->proxies = n ? calloc(n, sizeof(*rl->proxies)) : NULL;
    for (size_t i = 0; rl->proxies != NULL && i < n; i++)
        if (gw_cidr_parse(cfg->listen.trusted_proxies[i], &rl->proxies[rl->n_proxies]))
            rl->n_proxies++; /* the loader refused any that does not parse */
    if (cfg->limits.per_source > 0)
        rl->sources = calloc(SOURCE_SLOTS, sizeof(*rl->sources));
    if (cfg->limits.per_endpoint > 0 && cfg->n_endpoints > 0)
        rl->endpoints = calloc(cfg->n_endpoints, sizeof(*rl->endpoints));
    if ((n > 0 && rl->proxies == NULL) || (cfg->limits.per_source > 0 && rl->sources == NULL) ||
        (cfg->limits.per_endpoint > 0 && cfg->n_endpoints > 0 && rl->endpoints == NULL)) {
        gw_rate_limits_destroy(rl);
        return NULL;
    }
    return rl;
}

void gw_rate_limits_destroy(struct gw_rate_limits *rl)
{
    if (rl == NULL)
        return;
    free(rl->proxies);
    free(rl->sources);
    free(rl->endpoints);
    free(rl);
}

static bool trusted(const struct gw_rate_limits *rl, const char *address)
{
    for (size_t i = 0; i < rl->n_proxies; i++)
        if (gw_cidr_contains(&rl->proxies[i], address))
            return true;
    return false;
}

static bool is_address(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

void gw_rate_limits_source(const struct gw_rate_limits *rl, const char *peer, const char *xff,
                           char *out, size_t cap)
{
    snprintf(out, cap, "%s", peer ? peer : "");
    if (rl == NULL || rl->n_proxies == 0 || xff == NULL || peer == NULL || !trusted(rl, peer))
        return;
    /* Right to left: each hop appended the address it saw; the first one no trusted proxy
     * wrote is the client. Bounded by the header's own (bounded) length. */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        char hop[64];
        if (b > a && b - a < sizeof(hop)) {
            memcpy(hop, xff + a, b - a);
            hop[b - a] = '\0';
            if (!is_address(hop))
                return; /* a hop that is no address: trust nothing beyond it */
            snprintf(out, cap, "%s", hop);
            if (!trusted(rl, hop))
                return;
        } else {
            return;
        }
        end = start > 0 ? start - 1 : 0;
    }
}

/* Refills B for NOW_NS at RATE per second up to BURST; true when a token is there. */
static bool refill(struct bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ns)
{
    double cap = burst > 0 ? burst : 2.0 * rate;
    if (b->last_ns == 0) {
        b->tokens = cap;
    } else if (now_ns > b->last_ns) {
        b->tokens += (double)(now_ns - b->last_ns) / 1e9 * rate;
        if (b->tokens > cap)
            b->tokens = cap;
    }
    b->last_ns = now_ns;
    return b->tokens >= 1.0;
}

static unsigned wait_s(const struct bucket *b, uint32_t rate)
{
    double s = (1.0 - b->tokens) / rate;
    if (s < 1.0)
        return 1u;
    unsigned whole = s > 86400.0 ? 86400u : (unsigned)s;
    return whole + ((double)whole < s ? 1u : 0u);
}

static struct bucket *source_bucket(struct gw_rate_limits *rl, const char *source, uint64_t now_ns)
{
    struct source_slot *s = &rl->sources[gw_fnv1a(source) % SOURCE_SLOTS];
    if (s->b.last_ns != 0 && strcmp(s->address, source) != 0) {
        struct bucket probe = s->b;
        refill(&probe, rl->cfg->limits.per_source, rl->cfg->limits.per_source_burst, now_ns);
        double cap = rl->cfg->limits.per_source_burst > 0 ? rl->cfg->limits.per_source_burst
                                                          : 2.0 * rl->cfg->limits.per_source;
        if (probe.tokens < cap)
            return &s->b; /* its owner is busy: share */
        s->b.last_ns = 0;
    }
    if (s->b.last_ns == 0)
        snprintf(s->address, sizeof(s->address), "%s", source);
    return &s->b;
}

unsigned gw_rate_limits_take(struct gw_rate_limits *rl, const char *source, size_t ep_index,
                             uint64_t now_ns)
{
    if (rl == NULL)
        return 0;
    const struct gw_limits_config *l = &rl->cfg->limits;
    struct bucket *src =
        rl->sources != NULL ? source_bucket(rl, source ? source : "", now_ns) : NULL;
    struct bucket *ep =
        rl->endpoints != NULL && ep_index < rl->cfg->n_endpoints ? &rl->endpoints[ep_index] : NULL;
    if (src != NULL && !refill(src, l->per_source, l->per_source_burst, now_ns))
        return wait_s(src, l->per_source);
    if (ep != NULL && !refill(ep, l->per_endpoint, l->per_endpoint_burst, now_ns))
        return wait_s(ep, l->per_endpoint);
    if (src != NULL)
        src->tokens -= 1.0;
    if (ep != NULL)
        ep->tokens -= 1.0;
    return 0;
}
