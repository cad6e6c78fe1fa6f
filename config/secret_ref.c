/* secret_ref.c — resolving `${NAME}` and `file:PATH` references, refusing literal secrets
 * and secret files that other users could read. */
#include "config/secret_ref.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_PREFIX   "${"
#define FILE_PREFIX  "file:"
#define NAME_MAX_LEN 128

bool gw_secret_ref_is_env(const char *s)
{
    return s != NULL && strncmp(s, ENV_PREFIX, strlen(ENV_PREFIX)) == 0;
}

static bool is_file_ref(const char *s)
{
    return strncmp(s, FILE_PREFIX, strlen(FILE_PREFIX)) == 0;
}

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* Copies the variable name out of "${NAME}", or fails when the reference is malformed. */
static int env_name(const char *ref, char *name, size_t cap)
{
    const char *p = ref + strlen(ENV_PREFIX);
    size_t n = 0;

    if (!name_start(p[0]))
        return -1;
    while (name_char(p[n]))
        n++;
    if (p[n] != '}' || p[n + 1] != '\0' || n >= cap)
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    return 0;
}

int gw_secret_ref_getenv(const char *ref, const char **value, char *err, size_t errlen)
{
    char name[NAME_MAX_LEN];
    const char *v;

    if (!gw_secret_ref_is_env(ref) || env_name(ref, name, sizeof name) < 0) {
        snprintf(err, errlen,
                 "malformed environment reference; write ${NAME} with NAME matching "
                 "[A-Za-z_][A-Za-z0-9_]*");
        return -1;
    }
    v = getenv(name);
    if (v == NULL) {
        snprintf(err, errlen, "environment variable %s is not set", name);
        return -1;
    }
    if (v[0] == '\0') {
        snprintf(err, errlen, "environment variable %s is empty", name);
        return -1;
    }
    *value = v;
    return 0;
}

/* Paths go into one-line messages: anything unprintable is shown as '?'. */
static void printable(const char *in, char *out, size_t cap)
{
    size_t i = 0;

    for (; in[i] != '\0' && i + 1 < cap; i++)
        out[i] = (in[i] >= 0x20 && in[i] != 0x7f) ? in[i] : '?';
    out[i] = '\0';
}

/* The path as a shell word, so that the suggested command can be pasted. */
static void shell_word(const char *path, char *out, size_t cap)
{
    bool plain = true;
    size_t o = 0;

    for (const char *p = path; *p != '\0'; p++)
        if (!(name_char(*p) || *p == '/' || *p == '.' || *p == '-'))
            plain = false;
    if (plain) {
        snprintf(out, cap, "%s", path);
        return;
    }
    if (cap < 3) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    out[o++] = '\'';
    for (const char *p = path; *p != '\0' && o + 5 < cap; p++) {
        if (*p == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *p;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
}

static void wipe(void *p, size_t n)
{
    if (p != NULL)
        explicit_bzero(p, n);
}

/* Reads at most GW_SECRET_FILE_MAX bytes of an open regular file into a fresh buffer that
 * has room for a terminating NUL. Buffers outgrown are wiped, not just freed. */
static int read_bounded(int fd, size_t hint, char **data, size_t *len, bool *too_large)
{
    size_t cap = (hint < GW_SECRET_FILE_MAX ? hint : GW_SECRET_FILE_MAX) + 1;
    size_t used = 0;
    char *buf = malloc(cap + 1);

    *too_large = false;
    if (buf == NULL)
        return -1;
    for (;;) {
        ssize_t n;

        if (used == cap) {
            size_t ncap = cap * 2 > GW_SECRET_FILE_MAX + 1 ? GW_SECRET_FILE_MAX + 1 : cap * 2;
            char *nbuf;

            if (ncap <= cap) {
                *too_large = true;
                break;
            }
            nbuf = malloc(ncap + 1);
            if (nbuf == NULL)
                break;
            memcpy(nbuf, buf, used);
            wipe(buf, used);
            free(buf);
            buf = nbuf;
            cap = ncap;
        }
        n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) {
            buf[used] = '\0';
            *data = buf;
            *len = used;
            return 0;
        }
        used += (size_t)n;
    }
    {
        int saved = errno;
        wipe(buf, used);
        free(buf);
        errno = saved;
    }
    return -1;
}

static int load_file(const char *ref, unsigned allow, const char *dir, struct gw_secret *out,
                     char *err, size_t errlen)
{
    const char *what = (allow & GW_REF_PRIVATE) ? "secret file" : "file";
    const char *given = ref + strlen(FILE_PREFIX);
    char path[PATH_MAX];
    char shown[256];
    struct stat st;
    bool too_large;
    char *data;
    size_t len;
    int fd;
    int n;

    if (given[0] == '\0') {
        snprintf(err, errlen, "file: needs a path, such as file:/etc/ctgw/secret");
        return -1;
    }
    if (given[0] == '/' || dir == NULL || dir[0] == '\0')
        n = snprintf(path, sizeof path, "%s", given);
    else
        n = snprintf(path, sizeof path, "%s/%s", dir, given);
    printable(n >= 0 && (size_t)n < sizeof path ? path : given, shown, sizeof shown);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, errlen, "%s path %s is too long", what, shown);
        return -1;
    }

    /* O_NONBLOCK so that a FIFO cannot stall the load; fstat on the open descriptor so that
     * the checks apply to the very file that is read. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s %s: %s", what, shown, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot read %s %s: %s", what, shown, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s is not a regular file", what, shown);
        close(fd);
        return -1;
    }
    if ((allow & GW_REF_PRIVATE) && (st.st_mode & 077) != 0) {
        char word[300];
        shell_word(shown, word, sizeof word);
        snprintf(err, errlen,
                 "%s %s is readable or writable by group or others (mode %04o); run: chmod 600 "
                 "%s",
                 what, shown, (unsigned)(st.st_mode & 07777), word);
        close(fd);
        return -1;
    }
    if (st.st_size > (off_t)GW_SECRET_FILE_MAX) {
        snprintf(err, errlen, "%s %s is larger than 1MiB", what, shown);
        close(fd);
        return -1;
    }
    if (read_bounded(fd, (size_t)st.st_size, &data, &len, &too_large) < 0) {
        if (too_large)
            snprintf(err, errlen, "%s %s is larger than 1MiB", what, shown);
        else
            snprintf(err, errlen, "cannot read %s %s: %s", what, shown, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);

    /* Editors add a final newline; it is never part of the secret. */
    if (len > 0 && data[len - 1] == '\n') {
        len--;
        if (len > 0 && data[len - 1] == '\r')
            len--;
        data[len] = '\0';
    }
    if (len == 0) {
        snprintf(err, errlen, "%s %s is empty", what, shown);
        free(data);
        return -1;
    }
    out->data = data;
    out->len = len;
    return 0;
}

static int load_env(const char *ref, struct gw_secret *out, char *err, size_t errlen)
{
    const char *value;
    size_t len;

    if (gw_secret_ref_getenv(ref, &value, err, errlen) < 0)
        return -1;
    len = strlen(value);
    out->data = malloc(len + 1);
    if (out->data == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(out->data, value, len + 1);
    out->len = len;
    return 0;
}

int gw_secret_ref_load(const char *ref, unsigned allow, const char *dir, struct gw_secret *out,
                       char *err, size_t errlen)
{
    out->data = NULL;
    out->len = 0;
    if (ref != NULL && (allow & GW_REF_ENV) && gw_secret_ref_is_env(ref))
        return load_env(ref, out, err, errlen);
    if (ref != NULL && (allow & GW_REF_FILE) && is_file_ref(ref))
        return load_file(ref, allow, dir, out, err, errlen);
    if ((allow & GW_REF_ENV) && (allow & GW_REF_FILE))
        snprintf(err, errlen, "a secret must not be written literally; use ${NAME} or file:PATH");
    else if (allow & GW_REF_FILE)
        snprintf(err, errlen, "must be written as file:PATH");
    else
        snprintf(err, errlen, "must be written as ${NAME}");
    return -1;
}

void gw_secret_wipe(struct gw_secret *secret)
{
    if (secret == NULL)
        return;
    wipe(secret->data, secret->len);
    free(secret->data);
    secret->data = NULL;
    secret->len = 0;
}
