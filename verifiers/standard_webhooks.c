/* standard_webhooks.c — verifies (and, for tests and tools, signs) Standard Webhooks v1
 * signatures: HMAC-SHA256(key, id "." timestamp "." body), base64, in "v1,<sig>" entries. */
#include "verifiers/standard_webhooks.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "verifiers/base64.h"
#include "verifiers/hmac.h"
#include "verifiers/sign.h"

#define ID_MAX          256  /* bytes of webhook-id */
#define TS_DIGITS_MAX   19   /* INT64_MAX has 19 digits */
#define KEY_MAX         256  /* bytes of a decoded secret */
#define SIG_BYTES       32   /* HMAC-SHA256 */
#define SIG_HEADER_MAX  8192 /* bytes of webhook-signature */
#define SIG_ENTRIES_MAX 32   /* entries in webhook-signature */
#define SECRET_PREFIX   "whsec_"

struct header_names {
    const char *id;
    const char *timestamp;
    const char *signature;
};

static const struct header_names webhook_names = {"webhook-id", "webhook-timestamp",
                                                  "webhook-signature"};
/* Producers that brand the prefix (Svix itself) send the same scheme under these names. */
static const struct header_names svix_names = {"svix-id", "svix-timestamp", "svix-signature"};

/* The v1 signatures found in one webhook-signature value. */
struct signatures {
    unsigned char sig[SIG_ENTRIES_MAX][SIG_BYTES];
    size_t n;       /* well-formed v1 entries, stored in sig */
    size_t entries; /* all entries, whatever their form */
};

/* The webhook-* names unless none of them is present and some svix-* one is, so that a
 * request mixing both sets is judged (and refused) by the standard names alone. */
static const struct header_names *pick_names(const struct gw_headers *headers)
{
    const struct header_names *sets[] = {&webhook_names, &svix_names};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (gw_headers_count(headers, sets[i]->id) > 0 ||
            gw_headers_count(headers, sets[i]->timestamp) > 0 ||
            gw_headers_count(headers, sets[i]->signature) > 0)
            return sets[i];
    return &webhook_names;
}

/* 1..ID_MAX bytes of printable ASCII without spaces. */
static bool valid_id(const char *id, size_t *len)
{
    size_t n = strnlen(id, ID_MAX + 1);
    if (n == 0 || n > ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] < 0x21 || (unsigned char)id[i] > 0x7e)
            return false;
    *len = n;
    return true;
}

/* 1..TS_DIGITS_MAX decimal digits and nothing else (no sign, no space), at most INT64_MAX. */
static bool parse_timestamp(const char *s, int64_t *ts, size_t *len)
{
    size_t n = strnlen(s, TS_DIGITS_MAX + 1);
    if (n == 0 || n > TS_DIGITS_MAX)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot wrap a uint64_t */
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *ts = (int64_t)v;
    *len = n;
    return true;
}

/* Splits VALUE into space-separated entries and keeps the v1 ones whose signature is the
 * canonical padded base64 of 32 bytes — the exact form the reference libraries emit and
 * compare against. Other versions (v1a is Ed25519, which no secret here can check) and
 * damaged v1 entries are skipped so that one bad entry cannot hide a good one. Returns false,
 * with the note set, when the value as a whole is refused. */
static bool parse_signatures(const char *value, struct signatures *out,
                             struct gw_verify_detail *detail)
{
    size_t len = strnlen(value, SIG_HEADER_MAX + 1);
    if (len > SIG_HEADER_MAX) {
        gw_verify_note(detail, "longer than %d bytes", SIG_HEADER_MAX);
        return false;
    }
    out->n = 0;
    out->entries = 0;
    size_t i = 0;
    while (i < len) {
        if (value[i] == ' ') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && value[i] != ' ')
            i++;
        const char *entry = value + start;
        size_t entry_len = i - start;
        if (++out->entries > SIG_ENTRIES_MAX) {
            gw_verify_note(detail, "more than %d entries", SIG_ENTRIES_MAX);
            return false;
        }
        const char *comma = memchr(entry, ',', entry_len);
        if (comma == NULL || comma - entry != 2 || memcmp(entry, "v1", 2) != 0)
            continue;
        size_t sig_len = 0;
        if (gw_base64_decode(comma + 1, entry_len - 3, out->sig[out->n], SIG_BYTES, &sig_len, 0) &&
            sig_len == SIG_BYTES)
            out->n++;
    }
    if (out->n == 0) {
        gw_verify_note(detail, "no v1 entry with a base64 signature of %d bytes among %zu entries",
                       SIG_BYTES, out->entries);
        return false;
    }
    return true;
}

/* KEY from "whsec_" + base64 or the base64 alone. Padding and the unused low bits are
 * treated as leniently as the reference libraries do, so that a secret they accept works
 * here too; the result must still be 1..KEY_MAX bytes. */
static bool decode_secret(const struct gw_secret *secret, unsigned char key[KEY_MAX],
                          size_t *key_len)
{
    if (secret == NULL || secret->data == NULL)
        return false;
    const char *b64 = secret->data;
    size_t b64_len = secret->len;
    size_t prefix_len = sizeof SECRET_PREFIX - 1;
    if (b64_len >= prefix_len && memcmp(b64, SECRET_PREFIX, prefix_len) == 0) {
        b64 += prefix_len;
        b64_len -= prefix_len;
    }
    if (b64_len > GW_BASE64_ENCODED_LEN(KEY_MAX))
        return false;
    if (!gw_base64_decode(b64, b64_len, key, KEY_MAX, key_len,
                          GW_BASE64_NOPAD | GW_BASE64_LAX_BITS))
        return false;
    return *key_len > 0;
}

/* The signed message, ID "." TS "." BODY, as pieces so the body is never copied. */
static void content_pieces(struct gw_hmac_piece pieces[5], const char *id, size_t id_len,
                           const char *ts, size_t ts_len, const unsigned char *body,
                           size_t body_len)
{
    pieces[0] = (struct gw_hmac_piece){id, id_len};
    pieces[1] = (struct gw_hmac_piece){".", 1};
    pieces[2] = (struct gw_hmac_piece){ts, ts_len};
    pieces[3] = (struct gw_hmac_piece){".", 1};
    pieces[4] = (struct gw_hmac_piece){body, body_len};
}

_Static_assert(KEY_MAX <= GW_HMAC_KEY_MAX, "a decoded secret fits gw_hmac_check's key");

/* The three headers of one request, each present once, and what they hold. */
struct signed_headers {
    const struct header_names *names;
    const char *id, *ts_text, *sig_value;
    size_t id_len, ts_len;
    int64_t ts;
};

/* Each header present once (repeated is reported as missing, as verifier.h says: there is no
 * single value to verify, and picking one would let a proxy's added copy decide the
 * outcome), then id and timestamp of their form. */
static enum gw_verify_result read_headers(const struct gw_verify_input *in,
                                          struct signed_headers *h, struct gw_verify_detail *detail)
{
    const struct gw_headers *headers = gw_verify_headers(in);
    h->names = pick_names(headers);
    const char *wanted[3] = {h->names->id, h->names->timestamp, h->names->signature};
    const char *values[3];
    for (size_t i = 0; i < 3; i++) {
        size_t count = gw_headers_count(headers, wanted[i]);
        values[i] = gw_headers_get(headers, wanted[i]);
        if (count == 0 || values[i] == NULL || count > 1) {
            gw_verify_set_header(detail, wanted[i]);
            if (count > 1)
                gw_verify_note(detail, "%s appears %zu times, exactly once is needed", wanted[i],
                               count);
            else
                gw_verify_note(detail, "%s is missing", wanted[i]);
            return GW_VERIFY_MISSING_HEADER;
        }
    }
    h->id = values[0];
    h->ts_text = values[1];
    h->sig_value = values[2];
    if (!valid_id(h->id, &h->id_len)) {
        gw_verify_set_header(detail, h->names->id);
        gw_verify_note(detail, "%s must be 1..%d bytes of printable ASCII without spaces",
                       h->names->id, ID_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    if (!parse_timestamp(h->ts_text, &h->ts, &h->ts_len)) {
        gw_verify_set_header(detail, h->names->timestamp);
        gw_verify_note(detail, "%s must be 1..%d decimal digits (unix seconds)",
                       h->names->timestamp, TS_DIGITS_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->timestamp = h->ts;
    return GW_VERIFY_OK;
}

/* A v1 entry of SIGS matching one of the secrets over "id.timestamp.body". */
static enum gw_verify_result check_signatures(const struct gw_verify_input *in,
                                              const struct signed_headers *h,
                                              const struct signatures *sigs,
                                              struct gw_verify_detail *detail)
{
    struct gw_hmac_piece pieces[5];
    content_pieces(pieces, h->id, h->id_len, h->ts_text, h->ts_len, in->body, in->body_len);
    char usable[64];
    snprintf(usable, sizeof usable, "whsec_ + base64 of 1..%d bytes", KEY_MAX);
    const struct gw_hmac_check chk = {.secrets = in->secrets,
                                      .n_secrets = in->n_secrets,
                                      .key_of = decode_secret,
                                      .pieces = pieces,
                                      .n_pieces = sizeof pieces / sizeof pieces[0],
                                      .candidates = sigs->sig[0],
                                      .n_candidates = sigs->n,
                                      .usable = usable};
    struct gw_hmac_match m;
    enum gw_verify_result r = gw_hmac_check(&chk, detail, &m);
    if (r == GW_VERIFY_KEY_UNUSABLE)
        return r;
    gw_verify_set_header(detail, h->names->signature);
    if (r == GW_VERIFY_NO_SECRET_MATCHED)
        gw_verify_note(detail, "none of %zu v1 signatures matches any of %zu usable secrets",
                       sigs->n, m.usable);
    return r == GW_VERIFY_OK ? gw_hmac_verified(detail, m.index) : r;
}

/* Checks, in order: each header present once; id and timestamp of their form; the signature
 * header of its form; the timestamp inside the window (before any HMAC, so replays cost
 * little); at least one usable secret; a v1 entry matching one of them. Syntax comes first
 * so that a broken producer is reported as such whatever its clock says. */
static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    struct signed_headers h;
    enum gw_verify_result r = read_headers(in, &h, detail);
    if (r != GW_VERIFY_OK)
        return r;
    if (in->body == NULL && in->body_len > 0) {
        gw_verify_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    /* id_len + ts_len + 2 <= 277, and a body that fits in memory leaves that much room. */
    detail->signed_len = h.id_len + 1 + h.ts_len + 1 + in->body_len;
    struct signatures sigs;
    if (!parse_signatures(h.sig_value, &sigs, detail)) {
        gw_verify_set_header(detail, h.names->signature);
        r = GW_VERIFY_MALFORMED_HEADER;
    } else if (!gw_within_window(h.ts, in->now, in->tolerance_s, detail->note,
                                 sizeof detail->note)) {
        gw_verify_set_header(detail, h.names->timestamp);
        r = GW_VERIFY_TIMESTAMP_OUTSIDE;
    } else {
        r = check_signatures(in, &h, &sigs, detail);
    }
    OPENSSL_cleanse(&sigs, sizeof sigs);
    return r;
}

int gw_standard_webhooks_sign(const struct gw_secret *secret, const char *msg_id, int64_t timestamp,
                              const unsigned char *body, size_t body_len, char *out, size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    size_t id_len = 0;
    if (out == NULL || out_len < GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE || msg_id == NULL ||
        !valid_id(msg_id, &id_len) || timestamp < 0 || (body == NULL && body_len > 0))
        return -1;
    char ts[TS_DIGITS_MAX + 1];
    int ts_len = snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    if (ts_len <= 0 || (size_t)ts_len >= sizeof ts)
        return -1;

    unsigned char key[KEY_MAX];
    size_t key_len = 0;
    struct gw_hmac_piece pieces[5];
    content_pieces(pieces, msg_id, id_len, ts, (size_t)ts_len, body, body_len);
    int rc = decode_secret(secret, key, &key_len)
                 ? gw_hmac_sign(key, key_len, pieces, sizeof pieces / sizeof pieces[0],
                                GW_HMAC_BASE64, "v1,", out, out_len)
                 : -1;
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static int sign_standard_webhooks(const struct gw_secret *secret, const struct gw_sign_params *p,
                                  struct gw_signed *out, char *err, size_t err_len)
{
    char id[GW_SIGNED_VALUE_MAX];
    char ts[GW_UNIX_TIME_DIGITS_MAX + 1];
    char sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (p->id != NULL) {
        if (strlen(p->id) >= sizeof id) {
            gw_sign_error(err, err_len, "the id is longer than %zu bytes", sizeof id - 1);
            return -1;
        }
        snprintf(id, sizeof id, "%s", p->id);
    } else if (gw_sign_random_id("msg_", id, sizeof id) != 0) {
        gw_sign_error(err, err_len, "no random bytes for a message id");
        return -1;
    }
    if (gw_sign_timestamp_text(p->timestamp, ts, sizeof ts) != 0 ||
        gw_standard_webhooks_sign(secret, id, p->timestamp, p->body, p->body_len, sig,
                                  sizeof sig) != 0) {
        gw_sign_error(err, err_len,
                      "cannot sign: the secret must be whsec_ + base64, the id 1..256 printable "
                      "characters without spaces, the timestamp not negative");
        return -1;
    }
    if (gw_signed_add_header(out, "webhook-id", id) != 0 ||
        gw_signed_add_header(out, "webhook-timestamp", ts) != 0 ||
        gw_signed_add_header(out, "webhook-signature", sig) != 0)
        return -1;
    return 0;
}

const struct gw_verifier gw_verifier_standard_webhooks = {
    .name = "standard-webhooks",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS,
    .content_type = "application/json",
    .sign = sign_standard_webhooks,
};
