/* config.h — the keys of a `ghl` endpoint that only the GoHighLevel adapter reads (its
 * config_keys): whether an app install may create integrations by itself, and when a CRM
 * opportunity opens a job; and a `ghl-workflow` endpoint's location and title template. */
#ifndef CTGW_GHL_CONFIG_H
#define CTGW_GHL_CONFIG_H

#include <stddef.h>

#include "config/config.h"

enum gw_ghl_install { GW_GHL_INSTALL_MANUAL = 0, GW_GHL_INSTALL_AUTO = 1 };

struct gw_ghl_config {
    int install;   /* GW_GHL_INSTALL_*: manual (default) stores and logs an install */
    char **job_on; /* opportunity statuses that open a job; none: won */
    size_t n_job_on;
    char **job_stages; /* pipeline stage ids that open a job */
    size_t n_job_stages;
};

/* A `ghl-workflow` endpoint's own keys. */
struct gw_ghl_workflow_config {
    char *location; /* the HighLevel location (sub-account) whose workflow posts here */
    char *title;    /* the new job's title template (template.h); NULL: the default */
};

static inline const struct gw_ghl_workflow_config *
gw_ghl_workflow_config_of(const struct gw_endpoint_config *ep)
{
    static const struct gw_ghl_workflow_config none;
    return ep != NULL && ep->provider_config != NULL ? ep->provider_config : &none;
}

/* EP's config; never NULL: without an endpoint or its struct every key reads as absent. */
static inline const struct gw_ghl_config *gw_ghl_config_of(const struct gw_endpoint_config *ep)
{
    static const struct gw_ghl_config none;
    return ep != NULL && ep->provider_config != NULL ? ep->provider_config : &none;
}

#endif
