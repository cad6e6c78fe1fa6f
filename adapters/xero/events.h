/* events.h — a Xero delivery taken apart: where each event's bytes are, and the
 * pointers each one carries. Pure functions over verified but untrusted bytes. */
#ifndef CTGW_XERO_EVENTS_H
#define CTGW_XERO_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#define GW_XERO_DATE_MAX 40
#define GW_XERO_WORD_MAX 32

struct gw_xero_span {
    size_t start, len;
};

/* The byte ranges of the elements of the top-level "events" array (its first occurrence,
 * spelt without escapes) of a body that already parsed as JSON. -1 when there is no such
 * array or it has more than max elements; otherwise the count (0 for [] or null). Each
 * event is stored as the exact bytes Xero signed. */
long gw_xero_event_spans(const unsigned char *body, size_t len, struct gw_xero_span *spans,
                         size_t max);

/* One event's pointers, checked enough to key and route it; GUIDs lowercased. */
struct gw_xero_event {
    char tenant[40], category[GW_XERO_WORD_MAX + 1], resource[40], type[GW_XERO_WORD_MAX + 1],
        date[GW_XERO_DATE_MAX + 1];
};

/* A GUID as Xero writes them: 8-4-4-4-12 hex digits. */
bool gw_xero_guid_ok(const char *s);

/* Reads one event object; NULL when fine, or the name of the first bad field. */
const char *gw_xero_read_event(const char *json, size_t len, struct gw_xero_event *e);

#endif
