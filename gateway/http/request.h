/* request.h — what every request carries through ctgw (request id, peer, start time),
 * and the one way to answer it. */
#ifndef CTGW_HTTP_REQUEST_H
#define CTGW_HTTP_REQUEST_H

#include <event2/http.h>
#include <stddef.h>
#include <stdint.h>

#define GW_REQUEST_ID_MAX 64

struct gw_request {
    struct evhttp_request *req;
    char id[GW_REQUEST_ID_MAX + 1];
    char peer[64];  /* "address" of the client, no port */
    char path[256]; /* decoded path only, bounded; for routing and logs */
    uint64_t start_ns;
    const char *listener; /* "public" or "admin" */
};

/* Fills r from an incoming request: takes X-Request-Id when it is 1-64 characters of
 * [A-Za-z0-9._:-], otherwise generates a fresh random one. Returns -1 when the URI cannot be
 * parsed (the caller answers 400). */
int gw_request_begin(struct gw_request *r, struct evhttp_request *req, const char *listener);

/* Sends status with a body (JSON unless a Content-Type is among the extra headers; NULL for
 * an empty body), the request id and the
 * headers every answer carries, and writes the access log line. Exactly one call per
 * request. */
void gw_request_reply(struct gw_request *r, int status, const char *json);

/* The same with extra headers: pairs of name, value, terminated by NULL. */
void gw_request_reply_with(struct gw_request *r, int status, const char *json,
                           const char *const *headers);

/* Microseconds since the request arrived. */
uint64_t gw_request_elapsed_us(const struct gw_request *r);

/* Fresh 32-hex-character id from the system's random source. */
void gw_request_new_id(char out[GW_REQUEST_ID_MAX + 1]);

#endif
