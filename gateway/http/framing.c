/* framing.c — the per-connection filter that reads request heads strictly before evhttp.
 *
 * Why a filter and not evhttp's header callback: in libevent 2.1 a server-side request is
 * made inside evhttp with no hook to set its header callback (evhttp_set_newreqcb is 2.2),
 * and evhttp's own parser reads lines with EVBUFFER_EOL_CRLF (bare LF accepted) and joins
 * folded lines, so the bytes that matter are gone by the time any callback could see them.
 * A bufferevent filter sees every byte first, for plain and TLS connections alike.
 *
 * Only one request is in evhttp's hands at a time: after a head is passed, its body follows
 * (Content-Length bytes exactly) and later bytes wait in the socket's buffer until the answer
 * is sent, so every head of a pipelined connection is read here too. A chunked body's end is
 * evhttp's to find: its answer closes the connection, so nothing after it is ever parsed
 * unchecked; its raw bytes are counted, and the connection cut past what the decider allowed. A
 * refused head is replaced by a stand-in request that the listener answers with the refusal and
 * Connection: close; the rest of the input is dropped unread. */
#include "gateway/http/framing.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gateway/base/clock.h"
#include "gateway/base/log.h"
#include "gateway/base/log_budget.h"

/* After a refusal, how long the client's body is still read (and dropped) before the
 * connection closes: closing with unread bytes would reset it, and a client still sending
 * its body would lose the answer. */
#define LINGER_MS 2000

/* What evhttp parses in place of a refused head: the listener recognises the connection, not
 * this text, so a client sending the same bytes gets nothing from it. It keeps the refused
 * method when evhttp knows it, for the access log. */
static void add_stand_in(struct evbuffer *dst, const char *method, const char *request_id)
{
    static const char *const known[] = {"GET",   "POST",    "PUT",  "DELETE",
                                        "PATCH", "OPTIONS", "HEAD", NULL};
    const char *m = "GET";
    for (size_t i = 0; known[i] != NULL; i++)
        if (strcmp(method, known[i]) == 0)
            m = known[i];
    /* The client's request id, which gw_request_begin checks, when the head was read: its
     * value holds no line ending (gw_http_head_parse refuses controls). */
    bool id = request_id != NULL && strlen(request_id) <= 64;
    evbuffer_add_printf(dst,
                        "%s /refused HTTP/1.1\r\nHost: -\r\nContent-Length: 0\r\n"
                        "%s%s%sConnection: close\r\n\r\n",
                        m, id ? "X-Request-Id: " : "", id ? request_id : "", id ? "\r\n" : "");
}

/* The method and path of a head, as far as they can be told, for the log of its refusal:
 * the first token, and the second up to '?', '#', a space or a line end. */
static void method_and_path(const unsigned char *buf, size_t len, char *method, size_t mcap,
                            char *path, size_t pcap)
{
    size_t i = 0, m = 0, p = 0;
    while (i < len && buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n') {
        if (m + 1 < mcap)
            method[m++] = (char)buf[i];
        i++;
    }
    method[m] = '\0';
    if (i < len && buf[i] == ' ')
        i++;
    while (i < len && strchr(" ?#\r\n", buf[i]) == NULL && buf[i] != '\0') {
        if (p + 1 < pcap)
            path[p++] = (char)buf[i];
        i++;
    }
    path[p] = '\0';
    if (p == 0)
        snprintf(path, pcap, "-");
}

/* Out of memory, a refusal is still answered, with less to tell: one shared record, written
 * and read on the loop only. */
static struct gw_framing_refusal unknown;

static void refuse(struct gw_framing *f, struct evbuffer *src, struct evbuffer *dst, int status,
                   const unsigned char *head, size_t len, const char *reason,
                   const char *request_id)
{
    char method[GW_HTTP_METHOD_MAX + 1];
    f->refused = status;
    f->state = GW_FRAMING_REFUSED;
    if (f->why == NULL) {
        f->why = malloc(sizeof(*f->why));
        if (f->why == NULL) {
            snprintf(unknown.path, sizeof unknown.path, "-");
            snprintf(unknown.reason, sizeof unknown.reason, "refused (no memory to tell why)");
            f->why = &unknown;
        }
    }
    if (f->why != &unknown) {
        method_and_path(head, len, method, sizeof method, f->why->path, sizeof f->why->path);
        snprintf(f->why->reason, sizeof f->why->reason, "%s", reason);
    }
    evbuffer_drain(src, evbuffer_get_length(src));
    add_stand_in(dst, method, request_id);
}

/* Whether BUF[0..LEN) holds a blank line ("\n\n" or "\n\r\n"), searching from where the last
 * search of the same head stopped (*SCANNED, then moved on). */
static bool head_ended(const unsigned char *buf, size_t len, size_t *scanned)
{
    for (size_t i = *scanned > 2 ? *scanned - 2 : 0; i + 1 < len; i++)
        if (buf[i] == '\n' &&
            (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')))
            return true;
    *scanned = len;
    return false;
}

/* A head at the start of SRC: refused, admitted (moved to DST) or still arriving. */
static enum bufferevent_filter_result read_head(struct gw_framing *f, struct evbuffer *src,
                                                struct evbuffer *dst)
{
    const struct gw_framing_ops *ops = f->ops;
    size_t len = evbuffer_get_length(src);
    if (len > ops->head_max)
        len = ops->head_max;
    const unsigned char *buf = evbuffer_pullup(src, (ev_ssize_t)len);
    struct gw_http_head h = {.crlf_only = true,
                             .head_max = ops->head_max,
                             .items = ops->items,
                             .items_max = ops->items_max,
                             .storage = ops->storage,
                             .storage_len = ops->head_max};
    struct gw_http_head_error err;
    if (buf == NULL)
        return BEV_NEED_MORE;
    /* Parsed once its end is there (or it is too long): a head trickled in byte by byte would
     * otherwise be parsed again from its start for every byte, 16 KiB squared of work. */
    if (len < ops->head_max && !head_ended(buf, len, &f->head_scanned))
        return BEV_NEED_MORE;
    f->head_scanned = 0;
    int rc = gw_http_head_parse(buf, len, &h, &err);
    if (rc == 1)
        return BEV_NEED_MORE;
    if (rc < 0) {
        bool too_long = strstr(err.what, "longer than") != NULL;
        refuse(f, src, dst, too_long ? 431 : 400, buf, len, err.what, NULL);
        return BEV_OK;
    }
    char path[GW_FRAMING_PATH_MAX];
    size_t plen = strcspn(h.target, "?#");
    snprintf(path, sizeof path, "%.*s", (int)(plen < sizeof path ? plen : sizeof path - 1),
             h.target);
    struct gw_framing_head fh = {.method = h.method, .path = path, .headers = &h.headers};
    if (gw_http_body_framing(&h.headers, &fh.kind, &fh.length, &err) != 0) {
        refuse(f, src, dst, 400, buf, len, err.what, gw_headers_get(&h.headers, "X-Request-Id"));
        return BEV_OK;
    }
    /* evhttp reads no body after HEAD or TRACE: one would be parsed as the next request. */
    bool bodiless = strcmp(h.method, "HEAD") == 0 || strcmp(h.method, "TRACE") == 0;
    if (bodiless && (fh.kind == GW_HTTP_BODY_CHUNKED || fh.length > 0)) {
        refuse(f, src, dst, 400, buf, len, "a body after HEAD or TRACE", NULL);
        return BEV_OK;
    }
    int status = plen >= sizeof path ? 404 : ops->on_head(f->conn, &fh);
    if (status != 0) {
        refuse(f, src, dst, status, buf, len, "refused on its head",
               gw_headers_get(&h.headers, "X-Request-Id"));
        return BEV_OK;
    }
    evbuffer_remove_buffer(src, dst, h.head_len);
    f->remaining = fh.kind != GW_HTTP_BODY_CHUNKED ? fh.length
                   : f->chunked_max != 0           ? f->chunked_max
                                                   : UINT64_MAX;
    f->state = fh.kind == GW_HTTP_BODY_CHUNKED ? GW_FRAMING_UNFRAMED
               : fh.length > 0                 ? GW_FRAMING_BODY
                                               : GW_FRAMING_ANSWER;
    return BEV_OK;
}

static enum bufferevent_filter_result filter_in(struct evbuffer *src, struct evbuffer *dst,
                                                ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                void *ctx)
{
    struct gw_framing *f = ctx;
    (void)limit;
    (void)mode;
    switch (f->state) {
    case GW_FRAMING_HEAD:
        return read_head(f, src, dst);
    case GW_FRAMING_BODY: {
        size_t n = evbuffer_get_length(src);
        if (n > f->remaining)
            n = (size_t)f->remaining;
        evbuffer_remove_buffer(src, dst, n);
        f->remaining -= n;
        if (f->remaining == 0)
            f->state = GW_FRAMING_ANSWER;
        return n > 0 ? BEV_OK : BEV_NEED_MORE;
    }
    case GW_FRAMING_UNFRAMED: {
        /* The decoded body is never longer than the chunked bytes that carry it: bounding
         * these bounds what evhttp buffers by the decider's word, not the listener's. */
        size_t n = evbuffer_get_length(src);
        if (n > f->remaining) {
            evbuffer_drain(src, n);
            f->state = GW_FRAMING_REFUSED;
            /* Every listener's filters run on the loop thread: one budget for them all. */
            static struct gw_log_budget cuts = {.what = "chunked bodies cut"};
            if (gw_log_budget_take(&cuts, GW_LOG_WARN, gw_monotonic_ns() / 1000000))
                gw_log_warn(NULL, "closed a connection: a chunked body over its %llu bytes",
                            (unsigned long long)f->chunked_max);
            evutil_socket_t s = bufferevent_getfd(f->bev);
            if (s >= 0)
                shutdown(s, SHUT_RDWR); /* evhttp sees the end of the stream and frees it */
            return BEV_NEED_MORE;
        }
        f->remaining -= n;
        evbuffer_add_buffer(dst, src);
        return BEV_OK;
    }
    case GW_FRAMING_ANSWER:
        return BEV_NEED_MORE;
    case GW_FRAMING_REFUSED:
        evbuffer_drain(src, evbuffer_get_length(src));
        return BEV_NEED_MORE;
    }
    return BEV_ERROR;
}

/* Output, and when evhttp learns it was written.
 *
 * libevent 2.1's filter passes output on only when it is added while writing is enabled,
 * and evhttp adds its answer first and enables writing after; and the filter calls evhttp's
 * write callback as soon as the answer is in the socket's buffer, not on the socket, so an
 * answer that closes the connection would be freed unsent. So output is passed on here only,
 * one turn of the loop after it is added, with evhttp's write callback held back until the
 * socket's buffer is empty. */
static enum bufferevent_filter_result filter_out(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                 void *ctx)
{
    struct gw_framing *f = ctx;
    (void)limit;
    (void)mode;
    if (!f->writing)
        return BEV_NEED_MORE;
    evbuffer_add_buffer(dst, src);
    return BEV_OK;
}

static void on_output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct gw_framing *f = arg;
    (void)buf;
    if (info->n_added > 0)
        event_active(f->write_out, EV_TIMEOUT, 0);
}

static void write_out(evutil_socket_t fd, short what, void *arg)
{
    struct gw_framing *f = arg;
    (void)fd;
    (void)what;
    if (evbuffer_get_length(bufferevent_get_output(f->bev)) == 0)
        return;
    bufferevent_data_cb rd = NULL, wr = NULL;
    bufferevent_event_cb ev = NULL;
    void *cbarg = NULL;
    bufferevent_getcb(f->bev, &rd, &wr, &ev, &cbarg);
    if (wr != NULL) {
        f->held_cb = wr;
        f->held_arg = cbarg;
        bufferevent_setcb(f->bev, rd, NULL, ev, cbarg);
    }
    f->draining = true;
    f->writing = true;
    bufferevent_flush(f->bev, EV_WRITE, BEV_FLUSH);
    f->writing = false;
}

static void on_socket_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct gw_framing *f = arg;
    if (info->n_deleted > 0 && evbuffer_get_length(buf) == 0 && f->draining)
        event_active(f->written, EV_TIMEOUT, 0);
}

static void written(evutil_socket_t fd, short what, void *arg)
{
    struct gw_framing *f = arg;
    (void)fd;
    (void)what;
    f->draining = false;
    if (f->refused != 0 && !f->lingering) {
        /* The answer is on the socket: end our side, drop what still comes, close later
         * (or when the client closes, which evhttp sees). */
        f->lingering = true;
        evutil_socket_t s = bufferevent_getfd(f->bev);
        if (s >= 0)
            shutdown(s, SHUT_WR);
        struct timeval tv = {LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
        evtimer_add(f->written, &tv);
        return;
    }
    bufferevent_data_cb rd = NULL, wr = NULL;
    bufferevent_event_cb ev = NULL;
    void *cbarg = NULL;
    bufferevent_getcb(f->bev, &rd, &wr, &ev, &cbarg);
    bufferevent_data_cb held = f->held_cb;
    f->held_cb = NULL;
    /* evhttp may have moved on (closed, or set its callbacks anew): then nothing is owed. */
    if (held == NULL || wr != NULL || cbarg != f->held_arg)
        return;
    bufferevent_setcb(f->bev, rd, held, ev, cbarg);
    if (evbuffer_get_length(bufferevent_get_output(f->bev)) == 0)
        held(f->bev, cbarg);
}

struct bufferevent *gw_framing_wrap(struct event_base *base, struct bufferevent *under,
                                    struct gw_framing *f)
{
    f->state = GW_FRAMING_HEAD;
    f->refused = 0;
    f->lingering = false;
    f->write_out = event_new(base, -1, 0, write_out, f);
    f->written = event_new(base, -1, 0, written, f);
    if (f->write_out == NULL || f->written == NULL) {
        gw_framing_release(f);
        return NULL;
    }
    /* The socket reads no more than one head ahead of the filter: a client pipelining while
     * its request is handled fills its own socket buffer, not our memory. */
    bufferevent_setwatermark(under, EV_READ, 0, f->ops->head_max + 1);
    f->bev = bufferevent_filter_new(under, filter_in, filter_out, BEV_OPT_CLOSE_ON_FREE, NULL, f);
    if (f->bev == NULL ||
        evbuffer_add_cb(bufferevent_get_output(f->bev), on_output_added, f) == NULL ||
        evbuffer_add_cb(bufferevent_get_output(under), on_socket_output, f) == NULL) {
        if (f->bev != NULL)
            bufferevent_free(f->bev);
        gw_framing_release(f);
        return NULL;
    }
    return f->bev;
}

void gw_framing_release(struct gw_framing *f)
{
    if (f->write_out != NULL)
        event_free(f->write_out);
    if (f->written != NULL)
        event_free(f->written);
    f->write_out = f->written = NULL;
    if (f->why != &unknown)
        free(f->why);
    f->why = NULL;
}

void gw_framing_next(struct gw_framing *f, struct bufferevent *bev)
{
    if (f->state != GW_FRAMING_ANSWER)
        return;
    f->state = GW_FRAMING_HEAD;
    /* Bytes that arrived meanwhile are already in the socket's buffer: read them now. */
    bufferevent_flush(bev, EV_READ, BEV_NORMAL);
}
