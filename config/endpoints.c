/* endpoints.c — the `endpoints:` list: each entry is checked by the generic walker against
 * the common keys plus the keys its provider declares, so `provider` is read first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/provider.h"
#include "config/config.h"
#include "config/sections.h"
#include "config/walk.h"

/* The key node `provider` of entry MAP, or NULL. */
static const struct gw_yaml_node *provider_key(const struct gw_yaml_node *map)
{
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (map->items[i]->kind == GW_YAML_SCALAR && strcmp(map->items[i]->text, "provider") == 0)
            return map->items[i];
    return NULL;
}

static void walk_entry(struct gw_cfg_walk *w, const struct gw_yaml_node *map, const char *path,
                       struct gw_endpoint_config *ep)
{
    const struct gw_cfg_key *tables[2] = {gw_cfg_endpoint_keys, NULL};
    const struct gw_yaml_node *pkey = provider_key(map);
    unsigned flags = 0;

    if (pkey != NULL) {
        char child[GW_CFG_PATH_MAX + 16];
        const struct gw_yaml_node *pvalue = gw_yaml_get(map, "provider");

        snprintf(child, sizeof child, "%s.provider", path);
        if (gw_cfg_walk_value(w, gw_cfg_key_find(gw_cfg_endpoint_keys, "provider"), pvalue, child,
                              ep) == 0)
            tables[1] = ep->provider->endpoint_keys;
        else
            flags = GW_CFG_WALK_LENIENT;
    } else {
        /* Without a provider the allowed keys are unknown: report the missing provider,
         * check the common keys, and say nothing about the rest. */
        flags = GW_CFG_WALK_LENIENT;
    }
    gw_cfg_walk_map(w, map, map->line, path, tables, 2, ep, pkey, flags);
}

void gw_cfg_walk_endpoints(struct gw_cfg_walk *w, const struct gw_yaml_node *value,
                           const char *path, void *base)
{
    struct gw_config *cfg = base;
    unsigned *id_lines;

    if (gw_yaml_is_null(value))
        return;
    if (value->kind != GW_YAML_SEQUENCE) {
        gw_cfg_error(w, value->line, "%s: expected a sequence, got %s", path,
                     gw_yaml_kind_name(value));
        return;
    }
    if (value->n > GW_CFG_MAX_ENDPOINTS) {
        gw_cfg_error(w, value->line, "%s: at most %d endpoints are allowed, got %zu", path,
                     GW_CFG_MAX_ENDPOINTS, value->n);
        return;
    }
    if (value->n == 0)
        return;
    cfg->endpoints = calloc(value->n, sizeof *cfg->endpoints);
    id_lines = calloc(value->n, sizeof *id_lines);
    if (cfg->endpoints == NULL || id_lines == NULL) {
        free(id_lines);
        gw_cfg_error(w, value->line, "%s: out of memory", path);
        return;
    }
    cfg->n_endpoints = value->n;

    for (size_t i = 0; i < value->n; i++) {
        const struct gw_yaml_node *item = value->items[i];
        struct gw_endpoint_config *ep = &cfg->endpoints[i];
        const struct gw_yaml_node *id;
        char here[GW_CFG_PATH_MAX];

        snprintf(here, sizeof here, "%s[%zu]", path, i);
        ep->line = item->line;
        gw_cfg_defaults(w, gw_cfg_endpoint_keys, ep);
        if (item->kind != GW_YAML_MAPPING) {
            gw_cfg_error(w, item->line, "%s: expected a mapping, got %s", here,
                         gw_yaml_kind_name(item));
            continue;
        }
        walk_entry(w, item, here, ep);
        if (ep->id == NULL)
            continue;
        id = gw_yaml_get(item, "id");
        id_lines[i] = id->line;
        for (size_t j = 0; j < i; j++) {
            if (cfg->endpoints[j].id != NULL && strcmp(cfg->endpoints[j].id, ep->id) == 0) {
                gw_cfg_error(w, id->line, "%s.id: duplicate endpoint id '%s' (first at line %u)",
                             here, ep->id, id_lines[j]);
                break;
            }
        }
    }
    free(id_lines);
}

void gw_cfg_release_endpoints(void *base)
{
    struct gw_config *cfg = base;

    for (size_t i = 0; cfg->endpoints != NULL && i < cfg->n_endpoints; i++) {
        struct gw_endpoint_config *ep = &cfg->endpoints[i];

        /* The provider's keys first: ep->provider is what chose them. */
        if (ep->provider != NULL)
            gw_cfg_release(ep->provider->endpoint_keys, ep);
        gw_cfg_release(gw_cfg_endpoint_keys, ep);
    }
    free(cfg->endpoints);
    cfg->endpoints = NULL;
    cfg->n_endpoints = 0;
}
