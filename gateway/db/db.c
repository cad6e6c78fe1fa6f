/* db.c — one MySQL/MariaDB connection with reconnect, a prepared-statement cache, buffered
 * rows and transactions. */
#include "gateway/db/db.h"

#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <errmsg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/base/log.h"

#define STMT_CACHE_SIZE 64
#define MAX_PARAMS      4096 /* multi-row inserts of the ingest writers */
#define MAX_CELL_BYTES  (64u * 1024u * 1024u)

struct cached_stmt {
    char *sql; /* our copy of the statement text, the cache key */
    MYSQL_STMT *stmt;
    uint64_t last_used;
};

struct gw_db {
    const struct gw_database_config *cfg;
    MYSQL *conn;
    bool connected;
    bool in_txn;
    unsigned err_no;
    char err[512];
    uint64_t insert_id;
    uint64_t use_clock;
    struct cached_stmt cache[STMT_CACHE_SIZE];
};

struct gw_db_rows {
    size_t n_rows, n_cols;
    char **cells; /* n_rows * n_cols, NULL for SQL NULL */
    size_t *lens;
};

int gw_db_library_init(void)
{
    return mysql_library_init(0, NULL, NULL) == 0 ? 0 : -1;
}

void gw_db_library_end(void)
{
    mysql_library_end();
}

void gw_db_thread_init(void)
{
    mysql_thread_init();
}

void gw_db_thread_end(void)
{
    mysql_thread_end();
}

static void set_error(struct gw_db *db, unsigned no, const char *msg)
{
    db->err_no = no;
    snprintf(db->err, sizeof(db->err), "%s", msg ? msg : "unknown error");
}

static bool is_connection_errno(unsigned no)
{
    switch (no) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case 1053: /* ER_SERVER_SHUTDOWN */
    case 1927: /* ER_CONNECTION_KILLED (MariaDB) */
    case 4031: /* client disconnected by server for inactivity (MySQL 8) */
        return true;
    default:
        return false;
    }
}

static void drop_connection(struct gw_db *db)
{
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
        if (db->cache[i].stmt != NULL)
            mysql_stmt_close(db->cache[i].stmt);
        free(db->cache[i].sql);
        db->cache[i].stmt = NULL;
        db->cache[i].sql = NULL;
    }
    if (db->conn != NULL)
        mysql_close(db->conn);
    db->conn = NULL;
    db->connected = false;
    db->in_txn = false;
}

/* Records the error of the connection and, when it means the server is gone, forgets the
 * connection so that the next call reconnects. */
static void conn_failed(struct gw_db *db)
{
    set_error(db, mysql_errno(db->conn), mysql_error(db->conn));
    if (is_connection_errno(db->err_no))
        drop_connection(db);
}

static void stmt_failed(struct gw_db *db, MYSQL_STMT *stmt)
{
    set_error(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    if (is_connection_errno(db->err_no))
        drop_connection(db);
}

/* TLS 1.2 or later, refused when the server offers none; with verify, the server's
 * certificate must chain to the configured CA and name the host connected to. */
static void want_tls(MYSQL *conn, const struct gw_database_tls_config *tls)
{
    my_bool on = 1;
    my_bool verify = tls->verify ? 1 : 0;
    mysql_options(conn, MYSQL_OPT_SSL_ENFORCE, &on);
    if (tls->ca_path != NULL)
        mysql_options(conn, MYSQL_OPT_SSL_CA, tls->ca_path);
    mysql_options(conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    mysql_options(conn, MARIADB_OPT_TLS_VERSION, "TLSv1.2,TLSv1.3");
}

static int do_connect(struct gw_db *db)
{
    const struct gw_database_config *cfg = db->cfg;
    drop_connection(db);
    db->conn = mysql_init(NULL);
    if (db->conn == NULL) {
        set_error(db, CR_OUT_OF_MEMORY, "out of memory");
        return -1;
    }
    unsigned int connect_s = (unsigned int)((cfg->connect_timeout_ms + 999) / 1000);
    unsigned int rw_s = (unsigned int)((cfg->timeout_ms + 999) / 1000);
    if (connect_s == 0)
        connect_s = 1;
    if (rw_s == 0)
        rw_s = 1;
    my_bool off = 0;
    mysql_options(db->conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(db->conn, MYSQL_OPT_READ_TIMEOUT, &rw_s);
    mysql_options(db->conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_s);
    mysql_options(db->conn, MYSQL_OPT_RECONNECT, &off); /* we reconnect ourselves, cleanly */
    mysql_options(db->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(db->conn, MYSQL_INIT_COMMAND,
                  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
                  "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'");
    /* READ COMMITTED: a statement that waited for another transaction's row (a duplicate
     * key, a contact inserted meanwhile) must then see that row in its next statement, which
     * REPEATABLE READ's snapshot hides. Claims use locking reads either way. */
    mysql_options(db->conn, MYSQL_INIT_COMMAND,
                  "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    if (cfg->socket != NULL) {
        unsigned int proto = MYSQL_PROTOCOL_SOCKET;
        mysql_options(db->conn, MYSQL_OPT_PROTOCOL, &proto);
    } else {
        unsigned int proto = MYSQL_PROTOCOL_TCP;
        mysql_options(db->conn, MYSQL_OPT_PROTOCOL, &proto);
    }
    if (cfg->tls.enabled)
        want_tls(db->conn, &cfg->tls);
    const char *password = cfg->password.data;
    if (mysql_real_connect(db->conn, cfg->socket ? NULL : cfg->host, cfg->user, password, cfg->name,
                           cfg->socket ? 0 : cfg->port, cfg->socket, 0) == NULL) {
        unsigned no = mysql_errno(db->conn);
        if (cfg->tls.enabled && no == CR_SSL_CONNECTION_ERROR) {
            char msg[sizeof db->err];
            snprintf(msg, sizeof msg, "TLS to the database failed (database.tls): %s",
                     mysql_error(db->conn));
            set_error(db, no, msg);
        } else {
            set_error(db, no, mysql_error(db->conn));
        }
        mysql_close(db->conn);
        db->conn = NULL;
        return -1;
    }
    /* Never carry on in the clear when TLS was asked for, whatever the connector did. */
    if (cfg->tls.enabled && mysql_get_ssl_cipher(db->conn) == NULL) {
        set_error(db, CR_SSL_CONNECTION_ERROR,
                  "TLS to the database failed (database.tls): the connection is not encrypted");
        mysql_close(db->conn);
        db->conn = NULL;
        return -1;
    }
    db->connected = true;
    db->err_no = 0;
    db->err[0] = '\0';
    return 0;
}

struct gw_db *gw_db_open(const struct gw_database_config *cfg)
{
    struct gw_db *db = calloc(1, sizeof(*db));
    if (db == NULL)
        return NULL;
    db->cfg = cfg;
    (void)do_connect(db);
    return db;
}

void gw_db_close(struct gw_db *db)
{
    if (db == NULL)
        return;
    drop_connection(db);
    free(db);
}

int gw_db_ensure(struct gw_db *db)
{
    if (db->connected)
        return 0;
    return do_connect(db);
}

int gw_db_ping(struct gw_db *db)
{
    if (gw_db_ensure(db) != 0)
        return -1;
    if (mysql_ping(db->conn) != 0) {
        conn_failed(db);
        /* A connection that died while idle is the usual case: one fresh try. */
        if (!db->connected && do_connect(db) == 0 && mysql_ping(db->conn) == 0)
            return 0;
        if (db->connected)
            conn_failed(db);
        return -1;
    }
    return 0;
}

bool gw_db_ok(const struct gw_db *db)
{
    return db->connected;
}

const char *gw_db_error(const struct gw_db *db)
{
    return db->err;
}

unsigned gw_db_errno(const struct gw_db *db)
{
    return db->err_no;
}

bool gw_db_error_is_connection(const struct gw_db *db)
{
    return is_connection_errno(db->err_no) || !db->connected;
}

static MYSQL_STMT *prepare_cached(struct gw_db *db, const char *sql)
{
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
        struct cached_stmt *c = &db->cache[i];
        if (c->stmt == NULL) {
            if (victim == SIZE_MAX || db->cache[victim].stmt != NULL)
                victim = i;
            continue;
        }
        if (strcmp(c->sql, sql) == 0) {
            c->last_used = ++db->use_clock;
            return c->stmt;
        }
        /* Least recently used, unless an empty slot was already found. */
        if (victim == SIZE_MAX ||
            (db->cache[victim].stmt != NULL && c->last_used < db->cache[victim].last_used))
            victim = i;
    }
    struct cached_stmt *slot = &db->cache[victim];
    if (slot->stmt != NULL) {
        mysql_stmt_close(slot->stmt);
        slot->stmt = NULL;
    }
    free(slot->sql);
    slot->sql = strdup(sql);
    if (slot->sql == NULL) {
        set_error(db, CR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    MYSQL_STMT *stmt = mysql_stmt_init(db->conn);
    if (stmt == NULL) {
        conn_failed(db);
        return NULL;
    }
    if (mysql_stmt_prepare(stmt, sql, (unsigned long)strlen(sql)) != 0) {
        set_error(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
        mysql_stmt_close(stmt);
        if (is_connection_errno(db->err_no))
            drop_connection(db);
        return NULL;
    }
    slot->stmt = stmt;
    slot->last_used = ++db->use_clock;
    return stmt;
}

static int bind_params(struct gw_db *db, MYSQL_STMT *stmt, MYSQL_BIND *binds,
                       const struct gw_db_value *params, size_t n)
{
    if (mysql_stmt_param_count(stmt) != n) {
        set_error(db, CR_PARAMS_NOT_BOUND, "parameter count does not match the statement");
        return -1;
    }
    if (n == 0)
        return 0;
    memset(binds, 0, n * sizeof(*binds));
    for (size_t i = 0; i < n; i++) {
        const struct gw_db_value *v = &params[i];
        MYSQL_BIND *b = &binds[i];
        switch (v->type) {
        case GW_DB_T_NULL:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        case GW_DB_T_INT:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *)&v->i;
            break;
        case GW_DB_T_TEXT:
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = (void *)v->p;
            b->buffer_length = (unsigned long)v->len;
            b->length_value = (unsigned long)v->len;
            b->length = &b->length_value;
            break;
        case GW_DB_T_BLOB:
            b->buffer_type = MYSQL_TYPE_BLOB;
            b->buffer = (void *)v->p;
            b->buffer_length = (unsigned long)v->len;
            b->length_value = (unsigned long)v->len;
            b->length = &b->length_value;
            break;
        }
    }
    if (mysql_stmt_bind_param(stmt, binds) != 0) {
        stmt_failed(db, stmt);
        return -1;
    }
    return 0;
}

static MYSQL_STMT *run(struct gw_db *db, const char *sql, const struct gw_db_value *params,
                       size_t n)
{
    MYSQL_BIND small[16];
    MYSQL_BIND *binds = small;
    MYSQL_STMT *result = NULL;
    if (n > MAX_PARAMS) {
        set_error(db, CR_PARAMS_NOT_BOUND, "too many parameters");
        return NULL;
    }
    if (n > sizeof(small) / sizeof(small[0])) {
        binds = calloc(n, sizeof(*binds));
        if (binds == NULL) {
            set_error(db, CR_OUT_OF_MEMORY, "out of memory");
            return NULL;
        }
    }
    if (gw_db_ensure(db) != 0)
        goto out;
    MYSQL_STMT *stmt = prepare_cached(db, sql);
    if (stmt == NULL)
        goto out;
    if (bind_params(db, stmt, binds, params, n) != 0)
        goto out;
    if (mysql_stmt_execute(stmt) != 0) {
        stmt_failed(db, stmt);
        goto out;
    }
    result = stmt;
out:
    if (binds != small)
        free(binds);
    return result;
}

int64_t gw_db_exec(struct gw_db *db, const char *sql, const struct gw_db_value *params,
                   size_t n_params)
{
    MYSQL_STMT *stmt = run(db, sql, params, n_params);
    if (stmt == NULL)
        return -1;
    my_ulonglong affected = mysql_stmt_affected_rows(stmt);
    db->insert_id = mysql_stmt_insert_id(stmt);
    /* A statement that returns rows anyway (SELECT GET_LOCK ...) is drained. */
    if (mysql_stmt_field_count(stmt) > 0) {
        mysql_stmt_store_result(stmt);
        mysql_stmt_free_result(stmt);
        affected = 0;
    }
    mysql_stmt_reset(stmt);
    return affected == (my_ulonglong)-1 ? 0 : (int64_t)affected;
}

uint64_t gw_db_last_insert_id(const struct gw_db *db)
{
    return db->insert_id;
}

void gw_db_rows_free(struct gw_db_rows *rows)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < rows->n_rows * rows->n_cols; i++)
        free(rows->cells[i]);
    free(rows->cells);
    free(rows->lens);
    free(rows);
}

/* The per-column state of reading a result: zero-length buffers bound to learn each cell's
 * length, then each cell fetched into a buffer of exactly that size. */
struct result_binds {
    MYSQL_BIND *binds;
    unsigned long *lengths;
    my_bool *nulls, *errors;
    char scratch[1];
};

static void result_binds_free(struct result_binds *rb)
{
    free(rb->binds);
    free(rb->lengths);
    free(rb->nulls);
    free(rb->errors);
}

static int result_binds_init(struct gw_db *db, MYSQL_STMT *stmt, struct result_binds *rb,
                             size_t n_cols)
{
    rb->binds = calloc(n_cols, sizeof(*rb->binds));
    rb->lengths = calloc(n_cols, sizeof(*rb->lengths));
    rb->nulls = calloc(n_cols, sizeof(*rb->nulls));
    rb->errors = calloc(n_cols, sizeof(*rb->errors));
    if (!rb->binds || !rb->lengths || !rb->nulls || !rb->errors) {
        set_error(db, CR_OUT_OF_MEMORY, "out of memory");
        return -1;
    }
    for (size_t c = 0; c < n_cols; c++) {
        rb->binds[c].buffer_type = MYSQL_TYPE_STRING;
        rb->binds[c].buffer = rb->scratch;
        rb->binds[c].buffer_length = 0;
        rb->binds[c].length = &rb->lengths[c];
        rb->binds[c].is_null = &rb->nulls[c];
        rb->binds[c].error = &rb->errors[c];
    }
    if (mysql_stmt_bind_result(stmt, rb->binds) != 0) {
        stmt_failed(db, stmt);
        return -1;
    }
    return 0;
}

/* Copies column C of the current row (LEN bytes, bounded) into a new NUL-terminated cell. */
static char *fetch_cell(struct gw_db *db, MYSQL_STMT *stmt, unsigned c, unsigned long len)
{
    if (len > MAX_CELL_BYTES) {
        set_error(db, 0, "cell too large");
        return NULL;
    }
    char *cell = malloc(len + 1);
    if (cell == NULL) {
        set_error(db, CR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    MYSQL_BIND one = {0};
    unsigned long got = 0;
    one.buffer_type = MYSQL_TYPE_STRING;
    one.buffer = cell;
    one.buffer_length = len + 1;
    one.length = &got;
    if (len > 0 && mysql_stmt_fetch_column(stmt, &one, c, 0) != 0) {
        free(cell);
        stmt_failed(db, stmt);
        return NULL;
    }
    cell[len] = '\0';
    return cell;
}

/* Reads every row of STMT's stored result into ROWS (n_rows, n_cols set). */
static int fetch_rows(struct gw_db *db, MYSQL_STMT *stmt, struct gw_db_rows *rows)
{
    size_t cells = rows->n_rows * rows->n_cols;
    rows->cells = calloc(cells ? cells : 1, sizeof(char *));
    rows->lens = calloc(cells ? cells : 1, sizeof(size_t));
    struct result_binds rb = {0};
    int rc = -1;
    if (!rows->cells || !rows->lens) {
        set_error(db, CR_OUT_OF_MEMORY, "out of memory");
        goto out;
    }
    if (result_binds_init(db, stmt, &rb, rows->n_cols) != 0)
        goto out;
    for (size_t r = 0; r < rows->n_rows; r++) {
        int f = mysql_stmt_fetch(stmt);
        if (f == 1 || f == MYSQL_NO_DATA) {
            stmt_failed(db, stmt);
            goto out;
        }
        for (size_t c = 0; c < rows->n_cols; c++) {
            size_t idx = r * rows->n_cols + c;
            if (rb.nulls[c])
                continue;
            rows->cells[idx] = fetch_cell(db, stmt, (unsigned)c, rb.lengths[c]);
            if (rows->cells[idx] == NULL)
                goto out;
            rows->lens[idx] = rb.lengths[c];
        }
    }
    rc = 0;
out:
    /* The statement keeps pointers into RB until its result is freed. */
    mysql_stmt_free_result(stmt);
    result_binds_free(&rb);
    return rc;
}

struct gw_db_rows *gw_db_query(struct gw_db *db, const char *sql, const struct gw_db_value *params,
                               size_t n_params, size_t max_rows)
{
    MYSQL_STMT *stmt = run(db, sql, params, n_params);
    if (stmt == NULL)
        return NULL;
    struct gw_db_rows *rows = calloc(1, sizeof(*rows));
    bool ok = false;
    if (rows == NULL) {
        set_error(db, CR_OUT_OF_MEMORY, "out of memory");
        goto out;
    }
    rows->n_cols = mysql_stmt_field_count(stmt);
    if (mysql_stmt_store_result(stmt) != 0) {
        stmt_failed(db, stmt);
        goto out;
    }
    my_ulonglong count = mysql_stmt_num_rows(stmt);
    if (count > max_rows) {
        set_error(db, 0, "query returned more rows than allowed");
        goto out;
    }
    rows->n_rows = (size_t)count;
    ok = rows->n_cols == 0 || fetch_rows(db, stmt, rows) == 0;
out:
    mysql_stmt_free_result(stmt);
    mysql_stmt_reset(stmt);
    if (!ok) {
        gw_db_rows_free(rows);
        return NULL;
    }
    return rows;
}

size_t gw_db_rows_count(const struct gw_db_rows *rows)
{
    return rows->n_rows;
}

size_t gw_db_rows_columns(const struct gw_db_rows *rows)
{
    return rows->n_cols;
}

const char *gw_db_rows_text(const struct gw_db_rows *rows, size_t r, size_t c, size_t *len)
{
    if (r >= rows->n_rows || c >= rows->n_cols)
        return NULL;
    size_t idx = r * rows->n_cols + c;
    if (len != NULL)
        *len = rows->lens[idx];
    return rows->cells[idx];
}

int64_t gw_db_rows_int(const struct gw_db_rows *rows, size_t r, size_t c, int64_t fallback)
{
    const char *s = gw_db_rows_text(rows, r, c, NULL);
    if (s == NULL || *s == '\0')
        return fallback;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return fallback;
    return (int64_t)v;
}

int gw_db_exec_static(struct gw_db *db, const char *sql, size_t len)
{
    if (gw_db_ensure(db) != 0)
        return -1;
    if (mysql_real_query(db->conn, sql, (unsigned long)len) != 0) {
        conn_failed(db);
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(db->conn);
    if (res != NULL)
        mysql_free_result(res);
    else if (mysql_field_count(db->conn) != 0) {
        conn_failed(db);
        return -1;
    }
    return 0;
}

int gw_db_begin(struct gw_db *db)
{
    static const char sql[] = "START TRANSACTION";
    if (gw_db_exec_static(db, sql, sizeof(sql) - 1) != 0) {
        /* Nothing has happened in this transaction yet, so a connection that died while
         * idle (a server restart) can be replaced and the start tried once more. */
        if (!gw_db_error_is_connection(db) || gw_db_exec_static(db, sql, sizeof(sql) - 1) != 0)
            return -1;
    }
    db->in_txn = true;
    return 0;
}

int gw_db_commit(struct gw_db *db)
{
    if (!db->connected) {
        set_error(db, CR_SERVER_LOST, "connection lost before commit");
        return -1;
    }
    db->in_txn = false;
    if (mysql_commit(db->conn) != 0) {
        conn_failed(db);
        return -1;
    }
    return 0;
}

int gw_db_rollback(struct gw_db *db)
{
    db->in_txn = false;
    if (!db->connected)
        return 0; /* the server rolls back a transaction whose connection died */
    if (mysql_rollback(db->conn) != 0) {
        conn_failed(db);
        return -1;
    }
    return 0;
}
