/* http.h — HTTP requests from tests, over loopback only, with libcurl. */
#ifndef CTGW_TESTS_SUPPORT_HTTP_H
#define CTGW_TESTS_SUPPORT_HTTP_H

#include <stddef.h>

struct ts_http {
    long status;   /* 0 when no answer came */
    char *body;    /* NUL-terminated */
    char *headers; /* the raw header block */
    char error[256];
};

struct ts_http_opts {
    const char *ca_file; /* trust this CA for https */
    long tls_max;        /* a CURL_SSLVERSION_MAX_* value, 0 for default */
    long timeout_ms;     /* 0: 10 s */
    size_t body_len;     /* > 0: the body is that many bytes (NUL bytes included) */
};

/* headers: NULL-terminated list of "Name: value". Returns 0 when an answer came (any
 * status), -1 on a transport error (message in out->error). */
int ts_http(const char *method, const char *url, const char *const *headers, const char *body,
            struct ts_http *out);
int ts_http_with(const char *method, const char *url, const char *const *headers, const char *body,
                 const struct ts_http_opts *opts, struct ts_http *out);
void ts_http_free(struct ts_http *r);

/* Value of header NAME in r (case-insensitive), copied into buf; NULL when absent. */
const char *ts_http_header(const struct ts_http *r, const char *name, char *buf, size_t len);

#endif
