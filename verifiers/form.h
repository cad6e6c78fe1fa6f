/* form.h — strict, bounded readers of the two encodings form posts use:
 * application/x-www-form-urlencoded and multipart/form-data (RFC 7578). Only the fields a
 * caller asks for are copied out; the whole body is validated on the way. */
#ifndef CTGW_FORM_H
#define CTGW_FORM_H

#include <stdbool.h>
#include <stddef.h>

#define GW_FORM_FIELDS_MAX       1024 /* fields (pairs or parts) in one body */
#define GW_FORM_NAME_MAX         256  /* bytes of a field name, encoded */
#define GW_FORM_BOUNDARY_MAX     70   /* RFC 2046 */
#define GW_FORM_CONTENT_TYPE_MAX 1024 /* bytes of a Content-Type value */
#define GW_FORM_PART_HEADERS_MAX 16   /* header lines of one multipart part */
#define GW_FORM_PART_LINE_MAX    1024 /* bytes of one such line */

enum gw_form_kind {
    GW_FORM_URLENCODED = 1, /* application/x-www-form-urlencoded */
    GW_FORM_MULTIPART,      /* multipart/form-data */
};

/* A Content-Type that names a form. */
struct gw_form_type {
    enum gw_form_kind kind;
    char boundary[GW_FORM_BOUNDARY_MAX + 1]; /* multipart only, unquoted, NUL-terminated */
    size_t boundary_len;
};

/* Parses a Content-Type value: the media type (any case) "application/x-www-form-urlencoded"
 * or "multipart/form-data", then parameters "; name=token" or "; name=\"quoted\"" (no
 * backslash escapes), spaces or tabs allowed around ';' only. multipart/form-data needs
 * exactly one boundary of 1..70 RFC 2046 characters, not ending in a space; other parameters
 * (charset) are checked for form and otherwise ignored. Returns false when VALUE is NULL,
 * longer than GW_FORM_CONTENT_TYPE_MAX, another type, or not of that form. */
bool gw_form_content_type(const char *value, struct gw_form_type *out);

/* One field a caller wants. The first occurrence is copied into VALUE, NUL-terminated (a
 * value may itself hold NUL bytes: use LEN); later ones are only counted. */
struct gw_form_field {
    const char *name; /* in: the field name, compared exactly after decoding */
    char *value;      /* in: where to copy the value */
    size_t cap;       /* in: bytes VALUE can hold, NUL included (0: count only) */
    size_t len;       /* out: bytes copied (0 when absent or too long) */
    size_t count;     /* out: occurrences in the body */
    bool too_long;    /* out: the first occurrence did not fit in CAP - 1 bytes */
};

/* Why a body was refused: the byte offset where reading stopped and a static sentence. */
struct gw_form_error {
    size_t offset;
    const char *what;
};

/* Decodes application/x-www-form-urlencoded text: '+' is a space, "%XX" (either case) a
 * byte; every other byte must be printable ASCII and is kept. Returns false — *OUT_LEN 0 —
 * when a '%' is not followed by two hex digits, a byte is outside printable ASCII, or the
 * result does not fit in OUT_CAP bytes (no NUL is written). */
bool gw_form_decode(const char *in, size_t in_len, char *out, size_t out_cap, size_t *out_len);

/* Reads an x-www-form-urlencoded BODY: pairs separated by '&' (empty pairs skipped, as the
 * WHATWG parser does), "name=value" or "name" alone (an empty value), both decoded as
 * gw_form_decode says; names at most GW_FORM_NAME_MAX bytes encoded, at most
 * GW_FORM_FIELDS_MAX pairs. Resets then fills FIELDS. Returns false, with ERR set when given,
 * when any pair is not of that form — wanted or not. */
bool gw_form_urlencoded_read(const unsigned char *body, size_t body_len,
                             struct gw_form_field *fields, size_t n_fields,
                             struct gw_form_error *err);

/* Reads a multipart/form-data BODY delimited by BOUNDARY: an optional preamble, then parts
 * each introduced by CRLF "--" BOUNDARY CRLF (the first may start the body without the
 * CRLF), closed by "--" BOUNDARY "--" and an optional epilogue. No padding after a boundary;
 * each part has 1..GW_FORM_PART_HEADERS_MAX header lines "Name: value" of at most
 * GW_FORM_PART_LINE_MAX bytes (no folding), exactly one of them
 * "Content-Disposition: form-data; name=..." (other parameters such as filename ignored), and
 * its content is taken as is, up to the next delimiter. At most GW_FORM_FIELDS_MAX parts.
 * Resets then fills FIELDS. Returns false, with ERR set when given, on anything else. */
bool gw_form_multipart_read(const unsigned char *body, size_t body_len, const char *boundary,
                            size_t boundary_len, struct gw_form_field *fields, size_t n_fields,
                            struct gw_form_error *err);

/* One of the two above, as TYPE says. */
bool gw_form_read(const struct gw_form_type *type, const unsigned char *body, size_t body_len,
                  struct gw_form_field *fields, size_t n_fields, struct gw_form_error *err);

#endif
