/* db_tls.c — the `database.tls` checks the key tables cannot express (see db_tls.h). */
#include "config/db_tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_keys.h"
#include "config/secret_ref.h"
#include "config/values.h"

#define FILE_PREFIX "file:"
#define PEM_CERT    "-----BEGIN CERTIFICATE-----"

void gw_cfg_release_db_tls_ca(void *base)
{
    struct gw_database_tls_config *tls = base;

    gw_secret_wipe(&tls->ca);
    free(tls->ca_path);
    tls->ca_path = NULL;
}

void gw_cfg_walk_db_tls_ca(struct gw_cfg_walk *w, const struct gw_yaml_node *value,
                           const char *path, void *base)
{
    static const struct gw_cfg_key as_file = {.name = "ca", .type = GW_CFG_FILE};
    struct gw_database_tls_config *tls = base;
    char joined[PATH_MAX];

    /* Reads it now, with the loader's checks and messages (missing, unreadable, empty). */
    if (gw_cfg_set_secret(w, &as_file, value, path, &tls->ca) < 0)
        return;
    if (memmem(tls->ca.data, tls->ca.len, PEM_CERT, strlen(PEM_CERT)) == NULL) {
        gw_cfg_error(w, value->line, "%s: the file holds no PEM certificate (%s)", path, PEM_CERT);
        gw_cfg_release_db_tls_ca(tls);
        return;
    }
    /* The same path gw_secret_ref_load opened, made absolute: the connector opens it at
     * every connect, whatever the working directory is by then. */
    const char *given = value->text + strlen(FILE_PREFIX);
    int n = given[0] == '/' || w->dir == NULL || w->dir[0] == '\0'
                ? snprintf(joined, sizeof joined, "%s", given)
                : snprintf(joined, sizeof joined, "%s/%s", w->dir, given);
    free(tls->ca_path);
    errno = 0;
    tls->ca_path = n >= 0 && (size_t)n < sizeof joined ? realpath(joined, NULL) : NULL;
    if (tls->ca_path == NULL) {
        gw_cfg_error(w, value->line, "%s: cannot resolve the file's path: %s", path,
                     strerror(errno != 0 ? errno : ENAMETOOLONG));
        gw_cfg_release_db_tls_ca(tls);
    }
}

void gw_cfg_check_db_tls(struct gw_cfg_walk *w, const struct gw_yaml_node *root,
                         const struct gw_config *cfg)
{
    const struct gw_database_tls_config *tls = &cfg->database.tls;
    const struct gw_yaml_node *db = gw_yaml_get(root, "database");
    const struct gw_yaml_node *node = db != NULL ? gw_yaml_get(db, "tls") : NULL;

    if (!tls->enabled || node == NULL)
        return;
    /* A ca that was written but failed to load has been reported already. */
    if (tls->verify && tls->ca.data == NULL && gw_yaml_get(node, "ca") == NULL)
        gw_cfg_error(w, node->line,
                     "database.tls.ca: required when database.tls.verify is true: the CA "
                     "certificate(s) the server's certificate must chain to, as file:PATH");
    if (cfg->database.socket != NULL) {
        const struct gw_yaml_node *sock = gw_yaml_get(db, "socket");
        gw_cfg_error(w, sock != NULL ? sock->line : node->line,
                     "database.socket: TLS is for the TCP connection (host and port); remove "
                     "database.socket, or database.tls");
    }
}
