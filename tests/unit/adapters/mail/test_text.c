/* test_text.c — the mail parser's text stages on their own: cleaning and bounding UTF-8,
 * charset decoding and its repairs, HTML to text, format=flowed, and reply separation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/mail/charset.h"
#include "adapters/mail/flowed.h"
#include "adapters/mail/html_text.h"
#include "adapters/mail/quote.h"
#include "adapters/mail/text.h"

/* The text of html, converted with room for max bytes (freed by the next call). */
static const char *html(const char *in, size_t max)
{
    static char *last;
    free(last);
    struct gw_mail_buf b;
    gw_mail_buf_init(&b, max);
    gw_mail_html_to_text(&b, in, strlen(in));
    last = gw_mail_buf_take(&b);
    assert_non_null(last);
    return last;
}

static const char *decode(const char *charset, const char *in, size_t n, enum gw_mail_decoded *how)
{
    static char *last;
    free(last);
    struct gw_mail_buf b;
    gw_mail_buf_init(&b, 4096);
    *how = gw_mail_charset_decode(&b, charset, (const unsigned char *)in, n);
    last = gw_mail_buf_take(&b);
    assert_non_null(last);
    assert_true(gw_mail_utf8_valid(last, strlen(last), NULL));
    return last;
}

static void test_buffer_bounds(void **state)
{
    (void)state;
    struct gw_mail_buf b;
    gw_mail_buf_init(&b, 5);
    assert_true(gw_mail_buf_adds(&b, "ab"));
    assert_false(gw_mail_buf_adds(&b, "c\xe2\x82\xac")); /* c€: € (3 bytes) does not fit */
    assert_true(b.cut);
    assert_string_equal(b.p, "abc");
    assert_false(gw_mail_buf_adds(&b, "d")); /* nothing after a cut */
    assert_string_equal(b.p, "abc");
    gw_mail_buf_free(&b);

    gw_mail_buf_init(&b, 16);
    gw_mail_buf_add_cp(&b, 0);
    gw_mail_buf_add_cp(&b, 0xD800);
    gw_mail_buf_add_cp(&b, 0x110000);
    gw_mail_buf_add_cp(&b, 0x1F600);
    assert_string_equal(b.p, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80");
    gw_mail_buf_free(&b);
}

static void test_utf8_checks(void **state)
{
    (void)state;
    size_t multi;
    assert_true(gw_mail_utf8_valid("a\xc3\xa9\xf0\x9f\x98\x80", 7, &multi));
    assert_int_equal(multi, 2);
    assert_false(gw_mail_utf8_valid("\xc0\xaf", 2, NULL));         /* overlong */
    assert_false(gw_mail_utf8_valid("\xed\xa0\x80", 3, NULL));     /* surrogate */
    assert_false(gw_mail_utf8_valid("\xf4\x90\x80\x80", 4, NULL)); /* past U+10FFFF */
    assert_false(gw_mail_utf8_valid("\xe2\x82", 2, NULL));         /* truncated */
}

static void test_clean(void **state)
{
    (void)state;
    struct gw_mail_buf b;
    gw_mail_buf_init(&b, 100);
    static const char in[] = "a\0b\r\nc\rd\x01\x7f\xc2\x85\xef\xbb\xbf\te\xff";
    gw_mail_clean(&b, in, sizeof(in) - 1, GW_MAIL_CLEAN_TEXT);
    assert_string_equal(b.p, "ab\nc\nd\te\xef\xbf\xbd");
    gw_mail_buf_free(&b);

    char *line = gw_mail_text_clean("  two\r\n\t words \x01 here  ", 100, NULL);
    assert_string_equal(line, "two words here");
    free(line);
    bool cut = false;
    line = gw_mail_text_clean("abc d\xc3\xa9", 6, &cut);
    assert_string_equal(line, "abc d");
    assert_true(cut);
    free(line);
    line = gw_mail_text_clean(NULL, 10, NULL);
    assert_string_equal(line, "");
    free(line);
}

static void test_charsets(void **state)
{
    (void)state;
    enum gw_mail_decoded how;
    assert_string_equal(decode("x-gbk", "\xc4\xe3\xba\xc3", 4, &how), "你好");
    assert_int_equal(how, GW_MAIL_DECODED_DECLARED);
    assert_string_equal(decode("ks_c_5601-1987", "\xc7\xd1\xb1\xb9\xbe\xee", 6, &how), "한국어");
    assert_string_equal(decode("KOI8-R", "\xf0\xd2\xc9\xd7\xc5\xd4", 6, &how), "Привет");
    assert_string_equal(decode("unicode-1-1-utf-7", "Hi +JgM there", 13, &how), "Hi ☃ there");
    assert_string_equal(decode("utf-16le", "H\0i\0 \0\x03\x26", 8, &how), "Hi ☃");
    assert_string_equal(decode("iso-2022-jp", "\x1b$B$3$s\x1b(B!", 11, &how), "こん!");
    /* Mislabelled UTF-8 is UTF-8; unknown labels are as good as none. */
    assert_string_equal(decode("koi8-r", "\xc3\xa9t\xc3\xa9", 5, &how), "été");
    assert_int_equal(how, GW_MAIL_DECODED_UTF8);
    assert_string_equal(decode("no-such-thing", "caf\xc3\xa9", 5, &how), "café");
    assert_string_equal(decode("no-such-thing", "caf\xe9", 4, &how), "café");
    assert_int_equal(how, GW_MAIL_DECODED_CP1252);
    assert_string_equal(decode(NULL, "\x80\x81\x9f", 3, &how), "€\xc2\x81Ÿ");
    /* A few bad bytes in a multi-byte charset: the declared one, with U+FFFD. */
    assert_string_equal(
        decode("Shift_JIS", "\x82\xa0\x82\xa2\x82\xa4\x82\xa6\x82\xa8\xff", 11, &how),
        "あいうえお\xef\xbf\xbd");
    assert_int_equal(how, GW_MAIL_DECODED_LOSSY);
    assert_string_equal(decode("utf-8", "", 0, &how), "");
}

static void test_html_entities(void **state)
{
    (void)state;
    assert_string_equal(html("&lt;a&gt; &amp;amp; &quot;q&quot; &#39;s&#39; &hellip;", 100),
                        "<a> &amp; \"q\" 's' …");
    assert_string_equal(html("&#0;|&#x110000;|&#xD800;|&#150;|&#99999999999;", 100),
                        "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|–|\xef\xbf\xbd");
    /* Legacy entities without ';' only for the few old mail uses; others stay literal. */
    assert_string_equal(html("AT&amp T &copy 2026 &eacute &nosuch; &", 100),
                        "AT& T © 2026 &eacute &nosuch; &");
}

static void test_html_structure(void **state)
{
    (void)state;
    assert_string_equal(html("a < b and c<3", 100), "a < b and c<3");
    assert_string_equal(html("x<!-- never closed <p>y", 100), "x");
    assert_string_equal(html("<pre>  two\n    lines</pre>after", 100), "  two\n    lines\n\nafter");
    assert_string_equal(
        html("<blockquote>one<blockquote>two</blockquote>three</blockquote>end", 100),
        "> one\n>\n>> two\n>\n> three\n\nend");
    assert_string_equal(html("<STYLE>x{}</style><SCRIPT>y()</SCRIPT>z", 100), "z");
    assert_string_equal(html("<script>never closed", 100), "");
    assert_string_equal(html("<p>a</p><p></p><p></p><p>b</p><br><br><br><br>c", 100),
                        "a\n\nb\n\nc");
    /* Links: text (url); a bare URL once; no target for anchors, cid: or javascript:. */
    assert_string_equal(html("<a href=\"https://x.example/\">https://x.example</a> "
                             "<a href=\"#top\">top</a> <a href=javascript:void(0)>js</a> "
                             "<a href=\"https://y.example\"><img src=y.png></a> "
                             "<a href=\" https://z.example/\n?q=1 \">z</a>",
                             200),
                        "https://x.example top js https://y.example z (https://z.example/?q=1)");
    /* Broken tags never hang or overrun. */
    assert_string_equal(html("<a href=\"unterminated", 100), "");
    assert_string_equal(html("<p class='x' / >text<", 100), "text<");
    assert_string_equal(html("</ 3>ok<?php echo ?>", 100), "ok");
}

static void test_html_bound(void **state)
{
    (void)state;
    assert_string_equal(html("<p>abcdefghij</p><p>klm</p>", 8), "abcdefgh");
    char charset[16];
    const char doc[] = "<html><head><meta http-equiv=\"Content-Type\" "
                       "content=\"text/html; charset=Windows-1252\"></head>";
    assert_true(gw_mail_html_charset((const unsigned char *)doc, sizeof(doc) - 1, charset,
                                     sizeof(charset)));
    assert_string_equal(charset, "Windows-1252");
    const char doc2[] = "<meta charset='utf-8'>";
    assert_true(gw_mail_html_charset((const unsigned char *)doc2, sizeof(doc2) - 1, charset,
                                     sizeof(charset)));
    assert_string_equal(charset, "utf-8");
    assert_false(gw_mail_html_charset((const unsigned char *)"<p>charset</p>", 14, charset,
                                      sizeof(charset)));
}

static void test_flowed(void **state)
{
    (void)state;
    struct gw_mail_buf b;
    gw_mail_buf_init(&b, 200);
    static const char in[] = "one \r\ntwo\r\n>> deep \r\n>> er\r\n> back \r\nplain\r\n";
    gw_mail_unflow(&b, in, sizeof(in) - 1, false);
    assert_string_equal(b.p, "one two\n>> deep er\n> back \nplain\n");
    gw_mail_buf_free(&b);
    gw_mail_buf_init(&b, 200);
    gw_mail_unflow(&b, "spl \r\nit", 8, true);
    assert_string_equal(b.p, "split");
    gw_mail_buf_free(&b);
}

static const char *reply(const char *text)
{
    static char *last;
    free(last);
    last = gw_mail_quote_reply(text, strlen(text));
    assert_non_null(last);
    return last;
}

static void test_quote_rules(void **state)
{
    (void)state;
    assert_string_equal(reply(""), "");
    assert_string_equal(reply("\n\nJust this.\n\n"), "Just this.");
    assert_string_equal(reply("Yes.\n\n----- Original Message -----\nFrom: x\n"), "Yes.");
    assert_string_equal(reply("Ja.\n\n-----Ursprüngliche Nachricht-----\nVon: x\n"), "Ja.");
    assert_string_equal(reply("Ok\n\nEl lun, 2 mar 2026, Ana <a@x.es> escribió:\n> hola\n"), "Ok");
    assert_string_equal(reply("好的\n\n在 2026年3月2日，Ana <a@x.cn> 写道：\n> 你好\n"), "好的");
    /* Only a quote: nothing new. */
    assert_string_equal(reply("> all\n> quoted\n"), "");
    assert_string_equal(reply("-----Original Message-----\nFrom: x\nSent: y\n\nold\n"), "");
    /* Dashes alone are no separator, "Original Message" in a sentence no header. */
    assert_string_equal(reply("a\n-----\nb"), "a\n-----\nb");
    assert_string_equal(reply("Re the original message from Jane: fine."),
                        "Re the original message from Jane: fine.");
    /* A long paragraph that happens to end in "wrote:" is not an attribution. */
    char long_line[600];
    memset(long_line, 'x', sizeof(long_line));
    memcpy(long_line + 3, " ", 1);
    memcpy(long_line, "On ", 3);
    memcpy(long_line + sizeof(long_line) - 8, " wrote:", 8);
    assert_string_equal(reply(long_line), long_line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffer_bounds), cmocka_unit_test(test_utf8_checks),
        cmocka_unit_test(test_clean),         cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_html_entities), cmocka_unit_test(test_html_structure),
        cmocka_unit_test(test_html_bound),    cmocka_unit_test(test_flowed),
        cmocka_unit_test(test_quote_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
