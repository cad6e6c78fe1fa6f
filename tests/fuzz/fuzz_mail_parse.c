/* fuzz_mail_parse.c — one e-mail message through gw_mail_parse, as the mail paths give it:
 * with the default limits, then with tight ones so that every cut is reached too; every result
 * is checked against the contract of parse.h (present, bounded, storable strings). Input: the
 * raw message. Inputs that are valid UTF-8 also go straight through the HTML converter and
 * the reply separation, which otherwise see only what a message's parts make of them. */
#include <stdlib.h>
#include <string.h>

#include "adapters/mail/html_text.h"
#include "adapters/mail/parse.h"
#include "adapters/mail/quote.h"
#include "adapters/mail/text.h"
#include "tests/fuzz/fuzz.h"

static void check(const char *s, size_t max, bool text)
{
    FUZZ_CHECK(s != NULL);
    size_t n = strlen(s);
    FUZZ_CHECK(n <= max);
    FUZZ_CHECK(gw_mail_utf8_valid(s, n, NULL));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        FUZZ_CHECK(c >= 0x20 || (text && (c == '\n' || c == '\t')));
        FUZZ_CHECK(c != 0x7F);
    }
}

static void check_mail(const struct gw_mail *m, const struct gw_mail_limits *lim, size_t size)
{
    size_t text_max = lim->max_text_bytes ? lim->max_text_bytes : GW_MAIL_DEFAULT_MAX_TEXT_BYTES;
    size_t parts_max = lim->max_parts ? lim->max_parts : GW_MAIL_DEFAULT_MAX_PARTS;
    check(m->from.name, GW_MAIL_NAME_MAX, false);
    check(m->from.address, GW_MAIL_ADDRESS_MAX, false);
    FUZZ_CHECK(m->to_count <= GW_MAIL_RECIPIENTS_MAX && m->cc_count <= GW_MAIL_RECIPIENTS_MAX);
    for (size_t i = 0; i < m->to_count; i++) {
        check(m->to[i].name, GW_MAIL_NAME_MAX, false);
        check(m->to[i].address, GW_MAIL_ADDRESS_MAX, false);
    }
    for (size_t i = 0; i < m->cc_count; i++) {
        check(m->cc[i].name, GW_MAIL_NAME_MAX, false);
        check(m->cc[i].address, GW_MAIL_ADDRESS_MAX, false);
    }
    check(m->subject, GW_MAIL_SUBJECT_MAX, false);
    FUZZ_CHECK(m->date >= 0);
    check(m->message_id, GW_MAIL_ID_MAX, false);
    check(m->in_reply_to, GW_MAIL_ID_MAX, false);
    FUZZ_CHECK(m->references_count <= GW_MAIL_REFERENCES_MAX);
    for (size_t i = 0; i < m->references_count; i++)
        check(m->references[i], GW_MAIL_ID_MAX, false);
    check(m->auto_submitted, GW_MAIL_VALUE_MAX, false);
    check(m->precedence, GW_MAIL_VALUE_MAX, false);
    check(m->x_autoreply, GW_MAIL_VALUE_MAX, false);
    check(m->x_autorespond, GW_MAIL_VALUE_MAX, false);
    check(m->x_auto_response_suppress, GW_MAIL_VALUE_MAX, false);
    check(m->list_id, GW_MAIL_VALUE_MAX, false);
    check(m->return_path, GW_MAIL_ADDRESS_MAX, false);
    FUZZ_CHECK(!m->return_path_empty || m->return_path_present);
    check(m->x_canticket_loop, GW_MAIL_VALUE_MAX, false);
    check(m->dsn_message_id, GW_MAIL_ID_MAX, false);
    check(m->text, text_max, true);
    FUZZ_CHECK(strlen(m->text) == m->text_len);
    check(m->reply_text, text_max, true);
    FUZZ_CHECK(strlen(m->reply_text) == m->reply_text_len);
    FUZZ_CHECK(m->attachment_count <= parts_max);
    for (size_t i = 0; i < m->attachment_count; i++) {
        const struct gw_mail_attachment *a = &m->attachments[i];
        check(a->filename, GW_MAIL_ATTACHMENT_NAME_MAX, false);
        FUZZ_CHECK(a->filename[0] != '\0');
        check(a->content_type, GW_MAIL_CONTENT_TYPE_MAX, false);
        check(a->content_id, GW_MAIL_ID_MAX, false);
        FUZZ_CHECK(a->data != NULL || a->size == 0);
        /* Decoding never makes more bytes than came in (a nested message is written out again
         * by GMime, which may add line ends). */
        FUZZ_CHECK(a->size <= 2 * size + 4096);
    }
    check(m->notes, GW_MAIL_NOTES_MAX, false);
    FUZZ_CHECK(m->cut == (m->notes[0] != '\0'));
}

static void run(const uint8_t *data, size_t size, const struct gw_mail_limits *lim)
{
    struct gw_mail *m = NULL;
    char err[128];
    if (gw_mail_parse(data, size, lim, &m, err, sizeof(err)) == 0) {
        FUZZ_CHECK(m != NULL);
        check_mail(m, lim, size);
    } else {
        FUZZ_CHECK(m == NULL && err[0] != '\0');
    }
    gw_mail_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_mail_limits defaults = {0};
    run(data, size, &defaults);
    struct gw_mail_limits tight = {.max_message_bytes = 4096,
                                   .max_parts = 3,
                                   .max_depth = 2,
                                   .max_header_bytes = 512,
                                   .max_text_bytes = 256};
    run(data, size, &tight);

    if (gw_mail_utf8_valid((const char *)data, size, NULL)) {
        struct gw_mail_buf b;
        gw_mail_buf_init(&b, 4096);
        gw_mail_html_to_text(&b, (const char *)data, size);
        FUZZ_CHECK(!b.failed && b.len <= 4096);
        FUZZ_CHECK(gw_mail_utf8_valid(b.p != NULL ? b.p : "", b.len, NULL));
        gw_mail_buf_free(&b);
        /* The reply separation works on clean text: no NUL inside. */
        if (memchr(data, '\0', size) == NULL) {
            char *r = gw_mail_quote_reply((const char *)data, size);
            FUZZ_CHECK(r != NULL && strlen(r) <= size);
            free(r);
        }
    }
    return 0;
}
