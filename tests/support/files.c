/* files.c — file-system and text helpers shared by every test. */
#include "tests/support/files.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

void *test_must_alloc(void *p)
{
    if (p == NULL)
        abort();
    return p;
}

char *test_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *dir;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    dir = test_must_alloc(malloc(strlen(base) + 32));
    sprintf(dir, "%s/ctgw-test-XXXXXX", base);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

void test_rmtree(const char *dir)
{
    if (dir != NULL)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates the directories leading to PATH's last component. */
static void make_parents(char *path)
{
    for (char *p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            fail_msg("mkdir %s: %s", path, strerror(errno));
        *p = '/';
    }
}

char *test_write(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
    char *path = test_must_alloc(malloc(strlen(dir) + strlen(name) + 2));
    int fd;

    sprintf(path, "%s/%s", dir, name);
    make_parents(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    /* fchmod, not the open mode: the umask must not decide what the test checks. */
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
    return path;
}

char *test_write_text(const char *dir, const char *name, const char *text, mode_t mode)
{
    return test_write(dir, name, text, strlen(text), mode);
}

char *test_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    size_t used = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        size_t n;
        if (used + 4096 + 1 > cap) {
            buf = test_must_alloc(realloc(buf, cap + 8192));
            cap += 8192;
        }
        n = fread(buf + used, 1, 4096, f);
        used += n;
        if (n < 4096)
            break;
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    buf[used] = '\0';
    if (len != NULL)
        *len = used;
    return buf;
}

char *test_fixture(const char *fmt, ...)
{
    char name[256], path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/tests/fixtures/%s", CTGW_SOURCE_ROOT, name);
    char *text = test_read(path, NULL);
    if (text == NULL)
        fail_msg("cannot read fixture %s", path);
    return text;
}

char *test_replace(const char *text, const char *needle, const char *with)
{
    size_t nlen = strlen(needle);
    size_t wlen = strlen(with);
    size_t count = 0;
    char *out;
    char *o;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + nlen, needle))
        count++;
    out = test_must_alloc(malloc(strlen(text) + count * wlen + 1));
    o = out;
    for (const char *p = text;;) {
        const char *hit = strstr(p, needle);
        if (hit == NULL) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, with, wlen);
        o += wlen;
        p = hit + nlen;
    }
    return out;
}
