/* headers.c — case-insensitive lookup in the request headers verifiers receive. */
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
