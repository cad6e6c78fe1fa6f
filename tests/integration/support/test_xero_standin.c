/* test_xero_standin.c — the Xero stand-in (tests/support/xero_standin.c) exercised with
 * libcurl over loopback: resources, 404/403/406, fail_next (429 with Retry-After, 5xx), the
 * whole OAuth2 refresh flow with rotation and the grace window, invalid_grant, hold mode with a
 * client that gives up, concurrency, the size and time bounds, a prompt stop; and the Xero
 * fixtures' invariants. No database is used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "config/config.h"
#include "tests/support/checks.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/xero_standin.h"
#include "verifiers/base64.h"
#include "verifiers/xero.h"

#define FIXTURES      CTGW_SOURCE_ROOT "/tests/fixtures/xero"
#define CLIENT_ID     "CTGWTESTCLIENTID0000000000000000"
#define CLIENT_SECRET "ctgw-test-client-secret-0000000000000000000000"
#define FIRST_RT      "rt-initial"
#define TENANT_A      "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
#define TENANT_B      "8f3b6a1e-2d4c-4b7a-9e5f-6c1d0a2b3e4f"
#define INVOICE_1     "a03ffcd2-5d91-4c7e-b483-318584e9e439"
#define INVOICE_2     "4074292c-09b3-456d-84e7-add864c6c39b"
#define BILL          "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2"
#define CONTACT_1     "430fa14a-f945-44d3-9f97-5df5e28441b8"
#define INVOICES      "/api.xro/2.0/Invoices/"
#define CONTACTS      "/api.xro/2.0/Contacts/"

struct fixture {
    struct ts_xero *x;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->x = ts_xero_start();
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, FIRST_RT);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ts_xero_stop(f->x);
    free(f);
    return 0;
}

static void url(struct fixture *f, const char *path, char *out, size_t len)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", (unsigned)ts_xero_port(f->x), path);
}

static void b64(const char *in, char *out, size_t cap)
{
    if (gw_base64_encode((const unsigned char *)in, strlen(in), out, cap, 0) == 0 && *in != '\0')
        fail_msg("base64 of %s does not fit", in);
}

/* POST /connect/token with HTTP Basic id:secret (no Authorization when id is NULL), the given
 * form body; timeout_ms 0: 10 s. */
static void token_call(struct fixture *f, const char *id, const char *secret, const char *form,
                       long timeout_ms, struct ts_http *out)
{
    char u[128], pair[256], enc[400], auth[440];
    url(f, "/connect/token", u, sizeof(u));
    snprintf(pair, sizeof(pair), "%s:%s", id ? id : "", secret ? secret : "");
    b64(pair, enc, sizeof(enc));
    snprintf(auth, sizeof(auth), "Authorization: Basic %s", enc);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          "Accept: application/json", id ? auth : NULL, NULL};
    struct ts_http_opts o = {.timeout_ms = timeout_ms};
    ts_http_with("POST", u, hdrs, form, &o, out);
}

/* A refresh with the right client credentials. */
static void refresh(struct fixture *f, const char *rt, long timeout_ms, struct ts_http *out)
{
    char form[256];
    snprintf(form, sizeof(form), "grant_type=refresh_token&refresh_token=%s", rt);
    token_call(f, CLIENT_ID, CLIENT_SECRET, form, timeout_ms, out);
}

/* Refreshes rt, asserts 200 and returns the access token issued (caller frees). */
static char *refresh_ok(struct fixture *f, const char *rt)
{
    struct ts_http r;
    refresh(f, rt, 0, &r);
    if (r.status != 200)
        fail_msg("refresh with %s: %ld %s %s", rt, r.status, r.body, r.error);
    char *at = ts_json_string(r.body, "access_token");
    assert_non_null(at);
    ts_http_free(&r);
    return at;
}

static void expect_token_error(struct fixture *f, const char *id, const char *secret,
                               const char *form, long status, const char *error)
{
    struct ts_http r;
    token_call(f, id, secret, form, 0, &r);
    if (r.status != status)
        fail_msg("%s: want %ld, got %ld %s", form, status, r.status, r.body);
    char *e = ts_json_string(r.body, "error");
    assert_non_null(e);
    assert_string_equal(e, error);
    free(e);
    ts_http_free(&r);
}

/* GET path with the given access token, tenant and Accept (NULL: header left out). */
static void api_get(struct fixture *f, const char *path, const char *access, const char *tenant,
                    const char *accept, struct ts_http *out)
{
    char u[2200], a[160], t[160], acc[160];
    url(f, path, u, sizeof(u));
    const char *hdrs[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    if (access != NULL) {
        snprintf(a, sizeof(a), "Authorization: Bearer %s", access);
        hdrs[n++] = a;
    }
    if (tenant != NULL) {
        snprintf(t, sizeof(t), "xero-tenant-id: %s", tenant);
        hdrs[n++] = t;
    }
    if (accept != NULL) {
        snprintf(acc, sizeof(acc), "Accept: %s", accept);
        hdrs[n++] = acc;
    }
    ts_http("GET", u, hdrs, NULL, out);
}

static long api_status(struct fixture *f, const char *path, const char *access)
{
    struct ts_http r;
    api_get(f, path, access, TENANT_A, "application/json", &r);
    long s = r.status;
    ts_http_free(&r);
    return s;
}

/* A JSON error answer's "Status" and "Detail" checked. */
static void expect_api_error(const struct ts_http *r, long status, const char *detail_prefix)
{
    if (r->status != status)
        fail_msg("want %ld, got %ld %s", status, r->status, r->body);
    cJSON *o = cJSON_Parse(r->body);
    assert_non_null(o);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "Status")->valueint, status);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "Detail");
    assert_true(cJSON_IsString(d));
    if (strncmp(d->valuestring, detail_prefix, strlen(detail_prefix)) != 0)
        fail_msg("Detail %s, want it to start with %s", d->valuestring, detail_prefix);
    cJSON_Delete(o);
}

/* ------------------------------------------------------------------ resources */

static void test_resources(void **state)
{
    struct fixture *f = *state;
    char *at = refresh_ok(f, FIRST_RT);
    char *inv = test_fixture("xero/invoice_authorised.json");
    char *paid = test_fixture("xero/invoice_paid.json");
    struct ts_http r;
    char h[128];

    ts_xero_put(f->x, INVOICES INVOICE_1, inv);
    api_get(f, INVOICES INVOICE_1 "?unitdp=4", at, TENANT_A, "application/json", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, inv);
    assert_non_null(ts_http_header(&r, "Content-Type", h, sizeof(h)));
    assert_non_null(strstr(h, "application/json"));
    assert_non_null(ts_http_header(&r, "X-MinLimit-Remaining", h, sizeof(h)));
    assert_non_null(ts_http_header(&r, "Connection", h, sizeof(h)));
    assert_string_equal(h, "close");
    ts_http_free(&r);

    /* Replaced; matched case-insensitively, as Xero's routing is. */
    ts_xero_put(f->x, INVOICES INVOICE_1, paid);
    api_get(f, "/api.xro/2.0/invoices/A03FFCD2-5D91-4C7E-B483-318584E9E439", at, TENANT_A,
            "application/json", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, paid);
    ts_http_free(&r);

    api_get(f, INVOICES INVOICE_2, at, TENANT_A, "application/json", &r);
    expect_api_error(&r, 404, "The resource you're looking for cannot be found");
    ts_http_free(&r);
    api_get(f, "/elsewhere", at, TENANT_A, "application/json", &r);
    assert_int_equal(r.status, 404);
    ts_http_free(&r);

    /* The headers Xero requires. */
    api_get(f, INVOICES INVOICE_1, at, NULL, "application/json", &r);
    expect_api_error(&r, 403, "AuthenticationUnsuccessful");
    ts_http_free(&r);
    api_get(f, INVOICES INVOICE_1, at, TENANT_A, NULL, &r); /* curl sends Accept: * / * */
    assert_int_equal(r.status, 406);
    ts_http_free(&r);
    api_get(f, INVOICES INVOICE_1, at, TENANT_A, "application/xml", &r);
    assert_int_equal(r.status, 406);
    ts_http_free(&r);
    api_get(f, INVOICES INVOICE_1, NULL, TENANT_A, "application/json", &r);
    expect_api_error(&r, 401, "AuthenticationUnsuccessful");
    ts_http_free(&r);
    char u[256];
    url(f, INVOICES INVOICE_1, u, sizeof(u));
    const char *post_hdrs[] = {"Accept: application/json", NULL};
    assert_int_equal(ts_http("POST", u, post_hdrs, "{}", &r), 0);
    assert_int_equal(r.status, 405);
    ts_http_free(&r);

    /* /connections: no tenant header needed; [] until put. */
    api_get(f, "/connections", at, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "[]");
    ts_http_free(&r);
    char *conns = test_fixture("xero/connections.json");
    ts_xero_put(f->x, "/connections", conns);
    api_get(f, "/connections", at, NULL, "application/json", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, conns);
    ts_http_free(&r);
    api_get(f, "/connections", "at-999", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    ts_http_free(&r);

    assert_int_equal(ts_xero_count(f->x, INVOICES), 8);
    assert_int_equal(ts_xero_count(f->x, INVOICES INVOICE_1), 7);
    assert_int_equal(ts_xero_count(f->x, "/connections"), 3);
    assert_int_equal(ts_xero_count(f->x, "/connect/token"), 1);
    assert_int_equal(ts_xero_count(f->x, "/"), 13);
    free(conns);
    free(paid);
    free(inv);
    free(at);
}

/* ------------------------------------------------------------------ fail_next */

static void test_fail_next(void **state)
{
    struct fixture *f = *state;
    char *at = refresh_ok(f, FIRST_RT);
    char h[64];
    struct ts_http r;
    ts_xero_put(f->x, INVOICES INVOICE_1, "{\"Invoices\":[]}");
    ts_xero_put(f->x, CONTACTS CONTACT_1, "{\"Contacts\":[]}");

    ts_xero_fail_next(f->x, "/api.xro/2.0/Invoices", 429,
                      "Retry-After: 2\r\nX-Rate-Limit-Problem: minute\r\n", 2);
    assert_int_equal(api_status(f, CONTACTS CONTACT_1, at), 200); /* other prefix: untouched */
    for (int i = 0; i < 2; i++) {
        api_get(f, INVOICES INVOICE_1, at, TENANT_A, "application/json", &r);
        assert_int_equal(r.status, 429);
        assert_string_equal(ts_http_header(&r, "Retry-After", h, sizeof(h)), "2");
        assert_string_equal(ts_http_header(&r, "X-Rate-Limit-Problem", h, sizeof(h)), "minute");
        ts_http_free(&r);
    }
    assert_int_equal(api_status(f, INVOICES INVOICE_1, at), 200);

    /* Rules in order; they come before every other check (here: no token at all). */
    ts_xero_fail_next(f->x, INVOICES, 500, NULL, 1);
    ts_xero_fail_next(f->x, INVOICES, 503, "Retry-After: 1\r\n", 1);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, NULL), 500);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, NULL), 503);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, NULL), 401);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, at), 200);
    ts_xero_fail_next(f->x, INVOICES, 401, NULL, 1);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, at), 401);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, at), 200);

    /* On the token endpoint: no rotation happens. */
    ts_xero_fail_next(f->x, "/connect/token", 503, NULL, 1);
    int before = ts_xero_refreshes(f->x);
    char *rt = ts_xero_current_refresh_token(f->x);
    refresh(f, rt, 0, &r);
    assert_int_equal(r.status, 503);
    ts_http_free(&r);
    assert_int_equal(ts_xero_refreshes(f->x), before);
    char *at2 = refresh_ok(f, rt);
    assert_string_equal(at2, "at-2");
    ts_xero_fail_next(f->x, "/connect/token", 200, NULL, 0); /* count 0: nothing */
    free(at2);
    free(rt);
    free(at);
}

/* ------------------------------------------------------------------ tokens */

static void test_token_flow(void **state)
{
    struct fixture *f = *state;
    const char *good = "grant_type=refresh_token&refresh_token=" FIRST_RT;

    /* Client authentication, content type, grant type, unknown token. */
    expect_token_error(f, CLIENT_ID, "wrong-secret", good, 401, "invalid_client");
    expect_token_error(f, "someone-else", CLIENT_SECRET, good, 401, "invalid_client");
    expect_token_error(f, NULL, NULL, good, 401, "invalid_client");
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET, "refresh_token=" FIRST_RT, 400,
                       "unsupported_grant_type");
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET,
                       "grant_type=authorization_code&code=abc&refresh_token=" FIRST_RT, 400,
                       "unsupported_grant_type");
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET, "grant_type=refresh_token", 400,
                       "invalid_request");
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET,
                       "grant_type=refresh_token&refresh_token=rt-unknown", 400, "invalid_grant");
    assert_int_equal(ts_xero_refreshes(f->x), 0);
    assert_null(ts_xero_previous_refresh_token(f->x));

    /* The first refresh: Xero's answer, exactly. */
    struct ts_http r;
    refresh(f, FIRST_RT, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body,
                        "{\"access_token\":\"at-1\",\"expires_in\":1800,\"token_type\":\"Bearer\","
                        "\"refresh_token\":\"rt-1\",\"scope\":\"accounting.invoices.read "
                        "accounting.contacts.read offline_access\"}");
    ts_http_free(&r);
    assert_int_equal(ts_xero_refreshes(f->x), 1);
    char *cur = ts_xero_current_refresh_token(f->x), *prev = ts_xero_previous_refresh_token(f->x);
    assert_string_equal(cur, "rt-1");
    assert_string_equal(prev, FIRST_RT);
    free(cur);
    free(prev);
    ts_xero_put(f->x, INVOICES INVOICE_1, "{}");
    assert_int_equal(api_status(f, INVOICES INVOICE_1, "at-1"), 200);

    /* The second, with libcurl's own basic auth and a percent-encoded token. */
    char u[128];
    url(f, "/connect/token", u, sizeof(u));
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *hl = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, CLIENT_ID);
    curl_easy_setopt(c, CURLOPT_PASSWORD, CLIENT_SECRET);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "grant_type=refresh_token&refresh_token=rt%2D1");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    FILE *sink = fopen("/dev/null", "w");
    assert_non_null(sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    fclose(sink);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);

    /* at-1 is no longer the newest: refused as expired, with Xero's header. */
    char h[128];
    api_get(f, INVOICES INVOICE_1, "at-1", TENANT_A, "application/json", &r);
    expect_api_error(&r, 401, "TokenExpired: token expired at ");
    assert_string_equal(ts_http_header(&r, "WWW-Authenticate", h, sizeof(h)),
                        "Bearer error=\"invalid_token\"");
    ts_http_free(&r);
    api_get(f, INVOICES INVOICE_1, "at-2x", TENANT_A, "application/json", &r);
    expect_api_error(&r, 401, "AuthenticationUnsuccessful");
    ts_http_free(&r);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, "at-2"), 200);

    /* The previous refresh token (rt-1) within the grace window: a lost answer is retried.
     * rt-2, never stored by anyone, is forgotten; rt-1 stays the previous one. */
    char *at3 = refresh_ok(f, "rt-1");
    assert_string_equal(at3, "at-3");
    free(at3);
    cur = ts_xero_current_refresh_token(f->x);
    prev = ts_xero_previous_refresh_token(f->x);
    assert_string_equal(cur, "rt-3");
    assert_string_equal(prev, "rt-1");
    free(cur);
    free(prev);
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET, "grant_type=refresh_token&refresh_token=rt-2",
                       400, "invalid_grant");
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET,
                       "grant_type=refresh_token&refresh_token=" FIRST_RT, 400, "invalid_grant");
    assert_int_equal(api_status(f, INVOICES INVOICE_1, "at-2"), 401);
    assert_int_equal(api_status(f, INVOICES INVOICE_1, "at-3"), 200);

    /* Using the current one moves the window: rt-3 becomes the previous one. Once the grace
     * window has passed it is refused. */
    free(refresh_ok(f, "rt-3"));
    ts_xero_set_grace_ms(f->x, 100);
    ts_sleep_ms(250);
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET, "grant_type=refresh_token&refresh_token=rt-3",
                       400, "invalid_grant");
    free(refresh_ok(f, "rt-4"));
    assert_int_equal(ts_xero_refreshes(f->x), 5);

    /* invalid_grant mode: every refresh refused, even the current token's; then back. */
    ts_xero_invalid_grant(f->x, true);
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET, "grant_type=refresh_token&refresh_token=rt-5",
                       400, "invalid_grant");
    assert_int_equal(ts_xero_refreshes(f->x), 5);
    ts_xero_invalid_grant(f->x, false);
    char *at6 = refresh_ok(f, "rt-5");
    assert_string_equal(at6, "at-6");
    assert_int_equal(api_status(f, INVOICES INVOICE_1, at6), 200);
    free(at6);

    /* A new ts_xero_oauth starts over: earlier tokens are gone. */
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-fresh");
    assert_int_equal(api_status(f, INVOICES INVOICE_1, "at-6"), 401);
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET, "grant_type=refresh_token&refresh_token=rt-6",
                       400, "invalid_grant");
    free(refresh_ok(f, "rt-fresh"));
}

/* ------------------------------------------------------------------ hold mode */

struct waiter {
    struct fixture *f;
    char rt[64];
    long timeout_ms;
    struct ts_http r;
    atomic_bool finished;
    pthread_t thread;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    refresh(w->f, w->rt, w->timeout_ms, &w->r);
    atomic_store(&w->finished, true);
    return NULL;
}

static void wait_refreshes(struct fixture *f, int want)
{
    for (int i = 0; i < 200 && ts_xero_refreshes(f->x) < want; i++)
        ts_sleep_ms(25);
    assert_int_equal(ts_xero_refreshes(f->x), want);
}

static void test_hold_mode(void **state)
{
    struct fixture *f = *state;
    struct ts_http r;

    /* The client gives up (its timeout) after Xero rotated the token: the answer is lost. */
    ts_xero_hold_tokens(f->x, true);
    refresh(f, FIRST_RT, 500, &r);
    assert_int_equal(r.status, 0);
    assert_true(r.error[0] != '\0');
    ts_http_free(&r);
    assert_int_equal(ts_xero_refreshes(f->x), 1);
    char *cur = ts_xero_current_refresh_token(f->x);
    assert_string_equal(cur, "rt-1");
    free(cur);

    /* Back again with the token it still has (the previous one, in its grace window). */
    ts_xero_hold_tokens(f->x, false);
    char *at = refresh_ok(f, FIRST_RT);
    assert_string_equal(at, "at-2");
    free(at);
    expect_token_error(f, CLIENT_ID, CLIENT_SECRET, "grant_type=refresh_token&refresh_token=rt-1",
                       400, "invalid_grant");
    free(refresh_ok(f, "rt-2"));

    /* A held answer is sent on ts_xero_release, and turning hold off releases too. */
    ts_xero_hold_tokens(f->x, true);
    struct waiter w1 = {.f = f, .rt = "rt-3", .timeout_ms = 10000};
    assert_int_equal(pthread_create(&w1.thread, NULL, waiter_main, &w1), 0);
    wait_refreshes(f, 4);
    ts_sleep_ms(200);
    assert_false(atomic_load(&w1.finished));
    ts_xero_release(f->x);
    pthread_join(w1.thread, NULL);
    assert_int_equal(w1.r.status, 200);
    char *rt = ts_json_string(w1.r.body, "refresh_token");
    assert_string_equal(rt, "rt-4");
    free(rt);
    ts_http_free(&w1.r);

    struct waiter w2 = {.f = f, .rt = "rt-4", .timeout_ms = 10000};
    assert_int_equal(pthread_create(&w2.thread, NULL, waiter_main, &w2), 0);
    wait_refreshes(f, 5);
    ts_sleep_ms(100);
    assert_false(atomic_load(&w2.finished));
    ts_xero_hold_tokens(f->x, false);
    pthread_join(w2.thread, NULL);
    assert_int_equal(w2.r.status, 200);
    ts_http_free(&w2.r);
    assert_int_equal(api_status(f, "/connections", "at-5"), 200);
}

/* ------------------------------------------------------------------ concurrency, bounds, stop */

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Everything the server sends until it closes (or timeout_ms), NUL-terminated in buf. */
static size_t raw_read(int fd, char *buf, size_t cap, long timeout_ms)
{
    size_t len = 0;
    for (long waited = 0; waited < timeout_ms && len + 1 < cap; waited += 50) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

static void raw_send(int fd, const char *data, size_t len)
{
    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* The status of the answer to these raw bytes. */
static int raw_status(struct fixture *f, const char *data, size_t len, long timeout_ms)
{
    int fd = raw_connect(ts_xero_port(f->x));
    raw_send(fd, data, len);
    char buf[4096];
    raw_read(fd, buf, sizeof(buf), timeout_ms);
    close(fd);
    int status = 0;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
        return 0;
    return status;
}

struct getter {
    struct fixture *f;
    const char *access;
    int ok;
    pthread_t thread;
};

static void *getter_main(void *arg)
{
    struct getter *g = arg;
    for (int i = 0; i < 10; i++) {
        struct ts_http r;
        api_get(g->f, INVOICES INVOICE_1, g->access, TENANT_B, "application/json", &r);
        if (r.status == 200 && strcmp(r.body, "{\"Invoices\":[]}") == 0)
            g->ok++;
        ts_http_free(&r);
    }
    return NULL;
}

static void test_bounds_concurrency_and_stop(void **state)
{
    struct fixture *f = *state;
    char *at = refresh_ok(f, FIRST_RT);
    ts_xero_put(f->x, INVOICES INVOICE_1, "{\"Invoices\":[]}");

    /* Malformed, oversized, chunked. */
    static const char garbage[] = "HELLO\r\n\r\n";
    assert_int_equal(raw_status(f, garbage, sizeof(garbage) - 1, 2000), 400);
    size_t big = 17 * 1024;
    char *huge = malloc(big + 64);
    assert_non_null(huge);
    int n = snprintf(huge, 64, "GET /connections HTTP/1.1\r\nX-Pad: ");
    memset(huge + n, 'a', big - (size_t)n);
    assert_int_equal(raw_status(f, huge, big, 2000), 431);
    free(huge);
    static const char too_long[] = "POST /connect/token HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Length: 70000\r\n\r\n";
    assert_int_equal(raw_status(f, too_long, sizeof(too_long) - 1, 2000), 413);
    static const char chunked[] = "POST /connect/token HTTP/1.1\r\nHost: x\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_int_equal(raw_status(f, chunked, sizeof(chunked) - 1, 2000), 501);

    /* Expect: 100-continue is honoured. */
    {
        char pair[256], enc[400], head[1024];
        snprintf(pair, sizeof(pair), "%s:%s", CLIENT_ID, CLIENT_SECRET);
        b64(pair, enc, sizeof(enc));
        const char *form = "grant_type=refresh_token&refresh_token=rt-1";
        int hl = snprintf(head, sizeof(head),
                          "POST /connect/token HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
                          "Content-Type: application/x-www-form-urlencoded\r\n"
                          "Content-Length: %zu\r\nExpect: 100-continue\r\n\r\n",
                          enc, strlen(form));
        int fd = raw_connect(ts_xero_port(f->x));
        raw_send(fd, head, (size_t)hl);
        char buf[4096] = "";
        size_t got = 0;
        for (int i = 0; i < 40 && strstr(buf, "\r\n\r\n") == NULL; i++) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0)
                continue;
            ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
            assert_true(k > 0);
            got += (size_t)k;
            buf[got] = '\0';
        }
        assert_true(strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
        raw_send(fd, form, strlen(form));
        raw_read(fd, buf, sizeof(buf), 2000);
        close(fd);
        assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
        assert_non_null(strstr(buf, "\"refresh_token\":\"rt-2\""));
        free(at);
        at = strdup("at-2");
    }

    /* A body that never comes: 408 within the request's time bound (5 s). */
    static const char stalled[] = "POST /connect/token HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 10\r\n\r\nabc";
    assert_int_equal(raw_status(f, stalled, sizeof(stalled) - 1, 8000), 408);

    /* Idle connections (one silent, one with half a request) do not block anyone. */
    int idle1 = raw_connect(ts_xero_port(f->x));
    int idle2 = raw_connect(ts_xero_port(f->x));
    raw_send(idle2, "GET /conn", 9);
    int before = ts_xero_count(f->x, INVOICES);
    struct getter g[16];
    for (size_t i = 0; i < 16; i++) {
        g[i] = (struct getter){.f = f, .access = at};
        assert_int_equal(pthread_create(&g[i].thread, NULL, getter_main, &g[i]), 0);
    }
    for (size_t i = 0; i < 16; i++) {
        pthread_join(g[i].thread, NULL);
        assert_int_equal(g[i].ok, 10);
    }
    assert_int_equal(ts_xero_count(f->x, INVOICES) - before, 160);

    /* A held token answer and the idle connections: stop still joins promptly. */
    ts_xero_hold_tokens(f->x, true);
    struct waiter w = {.f = f, .rt = "rt-2", .timeout_ms = 10000};
    assert_int_equal(pthread_create(&w.thread, NULL, waiter_main, &w), 0);
    wait_refreshes(f, 3);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts_xero_stop(f->x);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    f->x = NULL;
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (ms > 1500)
        fail_msg("ts_xero_stop took %ld ms", ms);
    pthread_join(w.thread, NULL);
    assert_int_equal(w.r.status, 0); /* dropped, never answered */
    ts_http_free(&w.r);
    close(idle1);
    close(idle2);
    free(at);
    ts_xero_stop(NULL);
}

/* ------------------------------------------------------------------ fixtures */

static cJSON *fixture_json(const char *name)
{
    char *text = test_fixture("xero/%s", name);
    cJSON *o = cJSON_Parse(text);
    if (o == NULL)
        fail_msg("%s is not JSON", name);
    free(text);
    return o;
}

static const cJSON *first_of(const cJSON *o, const char *list)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, list);
    assert_true(cJSON_IsArray(a));
    assert_int_equal(cJSON_GetArraySize(a), 1);
    return cJSON_GetArrayItem(a, 0);
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        fail_msg("no string %s", key);
    return v->valuestring;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("no number %s", key);
    return v->valuedouble;
}

/* The milliseconds of "/Date(ms+0000)/" or "/Date(ms)/". */
static long long date_ms(const char *s)
{
    long long ms = 0;
    if (sscanf(s, "/Date(%lld", &ms) != 1)
        fail_msg("not a /Date(…)/ value: %s", s);
    return ms;
}

static void test_fixtures(void **state)
{
    (void)state;
    /* itr.json: exact bytes, and the signature Xero documents for it. */
    static const char itr[] =
        "{\"events\":[],\"firstEventSequence\":0,\"lastEventSequence\":0,\"entropy\":"
        "\"S0m3r4Nd0mt3xt\"}";
    size_t len = 0;
    char *body = test_read(FIXTURES "/itr.json", &len);
    assert_non_null(body);
    assert_int_equal(len, sizeof(itr) - 1);
    assert_memory_equal(body, itr, len);
    char key[] = "CT_TEST_XERO_WEBHOOK_KEY";
    struct gw_secret secret = {.data = key, .len = strlen(key)};
    char sig[GW_XERO_SIGNATURE_SIZE];
    assert_int_equal(gw_xero_sign(&secret, (const unsigned char *)body, len, sig, sizeof(sig)), 0);
    assert_string_equal(sig, "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM=");
    free(body);

    /* delivery_multi.json: 3 events, 2 tenants. */
    cJSON *d = fixture_json("delivery_multi.json");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(d, "events");
    assert_int_equal(cJSON_GetArraySize(ev), 3);
    static const char *want[3][4] = {{"INVOICE", "UPDATE", TENANT_A, INVOICE_1},
                                     {"CONTACT", "CREATE", TENANT_A, CONTACT_1},
                                     {"INVOICE", "CREATE", TENANT_B, INVOICE_2}};
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(ev, i);
        assert_string_equal(str(e, "eventCategory"), want[i][0]);
        assert_string_equal(str(e, "eventType"), want[i][1]);
        assert_string_equal(str(e, "tenantId"), want[i][2]);
        assert_string_equal(str(e, "resourceId"), want[i][3]);
        assert_non_null(strstr(str(e, "resourceUrl"), want[i][3]));
    }
    cJSON_Delete(d);

    /* Invoice 1 through its states, UpdatedDateUTC growing; the stale one older. */
    static const char *order[] = {"invoice_stale.json", "invoice_authorised.json",
                                  "invoice_part_paid.json", "invoice_paid.json",
                                  "invoice_voided.json"};
    static const char *status[] = {"AUTHORISED", "AUTHORISED", "AUTHORISED", "PAID", "VOIDED"};
    long long last = 0;
    for (size_t i = 0; i < 5; i++) {
        cJSON *o = fixture_json(order[i]);
        assert_string_equal(str(o, "Status"), "OK");
        const cJSON *inv = first_of(o, "Invoices");
        assert_string_equal(str(inv, "InvoiceID"), INVOICE_1);
        assert_string_equal(str(inv, "Type"), "ACCREC");
        assert_string_equal(str(inv, "Reference"), "CT-000001");
        assert_string_equal(str(inv, "Status"), status[i]);
        assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(inv, "Contact"), "ContactID"),
                            CONTACT_1);
        assert_int_equal(date_ms(str(inv, "DueDate")), 1769126400000LL);
        long long u = date_ms(str(inv, "UpdatedDateUTC"));
        assert_true(u > last);
        last = u;
        double total = num(inv, "Total"), due = num(inv, "AmountDue"),
               paid = num(inv, "AmountPaid");
        if (i == 0)
            assert_true(total != 460.0);
        else
            assert_true(total == 460.0);
        if (i == 2)
            assert_true(paid > 0 && due > 0 && paid + due == total);
        if (i == 3) {
            assert_true(due == 0 && paid == total);
            assert_true(date_ms(str(inv, "FullyPaidOnDate")) > 0);
        }
        cJSON_Delete(o);
    }

    /* Invoice 2: the ref only in a line item, ISO dates, UpdatedDateUTC without +0000. */
    cJSON *o = fixture_json("invoice_line_ref.json");
    const cJSON *inv = first_of(o, "Invoices");
    assert_string_equal(str(inv, "InvoiceID"), INVOICE_2);
    assert_null(strstr(str(inv, "Reference"), "CT-"));
    const cJSON *li = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(inv, "LineItems"), 0);
    assert_non_null(strstr(str(li, "Description"), "CT-000002"));
    assert_string_equal(str(inv, "DueDate"), "2026-02-07T00:00:00");
    assert_null(strstr(str(inv, "UpdatedDateUTC"), "+"));
    cJSON_Delete(o);

    o = fixture_json("bill_accpay.json");
    inv = first_of(o, "Invoices");
    assert_string_equal(str(inv, "InvoiceID"), BILL);
    assert_string_equal(str(inv, "Type"), "ACCPAY");
    assert_string_equal(str(inv, "Reference"), "CT-000001");
    cJSON_Delete(o);

    /* Contact 1 active, then archived later. */
    cJSON *a = fixture_json("contact_active.json"), *b = fixture_json("contact_archived.json");
    const cJSON *ca = first_of(a, "Contacts"), *cb = first_of(b, "Contacts");
    assert_string_equal(str(ca, "ContactID"), CONTACT_1);
    assert_string_equal(str(cb, "ContactID"), CONTACT_1);
    assert_string_equal(str(ca, "ContactStatus"), "ACTIVE");
    assert_string_equal(str(cb, "ContactStatus"), "ARCHIVED");
    assert_true(date_ms(str(cb, "UpdatedDateUTC")) > date_ms(str(ca, "UpdatedDateUTC")));
    assert_non_null(strchr(str(ca, "EmailAddress"), '@'));
    const cJSON *ph = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ca, "Phones"), 0);
    assert_string_equal(str(ph, "PhoneType"), "DEFAULT");
    assert_true(str(ph, "PhoneNumber")[0] != '\0');
    cJSON_Delete(a);
    cJSON_Delete(b);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds_concurrency_and_stop, setup, teardown),
        cmocka_unit_test(test_fixtures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
