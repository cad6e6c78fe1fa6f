/* sns_certs.h — where the sns verifier gets signing certificates: fetched from SigningCertURL
 * with libcurl, checked against trust anchors and dates, cached by URL. Blocking: call from
 * worker threads, never from the event loop. */
#ifndef CTGW_SNS_CERTS_H
#define CTGW_SNS_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

/* Zero-initialised fields take the defaults in brackets. */
struct gw_sns_certs_config {
    const char *host_pattern; /* as in gw_sns_cert_url_ok [GW_SNS_DEFAULT_CERT_HOST_PATTERN] */
    /* PEM of extra trust anchors, and intermediates to build chains with, added to the
     * system store, for the fetched certificate and for the TLS connection [none]. The file
     * SNS serves may hold the signing certificate alone; when its chain does not build from
     * the system roots ("unable to get local issuer certificate"), put Amazon's intermediate
     * CA certificates here. */
    const char *ca_file;
    long connect_timeout_ms; /* [3000] */
    long timeout_ms;         /* the whole transfer [10000] */
    size_t max_response;     /* bytes of the PEM file [65536] */
    size_t max_entries;      /* cached certificates; the least recently used goes [64] */
};

struct gw_sns_certs;

/* A certificate source, or NULL with a reason in ERR (ca_file unreadable, no certificate in
 * it, out of memory). Calls curl_global_init (reference-counted by libcurl; the program
 * should have called it before starting threads, as libcurl asks). */
struct gw_sns_certs *gw_sns_certs_new(const struct gw_sns_certs_config *cfg, char *err,
                                      size_t err_len);
/* Frees the cache; no lookup may be running. NULL is ignored. */
void gw_sns_certs_free(struct gw_sns_certs *c);

/* The certificate at URL, as a new reference (X509_free it), or NULL with a reason in WHY.
 * The URL must pass gw_sns_cert_url_ok with the configured pattern; a cached certificate
 * within its validity dates is returned without any network traffic; otherwise URL is
 * fetched (https only, no redirects, bounded in time and size, status 200 required;
 * libcurl's usual *_proxy environment variables apply) and the
 * first certificate of the PEM must chain, with the others as untrusted intermediates, to
 * the system trust store or ca_file at the current time. Refusals are not cached.
 * Thread-safe; the network part runs without the cache lock held. */
X509 *gw_sns_certs_get(struct gw_sns_certs *c, const char *url, char *why, size_t why_len);

/* gw_sns_certs_get with the signature of struct gw_verify_input's cert_lookup: CTX is the
 * struct gw_sns_certs. */
X509 *gw_sns_certs_lookup(void *ctx, const char *url, char *why, size_t why_len);

/* The same, but never fetching: a cached, in-date certificate or NULL. For callers on the
 * event loop that hand a miss to a worker. */
X509 *gw_sns_certs_lookup_cached(void *ctx, const char *url, char *why, size_t why_len);

/* Never blocking either, for the event loop: a cached, in-date certificate; else NULL with
 * WHY saying "retry", after starting a fetch of URL (when it passes gw_sns_cert_url_ok) on a
 * thread of its own that fills the cache for the sender's retry — one per URL, at most four
 * at once. gw_sns_certs_free waits for running fetches (each bounded by timeout_ms). */
X509 *gw_sns_certs_lookup_prefetch(void *ctx, const char *url, char *why, size_t why_len);

struct gw_sns_certs_stats {
    uint64_t hits;    /* lookups answered from the cache */
    uint64_t fetches; /* HTTP transfers started */
    uint64_t refused; /* lookups that returned NULL */
    size_t entries;   /* certificates cached now */
};

void gw_sns_certs_stats(struct gw_sns_certs *c, struct gw_sns_certs_stats *out);

#endif
