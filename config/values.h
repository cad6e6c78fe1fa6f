/* values.h — checking and storing one value of each key type, for the walker. Each
 * function reports its own error (PATH: message) and returns -1, or stores and returns 0. */
#ifndef CTGW_CONFIG_VALUES_H
#define CTGW_CONFIG_VALUES_H

#include "config/walk.h"

/* STRING, SLUG, UINT, PORT, SIZE, DURATION, CHOICE and PROVIDER keys; a ${NAME} value is
 * resolved from the environment first. DST is the field the key's offset names. */
int gw_cfg_set_scalar(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                      const struct gw_yaml_node *value, const char *path, void *dst);

/* SECRET (${NAME} or a private file:PATH) and FILE (file:PATH) keys. */
int gw_cfg_set_secret(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                      const struct gw_yaml_node *value, const char *path, struct gw_secret *dst);

/* SECRET_LIST keys: DST is the struct gw_secret * with its size_t count right after it. */
int gw_cfg_set_secret_list(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                           const struct gw_yaml_node *value, const char *path, void *dst);

/* STRING_LIST keys: DST is the char ** with its size_t count right after it. */
int gw_cfg_set_string_list(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                           const struct gw_yaml_node *value, const char *path, void *dst);

/* STRING_MAP keys: DST is a struct gw_string_map. */
int gw_cfg_set_string_map(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                          const struct gw_yaml_node *value, const char *path, void *dst);

/* Replaces the char * at DST with a copy of TEXT. */
int gw_cfg_store_string(struct gw_cfg_walk *w, unsigned line, const char *path, void *dst,
                        const char *text);

#endif
