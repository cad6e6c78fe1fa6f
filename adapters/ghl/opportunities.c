/* opportunities.c — HighLevel opportunity events to jobs: an opportunity opens one job when
 * its status is in the endpoint's job_on (default: won) or its stage in job_stages, and never
 * a second (job_links); later changes of status, stage, value and assignee become the job's
 * history, lost or abandoned an internal note, a deletion a note too (the job stays). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ghl/config.h"
#include "adapters/ghl/ghl.h"
#include "adapters/standard_webhooks_common.h"
#include "gateway/core/crm.h"

#define TITLE_CHARS 300

/* The fields of an opportunity a job follows, as text ("" when absent). */
struct opp_state {
    char status[16];
    char stage[72];
    char value[32];
    char assigned[72];
};

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src != NULL ? src : "");
}

static void state_of(const cJSON *o, struct opp_state *s)
{
    copy(s->status, sizeof(s->status), gw_ghl_id(o, "status"));
    copy(s->stage, sizeof(s->stage), gw_ghl_id(o, "pipelineStageId"));
    copy(s->assigned, sizeof(s->assigned), gw_ghl_id(o, "assignedTo"));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "monetaryValue");
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && fabs(v->valuedouble) < 1e15)
        snprintf(s->value, sizeof(s->value), "%.2f", v->valuedouble);
    else
        s->value[0] = '\0';
}

static char *state_json(const struct opp_state *s)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "status", s->status);
    cJSON_AddStringToObject(o, "stage", s->stage);
    cJSON_AddStringToObject(o, "value", s->value);
    cJSON_AddStringToObject(o, "assignedTo", s->assigned);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static void state_read(const char *json, struct opp_state *s)
{
    memset(s, 0, sizeof(*s));
    cJSON *o = json != NULL ? cJSON_Parse(json) : NULL;
    copy(s->status, sizeof(s->status), gw_ghl_text(o, "status", 15));
    copy(s->stage, sizeof(s->stage), gw_ghl_text(o, "stage", 71));
    copy(s->value, sizeof(s->value), gw_ghl_text(o, "value", 31));
    copy(s->assigned, sizeof(s->assigned), gw_ghl_text(o, "assignedTo", 71));
    cJSON_Delete(o);
}

static bool listed(char *const *list, size_t n, const char *v)
{
    for (size_t i = 0; i < n && v[0] != '\0'; i++)
        if (strcmp(list[i], v) == 0)
            return true;
    return false;
}

/* Whether this state opens a job on this endpoint. */
static bool opens(const struct gw_endpoint_config *ep, const struct opp_state *s)
{
    const struct gw_ghl_config *g = gw_ghl_config_of(ep);
    bool on = g->n_job_on == 0 ? strcmp(s->status, "won") == 0
                               : listed(g->job_on, g->n_job_on, s->status);
    return on || listed(g->job_stages, g->n_job_stages, s->stage);
}

/* A job_events row {from, to} of kind KIND. */
static enum gw_core_rc change_event(struct gw_apply *ctx, uint64_t job_id, const char *kind,
                                    const char *from, const char *to)
{
    cJSON *d = cJSON_CreateObject();
    if (d == NULL)
        return gw_core_fail(&ctx->core, GW_CORE_DB_ERROR, "out of memory");
    cJSON_AddStringToObject(d, "from", from);
    cJSON_AddStringToObject(d, "to", to);
    char *text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    if (text == NULL)
        return gw_core_fail(&ctx->core, GW_CORE_DB_ERROR, "out of memory");
    enum gw_core_rc rc = gw_job_event(&ctx->core, job_id, kind, text);
    free(text);
    return rc;
}

static enum gw_core_rc note(struct gw_apply *ctx, uint64_t job_id, const char *text)
{
    struct gw_comment_new cm = {
        .body = text, .visibility = "internal", .author_label = "GoHighLevel"};
    uint64_t comment_id = 0;
    return gw_job_comment(&ctx->core, job_id, &cm, &comment_id);
}

static enum gw_apply_rc open_job(struct gw_apply *ctx, const cJSON *root, const char *id,
                                 const struct opp_state *s, int64_t updated)
{
    struct gw_job_new job = {.title = gw_ghl_text(root, "name", TITLE_CHARS)};
    char title[80], description[256]; /* "Opportunity " and an id of up to 64 */
    if (job.title == NULL) {
        snprintf(title, sizeof(title), "Opportunity %s", id);
        job.title = title;
    }
    snprintf(description, sizeof(description),
             "From GoHighLevel opportunity %s (status %s%s%s%s%s).", id, s->status,
             s->stage[0] ? ", stage " : "", s->stage, s->value[0] ? ", value " : "", s->value);
    job.description = description;
    const char *contact = gw_ghl_id(root, "contactId");
    enum gw_core_rc rc;
    if (contact != NULL && (rc = gw_crm_contact_ref(&ctx->core, contact, &job.contact_id,
                                                    &job.client_id)) != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    if (!gw_ghl_user_of(ctx, gw_ghl_location(ctx, root), s->assigned[0] ? s->assigned : NULL,
                        &job.assignee_user_id))
        return gw_sw_core_result(ctx, GW_CORE_DB_ERROR);
    uint64_t job_id = 0;
    char ref[32];
    char *state = state_json(s);
    rc = gw_job_create(&ctx->core, &job, &job_id, ref);
    if (rc == GW_CORE_OK)
        rc = gw_job_link_add(&ctx->core, GW_GHL_LINK_OPPORTUNITY, id, job_id, state, updated);
    free(state);
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "ref", ref);
        cJSON_AddBoolToObject(o, "opened", true);
    }
    gw_ghl_result(ctx, o);
    return GW_APPLY_DONE;
}

/* What changed since the state last applied, into the job's history. */
static enum gw_core_rc follow(struct gw_apply *ctx, const cJSON *root, uint64_t job_id,
                              const struct opp_state *was, const struct opp_state *now,
                              int *changes)
{
    enum gw_core_rc rc = GW_CORE_OK;
    if (now->status[0] && strcmp(was->status, now->status) != 0) {
        (*changes)++;
        rc = change_event(ctx, job_id, "crm_status", was->status, now->status);
        if (rc == GW_CORE_OK &&
            (strcmp(now->status, "lost") == 0 || strcmp(now->status, "abandoned") == 0)) {
            char text[96];
            snprintf(text, sizeof(text), "The GoHighLevel opportunity was marked %s.", now->status);
            rc = note(ctx, job_id, text);
        }
    }
    if (rc == GW_CORE_OK && now->stage[0] && strcmp(was->stage, now->stage) != 0) {
        (*changes)++;
        rc = change_event(ctx, job_id, "crm_stage", was->stage, now->stage);
    }
    if (rc == GW_CORE_OK && now->value[0] && strcmp(was->value, now->value) != 0) {
        (*changes)++;
        rc = change_event(ctx, job_id, "crm_value", was->value, now->value);
    }
    if (rc == GW_CORE_OK && strcmp(was->assigned, now->assigned) != 0) {
        (*changes)++;
        uint64_t user = 0;
        if (!gw_ghl_user_of(ctx, gw_ghl_location(ctx, root),
                            now->assigned[0] ? now->assigned : NULL, &user))
            return GW_CORE_DB_ERROR;
        rc = change_event(ctx, job_id, "crm_assignee", was->assigned, now->assigned);
        /* A HighLevel user with no CanTicket user leaves the job's assignee as it is. */
        if (rc == GW_CORE_OK && (user != 0 || now->assigned[0] == '\0'))
            rc = gw_job_assign(&ctx->core, job_id, user);
    }
    return rc;
}

enum gw_apply_rc gw_ghl_apply_opportunity(struct gw_apply *ctx, const cJSON *root, const char *type)
{
    const char *id = gw_ghl_id(root, "id");
    if (id == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "%s without an opportunity id", type);
        return GW_APPLY_FAILED;
    }
    int64_t updated = gw_ghl_updated_ms(root, root);
    struct gw_job_link link;
    enum gw_core_rc rc = gw_job_link_find(&ctx->core, GW_GHL_LINK_OPPORTUNITY, id, &link);
    if (rc != GW_CORE_OK && rc != GW_CORE_NOT_FOUND)
        return gw_sw_core_result(ctx, rc);
    struct opp_state now;
    state_of(root, &now);
    bool deleted = strcmp(type, "OpportunityDelete") == 0;
    if (rc == GW_CORE_NOT_FOUND) {
        ctx->core.err[0] = '\0';
        if (!deleted && opens(ctx->endpoint, &now))
            return open_job(ctx, root, id, &now, updated);
        cJSON *o = cJSON_CreateObject();
        if (o != NULL)
            cJSON_AddBoolToObject(o, "opened", false);
        gw_ghl_result(ctx, o);
        return GW_APPLY_DONE;
    }
    int changes = 0;
    if (deleted) {
        rc = note(ctx, link.job_id, "The GoHighLevel opportunity was deleted; the job stays.");
        changes = 1;
    } else if (updated > 0 && updated < link.updated_ms) {
        rc = GW_CORE_OK; /* older than what the job follows already */
    } else {
        struct opp_state was;
        state_read(link.state, &was);
        /* Only what this event carries counts: a field it leaves out is unchanged. */
        if (now.assigned[0] == '\0' && cJSON_GetObjectItemCaseSensitive(root, "assignedTo") == NULL)
            copy(now.assigned, sizeof(now.assigned), was.assigned);
        rc = follow(ctx, root, link.job_id, &was, &now, &changes);
        struct opp_state keep = was;
        if (now.status[0])
            copy(keep.status, sizeof(keep.status), now.status);
        if (now.stage[0])
            copy(keep.stage, sizeof(keep.stage), now.stage);
        if (now.value[0])
            copy(keep.value, sizeof(keep.value), now.value);
        copy(keep.assigned, sizeof(keep.assigned), now.assigned);
        char *state = rc == GW_CORE_OK ? state_json(&keep) : NULL;
        if (rc == GW_CORE_OK)
            rc = gw_job_link_update(&ctx->core, GW_GHL_LINK_OPPORTUNITY, id, state, updated);
        free(state);
    }
    uint64_t job_id = link.job_id;
    gw_job_link_clear(&link);
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddNumberToObject(o, "job_id", (double)job_id);
        cJSON_AddNumberToObject(o, "changes", changes);
    }
    gw_ghl_result(ctx, o);
    return GW_APPLY_DONE;
}
