/* test_envelope.c — what storing a raw message needs before parsing (recipient, shape,
 * Message-ID, dedupe key) and the loop guard's reading of a parsed message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/mail/envelope.h"
#include "adapters/mail/loop_guard.h"
#include "adapters/mail/match.h"
#include "adapters/mail/parse.h"

#define U(s) ((const unsigned char *)(s))

static void test_recipient(void **state)
{
    (void)state;
    char out[GW_MAIL_RECIPIENT_SIZE];
    assert_true(gw_mail_recipient_clean(" <Support@Acme.Example> ", out));
    assert_string_equal(out, "support@acme.example");
    assert_false(gw_mail_recipient_clean("a@b, c@d", out));
    assert_false(gw_mail_recipient_clean("nobody", out));
    assert_false(gw_mail_recipient_clean("", out));
    assert_false(gw_mail_recipient_clean(NULL, out));
    char longer[300];
    memset(longer, 'a', sizeof longer);
    memcpy(longer + 280, "@example.com", 13);
    assert_false(gw_mail_recipient_clean(longer, out));
}

static void test_shape(void **state)
{
    (void)state;
    const char *m = "\r\nFrom alice Mon Jan  5 09:00:00 2026\r\nSubject : hi\r\n\r\nbody";
    assert_true(gw_mail_looks_like_message(U(m), strlen(m)));
    assert_true(gw_mail_looks_like_message(U("X:"), 2));
    assert_false(gw_mail_looks_like_message(U("just text\n\nmore"), 16));
    assert_false(gw_mail_looks_like_message(U(": no name"), 9));
    assert_false(gw_mail_looks_like_message(U(""), 0));
    assert_false(gw_mail_looks_like_message(NULL, 3));
}

static void test_message_id(void **state)
{
    (void)state;
    char id[GW_MAIL_MESSAGE_ID_SIZE];
    const char *folded = "Subject: x\r\nMESSAGE-ID:\r\n  <abc.123@mail.example> (comment)\r\n"
                         "Message-ID: <second@x>\r\n\r\nMessage-ID: <in-body@x>\r\n";
    assert_true(gw_mail_envelope_message_id(U(folded), strlen(folded), id));
    assert_string_equal(id, "<abc.123@mail.example>");
    const char *bare = "Message-Id: bare@id\n\n";
    assert_true(gw_mail_envelope_message_id(U(bare), strlen(bare), id));
    assert_string_equal(id, "<bare@id>");
    const char *body_only = "Subject: x\r\n\r\nMessage-ID: <in-body@x>\r\n";
    assert_false(gw_mail_envelope_message_id(U(body_only), strlen(body_only), id));
    const char *broken = "Message-ID: <no end\r\n\r\n";
    assert_false(gw_mail_envelope_message_id(U(broken), strlen(broken), id));
    const char *spaced = "Message-ID: <a b@c>\r\n\r\n";
    assert_false(gw_mail_envelope_message_id(U(spaced), strlen(spaced), id));
}

static void test_dedupe_key(void **state)
{
    (void)state;
    char key[GW_DEDUPE_KEY_MAX + 1];
    const char *m = "Message-ID: <k@x>\r\n\r\nbody";
    gw_mail_dedupe_key(U(m), strlen(m), "Support@Acme.example", key);
    assert_string_equal(key, "<k@x> support@acme.example");
    gw_mail_dedupe_key(U(m), strlen(m), NULL, key);
    assert_string_equal(key, "<k@x>");
    /* No Message-ID: the body's SHA-256 (of "Subject: x\r\n\r\n"). */
    const char *none = "Subject: x\r\n\r\n";
    char again[GW_DEDUPE_KEY_MAX + 1];
    gw_mail_dedupe_key(U(none), strlen(none), "a@b.example", key);
    assert_int_equal(strncmp(key, "sha256:", 7), 0);
    assert_non_null(strstr(key, " a@b.example"));
    gw_mail_dedupe_key(U(none), strlen(none), "a@b.example", again);
    assert_string_equal(key, again);
    /* Too long together: one hash, still printable and bounded. */
    char longid[400];
    snprintf(longid, sizeof longid, "Message-ID: <%0200d@x>\r\n\r\n", 7);
    char rcpt[120];
    memset(rcpt, 'r', 100);
    memcpy(rcpt + 100, "@example.com", 13);
    gw_mail_dedupe_key(U(longid), strlen(longid), rcpt, key);
    assert_int_equal(strlen(key), 7 + 64);
    assert_int_equal(strncmp(key, "sha256:", 7), 0);
}

static struct gw_mail *parse(const char *text)
{
    struct gw_mail *m = NULL;
    assert_int_equal(gw_mail_parse(U(text), strlen(text), NULL, &m, NULL, 0), 0);
    return m;
}

static void expect_automated(const char *headers, const char *want)
{
    char text[1024];
    snprintf(text, sizeof text, "From: Jane <jane@x.example>\r\n%sSubject: s\r\n\r\nhi\r\n",
             headers);
    struct gw_mail *m = parse(text);
    const char *got = gw_mail_automated(m, "ctgw-loop-1");
    gw_mail_free(m);
    if (want == NULL && got != NULL)
        fail_msg("%s: automated (%s), expected not", headers, got);
    if (want != NULL && (got == NULL || strcmp(got, want) != 0))
        fail_msg("%s: %s, expected %s", headers, got ? got : "not automated", want);
}

static void test_loop_guard(void **state)
{
    (void)state;
    expect_automated("", NULL);
    expect_automated("Auto-Submitted: no\r\n", NULL);
    expect_automated("Auto-Submitted: auto-replied\r\n", "auto-submitted");
    expect_automated("Auto-Submitted: Auto-Generated; x=1\r\n", "auto-submitted");
    expect_automated("Precedence: bulk\r\n", "precedence");
    expect_automated("Precedence: first-class\r\n", NULL);
    expect_automated("X-Autoreply: yes\r\n", "x-autoreply");
    expect_automated("X-Autorespond: vacation\r\n", "x-autorespond");
    expect_automated("X-Auto-Response-Suppress: DR, OOF\r\n", "x-auto-response-suppress");
    expect_automated("X-Auto-Response-Suppress: RN, NRN\r\n", NULL);
    expect_automated("List-Id: <users.lists.example>\r\n", "list-id");
    expect_automated("List-Unsubscribe: <mailto:u@x>\r\n", NULL);
    expect_automated("Return-Path: <>\r\n", "null-return-path");
    expect_automated("Return-Path: <jane@x.example>\r\n", NULL);
    expect_automated("X-CanTicket-Loop: ctgw-loop-1\r\n", "own-loop");
    expect_automated("X-CanTicket-Loop: someone-else\r\n", NULL);
    struct gw_mail *m = parse("From: MAILER-DAEMON@mx.example\r\n\r\nbounce\r\n");
    assert_string_equal(gw_mail_automated(m, NULL), "mailer-daemon");
    gw_mail_free(m);
    m = parse("From: postmaster@mx.example\r\n\r\nbounce\r\n");
    assert_string_equal(gw_mail_automated(m, ""), "mailer-daemon");
    gw_mail_free(m);
}

static void test_subject_tag(void **state)
{
    (void)state;
    char ref[32];
    assert_true(gw_mail_subject_tag("Re: [CT-000123] Boiler", ref));
    assert_string_equal(ref, "CT-000123");
    assert_true(gw_mail_subject_tag("[x] [ct-1234567]", ref));
    assert_string_equal(ref, "CT-1234567");
    assert_false(gw_mail_subject_tag("CT-000123 without brackets", ref));
    assert_false(gw_mail_subject_tag("[CT-12345] too short", ref));
    assert_false(gw_mail_subject_tag("[CT-00000000000000000000001] too long", ref));
    assert_false(gw_mail_subject_tag("[CT-000123", ref));
    assert_false(gw_mail_subject_tag(NULL, ref));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recipient),  cmocka_unit_test(test_shape),
        cmocka_unit_test(test_message_id), cmocka_unit_test(test_dedupe_key),
        cmocka_unit_test(test_loop_guard), cmocka_unit_test(test_subject_tag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
