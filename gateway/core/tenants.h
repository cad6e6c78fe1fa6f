/* tenants.h — resolving the company an event belongs to: a provider's account id through
 * `integrations`, or an endpoint's configured company slug; cached per thread for a short
 * while, since every delivery asks again. */
#ifndef CTGW_TENANTS_H
#define CTGW_TENANTS_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/db/db.h"

struct gw_tenants;

struct gw_tenants *gw_tenants_create(void);
void gw_tenants_destroy(struct gw_tenants *t);

enum gw_tenant_rc { GW_TENANT_FOUND, GW_TENANT_UNKNOWN, GW_TENANT_DB_ERROR };

/* With `slug` set (an endpoint bound to one company) looks up companies.slug; otherwise the
 * active integration (provider, external_id). UNKNOWN fills why with a sentence. */
enum gw_tenant_rc gw_tenants_resolve(struct gw_tenants *t, struct gw_db *db, const char *provider,
                                     const char *slug, const char *external_id,
                                     uint64_t *company_id, char *why, size_t why_len);

#endif
