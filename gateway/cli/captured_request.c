/* captured_request.c — reads one captured HTTP/1.x request strictly: every index is checked
 * against the buffer's length, every part against its own bound. */
#include "gateway/cli/captured_request.h"
#include "verifiers/http_head.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 4, 5))) static int fail(struct gw_captured_error *err, unsigned line,
                                                      size_t offset, const char *fmt, ...)
{
    if (err != NULL) {
        err->line = line;
        err->offset = offset;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->what, sizeof err->what, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Decides the body once the head is read: all that follows, or Content-Length bytes. */
static int take_body(const unsigned char *buf, size_t len, size_t pos,
                     struct gw_captured_request *r, struct gw_captured_error *err)
{
    size_t rest = len - pos;
    if (gw_headers_count(&r->headers, "Transfer-Encoding") > 0)
        return fail(err, 0, pos,
                    "Transfer-Encoding is not read in a captured request: save the decoded "
                    "body with a Content-Length, or without one");
    enum gw_http_body_kind kind;
    uint64_t cl = 0;
    struct gw_http_head_error ferr;
    r->body = buf + pos;
    r->body_len = rest;
    if (gw_http_body_framing(&r->headers, &kind, &cl, &ferr) != 0)
        return fail(err, 0, pos, "%s", ferr.what);
    if (kind == GW_HTTP_BODY_NONE)
        return 0;
    if (cl > rest)
        return fail(err, 0, pos,
                    "Content-Length says %llu bytes but only %zu follow the headers: the "
                    "capture is cut short",
                    (unsigned long long)cl, rest);
    size_t extra = rest - (size_t)cl;
    const unsigned char *tail = buf + pos + cl;
    bool line_ending =
        (extra == 1 && tail[0] == '\n') || (extra == 2 && tail[0] == '\r' && tail[1] == '\n');
    if (extra > 0 && !line_ending)
        return fail(err, 0, pos + (size_t)cl,
                    "%zu bytes follow the %llu bytes Content-Length announces; one request "
                    "per file",
                    extra, (unsigned long long)cl);
    r->body_len = (size_t)cl;
    r->content_length = true;
    r->trailing = extra;
    return 0;
}

int gw_captured_request_parse(const unsigned char *buf, size_t len, struct gw_captured_request *r,
                              struct gw_captured_error *err)
{
    memset(r, 0, offsetof(struct gw_captured_request, storage));
    r->storage[0] = '\0';
    r->headers.items = r->items;
    if (err != NULL)
        memset(err, 0, sizeof *err);
    if (buf == NULL || len == 0)
        return fail(err, 0, 0, "the request is empty");
    struct gw_http_head h = {.crlf_only = false,
                             .head_max = GW_CAPTURED_HEAD_MAX,
                             .items = r->items,
                             .items_max = GW_CAPTURED_HEADERS_MAX,
                             .storage = r->storage,
                             .storage_len = sizeof r->storage};
    struct gw_http_head_error herr;
    /* Nothing more will come: a head still waiting for its blank line is refused. */
    if (gw_http_head_parse(buf, len, &h, &herr) != 0)
        return fail(err, herr.line, herr.offset, "%s", herr.what);
    r->method = h.method;
    r->target = h.target;
    r->version = h.version;
    r->headers = h.headers;
    r->crlf = h.crlf;
    r->head_len = h.head_len;
    return take_body(buf, len, h.head_len, r, err);
}

int gw_captured_read_file(const char *path, size_t max, unsigned char **out, size_t *out_len,
                          char *err, size_t err_len)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    *out = NULL;
    *out_len = 0;
    if (fd < 0) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (!is_stdin && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        snprintf(err, err_len, "%s is not a regular file", path);
        close(fd);
        return -1;
    }
    /* Grow as needed up to MAX + 1 bytes, so that one byte too many is seen. */
    size_t cap = 64 * 1024, used = 0;
    unsigned char *buf = malloc(cap + 1);
    int rc = -1;
    if (buf == NULL) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    for (;;) {
        if (used == cap) {
            if (cap > max) {
                snprintf(err, err_len, "%s is larger than %zu bytes", path, max);
                goto done;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            unsigned char *nbuf = realloc(buf, ncap + 1);
            if (nbuf == NULL) {
                snprintf(err, err_len, "out of memory");
                goto done;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    if (used > max) {
        snprintf(err, err_len, "%s is larger than %zu bytes", path, max);
        goto done;
    }
    buf[used] = '\0';
    *out = buf;
    *out_len = used;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    if (!is_stdin)
        close(fd);
    return rc;
}
