/* request.c — request ids, the answer every handler ends with, and the access log. */
#include "gateway/http/request.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "gateway/base/clock.h"
#include "gateway/base/log.h"

/* Random bytes for request ids, drawn from the kernel 4 KiB at a time: a getrandom call per
 * request is a system call the event loop does not need to make (ids need to be unique and
 * unguessable, and each byte is used once). Per thread: ids are made on the loop. */
static void id_bytes(unsigned char *out, size_t n)
{
    static _Thread_local unsigned char pool[4096];
    static _Thread_local size_t pos, end; /* unused bytes: pool[pos..end) */
    if (end - pos < n) {
        pos = end = 0;
        while (end < sizeof(pool)) {
            ssize_t k = getrandom(pool + end, sizeof(pool) - end, 0);
            if (k <= 0)
                break;
            end += (size_t)k;
        }
        if (end < n) {
            /* getrandom cannot fail on Linux >= 3.17 once the pool is seeded; keep ids
             * unique anyway. */
            static _Thread_local uint64_t counter;
            uint64_t v = gw_monotonic_ns() ^ (++counter << 32);
            memset(out, 0, n);
            memcpy(out, &v, n < sizeof(v) ? n : sizeof(v));
            pos = end = 0;
            return;
        }
    }
    memcpy(out, pool + pos, n);
    memset(pool + pos, 0, n); /* each byte serves one id */
    pos += n;
}

void gw_request_new_id(char out[GW_REQUEST_ID_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    id_bytes(raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * sizeof(raw)] = '\0';
}

static bool request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || n >= GW_REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}

int gw_request_begin(struct gw_request *r, struct evhttp_request *req, const char *listener)
{
    memset(r, 0, sizeof(*r));
    r->req = req;
    r->start_ns = gw_monotonic_ns();
    r->listener = listener;
    const char *given = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Request-Id");
    if (given != NULL && request_id_ok(given))
        memcpy(r->id, given, strlen(given) + 1); /* request_id_ok bounded it */
    else
        gw_request_new_id(r->id);

    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    char *peer = NULL;
    ev_uint16_t port = 0;
    if (conn != NULL)
        evhttp_connection_get_peer(conn, &peer, &port);
    snprintf(r->peer, sizeof(r->peer), "%s", peer ? peer : "-");

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (path == NULL || path[0] != '/' || strlen(path) >= sizeof(r->path)) {
        snprintf(r->path, sizeof(r->path), "-");
        return -1;
    }
    snprintf(r->path, sizeof(r->path), "%s", path);
    return 0;
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "OTHER";
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 431:
        return "Request Header Fields Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

void gw_request_reply_with(struct gw_request *r, int status, const char *json,
                           const char *const *headers)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(out, "X-Request-Id", r->id);
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    bool typed = false;
    for (size_t i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2) {
        evhttp_add_header(out, headers[i], headers[i + 1]);
        typed = typed || strcasecmp(headers[i], "Content-Type") == 0;
    }
    if (json != NULL && !typed)
        evhttp_add_header(out, "Content-Type", "application/json");
    struct evbuffer *body = NULL;
    if (json != NULL) {
        body = evbuffer_new();
        if (body != NULL) {
            evbuffer_add(body, json, strlen(json));
            evbuffer_add(body, "\n", 1);
        }
    }
    evhttp_send_reply(r->req, status, reason_phrase(status), body);
    if (body != NULL)
        evbuffer_free(body);

    uint64_t us = (gw_monotonic_ns() - r->start_ns) / 1000u;
    enum gw_log_level level = GW_LOG_INFO;
    /* Probes arrive every few seconds from load balancers: keep them out of the info log. */
    if (strcmp(r->path, "/healthz") == 0 || strcmp(r->path, "/readyz") == 0)
        level = GW_LOG_DEBUG;
    struct gw_log_field f[] = {
        GW_LOG_STR("listener", r->listener),
        GW_LOG_STR("method", method_name(evhttp_request_get_command(r->req))),
        GW_LOG_STR("path", r->path),
        GW_LOG_NUM("status", status),
        GW_LOG_NUM("duration_us", us),
        GW_LOG_STR("peer", r->peer),
    };
    gw_log_fields(level, r->id, "request", f, sizeof(f) / sizeof(f[0]));
}

uint64_t gw_request_elapsed_us(const struct gw_request *r)
{
    return (gw_monotonic_ns() - r->start_ns) / 1000u;
}

void gw_request_reply(struct gw_request *r, int status, const char *json)
{
    gw_request_reply_with(r, status, json, NULL);
}
