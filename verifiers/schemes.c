/* schemes.c — the table of authentication schemes by name, with the signers of the HMAC and
 * Standard Webhooks families wrapped to one shape so tools can sign for any of them. */
#include "verifiers/schemes.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "verifiers/asana.h"
#include "verifiers/basic_auth.h"
#include "verifiers/ghl.h"
#include "verifiers/hmac.h"
#include "verifiers/mailgun.h"
#include "verifiers/slack.h"
#include "verifiers/sns.h"
#include "verifiers/standard_webhooks.h"
#include "verifiers/stripe.h"
#include "verifiers/token.h"
#include "verifiers/xero.h"

#define RANDOM_ID_BYTES 12 /* 96 bits: ids made here never collide in practice */

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t err_len,
                                                          const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* Appends one header; names and values here are short literals and fixed-size signatures. */
static int add_header(struct gw_signed *out, const char *name, const char *value)
{
    if (out->n_headers >= GW_SIGNED_HEADERS_MAX || strlen(name) >= GW_SIGNED_NAME_MAX ||
        strlen(value) >= GW_SIGNED_VALUE_MAX)
        return -1;
    snprintf(out->headers[out->n_headers].name, GW_SIGNED_NAME_MAX, "%s", name);
    snprintf(out->headers[out->n_headers].value, GW_SIGNED_VALUE_MAX, "%s", value);
    out->n_headers++;
    return 0;
}

/* PREFIX + hex of random bytes, for ids the caller did not choose. */
static int random_id(const char *prefix, char *out, size_t out_len)
{
    unsigned char raw[RANDOM_ID_BYTES];
    char hex[2 * RANDOM_ID_BYTES + 1];
    if (RAND_bytes(raw, (int)sizeof raw) != 1 ||
        gw_hex_encode(raw, sizeof raw, hex, sizeof hex) == 0)
        return -1;
    int n = snprintf(out, out_len, "%s%s", prefix, hex);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

static int timestamp_text(int64_t ts, char *out, size_t out_len)
{
    int n = snprintf(out, out_len, "%" PRId64, ts);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
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
            set_err(err, err_len, "the id is longer than %zu bytes", sizeof id - 1);
            return -1;
        }
        snprintf(id, sizeof id, "%s", p->id);
    } else if (random_id("msg_", id, sizeof id) != 0) {
        set_err(err, err_len, "no random bytes for a message id");
        return -1;
    }
    if (timestamp_text(p->timestamp, ts, sizeof ts) != 0 ||
        gw_standard_webhooks_sign(secret, id, p->timestamp, p->body, p->body_len, sig,
                                  sizeof sig) != 0) {
        set_err(err, err_len,
                "cannot sign: the secret must be whsec_ + base64, the id 1..256 printable "
                "characters without spaces, the timestamp not negative");
        return -1;
    }
    if (add_header(out, "webhook-id", id) != 0 || add_header(out, "webhook-timestamp", ts) != 0 ||
        add_header(out, "webhook-signature", sig) != 0)
        return -1;
    return 0;
}

static int sign_slack(const struct gw_secret *secret, const struct gw_sign_params *p,
                      struct gw_signed *out, char *err, size_t err_len)
{
    char ts[GW_UNIX_TIME_DIGITS_MAX + 1];
    char sig[GW_SLACK_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (timestamp_text(p->timestamp, ts, sizeof ts) != 0 ||
        gw_slack_sign(secret, p->timestamp, p->body, p->body_len, sig, sizeof sig) != 0) {
        set_err(err, err_len, "cannot sign: empty secret or negative timestamp");
        return -1;
    }
    if (add_header(out, "X-Slack-Request-Timestamp", ts) != 0 ||
        add_header(out, "X-Slack-Signature", sig) != 0)
        return -1;
    return 0;
}

static int sign_xero(const struct gw_secret *secret, const struct gw_sign_params *p,
                     struct gw_signed *out, char *err, size_t err_len)
{
    char sig[GW_XERO_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (gw_xero_sign(secret, p->body, p->body_len, sig, sizeof sig) != 0) {
        set_err(err, err_len, "cannot sign: empty secret");
        return -1;
    }
    return add_header(out, "x-xero-signature", sig);
}

static int sign_stripe(const struct gw_secret *secret, const struct gw_sign_params *p,
                       struct gw_signed *out, char *err, size_t err_len)
{
    char sig[GW_STRIPE_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (gw_stripe_sign(secret, p->timestamp, p->body, p->body_len, sig, sizeof sig) != 0) {
        set_err(err, err_len, "cannot sign: empty secret or negative timestamp");
        return -1;
    }
    return add_header(out, "Stripe-Signature", sig);
}

static int sign_asana(const struct gw_secret *secret, const struct gw_sign_params *p,
                      struct gw_signed *out, char *err, size_t err_len)
{
    char sig[GW_ASANA_SIGNATURE_SIZE];
    memset(out, 0, sizeof *out);
    if (gw_asana_sign(secret, p->body, p->body_len, sig, sizeof sig) != 0) {
        set_err(err, err_len, "cannot sign: empty secret");
        return -1;
    }
    return add_header(out, "X-Hook-Signature", sig);
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
            set_err(err, err_len, "the token is longer than %d bytes", GW_MAILGUN_TOKEN_MAX);
            return -1;
        }
        snprintf(token, sizeof token, "%s", p->id);
    } else if (random_id("", token, sizeof token) != 0) {
        set_err(err, err_len, "no random bytes for a token");
        return -1;
    }
    if (gw_mailgun_sign(secret, p->timestamp, token, sig, sizeof sig) != 0) {
        set_err(err, err_len,
                "cannot sign: empty secret, negative timestamp, or a token that is not 1..%d "
                "printable characters without spaces",
                GW_MAILGUN_TOKEN_MAX);
        return -1;
    }
    /* The token was checked by gw_mailgun_sign: printable ASCII without spaces. Only '%',
     * '&', '+' and '=' would change meaning in a form, so those are refused here. */
    if (strpbrk(token, "%&+=") != NULL) {
        set_err(err, err_len, "a token for a form must not contain %%, &, + or =");
        return -1;
    }
    bool need_amp = p->body_len > 0 && p->body[p->body_len - 1] != '&';
    int n = snprintf(out->body_suffix, sizeof out->body_suffix,
                     "%stimestamp=%" PRId64 "&token=%s&signature=%s", need_amp ? "&" : "",
                     p->timestamp, token, sig);
    if (n < 0 || (size_t)n >= sizeof out->body_suffix) {
        set_err(err, err_len, "the signed fields do not fit");
        return -1;
    }
    out->body_suffix_len = (size_t)n;
    return 0;
}

const struct gw_scheme gw_schemes[] = {
    {.name = "standard-webhooks",
     .verifier = &gw_verifier_standard_webhooks,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "application/json",
     .sign = sign_standard_webhooks},
    {.name = "slack",
     .verifier = &gw_verifier_slack,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "application/x-www-form-urlencoded",
     .sign = sign_slack},
    {.name = "xero",
     .verifier = &gw_verifier_xero,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "application/json",
     .sign = sign_xero},
    {.name = "stripe",
     .verifier = &gw_verifier_stripe,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "application/json",
     .sign = sign_stripe},
    {.name = "asana",
     .verifier = &gw_verifier_asana,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "application/json",
     .sign = sign_asana},
    {.name = "mailgun",
     .verifier = &gw_verifier_mailgun,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "application/x-www-form-urlencoded",
     .sign = sign_mailgun},
    {.name = "ghl",
     .verifier = &gw_verifier_ghl,
     .needs = GW_SCHEME_NEEDS_PUBLIC_KEYS,
     .content_type = "application/json",
     .sign = NULL},
    {.name = "sns",
     .verifier = &gw_verifier_sns,
     .needs = GW_SCHEME_NEEDS_TOPICS,
     .content_type = "text/plain; charset=UTF-8",
     .sign = NULL},
    {.name = "basic-auth",
     .verifier = &gw_verifier_basic_auth,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "multipart/form-data",
     .sign = NULL},
    {.name = "token",
     .verifier = &gw_verifier_token,
     .needs = GW_SCHEME_NEEDS_SECRETS,
     .content_type = "application/json",
     .sign = NULL},
    {.name = NULL},
};

const struct gw_scheme *gw_scheme_find(const char *name)
{
    for (const struct gw_scheme *s = gw_schemes; name != NULL && s->name != NULL; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

const struct gw_scheme *gw_scheme_for_verifier(const struct gw_verifier *v)
{
    for (const struct gw_scheme *s = gw_schemes; v != NULL && s->name != NULL; s++)
        if (s->verifier == v)
            return s;
    return NULL;
}

void gw_scheme_names(char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (const struct gw_scheme *s = gw_schemes; s->name != NULL; s++) {
        int n = snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", s->name);
        if (n < 0 || (size_t)n >= len - used)
            return; /* truncated, still NUL-terminated */
        used += (size_t)n;
    }
}
