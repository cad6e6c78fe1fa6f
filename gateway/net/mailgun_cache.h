/* mailgun_cache.h — the tokens of Mailgun requests already accepted, so that a captured
 * request cannot be replayed inside its window. The mailgun verifier reaches it only through
 * in->replay_seen (verifiers/verifier.h): gw_mailgun_cache_seen with the cache as
 * replay_ctx. */
#ifndef CTGW_MAILGUN_CACHE_H
#define CTGW_MAILGUN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tokens a cache holds when gw_mailgun_cache_create is given 0. */
#define GW_MAILGUN_CACHE_DEFAULT 4096
/* The most it may be given. */
#define GW_MAILGUN_CACHE_MAX (1u << 20)

/* A bounded, thread-safe set of the requests seen (of timestamp + token, exactly), each kept
 * until it expires (its timestamp + tolerance), when it could no longer be replayed anyway. */
struct gw_mailgun_cache;

/* A cache for CAPACITY tokens (GW_MAILGUN_CACHE_DEFAULT when 0), or NULL when CAPACITY is
 * above GW_MAILGUN_CACHE_MAX or memory or a mutex cannot be had. */
struct gw_mailgun_cache *gw_mailgun_cache_create(size_t capacity);

/* Frees CACHE (NULL is fine). No verification may be using it. */
void gw_mailgun_cache_destroy(struct gw_mailgun_cache *cache);

/* Tokens currently held, expired ones included until they are swept. For tests and metrics. */
size_t gw_mailgun_cache_count(struct gw_mailgun_cache *cache);

/* in->replay_seen for a struct gw_mailgun_cache as CACHE: records TIMESTAMP + TOKEN until
 * EXPIRES and returns false when they were not there; returns true with a sentence in WHY
 * when they were (checked and added under one lock, so of two copies of a request arriving at
 * once exactly one passes), when the cache is full of entries still inside their window
 * (refused rather than forget one), or when they cannot be hashed. */
bool gw_mailgun_cache_seen(void *cache, const char *timestamp, size_t timestamp_len,
                           const char *token, size_t token_len, int64_t expires, int64_t now,
                           char *why, size_t why_len);

#endif
