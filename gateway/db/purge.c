/* purge.c — retention of the inbox's raw bodies and of audit_log. */
#include "gateway/db/purge.h"

#include <stdbool.h>

/* The inbox has no index on received_at (migration 0004 dropped it: the ingest path pays for
 * every index), so its events are walked in windows of the primary key, whose order is the
 * order they arrived in: each window one short UPDATE, and the walk ends at the first event
 * that is not old enough. */
static int purge_bodies(struct gw_db *db, const struct gw_retention_config *r,
                        const atomic_bool *stop, uint64_t *emptied)
{
    int64_t age_s = (int64_t)(r->raw_bodies_ms / 1000);
    uint64_t after = 0;
    while (stop == NULL || !atomic_load(stop)) {
        struct gw_db_value p[] = {GW_DB_INT(age_s), GW_DB_INT(after)};
        struct gw_db_rows *rows =
            gw_db_query(db,
                        "SELECT id, received_at < NOW(6) - INTERVAL ? SECOND FROM webhook_events "
                        "WHERE id > ? ORDER BY id LIMIT 1",
                        p, 2, 1);
        if (rows == NULL)
            return -1;
        bool more = gw_db_rows_count(rows) == 1 && gw_db_rows_int(rows, 0, 1, 0) == 1;
        uint64_t first = more ? (uint64_t)gw_db_rows_int(rows, 0, 0, 0) : 0;
        gw_db_rows_free(rows);
        if (!more || first == 0)
            return 0;
        uint64_t last = first + r->batch - 1;
        struct gw_db_value u[] = {GW_DB_INT(first), GW_DB_INT(last), GW_DB_INT(age_s)};
        int64_t n = gw_db_exec(db,
                               "UPDATE webhook_events SET body = '' WHERE id BETWEEN ? AND ? AND "
                               "status IN ('done', 'ignored') AND received_at < NOW(6) - "
                               "INTERVAL ? SECOND AND LENGTH(body) > 0",
                               u, 3);
        if (n < 0)
            return -1;
        *emptied += (uint64_t)n;
        after = last;
    }
    return 0;
}

static int purge_audit(struct gw_db *db, const struct gw_retention_config *r,
                       const atomic_bool *stop, uint64_t *deleted)
{
    int64_t age_s = (int64_t)(r->audit_ms / 1000);
    while (stop == NULL || !atomic_load(stop)) {
        struct gw_db_value p[] = {GW_DB_INT(age_s), GW_DB_INT(r->batch)};
        int64_t n = gw_db_exec(db,
                               "DELETE FROM audit_log WHERE occurred_at < NOW(6) - INTERVAL ? "
                               "SECOND ORDER BY occurred_at LIMIT ?",
                               p, 2);
        if (n < 0)
            return -1;
        *deleted += (uint64_t)n;
        if ((uint64_t)n < r->batch)
            return 0;
    }
    return 0;
}

int gw_purge_run(struct gw_db *db, const struct gw_retention_config *r, const atomic_bool *stop,
                 struct gw_purge_stats *out)
{
    if (db == NULL || r == NULL || out == NULL || r->batch == 0)
        return -1;
    if (purge_bodies(db, r, stop, &out->bodies) != 0)
        return -1;
    return purge_audit(db, r, stop, &out->audit);
}
