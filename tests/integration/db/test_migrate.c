/* test_migrate.c — `ctgw migrate` against the private MariaDB: the contract schema, idempotence,
 * concurrent runs, tampered migrations, what the schema itself enforces, encryption at rest,
 * the demo seed, and `ctgw check-config`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapters/provider.h"
#include "gateway/db/migrations.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/proc.h"

/* Every table of the contract (DESIGN.md), with the columns the rest of CanTicket reads. */
static const struct {
    const char *table;
    const char *columns; /* space-separated */
} contract[] = {
    {"companies", "id slug name"},
    {"users", "company_id email name role slack_user_id client_id"},
    {"clients", "company_id name email phone xero_contact_id ghl_contact_id deleted_at"},
    {"contacts", "company_id client_id name email phone ghl_contact_id deleted_at"},
    {"jobs", "company_id ref title description status priority source team client_id contact_id "
             "assignee_user_id billing_status due_at created_at updated_at closed_at"},
    {"job_comments", "company_id job_id author_user_id author_contact_id author_label body source "
                     "visibility email_message_id"},
    {"job_events", "company_id job_id kind detail source webhook_event_id"},
    {"time_entries", "company_id job_id user_id minutes note spent_on source"},
    {"invoices", "company_id xero_invoice_id number reference type status currency total "
                 "amount_due amount_paid due_date client_id job_id"},
    {"attachments", "company_id job_id comment_id filename content_type size sha256 storage_uri"},
    {"integrations", "company_id provider external_id status settings credentials_ciphertext "
                     "credentials_key_id"},
    {"webhook_events", "endpoint provider company_id dedupe_key received_at status attempts "
                       "next_attempt_at lease_owner lease_expires_at last_error body headers"},
    {"audit_log", "company_id kind endpoint reason source_address request_id"},
    {"job_ref_counters", "company_id last_number"},
};
#define N_CONTRACT (sizeof(contract) / sizeof(contract[0]))

/* Tables of ctgw's own beside the contract's: the migrations' record, e-mail's
 * attachment bytes and sender counts (0005_mail.sql), and the CRM's job links and contact
 * notes (0006_ghl.sql). */
static const char *const own_tables[] = {"schema_migrations", "attachment_blobs",
                                         "mail_sender_hours", "job_links", "contact_notes"};
#define N_OWN (sizeof(own_tables) / sizeof(own_tables[0]))

struct fixture {
    struct ts_db db;
    struct ts_server srv; /* used for its config only; never started here */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "migrate");
    struct ts_config c = {.db_name = f->db.name};
    ts_server_prepare(&f->srv, &c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f);
    return 0;
}

static void test_creates_every_contract_table(void **state)
{
    struct fixture *f = *state;
    ts_ctgw_ok("migrate", f->srv.config, NULL);

    for (size_t i = 0; i < N_CONTRACT; i++) {
        const char *t = contract[i].table;
        long long engine_ok = ts_db_intf(&f->db,
                                         "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                         "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s' AND "
                                         "ENGINE = 'InnoDB' AND TABLE_COLLATION LIKE 'utf8mb4%%'",
                                         t);
        if (engine_ok != 1)
            fail_msg("table %s missing, or not InnoDB utf8mb4", t);

        char cols[512];
        snprintf(cols, sizeof(cols), "%s", contract[i].columns);
        for (char *save = NULL, *col = strtok_r(cols, " ", &save); col != NULL;
             col = strtok_r(NULL, " ", &save)) {
            if (ts_db_intf(&f->db,
                           "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                           "DATABASE() AND TABLE_NAME = '%s' AND COLUMN_NAME = '%s'",
                           t, col) != 1)
                fail_msg("%s.%s is missing", t, col);
        }
        if (strcmp(t, "companies") == 0)
            continue;
        /* Tenant scoping: a foreign key from company_id to companies, and an index that
         * leads with company_id. */
        if (ts_db_intf(&f->db,
                       "SELECT COUNT(*) FROM information_schema.KEY_COLUMN_USAGE WHERE "
                       "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s' AND COLUMN_NAME = "
                       "'company_id' AND REFERENCED_TABLE_NAME = 'companies'",
                       t) < 1)
            fail_msg("%s.company_id has no foreign key to companies", t);
        if (strcmp(t, "webhook_events") != 0 && strcmp(t, "audit_log") != 0 &&
            ts_db_intf(&f->db,
                       "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                       "DATABASE() AND TABLE_NAME = '%s' AND COLUMN_NAME = 'company_id' AND "
                       "IS_NULLABLE = 'NO'",
                       t) != 1)
            fail_msg("%s.company_id may be NULL", t);
        if (ts_db_intf(&f->db,
                       "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                       "DATABASE() AND TABLE_NAME = '%s' AND SEQ_IN_INDEX = 1 AND COLUMN_NAME = "
                       "'company_id'",
                       t) < 1)
            fail_msg("%s has no index leading with company_id", t);
    }
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM schema_migrations"),
                     (long long)gw_migrations_count);
}

static char *schema_snapshot(struct fixture *f)
{
    char *cols = ts_db_dump(&f->db, "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
                                    "COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE "
                                    "TABLE_SCHEMA = DATABASE() ORDER BY 1, ORDINAL_POSITION");
    char *idx = ts_db_dump(&f->db, "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM "
                                   "information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
                                   "ORDER BY 1, 2, 3");
    char *mig = ts_db_dump(&f->db, "SELECT version, name, checksum, applied_at FROM "
                                   "schema_migrations ORDER BY version");
    assert_non_null(cols);
    assert_non_null(idx);
    assert_non_null(mig);
    size_t n = strlen(cols) + strlen(idx) + strlen(mig) + 1;
    char *all = malloc(n);
    assert_non_null(all);
    snprintf(all, n, "%s%s%s", cols, idx, mig);
    free(cols);
    free(idx);
    free(mig);
    return all;
}

static void test_second_run_changes_nothing(void **state)
{
    struct fixture *f = *state;
    char *first = NULL, *second = NULL;
    ts_ctgw_ok("migrate", f->srv.config, &first);
    assert_non_null(strstr(first, "applying migration 0001_core_schema"));
    char *before = schema_snapshot(f);
    ts_ctgw_ok("migrate", f->srv.config, &second);
    assert_null(strstr(second, "applying migration"));
    assert_non_null(strstr(second, "schema is current"));
    char *after = schema_snapshot(f);
    assert_string_equal(before, after);
    free(first);
    free(second);
    free(before);
    free(after);
}

static void test_concurrent_runs_both_succeed(void **state)
{
    struct fixture *f = *state;
    enum { RUNS = 3 };
    pid_t pids[RUNS];
    /* Start every run before waiting for any, so that they really overlap. */
    for (int i = 0; i < RUNS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char *out = NULL;
            int rc = ts_ctgw("migrate", f->srv.config, &out);
            if (rc != 0)
                fprintf(stderr, "run %d exited %d:\n%s\n", i, rc, out);
            free(out);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < RUNS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM schema_migrations"),
                     (long long)gw_migrations_count);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                       "TABLE_SCHEMA = DATABASE()"),
                     (long long)(N_CONTRACT + N_OWN));
    for (size_t i = 0; i < N_OWN; i++)
        if (ts_db_intf(&f->db,
                       "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                       "DATABASE() AND TABLE_NAME = '%s'",
                       own_tables[i]) != 1)
            fail_msg("table %s is missing", own_tables[i]);
}

static void test_edited_migration_is_refused(void **state)
{
    struct fixture *f = *state;
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    assert_int_equal(ts_db_exec(&f->db, "UPDATE schema_migrations SET checksum = REPEAT('0', 64) "
                                        "WHERE version = 1"),
                     0);
    char *out = NULL;
    assert_int_equal(ts_ctgw("migrate", f->srv.config, &out), 1);
    assert_non_null(strstr(out, "was changed after it was applied"));
    free(out);
}

static void test_schema_enforces_refs_and_tenancy(void **state)
{
    struct fixture *f = *state;
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO companies (id, slug, name) VALUES "
                                        "(1, 'alpha', 'Alpha'), (2, 'beta', 'Beta')"),
                     0);
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO clients (id, company_id, name) VALUES "
                                        "(10, 1, 'Alpha client')"),
                     0);
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO jobs (company_id, number, title, source, "
                                        "client_id) VALUES (1, 1, 'first', 'api', 10), "
                                        "(1, 1234567, 'big', 'api', NULL)"),
                     0);
    char *ref = ts_db_text(&f->db, "SELECT ref FROM jobs WHERE company_id = 1 AND number = 1");
    assert_string_equal(ref, "CT-000001");
    free(ref);
    ref = ts_db_text(&f->db, "SELECT ref FROM jobs WHERE number = 1234567");
    assert_string_equal(ref, "CT-1234567");
    free(ref);
    /* A job of company 2 cannot point at a client of company 1. */
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO jobs (company_id, number, title, source, "
                                        "client_id) VALUES (2, 1, 'cross', 'api', 10)"),
                     1452);
    /* Refs are unique per company, not globally. */
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO jobs (company_id, number, title, source) "
                                        "VALUES (1, 1, 'again', 'api')"),
                     1062);
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO jobs (company_id, number, title, source) "
                                        "VALUES (2, 1, 'beta first', 'api')"),
                     0);
    /* A user of role client must name the client record it acts for. */
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO users (company_id, email, name, role) "
                                        "VALUES (1, 'c@x.example', 'C', 'client')"),
                     4025);
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO jobs (company_id, number, title, source, "
                                        "status) VALUES (1, 2, 't', 'api', 'bogus')"),
                     1265);
}

static void test_tables_are_encrypted_at_rest(void **state)
{
    struct fixture *f = *state;
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    char *mode = ts_db_text(&f->db, "SELECT @@innodb_encrypt_tables");
    assert_string_equal(mode, "FORCE");
    free(mode);
    long long tables = ts_db_int(&f->db, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                                         "TABLE_SCHEMA = DATABASE()");
    /* INNODB_TABLESPACES_ENCRYPTION needs the PROCESS privilege, which ctgw's account has no
     * business holding: ask as the server's root through ./dev. */
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE "
             "NAME LIKE '%s/%%' AND ENCRYPTION_SCHEME = 1",
             f->db.name);
    char *argv[] = {(char *)ts_env("CTGW_DEV"), "db-shell", "-N", "-e", sql, NULL};
    char *out = NULL;
    assert_int_equal(ts_run(argv, &out), 0);
    assert_int_equal(strtoll(out, NULL, 10), tables);
    assert_true(tables >= (long long)N_CONTRACT);
    free(out);
}

static void test_demo_seed_covers_every_provider(void **state)
{
    struct fixture *f = *state;
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    char *seed = test_read(CTGW_SOURCE_ROOT "/config/dev-seed.sql", NULL);
    assert_non_null(seed);
    for (int run = 0; run < 2; run++) /* it runs on every ./dev run: idempotent */
        assert_int_equal(ts_db_exec(&f->db, seed), 0);
    free(seed);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM companies WHERE slug = 'demo'"), 1);
    static const char *const roles[] = {"admin", "manager", "contractor", "client"};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (ts_db_intf(&f->db, "SELECT COUNT(*) FROM users WHERE role = '%s'", roles[i]) != 1)
            fail_msg("the demo company has no single %s user", roles[i]);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM clients"), 1);
    /* A provider that routes by itself (email-mime) finds its company through the rows of
     * provider 'email', which every e-mail endpoint shares: one such row stands for them.
     * ghl routes only its installs by itself (its locations have rows of their own), and
     * ghl-workflow finds its company through those rows. */
    size_t n_rows = 2;
    if (ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations WHERE provider = 'ghl'") != 1)
        fail_msg("the demo seed has no integration row for provider ghl");
    for (size_t i = 0; gw_providers[i] != NULL; i++) {
        if (gw_providers[i]->flags & GW_PROVIDER_OWN_ROUTING)
            continue;
        n_rows++;
        if (ts_db_intf(&f->db, "SELECT COUNT(*) FROM integrations WHERE provider = '%s'",
                       gw_providers[i]->name) != 1)
            fail_msg("the demo seed has no integration row for provider %s", gw_providers[i]->name);
    }
    if (ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations WHERE provider = 'email'") != 1)
        fail_msg("the demo seed has no integration row for provider email");
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations"), (long long)n_rows);
}

static void test_check_config_reports_every_error(void **state)
{
    struct fixture *f = *state;
    char *out = NULL;
    assert_int_equal(ts_ctgw("check-config", f->srv.config, &out), 0);
    assert_non_null(strstr(out, ": ok: 0 endpoints"));
    assert_null(strstr(out, f->srv.token)); /* the summary never prints a secret */
    free(out);

    char *bad = test_write_text(f->srv.dir, "bad.yaml",
                                "listen:\n"
                                "  port: 8443\n"
                                "  prot: 1\n"
                                "admin:\n"
                                "  port: 9090\n"
                                "  token: literal-token-here\n",
                                0600);
    assert_int_equal(ts_ctgw("check-config", bad, &out), 1);
    char expect[600];
    snprintf(expect, sizeof(expect), "%s:3: unknown key 'prot' in listen", bad);
    assert_non_null(strstr(out, expect));
    snprintf(expect, sizeof(expect), "%s:6: admin.token: a secret must not be written literally",
             bad);
    assert_non_null(strstr(out, expect));
    snprintf(expect, sizeof(expect), "%s:1: missing required section 'database'", bad);
    assert_non_null(strstr(out, expect));
    /* Every command shares the loader: migrate refuses the same file the same way. */
    free(out);
    assert_int_equal(ts_ctgw("migrate", bad, &out), 1);
    snprintf(expect, sizeof(expect), "%s:3: unknown key 'prot' in listen", bad);
    assert_non_null(strstr(out, expect));
    free(out);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_creates_every_contract_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_run_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_runs_both_succeed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_migration_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_enforces_refs_and_tenancy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_are_encrypted_at_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_seed_covers_every_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_config_reports_every_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
