/* secret_ref.h — resolving the `${NAME}` and `file:PATH` references a config value may be
 * written as, with the checks that keep secrets out of the file and away from other users. */
#ifndef CTGW_CONFIG_SECRET_REF_H
#define CTGW_CONFIG_SECRET_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* A file a reference names is refused past this many bytes. */
#define GW_SECRET_FILE_MAX (1024u * 1024u)

/* What gw_secret_ref_load accepts. */
enum {
    GW_REF_ENV = 1u << 0,     /* ${NAME} */
    GW_REF_FILE = 1u << 1,    /* file:PATH */
    GW_REF_PRIVATE = 1u << 2, /* file:PATH must not be readable or writable by group or others */
};

/* True when S is written as an environment reference, that is starts with "${". */
bool gw_secret_ref_is_env(const char *s);

/* Looks up the variable named by REF ("${NAME}"). On success returns 0 and points *value
 * into the environment (not to be freed or kept across setenv). A malformed name, an unset
 * variable and an empty one are errors: returns -1 with a one-line message in err. */
int gw_secret_ref_getenv(const char *ref, const char **value, char *err, size_t errlen);

/* Resolves REF into OUT, a fresh copy the caller frees with gw_secret_wipe. A relative
 * file: path is taken from DIR when DIR is not NULL. Anything ALLOW does not permit, a
 * literal value above all, is an error: returns -1 with a message in err that never
 * repeats the value (it may be a secret written by mistake). */
int gw_secret_ref_load(const char *ref, unsigned allow, const char *dir, struct gw_secret *out,
                       char *err, size_t errlen);

/* Overwrites and frees the secret's bytes, and leaves it empty. NULL is fine. */
void gw_secret_wipe(struct gw_secret *secret);

#endif
