/* test_xero.c — provider `xero` end to end: real HTTP into ctgw, real MariaDB, and a stand-in
 * for Xero's Accounting API and identity server on 127.0.0.1 (tests/support/xero_standin.c).
 * Intent to receive, multi-tenant deliveries, every invoice status and the job's billing
 * status, refs in references and line items, stale updates, contacts, token refresh and
 * rotation (a crash between Xero rotating and ctgw storing included), 429, 500,
 * invalid_grant, unknown tenants and repeated deliveries. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "tests/support/xero_standin.h"
#include "verifiers/xero.h"

#define WEBHOOK_KEY   "CT_TEST_XERO_WEBHOOK_KEY"
#define CLIENT_ID     "CTGWTESTCLIENT0001"
#define CLIENT_SECRET "ctgw-test-client-secret-0123456789"
#define SECRETS_KEY   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define TENANT_A      "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
#define TENANT_A_CAPS "C2CC9B6E-9458-4C7D-93CC-F02B81B0594F"
#define TENANT_B      "8f3b6a1e-2d4c-4b7a-9e5f-6c1d0a2b3e4f"
#define TENANT_C      "0a0a0a0a-1b1b-4c4c-8d8d-2e2e2e2e2e2e"
#define INVOICE_1     "a03ffcd2-5d91-4c7e-b483-318584e9e439"
#define INVOICE_2     "4074292c-09b3-456d-84e7-add864c6c39b"
#define BILL          "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2"
#define CONTACT_1     "430fa14a-f945-44d3-9f97-5df5e28441b8"
#define CONTACT_2     "5b2e8c4d-1f3a-4d6b-8e7c-9a0b1c2d3e4f"
#define API           "/api.xro/2.0"

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    struct ts_xero *x;
    long long acme, beta;
    bool migrated;
    struct ts_kept kept; /* freed by the teardown, so a failing check leaks nothing */
};

/* tests/fixtures/xero/NAME, freed by the teardown. */
static char *fixture(struct fixture *f, const char *name)
{
    return ts_keep(&f->kept, test_fixture("xero/%s", name));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "xero");
    f->x = ts_xero_start();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    ts_xero_stop(f->x);
    ts_db_drop(&f->db);
    ts_kept_free(&f->kept);
    free(f);
    return 0;
}

/* `ctgw integration set` for a tenant of a company, with a refresh token (NULL: none). */
static void set_integration(struct fixture *f, const char *company, const char *tenant,
                            const char *refresh_token)
{
    char *rt = NULL;
    if (refresh_token != NULL)
        rt = test_write_text(f->srv.dir, "refresh.token", refresh_token, 0600);
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)ts_ctgw_path();
    argv[n++] = "integration";
    argv[n++] = "set";
    argv[n++] = "-c";
    argv[n++] = f->srv.config;
    argv[n++] = "--company";
    argv[n++] = (char *)company;
    argv[n++] = "--provider";
    argv[n++] = "xero";
    argv[n++] = "--external-id";
    argv[n++] = (char *)tenant;
    if (rt != NULL) {
        argv[n++] = "--refresh-token-file";
        argv[n++] = rt;
    }
    argv[n] = NULL;
    char *out = NULL;
    int rc = ts_run(argv, &out);
    if (rc != 0)
        fail_msg("ctgw integration set exited %d:\n%s", rc, out ? out : "");
    if (refresh_token != NULL && out != NULL && strstr(out, refresh_token) != NULL)
        fail_msg("ctgw integration set printed the token:\n%s", out);
    free(out);
    free(rt);
}

/* Writes the config (xero endpoint pointed at the stand-in), migrates and seeds once:
 * companies acme and beta, each with jobs CT-000001 and CT-000002. */
static void prepare_with(struct fixture *f, const char *workers_yaml, const char *endpoint_extra)
{
    if (f->srv.dir[0] != '\0') {
        ts_server_cleanup(&f->srv);
        memset(&f->srv, 0, sizeof(f->srv));
    }
    char yaml[2048];
    unsigned port = ts_xero_port(f->x);
    snprintf(yaml, sizeof(yaml),
             "secrets_key: file:secrets.key\n"
             "%s"
             "endpoints:\n"
             "  - id: xero\n"
             "    provider: xero\n"
             "    secrets: [ \"file:xero.key\" ]\n"
             "    api_base: http://127.0.0.1:%u" API "\n"
             "    token_url: http://127.0.0.1:%u/connect/token\n"
             "    client_id: " CLIENT_ID "\n"
             "    client_secret: file:client.secret\n"
             "%s",
             workers_yaml ? workers_yaml
                          : "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, "
                            "max: 200ms } }\n",
             port, port, endpoint_extra ? endpoint_extra : "");
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "secrets.key", SECRETS_KEY "\n", 0600));
    free(test_write_text(f->srv.dir, "xero.key", WEBHOOK_KEY, 0600));
    free(test_write_text(f->srv.dir, "client.secret", CLIENT_SECRET, 0600));
    if (!f->migrated) {
        ts_ctgw_ok("migrate", f->srv.config, NULL);
        ts_db_exec_ok(
            &f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme'), ('beta', 'Beta')");
        f->acme = ts_db_intf(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
        f->beta = ts_db_intf(&f->db, "SELECT id FROM companies WHERE slug = 'beta'");
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO jobs (company_id, number, title, source) VALUES "
                 "(%lld, 1, 'Acme boiler', 'api'), (%lld, 2, 'Acme switchboard', 'api'), "
                 "(%lld, 1, 'Beta roof', 'api'), (%lld, 2, 'Beta switchboard', 'api')",
                 f->acme, f->acme, f->beta, f->beta);
        ts_db_exec_ok(&f->db, sql);
        f->migrated = true;
    }
}

static void prepare(struct fixture *f, const char *workers_yaml)
{
    prepare_with(f, workers_yaml, NULL);
}

static void start(struct fixture *f)
{
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
}

/* POSTs a delivery signed with `key` (NULL: no signature header); returns the status and
 * the body in *body (owned by the fixture). */
static long post(struct fixture *f, const char *delivery, const char *key, char **body)
{
    char sig[GW_XERO_SIGNATURE_SIZE], sig_header[80], url[128];
    const char *headers[3] = {"Content-Type: application/json; charset=utf-8", NULL, NULL};
    if (key != NULL) {
        struct gw_secret s = {.data = (char *)key, .len = strlen(key)};
        assert_int_equal(
            gw_xero_sign(&s, (const unsigned char *)delivery, strlen(delivery), sig, sizeof(sig)),
            0);
        snprintf(sig_header, sizeof(sig_header), "x-xero-signature: %s", sig);
        headers[1] = sig_header;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hooks/xero", (unsigned)f->srv.port);
    struct ts_http r;
    if (ts_http("POST", url, headers, delivery, &r) != 0)
        fail_msg("POST %s: %s\n%s", url, r.error, ts_server_log_tail(&f->srv));
    long status = r.status;
    if (body != NULL)
        *body = ts_keep(&f->kept, strdup(r.body ? r.body : ""));
    char cookie[8];
    if (ts_http_header(&r, "Set-Cookie", cookie, sizeof(cookie)) != NULL)
        fail_msg("ctgw answered Xero with a cookie");
    ts_http_free(&r);
    return status;
}

/* A one-event delivery. */
static char *delivery(struct fixture *f, const char *tenant, const char *category,
                      const char *resource, const char *type, const char *date)
{
    char *d = malloc(1024);
    if (d == NULL)
        abort();
    snprintf(d, 1024,
             "{\"events\":[{\"resourceUrl\":\"https://api.xero.com/api.xro/2.0/%s/%s\","
             "\"resourceId\":\"%s\",\"eventDateUtc\":\"%s\",\"eventType\":\"%s\","
             "\"eventCategory\":\"%s\",\"tenantId\":\"%s\",\"tenantType\":\"ORGANISATION\"}],"
             "\"firstEventSequence\":1,\"lastEventSequence\":1,\"entropy\":\"ABCDEFGHIJ\"}",
             strcmp(category, "INVOICE") == 0 ? "Invoices" : "Contacts", resource, resource, date,
             type, category, tenant);
    return ts_keep(&f->kept, d);
}

/* Sends a one-event delivery and waits until its event settles; returns the status. */
static const char *send_event(struct fixture *f, const char *tenant, const char *category,
                              const char *resource, const char *date)
{
    char *body = NULL;
    long st = post(f, delivery(f, tenant, category, resource, "UPDATE", date), WEBHOOK_KEY, &body);
    if (st != 200 || body[0] != '\0')
        fail_msg("delivery answered %ld '%s'\n%s", st, body, ts_server_log_tail(&f->srv));
    if (!ts_db_wait_int(
            &f->db, 1, 20000,
            "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key LIKE '%%:%s' AND status "
            "NOT IN ('pending', 'processing')",
            date))
        fail_msg("event of %s never settled\n%s", date, ts_server_log_tail(&f->srv));
    return ts_keep(&f->kept,
                   ts_db_showf(&f->db,
                               "SELECT status FROM webhook_events WHERE dedupe_key LIKE '%%:%s'",
                               date));
}

/* ------------------------------------------------------------------ tests */

static void test_intent_to_receive(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    start(f);
    char *itr = fixture(f, "itr.json");
    char *body = NULL;
    /* Correctly signed: 200, empty body; nothing stored. */
    assert_int_equal(post(f, itr, WEBHOOK_KEY, &body), 200);
    assert_string_equal(body, "");
    /* The published vector: this body with this key. */
    char sig[GW_XERO_SIGNATURE_SIZE];
    struct gw_secret s = {.data = WEBHOOK_KEY, .len = strlen(WEBHOOK_KEY)};
    gw_xero_sign(&s, (const unsigned char *)itr, strlen(itr), sig, sizeof(sig));
    assert_string_equal(sig, "h0cZNpzH6wDm2Gu3L7/4uDO75SslFyjFQpWIZzoTRAM=");
    /* Incorrectly signed, or not signed: 401, empty body. */
    assert_int_equal(post(f, itr, "some-other-key", &body), 401);
    assert_string_equal(body, "");
    assert_int_equal(post(f, itr, NULL, &body), 401);
    assert_string_equal(body, "");
    assert_int_equal(post(f, "{\"events\":null,\"entropy\":\"X\"}", WEBHOOK_KEY, &body), 200);
    assert_string_equal(body, "");
    /* A signed empty body (Xero computes the HMAC over whatever arrived). */
    assert_int_equal(post(f, "", "some-other-key", &body), 401);
    ts_expect_int(&f->db, &f->srv, 0, "%s", "SELECT COUNT(*) FROM webhook_events");
    assert_true(
        ts_db_wait_int(&f->db, 3, 5000, "%s",
                       "SELECT COUNT(*) FROM audit_log WHERE kind = 'rejected_signature' AND "
                       "endpoint = 'xero'"));
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_multi_tenant_delivery_applied_once(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    ts_xero_oauth_add(f->x, "rt-b0");
    set_integration(f, "acme", TENANT_A, "rt-a0");
    set_integration(f, "beta", TENANT_B, "rt-b0");
    start(f);
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, "invoice_authorised.json"));
    ts_xero_put(f->x, API "/Contacts/" CONTACT_1, fixture(f, "contact_active.json"));
    ts_xero_put(f->x, API "/Invoices/" INVOICE_2, fixture(f, "invoice_line_ref.json"));
    char *multi = fixture(f, "delivery_multi.json");
    char *body = NULL;
    assert_int_equal(post(f, multi, WEBHOOK_KEY, &body), 200);
    assert_string_equal(body, "");
    /* One row per event, each in its tenant's company, keyed by its pointers. */
    ts_expect_int(&f->db, &f->srv, 3, "%s", "SELECT COUNT(*) FROM webhook_events");
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM webhook_events WHERE company_id = %lld AND dedupe_key = "
             "'" TENANT_A ":INVOICE:" INVOICE_1 ":UPDATE:2026-01-12T03:15:39.902'",
             f->acme);
    ts_expect_int(&f->db, &f->srv, 1, "%s", sql);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM webhook_events WHERE company_id = %lld",
                  f->beta);
    if (!ts_db_wait_int(&f->db, 3, 20000, "%s",
                        "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'"))
        fail_msg("not all done:\n%s\n%s",
                 ts_keep(&f->kept,
                         ts_db_dump(&f->db, "SELECT id, status, last_error FROM webhook_events")),
                 ts_server_log_tail(&f->srv));

    /* Acme: invoice 1 linked to its CT-000001 by the Reference, billed; the client from the
     * invoice's contact, completed by the contact's own event. */
    ts_expect_text(&f->db, &f->srv,
                   "INV-0042|AUTHORISED|ACCREC|NZD|460.0000|460.0000|0.0000|2026-01-23|CT-000001",
                   "SELECT CONCAT_WS('|', i.number, i.status, i.type, i.currency, i.total, "
                   "i.amount_due, i.amount_paid, i.due_date, j.ref) FROM invoices i JOIN jobs j ON "
                   "j.company_id = i.company_id AND j.id = i.job_id WHERE i.company_id = %lld",
                   f->acme);
    ts_expect_text(&f->db, &f->srv, "invoiced",
                   "SELECT billing_status FROM jobs WHERE company_id = %lld AND number = 1",
                   f->acme);
    ts_expect_text(&f->db, &f->srv, "Liam Gallagher|liam.gallagher@example.com",
                   "SELECT CONCAT_WS('|', name, email) FROM clients WHERE company_id = %lld AND "
                   "xero_contact_id = '" CONTACT_1 "'",
                   f->acme);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_events WHERE company_id = %lld AND kind = "
                  "'invoice_linked' AND source = 'xero' AND webhook_event_id IS NOT NULL",
                  f->acme);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_events WHERE company_id = %lld AND kind = "
                  "'billing_changed' AND source = 'xero' AND JSON_VALUE(detail, '$.to') = "
                  "'invoiced'",
                  f->acme);
    /* Beta: invoice 2 linked to beta's own CT-000002 through a line item, never acme's. */
    ts_expect_text(
        &f->db, &f->srv, "INV-0043|CT-000002|Beta switchboard|invoiced",
        "SELECT CONCAT_WS('|', i.number, j.ref, j.title, j.billing_status) FROM invoices "
        "i JOIN jobs j ON j.company_id = i.company_id AND j.id = i.job_id WHERE "
        "i.company_id = %lld",
        f->beta);
    ts_expect_int(&f->db, &f->srv, 0,
                  "SELECT COUNT(*) FROM invoices WHERE company_id = %lld AND xero_invoice_id "
                  "= '" INVOICE_2 "'",
                  f->acme);
    ts_expect_text(&f->db, &f->srv, "unbilled",
                   "SELECT billing_status FROM jobs WHERE company_id = %lld AND number = 2",
                   f->acme);

    /* The same delivery again: 200, nothing stored, nothing fetched. */
    int gets = ts_xero_count(f->x, API);
    assert_int_equal(post(f, multi, WEBHOOK_KEY, &body), 200);
    ts_expect_int(&f->db, &f->srv, 3, "%s", "SELECT COUNT(*) FROM webhook_events");
    ts_sleep_ms(300);
    assert_int_equal(ts_xero_count(f->x, API), gets);
    ts_expect_int(&f->db, &f->srv, 2, "%s", "SELECT COUNT(*) FROM invoices");
    /* Each integration refreshed once, and its rotated token is what is stored. */
    assert_int_equal(ts_xero_refreshes(f->x), 2);
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_invoice_statuses_and_stale_updates(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    set_integration(f, "acme", TENANT_A, "rt-a0");
    start(f);
    const struct {
        const char *fixture, *date, *billing, *status;
    } steps[] = {
        {"invoice_authorised.json", "2026-01-12T01:00:00.001", "invoiced", "AUTHORISED"},
        {"invoice_part_paid.json", "2026-01-12T01:00:00.002", "part_paid", "AUTHORISED"},
        {"invoice_paid.json", "2026-01-12T01:00:00.003", "paid", "PAID"},
        /* Older than what is stored: changes nothing. */
        {"invoice_stale.json", "2026-01-12T01:00:00.004", "paid", "PAID"},
        {"invoice_voided.json", "2026-01-12T01:00:00.005", "void", "VOIDED"},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, steps[i].fixture));
        const char *st = send_event(f, TENANT_A, "INVOICE", INVOICE_1, steps[i].date);
        if (strcmp(st, "done") != 0)
            fail_msg("%s: event %s\n%s", steps[i].fixture, st, ts_server_log_tail(&f->srv));
        ts_expect_text(&f->db, &f->srv, steps[i].billing,
                       "SELECT billing_status FROM jobs WHERE company_id = %lld AND number = 1",
                       f->acme);
        ts_expect_text(&f->db, &f->srv, steps[i].status,
                       "SELECT status FROM invoices WHERE company_id = %lld AND xero_invoice_id = "
                       "'" INVOICE_1 "'",
                       f->acme);
    }
    /* The stale one's total (1104.00) never landed. */
    ts_expect_int(&f->db, &f->srv, 0,
                  "SELECT COUNT(*) FROM invoices WHERE company_id = %lld AND total = 1104",
                  f->acme);
    ts_expect_text(&f->db, &f->srv, "false",
                   "SELECT JSON_EXTRACT(result, '$.changed') FROM webhook_events WHERE dedupe_key "
                   "LIKE '%%:2026-01-12T01:00:00.004'");
    /* Four billing changes, each in the job's history with source xero. */
    ts_expect_text(&f->db, &f->srv, "invoiced,part_paid,paid,void",
                   "SELECT GROUP_CONCAT(JSON_VALUE(detail, '$.to') ORDER BY id) FROM job_events "
                   "WHERE company_id = %lld AND kind = 'billing_changed' AND source = 'xero'",
                   f->acme);

    /* A bill naming the same job ref is stored, never linked, and bills nothing. */
    ts_xero_put(f->x, API "/Invoices/" BILL, fixture(f, "bill_accpay.json"));
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", BILL, "2026-01-12T01:00:00.006"),
                        "done");
    ts_expect_text(&f->db, &f->srv, "ACCPAY|NULL",
                   "SELECT CONCAT_WS('|', type, IFNULL(job_id, 'NULL')) FROM invoices WHERE "
                   "xero_invoice_id = '" BILL "'");
    ts_expect_text(&f->db, &f->srv, "void",
                   "SELECT billing_status FROM jobs WHERE company_id = %lld AND number = 1",
                   f->acme);

    /* Contacts: an archived contact soft-deletes its client; an older one is ignored. */
    ts_xero_put(f->x, API "/Contacts/" CONTACT_1, fixture(f, "contact_archived.json"));
    assert_string_equal(send_event(f, TENANT_A, "CONTACT", CONTACT_1, "2026-01-12T01:00:00.007"),
                        "done");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM clients WHERE company_id = %lld AND xero_contact_id = "
                  "'" CONTACT_1 "' AND deleted_at IS NOT NULL",
                  f->acme);
    ts_xero_put(f->x, API "/Contacts/" CONTACT_1, fixture(f, "contact_active.json"));
    assert_string_equal(send_event(f, TENANT_A, "CONTACT", CONTACT_1, "2026-01-12T01:00:00.008"),
                        "done");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM clients WHERE company_id = %lld AND xero_contact_id = "
                  "'" CONTACT_1 "' AND deleted_at IS NOT NULL",
                  f->acme);
    /* One token for the whole run: refreshed once, used for every call. */
    assert_int_equal(ts_xero_refreshes(f->x), 1);
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_unknown_tenant_and_unhandled_events(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    start(f);
    /* A tenant no company connected: stored as ignored with the reason, answered 200. */
    assert_string_equal(send_event(f, TENANT_C, "INVOICE", INVOICE_1, "2026-01-12T02:00:00.001"),
                        "ignored");
    ts_expect_int(
        &f->db, &f->srv, 1, "%s",
        "SELECT COUNT(*) FROM webhook_events WHERE company_id IS NULL AND last_error LIKE "
        "'%" TENANT_C "%'");
    assert_int_equal(ts_xero_count(f->x, "/"), 0);

    /* A large delivery (Xero does not document its batch size): 300 events, one row each;
     * past the 1000 a request may carry, 503 (Xero retries) and nothing stored. */
    for (int round = 0; round < 2; round++) {
        int count = round == 0 ? 300 : 1001;
        size_t cap = (size_t)count * 400 + 256, len = 0;
        char *big = malloc(cap);
        if (big == NULL)
            abort();
        len += (size_t)snprintf(big + len, cap - len, "{\"events\":[");
        for (int i = 0; i < count; i++)
            len += (size_t)snprintf(
                big + len, cap - len,
                "%s{\"resourceId\":\"" INVOICE_1 "\",\"eventDateUtc\":\"2026-01-13T%02d:%02d:%02d."
                "%03d\",\"eventType\":\"UPDATE\",\"eventCategory\":\"INVOICE\",\"tenantId\":"
                "\"" TENANT_C "\",\"tenantType\":\"ORGANISATION\"}",
                i ? "," : "", round, i / 60 % 60, i % 60, i % 1000);
        snprintf(big + len, cap - len,
                 "],\"firstEventSequence\":1,\"lastEventSequence\":%d,"
                 "\"entropy\":\"BIGBATCH\"}",
                 count);
        ts_keep(&f->kept, big);
        char *body = NULL;
        assert_int_equal(post(f, big, WEBHOOK_KEY, &body), round == 0 ? 200 : 503);
        assert_string_equal(body, "");
    }
    ts_expect_int(&f->db, &f->srv, 301, "%s",
                  "SELECT COUNT(*) FROM webhook_events WHERE status = 'ignored'");
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_rate_limits_and_server_errors(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    /* Connected with the GUID in capitals: events name it in lower case. */
    set_integration(f, "acme", TENANT_A_CAPS, "rt-a0");
    start(f);
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, "invoice_authorised.json"));
    /* 429 with Retry-After: the event waits that long and is not counted as an attempt. */
    ts_xero_fail_next(f->x, API "/Invoices/", 429,
                      "Retry-After: 1\r\nX-Rate-Limit-Problem: minute\r\n", 1);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T03:00:00.001"),
                        "done");
    ts_expect_int(
        &f->db, &f->srv, 1, "%s",
        "SELECT attempts FROM webhook_events WHERE dedupe_key LIKE '%:2026-01-12T03:00:00.001'");
    assert_int_equal(ts_xero_count(f->x, API "/Invoices/"), 2);
    /* 500: retried with backoff, counted. */
    ts_xero_fail_next(f->x, API "/Invoices/", 500, NULL, 1);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T03:00:00.002"),
                        "done");
    ts_expect_int(
        &f->db, &f->srv, 2, "%s",
        "SELECT attempts FROM webhook_events WHERE dedupe_key LIKE '%:2026-01-12T03:00:00.002'");
    /* A revoked access token (401): refreshed once, then the call goes through. */
    int refreshes = ts_xero_refreshes(f->x);
    ts_xero_fail_next(f->x, API "/Invoices/", 401, NULL, 1);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T03:00:00.003"),
                        "done");
    assert_int_equal(ts_xero_refreshes(f->x), refreshes + 1);
    /* 500 every time: dead after max_attempts (3), with the last error. */
    ts_xero_fail_next(f->x, API "/Invoices/", 500, NULL, 10);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T03:00:00.004"),
                        "dead");
    ts_expect_text(&f->db, &f->srv, "xero Invoices: HTTP 500",
                   "SELECT last_error FROM webhook_events WHERE dedupe_key LIKE "
                   "'%%:2026-01-12T03:00:00.004'");
    ts_server_stop_clean("ctgw", &f->srv);
}

static void test_invalid_grant_disconnects(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    set_integration(f, "acme", TENANT_A, "rt-a0");
    start(f);
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, "invoice_authorised.json"));
    ts_xero_invalid_grant(f->x, true);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T04:00:00.001"),
                        "failed");
    ts_expect_text(&f->db, &f->srv, "disconnected",
                   "SELECT status FROM integrations WHERE external_id = '" TENANT_A "'");
    const char *err =
        ts_keep(&f->kept, ts_db_showf(&f->db, "%s",
                                      "SELECT last_error FROM webhook_events WHERE dedupe_key LIKE "
                                      "'%:2026-01-12T04:00:00.001'"));
    assert_non_null(strstr(err, "reconnect Xero"));
    /* Later events of the tenant fail at once, without calling Xero. */
    int calls = ts_xero_count(f->x, "/");
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T04:00:00.002"),
                        "failed");
    assert_int_equal(ts_xero_count(f->x, "/"), calls);
    ts_server_stop_clean("ctgw", &f->srv);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    assert_non_null(strstr(log, "ALERT xero integration"));
    assert_null(strstr(log, "rt-a0"));
}

/* Xero rotates the refresh token, and ctgw dies before storing the new one: the stored (old)
 * token still works for Xero's grace period, so nothing is lost. */
static void test_crash_between_refresh_and_store(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    set_integration(f, "acme", TENANT_A, "rt-a0");
    start(f);
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, "invoice_authorised.json"));
    ts_xero_hold_tokens(f->x, true);
    char *body = NULL;
    assert_int_equal(
        post(f, delivery(f, TENANT_A, "INVOICE", INVOICE_1, "UPDATE", "2026-01-12T05:00:00.001"),
             WEBHOOK_KEY, &body),
        200);
    for (int i = 0; i < 400 && ts_xero_refreshes(f->x) == 0; i++)
        ts_sleep_ms(25);
    assert_int_equal(ts_xero_refreshes(f->x), 1); /* rotated at Xero, answer held */
    assert_int_equal(ts_server_stop(&f->srv, SIGKILL), 128 + SIGKILL);
    f->srv.pid = 0;
    ts_xero_hold_tokens(f->x, false);
    /* The stored token is still the old one; its lease would run out in a minute: the test
     * does not wait for that (lease expiry is tested with the ingest). */
    ts_db_exec_ok(&f->db,
                  "UPDATE webhook_events SET status = 'pending', next_attempt_at = NOW(3), "
                  "lease_owner = NULL, lease_expires_at = NULL WHERE status = 'processing'");
    start(f);
    if (!ts_db_wait_int(&f->db, 1, 20000, "%s",
                        "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'"))
        fail_msg("not applied after the restart:\n%s\n%s",
                 ts_keep(&f->kept,
                         ts_db_dump(&f->db, "SELECT id, status, last_error FROM webhook_events")),
                 ts_server_log_tail(&f->srv));
    assert_int_equal(ts_xero_refreshes(f->x), 2);
    ts_expect_text(&f->db, &f->srv, "active",
                   "SELECT status FROM integrations WHERE external_id = '" TENANT_A "'");
    /* And the token now stored is the newest: one more refresh works. */
    ts_db_exec_ok(&f->db,
                  "UPDATE integrations SET credentials_updated_at = credentials_updated_at");
    ts_xero_fail_next(f->x, API "/Invoices/", 401, NULL, 1);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T05:00:00.002"),
                        "done");
    assert_int_equal(ts_xero_refreshes(f->x), 3);
    ts_server_stop_clean("ctgw", &f->srv);
}

/* The per-tenant budget: past calls_per_minute, an event waits for the next minute instead
 * of calling Xero, without counting as an attempt. */
static void test_budget_defers(void **state)
{
    struct fixture *f = *state;
    prepare_with(f, NULL, "    calls_per_minute: 2\n");
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    set_integration(f, "acme", TENANT_A, "rt-a0");
    start(f);
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, "invoice_authorised.json"));
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T06:00:00.001"),
                        "done");
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T06:00:00.002"),
                        "done");
    char *body = NULL;
    assert_int_equal(
        post(f, delivery(f, TENANT_A, "INVOICE", INVOICE_1, "UPDATE", "2026-01-12T06:00:00.003"),
             WEBHOOK_KEY, &body),
        200);
    if (!ts_db_wait_int(&f->db, 1, 20000, "%s",
                        "SELECT COUNT(*) FROM webhook_events WHERE dedupe_key LIKE "
                        "'%:2026-01-12T06:00:00.003' AND status = 'pending' AND attempts = 0 AND "
                        "last_error LIKE 'over the budget of 2 Xero calls a minute%' AND "
                        "next_attempt_at > NOW(3) + INTERVAL 1 SECOND"))
        fail_msg("not deferred:\n%s\n%s",
                 ts_keep(&f->kept, ts_db_dump(&f->db, "SELECT id, status, attempts, last_error, "
                                                      "next_attempt_at FROM webhook_events")),
                 ts_server_log_tail(&f->srv));
    assert_int_equal(ts_xero_count(f->x, API "/Invoices/"), 2);
    char *m = ts_keep(&f->kept, ts_server_metrics(&f->srv));
    assert_non_null(m);
    assert_true(ts_metric(m, "ctgw_worker_deferrals_total") >= 1);
    ts_server_stop_clean("ctgw", &f->srv);
}

/* One Xero consent covering two organisations of one company: both rows hold the same token
 * chain, and a refresh for either must move both along (Xero forgets the old refresh token
 * once its grace ends). */
static void test_one_consent_for_two_tenants(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-shared");
    set_integration(f, "acme", TENANT_A, "rt-shared");
    set_integration(f, "acme", TENANT_B, "rt-shared");
    start(f);
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, "invoice_authorised.json"));
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T07:00:00.001"),
                        "done");
    assert_int_equal(ts_xero_refreshes(f->x), 1);
    /* From now on an old refresh token is refused at once. */
    ts_xero_set_grace_ms(f->x, 0);
    /* Tenant B uses the access token A's refresh stored for it too... */
    assert_string_equal(send_event(f, TENANT_B, "INVOICE", INVOICE_1, "2026-01-12T07:00:00.002"),
                        "done");
    assert_int_equal(ts_xero_refreshes(f->x), 1);
    /* ...and its own refresh, with the chain's newest token, moves A along as well. */
    ts_xero_fail_next(f->x, API "/Invoices/", 401, NULL, 1);
    assert_string_equal(send_event(f, TENANT_B, "INVOICE", INVOICE_1, "2026-01-12T07:00:00.003"),
                        "done");
    assert_int_equal(ts_xero_refreshes(f->x), 2);
    ts_xero_fail_next(f->x, API "/Invoices/", 401, NULL, 1);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T07:00:00.004"),
                        "done");
    assert_int_equal(ts_xero_refreshes(f->x), 3);
    ts_expect_int(
        &f->db, &f->srv, 2, "%s",
        "SELECT COUNT(*) FROM integrations WHERE provider = 'xero' AND status = 'active'");
    ts_server_stop_clean("ctgw", &f->srv);
}

/* A contact merged into another in Xero: its client's jobs, invoices and people move to the
 * survivor's client; client logins stay put (and a warning says so). */
static void test_merged_contact_moves_its_jobs(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    set_integration(f, "acme", TENANT_A, "rt-a0");
    start(f);
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, fixture(f, "invoice_authorised.json"));
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T08:00:00.001"),
                        "done");
    long long old_client =
        ts_db_intf(&f->db, "SELECT id FROM clients WHERE xero_contact_id = '" CONTACT_1 "'");
    char sql[512];
    snprintf(sql, sizeof(sql),
             "UPDATE jobs SET client_id = %lld WHERE company_id = %lld AND number = 1", old_client,
             f->acme);
    ts_db_exec_ok(&f->db, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO users (company_id, email, name, role, client_id) VALUES (%lld, "
             "'liam@example.com', 'Liam', 'client', %lld)",
             f->acme, old_client);
    ts_db_exec_ok(&f->db, sql);
    char *archived =
        ts_keep(&f->kept, test_replace(fixture(f, "contact_archived.json"),
                                       "\"ContactStatus\": \"ARCHIVED\",",
                                       "\"ContactStatus\": \"ARCHIVED\", \"MergedToContactID\": "
                                       "\"" CONTACT_2 "\","));
    assert_non_null(strstr(archived, "MergedToContactID"));
    ts_xero_put(f->x, API "/Contacts/" CONTACT_1, archived);
    assert_string_equal(send_event(f, TENANT_A, "CONTACT", CONTACT_1, "2026-01-12T08:00:00.002"),
                        "done");
    long long new_client =
        ts_db_intf(&f->db, "SELECT id FROM clients WHERE xero_contact_id = '" CONTACT_2 "'");
    assert_true(new_client > 0 && new_client != old_client);
    ts_expect_int(&f->db, &f->srv, new_client,
                  "SELECT client_id FROM jobs WHERE company_id = %lld AND number = 1", f->acme);
    ts_expect_int(&f->db, &f->srv, new_client,
                  "SELECT client_id FROM invoices WHERE xero_invoice_id = '" INVOICE_1 "'");
    ts_expect_int(
        &f->db, &f->srv, 1,
        "SELECT COUNT(*) FROM job_events WHERE kind = 'client_merged' AND source = 'xero' "
        "AND JSON_VALUE(detail, '$.to_client_id') = %lld",
        new_client);
    ts_expect_int(&f->db, &f->srv, old_client, "%s",
                  "SELECT client_id FROM users WHERE email = 'liam@example.com'");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM clients WHERE id = %lld AND deleted_at IS NOT NULL",
                  old_client);
    ts_server_stop_clean("ctgw", &f->srv);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    assert_non_null(strstr(log, "still belong to the merged-away client"));
}

/* Xero allows longer invoice numbers and names than CanTicket's columns: they are cut to fit
 * (at a character boundary), never a reason to lose the invoice. */
static void test_long_texts_are_clipped(void **state)
{
    struct fixture *f = *state;
    prepare(f, NULL);
    ts_xero_oauth(f->x, CLIENT_ID, CLIENT_SECRET, "rt-a0");
    set_integration(f, "acme", TENANT_A, "rt-a0");
    start(f);
    char number[301], name[600];
    memset(number, 'N', 300);
    number[300] = '\0';
    size_t len = 0;
    while (len < 500) { /* 250 times "é": two bytes, one character */
        name[len++] = '\xc3';
        name[len++] = '\xa9';
    }
    name[len] = '\0';
    char *inv =
        ts_keep(&f->kept, test_replace(fixture(f, "invoice_authorised.json"), "INV-0042", number));
    inv = ts_keep(&f->kept, test_replace(inv, "Liam Gallagher", name));
    ts_xero_put(f->x, API "/Invoices/" INVOICE_1, inv);
    assert_string_equal(send_event(f, TENANT_A, "INVOICE", INVOICE_1, "2026-01-12T09:00:00.001"),
                        "done");
    ts_expect_int(&f->db, &f->srv, 64, "%s", "SELECT CHAR_LENGTH(number) FROM invoices");
    ts_expect_int(&f->db, &f->srv, 200, "%s", "SELECT CHAR_LENGTH(name) FROM clients");
    ts_expect_int(&f->db, &f->srv, 400, "%s", "SELECT LENGTH(name) FROM clients");
    ts_server_stop_clean("ctgw", &f->srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intent_to_receive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_tenant_delivery_applied_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invoice_statuses_and_stale_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_tenant_and_unhandled_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limits_and_server_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_grant_disconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_defers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_consent_for_two_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merged_contact_moves_its_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_texts_are_clipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_refresh_and_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
