/* match.c — routing a message to its company and threading it to a job. */
#include "adapters/mail/match.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway/core/mail_text.h"

#define REF_DIGITS_MAX 19 /* more is no ref of ours (jobs.number is a BIGINT) */

/* ---- routing ------------------------------------------------------------------------- */

/* The addresses routing tries, in order, without repeats: the envelope recipient alone
 * when there is one (the relay says which copy this is), else To and Cc. */
static size_t route_candidates(const struct gw_mail_inbound *in, const char **out, size_t max)
{
    size_t n = 0;
    if (in->recipient != NULL && in->recipient[0] != '\0') {
        out[n++] = in->recipient;
        return n;
    }
    const struct gw_mail *m = in->m;
    for (size_t list = 0; list < 2; list++) {
        const struct gw_mail_address *a = list == 0 ? m->to : m->cc;
        size_t count = list == 0 ? m->to_count : m->cc_count;
        for (size_t i = 0; i < count && n < max; i++) {
            const char *addr = a[i].address;
            bool seen = addr[0] == '\0';
            for (size_t k = 0; k < n && !seen; k++)
                seen = strcasecmp(out[k], addr) == 0;
            if (!seen)
                out[n++] = addr;
        }
    }
    return n;
}

/* The company whose MAC TEXT carries, when TEXT is a thread id of ours. */
static enum gw_core_rc route_by_id(struct gw_db *db, const struct gw_mail_threading *t,
                                   const char *text, uint64_t *company_id)
{
    struct gw_mail_thread_id id;
    if (text == NULL || text[0] == '\0' || !gw_mail_thread_parse(text, strlen(text), &id))
        return GW_CORE_NOT_FOUND;
    return gw_mail_route_thread(db, t, &id, company_id);
}

enum gw_core_rc gw_mail_company_find(struct gw_db *db, const struct gw_mail_inbound *in,
                                     uint64_t *company_id, char *why, size_t why_len)
{
    const char *cand[GW_MAIL_ROUTE_CANDIDATES];
    size_t n = route_candidates(in, cand, GW_MAIL_ROUTE_CANDIDATES);
    char first_why[256] = "";
    *company_id = 0;
    for (size_t i = 0; i < n; i++) {
        struct gw_mail_route r;
        char reason[256] = "";
        enum gw_core_rc rc = gw_mail_route(db, cand[i], &r, reason, sizeof reason);
        if (rc == GW_CORE_DB_ERROR) {
            snprintf(why, why_len, "%s", reason);
            return rc;
        }
        if (rc == GW_CORE_OK) {
            *company_id = r.company_id;
            return GW_CORE_OK;
        }
        if (first_why[0] == '\0')
            snprintf(first_why, sizeof first_why, "%s", reason);
    }
    /* No address routes: a reply to one of our thread ids still belongs to its company. */
    if (in->t != NULL) {
        const struct gw_mail *m = in->m;
        enum gw_core_rc rc = GW_CORE_NOT_FOUND;
        for (size_t i = 0; i < n && rc == GW_CORE_NOT_FOUND; i++)
            rc = route_by_id(db, in->t, cand[i], company_id);
        if (rc == GW_CORE_NOT_FOUND)
            rc = route_by_id(db, in->t, m->in_reply_to, company_id);
        for (size_t i = m->references_count; i > 0 && rc == GW_CORE_NOT_FOUND; i--)
            rc = route_by_id(db, in->t, m->references[i - 1], company_id);
        if (rc == GW_CORE_OK || rc == GW_CORE_DB_ERROR) {
            if (rc == GW_CORE_DB_ERROR)
                snprintf(why, why_len, "looking up the company of a thread id failed");
            return rc;
        }
    }
    snprintf(why, why_len, "%s", n == 0 ? "the message names no recipient" : first_why);
    return GW_CORE_NOT_FOUND;
}

/* ---- threading ----------------------------------------------------------------------- */

/* The job ID (a Message-ID without brackets, as parsed) points at: one of our thread ids
 * whose MAC verifies for this company, or an id stored on one of its comments. */
static enum gw_core_rc job_by_id(struct gw_core_ctx *c, const struct gw_mail_inbound *in,
                                 const char *id, struct gw_mail_job *job)
{
    char ref[32];
    char norm[GW_MAIL_MESSAGE_ID_SIZE];
    if (id == NULL || id[0] == '\0')
        return GW_CORE_NOT_FOUND;
    if (in->t != NULL && gw_mail_thread_match(in->t, c->company_id, id, strlen(id), ref)) {
        enum gw_core_rc rc = gw_mail_job_by_ref(c, ref, job);
        if (rc != GW_CORE_NOT_FOUND && rc != GW_CORE_INVALID)
            return rc;
    }
    if (gw_mail_message_id_normalise(id, norm) != 0)
        return GW_CORE_NOT_FOUND;
    enum gw_core_rc rc = gw_mail_job_by_message_id(c, norm, job);
    return rc == GW_CORE_INVALID ? GW_CORE_NOT_FOUND : rc;
}

/* A reply+ address of this company among the recipients. */
static enum gw_core_rc job_by_reply_address(struct gw_core_ctx *c, const struct gw_mail_inbound *in,
                                            struct gw_mail_job *job)
{
    const struct gw_mail *m = in->m;
    char ref[32];
    if (in->t == NULL)
        return GW_CORE_NOT_FOUND;
    for (size_t list = 0; list < 3; list++) {
        const struct gw_mail_address *a = list == 1 ? m->to : list == 2 ? m->cc : NULL;
        size_t count = list == 0 ? 1 : list == 1 ? m->to_count : m->cc_count;
        for (size_t i = 0; i < count; i++) {
            const char *addr = list == 0 ? in->recipient : a[i].address;
            if (addr == NULL || addr[0] == '\0' ||
                !gw_mail_thread_match(in->t, c->company_id, addr, strlen(addr), ref))
                continue;
            enum gw_core_rc rc = gw_mail_job_by_ref(c, ref, job);
            if (rc != GW_CORE_NOT_FOUND && rc != GW_CORE_INVALID)
                return rc;
        }
    }
    return GW_CORE_NOT_FOUND;
}

bool gw_mail_subject_tag(const char *subject, char ref[32])
{
    for (const char *p = subject != NULL ? strchr(subject, '[') : NULL; p != NULL;
         p = strchr(p + 1, '[')) {
        if ((p[1] != 'C' && p[1] != 'c') || (p[2] != 'T' && p[2] != 't') || p[3] != '-')
            continue;
        size_t d = 0;
        while (p[4 + d] >= '0' && p[4 + d] <= '9' && d <= REF_DIGITS_MAX)
            d++;
        if (d < 6 || d > REF_DIGITS_MAX || p[4 + d] != ']')
            continue;
        char text[32];
        snprintf(text, sizeof text, "CT-%.*s", (int)d, p + 4);
        if (gw_job_ref_normalise(text, ref) == 0)
            return true;
    }
    return false;
}

/* The subject tag's job, when the sender is a participant of it. */
static enum gw_core_rc job_by_subject_tag(struct gw_core_ctx *c, const struct gw_mail_inbound *in,
                                          struct gw_mail_job *job)
{
    char ref[32];
    const struct gw_mail *m = in->m;
    if (!m->from_known || !gw_mail_subject_tag(m->subject, ref))
        return GW_CORE_NOT_FOUND;
    enum gw_core_rc rc = gw_mail_job_by_ref(c, ref, job);
    if (rc != GW_CORE_OK)
        return rc == GW_CORE_INVALID ? GW_CORE_NOT_FOUND : rc;
    struct gw_mail_participant p;
    rc = gw_mail_participant(c, job->id, m->from.address, &p);
    if (rc != GW_CORE_OK)
        return rc == GW_CORE_INVALID ? GW_CORE_NOT_FOUND : rc;
    return p.party == GW_MAIL_STRANGER ? GW_CORE_NOT_FOUND : GW_CORE_OK;
}

enum gw_core_rc gw_mail_job_match(struct gw_core_ctx *c, const struct gw_mail_inbound *in,
                                  struct gw_mail_match *out)
{
    const struct gw_mail *m = in->m;
    enum gw_core_rc rc = GW_CORE_NOT_FOUND;
    memset(out, 0, sizeof *out);
    if (m->is_dsn) {
        out->by = "delivery-status";
        rc = job_by_id(c, in, m->dsn_message_id, &out->job);
    }
    if (rc == GW_CORE_NOT_FOUND) {
        out->by = "in-reply-to";
        rc = job_by_id(c, in, m->in_reply_to, &out->job);
    }
    for (size_t i = m->references_count; i > 0 && rc == GW_CORE_NOT_FOUND; i--) {
        out->by = "references";
        if (strcmp(m->references[i - 1], m->in_reply_to) != 0) /* asked already */
            rc = job_by_id(c, in, m->references[i - 1], &out->job);
    }
    if (rc == GW_CORE_NOT_FOUND) {
        out->by = "reply-address";
        rc = job_by_reply_address(c, in, &out->job);
    }
    if (rc == GW_CORE_NOT_FOUND) {
        out->by = "subject-tag";
        rc = job_by_subject_tag(c, in, &out->job);
    }
    if (rc != GW_CORE_OK)
        out->by = NULL;
    return rc;
}
