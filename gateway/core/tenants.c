/* tenants.c — company resolution with a small per-thread cache. */
#include "gateway/core/tenants.h"
#include "gateway/base/hash.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS   512
#define TTL_S   30
#define KEY_MAX 320

struct slot {
    char key[KEY_MAX];
    uint64_t company_id; /* 0: known to be unknown */
    char why[128];
    time_t expires;
};

struct gw_tenants {
    struct slot slots[SLOTS];
};

struct gw_tenants *gw_tenants_create(void)
{
    return calloc(1, sizeof(struct gw_tenants));
}

void gw_tenants_destroy(struct gw_tenants *t)
{
    free(t);
}

static size_t hash(const char *s)
{
    return (size_t)(gw_fnv1a(s) % SLOTS);
}

static enum gw_tenant_rc lookup(struct gw_db *db, const char *provider, const char *slug,
                                const char *external_id, uint64_t *company_id, char *why,
                                size_t why_len)
{
    struct gw_db_rows *rows;
    if (slug != NULL) {
        struct gw_db_value p[] = {GW_DB_TEXT(slug)};
        rows = gw_db_query(db, "SELECT id FROM companies WHERE slug = ?", p, 1, 1);
    } else {
        struct gw_db_value p[] = {GW_DB_TEXT(provider), GW_DB_TEXT(external_id)};
        rows = gw_db_query(db,
                           "SELECT company_id, status FROM integrations WHERE provider = ? AND "
                           "external_id = ?",
                           p, 2, 1);
    }
    if (rows == NULL)
        return GW_TENANT_DB_ERROR;
    enum gw_tenant_rc rc = GW_TENANT_UNKNOWN;
    if (gw_db_rows_count(rows) == 0) {
        if (slug != NULL)
            snprintf(why, why_len, "no company with slug '%s'", slug);
        else
            snprintf(why, why_len, "no %s integration for account '%.64s'", provider, external_id);
    } else if (slug == NULL && strcmp(gw_db_rows_text(rows, 0, 1, NULL), "active") != 0 &&
               strcmp(gw_db_rows_text(rows, 0, 1, NULL), "disconnected") != 0) {
        /* A disabled integration is switched off on purpose: its events are ignored. A
         * disconnected one (the provider revoked our tokens) still belongs to its company:
         * its events are stored there and fail with the reason, to be replayed once the
         * customer reconnects. */
        snprintf(why, why_len, "the %s integration for account '%.64s' is %s", provider,
                 external_id, gw_db_rows_text(rows, 0, 1, NULL));
    } else {
        *company_id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
        rc = *company_id ? GW_TENANT_FOUND : GW_TENANT_UNKNOWN;
    }
    gw_db_rows_free(rows);
    return rc;
}

enum gw_tenant_rc gw_tenants_resolve(struct gw_tenants *t, struct gw_db *db, const char *provider,
                                     const char *slug, const char *external_id,
                                     uint64_t *company_id, char *why, size_t why_len)
{
    char key[KEY_MAX];
    int n = slug ? snprintf(key, sizeof(key), "slug\x1f%s", slug)
                 : snprintf(key, sizeof(key), "%s\x1f%s", provider, external_id);
    time_t now = time(NULL);
    struct slot *s = NULL;
    if (n > 0 && (size_t)n < sizeof(key)) {
        s = &t->slots[hash(key)];
        if (s->expires > now && strcmp(s->key, key) == 0) {
            if (s->company_id == 0) {
                snprintf(why, why_len, "%s", s->why);
                return GW_TENANT_UNKNOWN;
            }
            *company_id = s->company_id;
            return GW_TENANT_FOUND;
        }
    }
    uint64_t id = 0;
    char reason[128] = "";
    enum gw_tenant_rc rc = lookup(db, provider, slug, external_id, &id, reason, sizeof(reason));
    if (rc == GW_TENANT_DB_ERROR)
        return rc;
    if (s != NULL) {
        snprintf(s->key, sizeof(s->key), "%s", key);
        s->company_id = rc == GW_TENANT_FOUND ? id : 0;
        snprintf(s->why, sizeof(s->why), "%s", reason);
        s->expires = now + TTL_S;
    }
    if (rc == GW_TENANT_FOUND)
        *company_id = id;
    else
        snprintf(why, why_len, "%s", reason);
    return rc;
}
