/* json_fields.h — reading typed fields out of untrusted JSON objects: a wrong type is the
 * same as an absent field, and every string is checked for UTF-8 and length. */
#ifndef CTGW_JSON_FIELDS_H
#define CTGW_JSON_FIELDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_field_rc { GW_FIELD_OK, GW_FIELD_ABSENT, GW_FIELD_INVALID };

/* A string field of 1..max_chars characters of valid UTF-8 (NULL JSON counts as absent). */
enum gw_field_rc gw_json_text(const cJSON *obj, const char *key, size_t max_chars,
                              const char **out);
/* An integer field within [min, max] (a JSON number with no fraction). */
enum gw_field_rc gw_json_int(const cJSON *obj, const char *key, int64_t min, int64_t max,
                             int64_t *out);

#endif
