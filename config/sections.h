/* sections.h — the key tables of the configuration file, and the endpoints list they hand
 * to its own walker. */
#ifndef CTGW_CONFIG_SECTIONS_H
#define CTGW_CONFIG_SECTIONS_H

#include "config/config_keys.h"

#define GW_CFG_MAX_ENDPOINTS 256

/* The top level of the file; offsets into struct gw_config. */
extern const struct gw_cfg_key gw_cfg_top_keys[];

/* The keys every endpoint accepts whatever its provider; offsets into
 * struct gw_endpoint_config. A provider's endpoint_keys and config_keys add to these. */
extern const struct gw_cfg_key gw_cfg_endpoint_keys[];

/* GW_CFG_CUSTOM hooks of `endpoints`; BASE is the struct gw_config (endpoints.c). */
void gw_cfg_walk_endpoints(struct gw_cfg_walk *w, const struct gw_yaml_node *value,
                           const char *path, void *base);
void gw_cfg_release_endpoints(void *base);

#endif
