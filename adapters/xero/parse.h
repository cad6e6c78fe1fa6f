/* parse.h — reading Xero's values: its two date forms, amounts, GUIDs, and job refs
 * typed into an invoice's Reference or line items. Pure functions over untrusted text. */
#ifndef CTGW_XERO_PARSE_H
#define CTGW_XERO_PARSE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Milliseconds since the epoch (UTC) of "/Date(1552435200000+0000)/" (the offset may be
 * absent) or of an ISO form "2019-03-13T00:00:00[.fff][Z]"; -1 when it is neither. */
int64_t gw_xero_date_ms(const char *s);

/* The UTC calendar date of either form as "YYYY-MM-DD"; false when unreadable. */
bool gw_xero_date_ymd(const char *s, char out[11]);

/* A JSON number as DECIMAL(18,4) text ("1234.5000"); false when absent, not a finite number
 * or out of range. */
bool gw_xero_amount(const cJSON *obj, const char *key, char out[32]);

/* The first job ref ("CT-" and at least six digits, any case) standing as a word in text,
 * normalised to "CT-000123"; false when there is none. */
bool gw_xero_find_ref(const char *text, char out[32]);

#endif
