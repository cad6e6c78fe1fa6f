/* rate_limit.c — token buckets for the loop. */
#include "gateway/pipeline/rate_limit.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config/cidr.h"
#include "gateway/base/hash.h"

/* Sources tracked at once. A two-way table: a source may sit in one of two slots, picked by
 * a hash keyed with a random number drawn at start, so an attacker cannot choose addresses
 * that land on a given source's slots. A new source takes a free slot of its two, or one
 * whose bucket has refilled (its owner has been quiet), and shares the first otherwise: a
 * flood of many addresses can neither grow the table nor escape the limit; it can only make
 * colliding sources share one bucket, and only by chance. */
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
    uint64_t key;                /* of the slots' hash */
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
    if (cfg->limits.per_source > 0) {
        rl->sources = calloc(SOURCE_SLOTS, sizeof(*rl->sources));
        /* Without the kernel's randomness the table still works, only with a guessable key. */
        if (getrandom(&rl->key, sizeof(rl->key), 0) != (ssize_t)sizeof(rl->key))
            rl->key = (uint64_t)(uintptr_t)rl ^ 0x9E3779B97F4A7C15ull;
    }
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

/* splitmix64's finaliser: every bit of X moves every bit of the result. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Whether slot S is free for another source at NOW_NS: never used, or its bucket full again. */
static bool slot_idle(const struct gw_rate_limits *rl, const struct source_slot *s, uint64_t now_ns)
{
    if (s->b.last_ns == 0)
        return true;
    struct bucket probe = s->b;
    refill(&probe, rl->cfg->limits.per_source, rl->cfg->limits.per_source_burst, now_ns);
    double cap = rl->cfg->limits.per_source_burst > 0 ? rl->cfg->limits.per_source_burst
                                                      : 2.0 * rl->cfg->limits.per_source;
    return probe.tokens >= cap;
}

static struct bucket *source_bucket(struct gw_rate_limits *rl, const char *source, uint64_t now_ns)
{
    uint64_t h = mix(gw_fnv1a(source) ^ rl->key);
    struct source_slot *a = &rl->sources[h % SOURCE_SLOTS];
    struct source_slot *b = &rl->sources[(h >> 32) % SOURCE_SLOTS];
    if (a->b.last_ns != 0 && strcmp(a->address, source) == 0)
        return &a->b;
    if (b->b.last_ns != 0 && strcmp(b->address, source) == 0)
        return &b->b;
    struct source_slot *s = slot_idle(rl, a, now_ns) ? a : slot_idle(rl, b, now_ns) ? b : NULL;
    if (s == NULL)
        return &a->b; /* both owners are busy: share the first */
    snprintf(s->address, sizeof(s->address), "%s", source);
    s->b.last_ns = 0; /* refill() starts it full */
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
