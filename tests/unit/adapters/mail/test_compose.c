/* test_compose.c — a relay's fields made a raw message (gw_mail_compose) and read back by the
 * mail parser: the same headers, bodies and files; no header injection through names, values,
 * the given fields or file names; a header block that is not one refused; the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/mail/compose.h"
#include "mail_checks.h"

/* Composes IN (which must succeed) and parses the result. */
static struct gw_mail *round_trip(const struct gw_mail_compose *in, unsigned char **raw,
                                  size_t *len)
{
    char err[160] = "";
    if (gw_mail_compose(in, raw, len, err, sizeof err) != 0)
        fail_msg("gw_mail_compose failed: %s", err);
    assert_non_null(*raw);
    return parse_with((const char *)*raw, *len, NULL);
}

/* Whether some line of RAW[0..LEN) starts with PREFIX (case-insensitive). */
static bool has_line(const unsigned char *raw, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t at = 0; at < len;) {
        if (len - at >= n && strncasecmp((const char *)raw + at, prefix, n) == 0)
            return true;
        const unsigned char *lf = memchr(raw + at, '\n', len - at);
        if (lf == NULL)
            break;
        at = (size_t)(lf - raw) + 1;
    }
    return false;
}

static int refused(const struct gw_mail_compose *in, char *err, size_t errlen)
{
    unsigned char *raw = (unsigned char *)"not set";
    size_t len = 7;
    int rc = gw_mail_compose(in, &raw, &len, err, errlen);
    if (rc == 0)
        free(raw);
    else {
        assert_null(raw);
        assert_int_equal(len, 0);
    }
    return rc;
}

static void test_fields_round_trip(void **state)
{
    (void)state;
    const char *pairs[] = {
        "Message-ID",    "<CAF=abc123@mail.example.com>",
        "In-Reply-To",   "<ct.CT-000123.a5.7f3c9e21@mail.canticket.example>",
        "References",    "<first@x.example>\r\n <ct.CT-000123.a5.7f3c9e21@mail.canticket.example>",
        "X-Spam-Status", "No",
        "Content-Type",  "multipart/mixed; boundary=\"gone\"", /* the old body's: dropped */
    };
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 1, 2, 0xff};
    const struct gw_mail_compose_file files[] = {
        {.name = "Grüße.txt",
         .content_type = "text/plain",
         .data = (const unsigned char *)"hi\n",
         .len = 3},
        {.name = "logo.png",
         .content_type = "image/png",
         .content_id = "<logo@x>",
         .data = png,
         .len = sizeof png},
    };
    const char *text = "Fixed now, thanks — Jane.\n\nOn Monday Bob wrote:\n> old\n";
    const char *html = "<p>Fixed now, thanks</p>";
    struct gw_mail_compose in = {
        .header_pairs = pairs,
        .n_header_pairs = 5,
        .from = "\"Doe, Jane\" <jane@example.com>",
        .to = "reply+CT-000123.abc@in.canticket.example",
        .cc = "Bob <bob@example.com>, carol@example.com",
        .subject = "Re: [CT-000123] Boiler leak — Grüße",
        .date = "Mon, 5 Jan 2026 09:29:58 +0000",
        .text = text,
        .text_len = strlen(text),
        .html = html,
        .html_len = strlen(html),
        .files = files,
        .n_files = 2,
    };
    unsigned char *raw = NULL;
    size_t len = 0;
    struct gw_mail *m = round_trip(&in, &raw, &len);
    assert_string_equal(m->from.name, "Doe, Jane");
    assert_string_equal(m->from.address, "jane@example.com");
    assert_int_equal(m->to_count, 1);
    assert_string_equal(m->to[0].address, "reply+CT-000123.abc@in.canticket.example");
    assert_int_equal(m->cc_count, 2);
    assert_string_equal(m->cc[1].address, "carol@example.com");
    assert_string_equal(m->subject, "Re: [CT-000123] Boiler leak — Grüße");
    assert_int_equal(m->date, 1767605398);
    assert_string_equal(m->message_id, "CAF=abc123@mail.example.com");
    assert_string_equal(m->in_reply_to, "ct.CT-000123.a5.7f3c9e21@mail.canticket.example");
    assert_int_equal(m->references_count, 2);
    assert_string_equal(m->references[0], "first@x.example");
    assert_false(m->text_from_html);
    assert_non_null(strstr(m->text, "Fixed now, thanks — Jane."));
    assert_string_equal(m->reply_text, "Fixed now, thanks — Jane.");
    assert_int_equal(m->attachment_count, 2);
    const struct gw_mail_attachment *a = attachment_named(m, "Grüße.txt");
    assert_string_equal(a->content_type, "text/plain");
    assert_false(a->is_inline);
    assert_int_equal(a->size, 3);
    assert_memory_equal(a->data, "hi\n", 3);
    const struct gw_mail_attachment *img = attachment_named(m, "logo.png");
    assert_true(img->is_inline);
    assert_string_equal(img->content_id, "logo@x");
    assert_int_equal(img->size, sizeof png);
    assert_memory_equal(img->data, png, sizeof png);
    /* The original body's Content-Type went; the new one is GMime's. */
    assert_false(has_line(raw, len, "Content-Type: multipart/mixed; boundary=\"gone\""));
    assert_true(has_line(raw, len, "X-Spam-Status: No"));
    gw_mail_free(m);
    free(raw);
}

/* Fields the headers carry win over the ones given apart. */
static void test_headers_win(void **state)
{
    (void)state;
    const char *pairs[] = {"Subject", "From the headers", "From", "Real <real@example.com>"};
    struct gw_mail_compose in = {
        .header_pairs = pairs,
        .n_header_pairs = 2,
        .from = "other@example.com",
        .subject = "Given apart",
        .text = "x",
        .text_len = 1,
    };
    unsigned char *raw = NULL;
    size_t len = 0;
    struct gw_mail *m = round_trip(&in, &raw, &len);
    assert_string_equal(m->subject, "From the headers");
    assert_string_equal(m->from.address, "real@example.com");
    gw_mail_free(m);
    free(raw);
}

static void test_no_injection(void **state)
{
    (void)state;
    const char *pairs[] = {
        "X-Note",   "one\r\nAuto-Submitted: auto-replied",
        "X-Other",  "two\nPrecedence: bulk\n",
        "X-Folded", "three\r\n\tfolded",
    };
    struct gw_mail_compose in = {
        .header_pairs = pairs,
        .n_header_pairs = 3,
        .from = "jane@example.com\r\nX-CanTicket-Loop: ours",
        .subject = "hello\r\nList-Id: <list.example>",
        .date = "Mon, 5 Jan 2026 09:29:58 +0000\r\nX-Autoreply: yes",
    };
    unsigned char *raw = NULL;
    size_t len = 0;
    struct gw_mail *m = round_trip(&in, &raw, &len);
    assert_string_equal(m->auto_submitted, "");
    assert_string_equal(m->precedence, "");
    assert_string_equal(m->list_id, "");
    assert_string_equal(m->x_canticket_loop, "");
    assert_string_equal(m->x_autoreply, "");
    assert_false(has_line(raw, len, "Auto-Submitted"));
    assert_false(has_line(raw, len, "Precedence"));
    assert_true(has_line(raw, len, "X-Note: one Auto-Submitted: auto-replied"));
    assert_true(has_line(raw, len, "X-Folded: three\tfolded"));
    gw_mail_free(m);
    free(raw);

    /* A name that is not one refuses the whole: it cannot be made harmless. */
    char err[160];
    const char *bad_names[] = {"X-A\r\nBcc", "X-A: value", "X A", "", "X-\x01"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        const char *p[] = {bad_names[i], "v"};
        struct gw_mail_compose bad = {.header_pairs = p, .n_header_pairs = 1};
        assert_int_equal(refused(&bad, err, sizeof err), -1);
        assert_string_equal(err, "a header field name is not one");
    }
    const char *null_name[] = {NULL, "v"};
    struct gw_mail_compose bad = {.header_pairs = null_name, .n_header_pairs = 1};
    assert_int_equal(refused(&bad, err, sizeof err), -1);

    /* A file name with line breaks stays one parameter. */
    const struct gw_mail_compose_file f = {
        .name = "a\r\nContent-Type: text/html\r\n\r\n<b>.txt",
        .content_type = "text/plain\r\nX-Evil: 1",
        .data = (const unsigned char *)"data",
        .len = 4,
    };
    struct gw_mail_compose with_file = {.files = &f, .n_files = 1};
    m = round_trip(&with_file, &raw, &len);
    assert_int_equal(m->attachment_count, 1);
    assert_string_equal(m->attachments[0].content_type, "application/octet-stream");
    assert_int_equal(m->attachments[0].size, 4);
    assert_false(has_line(raw, len, "X-Evil"));
    gw_mail_free(m);
    free(raw);
}

static void test_header_block(void **state)
{
    (void)state;
    const char *block = "Received: from mx.example ([192.0.2.1])\r\n"
                        "\tby in.example; Mon, 5 Jan 2026 09:29:58 +0000\r\n"
                        "From: Jane <jane@example.com>\r\n"
                        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
                        "Message-ID: <blk@x>\r\n"
                        "MIME-Version: 1.0\r\n"
                        "Content-Type: multipart/alternative;\r\n boundary=\"zzz\"\r\n"
                        "To: support@acme.example\r\n\r\n";
    struct gw_mail_compose in = {
        .header_block = block,
        .header_block_len = strlen(block),
        .subject = "not used",
        .text = "caf\xe9\n",
        .text_len = 5,
        .text_charset = "iso-8859-1",
    };
    unsigned char *raw = NULL;
    size_t len = 0;
    struct gw_mail *m = round_trip(&in, &raw, &len);
    assert_string_equal(m->subject, "Grüße");
    assert_string_equal(m->message_id, "blk@x");
    assert_string_equal(m->from.address, "jane@example.com");
    assert_string_equal(m->to[0].address, "support@acme.example");
    assert_string_equal(m->text, "café");
    assert_false(has_line(raw, len, " boundary=\"zzz\""));
    gw_mail_free(m);
    free(raw);

    char err[160];
    const char *bad[] = {
        "just some text\n",
        "Subject: a\n\nbody after the blank line\n",
        "\tfolded: first\nSubject: a\n",
        "Subject: a\rBcc: b\n",
        "From jane@example.com Mon Jan  5 09:29:58 2026\nSubject: a\n",
        ": no name\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct gw_mail_compose b = {.header_block = bad[i], .header_block_len = strlen(bad[i])};
        assert_int_equal(refused(&b, err, sizeof err), -1);
    }
    const char nul[] = "Subject: a\0b\n";
    struct gw_mail_compose b = {.header_block = nul, .header_block_len = sizeof nul - 1};
    assert_int_equal(refused(&b, err, sizeof err), -1);
    assert_string_equal(err, "the header block holds a NUL byte");
}

static void test_bodies(void **state)
{
    (void)state;
    /* HTML only: its text. Nothing at all: still a message, with an empty text. */
    const char *html = "<html><body><p>Only <b>HTML</b></p></body></html>";
    struct gw_mail_compose in = {.html = html, .html_len = strlen(html), .subject = "h"};
    unsigned char *raw = NULL;
    size_t len = 0;
    struct gw_mail *m = round_trip(&in, &raw, &len);
    assert_true(m->text_from_html);
    assert_non_null(strstr(m->text, "Only HTML"));
    gw_mail_free(m);
    free(raw);

    struct gw_mail_compose empty = {0};
    m = round_trip(&empty, &raw, &len);
    assert_string_equal(m->text, "");
    assert_int_equal(m->attachment_count, 0);
    gw_mail_free(m);
    free(raw);

    /* A forwarded message stays a message/rfc822 attachment. */
    const char *inner = "From: a@example.com\nSubject: inner one\nMessage-ID: <inner@x>\n\nhello\n";
    const struct gw_mail_compose_file f = {
        .name = "fwd.eml",
        .content_type = "message/rfc822",
        .data = (const unsigned char *)inner,
        .len = strlen(inner),
    };
    struct gw_mail_compose fwd = {
        .text = "see attached", .text_len = 12, .files = &f, .n_files = 1};
    m = round_trip(&fwd, &raw, &len);
    assert_int_equal(m->attachment_count, 1);
    assert_string_equal(m->attachments[0].content_type, "message/rfc822");
    assert_string_equal(m->message_id, ""); /* the inner id is not the message's */
    assert_string_equal(m->text, "see attached");
    gw_mail_free(m);
    free(raw);

    char err[160];
    struct gw_mail_compose bad_charset = {
        .text = "x", .text_len = 1, .text_charset = "utf-8\r\nX: y"};
    assert_int_equal(refused(&bad_charset, err, sizeof err), -1);
    assert_string_equal(err, "a charset is not a charset name");
}

static void test_limits(void **state)
{
    (void)state;
    char err[160];
    char text[300];
    memset(text, 'a', sizeof text);
    struct gw_mail_limits small = {
        .max_message_bytes = 256, .max_parts = 2, .max_header_bytes = 64};
    struct gw_mail_compose big = {.text = text, .text_len = sizeof text, .limits = &small};
    assert_int_equal(refused(&big, err, sizeof err), -1);
    assert_string_equal(err, "the message is over the message size limit");
    big.text_len = 200;
    assert_int_equal(refused(&big, err, sizeof err), 0);

    struct gw_mail_compose_file files[3] = {{.name = "a"}, {.name = "b"}, {.name = "c"}};
    struct gw_mail_compose many = {.files = files, .n_files = 3, .limits = &small};
    assert_int_equal(refused(&many, err, sizeof err), -1);
    assert_string_equal(err, "too many files");

    const char *pairs[] = {"X-A", "0123456789012345678901234567890123456789", "X-B",
                           "0123456789012345678901234567890123456789"};
    struct gw_mail_compose headers = {.header_pairs = pairs, .n_header_pairs = 2, .limits = &small};
    assert_int_equal(refused(&headers, err, sizeof err), -1);
    assert_string_equal(err, "the header fields are over the header size limit");
    headers.n_header_pairs = 1;
    assert_int_equal(refused(&headers, err, sizeof err), 0);

    /* The count of fields is bounded whatever their size. */
    size_t n = GW_MAIL_COMPOSE_HEADERS_MAX + 1;
    const char **lots = calloc(2 * n, sizeof *lots);
    assert_non_null(lots);
    for (size_t i = 0; i < 2 * n; i++)
        lots[i] = i % 2 == 0 ? "X-A" : "";
    struct gw_mail_compose count = {.header_pairs = lots, .n_header_pairs = n};
    assert_int_equal(refused(&count, err, sizeof err), -1);
    assert_string_equal(err, "too many header fields");
    count.n_header_pairs = n - 1;
    assert_int_equal(refused(&count, err, sizeof err), 0);
    free(lots);

    assert_int_equal(refused(NULL, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_round_trip),
        cmocka_unit_test(test_headers_win),
        cmocka_unit_test(test_no_injection),
        cmocka_unit_test(test_header_block),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
