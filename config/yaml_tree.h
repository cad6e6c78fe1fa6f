/* yaml_tree.h — one YAML document read into a small tree of scalars, sequences and mappings
 * that keeps the line of every node, within hard limits on size and shape. */
#ifndef CTGW_CONFIG_YAML_TREE_H
#define CTGW_CONFIG_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#define GW_YAML_MAX_DEPTH  16
#define GW_YAML_MAX_SCALAR (64u * 1024u)
#define GW_YAML_MAX_NODES  100000u

enum gw_yaml_kind { GW_YAML_SCALAR, GW_YAML_SEQUENCE, GW_YAML_MAPPING };

struct gw_yaml_node {
    enum gw_yaml_kind kind;
    unsigned line; /* 1-based */
    bool plain;    /* a scalar written without quotes (only those can mean null) */
    char *text;    /* scalar: NUL-terminated, never contains a NUL byte itself */
    size_t len;
    /* Sequence: its items. Mapping: keys and values alternating, so n is even. */
    struct gw_yaml_node **items;
    size_t n;
    size_t cap; /* allocated length of items */
};

/* Why parsing stopped: the 1-based line (0 when none applies) and a one-line message. */
struct gw_yaml_error {
    unsigned line;
    char message[256];
};

/* Parses BUF (LEN bytes) as exactly one YAML document. Returns the root, or NULL with
 * *empty set when the stream holds no document, or NULL with *empty clear and err filled
 * on a syntax error, a second document, an alias, or a limit above being passed. */
struct gw_yaml_node *gw_yaml_parse(const char *buf, size_t len, bool *empty,
                                   struct gw_yaml_error *err);

void gw_yaml_free(struct gw_yaml_node *node);

/* True for a plain scalar that YAML reads as null: empty, "~" or "null". */
bool gw_yaml_is_null(const struct gw_yaml_node *node);

/* "a mapping", "a sequence" or "a scalar", for messages. */
const char *gw_yaml_kind_name(const struct gw_yaml_node *node);

/* The value of the first KEY in mapping MAP, or NULL. */
const struct gw_yaml_node *gw_yaml_get(const struct gw_yaml_node *map, const char *key);

#endif
