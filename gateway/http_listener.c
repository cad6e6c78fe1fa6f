/* http_listener.c — an evhttp listener with header, body, time and connection limits.
 *
 * libevent 2.1 has no limit on open connections, and evhttp tells nobody when it opens one;
 * so every connection's bufferevent is made here (evhttp_set_bevcb), which counts it. The
 * count goes down through the connection's close callback, which can only be set once a
 * first request arrives. Until then we hold a reference on the bufferevent, so that a
 * connection that closes before sending anything (an idle timeout, a port scan) can be
 * noticed by a sweep: evhttp clears its callbacks when it lets go. At the limit the
 * listening socket stops accepting and new connections wait in the kernel's backlog. */
#include "gateway/http_listener.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"

#define SWEEP_INTERVAL_MS 500

/* A connection that has not yet sent a complete request. */
struct pending_conn {
    struct bufferevent *bev;
    struct pending_conn *next;
};

struct gw_listener {
    char name[16];
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct event *sweep;
    SSL_CTX *ssl;
    uint32_t max_connections;
    unsigned open;
    bool paused;
    struct pending_conn *pending;
    void (*cb)(struct evhttp_request *, void *);
    void *cb_arg;
};

static void connection_gone(struct gw_listener *l)
{
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
    (void)evcon;
    connection_gone(arg);
}

/* Drops pending connections evhttp has already freed (their callbacks are cleared). */
static void sweep_pending(evutil_socket_t fd, short what, void *arg)
{
    struct gw_listener *l = arg;
    (void)fd;
    (void)what;
    struct pending_conn **pp = &l->pending;
    while (*pp != NULL) {
        struct pending_conn *p = *pp;
        bufferevent_data_cb readcb = NULL;
        bufferevent_getcb(p->bev, &readcb, NULL, NULL, NULL);
        if (readcb == NULL) {
            *pp = p->next;
            bufferevent_decref(p->bev);
            free(p);
            connection_gone(l);
        } else {
            pp = &p->next;
        }
    }
}

/* Called for every request before the handler: the first request of a connection moves it
 * from the pending list to close-callback accounting. */
static void on_request(struct evhttp_request *req, void *arg)
{
    struct gw_listener *l = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    for (struct pending_conn **pp = &l->pending; bev != NULL && *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->bev == bev) {
            struct pending_conn *p = *pp;
            *pp = p->next;
            free(p);
            evhttp_connection_set_closecb(evcon, on_connection_close, l);
            bufferevent_decref(bev);
            break;
        }
    }
    l->cb(req, l->cb_arg);
}

static struct bufferevent *make_connection(struct event_base *base, void *arg)
{
    struct gw_listener *l = arg;
    struct bufferevent *bev = NULL;
    struct pending_conn *p = malloc(sizeof(*p));
    if (p == NULL)
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
        free(p);
        return NULL;
    }
    bufferevent_incref(bev);
    p->bev = bev;
    p->next = l->pending;
    l->pending = p;
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
    l->sweep = event_new(base, -1, EV_PERSIST, sweep_pending, l);
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
    while (l->pending != NULL) {
        struct pending_conn *p = l->pending;
        l->pending = p->next;
        bufferevent_decref(p->bev);
        free(p);
    }
    SSL_CTX_free(l->ssl);
    free(l);
}

unsigned gw_listener_open_connections(const struct gw_listener *l)
{
    return l->open;
}
