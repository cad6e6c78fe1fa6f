/* test_text.c — the pure text helpers of the Slack provider: escaping for Slack,
 * decoding what Slack sends, command words, mentions, durations and response_url checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/slack/reply.h"
#include "adapters/slack/text.h"
#include "gateway/core/jobs.h"

static void test_escape_only_three_characters(void **state)
{
    (void)state;
    char out[256];
    size_t len = 0;
    out[0] = '\0';
    assert_true(gw_slack_escape_append(out, sizeof(out), &len,
                                       "<!channel> <@U123> <https://x|y> & more \"'*_"));
    assert_string_equal(out, "&lt;!channel&gt; &lt;@U123&gt; &lt;https://x|y&gt; &amp; more "
                             "\"'*_");
    assert_int_equal(len, strlen(out));
    /* Already-escaped text is escaped again: it is the user's literal text. */
    len = 0;
    assert_true(gw_slack_escape_append(out, sizeof(out), &len, "&amp;"));
    assert_string_equal(out, "&amp;amp;");
}

static void test_escape_cuts_whole_entities_and_characters(void **state)
{
    (void)state;
    char out[8];
    size_t len = 0;
    out[0] = '\0';
    assert_false(gw_slack_escape_append(out, sizeof(out), &len, "abcd<e"));
    assert_string_equal(out, "abcd"); /* "&lt;" does not fit: none of it */
    len = 0;
    assert_false(gw_slack_append(out, sizeof(out), &len, "abcdef\xC3\xA9"));
    assert_string_equal(out, "abcdef"); /* é (2 bytes) would not fit whole */
}

static void test_unescape_amp_last(void **state)
{
    (void)state;
    char s[] = "a &lt;b&gt; &amp;lt; &amp;";
    gw_slack_unescape(s);
    assert_string_equal(s, "a <b> &lt; &");
}

static void test_next_word(void **state)
{
    (void)state;
    const char *s = "  show\t CT-000123  rest of it";
    char w[16];
    assert_true(gw_slack_next_word(&s, w, sizeof(w)));
    assert_string_equal(w, "show");
    assert_true(gw_slack_next_word(&s, w, sizeof(w)));
    assert_string_equal(w, "CT-000123");
    assert_string_equal(s, "rest of it");
    const char *e = "   ";
    assert_false(gw_slack_next_word(&e, w, sizeof(w)));
    const char *l = "averyveryverylongword";
    assert_false(gw_slack_next_word(&l, w, sizeof(w)));
}

static void test_minutes(void **state)
{
    (void)state;
    assert_int_equal(gw_slack_parse_minutes("90m"), 90);
    assert_int_equal(gw_slack_parse_minutes("1h30m"), 90);
    assert_int_equal(gw_slack_parse_minutes("1.5h"), 90);
    assert_int_equal(gw_slack_parse_minutes("2h"), 120);
    assert_int_equal(gw_slack_parse_minutes("1m"), 1);
    assert_int_equal(gw_slack_parse_minutes("24h"), 1440);
    assert_int_equal(gw_slack_parse_minutes("0m"), -1);
    assert_int_equal(gw_slack_parse_minutes("24h1m"), -1);
    assert_int_equal(gw_slack_parse_minutes("1441m"), -1);
    assert_int_equal(gw_slack_parse_minutes("1h60m"), -1);
    assert_int_equal(gw_slack_parse_minutes("1.55h"), -1);
    assert_int_equal(gw_slack_parse_minutes("1.5m"), -1);
    assert_int_equal(gw_slack_parse_minutes("90"), -1);
    assert_int_equal(gw_slack_parse_minutes("h"), -1);
    assert_int_equal(gw_slack_parse_minutes("-5m"), -1);
    assert_int_equal(gw_slack_parse_minutes("99999m"), -1);
    assert_int_equal(gw_slack_parse_minutes(""), -1);
}

static void test_mentions(void **state)
{
    (void)state;
    char id[32];
    assert_true(gw_slack_parse_mention("<@U123ABC>", id, sizeof(id)));
    assert_string_equal(id, "U123ABC");
    assert_true(gw_slack_parse_mention("<@W42|jane.doe>", id, sizeof(id)));
    assert_string_equal(id, "W42");
    assert_false(gw_slack_parse_mention("<@U1> x", id, sizeof(id)));
    assert_false(gw_slack_parse_mention("@jane", id, sizeof(id)));
    assert_false(gw_slack_parse_mention("<@>", id, sizeof(id)));
    assert_false(gw_slack_parse_mention("<@u1>", id, sizeof(id)));
    assert_false(gw_slack_parse_mention("<@U1|name", id, sizeof(id)));
    assert_false(gw_slack_parse_mention("<#C1>", id, sizeof(id)));
}

static void test_refs(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(gw_job_ref_normalise("CT-000123", out), 0);
    assert_string_equal(out, "CT-000123");
    assert_int_equal(gw_job_ref_normalise("ct-123", out), 0);
    assert_string_equal(out, "CT-000123");
    assert_int_equal(gw_job_ref_normalise("123", out), 0);
    assert_string_equal(out, "CT-000123");
    assert_int_equal(gw_job_ref_normalise("CT-", out), -1);
    assert_int_equal(gw_job_ref_normalise("CT-12a", out), -1);
    assert_int_equal(gw_job_ref_normalise("0", out), -1);
}

static void test_response_url_allowed(void **state)
{
    (void)state;
    char *local[] = {"127.0.0.1", "[::1]", "hooks.slack.com"};
    assert_true(gw_slack_reply_url_allowed("https://hooks.slack.com/commands/1/2", NULL, 0));
    assert_true(gw_slack_reply_url_allowed("https://HOOKS.slack.com/commands/1/2", NULL, 0));
    assert_false(gw_slack_reply_url_allowed("http://hooks.slack.com/commands/1/2", NULL, 0));
    assert_false(gw_slack_reply_url_allowed("https://evil.example/commands", NULL, 0));
    assert_false(gw_slack_reply_url_allowed("https://hooks.slack.com.evil.example/x", NULL, 0));
    assert_false(gw_slack_reply_url_allowed("https://u:p@hooks.slack.com/x", NULL, 0));
    assert_false(gw_slack_reply_url_allowed("ftp://hooks.slack.com/x", NULL, 0));
    assert_false(gw_slack_reply_url_allowed("not a url", NULL, 0));
    assert_true(gw_slack_reply_url_allowed("http://127.0.0.1:8080/r", local, 3));
    assert_true(gw_slack_reply_url_allowed("http://[::1]:8080/r", local, 3));
    assert_false(gw_slack_reply_url_allowed("http://127.0.0.1:8080/r", NULL, 0));
    assert_false(gw_slack_reply_url_allowed("http://hooks.slack.com/r", local, 3));
}

static void test_response_url_at_most_five_in_thirty_minutes(void **state)
{
    (void)state;
    const char *url = "https://hooks.slack.com/commands/T1/5/abc";
    time_t t0 = 1767225600;
    for (int i = 0; i < GW_SLACK_REPLY_MAX_POSTS; i++)
        assert_true(gw_slack_reply_take(url, t0, t0 + i));
    assert_false(gw_slack_reply_take(url, t0, t0 + 10));
    assert_true(gw_slack_reply_take("https://hooks.slack.com/commands/T1/6/abc", t0, t0 + 10));
    /* Too late, whatever the count. */
    assert_false(gw_slack_reply_take("https://hooks.slack.com/commands/T1/7/abc", t0,
                                     t0 + GW_SLACK_REPLY_WINDOW_S + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_only_three_characters),
        cmocka_unit_test(test_escape_cuts_whole_entities_and_characters),
        cmocka_unit_test(test_unescape_amp_last),
        cmocka_unit_test(test_next_word),
        cmocka_unit_test(test_minutes),
        cmocka_unit_test(test_mentions),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_response_url_allowed),
        cmocka_unit_test(test_response_url_at_most_five_in_thirty_minutes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
