/* hooks.c — POST /hooks/{endpoint}: shared checks, verification, envelope, durable hand-over
 * and the answer. Runs on the event loop thread only; never touches the database. */
#include "gateway/pipeline/inbound.h"

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
    for (size_t i = 0; h->auth != NULL && i < h->cfg->n_endpoints; i++)
        gw_endpoint_auth_destroy(h->auth[i]);
    free(h->auth);
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
    if (h->auth == NULL) {
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

unsigned gw_hooks_in_flight(const struct gw_hooks *h)
{
    return h ? h->in_flight : 0;
}

static size_t endpoint_index(const struct gw_hooks *h, const struct gw_endpoint_config *ep)
{
    return (size_t)(ep - h->cfg->endpoints);
}

/* Sends an adapter's answer and frees its body. */
static void send_answer(struct gw_request *r, struct gw_answer *a)
{
    char retry[16];
    const char *extra[5] = {NULL};
    size_t n = 0;
    if (a->retry_after_s > 0) {
        snprintf(retry, sizeof(retry), "%u", a->retry_after_s);
        extra[n++] = "Retry-After";
        extra[n++] = retry;
    }
    if (a->body != NULL && a->content_type != NULL &&
        strcmp(a->content_type, "application/json") != 0) {
        extra[n++] = "Content-Type";
        extra[n++] = a->content_type;
    }
    /* gw_request_reply_with labels bodies application/json unless told otherwise. */
    gw_request_reply_with(r, a->status, a->body, extra);
    gw_answer_free(a);
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
            cJSON_AddStringToObject(o, p->stored_headers[i], v);
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

/* The answer for a stored (or refused) request, from the provider. */
static void answer_outcome(struct gw_hooks *h, struct gw_pending *p)
{
    const struct gw_provider *prov = p->endpoint->provider;
    struct gw_stored st = {.event_id = p->n_events ? p->events[0].event_id : 0,
                           .result = p->result     ? p->result
                                     : p->n_events ? p->events[0].stored_result
                                                   : NULL,
                           .error = p->error};
    struct gw_answer a = {0};
    prov->answer(p->outcome, &st, &a);
    if (p->outcome == GW_OUTCOME_UNAVAILABLE)
        gw_log_warn(p->request_id, "endpoint %s: not stored, answered %d: %s", p->endpoint->id,
                    a.status, p->error[0] ? p->error : "overloaded");
    else if (p->outcome == GW_OUTCOME_IGNORED)
        gw_log_warn(p->request_id, "endpoint %s: stored as ignored, answered %d: %s",
                    p->endpoint->id, a.status, p->error);
    gw_metrics_count_request(endpoint_index(h, p->endpoint), metric_of(p->outcome));
    finish(h, p, &a);
}

static struct gw_hooks *hooks_of(struct gw_pending *p)
{
    return p->owner;
}

/* Back on the loop from a writer or worker. */
static void on_done(struct gw_pending *p)
{
    struct gw_hooks *h = hooks_of(p);
    if (!p->timed_out)
        answer_outcome(h, p);
    gw_pending_free(p);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct gw_pending *p = arg;
    (void)fd;
    (void)what;
    /* The deadline is for applying, not for storing: until the commit, keep waiting (the
     * writer answers, UNAVAILABLE included). */
    if (!atomic_load(&p->committed)) {
        struct timeval tv = {0, DEADLINE_RECHECK_MS * 1000};
        evtimer_add(p->deadline, &tv);
        return;
    }
    int expected = GW_ANSWER_WAITING;
    if (!atomic_compare_exchange_strong(&p->answer_state, &expected, GW_ANSWER_BY_LOOP)) {
        /* The worker committed just now and is handing the result back: wait for it. */
        struct timeval tv = {0, DEADLINE_RECHECK_MS * 1000};
        evtimer_add(p->deadline, &tv);
        return;
    }
    p->timed_out = true;
    enum gw_outcome saved = p->outcome;
    p->outcome = GW_OUTCOME_TIMEOUT;
    answer_outcome(hooks_of(p), p);
    p->outcome = saved;
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
    gw_log_fields(GW_LOG_WARN, r->id, "signature rejected", f, sizeof(f) / sizeof(f[0]));
    gw_metrics_count_request(endpoint_index(h, ep), GW_M_REJECTED_SIGNATURE);
    gw_ingest_audit(h->ingest, "rejected_signature", ep->id, reason, r->peer, r->id);
    const char *body = ep->provider->rejected_body;
    if (body == NULL)
        body = "{\"error\":\"invalid_signature\"}";
    reply_json(r, 401, body[0] != '\0' ? body : NULL);
}

bool gw_hooks_route(struct gw_hooks *h, struct gw_request *r)
{
    static const char prefix[] = "/hooks/";
    if (strncmp(r->path, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *id = r->path + sizeof(prefix) - 1;
    const struct gw_endpoint_config *ep = gw_config_endpoint(h->cfg, id);
    /* A provider without an envelope is not served yet, whatever it can verify. */
    if (ep == NULL || ep->provider->envelope == NULL) {
        reply_json(r, 404, "{\"error\":\"unknown_endpoint\"}");
        return true;
    }
    size_t ep_index = endpoint_index(h, ep);
    const struct gw_provider *prov = ep->provider;
    if (evhttp_request_get_command(r->req) != EVHTTP_REQ_POST) {
        static const char *const allow[] = {"Allow", "POST", NULL};
        gw_metrics_count_request(ep_index, GW_M_BAD_REQUEST);
        gw_request_reply_with(r, 405, "{\"error\":\"method_not_allowed\"}", allow);
        return true;
    }
    struct evkeyvalq *in_headers = evhttp_request_get_input_headers(r->req);
    char *media = media_type_of(evhttp_find_header(in_headers, "Content-Type"));
    if (!media_type_allowed(prov, media)) {
        free(media);
        gw_metrics_count_request(ep_index, GW_M_BAD_REQUEST);
        reply_json(r, 415, "{\"error\":\"unsupported_media_type\"}");
        return true;
    }
    struct evbuffer *in_body = evhttp_request_get_input_buffer(r->req);
    size_t body_len = evbuffer_get_length(in_body);
    if (body_len > ep->max_body) {
        free(media);
        gw_metrics_count_request(ep_index, GW_M_TOO_LARGE);
        reply_json(r, 413, "{\"error\":\"too_large\"}");
        return true;
    }
    /* Verify the exact bytes received. A NUL is appended for parsers; it is not counted. */
    unsigned char *body = malloc(body_len + 1);
    struct gw_header headers[MAX_HEADERS];
    size_t n_headers = 0;
    if (body == NULL || evbuffer_copyout(in_body, body, body_len) != (ev_ssize_t)body_len) {
        free(body);
        free(media);
        reply_json(r, 503, "{\"error\":\"unavailable\"}");
        return true;
    }
    body[body_len] = '\0';
    for (struct evkeyval *kv = in_headers->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
        if (n_headers == MAX_HEADERS)
            break;
        headers[n_headers++] = (struct gw_header){kv->key, kv->value};
    }
    struct gw_headers hs = {headers, n_headers};
    /* A provider's documented unsigned probe (Slack's ssl_check) is answered before
     * verification; precheck answers only that exact shape and stores nothing. */
    if (prov->precheck != NULL) {
        struct gw_inbound probe = {.endpoint = ep,
                                   .headers = &hs,
                                   .body = body,
                                   .body_len = body_len,
                                   .media_type = media,
                                   .request_id = r->id,
                                   .now = time(NULL)};
        struct gw_answer pa = {0};
        if (prov->precheck(&probe, &pa) != 0) {
            free(body);
            free(media);
            gw_metrics_count_request(ep_index, GW_M_ACCEPTED);
            send_answer(r, &pa);
            return true;
        }
    }
    struct gw_verify_input vin = {
        .body = body,
        .body_len = body_len,
        .headers = &hs,
        .now = time(NULL),
    };
    gw_endpoint_auth_fill(h->auth[ep_index], &vin);
    struct gw_verify_detail detail = {.secret_index = -1};
    enum gw_verify_result vr = prov->verifier->verify(&vin, &detail);
    if (vr != GW_VERIFY_OK) {
        free(body);
        free(media);
        reject_signature(h, r, ep, vr, &detail);
        return true;
    }

    struct gw_pending *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        free(body);
        free(media);
        reply_json(r, 503, "{\"error\":\"unavailable\"}");
        return true;
    }
    p->req = r->req;
    snprintf(p->request_id, sizeof(p->request_id), "%s", r->id);
    snprintf(p->peer, sizeof(p->peer), "%s", r->peer);
    p->start_ns = r->start_ns;
    p->endpoint = ep;
    p->media_type = media;
    p->on_done = on_done;
    p->owner = h;
    struct gw_inbound inb = {
        .endpoint = ep,
        .headers = &hs,
        .body = body,
        .body_len = body_len,
        .media_type = media,
        .request_id = r->id,
        .now = vin.now,
    };
    /* Zeroing 64 envelopes (34 KiB) per request would cost more than verifying it: clear
     * only what an adapter may leave unset. A provider that may send more events at once
     * gets them from the heap. */
    size_t max = gw_provider_max_events(prov);
    struct gw_envelope stack_envs[GW_PENDING_MAX_EVENTS];
    struct gw_envelope *envs = stack_envs;
    if (max > GW_PENDING_MAX_EVENTS && (envs = malloc(max * sizeof(*envs))) == NULL) {
        reply_json(r, 503, "{\"error\":\"unavailable\"}");
        free(body);
        gw_pending_free(p);
        return true;
    }
    for (size_t i = 0; i < max; i++) {
        envs[i].dedupe_key[0] = '\0';
        envs[i].tenant[0] = '\0';
        envs[i].body = NULL;
        envs[i].body_len = 0;
    }
    size_t n = 0;
    struct gw_answer direct = {0};
    int er = prov->envelope(&inb, envs, max, &n, &direct);
    if (er != 0 || n == 0) {
        if (envs != stack_envs)
            free(envs);
        if (direct.status == 0)
            gw_answer_set(&direct, 200, NULL);
        if (direct.audit_reason != NULL) {
            gw_log_warn(r->id, "endpoint %s: refused from %s: %s", ep->id, r->peer,
                        direct.audit_reason);
            gw_ingest_audit(h->ingest, "refused", ep->id, direct.audit_reason, r->peer, r->id);
        }
        gw_metrics_count_request(ep_index, direct.status >= 400 ? GW_M_BAD_REQUEST : GW_M_ACCEPTED);
        send_answer(r, &direct);
        free(body);
        gw_pending_free(p);
        return true;
    }
    p->headers_json = stored_headers_json(prov, &hs);
    if (n > max)
        n = max;
    p->events = calloc(n, sizeof(*p->events));
    bool ok = p->events != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        struct gw_pending_event *e = &p->events[i];
        e->env = envs[i];
        if (envs[i].body != NULL) {
            e->body = malloc(envs[i].body_len + 1);
            ok = ok && e->body != NULL;
            if (e->body != NULL)
                memcpy(e->body, envs[i].body, envs[i].body_len);
            e->body_len = envs[i].body_len;
        } else if (i == 0) {
            e->body = body; /* the raw body itself: no copy */
            e->body_len = body_len;
            body = NULL;
        } else {
            e->body = malloc(body_len + 1);
            ok = ok && e->body != NULL;
            if (e->body != NULL)
                memcpy(e->body, inb.body, body_len);
            e->body_len = body_len;
        }
        e->env.body = NULL;
        p->n_events++;
    }
    free(body);
    if (envs != stack_envs)
        free(envs);
    h->in_flight++;
    if (prov->sync_deadline_ms > 0) {
        /* The endpoint's reply_deadline, when its provider offers that key, overrides the
         * provider's default; ingest and workers only test the provider's "> 0". */
        uint64_t deadline_ms =
            ep->reply_deadline_ms ? ep->reply_deadline_ms : prov->sync_deadline_ms;
        p->deadline = evtimer_new(h->base, on_deadline, p);
        struct timeval tv = {(time_t)(deadline_ms / 1000),
                             (suseconds_t)(deadline_ms % 1000) * 1000};
        ok = ok && p->deadline != NULL && evtimer_add(p->deadline, &tv) == 0;
    }
    if (!ok || !gw_ingest_submit(h->ingest, p)) {
        p->outcome = GW_OUTCOME_UNAVAILABLE;
        snprintf(p->error, sizeof(p->error), "ingest queue full");
        answer_outcome(h, p);
        gw_pending_free(p);
    }
    return true;
}
