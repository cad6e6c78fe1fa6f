/* config_keys.h — declarative tables of configuration keys (name, type, where the value
 * goes, bounds). The loader walks these tables; providers declare their endpoint keys
 * with the same type so that every key is validated in one place, and report what only
 * their setup hook can check through gw_cfg_setup_error. */
#ifndef CTGW_CONFIG_KEYS_H
#define CTGW_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

enum gw_cfg_type {
    GW_CFG_STRING,      /* char *; literal or ${NAME}; length within [min, max] */
    GW_CFG_SECRET,      /* struct gw_secret; only ${NAME} or file:PATH; at least `min` bytes */
    GW_CFG_SECRET_LIST, /* struct gw_secret * + size_t count right after it in the struct */
    GW_CFG_UINT,        /* uint32_t within [min, max] */
    GW_CFG_PORT,        /* uint16_t 1..65535 */
    GW_CFG_SIZE,        /* uint64_t bytes: 512, 512KiB, 1MiB, 1GiB */
    GW_CFG_DURATION,    /* uint64_t milliseconds: 250ms, 2s, 5m, 1h */
    GW_CFG_SLUG,        /* char *; [a-z0-9][a-z0-9_-]{0,63} */
    GW_CFG_FILE,        /* struct gw_secret; only file:PATH, any permissions (certificates) */
    GW_CFG_CHOICE,      /* int or an enum; one of the words in `choices` */
    GW_CFG_PROVIDER,    /* const struct gw_provider *; a name the loader's providers know */
    GW_CFG_SECTION,     /* a nested mapping described by `section`, stored at offset */
    GW_CFG_CUSTOM,      /* a value the `walk` hook checks and stores, `destroy` frees */
    GW_CFG_STRING_LIST, /* char ** + size_t count right after it; items are strings of length
                           1..def (0: 1024); min/max bound the number of items */
    GW_CFG_STRING_MAP,  /* struct gw_string_map; keys are slugs, values strings of length
                           1..200; min/max bound the number of entries */
    GW_CFG_KEY32,       /* struct gw_secret, as written; a SECRET that must decode to 32 bytes:
                           64 hex digits or base64 of 32 bytes (whitespace around ignored), or
                           32 raw bytes not all printable */
    GW_CFG_KEY32_LIST,  /* SECRET_LIST of KEY32 items */
};

enum {
    GW_CFG_REQUIRED = 1u << 0,
    GW_CFG_MARK_PRESENT = 1u << 1, /* SECTION: set the bool at `present` when written */
};

/* One word a GW_CFG_CHOICE key accepts, and the value stored for it. */
struct gw_cfg_choice {
    const char *name;
    int value;
};

struct gw_cfg_walk;
struct gw_yaml_node;

struct gw_cfg_key {
    const char *name;
    enum gw_cfg_type type;
    size_t offset; /* offsetof into the struct the table describes */
    uint64_t min;  /* bounds for UINT, SIZE, DURATION, and list length for SECRET_LIST */
    uint64_t max;  /* 0 means no upper bound */
    unsigned flags;
    /* Value when the key is absent: `def` for UINT, PORT, SIZE, DURATION and CHOICE,
     * `def_str` (copied) for STRING. Keys without one start zeroed. */
    uint64_t def;
    const char *def_str;
    const struct gw_cfg_choice *choices; /* CHOICE: terminated by a NULL name */
    const struct gw_cfg_key *section;    /* SECTION: its keys, terminated by a NULL name */
    size_t present;                      /* SECTION + MARK_PRESENT: offsetof a bool */
    /* CUSTOM: checks VALUE (the node written for the key, path PATH) and stores what it
     * finds into BASE, the struct the table describes; destroy frees it again. */
    void (*walk)(struct gw_cfg_walk *w, const struct gw_yaml_node *value, const char *path,
                 void *base);
    void (*destroy)(void *base);
};

/* The loader's side of a provider's setup hook (struct gw_cfg_provider, config/config.h). */
struct gw_cfg_setup;

/* Reports "FILE:LINE: endpoints[I].KEY: message" for the endpoint being set up, LINE being
 * where KEY's value is written (the entry's line, and no ".KEY", when KEY is NULL or not
 * written). The config then fails to load. */
void gw_cfg_setup_error(struct gw_cfg_setup *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
