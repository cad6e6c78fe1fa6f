/* test_email_mailgun.c — provider email-mailgun end to end (real HTTP into ctgw, real MariaDB,
 * the workers applying): Mailgun's mime route (body-mime) and its parsed posts, multipart with
 * an attachment and urlencoded, each from tests/fixtures/email-mailgun/ carrying a message of
 * tests/fixtures/email/, end as the same job and comment as that message through email-mime;
 * a repeat is one event; a wrong signature and a replayed token are 401 with nothing stored;
 * what is refused for good is 406 (Mailgun does not retry it); the database down is 503. */
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

#include <cmocka.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/mail_relay.h"
#include "tests/support/proc.h"
#include "verifiers/base64.h"
#include "verifiers/mailgun.h"

#define SIGNING_KEY "ct-test-mailgun-signing-key"
#define SUPPORT     TS_RELAY_SUPPORT
#define MULTIPART   "multipart/form-data; boundary=ctgw-mailgun-7f3c9e21"
#define URLENCODED  "application/x-www-form-urlencoded"

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    unsigned seq; /* makes Message-IDs and tokens unique within a test */
    struct ts_kept kept;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "mailgun");
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
    ts_db_drop(&f->db);
    ts_kept_free(&f->kept);
    free(f);
    return 0;
}

/* The config: email-mime for the reference, email-mailgun as Mailgun posts to it. */
static void start(struct fixture *f)
{
    ts_relay_prepare(&f->srv, &f->db,
                     "  - id: mailgun\n"
                     "    provider: email-mailgun\n"
                     "    secrets: [ \"file:mailgun.key\" ]\n");
    free(test_write_text(f->srv.dir, "mailgun.key", SIGNING_KEY, 0600));
    ts_relay_start(&f->srv, &f->db);
}

/* A fresh Message-ID's inside, "mgN.PID@customer.example" (kept). */
static const char *new_mid(struct fixture *f)
{
    char id[96];
    snprintf(id, sizeof id, "mg%u.%ld@customer.example", ++f->seq, (long)getpid());
    return ts_keep(&f->kept, strdup(id));
}

/* A fresh token of Mailgun's 50 characters (kept). */
static const char *new_token(struct fixture *f)
{
    char t[64];
    snprintf(t, sizeof t, "%08u%010ld%032d", ++f->seq, (long)getpid(), 0);
    t[50] = '\0';
    return ts_keep(&f->kept, strdup(t));
}

/* The signature of TIMESTAMP and TOKEN under KEY (kept). */
static const char *sign(struct fixture *f, const char *key, int64_t timestamp, const char *token)
{
    struct gw_secret s = {.data = (char *)key, .len = strlen(key)};
    char sig[GW_MAILGUN_SIGNATURE_SIZE];
    assert_int_equal(gw_mailgun_sign(&s, timestamp, token, sig, sizeof sig), 0);
    return ts_keep(&f->kept, strdup(sig));
}

/* Fixture email-mailgun/NAME signed now with KEY, the message Message-ID <MID>, the envelope
 * recipient SUPPORT; @@MESSAGE@@ is MESSAGE, @@ATTACHMENT@@ the report. */
static struct ts_bytes request(struct fixture *f, const char *name, const char *mid,
                               const char *message, const char *key)
{
    int64_t now = (int64_t)time(NULL);
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    const char *token = new_token(f);
    struct ts_bytes b = ts_relay_fixture(name, "MID", mid, "RECIPIENT", SUPPORT, "TIMESTAMP", ts,
                                         "TOKEN", token, "SIGNATURE", sign(f, key, now, token),
                                         "MESSAGE", message != NULL ? message : "", NULL);
    struct ts_bytes pdf = ts_relay_report_pdf();
    ts_relay_splice(&b, "ATTACHMENT", pdf.p, pdf.len);
    ts_bytes_free(&pdf);
    return b;
}

/* tests/fixtures/email/NAME with Message-ID <MID> (kept). */
static const char *message(struct fixture *f, const char *name, const char *mid)
{
    return ts_keep(&f->kept, ts_relay_message(name, mid));
}

/* The message through email-mime, applied: its event. */
static unsigned long long through_mime(struct fixture *f, const char *text)
{
    return ts_relay_through_mime(&f->db, &f->srv, text);
}

/* BODY through the Mailgun endpoint: expects 200 and the event applied. */
static unsigned long long through_mailgun(struct fixture *f, const char *content_type,
                                          const struct ts_bytes *body)
{
    struct ts_relay_sent s = ts_relay_post(&f->srv, "mailgun", content_type, NULL, body);
    if (s.status != 200 || s.event == 0)
        fail_msg("Mailgun's post answered %ld %s%s", s.status, s.body, ts_server_log_tail(&f->srv));
    ts_relay_settled(&f->db, &f->srv, s.event, "done");
    return s.event;
}

static long long events(struct fixture *f)
{
    return ts_db_int(&f->db, "SELECT COUNT(*) FROM webhook_events");
}

static void test_mime_route_is_the_message(void **state)
{
    struct fixture *f = *state;
    start(f);
    unsigned long long a = through_mime(f, message(f, "attachment.eml", new_mid(f)));
    const char *mid = new_mid(f);
    struct ts_bytes b =
        request(f, "email-mailgun/mime.form", mid, message(f, "attachment.eml", mid), SIGNING_KEY);
    unsigned long long e = through_mailgun(f, MULTIPART, &b);
    ts_bytes_free(&b);
    ts_relay_same_outcome(&f->db, &f->srv, a, e);
    /* Stored with its Message-Id and recipient as the dedupe key, the Content-Type kept. */
    ts_expect_text(&f->db, &f->srv, "email-mailgun",
                   "SELECT provider FROM webhook_events WHERE id = %llu", e);
    char key[200];
    snprintf(key, sizeof key, "<%s> " SUPPORT, mid);
    ts_expect_text(&f->db, &f->srv, key, "SELECT dedupe_key FROM webhook_events WHERE id = %llu",
                   e);
    /* Mailgun retries with a new token and signature: the same event, no new comment. */
    b = request(f, "email-mailgun/mime.form", mid, message(f, "attachment.eml", mid), SIGNING_KEY);
    struct ts_relay_sent again = ts_relay_post(&f->srv, "mailgun", MULTIPART, NULL, &b);
    ts_bytes_free(&b);
    assert_int_equal(again.status, 200);
    assert_int_equal(again.event, e);
    ts_expect_int(&f->db, &f->srv, 2, "SELECT COUNT(*) FROM job_comments");
}

static void test_parsed_multipart_with_attachment(void **state)
{
    struct fixture *f = *state;
    start(f);
    unsigned long long a = through_mime(f, message(f, "attachment.eml", new_mid(f)));
    struct ts_bytes b =
        request(f, "email-mailgun/parsed-attachment.form", new_mid(f), NULL, SIGNING_KEY);
    unsigned long long e = through_mailgun(f, MULTIPART, &b);
    ts_bytes_free(&b);
    ts_relay_same_outcome(&f->db, &f->srv, a, e);
    /* The attachment's bytes are the same bytes: stored once. */
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM attachment_blobs");
}

static void test_parsed_urlencoded(void **state)
{
    struct fixture *f = *state;
    start(f);
    unsigned long long a = through_mime(f, message(f, "windows-1252.eml", new_mid(f)));
    struct ts_bytes b =
        request(f, "email-mailgun/parsed.urlencoded", new_mid(f), NULL, SIGNING_KEY);
    unsigned long long e = through_mailgun(f, URLENCODED, &b);
    ts_bytes_free(&b);
    ts_relay_same_outcome(&f->db, &f->srv, a, e);
}

static void test_wrong_signature_and_replayed_token(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *mid = new_mid(f);
    const char *m = message(f, "attachment.eml", mid);
    /* Signed with another key: 401, nothing stored. */
    struct ts_bytes b = request(f, "email-mailgun/mime.form", mid, m, "not-the-signing-key-000");
    struct ts_relay_sent s = ts_relay_post(&f->srv, "mailgun", MULTIPART, NULL, &b);
    ts_bytes_free(&b);
    assert_int_equal(s.status, 401);
    assert_int_equal(events(f), 0);
    /* The right key, then the very same request again (a captured one replayed): 401. */
    b = request(f, "email-mailgun/mime.form", mid, m, SIGNING_KEY);
    s = ts_relay_post(&f->srv, "mailgun", MULTIPART, NULL, &b);
    assert_int_equal(s.status, 200);
    struct ts_relay_sent replay = ts_relay_post(&f->srv, "mailgun", MULTIPART, NULL, &b);
    ts_bytes_free(&b);
    assert_int_equal(replay.status, 401);
    assert_int_equal(events(f), 1);
    if (!ts_db_wait_int(&f->db, 2, 20000,
                        "SELECT COUNT(*) FROM audit_log WHERE endpoint = 'mailgun'"))
        fail_msg("the refusals were not audited%s", ts_server_log_tail(&f->srv));
}

static void test_refused_for_good_is_406(void **state)
{
    struct fixture *f = *state;
    start(f);
    /* body-mime that is no message. */
    struct ts_bytes b = request(f, "email-mailgun/mime.form", new_mid(f),
                                "just some text\r\n\r\nno headers", SIGNING_KEY);
    struct ts_relay_sent s = ts_relay_post(&f->srv, "mailgun", MULTIPART, NULL, &b);
    ts_bytes_free(&b);
    assert_int_equal(s.status, 406);
    assert_non_null(strstr(s.body, "not_a_message"));
    /* message-headers that is not JSON pairs. */
    b = request(f, "email-mailgun/parsed.urlencoded", new_mid(f), NULL, SIGNING_KEY);
    char *broken = test_replace(b.p, "message-headers=%5B", "message-headers=%7B");
    ts_bytes_free(&b);
    b = (struct ts_bytes){.p = broken, .len = strlen(broken)};
    s = ts_relay_post(&f->srv, "mailgun", URLENCODED, NULL, &b);
    ts_bytes_free(&b);
    assert_int_equal(s.status, 406);
    assert_non_null(strstr(s.body, "invalid_message_headers"));
    assert_int_equal(events(f), 0);
}

/* FORM (urlencoded, malloc'd, freed) without its field NAME. */
static char *drop_field(char *form, const char *name)
{
    char at[64];
    snprintf(at, sizeof(at), "%s=", name);
    char *start = strstr(form, at);
    assert_non_null(start);
    char *end = strchr(start, '&');
    size_t keep = (size_t)(start - form);
    char *out = malloc(strlen(form) + 1);
    assert_non_null(out);
    memcpy(out, form, keep);
    strcpy(out + keep, end != NULL ? end + 1 : "");
    free(form);
    return out;
}

/* Posts without message-headers or a Message-Id (Mailgun sends the headers as fields too):
 * two different mails to one recipient are two events, not one and a repeat. */
static void test_posts_without_message_headers_are_not_repeats(void **state)
{
    struct fixture *f = *state;
    start(f);
    for (int i = 0; i < 2; i++) {
        struct ts_bytes b =
            request(f, "email-mailgun/parsed.urlencoded", new_mid(f), NULL, SIGNING_KEY);
        char *form = drop_field(drop_field(b.p, "message-headers"), "Message-Id");
        char body[32];
        snprintf(body, sizeof(body), "body-plain=Mail+%d+", i);
        char *changed = test_replace(form, "body-plain=", body);
        free(form);
        b = (struct ts_bytes){.p = changed, .len = strlen(changed)};
        struct ts_relay_sent s = ts_relay_post(&f->srv, "mailgun", URLENCODED, NULL, &b);
        ts_bytes_free(&b);
        assert_int_equal(s.status, 200);
    }
    assert_int_equal(events(f), 2);
}

static void test_database_down_is_503(void **state)
{
    struct fixture *f = *state;
    start(f);
    /* A second ctgw whose database is a socket nothing listens on: verified, not stored. */
    struct ts_server down;
    ts_relay_start_db_down(&f->srv, &down);
    const char *mid = new_mid(f);
    struct ts_bytes b =
        request(f, "email-mailgun/mime.form", mid, message(f, "attachment.eml", mid), SIGNING_KEY);
    struct ts_relay_sent s = ts_relay_post(&down, "mailgun", MULTIPART, NULL, &b);
    ts_bytes_free(&b);
    ts_server_stop_clean("ctgw without its database", &down);
    assert_int_equal(s.status, 503);
    assert_int_equal(events(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mime_route_is_the_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parsed_multipart_with_attachment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parsed_urlencoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_signature_and_replayed_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_for_good_is_406, setup, teardown),
        cmocka_unit_test_setup_teardown(test_posts_without_message_headers_are_not_repeats, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_database_down_is_503, setup, teardown),
    };
    return ts_run_group(tests);
}
