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
 * At the connection limit the listening socket stops accepting; new connections wait in
 * the kernel's backlog. */
#include "gateway/http/listener.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "gateway/base/clock.h"
#include "gateway/base/log.h"

#define SWEEP_INTERVAL_MS 250

struct conn {
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* set at the first request */
    struct gw_listener *l;
    uint64_t mark_ms; /* accept, or the end of the last answer */
    bool busy;        /* a request is being handled: the handler owns the time */
    bool cut;         /* shut down by the sweep; evhttp frees it next */
    struct conn *prev, *next;
};

struct gw_listener {
    char name[16];
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *sweep;
    SSL_CTX *ssl;
    uint32_t max_connections;
    uint64_t timeout_ms;
    unsigned open;
    bool paused;
    struct conn *conns;
    void (*cb)(struct evhttp_request *, void *);
    void *cb_arg;
};

static void conn_unlink(struct gw_listener *l, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* Forgets a connection evhttp has let go of, and accepts again below the limit. */
static void conn_gone(struct gw_listener *l, struct conn *c)
{
    conn_unlink(l, c);
    if (c->evcon == NULL)
        bufferevent_decref(c->bev); /* our reference: the last one, it is freed now */
    free(c);
    if (l->open > 0)
        l->open--;
    if (l->paused && l->open < l->max_connections && l->bound != NULL) {
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
        if (!c->busy && !c->cut && now - c->mark_ms > l->timeout_ms) {
            /* Shutting the socket down makes evhttp see the end of the stream and free the
             * connection through its own paths (close callback or cleared callbacks). */
            evutil_socket_t s = bufferevent_getfd(c->bev);
            if (s >= 0)
                shutdown(s, SHUT_RDWR);
            c->cut = true;
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
    for (struct conn *c = l->conns; bev != NULL && c != NULL; c = c->next) {
        if (c->bev != bev)
            continue;
        if (c->evcon == NULL) {
            c->evcon = evcon;
            evhttp_connection_set_closecb(evcon, on_connection_close, c);
            bufferevent_decref(bev); /* evhttp's close callback tells us from now on */
        }
        c->busy = true;
        evhttp_request_set_on_complete_cb(req, on_request_complete, c);
        break;
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
    if (bev == NULL) {
        free(c);
        return NULL;
    }
    bufferevent_incref(bev);
    c->bev = bev;
    c->l = l;
    c->mark_ms = (gw_monotonic_ns() / 1000000u);
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->open++;
    if (l->open >= l->max_connections && !l->paused && l->bound != NULL) {
        evconnlistener_disable(evhttp_bound_socket_get_listener(l->bound));
        l->paused = true;
        gw_log_warn(NULL, "%s listener at its limit of %u open connections; pausing accept",
                    l->name, l->max_connections);
    }
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
    l->http = evhttp_new(base);
    if (l->http == NULL) {
        snprintf(err, errlen, "out of memory");
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
    if (l == NULL || l->bound == NULL)
        return;
    evhttp_del_accept_socket(l->http, l->bound);
    l->bound = NULL;
}

void gw_listener_destroy(struct gw_listener *l)
{
    if (l == NULL)
        return;
    gw_listener_stop_accepting(l);
    if (l->sweep != NULL)
        event_free(l->sweep);
    evhttp_free(l->http); /* frees every connection; adopted ones report through closecb */
    while (l->conns != NULL)
        conn_gone(l, l->conns); /* those that never sent a request */
    SSL_CTX_free(l->ssl);
    free(l);
}

unsigned gw_listener_open_connections(const struct gw_listener *l)
{
    return l->open;
}
