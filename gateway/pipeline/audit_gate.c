/* audit_gate.c — rate-limited audit rows. */
#include "gateway/pipeline/audit_gate.h"
#include "gateway/base/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Direct-mapped: a key whose slot another key holds in an open window is counted in its
 * kind and endpoint's all-sources slot instead, so the table never grows. */
#define SLOTS       4096
#define OVERALL_MUL 20

struct slot {
    char kind[32], endpoint[65], source[64]; /* source "" : every source of kind+endpoint */
    uint64_t window_start_ms;
    uint32_t written;
    uint64_t counted;
    bool used;
};

struct gw_audit_gate {
    uint32_t each;
    uint64_t window_ms;
    uint64_t pending; /* slots with counts */
    struct slot *slots;
};

struct gw_audit_gate *gw_audit_gate_create(uint32_t each, uint64_t window_ms)
{
    struct gw_audit_gate *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->each = each ? each : 1;
    g->window_ms = window_ms ? window_ms : 60000;
    g->slots = calloc(SLOTS, sizeof(*g->slots));
    if (g->slots == NULL) {
        free(g);
        return NULL;
    }
    return g;
}

void gw_audit_gate_destroy(struct gw_audit_gate *g)
{
    if (g == NULL)
        return;
    free(g->slots);
    free(g);
}

/* One key's hash: its three parts joined by a byte none of them holds (each is bounded by
 * its slot's field, so the join fits). */
static uint64_t hash_of(const char *kind, const char *endpoint, const char *source)
{
    char key[sizeof(((struct slot *)0)->kind) + sizeof(((struct slot *)0)->endpoint) +
             sizeof(((struct slot *)0)->source)];
    snprintf(key, sizeof(key), "%.31s\x1f%.64s\x1f%.63s", kind, endpoint, source);
    return gw_fnv1a(key);
}

static bool same(const struct slot *s, const char *kind, const char *endpoint, const char *source)
{
    return strcmp(s->kind, kind) == 0 && strcmp(s->endpoint, endpoint) == 0 &&
           strcmp(s->source, source) == 0;
}

static void take(struct slot *s, const char *kind, const char *endpoint, const char *source,
                 uint64_t now_ms)
{
    snprintf(s->kind, sizeof(s->kind), "%s", kind);
    snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint);
    snprintf(s->source, sizeof(s->source), "%s", source);
    s->window_start_ms = now_ms;
    s->written = 0;
    s->counted = 0;
    s->used = true;
}

/* The slot of the key, or NULL when another key holds it in an open window (or with counts
 * not yet emitted). */
static struct slot *slot_of(struct gw_audit_gate *g, const char *kind, const char *endpoint,
                            const char *source, uint64_t now_ms)
{
    struct slot *s = &g->slots[hash_of(kind, endpoint, source) % SLOTS];
    if (s->used && same(s, kind, endpoint, source)) {
        if (now_ms - s->window_start_ms >= g->window_ms && s->counted == 0) {
            s->window_start_ms = now_ms;
            s->written = 0;
        }
        return s;
    }
    if (s->used && (now_ms - s->window_start_ms < g->window_ms || s->counted > 0))
        return NULL;
    take(s, kind, endpoint, source, now_ms);
    return s;
}

static void count(struct gw_audit_gate *g, struct slot *s)
{
    if (s->counted++ == 0)
        g->pending++;
}

bool gw_audit_gate_admit(struct gw_audit_gate *g, const char *kind, const char *endpoint,
                         const char *source, uint64_t now_ms)
{
    if (g == NULL)
        return true;
    kind = kind ? kind : "";
    endpoint = endpoint ? endpoint : "";
    source = source ? source : "";
    struct slot *all = slot_of(g, kind, endpoint, "", now_ms);
    struct slot *one = source[0] ? slot_of(g, kind, endpoint, source, now_ms) : all;
    if (all == NULL)
        return false; /* the table is saturated: drop silently rather than grow */
    if (one == NULL || all->written >= g->each * OVERALL_MUL) {
        count(g, all);
        return false;
    }
    if (one->written >= g->each) {
        count(g, one);
        return false;
    }
    one->written++;
    if (one != all)
        all->written++;
    return true;
}

void gw_audit_gate_sweep(struct gw_audit_gate *g, uint64_t now_ms, bool all,
                         gw_audit_gate_emit emit, void *ud)
{
    if (g == NULL || g->pending == 0)
        return;
    for (size_t i = 0; i < SLOTS && g->pending > 0; i++) {
        struct slot *s = &g->slots[i];
        if (!s->used || s->counted == 0 || (!all && now_ms - s->window_start_ms < g->window_ms))
            continue;
        emit(ud, s->kind, s->endpoint, s->source, s->counted, g->window_ms);
        s->counted = 0;
        s->written = 0;
        s->window_start_ms = now_ms;
        g->pending--;
    }
}

bool gw_audit_gate_pending(const struct gw_audit_gate *g)
{
    return g != NULL && g->pending > 0;
}
