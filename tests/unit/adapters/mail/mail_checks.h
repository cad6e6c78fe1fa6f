/* mail_checks.h — what every parsed message must hold, whatever it came from: every string
 * present, NUL-free, well-formed UTF-8 without control characters, within its bound. Shared
 * by the mail parser's tests (header-only: static functions). */
#ifndef CTGW_TESTS_MAIL_CHECKS_H
#define CTGW_TESTS_MAIL_CHECKS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/mail/parse.h"
#include "adapters/mail/text.h"

/* s is a storable string of at most max bytes; one-line strings have no control character,
 * texts only "\n" and tab. */
static inline void check_string(const char *what, const char *s, size_t max, bool text)
{
    if (s == NULL)
        fail_msg("%s is NULL", what);
    size_t n = strlen(s);
    if (n > max)
        fail_msg("%s is %zu bytes, over %zu", what, n, max);
    if (!gw_mail_utf8_valid(s, n, NULL))
        fail_msg("%s is not valid UTF-8", what);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        bool allowed = text && (u[i] == '\n' || u[i] == '\t');
        if ((u[i] < 0x20 && !allowed) || u[i] == 0x7F)
            fail_msg("%s has control byte 0x%02x at %zu", what, u[i], i);
        /* C1 controls (U+0080-U+009F) are C2 80..C2 9F in UTF-8. */
        if (u[i] == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
            fail_msg("%s has a C1 control at %zu", what, i);
    }
}

static inline void check_address(const char *what, const struct gw_mail_address *a)
{
    check_string(what, a->name, GW_MAIL_NAME_MAX, false);
    check_string(what, a->address, GW_MAIL_ADDRESS_MAX, false);
}

/* Every field of m within its contract; lim as given to gw_mail_parse (NULL: defaults). */
static inline void check_mail(const struct gw_mail *m, const struct gw_mail_limits *lim)
{
    size_t max_text = lim != NULL && lim->max_text_bytes > 0 ? lim->max_text_bytes
                                                             : GW_MAIL_DEFAULT_MAX_TEXT_BYTES;
    size_t max_parts =
        lim != NULL && lim->max_parts > 0 ? lim->max_parts : GW_MAIL_DEFAULT_MAX_PARTS;
    check_address("from", &m->from);
    if (m->from_known) {
        const char *at = strrchr(m->from.address, '@');
        assert_non_null(at);
        assert_true(at > m->from.address && at[1] != '\0');
    }
    assert_true(m->to_count <= GW_MAIL_RECIPIENTS_MAX);
    assert_true(m->cc_count <= GW_MAIL_RECIPIENTS_MAX);
    for (size_t i = 0; i < m->to_count; i++) {
        check_address("to", &m->to[i]);
        assert_true(m->to[i].address[0] != '\0');
    }
    for (size_t i = 0; i < m->cc_count; i++) {
        check_address("cc", &m->cc[i]);
        assert_true(m->cc[i].address[0] != '\0');
    }
    check_string("subject", m->subject, GW_MAIL_SUBJECT_MAX, false);
    assert_true(m->date >= 0);
    check_string("message_id", m->message_id, GW_MAIL_ID_MAX, false);
    check_string("in_reply_to", m->in_reply_to, GW_MAIL_ID_MAX, false);
    assert_true(m->references_count <= GW_MAIL_REFERENCES_MAX);
    for (size_t i = 0; i < m->references_count; i++) {
        check_string("reference", m->references[i], GW_MAIL_ID_MAX, false);
        assert_true(m->references[i][0] != '\0');
    }
    check_string("auto_submitted", m->auto_submitted, GW_MAIL_VALUE_MAX, false);
    check_string("precedence", m->precedence, GW_MAIL_VALUE_MAX, false);
    check_string("x_autoreply", m->x_autoreply, GW_MAIL_VALUE_MAX, false);
    check_string("x_autorespond", m->x_autorespond, GW_MAIL_VALUE_MAX, false);
    check_string("x_auto_response_suppress", m->x_auto_response_suppress, GW_MAIL_VALUE_MAX, false);
    check_string("list_id", m->list_id, GW_MAIL_VALUE_MAX, false);
    check_string("return_path", m->return_path, GW_MAIL_ADDRESS_MAX, false);
    if (m->return_path_empty)
        assert_true(m->return_path_present && m->return_path[0] == '\0');
    check_string("x_canticket_loop", m->x_canticket_loop, GW_MAIL_VALUE_MAX, false);
    check_string("dsn_message_id", m->dsn_message_id, GW_MAIL_ID_MAX, false);
    if (m->dsn_message_id[0] != '\0')
        assert_true(m->is_dsn);
    check_string("text", m->text, max_text, true);
    assert_int_equal(strlen(m->text), m->text_len);
    check_string("reply_text", m->reply_text, max_text, true);
    assert_int_equal(strlen(m->reply_text), m->reply_text_len);
    assert_true(m->attachment_count <= max_parts);
    for (size_t i = 0; i < m->attachment_count; i++) {
        const struct gw_mail_attachment *a = &m->attachments[i];
        check_string("filename", a->filename, GW_MAIL_ATTACHMENT_NAME_MAX, false);
        assert_true(a->filename[0] != '\0');
        check_string("content_type", a->content_type, GW_MAIL_CONTENT_TYPE_MAX, false);
        assert_non_null(strchr(a->content_type, '/'));
        check_string("content_id", a->content_id, GW_MAIL_ID_MAX, false);
        assert_true(a->data != NULL || a->size == 0);
    }
    check_string("notes", m->notes, GW_MAIL_NOTES_MAX, false);
    assert_int_equal(m->cut, m->notes[0] != '\0');
}

/* Parses text (a C string) with lim; fails the test when the parse does. */
static inline struct gw_mail *parse_with(const char *text, size_t len,
                                         const struct gw_mail_limits *lim)
{
    struct gw_mail *m = NULL;
    char err[128] = "";
    if (gw_mail_parse((const unsigned char *)text, len, lim, &m, err, sizeof(err)) != 0)
        fail_msg("gw_mail_parse failed: %s", err);
    if (m == NULL) {
        fail_msg("no result");
        abort();
    }
    check_mail(m, lim);
    return m;
}

static inline struct gw_mail *parse_text(const char *text)
{
    return parse_with(text, strlen(text), NULL);
}

/* The attachment named name, or a failed test. */
static inline const struct gw_mail_attachment *attachment_named(const struct gw_mail *m,
                                                                const char *name)
{
    for (size_t i = 0; i < m->attachment_count; i++)
        if (strcmp(m->attachments[i].filename, name) == 0)
            return &m->attachments[i];
    fail_msg("no attachment named '%s' (%zu attachments)", name, m->attachment_count);
    abort(); /* not reached: fail_msg does not return, but the compiler is not told so */
}

#endif
