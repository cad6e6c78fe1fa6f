/* https_standin.h — a small HTTPS server on 127.0.0.1 for tests (OpenSSL, one thread), with a
 * certificate the test makes (tests/support/pki.h): GET routes answered with fixed bodies,
 * delays, other statuses, and counts of what was requested. Stands in for what a provider
 * serves over https (SNS certificates, SubscribeURL). Every answer is Connection: close. */
#ifndef CTGW_TESTS_SUPPORT_HTTPS_STANDIN_H
#define CTGW_TESTS_SUPPORT_HTTPS_STANDIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/types.h>

#define TS_HTTPS_ROUTES_MAX 32

struct ts_https_route {
    const char *path;          /* matched against the request's path, without its query */
    int status;                /* 200 unless changed */
    const char *extra_headers; /* e.g. "Location: /ok.pem\r\n" */
    char *body;                /* owned */
    size_t len;
    unsigned delay_ms; /* before answering */
    bool no_length;    /* no Content-Length: the body ends when the connection does */
    atomic_int hits;
};

struct ts_https {
    int fd;
    unsigned short port;
    SSL_CTX *ctx;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_int requests; /* every GET read, whatever its path */
    struct ts_https_route routes[TS_HTTPS_ROUTES_MAX];
    size_t n_routes;
    char last_target[1024]; /* the request target of the last GET; read after ts_https_stop */
};

/* Listens on 127.0.0.1 (a free port) with CERT and KEY; serving starts with ts_https_start.
 * Ignores SIGPIPE (the server writes to clients that gave up). Fails the test on error. */
void ts_https_listen(struct ts_https *s, X509 *cert, EVP_PKEY *key);
/* Adds a GET route answering STATUS with BODY (copied); returns it so that the test may set
 * its other fields. Routes are added before ts_https_start. */
struct ts_https_route *ts_https_route(struct ts_https *s, const char *path, int status,
                                      const char *body, size_t len);
/* Starts the serving thread. */
void ts_https_start(struct ts_https *s);
/* How many GETs of PATH were read (fails the test for an unknown route). */
int ts_https_hits(struct ts_https *s, const char *path);
/* Stops the thread, closes and frees what S holds. A server never started is fine. */
void ts_https_stop(struct ts_https *s);

#endif
