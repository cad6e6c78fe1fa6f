/* stripe.c — verifies (and, for tests and tools, signs) Stripe-Signature headers:
 * HMAC-SHA256(whsec_ secret as-is, t "." body) in one or more v1 items, lowercase hex. */
#include "verifiers/stripe.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "verifiers/hmac.h"
#include "verifiers/sign.h"

#define SIG_HEADER    "Stripe-Signature"
#define HEADER_MAX    4096 /* bytes of Stripe-Signature */
#define ITEMS_MAX     64   /* items in it, whatever their key */
#define V1_MAX        32   /* v1 items kept: one per secret being rolled, with room to spare */
#define SECRET_PREFIX "whsec_"

/* What one Stripe-Signature value holds. */
struct parsed {
    const char *ts_text; /* the t value, as sent (it is what is signed) */
    size_t ts_len;
    int64_t ts;
    unsigned char v1[V1_MAX * GW_HMAC_SHA256_SIZE];
    size_t n_v1;     /* well-formed v1 items, stored in v1 */
    size_t v1_items; /* all v1 items, whatever their form */
};

/* Parses the header as stripe.h describes. Returns false, with the note set, when the value
 * as a whole is refused. */
static bool parse(const char *value, struct parsed *out, struct gw_verify_detail *detail)
{
    size_t len = strnlen(value, HEADER_MAX + 1);
    if (len > HEADER_MAX) {
        gw_verify_note(detail, "longer than %d bytes", HEADER_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x21 || c > 0x7e) {
            gw_verify_note(detail, "byte %zu is %s; Stripe sends printable ASCII without spaces", i,
                           c == ' ' ? "a space" : "not printable ASCII");
            return false;
        }
    }
    out->ts_text = NULL;
    out->ts_len = 0;
    out->ts = 0;
    out->n_v1 = 0;
    out->v1_items = 0;
    size_t items = 0;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < len && value[i] != ',')
            i++;
        const char *item = value + start;
        size_t item_len = i - start;
        if (++items > ITEMS_MAX) {
            gw_verify_note(detail, "more than %d items", ITEMS_MAX);
            return false;
        }
        const char *eq = memchr(item, '=', item_len);
        if (item_len == 0 || eq == NULL || eq == item || eq == item + item_len - 1) {
            gw_verify_note(detail, "item %zu is not key=value (empty item, key or value)", items);
            return false;
        }
        size_t key_len = (size_t)(eq - item);
        const char *val = eq + 1;
        size_t val_len = item_len - key_len - 1;
        if (key_len == 1 && item[0] == 't') {
            if (out->ts_text != NULL) {
                gw_verify_note(detail, "t appears more than once; exactly one timestamp is needed");
                return false;
            }
            if (!gw_parse_unix_time(val, val_len, &out->ts)) {
                gw_verify_note(detail, "t must be 1..%d decimal digits (unix seconds)",
                               GW_UNIX_TIME_DIGITS_MAX);
                return false;
            }
            out->ts_text = val;
            out->ts_len = val_len;
        } else if (key_len == 2 && memcmp(item, "v1", 2) == 0) {
            if (++out->v1_items > V1_MAX) {
                gw_verify_note(detail, "more than %d v1 items", V1_MAX);
                return false;
            }
            size_t sig_len = 0;
            /* A damaged v1 is skipped so that it cannot hide a good one. */
            if (val_len == GW_HMAC_SHA256_HEX &&
                gw_hex_decode(val, val_len, out->v1 + out->n_v1 * GW_HMAC_SHA256_SIZE,
                              GW_HMAC_SHA256_SIZE, &sig_len, 0) &&
                sig_len == GW_HMAC_SHA256_SIZE)
                out->n_v1++;
        }
        /* Any other key — v0 included — is ignored. */
        if (i == len)
            break;
        i++; /* the comma; a comma at the end leaves an empty last item, refused above */
    }
    if (out->ts_text == NULL) {
        gw_verify_note(detail, "no t= timestamp");
        return false;
    }
    if (out->n_v1 == 0) {
        gw_verify_note(detail, "no v1 item with %d lowercase hex digits among %zu v1 items",
                       GW_HMAC_SHA256_HEX, out->v1_items);
        return false;
    }
    return true;
}

/* The index of the first usable secret without the whsec_ prefix, or -1: such a secret was
 * most likely pasted without it, and Stripe signs with the whole string. */
static int unprefixed_secret(const struct gw_verify_input *in)
{
    size_t prefix_len = sizeof SECRET_PREFIX - 1;
    for (size_t s = 0; s < in->n_secrets && s <= INT_MAX; s++) {
        const struct gw_secret *secret = &in->secrets[s];
        if (gw_hmac_secret_usable(secret) &&
            (secret->len < prefix_len || memcmp(secret->data, SECRET_PREFIX, prefix_len) != 0))
            return (int)s;
    }
    return -1;
}

/* Checks, in order: the header present once and of its form; the timestamp inside the window
 * (before any HMAC, so replays cost little); at least one usable secret; a v1 matching one. */
static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    gw_verify_set_header(detail, SIG_HEADER);

    const char *value =
        gw_verify_single_header(in != NULL ? in->headers : NULL, SIG_HEADER, detail);
    if (value == NULL)
        return GW_VERIFY_MISSING_HEADER;

    struct parsed p;
    if (!parse(value, &p, detail)) {
        OPENSSL_cleanse(&p, sizeof p);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->timestamp = p.ts;
    if (in->body == NULL && in->body_len > 0) {
        OPENSSL_cleanse(&p, sizeof p);
        gw_verify_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    /* ts_len <= 19, and a body that fits in memory leaves that much room. */
    detail->signed_len = p.ts_len + 1 + in->body_len;

    if (!gw_within_window(p.ts, in->now, in->tolerance_s, detail->note, sizeof detail->note)) {
        OPENSSL_cleanse(&p, sizeof p);
        return GW_VERIFY_TIMESTAMP_OUTSIDE;
    }

    const struct gw_hmac_piece pieces[] = {
        {p.ts_text, p.ts_len}, {".", 1}, {in->body, in->body_len}};
    const struct gw_hmac_check chk = {.secrets = in->secrets,
                                      .n_secrets = in->n_secrets,
                                      .pieces = pieces,
                                      .n_pieces = sizeof pieces / sizeof pieces[0],
                                      .candidates = p.v1,
                                      .n_candidates = p.n_v1,
                                      .usable = "the whsec_ signing secret"};
    struct gw_hmac_match m;
    enum gw_verify_result r = gw_hmac_check(&chk, detail, &m);
    size_t n_v1 = p.n_v1;
    OPENSSL_cleanse(&p, sizeof p);
    if (r == GW_VERIFY_NO_SECRET_MATCHED) {
        int bare = unprefixed_secret(in);
        if (bare >= 0)
            gw_verify_note(detail,
                           "none of %zu v1 signatures matches any of %zu usable secrets; secret %d "
                           "lacks the whsec_ prefix, which Stripe signs with",
                           n_v1, m.usable, bare);
        else
            gw_verify_note(detail, "none of %zu v1 signatures matches any of %zu usable secrets",
                           n_v1, m.usable);
    }
    return r == GW_VERIFY_OK ? gw_hmac_verified(detail, m.index) : r;
}

int gw_stripe_sign(const struct gw_secret *secret, int64_t timestamp, const unsigned char *body,
                   size_t body_len, char *out, size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    if (out == NULL || out_len < GW_STRIPE_SIGNATURE_SIZE || !gw_hmac_secret_usable(secret) ||
        timestamp < 0 || (body == NULL && body_len > 0))
        return -1;
    char ts[GW_UNIX_TIME_DIGITS_MAX + 1];
    int ts_len = snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    if (ts_len <= 0 || (size_t)ts_len >= sizeof ts)
        return -1;
    const struct gw_hmac_piece pieces[] = {{ts, (size_t)ts_len}, {".", 1}, {body, body_len}};
    char prefix[GW_UNIX_TIME_DIGITS_MAX + 8];
    snprintf(prefix, sizeof prefix, "t=%s,v1=", ts);
    return gw_hmac_sign(secret->data, secret->len, pieces, sizeof pieces / sizeof pieces[0],
                        GW_HMAC_HEX, prefix, out, out_len);
}

static int sign_stripe(const struct gw_secret *secret, const struct gw_sign_params *p,
                       struct gw_signed *out, char *err, size_t err_len)
{
    char sig[GW_STRIPE_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (gw_stripe_sign(secret, p->timestamp, p->body, p->body_len, sig, sizeof sig) != 0) {
        gw_sign_error(err, err_len, "cannot sign: empty secret or negative timestamp");
        return -1;
    }
    return gw_signed_add_header(out, "Stripe-Signature", sig);
}

const struct gw_verifier gw_verifier_stripe = {
    .name = "stripe",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS,
    .content_type = "application/json",
    .sign = sign_stripe,
};
