/* hmac.c — HMAC-SHA256 over pieces with EVP_MAC, strict hex, timestamps and the replay
 * window, shared by the HMAC-signed schemes (Slack, Xero, Stripe, Asana, Mailgun). */
#include "verifiers/hmac.h"

#include <pthread.h>
#include <stdlib.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "verifiers/base64.h"
#include "verifiers/ct_compare.h"

/* The HMAC implementation is fetched once per process: fetching it for every verification
 * cost more than hashing a 1 KiB body. It is never freed (it lives as long as OpenSSL). */
static EVP_MAC *hmac_algorithm;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void fetch_hmac(void)
{
    hmac_algorithm = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

EVP_MAC *gw_hmac_algorithm(void)
{
    pthread_once(&hmac_once, fetch_hmac);
    return hmac_algorithm;
}

/* Keyed contexts, cached per thread: keying HMAC (two SHA-256 blocks and allocations) cost
 * more than hashing a 1 KiB body, and a thread verifies with the same few endpoint secrets
 * again and again. A context keeps its key; EVP_MAC_init with a NULL key restarts it. */
#define KEYED_SLOTS   16
#define KEYED_KEY_MAX 256

struct keyed_slot {
    size_t len;
    unsigned char key[KEYED_KEY_MAX];
    EVP_MAC_CTX *ctx;
    unsigned long used;
};

struct keyed_cache {
    struct keyed_slot slot[KEYED_SLOTS];
    unsigned long clock;
};

static pthread_key_t keyed_key;
static pthread_once_t keyed_once = PTHREAD_ONCE_INIT;
static int keyed_ok;

static void keyed_free(void *p)
{
    struct keyed_cache *c = p;
    for (size_t i = 0; i < KEYED_SLOTS; i++)
        EVP_MAC_CTX_free(c->slot[i].ctx);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

static void keyed_init(void)
{
    keyed_ok = pthread_key_create(&keyed_key, keyed_free) == 0;
}

EVP_MAC_CTX *gw_hmac_keyed(const void *key, size_t key_len)
{
    EVP_MAC *mac = gw_hmac_algorithm();
    pthread_once(&keyed_once, keyed_init);
    if (mac == NULL || !keyed_ok || key == NULL || key_len == 0 || key_len > KEYED_KEY_MAX)
        return NULL;
    struct keyed_cache *c = pthread_getspecific(keyed_key);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL || pthread_setspecific(keyed_key, c) != 0) {
            free(c);
            return NULL;
        }
    }
    struct keyed_slot *victim = &c->slot[0];
    for (size_t i = 0; i < KEYED_SLOTS; i++) {
        struct keyed_slot *s = &c->slot[i];
        if (s->ctx != NULL && s->len == key_len && CRYPTO_memcmp(s->key, key, key_len) == 0) {
            s->used = ++c->clock;
            return EVP_MAC_init(s->ctx, NULL, 0, NULL) == 1 ? s->ctx : NULL;
        }
        if (s->ctx == NULL || (victim->ctx != NULL && s->used < victim->used))
            victim = s;
    }
    EVP_MAC_CTX_free(victim->ctx);
    OPENSSL_cleanse(victim, sizeof(*victim));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL || EVP_MAC_init(ctx, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    victim->ctx = ctx;
    victim->len = key_len;
    memcpy(victim->key, key, key_len);
    victim->used = ++c->clock;
    return ctx;
}

/* An HMAC-SHA256 context of its own per use: contexts are not shared between threads. */
struct hmac {
    EVP_MAC_CTX *ctx;
};

static bool hmac_open(struct hmac *h)
{
    EVP_MAC *mac = gw_hmac_algorithm();
    h->ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    return h->ctx != NULL;
}

static void hmac_close(struct hmac *h)
{
    EVP_MAC_CTX_free(h->ctx);
    h->ctx = NULL;
}

static bool pieces_valid(const struct gw_hmac_piece *pieces, size_t n)
{
    if (pieces == NULL && n > 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pieces[i].data == NULL && pieces[i].len > 0)
            return false;
    return true;
}

/* The key is always given (never NULL), because EVP_MAC_init with a NULL key keeps the key
 * of the previous use of the context — here, another endpoint secret. */
static bool hmac_compute(struct hmac *h, const void *key, size_t key_len,
                         const struct gw_hmac_piece *pieces, size_t n,
                         unsigned char out[GW_HMAC_SHA256_SIZE])
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    size_t out_len = 0;
    if (key == NULL || key_len == 0)
        return false;
    EVP_MAC_CTX *ctx = gw_hmac_keyed(key, key_len);
    if (ctx == NULL) { /* no cache for this key: key the context of this call */
        ctx = h->ctx;
        if (EVP_MAC_init(ctx, key, key_len, params) != 1)
            return false;
    }
    for (size_t i = 0; i < n; i++)
        if (pieces[i].len > 0 && EVP_MAC_update(ctx, pieces[i].data, pieces[i].len) != 1)
            return false;
    if (EVP_MAC_final(ctx, out, &out_len, GW_HMAC_SHA256_SIZE) != 1 ||
        out_len != GW_HMAC_SHA256_SIZE)
        return false;
    return true;
}

bool gw_hmac_sha256(const void *key, size_t key_len, const struct gw_hmac_piece *pieces, size_t n,
                    unsigned char out[GW_HMAC_SHA256_SIZE])
{
    if (out == NULL)
        return false;
    struct hmac h;
    bool ok = key != NULL && key_len > 0 && pieces_valid(pieces, n) && hmac_open(&h);
    if (ok) {
        ok = hmac_compute(&h, key, key_len, pieces, n, out);
        hmac_close(&h);
    }
    if (!ok)
        OPENSSL_cleanse(out, GW_HMAC_SHA256_SIZE);
    return ok;
}

bool gw_hmac_secret_usable(const struct gw_secret *secret)
{
    return secret != NULL && secret->data != NULL && secret->len > 0;
}

/* The key of SECRET under CHK: its bytes as configured, or what chk->key_of makes of them
 * in BUF. False when the secret is not usable. */
static bool key_for(const struct gw_hmac_check *chk, const struct gw_secret *secret,
                    unsigned char buf[GW_HMAC_KEY_MAX], const void **key, size_t *key_len)
{
    if (chk->key_of == NULL) {
        *key = secret->data;
        *key_len = secret->len;
        return gw_hmac_secret_usable(secret);
    }
    *key = buf;
    *key_len = 0;
    bool ok = chk->key_of(secret, buf, key_len) && *key_len > 0 && *key_len <= GW_HMAC_KEY_MAX;
    if (!ok)
        OPENSSL_cleanse(buf, GW_HMAC_KEY_MAX);
    return ok;
}

/* Whether any candidate equals MAC. Every candidate is compared, so the time taken does not
 * tell which one matched. */
static bool any_candidate(const struct gw_hmac_check *chk, const unsigned char *mac)
{
    bool any = false;
    for (size_t c = 0; c < chk->n_candidates; c++)
        any |= gw_ct_equal(chk->candidates + c * GW_HMAC_SHA256_SIZE, GW_HMAC_SHA256_SIZE, mac,
                           GW_HMAC_SHA256_SIZE);
    return any;
}

/* Every secret that can be used failed inside OpenSSL: report it as unusable rather than
 * pretending the signature was wrong. */
static bool all_failed(const struct gw_hmac_check *chk)
{
    unsigned char buf[GW_HMAC_KEY_MAX];
    const void *key;
    size_t key_len;
    bool any_usable = false;
    for (size_t s = 0; s < chk->n_secrets && !any_usable; s++)
        any_usable = key_for(chk, &chk->secrets[s], buf, &key, &key_len);
    OPENSSL_cleanse(buf, sizeof buf);
    return any_usable;
}

static struct gw_hmac_match search(const struct gw_hmac_check *chk)
{
    struct gw_hmac_match m = {.index = -1, .usable = 0, .failed = false};
    if ((chk->secrets == NULL && chk->n_secrets > 0) ||
        (chk->candidates == NULL && chk->n_candidates > 0) ||
        !pieces_valid(chk->pieces, chk->n_pieces))
        return m;
    struct hmac h;
    if (!hmac_open(&h)) {
        m.failed = true; /* fail closed: without HMAC no secret can be used */
        return m;
    }
    unsigned char buf[GW_HMAC_KEY_MAX];
    for (size_t s = 0; s < chk->n_secrets && s <= INT_MAX && m.index < 0; s++) {
        const void *key;
        size_t key_len;
        unsigned char expected[GW_HMAC_SHA256_SIZE];
        if (!key_for(chk, &chk->secrets[s], buf, &key, &key_len))
            continue;
        bool computed = hmac_compute(&h, key, key_len, chk->pieces, chk->n_pieces, expected);
        if (computed) {
            m.usable++;
            if (any_candidate(chk, expected))
                m.index = (int)s;
        }
        OPENSSL_cleanse(expected, sizeof expected);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    hmac_close(&h);
    if (m.usable == 0 && m.index < 0)
        m.failed = all_failed(chk);
    return m;
}

struct gw_hmac_match gw_hmac_find_secret(const struct gw_secret *secrets, size_t n_secrets,
                                         const struct gw_hmac_piece *pieces, size_t n_pieces,
                                         const unsigned char *candidates, size_t n_candidates)
{
    const struct gw_hmac_check chk = {.secrets = secrets,
                                      .n_secrets = n_secrets,
                                      .pieces = pieces,
                                      .n_pieces = n_pieces,
                                      .candidates = candidates,
                                      .n_candidates = n_candidates};
    return search(&chk);
}

enum gw_verify_result gw_hmac_check(const struct gw_hmac_check *chk,
                                    struct gw_verify_detail *detail, struct gw_hmac_match *m)
{
    *m = search(chk);
    if (m->failed) {
        gw_verify_note(detail, "HMAC-SHA256 is not available from OpenSSL");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (m->usable == 0) {
        gw_verify_note(detail, "none of the %zu secrets is usable (%s)", chk->n_secrets,
                       chk->usable ? chk->usable : "not empty");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    return m->index < 0 ? GW_VERIFY_NO_SECRET_MATCHED : GW_VERIFY_OK;
}

enum gw_verify_result gw_hmac_verified(struct gw_verify_detail *detail, int index)
{
    detail->secret_index = index;
    gw_verify_note(detail, "verified with secret %d", index);
    return GW_VERIFY_OK;
}

int gw_hmac_sign(const void *key, size_t key_len, const struct gw_hmac_piece *pieces, size_t n,
                 enum gw_hmac_encoding encoding, const char *prefix, char *out, size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    size_t prefix_len = prefix != NULL ? strlen(prefix) : 0;
    if (out == NULL || prefix_len >= out_len)
        return -1;
    unsigned char mac[GW_HMAC_SHA256_SIZE];
    bool ok = gw_hmac_sha256(key, key_len, pieces, n, mac);
    if (ok) {
        if (prefix_len > 0)
            memcpy(out, prefix, prefix_len);
        char *text = out + prefix_len;
        size_t cap = out_len - prefix_len;
        ok = encoding == GW_HMAC_HEX
                 ? gw_hex_encode(mac, sizeof mac, text, cap) == GW_HMAC_SHA256_HEX
                 : gw_base64_encode(mac, sizeof mac, text, cap, 0) ==
                       GW_BASE64_ENCODED_LEN(GW_HMAC_SHA256_SIZE);
    }
    OPENSSL_cleanse(mac, sizeof mac);
    if (!ok) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

size_t gw_hex_encode(const unsigned char *in, size_t in_len, char *out, size_t out_cap)
{
    if (out != NULL && out_cap > 0)
        out[0] = '\0';
    if (out == NULL || (in == NULL && in_len > 0) || in_len >= SIZE_MAX / 2 ||
        in_len * 2 >= out_cap)
        return 0;
    for (size_t i = 0; i < in_len; i++) {
        for (int shift = 4; shift >= 0; shift -= 4) {
            int v = (in[i] >> shift) & 0x0f;
            /* '0' + v, plus the gap to 'a' when v > 9, computed without a branch:
             * (9 - v) >> 8 is all ones exactly when v > 9. */
            int gap = ((9 - v) >> 8) & ('a' - '0' - 10);
            out[i * 2 + (shift == 4 ? 0 : 1)] = (char)('0' + v + gap);
        }
    }
    out[in_len * 2] = '\0';
    return in_len * 2;
}

static int hex_value(unsigned char c, unsigned flags)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if ((flags & GW_HEX_ANY_CASE) && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool gw_hex_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap,
                   size_t *out_len, unsigned flags)
{
    if (out_len == NULL)
        return false;
    *out_len = 0;
    if (in_len == 0)
        return true;
    if (in == NULL || in_len % 2 != 0 || in_len / 2 > out_cap || out == NULL)
        return false;
    /* Validate everything before writing so OUT is untouched when the input is refused. */
    for (size_t i = 0; i < in_len; i++)
        if (hex_value((unsigned char)in[i], flags) < 0)
            return false;
    for (size_t i = 0; i < in_len / 2; i++)
        out[i] = (unsigned char)(hex_value((unsigned char)in[2 * i], flags) << 4 |
                                 hex_value((unsigned char)in[2 * i + 1], flags));
    *out_len = in_len / 2;
    return true;
}

bool gw_parse_unix_time(const char *text, size_t len, int64_t *ts)
{
    if (text == NULL || ts == NULL || len == 0 || len > GW_UNIX_TIME_DIGITS_MAX)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(text[i] - '0'); /* 19 digits cannot wrap a uint64_t */
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *ts = (int64_t)v;
    return true;
}

bool gw_within_window(int64_t ts, time_t now_t, uint64_t tolerance_s, char *note, size_t note_cap)
{
    uint64_t tolerance = tolerance_s ? tolerance_s : GW_DEFAULT_TOLERANCE_S;
    int64_t now = (int64_t)now_t;
    /* Differences taken in uint64_t: exact for any two int64_t values, never overflowing. */
    if (ts < now && (uint64_t)now - (uint64_t)ts > tolerance) {
        if (note != NULL && note_cap > 0)
            snprintf(note, note_cap, "timestamp %" PRIu64 " s in the past, tolerance %" PRIu64 " s",
                     (uint64_t)now - (uint64_t)ts, tolerance);
        return false;
    }
    if (ts > now && (uint64_t)ts - (uint64_t)now > tolerance) {
        if (note != NULL && note_cap > 0)
            snprintf(note, note_cap,
                     "timestamp %" PRIu64 " s in the future, tolerance %" PRIu64 " s",
                     (uint64_t)ts - (uint64_t)now, tolerance);
        return false;
    }
    return true;
}

enum gw_verify_result gw_hmac_verify_body(const struct gw_verify_input *in,
                                          struct gw_verify_detail *detail, const char *header,
                                          enum gw_hmac_encoding encoding, const char *what)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    gw_verify_set_header(detail, header);

    const char *value = gw_verify_single_header(in != NULL ? in->headers : NULL, header, detail);
    if (value == NULL)
        return GW_VERIFY_MISSING_HEADER;
    if (in->body == NULL && in->body_len > 0) {
        gw_verify_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->signed_len = in->body_len;

    /* The one length each encoding of 32 bytes has; a longer value is not read on. */
    size_t want = encoding == GW_HMAC_HEX ? (size_t)GW_HMAC_SHA256_HEX
                                          : (size_t)GW_BASE64_ENCODED_LEN(GW_HMAC_SHA256_SIZE);
    unsigned char sig[GW_HMAC_SHA256_SIZE];
    size_t value_len = strnlen(value, want + 1);
    size_t sig_len = 0;
    bool decoded = value_len == want &&
                   (encoding == GW_HMAC_HEX
                        ? gw_hex_decode(value, value_len, sig, sizeof sig, &sig_len, 0)
                        : gw_base64_decode(value, value_len, sig, sizeof sig, &sig_len, 0)) &&
                   sig_len == sizeof sig;
    if (!decoded) {
        if (encoding == GW_HMAC_HEX)
            gw_verify_note(detail, "%s must be %d lowercase hex digits", header,
                           GW_HMAC_SHA256_HEX);
        else
            gw_verify_note(detail, "%s must be the padded base64 of %d bytes (%d characters)",
                           header, GW_HMAC_SHA256_SIZE, (int)want);
        return GW_VERIFY_MALFORMED_HEADER;
    }

    const struct gw_hmac_piece body = {in->body, in->body_len};
    char usable[96];
    snprintf(usable, sizeof usable, "%s, not empty", what);
    const struct gw_hmac_check chk = {.secrets = in->secrets,
                                      .n_secrets = in->n_secrets,
                                      .pieces = &body,
                                      .n_pieces = 1,
                                      .candidates = sig,
                                      .n_candidates = 1,
                                      .usable = usable};
    struct gw_hmac_match m;
    enum gw_verify_result r = gw_hmac_check(&chk, detail, &m);
    OPENSSL_cleanse(sig, sizeof sig);
    if (r == GW_VERIFY_NO_SECRET_MATCHED)
        gw_verify_note(detail, "the signature matches none of %zu usable secrets", m.usable);
    return r == GW_VERIFY_OK ? gw_hmac_verified(detail, m.index) : r;
}
