/* activity.c — HighLevel notes, tasks and appointments on the contact's work: a note or a
 * task becomes an internal comment on the contact's most recent open job (or a note kept on
 * the contact when it has none); an appointment sets that job's due time with a comment,
 * moves it when the appointment moves, and is noted when cancelled. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ghl/ghl.h"
#include "adapters/standard_webhooks_common.h"
#include "gateway/base/text.h"
#include "gateway/core/crm.h"

#define BODY_CHARS  60000
#define TITLE_CHARS 300
#define TEXT_MAX    (BODY_CHARS * 4 + 1024)
#define TEXT_CAP    4096 /* an appointment's comment: title, times and address in bytes */

/* Puts TEXT on the contact's open job, or keeps it on the contact. *job_id: the job, or 0. */
static enum gw_core_rc file_note(struct gw_apply *ctx, const char *contact, const char *text,
                                 const char *external_id, uint64_t *job_id)
{
    uint64_t contact_id = 0, client_id = 0;
    *job_id = 0;
    enum gw_core_rc rc = gw_crm_contact_ref(&ctx->core, contact, &contact_id, &client_id);
    if (rc != GW_CORE_OK)
        return rc;
    rc = gw_crm_open_job(&ctx->core, contact_id, job_id);
    if (rc == GW_CORE_NOT_FOUND) {
        ctx->core.err[0] = '\0';
        return gw_crm_contact_note(&ctx->core, contact_id, text, external_id);
    }
    if (rc != GW_CORE_OK)
        return rc;
    struct gw_comment_new cm = {
        .body = text, .visibility = "internal", .author_label = "GoHighLevel"};
    uint64_t comment_id = 0;
    return gw_job_comment(&ctx->core, *job_id, &cm, &comment_id);
}

static enum gw_apply_rc filed(struct gw_apply *ctx, enum gw_core_rc rc, uint64_t job_id)
{
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        if (job_id != 0)
            cJSON_AddNumberToObject(o, "job_id", (double)job_id);
        else
            cJSON_AddStringToObject(o, "kept_on", "contact");
    }
    gw_ghl_result(ctx, o);
    return GW_APPLY_DONE;
}

static const char *contact_of(struct gw_apply *ctx, const cJSON *o, const char *type)
{
    const char *contact = gw_ghl_id(o, "contactId");
    if (contact == NULL)
        snprintf(ctx->error, sizeof(ctx->error), "%s without a contactId", type);
    return contact;
}

enum gw_apply_rc gw_ghl_apply_note(struct gw_apply *ctx, const cJSON *root, const char *type)
{
    const char *contact = contact_of(ctx, root, type);
    const char *body = gw_ghl_text(root, "body", BODY_CHARS);
    if (contact == NULL)
        return GW_APPLY_FAILED;
    if (body == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "%s without a body", type);
        return GW_APPLY_IGNORED;
    }
    char *text = malloc(TEXT_MAX);
    if (text == NULL)
        return gw_sw_core_result(ctx, gw_core_fail(&ctx->core, GW_CORE_DB_ERROR, "out of memory"));
    snprintf(text, TEXT_MAX, "%s\n\n%s",
             strcmp(type, "NoteUpdate") == 0 ? "Note edited in GoHighLevel:"
                                             : "Note from GoHighLevel:",
             body);
    uint64_t job_id = 0;
    enum gw_core_rc rc = file_note(ctx, contact, text, gw_ghl_id(root, "id"), &job_id);
    free(text);
    return filed(ctx, rc, job_id);
}

enum gw_apply_rc gw_ghl_apply_task(struct gw_apply *ctx, const cJSON *root, const char *type)
{
    const char *contact = contact_of(ctx, root, type);
    if (contact == NULL)
        return GW_APPLY_FAILED;
    const char *title = gw_ghl_text(root, "title", TITLE_CHARS);
    const char *body = gw_ghl_text(root, "body", BODY_CHARS);
    int64_t due = gw_ghl_time_ms(gw_ghl_text(root, "dueDate", 40));
    char due_text[20] = "";
    if (due > 0)
        gw_ghl_time_utc(due, due_text);
    char *text = malloc(TEXT_MAX);
    if (text == NULL)
        return gw_sw_core_result(ctx, gw_core_fail(&ctx->core, GW_CORE_DB_ERROR, "out of memory"));
    bool done = strcmp(type, "TaskComplete") == 0;
    snprintf(text, TEXT_MAX, "%s %s%s%s%s%s%s",
             done ? "Task completed in GoHighLevel:" : "Task from GoHighLevel:",
             title ? title : "(untitled)", due_text[0] ? " (due " : "", due_text,
             due_text[0] ? " UTC)" : "", body && !done ? "\n\n" : "", body && !done ? body : "");
    uint64_t job_id = 0;
    enum gw_core_rc rc = file_note(ctx, contact, text, gw_ghl_id(root, "id"), &job_id);
    free(text);
    return filed(ctx, rc, job_id);
}

/* ------------------------------------------------------------------ appointments */

struct appt {
    const char *id, *contact, *title, *status, *address;
    int64_t start, end;
    char start_text[20], end_text[20];
};

static bool cancelled(const char *status)
{
    return status != NULL && (strcmp(status, "cancelled") == 0 || strcmp(status, "canceled") == 0);
}

static enum gw_core_rc comment(struct gw_apply *ctx, uint64_t job_id, const char *text)
{
    struct gw_comment_new cm = {
        .body = text, .visibility = "internal", .author_label = "GoHighLevel"};
    uint64_t comment_id = 0;
    return gw_job_comment(&ctx->core, job_id, &cm, &comment_id);
}

/* The appointment as a comment: cut, when it must be, on a character and never into
 * invalid UTF-8 (title and address are the sender's, up to 1,200 and 2,000 bytes). */
static void describe(const struct appt *a, const char *lead, char *out, size_t cap)
{
    char when[128];
    snprintf(when, sizeof(when), "When: %s%s%s UTC", a->start_text, a->end_text[0] ? " to " : "",
             a->end_text);
    size_t len = 0, chars = 0;
    out[0] = '\0';
    static const char nl[] = "\n"; /* kept as a line break, where the sender's would not be */
    const char *parts[] = {lead,
                           " ",
                           a->title ? a->title : "(untitled)",
                           nl,
                           when,
                           a->address ? nl : NULL,
                           a->address ? "Where: " : NULL,
                           a->address};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && parts[i] != NULL; i++) {
        if (parts[i] == nl) {
            if (len + 1 >= cap)
                break;
            out[len++] = '\n';
            out[len] = '\0';
        } else {
            gw_text_append_clean(out, cap, &len, &chars, SIZE_MAX, parts[i]);
        }
    }
}

static char *state_json(const struct appt *a, bool is_cancelled)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "start", a->start_text);
    cJSON_AddBoolToObject(o, "cancelled", is_cancelled);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static enum gw_core_rc first_time(struct gw_apply *ctx, const struct appt *a, int64_t updated,
                                  bool is_cancelled, uint64_t *job_id)
{
    char text[TEXT_CAP];
    describe(a, is_cancelled ? "Appointment cancelled in GoHighLevel:" : "Appointment:", text,
             sizeof(text));
    uint64_t contact_id = 0, client_id = 0;
    enum gw_core_rc rc = gw_crm_contact_ref(&ctx->core, a->contact, &contact_id, &client_id);
    if (rc == GW_CORE_OK)
        rc = gw_crm_open_job(&ctx->core, contact_id, job_id);
    if (rc == GW_CORE_NOT_FOUND) {
        ctx->core.err[0] = '\0';
        *job_id = 0;
        return gw_crm_contact_note(&ctx->core, contact_id, text, a->id);
    }
    if (rc == GW_CORE_OK && !is_cancelled && a->start > 0)
        rc = gw_job_set_due(&ctx->core, *job_id, a->start_text);
    if (rc == GW_CORE_OK)
        rc = comment(ctx, *job_id, text);
    char *state = rc == GW_CORE_OK ? state_json(a, is_cancelled) : NULL;
    if (rc == GW_CORE_OK)
        rc = gw_job_link_add(&ctx->core, GW_GHL_LINK_APPOINTMENT, a->id, *job_id, state, updated);
    free(state);
    return rc;
}

static enum gw_core_rc again(struct gw_apply *ctx, const struct appt *a,
                             const struct gw_job_link *link, int64_t updated, bool is_cancelled)
{
    if (updated > 0 && updated < link->updated_ms)
        return GW_CORE_OK;
    cJSON *was = link->state != NULL ? cJSON_Parse(link->state) : NULL;
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(was, "start");
    bool was_cancelled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(was, "cancelled"));
    bool moved =
        a->start > 0 && !(cJSON_IsString(start) && strcmp(start->valuestring, a->start_text) == 0);
    cJSON_Delete(was);
    char text[TEXT_CAP];
    enum gw_core_rc rc = GW_CORE_OK;
    if (is_cancelled && !was_cancelled) {
        describe(a, "Appointment cancelled in GoHighLevel:", text, sizeof(text));
        rc = comment(ctx, link->job_id, text);
    } else if (!is_cancelled && (moved || was_cancelled)) {
        describe(a, was_cancelled ? "Appointment rebooked:" : "Appointment moved:", text,
                 sizeof(text));
        rc = gw_job_set_due(&ctx->core, link->job_id, a->start_text);
        if (rc == GW_CORE_OK)
            rc = comment(ctx, link->job_id, text);
    }
    char *state = rc == GW_CORE_OK ? state_json(a, is_cancelled) : NULL;
    if (rc == GW_CORE_OK)
        rc = gw_job_link_update(&ctx->core, GW_GHL_LINK_APPOINTMENT, a->id, state, updated);
    free(state);
    return rc;
}

enum gw_apply_rc gw_ghl_apply_appointment(struct gw_apply *ctx, const cJSON *root, const char *type)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "appointment");
    if (!cJSON_IsObject(o))
        o = root; /* some deliveries carry the fields at the top */
    struct appt a = {
        .id = gw_ghl_id(o, "id"),
        .contact = gw_ghl_id(o, "contactId"),
        .title = gw_ghl_text(o, "title", TITLE_CHARS),
        .status = gw_ghl_id(o, "appointmentStatus"),
        .address = gw_ghl_text(o, "address", 500),
        .start = gw_ghl_time_ms(gw_ghl_text(o, "startTime", 40)),
        .end = gw_ghl_time_ms(gw_ghl_text(o, "endTime", 40)),
    };
    if (a.id == NULL || a.contact == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "%s without an appointment id or contactId", type);
        return GW_APPLY_FAILED;
    }
    if (a.start > 0)
        gw_ghl_time_utc(a.start, a.start_text);
    if (a.end > 0)
        gw_ghl_time_utc(a.end, a.end_text);
    bool is_cancelled = strcmp(type, "AppointmentDelete") == 0 || cancelled(a.status);
    int64_t updated = gw_ghl_updated_ms(root, o);
    struct gw_job_link link;
    enum gw_core_rc rc = gw_job_link_find(&ctx->core, GW_GHL_LINK_APPOINTMENT, a.id, &link);
    uint64_t job_id = 0;
    if (rc == GW_CORE_NOT_FOUND) {
        ctx->core.err[0] = '\0';
        rc = first_time(ctx, &a, updated, is_cancelled, &job_id);
    } else if (rc == GW_CORE_OK) {
        job_id = link.job_id;
        rc = again(ctx, &a, &link, updated, is_cancelled);
    }
    gw_job_link_clear(&link);
    return filed(ctx, rc, job_id);
}
