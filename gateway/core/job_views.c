/* job_views.c — read-only views of a company's jobs for adapters that show them to people. */
#include "gateway/core/job_views.h"

#include <stdio.h>
#include <string.h>

#define LIST_MAX 100

/* Column C of row R copied into BUF; false (and BUF "") when it is NULL. */
static bool copy_column(const struct gw_db_rows *rows, size_t r, size_t c, char *buf, size_t cap)
{
    const char *s = gw_db_rows_text(rows, r, c, NULL);
    snprintf(buf, cap, "%s", s != NULL ? s : "");
    return s != NULL;
}

static bool ready(struct gw_core_ctx *c)
{
    if (c == NULL || c->db == NULL || c->company_id == 0)
        return false;
    c->err[0] = '\0';
    return true;
}

/* What `details` adds to the job's ids, read with them in one statement. */
static const char view_sql[] =
    "SELECT j.id, COALESCE(j.assignee_user_id, 0), COALESCE(j.client_id, 0) FROM jobs j "
    "WHERE j.company_id = ? AND j.ref = ?";
static const char view_details_sql[] =
    "SELECT j.id, COALESCE(j.assignee_user_id, 0), COALESCE(j.client_id, 0), j.title, "
    "j.status, j.priority, u.name, c.name, DATE_FORMAT(j.due_at, '%Y-%m-%d'), "
    "j.billing_status FROM jobs j "
    "LEFT JOIN users u ON u.company_id = j.company_id AND u.id = j.assignee_user_id "
    "LEFT JOIN clients c ON c.company_id = j.company_id AND c.id = j.client_id "
    "WHERE j.company_id = ? AND j.ref = ?";

static void read_details(const struct gw_db_rows *rows, struct gw_job_view *v)
{
    copy_column(rows, 0, 3, v->title, sizeof(v->title));
    copy_column(rows, 0, 4, v->status, sizeof(v->status));
    copy_column(rows, 0, 5, v->priority, sizeof(v->priority));
    v->has_assignee_name = copy_column(rows, 0, 6, v->assignee_name, sizeof(v->assignee_name));
    v->has_client_name = copy_column(rows, 0, 7, v->client_name, sizeof(v->client_name));
    v->has_due_on = copy_column(rows, 0, 8, v->due_on, sizeof(v->due_on));
    copy_column(rows, 0, 9, v->billing_status, sizeof(v->billing_status));
}

enum gw_core_rc gw_job_view_find(struct gw_core_ctx *c, const char *ref, bool details,
                                 struct gw_job_view *v)
{
    if (!ready(c) || v == NULL)
        return GW_CORE_INVALID;
    memset(v, 0, sizeof(*v));
    if (gw_job_ref_normalise(ref, v->ref) != 0)
        return gw_core_fail(c, GW_CORE_INVALID, "not a ticket reference (expected CT-000123)");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(v->ref)};
    struct gw_db_rows *rows = gw_db_query(c->db, details ? view_details_sql : view_sql, p, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the job");
    enum gw_core_rc rc = GW_CORE_OK;
    if (gw_db_rows_count(rows) == 1) {
        v->id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
        v->assignee_user_id = (uint64_t)gw_db_rows_int(rows, 0, 1, 0);
        v->client_id = (uint64_t)gw_db_rows_int(rows, 0, 2, 0);
        if (details)
            read_details(rows, v);
    } else {
        /* Another company's ref is exactly as unknown as one that does not exist. */
        rc = gw_core_fail(c, GW_CORE_NOT_FOUND, "no job %s in this company", v->ref);
    }
    gw_db_rows_free(rows);
    return rc;
}

enum gw_core_rc gw_job_public_comments(struct gw_core_ctx *c, uint64_t job_id, size_t max,
                                       void (*fn)(void *arg, const char *author, const char *body),
                                       void *arg)
{
    if (!ready(c) || fn == NULL || max == 0 || max > LIST_MAX)
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(job_id), GW_DB_INT(max)};
    struct gw_db_rows *rows =
        gw_db_query(c->db,
                    "SELECT COALESCE(u.name, ct.name, jc.author_label, ''), jc.body "
                    "FROM job_comments jc "
                    "LEFT JOIN users u ON u.company_id = jc.company_id AND u.id = "
                    "jc.author_user_id "
                    "LEFT JOIN contacts ct ON ct.company_id = jc.company_id AND ct.id = "
                    "jc.author_contact_id "
                    "WHERE jc.company_id = ? AND jc.job_id = ? AND jc.visibility = 'public' "
                    "ORDER BY jc.id DESC LIMIT ?",
                    p, 3, max);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the comments");
    for (size_t i = 0; i < gw_db_rows_count(rows); i++) {
        const char *body = gw_db_rows_text(rows, i, 1, NULL);
        fn(arg, gw_db_rows_text(rows, i, 0, NULL), body ? body : "");
    }
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}

/* Appends S to the statement being built; false if it does not fit. */
static bool append(char *sql, size_t cap, const char *s)
{
    size_t len = strlen(sql), n = strlen(s);
    if (len + n >= cap)
        return false;
    memcpy(sql + len, s, n + 1);
    return true;
}

enum gw_core_rc gw_job_list(struct gw_core_ctx *c, const struct gw_job_filter *f, size_t max,
                            void (*fn)(void *arg, const struct gw_job_line *line), void *arg)
{
    if (!ready(c) || f == NULL || fn == NULL || max == 0 || max > LIST_MAX)
        return GW_CORE_INVALID;
    /* Fixed SQL fragments only; every value is a parameter. */
    char sql[1024] = "SELECT j.ref, j.status, u.name, j.title FROM jobs j LEFT JOIN users u ON "
                     "u.company_id = j.company_id AND u.id = j.assignee_user_id WHERE "
                     "j.company_id = ?";
    struct gw_db_value p[6];
    size_t np = 0;
    bool ok = true;
    p[np++] = GW_DB_INT(c->company_id);
    if (f->flags & GW_JOBS_ASSIGNED) {
        ok = ok && append(sql, sizeof(sql), " AND j.assignee_user_id = ?");
        p[np++] = GW_DB_INT(f->assignee_user_id);
    }
    if (f->flags & GW_JOBS_CLIENT) {
        ok = ok && append(sql, sizeof(sql), " AND j.client_id = ?");
        p[np++] = GW_DB_INT(f->client_id);
    }
    if (f->flags & GW_JOBS_OPEN)
        ok = ok && append(sql, sizeof(sql), " AND j.status NOT IN ('done', 'closed')");
    if (f->flags & GW_JOBS_MINE) {
        ok = ok &&
             append(sql, sizeof(sql), " AND (j.assignee_user_id = ? OR j.created_by_user_id = ?)");
        p[np++] = GW_DB_INT(f->user_id);
        p[np++] = GW_DB_INT(f->user_id);
    }
    ok = ok && append(sql, sizeof(sql), " ORDER BY j.id DESC LIMIT ?");
    p[np++] = GW_DB_INT(max);
    if (!ok)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_job_list: filter too long");
    struct gw_db_rows *rows = gw_db_query(c->db, sql, p, np, max);
    if (rows == NULL)
        return gw_core_db_fail(c, "listing the jobs");
    for (size_t i = 0; i < gw_db_rows_count(rows); i++) {
        struct gw_job_line line = {
            .ref = gw_db_rows_text(rows, i, 0, NULL),
            .status = gw_db_rows_text(rows, i, 1, NULL),
            .assignee_name = gw_db_rows_text(rows, i, 2, NULL),
            .title = gw_db_rows_text(rows, i, 3, NULL),
        };
        fn(arg, &line);
    }
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}
