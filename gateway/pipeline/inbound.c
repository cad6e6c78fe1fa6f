/* inbound.c — POST /hooks/{endpoint}: the checks every provider shares, verification, the
 * envelope, the durable hand-over and the answer. Runs on the event loop thread only; never
 * touches the database. */
#include "gateway/pipeline/inbound.h"
#include "gateway/pipeline/rate_limit.h"
#include "gateway/http/tarpit.h"
#include "gateway/base/clock.h"
#include "gateway/base/text.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/endpoint_auth.h"
#include "adapters/provider.h"
#include "gateway/base/log.h"
#include "gateway/base/log_budget.h"
#include "gateway/base/metrics.h"

#define MAX_HEADERS         128
#define DEADLINE_RECHECK_MS 20

struct gw_hooks {
    const struct gw_config *cfg;
    struct event_base *base;
    struct gw_ingest *ingest;
    unsigned in_flight;
    /* Per endpoint, by index in cfg->endpoints: its verifier's input prepared once; NULL for
     * endpoints not served. */
    struct gw_endpoint_auth **auth;
    struct gw_rate_limits *limits;
    /* The warnings about rejected and refused requests: a flood must not become one line per
     * request (audit_log and the metrics keep the counts). */
    struct gw_log_budget rejections;
    /* Refusals answered late to a source past its first rejections of a window. */
    struct gw_tarpit *late;
};

static void warn_auth(void *ctx, const char *text)
{
    (void)ctx;
    gw_log_warn(NULL, "%s", text);
}

void gw_hooks_destroy(struct gw_hooks *h)
{
    if (h == NULL)
        return;
    gw_log_budget_flush(&h->rejections, GW_LOG_WARN);
    gw_tarpit_destroy(h->late);
    for (size_t i = 0; h->auth != NULL && i < h->cfg->n_endpoints; i++)
        gw_endpoint_auth_destroy(h->auth[i]);
    free(h->auth);
    gw_rate_limits_destroy(h->limits);
    free(h);
}

struct gw_hooks *gw_hooks_create(const struct gw_config *cfg, struct event_base *base,
                                 struct gw_ingest *ingest)
{
    struct gw_hooks *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->cfg = cfg;
    h->base = base;
    h->ingest = ingest;
    h->auth = calloc(cfg->n_endpoints + 1, sizeof(*h->auth));
    h->limits = gw_rate_limits_create(cfg);
    h->rejections.what = "rejected or refused webhook requests";
    h->late = gw_tarpit_create(base, cfg->listen.max_connections, cfg->limits.refusal_delay_ms);
    if (h->auth == NULL || h->limits == NULL || h->late == NULL) {
        gw_hooks_destroy(h);
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_endpoints; i++) {
        const struct gw_endpoint_config *ep = &cfg->endpoints[i];
        char why[512];
        if (ep->provider->envelope == NULL)
            continue;
        h->auth[i] = gw_endpoint_auth_create(ep, 0, warn_auth, NULL, why, sizeof(why));
        if (h->auth[i] == NULL) {
            gw_log_error(NULL, "%s", why);
            gw_hooks_destroy(h);
            return NULL;
        }
    }
    return h;
}

void gw_hooks_stopping(struct gw_hooks *h)
{
    if (h != NULL)
        gw_tarpit_release(h->late);
}

unsigned gw_hooks_in_flight(const struct gw_hooks *h)
{
    return h ? h->in_flight + (unsigned)gw_tarpit_held(h->late) : 0;
}

static size_t endpoint_index(const struct gw_hooks *h, const struct gw_endpoint_config *ep)
{
    return (size_t)(ep - h->cfg->endpoints);
}

/* The endpoint's body limit: its max_body, and what the database accepts. */
static uint64_t body_limit(const struct gw_hooks *h, const struct gw_endpoint_config *ep)
{
    uint64_t cap = gw_ingest_body_cap(h->ingest);
    return cap != 0 && cap < ep->max_body ? cap : ep->max_body;
}

/* Sends an adapter's answer and frees its body. */
/* The headers an answer adds to those of every reply: pairs into EXTRA (5 slots), the
 * Retry-After value written to RETRY. */
static void answer_headers(const struct gw_answer *a, const char *extra[5], char retry[16])
{
    size_t n = 0;
    if (a->retry_after_s > 0) {
        snprintf(retry, 16, "%u", a->retry_after_s);
        extra[n++] = "Retry-After";
        extra[n++] = retry;
    }
    /* gw_request_reply_with labels bodies application/json unless told otherwise. */
    if (a->body != NULL && a->content_type != NULL &&
        strcmp(a->content_type, "application/json") != 0) {
        extra[n++] = "Content-Type";
        extra[n++] = a->content_type;
    }
    extra[n] = NULL;
}

static void send_answer(struct gw_request *r, struct gw_answer *a)
{
    char retry[16];
    const char *extra[5];
    answer_headers(a, extra, retry);
    gw_request_reply_with(r, a->status, a->body, extra);
    gw_answer_free(a);
}

/* Sends a refusal, late when its source keeps being refused (FLOODING): one of its
 * connections then waits limits.refusal_delay instead of sending again at once. */
static void send_refusal(struct gw_hooks *h, struct gw_request *r, struct gw_answer *a,
                         bool flooding)
{
    char retry[16];
    const char *extra[5];
    answer_headers(a, extra, retry);
    if (flooding && gw_tarpit_hold(h->late, r, a->status, a->body, extra))
        gw_answer_free(a);
    else
        send_answer(r, a);
}

static void reply_json(struct gw_request *r, int status, const char *json)
{
    gw_request_reply(r, status, json);
}

/* The media type of a Content-Type value: lowercased, parameters dropped, bounded. */
static char *media_type_of(const char *ct)
{
    if (ct == NULL)
        return NULL;
    size_t n = strcspn(ct, ";");
    while (n > 0 && isspace((unsigned char)ct[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*ct)) {
        ct++;
        n--;
    }
    if (n == 0 || n > 127)
        return NULL;
    char *m = malloc(n + 1);
    if (m == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        m[i] = (char)tolower((unsigned char)ct[i]);
    m[n] = '\0';
    return m;
}

static bool media_type_allowed(const struct gw_provider *p, const char *mt)
{
    if (p->media_types == NULL)
        return true;
    for (size_t i = 0; mt != NULL && p->media_types[i] != NULL; i++)
        if (strcmp(p->media_types[i], mt) == 0)
            return true;
    return false;
}

/* The allow-listed headers as a JSON object, or NULL when none are present. */
static char *stored_headers_json(const struct gw_provider *p, const struct gw_headers *hs)
{
    if (p->stored_headers == NULL)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    bool any = false;
    for (size_t i = 0; p->stored_headers[i] != NULL; i++) {
        const char *v = gw_headers_get(hs, p->stored_headers[i]);
        if (v != NULL && strlen(v) <= 1024) {
            /* Unsigned headers (User-Agent) may carry any bytes; the JSON column takes UTF-8. */
            char *safe = gw_text_utf8_escaped(v, strlen(v));
            if (safe == NULL || cJSON_AddStringToObject(o, p->stored_headers[i], safe) == NULL) {
                free(safe);
                cJSON_Delete(o);
                return NULL;
            }
            free(safe);
            any = true;
        }
    }
    char *out = any ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return out;
}

static void finish(struct gw_hooks *h, struct gw_pending *p, struct gw_answer *a)
{
    struct gw_request r = {.req = p->req, .start_ns = p->start_ns, .listener = "public"};
    snprintf(r.id, sizeof(r.id), "%s", p->request_id);
    snprintf(r.peer, sizeof(r.peer), "%s", p->peer);
    snprintf(r.path, sizeof(r.path), "/hooks/%s", p->endpoint->id);
    gw_metrics_observe_answer_us(gw_request_elapsed_us(&r));
    send_answer(&r, a);
    h->in_flight--;
}

static enum gw_metric_outcome metric_of(enum gw_outcome o)
{
    switch (o) {
    case GW_OUTCOME_DUPLICATE:
        return GW_M_DUPLICATE;
    case GW_OUTCOME_UNAVAILABLE:
        return GW_M_UNAVAILABLE;
    default:
        return GW_M_ACCEPTED;
    }
}

/* The answer when a verified request could not be stored: the gateway's, with the status
 * and Retry-After that make this provider retry. */
static void unavailable_answer(const struct gw_provider *prov, struct gw_answer *a)
{
    const struct gw_unavailable_answer *u = &prov->unavailable;
    const char *body = u->body != NULL ? u->body : "{\"error\":\"unavailable\"}";
    int status = u->status != 0 ? u->status : 503;
    if (body[0] != '\0')
        gw_answer_set(a, status, "%s", body);
    else
        gw_answer_set(a, status, NULL);
    if (status == 429 || status >= 500)
        a->retry_after_s = u->retry_after_s != 0 ? u->retry_after_s : 5;
}

/* Answers P's request with OUTCOME. The stored result and error are passed in rather than
 * read from P: when the deadline answers, a worker still holds P (ingest.h). */
static void answer_request(struct gw_hooks *h, struct gw_pending *p, enum gw_outcome outcome,
                           const char *result, const char *error, bool stored)
{
    const struct gw_provider *prov = p->endpoint->provider;
    struct gw_stored st = {.event_id = stored && p->n_events ? p->events[0].event_id : 0,
                           .result = result,
                           .error = error};
    struct gw_answer a = {0};
    if (outcome == GW_OUTCOME_UNAVAILABLE) {
        unavailable_answer(prov, &a);
        gw_log_warn(p->request_id, "endpoint %s: not stored, answered %d: %s", p->endpoint->id,
                    a.status, error[0] ? error : "overloaded");
    } else {
        prov->answer(outcome, &st, &a);
        if (outcome == GW_OUTCOME_IGNORED)
            gw_log_warn(p->request_id, "endpoint %s: stored as ignored, answered %d: %s",
                        p->endpoint->id, a.status, error);
    }
    gw_metrics_count_request(endpoint_index(h, p->endpoint), metric_of(outcome));
    finish(h, p, &a);
}

static struct gw_hooks *hooks_of(struct gw_pending *p)
{
    return p->owner;
}

/* Whether the outcome of a request the deadline answered "working on it" still has to be
 * told through the provider's deliver(): what the writer decided without a worker (not
 * stored, stored as ignored, a replay, answered by the provider's read()). An event a
 * worker applied or failed is told by that worker. */
static bool needs_late_notice(const struct gw_pending *p)
{
    if (!p->timed_out || p->late || p->endpoint->provider->deliver == NULL)
        return false;
    switch (p->outcome) {
    case GW_OUTCOME_UNAVAILABLE:
    case GW_OUTCOME_IGNORED:
        return true;
    case GW_OUTCOME_DUPLICATE:
        return p->n_events > 0 && p->events[0].stored_result != NULL;
    case GW_OUTCOME_APPLIED: /* answered by the provider's read() in the writer */
        return p->result != NULL;
    default:
        return false;
    }
}

/* Back on the loop from a writer or worker: the loop holds P again. */
static void on_done(struct gw_pending *p)
{
    struct gw_hooks *h = hooks_of(p);
    if (!p->timed_out) {
        answer_request(h, p, p->outcome,
                       p->result     ? p->result
                       : p->n_events ? p->events[0].stored_result
                                     : NULL,
                       p->error, true);
    } else if (needs_late_notice(p)) {
        /* A worker tells it (deliver may block) and hands P back once more. */
        p->late = true;
        if (gw_ingest_hand_to_workers(h->ingest, p))
            return;
        gw_log_error(p->request_id,
                     "endpoint %s: the answer said the request is being worked on, and no "
                     "worker is left to tell its outcome (%d)",
                     p->endpoint->id, (int)p->outcome);
    }
    gw_pending_free(p);
}

static void recheck_deadline(struct gw_pending *p)
{
    struct timeval tv = {0, DEADLINE_RECHECK_MS * 1000};
    evtimer_add(p->deadline, &tv);
}

/* A synchronous request's deadline. A writer or worker holds P meanwhile: only the atomics
 * and the read-only fields are the loop's to touch. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct gw_pending *p = arg;
    (void)fd;
    (void)what;
    bool committed = atomic_load(&p->committed);
    /* Most providers' deadline is for applying, not for storing: until the commit, keep
     * waiting (the writer answers, UNAVAILABLE included). An early-answer provider's counts
     * from the arrival: its outcome follows through deliver(). */
    if (!committed && !(p->endpoint->provider->flags & GW_PROVIDER_EARLY_ANSWER)) {
        recheck_deadline(p);
        return;
    }
    int expected = GW_ANSWER_WAITING;
    if (!atomic_compare_exchange_strong(&p->answer_state, &expected, GW_ANSWER_BY_LOOP)) {
        /* The worker committed just now and is handing the result back: wait for it. */
        recheck_deadline(p);
        return;
    }
    p->timed_out = true;
    /* The event's id is the writer's to write until it commits. */
    answer_request(hooks_of(p), p, GW_OUTCOME_TIMEOUT, NULL, "", committed);
}

static void reject_signature(struct gw_hooks *h, struct gw_request *r,
                             const struct gw_endpoint_config *ep, enum gw_verify_result vr,
                             const struct gw_verify_detail *d)
{
    const char *reason = gw_verify_result_name(vr);
    struct gw_log_field f[] = {
        GW_LOG_STR("endpoint", ep->id),  GW_LOG_STR("reason", reason),
        GW_LOG_STR("header", d->header), GW_LOG_STR("detail", d->note),
        GW_LOG_STR("peer", r->peer),
    };
    if (gw_log_budget_take(&h->rejections, GW_LOG_WARN, gw_monotonic_ns() / 1000000))
        gw_log_fields(GW_LOG_WARN, r->id, "signature rejected", f, sizeof(f) / sizeof(f[0]));
    gw_metrics_count_request(endpoint_index(h, ep), GW_M_REJECTED_SIGNATURE);
    bool flooding =
        !gw_ingest_audit(h->ingest, "rejected_signature", ep->id, reason, r->peer, r->id);
    const char *body = ep->provider->rejected_body;
    if (body == NULL)
        body = "{\"error\":\"invalid_signature\"}";
    struct gw_answer a = {0};
    gw_answer_set(&a, 401, body[0] != '\0' ? "%s" : NULL, body);
    send_refusal(h, r, &a, flooding);
}

/* ------------------------------------------------------------------ one request */

/* What one POST /hooks/{endpoint} holds while the loop works on it; freed in one place
 * (request_finish), whichever step answered. */
struct inbound_request {
    struct gw_hooks *h;
    struct gw_request *r;
    const struct gw_endpoint_config *ep;
    const struct gw_provider *prov;
    size_t ep_index;
    char *media;         /* lowercased media type, or NULL */
    unsigned char *body; /* the raw body and a NUL, or NULL once an event owns it */
    size_t body_len;
    struct gw_header headers[MAX_HEADERS];
    struct gw_headers hs;
    struct gw_inbound in; /* what the adapter's hooks see */
    struct gw_envelope stack_envs[GW_PROVIDER_MAX_EVENTS];
    struct gw_envelope *envs; /* stack_envs, or the heap for a provider with more */
    size_t max_events;
    struct gw_pending *p; /* until it is submitted */
};

static void request_finish(struct inbound_request *q)
{
    if (q->envs != q->stack_envs)
        free(q->envs);
    free(q->media);
    free(q->body);
    gw_pending_free(q->p);
}

/* Answers Q's request with the provider's "try again later". */
static void reply_unavailable(struct inbound_request *q)
{
    struct gw_answer a = {0};
    unavailable_answer(q->prov, &a);
    gw_metrics_count_request(q->ep_index, GW_M_UNAVAILABLE);
    send_answer(q->r, &a);
}

/* Method, media type and size, the checks no provider may skip. False when answered. */
static bool shared_checks(struct inbound_request *q)
{
    if (evhttp_request_get_command(q->r->req) != EVHTTP_REQ_POST) {
        static const char *const allow[] = {"Allow", "POST", NULL};
        gw_metrics_count_request(q->ep_index, GW_M_BAD_REQUEST);
        gw_request_reply_with(q->r, 405, "{\"error\":\"method_not_allowed\"}", allow);
        return false;
    }
    struct evkeyvalq *in_headers = evhttp_request_get_input_headers(q->r->req);
    q->media = media_type_of(evhttp_find_header(in_headers, "Content-Type"));
    if (!media_type_allowed(q->prov, q->media)) {
        gw_metrics_count_request(q->ep_index, GW_M_BAD_REQUEST);
        reply_json(q->r, 415, "{\"error\":\"unsupported_media_type\"}");
        return false;
    }
    q->body_len = evbuffer_get_length(evhttp_request_get_input_buffer(q->r->req));
    if (q->body_len > body_limit(q->h, q->ep)) {
        gw_metrics_count_request(q->ep_index, GW_M_TOO_LARGE);
        reply_json(q->r, 413, "{\"error\":\"too_large\"}");
        return false;
    }
    return true;
}

/* Copies out the exact bytes received (a NUL is appended for parsers, not counted) and the
 * headers, and fills what the adapter's hooks see. False when answered. */
static bool read_request(struct inbound_request *q)
{
    struct evbuffer *in_body = evhttp_request_get_input_buffer(q->r->req);
    q->body = malloc(q->body_len + 1);
    if (q->body == NULL ||
        evbuffer_copyout(in_body, q->body, q->body_len) != (ev_ssize_t)q->body_len) {
        reply_unavailable(q);
        return false;
    }
    q->body[q->body_len] = '\0';
    struct evkeyvalq *in_headers = evhttp_request_get_input_headers(q->r->req);
    size_t n = 0;
    for (struct evkeyval *kv = in_headers->tqh_first; kv != NULL && n < MAX_HEADERS;
         kv = kv->next.tqe_next)
        q->headers[n++] = (struct gw_header){kv->key, kv->value};
    q->hs = (struct gw_headers){q->headers, n};
    q->in = (struct gw_inbound){.endpoint = q->ep,
                                .headers = &q->hs,
                                .body = q->body,
                                .body_len = q->body_len,
                                .media_type = q->media,
                                .request_id = q->r->id,
                                .now = time(NULL)};
    return true;
}

/* A provider's documented unsigned probe (Slack's ssl_check) is answered before
 * verification; precheck answers only that exact shape and stores nothing. False when
 * answered. */
static bool precheck(struct inbound_request *q)
{
    struct gw_answer a = {0};
    if (q->prov->precheck == NULL || q->prov->precheck(&q->in, &a) != GW_PRECHECK_ANSWERED)
        return true;
    gw_metrics_count_request(q->ep_index, GW_M_ACCEPTED);
    send_answer(q->r, &a);
    return false;
}

/* The provider's verifier over the raw bytes. False when answered (401). */
static bool verify(struct inbound_request *q)
{
    struct gw_verify_input vin = {
        .body = q->body,
        .body_len = q->body_len,
        .headers = &q->hs,
        .now = q->in.now,
    };
    gw_endpoint_auth_fill(q->h->auth[q->ep_index], &vin);
    struct gw_verify_detail detail = {.secret_index = -1};
    const struct gw_verifier *v = gw_endpoint_verifier(q->ep);
    enum gw_verify_result vr = v->verify(&vin, &detail);
    if (vr == GW_VERIFY_OK)
        return true;
    if (vr == GW_VERIFY_KEY_UNUSABLE && (v->needs & GW_SCHEME_NEEDS_TOPICS)) {
        /* The signing certificate is being fetched, or could not be: nothing the sender did
         * wrong, and SNS gives up on a 4xx but retries a 5xx. */
        gw_log_warn(q->r->id, "endpoint %s: not verified yet, answered unavailable: %s", q->ep->id,
                    detail.note);
        reply_unavailable(q);
        return false;
    }
    reject_signature(q->h, q->r, q->ep, vr, &detail);
    return false;
}

/* A refusal or handshake the envelope answered itself. */
static void reply_direct(struct inbound_request *q, struct gw_answer *direct)
{
    bool flooding = false;
    if (direct->audit_reason != NULL) {
        if (gw_log_budget_take(&q->h->rejections, GW_LOG_WARN, gw_monotonic_ns() / 1000000))
            gw_log_warn(q->r->id, "endpoint %s: refused from %s: %s", q->ep->id, q->r->peer,
                        direct->audit_reason);
        flooding = !gw_ingest_audit(q->h->ingest, "refused", q->ep->id, direct->audit_reason,
                                    q->r->peer, q->r->id);
    }
    gw_metrics_count_request(q->ep_index, direct->status >= 400 ? GW_M_BAD_REQUEST : GW_M_ACCEPTED);
    send_refusal(q->h, q->r, direct, flooding && direct->status >= 400);
}

enum gw_envelope_verdict gw_envelope_judge(enum gw_envelope_rc rc, size_t n, size_t max,
                                           int answer_status)
{
    switch (rc) {
    case GW_ENVELOPE_STORE:
        return n >= 1 && n <= max && answer_status == 0 ? GW_ENVELOPE_TO_STORE : GW_ENVELOPE_BROKEN;
    case GW_ENVELOPE_ANSWER:
        return answer_status >= 100 && answer_status <= 599 ? GW_ENVELOPE_TO_ANSWER
                                                            : GW_ENVELOPE_BROKEN;
    case GW_ENVELOPE_UNAVAILABLE:
        return GW_ENVELOPE_TO_RETRY;
    }
    return GW_ENVELOPE_BROKEN;
}

/* The adapter's envelope: the events to store in q->envs[0..*n). False when answered. */
static bool envelope(struct inbound_request *q, size_t *n)
{
    /* Zeroing 64 envelopes (34 KiB) per request would cost more than verifying it: clear
     * only what an adapter may leave unset. A provider that may send more events at once
     * gets them from the heap. */
    q->max_events = gw_provider_max_events(q->prov);
    q->envs = q->stack_envs;
    if (q->max_events > GW_PROVIDER_MAX_EVENTS &&
        (q->envs = malloc(q->max_events * sizeof(*q->envs))) == NULL) {
        q->envs = q->stack_envs;
        reply_unavailable(q);
        return false;
    }
    for (size_t i = 0; i < q->max_events; i++) {
        q->envs[i].dedupe_key[0] = '\0';
        q->envs[i].tenant[0] = '\0';
        q->envs[i].body = NULL;
        q->envs[i].body_len = 0;
    }
    *n = 0;
    struct gw_answer direct = {0};
    enum gw_envelope_rc er = q->prov->envelope(&q->in, q->envs, q->max_events, n, &direct);
    switch (gw_envelope_judge(er, *n, q->max_events, direct.status)) {
    case GW_ENVELOPE_TO_STORE:
        return true;
    case GW_ENVELOPE_TO_ANSWER:
        reply_direct(q, &direct);
        return false;
    case GW_ENVELOPE_TO_RETRY:
        gw_answer_free(&direct);
        reply_unavailable(q);
        return false;
    case GW_ENVELOPE_BROKEN:
        break;
    }
    /* The adapter broke its contract: never answer 200 with nothing stored. */
    gw_log_error(q->r->id,
                 "endpoint %s: provider %s envelope returned %d with %zu of at most %zu "
                 "event(s) and answer status %d: a bug, answered 500",
                 q->ep->id, q->prov->name, (int)er, *n, q->max_events, direct.status);
    gw_answer_free(&direct);
    gw_metrics_count_request(q->ep_index, GW_M_BAD_REQUEST);
    reply_json(q->r, 500, "{\"error\":\"internal\"}");
    return false;
}

/* Copies the request's events into a pending item: each event's own bytes when the adapter
 * split the delivery, else the raw body (the first event takes it without a copy). */
static bool make_pending(struct inbound_request *q, size_t n)
{
    struct gw_pending *p = q->p = calloc(1, sizeof(*p));
    if (p == NULL)
        return false;
    p->req = q->r->req;
    snprintf(p->request_id, sizeof(p->request_id), "%s", q->r->id);
    snprintf(p->peer, sizeof(p->peer), "%s", q->r->peer);
    p->start_ns = q->r->start_ns;
    p->endpoint = q->ep;
    p->media_type = q->media;
    q->media = NULL;
    p->on_done = on_done;
    p->owner = q->h;
    p->headers_json = stored_headers_json(q->prov, &q->hs);
    p->events = calloc(n, sizeof(*p->events));
    if (p->events == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        struct gw_pending_event *e = &p->events[i];
        const struct gw_envelope *env = &q->envs[i];
        e->env = *env;
        e->env.body = NULL;
        p->n_events++;
        if (env->body == NULL && q->body != NULL) {
            e->body = q->body; /* the raw body itself: no copy */
            e->body_len = q->body_len;
            q->body = NULL;
            continue;
        }
        const unsigned char *src = env->body != NULL ? env->body : p->events[0].body;
        e->body_len = env->body != NULL ? env->body_len : p->events[0].body_len;
        e->body = malloc(e->body_len + 1);
        if (e->body == NULL)
            return false;
        memcpy(e->body, src, e->body_len);
    }
    return true;
}

/* Arms a synchronous provider's deadline and queues the item for a writer. False when it
 * could not be queued (the caller answers UNAVAILABLE). */
static bool submit(struct inbound_request *q)
{
    struct gw_pending *p = q->p;
    if (q->prov->flags & GW_PROVIDER_SYNC) {
        /* The endpoint's reply_deadline, when its provider offers that key, overrides the
         * provider's default. */
        uint64_t deadline_ms =
            q->ep->reply_deadline_ms ? q->ep->reply_deadline_ms : q->prov->sync_deadline_ms;
        p->deadline = evtimer_new(q->h->base, on_deadline, p);
        struct timeval tv = {(time_t)(deadline_ms / 1000),
                             (suseconds_t)(deadline_ms % 1000) * 1000};
        if (p->deadline == NULL || evtimer_add(p->deadline, &tv) != 0)
            return false;
    }
    if (!gw_ingest_submit(q->h->ingest, p))
        return false;
    q->p = NULL; /* a writer holds it now */
    return true;
}

static void handle(struct inbound_request *q)
{
    size_t n = 0;
    if (!shared_checks(q) || !read_request(q) || !precheck(q) || !verify(q) || !envelope(q, &n))
        return;
    q->h->in_flight++;
    bool made = make_pending(q, n);
    if (made && submit(q))
        return;
    if (!made) {
        q->h->in_flight--;
        reply_unavailable(q);
        return;
    }
    /* Not queued: answered now as not stored, from the item (whose fields are all ours). */
    snprintf(q->p->error, sizeof(q->p->error), "ingest queue full");
    answer_request(q->h, q->p, GW_OUTCOME_UNAVAILABLE, NULL, q->p->error, false);
}

int gw_hooks_admit(struct gw_hooks *h, const struct gw_framing_head *head, struct gw_admission *a)
{
    static const char prefix[] = "/hooks/";
    if (strncmp(head->path, prefix, sizeof(prefix) - 1) != 0)
        return -1;
    const struct gw_endpoint_config *ep =
        gw_config_endpoint(h->cfg, head->path + sizeof(prefix) - 1);
    size_t i = ep != NULL ? endpoint_index(h, ep) : h->cfg->n_endpoints;
    /* First, so that a source over its rate costs this head and nothing more: no body read,
     * no verification, no audit row. */
    char source[64];
    gw_rate_limits_source(h->limits, head->peer != NULL ? head->peer : "-",
                          gw_headers_get(head->headers, "X-Forwarded-For"), source, sizeof(source));
    unsigned wait = gw_rate_limits_take(h->limits, source, i, gw_monotonic_ns());
    if (wait > 0) {
        if (ep != NULL)
            gw_metrics_count_request(i, GW_M_RATE_LIMITED);
        a->retry_after_s = wait;
        return 429;
    }
    if (ep == NULL || ep->provider->envelope == NULL)
        return 404;
    if (strcmp(head->method, "POST") != 0) {
        gw_metrics_count_request(i, GW_M_BAD_REQUEST);
        a->allow = "POST";
        return 405;
    }
    uint64_t limit = body_limit(h, ep);
    if (head->kind == GW_HTTP_BODY_CHUNKED) {
        a->reserve = limit;
    } else if (head->length > limit) {
        gw_metrics_count_request(i, GW_M_TOO_LARGE);
        return 413;
    }
    return 0;
}

bool gw_hooks_route(struct gw_hooks *h, struct gw_request *r)
{
    static const char prefix[] = "/hooks/";
    if (strncmp(r->path, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const struct gw_endpoint_config *ep = gw_config_endpoint(h->cfg, r->path + sizeof(prefix) - 1);
    /* The source is the client behind a trusted proxy: what logs and audit rows name from
     * here on. Its rate was taken when the head was admitted (gw_hooks_admit). */
    char source[sizeof(r->peer)];
    gw_rate_limits_source(
        h->limits, r->peer,
        evhttp_find_header(evhttp_request_get_input_headers(r->req), "X-Forwarded-For"), source,
        sizeof(source));
    snprintf(r->peer, sizeof(r->peer), "%s", source);
    /* A provider without an envelope is not served yet, whatever it can verify. */
    if (ep == NULL || ep->provider->envelope == NULL) {
        reply_json(r, 404, "{\"error\":\"unknown_endpoint\"}");
        return true;
    }
    /* On the stack, and not zeroed whole: the envelopes alone are 34 KiB. */
    struct inbound_request q;
    q.h = h;
    q.r = r;
    q.ep = ep;
    q.prov = ep->provider;
    q.ep_index = endpoint_index(h, ep);
    q.media = NULL;
    q.body = NULL;
    q.envs = q.stack_envs;
    q.p = NULL;
    handle(&q);
    request_finish(&q);
    return true;
}
