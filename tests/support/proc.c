/* proc.c — running ctgw and other commands from tests. */
#include "tests/support/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"

#define START_WAIT_MS 20000
#define STOP_WAIT_MS  20000

const char *ts_ctgw_path(void)
{
    return CTGW_BUILD_ROOT "/ctgw";
}

/* Whether nothing is bound to 127.0.0.1:PORT right now (bind without SO_REUSEADDR). */
static bool port_free(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail_msg("socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* Ports are taken below the kernel's ephemeral range, which bind(0) would pick from: that
 * is where every client connection of every test (thousands in some) takes its own source
 * port, and one of them could take a port between this check and ctgw's bind. 20000-32767
 * holds none of the fixed ports (./dev's MariaDB 13306+, bench/ 18000-18999), and each
 * process starts at its own place in it. */
uint16_t ts_free_port(void)
{
    enum { LOW = 20000, SPAN = 12768 };
    static unsigned next;
    if (next == 0)
        next = ((unsigned)getpid() * 7919u + (unsigned)time(NULL)) % SPAN + 1;
    for (unsigned tries = 0; tries < SPAN; tries++) {
        uint16_t port = (uint16_t)(LOW + next++ % SPAN);
        if (port_free(port))
            return port;
    }
    fail_msg("no free port in %d-%d", LOW, LOW + SPAN - 1);
    return 0;
}

void ts_server_prepare(struct ts_server *s, const struct ts_config *c)
{
    memset(s, 0, sizeof(*s));
    char *dir = test_mkdtemp();
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    free(dir);
    s->port = c->port ? c->port : ts_free_port();
    s->admin_port = c->admin_port ? c->admin_port : ts_free_port();
    snprintf(s->token, sizeof(s->token), "admin-token-%ld-%u", (long)getpid(), s->port);
    free(test_write_text(s->dir, "admin_token", s->token, 0600));
    snprintf(s->log, sizeof(s->log), "%s/ctgw.log", s->dir);

    char conn[1024];
    if (c->db_socket)
        snprintf(conn, sizeof(conn), "  socket: %s\n", ts_env("CTGW_DB_SOCKET"));
    else
        snprintf(conn, sizeof(conn),
                 "  host: 127.0.0.1\n"
                 "  port: %s\n"
                 "  tls: { ca: file:%s, verify: true }\n",
                 ts_env("CTGW_DB_PORT"), ts_db_ca_file());
    char yaml[8192];
    snprintf(yaml, sizeof(yaml),
             "listen:\n"
             "  address: 127.0.0.1\n"
             "  port: %u\n"
             "%s"
             "admin:\n"
             "  address: 127.0.0.1\n"
             "  port: %u\n"
             "  token: file:admin_token\n"
             "database:\n"
             "%s"
             "  user: %s\n"
             "  password: file:%s\n"
             "  name: %s\n"
             "  pool: 4\n"
             "  connect_timeout: 2s\n"
             "  timeout: %s\n"
             "log:\n"
             "  level: debug\n"
             "%s",
             (unsigned)s->port, c->listen_extra ? c->listen_extra : "", (unsigned)s->admin_port,
             conn, ts_env("CTGW_DB_USER"), ts_env("CTGW_DB_PASSWORD_FILE"), c->db_name,
             c->db_timeout ? c->db_timeout : "10s", c->top_extra ? c->top_extra : "");
    char *path = test_write_text(s->dir, "ctgw.yaml", yaml, 0600);
    snprintf(s->config, sizeof(s->config), "%s", path);
    free(path);
}

bool ts_server_start(struct ts_server *s)
{
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execl(s->binary ? s->binary : ts_ctgw_path(), "ctgw", "serve", "-c", s->config,
              (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", (unsigned)s->admin_port);
    for (long waited = 0; waited < START_WAIT_MS; waited += 50) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            return false;
        }
        struct ts_http r;
        if (ts_http("GET", url, NULL, NULL, &r) == 0 && r.status == 200) {
            ts_http_free(&r);
            return true;
        }
        ts_http_free(&r);
        ts_sleep_ms(50);
    }
    return false;
}

static int wait_bounded(pid_t pid, long limit_ms)
{
    int status = 0;
    for (long waited = 0; waited < limit_ms; waited += 20) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ts_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

int ts_server_stop(struct ts_server *s, int sig)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, sig);
    int rc = wait_bounded(s->pid, STOP_WAIT_MS);
    s->pid = 0;
    return rc;
}

/* A sanitizer's report in the server's log fails the test that ran it, even when the
 * server went on (a UBSan report without halting) or the report came at exit (a leak). */
static void check_sanitizer_reports(struct ts_server *s)
{
    static const char *const marks[] = {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
                                        "ERROR: LeakSanitizer", ": runtime error: "};
    char *log = test_read(s->log, NULL);
    const char *found = NULL;
    for (size_t i = 0; log != NULL && found == NULL && i < sizeof(marks) / sizeof(marks[0]); i++)
        found = strstr(log, marks[i]);
    if (found != NULL)
        fprintf(stderr, "ctgw's log held a sanitizer report:\n%.4000s\n", found);
    free(log);
    test_rmtree(s->dir);
    if (found != NULL)
        fail_msg("ctgw reported a sanitizer error (above)");
}

void ts_server_cleanup(struct ts_server *s)
{
    if (s->pid > 0)
        ts_server_stop(s, SIGKILL);
    check_sanitizer_reports(s);
}

char *ts_server_log(const struct ts_server *s)
{
    char *log = test_read(s->log, NULL);
    return log ? log : strdup("");
}

int ts_run(char *const argv[], char **output)
{
    char path[] = "/tmp/ctgw-run-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        fail_msg("mkstemp: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd);
    /* Commands in tests finish in seconds; two minutes is a hang. */
    int rc = wait_bounded(pid, 120000);
    if (output != NULL) {
        *output = test_read(path, NULL);
        if (*output == NULL)
            *output = strdup("");
    }
    unlink(path);
    return rc;
}

int ts_ctgw(const char *command, const char *config, char **output)
{
    char *argv[] = {(char *)ts_ctgw_path(), (char *)command, "-c", (char *)config, NULL};
    return ts_run(argv, output);
}

void ts_ctgw_ok(const char *command, const char *config, char **output)
{
    char *out = NULL;
    int rc = ts_ctgw(command, config, &out);
    if (rc != 0) {
        /* Printed, not put in the message: cmocka cuts long messages. */
        fprintf(stderr, "ctgw %s exited %d:\n%s\n", command, rc, out ? out : "");
        free(out);
        fail_msg("ctgw %s -c %s exited %d", command, config, rc);
    }
    if (output != NULL)
        *output = out;
    else
        free(out);
}

int ts_dev(const char *command)
{
    char *out = NULL;
    char *argv[] = {(char *)ts_env("CTGW_DEV"), (char *)command, NULL};
    int rc = ts_run(argv, &out);
    if (rc != 0)
        fprintf(stderr, "dev %s exited %d:\n%s\n", command, rc, out);
    free(out);
    return rc;
}
