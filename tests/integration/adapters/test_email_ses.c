/* test_email_ses.c — provider email-ses end to end: SNS messages carrying SES receipts, signed
 * at test time with a key whose certificate a test CA issued, POSTed to a real ctgw (real
 * MariaDB, the workers applying them). An HTTPS stand-in on 127.0.0.1 serves the signing
 * certificate and the SubscribeURL. Shows: a Notification gives the same job and comment as
 * the same message through email-mime, with the SES verdicts kept; a redelivery is one event;
 * forged messages are 401 with nothing stored; SubscriptionConfirmation fetched from a host of
 * cert_host_pattern and refused from another; UnsubscribeConfirmation stored, not acted on;
 * virus → ignored; S3 action → failed; `ctgw sign` for sns; the database down → 503 and the
 * retried request stored once. Stops the shared MariaDB for the last, so meson runs it alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <mysql.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/https_standin.h"
#include "tests/support/pki.h"
#include "tests/support/proc.h"
#include "verifiers/base64.h"
#include "verifiers/sns_sign.h"

#define KEY_HEX  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define TOKEN    "relay-token-0123456789abcdef"
#define TOPIC    "arn:aws:sns:eu-west-1:123456789012:ct-inbound"
#define SUPPORT  "support@acme.example"
#define WAIT_MS  20000
#define RCPT_ONE "\"" SUPPORT "\""

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    struct ts_https https;
    long long acme, beta;
    EVP_PKEY *ca_key, *tls_key, *sign_key, *rogue_key;
    X509 *ca, *tls_cert, *sign_cert;
    char *dir, *ca_file;
    char cert_url[128];
    unsigned seq; /* makes MessageIds unique within a test */
    bool db_stopped;
    struct ts_kept kept;
};

/* ---- setup ---------------------------------------------------------------------------- */

static void make_pki(struct fixture *f)
{
    f->ca_key = pki_key("EC", 0);
    f->ca = pki_cert(f->ca_key, "ctgw test CA", NULL, NULL, -3600, 86400, true, NULL);
    f->tls_key = pki_key("EC", 0);
    f->tls_cert =
        pki_cert(f->tls_key, "127.0.0.1", f->ca, f->ca_key, -3600, 86400, false, "IP:127.0.0.1");
    f->sign_key = pki_key("RSA", 2048);
    f->sign_cert =
        pki_cert(f->sign_key, "sns.amazonaws.com", f->ca, f->ca_key, -3600, 86400, false, NULL);
    f->rogue_key = pki_key("RSA", 2048);
    size_t len = 0;
    char *pem = pki_certs_pem(&f->ca, 1, &len);
    f->ca_file = test_write(f->dir, "ca.pem", pem, len, 0600);
    free(pem);
}

/* The stand-in: the signing certificate, and the SubscribeURL's answer at "/". */
static void start_https(struct fixture *f)
{
    ts_https_listen(&f->https, f->tls_cert, f->tls_key);
    size_t len = 0;
    char *pem = pki_certs_pem(&f->sign_cert, 1, &len);
    ts_https_route(&f->https, "/SimpleNotificationService-test.pem", 200, pem, len);
    free(pem);
    char *xml = test_fixture("email-ses/subscribe-answer.xml");
    ts_https_route(&f->https, "/", 200, xml, strlen(xml));
    free(xml);
    ts_https_start(&f->https);
    snprintf(f->cert_url, sizeof f->cert_url,
             "https://127.0.0.1:%u/SimpleNotificationService-test.pem", (unsigned)f->https.port);
}

static void seed(struct fixture *f)
{
    ts_db_exec_ok(&f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme'), "
                          "('beta', 'Beta')");
    f->acme = ts_db_int(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
    f->beta = ts_db_int(&f->db, "SELECT id FROM companies WHERE slug = 'beta'");
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO integrations (company_id, provider, external_id, status) VALUES "
             "(%lld, 'email', '" SUPPORT "', 'active')",
             f->acme);
    ts_db_exec_ok(&f->db, sql);
}

static void warm(struct fixture *f);

/* One email-ses endpoint routing by recipient, its certificates from the stand-in; one
 * email-mime endpoint bound to beta, to compare with. */
static void start(struct fixture *f)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"
             "mail:\n"
             "  thread_key: file:mail.key\n"
             "  domain: mail.test.example\n"
             "  loop_marker: ctgw-test-loop\n"
             "endpoints:\n"
             "  - id: ses\n"
             "    provider: email-ses\n"
             "    topics: [\"" TOPIC "\"]\n"
             "    cert_host_pattern: \"127.0.0.1:*\"\n"
             "    ca_file: %s\n"
             "  - id: mail-beta\n"
             "    provider: email-mime\n"
             "    company: beta\n"
             "    token: file:mail.token\n",
             f->ca_file);
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml, .db_timeout = "2s"};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "mail.key", KEY_HEX "\n", 0600));
    free(test_write_text(f->srv.dir, "mail.token", TOKEN, 0600));
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    seed(f);
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
    warm(f);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    /* Only 127.0.0.1 is contacted, by this process and by ctgw: no proxy may intervene. */
    const char *proxies[] = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                             "all_proxy",  "ALL_PROXY",   "no_proxy",   "NO_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    ts_db_create(&f->db, "email_ses");
    f->dir = test_mkdtemp();
    make_pki(f);
    start_https(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = 0;
    if (f->db_stopped) {
        /* Whatever happened in the test, the shared server must be up for everyone else. */
        rc = ts_dev("db-start");
        if (rc == 0) {
            mysql_close(f->db.conn);
            f->db.conn = ts_db_connect(f->db.name);
        }
    }
    if (f->srv.pid > 0)
        ts_server_stop_clean("ctgw", &f->srv);
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    ts_https_stop(&f->https);
    ts_db_drop(&f->db);
    EVP_PKEY *keys[] = {f->ca_key, f->tls_key, f->sign_key, f->rogue_key};
    X509 *certs[] = {f->ca, f->tls_cert, f->sign_cert};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        EVP_PKEY_free(keys[i]);
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        X509_free(certs[i]);
    test_rmtree(f->dir);
    free(f->dir);
    free(f->ca_file);
    ts_kept_free(&f->kept);
    free(f);
    return rc;
}

/* ---- messages ------------------------------------------------------------------------- */

/* TEXT with each "@@KEY@@" of the pairs (KEY, VALUE, ..., NULL) replaced (kept). */
static const char *fill(struct fixture *f, char *text, va_list ap)
{
    for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
        const char *value = va_arg(ap, const char *);
        char needle[64];
        snprintf(needle, sizeof needle, "@@%s@@", key);
        char *next = test_replace(text, needle, value);
        free(text);
        text = next;
    }
    return ts_keep(&f->kept, text);
}

/* tests/fixtures/NAME filled as fill() does. */
static const char *fixture(struct fixture *f, const char *name, ...)
{
    va_list ap;
    va_start(ap, name);
    const char *text = fill(f, test_fixture("%s", name), ap);
    va_end(ap);
    return text;
}

/* Now as SNS writes it: "2026-01-05T09:30:01.000Z" (kept). */
static const char *now_iso(struct fixture *f)
{
    char buf[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return ts_keep(&f->kept, strdup(buf));
}

/* A fresh MessageId, a UUID in form (kept). */
static const char *new_message_id(struct fixture *f)
{
    char id[64];
    snprintf(id, sizeof id, "2d2f3a5e-8c1b-5f0e-9a7d-%012u", ++f->seq);
    return ts_keep(&f->kept, strdup(id));
}

/* TEXT as the inside of a JSON string, without its quotes (kept). */
static const char *json_inner(struct fixture *f, const char *text)
{
    cJSON *s = cJSON_CreateString(text);
    char *quoted = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    assert_non_null(quoted);
    size_t n = strlen(quoted);
    char *inner = test_must_alloc(strndup(quoted + 1, n - 2));
    cJSON_free(quoted);
    return ts_keep(&f->kept, inner);
}

static const char *base64(struct fixture *f, const char *raw)
{
    size_t n = strlen(raw);
    char *out = test_must_alloc(malloc(GW_BASE64_ENCODED_LEN(n) + 1));
    assert_true(
        gw_base64_encode((const unsigned char *)raw, n, out, GW_BASE64_ENCODED_LEN(n) + 1, 0) > 0);
    return ts_keep(&f->kept, out);
}

/* The SNS Notification carrying SES_RECEIPT (a JSON text), unsigned. */
static const char *notification(struct fixture *f, const char *ses_receipt, const char *id)
{
    return fixture(f, "email-ses/notification.json", "MESSAGE_ID", id, "TOPIC", TOPIC, "MESSAGE",
                   json_inner(f, ses_receipt), "TIMESTAMP", now_iso(f), NULL);
}

/* A receipt of the SNS action with MESSAGE inline as ENCODING says, for RECIPIENTS (JSON
 * strings joined by commas), the virus verdict VIRUS. */
static const char *receipt(struct fixture *f, const char *message, const char *encoding,
                           const char *recipients, const char *virus, const char *mid)
{
    const char *content =
        strcmp(encoding, "BASE64") == 0 ? base64(f, message) : json_inner(f, message);
    return fixture(f, "email-ses/ses-received.json", "RECIPIENTS", recipients, "VIRUS", virus,
                   "TOPIC", TOPIC, "ENCODING", encoding, "CONTENT", content, "MID", mid, NULL);
}

/* BODY signed with KEY as SNS signs (SignatureVersion 2; kept). */
static const char *sign_with(struct fixture *f, const char *body, EVP_PKEY *key)
{
    char *out = NULL;
    size_t len = 0;
    char err[256];
    if (gw_sns_sign((const unsigned char *)body, strlen(body), key, "2", f->cert_url, &out, &len,
                    err, sizeof err) != 0)
        fail_msg("gw_sns_sign: %s", err);
    return ts_keep(&f->kept, out);
}

static const char *sign(struct fixture *f, const char *body)
{
    return sign_with(f, body, f->sign_key);
}

struct sent {
    long status;
    unsigned long long event;
    char retry_after[16];
};

/* POSTs BODY to the email-ses endpoint as SNS does. */
static struct sent post(struct fixture *f, const char *body)
{
    char url[160];
    ts_hook_url(&f->srv, "ses", url, sizeof url);
    cJSON *msg = cJSON_Parse(body);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "Type");
    char type_header[96];
    snprintf(type_header, sizeof type_header, "x-amz-sns-message-type: %s",
             cJSON_IsString(type) ? type->valuestring : "?");
    cJSON_Delete(msg);
    const char *headers[] = {"Content-Type: text/plain; charset=UTF-8", type_header,
                             "x-amz-sns-topic-arn: " TOPIC, NULL};
    struct ts_http r;
    if (ts_http("POST", url, headers, body, &r) != 0)
        fail_msg("POST %s: %s%s", url, r.error, ts_server_log_tail(&f->srv));
    struct sent s = {.status = r.status, .event = ts_answer_id(r.body ? r.body : "")};
    ts_http_header(&r, "Retry-After", s.retry_after, sizeof s.retry_after);
    ts_http_free(&r);
    return s;
}

/* The first signed message makes ctgw fetch the signing certificate in the background, never
 * on its event loop, and is answered 503 (SNS retries); once it is cached the same message is
 * judged on its signature. A message signed with another key: 401, nothing stored. */
static void warm(struct fixture *f)
{
    const char *forged = sign_with(
        f, notification(f, "{\"notificationType\":\"Received\"}", new_message_id(f)), f->rogue_key);
    struct sent s = post(f, forged);
    if (s.status != 503 || atoi(s.retry_after) <= 0)
        fail_msg("first message answered %ld (Retry-After '%s'), not 503%s", s.status,
                 s.retry_after, ts_server_log_tail(&f->srv));
    for (int i = 0; i < 200 && s.status == 503; i++) {
        ts_sleep_ms(50);
        s = post(f, forged);
    }
    if (s.status != 401)
        fail_msg("once the certificate is cached: %ld, not 401%s", s.status,
                 ts_server_log_tail(&f->srv));
    assert_int_equal(ts_https_hits(&f->https, "/SimpleNotificationService-test.pem"), 1);
    /* Its audit row (written after the answer), then none for the tests to count. */
    if (!ts_db_wait_int(&f->db, 1, WAIT_MS,
                        "SELECT COUNT(*) FROM audit_log WHERE kind = 'rejected_signature'"))
        fail_msg("no audit_log row for the forged message%s", ts_server_log_tail(&f->srv));
    ts_db_exec_ok(&f->db, "DELETE FROM audit_log");
}

/* Waits until event ID is settled; returns its status (kept). */
static const char *settled(struct fixture *f, unsigned long long id)
{
    if (!ts_db_wait_int(&f->db, 1, WAIT_MS,
                        "SELECT COUNT(*) FROM webhook_events WHERE id = %llu AND status NOT IN "
                        "('pending', 'processing')",
                        id))
        fail_msg("event %llu was not settled%s", id, ts_server_log_tail(&f->srv));
    return ts_keep(&f->kept,
                   ts_db_showf(&f->db, "SELECT status FROM webhook_events WHERE id = %llu", id));
}

/* POSTs a signed BODY, expects 200 and the event to end STATUS; returns the event id. */
static unsigned long long deliver(struct fixture *f, const char *body, const char *status)
{
    struct sent s = post(f, body);
    if (s.status != 200 || s.event == 0)
        fail_msg("POST answered %ld (event %llu)%s", s.status, s.event,
                 ts_server_log_tail(&f->srv));
    const char *got = settled(f, s.event);
    if (strcmp(got, status) != 0)
        fail_msg("event %llu ended %s, expected %s (%s)%s", s.event, got, status,
                 ts_keep(&f->kept, ts_db_showf(&f->db,
                                               "SELECT last_error FROM webhook_events WHERE id "
                                               "= %llu",
                                               s.event)),
                 ts_server_log_tail(&f->srv));
    return s.event;
}

/* A field of event ID's result, by JSON path ("$.ses.spam"), or of its row (kept). */
static const char *result_at(struct fixture *f, unsigned long long id, const char *path)
{
    return ts_keep(&f->kept, ts_db_showf(&f->db,
                                         "SELECT JSON_UNQUOTE(JSON_EXTRACT(result, '%s')) FROM "
                                         "webhook_events WHERE id = %llu",
                                         path, id));
}

static const char *last_error(struct fixture *f, unsigned long long id)
{
    return ts_keep(
        &f->kept, ts_db_showf(&f->db, "SELECT last_error FROM webhook_events WHERE id = %llu", id));
}

/* Everything a message made for COMPANY: the job, its contact, the comment and attachments. */
static const char *made_for(struct fixture *f, long long company)
{
    return ts_keep(
        &f->kept,
        ts_db_showf(&f->db,
                    "SELECT GROUP_CONCAT(CONCAT_WS('|', j.title, j.status, j.source, c.name, "
                    "c.email, cm.visibility, cm.body, cm.email_message_id, (SELECT "
                    "GROUP_CONCAT(CONCAT_WS(',', a.filename, a.content_type, a.size)) FROM "
                    "attachments a WHERE a.comment_id = cm.id)) SEPARATOR ';') FROM jobs j JOIN "
                    "contacts c ON c.id = j.contact_id JOIN job_comments cm ON cm.job_id = j.id "
                    "WHERE j.company_id = %lld",
                    company));
}

static long long count(struct fixture *f, const char *sql)
{
    return ts_db_int(&f->db, sql);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_notification_same_as_email_mime(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *mid = "ses.1@customer.example";
    const char *message = fixture(f, "email/attachment.eml", "MID", mid, NULL);

    /* Through email-mime, bound to beta. */
    char url[160];
    ts_hook_url(&f->srv, "mail-beta", url, sizeof url);
    const char *headers[] = {"Content-Type: message/rfc822", "Authorization: Bearer " TOKEN, NULL};
    struct ts_http r;
    assert_int_equal(ts_http("POST", url, headers, message, &r), 0);
    assert_int_equal(r.status, 202);
    assert_string_equal(settled(f, ts_answer_id(r.body)), "done");
    ts_http_free(&r);

    /* Through SES and SNS, routed to acme by the receipt's recipient. */
    const char *id = new_message_id(f);
    const char *body =
        sign(f, notification(f, receipt(f, message, "BASE64", RCPT_ONE, "PASS", mid), id));
    unsigned long long e = deliver(f, body, "done");

    const char *beta = made_for(f, f->beta);
    const char *acme = made_for(f, f->acme);
    assert_true(strstr(acme, "Invoice copy|new|email|Jane Customer|jane@customer.example|public|"
                             "Please find the report attached.|<ses.1@customer.example>|"
                             "report.pdf,application/pdf,2087") == acme);
    assert_string_equal(acme, beta);
    assert_string_equal(result_at(f, e, "$.new_job"), "true");
    /* The verdicts, kept with the event. */
    assert_string_equal(result_at(f, e, "$.ses.sns_message_id"), id);
    assert_string_equal(result_at(f, e, "$.ses.ses_message_id"),
                        "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1");
    assert_string_equal(result_at(f, e, "$.ses.spam"), "PASS");
    assert_string_equal(result_at(f, e, "$.ses.virus"), "PASS");
    assert_string_equal(result_at(f, e, "$.ses.spf"), "PASS");
    assert_string_equal(result_at(f, e, "$.ses.dkim"), "GRAY");
    assert_string_equal(result_at(f, e, "$.ses.dmarc"), "FAIL");
    assert_string_equal(result_at(f, e, "$.ses.dmarc_policy"), "none");
    ts_expect_text(&f->db, &f->srv, id, "SELECT dedupe_key FROM webhook_events WHERE id = %llu", e);
    ts_expect_int(&f->db, &f->srv, f->acme, "SELECT company_id FROM webhook_events WHERE id = %llu",
                  e);

    /* SNS delivers it again (its retry after a lost answer): the same event, no new comment. */
    struct sent again = post(f, body);
    assert_int_equal(again.status, 200);
    assert_int_equal(again.event, e);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM webhook_events WHERE endpoint = 'ses'"), 1);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM job_comments WHERE company_id = %lld",
                  f->acme);

    /* The UTF8 encoding: the message as text; and two recipients make two events. */
    const char *plain =
        "From: Jane Customer <jane@customer.example>\r\nTo: support@acme.example, "
        "help@elsewhere.example\r\nSubject: Caf\xc3\xa9 door\r\nDate: Mon, 05 Jan 2026 10:00:00 "
        "+0000\r\nMessage-ID: <ses.2@customer.example>\r\nMIME-Version: 1.0\r\nContent-Type: "
        "text/plain; charset=utf-8\r\n\r\nThe caf\xc3\xa9 door is stuck.\r\n";
    const char *two = "\"" SUPPORT "\", \"help@elsewhere.example\"";
    const char *id2 = new_message_id(f);
    struct sent s2 = post(
        f, sign(f, notification(f, receipt(f, plain, "UTF8", two, "PASS", "ses.2@customer.example"),
                                id2)));
    assert_int_equal(s2.status, 200);
    assert_string_equal(settled(f, s2.event), "done");
    char key[96];
    snprintf(key, sizeof key, "%s#0", id2);
    assert_int_equal(s2.event, (unsigned long long)ts_db_intf(&f->db,
                                                              "SELECT id FROM webhook_events "
                                                              "WHERE dedupe_key = '%s'",
                                                              key));
    snprintf(key, sizeof key, "%s#1", id2);
    unsigned long long second = (unsigned long long)ts_db_intf(
        &f->db, "SELECT id FROM webhook_events WHERE dedupe_key = '%s'", key);
    /* The second recipient routes nowhere: ignored, the first made the comment. */
    assert_string_equal(settled(f, second), "ignored");
    ts_expect_text(&f->db, &f->srv, "Caf\xc3\xa9 door|The caf\xc3\xa9 door is stuck.",
                   "SELECT CONCAT_WS('|', j.title, cm.body) FROM jobs j JOIN job_comments cm ON "
                   "cm.job_id = j.id WHERE cm.email_message_id = '<ses.2@customer.example>'");
}

static void test_forged_messages_refused(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *message =
        fixture(f, "email/attachment.eml", "MID", "forged@customer.example", NULL);
    const char *ses = receipt(f, message, "BASE64", RCPT_ONE, "PASS", "forged@customer.example");
    const char *body = sign(f, notification(f, ses, new_message_id(f)));

    /* The Message changed after signing (the recipient swapped). */
    char *changed =
        ts_keep(&f->kept, test_replace(body, "support@acme.example", "mallory@acme.example"));
    assert_true(strcmp(changed, body) != 0);
    assert_int_equal(post(f, changed).status, 401);
    /* Signed with a key the certificate does not hold. */
    assert_int_equal(
        post(f, sign_with(f, notification(f, ses, new_message_id(f)), f->rogue_key)).status, 401);
    /* Another topic, signed right. */
    char *other = ts_keep(&f->kept, test_replace(notification(f, ses, new_message_id(f)),
                                                 "\"TopicArn\" : \"" TOPIC "\"",
                                                 "\"TopicArn\" : \"" TOPIC "-other\""));
    assert_int_equal(post(f, sign(f, other)).status, 401);
    /* No signature at all. */
    assert_int_equal(post(f, notification(f, ses, new_message_id(f))).status, 401);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM webhook_events"), 0);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs"), 0);
    /* Each refusal audited (written after the answer). */
    if (!ts_db_wait_int(&f->db, 4, WAIT_MS,
                        "SELECT COUNT(*) FROM audit_log WHERE kind = 'rejected_signature'"))
        fail_msg("not 4 audit_log rows for the forged messages%s", ts_server_log_tail(&f->srv));
    /* The genuine one is stored. */
    deliver(f, body, "done");
}

/* A signed confirmation (FILE: subscription- or unsubscribe-confirmation) whose SubscribeURL
 * is SCHEME://HOST:<the stand-in's port>/?Action=ConfirmSubscription&...&Token=TOKEN. */
static const char *confirmation(struct fixture *f, const char *file, const char *scheme,
                                const char *host, const char *token)
{
    char subscribe[512], path[96];
    snprintf(subscribe, sizeof subscribe,
             "%s://%s:%u/?Action=ConfirmSubscription&TopicArn=" TOPIC "&Token=%s", scheme, host,
             (unsigned)f->https.port, token);
    snprintf(path, sizeof path, "email-ses/%s", file);
    return sign(f, fixture(f, path, "MESSAGE_ID", new_message_id(f), "TOKEN", token, "TOPIC", TOPIC,
                           "SUBSCRIBE_URL", subscribe, "TIMESTAMP", now_iso(f), NULL));
}

static void test_subscription_confirmed_only_from_its_host(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *sub = "subscription-confirmation.json";
    unsigned long long e = deliver(f, confirmation(f, sub, "https", "127.0.0.1", "tok-1"), "done");
    assert_int_equal(ts_https_hits(&f->https, "/"), 1);
    assert_true(strstr(f->https.last_target, "Action=ConfirmSubscription") != NULL);
    assert_true(strstr(f->https.last_target, "Token=tok-1") != NULL);
    assert_string_equal(result_at(f, e, "$.confirmed"), "true");
    assert_string_equal(result_at(f, e, "$.subscription_arn"),
                        TOPIC ":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55");
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    assert_non_null(strstr(log, "SNS subscription to topic " TOPIC " confirmed"));

    /* The same stand-in by another name: not a host of cert_host_pattern, never fetched. */
    unsigned long long refused =
        deliver(f, confirmation(f, sub, "https", "localhost", "tok-2"), "failed");
    assert_int_equal(ts_https_hits(&f->https, "/"), 1);
    const char *why = last_error(f, refused);
    assert_non_null(strstr(why, "SubscribeURL refused, nothing fetched"));
    assert_non_null(strstr(why, "does not match"));
    /* Nor over plain http. */
    refused = deliver(f, confirmation(f, sub, "http", "127.0.0.1", "tok-3"), "failed");
    assert_non_null(strstr(last_error(f, refused), "not an https URL"));
    assert_int_equal(ts_https_hits(&f->https, "/"), 1);

    /* An unsubscribe: stored and logged, nothing fetched. */
    unsigned long long un =
        deliver(f, confirmation(f, "unsubscribe-confirmation.json", "https", "127.0.0.1", "tok-4"),
                "ignored");
    assert_non_null(strstr(last_error(f, un), "not acted on"));
    assert_int_equal(ts_https_hits(&f->https, "/"), 1);
    log = ts_keep(&f->kept, ts_server_log(&f->srv));
    assert_non_null(strstr(log, "UnsubscribeConfirmation for topic " TOPIC));
}

static void test_virus_s3_and_other_notifications(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *message = fixture(f, "email/attachment.eml", "MID", "virus@customer.example", NULL);
    unsigned long long virus = deliver(
        f,
        sign(f, notification(
                    f, receipt(f, message, "BASE64", RCPT_ONE, "FAIL", "virus@customer.example"),
                    new_message_id(f))),
        "ignored");
    assert_non_null(strstr(last_error(f, virus), "virusVerdict FAIL"));
    assert_string_equal(result_at(f, virus, "$.ses.virus"), "FAIL");

    const char *s3 = fixture(f, "email-ses/ses-received-s3.json", "TOPIC", TOPIC, NULL);
    unsigned long long e3 = deliver(f, sign(f, notification(f, s3, new_message_id(f))), "failed");
    assert_non_null(strstr(last_error(f, e3), "the S3 action is not supported"));

    /* SES's test notification when the rule is set up: nothing to apply. */
    unsigned long long setup =
        deliver(f,
                sign(f, notification(f, "{\"notificationType\":\"AmazonSnsSubscriptionSucceeded\"}",
                                     new_message_id(f))),
                "ignored");
    assert_non_null(strstr(last_error(f, setup), "AmazonSnsSubscriptionSucceeded"));
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs"), 0);
}

/* Runs `ctgw COMMAND -c CONFIG --endpoint ses` and the further arguments (NULL-terminated);
 * *OUT: what it printed (kept). Returns its exit code. */
static int ctgw_ses(struct fixture *f, char **out, const char *command, ...)
{
    char *argv[16] = {(char *)ts_ctgw_path(), (char *)command, "-c",
                      f->srv.config,          "--endpoint",    "ses"};
    size_t n = 6;
    va_list ap;
    va_start(ap, command);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 15;)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    int rc = ts_run(argv, out);
    ts_keep(&f->kept, *out);
    return rc;
}

/* `ctgw sign` makes the request SNS would send: `ctgw verify` and the server accept it. */
static void test_ctgw_sign(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *message =
        fixture(f, "email/attachment.eml", "MID", "signed@customer.example", NULL);
    char *body_path =
        ts_keep(&f->kept, test_write_text(f->dir, "body.json",
                                          notification(f,
                                                       receipt(f, message, "BASE64", RCPT_ONE,
                                                               "PASS", "signed@customer.example"),
                                                       new_message_id(f)),
                                          0600));
    size_t len = 0;
    char *pem = pki_privkey_pem(f->sign_key, &len);
    char *key_path = ts_keep(&f->kept, test_write(f->dir, "sign.key", pem, len, 0600));
    free(pem);
    char *out = NULL;
    int rc = ctgw_ses(f, &out, "sign", "--body", body_path, "--key", key_path, "--cert-url",
                      f->cert_url, "--raw", NULL);
    if (rc != 0)
        fail_msg("ctgw sign: %d\n%s", rc, out);
    assert_non_null(strstr(out, "x-amz-sns-message-type: Notification\r\n"));
    char *request = ts_keep(&f->kept, test_write_text(f->dir, "request.http", out, 0600));
    char *vout = NULL;
    rc = ctgw_ses(f, &vout, "verify", "--request", request, NULL);
    if (rc != 0)
        fail_msg("ctgw verify: %d\n%s", rc, vout);
    assert_non_null(strstr(vout, "VERIFIED"));
    /* Its body, posted, is stored and applied. */
    const char *signed_body = strstr(out, "\r\n\r\n");
    assert_non_null(signed_body);
    deliver(f, signed_body + 4, "done");

    /* Without the key: a usage error naming what is missing. */
    char *bout = NULL;
    rc = ctgw_ses(f, &bout, "sign", "--body", body_path, NULL);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(bout, "--key PEM"));
}

/* The database down: 503 with Retry-After (SNS retries 5xx), nothing stored; the same
 * request once it is back: stored and applied once. */
static void test_database_down_is_retried(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *message = fixture(f, "email/attachment.eml", "MID", "down@customer.example", NULL);
    /* Warm: the certificate is cached, the connections are open. */
    deliver(f,
            sign(f, notification(
                        f, receipt(f, message, "BASE64", RCPT_ONE, "PASS", "down@customer.example"),
                        new_message_id(f))),
            "done");
    const char *later = fixture(f, "email/attachment.eml", "MID", "later@customer.example", NULL);
    const char *body = sign(
        f, notification(f, receipt(f, later, "BASE64", RCPT_ONE, "PASS", "later@customer.example"),
                        new_message_id(f)));
    f->db_stopped = true;
    assert_int_equal(ts_dev("db-stop"), 0);
    struct sent s = post(f, body);
    assert_int_equal(s.status, 503);
    assert_true(atoi(s.retry_after) > 0);
    assert_int_equal(ts_dev("db-start"), 0);
    f->db_stopped = false;
    mysql_close(f->db.conn);
    f->db.conn = ts_db_connect(f->db.name);
    /* SNS retries the very same request. */
    for (int i = 0; i < 300 && s.status == 503; i++) {
        ts_sleep_ms(100);
        s = post(f, body);
    }
    assert_int_equal(s.status, 200);
    assert_string_equal(settled(f, s.event), "done");
    assert_int_equal(count(f, "SELECT COUNT(*) FROM webhook_events WHERE endpoint = 'ses'"), 2);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE email_message_id = "
                  "'<later@customer.example>'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_notification_same_as_email_mime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_messages_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_confirmed_only_from_its_host, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_virus_s3_and_other_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctgw_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_down_is_retried, setup, teardown),
    };
    return ts_run_group(tests);
}
