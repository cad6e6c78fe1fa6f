/* ghl.c — provider `ghl`: GoHighLevel Marketplace app webhooks (contacts, opportunities,
 * notes, tasks, appointments, app installs). A verified delivery is refused when its body
 * `timestamp` is outside the endpoint's tolerance, keyed by its `webhookId`, and stored for
 * the company its `locationId` is connected to; an install, which may connect a location,
 * is routed by its apply. HighLevel retries only a 429, so that is what a delivery that
 * could not be stored is answered; everything stored (or deliberately ignored) is 200. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/endpoint_keys.h"
#include "adapters/ghl/config.h"
#include "adapters/ghl/ghl.h"
#include "adapters/json_fields.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "verifiers/ghl.h"

#define WEBHOOK_ID_MAX       180 /* room for "/<locationId>" in a dedupe key */
#define DEFAULT_TOLERANCE_MS (5 * 60 * 1000)

static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s > '~')
            return false;
    return true;
}

static bool is_install(const char *type)
{
    return strcmp(type, "INSTALL") == 0 || strcmp(type, "UNINSTALL") == 0;
}

static enum gw_envelope_rc refuse(struct gw_answer *a, int status, const char *error,
                                  const char *audit)
{
    gw_answer_set(a, status, "{\"error\":\"%s\"}", error);
    a->audit_reason = audit;
    return GW_ENVELOPE_ANSWER;
}

/* One event per location: a bulk install names several (locationIds[]). */
static enum gw_envelope_rc bulk(const cJSON *ids, const char *type, const char *webhook_id,
                                struct gw_envelope *out, size_t max, size_t *n, struct gw_answer *a)
{
    size_t count = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        if (!cJSON_IsString(it) || it->valuestring == NULL || it->valuestring[0] == '\0' ||
            strlen(it->valuestring) > 64 || !printable(it->valuestring))
            return refuse(a, 400, "invalid_location", NULL);
        if (count == max)
            return refuse(a, 400, "too_many_locations", "ghl bulk install over max_events");
        snprintf(out[count].dedupe_key, sizeof(out[count].dedupe_key), "%s/%s", webhook_id,
                 it->valuestring);
        /* An install is routed by its apply (it may connect the location); an uninstall
         * belongs to the company the location is connected to. */
        snprintf(out[count].tenant, sizeof(out[count].tenant), "%s",
                 strcmp(type, "INSTALL") == 0 ? "" : it->valuestring);
        count++;
    }
    if (count == 0)
        return refuse(a, 400, "missing_location", NULL);
    *n = count;
    return GW_ENVELOPE_STORE;
}

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    cJSON *root = cJSON_ParseWithLength((const char *)in->body, in->body_len);
    enum gw_envelope_rc rc = GW_ENVELOPE_ANSWER;
    const char *type = NULL, *webhook_id = NULL, *stamp = NULL;
    if (root == NULL || !cJSON_IsObject(root)) {
        rc = refuse(answer, 400, "invalid_json", NULL);
        goto done;
    }
    if (gw_json_text(root, "type", 64, &type) != GW_FIELD_OK || !printable(type)) {
        rc = refuse(answer, 400, "missing_type", NULL);
        goto done;
    }
    if (gw_json_text(root, "webhookId", WEBHOOK_ID_MAX, &webhook_id) != GW_FIELD_OK ||
        !printable(webhook_id) || strchr(webhook_id, '/') != NULL) {
        rc = refuse(answer, 400, "missing_webhook_id", NULL);
        goto done;
    }
    int64_t ts =
        gw_json_text(root, "timestamp", 40, &stamp) == GW_FIELD_OK ? gw_ghl_time_ms(stamp) : -1;
    if (ts < 0) {
        rc = refuse(answer, 400, "invalid_timestamp", NULL);
        goto done;
    }
    /* The signature is over the body, timestamp included: a captured delivery replayed
     * later is refused by its age, one replayed at once by its webhookId. */
    uint64_t tol = in->endpoint->tolerance_ms ? in->endpoint->tolerance_ms : DEFAULT_TOLERANCE_MS;
    int64_t age = (int64_t)in->now * 1000 - ts;
    if (age > (int64_t)tol || -age > (int64_t)tol) {
        rc = refuse(answer, 401, "timestamp_outside_tolerance",
                    "ghl body timestamp outside the endpoint's tolerance");
        goto done;
    }
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(root, "locationIds");
    const char *location = gw_ghl_id(root, "locationId");
    if (is_install(type) && location == NULL && cJSON_IsArray(ids)) {
        rc = bulk(ids, type, webhook_id, out, max, n, answer);
        goto done;
    }
    if (location == NULL) {
        rc = refuse(answer, 400, "missing_location", NULL);
        goto done;
    }
    snprintf(out[0].dedupe_key, sizeof(out[0].dedupe_key), "%s", webhook_id);
    snprintf(out[0].tenant, sizeof(out[0].tenant), "%s",
             strcmp(type, "INSTALL") == 0 ? "" : location);
    *n = 1;
    rc = GW_ENVELOPE_STORE;
done:
    cJSON_Delete(root);
    return rc;
}

/* HighLevel reads only the status: 200 for whatever was stored, repeated or ignored. */
static const struct {
    const char *prefix; /* the type, or its family's prefix */
    bool exact;
    enum gw_apply_rc (*fn)(struct gw_apply *ctx, const cJSON *root, const char *type);
} families[] = {
    {"INSTALL", true, gw_ghl_apply_install},
    {"UNINSTALL", true, gw_ghl_apply_install},
    {"ContactCreate", true, gw_ghl_apply_contact},
    {"ContactUpdate", true, gw_ghl_apply_contact},
    {"ContactDelete", true, gw_ghl_apply_contact},
    {"ContactTagUpdate", true, gw_ghl_apply_contact},
    {"ContactDndUpdate", true, gw_ghl_apply_contact},
    {"Opportunity", false, gw_ghl_apply_opportunity},
    {"NoteCreate", true, gw_ghl_apply_note},
    {"NoteUpdate", true, gw_ghl_apply_note},
    {"TaskCreate", true, gw_ghl_apply_task},
    {"TaskComplete", true, gw_ghl_apply_task},
    {"Appointment", false, gw_ghl_apply_appointment},
};

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    cJSON *root = cJSON_ParseWithLength((const char *)ctx->body, ctx->body_len);
    const char *type = NULL;
    enum gw_apply_rc rc = GW_APPLY_IGNORED;
    if (root == NULL || gw_json_text(root, "type", 64, &type) != GW_FIELD_OK) {
        snprintf(ctx->error, sizeof(ctx->error), "stored ghl event no longer reads");
        cJSON_Delete(root);
        return GW_APPLY_FAILED;
    }
    size_t i = 0, count = sizeof(families) / sizeof(families[0]);
    for (; i < count; i++) {
        size_t len = strlen(families[i].prefix);
        if (families[i].exact ? strcmp(type, families[i].prefix) == 0
                              : strncmp(type, families[i].prefix, len) == 0)
            break;
    }
    if (i == count)
        snprintf(ctx->error, sizeof(ctx->error), "ghl %.64s events are not handled", type);
    else if (ctx->core.company_id == 0 && families[i].fn != gw_ghl_apply_install)
        snprintf(ctx->error, sizeof(ctx->error), "no company");
    else
        rc = families[i].fn(ctx, root, type);
    cJSON_Delete(root);
    return rc;
}

/* job_on names opportunity statuses. */
static void setup(struct gw_endpoint_config *ep, struct gw_cfg_setup *s)
{
    const struct gw_ghl_config *g = gw_ghl_config_of(ep);
    static const char *const statuses[] = {"open", "won", "lost", "abandoned"};
    for (size_t i = 0; i < g->n_job_on; i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
            known = known || strcmp(g->job_on[i], statuses[k]) == 0;
        if (!known)
            gw_cfg_setup_error(s, "job_on", "ghl: job_on takes open, won, lost, abandoned (not %s)",
                               g->job_on[i]);
    }
}

#define EP(field) offsetof(struct gw_endpoint_config, field)
static const struct gw_cfg_key endpoint_keys[] = {
    {.name = "public_key", .type = GW_CFG_FILE, .offset = EP(public_key)},
    {.name = "legacy_public_key", .type = GW_CFG_FILE, .offset = EP(legacy_public_key)},
    /* The company an install of a location not connected yet is for (install: auto). */
    {.name = "company", .type = GW_CFG_SLUG, .offset = EP(company)},
    GW_KEY_TOLERANCE,
    {.name = NULL},
};

static const struct gw_cfg_choice install_choices[] = {
    {.name = "manual", .value = GW_GHL_INSTALL_MANUAL},
    {.name = "auto", .value = GW_GHL_INSTALL_AUTO},
    {.name = NULL},
};

#define CFG(field) offsetof(struct gw_ghl_config, field)
static const struct gw_cfg_key config_keys[] = {
    {.name = "install",
     .type = GW_CFG_CHOICE,
     .offset = CFG(install),
     .choices = install_choices,
     .def = GW_GHL_INSTALL_MANUAL},
    {.name = "job_on",
     .type = GW_CFG_STRING_LIST,
     .offset = CFG(job_on),
     .min = 1,
     .max = 4,
     .def = 16},
    {.name = "job_stages",
     .type = GW_CFG_STRING_LIST,
     .offset = CFG(job_stages),
     .min = 1,
     .max = 64,
     .def = 64},
    {.name = NULL},
};

static const char *const media_types[] = {"application/json", NULL};

const struct gw_provider gw_provider_ghl = {
    .name = "ghl",
    .summary = "GoHighLevel CRM webhooks (contacts, opportunities to jobs, notes, appointments)",
    .endpoint_keys = endpoint_keys,
    .config_keys = config_keys,
    .config_size = sizeof(struct gw_ghl_config),
    .setup = setup,
    /* An install is routed by its apply: it may connect the location it names. */
    .flags = GW_PROVIDER_OWN_ROUTING,
    .media_types = media_types,
    .source = "crm",
    /* HighLevel retries nothing but a 429 (6 times, ~10 minutes apart). */
    .unavailable = {.status = 429, .retry_after_s = 600},
    .verifier = &gw_verifier_ghl,
    .envelope = envelope,
    .apply = apply,
    .answer = gw_answer_stored_200,
};
