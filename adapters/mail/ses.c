/* ses.c — provider `email-ses`: Amazon SES receipt rules whose SNS action publishes to a
 * topic with an HTTPS subscription to this endpoint (providers.md §4.1). The verifier `sns`
 * checks the signed JSON; each message is stored with its SNS MessageId as the dedupe key
 * and answered 200, and a worker handles it by its Type:
 *   SubscriptionConfirmation — fetch() GETs SubscribeURL (https, host matching the
 *     endpoint's cert_host_pattern, never from the event loop) and logs the outcome;
 *   UnsubscribeConfirmation  — logged and stored ignored, never acted on;
 *   Notification             — the SES receipt in Message: the raw message in `content`
 *     handed to the mail core (apply.h) with the envelope recipient, the SES verdicts kept
 *     in the event's result; a virus FAIL is stored ignored, an S3 action (no inline
 *     content) failed. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/endpoint_keys.h"
#include "adapters/mail/apply.h"
#include "adapters/mail/envelope.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/base/log.h"
#include "gateway/net/http_client.h"
#include "verifiers/base64.h"
#include "verifiers/sns.h"

#define EP(field)            offsetof(struct gw_endpoint_config, field)
#define MESSAGE_ID_MAX       200 /* SNS uses UUIDs (36); room for a '#' and an index */
#define RECIPIENTS_MAX       16  /* one event per envelope recipient, up to this many */
#define SUBSCRIBE_ANSWER_MAX (64u * 1024u)
#define SUBSCRIBE_TIMEOUT_MS 15000L

static const char *const media_types[] = {"text/plain", "application/json", NULL};
/* What SNS says in headers (not signed: kept for operators, never trusted). */
static const char *const stored_headers[] = {"x-amz-sns-message-type", "x-amz-sns-topic-arn",
                                             "x-amz-sns-subscription-arn", NULL};

/* The string member NAME of OBJ, or NULL. */
static const char *str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The SES notification inside a Notification's Message, or NULL when it is not JSON. */
static cJSON *ses_notification(const cJSON *sns)
{
    const char *message = str(sns, "Message");
    return message != NULL ? cJSON_Parse(message) : NULL;
}

static bool printable(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

/* How many envelope recipients the receipt names: one event is stored per recipient, so each
 * copy is routed (and deduplicated) on its own. */
static size_t recipient_count(const cJSON *ses)
{
    const cJSON *receipt = cJSON_GetObjectItemCaseSensitive(ses, "receipt");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(receipt, "recipients");
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    return n > 0 ? (size_t)n : 0;
}

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    /* Verified: one JSON object with a known Type and a MessageId string. */
    cJSON *sns = cJSON_ParseWithLength((const char *)in->body, in->body_len);
    if (sns == NULL)
        return GW_ENVELOPE_UNAVAILABLE; /* it parsed in the verifier: out of memory */
    const char *id = str(sns, "MessageId");
    /* '#' would read as a recipient's index in the dedupe key (recipient_of). */
    if (id == NULL || !printable(id, MESSAGE_ID_MAX) || strchr(id, '#') != NULL) {
        cJSON_Delete(sns);
        gw_answer_set(answer, 400, "{\"error\":\"invalid_message_id\"}");
        return GW_ENVELOPE_ANSWER;
    }
    size_t copies = 1;
    const char *type = str(sns, "Type");
    if (type != NULL && strcmp(type, "Notification") == 0) {
        cJSON *ses = ses_notification(sns);
        size_t rcpts = recipient_count(ses);
        cJSON_Delete(ses);
        /* More recipients than events: one event, routed by To and Cc. */
        if (rcpts > 1 && rcpts <= max && rcpts <= RECIPIENTS_MAX)
            copies = rcpts;
    }
    for (size_t i = 0; i < copies; i++) {
        if (copies == 1)
            snprintf(out[i].dedupe_key, sizeof out[i].dedupe_key, "%s", id);
        else
            snprintf(out[i].dedupe_key, sizeof out[i].dedupe_key, "%s#%zu", id, i);
        out[i].tenant[0] = '\0'; /* the worker finds the company (GW_PROVIDER_OWN_ROUTING) */
    }
    *n = copies;
    cJSON_Delete(sns);
    return GW_ENVELOPE_STORE;
}

/* ---- SubscriptionConfirmation ---------------------------------------------------------- */

/* The text between <TAG> and </TAG> in XML, into OUT; false when absent or too long. */
static bool xml_text(const char *xml, const char *tag, char *out, size_t out_len)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(xml, open);
    const char *b = a != NULL ? strstr(a + strlen(open), close) : NULL;
    if (b == NULL)
        return false;
    a += strlen(open);
    size_t n = (size_t)(b - a);
    if (n == 0 || n >= out_len)
        return false;
    memcpy(out, a, n);
    out[n] = '\0';
    return printable(out, out_len - 1);
}

/* GETs SubscribeURL: the one thing that confirms a subscription (until then SNS delivers
 * nothing). Only https, only to a host of the endpoint's cert_host_pattern, so a message
 * signed for an allowed topic still cannot make the gateway call anywhere else. */
static enum gw_apply_rc confirm(struct gw_fetch *f, const cJSON *sns)
{
    const struct gw_endpoint_config *ep = f->endpoint;
    const char *topic = str(sns, "TopicArn");
    const char *url = str(sns, "SubscribeURL");
    char why[160] = "";
    if (!gw_sns_subscribe_url_ok(url, ep->cert_host_pattern, why, sizeof why)) {
        snprintf(f->error, sizeof f->error,
                 "SNS SubscriptionConfirmation for topic %.200s not confirmed: SubscribeURL "
                 "refused, nothing fetched: %s",
                 topic, why);
        gw_log_warn(NULL, "endpoint %s: %s", ep->id, f->error);
        return GW_APPLY_FAILED;
    }
    struct gw_http_call call = {.method = "GET",
                                .url = url,
                                .timeout_ms = SUBSCRIBE_TIMEOUT_MS,
                                .max_answer = SUBSCRIBE_ANSWER_MAX,
                                .ca_file = ep->ca_file};
    struct gw_http_answer a;
    int rc = gw_http_perform(&call, &a);
    if (rc != 0 || a.status < 200 || a.status > 299) {
        /* Tokens last about three days: a network error or a 5xx is tried again. */
        bool again = !a.refused && (rc != 0 || a.status >= 500 || a.status == 429);
        snprintf(f->error, sizeof f->error,
                 "SNS SubscriptionConfirmation for topic %.200s: SubscribeURL %s%.200s", topic,
                 rc != 0 ? "not reached: " : "answered ", rc != 0 ? a.error : "");
        if (rc == 0) {
            size_t used = strlen(f->error);
            snprintf(f->error + used, sizeof f->error - used, "%ld", a.status);
        }
        gw_log_warn(NULL, "endpoint %s: %s", ep->id, f->error);
        gw_http_answer_free(&a);
        return again ? GW_APPLY_RETRY : GW_APPLY_FAILED;
    }
    char arn[512] = "";
    xml_text(a.body, "SubscriptionArn", arn, sizeof arn);
    gw_http_answer_free(&a);
    gw_log_info(NULL, "endpoint %s: SNS subscription to topic %.200s confirmed (%s)", ep->id, topic,
                arn[0] ? arn : "no SubscriptionArn in the answer");
    cJSON *result = cJSON_CreateObject();
    if (result == NULL ||
        cJSON_AddStringToObject(result, "type", "SubscriptionConfirmation") == NULL ||
        cJSON_AddBoolToObject(result, "confirmed", true) == NULL ||
        cJSON_AddStringToObject(result, "topic", topic) == NULL ||
        (arn[0] && cJSON_AddStringToObject(result, "subscription_arn", arn) == NULL) ||
        (f->fetched = cJSON_PrintUnformatted(result)) == NULL) {
        /* Confirmed already; confirming again is harmless. */
        cJSON_Delete(result);
        snprintf(f->error, sizeof f->error, "out of memory");
        return GW_APPLY_RETRY;
    }
    cJSON_Delete(result);
    return GW_APPLY_DONE;
}

static enum gw_apply_rc fetch(struct gw_fetch *f)
{
    cJSON *sns = cJSON_ParseWithLength((const char *)f->body, f->body_len);
    const char *type = str(sns, "Type");
    enum gw_apply_rc rc = GW_APPLY_DONE;
    if (type == NULL) {
        snprintf(f->error, sizeof f->error, "the stored SNS message is not JSON with a Type");
        rc = sns == NULL ? GW_APPLY_RETRY : GW_APPLY_FAILED;
    } else if (strcmp(type, "SubscriptionConfirmation") == 0) {
        rc = confirm(f, sns);
    }
    cJSON_Delete(sns);
    return rc;
}

/* ---- Notification ---------------------------------------------------------------------- */

/* The SES verdicts (spam, virus, SPF, DKIM, DMARC and DMARC's policy) and ids, as kept in
 * the event's result. */
static cJSON *verdicts_json(const cJSON *ses, const char *sns_id)
{
    static const char *const names[][2] = {{"spamVerdict", "spam"},
                                           {"virusVerdict", "virus"},
                                           {"spfVerdict", "spf"},
                                           {"dkimVerdict", "dkim"},
                                           {"dmarcVerdict", "dmarc"}};
    const cJSON *receipt = cJSON_GetObjectItemCaseSensitive(ses, "receipt");
    const cJSON *mail = cJSON_GetObjectItemCaseSensitive(ses, "mail");
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    bool ok = cJSON_AddStringToObject(o, "sns_message_id", sns_id) != NULL;
    const char *ses_id = str(mail, "messageId");
    if (ses_id != NULL)
        ok &= cJSON_AddStringToObject(o, "ses_message_id", ses_id) != NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *status = str(cJSON_GetObjectItemCaseSensitive(receipt, names[i][0]), "status");
        ok &= cJSON_AddStringToObject(o, names[i][1], status != NULL ? status : "absent") != NULL;
    }
    const char *policy = str(receipt, "dmarcPolicy");
    if (policy != NULL)
        ok &= cJSON_AddStringToObject(o, "dmarc_policy", policy) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* CTX->result with "ses": VERDICTS added (VERDICTS is taken); a result is made when apply
 * left none. False when out of memory. */
static bool keep_verdicts(struct gw_apply *ctx, cJSON *verdicts)
{
    cJSON *result = ctx->result != NULL ? cJSON_Parse(ctx->result) : cJSON_CreateObject();
    if (result == NULL || !cJSON_AddItemToObject(result, "ses", verdicts)) {
        cJSON_Delete(result);
        cJSON_Delete(verdicts);
        return false;
    }
    char *text = cJSON_PrintUnformatted(result);
    cJSON_Delete(result);
    if (text == NULL)
        return false;
    free(ctx->result);
    ctx->result = text;
    return true;
}

/* The raw message of the receipt's `content` into *RAW (malloc'd): base64-decoded when the
 * action's encoding is BASE64, else the UTF-8 text as it is. */
static enum gw_apply_rc content_of(struct gw_apply *ctx, const cJSON *ses, unsigned char **raw,
                                   size_t *len)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ses, "receipt"), "action");
    const char *type = str(action, "type");
    const char *content = str(ses, "content");
    if (content == NULL) {
        snprintf(ctx->error, sizeof ctx->error,
                 "the SES notification carries no message content (receipt action %.40s): the "
                 "S3 action is not supported, deliver through the receipt rule's SNS action "
                 "with encoding BASE64",
                 type != NULL ? type : "unknown");
        return GW_APPLY_FAILED;
    }
    const char *encoding = str(action, "encoding");
    size_t n = strlen(content);
    bool b64 = encoding != NULL && strcmp(encoding, "BASE64") == 0;
    *raw = malloc(n + 1);
    char *packed = b64 ? malloc(n + 1) : NULL;
    if (*raw == NULL || (b64 && packed == NULL)) {
        free(*raw);
        free(packed);
        *raw = NULL;
        snprintf(ctx->error, sizeof ctx->error, "out of memory");
        return GW_APPLY_RETRY;
    }
    if (!b64) {
        memcpy(*raw, content, n);
        *len = n;
        return GW_APPLY_DONE;
    }
    /* Line breaks, should an encoder wrap the base64, are not part of it. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (content[i] != '\r' && content[i] != '\n' && content[i] != ' ' && content[i] != '\t')
            packed[m++] = content[i];
    bool ok = gw_base64_decode(packed, m, *raw, n + 1, len, GW_BASE64_LAX_BITS);
    free(packed);
    if (!ok) {
        snprintf(ctx->error, sizeof ctx->error,
                 "the SES notification's content is not valid base64 (encoding BASE64)");
        free(*raw);
        *raw = NULL;
        return GW_APPLY_FAILED;
    }
    return GW_APPLY_DONE;
}

/* The envelope recipient of this copy: receipt.recipients[i] for a key "<MessageId>#i", the
 * only one when there is one, else none (the core routes by To and Cc). */
static const char *recipient_of(const struct gw_apply *ctx, const cJSON *ses)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ses, "receipt"), "recipients");
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    const char *hash = ctx->dedupe_key != NULL ? strrchr(ctx->dedupe_key, '#') : NULL;
    int index = 0;
    if (hash != NULL) {
        char *end = NULL;
        long v = strtol(hash + 1, &end, 10);
        if (end == hash + 1 || *end != '\0' || v < 0 || v >= n)
            return NULL;
        index = (int)v;
    } else if (n != 1) {
        return NULL;
    }
    const cJSON *r = cJSON_GetArrayItem(list, index);
    return cJSON_IsString(r) ? r->valuestring : NULL;
}

static enum gw_apply_rc notification(struct gw_apply *ctx, const cJSON *sns)
{
    cJSON *ses = ses_notification(sns);
    const char *kind = str(ses, "notificationType");
    if (kind == NULL || strcmp(kind, "Received") != 0) {
        snprintf(ctx->error, sizeof ctx->error,
                 "the SNS Notification is not an SES receipt of received mail "
                 "(notificationType %.60s): nothing to apply",
                 kind != NULL ? kind : "absent");
        cJSON_Delete(ses);
        return GW_APPLY_IGNORED;
    }
    cJSON *verdicts = verdicts_json(ses, str(sns, "MessageId"));
    if (verdicts == NULL) {
        cJSON_Delete(ses);
        snprintf(ctx->error, sizeof ctx->error, "out of memory");
        return GW_APPLY_RETRY;
    }
    enum gw_apply_rc rc;
    const char *virus = str(verdicts, "virus");
    if (strcmp(virus, "FAIL") == 0) {
        snprintf(ctx->error, sizeof ctx->error,
                 "SES found a virus (virusVerdict FAIL): the message is not applied");
        rc = GW_APPLY_IGNORED;
    } else {
        unsigned char *raw = NULL;
        size_t len = 0;
        rc = content_of(ctx, ses, &raw, &len);
        if (rc == GW_APPLY_DONE) {
            struct gw_mail_delivery d = {
                .raw = raw, .len = len, .recipient = recipient_of(ctx, ses)};
            rc = gw_mail_apply(ctx, &d);
        }
        free(raw);
    }
    if ((rc == GW_APPLY_DONE || rc == GW_APPLY_IGNORED) && !keep_verdicts(ctx, verdicts)) {
        snprintf(ctx->error, sizeof ctx->error, "out of memory");
        rc = GW_APPLY_RETRY;
    } else if (rc != GW_APPLY_DONE && rc != GW_APPLY_IGNORED) {
        cJSON_Delete(verdicts);
    }
    cJSON_Delete(ses);
    return rc;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    cJSON *sns = cJSON_ParseWithLength((const char *)ctx->body, ctx->body_len);
    const char *type = str(sns, "Type");
    enum gw_apply_rc rc;
    if (type == NULL) {
        snprintf(ctx->error, sizeof ctx->error, "the stored SNS message is not JSON with a Type");
        rc = sns == NULL ? GW_APPLY_RETRY : GW_APPLY_FAILED;
    } else if (strcmp(type, "Notification") == 0) {
        rc = notification(ctx, sns);
    } else if (strcmp(type, "SubscriptionConfirmation") == 0) {
        /* fetch() confirmed it and said so; nothing is written to the core tables. */
        rc = ctx->fetched != NULL ? GW_APPLY_DONE : GW_APPLY_FAILED;
        if (ctx->fetched != NULL && (ctx->result = strdup(ctx->fetched)) == NULL) {
            snprintf(ctx->error, sizeof ctx->error, "out of memory");
            rc = GW_APPLY_RETRY;
        } else if (ctx->fetched == NULL) {
            snprintf(ctx->error, sizeof ctx->error, "the subscription was not confirmed");
        }
    } else {
        /* An unsubscribe is someone's decision in AWS: never re-subscribe on our own. */
        snprintf(ctx->error, sizeof ctx->error,
                 "SNS UnsubscribeConfirmation for topic %.200s: logged, not acted on",
                 str(sns, "TopicArn"));
        gw_log_warn(NULL, "endpoint %s: %s", ctx->endpoint->id, ctx->error);
        rc = GW_APPLY_IGNORED;
    }
    cJSON_Delete(sns);
    return rc;
}

static const struct gw_cfg_key endpoint_keys[] = {
    {.name = "company", .type = GW_CFG_SLUG, .offset = EP(company)},
    {.name = "topics",
     .type = GW_CFG_STRING_LIST,
     .offset = EP(topics),
     .min = 1,
     .max = 64,
     .flags = GW_CFG_REQUIRED,
     .def = 256},
    {.name = "cert_host_pattern",
     .type = GW_CFG_STRING,
     .offset = EP(cert_host_pattern),
     .min = 1,
     .max = 255},
    {.name = "ca_file", .type = GW_CFG_STRING, .offset = EP(ca_file), .min = 1, .max = 1024},
    GW_KEY_TOLERANCE,
    {.name = NULL},
};

const struct gw_provider gw_provider_email_ses = {
    .name = "email-ses",
    .summary = "inbound e-mail from Amazon SES through SNS",
    .endpoint_keys = endpoint_keys,
    /* Not GW_PROVIDER_MAIL_BODY: SNS sends at most 256 KiB (bigger mail takes the S3 action),
     * so ingest.max_body (1 MiB, the sns verifier's bound too) is the right default. */
    .flags = GW_PROVIDER_OWN_ROUTING,
    .media_types = media_types,
    .source = "email",
    .stored_headers = stored_headers,
    .max_events = RECIPIENTS_MAX,
    .verifier = &gw_verifier_sns,
    .envelope = envelope,
    .fetch = fetch,
    .apply = apply,
    .answer = gw_answer_stored_200,
};
