/* standard_webhooks_common.h — what the providers signed with Standard Webhooks share: the
 * dedupe key (the webhook-id) and the media type they accept. */
#ifndef CTGW_STANDARD_WEBHOOKS_COMMON_H
#define CTGW_STANDARD_WEBHOOKS_COMMON_H

#include "adapters/endpoint_keys.h"
#include "adapters/provider.h"

/* The endpoint keys both providers take: `secrets` (whsec_…, newest first) and `company`,
 * the slug of the one company the endpoint drives. Followed by the provider's own keys. */
#define GW_SW_ENDPOINT_KEYS                                                                        \
    GW_KEY_SECRETS,                                                                                \
    {                                                                                              \
        .name = "company", .type = GW_CFG_SLUG,                                                    \
        .offset = offsetof(struct gw_endpoint_config, company), .flags = GW_CFG_REQUIRED           \
    }

extern const char *const gw_sw_media_types[];
extern const char *const gw_sw_stored_headers[];

/* Fills env->dedupe_key from the verified webhook-id (or svix-id). 0, or -1 when absent. */
int gw_sw_dedupe_key(const struct gw_inbound *in, struct gw_envelope *env);

/* Maps a core operation's result to an apply result, copying the reason. */
enum gw_apply_rc gw_sw_core_result(struct gw_apply *ctx, enum gw_core_rc rc);

#endif
