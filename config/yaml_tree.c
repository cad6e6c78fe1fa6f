/* yaml_tree.c — reads one YAML document with libyaml's event API into a small tree, keeping
 * each node's line and refusing aliases, extra documents and anything past the limits. */
#include "config/yaml_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct builder {
    const char *buf;
    size_t len;
    struct gw_yaml_node *root;
    struct gw_yaml_node *open[GW_YAML_MAX_DEPTH];
    size_t depth;
    size_t nodes;
    unsigned documents;
    struct gw_yaml_error *err;
};

static int fail(struct builder *b, unsigned line, const char *msg)
{
    b->err->line = line;
    snprintf(b->err->message, sizeof b->err->message, "%s", msg);
    return -1;
}

static unsigned line_of(const yaml_mark_t *mark)
{
    return (unsigned)mark->line + 1;
}

/* libyaml reports reader errors (bad UTF-8, control characters) by byte offset only. */
static unsigned line_at_offset(const struct builder *b, size_t offset)
{
    unsigned line = 1;

    for (size_t i = 0; i < offset && i < b->len; i++)
        if (b->buf[i] == '\n')
            line++;
    return line;
}

/* True when line LINE (1-based) of the input holds "${": the usual cause of a flow
 * collection error, since '{' ends a plain scalar inside { } and [ ]. */
static bool line_has_env_ref(const struct builder *b, unsigned line)
{
    const char *p = b->buf;
    const char *end = b->buf + b->len;

    for (unsigned l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return false;
        p = nl + 1;
    }
    for (; p + 1 < end && *p != '\n'; p++)
        if (p[0] == '$' && p[1] == '{')
            return true;
    return false;
}

static int syntax_error(struct builder *b, const yaml_parser_t *parser)
{
    unsigned line;

    if (parser->error == YAML_MEMORY_ERROR)
        return fail(b, 0, "out of memory");
    if (parser->error == YAML_READER_ERROR)
        line = line_at_offset(b, parser->problem_offset);
    else
        line = line_of(&parser->problem_mark);
    b->err->line = line;
    snprintf(b->err->message, sizeof b->err->message, "YAML syntax error: %s%s",
             parser->problem != NULL ? parser->problem : "unknown problem",
             parser->context != NULL && strstr(parser->context, "flow") != NULL &&
                     line_has_env_ref(b, line)
                 ? " (inside { } or [ ], write \"${NAME}\" in quotes)"
                 : "");
    return -1;
}

static struct gw_yaml_node *new_node(struct builder *b, enum gw_yaml_kind kind,
                                     const yaml_mark_t *mark)
{
    struct gw_yaml_node *node;

    if (b->nodes >= GW_YAML_MAX_NODES) {
        fail(b, line_of(mark), "too many YAML nodes (more than 100000)");
        return NULL;
    }
    node = calloc(1, sizeof *node);
    if (node == NULL) {
        fail(b, line_of(mark), "out of memory");
        return NULL;
    }
    b->nodes++;
    node->kind = kind;
    node->line = line_of(mark);
    return node;
}

/* Hangs NODE under the innermost open collection, or makes it the root. On failure NODE
 * is freed, so that the caller owns nothing either way. */
static int attach(struct builder *b, struct gw_yaml_node *node)
{
    struct gw_yaml_node *parent;

    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    parent = b->open[b->depth - 1];
    if (parent->n == parent->cap) {
        size_t ncap = parent->cap == 0 ? 4 : parent->cap * 2;
        struct gw_yaml_node **items = realloc(parent->items, ncap * sizeof *items);

        if (items == NULL) {
            unsigned line = node->line;
            gw_yaml_free(node);
            return fail(b, line, "out of memory");
        }
        parent->items = items;
        parent->cap = ncap;
    }
    parent->items[parent->n++] = node;
    return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const unsigned char *value = ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    struct gw_yaml_node *node;

    if (len > GW_YAML_MAX_SCALAR)
        return fail(b, line_of(&ev->start_mark), "scalar longer than 65536 bytes");
    if (memchr(value, '\0', len) != NULL)
        return fail(b, line_of(&ev->start_mark), "scalar contains a NUL byte");
    node = new_node(b, GW_YAML_SCALAR, &ev->start_mark);
    if (node == NULL)
        return -1;
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node->text = malloc(len + 1);
    if (node->text == NULL) {
        gw_yaml_free(node);
        return fail(b, line_of(&ev->start_mark), "out of memory");
    }
    memcpy(node->text, value, len);
    node->text[len] = '\0';
    node->len = len;
    return attach(b, node);
}

static int on_open(struct builder *b, enum gw_yaml_kind kind, const yaml_event_t *ev)
{
    struct gw_yaml_node *node;

    if (b->depth == GW_YAML_MAX_DEPTH)
        return fail(b, line_of(&ev->start_mark), "nesting deeper than 16 levels");
    node = new_node(b, kind, &ev->start_mark);
    if (node == NULL)
        return -1;
    if (attach(b, node) < 0)
        return -1;
    b->open[b->depth++] = node;
    return 0;
}

/* Handles one event; returns 1 at the end of the stream, 0 to go on, -1 on error. */
static int on_event(struct builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1)
            return fail(b, line_of(&ev->start_mark),
                        "more than one YAML document; the config must be a single document");
        return 0;
    case YAML_ALIAS_EVENT:
        return fail(b, line_of(&ev->start_mark), "YAML aliases are not supported");
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_open(b, GW_YAML_SEQUENCE, ev);
    case YAML_MAPPING_START_EVENT:
        return on_open(b, GW_YAML_MAPPING, ev);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        return 0;
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_NO_EVENT:
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        return 0;
    }
    return 0;
}

struct gw_yaml_node *gw_yaml_parse(const char *buf, size_t len, bool *empty,
                                   struct gw_yaml_error *err)
{
    struct builder b = {.buf = buf, .len = len, .err = err};
    yaml_parser_t parser;
    int rc = 0;

    *empty = false;
    err->line = 0;
    err->message[0] = '\0';
    if (!yaml_parser_initialize(&parser)) {
        fail(&b, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    while (rc == 0) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(&b, &parser);
            break;
        }
        rc = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (rc < 0) {
        gw_yaml_free(b.root);
        return NULL;
    }
    *empty = b.root == NULL;
    return b.root;
}

void gw_yaml_free(struct gw_yaml_node *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->n; i++)
        gw_yaml_free(node->items[i]);
    free(node->items);
    free(node->text);
    free(node);
}

bool gw_yaml_is_null(const struct gw_yaml_node *node)
{
    if (node == NULL || node->kind != GW_YAML_SCALAR || !node->plain)
        return false;
    return node->len == 0 || strcmp(node->text, "~") == 0 || strcmp(node->text, "null") == 0 ||
           strcmp(node->text, "Null") == 0 || strcmp(node->text, "NULL") == 0;
}

const char *gw_yaml_kind_name(const struct gw_yaml_node *node)
{
    switch (node->kind) {
    case GW_YAML_MAPPING:
        return "a mapping";
    case GW_YAML_SEQUENCE:
        return "a sequence";
    case GW_YAML_SCALAR:
        break;
    }
    return "a scalar";
}

const struct gw_yaml_node *gw_yaml_get(const struct gw_yaml_node *map, const char *key)
{
    if (map == NULL || map->kind != GW_YAML_MAPPING)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (map->items[i]->kind == GW_YAML_SCALAR && strcmp(map->items[i]->text, key) == 0)
            return map->items[i + 1];
    return NULL;
}
