/* xero_standin.c — a stand-in for Xero's Accounting API and identity server on 127.0.0.1 for
 * tests: one acceptor thread and a thread per connection (at most MAX_CONNS at once), one
 * request per connection (answered with Connection: close), every read, write and wait
 * bounded in time and size. See xero_standin.h for what it answers. */
#include "tests/support/xero_standin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "verifiers/base64.h"

#define MAX_HEADER         (16 * 1024) /* request line and headers */
#define MAX_BODY           (64 * 1024) /* by Content-Length */
#define MAX_CONNS          64          /* connections served at once */
#define MAX_LOGGED         65536       /* request paths kept for ts_xero_count */
#define MAX_RESOURCES      4096
#define MAX_RESOURCE_BYTES (1024 * 1024) /* one JSON document */
#define MAX_PATH           2048
#define MAX_RULES          64
#define MAX_EXTRA_HEADERS  1024
#define TOKEN_CAP          64
#define MAX_CHAINS         4
#define POLL_MS            50
#define REQUEST_MS         5000 /* a whole request must arrive within this */
#define SEND_MS            2000
#define HOLD_MS            30000 /* a held token answer is dropped after this */
#define ACCESS_TTL_MS      (1800L * 1000L)
#define DEFAULT_GRACE_MS   (30L * 60L * 1000L)

#define API_PREFIX   "/api.xro/2.0"
#define CONNECTIONS  "/connections"
#define TOKEN_PATH   "/connect/token"
#define TOKEN_SCOPES "accounting.invoices.read accounting.contacts.read offline_access"
/* Xero sends these on every Accounting API answer; the values mean nothing here. */
#define RATE_HEADERS                                                                               \
    "X-DayLimit-Remaining: 4999\r\nX-MinLimit-Remaining: 59\r\nX-AppMinLimit-Remaining: 9999\r\n"

struct resource {
    char *path;
    char *json;
};

struct rule {
    char prefix[MAX_PATH];
    int status;
    char headers[MAX_EXTRA_HEADERS];
    int left;
};

struct conn {
    struct ts_xero *x;
    int fd;
    pthread_t thread;
    bool used;
    atomic_bool done;
};

struct ts_xero {
    int fd;
    uint16_t port;
    pthread_t acceptor;
    atomic_bool stop;
    struct conn conns[MAX_CONNS];

    pthread_mutex_t lock; /* guards everything below */
    struct resource *res;
    size_t n_res;
    struct rule rules[MAX_RULES];
    size_t n_rules;
    char **logged;
    size_t n_logged;

    bool oauth;
    char client_id[128];
    char client_secret[128];
    /* One token chain per authorization (a Xero user's consent): ts_xero_oauth sets the
     * first, ts_xero_oauth_add adds independent ones. */
    struct chain {
        char current_rt[TOKEN_CAP];
        char previous_rt[TOKEN_CAP]; /* "" when none */
        long long previous_until;    /* monotonic ms */
        char access[TOKEN_CAP];      /* the chain's newest access token, "" before a refresh */
        long long access_until;
    } chains[MAX_CHAINS];
    size_t n_chains;
    unsigned serial; /* N of the newest rt-N / at-N */
    int refreshes;
    bool invalid_grant;
    bool hold;
    unsigned release_gen;
    long grace_ms;
};

/* One parsed request: pointers into the connection's buffer. */
struct request {
    char method[16];
    char path[MAX_PATH]; /* without the query string */
    const char *headers; /* from the first header line to the blank line */
    size_t headers_len;
    const char *body;
    size_t body_len;
};

/* ------------------------------------------------------------------ small helpers */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *reason(int status)
{
    static const struct {
        int status;
        const char *text;
    } reasons[] = {
        {100, "Continue"},
        {200, "OK"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {408, "Request Timeout"},
        {413, "Payload Too Large"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Status";
}

/* The value of header NAME (case-insensitive, surrounding blanks trimmed) into buf; false when
 * absent or longer than cap. */
static bool header(const struct request *r, const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    const char *p = r->headers, *end = r->headers + r->headers_len;
    for (int lines = 0; p < end && lines < 512; lines++) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if ((size_t)(ve - v) >= cap)
                return false;
            memcpy(buf, v, (size_t)(ve - v));
            buf[ve - v] = '\0';
            return true;
        }
        p = eol + 2;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The decoded value of KEY in an application/x-www-form-urlencoded body; false if absent or
 * too long. */
static bool form_value(const char *body, size_t len, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < len;) {
        const char *pair = body + i;
        const char *amp = memchr(pair, '&', len - i);
        size_t pl = amp ? (size_t)(amp - pair) : len - i;
        if (pl > kl && memcmp(pair, key, kl) == 0 && pair[kl] == '=') {
            size_t o = 0;
            for (size_t j = kl + 1; j < pl; j++) {
                char c = pair[j];
                if (c == '+') {
                    c = ' ';
                } else if (c == '%' && j + 2 < pl && hexval(pair[j + 1]) >= 0 &&
                           hexval(pair[j + 2]) >= 0) {
                    c = (char)(hexval(pair[j + 1]) * 16 + hexval(pair[j + 2]));
                    j += 2;
                }
                if (o + 1 >= cap)
                    return false;
                out[o++] = c;
            }
            out[o] = '\0';
            return true;
        }
        i += pl + 1;
    }
    return false;
}

/* Sends all of data within SEND_MS; false when the peer is gone or too slow. */
static bool send_all(int fd, const char *data, size_t len)
{
    long long deadline = now_ms() + SEND_MS;
    size_t off = 0;
    while (off < len && now_ms() < deadline) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, POLL_MS) <= 0)
            continue;
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return off == len;
}

/* Writes one whole answer. extra: header lines, each ending in \r\n, or NULL. */
static void respond(int fd, int status, const char *extra, const char *body)
{
    size_t blen = body ? strlen(body) : 0;
    char head[512 + 2 * MAX_EXTRA_HEADERS];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                     status, reason(status), blen, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        return;
    if (send_all(fd, head, (size_t)n) && blen > 0)
        send_all(fd, body, blen);
}

/* A Xero Accounting API style error body (the shape of its 401/403 answers). */
static void api_error(int fd, int status, const char *extra, const char *detail)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"Type\":null,\"Title\":\"%s\",\"Status\":%d,\"Detail\":\"%s\","
             "\"Instance\":\"00000000-0000-4000-8000-%012d\",\"Extensions\":{}}",
             reason(status), status, detail, status);
    respond(fd, status, extra, body);
}

/* ------------------------------------------------------------------ reading one request */

/* Reads and parses one request into buf (MAX_HEADER + MAX_BODY + 1 bytes). Returns 0 when r
 * is complete, else the status to answer with (0 answer: -1, just close). */
static int read_request(struct ts_xero *x, int fd, char *buf, struct request *r)
{
    long long deadline = now_ms() + REQUEST_MS;
    size_t len = 0, head_len = 0, want = 0;
    bool have_head = false, continued = false;
    for (;;) {
        if (atomic_load(&x->stop))
            return -1;
        if (now_ms() >= deadline)
            return have_head ? 408 : -1;
        if (have_head && len >= head_len + want)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, POLL_MS) <= 0)
            continue;
        size_t room = have_head ? head_len + want - len : MAX_HEADER - len;
        ssize_t n = recv(fd, buf + len, room, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (have_head)
            continue;
        char *end = memmem(buf, len, "\r\n\r\n", 4);
        if (end == NULL) {
            if (len >= MAX_HEADER)
                return 431;
            continue;
        }
        have_head = true;
        head_len = (size_t)(end - buf) + 4;

        /* Request line: METHOD SP TARGET SP HTTP/1.x */
        char *eol = memmem(buf, head_len, "\r\n", 2);
        char target[MAX_PATH], version[16];
        char line[MAX_PATH + 64];
        size_t ll = (size_t)(eol - buf);
        if (ll >= sizeof(line))
            return 431;
        memcpy(line, buf, ll);
        line[ll] = '\0';
        if (sscanf(line, "%15s %2047s %15s", r->method, target, version) != 3 ||
            strncmp(version, "HTTP/1.", 7) != 0 || target[0] != '/')
            return 400;
        target[strcspn(target, "?#")] = '\0';
        snprintf(r->path, sizeof(r->path), "%s", target);
        r->headers = eol + 2;
        r->headers_len = head_len - 2 - (size_t)(r->headers - buf);

        /* Record it now: every request counts, whatever its answer. */
        pthread_mutex_lock(&x->lock);
        if (x->n_logged < MAX_LOGGED) {
            char *copy = strdup(r->path);
            if (copy != NULL)
                x->logged[x->n_logged++] = copy;
        }
        pthread_mutex_unlock(&x->lock);

        char v[64];
        if (header(r, "Transfer-Encoding", v, sizeof(v)))
            return 501;
        if (header(r, "Content-Length", v, sizeof(v))) {
            if (v[0] == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9)
                return 400;
            want = (size_t)strtoul(v, NULL, 10);
            if (want > MAX_BODY)
                return 413;
        }
        if (want > 0 && !continued && header(r, "Expect", v, sizeof(v)) &&
            strcasecmp(v, "100-continue") == 0) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            continued = true;
            if (!send_all(fd, cont, sizeof(cont) - 1))
                return -1;
        }
    }
    r->body = buf + head_len;
    r->body_len = want;
    return 0;
}

/* ------------------------------------------------------------------ the token endpoint */

static void token_error(int fd, int status, const char *error)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"error\":\"%s\"}", error);
    respond(fd, status, NULL, body);
}

/* Waits, in hold mode, until the held answer may go (true) or must be dropped (false). */
static bool hold_answer(struct ts_xero *x, int fd, unsigned gen)
{
    long long deadline = now_ms() + HOLD_MS;
    while (now_ms() < deadline && !atomic_load(&x->stop)) {
        pthread_mutex_lock(&x->lock);
        bool go = !x->hold || x->release_gen != gen;
        pthread_mutex_unlock(&x->lock);
        if (go)
            return true;
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, POLL_MS);
        if (rc <= 0)
            continue;
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
            return false;
        char sink[256];
        ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return false; /* the client gave up: the answer is lost */
    }
    return false;
}

static void handle_token(struct ts_xero *x, int fd, const struct request *r)
{
    char v[512], expect[400], pair[300];
    if (strcmp(r->method, "POST") != 0) {
        respond(fd, 405, "Allow: POST\r\n", "{\"error\":\"invalid_request\"}");
        return;
    }
    pthread_mutex_lock(&x->lock);
    bool oauth = x->oauth;
    snprintf(pair, sizeof(pair), "%s:%s", x->client_id, x->client_secret);
    pthread_mutex_unlock(&x->lock);
    gw_base64_encode((const unsigned char *)pair, strlen(pair), expect, sizeof(expect), 0);
    if (!oauth || !header(r, "Authorization", v, sizeof(v)) || !starts_with_ci(v, "Basic ") ||
        strcmp(v + 6 + strspn(v + 6, " "), expect) != 0) {
        token_error(fd, 401, "invalid_client");
        return;
    }
    if (!header(r, "Content-Type", v, sizeof(v)) ||
        !starts_with_ci(v, "application/x-www-form-urlencoded")) {
        token_error(fd, 400, "invalid_request");
        return;
    }
    char grant[64], token[512];
    if (!form_value(r->body, r->body_len, "grant_type", grant, sizeof(grant)) ||
        strcmp(grant, "refresh_token") != 0) {
        token_error(fd, 400, "unsupported_grant_type");
        return;
    }
    if (!form_value(r->body, r->body_len, "refresh_token", token, sizeof(token)) ||
        token[0] == '\0') {
        token_error(fd, 400, "invalid_request");
        return;
    }

    pthread_mutex_lock(&x->lock);
    long long now = now_ms();
    struct chain *c = NULL;
    bool current = false, previous = false;
    for (size_t i = 0; i < x->n_chains && c == NULL; i++) {
        current = strcmp(token, x->chains[i].current_rt) == 0;
        previous = !current && x->chains[i].previous_rt[0] != '\0' &&
                   strcmp(token, x->chains[i].previous_rt) == 0 &&
                   now < x->chains[i].previous_until;
        if (current || previous)
            c = &x->chains[i];
    }
    if (x->invalid_grant || c == NULL) {
        pthread_mutex_unlock(&x->lock);
        token_error(fd, 400, "invalid_grant");
        return;
    }
    /* Rotate. From the current token: it becomes the previous one, usable for the grace
     * window. From the previous one (its answer was lost): it stays the previous one with the
     * window it already had, and the token issued with the lost answer is forgotten. */
    if (current) {
        snprintf(c->previous_rt, sizeof(c->previous_rt), "%s", c->current_rt);
        c->previous_until = now + x->grace_ms;
    }
    x->serial++;
    snprintf(c->current_rt, sizeof(c->current_rt), "rt-%u", x->serial);
    snprintf(c->access, sizeof(c->access), "at-%u", x->serial);
    c->access_until = now + ACCESS_TTL_MS;
    x->refreshes++;
    bool hold = x->hold;
    unsigned gen = x->release_gen;
    char body[512];
    snprintf(body, sizeof(body),
             "{\"access_token\":\"%s\",\"expires_in\":1800,\"token_type\":\"Bearer\","
             "\"refresh_token\":\"%s\",\"scope\":\"" TOKEN_SCOPES "\"}",
             c->access, c->current_rt);
    pthread_mutex_unlock(&x->lock);

    if (hold && !hold_answer(x, fd, gen))
        return; /* dropped: the caller closes the connection without an answer */
    respond(fd, 200, "Cache-Control: no-store, no-cache, max-age=0\r\nPragma: no-cache\r\n", body);
}

/* ------------------------------------------------------------------ the Accounting API */

static void handle_api(struct ts_xero *x, int fd, const struct request *r, bool connections)
{
    char v[512];
    if (strcmp(r->method, "GET") != 0) {
        api_error(fd, 405, "Allow: GET\r\n", "The stand-in serves GET only");
        return;
    }

    /* Authorization: Bearer at-N, the newest access token, not expired. */
    bool bearer = header(r, "Authorization", v, sizeof(v)) && starts_with_ci(v, "Bearer ");
    const char *tok = bearer ? v + 7 + strspn(v + 7, " ") : "";
    pthread_mutex_lock(&x->lock);
    bool ok = false;
    for (size_t i = 0; bearer && i < x->n_chains && !ok; i++)
        ok = x->chains[i].access[0] != '\0' && strcmp(tok, x->chains[i].access) == 0 &&
             now_ms() < x->chains[i].access_until;
    unsigned serial = x->serial;
    pthread_mutex_unlock(&x->lock);
    if (!ok) {
        unsigned k = 0;
        char tail = 0;
        bool issued = bearer && sscanf(tok, "at-%u%c", &k, &tail) == 1 && k >= 1 && k <= serial;
        static const char www[] = "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n";
        if (issued) {
            char detail[96];
            struct tm tm;
            time_t t = time(NULL);
            gmtime_r(&t, &tm);
            strftime(detail, sizeof(detail), "TokenExpired: token expired at %m/%d/%Y %H:%M:%S",
                     &tm);
            api_error(fd, 401, www, detail);
        } else {
            api_error(fd, 401, www, "AuthenticationUnsuccessful");
        }
        return;
    }

    char *json = NULL;
    if (!connections) {
        /* Xero: the tenant header is required, else 403 AuthenticationUnsuccessful; and
         * without Accept: application/json it answers XML, which the stand-in refuses. */
        if (!header(r, "xero-tenant-id", v, sizeof(v)) || v[0] == '\0') {
            api_error(fd, 403, NULL, "AuthenticationUnsuccessful");
            return;
        }
        if (!header(r, "Accept", v, sizeof(v)) || strcasestr(v, "application/json") == NULL) {
            api_error(fd, 406, NULL, "Send Accept: application/json (Xero would answer XML)");
            return;
        }
    }
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < x->n_res; i++) {
        if (strcasecmp(x->res[i].path, r->path) == 0) {
            json = strdup(x->res[i].json);
            break;
        }
    }
    pthread_mutex_unlock(&x->lock);
    if (json == NULL && connections)
        json = strdup("[]");
    if (json == NULL) {
        api_error(fd, 404, RATE_HEADERS, "The resource you're looking for cannot be found");
        return;
    }
    respond(fd, 200, RATE_HEADERS, json);
    free(json);
}

/* ------------------------------------------------------------------ dispatch */

/* The first fail_next rule for this path, consumed; false when none. */
static bool take_rule(struct ts_xero *x, const char *path, int *status, char *extra, size_t cap)
{
    bool found = false;
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < x->n_rules; i++) {
        struct rule *u = &x->rules[i];
        if (!starts_with_ci(path, u->prefix))
            continue;
        *status = u->status;
        snprintf(extra, cap, "%s", u->headers);
        found = true;
        if (--u->left <= 0) {
            memmove(u, u + 1, (x->n_rules - i - 1) * sizeof(*u));
            x->n_rules--;
        }
        break;
    }
    pthread_mutex_unlock(&x->lock);
    return found;
}

static void serve(struct ts_xero *x, int fd)
{
    char *buf = malloc(MAX_HEADER + MAX_BODY + 1);
    struct request r = {0};
    if (buf == NULL)
        return;
    int rc = read_request(x, fd, buf, &r);
    if (rc > 0) {
        api_error(fd, rc, NULL, "The stand-in refused the request");
        free(buf);
        return;
    }
    if (rc < 0) {
        free(buf);
        return;
    }
    bool token = strcasecmp(r.path, TOKEN_PATH) == 0;
    bool connections = strcasecmp(r.path, CONNECTIONS) == 0;
    bool api = strcasecmp(r.path, API_PREFIX) == 0 || starts_with_ci(r.path, API_PREFIX "/");

    int status;
    char extra[MAX_EXTRA_HEADERS];
    if (take_rule(x, r.path, &status, extra, sizeof(extra))) {
        if (token) {
            token_error(fd, status,
                        status == 401                    ? "invalid_client"
                        : status == 429 || status >= 500 ? "temporarily_unavailable"
                                                         : "invalid_request");
        } else {
            char all[2 * MAX_EXTRA_HEADERS];
            snprintf(all, sizeof(all), "%s%s", api ? RATE_HEADERS : "", extra);
            api_error(fd, status, all, "A failure asked for by the test (ts_xero_fail_next)");
        }
    } else if (token) {
        handle_token(x, fd, &r);
    } else if (api || connections) {
        handle_api(x, fd, &r, connections);
    } else {
        api_error(fd, 404, NULL, "The resource you're looking for cannot be found");
    }
    free(buf);
}

/* After the answer: reads what the client still sends (bounded) so that closing does not reset
 * the connection before the client has read the answer. */
static void drain(struct ts_xero *x, int fd)
{
    char sink[4096];
    long long deadline = now_ms() + 500;
    for (size_t total = 0; total < 256 * 1024 && now_ms() < deadline && !atomic_load(&x->stop);) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, POLL_MS) <= 0)
            continue;
        ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (n <= 0)
            return;
        total += (size_t)n;
    }
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    serve(c->x, c->fd);
    shutdown(c->fd, SHUT_WR);
    drain(c->x, c->fd);
    close(c->fd);
    atomic_store(&c->done, true);
    return NULL;
}

/* Joins finished connection threads; with all, waits for every one (they notice stop within
 * POLL_MS). */
static void reap(struct ts_xero *x, bool all)
{
    for (size_t i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &x->conns[i];
        if (c->used && (all || atomic_load(&c->done))) {
            pthread_join(c->thread, NULL);
            c->used = false;
        }
    }
}

static void *acceptor_main(void *arg)
{
    struct ts_xero *x = arg;
    while (!atomic_load(&x->stop)) {
        struct pollfd p = {x->fd, POLLIN, 0};
        reap(x, false);
        if (poll(&p, 1, POLL_MS) <= 0)
            continue;
        int fd = accept(x->fd, NULL, NULL);
        if (fd < 0) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL); /* EMFILE and the like: do not spin */
            continue;
        }
        struct conn *c = NULL;
        for (size_t i = 0; i < MAX_CONNS && c == NULL; i++)
            if (!x->conns[i].used)
                c = &x->conns[i];
        if (c != NULL) {
            c->x = x;
            c->fd = fd;
            atomic_store(&c->done, false);
            if (pthread_create(&c->thread, NULL, conn_main, c) == 0) {
                c->used = true;
                continue;
            }
        }
        api_error(fd, 503, "Retry-After: 1\r\n", "The stand-in is serving too many connections");
        close(fd);
    }
    reap(x, true);
    return NULL;
}

/* ------------------------------------------------------------------ the API */

struct ts_xero *ts_xero_start(void)
{
    struct ts_xero *x = calloc(1, sizeof(*x));
    if (x == NULL)
        fail_msg("xero stand-in: out of memory");
    x->logged = calloc(MAX_LOGGED, sizeof(*x->logged));
    if (x->logged == NULL)
        fail_msg("xero stand-in: out of memory");
    pthread_mutex_init(&x->lock, NULL);
    x->grace_ms = DEFAULT_GRACE_MS;
    x->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (x->fd < 0 || bind(x->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(x->fd, 64) != 0 ||
        getsockname(x->fd, (struct sockaddr *)&a, &al) != 0)
        fail_msg("xero stand-in: cannot listen on 127.0.0.1: %s", strerror(errno));
    x->port = ntohs(a.sin_port);
    if (pthread_create(&x->acceptor, NULL, acceptor_main, x) != 0)
        fail_msg("xero stand-in: cannot start its thread");
    return x;
}

uint16_t ts_xero_port(const struct ts_xero *x)
{
    return x->port;
}

void ts_xero_stop(struct ts_xero *x)
{
    if (x == NULL)
        return;
    atomic_store(&x->stop, true);
    pthread_join(x->acceptor, NULL); /* it joins the connection threads */
    close(x->fd);
    for (size_t i = 0; i < x->n_res; i++) {
        free(x->res[i].path);
        free(x->res[i].json);
    }
    free(x->res);
    for (size_t i = 0; i < x->n_logged; i++)
        free(x->logged[i]);
    free(x->logged);
    pthread_mutex_destroy(&x->lock);
    free(x);
}

void ts_xero_put(struct ts_xero *x, const char *path, const char *json)
{
    if (strlen(path) >= MAX_PATH || path[0] != '/' || strlen(json) > MAX_RESOURCE_BYTES)
        fail_msg("xero stand-in: resource path or body out of bounds: %.80s", path);
    char *p = strdup(path), *j = strdup(json);
    if (p == NULL || j == NULL)
        fail_msg("xero stand-in: out of memory");
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < x->n_res; i++) {
        if (strcasecmp(x->res[i].path, path) == 0) {
            free(x->res[i].json);
            x->res[i].json = j;
            pthread_mutex_unlock(&x->lock);
            free(p);
            return;
        }
    }
    struct resource *grown = NULL;
    if (x->n_res < MAX_RESOURCES)
        grown = realloc(x->res, (x->n_res + 1) * sizeof(*x->res));
    if (grown != NULL) {
        x->res = grown;
        x->res[x->n_res++] = (struct resource){p, j};
    }
    pthread_mutex_unlock(&x->lock);
    if (grown == NULL) {
        free(p);
        free(j);
        fail_msg("xero stand-in: more than %d resources", MAX_RESOURCES);
    }
}

void ts_xero_fail_next(struct ts_xero *x, const char *prefix, int status, const char *extra_headers,
                       int count)
{
    if (strlen(prefix) >= MAX_PATH || status < 200 || status > 599 || count < 0 ||
        (extra_headers != NULL && strlen(extra_headers) >= MAX_EXTRA_HEADERS))
        fail_msg("xero stand-in: fail_next arguments out of bounds");
    if (count == 0)
        return;
    pthread_mutex_lock(&x->lock);
    bool full = x->n_rules >= MAX_RULES;
    if (!full) {
        struct rule *u = &x->rules[x->n_rules++];
        snprintf(u->prefix, sizeof(u->prefix), "%s", prefix);
        snprintf(u->headers, sizeof(u->headers), "%s", extra_headers ? extra_headers : "");
        u->status = status;
        u->left = count;
    }
    pthread_mutex_unlock(&x->lock);
    if (full)
        fail_msg("xero stand-in: more than %d fail_next rules pending", MAX_RULES);
}

void ts_xero_oauth(struct ts_xero *x, const char *client_id, const char *client_secret,
                   const char *refresh_token)
{
    if (strlen(client_id) >= sizeof(x->client_id) ||
        strlen(client_secret) >= sizeof(x->client_secret) ||
        strlen(refresh_token) >= sizeof(x->chains[0].current_rt) || refresh_token[0] == '\0')
        fail_msg("xero stand-in: oauth arguments out of bounds");
    pthread_mutex_lock(&x->lock);
    x->oauth = true;
    snprintf(x->client_id, sizeof(x->client_id), "%s", client_id);
    snprintf(x->client_secret, sizeof(x->client_secret), "%s", client_secret);
    memset(x->chains, 0, sizeof(x->chains));
    snprintf(x->chains[0].current_rt, sizeof(x->chains[0].current_rt), "%s", refresh_token);
    x->n_chains = 1;
    pthread_mutex_unlock(&x->lock);
}

void ts_xero_oauth_add(struct ts_xero *x, const char *refresh_token)
{
    pthread_mutex_lock(&x->lock);
    if (!x->oauth || x->n_chains >= MAX_CHAINS || refresh_token[0] == '\0' ||
        strlen(refresh_token) >= sizeof(x->chains[0].current_rt)) {
        pthread_mutex_unlock(&x->lock);
        fail_msg("xero stand-in: cannot add a token chain (call ts_xero_oauth first)");
        return;
    }
    struct chain *c = &x->chains[x->n_chains++];
    memset(c, 0, sizeof(*c));
    snprintf(c->current_rt, sizeof(c->current_rt), "%s", refresh_token);
    pthread_mutex_unlock(&x->lock);
}

void ts_xero_invalid_grant(struct ts_xero *x, bool on)
{
    pthread_mutex_lock(&x->lock);
    x->invalid_grant = on;
    pthread_mutex_unlock(&x->lock);
}

void ts_xero_hold_tokens(struct ts_xero *x, bool on)
{
    pthread_mutex_lock(&x->lock);
    if (x->hold && !on)
        x->release_gen++;
    x->hold = on;
    pthread_mutex_unlock(&x->lock);
}

void ts_xero_release(struct ts_xero *x)
{
    pthread_mutex_lock(&x->lock);
    x->release_gen++;
    pthread_mutex_unlock(&x->lock);
}

int ts_xero_count(struct ts_xero *x, const char *prefix)
{
    int n = 0;
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < x->n_logged; i++)
        if (starts_with_ci(x->logged[i], prefix))
            n++;
    pthread_mutex_unlock(&x->lock);
    return n;
}

int ts_xero_refreshes(struct ts_xero *x)
{
    pthread_mutex_lock(&x->lock);
    int n = x->refreshes;
    pthread_mutex_unlock(&x->lock);
    return n;
}

char *ts_xero_current_refresh_token(struct ts_xero *x)
{
    pthread_mutex_lock(&x->lock);
    char *t = strdup(x->chains[0].current_rt);
    pthread_mutex_unlock(&x->lock);
    if (t == NULL)
        fail_msg("xero stand-in: out of memory");
    return t;
}

char *ts_xero_previous_refresh_token(struct ts_xero *x)
{
    pthread_mutex_lock(&x->lock);
    char *t = x->chains[0].previous_rt[0] != '\0' ? strdup(x->chains[0].previous_rt) : NULL;
    pthread_mutex_unlock(&x->lock);
    return t;
}

void ts_xero_set_grace_ms(struct ts_xero *x, long ms)
{
    pthread_mutex_lock(&x->lock);
    long long delta = (long long)ms - x->grace_ms;
    x->grace_ms = ms;
    for (size_t i = 0; i < x->n_chains; i++)
        if (x->chains[i].previous_rt[0] != '\0')
            x->chains[i].previous_until += delta; /* the window open now changes too */
    pthread_mutex_unlock(&x->lock);
}
