/* db.c — a fresh database per test on the private MariaDB. */
#include "tests/support/db.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/checks.h"
#include "tests/support/files.h"

const char *ts_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        fail_msg("%s is not set: run the integration tests through ./dev test", name);
    return v;
}

const char *ts_db_ca_file(void)
{
    static char path[512];
    const char *set = getenv("CTGW_DB_CA_FILE");
    if (set != NULL && set[0] != '\0')
        return set;
    const char *dev = ts_env("CTGW_DEV");
    const char *slash = strrchr(dev, '/');
    snprintf(path, sizeof(path), "%.*s/.local/mariadb/tls/ca.pem",
             (int)(slash != NULL ? slash - dev : 1), slash != NULL ? dev : ".");
    return path;
}

static char *password(void)
{
    char *p = test_read(ts_env("CTGW_DB_PASSWORD_FILE"), NULL);
    if (p == NULL)
        fail_msg("cannot read CTGW_DB_PASSWORD_FILE");
    p[strcspn(p, "\r\n")] = '\0';
    return p;
}

/* Over TCP with TLS, the server verified, like the ctgw the tests start: MariaDB shows a
 * user without PROCESS only the sessions of the same user@host, and tests look for ctgw's
 * (127.0.0.1) in PROCESSLIST. */
MYSQL *ts_db_connect(const char *name)
{
    MYSQL *conn = mysql_init(NULL);
    char *pass = password();
    unsigned int proto = MYSQL_PROTOCOL_TCP;
    my_bool on = 1;
    if (conn == NULL)
        fail_msg("mysql_init");
    mysql_options(conn, MYSQL_OPT_PROTOCOL, &proto);
    mysql_options(conn, MYSQL_OPT_SSL_ENFORCE, &on);
    mysql_options(conn, MYSQL_OPT_SSL_CA, ts_db_ca_file());
    mysql_options(conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
    if (mysql_real_connect(conn, "127.0.0.1", ts_env("CTGW_DB_USER"), pass, name,
                           (unsigned)atoi(ts_env("CTGW_DB_PORT")), NULL,
                           CLIENT_MULTI_STATEMENTS) == NULL)
        fail_msg("cannot connect to the test MariaDB: %s", mysql_error(conn));
    free(pass);
    return conn;
}

void ts_db_create(struct ts_db *db, const char *tag)
{
    static unsigned counter;
    char sql[160];
    snprintf(db->name, sizeof(db->name), "ctgw_test_%s_%ld_%u", tag, (long)getpid(), ++counter);
    MYSQL *admin = ts_db_connect(NULL);
    snprintf(sql, sizeof(sql),
             "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", db->name);
    if (mysql_query(admin, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(admin));
    mysql_close(admin);
    db->conn = ts_db_connect(db->name);
}

void ts_db_drop(struct ts_db *db)
{
    char sql[128];
    if (db->conn == NULL)
        return;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", db->name);
    mysql_query(db->conn, sql);
    mysql_close(db->conn);
    db->conn = NULL;
}

/* Runs sql and drains every result so the connection is ready for the next statement. */
static MYSQL_RES *query(struct ts_db *db, const char *sql, unsigned *err)
{
    *err = 0;
    if (mysql_query(db->conn, sql) != 0) {
        *err = mysql_errno(db->conn);
        return NULL;
    }
    MYSQL_RES *res = mysql_store_result(db->conn);
    while (mysql_more_results(db->conn) && mysql_next_result(db->conn) == 0) {
        MYSQL_RES *more = mysql_store_result(db->conn);
        if (more != NULL)
            mysql_free_result(more);
    }
    return res;
}

unsigned ts_db_exec(struct ts_db *db, const char *sql)
{
    unsigned err;
    MYSQL_RES *res = query(db, sql, &err);
    if (res != NULL)
        mysql_free_result(res);
    return err;
}

char *ts_db_text(struct ts_db *db, const char *sql)
{
    unsigned err;
    MYSQL_RES *res = query(db, sql, &err);
    if (res == NULL)
        return NULL;
    MYSQL_ROW row = mysql_fetch_row(res);
    char *out = row && row[0] ? strdup(row[0]) : NULL;
    mysql_free_result(res);
    return out;
}

long long ts_db_int(struct ts_db *db, const char *sql)
{
    char *t = ts_db_text(db, sql);
    long long v = t ? strtoll(t, NULL, 10) : -1;
    free(t);
    return v;
}

char *ts_db_dump(struct ts_db *db, const char *sql)
{
    unsigned err;
    MYSQL_RES *res = query(db, sql, &err);
    if (res == NULL)
        return NULL;
    size_t cap = 1024, used = 0;
    char *out = malloc(cap);
    if (out == NULL)
        abort();
    out[0] = '\0';
    unsigned cols = mysql_num_fields(res);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (unsigned c = 0; c < cols; c++) {
            const char *v = row[c] ? row[c] : "NULL";
            size_t need = used + strlen(v) + 3;
            if (need > cap) {
                cap = need * 2;
                out = realloc(out, cap);
                if (out == NULL)
                    abort();
            }
            used += (size_t)sprintf(out + used, "%s%s", v, c + 1 < cols ? "|" : "\n");
        }
    }
    mysql_free_result(res);
    return out;
}

void ts_db_exec_ok(struct ts_db *db, const char *sql)
{
    unsigned err = ts_db_exec(db, sql);
    if (err != 0)
        fail_msg("%s: error %u: %s", sql, err, mysql_error(db->conn));
}

/* The query FMT makes with AP (caller frees). */
static char *format_sql(const char *fmt, va_list ap)
{
    char *sql = NULL;
    if (vasprintf(&sql, fmt, ap) < 0)
        abort();
    return sql;
}

/* ts_db_text of the query FMT makes with AP. */
static char *vtext(struct ts_db *db, const char *fmt, va_list ap)
{
    char *sql = format_sql(fmt, ap);
    char *t = ts_db_text(db, sql);
    free(sql);
    return t;
}

/* ts_db_int of the query FMT makes with AP. */
static long long vint(struct ts_db *db, const char *fmt, va_list ap)
{
    char *sql = format_sql(fmt, ap);
    long long v = ts_db_int(db, sql);
    free(sql);
    return v;
}

long long ts_db_intf(struct ts_db *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long long v = vint(db, fmt, ap);
    va_end(ap);
    return v;
}

char *ts_db_textf(struct ts_db *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = vtext(db, fmt, ap);
    va_end(ap);
    return t;
}

char *ts_db_showf(struct ts_db *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = vtext(db, fmt, ap);
    va_end(ap);
    if (t == NULL && (t = strdup("NULL")) == NULL)
        abort();
    return t;
}

bool ts_db_wait_int(struct ts_db *db, long long want, long limit_ms, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = format_sql(fmt, ap);
    va_end(ap);
    bool seen = false;
    for (long waited = 0;; waited += 25) {
        if (ts_db_int(db, sql) == want) {
            seen = true;
            break;
        }
        if (waited >= limit_ms)
            break;
        ts_sleep_ms(25);
    }
    free(sql);
    return seen;
}

void ts_expect_int_at(const char *file, int line, struct ts_db *db, const struct ts_server *s,
                      long long want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long long got = vint(db, fmt, ap);
    va_end(ap);
    if (got != want)
        fail_msg("%s:%d: got %lld, want %lld%s%s", file, line, got, want, s ? "\n" : "",
                 s ? ts_server_log_tail(s) : "");
}

void ts_expect_text_at(const char *file, int line, struct ts_db *db, const struct ts_server *s,
                       const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = vtext(db, fmt, ap);
    va_end(ap);
    if (strcmp(text ? text : "NULL", want) == 0) {
        free(text);
        return;
    }
    /* Copied out so that nothing is left to free when fail_msg jumps out of the test. */
    static char got[4096];
    snprintf(got, sizeof(got), "%s", text ? text : "NULL");
    free(text);
    fail_msg("%s:%d: got '%s', want '%s'%s%s", file, line, got, want, s ? "\n" : "",
             s ? ts_server_log_tail(s) : "");
}
