/* mailgun_cache.c — the Mailgun replay cache: a fixed pool of SHA-256 digests of
 * timestamp + token in a chained hash table under one mutex, handed to the mailgun verifier
 * as in->replay_seen. */
#include "gateway/net/mailgun_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define DIGEST_SIZE 32 /* SHA-256 of a token: what the cache keeps */
#define NIL         UINT32_MAX

/* One request seen. The cache keeps a SHA-256 (replay_key) rather than the token so that
 * every entry has the same small size whatever the token's length. */
struct entry {
    unsigned char digest[DIGEST_SIZE];
    int64_t expires; /* the token's timestamp + tolerance: after it, no replay can pass */
    uint32_t next;   /* next entry of the same bucket, or of the free list; NIL ends */
};

/* A chained hash table over a fixed pool: no allocation after creation, and every expired
 * entry met on the way is given back, so expiry needs no timer. */
struct gw_mailgun_cache {
    pthread_mutex_t lock;
    size_t capacity;
    size_t mask; /* buckets - 1; the bucket count is a power of two */
    uint32_t *buckets;
    struct entry *pool;
    uint32_t free_head;
    size_t count;
};

enum seen { SEEN_NEW, SEEN_BEFORE, SEEN_FULL };

struct gw_mailgun_cache *gw_mailgun_cache_create(size_t capacity)
{
    if (capacity == 0)
        capacity = GW_MAILGUN_CACHE_DEFAULT;
    if (capacity > GW_MAILGUN_CACHE_MAX)
        return NULL;
    size_t buckets = 1;
    while (buckets < capacity)
        buckets <<= 1;
    struct gw_mailgun_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->buckets = malloc(buckets * sizeof *c->buckets);
    c->pool = calloc(capacity, sizeof *c->pool);
    if (c->buckets == NULL || c->pool == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->buckets);
        free(c->pool);
        free(c);
        return NULL;
    }
    c->capacity = capacity;
    c->mask = buckets - 1;
    for (size_t b = 0; b < buckets; b++)
        c->buckets[b] = NIL;
    for (size_t i = 0; i < capacity; i++)
        c->pool[i].next = i + 1 < capacity ? (uint32_t)(i + 1) : NIL;
    c->free_head = 0;
    return c;
}

void gw_mailgun_cache_destroy(struct gw_mailgun_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c->pool);
    free(c);
}

size_t gw_mailgun_cache_count(struct gw_mailgun_cache *c)
{
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Walks the chain at *LINK, giving expired entries back to the free list; returns the link
 * that points at DIGEST's entry, or the chain's final link when it is not there. */
static uint32_t *walk(struct gw_mailgun_cache *c, uint32_t *link, const unsigned char *digest,
                      int64_t now)
{
    while (*link != NIL) {
        uint32_t idx = *link;
        struct entry *e = &c->pool[idx];
        if (e->expires < now) {
            *link = e->next;
            e->next = c->free_head;
            c->free_head = idx;
            c->count--;
            continue;
        }
        /* memcmp is enough: a token travels in clear in the body, it is no secret. */
        if (digest != NULL && memcmp(e->digest, digest, DIGEST_SIZE) == 0)
            return link;
        link = &e->next;
    }
    return link;
}

/* Records DIGEST until EXPIRES unless it is already there (checked and added under one lock,
 * so of two copies of a request arriving at once exactly one passes). */
static enum seen remember(struct gw_mailgun_cache *c, const unsigned char digest[DIGEST_SIZE],
                          int64_t expires, int64_t now)
{
    /* The digest is uniform: its first bytes make a good bucket index. */
    uint32_t h = (uint32_t)digest[0] | (uint32_t)digest[1] << 8 | (uint32_t)digest[2] << 16 |
                 (uint32_t)digest[3] << 24;
    pthread_mutex_lock(&c->lock);
    uint32_t *bucket = &c->buckets[h & c->mask];
    if (*walk(c, bucket, digest, now) != NIL) {
        pthread_mutex_unlock(&c->lock);
        return SEEN_BEFORE;
    }
    if (c->free_head == NIL) /* full: sweep every chain once for expired entries */
        for (size_t b = 0; b <= c->mask; b++)
            walk(c, &c->buckets[b], NULL, now);
    if (c->free_head == NIL) {
        pthread_mutex_unlock(&c->lock);
        return SEEN_FULL;
    }
    uint32_t idx = c->free_head;
    struct entry *e = &c->pool[idx];
    c->free_head = e->next;
    memcpy(e->digest, digest, DIGEST_SIZE);
    e->expires = expires;
    e->next = *bucket;
    *bucket = idx;
    c->count++;
    pthread_mutex_unlock(&c->lock);
    return SEEN_NEW;
}

/* The cache key: SHA-256 of the signed string timestamp + token rather than of the token
 * alone. With no separator between them a digit can move from one to the other under the
 * same signature ("176722560" + "0abc..." signs like "1767225600" + "abc..."); keyed on the
 * whole string, every such re-split of a request is the same entry. */
static bool replay_key(const char *ts, size_t ts_len, const char *token, size_t token_len,
                       unsigned char out[DIGEST_SIZE])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int out_len = 0;
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, ts, ts_len) == 1 &&
              EVP_DigestUpdate(ctx, token, token_len) == 1 &&
              EVP_DigestFinal_ex(ctx, out, &out_len) == 1 && out_len == DIGEST_SIZE;
    EVP_MD_CTX_free(ctx);
    return ok;
}

bool gw_mailgun_cache_seen(void *cache, const char *timestamp, size_t timestamp_len,
                           const char *token, size_t token_len, int64_t expires, int64_t now,
                           char *why, size_t why_len)
{
    struct gw_mailgun_cache *c = cache;
    unsigned char digest[DIGEST_SIZE];
    if (!replay_key(timestamp, timestamp_len, token, token_len, digest)) {
        snprintf(why, why_len, "the token could not be checked against the replay cache");
        return true;
    }
    switch (remember(c, digest, expires, now)) {
    case SEEN_NEW:
        return false;
    case SEEN_BEFORE:
        snprintf(why, why_len, "token already used by an earlier request inside the window");
        return true;
    case SEEN_FULL:
    default:
        snprintf(why, why_len,
                 "replay cache full (%zu tokens inside their window): refused rather than forget "
                 "one",
                 c->capacity);
        return true;
    }
}
