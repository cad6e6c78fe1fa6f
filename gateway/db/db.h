/* db.h — one connection to MySQL/MariaDB: connect and reconnect, prepared statements with
 * typed parameters, buffered result rows, transactions. A connection is used by one thread
 * at a time; the pool (db_pool.h) hands them out. */
#ifndef CTGW_DB_H
#define CTGW_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"

struct gw_db;
struct gw_db_rows;

enum gw_db_type { GW_DB_T_NULL, GW_DB_T_INT, GW_DB_T_TEXT, GW_DB_T_BLOB };

/* A statement parameter. TEXT and BLOB point at caller memory that must stay valid for the
 * duration of the call only. */
struct gw_db_value {
    enum gw_db_type type;
    int64_t i;
    const void *p;
    size_t len;
};
#define GW_DB_NULL        ((struct gw_db_value){.type = GW_DB_T_NULL})
#define GW_DB_INT(v)      ((struct gw_db_value){.type = GW_DB_T_INT, .i = (int64_t)(v)})
#define GW_DB_TEXT(s)     ((struct gw_db_value){.type = GW_DB_T_TEXT, .p = (s), .len = strlen(s)})
#define GW_DB_TEXTN(s, n) ((struct gw_db_value){.type = GW_DB_T_TEXT, .p = (s), .len = (n)})
#define GW_DB_BLOB(b, n)  ((struct gw_db_value){.type = GW_DB_T_BLOB, .p = (b), .len = (n)})

/* Call once in main() before any thread touches the client library, and gw_db_library_end()
 * at exit. Threads other than main call gw_db_thread_init/end around their use. */
int gw_db_library_init(void);
void gw_db_library_end(void);
void gw_db_thread_init(void);
void gw_db_thread_end(void);

/* Creates a connection object and connects. Returns NULL only when out of memory; a failed
 * connect leaves an object whose gw_db_ok() is false and which reconnects on next use. */
struct gw_db *gw_db_open(const struct gw_database_config *cfg);
void gw_db_close(struct gw_db *db);

/* Connects again if the connection was lost or never made. 0 when usable. */
int gw_db_ensure(struct gw_db *db);
/* Round trip to the server (reconnecting first when needed). 0 when the server answers. */
int gw_db_ping(struct gw_db *db);
bool gw_db_ok(const struct gw_db *db);

/* The last error, safe to log (never contains parameter values). */
const char *gw_db_error(const struct gw_db *db);
unsigned gw_db_errno(const struct gw_db *db);
/* True when the last error means the server is unreachable rather than the query wrong. */
bool gw_db_error_is_connection(const struct gw_db *db);

/* Runs a statement with parameters through a per-connection cache of prepared statements
 * keyed by the SQL text. Returns affected rows (>= 0) or -1 on error. */
int64_t gw_db_exec(struct gw_db *db, const char *sql, const struct gw_db_value *params,
                   size_t n_params);
uint64_t gw_db_last_insert_id(const struct gw_db *db);

/* Runs a query and buffers every row (bounded to max_rows; more is an error). NULL on error.
 * Columns are read as text; integers are parsed on demand. */
struct gw_db_rows *gw_db_query(struct gw_db *db, const char *sql, const struct gw_db_value *params,
                               size_t n_params, size_t max_rows);
size_t gw_db_rows_count(const struct gw_db_rows *rows);
size_t gw_db_rows_columns(const struct gw_db_rows *rows);
/* Column text of row r (NUL-terminated; NULL for SQL NULL), length in *len when not NULL. */
const char *gw_db_rows_text(const struct gw_db_rows *rows, size_t r, size_t c, size_t *len);
/* Column as a signed integer; returns fallback for NULL or non-numeric text. */
int64_t gw_db_rows_int(const struct gw_db_rows *rows, size_t r, size_t c, int64_t fallback);
void gw_db_rows_free(struct gw_db_rows *rows);

/* Runs SQL text with no parameters and no result (DDL, SET, ...). Never pass input here. */
int gw_db_exec_static(struct gw_db *db, const char *sql, size_t len);

int gw_db_begin(struct gw_db *db);
int gw_db_commit(struct gw_db *db);
int gw_db_rollback(struct gw_db *db);

#endif
