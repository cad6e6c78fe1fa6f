/* slack.c — verifies (and, for tests and tools, signs) Slack's v0 request signatures:
 * HMAC-SHA256(signing secret, "v0:" timestamp ":" body), lowercase hex after "v0=". */
#include "verifiers/slack.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "verifiers/hmac.h"
#include "verifiers/sign.h"

#define TS_HEADER  "X-Slack-Request-Timestamp"
#define SIG_HEADER "X-Slack-Signature"
#define SIG_PREFIX "v0="
/* Longest X-Slack-Signature value looked at: a longer one is refused without reading on. */
#define SIG_VALUE_MAX (sizeof SIG_PREFIX - 1 + GW_HMAC_SHA256_HEX)

/* "v0=" and 64 lowercase hex digits, nothing else: the one form Slack sends. */
static bool parse_signature(const char *value, unsigned char sig[GW_HMAC_SHA256_SIZE],
                            struct gw_verify_detail *detail)
{
    size_t len = strnlen(value, SIG_VALUE_MAX + 1);
    size_t prefix_len = sizeof SIG_PREFIX - 1;
    if (len < prefix_len || memcmp(value, SIG_PREFIX, prefix_len) != 0) {
        gw_verify_note(detail, "%s must start with \"v0=\", the only version Slack signs with",
                       SIG_HEADER);
        return false;
    }
    size_t sig_len = 0;
    if (len != SIG_VALUE_MAX ||
        !gw_hex_decode(value + prefix_len, len - prefix_len, sig, GW_HMAC_SHA256_SIZE, &sig_len,
                       0) ||
        sig_len != GW_HMAC_SHA256_SIZE) {
        gw_verify_note(detail, "%s must be \"v0=\" and %d lowercase hex digits", SIG_HEADER,
                       GW_HMAC_SHA256_HEX);
        return false;
    }
    return true;
}

/* Checks, in order: each header present once; the timestamp and the signature of their form;
 * the timestamp inside the window (before any HMAC, so replays cost little); at least one
 * usable secret; the signature matching one of them. */
static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);

    const struct gw_headers *headers = gw_verify_headers(in);
    const char *ts_text = gw_verify_single_header(headers, TS_HEADER, detail);
    if (ts_text == NULL)
        return GW_VERIFY_MISSING_HEADER;
    const char *sig_value = gw_verify_single_header(headers, SIG_HEADER, detail);
    if (sig_value == NULL)
        return GW_VERIFY_MISSING_HEADER;

    int64_t ts = 0;
    size_t ts_len = strnlen(ts_text, GW_UNIX_TIME_DIGITS_MAX + 1);
    if (!gw_parse_unix_time(ts_text, ts_len, &ts)) {
        gw_verify_set_header(detail, TS_HEADER);
        gw_verify_note(detail, "%s must be 1..%d decimal digits (unix seconds)", TS_HEADER,
                       GW_UNIX_TIME_DIGITS_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->timestamp = ts;
    if (in->body == NULL && in->body_len > 0) {
        gw_verify_note(detail, "body of %zu bytes given without its bytes", in->body_len);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    /* 3 + ts_len + 1 <= 23, and a body that fits in memory leaves that much room. */
    detail->signed_len = 3 + ts_len + 1 + in->body_len;

    unsigned char sig[GW_HMAC_SHA256_SIZE];
    if (!parse_signature(sig_value, sig, detail)) {
        gw_verify_set_header(detail, SIG_HEADER);
        return GW_VERIFY_MALFORMED_HEADER;
    }

    if (!gw_within_window(ts, in->now, in->tolerance_s, detail->note, sizeof detail->note)) {
        gw_verify_set_header(detail, TS_HEADER);
        return GW_VERIFY_TIMESTAMP_OUTSIDE;
    }

    const struct gw_hmac_piece pieces[] = {
        {"v0:", 3}, {ts_text, ts_len}, {":", 1}, {in->body, in->body_len}};
    const struct gw_hmac_check chk = {.secrets = in->secrets,
                                      .n_secrets = in->n_secrets,
                                      .pieces = pieces,
                                      .n_pieces = sizeof pieces / sizeof pieces[0],
                                      .candidates = sig,
                                      .n_candidates = 1,
                                      .usable = "the signing secret, not empty"};
    struct gw_hmac_match m;
    enum gw_verify_result r = gw_hmac_check(&chk, detail, &m);
    OPENSSL_cleanse(sig, sizeof sig);
    if (r == GW_VERIFY_KEY_UNUSABLE)
        return r;
    gw_verify_set_header(detail, SIG_HEADER);
    if (r == GW_VERIFY_NO_SECRET_MATCHED)
        gw_verify_note(detail, "the v0 signature matches none of %zu usable secrets", m.usable);
    return r == GW_VERIFY_OK ? gw_hmac_verified(detail, m.index) : r;
}

int gw_slack_sign(const struct gw_secret *secret, int64_t timestamp, const unsigned char *body,
                  size_t body_len, char *out, size_t out_len)
{
    if (out != NULL && out_len > 0)
        out[0] = '\0';
    if (out == NULL || out_len < GW_SLACK_SIGNATURE_SIZE || !gw_hmac_secret_usable(secret) ||
        timestamp < 0 || (body == NULL && body_len > 0))
        return -1;
    char ts[GW_UNIX_TIME_DIGITS_MAX + 1];
    int ts_len = snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    if (ts_len <= 0 || (size_t)ts_len >= sizeof ts)
        return -1;
    const struct gw_hmac_piece pieces[] = {
        {"v0:", 3}, {ts, (size_t)ts_len}, {":", 1}, {body, body_len}};
    return gw_hmac_sign(secret->data, secret->len, pieces, sizeof pieces / sizeof pieces[0],
                        GW_HMAC_HEX, SIG_PREFIX, out, out_len);
}

static int sign_slack(const struct gw_secret *secret, const struct gw_sign_params *p,
                      struct gw_signed *out, char *err, size_t err_len)
{
    char ts[GW_UNIX_TIME_DIGITS_MAX + 1];
    char sig[GW_SLACK_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (gw_sign_timestamp_text(p->timestamp, ts, sizeof ts) != 0 ||
        gw_slack_sign(secret, p->timestamp, p->body, p->body_len, sig, sizeof sig) != 0) {
        gw_sign_error(err, err_len, "cannot sign: empty secret or negative timestamp");
        return -1;
    }
    if (gw_signed_add_header(out, "X-Slack-Request-Timestamp", ts) != 0 ||
        gw_signed_add_header(out, "X-Slack-Signature", sig) != 0)
        return -1;
    return 0;
}

const struct gw_verifier gw_verifier_slack = {
    .name = "slack",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS,
    .content_type = "application/x-www-form-urlencoded",
    .sign = sign_slack,
};
