/* config.h — the keys of a `slack` endpoint that only the Slack adapter reads (its
 * config_keys): which commands it answers, which app it serves, where links and delayed
 * replies may point. */
#ifndef CTGW_SLACK_CONFIG_H
#define CTGW_SLACK_CONFIG_H

#include <stddef.h>

#include "config/config.h"

struct gw_slack_config {
    char **commands; /* slash commands answered ("/job"); none: /job only */
    size_t n_commands;
    char *app_url; /* CanTicket's base URL for links; NULL: no links */
    char *app_id;  /* the app id (A…) a command's api_app_id must name; NULL: not checked */
    char **response_url_hosts; /* hosts delayed replies may go to; none: hooks.slack.com */
    size_t n_response_url_hosts;
};

/* EP's Slack config; never NULL: without an endpoint or its struct (an endpoint built by
 * hand), every key reads as absent. */
static inline const struct gw_slack_config *gw_slack_config_of(const struct gw_endpoint_config *ep)
{
    static const struct gw_slack_config none;
    return ep != NULL && ep->provider_config != NULL ? ep->provider_config : &none;
}

#endif
