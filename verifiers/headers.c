/* headers.c — what every verifier shares: case-insensitive lookup in the request headers,
 * reason names, and filling the detail it reports. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "verifiers/verifier.h"

const char *gw_headers_get(const struct gw_headers *h, const char *name)
{
    for (size_t i = 0; h != NULL && i < h->n; i++)
        if (strcasecmp(h->items[i].name, name) == 0)
            return h->items[i].value;
    return NULL;
}

size_t gw_headers_count(const struct gw_headers *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; h != NULL && i < h->n; i++)
        if (strcasecmp(h->items[i].name, name) == 0)
            n++;
    return n;
}

const char *gw_verify_result_name(enum gw_verify_result r)
{
    switch (r) {
    case GW_VERIFY_OK:
        return "ok";
    case GW_VERIFY_MISSING_HEADER:
        return "missing_header";
    case GW_VERIFY_MALFORMED_HEADER:
        return "malformed_header";
    case GW_VERIFY_TIMESTAMP_OUTSIDE:
        return "timestamp_outside_window";
    case GW_VERIFY_NO_SECRET_MATCHED:
        return "no_secret_matched";
    case GW_VERIFY_KEY_UNUSABLE:
        return "key_unusable";
    }
    return "unknown";
}

struct gw_verify_detail *gw_verify_begin(struct gw_verify_detail *detail,
                                         struct gw_verify_detail *scratch)
{
    if (detail == NULL)
        detail = scratch;
    memset(detail, 0, sizeof *detail);
    detail->secret_index = -1;
    return detail;
}

const struct gw_headers *gw_verify_headers(const struct gw_verify_input *in)
{
    static const struct gw_headers none = {NULL, 0};
    return in != NULL && in->headers != NULL ? in->headers : &none;
}

void gw_verify_set_header(struct gw_verify_detail *detail, const char *name)
{
    snprintf(detail->header, sizeof detail->header, "%s", name);
}

void gw_verify_note(struct gw_verify_detail *detail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail->note, sizeof detail->note, fmt, ap);
    va_end(ap);
}

const char *gw_verify_single_header(const struct gw_headers *headers, const char *name,
                                    struct gw_verify_detail *detail)
{
    size_t count = gw_headers_count(headers, name);
    const char *value = gw_headers_get(headers, name);
    if (count == 0 || value == NULL) {
        gw_verify_set_header(detail, name);
        gw_verify_note(detail, "%s is missing", name);
        return NULL;
    }
    if (count > 1) {
        gw_verify_set_header(detail, name);
        gw_verify_note(detail, "%s appears %zu times, exactly once is needed", name, count);
        return NULL;
    }
    return value;
}
