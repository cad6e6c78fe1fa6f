/* jobs.h — the core-table operations adapters call inside a worker's transaction: jobs and
 * their refs, comments, status, assignment, priority, time entries, contacts, and the
 * job_events history row every change writes. Every function is scoped by the context's
 * company_id, runs its statements on the caller's open transaction, and never commits. */
#ifndef CTGW_JOBS_H
#define CTGW_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/db/db.h"

enum gw_core_rc {
    GW_CORE_OK = 0,
    GW_CORE_NOT_FOUND, /* the ref, user or row does not exist in this company: permanent */
    GW_CORE_INVALID,   /* a value out of its domain (status, priority, minutes...): permanent */
    GW_CORE_DB_ERROR,  /* the database failed: the caller rolls back and retries later */
};

/* Who is acting and on whose behalf; err receives a readable reason on any failure. */
struct gw_core_ctx {
    struct gw_db *db;
    uint64_t company_id;
    const char *source;        /* jobs.source / job_events.source: email, slack, xero, crm,
                                  form, stripe, asana, api */
    uint64_t webhook_event_id; /* 0 when not from an inbox event */
    uint64_t actor_user_id;    /* 0 when no CanTicket user acts */
    /* Rows this transaction has already proved to exist, so that a sequence of calls does
     * not look them up again. proved_company is the company they were proved in (the
     * company itself exists then too); when it differs from company_id nothing is proved.
     * The core sets them after its own checks; a caller may set them only for what it
     * proved itself in the same transaction (the worker holds the inbox row, whose
     * company_id it copied and whose foreign key proves the company). */
    uint64_t proved_company;
    uint64_t proved_event;   /* webhook_event_id */
    uint64_t proved_contact; /* the contact gw_contact_upsert returned */
    uint64_t proved_user;    /* a user (not deleted) of the company, see gw_core_proved_user */
    char err[256];
};

struct gw_job_new {
    const char *title;       /* required, 1..300 characters */
    const char *description; /* may be NULL */
    const char *priority;    /* NULL: normal */
    const char *status;      /* NULL: new */
    const char *team;        /* may be NULL */
    const char *due_at;      /* "YYYY-MM-DD HH:MM:SS" UTC, or NULL */
    uint64_t client_id, contact_id, assignee_user_id, created_by_user_id; /* 0: none */
};

/* Creates a job with the company's next ref (CT-000001 onward; safe under concurrency) and
 * writes a job_events "created" row. ref receives "CT-000123". */
enum gw_core_rc gw_job_create(struct gw_core_ctx *c, const struct gw_job_new *j, uint64_t *job_id,
                              char ref[32]);

/* Finds a job of this company by ref, accepting "CT-000123", "ct-123" or "123". */
enum gw_core_rc gw_job_find(struct gw_core_ctx *c, const char *ref, uint64_t *job_id);

/* Normalises a ref as gw_job_find accepts it into "CT-000123"; -1 when it is not a ref. */
int gw_job_ref_normalise(const char *in, char out[32]);

struct gw_comment_new {
    const char *body;                           /* required, non-empty */
    const char *visibility;                     /* "public" or "internal"; NULL: internal */
    uint64_t author_user_id, author_contact_id; /* 0: none */
    const char *author_label;                   /* used when neither id is set */
    const char *email_message_id;               /* may be NULL */
};
enum gw_core_rc gw_job_comment(struct gw_core_ctx *c, uint64_t job_id,
                               const struct gw_comment_new *cm, uint64_t *comment_id);

/* Changes status (new, open, in_progress, on_hold, done, closed); sets closed_at when
 * closing and clears it when reopening. A change to the same status writes nothing. */
enum gw_core_rc gw_job_set_status(struct gw_core_ctx *c, uint64_t job_id, const char *status);
/* Assigns to a user of this company (0 unassigns). */
enum gw_core_rc gw_job_assign(struct gw_core_ctx *c, uint64_t job_id, uint64_t user_id);
enum gw_core_rc gw_job_set_priority(struct gw_core_ctx *c, uint64_t job_id, const char *priority);

/* A time entry: 1..1440 minutes, spent_on "YYYY-MM-DD" (NULL: today, UTC). */
enum gw_core_rc gw_time_add(struct gw_core_ctx *c, uint64_t job_id, uint64_t user_id,
                            unsigned minutes, const char *note, const char *spent_on,
                            uint64_t *entry_id);

/* Finds the contact with this e-mail (case-insensitive) in the company or creates it; a
 * name or phone given fills in what the contact lacks. */
enum gw_core_rc gw_contact_upsert(struct gw_core_ctx *c, const char *email, const char *name,
                                  const char *phone, uint64_t *contact_id);

/* The user of this company with this e-mail (not deleted). */
enum gw_core_rc gw_user_find_by_email(struct gw_core_ctx *c, const char *email, uint64_t *user_id);

/* Appends a job_events row (kind, detail as a JSON object text or NULL) with the context's
 * source, actor and webhook event id. Every function above calls it for its change. */
enum gw_core_rc gw_job_event(struct gw_core_ctx *c, uint64_t job_id, const char *kind,
                             const char *detail_json);

/* Fills c->err from the format and returns rc: how core operations (jobs.c, invoices.c)
 * report a refusal or failure. */
enum gw_core_rc gw_core_fail(struct gw_core_ctx *c, enum gw_core_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* GW_CORE_DB_ERROR with "WHAT: the database's message". */
enum gw_core_rc gw_core_db_fail(struct gw_core_ctx *c, const char *what);

/* Records that the caller found user_id, not deleted, in the context's company within
 * this transaction (an adapter that looked its caller up), so the core need not again. */
void gw_core_proved_user(struct gw_core_ctx *c, uint64_t user_id);

/* The company id of a slug; GW_CORE_NOT_FOUND when there is none. */
enum gw_core_rc gw_company_find(struct gw_db *db, const char *slug, uint64_t *company_id);

#endif
