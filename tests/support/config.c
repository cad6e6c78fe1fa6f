/* config.c — helpers of the config unit tests: error joining and checked loading. */
#include "tests/support/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/provider.h"

char *test_join_errors(const struct gw_config_errors *errs)
{
    size_t total = 1;
    char *out;
    char *p;

    for (size_t i = 0; i < errs->n; i++)
        total += strlen(errs->lines[i]) + 1;
    out = test_must_alloc(malloc(total));
    p = out;
    for (size_t i = 0; i < errs->n; i++)
        p += sprintf(p, "%s\n", errs->lines[i]);
    *p = '\0';
    return out;
}

struct gw_config *test_load(const char *path, struct gw_config_errors *errs)
{
    struct gw_config *cfg = gw_config_load(path, &gw_providers_for_config, errs);

    if (cfg == NULL)
        assert_true(errs->n > 0);
    else
        assert_int_equal(errs->n, 0);
    return cfg;
}
