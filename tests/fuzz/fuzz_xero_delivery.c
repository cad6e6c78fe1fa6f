/* fuzz_xero_delivery.c — a Xero delivery taken apart as the xero envelope does it on the
 * event loop: the events' byte ranges in the raw body, then each event's pointers. Input:
 * the body. Only bodies that parse as JSON reach the scanner, as in the envelope. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <string.h>

#include "adapters/xero/events.h"
#include "tests/fuzz/fuzz.h"

#define MAX_EVENTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return 0;
    }
    struct gw_xero_span spans[MAX_EVENTS];
    long n = gw_xero_event_spans(data, size, spans, MAX_EVENTS);
    FUZZ_CHECK(n >= -1 && n <= MAX_EVENTS);
    size_t end = 0;
    for (long i = 0; i < n; i++) {
        /* In order, inside the body, never overlapping, and each a JSON value of its own. */
        FUZZ_CHECK(spans[i].len > 0 && spans[i].start >= end && spans[i].start <= size &&
                   spans[i].len <= size - spans[i].start);
        end = spans[i].start + spans[i].len;
        cJSON *item = cJSON_ParseWithLength((const char *)data + spans[i].start, spans[i].len);
        FUZZ_CHECK(item != NULL);
        cJSON_Delete(item);
        struct gw_xero_event e;
        if (gw_xero_read_event((const char *)data + spans[i].start, spans[i].len, &e) == NULL) {
            /* What becomes the dedupe key and the tenant: bounded, printable, lowercase ids. */
            FUZZ_CHECK(strlen(e.tenant) == 36 && strlen(e.resource) == 36);
            for (const char *p = e.tenant; *p; p++)
                FUZZ_CHECK(*p == '-' || isdigit((unsigned char)*p) || (*p >= 'a' && *p <= 'f'));
            FUZZ_CHECK(strlen(e.category) + strlen(e.type) + strlen(e.date) + 36 * 2 + 4 <= 255);
        }
    }
    cJSON_Delete(root);
    return 0;
}
