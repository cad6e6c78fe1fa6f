/* test_sns_certs.c — the SNS signing-certificate source against a small HTTPS server on
 * 127.0.0.1 in this process (OpenSSL and one thread), with a test CA as ca_file: fetch,
 * cache, the refusals (http, other host, expired, untrusted, oversized, slow, redirect) and
 * the cache bound; then the sns verifier end to end with it. No database is used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>

#include "tests/support/files.h"
#include "tests/support/https_standin.h"
#include "tests/support/pki.h"
#include "verifiers/sns.h"
#include "gateway/net/sns_certs.h"

#define TOPIC "arn:aws:sns:eu-west-1:123456789012:ct-inbound"

static void add_route(struct ts_https *s, const char *path, int status, const char *body,
                      size_t len, unsigned delay_ms, const char *extra_headers)
{
    struct ts_https_route *r = ts_https_route(s, path, status, body, len);
    r->delay_ms = delay_ms;
    r->extra_headers = extra_headers;
}

static int hits(struct ts_https *s, const char *path)
{
    return ts_https_hits(s, path);
}

/* --- fixtures ---------------------------------------------------------------------------- */

struct world {
    char *dir;
    char *ca_file;
    EVP_PKEY *ca_key, *server_key, *sign_key, *inter_key;
    X509 *ca, *server_cert, *sign_cert, *expired_cert, *inter, *inter_leaf, *rogue, *short_cert;
    struct ts_https server;
    char url[64][160]; /* scratch */
};

static struct world w;

static const char *url(const char *path)
{
    static int next = 0;
    char *u = w.url[next++ % 64];
    snprintf(u, sizeof w.url[0], "https://127.0.0.1:%u%s", (unsigned)w.server.port, path);
    return u;
}

static void route_certs(const char *path, X509 *const *certs, size_t n)
{
    size_t len = 0;
    char *pem = pki_certs_pem(certs, n, &len);
    add_route(&w.server, path, 200, pem, len, 0, NULL);
    free(pem);
}

static int setup(void **state)
{
    (void)state;
    /* Only 127.0.0.1 is ever contacted: no proxy from the environment may intervene. */
    const char *proxies[] = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                             "all_proxy",  "ALL_PROXY",   "no_proxy",   "NO_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);

    w.dir = test_mkdtemp();
    w.ca_key = pki_key("EC", 0);
    w.ca = pki_cert(w.ca_key, "ctgw test CA", NULL, NULL, -3600, 86400, true, NULL);
    w.server_key = pki_key("EC", 0);
    w.server_cert =
        pki_cert(w.server_key, "127.0.0.1", w.ca, w.ca_key, -3600, 86400, false, "IP:127.0.0.1");
    w.sign_key = pki_key("RSA", 2048);
    w.sign_cert =
        pki_cert(w.sign_key, "sns.amazonaws.com", w.ca, w.ca_key, -3600, 86400, false, NULL);
    w.expired_cert =
        pki_cert(w.sign_key, "sns.amazonaws.com", w.ca, w.ca_key, -2 * 86400, -86400, false, NULL);
    w.inter_key = pki_key("EC", 0);
    w.inter =
        pki_cert(w.inter_key, "ctgw test intermediate", w.ca, w.ca_key, -3600, 86400, true, NULL);
    w.inter_leaf =
        pki_cert(w.sign_key, "sns.amazonaws.com", w.inter, w.inter_key, -3600, 86400, false, NULL);
    w.rogue = pki_cert(w.sign_key, "sns.amazonaws.com", NULL, NULL, -3600, 86400, false, NULL);
    size_t len = 0;
    char *ca_pem = pki_certs_pem(&w.ca, 1, &len);
    w.ca_file = test_write(w.dir, "ca.pem", ca_pem, len, 0600);
    free(ca_pem);

    /* The server: TLS with the test CA's certificate for 127.0.0.1. */
    struct ts_https *s = &w.server;
    ts_https_listen(s, w.server_cert, w.server_key);

    X509 *chain[2] = {w.inter_leaf, w.inter};
    route_certs("/ok.pem", &w.sign_cert, 1);
    route_certs("/a.pem", &w.sign_cert, 1);
    route_certs("/b.pem", &w.sign_cert, 1);
    route_certs("/c.pem", &w.sign_cert, 1);
    route_certs("/expired.pem", &w.expired_cert, 1);
    route_certs("/chain.pem", chain, 2);
    route_certs("/no-intermediate.pem", &w.inter_leaf, 1);
    route_certs("/self-signed.pem", &w.rogue, 1);
    route_certs("/missing.pem", &w.sign_cert, 1);
    s->routes[s->n_routes - 1].status = 404;
    route_certs("/redirect.pem", &w.sign_cert, 1);
    s->routes[s->n_routes - 1].status = 302;
    s->routes[s->n_routes - 1].extra_headers = "Location: /ok.pem\r\n";
    route_certs("/slow.pem", &w.sign_cert, 1);
    s->routes[s->n_routes - 1].delay_ms = 1500;
    route_certs("/later.pem", &w.sign_cert, 1);
    s->routes[s->n_routes - 1].delay_ms = 300;
    add_route(s, "/garbage.pem", 200, "hello, not a certificate\n", 25, 0, NULL);
    /* A valid PEM followed by 10 KiB of padding: refused for its size alone. */
    size_t pem_len = 0;
    char *pem = pki_certs_pem(&w.sign_cert, 1, &pem_len);
    char *big = malloc(pem_len + 10240);
    assert_non_null(big);
    memcpy(big, pem, pem_len);
    memset(big + pem_len, '\n', 10240);
    add_route(s, "/big.pem", 200, big, pem_len + 10240, 0, NULL);
    /* The same without Content-Length: the bound must hold while the bytes arrive. */
    add_route(s, "/big-unannounced.pem", 200, big, pem_len + 10240, 0, NULL);
    s->routes[s->n_routes - 1].no_length = true;
    free(big);
    free(pem);

    /* Valid for 5 more seconds: made last, and fetched by the first test. */
    w.short_cert = pki_cert(w.sign_key, "sns.amazonaws.com", w.ca, w.ca_key, -3600, 5, false, NULL);
    route_certs("/short.pem", &w.short_cert, 1);

    ts_https_start(s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_https_stop(&w.server);
    EVP_PKEY *keys[] = {w.ca_key, w.server_key, w.sign_key, w.inter_key};
    X509 *certs[] = {w.ca,    w.server_cert, w.sign_cert, w.expired_cert,
                     w.inter, w.inter_leaf,  w.rogue,     w.short_cert};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        EVP_PKEY_free(keys[i]);
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        X509_free(certs[i]);
    test_rmtree(w.dir);
    free(w.dir);
    free(w.ca_file);
    curl_global_cleanup();
    return 0;
}

/* A certificate source for the test server: its host pattern, the test CA. */
static struct gw_sns_certs *source(size_t max_entries, size_t max_response, long timeout_ms)
{
    struct gw_sns_certs_config cfg = {.host_pattern = "127.0.0.1:*",
                                      .ca_file = w.ca_file,
                                      .max_entries = max_entries,
                                      .max_response = max_response,
                                      .timeout_ms = timeout_ms};
    char err[256];
    struct gw_sns_certs *c = gw_sns_certs_new(&cfg, err, sizeof err);
    if (c == NULL)
        fail_msg("gw_sns_certs_new: %s", err);
    return c;
}

/* Expects a refusal of URL whose reason says WANT, and no more requests than EXTRA. */
static void expect_refused(struct gw_sns_certs *c, const char *u, const char *want, int extra)
{
    int before = atomic_load(&w.server.requests);
    char why[256] = "";
    X509 *cert = gw_sns_certs_get(c, u, why, sizeof why);
    if (cert != NULL) {
        X509_free(cert);
        fail_msg("%s was accepted", u);
    }
    if (strstr(why, want) == NULL)
        fail_msg("%s: \"%s\" does not say \"%s\"", u, why, want);
    assert_int_equal(atomic_load(&w.server.requests) - before, extra);
}

static void expect_cert(struct gw_sns_certs *c, const char *u, X509 *want)
{
    char why[256] = "";
    X509 *cert = gw_sns_certs_get(c, u, why, sizeof why);
    if (cert == NULL)
        fail_msg("%s: %s", u, why);
    assert_int_equal(X509_cmp(cert, want), 0);
    X509_free(cert);
}

/* --- tests ------------------------------------------------------------------------------- */

/* A cached certificate is used only within its dates: once it expires it is dropped and
 * fetched again, and the fetched copy is then refused as expired. */
static void test_cached_cert_expires(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(0, 0, 0);
    expect_cert(c, url("/short.pem"), w.short_cert);
    expect_cert(c, url("/short.pem"), w.short_cert);
    assert_int_equal(hits(&w.server, "/short.pem"), 1);
    /* Wait until notAfter (5 s after setup) has passed, bounded. */
    for (int i = 0; i < 80 && X509_cmp_current_time(X509_get0_notAfter(w.short_cert)) >= 0; i++)
        usleep(100 * 1000);
    usleep(1100 * 1000); /* notAfter has one-second resolution */
    expect_refused(c, url("/short.pem"), "certificate has expired", 1);
    assert_int_equal(hits(&w.server, "/short.pem"), 2);
    struct gw_sns_certs_stats st;
    gw_sns_certs_stats(c, &st);
    assert_int_equal(st.entries, 0);
    gw_sns_certs_free(c);
}

static void test_fetch_then_cache(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(0, 0, 0);
    expect_cert(c, url("/ok.pem"), w.sign_cert);
    assert_int_equal(hits(&w.server, "/ok.pem"), 1);
    expect_cert(c, url("/ok.pem"), w.sign_cert);
    expect_cert(c, url("/ok.pem"), w.sign_cert);
    assert_int_equal(hits(&w.server, "/ok.pem"), 1); /* answered from the cache */
    struct gw_sns_certs_stats st;
    gw_sns_certs_stats(c, &st);
    assert_int_equal(st.fetches, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.refused, 0);
    /* The cache-only lookup answers from the cache and never fetches. */
    char why[128];
    X509 *cert = gw_sns_certs_lookup_cached(c, url("/ok.pem"), why, sizeof why);
    assert_non_null(cert);
    X509_free(cert);
    int before = atomic_load(&w.server.requests);
    assert_null(gw_sns_certs_lookup_cached(c, url("/a.pem"), why, sizeof why));
    assert_string_equal(why, "not cached");
    assert_int_equal(atomic_load(&w.server.requests), before);
    /* Another source has its own cache: it fetches again. */
    struct gw_sns_certs *c2 = source(0, 0, 0);
    expect_cert(c2, url("/ok.pem"), w.sign_cert);
    assert_int_equal(hits(&w.server, "/ok.pem"), 2);
    gw_sns_certs_free(c2);
    gw_sns_certs_free(c);
}

static void test_url_refusals_make_no_request(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(0, 0, 0);
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%u/ok.pem", (unsigned)w.server.port);
    expect_refused(c, u, "not an https URL", 0);
    snprintf(u, sizeof u, "https://localhost:%u/ok.pem", (unsigned)w.server.port);
    expect_refused(c, u, "does not match", 0);
    snprintf(u, sizeof u, "https://127.0.0.1:%u/ok.txt", (unsigned)w.server.port);
    expect_refused(c, u, "does not end in .pem", 0);
    expect_refused(c, NULL, "no URL", 0);
    gw_sns_certs_free(c);
    /* The default pattern (sns.*.amazonaws.com) refuses the loopback host outright. */
    struct gw_sns_certs_config cfg = {.ca_file = w.ca_file};
    char err[128];
    c = gw_sns_certs_new(&cfg, err, sizeof err);
    assert_non_null(c);
    expect_refused(c, url("/ok.pem"), "sns.*.amazonaws.com", 0);
    struct gw_sns_certs_stats st;
    gw_sns_certs_stats(c, &st);
    assert_int_equal(st.fetches, 0);
    assert_int_equal(st.refused, 1);
    gw_sns_certs_free(c);
}

/* The loop's lookup never waits: a miss starts one background fetch per URL (a second miss
 * meanwhile starts none), answers "retry", and a later lookup finds the certificate cached. A
 * refused URL starts nothing. Freeing waits for a fetch still running. */
static void test_prefetch_never_waits(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(0, 0, 0);
    const char *u = url("/later.pem");
    char why[160] = "";
    assert_null(gw_sns_certs_lookup_prefetch(c, u, why, sizeof why));
    assert_non_null(strstr(why, "being fetched: retry"));
    assert_null(gw_sns_certs_lookup_prefetch(c, u, why, sizeof why)); /* 300 ms to answer */
    X509 *cert = NULL;
    for (int i = 0; i < 200 && cert == NULL; i++) {
        usleep(20 * 1000);
        cert = gw_sns_certs_lookup_prefetch(c, u, why, sizeof why);
    }
    assert_non_null(cert);
    assert_int_equal(X509_cmp(cert, w.sign_cert), 0);
    X509_free(cert);
    assert_int_equal(hits(&w.server, "/later.pem"), 1);
    int before = atomic_load(&w.server.requests);
    char other[160];
    snprintf(other, sizeof other, "https://localhost:%u/later.pem", (unsigned)w.server.port);
    assert_null(gw_sns_certs_lookup_prefetch(c, other, why, sizeof why));
    assert_non_null(strstr(why, "does not match"));
    usleep(100 * 1000);
    assert_int_equal(atomic_load(&w.server.requests), before);
    gw_sns_certs_free(c);
    /* Freed while a fetch runs: it waits for it. */
    c = source(0, 0, 0);
    assert_null(gw_sns_certs_lookup_prefetch(c, url("/slow.pem"), why, sizeof why));
    gw_sns_certs_free(c);
}

static void test_certificate_refusals(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(0, 0, 0);
    expect_refused(c, url("/expired.pem"), "certificate has expired", 1);
    expect_refused(c, url("/expired.pem"), "certificate has expired", 1); /* not cached */
    assert_int_equal(hits(&w.server, "/expired.pem"), 2);
    expect_refused(c, url("/self-signed.pem"), "self-signed certificate", 1);
    expect_refused(c, url("/no-intermediate.pem"), "unable to get local issuer certificate", 1);
    expect_refused(c, url("/garbage.pem"), "not a PEM certificate", 1);
    expect_refused(c, url("/missing.pem"), "HTTP 404", 1);
    int ok0 = hits(&w.server, "/ok.pem");
    expect_refused(c, url("/redirect.pem"), "HTTP 302", 1);
    assert_int_equal(hits(&w.server, "/ok.pem"), ok0); /* the redirect was not followed */
    /* With the intermediate in the file, the same leaf chains. */
    expect_cert(c, url("/chain.pem"), w.inter_leaf);
    struct gw_sns_certs_stats st;
    gw_sns_certs_stats(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.refused, 7);
    gw_sns_certs_free(c);
}

static void test_size_and_time_bounds(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(0, 4096, 300);
    expect_refused(c, url("/big.pem"), "larger than 4096 bytes", 1);
    expect_refused(c, url("/big-unannounced.pem"), "larger than 4096 bytes", 1);
    expect_cert(c, url("/ok.pem"), w.sign_cert); /* a PEM of ~1 KiB fits */
    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_refused(c, url("/slow.pem"), "fetch failed", 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took < 1.45); /* gave up near 300 ms, before the server answered at 1.5 s */
    gw_sns_certs_free(c);
    usleep(1500 * 1000); /* let the server finish the slow answer before the next test */
}

static void test_tls_needs_trust(void **state)
{
    (void)state;
    /* Without ca_file the server's certificate (from the test CA) is not trusted. */
    struct gw_sns_certs_config cfg = {.host_pattern = "127.0.0.1:*"};
    char err[128];
    struct gw_sns_certs *c = gw_sns_certs_new(&cfg, err, sizeof err);
    assert_non_null(c);
    char why[256] = "";
    assert_null(gw_sns_certs_get(c, url("/ok.pem"), why, sizeof why));
    assert_non_null(strstr(why, "fetch failed"));
    gw_sns_certs_free(c);
    /* A ca_file that cannot be read, or holds no certificate, is refused at once. */
    cfg.ca_file = "/nonexistent/ca.pem";
    assert_null(gw_sns_certs_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "cannot be read"));
    char *empty = test_write_text(w.dir, "empty.pem", "no certificates here\n", 0600);
    cfg.ca_file = empty;
    assert_null(gw_sns_certs_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "holds no PEM certificate"));
    free(empty);
    gw_sns_certs_free(NULL);
}

static void test_cache_bound(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(2, 0, 0);
    int a0 = hits(&w.server, "/a.pem");
    int b0 = hits(&w.server, "/b.pem");
    int c0 = hits(&w.server, "/c.pem");
    expect_cert(c, url("/a.pem"), w.sign_cert);
    expect_cert(c, url("/b.pem"), w.sign_cert);
    expect_cert(c, url("/a.pem"), w.sign_cert); /* a is now the most recently used */
    expect_cert(c, url("/c.pem"), w.sign_cert); /* evicts b, the least recently used */
    struct gw_sns_certs_stats st;
    gw_sns_certs_stats(c, &st);
    assert_int_equal(st.entries, 2);
    expect_cert(c, url("/a.pem"), w.sign_cert);
    expect_cert(c, url("/c.pem"), w.sign_cert);
    assert_int_equal(hits(&w.server, "/a.pem") - a0, 1);
    assert_int_equal(hits(&w.server, "/c.pem") - c0, 1);
    assert_int_equal(hits(&w.server, "/b.pem") - b0, 1);
    expect_cert(c, url("/b.pem"), w.sign_cert); /* fetched again, evicting a */
    assert_int_equal(hits(&w.server, "/b.pem") - b0, 2);
    gw_sns_certs_stats(c, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.fetches, 4);
    assert_int_equal(st.hits, 3);
    gw_sns_certs_free(c);
}

struct worker_arg {
    struct gw_sns_certs *c;
    int failures;
};

static void *worker(void *p)
{
    struct worker_arg *a = p;
    const char *paths[] = {"/a.pem", "/b.pem", "/c.pem"};
    for (int i = 0; i < 24; i++) {
        char u[160];
        snprintf(u, sizeof u, "https://127.0.0.1:%u%s", (unsigned)w.server.port, paths[i % 3]);
        char why[256];
        X509 *cert = gw_sns_certs_get(a->c, u, why, sizeof why);
        if (cert == NULL || X509_cmp(cert, w.sign_cert) != 0) {
            a->failures++;
            print_message("%s: %s\n", u, cert == NULL ? why : "another certificate");
        }
        X509_free(cert);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(2, 0, 0);
    pthread_t th[4];
    struct worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct worker_arg){c, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    struct gw_sns_certs_stats st;
    gw_sns_certs_stats(c, &st);
    assert_true(st.entries <= 2);
    assert_int_equal(st.hits + st.fetches, 96);
    assert_int_equal(st.refused, 0);
    gw_sns_certs_free(c);
}

/* The sns verifier with this source: a message signed by the served certificate's key. */
static void test_verifier_end_to_end(void **state)
{
    (void)state;
    struct gw_sns_certs *c = source(0, 0, 0);
    char cert_url[160];
    snprintf(cert_url, sizeof cert_url, "https://127.0.0.1:%u/chain.pem", (unsigned)w.server.port);
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    assert_non_null(gmtime_r(&now, &tm));
    assert_true(strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000Z", &tm) > 0);
    char text[1024];
    snprintf(text, sizeof text,
             "Message\nhello\nMessageId\nm-1\nTimestamp\n%s\nTopicArn\n%s\nType\nNotification\n",
             ts, TOPIC);
    char sig[1024];
    pki_sign_b64(w.sign_key, EVP_sha256(), text, strlen(text), sig, sizeof sig);
    char body[4096];
    snprintf(body, sizeof body,
             "{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"%s\","
             "\"Message\":\"hello\",\"Timestamp\":\"%s\",\"SignatureVersion\":\"2\","
             "\"Signature\":\"%s\",\"SigningCertURL\":\"%s\"}",
             TOPIC, ts, sig, cert_url);
    const char *topics[] = {TOPIC};
    struct gw_verify_input in = {.body = (const unsigned char *)body,
                                 .body_len = strlen(body),
                                 .now = now,
                                 .topics = topics,
                                 .n_topics = 1,
                                 .cert_host_pattern = "127.0.0.1:*",
                                 .cert_lookup = gw_sns_certs_lookup_cached,
                                 .cert_ctx = c};
    struct gw_verify_detail d;
    /* Cache-only first: nothing cached yet, so the key is unusable for now. */
    assert_int_equal(gw_verifier_sns.verify(&in, &d), GW_VERIFY_KEY_UNUSABLE);
    assert_non_null(strstr(d.note, "not cached"));
    in.cert_lookup = gw_sns_certs_lookup;
    if (gw_verifier_sns.verify(&in, &d) != GW_VERIFY_OK)
        fail_msg("%s: %s", d.header, d.note);
    in.cert_lookup = gw_sns_certs_lookup_cached;
    assert_int_equal(gw_verifier_sns.verify(&in, &d), GW_VERIFY_OK);
    /* The verifier's own pattern still applies: the default refuses the loopback URL. */
    in.cert_host_pattern = NULL;
    assert_int_equal(gw_verifier_sns.verify(&in, &d), GW_VERIFY_MALFORMED_HEADER);
    assert_string_equal(d.header, "SigningCertURL");
    /* An expired certificate at the URL: the key is unusable. */
    snprintf(cert_url, sizeof cert_url, "https://127.0.0.1:%u/expired.pem",
             (unsigned)w.server.port);
    snprintf(body, sizeof body,
             "{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"%s\","
             "\"Message\":\"hello\",\"Timestamp\":\"%s\",\"SignatureVersion\":\"2\","
             "\"Signature\":\"%s\",\"SigningCertURL\":\"%s\"}",
             TOPIC, ts, sig, cert_url);
    in.body_len = strlen(body);
    in.cert_host_pattern = "127.0.0.1:*";
    in.cert_lookup = gw_sns_certs_lookup;
    assert_int_equal(gw_verifier_sns.verify(&in, &d), GW_VERIFY_KEY_UNUSABLE);
    assert_non_null(strstr(d.note, "expired"));
    gw_sns_certs_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_cert_expires), /* first: its certificate is short-lived */
        cmocka_unit_test(test_fetch_then_cache),
        cmocka_unit_test(test_url_refusals_make_no_request),
        cmocka_unit_test(test_prefetch_never_waits),
        cmocka_unit_test(test_certificate_refusals),
        cmocka_unit_test(test_size_and_time_bounds),
        cmocka_unit_test(test_tls_needs_trust),
        cmocka_unit_test(test_cache_bound),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_verifier_end_to_end),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
