/* framing.h — a filter between a connection's socket and evhttp that reads each request head
 * from the raw bytes before evhttp does, so that what evhttp would smooth over or decide too
 * late is refused first: bare LF and folded lines (evhttp normalises both), Content-Length
 * with Transfer-Encoding, unknown or repeated codings, repeated Content-Length, and — once the
 * head is complete, before any body byte is read — the path, method and announced size. */
#ifndef CTGW_HTTP_FRAMING_H
#define CTGW_HTTP_FRAMING_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>

#include "verifiers/http_head.h"

/* A complete, well-formed head, as the decider sees it. */
struct gw_framing_head {
    const char *method;
    const char *path; /* the target up to '?' or '#' */
    enum gw_http_body_kind kind;
    uint64_t length;                  /* for GW_HTTP_BODY_LENGTH */
    const struct gw_headers *headers; /* the head's headers, in order */
    const char *peer;                 /* the connection's peer address (the listener's to set) */
};

/* What a decider says of an admitted or refused head besides its status. */
struct gw_admission {
    uint64_t reserve;       /* in: the announced length; out: body bytes of the budget to hold */
    const char *allow;      /* the Allow header of a 405 */
    unsigned retry_after_s; /* the Retry-After of a 429 (0: none) */
};

/* What a listener gives every connection's filter; one per listener, used on its loop only. */
struct gw_framing_ops {
    size_t head_max;
    struct gw_header *items; /* scratch for one head: ITEMS_MAX headers, HEAD_MAX bytes */
    size_t items_max;
    char *storage;
    /* Decides on a head: 0 admits it, otherwise the status it is refused with (answered
     * without reading its body, and the connection closed). CONN is the filter's owner. */
    int (*on_head)(void *conn, const struct gw_framing_head *h);
};

/* What the log says of a refused head: held apart, since few connections ever have one. */
#define GW_FRAMING_PATH_MAX 128
struct gw_framing_refusal {
    char path[GW_FRAMING_PATH_MAX]; /* of the refused head, for the access log */
    char reason[96];                /* why, for the log */
};

enum gw_framing_state {
    GW_FRAMING_HEAD,     /* waiting for a head */
    GW_FRAMING_BODY,     /* passing REMAINING body bytes */
    GW_FRAMING_UNFRAMED, /* a chunked body: passing up to chunked_max; the answer closes */
    GW_FRAMING_ANSWER,   /* the request is evhttp's until answered; later bytes wait */
    GW_FRAMING_REFUSED,  /* a refusal stands in for the request; later bytes are dropped */
};

struct gw_framing {
    enum gw_framing_state state;
    uint64_t remaining;   /* body bytes to pass: of the Content-Length, or raw chunked bytes */
    size_t head_scanned;  /* bytes of the arriving head searched for its end so far */
    uint64_t chunked_max; /* raw bytes a chunked body may take, set by on_head (0: no limit) */
    int refused;          /* the status of the refusal, 0 when none */
    struct gw_framing_refusal *why; /* of a refused head; NULL until one is */
    const struct gw_framing_ops *ops;
    void *conn;
    struct bufferevent *bev; /* the filter */
    struct event *write_out; /* see framing.c, on_output_added */
    struct event *written;   /* the socket took the last answer byte */
    bool writing;            /* the filter may pass output on */
    bool draining;           /* evhttp's write callback waits for the socket */
    bool lingering;          /* a refusal was sent; the client's body is read and dropped */
    bufferevent_data_cb held_cb;
    void *held_arg;
};

/* Wraps UNDER (which the result owns) in the filter; NULL when out of memory. */
struct bufferevent *gw_framing_wrap(struct event_base *base, struct bufferevent *under,
                                    struct gw_framing *f);
/* Frees what the wrap made besides the filter (which evhttp frees). */
void gw_framing_release(struct gw_framing *f);

/* The current request was answered: the next head may be read. Call from the loop, not from
 * inside evhttp's callbacks; bev is the filter. */
void gw_framing_next(struct gw_framing *f, struct bufferevent *bev);

#endif
