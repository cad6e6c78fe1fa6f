/* test_purge.c — retention: `ctgw purge` empties the raw bodies of settled events older than
 * retention.raw_bodies and deletes audit_log rows older than retention.audit, in batches,
 * keeping everything else; serve does the same on its own every retention.interval. Rows are
 * back-dated by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/proc.h"

struct fixture {
    struct ts_db db;
    struct ts_server srv;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "purge");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f);
    return 0;
}

static void prepare(struct fixture *f, const char *retention)
{
    struct ts_config c = {.db_name = f->db.name, .top_extra = retention};
    ts_server_prepare(&f->srv, &c);
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    ts_db_exec_ok(&f->db, "INSERT INTO companies (id, slug, name) VALUES (1, 'acme', 'Acme')");
}

/* Inbox rows KEY with STATUS received DAYS ago, and audit rows (REASON) as old. */
static void inbox_row(struct fixture *f, const char *key, const char *status, int days)
{
    char sql[640];
    snprintf(sql, sizeof(sql),
             "INSERT INTO webhook_events (endpoint, provider, company_id, dedupe_key, status, "
             "received_at, body, body_sha256) VALUES ('generic', 'generic', 1, '%s', '%s', "
             "NOW(6) - INTERVAL %d DAY, 'the body of %s', UNHEX(SHA2('the body of %s', 256)))",
             key, status, days, key, key);
    ts_db_exec_ok(&f->db, sql);
}

static void audit_row(struct fixture *f, const char *reason, int days)
{
    char sql[320];
    snprintf(sql, sizeof(sql),
             "INSERT INTO audit_log (kind, reason, occurred_at) VALUES ('rejected_signature', "
             "'%s', NOW(6) - INTERVAL %d DAY)",
             reason, days);
    ts_db_exec_ok(&f->db, sql);
}

/* What is left: each inbox row's key:status:body length, each audit row's reason. */
static void expect_left(struct fixture *f, const char *inbox, const char *audit)
{
    ts_expect_text(&f->db, NULL, inbox, "%s",
                   "SELECT GROUP_CONCAT(dedupe_key, ':', status, ':', LENGTH(body), ':', "
                   "HEX(body_sha256) = SHA2(CONCAT('the body of ', dedupe_key), 256) ORDER BY "
                   "id) FROM webhook_events");
    ts_expect_text(&f->db, NULL, audit, "%s",
                   "SELECT IFNULL(GROUP_CONCAT(reason ORDER BY id), '') FROM audit_log");
}

static void seed_rows(struct fixture *f)
{
    inbox_row(f, "old-done-1", "done", 45);
    inbox_row(f, "old-pending", "pending", 44);
    inbox_row(f, "old-done-2", "done", 43);
    inbox_row(f, "old-ignored", "ignored", 42);
    inbox_row(f, "old-failed", "failed", 41);
    inbox_row(f, "old-dead", "dead", 40);
    inbox_row(f, "old-done-3", "done", 39);
    inbox_row(f, "new-done", "done", 2);
    for (int i = 0; i < 5; i++) {
        char reason[32];
        snprintf(reason, sizeof(reason), "old-%d", i);
        audit_row(f, reason, 400 + i);
    }
    audit_row(f, "recent", 100);
}

#define LEFT_INBOX                                                                                 \
    "old-done-1:done:0:1,old-pending:pending:23:1,old-done-2:done:0:1,old-ignored:ignored:0:1,"    \
    "old-failed:failed:22:1,old-dead:dead:20:1,old-done-3:done:0:1,new-done:done:20:1"

/* `ctgw purge` in batches of two: the settled old bodies emptied (their rows, hashes and
 * statuses kept), pending/failed/dead and recent ones untouched; old audit rows deleted. A
 * second run finds nothing. */
static void test_purge_command(void **state)
{
    struct fixture *f = *state;
    prepare(f, "retention: { raw_bodies: 30d, audit: 365d, batch: 2 }\n");
    seed_rows(f);
    char *out = NULL;
    ts_ctgw_ok("purge", f->srv.config, &out);
    if (strstr(out, "purge: emptied 4 raw bodies, deleted 5 audit rows") == NULL)
        fail_msg("ctgw purge said:\n%s", out);
    free(out);
    expect_left(f, LEFT_INBOX, "recent");
    ts_ctgw_ok("purge", f->srv.config, &out);
    if (strstr(out, "purge: emptied 0 raw bodies, deleted 0 audit rows") == NULL)
        fail_msg("the second ctgw purge said:\n%s", out);
    free(out);
}

/* serve purges on its own, every retention.interval. */
static void test_serve_purges_by_itself(void **state)
{
    struct fixture *f = *state;
    /* No worker, so that the old pending event stays pending. */
    prepare(f, "retention: { interval: 1s, batch: 3 }\nworkers: { threads: 0 }\n");
    seed_rows(f);
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
    /* Bodies are purged first, audit rows after: wait for both to be done. */
    if (!ts_db_wait_int(&f->db, 1, 20000, "%s", "SELECT COUNT(*) FROM audit_log") ||
        !ts_db_wait_int(&f->db, 4, 20000, "%s",
                        "SELECT COUNT(*) FROM webhook_events WHERE LENGTH(body) = 0"))
        fail_msg("serve did not purge:\n%s", ts_server_log_tail(&f->srv));
    expect_left(f, LEFT_INBOX, "recent");
    /* The log line follows the last statement: poll for it (bounded). */
    bool said = false;
    for (int i = 0; i < 200 && !said; i++) {
        char *log = ts_server_log(&f->srv);
        said = strstr(log, "retention: emptied 4 raw bodies, deleted 5 audit rows") != NULL;
        free(log);
        if (!said)
            ts_sleep_ms(25);
    }
    assert_true(said);
    ts_server_stop_clean(__func__, &f->srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_purge_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serve_purges_by_itself, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
