/* test_mail_text.c — gateway/core/mail_text.h: file names without paths, controls, disguises
 * or invalid UTF-8 and within 255 bytes keeping their extension; content types; titles;
 * Message-IDs; and cutting UTF-8 on a character boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/base/text.h"
#include "gateway/core/mail_text.h"

static void valid_utf8(const char *s)
{
    size_t chars;
    if (!gw_text_utf8_chars(s, strlen(s), &chars))
        fail_msg("not valid UTF-8: %s", s);
}

static void test_filenames(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"report.pdf", "report.pdf"},
        {"../../etc/passwd", "passwd"},
        {"C:\\Users\\ann\\Desktop\\invoice.xlsx", "invoice.xlsx"},
        {"/abs/path/", "attachment"},
        {NULL, "attachment"},
        {"", "attachment"},
        {"..", "attachment"},
        {" . ", "attachment"},
        {".htaccess", "htaccess"},
        {"trailing dots... ", "trailing dots"},
        {"tab\there\r\n.txt", "tab_here__.txt"},
        {"nul\x7f"
         "del\xC2\x85.txt",
         "nul_del_.txt"},                                  /* DEL and C1 NEL */
        {"a:b*c?d\"e<f>g|h.txt", "a_b_c_d_e_f_g_h.txt"},   /* Windows reserved */
        {"bad\xFF\xC3(utf8.txt", "bad__(utf8.txt"},        /* stray and cut bytes */
        {"over\xC0\xAFlong.txt", "over__long.txt"},        /* overlong '/' */
        {"sur\xED\xA0\x80rogate.txt", "sur___rogate.txt"}, /* U+D800 */
        {"Pr\xC3\xA9sentation \xE6\x97\xA5\xE6\x9C\xAC.pptx",
         "Pr\xC3\xA9sentation \xE6\x97\xA5\xE6\x9C\xAC.pptx"},
        {"photo\xE2\x80\xAEgpj.exe", "photogpj.exe"},               /* RIGHT-TO-LEFT OVERRIDE */
        {"zero\xE2\x80\x8Bwidth\xEF\xBB\xBF.doc", "zerowidth.doc"}, /* ZWSP, BOM */
        {"emoji \xF0\x9F\x93\x8E.png", "emoji \xF0\x9F\x93\x8E.png"},
    };
    char out[GW_MAIL_FILENAME_SIZE];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_mail_filename_sanitise(cases[i].in, out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: '%s', expected '%s'", i, out, cases[i].want);
        valid_utf8(out);
    }
}

static void test_long_filenames_keep_their_extension(void **state)
{
    (void)state;
    char in[4000];
    char out[GW_MAIL_FILENAME_SIZE];

    /* 300 x 'a' + ".pdf": cut to 255 bytes, extension kept. */
    memset(in, 'a', 300);
    strcpy(in + 300, ".pdf");
    gw_mail_filename_sanitise(in, out);
    assert_int_equal(strlen(out), 255);
    assert_string_equal(out + 251, ".pdf");

    /* Exactly 255 bytes stay as they are; 256 are cut. */
    memset(in, 'b', 251);
    strcpy(in + 251, ".txt");
    gw_mail_filename_sanitise(in, out);
    assert_string_equal(out, in);
    memset(in, 'b', 252);
    strcpy(in + 252, ".txt");
    gw_mail_filename_sanitise(in, out);
    assert_int_equal(strlen(out), 255);

    /* Three-byte characters are never split: 100 x U+65E5 is 300 bytes. */
    for (size_t i = 0; i < 100; i++)
        memcpy(in + 3 * i, "\xE6\x97\xA5", 3);
    strcpy(in + 300, ".jpeg");
    gw_mail_filename_sanitise(in, out);
    valid_utf8(out);
    assert_true(strlen(out) <= 255);
    assert_string_equal(out + strlen(out) - 5, ".jpeg");
    assert_int_equal((strlen(out) - 5) % 3, 0);

    /* A very long name (past what is cleaned) still ends in its extension. */
    memset(in, 'c', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    memcpy(in + sizeof in - 6, ".zip", 5);
    gw_mail_filename_sanitise(in, out);
    assert_int_equal(strlen(out), 255);
    assert_string_equal(out + 251, ".zip");

    /* An "extension" longer than 32 bytes is not one: the name is simply cut. */
    memset(in, 'd', 300);
    in[254] = '.';
    in[300] = '\0';
    gw_mail_filename_sanitise(in, out);
    assert_int_equal(strlen(out), 254); /* cut at 255 bytes, then its trailing dot */
    assert_int_equal(out[253], 'd');
    memset(in, 'd', 300);
    in[100] = '.';
    gw_mail_filename_sanitise(in, out);
    assert_int_equal(strlen(out), 255);
    assert_int_equal(out[100], '.');
}

static void test_content_types(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"application/pdf", "application/pdf"},
        {"  Image/PNG ; name=\"x.png\"", "image/png"},
        {"text/plain;charset=utf-8", "text/plain"},
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {NULL, "application/octet-stream"},
        {"", "application/octet-stream"},
        {"pdf", "application/octet-stream"},
        {"text/", "application/octet-stream"},
        {"/plain", "application/octet-stream"},
        {"text/plain garbage", "application/octet-stream"},
        {"text/pl\"ain", "application/octet-stream"},
        {"te xt/plain", "application/octet-stream"},
        {"text/pl\xC3\xA9in", "application/octet-stream"},
        {"text/plain\r\nX-Injected: 1", "application/octet-stream"},
    };
    char out[GW_MAIL_CONTENT_TYPE_SIZE];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_mail_content_type_sanitise(cases[i].in, out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: '%s', expected '%s'", i, out, cases[i].want);
    }
    char big[300];
    memset(big, 'a', sizeof big);
    big[127] = '/';
    big[255] = '\0';
    gw_mail_content_type_sanitise(big, out); /* 127 + 1 + 127: the largest */
    assert_int_equal(strlen(out), 255);
    big[128] = '/';
    big[127] = 'a';
    gw_mail_content_type_sanitise(big, out); /* a 128-character type */
    assert_string_equal(out, "application/octet-stream");
}

static void test_titles(void **state)
{
    (void)state;
    char out[GW_MAIL_TITLE_SIZE];
    assert_string_equal(gw_mail_title("Boiler broken", out), "Boiler broken");
    assert_string_equal(gw_mail_title(NULL, out), "(no subject)");
    assert_string_equal(gw_mail_title(" \t\r\n ", out), "(no subject)");
    assert_string_equal(gw_mail_title("\xE2\x80\xAE", out), "(no subject)");
    assert_string_equal(gw_mail_title("  Re:\r\n  the   boiler\t", out), "Re: the boiler");
    assert_string_equal(gw_mail_title("bad\xFFtext", out), "bad\xEF\xBF\xBDtext");
    assert_string_equal(gw_mail_title("caf\xC3\xA9 \xE2\x80\x8Bok", out), "caf\xC3\xA9 ok");

    /* 400 four-byte characters: cut at 300 characters, whole ones. */
    char in[2000];
    for (size_t i = 0; i < 400; i++)
        memcpy(in + 4 * i, "\xF0\x9F\x93\x8E", 4);
    in[1600] = '\0';
    gw_mail_title(in, out);
    assert_int_equal(strlen(out), 1200);
    valid_utf8(out);
    /* A space is never the last character, even at the cut. */
    memset(in, 'x', 299);
    strcpy(in + 299, " yz");
    gw_mail_title(in, out);
    assert_int_equal(strlen(out), 299);

    char name[16];
    assert_int_equal(gw_mail_clean_line("Ann  Lee", 200, name, sizeof name), 7);
    assert_string_equal(name, "Ann Lee");
    /* The buffer bounds it too, on a character boundary. */
    assert_int_equal(
        gw_mail_clean_line("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 200,
                           name, 6),
        4);
    assert_int_equal(gw_mail_clean_line("abc", 2, name, sizeof name), 2);
    assert_string_equal(name, "ab");
}

static void test_message_ids(void **state)
{
    (void)state;
    char out[GW_MAIL_MESSAGE_ID_SIZE];
    assert_int_equal(gw_mail_message_id_normalise("<abc@example.com>", out), 0);
    assert_string_equal(out, "<abc@example.com>");
    assert_int_equal(gw_mail_message_id_normalise("  abc@example.com\r\n", out), 0);
    assert_string_equal(out, "<abc@example.com>");
    assert_int_equal(gw_mail_message_id_normalise("no-at-sign", out), 0);
    assert_string_equal(out, "<no-at-sign>");
    static const char *const bad[] = {NULL,
                                      "",
                                      "<>",
                                      "  ",
                                      "a b@c",
                                      "<a<b@c>",
                                      "a\x01@b",
                                      "caf\xC3\xA9@example.com",
                                      "<abc@example.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(out, "x");
        if (gw_mail_message_id_normalise(bad[i], out) != -1)
            fail_msg("case %zu accepted: %s", i, out);
        assert_string_equal(out, "");
    }
    /* 253 inside + 2 brackets = 255 is the largest. */
    char in[300];
    memset(in, 'm', 253);
    in[253] = '\0';
    assert_int_equal(gw_mail_message_id_normalise(in, out), 0);
    assert_int_equal(strlen(out), 255);
    memset(in, 'm', 254);
    in[254] = '\0';
    assert_int_equal(gw_mail_message_id_normalise(in, out), -1);
}

static void test_utf8_prefix(void **state)
{
    (void)state;
    const char *s = "a\xC3\xA9\xE6\x97\xA5"; /* 1 + 2 + 3 bytes */
    assert_int_equal(gw_mail_utf8_prefix(s, 6, 10), 6);
    assert_int_equal(gw_mail_utf8_prefix(s, 6, 6), 6);
    assert_int_equal(gw_mail_utf8_prefix(s, 6, 5), 3);
    assert_int_equal(gw_mail_utf8_prefix(s, 6, 4), 3);
    assert_int_equal(gw_mail_utf8_prefix(s, 6, 3), 3);
    assert_int_equal(gw_mail_utf8_prefix(s, 6, 2), 1);
    assert_int_equal(gw_mail_utf8_prefix(s, 6, 0), 0);
    assert_int_equal(gw_mail_utf8_prefix(NULL, 6, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filenames),
        cmocka_unit_test(test_long_filenames_keep_their_extension),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_titles),
        cmocka_unit_test(test_message_ids),
        cmocka_unit_test(test_utf8_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
