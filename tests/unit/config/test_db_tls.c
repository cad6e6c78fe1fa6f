/* test_db_tls.c — the `database.tls` keys: what loads (the CA's text and absolute path,
 * verify on by default) and each mistake refused with its line and a message that says
 * what to write instead. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/provider.h"
#include "config/config.h"
#include "tests/support/config.h"

#define HEAD                                                                                       \
    "listen: { port: 8080 }\n"                                                                     \
    "admin: { port: 9090, token: \"${CTGW_T_TOKEN}\" }\n"                                          \
    "database:\n"                                                                                  \
    "  user: ctgw\n"                                                                               \
    "  name: canticket\n"

/* Not a real certificate: the loader only checks that a PEM certificate is there; the
 * connector parses it (tests/integration/db/test_db_tls.c). */
#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

struct fixture {
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = test_must_alloc(calloc(1, sizeof *f));
    f->dir = test_mkdtemp();
    if (setenv("CTGW_T_TOKEN", "admin-token-0123456789", 1) != 0 ||
        setenv("CTGW_T_WORD", "abc", 1) != 0)
        return -1;
    free(test_write_text(f->dir, "ca.pem", CA_PEM, 0644));
    free(test_write_text(f->dir, "not-a-cert.pem", "hello\n", 0644));
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

static struct gw_config *load(struct fixture *f, const char *text, char **errors, char **path)
{
    struct gw_config_errors errs = {0};
    *path = test_write_text(f->dir, "t.yaml", text, 0644);
    struct gw_config *cfg = gw_config_load(*path, &gw_providers_for_config, &errs);
    *errors = test_join_errors(&errs);
    gw_config_errors_finish(&errs);
    return cfg;
}

/* TEXT loads with exactly the errors WANT (@FILE@: the config's path, @DIR@: its folder). */
static void refused(struct fixture *f, const char *text, const char *want)
{
    char *path;
    char *got;
    struct gw_config *cfg = load(f, text, &got, &path);
    char *with_file = test_replace(want, "@FILE@", path);
    char *expected = test_replace(with_file, "@DIR@", f->dir);
    bool same = strcmp(got, expected) == 0;
    if (!same)
        fprintf(stderr, "--- expected\n%s--- got\n%s", expected, got);
    gw_config_destroy(cfg);
    free(expected);
    free(with_file);
    free(got);
    free(path);
    assert_null(cfg);
    assert_true(same);
}

static void test_loads(void **state)
{
    struct fixture *f = *state;
    char *path;
    char *errors;
    char summary[512];

    struct gw_config *cfg = load(f, HEAD "  tls: { ca: file:ca.pem }\n", &errors, &path);
    if (cfg == NULL)
        fail_msg("%s", errors);
    const struct gw_database_tls_config *tls = &cfg->database.tls;
    assert_true(tls->enabled);
    assert_int_equal(tls->verify, 1); /* the default */
    assert_int_equal(tls->ca.len, strlen(CA_PEM) - 1);
    assert_memory_equal(tls->ca.data, CA_PEM, tls->ca.len);
    char want[PATH_MAX + 16];
    char *real = realpath(f->dir, NULL);
    assert_non_null(real);
    snprintf(want, sizeof want, "%s/ca.pem", real);
    free(real);
    assert_string_equal(tls->ca_path, want); /* absolute: the connector opens it later */
    gw_config_summary(cfg, summary, sizeof summary);
    assert_non_null(strstr(summary, "database canticket via 127.0.0.1:3306 (tls, verified)"));
    gw_config_destroy(cfg);
    free(errors);
    free(path);

    /* Without verification no CA is needed; the summary says what is given up. */
    cfg = load(f, HEAD "  tls: { verify: false }\n", &errors, &path);
    if (cfg == NULL)
        fail_msg("%s", errors);
    assert_true(cfg->database.tls.enabled);
    assert_int_equal(cfg->database.tls.verify, 0);
    assert_null(cfg->database.tls.ca_path);
    gw_config_summary(cfg, summary, sizeof summary);
    assert_non_null(strstr(summary, "(tls, NOT verified)"));
    gw_config_destroy(cfg);
    free(errors);
    free(path);

    /* No section: no TLS, and the summary says nothing of it. */
    cfg = load(f, HEAD, &errors, &path);
    assert_non_null(cfg);
    assert_false(cfg->database.tls.enabled);
    gw_config_summary(cfg, summary, sizeof summary);
    assert_null(strstr(summary, "tls,"));
    gw_config_destroy(cfg);
    free(errors);
    free(path);
}

static void test_ca_required_to_verify(void **state)
{
    refused(*state, HEAD "  tls: { verify: true }\n",
            "@FILE@:6: database.tls.ca: required when database.tls.verify is true: the CA "
            "certificate(s) the server's certificate must chain to, as file:PATH\n");
    refused(*state, HEAD "  tls:\n",
            "@FILE@:6: database.tls.ca: required when database.tls.verify is true: the CA "
            "certificate(s) the server's certificate must chain to, as file:PATH\n");
}

static void test_bad_ca_files(void **state)
{
    refused(*state, HEAD "  tls: { ca: file:missing.pem }\n",
            "@FILE@:6: database.tls.ca: cannot read file @DIR@/missing.pem: No such file or "
            "directory\n");
    refused(*state, HEAD "  tls: { ca: \"file:.\" }\n",
            "@FILE@:6: database.tls.ca: file @DIR@/. is not a regular file\n");
    refused(*state, HEAD "  tls: { ca: file:not-a-cert.pem }\n",
            "@FILE@:6: database.tls.ca: the file holds no PEM certificate (-----BEGIN "
            "CERTIFICATE-----)\n");
    refused(*state, HEAD "  tls: { ca: \"${CTGW_T_WORD}\" }\n",
            "@FILE@:6: database.tls.ca: must be written as file:PATH\n");
}

static void test_bad_verify_and_socket(void **state)
{
    refused(*state, HEAD "  tls: { ca: file:ca.pem, verify: maybe }\n",
            "@FILE@:6: database.tls.verify: expected one of true, false, got 'maybe'\n");
    refused(*state,
            HEAD "  socket: /run/mysqld/mysqld.sock\n"
                 "  tls: { ca: file:ca.pem }\n",
            "@FILE@:6: database.socket: TLS is for the TCP connection (host and port); remove "
            "database.socket, or database.tls\n");
    refused(*state, HEAD "  tls: { ca: file:ca.pem, min_version: \"1.2\" }\n",
            "@FILE@:6: unknown key 'min_version' in database.tls\n");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_loads),
        T(test_ca_required_to_verify),
        T(test_bad_ca_files),
        T(test_bad_verify_and_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
