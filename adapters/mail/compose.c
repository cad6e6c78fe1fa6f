/* compose.c — gw_mail_compose: the header fields checked and laid out one field a line, read
 * by GMime's parser into a message (so their raw values go out as they came), the fields a
 * relay gave apart added through GMime where the headers lack them, and a new MIME body built
 * by GMime from the bodies and files; the whole written out by GMime. */
#include "adapters/mail/compose.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "gateway/core/mail_text.h"

#define CHARSET_MAX 64 /* bytes of a charset name */

static int fail(char *err, size_t errlen, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", why);
    return -1;
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- header fields --------------------------------------------------------------------- */

/* The length of a field name of P[0..N) before its ':' (white space allowed before the
 * colon, as obsolete syntax has it), 0 when the line does not start with one. */
static size_t field_name(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)p[i] > 32 && (unsigned char)p[i] < 127 && p[i] != ':')
        i++;
    size_t name = i;
    while (i < n && is_wsp(p[i]))
        i++;
    return name > 0 && name <= GW_MAIL_COMPOSE_NAME_MAX && i < n && p[i] == ':' ? name : 0;
}

/* Fields that describe the original body, which is made anew. */
static bool body_field(const char *name, size_t n)
{
    return (n >= 8 && strncasecmp(name, "content-", 8) == 0) ||
           (n == 12 && strncasecmp(name, "mime-version", 12) == 0);
}

struct fields {
    GString *text; /* one field a line, "\n" line ends, folded lines kept */
    size_t count;
    size_t max_bytes;
};

/* Adds the lines of a raw header block. Refuses anything that is not a header field or the
 * folded continuation of one, a NUL, and a CR that does not end a line; blank lines may
 * only end the block. */
static int add_block(struct fields *f, const char *p, size_t n, char *err, size_t errlen)
{
    if (memchr(p, '\0', n) != NULL)
        return fail(err, errlen, "the header block holds a NUL byte");
    bool in_field = false, skipping = false, ended = false;
    size_t at = 0;
    while (at < n) {
        const char *lf = memchr(p + at, '\n', n - at);
        size_t end = lf != NULL ? (size_t)(lf - p) : n;
        size_t len = end - at;
        if (len > 0 && p[at + len - 1] == '\r')
            len--;
        const char *line = p + at;
        at = lf != NULL ? end + 1 : n;
        if (memchr(line, '\r', len) != NULL)
            return fail(err, errlen, "the header block holds a bare CR");
        if (len == 0) {
            ended = true;
            continue;
        }
        if (ended)
            return fail(err, errlen, "the header block goes on after a blank line");
        if (is_wsp(line[0])) {
            if (!in_field)
                return fail(err, errlen, "the header block starts with a folded line");
        } else {
            size_t name = field_name(line, len);
            if (name == 0)
                return fail(err, errlen, "the header block holds a line that is no header field");
            in_field = true;
            skipping = body_field(line, name);
            if (!skipping && ++f->count > GW_MAIL_COMPOSE_HEADERS_MAX)
                return fail(err, errlen, "too many header fields");
        }
        if (skipping)
            continue;
        if (f->text->len + len + 1 > f->max_bytes)
            return fail(err, errlen, "the header fields are over the header size limit");
        g_string_append_len(f->text, line, (gssize)len);
        g_string_append_c(f->text, '\n');
    }
    return 0;
}

/* Appends VALUE unfolded: every run of CR and LF is dropped before white space (a fold) and
 * is one space elsewhere, so no line break survives. */
static void append_unfolded(GString *out, const char *value)
{
    for (const char *c = value; *c != '\0'; c++) {
        if (*c != '\r' && *c != '\n') {
            g_string_append_c(out, *c);
            continue;
        }
        while (c[1] == '\r' || c[1] == '\n')
            c++;
        if (!is_wsp(c[1]))
            g_string_append_c(out, ' ');
    }
}

bool gw_mail_compose_field_name_ok(const char *name)
{
    size_t name_len = name != NULL ? strnlen(name, GW_MAIL_COMPOSE_NAME_MAX + 1) : 0;
    bool ok = name_len > 0 && name_len <= GW_MAIL_COMPOSE_NAME_MAX;
    for (size_t k = 0; ok && k < name_len; k++)
        ok = (unsigned char)name[k] > 32 && (unsigned char)name[k] < 127 && name[k] != ':';
    return ok;
}

static int add_pairs(struct fields *f, const char *const *pairs, size_t n, char *err, size_t errlen)
{
    if (n > GW_MAIL_COMPOSE_HEADERS_MAX)
        return fail(err, errlen, "too many header fields");
    for (size_t i = 0; i < n; i++) {
        const char *name = pairs[2 * i];
        const char *value = pairs[2 * i + 1] != NULL ? pairs[2 * i + 1] : "";
        if (!gw_mail_compose_field_name_ok(name))
            return fail(err, errlen, "a header field name is not one");
        size_t name_len = strlen(name);
        if (body_field(name, name_len))
            continue;
        if (++f->count > GW_MAIL_COMPOSE_HEADERS_MAX)
            return fail(err, errlen, "too many header fields");
        size_t value_len = strnlen(value, f->max_bytes + 1);
        if (f->text->len + name_len + value_len + 3 > f->max_bytes)
            return fail(err, errlen, "the header fields are over the header size limit");
        g_string_append_len(f->text, name, (gssize)name_len);
        g_string_append(f->text, ": ");
        append_unfolded(f->text, value);
        g_string_append_c(f->text, '\n');
    }
    return 0;
}

/* The header fields as a message with an empty body, their raw values kept by the parser. */
static GMimeMessage *message_of(GString *text)
{
    if (text->len == 0)
        return g_mime_message_new(FALSE);
    g_string_append_c(text, '\n');
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text->str, text->len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    /* Only the raw values matter here: the mail parser decodes them later. */
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}

/* ---- the fields given apart ------------------------------------------------------------ */

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static bool has_field(GMimeMessage *msg, const char *name)
{
    return g_mime_object_get_header(GMIME_OBJECT(msg), name) != NULL;
}

/* S without line breaks (GMime folds and encodes what it writes itself). Caller frees. */
static char *one_line(const char *s)
{
    GString *out = g_string_new(NULL);
    append_unfolded(out, s);
    return g_string_free(out, FALSE);
}

static void add_addresses(GMimeMessage *msg, GMimeAddressType type, const char *name,
                          const char *value)
{
    if (!given(value) || has_field(msg, name))
        return;
    char *line = one_line(value);
    InternetAddressList *list = internet_address_list_parse(NULL, line);
    if (list != NULL && internet_address_list_length(list) > 0)
        internet_address_list_append(g_mime_message_get_addresses(msg, type), list);
    if (list != NULL)
        g_object_unref(list);
    g_free(line);
}

static void add_given(GMimeMessage *msg, const struct gw_mail_compose *in)
{
    add_addresses(msg, GMIME_ADDRESS_TYPE_FROM, "From", in->from);
    add_addresses(msg, GMIME_ADDRESS_TYPE_TO, "To", in->to);
    add_addresses(msg, GMIME_ADDRESS_TYPE_CC, "Cc", in->cc);
    if (given(in->subject) && !has_field(msg, "Subject")) {
        char *line = one_line(in->subject);
        g_mime_message_set_subject(msg, line, "utf-8");
        g_free(line);
    }
    if (given(in->date) && !has_field(msg, "Date")) {
        char *line = one_line(in->date);
        GDateTime *date = g_mime_utils_header_decode_date(line);
        if (date != NULL) {
            g_mime_message_set_date(msg, date);
            g_date_time_unref(date);
        }
        g_free(line);
    }
    g_mime_object_set_header(GMIME_OBJECT(msg), "MIME-Version", "1.0", NULL);
}

/* ---- the body -------------------------------------------------------------------------- */

/* A charset name: 1..64 RFC 2045 token characters. */
static bool charset_ok(const char *s)
{
    size_t n = strnlen(s, CHARSET_MAX + 1);
    if (n == 0 || n > CHARSET_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127 ||
            strchr("()<>@,;:\\\"/[]?=", s[i]) != NULL)
            return false;
    return true;
}

static void set_content(GMimePart *part, const void *data, size_t len)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeDataWrapper *w =
        g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part, w);
    g_object_unref(w);
    g_object_unref(stream);
}

static GMimeObject *text_part(const char *subtype, const char *data, size_t len,
                              const char *charset)
{
    GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset",
                                             charset != NULL ? charset : "utf-8");
    set_content(GMIME_PART(part), data != NULL ? data : "", data != NULL ? len : 0);
    g_mime_part_set_content_encoding(
        GMIME_PART(part),
        g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
    return GMIME_OBJECT(part);
}

/* S with control characters made '_' and cut to MAX bytes on a character boundary: a file
 * name GMime can put in a parameter. Caller frees. */
static char *clean_name(const char *s, size_t max)
{
    size_t n = gw_mail_utf8_prefix(s, strnlen(s, max + 1), max);
    char *out = g_strndup(s, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 32 || out[i] == 127)
            out[i] = '_';
    return out;
}

/* A Content-ID without <>, when it is one (visible ASCII, no brackets or white space). */
static bool content_id_of(const char *in, char out[GW_MAIL_MESSAGE_ID_SIZE])
{
    if (!given(in) || gw_mail_message_id_normalise(in, out) != 0)
        return false;
    size_t n = strlen(out);
    memmove(out, out + 1, n - 2);
    out[n - 2] = '\0';
    return out[0] != '\0';
}

/* A message/rfc822 file as a message part, when GMime reads a message from it. Old Mac
 * files end their lines in a bare CR, which GMime does not take for a line end: made LF, as
 * the mail parser does for a whole message. */
static GMimeObject *message_file(const struct gw_mail_compose_file *file)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)file->data, file->len);
    if (memchr(file->data, '\n', file->len) == NULL) {
        GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
        for (guint i = 0; i < bytes->len; i++)
            if (bytes->data[i] == '\r')
                bytes->data[i] = '\n';
    }
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *inner = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    if (inner == NULL)
        return NULL;
    GMimeMessagePart *part = g_mime_message_part_new_with_message("rfc822", inner);
    g_object_unref(inner);
    return GMIME_OBJECT(part);
}

static GMimeObject *file_part(const struct gw_mail_compose_file *file)
{
    char type[GW_MAIL_CONTENT_TYPE_SIZE];
    gw_mail_content_type_sanitise(file->content_type, type);
    GMimeObject *obj = NULL;
    if (strcmp(type, "message/rfc822") == 0)
        obj = file->data != NULL && file->len > 0
                  ? message_file(file)
                  : GMIME_OBJECT(g_mime_message_part_new("rfc822")); /* an empty one */
    if (obj == NULL) {
        /* Bytes GMime reads no message from, or a multipart's: kept as bytes, not a tree. */
        if (strcmp(type, "message/rfc822") == 0 || strncmp(type, "multipart/", 10) == 0)
            snprintf(type, sizeof type, "application/octet-stream");
        char *slash = strchr(type, '/');
        *slash = '\0';
        GMimePart *part = g_mime_part_new_with_type(type, slash + 1);
        set_content(part, file->data != NULL ? (const void *)file->data : "",
                    file->data != NULL ? file->len : 0);
        g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
        obj = GMIME_OBJECT(part);
    }
    char cid[GW_MAIL_MESSAGE_ID_SIZE];
    bool is_inline = content_id_of(file->content_id, cid);
    g_mime_object_set_disposition(obj, is_inline ? "inline" : "attachment");
    if (is_inline)
        g_mime_object_set_content_id(obj, cid);
    if (given(file->name)) {
        char *name = clean_name(file->name, GW_MAIL_ATTACHMENT_NAME_MAX);
        if (GMIME_IS_PART(obj))
            g_mime_part_set_filename(GMIME_PART(obj), name);
        else
            g_mime_object_set_content_disposition_parameter(obj, "filename", name);
        g_free(name);
    }
    return obj;
}

static GMimeObject *body_of(const struct gw_mail_compose *in)
{
    bool has_text = in->text != NULL && in->text_len > 0;
    bool has_html = in->html != NULL && in->html_len > 0;
    GMimeObject *text =
        has_text ? text_part("plain", in->text, in->text_len, in->text_charset) : NULL;
    GMimeObject *html =
        has_html ? text_part("html", in->html, in->html_len, in->html_charset) : NULL;
    GMimeObject *body = text != NULL ? text : html;
    if (text != NULL && html != NULL) {
        GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
        g_mime_multipart_add(alt, text);
        g_mime_multipart_add(alt, html);
        g_object_unref(text);
        g_object_unref(html);
        body = GMIME_OBJECT(alt);
    }
    if (in->n_files == 0)
        return body != NULL ? body : text_part("plain", "", 0, NULL);
    GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
    if (body != NULL) {
        g_mime_multipart_add(mixed, body);
        g_object_unref(body);
    }
    for (size_t i = 0; i < in->n_files; i++) {
        GMimeObject *file = file_part(&in->files[i]);
        g_mime_multipart_add(mixed, file);
        g_object_unref(file);
    }
    return GMIME_OBJECT(mixed);
}

/* ---- checks and the whole -------------------------------------------------------------- */

static struct gw_mail_limits limits_of(const struct gw_mail_compose *in)
{
    struct gw_mail_limits l = {0};
    if (in->limits != NULL)
        l = *in->limits;
    if (l.max_message_bytes == 0)
        l.max_message_bytes = GW_MAIL_DEFAULT_MAX_MESSAGE_BYTES;
    if (l.max_parts == 0)
        l.max_parts = GW_MAIL_DEFAULT_MAX_PARTS;
    if (l.max_header_bytes == 0)
        l.max_header_bytes = GW_MAIL_DEFAULT_MAX_HEADER_BYTES;
    return l;
}

/* Adds N to *TOTAL; false past MAX. */
static bool count(size_t *total, size_t n, size_t max)
{
    if (n > max || *total > max - n)
        return false;
    *total += n;
    return true;
}

static size_t slen(const char *s, size_t max)
{
    return s != NULL ? strnlen(s, max + 1) : 0;
}

/* Everything the input holds, against the limits, before any of it is copied. */
static int check(const struct gw_mail_compose *in, const struct gw_mail_limits *l, char *err,
                 size_t errlen)
{
    size_t total = 0, max = l->max_message_bytes;
    bool ok = count(&total, in->header_block != NULL ? in->header_block_len : 0, max) &&
              count(&total, in->text != NULL ? in->text_len : 0, max) &&
              count(&total, in->html != NULL ? in->html_len : 0, max) &&
              count(&total, slen(in->from, max), max) && count(&total, slen(in->to, max), max) &&
              count(&total, slen(in->cc, max), max) && count(&total, slen(in->subject, max), max) &&
              count(&total, slen(in->date, max), max);
    if (in->n_header_pairs > GW_MAIL_COMPOSE_HEADERS_MAX || in->n_files > l->max_parts)
        return fail(err, errlen,
                    in->n_files > l->max_parts ? "too many files" : "too many header fields");
    if (in->n_header_pairs > 0 && in->header_pairs == NULL)
        return fail(err, errlen, "header pairs missing");
    if (in->n_files > 0 && in->files == NULL)
        return fail(err, errlen, "files missing");
    for (size_t i = 0; ok && i < 2 * in->n_header_pairs; i++)
        ok = count(&total, slen(in->header_pairs[i], max), max);
    for (size_t i = 0; ok && i < in->n_files; i++)
        ok = count(&total, in->files[i].data != NULL ? in->files[i].len : 0, max) &&
             count(&total, slen(in->files[i].name, max), max);
    if (!ok)
        return fail(err, errlen, "the message is over the message size limit");
    if ((in->text_charset != NULL && !charset_ok(in->text_charset)) ||
        (in->html_charset != NULL && !charset_ok(in->html_charset)))
        return fail(err, errlen, "a charset is not a charset name");
    return 0;
}

int gw_mail_compose(const struct gw_mail_compose *in, unsigned char **raw, size_t *len, char *err,
                    size_t errlen)
{
    *raw = NULL;
    *len = 0;
    if (in == NULL)
        return fail(err, errlen, "nothing to compose");
    struct gw_mail_limits l = limits_of(in);
    if (check(in, &l, err, errlen) != 0)
        return -1;
    gw_mail_init();
    struct fields f = {.text = g_string_new(NULL), .max_bytes = l.max_header_bytes};
    int rc = 0;
    if (in->header_block != NULL)
        rc = add_block(&f, in->header_block, in->header_block_len, err, errlen);
    if (rc == 0)
        rc = add_pairs(&f, in->header_pairs, in->n_header_pairs, err, errlen);
    GMimeMessage *msg = rc == 0 ? message_of(f.text) : NULL;
    g_string_free(f.text, TRUE);
    if (rc != 0)
        return -1;
    if (msg == NULL)
        return fail(err, errlen, "GMime read no message from the header fields");
    add_given(msg, in);
    GMimeObject *body = body_of(in);
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);

    GMimeStream *out = g_mime_stream_mem_new();
    if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, out) < 0) {
        rc = fail(err, errlen, "GMime could not write the message");
    } else {
        GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
        *raw = malloc(bytes->len > 0 ? bytes->len : 1);
        if (*raw == NULL) {
            rc = fail(err, errlen, "out of memory");
        } else {
            memcpy(*raw, bytes->data, bytes->len);
            *len = bytes->len;
        }
    }
    g_object_unref(out);
    g_object_unref(msg);
    return rc;
}
