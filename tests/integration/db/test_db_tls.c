/* test_db_tls.c — TLS to the database (database.tls): ctgw's connection to the private
 * MariaDB is encrypted (TLS 1.2+), the server's certificate must chain to the configured CA
 * and name the host connected to, and a refusal says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/db/db.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/pki.h"
#include "tests/support/proc.h"

struct fixture {
    struct ts_db db;
    struct ts_server srv; /* its config (TCP, TLS, verified) and its directory; never started */
    char *password;
    char *other_ca; /* a self-signed CA that did not sign the server's certificate */
};

static int setup(void **state)
{
    struct fixture *f = test_must_alloc(calloc(1, sizeof(*f)));
    ts_db_create(&f->db, "dbtls");
    struct ts_config c = {.db_name = f->db.name};
    ts_server_prepare(&f->srv, &c);
    f->password = test_read(ts_env("CTGW_DB_PASSWORD_FILE"), NULL);
    assert_non_null(f->password);
    f->password[strcspn(f->password, "\r\n")] = '\0';

    EVP_PKEY *key = pki_key("EC", 0);
    X509 *ca = pki_cert(key, "ctgw dev database CA", NULL, NULL, -60, 3600, true, NULL);
    char *pem = pki_certs_pem(&ca, 1, NULL);
    f->other_ca = test_write_text(f->srv.dir, "other-ca.pem", pem, 0644);
    free(pem);
    X509_free(ca);
    EVP_PKEY_free(key);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f->password);
    free(f->other_ca);
    free(f);
    return 0;
}

/* The database section of the fixture as ctgw's db layer takes it. */
static struct gw_database_config db_config(struct fixture *f, const char *host, const char *ca,
                                           int verify)
{
    return (struct gw_database_config){
        .host = (char *)host,
        .port = (uint16_t)atoi(ts_env("CTGW_DB_PORT")),
        .user = (char *)ts_env("CTGW_DB_USER"),
        .password = {.data = f->password, .len = strlen(f->password)},
        .name = f->db.name,
        .pool = 1,
        .connect_timeout_ms = 5000,
        .timeout_ms = 10000,
        .tls = {.enabled = true, .ca_path = (char *)ca, .verify = verify},
    };
}

/* The value of the session status variable NAME on DB's connection ("" when empty). */
static char *session_status(struct gw_db *db, const char *name)
{
    struct gw_db_value p[] = {GW_DB_TEXT(name)};
    struct gw_db_rows *rows =
        gw_db_query(db,
                    "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                    "WHERE VARIABLE_NAME = ?",
                    p, 1, 1);
    if (rows == NULL)
        fail_msg("status %s: %s", name, gw_db_error(db));
    assert_int_equal(gw_db_rows_count(rows), 1);
    const char *v = gw_db_rows_text(rows, 0, 0, NULL);
    char *out = strdup(v != NULL ? v : "");
    gw_db_rows_free(rows);
    return out;
}

static void test_connection_is_tls_and_verified(void **state)
{
    struct fixture *f = *state;
    struct gw_database_config cfg = db_config(f, "127.0.0.1", ts_db_ca_file(), 1);
    struct gw_db *db = gw_db_open(&cfg);
    assert_non_null(db);
    if (!gw_db_ok(db))
        fail_msg("TLS connection refused: %s", gw_db_error(db));
    char *cipher = session_status(db, "SSL_CIPHER");
    char *version = session_status(db, "SSL_VERSION");
    assert_true(cipher[0] != '\0');
    if (strcmp(version, "TLSv1.2") != 0 && strcmp(version, "TLSv1.3") != 0)
        fail_msg("TLS version %s, expected TLSv1.2 or later", version);
    free(cipher);
    free(version);
    gw_db_close(db);
}

static void test_other_ca_is_refused(void **state)
{
    struct fixture *f = *state;
    struct gw_database_config cfg = db_config(f, "127.0.0.1", f->other_ca, 1);
    struct gw_db *db = gw_db_open(&cfg);
    assert_non_null(db);
    assert_false(gw_db_ok(db));
    const char *err = gw_db_error(db);
    if (strstr(err, "TLS to the database failed (database.tls)") == NULL ||
        strstr(err, "certificate") == NULL)
        fail_msg("unclear refusal: %s", err);
    gw_db_close(db);
}

/* 127.1 reaches the same server, but the certificate names 127.0.0.1 and localhost only:
 * refused with verify, accepted without (the chain alone is right), so the refusal is the
 * host name check. */
static void test_host_name_is_verified(void **state)
{
    struct fixture *f = *state;
    struct gw_database_config cfg = db_config(f, "127.1", ts_db_ca_file(), 1);
    struct gw_db *db = gw_db_open(&cfg);
    assert_non_null(db);
    assert_false(gw_db_ok(db));
    if (strstr(gw_db_error(db), "TLS to the database failed (database.tls)") == NULL)
        fail_msg("unclear refusal: %s", gw_db_error(db));
    gw_db_close(db);

    cfg.tls.verify = 0;
    db = gw_db_open(&cfg);
    assert_non_null(db);
    if (!gw_db_ok(db))
        fail_msg("without verify: %s", gw_db_error(db));
    gw_db_close(db);
}

/* The commands over TLS: check-config says so, migrate works; with another CA migrate
 * fails and says why. */
static void test_commands_over_tls(void **state)
{
    struct fixture *f = *state;
    char *out = NULL;
    assert_int_equal(ts_ctgw("check-config", f->srv.config, &out), 0);
    if (strstr(out, " (tls, verified)") == NULL)
        fail_msg("check-config: %s", out);
    free(out);
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) > 0 FROM schema_migrations"), 1);

    char *text = test_read(f->srv.config, NULL);
    assert_non_null(text);
    char *bad = test_replace(text, ts_db_ca_file(), f->other_ca);
    char *bad_path = test_write_text(f->srv.dir, "other-ca.yaml", bad, 0600);
    assert_int_not_equal(ts_ctgw("migrate", bad_path, &out), 0);
    if (strstr(out, "TLS to the database failed (database.tls)") == NULL)
        fail_msg("migrate with another CA: %s", out);
    free(out);
    free(bad_path);
    free(bad);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connection_is_tls_and_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_ca_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_name_is_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands_over_tls, setup, teardown),
    };
    if (gw_db_library_init() != 0)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gw_db_library_end();
    return rc;
}
