/* workflow.c — provider `ghl-workflow`: a HighLevel workflow's "Custom Webhook" action, which
 * HighLevel does not sign. The endpoint authenticates it with a token (a secret header set
 * in the action) or HTTP Basic, is bound to one location, and refuses (401) a body whose
 * location.id names another. Each post is one new job: the contact's fields make or update
 * the contact (and its client), customData becomes the description, the endpoint's title
 * template the title. Stored keyed by a hash of the body (the action sends no id); the
 * company is the one the location is connected to (integrations, provider ghl). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/credential_auth.h"
#include "adapters/ghl/config.h"
#include "adapters/ghl/ghl.h"
#include "adapters/ghl/template.h"
#include "adapters/provider.h"
#include "adapters/standard_webhooks_common.h"
#include "config/config.h"
#include "gateway/base/hash.h"
#include "gateway/base/text.h"
#include "gateway/core/crm.h"
#include "gateway/db/inbox.h"
#include "verifiers/basic_auth.h"
#include "verifiers/ct_compare.h"

#define TITLE_CHARS      300
#define DESCRIPTION_MAX  16384
#define DEFAULT_TEMPLATE "{{full_name}}: {{customData.title}}"

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    const struct gw_ghl_workflow_config *w = gw_ghl_workflow_config_of(in->endpoint);
    cJSON *root = cJSON_ParseWithLength((const char *)in->body, in->body_len);
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(root, "location");
    const char *id = gw_ghl_id(loc, "id");
    enum gw_envelope_rc rc = GW_ENVELOPE_ANSWER;
    if (root == NULL || !cJSON_IsObject(root)) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_json\"}");
    } else if (id == NULL || w->location == NULL ||
               !gw_ct_equal(id, strlen(id), w->location, strlen(w->location))) {
        /* A credential of one location's workflow must not post for another. */
        gw_answer_set(answer, 401, "{\"error\":\"location_mismatch\"}");
        answer->audit_reason = "ghl-workflow body names another location";
    } else {
        char hex[GW_SHA256_HEX_SIZE];
        if (!gw_sha256_hex(in->body, in->body_len, hex)) {
            rc = GW_ENVELOPE_UNAVAILABLE;
        } else {
            snprintf(out[0].dedupe_key, sizeof(out[0].dedupe_key), "sha256:%s", hex);
            out[0].tenant[0] = '\0'; /* apply finds the location's company (OWN_ROUTING) */
            *n = 1;
            rc = GW_ENVELOPE_STORE;
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* customData as "key: value" lines (strings and numbers), bounded. */
static void describe(const cJSON *root, char *out, size_t cap)
{
    size_t len = 0, chars = 0;
    out[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "customData"))
    {
        char num[32];
        const char *v = cJSON_IsString(it) ? it->valuestring : NULL;
        if (cJSON_IsNumber(it)) {
            snprintf(num, sizeof(num), "%.15g", it->valuedouble);
            v = num;
        }
        if (v == NULL || it->string == NULL || len + 2 >= cap)
            continue;
        if (len > 0) {
            out[len++] = '\n';
            out[len] = '\0';
        }
        /* Keys and values are the sender's: cleaned, and cut on a character. */
        gw_text_append_clean(out, cap, &len, &chars, SIZE_MAX, it->string);
        gw_text_append_clean(out, cap, &len, &chars, SIZE_MAX, ": ");
        gw_text_append_clean(out, cap, &len, &chars, SIZE_MAX, v);
    }
}

/* The company LOCATION is connected to (integrations, provider ghl, active), recorded on
 * the event before anything is written. */
static enum gw_apply_rc bind_company(struct gw_apply *ctx, const char *location)
{
    uint64_t owner = 0, id = 0;
    char status[16] = "";
    enum gw_core_rc rc = gw_crm_integration_owner(&ctx->core, "ghl", location, &owner, &id, status);
    if (rc == GW_CORE_OK && strcmp(status, "active") != 0)
        rc = gw_core_fail(&ctx->core, GW_CORE_NOT_FOUND, "the ghl integration of %s is %s",
                          location, status);
    if (rc == GW_CORE_NOT_FOUND) {
        snprintf(ctx->error, sizeof(ctx->error), "%s", ctx->core.err);
        return GW_APPLY_IGNORED;
    }
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    if (ctx->core.company_id == 0) {
        if (gw_inbox_set_company(ctx->core.db, ctx->core.webhook_event_id, owner) != 0)
            return gw_sw_core_result(ctx, gw_core_db_fail(&ctx->core, "binding the event"));
        ctx->core.company_id = owner;
    }
    return ctx->core.company_id == owner ? GW_APPLY_DONE : GW_APPLY_FAILED;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    cJSON *root = cJSON_ParseWithLength((const char *)ctx->body, ctx->body_len);
    if (root == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "stored ghl-workflow body no longer reads");
        return GW_APPLY_FAILED;
    }
    const struct gw_ghl_workflow_config *w = gw_ghl_workflow_config_of(ctx->endpoint);
    enum gw_apply_rc bound = bind_company(ctx, w->location);
    if (bound != GW_APPLY_DONE) {
        cJSON_Delete(root);
        return bound;
    }
    char title[TITLE_CHARS * 4 + 1];
    char *description = malloc(DESCRIPTION_MAX);
    enum gw_core_rc rc = GW_CORE_OK;
    struct gw_job_new job = {.title = title};
    if (description == NULL) {
        rc = gw_core_fail(&ctx->core, GW_CORE_DB_ERROR, "out of memory");
        goto done;
    }
    if (gw_ghl_template(w->title ? w->title : DEFAULT_TEMPLATE, root, TITLE_CHARS, title,
                        sizeof(title)) == 0)
        snprintf(title, sizeof(title), "GoHighLevel workflow");
    describe(root, description, DESCRIPTION_MAX);
    job.description = description[0] ? description : NULL;
    const char *name = gw_ghl_text(root, "full_name", 200);
    const char *email = gw_ghl_text(root, "email", 254);
    const char *contact = gw_ghl_id(root, "contact_id");
    if (contact != NULL) {
        bool changed = false;
        struct gw_crm_contact x = {
            .crm_id = contact,
            .name = name,
            .email = email,
            .phone = gw_ghl_text(root, "phone", 64),
            .company_name = gw_ghl_text(root, "company_name", 200),
        };
        rc = gw_crm_contact_sync(&ctx->core, &x, &job.contact_id, &changed);
        uint64_t ignored = 0;
        if (rc == GW_CORE_OK)
            rc = gw_crm_contact_ref(&ctx->core, contact, &ignored, &job.client_id);
    } else if (email != NULL) {
        rc = gw_contact_upsert(&ctx->core, email, name, gw_ghl_text(root, "phone", 64),
                               &job.contact_id);
    }
    uint64_t job_id = 0;
    char ref[32];
    if (rc == GW_CORE_OK)
        rc = gw_job_create(&ctx->core, &job, &job_id, ref);
    if (rc == GW_CORE_OK) {
        cJSON *o = cJSON_CreateObject();
        if (o != NULL)
            cJSON_AddStringToObject(o, "ref", ref);
        gw_ghl_result(ctx, o);
    }
done:
    free(description);
    cJSON_Delete(root);
    return gw_sw_core_result(ctx, rc);
}

/* Exactly one way to authenticate, and a header only for a token. */
static void setup(struct gw_endpoint_config *ep, struct gw_cfg_setup *s)
{
    gw_credential_setup("ghl-workflow", ep, s);
}

static const struct gw_cfg_key endpoint_keys[] = {GW_CREDENTIAL_KEYS, {.name = NULL}};

#define CFG(field) offsetof(struct gw_ghl_workflow_config, field)
static const struct gw_cfg_key config_keys[] = {
    {.name = "location",
     .type = GW_CFG_STRING,
     .offset = CFG(location),
     .min = 1,
     .max = 64,
     .flags = GW_CFG_REQUIRED},
    {.name = "title", .type = GW_CFG_STRING, .offset = CFG(title), .min = 1, .max = 300},
    {.name = NULL},
};

static const char *const media_types[] = {"application/json", NULL};

const struct gw_provider gw_provider_ghl_workflow = {
    .name = "ghl-workflow",
    .summary = "GoHighLevel workflow Custom Webhook actions (token or basic auth) to new jobs",
    .endpoint_keys = endpoint_keys,
    .config_keys = config_keys,
    .config_size = sizeof(struct gw_ghl_workflow_config),
    .setup = setup,
    .media_types = media_types,
    .source = "crm",
    /* The company is the one the endpoint's location is connected to, found by apply. */
    .flags = GW_PROVIDER_OWN_ROUTING,
    .max_events = 1,
    /* HighLevel retries a 429 and nothing else (providers.md 3.3). */
    .unavailable = {.status = 429, .retry_after_s = 600},
    .verifier = &gw_verifier_basic_auth,
    .verifier_for = gw_credential_verifier_for,
    .envelope = envelope,
    .apply = apply,
    .answer = gw_answer_stored_200,
};
