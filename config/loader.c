/* loader.c — gw_config_load and the small accessors of a loaded config: read the file,
 * parse it, walk it against the key tables, check what spans sections. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/cidr.h"
#include "config/config_keys.h"
#include "config/db_tls.h"
#include "config/mail_check.h"
#include "config/secret_ref.h"
#include "config/sections.h"
#include "config/units.h"
#include "config/walk.h"
#include "config/yaml_tree.h"

#define CONFIG_FILE_MAX (1024u * 1024u)

/* Reads at most CONFIG_FILE_MAX bytes of PATH, which may be a pipe (`-c <(...)`). */
static int read_file(struct gw_cfg_walk *w, const char *path, char **data, size_t *len)
{
    size_t cap = CONFIG_FILE_MAX + 1;
    size_t used = 0;
    char *buf;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        gw_cfg_error(w, 0, "cannot read: %s", strerror(errno));
        return -1;
    }
    buf = malloc(cap);
    if (buf == NULL) {
        gw_cfg_error(w, 0, "cannot read: %s", strerror(ENOMEM));
        close(fd);
        return -1;
    }
    while (used < cap) {
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            gw_cfg_error(w, 0, "cannot read: %s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (used > CONFIG_FILE_MAX) {
        gw_cfg_error(w, 0, "file is larger than 1MiB");
        free(buf);
        return -1;
    }
    *data = buf;
    *len = used;
    return 0;
}

/* The directory relative file: paths start from, or NULL when PATH has none. */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return NULL;
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* The line of the value at KEYS (a NULL-terminated path of mapping keys), or 0. */
static unsigned line_of(const struct gw_yaml_node *root, const char *const *keys)
{
    const struct gw_yaml_node *node = root;

    for (size_t i = 0; keys[i] != NULL && node != NULL; i++)
        node = gw_yaml_get(node, keys[i]);
    return node != NULL ? node->line : 0;
}

static bool wildcard(const char *address)
{
    return strcmp(address, "0.0.0.0") == 0 || strcmp(address, "::") == 0 ||
           strcmp(address, "[::]") == 0;
}

/* Checks that involve more than one key, once every key has been read. */
static void check_across(struct gw_cfg_walk *w, const struct gw_yaml_node *root,
                         struct gw_config *cfg)
{
    const struct gw_workers_config *wk = &cfg->workers;

    if (wk->backoff_max_ms < wk->backoff_base_ms) {
        static const char *const max_path[] = {"workers", "backoff", "max", NULL};
        static const char *const base_path[] = {"workers", "backoff", "base", NULL};
        unsigned line = line_of(root, max_path);
        char base[32];
        char max[32];

        gw_format_duration_ms(wk->backoff_base_ms, base, sizeof base);
        gw_format_duration_ms(wk->backoff_max_ms, max, sizeof max);
        if (line == 0)
            line = line_of(root, base_path);
        gw_cfg_error(w, line,
                     "workers.backoff.max: must be at least workers.backoff.base (%s), got %s",
                     base, max);
    }

    if (cfg->listen.port != 0 && cfg->listen.port == cfg->admin.port &&
        cfg->listen.address != NULL && cfg->admin.address != NULL &&
        (strcmp(cfg->listen.address, cfg->admin.address) == 0 || wildcard(cfg->listen.address) ||
         wildcard(cfg->admin.address))) {
        static const char *const admin_port[] = {"admin", "port", NULL};
        gw_cfg_error(w, line_of(root, admin_port),
                     "admin.port: %u is also listen.port on an overlapping address",
                     (unsigned)cfg->admin.port);
    }

    gw_cfg_check_mail(w, root, cfg);
    gw_cfg_check_db_tls(w, root, cfg);

    for (size_t i = 0; i < cfg->listen.n_trusted_proxies; i++) {
        struct gw_cidr net;
        if (!gw_cidr_parse(cfg->listen.trusted_proxies[i], &net)) {
            static const char *const proxies[] = {"listen", "trusted_proxies", NULL};
            gw_cfg_error(w, line_of(root, proxies),
                         "listen.trusted_proxies[%zu]: '%s' is not an address or a network "
                         "(10.0.0.0/8, 2001:db8::/32)",
                         i, cfg->listen.trusted_proxies[i]);
        }
    }

    for (size_t i = 0; i < cfg->n_endpoints; i++) {
        struct gw_endpoint_config *ep = &cfg->endpoints[i];
        struct gw_cfg_provider info = {0};
        if (ep->max_body != 0)
            continue;
        if (ep->provider != NULL && cfg->providers.describe != NULL)
            cfg->providers.describe(ep->provider, &info);
        ep->max_body = info.mail_body ? cfg->mail.max_message : cfg->ingest.max_body;
    }
}

static void walk_document(struct gw_cfg_walk *w, const char *buf, size_t len, struct gw_config *cfg)
{
    const struct gw_cfg_key *tables[1] = {gw_cfg_top_keys};
    void *bases[1] = {cfg};
    struct gw_yaml_error yerr;
    struct gw_yaml_node *root;
    bool empty;

    root = gw_yaml_parse(buf, len, &empty, &yerr);
    if (root == NULL && !empty) {
        gw_cfg_error(w, yerr.line, "%s", yerr.message);
        return;
    }
    gw_cfg_defaults(w, gw_cfg_top_keys, cfg);
    if (root == NULL || gw_yaml_is_null(root)) {
        /* An empty file is a file with no keys: the missing sections say what to add. */
        gw_cfg_walk_map(w, NULL, root != NULL ? root->line : 1, "", tables, bases, 1, NULL, 0);
    } else if (root->kind != GW_YAML_MAPPING) {
        gw_cfg_error(w, root->line, "expected a mapping at top level, got %s",
                     gw_yaml_kind_name(root));
    } else {
        gw_cfg_walk_map(w, root, root->line, "", tables, bases, 1, NULL, 0);
        check_across(w, root, cfg);
    }
    gw_yaml_free(root);
}

struct gw_config *gw_config_load(const char *path, const struct gw_config_providers *providers,
                                 struct gw_config_errors *errs)
{
    struct gw_config_errors ignored = {0};
    struct gw_cfg_walk w = {.file = path != NULL ? path : "(null)", .providers = providers};
    struct gw_config *cfg = calloc(1, sizeof *cfg);
    char *buf = NULL;
    char *dir = NULL;
    size_t len = 0;
    bool failed;

    if (errs == NULL)
        errs = &ignored;
    /* Before anything is stored: destroy frees what the providers' keys described. */
    if (cfg != NULL && providers != NULL)
        cfg->providers = *providers;
    if (cfg == NULL || (cfg->path = strdup(w.file)) == NULL) {
        gw_cfg_error(&w, 0, "out of memory");
    } else if (path == NULL) {
        gw_cfg_error(&w, 0, "no configuration file given");
    } else {
        dir = directory_of(path);
        w.dir = dir;
        if (dir == NULL && strchr(path, '/') != NULL)
            gw_cfg_error(&w, 0, "out of memory");
        else if (read_file(&w, path, &buf, &len) == 0)
            walk_document(&w, buf, len, cfg);
    }
    free(buf);
    free(dir);

    failed = w.n_errors > 0 || w.dropped > 0;
    gw_cfg_errors_take(&w, errs);
    gw_config_errors_finish(&ignored);
    if (failed) {
        gw_config_destroy(cfg);
        return NULL;
    }
    return cfg;
}

void gw_config_destroy(struct gw_config *cfg)
{
    if (cfg == NULL)
        return;
    gw_cfg_release(gw_cfg_top_keys, cfg);
    free(cfg->path);
    free(cfg);
}

const struct gw_endpoint_config *gw_config_endpoint(const struct gw_config *cfg, const char *id)
{
    if (cfg == NULL || id == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_endpoints; i++)
        if (cfg->endpoints[i].id != NULL && strcmp(cfg->endpoints[i].id, id) == 0)
            return &cfg->endpoints[i];
    return NULL;
}

/* The secrets KEYS stored into BASE, a provider's own struct. */
static void each_key_secret(const struct gw_cfg_key *keys, const void *base,
                            void (*fn)(const struct gw_secret *secret, void *ud), void *ud)
{
    for (size_t i = 0; keys != NULL && keys[i].name != NULL; i++) {
        const void *dst = (const char *)base + keys[i].offset;

        switch (keys[i].type) {
        case GW_CFG_SECRET:
        case GW_CFG_KEY32: {
            const struct gw_secret *s = dst;
            if (s->data != NULL)
                fn(s, ud);
            break;
        }
        case GW_CFG_SECRET_LIST:
        case GW_CFG_KEY32_LIST: {
            const struct gw_secret *const *list = dst;
            const size_t *count = (const void *)((const char *)dst + sizeof(struct gw_secret *));
            for (size_t j = 0; *list != NULL && j < *count; j++)
                fn(&(*list)[j], ud);
            break;
        }
        default:
            break;
        }
    }
}

void gw_config_each_secret(const struct gw_config *cfg,
                           void (*fn)(const struct gw_secret *secret, void *ud), void *ud)
{
    if (cfg == NULL || fn == NULL)
        return;
    if (cfg->admin.token.data != NULL)
        fn(&cfg->admin.token, ud);
    if (cfg->database.password.data != NULL)
        fn(&cfg->database.password, ud);
    if (cfg->listen.tls.enabled && cfg->listen.tls.key.data != NULL)
        fn(&cfg->listen.tls.key, ud);
    if (cfg->secrets_key.data != NULL)
        fn(&cfg->secrets_key, ud);
    for (size_t i = 0; i < cfg->n_previous_secrets_keys; i++)
        fn(&cfg->previous_secrets_keys[i], ud);
    if (cfg->mail.thread_key.data != NULL)
        fn(&cfg->mail.thread_key, ud);
    for (size_t i = 0; i < cfg->n_endpoints; i++) {
        const struct gw_endpoint_config *ep = &cfg->endpoints[i];
        for (size_t j = 0; j < ep->n_secrets; j++)
            fn(&ep->secrets[j], ud);
        /* Every other secret an endpoint can hold. */
        const struct gw_secret *more[] = {&ep->password, &ep->token};
        for (size_t j = 0; j < sizeof(more) / sizeof(more[0]); j++)
            if (more[j]->data != NULL)
                fn(more[j], ud);
        if (ep->provider_config != NULL && ep->provider != NULL &&
            cfg->providers.describe != NULL) {
            struct gw_cfg_provider info = {0};
            cfg->providers.describe(ep->provider, &info);
            each_key_secret(info.config_keys, ep->provider_config, fn, ud);
        }
    }
}

/* "host:port", with brackets around an IPv6 address. */
static void host_port(const char *host, unsigned port, char *buf, size_t len)
{
    if (strchr(host, ':') != NULL && host[0] != '[')
        snprintf(buf, len, "[%s]:%u", host, port);
    else
        snprintf(buf, len, "%s:%u", host, port);
}

void gw_config_summary(const struct gw_config *cfg, char *buf, size_t len)
{
    char listen[300];
    char admin[300];
    char db[300];

    if (len == 0)
        return;
    if (cfg == NULL) {
        snprintf(buf, len, "no configuration");
        return;
    }
    host_port(cfg->listen.address, cfg->listen.port, listen, sizeof listen);
    host_port(cfg->admin.address, cfg->admin.port, admin, sizeof admin);
    if (cfg->database.socket != NULL)
        snprintf(db, sizeof db, "%s", cfg->database.socket);
    else
        host_port(cfg->database.host, cfg->database.port, db, sizeof db);
    if (cfg->database.tls.enabled) {
        size_t used = strlen(db);
        snprintf(db + used, sizeof db - used, " (tls%s)",
                 cfg->database.tls.verify ? ", verified" : ", NOT verified");
    }
    snprintf(buf, len, "ok: %zu endpoint%s, listen %s (%s), admin %s, database %s via %s",
             cfg->n_endpoints, cfg->n_endpoints == 1 ? "" : "s", listen,
             !cfg->listen.tls.enabled            ? "no tls"
             : cfg->listen.tls.min_version == 13 ? "tls 1.3+"
                                                 : "tls 1.2+",
             admin, cfg->database.name, db);
}

const char *gw_string_map_get(const struct gw_string_map *map, const char *key)
{
    for (size_t i = 0; map != NULL && key != NULL && i < map->n; i++)
        if (strcmp(map->items[i].key, key) == 0)
            return map->items[i].value;
    return NULL;
}
