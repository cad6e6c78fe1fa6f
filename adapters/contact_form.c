/* contact_form.c — provider `contact-form`: the public website's "contact us" form, posted by
 * the site's backend and signed with Standard Webhooks. The form is validated before
 * anything is stored (400 naming the field), applied at once, and answered 201 with the new
 * ticket's ref; the same webhook-id again answers 200 with that ref and creates nothing. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/json_fields.h"
#include "adapters/provider.h"
#include "adapters/standard_webhooks_common.h"
#include "config/config.h"
#include "gateway/base/text.h"
#include "verifiers/standard_webhooks.h"

#define NAME_CHARS    200
#define MESSAGE_CHARS 20000
#define EMAIL_BYTES   254
#define DEADLINE_MS   2000

/* An endpoint's own keys (config_keys below). */
struct gw_contact_form_config {
    struct gw_string_map teams; /* topic -> team name */
};

/* The team the endpoint routes TOPIC to, or NULL. */
static const char *team_of(const struct gw_endpoint_config *ep, const char *topic)
{
    const struct gw_contact_form_config *c = ep != NULL ? ep->provider_config : NULL;
    return c != NULL ? gw_string_map_get(&c->teams, topic) : NULL;
}

static const struct {
    const char *topic;
    const char *label;
} topics[] = {
    {"security", "Security report"}, {"privacy", "Privacy request"}, {"support", "Support request"},
    {"billing", "Billing question"}, {"sales", "Sales enquiry"},     {"other", "Enquiry"},
};

static const char *topic_label(const char *topic)
{
    for (size_t i = 0; topic != NULL && i < sizeof(topics) / sizeof(topics[0]); i++)
        if (strcmp(topics[i].topic, topic) == 0)
            return topics[i].label;
    return NULL;
}

/* Nothing but spaces, tabs and line breaks: as empty as an empty string. */
static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

struct form {
    cJSON *root;
    const char *name, *email, *topic, *message;
};

/* Parses and validates the form. NULL on success, or the name of the first bad field. */
static const char *read_form(const unsigned char *body, size_t len, struct form *f)
{
    memset(f, 0, sizeof(*f));
    f->root = cJSON_ParseWithLength((const char *)body, len);
    if (f->root == NULL || !cJSON_IsObject(f->root))
        return "body";
    if (gw_json_text(f->root, "name", NAME_CHARS, &f->name) != GW_FIELD_OK || blank(f->name))
        return "name";
    for (const char *p = f->name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) /* names are one line */
            return "name";
    if (gw_json_text(f->root, "email", EMAIL_BYTES, &f->email) != GW_FIELD_OK ||
        !gw_text_email_valid(f->email, strlen(f->email)))
        return "email";
    if (gw_json_text(f->root, "topic", 16, &f->topic) != GW_FIELD_OK ||
        topic_label(f->topic) == NULL)
        return "topic";
    if (gw_json_text(f->root, "message", MESSAGE_CHARS, &f->message) != GW_FIELD_OK ||
        blank(f->message))
        return "message";
    return NULL;
}

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    struct form f;
    const char *bad = read_form(in->body, in->body_len, &f);
    cJSON_Delete(f.root);
    if (bad != NULL) {
        if (strcmp(bad, "body") == 0)
            gw_answer_set(answer, 400, "{\"error\":\"invalid_json\"}");
        else
            gw_answer_set(answer, 400, "{\"error\":\"invalid_field\",\"field\":\"%s\"}", bad);
        return GW_ENVELOPE_ANSWER;
    }
    if (gw_sw_dedupe_key(in, &out[0]) != 0) {
        gw_answer_set(answer, 400, "{\"error\":\"missing_webhook_id\"}");
        return GW_ENVELOPE_ANSWER;
    }
    *n = 1;
    return GW_ENVELOPE_STORE;
}

/* "YYYY-MM-DD HH:MM:SS" two business days (Monday to Friday) after now, in UTC: the promise
 * is to acknowledge a security report within two business days. */
static void two_business_days(time_t now, char out[20])
{
    struct tm tm;
    time_t t = now;
    int added = 0;
    while (added < 2) {
        t += 24 * 60 * 60;
        gmtime_r(&t, &tm);
        if (tm.tm_wday != 0 && tm.tm_wday != 6)
            added++;
    }
    gmtime_r(&t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Title: the topic's label and who wrote, cut at a character boundary to fit. */
static void make_title(const struct form *f, char *out, size_t len)
{
    snprintf(out, len, "%s from %s", topic_label(f->topic), f->name);
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    struct form f;
    if (read_form(ctx->body, ctx->body_len, &f) != NULL) {
        cJSON_Delete(f.root);
        snprintf(ctx->error, sizeof(ctx->error), "stored form no longer validates");
        return GW_APPLY_FAILED;
    }
    enum gw_apply_rc rc;
    char title[1200], due[20], ref[32];
    uint64_t contact_id = 0, job_id = 0, comment_id = 0;
    bool security = strcmp(f.topic, "security") == 0;
    make_title(&f, title, sizeof(title));
    enum gw_core_rc cr = gw_contact_upsert(&ctx->core, f.email, f.name, NULL, &contact_id);
    if (cr != GW_CORE_OK) {
        rc = gw_sw_core_result(ctx, cr);
        goto out;
    }
    if (security)
        two_business_days(time(NULL), due);
    struct gw_job_new job = {
        .title = title,
        .priority = security ? "high" : "normal",
        .team = team_of(ctx->endpoint, f.topic),
        .due_at = security ? due : NULL,
        .contact_id = contact_id,
    };
    cr = gw_job_create(&ctx->core, &job, &job_id, ref);
    if (cr != GW_CORE_OK) {
        rc = gw_sw_core_result(ctx, cr);
        goto out;
    }
    struct gw_comment_new cm = {
        .body = f.message,
        .visibility = "public",
        .author_contact_id = contact_id,
    };
    cr = gw_job_comment(&ctx->core, job_id, &cm, &comment_id);
    if (cr != GW_CORE_OK) {
        rc = gw_sw_core_result(ctx, cr);
        goto out;
    }
    cJSON *res = cJSON_CreateObject();
    if (res != NULL && cJSON_AddStringToObject(res, "ref", ref) != NULL)
        ctx->result = cJSON_PrintUnformatted(res);
    cJSON_Delete(res);
    rc = ctx->result ? GW_APPLY_DONE : GW_APPLY_RETRY;
out:
    cJSON_Delete(f.root);
    return rc;
}

/* The ref out of a stored result {"ref": "CT-000123"}, re-serialised so that nothing but a
 * well-formed ref ever reaches the answer. */
static bool answer_ref(struct gw_answer *a, int status, const char *result)
{
    cJSON *o = result ? cJSON_Parse(result) : NULL;
    const cJSON *ref = o ? cJSON_GetObjectItemCaseSensitive(o, "ref") : NULL;
    char norm[32];
    bool ok = cJSON_IsString(ref) && gw_job_ref_normalise(ref->valuestring, norm) == 0;
    if (ok)
        gw_answer_set(a, status, "{\"ref\":\"%s\"}", norm);
    cJSON_Delete(o);
    return ok;
}

static void answer(enum gw_outcome outcome, const struct gw_stored *stored, struct gw_answer *a)
{
    switch (outcome) {
    case GW_OUTCOME_APPLIED:
        if (answer_ref(a, 201, stored->result))
            return;
        break;
    case GW_OUTCOME_DUPLICATE:
        if (answer_ref(a, 200, stored->result))
            return;
        break;
    case GW_OUTCOME_FAILED:
        gw_answer_set(a, 500, "{\"error\":\"not_processed\"}");
        return;
    case GW_OUTCOME_ACCEPTED:
    case GW_OUTCOME_TIMEOUT:
    case GW_OUTCOME_UNAVAILABLE: /* answered by the gateway */
        break;
    case GW_OUTCOME_IGNORED: /* the endpoint's company is missing: an operator's problem */
        gw_answer_set(a, 500, "{\"error\":\"not_processed\"}");
        return;
    }
    /* Stored but not applied yet (or applied by another instance): it will be. */
    gw_answer_set(a, 202, "{\"status\":\"accepted\",\"id\":\"%llu\"}",
                  (unsigned long long)stored->event_id);
}

static const struct gw_cfg_key endpoint_keys[] = {GW_SW_ENDPOINT_KEYS, {.name = NULL}};
static const struct gw_cfg_key config_keys[] = {
    {.name = "teams",
     .type = GW_CFG_STRING_MAP,
     .offset = offsetof(struct gw_contact_form_config, teams),
     .min = 0,
     .max = 16},
    {.name = NULL},
};

const struct gw_provider gw_provider_contact_form = {
    .name = "contact-form",
    .summary = "the public website's contact form, signed with Standard Webhooks",
    .endpoint_keys = endpoint_keys,
    .flags = GW_PROVIDER_SYNC,
    .config_keys = config_keys,
    .config_size = sizeof(struct gw_contact_form_config),
    .media_types = gw_sw_media_types,
    .source = "form",
    .stored_headers = gw_sw_stored_headers,
    .sync_deadline_ms = DEADLINE_MS,
    .verifier = &gw_verifier_standard_webhooks,
    .envelope = envelope,
    .apply = apply,
    .answer = answer,
};
