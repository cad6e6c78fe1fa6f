/* db_tls.h — what the key tables cannot say about `database.tls`: the CA file is read and
 * checked at load but also kept by path (the MariaDB connector opens it itself), it is
 * required when the server is verified, and TLS needs the TCP connection, not the socket. */
#ifndef CTGW_CONFIG_DB_TLS_H
#define CTGW_CONFIG_DB_TLS_H

#include "config/config.h"
#include "config/walk.h"
#include "config/yaml_tree.h"

/* The CUSTOM walk of `database.tls.ca`: a file:PATH holding at least one PEM certificate.
 * BASE is the struct gw_database_tls_config. */
void gw_cfg_walk_db_tls_ca(struct gw_cfg_walk *w, const struct gw_yaml_node *value,
                           const char *path, void *base);
void gw_cfg_release_db_tls_ca(void *base);

/* Reports what is wrong across the keys of CFG->database.tls; ROOT is the document. */
void gw_cfg_check_db_tls(struct gw_cfg_walk *w, const struct gw_yaml_node *root,
                         const struct gw_config *cfg);

#endif
