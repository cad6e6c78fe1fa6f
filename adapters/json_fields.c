/* json_fields.c — typed, bounded reads of fields in untrusted JSON objects. */
#include "adapters/json_fields.h"

#include <math.h>
#include <string.h>

#include "gateway/base/text.h"

enum gw_field_rc gw_json_text(const cJSON *obj, const char *key, size_t max_chars, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return GW_FIELD_ABSENT;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return GW_FIELD_INVALID;
    size_t chars = 0, len = strlen(v->valuestring);
    if (!gw_text_utf8_chars(v->valuestring, len, &chars) || chars == 0 || chars > max_chars)
        return GW_FIELD_INVALID;
    *out = v->valuestring;
    return GW_FIELD_OK;
}

enum gw_field_rc gw_json_int(const cJSON *obj, const char *key, int64_t min, int64_t max,
                             int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsNull(v))
        return GW_FIELD_ABSENT;
    if (!cJSON_IsNumber(v))
        return GW_FIELD_INVALID;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max)
        return GW_FIELD_INVALID;
    *out = (int64_t)d;
    return GW_FIELD_OK;
}
