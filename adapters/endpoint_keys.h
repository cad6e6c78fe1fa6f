/* endpoint_keys.h — the endpoint keys several providers share, as entries for their
 * `endpoint_keys` tables (adapters/provider.h). */
#ifndef CTGW_ENDPOINT_KEYS_H
#define CTGW_ENDPOINT_KEYS_H

#include <stddef.h>

#include "config/config.h"
#include "config/config_keys.h"

/* `secrets`: the shared secrets, newest first, 1 to 16 of them, required. */
#define GW_KEY_SECRETS                                                                             \
    {                                                                                              \
        .name = "secrets", .type = GW_CFG_SECRET_LIST,                                             \
        .offset = offsetof(struct gw_endpoint_config, secrets), .min = 1, .max = 16,               \
        .flags = GW_CFG_REQUIRED                                                                   \
    }

/* `tolerance`: the replay window of schemes with a timestamp, 1 s to 1 day; absent (0) means
 * the scheme's default. */
#define GW_KEY_TOLERANCE                                                                           \
    {                                                                                              \
        .name = "tolerance", .type = GW_CFG_DURATION,                                              \
        .offset = offsetof(struct gw_endpoint_config, tolerance_ms), .min = 1000, .max = 86400000  \
    }

/* `username` and `password`: the basic-auth credential a relay's URL carries (the password
 * a secret of at least 16 bytes), both required. */
#define GW_KEY_USERNAME_REQUIRED                                                                   \
    {                                                                                              \
        .name = "username", .type = GW_CFG_STRING,                                                 \
        .offset = offsetof(struct gw_endpoint_config, username), .min = 1, .max = 255,             \
        .flags = GW_CFG_REQUIRED                                                                   \
    }
#define GW_KEY_PASSWORD_REQUIRED                                                                   \
    {                                                                                              \
        .name = "password", .type = GW_CFG_SECRET,                                                 \
        .offset = offsetof(struct gw_endpoint_config, password), .min = 16,                        \
        .flags = GW_CFG_REQUIRED                                                                   \
    }

#endif
