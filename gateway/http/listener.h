/* listener.h — one evhttp listener (public or admin) with the limits every listener
 * has from the start: header size, body size, timeouts, maximum open connections, and TLS
 * when configured; strict framing and early refusals on each head (framing.h), a budget of
 * body bytes in flight, and room made at the connection limit by closing idle connections. */
#ifndef CTGW_HTTP_LISTENER_H
#define CTGW_HTTP_LISTENER_H

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <stdint.h>

#include "gateway/http/framing.h"

struct gw_listener;

struct gw_listener_opts {
    const char *name; /* "public" or "admin", for logs */
    const char *address;
    uint16_t port;
    SSL_CTX *ssl; /* NULL for plain HTTP; the listener takes a reference */
    uint32_t max_connections;
    uint64_t max_header_size;
    uint64_t max_body;
    uint64_t timeout_ms;
    uint64_t header_timeout_ms;  /* a head not complete this long after the accept or the
                                  * previous answer closes the connection; 0: timeout_ms */
    uint64_t max_body_in_flight; /* bytes reserved by admitted heads; 0: no limit */
    uint64_t refusal_delay_ms;   /* how late a 429 is answered (tarpit.h); 0: at once */
    /* Decides on a complete head before its body is read: 0 admits it with A->reserve bytes
     * of the budget (preset to its Content-Length), otherwise the status it is refused with
     * (A->allow the Allow header of a 405, A->retry_after_s the Retry-After of a 429). H's
     * peer is the connection's. NULL admits every well-formed head. Called with the request
     * callback's ARG. */
    int (*admit)(void *arg, const struct gw_framing_head *h, struct gw_admission *a);
};

/* Binds and starts accepting. Every request goes to cb(req, arg). NULL with err set when the
 * address cannot be bound. */
struct gw_listener *gw_listener_create(struct event_base *base, const struct gw_listener_opts *o,
                                       void (*cb)(struct evhttp_request *, void *), void *arg,
                                       char *err, size_t errlen);
/* Closes the listening socket and sends the refusals held to be answered late; open
 * connections stay until destroy. */
void gw_listener_stop_accepting(struct gw_listener *l);
/* Closes every connection and frees the listener. Accepts NULL. */
void gw_listener_destroy(struct gw_listener *l);
unsigned gw_listener_open_connections(const struct gw_listener *l);
/* Refusals held to be answered late (the graceful stop waits for them too). */
unsigned gw_listener_held(const struct gw_listener *l);

#endif
