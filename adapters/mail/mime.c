/* mime.c — provider `email-mime`: a relay POSTs one raw message (Content-Type:
 * message/rfc822) with the envelope recipient in X-Original-To, authenticated with HTTP
 * Basic (username, password) or a token (token, header). Stored with the dedupe key
 * Message-ID + recipient and answered 202; a worker applies it through the mail core
 * (apply.h), which finds the company from the recipients unless the endpoint names one. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "adapters/credential_auth.h"
#include "adapters/mail/apply.h"
#include "adapters/mail/envelope.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "verifiers/basic_auth.h"

#define EP(field) offsetof(struct gw_endpoint_config, field)

static const char *const media_types[] = {"message/rfc822", NULL};
static const char *const stored_headers[] = {GW_MAIL_RECIPIENT_HEADER, NULL};

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    char rcpt[GW_MAIL_RECIPIENT_SIZE] = "";
    size_t count = gw_headers_count(in->headers, GW_MAIL_RECIPIENT_HEADER);
    const char *given = gw_headers_get(in->headers, GW_MAIL_RECIPIENT_HEADER);
    /* Two recipients would make two copies: a relay sends each copy on its own. */
    if (count > 1 || (given != NULL && !gw_mail_recipient_clean(given, rcpt))) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_recipient\"}");
        return GW_ENVELOPE_ANSWER;
    }
    if (!gw_mail_looks_like_message(in->body, in->body_len)) {
        gw_answer_set(answer, 400, "{\"error\":\"not_a_message\"}");
        return GW_ENVELOPE_ANSWER;
    }
    gw_mail_dedupe_key(in->body, in->body_len, rcpt, out[0].dedupe_key);
    out[0].tenant[0] = '\0'; /* the worker finds the company (GW_PROVIDER_OWN_ROUTING) */
    *n = 1;
    return GW_ENVELOPE_STORE;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    cJSON *headers = ctx->headers != NULL ? cJSON_Parse(ctx->headers) : NULL;
    const cJSON *rcpt = cJSON_GetObjectItemCaseSensitive(headers, GW_MAIL_RECIPIENT_HEADER);
    struct gw_mail_delivery d = {
        .raw = ctx->body,
        .len = ctx->body_len,
        .recipient = cJSON_IsString(rcpt) ? rcpt->valuestring : NULL,
    };
    enum gw_apply_rc rc = gw_mail_apply(ctx, &d);
    cJSON_Delete(headers);
    return rc;
}

static void answer(enum gw_outcome outcome, const struct gw_stored *stored, struct gw_answer *a)
{
    (void)outcome; /* stored, a repeat, or no company: the relay has nothing to do again */
    gw_answer_set(a, 202, "{\"id\":\"%llu\"}", (unsigned long long)stored->event_id);
}

/* Exactly one way to authenticate, and a header only for a token. */
static void setup(struct gw_endpoint_config *ep, struct gw_cfg_setup *s)
{
    gw_credential_setup("email-mime", ep, s);
}

static const struct gw_cfg_key endpoint_keys[] = {
    {.name = "company", .type = GW_CFG_SLUG, .offset = EP(company)},
    GW_CREDENTIAL_KEYS,
    {.name = NULL},
};

const struct gw_provider gw_provider_email_mime = {
    .name = "email-mime",
    .summary = "raw e-mail (message/rfc822) from a relay or an MTA",
    .endpoint_keys = endpoint_keys,
    .flags = GW_PROVIDER_OWN_ROUTING | GW_PROVIDER_MAIL_BODY,
    .setup = setup,
    .media_types = media_types,
    .source = "email",
    .stored_headers = stored_headers,
    .max_events = 1,
    .verifier = &gw_verifier_basic_auth,
    .verifier_for = gw_credential_verifier_for,
    .envelope = envelope,
    .apply = apply,
    .answer = answer,
};
