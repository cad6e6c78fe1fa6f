/* audit_gate.h — which rejections get an audit_log row of their own. Per kind, endpoint and
 * source, the first `each` of a window are written one by one and the rest only counted,
 * into one summary row per window; per kind and endpoint, over all sources, at most 20 ×
 * `each`, so that a flood from many addresses is summarised too. Bounded memory. Not
 * thread-safe: the ingest lock guards it. */
#ifndef CTGW_AUDIT_GATE_H
#define CTGW_AUDIT_GATE_H

#include <stdbool.h>
#include <stdint.h>

struct gw_audit_gate;

struct gw_audit_gate *gw_audit_gate_create(uint32_t each, uint64_t window_ms);
void gw_audit_gate_destroy(struct gw_audit_gate *g);

/* One rejection at NOW_MS (monotonic): true when it is to be written as its own row. */
bool gw_audit_gate_admit(struct gw_audit_gate *g, const char *kind, const char *endpoint,
                         const char *source, uint64_t now_ms);

/* What a summary row says: COUNT rejections of KIND at ENDPOINT from SOURCE ("" for many
 * sources) were counted, not written, in the window of WINDOW_MS that ended. */
typedef void (*gw_audit_gate_emit)(void *ud, const char *kind, const char *endpoint,
                                   const char *source, uint64_t count, uint64_t window_ms);

/* Emits the counts of every window ended by NOW_MS (with ALL, of every window: at stop) and
 * forgets them. */
void gw_audit_gate_sweep(struct gw_audit_gate *g, uint64_t now_ms, bool all,
                         gw_audit_gate_emit emit, void *ud);

/* Whether counts wait for their window to end. */
bool gw_audit_gate_pending(const struct gw_audit_gate *g);

#endif
