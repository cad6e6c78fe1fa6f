/* crm_links.c — which job a CRM object became (job_links) and the CRM state last applied to
 * it, a job's due time, and the integration rows a CRM app's install and uninstall touch;
 * on the caller's transaction. */
#include "gateway/core/crm.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_CHARS 32

static bool ready(struct gw_core_ctx *c)
{
    if (c == NULL || c->db == NULL || c->company_id == 0)
        return false;
    c->err[0] = '\0';
    return true;
}

/* Printable ASCII of 1..max bytes: what kinds, external ids and providers are. */
static bool ascii_ok(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

static enum gw_core_rc check_link(struct gw_core_ctx *c, const char *kind, const char *external_id)
{
    if (!ascii_ok(kind, KIND_CHARS) || !ascii_ok(external_id, GW_CRM_ID_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID,
                            "a job link needs a kind and an id of at most %d "
                            "printable ASCII characters",
                            GW_CRM_ID_CHARS);
    return GW_CORE_OK;
}

void gw_job_link_clear(struct gw_job_link *l)
{
    if (l == NULL)
        return;
    free(l->state);
    *l = (struct gw_job_link){0};
}

enum gw_core_rc gw_job_link_find(struct gw_core_ctx *c, const char *kind, const char *external_id,
                                 struct gw_job_link *out)
{
    if (!ready(c) || out == NULL)
        return GW_CORE_INVALID;
    *out = (struct gw_job_link){0};
    enum gw_core_rc rc = check_link(c, kind, external_id);
    if (rc != GW_CORE_OK)
        return rc;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(kind), GW_DB_TEXT(external_id)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT job_id, source_updated_ms, state FROM job_links "
                                          "WHERE company_id = ? AND kind = ? AND external_id = ? "
                                          "FOR UPDATE",
                                          p, 3, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the job link");
    if (gw_db_rows_count(rows) == 0) {
        gw_db_rows_free(rows);
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no job for %s %s", kind, external_id);
    }
    out->job_id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
    out->updated_ms = gw_db_rows_int(rows, 0, 1, 0);
    const char *state = gw_db_rows_text(rows, 0, 2, NULL);
    out->state = state != NULL ? strdup(state) : NULL;
    gw_db_rows_free(rows);
    if (state != NULL && out->state == NULL)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "out of memory");
    return GW_CORE_OK;
}

enum gw_core_rc gw_job_link_add(struct gw_core_ctx *c, const char *kind, const char *external_id,
                                uint64_t job_id, const char *state_json, int64_t updated_ms)
{
    if (!ready(c))
        return GW_CORE_INVALID;
    enum gw_core_rc rc = check_link(c, kind, external_id);
    if (rc != GW_CORE_OK)
        return rc;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id),
                              GW_DB_TEXT(kind),
                              GW_DB_TEXT(external_id),
                              GW_DB_INT(job_id),
                              state_json ? GW_DB_TEXT(state_json) : GW_DB_NULL,
                              GW_DB_INT(updated_ms)};
    if (gw_db_exec(c->db,
                   "INSERT INTO job_links (company_id, kind, external_id, job_id, state, "
                   "source_updated_ms) VALUES (?, ?, ?, ?, ?, ?)",
                   p, 6) < 0)
        return gw_core_db_fail(c, "linking the job");
    return GW_CORE_OK;
}

enum gw_core_rc gw_job_link_update(struct gw_core_ctx *c, const char *kind, const char *external_id,
                                   const char *state_json, int64_t updated_ms)
{
    if (!ready(c))
        return GW_CORE_INVALID;
    enum gw_core_rc rc = check_link(c, kind, external_id);
    if (rc != GW_CORE_OK)
        return rc;
    struct gw_db_value p[] = {state_json ? GW_DB_TEXT(state_json) : GW_DB_NULL,
                              GW_DB_INT(updated_ms), GW_DB_INT(c->company_id), GW_DB_TEXT(kind),
                              GW_DB_TEXT(external_id)};
    if (gw_db_exec(
            c->db,
            "UPDATE job_links SET state = ?, source_updated_ms = GREATEST(source_updated_ms, "
            "?) WHERE company_id = ? AND kind = ? AND external_id = ?",
            p, 5) < 0)
        return gw_core_db_fail(c, "updating the job link");
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_integration_owner(struct gw_core_ctx *c, const char *provider,
                                         const char *external_id, uint64_t *company_id,
                                         uint64_t *id, char status[16])
{
    if (c == NULL || c->db == NULL || company_id == NULL || id == NULL || status == NULL)
        return GW_CORE_INVALID;
    c->err[0] = '\0';
    if (!ascii_ok(provider, 32) || !ascii_ok(external_id, 255))
        return gw_core_fail(c, GW_CORE_INVALID, "an integration needs a provider and an id");
    struct gw_db_value p[] = {GW_DB_TEXT(provider), GW_DB_TEXT(external_id)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT company_id, id, status FROM integrations WHERE "
                                          "provider = ? AND external_id = ? FOR UPDATE",
                                          p, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the integration");
    bool found = gw_db_rows_count(rows) == 1;
    if (found) {
        *company_id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
        *id = (uint64_t)gw_db_rows_int(rows, 0, 1, 0);
        const char *st = gw_db_rows_text(rows, 0, 2, NULL);
        snprintf(status, 16, "%s", st ? st : "");
    }
    gw_db_rows_free(rows);
    if (!found)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no %s integration for %s", provider,
                            external_id);
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_integration_create(struct gw_core_ctx *c, const char *provider,
                                          const char *external_id, uint64_t *id)
{
    if (!ready(c) || id == NULL)
        return GW_CORE_INVALID;
    if (!ascii_ok(provider, 32) || !ascii_ok(external_id, 255))
        return gw_core_fail(c, GW_CORE_INVALID, "an integration needs a provider and an id");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(provider),
                              GW_DB_TEXT(external_id)};
    if (gw_db_exec(c->db,
                   "INSERT INTO integrations (company_id, provider, external_id, status) VALUES "
                   "(?, ?, ?, 'active')",
                   p, 3) < 0)
        return gw_core_db_fail(c, "creating the integration");
    *id = gw_db_last_insert_id(c->db);
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_integration_settings(struct gw_core_ctx *c, const char *provider,
                                            const char *external_id, char **settings)
{
    if (!ready(c) || settings == NULL)
        return GW_CORE_INVALID;
    *settings = NULL;
    if (!ascii_ok(provider, 32) || !ascii_ok(external_id, 255))
        return gw_core_fail(c, GW_CORE_INVALID, "an integration needs a provider and an id");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(provider),
                              GW_DB_TEXT(external_id)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT settings FROM integrations WHERE company_id = ? "
                                          "AND provider = ? AND external_id = ?",
                                          p, 3, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the integration's settings");
    bool found = gw_db_rows_count(rows) == 1;
    const char *s = found ? gw_db_rows_text(rows, 0, 0, NULL) : NULL;
    *settings = s != NULL ? strdup(s) : NULL;
    bool oom = s != NULL && *settings == NULL;
    gw_db_rows_free(rows);
    if (oom)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "out of memory");
    if (!found)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no %s integration for %s", provider,
                            external_id);
    return GW_CORE_OK;
}
