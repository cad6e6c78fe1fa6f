/* verifiers.c — the one table of authentication schemes, by name. Each scheme's descriptor
 * is defined at the bottom of its own file; adding a scheme means one line here. */
#include <stdio.h>
#include <string.h>

#include "verifiers/asana.h"
#include "verifiers/basic_auth.h"
#include "verifiers/ghl.h"
#include "verifiers/mailgun.h"
#include "verifiers/sendgrid.h"
#include "verifiers/slack.h"
#include "verifiers/sns.h"
#include "verifiers/standard_webhooks.h"
#include "verifiers/stripe.h"
#include "verifiers/token.h"
#include "verifiers/verifier.h"
#include "verifiers/xero.h"

const struct gw_verifier *const gw_verifiers[] = {
    &gw_verifier_standard_webhooks,
    &gw_verifier_slack,
    &gw_verifier_xero,
    &gw_verifier_stripe,
    &gw_verifier_asana,
    &gw_verifier_mailgun,
    &gw_verifier_ghl,
    &gw_verifier_sns,
    &gw_verifier_basic_auth,
    &gw_verifier_token,
    &gw_verifier_sendgrid,
    NULL,
};

const struct gw_verifier *gw_verifier_find(const char *name)
{
    for (size_t i = 0; name != NULL && gw_verifiers[i] != NULL; i++)
        if (strcmp(gw_verifiers[i]->name, name) == 0)
            return gw_verifiers[i];
    return NULL;
}

void gw_verifier_names(char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; gw_verifiers[i] != NULL; i++) {
        int n =
            snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", gw_verifiers[i]->name);
        if (n < 0 || (size_t)n >= len - used)
            return; /* truncated, still NUL-terminated */
        used += (size_t)n;
    }
}
