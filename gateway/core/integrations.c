/* integrations.c — SQL on the integrations table for adapters, scoped to one company. */
#include "gateway/core/integrations.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ready(struct gw_core_ctx *c)
{
    if (c == NULL || c->db == NULL || c->company_id == 0)
        return false;
    c->err[0] = '\0';
    return true;
}

void gw_integration_clear(struct gw_integration *row)
{
    if (row == NULL)
        return;
    free(row->ciphertext); /* sealed: nothing to wipe */
    memset(row, 0, sizeof(*row));
}

enum gw_core_rc gw_integrations_lock(struct gw_core_ctx *c, const char *provider, size_t max)
{
    if (!ready(c) || provider == NULL)
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(provider)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT id FROM integrations WHERE company_id = ? AND "
                                          "provider = ? ORDER BY id FOR UPDATE",
                                          p, 2, max);
    if (rows == NULL)
        return gw_core_db_fail(c, "locking the integrations");
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}

/* Row R of ROWS, whose columns are id, external_id, status, credentials_key_id and
 * credentials_ciphertext, into ROW. */
static enum gw_core_rc read_row(struct gw_core_ctx *c, const struct gw_db_rows *rows, size_t r,
                                struct gw_integration *row)
{
    const char *external_id = gw_db_rows_text(rows, r, 1, NULL);
    const char *status = gw_db_rows_text(rows, r, 2, NULL);
    const char *key_id = gw_db_rows_text(rows, r, 3, NULL);
    size_t ct_len = 0;
    const char *ct = gw_db_rows_text(rows, r, 4, &ct_len);
    memset(row, 0, sizeof(*row));
    row->id = (uint64_t)gw_db_rows_int(rows, r, 0, 0);
    snprintf(row->external_id, sizeof(row->external_id), "%s", external_id ? external_id : "");
    snprintf(row->status, sizeof(row->status), "%s", status ? status : "");
    snprintf(row->key_id, sizeof(row->key_id), "%s", key_id ? key_id : "");
    row->has_credentials = ct != NULL && key_id != NULL;
    if (ct == NULL)
        return GW_CORE_OK;
    row->ciphertext = malloc(ct_len > 0 ? ct_len : 1);
    if (row->ciphertext == NULL)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "out of memory");
    memcpy(row->ciphertext, ct, ct_len);
    row->ciphertext_len = ct_len;
    return GW_CORE_OK;
}

enum gw_core_rc gw_integration_find_locked(struct gw_core_ctx *c, const char *provider,
                                           const char *external_id, struct gw_integration *row)
{
    if (!ready(c) || provider == NULL || external_id == NULL || row == NULL)
        return GW_CORE_INVALID;
    memset(row, 0, sizeof(*row));
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(provider),
                              GW_DB_TEXT(external_id)};
    struct gw_db_rows *rows = gw_db_query(
        c->db,
        "SELECT id, external_id, status, credentials_key_id, credentials_ciphertext FROM "
        "integrations WHERE company_id = ? AND provider = ? AND external_id = ? FOR UPDATE",
        p, 3, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the integration");
    enum gw_core_rc rc =
        gw_db_rows_count(rows) == 1
            ? read_row(c, rows, 0, row)
            : gw_core_fail(c, GW_CORE_NOT_FOUND, "no %s integration for %s", provider, external_id);
    gw_db_rows_free(rows);
    return rc;
}

enum gw_core_rc gw_integrations_sealed(struct gw_core_ctx *c, const char *provider,
                                       uint64_t except_id, struct gw_integration *out, size_t cap,
                                       size_t *n)
{
    if (n != NULL)
        *n = 0;
    if (!ready(c) || provider == NULL || out == NULL || cap == 0 || n == NULL)
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(provider), GW_DB_INT(except_id)};
    struct gw_db_rows *rows = gw_db_query(
        c->db,
        "SELECT id, external_id, status, credentials_key_id, credentials_ciphertext FROM "
        "integrations WHERE company_id = ? AND provider = ? AND id <> ? AND status = 'active' "
        "AND credentials_ciphertext IS NOT NULL ORDER BY id",
        p, 3, cap);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the integrations");
    enum gw_core_rc rc = GW_CORE_OK;
    for (size_t r = 0; r < gw_db_rows_count(rows) && rc == GW_CORE_OK; r++)
        if ((rc = read_row(c, rows, r, &out[*n])) == GW_CORE_OK)
            (*n)++;
    gw_db_rows_free(rows);
    return rc;
}

enum gw_core_rc gw_integration_store(struct gw_core_ctx *c, uint64_t id,
                                     const unsigned char *ciphertext, size_t len,
                                     const char *key_id)
{
    if (!ready(c) || ciphertext == NULL || key_id == NULL)
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_BLOB(ciphertext, len), GW_DB_TEXT(key_id),
                              GW_DB_INT(c->company_id), GW_DB_INT(id)};
    int64_t n = gw_db_exec(c->db,
                           "UPDATE integrations SET credentials_ciphertext = ?, "
                           "credentials_key_id = ?, credentials_updated_at = UTC_TIMESTAMP(3) "
                           "WHERE company_id = ? AND id = ?",
                           p, 4);
    if (n < 0)
        return gw_core_db_fail(c, "storing the credentials");
    if (n != 1)
        return gw_core_fail(c, GW_CORE_NOT_FOUND,
                            "integration %" PRIu64 " does not exist in this company", id);
    return GW_CORE_OK;
}

enum gw_core_rc gw_integration_set_status(struct gw_core_ctx *c, uint64_t id, const char *status)
{
    if (!ready(c) || status == NULL)
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_TEXT(status), GW_DB_INT(c->company_id), GW_DB_INT(id)};
    if (gw_db_exec(c->db, "UPDATE integrations SET status = ? WHERE company_id = ? AND id = ?", p,
                   3) < 0)
        return gw_core_db_fail(c, "changing the integration's status");
    return GW_CORE_OK;
}
