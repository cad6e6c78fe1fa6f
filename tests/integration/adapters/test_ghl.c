/* test_ghl.c — provider `ghl` end to end: real HTTP into ctgw, real MariaDB, bodies from
 * tests/fixtures/ghl/ signed with the RFC 8032 test key (and the legacy RSA test key), as
 * HighLevel signs its Marketplace webhooks. A won opportunity opens one job however often
 * it arrives; later changes are the job's history; contacts keep the newest copy; notes,
 * tasks and appointments land on the contact's open job; installs connect and disconnect
 * locations; other companies' locations never touch this one; an unstorable delivery is a
 * 429; a bad Ed25519 signature is never rescued by a good RSA one. */
#include <setjmp.h>
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
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"

#define VECTORS     CTGW_SOURCE_ROOT "/tests/vectors/ghl/"
#define LOC_A       "ve9EPM428h8vShlRW1KT"
#define LOC_B       "Bq3k1ZxL9mPo2RtY7uWe"
#define LOC_NEW     "Lc7NewLocation0000001"
#define LOC_NONE    "Zz9UnknownLocation001"
#define GHL_USER    "YlWd2wuCAZQzh2cH1fVZ"
#define OPP         "bCdYcJ9eXsRrB0mXq2Tz"
#define WF_TOKEN    "wf-token-7b1e9c0d4a5f6e2b"
#define WF_PASSWORD "wf-password-0c9d8e7f6a5b"

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    long long acme, beta;
    unsigned next_id;
    struct ts_kept kept;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "ghl");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->srv.pid > 0)
        ts_server_stop(&f->srv, 15);
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    ts_kept_free(&f->kept);
    free(f);
    return 0;
}

/* Config with endpoint `ghl` for acme (EXTRA: more keys of it) and `ghl-manual` for beta,
 * migrated and seeded: acme holds LOC_A, beta LOC_B; acme's user tech@acme.example is
 * HighLevel's GHL_USER through the integration's settings. */
static void start(struct fixture *f, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"
             "endpoints:\n"
             "  - id: ghl\n"
             "    provider: ghl\n"
             "    public_key: file:" VECTORS "rfc8032-test1.pub.pem\n"
             "    legacy_public_key: file:" VECTORS "legacy-rsa4096.pub.pem\n"
             "    company: acme\n"
             "%s"
             "  - id: ghl-manual\n"
             "    provider: ghl\n"
             "    public_key: file:" VECTORS "rfc8032-test1.pub.pem\n"
             "    company: beta\n"
             "  - id: ghl-wf\n"
             "    provider: ghl-workflow\n"
             "    location: " LOC_A "\n"
             "    token: file:wf.token\n"
             "    header: X-Webhook-Secret\n"
             "    title: \"{{customData.title}} for {{full_name}}\"\n"
             "  - id: ghl-wf-basic\n"
             "    provider: ghl-workflow\n"
             "    location: " LOC_A "\n"
             "    username: highlevel\n"
             "    password: file:wf.password\n",
             extra ? extra : "");
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "wf.token", WF_TOKEN, 0600));
    free(test_write_text(f->srv.dir, "wf.password", WF_PASSWORD, 0600));
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    ts_db_exec_ok(&f->db,
                  "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme'), ('beta', 'Beta')");
    f->acme = ts_db_int(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
    f->beta = ts_db_int(&f->db, "SELECT id FROM companies WHERE slug = 'beta'");
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO integrations (company_id, provider, external_id, status, settings) "
             "VALUES (%lld, 'ghl', '" LOC_A "', 'active', '{\"users\": {\"" GHL_USER
             "\": \"tech@acme.example\"}}'), (%lld, 'ghl', '" LOC_B "', 'active', NULL)",
             f->acme, f->beta);
    ts_db_exec_ok(&f->db, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO users (company_id, email, name, role) VALUES (%lld, "
             "'tech@acme.example', 'Tess Tech', 'staff')",
             f->acme);
    ts_db_exec_ok(&f->db, sql);
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
}

/* ------------------------------------------------------------------ signing and sending */

static char *b64(const unsigned char *data, size_t len)
{
    char *out = test_must_alloc(malloc(4 * ((len + 2) / 3) + 1));
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* Base64 of BODY signed with the PEM private key FILE: Ed25519 (pure) or RSA-SHA256. */
static char *sign_with(const char *file, const char *body, bool rsa)
{
    FILE *fp = fopen(file, "r");
    assert_non_null(fp);
    EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(key);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t sig_len = sizeof(sig);
    assert_int_equal(EVP_DigestSignInit(md, NULL, rsa ? EVP_sha256() : NULL, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)body, strlen(body)),
                     1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return b64(sig, sig_len);
}

enum signing { SIGNED, BAD_ED_GOOD_RSA, RSA_ONLY, UNSIGNED };

/* POSTs BODY to /hooks/ENDPOINT; returns the status, the answer's body in *answer (kept) and
 * its Retry-After in retry (when asked). */
static long post_to(struct fixture *f, const char *endpoint, const char *body, enum signing how,
                    char **answer, char *retry, size_t retry_len)
{
    char ed[160] = "", rsa[800] = "", url[160];
    const char *headers[4] = {"Content-Type: application/json", NULL, NULL, NULL};
    size_t n = 1;
    if (how == SIGNED || how == BAD_ED_GOOD_RSA) {
        char *s = sign_with(VECTORS "rfc8032-test1.key.pem", body, false);
        if (how == BAD_ED_GOOD_RSA)
            s[5] = s[5] == 'A' ? 'B' : 'A'; /* one byte of the signature changed */
        snprintf(ed, sizeof(ed), "x-ghl-signature: %s", s);
        free(s);
        headers[n++] = ed;
    }
    if (how == BAD_ED_GOOD_RSA || how == RSA_ONLY) {
        char *s = sign_with(VECTORS "legacy-rsa4096.key.pem", body, true);
        snprintf(rsa, sizeof(rsa), "x-wh-signature: %s", s);
        free(s);
        headers[n++] = rsa;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/%s", (unsigned)f->srv.port, endpoint);
    struct ts_http r;
    if (ts_http("POST", url, headers, body, &r) != 0)
        fail_msg("POST %s: %s\n%s", url, r.error, ts_server_log_tail(&f->srv));
    long status = r.status;
    if (answer != NULL)
        *answer = ts_keep(&f->kept, strdup(r.body ? r.body : ""));
    if (retry != NULL && ts_http_header(&r, "Retry-After", retry, retry_len) == NULL)
        retry[0] = '\0';
    ts_http_free(&r);
    return status;
}

static long post(struct fixture *f, const char *body, enum signing how)
{
    return post_to(f, "ghl", body, how, NULL, NULL, 0);
}

/* The fixture NAME as a fresh delivery: timestamp now (plus AGE_S seconds ago), a new
 * webhookId, and LOCATION when not NULL. *id receives the webhookId. */
static char *delivery_aged(struct fixture *f, const char *name, const char *location, long age_s,
                           char id[64])
{
    char *text = test_fixture("ghl/%s", name);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    char stamp[32];
    time_t t = time(NULL) - age_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    snprintf(id, 64, "wh-%d-%u-%s", (int)getpid(), ++f->next_id, name);
    cJSON_ReplaceItemInObjectCaseSensitive(root, "timestamp", cJSON_CreateString(stamp));
    cJSON_ReplaceItemInObjectCaseSensitive(root, "webhookId", cJSON_CreateString(id));
    if (location != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(root, "locationId", cJSON_CreateString(location));
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return ts_keep(&f->kept, out);
}

static char *delivery(struct fixture *f, const char *name, const char *location, char id[64])
{
    return delivery_aged(f, name, location, 0, id);
}

/* Waits until the event of webhookId ID (on ENDPOINT) settles; returns its status. */
static const char *settled(struct fixture *f, const char *endpoint, const char *id)
{
    if (!ts_db_wait_int(&f->db, 1, 20000,
                        "SELECT COUNT(*) FROM webhook_events WHERE endpoint = '%s' AND dedupe_key "
                        "LIKE '%s%%' AND status NOT IN ('pending', 'processing')",
                        endpoint, id))
        fail_msg("event %s never settled\n%s\n%s", id,
                 ts_keep(&f->kept, ts_db_dump(&f->db, "SELECT id, dedupe_key, status, last_error "
                                                      "FROM webhook_events")),
                 ts_server_log_tail(&f->srv));
    return ts_keep(&f->kept, ts_db_showf(&f->db,
                                         "SELECT status FROM webhook_events WHERE endpoint = '%s' "
                                         "AND dedupe_key LIKE '%s%%' LIMIT 1",
                                         endpoint, id));
}

/* Sends fixture NAME (to LOCATION, NULL: as written) signed, expects 200, waits until it
 * settles and returns its status. */
static const char *send_to(struct fixture *f, const char *endpoint, const char *name,
                           const char *location)
{
    char id[64], *answer = NULL;
    char *body = delivery(f, name, location, id);
    long st = post_to(f, endpoint, body, SIGNED, &answer, NULL, 0);
    if (st != 200)
        fail_msg("%s answered %ld %s\n%s", name, st, answer, ts_server_log_tail(&f->srv));
    return settled(f, endpoint, id);
}

static void send_done(struct fixture *f, const char *name)
{
    const char *st = send_to(f, "ghl", name, NULL);
    if (strcmp(st, "done") != 0)
        fail_msg("%s: %s\n%s\n%s", name, st,
                 ts_keep(&f->kept, ts_db_dump(&f->db, "SELECT id, dedupe_key, status, last_error "
                                                      "FROM webhook_events")),
                 ts_server_log_tail(&f->srv));
}

#define CONTACT_SQL                                                                                \
    "SELECT CONCAT_WS('|', c.name, c.email, c.phone, cl.name) FROM contacts c JOIN clients cl "    \
    "ON cl.id = c.client_id WHERE c.company_id = %lld AND c.ghl_contact_id = "                     \
    "'nmFmQEsNgz6AVpgLVUJ0'"

#define JOBS(f) ts_db_intf(&(f)->db, "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", (f)->acme)

/* ------------------------------------------------------------------ tests */

static void test_won_opportunity_opens_one_job(void **state)
{
    struct fixture *f = *state;
    start(f, NULL);
    send_done(f, "contact_create.json");
    /* Open: no job yet (job_on defaults to won). */
    send_done(f, "opportunity_create.json");
    assert_int_equal(JOBS(f), 0);
    /* Won: one job, from the CRM, for the contact and its client, assigned through the
     * integration's user map. */
    char id[64];
    char *won = delivery(f, "opportunity_won.json", NULL, id);
    assert_int_equal(post(f, won, SIGNED), 200);
    assert_string_equal(settled(f, "ghl", id), "done");
    ts_expect_text(&f->db, &f->srv,
                   "CT-000001|Replace combi boiler - Doe|crm|Jane Doe|Doe Plumbing LLC|Tess Tech",
                   "SELECT CONCAT_WS('|', j.ref, j.title, j.source, c.name, cl.name, u.name) FROM "
                   "jobs j JOIN contacts c ON c.id = j.contact_id JOIN clients cl ON cl.id = "
                   "j.client_id JOIN users u ON u.id = j.assignee_user_id WHERE j.company_id = "
                   "%lld",
                   f->acme);
    /* The same delivery again (a replay): answered, not stored again. */
    assert_int_equal(post(f, won, SIGNED), 200);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key = '%s'",
                  id);
    /* Re-delivered under a new webhookId (HighLevel sends status and generic updates): the
     * opportunity already has its job. */
    send_done(f, "opportunity_won.json");
    assert_int_equal(JOBS(f), 1);
    ts_expect_int(&f->db, &f->srv, 1, "%s",
                  "SELECT COUNT(*) FROM job_links WHERE kind = 'ghl_opportunity' AND external_id "
                  "= '" OPP "'");
    /* Stage and value change: the job's history says so. */
    send_done(f, "opportunity_stage.json");
    ts_expect_text(&f->db, &f->srv,
                   "e93ba61a-53b3-45e7-985a-c7732dbcdb69>7915dedc-8f18-44d5-8bc3-77c04e994a10",
                   "SELECT CONCAT(JSON_VALUE(detail, '$.from'), '>', JSON_VALUE(detail, '$.to')) "
                   "FROM job_events WHERE company_id = %lld AND kind = 'crm_stage' AND source = "
                   "'crm'",
                   f->acme);
    ts_expect_text(&f->db, &f->srv, "1850.00>2100.00",
                   "SELECT CONCAT(JSON_VALUE(detail, '$.from'), '>', JSON_VALUE(detail, '$.to')) "
                   "FROM job_events WHERE company_id = %lld AND kind = 'crm_value'",
                   f->acme);
    /* Reassigned in HighLevel to a user with no CanTicket user: the history says so, the
     * job keeps its assignee. */
    char reassigned_id[64];
    char *reassigned = delivery(f, "opportunity_stage.json", NULL, reassigned_id);
    reassigned = ts_keep(&f->kept, test_replace(reassigned, "\"assignedTo\":\"" GHL_USER "\"",
                                                "\"assignedTo\":\"Zq1UnmappedGhlUser01\""));
    assert_int_equal(post(f, reassigned, SIGNED), 200);
    assert_string_equal(settled(f, "ghl", reassigned_id), "done");
    ts_expect_text(&f->db, &f->srv, GHL_USER ">Zq1UnmappedGhlUser01|Tess Tech",
                   "SELECT CONCAT(JSON_VALUE(e.detail, '$.from'), '>', JSON_VALUE(e.detail, "
                   "'$.to'), '|', u.name) FROM job_events e JOIN jobs j ON j.id = e.job_id JOIN "
                   "users u ON u.id = j.assignee_user_id WHERE e.company_id = %lld AND e.kind = "
                   "'crm_assignee'",
                   f->acme);
    /* Lost after the job exists: a status event and an internal note; the job stays. */
    send_done(f, "opportunity_lost.json");
    ts_expect_text(&f->db, &f->srv, "won>lost",
                   "SELECT CONCAT(JSON_VALUE(detail, '$.from'), '>', JSON_VALUE(detail, '$.to')) "
                   "FROM job_events WHERE company_id = %lld AND kind = 'crm_status'",
                   f->acme);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE company_id = %lld AND visibility = "
                  "'internal' AND body LIKE '%%marked lost%%'",
                  f->acme);
    assert_int_equal(JOBS(f), 1);
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_job_stages_open_a_job(void **state)
{
    struct fixture *f = *state;
    start(f, "    job_on: [ won ]\n"
             "    job_stages: [ e93ba61a-53b3-45e7-985a-c7732dbcdb69 ]\n");
    send_done(f, "opportunity_create.json"); /* open, but in a stage that opens a job */
    assert_int_equal(JOBS(f), 1);
    send_done(f, "opportunity_won.json"); /* now won: the same job, a status event */
    assert_int_equal(JOBS(f), 1);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_events WHERE company_id = %lld AND kind = "
                  "'crm_status' AND JSON_VALUE(detail, '$.to') = 'won'",
                  f->acme);
    /* The contact the opportunity named exists (bare) until its own event fills it in. */
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM contacts WHERE company_id = %lld AND ghl_contact_id = "
                  "'nmFmQEsNgz6AVpgLVUJ0' AND name IS NULL",
                  f->acme);
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_contacts_keep_the_newest_copy(void **state)
{
    struct fixture *f = *state;
    start(f, NULL);
    send_done(f, "contact_create.json");
    send_done(f, "contact_update.json");
    const char *want = "Jane Doe-Smith|jane.doe@example.com|+15551234999|Doe Plumbing LLC";
    ts_expect_text(&f->db, &f->srv, want, CONTACT_SQL, f->acme);
    /* Older dateUpdated than the stored copy: changes nothing. */
    send_done(f, "contact_update_stale.json");
    ts_expect_text(&f->db, &f->srv, want, CONTACT_SQL, f->acme);
    ts_expect_text(&f->db, &f->srv, "false",
                   "SELECT JSON_EXTRACT(result, '$.changed') FROM webhook_events WHERE body LIKE "
                   "'%%old.jane@example.com%%'");
    /* Delete: marked deleted, never removed. */
    send_done(f, "contact_delete.json");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM contacts WHERE company_id = %lld AND ghl_contact_id = "
                  "'nmFmQEsNgz6AVpgLVUJ0' AND deleted_at IS NOT NULL",
                  f->acme);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM clients WHERE company_id = %lld",
                  f->acme);
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_notes_tasks_and_appointments(void **state)
{
    struct fixture *f = *state;
    start(f, NULL);
    send_done(f, "contact_create.json");
    /* No open job yet: the note is kept on the contact. */
    send_done(f, "note_create.json");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM contact_notes WHERE company_id = %lld AND body LIKE "
                  "'%%gate code 4417%%'",
                  f->acme);
    send_done(f, "opportunity_won.json");
    long long job = ts_db_intf(&f->db, "SELECT id FROM jobs WHERE company_id = %lld", f->acme);
    /* With the job open: notes and tasks are its internal comments. */
    send_done(f, "note_create.json");
    send_done(f, "task_create.json");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE job_id = %lld AND visibility = "
                  "'internal' AND body LIKE '%%gate code 4417%%'",
                  job);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE job_id = %lld AND body LIKE '%%Order "
                  "flue kit (due 2026-01-08 17:00:00 UTC)%%'",
                  job);
    /* An appointment sets the due time (09:00 at -06:00 is 15:00 UTC), a move moves it. */
    send_done(f, "appointment_create.json");
    ts_expect_text(&f->db, &f->srv, "2026-01-12 15:00:00",
                   "SELECT DATE_FORMAT(due_at, '%%Y-%%m-%%d %%H:%%i:%%s') FROM jobs WHERE id = "
                   "%lld",
                   job);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE job_id = %lld AND body LIKE "
                  "'%%Where: 3535 1st St N%%'",
                  job);
    send_done(f, "appointment_moved.json");
    ts_expect_text(&f->db, &f->srv, "2026-01-14 14:30:00",
                   "SELECT DATE_FORMAT(due_at, '%%Y-%%m-%%d %%H:%%i:%%s') FROM jobs WHERE id = "
                   "%lld",
                   job);
    ts_expect_int(&f->db, &f->srv, 2,
                  "SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND kind = 'due_changed'",
                  job);
    send_done(f, "appointment_cancelled.json");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE job_id = %lld AND body LIKE "
                  "'Appointment cancelled%%'",
                  job);
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_install_and_uninstall(void **state)
{
    struct fixture *f = *state;
    start(f, "    install: auto\n");
    const char *row = "SELECT CONCAT_WS('|', company_id, status) FROM integrations WHERE "
                      "provider = 'ghl' AND external_id = '" LOC_NEW "'";
    char want[64];
    /* install: auto — the new location is connected to the endpoint's company. */
    send_done(f, "install.json");
    snprintf(want, sizeof(want), "%lld|active", f->acme);
    ts_expect_text(&f->db, &f->srv, want, "%s", row);
    /* Its events now belong to acme. */
    send_to(f, "ghl", "contact_create.json", LOC_NEW);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM contacts WHERE company_id = %lld AND ghl_contact_id = "
                  "'nmFmQEsNgz6AVpgLVUJ0'",
                  f->acme);
    send_done(f, "uninstall.json");
    snprintf(want, sizeof(want), "%lld|disconnected", f->acme);
    ts_expect_text(&f->db, &f->srv, want, "%s", row);
    /* Installed again: re-activated, still acme's. */
    send_done(f, "install.json");
    snprintf(want, sizeof(want), "%lld|active", f->acme);
    ts_expect_text(&f->db, &f->srv, want, "%s", row);
    /* A bulk install (locationIds[]): one event, and one connection, per location. */
    char id[64];
    char *bulk = delivery(f, "install.json", NULL, id);
    bulk = ts_keep(&f->kept, test_replace(bulk, "\"locationId\":\"" LOC_NEW "\"",
                                          "\"locationIds\":[\"Lc9BulkLocation000001\","
                                          "\"Lc9BulkLocation000002\"]"));
    assert_int_equal(post(f, bulk, SIGNED), 200);
    if (!ts_db_wait_int(&f->db, 2, 20000,
                        "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key LIKE '%s/%%' AND "
                        "status = 'done'",
                        id))
        fail_msg("bulk install not applied\n%s", ts_server_log_tail(&f->srv));
    ts_expect_int(&f->db, &f->srv, 2,
                  "SELECT COUNT(*) FROM integrations WHERE company_id = %lld AND external_id "
                  "LIKE 'Lc9BulkLocation%%' AND status = 'active'",
                  f->acme);
    /* install: manual (the default): stored, ignored, logged; nothing connected. */
    const char *st = send_to(f, "ghl-manual", "install.json", "Lc8ManualLocation0001");
    assert_string_equal(st, "ignored");
    ts_expect_int(&f->db, &f->srv, 0, "%s",
                  "SELECT COUNT(*) FROM integrations WHERE external_id = 'Lc8ManualLocation0001'");
    /* An install through beta's endpoint never takes acme's location. */
    assert_string_equal(send_to(f, "ghl-manual", "install.json", LOC_A), "failed");
    snprintf(want, sizeof(want), "%lld|active", f->acme);
    ts_expect_text(&f->db, &f->srv, want, "%s",
                   "SELECT CONCAT_WS('|', company_id, status) FROM integrations WHERE external_id "
                   "= '" LOC_A "'");
    ts_server_stop_clean("ctgw", &f->srv);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    assert_non_null(strstr(log, "install: manual"));
}

static void test_locations_stay_in_their_company(void **state)
{
    struct fixture *f = *state;
    start(f, NULL);
    /* Beta's location, even through acme's endpoint: beta's contact and job, never acme's. */
    send_to(f, "ghl", "contact_create.json", LOC_B);
    send_to(f, "ghl", "opportunity_won.json", LOC_B);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", f->beta);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM contacts WHERE company_id = %lld",
                  f->beta);
    assert_int_equal(JOBS(f), 0);
    ts_expect_int(&f->db, &f->srv, 0, "SELECT COUNT(*) FROM contacts WHERE company_id = %lld",
                  f->acme);
    /* Unknown location: stored ignored, applied nowhere. */
    assert_string_equal(send_to(f, "ghl", "opportunity_won.json", LOC_NONE), "ignored");
    ts_expect_int(&f->db, &f->srv, 1, "%s", "SELECT COUNT(*) FROM jobs");
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_signatures_and_replays(void **state)
{
    struct fixture *f = *state;
    start(f, NULL);
    char id[64], *answer = NULL;
    /* A bad Ed25519 signature is final, whatever the legacy RSA header says. */
    char *body = delivery(f, "contact_create.json", NULL, id);
    assert_int_equal(post_to(f, "ghl", body, BAD_ED_GOOD_RSA, &answer, NULL, 0), 401);
    assert_non_null(strstr(answer, "{\"error\":\"invalid_signature\"}"));
    assert_int_equal(post(f, body, UNSIGNED), 401);
    ts_expect_int(&f->db, &f->srv, 0, "%s", "SELECT COUNT(*) FROM webhook_events");
    /* Without x-ghl-signature, the legacy RSA signature is checked (and good). */
    assert_int_equal(post(f, body, RSA_ONLY), 200);
    assert_string_equal(settled(f, "ghl", id), "done");
    /* A body timestamp older than the tolerance (5 min): refused, nothing stored. */
    char old_id[64];
    char *old = delivery_aged(f, "contact_update.json", NULL, 400, old_id);
    assert_int_equal(post_to(f, "ghl", old, SIGNED, &answer, NULL, 0), 401);
    assert_non_null(strstr(answer, "{\"error\":\"timestamp_outside_tolerance\"}"));
    ts_expect_int(&f->db, &f->srv, 1, "%s", "SELECT COUNT(*) FROM webhook_events");
    /* Two bad signatures and the stale timestamp, each in the audit log. */
    if (!ts_db_wait_int(&f->db, 3, 5000, "%s",
                        "SELECT COUNT(*) FROM audit_log WHERE endpoint = 'ghl' AND kind IN "
                        "('rejected_signature', 'refused')"))
        fail_msg("%s", ts_keep(&f->kept, ts_db_dump(&f->db, "SELECT kind, reason FROM audit_log")));
    ts_server_stop_clean("ctgw", &f->srv);
}

/* The inbox cannot take the event (its table gone for a moment): 429 with Retry-After, the
 * one answer HighLevel retries; stored once it can be. */
static void test_unstorable_is_429(void **state)
{
    struct fixture *f = *state;
    start(f, NULL);
    char id[64], retry[16], *answer = NULL;
    char *body = delivery(f, "contact_create.json", NULL, id);
    ts_db_exec_ok(&f->db, "RENAME TABLE webhook_events TO webhook_events_away");
    long st = post_to(f, "ghl", body, SIGNED, &answer, retry, sizeof(retry));
    ts_db_exec_ok(&f->db, "RENAME TABLE webhook_events_away TO webhook_events");
    if (st != 429)
        fail_msg("answered %ld %s\n%s", st, answer, ts_server_log_tail(&f->srv));
    assert_true(atoi(retry) > 0);
    assert_int_equal(post(f, body, SIGNED), 200);
    assert_string_equal(settled(f, "ghl", id), "done");
    ts_server_stop_clean("ctgw", &f->srv);
}

/* POSTs BODY to a workflow endpoint with one extra header; returns the status. */
static long post_workflow(struct fixture *f, const char *endpoint, const char *body,
                          const char *header)
{
    char url[160];
    const char *headers[3] = {"Content-Type: application/json", header, NULL};
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/%s", (unsigned)f->srv.port, endpoint);
    struct ts_http r;
    if (ts_http("POST", url, headers, body, &r) != 0)
        fail_msg("POST %s: %s", url, r.error);
    long status = r.status;
    ts_http_free(&r);
    return status;
}

static void test_workflow_webhooks(void **state)
{
    struct fixture *f = *state;
    start(f, NULL);
    char *body = ts_keep(&f->kept, test_fixture("ghl/workflow.json"));
    /* Token in the action's header: a new job, titled by the endpoint's template. */
    assert_int_equal(post_workflow(f, "ghl-wf", body, "X-Webhook-Secret: " WF_TOKEN), 200);
    assert_true(ts_db_wait_int(&f->db, 1, 20000, "%s",
                               "SELECT COUNT(*) FROM webhook_events WHERE endpoint = 'ghl-wf' AND "
                               "status = 'done'"));
    ts_expect_text(&f->db, &f->srv,
                   "Annual boiler service for Jane Doe|crm|jane@example.com|Doe Plumbing LLC",
                   "SELECT CONCAT_WS('|', j.title, j.source, c.email, cl.name) FROM jobs j JOIN "
                   "contacts c ON c.id = j.contact_id JOIN clients cl ON cl.id = j.client_id "
                   "WHERE j.company_id = %lld",
                   f->acme);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM jobs WHERE company_id = %lld AND description LIKE "
                  "'%%visit_window: mornings%%'",
                  f->acme);
    /* A wrong token, or none: 401. */
    assert_int_equal(post_workflow(f, "ghl-wf", body, "X-Webhook-Secret: wf-token-wrong-000000"),
                     401);
    assert_int_equal(post_workflow(f, "ghl-wf", body, NULL), 401);
    /* The right token with another location in the body: 401, nothing stored. */
    char *other =
        ts_keep(&f->kept, test_replace(body, "\"id\":\"" LOC_A "\"", "\"id\":\"" LOC_B "\""));
    assert_int_equal(post_workflow(f, "ghl-wf", other, "X-Webhook-Secret: " WF_TOKEN), 401);
    ts_expect_int(&f->db, &f->srv, 1, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE endpoint = 'ghl-wf'");
    /* HTTP Basic on the other endpoint. */
    char basic[128], *cred = b64((const unsigned char *)"highlevel:" WF_PASSWORD,
                                 strlen("highlevel:" WF_PASSWORD));
    snprintf(basic, sizeof(basic), "Authorization: Basic %s", cred);
    free(cred);
    assert_int_equal(post_workflow(f, "ghl-wf-basic", body, basic), 200);
    assert_int_equal(post_workflow(f, "ghl-wf-basic", body, "Authorization: Basic Zm9vOmJhcg=="),
                     401);
    assert_true(ts_db_wait_int(&f->db, 2, 20000,
                               "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", f->acme));
    /* Once the location is disconnected, its workflow posts are stored and ignored. */
    ts_db_exec_ok(&f->db, "UPDATE integrations SET status = 'disconnected' WHERE external_id = "
                          "'" LOC_A "'");
    char *later = ts_keep(&f->kept, test_replace(body, "Annual boiler service", "Later visit"));
    assert_int_equal(post_workflow(f, "ghl-wf", later, "X-Webhook-Secret: " WF_TOKEN), 200);
    assert_true(ts_db_wait_int(&f->db, 1, 20000, "%s",
                               "SELECT COUNT(*) FROM webhook_events WHERE endpoint = 'ghl-wf' AND "
                               "status = 'ignored' AND last_error LIKE '%disconnected%'"));
    ts_expect_int(&f->db, &f->srv, 2, "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", f->acme);
    ts_expect_int(&f->db, &f->srv, 0, "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", f->beta);
    ts_server_stop_clean("ctgw", &f->srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_won_opportunity_opens_one_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_stages_open_a_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contacts_keep_the_newest_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notes_tasks_and_appointments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_and_uninstall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locations_stay_in_their_company, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signatures_and_replays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unstorable_is_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workflow_webhooks, setup, teardown),
    };
    return ts_run_group_n("ghl", tests, sizeof(tests) / sizeof(tests[0]));
}
