/* db.h — a fresh database per test on the private MariaDB that ./dev started, reached with
 * the credentials ./dev exports (CTGW_DB_SOCKET, CTGW_DB_USER, CTGW_DB_PASSWORD_FILE). */
#ifndef CTGW_TESTS_SUPPORT_DB_H
#define CTGW_TESTS_SUPPORT_DB_H

#include <mysql.h>

struct ts_db {
    char name[64];
    MYSQL *conn;
};

/* The value of a variable ./dev exports; fails the test with a hint when it is missing. */
const char *ts_env(const char *name);

/* Creates database ctgw_test_<tag>_<pid>_<n> and connects to it. Fails the test on error. */
void ts_db_create(struct ts_db *db, const char *tag);
/* Drops the database and disconnects. */
void ts_db_drop(struct ts_db *db);
/* Connects to an existing database (for a second connection). */
MYSQL *ts_db_connect(const char *name);

/* Runs a statement; returns 0 or the server's error number. */
unsigned ts_db_exec(struct ts_db *db, const char *sql);
/* First column of the first row as an integer; -1 when there is no row or on error. */
long long ts_db_int(struct ts_db *db, const char *sql);
/* First column of the first row as text (caller frees); NULL for no row, NULL or error. */
char *ts_db_text(struct ts_db *db, const char *sql);
/* Every row, columns joined by '|' and rows by '\n' (caller frees); NULL on error. */
char *ts_db_dump(struct ts_db *db, const char *sql);

#endif
