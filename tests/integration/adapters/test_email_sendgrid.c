/* test_email_sendgrid.c — provider email-sendgrid end to end (real HTTP into ctgw, real
 * MariaDB, the workers applying): SendGrid Inbound Parse's parsed mode (with an attachment,
 * and with text in the charset `charsets` names) and raw mode, each from
 * tests/fixtures/email-sendgrid/ carrying a message of tests/fixtures/email/, end as the same
 * job and comment as that message through email-mime; a repeat is one event; wrong basic auth,
 * a wrong token or none are 401 with nothing stored; the signed policy (ECDSA) verifies with
 * the endpoint's public_key and refuses a bad or stale signature; what is refused for good is
 * 400; the database down is 503. */
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
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/mail_relay.h"
#include "tests/support/pki.h"
#include "tests/support/proc.h"
#include "verifiers/base64.h"
#include "verifiers/sendgrid.h"

#define SG_USER   "sendgrid"
#define SG_PASS   "parse-password-0123456789"
#define SG_TOKEN  "parse-token-0123456789abcdef"
#define SUPPORT   TS_RELAY_SUPPORT
#define MULTIPART "multipart/form-data; boundary=xYzZY"

struct fixture {
    struct ts_db db;
    struct ts_server srv;
    EVP_PKEY *key; /* the signed policy's key pair, made here */
    unsigned seq;  /* makes Message-IDs unique within a test */
    struct ts_kept kept;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "sendgrid");
    f->key = pki_key("EC", 0);
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
    EVP_PKEY_free(f->key);
    ts_kept_free(&f->kept);
    free(f);
    return 0;
}

/* The public half of the policy key as SendGrid shows it: base64 of its DER. */
static void write_public_key(struct fixture *f)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(f->key, &der);
    assert_true(n > 0);
    char b64[256];
    assert_true(gw_base64_encode(der, (size_t)n, b64, sizeof b64, 0) > 0);
    OPENSSL_free(der);
    strcat(b64, "\n");
    free(test_write_text(f->srv.dir, "sendgrid.pub", b64, 0644));
}

/* The config: email-mime for the reference; SendGrid with basic auth, with a token, and
 * with a signed policy. */
static void start(struct fixture *f)
{
    ts_relay_prepare(&f->srv, &f->db,
                     "  - id: parse\n"
                     "    provider: email-sendgrid\n"
                     "    username: " SG_USER "\n"
                     "    password: file:sendgrid.password\n"
                     "  - id: parse-token\n"
                     "    provider: email-sendgrid\n"
                     "    token: file:sendgrid.token\n"
                     "    header: X-Parse-Token\n"
                     "  - id: parse-signed\n"
                     "    provider: email-sendgrid\n"
                     "    public_key: file:sendgrid.pub\n");
    free(test_write_text(f->srv.dir, "sendgrid.password", SG_PASS, 0600));
    free(test_write_text(f->srv.dir, "sendgrid.token", SG_TOKEN, 0600));
    write_public_key(f);
    ts_relay_start(&f->srv, &f->db);
}

/* A fresh Message-ID's inside, "sgN.PID@customer.example" (kept). */
static const char *new_mid(struct fixture *f)
{
    char id[96];
    snprintf(id, sizeof id, "sg%u.%ld@customer.example", ++f->seq, (long)getpid());
    return ts_keep(&f->kept, strdup(id));
}

/* tests/fixtures/email/NAME with Message-ID <MID> (kept). */
static const char *message(struct fixture *f, const char *name, const char *mid)
{
    return ts_keep(&f->kept, ts_relay_message(name, mid));
}

/* Fixture email-sendgrid/NAME for Message-ID <MID>, the recipient SUPPORT; @@MESSAGE@@ is
 * MESSAGE (raw mode), @@ATTACHMENT@@ the report. */
static struct ts_bytes request(const char *name, const char *mid, const char *message_text)
{
    struct ts_bytes b = ts_relay_fixture(name, "MID", mid, "RECIPIENT", SUPPORT, "MESSAGE",
                                         message_text != NULL ? message_text : "", NULL);
    struct ts_bytes pdf = ts_relay_report_pdf();
    ts_relay_splice(&b, "ATTACHMENT", pdf.p, pdf.len);
    ts_bytes_free(&pdf);
    return b;
}

/* "Authorization: Basic ..." of CREDENTIAL (kept). */
static const char *basic(struct fixture *f, const char *credential)
{
    char b64[256], line[300];
    assert_true(gw_base64_encode((const unsigned char *)credential, strlen(credential), b64,
                                 sizeof b64, 0) > 0);
    snprintf(line, sizeof line, "Authorization: Basic %s", b64);
    return ts_keep(&f->kept, strdup(line));
}

/* The message through email-mime, applied: its event. */
static unsigned long long through_mime(struct fixture *f, const char *text)
{
    return ts_relay_through_mime(&f->db, &f->srv, text);
}

/* BODY through ENDPOINT with the header lines EXTRA: expects 200 and the event applied. */
static unsigned long long through_sendgrid(struct fixture *f, const char *endpoint,
                                           const char *const *extra, const struct ts_bytes *body)
{
    struct ts_relay_sent s = ts_relay_post(&f->srv, endpoint, MULTIPART, extra, body);
    if (s.status != 200 || s.event == 0)
        fail_msg("SendGrid's post answered %ld %s%s", s.status, s.body,
                 ts_server_log_tail(&f->srv));
    ts_relay_settled(&f->db, &f->srv, s.event, "done");
    return s.event;
}

static long long events(struct fixture *f)
{
    return ts_db_int(&f->db, "SELECT COUNT(*) FROM webhook_events");
}

static void test_parsed_with_attachment(void **state)
{
    struct fixture *f = *state;
    start(f);
    unsigned long long a = through_mime(f, message(f, "attachment.eml", new_mid(f)));
    const char *mid = new_mid(f);
    struct ts_bytes b = request("email-sendgrid/parsed-attachment.form", mid, NULL);
    const char *auth[] = {basic(f, SG_USER ":" SG_PASS), NULL};
    unsigned long long e = through_sendgrid(f, "parse", auth, &b);
    ts_relay_same_outcome(&f->db, &f->srv, a, e);
    char key[200];
    snprintf(key, sizeof key, "<%s> " SUPPORT, mid);
    ts_expect_text(&f->db, &f->srv, key, "SELECT dedupe_key FROM webhook_events WHERE id = %llu",
                   e);
    /* SendGrid retries: the same event, nothing new. */
    struct ts_relay_sent again = ts_relay_post(&f->srv, "parse", MULTIPART, auth, &b);
    ts_bytes_free(&b);
    assert_int_equal(again.status, 200);
    assert_int_equal(again.event, e);
    ts_expect_int(&f->db, &f->srv, 1, "SELECT COUNT(*) FROM attachment_blobs");
    ts_expect_int(&f->db, &f->srv, 2, "SELECT COUNT(*) FROM job_comments");
}

static void test_parsed_charsets(void **state)
{
    struct fixture *f = *state;
    start(f);
    unsigned long long a = through_mime(f, message(f, "windows-1252.eml", new_mid(f)));
    struct ts_bytes b = request("email-sendgrid/parsed-charset.form", new_mid(f), NULL);
    const char *auth[] = {"X-Parse-Token: " SG_TOKEN, NULL};
    unsigned long long e = through_sendgrid(f, "parse-token", auth, &b);
    ts_bytes_free(&b);
    ts_relay_same_outcome(&f->db, &f->srv, a, e);
}

static void test_raw_mode(void **state)
{
    struct fixture *f = *state;
    start(f);
    unsigned long long a = through_mime(f, message(f, "attachment.eml", new_mid(f)));
    const char *mid = new_mid(f);
    struct ts_bytes b = request("email-sendgrid/raw.form", mid, message(f, "attachment.eml", mid));
    const char *auth[] = {basic(f, SG_USER ":" SG_PASS), NULL};
    unsigned long long e = through_sendgrid(f, "parse", auth, &b);
    ts_bytes_free(&b);
    ts_relay_same_outcome(&f->db, &f->srv, a, e);
}

static void test_credentials(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *mid = new_mid(f);
    struct ts_bytes b = request("email-sendgrid/raw.form", mid, message(f, "attachment.eml", mid));
    const char *wrong[] = {basic(f, SG_USER ":not-the-password-0000"), NULL};
    const char *token_as_basic[] = {basic(f, SG_USER ":" SG_TOKEN), NULL};
    const char *wrong_token[] = {"X-Parse-Token: not-the-token-0123456789", NULL};
    const char *basic_for_token[] = {basic(f, SG_USER ":" SG_PASS), NULL};
    assert_int_equal(ts_relay_post(&f->srv, "parse", MULTIPART, wrong, &b).status, 401);
    assert_int_equal(ts_relay_post(&f->srv, "parse", MULTIPART, token_as_basic, &b).status, 401);
    assert_int_equal(ts_relay_post(&f->srv, "parse", MULTIPART, NULL, &b).status, 401);
    assert_int_equal(ts_relay_post(&f->srv, "parse-token", MULTIPART, wrong_token, &b).status, 401);
    assert_int_equal(ts_relay_post(&f->srv, "parse-token", MULTIPART, basic_for_token, &b).status,
                     401);
    /* The signed endpoint takes no password either. */
    assert_int_equal(ts_relay_post(&f->srv, "parse-signed", MULTIPART, basic_for_token, &b).status,
                     401);
    ts_bytes_free(&b);
    assert_int_equal(events(f), 0);
    if (!ts_db_wait_int(&f->db, 6, 20000,
                        "SELECT COUNT(*) FROM audit_log WHERE endpoint LIKE 'parse%%'"))
        fail_msg("the refusals were not audited%s", ts_server_log_tail(&f->srv));
}

/* The signed policy's headers for BODY at TS, signed with KEY (kept). */
static void signed_headers(struct fixture *f, EVP_PKEY *key, int64_t ts, const struct ts_bytes *b,
                           const char *out[3])
{
    char sig[GW_SENDGRID_SIGNATURE_B64_MAX + 1], line[300];
    assert_int_equal(
        gw_sendgrid_sign(key, ts, (const unsigned char *)b->p, b->len, sig, sizeof sig), 0);
    snprintf(line, sizeof line, GW_SENDGRID_TIMESTAMP_HEADER ": %lld", (long long)ts);
    out[0] = ts_keep(&f->kept, strdup(line));
    snprintf(line, sizeof line, GW_SENDGRID_SIGNATURE_HEADER ": %s", sig);
    out[1] = ts_keep(&f->kept, strdup(line));
    out[2] = NULL;
}

static void test_signed_policy(void **state)
{
    struct fixture *f = *state;
    start(f);
    unsigned long long a = through_mime(f, message(f, "attachment.eml", new_mid(f)));
    struct ts_bytes b = request("email-sendgrid/parsed-attachment.form", new_mid(f), NULL);
    int64_t now = (int64_t)time(NULL);
    const char *h[3];
    /* Another key's signature, and a stale one: 401, nothing stored. */
    EVP_PKEY *other = pki_key("EC", 0);
    signed_headers(f, other, now, &b, h);
    EVP_PKEY_free(other);
    assert_int_equal(ts_relay_post(&f->srv, "parse-signed", MULTIPART, h, &b).status, 401);
    signed_headers(f, f->key, now - 3600, &b, h);
    assert_int_equal(ts_relay_post(&f->srv, "parse-signed", MULTIPART, h, &b).status, 401);
    /* The body changed after signing. */
    signed_headers(f, f->key, now, &b, h);
    struct ts_bytes changed = {.p = test_must_alloc(malloc(b.len + 1)), .len = b.len};
    memcpy(changed.p, b.p, b.len + 1);
    char *text = strstr(changed.p, "Invoice copy"); /* the subject field, before any NUL */
    assert_non_null(text);
    text[0] = 'X';
    assert_int_equal(ts_relay_post(&f->srv, "parse-signed", MULTIPART, h, &changed).status, 401);
    ts_bytes_free(&changed);
    ts_expect_int(&f->db, &f->srv, 0,
                  "SELECT COUNT(*) FROM webhook_events WHERE endpoint = 'parse-signed'");
    /* Signed right: stored and applied like the message itself. */
    unsigned long long e = through_sendgrid(f, "parse-signed", h, &b);
    ts_bytes_free(&b);
    ts_relay_same_outcome(&f->db, &f->srv, a, e);
}

static void test_refused_for_good_is_400(void **state)
{
    struct fixture *f = *state;
    start(f);
    const char *auth[] = {basic(f, SG_USER ":" SG_PASS), NULL};
    /* Neither headers nor email; email that is no message. */
    static const char none[] = "--xYzZY\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n"
                               "hello\r\n--xYzZY--\r\n";
    struct ts_bytes b = {.p = (char *)none, .len = sizeof none - 1};
    struct ts_relay_sent s = ts_relay_post(&f->srv, "parse", MULTIPART, auth, &b);
    assert_int_equal(s.status, 400);
    assert_non_null(strstr(s.body, "not_a_message"));
    b = request("email-sendgrid/raw.form", new_mid(f), "no header here\r\n\r\nbody");
    s = ts_relay_post(&f->srv, "parse", MULTIPART, auth, &b);
    ts_bytes_free(&b);
    assert_int_equal(s.status, 400);
    /* Not a form at all. */
    static const char junk[] = "this is not multipart";
    b = (struct ts_bytes){.p = (char *)junk, .len = sizeof junk - 1};
    s = ts_relay_post(&f->srv, "parse", MULTIPART, auth, &b);
    assert_int_equal(s.status, 400);
    assert_non_null(strstr(s.body, "invalid_form"));
    assert_int_equal(events(f), 0);
}

static void test_database_down_is_503(void **state)
{
    struct fixture *f = *state;
    start(f);
    struct ts_server down;
    ts_relay_start_db_down(&f->srv, &down);
    const char *mid = new_mid(f);
    struct ts_bytes b = request("email-sendgrid/raw.form", mid, message(f, "attachment.eml", mid));
    const char *auth[] = {basic(f, SG_USER ":" SG_PASS), NULL};
    struct ts_relay_sent s = ts_relay_post(&down, "parse", MULTIPART, auth, &b);
    ts_bytes_free(&b);
    ts_server_stop_clean("ctgw without its database", &down);
    assert_int_equal(s.status, 503);
    assert_int_equal(events(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parsed_with_attachment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parsed_charsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_for_good_is_400, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_down_is_503, setup, teardown),
    };
    return ts_run_group(tests);
}
