/* sns_certs.c — fetches SNS signing certificates with libcurl, checks their chain and dates,
 * and keeps a bounded, thread-safe LRU cache of them by URL. */
#include "gateway/net/sns_certs.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "verifiers/sns.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define DEFAULT_TIMEOUT_MS         10000L
#define DEFAULT_MAX_RESPONSE       ((size_t)64 * 1024)
#define DEFAULT_MAX_ENTRIES        ((size_t)64)
#define MAX_RESPONSE_LIMIT         ((size_t)1024 * 1024) /* whatever the config says */
#define MAX_ENTRIES_LIMIT          ((size_t)4096)
#define CERTS_PER_FILE_MAX         8 /* leaf and intermediates in one fetched PEM */
#define CA_FILE_CERTS_MAX          1024
#define PREFETCH_MAX               4 /* background fetches at once (lookup_prefetch) */

struct entry {
    char *url;
    X509 *cert;
    time_t expires; /* the earliest notAfter of the chain that verified */
    uint64_t used;  /* tick of the last lookup that returned it */
};

struct gw_sns_certs {
    pthread_mutex_t lock;   /* guards entries, n_entries, tick, stats and pending */
    pthread_cond_t idle;    /* signalled when a background fetch ends */
    char *host_pattern;     /* NULL: the default */
    STACK_OF(X509) * extra; /* ca_file's certificates, also added to the TLS store */
    X509_STORE *store;      /* system defaults + extra; read-only once built */
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response;
    size_t max_entries;
    struct entry *entries;
    size_t n_entries;
    uint64_t tick;
    struct gw_sns_certs_stats stats;
    const char *pending[PREFETCH_MAX]; /* URLs fetched in the background now */
    size_t n_pending;
};

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t why_len,
                                                          const char *fmt, ...)
{
    if (why == NULL || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* --- construction ------------------------------------------------------------------------ */

/* Reads every certificate of the PEM file PATH into a new stack. */
static STACK_OF(X509) * read_ca_file(const char *path, char *err, size_t err_len)
{
    BIO *bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        ERR_clear_error();
        set_why(err, err_len, "ca_file %s cannot be read", path);
        return NULL;
    }
    STACK_OF(X509) *certs = sk_X509_new_null();
    bool ok = certs != NULL;
    for (size_t i = 0; ok && i < CA_FILE_CERTS_MAX; i++) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL)
            break;
        if (sk_X509_push(certs, x) <= 0) {
            X509_free(x);
            ok = false;
        }
    }
    ERR_clear_error(); /* the end of the file is reported as an error */
    BIO_free(bio);
    if (ok && sk_X509_num(certs) == 0) {
        set_why(err, err_len, "ca_file %s holds no PEM certificate", path);
        ok = false;
    } else if (!ok) {
        set_why(err, err_len, "out of memory reading ca_file");
    }
    if (!ok) {
        sk_X509_pop_free(certs, X509_free);
        return NULL;
    }
    return certs;
}

/* Adds every certificate of CERTS to STORE; one already there is not an error. */
static bool add_all(X509_STORE *store, STACK_OF(X509) * certs)
{
    for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
        if (X509_STORE_add_cert(store, sk_X509_value(certs, i)) != 1) {
            unsigned long e = ERR_peek_last_error();
            ERR_clear_error();
            if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
                return false;
        }
    }
    return true;
}

struct gw_sns_certs *gw_sns_certs_new(const struct gw_sns_certs_config *cfg, char *err,
                                      size_t err_len)
{
    static const struct gw_sns_certs_config defaults = {0};
    if (cfg == NULL)
        cfg = &defaults;
    set_why(err, err_len, "%s", "");
    struct gw_sns_certs *c = calloc(1, sizeof *c);
    if (c == NULL) {
        set_why(err, err_len, "out of memory");
        return NULL;
    }
    c->connect_timeout_ms =
        cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->max_response = cfg->max_response > 0 ? cfg->max_response : DEFAULT_MAX_RESPONSE;
    if (c->max_response > MAX_RESPONSE_LIMIT)
        c->max_response = MAX_RESPONSE_LIMIT;
    c->max_entries = cfg->max_entries > 0 ? cfg->max_entries : DEFAULT_MAX_ENTRIES;
    if (c->max_entries > MAX_ENTRIES_LIMIT)
        c->max_entries = MAX_ENTRIES_LIMIT;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        set_why(err, err_len, "pthread_mutex_init failed");
        return NULL;
    }
    if (pthread_cond_init(&c->idle, NULL) != 0) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        set_why(err, err_len, "pthread_cond_init failed");
        return NULL;
    }
    bool ok = true;
    if (cfg->host_pattern != NULL && (c->host_pattern = strdup(cfg->host_pattern)) == NULL) {
        set_why(err, err_len, "out of memory");
        ok = false;
    }
    if (ok && cfg->ca_file != NULL && (c->extra = read_ca_file(cfg->ca_file, err, err_len)) == NULL)
        ok = false;
    if (ok) {
        c->store = X509_STORE_new();
        /* The system trust store (OpenSSL's default file and directory), then ca_file. */
        if (c->store == NULL || X509_STORE_set_default_paths(c->store) != 1 ||
            !add_all(c->store, c->extra)) {
            ERR_clear_error();
            set_why(err, err_len, "cannot build the certificate store");
            ok = false;
        }
    }
    if (ok && (c->entries = calloc(c->max_entries, sizeof *c->entries)) == NULL) {
        set_why(err, err_len, "out of memory");
        ok = false;
    }
    if (ok && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        set_why(err, err_len, "curl_global_init failed");
        ok = false;
    }
    if (!ok) {
        X509_STORE_free(c->store);
        sk_X509_pop_free(c->extra, X509_free);
        free(c->entries);
        free(c->host_pattern);
        pthread_cond_destroy(&c->idle);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    return c;
}

void gw_sns_certs_free(struct gw_sns_certs *c)
{
    if (c == NULL)
        return;
    /* Background fetches use C until they end; each is bounded by the transfer timeout. */
    pthread_mutex_lock(&c->lock);
    while (c->n_pending > 0)
        pthread_cond_wait(&c->idle, &c->lock);
    pthread_mutex_unlock(&c->lock);
    for (size_t i = 0; i < c->n_entries; i++) {
        free(c->entries[i].url);
        X509_free(c->entries[i].cert);
    }
    free(c->entries);
    X509_STORE_free(c->store);
    sk_X509_pop_free(c->extra, X509_free);
    free(c->host_pattern);
    pthread_cond_destroy(&c->idle);
    pthread_mutex_destroy(&c->lock);
    free(c);
    curl_global_cleanup();
}

/* --- the cache --------------------------------------------------------------------------- */

/* Index of URL's entry, or -1. Caller holds the lock. */
static long find(const struct gw_sns_certs *c, const char *url)
{
    for (size_t i = 0; i < c->n_entries; i++)
        if (strcmp(c->entries[i].url, url) == 0)
            return (long)i;
    return -1;
}

static void remove_at(struct gw_sns_certs *c, size_t i)
{
    free(c->entries[i].url);
    X509_free(c->entries[i].cert);
    c->entries[i] = c->entries[--c->n_entries];
}

/* A new reference to URL's cached certificate if it is still in date (an expired one is
 * dropped), else NULL. Takes the lock. */
static X509 *cached(struct gw_sns_certs *c, const char *url)
{
    X509 *cert = NULL;
    time_t now = time(NULL);
    pthread_mutex_lock(&c->lock);
    long i = find(c, url);
    if (i >= 0 && c->entries[i].expires < now) {
        remove_at(c, (size_t)i);
        i = -1;
    }
    if (i >= 0 && X509_up_ref(c->entries[i].cert) == 1) {
        cert = c->entries[i].cert;
        c->entries[i].used = ++c->tick;
        c->stats.hits++;
    }
    pthread_mutex_unlock(&c->lock);
    return cert;
}

/* Stores CERT (the cache takes its own reference) under URL, evicting the least recently
 * used entry when full. A failure only means the next lookup fetches again. */
static void store(struct gw_sns_certs *c, const char *url, X509 *cert, time_t expires)
{
    char *copy = strdup(url);
    if (copy == NULL || X509_up_ref(cert) != 1) {
        free(copy);
        return;
    }
    pthread_mutex_lock(&c->lock);
    long i = find(c, url);
    if (i >= 0) { /* another thread fetched it meanwhile: keep the newer */
        remove_at(c, (size_t)i);
    } else if (c->n_entries == c->max_entries) {
        size_t lru = 0;
        for (size_t k = 1; k < c->n_entries; k++)
            if (c->entries[k].used < c->entries[lru].used)
                lru = k;
        remove_at(c, lru);
    }
    c->entries[c->n_entries++] = (struct entry){copy, cert, expires, ++c->tick};
    pthread_mutex_unlock(&c->lock);
}

/* --- fetching ---------------------------------------------------------------------------- */

struct response {
    unsigned char *data;
    size_t len;
    size_t max;
    bool too_large;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct response *r = ud;
    size_t n = size * nmemb; /* libcurl passes size 1 */
    if (n > r->max - r->len) {
        r->too_large = true;
        return 0; /* a short count makes libcurl abort with CURLE_WRITE_ERROR */
    }
    memcpy(r->data + r->len, ptr, n);
    r->len += n;
    return n;
}

/* Adds ca_file's certificates to the TLS connection's store, beside the system bundle that
 * libcurl loaded, so that one setting serves both the server and the fetched certificate. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *ud)
{
    (void)curl;
    struct gw_sns_certs *c = ud;
    X509_STORE *st = SSL_CTX_get_cert_store((SSL_CTX *)ssl_ctx);
    return st != NULL && add_all(st, c->extra) ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

#define SETOPT(h, opt, val)                                                                        \
    do {                                                                                           \
        if (ok && curl_easy_setopt(h, opt, val) != CURLE_OK) {                                     \
            set_why(why, why_len, "libcurl refused option %s", #opt);                              \
            ok = false;                                                                            \
        }                                                                                          \
    } while (0)

/* GETs URL into R. Returns false with a reason in WHY. */
static bool fetch(struct gw_sns_certs *c, const char *url, struct response *r, char *why,
                  size_t why_len)
{
    CURL *h = curl_easy_init();
    if (h == NULL) {
        set_why(why, why_len, "curl_easy_init failed");
        return false;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    bool ok = true;
    SETOPT(h, CURLOPT_URL, url);
    SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string forms; the bitmask ones are deprecated */
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "https");
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    SETOPT(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect could leave the allowed hosts */
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);       /* no SIGALRM for DNS timeouts: we are threaded */
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SETOPT(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max);
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(h, CURLOPT_USERAGENT, "ctgw-sns-certs");
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_data);
    SETOPT(h, CURLOPT_WRITEDATA, r);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87: do not reuse a store our callback changed */
    SETOPT(h, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
    if (c->extra != NULL) {
        SETOPT(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        SETOPT(h, CURLOPT_SSL_CTX_DATA, c);
    }
    if (ok) {
        pthread_mutex_lock(&c->lock);
        c->stats.fetches++;
        pthread_mutex_unlock(&c->lock);
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        if (rc != CURLE_OK) {
            if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED)
                set_why(why, why_len, "response larger than %zu bytes", r->max);
            else
                set_why(why, why_len, "fetch failed: %s",
                        errbuf[0] ? errbuf : curl_easy_strerror(rc));
            ok = false;
        } else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
                   status != 200) {
            set_why(why, why_len, "fetch answered HTTP %ld, not 200", status);
            ok = false;
        }
    }
    curl_easy_cleanup(h);
    return ok;
}

/* Seconds from now to the earliest notAfter in CHAIN, or -1 when one cannot be read. */
static long long seconds_left(STACK_OF(X509) * chain)
{
    long long least = LLONG_MAX;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        int days = 0;
        int secs = 0;
        if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(sk_X509_value(chain, i))) != 1)
            return -1;
        long long left = (long long)days * 86400 + secs;
        if (left < least)
            least = left;
    }
    return least;
}

/* The first certificate of the PEM in R once it chains to the store at the current time,
 * with *EXPIRES set; NULL with a reason otherwise. */
static X509 *check(struct gw_sns_certs *c, const struct response *r, time_t *expires, char *why,
                   size_t why_len)
{
    if (r->len == 0 || r->len > INT_MAX) {
        set_why(why, why_len, "empty response");
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(r->data, (int)r->len);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509 *leaf = NULL;
    X509 *result = NULL;
    X509_STORE_CTX *ctx = NULL;
    if (bio == NULL || untrusted == NULL) {
        set_why(why, why_len, "out of memory");
        goto out;
    }
    leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    for (int i = 1; leaf != NULL && i < CERTS_PER_FILE_MAX; i++) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL)
            break;
        if (sk_X509_push(untrusted, x) <= 0) {
            X509_free(x);
            break;
        }
    }
    ERR_clear_error(); /* the end of the PEM is reported as an error */
    if (leaf == NULL) {
        set_why(why, why_len, "the response is not a PEM certificate");
        goto out;
    }
    ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, c->store, leaf, untrusted) != 1) {
        set_why(why, why_len, "cannot set up certificate verification");
        goto out;
    }
    if (X509_verify_cert(ctx) != 1) {
        set_why(why, why_len, "certificate refused: %s",
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    long long left = seconds_left(X509_STORE_CTX_get0_chain(ctx));
    if (left < 0) {
        set_why(why, why_len, "certificate dates cannot be read");
        goto out;
    }
    *expires = time(NULL) + (time_t)left;
    result = leaf;
    leaf = NULL;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    BIO_free(bio);
    return result;
}

static X509 *lookup(struct gw_sns_certs *c, const char *url, bool may_fetch, char *why,
                    size_t why_len)
{
    set_why(why, why_len, "%s", "");
    if (c == NULL) {
        set_why(why, why_len, "no certificate source");
        return NULL;
    }
    X509 *cert = NULL;
    char reason[160] = "";
    if (!gw_sns_cert_url_ok(url, c->host_pattern, reason, sizeof reason)) {
        set_why(why, why_len, "SigningCertURL refused: %s", reason);
    } else if ((cert = cached(c, url)) != NULL) {
        return cert;
    } else if (!may_fetch) {
        set_why(why, why_len, "not cached");
    } else {
        struct response r = {.data = malloc(c->max_response), .max = c->max_response};
        time_t expires = 0;
        if (r.data == NULL)
            set_why(why, why_len, "out of memory");
        else if (fetch(c, url, &r, why, why_len) &&
                 (cert = check(c, &r, &expires, why, why_len)) != NULL)
            store(c, url, cert, expires);
        free(r.data);
        if (cert != NULL)
            return cert;
    }
    pthread_mutex_lock(&c->lock);
    c->stats.refused++;
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

X509 *gw_sns_certs_get(struct gw_sns_certs *c, const char *url, char *why, size_t why_len)
{
    return lookup(c, url, true, why, why_len);
}

X509 *gw_sns_certs_lookup(void *ctx, const char *url, char *why, size_t why_len)
{
    return lookup(ctx, url, true, why, why_len);
}

X509 *gw_sns_certs_lookup_cached(void *ctx, const char *url, char *why, size_t why_len)
{
    return lookup(ctx, url, false, why, why_len);
}

/* --- fetching in the background --------------------------------------------------------- */

struct prefetch {
    struct gw_sns_certs *c;
    char *url;
};

/* One background fetch: fills the cache (or not), then leaves the pending list. C is not
 * touched after the lock is released: gw_sns_certs_free may free it from then on. */
static void *prefetch_main(void *arg)
{
    struct prefetch *p = arg;
    char why[160];
    X509_free(lookup(p->c, p->url, true, why, sizeof why));
    struct gw_sns_certs *c = p->c;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_pending; i++) {
        if (c->pending[i] == p->url) {
            c->pending[i] = c->pending[--c->n_pending];
            break;
        }
    }
    pthread_cond_broadcast(&c->idle);
    pthread_mutex_unlock(&c->lock);
    free(p->url);
    free(p);
    return NULL;
}

/* Starts a background fetch of URL unless one runs for it or PREFETCH_MAX run. Caller holds
 * the lock. */
static void start_prefetch(struct gw_sns_certs *c, const char *url, char *why, size_t why_len)
{
    for (size_t i = 0; i < c->n_pending; i++) {
        if (strcmp(c->pending[i], url) == 0) {
            set_why(why, why_len, "the signing certificate is being fetched: retry");
            return;
        }
    }
    if (c->n_pending == PREFETCH_MAX) {
        set_why(why, why_len, "%d signing certificates are being fetched already: retry",
                PREFETCH_MAX);
        return;
    }
    struct prefetch *p = malloc(sizeof *p);
    char *copy = strdup(url);
    pthread_attr_t attr;
    bool attr_ok = pthread_attr_init(&attr) == 0;
    pthread_t t;
    if (p == NULL || copy == NULL || !attr_ok ||
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0) {
        set_why(why, why_len, "cannot start fetching the signing certificate");
        free(p);
        free(copy);
    } else {
        *p = (struct prefetch){.c = c, .url = copy};
        c->pending[c->n_pending++] = copy;
        if (pthread_create(&t, &attr, prefetch_main, p) != 0) {
            c->n_pending--;
            free(p);
            free(copy);
            set_why(why, why_len, "cannot start fetching the signing certificate");
        } else {
            set_why(why, why_len, "the signing certificate is being fetched: retry");
        }
    }
    if (attr_ok)
        pthread_attr_destroy(&attr);
}

X509 *gw_sns_certs_lookup_prefetch(void *ctx, const char *url, char *why, size_t why_len)
{
    struct gw_sns_certs *c = ctx;
    X509 *cert = lookup(c, url, false, why, why_len);
    if (cert != NULL || c == NULL || !gw_sns_cert_url_ok(url, c->host_pattern, NULL, 0))
        return cert; /* cached, or refused for its URL (WHY says so) */
    pthread_mutex_lock(&c->lock);
    start_prefetch(c, url, why, why_len);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

void gw_sns_certs_stats(struct gw_sns_certs *c, struct gw_sns_certs_stats *out)
{
    memset(out, 0, sizeof *out);
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    out->entries = c->n_entries;
    pthread_mutex_unlock(&c->lock);
}
