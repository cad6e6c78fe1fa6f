/* mail_relay.c — relay request bodies from fixtures, posted, and compared with email-mime. */
#include "tests/support/mail_relay.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/checks.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "verifiers/base64.h"

#define WAIT_MS       20000
#define MIME_USER     "relay"
#define MIME_PASSWORD "relay-password-0123456789"
#define THREAD_KEY    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

void ts_relay_prepare(struct ts_server *srv, struct ts_db *db, const char *endpoints)
{
    char *yaml = NULL;
    if (asprintf(&yaml,
                 "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"
                 "mail:\n"
                 "  thread_key: file:mail.key\n"
                 "  domain: mail.test.example\n"
                 "  loop_marker: ctgw-test-loop\n"
                 "  max_per_sender_hour: 1000\n"
                 "endpoints:\n"
                 "  - id: mail\n"
                 "    provider: email-mime\n"
                 "    username: " MIME_USER "\n"
                 "    password: file:mail.password\n"
                 "%s",
                 endpoints) < 0)
        fail_msg("out of memory");
    struct ts_config c = {.db_name = db->name, .top_extra = yaml, .db_socket = true};
    ts_server_prepare(srv, &c);
    free(yaml);
    free(test_write_text(srv->dir, "mail.key", THREAD_KEY "\n", 0600));
    free(test_write_text(srv->dir, "mail.password", MIME_PASSWORD, 0600));
}

void ts_relay_start(struct ts_server *srv, struct ts_db *db)
{
    ts_ctgw_ok("migrate", srv->config, NULL);
    ts_db_exec_ok(db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme')");
    ts_db_exec_ok(db, "INSERT INTO integrations (company_id, provider, external_id, status) "
                      "SELECT id, 'email', '" TS_RELAY_SUPPORT "', 'active' FROM companies");
    if (!ts_server_start(srv))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(srv));
}

char *ts_relay_message(const char *name, const char *mid)
{
    char *text = test_fixture("email/%s", name);
    char *m = test_replace(text, "@@MID@@", mid);
    free(text);
    return m;
}

unsigned long long ts_relay_through_mime(struct ts_db *db, const struct ts_server *srv,
                                         const char *message)
{
    char b64[128], auth[200];
    const char cred[] = MIME_USER ":" MIME_PASSWORD;
    assert_true(gw_base64_encode((const unsigned char *)cred, strlen(cred), b64, sizeof b64, 0) >
                0);
    snprintf(auth, sizeof auth, "Authorization: Basic %s", b64);
    const char *extra[] = {auth, "X-Original-To: " TS_RELAY_SUPPORT, NULL};
    struct ts_bytes body = {.p = (char *)message, .len = strlen(message)};
    struct ts_relay_sent s = ts_relay_post(srv, "mail", "message/rfc822", extra, &body);
    assert_int_equal(s.status, 202);
    ts_relay_settled(db, srv, s.event, "done");
    return s.event;
}

void ts_bytes_free(struct ts_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

void ts_relay_splice(struct ts_bytes *b, const char *key, const void *data, size_t len)
{
    char needle[64];
    snprintf(needle, sizeof needle, "@@%s@@", key);
    size_t nl = strlen(needle);
    for (size_t from = 0;;) {
        char *at = from < b->len ? memmem(b->p + from, b->len - from, needle, nl) : NULL;
        if (at == NULL)
            return;
        size_t pos = (size_t)(at - b->p);
        char *p = test_must_alloc(malloc(b->len - nl + len + 1));
        memcpy(p, b->p, pos);
        memcpy(p + pos, data, len);
        memcpy(p + pos + len, at + nl, b->len - pos - nl);
        b->len = b->len - nl + len;
        p[b->len] = '\0';
        free(b->p);
        b->p = p;
        from = pos + len;
    }
}

struct ts_bytes ts_relay_fixture(const char *name, ...)
{
    size_t len = 0;
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", CTGW_SOURCE_ROOT, name);
    struct ts_bytes b = {.p = test_read(path, &len)};
    if (b.p == NULL)
        fail_msg("fixture %s cannot be read", path);
    b.len = len;
    va_list ap;
    va_start(ap, name);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
        const char *value = va_arg(ap, const char *);
        ts_relay_splice(&b, key, value, strlen(value));
    }
    va_end(ap);
    return b;
}

struct ts_bytes ts_relay_report_pdf(void)
{
    char *eml = test_fixture("email/attachment.eml");
    const char *start = strstr(eml, "base64\r\n\r\n");
    const char *end = start != NULL ? strstr(start, "\r\n--b1--") : NULL;
    if (end == NULL)
        fail_msg("email/attachment.eml has no base64 part"); /* the test ends: eml is left */
    start += strlen("base64\r\n\r\n");
    /* The base64 text without its line breaks. */
    char *b64 = test_must_alloc(malloc((size_t)(end - start) + 1));
    size_t n = 0;
    for (const char *c = start; c < end; c++)
        if (*c != '\r' && *c != '\n')
            b64[n++] = *c;
    struct ts_bytes out = {.p = test_must_alloc(malloc(n + 1))};
    bool ok = gw_base64_decode(b64, n, (unsigned char *)out.p, n, &out.len, 0);
    free(b64);
    free(eml);
    assert_true(ok);
    out.p[out.len] = '\0';
    return out;
}

struct ts_relay_sent ts_relay_post(const struct ts_server *srv, const char *endpoint,
                                   const char *content_type, const char *const *extra,
                                   const struct ts_bytes *body)
{
    char url[160], ct[300];
    ts_hook_url(srv, endpoint, url, sizeof url);
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    const char *headers[8] = {ct};
    for (size_t i = 0; extra != NULL && extra[i] != NULL && i < 6; i++)
        headers[i + 1] = extra[i];
    struct ts_http_opts o = {.body_len = body->len};
    struct ts_http r;
    if (ts_http_with("POST", url, headers, body->p, &o, &r) != 0)
        fail_msg("POST %s: %s\n%s", url, r.error, ts_server_log_tail(srv));
    struct ts_relay_sent s = {.status = r.status, .event = ts_answer_id(r.body ? r.body : "")};
    snprintf(s.body, sizeof s.body, "%s", r.body ? r.body : "");
    ts_http_free(&r);
    return s;
}

void ts_relay_settled(struct ts_db *db, const struct ts_server *srv, unsigned long long id,
                      const char *status)
{
    if (!ts_db_wait_int(db, 1, WAIT_MS,
                        "SELECT COUNT(*) FROM webhook_events WHERE id = %llu AND status NOT IN "
                        "('pending', 'processing')",
                        id))
        fail_msg("event %llu was not applied%s", id, ts_server_log_tail(srv));
    char *got = ts_db_showf(db,
                            "SELECT CONCAT_WS('|', status, IFNULL(last_error, '')) FROM "
                            "webhook_events WHERE id = %llu",
                            id);
    size_t sl = strlen(status);
    bool same = strncmp(got, status, sl) == 0 && got[sl] == '|';
    if (!same) {
        char copy[600];
        snprintf(copy, sizeof copy, "%s", got);
        free(got);
        fail_msg("event %llu ended %s, expected %s%s", id, copy, status, ts_server_log_tail(srv));
    }
    free(got);
}

/* What event ID made, as one line. */
static char *outcome(struct ts_db *db, unsigned long long id)
{
    return ts_db_showf(
        db,
        "SELECT CONCAT_WS('|', j.title, j.status, j.source, IFNULL(c.name, '-'), "
        "IFNULL(c.email, '-'), jc.visibility, jc.author_contact_id IS NOT NULL, "
        "jc.author_user_id IS NOT NULL, jc.body, JSON_EXTRACT(e.result, '$.by'), "
        "JSON_EXTRACT(e.result, '$.new_job'), JSON_EXTRACT(e.result, '$.automated'), "
        "IFNULL((SELECT GROUP_CONCAT(CONCAT_WS(':', a.filename, a.content_type, a.size) ORDER "
        "BY a.id SEPARATOR ';') FROM attachments a WHERE a.comment_id = jc.id), '-')) FROM "
        "webhook_events e JOIN jobs j ON j.id = JSON_EXTRACT(e.result, '$.job_id') JOIN "
        "job_comments jc ON jc.id = JSON_EXTRACT(e.result, '$.comment_id') LEFT JOIN contacts "
        "c ON c.id = j.contact_id WHERE e.id = %llu",
        id);
}

void ts_relay_same_outcome(struct ts_db *db, const struct ts_server *srv, unsigned long long mime,
                           unsigned long long relay)
{
    char *a = outcome(db, mime), *b = outcome(db, relay);
    bool same = strcmp(a, b) == 0 && strcmp(a, "NULL") != 0;
    char text[2048];
    snprintf(text, sizeof text, "email-mime: %s\nrelay:      %s", a, b);
    free(a);
    free(b);
    if (!same)
        fail_msg("the relay's message did not end as through email-mime:\n%s%s", text,
                 ts_server_log_tail(srv));
    print_message("%s\n", text);
}

/* TEXT with "port: FROM" replaced by "port: TO" (caller frees). */
static char *with_port(char *text, uint16_t from, uint16_t to)
{
    char a[32], b[32];
    snprintf(a, sizeof a, "port: %u", (unsigned)from);
    snprintf(b, sizeof b, "port: %u", (unsigned)to);
    char *out = test_replace(text, a, b);
    free(text);
    return out;
}

void ts_relay_start_db_down(const struct ts_server *srv, struct ts_server *down)
{
    *down = *srv;
    down->port = ts_free_port();
    down->admin_port = ts_free_port();
    down->pid = 0;
    char closed[400];
    snprintf(closed, sizeof closed, "%s/closed.sock", srv->dir);
    char *text = test_read(srv->config, NULL);
    assert_non_null(text);
    char *t = test_replace(text, ts_env("CTGW_DB_SOCKET"), closed);
    free(text);
    t = with_port(t, srv->port, down->port);
    t = with_port(t, srv->admin_port, down->admin_port);
    free(test_write_text(srv->dir, "down.yaml", t, 0600));
    free(t);
    snprintf(down->config, sizeof down->config, "%s/down.yaml", srv->dir);
    snprintf(down->log, sizeof down->log, "%s/down.log", srv->dir);
    if (!ts_server_start(down))
        fail_msg("a ctgw without its database did not start:\n%s", ts_server_log_tail(down));
}
