/* credential_auth.h — endpoints authenticated by a credential the sender carries rather than
 * a signature: HTTP Basic (`username`, `password`) or a token (`token`, in the header
 * `header` names, else Authorization: Bearer). Shared by the providers whose senders offer
 * both (email-mime, ghl-workflow): their endpoint keys, their scheme, their setup check. */
#ifndef CTGW_CREDENTIAL_AUTH_H
#define CTGW_CREDENTIAL_AUTH_H

#include <stddef.h>

#include "config/config.h"
#include "config/config_keys.h"
#include "verifiers/verifier.h"

/* The four endpoint keys, for a provider's `endpoint_keys` table. */
#define GW_CREDENTIAL_KEYS                                                                         \
    {.name = "username",                                                                           \
     .type = GW_CFG_STRING,                                                                        \
     .offset = offsetof(struct gw_endpoint_config, username),                                      \
     .min = 1,                                                                                     \
     .max = 255},                                                                                  \
        {.name = "password",                                                                       \
         .type = GW_CFG_SECRET,                                                                    \
         .offset = offsetof(struct gw_endpoint_config, password),                                  \
         .min = 16},                                                                               \
        {.name = "token",                                                                          \
         .type = GW_CFG_SECRET,                                                                    \
         .offset = offsetof(struct gw_endpoint_config, token),                                     \
         .min = 16},                                                                               \
    {                                                                                              \
        .name = "header", .type = GW_CFG_STRING,                                                   \
        .offset = offsetof(struct gw_endpoint_config, header), .min = 1, .max = 63                 \
    }

/* The token scheme when EP has a token, basic-auth otherwise (for `verifier_for`). */
const struct gw_verifier *gw_credential_verifier_for(const struct gw_endpoint_config *ep);

/* Reports, as "PROVIDER: …", anything but exactly one way to authenticate, and a header
 * without a token (for a provider's `setup`). */
void gw_credential_setup(const char *provider, const struct gw_endpoint_config *ep,
                         struct gw_cfg_setup *s);

#endif
