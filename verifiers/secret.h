/* secret.h — the bytes of a key or shared secret as the verifiers take them. The config
 * fills them from `${NAME}` or `file:PATH`; the verifiers never read the config itself. */
#ifndef CTGW_VERIFIERS_SECRET_H
#define CTGW_VERIFIERS_SECRET_H

#include <stddef.h>

/* `data` is NUL-terminated for convenience but may also contain NUL bytes: `len` is
 * authoritative. Owned by whoever filled it (the config, for configured secrets). */
struct gw_secret {
    char *data;
    size_t len;
};

#endif
