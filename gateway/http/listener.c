/* listener.c — an evhttp listener with header, body, time and connection limits.
 *
 * libevent 2.1 neither limits open connections nor bounds the time a request may take to
 * arrive (its timeout is per read, so a client trickling a byte at a time keeps a connection
 * forever). So every connection's bufferevent is made here (evhttp_set_bevcb) and tracked:
 *   - the count goes down through the connection's close callback, which can be set once a
 *     first request arrives; until then we hold a reference on the bufferevent, so that a
 *     connection closing before it sent anything is noticed by a sweep (evhttp clears its
 *     callbacks when it lets go);
 *   - a connection that has not delivered a complete request within `timeout` of its accept
 *     or of its previous answer is shut down by the sweep, whatever it trickles.
 * Each connection's bytes pass through the framing filter (framing.h), which reads every
 * head strictly and asks this file, before the body is read, whether to admit it: the app's
 * verdict on path, method and size, then the budget of body bytes in flight (a reservation
 * held until the answer is sent).
 *
 * Connections waiting for a head (new ones, and kept-alive ones between requests) are kept
 * in arrival order: one whose head is not complete within header_timeout is closed, and at
 * the connection limit the oldest of them is closed to admit the new one, so that idle
 * connections cannot keep a real request out. Only when every connection is busy with a
 * request does the listening socket stop accepting; new connections then wait in the
 * kernel's backlog. */
#include "gateway/http/listener.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "gateway/base/clock.h"
#include "gateway/base/log.h"
#include "gateway/base/log_budget.h"
#include "gateway/http/request.h"
#include "gateway/http/tarpit.h"

#define SWEEP_INTERVAL_MS 250
#define HEAD_ITEMS_MAX    128

struct conn {
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* set at the first request */
    struct gw_listener *l;
    uint64_t mark_ms;       /* accept, or the end of the last answer */
    bool busy;              /* a request is being handled: the handler owns the time */
    bool cut;               /* shut down by us; evhttp frees it next */
    bool waiting;           /* on the list of connections waiting for a head */
    uint64_t reserved;      /* bytes of the body budget held by the current request */
    const char *allow;      /* the Allow header of a 405 refusal */
    unsigned retry_after_s; /* the Retry-After of a 429 refusal */
    char peer[64];          /* the peer's address, read at its first head ("" until then) */
    struct gw_framing fr;
    struct event *next_head; /* reads the next head once an answer is sent */
    struct conn *prev, *next;
    struct conn *wprev, *wnext; /* the waiting list, oldest first */
    struct conn *hnext;         /* the next in its by_bev bucket */
};

struct gw_listener {
    char name[16];
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *sweep;
    SSL_CTX *ssl;
    uint32_t max_connections;
    uint64_t timeout_ms;
    unsigned open; /* connections not cut */
    bool paused;
    uint64_t header_timeout_ms;
    uint64_t budget, in_flight; /* body bytes */
    struct gw_framing_ops framing;
    struct gw_log_budget refusals; /* the lines about heads refused (loop-owned) */
    struct gw_tarpit *late;        /* 429s answered late (loop-owned) */
    int (*admit)(void *, const struct gw_framing_head *, struct gw_admission *);
    struct conn *conns;
    /* Every conn by its bev: evhttp hands each request with its bev only, and a list search
     * would cost every request a walk over all open (possibly 10,000 idle) connections. */
    struct conn **by_bev;
    size_t by_bev_mask; /* buckets - 1, a power of two */
    struct conn *waiting, *waiting_last;
    void (*cb)(struct evhttp_request *, void *);
    void *cb_arg;
};

static size_t bev_bucket(const struct gw_listener *l, const struct bufferevent *bev)
{
    uint64_t k = (uint64_t)(uintptr_t)bev >> 4;
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & l->by_bev_mask;
}

static struct conn *conn_by_bev(const struct gw_listener *l, const struct bufferevent *bev)
{
    struct conn *c = l->by_bev[bev_bucket(l, bev)];
    while (c != NULL && c->bev != bev)
        c = c->hnext;
    return c;
}

static void conn_unlink(struct gw_listener *l, struct conn *c)
{
    struct conn **at = &l->by_bev[bev_bucket(l, c->bev)];
    while (*at != NULL && *at != c)
        at = &(*at)->hnext;
    if (*at == c)
        *at = c->hnext;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void wait_remove(struct gw_listener *l, struct conn *c)
{
    if (!c->waiting)
        return;
    if (c->wprev)
        c->wprev->wnext = c->wnext;
    else
        l->waiting = c->wnext;
    if (c->wnext)
        c->wnext->wprev = c->wprev;
    else
        l->waiting_last = c->wprev;
    c->wprev = c->wnext = NULL;
    c->waiting = false;
}

static void wait_append(struct gw_listener *l, struct conn *c)
{
    wait_remove(l, c);
    c->wprev = l->waiting_last;
    c->wnext = NULL;
    if (l->waiting_last)
        l->waiting_last->wnext = c;
    else
        l->waiting = c;
    l->waiting_last = c;
    c->waiting = true;
}

static void release_budget(struct gw_listener *l, struct conn *c)
{
    l->in_flight -= c->reserved < l->in_flight ? c->reserved : l->in_flight;
    c->reserved = 0;
}

static void accept_again(struct gw_listener *l);

/* Shuts the socket down: evhttp sees the end of the stream and frees the connection through
 * its own paths (close callback or cleared callbacks). It no longer counts as open. */
static void conn_cut(struct gw_listener *l, struct conn *c)
{
    if (c->cut)
        return;
    evutil_socket_t s = bufferevent_getfd(c->bev);
    if (s >= 0)
        shutdown(s, SHUT_RDWR);
    c->cut = true;
    wait_remove(l, c);
    release_budget(l, c);
    if (l->open > 0)
        l->open--;
    accept_again(l);
}

/* Forgets a connection evhttp has let go of, and accepts again below the limit. */
static void conn_gone(struct gw_listener *l, struct conn *c)
{
    conn_unlink(l, c);
    wait_remove(l, c);
    release_budget(l, c);
    if (c->next_head != NULL)
        event_free(c->next_head);
    gw_framing_release(&c->fr);
    if (c->evcon == NULL)
        bufferevent_decref(c->bev); /* our reference: the last one, it is freed now */
    if (!c->cut && l->open > 0)
        l->open--;
    free(c);
    accept_again(l);
}

/* Accepts unless the limit is reached with no connection idle enough to make room. */
static void accept_again(struct gw_listener *l)
{
    if (l->bound == NULL)
        return;
    bool full = l->open >= l->max_connections && l->waiting == NULL;
    if (full && !l->paused) {
        evconnlistener_disable(evhttp_bound_socket_get_listener(l->bound));
        l->paused = true;
        gw_log_warn(NULL,
                    "%s listener at its limit of %u open connections, all busy; pausing "
                    "accept",
                    l->name, l->max_connections);
    } else if (!full && l->paused) {
        evconnlistener_enable(evhttp_bound_socket_get_listener(l->bound));
        l->paused = false;
        gw_log_info(NULL, "%s listener accepting again (%u open)", l->name, l->open);
    }
}

static void on_connection_close(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    (void)evcon;
    conn_gone(c->l, c);
}

static void on_request_complete(struct evhttp_request *req, void *arg)
{
    struct conn *c = arg;
    (void)req;
    c->busy = false;
    c->mark_ms = (gw_monotonic_ns() / 1000000u);
    release_budget(c->l, c);
    if (c->fr.state != GW_FRAMING_ANSWER || c->cut)
        return;
    wait_append(c->l, c);
    accept_again(c->l);
    /* evhttp is still inside its answer: the next head is read from the loop. */
    event_active(c->next_head, EV_TIMEOUT, 0);
}

static void read_next_head(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    gw_framing_next(&c->fr, c->bev);
}

/* The numeric address of C's peer, as evhttp would give it, read once per connection: the
 * rate limit needs it before evhttp has made the connection's first request. */
static const char *conn_peer(struct conn *c)
{
    if (c->peer[0] != '\0')
        return c->peer;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, c->peer, sizeof(c->peer), NULL, 0,
                    NI_NUMERICHOST) != 0)
        snprintf(c->peer, sizeof(c->peer), "-");
    return c->peer;
}

/* The framing filter's question on a complete head: the app's verdict, then the budget. */
static int on_head(void *arg, const struct gw_framing_head *h)
{
    struct conn *c = arg;
    struct gw_listener *l = c->l;
    struct gw_framing_head head = *h;
    head.peer = conn_peer(c);
    struct gw_admission a = {.reserve = h->kind == GW_HTTP_BODY_LENGTH ? h->length : 0};
    int status = l->admit ? l->admit(l->cb_arg, &head, &a) : 0;
    /* A chunked body may take its limit plus the chunks' framing (a quarter, and a little
     * more, covers chunks of 32 bytes and up); the framing filter cuts it past that. */
    c->fr.chunked_max = 0;
    if (h->kind == GW_HTTP_BODY_CHUNKED && a.reserve != 0) {
        a.reserve += a.reserve / 4 + 4096;
        c->fr.chunked_max = a.reserve;
    }
    c->allow = a.allow;
    c->retry_after_s = a.retry_after_s;
    if (status == 0 && l->budget != 0 && a.reserve > l->budget - l->in_flight)
        status = 503;
    wait_remove(l, c);
    accept_again(l);
    if (status != 0)
        return status;
    c->reserved = a.reserve;
    l->in_flight += a.reserve;
    return 0;
}

static const char *refusal_body(int status)
{
    switch (status) {
    case 404:
        return "{\"error\":\"not_found\"}";
    case 405:
        return "{\"error\":\"method_not_allowed\"}";
    case 413:
        return "{\"error\":\"too_large\"}";
    case 429:
        return "{\"error\":\"rate_limited\"}";
    case 431:
        return "{\"error\":\"header_too_large\"}";
    case 503:
        return "{\"error\":\"busy\"}";
    default:
        return "{\"error\":\"bad_request\"}";
    }
}

/* Answers the stand-in request of a head the filter refused; the connection closes after. */
static void answer_refusal(struct gw_listener *l, struct conn *c, struct evhttp_request *req)
{
    struct gw_request r;
    gw_request_begin(&r, req, l->name);
    snprintf(r.path, sizeof(r.path), "%s", c->fr.why ? c->fr.why->path : "-");
    /* A flood of 429s is what the limit is for: each is an access line, not a warning. */
    enum gw_log_level level = c->fr.refused == 429 ? GW_LOG_INFO : GW_LOG_WARN;
    if (gw_log_budget_take(&l->refusals, level, gw_monotonic_ns() / 1000000))
        gw_log(level, r.id, "%s listener: refused %d from %s before its body: %s", l->name,
               c->fr.refused, r.peer, c->fr.why ? c->fr.why->reason : "-");
    char retry[16];
    const char *extra[5] = {"Connection", "close", NULL, NULL, NULL};
    if (c->fr.refused == 503) {
        extra[2] = "Retry-After";
        extra[3] = "1";
    } else if (c->fr.refused == 429) {
        snprintf(retry, sizeof(retry), "%u", c->retry_after_s ? c->retry_after_s : 1);
        extra[2] = "Retry-After";
        extra[3] = retry;
    } else if (c->fr.refused == 405 && c->allow != NULL) {
        extra[2] = "Allow";
        extra[3] = c->allow;
    }
    const char *body = refusal_body(c->fr.refused);
    /* The webhook routes' own word for a path they do not serve (gateway/pipeline/inbound.c). */
    if (c->fr.refused == 404 && c->fr.why && strncmp(c->fr.why->path, "/hooks/", 7) == 0)
        body = "{\"error\":\"unknown_endpoint\"}";
    /* Over its rate: the source's connection waits for the answer, and sends nothing else. */
    if (c->fr.refused == 429 && gw_tarpit_hold(l->late, &r, 429, body, extra))
        return;
    gw_request_reply_with(&r, c->fr.refused, body, extra);
}

static void sweep(evutil_socket_t fd, short what, void *arg)
{
    struct gw_listener *l = arg;
    (void)fd;
    (void)what;
    uint64_t now = (gw_monotonic_ns() / 1000000u);
    struct conn *c = l->conns;
    while (c != NULL) {
        struct conn *next = c->next;
        if (c->evcon == NULL) {
            bufferevent_data_cb readcb = NULL;
            bufferevent_getcb(c->bev, &readcb, NULL, NULL, NULL);
            if (readcb == NULL) { /* evhttp freed it before any request */
                conn_gone(l, c);
                c = next;
                continue;
            }
        }
        bool slow_head = c->waiting && now - c->mark_ms > l->header_timeout_ms;
        if (!c->cut && (slow_head || (!c->busy && now - c->mark_ms > l->timeout_ms))) {
            conn_cut(l, c);
            gw_log_debug(NULL,
                         "%s listener: closed a connection with no complete request "
                         "after %llu ms",
                         l->name, (unsigned long long)(now - c->mark_ms));
        }
        c = next;
    }
}

/* Called for every request before the handler. */
static void on_request(struct evhttp_request *req, void *arg)
{
    struct gw_listener *l = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    struct conn *c = bev != NULL ? conn_by_bev(l, bev) : NULL;
    if (c != NULL) {
        if (c->evcon == NULL) {
            c->evcon = evcon;
            evhttp_connection_set_closecb(evcon, on_connection_close, c);
            bufferevent_decref(bev); /* evhttp's close callback tells us from now on */
        }
        c->busy = true;
        evhttp_request_set_on_complete_cb(req, on_request_complete, c);
        if (c->fr.refused != 0) {
            answer_refusal(l, c, req);
            return;
        }
        /* A chunked body's end was evhttp's to find: nothing after it is read. */
        if (c->fr.state == GW_FRAMING_UNFRAMED) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
            c->fr.state = GW_FRAMING_REFUSED;
        }
    }
    l->cb(req, l->cb_arg);
}

static struct bufferevent *make_connection(struct event_base *base, void *arg)
{
    struct gw_listener *l = arg;
    struct bufferevent *bev = NULL;
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (l->ssl != NULL) {
        SSL *ssl = SSL_new(l->ssl);
        if (ssl != NULL)
            bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                 BEV_OPT_CLOSE_ON_FREE);
        if (bev == NULL)
            SSL_free(ssl);
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    c->fr.ops = &l->framing;
    c->fr.conn = c;
    struct bufferevent *filtered = bev != NULL ? gw_framing_wrap(base, bev, &c->fr) : NULL;
    c->next_head = event_new(base, -1, 0, read_next_head, c);
    if (filtered == NULL || c->next_head == NULL) {
        if (filtered != NULL)
            bufferevent_free(filtered); /* frees BEV too */
        else if (bev != NULL)
            bufferevent_free(bev);
        gw_framing_release(&c->fr);
        if (c->next_head != NULL)
            event_free(c->next_head);
        free(c);
        return NULL;
    }
    bev = filtered;
    bufferevent_incref(bev);
    c->bev = bev;
    c->l = l;
    c->mark_ms = (gw_monotonic_ns() / 1000000u);
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    size_t b = bev_bucket(l, bev);
    c->hnext = l->by_bev[b];
    l->by_bev[b] = c;
    l->open++;
    wait_append(l, c);
    /* Past the limit, the connection that has waited longest for a head makes room. */
    if (l->open > l->max_connections && l->waiting != NULL && l->waiting != c) {
        gw_log_debug(NULL, "%s listener at its limit: closed the oldest idle connection", l->name);
        conn_cut(l, l->waiting);
    }
    accept_again(l);
    return bev;
}

struct gw_listener *gw_listener_create(struct event_base *base, const struct gw_listener_opts *o,
                                       void (*cb)(struct evhttp_request *, void *), void *arg,
                                       char *err, size_t errlen)
{
    struct gw_listener *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(l->name, sizeof(l->name), "%s", o->name);
    l->max_connections = o->max_connections ? o->max_connections : 1;
    size_t buckets = 64;
    while (buckets < 2 * (size_t)l->max_connections && buckets < ((size_t)1 << 20))
        buckets *= 2;
    l->by_bev = calloc(buckets, sizeof(*l->by_bev));
    l->by_bev_mask = buckets - 1;
    l->http = l->by_bev != NULL ? evhttp_new(base) : NULL;
    if (l->http == NULL) {
        snprintf(err, errlen, "out of memory");
        free(l->by_bev);
        free(l);
        return NULL;
    }
    if (o->ssl != NULL) {
        SSL_CTX_up_ref(o->ssl);
        l->ssl = o->ssl;
    }
    struct timeval tv = {.tv_sec = (time_t)(o->timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(o->timeout_ms % 1000) * 1000};
    evhttp_set_timeout_tv(l->http, &tv);
    evhttp_set_max_headers_size(l->http, (ev_ssize_t)o->max_header_size);
    evhttp_set_max_body_size(l->http, (ev_ssize_t)o->max_body);
    /* Every method reaches our callback, which answers 405 itself with an Allow header
     * (evhttp would answer 501 for a method outside this set). */
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(l->http, "application/json");
    evhttp_set_bevcb(l->http, make_connection, l);
    l->cb = cb;
    l->cb_arg = arg;
    evhttp_set_gencb(l->http, on_request, l);
    l->timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
    l->header_timeout_ms = o->header_timeout_ms ? o->header_timeout_ms : l->timeout_ms;
    l->budget = o->max_body_in_flight;
    l->refusals.what = "request heads refused";
    l->admit = o->admit;
    l->framing = (struct gw_framing_ops){
        .head_max = o->max_header_size ? o->max_header_size : 16384,
        .items_max = HEAD_ITEMS_MAX,
        .on_head = on_head,
    };
    l->framing.items = calloc(HEAD_ITEMS_MAX, sizeof(*l->framing.items));
    l->framing.storage = malloc(l->framing.head_max);
    if (l->framing.items == NULL || l->framing.storage == NULL) {
        snprintf(err, errlen, "out of memory");
        gw_listener_destroy(l);
        return NULL;
    }
    l->late = gw_tarpit_create(base, l->max_connections, o->refusal_delay_ms);
    if (l->late == NULL) {
        snprintf(err, errlen, "out of memory");
        gw_listener_destroy(l);
        return NULL;
    }
    l->sweep = event_new(base, -1, EV_PERSIST, sweep, l);
    struct timeval every = {0, SWEEP_INTERVAL_MS * 1000};
    if (l->sweep == NULL || event_add(l->sweep, &every) != 0) {
        snprintf(err, errlen, "out of memory");
        gw_listener_destroy(l);
        return NULL;
    }

    struct evconnlistener *lst = NULL;
    l->bound = evhttp_bind_socket_with_handle(l->http, o->address, o->port);
    if (l->bound != NULL)
        lst = evhttp_bound_socket_get_listener(l->bound);
    if (l->bound == NULL || lst == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%u for the %s listener", o->address,
                 (unsigned)o->port, o->name);
        gw_listener_destroy(l);
        return NULL;
    }
    return l;
}

void gw_listener_stop_accepting(struct gw_listener *l)
{
    if (l == NULL)
        return;
    gw_tarpit_release(l->late);
    if (l->bound == NULL)
        return;
    evhttp_del_accept_socket(l->http, l->bound);
    l->bound = NULL;
}

void gw_listener_destroy(struct gw_listener *l)
{
    if (l == NULL)
        return;
    gw_listener_stop_accepting(l);
    gw_log_budget_flush(&l->refusals, GW_LOG_WARN);
    gw_tarpit_destroy(l->late); /* their answers go out with the rest, before the close */
    if (l->sweep != NULL)
        event_free(l->sweep);
    evhttp_free(l->http); /* frees every connection; adopted ones report through closecb */
    while (l->conns != NULL)
        conn_gone(l, l->conns); /* those that never sent a request */
    SSL_CTX_free(l->ssl);
    free(l->framing.items);
    free(l->framing.storage);
    free(l->by_bev);
    free(l);
}

unsigned gw_listener_held(const struct gw_listener *l)
{
    return l != NULL ? (unsigned)gw_tarpit_held(l->late) : 0;
}

unsigned gw_listener_open_connections(const struct gw_listener *l)
{
    return l->open;
}
