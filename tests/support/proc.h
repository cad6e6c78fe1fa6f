/* proc.h — running ctgw (and other commands) from tests: a config written for a test
 * database and free loopback ports, the server started and stopped, its log read back. */
#ifndef CTGW_TESTS_SUPPORT_PROC_H
#define CTGW_TESTS_SUPPORT_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Path of the ctgw binary of this build. */
const char *ts_ctgw_path(void);

/* A TCP port on 127.0.0.1 that nothing listens on right now. */
uint16_t ts_free_port(void);

struct ts_config {
    const char *db_name;
    uint16_t port, admin_port;
    const char *listen_extra; /* extra YAML lines under listen:, each indented 2 spaces */
    const char *top_extra;    /* extra top-level YAML, appended */
    const char *db_timeout;   /* database.timeout, e.g. "2s"; NULL: 10s */
    /* The database over the private MariaDB's unix socket (for tests that replace the socket
     * path); by default over TCP with TLS, the server verified against ts_db_ca_file() (db.h). */
    bool db_socket;
};

struct ts_server {
    char dir[256]; /* temporary directory holding config, token, log */
    char config[300];
    char log[300];
    char token[128]; /* the admin token written for this server */
    uint16_t port, admin_port;
    pid_t pid;
    const char *binary; /* the ctgw to start; NULL: this build's (ts_ctgw_path) */
};

/* Writes a config into a fresh temporary directory (admin token file included). */
void ts_server_prepare(struct ts_server *s, const struct ts_config *c);
/* Starts `ctgw serve` with its stderr to s->log and waits (bounded) until /healthz answers
 * on the admin port. Returns false when it exited or never answered. */
bool ts_server_start(struct ts_server *s);
/* Sends sig and waits (bounded, then SIGKILL) for exit; returns the exit code, or 128+N
 * when killed by signal N. */
int ts_server_stop(struct ts_server *s, int sig);
/* Removes the temporary directory. */
void ts_server_cleanup(struct ts_server *s);
/* The server's log so far (caller frees). */
char *ts_server_log(const struct ts_server *s);

/* Runs argv to completion with stdout and stderr captured into *output (caller frees; may
 * be NULL). Returns the exit code, or 128+N when killed by signal N. */
int ts_run(char *const argv[], char **output);

/* Runs `ctgw COMMAND -c CONFIG`. */
int ts_ctgw(const char *command, const char *config, char **output);
/* The same, failing the test with the output unless it exits 0. The output goes to *output
 * (caller frees) when output is not NULL. */
void ts_ctgw_ok(const char *command, const char *config, char **output);

/* Runs `./dev COMMAND` (db-stop, db-start: the shared MariaDB); prints its output when it
 * fails. Returns its exit code. */
int ts_dev(const char *command);

#endif
