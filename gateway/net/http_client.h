/* http_client.h — outbound HTTP calls from worker threads (libcurl): one request, bounded
 * in time and in the size of the answer, to https anywhere or http on loopback only. */
#ifndef CTGW_HTTP_CLIENT_H
#define CTGW_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct gw_http_call {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;           /* POST body, or NULL */
    size_t body_len;
    const char *basic_user, *basic_password; /* HTTP basic auth when both are set */
    long connect_timeout_ms;                 /* 0: 5 s */
    long timeout_ms;                         /* whole call; 0: 15 s */
    size_t max_answer;                       /* bytes of answer body kept; 0: 2 MiB */
    /* PEM of extra trust anchors (and intermediates) added to the system store for https;
     * NULL: the system store alone. */
    const char *ca_file;
};

struct gw_http_answer {
    long status; /* 0 when no HTTP answer arrived (network error, refused URL) */
    char *body;  /* malloc'd, NUL-terminated (may be empty); NULL when none */
    size_t body_len;
    long retry_after_s; /* Retry-After in seconds when given, else -1 */
    bool too_large;     /* the answer was longer than max_answer: body is NULL */
    bool refused;       /* the URL itself was refused (gw_http_url_allowed): nothing sent */
    char error[256];    /* why, when status is 0 */
};

/* True when host (as libcurl's URL parser gives it: IPv6 in brackets) is a loopback
 * address: 127.0.0.0/8 or ::1. Names, "localhost" included, are not. */
bool gw_http_host_is_loopback(const char *host);

/* True for https URLs, and http URLs whose host is a loopback address (tests); never with
 * user info in the URL. */
bool gw_http_url_allowed(const char *url);

/* The same, and the host is one of HOSTS (exact, case-insensitive). */
bool gw_http_url_allowed_to(const char *url, const char *const *hosts, size_t n_hosts);

/* Performs the call. 0 when an HTTP answer arrived (any status), -1 otherwise (a->error).
 * Free the answer with gw_http_answer_free. Never follows redirects. */
int gw_http_perform(const struct gw_http_call *call, struct gw_http_answer *a);
void gw_http_answer_free(struct gw_http_answer *a);

#endif
