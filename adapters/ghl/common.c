/* common.c — HighLevel's ids and fields read out of untrusted JSON, the location an event is
 * about, and the CanTicket user a HighLevel user maps to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ghl/ghl.h"
#include "adapters/json_fields.h"
#include "gateway/core/crm.h"

#define TIME_MAX 40

const char *gw_ghl_text(const cJSON *o, const char *key, size_t max_chars)
{
    const char *v = NULL;
    return gw_json_text(o, key, max_chars, &v) == GW_FIELD_OK ? v : NULL;
}

const char *gw_ghl_id(const cJSON *o, const char *key)
{
    const char *v = gw_ghl_text(o, key, GW_CRM_ID_CHARS);
    for (size_t i = 0; v != NULL && v[i] != '\0'; i++)
        if (v[i] <= ' ' || v[i] > '~')
            return NULL;
    return v;
}

int64_t gw_ghl_updated_ms(const cJSON *root, const cJSON *object)
{
    int64_t ms = gw_ghl_time_ms(gw_ghl_text(object, "dateUpdated", TIME_MAX));
    if (ms <= 0)
        ms = gw_ghl_time_ms(gw_ghl_text(root, "timestamp", TIME_MAX));
    return ms > 0 ? ms : 0;
}

bool gw_ghl_user_of(struct gw_apply *ctx, const char *location, const char *assigned_to,
                    uint64_t *user_id)
{
    *user_id = 0;
    if (assigned_to == NULL)
        return true;
    const char *email = strchr(assigned_to, '@') != NULL ? assigned_to : NULL;
    char *settings = NULL;
    cJSON *parsed = NULL;
    if (email == NULL && location != NULL) {
        enum gw_core_rc rc = gw_crm_integration_settings(&ctx->core, "ghl", location, &settings);
        if (rc == GW_CORE_DB_ERROR)
            return false;
        parsed = settings != NULL ? cJSON_Parse(settings) : NULL;
        const cJSON *users = cJSON_GetObjectItemCaseSensitive(parsed, "users");
        email = gw_ghl_text(users, assigned_to, 254);
    }
    bool ok = true;
    if (email != NULL) {
        enum gw_core_rc rc = gw_user_find_by_email(&ctx->core, email, user_id);
        ok = rc != GW_CORE_DB_ERROR;
        if (rc != GW_CORE_OK)
            *user_id = 0;
        if (ok)
            ctx->core.err[0] = '\0';
    }
    cJSON_Delete(parsed);
    free(settings);
    return ok;
}

const char *gw_ghl_location(const struct gw_apply *ctx, const cJSON *root)
{
    const char *slash = ctx->dedupe_key != NULL ? strrchr(ctx->dedupe_key, '/') : NULL;
    if (slash != NULL && slash[1] != '\0')
        return slash + 1;
    return gw_ghl_id(root, "locationId");
}

void gw_ghl_result(struct gw_apply *ctx, cJSON *o)
{
    if (o == NULL)
        return;
    free(ctx->result);
    ctx->result = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}
