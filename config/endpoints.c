/* endpoints.c — the `endpoints:` list: each entry is checked by the generic walker against
 * the common keys plus the keys its provider declares (found through the providers the
 * loader was given), so `provider` is read first; then the provider's setup hook runs. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/sections.h"
#include "config/walk.h"
#include "verifiers/ct_compare.h"

/* The endpoint a setup hook is given, and where its errors point. */
struct gw_cfg_setup {
    struct gw_cfg_walk *w;
    const struct gw_yaml_node *map; /* the entry */
    const char *path;               /* "endpoints[I]" */
};

void gw_cfg_setup_error(struct gw_cfg_setup *s, const char *key, const char *fmt, ...)
{
    const struct gw_yaml_node *value = key != NULL ? gw_yaml_get(s->map, key) : NULL;
    unsigned line = value != NULL ? value->line : s->map->line;
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (key != NULL)
        gw_cfg_error(s->w, line, "%s.%s: %s", s->path, key, msg);
    else
        gw_cfg_error(s->w, line, "%s: %s", s->path, msg);
}

/* Fills OUT for provider P; false, with OUT zeroed, when there is nothing to describe. */
static bool describe(const struct gw_config_providers *providers, const struct gw_provider *p,
                     struct gw_cfg_provider *out)
{
    memset(out, 0, sizeof *out);
    if (p == NULL || providers == NULL || providers->describe == NULL)
        return false;
    providers->describe(p, out);
    return true;
}

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
    /* The common keys, the provider's keys of this struct, those of its own struct. */
    const struct gw_cfg_key *tables[3] = {gw_cfg_endpoint_keys, NULL, NULL};
    void *bases[3] = {ep, ep, NULL};
    const struct gw_yaml_node *pkey = provider_key(map);
    struct gw_cfg_provider info = {0};
    size_t errors_before = w->n_errors + w->dropped;
    unsigned flags = 0;

    if (pkey != NULL) {
        char child[GW_CFG_PATH_MAX + 16];
        const struct gw_yaml_node *pvalue = gw_yaml_get(map, "provider");

        snprintf(child, sizeof child, "%s.provider", path);
        if (gw_cfg_walk_value(w, gw_cfg_key_find(gw_cfg_endpoint_keys, "provider"), pvalue, child,
                              ep) == 0)
            describe(w->providers, ep->provider, &info);
        else
            flags = GW_CFG_WALK_LENIENT;
    } else {
        /* Without a provider the allowed keys are unknown: report the missing provider,
         * check the common keys, and say nothing about the rest. */
        flags = GW_CFG_WALK_LENIENT;
    }
    tables[1] = info.endpoint_keys;
    if (info.config_size > 0) {
        ep->provider_config = calloc(1, info.config_size);
        if (ep->provider_config == NULL) {
            gw_cfg_error(w, map->line, "%s: out of memory", path);
            flags = GW_CFG_WALK_LENIENT;
        } else {
            tables[2] = info.config_keys;
            bases[2] = ep->provider_config;
        }
    }
    gw_cfg_walk_map(w, map, map->line, path, tables, bases, 3, pkey, flags);

    /* A setup hook checks values that each loaded: only an entry without errors has them.
     * ep->max_body may still be 0 here (ingest's is known once the whole file is read). */
    if (info.setup != NULL && w->n_errors + w->dropped == errors_before) {
        struct gw_cfg_setup s = {.w = w, .map = map, .path = path};
        info.setup(ep, &s);
    }
}

/* Whether two credentials are the same bytes (compared in constant time; an empty one is
 * no credential). */
static bool same_credential(const struct gw_secret *a, const struct gw_secret *b)
{
    return a->len > 0 && b->len > 0 && gw_ct_equal(a->data, a->len, b->data, b->len);
}

static bool share_a_credential(const struct gw_endpoint_config *a,
                               const struct gw_endpoint_config *b)
{
    for (size_t x = 0; x < a->n_secrets; x++)
        for (size_t y = 0; y < b->n_secrets; y++)
            if (same_credential(&a->secrets[x], &b->secrets[y]))
                return true;
    return same_credential(&a->password, &b->password) || same_credential(&a->token, &b->token);
}

/* Endpoint I must not share a secret, password or token with an earlier endpoint bound to
 * another company: a request signed for one would be accepted by the other, and its events
 * stored as the other company's. Never names the secret itself. */
static void refuse_shared_secrets(struct gw_cfg_walk *w, const struct gw_config *cfg, size_t i,
                                  const char *here)
{
    const struct gw_endpoint_config *ep = &cfg->endpoints[i];
    if (ep->company == NULL)
        return;
    for (size_t j = 0; j < i; j++) {
        const struct gw_endpoint_config *other = &cfg->endpoints[j];
        if (other->id == NULL || other->company == NULL ||
            strcmp(other->company, ep->company) == 0 || !share_a_credential(ep, other))
            continue;
        gw_cfg_error(w, ep->line,
                     "%s: endpoint '%s' (company %s) shares a secret with endpoint '%s' "
                     "(company %s, line %u): a request signed for one would be accepted by the "
                     "other; give each company its own",
                     here, ep->id, ep->company, other->id, other->company, other->line);
        return;
    }
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
        refuse_shared_secrets(w, cfg, i, here);
    }
    free(id_lines);
}

void gw_cfg_release_endpoints(void *base)
{
    struct gw_config *cfg = base;

    for (size_t i = 0; cfg->endpoints != NULL && i < cfg->n_endpoints; i++) {
        struct gw_endpoint_config *ep = &cfg->endpoints[i];
        struct gw_cfg_provider info;

        /* The provider's keys first: ep->provider is what chose them. */
        if (describe(&cfg->providers, ep->provider, &info)) {
            if (ep->provider_config != NULL)
                gw_cfg_release(info.config_keys, ep->provider_config);
            gw_cfg_release(info.endpoint_keys, ep);
        }
        free(ep->provider_config);
        ep->provider_config = NULL;
        gw_cfg_release(gw_cfg_endpoint_keys, ep);
    }
    free(cfg->endpoints);
    cfg->endpoints = NULL;
    cfg->n_endpoints = 0;
}
