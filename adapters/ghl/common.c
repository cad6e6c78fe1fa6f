/* common.c — HighLevel's times, ids and fields read out of untrusted JSON, the location an
 * event is about, and the CanTicket user a HighLevel user maps to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/ghl/ghl.h"
#include "adapters/json_fields.h"
#include "adapters/xero/parse.h"
#include "gateway/core/crm.h"

#define TIME_MAX 40

int64_t gw_ghl_time_ms(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n < 10 || n > TIME_MAX)
        return -1;
    /* An offset "+hh:mm" / "-hh:mm" after the time: read the local time, then shift it. */
    char local[TIME_MAX + 1];
    memcpy(local, s, n + 1);
    int64_t shift_ms = 0;
    if (n > 19 && (s[n - 6] == '+' || s[n - 6] == '-') && s[n - 3] == ':') {
        const char *o = s + n - 5;
        if (o[0] < '0' || o[0] > '2' || o[1] < '0' || o[1] > '9' || o[3] < '0' || o[3] > '5' ||
            o[4] < '0' || o[4] > '9')
            return -1;
        int64_t minutes =
            ((o[0] - '0') * 10 + (o[1] - '0')) * 60 + (o[3] - '0') * 10 + (o[4] - '0');
        if (minutes > 14 * 60)
            return -1;
        shift_ms = (s[n - 6] == '+' ? -1 : 1) * minutes * 60000;
        local[n - 6] = '\0';
    }
    int64_t ms = gw_xero_date_ms(local); /* the ISO reader Xero's dates already use */
    if (ms < 0 || (ms + shift_ms) < 0)
        return -1;
    return ms + shift_ms;
}

void gw_ghl_time_utc(int64_t ms, char out[20])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        out[0] = '\0';
}

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
