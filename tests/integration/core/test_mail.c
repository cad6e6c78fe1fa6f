/* test_mail.c — the mail core-table operations of gateway/core/mail.h against the private
 * MariaDB: routing a recipient (exact, domain, case, status), the company of a thread id,
 * the job of a Message-ID, who a sender is to a job, contacts (never a deleted one back),
 * jobs opened and reopened, one comment per message however often or concurrently it comes,
 * the email_received history row, attachments stored once per company, and the per-sender
 * hourly count. */
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

#include "gateway/core/jobs.h"
#include "gateway/core/mail.h"
#include "gateway/db/db.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/proc.h"

/* Fixed ids of the seed rows. */
enum {
    A = 1, /* alpha */
    B = 2, /* beta */
    C = 3, /* gamma: no email integration */
    A_ANN = 11,
    A_BOB = 12,
    A_GONE = 13,
    A_CLIFF = 14, /* role client, of A_CLIENT */
    A_OLGA = 15,  /* role client, of A_OTHER_CLIENT */
    B_BEA = 21,
    A_CLIENT = 31,
    A_OTHER_CLIENT = 32,
    B_CLIENT = 41,
    A_CARL = 51,    /* contact of A_CLIENT */
    A_NONAME = 52,  /* contact without a name */
    A_DELETED = 53, /* deleted contact */
    B_DORA = 61,
    I_ALPHA_SUPPORT = 101,
    I_ALPHA_DOMAIN = 102,
    I_BETA_DOMAIN = 103,
    I_BETA_HELP = 104,  /* disabled */
    I_OFF_DOMAIN = 105, /* disabled, of A */
};

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

struct fixture {
    struct ts_db db;
    struct ts_server srv; /* used for its config only; never started here */
    struct gw_database_config cfg;
    char *password;
    struct gw_db *gdb;
};

static void seed(struct fixture *f)
{
    static const char *const sql[] = {
        "INSERT INTO companies (id, slug, name) VALUES (1, 'alpha', 'Alpha'), (2, 'beta', "
        "'Beta'), (3, 'gamma', 'Gamma')",
        "INSERT INTO clients (id, company_id, name, email) VALUES "
        "(31, 1, 'Alpha client', 'accounts@alphaclient.example'), "
        "(32, 1, 'Other client', 'other@otherclient.example'), (41, 2, 'Beta client', NULL)",
        "INSERT INTO users (id, company_id, email, name, role, client_id, deleted_at) VALUES "
        "(11, 1, 'ann@alpha.example', 'Ann', 'staff', NULL, NULL), "
        "(12, 1, 'bob@alpha.example', 'Bob', 'manager', NULL, NULL), "
        "(13, 1, 'gone@alpha.example', 'Gone', 'staff', NULL, NOW()), "
        "(14, 1, 'cliff@alphaclient.example', 'Cliff', 'client', 31, NULL), "
        "(15, 1, 'olga@otherclient.example', 'Olga', 'client', 32, NULL), "
        "(21, 2, 'bea@beta.example', 'Bea', 'staff', NULL, NULL)",
        "INSERT INTO contacts (id, company_id, client_id, name, email, deleted_at) VALUES "
        "(51, 1, 31, 'Carl', 'carl@customer.example', NULL), "
        "(52, 1, NULL, NULL, 'noname@customer.example', NULL), "
        "(53, 1, NULL, 'Del', 'deleted@customer.example', NOW()), "
        "(61, 2, NULL, 'Dora', 'dora@customer.example', NULL)",
        "INSERT INTO integrations (id, company_id, provider, external_id, status) VALUES "
        "(101, 1, 'email', 'support@alpha.example', 'active'), "
        "(102, 1, 'email', '*@alpha.example', 'active'), "
        "(103, 2, 'email', '*@beta.example', 'active'), "
        "(104, 2, 'email', 'help@beta.example', 'disabled'), "
        "(105, 1, 'email', '*@off.example', 'disabled'), "
        "(106, 3, 'email-ses', 'x@gamma.example', 'active')",
    };
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        unsigned err = ts_db_exec(&f->db, sql[i]);
        if (err != 0)
            fail_msg("seed statement %zu failed with %u", i, err);
    }
}

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

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "mail");
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

static struct gw_core_ctx ctx_for(struct gw_db *db, uint64_t company)
{
    return (struct gw_core_ctx){.db = db, .company_id = company, .source = "email"};
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

static char *dump(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *dump(struct fixture *f, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    char *out = ts_db_dump(&f->db, sql);
    if (out == NULL)
        fail_msg("query failed: %s", sql);
    return out;
}

static void expect_dump(struct fixture *f, const char *want, const char *sql)
{
    char *got = dump(f, "%s", sql);
    bool same = strcmp(got, want) == 0;
    if (!same)
        fprintf(stderr, "%s\n--- got\n%s--- expected\n%s", sql, got, want);
    free(got); /* before failing, so that a failure is not buried in leak reports */
    assert_true(same);
}

/* Opens a job of COMPANY for CONTACT in its own transaction. */
static struct gw_mail_job open_job(struct fixture *f, uint64_t company, const char *subject,
                                   uint64_t contact)
{
    struct gw_core_ctx c = ctx_for(f->gdb, company);
    struct gw_mail_job_new n = {.subject = subject, .contact_id = contact};
    struct gw_mail_job job;
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_job_open(&c, &n, &job), &c);
    commit(f);
    return job;
}

/* ---- routing -------------------------------------------------------------------------- */

static void test_route(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *address;
        enum gw_core_rc rc;
        uint64_t company, integration;
        bool wildcard;
        const char *why;
    } cases[] = {
        {"support@alpha.example", GW_CORE_OK, A, I_ALPHA_SUPPORT, false, ""},
        {"SUPPORT@Alpha.EXAMPLE", GW_CORE_OK, A, I_ALPHA_SUPPORT, false, ""},
        {" <support@alpha.example>\r\n", GW_CORE_OK, A, I_ALPHA_SUPPORT, false, ""},
        {"Other@Alpha.Example", GW_CORE_OK, A, I_ALPHA_DOMAIN, true, ""},
        {"anyone@beta.example", GW_CORE_OK, B, I_BETA_DOMAIN, true, ""},
        /* The exact row is disabled: the domain row does not take over. */
        {"help@beta.example", GW_CORE_NOT_FOUND, 0, 0, false,
         "the email integration for 'help@beta.example' is disabled"},
        {"x@OFF.example", GW_CORE_NOT_FOUND, 0, 0, false,
         "the email integration for '*@off.example' is disabled"},
        /* Another provider's row routes nothing; nor does a subdomain. */
        {"x@gamma.example", GW_CORE_NOT_FOUND, 0, 0, false,
         "no email integration for 'x@gamma.example' or '*@gamma.example'"},
        {"x@sub.alpha.example", GW_CORE_NOT_FOUND, 0, 0, false,
         "no email integration for 'x@sub.alpha.example' or '*@sub.alpha.example'"},
        {"not an address", GW_CORE_INVALID, 0, 0, false, "the recipient is not an e-mail address"},
        {"", GW_CORE_INVALID, 0, 0, false, "the recipient is not an e-mail address"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_mail_route r;
        char why[256];
        enum gw_core_rc rc = gw_mail_route(f->gdb, cases[i].address, &r, why, sizeof(why));
        if (rc != cases[i].rc || r.company_id != cases[i].company ||
            r.integration_id != cases[i].integration || r.wildcard != cases[i].wildcard ||
            strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu (%s): rc %d company %llu integration %llu wildcard %d why '%s'", i,
                     cases[i].address, (int)rc, (unsigned long long)r.company_id,
                     (unsigned long long)r.integration_id, r.wildcard, why);
    }
}

static void test_route_thread(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_config m = {
        .enabled = true,
        .thread_key = {.data = KEY_HEX, .len = strlen(KEY_HEX)},
        .domain = "mail.example.com",
    };
    struct gw_mail_threading t;
    char err[256];
    assert_int_equal(gw_mail_threading_init(&t, &m, err, sizeof(err)), 0);
    char text[GW_MAIL_THREAD_ID_SIZE];
    struct gw_mail_thread_id id;
    uint64_t company = 99;

    /* A reply address of beta's CT-000005 finds beta, and only beta. */
    assert_int_equal(gw_mail_thread_reply_address(&t, B, "CT-000005", text, sizeof(text)), 0);
    assert_true(gw_mail_thread_parse(text, strlen(text), &id));
    assert_int_equal(gw_mail_route_thread(f->gdb, &t, &id, &company), GW_CORE_OK);
    assert_int_equal(company, B);
    assert_int_equal(gw_mail_thread_message_id(&t, A, "CT-000005", "x1", text, sizeof(text)), 0);
    assert_true(gw_mail_thread_parse(text, strlen(text), &id));
    assert_int_equal(gw_mail_route_thread(f->gdb, &t, &id, &company), GW_CORE_OK);
    assert_int_equal(company, A);

    /* An altered MAC finds nobody. */
    id.mac[0] ^= 1;
    assert_int_equal(gw_mail_route_thread(f->gdb, &t, &id, &company), GW_CORE_NOT_FOUND);
    assert_int_equal(company, 0);

    /* Gamma receives no mail (no active email integration): its ids route nowhere, and
     * neither do beta's once its integrations are off. */
    assert_int_equal(gw_mail_thread_reply_address(&t, C, "CT-000005", text, sizeof(text)), 0);
    assert_true(gw_mail_thread_parse(text, strlen(text), &id));
    assert_int_equal(gw_mail_route_thread(f->gdb, &t, &id, &company), GW_CORE_NOT_FOUND);
    ts_db_exec_ok(&f->db, "UPDATE integrations SET status = 'disabled' WHERE company_id = 2");
    assert_int_equal(gw_mail_thread_reply_address(&t, B, "CT-000005", text, sizeof(text)), 0);
    assert_true(gw_mail_thread_parse(text, strlen(text), &id));
    assert_int_equal(gw_mail_route_thread(f->gdb, &t, &id, &company), GW_CORE_NOT_FOUND);
    gw_mail_threading_wipe(&t);
}

/* ---- jobs, Message-IDs, participants ---------------------------------------------------- */

static void test_open_job_and_find_it(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job j1 = open_job(f, A, "  Boiler\r\n broken  ", A_CARL);
    assert_string_equal(j1.ref, "CT-000001");
    assert_string_equal(j1.status, "new");
    assert_int_equal(j1.contact_id, A_CARL);
    assert_int_equal(j1.client_id, A_CLIENT); /* the contact's client */
    struct gw_mail_job j2 = open_job(f, A, NULL, 0);
    assert_string_equal(j2.ref, "CT-000002");
    assert_int_equal(j2.client_id, 0);
    struct gw_mail_job jb = open_job(f, B, "\xE2\x80\xAE", B_DORA);
    assert_string_equal(jb.ref, "CT-000001");

    char want[512];
    snprintf(want, sizeof(want),
             "%llu|1|CT-000001|Boiler broken|new|email|31|51\n"
             "%llu|1|CT-000002|(no subject)|new|email|-|-\n"
             "%llu|2|CT-000001|(no subject)|new|email|-|61\n",
             (unsigned long long)j1.id, (unsigned long long)j2.id, (unsigned long long)jb.id);
    expect_dump(f, want,
                "SELECT id, company_id, ref, title, status, source, IFNULL(client_id, '-'), "
                "IFNULL(contact_id, '-') FROM jobs ORDER BY id");
    expect_dump(f, "created|email\ncreated|email\ncreated|email\n",
                "SELECT kind, source FROM job_events ORDER BY id");

    /* By id and by ref, in this company only. */
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    struct gw_mail_job got;
    assert_core(GW_CORE_OK, gw_mail_job_by_ref(&c, "ct-1", &got), &c);
    assert_int_equal(got.id, j1.id);
    assert_string_equal(got.ref, "CT-000001");
    assert_int_equal(got.client_id, A_CLIENT);
    assert_core(GW_CORE_OK, gw_mail_job_get(&c, j2.id, &got), &c);
    assert_string_equal(got.ref, "CT-000002");
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_get(&c, jb.id, &got), &c);
    assert_int_equal(got.id, 0);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_by_ref(&c, "CT-000003", &got), &c);
    assert_core(GW_CORE_INVALID, gw_mail_job_by_ref(&c, "boiler", &got), &c);

    /* A contact of another company, or a deleted one, opens nothing. */
    struct gw_mail_job_new n = {.subject = "x", .contact_id = B_DORA};
    begin(f);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_open(&c, &n, &got), &c);
    n.contact_id = A_DELETED;
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_open(&c, &n, &got), &c);
    commit(f);
    /* Writes need the source email. */
    struct gw_core_ctx api = {.db = f->gdb, .company_id = A, .source = "api"};
    n.contact_id = 0;
    assert_core(GW_CORE_INVALID, gw_mail_job_open(&api, &n, &got), &api);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM jobs"), 3);
}

static void test_job_by_message_id(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job j1 = open_job(f, A, "one", A_CARL);
    struct gw_mail_job j2 = open_job(f, A, "two", A_CARL);
    struct gw_mail_job jb = open_job(f, B, "beta", B_DORA);
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    struct gw_core_ctx cb = ctx_for(f->gdb, B);
    uint64_t id;
    bool dup;
    begin(f);
    struct gw_mail_comment m = {.body = "hello",
                                .visibility = "public",
                                .author_contact_id = A_CARL,
                                .message_id = "m1@customer.example"};
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, j1.id, &m, &id, &dup), &c);
    m.message_id = "<m2@customer.example>";
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, j2.id, &m, &id, &dup), &c);
    m.author_contact_id = B_DORA;
    m.message_id = "<m1@customer.example>";
    assert_core(GW_CORE_OK, gw_mail_comment_add(&cb, jb.id, &m, &id, &dup), &cb);
    commit(f);
    /* What the core application stores for its own outgoing mail counts too. */
    struct gw_core_ctx app = {.db = f->gdb, .company_id = A, .source = "api"};
    struct gw_comment_new out = {.body = "We are on it",
                                 .visibility = "public",
                                 .author_user_id = A_ANN,
                                 .email_message_id = "<ct.CT-000002.x@mail.example.com>"};
    begin(f);
    assert_core(GW_CORE_OK, gw_job_comment(&app, j2.id, &out, &id), &app);
    commit(f);

    struct gw_mail_job got;
    assert_core(GW_CORE_OK, gw_mail_job_by_message_id(&c, "<m1@customer.example>", &got), &c);
    assert_int_equal(got.id, j1.id);
    assert_core(GW_CORE_OK, gw_mail_job_by_message_id(&c, " m2@customer.example ", &got), &c);
    assert_int_equal(got.id, j2.id);
    assert_string_equal(got.ref, "CT-000002");
    assert_core(GW_CORE_OK, gw_mail_job_by_message_id(&c, "ct.CT-000002.x@mail.example.com", &got),
                &c);
    assert_int_equal(got.id, j2.id);
    /* Each company sees its own. */
    assert_core(GW_CORE_OK, gw_mail_job_by_message_id(&cb, "<m1@customer.example>", &got), &cb);
    assert_int_equal(got.id, jb.id);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_by_message_id(&cb, "<m2@customer.example>", &got),
                &cb);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_by_message_id(&c, "<m3@customer.example>", &got),
                &c);
    assert_core(GW_CORE_INVALID, gw_mail_job_by_message_id(&c, "a b", &got), &c);
    /* The newest comment's job when a message was filed on two. */
    begin(f);
    m.author_contact_id = A_CARL;
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, j2.id, &m, &id, &dup), &c);
    commit(f);
    assert_core(GW_CORE_OK, gw_mail_job_by_message_id(&c, "<m1@customer.example>", &got), &c);
    assert_int_equal(got.id, j2.id);
}

static void test_participants(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job job = open_job(f, A, "job", A_CARL); /* client A_CLIENT */
    struct gw_mail_job bare = open_job(f, A, "no client", A_NONAME);
    struct gw_mail_job beta = open_job(f, B, "beta", B_DORA);
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    static const struct {
        const char *address;
        enum gw_mail_party party;
        uint64_t contact, client, user;
        const char *role;
    } cases[] = {
        {"carl@customer.example", GW_MAIL_CONTACT, A_CARL, 0, 0, ""},
        {" CARL@Customer.Example ", GW_MAIL_CONTACT, A_CARL, 0, 0, ""},
        {"accounts@alphaclient.example", GW_MAIL_CLIENT, 0, A_CLIENT, 0, ""},
        {"cliff@alphaclient.example", GW_MAIL_CLIENT_USER, 0, A_CLIENT, A_CLIFF, "client"},
        {"ann@alpha.example", GW_MAIL_STAFF, 0, 0, A_ANN, "staff"},
        {"bob@alpha.example", GW_MAIL_STAFF, 0, 0, A_BOB, "manager"},
        /* A user of another client, a deleted user, another company's user, a stranger. */
        {"olga@otherclient.example", GW_MAIL_STRANGER, 0, 0, 0, ""},
        {"gone@alpha.example", GW_MAIL_STRANGER, 0, 0, 0, ""},
        {"bea@beta.example", GW_MAIL_STRANGER, 0, 0, 0, ""},
        {"noname@customer.example", GW_MAIL_STRANGER, 0, 0, 0, ""},
        {"mallory@evil.example", GW_MAIL_STRANGER, 0, 0, 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct gw_mail_participant p;
        assert_core(GW_CORE_OK, gw_mail_participant(&c, job.id, cases[i].address, &p), &c);
        if (p.party != cases[i].party || p.contact_id != cases[i].contact ||
            p.client_id != cases[i].client || p.user_id != cases[i].user ||
            strcmp(p.role, cases[i].role) != 0)
            fail_msg("case %zu (%s): party %d contact %llu client %llu user %llu role '%s'", i,
                     cases[i].address, (int)p.party, (unsigned long long)p.contact_id,
                     (unsigned long long)p.client_id, (unsigned long long)p.user_id, p.role);
    }
    struct gw_mail_participant p;
    /* A job without a client: its contact counts, a client user does not. */
    assert_core(GW_CORE_OK, gw_mail_participant(&c, bare.id, "noname@customer.example", &p), &c);
    assert_int_equal(p.party, GW_MAIL_CONTACT);
    assert_core(GW_CORE_OK, gw_mail_participant(&c, bare.id, "cliff@alphaclient.example", &p), &c);
    assert_int_equal(p.party, GW_MAIL_STRANGER);
    /* A deleted contact is nobody's participant any more. */
    ts_db_exec_ok(&f->db, "UPDATE contacts SET deleted_at = NOW() WHERE id = 51");
    assert_core(GW_CORE_OK, gw_mail_participant(&c, job.id, "carl@customer.example", &p), &c);
    assert_int_equal(p.party, GW_MAIL_STRANGER);
    /* Another company's job does not exist here. */
    assert_core(GW_CORE_NOT_FOUND, gw_mail_participant(&c, beta.id, "dora@customer.example", &p),
                &c);
    assert_core(GW_CORE_INVALID, gw_mail_participant(&c, job.id, "not-an-address", &p), &c);
}

/* ---- contacts ------------------------------------------------------------------------- */

static void test_contact_upsert(void **state)
{
    struct fixture *f = *state;
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    struct gw_mail_contact k;
    begin(f);
    /* New: created with the cleaned name. */
    assert_core(GW_CORE_OK, gw_mail_contact_upsert(&c, " Pat@Example.com ", "Pat\r\n  Lee", &k),
                &c);
    assert_true(k.created);
    uint64_t pat = k.id;
    assert_true(pat > 0);
    /* Existing, in another case: the same row, its name kept. */
    assert_core(GW_CORE_OK, gw_mail_contact_upsert(&c, "PAT@EXAMPLE.COM", "Somebody Else", &k), &c);
    assert_false(k.created);
    assert_int_equal(k.id, pat);
    /* The seeded contact with a client reports it; the nameless one gets a name. */
    assert_core(GW_CORE_OK, gw_mail_contact_upsert(&c, "carl@customer.example", NULL, &k), &c);
    assert_int_equal(k.id, A_CARL);
    assert_int_equal(k.client_id, A_CLIENT);
    assert_core(GW_CORE_OK, gw_mail_contact_upsert(&c, "noname@customer.example", "Nora", &k), &c);
    assert_int_equal(k.id, A_NONAME);
    assert_core(GW_CORE_OK, gw_mail_contact_upsert(&c, "noname@customer.example", "Other", &k), &c);
    /* A blank or invisible name is no name. */
    assert_core(GW_CORE_OK, gw_mail_contact_upsert(&c, "blank@example.com", " \xE2\x80\x8B ", &k),
                &c);
    assert_true(k.created);
    uint64_t blank = k.id;
    /* Deleted: not restored, nothing changed, and said so. */
    assert_core(GW_CORE_NOT_FOUND, gw_mail_contact_upsert(&c, "deleted@customer.example", "X", &k),
                &c);
    assert_int_equal(k.id, 0);
    assert_int_equal(k.deleted_id, A_DELETED);
    assert_non_null(strstr(c.err, "deleted"));
    /* Company B has its own contacts. */
    struct gw_core_ctx cb = ctx_for(f->gdb, B);
    assert_core(GW_CORE_OK, gw_mail_contact_upsert(&cb, "pat@example.com", "Pat B", &k), &cb);
    assert_true(k.created);
    uint64_t pat_b = k.id;
    assert_true(pat_b != pat);
    assert_core(GW_CORE_INVALID, gw_mail_contact_upsert(&c, "pat", NULL, &k), &c);
    assert_core(GW_CORE_INVALID, gw_mail_contact_upsert(&c, NULL, NULL, &k), &c);
    commit(f);

    char want[512];
    snprintf(want, sizeof(want),
             "51|1|carl@customer.example|Carl|-\n"
             "52|1|noname@customer.example|Nora|-\n"
             "53|1|deleted@customer.example|Del|deleted\n"
             "%llu|1|Pat@Example.com|Pat Lee|-\n"
             "%llu|1|blank@example.com|NULL|-\n"
             "%llu|2|pat@example.com|Pat B|-\n",
             (unsigned long long)pat, (unsigned long long)blank, (unsigned long long)pat_b);
    expect_dump(f, want,
                "SELECT id, company_id, email, IFNULL(name, 'NULL'), IF(deleted_at IS NULL, '-', "
                "'deleted') FROM contacts WHERE id <> 61 ORDER BY id");
}

/* ---- comments ------------------------------------------------------------------------- */

static void test_comment_once_per_message(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job job = open_job(f, A, "job", A_CARL);
    struct gw_mail_job other = open_job(f, A, "other", A_CARL);
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    struct gw_mail_comment m = {.body = "The boiler is still broken.",
                                .visibility = "public",
                                .author_contact_id = A_CARL,
                                .message_id = "<m1@customer.example>"};
    uint64_t first = 0, again = 0;
    bool dup = true;
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, job.id, &m, &first, &dup), &c);
    assert_false(dup);
    commit(f);
    /* Delivered again (another relay, a replay): the same comment, nothing written. */
    begin(f);
    m.message_id = "  m1@customer.example";
    m.body = "a different rendering of the same message";
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, job.id, &m, &again, &dup), &c);
    commit(f);
    assert_true(dup);
    assert_int_equal(again, first);
    /* On another job it is another comment; a staff reply is internal; a label author. */
    uint64_t second = 0, third = 0, fourth = 0;
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, other.id, &m, &second, &dup), &c);
    assert_false(dup);
    struct gw_mail_comment staff = {.body = "  \r\n ",
                                    .visibility = "internal",
                                    .author_user_id = A_ANN,
                                    .message_id = "<s1@alpha.example>"};
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, job.id, &staff, &third, &dup), &c);
    struct gw_mail_comment label = {.body = "hi",
                                    .visibility = "public",
                                    .author_label = "Stranger\r\n <x@y.example>",
                                    .message_id = "<l1@y.example>"};
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, job.id, &label, &fourth, &dup), &c);
    commit(f);

    char want[1024];
    snprintf(want, sizeof(want),
             "%llu|%llu|-|51|-|The boiler is still broken.|email|public|<m1@customer.example>\n"
             "%llu|%llu|-|51|-|a different rendering of the same message|email|public|"
             "<m1@customer.example>\n"
             "%llu|%llu|11|-|-|(no text)|email|internal|<s1@alpha.example>\n"
             "%llu|%llu|-|-|Stranger <x@y.example>|hi|email|public|<l1@y.example>\n",
             (unsigned long long)first, (unsigned long long)job.id, (unsigned long long)second,
             (unsigned long long)other.id, (unsigned long long)third, (unsigned long long)job.id,
             (unsigned long long)fourth, (unsigned long long)job.id);
    expect_dump(f, want,
                "SELECT id, job_id, IFNULL(author_user_id, '-'), IFNULL(author_contact_id, '-'), "
                "IFNULL(author_label, '-'), body, source, visibility, email_message_id FROM "
                "job_comments ORDER BY id");
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM job_events WHERE kind = 'commented'"),
                     4);

    /* Refusals: no Message-ID, no visibility, another company's job, the source. */
    begin(f);
    struct gw_mail_comment bad = m;
    bad.message_id = NULL;
    assert_core(GW_CORE_INVALID, gw_mail_comment_add(&c, job.id, &bad, &again, &dup), &c);
    bad = m;
    bad.visibility = NULL;
    bad.message_id = "<new@x>";
    assert_core(GW_CORE_INVALID, gw_mail_comment_add(&c, job.id, &bad, &again, &dup), &c);
    struct gw_core_ctx cb = ctx_for(f->gdb, B);
    bad = m;
    bad.author_contact_id = 0;
    bad.author_label = "x";
    assert_core(GW_CORE_NOT_FOUND, gw_mail_comment_add(&cb, job.id, &bad, &again, &dup), &cb);
    struct gw_core_ctx api = {.db = f->gdb, .company_id = A, .source = "api"};
    assert_core(GW_CORE_INVALID, gw_mail_comment_add(&api, job.id, &bad, &again, &dup), &api);
    commit(f);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM job_comments"), 4);
}

struct racer {
    struct fixture *f;
    pthread_barrier_t *start;
    uint64_t job, comment;
    bool duplicate;
    char error[256];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    gw_db_thread_init();
    struct gw_db *db = gw_db_open(&r->f->cfg);
    if (db == NULL || !gw_db_ok(db))
        snprintf(r->error, sizeof(r->error), "connect: %s", db ? gw_db_error(db) : "oom");
    pthread_barrier_wait(r->start);
    struct gw_core_ctx c = ctx_for(db, A);
    struct gw_mail_comment m = {.body = "same message, two relays",
                                .visibility = "public",
                                .author_contact_id = A_CARL,
                                .message_id = "<race@customer.example>"};
    enum gw_core_rc rc = GW_CORE_DB_ERROR;
    bool ok =
        r->error[0] == '\0' && gw_db_begin(db) == 0 &&
        (rc = gw_mail_comment_add(&c, r->job, &m, &r->comment, &r->duplicate)) == GW_CORE_OK &&
        gw_db_commit(db) == 0;
    if (!ok && r->error[0] == '\0')
        snprintf(r->error, sizeof(r->error), "rc %d: %.100s / %.100s", (int)rc, c.err,
                 gw_db_error(db));
    gw_db_close(db);
    gw_db_thread_end();
    return NULL;
}

/* Two workers with the same message at once: the job lock orders them, one comment. */
static void test_same_message_concurrently(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job job = open_job(f, A, "race", A_CARL);
    enum { N = 4 };
    struct racer r[N];
    pthread_t th[N];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, N), 0);
    memset(r, 0, sizeof(r));
    for (int i = 0; i < N; i++) {
        r[i] = (struct racer){.f = f, .start = &start, .job = job.id};
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&start);
    int originals = 0;
    for (int i = 0; i < N; i++) {
        if (r[i].error[0] != '\0')
            fail_msg("racer %d: %s", i, r[i].error);
        originals += !r[i].duplicate;
        assert_int_equal(r[i].comment, r[0].comment);
    }
    assert_int_equal(originals, 1);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM job_comments"), 1);
}

/* ---- reopening and history ------------------------------------------------------------ */

static void test_reopen(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job job = open_job(f, A, "job", A_CARL);
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    struct gw_core_ctx api = {.db = f->gdb, .company_id = A, .source = "api"};
    bool reopened = true;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT CONCAT(status, '/', IFNULL(closed_at, 'NULL')) FROM jobs "
             "WHERE id = %llu",
             (unsigned long long)job.id);

    /* new: nothing to reopen, nothing written. */
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_job_reopen(&c, job.id, &reopened), &c);
    commit(f);
    assert_false(reopened);

    static const char *const closing[] = {"closed", "done"};
    for (size_t i = 0; i < 2; i++) {
        begin(f);
        assert_core(GW_CORE_OK, gw_job_set_status(&api, job.id, closing[i]), &api);
        commit(f);
        assert_int_equal(ts_db_intf(&f->db,
                                    "SELECT closed_at IS NOT NULL FROM jobs WHERE id = %llu",
                                    (unsigned long long)job.id),
                         1);
        begin(f);
        assert_core(GW_CORE_OK, gw_mail_job_reopen(&c, job.id, &reopened), &c);
        commit(f);
        assert_true(reopened);
        char *state_now = ts_db_text(&f->db, sql);
        assert_string_equal(state_now, "open/NULL");
        free(state_now);
    }
    /* open: stays as it is. */
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_job_reopen(&c, job.id, &reopened), &c);
    commit(f);
    assert_false(reopened);
    expect_dump(f,
                "created|email|-|-\n"
                "status_changed|api|new|closed\n"
                "status_changed|email|closed|open\n"
                "status_changed|api|open|done\n"
                "status_changed|email|done|open\n",
                "SELECT kind, source, IFNULL(JSON_VALUE(detail, '$.from'), '-'), "
                "IFNULL(JSON_VALUE(detail, '$.to'), '-') FROM job_events ORDER BY id");

    struct gw_core_ctx cb = ctx_for(f->gdb, B);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_reopen(&cb, job.id, &reopened), &cb);
}

static void test_email_received_event(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job job = open_job(f, A, "job", A_CARL);
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    begin(f);
    struct gw_mail_event human = {.comment_id = 7,
                                  .message_id = "m1@customer.example",
                                  .from = "Carl@Customer.example",
                                  .new_job = true};
    assert_core(GW_CORE_OK, gw_mail_job_event(&c, job.id, &human), &c);
    struct gw_mail_event robot = {.message_id = "not a message id",
                                  .from = "\"quoted\"\x01",
                                  .automated = true,
                                  .automated_reason = "auto-submitted",
                                  .reopened = true,
                                  .duplicate = true};
    assert_core(GW_CORE_OK, gw_mail_job_event(&c, job.id, &robot), &c);
    struct gw_mail_event bad = {.automated = true, .automated_reason = "Auto Submitted"};
    assert_core(GW_CORE_INVALID, gw_mail_job_event(&c, job.id, &bad), &c);
    struct gw_core_ctx cb = ctx_for(f->gdb, B);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_job_event(&cb, job.id, &human), &cb);
    commit(f);
    expect_dump(f,
                "email|{\"comment_id\":7,\"message_id\":\"<m1@customer.example>\",\"from\":"
                "\"Carl@Customer.example\",\"automated\":false,\"automated_reason\":null,"
                "\"new_job\":true,\"reopened\":false,\"duplicate\":false}\n"
                "email|{\"comment_id\":null,\"message_id\":null,\"from\":null,"
                "\"automated\":true,\"automated_reason\":\"auto-submitted\",\"new_job\":"
                "false,\"reopened\":true,\"duplicate\":true}\n",
                "SELECT source, JSON_COMPACT(detail) FROM job_events WHERE kind = "
                "'email_received' ORDER BY id");
}

/* ---- attachments ---------------------------------------------------------------------- */

static uint64_t add_comment(struct fixture *f, uint64_t company, uint64_t job, const char *msgid)
{
    struct gw_core_ctx c = ctx_for(f->gdb, company);
    struct gw_mail_comment m = {.body = "see attached",
                                .visibility = "public",
                                .author_label = "someone",
                                .message_id = msgid};
    uint64_t id = 0;
    bool dup;
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_comment_add(&c, job, &m, &id, &dup), &c);
    commit(f);
    return id;
}

static void test_attachments_stored_once(void **state)
{
    struct fixture *f = *state;
    struct gw_mail_job job = open_job(f, A, "job", A_CARL);
    struct gw_mail_job other = open_job(f, A, "other", A_CARL);
    struct gw_mail_job beta = open_job(f, B, "beta", B_DORA);
    uint64_t c1 = add_comment(f, A, job.id, "<a1@x>");
    uint64_t c2 = add_comment(f, A, other.id, "<a2@x>");
    uint64_t cb = add_comment(f, B, beta.id, "<b1@x>");
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    struct gw_core_ctx ctxb = ctx_for(f->gdb, B);

    /* 3 MiB of a pattern: big enough to be a real file, checked byte for byte below. */
    size_t len = 3u * 1024u * 1024u;
    unsigned char *bytes = malloc(len);
    assert_non_null(bytes);
    for (size_t i = 0; i < len; i++)
        bytes[i] = (unsigned char)(i * 7 + (i >> 11));
    struct gw_mail_file a = {.filename = "..\\..\\scans/Invoice\r\n 2026.pdf",
                             .content_type = "Application/PDF; name=x",
                             .data = bytes,
                             .len = len};
    struct gw_mail_attachment_row row, row2, row3, row4, dup;
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_attachment_add(&c, job.id, c1, &a, &row), &c);
    assert_false(row.duplicate);
    assert_false(row.bytes_existed);
    assert_string_equal(row.filename, "Invoice__ 2026.pdf");
    assert_string_equal(row.content_type, "application/pdf");
    /* The same file on another job's comment: one copy of the bytes. */
    assert_core(GW_CORE_OK, gw_mail_attachment_add(&c, other.id, c2, &a, &row2), &c);
    assert_true(row2.bytes_existed);
    assert_false(row2.duplicate);
    /* The same message applied again: the same row, nothing new. */
    assert_core(GW_CORE_OK, gw_mail_attachment_add(&c, job.id, c1, &a, &dup), &c);
    assert_true(dup.duplicate);
    assert_int_equal(dup.id, row.id);
    /* An inline image with its Content-ID, and a file with no name, no type and no bytes. */
    struct gw_mail_file img = {.filename = NULL,
                               .content_type = "image/png",
                               .data = "\x89PNG",
                               .len = 4,
                               .is_inline = true,
                               .content_id = "<logo@x>"};
    assert_core(GW_CORE_OK, gw_mail_attachment_add(&c, job.id, c1, &img, &row3), &c);
    struct gw_mail_file empty = {.content_type = "bogus", .data = NULL, .len = 0};
    assert_core(GW_CORE_OK, gw_mail_attachment_add(&c, job.id, 0, &empty, &row4), &c);
    /* Another company keeps its own copy. */
    struct gw_mail_attachment_row rb;
    assert_core(GW_CORE_OK, gw_mail_attachment_add(&ctxb, beta.id, cb, &a, &rb), &ctxb);
    assert_false(rb.bytes_existed);
    commit(f);

    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM attachment_blobs"), 4);
    assert_int_equal(
        ts_db_int(&f->db, "SELECT COUNT(*) FROM attachment_blobs WHERE company_id = 1"), 3);
    char hex[GW_SHA256_HEX_SIZE];
    assert_true(gw_sha256_hex(bytes, len, hex));
    char want[2048];
    snprintf(want, sizeof(want), "1|%s|3145728|3145728|%s\n2|%s|3145728|3145728|%s\n", hex, hex,
             hex, hex);
    expect_dump(f, want,
                "SELECT company_id, LOWER(HEX(sha256)), size, LENGTH(bytes), SHA2(bytes, 256) "
                "FROM attachment_blobs WHERE size > 4 ORDER BY company_id");
    char png_hex[GW_SHA256_HEX_SIZE];
    assert_true(gw_sha256_hex("\x89PNG", 4, png_hex));
    snprintf(want, sizeof(want),
             "1|%llu|%llu|Invoice__ 2026.pdf|application/pdf|3145728|attachment|-|"
             "db:attachment_blobs|%s\n"
             "1|%llu|%llu|Invoice__ 2026.pdf|application/pdf|3145728|attachment|-|"
             "db:attachment_blobs|%s\n"
             "1|%llu|%llu|attachment|image/png|4|inline|logo@x|db:attachment_blobs|%s\n"
             "1|%llu|-|attachment|application/octet-stream|0|attachment|-|db:attachment_blobs|"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
             "2|%llu|%llu|Invoice__ 2026.pdf|application/pdf|3145728|attachment|-|"
             "db:attachment_blobs|%s\n",
             (unsigned long long)job.id, (unsigned long long)c1, hex, (unsigned long long)other.id,
             (unsigned long long)c2, hex, (unsigned long long)job.id, (unsigned long long)c1,
             png_hex, (unsigned long long)job.id, (unsigned long long)beta.id,
             (unsigned long long)cb, hex);
    expect_dump(f, want,
                "SELECT company_id, job_id, IFNULL(comment_id, '-'), filename, content_type, "
                "size, disposition, IFNULL(content_id, '-'), storage_uri, LOWER(HEX(sha256)) "
                "FROM attachments ORDER BY id");

    /* Refusals write nothing: a comment of another job, another company's job, too big. */
    begin(f);
    struct gw_mail_attachment_row r;
    assert_core(GW_CORE_NOT_FOUND, gw_mail_attachment_add(&c, job.id, c2, &img, &r), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_attachment_add(&c, beta.id, cb, &img, &r), &c);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_attachment_add(&c, beta.id, 0, &img, &r), &c);
    struct gw_mail_file huge = {
        .filename = "big", .data = bytes, .len = (size_t)GW_MAIL_ATTACHMENT_MAX + 1};
    assert_core(GW_CORE_INVALID, gw_mail_attachment_add(&c, job.id, c1, &huge, &r), &c);
    struct gw_mail_file nodata = {.filename = "x", .data = NULL, .len = 3};
    assert_core(GW_CORE_INVALID, gw_mail_attachment_add(&c, job.id, c1, &nodata, &r), &c);
    commit(f);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM attachments"), 5);
    free(bytes);
}

/* ---- the sender's hourly count -------------------------------------------------------- */

static void test_sender_count(void **state)
{
    struct fixture *f = *state;
    struct gw_core_ctx c = ctx_for(f->gdb, A);
    struct gw_core_ctx cb = ctx_for(f->gdb, B);
    struct gw_mail_rate r;
    const time_t hour = 1767225600; /* 2026-01-01 00:00:00 UTC */
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_sender_count(&c, "loop@bot.example", hour + 1, 2, &r), &c);
    assert_int_equal(r.messages, 1);
    assert_false(r.over);
    assert_core(GW_CORE_OK, gw_mail_sender_count(&c, "LOOP@Bot.Example", hour + 3599, 2, &r), &c);
    assert_int_equal(r.messages, 2);
    assert_false(r.over);
    assert_core(GW_CORE_OK, gw_mail_sender_count(&c, " loop@bot.example ", hour + 60, 2, &r), &c);
    assert_int_equal(r.messages, 3);
    assert_true(r.over);
    /* The next hour, another company, another sender: counted apart. */
    assert_core(GW_CORE_OK, gw_mail_sender_count(&c, "loop@bot.example", hour + 3600, 2, &r), &c);
    assert_int_equal(r.messages, 1);
    assert_core(GW_CORE_OK, gw_mail_sender_count(&cb, "loop@bot.example", hour, 2, &r), &cb);
    assert_int_equal(r.messages, 1);
    assert_core(GW_CORE_OK, gw_mail_sender_count(&c, "human@bot.example", hour, 0, &r), &c);
    assert_int_equal(r.messages, 1);
    assert_false(r.over); /* limit 0: none */
    assert_core(GW_CORE_INVALID, gw_mail_sender_count(&c, "nobody", hour, 2, &r), &c);
    commit(f);
    /* A rolled back message is not counted. */
    begin(f);
    assert_core(GW_CORE_OK, gw_mail_sender_count(&c, "loop@bot.example", hour, 2, &r), &c);
    assert_int_equal(r.messages, 4);
    assert_int_equal(gw_db_rollback(f->gdb), 0);
    expect_dump(f,
                "1|human@bot.example|2026-01-01 00:00:00|1\n"
                "1|loop@bot.example|2026-01-01 00:00:00|3\n"
                "1|loop@bot.example|2026-01-01 01:00:00|1\n"
                "2|loop@bot.example|2026-01-01 00:00:00|1\n",
                "SELECT company_id, sender, hour, messages FROM mail_sender_hours ORDER BY "
                "company_id, sender, hour");
    /* A company that does not exist. */
    struct gw_core_ctx none = ctx_for(f->gdb, 999);
    begin(f);
    assert_core(GW_CORE_NOT_FOUND, gw_mail_sender_count(&none, "x@y.example", hour, 2, &r), &none);
    assert_int_equal(gw_db_rollback(f->gdb), 0);
}

int main(void)
{
    if (gw_db_library_init() != 0) {
        fprintf(stderr, "cannot initialise the MariaDB client library\n");
        return 1;
    }
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_route),
        T(test_route_thread),
        T(test_open_job_and_find_it),
        T(test_job_by_message_id),
        T(test_participants),
        T(test_contact_upsert),
        T(test_comment_once_per_message),
        T(test_same_message_concurrently),
        T(test_reopen),
        T(test_email_received_event),
        T(test_attachments_stored_once),
        T(test_sender_count),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    gw_db_library_end();
    return failed;
}
