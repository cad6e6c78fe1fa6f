/* helpers.h — small file-system and text helpers shared by the config unit tests. */
#ifndef CTGW_TESTS_CONFIG_HELPERS_H
#define CTGW_TESTS_CONFIG_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

/* Creates a fresh private directory under $TMPDIR (or /tmp); aborts the test on failure.
 * The caller frees the returned path after test_rmtree. */
char *test_mkdtemp(void);

/* Removes DIR and everything under it. */
void test_rmtree(const char *dir);

/* Writes LEN bytes of DATA to DIR/NAME (creating DIR's subdirectories named in NAME) with
 * permissions MODE, and returns the full path (caller frees). Aborts the test on failure. */
char *test_write(const char *dir, const char *name, const char *data, size_t len, mode_t mode);

/* Same, for a NUL-terminated text. */
char *test_write_text(const char *dir, const char *name, const char *text, mode_t mode);

/* The whole content of PATH, NUL-terminated (caller frees), or NULL. */
char *test_read(const char *path, size_t *len);

/* The errors joined, one per line with a final newline (caller frees). */
char *test_join_errors(const struct gw_config_errors *errs);

/* Loads PATH, checks that it returns NULL exactly when errors were reported, and returns
 * the config (NULL on errors). */
struct gw_config *test_load(const char *path, struct gw_config_errors *errs);

/* TEXT with every NEEDLE replaced by WITH (caller frees). */
char *test_replace(const char *text, const char *needle, const char *with);

#endif
