/* test_errors.c — every errors/NAME.yaml fails to load with exactly the lines of
 * errors/NAME.expected, where @FILE@ stands for the path loaded and @DIR@ for its folder. */
#include <dirent.h>
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
#include "config/config.h"
#include "tests/support/config.h"

#define ERRORS_DIR CTGW_SOURCE_ROOT "/tests/unit/config/errors"
/* Fewer cases than this means the folder was not found or lost files. */
#define MIN_CASES 30

/* The environment every case sees: the cases use these for values that must be valid
 * (CTGW_T_TOKEN, CTGW_T_KEY32) or that they expect to be refused. */
static int set_environment(void **state)
{
    (void)state;
    if (setenv("CTGW_T_TOKEN", "admin-token-0123456789", 1) != 0 ||
        setenv("CTGW_T_EMPTY", "", 1) != 0 || setenv("CTGW_T_WORD", "abc", 1) != 0 ||
        setenv("CTGW_T_KEY32", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
               1) != 0 ||
        unsetenv("CTGW_T_UNSET") != 0)
        return -1;
    return 0;
}

static void check_case(void **state)
{
    const char *name = *state;
    struct gw_config_errors errs = {0};
    char yaml[4096];
    char expected_path[4096];
    struct gw_config *cfg;
    char *expected;
    char *with_file;
    char *got;
    size_t n_errors;
    bool loaded;
    bool same;

    snprintf(yaml, sizeof yaml, "%s/%s.yaml", ERRORS_DIR, name);
    snprintf(expected_path, sizeof expected_path, "%s/%s.expected", ERRORS_DIR, name);
    expected = test_read(expected_path, NULL);
    if (expected == NULL)
        fail_msg("%s is missing", expected_path);
    assert_true(strlen(expected) > 0);

    cfg = gw_config_load(yaml, &gw_providers_for_config, &errs);
    got = test_join_errors(&errs);
    with_file = test_replace(expected, "@FILE@", yaml);
    free(expected);
    expected = test_replace(with_file, "@DIR@", ERRORS_DIR);
    same = strcmp(got, expected) == 0;
    if (!same)
        fprintf(stderr, "%s:\n--- expected\n%s--- got\n%s", name, expected, got);
    /* Everything is freed before asserting, so that a failure is not buried in leak
     * reports. */
    loaded = cfg != NULL;
    n_errors = errs.n;
    gw_config_destroy(cfg);
    gw_config_errors_finish(&errs);
    free(got);
    free(with_file);
    free(expected);
    assert_false(loaded);
    assert_true(n_errors > 0);
    assert_true(same);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    DIR *dir = opendir(ERRORS_DIR);
    struct CMUnitTest *tests = NULL;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc;

    if (dir == NULL) {
        fprintf(stderr, "cannot open %s\n", ERRORS_DIR);
        return 1;
    }
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        char **more;

        if (len <= 5 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        more = realloc(names, (n + 1) * sizeof *names);
        if (more == NULL)
            return 1;
        names = more;
        names[n] = strndup(de->d_name, len - 5);
        if (names[n] == NULL)
            return 1;
        n++;
    }
    closedir(dir);
    if (n < MIN_CASES) {
        fprintf(stderr, "only %zu cases in %s, expected at least %d\n", n, ERRORS_DIR, MIN_CASES);
        return 1;
    }
    qsort(names, n, sizeof *names, by_name);
    tests = calloc(n, sizeof *tests);
    if (tests == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = check_case;
        tests[i].initial_state = names[i];
    }
    rc = _cmocka_run_group_tests("config_errors", tests, n, set_environment, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(tests);
    return rc;
}
