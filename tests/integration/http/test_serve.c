/* test_serve.c — `ctgw serve` over real HTTP on loopback: probes, request ids, the JSON log and
 * its redaction, the admin listener, connection limits, TLS, shutdown and failed startup. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "gateway/db/migrations.h"
#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"

#define MAX_RAW_FDS 8

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    bool prepared;
    int fds[MAX_RAW_FDS]; /* raw sockets a test opened; teardown closes what is left */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < MAX_RAW_FDS; i++)
        f->fds[i] = -1;
    ts_db_create(&f->db, "serve");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < MAX_RAW_FDS; i++)
        if (f->fds[i] >= 0)
            close(f->fds[i]);
    if (f->prepared)
        ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f);
    return 0;
}

/* ---- the server ---------------------------------------------------------------------- */

static void prepare(struct fixture *f, const char *listen_extra)
{
    struct ts_config c = {.db_name = f->db.name, .listen_extra = listen_extra};
    ts_server_prepare(&f->srv, &c);
    f->prepared = true;
}

static void start(struct fixture *f)
{
    if (!ts_server_start(&f->srv)) {
        char *log = ts_server_log(&f->srv);
        fprintf(stderr, "ctgw serve did not start; its log:\n%s\n", log);
        free(log);
        fail_msg("ctgw serve did not start");
    }
}

static void prepare_and_start(struct fixture *f, const char *listen_extra, bool migrated)
{
    prepare(f, listen_extra);
    if (migrated)
        ts_ctgw_ok("migrate", f->srv.config, NULL);
    start(f);
}

static bool log_has_text(const struct ts_server *s, const char *needle)
{
    char *log = ts_server_log(s);
    bool found = strstr(log, needle) != NULL;
    free(log);
    return found;
}

/* ---- HTTP ---------------------------------------------------------------------------- */

/* An answer copied out of libcurl's buffers, so that a failed assertion leaks nothing. */
struct answer {
    long status; /* 0: no answer (transport error) */
    char body[4096];
    char headers[4096];
};

static void fetch_with(const char *method, const char *url, const char *const *headers,
                       const struct ts_http_opts *opts, struct answer *a)
{
    struct ts_http r;
    memset(a, 0, sizeof(*a));
    if (ts_http_with(method, url, headers, NULL, opts, &r) == 0)
        a->status = r.status;
    snprintf(a->body, sizeof(a->body), "%s", r.body ? r.body : "");
    snprintf(a->headers, sizeof(a->headers), "%s", r.headers ? r.headers : "");
    ts_http_free(&r);
}

static void fetch(const char *method, uint16_t port, const char *path, const char *const *headers,
                  struct answer *a)
{
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, path);
    fetch_with(method, url, headers, NULL, a);
}

/* Header NAME of the answer copied into BUF (empty when absent); returns BUF. */
static const char *header(const struct answer *a, const char *name, char *buf, size_t len)
{
    struct ts_http r = {.headers = (char *)a->headers};
    if (ts_http_header(&r, name, buf, len) == NULL)
        buf[0] = '\0';
    return buf;
}

static bool has_header(const struct answer *a, const char *name)
{
    char buf[8];
    struct ts_http r = {.headers = (char *)a->headers};
    return ts_http_header(&r, name, buf, sizeof(buf)) != NULL;
}

/* True when TEXT parses as JSON equal to WANT. */
static bool json_equals(const char *text, const char *want)
{
    cJSON *got = cJSON_Parse(text);
    cJSON *exp = cJSON_Parse(want);
    bool same = got != NULL && exp != NULL && cJSON_Compare(got, exp, true);
    cJSON_Delete(got);
    cJSON_Delete(exp);
    return same;
}

/* Number field KEY of a JSON body; FALLBACK when the body or the field is missing. */
static double json_number(const char *text, const char *key, double fallback)
{
    cJSON *j = cJSON_Parse(text);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    double out = cJSON_IsNumber(v) ? v->valuedouble : fallback;
    cJSON_Delete(j);
    return out;
}

static bool is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* ---- the log ------------------------------------------------------------------------- */

/* A line matches when every KEY, VALUE pair (NULL-terminated list) holds: string fields
 * equal VALUE, number fields equal VALUE read as a number. */
static bool line_matches(const cJSON *line, const char *const *kv)
{
    for (size_t i = 0; kv[i] != NULL && kv[i + 1] != NULL; i += 2) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, kv[i]);
        if (cJSON_IsString(v)) {
            if (strcmp(v->valuestring, kv[i + 1]) != 0)
                return false;
        } else if (cJSON_IsNumber(v)) {
            if (v->valuedouble != strtod(kv[i + 1], NULL))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

static bool log_has_line(const struct ts_server *s, const char *const *kv)
{
    char *log = ts_server_log(s);
    bool found = false;
    char *save = NULL;
    for (char *l = strtok_r(log, "\n", &save); l != NULL && !found;
         l = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(l);
        found = j != NULL && line_matches(j, kv);
        cJSON_Delete(j);
    }
    free(log);
    return found;
}

/* The access line can be written just after the answer went out: wait for it (bounded). */
static bool wait_log_line(const struct ts_server *s, const char *const *kv, long limit_ms)
{
    for (long waited = 0; waited <= limit_ms; waited += 50) {
        if (log_has_line(s, kv))
            return true;
        ts_sleep_ms(50);
    }
    return false;
}

static bool wait_log_text(const struct ts_server *s, const char *needle, long limit_ms)
{
    for (long waited = 0; waited <= limit_ms; waited += 50) {
        if (log_has_text(s, needle))
            return true;
        ts_sleep_ms(50);
    }
    return false;
}

/* Every line of the log is a JSON object with string time, level and msg. */
static void assert_log_is_json(const struct ts_server *s)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    char *log = ts_server_log(s);
    char bad[512] = "";
    size_t lines = 0;
    const char *p = log;
    while (*p != '\0' && bad[0] == '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        cJSON *j = cJSON_ParseWithLength(p, len);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "time");
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "level");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "msg");
        bool ok = cJSON_IsObject(j) && cJSON_IsString(t) && cJSON_IsString(lv) &&
                  cJSON_IsString(m) && strlen(t->valuestring) == 24 && t->valuestring[10] == 'T' &&
                  t->valuestring[23] == 'Z';
        bool known_level = false;
        for (size_t i = 0; ok && i < sizeof(levels) / sizeof(levels[0]); i++)
            known_level = known_level || strcmp(lv->valuestring, levels[i]) == 0;
        if (!ok || !known_level)
            snprintf(bad, sizeof(bad), "line %zu: %.*s", lines + 1, (int)len, p);
        if (nl == NULL && bad[0] == '\0')
            snprintf(bad, sizeof(bad), "line %zu has no newline: %.*s", lines + 1, (int)len, p);
        cJSON_Delete(j);
        lines++;
        p = nl ? nl + 1 : p + len;
    }
    free(log);
    if (bad[0] != '\0')
        fail_msg("log line is not a JSON object with time, level and msg: %s", bad);
    assert_true(lines > 0);
}

/* ---- raw TCP ------------------------------------------------------------------------- */

/* A connected socket to 127.0.0.1:PORT, or -1. */
static int tcp_connect(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Connects and remembers the socket in slot I so that teardown closes it. */
static int raw_open(struct fixture *f, size_t i, uint16_t port)
{
    assert_true(i < MAX_RAW_FDS);
    f->fds[i] = tcp_connect(port);
    if (f->fds[i] < 0)
        fail_msg("cannot connect to 127.0.0.1:%u: %s", (unsigned)port, strerror(errno));
    return f->fds[i];
}

static void raw_close(struct fixture *f, size_t i)
{
    if (f->fds[i] >= 0)
        close(f->fds[i]);
    f->fds[i] = -1;
}

static void set_rcvtimeo(int fd, long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

static bool send_all(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

/* Reads what arrives on FD within LIMIT_MS into BUF until it holds NEED bytes or EOF. */
static size_t read_until(int fd, char *buf, size_t cap, size_t need, long limit_ms)
{
    size_t got = 0;
    for (long waited = 0; got < need && got + 1 < cap && waited < limit_ms; waited += 100) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

static bool port_accepts(uint16_t port)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* ---- TLS material -------------------------------------------------------------------- */

/* A self-signed P-256 certificate for 127.0.0.1 as DIR/CERT with its key as DIR/KEY (0600). */
static void make_cert(const char *dir, const char *cert, const char *key)
{
    char cert_path[512], key_path[512];
    snprintf(cert_path, sizeof(cert_path), "%s/%s", dir, cert);
    snprintf(key_path, sizeof(key_path), "%s/%s", dir, key);
    char *argv[] = {"openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                    "-keyout",
                    key_path,
                    "-out",
                    cert_path,
                    NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    if (rc != 0) {
        fprintf(stderr, "openssl req exited %d:\n%s\n", rc, out);
        free(out);
        fail_msg("cannot make a test certificate");
    }
    free(out);
    assert_int_equal(chmod(key_path, 0600), 0);
}

#define TLS_12                                                                                     \
    "  tls:\n"                                                                                     \
    "    cert: file:cert.pem\n"                                                                    \
    "    key: file:key.pem\n"                                                                      \
    "    min_version: \"1.2\"\n"

#define TLS_13                                                                                     \
    "  tls:\n"                                                                                     \
    "    cert: file:cert.pem\n"                                                                    \
    "    key: file:key.pem\n"                                                                      \
    "    min_version: \"1.3\"\n"

/* A handshake with `openssl s_client` limited to one protocol VERSION ("-tls1_1"...), at
 * security level 0 so that the client itself would accept an old protocol: a refusal then
 * comes from the server. Returns s_client's exit code and its output in *out. */
static int s_client(uint16_t port, const char *version, const char *ca, char **out)
{
    char connect_to[64];
    snprintf(connect_to, sizeof(connect_to), "127.0.0.1:%u", (unsigned)port);
    char *argv[] = {"openssl",
                    "s_client",
                    "-connect",
                    connect_to,
                    (char *)version,
                    "-cipher",
                    "DEFAULT:@SECLEVEL=0",
                    "-CAfile",
                    (char *)ca,
                    "-verify_return_error",
                    "-brief",
                    NULL};
    return ts_run(argv, out);
}

/* ---- 1. probes and routing ----------------------------------------------------------- */

static void test_healthz_answers_ok_with_safe_headers(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, NULL, false);
    uint16_t port = f->srv.port;
    struct answer a;
    char b[256];

    fetch("GET", port, "/healthz", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_true(json_equals(a.body, "{\"status\":\"ok\"}"));
    assert_string_equal(header(&a, "Content-Type", b, sizeof(b)), "application/json");
    assert_string_equal(header(&a, "Cache-Control", b, sizeof(b)), "no-store");
    assert_string_equal(header(&a, "X-Content-Type-Options", b, sizeof(b)), "nosniff");

    fetch("HEAD", port, "/healthz", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "");

    fetch("POST", port, "/healthz", NULL, &a);
    assert_int_equal(a.status, 405);
    assert_string_equal(header(&a, "Allow", b, sizeof(b)), "GET, HEAD");
    assert_true(json_equals(a.body, "{\"error\":\"method_not_allowed\"}"));

    /* /readyz shares the method rule. */
    fetch("DELETE", port, "/readyz", NULL, &a);
    assert_int_equal(a.status, 405);
    assert_string_equal(header(&a, "Allow", b, sizeof(b)), "GET, HEAD");

    static const char *const unknown[] = {"/nope", "/healthz/extra", "/"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        fetch("GET", port, unknown[i], NULL, &a);
        if (a.status != 404 || !json_equals(a.body, "{\"error\":\"not_found\"}"))
            fail_msg("GET %s: %ld %s", unknown[i], a.status, a.body);
        assert_string_equal(header(&a, "Content-Type", b, sizeof(b)), "application/json");
        assert_string_equal(header(&a, "X-Content-Type-Options", b, sizeof(b)), "nosniff");
    }

    /* An endpoint that is not configured: 404, and the error may name the reason. */
    fetch("GET", port, "/hooks/x", NULL, &a);
    cJSON *j = cJSON_Parse(a.body);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    bool named = cJSON_IsString(e) && e->valuestring[0] != '\0';
    cJSON_Delete(j);
    if (a.status != 404 || !named)
        fail_msg("GET /hooks/x: %ld %s", a.status, a.body);
    assert_string_equal(header(&a, "Content-Type", b, sizeof(b)), "application/json");
    assert_string_equal(header(&a, "X-Content-Type-Options", b, sizeof(b)), "nosniff");
}

/* ---- 2. readiness follows the schema while the server runs --------------------------- */

static void test_readyz_turns_ready_after_migrate(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, NULL, false);
    pid_t pid = f->srv.pid;
    struct answer a;
    char b[64];

    /* Before the checker's first round the state is "not checked yet" (pending -1). */
    for (int i = 0; i < 100; i++) {
        fetch("GET", f->srv.port, "/readyz", NULL, &a);
        if (json_number(a.body, "pending_migrations", -1) != -1)
            break;
        ts_sleep_ms(100);
    }
    assert_int_equal(a.status, 503);
    const char *retry = header(&a, "Retry-After", b, sizeof(b));
    assert_true(retry[0] >= '0' && retry[0] <= '9');
    assert_true(gw_migrations_count >= 1);
    char want[256];
    snprintf(want, sizeof(want),
             "{\"status\":\"unavailable\",\"database\":\"up\",\"pending_migrations\":%zu}",
             gw_migrations_count);
    if (!json_equals(a.body, want))
        fail_msg("/readyz on an empty database: %s, expected %s", a.body, want);
    assert_true(wait_log_text(&f->srv, "migration(s) pending; run ctgw migrate", 5000));

    ts_ctgw_ok("migrate", f->srv.config, NULL);

    for (int i = 0; i < 150; i++) {
        fetch("GET", f->srv.port, "/readyz", NULL, &a);
        if (a.status == 200)
            break;
        ts_sleep_ms(100);
    }
    assert_int_equal(a.status, 200);
    assert_true(
        json_equals(a.body, "{\"status\":\"ready\",\"database\":\"up\",\"pending_migrations\":0}"));
    assert_false(has_header(&a, "Retry-After"));
    fetch("GET", f->srv.admin_port, "/readyz", NULL, &a);
    assert_int_equal(a.status, 200);

    /* The same process, never restarted. */
    int status;
    assert_int_equal(f->srv.pid, pid);
    assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
    assert_true(log_has_text(&f->srv, "ready: database reachable and schema current"));
}

/* ---- 3. request ids ------------------------------------------------------------------ */

/* GET /healthz with an optional X-Request-Id; returns the id the answer carries in ID. */
static void request_with_id(const struct fixture *f, const char *given, char *id, size_t len)
{
    char h[256];
    const char *headers[] = {h, NULL};
    struct answer a;
    snprintf(h, sizeof(h), "X-Request-Id: %s", given ? given : "");
    fetch("GET", f->srv.port, "/healthz", given ? headers : NULL, &a);
    assert_int_equal(a.status, 200);
    header(&a, "X-Request-Id", id, len);
}

static void assert_access_logged(const struct fixture *f, const char *id, const char *path)
{
    const char *const kv[] = {"msg",    "request", "request_id", id,       "path", path,
                              "status", "200",     "listener",   "public", NULL};
    if (!wait_log_line(&f->srv, kv, 5000))
        fail_msg("no access-log line for request id %s", id);
}

static void test_valid_request_id_is_echoed_and_logged(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, NULL, false);
    char id[128];

    request_with_id(f, "abc-123.x:y_z", id, sizeof(id));
    assert_string_equal(id, "abc-123.x:y_z");
    assert_access_logged(f, "abc-123.x:y_z", "/healthz");

    /* 64 characters is the longest id taken as given. */
    char longest[65];
    memset(longest, 'a', 64);
    longest[64] = '\0';
    request_with_id(f, longest, id, sizeof(id));
    assert_string_equal(id, longest);
    assert_access_logged(f, longest, "/healthz");
}

static void test_invalid_request_id_is_replaced(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, NULL, false);
    char too_long[66];
    memset(too_long, 'a', 65);
    too_long[65] = '\0';
    const char *const invalid[] = {"abc def", too_long, "abc\"def", "abc/def", "<script>"};
    char id[128];

    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        request_with_id(f, invalid[i], id, sizeof(id));
        if (!is_hex32(id))
            fail_msg("X-Request-Id '%s' answered with id '%s', not a fresh 32-hex id", invalid[i],
                     id);
        assert_access_logged(f, id, "/healthz");
    }
    /* Nothing of the rejected ids reaches the log. */
    assert_false(log_has_text(&f->srv, "abc def"));
    assert_false(log_has_text(&f->srv, too_long));
    assert_false(log_has_text(&f->srv, "<script>"));
}

static void test_missing_request_id_is_generated(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, NULL, false);
    char first[128], second[128];

    request_with_id(f, NULL, first, sizeof(first));
    request_with_id(f, NULL, second, sizeof(second));
    assert_true(is_hex32(first));
    assert_true(is_hex32(second));
    assert_string_not_equal(first, second);
    assert_access_logged(f, first, "/healthz");
    assert_access_logged(f, second, "/healthz");

    /* Every answer carries one, errors included. */
    struct answer a;
    char b[128];
    fetch("GET", f->srv.port, "/nope", NULL, &a);
    assert_int_equal(a.status, 404);
    assert_true(is_hex32(header(&a, "X-Request-Id", b, sizeof(b))));
}

/* ---- 4. log format and redaction ----------------------------------------------------- */

static char *db_password(void)
{
    char *p = test_read(ts_env("CTGW_DB_PASSWORD_FILE"), NULL);
    if (p == NULL)
        fail_msg("cannot read CTGW_DB_PASSWORD_FILE");
    p[strcspn(p, "\r\n")] = '\0';
    return p;
}

static void test_log_is_json_and_never_holds_secrets(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, NULL, true);
    const struct ts_server *s = &f->srv;
    char *password = db_password();
    char pw[256];
    snprintf(pw, sizeof(pw), "%s", password);
    free(password);
    /* Redaction ignores secrets under 6 bytes; ours must be long enough to be meaningful. */
    assert_true(strlen(pw) >= 6 && strlen(s->token) >= 6);

    char auth_wrong[512], auth_right[512], auth_longer[512], id_token[512], id_pw[512];
    char path_pw[300];
    snprintf(auth_wrong, sizeof(auth_wrong), "Authorization: Bearer wrong-%s", s->token);
    snprintf(auth_right, sizeof(auth_right), "Authorization: Bearer %s", s->token);
    snprintf(auth_longer, sizeof(auth_longer), "Authorization: Bearer %sX", s->token);
    snprintf(id_token, sizeof(id_token), "X-Request-Id: %s", s->token);
    snprintf(id_pw, sizeof(id_pw), "X-Request-Id: %s", pw);
    snprintf(path_pw, sizeof(path_pw), "/%s", pw);
    const char *wrong[] = {auth_wrong, NULL};
    const char *longer[] = {auth_longer, NULL};
    const char *right[] = {auth_right, NULL};
    const char *right_and_id[] = {auth_right, id_token, NULL};
    const char *pw_as_id[] = {id_pw, NULL};
    struct answer a;

    fetch("GET", s->admin_port, "/metrics", wrong, &a);
    assert_int_equal(a.status, 401);
    fetch("GET", s->admin_port, "/metrics", longer, &a);
    assert_int_equal(a.status, 401);
    fetch("GET", s->admin_port, "/metrics", right, &a);
    assert_int_not_equal(a.status, 401);
    fetch("GET", s->admin_port, "/no-such-route", right_and_id, &a);
    assert_int_equal(a.status, 404);
    fetch("GET", s->port, "/metrics", right, &a);
    assert_int_equal(a.status, 404);
    fetch("GET", s->port, path_pw, pw_as_id, &a);
    assert_int_equal(a.status, 404);
    /* A path with a quote, a backslash, a control byte and invalid UTF-8 must still leave
     * one valid JSON line (curl would refuse to send it, so it goes raw). */
    int fd = raw_open(f, 0, s->port);
    assert_true(send_all(fd, "GET /a\"b\\c\x01\xff\xc3\xa9<x> HTTP/1.1\r\nHost: x\r\n"
                             "Connection: close\r\n\r\n"));
    char buf[1024];
    read_until(fd, buf, sizeof(buf), 12, 10000);
    raw_close(f, 0);
    /* Refused for the bytes in its target (framing.c), yet logged as one valid JSON line. */
    assert_memory_equal(buf, "HTTP/1.1 400", 12);
    fetch("POST", s->port, "/healthz", wrong, &a);
    assert_int_equal(a.status, 405);

    /* The last request's line shows that the lines of all requests before it are written. */
    const char *const last[] = {"msg", "request", "status", "405", "method", "POST", NULL};
    assert_true(wait_log_line(s, last, 5000));
    /* The request whose path and id were the password was logged — redacted. */
    const char *const redacted[] = {"msg",         "request",    "status",     "404", "path",
                                    "/[REDACTED]", "request_id", "[REDACTED]", NULL};
    assert_true(log_has_line(s, redacted));
    assert_true(log_has_text(s, "admin request without a valid token"));
    const char *const odd[] = {"msg", "request", "path", "/a\"b\\c\x01\xef\xbf\xbd\xc3\xa9<x>",
                               NULL};
    assert_true(log_has_line(s, odd));

    assert_false(log_has_text(s, s->token));
    assert_false(log_has_text(s, pw));
    assert_log_is_json(s);

    /* ... and still after a clean shutdown. */
    assert_int_equal(ts_server_stop(&f->srv, SIGTERM), 0);
    assert_false(log_has_text(s, s->token));
    assert_false(log_has_text(s, pw));
    assert_log_is_json(s);
}

/* ---- 5. the admin listener ----------------------------------------------------------- */

static void test_admin_needs_the_token_except_for_probes(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, NULL, true);
    const struct ts_server *s = &f->srv;
    struct answer a;
    char b[128];

    fetch("GET", s->admin_port, "/healthz", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_true(json_equals(a.body, "{\"status\":\"ok\"}"));
    for (int i = 0; i < 100; i++) {
        fetch("GET", s->admin_port, "/readyz", NULL, &a);
        if (a.status == 200)
            break;
        assert_int_not_equal(a.status, 401);
        ts_sleep_ms(100);
    }
    assert_int_equal(a.status, 200);
    assert_false(has_header(&a, "WWW-Authenticate"));

    fetch("GET", s->admin_port, "/metrics", NULL, &a);
    assert_int_equal(a.status, 401);
    assert_string_equal(header(&a, "WWW-Authenticate", b, sizeof(b)), "Bearer");
    assert_true(json_equals(a.body, "{\"error\":\"unauthorized\"}"));

    char wrong[256], right[256], lower[256], prefix[256], basic[256];
    size_t tlen = strlen(s->token);
    snprintf(wrong, sizeof(wrong), "Authorization: Bearer not-%s", s->token);
    snprintf(right, sizeof(right), "Authorization: Bearer %s", s->token);
    /* The scheme name is case-insensitive (RFC 9110 11.1). */
    snprintf(lower, sizeof(lower), "Authorization: bearer %s", s->token);
    snprintf(prefix, sizeof(prefix), "Authorization: Bearer %.*s", (int)(tlen - 1), s->token);
    snprintf(basic, sizeof(basic), "Authorization: Basic %s", s->token);

    const char *const refused[] = {wrong, prefix, basic, "Authorization: Bearer "};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *h[] = {refused[i], NULL};
        fetch("GET", s->admin_port, "/metrics", h, &a);
        if (a.status != 401)
            fail_msg("'%s' on admin /metrics: %ld, expected 401", refused[i], a.status);
        assert_string_equal(header(&a, "WWW-Authenticate", b, sizeof(b)), "Bearer");
    }

    /* With the token, /metrics is served (200) or, before metrics exist, not found (404);
     * a path that is no admin route is 404 — but only once the token is right, so that the
     * admin listener reveals no routes to strangers. */
    const char *const accepted[] = {right, lower};
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        const char *h[] = {accepted[i], NULL};
        fetch("GET", s->admin_port, "/metrics", h, &a);
        if (a.status != 200 && a.status != 404)
            fail_msg("'%s' on admin /metrics: %ld, expected 200 or 404", accepted[i], a.status);
        assert_false(has_header(&a, "WWW-Authenticate"));
        fetch("GET", s->admin_port, "/no-such-route", h, &a);
        if (a.status != 404)
            fail_msg("'%s' on admin /no-such-route: %ld, expected 404", accepted[i], a.status);
    }
    fetch("GET", s->admin_port, "/no-such-route", NULL, &a);
    assert_int_equal(a.status, 401);

    /* The public listener has no admin routes, token or not. */
    const char *h[] = {right, NULL};
    fetch("GET", s->port, "/metrics", NULL, &a);
    assert_int_equal(a.status, 404);
    fetch("GET", s->port, "/metrics", h, &a);
    assert_int_equal(a.status, 404);
    assert_false(has_header(&a, "WWW-Authenticate"));
}

/* ---- 6. limits ----------------------------------------------------------------------- */

static void test_oversized_header_is_refused(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, "  max_header_size: 2KiB\n", false);
    char *big = malloc(8 * 1024 + 16);
    assert_non_null(big);
    strcpy(big, "X-Big: ");
    memset(big + 7, 'a', 8 * 1024);
    big[7 + 8 * 1024] = '\0';
    const char *h[] = {big, NULL};
    struct answer a;

    fetch("GET", f->srv.port, "/healthz", h, &a);
    free(big);
    /* evhttp answers 413 (or 400), or may close before the client has sent it all. */
    if (a.status != 0 && (a.status < 400 || a.status > 499))
        fail_msg("an 8 KiB header over a 2 KiB limit got %ld", a.status);

    /* A header under the limit is fine, and the server lives on. */
    const char *small[] = {"X-Small: 1234567890", NULL};
    fetch("GET", f->srv.port, "/healthz", small, &a);
    assert_int_equal(a.status, 200);
    fetch("GET", f->srv.port, "/healthz", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_log_is_json(&f->srv);
}

static void test_idle_connection_is_closed_after_timeout(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, "  timeout: 1s\n", false);
    int fd = raw_open(f, 0, f->srv.port);
    set_rcvtimeo(fd, 10000);
    char c;
    errno = 0;
    ssize_t n = recv(fd, &c, 1, 0);
    /* -1 with EAGAIN would mean 10 s passed with the connection still open. */
    if (n != 0)
        fail_msg("idle connection: recv returned %zd (%s), expected EOF", n, strerror(errno));

    /* A connection that sends its request in time is served. */
    fd = raw_open(f, 1, f->srv.port);
    assert_true(send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    char buf[512];
    read_until(fd, buf, sizeof(buf), 12, 10000);
    assert_memory_equal(buf, "HTTP/1.1 200", 12);
}

/* The timeout must bound the time to receive a request, not only the gap between two reads:
 * otherwise a client that sends one byte a little faster than the timeout holds a connection
 * (and, at max_connections, the whole listener) for ever. */
static void test_trickled_request_is_cut_off(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, "  timeout: 1s\n", false);
    int fd = raw_open(f, 0, f->srv.port);
    assert_true(send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    bool ended = false;
    int sent = 0;
    /* 40 bytes 300 ms apart: 12 s, twelve times the timeout. */
    for (; sent < 40 && !ended; sent++) {
        if (!send_all(fd, "a")) {
            ended = true;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        /* Readable means closed or answered (a 408 would do): either way, cut off. */
        ended = poll(&p, 1, 300) > 0;
    }
    if (!ended)
        fail_msg("a request trickled one byte per 300 ms was still open after %d bytes, "
                 "with timeout: 1s",
                 sent);
}

static void test_connection_limit_holds_new_connections(void **state)
{
    struct fixture *f = *state;
    prepare_and_start(f, "  max_connections: 3\n  timeout: 30s\n", false);
    uint16_t port = f->srv.port;
    /* Three connections busy with a request whose body has not come: idle ones would be
     * closed to make room (test_hostile.c), these are not. */
    for (size_t i = 0; i < 3; i++)
        assert_true(send_all(raw_open(f, i, port),
                             "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"));
    /* Wait until the server has taken all three, so the fourth is the one held back. */
    assert_true(wait_log_text(&f->srv, "at its limit of 3 open connections", 10000));

    /* The kernel completes the fourth handshake; the server must not read it. */
    int fourth = raw_open(f, 3, port);
    assert_true(send_all(fourth, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    struct pollfd p = {.fd = fourth, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 1000), 0);

    /* The admin listener has its own limit. */
    struct answer a;
    fetch("GET", f->srv.admin_port, "/healthz", NULL, &a);
    assert_int_equal(a.status, 200);

    raw_close(f, 0);
    char buf[512];
    read_until(fourth, buf, sizeof(buf), 12, 10000);
    assert_memory_equal(buf, "HTTP/1.1 200", 12);
    assert_true(wait_log_text(&f->srv, "public listener accepting again", 5000));
    assert_log_is_json(&f->srv);
}

/* ---- 7. TLS -------------------------------------------------------------------------- */

static void https_url(const struct fixture *f, char *url, size_t len)
{
    snprintf(url, len, "https://127.0.0.1:%u/healthz", (unsigned)f->srv.port);
}

static void test_tls_12_serves_https_only(void **state)
{
    struct fixture *f = *state;
    prepare(f, TLS_12);
    make_cert(f->srv.dir, "cert.pem", "key.pem");
    start(f);
    char url[128], ca[512];
    https_url(f, url, sizeof(url));
    snprintf(ca, sizeof(ca), "%s/cert.pem", f->srv.dir);
    struct answer a;

    struct ts_http_opts trust = {.ca_file = ca};
    fetch_with("GET", url, NULL, &trust, &a);
    assert_int_equal(a.status, 200);
    assert_true(json_equals(a.body, "{\"status\":\"ok\"}"));

    struct ts_http_opts tls12 = {.ca_file = ca, .tls_max = CURL_SSLVERSION_MAX_TLSv1_2};
    fetch_with("GET", url, NULL, &tls12, &a);
    assert_int_equal(a.status, 200);

    struct ts_http_opts old = {.ca_file = ca, .tls_max = CURL_SSLVERSION_MAX_TLSv1_1};
    fetch_with("GET", url, NULL, &old, &a);
    assert_int_equal(a.status, 0);

    /* The same with a client willing to speak TLS 1.1: the server refuses the protocol. */
    char *out = NULL;
    int rc = s_client(f->srv.port, "-tls1_1", ca, &out);
    bool refused = rc != 0 && strstr(out, "alert protocol version") != NULL &&
                   strstr(out, "CONNECTION ESTABLISHED") == NULL;
    if (!refused)
        fprintf(stderr, "s_client -tls1_1 exited %d:\n%s\n", rc, out);
    free(out);
    assert_true(refused);
    rc = s_client(f->srv.port, "-tls1_2", ca, &out);
    bool spoke12 = rc == 0 && strstr(out, "Protocol version: TLSv1.2") != NULL;
    if (!spoke12)
        fprintf(stderr, "s_client -tls1_2 exited %d:\n%s\n", rc, out);
    free(out);
    assert_true(spoke12);

    char plain[128];
    snprintf(plain, sizeof(plain), "http://127.0.0.1:%u/healthz", (unsigned)f->srv.port);
    struct ts_http_opts quick = {.timeout_ms = 5000};
    fetch_with("GET", plain, NULL, &quick, &a);
    assert_int_not_equal(a.status, 200);

    /* Failed handshakes leave the server serving. */
    fetch_with("GET", url, NULL, &trust, &a);
    assert_int_equal(a.status, 200);
    assert_log_is_json(&f->srv);
}

static void test_tls_13_refuses_tls_12(void **state)
{
    struct fixture *f = *state;
    prepare(f, TLS_13);
    make_cert(f->srv.dir, "cert.pem", "key.pem");
    start(f);
    char url[128], ca[512];
    https_url(f, url, sizeof(url));
    snprintf(ca, sizeof(ca), "%s/cert.pem", f->srv.dir);
    struct answer a;

    struct ts_http_opts tls12 = {.ca_file = ca, .tls_max = CURL_SSLVERSION_MAX_TLSv1_2};
    fetch_with("GET", url, NULL, &tls12, &a);
    assert_int_equal(a.status, 0);

    struct ts_http_opts trust = {.ca_file = ca};
    fetch_with("GET", url, NULL, &trust, &a);
    assert_int_equal(a.status, 200);

    char *out = NULL;
    int rc = s_client(f->srv.port, "-tls1_2", ca, &out);
    bool refused = rc != 0 && strstr(out, "alert protocol version") != NULL &&
                   strstr(out, "CONNECTION ESTABLISHED") == NULL;
    if (!refused)
        fprintf(stderr, "s_client -tls1_2 exited %d:\n%s\n", rc, out);
    free(out);
    assert_true(refused);
    rc = s_client(f->srv.port, "-tls1_3", ca, &out);
    bool spoke13 = rc == 0 && strstr(out, "Protocol version: TLSv1.3") != NULL;
    if (!spoke13)
        fprintf(stderr, "s_client -tls1_3 exited %d:\n%s\n", rc, out);
    free(out);
    assert_true(spoke13);

    assert_true(log_has_text(&f->srv, "\"tls\":\"1.3+\""));
}

static void test_tls_key_readable_by_others_is_refused(void **state)
{
    struct fixture *f = *state;
    prepare(f, TLS_12);
    make_cert(f->srv.dir, "cert.pem", "key.pem");
    char key[512];
    snprintf(key, sizeof(key), "%s/key.pem", f->srv.dir);
    assert_int_equal(chmod(key, 0644), 0);

    char *out = NULL;
    int rc = ts_ctgw("serve", f->srv.config, &out);
    bool says_chmod = strstr(out, "chmod 600") != NULL;
    bool listened = strstr(out, "\"listening\"") != NULL;
    if (rc == 0 || rc >= 128 || !says_chmod || listened)
        fprintf(stderr, "ctgw serve exited %d:\n%s\n", rc, out);
    free(out);
    assert_int_not_equal(rc, 0);
    assert_true(rc < 128); /* refused, not crashed */
    assert_true(says_chmod);
    assert_false(listened);
    assert_false(port_accepts(f->srv.port));

    rc = ts_ctgw("check-config", f->srv.config, &out);
    says_chmod = strstr(out, "chmod 600") != NULL;
    if (rc != 1 || !says_chmod)
        fprintf(stderr, "ctgw check-config exited %d:\n%s\n", rc, out);
    free(out);
    assert_int_equal(rc, 1);
    assert_true(says_chmod);
}

static void test_tls_key_of_another_cert_is_refused(void **state)
{
    struct fixture *f = *state;
    prepare(f, TLS_12);
    make_cert(f->srv.dir, "cert.pem", "other-key.pem");
    make_cert(f->srv.dir, "other-cert.pem", "key.pem");

    char *out = NULL;
    int rc = ts_ctgw("serve", f->srv.config, &out);
    bool says = strstr(out, "listen.tls.key does not match listen.tls.cert") != NULL;
    if (rc != 1 || !says)
        fprintf(stderr, "ctgw serve exited %d:\n%s\n", rc, out);
    free(out);
    assert_int_equal(rc, 1);
    assert_true(says);
    assert_false(port_accepts(f->srv.port));
}

/* ---- 8. shutdown --------------------------------------------------------------------- */

static void stop_cleanly(struct fixture *f, int sig)
{
    prepare_and_start(f, NULL, false);
    uint16_t port = f->srv.port, admin = f->srv.admin_port;
    /* An idle keep-alive connection must not hold the process up. */
    raw_open(f, 0, port);
    struct answer a;
    fetch("GET", port, "/healthz", NULL, &a);
    assert_int_equal(a.status, 200);

    assert_int_equal(ts_server_stop(&f->srv, sig), 0);
    const char *const stopped[] = {"msg", "stopped", "level", "info", NULL};
    assert_true(log_has_line(&f->srv, stopped));
    assert_true(log_has_text(&f->srv, "no longer accepting connections"));
    assert_false(port_accepts(port));
    assert_false(port_accepts(admin));
    assert_log_is_json(&f->srv);
}

static void test_sigterm_stops_cleanly(void **state)
{
    stop_cleanly(*state, SIGTERM);
}

static void test_sigint_stops_cleanly(void **state)
{
    stop_cleanly(*state, SIGINT);
}

/* ---- 9. failed startup --------------------------------------------------------------- */

/* A socket listening on 127.0.0.1 at a free port, kept in slot I; its port in *port. */
static void occupy_port(struct fixture *f, size_t i, uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->fds[i] >= 0);
    assert_int_equal(bind(f->fds[i], (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->fds[i], 4), 0);
    assert_int_equal(getsockname(f->fds[i], (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
}

static void test_taken_public_port_fails_startup(void **state)
{
    struct fixture *f = *state;
    uint16_t taken;
    occupy_port(f, 0, &taken);
    struct ts_config c = {.db_name = f->db.name, .port = taken};
    ts_server_prepare(&f->srv, &c);
    f->prepared = true;

    assert_false(ts_server_start(&f->srv));
    char want[128];
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u for the public listener",
             (unsigned)taken);
    const char *const kv[] = {"msg", want, "level", "error", NULL};
    assert_true(log_has_line(&f->srv, kv));
    assert_false(log_has_text(&f->srv, "\"stopped\""));
    assert_log_is_json(&f->srv);

    char *out = NULL;
    int rc = ts_ctgw("serve", f->srv.config, &out);
    free(out);
    assert_int_equal(rc, 1);
}

static void test_taken_admin_port_fails_startup(void **state)
{
    struct fixture *f = *state;
    uint16_t taken;
    occupy_port(f, 0, &taken);
    struct ts_config c = {.db_name = f->db.name, .admin_port = taken};
    ts_server_prepare(&f->srv, &c);
    f->prepared = true;

    /* Not through ts_server_start: it probes the admin port, which is ours here. */
    char *out = NULL;
    int rc = ts_ctgw("serve", f->srv.config, &out);
    char want[128];
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u for the admin listener",
             (unsigned)taken);
    bool says = strstr(out, want) != NULL;
    if (rc != 1 || !says)
        fprintf(stderr, "ctgw serve exited %d:\n%s\n", rc, out);
    free(out);
    assert_int_equal(rc, 1);
    assert_true(says);
    /* The public listener it had opened is gone with it. */
    assert_false(port_accepts(f->srv.port));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_healthz_answers_ok_with_safe_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readyz_turns_ready_after_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_request_id_is_echoed_and_logged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid_request_id_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_request_id_is_generated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_is_json_and_never_holds_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_needs_the_token_except_for_probes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_oversized_header_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_connection_is_closed_after_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_trickled_request_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit_holds_new_connections, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_12_serves_https_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_13_refuses_tls_12, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_key_readable_by_others_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_key_of_another_cert_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigint_stops_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taken_public_port_fails_startup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taken_admin_port_fails_startup, setup, teardown),
    };
    return ts_run_group(tests);
}
