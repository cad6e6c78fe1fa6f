/* provider.h — the descriptor of one webhook provider, and the one table that lists them.
 *
 * Each provider defines a `const struct gw_provider` at the bottom of its own file in
 * adapters/, and adapters/providers.c lists it once. Hooks a provider does not need are NULL;
 * the contract of each hook is written here, where it is declared. */
#ifndef CTGW_PROVIDER_H
#define CTGW_PROVIDER_H

#include <stddef.h>

#include "config/config_keys.h"

struct gw_provider {
    /* The value of `provider:` in an endpoint, e.g. "slack". Unique. */
    const char *name;
    /* One line for operators (check-config, README). */
    const char *summary;
    /* Endpoint keys this provider accepts beyond id, provider and max_body, terminated by an
     * entry whose name is NULL. Offsets point into struct gw_endpoint_config. May be NULL. */
    const struct gw_cfg_key *endpoint_keys;
};

/* NULL-terminated, in a stable order. */
extern const struct gw_provider *const gw_providers[];

/* The provider called NAME, or NULL. */
const struct gw_provider *gw_provider_find(const char *name);

/* Writes "a, b, c" (every provider name) into buf, for error messages. */
void gw_provider_names(char *buf, size_t len);

#endif
