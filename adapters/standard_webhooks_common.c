/* standard_webhooks_common.c — dedupe keys and result mapping shared by the providers signed
 * with Standard Webhooks (generic, contact-form). */
#include "adapters/standard_webhooks_common.h"

#include <stdio.h>
#include <string.h>

#include "gateway/base/hash.h"

const char *const gw_sw_media_types[] = {"application/json", NULL};
const char *const gw_sw_stored_headers[] = {"webhook-id", "webhook-timestamp", "user-agent", NULL};

int gw_sw_dedupe_key(const struct gw_inbound *in, struct gw_envelope *env)
{
    /* The verifier accepted the id: 1..256 printable ASCII bytes. */
    const char *id = gw_headers_get(in->headers, "webhook-id");
    if (id == NULL)
        id = gw_headers_get(in->headers, "svix-id");
    if (id == NULL)
        return -1;
    size_t len = strlen(id);
    if (len <= GW_DEDUPE_KEY_MAX) {
        snprintf(env->dedupe_key, sizeof(env->dedupe_key), "%s", id);
        return 0;
    }
    /* Longer than the column (the scheme allows 256 bytes): a digest keeps it unique. */
    char hex[GW_SHA256_HEX_SIZE];
    if (!gw_sha256_hex(id, len, hex))
        return -1;
    snprintf(env->dedupe_key, sizeof(env->dedupe_key), "sha256:%s", hex);
    return 0;
}

enum gw_apply_rc gw_sw_core_result(struct gw_apply *ctx, enum gw_core_rc rc)
{
    switch (rc) {
    case GW_CORE_OK:
        return GW_APPLY_DONE;
    case GW_CORE_NOT_FOUND:
    case GW_CORE_INVALID:
        snprintf(ctx->error, sizeof(ctx->error), "%s", ctx->core.err);
        return GW_APPLY_FAILED;
    case GW_CORE_DB_ERROR:
        break;
    }
    snprintf(ctx->error, sizeof(ctx->error), "%s", ctx->core.err);
    return GW_APPLY_RETRY;
}
