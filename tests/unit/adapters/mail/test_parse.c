/* test_parse.c — the e-mail parser on small messages written here, one behaviour each:
 * encoded subjects and file names, charsets and their repair, HTML bodies, reply separation,
 * delivery reports, threading ids, the markers of automated mail, and every limit. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/support/files.h"
#include "tests/unit/adapters/mail/mail_checks.h"

static void test_rfc2047_subject_and_names(void **state)
{
    (void)state;
    struct gw_mail *m =
        parse_text("From: =?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@example.com>\n"
                   "To: \"Support, Acme\" <support@acme.example>, bob@example.org\n"
                   "Cc: Team: ann@example.org, =?UTF-8?B?w5hzdGVu?= <osten@example.org>;\n"
                   "Subject: Re: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g8J+YgA==?= and\n"
                   " =?iso-8859-1?q?caf=E9?=\n"
                   "Date: Mon, 2 Mar 2026 10:00:00 +0100\n"
                   "\n"
                   "Body\n");
    assert_string_equal(m->subject, "Re: Grüße aus Köln 😀 and café");
    assert_string_equal(m->from.name, "André Müller");
    assert_string_equal(m->from.address, "andre@example.com");
    assert_true(m->from_known);
    assert_int_equal(m->to_count, 2);
    assert_string_equal(m->to[0].name, "Support, Acme");
    assert_string_equal(m->to[0].address, "support@acme.example");
    assert_string_equal(m->to[1].name, "");
    assert_string_equal(m->to[1].address, "bob@example.org");
    /* Group members are recipients like any other. */
    assert_int_equal(m->cc_count, 2);
    assert_string_equal(m->cc[0].address, "ann@example.org");
    assert_string_equal(m->cc[1].name, "Østen");
    assert_int_equal(m->date, 1772442000);
    assert_string_equal(m->text, "Body");
    assert_string_equal(m->notes, "");
    assert_false(m->cut);
    gw_mail_free(m);
}

static void test_missing_headers(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text("X-Nothing: here\n\nJust text.\n");
    assert_false(m->from_known);
    assert_string_equal(m->from.address, "");
    assert_string_equal(m->subject, "");
    assert_int_equal(m->date, 0);
    assert_string_equal(m->message_id, "");
    assert_string_equal(m->text, "Just text.");
    gw_mail_free(m);

    /* A From without a domain is no known sender, but the address is kept for the caller. */
    m = parse_text("From: MAILER-DAEMON\nSender: also-not-an-address\nDate: garbage\n\nx\n");
    assert_false(m->from_known);
    assert_int_equal(m->date, 0);
    gw_mail_free(m);
}

static void test_rfc2231_filename(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text(
        "From: a@example.com\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\n"
        "\n"
        "--b1\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "See attached.\n"
        "--b1\n"
        "Content-Type: application/pdf\n"
        "Content-Disposition: attachment; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "JVBERi0xLjQK\n"
        "--b1\n"
        "Content-Type: text/plain\n"
        "Content-Disposition: attachment;\n"
        " filename*0*=UTF-8''Rechnung%20;\n"
        " filename*1*=%E2%82%AC100.txt\n"
        "\n"
        "line\n"
        "--b1\n"
        "Content-Type: image/png; name=\"=?UTF-8?Q?Gr=C3=BC=C3=9Fe.png?=\"\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "iVBORw0KGgo=\n"
        "--b1\n"
        "Content-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename=\"../../etc/passwd\"\n"
        "\n"
        "x\n"
        "--b1\n"
        "Content-Type: image/png\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "iVBORw0KGgo=\n"
        "--b1--\n");
    assert_string_equal(m->text, "See attached.");
    assert_int_equal(m->attachment_count, 5);
    const struct gw_mail_attachment *a = attachment_named(m, "naïve résumé.pdf");
    assert_string_equal(a->content_type, "application/pdf");
    assert_int_equal(a->size, 9);
    assert_memory_equal(a->data, "%PDF-1.4\n", 9);
    assert_true(a->named);
    assert_false(a->is_inline);
    a = attachment_named(m, "Rechnung €100.txt");
    assert_int_equal(a->size, 4); /* the line break before a boundary belongs to it */
    assert_memory_equal(a->data, "line", 4);
    a = attachment_named(m, "Grüße.png");
    assert_int_equal(a->size, 8);
    assert_memory_equal(a->data, "\x89PNG\r\n\x1a\n", 8);
    /* Raw, as the message named it: making it a safe file name is the storing side's job. */
    attachment_named(m, "../../etc/passwd");
    a = attachment_named(m, "attachment-1.png");
    assert_false(a->named);
    assert_string_equal(a->content_type, "image/png");
    gw_mail_free(m);
}

static const char html_only[] =
    "From: a@example.com\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><head><title>Title</title><style>p { color: red }</style>\n"
    "<script>alert('head')</script></head>\n"
    "<body><p>Hello&nbsp;<b>World</b> &amp; friends &#8364;5 &#x1F600; &eacute;t&eacute;</p>\n"
    "<!-- a comment <p>hidden</p> -->\n"
    "<p>See <a href=\"https://example.com/a?b=1&amp;c=2\">our   site</a> or\n"
    "<a href='https://example.com/'>https://example.com/</a> or\n"
    "<a href=\"mailto:help@example.com\">help@example.com</a>.</p>\n"
    "<ul><li>one</li><li>two</li></ul>\n"
    "<script type=\"text/javascript\">document.write('<p>no</p>')</script>"
    "<div>Bye<br>now</div><table><tr><td>a</td><td>b</td></tr></table>\n"
    "</body></html>\n";

static void test_html_only(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text(html_only);
    assert_true(m->text_from_html);
    assert_string_equal(m->text, "Hello World & friends €5 😀 été\n"
                                 "\n"
                                 "See our site (https://example.com/a?b=1&c=2) or "
                                 "https://example.com/ or help@example.com.\n"
                                 "\n"
                                 "- one\n"
                                 "- two\n"
                                 "\n"
                                 "Bye\n"
                                 "now\n"
                                 "\n"
                                 "a b");
    assert_null(strstr(m->text, "alert"));
    assert_null(strstr(m->text, "hidden"));
    assert_null(strstr(m->text, "Title"));
    assert_null(strstr(m->text, "color"));
    gw_mail_free(m);
}

static void test_plain_preferred_over_html(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text("From: a@example.com\n"
                                   "Content-Type: multipart/alternative; boundary=x\n"
                                   "\n"
                                   "--x\n"
                                   "Content-Type: text/html\n"
                                   "\n"
                                   "<p>the HTML</p>\n"
                                   "--x\n"
                                   "Content-Type: text/plain\n"
                                   "\n"
                                   "the plain text\n"
                                   "--x--\n");
    assert_string_equal(m->text, "the plain text");
    assert_false(m->text_from_html);
    assert_int_equal(m->attachment_count, 0);
    gw_mail_free(m);

    /* A blank text/plain is no body: the HTML says what there is to say. */
    m = parse_text("From: a@example.com\n"
                   "Content-Type: multipart/alternative; boundary=x\n"
                   "\n"
                   "--x\n"
                   "Content-Type: text/plain\n"
                   "\n"
                   "\n"
                   "--x\n"
                   "Content-Type: text/html\n"
                   "\n"
                   "<p>only here</p>\n"
                   "--x--\n");
    assert_string_equal(m->text, "only here");
    assert_true(m->text_from_html);
    gw_mail_free(m);
}

static void test_windows_1252_body(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text("From: a@example.com\n"
                                   "Content-Type: text/plain; charset=windows-1252\n"
                                   "Content-Transfer-Encoding: 8bit\n"
                                   "\n"
                                   "Caf\xe9 \x93quoted\x94 \x80"
                                   "5 \x96 na\xefve\n");
    assert_string_equal(m->text, "Café “quoted” €5 – naïve");
    gw_mail_free(m);

    /* ISO-8859-1 is read as its superset Windows-1252, as browsers do. */
    m = parse_text("From: a@example.com\n"
                   "Content-Type: text/plain; charset=\"ISO-8859-1\"\n"
                   "Content-Transfer-Encoding: quoted-printable\n"
                   "\n"
                   "=93Gr=FC=DFe=94 =80\n");
    assert_string_equal(m->text, "“Grüße” €");
    gw_mail_free(m);
}

static void test_shift_jis_body(void **state)
{
    (void)state;
    /* こんにちは世界① — ① exists only in Windows' Shift_JIS (CP932), which is what
     * "Shift_JIS" means in real mail. */
    struct gw_mail *m =
        parse_text("From: a@example.com\n"
                   "Content-Type: text/plain; charset=Shift_JIS\n"
                   "Content-Transfer-Encoding: 8bit\n"
                   "\n"
                   "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\x90\xa2\x8a\x45\x87\x40\n");
    assert_string_equal(m->text, "こんにちは世界①");
    gw_mail_free(m);

    m = parse_text("From: a@example.com\n"
                   "Content-Type: text/plain; charset=\"shift_jis\"\n"
                   "Content-Transfer-Encoding: base64\n"
                   "\n"
                   "grGC8YLJgr+CzYFBkKKKRYFCh0A=\n");
    assert_string_equal(m->text, "こんにちは、世界。①");
    gw_mail_free(m);

    m = parse_text("From: a@example.com\n"
                   "Content-Type: text/plain; charset=GB2312\n"
                   "\n"
                   "\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7\n");
    assert_string_equal(m->text, "你好，世界");
    gw_mail_free(m);
}

static void test_charset_repair(void **state)
{
    (void)state;
    /* No charset declared, 8-bit Latin text: Windows-1252. */
    struct gw_mail *m = parse_text("From: a@example.com\n"
                                   "Content-Type: text/plain\n"
                                   "\n"
                                   "Se\xf1or Mu\xf1oz, \xa1hola!\n");
    assert_string_equal(m->text, "Señor Muñoz, ¡hola!");
    gw_mail_free(m);

    /* UTF-8 labelled ISO-8859-1 (and a label nobody knows): UTF-8. */
    m = parse_text("From: a@example.com\n"
                   "Content-Type: text/plain; charset=iso-8859-1\n"
                   "\n"
                   "Gr\xc3\xbc\xc3\x9f"
                   "e\n");
    assert_string_equal(m->text, "Grüße");
    gw_mail_free(m);
    m = parse_text("From: a@example.com\n"
                   "Content-Type: text/plain; charset=x-no-such-charset\n"
                   "\n"
                   "Gr\xc3\xbc\xc3\x9f"
                   "e \xe9t\xe9 \xe0\n");
    /* Not UTF-8 either (the stray Latin-1 bytes outnumber the sequences): Windows-1252. */
    assert_string_equal(m->text, "GrÃ¼ÃŸe été à");
    gw_mail_free(m);

    /* Declared UTF-8, one stray byte: UTF-8 stays, the byte becomes U+FFFD. */
    m = parse_text("From: a@example.com\n"
                   "Content-Type: text/plain; charset=utf-8\n"
                   "\n"
                   "\xc3\xa9t\xc3\xa9 \xff ok\n");
    assert_string_equal(m->text, "été \xef\xbf\xbd ok");
    gw_mail_free(m);

    /* NUL and control characters never reach the text; CRLF becomes LF. */
    static const char with_nul[] = "From: a@example.com\r\n\r\na\0b\x01\x1b[31mc\r\nd\x7f\n";
    m = parse_with(with_nul, sizeof(with_nul) - 1, NULL);
    assert_string_equal(m->text, "ab[31mc\nd");
    gw_mail_free(m);
}

static void test_header_8bit_and_cp1252(void **state)
{
    (void)state;
    /* Raw 8-bit header text: UTF-8 when it is, else Windows-1252. */
    struct gw_mail *m = parse_text("From: J\xc3\xbcrgen <j@example.com>\n"
                                   "Subject: Caf\xe9 \x80 price\n"
                                   "\n"
                                   "x\n");
    assert_string_equal(m->from.name, "Jürgen");
    assert_string_equal(m->subject, "Café € price");
    gw_mail_free(m);
}

/* The text of a plain message whose body is body. */
static struct gw_mail *plain(const char *body)
{
    size_t n = strlen(body) + 64;
    char *msg = malloc(n);
    assert_non_null(msg);
    snprintf(msg, n, "From: a@example.com\nSubject: x\n\n%s", body);
    struct gw_mail *m = parse_text(msg);
    free(msg);
    return m;
}

static void test_quote_on_wrote(void **state)
{
    (void)state;
    static const char body[] = "Thanks, that fixed it.\n"
                               "\n"
                               "On Mon, 2 Mar 2026 at 10:00, Jane Doe <jane@acme.example> wrote:\n"
                               "> Please try again.\n"
                               ">\n"
                               "> Jane\n";
    struct gw_mail *m = plain(body);
    assert_string_equal(m->reply_text, "Thanks, that fixed it.");
    assert_string_equal(m->text, "Thanks, that fixed it.\n"
                                 "\n"
                                 "On Mon, 2 Mar 2026 at 10:00, Jane Doe <jane@acme.example> "
                                 "wrote:\n"
                                 "> Please try again.\n"
                                 ">\n"
                                 "> Jane");
    gw_mail_free(m);

    /* Wrapped over two lines, as Gmail does with long names. */
    m = plain("Sure.\n\nOn Mon, 2 Mar 2026 at 10:00, Jane Doe <jane.doe@acme.example>\n"
              "wrote:\n\n> hi\n");
    assert_string_equal(m->reply_text, "Sure.");
    gw_mail_free(m);

    /* German and French clients. */
    m = plain("Danke!\n\nAm 02.03.2026 um 10:00 schrieb Jane Doe <jane@acme.example>:\n> alt\n");
    assert_string_equal(m->reply_text, "Danke!");
    gw_mail_free(m);
    m = plain("Merci.\n\nLe lun. 2 mars 2026 à 10:00, Jane <jane@acme.example> a écrit :\n"
              "> avant\n");
    assert_string_equal(m->reply_text, "Merci.");
    gw_mail_free(m);

    /* Written below the quote: the new text is what follows it. */
    m = plain("On 02/03/2026 10:00, Jane wrote:\n> Is it fixed?\nYes, it is.\n");
    assert_string_equal(m->reply_text, "Yes, it is.");
    gw_mail_free(m);
}

static void test_quote_marks(void **state)
{
    (void)state;
    struct gw_mail *m = plain("Done.\n\n> old line one\n> old line two\n");
    assert_string_equal(m->reply_text, "Done.");
    gw_mail_free(m);

    /* One '>' line inside the text is not a quote (it is followed by more new text). */
    m = plain("Result:\n> 5 items\nand more text\n");
    assert_string_equal(m->reply_text, m->text);
    gw_mail_free(m);

    /* An attribution in a form no list knows, just above the quote. */
    m = plain("Ok.\n\nJane Doe <jane@acme.example> hat folgendes geschrieben:\n\n> a\n> b\n");
    assert_string_equal(m->reply_text, "Ok.");
    gw_mail_free(m);
}

static void test_quote_outlook(void **state)
{
    (void)state;
    struct gw_mail *m = plain("See attached.\n"
                              "\n"
                              "-----Original Message-----\n"
                              "From: Support <support@acme.example>\n"
                              "Sent: Monday, March 2, 2026 10:00 AM\n"
                              "To: Customer <c@example.com>\n"
                              "Subject: [CT-000123] Printer\n"
                              "\n"
                              "Old text\n");
    assert_string_equal(m->reply_text, "See attached.");
    assert_non_null(strstr(m->text, "Old text"));
    gw_mail_free(m);

    m = plain("Yes please.\n"
              "\n"
              "________________________________\n"
              "From: Support <support@acme.example>\n"
              "Sent: Monday, March 2, 2026 10:00 AM\n"
              "To: Customer <c@example.com>\n"
              "Subject: RE: [CT-000123] Printer\n"
              "\n"
              "Old text\n");
    assert_string_equal(m->reply_text, "Yes please.");
    gw_mail_free(m);

    m = plain("Passt.\n\nVon: Support <support@acme.example>\nGesendet: Montag, 2. März 2026\n"
              "An: Kunde <c@example.com>\nBetreff: AW: Drucker\n\nalt\n");
    assert_string_equal(m->reply_text, "Passt.");
    gw_mail_free(m);

    /* "From:" in running text is not a header block. */
    m = plain("Hello,\nFrom: next week on, we are closed.\nTo: all customers.\n");
    assert_string_equal(m->reply_text, m->text);
    gw_mail_free(m);

    /* An HTML reply: the blockquote becomes '>' lines, and the quote is found in them. */
    m = parse_text("From: a@example.com\n"
                   "Content-Type: text/html\n"
                   "\n"
                   "<div>New words</div><div class=\"gmail_quote\"><div>On Mon, 2 Mar 2026, "
                   "Jane &lt;jane@acme.example&gt; wrote:<br></div><blockquote>old "
                   "<b>text</b><br>more</blockquote></div>\n");
    assert_string_equal(m->text, "New words\n"
                                 "On Mon, 2 Mar 2026, Jane <jane@acme.example> wrote:\n"
                                 "\n"
                                 "> old text\n"
                                 "> more");
    assert_string_equal(m->reply_text, "New words");
    gw_mail_free(m);
}

static void test_format_flowed(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text("From: a@example.com\n"
                                   "Content-Type: text/plain; format=flowed\n"
                                   "\n"
                                   "This is one \n"
                                   "paragraph.\n"
                                   " >not a quote\n"
                                   "> quoted \n"
                                   "> on.\n"
                                   "-- \n"
                                   "sig\n");
    assert_string_equal(m->text, "This is one paragraph.\n"
                                 ">not a quote\n"
                                 "> quoted on.\n"
                                 "-- \n"
                                 "sig");
    gw_mail_free(m);
}

static const char dsn[] = "Return-Path: <>\n"
                          "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
                          "To: support@acme.example\n"
                          "Subject: Undelivered Mail Returned to Sender\n"
                          "Auto-Submitted: auto-replied\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/report; report-type=delivery-status;\n"
                          "\tboundary=\"rep\"\n"
                          "\n"
                          "--rep\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Your message could not be delivered.\n"
                          "--rep\n"
                          "Content-Type: message/delivery-status\n"
                          "\n"
                          "Reporting-MTA: dns; mx.example.net\n"
                          "\n"
                          "Final-Recipient: rfc822; gone@example.org\n"
                          "Action: failed\n"
                          "Status: 5.1.1\n"
                          "--rep\n"
                          "Content-Type: message/rfc822\n"
                          "\n"
                          "From: support@acme.example\n"
                          "To: gone@example.org\n"
                          "Subject: [CT-000123] Your printer\n"
                          "Message-ID: <ct.CT-000123.0a1b2c@mail.canticket.example>\n"
                          "\n"
                          "Hello from support.\n"
                          "--rep--\n";

static void test_dsn(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text(dsn);
    assert_true(m->is_dsn);
    assert_string_equal(m->dsn_message_id, "ct.CT-000123.0a1b2c@mail.canticket.example");
    assert_true(m->return_path_present);
    assert_true(m->return_path_empty);
    assert_string_equal(m->return_path, "");
    assert_string_equal(m->auto_submitted, "auto-replied");
    assert_string_equal(m->from.address, "MAILER-DAEMON@mx.example.net");
    /* The report's own text is the body; the returned message is not read for text. */
    assert_string_equal(m->text, "Your message could not be delivered.");
    assert_int_equal(m->attachment_count, 2);
    assert_string_equal(m->attachments[0].content_type, "message/delivery-status");
    const struct gw_mail_attachment *a = attachment_named(m, "[CT-000123] Your printer.eml");
    assert_string_equal(a->content_type, "message/rfc822");
    assert_non_null(memmem(a->data, a->size, "Hello from support.", 19));
    gw_mail_free(m);

    /* Only the returned headers (text/rfc822-headers). */
    char *headers_only =
        test_replace(dsn, "Content-Type: message/rfc822\n", "Content-Type: text/rfc822-headers\n");
    m = parse_text(headers_only);
    assert_true(m->is_dsn);
    assert_string_equal(m->dsn_message_id, "ct.CT-000123.0a1b2c@mail.canticket.example");
    free(headers_only);
    gw_mail_free(m);

    /* A report of another type (a read receipt) is no DSN. */
    char *mdn =
        test_replace(dsn, "report-type=delivery-status", "report-type=disposition-notification");
    char *mdn2 = test_replace(mdn, "message/delivery-status", "message/disposition-notification");
    m = parse_text(mdn2);
    assert_false(m->is_dsn);
    assert_string_equal(m->dsn_message_id, "");
    free(mdn);
    free(mdn2);
    gw_mail_free(m);
}

static void test_threading_ids(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text("From: c@example.com\n"
                                   "Message-ID: <abc.123@client.example>\n"
                                   "In-Reply-To: <third@acme.example> (Jane's message)\n"
                                   "References: <first@acme.example>\n"
                                   "  <second@acme.example> <third@acme.example>\n"
                                   "\n"
                                   "x\n");
    assert_string_equal(m->message_id, "abc.123@client.example");
    assert_string_equal(m->in_reply_to, "third@acme.example");
    assert_int_equal(m->references_count, 3);
    assert_string_equal(m->references[0], "first@acme.example");
    assert_string_equal(m->references[1], "second@acme.example");
    assert_string_equal(m->references[2], "third@acme.example");
    gw_mail_free(m);

    /* Over the bound: the most recent ids are kept, the cut noted. */
    char *msg = test_must_alloc(malloc(64 * 1024));
    size_t n = (size_t)snprintf(msg, 64 * 1024, "From: c@example.com\nReferences:");
    for (int i = 0; i < 150; i++)
        n += (size_t)snprintf(msg + n, 64 * 1024 - n, " <r%d@x.example>\n", i);
    snprintf(msg + n, 64 * 1024 - n, "\nbody\n");
    m = parse_text(msg);
    assert_int_equal(m->references_count, GW_MAIL_REFERENCES_MAX);
    assert_string_equal(m->references[0], "r50@x.example");
    assert_string_equal(m->references[99], "r149@x.example");
    assert_non_null(strstr(m->notes, "the 50 oldest References were dropped"));
    free(msg);
    gw_mail_free(m);

    /* An id too long to store is left out, not cut. */
    char longid[400];
    memset(longid, 'a', sizeof(longid));
    memcpy(longid + 300, "@x.example>\n\nx\n", 16);
    char head[600];
    snprintf(head, sizeof(head), "From: c@example.com\nMessage-ID: <%s", longid);
    m = parse_text(head);
    assert_string_equal(m->message_id, "");
    assert_non_null(strstr(m->notes, "Message-ID"));
    gw_mail_free(m);
}

static void test_automation_markers(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text("From: Out Of Office <ooo@client.example>\n"
                                   "Return-Path: <bounce+x@client.example>\n"
                                   "Auto-Submitted: auto-generated\n"
                                   "Precedence: bulk\n"
                                   "X-Autoreply: yes\n"
                                   "X-Autorespond: Away\n"
                                   "X-Auto-Response-Suppress: All\n"
                                   "List-Id: Customers <customers.acme.example>\n"
                                   "List-Unsubscribe: <mailto:leave@acme.example>\n"
                                   "X-CanTicket-Loop: install-7f3c\n"
                                   "\n"
                                   "Away.\n");
    assert_string_equal(m->auto_submitted, "auto-generated");
    assert_string_equal(m->precedence, "bulk");
    assert_string_equal(m->x_autoreply, "yes");
    assert_string_equal(m->x_autorespond, "Away");
    assert_string_equal(m->x_auto_response_suppress, "All");
    assert_string_equal(m->list_id, "Customers <customers.acme.example>");
    assert_true(m->list_unsubscribe);
    assert_string_equal(m->x_canticket_loop, "install-7f3c");
    assert_true(m->return_path_present);
    assert_false(m->return_path_empty);
    assert_string_equal(m->return_path, "bounce+x@client.example");
    gw_mail_free(m);

    m = parse_text("From: c@example.com\n\nplain\n");
    assert_string_equal(m->auto_submitted, "");
    assert_false(m->list_unsubscribe);
    assert_false(m->return_path_present);
    assert_false(m->return_path_empty);
    assert_string_equal(m->x_canticket_loop, "");
    gw_mail_free(m);
}

static void test_nested_message_and_inline_image(void **state)
{
    (void)state;
    struct gw_mail *m = parse_text("From: a@example.com\n"
                                   "Content-Type: multipart/mixed; boundary=o\n"
                                   "\n"
                                   "--o\n"
                                   "Content-Type: multipart/related; boundary=r\n"
                                   "\n"
                                   "--r\n"
                                   "Content-Type: text/html\n"
                                   "\n"
                                   "<p>Look: <img src=\"cid:logo@x\"></p>\n"
                                   "--r\n"
                                   "Content-Type: image/gif\n"
                                   "Content-ID: <logo@x>\n"
                                   "Content-Transfer-Encoding: base64\n"
                                   "\n"
                                   "R0lGODlh\n"
                                   "--r--\n"
                                   "--o\n"
                                   "Content-Type: message/rfc822\n"
                                   "\n"
                                   "From: b@example.com\n"
                                   "Subject: The forwarded one\n"
                                   "Content-Type: text/plain\n"
                                   "\n"
                                   "Inner text must not be the body.\n"
                                   "--o\n"
                                   "Content-Type: message/rfc822\n"
                                   "\n"
                                   "From: c@example.com\n"
                                   "\n"
                                   "No subject here.\n"
                                   "--o--\n");
    assert_string_equal(m->text, "Look:");
    assert_int_equal(m->attachment_count, 3);
    const struct gw_mail_attachment *a = &m->attachments[0];
    assert_string_equal(a->content_id, "logo@x");
    assert_true(a->is_inline);
    assert_string_equal(a->content_type, "image/gif");
    assert_int_equal(a->size, 6);
    assert_memory_equal(a->data, "GIF89a", 6);
    a = attachment_named(m, "The forwarded one.eml");
    assert_non_null(memmem(a->data, a->size, "Inner text must not be the body.", 32));
    assert_null(strstr(m->text, "Inner text"));
    a = attachment_named(m, "message.eml");
    assert_false(a->named);
    gw_mail_free(m);
}

/* A multipart/mixed message with `parts` attachments. */
static char *many_parts(size_t parts)
{
    size_t cap = 256 + parts * 128;
    char *msg = test_must_alloc(malloc(cap));
    size_t n = (size_t)snprintf(msg, cap,
                                "From: a@example.com\n"
                                "Content-Type: multipart/mixed; boundary=m\n\n");
    for (size_t i = 0; i < parts; i++)
        n += (size_t)snprintf(msg + n, cap - n,
                              "--m\nContent-Type: application/octet-stream\n"
                              "Content-Disposition: attachment; filename=f%zu.bin\n\nbytes%zu\n",
                              i + 1, i + 1);
    snprintf(msg + n, cap - n, "--m--\n");
    return msg;
}

static void test_limit_parts(void **state)
{
    (void)state;
    char *msg = many_parts(100);
    struct gw_mail *m = parse_text(msg);
    assert_int_equal(m->attachment_count, 100);
    assert_false(m->cut);
    free(msg);
    gw_mail_free(m);

    msg = many_parts(101);
    m = parse_text(msg);
    assert_int_equal(m->attachment_count, 100);
    assert_string_equal(m->attachments[99].filename, "f100.bin");
    assert_true(m->cut);
    assert_non_null(strstr(m->notes, "parts after the 100th were dropped"));
    free(msg);
    gw_mail_free(m);

    struct gw_mail_limits lim = {.max_parts = 3};
    msg = many_parts(5);
    m = parse_with(msg, strlen(msg), &lim);
    assert_int_equal(m->attachment_count, 3);
    assert_non_null(strstr(m->notes, "parts after the 3rd were dropped"));
    free(msg);
    gw_mail_free(m);
}

/* A message whose text lies inside `levels` nested multiparts. */
static char *nested(size_t levels)
{
    size_t cap = 256 + levels * 96;
    char *msg = test_must_alloc(malloc(cap));
    size_t n = (size_t)snprintf(msg, cap, "From: a@example.com\n");
    for (size_t i = 0; i < levels; i++)
        n += (size_t)snprintf(msg + n, cap - n,
                              "Content-Type: multipart/mixed; boundary=b%zu\n\n--b%zu\n", i, i);
    snprintf(msg + n, cap - n, "Content-Type: text/plain\n\ndeep text\n");
    return msg;
}

static void test_limit_depth(void **state)
{
    (void)state;
    char *msg = nested(10);
    struct gw_mail *m = parse_text(msg);
    assert_string_equal(m->text, "deep text");
    assert_false(m->cut);
    free(msg);
    gw_mail_free(m);

    msg = nested(11);
    m = parse_text(msg);
    assert_string_equal(m->text, "");
    assert_non_null(strstr(m->notes, "parts nested deeper than 10 levels were dropped"));
    free(msg);
    gw_mail_free(m);
}

static void test_limit_sizes(void **state)
{
    (void)state;
    /* Message bytes: the rest is not read. */
    static const char msg[] = "From: a@example.com\nSubject: s\n\n0123456789abcdefghij\n";
    struct gw_mail_limits lim = {.max_message_bytes = sizeof(msg) - 1 - 11};
    struct gw_mail *m = parse_with(msg, sizeof(msg) - 1, &lim);
    assert_string_equal(m->text, "0123456789");
    assert_non_null(strstr(m->notes, "the message was cut at"));
    gw_mail_free(m);

    /* Text bytes: cut at a character boundary (é is two bytes). */
    lim = (struct gw_mail_limits){.max_text_bytes = 6};
    m = parse_with("From: a@example.com\n\nabcd\xc3\xa9\xc3\xa9xyz\n",
                   strlen("From: a@example.com\n\nabcd\xc3\xa9\xc3\xa9xyz\n"), &lim);
    assert_string_equal(m->text, "abcdé");
    assert_non_null(strstr(m->notes, "the text was cut at 6 bytes"));
    gw_mail_free(m);

    /* Header bytes: whole fields within the limit are kept, later ones dropped, the body
     * still read. */
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof(big), "From: a@example.com\nSubject: kept\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Filler-%02d: %s\n", i,
                              "abcdefghijklmnopqrstuvwxyz");
    n += (size_t)snprintf(big + n, sizeof(big) - n,
                          "Auto-Submitted: auto-generated\n\tfolded on\n\nthe body\n");
    lim = (struct gw_mail_limits){.max_header_bytes = 256};
    m = parse_with(big, n, &lim);
    assert_string_equal(m->subject, "kept");
    assert_string_equal(m->from.address, "a@example.com");
    assert_string_equal(m->auto_submitted, "");
    assert_string_equal(m->text, "the body");
    assert_non_null(strstr(m->notes, "header fields past the first 256 bytes were dropped"));
    gw_mail_free(m);

    /* The subject bound. */
    char subj[3000];
    n = (size_t)snprintf(subj, sizeof(subj), "From: a@example.com\nSubject:");
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(subj + n, sizeof(subj) - n, " word%d", i % 10);
    snprintf(subj + n, sizeof(subj) - n, "\n\nx\n");
    m = parse_text(subj);
    assert_true(strlen(m->subject) <= GW_MAIL_SUBJECT_MAX);
    assert_true(strlen(m->subject) > GW_MAIL_SUBJECT_MAX - 8);
    assert_non_null(strstr(m->notes, "the subject was cut to 998 bytes"));
    gw_mail_free(m);
}

static void test_guard_lines(void **state)
{
    (void)state;
    /* Thousands of tiny parts: cut where the budget of possible boundaries runs out. */
    size_t cap = 1500 * 8 + 256;
    char *msg = test_must_alloc(malloc(cap));
    size_t n = (size_t)snprintf(msg, cap,
                                "From: a@example.com\n"
                                "Content-Type: multipart/mixed; boundary=m\n\n");
    for (int i = 0; i < 1500; i++)
        n += (size_t)snprintf(msg + n, cap - n, "--m\n\nx\n");
    struct gw_mail_limits lim = {.max_parts = 5};
    struct gw_mail *m = parse_with(msg, n, &lim);
    assert_int_equal(m->attachment_count, 0);
    assert_non_null(strstr(m->text, "x"));
    assert_non_null(strstr(m->notes, "more than 1000 lines that could start MIME parts"));
    free(msg);
    gw_mail_free(m);

    /* Header fields past the budget where GMime reads headers (here a nested message's): cut.
     * The same lines in a body's text, after its first blank line: not counted. */
    cap = 60000 * 8 + 256;
    msg = test_must_alloc(malloc(cap));
    n = (size_t)snprintf(msg, cap,
                         "From: a@example.com\n"
                         "Content-Type: multipart/mixed; boundary=m\n\n"
                         "--m\nContent-Type: message/rfc822\n\n");
    for (int i = 0; i < 60000; i++)
        n += (size_t)snprintf(msg + n, cap - n, "k%d: v\n", i % 10);
    n += (size_t)snprintf(msg + n, cap - n, "\nbody\n--m--\n");
    m = parse_with(msg, n, NULL);
    assert_non_null(strstr(m->notes, "more than 50000 lines that could be header fields"));
    gw_mail_free(m);
    n = (size_t)snprintf(msg, cap, "From: a@example.com\n\nIntro.\n\n");
    for (int i = 0; i < 60000; i++)
        n += (size_t)snprintf(msg + n, cap - n, "k%d: v\n", i % 10);
    m = parse_with(msg, n, NULL);
    assert_false(m->cut);
    assert_int_equal(m->text_len, 8 + 60000 * 6 - 1);
    free(msg);
    gw_mail_free(m);
}

static void test_line_ends_and_leading_junk(void **state)
{
    (void)state;
    /* Bare CR line ends (old Mac mail stores). */
    struct gw_mail *m = parse_text("From: a@example.com\rSubject: cr only\r\rline one\rline two\r");
    assert_string_equal(m->subject, "cr only");
    assert_string_equal(m->text, "line one\nline two");
    gw_mail_free(m);

    /* Blank lines before the headers, and an mbox From_ line. */
    m = parse_text("   \n\nFrom sender@example.com Mon Mar  2 10:00:00 2026\n"
                   "From: a@example.com\nSubject: after junk\n\nbody\n");
    assert_string_equal(m->subject, "after junk");
    assert_string_equal(m->text, "body");
    gw_mail_free(m);
}

static void test_unusable_input(void **state)
{
    (void)state;
    struct gw_mail *m = (struct gw_mail *)1;
    char err[64] = "";
    assert_int_equal(gw_mail_parse((const unsigned char *)"", 0, NULL, &m, err, sizeof(err)), -1);
    assert_null(m);
    assert_string_equal(err, "empty message");
    assert_int_equal(
        gw_mail_parse((const unsigned char *)"\n \n\t\n", 5, NULL, &m, err, sizeof(err)), -1);
    assert_null(m);
    /* A NULL err is fine. */
    assert_int_equal(gw_mail_parse(NULL, 0, NULL, &m, NULL, 0), -1);
    gw_mail_free(NULL);
}

struct thread_arg {
    int failures;
};

static void *parse_many(void *p)
{
    struct thread_arg *t = p;
    for (int i = 0; i < 40; i++) {
        struct gw_mail *m = NULL;
        if (gw_mail_parse((const unsigned char *)dsn, sizeof(dsn) - 1, NULL, &m, NULL, 0) != 0 ||
            strcmp(m->dsn_message_id, "ct.CT-000123.0a1b2c@mail.canticket.example") != 0 ||
            m->attachment_count != 2)
            t->failures++;
        gw_mail_free(m);
    }
    return NULL;
}

/* Workers parse at once, the first of them setting GMime up. */
static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    struct thread_arg args[4] = {{0}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, parse_many, &args[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2047_subject_and_names),
        cmocka_unit_test(test_missing_headers),
        cmocka_unit_test(test_rfc2231_filename),
        cmocka_unit_test(test_html_only),
        cmocka_unit_test(test_plain_preferred_over_html),
        cmocka_unit_test(test_windows_1252_body),
        cmocka_unit_test(test_shift_jis_body),
        cmocka_unit_test(test_charset_repair),
        cmocka_unit_test(test_header_8bit_and_cp1252),
        cmocka_unit_test(test_quote_on_wrote),
        cmocka_unit_test(test_quote_marks),
        cmocka_unit_test(test_quote_outlook),
        cmocka_unit_test(test_format_flowed),
        cmocka_unit_test(test_dsn),
        cmocka_unit_test(test_threading_ids),
        cmocka_unit_test(test_automation_markers),
        cmocka_unit_test(test_nested_message_and_inline_image),
        cmocka_unit_test(test_limit_parts),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_sizes),
        cmocka_unit_test(test_guard_lines),
        cmocka_unit_test(test_line_ends_and_leading_junk),
        cmocka_unit_test(test_unusable_input),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
