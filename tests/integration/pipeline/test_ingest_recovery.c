/* test_ingest_recovery.c — nothing acknowledged is lost: with the database stopped ctgw answers
 * 503 with Retry-After and recovers by itself, events acknowledged by a ctgw killed before
 * applying them are applied once after a restart, and expired leases are claimed again. Stops
 * the shared MariaDB, so meson runs it alone; the teardown always starts it again. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "tests/support/signed.h"

#define ENDPOINTS_YAML                                                                             \
    "endpoints:\n"                                                                                 \
    "  - id: generic\n"                                                                            \
    "    provider: generic\n"                                                                      \
    "    company: acme\n"                                                                          \
    "    secrets: [ \"file:generic.secret\" ]\n"                                                   \
    "  - id: contact\n"                                                                            \
    "    provider: contact-form\n"                                                                 \
    "    company: acme\n"                                                                          \
    "    secrets: [ \"file:contact.secret\" ]\n"                                                   \
    "    teams: { security: SecOps, support: Helpdesk }\n"

#define WORKERS_YAML                                                                               \
    "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"

struct fixture {
    struct ts_db db;
    struct ts_server srv, srv2;
    char *generic_secret, *contact_secret;
    bool migrated;
    bool db_stopped;     /* the teardown must start the shared MariaDB again */
    bool autoinc_spaced; /* the teardown must set auto_increment_increment back to 1 */
    long long packet;    /* max_allowed_packet to set back in the teardown, or 0 */
    struct ts_kept kept; /* freed by the teardown, so a failing check leaks nothing */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "ingrecov");
    f->generic_secret = ts_whsec_new();
    f->contact_secret = ts_whsec_new();
    *state = f;
    return 0;
}

/* Runs SQL as the private MariaDB's root (./dev db-shell): what the tests' user may not. */
static int root_sql(const char *sql)
{
    char *out = NULL;
    char *argv[] = {(char *)ts_env("CTGW_DEV"), "db-shell", "-e", (char *)sql, NULL};
    int rc = ts_run(argv, &out);
    if (rc != 0)
        fprintf(stderr, "dev db-shell -e '%s' exited %d:\n%s\n", sql, rc, out ? out : "");
    free(out);
    return rc;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    if (f->srv2.dir[0] != '\0')
        ts_server_cleanup(&f->srv2);
    int rc = 0;
    if (f->db_stopped) {
        /* Whatever happened in the test, the shared server must be up for everyone else. */
        rc = ts_dev("db-start");
        if (rc == 0) {
            mysql_close(f->db.conn);
            f->db.conn = ts_db_connect(f->db.name);
        }
    }
    if (f->autoinc_spaced && root_sql("SET GLOBAL auto_increment_increment = 1") != 0)
        rc = -1;
    if (f->packet > 0) {
        char sql[96];
        snprintf(sql, sizeof(sql), "SET GLOBAL max_allowed_packet = %lld", f->packet);
        if (root_sql(sql) != 0)
            rc = -1;
    }
    ts_db_drop(&f->db);
    free(f->generic_secret);
    free(f->contact_secret);
    ts_kept_free(&f->kept);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void start_server(struct fixture *f, struct ts_server *s, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), "%s%s", ENDPOINTS_YAML, extra);
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml};
    ts_server_prepare(s, &c);
    free(test_write_text(s->dir, "generic.secret", f->generic_secret, 0600));
    free(test_write_text(s->dir, "contact.secret", f->contact_secret, 0600));
    if (!f->migrated) {
        ts_ctgw_ok("migrate", s->config, NULL);
        ts_db_exec_ok(&f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme')");
        f->migrated = true;
    }
    if (!ts_server_start(s)) {
        const char *log = ts_server_log_tail(s);
        fail_msg("ctgw did not start:\n%s", log);
    }
}

/* Checks a "try again later" answer: 503, {"error":"unavailable"}, Retry-After seconds. */
static void expect_unavailable(const struct ts_http *r)
{
    char retry[32];
    if (r->status != 503 || ts_http_header(r, "Retry-After", retry, sizeof(retry)) == NULL)
        fail_msg("want 503 with Retry-After, got %ld: %s\n%s", r->status, r->body, r->headers);
    char *end = NULL;
    long s = strtol(retry, &end, 10);
    if (s <= 0 || *end != '\0')
        fail_msg("Retry-After '%s' is not a number of seconds", retry);
    size_t len = strlen(r->body);
    while (len > 0 && r->body[len - 1] == '\n')
        len--;
    if (len != strlen("{\"error\":\"unavailable\"}") ||
        strncmp(r->body, "{\"error\":\"unavailable\"}", len) != 0)
        fail_msg("503 body '%s'", r->body);
}

/* Sends the same signed request until it is answered something other than 503; bounded. */
static long resend_until_stored(const char *url, const char *body, const struct ts_signed *o,
                                struct ts_http *out, long limit_ms)
{
    for (long waited = 0;; waited += 100) {
        if (ts_signed_post(url, body, o, out) == 0 && out->status != 503)
            return out->status;
        if (out->status == 503)
            expect_unavailable(out);
        if (waited >= limit_ms)
            return out->status;
        ts_http_free(out);
        ts_sleep_ms(100);
    }
}

static void test_database_down_answers_503_then_recovers(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    pid_t pid = f->srv.pid;
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    char *form = ts_keep(&f->kept, test_fixture("contact-form/security.json"));
    struct ts_http r;

    /* Warm: the writers and workers hold connections that are about to die. */
    struct ts_signed warm = {.secret = f->generic_secret};
    ts_post_expect(&f->srv, "generic", body, &warm, 202, &r);
    ts_http_free(&r);
    assert_true(ts_db_wait_int(&f->db, 1, 20000,
                               "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'"));

    f->db_stopped = true;
    assert_int_equal(ts_dev("db-stop"), 0);

    char gid[96], cid[96], url[128], curl_[128];
    ts_webhook_id(gid, sizeof(gid));
    ts_webhook_id(cid, sizeof(cid));
    int64_t now = (int64_t)time(NULL);
    struct ts_signed g = {.secret = f->generic_secret, .id = gid, .timestamp = now};
    struct ts_signed c = {.secret = f->contact_secret, .id = cid, .timestamp = now};
    ts_hook_url(&f->srv, "generic", url, sizeof(url));
    ts_hook_url(&f->srv, "contact", curl_, sizeof(curl_));

    assert_int_equal(ts_signed_post(url, body, &g, &r), 0);
    expect_unavailable(&r);
    ts_http_free(&r);
    assert_int_equal(ts_signed_post(curl_, form, &c, &r), 0);
    expect_unavailable(&r);
    ts_http_free(&r);
    /* Alive all along. */
    char health[96];
    snprintf(health, sizeof(health), "http://127.0.0.1:%u/healthz", (unsigned)f->srv.admin_port);
    assert_int_equal(ts_http("GET", health, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    ts_http_free(&r);

    assert_int_equal(ts_dev("db-start"), 0);
    f->db_stopped = false;
    mysql_close(f->db.conn);
    f->db.conn = ts_db_connect(f->db.name);

    /* The providers retry the very same requests: accepted once the database is back, by
     * the same process. */
    long st = resend_until_stored(url, body, &g, &r, 60000);
    if (st != 202) {
        const char *log = ts_server_log_tail(&f->srv);
        fail_msg("generic after the restart: %ld %s\n%s", st, r.body, log);
    }
    unsigned long long ev = ts_answer_id(r.body);
    assert_true(ev > 0);
    ts_http_free(&r);
    st = resend_until_stored(curl_, form, &c, &r, 30000);
    if (st != 201) {
        const char *log = ts_server_log_tail(&f->srv);
        fail_msg("contact form after the restart: %ld %s\n%s", st, r.body, log);
    }
    char *ref = ts_keep(&f->kept, ts_json_string(r.body, "ref"));
    assert_non_null(ref);
    ts_http_free(&r);
    assert_int_equal(kill(pid, 0), 0);
    assert_int_equal(f->srv.pid, pid);

    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = '%s'", gid), 1);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = '%s'", cid), 1);
    assert_true(ts_db_wait_int(&f->db, 3, 20000,
                               "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'"));
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 3);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE ref = '%s' AND team = 'SecOps'", ref),
        1);

    char *m = ts_server_metrics_ok(&f->srv);
    long long unavailable =
        ts_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"unavailable\"}");
    long long unavailable_c =
        ts_metric(m, "ctgw_requests_total{endpoint=\"contact\",outcome=\"unavailable\"}");
    if (unavailable < 1 || unavailable_c < 1)
        fail_msg("unavailable answers not counted:\n%s", m);
    free(m);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    assert_non_null(strstr(log, "not stored"));
    ts_server_stop_clean("test_database_down_answers_503_then_recovers", &f->srv);
}

#define KILLED_EVENTS 5

static void test_sigkill_before_apply_applies_once_after_restart(void **state)
{
    struct fixture *f = *state;
    /* The first ctgw only ingests: what it acknowledges stays pending. */
    start_server(f, &f->srv, "workers: { threads: 0 }\n");
    char ids[KILLED_EVENTS][96], cid[96];
    char bodies[KILLED_EVENTS][160];
    unsigned long long evs[KILLED_EVENTS];
    struct ts_http r;
    for (int i = 0; i < KILLED_EVENTS; i++) {
        ts_webhook_id(ids[i], sizeof(ids[i]));
        snprintf(bodies[i], sizeof(bodies[i]),
                 "{\"type\":\"job.create\",\"data\":{\"title\":\"Killed before applying %d\"}}", i);
        struct ts_signed o = {.secret = f->generic_secret, .id = ids[i]};
        ts_post_expect(&f->srv, "generic", bodies[i], &o, 202, &r);
        evs[i] = ts_answer_id(r.body);
        assert_true(evs[i] > 0);
        ts_http_free(&r);
    }
    /* A synchronous provider with no worker to apply it: stored, answered 202. */
    char *form = ts_keep(&f->kept, test_fixture("contact-form/security.json"));
    ts_webhook_id(cid, sizeof(cid));
    struct ts_signed c = {.secret = f->contact_secret, .id = cid};
    ts_post_expect(&f->srv, "contact", form, &c, 202, &r);
    char *status = ts_keep(&f->kept, ts_json_string(r.body, "status"));
    assert_non_null(status);
    assert_string_equal(status, "accepted");
    ts_http_free(&r);

    assert_int_equal(ts_server_stop(&f->srv, SIGKILL), 128 + SIGKILL);
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT COUNT(*) FROM webhook_events WHERE status = 'pending' AND "
                                "attempts = 0"),
                     KILLED_EVENTS + 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 0);

    /* A new ctgw with workers finds them and applies each once. The form's event was stored
     * for a synchronous apply, which holds it back from pollers for 30 s (ingest.c): allow
     * for that. */
    start_server(f, &f->srv2, WORKERS_YAML);
    if (!ts_db_wait_int(&f->db, KILLED_EVENTS + 1, 60000,
                        "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'")) {
        char *dump = ts_db_dump(&f->db, "SELECT id, status, attempts, last_error, "
                                        "next_attempt_at, NOW(3) FROM webhook_events");
        const char *log = ts_server_log_tail(&f->srv2);
        fail_msg("not applied after the restart:\n%s\n--- ctgw log ---\n%s", dump, log);
    }
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), KILLED_EVENTS + 1);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events w WHERE attempts = 1 AND "
                           "(SELECT COUNT(*) FROM job_events e WHERE e.webhook_event_id = w.id "
                           "AND e.kind = 'created') = 1"),
        KILLED_EVENTS + 1);
    for (int i = 0; i < KILLED_EVENTS; i++)
        assert_int_equal(
            ts_db_intf(&f->db,
                       "SELECT COUNT(*) FROM jobs j JOIN job_events e ON e.job_id = j.id "
                       "WHERE e.webhook_event_id = %llu AND j.title = 'Killed before "
                       "applying %d'",
                       evs[i], i),
            1);

    /* Redelivered to the new process: duplicates, the same ids, nothing applied twice; the
     * form now answers with the ref its event produced. */
    for (int i = 0; i < KILLED_EVENTS; i++) {
        struct ts_signed o = {.secret = f->generic_secret, .id = ids[i]};
        ts_post_expect(&f->srv2, "generic", bodies[i], &o, 202, &r);
        assert_int_equal(ts_answer_id(r.body), evs[i]);
        ts_http_free(&r);
    }
    ts_post_expect(&f->srv2, "contact", form, &c, 200, &r);
    char *ref = ts_keep(&f->kept, ts_json_string(r.body, "ref"));
    assert_non_null(ref);
    ts_http_free(&r);
    assert_int_equal(
        ts_db_intf(&f->db,
                   "SELECT COUNT(*) FROM jobs j JOIN webhook_events w ON "
                   "JSON_VALUE(w.result, '$.ref') = j.ref WHERE w.dedupe_key = '%s' AND "
                   "j.ref = '%s' AND j.source = 'form'",
                   cid, ref),
        1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), KILLED_EVENTS + 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), KILLED_EVENTS + 1);
    ts_server_stop_clean("test_sigkill_before_apply_applies_once_after_restart", &f->srv2);
}

/* A ctgw that died mid-work leaves its events `processing` under a lease. Once the lease
 * has run out another instance claims them again and applies them (once); a lease still
 * running is left alone. The dead instance is simulated by rows it would have written. */
static void test_expired_lease_is_claimed_again(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    long long acme = ts_db_intf(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
    static const char *const rows[][2] = {
        {"ghost-expired", "UTC_TIMESTAMP(3) - INTERVAL 1 SECOND"},
        {"ghost-running", "UTC_TIMESTAMP(3) + INTERVAL 1 HOUR"},
    };
    for (size_t i = 0; i < 2; i++) {
        char sql[1024];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO webhook_events (endpoint, provider, company_id, dedupe_key, status, "
                 "attempts, lease_owner, lease_expires_at, body, body_sha256) SELECT 'generic', "
                 "'generic', %lld, '%s', 'processing', 1, 'ghost-host:1:00000000:0', %s, b, "
                 "UNHEX(SHA2(b, 256)) FROM (SELECT '{\"type\":\"job.create\",\"data\":"
                 "{\"title\":\"Left by %s\"}}' AS b) AS t",
                 acme, rows[i][0], rows[i][1], rows[i][0]);
        if (ts_db_exec(&f->db, sql) != 0)
            fail_msg("%s: %s", sql, mysql_error(f->db.conn));
    }
    if (!ts_db_wait_int(
            &f->db, 1, 20000,
            "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = 'ghost-expired' AND "
            "status = 'done'")) {
        char *dump = ts_db_dump(&f->db, "SELECT * FROM webhook_events");
        fail_msg("the expired lease was not claimed again:\n%s", dump);
    }
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = "
                                        "'ghost-expired' AND attempts = 2 AND lease_owner IS NULL"),
                     1);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE title = 'Left by ghost-expired'"), 1);
    /* A later event done means the workers went round again: the running lease is intact. */
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    struct ts_signed o = {.secret = f->generic_secret};
    struct ts_http r;
    ts_post_expect(&f->srv, "generic", body, &o, 202, &r);
    unsigned long long ev = ts_answer_id(r.body);
    ts_http_free(&r);
    assert_true(ts_db_wait_int(
        &f->db, 1, 20000, "SELECT COUNT(*) FROM webhook_events WHERE id = %llu AND status = 'done'",
        ev));
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = "
                                "'ghost-running' AND status = 'processing' AND attempts = 1 AND "
                                "lease_owner = 'ghost-host:1:00000000:0'"),
                     1);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE title = 'Left by ghost-running'"), 0);
    ts_server_stop_clean("test_expired_lease_is_claimed_again", &f->srv);
}

struct spaced_post {
    char url[128], id[96];
    const char *body;
    struct ts_signed o;
    struct ts_http r;
    int rc;
};

static void *spaced_post(void *arg)
{
    struct spaced_post *p = arg;
    p->rc = ts_signed_post(p->url, p->body, &p->o, &p->r);
    return NULL;
}

#define SPACED_SENDERS 8

/* With auto_increment_increment 3 (a Galera cluster sets it to its size) the rows of one
 * multi-row INSERT get ids 3 apart: each request must still be answered with its own event's
 * id, never a neighbour's (another tenant's) nor one that does not exist. Runs alone: the
 * setting is the server's. */
static void test_spaced_ids_answer_each_its_own(void **state)
{
    struct fixture *f = *state;
    f->autoinc_spaced = true;
    assert_int_equal(root_sql("SET GLOBAL auto_increment_increment = 3"), 0);
    start_server(f, &f->srv, "ingest: { writers: 1 }\n" WORKERS_YAML);
    /* Another connection holds the inbox while the requests arrive, so the writer's first
     * INSERT waits and the others queue behind it: the next batch stores them together. */
    MYSQL *holder = ts_db_connect(f->db.name);
    assert_non_null(holder);
    assert_int_equal(mysql_query(holder, "LOCK TABLES webhook_events WRITE"), 0);
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    struct spaced_post *p = calloc(SPACED_SENDERS, sizeof(*p));
    assert_non_null(p);
    ts_keep(&f->kept, (char *)p);
    pthread_t th[SPACED_SENDERS];
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < SPACED_SENDERS; i++) {
        ts_hook_url(&f->srv, "generic", p[i].url, sizeof(p[i].url));
        ts_webhook_id(p[i].id, sizeof(p[i].id));
        p[i].body = body;
        p[i].o = (struct ts_signed){.secret = f->generic_secret, .id = p[i].id, .timestamp = now};
        assert_int_equal(pthread_create(&th[i], NULL, spaced_post, &p[i]), 0);
    }
    ts_sleep_ms(500);
    assert_int_equal(mysql_query(holder, "UNLOCK TABLES"), 0);
    for (size_t i = 0; i < SPACED_SENDERS; i++)
        pthread_join(th[i], NULL);
    mysql_close(holder);
    for (size_t i = 0; i < SPACED_SENDERS; i++) {
        if (p[i].rc != 0 || p[i].r.status != 202)
            fail_msg("request %zu: %d, status %ld: %s\n%s", i, p[i].rc, p[i].r.status,
                     p[i].r.body ? p[i].r.body : "", ts_server_log_tail(&f->srv));
        unsigned long long id = ts_answer_id(p[i].r.body);
        ts_http_free(&p[i].r);
        ts_expect_text(&f->db, NULL, p[i].id,
                       "SELECT dedupe_key FROM webhook_events WHERE id = %llu", id);
    }
    /* The ids were spaced indeed. */
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events WHERE id %% 3 <> "
                                        "(SELECT MIN(id) %% 3 FROM webhook_events)"),
                     0);
    ts_server_stop_clean("test_spaced_ids_answer_each_its_own", &f->srv);
}

/* A body the database would refuse (over its max_allowed_packet) is answered 413 like any
 * body over the endpoint's limit, never stored half or answered 503 for the provider to send
 * again forever; the lowered limit is logged at start. Runs alone: the setting is the
 * server's. */
static void test_body_over_the_database_packet_is_413(void **state)
{
    struct fixture *f = *state;
    f->packet = ts_db_intf(&f->db, "SELECT @@GLOBAL.max_allowed_packet");
    assert_int_equal(root_sql("SET GLOBAL max_allowed_packet = 1048576"), 0);
    start_server(f, &f->srv, "ingest: { writers: 1, max_body: 4MiB }\n" WORKERS_YAML);
    /* The writer learns the limit on its first connection, which may come after /healthz
     * answers (a TLS handshake under TSan): wait for it (bounded, 10 s) so the request
     * below meets the lowered limit. */
    bool learned = false;
    for (int i = 0; i < 400 && !learned; i++) {
        char *so_far = ts_server_log(&f->srv);
        learned = so_far != NULL && strstr(so_far, "(max_allowed_packet)") != NULL;
        free(so_far);
        if (!learned)
            ts_sleep_ms(25);
    }
    if (!learned)
        fail_msg("the writer never logged the lowered limit");
    size_t n = 1300 * 1024;
    char *big = malloc(n + 128);
    assert_non_null(big);
    ts_keep(&f->kept, big);
    int k = snprintf(big, 128,
                     "{\"type\":\"job.create\",\"data\":{\"title\":\"Big\","
                     "\"description\":\"");
    memset(big + k, 'x', n);
    snprintf(big + k + n, 16, "\"}}");
    struct ts_signed o = {.secret = f->generic_secret};
    struct ts_http r;
    ts_post_expect(&f->srv, "generic", big, &o, 413, &r);
    ts_http_free(&r);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 0);
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    struct ts_signed o2 = {.secret = f->generic_secret};
    ts_post_expect(&f->srv, "generic", body, &o2, 202, &r);
    ts_http_free(&r);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    if (strstr(log, "(max_allowed_packet)") == NULL)
        fail_msg("the lowered limit was not logged:\n%s", log);
    ts_server_stop_clean("test_body_over_the_database_packet_is_413", &f->srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_database_down_answers_503_then_recovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_before_apply_applies_once_after_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expired_lease_is_claimed_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spaced_ids_answer_each_its_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_the_database_packet_is_413, setup, teardown),
    };
    return ts_run_group(tests);
}
