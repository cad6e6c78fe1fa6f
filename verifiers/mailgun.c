/* mailgun.c — verifies (and, for tests and tools, signs) Mailgun route forwards:
 * hex(HMAC-SHA256(signing key, timestamp + token)) in the form fields, plus a replay cache. */
#include "verifiers/mailgun.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "verifiers/form.h"
#include "verifiers/hmac.h"

#define CT_HEADER   "Content-Type"
#define F_TIMESTAMP "timestamp"
#define F_TOKEN     "token"
#define F_SIGNATURE "signature"
#define F_PARENT    "parent-signature"
#define DIGEST_SIZE 32 /* SHA-256 of a token: what the cache keeps */
#define NIL         UINT32_MAX

/* --- the replay cache -------------------------------------------------------------------- */

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

/* --- the verifier ------------------------------------------------------------------------ */

/* 1..GW_MAILGUN_TOKEN_MAX bytes of printable ASCII without spaces. */
static bool valid_token(const char *token, size_t len)
{
    if (len == 0 || len > GW_MAILGUN_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)token[i] < 0x21 || (unsigned char)token[i] > 0x7e)
            return false;
    return true;
}

/* A signature field: 64 lowercase hex digits. */
static bool parse_signature(const struct gw_form_field *f, unsigned char *out)
{
    size_t n = 0;
    return !f->too_long && f->len == GW_HMAC_SHA256_HEX &&
           gw_hex_decode(f->value, f->len, out, GW_HMAC_SHA256_SIZE, &n, 0) &&
           n == GW_HMAC_SHA256_SIZE;
}

/* Sets the detail for a form field that is absent or repeated; true when it is either. */
static bool field_missing(const struct gw_form_field *f, bool required,
                          struct gw_verify_detail *detail)
{
    if (f->count == 0 && required) {
        gw_verify_set_header(detail, f->name);
        gw_verify_note(detail, "form field %s is missing", f->name);
        return true;
    }
    if (f->count > 1) {
        /* As for headers (verifier.h): there is no single value to verify. */
        gw_verify_set_header(detail, f->name);
        gw_verify_note(detail, "form field %s appears %zu times, exactly once is needed", f->name,
                       f->count);
        return true;
    }
    return false;
}

/* Checks, in order: Content-Type once and a form type; the body a well-formed form; each
 * field once and of its form; the timestamp inside the window (before any HMAC, so replays
 * cost little); at least one usable secret; a signature matching one of them; last, the
 * token not used before — last, so that only signed tokens ever enter the cache. */
static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    gw_verify_set_header(detail, CT_HEADER);

    const struct gw_headers *headers = gw_verify_headers(in);
    size_t ct_count = gw_headers_count(headers, CT_HEADER);
    const char *ct = gw_headers_get(headers, CT_HEADER);
    if (ct_count == 0 || ct == NULL) {
        gw_verify_note(detail, "%s is missing", CT_HEADER);
        return GW_VERIFY_MISSING_HEADER;
    }
    if (ct_count > 1) {
        gw_verify_note(detail, "%s appears %zu times, exactly once is needed", CT_HEADER, ct_count);
        return GW_VERIFY_MISSING_HEADER;
    }
    struct gw_form_type type;
    if (!gw_form_content_type(ct, &type)) {
        gw_verify_note(detail,
                       "%s must be application/x-www-form-urlencoded or multipart/form-data with a "
                       "boundary",
                       CT_HEADER);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    if (in->body == NULL && in->body_len > 0) {
        gw_verify_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }

    /* One byte more than the longest valid value, so that a longer one is seen as such. */
    char ts_text[GW_UNIX_TIME_DIGITS_MAX + 2];
    char token[GW_MAILGUN_TOKEN_MAX + 2];
    char sig_text[GW_HMAC_SHA256_HEX + 2];
    char parent_text[GW_HMAC_SHA256_HEX + 2];
    struct gw_form_field fields[] = {
        {.name = F_TIMESTAMP, .value = ts_text, .cap = sizeof ts_text},
        {.name = F_TOKEN, .value = token, .cap = sizeof token},
        {.name = F_SIGNATURE, .value = sig_text, .cap = sizeof sig_text},
        {.name = F_PARENT, .value = parent_text, .cap = sizeof parent_text},
    };
    struct gw_form_error err = {0, ""};
    if (!gw_form_read(&type, in->body, in->body_len, fields, sizeof fields / sizeof fields[0],
                      &err)) {
        gw_verify_note(detail, "the body is not a valid %s form: %s at byte %zu",
                       type.kind == GW_FORM_MULTIPART ? "multipart" : "urlencoded", err.what,
                       err.offset);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (field_missing(&fields[i], i < 3, detail))
            return GW_VERIFY_MISSING_HEADER;
    const struct gw_form_field *f_ts = &fields[0];
    const struct gw_form_field *f_token = &fields[1];
    const struct gw_form_field *f_sig = &fields[2];
    const struct gw_form_field *f_parent = &fields[3];

    int64_t ts = 0;
    if (f_ts->too_long || !gw_parse_unix_time(ts_text, f_ts->len, &ts)) {
        gw_verify_set_header(detail, F_TIMESTAMP);
        gw_verify_note(detail, "form field %s must be 1..%d decimal digits (unix seconds)",
                       F_TIMESTAMP, GW_UNIX_TIME_DIGITS_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->timestamp = ts;
    if (f_token->too_long || !valid_token(token, f_token->len)) {
        gw_verify_set_header(detail, F_TOKEN);
        gw_verify_note(detail,
                       "form field %s must be 1..%d bytes of printable ASCII without spaces",
                       F_TOKEN, GW_MAILGUN_TOKEN_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->signed_len = f_ts->len + f_token->len;

    unsigned char sigs[2 * GW_HMAC_SHA256_SIZE];
    size_t n_sigs = 0;
    const struct gw_form_field *sig_fields[2] = {f_sig, f_parent};
    for (size_t i = 0; i < 2; i++) {
        if (sig_fields[i]->count == 0)
            continue;
        if (!parse_signature(sig_fields[i], sigs + n_sigs * GW_HMAC_SHA256_SIZE)) {
            OPENSSL_cleanse(sigs, sizeof sigs);
            gw_verify_set_header(detail, sig_fields[i]->name);
            gw_verify_note(detail, "form field %s must be %d lowercase hex digits",
                           sig_fields[i]->name, GW_HMAC_SHA256_HEX);
            return GW_VERIFY_MALFORMED_HEADER;
        }
        n_sigs++;
    }

    if (!gw_within_window(ts, in->now, in->tolerance_s, detail->note, sizeof detail->note)) {
        OPENSSL_cleanse(sigs, sizeof sigs);
        gw_verify_set_header(detail, F_TIMESTAMP);
        return GW_VERIFY_TIMESTAMP_OUTSIDE;
    }

    const struct gw_hmac_piece pieces[] = {{ts_text, f_ts->len}, {token, f_token->len}};
    const struct gw_hmac_check chk = {.secrets = in->secrets,
                                      .n_secrets = in->n_secrets,
                                      .pieces = pieces,
                                      .n_pieces = 2,
                                      .candidates = sigs,
                                      .n_candidates = n_sigs,
                                      .usable = "the HTTP webhook signing key"};
    struct gw_hmac_match m;
    enum gw_verify_result r = gw_hmac_check(&chk, detail, &m);
    OPENSSL_cleanse(sigs, sizeof sigs);
    if (r == GW_VERIFY_KEY_UNUSABLE)
        return r;
    gw_verify_set_header(detail, F_SIGNATURE);
    if (r == GW_VERIFY_NO_SECRET_MATCHED) {
        gw_verify_note(detail, "%s matches none of %zu usable secrets",
                       n_sigs > 1 ? "neither signature nor parent-signature" : "the signature",
                       m.usable);
        return r;
    }

    if (in->replay_cache != NULL) {
        uint64_t tolerance = in->tolerance_s ? in->tolerance_s : GW_DEFAULT_TOLERANCE_S;
        /* Saturating: a timestamp near INT64_MAX keeps its token for ever, which is right. */
        int64_t expires = (uint64_t)INT64_MAX - (uint64_t)ts < tolerance
                              ? INT64_MAX
                              : (int64_t)((uint64_t)ts + tolerance);
        unsigned char digest[DIGEST_SIZE];
        enum seen seen = SEEN_FULL;
        bool hashed = replay_key(ts_text, f_ts->len, token, f_token->len, digest);
        if (hashed)
            seen = remember(in->replay_cache, digest, expires, (int64_t)in->now);
        if (!hashed || seen != SEEN_NEW) {
            gw_verify_set_header(detail, F_TOKEN);
            if (!hashed)
                gw_verify_note(detail, "the token could not be checked against the replay cache");
            else if (seen == SEEN_BEFORE)
                gw_verify_note(detail,
                               "token already used by an earlier request inside the window");
            else
                gw_verify_note(detail,
                               "replay cache full (%zu tokens inside their window): refused rather "
                               "than forget one",
                               ((struct gw_mailgun_cache *)in->replay_cache)->capacity);
            return GW_VERIFY_TIMESTAMP_OUTSIDE;
        }
    }
    return gw_hmac_verified(detail, m.index);
}

const struct gw_verifier gw_verifier_mailgun = {
    .name = "mailgun",
    .verify = verify,
};

int gw_mailgun_sign(const struct gw_secret *secret, int64_t timestamp, const char *token, char *out,
                    size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    size_t token_len = token != NULL ? strnlen(token, GW_MAILGUN_TOKEN_MAX + 1) : 0;
    if (out == NULL || out_len < GW_MAILGUN_SIGNATURE_SIZE || !gw_hmac_secret_usable(secret) ||
        timestamp < 0 || !valid_token(token, token_len))
        return -1;
    char ts[GW_UNIX_TIME_DIGITS_MAX + 1];
    int ts_len = snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    if (ts_len <= 0 || (size_t)ts_len >= sizeof ts)
        return -1;
    const struct gw_hmac_piece pieces[] = {{ts, (size_t)ts_len}, {token, token_len}};
    return gw_hmac_sign(secret->data, secret->len, pieces, 2, GW_HMAC_HEX, NULL, out, out_len);
}
