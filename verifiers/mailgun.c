/* mailgun.c — verifies (and, for tests and tools, signs) Mailgun route forwards:
 * hex(HMAC-SHA256(signing key, timestamp + token)) in the form fields. The replay cache is
 * the caller's (in->replay_seen; gateway/net/mailgun_cache.c). */
#include "verifiers/mailgun.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "verifiers/form.h"
#include "verifiers/hmac.h"
#include "verifiers/sign.h"

#define CT_HEADER   "Content-Type"
#define F_TIMESTAMP "timestamp"
#define F_TOKEN     "token"
#define F_SIGNATURE "signature"
#define F_PARENT    "parent-signature"

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

/* The form type of the request's one Content-Type. GW_VERIFY_OK when it is a form. */
static enum gw_verify_result read_content_type(const struct gw_verify_input *in,
                                               struct gw_form_type *type,
                                               struct gw_verify_detail *detail)
{
    const struct gw_headers *headers = gw_verify_headers(in);
    size_t ct_count = gw_headers_count(headers, CT_HEADER);
    const char *ct = gw_headers_get(headers, CT_HEADER);
    gw_verify_set_header(detail, CT_HEADER);
    if (ct_count == 0 || ct == NULL) {
        gw_verify_note(detail, "%s is missing", CT_HEADER);
        return GW_VERIFY_MISSING_HEADER;
    }
    if (ct_count > 1) {
        gw_verify_note(detail, "%s appears %zu times, exactly once is needed", CT_HEADER, ct_count);
        return GW_VERIFY_MISSING_HEADER;
    }
    if (!gw_form_content_type(ct, type)) {
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
    return GW_VERIFY_OK;
}

/* The signed fields of one request, each buffer one byte longer than the longest valid value
 * so that a longer one is seen as such. */
struct signed_form {
    char ts_text[GW_UNIX_TIME_DIGITS_MAX + 2];
    char token[GW_MAILGUN_TOKEN_MAX + 2];
    char sig_text[GW_HMAC_SHA256_HEX + 2];
    char parent_text[GW_HMAC_SHA256_HEX + 2];
    struct gw_form_field fields[4]; /* timestamp, token, signature, parent-signature */
    int64_t ts;
    unsigned char sigs[2 * GW_HMAC_SHA256_SIZE]; /* signature, then parent-signature */
    size_t n_sigs;
};

/* Reads the form and checks each field once and of its form. */
static enum gw_verify_result read_fields(const struct gw_verify_input *in,
                                         const struct gw_form_type *type, struct signed_form *f,
                                         struct gw_verify_detail *detail)
{
    f->fields[0] =
        (struct gw_form_field){.name = F_TIMESTAMP, .value = f->ts_text, .cap = sizeof f->ts_text};
    f->fields[1] =
        (struct gw_form_field){.name = F_TOKEN, .value = f->token, .cap = sizeof f->token};
    f->fields[2] = (struct gw_form_field){
        .name = F_SIGNATURE, .value = f->sig_text, .cap = sizeof f->sig_text};
    f->fields[3] = (struct gw_form_field){
        .name = F_PARENT, .value = f->parent_text, .cap = sizeof f->parent_text};
    struct gw_form_error err = {0, ""};
    if (!gw_form_read(type, in->body, in->body_len, f->fields, 4, &err)) {
        gw_verify_note(detail, "the body is not a valid %s form: %s at byte %zu",
                       type->kind == GW_FORM_MULTIPART ? "multipart" : "urlencoded", err.what,
                       err.offset);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    for (size_t i = 0; i < 4; i++)
        if (field_missing(&f->fields[i], i < 3, detail))
            return GW_VERIFY_MISSING_HEADER;
    const struct gw_form_field *f_ts = &f->fields[0], *f_token = &f->fields[1];
    if (f_ts->too_long || !gw_parse_unix_time(f->ts_text, f_ts->len, &f->ts)) {
        gw_verify_set_header(detail, F_TIMESTAMP);
        gw_verify_note(detail, "form field %s must be 1..%d decimal digits (unix seconds)",
                       F_TIMESTAMP, GW_UNIX_TIME_DIGITS_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->timestamp = f->ts;
    if (f_token->too_long || !valid_token(f->token, f_token->len)) {
        gw_verify_set_header(detail, F_TOKEN);
        gw_verify_note(detail,
                       "form field %s must be 1..%d bytes of printable ASCII without spaces",
                       F_TOKEN, GW_MAILGUN_TOKEN_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->signed_len = f_ts->len + f_token->len;
    for (size_t i = 2; i < 4; i++) {
        if (f->fields[i].count == 0)
            continue;
        if (!parse_signature(&f->fields[i], f->sigs + f->n_sigs * GW_HMAC_SHA256_SIZE)) {
            gw_verify_set_header(detail, f->fields[i].name);
            gw_verify_note(detail, "form field %s must be %d lowercase hex digits",
                           f->fields[i].name, GW_HMAC_SHA256_HEX);
            return GW_VERIFY_MALFORMED_HEADER;
        }
        f->n_sigs++;
    }
    return GW_VERIFY_OK;
}

/* A signature of timestamp and token matching one of the secrets. */
static enum gw_verify_result check_signature(const struct gw_verify_input *in,
                                             const struct signed_form *f,
                                             struct gw_verify_detail *detail,
                                             struct gw_hmac_match *m)
{
    const struct gw_hmac_piece pieces[] = {{f->ts_text, f->fields[0].len},
                                           {f->token, f->fields[1].len}};
    const struct gw_hmac_check chk = {.secrets = in->secrets,
                                      .n_secrets = in->n_secrets,
                                      .pieces = pieces,
                                      .n_pieces = 2,
                                      .candidates = f->sigs,
                                      .n_candidates = f->n_sigs,
                                      .usable = "the HTTP webhook signing key"};
    enum gw_verify_result r = gw_hmac_check(&chk, detail, m);
    if (r == GW_VERIFY_KEY_UNUSABLE)
        return r;
    gw_verify_set_header(detail, F_SIGNATURE);
    if (r == GW_VERIFY_NO_SECRET_MATCHED)
        gw_verify_note(detail, "%s matches none of %zu usable secrets",
                       f->n_sigs > 1 ? "neither signature nor parent-signature" : "the signature",
                       m->usable);
    return r;
}

/* The token not used before within its window (the caller's replay cache, when it has one). */
static enum gw_verify_result check_replay(const struct gw_verify_input *in,
                                          const struct signed_form *f,
                                          struct gw_verify_detail *detail)
{
    if (in->replay_seen == NULL)
        return GW_VERIFY_OK;
    uint64_t tolerance = in->tolerance_s ? in->tolerance_s : GW_DEFAULT_TOLERANCE_S;
    /* Saturating: a timestamp near INT64_MAX keeps its token for ever, which is right. */
    int64_t expires = (uint64_t)INT64_MAX - (uint64_t)f->ts < tolerance
                          ? INT64_MAX
                          : (int64_t)((uint64_t)f->ts + tolerance);
    char why[sizeof detail->note];
    why[0] = '\0';
    if (!in->replay_seen(in->replay_ctx, f->ts_text, f->fields[0].len, f->token, f->fields[1].len,
                         expires, (int64_t)in->now, why, sizeof why))
        return GW_VERIFY_OK;
    gw_verify_set_header(detail, F_TOKEN);
    gw_verify_note(detail, "%s", why[0] != '\0' ? why : "token refused by the replay cache");
    return GW_VERIFY_TIMESTAMP_OUTSIDE;
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
    struct gw_form_type type;
    struct signed_form f = {.n_sigs = 0};
    struct gw_hmac_match m;
    enum gw_verify_result r = read_content_type(in, &type, detail);
    if (r == GW_VERIFY_OK)
        r = read_fields(in, &type, &f, detail);
    if (r == GW_VERIFY_OK &&
        !gw_within_window(f.ts, in->now, in->tolerance_s, detail->note, sizeof detail->note)) {
        gw_verify_set_header(detail, F_TIMESTAMP);
        r = GW_VERIFY_TIMESTAMP_OUTSIDE;
    }
    if (r == GW_VERIFY_OK)
        r = check_signature(in, &f, detail, &m);
    OPENSSL_cleanse(f.sigs, sizeof f.sigs);
    if (r == GW_VERIFY_OK)
        r = check_replay(in, &f, detail);
    return r == GW_VERIFY_OK ? gw_hmac_verified(detail, m.index) : r;
}

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

/* Mailgun signs timestamp + token, which travel as form fields: they are appended to the
 * body (itself form-urlencoded fields, or empty) rather than sent as headers. */
static int sign_mailgun(const struct gw_secret *secret, const struct gw_sign_params *p,
                        struct gw_signed *out, char *err, size_t err_len)
{
    char token[GW_MAILGUN_TOKEN_MAX + 1];
    char sig[GW_MAILGUN_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (p->id != NULL) {
        if (strlen(p->id) >= sizeof token) {
            gw_sign_error(err, err_len, "the token is longer than %d bytes", GW_MAILGUN_TOKEN_MAX);
            return -1;
        }
        snprintf(token, sizeof token, "%s", p->id);
    } else if (gw_sign_random_id("", token, sizeof token) != 0) {
        gw_sign_error(err, err_len, "no random bytes for a token");
        return -1;
    }
    if (gw_mailgun_sign(secret, p->timestamp, token, sig, sizeof sig) != 0) {
        gw_sign_error(err, err_len,
                      "cannot sign: empty secret, negative timestamp, or a token that is not 1..%d "
                      "printable characters without spaces",
                      GW_MAILGUN_TOKEN_MAX);
        return -1;
    }
    /* The token was checked by gw_mailgun_sign: printable ASCII without spaces. Only '%',
     * '&', '+' and '=' would change meaning in a form, so those are refused here. */
    if (strpbrk(token, "%&+=") != NULL) {
        gw_sign_error(err, err_len, "a token for a form must not contain %%, &, + or =");
        return -1;
    }
    bool need_amp = p->body_len > 0 && p->body[p->body_len - 1] != '&';
    int n = snprintf(out->body_suffix, sizeof out->body_suffix,
                     "%stimestamp=%" PRId64 "&token=%s&signature=%s", need_amp ? "&" : "",
                     p->timestamp, token, sig);
    if (n < 0 || (size_t)n >= sizeof out->body_suffix) {
        gw_sign_error(err, err_len, "the signed fields do not fit");
        return -1;
    }
    out->body_suffix_len = (size_t)n;
    return 0;
}

const struct gw_verifier gw_verifier_mailgun = {
    .name = "mailgun",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_SECRETS | GW_SCHEME_NEEDS_REPLAY_CACHE,
    .content_type = "application/x-www-form-urlencoded",
    .sign = sign_mailgun,
};
