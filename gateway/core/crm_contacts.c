/* crm_contacts.c — contacts kept by their CRM id (ghl_contact_id) with stale-update
 * protection, the client a contact's company name makes, notes kept on a contact, and the
 * contact's open job; on the caller's transaction, scoped to the context's company. */
#include "gateway/core/crm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/base/text.h"

/* Column bounds of 0001_core_schema.sql (characters); longer CRM texts are cut by LEFT(). */
#define NAME_CHARS  200
#define PHONE_CHARS 64
#define NOTE_CHARS  65535

static bool ready(struct gw_core_ctx *c)
{
    if (c == NULL || c->db == NULL || c->company_id == 0)
        return false;
    c->err[0] = '\0';
    return true;
}

/* A text to store: valid UTF-8 and not empty, else NULL (stored as NULL or left alone). */
static const char *usable(const char *s)
{
    size_t chars = 0;
    if (s == NULL || *s == '\0' || !gw_text_utf8_chars(s, strlen(s), &chars))
        return NULL;
    return s;
}

static struct gw_db_value opt(const char *s)
{
    return s != NULL ? GW_DB_TEXT(s) : GW_DB_NULL;
}

static bool id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    if (n == 0 || n > GW_CRM_ID_CHARS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] > '~')
            return false;
    return true;
}

/* The id of the single row SQL finds for (company, text), or 0; -1 on a database error. */
static int64_t one_id(struct gw_core_ctx *c, const char *sql, const char *text, uint64_t except)
{
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(text), GW_DB_INT(except)};
    struct gw_db_rows *rows = gw_db_query(c->db, sql, p, 3, 1);
    if (rows == NULL)
        return -1;
    int64_t id = gw_db_rows_count(rows) ? gw_db_rows_int(rows, 0, 0, 0) : 0;
    gw_db_rows_free(rows);
    return id;
}

/* The client named NAME: the one this contact made before, else one of that name, else new. */
static enum gw_core_rc client_of(struct gw_core_ctx *c, const char *crm_id, const char *name,
                                 uint64_t *client_id)
{
    int64_t id = one_id(c,
                        "SELECT id FROM clients WHERE company_id = ? AND ghl_contact_id = ? AND "
                        "id <> ? FOR UPDATE",
                        crm_id, 0);
    if (id > 0) {
        struct gw_db_value p[] = {GW_DB_TEXT(name), GW_DB_INT(c->company_id), GW_DB_INT(id)};
        if (gw_db_exec(c->db,
                       "UPDATE clients SET name = LEFT(?, 200), deleted_at = NULL WHERE "
                       "company_id = ? AND id = ?",
                       p, 3) < 0)
            return gw_core_db_fail(c, "renaming the contact's client");
    } else if (id == 0) {
        id = one_id(c,
                    "SELECT id FROM clients WHERE company_id = ? AND name = LEFT(?, 200) AND "
                    "deleted_at IS NULL AND id <> ? ORDER BY id LIMIT 1",
                    name, 0);
        if (id == 0) {
            struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(name),
                                      GW_DB_TEXT(crm_id)};
            if (gw_db_exec(c->db,
                           "INSERT INTO clients (company_id, name, ghl_contact_id) VALUES (?, "
                           "LEFT(?, 200), ?)",
                           p, 3) < 0)
                return gw_core_db_fail(c, "creating the contact's client");
            id = (int64_t)gw_db_last_insert_id(c->db);
        }
    }
    if (id < 0)
        return gw_core_db_fail(c, "finding the contact's client");
    *client_id = (uint64_t)id;
    return GW_CORE_OK;
}

/* The contact with this CRM id, locked: *id 0 when none; its stored update time. */
static enum gw_core_rc find_locked(struct gw_core_ctx *c, const char *crm_id, uint64_t *id,
                                   int64_t *updated_ms, uint64_t *client_id)
{
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(crm_id)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT id, ghl_updated_ms, client_id FROM contacts "
                                          "WHERE company_id = ? AND ghl_contact_id = ? FOR UPDATE",
                                          p, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the CRM contact");
    *id = gw_db_rows_count(rows) ? (uint64_t)gw_db_rows_int(rows, 0, 0, 0) : 0;
    if (updated_ms != NULL)
        *updated_ms = *id ? gw_db_rows_int(rows, 0, 1, 0) : 0;
    if (client_id != NULL)
        *client_id = *id ? (uint64_t)gw_db_rows_int(rows, 0, 2, 0) : 0;
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_contact_sync(struct gw_core_ctx *c, const struct gw_crm_contact *x,
                                    uint64_t *contact_id, bool *changed)
{
    if (!ready(c) || x == NULL || contact_id == NULL || changed == NULL)
        return GW_CORE_INVALID;
    *changed = false;
    if (!id_ok(x->crm_id))
        return gw_core_fail(c, GW_CORE_INVALID, "CRM contact id is empty, too long or not ASCII");
    const char *name = usable(x->name), *phone = usable(x->phone);
    const char *company = usable(x->company_name);
    const char *email = usable(x->email);
    if (email != NULL && !gw_text_email_valid(email, strlen(email)))
        email = NULL;
    uint64_t id = 0, client_id = 0;
    int64_t stored_ms = 0;
    enum gw_core_rc rc = find_locked(c, x->crm_id, &id, &stored_ms, NULL);
    if (rc != GW_CORE_OK)
        return rc;
    if (id != 0 && x->updated_ms > 0 && x->updated_ms < stored_ms) {
        *contact_id = id;
        return GW_CORE_OK; /* older than what is stored: changes nothing */
    }
    if (id == 0 && email != NULL) {
        /* A contact the same person became by e-mail, not yet known to the CRM: adopt it. */
        int64_t found = one_id(c,
                               "SELECT id FROM contacts WHERE company_id = ? AND email = ? AND "
                               "ghl_contact_id IS NULL AND id <> ? FOR UPDATE",
                               email, 0);
        if (found < 0)
            return gw_core_db_fail(c, "finding the contact by e-mail");
        id = (uint64_t)found;
    }
    /* An address another contact already has stays with that contact. */
    if (email != NULL) {
        int64_t other = one_id(
            c, "SELECT id FROM contacts WHERE company_id = ? AND email = ? AND id <> ? LIMIT 1",
            email, id);
        if (other < 0)
            return gw_core_db_fail(c, "checking the contact's e-mail");
        if (other > 0)
            email = NULL;
    }
    if (company != NULL && (rc = client_of(c, x->crm_id, company, &client_id)) != GW_CORE_OK)
        return rc;
    if (id == 0) {
        struct gw_db_value p[] = {GW_DB_INT(c->company_id),
                                  client_id ? GW_DB_INT(client_id) : GW_DB_NULL,
                                  opt(name),
                                  opt(email),
                                  opt(phone),
                                  GW_DB_TEXT(x->crm_id),
                                  GW_DB_INT(x->updated_ms)};
        if (gw_db_exec(c->db,
                       "INSERT INTO contacts (company_id, client_id, name, email, phone, "
                       "ghl_contact_id, ghl_updated_ms) VALUES (?, ?, LEFT(?, 200), ?, LEFT(?, "
                       "64), ?, ?)",
                       p, 7) < 0)
            return gw_core_db_fail(c, "creating the CRM contact");
        id = gw_db_last_insert_id(c->db);
    } else {
        struct gw_db_value p[] = {opt(name),
                                  opt(email),
                                  opt(phone),
                                  client_id ? GW_DB_INT(client_id) : GW_DB_NULL,
                                  GW_DB_TEXT(x->crm_id),
                                  GW_DB_INT(x->updated_ms),
                                  GW_DB_INT(c->company_id),
                                  GW_DB_INT(id)};
        if (gw_db_exec(c->db,
                       "UPDATE contacts SET name = COALESCE(LEFT(?, 200), name), email = "
                       "COALESCE(?, email), phone = COALESCE(LEFT(?, 64), phone), client_id = "
                       "COALESCE(?, client_id), ghl_contact_id = ?, ghl_updated_ms = "
                       "GREATEST(ghl_updated_ms, ?) WHERE company_id = ? AND id = ?",
                       p, 8) < 0)
            return gw_core_db_fail(c, "updating the CRM contact");
    }
    *contact_id = id;
    *changed = true;
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_contact_delete(struct gw_core_ctx *c, const char *crm_id, int64_t updated_ms,
                                      bool *changed)
{
    if (!ready(c) || changed == NULL)
        return GW_CORE_INVALID;
    *changed = false;
    if (!id_ok(crm_id))
        return gw_core_fail(c, GW_CORE_INVALID, "CRM contact id is empty, too long or not ASCII");
    uint64_t id = 0;
    int64_t stored_ms = 0;
    enum gw_core_rc rc = find_locked(c, crm_id, &id, &stored_ms, NULL);
    if (rc != GW_CORE_OK)
        return rc;
    if (id == 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no contact with CRM id %s", crm_id);
    if (updated_ms > 0 && updated_ms < stored_ms)
        return GW_CORE_OK;
    struct gw_db_value p[] = {GW_DB_INT(updated_ms), GW_DB_INT(c->company_id), GW_DB_INT(id)};
    int64_t n = gw_db_exec(c->db,
                           "UPDATE contacts SET deleted_at = COALESCE(deleted_at, "
                           "UTC_TIMESTAMP(3)), ghl_updated_ms = GREATEST(ghl_updated_ms, ?) "
                           "WHERE company_id = ? AND id = ?",
                           p, 3);
    if (n < 0)
        return gw_core_db_fail(c, "deleting the CRM contact");
    *changed = true;
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_contact_ref(struct gw_core_ctx *c, const char *crm_id, uint64_t *contact_id,
                                   uint64_t *client_id)
{
    if (!ready(c) || contact_id == NULL || client_id == NULL)
        return GW_CORE_INVALID;
    if (!id_ok(crm_id))
        return gw_core_fail(c, GW_CORE_INVALID, "CRM contact id is empty, too long or not ASCII");
    enum gw_core_rc rc = find_locked(c, crm_id, contact_id, NULL, client_id);
    if (rc != GW_CORE_OK || *contact_id != 0)
        return rc;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(crm_id)};
    if (gw_db_exec(c->db, "INSERT INTO contacts (company_id, ghl_contact_id) VALUES (?, ?)", p, 2) <
        0)
        return gw_core_db_fail(c, "creating the CRM contact");
    *contact_id = gw_db_last_insert_id(c->db);
    *client_id = 0;
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_contact_note(struct gw_core_ctx *c, uint64_t contact_id, const char *body,
                                    const char *external_id)
{
    if (!ready(c) || contact_id == 0 || usable(body) == NULL)
        return ready(c) ? gw_core_fail(c, GW_CORE_INVALID, "an empty contact note")
                        : GW_CORE_INVALID;
    size_t chars = 0;
    gw_text_utf8_chars(body, strlen(body), &chars);
    if (chars > NOTE_CHARS)
        return gw_core_fail(c, GW_CORE_INVALID, "a contact note over %d characters", NOTE_CHARS);
    const char *ext = id_ok(external_id) ? external_id : NULL;
    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id),
        GW_DB_INT(contact_id),
        GW_DB_TEXT(body),
        GW_DB_TEXT(c->source ? c->source : "crm"),
        opt(ext),
        c->webhook_event_id ? GW_DB_INT(c->webhook_event_id) : GW_DB_NULL,
    };
    if (gw_db_exec(c->db,
                   "INSERT INTO contact_notes (company_id, contact_id, body, source, external_id, "
                   "webhook_event_id) VALUES (?, ?, ?, ?, ?, ?)",
                   p, 6) < 0)
        return gw_core_db_fail(c, "keeping the contact note");
    return GW_CORE_OK;
}

enum gw_core_rc gw_crm_open_job(struct gw_core_ctx *c, uint64_t contact_id, uint64_t *job_id)
{
    if (!ready(c) || job_id == NULL)
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(contact_id)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT id FROM jobs WHERE company_id = ? AND "
                                          "contact_id = ? AND status NOT IN ('done', 'closed') "
                                          "ORDER BY created_at DESC, id DESC LIMIT 1",
                                          p, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the contact's open job");
    *job_id = gw_db_rows_count(rows) ? (uint64_t)gw_db_rows_int(rows, 0, 0, 0) : 0;
    gw_db_rows_free(rows);
    if (*job_id == 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "the contact has no open job");
    return GW_CORE_OK;
}
