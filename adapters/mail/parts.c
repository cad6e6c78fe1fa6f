/* parts.c — one walk over the MIME tree GMime built (see parts.h). Which part is the body:
 * in multipart/alternative the text/plain child (else text/html, else a nested multipart), in
 * multipart/related its root, in every other multipart each inline text/plain or text/html
 * child in turn; the other representations of an alternative and the rest of a related part
 * give only their attachments and images. Everything else that is not body text is an
 * attachment, but for the signature of a multipart/signed and the version part of a
 * multipart/encrypted. A message/rfc822 part is an attachment and is not walked into. */
#include "adapters/mail/parts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/mail/charset.h"
#include "adapters/mail/flowed.h"
#include "adapters/mail/headers.h"
#include "adapters/mail/html_text.h"

#define HTML_GROWTH  8u            /* bytes of HTML read per byte of text allowed */
#define SUBPARSE_MAX (64u * 1024u) /* of a returned header block, read for its ids */
#define SUBJECT_NAME 200           /* bytes of a subject used as a file name */

enum mode {
    MODE_BODY,   /* text parts are the body */
    MODE_ATTACH, /* another representation of the body: only its attachments and images */
};

enum body { BODY_NONE, BODY_PLAIN, BODY_HTML };

void gw_mail_walk_init(struct gw_mail_walk *w, const struct gw_mail_limits *lim,
                       GMimeParserOptions *options)
{
    memset(w, 0, sizeof(*w));
    w->lim = lim;
    w->options = options;
    gw_mail_buf_init(&w->text, lim->max_text_bytes);
}

void gw_mail_attachment_clear(struct gw_mail_attachment *a)
{
    free(a->filename);
    free(a->content_type);
    free(a->content_id);
    g_free(a->data);
    memset(a, 0, sizeof(*a));
}

void gw_mail_walk_free(struct gw_mail_walk *w)
{
    for (size_t i = 0; i < w->att_count; i++)
        gw_mail_attachment_clear(&w->att[i]);
    free(w->att);
    w->att = NULL;
    w->att_count = w->att_cap = 0;
    gw_mail_buf_free(&w->text);
    free(w->dsn_message_id);
    w->dsn_message_id = NULL;
}

/* ---- bytes and types */

static unsigned char *stream_take(GMimeStream *mem, size_t *len)
{
    GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    *len = arr->len;
    unsigned char *p = g_byte_array_free(arr, FALSE);
    return p != NULL ? p : g_malloc0(1);
}

/* A part's content with its transfer encoding undone. */
static unsigned char *part_bytes(GMimePart *part, size_t *len)
{
    GMimeStream *mem = g_mime_stream_mem_new();
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    if (content != NULL)
        g_mime_data_wrapper_write_to_stream(content, mem);
    unsigned char *p = stream_take(mem, len);
    g_object_unref(mem);
    return p;
}

/* A nested message as it was sent. */
static unsigned char *object_bytes(GMimeObject *obj, size_t *len)
{
    GMimeStream *mem = g_mime_stream_mem_new();
    if (obj != NULL)
        g_mime_object_write_to_stream(obj, NULL, mem);
    unsigned char *p = stream_take(mem, len);
    g_object_unref(mem);
    return p;
}

static bool is_type(GMimeObject *obj, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* "type/subtype" in lower case. */
static char *type_of(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    char *mt = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
    char *s = gw_mail_text_clean(mt != NULL ? mt : "application/octet-stream",
                                 GW_MAIL_CONTENT_TYPE_MAX, NULL);
    g_free(mt);
    for (char *c = s; c != NULL && *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    return s;
}

static bool disposition_is(GMimeObject *obj, const char *what)
{
    const char *d = g_mime_object_get_disposition(obj);
    return d != NULL && strcasecmp(d, what) == 0;
}

/* The file name the part gives, or NULL. */
static const char *given_name(GMimeObject *obj)
{
    const char *name = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) : NULL;
    if (name == NULL)
        name = g_mime_object_get_content_disposition_parameter(obj, "filename");
    if (name == NULL)
        name = g_mime_object_get_content_type_parameter(obj, "name");
    return name != NULL && name[0] != '\0' ? name : NULL;
}

static const char *extension(const char *type)
{
    static const struct {
        const char *type;
        const char *ext;
    } table[] = {
        {"image/png", "png"},
        {"image/jpeg", "jpg"},
        {"image/jpg", "jpg"},
        {"image/gif", "gif"},
        {"image/webp", "webp"},
        {"image/bmp", "bmp"},
        {"image/tiff", "tif"},
        {"image/svg+xml", "svg"},
        {"application/pdf", "pdf"},
        {"text/plain", "txt"},
        {"text/html", "html"},
        {"text/csv", "csv"},
        {"text/calendar", "ics"},
        {"application/ics", "ics"},
        {"text/rfc822-headers", "txt"},
        {"message/delivery-status", "txt"},
        {"message/disposition-notification", "txt"},
        {"message/feedback-report", "txt"},
        {"message/rfc822", "eml"},
        {"message/global", "eml"},
        {"message/partial", "eml"},
        {"application/zip", "zip"},
        {"application/gzip", "gz"},
        {"application/x-gzip", "gz"},
        {"application/msword", "doc"},
        {"application/pgp-signature", "asc"},
        {"application/pgp-encrypted", "asc"},
        {"application/pgp-keys", "asc"},
        {"application/ms-tnef", "dat"},
        {"application/pkcs7-signature", "p7s"},
        {"application/x-pkcs7-signature", "p7s"},
        {"application/pkcs7-mime", "p7m"},
        {"application/x-pkcs7-mime", "p7m"},
        {"application/json", "json"},
        {"application/xml", "xml"},
        {"text/xml", "xml"},
        {"audio/mpeg", "mp3"},
        {"video/mp4", "mp4"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(type, table[i].type) == 0)
            return table[i].ext;
    return "bin";
}

/* ---- attachments */

static struct gw_mail_attachment *new_attachment(struct gw_mail_walk *w)
{
    if (w->att_count == w->att_cap) {
        size_t cap = w->att_cap > 0 ? w->att_cap * 2 : 8;
        struct gw_mail_attachment *a = realloc(w->att, cap * sizeof(*a));
        if (a == NULL) {
            w->failed = true;
            return NULL;
        }
        w->att = a;
        w->att_cap = cap;
    }
    struct gw_mail_attachment *a = &w->att[w->att_count++];
    memset(a, 0, sizeof(*a));
    return a;
}

/* Adds an attachment holding data (g_malloc'd; taken over, freed on failure). fallback_name is
 * used when the part names none (NULL: "attachment-N.<ext>"). */
static void add_attachment(struct gw_mail_walk *w, GMimeObject *obj, unsigned char *data,
                           size_t size, bool inline_default, const char *fallback_name)
{
    struct gw_mail_attachment *a = new_attachment(w);
    if (a == NULL) {
        g_free(data);
        return;
    }
    a->data = data;
    a->size = size;
    a->content_type = type_of(obj);
    const char *given = given_name(obj);
    a->filename = gw_mail_text_clean(given, GW_MAIL_ATTACHMENT_NAME_MAX, NULL);
    a->named = a->filename != NULL && a->filename[0] != '\0';
    if (a->filename != NULL && !a->named && a->content_type != NULL) {
        free(a->filename);
        char name[64];
        if (fallback_name != NULL)
            snprintf(name, sizeof(name), "%s", fallback_name);
        else
            snprintf(name, sizeof(name), "attachment-%zu.%s", ++w->unnamed,
                     extension(a->content_type));
        a->filename = gw_mail_text_clean(name, GW_MAIL_ATTACHMENT_NAME_MAX, NULL);
    }
    bool too_long;
    a->content_id = gw_mail_clean_id(g_mime_object_get_content_id(obj), &too_long);
    a->is_inline =
        disposition_is(obj, "inline") || (inline_default && !disposition_is(obj, "attachment"));
    if (a->filename == NULL || a->content_type == NULL || a->content_id == NULL)
        w->failed = true;
}

/* "<subject>.eml" for a nested message, or NULL when it has no subject. */
static char *subject_name(const char *subject)
{
    char *s = gw_mail_text_clean(subject, SUBJECT_NAME, NULL);
    if (s == NULL || s[0] == '\0') {
        free(s);
        return NULL;
    }
    size_t n = strlen(s);
    char *name = malloc(n + 5);
    if (name != NULL) {
        memcpy(name, s, n);
        memcpy(name + n, ".eml", 5);
    }
    free(s);
    return name;
}

/* Reads the header block at the start of data[0..n) with GMime. */
static GMimeMessage *parse_headers(struct gw_mail_walk *w, const unsigned char *data, size_t n)
{
    GMimeStream *s =
        g_mime_stream_mem_new_with_buffer((const char *)data, n < SUBPARSE_MAX ? n : SUBPARSE_MAX);
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(p, w->options);
    g_object_unref(p);
    g_object_unref(s);
    return msg;
}

/* The first of the message ids the header block at data names, or NULL. */
static char *header_id(struct gw_mail_walk *w, const unsigned char *data, size_t n)
{
    static const char *const names[] = {"Message-ID", "Original-Message-ID",
                                        "X-Original-Message-ID"};
    GMimeMessage *msg = parse_headers(w, data, n);
    char *found = NULL;
    for (size_t i = 0; msg != NULL && found == NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), names[i]);
        char *decoded = v != NULL ? g_mime_utils_decode_message_id(v) : NULL;
        bool too_long;
        char *id = decoded != NULL ? gw_mail_clean_id(decoded, &too_long) : NULL;
        g_free(decoded);
        if (id != NULL && id[0] != '\0')
            found = id;
        else
            free(id);
    }
    if (msg != NULL)
        g_object_unref(msg);
    return found;
}

static void message_attachment(struct gw_mail_walk *w, GMimeObject *obj)
{
    GMimeMessage *msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    size_t n;
    unsigned char *data = object_bytes(msg != NULL ? GMIME_OBJECT(msg) : NULL, &n);
    char *name = msg != NULL ? subject_name(g_mime_message_get_subject(msg)) : NULL;
    add_attachment(w, obj, data, n, false, name != NULL ? name : "message.eml");
    free(name);
}

/* ---- body text */

/* text/plain or text/html that is body, not a file: inline, no file name. */
static enum body body_kind(GMimeObject *obj)
{
    if (!GMIME_IS_TEXT_PART(obj) || disposition_is(obj, "attachment") || given_name(obj) != NULL)
        return BODY_NONE;
    if (is_type(obj, "text", "plain"))
        return BODY_PLAIN;
    if (is_type(obj, "text", "html"))
        return BODY_HTML;
    /* "Content-Type: text" (no subtype) reaches us as application/octet-stream. */
    const char *raw = g_mime_object_get_header(obj, "Content-Type");
    if (is_type(obj, "application", "octet-stream") && raw != NULL) {
        while (*raw == ' ' || *raw == '\t')
            raw++;
        if (strncasecmp(raw, "text", 4) == 0 &&
            (raw[4] == '\0' || raw[4] == ';' || raw[4] == ' ' || raw[4] == '\t'))
            return BODY_PLAIN;
    }
    return BODY_NONE;
}

/* Adds one piece of body text: raw bytes in charset, plain, HTML or format=flowed. */
static void add_text(struct gw_mail_walk *w, const unsigned char *raw, size_t n,
                     const char *charset, enum body kind, bool flowed, bool delsp)
{
    if (w->text.cut) {
        w->text_cut = true;
        return;
    }
    size_t room = w->lim->max_text_bytes;
    if (kind == BODY_HTML)
        room = room < SIZE_MAX / HTML_GROWTH / 2 ? room * HTML_GROWTH : SIZE_MAX / 2;
    char sniffed[64];
    if (kind == BODY_HTML && (charset == NULL || charset[0] == '\0') &&
        gw_mail_html_charset(raw, n, sniffed, sizeof(sniffed)))
        charset = sniffed;
    struct gw_mail_buf dec, plain;
    gw_mail_buf_init(&dec, room);
    gw_mail_buf_init(&plain, w->lim->max_text_bytes);
    gw_mail_charset_decode(&dec, charset, raw, n);
    const char *s = dec.p;
    size_t len = dec.len;
    if (kind == BODY_HTML || flowed) {
        if (kind == BODY_HTML)
            gw_mail_html_to_text(&plain, dec.p != NULL ? dec.p : "", dec.len);
        else
            gw_mail_unflow(&plain, dec.p != NULL ? dec.p : "", dec.len, delsp);
        s = plain.p;
        len = plain.len;
        w->from_html = w->from_html || kind == BODY_HTML;
    }
    /* Blank lines around a piece say nothing. */
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            start = i + 1;
        else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            break;
    }
    while (len > start &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    if (len > start) {
        if (w->text.len > 0)
            gw_mail_buf_add(&w->text, "\n\n", 2);
        gw_mail_clean(&w->text, s + start, len - start, GW_MAIL_CLEAN_TEXT);
    }
    if (dec.cut || plain.cut || w->text.cut)
        w->text_cut = true;
    if (dec.failed || plain.failed || w->text.failed)
        w->failed = true;
    gw_mail_buf_free(&dec);
    gw_mail_buf_free(&plain);
}

static void text_part(struct gw_mail_walk *w, GMimeObject *obj, enum body kind)
{
    size_t n;
    unsigned char *raw = part_bytes(GMIME_PART(obj), &n);
    const char *format = g_mime_object_get_content_type_parameter(obj, "format");
    const char *delsp = g_mime_object_get_content_type_parameter(obj, "delsp");
    bool flowed = kind == BODY_PLAIN && format != NULL && strcasecmp(format, "flowed") == 0;
    add_text(w, raw, n, g_mime_object_get_content_type_parameter(obj, "charset"), kind, flowed,
             delsp != NULL && strcasecmp(delsp, "yes") == 0);
    g_free(raw);
}

/* ---- the walk */

static void leaf(struct gw_mail_walk *w, GMimeObject *obj, enum mode mode, bool related)
{
    if (w->leaves >= w->lim->max_parts) {
        w->parts_cut = true;
        return;
    }
    w->leaves++;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        message_attachment(w, obj);
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    enum body kind = body_kind(obj);
    if (kind != BODY_NONE) {
        if (mode == MODE_BODY)
            text_part(w, obj, kind);
        return; /* in an alternative not chosen: the same text again */
    }
    bool calendar = is_type(obj, "text", "calendar") || is_type(obj, "application", "ics");
    if (mode == MODE_ATTACH && is_type(obj, "text", "*") && !calendar && given_name(obj) == NULL &&
        !disposition_is(obj, "attachment") && g_mime_object_get_content_id(obj) == NULL)
        return; /* text/watch-html and the like: one more rendering of the body */
    size_t n;
    unsigned char *data = part_bytes(GMIME_PART(obj), &n);
    char *fallback = NULL;
    if (is_type(obj, "message", "rfc822") || is_type(obj, "message", "global")) {
        /* Sent with a transfer encoding, which RFC 2046 forbids: GMime left it a plain part. */
        GMimeMessage *msg = given_name(obj) == NULL ? parse_headers(w, data, n) : NULL;
        fallback = msg != NULL ? subject_name(g_mime_message_get_subject(msg)) : NULL;
        if (msg != NULL)
            g_object_unref(msg);
        if (fallback == NULL)
            fallback = strdup("message.eml");
    } else if (calendar) {
        fallback = strdup("invite.ics");
    }
    add_attachment(w, obj, data, n, related, fallback);
    free(fallback);
}

/* The child of an alternative that is the body: text/plain, else text/html, else the first
 * nested multipart, else the first child. */
static int pick_alternative(GMimeMultipart *mp, int count)
{
    int plain = -1, html = -1, nested = -1;
    for (int i = 0; i < count; i++) {
        GMimeObject *c = g_mime_multipart_get_part(mp, i);
        enum body kind = body_kind(c);
        if (kind == BODY_PLAIN && plain < 0)
            plain = i;
        else if (kind == BODY_HTML && html < 0)
            html = i;
        else if (GMIME_IS_MULTIPART(c) && nested < 0)
            nested = i;
    }
    return plain >= 0 ? plain : html >= 0 ? html : nested >= 0 ? nested : 0;
}

/* The root of a related multipart: the child its start parameter names, else the first. */
static int related_root(GMimeObject *obj, GMimeMultipart *mp, int count)
{
    const char *start = g_mime_object_get_content_type_parameter(obj, "start");
    bool too_long;
    char *want = start != NULL ? gw_mail_clean_id(start, &too_long) : NULL;
    int root = 0;
    for (int i = 0; want != NULL && want[0] != '\0' && i < count; i++) {
        const char *cid = g_mime_object_get_content_id(g_mime_multipart_get_part(mp, i));
        if (cid != NULL && strcmp(cid, want) == 0) {
            root = i;
            break;
        }
    }
    free(want);
    return root;
}

/* What a delivery report says about the message it returns. */
static void report(struct gw_mail_walk *w, GMimeObject *obj, GMimeMultipart *mp, int count)
{
    const char *rt = g_mime_object_get_content_type_parameter(obj, "report-type");
    bool delivery = rt != NULL && strcasecmp(rt, "delivery-status") == 0;
    for (int i = 0; i < count && !delivery; i++)
        delivery = is_type(g_mime_multipart_get_part(mp, i), "message", "delivery-status");
    if (!delivery)
        return;
    w->is_dsn = true;
    /* The returned message, then its returned headers, then the status fields. */
    static const char *const order[][2] = {
        {"message", "rfc822"}, {"text", "rfc822-headers"}, {"message", "delivery-status"}};
    for (size_t o = 0; o < 3 && w->dsn_message_id == NULL; o++) {
        for (int i = 0; i < count && w->dsn_message_id == NULL; i++) {
            GMimeObject *c = g_mime_multipart_get_part(mp, i);
            if (!is_type(c, order[o][0], order[o][1]))
                continue;
            if (GMIME_IS_MESSAGE_PART(c)) {
                GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(c));
                bool too_long;
                char *id = m != NULL ? gw_mail_clean_id(g_mime_message_get_message_id(m), &too_long)
                                     : NULL;
                if (id != NULL && id[0] != '\0')
                    w->dsn_message_id = id;
                else
                    free(id);
            } else if (GMIME_IS_PART(c)) {
                size_t n;
                unsigned char *data = part_bytes(GMIME_PART(c), &n);
                w->dsn_message_id = header_id(w, data, n);
                g_free(data);
            }
        }
    }
}

/* The HTML body of an alternative's child: the part itself, or the root of a related part. */
static GMimeObject *html_body(GMimeObject *obj, int depth)
{
    if (body_kind(obj) == BODY_HTML)
        return obj;
    if (depth < 3 && GMIME_IS_MULTIPART(obj) && is_type(obj, "multipart", "related")) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int count = g_mime_multipart_get_count(mp);
        if (count > 0)
            return html_body(g_mime_multipart_get_part(mp, related_root(obj, mp, count)),
                             depth + 1);
    }
    return NULL;
}

static bool is_signature(GMimeObject *obj)
{
    return is_type(obj, "application", "pgp-signature") ||
           is_type(obj, "application", "pkcs7-signature") ||
           is_type(obj, "application", "x-pkcs7-signature");
}

static void walk(struct gw_mail_walk *w, GMimeObject *obj, size_t depth, enum mode mode,
                 bool related)
{
    if (w->failed || obj == NULL)
        return;
    if (depth > w->lim->max_depth) {
        w->depth_cut = true;
        return;
    }
    if (!GMIME_IS_MULTIPART(obj)) {
        leaf(w, obj, mode, related);
        return;
    }
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    int count = g_mime_multipart_get_count(mp);
    if (count <= 0) {
        /* No parts (no boundary, or none found): what GMime kept is the text before them. */
        const char *pro = g_mime_multipart_get_prologue(mp);
        if (mode == MODE_BODY && pro != NULL && pro[0] != '\0')
            add_text(w, (const unsigned char *)pro, strlen(pro), NULL, BODY_PLAIN, false, false);
        return;
    }
    int body = -1; /* the one child that carries the mode; -1: every child */
    bool related_rest = false;
    if (is_type(obj, "multipart", "alternative")) {
        body = pick_alternative(mp, count);
    } else if (is_type(obj, "multipart", "related")) {
        body = related_root(obj, mp, count);
        related_rest = true;
    }
    bool is_signed = is_type(obj, "multipart", "signed");
    bool encrypted = is_type(obj, "multipart", "encrypted");
    bool empty_plain = false;
    for (int i = 0; i < count && !w->parts_cut && !w->failed; i++) {
        GMimeObject *c = g_mime_multipart_get_part(mp, i);
        if (is_signed && i > 0 && is_signature(c))
            continue;
        if (encrypted && i == 0 && is_type(c, "application", "pgp-encrypted"))
            continue;
        bool mine = body < 0 || i == body;
        size_t before = w->text.len;
        walk(w, c, depth + 1, mine ? mode : MODE_ATTACH, !mine && related_rest);
        empty_plain = empty_plain || (i == body && !related_rest && mode == MODE_BODY &&
                                      body_kind(c) == BODY_PLAIN && w->text.len == before);
    }
    /* A blank text/plain beside an HTML rendering that says something: the HTML then. */
    for (int i = 0; empty_plain && i < count && !w->failed; i++) {
        GMimeObject *html = html_body(g_mime_multipart_get_part(mp, i), 0);
        if (html != NULL) {
            text_part(w, html, BODY_HTML);
            break;
        }
    }
    if (is_type(obj, "multipart", "report"))
        report(w, obj, mp, count);
}

bool gw_mail_walk_run(struct gw_mail_walk *w, GMimeObject *root)
{
    walk(w, root, 0, MODE_BODY, false);
    if (w->text.failed)
        w->failed = true;
    return !w->failed;
}

void gw_mail_walk_notes(const struct gw_mail_walk *w, struct gw_mail_buf *notes)
{
    if (w->parts_cut) {
        size_t n = w->lim->max_parts;
        const char *th = (n % 100 >= 11 && n % 100 <= 13) ? "th"
                         : n % 10 == 1                    ? "st"
                         : n % 10 == 2                    ? "nd"
                         : n % 10 == 3                    ? "rd"
                                                          : "th";
        gw_mail_note(notes, "parts after the %zu%s were dropped", n, th);
    }
    if (w->depth_cut)
        gw_mail_note(notes, "parts nested deeper than %zu levels were dropped", w->lim->max_depth);
    if (w->text_cut)
        gw_mail_note(notes, "the text was cut at %zu bytes", w->lim->max_text_bytes);
}
