/* migrate.c — applies the embedded schema migrations in order under a named lock. */
#include "gateway/db/migrate.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/base/hash.h"
#include "gateway/base/log.h"
#include "gateway/db/migrations.h"

#define LOCK_WAIT_S      "120"
#define MAX_APPLIED      10000
#define ER_NO_SUCH_TABLE 1146

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT UNSIGNED NOT NULL,"
    " name VARCHAR(255) NOT NULL,"
    " checksum CHAR(64) CHARACTER SET ascii NOT NULL,"
    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    " PRIMARY KEY (version)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

/* True when [s, s+n) holds only blanks and "--" comment lines. */
static bool only_comments(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (i >= n)
            break;
        if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        return false;
    }
    return true;
}

/* Runs each statement of a migration; statements end with ';' at the end of a line. */
static int run_statements(struct gw_db *db, const struct gw_migration *m, char *err, size_t errlen)
{
    const char *p = m->sql;
    const char *end = m->sql + m->len;
    const char *start = p;
    unsigned n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *q = line_end;
        while (q > p && isspace((unsigned char)q[-1]))
            q--;
        bool comment_line = false;
        const char *f = p;
        while (f < q && isspace((unsigned char)*f))
            f++;
        if (q - f >= 2 && f[0] == '-' && f[1] == '-')
            comment_line = true;
        if (!comment_line && q > p && q[-1] == ';') {
            size_t len = (size_t)(q - 1 - start);
            n++;
            if (!only_comments(start, len) && gw_db_exec_static(db, start, len) != 0) {
                snprintf(err, errlen, "migration %04u_%s, statement %u: %s", m->version, m->name, n,
                         gw_db_error(db));
                return -1;
            }
            start = line_end;
        }
        p = nl ? nl + 1 : end;
    }
    if (!only_comments(start, (size_t)(end - start))) {
        snprintf(err, errlen, "migration %04u_%s: text after the last ';'", m->version, m->name);
        return -1;
    }
    return 0;
}

/* Reads the applied versions; NULL rows with an error, or rows (possibly empty). */
static struct gw_db_rows *applied_rows(struct gw_db *db)
{
    return gw_db_query(db, "SELECT version, checksum FROM schema_migrations ORDER BY version", NULL,
                       0, MAX_APPLIED);
}

static const char *applied_checksum(const struct gw_db_rows *rows, unsigned version)
{
    for (size_t r = 0; r < gw_db_rows_count(rows); r++)
        if (gw_db_rows_int(rows, r, 0, -1) == (int64_t)version)
            return gw_db_rows_text(rows, r, 1, NULL);
    return NULL;
}

static int release_lock(struct gw_db *db)
{
    return gw_db_exec(db, "SELECT RELEASE_LOCK(CONCAT('ctgw.migrate.', DATABASE()))", NULL, 0) < 0
               ? -1
               : 0;
}

int gw_migrate_apply(struct gw_db *db, unsigned *applied, char *err, size_t errlen)
{
    *applied = 0;
    struct gw_db_rows *lock = gw_db_query(
        db, "SELECT GET_LOCK(CONCAT('ctgw.migrate.', DATABASE()), " LOCK_WAIT_S ")", NULL, 0, 1);
    if (lock == NULL) {
        snprintf(err, errlen, "cannot take the migration lock: %s", gw_db_error(db));
        return -1;
    }
    int64_t got = gw_db_rows_int(lock, 0, 0, 0);
    gw_db_rows_free(lock);
    if (got != 1) {
        snprintf(err, errlen, "another migration held the lock for over %s s", LOCK_WAIT_S);
        return -1;
    }

    int rc = -1;
    struct gw_db_rows *rows = NULL;
    if (gw_db_exec_static(db, create_table_sql, sizeof(create_table_sql) - 1) != 0) {
        snprintf(err, errlen, "cannot create schema_migrations: %s", gw_db_error(db));
        goto out;
    }
    rows = applied_rows(db);
    if (rows == NULL) {
        snprintf(err, errlen, "cannot read schema_migrations: %s", gw_db_error(db));
        goto out;
    }
    for (size_t i = 0; i < gw_migrations_count; i++) {
        const struct gw_migration *m = &gw_migrations[i];
        char sum[GW_SHA256_HEX_SIZE];
        gw_sha256_hex(m->sql, m->len, sum); /* "" when OpenSSL fails */
        const char *have = applied_checksum(rows, m->version);
        if (have != NULL) {
            if (strcmp(have, sum) != 0) {
                snprintf(err, errlen,
                         "migration %04u_%s was changed after it was applied (checksum %.12s… in "
                         "the database, %.12s… in this build); add a new migration instead",
                         m->version, m->name, have, sum);
                goto out;
            }
            continue;
        }
        gw_log_info(NULL, "applying migration %04u_%s", m->version, m->name);
        if (run_statements(db, m, err, errlen) != 0)
            goto out;
        struct gw_db_value params[] = {GW_DB_INT(m->version), GW_DB_TEXT(m->name), GW_DB_TEXT(sum)};
        if (gw_db_exec(db,
                       "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                       params, 3) < 0) {
            snprintf(err, errlen, "cannot record migration %04u: %s", m->version, gw_db_error(db));
            goto out;
        }
        (*applied)++;
    }
    rc = 0;
out:
    gw_db_rows_free(rows);
    if (release_lock(db) != 0 && rc == 0) {
        /* The lock dies with the session anyway; a failed release is not a failed migration. */
        gw_log_warn(NULL, "could not release the migration lock: %s", gw_db_error(db));
    }
    return rc;
}

int gw_migrate_pending(struct gw_db *db)
{
    struct gw_db_rows *rows = applied_rows(db);
    if (rows == NULL)
        return gw_db_errno(db) == ER_NO_SUCH_TABLE ? (int)gw_migrations_count : -1;
    int pending = 0;
    for (size_t i = 0; i < gw_migrations_count; i++)
        if (applied_checksum(rows, gw_migrations[i].version) == NULL)
            pending++;
    gw_db_rows_free(rows);
    return pending;
}
