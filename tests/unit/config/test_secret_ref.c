/* test_secret_ref.c — `${NAME}` and `file:PATH` references: what resolves, what is refused
 * and what the refusal says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config/secret_ref.h"
#include "tests/support/config.h"

#define ALL (GW_REF_ENV | GW_REF_FILE | GW_REF_PRIVATE)

struct fixture {
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->dir = test_mkdtemp();
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

/* Loads REF and expects success with exactly the bytes EXPECT (LEN of them). */
static void expect_secret(const char *ref, const char *dir, const char *expect, size_t len)
{
    struct gw_secret s = {0};
    char err[512] = "";

    if (gw_secret_ref_load(ref, ALL, dir, &s, err, sizeof err) != 0)
        fail_msg("'%s' failed: %s", ref, err);
    assert_non_null(s.data);
    assert_int_equal(s.len, len);
    assert_memory_equal(s.data, expect, len);
    assert_int_equal(s.data[len], '\0');
    gw_secret_wipe(&s);
    assert_null(s.data);
    assert_int_equal(s.len, 0);
}

/* Loads REF with ALLOW and expects a refusal whose message contains WANT. */
static void expect_refusal(const char *ref, unsigned allow, const char *dir, const char *want)
{
    struct gw_secret s = {.data = (char *)"stale", .len = 5};
    char err[512] = "";

    if (gw_secret_ref_load(ref, allow, dir, &s, err, sizeof err) == 0)
        fail_msg("'%s' was accepted", ref);
    assert_null(s.data);
    if (strstr(err, want) == NULL)
        fail_msg("'%s' gave '%s', which lacks '%s'", ref, err, want);
}

static void test_env_set(void **state)
{
    (void)state;
    assert_int_equal(setenv("CTGW_T_SECRET", "s3cr3t value", 1), 0);
    expect_secret("${CTGW_T_SECRET}", NULL, "s3cr3t value", 12);
    assert_int_equal(setenv("_lower_9", "x", 1), 0);
    expect_secret("${_lower_9}", NULL, "x", 1);
}

static void test_env_unset(void **state)
{
    (void)state;
    assert_int_equal(unsetenv("CTGW_T_UNSET"), 0);
    expect_refusal("${CTGW_T_UNSET}", ALL, NULL, "environment variable CTGW_T_UNSET is not set");
}

static void test_env_empty(void **state)
{
    (void)state;
    assert_int_equal(setenv("CTGW_T_EMPTY", "", 1), 0);
    expect_refusal("${CTGW_T_EMPTY}", ALL, NULL, "environment variable CTGW_T_EMPTY is empty");
}

static void test_env_bad_name(void **state)
{
    static const char *const cases[] = {
        "${}",      "${1ABC}", "${A-B}", "${A B}", "${A",   "${A}x",
        "${A}${B}", "${$A}",   "${A.B}", "${ A}",  "${A }",
    };
    (void)state;
    assert_int_equal(setenv("A", "a", 1), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refusal(cases[i], ALL, NULL, "malformed environment reference");
}

static void test_getenv_for_plain_values(void **state)
{
    const char *v = NULL;
    char err[256];
    (void)state;

    assert_int_equal(setenv("CTGW_T_PORT", "8443", 1), 0);
    assert_int_equal(gw_secret_ref_getenv("${CTGW_T_PORT}", &v, err, sizeof err), 0);
    assert_string_equal(v, "8443");
    assert_int_equal(unsetenv("CTGW_T_PORT"), 0);
    assert_int_equal(gw_secret_ref_getenv("${CTGW_T_PORT}", &v, err, sizeof err), -1);
    assert_string_equal(err, "environment variable CTGW_T_PORT is not set");
    assert_true(gw_secret_ref_is_env("${X}"));
    assert_false(gw_secret_ref_is_env("$X"));
    assert_false(gw_secret_ref_is_env("file:/x"));
}

static void test_file_private(void **state)
{
    struct fixture *f = *state;
    char *plain = test_write_text(f->dir, "plain.secret", "abc", 0600);
    char *nl = test_write_text(f->dir, "nl.secret", "abc\n", 0600);
    char *crlf = test_write_text(f->dir, "crlf.secret", "abc\r\n", 0400);
    char *two = test_write_text(f->dir, "two.secret", "abc\n\n", 0600);
    char *bin = test_write(f->dir, "bin.secret", "a\0b\n", 4, 0600);
    char ref[1024];

    snprintf(ref, sizeof ref, "file:%s", plain);
    expect_secret(ref, NULL, "abc", 3);
    snprintf(ref, sizeof ref, "file:%s", nl);
    expect_secret(ref, NULL, "abc", 3);
    snprintf(ref, sizeof ref, "file:%s", crlf);
    expect_secret(ref, NULL, "abc", 3);
    /* Only one newline is an editor's; a second one is part of the secret. */
    snprintf(ref, sizeof ref, "file:%s", two);
    expect_secret(ref, NULL, "abc\n", 4);
    snprintf(ref, sizeof ref, "file:%s", bin);
    expect_secret(ref, NULL, "a\0b", 3);
    /* Relative paths start from the directory given (the config file's). */
    expect_secret("file:nl.secret", f->dir, "abc", 3);
    free(plain);
    free(nl);
    free(crlf);
    free(two);
    free(bin);
}

static void test_file_loose_permissions(void **state)
{
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0660, 0666, 0610};
    struct fixture *f = *state;
    char ref[1024];
    char want[1024];
    char *path = test_write_text(f->dir, "loose.secret", "abc\n", 0644);

    snprintf(ref, sizeof ref, "file:%s", path);
    snprintf(want, sizeof want,
             "secret file %s is readable or writable by group or others (mode 0644); run: "
             "chmod 600 %s",
             path, path);
    expect_refusal(ref, ALL, NULL, want);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(path, modes[i]), 0);
        expect_refusal(ref, ALL, NULL, "chmod 600");
    }
    /* Certificates are not secret: any mode is fine without GW_REF_PRIVATE. */
    assert_int_equal(chmod(path, 0644), 0);
    {
        struct gw_secret s = {0};
        char err[256];
        assert_int_equal(gw_secret_ref_load(ref, GW_REF_FILE, NULL, &s, err, sizeof err), 0);
        assert_int_equal(s.len, 3);
        gw_secret_wipe(&s);
    }
    free(path);
}

static void test_file_unusable(void **state)
{
    struct fixture *f = *state;
    char ref[1024];
    char want[1024];
    char *empty = test_write_text(f->dir, "empty.secret", "", 0600);
    char *only_nl = test_write_text(f->dir, "nl-only.secret", "\n", 0600);
    char *big;
    char *data = malloc(GW_SECRET_FILE_MAX + 1);

    snprintf(ref, sizeof ref, "file:%s/missing.secret", f->dir);
    snprintf(want, sizeof want,
             "cannot read secret file %s/missing.secret: No such file or directory", f->dir);
    expect_refusal(ref, ALL, NULL, want);

    snprintf(ref, sizeof ref, "file:%s", empty);
    expect_refusal(ref, ALL, NULL, "is empty");
    snprintf(ref, sizeof ref, "file:%s", only_nl);
    expect_refusal(ref, ALL, NULL, "is empty");

    snprintf(ref, sizeof ref, "file:%s", f->dir);
    expect_refusal(ref, ALL, NULL, "is not a regular file");

    expect_refusal("file:", ALL, NULL, "file: needs a path");

    assert_non_null(data);
    memset(data, 'x', GW_SECRET_FILE_MAX + 1);
    big = test_write(f->dir, "big.secret", data, GW_SECRET_FILE_MAX + 1, 0600);
    snprintf(ref, sizeof ref, "file:%s", big);
    expect_refusal(ref, ALL, NULL, "is larger than 1MiB");
    free(big);
    /* Exactly the limit is fine. */
    big = test_write(f->dir, "max.secret", data, GW_SECRET_FILE_MAX, 0600);
    snprintf(ref, sizeof ref, "file:%s", big);
    {
        struct gw_secret s = {0};
        char err[256];
        assert_int_equal(gw_secret_ref_load(ref, ALL, NULL, &s, err, sizeof err), 0);
        assert_int_equal(s.len, GW_SECRET_FILE_MAX);
        gw_secret_wipe(&s);
    }
    free(big);
    free(data);
    free(empty);
    free(only_nl);
}

static void test_literal_refused(void **state)
{
    static const char *const cases[] = {"hunter2", "",         "$TOKEN", "{TOKEN}",
                                        "File:/x", " file:/x", " ${A}"};
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256];
        struct gw_secret s = {0};

        assert_int_equal(gw_secret_ref_load(cases[i], ALL, NULL, &s, err, sizeof err), -1);
        assert_string_equal(err,
                            "a secret must not be written literally; use ${NAME} or file:PATH");
        /* The message never repeats what was written: it may be the secret itself. */
        if (cases[i][0] != '\0')
            assert_null(strstr(err, cases[i]));
    }
    /* Where only file:PATH is allowed (certificates), ${NAME} is refused too. */
    assert_int_equal(setenv("CTGW_T_SECRET", "x", 1), 0);
    expect_refusal("${CTGW_T_SECRET}", GW_REF_FILE, NULL, "must be written as file:PATH");
    expect_refusal("-----BEGIN CERTIFICATE-----", GW_REF_FILE, NULL,
                   "must be written as file:PATH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_set),
        cmocka_unit_test(test_env_unset),
        cmocka_unit_test(test_env_empty),
        cmocka_unit_test(test_env_bad_name),
        cmocka_unit_test(test_getenv_for_plain_values),
        cmocka_unit_test_setup_teardown(test_file_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_loose_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_unusable, setup, teardown),
        cmocka_unit_test(test_literal_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
