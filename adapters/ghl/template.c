/* template.c — a job title made from a template and a HighLevel workflow body: "{{name}}"
 * is a top-level field, "{{customData.name}}" one of the action's custom data; what is
 * missing is empty. Pure and bounded: the result never exceeds its buffer, is well-formed
 * UTF-8 that utf8mb4 stores, and has no control characters. */
#include "adapters/ghl/template.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gateway/base/text.h"

#define NAME_MAX_LEN 64

/* The text of field NAME ("a" or "customData.a") in ROOT: a string, or a number written
 * out into NUM; NULL when absent or of another type. */
static const char *field(const cJSON *root, const char *name, char num[32])
{
    const cJSON *obj = root;
    const char *dot = strchr(name, '.');
    if (dot != NULL) {
        char head[NAME_MAX_LEN + 1];
        size_t n = (size_t)(dot - name);
        memcpy(head, name, n);
        head[n] = '\0';
        obj = cJSON_GetObjectItemCaseSensitive(root, head);
        name = dot + 1;
        if (!cJSON_IsObject(obj) || strchr(name, '.') != NULL)
            return NULL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(num, 32, "%.15g", v->valuedouble);
        return num;
    }
    return NULL;
}

size_t gw_ghl_template(const char *tmpl, const cJSON *root, size_t max_chars, char *out, size_t cap)
{
    size_t len = 0, chars = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (const char *p = tmpl; p != NULL && *p != '\0' && chars < max_chars;) {
        const char *open = strstr(p, "{{");
        const char *close = open != NULL ? strstr(open + 2, "}}") : NULL;
        if (open == NULL || close == NULL) {
            gw_text_append_clean(out, cap, &len, &chars, max_chars, p);
            break;
        }
        char lit[512];
        size_t n = (size_t)(open - p) < sizeof(lit) - 1 ? (size_t)(open - p) : sizeof(lit) - 1;
        memcpy(lit, p, n);
        lit[n] = '\0';
        gw_text_append_clean(out, cap, &len, &chars, max_chars, lit);
        char name[NAME_MAX_LEN + 1], num[32];
        size_t name_len = (size_t)(close - open - 2);
        if (name_len > 0 && name_len <= NAME_MAX_LEN) {
            memcpy(name, open + 2, name_len);
            name[name_len] = '\0';
            const char *v = field(root, name, num);
            if (v != NULL)
                gw_text_append_clean(out, cap, &len, &chars, max_chars, v);
        }
        p = close + 2;
    }
    /* Trimmed of spaces at both ends. */
    size_t start = 0;
    while (out[start] == ' ')
        start++;
    while (len > start && out[len - 1] == ' ')
        out[--len] = '\0';
    if (start > 0)
        memmove(out, out + start, len - start + 1);
    return len - start;
}
