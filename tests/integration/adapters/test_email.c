/* test_email.c — e-mail to ticket end to end: raw messages POSTed to an email-mime endpoint
 * (real HTTP into ctgw, real MariaDB, the workers applying them) and piped through `ctgw
 * mail-pipe`: new jobs, replies threaded by In-Reply-To, References, plus address and subject
 * tag, forged thread ids, automated mail and bounces, charsets, attachments stored once,
 * repeated deliveries, unknown recipients, the sender's hourly limit, authentication; and
 * every message of the shared corpus through the whole apply path (gw_mail_apply against the
 * database) under the sanitizers. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "adapters/mail/apply.h"
#include "adapters/mail/parse.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/core/mail_text.h"
#include "gateway/core/mail_thread.h"
#include "gateway/db/db.h"
#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/events.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "verifiers/base64.h"

#define KEY_HEX      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define DOMAIN       "mail.test.example"
#define USER         "relay"
#define PASSWORD     "relay-password-0123456789"
#define TOKEN        "relay-token-0123456789abcdef"
#define SUPPORT      "support@acme.example"
#define JANE         "jane@customer.example"
#define WAIT_MS      20000
#define CORPUS_FILES 2000

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    long long acme, beta;
    struct gw_mail_threading t;
    unsigned seq; /* makes Message-IDs unique within a test */
    struct ts_kept kept;
};

static void seed(struct fixture *f)
{
    ts_db_exec_ok(&f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme'), "
                          "('beta', 'Beta')");
    f->acme = ts_db_int(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
    f->beta = ts_db_int(&f->db, "SELECT id FROM companies WHERE slug = 'beta'");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO integrations (company_id, provider, external_id, status) VALUES "
             "(%lld, 'email', '" SUPPORT "', 'active'), (%lld, 'email', '*@beta.example', "
             "'active')",
             f->acme, f->beta);
    ts_db_exec_ok(&f->db, sql);
    snprintf(sql, sizeof sql,
             "INSERT INTO users (company_id, email, name, role) VALUES "
             "(%lld, 'ann@acme.example', 'Ann Staff', 'staff')",
             f->acme);
    ts_db_exec_ok(&f->db, sql);
}

/* The config: one email-mime endpoint with basic auth and one with a token bound to acme. */
static void prepare(struct fixture *f, unsigned per_hour)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"
             "mail:\n"
             "  thread_key: file:mail.key\n"
             "  domain: " DOMAIN "\n"
             "  loop_marker: ctgw-test-loop\n"
             "  max_per_sender_hour: %u\n"
             "endpoints:\n"
             "  - id: mail\n"
             "    provider: email-mime\n"
             "    username: " USER "\n"
             "    password: file:mail.password\n"
             "  - id: mail-acme\n"
             "    provider: email-mime\n"
             "    company: acme\n"
             "    token: file:mail.token\n"
             "    header: X-Relay-Token\n",
             per_hour);
    /* Over the socket: the mail-pipe test makes the database unreachable by replacing its
     * path. */
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml, .db_socket = true};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "mail.key", KEY_HEX "\n", 0600));
    free(test_write_text(f->srv.dir, "mail.password", PASSWORD, 0600));
    free(test_write_text(f->srv.dir, "mail.token", TOKEN, 0600));
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    seed(f);
    struct gw_mail_config mc = {
        .enabled = true, .thread_key = {.data = KEY_HEX, .len = strlen(KEY_HEX)}, .domain = DOMAIN};
    char err[256];
    if (gw_mail_threading_init(&f->t, &mc, err, sizeof err) != 0)
        fail_msg("threading: %s", err);
}

static void start(struct fixture *f)
{
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "email");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->srv.pid > 0)
        ts_server_stop_clean("ctgw", &f->srv);
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    gw_mail_threading_wipe(&f->t);
    ts_db_drop(&f->db);
    ts_kept_free(&f->kept);
    free(f);
    return 0;
}

/* ---- sending ------------------------------------------------------------------------- */

/* A fresh Message-ID "<nN.PID@customer.example>" (kept by the fixture). */
static const char *new_id(struct fixture *f)
{
    char id[96];
    snprintf(id, sizeof id, "<n%u.%ld@customer.example>", ++f->seq, (long)getpid());
    return ts_keep(&f->kept, strdup(id));
}

/* A plain text message. EXTRA: more header lines, each ending in "\r\n" (may be ""). */
static const char *message(struct fixture *f, const char *from, const char *to, const char *subject,
                           const char *id, const char *extra, const char *text)
{
    size_t len = strlen(from) + strlen(to) + strlen(subject) + strlen(id) + strlen(extra) +
                 strlen(text) + 512;
    char *m = ts_keep(&f->kept, test_must_alloc(malloc(len)));
    snprintf(m, len,
             "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 05 Jan 2026 09:29:58 +0000\r\n"
             "Message-ID: %s\r\n%sMIME-Version: 1.0\r\nContent-Type: text/plain; "
             "charset=utf-8\r\n\r\n%s\r\n",
             from, to, subject, id, extra, text);
    return m;
}

/* tests/fixtures/email/NAME with each "@@KEY@@" of PAIRS (KEY, VALUE, ..., NULL) replaced. */
static const char *fixture(struct fixture *f, const char *name, ...)
{
    char path[256];
    snprintf(path, sizeof path, "email/%s", name);
    va_list ap;
    va_start(ap, name);
    char *text = ts_fixture_fillv(path, ap);
    va_end(ap);
    return ts_keep(&f->kept, text);
}

struct sent {
    long status;
    unsigned long long event;
};

/* POSTs MESSAGE to ENDPOINT with the envelope recipient RCPT (NULL: none) and AUTH (an
 * "Authorization: ..." or other header line; NULL: basic auth as configured). */
static struct sent post_as(struct fixture *f, const char *endpoint, const char *rcpt,
                           const char *message_text, const char *auth)
{
    char url[160], basic[256], rcpt_header[320];
    ts_hook_url(&f->srv, endpoint, url, sizeof url);
    if (auth == NULL) {
        char b64[128];
        const char cred[] = USER ":" PASSWORD;
        assert_true(
            gw_base64_encode((const unsigned char *)cred, strlen(cred), b64, sizeof b64, 0) > 0);
        snprintf(basic, sizeof basic, "Authorization: Basic %s", b64);
        auth = basic;
    }
    const char *headers[4] = {"Content-Type: message/rfc822", auth, NULL, NULL};
    if (rcpt != NULL) {
        snprintf(rcpt_header, sizeof rcpt_header, "X-Original-To: %s", rcpt);
        headers[2] = rcpt_header;
    }
    struct ts_http r;
    if (ts_http("POST", url, headers, message_text, &r) != 0)
        fail_msg("POST %s: %s\n%s", url, r.error, ts_server_log_tail(&f->srv));
    struct sent s = {.status = r.status, .event = ts_answer_id(r.body ? r.body : "")};
    ts_http_free(&r);
    return s;
}

/* Waits until event ID is no longer pending or processing; returns its status (kept). */
static const char *settled(struct fixture *f, unsigned long long id)
{
    return ts_keep(&f->kept, ts_event_settled(&f->db, &f->srv, id, WAIT_MS));
}

/* POSTs MESSAGE for RCPT, expects 202 and the event to end STATUS; returns the event id. */
static unsigned long long deliver(struct fixture *f, const char *rcpt, const char *message_text,
                                  const char *status)
{
    struct sent s = post_as(f, "mail", rcpt, message_text, NULL);
    if (s.status != 202 || s.event == 0)
        fail_msg("POST answered %ld (event %llu)%s", s.status, s.event,
                 ts_server_log_tail(&f->srv));
    const char *got = settled(f, s.event);
    if (strcmp(got, status) != 0) {
        char *err =
            ts_db_showf(&f->db, "SELECT last_error FROM webhook_events WHERE id = %llu", s.event);
        fail_msg("event %llu ended %s, expected %s (%s)%s", s.event, got, status,
                 ts_keep(&f->kept, err), ts_server_log_tail(&f->srv));
    }
    return s.event;
}

/* A field of event ID's result. */
static char *result_field(struct fixture *f, unsigned long long id, const char *field)
{
    return ts_keep(&f->kept, ts_event_result(&f->db, id, field));
}

static long long job_of(struct fixture *f, unsigned long long event)
{
    return atoll(result_field(f, event, "job_id"));
}

static const char *ref_of(struct fixture *f, unsigned long long event)
{
    return result_field(f, event, "ref");
}

static long long count(struct fixture *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static long long count(struct fixture *f, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return ts_db_int(&f->db, sql);
}

/* ---- threading ----------------------------------------------------------------------- */

static void test_new_job_and_threaded_replies(void **state)
{
    struct fixture *f = *state;
    prepare(f, 1000);
    start(f);

    /* A plain message: a new job, its sender the contact, the text the first comment. */
    const char *first_id = new_id(f);
    unsigned long long e1 =
        deliver(f, SUPPORT,
                message(f, "Jane Customer <" JANE ">", "Acme Support <" SUPPORT ">",
                        "Printer on fire", first_id, "", "The printer on floor 2 is on fire."),
                "done");
    long long job = job_of(f, e1);
    const char *ref = ref_of(f, e1);
    ts_expect_text(&f->db, &f->srv, "Printer on fire|new|email|Jane Customer|" JANE,
                   "SELECT CONCAT_WS('|', j.title, j.status, j.source, c.name, c.email) FROM jobs "
                   "j JOIN contacts c ON c.id = j.contact_id WHERE j.id = %lld AND j.company_id "
                   "= %lld",
                   job, f->acme);
    ts_expect_text(&f->db, &f->srv, "public|The printer on floor 2 is on fire.|1",
                   "SELECT CONCAT_WS('|', visibility, body, author_contact_id IS NOT NULL) FROM "
                   "job_comments WHERE job_id = %lld AND email_message_id = '%s'",
                   job, first_id);
    ts_expect_int(&f->db, &f->srv, f->acme, "SELECT company_id FROM webhook_events WHERE id = %llu",
                  e1);
    ts_expect_text(&f->db, &f->srv, "false|true",
                   "SELECT CONCAT_WS('|', JSON_EXTRACT(detail, '$.automated'), "
                   "JSON_EXTRACT(detail, '$.new_job')) FROM job_events WHERE job_id = %lld AND "
                   "kind = 'email_received'",
                   job);

    /* In-Reply-To. */
    char extra[600];
    snprintf(extra, sizeof extra, "In-Reply-To: %s\r\n", first_id);
    unsigned long long e2 =
        deliver(f, SUPPORT,
                message(f, JANE, SUPPORT, "Re: Printer on fire", new_id(f), extra,
                        "It is out now.\r\n\r\nOn Mon, Jane wrote:\r\n> The printer is on fire."),
                "done");
    assert_int_equal(job_of(f, e2), job);
    assert_string_equal(result_field(f, e2, "by"), "in-reply-to");
    ts_expect_text(&f->db, &f->srv, "public|It is out now.",
                   "SELECT CONCAT_WS('|', visibility, body) FROM job_comments WHERE id = %s",
                   result_field(f, e2, "comment_id"));

    /* References only (right to left: the last known id wins). */
    snprintf(extra, sizeof extra, "References: <unknown.1@elsewhere.example> %s <unknown.2@x>\r\n",
             first_id);
    unsigned long long e3 =
        deliver(f, SUPPORT,
                message(f, JANE, SUPPORT, "Re: fire", new_id(f), extra, "By references."), "done");
    assert_int_equal(job_of(f, e3), job);
    assert_string_equal(result_field(f, e3, "by"), "references");

    /* Our own Message-ID, known to no comment, by its MAC. */
    char our_id[GW_MAIL_THREAD_ID_SIZE];
    assert_int_equal(
        gw_mail_thread_message_id(&f->t, (uint64_t)f->acme, ref, "n1", our_id, sizeof our_id), 0);
    snprintf(extra, sizeof extra, "In-Reply-To: %s\r\n", our_id);
    unsigned long long e4 = deliver(
        f, SUPPORT, message(f, JANE, SUPPORT, "Re: fire", new_id(f), extra, "By our id."), "done");
    assert_int_equal(job_of(f, e4), job);

    /* The plus address, as the envelope recipient, on a domain no integration routes: the
     * MAC says which company. The job is closed first: a reply reopens it. */
    ts_db_exec_ok(&f->db, "UPDATE jobs SET status = 'closed', closed_at = NOW()");
    char reply[GW_MAIL_THREAD_ID_SIZE];
    assert_int_equal(
        gw_mail_thread_reply_address(&f->t, (uint64_t)f->acme, ref, reply, sizeof reply), 0);
    unsigned long long e5 =
        deliver(f, reply, message(f, JANE, reply, "no tag here", new_id(f), "", "By plus address."),
                "done");
    assert_int_equal(job_of(f, e5), job);
    assert_string_equal(result_field(f, e5, "by"), "reply-address");
    assert_string_equal(result_field(f, e5, "reopened"), "true");
    ts_expect_text(&f->db, &f->srv, "open|NULL",
                   "SELECT CONCAT_WS('|', status, "
                   "IFNULL(closed_at, 'NULL')) FROM jobs WHERE id = %lld",
                   job);

    /* A forged MAC in the plus address threads nowhere: a new job (routed by To). */
    char forged[GW_MAIL_THREAD_ID_SIZE];
    snprintf(forged, sizeof forged, "%s", reply);
    char *mac = strchr(forged, '.') + 1;
    mac[0] = mac[0] == '0' ? '1' : '0';
    char cc_forged[600];
    snprintf(cc_forged, sizeof cc_forged, "Cc: %s\r\n", forged);
    unsigned long long e7 = deliver(
        f, NULL, message(f, JANE, SUPPORT, "Forged too", new_id(f), cc_forged, "Forged mac."),
        "done");
    assert_string_equal(result_field(f, e7, "new_job"), "true");
    assert_true(job_of(f, e7) != job);

    /* The subject tag from a participant (the job's contact) threads ... */
    char subject[128];
    snprintf(subject, sizeof subject, "Re: [%s] Printer on fire", ref);
    unsigned long long e8 = deliver(
        f, SUPPORT, message(f, JANE, SUPPORT, subject, new_id(f), "", "By subject tag."), "done");
    assert_int_equal(job_of(f, e8), job);
    assert_string_equal(result_field(f, e8, "by"), "subject-tag");
    /* ... from staff too, as an internal note ... */
    unsigned long long e9 = deliver(
        f, SUPPORT,
        message(f, "Ann Staff <ann@acme.example>", SUPPORT, subject, new_id(f), "", "Staff note."),
        "done");
    assert_int_equal(job_of(f, e9), job);
    ts_expect_text(&f->db, &f->srv, "internal", "SELECT visibility FROM job_comments WHERE id = %s",
                   result_field(f, e9, "comment_id"));
    /* ... but from a stranger opens a new job. */
    unsigned long long e10 = deliver(
        f, SUPPORT,
        message(f, "mallory@evil.example", SUPPORT, subject, new_id(f), "", "Let me in."), "done");
    assert_string_equal(result_field(f, e10, "new_job"), "true");
    assert_true(job_of(f, e10) != job);
    ts_expect_int(&f->db, &f->srv, 0,
                  "SELECT COUNT(*) FROM job_comments WHERE job_id = %lld AND body = 'Let me in.'",
                  job);
}

static void test_same_message_twice_is_one_comment(void **state)
{
    struct fixture *f = *state;
    prepare(f, 1000);
    start(f);
    const char *id = new_id(f);
    const char *m = message(f, JANE, SUPPORT ", help@beta.example", "Twice", id, "", "Once.");
    unsigned long long e1 = deliver(f, SUPPORT, m, "done");
    /* The same delivery again is the same inbox event. */
    struct sent again = post_as(f, "mail", SUPPORT, m, NULL);
    assert_int_equal(again.status, 202);
    assert_int_equal(again.event, e1);
    /* Through another endpoint (another relay) it is a new event, and no new comment. */
    char token[128];
    snprintf(token, sizeof token, "X-Relay-Token: %s", TOKEN);
    struct sent other = post_as(f, "mail-acme", SUPPORT, m, token);
    assert_int_equal(other.status, 202);
    assert_true(other.event != e1);
    assert_string_equal(settled(f, other.event), "done");
    assert_string_equal(result_field(f, other.event, "duplicate"), "true");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE email_message_id = '%s' AND "
                  "company_id = %lld",
                  id, f->acme);
    /* The copy for another company's recipient is that company's job. */
    unsigned long long e3 = deliver(f, "help@beta.example", m, "done");
    ts_expect_int(&f->db, &f->srv, f->beta, "SELECT company_id FROM jobs WHERE id = %lld",
                  job_of(f, e3));
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM jobs WHERE company_id = %lld", f->acme);
}

static void test_automated_mail_never_opens_a_job(void **state)
{
    struct fixture *f = *state;
    prepare(f, 1000);
    start(f);
    const char *first_id = new_id(f);
    unsigned long long e1 = deliver(
        f, SUPPORT, message(f, JANE, SUPPORT, "Printer on fire", first_id, "", "Help."), "done");
    long long job = job_of(f, e1);
    const char *ref = ref_of(f, e1);
    ts_db_exec_ok(&f->db, "UPDATE jobs SET status = 'done'");

    /* An out-of-office answer to the job: an internal note, the job stays done. */
    char inner[256];
    snprintf(inner, sizeof inner, "%.*s", (int)strlen(first_id) - 2, first_id + 1);
    const char *ooo_id = new_id(f);
    char ooo_inner[128];
    snprintf(ooo_inner, sizeof ooo_inner, "%.*s", (int)strlen(ooo_id) - 2, ooo_id + 1);
    unsigned long long e2 = deliver(f, SUPPORT,
                                    fixture(f, "out-of-office.eml", "MID", ooo_inner, "IN_REPLY_TO",
                                            inner, "SUBJECT", "Printer on fire", NULL),
                                    "done");
    assert_int_equal(job_of(f, e2), job);
    assert_string_equal(result_field(f, e2, "automated"), "true");
    assert_string_equal(result_field(f, e2, "automated_reason"), "auto-submitted");
    ts_expect_text(&f->db, &f->srv, "internal", "SELECT visibility FROM job_comments WHERE id = %s",
                   result_field(f, e2, "comment_id"));
    ts_expect_text(&f->db, &f->srv, "done", "SELECT status FROM jobs WHERE id = %lld", job);
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_events WHERE job_id = %lld AND kind = "
                  "'email_received' AND JSON_EXTRACT(detail, '$.automated') = true",
                  job);

    /* An out-of-office that answers nothing of ours: ignored, no job. */
    snprintf(ooo_inner, sizeof ooo_inner, "ooo.%u@customer.example", ++f->seq);
    unsigned long long e3 = deliver(f, SUPPORT,
                                    fixture(f, "out-of-office.eml", "MID", ooo_inner, "IN_REPLY_TO",
                                            "someone@else.example", "SUBJECT", "Hello", NULL),
                                    "ignored");
    char *why = ts_keep(&f->kept, ts_db_showf(&f->db,
                                              "SELECT last_error FROM webhook_events "
                                              "WHERE id = %llu",
                                              e3));
    assert_non_null(strstr(why, "automated e-mail (auto-submitted)"));

    /* A bounce quoting the job's Message-ID: an internal note on that job. */
    unsigned long long e4 = deliver(f, SUPPORT,
                                    fixture(f, "bounce.eml", "MID", "bounce.1@mx.customer.example",
                                            "REF", ref, "QUOTED", inner, NULL),
                                    "done");
    assert_int_equal(job_of(f, e4), job);
    assert_string_equal(result_field(f, e4, "by"), "delivery-status");
    assert_string_equal(result_field(f, e4, "automated_reason"), "delivery-status");
    /* A bounce of something we do not know: ignored. */
    deliver(f, SUPPORT,
            fixture(f, "bounce.eml", "MID", "bounce.2@mx.customer.example", "REF", "CT-999999",
                    "QUOTED", "unknown@nowhere.example", NULL),
            "ignored");
    /* Our own loop marker. */
    deliver(f, SUPPORT,
            message(f, JANE, SUPPORT, "Looped", new_id(f), "X-CanTicket-Loop: ctgw-test-loop\r\n",
                    "A loop."),
            "ignored");
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM jobs");
}

/* The comment text of the job EVENT opened. */
static const char *first_text(struct fixture *f, unsigned long long event)
{
    return ts_keep(&f->kept, ts_db_showf(&f->db, "SELECT body FROM job_comments WHERE id = %s",
                                         result_field(f, event, "comment_id")));
}

static void test_charsets_give_utf8(void **state)
{
    struct fixture *f = *state;
    prepare(f, 1000);
    start(f);
    unsigned long long e = deliver(
        f, SUPPORT, fixture(f, "html-only.eml", "MID", "html.1@customer.example", NULL), "done");
    const char *text = first_text(f, e);
    assert_non_null(strstr(text, "Hello & welcome, see the status page "
                                 "(https://status.example/incident)."));
    assert_non_null(strstr(text, "Café €5"));
    assert_null(strstr(text, "alert"));
    assert_null(strstr(text, "color"));
    assert_null(strstr(text, "<p>"));

    e = deliver(f, SUPPORT,
                fixture(f, "windows-1252.eml", "MID", "cp1252.1@customer.example", NULL), "done");
    assert_string_equal(first_text(f, e), "Café costs €5 “today” – naïve.");
    ts_expect_text(&f->db, &f->srv, "Café menu", "SELECT title FROM jobs WHERE id = %lld",
                   job_of(f, e));

    e = deliver(f, SUPPORT, fixture(f, "shift-jis.eml", "MID", "sjis.1@customer.example", NULL),
                "done");
    assert_string_equal(first_text(f, e), "こんにちは、プリンターが壊れました。");
    ts_expect_text(&f->db, &f->srv, "お問い合わせ", "SELECT title FROM jobs WHERE id = %lld",
                   job_of(f, e));
}

static void test_attachments_stored_once(void **state)
{
    struct fixture *f = *state;
    prepare(f, 1000);
    start(f);
    unsigned long long e1 = deliver(
        f, SUPPORT, fixture(f, "attachment.eml", "MID", "att.1@customer.example", NULL), "done");
    unsigned long long e2 = deliver(
        f, SUPPORT, fixture(f, "attachment.eml", "MID", "att.2@customer.example", NULL), "done");
    assert_string_equal(result_field(f, e1, "attachments"), "1");
    assert_string_equal(result_field(f, e2, "attachments"), "1");
    /* Two rows, one per message and comment, with the name made safe; the bytes once. */
    ts_expect_text(&f->db, &f->srv,
                   "report.pdf|application/pdf|2087;report.pdf|application/pdf|2087",
                   "SELECT GROUP_CONCAT(CONCAT_WS('|', filename, content_type, size) ORDER BY id "
                   "SEPARATOR ';') FROM attachments WHERE company_id = %lld",
                   f->acme);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM attachment_blobs");
    ts_expect_int(&f->db, &f->srv, 2087, "SELECT LENGTH(bytes) FROM attachment_blobs");
    ts_expect_int(&f->db, &f->srv, 2,
                  "SELECT COUNT(*) FROM attachments a JOIN job_comments c ON c.id = a.comment_id "
                  "AND c.job_id = a.job_id WHERE c.email_message_id IN "
                  "('<att.1@customer.example>', '<att.2@customer.example>')");
}

static void test_unknown_recipient_and_sender_limit(void **state)
{
    struct fixture *f = *state;
    prepare(f, 2);
    start(f);
    unsigned long long e = deliver(
        f, "nobody@unknown.example",
        message(f, JANE, "nobody@unknown.example", "Hi", new_id(f), "", "Hello?"), "ignored");
    char *why = ts_keep(&f->kept, ts_db_showf(&f->db,
                                              "SELECT last_error FROM webhook_events "
                                              "WHERE id = %llu",
                                              e));
    assert_non_null(strstr(why, "nobody@unknown.example"));
    ts_expect_text(&f->db, &f->srv, "NULL",
                   "SELECT IFNULL(company_id, 'NULL') FROM "
                   "webhook_events WHERE id = %llu",
                   e);
    /* Without an envelope recipient, To and Cc route: the second address does. */
    deliver(
        f, NULL,
        message(f, JANE, "nobody@unknown.example", "Hi", new_id(f), "Cc: " SUPPORT "\r\n", "One."),
        "done");
    deliver(f, NULL, message(f, JANE, SUPPORT, "Hi", new_id(f), "", "Two."), "done");
    e = deliver(f, NULL, message(f, JANE, SUPPORT, "Hi", new_id(f), "", "Three."), "ignored");
    why = ts_keep(&f->kept, ts_db_showf(&f->db,
                                        "SELECT last_error FROM webhook_events WHERE "
                                        "id = %llu",
                                        e));
    assert_non_null(strstr(why, "mail.max_per_sender_hour"));
    ts_expect_int(&f->db, &f->srv, 2, "SELECT COUNT(*) FROM jobs");
}

static void test_authentication_and_shape(void **state)
{
    struct fixture *f = *state;
    prepare(f, 1000);
    start(f);
    const char *m = message(f, JANE, SUPPORT, "Hi", new_id(f), "", "Hello.");
    char b64[128], header[200];
    const char wrong[] = USER ":not-the-password-000";
    assert_true(gw_base64_encode((const unsigned char *)wrong, strlen(wrong), b64, sizeof b64, 0) >
                0);
    snprintf(header, sizeof header, "Authorization: Basic %s", b64);
    assert_int_equal(post_as(f, "mail", SUPPORT, m, header).status, 401);
    assert_int_equal(post_as(f, "mail-acme", SUPPORT, m, "X-Relay-Token: wrong-token").status, 401);
    /* The token endpoint takes no basic auth. */
    assert_int_equal(post_as(f, "mail-acme", SUPPORT, m, NULL).status, 401);
    ts_expect_int(&f->db, &f->srv, 0, "SELECT COUNT(*) FROM webhook_events");
    /* The writers record the refusals with their next batch. */
    if (!ts_db_wait_int(&f->db, 3, WAIT_MS,
                        "SELECT COUNT(*) FROM audit_log WHERE endpoint IN ('mail', 'mail-acme')"))
        fail_msg("the refusals were not audited%s", ts_server_log_tail(&f->srv));
    /* Two envelope recipients, or not a message: refused, nothing stored. */
    assert_int_equal(post_as(f, "mail", "not an address", m, NULL).status, 400);
    assert_int_equal(post_as(f, "mail", SUPPORT, "just some text\r\n\r\nno headers", NULL).status,
                     400);
    ts_expect_int(&f->db, &f->srv, 0, "SELECT COUNT(*) FROM webhook_events");
}

/* ---- mail-pipe ----------------------------------------------------------------------- */

/* Runs `ctgw mail-pipe -c CONFIG --endpoint mail [--recipient RCPT] < FILE`: its status. */
static int pipe_message(struct fixture *f, const char *config, const char *rcpt,
                        const char *message_text)
{
    char *file = ts_keep(&f->kept, test_write_text(f->srv.dir, "pipe.eml", message_text, 0600));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec '%s' mail-pipe -c '%s' --endpoint mail%s%s < '%s'",
             ts_ctgw_path(), config, rcpt ? " --recipient " : "", rcpt ? rcpt : "", file);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    char *out = NULL;
    int rc = ts_run(argv, &out);
    if (out != NULL && strstr(out, PASSWORD) != NULL)
        fail_msg("mail-pipe printed the password:\n%s", out);
    if (out != NULL && out[0] != '\0')
        print_message("mail-pipe exited %d: %s", rc, out);
    free(out);
    return rc;
}

static void test_mail_pipe_exit_codes(void **state)
{
    struct fixture *f = *state;
    prepare(f, 1000);
    start(f);
    const char *id = new_id(f);
    const char *m = message(f, JANE, SUPPORT, "Piped", id, "", "Through the pipe.");
    assert_int_equal(pipe_message(f, f->srv.config, SUPPORT, m), 0);
    /* The running ctgw's workers apply it. */
    if (!ts_db_wait_int(&f->db, 1, WAIT_MS,
                        "SELECT COUNT(*) FROM job_comments WHERE email_message_id = '%s' AND "
                        "body = 'Through the pipe.'",
                        id))
        fail_msg("the piped message was not applied%s", ts_server_log_tail(&f->srv));
    ts_expect_text(&f->db, &f->srv, "mail-pipe|email-mime|message/rfc822",
                   "SELECT CONCAT_WS('|', source_address, provider, content_type) FROM "
                   "webhook_events WHERE endpoint = 'mail'");
    /* Again: stored before, still 0, still one event. */
    assert_int_equal(pipe_message(f, f->srv.config, SUPPORT, m), 0);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM webhook_events");
    /* Refused: empty, not a message. */
    assert_int_equal(pipe_message(f, f->srv.config, NULL, ""), 65);
    assert_int_equal(pipe_message(f, f->srv.config, NULL, "no header here\n\nbody\n"), 65);
    /* A bad recipient is a usage error. */
    assert_int_equal(pipe_message(f, f->srv.config, "not-an-address", m), 64);
    /* The database down (a socket nothing listens on): 75, so the MTA retries. */
    char *text = ts_keep(&f->kept, test_read(f->srv.config, NULL));
    char closed[400];
    snprintf(closed, sizeof closed, "%s/closed.sock", f->srv.dir);
    char *down = ts_keep(&f->kept, test_replace(text, ts_env("CTGW_DB_SOCKET"), closed));
    char *down_path = ts_keep(&f->kept, test_write_text(f->srv.dir, "down.yaml", down, 0600));
    const char *other = message(f, JANE, SUPPORT, "Piped", new_id(f), "", "Later.");
    assert_int_equal(pipe_message(f, down_path, SUPPORT, other), 75);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM webhook_events");
}

/* ---- the corpus through the whole apply path ----------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The shared corpus beside the project (../shared from the source root); a clone checked
 * out elsewhere on the same machine finds it at the workspace's /work/shared. */
static const char *corpus_default(void)
{
    static const char beside[] = CTGW_SOURCE_ROOT "/../shared/corpus/email";
    return access(beside, R_OK) == 0 || access("/work/shared/corpus/email", R_OK) != 0
               ? beside
               : "/work/shared/corpus/email";
}

static char *corpus_dir(void)
{
    const char *env = getenv("CTGW_MAIL_CORPUS");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", env != NULL && env[0] ? env : corpus_default());
    return test_must_alloc(strdup(dir));
}

/* Checks that every attachment of the parsed message that fits the limits is a row of the
 * comment with its safe name and size. */
static void check_attachments(struct fixture *f, const char *name, const unsigned char *raw,
                              size_t len, const struct gw_config *cfg, const char *comment_id)
{
    struct gw_mail_limits lim = {.max_message_bytes = cfg->mail.max_message,
                                 .max_parts = cfg->mail.max_parts,
                                 .max_depth = cfg->mail.max_depth,
                                 .max_header_bytes = cfg->mail.max_header_bytes};
    struct gw_mail *m = NULL;
    assert_int_equal(gw_mail_parse(raw, len, &lim, &m, NULL, 0), 0);
    uint64_t total = 0;
    for (size_t i = 0; i < m->attachment_count; i++) {
        const struct gw_mail_attachment *a = &m->attachments[i];
        if (a->size > cfg->mail.max_attachment || total + a->size > cfg->mail.max_attachments_total)
            continue;
        total += a->size;
        char safe[GW_MAIL_FILENAME_SIZE];
        gw_mail_filename_sanitise(a->filename, safe);
        char *esc = ts_keep(&f->kept, test_replace(safe, "'", "''"));
        char *esc2 = ts_keep(&f->kept, test_replace(esc, "\\", "\\\\"));
        long long n = count(f,
                            "SELECT COUNT(*) FROM attachments WHERE comment_id = %s AND filename "
                            "= '%s' AND size = %zu",
                            comment_id, esc2, a->size);
        if (n < 1) {
            gw_mail_free(m);
            fail_msg("%s: attachment %zu (%s, %zu bytes) was not stored", name, i, safe, a->size);
        }
    }
    gw_mail_free(m);
}

static void test_corpus_through_apply(void **state)
{
    struct fixture *f = *state;
    prepare(f, 100000);
    struct gw_config_errors errs = {0};
    struct gw_config *cfg = gw_config_load(f->srv.config, &gw_providers_for_config, &errs);
    gw_config_errors_finish(&errs);
    assert_non_null(cfg);
    struct gw_db *db = gw_db_open(&cfg->database);
    assert_non_null(db);
    assert_int_equal(gw_db_ensure(db), 0);

    char *dir = corpus_dir();
    DIR *d = opendir(dir);
    if (d == NULL) {
        free(dir);
        gw_db_close(db);
        gw_config_destroy(cfg);
        fail_msg("the e-mail corpus is missing: %s (set CTGW_MAIL_CORPUS)", corpus_default());
    }
    char **names = test_must_alloc(calloc(CORPUS_FILES, sizeof(char *)));
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL && n < CORPUS_FILES;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".eml") == 0)
            names[n++] = test_must_alloc(strdup(e->d_name));
    }
    closedir(d);
    qsort(names, n, sizeof(char *), by_name);
    size_t jobs = 0, comments = 0, ignored = 0, duplicates = 0, stored_attachments = 0;
    char failure[1024] = "";
    for (size_t i = 0; i < n && failure[0] == '\0'; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        char *raw = test_read(path, &len);
        if (raw == NULL) {
            snprintf(failure, sizeof failure, "%s: unreadable", names[i]);
            break;
        }
        struct gw_apply ctx = {
            .core = {.db = db, .source = "email"},
            .cfg = cfg,
        };
        struct gw_mail_delivery dl = {
            .raw = (const unsigned char *)raw, .len = len, .recipient = SUPPORT};
        assert_int_equal(gw_db_begin(db), 0);
        enum gw_apply_rc rc = gw_mail_apply(&ctx, &dl);
        if (rc == GW_APPLY_DONE || rc == GW_APPLY_IGNORED) {
            if (gw_db_commit(db) != 0)
                snprintf(failure, sizeof failure, "%s: commit: %s", names[i], gw_db_error(db));
        } else {
            gw_db_rollback(db);
            snprintf(failure, sizeof failure, "%s: apply returned %d: %s", names[i], (int)rc,
                     ctx.error);
        }
        if (failure[0] == '\0' && rc == GW_APPLY_IGNORED) {
            /* Only automated mail may end so here: every message is for a known address. */
            if (strstr(ctx.error, "automated e-mail") == NULL)
                snprintf(failure, sizeof failure, "%s: ignored: %s", names[i], ctx.error);
            ignored++;
        }
        if (failure[0] == '\0' && rc == GW_APPLY_DONE) {
            cJSON *res = cJSON_Parse(ctx.result);
            const cJSON *cid = cJSON_GetObjectItemCaseSensitive(res, "comment_id");
            const cJSON *dup = cJSON_GetObjectItemCaseSensitive(res, "duplicate");
            const cJSON *new_job = cJSON_GetObjectItemCaseSensitive(res, "new_job");
            const cJSON *att = cJSON_GetObjectItemCaseSensitive(res, "attachments");
            if (!cJSON_IsNumber(cid) || !cJSON_IsBool(dup) || !cJSON_IsBool(new_job)) {
                snprintf(failure, sizeof failure, "%s: result %s", names[i],
                         ctx.result ? ctx.result : "(none)");
            } else if (cJSON_IsTrue(dup)) {
                duplicates++;
            } else {
                char comment_id[32];
                snprintf(comment_id, sizeof comment_id, "%.0f", cid->valuedouble);
                jobs += cJSON_IsTrue(new_job);
                comments += !cJSON_IsTrue(new_job);
                stored_attachments += cJSON_IsNumber(att) ? (size_t)att->valuedouble : 0;
                /* A title, an author and a body were stored. */
                if (count(f,
                          "SELECT COUNT(*) FROM job_comments c JOIN jobs j ON j.id = c.job_id "
                          "WHERE c.id = %s AND j.title <> '' AND c.body <> '' AND "
                          "(c.author_contact_id IS NOT NULL OR c.author_user_id IS NOT NULL OR "
                          "c.author_label <> '')",
                          comment_id) != 1)
                    snprintf(failure, sizeof failure, "%s: comment %s incomplete", names[i],
                             comment_id);
                else
                    check_attachments(f, names[i], (const unsigned char *)raw, len, cfg,
                                      comment_id);
            }
            cJSON_Delete(res);
        }
        free(ctx.result);
        free(raw);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(dir);
    gw_db_close(db);
    gw_config_destroy(cfg);
    if (failure[0] != '\0')
        fail_msg("%s", failure);
    print_message("%zu messages: %zu new jobs, %zu comments, %zu repeats, %zu automated and "
                  "ignored, %zu attachments stored\n",
                  n, jobs, comments, duplicates, ignored, stored_attachments);
    assert_true(n >= 100);
    assert_int_equal(jobs + comments + duplicates + ignored, n);
    assert_true(jobs >= n / 2);
    assert_true(stored_attachments >= 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_job_and_threaded_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_message_twice_is_one_comment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_automated_mail_never_opens_a_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_charsets_give_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attachments_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_recipient_and_sender_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authentication_and_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_pipe_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corpus_through_apply, setup, teardown),
    };
    return ts_run_group(tests);
}
