/* metrics.h — the gateway's counters and histograms, updated lock-free from any thread and
 * rendered in the Prometheus text format for GET /metrics on the admin listener. */
#ifndef CTGW_METRICS_H
#define CTGW_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum gw_metric_outcome {
    GW_M_ACCEPTED,
    GW_M_DUPLICATE,
    GW_M_REJECTED_SIGNATURE,
    GW_M_TOO_LARGE,
    GW_M_BAD_REQUEST,
    GW_M_UNAVAILABLE,
    GW_M_RATE_LIMITED,
    GW_M_OUTCOMES
};

/* Sizes the per-endpoint series, one for each of the N endpoint ids (copied); call once
 * before threads start. */
int gw_metrics_init(const char *const *ids, size_t n);
void gw_metrics_finish(void);

/* endpoint: index into the ids given to gw_metrics_init (the config's endpoints). */
void gw_metrics_count_request(size_t endpoint, enum gw_metric_outcome outcome);
/* Time from the request's arrival to its answer. */
void gw_metrics_observe_answer_us(uint64_t us);
/* Events stored by one group commit. */
void gw_metrics_observe_batch(size_t events);
/* A worker attempt and whether it failed (retry, failed or dead). */
void gw_metrics_count_attempt(int failed);
void gw_metrics_count_dead(void);
/* An event put back for later without counting the attempt (GW_APPLY_DEFER). */
void gw_metrics_count_deferred(void);
void gw_metrics_count_audit_dropped(void);
/* A refusal held to be answered late (limits.refusal_delay). */
void gw_metrics_count_refusal_delayed(void);
/* Inbox rows by status, as last counted (pending, processing, done, ignored, failed, dead);
 * a negative count means "not counted" and is left out of the exposition. */
void gw_metrics_set_events_by_status(const int64_t counts[6]);

/* The whole exposition (caller frees). */
char *gw_metrics_render(void);

#endif
