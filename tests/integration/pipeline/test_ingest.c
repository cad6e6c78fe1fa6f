/* test_ingest.c — the durable ingest path over real HTTP and MariaDB: signed contact forms and
 * generic events, validation, refused signatures and their audit rows, HTTP errors, workers
 * applying events once (failures, retries, dead letters), metrics, races between writers and
 * workers, and two ctgw processes on one database. */
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include <curl/curl.h>

#include "config/config.h"
#include "tests/support/checks.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "tests/support/signed.h"
#include "verifiers/standard_webhooks.h"

/* Both endpoints of every test: `generic` with a small body limit, `contact` with teams. */
#define ENDPOINTS_YAML                                                                             \
    "endpoints:\n"                                                                                 \
    "  - id: generic\n"                                                                            \
    "    provider: generic\n"                                                                      \
    "    company: acme\n"                                                                          \
    "    max_body: 2KiB\n"                                                                         \
    "    secrets: [ \"file:generic.secret\" ]\n"                                                   \
    "  - id: contact\n"                                                                            \
    "    provider: contact-form\n"                                                                 \
    "    company: acme\n"                                                                          \
    "    secrets: [ \"file:contact.secret\" ]\n"                                                   \
    "    teams: { security: SecOps, support: Helpdesk }\n"

#define WORKERS_YAML                                                                               \
    "workers: { threads: 2, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n"

struct flood;

struct fixture {
    struct ts_db db;
    struct ts_server srv, srv2;
    char *generic_secret, *contact_secret;
    long long acme_id, alice_id, bob_id;
    bool migrated;
    struct flood *flood; /* test_two_processes_share_one_database */
    struct ts_kept kept; /* freed by the teardown, so a failing check leaks nothing */
};

/* ------------------------------------------------------------------ helpers */

/* Polls (bounded, 10 s) until another session of the test database is running a statement
 * that starts with `statement`: ctgw blocked on a row lock the test holds. */
static bool wait_blocked(struct fixture *f, const char *statement)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '%s' AND ID <> "
             "CONNECTION_ID() AND INFO LIKE '%s%%'",
             f->db.name, statement);
    for (int i = 0; i < 400; i++) {
        if (ts_db_int(&f->db, sql) > 0)
            return true;
        ts_sleep_ms(25);
    }
    return false;
}

/* Checks that an answer's body is exactly want, but for the newline ctgw ends it with. */
#define assert_body(r, want)                                                                       \
    do {                                                                                           \
        size_t len_ = strlen((r)->body);                                                           \
        while (len_ > 0 && (r)->body[len_ - 1] == '\n')                                            \
            len_--;                                                                                \
        if (len_ != strlen(want) || strncmp((r)->body, (want), len_) != 0)                         \
            fail_msg("%s:%d: body '%s', want '%s'", __FILE__, __LINE__, (r)->body, (want));        \
    } while (0)

/* Prints the log lines of s that contain needle (at most max), to explain a retry. */
static void print_log_lines(const struct ts_server *s, const char *needle, int max)
{
    char *log = ts_server_log(s);
    int shown = 0;
    for (char *save = NULL, *line = strtok_r(log, "\n", &save); line != NULL && shown < max;
         line = strtok_r(NULL, "\n", &save))
        if (strstr(line, needle) != NULL) {
            print_message("  %s\n", line);
            shown++;
        }
    free(log);
}

/* Fails with the answer and the end of the log; frees the answer first. */
static void fail_with_log(const struct ts_server *s, const char *what, struct ts_http *r)
{
    static char body[2048];
    snprintf(body, sizeof(body), "%s", r->body ? r->body : "");
    long status = r->status;
    char error[sizeof(r->error)];
    snprintf(error, sizeof(error), "%s", r->error);
    ts_http_free(r);
    fail_msg("%s: status %ld, body '%s' (%s)\n--- ctgw log ---\n%s", what, status, body, error,
             ts_server_log_tail(s));
}

/* POSTs a generic fixture signed with the right secret and webhook-id `id` (NULL: fresh);
 * expects 202 and returns the stored event's id. */
static unsigned long long send_generic(struct fixture *f, const struct ts_server *s,
                                       const char *fixture, const char *id)
{
    char *body = ts_keep(&f->kept, test_fixture("generic/%s", fixture));
    struct ts_signed o = {.secret = f->generic_secret, .id = id};
    struct ts_http r;
    ts_post_expect(s, "generic", body, &o, 202, &r);
    unsigned long long ev = ts_answer_id(r.body);
    if (ev == 0)
        fail_msg("202 without an event id: %s", r.body);
    ts_http_free(&r);
    return ev;
}

/* Waits until event ev is settled (not pending/processing) and returns its status. */
static char *wait_settled(struct fixture *f, unsigned long long ev, long limit_ms)
{
    ts_db_wait_int(&f->db, 1, limit_ms,
                   "SELECT COUNT(*) FROM webhook_events WHERE id = %llu AND status NOT IN "
                   "('pending', 'processing')",
                   ev);
    return ts_db_showf(&f->db, "SELECT status FROM webhook_events WHERE id = %llu", ev);
}

static void expect_done(struct fixture *f, const struct ts_server *s, unsigned long long ev)
{
    char *st = wait_settled(f, ev, 20000);
    if (strcmp(st, "done") != 0) {
        char *err = ts_keep(
            &f->kept,
            ts_db_showf(&f->db, "SELECT last_error FROM webhook_events WHERE id = %llu", ev));
        ts_keep(&f->kept, st);
        fail_msg("event %llu is %s (last_error %s), want done\n--- ctgw log ---\n%s", ev, st, err,
                 ts_server_log_tail(s));
    }
    free(st);
}

static bool is_ct_ref(const char *s)
{
    regex_t re;
    if (regcomp(&re, "^CT-[0-9]{6}$", REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = s != NULL && regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static void expect_metric(const char *text, const char *series, long long want)
{
    long long got = ts_metric(text, series);
    if (got != want) {
        fprintf(stderr, "--- metrics ---\n%s\n", text);
        fail_msg("%s is %lld, want %lld", series, got, want);
    }
}

/* ------------------------------------------------------------------ fixture */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "ingest");
    if (ts_db_exec(&f->db, "SET time_zone = '+00:00'") != 0)
        return -1;
    f->generic_secret = ts_whsec_new();
    f->contact_secret = ts_whsec_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->srv.dir[0] != '\0')
        ts_server_cleanup(&f->srv);
    if (f->srv2.dir[0] != '\0')
        ts_server_cleanup(&f->srv2);
    ts_db_drop(&f->db);
    free(f->generic_secret);
    free(f->contact_secret);
    free(f->flood);
    ts_kept_free(&f->kept);
    free(f);
    return 0;
}

static void seed(struct fixture *f)
{
    ts_db_exec_ok(&f->db, "INSERT INTO companies (slug, name) VALUES ('acme', 'Acme Facilities'), "
                          "('other', 'Other Company')");
    f->acme_id = ts_db_intf(&f->db, "SELECT id FROM companies WHERE slug = 'acme'");
    long long other = ts_db_intf(&f->db, "SELECT id FROM companies WHERE slug = 'other'");
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO users (company_id, email, name, role) VALUES "
             "(%lld, 'alice@acme.test', 'Alice Admin', 'admin'), "
             "(%lld, 'bob@acme.test', 'Bob Staff', 'staff'), "
             "(%lld, 'carol@other.test', 'Carol Other', 'manager')",
             f->acme_id, f->acme_id, other);
    ts_db_exec_ok(&f->db, sql);
    f->alice_id = ts_db_intf(&f->db, "SELECT id FROM users WHERE email = 'alice@acme.test'");
    f->bob_id = ts_db_intf(&f->db, "SELECT id FROM users WHERE email = 'bob@acme.test'");
}

/* Writes s's config (both endpoints, plus extra), its secret files, migrates and seeds the
 * database the first time, and starts ctgw. */
static void start_server_with(struct fixture *f, struct ts_server *s, const char *extra,
                              const char *listen_extra)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), "%s%s", ENDPOINTS_YAML, extra ? extra : "");
    struct ts_config c = {.db_name = f->db.name, .top_extra = yaml, .listen_extra = listen_extra};
    ts_server_prepare(s, &c);
    free(test_write_text(s->dir, "generic.secret", f->generic_secret, 0600));
    free(test_write_text(s->dir, "contact.secret", f->contact_secret, 0600));
    if (!f->migrated) {
        ts_ctgw_ok("migrate", s->config, NULL);
        seed(f);
        f->migrated = true;
    }
    if (!ts_server_start(s))
        fail_msg("ctgw did not start:\n%s", ts_server_log_tail(s));
}

static void start_server(struct fixture *f, struct ts_server *s, const char *extra)
{
    start_server_with(f, s, extra, NULL);
}

/* ------------------------------------------------------------------ contact form */

/* Days from t to two business days (Mon-Fri) later, by the weekday of t in UTC. */
static int two_business_days_from(time_t t)
{
    /* Sun, Mon, Tue, Wed: +2; Thu -> Mon and Fri -> Tue: +4; Sat -> Tue: +3. */
    static const int days[7] = {2, 2, 2, 2, 4, 4, 3};
    struct tm tm;
    gmtime_r(&t, &tm);
    return days[tm.tm_wday];
}

static void test_contact_form_creates_ticket_once(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char *security = ts_keep(&f->kept, test_fixture("contact-form/security.json"));
    char *support = ts_keep(&f->kept, test_fixture("contact-form/support.json"));
    char *message = ts_keep(&f->kept, ts_json_string(security, "message"));
    char id[96];
    ts_webhook_id(id, sizeof(id));
    struct ts_signed o = {.secret = f->contact_secret, .id = id};
    struct ts_http r;

    time_t t0 = time(NULL);
    ts_post_expect(&f->srv, "contact", security, &o, 201, &r);
    time_t t1 = time(NULL);
    char *ref = ts_keep(&f->kept, ts_json_string(r.body, "ref"));
    if (!is_ct_ref(ref))
        fail_msg("201 body %s has no ref CT-dddddd", r.body);
    assert_string_equal(ref, "CT-000001");
    ts_http_free(&r);

    /* The job: source form, the team of the topic, high priority, due in two business days. */
    ts_expect_text(&f->db, NULL, "form|SecOps|high|new|Security report from Grace Hopper",
                   "SELECT CONCAT_WS('|', source, team, priority, status, title) FROM jobs "
                   "WHERE company_id = %lld AND ref = '%s'",
                   f->acme_id, ref);
    long long due =
        ts_db_intf(&f->db, "SELECT UNIX_TIMESTAMP(due_at) FROM jobs WHERE ref = '%s'", ref);
    long long lo = (long long)t0 + two_business_days_from(t0) * 86400LL;
    long long hi = (long long)t1 + two_business_days_from(t1) * 86400LL;
    if (due < lo || due > hi)
        fail_msg("due_at %lld is not two business days after the request [%lld, %lld]", due, lo,
                 hi);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT WEEKDAY(due_at) < 5 FROM jobs WHERE ref = '%s'", ref), 1);

    /* The contact, upserted by e-mail, and the message as the first public comment. */
    ts_expect_text(&f->db, NULL, "grace@example.org|Grace Hopper",
                   "SELECT CONCAT_WS('|', c.email, c.name) FROM contacts c JOIN jobs j ON "
                   "j.company_id = c.company_id AND j.contact_id = c.id WHERE j.ref = '%s'",
                   ref);
    long long ev = ts_db_intf(&f->db, "SELECT id FROM webhook_events WHERE dedupe_key = '%s'", id);
    assert_true(ev > 0);
    ts_expect_text(&f->db, NULL, "1|public|form|1|1",
                   "SELECT CONCAT_WS('|', COUNT(*), MIN(m.visibility), MIN(m.source), "
                   "MIN(m.author_contact_id = j.contact_id), MIN(m.webhook_event_id = %lld)) "
                   "FROM job_comments m JOIN jobs j ON j.id = m.job_id WHERE j.ref = '%s'",
                   ev, ref);
    ts_expect_text(&f->db, NULL, message,
                   "SELECT m.body FROM job_comments m JOIN jobs j ON j.id = m.job_id "
                   "WHERE j.ref = '%s'",
                   ref);
    ts_expect_text(
        &f->db, NULL, "created:form:1,commented:form:1",
        "SELECT GROUP_CONCAT(CONCAT(e.kind, ':', e.source, ':', e.webhook_event_id = %lld) "
        "ORDER BY e.id) FROM job_events e JOIN jobs j ON j.id = e.job_id "
        "WHERE j.ref = '%s' AND e.company_id = %lld",
        ev, ref, f->acme_id);
    char want_event[160];
    snprintf(want_event, sizeof(want_event), "contact|contact-form|%lld|done|1|%s", f->acme_id,
             ref);
    ts_expect_text(&f->db, NULL, want_event,
                   "SELECT CONCAT_WS('|', endpoint, provider, company_id, status, attempts, "
                   "JSON_VALUE(result, '$.ref')) FROM webhook_events WHERE id = %lld",
                   ev);

    /* The same webhook-id again, as a retry and even with another body: 200, the same ref,
     * nothing new. */
    ts_post_expect(&f->srv, "contact", security, &o, 200, &r);
    char *again = ts_keep(&f->kept, ts_json_string(r.body, "ref"));
    assert_non_null(again);
    assert_string_equal(again, ref);
    ts_http_free(&r);
    ts_post_expect(&f->srv, "contact", support, &o, 200, &r);
    again = ts_keep(&f->kept, ts_json_string(r.body, "ref"));
    assert_non_null(again);
    assert_string_equal(again, ref);
    ts_http_free(&r);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_comments"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), 2);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 1);

    /* Another topic: its own team, normal priority, no due date, the same contact (e-mail
     * matched case-insensitively). */
    struct ts_signed o2 = {.secret = f->contact_secret};
    ts_post_expect(&f->srv, "contact", support, &o2, 201, &r);
    char *ref2 = ts_keep(&f->kept, ts_json_string(r.body, "ref"));
    assert_non_null(ref2);
    assert_string_equal(ref2, "CT-000002");
    ts_http_free(&r);
    ts_expect_text(
        &f->db, NULL, "form|Helpdesk|normal|NULL",
        "SELECT CONCAT_WS('|', source, team, priority, IFNULL(due_at, 'NULL')) FROM jobs "
        "WHERE ref = '%s'",
        ref2);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM contacts"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(DISTINCT contact_id) FROM jobs"), 1);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'"), 2);
    ts_server_stop_clean("test_contact_form_creates_ticket_once", &f->srv);
}

/* A form body from its four fields (NULL leaves a field out); raw bytes are kept as given. */
static char *form_body(const char *name, const char *email, const char *topic, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (name)
        cJSON_AddStringToObject(o, "name", name);
    if (email)
        cJSON_AddStringToObject(o, "email", email);
    if (topic)
        cJSON_AddStringToObject(o, "topic", topic);
    if (message)
        cJSON_AddStringToObject(o, "message", message);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    assert_non_null(out);
    return out;
}

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);
    if (s == NULL)
        abort();
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    s[n * times] = '\0';
    return s;
}

static void test_contact_form_invalid_fields_are_refused(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char *name201 = repeat("a", 201);
    char *msg20001 = repeat("x", 20001);
    const char *ok_name = "Grace Hopper", *ok_email = "grace@example.org", *ok_msg = "Hello";
    const struct {
        const char *field;
        const char *name, *email, *topic, *message;
    } cases[] = {
        {"name", "", ok_email, "support", ok_msg},
        {"name", name201, ok_email, "support", ok_msg},
        {"name", NULL, ok_email, "support", ok_msg},
        {"email", ok_name, "grace.example.org", "support", ok_msg},
        {"email", ok_name, "grace hopper@example.org", "support", ok_msg},
        {"email", ok_name, "grace@", "support", ok_msg},
        {"email", ok_name, NULL, "support", ok_msg},
        {"topic", ok_name, ok_email, "gossip", ok_msg},
        {"topic", ok_name, ok_email, "Security", ok_msg},
        {"message", ok_name, ok_email, "support", ""},
        {"message", ok_name, ok_email, "support", msg20001},
        {"message", ok_name, ok_email, "support", "bad bytes \xff\xfe here"},
        {"message", ok_name, ok_email, "support", "overlong \xc0\xaf slash"},
        {"message", ok_name, ok_email, "support", "cut \xe2\x82"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *body = form_body(cases[i].name, cases[i].email, cases[i].topic, cases[i].message);
        struct ts_signed o = {.secret = f->contact_secret};
        struct ts_http r;
        ts_post_expect(&f->srv, "contact", body, &o, 400, &r);
        cJSON *j = cJSON_Parse(r.body);
        const cJSON *err = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
        const cJSON *field = j ? cJSON_GetObjectItemCaseSensitive(j, "field") : NULL;
        if (!cJSON_IsString(err) || strcmp(err->valuestring, "invalid_field") != 0 ||
            !cJSON_IsString(field) || strcmp(field->valuestring, cases[i].field) != 0 ||
            cJSON_GetArraySize(j) != 2)
            fail_msg("case %zu: body %s, want invalid_field %s", i, r.body, cases[i].field);
        cJSON_Delete(j);
        ts_http_free(&r);
        free(body);
    }
    /* Nothing stored, nothing created. */
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 0);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 0);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM contacts"), 0);

    /* The limits count characters: 200 two-byte characters of name and 20000 of message. */
    char *name200 = repeat("\xc3\xa9", 200);
    char *msg20000 = repeat("\xc3\xbc", 20000);
    char *body = form_body(name200, ok_email, "privacy", msg20000);
    struct ts_signed o = {.secret = f->contact_secret};
    struct ts_http r;
    ts_post_expect(&f->srv, "contact", body, &o, 201, &r);
    ts_http_free(&r);
    assert_int_equal(ts_db_intf(&f->db, "SELECT CHAR_LENGTH(name) FROM contacts"), 200);
    assert_int_equal(ts_db_intf(&f->db, "SELECT CHAR_LENGTH(body) FROM job_comments"), 20000);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs WHERE team IS NULL"), 1);

    free(body);
    free(msg20000);
    free(name200);
    free(msg20001);
    free(name201);
    ts_server_stop_clean("test_contact_form_invalid_fields_are_refused", &f->srv);
}

/* A message of white space only passes for 1..20000 characters, but a ticket cannot carry
 * it as a comment: it must be refused like any other bad field, not stored and failed. */
static void test_contact_form_blank_message_is_a_field_error(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char *body =
        ts_keep(&f->kept, form_body("Grace Hopper", "grace@example.org", "support", " \n\t "));
    struct ts_signed o = {.secret = f->contact_secret};
    struct ts_http r;
    ts_post_expect(&f->srv, "contact", body, &o, 400, &r);
    assert_body(&r, "{\"error\":\"invalid_field\",\"field\":\"message\"}");
    ts_http_free(&r);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 0);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 0);
    ts_server_stop_clean("test_contact_form_blank_message_is_a_field_error", &f->srv);
}

/* ------------------------------------------------------------------ authentication */

static void test_bad_signatures_are_refused_and_audited(void **state)
{
    struct fixture *f = *state;
    /* Every rejection its own row here (test_rejections_are_audited_in_summary: a flood). */
    start_server(f, &f->srv, "limits: { audit_each: 100 }\n" WORKERS_YAML);
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    char *wrong = ts_keep(&f->kept, ts_whsec_new());
    int64_t now = (int64_t)time(NULL);

    /* A signature of another body, with the right secret and id. */
    char other_sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    struct gw_secret sec = {.data = f->generic_secret, .len = strlen(f->generic_secret)};
    const char *other = "{\"type\":\"job.create\",\"data\":{\"title\":\"Something else\"}}";
    assert_int_equal(gw_standard_webhooks_sign(&sec, "msg_fixed_1", now,
                                               (const unsigned char *)other, strlen(other),
                                               other_sig, sizeof(other_sig)),
                     0);

    const struct {
        const char *endpoint;
        struct ts_signed o;
        const char *reason;
    } cases[] = {
        {"generic", {.secret = wrong}, "no_secret_matched"},
        {"generic",
         {.secret = f->generic_secret, .timestamp = now - 600},
         "timestamp_outside_window"},
        {"generic",
         {.secret = f->generic_secret, .timestamp = now + 600},
         "timestamp_outside_window"},
        {"generic", {.secret = f->generic_secret, .omit_signature = true}, "missing_header"},
        {"generic", {.secret = f->generic_secret, .omit_id = true}, "missing_header"},
        {"generic", {.secret = f->generic_secret, .omit_timestamp = true}, "missing_header"},
        {"generic",
         {.secret = f->generic_secret,
          .id = "msg_fixed_1",
          .timestamp = now,
          .signature = other_sig},
         "no_secret_matched"},
        {"contact", {.secret = f->generic_secret}, "no_secret_matched"},
    };
    const size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        char rid[64];
        snprintf(rid, sizeof(rid), "reject-%zu", i);
        struct ts_signed o = cases[i].o;
        o.request_id = rid;
        struct ts_http r;
        ts_post_expect(&f->srv, cases[i].endpoint, body, &o, 401, &r);
        assert_body(&r, "{\"error\":\"invalid_signature\"}"); /* and nothing more */
        char echoed[80];
        assert_non_null(ts_http_header(&r, "X-Request-Id", echoed, sizeof(echoed)));
        assert_string_equal(echoed, rid);
        ts_http_free(&r);
    }

    /* The audit rows are written with the writers' next batch: poll for them. */
    if (!ts_db_wait_int(&f->db, (long long)n, 10000,
                        "SELECT COUNT(*) FROM audit_log WHERE kind = 'rejected_signature'")) {
        char *dump = ts_db_dump(&f->db, "SELECT * FROM audit_log");
        fail_msg("audit_log holds, after 10 s:\n%s", dump);
    }
    for (size_t i = 0; i < n; i++) {
        char want[160];
        snprintf(want, sizeof(want), "rejected_signature|%s|%s|127.0.0.1|NULL|NULL",
                 cases[i].endpoint, cases[i].reason);
        ts_expect_text(&f->db, NULL, want,
                       "SELECT CONCAT_WS('|', kind, endpoint, reason, source_address, "
                       "IFNULL(detail, 'NULL'), IFNULL(company_id, 'NULL')) FROM audit_log "
                       "WHERE request_id = 'reject-%zu'",
                       i);
    }
    /* Never stored, never applied. */
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 0);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 0);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    assert_non_null(strstr(log, "signature rejected"));
    assert_null(strstr(log, "Printer on level 3")); /* no body in the log */

    /* The same body, correctly signed, is accepted: the refusals were the signatures'. */
    struct ts_signed good = {.secret = f->generic_secret};
    struct ts_http r;
    ts_post_expect(&f->srv, "generic", body, &good, 202, &r);
    ts_http_free(&r);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 1);

    ts_server_stop_clean("test_bad_signatures_are_refused_and_audited", &f->srv);
}

/* ------------------------------------------------------------------ HTTP errors */

/* A generic job.create body of exactly len bytes. */
static char *sized_body(size_t len)
{
    static const char head[] = "{\"type\":\"job.create\",\"data\":{\"title\":\"Sized\","
                               "\"description\":\"";
    static const char tail[] = "\"}}";
    size_t fixed = strlen(head) + strlen(tail);
    assert_true(len > fixed);
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, head, strlen(head));
    memset(s + strlen(head), 'd', len - fixed);
    memcpy(s + len - strlen(tail), tail, strlen(tail) + 1);
    assert_int_equal(strlen(s), len);
    return s;
}

static void test_http_errors(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    struct ts_http r;

    struct ts_signed o = {.secret = f->generic_secret};
    ts_post_expect(&f->srv, "no-such-endpoint", body, &o, 404, &r);
    assert_body(&r, "{\"error\":\"unknown_endpoint\"}");
    ts_http_free(&r);

    struct ts_signed get = {.secret = f->generic_secret, .method = "GET"};
    ts_post_expect(&f->srv, "generic", body, &get, 405, &r);
    char allow[32];
    assert_non_null(ts_http_header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
    ts_http_free(&r);
    struct ts_signed put = {.secret = f->generic_secret, .method = "PUT"};
    ts_post_expect(&f->srv, "contact", body, &put, 405, &r);
    ts_http_free(&r);

    /* max_body: 2KiB on `generic`: one byte more is refused whole, the limit itself is not. */
    char *over = sized_body(2049);
    ts_post_expect(&f->srv, "generic", over, &o, 413, &r);
    assert_body(&r, "{\"error\":\"too_large\"}");
    ts_http_free(&r);
    char *at = sized_body(2048);
    ts_post_expect(&f->srv, "generic", at, &o, 202, &r);
    ts_http_free(&r);

    struct ts_signed text = {.secret = f->generic_secret, .content_type = "text/plain"};
    ts_post_expect(&f->srv, "generic", body, &text, 415, &r);
    assert_body(&r, "{\"error\":\"unsupported_media_type\"}");
    ts_http_free(&r);
    struct ts_signed form = {.secret = f->generic_secret,
                             .content_type = "application/x-www-form-urlencoded"};
    ts_post_expect(&f->srv, "contact", body, &form, 415, &r);
    ts_http_free(&r);
    struct ts_signed none = {.secret = f->generic_secret, .content_type = ""};
    ts_post_expect(&f->srv, "generic", body, &none, 415, &r);
    ts_http_free(&r);
    /* Parameters and case of the media type do not matter. */
    struct ts_signed charset = {.secret = f->generic_secret,
                                .content_type = "Application/JSON; charset=utf-8"};
    ts_post_expect(&f->srv, "generic", body, &charset, 202, &r);
    ts_http_free(&r);

    /* Only the two accepted requests were stored; the refusals were not audited as
     * signature failures. */
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 2);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM audit_log"), 0);
    free(at);
    free(over);
    ts_server_stop_clean("test_http_errors", &f->srv);
}

/* `contact` has the largest limit (ingest.max_body, 1 MiB), which is also the listener's: a
 * body over it is refused before ctgw's own checks see it. It is still a too_large request
 * of that endpoint: counted, and logged like every other answer. */
static void test_body_over_the_largest_limit_is_counted_and_logged(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char *big = ts_keep(&f->kept, sized_body(1024 * 1024 + 1));
    struct ts_signed o = {.secret = f->contact_secret, .request_id = "too-large-1"};
    struct ts_http r;
    ts_post_expect(&f->srv, "contact", big, &o, 413, &r);
    print_message("  413 body: %.60s\n", r.body);
    ts_http_free(&r);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 0);
    char *m = ts_keep(&f->kept, ts_server_metrics_ok(&f->srv));
    expect_metric(m, "ctgw_requests_total{endpoint=\"contact\",outcome=\"too_large\"}", 1);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    if (strstr(log, "\"status\":413") == NULL)
        fail_msg("no log line for the 413:\n%s", log);
    ts_server_stop_clean("test_body_over_the_largest_limit_is_counted_and_logged", &f->srv);
}

/* ------------------------------------------------------------------ generic events */

static void expect_job_event(struct fixture *f, const char *kind, unsigned long long ev)
{
    long long n =
        ts_db_intf(&f->db,
                   "SELECT COUNT(*) FROM job_events e JOIN jobs j ON j.id = e.job_id AND "
                   "j.company_id = e.company_id WHERE j.ref = 'CT-000001' AND e.kind = '%s' "
                   "AND e.source = 'api' AND e.webhook_event_id = %llu",
                   kind, ev);
    if (n != 1) {
        char *dump = ts_db_dump(&f->db, "SELECT * FROM job_events");
        fail_msg("job_events %s for event %llu: %lld rows\n%s", kind, ev, n, dump);
    }
}

static void test_generic_events_of_every_type_are_applied(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char *create = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    char id[96];
    ts_webhook_id(id, sizeof(id));
    struct ts_signed o = {.secret = f->generic_secret, .id = id, .request_id = "it-generic-create"};
    struct ts_http r;
    ts_post_expect(&f->srv, "generic", create, &o, 202, &r);
    unsigned long long ev_create = ts_answer_id(r.body);
    assert_true(ev_create > 0);
    ts_http_free(&r);
    expect_done(f, &f->srv, ev_create);

    /* The inbox row: the request id, who sent it, the raw body, the allow-listed headers
     * (never the signature), the result. */
    char want[512];
    snprintf(want, sizeof(want),
             "generic|generic|%lld|%s|it-generic-create|127.0.0.1|"
             "application/json|done|1|CT-000001",
             f->acme_id, id);
    ts_expect_text(&f->db, NULL, want,
                   "SELECT CONCAT_WS('|', endpoint, provider, company_id, dedupe_key, request_id, "
                   "source_address, content_type, status, attempts, JSON_VALUE(result, '$.ref')) "
                   "FROM webhook_events WHERE id = %llu",
                   ev_create);
    ts_expect_text(&f->db, NULL, create, "SELECT body FROM webhook_events WHERE id = %llu",
                   ev_create);
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT body_sha256 = UNHEX(SHA2(body, 256)) FROM webhook_events "
                                "WHERE id = %llu",
                                ev_create),
                     1);
    ts_expect_text(&f->db, NULL, id,
                   "SELECT JSON_VALUE(headers, '$.\"webhook-id\"') FROM webhook_events "
                   "WHERE id = %llu",
                   ev_create);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events WHERE headers LIKE "
                                        "'%%signature%%'"),
                     0);

    /* The other four types, in one burst. */
    unsigned long long ev_comment = send_generic(f, &f->srv, "job_comment.json", NULL);
    unsigned long long ev_status = send_generic(f, &f->srv, "job_status.json", NULL);
    unsigned long long ev_assign = send_generic(f, &f->srv, "job_assign.json", NULL);
    char time_id[96];
    ts_webhook_id(time_id, sizeof(time_id));
    unsigned long long ev_time = send_generic(f, &f->srv, "time_add.json", time_id);
    expect_done(f, &f->srv, ev_comment);
    expect_done(f, &f->srv, ev_status);
    expect_done(f, &f->srv, ev_assign);
    expect_done(f, &f->srv, ev_time);

    snprintf(want, sizeof(want),
             "Printer on level 3 is jammed|Paper jam in tray 2, error E-301 since this "
             "morning.|high|in_progress|api|%lld|dana@customer.test|Dana Scully",
             f->bob_id);
    ts_expect_text(&f->db, NULL, want,
                   "SELECT CONCAT_WS('|', j.title, j.description, j.priority, j.status, j.source, "
                   "j.assignee_user_id, c.email, c.name) FROM jobs j JOIN contacts c ON "
                   "c.company_id = j.company_id AND c.id = j.contact_id WHERE j.company_id = %lld "
                   "AND j.ref = 'CT-000001'",
                   f->acme_id);
    snprintf(want, sizeof(want), "Technician booked for Tuesday 9am.|public|api|generic|%llu",
             ev_comment);
    ts_expect_text(
        &f->db, NULL, want,
        "SELECT CONCAT_WS('|', body, visibility, source, author_label, webhook_event_id) "
        "FROM job_comments");
    snprintf(want, sizeof(want),
             "45|%lld|Cleared the jam and replaced the pickup roller|2024-05-06|api|%llu",
             f->alice_id, ev_time);
    ts_expect_text(&f->db, NULL, want,
                   "SELECT CONCAT_WS('|', minutes, user_id, note, spent_on, source, "
                   "webhook_event_id) FROM time_entries");
    expect_job_event(f, "created", ev_create);
    expect_job_event(f, "commented", ev_comment);
    expect_job_event(f, "status_changed", ev_status);
    expect_job_event(f, "assigned", ev_assign);
    expect_job_event(f, "time_added", ev_time);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), 5);
    ts_expect_text(&f->db, NULL, "new>in_progress",
                   "SELECT CONCAT(JSON_VALUE(detail, '$.from'), '>', JSON_VALUE(detail, '$.to')) "
                   "FROM job_events WHERE kind = 'status_changed'");

    /* A redelivery of a stored event answers 202 with the same id and applies nothing. */
    assert_int_equal(send_generic(f, &f->srv, "time_add.json", time_id), ev_time);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 5);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM time_entries"), 1);
    ts_server_stop_clean("test_generic_events_of_every_type_are_applied", &f->srv);
}

static void test_generic_bad_events_fail_once(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    expect_done(f, &f->srv, send_generic(f, &f->srv, "job_create.json", NULL));

    const struct {
        const char *fixture;
        const char *error; /* expected within last_error */
    } cases[] = {
        {"unknown_type.json", "unknown type 'job.explode'"},
        {"unknown_ref.json", "job.comment: no job CT-009999 in this company"},
        {"missing_title.json", "job.create: data.title must be a string of 1 to 300 characters"},
        {"assign_other_company.json", "job.assign: no user carol@other.test in this company"},
        {"invalid_status.json", "status must be one of"},
    };
    const size_t n = sizeof(cases) / sizeof(cases[0]);
    unsigned long long ev[8];
    for (size_t i = 0; i < n; i++)
        ev[i] = send_generic(f, &f->srv, cases[i].fixture, NULL);
    /* Not JSON at all (the signature is fine, so it is stored, then fails). */
    char url[128];
    ts_hook_url(&f->srv, "generic", url, sizeof(url));
    struct ts_signed o = {.secret = f->generic_secret};
    struct ts_http r;
    assert_int_equal(ts_signed_post(url, "this is not json", &o, &r), 0);
    assert_int_equal(r.status, 202);
    unsigned long long ev_text = ts_answer_id(r.body);
    ts_http_free(&r);

    for (size_t i = 0; i < n; i++) {
        char *st = wait_settled(f, ev[i], 20000);
        char *err =
            ts_db_showf(&f->db, "SELECT last_error FROM webhook_events WHERE id = %llu", ev[i]);
        long long attempts =
            ts_db_intf(&f->db, "SELECT attempts FROM webhook_events WHERE id = %llu", ev[i]);
        if (strcmp(st, "failed") != 0 || attempts != 1 || strstr(err, cases[i].error) == NULL)
            fail_msg("%s: status %s, attempts %lld, last_error '%s'; want failed, 1, '%s'",
                     cases[i].fixture, st, attempts, err, cases[i].error);
        free(err);
        free(st);
    }
    char *st = wait_settled(f, ev_text, 20000);
    assert_string_equal(st, "failed");
    free(st);
    ts_expect_text(&f->db, NULL, "the body is not a JSON object",
                   "SELECT last_error FROM webhook_events WHERE id = %llu", ev_text);

    /* Nothing of them reached the core tables. */
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_comments"), 0);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), 1);
    ts_expect_text(&f->db, NULL, "new|NULL",
                   "SELECT CONCAT_WS('|', status, IFNULL(assignee_user_id, 'NULL')) FROM jobs");

    /* Workers keep going, and a failed event is not tried again: after a later event is
     * done, every failed one still has its one attempt. */
    expect_done(f, &f->srv, send_generic(f, &f->srv, "job_status.json", NULL));
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT COUNT(*) FROM webhook_events WHERE status = 'failed' AND "
                                "attempts = 1 AND processed_at IS NOT NULL"),
                     (long long)n + 1);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    char line[96];
    snprintf(line, sizeof(line), "event %llu failed: unknown type", ev[0]);
    if (strstr(log, line) == NULL)
        fail_msg("the log does not say '%s':\n%s", line, log);
    ts_server_stop_clean("test_generic_bad_events_fail_once", &f->srv);
}

/* Stores the given generic fixtures with no workers running, so that the next ctgw's first
 * claim takes them all at once; returns their event ids in ev. */
static void store_unapplied(struct fixture *f, struct ts_server *s, const char *const *fixtures,
                            size_t n, unsigned long long *ev)
{
    if (s->dir[0] != '\0') {
        ts_server_cleanup(s);
        memset(s, 0, sizeof(*s));
    }
    start_server(f, s, "workers: { threads: 0 }\n");
    for (size_t i = 0; i < n; i++)
        ev[i] = send_generic(f, s, fixtures[i], NULL);
    ts_server_stop_clean("ctgw without workers", s);
}

static void test_claimed_batch_applies_together_and_failures_alone(void **state)
{
    struct fixture *f = *state;
    /* Five good events: one worker claims them together and applies them in one
     * transaction, settled by one UPDATE (one processed_at), each with its own result. */
    static const char *const good[] = {"job_create.json", "job_comment.json", "job_create.json",
                                       "time_add.json", "job_status.json"};
    unsigned long long ev[5];
    store_unapplied(f, &f->srv, good, 5, ev);
    start_server(f, &f->srv2, "workers: { threads: 1, max_attempts: 3 }\n");
    for (size_t i = 0; i < 5; i++)
        expect_done(f, &f->srv2, ev[i]);
    ts_server_stop_clean("ctgw with one worker", &f->srv2);
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT COUNT(DISTINCT processed_at) FROM webhook_events WHERE id "
                                "IN (%llu, %llu, %llu, %llu, %llu)",
                                ev[0], ev[1], ev[2], ev[3], ev[4]),
                     1);
    ts_expect_text(&f->db, NULL, "CT-000001",
                   "SELECT JSON_VALUE(result, '$.ref') FROM webhook_events "
                   "WHERE id = %llu",
                   ev[0]);
    ts_expect_text(&f->db, NULL, "CT-000002",
                   "SELECT JSON_VALUE(result, '$.ref') FROM webhook_events "
                   "WHERE id = %llu",
                   ev[2]);
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT COUNT(*) FROM webhook_events WHERE status = 'done' AND "
                                "attempts = 1 AND last_error IS NULL AND lease_owner IS NULL"),
                     5);
    expect_job_event(f, "commented", ev[1]);
    expect_job_event(f, "time_added", ev[3]);
    expect_job_event(f, "status_changed", ev[4]);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), 5);

    /* A bad event between good ones: the batch is abandoned and each is applied alone, so
     * the good ones are applied once, the bad one fails after one attempt, and nothing the
     * abandoned batch did is kept (the job counter included: refs stay gapless). */
    static const char *const mixed[] = {"job_create.json", "unknown_ref.json", "job_comment.json"};
    unsigned long long ev2[3];
    store_unapplied(f, &f->srv, mixed, 3, ev2);
    if (f->srv2.dir[0] != '\0') {
        ts_server_cleanup(&f->srv2);
        memset(&f->srv2, 0, sizeof(f->srv2));
    }
    start_server(f, &f->srv2, "workers: { threads: 1, max_attempts: 3 }\n");
    expect_done(f, &f->srv2, ev2[0]);
    expect_done(f, &f->srv2, ev2[2]);
    char *st = wait_settled(f, ev2[1], 20000);
    assert_string_equal(st, "failed");
    free(st);
    ts_server_stop_clean("ctgw with one worker", &f->srv2);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT attempts FROM webhook_events WHERE id = %llu", ev2[1]), 1);
    ts_expect_text(&f->db, NULL, "CT-000001,CT-000002,CT-000003",
                   "SELECT GROUP_CONCAT(ref ORDER BY ref) FROM jobs");
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_comments"), 2);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), 7);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events WHERE webhook_event_id = %llu", ev2[1]),
        0);
}

/* The delay a log line "event N attempt K failed, retry in D ms" gives; -1 when absent. */
static long retry_delay(const char *log, unsigned long long ev, unsigned attempt)
{
    char needle[96];
    snprintf(needle, sizeof(needle), "event %llu attempt %u failed, retry in ", ev, attempt);
    const char *p = strstr(log, needle);
    return p ? strtol(p + strlen(needle), NULL, 10) : -1;
}

static void test_transient_failure_is_retried_then_dead(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv,
                 "workers: { threads: 1, max_attempts: 3, backoff: { base: 50ms, max: 200ms } }\n");
    expect_done(f, &f->srv, send_generic(f, &f->srv, "job_create.json", NULL));
    /* Every insert into time_entries now fails with a database error: transient as far as
     * ctgw can tell, so it retries. */
    ts_db_exec_ok(&f->db, "CREATE TRIGGER freeze_time BEFORE INSERT ON time_entries FOR EACH ROW "
                          "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'time entries are frozen'");
    unsigned long long ev = send_generic(f, &f->srv, "time_add.json", NULL);
    char *st = wait_settled(f, ev, 30000);
    char *err = ts_db_showf(&f->db, "SELECT last_error FROM webhook_events WHERE id = %llu", ev);
    long long attempts =
        ts_db_intf(&f->db, "SELECT attempts FROM webhook_events WHERE id = %llu", ev);
    if (strcmp(st, "dead") != 0 || attempts != 3 || strstr(err, "adding the time entry") == NULL ||
        strstr(err, "time entries are frozen") == NULL) {
        ts_keep(&f->kept, st);
        ts_keep(&f->kept, err);
        fail_msg("status %s, attempts %lld, last_error '%s'; want dead after 3 with the "
                 "database's reason\n--- ctgw log ---\n%s",
                 st, attempts, err, ts_server_log_tail(&f->srv));
    }
    free(err);
    free(st);
    assert_int_equal(
        ts_db_intf(&f->db,
                   "SELECT COUNT(*) FROM webhook_events WHERE id = %llu AND lease_owner "
                   "IS NULL AND processed_at IS NOT NULL",
                   ev),
        1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM time_entries"), 0);
    assert_int_equal(
        ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events WHERE kind = 'time_added'"), 0);

    /* Exponential backoff with jitter: the first retry within [base/2, base], the second
     * within [base, 2 base]. */
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    long d1 = retry_delay(log, ev, 1), d2 = retry_delay(log, ev, 2);
    if (d1 < 25 || d1 > 50 || d2 < 50 || d2 > 100)
        fail_msg("retry delays %ld ms and %ld ms; want [25, 50] and [50, 100]\n%s", d1, d2, log);
    char dead[96];
    snprintf(dead, sizeof(dead), "event %llu is dead after 3 attempts", ev);
    assert_non_null(strstr(log, dead));

    char *m = ts_keep(&f->kept, ts_server_metrics_ok(&f->srv));
    expect_metric(m, "ctgw_events_dead_total", 1);
    expect_metric(m, "ctgw_worker_failures_total", 3);
    ts_server_stop_clean("test_transient_failure_is_retried_then_dead", &f->srv);
}

/* ------------------------------------------------------------------ metrics */

static void test_metrics_count_what_was_sent(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    char *form = ts_keep(&f->kept, test_fixture("contact-form/security.json"));
    struct ts_http r;
    char id[96];
    ts_webhook_id(id, sizeof(id));

    struct ts_signed first = {.secret = f->generic_secret, .id = id};
    ts_post_expect(&f->srv, "generic", body, &first, 202, &r); /* accepted */
    ts_http_free(&r);
    ts_post_expect(&f->srv, "generic", body, &first, 202, &r); /* duplicate */
    ts_http_free(&r);
    for (int i = 0; i < 2; i++) {
        struct ts_signed o = {.secret = f->generic_secret};
        ts_post_expect(&f->srv, "generic", body, &o, 202, &r); /* accepted */
        ts_http_free(&r);
    }
    for (int i = 0; i < 3; i++) {
        struct ts_signed o = {.secret = f->contact_secret};
        ts_post_expect(&f->srv, "generic", body, &o, 401, &r); /* rejected_signature */
        ts_http_free(&r);
    }
    char *big = sized_body(4096);
    struct ts_signed o = {.secret = f->generic_secret};
    ts_post_expect(&f->srv, "generic", big, &o, 413, &r); /* too_large */
    ts_http_free(&r);
    struct ts_signed text = {.secret = f->generic_secret, .content_type = "text/plain"};
    ts_post_expect(&f->srv, "generic", body, &text, 415, &r); /* bad_request */
    ts_http_free(&r);
    struct ts_signed c = {.secret = f->contact_secret};
    ts_post_expect(&f->srv, "contact", form, &c, 201, &r); /* accepted */
    ts_http_free(&r);
    char *bad = form_body("", "grace@example.org", "support", "Hello");
    ts_post_expect(&f->srv, "contact", bad, &c, 400, &r); /* bad_request */
    ts_http_free(&r);
    struct ts_signed wrong = {.secret = f->generic_secret};
    ts_post_expect(&f->srv, "contact", form, &wrong, 401, &r); /* rejected_signature */
    ts_http_free(&r);

    char *m = ts_keep(&f->kept, ts_server_metrics_ok(&f->srv));
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"accepted\"}", 3);
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"duplicate\"}", 1);
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"rejected_signature\"}", 3);
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"too_large\"}", 1);
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"bad_request\"}", 1);
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"unavailable\"}", 0);
    expect_metric(m, "ctgw_requests_total{endpoint=\"contact\",outcome=\"accepted\"}", 1);
    expect_metric(m, "ctgw_requests_total{endpoint=\"contact\",outcome=\"bad_request\"}", 1);
    expect_metric(m, "ctgw_requests_total{endpoint=\"contact\",outcome=\"rejected_signature\"}", 1);
    expect_metric(m, "ctgw_requests_total{endpoint=\"contact\",outcome=\"duplicate\"}", 0);
    /* Events stored by group commits: the four generic deliveries and the form. */
    expect_metric(m, "ctgw_ingest_batch_events_sum", 5);
    assert_true(ts_metric(m, "ctgw_answer_seconds_count") >= 5);

    /* /metrics is for operators only. */
    char url[96];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", (unsigned)f->srv.admin_port);
    assert_int_equal(ts_http("GET", url, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    ts_http_free(&r);

    free(bad);
    free(big);
    /* Let the audit rows of the four refusals land before stopping (stopping while they are
     * written is test_sigterm_while_audit_rows_are_written). */
    assert_true(ts_db_wait_int(&f->db, 4, 10000, "SELECT COUNT(*) FROM audit_log"));
    ts_server_stop_clean("test_metrics_count_what_was_sent", &f->srv);
}

/* Two workers applying events about one new person: the other's transaction inserts the
 * contact and commits while this one's upsert waits for it; the upsert then matches that row,
 * and the job must be created with it (a valid event never fails for a race). */
static void test_contact_created_meanwhile_is_used(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char sql[512];
    ts_db_exec_ok(&f->db, "START TRANSACTION");
    snprintf(sql, sizeof(sql),
             "INSERT INTO contacts (company_id, email, name) VALUES (%lld, "
             "'dana@customer.test', 'Dana Scully')",
             f->acme_id);
    ts_db_exec_ok(&f->db, sql);
    long long contact = (long long)mysql_insert_id(f->db.conn);
    unsigned long long ev = send_generic(f, &f->srv, "job_create.json", NULL);
    bool blocked = wait_blocked(f, "INSERT INTO contacts");
    ts_db_exec_ok(&f->db, "COMMIT");
    assert_true(blocked);
    expect_done(f, &f->srv, ev);
    assert_int_equal(ts_db_intf(&f->db, "SELECT contact_id FROM jobs WHERE ref = 'CT-000001'"),
                     contact);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM contacts"), 1);
    ts_server_stop_clean("test_contact_created_meanwhile_is_used", &f->srv);
}

#define REJECTED_BURST 3000
#define REJECT_SENDERS 8

struct burst {
    char url[128];
    const char *secret;
    const char *body;
    atomic_uint next, refused;
    atomic_bool stop;
};

/* Sends forged requests until told to stop, the burst is spent, or ctgw is gone. */
static void *reject_sender(void *arg)
{
    struct burst *b = arg;
    while (!atomic_load(&b->stop) && atomic_fetch_add(&b->next, 1) < REJECTED_BURST) {
        struct ts_signed o = {.secret = b->secret, .timeout_ms = 5000};
        struct ts_http r;
        int rc = ts_signed_post(b->url, b->body, &o, &r);
        if (rc == 0 && r.status == 401)
            atomic_fetch_add(&b->refused, 1);
        ts_http_free(&r);
        if (rc != 0)
            break;
    }
    return NULL;
}

/* Forged requests keep coming when SIGTERM arrives, so the writers are storing audit rows
 * as ctgw stops: it must stop cleanly (exit 0, nothing found by the sanitizers), and every
 * request answered 401 must have its audit_log row. */
static void test_sigterm_while_audit_rows_are_written(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, "limits: { refusal_delay: 0s }\n" WORKERS_YAML);
    struct burst *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    ts_keep(&f->kept, (char *)b);
    ts_hook_url(&f->srv, "generic", b->url, sizeof(b->url));
    b->secret = ts_keep(&f->kept, ts_whsec_new());
    b->body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    pthread_t th[REJECT_SENDERS];
    for (size_t i = 0; i < REJECT_SENDERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reject_sender, b), 0);
    for (int i = 0; i < 2000 && atomic_load(&b->refused) < REJECTED_BURST / 3; i++)
        ts_sleep_ms(10);
    int rc = ts_server_stop(&f->srv, SIGTERM);
    atomic_store(&b->stop, true);
    for (size_t i = 0; i < REJECT_SENDERS; i++)
        pthread_join(th[i], NULL);
    unsigned refused = atomic_load(&b->refused);
    if (rc != 0)
        fail_msg("ctgw exited %d on SIGTERM during a burst of forged requests\n%s", rc,
                 ts_server_log_tail(&f->srv));
    assert_true(refused >= REJECTED_BURST / 3);
    /* Every 401 the senders saw is accounted for, in a row of its own or in a summary row
     * written at the stop: a request rejected as ctgw stopped may have lost its answer with
     * the connection, never its audit. */
    long long audited = ts_db_intf(
        &f->db, "SELECT (SELECT COUNT(*) FROM audit_log WHERE kind = 'rejected_signature' AND "
                "reason = 'no_secret_matched') + (SELECT IFNULL(SUM(CAST(SUBSTRING_INDEX(reason, "
                "' ', 1) AS UNSIGNED)), 0) FROM audit_log WHERE kind = "
                "'rejected_signature_summary')");
    if (audited < (long long)refused)
        fail_msg("%u rejections answered, %lld audited", refused, audited);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 0);
    /* The warnings are bounded too (20 a second), the rest told as a count. */
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    unsigned warned = 0;
    for (const char *at = log; (at = strstr(at, "\"signature rejected\"")) != NULL; at++)
        warned++;
    if (warned >= refused / 2 || strstr(log, "not logged one by one") == NULL)
        fail_msg("%u signature warnings logged for %u rejections", warned, refused);
}

/* ------------------------------------------------------------------ two processes */

struct post_job {
    char url[128];
    const char *body;
    struct ts_signed o;
    struct ts_http r;
    int rc;
};

static void *post_in_thread(void *arg)
{
    struct post_job *j = arg;
    j->rc = ts_signed_post(j->url, j->body, &j->o, &j->r);
    return NULL;
}

#define SAME_EVENT_SENDERS 8

/* A provider that retries fast: one event delivered eight times at once to one ctgw (one
 * writer, so the copies meet in one batch or in batches one after the other). */
static void test_same_event_sent_concurrently_is_stored_once(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, "ingest: { writers: 1 }\n" WORKERS_YAML);
    char id[96];
    ts_webhook_id(id, sizeof(id));
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    struct post_job *jobs = calloc(SAME_EVENT_SENDERS, sizeof(*jobs));
    assert_non_null(jobs);
    ts_keep(&f->kept, (char *)jobs);
    pthread_t th[SAME_EVENT_SENDERS];
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < SAME_EVENT_SENDERS; i++) {
        ts_hook_url(&f->srv, "generic", jobs[i].url, sizeof(jobs[i].url));
        jobs[i].body = body;
        jobs[i].o = (struct ts_signed){.secret = f->generic_secret, .id = id, .timestamp = now};
        assert_int_equal(pthread_create(&th[i], NULL, post_in_thread, &jobs[i]), 0);
    }
    for (size_t i = 0; i < SAME_EVENT_SENDERS; i++)
        pthread_join(th[i], NULL);
    unsigned long long ids[SAME_EVENT_SENDERS];
    for (size_t i = 0; i < SAME_EVENT_SENDERS; i++) {
        if (jobs[i].rc != 0 || jobs[i].r.status != 202)
            fail_with_log(&f->srv, "a concurrent copy", &jobs[i].r);
        ids[i] = ts_answer_id(jobs[i].r.body);
        ts_http_free(&jobs[i].r);
    }
    long long stored =
        ts_db_intf(&f->db, "SELECT id FROM webhook_events WHERE dedupe_key = '%s'", id);
    for (size_t i = 0; i < SAME_EVENT_SENDERS; i++)
        if (ids[i] != (unsigned long long)stored)
            fail_msg("copy %zu answered id %llu, stored id %lld", i, ids[i], stored);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 1);
    expect_done(f, &f->srv, (unsigned long long)stored);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), 1);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), 1);
    char *m = ts_keep(&f->kept, ts_server_metrics_ok(&f->srv));
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"accepted\"}", 1);
    expect_metric(m, "ctgw_requests_total{endpoint=\"generic\",outcome=\"duplicate\"}",
                  SAME_EVENT_SENDERS - 1);
    ts_server_stop_clean("test_same_event_sent_concurrently_is_stored_once", &f->srv);
}

#define MIXED_SENDERS 8

/* One row the database refuses (a trigger stands for whatever slips past the checks) does
 * not fail the batch it was stored with: the other requests, of every tenant, are stored and
 * acknowledged, only the culprit is answered 503. A User-Agent that is not UTF-8 (it is not
 * signed) is stored with its stray bytes escaped, not refused. */
static void test_bad_row_is_refused_alone(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, "ingest: { writers: 1 }\n" WORKERS_YAML);
    ts_db_exec_ok(&f->db, "CREATE TRIGGER poison BEFORE INSERT ON webhook_events FOR EACH ROW "
                          "BEGIN IF NEW.dedupe_key LIKE 'poison%' THEN SIGNAL SQLSTATE '45000' "
                          "SET MESSAGE_TEXT = 'poisoned row'; END IF; END");
    /* Another connection holds the inbox while the requests arrive, so that they queue and
     * the writer stores them in one batch. */
    MYSQL *holder = ts_db_connect(f->db.name);
    assert_non_null(holder);
    assert_int_equal(mysql_query(holder, "LOCK TABLES webhook_events WRITE"), 0);
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    struct post_job *jobs = calloc(MIXED_SENDERS, sizeof(*jobs));
    char(*ids)[96] = calloc(MIXED_SENDERS, sizeof(*ids));
    assert_non_null(jobs);
    assert_non_null(ids);
    ts_keep(&f->kept, (char *)jobs);
    ts_keep(&f->kept, (char *)ids);
    pthread_t th[MIXED_SENDERS];
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < MIXED_SENDERS; i++) {
        if (i == 3)
            snprintf(ids[i], sizeof(ids[i]), "poison-%d", (int)getpid());
        else
            ts_webhook_id(ids[i], sizeof(ids[i]));
        ts_hook_url(&f->srv, "generic", jobs[i].url, sizeof(jobs[i].url));
        jobs[i].body = body;
        jobs[i].o = (struct ts_signed){.secret = f->generic_secret, .id = ids[i], .timestamp = now};
        if (i == 5)
            jobs[i].o.user_agent = "Robot\xFF\xFE/1.0 caf\xC3\xA9";
        /* The first (a good one) alone, until the writer waits for the lock with it: the
         * others, the poisoned one among them, then queue for the next batch together. */
        assert_int_equal(pthread_create(&th[i], NULL, post_in_thread, &jobs[i]), 0);
        if (i == 0 && !wait_blocked(f, "INSERT INTO webhook_events"))
            fail_msg("ctgw's writer never waited on the held inbox");
    }
    ts_sleep_ms(500);
    assert_int_equal(mysql_query(holder, "UNLOCK TABLES"), 0);
    for (size_t i = 0; i < MIXED_SENDERS; i++)
        pthread_join(th[i], NULL);
    mysql_close(holder);
    for (size_t i = 0; i < MIXED_SENDERS; i++) {
        long want = i == 3 ? 503 : 202;
        if (jobs[i].rc != 0 || jobs[i].r.status != want)
            fail_with_log(&f->srv, i == 3 ? "the poisoned request" : "a good request", &jobs[i].r);
        ts_http_free(&jobs[i].r);
    }
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), MIXED_SENDERS - 1);
    ts_expect_text(&f->db, NULL, "Robot\\xFF\\xFE/1.0 caf\xC3\xA9",
                   "SELECT JSON_VALUE(headers, '$.\"user-agent\"') FROM webhook_events WHERE "
                   "dedupe_key = '%s'",
                   ids[5]);
    char *log = ts_keep(&f->kept, ts_server_log(&f->srv));
    if (strstr(log, "request refused by the database, not stored") == NULL)
        fail_msg("the refusal was not logged:\n%s", log);
    ts_server_stop_clean("test_bad_row_is_refused_alone", &f->srv);
}

/* A flood of rejections from one source is not written row by row: the first
 * limits.audit_each of a window are, the rest are counted into one summary row when the
 * window ends, and no writer wakes for audit rows alone more than once a second. */
static void test_rejections_are_audited_in_summary(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv,
                 "limits: { audit_each: 3, audit_window: 2s, refusal_delay: 0s }\n" WORKERS_YAML);
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));
    char *wrong = ts_keep(&f->kept, ts_whsec_new());
    enum { SENT = 30 };
    for (int i = 0; i < SENT; i++) {
        struct ts_signed o = {.secret = wrong};
        struct ts_http r;
        ts_post_expect(&f->srv, "generic", body, &o, 401, &r);
        ts_http_free(&r);
    }
    /* Every rejection is accounted for, one by one or in a summary, once its window ends. */
    const char *sql = "SELECT (SELECT COUNT(*) FROM audit_log WHERE kind = 'rejected_signature') "
                      "+ (SELECT IFNULL(SUM(CAST(SUBSTRING_INDEX(reason, ' ', 1) AS UNSIGNED)), "
                      "0) FROM audit_log WHERE kind = 'rejected_signature_summary')";
    if (!ts_db_wait_int(&f->db, SENT, 15000, "%s", sql)) {
        char *dump = ts_db_dump(&f->db, "SELECT kind, reason FROM audit_log");
        fail_msg("audit_log does not account for %d rejections:\n%s", SENT, dump);
    }
    long long single = ts_db_intf(&f->db, "SELECT COUNT(*) FROM audit_log WHERE kind = "
                                          "'rejected_signature'");
    long long summaries = ts_db_intf(&f->db, "SELECT COUNT(*) FROM audit_log WHERE kind = "
                                             "'rejected_signature_summary' AND endpoint = "
                                             "'generic' AND source_address = '127.0.0.1'");
    long long windows = summaries > 0 ? summaries : 1;
    if (single > 3 * (windows + 1) || summaries < 1)
        fail_msg("%lld rows one by one and %lld summaries for %d rejections", single, summaries,
                 SENT);
    ts_server_stop_clean("test_rejections_are_audited_in_summary", &f->srv);
}

/* Posts an unsigned body to the generic endpoint with X-Forwarded-For XFF (NULL: none);
 * returns the status, Retry-After in *retry. */
static long post_from(struct fixture *f, const char *xff, long *retry)
{
    char url[128], h_xff[128], ra[32];
    ts_hook_url(f->srv2.dir[0] ? &f->srv2 : &f->srv, "generic", url, sizeof(url));
    snprintf(h_xff, sizeof(h_xff), "X-Forwarded-For: %s", xff ? xff : "");
    const char *headers[] = {"Content-Type: application/json", xff ? h_xff : NULL, NULL};
    struct ts_http r;
    if (ts_http("POST", url, headers, "{}", &r) != 0)
        fail_msg("POST %s: %s", url, r.error);
    long status = r.status;
    *retry = ts_http_header(&r, "Retry-After", ra, sizeof(ra)) ? strtol(ra, NULL, 10) : 0;
    ts_http_free(&r);
    return status;
}

/* limits.per_source: a source over its rate is answered 429 with Retry-After before anything
 * is verified or audited; behind a trusted proxy (listen.trusted_proxies) the source is the
 * client X-Forwarded-For names, each with its own bucket, and a forged X-Forwarded-For from
 * a peer that is no proxy changes nothing. */
static void test_rate_limit_per_source(void **state)
{
    struct fixture *f = *state;
    start_server(
        f, &f->srv,
        "limits: { per_source: 1, per_source_burst: 2, refusal_delay: 0s }\n" WORKERS_YAML);
    long retry = 0, limited = 0;
    /* Not a proxy: X-Forwarded-For is the client's to write, and ignored. */
    for (int i = 0; i < 6; i++) {
        char xff[32];
        snprintf(xff, sizeof(xff), "198.51.100.%d", i + 1);
        long st = post_from(f, xff, &retry);
        if (st == 429) {
            limited++;
            assert_true(retry >= 1);
        } else {
            assert_int_equal(st, 401);
        }
    }
    assert_true(limited >= 3); /* a burst of 2, then at most one a second */
    long long audited = ts_db_intf(&f->db, "SELECT COUNT(*) FROM audit_log");
    assert_true(audited <= 6 - limited); /* the limited ones were never verified */
    char *m = ts_keep(&f->kept, ts_server_metrics_ok(&f->srv));
    if (strstr(m, "outcome=\"rate_limited\"") == NULL)
        fail_msg("no rate_limited metric:\n%s", m);
    ts_server_stop_clean("test_rate_limit_per_source", &f->srv);

    /* Behind a trusted proxy: each client its own bucket. */
    start_server_with(
        f, &f->srv2,
        "limits: { per_source: 1, per_source_burst: 2, refusal_delay: 0s }\n" WORKERS_YAML,
        "  trusted_proxies: [ 127.0.0.0/8 ]\n");
    for (int i = 0; i < 6; i++) {
        char xff[64];
        snprintf(xff, sizeof(xff), "203.0.113.%d, 127.0.0.1", i + 1);
        assert_int_equal(post_from(f, xff, &retry), 401);
    }
    assert_int_equal(post_from(f, "203.0.113.9", &retry), 401);
    assert_int_equal(post_from(f, "203.0.113.9", &retry), 401);
    assert_int_equal(post_from(f, "203.0.113.9", &retry), 429);
    /* Audit rows go with the next batch, or within a second: poll. */
    assert_true(ts_db_wait_int(&f->db, 1, 10000, "%s",
                               "SELECT COUNT(*) > 0 FROM audit_log WHERE source_address = "
                               "'203.0.113.1'"));
    ts_server_stop_clean("test_rate_limit_per_source", &f->srv2);
}

/* The race two instances run when a provider delivers one event to both: the other one's
 * transaction has inserted the row but not committed when this one's writer inserts the
 * same key, waits for the lock, and then finds the row stored. The answer must name that
 * row. (A writer's first batch looks its company up before inserting.) */
static void test_duplicate_committed_meanwhile_answers_its_id(void **state)
{
    struct fixture *f = *state;
    start_server(f, &f->srv, WORKERS_YAML);
    char id[96], sql[1024];
    ts_webhook_id(id, sizeof(id));
    char *body = ts_keep(&f->kept, test_fixture("generic/job_create.json"));

    ts_db_exec_ok(&f->db, "START TRANSACTION");
    snprintf(sql, sizeof(sql),
             "INSERT INTO webhook_events (endpoint, provider, company_id, dedupe_key, status, "
             "body, body_sha256, result) VALUES ('generic', 'generic', %lld, '%s', 'done', '{}', "
             "UNHEX(SHA2('{}', 256)), '{\"ref\":\"CT-000042\"}')",
             f->acme_id, id);
    ts_db_exec_ok(&f->db, sql);
    unsigned long long stored = (unsigned long long)mysql_insert_id(f->db.conn);
    struct post_job *j = calloc(1, sizeof(*j));
    assert_non_null(j);
    ts_hook_url(&f->srv, "generic", j->url, sizeof(j->url));
    j->body = body;
    j->o = (struct ts_signed){.secret = f->generic_secret, .id = id};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_in_thread, j), 0);
    bool blocked = wait_blocked(f, "INSERT INTO webhook_events");
    ts_db_exec_ok(&f->db, "COMMIT");
    pthread_join(th, NULL);
    struct ts_http r = j->r;
    int rc = j->rc;
    free(j);
    assert_true(blocked);
    if (rc != 0 || r.status != 202 || ts_answer_id(r.body) != stored) {
        char what[96];
        snprintf(what, sizeof(what), "want 202 {\"id\":\"%llu\"}", stored);
        fail_with_log(&f->srv, what, &r);
    }
    ts_http_free(&r);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), 1);
    ts_server_stop_clean("test_duplicate_committed_meanwhile_answers_its_id", &f->srv);
}

#define FLOOD_EVENTS  1000
#define FLOOD_SENDERS 8
#define FLOOD_TRIES   100

struct flood {
    char urls[2][128];
    const char *secret;
    char ids[FLOOD_EVENTS][64];
    atomic_uint next;
    long status[FLOOD_EVENTS][2];
    unsigned long long answered[FLOOD_EVENTS][2];
    unsigned long long stored[FLOOD_EVENTS]; /* webhook_events.id of each event */
    atomic_uint retries;
};

/* Takes (event, server) pairs off a shared counter: the two deliveries of one event are
 * next to each other, so two senders carry them to the two servers at about the same time,
 * and which server gets an event first alternates. A 503 is retried as a provider would. */
static void *flood_sender(void *arg)
{
    struct flood *fl = arg;
    for (;;) {
        unsigned k = atomic_fetch_add(&fl->next, 1);
        if (k >= 2 * FLOOD_EVENTS)
            break;
        unsigned ev = k / 2, srv = (k % 2) ^ (ev % 2);
        char body[160];
        snprintf(body, sizeof(body),
                 "{\"type\":\"job.create\",\"data\":{\"title\":\"Flood event %u\"}}", ev);
        struct ts_signed o = {.secret = fl->secret, .id = fl->ids[ev]};
        long status = 0;
        for (int attempt = 0; attempt < FLOOD_TRIES; attempt++) {
            struct ts_http r;
            int rc = ts_signed_post(fl->urls[srv], body, &o, &r);
            status = rc == 0 ? r.status : 0;
            if (status == 202)
                fl->answered[ev][srv] = ts_answer_id(r.body);
            ts_http_free(&r);
            if (status != 503 && status != 0)
                break;
            atomic_fetch_add(&fl->retries, 1);
            ts_sleep_ms(20);
        }
        fl->status[ev][srv] = status;
    }
    return NULL;
}

static void test_two_processes_share_one_database(void **state)
{
    struct fixture *f = *state;
    static const char workers[] = "workers: { threads: 2, max_attempts: 3, backoff: { base: "
                                  "50ms, max: 200ms } }\n";
    start_server(f, &f->srv, workers);
    start_server(f, &f->srv2, workers);
    struct flood *fl = f->flood = calloc(1, sizeof(*fl));
    assert_non_null(fl);
    ts_hook_url(&f->srv, "generic", fl->urls[0], sizeof(fl->urls[0]));
    ts_hook_url(&f->srv2, "generic", fl->urls[1], sizeof(fl->urls[1]));
    fl->secret = f->generic_secret;
    for (unsigned i = 0; i < FLOOD_EVENTS; i++)
        snprintf(fl->ids[i], sizeof(fl->ids[i]), "flood-%04u-%ld", i, (long)getpid());

    pthread_t th[FLOOD_SENDERS];
    for (size_t i = 0; i < FLOOD_SENDERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, flood_sender, fl), 0);
    for (size_t i = 0; i < FLOOD_SENDERS; i++)
        pthread_join(th[i], NULL);
    if (atomic_load(&fl->retries) > 0) {
        print_message("  %u deliveries answered 503 or failed and were retried:\n",
                      atomic_load(&fl->retries));
        print_log_lines(&f->srv, "not stored", 3);
        print_log_lines(&f->srv2, "not stored", 3);
    }

    /* Every delivery acknowledged, and stored once. */
    for (unsigned i = 0; i < FLOOD_EVENTS; i++)
        for (unsigned s = 0; s < 2; s++)
            if (fl->status[i][s] != 202)
                fail_msg("event %u to server %u: status %ld", i, s, fl->status[i][s]);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM webhook_events"), FLOOD_EVENTS);

    if (!ts_db_wait_int(&f->db, FLOOD_EVENTS, 120000,
                        "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'")) {
        char *dump = ts_db_dump(&f->db, "SELECT status, COUNT(*), MAX(last_error) FROM "
                                        "webhook_events GROUP BY status");
        fail_msg("not every event is done after 120 s:\n%s", dump);
    }
    /* Each applied exactly once: 1,000 jobs numbered 1..1,000, one created event each. */
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM jobs"), FLOOD_EVENTS);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(DISTINCT ref) FROM jobs"), FLOOD_EVENTS);
    ts_expect_text(&f->db, NULL, "CT-000001|CT-001000",
                   "SELECT CONCAT_WS('|', MIN(ref), MAX(ref)) FROM jobs");
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(DISTINCT title) FROM jobs"), FLOOD_EVENTS);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(*) FROM job_events"), FLOOD_EVENTS);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(DISTINCT webhook_event_id) FROM job_events"),
                     FLOOD_EVENTS);
    assert_int_equal(ts_db_intf(&f->db, "SELECT COUNT(DISTINCT job_id) FROM job_events"),
                     FLOOD_EVENTS);
    /* The ref each event's result reports is the job its history row points at. */
    assert_int_equal(ts_db_intf(&f->db,
                                "SELECT COUNT(*) FROM webhook_events w JOIN job_events e ON "
                                "e.webhook_event_id = w.id JOIN jobs j ON j.id = e.job_id WHERE "
                                "JSON_VALUE(w.result, '$.ref') = j.ref AND j.title = CONCAT('Flood "
                                "event ', CAST(SUBSTRING(w.dedupe_key, 7, 4) AS UNSIGNED))"),
                     FLOOD_EVENTS);
    /* Both processes applied part of the events, and no attempt was wasted on a duplicate. */
    char *m1 = ts_keep(&f->kept, ts_server_metrics_ok(&f->srv)),
         *m2 = ts_keep(&f->kept, ts_server_metrics_ok(&f->srv2));
    long long a1 = ts_metric(m1, "ctgw_worker_attempts_total");
    long long a2 = ts_metric(m2, "ctgw_worker_attempts_total");
    if (a1 <= 0 || a2 <= 0 || a1 + a2 != FLOOD_EVENTS)
        fail_msg("worker attempts: %lld and %lld; want both > 0, %d in all", a1, a2, FLOOD_EVENTS);

    /* Both answers of an event name the one stored row: the one that stored it and the one
     * that found it stored (by the other process, maybe a moment before). */
    char *rows = ts_db_dump(&f->db, "SELECT dedupe_key, id FROM webhook_events");
    assert_non_null(rows);
    for (char *save = NULL, *line = strtok_r(rows, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned i = 0;
        unsigned long long id = 0;
        if (sscanf(line, "flood-%u-%*d|%llu", &i, &id) == 2 && i < FLOOD_EVENTS)
            fl->stored[i] = id;
    }
    free(rows);
    unsigned wrong = 0, first = 0, first_srv = 0;
    for (unsigned i = 0; i < FLOOD_EVENTS; i++)
        for (unsigned s = 0; s < 2; s++)
            if (fl->stored[i] == 0 || fl->answered[i][s] != fl->stored[i]) {
                if (wrong++ == 0) {
                    first = i;
                    first_srv = s;
                }
            }
    if (wrong > 0)
        fail_msg("%u answers name the wrong event id; first: event %u to server %u answered "
                 "{\"id\":\"%llu\"}, stored as id %llu",
                 wrong, first, first_srv, fl->answered[first][first_srv], fl->stored[first]);
    ts_server_stop_clean("first ctgw", &f->srv);
    ts_server_stop_clean("second ctgw", &f->srv2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contact_form_creates_ticket_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_form_invalid_fields_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_contact_form_blank_message_is_a_field_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_signatures_are_refused_and_audited, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_the_largest_limit_is_counted_and_logged,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_generic_events_of_every_type_are_applied, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_generic_bad_events_fail_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claimed_batch_applies_together_and_failures_alone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_transient_failure_is_retried_then_dead, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_metrics_count_what_was_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_created_meanwhile_is_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_while_audit_rows_are_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_row_is_refused_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_per_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections_are_audited_in_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_event_sent_concurrently_is_stored_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_committed_meanwhile_answers_its_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_share_one_database, setup, teardown),
    };
    return ts_run_group(tests);
}
