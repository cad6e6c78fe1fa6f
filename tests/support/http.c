/* http.c — HTTP requests from tests, over loopback only, with libcurl. */
#include "tests/support/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct buf {
    char *p;
    size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    size_t add = size * n;
    char *p = realloc(b->p, b->len + add + 1);
    if (p == NULL)
        return 0;
    memcpy(p + b->len, data, add);
    b->p = p;
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

int ts_http_with(const char *method, const char *url, const char *const *headers, const char *body,
                 const struct ts_http_opts *opts, struct ts_http *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(url, "http://127.", 11) != 0 && strncmp(url, "https://127.", 12) != 0 &&
        strncmp(url, "http://localhost", 16) != 0 && strncmp(url, "https://localhost", 17) != 0) {
        snprintf(out->error, sizeof(out->error), "tests only talk to loopback");
        return -1;
    }
    CURL *c = curl_easy_init();
    struct buf b = {0}, h = {0};
    struct curl_slist *list = NULL;
    if (c == NULL)
        return -1;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        size_t len = opts != NULL && opts->body_len > 0 ? opts->body_len : strlen(body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts && opts->timeout_ms ? opts->timeout_ms : 10000L);
    if (opts != NULL && opts->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
    if (opts != NULL && opts->tls_max != 0)
        curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1 | opts->tls_max));
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    else
        snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    out->body = b.p ? b.p : strdup("");
    out->headers = h.p ? h.p : strdup("");
    return rc == CURLE_OK ? 0 : -1;
}

int ts_http(const char *method, const char *url, const char *const *headers, const char *body,
            struct ts_http *out)
{
    return ts_http_with(method, url, headers, body, NULL, out);
}

void ts_http_free(struct ts_http *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

const char *ts_http_header(const struct ts_http *r, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line != NULL && *line != '\0';) {
        const char *end = strstr(line, "\r\n");
        size_t l = end ? (size_t)(end - line) : strlen(line);
        if (l > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t vl = l - (size_t)(v - line);
            snprintf(buf, len, "%.*s", (int)vl, v);
            return buf;
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}
