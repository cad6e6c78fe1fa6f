/* report.c — the errors of one load: formatted "FILE:LINE: message", bounded in number,
 * handed over in file order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/walk.h"

#define MSG_LEN   512
#define QUOTE_MAX 64

void gw_cfg_error(struct gw_cfg_walk *w, unsigned line, const char *fmt, ...)
{
    char msg[MSG_LEN];
    char *text;
    size_t size;
    va_list ap;

    if (w->n_errors == GW_CFG_MAX_ERRORS) {
        w->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size = strlen(w->file) + strlen(msg) + 16;
    text = malloc(size);
    if (text != NULL) {
        if (line > 0)
            snprintf(text, size, "%s:%u: %s", w->file, line, msg);
        else
            snprintf(text, size, "%s: %s", w->file, msg);
    }
    /* Kept even when text is NULL (out of memory): the load still fails, and the taker
     * reports that memory ran out instead. */
    w->errors[w->n_errors].line = line;
    w->errors[w->n_errors].text = text;
    w->n_errors++;
}

static int append_line(struct gw_config_errors *errs, char *text)
{
    char **lines = realloc(errs->lines, (errs->n + 1) * sizeof *lines);

    if (lines == NULL)
        return -1;
    errs->lines = lines;
    errs->lines[errs->n++] = text;
    return 0;
}

void gw_cfg_errors_take(struct gw_cfg_walk *w, struct gw_config_errors *errs)
{
    /* Insertion sort: stable, so errors on one line keep the order they were found in. */
    for (size_t i = 1; i < w->n_errors; i++) {
        struct gw_cfg_error e = w->errors[i];
        size_t j = i;
        for (; j > 0 && w->errors[j - 1].line > e.line; j--)
            w->errors[j] = w->errors[j - 1];
        w->errors[j] = e;
    }
    for (size_t i = 0; i < w->n_errors; i++) {
        char *text = w->errors[i].text;
        if (text == NULL)
            text = strdup("out of memory while reporting an error");
        if (text == NULL || append_line(errs, text) < 0)
            free(text);
    }
    if (w->dropped > 0) {
        char *text = malloc(strlen(w->file) + 96);
        if (text != NULL) {
            sprintf(text, "%s: %zu more errors not shown", w->file, w->dropped);
            if (append_line(errs, text) < 0)
                free(text);
        }
    }
    w->n_errors = 0;
    w->dropped = 0;
}

void gw_cfg_quote(const char *s, char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    size_t i = 0;

    if (len < 8) {
        if (len > 0)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '\'';
    for (; s[i] != '\0' && i < QUOTE_MAX && o + 8 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '\'';
    if (s[i] != '\0') {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

void gw_config_errors_finish(struct gw_config_errors *errs)
{
    if (errs == NULL)
        return;
    for (size_t i = 0; i < errs->n; i++)
        free(errs->lines[i]);
    free(errs->lines);
    errs->lines = NULL;
    errs->n = 0;
}
