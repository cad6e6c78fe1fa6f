/* test_email_postmark.c — provider email-postmark end to end: Postmark inbound posts
 * (tests/fixtures/email-postmark/, shaped after Postmark's documentation, carrying
 * tests/fixtures/email/attachment.eml) sent over real HTTP into ctgw with basic auth, stored
 * in the real MariaDB and applied by the workers: the same job, comment and attachment as
 * the message itself through email-mime; a replay stored once; wrong credentials 401 and
 * nothing stored; what is never storable 403 (Postmark's one answer that stops retries);
 * RawEmail preferred to the parsed fields; the MailboxHash threading a reply into its job;
 * the database down answered 503, which Postmark retries; `ctgw sign`'s curl command. */
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

#include "gateway/core/mail_thread.h"
#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/events.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "verifiers/base64.h"

#define KEY_HEX  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define DOMAIN   "mail.test.example"
#define USER     "postmark"
#define PASSWORD "postmark-password-0123456789"
#define SUPPORT  "support@acme.example"
#define WAIT_MS  20000

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    long long acme;
    struct gw_mail_threading t;
    unsigned seq;
    struct ts_kept kept;
};

static void prepare(struct fixture *f)
{
    const char *yaml =
        "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"
        "mail:\n"
        "  thread_key: file:mail.key\n"
        "  domain: " DOMAIN "\n"
        "endpoints:\n"
        "  - id: postmark\n"
        "    provider: email-postmark\n"
        "    username: " USER "\n"
        "    password: file:mail.password\n"
        "  - id: mime\n"
        "    provider: email-mime\n"
        "    username: " USER "\n"
        "    password: file:mail.password\n";
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml, .db_socket = true};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "mail.key", KEY_HEX "\n", 0600));
    free(test_write_text(f->srv.dir, "mail.password", PASSWORD, 0600));
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    ts_db_exec_ok(&f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme')");
    f->acme = ts_db_int(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO integrations (company_id, provider, external_id, status) VALUES "
             "(%lld, 'email', '" SUPPORT "', 'active')",
             f->acme);
    ts_db_exec_ok(&f->db, sql);
    struct gw_mail_config mc = {
        .enabled = true, .thread_key = {.data = KEY_HEX, .len = strlen(KEY_HEX)}, .domain = DOMAIN};
    char err[256];
    if (gw_mail_threading_init(&f->t, &mc, err, sizeof err) != 0)
        fail_msg("threading: %s", err);
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(&f->srv));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "postmark");
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

/* ---- building posts ------------------------------------------------------------------- */

/* A fixture file with each "@@KEY@@" of the (KEY, VALUE, ..., NULL) pairs replaced (kept). */
static char *fixture(struct fixture *f, const char *path, ...)
{
    va_list ap;
    va_start(ap, path);
    char *text = ts_fixture_fillv(path, ap);
    va_end(ap);
    return ts_keep(&f->kept, text);
}

/* A unique id: "N.PID" (kept). */
static const char *unique(struct fixture *f, const char *prefix)
{
    char id[96];
    snprintf(id, sizeof id, "%s%u.%ld", prefix, ++f->seq, (long)getpid());
    return ts_keep(&f->kept, strdup(id));
}

/* The Postmark post of attachment.eml with Message-ID <MID> and Postmark MessageID PMID. */
static char *inbound(struct fixture *f, const char *mid, const char *pmid)
{
    return fixture(f, "email-postmark/inbound.json", "MID", mid, "PMID", pmid, NULL);
}

/* JSON with FN applied to its parsed root (kept). */
static char *edited(struct fixture *f, const char *json, void (*fn)(cJSON *root, void *arg),
                    void *arg)
{
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    fn(root, arg);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    assert_non_null(out);
    return ts_keep(&f->kept, out);
}

static void set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    assert_non_null(cJSON_AddStringToObject(obj, key, value));
}

/* ---- sending -------------------------------------------------------------------------- */

struct sent {
    long status;
    unsigned long long event;
    char body[256];
};

/* "Authorization: Basic ..." for USER:PASS into OUT. */
static void basic(const char *user_pass, char *out, size_t len)
{
    char b64[256];
    assert_true(gw_base64_encode((const unsigned char *)user_pass, strlen(user_pass), b64,
                                 sizeof b64, 0) > 0);
    snprintf(out, len, "Authorization: Basic %s", b64);
}

/* POSTs BODY to ENDPOINT as CONTENT_TYPE with AUTH (a header line; NULL: the right basic
 * auth, "": none). */
static struct sent post_as(struct fixture *f, const char *endpoint, const char *content_type,
                           const char *body, const char *auth)
{
    char url[160], right[300], ctype[128];
    ts_hook_url(&f->srv, endpoint, url, sizeof url);
    if (auth == NULL) {
        basic(USER ":" PASSWORD, right, sizeof right);
        auth = right;
    }
    snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
    const char *headers[3] = {ctype, auth[0] != '\0' ? auth : NULL, NULL};
    struct ts_http r;
    if (ts_http("POST", url, headers, body, &r) != 0)
        fail_msg("POST %s: %s\n%s", url, r.error, ts_server_log_tail(&f->srv));
    struct sent s = {.status = r.status, .event = ts_answer_id(r.body ? r.body : "")};
    snprintf(s.body, sizeof s.body, "%s", r.body ? r.body : "");
    size_t n = strlen(s.body);
    while (n > 0 && s.body[n - 1] == '\n')
        s.body[--n] = '\0';
    ts_http_free(&r);
    return s;
}

static struct sent post(struct fixture *f, const char *json)
{
    return post_as(f, "postmark", "application/json", json, NULL);
}

static const char *settled(struct fixture *f, unsigned long long id)
{
    return ts_keep(&f->kept, ts_event_settled(&f->db, &f->srv, id, WAIT_MS));
}

/* Sends BODY to ENDPOINT, expects WANT and the event to end done; returns the event. */
static unsigned long long deliver_to(struct fixture *f, const char *endpoint,
                                     const char *content_type, const char *body, long want)
{
    struct sent s = post_as(f, endpoint, content_type, body, NULL);
    if (s.status != want || s.event == 0)
        fail_msg("POST %s answered %ld %s%s", endpoint, s.status, s.body,
                 ts_server_log_tail(&f->srv));
    const char *got = settled(f, s.event);
    if (strcmp(got, "done") != 0) {
        char *err =
            ts_db_showf(&f->db, "SELECT last_error FROM webhook_events WHERE id = %llu", s.event);
        fail_msg("event %llu ended %s (%s)%s", s.event, got, ts_keep(&f->kept, err),
                 ts_server_log_tail(&f->srv));
    }
    return s.event;
}

static unsigned long long deliver(struct fixture *f, const char *json)
{
    return deliver_to(f, "postmark", "application/json", json, 200);
}

static char *result_field(struct fixture *f, unsigned long long id, const char *field)
{
    return ts_keep(&f->kept, ts_event_result(&f->db, id, field));
}

/* What a message made of its job: title, status, source, contact; the comment's visibility,
 * body and Message-ID; its attachments (name, type, size) — one line. */
static char *outcome(struct fixture *f, unsigned long long event)
{
    const char *job = result_field(f, event, "job_id");
    const char *comment = result_field(f, event, "comment_id");
    char *a =
        ts_keep(&f->kept, ts_db_showf(&f->db,
                                      "SELECT CONCAT_WS('|', j.title, j.status, j.source, c.name, "
                                      "c.email) FROM jobs j JOIN contacts c ON c.id = j.contact_id "
                                      "WHERE j.id = %s",
                                      job));
    char *b =
        ts_keep(&f->kept, ts_db_showf(&f->db,
                                      "SELECT CONCAT_WS('|', visibility, body, author_label) FROM "
                                      "job_comments WHERE id = %s",
                                      comment));
    char *c = ts_keep(&f->kept, ts_db_showf(&f->db,
                                            "SELECT IFNULL(GROUP_CONCAT(CONCAT_WS('|', filename, "
                                            "content_type, size) ORDER BY id SEPARATOR ';'), '') "
                                            "FROM attachments WHERE comment_id = %s",
                                            comment));
    size_t len = strlen(a) + strlen(b) + strlen(c) + 8;
    char *all = ts_keep(&f->kept, test_must_alloc(malloc(len)));
    snprintf(all, len, "%s / %s / %s", a, b, c);
    return all;
}

static long long events(struct fixture *f)
{
    return ts_db_int(&f->db, "SELECT COUNT(*) FROM webhook_events");
}

/* ---- the tests ------------------------------------------------------------------------ */

static void test_same_job_and_comment_as_email_mime(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    const char *mime_mid = unique(f, "mime.");
    unsigned long long by_mime =
        deliver_to(f, "mime", "message/rfc822",
                   fixture(f, "email/attachment.eml", "MID", mime_mid, NULL), 202);
    const char *pm_mid = unique(f, "pm.");
    struct sent s = post(f, inbound(f, pm_mid, "73e6d360-66eb-11e1-8e72-a8904824019b"));
    assert_int_equal(s.status, 200);
    char want[64];
    snprintf(want, sizeof want, "{\"id\":\"%llu\"}", s.event);
    assert_string_equal(s.body, want);
    assert_string_equal(settled(f, s.event), "done");
    unsigned long long by_postmark = s.event;

    const char *expected = "Invoice copy|new|email|Jane Customer|jane@customer.example / "
                           "public|Please find the report attached.|Jane Customer "
                           "<jane@customer.example> / report.pdf|application/pdf|2087";
    assert_string_equal(outcome(f, by_mime), expected);
    assert_string_equal(outcome(f, by_postmark), expected);
    assert_string_equal(result_field(f, by_postmark, "new_job"), "true");
    assert_string_equal(result_field(f, by_postmark, "attachments"), "1");
    /* The same bytes: one blob. The Message-ID of the headers, not Postmark's, is stored. */
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM attachment_blobs");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE email_message_id = '<%s>' AND id = %s",
                  pm_mid, result_field(f, by_postmark, "comment_id"));
    ts_expect_text(&f->db, &f->srv,
                   "email-postmark|73e6d360-66eb-11e1-8e72-a8904824019b|application/json",
                   "SELECT CONCAT_WS('|', provider, dedupe_key, content_type) FROM "
                   "webhook_events WHERE id = %llu",
                   by_postmark);
    ts_expect_int(&f->db, &f->srv, f->acme, "SELECT company_id FROM webhook_events WHERE id = %llu",
                  by_postmark);
}

static void test_replay_is_stored_once(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    const char *mid = unique(f, "r.");
    const char *json = inbound(f, mid, "0f6c9b43-1111-4a1b-9d0e-5f2f6a1c0001");
    unsigned long long e1 = deliver(f, json);
    /* Postmark retrying the same post: the same event, answered 200 again. */
    struct sent again = post(f, json);
    assert_int_equal(again.status, 200);
    assert_int_equal(again.event, e1);
    assert_int_equal(events(f), 1);
    /* The same message under another Postmark MessageID (sent to two inbound streams): a new
     * event, but no second comment. */
    unsigned long long e2 = deliver(f, inbound(f, mid, "0f6c9b43-1111-4a1b-9d0e-5f2f6a1c0002"));
    assert_true(e2 != e1);
    assert_string_equal(result_field(f, e2, "duplicate"), "true");
    ts_expect_int(&f->db, &f->srv, 1,
                  "SELECT COUNT(*) FROM job_comments WHERE email_message_id = '<%s>'", mid);
}

static void test_wrong_credentials_are_401_and_nothing_stored(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    const char *json = inbound(f, unique(f, "a."), "0f6c9b43-2222-4a1b-9d0e-5f2f6a1c0001");
    char wrong[300], other_user[300];
    basic(USER ":not-the-password-0000", wrong, sizeof wrong);
    basic("someone:" PASSWORD, other_user, sizeof other_user);
    assert_int_equal(post_as(f, "postmark", "application/json", json, wrong).status, 401);
    assert_int_equal(post_as(f, "postmark", "application/json", json, other_user).status, 401);
    assert_int_equal(post_as(f, "postmark", "application/json", json, "").status, 401);
    assert_int_equal(events(f), 0);
    if (!ts_db_wait_int(&f->db, 3, WAIT_MS,
                        "SELECT COUNT(*) FROM audit_log WHERE endpoint = 'postmark'"))
        fail_msg("the refusals were not audited%s", ts_server_log_tail(&f->srv));
    ts_expect_int(&f->db, &f->srv, 0, "SELECT COUNT(*) FROM jobs");
}

static void drop_message_id(cJSON *root, void *arg)
{
    (void)arg;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "MessageID");
}

static void bad_base64(cJSON *root, void *arg)
{
    (void)arg;
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "Attachments"), 0);
    set_string(a, "Content", "JVBERi0x*not base64*");
}

static void headers_not_array(cJSON *root, void *arg)
{
    (void)arg;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "Headers");
    assert_non_null(cJSON_AddNumberToObject(root, "Headers", 7));
}

static void raw_not_message(cJSON *root, void *arg)
{
    (void)arg;
    set_string(root, "RawEmail", "just some text\r\n\r\nno headers");
}

static void subject_a_number(cJSON *root, void *arg)
{
    (void)arg;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "Subject");
    assert_non_null(cJSON_AddNumberToObject(root, "Subject", 1));
}

/* The attachment's base64 in lines of 76, as MIME writes it. */
static void wrapped_base64(cJSON *root, void *arg)
{
    (void)arg;
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "Attachments"), 0);
    const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "Content"));
    assert_non_null(b64);
    size_t len = strlen(b64);
    char *out = test_must_alloc(malloc(len + len / 76 * 2 + 1));
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && i % 76 == 0) {
            out[n++] = '\r';
            out[n++] = '\n';
        }
        out[n++] = b64[i];
    }
    out[n] = '\0';
    set_string(a, "Content", out);
    free(out);
}

static void test_never_storable_is_403(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    const char *json = inbound(f, unique(f, "m."), "0f6c9b43-3333-4a1b-9d0e-5f2f6a1c0001");
    struct {
        const char *body, *error;
    } cases[] = {
        {"{\"MessageID\": \"x\", ", "invalid_json"},
        {"[1, 2]", "invalid_json"},
        {edited(f, json, drop_message_id, NULL), "invalid_message_id"},
        {edited(f, json, bad_base64, NULL), "invalid_attachment"},
        {edited(f, json, headers_not_array, NULL), "invalid_field"},
        {edited(f, json, raw_not_message, NULL), "invalid_raw_email"},
        {edited(f, json, subject_a_number, NULL), "invalid_field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sent s = post(f, cases[i].body);
        char want[96];
        snprintf(want, sizeof want, "{\"error\":\"%s\"}", cases[i].error);
        if (s.status != 403 || strcmp(s.body, want) != 0)
            fail_msg("case %zu: %ld %s, want 403 %s", i, s.status, s.body, want);
    }
    assert_int_equal(events(f), 0);
    ts_expect_int(&f->db, &f->srv, 0, "SELECT COUNT(*) FROM jobs");
    /* The right post still goes through afterwards, its base64 in lines or not. */
    deliver(f, json);
    unsigned long long e =
        deliver(f, edited(f, inbound(f, unique(f, "w."), "0f6c9b43-3333-4a1b-9d0e-5f2f6a1c0002"),
                          wrapped_base64, NULL));
    ts_expect_text(&f->db, &f->srv, "report.pdf|2087",
                   "SELECT CONCAT_WS('|', filename, size) FROM attachments WHERE comment_id = %s",
                   result_field(f, e, "comment_id"));
}

struct raw_arg {
    const char *raw;
};

static void with_raw(cJSON *root, void *arg)
{
    const struct raw_arg *r = arg;
    set_string(root, "RawEmail", r->raw);
    /* The parsed fields say something else: RawEmail wins. */
    set_string(root, "TextBody", "not this text");
    set_string(root, "Subject", "not this subject");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "Attachments");
}

static void test_raw_email_is_used_when_present(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    const char *mid = unique(f, "raw.");
    struct raw_arg r = {.raw = fixture(f, "email/attachment.eml", "MID", mid, NULL)};
    unsigned long long e = deliver(
        f, edited(f, inbound(f, mid, "0f6c9b43-4444-4a1b-9d0e-5f2f6a1c0001"), with_raw, &r));
    assert_string_equal(outcome(f, e),
                        "Invoice copy|new|email|Jane Customer|jane@customer.example / "
                        "public|Please find the report attached.|Jane Customer "
                        "<jane@customer.example> / report.pdf|application/pdf|2087");
}

struct reply_arg {
    const char *mid, *recipient, *hash;
};

/* A reply with no threading header and no subject tag, to RECIPIENT with MailboxHash HASH. */
static void as_reply(cJSON *root, void *arg)
{
    const struct reply_arg *r = arg;
    set_string(root, "OriginalRecipient", r->recipient);
    set_string(root, "MailboxHash", r->hash);
    set_string(root, "To", r->recipient);
    cJSON *to_full = cJSON_CreateArray();
    cJSON *to = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(to, "Email", r->recipient));
    assert_non_null(cJSON_AddStringToObject(to, "Name", ""));
    assert_non_null(cJSON_AddStringToObject(to, "MailboxHash", r->hash));
    cJSON_AddItemToArray(to_full, to);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "ToFull");
    cJSON_AddItemToObject(root, "ToFull", to_full);
    set_string(root, "Subject", "Thanks");
    set_string(root, "TextBody", "Got it, thanks.");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "Attachments");
    cJSON *headers = cJSON_CreateArray();
    cJSON *h = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(h, "Name", "Message-ID"));
    char id[128];
    snprintf(id, sizeof id, "<%s>", r->mid);
    assert_non_null(cJSON_AddStringToObject(h, "Value", id));
    cJSON_AddItemToArray(headers, h);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "Headers");
    cJSON_AddItemToObject(root, "Headers", headers);
}

static void test_mailbox_hash_threads_into_the_job(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    unsigned long long first =
        deliver(f, inbound(f, unique(f, "t."), "0f6c9b43-5555-4a1b-9d0e-5f2f6a1c0001"));
    const char *job = result_field(f, first, "job_id");
    const char *ref = result_field(f, first, "ref");
    char reply[GW_MAIL_THREAD_ID_SIZE];
    assert_int_equal(
        gw_mail_thread_reply_address(&f->t, (uint64_t)f->acme, ref, reply, sizeof reply), 0);
    /* The hash: what follows "reply+" up to the '@'. */
    char hash[GW_MAIL_THREAD_ID_SIZE];
    snprintf(hash, sizeof hash, "%.*s", (int)(strchr(reply, '@') - reply - 6), reply + 6);

    /* To Postmark's own inbound address, HASH+TAG@inbound.postmarkapp.com: the MailboxHash
     * is our thread id; the MAC says which company and which job. */
    char postmark_addr[GW_MAIL_THREAD_ID_SIZE + 64];
    snprintf(postmark_addr, sizeof postmark_addr,
             "451d9b70cf9364d23ff6f9d51d870251+%s@inbound.postmarkapp.com", hash);
    struct reply_arg r1 = {.mid = unique(f, "t."), .recipient = postmark_addr, .hash = hash};
    unsigned long long e1 = deliver(
        f, edited(f, inbound(f, "x", "0f6c9b43-5555-4a1b-9d0e-5f2f6a1c0002"), as_reply, &r1));
    assert_string_equal(result_field(f, e1, "job_id"), job);
    assert_string_equal(result_field(f, e1, "by"), "reply-address");
    assert_string_equal(result_field(f, e1, "new_job"), "false");

    /* Forwarded from our own reply+ address: the same. */
    struct reply_arg r2 = {.mid = unique(f, "t."), .recipient = reply, .hash = hash};
    unsigned long long e2 = deliver(
        f, edited(f, inbound(f, "x", "0f6c9b43-5555-4a1b-9d0e-5f2f6a1c0003"), as_reply, &r2));
    assert_string_equal(result_field(f, e2, "job_id"), job);
    assert_string_equal(result_field(f, e2, "by"), "reply-address");

    /* A hash whose MAC is wrong threads nowhere: no company takes it. */
    char forged[GW_MAIL_THREAD_ID_SIZE];
    snprintf(forged, sizeof forged, "%s", hash);
    char *mac = strchr(forged, '.') + 1;
    mac[0] = mac[0] == '0' ? '1' : '0';
    snprintf(postmark_addr, sizeof postmark_addr,
             "451d9b70cf9364d23ff6f9d51d870251+%s@inbound.postmarkapp.com", forged);
    struct reply_arg r3 = {.mid = unique(f, "t."), .recipient = postmark_addr, .hash = forged};
    struct sent s =
        post(f, edited(f, inbound(f, "x", "0f6c9b43-5555-4a1b-9d0e-5f2f6a1c0004"), as_reply, &r3));
    assert_int_equal(s.status, 200);
    assert_string_equal(settled(f, s.event), "ignored");
    ts_expect_int(&f->db, &f->srv, 3, "SELECT COUNT(*) FROM job_comments WHERE job_id = %s", job);
}

/* The database unreachable (a socket nothing listens on): the gateway's 503 with
 * Retry-After, which Postmark retries (it stops only on 403). */
static void test_database_down_is_retried(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    ts_server_stop_clean("ctgw", &f->srv);
    char *text = ts_keep(&f->kept, test_read(f->srv.config, NULL));
    char closed[400];
    snprintf(closed, sizeof closed, "%s/closed.sock", f->srv.dir);
    char *down = ts_keep(&f->kept, test_replace(text, ts_env("CTGW_DB_SOCKET"), closed));
    free(test_write_text(f->srv.dir, "ctgw.yaml", down, 0600));
    if (!ts_server_start(&f->srv))
        fail_msg("ctgw did not start without its database:\n%s", ts_server_log_tail(&f->srv));
    char url[160], auth[300];
    ts_hook_url(&f->srv, "postmark", url, sizeof url);
    basic(USER ":" PASSWORD, auth, sizeof auth);
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    struct ts_http r;
    assert_int_equal(ts_http("POST", url, headers,
                             inbound(f, unique(f, "d."), "0f6c9b43-6666-4a1b-9d0e-5f2f6a1c0001"),
                             &r),
                     0);
    char retry[32];
    if (r.status != 503 || ts_http_header(&r, "Retry-After", retry, sizeof retry) == NULL)
        fail_msg("want 503 with Retry-After, got %ld: %s%s", r.status, r.body,
                 ts_server_log_tail(&f->srv));
    assert_non_null(strstr(r.body, "\"unavailable\""));
    ts_http_free(&r);
    assert_int_equal(events(f), 0);
}

/* `ctgw sign`'s curl command, run with the password in $CTGW_PASSWORD, is accepted. */
static void test_sign_command_posts(void **state)
{
    struct fixture *f = *state;
    prepare(f);
    char *body = ts_keep(
        &f->kept,
        test_write_text(f->srv.dir, "post.json",
                        inbound(f, unique(f, "s."), "0f6c9b43-7777-4a1b-9d0e-5f2f6a1c0001"), 0600));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' sign -c '%s' --endpoint postmark --body '%s'", ts_ctgw_path(),
             f->srv.config, body);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    char *curl = NULL;
    assert_int_equal(ts_run(argv, &curl), 0);
    ts_keep(&f->kept, curl);
    assert_null(strstr(curl, PASSWORD));
    char run[4096];
    snprintf(run, sizeof run, "export CTGW_PASSWORD='%s'; %s", PASSWORD, curl);
    char *argv2[] = {"/bin/sh", "-c", run, NULL};
    char *answer = NULL;
    assert_int_equal(ts_run(argv2, &answer), 0);
    ts_keep(&f->kept, answer);
    unsigned long long id = ts_answer_id(answer);
    if (id == 0)
        fail_msg("curl got '%s'", answer);
    assert_string_equal(settled(f, id), "done");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_job_and_comment_as_email_mime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_is_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_credentials_are_401_and_nothing_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_never_storable_is_403, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_email_is_used_when_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mailbox_hash_threads_into_the_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_down_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_command_posts, setup, teardown),
    };
    return ts_run_group(tests);
}
