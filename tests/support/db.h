/* db.h — a fresh database per test on the private MariaDB that ./dev started, reached with
 * the credentials ./dev exports (CTGW_DB_SOCKET, CTGW_DB_USER, CTGW_DB_PASSWORD_FILE), and
 * the queries and checks the tests run on it. */
#ifndef CTGW_TESTS_SUPPORT_DB_H
#define CTGW_TESTS_SUPPORT_DB_H

#include <stdbool.h>

#include <mysql.h>

struct ts_server;

struct ts_db {
    char name[64];
    MYSQL *conn;
};

/* The value of a variable ./dev exports; fails the test with a hint when it is missing. */
const char *ts_env(const char *name);
/* The CA of the private MariaDB's certificate: CTGW_DB_CA_FILE, or .local/mariadb/tls/ca.pem
 * beside CTGW_DEV. */
const char *ts_db_ca_file(void);

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

/* Runs a statement and fails the test with the server's message unless it succeeds. */
void ts_db_exec_ok(struct ts_db *db, const char *sql);

/* ts_db_int and ts_db_text with the query made from a printf format (the ids of a test's
 * rows). No length limit. */
long long ts_db_intf(struct ts_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *ts_db_textf(struct ts_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same as ts_db_textf, but "NULL" for SQL NULL, no row or an error: never NULL, so that
 * a check can compare it and print it (caller frees). */
char *ts_db_showf(struct ts_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Asks the query again every 25 ms until it answers `want` (true), for at most limit_ms
 * (false): for what ctgw's workers do after the answer. */
bool ts_db_wait_int(struct ts_db *db, long long want, long limit_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fails the test at the caller's FILE:LINE unless the query, a printf format and its
 * arguments, answers `want`: as ts_db_intf, or as ts_db_showf for text ("NULL" for SQL NULL
 * and for no row). The message ends with the end of s's log when s is not NULL. */
#define ts_expect_int(db, s, want, ...)                                                            \
    ts_expect_int_at(__FILE__, __LINE__, (db), (s), (want), __VA_ARGS__)
#define ts_expect_text(db, s, want, ...)                                                           \
    ts_expect_text_at(__FILE__, __LINE__, (db), (s), (want), __VA_ARGS__)
void ts_expect_int_at(const char *file, int line, struct ts_db *db, const struct ts_server *s,
                      long long want, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void ts_expect_text_at(const char *file, int line, struct ts_db *db, const struct ts_server *s,
                       const char *want, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
