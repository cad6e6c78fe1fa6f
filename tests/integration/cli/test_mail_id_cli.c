/* test_mail_id_cli.c — `ctgw mail-id` against the private MariaDB: the three header lines for
 * a job, byte for byte the ids of tests/vectors/mail-thread/ (computed with openssl), with and
 * without a tag; the refusals (usage 2; no mail section, unknown company or job, no database
 * 1); and the key never in the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/db.h"
#include "tests/support/files.h"
#include "tests/support/proc.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
/* HMAC-SHA256(KEY, "ctgw-thread-v1:42:CT-000123"), first 10 bytes; see the vectors file. */
#define MAC_42_123 "ac797903a3dbcc6e5805"

struct fixture {
    struct ts_db db;
    struct ts_server srv; /* for its directory and base config; never started */
    char *with_mail;
    char *without_mail;
    char *no_database;
};

/* The base config with EXTRA appended, written as DIR/NAME. */
static char *config_with(struct fixture *f, const char *name, const char *base_path,
                         const char *extra)
{
    char *base = test_read(base_path, NULL);
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
    ts_db_create(&f->db, "mail_id_cli");
    struct ts_config c = {.db_name = f->db.name};
    ts_server_prepare(&f->srv, &c);
    free(test_write_text(f->srv.dir, "mail.key", KEY_HEX "\n", 0600));
    static const char mail[] = "mail:\n"
                               "  thread_key: file:mail.key\n"
                               "  domain: mail.example.com\n";
    f->with_mail = config_with(f, "with_mail.yaml", f->srv.config, mail);
    f->without_mail = config_with(f, "without_mail.yaml", f->srv.config, "");
    ts_ctgw_ok("migrate", f->with_mail, NULL);
    ts_db_exec_ok(&f->db, "INSERT INTO companies (id, slug, name) VALUES (42, 'acme', 'Acme'), "
                          "(43, 'beta', 'Beta')");
    ts_db_exec_ok(&f->db, "INSERT INTO jobs (company_id, number, title, source) VALUES "
                          "(42, 123, 'Boiler', 'email'), (43, 1, 'Other', 'email')");

    /* The same config against a database that does not exist. */
    struct ts_server other;
    struct ts_config oc = {.db_name = "ctgw_test_no_such_database"};
    ts_server_prepare(&other, &oc);
    f->no_database = config_with(f, "no_database.yaml", other.config, mail);
    ts_server_cleanup(&other);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->with_mail);
    free(f->without_mail);
    free(f->no_database);
    ts_server_cleanup(&f->srv);
    ts_db_drop(&f->db);
    free(f);
    return 0;
}

/* Runs `ctgw mail-id ARGS...` (NULL-terminated); returns the exit code and the output. */
static int mail_id(char **out, ...)
{
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)ts_ctgw_path();
    argv[n++] = "mail-id";
    va_list ap;
    va_start(ap, out);
    for (char *a = va_arg(ap, char *); a != NULL && n < 15; a = va_arg(ap, char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int rc = ts_run(argv, out);
    if (strstr(*out, KEY_HEX) != NULL)
        fail_msg("the key was printed:\n%s", *out);
    return rc;
}

static void expect(int rc, char *out, int want_rc, const char *want)
{
    bool ok = rc == want_rc && strstr(out, want) != NULL;
    if (!ok)
        fprintf(stderr, "exited %d, expected %d and '%s':\n%s", rc, want_rc, want, out);
    free(out);
    assert_true(ok);
}

static void test_prints_the_ids(void **state)
{
    struct fixture *f = *state;
    char *out = NULL;
    int rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", "--ref", "CT-000123", NULL);
    static const char want[] = "Message-ID: <ct.CT-000123." MAC_42_123 "@mail.example.com>\n"
                               "Reply-To: reply+CT-000123." MAC_42_123 "@mail.example.com\n"
                               "X-CanTicket-Loop: ctgw-2e15cc5a0d07098e\n";
    bool same = rc == 0 && strcmp(out, want) == 0;
    if (!same)
        fprintf(stderr, "exited %d:\n%s--- expected\n%s", rc, out, want);
    free(out);
    assert_true(same);

    rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", "--ref", "ct-123", "--tag", "c981",
                 NULL);
    expect(rc, out, 0,
           "Message-ID: <ct.CT-000123.c981." MAC_42_123 "@mail.example.com>\n"
           "Reply-To: reply+CT-000123." MAC_42_123 "@mail.example.com\n");
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    char *out = NULL;
    int rc;

    /* Usage: 2, before anything is read. */
    rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", NULL);
    expect(rc, out, 2, "-c, --company and --ref are required");
    rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", "--ref", "boiler", NULL);
    expect(rc, out, 2, "--ref: expected a ticket reference");
    rc = mail_id(&out, "-c", f->with_mail, "--company", "Acme!", "--ref", "CT-1", NULL);
    expect(rc, out, 2, "--company: expected a slug");
    rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", "--ref", "CT-1", "--tag", "a.b",
                 NULL);
    expect(rc, out, 2, "--tag: expected 1 to 64");
    rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", "--ref", "CT-1", "--bogus", NULL);
    expect(rc, out, 2, "unknown option");
    rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", "--ref", "CT-1", "extra", NULL);
    expect(rc, out, 2, "unexpected argument: extra");
    rc = mail_id(&out, "--help", NULL);
    expect(rc, out, 0, "usage: ctgw mail-id");

    /* Failures: 1. */
    rc = mail_id(&out, "-c", f->without_mail, "--company", "acme", "--ref", "CT-000123", NULL);
    expect(rc, out, 1, "ctgw mail-id: the config has no mail section with thread_key and domain");
    rc = mail_id(&out, "-c", f->with_mail, "--company", "nope", "--ref", "CT-000123", NULL);
    expect(rc, out, 1, "ctgw mail-id: unknown company 'nope'");
    rc = mail_id(&out, "-c", f->with_mail, "--company", "acme", "--ref", "CT-000124", NULL);
    expect(rc, out, 1, "ctgw mail-id: no job CT-000124 in this company");
    /* Beta has no CT-000123: acme's job is not beta's to hand ids out for. */
    rc = mail_id(&out, "-c", f->with_mail, "--company", "beta", "--ref", "CT-000123", NULL);
    expect(rc, out, 1, "no job CT-000123 in this company");
    rc = mail_id(&out, "-c", f->no_database, "--company", "acme", "--ref", "CT-000123", NULL);
    expect(rc, out, 1, "ctgw mail-id: cannot connect to the database");
    rc = mail_id(&out, "-c", "/nonexistent/ctgw.yaml", "--company", "acme", "--ref", "CT-1", NULL);
    expect(rc, out, 1, "cannot read");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prints_the_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
