/* job_views.h — what adapters that answer people (the Slack /job command) read of a company's
 * jobs to show them: one job with the names it points at, its latest public comments, and
 * short lists. Every function is scoped by the context's company_id and only reads; who may
 * see what is the adapter's decision, made on what these return. */
#ifndef CTGW_JOB_VIEWS_H
#define CTGW_JOB_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/core/jobs.h"

/* VARCHAR(300) and VARCHAR(200) in utf8mb4, with the NUL. */
#define GW_JOB_TITLE_SIZE (300 * 4 + 1)
#define GW_JOB_NAME_SIZE  (200 * 4 + 1)

struct gw_job_view {
    uint64_t id;
    uint64_t assignee_user_id; /* 0: unassigned */
    uint64_t client_id;        /* 0: none */
    char ref[32];              /* "CT-000123" */
    /* With details only. A name is "" and its has_ false when the job points at nobody. */
    char title[GW_JOB_TITLE_SIZE];
    char status[16], priority[16], billing_status[16];
    char assignee_name[GW_JOB_NAME_SIZE], client_name[GW_JOB_NAME_SIZE];
    char due_on[16]; /* "YYYY-MM-DD" (UTC) */
    bool has_assignee_name, has_client_name, has_due_on;
};

/* Finds a job of this company by ref (as gw_job_find accepts it), with its title, status,
 * priority, names and due date when DETAILS is true. v->ref holds the normalised ref even
 * when the job is not found (GW_CORE_NOT_FOUND); GW_CORE_INVALID when REF is not a ref. */
enum gw_core_rc gw_job_view_find(struct gw_core_ctx *c, const char *ref, bool details,
                                 struct gw_job_view *v);

/* Calls FN with the author's name (a user's, a contact's or the label; "" when none) and the
 * body of each of the MAX latest public comments of the job, newest first. The strings live
 * until FN returns. */
enum gw_core_rc gw_job_public_comments(struct gw_core_ctx *c, uint64_t job_id, size_t max,
                                       void (*fn)(void *arg, const char *author, const char *body),
                                       void *arg);

/* Which jobs gw_job_list returns: the flags say which of the ids apply. */
enum {
    GW_JOBS_ASSIGNED = 1u << 0, /* assigned to assignee_user_id */
    GW_JOBS_CLIENT = 1u << 1,   /* of client_id */
    GW_JOBS_MINE = 1u << 2,     /* assigned to or created by user_id */
    GW_JOBS_OPEN = 1u << 3,     /* neither done nor closed */
};

struct gw_job_filter {
    unsigned flags;
    uint64_t assignee_user_id, client_id, user_id;
};

/* One line of a list; assignee_name is NULL when the job is unassigned. */
struct gw_job_line {
    const char *ref, *status, *title, *assignee_name;
};

/* Calls FN for each of the MAX (1..100) newest jobs of this company that pass the filter,
 * newest first; the strings live until FN returns. */
enum gw_core_rc gw_job_list(struct gw_core_ctx *c, const struct gw_job_filter *f, size_t max,
                            void (*fn)(void *arg, const struct gw_job_line *line), void *arg);

/* ---- batched reads: many people's questions answered by one statement (two with comments) */

#define GW_VIEW_COMMENTS_MAX 5

/* One question of a batch: a Slack member of a company, and the job they want to see. */
struct gw_view_query {
    uint64_t company_id;
    const char *slack_user_id;
    char ref[32]; /* a normalised ref (gw_job_ref_normalise), or "" when no job is asked */
    /* The answers. */
    struct gw_user user;    /* id 0: no user of the company (not deleted) has this Slack id */
    struct gw_job_view job; /* id 0: no job with this ref in this company; with details */
    size_t n_comments;      /* the job's latest public comments, newest first */
    char *comment_author[GW_VIEW_COMMENTS_MAX]; /* owned; "" when none */
    char *comment_body[GW_VIEW_COMMENTS_MAX];   /* owned */
};

/* Answers Q[0..N) (N <= GW_VIEW_BATCH_MAX) with one statement for every user and job, and
 * one more for the COMMENTS (<= GW_VIEW_COMMENTS_MAX) latest public comments of the jobs
 * found: what gw_user_find_by_slack_id, gw_job_view_find (with details) and
 * gw_job_public_comments would give one by one. Each question is scoped by its own
 * company_id; only reads. GW_CORE_DB_ERROR with the reason in ERR. */
#define GW_VIEW_BATCH_MAX 1024
enum gw_core_rc gw_job_views_read(struct gw_db *db, struct gw_view_query *q, size_t n,
                                  size_t comments, char *err, size_t err_len);

/* Frees what gw_job_views_read allocated in Q (its comments); Q may be read again. */
void gw_view_query_clear(struct gw_view_query *q);

#endif
