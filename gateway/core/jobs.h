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
    /* The core's own: 0 in a new context, and only the core sets it. It names the note the
     * core keeps, on this thread, of what its own statements proved in this context (a user,
     * a contact, the inbox event), so that a sequence of calls does not look them up again.
     * The note also names this context's address, connection, company and event, so nothing
     * a caller writes here proves anything: a context serves one transaction. */
    uint64_t memo;
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

/* One job of a gw_job_create_many batch: its own context (company, actor, inbox event,
 * source), what to create, and what became of it. */
struct gw_job_batch_item {
    struct gw_core_ctx *ctx;
    const struct gw_job_new *job;
    enum gw_core_rc rc; /* out: as gw_job_create's; the reason in ctx->err */
    uint64_t job_id;    /* out, when rc is GW_CORE_OK */
    char ref[32];       /* out, when rc is GW_CORE_OK */
};

/* Creates the jobs of ITEMS (1..GW_JOB_BATCH_MAX, every context on one connection) as
 * gw_job_create would one after another, with a few statements for the lot: each item's
 * checks first (reads only; an item refused there gets its rc and the others go on), then
 * per company one counter statement taking all its numbers (in the items' order), one
 * INSERT of every job and one of their "created" history rows. So the counters' row locks,
 * which serialise every creator of a company until its commit, are taken only after every
 * check and held for three statements instead of three per job. Returns GW_CORE_OK, or the
 * rc of a shared statement that failed: then no item was created, each item's rc says so,
 * and the caller rolls back. */
enum gw_core_rc gw_job_create_many(struct gw_job_batch_item *items, size_t n);

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

/* Sets the job's due_at ("YYYY-MM-DD HH:MM:SS" UTC, a real time; NULL clears it) and writes a
 * job_events "due_changed" row {from, to} (null for none); the same time writes nothing. */
enum gw_core_rc gw_job_set_due(struct gw_core_ctx *c, uint64_t job_id, const char *due_at);
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

/* A user of the company as a command finds its caller or the user it names. */
struct gw_user {
    uint64_t id;
    uint64_t client_id; /* the client a user of role client acts for; 0 for other roles */
    char role[16];      /* admin, manager, staff, contractor or client */
};

/* The most jobs gw_job_create_many creates at once. */
#define GW_JOB_BATCH_MAX 32

/* The user (not deleted) of this company linked to the Slack member id; NOT_FOUND when there
 * is none. */
enum gw_core_rc gw_user_find_by_slack_id(struct gw_core_ctx *c, const char *slack_id,
                                         struct gw_user *u);

/* One question of gw_users_find_by_slack_ids: a context (company, inbox event) and a Slack
 * member id; its answer. */
struct gw_slack_caller {
    struct gw_core_ctx *ctx;
    const char *slack_id;
    enum gw_core_rc rc;  /* out: OK, or NOT_FOUND (reason in ctx->err) */
    struct gw_user user; /* out, when rc is GW_CORE_OK */
};

/* gw_user_find_by_slack_id for 1..GW_JOB_BATCH_MAX contexts on one connection, in one
 * statement (which proves each context's inbox event on the way). Returns GW_CORE_OK when
 * every question got its answer in its rc, or the error that stopped them all. */
enum gw_core_rc gw_users_find_by_slack_ids(struct gw_slack_caller *q, size_t n);

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

/* The company id of a slug; GW_CORE_NOT_FOUND when there is none. */
enum gw_core_rc gw_company_find(struct gw_db *db, const char *slug, uint64_t *company_id);

#endif
