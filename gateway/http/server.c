/* server.c — `ctgw serve`: listeners, routes, readiness and graceful shutdown. */
#include "gateway/http/server.h"

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/base/log.h"
#include "gateway/base/metrics.h"
#include "gateway/http/health.h"
#include "gateway/http/listener.h"
#include "gateway/http/request.h"
#include "gateway/http/tls.h"
#include "verifiers/ct_compare.h"

#define READINESS_INTERVAL_MS 1000
#define DRAIN_TIMEOUT_MS      10000
#define DRAIN_POLL_MS         50
#define FLUSH_GRACE_MS        100

struct server {
    struct event_base *base;
    const struct gw_config *cfg;
    struct gw_health *health;
    struct gw_listener *public_listener;
    struct gw_listener *admin_listener;
    const struct gw_serve_app *app;
    void *app_state;
    struct event *sig_term, *sig_int, *drain_timer;
    unsigned inflight;
    bool stopping;
    bool flushing;
    uint64_t drain_waited_ms;
};

static const char *const allow_get[] = {"Allow", "GET, HEAD", NULL};

static void answer_health(struct gw_request *r)
{
    gw_request_reply(r, 200, "{\"status\":\"ok\"}");
}

static void answer_ready(struct server *s, struct gw_request *r)
{
    struct gw_health_state st;
    gw_health_get(s->health, &st);
    char body[512];
    if (st.ready) {
        snprintf(body, sizeof(body),
                 "{\"status\":\"ready\",\"database\":\"up\",\"pending_migrations\":0}");
        gw_request_reply(r, 200, body);
        return;
    }
    /* The reason is ours (no request data), but may quote a server error: keep it out of the
     * public answer and in the log; the answer says which check failed. */
    snprintf(body, sizeof(body),
             "{\"status\":\"unavailable\",\"database\":\"%s\",\"pending_migrations\":%d}",
             st.checked_at_ms == 0 ? "unknown"
             : st.database_up      ? "up"
                                   : "down",
             st.pending_migrations);
    static const char *const retry[] = {"Retry-After", "1", NULL};
    gw_request_reply_with(r, 503, body, retry);
}

/* Routes shared by both listeners. Returns true when the request was answered. */
static bool route_probes(struct server *s, struct gw_request *r)
{
    bool health = strcmp(r->path, "/healthz") == 0;
    bool ready = strcmp(r->path, "/readyz") == 0;
    if (!health && !ready)
        return false;
    enum evhttp_cmd_type m = evhttp_request_get_command(r->req);
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        gw_request_reply_with(r, 405, "{\"error\":\"method_not_allowed\"}", allow_get);
        return true;
    }
    if (health)
        answer_health(r);
    else
        answer_ready(s, r);
    return true;
}

/* The public listener's verdict on a head: the probes and the app's paths; anything else is
 * 404 before its body is read. */
static int admit_public(void *arg, const struct gw_framing_head *h, struct gw_admission *a)
{
    struct server *s = arg;
    if (strcmp(h->path, "/healthz") == 0 || strcmp(h->path, "/readyz") == 0) {
        if (strcmp(h->method, "GET") == 0 || strcmp(h->method, "HEAD") == 0)
            return a->reserve > 64 * 1024 ? 413 : 0;
        a->allow = "GET, HEAD";
        return 405;
    }
    int status = s->app->admit ? s->app->admit(s->app_state, h, a) : 0;
    return status < 0 ? 404 : status;
}

static void on_public(struct evhttp_request *req, void *arg)
{
    struct server *s = arg;
    struct gw_request r;
    s->inflight++;
    if (gw_request_begin(&r, req, "public") != 0)
        gw_request_reply(&r, 400, "{\"error\":\"bad_request\"}");
    else if (!route_probes(s, &r) && !s->app->route(s->app_state, &r))
        gw_request_reply(&r, 404, "{\"error\":\"not_found\"}");
    s->inflight--;
}

/* Admin requests other than the probes carry `Authorization: Bearer <admin.token>`. */
static bool admin_authorized(const struct server *s, struct gw_request *r)
{
    const char *auth =
        evhttp_find_header(evhttp_request_get_input_headers(r->req), "Authorization");
    static const char prefix[] = "Bearer ";
    if (auth == NULL || strncasecmp(auth, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *given = auth + sizeof(prefix) - 1;
    const struct gw_secret *token = &s->cfg->admin.token;
    return gw_ct_equal(given, strlen(given), token->data, token->len);
}

static void on_admin(struct evhttp_request *req, void *arg)
{
    struct server *s = arg;
    struct gw_request r;
    s->inflight++;
    if (gw_request_begin(&r, req, "admin") != 0) {
        gw_request_reply(&r, 400, "{\"error\":\"bad_request\"}");
    } else if (!route_probes(s, &r)) {
        if (!admin_authorized(s, &r)) {
            gw_log_warn(r.id, "admin request without a valid token from %s", r.peer);
            static const char *const challenge[] = {"WWW-Authenticate", "Bearer", NULL};
            gw_request_reply_with(&r, 401, "{\"error\":\"unauthorized\"}", challenge);
        } else if (strcmp(r.path, "/metrics") == 0) {
            char *text = gw_metrics_render();
            static const char *const prom[] = {"Content-Type",
                                               "text/plain; version=0.0.4; charset=utf-8", NULL};
            if (text != NULL)
                gw_request_reply_with(&r, 200, text, prom);
            else
                gw_request_reply(&r, 500, "{\"error\":\"out_of_memory\"}");
            free(text);
        } else {
            gw_request_reply(&r, 404, "{\"error\":\"not_found\"}");
        }
    }
    s->inflight--;
}

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    (void)fd;
    (void)what;
    unsigned inflight =
        s->inflight + s->app->in_flight(s->app_state) + gw_listener_held(s->public_listener);
    /* Once nothing is in flight, one more short turn of the loop writes out the answers
     * just sent before the connections are closed. */
    if (inflight == 0 && !s->flushing && s->drain_waited_ms < DRAIN_TIMEOUT_MS) {
        s->flushing = true;
        struct timeval tv = {0, FLUSH_GRACE_MS * 1000};
        evtimer_add(s->drain_timer, &tv);
        return;
    }
    if (inflight == 0 || s->drain_waited_ms >= DRAIN_TIMEOUT_MS) {
        if (inflight > 0)
            gw_log_warn(NULL, "stopping with %u request(s) still in flight after %u ms", inflight,
                        (unsigned)DRAIN_TIMEOUT_MS);
        event_base_loopexit(s->base, NULL);
        return;
    }
    s->drain_waited_ms += DRAIN_POLL_MS;
    struct timeval tv = {0, DRAIN_POLL_MS * 1000};
    evtimer_add(s->drain_timer, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *s = arg;
    (void)what;
    if (s->stopping) {
        gw_log_warn(NULL, "second signal %d: stopping now", (int)sig);
        event_base_loopbreak(s->base);
        return;
    }
    s->stopping = true;
    gw_log_info(NULL, "signal %d: no longer accepting connections, finishing requests in flight",
                (int)sig);
    gw_listener_stop_accepting(s->public_listener);
    gw_listener_stop_accepting(s->admin_listener);
    if (s->app->stopping != NULL)
        s->app->stopping(s->app_state);
    drain_tick(-1, 0, s);
}

/* Metrics are counted per endpoint, in the config's order. */
static int metrics_init(const struct gw_config *cfg)
{
    const char **ids = calloc(cfg->n_endpoints ? cfg->n_endpoints : 1, sizeof(*ids));
    if (ids == NULL)
        return -1;
    for (size_t i = 0; i < cfg->n_endpoints; i++)
        ids[i] = cfg->endpoints[i].id;
    int rc = gw_metrics_init(ids, cfg->n_endpoints);
    free(ids);
    return rc;
}

static int start_listeners(struct server *s)
{
    const struct gw_config *cfg = s->cfg;
    char err[256];
    SSL_CTX *ssl = NULL;
    if (cfg->listen.tls.enabled) {
        ssl = gw_tls_server_ctx(&cfg->listen.tls, err, sizeof(err));
        if (ssl == NULL) {
            gw_log_error(NULL, "%s", err);
            return -1;
        }
    }
    uint64_t max_body = cfg->ingest.max_body;
    for (size_t i = 0; i < cfg->n_endpoints; i++)
        if (cfg->endpoints[i].max_body > max_body)
            max_body = cfg->endpoints[i].max_body;
    /* Past this evhttp answers 413 itself, with no log line and no metric: leave room so
     * that an endpoint's own limit is the one bodies meet. */
    max_body += max_body / 4 + 64 * 1024;
    struct gw_listener_opts pub = {
        .name = "public",
        .address = cfg->listen.address,
        .port = cfg->listen.port,
        .ssl = ssl,
        .max_connections = cfg->listen.max_connections,
        .max_header_size = cfg->listen.max_header_size,
        .max_body = max_body,
        .timeout_ms = cfg->listen.timeout_ms,
        .header_timeout_ms = cfg->listen.header_timeout_ms,
        .max_body_in_flight = cfg->listen.max_body_bytes_in_flight,
        .refusal_delay_ms = cfg->limits.refusal_delay_ms,
        .admit = admit_public,
    };
    s->public_listener = gw_listener_create(s->base, &pub, on_public, s, err, sizeof(err));
    SSL_CTX_free(ssl); /* the listener holds its own reference */
    if (s->public_listener == NULL) {
        gw_log_error(NULL, "%s", err);
        return -1;
    }
    /* The admin listener is for operators on loopback or a private network: small limits. */
    struct gw_listener_opts adm = {
        .name = "admin",
        .address = cfg->admin.address,
        .port = cfg->admin.port,
        .ssl = NULL,
        .max_connections = 64,
        .max_header_size = 8192,
        .max_body = 64 * 1024,
        .timeout_ms = cfg->listen.timeout_ms,
        .header_timeout_ms = cfg->listen.header_timeout_ms,
    };
    s->admin_listener = gw_listener_create(s->base, &adm, on_admin, s, err, sizeof(err));
    if (s->admin_listener == NULL) {
        gw_log_error(NULL, "%s", err);
        return -1;
    }
    struct gw_log_field f[] = {
        GW_LOG_STR("address", cfg->listen.address),
        GW_LOG_NUM("port", cfg->listen.port),
        GW_LOG_STR("tls", cfg->listen.tls.enabled
                              ? (cfg->listen.tls.min_version == 13 ? "1.3+" : "1.2+")
                              : "off"),
        GW_LOG_STR("admin_address", cfg->admin.address),
        GW_LOG_NUM("admin_port", cfg->admin.port),
    };
    gw_log_fields(GW_LOG_INFO, NULL, "listening", f, sizeof(f) / sizeof(f[0]));
    return 0;
}

int gw_serve(const struct gw_config *cfg, const struct gw_serve_app *app)
{
    struct server s = {.cfg = cfg, .app = app};
    int rc = 1;
    /* Writers to a closed connection must see EPIPE, not die. */
    signal(SIGPIPE, SIG_IGN);
    if (evthread_use_pthreads() != 0) {
        gw_log_error(NULL, "libevent has no pthreads support");
        return 1;
    }
    s.base = event_base_new();
    if (s.base == NULL) {
        gw_log_error(NULL, "cannot create the event loop");
        return 1;
    }
    s.health = gw_health_start(&cfg->database, READINESS_INTERVAL_MS);
    if (s.health == NULL) {
        gw_log_error(NULL, "cannot start the readiness checker");
        goto out;
    }
    if (metrics_init(cfg) != 0) {
        gw_log_error(NULL, "out of memory");
        goto out;
    }
    s.app_state = app->start(cfg, s.base);
    if (s.app_state == NULL)
        goto out;
    if (start_listeners(&s) != 0)
        goto out;
    s.sig_term = evsignal_new(s.base, SIGTERM, on_signal, &s);
    s.sig_int = evsignal_new(s.base, SIGINT, on_signal, &s);
    s.drain_timer = evtimer_new(s.base, drain_tick, &s);
    if (!s.sig_term || !s.sig_int || !s.drain_timer || evsignal_add(s.sig_term, NULL) != 0 ||
        evsignal_add(s.sig_int, NULL) != 0) {
        gw_log_error(NULL, "cannot install signal handlers");
        goto out;
    }
    event_base_dispatch(s.base);
    rc = 0;
out:
    /* The app first (it answers whatever still waits), then the listeners and their
     * connections. */
    app->stop(s.app_state);
    gw_listener_destroy(s.public_listener);
    gw_listener_destroy(s.admin_listener);
    gw_metrics_finish();
    gw_health_stop(s.health);
    if (s.sig_term)
        event_free(s.sig_term);
    if (s.sig_int)
        event_free(s.sig_int);
    if (s.drain_timer)
        event_free(s.drain_timer);
    event_base_free(s.base);
    if (rc == 0)
        gw_log_info(NULL, "stopped");
    return rc;
}
