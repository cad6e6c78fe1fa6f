/* hmac.h — what the HMAC-signed schemes share: HMAC-SHA256 over several pieces, strict hex,
 * decimal Unix timestamps and the replay window, and trying every configured secret. */
#ifndef CTGW_HMAC_H
#define CTGW_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "verifiers/secret.h"
#include "verifiers/verifier.h"

#define GW_HMAC_SHA256_SIZE 32 /* bytes of an HMAC-SHA256 */
#define GW_HMAC_SHA256_HEX  64 /* its lowercase hex, without a NUL */

/* Replay window used when an input's tolerance_s is 0: five minutes, past and future. */
#define GW_DEFAULT_TOLERANCE_S 300

/* Decimal digits of INT64_MAX: the longest timestamp gw_parse_unix_time accepts. */
#define GW_UNIX_TIME_DIGITS_MAX 19

/* One piece of a signed message; the MAC covers the pieces one after another. */
struct gw_hmac_piece {
    const void *data; /* may be NULL when len is 0 */
    size_t len;
};

/* OUT = HMAC-SHA256(KEY, pieces[0] || ... || pieces[N-1]). KEY must be 1 or more bytes: an
 * empty key is refused (it would also make OpenSSL reuse a previous key). Returns false, with
 * OUT zeroed, when the key is empty, a piece is NULL with a length, or OpenSSL fails. */
bool gw_hmac_sha256(const void *key, size_t key_len, const struct gw_hmac_piece *pieces, size_t n,
                    unsigned char out[GW_HMAC_SHA256_SIZE]);

/* How a MAC is written in a header: lowercase hex, or padded standard base64. */
enum gw_hmac_encoding { GW_HMAC_HEX, GW_HMAC_BASE64 };

/* Writes PREFIX (may be NULL) then ENCODING(HMAC-SHA256(KEY, pieces)) into OUT, NUL-
 * terminated: how every HMAC scheme signs (its _sign function, `ctgw sign`, the tests and
 * bench). 0, or -1 with OUT empty when the key is empty, a piece is invalid, OUT_LEN cannot
 * hold it all or OpenSSL fails. The MAC is wiped from the stack. */
int gw_hmac_sign(const void *key, size_t key_len, const struct gw_hmac_piece *pieces, size_t n,
                 enum gw_hmac_encoding encoding, const char *prefix, char *out, size_t out_len);

/* The largest key a scheme derives from its secret (gw_hmac_check.key_of). */
#define GW_HMAC_KEY_MAX 256

/* The secrets gw_hmac_find_secret can use: data present and 1 or more bytes. The schemes
 * here all use the secret's bytes as the key exactly as configured (never decoded). */
bool gw_hmac_secret_usable(const struct gw_secret *secret);

/* What gw_hmac_find_secret found. */
struct gw_hmac_match {
    int index;     /* first secret for which some candidate matches, -1 when none */
    size_t usable; /* secrets that were usable and tried */
    bool failed;   /* OpenSSL could not compute an HMAC at all (nothing was tried) */
};

/* Computes HMAC-SHA256 of the pieces with each usable secret in turn (newest first) and
 * compares it in constant time with every one of the N_CANDIDATES signatures, which lie one
 * after another in CANDIDATES (N_CANDIDATES * GW_HMAC_SHA256_SIZE bytes), so the time taken
 * does not say which candidate matched. Stops at the first secret that matches. */
struct gw_hmac_match gw_hmac_find_secret(const struct gw_secret *secrets, size_t n_secrets,
                                         const struct gw_hmac_piece *pieces, size_t n_pieces,
                                         const unsigned char *candidates, size_t n_candidates);

/* What a scheme's verify hands gw_hmac_check. */
struct gw_hmac_check {
    const struct gw_secret *secrets;
    size_t n_secrets;
    /* Turns a secret into its key (1..GW_HMAC_KEY_MAX bytes into KEY); false when the secret
     * is not usable. NULL: the secret's bytes as configured (gw_hmac_secret_usable). */
    bool (*key_of)(const struct gw_secret *secret, unsigned char *key, size_t *key_len);
    const struct gw_hmac_piece *pieces; /* the signed message */
    size_t n_pieces;
    const unsigned char *candidates; /* n_candidates signatures of GW_HMAC_SHA256_SIZE bytes */
    size_t n_candidates;
    const char *usable; /* what a usable secret is, for the note: "the signing secret" */
};

/* The HMAC part of every HMAC scheme's verify: the search of gw_hmac_find_secret (with the
 * check's key_of), and the words for what every scheme words alike. Returns
 * GW_VERIFY_KEY_UNUSABLE, with its note, when OpenSSL has no HMAC or no secret is usable;
 * GW_VERIFY_NO_SECRET_MATCHED, without a note (the scheme names its signatures), with
 * m->usable; GW_VERIFY_OK with m->index, the secret that matched. */
enum gw_verify_result gw_hmac_check(const struct gw_hmac_check *chk,
                                    struct gw_verify_detail *detail, struct gw_hmac_match *m);

/* Records that secret INDEX verified the request and returns GW_VERIFY_OK. */
enum gw_verify_result gw_hmac_verified(struct gw_verify_detail *detail, int index);

/* Writes the lowercase hex of IN_LEN bytes into OUT, NUL-terminated, without branching or
 * indexing on the bytes (they may be a MAC). Returns the characters written, or 0 — with OUT
 * empty when OUT_CAP > 0 — when OUT_CAP cannot hold them and the NUL. */
size_t gw_hex_encode(const unsigned char *in, size_t in_len, char *out, size_t out_cap);

/* Flags for gw_hex_decode; 0 is the strict form: lowercase only, as every provider sends. */
enum {
    GW_HEX_ANY_CASE = 1u << 0, /* accept 'A'..'F' too */
};

/* Decodes the IN_LEN characters of IN into OUT (at most OUT_CAP bytes). Returns false — and
 * leaves *OUT_LEN at 0 and OUT untouched — on an odd length, a character that is not a hex
 * digit under FLAGS (spaces included), or input that does not fit. */
bool gw_hex_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap,
                   size_t *out_len, unsigned flags);

/* Parses 1..GW_UNIX_TIME_DIGITS_MAX decimal digits and nothing else (no sign, no space, no
 * NUL) of TEXT[0..LEN) into *TS, at most INT64_MAX. Leading zeros are allowed: the text is
 * what is signed, so they cannot be used to forge anything. */
bool gw_parse_unix_time(const char *text, size_t len, int64_t *ts);

/* Whether TS is at most TOLERANCE_S seconds (GW_DEFAULT_TOLERANCE_S when 0) from NOW, in
 * either direction; the edge itself is inside. When it is not, writes a sentence such as
 * "timestamp 301 s in the past, tolerance 300 s" into NOTE. Never overflows. */
bool gw_within_window(int64_t ts, time_t now, uint64_t tolerance_s, char *note, size_t note_cap);

/* OpenSSL's HMAC, fetched once per process (thread-safe); NULL if unavailable. */
EVP_MAC *gw_hmac_algorithm(void);

/* An HMAC-SHA256 context keyed with KEY and ready for updates, from a small per-thread
 * cache (freed when the thread ends); NULL when the key is over 256 bytes or OpenSSL fails,
 * in which case the caller keys a context of its own. Valid until the thread's next call. */
EVP_MAC_CTX *gw_hmac_keyed(const void *key, size_t key_len);

/* The whole check of schemes whose only header is HEADER = encoding(HMAC-SHA256(secret, raw
 * body)) with no timestamp (Xero: padded base64; Asana: lowercase hex): the header present
 * once and of its one form, at least one usable secret, a match. WHAT names the secrets in
 * the "none usable" note. Fills the detail on every path (DETAIL may be NULL). */
enum gw_verify_result gw_hmac_verify_body(const struct gw_verify_input *in,
                                          struct gw_verify_detail *detail, const char *header,
                                          enum gw_hmac_encoding encoding, const char *what);

#endif
