/* test_slack.c — the Slack provider over real HTTP and MariaDB: every /job command and role
 * (refusals audited), company isolation, escaping, the delayed reply posted to a stand-in
 * response_url on 127.0.0.1, signatures, replays, ssl_check and bodies from Slack's docs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "config/config.h"
#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "verifiers/slack.h"

#define FIXTURES CTGW_SOURCE_ROOT "/tests/fixtures/slack"
#define SECRET   "8f742231b10e8888abcd99yyyzzz85a5"

/* ------------------------------------------------------------------ response_url stand-in */

/* A one-thread HTTP server on 127.0.0.1: answers each POST with `statuses[i]` (then 200),
 * keeps the bodies; stops when told, polling every 50 ms, so it never outlives a test. */
struct standin {
    int fd;
    uint16_t port;
    pthread_t thread;
    atomic_bool stop;
    int statuses[4];
    pthread_mutex_t lock;
    int requests;
    char bodies[8][2048];
};

static void read_request(struct standin *s, int c)
{
    char buf[8192];
    size_t len = 0;
    long want = -1;
    for (int rounds = 0; rounds < 100 && len < sizeof(buf) - 1; rounds++) {
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        char *cl = strcasestr(buf, "Content-Length:");
        want = cl ? strtol(cl + 15, NULL, 10) : 0;
        if ((long)(len - (size_t)(end + 4 - buf)) >= want) {
            pthread_mutex_lock(&s->lock);
            int i = s->requests++;
            if (i < 8)
                snprintf(s->bodies[i], sizeof(s->bodies[i]), "%.*s", (int)want, end + 4);
            int status = i < 4 && s->statuses[i] ? s->statuses[i] : 200;
            pthread_mutex_unlock(&s->lock);
            char out[128];
            int n2 = snprintf(out, sizeof(out),
                              "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                              status);
            (void)!send(c, out, (size_t)n2, MSG_NOSIGNAL);
            return;
        }
    }
}

static void *standin_main(void *arg)
{
    struct standin *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        read_request(s, c);
        close(c);
    }
    return NULL;
}

static void standin_start(struct standin *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_true(s->fd >= 0);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, standin_main, s), 0);
}

static void standin_stop(struct standin *s)
{
    if (s->fd <= 0)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
    s->fd = 0;
}

static int standin_requests(struct standin *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->requests;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ------------------------------------------------------------------ fixture */

struct fixture {
    pid_t stopped; /* the private MariaDB while a test holds it with SIGSTOP, else 0 */
    struct ts_db db;
    struct ts_server srv;
    struct standin standin;
    long long acme, other, globex;
    struct ts_kept kept; /* freed by the teardown, so a failing check leaks nothing */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "slack");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->stopped > 0) /* whatever failed, the shared database runs again */
        kill(f->stopped, SIGCONT);
    if (f->srv.pid > 0)
        ts_server_stop(&f->srv, SIGTERM);
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    standin_stop(&f->standin);
    ts_db_drop(&f->db);
    ts_kept_free(&f->kept);
    free(f);
    return 0;
}

static void seed(struct fixture *f)
{
    ts_db_exec_ok(&f->db,
                  "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme'), ('other', 'Other')");
    f->acme = ts_db_intf(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
    f->other = ts_db_intf(&f->db, "SELECT id FROM companies WHERE slug = 'other'");
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "INSERT INTO integrations (company_id, provider, external_id) VALUES "
             "(%lld, 'slack', 'T0001'), (%lld, 'slack', 'T0002')",
             f->acme, f->other);
    ts_db_exec_ok(&f->db, sql);
    snprintf(sql, sizeof(sql), "INSERT INTO clients (company_id, name) VALUES (%lld, 'Globex')",
             f->acme);
    ts_db_exec_ok(&f->db, sql);
    f->globex = ts_db_intf(&f->db, "SELECT id FROM clients WHERE name = 'Globex'");
    snprintf(sql, sizeof(sql),
             "INSERT INTO users (company_id, email, name, role, slack_user_id, client_id) VALUES "
             "(%lld, 'alice@acme.test', 'Alice', 'admin', 'U0ADMIN', NULL), "
             "(%lld, 'mike@acme.test', 'Mike', 'manager', 'U0MGR', NULL), "
             "(%lld, 'sam@acme.test', 'Sam <script>', 'staff', 'U0STAFF', NULL), "
             "(%lld, 'cody@acme.test', 'Cody', 'contractor', 'U0CON', NULL), "
             "(%lld, 'cleo@globex.test', 'Cleo', 'client', 'U0CLI', %lld), "
             "(%lld, 'jane@acme.test', 'Jane', 'staff', 'U2147483697', NULL), "
             "(%lld, 'olga@other.test', 'Olga', 'admin', 'U0OTHER', NULL)",
             f->acme, f->acme, f->acme, f->acme, f->acme, f->globex, f->acme, f->other);
    ts_db_exec_ok(&f->db, sql);
    /* A job of the other company, number 7: its ref must stay invisible to acme. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO jobs (company_id, number, title, source) VALUES (%lld, 7, 'Other "
             "secret', 'api')",
             f->other);
    ts_db_exec_ok(&f->db, sql);
}

/* Starts ctgw with endpoint `slack` (2500 ms deadline) and `slackslow` (1 ms), both sending
 * delayed replies only to 127.0.0.1, with database.timeout DB_TIMEOUT (NULL: the tests') and
 * THREADS workers. */
static void start_with(struct fixture *f, const char *db_timeout, unsigned threads)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "workers: { threads: %u, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"
             "endpoints:\n"
             "  - id: slack\n"
             "    provider: slack\n"
             "    secrets: [ \"file:slack.secret\" ]\n"
             "    commands: [ /job, /ticket ]\n"
             "    app_url: https://app.canticket.test/\n"
             "    response_url_hosts: [ 127.0.0.1 ]\n"
             "  - id: slackslow\n"
             "    provider: slack\n"
             "    secrets: [ \"file:slack.secret\" ]\n"
             "    reply_deadline: 1ms\n"
             "    response_url_hosts: [ 127.0.0.1 ]\n"
             "  - id: slackapp\n"
             "    provider: slack\n"
             "    secrets: [ \"file:slack.secret\" ]\n"
             "    app_id: A0CANTICKET\n"
             "    response_url_hosts: [ 127.0.0.1 ]\n",
             threads);
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml, .db_timeout = db_timeout};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "slack.secret", SECRET, 0600));
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    seed(f);
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
}

static void start(struct fixture *f)
{
    start_with(f, NULL, 2);
}

/* Percent-encodes s as a form value. */
static void form_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.')
            out[n++] = (char)c;
        else if (c == ' ')
            out[n++] = '+';
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
    }
    out[n] = '\0';
}

struct send {
    const char *endpoint; /* NULL: slack */
    const char *body;     /* NULL: built from the fields below */
    const char *team, *user, *command, *trigger, *response_url;
    const char *app;        /* api_app_id; NULL: A1 */
    const char *enterprise; /* enterprise_id; NULL: none sent */
    bool org_install;       /* is_enterprise_install=true */
    int64_t timestamp;      /* 0: now */
    const char *signature;  /* sent instead of the computed one */
    bool unsigned_;
};

/* POSTs a slash command; returns the status, the reply text (or the raw body) in *text. */
static long post(struct fixture *f, const struct send *s, const char *text, char **reply)
{
    static atomic_int counter;
    char body[8192], enc[4096], url[160], trig[96], ts[64], sig[GW_SLACK_SIGNATURE_SIZE + 40];
    char resp[256];
    if (s->body == NULL) {
        form_escape(text ? text : "", enc, sizeof(enc));
        snprintf(trig, sizeof(trig), "%d.%d.%ld", (int)getpid(), atomic_fetch_add(&counter, 1),
                 (long)time(NULL));
        snprintf(resp, sizeof(resp), "http://127.0.0.1:%u/commands/T0001/%s",
                 (unsigned)f->standin.port, s->trigger ? s->trigger : trig);
        char resp_enc[512];
        form_escape(s->response_url ? s->response_url : resp, resp_enc, sizeof(resp_enc));
        char cmd_enc[64];
        form_escape(s->command ? s->command : "/job", cmd_enc, sizeof(cmd_enc));
        char grid[160] = "";
        if (s->enterprise != NULL || s->org_install)
            snprintf(grid, sizeof(grid), "&enterprise_id=%s&enterprise_name=Org",
                     s->enterprise ? s->enterprise : "");
        snprintf(body, sizeof(body),
                 "token=deprecated&team_id=%s&team_domain=acme%s&channel_id=C1&channel_name="
                 "general&user_id=%s&user_name=x&command=%s&text=%s&api_app_id=%s"
                 "&is_enterprise_install=%s&response_url=%s&trigger_id=%s",
                 s->team ? s->team : "T0001", grid, s->user ? s->user : "U0ADMIN", cmd_enc, enc,
                 s->app ? s->app : "A1", s->org_install ? "true" : "false", resp_enc,
                 s->trigger ? s->trigger : trig);
    } else {
        snprintf(body, sizeof(body), "%s", s->body);
    }
    int64_t t = s->timestamp ? s->timestamp : (int64_t)time(NULL);
    struct gw_secret sec = {.data = SECRET, .len = strlen(SECRET)};
    char value[GW_SLACK_SIGNATURE_SIZE];
    assert_int_equal(
        gw_slack_sign(&sec, t, (const unsigned char *)body, strlen(body), value, sizeof(value)), 0);
    snprintf(ts, sizeof(ts), "X-Slack-Request-Timestamp: %lld", (long long)t);
    snprintf(sig, sizeof(sig), "X-Slack-Signature: %s", s->signature ? s->signature : value);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                             s->unsigned_ ? NULL : ts, sig, NULL};
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/%s", (unsigned)f->srv.port,
             s->endpoint ? s->endpoint : "slack");
    struct ts_http r;
    if (ts_http("POST", url, headers, body, &r) != 0)
        fail_msg("POST %s: %s\n%s", url, r.error, ts_server_log_tail(&f->srv));
    long status = r.status;
    cJSON *o = cJSON_Parse(r.body);
    const cJSON *tx = o ? cJSON_GetObjectItemCaseSensitive(o, "text") : NULL;
    const cJSON *rt = o ? cJSON_GetObjectItemCaseSensitive(o, "response_type") : NULL;
    if (tx != NULL && !(cJSON_IsString(rt) && strcmp(rt->valuestring, "ephemeral") == 0))
        fail_msg("answer not ephemeral: %s", r.body);
    *reply = ts_keep(&f->kept, strdup(cJSON_IsString(tx) ? tx->valuestring : r.body));
    cJSON_Delete(o);
    ts_http_free(&r);
    return status;
}

/* Runs /job TEXT as USER (T0001) and checks the reply contains WANT. */
static const char *job_as(struct fixture *f, const char *user, const char *text, const char *want,
                          int line)
{
    struct send s = {.user = user};
    char *reply = NULL;
    long st = post(f, &s, text, &reply);
    if (st != 200 || strstr(reply, want) == NULL)
        fail_msg("line %d: /job %s as %s: status %ld, reply '%s', want '%s'\n%s", line, text, user,
                 st, reply, want, st != 200 ? ts_server_log_tail(&f->srv) : "");
    return reply;
}
#define JOB(user, text, want) job_as(f, user, text, want, __LINE__)

static long long refused(struct fixture *f)
{
    return ts_db_intf(&f->db,
                      "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused' AND "
                      "company_id = %lld",
                      f->acme);
}

/* ------------------------------------------------------------------ tests */

/* What needs no write is answered by the ingest writer in the transaction that stores it:
 * with no worker thread at all, `show`, `list`, `help` and an unlinked caller get their
 * answer, stored done; what writes (`new`, a refusal and its audit row) waits for a worker. */
static void test_reads_answered_without_a_worker(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    start_with(f, NULL, 0);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO jobs (company_id, number, title, source, client_id) VALUES "
             "(%lld, 1, 'Leaking <tap>', 'api', %lld)",
             f->acme, f->globex);
    ts_db_exec_ok(&f->db, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO job_comments (company_id, job_id, author_label, body, source, "
             "visibility) SELECT company_id, id, 'Front desk', 'Called the client', 'api', "
             "'public' FROM jobs WHERE company_id = %lld AND number = 1",
             f->acme);
    ts_db_exec_ok(&f->db, sql);

    JOB("U0STAFF", "show 1",
        "*CT-000001* Leaking &lt;tap&gt;\nStatus: new | Priority: normal | Assignee: "
        "unassigned\nClient: Globex | Due: none | Billing: unbilled\n> Front desk: Called the "
        "client <https://app.canticket.test/jobs/CT-000001|open>");
    ts_expect_text(&f->db, NULL, "done|1|1",
                   "SELECT CONCAT(status, '|', attempts, '|', processed_at IS NOT NULL) FROM "
                   "webhook_events ORDER BY id DESC LIMIT 1");
    ts_expect_int(&f->db, NULL, 1, "%s",
                  "SELECT JSON_VALUE(result, '$.text') LIKE '*CT-000001* Leaking%' FROM "
                  "webhook_events ORDER BY id DESC LIMIT 1");
    JOB("U0CLI", "show CT-000001", "Client: Globex");
    JOB("U0ADMIN", "show 7", "Job CT-000007 not found."); /* the other company's job */
    JOB("U0ADMIN", "show x", "Usage: `/job show REF`");
    JOB("U0ADMIN", "list all", "CT-000001 [new] Leaking &lt;tap&gt; \xE2\x80\x94 unassigned");
    JOB("U0ADMIN", "help", "`/job new TITLE [| DESCRIPTION]`");
    JOB("U0NOBODY", "new Anything", "Your Slack account isn't linked to a CanTicket user yet.");
    struct send other = {.team = "T0002", .user = "U0OTHER"};
    char *reply = NULL;
    assert_int_equal(post(f, &other, "show 7", &reply), 200);
    assert_non_null(strstr(reply, "*CT-000007* Other secret"));
    ts_expect_int(&f->db, NULL, 0, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE status <> 'done'");

    /* Writes and refusals are not the writer's: with no worker they wait, answered at the
     * deadline, and nothing is written yet. */
    long long before = refused(f);
    JOB("U0CON", "show 1", "Working on it");
    JOB("U0ADMIN", "new Not yet", "Working on it");
    ts_expect_int(&f->db, NULL, 2, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE status = 'pending'");
    ts_expect_int(&f->db, NULL, before, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused'");
    ts_expect_int(&f->db, NULL, 1, "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", f->acme);
}

static void test_every_command_and_role(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    start(f);

    /* help and empty */
    JOB("U0CON", "", "`/job new TITLE [| DESCRIPTION]`");
    JOB("U0CLI", "help", "`/job time REF DURATION [NOTE]");

    /* new: admin, manager, staff, client; contractor refused */
    JOB("U0ADMIN", "new Fix boiler | Leaks at site 14",
        "Created CT-000001: Fix boiler <https://app.canticket.test/jobs/CT-000001|open>");
    ts_expect_text(&f->db, NULL, "Leaks at site 14|slack|new",
                   "SELECT CONCAT(description, '|', source, '|', status) FROM jobs WHERE "
                   "company_id = %lld AND number = 1",
                   f->acme);
    ts_expect_int(&f->db, NULL, 1,
                  "SELECT COUNT(*) FROM jobs j JOIN users u ON u.id = j.created_by_user_id WHERE "
                  "j.number = 1 AND j.company_id = %lld AND u.slack_user_id = 'U0ADMIN'",
                  f->acme);
    JOB("U0CLI", "new Broken window", "Created CT-000002: Broken window");
    ts_expect_int(&f->db, NULL, f->globex,
                  "SELECT client_id FROM jobs WHERE company_id = %lld AND number = 2", f->acme);
    JOB("U0MGR", "new Manager job", "Created CT-000003");
    JOB("U0STAFF", "new Staff job", "Created CT-000004");
    long long before = refused(f);
    JOB("U0CON", "new Contractor job", "You may not create jobs");
    ts_expect_int(
        &f->db, NULL, before + 1, "%s",
        "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused' AND reason = "
        "'contractor may not create jobs' AND actor = 'U0CON'");
    ts_expect_int(&f->db, NULL, 4, "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", f->acme);
    JOB("U0ADMIN", "new", "Usage: `/job new TITLE [| DESCRIPTION]`");

    /* assign: admin, manager, staff (mention, me, e-mail); others refused */
    JOB("U0MGR", "assign 1 <@U0CON|cody>", "CT-000001 assigned.");
    ts_expect_int(&f->db, NULL, 1,
                  "SELECT COUNT(*) FROM jobs j JOIN users u ON u.id = j.assignee_user_id WHERE "
                  "j.number = 1 AND j.company_id = %lld AND u.slack_user_id = 'U0CON'",
                  f->acme);
    JOB("U0STAFF", "assign ct-4 me", "CT-000004 assigned.");
    JOB("U0ADMIN", "assign CT-000003 sam@acme.test", "CT-000003 assigned.");
    JOB("U0ADMIN", "assign 3 <@U0OTHER>", "No linked CanTicket user");
    JOB("U0ADMIN", "assign 3", "Usage: `/job assign REF @user|me|EMAIL`");
    before = refused(f);
    JOB("U0CON", "assign 1 me", "You may not assign CT-000001");
    JOB("U0CLI", "assign 2 me", "You may not assign CT-000002");
    ts_expect_int(&f->db, NULL, before + 2, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused'");

    /* show: staff roles; contractor if assigned; client if theirs */
    JOB("U0STAFF", "show 1", "Status: new | Priority: normal | Assignee: Cody");
    JOB("U0CON", "show CT-000001", "*CT-000001* Fix boiler");
    JOB("U0CLI", "show 2", "Client: Globex | Due: none | Billing: unbilled");
    before = refused(f);
    JOB("U0CON", "show 2", "You may not view CT-000002: contractors see only");
    JOB("U0CLI", "show 1", "You may not view CT-000001: clients see only their own jobs.");
    ts_expect_int(&f->db, NULL, before + 2, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused'");
    JOB("U0ADMIN", "show", "Usage: `/job show REF`");
    JOB("U0ADMIN", "show CT-xyz", "Usage: `/job show REF`");

    /* comment: internal for staff roles, public for clients; last public ones in show */
    JOB("U0STAFF", "comment 1 Checked the valve", "Internal comment added to CT-000001.");
    JOB("U0CON", "comment 1 Parts ordered", "Internal comment added to CT-000001.");
    JOB("U0CLI", "comment 2 Any news? <b>", "Comment added to CT-000002.");
    ts_expect_text(
        &f->db, NULL, "public|Any news? <b>",
        "SELECT CONCAT(visibility, '|', body) FROM job_comments c JOIN users u ON u.id = "
        "c.author_user_id WHERE u.slack_user_id = 'U0CLI'");
    ts_expect_int(&f->db, NULL, 2, "%s",
                  "SELECT COUNT(*) FROM job_comments WHERE visibility = 'internal' AND source = "
                  "'slack'");
    JOB("U0ADMIN", "show 2", "\n> Cleo: Any news? &lt;b&gt;");
    before = refused(f);
    JOB("U0CLI", "comment 1 hello", "You may not comment on CT-000001");
    JOB("U0CON", "comment 2 hello", "You may not comment on CT-000002");
    ts_expect_int(&f->db, NULL, before + 2, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused'");
    JOB("U0ADMIN", "comment 1", "Usage: `/job comment REF TEXT`");

    /* status, close, reopen: staff roles; contractor if assigned */
    JOB("U0CON", "status 1 in_progress", "CT-000001 is now in_progress.");
    JOB("U0MGR", "close 3", "CT-000003 is now closed.");
    ts_expect_int(&f->db, NULL, 1,
                  "SELECT COUNT(*) FROM jobs WHERE company_id = %lld AND number = 3 AND closed_at "
                  "IS NOT NULL",
                  f->acme);
    JOB("U0ADMIN", "reopen CT-000003", "CT-000003 is now open.");
    JOB("U0STAFF", "status 2 on_hold", "CT-000002 is now on_hold.");
    before = refused(f);
    JOB("U0CON", "status 2 done", "You may not change the status of CT-000002: contractors");
    JOB("U0CLI", "close 2", "You may not change the status of CT-000002: clients");
    JOB("U0CON", "reopen 4", "You may not change the status of CT-000004");
    ts_expect_int(&f->db, NULL, before + 3, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused'");
    JOB("U0ADMIN", "status 1 flying", "Usage: `/job status REF");
    JOB("U0ADMIN", "close", "Usage: `/job close REF`");

    /* time: anyone but clients; contractors on their assigned jobs only */
    JOB("U0CON", "time 1 1h30m fixed the valve", "Logged 1h30m on CT-000001.");
    JOB("U0STAFF", "time 2 1.5h", "Logged 1h30m on CT-000002.");
    JOB("U0MGR", "time 2 90m", "Logged 1h30m on CT-000002.");
    JOB("U0ADMIN", "time 4 2h", "Logged 2h00m on CT-000004.");
    ts_expect_int(&f->db, NULL, 4 * 90 + 30,
                  "SELECT SUM(minutes) FROM time_entries WHERE company_id = %lld AND source = "
                  "'slack'",
                  f->acme);
    ts_expect_text(&f->db, NULL, "fixed the valve",
                   "SELECT note FROM time_entries t JOIN users u ON u.id = t.user_id WHERE "
                   "u.slack_user_id = 'U0CON'");
    before = refused(f);
    JOB("U0CON", "time 2 1h", "You may not log time on CT-000002");
    JOB("U0CLI", "time 2 30m", "You may not log time on CT-000002: clients do not log time.");
    ts_expect_int(&f->db, NULL, before + 2, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'slack_command_refused'");
    JOB("U0ADMIN", "time 1 25h", "Usage: `/job time REF DURATION");
    JOB("U0ADMIN", "time 1 0m", "Usage: `/job time REF DURATION");

    /* list: filtered to what the caller may see, newest first, at most 10 */
    const char *all = JOB("U0ADMIN", "list all", "CT-000004 [new] Staff job \xE2\x80\x94 Sam");
    assert_true(strstr(all, "CT-000004") < strstr(all, "CT-000001"));
    const char *con = JOB("U0CON", "list", "CT-000001 [in_progress] Fix boiler");
    assert_null(strstr(con, "CT-000002"));
    const char *cli = JOB("U0CLI", "list all", "CT-000002 [on_hold] Broken window");
    assert_null(strstr(cli, "CT-000001"));
    JOB("U0MGR", "list mine", "CT-000003");
    JOB("U0ADMIN", "list bogus", "Usage: `/job list [open|mine|all]`");
    for (int i = 0; i < 10; i++)
        JOB("U0STAFF", "new Filler", "Created");
    const char *ten = JOB("U0STAFF", "list all", "CT-000014");
    assert_null(strstr(ten, "CT-000004")); /* the eleventh newest is not listed */
    /* The name of a user is theirs: escaped too. */
    JOB("U0ADMIN", "show 3", "Assignee: Sam &lt;script&gt;");

    /* every change wrote job_events with source slack and the caller as actor */
    ts_expect_int(&f->db, NULL, 0,
                  "SELECT COUNT(*) FROM job_events WHERE company_id = %lld AND source <> 'slack'",
                  f->acme);
    ts_expect_int(
        &f->db, NULL, 0,
        "SELECT COUNT(*) FROM job_events WHERE company_id = %lld AND actor_user_id IS NULL",
        f->acme);
    ts_expect_int(&f->db, NULL, 1,
                  "SELECT COUNT(*) FROM job_events e JOIN users u ON u.id = e.actor_user_id WHERE "
                  "e.kind = 'created' AND u.slack_user_id = 'U0CLI'");
    /* nothing failed, nothing was delivered late */
    ts_expect_int(&f->db, NULL, 0, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE status <> 'done'");
    assert_int_equal(standin_requests(&f->standin), 0);
    ts_server_stop_clean(__func__, &f->srv);
}

static void test_company_isolation_unknown_workspace_and_unlinked_user(void **state)
{
    struct fixture *f = *state;
    start(f);
    JOB("U0ADMIN", "new Acme job", "Created CT-000001");
    /* The other company's CT-000007 is exactly as unknown as CT-000099. */
    const char *a = JOB("U0ADMIN", "show 7", "Job CT-000007 not found.");
    assert_null(strstr(a, "secret"));
    JOB("U0ADMIN", "show 99", "Job CT-000099 not found.");
    JOB("U0ADMIN", "close 7", "Job CT-000007 not found.");
    JOB("U0ADMIN", "comment 7 hi", "Job CT-000007 not found.");
    JOB("U0ADMIN", "time 7 1h", "Job CT-000007 not found.");
    JOB("U0ADMIN", "assign 7 me", "Job CT-000007 not found.");
    const char *l = JOB("U0ADMIN", "list all", "CT-000001");
    assert_null(strstr(l, "CT-000007"));
    /* The other workspace sees its own job, not acme's. */
    struct send o = {.team = "T0002", .user = "U0OTHER"};
    char *reply = NULL;
    assert_int_equal(post(f, &o, "show 1", &reply), 200);
    assert_string_equal(reply, "Job CT-000001 not found.");
    assert_int_equal(post(f, &o, "show 7", &reply), 200);
    assert_non_null(strstr(reply, "Other secret"));
    /* An acme user id typed in the other workspace is not linked there. */
    struct send x = {.team = "T0002", .user = "U0ADMIN"};
    assert_int_equal(post(f, &x, "list", &reply), 200);
    assert_non_null(strstr(reply, "isn't linked to a CanTicket user"));
    /* Unknown workspace: the IGNORED outcome, stored as ignored. */
    struct send u = {.team = "T9999", .user = "U0ADMIN"};
    assert_int_equal(post(f, &u, "new Sneaky", &reply), 200);
    assert_string_equal(reply, "This Slack workspace isn't connected to CanTicket.");
    ts_expect_int(&f->db, NULL, 1, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE status = 'ignored'");
    ts_expect_int(&f->db, NULL, 2, "%s", "SELECT COUNT(*) FROM jobs");
    /* Unlinked user of a known workspace: how to link. */
    JOB("U0NOBODY", "new Sneaky", "Your Slack account isn't linked to a CanTicket user yet");
    ts_expect_int(&f->db, NULL, 2, "%s", "SELECT COUNT(*) FROM jobs");
    /* A command this endpoint does not answer. */
    struct send c = {.command = "/other"};
    assert_int_equal(post(f, &c, "new X", &reply), 200);
    assert_string_equal(reply, "This app does not answer /other.");
    ts_server_stop_clean(__func__, &f->srv);
}

static void test_app_id_and_enterprise_grid(void **state)
{
    struct fixture *f = *state;
    start(f);
    char *reply = NULL;
    /* An endpoint with app_id answers its own app's commands... */
    struct send mine = {.endpoint = "slackapp", .app = "A0CANTICKET"};
    assert_int_equal(post(f, &mine, "new From our app", &reply), 200);
    assert_string_equal(reply, "Created CT-000001: From our app");
    /* ...and refuses another app's, even signed with its secret: nothing stored, an
     * audit_log row and a log line saying why. */
    struct send theirs = {.endpoint = "slackapp", .app = "A0SOMEONEELSE"};
    assert_int_equal(post(f, &theirs, "new From another app", &reply), 200);
    assert_string_equal(reply,
                        "This command was sent to a Slack app this CanTicket endpoint does not "
                        "serve.");
    struct send missing = {.endpoint = "slackapp", .app = ""};
    assert_int_equal(post(f, &missing, "new No app", &reply), 200);
    assert_non_null(strstr(reply, "does not serve"));
    ts_expect_int(&f->db, NULL, 1, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE endpoint = 'slackapp'");
    ts_expect_int(&f->db, NULL, 1, "%s",
                  "SELECT COUNT(*) FROM jobs WHERE company_id IS NOT NULL AND "
                  "title LIKE 'From%'");
    for (int i = 0; i < 100 && ts_db_intf(&f->db, "%s",
                                          "SELECT COUNT(*) FROM audit_log WHERE kind = 'refused' "
                                          "AND endpoint = 'slackapp'") < 2;
         i++)
        ts_sleep_ms(50);
    ts_expect_int(&f->db, NULL, 2, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'refused' AND endpoint = 'slackapp' "
                  "AND reason = 'slack api_app_id is not the configured app_id' AND "
                  "source_address = '127.0.0.1'");
    /* An endpoint without app_id does not check it. */
    struct send any = {.app = "A0WHATEVER"};
    assert_int_equal(post(f, &any, "new Any app", &reply), 200);
    assert_non_null(strstr(reply, "Created CT-000002: Any app"));

    /* Enterprise Grid: a workspace-level install in an org is still its workspace... */
    struct send ws = {.team = "T0001", .enterprise = "E0ORG"};
    assert_int_equal(post(f, &ws, "new Grid workspace", &reply), 200);
    assert_non_null(strstr(reply, "Created CT-000003: Grid workspace"));
    /* ...while an org-wide install is one installation for every workspace of the org,
     * keyed by enterprise_id, whatever team_id the command was typed in. */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO integrations (company_id, provider, external_id) VALUES "
             "(%lld, 'slack', 'E0ORG')",
             f->acme);
    ts_db_exec_ok(&f->db, sql);
    struct send org = {.team = "T0ANYWS", .enterprise = "E0ORG", .org_install = true};
    assert_int_equal(post(f, &org, "new Grid org", &reply), 200);
    assert_non_null(strstr(reply, "Created CT-000004: Grid org"));
    struct send other_org = {.team = "T0001", .enterprise = "E0ELSE", .org_install = true};
    assert_int_equal(post(f, &other_org, "new Wrong org", &reply), 200);
    assert_string_equal(reply, "This Slack workspace isn't connected to CanTicket.");
    struct send no_org = {.team = "T0001", .org_install = true};
    assert_int_equal(post(f, &no_org, "new No org", &reply), 400);
    assert_non_null(strstr(reply, "enterprise_id"));
    ts_expect_int(&f->db, NULL, 4, "%s", "SELECT COUNT(*) FROM jobs WHERE source = 'slack'");
    ts_server_stop_clean(__func__, &f->srv);
}

static void test_user_text_is_escaped(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *title = "<!channel> <@U123> <https://x|y> & more";
    const char *esc = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://x|y&gt; &amp; more";
    char text[256];
    snprintf(text, sizeof(text), "new %s", title);
    const char *r = JOB("U0ADMIN", text, esc);
    assert_null(strstr(r, "<!channel>"));
    assert_null(strstr(r, "<@U123>"));
    assert_null(strstr(r, "<https://x|y>"));
    /* Stored as the user wrote it (the '|' inside a link is not the description separator). */
    ts_expect_text(&f->db, NULL, title, "%s",
                   "SELECT title FROM jobs WHERE number = 1 AND source = 'slack'");
    ts_expect_int(&f->db, NULL, 1, "%s",
                  "SELECT COUNT(*) FROM jobs WHERE number = 1 AND description IS NULL");
    r = JOB("U0ADMIN", "show 1", esc);
    assert_null(strstr(r, "<!channel>"));
    r = JOB("U0ADMIN", "list all", esc);
    assert_null(strstr(r, "<!channel>"));
    /* Text Slack escaped arrives decoded in the database, and escaped once more on the way
     * out. */
    JOB("U0ADMIN", "new a &lt;b&gt; &amp;amp; c | d &amp; e",
        "Created CT-000002: a &lt;b&gt; "
        "&amp;amp; c");
    ts_expect_text(&f->db, NULL, "a <b> &amp; c|d & e", "%s",
                   "SELECT CONCAT(title, '|', description) FROM jobs WHERE number = 2");
    ts_server_stop_clean(__func__, &f->srv);
}

/* Waits (bounded) for the response_url stand-in to hold N posts; the text of post N. */
static char *wait_post(struct fixture *f, int n)
{
    for (int i = 0; i < 1200 && standin_requests(&f->standin) < n; i++)
        ts_sleep_ms(25);
    if (standin_requests(&f->standin) < n)
        fail_msg("response_url got %d posts, want %d\n%s", standin_requests(&f->standin), n,
                 ts_server_log_tail(&f->srv));
    cJSON *o = cJSON_Parse(f->standin.bodies[n - 1]);
    const cJSON *t = o ? cJSON_GetObjectItemCaseSensitive(o, "text") : NULL;
    char *text = ts_keep(&f->kept, strdup(cJSON_IsString(t) ? t->valuestring : "?"));
    cJSON_Delete(o);
    return text;
}

/* Statements of kind KIND (Com_insert, ...) the server has run so far. */
static long long server_count(struct fixture *f, const char *kind)
{
    return ts_db_intf(&f->db,
                      "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
                      "VARIABLE_NAME = '%s'",
                      kind);
}

/* `/job new` commands that a worker finds waiting together are created together
 * (gw_job_create_many): each caller's job, numbered in the order of the commands per
 * company, a refusal refused alone, every outcome posted to its response_url — and the
 * jobs, their numbers and their history written by a few INSERTs for the lot, not three per
 * command. */
static void test_new_commands_created_together(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    start_with(f, NULL, 0); /* no worker: the commands wait, stored */
    static const struct {
        const char *team, *user, *text;
    } cmd[] = {
        {"T0001", "U0ADMIN", "new First together"}, {"T0001", "U0CLI", "new Second | for Globex"},
        {"T0001", "U0CON", "new Not allowed"},      {"T0001", "U0STAFF", "new Third"},
        {"T0002", "U0OTHER", "new Elsewhere"},
    };
    for (size_t i = 0; i < sizeof(cmd) / sizeof(cmd[0]); i++) {
        /* slackslow: answered "Working on it" at once (1 ms deadline). */
        struct send s = {.endpoint = "slackslow", .team = cmd[i].team, .user = cmd[i].user};
        char *reply = NULL;
        assert_int_equal(post(f, &s, cmd[i].text, &reply), 200);
        assert_non_null(strstr(reply, "Working on it"));
    }
    /* "Working on it" may be answered before the writer's commit lands: wait for it. */
    if (!ts_db_wait_int(&f->db, 5, 10000, "%s",
                        "SELECT COUNT(*) FROM webhook_events WHERE status = 'pending'"))
        fail_msg("the five commands were not all stored%s", ts_server_log_tail(&f->srv));
    /* All due when the workers start, in the order they came, so that one claim takes them
     * together and numbers them in that order. */
    ts_db_exec_ok(&f->db, "UPDATE webhook_events SET next_attempt_at = NOW(3) - INTERVAL 10 "
                          "SECOND + INTERVAL id * 1000 MICROSECOND");
    ts_server_stop_clean(__func__, &f->srv);

    /* The same server with a worker: it claims the five at once (one worker, so that no
     * second one takes some of them first). */
    char *yaml = test_read(f->srv.config, NULL);
    assert_non_null(yaml);
    char *at = strstr(yaml, "threads: 0");
    assert_non_null(at);
    at[9] = '1';
    const char *slash = strrchr(f->srv.config, '/');
    free(test_write_text(f->srv.dir, slash + 1, yaml, 0600));
    free(yaml);
    long long inserts = server_count(f, "Com_insert");
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not restart:\n%s", ts_server_log_tail(&f->srv));
    wait_post(f, 5);
    ts_expect_int(&f->db, NULL, 5, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'");
    /* Each company's jobs numbered 1.. in the order their commands were stored (two ingest
     * writers may store commands answered at once in either order). */
    ts_expect_text(&f->db, NULL, "First together:-,Second:Globex,Third:-",
                   "SELECT GROUP_CONCAT(j.title, ':', IFNULL(c.name, '-') ORDER BY "
                   "j.title) FROM jobs j LEFT JOIN clients c ON c.id = j.client_id WHERE "
                   "j.company_id = %lld AND j.source = 'slack' AND j.number = (SELECT 1 + "
                   "COUNT(*) FROM job_events e2 JOIN jobs j2 ON j2.id = e2.job_id WHERE "
                   "j2.company_id = j.company_id AND j2.source = 'slack' AND e2.kind = 'created' "
                   "AND e2.webhook_event_id < (SELECT e.webhook_event_id FROM job_events e WHERE "
                   "e.job_id = j.id AND e.kind = 'created'))",
                   f->acme);
    char *posts[5] = {NULL};
    for (int p = 0; p < 5; p++)
        posts[p] = f->standin.bodies[p];
    char *elsewhere = ts_keep(&f->kept, ts_db_dump(&f->db, "SELECT ref FROM jobs WHERE title = "
                                                           "'Elsewhere' AND source = 'slack'"));
    assert_string_equal(elsewhere, "CT-000001\n"); /* the other company's own counter */
    static const char *const titles[] = {"First together", "Second", "Third", "Elsewhere"};
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want), "Created CT-%06lld: %s",
                 ts_db_intf(&f->db, "SELECT number FROM jobs WHERE title = '%s'", titles[i]),
                 titles[i]);
        bool found = false;
        for (int p = 0; p < 5 && !found; p++)
            found = strstr(posts[p], want) != NULL;
        if (!found)
            fail_msg("no response_url post says '%s': %s | %s | %s | %s | %s", want, posts[0],
                     posts[1], posts[2], posts[3], posts[4]);
    }
    bool refusal = false;
    for (int p = 0; p < 5; p++)
        refusal = refusal || strstr(posts[p], "You may not create jobs: contractors") != NULL;
    assert_true(refusal);
    ts_expect_int(&f->db, NULL, 4, "%s",
                  "SELECT COUNT(*) FROM job_events e JOIN webhook_events w ON w.id = "
                  "e.webhook_event_id AND w.company_id = e.company_id WHERE e.kind = 'created' "
                  "AND e.actor_user_id IS NOT NULL");
    ts_expect_int(&f->db, NULL, 1,
                  "SELECT COUNT(*) FROM audit_log WHERE kind = "
                  "'slack_command_refused' AND company_id = %lld",
                  f->acme);
    /* Two counters (one per company), one INSERT of the four jobs, one of their history and
     * the refusal's audit row: applied one by one it would be four of each and the audit. */
    long long ran = server_count(f, "Com_insert") - inserts;
    if (ran > 6)
        fail_msg("%lld INSERTs for four jobs and a refusal: not created together", ran);
    ts_server_stop_clean(__func__, &f->srv);
}

static void test_slow_path_posts_to_response_url(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    f->standin.statuses[0] = 503; /* the first post fails: retried */
    start(f);
    JOB("U0ADMIN", "new Slow one", "Created CT-000001");
    /* Hold the job's row so that applying waits past the 1 ms deadline. */
    MYSQL *lock = ts_db_connect(f->db.name);
    assert_non_null(lock);
    assert_int_equal(mysql_query(lock, "BEGIN"), 0);
    assert_int_equal(mysql_query(lock, "SELECT id FROM jobs WHERE number = 1 FOR UPDATE"), 0);
    mysql_free_result(mysql_store_result(lock));
    struct send s = {.endpoint = "slackslow", .trigger = "slow.1.trigger"};
    char *reply = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long st = post(f, &s, "close 1", &reply);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_int_equal(st, 200);
    /* The endpoint's 1 ms, not the provider's 2500 ms default (plus the 20 ms rechecks
     * while the event is committed). */
    if (ms > 1000)
        fail_msg("the answer took %ld ms", ms);
    assert_string_equal(reply, "Working on it\xE2\x80\xA6");
    assert_int_equal(standin_requests(&f->standin), 0);
    assert_int_equal(mysql_query(lock, "ROLLBACK"), 0);
    mysql_close(lock);
    for (int i = 0; i < 400 && standin_requests(&f->standin) < 2; i++)
        ts_sleep_ms(25);
    if (standin_requests(&f->standin) != 2)
        fail_msg("response_url got %d posts, want 2 (503 then 200)\n%s",
                 standin_requests(&f->standin), ts_server_log_tail(&f->srv));
    cJSON *o = cJSON_Parse(f->standin.bodies[1]);
    assert_non_null(o);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(o, "response_type");
    assert_true(cJSON_IsString(t) && strcmp(t->valuestring, "CT-000001 is now closed.") == 0);
    assert_true(cJSON_IsString(rt) && strcmp(rt->valuestring, "ephemeral") == 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "invoked_at"));
    cJSON_Delete(o);
    assert_string_equal(f->standin.bodies[0], f->standin.bodies[1]);
    ts_expect_text(&f->db, NULL, "closed", "%s", "SELECT status FROM jobs WHERE number = 1");
    /* The same trigger again: the stored result, nothing applied twice. The 1 ms deadline
     * counts from the arrival, so the answer may say "Working on it" before the writer finds
     * the trigger stored; then the stored result is what the response_url gets. */
    assert_int_equal(post(f, &s, "close 1", &reply), 200);
    int posts = 2;
    if (strcmp(reply, "Working on it\xE2\x80\xA6") == 0)
        assert_string_equal(wait_post(f, ++posts), "CT-000001 is now closed.");
    else
        assert_string_equal(reply, "CT-000001 is now closed.");
    ts_sleep_ms(300);
    assert_int_equal(standin_requests(&f->standin), posts);
    /* A response_url on a host that is not allowed gets nothing (and the command works). */
    ts_db_exec_ok(&f->db, "SELECT 1");
    struct send bad = {.endpoint = "slackslow",
                       .response_url = "http://evil.example/commands/T0001/1"};
    assert_int_equal(post(f, &bad, "reopen 1", &reply), 200);
    for (int i = 0; i < 200; i++) {
        if (ts_db_intf(&f->db, "%s",
                       "SELECT COUNT(*) FROM jobs WHERE number = 1 AND status = 'open'") == 1)
            break;
        ts_sleep_ms(25);
    }
    ts_expect_text(&f->db, NULL, "open", "%s", "SELECT status FROM jobs WHERE number = 1");
    ts_sleep_ms(300);
    assert_int_equal(standin_requests(&f->standin), posts);
    ts_server_stop_clean(__func__, &f->srv);
}

static void test_response_url_gets_at_most_five_posts(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    start(f);
    JOB("U0ADMIN", "new Busy one", "Created CT-000001");
    char url[160];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/commands/T0001/same",
             (unsigned)f->standin.port);
    /* Six slow commands sharing one response_url (Slack would not, but a replayed or forged
     * one could): the row lock makes every answer "Working on it…". */
    MYSQL *lock = ts_db_connect(f->db.name);
    assert_non_null(lock);
    assert_int_equal(mysql_query(lock, "BEGIN"), 0);
    assert_int_equal(mysql_query(lock, "SELECT id FROM jobs WHERE number = 1 FOR UPDATE"), 0);
    mysql_free_result(mysql_store_result(lock));
    for (int i = 0; i < 6; i++) {
        struct send s = {.endpoint = "slackslow", .response_url = url};
        char *reply = NULL;
        assert_int_equal(post(f, &s, i % 2 ? "reopen 1" : "close 1", &reply), 200);
        assert_string_equal(reply, "Working on it\xE2\x80\xA6");
    }
    assert_int_equal(mysql_query(lock, "ROLLBACK"), 0);
    mysql_close(lock);
    for (int i = 0; i < 600; i++) {
        if (ts_db_intf(&f->db, "%s", "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'") ==
            7)
            break;
        ts_sleep_ms(25);
    }
    ts_expect_int(&f->db, NULL, 7, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'");
    ts_sleep_ms(500); /* the last deliveries run after the commit */
    if (standin_requests(&f->standin) != 5)
        fail_msg("response_url got %d posts, want 5\n%s", standin_requests(&f->standin),
                 ts_server_log_tail(&f->srv));
    char *log = ts_server_log(&f->srv);
    bool said = strstr(log, "response_url used up or expired") != NULL;
    free(log);
    assert_true(said);
    ts_server_stop_clean(__func__, &f->srv);
}

/* ------------------------------------------------------------------ a stalled database */

/* Stops the private MariaDB every test shares (SIGSTOP): its connections stay open and every
 * statement waits. The teardown sends SIGCONT whatever happens, and this test binary runs
 * alone (tests/integration/meson.build). */
static void stall_database(struct fixture *f)
{
    const char *dev = getenv("CTGW_DEV");
    assert_non_null(dev);
    char path[512];
    snprintf(path, sizeof(path), "%.*s/.local/mariadb/mariadbd.pid",
             (int)(strrchr(dev, '/') ? strrchr(dev, '/') - dev : 1), dev);
    char *text = test_read(path, NULL);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    pid_t pid = (pid_t)strtol(text, NULL, 10);
    free(text);
    assert_true(pid > 1);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    f->stopped = pid;
}

static void resume_database(struct fixture *f)
{
    if (f->stopped > 0)
        assert_int_equal(kill(f->stopped, SIGCONT), 0);
    f->stopped = 0;
}

/* The database stops for 5 s while a command arrives: Slack gets "Working on it" within its
 * 3 s, before anything is stored, and the result follows on the response_url once the
 * database is back; the job exists once. */
static void test_stalled_database_answers_in_time(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    start(f);
    JOB("U0ADMIN", "new Before the stall", "Created CT-000001");
    stall_database(f);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct send s = {.trigger = "stall.1.trigger"};
    char *reply = NULL;
    long st = post(f, &s, "new During the stall", &reply);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_int_equal(st, 200);
    /* Answered while the database was still stopped: from the deadline, not from a store. */
    assert_string_equal(reply, "Working on it\xE2\x80\xA6");
    if (ms >= 3000)
        fail_msg("the answer took %ld ms; Slack gives up at 3000", ms);
    assert_int_equal(standin_requests(&f->standin), 0);
    ts_sleep_ms(5000 - ms > 0 ? 5000 - ms : 0);
    resume_database(f);
    const char *posted = wait_post(f, 1);
    if (strncmp(posted, "Created CT-000002: During the stall", 35) != 0)
        fail_msg("posted '%s'", posted);
    ts_expect_int(&f->db, NULL, 1, "%s",
                  "SELECT COUNT(*) FROM jobs WHERE title = 'During the stall' AND number = 2");
    ts_expect_int(&f->db, NULL, 1, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = 'stall.1.trigger' AND "
                  "status = 'done'");
    ts_sleep_ms(300);
    assert_int_equal(standin_requests(&f->standin), 1);
    ts_server_stop_clean(__func__, &f->srv);
}

/* The database stays stopped past ctgw's query timeout: the command, answered "Working on it"
 * at once (1 ms deadline), cannot be stored, and the response_url says so; nothing changed. */
static void test_command_not_stored_is_told(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    start_with(f, "1s", 2);
    JOB("U0ADMIN", "new Before the stall", "Created CT-000001");
    stall_database(f);
    struct send s = {.endpoint = "slackslow", .trigger = "lost.1.trigger"};
    char *reply = NULL;
    assert_int_equal(post(f, &s, "new Lost one", &reply), 200);
    assert_string_equal(reply, "Working on it\xE2\x80\xA6");
    /* Told while the database is still stopped: nothing can have been stored. */
    assert_string_equal(wait_post(f, 1),
                        "CanTicket could not save this command, nothing was changed: please "
                        "try again.");
    resume_database(f);
    /* Once the database is back, what the timed-out connection had sent is rolled back. */
    ts_sleep_ms(1500);
    ts_expect_int(&f->db, NULL, 0, "%s", "SELECT COUNT(*) FROM jobs WHERE title = 'Lost one'");
    ts_expect_int(&f->db, NULL, 0, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = 'lost.1.trigger'");
    /* And the gateway works again. */
    JOB("U0ADMIN", "new After the stall", "Created CT-000002");
    assert_int_equal(standin_requests(&f->standin), 1);
    ts_server_stop_clean(__func__, &f->srv);
}

static void test_signatures_replays_and_ssl_check(void **state)
{
    struct fixture *f = *state;
    standin_start(&f->standin);
    start(f);
    char *reply = NULL;
    struct send bad = {.signature =
                           "v0=0000000000000000000000000000000000000000000000000000000000000000"};
    assert_int_equal(post(f, &bad, "new Forged", &reply), 401);
    struct send stale = {.timestamp = (int64_t)time(NULL) - 301};
    assert_int_equal(post(f, &stale, "new Stale", &reply), 401);
    struct send missing = {.unsigned_ = true};
    assert_int_equal(post(f, &missing, "new Unsigned", &reply), 401);
    /* Audit rows of refused requests go with a writer's next batch: wait for them. */
    for (int i = 0; i < 200 && ts_db_intf(&f->db, "%s",
                                          "SELECT COUNT(*) FROM audit_log WHERE kind = "
                                          "'rejected_signature'") < 3;
         i++)
        ts_sleep_ms(25);
    ts_expect_int(&f->db, NULL, 3, "%s",
                  "SELECT COUNT(*) FROM audit_log WHERE kind = 'rejected_signature'");
    ts_expect_int(&f->db, NULL, 0, "%s", "SELECT COUNT(*) FROM webhook_events");
    ts_expect_int(&f->db, NULL, 0, "%s", "SELECT COUNT(*) FROM jobs WHERE source = 'slack'");

    /* Replayed trigger_id: answered with the first result, applied once. */
    struct send once = {.trigger = "13345224609.738474920.replayed"};
    assert_int_equal(post(f, &once, "new Only once", &reply), 200);
    assert_non_null(strstr(reply, "Created CT-000001: Only once"));
    assert_int_equal(post(f, &once, "new Only once", &reply), 200);
    assert_non_null(strstr(reply, "Created CT-000001: Only once"));
    assert_int_equal(post(f, &once, "new Something else", &reply), 200);
    assert_non_null(strstr(reply, "Created CT-000001: Only once"));
    ts_expect_int(&f->db, NULL, 1, "%s", "SELECT COUNT(*) FROM jobs WHERE source = 'slack'");
    ts_expect_int(&f->db, NULL, 1, "%s", "SELECT COUNT(*) FROM webhook_events");

    /* ssl_check: 200, empty, nothing stored — signed or not. */
    struct send probe = {.body = "ssl_check=1&token=xyzz0WbapA4vBCDEFasx0q6G",
                         .unsigned_ = true,
                         .signature = "v0=bad"};
    assert_int_equal(post(f, &probe, NULL, &reply), 200);
    assert_string_equal(reply, ""); /* an empty body */
    struct send probe2 = {.body = "ssl_check=1&token=xyzz0WbapA4vBCDEFasx0q6G"};
    assert_int_equal(post(f, &probe2, NULL, &reply), 200);
    assert_string_equal(reply, "");
    /* ssl_check with a command is not a probe: unsigned, it is refused. */
    struct send fake = {.body =
                            "ssl_check=1&command=%2Fjob&team_id=T0001&user_id=U0ADMIN&text=new+x"
                            "&trigger_id=fake.1",
                        .signature = "v0=bad"};
    assert_int_equal(post(f, &fake, NULL, &reply), 401);
    ts_expect_int(&f->db, NULL, 1, "%s", "SELECT COUNT(*) FROM webhook_events");
    /* Malformed forms and missing fields are 400. */
    struct send malformed = {.body = "team_id=T0001&text=%ZZ"};
    assert_int_equal(post(f, &malformed, NULL, &reply), 400);
    struct send no_trigger = {.body = "team_id=T0001&user_id=U0ADMIN&command=%2Fjob&text=list"};
    assert_int_equal(post(f, &no_trigger, NULL, &reply), 400);
    assert_non_null(strstr(reply, "trigger_id"));
    /* JSON is not a slash command: 415. */
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/slack", (unsigned)f->srv.port);
    const char *h[] = {"Content-Type: application/json", NULL};
    struct ts_http r;
    assert_int_equal(ts_http("POST", url, h, "{}", &r), 0);
    assert_int_equal(r.status, 415);
    ts_http_free(&r);
    ts_server_stop_clean(__func__, &f->srv);
}

static void test_bodies_from_slack_docs(void **state)
{
    struct fixture *f = *state;
    start(f);
    char *cmd = ts_keep(&f->kept, test_read(FIXTURES "/docs_slash_command.txt", NULL));
    char *ver = ts_keep(&f->kept, test_read(FIXTURES "/docs_verifying_requests.txt", NULL));
    assert_non_null(cmd);
    assert_non_null(ver);
    cmd[strcspn(cmd, "\n")] = '\0';
    ver[strcspn(ver, "\n")] = '\0';
    /* The published vector signs as published. */
    struct gw_secret sec = {.data = SECRET, .len = strlen(SECRET)};
    char sig[GW_SLACK_SIGNATURE_SIZE];
    assert_int_equal(
        gw_slack_sign(&sec, 1531420618, (const unsigned char *)ver, strlen(ver), sig, sizeof(sig)),
        0);
    assert_string_equal(sig, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
    /* ...but its 2018 timestamp is stale now. */
    char *reply = NULL;
    struct send old = {.body = ver, .timestamp = 1531420618};
    assert_int_equal(post(f, &old, NULL, &reply), 401);
    /* Signed now: /webhook-collect is not a command this endpoint answers. */
    struct send now = {.body = ver};
    assert_int_equal(post(f, &now, NULL, &reply), 200);
    assert_string_equal(reply, "This app does not answer /webhook-collect.");
    /* The slash-command example: /ticket new Boiler leak at site 14 by jane (linked). */
    struct send docs = {.body = cmd};
    assert_int_equal(post(f, &docs, NULL, &reply), 200);
    assert_non_null(strstr(reply, "Created CT-000001: Boiler leak at site 14"));
    ts_expect_text(
        &f->db, NULL, "Boiler leak at site 14|slack|jane@acme.test", "%s",
        "SELECT CONCAT(j.title, '|', j.source, '|', u.email) FROM jobs j JOIN users u ON "
        "u.id = j.created_by_user_id WHERE j.source = 'slack'");
    ts_expect_text(&f->db, NULL, "13345224609.738474920.8088930838d88f008e0", "%s",
                   "SELECT dedupe_key FROM webhook_events WHERE endpoint = 'slack'");
    ts_server_stop_clean(__func__, &f->srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_command_and_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_answered_without_a_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_company_isolation_unknown_workspace_and_unlinked_user,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_id_and_enterprise_grid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_text_is_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_commands_created_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_path_posts_to_response_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_url_gets_at_most_five_posts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signatures_replays_and_ssl_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_database_answers_in_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_not_stored_is_told, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bodies_from_slack_docs, setup, teardown),
    };
    return ts_run_group(tests);
}
