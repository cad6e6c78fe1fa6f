/* values.c — checks and stores one value of each key type: scalars (with ${NAME}
 * resolved), secrets and 32-byte keys, and lists of them; every message says what was
 * expected. */
#include "config/values.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/key32.h"
#include "config/secret_ref.h"
#include "config/units.h"

static void *field(void *base, size_t offset)
{
    return (char *)base + offset;
}

static uint64_t upper(const struct gw_cfg_key *key, uint64_t limit)
{
    return key->max == 0 || key->max > limit ? limit : key->max;
}

static void choice_list(const struct gw_cfg_key *key, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; key->choices[i].name != NULL && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", key->choices[i].name);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

/* What a value for KEY looks like, completing "expected ...". */
static void describe(const struct gw_cfg_key *key, char *buf, size_t len)
{
    char list[256];

    switch (key->type) {
    case GW_CFG_STRING:
        snprintf(buf, len, "a string");
        return;
    case GW_CFG_SLUG:
        snprintf(buf, len, "a slug matching [a-z0-9][a-z0-9_-]{0,63}");
        return;
    case GW_CFG_UINT:
        snprintf(buf, len, "an integer from %llu to %llu", (unsigned long long)key->min,
                 (unsigned long long)upper(key, UINT32_MAX));
        return;
    case GW_CFG_PORT:
        snprintf(buf, len, "an integer from 1 to 65535");
        return;
    case GW_CFG_SIZE:
        snprintf(buf, len, "a size such as 512KiB or 1MiB");
        return;
    case GW_CFG_DURATION:
        snprintf(buf, len, "a duration such as 250ms, 2s, 5m or 1h");
        return;
    case GW_CFG_CHOICE:
        choice_list(key, list, sizeof list);
        snprintf(buf, len, "one of %s", list);
        return;
    case GW_CFG_PROVIDER:
        snprintf(buf, len, "a provider name");
        return;
    case GW_CFG_SECRET:
    case GW_CFG_KEY32:
        snprintf(buf, len, "${NAME} or file:PATH");
        return;
    case GW_CFG_FILE:
        snprintf(buf, len, "file:PATH");
        return;
    case GW_CFG_SECTION:
        snprintf(buf, len, "a mapping");
        return;
    case GW_CFG_STRING_MAP:
        snprintf(buf, len, "a mapping of names to strings");
        return;
    case GW_CFG_STRING_LIST:
        snprintf(buf, len, "a sequence of strings");
        return;
    case GW_CFG_SECRET_LIST:
    case GW_CFG_KEY32_LIST:
    case GW_CFG_CUSTOM:
        break;
    }
    snprintf(buf, len, "a sequence");
}

static void wrong_kind(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                       const struct gw_yaml_node *value, const char *path)
{
    char want[320];

    describe(key, want, sizeof want);
    gw_cfg_error(w, value->line, "%s: expected %s, got %s", path, want, gw_yaml_kind_name(value));
}

/* A scalar as written, and as used once a ${NAME} reference in it is resolved. */
struct scalar {
    const char *text;
    const char *ref; /* the reference it came from, or NULL */
};

static int resolve(struct gw_cfg_walk *w, const struct gw_yaml_node *value, const char *path,
                   struct scalar *out)
{
    char err[256];

    out->text = value->text;
    out->ref = NULL;
    if (!gw_secret_ref_is_env(value->text))
        return 0;
    if (gw_secret_ref_getenv(value->text, &out->text, err, sizeof err) < 0) {
        gw_cfg_error(w, value->line, "%s: %s", path, err);
        return -1;
    }
    out->ref = value->text;
    return 0;
}

/* "expected WANT, got 'VALUE'", naming the reference the value came from. */
static int bad_value(struct gw_cfg_walk *w, unsigned line, const char *path, const char *want,
                     const struct scalar *v)
{
    char got[GW_CFG_QUOTED_MAX];

    gw_cfg_quote(v->text, got, sizeof got);
    if (v->ref != NULL)
        gw_cfg_error(w, line, "%s: expected %s, got %s (from %s)", path, want, got, v->ref);
    else
        gw_cfg_error(w, line, "%s: expected %s, got %s", path, want, got);
    return -1;
}

static int parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static bool is_slug(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (n > 0 && (c == '-' || c == '_'));
        if (!ok || n >= 64)
            return false;
    }
    return n > 0;
}

int gw_cfg_store_string(struct gw_cfg_walk *w, unsigned line, const char *path, void *dst,
                        const char *text)
{
    char *copy = strdup(text);
    char **slot = dst;

    if (copy == NULL) {
        gw_cfg_error(w, line, "%s: out of memory", path);
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static int set_string(struct gw_cfg_walk *w, const struct gw_cfg_key *key, unsigned line,
                      const char *path, void *dst, const struct scalar *v)
{
    size_t len = strlen(v->text);
    uint64_t max = upper(key, GW_YAML_MAX_SCALAR);

    if (len == 0 || len < key->min) {
        gw_cfg_error(w, line, "%s: must not be empty", path);
        return -1;
    }
    if (len > max) {
        gw_cfg_error(w, line, "%s: longer than %llu characters", path, (unsigned long long)max);
        return -1;
    }
    for (const char *p = v->text; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            gw_cfg_error(w, line, "%s: must not contain control characters", path);
            return -1;
        }
    }
    return gw_cfg_store_string(w, line, path, dst, v->text);
}

static int set_number(struct gw_cfg_walk *w, const struct gw_cfg_key *key, unsigned line,
                      const char *path, void *dst, const struct scalar *v)
{
    char want[160];
    char lo[32];
    char hi[32];
    uint64_t n;
    uint64_t max;
    int parsed;

    switch (key->type) {
    case GW_CFG_SIZE:
        parsed = gw_parse_size(v->text, &n);
        max = upper(key, UINT64_MAX);
        gw_format_size(key->min, lo, sizeof lo);
        gw_format_size(max, hi, sizeof hi);
        if (parsed < 0)
            return bad_value(w, line, path, "a size such as 512KiB or 1MiB", v);
        if (key->max == 0)
            snprintf(want, sizeof want, "a size of at least %s", lo);
        else
            snprintf(want, sizeof want, "a size from %s to %s", lo, hi);
        break;
    case GW_CFG_DURATION:
        parsed = gw_parse_duration_ms(v->text, &n);
        max = upper(key, UINT64_MAX);
        gw_format_duration_ms(key->min, lo, sizeof lo);
        gw_format_duration_ms(max, hi, sizeof hi);
        if (parsed < 0)
            return bad_value(w, line, path, "a duration such as 250ms, 2s, 5m or 1h", v);
        if (key->max == 0)
            snprintf(want, sizeof want, "a duration of at least %s", lo);
        else
            snprintf(want, sizeof want, "a duration from %s to %s", lo, hi);
        break;
    default:
        parsed = parse_uint(v->text, &n);
        max = upper(key, key->type == GW_CFG_PORT ? UINT16_MAX : UINT32_MAX);
        describe(key, want, sizeof want);
        if (parsed < 0)
            return bad_value(w, line, path, want, v);
        break;
    }
    /* Port 0 would mean "any free port": never what a config means. */
    if (n < key->min || n > max || (key->type == GW_CFG_PORT && n == 0))
        return bad_value(w, line, path, want, v);

    switch (key->type) {
    case GW_CFG_PORT: {
        uint16_t *p = dst;
        *p = (uint16_t)n;
        break;
    }
    case GW_CFG_UINT: {
        uint32_t *p = dst;
        *p = (uint32_t)n;
        break;
    }
    default: {
        uint64_t *p = dst;
        *p = n;
        break;
    }
    }
    return 0;
}

static int set_choice(struct gw_cfg_walk *w, const struct gw_cfg_key *key, unsigned line,
                      const char *path, void *dst, const struct scalar *v)
{
    char want[320];
    int *p = dst;

    for (size_t i = 0; key->choices[i].name != NULL; i++) {
        if (strcmp(key->choices[i].name, v->text) == 0) {
            *p = key->choices[i].value;
            return 0;
        }
    }
    describe(key, want, sizeof want);
    return bad_value(w, line, path, want, v);
}

static int set_provider(struct gw_cfg_walk *w, unsigned line, const char *path, void *dst,
                        const struct scalar *v)
{
    const struct gw_config_providers *providers = w->providers;
    const struct gw_provider **p = dst;
    char names[512] = "";
    char got[GW_CFG_QUOTED_MAX];

    *p = providers != NULL && providers->find != NULL ? providers->find(v->text) : NULL;
    if (*p != NULL)
        return 0;
    if (providers != NULL && providers->names != NULL)
        providers->names(names, sizeof names);
    gw_cfg_quote(v->text, got, sizeof got);
    gw_cfg_error(w, line, "%s: unknown provider %s (known: %s)", path, got, names);
    return -1;
}

int gw_cfg_set_scalar(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                      const struct gw_yaml_node *value, const char *path, void *dst)
{
    struct scalar v;

    if (value->kind != GW_YAML_SCALAR) {
        wrong_kind(w, key, value, path);
        return -1;
    }
    if (resolve(w, value, path, &v) < 0)
        return -1;
    switch (key->type) {
    case GW_CFG_STRING:
        return set_string(w, key, value->line, path, dst, &v);
    case GW_CFG_SLUG:
        if (!is_slug(v.text))
            return bad_value(w, value->line, path, "a slug matching [a-z0-9][a-z0-9_-]{0,63}", &v);
        return gw_cfg_store_string(w, value->line, path, dst, v.text);
    case GW_CFG_CHOICE:
        return set_choice(w, key, value->line, path, dst, &v);
    case GW_CFG_PROVIDER:
        return set_provider(w, value->line, path, dst, &v);
    default:
        return set_number(w, key, value->line, path, dst, &v);
    }
}

/* A KEY32 value must decode to an AES-256 key; reported here with its line rather than
 * later by whichever command first needs the keyring. */
static int check_key32(struct gw_cfg_walk *w, unsigned line, const char *path,
                       const struct gw_secret *s)
{
    unsigned char key[GW_CFG_KEY32_LEN];
    char why[256];
    int rc = gw_cfg_key32_decode(s->data, s->len, key, why, sizeof why);

    explicit_bzero(key, sizeof key);
    if (rc < 0)
        gw_cfg_error(w, line, "%s: %s", path, why);
    return rc;
}

int gw_cfg_set_secret(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                      const struct gw_yaml_node *value, const char *path, struct gw_secret *dst)
{
    unsigned allow =
        key->type == GW_CFG_FILE ? GW_REF_FILE : GW_REF_ENV | GW_REF_FILE | GW_REF_PRIVATE;
    struct gw_secret s;
    char err[600];

    if (value->kind != GW_YAML_SCALAR) {
        wrong_kind(w, key, value, path);
        return -1;
    }
    if (gw_secret_ref_load(value->text, allow, w->dir, &s, err, sizeof err) < 0) {
        gw_cfg_error(w, value->line, "%s: %s", path, err);
        return -1;
    }
    /* A short credential is guessable and too short for the logger to recognise. */
    if (key->type == GW_CFG_SECRET && s.len < key->min) {
        gw_cfg_error(w, value->line,
                     "%s: must be at least %llu bytes, got %zu; generate one with: openssl rand "
                     "-hex 32",
                     path, (unsigned long long)key->min, s.len);
        gw_secret_wipe(&s);
        return -1;
    }
    if (key->type == GW_CFG_KEY32 && check_key32(w, value->line, path, &s) < 0) {
        gw_secret_wipe(&s);
        return -1;
    }
    gw_secret_wipe(dst);
    *dst = s;
    return 0;
}

int gw_cfg_set_secret_list(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                           const struct gw_yaml_node *value, const char *path, void *dst)
{
    struct gw_secret **list = dst;
    size_t *count = field(dst, sizeof(struct gw_secret *));
    struct gw_cfg_key item = *key;
    size_t n = 0;
    int rc = 0;

    if (gw_yaml_is_null(value)) {
        n = 0;
    } else if (value->kind != GW_YAML_SEQUENCE) {
        wrong_kind(w, key, value, path);
        return -1;
    } else {
        n = value->n;
    }
    if (n < key->min || (key->max != 0 && n > key->max)) {
        if (key->max != 0)
            gw_cfg_error(w, value->line, "%s: expected %llu to %llu secrets, got %zu", path,
                         (unsigned long long)key->min, (unsigned long long)key->max, n);
        else
            gw_cfg_error(w, value->line, "%s: expected at least %llu secrets, got %zu", path,
                         (unsigned long long)key->min, n);
        rc = -1;
        if (key->max != 0 && n > key->max)
            return rc;
    }
    if (n == 0)
        return rc;

    *list = calloc(n, sizeof **list);
    if (*list == NULL) {
        gw_cfg_error(w, value->line, "%s: out of memory", path);
        return -1;
    }
    item.type = GW_CFG_SECRET;
    item.min = 0; /* the list's bounds count secrets, not bytes */
    for (size_t i = 0; i < n; i++) {
        char item_path[GW_CFG_PATH_MAX];

        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        /* Only secrets that loaded are kept, so that *count is what must be freed. */
        if (gw_cfg_set_secret(w, &item, value->items[i], item_path, &(*list)[*count]) == 0)
            (*count)++;
        else
            rc = -1;
    }
    /* Only a list that loaded whole lines up with the items written; otherwise its own
     * errors come first and the keys are checked on the next run. */
    if (key->type == GW_CFG_KEY32_LIST && *count == n) {
        for (size_t i = 0; i < n; i++) {
            char item_path[GW_CFG_PATH_MAX];

            snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
            if (check_key32(w, value->items[i]->line, item_path, &(*list)[i]) < 0)
                rc = -1;
        }
    }
    return rc;
}

int gw_cfg_set_string_map(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                          const struct gw_yaml_node *value, const char *path, void *dst)
{
    struct gw_string_map *m = dst;
    if (gw_yaml_is_null(value))
        return 0;
    if (value->kind != GW_YAML_MAPPING) {
        wrong_kind(w, key, value, path);
        return -1;
    }
    size_t n = value->n / 2;
    if (n < key->min || (key->max != 0 && n > key->max)) {
        gw_cfg_error(w, value->line, "%s: expected %llu to %llu entries, got %zu", path,
                     (unsigned long long)key->min, (unsigned long long)key->max, n);
        return -1;
    }
    m->items = calloc(n ? n : 1, sizeof(*m->items));
    if (m->items == NULL) {
        gw_cfg_error(w, value->line, "%s: out of memory", path);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct gw_yaml_node *k = value->items[2 * i];
        const struct gw_yaml_node *v = value->items[2 * i + 1];
        char item_path[GW_CFG_PATH_MAX];
        char quoted[GW_CFG_QUOTED_MAX];
        snprintf(item_path, sizeof item_path, "%s.%s", path,
                 k->kind == GW_YAML_SCALAR ? k->text : "?");
        if (k->kind != GW_YAML_SCALAR || !is_slug(k->text)) {
            gw_cfg_quote(k->kind == GW_YAML_SCALAR ? k->text : "", quoted, sizeof quoted);
            gw_cfg_error(w, k->line, "%s: expected a name such as 'support', got %s", path, quoted);
            rc = -1;
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < m->n; j++)
            dup = dup || strcmp(m->items[j].key, k->text) == 0;
        if (dup) {
            gw_cfg_error(w, k->line, "%s: duplicate key '%s'", path, k->text);
            rc = -1;
            continue;
        }
        if (v->kind != GW_YAML_SCALAR || v->len == 0 || v->len > 200) {
            gw_cfg_error(w, v->line, "%s: expected a string of 1 to 200 characters", item_path);
            rc = -1;
            continue;
        }
        m->items[m->n].key = strdup(k->text);
        m->items[m->n].value = strdup(v->text);
        if (m->items[m->n].key == NULL || m->items[m->n].value == NULL) {
            free(m->items[m->n].key);
            free(m->items[m->n].value);
            gw_cfg_error(w, v->line, "%s: out of memory", item_path);
            return -1;
        }
        m->n++;
    }
    return rc;
}

int gw_cfg_set_string_list(struct gw_cfg_walk *w, const struct gw_cfg_key *key,
                           const struct gw_yaml_node *value, const char *path, void *dst)
{
    char ***list = dst;
    size_t *count = field(dst, sizeof(char **));
    if (gw_yaml_is_null(value))
        return 0;
    if (value->kind != GW_YAML_SEQUENCE) {
        wrong_kind(w, key, value, path);
        return -1;
    }
    size_t n = value->n;
    if (n < key->min || (key->max != 0 && n > key->max)) {
        gw_cfg_error(w, value->line, "%s: expected %llu to %llu items, got %zu", path,
                     (unsigned long long)key->min, (unsigned long long)key->max, n);
        return -1;
    }
    if (n == 0)
        return 0;
    *list = calloc(n, sizeof(char *));
    if (*list == NULL) {
        gw_cfg_error(w, value->line, "%s: out of memory", path);
        return -1;
    }
    size_t max_len = key->def ? (size_t)key->def : 1024;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct gw_yaml_node *item = value->items[i];
        char item_path[GW_CFG_PATH_MAX];
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        if (item->kind != GW_YAML_SCALAR || item->len == 0 || item->len > max_len) {
            gw_cfg_error(w, item->line, "%s: expected a string of 1 to %zu characters", item_path,
                         max_len);
            rc = -1;
            continue;
        }
        (*list)[*count] = strdup(item->text);
        if ((*list)[*count] == NULL) {
            gw_cfg_error(w, item->line, "%s: out of memory", item_path);
            return -1;
        }
        (*count)++;
    }
    return rc;
}
