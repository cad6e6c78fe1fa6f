/* http_head.c — reads an HTTP/1.x request head strictly: every index is checked against the
 * buffer's length, every part against its own bound. */
#include "verifiers/http_head.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

__attribute__((format(printf, 4, 5))) static int fail(struct gw_http_head_error *err, unsigned line,
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

/* The head is well formed so far; ERR says what is missing, for a reader with nothing more to
 * come. */
static int incomplete(struct gw_http_head_error *err, unsigned line, size_t offset)
{
    fail(err, line, offset, "the head ends without a blank line after the headers");
    return 1;
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

/* Copies N bytes into the storage arena, NUL-terminated. NULL when it does not fit. */
static const char *keep(struct gw_http_head *h, size_t *used, const unsigned char *p, size_t n)
{
    if (*used > h->storage_len || n >= h->storage_len - *used)
        return NULL;
    char *dst = h->storage + *used;
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

/* Finds the line at POS (< LEN). Returns 1 when its ending has not arrived yet; refuses a line
 * longer than the bound, with an ending that differs from the request line's (or is not CRLF
 * when crlf_only), or with a CR or NUL inside. */
static int next_line(const unsigned char *buf, size_t len, size_t pos, unsigned lineno,
                     struct gw_http_head *h, struct line *out, struct gw_http_head_error *err)
{
    /* Look no further than the longest line and its CRLF, and never past the buffer. */
    size_t limit = len - pos;
    if (limit > GW_HTTP_LINE_MAX + 2)
        limit = GW_HTTP_LINE_MAX + 2;
    const unsigned char *nl = memchr(buf + pos, '\n', limit);
    size_t end = nl != NULL ? (size_t)(nl - buf) : pos + limit; /* the LF, or the end seen */
    /* A CR or NUL inside the line is refused as soon as it is seen; a CR is only allowed
     * right before the LF. */
    for (size_t i = pos; i < end; i++) {
        unsigned char c = buf[i];
        bool before_lf = nl != NULL && i + 1 == end;
        bool last_seen = nl == NULL && i + 1 == len;
        if (c == '\0' || (c == '\r' && !before_lf && !last_seen))
            return fail(err, lineno, i, "a %s inside the line", c == '\r' ? "CR" : "NUL");
    }
    if (nl == NULL) {
        if (limit == len - pos)
            return incomplete(err, lineno, len);
        return fail(err, lineno, pos, "line longer than %d bytes", GW_HTTP_LINE_MAX);
    }
    bool cr = end > pos && buf[end - 1] == '\r';
    if (h->crlf_only && !cr)
        return fail(err, lineno, end, "a line ends with LF alone, not CRLF");
    if (lineno == 1)
        h->crlf = cr;
    else if (cr != h->crlf)
        return fail(err, lineno, end,
                    "this line ends with %s but the request line with %s; a file edited by "
                    "hand may have mixed them",
                    cr ? "CRLF" : "LF alone", h->crlf ? "CRLF" : "LF alone");
    size_t content_len = end - pos - (cr ? 1 : 0);
    if (content_len > GW_HTTP_LINE_MAX)
        return fail(err, lineno, pos, "line longer than %d bytes", GW_HTTP_LINE_MAX);
    out->start = pos;
    out->len = content_len;
    out->next = end + 1;
    return 0;
}

static int parse_request_line(const unsigned char *p, size_t n, struct gw_http_head *h,
                              size_t *used, size_t offset, struct gw_http_head_error *err)
{
    size_t i = 0;
    if (n == 0)
        return fail(err, 1, offset, "the request starts with a blank line, not a request line");
    while (i < n && is_tchar(p[i]))
        i++;
    if (i == 0 || i > GW_HTTP_METHOD_MAX || i >= n || p[i] != ' ')
        return fail(err, 1, offset + i,
                    "the request line must be METHOD TARGET HTTP/1.1 (method: 1..%d token "
                    "characters, then one space)",
                    GW_HTTP_METHOD_MAX);
    size_t method_len = i++;
    size_t target_start = i;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f)
        i++;
    size_t target_len = i - target_start;
    if (target_len == 0 || target_len > GW_HTTP_TARGET_MAX || i >= n || p[i] != ' ')
        return fail(err, 1, offset + i,
                    "the request target must be 1..%d visible ASCII characters, then one space",
                    GW_HTTP_TARGET_MAX);
    i++;
    size_t version_len = n - i;
    if (!(version_len == 8 &&
          (memcmp(p + i, "HTTP/1.1", 8) == 0 || memcmp(p + i, "HTTP/1.0", 8) == 0)))
        return fail(err, 1, offset + i, "the request line must end with HTTP/1.1 or HTTP/1.0");
    h->method = keep(h, used, p, method_len);
    h->target = keep(h, used, p + target_start, target_len);
    h->version = keep(h, used, p + i, version_len);
    if (h->method == NULL || h->target == NULL || h->version == NULL)
        return fail(err, 1, offset, "the head is too large");
    return 0;
}

static int parse_header_line(const unsigned char *p, size_t n, unsigned lineno, size_t offset,
                             struct gw_http_head *h, size_t *used, struct gw_http_head_error *err)
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
    if (i == 0 || i > GW_HTTP_NAME_MAX)
        return fail(err, lineno, offset, "a header name must be 1..%d bytes", GW_HTTP_NAME_MAX);
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
    if (h->headers.n >= h->items_max)
        return fail(err, lineno, offset, "more than %zu headers", h->items_max);
    const char *name = keep(h, used, p, name_len);
    const char *value = keep(h, used, p + vstart, vend - vstart);
    if (name == NULL || value == NULL)
        return fail(err, lineno, offset, "the head is too large");
    h->items[h->headers.n++] = (struct gw_header){.name = name, .value = value};
    return 0;
}

int gw_http_head_parse(const unsigned char *buf, size_t len, struct gw_http_head *h,
                       struct gw_http_head_error *err)
{
    h->method = h->target = h->version = NULL;
    h->headers = (struct gw_headers){h->items, 0};
    h->head_len = 0;
    h->crlf = false;
    if (err != NULL)
        memset(err, 0, sizeof *err);
    if (buf == NULL || len == 0)
        return incomplete(err, 1, 0);
    size_t pos = 0, used = 0;
    unsigned lineno = 1;
    struct line ln;
    int rc = next_line(buf, len, pos, lineno, h, &ln, err);
    if (rc == 0)
        rc = parse_request_line(buf + ln.start, ln.len, h, &used, ln.start, err);
    while (rc == 0) {
        pos = ln.next;
        lineno++;
        if (pos >= h->head_max)
            return fail(err, lineno, pos, "the head is longer than %zu bytes", h->head_max);
        if (pos >= len) {
            rc = incomplete(err, lineno, pos);
            break;
        }
        rc = next_line(buf, len, pos, lineno, h, &ln, err);
        if (rc != 0)
            break;
        if (ln.next > h->head_max)
            return fail(err, lineno, pos, "the head is longer than %zu bytes", h->head_max);
        if (ln.len == 0) {
            h->head_len = ln.next;
            return 0;
        }
        rc = parse_header_line(buf + ln.start, ln.len, lineno, ln.start, h, &used, err);
    }
    if (rc == 1 && len >= h->head_max)
        return fail(err, lineno, len, "the head is longer than %zu bytes", h->head_max);
    return rc;
}

int gw_http_body_framing(const struct gw_headers *hs, enum gw_http_body_kind *kind, uint64_t *len,
                         struct gw_http_head_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
    size_t n_te = gw_headers_count(hs, "Transfer-Encoding");
    size_t n_cl = gw_headers_count(hs, "Content-Length");
    *kind = GW_HTTP_BODY_NONE;
    *len = 0;
    if (n_te > 0 && n_cl > 0)
        return fail(err, 0, 0, "Content-Length and Transfer-Encoding together");
    if (n_te > 1)
        return fail(err, 0, 0, "Transfer-Encoding appears %zu times", n_te);
    if (n_te == 1) {
        if (strcasecmp(gw_headers_get(hs, "Transfer-Encoding"), "chunked") != 0)
            return fail(err, 0, 0, "a Transfer-Encoding other than chunked");
        *kind = GW_HTTP_BODY_CHUNKED;
        return 0;
    }
    if (n_cl == 0)
        return 0;
    if (n_cl > 1)
        return fail(err, 0, 0, "Content-Length appears %zu times", n_cl);
    const char *v = gw_headers_get(hs, "Content-Length");
    size_t digits = strlen(v);
    if (digits == 0 || digits > 19 || strspn(v, "0123456789") != digits)
        return fail(err, 0, 0, "Content-Length must be 1..19 decimal digits");
    uint64_t cl = 0;
    for (size_t i = 0; i < digits; i++)
        cl = cl * 10 + (uint64_t)(v[i] - '0'); /* 19 digits cannot overflow 64 bits */
    *kind = GW_HTTP_BODY_LENGTH;
    *len = cl;
    return 0;
}
