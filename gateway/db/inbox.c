/* inbox.c — the multi-row INSERT of webhook_events, built once per row count. */
#include "gateway/db/inbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define COLS_PER_ROW 17
#define SIZES_MAX    64

static char *insert_sql_for[SIZES_MAX + 1];
static char *returning_sql_for[SIZES_MAX + 1];
static pthread_once_t insert_sql_once = PTHREAD_ONCE_INIT;

static void build_insert_sql(void)
{
    static const char head[] =
        "INSERT INTO webhook_events (endpoint, provider, company_id, dedupe_key, "
        "request_id, ingest_batch, status, last_error, source_address, content_type, headers, "
        "body, body_sha256, next_attempt_at, result, attempts, processed_at) VALUES ";
    static const char row[] = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(3) + INTERVAL ? SECOND, "
                              "?, ?, IF(?, NOW(3), NULL))";
    /* A repeated (endpoint, dedupe_key) leaves the stored row as it is; any other error
     * still fails the statement (INSERT IGNORE would turn bad data into warnings). */
    static const char tail[] = " ON DUPLICATE KEY UPDATE id = id";
    /* Each row's stored event, new or repeated: the writers match ids by key, never by the
     * order of ids (auto_increment_increment and the lock mode may space or interleave them). */
    static const char returning[] = " RETURNING id, ingest_batch, endpoint, dedupe_key, result";
    static const size_t sizes[] = GW_INBOX_INSERT_SIZES;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t k = sizes[s];
        size_t len = sizeof(head) + k * (sizeof(row) + 2) + sizeof(tail) + sizeof(returning) + 1;
        char *sql = malloc(len);
        if (sql == NULL)
            continue;
        char *o = sql;
        o += sprintf(o, "%s", head);
        for (size_t i = 0; i < k; i++)
            o += sprintf(o, "%s%s", i ? ", " : "", row);
        o += sprintf(o, "%s", tail);
        returning_sql_for[k] = malloc(len);
        if (returning_sql_for[k] != NULL)
            sprintf(returning_sql_for[k], "%s%s", sql, returning);
        insert_sql_for[k] = sql;
    }
}

static struct gw_db_value text_or_null(const char *s)
{
    return s != NULL ? GW_DB_TEXT(s) : GW_DB_NULL;
}

/* The parameters of ROWS[0..K) for either statement (caller frees), or NULL. */
static struct gw_db_value *row_values(const struct gw_inbox_row *rows, size_t k)
{
    struct gw_db_value *v = calloc(k * COLS_PER_ROW, sizeof(*v));
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < k; i++) {
        const struct gw_inbox_row *r = &rows[i];
        struct gw_db_value *c = &v[i * COLS_PER_ROW];
        c[0] = GW_DB_TEXT(r->endpoint);
        c[1] = GW_DB_TEXT(r->provider);
        c[2] = r->company_id ? GW_DB_INT(r->company_id) : GW_DB_NULL;
        c[3] = GW_DB_TEXT(r->dedupe_key);
        c[4] = text_or_null(r->request_id);
        c[5] = GW_DB_INT(r->batch);
        c[6] = GW_DB_TEXT(r->status);
        c[7] = r->last_error != NULL && r->last_error[0] ? GW_DB_TEXT(r->last_error) : GW_DB_NULL;
        c[8] = text_or_null(r->source_address);
        c[9] = text_or_null(r->content_type);
        c[10] = text_or_null(r->headers);
        c[11] = GW_DB_BLOB(r->body ? (const void *)r->body : "", r->body_len);
        c[12] = GW_DB_BLOB(r->body_sha256, 32);
        c[13] = GW_DB_INT(r->defer_s);
        c[14] = text_or_null(r->result);
        c[15] = GW_DB_INT(r->result ? 1 : 0);
        c[16] = GW_DB_INT(r->result ? 1 : 0);
    }
    return v;
}

int64_t gw_inbox_insert(struct gw_db *db, const struct gw_inbox_row *rows, size_t k)
{
    pthread_once(&insert_sql_once, build_insert_sql);
    const char *sql = k <= SIZES_MAX ? insert_sql_for[k] : NULL;
    struct gw_db_value *v = sql != NULL ? row_values(rows, k) : NULL;
    if (v == NULL)
        return -1;
    int64_t rc = gw_db_exec(db, sql, v, k * COLS_PER_ROW);
    free(v);
    return rc;
}

struct gw_db_rows *gw_inbox_insert_returning(struct gw_db *db, const struct gw_inbox_row *rows,
                                             size_t k)
{
    pthread_once(&insert_sql_once, build_insert_sql);
    const char *sql = k <= SIZES_MAX ? returning_sql_for[k] : NULL;
    struct gw_db_value *v = sql != NULL ? row_values(rows, k) : NULL;
    if (v == NULL)
        return NULL;
    struct gw_db_rows *out = gw_db_query(db, sql, v, k * COLS_PER_ROW, k);
    free(v);
    return out;
}

int gw_inbox_set_company(struct gw_db *db, uint64_t event_id, uint64_t company_id)
{
    struct gw_db_value p[] = {GW_DB_INT(company_id), GW_DB_INT(event_id)};
    return gw_db_exec(db,
                      "UPDATE webhook_events SET company_id = ? WHERE id = ? AND company_id IS "
                      "NULL",
                      p, 2) < 0
               ? -1
               : 0;
}
