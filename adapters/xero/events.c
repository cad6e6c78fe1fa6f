/* events.c — a Xero delivery taken apart: where each event's bytes are, and the
 * pointers each one carries (tenant, category, resource, type, date). Untrusted input
 * that has passed verification; runs on the event loop, so bounded and allocation-light. */
#include "adapters/xero/events.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

bool gw_xero_guid_ok(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static size_t skip_ws(const unsigned char *b, size_t len, size_t i)
{
    /* What cJSON skips (every byte up to the space), not only JSON's four: the scanner must
     * agree with the parser that accepted the body. */
    while (i < len && b[i] <= ' ')
        i++;
    return i;
}

/* At an opening quote: moves past the closing one. */
static bool skip_string(const unsigned char *b, size_t len, size_t *i)
{
    for (size_t k = *i + 1; k < len; k++) {
        if (b[k] == '\\')
            k++;
        else if (b[k] == '"') {
            *i = k + 1;
            return true;
        }
    }
    return false;
}

/* Moves past one JSON value (the body already parsed as JSON, so it is well-formed). */
static bool skip_value(const unsigned char *b, size_t len, size_t *i)
{
    if (*i >= len)
        return false;
    if (b[*i] == '"')
        return skip_string(b, len, i);
    if (b[*i] != '{' && b[*i] != '[') {
        while (*i < len && b[*i] > ' ' && b[*i] != ',' && b[*i] != ']' && b[*i] != '}')
            (*i)++;
        return true;
    }
    size_t depth = 0;
    do {
        if (b[*i] == '"') {
            if (!skip_string(b, len, i))
                return false;
            continue;
        }
        if (b[*i] == '{' || b[*i] == '[')
            depth++;
        else if (b[*i] == '}' || b[*i] == ']')
            depth--;
        (*i)++;
    } while (depth > 0 && *i < len);
    return depth == 0;
}

long gw_xero_event_spans(const unsigned char *b, size_t len, struct gw_xero_span *spans, size_t max)
{
    size_t i = skip_ws(b, len, 0);
    if (i >= len || b[i] != '{')
        return -1;
    i++;
    for (;;) {
        i = skip_ws(b, len, i);
        if (i >= len || b[i] == '}')
            return -1;
        if (b[i] != '"')
            return -1;
        size_t key = i;
        if (!skip_string(b, len, &i))
            return -1;
        bool is_events = i - key == 8 && memcmp(b + key, "\"events\"", 8) == 0;
        i = skip_ws(b, len, i);
        if (i >= len || b[i] != ':')
            return -1;
        i = skip_ws(b, len, i + 1);
        if (is_events) {
            if (i + 4 <= len && memcmp(b + i, "null", 4) == 0)
                return 0;
            if (i >= len || b[i] != '[')
                return -1;
            size_t n = 0;
            i = skip_ws(b, len, i + 1);
            if (i < len && b[i] == ']')
                return 0;
            for (;;) {
                if (n == max)
                    return -1;
                size_t start = i;
                if (!skip_value(b, len, &i))
                    return -1;
                spans[n++] = (struct gw_xero_span){start, i - start};
                i = skip_ws(b, len, i);
                if (i < len && b[i] == ',') {
                    i = skip_ws(b, len, i + 1);
                    continue;
                }
                return i < len && b[i] == ']' ? (long)n : -1;
            }
        }
        if (!skip_value(b, len, &i))
            return -1;
        i = skip_ws(b, len, i);
        if (i < len && b[i] == ',')
            i++;
    }
}

/* One event's pointers, checked enough to key and route it. */
struct event {
    char tenant[40], category[GW_XERO_WORD_MAX + 1], resource[40], type[GW_XERO_WORD_MAX + 1],
        date[GW_XERO_DATE_MAX + 1];
};

static bool word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
            return false;
    return true;
}

static bool date_chars_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= GW_XERO_DATE_MAX && strspn(s, "0123456789-:.TZ+") == n;
}

static bool copy_field(const cJSON *o, const char *key, char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return false;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return true;
}

const char *gw_xero_read_event(const char *json, size_t len, struct gw_xero_event *e)
{
    memset(e, 0, sizeof(*e));
    cJSON *o = cJSON_ParseWithLength(json, len);
    const char *bad = NULL;
    if (o == NULL || !cJSON_IsObject(o))
        bad = "events";
    else if (!copy_field(o, "tenantId", e->tenant, sizeof(e->tenant)) ||
             !gw_xero_guid_ok(e->tenant))
        bad = "tenantId";
    else if (!copy_field(o, "eventCategory", e->category, sizeof(e->category)) ||
             !word_ok(e->category, GW_XERO_WORD_MAX))
        bad = "eventCategory";
    else if (!copy_field(o, "resourceId", e->resource, sizeof(e->resource)) ||
             !gw_xero_guid_ok(e->resource))
        bad = "resourceId";
    else if (!copy_field(o, "eventType", e->type, sizeof(e->type)) ||
             !word_ok(e->type, GW_XERO_WORD_MAX))
        bad = "eventType";
    else if (!copy_field(o, "eventDateUtc", e->date, sizeof(e->date)) || !date_chars_ok(e->date))
        bad = "eventDateUtc";
    cJSON_Delete(o);
    /* GUIDs compare as one key whatever case Xero uses. */
    for (char *p = e->tenant; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (char *p = e->resource; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return bad;
}
