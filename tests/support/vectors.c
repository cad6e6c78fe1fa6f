/* vectors.c — reading the known-answer files of tests/vectors/. */
#include "tests/support/vectors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/files.h"

/* Reads PATH, calling on_key(ud, KEY, VALUE) for every KEY=VALUE line and on_end(ud) at every
 * blank line and at the end of the file. */
static void read_lines(const char *path,
                       void (*on_key)(void *ud, const char *key, const char *value),
                       void (*on_end)(void *ud), void *ud)
{
    size_t len = 0;
    char *text = test_read(path, &len);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    assert_int_equal(strlen(text), len); /* no NUL inside: values are taken up to it */
    char *line = text;
    for (;;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (line[0] == '\0') {
            on_end(ud);
        } else if (line[0] != '#') {
            char *eq = strchr(line, '=');
            if (eq == NULL)
                fail_msg("%s: line without '=': %s", path, line);
            *eq = '\0';
            on_key(ud, line, eq + 1);
        }
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    on_end(ud);
    free(text);
}

/* ts_vectors_each's state between the lines of a file. */
struct each {
    const struct ts_vector_key *keys;
    size_t n_keys;
    const char **id;
    void (*on_case)(void *ud);
    void *ud;
};

static void each_key(void *ud, const char *key, const char *value)
{
    struct each *e = ud;
    for (size_t k = 0; k < e->n_keys; k++) {
        if (strcmp(key, e->keys[k].key) != 0)
            continue;
        if (e->keys[k].field != NULL) {
            if (*e->keys[k].field != NULL)
                fail_msg("key %s repeated in one case", key);
            *e->keys[k].field = value;
        }
        return;
    }
    fail_msg("unknown key %s", key);
}

static void each_end(void *ud)
{
    struct each *e = ud;
    if (e->id != NULL && *e->id != NULL)
        e->on_case(e->ud);
    for (size_t k = 0; k < e->n_keys; k++)
        if (e->keys[k].field != NULL)
            *e->keys[k].field = NULL;
}

void ts_vectors_each(const char *path, const struct ts_vector_key *keys, size_t n_keys,
                     void (*on_case)(void *ud), void *ud)
{
    struct each e = {.keys = keys, .n_keys = n_keys, .on_case = on_case, .ud = ud};
    for (size_t k = 0; k < n_keys; k++)
        if (strcmp(keys[k].key, "id") == 0)
            e.id = keys[k].field;
    each_end(&e); /* every field NULL to begin with */
    read_lines(path, each_key, each_end, &e);
}
