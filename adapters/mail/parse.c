/* parse.c — gw_mail_parse: the raw message bounded and repaired (guard.c), read by GMime, its
 * header fields (headers.c) and MIME tree (parts.c) turned into a struct gw_mail, the reply
 * separated from its quote (quote.c). */
#include "adapters/mail/parse.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "adapters/mail/guard.h"
#include "adapters/mail/headers.h"
#include "adapters/mail/parts.h"
#include "adapters/mail/quote.h"
#include "adapters/mail/text.h"

/* GMime's global tables are set up once, whichever worker parses first. */
static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_init(void)
{
    g_mime_init();
}

void gw_mail_init(void)
{
    pthread_once(&gmime_once, gmime_init);
}

static void fail(char *err, size_t errlen, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", why);
}

static size_t or_default(size_t v, size_t def)
{
    return v > 0 ? v : def;
}

void gw_mail_free(struct gw_mail *m)
{
    if (m == NULL)
        return;
    free(m->from.name);
    free(m->from.address);
    for (size_t i = 0; i < m->to_count; i++) {
        free(m->to[i].name);
        free(m->to[i].address);
    }
    free(m->to);
    for (size_t i = 0; i < m->cc_count; i++) {
        free(m->cc[i].name);
        free(m->cc[i].address);
    }
    free(m->cc);
    free(m->subject);
    free(m->message_id);
    free(m->in_reply_to);
    for (size_t i = 0; i < m->references_count; i++)
        free(m->references[i]);
    free(m->references);
    free(m->auto_submitted);
    free(m->precedence);
    free(m->x_autoreply);
    free(m->x_autorespond);
    free(m->x_auto_response_suppress);
    free(m->list_id);
    free(m->return_path);
    free(m->x_canticket_loop);
    free(m->dsn_message_id);
    free(m->text);
    free(m->reply_text);
    for (size_t i = 0; i < m->attachment_count; i++)
        gw_mail_attachment_clear(&m->attachments[i]);
    free(m->attachments);
    free(m->notes);
    free(m);
}

/* Moves the walk's results into m; false when memory ran out. */
static bool take_body(struct gw_mail *m, struct gw_mail_walk *w)
{
    m->text_len = w->text.len;
    m->text = gw_mail_buf_take(&w->text);
    m->text_from_html = w->from_html;
    m->is_dsn = w->is_dsn;
    m->dsn_message_id = w->dsn_message_id != NULL ? w->dsn_message_id : calloc(1, 1);
    w->dsn_message_id = NULL;
    m->attachments = w->att;
    m->attachment_count = w->att_count;
    w->att = NULL;
    w->att_count = w->att_cap = 0;
    if (m->text == NULL || m->dsn_message_id == NULL)
        return false;
    m->reply_text = gw_mail_quote_reply(m->text, m->text_len);
    m->reply_text_len = m->reply_text != NULL ? strlen(m->reply_text) : 0;
    return m->reply_text != NULL;
}

int gw_mail_parse(const unsigned char *raw, size_t len, const struct gw_mail_limits *lim,
                  struct gw_mail **out, char *err, size_t errlen)
{
    *out = NULL;
    if (raw == NULL || len == 0) {
        fail(err, errlen, "empty message");
        return -1;
    }
    struct gw_mail_limits l = {0};
    if (lim != NULL)
        l = *lim;
    l.max_message_bytes = or_default(l.max_message_bytes, GW_MAIL_DEFAULT_MAX_MESSAGE_BYTES);
    l.max_parts = or_default(l.max_parts, GW_MAIL_DEFAULT_MAX_PARTS);
    l.max_depth = or_default(l.max_depth, GW_MAIL_DEFAULT_MAX_DEPTH);
    l.max_header_bytes = or_default(l.max_header_bytes, GW_MAIL_DEFAULT_MAX_HEADER_BYTES);
    l.max_text_bytes = or_default(l.max_text_bytes, GW_MAIL_DEFAULT_MAX_TEXT_BYTES);
    gw_mail_init();

    struct gw_mail_buf notes;
    gw_mail_buf_init(&notes, GW_MAIL_NOTES_MAX);
    size_t n = 0;
    unsigned char *bytes = gw_mail_guard(raw, len, &l, &n, &notes);
    if (bytes == NULL) {
        gw_mail_buf_free(&notes);
        fail(err, errlen, "out of memory");
        return -1;
    }
    if (n == 0) {
        g_free(bytes);
        gw_mail_buf_free(&notes);
        fail(err, errlen, "empty message");
        return -1;
    }
    /* The stream owns the bytes from here on; parts GMime builds point into it. */
    GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(g_byte_array_new_take(bytes, n));
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeParserOptions *options = g_mime_parser_options_new();
    /* 8-bit header text that is not UTF-8 is most likely Windows-1252. */
    const char *fallback[] = {"UTF-8", "CP1252", NULL};
    g_mime_parser_options_set_fallback_charsets(options, fallback);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, options);

    int rc = -1;
    struct gw_mail *m = NULL;
    struct gw_mail_walk walk;
    gw_mail_walk_init(&walk, &l, options);
    if (msg == NULL) {
        fail(err, errlen, "no message could be read from the input");
        goto done;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL || !gw_mail_read_headers(m, msg, options, &notes) ||
        !gw_mail_walk_run(&walk, g_mime_message_get_mime_part(msg)) || !take_body(m, &walk)) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    gw_mail_walk_notes(&walk, &notes);
    m->cut = notes.len > 0;
    m->notes = gw_mail_buf_take(&notes);
    if (m->notes == NULL) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    *out = m;
    m = NULL;
    rc = 0;
done:
    gw_mail_free(m);
    gw_mail_walk_free(&walk);
    gw_mail_buf_free(&notes);
    if (msg != NULL)
        g_object_unref(msg);
    g_mime_parser_options_free(options);
    g_object_unref(parser);
    g_object_unref(stream);
    return rc;
}
