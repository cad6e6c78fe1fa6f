/* captured_request.c — reads one captured HTTP/1.x request strictly: every index is checked
 * against the buffer's length, every part against its own bound. */
#include "gateway/cli/captured_request.h"

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

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field-value byte: visible ASCII, space, tab, or obs-text (RFC 9110 5.5). */
static bool is_value_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Copies N bytes into the storage arena, NUL-terminated. NULL when it does not fit, which
 * the head's bound makes impossible, but it is checked rather than argued. */
static const char *keep(struct gw_captured_request *r, size_t *used, const unsigned char *p,
                        size_t n)
{
    if (n >= sizeof r->storage - *used)
        return NULL;
    char *dst = r->storage + *used;
    memcpy(dst, p, n);
    dst[n] = '\0';
    *used += n + 1;
    return dst;
}

/* One line of the head: [start, start+len) without its ending; NEXT is where the following
 * line starts. */
struct line {
    size_t start, len, next;
};

/* Finds the line at POS. Refuses a line without an ending, longer than the bound, with an
 * ending that differs from the request line's, or with a CR or NUL inside. */
static int next_line(const unsigned char *buf, size_t len, size_t pos, unsigned lineno,
                     struct gw_captured_request *r, struct line *out, struct gw_captured_error *err)
{
    /* Look no further than the longest line and its CRLF, and never past the buffer. */
    size_t limit = len - pos;
    if (limit > GW_CAPTURED_LINE_MAX + 2)
        limit = GW_CAPTURED_LINE_MAX + 2;
    const unsigned char *nl = memchr(buf + pos, '\n', limit);
    if (nl == NULL) {
        if (limit == len - pos)
            return fail(err, lineno, len, "the head ends without a blank line after the headers");
        return fail(err, lineno, pos, "line longer than %d bytes", GW_CAPTURED_LINE_MAX);
    }
    size_t end = (size_t)(nl - buf); /* index of the LF */
    bool cr = end > pos && buf[end - 1] == '\r';
    if (lineno == 1)
        r->crlf = cr;
    else if (cr != r->crlf)
        return fail(err, lineno, end,
                    "this line ends with %s but the request line with %s; a file edited by "
                    "hand may have mixed them",
                    cr ? "CRLF" : "LF alone", r->crlf ? "CRLF" : "LF alone");
    size_t content_len = end - pos - (cr ? 1 : 0);
    if (content_len > GW_CAPTURED_LINE_MAX)
        return fail(err, lineno, pos, "line longer than %d bytes", GW_CAPTURED_LINE_MAX);
    for (size_t i = 0; i < content_len; i++) {
        unsigned char c = buf[pos + i];
        if (c == '\r' || c == '\0')
            return fail(err, lineno, pos + i, "a %s inside the line", c == '\r' ? "CR" : "NUL");
    }
    out->start = pos;
    out->len = content_len;
    out->next = end + 1;
    return 0;
}

static int parse_request_line(const unsigned char *p, size_t n, struct gw_captured_request *r,
                              size_t *used, size_t offset, struct gw_captured_error *err)
{
    size_t i = 0;
    if (n == 0)
        return fail(err, 1, offset, "the file starts with a blank line, not a request line");
    while (i < n && is_tchar(p[i]))
        i++;
    if (i == 0 || i > GW_CAPTURED_METHOD_MAX || i >= n || p[i] != ' ')
        return fail(err, 1, offset + i,
                    "the request line must be METHOD TARGET HTTP/1.1 (method: 1..%d token "
                    "characters, then one space)",
                    GW_CAPTURED_METHOD_MAX);
    size_t method_len = i++;
    size_t target_start = i;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f)
        i++;
    size_t target_len = i - target_start;
    if (target_len == 0 || target_len > GW_CAPTURED_TARGET_MAX || i >= n || p[i] != ' ')
        return fail(err, 1, offset + i,
                    "the request target must be 1..%d visible ASCII characters, then one space",
                    GW_CAPTURED_TARGET_MAX);
    i++;
    size_t version_len = n - i;
    if (!(version_len == 8 &&
          (memcmp(p + i, "HTTP/1.1", 8) == 0 || memcmp(p + i, "HTTP/1.0", 8) == 0)))
        return fail(err, 1, offset + i, "the request line must end with HTTP/1.1 or HTTP/1.0");
    r->method = keep(r, used, p, method_len);
    r->target = keep(r, used, p + target_start, target_len);
    r->version = keep(r, used, p + i, version_len);
    if (r->method == NULL || r->target == NULL || r->version == NULL)
        return fail(err, 1, offset, "the head is too large");
    return 0;
}

static int parse_header_line(const unsigned char *p, size_t n, unsigned lineno, size_t offset,
                             struct gw_captured_request *r, size_t *used,
                             struct gw_captured_error *err)
{
    if (p[0] == ' ' || p[0] == '\t')
        return fail(err, lineno, offset,
                    "a line starting with a space or tab (a folded header) is not accepted");
    size_t i = 0;
    while (i < n && is_tchar(p[i]))
        i++;
    if (i >= n || p[i] != ':')
        return fail(err, lineno, offset + i,
                    "a header line must be Name: value, the name made of token characters "
                    "and followed directly by ':'");
    if (i == 0 || i > GW_CAPTURED_NAME_MAX)
        return fail(err, lineno, offset, "a header name must be 1..%d bytes", GW_CAPTURED_NAME_MAX);
    size_t name_len = i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    size_t vstart = i, vend = n;
    while (vend > vstart && (p[vend - 1] == ' ' || p[vend - 1] == '\t'))
        vend--;
    for (size_t k = vstart; k < vend; k++)
        if (!is_value_byte(p[k]))
            return fail(err, lineno, offset + k, "control character 0x%02x in a header value",
                        p[k]);
    if (r->headers.n >= GW_CAPTURED_HEADERS_MAX)
        return fail(err, lineno, offset, "more than %d headers", GW_CAPTURED_HEADERS_MAX);
    const char *name = keep(r, used, p, name_len);
    const char *value = keep(r, used, p + vstart, vend - vstart);
    if (name == NULL || value == NULL)
        return fail(err, lineno, offset, "the head is too large");
    r->items[r->headers.n++] = (struct gw_header){.name = name, .value = value};
    return 0;
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
    size_t n_cl = gw_headers_count(&r->headers, "Content-Length");
    r->body = buf + pos;
    r->body_len = rest;
    if (n_cl == 0)
        return 0;
    if (n_cl > 1)
        return fail(err, 0, pos, "Content-Length appears %zu times", n_cl);
    const char *v = gw_headers_get(&r->headers, "Content-Length");
    size_t digits = strlen(v);
    uint64_t cl = 0;
    if (digits == 0 || digits > 19 || strspn(v, "0123456789") != digits)
        return fail(err, 0, pos, "Content-Length must be 1..19 decimal digits");
    for (size_t i = 0; i < digits; i++)
        cl = cl * 10 + (uint64_t)(v[i] - '0'); /* 19 digits cannot overflow 64 bits */
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

    size_t pos = 0, used = 0;
    unsigned lineno = 1;
    struct line ln;
    if (next_line(buf, len, pos, lineno, r, &ln, err) != 0)
        return -1;
    if (parse_request_line(buf + ln.start, ln.len, r, &used, ln.start, err) != 0)
        return -1;
    pos = ln.next;
    for (;;) {
        lineno++;
        if (pos >= len)
            return fail(err, lineno, pos, "the head ends without a blank line after the headers");
        if (next_line(buf, len, pos, lineno, r, &ln, err) != 0)
            return -1;
        if (ln.next > GW_CAPTURED_HEAD_MAX)
            return fail(err, lineno, pos, "the head is longer than %d bytes", GW_CAPTURED_HEAD_MAX);
        pos = ln.next;
        if (ln.len == 0)
            break;
        if (parse_header_line(buf + ln.start, ln.len, lineno, ln.start, r, &used, err) != 0)
            return -1;
    }
    r->head_len = pos;
    return take_body(buf, len, pos, r, err);
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
