/* walk.h — the one generic walker that checks a YAML mapping against key tables (unknown
 * and duplicate keys, shapes, types, bounds, required keys) and stores what it finds. */
#ifndef CTGW_CONFIG_WALK_H
#define CTGW_CONFIG_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/config_keys.h"
#include "config/yaml_tree.h"

/* Past this many errors the rest are counted, not kept. */
#define GW_CFG_MAX_ERRORS 100
/* Room for a dotted key path such as "endpoints[255].secrets[15]". */
#define GW_CFG_PATH_MAX 160
/* Room for a value quoted by gw_cfg_quote: 64 bytes, each escaped at worst to 4, plus
 * quotes and an ellipsis. */
#define GW_CFG_QUOTED_MAX (64 * 4 + 8)

struct gw_cfg_error {
    unsigned line; /* 0 when the error concerns the whole file */
    char *text;    /* "FILE:LINE: message" */
};

/* The state of one load: where messages point and the errors found so far. */
struct gw_cfg_walk {
    const char *file; /* as given to gw_config_load */
    const char *dir;  /* where relative file: paths start, NULL for the working directory */
    const struct gw_config_providers *providers; /* what `provider:` may name; NULL: nothing */
    struct gw_cfg_error errors[GW_CFG_MAX_ERRORS];
    size_t n_errors;
    size_t dropped;
};

enum {
    /* Do not report unknown keys: used when what is allowed cannot be known, such as the
     * keys of an endpoint whose provider is missing or unknown. */
    GW_CFG_WALK_LENIENT = 1u << 0,
};

/* Records "FILE:LINE: message" (or "FILE: message" when line is 0). */
void gw_cfg_error(struct gw_cfg_walk *w, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Moves the errors found, ordered by line, to the end of errs. */
void gw_cfg_errors_take(struct gw_cfg_walk *w, struct gw_config_errors *errs);

/* Stores the defaults of KEYS (and of their sections) into BASE. */
void gw_cfg_defaults(struct gw_cfg_walk *w, const struct gw_cfg_key *keys, void *base);

/* Checks mapping MAP (path PATH, "" for the top level) against the keys of TABLES (at most
 * three, each terminated by a NULL name; a NULL table has no keys) and stores the values of
 * TABLES[t]'s keys into BASES[t], the struct that table describes. MAP may be NULL for a
 * section that is absent or null: then only missing required keys are reported, at LINE.
 * DONE is a key node of MAP whose value the caller has already handled. */
void gw_cfg_walk_map(struct gw_cfg_walk *w, const struct gw_yaml_node *map, unsigned line,
                     const char *path, const struct gw_cfg_key *const *tables, void *const *bases,
                     size_t n_tables, const struct gw_yaml_node *done, unsigned flags);

/* Checks and stores one value written for KEY. Returns 0, or -1 after reporting an error. */
int gw_cfg_walk_value(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                      const struct gw_yaml_node *value, const char *path, void *base);

/* Frees what the walker stored into BASE for KEYS; the fields are left zeroed. */
void gw_cfg_release(const struct gw_cfg_key *keys, void *base);

/* The entry of KEYS called NAME, or NULL. */
const struct gw_cfg_key *gw_cfg_key_find(const struct gw_cfg_key *keys, const char *name);

/* Writes S in single quotes for a message: at most 64 bytes, anything unprintable escaped. */
void gw_cfg_quote(const char *s, char *buf, size_t len);

#endif
