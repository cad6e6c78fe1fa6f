/* test_hostile.c — the public listener against hostile HTTP over real loopback sockets:
 * heads refused before their bodies are read (path, method, size, the budget of body bytes
 * in flight), framing that a proxy could read differently (refused 400 and closed), and a
 * flood of idle connections that must not keep a real webhook out (issue 15, items 3-5). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "tests/support/signed.h"

#define ENDPOINTS_YAML                                                                             \
    "endpoints:\n"                                                                                 \
    "  - id: generic\n"                                                                            \
    "    provider: generic\n"                                                                      \
    "    company: acme\n"                                                                          \
    "    max_body: 2KiB\n"                                                                         \
    "    secrets: [ \"file:generic.secret\" ]\n"

#define MAX_FDS 160

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    char *secret;
    char *body; /* a real generic payload */
    int fds[MAX_FDS];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < MAX_FDS; i++)
        f->fds[i] = -1;
    ts_db_create(&f->db, "hostile");
    f->secret = ts_whsec_new();
    f->body = test_fixture("generic/job_create.json");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < MAX_FDS; i++)
        if (f->fds[i] >= 0)
            close(f->fds[i]);
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f->secret);
    free(f->body);
    free(f);
    return 0;
}

/* Starts ctgw with the generic endpoint, LISTEN_EXTRA under listen: and TOP_EXTRA (may be
 * NULL) at the top level. */
static void start_server_with(struct fixture *f, const char *listen_extra, const char *top_extra)
{
    char top[512];
    snprintf(top, sizeof(top), "%s%s", ENDPOINTS_YAML, top_extra ? top_extra : "");
    struct ts_config c = {.db_name = f->db.name, .top_extra = top, .listen_extra = listen_extra};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "generic.secret", f->secret, 0600));
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    ts_db_exec_ok(&f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme')");
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
}

static void start_server(struct fixture *f, const char *listen_extra)
{
    start_server_with(f, listen_extra, NULL);
}

/* A real signed webhook must still be stored. */
static void expect_webhook_served(struct fixture *f)
{
    struct ts_signed o = {.secret = f->secret};
    struct ts_http r;
    ts_post_expect(&f->srv, "generic", f->body, &o, 202, &r);
    ts_http_free(&r);
}

/* ---- raw sockets --------------------------------------------------------------------- */

static int raw_open(struct fixture *f, size_t i)
{
    assert_true(i < MAX_FDS);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->srv.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        fail_msg("cannot connect to 127.0.0.1:%u: %s", (unsigned)f->srv.port, strerror(errno));
    f->fds[i] = fd;
    return fd;
}

static void send_text(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            fail_msg("send: %s", strerror(errno));
        off += (size_t)n;
    }
}

/* Reads FD until EOF or LIMIT_MS (bounded); *CLOSED tells which. */
static size_t read_answer(int fd, char *buf, size_t cap, long limit_ms, bool *closed)
{
    size_t got = 0;
    *closed = false;
    for (long waited = 0; got + 1 < cap && waited < limit_ms; waited += 100) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0) {
            *closed = true;
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

/* Sends HEAD (and nothing more) on a fresh socket and expects STATUS, then the close. */
static void expect_refused(struct fixture *f, size_t i, const char *head, const char *status)
{
    int fd = raw_open(f, i);
    send_text(fd, head);
    char buf[2048];
    bool closed;
    read_answer(fd, buf, sizeof(buf), 5000, &closed);
    if (strncmp(buf, status, strlen(status)) != 0 || !closed)
        fail_msg("sent:\n%s\nwant '%s' and the connection closed, got (closed: %d):\n%s", head,
                 status, closed, buf);
}

/* ---- item 3: refused on the head, before the body ------------------------------------ */

static void test_heads_are_refused_before_their_bodies(void **state)
{
    struct fixture *f = *state;
    start_server(f, NULL);
    /* None of these sends its body: an answer shows the refusal came from the head alone. */
    expect_refused(f, 0,
                   "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 2049\r\n\r\n",
                   "HTTP/1.1 413");
    expect_refused(f, 1, "POST /hooks/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
                   "HTTP/1.1 404");
    expect_refused(f, 2, "POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
                   "HTTP/1.1 404");
    expect_refused(f, 3, "PUT /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
                   "HTTP/1.1 405");
    expect_webhook_served(f);
    ts_server_stop_clean("test_heads_are_refused_before_their_bodies", &f->srv);
}

/* Item 1: limits.per_source is taken on the head. A source over its rate is answered 429
 * with Retry-After before its body is read (none is ever sent here), and behind a trusted
 * proxy the source is the client X-Forwarded-For names: the proxy's other clients are still
 * served. */
static void test_rate_limited_on_the_head(void **state)
{
    struct fixture *f = *state;
    start_server_with(f, "  trusted_proxies: [ 127.0.0.1 ]\n",
                      "limits: { per_source: 1, per_source_burst: 2, refusal_delay: 0s }\n");
    const char *head = "POST /hooks/generic HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/json\r\nX-Forwarded-For: 203.0.113.7\r\n"
                       "Content-Length: 1000\r\n\r\n";
    char buf[2048] = "";
    bool closed = false;
    size_t sent = 0;
    /* A burst of 2, then one a second: a 429 comes within a few heads, however slow the
     * machine (each head admitted waits for a body that never comes). */
    for (; sent < 8 && strncmp(buf, "HTTP/1.1 429", 12) != 0; sent++) {
        int fd = raw_open(f, sent);
        send_text(fd, head);
        read_answer(fd, buf, sizeof(buf), 300, &closed);
    }
    if (strncmp(buf, "HTTP/1.1 429", 12) != 0 || !closed)
        fail_msg("%zu heads over the rate, no 429 and close; last answer:\n%s", sent, buf);
    if (sent < 3)
        fail_msg("429 after %zu heads, before the burst of 2 was spent:\n%s", sent, buf);
    if (strstr(buf, "\r\nRetry-After: ") == NULL)
        fail_msg("a 429 without Retry-After:\n%s", buf);
    expect_webhook_served(f); /* the proxy itself (no X-Forwarded-For) is another source */
    char *m = ts_server_metrics_ok(&f->srv);
    bool counted = strstr(m, "outcome=\"rate_limited\"") != NULL;
    free(m);
    if (!counted)
        fail_msg("no rate_limited metric");
    ts_server_stop_clean("test_rate_limited_on_the_head", &f->srv);
}

/* Waits (bounded) until ctgw has held WANT refusals to answer late. */
static void wait_delayed(struct fixture *f, unsigned want)
{
    char line[64];
    snprintf(line, sizeof(line), "\nctgw_refusals_delayed_total %u\n", want);
    for (int i = 0; i < 200; i++) {
        char *m = ts_server_metrics_ok(&f->srv);
        bool seen = strstr(m, line) != NULL;
        free(m);
        if (seen)
            return;
        ts_sleep_ms(50);
    }
    fail_msg("ctgw never held %u refusals to answer late", want);
}

/* A forged generic webhook, whole, as raw bytes. */
static void send_forged(int fd)
{
    char req[512];
    snprintf(req, sizeof(req),
             "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "webhook-id: msg_forged\r\nwebhook-timestamp: %lld\r\n"
             "webhook-signature: v1,bm90IGEgc2lnbmF0dXJlIGF0IGFsbCwgbm90IGF0IGFsbCE=\r\n"
             "Content-Length: 2\r\n\r\n{}",
             (long long)time(NULL));
    send_text(fd, req);
}

/* limits.refusal_delay: once a source is past limits.audit_each rejections of a window, its
 * refusals are answered late, so that a flood waiting for its answers sends one request a
 * connection a delay; what the same source sends right is answered at once, the held
 * answers still go out, and a client gone before its answer does no harm. */
static void test_refusals_to_a_flooding_source_are_answered_late(void **state)
{
    struct fixture *f = *state;
    start_server_with(f, NULL, "limits: { audit_each: 1, refusal_delay: 3s }\n");
    char *wrong = ts_whsec_new();
    struct ts_signed bad = {.secret = wrong};
    struct ts_http r;
    ts_post_expect(&f->srv, "generic", f->body, &bad, 401, &r); /* the window's first */
    ts_http_free(&r);
    free(wrong);
    int held = raw_open(f, 0), gone = raw_open(f, 1);
    send_forged(held);
    send_forged(gone);
    wait_delayed(f, 2);
    close(gone);
    f->fds[1] = -1;
    expect_webhook_served(f);
    char buf[1024];
    bool closed;
    read_answer(held, buf, sizeof(buf), 15000, &closed);
    if (strncmp(buf, "HTTP/1.1 401", 12) != 0)
        fail_msg("the held refusal: want 401, got:\n%s", buf);
    ts_server_stop_clean("test_refusals_to_a_flooding_source_are_answered_late", &f->srv);
}

/* The same for a source over its rate: of two requests sent at once with a burst of one,
 * one is verified (401: forged) and the other's 429 is answered late. */
static void test_rate_limited_source_is_answered_late(void **state)
{
    struct fixture *f = *state;
    start_server_with(f, NULL,
                      "limits: { per_source: 1, per_source_burst: 1, refusal_delay: 3s }\n");
    int fds[2] = {raw_open(f, 0), raw_open(f, 1)};
    send_forged(fds[0]);
    send_forged(fds[1]);
    wait_delayed(f, 1);
    char buf[2][1024];
    bool closed[2];
    for (int i = 0; i < 2; i++)
        read_answer(fds[i], buf[i], sizeof(buf[i]), 15000, &closed[i]);
    int late = strncmp(buf[0], "HTTP/1.1 429", 12) == 0 ? 0 : 1;
    if (strncmp(buf[late], "HTTP/1.1 429", 12) != 0 ||
        strstr(buf[late], "\r\nRetry-After: ") == NULL || !closed[late] ||
        strncmp(buf[1 - late], "HTTP/1.1 401", 12) != 0)
        fail_msg("want a 401 and a late 429 with Retry-After and the close, got:\n%s\n--\n%s",
                 buf[0], buf[1]);
    ts_server_stop_clean("test_rate_limited_source_is_answered_late", &f->srv);
}

/* A graceful stop sends the refusals held to be answered late at once, rather than waiting
 * for them (or, with a long delay, giving up on them). */
static void test_stop_sends_held_refusals(void **state)
{
    struct fixture *f = *state;
    start_server_with(f, NULL, "limits: { audit_each: 1, refusal_delay: 60s }\n");
    int first = raw_open(f, 0), held = raw_open(f, 1);
    send_forged(first);
    char buf[1024];
    bool closed;
    read_answer(first, buf, sizeof(buf), 5000, &closed);
    if (strncmp(buf, "HTTP/1.1 401", 12) != 0)
        fail_msg("the window's first forged request: want 401 at once, got:\n%s", buf);
    send_forged(held);
    wait_delayed(f, 1);
    int rc = ts_server_stop(&f->srv, SIGTERM);
    read_answer(held, buf, sizeof(buf), 5000, &closed);
    if (strncmp(buf, "HTTP/1.1 401", 12) != 0)
        fail_msg("the held refusal at the stop: want 401, got:\n%s", buf);
    char *log = ts_server_log(&f->srv);
    bool waited = strstr(log, "still in flight") != NULL;
    free(log);
    assert_int_equal(rc, 0);
    assert_false(waited);
}

/* A chunked body is bounded by its endpoint's max_body (and the chunks' framing), not by the
 * listener's, which is the largest endpoint's: sent without end to the 2 KiB endpoint while
 * another takes 1 MiB, it is cut and the connection closed long before the listener's limit,
 * and its bytes go back to the budget. */
static void test_chunked_body_is_cut_at_its_endpoint_limit(void **state)
{
    struct fixture *f = *state;
    start_server_with(f, NULL,
                      "  - id: big\n"
                      "    provider: generic\n"
                      "    company: acme\n"
                      "    max_body: 1MiB\n"
                      "    secrets: [ \"file:generic.secret\" ]\n");
    int fd = raw_open(f, 0);
    send_text(fd, "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
    char chunk[1100];
    int len = snprintf(chunk, sizeof(chunk), "400\r\n%1024s\r\n", "{}");
    bool closed = false;
    size_t sent = 0;
    /* Up to 512 KiB, half the listener's limit; the socket buffers may take all of it. */
    for (int i = 0; i < 512 && !closed; i++) {
        if (send(fd, chunk, (size_t)len, MSG_NOSIGNAL) != len)
            closed = true;
        else
            sent += (size_t)len;
    }
    char buf[256];
    if (!closed)
        read_answer(fd, buf, sizeof(buf), 5000, &closed);
    if (!closed)
        fail_msg("a chunked body of %zu bytes to a 2 KiB endpoint was not cut", sent);
    char *log = ts_server_log(&f->srv);
    bool logged = strstr(log, "a chunked body over its") != NULL;
    free(log);
    if (!logged)
        fail_msg("the cut was not logged");
    expect_webhook_served(f);
    ts_server_stop_clean("test_chunked_body_is_cut_at_its_endpoint_limit", &f->srv);
}

/* A client that sends its whole body without waiting still reads the early answer. */
static void test_early_refusal_reaches_a_client_still_sending(void **state)
{
    struct fixture *f = *state;
    start_server(f, NULL);
    size_t n = 1024 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    struct ts_signed o = {.secret = f->secret};
    struct ts_http r;
    ts_post_expect(&f->srv, "generic", big, &o, 413, &r);
    ts_http_free(&r);
    free(big);
    expect_webhook_served(f);
    ts_server_stop_clean("test_early_refusal_reaches_a_client_still_sending", &f->srv);
}

static void test_body_bytes_in_flight_are_bounded(void **state)
{
    struct fixture *f = *state;
    start_server(f, "  max_body_bytes_in_flight: 4KiB\n");
    static const char head[] = "POST /hooks/generic HTTP/1.1\r\nHost: x\r\n"
                               "Content-Type: application/json\r\nContent-Length: 2048\r\n\r\n";
    /* Two announced 2 KiB bodies hold the whole budget while their bodies do not come, so of
     * three such heads exactly one (whichever is read last) is refused before its body, and
     * told when to come back. */
    for (size_t i = 0; i < 3; i++)
        send_text(raw_open(f, i), head);
    size_t refused = 3, n_refused = 0;
    for (size_t i = 0; i < 3; i++) {
        char buf[2048];
        bool closed;
        read_answer(f->fds[i], buf, sizeof(buf), i == 0 ? 5000 : 1000, &closed);
        if (buf[0] == '\0')
            continue;
        if (strncmp(buf, "HTTP/1.1 503", 12) != 0 || strstr(buf, "Retry-After: 1") == NULL)
            fail_msg("a body past the budget: want 503 with Retry-After, got:\n%s", buf);
        refused = i;
        n_refused++;
    }
    assert_int_equal(n_refused, 1);
    /* Once the two admitted ones are gone the budget is free again. */
    for (size_t i = 0; i < 3; i++)
        if (i != refused) {
            close(f->fds[i]);
            f->fds[i] = -1;
        }
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/generic", (unsigned)f->srv.port);
    bool served = false;
    for (int i = 0; i < 20 && !served; i++) { /* the closes are seen within a turn or two */
        struct ts_signed o = {.secret = f->secret};
        struct ts_http r;
        ts_signed_post(url, f->body, &o, &r);
        served = r.status == 202;
        ts_http_free(&r);
        if (!served)
            ts_sleep_ms(100);
    }
    assert_true(served);
    ts_server_stop_clean("test_body_bytes_in_flight_are_bounded", &f->srv);
}

/* ---- item 4: framing two parsers could read differently ------------------------------ */

static void test_ambiguous_framing_is_refused_and_closed(void **state)
{
    struct fixture *f = *state;
    start_server(f, NULL);
    static const char *const heads[] = {
        /* Content-Length with Transfer-Encoding (evhttp let chunked win) */
        "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        /* a coding evhttp ignored */
        "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        /* two Content-Lengths, equal or not */
        "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        "Content-Length: 2\r\n\r\n{}",
        "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        "Content-Length: 40\r\n\r\n{}",
        "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}",
        /* a folded header line (obs-fold), which evhttp joined to the one before */
        "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n Content-Length: 2\r\n"
        "Content-Length: 2\r\n\r\n{}",
        /* bare LF line endings, which evhttp read as CRLF */
        "POST /hooks/generic HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}",
        "POST /hooks/generic HTTP/1.1\r\nHost: x\nContent-Length: 2\r\n\r\n{}",
        /* a body evhttp would not read, and so parse as a second request */
        "HEAD /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 38\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        /* a CR alone inside a line */
        "POST /hooks/generic HTTP/1.1\r\nHost: x\rContent-Length: 2\r\n\r\n{}",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        expect_refused(f, i, heads[i], "HTTP/1.1 400");
    /* A well-framed chunked request is still read (and its connection closed after). */
    int fd = raw_open(f, 20);
    send_text(fd, "POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  "application/json\r\nTransfer-Encoding: chunked\r\n"
                  "\r\n2\r\n{}\r\n0\r\n\r\n");
    char buf[2048];
    bool closed;
    read_answer(fd, buf, sizeof(buf), 5000, &closed);
    /* Unsigned, so refused by the verifier: its body was read. */
    if (strncmp(buf, "HTTP/1.1 401", 12) != 0 || !closed)
        fail_msg("a chunked request: want 401 and the connection closed, got:\n%s", buf);
    expect_webhook_served(f);
    ts_server_stop_clean("test_ambiguous_framing_is_refused_and_closed", &f->srv);
}

/* ---- item 5: idle connections ------------------------------------------------------- */

static void test_idle_flood_does_not_keep_a_webhook_out(void **state)
{
    struct fixture *f = *state;
    start_server(f, "  max_connections: 100\n  header_timeout: 60s\n");
    /* 150 connections that send nothing: half again the limit. */
    for (size_t i = 0; i < 150; i++)
        raw_open(f, i);
    /* Before, the listener sat at its limit and this waited in the backlog until curl gave
     * up; now the oldest idle connections make room. */
    expect_webhook_served(f);
    /* The first connection opened was among those closed for room. */
    char buf[64];
    bool closed;
    read_answer(f->fds[0], buf, sizeof(buf), 5000, &closed);
    assert_true(closed);
    ts_server_stop_clean("test_idle_flood_does_not_keep_a_webhook_out", &f->srv);
}

static void test_head_not_complete_in_time_is_closed(void **state)
{
    struct fixture *f = *state;
    start_server(f, "  header_timeout: 1s\n  timeout: 60s\n");
    int idle = raw_open(f, 0);
    int partial = raw_open(f, 1);
    send_text(partial, "POST /hooks/generic HTTP/1.1\r\nHost: x\r\n");
    char buf[64];
    bool closed;
    /* Within 10 s, though the read/write timeout is 60 s. */
    read_answer(idle, buf, sizeof(buf), 10000, &closed);
    assert_true(closed);
    read_answer(partial, buf, sizeof(buf), 10000, &closed);
    assert_true(closed);
    expect_webhook_served(f);
    ts_server_stop_clean("test_head_not_complete_in_time_is_closed", &f->srv);
}

/* ctgw's resident memory in KiB (VmRSS), 0 when it cannot be read. */
static long rss_kib(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *fp = fopen(path, "r");
    long kib = 0;
    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (fp != NULL)
        fclose(fp);
    return kib;
}

/* File descriptors ctgw holds (its accepted connections among them). */
static size_t open_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    size_t n = 0;
    while (d != NULL && readdir(d) != NULL)
        n++;
    if (d != NULL)
        closedir(d);
    return n;
}

/* Item 5's bound: 10,000 idle connections hold under 64 MiB of ctgw's RSS in all, and a
 * webhook is still served among them. Measured on the release build that `./dev test`
 * builds beside this one (build/ctgw): the sanitizers' shadow memory would say nothing about
 * ctgw's own. */
#define IDLE_CONNECTIONS 10000
static void test_ten_thousand_idle_connections_fit_in_64_mib(void **state)
{
    struct fixture *f = *state;
#if defined(__SANITIZE_THREAD__)
    /* The same release binary as in the sanitizer run: nothing more to learn, 40 s to spend. */
    print_message("skipped under ThreadSanitizer (the ASan run measures the release build)\n");
    skip();
#endif
    char release[512];
    snprintf(release, sizeof(release), "%s/build/ctgw", CTGW_SOURCE_ROOT);
    if (access(release, X_OK) != 0) {
        print_message("skipped: no release build at %s (./dev build makes it)\n", release);
        skip();
    }
    /* This process holds one end of every connection and ctgw (which inherits the limit)
     * the other: each needs room for all of them. */
    struct rlimit rl = {.rlim_cur = IDLE_CONNECTIONS + 1024, .rlim_max = IDLE_CONNECTIONS + 1024};
    struct rlimit had;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &had), 0);
    if (had.rlim_max > rl.rlim_max)
        rl.rlim_max = had.rlim_max;
    if (had.rlim_cur < rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        print_message("skipped: cannot raise the open-file limit to %lu: %s\n",
                      (unsigned long)rl.rlim_cur, strerror(errno));
        skip();
    }
    struct ts_config c = {
        .db_name = f->db.name,
        .top_extra = ENDPOINTS_YAML,
        .listen_extra = "  max_connections: 10100\n  header_timeout: 120s\n  timeout: 120s\n"};
    ts_server_prepare(&f->srv, &c);
    f->srv.binary = release;
    free(test_write_text(f->srv.dir, "generic.secret", f->secret, 0600));
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    ts_db_exec_ok(&f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme')");
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
    long before = rss_kib(f->srv.pid);
    int *fds = malloc(IDLE_CONNECTIONS * sizeof(*fds));
    assert_non_null(fds);
    size_t opened = 0;
    for (; opened < IDLE_CONNECTIONS; opened++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->srv.port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[opened] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[opened] < 0 || connect(fds[opened], (struct sockaddr *)&a, sizeof(a)) != 0) {
            if (fds[opened] >= 0)
                close(fds[opened]);
            break;
        }
    }
    /* Accepted by ctgw: bounded, a connection a millisecond at the very least. */
    for (int i = 0; i < 200 && open_fds(f->srv.pid) < opened; i++)
        ts_sleep_ms(100);
    size_t held = open_fds(f->srv.pid);
    long during = rss_kib(f->srv.pid);
    expect_webhook_served(f);
    for (size_t i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    print_message("%zu idle connections (ctgw holds %zu fds): RSS %ld KiB, %ld KiB before\n",
                  opened, held, during, before);
    if (opened < IDLE_CONNECTIONS)
        fail_msg("only %zu connections could be opened: %s", opened, strerror(errno));
    if (held < IDLE_CONNECTIONS)
        fail_msg("ctgw holds %zu fds, fewer than the %d connections", held, IDLE_CONNECTIONS);
    if (during <= 0 || during >= 64 * 1024)
        fail_msg("RSS %ld KiB with %d idle connections, not under 64 MiB", during,
                 IDLE_CONNECTIONS);
    ts_server_stop_clean("test_ten_thousand_idle_connections_fit_in_64_mib", &f->srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_heads_are_refused_before_their_bodies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_on_the_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_to_a_flooding_source_are_answered_late, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_source_is_answered_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_sends_held_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_body_is_cut_at_its_endpoint_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_early_refusal_reaches_a_client_still_sending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_body_bytes_in_flight_are_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ambiguous_framing_is_refused_and_closed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_idle_flood_does_not_keep_a_webhook_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_head_not_complete_in_time_is_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ten_thousand_idle_connections_fit_in_64_mib, setup,
                                        teardown),
    };
    return ts_run_group(tests);
}
