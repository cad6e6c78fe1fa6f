/* captured_request.h — a strict, bounded reader of one captured HTTP/1.x request (request
 * line, headers, blank line, body) as saved by an operator, for `ctgw verify --request`. */
#ifndef CTGW_CAPTURED_REQUEST_H
#define CTGW_CAPTURED_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verifiers/verifier.h"

#define GW_CAPTURED_HEAD_MAX    (64 * 1024) /* request line, headers and the blank line */
#define GW_CAPTURED_LINE_MAX    8192        /* one line, without its line ending */
#define GW_CAPTURED_HEADERS_MAX 100
#define GW_CAPTURED_NAME_MAX    128  /* bytes of a header name */
#define GW_CAPTURED_METHOD_MAX  16   /* bytes of the method */
#define GW_CAPTURED_TARGET_MAX  4096 /* bytes of the request target */
/* A captured file is refused past this: the largest endpoint max_body plus the head. */
#define GW_CAPTURED_FILE_MAX ((size_t)64 * 1024 * 1024 + GW_CAPTURED_HEAD_MAX)

/* A parsed request. Large (the head is copied into STORAGE): allocate it, do not put it on a
 * small stack. Names and values point into STORAGE; BODY points into the caller's buffer,
 * which must outlive it. */
struct gw_captured_request {
    const char *method;  /* "POST" */
    const char *target;  /* "/hooks/slack" */
    const char *version; /* "HTTP/1.1" or "HTTP/1.0" */
    struct gw_header items[GW_CAPTURED_HEADERS_MAX];
    struct gw_headers headers; /* {items, n}, in order, for verifiers */
    const unsigned char *body;
    size_t body_len;
    size_t head_len;     /* bytes of the head, blank line included */
    bool crlf;           /* lines end in CRLF (else LF alone) */
    bool content_length; /* a Content-Length header gave the body's length */
    size_t trailing;     /* bytes after that body, ignored: an editor's final line ending */
    char storage[GW_CAPTURED_HEAD_MAX]; /* NUL-terminated copies of the head's parts */
};

/* Where and why a request was refused: a 1-based line (0: not about one line), the byte
 * offset in the buffer, and a sentence. */
struct gw_captured_error {
    unsigned line;
    size_t offset;
    char what[160];
};

/* Parses the LEN bytes at BUF into OUT. The rules, stricter than a server's because a file
 * that is not exactly what was received would verify something else:
 *   - every line of the head ends the way the request line ends: CRLF, or LF alone; a CR or
 *     NUL or other control character inside a line is refused (HTAB only in values);
 *   - request line: METHOD (1..GW_CAPTURED_METHOD_MAX token characters), one space, the
 *     target (1..GW_CAPTURED_TARGET_MAX visible ASCII bytes), one space, HTTP/1.1 or
 *     HTTP/1.0; no blank lines before it;
 *   - headers: "Name: value", the name 1..GW_CAPTURED_NAME_MAX token characters right
 *     before the colon, spaces and tabs around the value dropped; no folded lines; at most
 *     GW_CAPTURED_HEADERS_MAX; each line at most GW_CAPTURED_LINE_MAX bytes, the whole head
 *     at most GW_CAPTURED_HEAD_MAX, and it must end with a blank line;
 *   - body: everything after the blank line; with one Content-Length (1..19 digits) that
 *     many bytes, which must all be there, and after them nothing but one line ending (which
 *     editors add and is then not part of the body); a repeated Content-Length or any
 *     Transfer-Encoding is refused.
 * Never reads outside BUF[0..LEN). Returns 0, or -1 with ERR (which may be NULL) filled. */
int gw_captured_request_parse(const unsigned char *buf, size_t len, struct gw_captured_request *out,
                              struct gw_captured_error *err);

/* Reads the whole regular file PATH ("-": standard input) into a fresh buffer (free it) of
 * at most MAX bytes, NUL-terminated one past *LEN for convenience. Returns 0, or -1 with a
 * sentence in ERR. */
int gw_captured_read_file(const char *path, size_t max, unsigned char **buf, size_t *len, char *err,
                          size_t err_len);

#endif
