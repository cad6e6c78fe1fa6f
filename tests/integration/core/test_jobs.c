/* test_jobs.c — the core-table operations of gateway/core/jobs.h against the private MariaDB: refs
 * and their counter under concurrency, the history every change writes, tenant isolation,
 * validation, contacts, time entries and closing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/db/db.h"
#include "gateway/core/job_views.h"
#include "gateway/core/jobs.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/proc.h"

/* Fixed ids of the seed rows: company A (alpha) and company B (beta). */
enum {
    A = 1,
    B = 2,
    A_ANN = 11,  /* staff of A */
    A_BOB = 12,  /* manager of A */
    A_GONE = 13, /* deleted user of A */
    B_BEA = 21,  /* staff of B */
    A_CLIENT = 31,
    B_CLIENT = 41,
    A_CONTACT = 51,
    B_CONTACT = 61,
    A_EVENT = 71, /* webhook_events rows */
    B_EVENT = 72,
};

struct fixture {
    struct ts_db db;
    struct ts_server srv; /* used for its config only; never started here */
    struct gw_database_config cfg;
    char *password;
    struct gw_db *gdb;
};

static void fill_config(struct fixture *f)
{
    f->password = test_read(ts_env("CTGW_DB_PASSWORD_FILE"), NULL);
    assert_non_null(f->password);
    f->password[strcspn(f->password, "\r\n")] = '\0';
    f->cfg = (struct gw_database_config){
        .socket = (char *)ts_env("CTGW_DB_SOCKET"),
        .user = (char *)ts_env("CTGW_DB_USER"),
        .password = {.data = f->password, .len = strlen(f->password)},
        .name = f->db.name,
        .pool = 1,
        .connect_timeout_ms = 5000,
        .timeout_ms = 10000,
    };
}

static void seed(struct fixture *f)
{
    static const char *const sql[] = {
        "INSERT INTO companies (id, slug, name) VALUES (1, 'alpha', 'Alpha'), (2, 'beta', 'Beta')",
        "INSERT INTO clients (id, company_id, name) VALUES (31, 1, 'Alpha client'), "
        "(41, 2, 'Beta client')",
        "INSERT INTO users (id, company_id, email, name, role, deleted_at) VALUES "
        "(11, 1, 'ann@alpha.example', 'Ann', 'staff', NULL), "
        "(12, 1, 'bob@alpha.example', 'Bob', 'manager', NULL), "
        "(13, 1, 'gone@alpha.example', 'Gone', 'staff', NOW()), "
        "(21, 2, 'bea@beta.example', 'Bea', 'staff', NULL)",
        "INSERT INTO contacts (id, company_id, name, email) VALUES "
        "(51, 1, 'Carl', 'carl@customer.example'), (61, 2, 'Dora', 'dora@customer.example')",
        "INSERT INTO webhook_events (id, endpoint, provider, company_id, dedupe_key, body, "
        "body_sha256) VALUES (71, 'slack', 'slack', 1, 'a', 'x', UNHEX(SHA2('x', 256))), "
        "(72, 'slack', 'slack', 2, 'b', 'x', UNHEX(SHA2('x', 256)))",
    };
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        unsigned err = ts_db_exec(&f->db, sql[i]);
        if (err != 0)
            fail_msg("seed statement %zu failed with %u", i, err);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "jobs");
    struct ts_config c = {.db_name = f->db.name};
    ts_server_prepare(&f->srv, &c);
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    seed(f);
    fill_config(f);
    f->gdb = gw_db_open(&f->cfg);
    assert_non_null(f->gdb);
    if (!gw_db_ok(f->gdb))
        fail_msg("gw_db_open: %s", gw_db_error(f->gdb));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gw_db_close(f->gdb);
    free(f->password);
    ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f);
    return 0;
}

static struct gw_core_ctx ctx_for(struct gw_db *db, uint64_t company, const char *source)
{
    return (struct gw_core_ctx){.db = db, .company_id = company, .source = source};
}

static char *q_dump(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *q_dump(struct fixture *f, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    char *out = ts_db_dump(&f->db, sql);
    if (out == NULL)
        fail_msg("query failed: %s", sql);
    return out;
}

static void begin(struct fixture *f)
{
    if (gw_db_begin(f->gdb) != 0)
        fail_msg("begin: %s", gw_db_error(f->gdb));
}

static void commit(struct fixture *f)
{
    if (gw_db_commit(f->gdb) != 0)
        fail_msg("commit: %s", gw_db_error(f->gdb));
}

#define assert_core(expected, call, c)                                                             \
    do {                                                                                           \
        enum gw_core_rc rc_ = (call);                                                              \
        if (rc_ != (expected))                                                                     \
            fail_msg("%s returned %d, expected %d (%s)", #call, (int)rc_, (int)(expected),         \
                     (c)->err);                                                                    \
    } while (0)

/* Creates a job of company in its own transaction; returns its id, ref in ref. */
static uint64_t create_job(struct fixture *f, uint64_t company, const char *title, char ref[32])
{
    struct gw_core_ctx c = ctx_for(f->gdb, company, "api");
    struct gw_job_new j = {.title = title};
    uint64_t id = 0;
    begin(f);
    assert_core(GW_CORE_OK, gw_job_create(&c, &j, &id, ref), &c);
    commit(f);
    assert_true(id > 0);
    return id;
}

/* Every row count that an operation could change, as one line, to show nothing was written. */
static char *snapshot(struct fixture *f)
{
    return q_dump(f, "SELECT (SELECT COUNT(*) FROM jobs), (SELECT COUNT(*) FROM job_events), "
                     "(SELECT COUNT(*) FROM job_comments), (SELECT COUNT(*) FROM time_entries), "
                     "(SELECT COUNT(*) FROM contacts), "
                     "(SELECT GROUP_CONCAT(company_id, ':', last_number ORDER BY company_id) "
                     "FROM job_ref_counters), "
                     "(SELECT GROUP_CONCAT(id, status, priority, IFNULL(assignee_user_id, '-'), "
                     "IFNULL(closed_at, '-') ORDER BY id) FROM jobs), "
                     "(SELECT GROUP_CONCAT(id, IFNULL(name, '-'), IFNULL(phone, '-'), "
                     "IFNULL(deleted_at, '-') ORDER BY id) FROM contacts)");
}

/* ---- refs ----------------------------------------------------------------------------- */

static void test_refs_count_per_company(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    uint64_t a1 = create_job(f, A, "alpha one", ref);
    assert_string_equal(ref, "CT-000001");
    uint64_t b1 = create_job(f, B, "beta one", ref);
    assert_string_equal(ref, "CT-000001");
    uint64_t a2 = create_job(f, A, "alpha two", ref);
    assert_string_equal(ref, "CT-000002");
    uint64_t b2 = create_job(f, B, "beta two", ref);
    assert_string_equal(ref, "CT-000002");
    uint64_t a3 = create_job(f, A, "alpha three", ref);
    assert_string_equal(ref, "CT-000003");

    /* Each company finds its own job under the same ref, in every accepted spelling. */
    struct gw_core_ctx ca = ctx_for(f->gdb, A, "api"), cb = ctx_for(f->gdb, B, "api");
    uint64_t id = 0;
    assert_core(GW_CORE_OK, gw_job_find(&ca, "CT-000001", &id), &ca);
    assert_int_equal(id, a1);
    assert_core(GW_CORE_OK, gw_job_find(&cb, "ct-1", &id), &cb);
    assert_int_equal(id, b1);
    assert_core(GW_CORE_OK, gw_job_find(&ca, "2", &id), &ca);
    assert_int_equal(id, a2);
    assert_core(GW_CORE_OK, gw_job_find(&cb, "CT-2", &id), &cb);
    assert_int_equal(id, b2);
    id = 0;
    assert_core(GW_CORE_NOT_FOUND, gw_job_find(&cb, "CT-000003", &id), &cb);
    assert_int_equal(id, 0);
    assert_core(GW_CORE_OK, gw_job_find(&ca, "CT-000003", &id), &ca);
    assert_int_equal(id, a3);
    assert_core(GW_CORE_INVALID, gw_job_find(&ca, "CT-abc", &id), &ca);
    assert_true(ca.err[0] != '\0');

    assert_int_equal(
        ts_db_intf(&f->db, "SELECT last_number FROM job_ref_counters WHERE company_id = 1"), 3);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT last_number FROM job_ref_counters WHERE company_id = 2"), 2);
    /* The stored ref is the generated column's, matching what gw_job_create reported. */
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE ref = CONCAT('CT-', "
                                        "LPAD(number, 6, '0'))"),
                     5);
}

struct creator {
    struct fixture *f;
    pthread_barrier_t *start;
    int created;
    int retries;
    char error[300];
};

enum { THREADS = 4, PER_THREAD = 25 };

/* Deadlock or lock wait timeout: the worker's answer is to roll back and run again. */
static bool retryable(struct gw_db *db)
{
    return gw_db_errno(db) == 1213 || gw_db_errno(db) == 1205;
}

static void *create_many(void *arg)
{
    struct creator *cr = arg;
    gw_db_thread_init();
    struct gw_db *db = gw_db_open(&cr->f->cfg);
    if (db == NULL || !gw_db_ok(db))
        snprintf(cr->error, sizeof(cr->error), "connect: %s", db ? gw_db_error(db) : "oom");
    /* Connected first, then all at once: the first creates also race to make the counter
     * row. */
    pthread_barrier_wait(cr->start);
    while (cr->created < PER_THREAD && cr->error[0] == '\0') {
        struct gw_core_ctx c = ctx_for(db, A, "api");
        struct gw_job_new j = {.title = "concurrent"};
        uint64_t id = 0;
        char ref[32];
        if (gw_db_begin(db) != 0) {
            snprintf(cr->error, sizeof(cr->error), "begin: %s", gw_db_error(db));
            break;
        }
        enum gw_core_rc rc = gw_job_create(&c, &j, &id, ref);
        if (rc == GW_CORE_OK && gw_db_commit(db) == 0) {
            cr->created++;
            continue;
        }
        bool again = (rc == GW_CORE_OK || rc == GW_CORE_DB_ERROR) && retryable(db);
        if (gw_db_rollback(db) != 0 || !again || ++cr->retries > 50)
            snprintf(cr->error, sizeof(cr->error), "create: rc %d: %s", (int)rc,
                     rc == GW_CORE_OK ? gw_db_error(db) : c.err);
    }
    gw_db_close(db);
    gw_db_thread_end();
    return NULL;
}

static void test_concurrent_creators_get_distinct_consecutive_numbers(void **state)
{
    struct fixture *f = *state;
    struct creator cr[THREADS];
    pthread_t th[THREADS];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    memset(cr, 0, sizeof(cr));
    for (int i = 0; i < THREADS; i++) {
        cr[i].f = f;
        cr[i].start = &start;
        assert_int_equal(pthread_create(&th[i], NULL, create_many, &cr[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        if (cr[i].error[0] != '\0')
            fail_msg("thread %d: %s", i, cr[i].error);
        assert_int_equal(cr[i].created, PER_THREAD);
    }
    const int n = THREADS * PER_THREAD;
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE company_id = 1"), n);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(DISTINCT number) FROM jobs WHERE company_id = 1"), n);
    assert_int_equal(ts_db_intf(&f->db, "SELECT MIN(number) FROM jobs WHERE company_id = 1"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT MAX(number) FROM jobs WHERE company_id = 1"), n);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT last_number FROM job_ref_counters WHERE company_id = 1"), n);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events WHERE kind = 'created'"),
                     n);
    /* Each created event names its own job's ref. */
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT COUNT(*) FROM job_events e JOIN jobs j ON j.company_id = "
                                "e.company_id AND j.id = e.job_id WHERE JSON_VALUE(e.detail, "
                                "'$.ref') = j.ref"),
                     n);
}

/* gw_users_find_by_slack_ids: each question answered within its own company, deleted users
 * and other companies' members not found, in one statement for the lot. */
static void test_callers_found_together(void **state)
{
    struct fixture *f = *state;
    unsigned err = ts_db_exec(&f->db, "UPDATE users SET slack_user_id = CONCAT('U', id)");
    assert_int_equal(err, 0);
    struct gw_core_ctx c[5];
    for (size_t i = 0; i < 5; i++)
        c[i] = ctx_for(f->gdb, i == 2 || i == 4 ? B : A, "slack");
    c[0].webhook_event_id = A_EVENT;
    c[2].webhook_event_id = B_EVENT;
    struct gw_slack_caller q[5] = {
        {.ctx = &c[0], .slack_id = "U12"}, /* Bob, manager of A */
        {.ctx = &c[1], .slack_id = "U13"}, /* deleted */
        {.ctx = &c[2], .slack_id = "U21"}, /* Bea of B */
        {.ctx = &c[3], .slack_id = "U21"}, /* Bea asked for in A */
        {.ctx = &c[4], .slack_id = "U11"}, /* Ann asked for in B */
    };
    assert_int_equal(gw_users_find_by_slack_ids(q, 5), GW_CORE_OK);
    assert_int_equal(q[0].rc, GW_CORE_OK);
    assert_int_equal(q[0].user.id, A_BOB);
    assert_string_equal(q[0].user.role, "manager");
    assert_int_equal(q[1].rc, GW_CORE_NOT_FOUND);
    assert_int_equal(q[1].user.id, 0);
    assert_int_equal(q[2].rc, GW_CORE_OK);
    assert_int_equal(q[2].user.id, B_BEA);
    assert_int_equal(q[3].rc, GW_CORE_NOT_FOUND);
    assert_int_equal(q[4].rc, GW_CORE_NOT_FOUND);
    /* The same answers as one question at a time. */
    struct gw_user u;
    assert_core(GW_CORE_OK, gw_user_find_by_slack_id(&c[0], "U12", &u), &c[0]);
    assert_int_equal(u.id, A_BOB);
    assert_core(GW_CORE_NOT_FOUND, gw_user_find_by_slack_id(&c[3], "U21", &u), &c[3]);
    assert_int_equal(gw_users_find_by_slack_ids(q, 0), GW_CORE_INVALID);
}

/* gw_job_create_many: per-company numbers in the items' order, one history row each, the
 * refused items refused alone and taking no number, ids matched even when the server spaces
 * them (auto_increment_increment 3). */
static void test_jobs_created_together(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    create_job(f, A, "alpha first", ref);
    assert_int_equal(gw_db_exec_static(f->gdb, "SET SESSION auto_increment_increment = 3",
                                       strlen("SET SESSION auto_increment_increment = 3")),
                     0);
    struct gw_core_ctx c[6];
    for (size_t i = 0; i < 6; i++)
        c[i] = ctx_for(f->gdb, i == 1 || i == 5 ? B : A, "slack");
    c[0].actor_user_id = A_ANN;
    c[0].webhook_event_id = A_EVENT;
    c[1].actor_user_id = B_BEA;
    c[1].webhook_event_id = B_EVENT;
    c[4].webhook_event_id = B_EVENT; /* another company's event */
    struct gw_job_new j[6] = {
        {.title = "alpha two", .created_by_user_id = A_ANN},
        {.title = "beta one", .description = "described"},
        {.title = "alpha three", .client_id = A_CLIENT},
        {.title = ""},                                /* refused: no title */
        {.title = "alpha never"},                     /* refused: the event is B's */
        {.title = "beta two", .client_id = A_CLIENT}, /* refused: A's client */
    };
    struct gw_job_batch_item items[6];
    for (size_t i = 0; i < 6; i++)
        items[i] = (struct gw_job_batch_item){.ctx = &c[i], .job = &j[i]};
    begin(f);
    assert_int_equal(gw_job_create_many(items, 6), GW_CORE_OK);
    commit(f);
    static const enum gw_core_rc want_rc[6] = {
        GW_CORE_OK, GW_CORE_OK, GW_CORE_OK, GW_CORE_INVALID, GW_CORE_NOT_FOUND, GW_CORE_NOT_FOUND};
    static const char *const want_ref[6] = {"CT-000002", "CT-000001", "CT-000003", "", "", ""};
    for (size_t i = 0; i < 6; i++) {
        if (items[i].rc != want_rc[i])
            fail_msg("item %zu: rc %d, expected %d (%s)", i, (int)items[i].rc, (int)want_rc[i],
                     c[i].err);
        assert_string_equal(items[i].ref, want_ref[i]);
        assert_true((items[i].job_id != 0) == (want_rc[i] == GW_CORE_OK));
    }
    char *jobs = q_dump(f, "SELECT GROUP_CONCAT(id, '/', company_id, '/', ref, '/', title, '/', "
                           "IFNULL(client_id, '-'), '/', IFNULL(created_by_user_id, '-'), '/', "
                           "source ORDER BY company_id, number SEPARATOR ';') FROM jobs WHERE "
                           "source = 'slack'");
    char want[512];
    snprintf(want, sizeof(want),
             "%llu/1/CT-000002/alpha two/-/11/slack;%llu/1/CT-000003/alpha three/31/-/slack;"
             "%llu/2/CT-000001/beta one/-/-/slack\n",
             (unsigned long long)items[0].job_id, (unsigned long long)items[2].job_id,
             (unsigned long long)items[1].job_id);
    assert_string_equal(jobs, want);
    free(jobs);
    /* One "created" row per job, as gw_job_create writes it, naming actor and event. */
    char *events = q_dump(f, "SELECT GROUP_CONCAT(e.company_id, '/', j.ref, '/', e.kind, '/', "
                             "e.detail, '/', IFNULL(e.actor_user_id, '-'), '/', "
                             "IFNULL(e.webhook_event_id, '-') ORDER BY e.company_id, j.number "
                             "SEPARATOR ';') FROM job_events e JOIN jobs j ON j.id = e.job_id "
                             "WHERE e.source = 'slack'");
    assert_string_equal(
        events, "1/CT-000002/created/{\"ref\":\"CT-000002\",\"status\":\"new\",\"priority\":"
                "\"normal\"}/11/71;1/CT-000003/created/{\"ref\":\"CT-000003\",\"status\":\"new\","
                "\"priority\":\"normal\"}/-/-;2/CT-000001/created/{\"ref\":\"CT-000001\","
                "\"status\":\"new\",\"priority\":\"normal\"}/21/72\n");
    free(events);
    /* The refused items took no number. */
    char *counters = q_dump(f, "SELECT GROUP_CONCAT(company_id, ':', last_number ORDER BY "
                               "company_id) FROM job_ref_counters");
    assert_string_equal(counters, "1:3,2:1\n");
    free(counters);
    /* Out of range: nothing to do. */
    assert_int_equal(gw_job_create_many(items, 0), GW_CORE_INVALID);
}

static void test_rolled_back_create_leaves_no_job(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    create_job(f, A, "kept", ref);
    assert_string_equal(ref, "CT-000001");

    struct gw_core_ctx c = ctx_for(f->gdb, A, "api");
    struct gw_job_new j = {.title = "rolled back"};
    uint64_t id = 0;
    begin(f);
    assert_core(GW_CORE_OK, gw_job_create(&c, &j, &id, ref), &c);
    assert_string_equal(ref, "CT-000002");
    assert_int_equal(gw_db_rollback(f->gdb), 0);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE title = 'rolled back'"),
                     0);

    /* The counter row is rolled back with the transaction, so this implementation reuses the
     * number; a gap would be acceptable too (refs are unique, not gapless by contract), so
     * the test allows either. */
    create_job(f, A, "after", ref);
    assert_true(strcmp(ref, "CT-000002") == 0 || strcmp(ref, "CT-000003") == 0);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(DISTINCT number) FROM jobs"), 2);
}

static void test_ref_normalisation(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out; /* out NULL: not a ref */
    } cases[] = {
        {"CT-000123", "CT-000123"},
        {"ct-123", "CT-000123"},
        {"Ct-123", "CT-000123"},
        {"123", "CT-000123"},
        {"CT-1234567", "CT-1234567"},
        {"1", "CT-000001"},
        {"0000001", "CT-000001"},
        {"999999", "CT-999999"},
        {"1000000", "CT-1000000"},
        {"123456789012345678", "CT-123456789012345678"},
        {"1234567890123456789", NULL}, /* 19 digits */
        {"", NULL},
        {"CT-", NULL},
        {"CT-0", NULL},
        {"0", NULL},
        {"000000", NULL},
        {" CT-123", NULL},
        {"CT-123 ", NULL},
        {"CT- 123", NULL},
        {"CT123", NULL},
        {"CT--123", NULL},
        {"-123", NULL},
        {"+123", NULL},
        {"12a", NULL},
        {"CT-12.5", NULL},
        {"XT-123", NULL},
        {"CT-123\n", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];
        int rc = gw_job_ref_normalise(cases[i].in, out);
        if (cases[i].out == NULL) {
            if (rc != -1)
                fail_msg("'%s' was accepted as %s", cases[i].in, out);
        } else {
            if (rc != 0)
                fail_msg("'%s' was refused", cases[i].in);
            assert_string_equal(out, cases[i].out);
        }
    }
    char out[32];
    assert_int_equal(gw_job_ref_normalise(NULL, out), -1);
}

/* ---- history -------------------------------------------------------------------------- */

static void test_every_change_writes_its_event(void **state)
{
    struct fixture *f = *state;
    struct gw_core_ctx c = ctx_for(f->gdb, A, "slack");
    c.webhook_event_id = A_EVENT;
    c.actor_user_id = A_BOB;
    struct gw_job_new j = {.title = "printer on fire",
                           .description = "<script>alert(1)</script> \"quoted\"",
                           .priority = "high",
                           .team = "ops",
                           .due_at = "2030-01-31 17:00:00",
                           .client_id = A_CLIENT,
                           .contact_id = A_CONTACT,
                           .created_by_user_id = A_BOB};
    uint64_t job = 0, comment = 0, entry = 0;
    char ref[32];
    begin(f);
    assert_core(GW_CORE_OK, gw_job_create(&c, &j, &job, ref), &c);
    struct gw_comment_new cm = {.body = "on it", .visibility = "public", .author_user_id = A_ANN};
    assert_core(GW_CORE_OK, gw_job_comment(&c, job, &cm, &comment), &c);
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "in_progress"), &c);
    assert_core(GW_CORE_OK, gw_job_assign(&c, job, A_ANN), &c);
    assert_core(GW_CORE_OK, gw_job_set_priority(&c, job, "urgent"), &c);
    assert_core(GW_CORE_OK, gw_time_add(&c, job, A_ANN, 30, "fixed", "2024-02-29", &entry), &c);
    /* Events without an actor or an inbox event store NULL for them. */
    struct gw_core_ctx plain = ctx_for(f->gdb, A, "api");
    assert_core(GW_CORE_OK, gw_job_assign(&plain, job, 0), &plain);
    assert_core(GW_CORE_OK, gw_job_event(&plain, job, "note", "{\"k\": [1, \"v\"]}"), &plain);
    assert_core(GW_CORE_OK, gw_job_event(&plain, job, "bare", NULL), &plain);
    /* No-op changes write nothing. */
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "in_progress"), &c);
    assert_core(GW_CORE_OK, gw_job_set_priority(&c, job, "urgent"), &c);
    assert_core(GW_CORE_OK, gw_job_assign(&c, job, 0), &c);
    commit(f);

    char *events = q_dump(f,
                          "SELECT kind, source, IFNULL(actor_user_id, 'NULL'), "
                          "IFNULL(webhook_event_id, 'NULL'), company_id, IFNULL(detail, 'NULL') "
                          "FROM job_events WHERE job_id = %llu ORDER BY id",
                          (unsigned long long)job);
    char expect[2048];
    snprintf(expect, sizeof(expect),
             "created|slack|12|71|1|{\"ref\":\"CT-000001\",\"status\":\"new\",\"priority\":"
             "\"high\"}\n"
             "commented|slack|12|71|1|{\"comment_id\":%llu,\"visibility\":\"public\"}\n"
             "status_changed|slack|12|71|1|{\"from\":\"new\",\"to\":\"in_progress\"}\n"
             "assigned|slack|12|71|1|{\"from\":null,\"to\":11}\n"
             "priority_changed|slack|12|71|1|{\"from\":\"high\",\"to\":\"urgent\"}\n"
             "time_added|slack|12|71|1|{\"minutes\":30,\"entry_id\":%llu,\"user_id\":11}\n"
             "assigned|api|NULL|NULL|1|{\"from\":11,\"to\":null}\n"
             "note|api|NULL|NULL|1|{\"k\":[1,\"v\"]}\n"
             "bare|api|NULL|NULL|1|NULL\n",
             (unsigned long long)comment, (unsigned long long)entry);
    assert_string_equal(events, expect);
    free(events);

    char *row = q_dump(f,
                       "SELECT ref, title, description, status, priority, source, team, "
                       "client_id, contact_id, IFNULL(assignee_user_id, 'NULL'), "
                       "created_by_user_id, due_at, IFNULL(closed_at, 'NULL') FROM jobs "
                       "WHERE id = %llu",
                       (unsigned long long)job);
    assert_string_equal(row, "CT-000001|printer on fire|<script>alert(1)</script> \"quoted\"|"
                             "in_progress|urgent|slack|ops|31|51|NULL|12|2030-01-31 "
                             "17:00:00.000|NULL\n");
    free(row);
    row = q_dump(f,
                 "SELECT company_id, job_id, author_user_id, IFNULL(author_contact_id, 'NULL'), "
                 "body, source, visibility, webhook_event_id FROM job_comments WHERE id = %llu",
                 (unsigned long long)comment);
    snprintf(expect, sizeof(expect), "1|%llu|11|NULL|on it|slack|public|71\n",
             (unsigned long long)job);
    assert_string_equal(row, expect);
    free(row);
    row = q_dump(f,
                 "SELECT company_id, job_id, user_id, minutes, note, spent_on, source, "
                 "webhook_event_id FROM time_entries WHERE id = %llu",
                 (unsigned long long)entry);
    snprintf(expect, sizeof(expect), "1|%llu|11|30|fixed|2024-02-29|slack|71\n",
             (unsigned long long)job);
    assert_string_equal(row, expect);
    free(row);
}

static void test_comment_authors_and_defaults(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    uint64_t job = create_job(f, A, "comments", ref);
    struct gw_core_ctx c = ctx_for(f->gdb, A, "email");
    uint64_t id1 = 0, id2 = 0;
    struct gw_comment_new by_contact = {.body = "hello",
                                        .author_contact_id = A_CONTACT,
                                        .email_message_id = "<m1@customer.example>"};
    struct gw_comment_new by_label = {.body = "from a stranger", .author_label = "Eve <e@x>"};
    begin(f);
    assert_core(GW_CORE_OK, gw_job_comment(&c, job, &by_contact, &id1), &c);
    assert_core(GW_CORE_OK, gw_job_comment(&c, job, &by_label, &id2), &c);
    commit(f);
    char *rows = q_dump(f, "SELECT IFNULL(author_user_id, '-'), IFNULL(author_contact_id, '-'), "
                           "IFNULL(author_label, '-'), visibility, IFNULL(email_message_id, '-'), "
                           "IFNULL(webhook_event_id, '-') FROM job_comments ORDER BY id");
    assert_string_equal(rows, "-|51|-|internal|<m1@customer.example>|-\n"
                              "-|-|Eve <e@x>|internal|-|-\n");
    free(rows);
}

/* ---- tenant isolation ----------------------------------------------------------------- */

static void test_other_company_rows_do_not_exist(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    uint64_t a_job = create_job(f, A, "alpha job", ref);
    create_job(f, B, "beta job", ref);
    uint64_t b_job2 = create_job(f, B, "beta job two", ref);
    assert_string_equal(ref, "CT-000002");
    char *before = snapshot(f);

    struct gw_core_ctx c = ctx_for(f->gdb, A, "api");
    uint64_t id = 0;
    begin(f);
    /* A ref only B has. */
    assert_core(GW_CORE_NOT_FOUND, gw_job_find(&c, "CT-000002", &id), &c);
    /* B's job, by id, through every operation. */
    struct gw_comment_new cm = {.body = "x", .author_label = "x"};
    assert_core(GW_CORE_NOT_FOUND, gw_job_comment(&c, b_job2, &cm, &id), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_set_status(&c, b_job2, "closed"), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_assign(&c, b_job2, A_ANN), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_assign(&c, b_job2, 0), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_set_priority(&c, b_job2, "urgent"), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_time_add(&c, b_job2, A_ANN, 10, NULL, NULL, &id), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_event(&c, b_job2, "note", NULL), &c);
    /* A job id that does not exist at all answers the same. */
    assert_core(GW_CORE_NOT_FOUND, gw_job_set_status(&c, 999999, "closed"), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_event(&c, 999999, "note", NULL), &c);
    /* B's users, clients and contacts referenced from A's job or A's new job. */
    assert_core(GW_CORE_NOT_FOUND, gw_job_assign(&c, a_job, B_BEA), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_assign(&c, a_job, A_GONE), &c); /* deleted */
    assert_core(GW_CORE_NOT_FOUND, gw_time_add(&c, a_job, B_BEA, 10, NULL, NULL, &id), &c);
    struct gw_comment_new by_b_user = {.body = "x", .author_user_id = B_BEA};
    struct gw_comment_new by_b_contact = {.body = "x", .author_contact_id = B_CONTACT};
    assert_core(GW_CORE_NOT_FOUND, gw_job_comment(&c, a_job, &by_b_user, &id), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_job_comment(&c, a_job, &by_b_contact, &id), &c);
    struct gw_job_new jobs[] = {
        {.title = "t", .client_id = B_CLIENT},     {.title = "t", .contact_id = B_CONTACT},
        {.title = "t", .assignee_user_id = B_BEA}, {.title = "t", .created_by_user_id = B_BEA},
        {.title = "t", .client_id = 999999},
    };
    for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
        assert_core(GW_CORE_NOT_FOUND, gw_job_create(&c, &jobs[i], &id, ref), &c);
    assert_string_equal(ref, "");
    /* A context naming B's user as actor, or B's inbox event, is refused before any write. */
    struct gw_core_ctx bad_actor = c, bad_event = c;
    bad_actor.actor_user_id = B_BEA;
    bad_event.webhook_event_id = B_EVENT;
    struct gw_job_new ok_job = {.title = "t"};
    assert_core(GW_CORE_NOT_FOUND, gw_job_create(&bad_actor, &ok_job, &id, ref), &bad_actor);
    assert_core(GW_CORE_NOT_FOUND, gw_job_create(&bad_event, &ok_job, &id, ref), &bad_event);
    assert_core(GW_CORE_NOT_FOUND, gw_job_set_status(&bad_actor, a_job, "open"), &bad_actor);
    assert_core(GW_CORE_NOT_FOUND, gw_job_comment(&bad_event, a_job, &cm, &id), &bad_event);
    assert_core(GW_CORE_NOT_FOUND, gw_time_add(&bad_event, a_job, A_ANN, 5, NULL, NULL, &id),
                &bad_event);
    assert_core(GW_CORE_NOT_FOUND, gw_job_event(&bad_actor, a_job, "note", NULL), &bad_actor);
    /* B's user's e-mail is nobody in A; a company that does not exist creates nothing. */
    assert_core(GW_CORE_NOT_FOUND, gw_user_find_by_email(&c, "bea@beta.example", &id), &c);
    struct gw_core_ctx nowhere = ctx_for(f->gdb, 999, "api");
    assert_core(GW_CORE_NOT_FOUND, gw_job_create(&nowhere, &ok_job, &id, ref), &nowhere);
    assert_core(GW_CORE_NOT_FOUND, gw_contact_upsert(&nowhere, "x@y.example", NULL, NULL, &id),
                &nowhere);
    commit(f);

    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* B's contact's address used by A makes a separate contact of A; B's is untouched. */
    uint64_t contact = 0;
    begin(f);
    assert_core(GW_CORE_OK,
                gw_contact_upsert(&c, "dora@customer.example", "Dora in A", "555", &contact), &c);
    commit(f);
    assert_true(contact != B_CONTACT);
    char *rows = q_dump(f, "SELECT company_id, IFNULL(name, '-'), IFNULL(phone, '-') FROM "
                           "contacts WHERE email = 'dora@customer.example' ORDER BY id");
    assert_string_equal(rows, "2|Dora|-\n1|Dora in A|555\n");
    free(rows);
}

/* ---- validation ----------------------------------------------------------------------- */

static void test_invalid_values_write_nothing(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    uint64_t job = create_job(f, A, "valid", ref);
    char *before = snapshot(f);

    char long_title[302];
    memset(long_title, 'x', 301);
    long_title[301] = '\0';
    char long_team[102];
    memset(long_team, 't', 101);
    long_team[101] = '\0';
    char long_note[2002];
    memset(long_note, 'n', 2001);
    long_note[2001] = '\0';
    char long_label[202];
    memset(long_label, 'l', 201);
    long_label[201] = '\0';

    struct gw_core_ctx c = ctx_for(f->gdb, A, "api");
    uint64_t id = 0;
    begin(f);
    const struct gw_job_new bad_jobs[] = {
        {.title = NULL},
        {.title = ""},
        {.title = "  \t "},
        {.title = long_title},
        {.title = "bad utf-8 \xC3\x28"},
        {.title = "overlong \xC0\xAF"},
        {.title = "surrogate \xED\xA0\x80"},
        {.title = "t", .status = "bogus"},
        {.title = "t", .status = "NEW"},
        {.title = "t", .status = ""},
        {.title = "t", .priority = "critical"},
        {.title = "t", .team = long_team},
        {.title = "t", .due_at = "2030-02-30 10:00:00"},
        {.title = "t", .due_at = "2030-01-01"},
        {.title = "t", .due_at = "2030-01-01 24:00:00"},
        {.title = "t", .due_at = "2030-01-01T10:00:00"},
        {.title = "t", .description = "\xFF"},
    };
    for (size_t i = 0; i < sizeof(bad_jobs) / sizeof(bad_jobs[0]); i++) {
        c.err[0] = '\0';
        if (gw_job_create(&c, &bad_jobs[i], &id, ref) != GW_CORE_INVALID)
            fail_msg("bad job %zu was not refused as invalid", i);
        if (c.err[0] == '\0')
            fail_msg("bad job %zu has no error text", i);
    }
    struct gw_job_new fine = {.title = "t"};
    static const char *const bad_sources[] = {"web", "system", "", "API", "sms"};
    for (size_t i = 0; i < sizeof(bad_sources) / sizeof(bad_sources[0]); i++) {
        struct gw_core_ctx bs = ctx_for(f->gdb, A, bad_sources[i]);
        assert_core(GW_CORE_INVALID, gw_job_create(&bs, &fine, &id, ref), &bs);
        assert_non_null(strstr(bs.err, "source"));
        assert_core(GW_CORE_INVALID, gw_job_set_status(&bs, job, "open"), &bs);
    }
    struct gw_core_ctx no_source = ctx_for(f->gdb, A, NULL);
    assert_core(GW_CORE_INVALID, gw_job_assign(&no_source, job, A_ANN), &no_source);
    struct gw_core_ctx no_company = ctx_for(f->gdb, 0, "api");
    assert_core(GW_CORE_INVALID, gw_job_create(&no_company, &fine, &id, ref), &no_company);

    assert_core(GW_CORE_INVALID, gw_job_set_status(&c, job, "finished"), &c);
    assert_non_null(strstr(c.err, "status"));
    assert_core(GW_CORE_INVALID, gw_job_set_status(&c, job, NULL), &c);
    assert_core(GW_CORE_INVALID, gw_job_set_priority(&c, job, "High"), &c);
    assert_non_null(strstr(c.err, "priority"));

    const struct gw_comment_new bad_comments[] = {
        {.body = NULL, .author_label = "x"},
        {.body = "", .author_label = "x"},
        {.body = " \n", .author_label = "x"},
        {.body = "x", .visibility = "private", .author_label = "x"},
        {.body = "x"}, /* no author at all */
        {.body = "x", .author_label = "  "},
        {.body = "x", .author_label = long_label},
        {.body = "\xC3", .author_label = "x"},
    };
    for (size_t i = 0; i < sizeof(bad_comments) / sizeof(bad_comments[0]); i++)
        if (gw_job_comment(&c, job, &bad_comments[i], &id) != GW_CORE_INVALID)
            fail_msg("bad comment %zu was not refused as invalid", i);

    assert_core(GW_CORE_INVALID, gw_time_add(&c, job, A_ANN, 30, long_note, NULL, &id), &c);
    assert_core(GW_CORE_INVALID, gw_time_add(&c, job, 0, 30, NULL, NULL, &id), &c);
    static const char *const bad_days[] = {"2023-02-29", "2024-13-01",  "2024-00-10", "2024-04-31",
                                           "24-01-01",   "2024-1-1",    "2024/01/01", "0999-01-01",
                                           "",           "2024-01-01 ", "today"};
    for (size_t i = 0; i < sizeof(bad_days) / sizeof(bad_days[0]); i++)
        if (gw_time_add(&c, job, A_ANN, 30, NULL, bad_days[i], &id) != GW_CORE_INVALID)
            fail_msg("spent_on '%s' was not refused", bad_days[i]);

    static const char *const bad_kinds[] = {"", "Created", "with space",
                                            "a_kind_that_is_longer_than_forty_characters"};
    for (size_t i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++)
        if (gw_job_event(&c, job, bad_kinds[i], NULL) != GW_CORE_INVALID)
            fail_msg("kind '%s' was not refused", bad_kinds[i]);
    assert_core(GW_CORE_INVALID, gw_job_event(&c, job, NULL, NULL), &c);
    static const char *const bad_details[] = {"[1,2]", "\"s\"", "{", "{} x", "", "null"};
    for (size_t i = 0; i < sizeof(bad_details) / sizeof(bad_details[0]); i++)
        if (gw_job_event(&c, job, "note", bad_details[i]) != GW_CORE_INVALID)
            fail_msg("detail '%s' was not refused", bad_details[i]);

    assert_core(GW_CORE_INVALID, gw_contact_upsert(&c, "not-an-address", NULL, NULL, &id), &c);
    char long_phone[66];
    memset(long_phone, '5', 65);
    long_phone[65] = '\0';
    assert_core(GW_CORE_INVALID, gw_contact_upsert(&c, "p@x.example", NULL, long_phone, &id), &c);
    assert_core(GW_CORE_INVALID, gw_user_find_by_email(&c, "a b@x.example", &id), &c);
    commit(f);

    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* The bounds themselves are accepted: 300 characters, even when each is four bytes. */
    char wide[1201];
    for (int i = 0; i < 300; i++)
        memcpy(wide + 4 * i, "\xF0\x9F\x98\x80", 4); /* U+1F600 */
    wide[1200] = '\0';
    struct gw_job_new at_bound = {.title = wide, .team = "ops", .status = "on_hold"};
    begin(f);
    assert_core(GW_CORE_OK, gw_job_create(&c, &at_bound, &id, ref), &c);
    long_title[300] = '\0';
    at_bound.title = long_title;
    assert_core(GW_CORE_OK, gw_job_create(&c, &at_bound, &id, ref), &c);
    commit(f);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE CHAR_LENGTH(title) = 300"),
                     2);
}

static void test_database_failure_is_reported(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    uint64_t job = create_job(f, A, "job", ref);
    assert_int_equal(ts_db_exec(&f->db, "DROP TABLE time_entries"), 0);
    struct gw_core_ctx c = ctx_for(f->gdb, A, "api");
    uint64_t id = 0;
    begin(f);
    assert_core(GW_CORE_DB_ERROR, gw_time_add(&c, job, A_ANN, 5, NULL, NULL, &id), &c);
    assert_int_equal(gw_db_rollback(f->gdb), 0);
    assert_non_null(strstr(c.err, "adding the time entry: "));
    assert_non_null(strstr(c.err, "time_entries"));
}

/* ---- contacts, users, companies ------------------------------------------------------- */

static void test_contact_upsert_matches_case_insensitively(void **state)
{
    struct fixture *f = *state;
    struct gw_core_ctx c = ctx_for(f->gdb, A, "email");
    uint64_t first = 0, id = 0;
    begin(f);
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, "  Pat@Example.COM\n", NULL, NULL, &first), &c);
    /* Same address in other case and spacing: the same contact, blanks filled. */
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, "pat@example.com", " Pat Lee ", NULL, &id), &c);
    assert_int_equal(id, first);
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, "PAT@EXAMPLE.COM", "Other Name", "+1 555", &id),
                &c);
    assert_int_equal(id, first);
    /* Existing values are never overwritten; empty values never blank them. */
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, "pat@example.com", "Third", "999", &id), &c);
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, "pat@example.com", "", "  ", &id), &c);
    assert_int_equal(id, first);
    /* The seeded contact: name kept, phone filled. */
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, "CARL@customer.example", "Karl", "123", &id), &c);
    assert_int_equal(id, A_CONTACT);
    commit(f);

    char *rows = q_dump(f, "SELECT id, email, IFNULL(name, 'NULL'), IFNULL(phone, 'NULL') FROM "
                           "contacts WHERE company_id = 1 ORDER BY id");
    char expect[256];
    snprintf(expect, sizeof(expect),
             "51|carl@customer.example|Carl|123\n%llu|Pat@Example.COM|Pat Lee|+1 555\n",
             (unsigned long long)first);
    assert_string_equal(rows, expect);
    free(rows);

    /* A soft-deleted contact with the address is the same person writing in again. */
    assert_int_equal(ts_db_exec(&f->db, "UPDATE contacts SET deleted_at = NOW() WHERE id = 51"), 0);
    begin(f);
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, "carl@customer.example", NULL, NULL, &id), &c);
    commit(f);
    assert_int_equal(id, A_CONTACT);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM contacts WHERE id = 51 AND deleted_at IS NULL"),
        1);

    static const char *const bad[] = {"",
                                      "   ",
                                      "@example.com",
                                      "pat@",
                                      "pat",
                                      "pat@@example.com",
                                      "pat@ex@ample.com",
                                      "pat lee@example.com",
                                      "pat\t@example.com",
                                      "pat\x01@example.com",
                                      "pat@exam\x7Fple.com",
                                      "p\xC3@example.com"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_contact_upsert(&c, bad[i], NULL, NULL, &id) != GW_CORE_INVALID)
            fail_msg("address %zu was accepted", i);
    /* 254 bytes is the limit. */
    char addr[300];
    memset(addr, 'a', sizeof(addr));
    memcpy(addr + 254 - 12, "@example.com", 13); /* 254 bytes with the NUL at [254] */
    begin(f);
    assert_core(GW_CORE_OK, gw_contact_upsert(&c, addr, NULL, NULL, &id), &c);
    memset(addr, 'a', sizeof(addr));
    memcpy(addr + 255 - 12, "@example.com", 13);
    assert_core(GW_CORE_INVALID, gw_contact_upsert(&c, addr, NULL, NULL, &id), &c);
    commit(f);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM contacts"), 4);
}

static void test_user_and_company_lookup(void **state)
{
    struct fixture *f = *state;
    struct gw_core_ctx c = ctx_for(f->gdb, A, "api");
    uint64_t id = 0;
    assert_core(GW_CORE_OK, gw_user_find_by_email(&c, " ANN@alpha.example ", &id), &c);
    assert_int_equal(id, A_ANN);
    assert_core(GW_CORE_NOT_FOUND, gw_user_find_by_email(&c, "gone@alpha.example", &id), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_user_find_by_email(&c, "nobody@alpha.example", &id), &c);

    assert_int_equal(gw_company_find(f->gdb, "beta", &id), GW_CORE_OK);
    assert_int_equal(id, B);
    assert_int_equal(gw_company_find(f->gdb, "gamma", &id), GW_CORE_NOT_FOUND);
    assert_int_equal(gw_company_find(f->gdb, "Beta'--", &id), GW_CORE_INVALID);
    assert_int_equal(gw_company_find(f->gdb, "", &id), GW_CORE_INVALID);
}

/* ---- time and status ------------------------------------------------------------------ */

static void test_time_entry_bounds(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    uint64_t job = create_job(f, A, "time", ref);
    struct gw_core_ctx c = ctx_for(f->gdb, A, "slack");
    uint64_t id = 0;
    begin(f);
    assert_core(GW_CORE_INVALID, gw_time_add(&c, job, A_ANN, 0, NULL, NULL, &id), &c);
    assert_non_null(strstr(c.err, "minutes"));
    assert_core(GW_CORE_OK, gw_time_add(&c, job, A_ANN, 1, NULL, NULL, &id), &c);
    assert_core(GW_CORE_OK, gw_time_add(&c, job, A_ANN, 1440, "a long day", "2000-02-29", &id), &c);
    assert_core(GW_CORE_INVALID, gw_time_add(&c, job, A_ANN, 1441, NULL, NULL, &id), &c);
    assert_core(GW_CORE_INVALID, gw_time_add(&c, job, A_ANN, 100000, NULL, NULL, &id), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_time_add(&c, job, A_GONE, 5, NULL, NULL, &id), &c);
    commit(f);
    char *rows = q_dump(f, "SELECT minutes, spent_on = UTC_DATE(), IFNULL(note, 'NULL') FROM "
                           "time_entries ORDER BY id");
    assert_string_equal(rows, "1|1|NULL\n1440|0|a long day\n");
    free(rows);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events WHERE kind = 'time_added'"), 2);
}

static void test_status_closes_and_reopens(void **state)
{
    struct fixture *f = *state;
    char ref[32];
    uint64_t job = create_job(f, A, "status", ref);
    struct gw_core_ctx c = ctx_for(f->gdb, A, "api");
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT IFNULL(closed_at, 'NULL') FROM jobs WHERE id = %llu",
             (unsigned long long)job);

    begin(f);
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "open"), &c);
    commit(f);
    char *closed = ts_db_text(&f->db, sql);
    assert_string_equal(closed, "NULL");
    free(closed);

    begin(f);
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "done"), &c);
    commit(f);
    char *done_at = ts_db_text(&f->db, sql);
    assert_string_not_equal(done_at, "NULL");
    /* closed_at is UTC: the session of ts_db is not, so compare with UTC_TIMESTAMP. */
    assert_int_equal(
        ts_db_intf(&f->db,
                   "SELECT ABS(TIMESTAMPDIFF(SECOND, closed_at, UTC_TIMESTAMP())) < 60 "
                   "FROM jobs WHERE id = %llu",
                   (unsigned long long)job),
        1);

    /* done then closed is one closure: the first time stays. */
    assert_int_equal(ts_db_exec(&f->db, "DO SLEEP(0.01)"), 0);
    begin(f);
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "closed"), &c);
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "closed"), &c); /* no-op */
    commit(f);
    closed = ts_db_text(&f->db, sql);
    assert_string_equal(closed, done_at);
    free(closed);
    free(done_at);

    begin(f);
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "in_progress"), &c);
    commit(f);
    closed = ts_db_text(&f->db, sql);
    assert_string_equal(closed, "NULL");
    free(closed);

    begin(f);
    assert_core(GW_CORE_OK, gw_job_set_status(&c, job, "closed"), &c);
    commit(f);
    closed = ts_db_text(&f->db, sql);
    assert_string_not_equal(closed, "NULL");
    free(closed);

    char *events = q_dump(f, "SELECT JSON_VALUE(detail, '$.from'), JSON_VALUE(detail, '$.to') "
                             "FROM job_events WHERE kind = 'status_changed' ORDER BY id");
    assert_string_equal(events, "new|open\nopen|done\ndone|closed\nclosed|in_progress\n"
                                "in_progress|closed\n");
    free(events);

    /* A job created closed is closed from the start. */
    struct gw_job_new j = {.title = "born closed", .status = "closed"};
    uint64_t id = 0;
    begin(f);
    assert_core(GW_CORE_OK, gw_job_create(&c, &j, &id, ref), &c);
    commit(f);
    assert_int_equal(ts_db_intf(&f->db, "SELECT closed_at IS NOT NULL FROM jobs WHERE id = %llu",
                                (unsigned long long)id),
                     1);
}

/* One statement answers questions of two companies: each sees its own user and job, never the
 * other's, with what gw_job_view_find and gw_job_public_comments give one at a time. */
static void test_views_read_in_one_batch(void **state)
{
    struct fixture *f = *state;
    static const char *const sql[] = {
        "UPDATE users SET slack_user_id = 'USAME' WHERE id IN (11, 21)",
        "UPDATE users SET slack_user_id = 'UGONE' WHERE id = 13",
        "INSERT INTO jobs (id, company_id, number, title, source, client_id, assignee_user_id, "
        "due_at) VALUES (101, 1, 5, 'Alpha five', 'api', 31, 12, '2026-12-24 10:00:00'), "
        "(102, 2, 5, 'Beta five', 'api', NULL, NULL, NULL), "
        "(103, 2, 6, 'Beta six', 'api', NULL, NULL, NULL)",
        "INSERT INTO job_comments (company_id, job_id, author_user_id, author_contact_id, "
        "author_label, body, source, visibility) VALUES "
        "(1, 101, NULL, 51, NULL, 'first', 'api', 'public'), "
        "(1, 101, 12, NULL, NULL, 'second', 'api', 'public'), "
        "(1, 101, NULL, NULL, 'Robot', 'hidden', 'api', 'internal'), "
        "(1, 101, NULL, NULL, 'Robot', 'third', 'api', 'public'), "
        "(1, 101, NULL, NULL, 'Robot', 'fourth', 'api', 'public'), "
        "(2, 102, 21, NULL, NULL, 'beta note', 'api', 'public')",
    };
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
        assert_int_equal(ts_db_exec(&f->db, sql[i]), 0);
    struct gw_view_query q[5] = {
        {.company_id = A, .slack_user_id = "USAME", .ref = "CT-000005"},
        {.company_id = B, .slack_user_id = "USAME", .ref = "CT-000005"},
        {.company_id = A, .slack_user_id = "USAME", .ref = "CT-000006"}, /* B's ref only */
        {.company_id = A, .slack_user_id = "UGONE", .ref = ""},          /* deleted user */
        {.company_id = B, .slack_user_id = "U\"x'", .ref = "CT-000006"}, /* quoting */
    };
    char err[256] = "";
    assert_int_equal(gw_job_views_read(f->gdb, q, 5, 3, err, sizeof(err)), GW_CORE_OK);
    assert_int_equal(q[0].user.id, A_ANN);
    assert_string_equal(q[0].user.role, "staff");
    assert_int_equal(q[0].job.id, 101);
    assert_string_equal(q[0].job.ref, "CT-000005");
    assert_string_equal(q[0].job.title, "Alpha five");
    assert_int_equal(q[0].job.client_id, A_CLIENT);
    assert_int_equal(q[0].job.assignee_user_id, A_BOB);
    assert_string_equal(q[0].job.assignee_name, "Bob");
    assert_string_equal(q[0].job.client_name, "Alpha client");
    assert_string_equal(q[0].job.due_on, "2026-12-24");
    assert_int_equal(q[0].n_comments, 3); /* the latest three public ones, newest first */
    assert_string_equal(q[0].comment_body[0], "fourth");
    assert_string_equal(q[0].comment_author[0], "Robot");
    assert_string_equal(q[0].comment_body[1], "third");
    assert_string_equal(q[0].comment_body[2], "second");
    assert_string_equal(q[0].comment_author[2], "Bob");
    assert_int_equal(q[1].user.id, B_BEA);
    assert_int_equal(q[1].job.id, 102);
    assert_string_equal(q[1].job.title, "Beta five");
    assert_false(q[1].job.has_assignee_name);
    assert_int_equal(q[1].n_comments, 1);
    assert_string_equal(q[1].comment_body[0], "beta note");
    assert_int_equal(q[2].user.id, A_ANN);
    assert_int_equal(q[2].job.id, 0); /* another company's ref is unknown */
    assert_string_equal(q[2].job.ref, "CT-000006");
    assert_int_equal(q[2].n_comments, 0);
    assert_int_equal(q[3].user.id, 0);
    assert_int_equal(q[3].job.id, 0);
    assert_int_equal(q[4].user.id, 0);
    assert_int_equal(q[4].job.id, 103);
    /* What the one-at-a-time functions say about the same rows. */
    struct gw_core_ctx c = {.db = f->gdb, .company_id = A, .source = "api"};
    struct gw_job_view one;
    assert_int_equal(gw_job_view_find(&c, "5", true, &one), GW_CORE_OK);
    assert_memory_equal(&one, &q[0].job, sizeof(one));
    for (size_t i = 0; i < 5; i++)
        gw_view_query_clear(&q[i]);
    /* Bounds are checked before anything is asked. */
    assert_int_equal(gw_job_views_read(f->gdb, q, 0, 3, err, sizeof(err)), GW_CORE_INVALID);
    assert_int_equal(gw_job_views_read(f->gdb, q, 1, GW_VIEW_COMMENTS_MAX + 1, err, sizeof(err)),
                     GW_CORE_INVALID);
    q[0].company_id = 0;
    assert_int_equal(gw_job_views_read(f->gdb, q, 1, 3, err, sizeof(err)), GW_CORE_INVALID);
}

int main(void)
{
    if (gw_db_library_init() != 0) {
        fprintf(stderr, "cannot initialise the MariaDB client library\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refs_count_per_company, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_creators_get_distinct_consecutive_numbers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_created_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callers_found_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_create_leaves_no_job, setup, teardown),
        cmocka_unit_test(test_ref_normalisation),
        cmocka_unit_test_setup_teardown(test_every_change_writes_its_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comment_authors_and_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_company_rows_do_not_exist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_values_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_failure_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_upsert_matches_case_insensitively, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_user_and_company_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_entry_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views_read_in_one_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_closes_and_reopens, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    gw_db_library_end();
    return failed;
}
