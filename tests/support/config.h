/* config.h — helpers of the config unit tests (error joining, checked loading); the file
 * helpers they share with other tests are in tests/support/files.h. */
#ifndef CTGW_TESTS_SUPPORT_CONFIG_H
#define CTGW_TESTS_SUPPORT_CONFIG_H

#include "config/config.h"
#include "tests/support/files.h"

/* The errors joined, one per line with a final newline (caller frees). */
char *test_join_errors(const struct gw_config_errors *errs);

/* Loads PATH, checks that it returns NULL exactly when errors were reported, and returns
 * the config (NULL on errors). */
struct gw_config *test_load(const char *path, struct gw_config_errors *errs);

#endif
