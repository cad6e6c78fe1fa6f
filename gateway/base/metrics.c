/* metrics.c — lock-free counters and histograms, rendered in the Prometheus text format. */
#include "gateway/base/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[GW_M_OUTCOMES] = {
    "accepted",    "duplicate",   "rejected_signature", "too_large",
    "bad_request", "unavailable", "rate_limited",
};
static const char *const status_names[6] = {"pending", "processing", "done",
                                            "ignored", "failed",     "dead"};

/* Answer-time buckets in microseconds (upper bounds), and batch-size buckets. */
static const uint64_t answer_bounds_us[] = {500,   1000,   2500,   5000,   10000,   25000,
                                            50000, 100000, 250000, 500000, 1000000, 2500000};
#define N_ANSWER (sizeof(answer_bounds_us) / sizeof(answer_bounds_us[0]))
static const uint64_t batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
#define N_BATCH (sizeof(batch_bounds) / sizeof(batch_bounds[0]))

struct histogram {
    atomic_uint_fast64_t buckets[16]; /* cumulative counts are computed at render time */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum;
};

static char **endpoint_ids;
static size_t n_endpoints;
static atomic_uint_fast64_t *requests; /* n_endpoints * GW_M_OUTCOMES */
static struct histogram answer_hist, batch_hist;
static atomic_uint_fast64_t attempts, attempt_failures, dead_events, audit_dropped, deferrals,
    refusals_delayed;
static atomic_int_fast64_t events_by_status[6];
static atomic_int events_known;

int gw_metrics_init(const char *const *ids, size_t n)
{
    n_endpoints = n;
    endpoint_ids = calloc(n_endpoints ? n_endpoints : 1, sizeof(char *));
    requests = calloc((n_endpoints ? n_endpoints : 1) * GW_M_OUTCOMES, sizeof(*requests));
    if (endpoint_ids == NULL || requests == NULL)
        return -1;
    for (size_t i = 0; i < n_endpoints; i++) {
        endpoint_ids[i] = strdup(ids[i]);
        if (endpoint_ids[i] == NULL)
            return -1;
    }
    return 0;
}

void gw_metrics_finish(void)
{
    for (size_t i = 0; i < n_endpoints && endpoint_ids; i++)
        free(endpoint_ids[i]);
    free(endpoint_ids);
    free(requests);
    endpoint_ids = NULL;
    requests = NULL;
    n_endpoints = 0;
}

void gw_metrics_count_request(size_t endpoint, enum gw_metric_outcome outcome)
{
    if (requests != NULL && endpoint < n_endpoints && outcome < GW_M_OUTCOMES)
        atomic_fetch_add_explicit(&requests[endpoint * GW_M_OUTCOMES + outcome], 1,
                                  memory_order_relaxed);
}

static void observe(struct histogram *h, const uint64_t *bounds, size_t n, uint64_t v)
{
    size_t i = 0;
    while (i < n && v > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

void gw_metrics_observe_answer_us(uint64_t us)
{
    observe(&answer_hist, answer_bounds_us, N_ANSWER, us);
}

void gw_metrics_observe_batch(size_t events)
{
    observe(&batch_hist, batch_bounds, N_BATCH, events);
}

void gw_metrics_count_attempt(int failed)
{
    atomic_fetch_add_explicit(&attempts, 1, memory_order_relaxed);
    if (failed)
        atomic_fetch_add_explicit(&attempt_failures, 1, memory_order_relaxed);
}

void gw_metrics_count_dead(void)
{
    atomic_fetch_add_explicit(&dead_events, 1, memory_order_relaxed);
}

void gw_metrics_count_deferred(void)
{
    atomic_fetch_add_explicit(&deferrals, 1, memory_order_relaxed);
}

void gw_metrics_count_refusal_delayed(void)
{
    atomic_fetch_add_explicit(&refusals_delayed, 1, memory_order_relaxed);
}

void gw_metrics_count_audit_dropped(void)
{
    atomic_fetch_add_explicit(&audit_dropped, 1, memory_order_relaxed);
}

void gw_metrics_set_events_by_status(const int64_t counts[6])
{
    for (size_t i = 0; i < 6; i++)
        atomic_store_explicit(&events_by_status[i], counts[i], memory_order_relaxed);
    atomic_store(&events_known, 1);
}

struct text {
    char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !t->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n) * 2;
        char *b = realloc(t->buf, cap);
        if (b == NULL) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

static void put_histogram(struct text *t, const char *name, const char *help,
                          const struct histogram *h, const uint64_t *bounds, size_t n, double scale)
{
    put(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < n; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        put(t, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] / scale,
            (unsigned long long)cumulative);
    }
    uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
    put(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)count);
    put(t, "%s_sum %.17g\n", name,
        (double)atomic_load_explicit(&h->sum, memory_order_relaxed) / scale);
    put(t, "%s_count %llu\n", name, (unsigned long long)count);
}

char *gw_metrics_render(void)
{
    struct text t = {.buf = malloc(8192), .cap = 8192};
    if (t.buf == NULL)
        return NULL;
    t.buf[0] = '\0';
    put(&t, "# HELP ctgw_requests_total Webhook requests by endpoint and outcome.\n"
            "# TYPE ctgw_requests_total counter\n");
    for (size_t e = 0; e < n_endpoints; e++)
        for (size_t o = 0; o < GW_M_OUTCOMES; o++)
            put(&t, "ctgw_requests_total{endpoint=\"%s\",outcome=\"%s\"} %llu\n", endpoint_ids[e],
                outcome_names[o],
                (unsigned long long)atomic_load_explicit(&requests[e * GW_M_OUTCOMES + o],
                                                         memory_order_relaxed));
    put_histogram(&t, "ctgw_answer_seconds", "Time from a webhook request to its answer.",
                  &answer_hist, answer_bounds_us, N_ANSWER, 1e6);
    put_histogram(&t, "ctgw_ingest_batch_events", "Events stored by one group commit.", &batch_hist,
                  batch_bounds, N_BATCH, 1.0);
    if (atomic_load(&events_known)) {
        put(&t, "# HELP ctgw_events Inbox events by status.\n# TYPE ctgw_events gauge\n");
        for (size_t i = 0; i < 6; i++) {
            long long v =
                (long long)atomic_load_explicit(&events_by_status[i], memory_order_relaxed);
            if (v >= 0) /* a status not counted is left out rather than shown as 0 */
                put(&t, "ctgw_events{status=\"%s\"} %lld\n", status_names[i], v);
        }
    }
    put(&t,
        "# HELP ctgw_worker_attempts_total Attempts to apply an event.\n"
        "# TYPE ctgw_worker_attempts_total counter\nctgw_worker_attempts_total %llu\n",
        (unsigned long long)atomic_load(&attempts));
    put(&t,
        "# HELP ctgw_worker_failures_total Attempts that failed (retried, failed or dead).\n"
        "# TYPE ctgw_worker_failures_total counter\nctgw_worker_failures_total %llu\n",
        (unsigned long long)atomic_load(&attempt_failures));
    put(&t,
        "# HELP ctgw_events_dead_total Events that exhausted their attempts.\n"
        "# TYPE ctgw_events_dead_total counter\nctgw_events_dead_total %llu\n",
        (unsigned long long)atomic_load(&dead_events));
    put(&t,
        "# HELP ctgw_worker_deferrals_total Events put back without counting an attempt (a "
        "provider's rate limit or call budget).\n"
        "# TYPE ctgw_worker_deferrals_total counter\nctgw_worker_deferrals_total %llu\n",
        (unsigned long long)atomic_load(&deferrals));
    put(&t,
        "# HELP ctgw_audit_dropped_total Audit rows dropped because the queue was full.\n"
        "# TYPE ctgw_audit_dropped_total counter\nctgw_audit_dropped_total %llu\n",
        (unsigned long long)atomic_load(&audit_dropped));
    put(&t,
        "# HELP ctgw_refusals_delayed_total Refusals answered late to a source that kept being "
        "refused (limits.refusal_delay).\n"
        "# TYPE ctgw_refusals_delayed_total counter\nctgw_refusals_delayed_total %llu\n",
        (unsigned long long)atomic_load(&refusals_delayed));
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}
