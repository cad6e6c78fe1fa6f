/* http_head.h — the strict reading of an HTTP/1.x request head and of its body framing, shared
 * by the listener (gateway/http/framing.c, on the raw bytes before evhttp parses them) and by
 * the reader of captured requests (gateway/cli/captured_request.c), so that both refuse the
 * same heads for the same reasons. Here because verifiers/ is the one layer both may use and
 * holds the header list they share. */
#ifndef CTGW_HTTP_HEAD_H
#define CTGW_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verifiers/verifier.h"

#define GW_HTTP_LINE_MAX   8192 /* one line, without its line ending */
#define GW_HTTP_NAME_MAX   128  /* bytes of a header name */
#define GW_HTTP_METHOD_MAX 16   /* bytes of the method */
#define GW_HTTP_TARGET_MAX 4096 /* bytes of the request target */

/* Where the parts of a head go: the caller's arrays, which must outlive the names and values
 * pointing into STORAGE. */
struct gw_http_head {
    bool crlf_only;          /* in: every line must end in CRLF (else the request line decides) */
    size_t head_max;         /* in: bytes of the whole head, blank line included */
    struct gw_header *items; /* in: room for ITEMS_MAX headers */
    size_t items_max;
    char *storage; /* in: NUL-terminated copies of the head's parts */
    size_t storage_len;
    const char *method, *target, *version; /* out */
    struct gw_headers headers;             /* out: {items, n}, in order */
    size_t head_len;                       /* out: bytes of the head, blank line included */
    bool crlf;                             /* out: lines end in CRLF (else LF alone) */
};

/* Where and why a head was refused: a 1-based line (0: not about one line), the byte offset
 * in the buffer, and a sentence. */
struct gw_http_head_error {
    unsigned line;
    size_t offset;
    char what[160];
};

/* Reads the head at BUF[0..LEN). The rules:
 *   - every line ends the way the request line ends (CRLF only when crlf_only): CRLF, or LF
 *     alone; a CR or NUL inside a line is refused, and other controls in values (HTAB
 *     allowed);
 *   - request line: METHOD (1..GW_HTTP_METHOD_MAX token characters), one space, the target
 *     (1..GW_HTTP_TARGET_MAX visible ASCII bytes), one space, HTTP/1.1 or HTTP/1.0;
 *   - headers: "Name: value", the name 1..GW_HTTP_NAME_MAX token characters right before the
 *     colon, spaces and tabs around the value dropped; no folded lines (obs-fold); at most
 *     items_max; each line at most GW_HTTP_LINE_MAX bytes, the head at most head_max.
 * Never reads outside BUF[0..LEN). Returns 0 when the head is complete and well formed, 1
 * when it is well formed so far but its blank line has not arrived (and could still within
 * head_max), -1 with ERR (may be NULL) filled when it is refused. */
int gw_http_head_parse(const unsigned char *buf, size_t len, struct gw_http_head *h,
                       struct gw_http_head_error *err);

/* How a request's body is delimited. */
enum gw_http_body_kind {
    GW_HTTP_BODY_NONE,    /* neither Content-Length nor Transfer-Encoding */
    GW_HTTP_BODY_LENGTH,  /* one Content-Length */
    GW_HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked alone */
};

/* Decides the framing from the headers, refusing what two parsers could read differently: a
 * Content-Length together with a Transfer-Encoding, a repeated Content-Length (even with
 * equal values), one that is not 1..19 decimal digits, a repeated Transfer-Encoding, or one
 * that is not exactly "chunked" (case-insensitive). Returns 0 with KIND and, for LENGTH, *LEN
 * set; -1 with ERR's sentence filled. */
int gw_http_body_framing(const struct gw_headers *hs, enum gw_http_body_kind *kind, uint64_t *len,
                         struct gw_http_head_error *err);

#endif
