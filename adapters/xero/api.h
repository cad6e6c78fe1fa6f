/* xero_api.h — Xero's Accounting API from worker threads: the integration's OAuth2 tokens
 * (encrypted in `integrations`, refreshed under a row lock), a per-tenant call budget, and
 * GET of one invoice or contact. */
#ifndef CTGW_XERO_API_H
#define CTGW_XERO_API_H

#include "adapters/provider.h"

/* GETs {api_base}/{collection}/{id} ("Invoices" or "Contacts") for the tenant on behalf of
 * the fetch's company. DONE with *json (malloc'd) set; DEFER when the tenant's budget or a
 * 429 says to wait (f->defer_ms); RETRY on network errors, 5xx and other transient
 * failures; FAILED when the integration is missing, disconnected (invalid_grant marks it
 * so and logs an alert) or the resource does not exist. Reasons go to f->error, never a
 * token. */
enum gw_apply_rc gw_xero_get(struct gw_fetch *f, const char *tenant_id, const char *collection,
                             const char *id, char **json);

/* Forgets the per-tenant budgets (tests). */
void gw_xero_budget_reset(void);

#endif
