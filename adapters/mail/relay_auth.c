/* relay_auth.c — the scheme of a credential-authenticated mail endpoint, and its checks. */
#include "adapters/mail/relay_auth.h"

#include "verifiers/basic_auth.h"
#include "verifiers/sendgrid.h"
#include "verifiers/token.h"

const struct gw_verifier *gw_mail_auth_verifier(const struct gw_endpoint_config *ep)
{
    if (ep->public_key.data != NULL)
        return &gw_verifier_sendgrid;
    return ep->token.data != NULL ? &gw_verifier_token : &gw_verifier_basic_auth;
}

void gw_mail_auth_setup(const struct gw_endpoint_config *ep, struct gw_cfg_setup *s,
                        const char *provider, bool key_allowed)
{
    bool user = ep->username != NULL, pass = ep->password.data != NULL;
    bool token = ep->token.data != NULL, key = ep->public_key.data != NULL;
    const char *one = key_allowed ? "username and password (basic-auth), token, or public_key "
                                    "(a signed policy)"
                                  : "username and password (basic-auth), or token";
    if (user != pass)
        gw_cfg_setup_error(s, user ? "password" : "username",
                           "%s: username and password go together", provider);
    else if ((user ? 1 : 0) + (token ? 1 : 0) + (key ? 1 : 0) > 1)
        gw_cfg_setup_error(s, token ? "token" : "public_key", "%s: only one of %s", provider, one);
    else if (!user && !token && !key)
        gw_cfg_setup_error(s, NULL, "%s: set %s; the URL alone is no credential", provider, one);
    if (ep->header != NULL && !token)
        gw_cfg_setup_error(s, "header", "%s: header names the token's header", provider);
}
