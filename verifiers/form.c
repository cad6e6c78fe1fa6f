/* form.c — strict, bounded readers of x-www-form-urlencoded and multipart/form-data bodies:
 * every length is checked against the buffer before it is read, and nothing is guessed. */
#include "verifiers/form.h"

#include <stdint.h>
#include <string.h> /* memmem: a GNU extension, the build defines _GNU_SOURCE */
#include <strings.h>

#define URLENCODED "application/x-www-form-urlencoded"
#define MULTIPART  "multipart/form-data"

static void set_error(struct gw_form_error *err, size_t offset, const char *what)
{
    if (err != NULL) {
        err->offset = offset;
        err->what = what;
    }
}

static void reset_fields(struct gw_form_field *fields, size_t n)
{
    for (size_t i = 0; fields != NULL && i < n; i++) {
        fields[i].len = 0;
        fields[i].count = 0;
        fields[i].too_long = false;
        if (fields[i].value != NULL && fields[i].cap > 0)
            fields[i].value[0] = '\0';
    }
}

/* RFC 9110 tchar: what header names, parameter names and tokens are made of. */
static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars, the space included (it may not end a boundary). */
static bool bchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes IN[0..N) into OUT when OUT_CAP allows (OUT may be NULL to validate only). Returns
 * 0 when valid and written, 1 when valid but longer than OUT_CAP (nothing useful in OUT), -1
 * when malformed at IN + *BAD_AT. */
static int decode_span(const unsigned char *in, size_t n, char *out, size_t out_cap,
                       size_t *out_len, size_t *bad_at)
{
    size_t o = 0;
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = in[i];
        if (c == '%') {
            if (n - i < 3 || hex_digit(in[i + 1]) < 0 || hex_digit(in[i + 2]) < 0) {
                *bad_at = i;
                return -1;
            }
            c = (unsigned char)(hex_digit(in[i + 1]) << 4 | hex_digit(in[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        } else if (c < 0x21 || c > 0x7e) {
            *bad_at = i;
            return -1;
        }
        if (fits && out != NULL && o < out_cap)
            out[o] = (char)c;
        else
            fits = false;
        o++;
    }
    if (!fits || out == NULL) {
        *out_len = 0;
        return out == NULL ? 0 : 1;
    }
    *out_len = o;
    return 0;
}

bool gw_form_decode(const char *in, size_t in_len, char *out, size_t out_cap, size_t *out_len)
{
    if (out_len == NULL)
        return false;
    *out_len = 0;
    if (in_len == 0)
        return true;
    if (in == NULL || out == NULL)
        return false;
    size_t bad_at = 0;
    size_t n = 0;
    if (decode_span((const unsigned char *)in, in_len, out, out_cap, &n, &bad_at) != 0)
        return false;
    *out_len = n;
    return true;
}

/* Stores the first occurrence of a wanted field whose value is VALUE[0..LEN) (already
 * decoded or raw, as the encoding says) and counts every one. */
static void take(struct gw_form_field *f, const unsigned char *value, size_t len)
{
    if (f->count++ > 0 || f->value == NULL || f->cap == 0)
        return;
    if (len > f->cap - 1) {
        f->too_long = true;
        return;
    }
    if (len > 0)
        memcpy(f->value, value, len);
    f->value[len] = '\0';
    f->len = len;
}

static bool name_is(const struct gw_form_field *f, const void *name, size_t len)
{
    return f->name != NULL && strlen(f->name) == len && memcmp(f->name, name, len) == 0;
}

bool gw_form_urlencoded_read(const unsigned char *body, size_t body_len,
                             struct gw_form_field *fields, size_t n_fields,
                             struct gw_form_error *err)
{
    reset_fields(fields, n_fields);
    if ((body == NULL && body_len > 0) || (fields == NULL && n_fields > 0)) {
        set_error(err, 0, "no body or no fields");
        return false;
    }
    size_t pairs = 0;
    size_t pos = 0;
    while (pos < body_len) {
        const unsigned char *amp = memchr(body + pos, '&', body_len - pos);
        size_t end = amp != NULL ? (size_t)(amp - body) : body_len;
        if (end == pos) { /* an empty pair, as in "a=1&&b=2": skipped */
            pos++;
            continue;
        }
        if (++pairs > GW_FORM_FIELDS_MAX) {
            set_error(err, pos, "more fields than allowed");
            return false;
        }
        const unsigned char *eq = memchr(body + pos, '=', end - pos);
        size_t name_end = eq != NULL ? (size_t)(eq - body) : end;
        size_t value_start = eq != NULL ? name_end + 1 : end;
        if (name_end == pos) {
            set_error(err, pos, "a field with an empty name");
            return false;
        }
        if (name_end - pos > GW_FORM_NAME_MAX) {
            set_error(err, pos, "a field name longer than allowed");
            return false;
        }
        char name[GW_FORM_NAME_MAX];
        size_t name_len = 0;
        size_t bad_at = 0;
        if (decode_span(body + pos, name_end - pos, name, sizeof name, &name_len, &bad_at) != 0) {
            set_error(err, pos + bad_at, "bad percent-encoding or byte in a field name");
            return false;
        }
        struct gw_form_field *wanted = NULL;
        for (size_t i = 0; i < n_fields && wanted == NULL; i++)
            if (name_is(&fields[i], name, name_len))
                wanted = &fields[i];
        /* The value is validated whether it is wanted or not; only a first wanted occurrence
         * that fits is decoded into the caller's buffer. */
        bool store =
            wanted != NULL && wanted->count == 0 && wanted->value != NULL && wanted->cap > 0;
        size_t value_len = 0;
        int r = decode_span(body + value_start, end - value_start, store ? wanted->value : NULL,
                            store ? wanted->cap - 1 : 0, &value_len, &bad_at);
        if (r < 0) {
            set_error(err, value_start + bad_at, "bad percent-encoding or byte in a value");
            return false;
        }
        if (wanted != NULL) {
            if (store && r == 0) {
                wanted->value[value_len] = '\0';
                wanted->len = value_len;
            } else if (store) {
                wanted->value[0] = '\0';
                wanted->too_long = true;
            }
            wanted->count++;
        }
        pos = end + 1;
    }
    return true;
}

/* Skips spaces and tabs. */
static size_t skip_ows(const unsigned char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* One parameter value at S[*I..LEN): a token, or a quoted string without backslashes or
 * control characters (bytes above 0x7e allowed when HIGH, for UTF-8 file names). Sets
 * [*START, *START + *N) to the value without its quotes and advances *I. */
static bool param_value(const unsigned char *s, size_t *i, size_t len, bool high, size_t *start,
                        size_t *n)
{
    size_t k = *i;
    if (k < len && s[k] == '"') {
        k++;
        *start = k;
        while (k < len && s[k] != '"') {
            unsigned char c = s[k];
            if (c == '\\' || c < 0x20 || c == 0x7f || (c > 0x7e && !high))
                return false;
            k++;
        }
        if (k == len)
            return false;
        *n = k - *start;
        *i = k + 1;
        return true;
    }
    *start = k;
    while (k < len && tchar(s[k]))
        k++;
    *n = k - *start;
    *i = k;
    return *n > 0;
}

/* The parameters after a media type or a disposition type, from S[I..LEN): each
 * OWS ";" OWS name "=" value. Calls WANT for each name; WANT returns false to refuse. */
typedef bool (*param_fn)(void *ud, const unsigned char *name, size_t name_len,
                         const unsigned char *value, size_t value_len);

static bool parse_params(const unsigned char *s, size_t i, size_t len, bool high, param_fn fn,
                         void *ud)
{
    for (;;) {
        i = skip_ows(s, i, len);
        if (i == len)
            return true;
        if (s[i] != ';')
            return false;
        i = skip_ows(s, i + 1, len);
        size_t name_start = i;
        while (i < len && tchar(s[i]))
            i++;
        size_t name_len = i - name_start;
        if (name_len == 0 || i == len || s[i] != '=')
            return false;
        i++;
        size_t value_start = 0;
        size_t value_len = 0;
        if (!param_value(s, &i, len, high, &value_start, &value_len))
            return false;
        if (!fn(ud, s + name_start, name_len, s + value_start, value_len))
            return false;
    }
}

static bool ascii_ieq(const unsigned char *a, size_t a_len, const char *b)
{
    return a_len == strlen(b) && strncasecmp((const char *)a, b, a_len) == 0;
}

static bool content_type_param(void *ud, const unsigned char *name, size_t name_len,
                               const unsigned char *value, size_t value_len)
{
    struct gw_form_type *t = ud;
    if (!ascii_ieq(name, name_len, "boundary"))
        return true; /* charset and the like: of no use to find fields */
    if (t->kind != GW_FORM_MULTIPART)
        return true;
    if (t->boundary_len > 0 || value_len == 0 || value_len > GW_FORM_BOUNDARY_MAX ||
        value[value_len - 1] == ' ')
        return false;
    for (size_t i = 0; i < value_len; i++)
        if (!bchar(value[i]))
            return false;
    memcpy(t->boundary, value, value_len);
    t->boundary[value_len] = '\0';
    t->boundary_len = value_len;
    return true;
}

bool gw_form_content_type(const char *value, struct gw_form_type *out)
{
    if (value == NULL || out == NULL)
        return false;
    memset(out, 0, sizeof *out);
    size_t len = strnlen(value, GW_FORM_CONTENT_TYPE_MAX + 1);
    if (len > GW_FORM_CONTENT_TYPE_MAX)
        return false;
    const unsigned char *s = (const unsigned char *)value;
    size_t i = 0;
    while (i < len && (tchar(s[i]) || s[i] == '/'))
        i++;
    if (ascii_ieq(s, i, URLENCODED))
        out->kind = GW_FORM_URLENCODED;
    else if (ascii_ieq(s, i, MULTIPART))
        out->kind = GW_FORM_MULTIPART;
    else
        return false;
    if (!parse_params(s, i, len, false, content_type_param, out) ||
        (out->kind == GW_FORM_MULTIPART && out->boundary_len == 0)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

/* The name parameter of one Content-Disposition. */
struct disposition {
    const unsigned char *name;
    size_t name_len;
    bool has_name;
};

static bool disposition_param(void *ud, const unsigned char *name, size_t name_len,
                              const unsigned char *value, size_t value_len)
{
    struct disposition *d = ud;
    if (!ascii_ieq(name, name_len, "name"))
        return true; /* filename, filename* and the like */
    if (d->has_name || value_len == 0 || value_len > GW_FORM_NAME_MAX)
        return false;
    d->name = value;
    d->name_len = value_len;
    d->has_name = true;
    return true;
}

/* Reads the header lines of one part from BODY[*POS..LEN) up to and including the empty
 * line, and finds its field name. */
static bool part_headers(const unsigned char *body, size_t len, size_t *pos, struct disposition *d,
                         struct gw_form_error *err)
{
    bool seen = false;
    size_t lines = 0;
    for (;;) {
        size_t start = *pos;
        size_t window = len - start;
        if (window > GW_FORM_PART_LINE_MAX + 2)
            window = GW_FORM_PART_LINE_MAX + 2;
        const unsigned char *crlf = memmem(body + start, window, "\r\n", 2);
        if (crlf == NULL) {
            set_error(err, start, "a part header line too long or not ended by CRLF");
            return false;
        }
        size_t line_len = (size_t)(crlf - (body + start));
        *pos = start + line_len + 2;
        if (line_len == 0)
            break;
        if (++lines > GW_FORM_PART_HEADERS_MAX) {
            set_error(err, start, "more part header lines than allowed");
            return false;
        }
        const unsigned char *line = body + start;
        for (size_t k = 0; k < line_len; k++)
            if ((line[k] < 0x20 && line[k] != '\t') || line[k] == 0x7f) {
                set_error(err, start + k, "a control character in a part header");
                return false;
            }
        size_t colon = 0;
        while (colon < line_len && tchar(line[colon]))
            colon++;
        if (colon == 0 || colon == line_len || line[colon] != ':') {
            set_error(err, start, "a part header line that is not \"Name: value\"");
            return false;
        }
        if (!ascii_ieq(line, colon, "Content-Disposition"))
            continue;
        if (seen) {
            set_error(err, start, "a part with two Content-Disposition headers");
            return false;
        }
        seen = true;
        size_t i = skip_ows(line, colon + 1, line_len);
        size_t type_start = i;
        while (i < line_len && tchar(line[i]))
            i++;
        if (!ascii_ieq(line + type_start, i - type_start, "form-data") ||
            !parse_params(line, i, line_len, true, disposition_param, d) || !d->has_name) {
            set_error(err, start, "a Content-Disposition that is not form-data with a name");
            return false;
        }
    }
    if (!seen) {
        set_error(err, *pos, "a part without Content-Disposition");
        return false;
    }
    return true;
}

bool gw_form_multipart_read(const unsigned char *body, size_t body_len, const char *boundary,
                            size_t boundary_len, struct gw_form_field *fields, size_t n_fields,
                            struct gw_form_error *err)
{
    reset_fields(fields, n_fields);
    if ((body == NULL && body_len > 0) || (fields == NULL && n_fields > 0) || boundary == NULL ||
        boundary_len == 0 || boundary_len > GW_FORM_BOUNDARY_MAX) {
        set_error(err, 0, "no body, no fields or no usable boundary");
        return false;
    }
    /* CRLF "--" boundary: the delimiter between parts. */
    unsigned char delim[GW_FORM_BOUNDARY_MAX + 4];
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, boundary_len);
    size_t delim_len = boundary_len + 4;

    size_t pos = 0;
    if (body_len >= delim_len - 2 && memcmp(body, delim + 2, delim_len - 2) == 0) {
        pos = delim_len - 2;
    } else {
        const unsigned char *first = body_len > 0 ? memmem(body, body_len, delim, delim_len) : NULL;
        if (first == NULL) {
            set_error(err, 0, "the boundary does not appear in the body");
            return false;
        }
        pos = (size_t)(first - body) + delim_len;
    }
    size_t parts = 0;
    for (;;) {
        /* Just after a delimiter: "--" closes the body, CRLF opens a part. */
        if (body_len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-')
            return true; /* the epilogue, if any, is ignored */
        if (body_len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n') {
            set_error(err, pos, "a boundary not followed by CRLF or \"--\"");
            return false;
        }
        pos += 2;
        if (++parts > GW_FORM_FIELDS_MAX) {
            set_error(err, pos, "more parts than allowed");
            return false;
        }
        struct disposition d = {NULL, 0, false};
        if (!part_headers(body, body_len, &pos, &d, err))
            return false;
        const unsigned char *next =
            pos < body_len ? memmem(body + pos, body_len - pos, delim, delim_len) : NULL;
        if (next == NULL) {
            set_error(err, pos, "a part not followed by a boundary");
            return false;
        }
        size_t content_len = (size_t)(next - (body + pos));
        for (size_t i = 0; i < n_fields; i++)
            if (name_is(&fields[i], d.name, d.name_len)) {
                take(&fields[i], body + pos, content_len);
                break;
            }
        pos += content_len + delim_len;
    }
}

bool gw_form_read(const struct gw_form_type *type, const unsigned char *body, size_t body_len,
                  struct gw_form_field *fields, size_t n_fields, struct gw_form_error *err)
{
    if (type == NULL) {
        reset_fields(fields, n_fields);
        set_error(err, 0, "no content type");
        return false;
    }
    if (type->kind == GW_FORM_URLENCODED)
        return gw_form_urlencoded_read(body, body_len, fields, n_fields, err);
    if (type->kind == GW_FORM_MULTIPART)
        return gw_form_multipart_read(body, body_len, type->boundary, type->boundary_len, fields,
                                      n_fields, err);
    reset_fields(fields, n_fields);
    set_error(err, 0, "not a form content type");
    return false;
}
