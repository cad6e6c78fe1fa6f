/* relay_auth.h — how a mail endpoint that no provider signature covers authenticates
 * (email-mime, email-sendgrid): HTTP Basic with username and password, or a token in a
 * header, or — SendGrid's signed security policy — a public key; exactly one of them, since a
 * long random path segment alone is not a credential. */
#ifndef CTGW_MAIL_RELAY_AUTH_H
#define CTGW_MAIL_RELAY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/provider.h"
#include "config/config.h"

/* The endpoint keys of those schemes, and `company`: entries for an endpoint_keys table. */
#define GW_MAIL_KEY(key, kind, lo, hi)                                                             \
    {                                                                                              \
        .name = #key, .type = kind, .offset = offsetof(struct gw_endpoint_config, key), .min = lo, \
        .max = hi                                                                                  \
    }
#define GW_MAIL_AUTH_KEYS                                                                          \
    GW_MAIL_KEY(company, GW_CFG_SLUG, 0, 0), GW_MAIL_KEY(username, GW_CFG_STRING, 1, 255),         \
        GW_MAIL_KEY(password, GW_CFG_SECRET, 16, 0), GW_MAIL_KEY(token, GW_CFG_SECRET, 16, 0),     \
        GW_MAIL_KEY(header, GW_CFG_STRING, 1, 63)

/* EP's scheme: sendgrid when it has a public_key, the token when it has one, else
 * basic-auth. For a provider's verifier_for. */
const struct gw_verifier *gw_mail_auth_verifier(const struct gw_endpoint_config *ep);

/* For a provider's setup: reports (as PROVIDER: ...) anything but exactly one of username
 * with password, token, or (when KEY_ALLOWED) public_key, and a header without a token. */
void gw_mail_auth_setup(const struct gw_endpoint_config *ep, struct gw_cfg_setup *s,
                        const char *provider, bool key_allowed);

#endif
