/* job_views.c — read-only views of a company's jobs for adapters that show them to people,
 * one at a time or a batch of questions in one statement. */
#include "gateway/core/job_views.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ------------------------------------------------------------------ batched reads */

void gw_view_query_clear(struct gw_view_query *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->n_comments; i++) {
        free(q->comment_author[i]);
        free(q->comment_body[i]);
        q->comment_author[i] = q->comment_body[i] = NULL;
    }
    q->n_comments = 0;
}

/* The questions as the JSON array JSON_TABLE reads: [[i, company, slack id, ref], ...]. The
 * values travel as one parameter, so the statement's text, and its prepared form, is the
 * same whatever the batch's size. */
static char *questions_json(const struct gw_view_query *q, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < n; i++) {
        cJSON *row = cJSON_CreateArray();
        if (row == NULL || !cJSON_AddItemToArray(a, row) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)i)) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)q[i].company_id)) ||
            !cJSON_AddItemToArray(
                row, cJSON_CreateString(q[i].slack_user_id ? q[i].slack_user_id : "")) ||
            !cJSON_AddItemToArray(row, cJSON_CreateString(q[i].ref))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    char *json = a != NULL ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return json;
}

static const char batch_sql[] =
    "SELECT q.i, u.id, u.role, COALESCE(u.client_id, 0), j.id, COALESCE(j.assignee_user_id, 0), "
    "COALESCE(j.client_id, 0), j.title, j.status, j.priority, a.name, c.name, "
    "DATE_FORMAT(j.due_at, '%Y-%m-%d'), j.billing_status "
    "FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT PATH '$[0]', company BIGINT UNSIGNED PATH '$[1]', "
    "slack VARCHAR(64) PATH '$[2]', ref VARCHAR(32) PATH '$[3]')) q "
    "LEFT JOIN users u ON u.company_id = q.company AND u.slack_user_id = q.slack AND "
    "u.deleted_at IS NULL "
    "LEFT JOIN jobs j ON q.ref <> '' AND j.company_id = q.company AND j.ref = q.ref "
    "LEFT JOIN users a ON a.company_id = j.company_id AND a.id = j.assignee_user_id "
    "LEFT JOIN clients c ON c.company_id = j.company_id AND c.id = j.client_id";

/* The latest public comments of each listed job, COMMENTS at most each: those whose id is at
 * least the COMMENTS-th newest one's, in no order (sorted here). No derived table, window
 * function or ORDER BY over the bodies: MariaDB 10.11 crashed (signal 11, freeing an Aria
 * temporary table) running the window-function form of this statement under load, and a
 * temporary table holding TEXT columns is always an Aria one. The join order is forced: the
 * list first, then the jobs' comments through their index. */
static const char comments_sql[] =
    "SELECT k.k, jc.id, COALESCE(u.name, ct.name, jc.author_label, ''), jc.body "
    "FROM JSON_TABLE(?, '$[*]' COLUMNS (k INT PATH '$[0]', company BIGINT UNSIGNED PATH '$[1]', "
    "job BIGINT UNSIGNED PATH '$[2]')) k "
    "STRAIGHT_JOIN job_comments jc FORCE INDEX (ix_job_comments_job) ON jc.company_id = "
    "k.company AND jc.job_id = k.job AND jc.visibility = 'public' AND jc.id >= COALESCE(("
    "SELECT c2.id FROM job_comments c2 FORCE INDEX (ix_job_comments_job) WHERE c2.company_id = "
    "k.company AND c2.job_id = k.job AND c2.visibility = 'public' ORDER BY c2.id DESC LIMIT 1 "
    "OFFSET ?), 0) "
    "LEFT JOIN users u ON u.company_id = jc.company_id AND u.id = jc.author_user_id "
    "LEFT JOIN contacts ct ON ct.company_id = jc.company_id AND ct.id = jc.author_contact_id";

/* A row of comments_sql by its place in the answer: question k, newest (highest id) first. */
struct comment_row {
    int64_t k, id;
    size_t r;
};

static int newest_first(const void *a, const void *b)
{
    const struct comment_row *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id;
}

static void read_answer(const struct gw_db_rows *rows, size_t r, struct gw_view_query *q)
{
    if (gw_db_rows_text(rows, r, 1, NULL) != NULL && q->user.id == 0) {
        q->user.id = (uint64_t)gw_db_rows_int(rows, r, 1, 0);
        copy_column(rows, r, 2, q->user.role, sizeof(q->user.role));
        q->user.client_id = (uint64_t)gw_db_rows_int(rows, r, 3, 0);
    }
    struct gw_job_view *v = &q->job;
    if (gw_db_rows_text(rows, r, 4, NULL) == NULL || v->id != 0)
        return;
    v->id = (uint64_t)gw_db_rows_int(rows, r, 4, 0);
    v->assignee_user_id = (uint64_t)gw_db_rows_int(rows, r, 5, 0);
    v->client_id = (uint64_t)gw_db_rows_int(rows, r, 6, 0);
    copy_column(rows, r, 7, v->title, sizeof(v->title));
    copy_column(rows, r, 8, v->status, sizeof(v->status));
    copy_column(rows, r, 9, v->priority, sizeof(v->priority));
    v->has_assignee_name = copy_column(rows, r, 10, v->assignee_name, sizeof(v->assignee_name));
    v->has_client_name = copy_column(rows, r, 11, v->client_name, sizeof(v->client_name));
    v->has_due_on = copy_column(rows, r, 12, v->due_on, sizeof(v->due_on));
    copy_column(rows, r, 13, v->billing_status, sizeof(v->billing_status));
}

static enum gw_core_rc read_comments(struct gw_db *db, struct gw_view_query *q, size_t n,
                                     size_t comments, char *err, size_t err_len)
{
    cJSON *a = cJSON_CreateArray();
    size_t jobs = 0;
    for (size_t i = 0; a != NULL && i < n; i++) {
        if (q[i].job.id == 0)
            continue;
        cJSON *row = cJSON_CreateArray();
        if (row == NULL || !cJSON_AddItemToArray(a, row) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)i)) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)q[i].company_id)) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)q[i].job.id))) {
            cJSON_Delete(a);
            a = NULL;
        }
        jobs++;
    }
    char *json = a != NULL && jobs > 0 ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    if (jobs == 0)
        return GW_CORE_OK;
    if (json == NULL) {
        snprintf(err, err_len, "out of memory");
        return GW_CORE_DB_ERROR;
    }
    struct gw_db_value p[] = {GW_DB_TEXT(json), GW_DB_INT(comments - 1)};
    struct gw_db_rows *rows = gw_db_query(db, comments_sql, p, 2, jobs * comments);
    free(json);
    if (rows == NULL) {
        snprintf(err, err_len, "reading the comments: %s", gw_db_error(db));
        return GW_CORE_DB_ERROR;
    }
    size_t count = gw_db_rows_count(rows);
    struct comment_row *order = calloc(count ? count : 1, sizeof(*order));
    if (order == NULL) {
        gw_db_rows_free(rows);
        snprintf(err, err_len, "out of memory");
        return GW_CORE_DB_ERROR;
    }
    for (size_t r = 0; r < count; r++)
        order[r] = (struct comment_row){
            .k = gw_db_rows_int(rows, r, 0, -1), .id = gw_db_rows_int(rows, r, 1, 0), .r = r};
    qsort(order, count, sizeof(*order), newest_first);
    enum gw_core_rc rc = GW_CORE_OK;
    for (size_t o = 0; o < count && rc == GW_CORE_OK; o++) {
        int64_t k = order[o].k;
        size_t r = order[o].r;
        if (k < 0 || (size_t)k >= n || q[k].n_comments >= comments)
            continue;
        const char *author = gw_db_rows_text(rows, r, 2, NULL);
        const char *body = gw_db_rows_text(rows, r, 3, NULL);
        struct gw_view_query *one = &q[k];
        one->comment_author[one->n_comments] = strdup(author ? author : "");
        one->comment_body[one->n_comments] = strdup(body ? body : "");
        if (one->comment_author[one->n_comments] == NULL ||
            one->comment_body[one->n_comments] == NULL) {
            free(one->comment_author[one->n_comments]);
            free(one->comment_body[one->n_comments]);
            snprintf(err, err_len, "out of memory");
            rc = GW_CORE_DB_ERROR;
        } else {
            one->n_comments++;
        }
    }
    free(order);
    gw_db_rows_free(rows);
    return rc;
}

enum gw_core_rc gw_job_views_read(struct gw_db *db, struct gw_view_query *q, size_t n,
                                  size_t comments, char *err, size_t err_len)
{
    if (db == NULL || q == NULL || n == 0 || n > GW_VIEW_BATCH_MAX ||
        comments > GW_VIEW_COMMENTS_MAX) {
        snprintf(err, err_len, "gw_job_views_read: invalid arguments");
        return GW_CORE_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        memset(&q[i].user, 0, sizeof(q[i].user));
        memset(&q[i].job, 0, sizeof(q[i].job));
        snprintf(q[i].job.ref, sizeof(q[i].job.ref), "%s", q[i].ref);
        q[i].n_comments = 0;
        if (q[i].company_id == 0) {
            snprintf(err, err_len, "gw_job_views_read: a question without a company");
            return GW_CORE_INVALID;
        }
    }
    char *json = questions_json(q, n);
    if (json == NULL) {
        snprintf(err, err_len, "out of memory");
        return GW_CORE_DB_ERROR;
    }
    struct gw_db_value p[] = {GW_DB_TEXT(json)};
    /* A Slack id is unique per company, a ref too: one row a question. */
    struct gw_db_rows *rows = gw_db_query(db, batch_sql, p, 1, n);
    free(json);
    if (rows == NULL) {
        snprintf(err, err_len, "reading users and jobs: %s", gw_db_error(db));
        return GW_CORE_DB_ERROR;
    }
    for (size_t r = 0; r < gw_db_rows_count(rows); r++) {
        int64_t i = gw_db_rows_int(rows, r, 0, -1);
        if (i >= 0 && (size_t)i < n)
            read_answer(rows, r, &q[i]);
    }
    gw_db_rows_free(rows);
    if (comments == 0)
        return GW_CORE_OK;
    enum gw_core_rc rc = read_comments(db, q, n, comments, err, err_len);
    if (rc != GW_CORE_OK)
        for (size_t i = 0; i < n; i++)
            gw_view_query_clear(&q[i]);
    return rc;
}
