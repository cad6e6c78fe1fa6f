/* config.h — the keys of a `xero` endpoint that only the Xero adapter reads (its
 * config_keys): where the Accounting API and the token endpoint are, the app's OAuth2
 * client, and the call budget. */
#ifndef CTGW_XERO_CONFIG_H
#define CTGW_XERO_CONFIG_H

#include <stdint.h>

#include "config/config.h"

struct gw_xero_config {
    char *api_base;                 /* Accounting API base URL; NULL: Xero's */
    char *token_url;                /* OAuth2 token endpoint; NULL: Xero's */
    char *client_id;                /* the app's OAuth2 client id */
    struct gw_secret client_secret; /* the app's OAuth2 client secret */
    uint32_t calls_per_minute;      /* API calls per tenant per minute; 0: 55 */
};

/* EP's Xero config; never NULL: without an endpoint or its struct (an endpoint built by
 * hand), every key reads as absent. */
static inline const struct gw_xero_config *gw_xero_config_of(const struct gw_endpoint_config *ep)
{
    static const struct gw_xero_config none;
    return ep != NULL && ep->provider_config != NULL ? ep->provider_config : &none;
}

#endif
