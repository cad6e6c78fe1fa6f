/* install.c — HighLevel app installs and uninstalls. An INSTALL connects its location (an
 * `integrations` row, provider ghl, external id the location id) only when the endpoint says
 * `install: auto`: a new location is connected to the endpoint's company, a disconnected one
 * is re-activated for the company it belongs to; a location connected to another company is
 * never moved. With `install: manual` (the default) the install is stored, ignored and
 * logged for an operator. UNINSTALL marks the location's integration disconnected. */
#include <stdio.h>
#include <string.h>

#include "adapters/ghl/config.h"
#include "adapters/ghl/ghl.h"
#include "adapters/standard_webhooks_common.h"
#include "gateway/base/log.h"
#include "gateway/core/crm.h"
#include "gateway/core/integrations.h"
#include "gateway/db/inbox.h"

static enum gw_apply_rc done(struct gw_apply *ctx, const char *location, const char *status,
                             bool changed)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "location", location);
        cJSON_AddStringToObject(o, "integration", status);
        cJSON_AddBoolToObject(o, "changed", changed);
    }
    gw_ghl_result(ctx, o);
    return GW_APPLY_DONE;
}

static enum gw_apply_rc manual(struct gw_apply *ctx, const char *location)
{
    snprintf(ctx->error, sizeof(ctx->error),
             "install: manual: connect location %s with `ctgw integration set --company SLUG "
             "--provider ghl --external-id %s`",
             location, location);
    gw_log_warn(NULL, "endpoint %s: GoHighLevel app installed for location %s; %s",
                ctx->endpoint->id, location, ctx->error);
    return GW_APPLY_IGNORED;
}

static enum gw_apply_rc install(struct gw_apply *ctx, const char *location)
{
    bool automatic = gw_ghl_config_of(ctx->endpoint)->install == GW_GHL_INSTALL_AUTO;
    uint64_t owner = 0, id = 0;
    char status[16] = "";
    enum gw_core_rc rc = gw_crm_integration_owner(&ctx->core, "ghl", location, &owner, &id, status);
    if (rc == GW_CORE_NOT_FOUND) {
        ctx->core.err[0] = '\0';
        if (ctx->core.company_id == 0) {
            snprintf(ctx->error, sizeof(ctx->error),
                     "install of unknown location %s, and endpoint %s names no company", location,
                     ctx->endpoint->id);
            gw_log_warn(NULL, "%s", ctx->error);
            return GW_APPLY_IGNORED;
        }
        if (!automatic)
            return manual(ctx, location);
        rc = gw_crm_integration_create(&ctx->core, "ghl", location, &id);
        return rc == GW_CORE_OK ? done(ctx, location, "active", true) : gw_sw_core_result(ctx, rc);
    }
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    if (ctx->core.company_id != 0 && owner != ctx->core.company_id) {
        snprintf(ctx->error, sizeof(ctx->error),
                 "location %s is connected to another company; an install never moves it",
                 location);
        gw_log_warn(NULL, "endpoint %s: %s", ctx->endpoint->id, ctx->error);
        return GW_APPLY_FAILED;
    }
    if (ctx->core.company_id == 0) {
        /* Stored without a company (the endpoint names none): it is the owner's from now. */
        if (gw_inbox_set_company(ctx->core.db, ctx->core.webhook_event_id, owner) != 0)
            return gw_sw_core_result(ctx, gw_core_db_fail(&ctx->core, "binding the install"));
        ctx->core.company_id = owner;
    }
    if (strcmp(status, "active") == 0)
        return done(ctx, location, status, false);
    if (!automatic)
        return manual(ctx, location);
    rc = gw_integration_set_status(&ctx->core, id, "active");
    return rc == GW_CORE_OK ? done(ctx, location, "active", true) : gw_sw_core_result(ctx, rc);
}

static enum gw_apply_rc uninstall(struct gw_apply *ctx, const char *location)
{
    uint64_t owner = 0, id = 0;
    char status[16] = "";
    enum gw_core_rc rc = gw_crm_integration_owner(&ctx->core, "ghl", location, &owner, &id, status);
    if (rc == GW_CORE_OK && owner != ctx->core.company_id)
        rc = gw_core_fail(&ctx->core, GW_CORE_NOT_FOUND, "location %s is not this company's",
                          location);
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    if (strcmp(status, "disconnected") == 0)
        return done(ctx, location, status, false);
    rc = gw_integration_set_status(&ctx->core, id, "disconnected");
    return rc == GW_CORE_OK ? done(ctx, location, "disconnected", true)
                            : gw_sw_core_result(ctx, rc);
}

enum gw_apply_rc gw_ghl_apply_install(struct gw_apply *ctx, const cJSON *root, const char *type)
{
    const char *location = gw_ghl_location(ctx, root);
    if (location == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "%s without a location", type);
        return GW_APPLY_FAILED;
    }
    if (strcmp(type, "INSTALL") == 0)
        return install(ctx, location);
    if (ctx->core.company_id == 0) {
        snprintf(ctx->error, sizeof(ctx->error), "no company");
        return GW_APPLY_IGNORED;
    }
    return uninstall(ctx, location);
}
