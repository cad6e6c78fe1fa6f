/* http_client.c — outbound HTTP calls from worker threads (libcurl), bounded in time and
 * size, never following redirects, https only except to loopback. */
#include "gateway/net/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_CONNECT_MS 5000L
#define DEFAULT_TIMEOUT_MS 15000L
#define DEFAULT_MAX_ANSWER (2u << 20)
#define URL_MAX            2048

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool gw_http_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return false; /* a name resolves to whatever DNS says; loopback means an address */
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    char buf[64];
    size_t n = strlen(host);
    if (n >= 2 && n < sizeof(buf) && host[0] == '[' && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return false;
}

/* The URL rule, with the host also in HOSTS when HOSTS is not NULL. */
static bool url_allowed(const char *url, const char *const *hosts, size_t n_hosts)
{
    if (url == NULL || strlen(url) > URL_MAX)
        return false;
    pthread_once(&curl_once, curl_init_once);
    CURLU *u = curl_url();
    if (u == NULL)
        return false;
    char *scheme = NULL, *host = NULL, *user = NULL;
    bool ok = false;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER) {
        bool listed = hosts == NULL;
        for (size_t i = 0; i < n_hosts && !listed; i++)
            listed = strcasecmp(host, hosts[i]) == 0;
        ok = listed && (strcmp(scheme, "https") == 0 ||
                        (strcmp(scheme, "http") == 0 && gw_http_host_is_loopback(host)));
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_url_cleanup(u);
    return ok;
}

bool gw_http_url_allowed(const char *url)
{
    return url_allowed(url, NULL, 0);
}

bool gw_http_url_allowed_to(const char *url, const char *const *hosts, size_t n_hosts)
{
    return hosts != NULL && url_allowed(url, hosts, n_hosts);
}

struct sink {
    char *buf;
    size_t len, cap, max;
    bool too_large;
    long retry_after_s;
};

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t k = size * n;
    if (s->too_large || k > s->max - s->len) {
        s->too_large = true;
        return 0; /* aborts the transfer: an answer this long is not one we want */
    }
    if (s->len + k + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + k + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (b == NULL)
            return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, ptr, k);
    s->len += k;
    s->buf[s->len] = '\0';
    return k;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t k = size * n;
    static const char name[] = "retry-after:";
    if (k > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
        long v = 0;
        size_t i = sizeof(name) - 1;
        while (i < k && (ptr[i] == ' ' || ptr[i] == '\t'))
            i++;
        size_t digits = 0;
        for (; i < k && ptr[i] >= '0' && ptr[i] <= '9' && digits < 7; i++, digits++)
            v = v * 10 + (ptr[i] - '0');
        /* Only the delay-seconds form; an HTTP-date is treated as absent. */
        if (digits > 0)
            s->retry_after_s = v;
    }
    return k;
}

/* Adds the call's ca_file to the TLS connection's store, beside the system bundle libcurl
 * loaded (CURLOPT_CAINFO would replace it). */
static CURLcode add_ca_file(CURL *curl, void *ssl_ctx, void *ud)
{
    (void)curl;
    X509_STORE *st = SSL_CTX_get_cert_store((SSL_CTX *)ssl_ctx);
    bool ok = st != NULL && X509_STORE_load_file(st, (const char *)ud) == 1;
    ERR_clear_error();
    return ok ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

int gw_http_perform(const struct gw_http_call *call, struct gw_http_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->retry_after_s = -1;
    if (!gw_http_url_allowed(call->url)) {
        a->refused = true;
        snprintf(a->error, sizeof(a->error), "URL refused: https only (http only to loopback)");
        return -1;
    }
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (c == NULL) {
        snprintf(a->error, sizeof(a->error), "out of memory");
        return -1;
    }
    struct sink s = {.max = call->max_answer ? call->max_answer : DEFAULT_MAX_ANSWER,
                     .retry_after_s = -1};
    struct curl_slist *hdr = NULL;
    bool ok = true;
    for (size_t i = 0; call->headers != NULL && call->headers[i] != NULL && ok; i++) {
        struct curl_slist *n = curl_slist_append(hdr, call->headers[i]);
        ok = n != NULL;
        if (ok)
            hdr = n;
    }
    if (!ok) {
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        snprintf(a->error, sizeof(a->error), "out of memory");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, call->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     call->connect_timeout_ms ? call->connect_timeout_ms : DEFAULT_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     call->timeout_ms ? call->timeout_ms : DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if (call->ca_file != NULL) {
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87: do not reuse a store our callback changed */
        curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_ca_file);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, (void *)call->ca_file);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    if (call->basic_user != NULL && call->basic_password != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, call->basic_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, call->basic_password);
    }
    if (call->method != NULL && strcmp(call->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body ? call->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(call->body ? call->body_len : 0));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (s.too_large) {
        free(s.buf);
        a->status = status;
        a->too_large = true;
        snprintf(a->error, sizeof(a->error), "answer longer than %zu bytes", s.max);
        return status > 0 ? 0 : -1;
    }
    if (rc != CURLE_OK) {
        free(s.buf);
        snprintf(a->error, sizeof(a->error), "%s", curl_easy_strerror(rc));
        return -1;
    }
    a->status = status;
    a->body = s.buf ? s.buf : calloc(1, 1);
    a->body_len = s.len;
    a->retry_after_s = s.retry_after_s;
    if (a->body == NULL) {
        snprintf(a->error, sizeof(a->error), "out of memory");
        a->status = 0;
        return -1;
    }
    return 0;
}

void gw_http_answer_free(struct gw_http_answer *a)
{
    if (a == NULL)
        return;
    free(a->body);
    a->body = NULL;
    a->body_len = 0;
}
