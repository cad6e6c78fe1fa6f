/* form_data.c — gw_form_data_read: a relay's form post into its fields. Multipart bodies go
 * through GMime (the parser the mail core already trusts with hostile MIME), given the
 * Content-Type rebuilt from the checked boundary; urlencoded ones are checked whole by
 * verifiers/form.c and then split on '&'. */
#include "adapters/mail/form_data.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "adapters/mail/parse.h"
#include "verifiers/form.h"

__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void field_clear(struct gw_form_data_field *f)
{
    free(f->name);
    free(f->filename);
    free(f->content_type);
    free(f->content_id);
    free(f->data);
}

void gw_form_data_free(struct gw_form_data *form)
{
    if (form == NULL)
        return;
    for (size_t i = 0; i < form->n; i++)
        field_clear(&form->fields[i]);
    free(form->fields);
    free(form);
}

const struct gw_form_data_field *gw_form_data_get(const struct gw_form_data *form, const char *name)
{
    for (size_t i = 0; form != NULL && i < form->n; i++)
        if (strcmp(form->fields[i].name, name) == 0)
            return &form->fields[i];
    return NULL;
}

size_t gw_form_data_count(const struct gw_form_data *form, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; form != NULL && i < form->n; i++)
        n += strcmp(form->fields[i].name, name) == 0;
    return n;
}

const char *gw_form_data_text(const struct gw_form_data *form, const char *name)
{
    const struct gw_form_data_field *f = gw_form_data_get(form, name);
    if (f == NULL || gw_form_data_count(form, name) != 1)
        return NULL;
    return memchr(f->data, '\0', f->len) == NULL ? (const char *)f->data : NULL;
}

/* A copy of S[0..N) with a NUL, or NULL when memory ran out. */
static char *dup_n(const void *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        if (n > 0)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* A new empty field at the end of FORM, or NULL when memory ran out. Callers bound the count
 * (GW_FORM_DATA_FIELDS_MAX). */
static struct gw_form_data_field *add_field(struct gw_form_data *form)
{
    if (form->n % 16 == 0) {
        struct gw_form_data_field *grown =
            realloc(form->fields, (form->n + 16) * sizeof *form->fields);
        if (grown == NULL)
            return NULL;
        form->fields = grown;
    }
    struct gw_form_data_field *f = &form->fields[form->n++];
    memset(f, 0, sizeof *f);
    return f;
}

/* ---- application/x-www-form-urlencoded ---------------------------------------------- */

static enum gw_form_data_rc read_urlencoded(const unsigned char *body, size_t len,
                                            struct gw_form_data *form, char *err, size_t errlen)
{
    struct gw_form_error fe = {0, ""};
    /* The one set of rules for urlencoded bodies: form.c checks the whole body first. */
    if (!gw_form_urlencoded_read(body, len, NULL, 0, &fe)) {
        say(err, errlen, "not a valid urlencoded form: %s at byte %zu", fe.what, fe.offset);
        return GW_FORM_DATA_INVALID;
    }
    for (size_t pos = 0; pos < len;) {
        const unsigned char *amp = memchr(body + pos, '&', len - pos);
        size_t end = amp != NULL ? (size_t)(amp - body) : len;
        if (end == pos) {
            pos++;
            continue;
        }
        if (form->n >= GW_FORM_DATA_FIELDS_MAX) {
            say(err, errlen, "more than %d fields", GW_FORM_DATA_FIELDS_MAX);
            return GW_FORM_DATA_INVALID;
        }
        const unsigned char *eq = memchr(body + pos, '=', end - pos);
        size_t name_end = eq != NULL ? (size_t)(eq - body) : end;
        size_t value_start = eq != NULL ? name_end + 1 : end;
        struct gw_form_data_field *f = add_field(form);
        if (f == NULL)
            return GW_FORM_DATA_NOMEM;
        /* Decoded, a span is never longer than encoded. */
        f->name = malloc(name_end - pos + 1);
        f->data = malloc(end - value_start + 1);
        if (f->name == NULL || f->data == NULL)
            return GW_FORM_DATA_NOMEM;
        size_t nl = 0;
        if (!gw_form_decode((const char *)body + pos, name_end - pos, f->name, name_end - pos + 1,
                            &nl) ||
            !gw_form_decode((const char *)body + value_start, end - value_start, (char *)f->data,
                            end - value_start + 1, &f->len)) {
            say(err, errlen, "a field that does not decode at byte %zu", pos);
            return GW_FORM_DATA_INVALID;
        }
        f->name[nl] = '\0';
        f->data[f->len] = '\0';
        if (nl > GW_FORM_DATA_NAME_MAX || memchr(f->name, '\0', nl) != NULL) {
            say(err, errlen, "a field name that is too long or holds a NUL byte");
            return GW_FORM_DATA_INVALID;
        }
        pos = end;
    }
    return GW_FORM_DATA_OK;
}

/* ---- multipart/form-data ------------------------------------------------------------- */

/* Lines of BODY that start with "--", bounded by LIMIT + 1. */
static size_t dash_lines(const unsigned char *body, size_t len, size_t limit)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < len && n <= limit;) {
        if (body[i] == '-' && body[i + 1] == '-')
            n++;
        const unsigned char *nl = memchr(body + i, '\n', len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - body) + 1;
    }
    return n;
}

/* Copies what STREAM holds into F's data. */
static bool take_stream(GMimeStream *stream, struct gw_form_data_field *f)
{
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
    f->len = bytes != NULL ? bytes->len : 0;
    f->data = (unsigned char *)dup_n(bytes != NULL ? bytes->data : NULL, f->len);
    return f->data != NULL;
}

/* The content of one part into F: decoded when the part names a transfer encoding; a
 * message/rfc822 part written as the message GMime read. */
static bool part_content(GMimeObject *obj, struct gw_form_data_field *f)
{
    GMimeStream *out = g_mime_stream_mem_new();
    bool ok = true;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (m != NULL)
            ok = g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, out) >= 0;
    } else {
        GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
        if (content != NULL)
            ok = g_mime_data_wrapper_write_to_stream(content, out) >= 0;
    }
    ok = ok && take_stream(out, f);
    g_object_unref(out);
    return ok;
}

/* A header parameter or value copied when it is at most MAX bytes; *TOO_LONG set otherwise. */
static bool copy_bounded(const char *s, size_t max, char **out, bool *too_long)
{
    if (s == NULL)
        return true;
    size_t n = strnlen(s, max + 1);
    if (n > max) {
        *too_long = true;
        return true;
    }
    *out = dup_n(s, n);
    return *out != NULL;
}

/* One part of the form into FORM. */
static enum gw_form_data_rc read_part(GMimeObject *obj, struct gw_form_data *form, char *err,
                                      size_t errlen)
{
    if (GMIME_IS_MULTIPART(obj)) {
        say(err, errlen, "part %zu is itself a multipart, which a form field cannot be",
            form->n + 1);
        return GW_FORM_DATA_INVALID;
    }
    GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
    const char *kind = disp != NULL ? g_mime_content_disposition_get_disposition(disp) : NULL;
    const char *name = disp != NULL ? g_mime_content_disposition_get_parameter(disp, "name") : NULL;
    if (kind == NULL || g_ascii_strcasecmp(kind, "form-data") != 0 || name == NULL ||
        name[0] == '\0') {
        say(err, errlen, "part %zu has no Content-Disposition: form-data with a name", form->n + 1);
        return GW_FORM_DATA_INVALID;
    }
    struct gw_form_data_field *f = add_field(form);
    if (f == NULL)
        return GW_FORM_DATA_NOMEM;
    bool too_long = false;
    const char *cid = g_mime_object_get_content_id(obj);
    if (!copy_bounded(name, GW_FORM_DATA_NAME_MAX, &f->name, &too_long) ||
        !copy_bounded(g_mime_content_disposition_get_parameter(disp, "filename"),
                      GW_FORM_DATA_FILENAME_MAX, &f->filename, &too_long) ||
        !copy_bounded(cid, GW_FORM_DATA_FILENAME_MAX, &f->content_id, &too_long))
        return GW_FORM_DATA_NOMEM;
    if (too_long) {
        say(err, errlen, "part %zu has a name, file name or Content-ID that is too long", form->n);
        return GW_FORM_DATA_INVALID;
    }
    if (g_mime_object_get_header(obj, "Content-Type") != NULL) {
        char *type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
        if (type == NULL)
            return GW_FORM_DATA_NOMEM;
        size_t tl = strlen(type);
        if (tl <= GW_FORM_DATA_TYPE_MAX && (f->content_type = dup_n(type, tl)) == NULL) {
            g_free(type);
            return GW_FORM_DATA_NOMEM;
        }
        g_free(type);
        for (char *c = f->content_type; c != NULL && *c != '\0'; c++)
            *c = g_ascii_tolower(*c);
    }
    return part_content(obj, f) ? GW_FORM_DATA_OK : GW_FORM_DATA_NOMEM;
}

static enum gw_form_data_rc read_multipart(const struct gw_form_type *type,
                                           const unsigned char *body, size_t len,
                                           struct gw_form_data *form, char *err, size_t errlen)
{
    if (dash_lines(body, len, GW_FORM_DATA_DASH_LINES_MAX) > GW_FORM_DATA_DASH_LINES_MAX) {
        say(err, errlen, "more than %d lines that could start a part", GW_FORM_DATA_DASH_LINES_MAX);
        return GW_FORM_DATA_INVALID;
    }
    /* GMime reads a part from its own headers: the Content-Type is rebuilt from the checked
     * boundary (no byte of the request's header reaches the parser as is). */
    char head[GW_FORM_BOUNDARY_MAX + 64];
    int hl = snprintf(head, sizeof head,
                      "Content-Type: multipart/form-data; boundary=\"%s\"\r\n\r\n", type->boundary);
    if (hl <= 0 || (size_t)hl >= sizeof head || len > SIZE_MAX - (size_t)hl) {
        say(err, errlen, "the boundary does not fit");
        return GW_FORM_DATA_INVALID;
    }
    unsigned char *bytes = g_try_malloc((size_t)hl + len + 1);
    if (bytes == NULL)
        return GW_FORM_DATA_NOMEM;
    memcpy(bytes, head, (size_t)hl);
    if (len > 0)
        memcpy(bytes + hl, body, len);
    gw_mail_init();
    /* The stream owns the bytes from here on; parts point into it until unreferenced. */
    GMimeStream *stream =
        g_mime_stream_mem_new_with_byte_array(g_byte_array_new_take(bytes, (size_t)hl + len));
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeParserOptions *options = g_mime_parser_options_new();
    GMimeObject *top = g_mime_parser_construct_part(parser, options);
    enum gw_form_data_rc rc = GW_FORM_DATA_OK;
    if (top == NULL || !GMIME_IS_MULTIPART(top)) {
        say(err, errlen, "GMime read no multipart from the body");
        rc = GW_FORM_DATA_INVALID;
    } else {
        GMimeMultipart *mp = GMIME_MULTIPART(top);
        int count = g_mime_multipart_get_count(mp);
        if (count > GW_FORM_DATA_FIELDS_MAX) {
            say(err, errlen, "more than %d fields", GW_FORM_DATA_FIELDS_MAX);
            rc = GW_FORM_DATA_INVALID;
        }
        for (int i = 0; i < count && rc == GW_FORM_DATA_OK; i++)
            rc = read_part(g_mime_multipart_get_part(mp, i), form, err, errlen);
        if (rc == GW_FORM_DATA_OK && count == 0) {
            say(err, errlen, "a multipart body without a single part");
            rc = GW_FORM_DATA_INVALID;
        }
    }
    if (top != NULL)
        g_object_unref(top);
    g_mime_parser_options_free(options);
    g_object_unref(parser);
    g_object_unref(stream);
    return rc;
}

enum gw_form_data_rc gw_form_data_read(const char *content_type, const unsigned char *body,
                                       size_t len, struct gw_form_data **out, char *err,
                                       size_t errlen)
{
    *out = NULL;
    struct gw_form_type type;
    if (!gw_form_content_type(content_type, &type)) {
        say(err, errlen, "Content-Type is not a form");
        return GW_FORM_DATA_INVALID;
    }
    if (body == NULL && len > 0) {
        say(err, errlen, "no body");
        return GW_FORM_DATA_INVALID;
    }
    struct gw_form_data *form = calloc(1, sizeof *form);
    if (form == NULL)
        return GW_FORM_DATA_NOMEM;
    enum gw_form_data_rc rc = type.kind == GW_FORM_MULTIPART
                                  ? read_multipart(&type, body, len, form, err, errlen)
                                  : read_urlencoded(body, len, form, err, errlen);
    if (rc == GW_FORM_DATA_NOMEM)
        say(err, errlen, "out of memory");
    if (rc != GW_FORM_DATA_OK) {
        gw_form_data_free(form);
        return rc;
    }
    *out = form;
    return GW_FORM_DATA_OK;
}
