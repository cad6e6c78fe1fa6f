/* apply.c — one inbound message applied: parsed, routed, counted, checked for automation,
 * threaded, and written as a comment (and a job, attachments, a note of what was cut, the
 * email_received event) on the worker's transaction. */
#include "adapters/mail/apply.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/mail/envelope.h"
#include "adapters/mail/loop_guard.h"
#include "adapters/mail/match.h"
#include "adapters/mail/parse.h"
#include "gateway/base/hash.h"
#include "gateway/core/mail.h"
#include "gateway/db/inbox.h"

/* Counted for the hourly limit when the message names no sender: all such mail to one
 * company shares one count, so a flood without From stops like any other. */
#define UNKNOWN_SENDER "unknown-sender@ctgw.invalid"
#define NOTES_MAX      2048
#define LABEL_MAX      (GW_MAIL_NAME_MAX + GW_MAIL_ADDRESS_MAX + 8)

struct run {
    struct gw_apply *ctx;
    struct gw_core_ctx *c;
    const struct gw_config *cfg;
    struct gw_mail *m;
    struct gw_mail_threading t;
    struct gw_mail_inbound in;
    char recipient[GW_MAIL_RECIPIENT_SIZE];
    char message_id[GW_MAIL_MESSAGE_ID_SIZE];
    char label[LABEL_MAX];
    char notes[NOTES_MAX]; /* what a limit cut */
    const char *automated; /* the loop guard's reason, or NULL */
    /* The outcome. */
    struct gw_mail_job job;
    const char *by;
    uint64_t comment_id;
    bool new_job, reopened, duplicate;
    size_t attachments;
};

__attribute__((format(printf, 2, 3))) static void say(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->ctx->error, sizeof r->ctx->error, fmt, ap);
    va_end(ap);
}

/* A core call that did not succeed: RETRY for the database, FAILED otherwise. */
static enum gw_apply_rc core_failed(struct run *r, enum gw_core_rc rc, const char *what)
{
    say(r, "%s: %s", what, r->c->err[0] ? r->c->err : "failed");
    return rc == GW_CORE_DB_ERROR ? GW_APPLY_RETRY : GW_APPLY_FAILED;
}

__attribute__((format(printf, 2, 3))) static void note(struct run *r, const char *fmt, ...)
{
    size_t used = strlen(r->notes);
    if (used + 8 >= sizeof r->notes)
        return;
    if (used > 0)
        used += (size_t)snprintf(r->notes + used, sizeof r->notes - used, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes + used, sizeof r->notes - used, fmt, ap);
    va_end(ap);
}

static struct gw_mail_limits limits_of(const struct gw_config *cfg)
{
    struct gw_mail_limits lim = {0}; /* zero fields take the parser's defaults */
    if (cfg != NULL) {
        lim.max_message_bytes = (size_t)cfg->mail.max_message;
        lim.max_parts = cfg->mail.max_parts;
        lim.max_depth = cfg->mail.max_depth;
        lim.max_header_bytes = (size_t)cfg->mail.max_header_bytes;
    }
    return lim;
}

/* The message's own Message-ID as stored on comments; a message without one gets a stable
 * id from its bytes, so that a second delivery of it is still recognised. */
static void own_message_id(struct run *r, const struct gw_mail_delivery *d)
{
    if (gw_mail_message_id_normalise(r->m->message_id, r->message_id) == 0)
        return;
    char hex[GW_SHA256_HEX_SIZE];
    if (!gw_sha256_hex(d->raw, d->len, hex))
        hex[0] = '\0';
    snprintf(r->message_id, sizeof r->message_id, "<nomid.%.40s@ctgw.invalid>", hex);
}

static void make_label(struct run *r)
{
    const struct gw_mail *m = r->m;
    if (!m->from_known)
        snprintf(r->label, sizeof r->label, "unknown sender");
    else if (m->from.name[0] != '\0')
        snprintf(r->label, sizeof r->label, "%s <%s>", m->from.name, m->from.address);
    else
        snprintf(r->label, sizeof r->label, "%s", m->from.address);
}

/* ---- what a message writes ------------------------------------------------------------ */

/* The comment's text: the new part of a reply on a job that exists, the whole text on a
 * new one; automated mail says so first. Caller frees. */
static char *comment_body(const struct run *r, bool whole)
{
    const struct gw_mail *m = r->m;
    const char *text = whole || m->reply_text_len == 0 ? m->text : m->reply_text;
    if (r->automated == NULL)
        return strdup(text);
#define AUTOMATED_FMT "Automated e-mail (%s), not answered: %s\n\n%s"
    size_t len =
        sizeof AUTOMATED_FMT + strlen(r->automated) + strlen(m->subject) + strlen(text) + 1;
    char *body = malloc(len);
    if (body != NULL)
        snprintf(body, len, AUTOMATED_FMT, r->automated, m->subject, text);
    return body;
#undef AUTOMATED_FMT
}

/* Stores the attachments within the per-file and per-message limits; what does not fit is
 * noted. */
static enum gw_apply_rc store_attachments(struct run *r)
{
    uint64_t per_file = r->cfg != NULL ? r->cfg->mail.max_attachment : GW_MAIL_ATTACHMENT_MAX;
    uint64_t per_message =
        r->cfg != NULL ? r->cfg->mail.max_attachments_total : GW_MAIL_ATTACHMENT_MAX;
    if (per_file == 0 || per_file > GW_MAIL_ATTACHMENT_MAX)
        per_file = GW_MAIL_ATTACHMENT_MAX;
    uint64_t total = 0;
    for (size_t i = 0; i < r->m->attachment_count; i++) {
        const struct gw_mail_attachment *a = &r->m->attachments[i];
        char name[GW_MAIL_FILENAME_SIZE];
        gw_mail_filename_sanitise(a->filename, name);
        if (a->size > per_file) {
            note(r, "attachment \"%s\" (%zu bytes) is over mail.max_attachment (%llu bytes)", name,
                 a->size, (unsigned long long)per_file);
            continue;
        }
        if (total + a->size > per_message) {
            note(r,
                 "attachment \"%s\" (%zu bytes) is over mail.max_attachments_total (%llu bytes "
                 "for one message)",
                 name, a->size, (unsigned long long)per_message);
            continue;
        }
        struct gw_mail_file f = {
            .filename = a->filename,
            .content_type = a->content_type,
            .data = a->data != NULL ? (const void *)a->data : "",
            .len = a->size,
            .is_inline = a->is_inline,
            .content_id = a->content_id[0] != '\0' ? a->content_id : NULL,
        };
        struct gw_mail_attachment_row row;
        enum gw_core_rc rc = gw_mail_attachment_add(r->c, r->job.id, r->comment_id, &f, &row);
        if (rc != GW_CORE_OK)
            return core_failed(r, rc, "storing an attachment");
        total += a->size;
        r->attachments++;
    }
    return GW_APPLY_DONE;
}

/* An internal note of what the limits cut, beside the message's comment. */
static enum gw_apply_rc note_cuts(struct run *r)
{
    if (r->m->cut)
        note(r, "%s", r->m->notes);
    if (r->notes[0] == '\0')
        return GW_APPLY_DONE;
    char body[NOTES_MAX + GW_MAIL_MESSAGE_ID_SIZE + 64];
    snprintf(body, sizeof body, "Not all of the e-mail %s was stored: %s.", r->message_id,
             r->notes);
    struct gw_comment_new cm = {
        .body = body,
        .visibility = "internal",
        .author_label = "ctgw",
    };
    uint64_t id = 0;
    enum gw_core_rc rc = gw_job_comment(r->c, r->job.id, &cm, &id);
    return rc == GW_CORE_OK ? GW_APPLY_DONE : core_failed(r, rc, "noting what was cut");
}

/* Everything after the comment: attachments, the note of cuts, the history row. */
static enum gw_apply_rc finish(struct run *r)
{
    enum gw_apply_rc ar = store_attachments(r);
    if (ar == GW_APPLY_DONE)
        ar = note_cuts(r);
    if (ar != GW_APPLY_DONE)
        return ar;
    struct gw_mail_event e = {
        .comment_id = r->comment_id,
        .message_id = r->message_id,
        .from = r->m->from_known ? r->m->from.address : NULL,
        .automated = r->automated != NULL,
        .automated_reason = r->automated,
        .new_job = r->new_job,
        .reopened = r->reopened,
    };
    enum gw_core_rc rc = gw_mail_job_event(r->c, r->job.id, &e);
    return rc == GW_CORE_OK ? GW_APPLY_DONE : core_failed(r, rc, "writing the job's history");
}

/* A comment on the job the message answers; the job reopened unless the mail is automated. */
static enum gw_apply_rc add_to_job(struct run *r)
{
    const struct gw_mail *m = r->m;
    struct gw_mail_participant p = {.party = GW_MAIL_STRANGER};
    enum gw_core_rc rc;
    if (m->from_known) {
        rc = gw_mail_participant(r->c, r->job.id, m->from.address, &p);
        if (rc == GW_CORE_INVALID)
            p.party = GW_MAIL_STRANGER;
        else if (rc != GW_CORE_OK)
            return core_failed(r, rc, "finding who the sender is");
    }
    struct gw_mail_comment cm = {
        .visibility = p.party == GW_MAIL_STAFF || r->automated != NULL ? "internal" : "public",
        .author_label = r->label,
        .message_id = r->message_id,
    };
    if (p.party == GW_MAIL_CONTACT)
        cm.author_contact_id = p.contact_id;
    else if (p.party == GW_MAIL_CLIENT_USER || p.party == GW_MAIL_STAFF)
        cm.author_user_id = p.user_id;
    char *body = comment_body(r, false);
    if (body == NULL) {
        say(r, "out of memory");
        return GW_APPLY_RETRY;
    }
    cm.body = body;
    rc = gw_mail_comment_add(r->c, r->job.id, &cm, &r->comment_id, &r->duplicate);
    free(body);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc, "adding the comment");
    if (r->duplicate)
        return GW_APPLY_DONE; /* another worker applied the same message first */
    if (r->automated == NULL) {
        rc = gw_mail_job_reopen(r->c, r->job.id, &r->reopened);
        if (rc != GW_CORE_OK)
            return core_failed(r, rc, "reopening the job");
    }
    return finish(r);
}

/* A new job for the message, its sender the contact, its text the first public comment. */
static enum gw_apply_rc open_job(struct run *r)
{
    const struct gw_mail *m = r->m;
    struct gw_mail_contact contact = {0};
    if (m->from_known) {
        enum gw_core_rc rc = gw_mail_contact_upsert(r->c, m->from.address, m->from.name, &contact);
        if (rc == GW_CORE_DB_ERROR)
            return core_failed(r, rc, "finding the contact");
        if (rc != GW_CORE_OK)
            contact.id = 0; /* a deleted contact stays deleted; the label names the sender */
    }
    struct gw_mail_job_new n = {.subject = m->subject, .contact_id = contact.id};
    enum gw_core_rc rc = gw_mail_job_open(r->c, &n, &r->job);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc, "opening a job");
    r->new_job = true;
    r->by = "new";
    struct gw_mail_comment cm = {
        .visibility = "public",
        .author_contact_id = contact.id,
        .author_label = r->label,
        .message_id = r->message_id,
    };
    char *body = comment_body(r, true);
    if (body == NULL) {
        say(r, "out of memory");
        return GW_APPLY_RETRY;
    }
    cm.body = body;
    rc = gw_mail_comment_add(r->c, r->job.id, &cm, &r->comment_id, &r->duplicate);
    free(body);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc, "adding the first comment");
    return finish(r);
}

static char *result_json(const struct run *r)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o == NULL)
        return NULL;
    bool ok = cJSON_AddStringToObject(o, "ref", r->job.ref) != NULL &&
              cJSON_AddNumberToObject(o, "job_id", (double)r->job.id) != NULL &&
              cJSON_AddNumberToObject(o, "comment_id", (double)r->comment_id) != NULL &&
              cJSON_AddBoolToObject(o, "new_job", r->new_job) != NULL &&
              cJSON_AddBoolToObject(o, "reopened", r->reopened) != NULL &&
              cJSON_AddBoolToObject(o, "automated", r->automated != NULL) != NULL &&
              (r->automated == NULL ||
               cJSON_AddStringToObject(o, "automated_reason", r->automated) != NULL) &&
              cJSON_AddBoolToObject(o, "duplicate", r->duplicate) != NULL &&
              (r->by == NULL || cJSON_AddStringToObject(o, "by", r->by) != NULL) &&
              cJSON_AddNumberToObject(o, "attachments", (double)r->attachments) != NULL;
    if (ok)
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

/* ---- the steps ------------------------------------------------------------------------ */

static enum gw_apply_rc route(struct run *r)
{
    if (r->c->company_id != 0)
        return GW_APPLY_DONE; /* the endpoint's own company */
    char why[256] = "";
    uint64_t company = 0;
    enum gw_core_rc rc = gw_mail_company_find(r->c->db, &r->in, &company, why, sizeof why);
    if (rc == GW_CORE_OK) {
        r->c->company_id = company;
        /* The rows written next name the event, which must be this company's first. */
        if (r->c->webhook_event_id != 0 &&
            gw_inbox_set_company(r->c->db, r->c->webhook_event_id, company) != 0) {
            say(r, "recording the event's company: %s", gw_db_error(r->c->db));
            return GW_APPLY_RETRY;
        }
        return GW_APPLY_DONE;
    }
    say(r, "%s", why[0] ? why : "no company for the recipients");
    return rc == GW_CORE_DB_ERROR ? GW_APPLY_RETRY : GW_APPLY_IGNORED;
}

/* The same message applied to this company before (another relay, another recipient of
 * the company, a redelivery): nothing more to write. */
static enum gw_apply_rc seen_before(struct run *r, bool *seen)
{
    enum gw_core_rc rc = gw_mail_job_by_message_id(r->c, r->message_id, &r->job);
    *seen = rc == GW_CORE_OK;
    if (rc == GW_CORE_OK || rc == GW_CORE_NOT_FOUND || rc == GW_CORE_INVALID) {
        if (*seen) {
            r->duplicate = true;
            r->by = "message-id";
        }
        return GW_APPLY_DONE;
    }
    return core_failed(r, rc, "looking up the Message-ID");
}

static enum gw_apply_rc count_sender(struct run *r)
{
    const struct gw_mail *m = r->m;
    uint32_t limit = r->cfg != NULL ? r->cfg->mail.max_per_sender_hour : 30;
    const char *sender = m->from_known ? m->from.address : UNKNOWN_SENDER;
    struct gw_mail_rate rate;
    enum gw_core_rc rc = gw_mail_sender_count(r->c, sender, 0, limit, &rate);
    if (rc == GW_CORE_INVALID) /* an address the counter does not take: counted as unknown */
        rc = gw_mail_sender_count(r->c, sender = UNKNOWN_SENDER, 0, limit, &rate);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc, "counting the sender's messages");
    if (!rate.over)
        return GW_APPLY_DONE;
    say(r,
        "%s sent %u messages to this company this hour, more than mail.max_per_sender_hour "
        "(%u): not applied",
        sender, (unsigned)rate.messages, (unsigned)limit);
    return GW_APPLY_IGNORED;
}

static enum gw_apply_rc parse(struct run *r, const struct gw_mail_delivery *d)
{
    struct gw_mail_limits lim = limits_of(r->cfg);
    char err[160] = "";
    if (gw_mail_parse(d->raw, d->len, &lim, &r->m, err, sizeof err) == 0)
        return GW_APPLY_DONE;
    say(r, "not an e-mail message: %s", err);
    return strcmp(err, "out of memory") == 0 ? GW_APPLY_RETRY : GW_APPLY_FAILED;
}

static enum gw_apply_rc run_steps(struct run *r, const struct gw_mail_delivery *d)
{
    enum gw_apply_rc ar = parse(r, d);
    if (ar != GW_APPLY_DONE)
        return ar;
    char err[256];
    bool threading = r->cfg != NULL && r->cfg->mail.enabled &&
                     gw_mail_threading_init(&r->t, &r->cfg->mail, err, sizeof err) == 0;
    r->in = (struct gw_mail_inbound){
        .m = r->m,
        .recipient = r->recipient[0] != '\0' ? r->recipient : NULL,
        .t = threading ? &r->t : NULL,
    };
    own_message_id(r, d);
    make_label(r);
    if ((ar = route(r)) != GW_APPLY_DONE)
        return ar;
    bool seen = false;
    if ((ar = seen_before(r, &seen)) != GW_APPLY_DONE || seen)
        return ar;
    if ((ar = count_sender(r)) != GW_APPLY_DONE)
        return ar;
    r->automated = gw_mail_automated(r->m, threading ? r->t.loop_marker : NULL);
    struct gw_mail_match match;
    enum gw_core_rc rc = gw_mail_job_match(r->c, &r->in, &match);
    if (rc == GW_CORE_OK) {
        r->job = match.job;
        r->by = match.by;
        return add_to_job(r);
    }
    if (rc != GW_CORE_NOT_FOUND)
        return core_failed(r, rc, "finding the job the message answers");
    if (r->automated != NULL) {
        say(r, "automated e-mail (%s) that answers no job: no job is opened for it", r->automated);
        return GW_APPLY_IGNORED;
    }
    return open_job(r);
}

enum gw_apply_rc gw_mail_apply(struct gw_apply *ctx, const struct gw_mail_delivery *d)
{
    struct run r = {.ctx = ctx, .c = &ctx->core, .cfg = ctx->cfg};
    ctx->error[0] = '\0';
    if (d == NULL || d->raw == NULL || d->len == 0) {
        say(&r, "not an e-mail message: empty");
        return GW_APPLY_FAILED;
    }
    if (d->recipient != NULL && d->recipient[0] != '\0' &&
        !gw_mail_recipient_clean(d->recipient, r.recipient))
        r.recipient[0] = '\0'; /* checked when stored; unreadable now: route by To and Cc */
    enum gw_apply_rc ar = run_steps(&r, d);
    if (ar == GW_APPLY_DONE) {
        ctx->result = result_json(&r);
        if (ctx->result == NULL) {
            say(&r, "out of memory");
            ar = GW_APPLY_RETRY;
        }
    }
    gw_mail_free(r.m);
    gw_mail_threading_wipe(&r.t);
    return ar;
}
