/* files.h — file-system and text helpers shared by every test (temporary directories,
 * files written with exact permissions, whole-file reads, string replacement). */
#ifndef CTGW_TESTS_SUPPORT_FILES_H
#define CTGW_TESTS_SUPPORT_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* p, or abort() when it is NULL: cmocka's asserts do not tell the compiler they stop the
 * test, so allocations that must succeed go through here. */
void *test_must_alloc(void *p);

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

/* The file tests/fixtures/NAME, NAME made from a printf format ("xero/%s"), whole and
 * NUL-terminated (caller frees); fails the test when it cannot be read. */
char *test_fixture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* TEXT with every NEEDLE replaced by WITH (caller frees). */
char *test_replace(const char *text, const char *needle, const char *with);

#endif
