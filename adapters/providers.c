/* providers.c — the one table of webhook providers ctgw knows, and that table as the config
 * loader takes it. Adding a provider means adding its descriptor (in its own file once it
 * has hooks) and one line in gw_providers[]. */
#include "adapters/provider.h"
#include "adapters/endpoint_keys.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "verifiers/asana.h"
#include "verifiers/basic_auth.h"
#include "verifiers/mailgun.h"
#include "verifiers/stripe.h"

#define EP(field) offsetof(struct gw_endpoint_config, field)
#define KEY_END                                                                                    \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* Endpoint keys per authentication scheme: what each verifier reads from the endpoint. */
static const struct gw_cfg_key timestamped_keys[] = {GW_KEY_SECRETS, GW_KEY_TOLERANCE, KEY_END};
static const struct gw_cfg_key asana_keys[] = {
    /* Asana hands the secret over in its handshake; configured ones are for rotation. */
    {.name = "secrets", .type = GW_CFG_SECRET_LIST, .offset = EP(secrets), .min = 0, .max = 16},
    KEY_END,
};

/* Descriptors of providers whose adapters have not arrived yet: each moves to its own file
 * in adapters/ with its hooks. Their endpoint keys are the ones each provider documents.
 * Without an envelope they are not served (404), but their verifier is named already, so
 * that `ctgw verify` can check their requests. */
static const struct gw_provider stripe = {
    .name = "stripe",
    .summary = "Stripe billing events",
    .verifier = &gw_verifier_stripe,
    .endpoint_keys = timestamped_keys,
};
static const struct gw_provider asana = {
    .name = "asana",
    .summary = "Asana task webhooks",
    .verifier = &gw_verifier_asana,
    .endpoint_keys = asana_keys,
};

/* Providers with their own file in adapters/. */
extern const struct gw_provider gw_provider_generic;
extern const struct gw_provider gw_provider_contact_form;
extern const struct gw_provider gw_provider_slack;
extern const struct gw_provider gw_provider_xero;
extern const struct gw_provider gw_provider_email_mime;
extern const struct gw_provider gw_provider_email_ses;
extern const struct gw_provider gw_provider_email_mailgun;
extern const struct gw_provider gw_provider_email_sendgrid;
extern const struct gw_provider gw_provider_ghl;
extern const struct gw_provider gw_provider_ghl_workflow;
extern const struct gw_provider gw_provider_email_postmark;

const struct gw_provider *const gw_providers[] = {
    &gw_provider_generic,
    &gw_provider_contact_form,
    &gw_provider_slack,
    &gw_provider_xero,
    &gw_provider_email_mime,
    &gw_provider_ghl,
    &gw_provider_ghl_workflow,
    &gw_provider_email_ses,
    &gw_provider_email_mailgun,
    &gw_provider_email_sendgrid,
    &gw_provider_email_postmark,
    &stripe,
    &asana,
    NULL,
};

const struct gw_verifier *gw_endpoint_verifier(const struct gw_endpoint_config *ep)
{
    const struct gw_provider *p = ep != NULL ? ep->provider : NULL;
    if (p == NULL)
        return NULL;
    return p->verifier_for != NULL ? p->verifier_for(ep) : p->verifier;
}

const struct gw_provider *gw_provider_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; gw_providers[i] != NULL; i++)
        if (strcmp(gw_providers[i]->name, name) == 0)
            return gw_providers[i];
    return NULL;
}

void gw_provider_names(char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; gw_providers[i] != NULL && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", gw_providers[i]->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void describe(const struct gw_provider *p, struct gw_cfg_provider *out)
{
    *out = (struct gw_cfg_provider){
        .endpoint_keys = p->endpoint_keys,
        .config_keys = p->config_keys,
        .config_size = p->config_size,
        .setup = p->setup,
        .mail_body = (p->flags & GW_PROVIDER_MAIL_BODY) != 0,
    };
}

const struct gw_config_providers gw_providers_for_config = {
    .find = gw_provider_find,
    .describe = describe,
    .names = gw_provider_names,
};

size_t gw_provider_max_events(const struct gw_provider *p)
{
    if (p == NULL || p->max_events == 0)
        return GW_PROVIDER_MAX_EVENTS;
    return p->max_events < GW_PROVIDER_MAX_EVENTS_LIMIT ? p->max_events
                                                        : GW_PROVIDER_MAX_EVENTS_LIMIT;
}
