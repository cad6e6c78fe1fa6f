/* test_load.c — valid configurations load with the values written and the documented
 * defaults, and the limits on files and documents hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/provider.h"
#include "adapters/ghl/config.h"
#include "adapters/slack/config.h"
#include "adapters/xero/config.h"
#include "gateway/base/log.h"
#include "config/config.h"
#include "config/config_keys.h"
#include "gateway/base/log.h"
#include "tests/support/config.h"

#define KiB (1024ull)
#define MiB (1024ull * 1024ull)

#define MINIMAL                                                                                    \
    "listen:\n"                                                                                    \
    "  port: 8080\n"                                                                               \
    "admin:\n"                                                                                     \
    "  port: 9090\n"                                                                               \
    "  token: ${CTGW_T_TOKEN}\n"                                                                   \
    "database:\n"                                                                                  \
    "  user: ctgw\n"                                                                               \
    "  name: canticket\n"

struct fixture {
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->dir = test_mkdtemp();
    if (setenv("CTGW_T_TOKEN", "admin-token-0123456789", 1) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Writes TEXT as DIR/NAME and loads it, expecting success. */
static struct gw_config *load_ok(struct fixture *f, const char *name, const char *text)
{
    struct gw_config_errors errs = {0};
    char *path = test_write_text(f->dir, name, text, 0644);
    struct gw_config *cfg = test_load(path, &errs);
    bool path_kept = cfg != NULL && strcmp(cfg->path, path) == 0;

    if (cfg == NULL) {
        char *all = test_join_errors(&errs);
        fprintf(stderr, "%s did not load:\n%s", path, all);
        free(all);
    }
    gw_config_errors_finish(&errs);
    free(path);
    assert_non_null(cfg);
    assert_true(path_kept);
    return cfg;
}

/* Writes TEXT as DIR/NAME and loads it, expecting exactly the error lines WANT, where
 * @FILE@ stands for the path. Everything is freed before asserting, so that a failure is
 * not buried in leak reports. */
static void load_fails(struct fixture *f, const char *name, const char *text, const char *want)
{
    struct gw_config_errors errs = {0};
    char *path = test_write_text(f->dir, name, text, 0644);
    struct gw_config *cfg = test_load(path, &errs);
    char *expected = test_replace(want, "@FILE@", path);
    char *got = test_join_errors(&errs);
    bool loaded = cfg != NULL;
    bool same = strcmp(got, expected) == 0;

    if (!same)
        fprintf(stderr, "%s:\n--- expected\n%s--- got\n%s", name, expected, got);
    gw_config_destroy(cfg);
    free(got);
    free(expected);
    gw_config_errors_finish(&errs);
    free(path);
    assert_false(loaded);
    assert_true(same);
}

static char *source_file(const char *rel)
{
    char path[4096];
    char *text;

    snprintf(path, sizeof path, "%s/%s", CTGW_SOURCE_ROOT, rel);
    text = test_read(path, NULL);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    return text;
}

static void test_example(void **state)
{
    struct fixture *f = *state;
    char *text = source_file("config/examples/ctgw.example.yaml");
    char *files[] = {
        test_write_text(f->dir, "tls/cert.pem", "-----BEGIN CERTIFICATE-----\n", 0644),
        test_write_text(f->dir, "tls/key.pem", "-----BEGIN PRIVATE KEY-----\n", 0600),
        test_write_text(f->dir, "secrets/contact-form.secret", "form-secret\r\n", 0600),
        test_write_text(f->dir, "secrets/generic.secret", "generic-secret", 0400),
        test_write_text(f->dir, "secrets/mail-thread.key",
                        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600),
        test_write_text(f->dir, "secrets/mail-raw.password", "relay-password-0123456789\n", 0600),
        test_write_text(f->dir, "secrets/ghl-workflow.token", "ghl-workflow-token-0123456789\n",
                        0600),
    };
    const struct gw_endpoint_config *ep;
    struct gw_config *cfg;

    assert_int_equal(setenv("CTGW_ADMIN_TOKEN", "admin-token-0123456789", 1), 0);
    assert_int_equal(setenv("CTGW_DB_PASSWORD", "db-password", 1), 0);
    assert_int_equal(setenv("SLACK_SIGNING_SECRET", "slack-new", 1), 0);
    assert_int_equal(setenv("SLACK_SIGNING_SECRET_PREVIOUS", "slack-old", 1), 0);
    assert_int_equal(setenv("XERO_WEBHOOK_KEY", "xero-key", 1), 0);
    assert_int_equal(setenv("MAILGUN_SIGNING_KEY", "mailgun-key", 1), 0);
    assert_int_equal(setenv("SENDGRID_PARSE_PASSWORD", "sendgrid-password-0123", 1), 0);
    assert_int_equal(setenv("STRIPE_WEBHOOK_SECRET", "whsec_x", 1), 0);
    cfg = load_ok(f, "ctgw.yaml", text);

    assert_string_equal(cfg->listen.address, "0.0.0.0");
    assert_int_equal(cfg->listen.port, 8443);
    assert_int_equal(cfg->listen.header_timeout_ms, 10000);
    assert_int_equal(cfg->limits.per_source, 0);
    assert_int_equal(cfg->limits.audit_each, 5);
    assert_int_equal(cfg->limits.refusal_delay_ms, 1000);
    assert_int_equal(cfg->retention.batch, 500);
    assert_true(cfg->listen.tls.enabled);
    assert_string_equal(cfg->listen.tls.cert.data, "-----BEGIN CERTIFICATE-----");
    assert_string_equal(cfg->listen.tls.key.data, "-----BEGIN PRIVATE KEY-----");
    assert_int_equal(cfg->listen.tls.min_version, 12);
    assert_int_equal(cfg->listen.max_connections, 4096);
    assert_int_equal(cfg->listen.max_header_size, 16 * KiB);
    assert_int_equal(cfg->listen.timeout_ms, 30000);
    assert_int_equal(cfg->listen.header_timeout_ms, 10000);
    assert_int_equal(cfg->listen.max_body_bytes_in_flight, 256 * MiB);

    assert_string_equal(cfg->admin.address, "127.0.0.1");
    assert_int_equal(cfg->admin.port, 9090);
    assert_int_equal(cfg->admin.token.len, 22);
    assert_string_equal(cfg->admin.token.data, "admin-token-0123456789");

    assert_string_equal(cfg->database.host, "127.0.0.1");
    assert_int_equal(cfg->database.port, 3306);
    assert_string_equal(cfg->database.socket, "/run/mysqld/mysqld.sock");
    assert_string_equal(cfg->database.user, "ctgw");
    assert_string_equal(cfg->database.password.data, "db-password");
    assert_string_equal(cfg->database.name, "canticket");
    assert_int_equal(cfg->database.pool, 8);
    assert_int_equal(cfg->database.connect_timeout_ms, 5000);
    assert_int_equal(cfg->database.timeout_ms, 30000);

    assert_int_equal(cfg->ingest.writers, 2);
    assert_int_equal(cfg->ingest.batch_max, 256);
    assert_int_equal(cfg->ingest.max_body, 1 * MiB);
    assert_int_equal(cfg->workers.threads, 4);
    assert_int_equal(cfg->workers.max_attempts, 8);
    assert_int_equal(cfg->workers.backoff_base_ms, 2000);
    assert_int_equal(cfg->workers.backoff_max_ms, 3600000);
    assert_int_equal(cfg->log.level, GW_CFG_LOG_INFO);
    assert_int_equal(cfg->log.format, GW_CFG_LOG_FORMAT_JSON);
    assert_int_equal(cfg->retention.raw_bodies_ms, 30ull * 86400000);
    assert_int_equal(cfg->retention.audit_ms, 365ull * 86400000);
    assert_int_equal(cfg->retention.batch, 500);
    assert_int_equal(cfg->retention.interval_ms, 86400000);

    assert_true(cfg->mail.enabled);
    assert_string_equal(cfg->mail.domain, "mail.canticket.example");
    assert_null(cfg->mail.loop_marker);
    assert_int_equal(cfg->mail.max_per_sender_hour, 30);
    assert_int_equal(cfg->mail.max_message, 25 * MiB);
    assert_int_equal(cfg->mail.max_parts, 100);
    assert_int_equal(cfg->mail.max_depth, 10);
    assert_int_equal(cfg->mail.max_header_bytes, 256 * KiB);
    assert_int_equal(cfg->mail.max_attachment, 25 * MiB);
    assert_int_equal(cfg->mail.max_attachments_total, 25 * MiB);

    assert_int_equal(cfg->n_endpoints, 11);
    ep = gw_config_endpoint(cfg, "slack");
    assert_non_null(ep);
    assert_ptr_equal(ep, &cfg->endpoints[0]);
    assert_ptr_equal(ep->provider, gw_provider_find("slack"));
    assert_int_equal(ep->n_secrets, 2);
    assert_string_equal(ep->secrets[0].data, "slack-new");
    assert_string_equal(ep->secrets[1].data, "slack-old");
    assert_int_equal(ep->max_body, 1 * MiB);
    assert_null(ep->company);
    assert_true(ep->line > 1);

    ep = gw_config_endpoint(cfg, "contact-form");
    assert_non_null(ep);
    assert_ptr_equal(ep->provider, gw_provider_find("contact-form"));
    assert_string_equal(ep->company, "demo");
    assert_int_equal(ep->n_secrets, 1);
    assert_int_equal(ep->secrets[0].len, 11);
    assert_string_equal(ep->secrets[0].data, "form-secret");
    assert_int_equal(ep->max_body, 64 * KiB);

    ep = gw_config_endpoint(cfg, "jobs-api");
    assert_non_null(ep);
    assert_string_equal(ep->secrets[0].data, "generic-secret");
    ep = gw_config_endpoint(cfg, "ghl");
    assert_non_null(ep);
    assert_int_equal(ep->n_secrets, 0);
    assert_null(ep->secrets);
    assert_int_equal(gw_ghl_config_of(ep)->install, GW_GHL_INSTALL_MANUAL);
    assert_int_equal(ep->tolerance_ms, 300000);
    ep = gw_config_endpoint(cfg, "ghl-workflow");
    assert_non_null(ep);
    assert_string_equal(gw_ghl_workflow_config_of(ep)->location, "ve9EPM428h8vShlRW1KT");
    assert_string_equal(ep->token.data, "ghl-workflow-token-0123456789");
    assert_string_equal(ep->header, "X-Webhook-Secret");
    ep = gw_config_endpoint(cfg, "mail-ses"); /* SNS sends at most 256 KiB: ingest.max_body */
    assert_non_null(ep);
    assert_int_equal(ep->max_body, cfg->ingest.max_body);
    ep = gw_config_endpoint(cfg, "mail-sendgrid"); /* SendGrid's 30 MB messages and the form */
    assert_non_null(ep);
    assert_int_equal(ep->max_body, 32 * MiB);
    assert_string_equal(ep->username, "sendgrid");
    ep = gw_config_endpoint(cfg, "mail-raw"); /* raw mail: max_body is mail.max_message */
    assert_non_null(ep);
    assert_ptr_equal(ep->provider, gw_provider_find("email-mime"));
    assert_string_equal(ep->username, "relay");
    assert_string_equal(ep->password.data, "relay-password-0123456789");
    assert_int_equal(ep->max_body, 25 * MiB);
    assert_null(gw_config_endpoint(cfg, "nope"));
    assert_null(gw_config_endpoint(NULL, "slack"));

    gw_config_destroy(cfg);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        free(files[i]);
    free(text);
}

static void test_minimal_defaults(void **state)
{
    struct gw_config *cfg = load_ok(*state, "minimal.yaml", MINIMAL);

    assert_string_equal(cfg->listen.address, "0.0.0.0");
    assert_int_equal(cfg->listen.port, 8080);
    assert_false(cfg->listen.tls.enabled);
    assert_null(cfg->listen.tls.cert.data);
    assert_null(cfg->listen.tls.key.data);
    assert_int_equal(cfg->listen.tls.min_version, 12);
    assert_int_equal(cfg->listen.max_connections, 4096);
    assert_int_equal(cfg->listen.max_header_size, 16 * KiB);
    assert_int_equal(cfg->listen.timeout_ms, 30000);
    assert_string_equal(cfg->admin.address, "127.0.0.1");
    assert_int_equal(cfg->admin.port, 9090);
    assert_string_equal(cfg->admin.token.data, "admin-token-0123456789");
    assert_string_equal(cfg->database.host, "127.0.0.1");
    assert_int_equal(cfg->database.port, 3306);
    assert_null(cfg->database.socket);
    assert_null(cfg->database.password.data);
    assert_int_equal(cfg->database.password.len, 0);
    assert_int_equal(cfg->database.pool, 8);
    assert_int_equal(cfg->database.connect_timeout_ms, 5000);
    assert_int_equal(cfg->database.timeout_ms, 30000);
    assert_int_equal(cfg->ingest.writers, 2);
    assert_int_equal(cfg->ingest.batch_max, 256);
    assert_int_equal(cfg->ingest.max_body, 1 * MiB);
    assert_int_equal(cfg->workers.threads, 4);
    assert_int_equal(cfg->workers.max_attempts, 8);
    assert_int_equal(cfg->workers.backoff_base_ms, 2000);
    assert_int_equal(cfg->workers.backoff_max_ms, 3600000);
    assert_int_equal(cfg->log.level, GW_CFG_LOG_INFO);
    assert_int_equal(cfg->log.format, GW_CFG_LOG_FORMAT_JSON);
    assert_int_equal(cfg->n_endpoints, 0);
    assert_null(cfg->endpoints);
    /* No mail section: no thread ids, but every limit at its default. */
    assert_false(cfg->mail.enabled);
    assert_null(cfg->mail.thread_key.data);
    assert_null(cfg->mail.domain);
    assert_null(cfg->mail.loop_marker);
    assert_int_equal(cfg->mail.max_per_sender_hour, 30);
    assert_int_equal(cfg->mail.max_message, 25 * MiB);
    assert_int_equal(cfg->mail.max_parts, 100);
    assert_int_equal(cfg->mail.max_depth, 10);
    assert_int_equal(cfg->mail.max_header_bytes, 256 * KiB);
    assert_int_equal(cfg->mail.max_attachment, 25 * MiB);
    assert_int_equal(cfg->mail.max_attachments_total, 25 * MiB);
    gw_config_destroy(cfg);
}

static void test_values_and_env_scalars(void **state)
{
    struct gw_config *cfg;

    assert_int_equal(setenv("CTGW_T_PORT", "18443", 1), 0);
    assert_int_equal(setenv("CTGW_T_DBHOST", "db.internal", 1), 0);
    assert_int_equal(setenv("CTGW_T_SLACK", "slack-secret", 1), 0);
    assert_int_equal(setenv("CTGW_T_LEVEL", "debug", 1), 0);
    cfg = load_ok(*state, "values.yaml",
                  "# endpoints before ingest: their max_body still defaults to ingest's\n"
                  "endpoints:\n"
                  "  - { id: slack, provider: slack, secrets: [ \"${CTGW_T_SLACK}\" ] }\n"
                  "  - { id: big, provider: ghl, max_body: 64MiB }\n"
                  "listen: { address: '::', port: \"${CTGW_T_PORT}\", max_connections: 1,\n"
                  "          max_header_size: 1024, timeout: 1h30m,\n"
                  "          header_timeout: 2s, max_body_bytes_in_flight: 8MiB }\n"
                  "admin: { address: 127.0.0.2, port: 8443, token: \"${CTGW_T_TOKEN}\" }\n"
                  "database:\n"
                  "  host: ${CTGW_T_DBHOST}\n"
                  "  port: 13306\n"
                  "  user: gw\n"
                  "  name: ct_test\n"
                  "  pool: 256\n"
                  "  connect_timeout: 250ms\n"
                  "  timeout: 1d\n"
                  "ingest: { writers: 64, batch_max: 10000, max_body: 512KiB }\n"
                  "workers: { threads: 0, max_attempts: 100, backoff: { base: 1s, max: 1s } }\n"
                  "retention: { raw_bodies: 2h, audit: 3650d, batch: 10000, interval: 1s }\n"
                  "log: { level: \"${CTGW_T_LEVEL}\", format: text }\n");
    assert_string_equal(cfg->listen.address, "::");
    assert_int_equal(cfg->listen.port, 18443);
    assert_int_equal(cfg->listen.max_connections, 1);
    assert_int_equal(cfg->listen.max_header_size, 1024);
    assert_int_equal(cfg->listen.timeout_ms, 5400000);
    assert_int_equal(cfg->listen.header_timeout_ms, 2000);
    assert_int_equal(cfg->listen.max_body_bytes_in_flight, 8 * MiB);
    assert_string_equal(cfg->admin.address, "127.0.0.2");
    assert_int_equal(cfg->admin.port, 8443);
    assert_string_equal(cfg->database.host, "db.internal");
    assert_int_equal(cfg->database.port, 13306);
    assert_string_equal(cfg->database.user, "gw");
    assert_string_equal(cfg->database.name, "ct_test");
    assert_int_equal(cfg->database.pool, 256);
    assert_int_equal(cfg->database.connect_timeout_ms, 250);
    assert_int_equal(cfg->database.timeout_ms, 86400000);
    assert_int_equal(cfg->ingest.writers, 64);
    assert_int_equal(cfg->ingest.batch_max, 10000);
    assert_int_equal(cfg->ingest.max_body, 512 * KiB);
    assert_int_equal(cfg->workers.threads, 0);
    assert_int_equal(cfg->retention.raw_bodies_ms, 2 * 3600000);
    assert_int_equal(cfg->retention.audit_ms, 3650ull * 86400000);
    assert_int_equal(cfg->retention.batch, 10000);
    assert_int_equal(cfg->retention.interval_ms, 1000);
    assert_int_equal(cfg->workers.max_attempts, 100);
    assert_int_equal(cfg->workers.backoff_base_ms, 1000);
    assert_int_equal(cfg->workers.backoff_max_ms, 1000);
    assert_int_equal(cfg->log.level, GW_CFG_LOG_DEBUG);
    assert_int_equal(cfg->log.format, GW_CFG_LOG_FORMAT_TEXT);
    assert_int_equal(cfg->n_endpoints, 2);
    assert_int_equal(cfg->endpoints[0].max_body, 512 * KiB);
    assert_int_equal(cfg->endpoints[0].line, 3);
    assert_string_equal(cfg->endpoints[0].secrets[0].data, "slack-secret");
    assert_int_equal(cfg->endpoints[1].max_body, 64 * MiB);
    assert_int_equal(cfg->endpoints[1].line, 4);
    gw_config_destroy(cfg);
}

static void test_empty_endpoints(void **state)
{
    struct gw_config *cfg = load_ok(*state, "a.yaml", MINIMAL "endpoints: []\n");
    assert_int_equal(cfg->n_endpoints, 0);
    gw_config_destroy(cfg);
    cfg = load_ok(*state, "b.yaml", MINIMAL "endpoints:\n");
    assert_int_equal(cfg->n_endpoints, 0);
    gw_config_destroy(cfg);
    cfg = load_ok(*state, "c.yaml", MINIMAL "ingest:\nworkers: ~\nlog: {}\n");
    assert_int_equal(cfg->ingest.writers, 2);
    assert_int_equal(cfg->workers.threads, 4);
    assert_int_equal(cfg->log.level, GW_CFG_LOG_INFO);
    gw_config_destroy(cfg);
}

struct seen {
    char text[16][64];
    size_t n;
};

static void collect(const struct gw_secret *secret, void *ud)
{
    struct seen *s = ud;
    assert_true(s->n < 16);
    assert_true(secret->len < 64);
    memcpy(s->text[s->n], secret->data, secret->len);
    s->text[s->n][secret->len] = '\0';
    s->n++;
}

static void test_each_secret_and_summary(void **state)
{
    struct fixture *f = *state;
    char *cert = test_write_text(f->dir, "cert.pem", "CERT\n", 0644);
    char *key = test_write_text(f->dir, "key.pem", "tls-key\n", 0600);
    struct seen seen = {0};
    struct gw_config *cfg;
    char line[512];

    assert_int_equal(setenv("CTGW_T_PW", "db-pw", 1), 0);
    assert_int_equal(setenv("CTGW_T_A", "ep-a", 1), 0);
    assert_int_equal(setenv("CTGW_T_B", "ep-b", 1), 0);
    cfg = load_ok(f, "s.yaml",
                  "listen:\n"
                  "  port: 8443\n"
                  "  tls: { cert: file:cert.pem, key: file:key.pem, min_version: \"1.3\" }\n"
                  "admin: { port: 9090, token: \"${CTGW_T_TOKEN}\" }\n"
                  "database: { user: u, name: canticket, password: \"${CTGW_T_PW}\" }\n"
                  "endpoints:\n"
                  "  - { id: a, provider: xero, secrets: [ \"${CTGW_T_A}\", \"${CTGW_T_B}\" ] }\n"
                  "  - { id: b, provider: generic, company: acme, secrets: [ "
                  "\"file:key.pem\" ] }\n");
    assert_int_equal(cfg->listen.tls.min_version, 13);
    gw_config_each_secret(cfg, collect, &seen);
    assert_int_equal(seen.n, 6);
    assert_string_equal(seen.text[0], "admin-token-0123456789");
    assert_string_equal(seen.text[1], "db-pw");
    assert_string_equal(seen.text[2], "tls-key");
    assert_string_equal(seen.text[3], "ep-a");
    assert_string_equal(seen.text[4], "ep-b");
    assert_string_equal(seen.text[5], "tls-key");

    gw_config_summary(cfg, line, sizeof line);
    assert_string_equal(line, "ok: 2 endpoints, listen 0.0.0.0:8443 (tls 1.3+), admin "
                              "127.0.0.1:9090, database canticket via 127.0.0.1:3306");
    for (size_t i = 0; i < seen.n; i++)
        assert_null(strstr(line, seen.text[i]));
    /* A short buffer is truncated, never overrun. */
    gw_config_summary(cfg, line, 10);
    assert_string_equal(line, "ok: 2 end");
    gw_config_destroy(cfg);

    seen.n = 0;
    cfg = load_ok(f, "t.yaml",
                  MINIMAL "  socket: /run/mysqld/mysqld.sock\n"
                          "endpoints:\n  - { id: one, provider: ghl }\n");
    gw_config_each_secret(cfg, collect, &seen);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.text[0], "admin-token-0123456789");
    gw_config_summary(cfg, line, sizeof line);
    assert_string_equal(line, "ok: 1 endpoint, listen 0.0.0.0:8080 (no tls), admin "
                              "127.0.0.1:9090, database canticket via "
                              "/run/mysqld/mysqld.sock");
    gw_config_destroy(cfg);
    free(cert);
    free(key);
}

static void keep_last(const struct gw_secret *secret, void *ud)
{
    *(const struct gw_secret **)ud = secret;
}

/* The mail section: the key from a private file, the values written, the others' defaults,
 * and the key among the secrets the logger refuses to print. */
static void test_mail_section(void **state)
{
    struct fixture *f = *state;
    char *key =
        test_write_text(f->dir, "mail.key",
                        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
    struct gw_config *cfg = load_ok(f, "mail.yaml",
                                    MINIMAL "mail:\n"
                                            "  thread_key: file:mail.key\n"
                                            "  domain: Mail.Example.com\n"
                                            "  max_per_sender_hour: 5\n"
                                            "  max_attachment: 1MiB\n"
                                            "  max_attachments_total: 1MiB\n"
                                            "  max_parts: 7\n");
    assert_true(cfg->mail.enabled);
    assert_int_equal(cfg->mail.thread_key.len, 64);
    assert_string_equal(cfg->mail.domain, "Mail.Example.com");
    assert_null(cfg->mail.loop_marker);
    assert_int_equal(cfg->mail.max_per_sender_hour, 5);
    assert_int_equal(cfg->mail.max_attachment, 1 * MiB);
    assert_int_equal(cfg->mail.max_attachments_total, 1 * MiB);
    assert_int_equal(cfg->mail.max_parts, 7);
    assert_int_equal(cfg->mail.max_depth, 10);
    assert_int_equal(cfg->mail.max_message, 25 * MiB);
    const struct gw_secret *last = NULL;
    gw_config_each_secret(cfg, keep_last, &last);
    assert_ptr_equal(last, &cfg->mail.thread_key);
    gw_config_destroy(cfg);

    cfg = load_ok(f, "mail2.yaml",
                  MINIMAL "mail: { thread_key: file:mail.key, domain: localhost, loop_marker: "
                          "\"ctgw-prod-eu1\" }\n");
    assert_string_equal(cfg->mail.loop_marker, "ctgw-prod-eu1");
    gw_config_destroy(cfg);

    /* A key file others can read is refused, as every file: secret is. */
    free(test_write_text(f->dir, "open.key",
                         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
                         0644));
    struct gw_config_errors errs = {0};
    char *path =
        test_write_text(f->dir, "mail3.yaml",
                        MINIMAL "mail: { thread_key: file:open.key, domain: x.example }\n", 0644);
    cfg = test_load(path, &errs);
    char *all = test_join_errors(&errs);
    bool refused =
        cfg == NULL && strstr(all, "mail.thread_key:") != NULL && strstr(all, "chmod") != NULL;
    if (!refused)
        fprintf(stderr, "%s", all);
    gw_config_destroy(cfg);
    gw_config_errors_finish(&errs);
    free(all);
    free(path);
    free(key);
    assert_true(refused);
}

/* Each provider's own keys land in its own struct, which the config frees (ASan checks). */
static void test_provider_configs(void **state)
{
    struct seen seen = {0};
    const struct gw_slack_config *sc;
    const struct gw_xero_config *xc;
    const struct gw_endpoint_config *ep;
    struct gw_config *cfg;

    assert_int_equal(setenv("CTGW_T_A", "ep-a", 1), 0);
    assert_int_equal(setenv("CTGW_T_XS", "xero-client-secret", 1), 0);
    cfg = load_ok(*state, "p.yaml",
                  MINIMAL "endpoints:\n"
                          "  - id: s\n"
                          "    provider: slack\n"
                          "    secrets: [ \"${CTGW_T_A}\" ]\n"
                          "    commands: [ /job, /ticket ]\n"
                          "    app_url: https://app.example\n"
                          "    app_id: A0123\n"
                          "    reply_deadline: 1ms\n"
                          "    response_url_hosts: [ 127.0.0.1 ]\n"
                          "  - id: x\n"
                          "    provider: xero\n"
                          "    secrets: [ \"${CTGW_T_A}\" ]\n"
                          "    api_base: http://127.0.0.1:1/api\n"
                          "    client_id: cid\n"
                          "    client_secret: ${CTGW_T_XS}\n"
                          "    calls_per_minute: 30\n"
                          "  - { id: c, provider: contact-form, company: demo, secrets: [ "
                          "\"${CTGW_T_A}\" ], teams: { support: Help desk } }\n"
                          "  - { id: g, provider: asana }\n"
                          "  - { id: h, provider: ghl, install: auto, job_on: [ won, open ], "
                          "job_stages: [ stage-1 ] }\n"
                          "  - { id: bare, provider: slack, secrets: [ \"${CTGW_T_A}\" ] }\n");

    ep = gw_config_endpoint(cfg, "s");
    sc = gw_slack_config_of(ep);
    assert_ptr_equal(sc, ep->provider_config);
    assert_int_equal(sc->n_commands, 2);
    assert_string_equal(sc->commands[0], "/job");
    assert_string_equal(sc->commands[1], "/ticket");
    assert_string_equal(sc->app_url, "https://app.example");
    assert_string_equal(sc->app_id, "A0123");
    assert_int_equal(sc->n_response_url_hosts, 1);
    assert_string_equal(sc->response_url_hosts[0], "127.0.0.1");
    assert_int_equal(ep->reply_deadline_ms, 1);
    assert_int_equal(ep->n_secrets, 1);

    ep = gw_config_endpoint(cfg, "x");
    xc = gw_xero_config_of(ep);
    assert_ptr_equal(xc, ep->provider_config);
    assert_string_equal(xc->api_base, "http://127.0.0.1:1/api");
    assert_null(xc->token_url);
    assert_string_equal(xc->client_id, "cid");
    assert_string_equal(xc->client_secret.data, "xero-client-secret");
    assert_int_equal(xc->calls_per_minute, 30);

    assert_non_null(gw_config_endpoint(cfg, "c")->provider_config);
    /* A provider without keys of its own gets no struct; absent keys read as absent. */
    ep = gw_config_endpoint(cfg, "g");
    assert_null(ep->provider_config);
    assert_int_equal(gw_slack_config_of(ep)->n_commands, 0);
    assert_null(gw_xero_config_of(NULL)->client_id);
    const struct gw_ghl_config *gc = gw_ghl_config_of(gw_config_endpoint(cfg, "h"));
    assert_int_equal(gc->install, GW_GHL_INSTALL_AUTO);
    assert_int_equal(gc->n_job_on, 2);
    assert_string_equal(gc->job_on[1], "open");
    assert_string_equal(gc->job_stages[0], "stage-1");
    assert_int_equal(gw_ghl_config_of(NULL)->install, GW_GHL_INSTALL_MANUAL);
    sc = gw_slack_config_of(gw_config_endpoint(cfg, "bare"));
    assert_non_null(sc);
    assert_int_equal(sc->n_commands, 0);
    assert_null(sc->app_id);

    /* The secrets of a provider's struct are registered with the logger too. */
    gw_config_each_secret(cfg, collect, &seen);
    assert_int_equal(seen.n, 6);
    assert_string_equal(seen.text[2], "ep-a");
    assert_string_equal(seen.text[3], "xero-client-secret");
    gw_config_destroy(cfg);
}

/* A provider of the test's own, through the loader's callback: its keys, its struct and its
 * setup hook. */
struct fake_config {
    char *a;
    char *b;
    size_t len; /* derived by setup: strlen(a) + strlen(b) */
};

static unsigned fake_setups;

static void fake_setup(struct gw_endpoint_config *ep, struct gw_cfg_setup *s)
{
    struct fake_config *c = ep->provider_config;

    fake_setups++;
    if (c->a == NULL && c->b == NULL)
        gw_cfg_setup_error(s, NULL, "a or b is required");
    else if (c->b == NULL)
        gw_cfg_setup_error(s, "b", "required with a (%s)", "set");
    else if (c->a == NULL)
        gw_cfg_setup_error(s, "a", "required with b");
    else
        c->len = strlen(c->a) + strlen(c->b);
}

static const struct gw_cfg_key fake_keys[] = {
    {.name = "a", .type = GW_CFG_STRING, .offset = offsetof(struct fake_config, a), .max = 64},
    {.name = "b", .type = GW_CFG_STRING, .offset = offsetof(struct fake_config, b), .max = 64},
    {.name = NULL},
};

static const struct gw_provider fake = {
    .name = "fake",
    .config_keys = fake_keys,
    .config_size = sizeof(struct fake_config),
    .setup = fake_setup,
};

static const struct gw_provider *fake_find(const char *name)
{
    return strcmp(name, "fake") == 0 ? &fake : NULL;
}

static void fake_describe(const struct gw_provider *p, struct gw_cfg_provider *out)
{
    *out = (struct gw_cfg_provider){
        .endpoint_keys = p->endpoint_keys,
        .config_keys = p->config_keys,
        .config_size = p->config_size,
        .setup = p->setup,
    };
}

static void fake_names(char *buf, size_t len)
{
    snprintf(buf, len, "fake");
}

static const struct gw_config_providers fake_providers = {
    .find = fake_find,
    .describe = fake_describe,
    .names = fake_names,
};

/* Loads TEXT with the fake provider; NULL with the errors joined into *GOT otherwise. */
static struct gw_config *load_fake(struct fixture *f, const char *text, char **got)
{
    struct gw_config_errors errs = {0};
    char *path = test_write_text(f->dir, "fake.yaml", text, 0644);
    struct gw_config *cfg = gw_config_load(path, &fake_providers, &errs);
    char *joined = test_join_errors(&errs);

    *got = test_replace(joined, path, "@FILE@");
    free(joined);
    gw_config_errors_finish(&errs);
    free(path);
    return cfg;
}

static void test_provider_setup(void **state)
{
    struct fixture *f = *state;
    struct gw_config *cfg;
    char *got;

    fake_setups = 0;
    cfg = load_fake(f, MINIMAL "endpoints:\n  - { id: e, provider: fake, a: xy, b: z }\n", &got);
    assert_string_equal(got, "");
    assert_non_null(cfg);
    assert_int_equal(fake_setups, 1);
    assert_int_equal(((struct fake_config *)cfg->endpoints[0].provider_config)->len, 3);
    gw_config_destroy(cfg);
    free(got);

    /* Errors point at the key's value, or at the entry when it is not written. */
    cfg = load_fake(f,
                    MINIMAL "endpoints:\n"
                            "  - id: one\n"
                            "    provider: fake\n"
                            "    a: x\n"
                            "  - id: two\n"
                            "    provider: fake\n"
                            "    b: x\n"
                            "  - { id: three, provider: fake }\n",
                    &got);
    assert_null(cfg);
    assert_int_equal(fake_setups, 4);
    assert_string_equal(got, "@FILE@:10: endpoints[0].b: required with a (set)\n"
                             "@FILE@:13: endpoints[1].a: required with b\n"
                             "@FILE@:16: endpoints[2]: a or b is required\n");
    free(got);

    /* An entry with errors of its own is not set up; unknown names list the callback's. */
    cfg = load_fake(f,
                    MINIMAL "endpoints:\n"
                            "  - { id: e, provider: fake, a: \"\" }\n"
                            "  - { id: f, provider: slack }\n",
                    &got);
    assert_null(cfg);
    assert_int_equal(fake_setups, 4);
    assert_string_equal(got, "@FILE@:10: endpoints[0].a: must not be empty\n"
                             "@FILE@:11: endpoints[1].provider: unknown provider 'slack' "
                             "(known: fake)\n");
    free(got);
}

/* Without providers every name is unknown, and nothing else breaks. */
static void test_no_providers(void **state)
{
    struct fixture *f = *state;
    struct gw_config_errors errs = {0};
    char *path = test_write_text(
        f->dir, "none.yaml", MINIMAL "endpoints:\n  - { id: e, provider: slack, x: 1 }\n", 0644);

    assert_null(gw_config_load(path, NULL, &errs));
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.lines[0], ":10: endpoints[0].provider: unknown provider "
                                          "'slack' (known: )"));
    gw_config_errors_finish(&errs);
    free(path);
}

static void test_accessors(void **state)
{
    (void)state;
    assert_string_equal(gw_log_level_name(GW_LOG_DEBUG), "debug");
    assert_string_equal(gw_log_level_name(GW_LOG_INFO), "info");
    assert_string_equal(gw_log_level_name(GW_LOG_WARN), "warn");
    assert_string_equal(gw_log_level_name(GW_LOG_ERROR), "error");
    gw_config_destroy(NULL);
    gw_config_errors_finish(NULL);
    gw_config_each_secret(NULL, collect, NULL);
}

static void test_unreadable_files(void **state)
{
    struct fixture *f = *state;
    struct gw_config_errors errs = {0};
    char path[4096];
    char want[4200];

    snprintf(path, sizeof path, "%s/missing.yaml", f->dir);
    assert_null(gw_config_load(path, &gw_providers_for_config, &errs));
    assert_int_equal(errs.n, 1);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    assert_string_equal(errs.lines[0], want);
    gw_config_errors_finish(&errs);
    assert_int_equal(errs.n, 0);
    assert_null(errs.lines);

    assert_null(gw_config_load(f->dir, &gw_providers_for_config, &errs));
    assert_int_equal(errs.n, 1);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", f->dir);
    assert_string_equal(errs.lines[0], want);
    gw_config_errors_finish(&errs);

    /* Without an error list the verdict is the same. */
    assert_null(gw_config_load(path, &gw_providers_for_config, NULL));
}

static void test_size_limits(void **state)
{
    struct fixture *f = *state;
    size_t big = 1024 * 1024 + 1;
    char *text = malloc(big + 1);
    char *deep;
    char *p;

    /* A file over 1 MiB is refused before it is parsed, however valid. */
    assert_non_null(text);
    strcpy(text, MINIMAL);
    memset(text + strlen(MINIMAL), '#', big - strlen(MINIMAL));
    text[big - 1] = '\n';
    text[big] = '\0';
    load_fails(f, "big.yaml", text, "@FILE@: file is larger than 1MiB\n");
    /* Exactly 1 MiB is fine. */
    text[big - 2] = '\n';
    text[big - 1] = '\0';
    gw_config_destroy(load_ok(f, "max.yaml", text));

    /* A scalar over 64 KiB. */
    p = text + sprintf(text, MINIMAL "  socket: ");
    memset(p, 'x', 65537);
    strcpy(p + 65537, "\n");
    load_fails(f, "scalar.yaml", text, "@FILE@:9: scalar longer than 65536 bytes\n");
    /* 64 KiB exactly parses, and the key's own bound reports it. */
    strcpy(p + 65536, "\n");
    load_fails(f, "scalar2.yaml", text, "@FILE@:9: database.socket: longer than 107 characters\n");
    free(text);

    /* Nesting: 16 levels parse (the walker then refuses the shape), 17 do not. */
    deep = malloc(256);
    assert_non_null(deep);
    p = deep + sprintf(deep, MINIMAL "ingest: ");
    for (int i = 0; i < 15; i++)
        *p++ = '[';
    for (int i = 0; i < 15; i++)
        *p++ = ']';
    strcpy(p, "\n");
    load_fails(f, "deep16.yaml", deep, "@FILE@:9: ingest: expected a mapping, got a sequence\n");
    p = deep + sprintf(deep, MINIMAL "ingest: ");
    for (int i = 0; i < 16; i++)
        *p++ = '[';
    for (int i = 0; i < 16; i++)
        *p++ = ']';
    strcpy(p, "\n");
    load_fails(f, "deep17.yaml", deep, "@FILE@:9: nesting deeper than 16 levels\n");
    free(deep);
}

static void test_endpoint_count_limit(void **state)
{
    struct fixture *f = *state;
    size_t cap = 300 * 64 + 512;
    char *text = malloc(cap);
    struct gw_config *cfg;
    char *p;

    assert_non_null(text);
    p = text + sprintf(text, MINIMAL "endpoints:\n");
    for (int i = 0; i < 256; i++)
        p += sprintf(p, "  - { id: ep%d, provider: ghl }\n", i);
    cfg = load_ok(f, "256.yaml", text);
    assert_int_equal(cfg->n_endpoints, 256);
    assert_non_null(gw_config_endpoint(cfg, "ep255"));
    gw_config_destroy(cfg);
    sprintf(p, "  - { id: ep256, provider: ghl }\n");
    load_fails(f, "257.yaml", text,
               "@FILE@:10: endpoints: at most 256 endpoints are allowed, got 257\n");
    free(text);
}

static void test_error_limit(void **state)
{
    struct fixture *f = *state;
    struct gw_config_errors errs = {0};
    char *text = malloc(150 * 32 + 512);
    char *p;
    char *path;

    assert_non_null(text);
    p = text + sprintf(text, MINIMAL);
    for (int i = 0; i < 150; i++)
        p += sprintf(p, "k%d: 1\n", i);
    path = test_write_text(f->dir, "many.yaml", text, 0644);
    assert_null(test_load(path, &errs));
    assert_int_equal(errs.n, 101);
    assert_non_null(strstr(errs.lines[0], ":9: unknown key 'k0' at top level"));
    assert_non_null(strstr(errs.lines[99], ":108: unknown key 'k99' at top level"));
    assert_non_null(strstr(errs.lines[100], ": 50 more errors not shown"));
    gw_config_errors_finish(&errs);
    free(path);
    free(text);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_example),
        T(test_minimal_defaults),
        T(test_values_and_env_scalars),
        T(test_empty_endpoints),
        T(test_each_secret_and_summary),
        T(test_mail_section),
        T(test_provider_configs),
        T(test_provider_setup),
        T(test_no_providers),
        T(test_accessors),
        T(test_unreadable_files),
        T(test_size_limits),
        T(test_endpoint_count_limit),
        T(test_error_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
