/* test_integration_cli.c — `ctgw integration set` and `ctgw rekey` against the private
 * MariaDB: rows created and updated with a sealed refresh token that opens back to what was
 * given, the refusals, a key rotation re-sealing every row, and a rekey that cannot open a
 * row reporting it. The token never appears in any command's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/core/credentials.h"
#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/proc.h"

/* Key A is bytes 00..1f written as hex, key B bytes ff..e0 written as base64; their ids are
 * "k" and the first 12 hex digits of SHA-256 of the bytes. */
#define KEY_A    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define KEY_A_ID "k630dcd2966c4"
#define KEY_B    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n"
#define KEY_B_ID "k1865c00831e7"

#define TOKEN_1 "rt-7f3c9a1e-first-refresh-token-0123456789"
#define TOKEN_2 "rt-b81d44c0-second-refresh-token-9876543210"
#define TOKEN_3 "rt-0c0ffee0-third-refresh-token-for-beta"

struct fixture {
    struct ts_db db;
    struct ts_server srv; /* for its directory and base config; never started */
    char *with_a;         /* secrets_key A */
    char *rotated;        /* secrets_key B, previous A */
    char *only_b;         /* secrets_key B, A forgotten */
};

/* The base config with EXTRA appended, written as DIR/NAME. */
static char *config_with(struct fixture *f, const char *name, const char *extra)
{
    char *base = test_read(f->srv.config, NULL);
    assert_non_null(base);
    size_t n = strlen(base) + strlen(extra) + 1;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "%s%s", base, extra);
    char *path = test_write_text(f->srv.dir, name, text, 0600);
    free(text);
    free(base);
    return path;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "integration_cli");
    struct ts_config c = {.db_name = f->db.name};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "key_a", KEY_A, 0600));
    free(test_write_text(f->srv.dir, "key_b", KEY_B, 0600));
    f->with_a = config_with(f, "with_a.yaml", "secrets_key: file:key_a\n");
    f->rotated = config_with(f, "rotated.yaml",
                             "secrets_key: file:key_b\n"
                             "previous_secrets_keys:\n"
                             "  - file:key_a\n");
    f->only_b = config_with(f, "only_b.yaml", "secrets_key: file:key_b\n");

    ts_ctgw_ok("migrate", f->with_a, NULL);
    assert_int_equal(ts_db_exec(&f->db, "INSERT INTO companies (id, slug, name) VALUES "
                                        "(1, 'acme', 'Acme'), (2, 'beta', 'Beta')"),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->with_a);
    free(f->rotated);
    free(f->only_b);
    ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f);
    return 0;
}

/* Fails the test if any token shows in OUT. */
static void no_token(const char *out)
{
    static const char *const tokens[] = {TOKEN_1, TOKEN_2, TOKEN_3};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (strstr(out, tokens[i]) != NULL)
            fail_msg("a refresh token was printed:\n%s", out);
}

/* Runs `ctgw integration set` with the options given (NULL ones left out); returns the exit
 * code and the output (caller frees). */
static int set(const char *config, const char *company, const char *provider,
               const char *external_id, const char *token_file, const char *status, char **out)
{
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)ts_ctgw_path();
    argv[n++] = "integration";
    argv[n++] = "set";
    argv[n++] = "-c";
    argv[n++] = (char *)config;
    argv[n++] = "--company";
    argv[n++] = (char *)company;
    argv[n++] = "--provider";
    argv[n++] = (char *)provider;
    argv[n++] = "--external-id";
    argv[n++] = (char *)external_id;
    if (token_file != NULL) {
        argv[n++] = "--refresh-token-file";
        argv[n++] = (char *)token_file;
    }
    if (status != NULL) {
        argv[n++] = "--status";
        argv[n++] = (char *)status;
    }
    argv[n] = NULL;
    int rc = ts_run(argv, out);
    no_token(*out);
    return rc;
}

static void set_ok(const char *config, const char *company, const char *provider,
                   const char *external_id, const char *token_file, const char *status,
                   const char *expect)
{
    char *out = NULL;
    int rc = set(config, company, provider, external_id, token_file, status, &out);
    if (rc != 0 || strstr(out, expect) == NULL)
        fail_msg("integration set exited %d, expected 0 and '%s':\n%s", rc, expect, out);
    free(out);
}

static void set_fails(const char *config, const char *company, const char *provider,
                      const char *external_id, const char *token_file, int want_rc,
                      const char *expect)
{
    char *out = NULL;
    int rc = set(config, company, provider, external_id, token_file, NULL, &out);
    if (rc != want_rc || strstr(out, expect) == NULL)
        fail_msg("integration set exited %d, expected %d and '%s':\n%s", rc, want_rc, expect, out);
    free(out);
}

static char *token_file(struct fixture *f, const char *name, const char *text, mode_t mode)
{
    return test_write_text(f->srv.dir, name, text, mode);
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Opens the credentials of integration ID with the keys CONFIG names, and checks they are
 * {"refresh_token": TOKEN} sealed under KEY_ID. */
static void opens_to(struct fixture *f, const char *config, long long id, const char *key_id,
                     const char *token)
{
    struct gw_config_errors errs = {0};
    struct gw_config *cfg = gw_config_load(config, &gw_providers_for_config, &errs);
    if (cfg == NULL)
        fail_msg("%s does not load: %s", config, errs.n ? errs.lines[0] : "?");
    gw_config_errors_finish(&errs);
    char err[256];
    struct gw_keyring *keys = gw_keyring_from_config(cfg, err, sizeof err);
    gw_config_destroy(cfg);
    if (keys == NULL)
        fail_msg("keyring: %s", err);

    char *hex = ts_db_textf(
        &f->db, "SELECT HEX(credentials_ciphertext) FROM integrations WHERE id = %lld", id);
    char *stored_key =
        ts_db_textf(&f->db, "SELECT credentials_key_id FROM integrations WHERE id = %lld", id);
    char *provider = ts_db_textf(&f->db, "SELECT provider FROM integrations WHERE id = %lld", id);
    char *external_id =
        ts_db_textf(&f->db, "SELECT external_id FROM integrations WHERE id = %lld", id);
    assert_non_null(hex);
    assert_non_null(stored_key);
    assert_non_null(provider);
    assert_non_null(external_id);
    assert_string_equal(stored_key, key_id);

    size_t blob_len = strlen(hex) / 2;
    unsigned char *blob = malloc(blob_len + 1);
    assert_non_null(blob);
    for (size_t i = 0; i < blob_len; i++)
        blob[i] = (unsigned char)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
    assert_null(memmem(blob, blob_len, token, strlen(token)));

    char *plain = NULL;
    size_t len = 0;
    if (gw_credentials_open(keys, stored_key, provider, external_id, blob, blob_len, &plain,
                            &len) != 0)
        fail_msg("integration %lld does not open under %s", id, stored_key);
    char expected[256];
    snprintf(expected, sizeof expected, "{\"refresh_token\":\"%s\"}", token);
    assert_string_equal(plain, expected);

    gw_credentials_free(plain, len);
    free(blob);
    free(hex);
    free(stored_key);
    free(provider);
    free(external_id);
    gw_keyring_free(keys);
}

static long long row_id(struct fixture *f, const char *provider, const char *external_id)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id FROM integrations WHERE provider = '%s' AND external_id = '%s'", provider,
             external_id);
    return ts_db_int(&f->db, sql);
}

static void test_set_creates_and_updates(void **state)
{
    struct fixture *f = *state;
    /* Surrounding whitespace and the final newline are not part of the token. */
    char *t1 = token_file(f, "t1", "  " TOKEN_1 "\n\n", 0600);
    char *t2 = token_file(f, "t2", TOKEN_2, 0600);

    set_ok(f->with_a, "acme", "xero", "tenant-1", t1, NULL,
           "created integration 1: xero 'tenant-1' for company 'acme', status active, refresh "
           "token sealed with key " KEY_A_ID);
    long long id = row_id(f, "xero", "tenant-1");
    assert_int_equal(id, 1);
    assert_int_equal(ts_db_int(&f->db, "SELECT company_id FROM integrations WHERE id = 1"), 1);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations WHERE id = 1 AND "
                                       "status = 'active' AND credentials_updated_at IS NOT NULL"),
                     1);
    opens_to(f, f->with_a, id, KEY_A_ID, TOKEN_1);

    /* Again with a new token and a status: the same row, updated. */
    set_ok(f->with_a, "acme", "xero", "tenant-1", t2, "disabled",
           "updated integration 1: xero 'tenant-1' for company 'acme', status disabled, refresh "
           "token sealed with key " KEY_A_ID);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations"), 1);
    opens_to(f, f->with_a, id, KEY_A_ID, TOKEN_2);

    /* Status only: the credentials stay as they are, and no key is needed for that. */
    set_ok(f->srv.config, "acme", "xero", "tenant-1", NULL, "active",
           "updated integration 1: xero 'tenant-1' for company 'acme', status active, "
           "credentials unchanged (key " KEY_A_ID ")");
    opens_to(f, f->with_a, id, KEY_A_ID, TOKEN_2);
    set_ok(f->srv.config, "acme", "xero", "tenant-1", NULL, NULL,
           "unchanged integration 1: xero 'tenant-1' for company 'acme', status active, "
           "credentials unchanged (key " KEY_A_ID ")");

    /* A row without credentials. */
    set_ok(f->srv.config, "beta", "slack", "T0BETA", NULL, NULL,
           ": slack 'T0BETA' for company 'beta', status active, no credentials");
    free(t1);
    free(t2);
}

static void test_set_refusals(void **state)
{
    struct fixture *f = *state;
    char *t1 = token_file(f, "t1", TOKEN_1 "\n", 0600);
    char *loose = token_file(f, "loose", TOKEN_1 "\n", 0644);
    char *blank = token_file(f, "blank", " \n\t\n", 0600);
    char *two_lines = token_file(f, "two_lines", TOKEN_1 "\n" TOKEN_2 "\n", 0600);
    char big[5000];
    memset(big, 'x', 4097);
    big[4097] = '\0';
    char *too_long = token_file(f, "too_long", big, 0600);

    set_fails(f->with_a, "nope", "xero", "tenant-1", t1, 1, "unknown company 'nope'");
    set_fails(f->srv.config, "acme", "xero", "tenant-1", t1, 1, "secrets_key is not configured");
    set_fails(f->with_a, "acme", "xero", "tenant-1", loose, 1, "run: chmod 600");
    set_fails(f->with_a, "acme", "xero", "tenant-1", blank, 1, "only whitespace");
    set_fails(f->with_a, "acme", "xero", "tenant-1", two_lines, 1, "one line of printable ASCII");
    set_fails(f->with_a, "acme", "xero", "tenant-1", too_long, 1, "longer than 4096 bytes");
    set_fails(f->with_a, "acme", "nosuch", "tenant-1", t1, 2, "unknown provider 'nosuch'");
    set_fails(f->with_a, "acme", "xero", " tenant-1", t1, 2, "--external-id");
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations"), 0);

    /* An account connected to one company is not moved to another. */
    set_ok(f->with_a, "acme", "xero", "tenant-1", t1, NULL, "created integration");
    set_fails(f->with_a, "beta", "xero", "tenant-1", t1, 1,
              "xero account 'tenant-1' is connected to company 'acme', not 'beta'; refusing to "
              "move it");
    assert_int_equal(ts_db_int(&f->db, "SELECT company_id FROM integrations WHERE provider = "
                                       "'xero' AND external_id = 'tenant-1'"),
                     1);
    opens_to(f, f->with_a, row_id(f, "xero", "tenant-1"), KEY_A_ID, TOKEN_1);

    free(t1);
    free(loose);
    free(blank);
    free(two_lines);
    free(too_long);
}

static void rekey(const char *config, int want_rc, const char *expect, char **output)
{
    char *out = NULL;
    int rc = ts_ctgw("rekey", config, &out);
    no_token(out);
    if (rc != want_rc || strstr(out, expect) == NULL)
        fail_msg("rekey exited %d, expected %d and '%s':\n%s", rc, want_rc, expect, out);
    if (output != NULL)
        *output = out;
    else
        free(out);
}

/* Three rows sealed under key A (two companies) and one without credentials. */
static void three_sealed_rows(struct fixture *f)
{
    char *t1 = token_file(f, "t1", TOKEN_1, 0600);
    char *t2 = token_file(f, "t2", TOKEN_2, 0600);
    char *t3 = token_file(f, "t3", TOKEN_3, 0600);
    set_ok(f->with_a, "acme", "xero", "tenant-1", t1, NULL, "created integration");
    set_ok(f->with_a, "acme", "xero", "tenant-2", t2, NULL, "created integration");
    set_ok(f->with_a, "beta", "ghl", "loc-beta", t3, NULL, "created integration");
    set_ok(f->with_a, "beta", "slack", "T0BETA", NULL, NULL, "no credentials");
    free(t1);
    free(t2);
    free(t3);
}

static void test_rekey_after_rotation(void **state)
{
    struct fixture *f = *state;
    three_sealed_rows(f);
    char *before = ts_db_text(&f->db, "SELECT credentials_updated_at FROM integrations WHERE "
                                      "external_id = 'tenant-1'");

    rekey(f->rotated, 0, "rekey to " KEY_B_ID ": 3 rekeyed, 0 already current, 0 failed", NULL);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations WHERE "
                                       "credentials_key_id = '" KEY_B_ID "'"),
                     3);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations WHERE "
                                       "credentials_ciphertext IS NULL AND credentials_key_id IS "
                                       "NULL"),
                     1);
    opens_to(f, f->rotated, row_id(f, "xero", "tenant-1"), KEY_B_ID, TOKEN_1);
    opens_to(f, f->rotated, row_id(f, "xero", "tenant-2"), KEY_B_ID, TOKEN_2);
    /* Once re-sealed, key A is no longer needed. */
    opens_to(f, f->only_b, row_id(f, "ghl", "loc-beta"), KEY_B_ID, TOKEN_3);
    /* Re-sealing is not a change of tokens. */
    char *after = ts_db_text(&f->db, "SELECT credentials_updated_at FROM integrations WHERE "
                                     "external_id = 'tenant-1'");
    assert_non_null(before);
    assert_non_null(after);
    assert_string_equal(before, after);

    rekey(f->rotated, 0, "rekey to " KEY_B_ID ": 0 rekeyed, 3 already current, 0 failed", NULL);
    free(before);
    free(after);
}

static void test_rekey_reports_rows_it_cannot_open(void **state)
{
    struct fixture *f = *state;
    three_sealed_rows(f);
    long long t1 = row_id(f, "xero", "tenant-1");
    long long t2 = row_id(f, "xero", "tenant-2");
    long long t3 = row_id(f, "ghl", "loc-beta");
    char expect[300];
    char *out = NULL;

    /* Key A forgotten before the rows were re-sealed: every row fails, and stays as it was. */
    rekey(f->only_b, 1, "rekey to " KEY_B_ID ": 0 rekeyed, 0 already current, 3 failed", &out);
    snprintf(expect, sizeof expect,
             "integration %lld (xero 'tenant-1'): sealed under key " KEY_A_ID
             ", which is neither secrets_key nor in previous_secrets_keys",
             t1);
    assert_non_null(strstr(out, expect));
    snprintf(expect, sizeof expect, "integration %lld (ghl 'loc-beta')", t3);
    assert_non_null(strstr(out, expect));
    free(out);
    assert_int_equal(ts_db_int(&f->db, "SELECT COUNT(*) FROM integrations WHERE "
                                       "credentials_key_id = '" KEY_A_ID "'"),
                     3);
    opens_to(f, f->with_a, t1, KEY_A_ID, TOKEN_1);

    /* A ciphertext copied onto another row does not open there; the other rows still move. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE integrations AS dst JOIN integrations AS src ON src.id = %lld SET "
             "dst.credentials_ciphertext = src.credentials_ciphertext WHERE dst.id = %lld",
             t1, t2);
    assert_int_equal(ts_db_exec(&f->db, sql), 0);
    rekey(f->rotated, 1, "rekey to " KEY_B_ID ": 2 rekeyed, 0 already current, 1 failed", &out);
    snprintf(expect, sizeof expect,
             "integration %lld (xero 'tenant-2'): does not open under key " KEY_A_ID, t2);
    assert_non_null(strstr(out, expect));
    free(out);
    opens_to(f, f->only_b, t1, KEY_B_ID, TOKEN_1);
    opens_to(f, f->only_b, t3, KEY_B_ID, TOKEN_3);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM integrations WHERE id = %lld AND credentials_key_id = "
             "'" KEY_A_ID "'",
             t2);
    assert_int_equal(ts_db_int(&f->db, sql), 1);

    /* Without any secrets_key there is nothing to rekey with. */
    rekey(f->srv.config, 1, "secrets_key is not configured", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_creates_and_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey_after_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey_reports_rows_it_cannot_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
