/* test_log.c — the structured logger: one valid JSON object per line, escaping, the request
 * id, levels, and that registered secrets never reach a line. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/base/log.h"
#include "gateway/base/log_budget.h"
#include "tests/support/files.h"

/* Runs fn with stderr sent to a file and returns what it wrote (caller frees). */
static char *capture(void (*fn)(void))
{
    char *dir = test_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/stderr", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    fn();
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    close(fd);
    char *out = test_read(path, NULL);
    assert_non_null(out);
    test_rmtree(dir);
    free(dir);
    return out;
}

static cJSON *only_line(const char *out)
{
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0'); /* exactly one line */
    cJSON *j = cJSON_ParseWithLength(out, (size_t)(nl - out));
    if (j == NULL)
        fail_msg("not JSON: %s", out);
    return j;
}

static const char *str_field(cJSON *j, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void log_plain(void)
{
    gw_log_configure(GW_LOG_INFO, GW_LOG_FORMAT_JSON);
    gw_log_info("req-1", "hello \"world\"\n\ttab \x01 and \xff bad utf-8 and caf\xc3\xa9");
}

static void test_line_is_json_with_fields(void **state)
{
    (void)state;
    char *out = capture(log_plain);
    cJSON *j = only_line(out);
    assert_string_equal(str_field(j, "level"), "info");
    assert_string_equal(str_field(j, "request_id"), "req-1");
    assert_non_null(str_field(j, "time"));
    assert_int_equal(strlen(str_field(j, "time")), strlen("2026-11-29T07:41:57.054Z"));
    assert_string_equal(str_field(j, "msg"),
                        "hello \"world\"\n\ttab \x01 and \xef\xbf\xbd bad utf-8 and caf\xc3\xa9");
    cJSON_Delete(j);
    free(out);
}

static void log_levels(void)
{
    gw_log_configure(GW_LOG_WARN, GW_LOG_FORMAT_JSON);
    gw_log_info(NULL, "hidden");
    gw_log_debug(NULL, "hidden too");
    gw_log_warn(NULL, "shown");
    gw_log_configure(GW_LOG_INFO, GW_LOG_FORMAT_JSON);
}

static void test_levels_below_minimum_are_dropped(void **state)
{
    (void)state;
    char *out = capture(log_levels);
    cJSON *j = only_line(out);
    assert_string_equal(str_field(j, "msg"), "shown");
    assert_string_equal(str_field(j, "level"), "warn");
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "request_id"));
    cJSON_Delete(j);
    free(out);
}

static const char secret[] = "s3cr3t-signing-key-0123";

static void log_secret_everywhere(void)
{
    gw_log_register_secret(secret, strlen(secret));
    gw_log_info(secret, "key is %s, twice: %s%s", secret, secret, secret);
    struct gw_log_field f[] = {GW_LOG_STR("header", secret), GW_LOG_NUM("n", 7)};
    gw_log_fields(GW_LOG_ERROR, NULL, "fields", f, 2);
    gw_log_forget_secrets();
}

static void test_registered_secrets_are_redacted(void **state)
{
    (void)state;
    char *out = capture(log_secret_everywhere);
    assert_null(strstr(out, secret));
    assert_null(strstr(out, "s3cr3t"));
    assert_non_null(strstr(out, "key is [REDACTED], twice: [REDACTED][REDACTED]"));
    assert_non_null(strstr(out, "\"header\":\"[REDACTED]\""));
    assert_non_null(strstr(out, "\"n\":7"));
    free(out);
}

static void log_text(void)
{
    gw_log_configure(GW_LOG_DEBUG, GW_LOG_FORMAT_TEXT);
    gw_log_debug("r9", "two\nlines");
    gw_log_configure(GW_LOG_INFO, GW_LOG_FORMAT_JSON);
}

static void test_text_format_keeps_one_line(void **state)
{
    (void)state;
    char *out = capture(log_text);
    assert_non_null(strstr(out, " debug two\\x0alines request_id=r9\n"));
    assert_int_equal(strchr(out, '\n')[1], '\0');
    free(out);
}

static void test_redact_and_sensitive_headers(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(gw_log_redact(secret, strlen(secret), buf, sizeof(buf)),
                        "[redacted, 23 bytes]");
    assert_true(gw_log_header_is_sensitive("Authorization"));
    assert_true(gw_log_header_is_sensitive("x-slack-signature"));
    assert_true(gw_log_header_is_sensitive("X-Hook-Secret"));
    assert_true(gw_log_header_is_sensitive("X-Goog-Channel-Token"));
    assert_true(gw_log_header_is_sensitive("cookie"));
    assert_false(gw_log_header_is_sensitive("Content-Type"));
    assert_false(gw_log_header_is_sensitive("X-Request-Id"));
}

/* A flood of one kind of line: 20 a second are written, the rest counted, and the count is
 * told once, before the first line of a later second. */
static void flood_of_lines(void)
{
    gw_log_configure(GW_LOG_INFO, GW_LOG_FORMAT_JSON);
    struct gw_log_budget b = {.what = "rejected requests"};
    unsigned written = 0;
    for (int i = 0; i < 100; i++)
        if (gw_log_budget_take(&b, GW_LOG_WARN, 5000 + (uint64_t)i)) /* all in second 5 */
            written++;
    assert_int_equal(written, 20);
    assert_true(gw_log_budget_take(&b, GW_LOG_WARN, 7000)); /* tells the 80 first */
    assert_true(gw_log_budget_take(&b, GW_LOG_WARN, 7001));
    b.per_second = 2;
    assert_false(gw_log_budget_take(&b, GW_LOG_WARN, 7002));
    assert_true(gw_log_budget_take(&b, GW_LOG_WARN, 8000)); /* tells the 1 */
}

static void test_log_budget_bounds_a_flood(void **state)
{
    (void)state;
    char *out = capture(flood_of_lines);
    const char *first = strstr(out, "80 more rejected requests not logged one by one");
    const char *second = strstr(out, "1 more rejected requests not logged one by one");
    if (first == NULL || second == NULL || strstr(first + 1, "80 more") != NULL)
        fail_msg("want one line for the 80 held back and one for the 1:\n%s", out);
    cJSON *j = cJSON_ParseWithLength(out, (size_t)(strchr(out, '\n') - out));
    assert_non_null(j);
    assert_string_equal(str_field(j, "level"), "warn");
    cJSON_Delete(j);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_is_json_with_fields),
        cmocka_unit_test(test_levels_below_minimum_are_dropped),
        cmocka_unit_test(test_registered_secrets_are_redacted),
        cmocka_unit_test(test_text_format_keeps_one_line),
        cmocka_unit_test(test_redact_and_sensitive_headers),
        cmocka_unit_test(test_log_budget_bounds_a_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
