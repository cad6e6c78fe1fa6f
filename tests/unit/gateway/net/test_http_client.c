/* test_http_client.c — which URLs the outbound HTTP client may call: https anywhere, http
 * only to a loopback address, never with credentials in the URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "gateway/net/http_client.h"

static void test_allowed_urls(void **state)
{
    (void)state;
    const char *ok[] = {
        "https://api.xero.com/api.xro/2.0/Invoices/a03ffcd2-5d91-4c7e-b483-318584e9e439",
        "https://identity.xero.com/connect/token",
        "http://127.0.0.1:18000/api.xro/2.0",
        "http://127.1.2.3/x",
        "http://[::1]:8080/connect/token",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!gw_http_url_allowed(ok[i]))
            fail_msg("refused %s", ok[i]);
    const char *refused[] = {
        "http://api.xero.com/api.xro/2.0", /* plain http to the world */
        "http://localhost:8080/",          /* a name, whatever it resolves to */
        "http://10.0.0.1/",                /* private, not loopback */
        "http://[::ffff:10.0.0.1]/",       /* mapped, not loopback */
        "https://user:pw@api.xero.com/",   /* credentials in the URL */
        "ftp://127.0.0.1/",                /* another scheme */
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/",
        "not a url",
        "",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (gw_http_url_allowed(refused[i]))
            fail_msg("allowed %s", refused[i]);
    assert_false(gw_http_url_allowed(NULL));
    char long_url[3000];
    memset(long_url, 'a', sizeof(long_url) - 1);
    memcpy(long_url, "https://x/", 10);
    long_url[sizeof(long_url) - 1] = '\0';
    assert_false(gw_http_url_allowed(long_url));
}

static void test_refused_call_is_not_sent(void **state)
{
    (void)state;
    struct gw_http_call call = {.method = "GET", .url = "http://192.0.2.1/"};
    struct gw_http_answer a;
    assert_int_equal(gw_http_perform(&call, &a), -1);
    assert_true(a.refused);
    assert_int_equal(a.status, 0);
    assert_null(a.body);
    gw_http_answer_free(&a);
}

static void test_loopback_hosts(void **state)
{
    (void)state;
    assert_true(gw_http_host_is_loopback("127.0.0.1"));
    assert_true(gw_http_host_is_loopback("127.255.255.254"));
    assert_true(gw_http_host_is_loopback("[::1]"));
    assert_false(gw_http_host_is_loopback("128.0.0.1"));
    assert_false(gw_http_host_is_loopback("localhost"));
    assert_false(gw_http_host_is_loopback("::1")); /* curl gives IPv6 hosts in brackets */
    assert_false(gw_http_host_is_loopback("[::2]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_urls),
        cmocka_unit_test(test_refused_call_is_not_sent),
        cmocka_unit_test(test_loopback_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
