/* generic.c — provider `generic`: any system that signs Standard Webhooks drives the jobs of
 * the one company its endpoint is bound to, with JSON events {"type": …, "data": {…}}:
 * job.create, job.comment, job.status, job.assign and time.add. Answered 202 once stored,
 * applied asynchronously; an invalid event ends `failed` with a clear last_error. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/json_fields.h"
#include "adapters/provider.h"
#include "adapters/standard_webhooks_common.h"
#include "config/config.h"
#include "verifiers/standard_webhooks.h"

#define TITLE_CHARS 300
#define TEXT_CHARS  65535
#define NAME_CHARS  200
#define EMAIL_CHARS 254
#define REF_CHARS   32

/* Reports a bad field as a permanent failure: retrying cannot fix the sender's data. */
static enum gw_apply_rc bad_field(struct gw_apply *ctx, const char *type, const char *field,
                                  const char *want)
{
    snprintf(ctx->error, sizeof(ctx->error), "%s: data.%s must be %s", type, field, want);
    return GW_APPLY_FAILED;
}

static enum gw_apply_rc find_job(struct gw_apply *ctx, const cJSON *data, const char *type,
                                 uint64_t *job_id)
{
    const char *ref = NULL;
    if (gw_json_text(data, "ref", REF_CHARS, &ref) != GW_FIELD_OK)
        return bad_field(ctx, type, "ref", "a job ref such as CT-000123");
    enum gw_core_rc rc = gw_job_find(&ctx->core, ref, job_id);
    if (rc == GW_CORE_NOT_FOUND)
        snprintf(ctx->core.err, sizeof(ctx->core.err), "%s: no job %.32s in this company", type,
                 ref);
    return gw_sw_core_result(ctx, rc);
}

/* The user of this company whose e-mail is in data[field]. */
static enum gw_apply_rc find_user(struct gw_apply *ctx, const cJSON *data, const char *type,
                                  const char *field, uint64_t *user_id)
{
    const char *email = NULL;
    if (gw_json_text(data, field, EMAIL_CHARS, &email) != GW_FIELD_OK)
        return bad_field(ctx, type, field, "the e-mail of a user of the company");
    enum gw_core_rc rc = gw_user_find_by_email(&ctx->core, email, user_id);
    if (rc == GW_CORE_NOT_FOUND)
        snprintf(ctx->core.err, sizeof(ctx->core.err), "%s: no user %.200s in this company", type,
                 email);
    return gw_sw_core_result(ctx, rc);
}

static char *result_ref(const char *ref)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o != NULL && cJSON_AddStringToObject(o, "ref", ref) != NULL)
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

static enum gw_apply_rc job_create(struct gw_apply *ctx, const cJSON *data)
{
    static const char type[] = "job.create";
    const char *title = NULL, *description = NULL, *priority = NULL, *email = NULL, *name = NULL;
    if (gw_json_text(data, "title", TITLE_CHARS, &title) != GW_FIELD_OK)
        return bad_field(ctx, type, "title", "a string of 1 to 300 characters");
    if (gw_json_text(data, "description", TEXT_CHARS, &description) == GW_FIELD_INVALID)
        return bad_field(ctx, type, "description", "a string");
    if (gw_json_text(data, "priority", 16, &priority) == GW_FIELD_INVALID)
        return bad_field(ctx, type, "priority", "one of low, normal, high, urgent");
    if (gw_json_text(data, "contact_email", EMAIL_CHARS, &email) == GW_FIELD_INVALID)
        return bad_field(ctx, type, "contact_email", "an e-mail address");
    if (gw_json_text(data, "contact_name", NAME_CHARS, &name) == GW_FIELD_INVALID)
        return bad_field(ctx, type, "contact_name", "a string of 1 to 200 characters");
    struct gw_job_new job = {.title = title, .description = description, .priority = priority};
    enum gw_core_rc rc;
    if (email != NULL) {
        rc = gw_contact_upsert(&ctx->core, email, name, NULL, &job.contact_id);
        if (rc != GW_CORE_OK)
            return gw_sw_core_result(ctx, rc);
    }
    uint64_t job_id = 0;
    char ref[32];
    rc = gw_job_create(&ctx->core, &job, &job_id, ref);
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    ctx->result = result_ref(ref);
    return GW_APPLY_DONE;
}

static enum gw_apply_rc job_comment(struct gw_apply *ctx, const cJSON *data)
{
    static const char type[] = "job.comment";
    const char *body = NULL, *visibility = NULL;
    uint64_t job_id = 0;
    enum gw_apply_rc ar = find_job(ctx, data, type, &job_id);
    if (ar != GW_APPLY_DONE)
        return ar;
    if (gw_json_text(data, "body", TEXT_CHARS, &body) != GW_FIELD_OK)
        return bad_field(ctx, type, "body", "a non-empty string");
    if (gw_json_text(data, "visibility", 16, &visibility) == GW_FIELD_INVALID)
        return bad_field(ctx, type, "visibility", "public or internal");
    struct gw_comment_new cm = {
        .body = body,
        .visibility = visibility,
        .author_label = ctx->endpoint->id, /* the system that sent it */
    };
    uint64_t comment_id = 0;
    return gw_sw_core_result(ctx, gw_job_comment(&ctx->core, job_id, &cm, &comment_id));
}

static enum gw_apply_rc job_status(struct gw_apply *ctx, const cJSON *data)
{
    static const char type[] = "job.status";
    const char *status = NULL;
    uint64_t job_id = 0;
    enum gw_apply_rc ar = find_job(ctx, data, type, &job_id);
    if (ar != GW_APPLY_DONE)
        return ar;
    if (gw_json_text(data, "status", 16, &status) != GW_FIELD_OK)
        return bad_field(ctx, type, "status",
                         "one of new, open, in_progress, on_hold, done, closed");
    return gw_sw_core_result(ctx, gw_job_set_status(&ctx->core, job_id, status));
}

static enum gw_apply_rc job_assign(struct gw_apply *ctx, const cJSON *data)
{
    static const char type[] = "job.assign";
    uint64_t job_id = 0, user_id = 0;
    enum gw_apply_rc ar = find_job(ctx, data, type, &job_id);
    if (ar != GW_APPLY_DONE)
        return ar;
    if ((ar = find_user(ctx, data, type, "assignee_email", &user_id)) != GW_APPLY_DONE)
        return ar;
    return gw_sw_core_result(ctx, gw_job_assign(&ctx->core, job_id, user_id));
}

static enum gw_apply_rc time_add(struct gw_apply *ctx, const cJSON *data)
{
    static const char type[] = "time.add";
    const char *note = NULL, *spent_on = NULL;
    int64_t minutes = 0;
    uint64_t job_id = 0, user_id = 0, entry_id = 0;
    enum gw_apply_rc ar = find_job(ctx, data, type, &job_id);
    if (ar != GW_APPLY_DONE)
        return ar;
    if (gw_json_int(data, "minutes", 1, 1440, &minutes) != GW_FIELD_OK)
        return bad_field(ctx, type, "minutes", "a whole number from 1 to 1440");
    if (gw_json_text(data, "note", 2000, &note) == GW_FIELD_INVALID)
        return bad_field(ctx, type, "note", "a string of at most 2000 characters");
    if (gw_json_text(data, "spent_on", 10, &spent_on) == GW_FIELD_INVALID)
        return bad_field(ctx, type, "spent_on", "a date YYYY-MM-DD");
    if ((ar = find_user(ctx, data, type, "user_email", &user_id)) != GW_APPLY_DONE)
        return ar;
    return gw_sw_core_result(ctx, gw_time_add(&ctx->core, job_id, user_id, (unsigned)minutes, note,
                                              spent_on, &entry_id));
}

static const struct {
    const char *type;
    enum gw_apply_rc (*fn)(struct gw_apply *ctx, const cJSON *data);
} handlers[] = {
    {"job.create", job_create}, {"job.comment", job_comment}, {"job.status", job_status},
    {"job.assign", job_assign}, {"time.add", time_add},
};

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    cJSON *root = cJSON_ParseWithLength((const char *)ctx->body, ctx->body_len);
    enum gw_apply_rc rc = GW_APPLY_FAILED;
    const char *type = NULL;
    const cJSON *data = root ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL;
    if (root == NULL || !cJSON_IsObject(root)) {
        snprintf(ctx->error, sizeof(ctx->error), "the body is not a JSON object");
    } else if (gw_json_text(root, "type", 64, &type) != GW_FIELD_OK) {
        snprintf(ctx->error, sizeof(ctx->error), "\"type\" must be a string");
    } else if (!cJSON_IsObject(data)) {
        snprintf(ctx->error, sizeof(ctx->error), "%.64s: \"data\" must be an object", type);
    } else {
        size_t i = 0;
        while (i < sizeof(handlers) / sizeof(handlers[0]) && strcmp(handlers[i].type, type) != 0)
            i++;
        if (i == sizeof(handlers) / sizeof(handlers[0]))
            snprintf(ctx->error, sizeof(ctx->error),
                     "unknown type '%.64s' (known: job.create, job.comment, job.status, "
                     "job.assign, time.add)",
                     type);
        else
            rc = handlers[i].fn(ctx, data);
    }
    cJSON_Delete(root);
    return rc;
}

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    if (gw_sw_dedupe_key(in, &out[0]) != 0) {
        gw_answer_set(answer, 400, "{\"error\":\"missing_webhook_id\"}");
        return GW_ENVELOPE_ANSWER;
    }
    *n = 1;
    return GW_ENVELOPE_STORE;
}

static void answer(enum gw_outcome outcome, const struct gw_stored *stored, struct gw_answer *a)
{
    switch (outcome) {
    case GW_OUTCOME_UNAVAILABLE: /* answered by the gateway */
    case GW_OUTCOME_ACCEPTED:
    case GW_OUTCOME_DUPLICATE:
    case GW_OUTCOME_APPLIED:
    case GW_OUTCOME_TIMEOUT:
    case GW_OUTCOME_FAILED:
    case GW_OUTCOME_IGNORED: /* the endpoint's company is missing: an operator's problem */
        break;
    }
    gw_answer_set(a, 202, "{\"id\":\"%llu\"}", (unsigned long long)stored->event_id);
}

static const struct gw_cfg_key endpoint_keys[] = {GW_SW_ENDPOINT_KEYS, {.name = NULL}};

const struct gw_provider gw_provider_generic = {
    .name = "generic",
    .summary = "Standard Webhooks signed events driving the jobs of one company",
    .endpoint_keys = endpoint_keys,
    .media_types = gw_sw_media_types,
    .source = "api",
    .stored_headers = gw_sw_stored_headers,
    .verifier = &gw_verifier_standard_webhooks,
    .envelope = envelope,
    .apply = apply,
    .answer = answer,
};
