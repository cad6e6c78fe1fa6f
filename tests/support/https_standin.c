/* https_standin.c — the one-thread HTTPS server of https_standin.h. */
#include "tests/support/https_standin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define REQUEST_MAX  8192
#define IO_TIMEOUT_S 2

static void write_all(SSL *ssl, const char *data, size_t len)
{
    while (len > 0) {
        int n = SSL_write(ssl, data, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n <= 0)
            return; /* the client may have given up (size bound, timeout): fine */
        data += n;
        len -= (size_t)n;
    }
}

static struct ts_https_route *find(struct ts_https *s, const char *target)
{
    size_t n = strcspn(target, "?");
    for (size_t i = 0; i < s->n_routes; i++)
        if (strlen(s->routes[i].path) == n && strncmp(s->routes[i].path, target, n) == 0)
            return &s->routes[i];
    return NULL;
}

static void serve_one(struct ts_https *s, int fd)
{
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return;
    SSL *ssl = SSL_new(s->ctx);
    if (ssl == NULL)
        return;
    if (SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
        SSL_free(ssl); /* e.g. a client that does not trust the test CA */
        ERR_clear_error();
        return;
    }
    char req[REQUEST_MAX + 1];
    size_t len = 0;
    while (len < REQUEST_MAX) {
        int n = SSL_read(ssl, req + len, (int)(REQUEST_MAX - len));
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    req[len] = '\0';
    char target[1024] = "";
    if (sscanf(req, "GET %1023s HTTP/1.1", target) == 1) {
        snprintf(s->last_target, sizeof s->last_target, "%s", target);
        atomic_fetch_add(&s->requests, 1);
        struct ts_https_route *r = find(s, target);
        if (r != NULL) {
            atomic_fetch_add(&r->hits, 1);
            if (r->delay_ms > 0)
                usleep(r->delay_ms * 1000u);
        }
        char length[64] = "";
        if (r == NULL || !r->no_length)
            snprintf(length, sizeof length, "Content-Length: %zu\r\n", r != NULL ? r->len : 0);
        char head[512];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d X\r\nContent-Type: application/octet-stream\r\n"
                         "%s%sConnection: close\r\n\r\n",
                         r != NULL ? r->status : 404, length,
                         r != NULL && r->extra_headers ? r->extra_headers : "");
        write_all(ssl, head, (size_t)n);
        if (r != NULL)
            write_all(ssl, r->body, r->len);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
}

static void *server_main(void *arg)
{
    struct ts_https *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve_one(s, fd);
        close(fd);
    }
    return NULL;
}

void ts_https_listen(struct ts_https *s, X509 *cert, EVP_PKEY *key)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    signal(SIGPIPE, SIG_IGN);
    s->ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(s->ctx);
    assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, key), 1);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(s->fd, 64), 0);
    socklen_t alen = sizeof addr;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&addr, &alen), 0);
    s->port = ntohs(addr.sin_port);
    atomic_init(&s->stop, false);
    atomic_init(&s->requests, 0);
}

struct ts_https_route *ts_https_route(struct ts_https *s, const char *path, int status,
                                      const char *body, size_t len)
{
    assert_true(s->n_routes < TS_HTTPS_ROUTES_MAX);
    struct ts_https_route *r = &s->routes[s->n_routes++];
    r->path = path;
    r->status = status;
    r->body = malloc(len + 1);
    assert_non_null(r->body);
    memcpy(r->body, body, len);
    r->len = len;
    atomic_init(&r->hits, 0);
    return r;
}

void ts_https_start(struct ts_https *s)
{
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    s->started = true;
}

int ts_https_hits(struct ts_https *s, const char *path)
{
    for (size_t i = 0; i < s->n_routes; i++)
        if (strcmp(s->routes[i].path, path) == 0)
            return atomic_load(&s->routes[i].hits);
    fail_msg("no route %s", path);
    return -1;
}

void ts_https_stop(struct ts_https *s)
{
    if (s->ctx == NULL)
        return;
    atomic_store(&s->stop, true);
    if (s->started)
        pthread_join(s->thread, NULL);
    if (s->fd >= 0)
        close(s->fd);
    SSL_CTX_free(s->ctx);
    for (size_t i = 0; i < s->n_routes; i++)
        free(s->routes[i].body);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}
