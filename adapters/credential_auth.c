/* credential_auth.c — the scheme and the setup check of endpoints authenticated by HTTP
 * Basic or a token. */
#include "adapters/credential_auth.h"

#include <stdbool.h>

#include "verifiers/basic_auth.h"
#include "verifiers/token.h"

const struct gw_verifier *gw_credential_verifier_for(const struct gw_endpoint_config *ep)
{
    return ep->token.data != NULL ? &gw_verifier_token : &gw_verifier_basic_auth;
}

void gw_credential_setup(const char *provider, const struct gw_endpoint_config *ep,
                         struct gw_cfg_setup *s)
{
    bool user = ep->username != NULL, pass = ep->password.data != NULL;
    bool token = ep->token.data != NULL;
    if (user != pass)
        gw_cfg_setup_error(s, user ? "password" : "username",
                           "%s: username and password go together", provider);
    else if (user && token)
        gw_cfg_setup_error(s, "token", "%s: either username and password, or a token", provider);
    else if (!user && !token)
        gw_cfg_setup_error(s, NULL, "%s: set username and password (basic-auth) or token",
                           provider);
    if (ep->header != NULL && !token)
        gw_cfg_setup_error(s, "header", "%s: header names the token's header", provider);
}
