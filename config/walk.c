/* walk.c — the one generic walker: every key of every section is checked here, from the
 * tables in sections.c and the providers' endpoint and config keys, nginx-style. */
#include "config/walk.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/secret_ref.h"
#include "config/values.h"

#define MAX_TABLES     3
#define MAX_TABLE_KEYS 32

static void *field(void *base, size_t offset)
{
    return (char *)base + offset;
}

static void join(char *out, const char *path, const char *name)
{
    if (path[0] == '\0')
        snprintf(out, GW_CFG_PATH_MAX, "%s", name);
    else
        snprintf(out, GW_CFG_PATH_MAX, "%s.%s", path, name);
}

/* "in listen" or "at top level", for messages about a key of the mapping at PATH. */
static void where(char *out, size_t len, const char *path)
{
    if (path[0] == '\0')
        snprintf(out, len, "at top level");
    else
        snprintf(out, len, "in %s", path);
}

const struct gw_cfg_key *gw_cfg_key_find(const struct gw_cfg_key *keys, const char *name)
{
    for (size_t i = 0; keys != NULL && keys[i].name != NULL; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static int set_section(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                       const struct gw_yaml_node *value, const char *path, void *base)
{
    const struct gw_cfg_key *tables[1] = {key->section};
    void *bases[1] = {field(base, key->offset)};
    const struct gw_yaml_node *map = value;

    if (gw_yaml_is_null(value)) {
        map = NULL;
    } else if (value->kind != GW_YAML_MAPPING) {
        gw_cfg_error(w, value->line, "%s: expected a mapping, got %s", path,
                     gw_yaml_kind_name(value));
        return -1;
    }
    if (key->flags & GW_CFG_MARK_PRESENT) {
        bool *present = field(base, key->present);
        *present = true;
    }
    gw_cfg_walk_map(w, map, value->line, path, tables, bases, 1, NULL, 0);
    return 0;
}

int gw_cfg_walk_value(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                      const struct gw_yaml_node *value, const char *path, void *base)
{
    void *dst = field(base, key->offset);

    switch (key->type) {
    case GW_CFG_SECTION:
        return set_section(w, key, value, path, base);
    case GW_CFG_CUSTOM:
        key->walk(w, value, path, base);
        return 0;
    case GW_CFG_SECRET:
    case GW_CFG_FILE:
    case GW_CFG_KEY32:
        return gw_cfg_set_secret(w, key, value, path, dst);
    case GW_CFG_SECRET_LIST:
    case GW_CFG_KEY32_LIST:
        return gw_cfg_set_secret_list(w, key, value, path, dst);
    case GW_CFG_STRING_MAP:
        return gw_cfg_set_string_map(w, key, value, path, dst);
    case GW_CFG_STRING_LIST:
        return gw_cfg_set_string_list(w, key, value, path, dst);
    case GW_CFG_STRING:
    case GW_CFG_SLUG:
    case GW_CFG_UINT:
    case GW_CFG_PORT:
    case GW_CFG_SIZE:
    case GW_CFG_DURATION:
    case GW_CFG_CHOICE:
    case GW_CFG_PROVIDER:
        break;
    }
    return gw_cfg_set_scalar(w, key, value, path, dst);
}

/* Finds NAME in TABLES: sets *t to the table and *j to the entry, or returns -1. Only the
 * first MAX_TABLE_KEYS entries of a table are looked at, so that seen[][] below is never
 * overrun; every table in the tree is far shorter. */
static int lookup(const struct gw_cfg_key *const *tables, size_t n_tables, const char *name,
                  size_t *t, size_t *j)
{
    for (*t = 0; *t < n_tables; (*t)++)
        for (*j = 0; tables[*t] != NULL && tables[*t][*j].name != NULL && *j < MAX_TABLE_KEYS;
             (*j)++)
            if (strcmp(tables[*t][*j].name, name) == 0)
                return 0;
    return -1;
}

void gw_cfg_walk_map(struct gw_cfg_walk *w, const struct gw_yaml_node *map, unsigned line,
                     const char *path, const struct gw_cfg_key *const *tables, void *const *bases,
                     size_t n_tables, const struct gw_yaml_node *done, unsigned flags)
{
    /* The line where each known key was first written, 0 while it has not been. */
    unsigned seen[MAX_TABLES][MAX_TABLE_KEYS] = {{0}};
    char in[GW_CFG_PATH_MAX + 8];

    if (n_tables > MAX_TABLES)
        n_tables = MAX_TABLES;
    where(in, sizeof in, path);
    for (size_t i = 0; map != NULL && i + 1 < map->n; i += 2) {
        const struct gw_yaml_node *k = map->items[i];
        const struct gw_yaml_node *v = map->items[i + 1];
        char child[GW_CFG_PATH_MAX];
        char name[GW_CFG_QUOTED_MAX];
        size_t t;
        size_t j;

        if (k->kind != GW_YAML_SCALAR) {
            gw_cfg_error(w, k->line, "expected a key %s, got %s", in, gw_yaml_kind_name(k));
            continue;
        }
        gw_cfg_quote(k->text, name, sizeof name);
        if (lookup(tables, n_tables, k->text, &t, &j) < 0) {
            if (!(flags & GW_CFG_WALK_LENIENT))
                gw_cfg_error(w, k->line, "unknown key %s %s", name, in);
            continue;
        }
        if (seen[t][j] != 0) {
            gw_cfg_error(w, k->line, "duplicate key %s %s (first at line %u)", name, in,
                         seen[t][j]);
            continue;
        }
        seen[t][j] = k->line;
        if (k == done)
            continue;
        join(child, path, tables[t][j].name);
        gw_cfg_walk_value(w, &tables[t][j], v, child, bases[t]);
    }

    for (size_t t = 0; t < n_tables; t++) {
        for (size_t j = 0; tables[t] != NULL && tables[t][j].name != NULL && j < MAX_TABLE_KEYS;
             j++) {
            const struct gw_cfg_key *key = &tables[t][j];

            if (!(key->flags & GW_CFG_REQUIRED) || seen[t][j] != 0)
                continue;
            if (path[0] == '\0')
                gw_cfg_error(w, map != NULL ? map->line : line, "missing required %s '%s'",
                             key->type == GW_CFG_SECTION ? "section" : "key", key->name);
            else
                gw_cfg_error(w, map != NULL ? map->line : line, "%s: missing required key '%s'",
                             path, key->name);
        }
    }
}

void gw_cfg_defaults(struct gw_cfg_walk *w, const struct gw_cfg_key *keys, void *base)
{
    for (size_t i = 0; keys != NULL && keys[i].name != NULL; i++) {
        const struct gw_cfg_key *key = &keys[i];
        void *dst = field(base, key->offset);

        switch (key->type) {
        case GW_CFG_STRING:
            if (key->def_str != NULL)
                gw_cfg_store_string(w, 0, key->name, dst, key->def_str);
            break;
        case GW_CFG_UINT: {
            uint32_t *p = dst;
            *p = (uint32_t)key->def;
            break;
        }
        case GW_CFG_PORT: {
            uint16_t *p = dst;
            *p = (uint16_t)key->def;
            break;
        }
        case GW_CFG_SIZE:
        case GW_CFG_DURATION: {
            uint64_t *p = dst;
            *p = key->def;
            break;
        }
        case GW_CFG_CHOICE: {
            int *p = dst;
            *p = (int)key->def;
            break;
        }
        case GW_CFG_SECTION:
            gw_cfg_defaults(w, key->section, dst);
            break;
        case GW_CFG_SECRET:
        case GW_CFG_SECRET_LIST:
        case GW_CFG_KEY32:
        case GW_CFG_KEY32_LIST:
        case GW_CFG_SLUG:
        case GW_CFG_FILE:
        case GW_CFG_PROVIDER:
        case GW_CFG_CUSTOM:
        case GW_CFG_STRING_MAP:
        case GW_CFG_STRING_LIST:
            break;
        }
    }
}

void gw_cfg_release(const struct gw_cfg_key *keys, void *base)
{
    for (size_t i = 0; keys != NULL && keys[i].name != NULL; i++) {
        const struct gw_cfg_key *key = &keys[i];
        void *dst = field(base, key->offset);

        switch (key->type) {
        case GW_CFG_STRING:
        case GW_CFG_SLUG: {
            char **p = dst;
            free(*p);
            *p = NULL;
            break;
        }
        case GW_CFG_SECRET:
        case GW_CFG_FILE:
        case GW_CFG_KEY32:
            gw_secret_wipe(dst);
            break;
        case GW_CFG_SECRET_LIST:
        case GW_CFG_KEY32_LIST: {
            struct gw_secret **list = dst;
            size_t *count = field(dst, sizeof(struct gw_secret *));
            for (size_t j = 0; *list != NULL && j < *count; j++)
                gw_secret_wipe(&(*list)[j]);
            free(*list);
            *list = NULL;
            *count = 0;
            break;
        }
        case GW_CFG_SECTION:
            gw_cfg_release(key->section, dst);
            break;
        case GW_CFG_STRING_LIST: {
            char ***list = dst;
            size_t *count = field(dst, sizeof(char **));
            for (size_t j = 0; *list != NULL && j < *count; j++)
                free((*list)[j]);
            free(*list);
            *list = NULL;
            *count = 0;
            break;
        }
        case GW_CFG_STRING_MAP: {
            struct gw_string_map *m = dst;
            for (size_t j = 0; j < m->n; j++) {
                free(m->items[j].key);
                free(m->items[j].value);
            }
            free(m->items);
            m->items = NULL;
            m->n = 0;
            break;
        }
        case GW_CFG_CUSTOM:
            if (key->destroy != NULL)
                key->destroy(base);
            break;
        case GW_CFG_UINT:
        case GW_CFG_PORT:
        case GW_CFG_SIZE:
        case GW_CFG_DURATION:
        case GW_CFG_CHOICE:
        case GW_CFG_PROVIDER:
            break;
        }
    }
}
