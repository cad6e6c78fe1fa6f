/* contacts.c — HighLevel contact events (ContactCreate, ContactUpdate, ContactTagUpdate,
 * ContactDndUpdate, ContactDelete) kept as CanTicket contacts by their HighLevel id, with a
 * client for their company name; an update older than the stored copy changes nothing, a
 * delete only marks the contact deleted. */
#include <stdio.h>
#include <string.h>

#include "adapters/ghl/ghl.h"
#include "adapters/standard_webhooks_common.h"
#include "gateway/core/crm.h"

#define NAME_CHARS 200

enum gw_apply_rc gw_ghl_apply_contact(struct gw_apply *ctx, const cJSON *root, const char *type)
{
    const char *id = gw_ghl_id(root, "id");
    if (id == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "%s without a contact id", type);
        return GW_APPLY_FAILED;
    }
    int64_t updated = gw_ghl_updated_ms(root, root);
    bool changed = false;
    uint64_t contact_id = 0;
    enum gw_core_rc rc;
    if (strcmp(type, "ContactDelete") == 0) {
        rc = gw_crm_contact_delete(&ctx->core, id, updated, &changed);
        if (rc == GW_CORE_NOT_FOUND) {
            snprintf(ctx->error, sizeof(ctx->error), "ContactDelete of unknown contact %s", id);
            return GW_APPLY_IGNORED;
        }
    } else {
        /* name, else first and last name joined. */
        char joined[2 * NAME_CHARS * 4 + 2] = "";
        const char *name = gw_ghl_text(root, "name", NAME_CHARS);
        const char *first = gw_ghl_text(root, "firstName", NAME_CHARS);
        const char *last = gw_ghl_text(root, "lastName", NAME_CHARS);
        if (name == NULL && (first != NULL || last != NULL)) {
            snprintf(joined, sizeof(joined), "%s%s%s", first ? first : "", first && last ? " " : "",
                     last ? last : "");
            name = joined;
        }
        struct gw_crm_contact x = {
            .crm_id = id,
            .name = name,
            .email = gw_ghl_text(root, "email", 254),
            .phone = gw_ghl_text(root, "phone", 64),
            .company_name = gw_ghl_text(root, "companyName", NAME_CHARS),
            .updated_ms = updated,
        };
        rc = gw_crm_contact_sync(&ctx->core, &x, &contact_id, &changed);
    }
    if (rc != GW_CORE_OK)
        return gw_sw_core_result(ctx, rc);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        if (contact_id != 0)
            cJSON_AddNumberToObject(o, "contact_id", (double)contact_id);
        cJSON_AddBoolToObject(o, "changed", changed);
    }
    gw_ghl_result(ctx, o);
    return GW_APPLY_DONE;
}
